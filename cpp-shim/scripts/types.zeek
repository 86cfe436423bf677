module EncChan;

export {
	## Evidence per alert: "key=value ..." as the engine reported it.
	type EvidenceTable: table[string] of string;

	## The engine's verdict on one connection.
	type Verdict: record {
		## Recognized protocol of the innermost stream ("tls", "ssh",
		## "quic" …), if any.
		protocol: string &optional;
		## The cleartext protocol that carried it (an HTTP CONNECT
		## tunnel, STARTTLS, SOCKS …), when one handed its stream over.
		carrier: string &optional;
		## Where a proxy carrier (HTTP CONNECT, SOCKS4/5) was asked to
		## connect, or the zone DNS names carried encoded labels to: the
		## host (an address, or a name's first 16 bytes then "…") and the
		## port (with the connection's transport).
		destination_host: string &optional;
		destination_port: port &optional;
		## "encrypted", "compressed", "plaintext" or "unknown".
		content: string;
		## Alert names: symmetric_only, tls_unexpected_port,
		## ssh_unexpected_port, encrypted_on_plaintext_port,
		## handshake_incomplete, handshake_malformed, rsa_key_exchange,
		## traffic_asymmetry, dns_encoded_payload.
		alerts: vector of string;
		## The alerts no further byte or time can take back: what to
		## publish while the connection goes on (all of them at its end).
		final_alerts: vector of string;
		## Why each alert was raised.
		evidence: EvidenceTable;
		orig_bytes: count;
		resp_bytes: count;
		## Collision-entropy estimates (bits/byte), when enough bytes.
		orig_entropy: double &optional;
		resp_entropy: double &optional;
		tls_version: count &optional;
		tls_cipher_suite: count &optional;
		key_exchange_complete: bool;
		## The engine stopped inspecting payload.
		inspection_done: bool;
		## Raised at connection end (the complete verdict).
		ended: bool;
	};

	## Byte statistics of a buffer, as the engine computes them.
	type ByteStats: record {
		entropy: double;
		## Plug-in Shannon entropy (what find_entropy reports).
		shannon: double;
		collisions: count;
		collisions_expected: double;
		printable_fraction: double;
		longest_printable_run: count;
		mean_popcount: double;
		encoding: string;
		high_entropy: bool;
		## Bytes outside printable ASCII, their collision entropy (at
		## most log2 158 ≈ 7.3), and whether they alone pass the test:
		## ciphertext under printable padding.
		binary_bytes: count;
		binary_entropy: double;
		binary_high_entropy: bool;
		format: string &optional;
	};
}
