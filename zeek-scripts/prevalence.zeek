##! Context that tells a command-and-control server from a popular service:
##! how many distinct internal clients talk to each external server
##! (prevalence), and allowlists of servers by subnet and by autonomous
##! system. Detection stays in the engine: these knobs only decide whether
##! an alert becomes a notice. An alert they hold back is still in
##! encchan.log, with the reason in its *downgraded* column.
##!
##! Prevalence is counted per external server (the key) from the internal
##! client of every TCP and UDP connection from a local address
##! (Site::is_local_addr) to a non-local one, answered or not, when it
##! starts. Each node keeps its own count of the current window (the
##! clients by address up to PrevalenceExactClients, a HyperLogLog past
##! that). In a cluster each worker also hands every client/server pair
##! new to it in the window to SumStats (an exact unique count up to
##! PrevalenceExactClients and a HyperLogLog), which merges the workers'
##! counts on the manager; a pair seen again in the window costs a set
##! lookup. One Zeek alone needs no SumStats: it times its windows itself.
##!
##! What a node knows at notice time, and how late it may be:
##!
##! - Standalone (one Zeek process, e.g. reading a capture): the live count
##!   of the current window, exact up to PrevalenceExactClients clients,
##!   a HyperLogLog estimate above.
##! - Cluster worker: the larger of (a) its own live count, which sees only
##!   the connections this worker got, and (b) what the manager published:
##!   the full count of the last finished window (at each window's end), and
##!   during a window the count at the moment the cluster-wide count first
##!   went above PrevalentClientsThreshold. (b) comes one manager round
##!   trip (workers report a server once their own share reaches
##!   SumStats::cluster_request_global_view_percent of the threshold, the
##!   manager asks every worker, then publishes) after the connection that
##!   crossed the threshold. Notices due before then are raised as usual;
##!   a server that becomes popular is downgraded from then on, and a
##!   server whose clients spread over many workers may be counted only at
##!   the window's end. A count never shrinks within a window, and the
##!   previous window's count is kept until the next window ends. A
##!   worker's window ends for SumStats when the manager collects its
##!   share and for the worker's own count when prevalence_window_done
##!   arrives, one round trip later: a pair whose connections of the new
##!   window all fall in between is left out of that window's merged count.
##!
##! The decision for an alert is taken once per connection, when its notice
##! is due, and kept: the log line says what happened to the notice.

@load base/frameworks/cluster
@load base/frameworks/sumstats
@load base/utils/site
@load ./main

module EncChan;

export {
	## The prevalence window: distinct internal clients are counted per
	## window of this length (a SumStats epoch in a cluster, a timer on
	## packet time on one Zeek), and the last finished window's counts are
	## kept until the next one finishes. Fixed at startup.
	const PrevalenceWindow: interval = 1 day &redef;
	## Error margin of the HyperLogLog estimate used past
	## PrevalenceExactClients (SumStats' default is 0.01), at 95%
	## confidence. Each counter took about 1.8 KiB at 0.05 and 64 KiB at
	## 0.01 (measured with Zeek 8.2); in a cluster SumStats keeps one per
	## external server seen in the window on each node, and every node's
	## own live count one per server past PrevalenceExactClients. Small
	## estimates are not exact: two clients can share a register (Zeek
	## seeds the hash anew in every process); at 0.05, 5 distinct clients
	## read as 4, and 7 as 6, in 2 of 300 runs each. Fixed at startup.
	const PrevalenceErrorMargin: double = 0.05 &redef;
	## Counts below this many clients are exact, on a node and merged
	## across a cluster's workers: kept by address (SumStats' UNIQUE
	## reducer for the merged count); past it, the HyperLogLog estimate.
	## Fixed at startup.
	const PrevalenceExactClients: count = 64 &redef;
	## Alerts on a destination used by more than this many distinct
	## internal clients in the prevalence window are logged, not noticed
	## (for the alerts of PrevalenceAlerts). 0 turns the downgrade off;
	## prevalence is still counted and logged. A C2 server that many
	## infected hosts use is prevalent too: set it above the number of
	## hosts an intrusion could plausibly reach unnoticed.
	option PrevalentClientsThreshold: count = 0;
	## Alerts that prevalence downgrades.
	option PrevalenceAlerts: set[string] = set("symmetric_only");
	## Servers whose alerts (those of AllowlistAlerts) are logged, not
	## noticed: CDNs, SaaS, update services, partners' VPN gateways.
	option AllowedServerSubnets: set[subnet] = set();
	## The same by autonomous system number, looked up with
	## lookup_autonomous_system: needs a MaxMind-format ASN database
	## (redef mmdb_dir, or the default locations; see mmdb_asn_db). Without
	## one no server matches and Zeek reports the missing database in
	## reporter.log.
	option AllowedServerASNs: set[count] = set();
	## Alerts the server allowlists downgrade. dns_encoded_payload is not
	## among them by default: its server is the resolver, and an allowed
	## public resolver must not hide DNS tunnelling through it.
	option AllowlistAlerts: set[string] = set("symmetric_only", "tls_unexpected_port", "ssh_unexpected_port",
	                                          "encrypted_on_plaintext_port", "traffic_asymmetry",
	                                          "handshake_incomplete", "handshake_malformed",
	                                          "rsa_key_exchange");

	## Distinct internal clients of *server* as this node knows them (0:
	## none known).
	global server_clients: function(server: addr): count;

	## Manager to workers: counts of servers that crossed
	## PrevalentClientsThreshold within the current window (merged).
	global prevalence_crossed: event(counts: table[addr] of count);
	## Manager to workers: the finished window's counts (replace the
	## previous window's). Servers with one client are left out.
	global prevalence_window_done: event(counts: table[addr] of count);
}

