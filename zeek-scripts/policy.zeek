##! Site policy on top of the engine's verdicts (main.zeek): management
##! hosts, DoH resolvers, certificates Zeek cannot validate, beaconing, and
##! the correlation with host telemetry. Every knob is an `option`, so the
##! Config framework can change it at runtime.

@load base/frameworks/cluster
@load base/frameworks/input
@load base/frameworks/notice
@load base/protocols/ssl
@load protocols/ssl/validate-certs
@load ./main

module EncChan;

export {
	redef enum Notice::Type += {
		## Zeek's certificate validation (SSL::root_certs) failed and the
		## issuer is not one of TrustedCAs (T1573.002).
		Untrusted_Certificate,
		## An encrypted session from one of MgmtHosts (ESXi hostd/vpxa
		## management interfaces) to a destination outside
		## AllowedMgmtHosts (T1573).
		Unexpected_Mgmt_Destination,
		## Connections between one client and one server at regular
		## intervals within TimeWindow (T1573 C2 check-ins).
		Beaconing,
	};

	## Hosts whose encrypted sessions are watched, e.g. ESXi management
	## interfaces (hostd/vpxa).
	option MgmtHosts: set[subnet] = {};
	## Where those hosts may open encrypted sessions (vCenter, NTP, update
	## servers …).
	option AllowedMgmtHosts: set[subnet] = {};
	## DNS-over-HTTPS/TLS resolvers: TLS or QUIC to them is expected, so
	## port, asymmetry and beaconing notices are not raised for them.
	option DoHResolvers: set[addr] = {
		1.1.1.1, 1.0.0.1, 8.8.8.8, 8.8.4.4, 9.9.9.9, 149.112.112.112,
		[2606:4700:4700::1111], [2606:4700:4700::1001],
		[2001:4860:4860::8888], [2001:4860:4860::8844],
	};
	## Certificate issuers (subject DN of the issuing CA, as Zeek prints it)
	## or certificate SHA-256 fingerprints that are trusted even though
	## Zeek's validation against SSL::root_certs fails (internal CAs,
	## pinned self-signed services).
	option TrustedCAs: set[string] = {};
	## Processes whose encrypted flows are expected (from the telemetry):
	## their flows raise no EncChan notice.
	option AllowedCryptoProcesses: set[string] = {};
	## Crypto libraries whose users are trusted (from the telemetry): a
	## flow of a process that loaded one raises no EncChan notice.
	option TrustedCryptoLibs: set[string] = {};
	## How far apart a telemetry record and a connection's start may be,
	## and how far back beaconing looks.
	option TimeWindow: interval = 1 hr;
	## Host telemetry (see zeek-scripts/examples/telemetry.tsv); empty: off.
	option TelemetryFile: string = "";
	## Connections a client/server pair needs before beaconing is judged.
	option BeaconMinConnections: count = 6;
	## Connection starts kept per pair (the latest, within TimeWindow):
	## the score is that of the latest ones. Each connection's work is in
	## proportion to it; unbounded, a client's DNS queries to its resolver
	## (a connection each) cost quadratic time (6,000 connections of two
	## pairs took 36 s of Zeek's CPU).
	option BeaconMaxConnections: count = 64;
	## Score (0–1: mean of 1 − |Bowley skew| and 1 − MAD/median of the
	## intervals, in the spirit of RITA) at or above which it is beaconing.
	option BeaconScoreThreshold: double = 0.8;
	## Intervals are compared at this resolution (RITA works in whole
	## seconds): jitter below it is no skew. Beacons faster than it are
	## not judged.
	option BeaconResolution: interval = 1 sec;

	## One endpoint record of host telemetry: the process that owned a
	## connection and the crypto libraries it had loaded. Sysmon events 3
	## (network connection: Image, ProcessId, SourceIp/Port,
	## DestinationIp/Port, UtcTime) and 7 (image loaded: ImageLoaded for
	## the same ProcessId), auditd connect records with their process, or
	## osquery's process_open_sockets joined with process_memory_map map
	## onto these columns.
	type Telemetry: record {
		ts: time;
		host: string;
		process: string;
		pid: count;
		libs: set[string] &optional;
	};

	type TelemetryIdx: record {
		orig_h: addr;
		orig_p: port;
		resp_h: addr;
		resp_p: port;
	};

	## The telemetry as read, by connection endpoints.
	global telemetry: table[addr, port, addr, port] of Telemetry = table();

	redef record Info += {
		## Process that made the connection, from the telemetry.
		process: string &log &optional;
		pid: count &log &optional;
		## Crypto libraries it had loaded.
		libs: set[string] &log &optional;
	};

	## A finished connection of a client/server pair, for the beaconing
	## analysis (sent to the manager in a cluster).
	global beacon_observation: event(orig: addr, resp: addr, p: port, ts: time, uid: string);
}

