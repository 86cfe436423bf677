##! encchan: command-and-control hidden in encrypted channels (MITRE ATT&CK
##! T1573). The plugin's engine judges every TCP and UDP connection; this
##! module turns its verdicts into encchan.log and notices, and hands the
##! engine its knobs (all runtime-tunable through the Config framework).

@load base/frameworks/notice
@load base/frameworks/config

module EncChan;

export {
	redef enum Log::ID += { LOG };

	redef enum Notice::Type += {
		## High-entropy payload and no key exchange ever seen (T1573.001).
		Symmetric_Only_Channel,
		## TLS or QUIC on a port not profiled for it (T1573.002).
		TLS_Unexpected_Port,
		## SSH on a port not profiled for it (T1573.002, T1571).
		SSH_Unexpected_Port,
		## Incomplete or malformed key exchange, or RSA key transport
		## (T1573.002).
		Handshake_Anomaly,
		## Client-heavy byte ratio above the volume threshold (T1573).
		Traffic_Asymmetry,
		## Encrypted-looking payload on a port profiled for cleartext.
		Encrypted_On_Plaintext_Port,
		## Encoded payload carried in DNS: query names made of encoded
		## labels under one zone and/or TXT/NULL answers carrying encoded
		## data (T1071.004, with T1573.001 for what is carried). The
		## message names the zone and the direction(s).
		DNS_Encoded_Payload,
	};

	## Entropy threshold, bits per byte of collision entropy (random data
	## estimates 8.0). See the engine's docs for why 7.5.
	option EntropyThreshold: double = 7.5;
	## Seconds a started key exchange has to complete.
	option HandshakeTimeout: interval = 10 sec;
	## Client/server bytes at or above which a flow is client-heavy.
	option TrafficAsymmetryRatio: double = 10.0;
	## Client bytes before asymmetry is considered.
	option TrafficVolumeThreshold: count = 1048576;
	## Bytes inspected per direction before the verdict is final.
	option InspectBudget: count = 4096;
	## Bytes a direction needs before its entropy counts.
	option MinPayload: count = 32;
	## Also measure the bytes a recognized protocol explains (TLS after its
	## hello, HTTP …). Off: those figures could change no alert, and
	## skipping them is most of the engine's cost; entropy is then logged
	## for the flows no protocol explains.
	option MeasureKnownProtocols: bool = F;
	## Error of the sequential test that decides Symmetric_Only_Channel on
	## a direction's opening bytes (often its first packet) rather than at
	## the inspection budget or the connection's end: the chance that
	## content one bit short of uniform is decided early. 0 turns early
	## verdicts off.
	option EarlyVerdictError: double = 0.0001;
	## Server ports expected to carry each kind of traffic ("tls", "ssh",
	## "plaintext"). Each set replaces the engine's default for its kind;
	## the engine judges a port by its number (the transport is for
	## reading). The defaults are the engine's (a test checks them against
	## its knob table).
	option PortProfiles: table[string] of set[port] = {
		["tls"] = set(443/tcp, 443/udp, 465/tcp, 563/tcp, 636/tcp, 853/tcp, 853/udp, 989/tcp, 990/tcp,
		              992/tcp, 993/tcp, 994/tcp, 995/tcp, 1194/tcp, 1194/udp, 1443/tcp, 2376/tcp, 2484/tcp,
		              3269/tcp, 3389/tcp, 3478/udp, 4433/tcp, 4433/udp, 4443/tcp, 4460/tcp, 5061/tcp,
		              5223/tcp, 5228/tcp, 5349/tcp, 5349/udp, 5671/tcp, 5986/tcp, 6443/tcp, 6514/tcp,
		              6697/tcp, 8443/tcp, 8883/tcp, 9443/tcp, 10250/tcp, 10443/tcp, 19302/udp, 50051/tcp),
		["ssh"] = set(22/tcp, 2222/tcp),
		["plaintext"] = set(21/tcp, 23/tcp, 25/tcp, 53/tcp, 53/udp, 80/tcp, 110/tcp, 119/tcp, 143/tcp,
		                    161/udp, 162/udp, 514/udp, 587/tcp, 8000/tcp, 8008/tcp, 8080/tcp),
	};

	## One line per connection the engine judged.
	type Info: record {
		ts: time &log;
		uid: string &log;
		id: conn_id &log;
		proto: transport_proto &log;
		protocol: string &log &optional;
		## The cleartext protocol that carried it (an HTTP CONNECT
		## tunnel, STARTTLS, SOCKS …).
		carrier: string &log &optional;
		## Where a proxy carrier (HTTP CONNECT, SOCKS) was asked to
		## connect, or the zone DNS names carried encoded labels to.
		destination_host: string &log &optional;
		destination_port: port &log &optional;
		content: string &log;
		alerts: vector of string &log;
		evidence: vector of string &log &optional;
		orig_bytes: count &log;
		resp_bytes: count &log;
		orig_entropy: double &log &optional;
		resp_entropy: double &log &optional;
		## Distinct internal clients (Site::is_local_addr) that talked to
		## this external server within the prevalence window, as this node
		## knew it when the line was written (prevalence.zeek; absent for
		## internal servers and servers no internal client used).
		server_clients: count &log &optional;
		## Alerts whose notice was withheld, each with why (an allowed
		## server subnet or autonomous system, or a server used by more
		## than PrevalentClientsThreshold internal clients). The alert
		## stays in *alerts*: a downgraded verdict is logged, not dropped.
		downgraded: vector of string &log &optional;
		## The alerts of *downgraded*, by name.
		downgraded_alerts: set[string] &optional;
	};

	## Raised for each log line, for other scripts to extend.
	global log_encchan: event(rec: Info);

	## Called with each log line before it is written: handlers add
	## context (the telemetry correlation in policy.zeek adds the process).
	global finalize_info: hook(c: connection, v: Verdict, info: Info);

	## Called before each EncChan notice; a handler that breaks suppresses
	## it (allowed hosts, DoH resolvers, allowed crypto processes).
	global notice_allowed: hook(c: connection, note: Notice::Type, info: Info);
}

