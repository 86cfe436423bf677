##! The script-only equivalent of the encchan plugin, for the benchmark: the
##! first 4096 payload bytes of each direction of every TCP and UDP
##! connection, and Zeek's own find_entropy() over them at the connection's
##! end. What a site without the plugin would write; it judges nothing (no
##! handshake walking, no formats), so it is a floor on the script-level
##! cost, not an equal.

module EncChanScript;

export {
	const budget = 4096 &redef;
}

redef tcp_content_deliver_all_orig = T;
redef tcp_content_deliver_all_resp = T;
redef udp_content_deliver_all_orig = T;
redef udp_content_deliver_all_resp = T;

type Buffers: record {
	orig: string &default="";
	resp: string &default="";
};

global buffers: table[string] of Buffers;

function add_bytes(c: connection, is_orig: bool, contents: string)
	{
	if ( c$uid !in buffers )
		buffers[c$uid] = Buffers();
	local b = buffers[c$uid];
	if ( is_orig && |b$orig| < budget )
		b$orig += contents[0:budget - |b$orig|];
	else if ( ! is_orig && |b$resp| < budget )
		b$resp += contents[0:budget - |b$resp|];
	}

event tcp_contents(c: connection, is_orig: bool, seq: count, contents: string)
	{
	add_bytes(c, is_orig, contents);
	}

event udp_contents(u: connection, is_orig: bool, contents: string)
	{
	add_bytes(u, is_orig, contents);
	}

global high_entropy = 0;

event connection_state_remove(c: connection)
	{
	if ( c$uid !in buffers )
		return;
	local b = buffers[c$uid];
	delete buffers[c$uid];
	if ( |b$orig| >= 32 && find_entropy(b$orig)$entropy > 7.5 )
		++high_entropy;
	if ( |b$resp| >= 32 && find_entropy(b$resp)$entropy > 7.5 )
		++high_entropy;
	}

event zeek_done()
	{
	print fmt("find_entropy: %d directions above 7.5 bits per byte", high_entropy);
	}