# ---- host telemetry ----

global telemetry_loaded = F;

event zeek_init() &priority=5
	{
	if ( TelemetryFile == "" )
		return;
	Input::add_table([$source=TelemetryFile, $name="encchan-telemetry", $idx=TelemetryIdx, $val=Telemetry,
	                  $destination=telemetry, $mode=Input::REREAD]);
	# Verdicts must find the records: hold packet processing until the
	# file has been read once.
	suspend_processing();
	}

event Input::end_of_data(name: string, source: string)
	{
	if ( name == "encchan-telemetry" && ! telemetry_loaded )
		{
		telemetry_loaded = T;
		continue_processing();
		}
	}

hook EncChan::finalize_info(c: connection, v: Verdict, info: Info)
	{
	local id = c$id;
	if ( [id$orig_h, id$orig_p, id$resp_h, id$resp_p] !in telemetry )
		return;
	local t = telemetry[id$orig_h, id$orig_p, id$resp_h, id$resp_p];
	local gap = t$ts > c$start_time ? t$ts - c$start_time : c$start_time - t$ts;
	if ( gap > TimeWindow )
		return;
	info$process = t$process;
	info$pid = t$pid;
	if ( t?$libs )
		info$libs = t$libs;
	}

# ---- what suppresses notices ----

hook EncChan::notice_allowed(c: connection, note: Notice::Type, info: Info)
	{
	if ( info?$process && info$process in AllowedCryptoProcesses )
		break;
	if ( info?$libs && |info$libs & TrustedCryptoLibs| > 0 )
		break;
	if ( c$id$resp_h in DoHResolvers &&
	     note in set(TLS_Unexpected_Port, Traffic_Asymmetry, Encrypted_On_Plaintext_Port) )
		break;
	}

# ---- management hosts ----

event EncChan::verdict(c: connection, v: EncChan::Verdict) &priority=-5
	{
	if ( ! v$ended || v$content != "encrypted" || c$id$orig_h !in MgmtHosts || c$id$resp_h in AllowedMgmtHosts )
		return;
	NOTICE([$note=Unexpected_Mgmt_Destination, $conn=c,
	        $msg=fmt("encrypted session from management host %s to %s, outside AllowedMgmtHosts",
	                 c$id$orig_h, c$id$resp_h),
	        $sub=v?$protocol ? v$protocol : "no protocol",
	        $identifier=cat(c$id$orig_h, c$id$resp_h)]);
	}

# ---- certificates ----

hook SSL::ssl_finishing(c: connection) &priority=5
	{
	# validate-certs (priority 20) has set validation_status by now.
	if ( ! c$ssl?$validation_status || c$ssl$validation_status == "ok" )
		return;
	if ( ! c$ssl?$cert_chain || |c$ssl$cert_chain| == 0 || ! c$ssl$cert_chain[0]?$x509 )
		return;
	local x = c$ssl$cert_chain[0]$x509;
	if ( x$certificate$issuer in TrustedCAs || x$fingerprint in TrustedCAs )
		return;
	NOTICE([$note=Untrusted_Certificate, $conn=c,
	        $msg=fmt("certificate not validated (%s), issuer not in EncChan::TrustedCAs",
	                 c$ssl$validation_status),
	        $sub=fmt("issuer=%s subject=%s sha256=%s", x$certificate$issuer, x$certificate$subject,
	                 x$fingerprint),
	        $identifier=cat(c$id$resp_h, c$id$resp_p, x$fingerprint)]);
	}

# ---- beaconing ----