global reconfigure: event();

## Sets an engine knob by its name in the engine's knob table; a refused
## value keeps the old one and is reported.
function set_knob(name: string, value: string)
	{
	local err = EncChan::__set_knob(name, value);
	if ( err != "" )
		Reporter::warning(fmt("EncChan: option refused: %s", err));
	}

function push_knobs()
	{
	# In the order of the engine's table: the budget before what must fit
	# in it.
	set_knob("entropy_threshold", fmt("%.6f", EntropyThreshold));
	set_knob("inspect_budget", fmt("%d", InspectBudget));
	set_knob("min_payload", fmt("%d", MinPayload));
	set_knob("handshake_timeout", fmt("%.6f", interval_to_double(HandshakeTimeout)));
	set_knob("asymmetry_ratio", fmt("%.6f", TrafficAsymmetryRatio));
	set_knob("volume_threshold", fmt("%d", TrafficVolumeThreshold));
	set_knob("measure_known_protocols", MeasureKnownProtocols ? "true" : "false");
	set_knob("early_verdict_error", fmt("%.9f", EarlyVerdictError));
	for ( kind, ports in PortProfiles )
		{
		local list = "";
		for ( p in ports )
			list = list == "" ? fmt("%d", port_to_count(p)) : fmt("%s,%d", list, port_to_count(p));
		set_knob("ports." + kind, list);
		}
	}

function knob_changed_double(id: string, new_value: double): double
	{
	schedule 0 sec { EncChan::reconfigure() };
	return new_value;
	}

function knob_changed_count(id: string, new_value: count): count
	{
	schedule 0 sec { EncChan::reconfigure() };
	return new_value;
	}

function knob_changed_bool(id: string, new_value: bool): bool
	{
	schedule 0 sec { EncChan::reconfigure() };
	return new_value;
	}

function knob_changed_interval(id: string, new_value: interval): interval
	{
	schedule 0 sec { EncChan::reconfigure() };
	return new_value;
	}

function knob_changed_ports(id: string, new_value: table[string] of set[port]): table[string] of set[port]
	{
	schedule 0 sec { EncChan::reconfigure() };
	return new_value;
	}

event EncChan::reconfigure()
	{
	push_knobs();
	}

event zeek_init() &priority=5
	{
	Log::create_stream(EncChan::LOG, [$columns=Info, $ev=log_encchan, $path="encchan"]);
	push_knobs();
	Option::set_change_handler("EncChan::EntropyThreshold", knob_changed_double);
	Option::set_change_handler("EncChan::TrafficAsymmetryRatio", knob_changed_double);
	Option::set_change_handler("EncChan::TrafficVolumeThreshold", knob_changed_count);
	Option::set_change_handler("EncChan::InspectBudget", knob_changed_count);
	Option::set_change_handler("EncChan::MinPayload", knob_changed_count);
	Option::set_change_handler("EncChan::MeasureKnownProtocols", knob_changed_bool);
	Option::set_change_handler("EncChan::EarlyVerdictError", knob_changed_double);
	Option::set_change_handler("EncChan::HandshakeTimeout", knob_changed_interval);
	Option::set_change_handler("EncChan::PortProfiles", knob_changed_ports);
	}

function notice_type(alert: string): Notice::Type
	{
	switch ( alert )
		{
		case "symmetric_only": return Symmetric_Only_Channel;
		case "tls_unexpected_port": return TLS_Unexpected_Port;
		case "ssh_unexpected_port": return SSH_Unexpected_Port;
		case "encrypted_on_plaintext_port": return Encrypted_On_Plaintext_Port;
		case "traffic_asymmetry": return Traffic_Asymmetry;
		case "dns_encoded_payload": return DNS_Encoded_Payload;
		case "handshake_incomplete", "handshake_malformed", "rsa_key_exchange": return Handshake_Anomaly;
		default:
			Reporter::warning(fmt("EncChan: no notice type for the engine's alert %s", alert));
			return Handshake_Anomaly;
		}
	}