redef record connection += {
	## Per alert, the decision taken when its notice was due: "" (noticed)
	## or why it was downgraded.
	encchan_decided: table[string] of string &optional;
};

const prevalence_stream = "encchan.prevalence.clients";

# One server's clients as this node saw them in the current window.
type LiveClients: record {
	## By address, until PrevalenceExactClients of them.
	exact: set[addr];
	## From then on: a HyperLogLog of all of them (the set's first).
	estimate: opaque of cardinality &optional;
};

# What the manager said (the last finished window, raised by crossings in
# the current one), and this node's own live count per server, cleared
# when a window ends (and expiring a window after the server's first
# connection should no window end reach this node).
global cluster_counts: table[addr] of count = table();
global live_clients: table[addr] of LiveClients &create_expire=PrevalenceWindow;
# The finished window's counts, gathered on the manager.
global window_counts: table[addr] of count = table();

# A node's own count of one server's clients in the current window.
function live_count(seen: LiveClients): count
	{
	return seen?$estimate ? double_to_count(hll_cardinality_estimate(seen$estimate)) : |seen$exact|;
	}

function server_clients(server: addr): count
	{
	local n = server in cluster_counts ? cluster_counts[server] : 0;
	local live = server in live_clients ? live_count(live_clients[server]) : 0;
	return live > n ? live : n;
	}

event EncChan::prevalence_crossed(counts: table[addr] of count)
	{
	for ( server, n in counts )
		if ( server !in cluster_counts || cluster_counts[server] < n )
			cluster_counts[server] = n;
	}

event EncChan::prevalence_window_done(counts: table[addr] of count)
	{
	cluster_counts = counts;
@if ( Cluster::is_enabled() )
	# A new window on this worker: every pair is new to it again.
	clear_table(live_clients);
@endif
	}

@if ( Cluster::is_enabled() )

# In a cluster SumStats merges the workers' counts on the manager, each
# client/server pair handed over once per window by the worker that saw it.

# SumStats' count of a server: exact below PrevalenceExactClients (UNIQUE
# stops storing there; merged counts are capped at it), else the estimate.
function summed_clients(result: SumStats::Result): count
	{
	local rv = result[prevalence_stream];
	return rv$unique < PrevalenceExactClients ? rv$unique : rv$hll_unique;
	}

function publish_to_workers(crossed: bool, counts: table[addr] of count)
	{
	if ( crossed )
		Cluster::publish(Cluster::worker_topic, EncChan::prevalence_crossed, counts);
	else
		Cluster::publish(Cluster::worker_topic, EncChan::prevalence_window_done, counts);
	}

event zeek_init() &priority=5
	{
	local r = SumStats::Reducer($stream=prevalence_stream, $apply=set(SumStats::UNIQUE, SumStats::HLL_UNIQUE),
	                            $unique_max=PrevalenceExactClients, $hll_error_margin=PrevalenceErrorMargin);
	SumStats::create([$name="encchan-prevalence",
	                  $epoch=PrevalenceWindow,
	                  $reducers=set(r),
	                  # Crossing 1.0 means more clients than the threshold;
	                  # the option is read each time, so a runtime change
	                  # applies to the next crossing.
	                  $threshold=1.0,
	                  $threshold_val(key: SumStats::Key, result: SumStats::Result) =
	                  	{
	                  	if ( PrevalentClientsThreshold == 0 )
	                  		return 0.0;
	                  	return summed_clients(result) / (PrevalentClientsThreshold + 1.0);
	                  	},
	                  $threshold_crossed(key: SumStats::Key, result: SumStats::Result) =
	                  	{
	                  	local counts: table[addr] of count = table([key$host] = summed_clients(result));
	                  	event EncChan::prevalence_crossed(counts);
	                  	publish_to_workers(T, counts);
	                  	},
	                  $epoch_result(ts: time, key: SumStats::Key, result: SumStats::Result) =
	                  	{
	                  	local n = summed_clients(result);
	                  	if ( n > 1 )
	                  		window_counts[key$host] = n;
	                  	},
	                  $epoch_finished(ts: time) =
	                  	{
	                  	local counts = window_counts;
	                  	window_counts = table();
	                  	event EncChan::prevalence_window_done(counts);
	                  	publish_to_workers(F, counts);
	                  	}]);
	}