type BeaconState: record {
	## Connection starts, oldest first: within TimeWindow of the newest,
	## at most BeaconMaxConnections.
	starts: vector of double &default=vector();
	noticed: bool &default=F;
	last_uid: string &default="";
};

# On the manager in a cluster (every observation of a pair meets there),
# locally otherwise. Pairs idle for a day are forgotten.
global beacons: table[addr, addr, port] of BeaconState &read_expire=1 day;

function median(v: vector of double): double
	{
	local n = |v|;
	if ( n == 0 )
		return 0.0;
	return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
	}

event EncChan::verdict(c: connection, v: EncChan::Verdict) &priority=-5
	{
	if ( ! v$ended || v$orig_bytes + v$resp_bytes == 0 || c$id$resp_h in DoHResolvers )
		return;
@if ( Cluster::is_enabled() && Cluster::local_node_type() != Cluster::MANAGER )
	Cluster::publish(Cluster::manager_topic, EncChan::beacon_observation, c$id$orig_h, c$id$resp_h, c$id$resp_p,
	                 c$start_time, c$uid);
@else
	event EncChan::beacon_observation(c$id$orig_h, c$id$resp_h, c$id$resp_p, c$start_time, c$uid);
@endif
	}

event EncChan::beacon_observation(orig: addr, resp: addr, p: port, ts: time, uid: string)
	{
	if ( [orig, resp, p] !in beacons )
		beacons[orig, resp, p] = BeaconState();
	local b = beacons[orig, resp, p];
	local start = time_to_double(ts);
	# The same connection seen again (a re-sent event, a capture read
	# twice) is one connection, not an interval of zero.
	for ( _, t in b$starts )
		if ( t == start )
			return;
	b$last_uid = uid;
	local starts = b$starts;
	starts += start;
	# Connections end, and arrive here, out of order now and then: the
	# numeric sort (no script comparator) of an almost sorted vector.
	sort(starts);
	# Keep the latest BeaconMaxConnections within TimeWindow of the newest.
	local newest = starts[|starts| - 1];
	local window = interval_to_double(TimeWindow);
	local first = |starts| > BeaconMaxConnections ? |starts| - BeaconMaxConnections : 0;
	while ( first < |starts| - 1 && newest - starts[first] > window )
		++first;
	b$starts = first == 0 ? starts : starts[first:];
	if ( b$noticed || |b$starts| < BeaconMinConnections )
		return;

	local res = interval_to_double(BeaconResolution);
	local deltas: vector of double = vector();
	for ( i in b$starts )
		if ( i > 0 )
			deltas += res > 0.0 ? floor((b$starts[i] - b$starts[i - 1]) / res + 0.5) * res
			                    : b$starts[i] - b$starts[i - 1];
	sort(deltas);
	local n = |deltas|;
	local q1 = deltas[n / 4];
	local q2 = median(deltas);
	local q3 = deltas[(3 * n) / 4];
	if ( q2 <= 0.0 )
		return;
	# As RITA: a median equal to a quartile is no skew (the quartiles of
	# quantized, regular intervals meet).
	local bowley = (q2 != q1 && q2 != q3) ? (q1 + q3 - 2.0 * q2) / (q3 - q1) : 0.0;
	local dev: vector of double = vector();
	for ( _, d in deltas )
		dev += d > q2 ? d - q2 : q2 - d;
	sort(dev);
	local mad = median(dev);
	local skew_score = 1.0 - (bowley < 0.0 ? -bowley : bowley);
	local mad_score = mad >= q2 ? 0.0 : 1.0 - mad / q2;
	local score = (skew_score + mad_score) / 2.0;
	if ( score < BeaconScoreThreshold )
		return;
	b$noticed = T;
	NOTICE([$note=Beaconing, $src=orig, $dst=resp, $p=p, $uid=uid,
	        $msg=fmt("%s connects to %s:%s every %.1fs (%d connections)", orig, resp, p, q2, |b$starts|),
	        $sub=fmt("connections=%d median_interval=%.3fs bowley_skew=%.3f mad=%.3fs score=%.3f",
	                 |b$starts|, q2, bowley, mad, score),
	        $identifier=cat(orig, resp, p)]);
	}