## The value of *key* in an alert's evidence text ("key=value ..." as the
## engine's serializer writes it), or "" when absent.
function evidence_value(text: string, key: string): string
	{
	local prefix = key + "=";
	for ( _, item in split_string(text, / /) )
		if ( starts_with(item, prefix) )
			return item[|prefix|:];
	return "";
	}

## A notice's message: the alert and the protocol, and what the engine said
## about the carrier (SOCKS, HTTP CONNECT, an HTTP body) and where it led;
## for DNS, the zone and the direction(s) the encoded data went.
function notice_msg(c: connection, a: string, v: EncChan::Verdict): string
	{
	local ev = a in v$evidence ? v$evidence[a] : "";
	if ( a == "dns_encoded_payload" )
		{
		local zone = evidence_value(ev, "zone");
		if ( zone == "" || zone == "-" )
			zone = v?$destination_host ? v$destination_host : "(zone unknown)";
		local up = evidence_value(ev, "query_payload") == "T";
		local down = evidence_value(ev, "answer_payload") == "T";
		local dir = up && down ? ", out in query names and back in answers" :
		            up ? ", out in query names" :
		            down ? ", back in answers" : "";
		return fmt("encchan dns_encoded_payload: encoded data under zone %s%s (client %s, resolver %s)",
		           zone, dir, c$id$orig_h, c$id$resp_h);
		}
	local proto = v?$protocol ? v$protocol : "no protocol";
	local msg = fmt("encchan %s (%s", a, proto);
	local carrier = evidence_value(ev, "carrier");
	if ( carrier == "" || carrier == "-" )
		carrier = v?$carrier ? v$carrier : "";
	if ( carrier != "" && carrier != proto )
		msg += ", via " + carrier;
	if ( v?$destination_host )
		msg += " to " + v$destination_host +
		       (v?$destination_port ? fmt(":%d", port_to_count(v$destination_port)) : "");
	local message = evidence_value(ev, "message");
	if ( message != "" && message != "-" )
		msg += fmt(", in HTTP %s bodies", message);
	return msg + ")";
	}

function make_info(c: connection, v: EncChan::Verdict): Info
	{
	local info = Info($ts=c$start_time, $uid=c$uid, $id=c$id, $proto=get_port_transport_proto(c$id$resp_p),
	                  $content=v$content, $alerts=v$alerts, $orig_bytes=v$orig_bytes, $resp_bytes=v$resp_bytes);
	if ( v?$protocol )
		info$protocol = v$protocol;
	if ( v?$carrier )
		info$carrier = v$carrier;
	if ( v?$destination_host )
		info$destination_host = v$destination_host;
	if ( v?$destination_port )
		info$destination_port = v$destination_port;
	if ( v?$orig_entropy )
		info$orig_entropy = v$orig_entropy;
	if ( v?$resp_entropy )
		info$resp_entropy = v$resp_entropy;
	if ( |v$alerts| > 0 )
		{
		info$evidence = vector();
		for ( _, a in v$alerts )
			info$evidence += fmt("%s: %s", a, v$evidence[a]);
		}
	hook EncChan::finalize_info(c, v, info);
	return info;
	}

# The engine says when an alert may be published: once it is final. Notices
# go out as alerts become final (a connection can be noticed long before it
# ends); the log line is written from the complete verdict at the end.
event EncChan::verdict(c: connection, v: EncChan::Verdict)
	{
	if ( v$orig_bytes + v$resp_bytes == 0 )
		return;
	local info = make_info(c, v);
	if ( v$ended )
		Log::write(EncChan::LOG, info);

	for ( _, a in v$final_alerts )
		{
		local note = notice_type(a);
		# One notice per client, server, port and alert (and DNS zone:
		# each query is a connection of its own) per suppression interval.
		local ident = cat(c$id$orig_h, c$id$resp_h, c$id$resp_p, a);
		if ( a == "dns_encoded_payload" && v?$destination_host )
			ident = cat(ident, v$destination_host);
		if ( info?$downgraded_alerts && a in info$downgraded_alerts )
			next;
		local msg = notice_msg(c, a, v);
		if ( info?$server_clients )
			msg += fmt(" [server used by %d internal client%s in the prevalence window]", info$server_clients,
			           info$server_clients == 1 ? "" : "s");
		if ( hook EncChan::notice_allowed(c, note, info) )
			NOTICE([$note=note, $conn=c, $msg=msg, $sub=v$evidence[a], $identifier=ident]);
		}
	}