function hand_over(server: addr, client: addr)
	{
	SumStats::observe(prevalence_stream, [$host=server], [$str=cat(client)]);
	}

@else

# One node: its own count is the whole count, and its windows are timed
# here as SumStats would time them (a timer on packet time, the first at
# the first packet). SumStats cost ~30 µs and ~3.7 KiB per server new in
# the window (Zeek 8.2, 100,000 servers) for nothing one node needs.
global end_window: event();

event EncChan::end_window()
	{
	local counts: table[addr] of count = table();
	for ( server, seen in live_clients )
		{
		local n = live_count(seen);
		if ( n > 1 )
			counts[server] = n;
		}
	# Cleared here, not when the event below is handled: a connection
	# handled in between belongs to the new window.
	cluster_counts = counts;
	clear_table(live_clients);
	event EncChan::prevalence_window_done(counts);
	schedule PrevalenceWindow { EncChan::end_window() };
	}

event zeek_init() &priority=5
	{
	schedule PrevalenceWindow { EncChan::end_window() };
	}

function hand_over(server: addr, client: addr)
	{
	}

@endif

event new_connection(c: connection) &priority=5
	{
	local id = c$id;
	local proto = get_port_transport_proto(id$resp_p);
	if ( (proto != tcp && proto != udp) || ! Site::is_local_addr(id$orig_h) || Site::is_local_addr(id$resp_h) )
		return;
	local server = id$resp_h;
	local client = id$orig_h;
	if ( server !in live_clients )
		live_clients[server] = LiveClients();
	local seen = live_clients[server];
	if ( seen?$estimate )
		hll_cardinality_add(seen$estimate, client);
	else if ( client in seen$exact )
		return; # counted in this window already (and handed over)
	else
		{
		add seen$exact[client];
		if ( |seen$exact| >= PrevalenceExactClients )
			{
			seen$estimate = hll_cardinality_init(PrevalenceErrorMargin, 0.95);
			for ( earlier in seen$exact )
				hll_cardinality_add(seen$estimate, earlier);
			}
		}
	hand_over(server, client);
	}

## Why alerts on this server are downgraded by an allowlist, or "".
function allowlisted(server: addr): string
	{
	for ( sn in AllowedServerSubnets )
		if ( server in sn )
			return fmt("server in AllowedServerSubnets %s", sn);
	if ( |AllowedServerASNs| > 0 )
		{
		local asn = lookup_autonomous_system(server);
		if ( asn?$number && asn$number in AllowedServerASNs )
			return fmt("server in AS%d%s, in AllowedServerASNs", asn$number,
			           asn?$organization ? fmt(" (%s)", asn$organization) : "");
		}
	return "";
	}

hook EncChan::finalize_info(c: connection, v: Verdict, info: Info)
	{
	local server = c$id$resp_h;
	local n = server_clients(server);
	if ( n > 0 )
		info$server_clients = n;
	if ( |v$final_alerts| == 0 && ! c?$encchan_decided )
		return;
	if ( ! c?$encchan_decided )
		c$encchan_decided = table();
	local allowed = "?";
	for ( _, a in v$final_alerts )
		{
		if ( a in c$encchan_decided )
			next;
		local why = "";
		if ( a in AllowlistAlerts )
			{
			if ( allowed == "?" )
				allowed = allowlisted(server);
			why = allowed;
			}
		if ( why == "" && a in PrevalenceAlerts && PrevalentClientsThreshold > 0 && n > PrevalentClientsThreshold )
			why = fmt("server used by %d internal clients, more than PrevalentClientsThreshold %d", n,
			          PrevalentClientsThreshold);
		c$encchan_decided[a] = why;
		}
	for ( a, reason in c$encchan_decided )
		{
		if ( reason == "" )
			next;
		if ( ! info?$downgraded )
			{
			info$downgraded = vector();
			info$downgraded_alerts = set();
			}
		info$downgraded += fmt("%s: %s", a, reason);
		add info$downgraded_alerts[a];
		}
	}
