//! An alert's evidence in sentences for a person: what was tested, the
//! values, and what they mean. Input is the NDJSON record's `evidence`
//! object (the contract's names); a field this module does not know still
//! shows in the report's table of all fields.

use serde_json::Value;

fn num(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64)
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn flag(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// A number as the evidence gives it, or "?" when absent.
fn show(x: Option<f64>, decimals: usize) -> String {
    x.map_or("?".to_owned(), |x| format!("{x:.decimals$}"))
}

/// The sentences explaining `alert`, from its `evidence` object and the
/// whole `record`.
pub fn explain(alert: &str, evidence: &Value, record: &Value) -> Vec<String> {
    match alert {
        "symmetric_only" => {
            let mut out = vec![format!(
                "{}; no key exchange was seen in either direction.",
                randomness(evidence)
            )];
            out.extend(statistics(evidence));
            if flag(evidence, "framing_without_handshake") {
                out.push(
                    "TLS-looking records ran without any handshake, on a flow whose start was seen."
                        .to_owned(),
                );
            }
            if let Some(app) = text(evidence, "application") {
                out.push(format!("The bytes are the application protocol {app}'s own."));
            }
            out
        }
        "encrypted_on_plaintext_port" => {
            let port = show(num(evidence, "server_port"), 0);
            let mut out = vec![format!(
                "Server port {port} is profiled for cleartext protocols, and no cleartext protocol carries these bytes."
            )];
            if evidence.get("entropy").is_some() {
                out.insert(0, format!("{}.", randomness(evidence)));
                out.extend(statistics(evidence));
            }
            out
        }
        "tls_unexpected_port" | "ssh_unexpected_port" => vec![format!(
            "{} on server port {}, which is not profiled for it: a known protocol on an unusual port.",
            text(evidence, "protocol").unwrap_or("a key-exchange protocol"),
            show(num(evidence, "server_port"), 0)
        )],
        "handshake_incomplete" => {
            let mut s = format!(
                "A {} key exchange began in the {}'s stream and did not complete (last handshake byte at offset {}",
                text(evidence, "protocol").unwrap_or("?"),
                text(evidence, "direction").unwrap_or("?"),
                show(num(evidence, "offset"), 0),
            );
            if let Some(us) = num(evidence, "elapsed_us").filter(|&us| us > 0.0) {
                s.push_str(&format!(", {:.3} s after it began", us / 1e6));
            }
            s.push(')');
            if let Some(reason) = text(evidence, "reason") {
                s.push_str(&format!(": ended by {reason}"));
            }
            s.push('.');
            vec![s]
        }
        "handshake_malformed" => vec![format!(
            "The {} framing broke at offset {} of the {}'s stream ({}): not what a real implementation sends.",
            text(evidence, "protocol").unwrap_or("?"),
            show(num(evidence, "offset"), 0),
            text(evidence, "direction").unwrap_or("?"),
            text(evidence, "reason").unwrap_or("no reason given"),
        )],
        "rsa_key_exchange" => vec![format!(
            "TLS {} negotiated cipher suite {}, whose key exchange is RSA: no forward secrecy, recorded traffic can be decrypted with the server's key.",
            text(evidence, "tls_version").unwrap_or("?"),
            text(evidence, "cipher_suite").unwrap_or("?"),
        )],
        "traffic_asymmetry" => vec![format!(
            "The client sent {} bytes and the server {}: a client/server ratio of {}, above the threshold {} (uploads, exfiltration).",
            show(num(evidence, "client_bytes"), 0),
            show(num(evidence, "server_bytes"), 0),
            show(num(evidence, "ratio"), 2),
            show(num(evidence, "threshold"), 2),
        )],
        "dns_encoded_payload" => {
            let mut out = vec![format!(
                "{}: DNS {} carried encoded ciphertext{}.",
                randomness(evidence),
                match (flag(evidence, "query_payload"), flag(evidence, "answer_payload")) {
                    (true, true) => "questions and answers",
                    (false, true) => "answers (TXT/NULL data)",
                    _ => "question names",
                },
                text(evidence, "zone").map_or(String::new(), |z| format!(", to the zone {z}")),
            )];
            out.extend(statistics(evidence));
            out
        }
        _ => Vec::new(),
    }
    .into_iter()
    .chain(destination(record))
    .collect()
}

/// "collision entropy 7.98 bits/byte over 905 bytes the client sent,
/// threshold 7.5: as random as ciphertext".
fn randomness(e: &Value) -> String {
    let encoding = text(e, "encoding").unwrap_or("raw");
    let meaning = if encoding == "raw" {
        "as random as ciphertext".to_owned()
    } else {
        format!("{encoding} text as random as that alphabet allows (encoded ciphertext)")
    };
    format!(
        "Collision entropy {} bits/byte over {} bytes the {} sent, threshold {}: {meaning}",
        show(num(e, "entropy"), 2),
        show(num(e, "bytes_inspected"), 0),
        text(e, "direction").unwrap_or("?"),
        show(num(e, "threshold"), 2),
    )
}

/// The supporting figures of a direction's statistics.
fn statistics(e: &Value) -> Vec<String> {
    let mut out = vec![format!(
        "{} equal byte pairs within 32-byte blocks where random data gives {}; \
         block Shannon entropy {} (random blocks: {}); {} of {} full blocks look uniform alone; \
         {}% printable; {} set bits per byte on average (random: 4.00).",
        show(num(e, "collisions"), 0),
        show(num(e, "collisions_expected"), 1),
        show(num(e, "block_shannon"), 2),
        show(num(e, "block_shannon_random"), 2),
        show(num(e, "uniform_blocks"), 0),
        show(num(e, "full_blocks"), 0),
        show(num(e, "printable_fraction").map(|f| f * 100.0), 0),
        show(num(e, "mean_popcount"), 2),
    )];
    match text(e, "format") {
        Some("openssl_salted") => out
            .push("The bytes start with Salted__ and an 8-byte salt: `openssl enc` output.".into()),
        Some("openpgp_symmetric") => out.push(
            "The bytes start with an OpenPGP symmetric-key packet: `gpg --symmetric` output."
                .into(),
        ),
        Some(f) => out.push(format!("The bytes start like {f} data.")),
        None => {}
    }
    if flag(e, "printable_cover") {
        out.push(
            "Only the non-printable bytes pass the test: ciphertext under printable cover.".into(),
        );
    }
    if let Some(carrier) = text(e, "carrier") {
        let message = match e.get("message") {
            Some(Value::String(m)) => format!(" (the body of a {m} request)"),
            Some(Value::Number(n)) => format!(" (the body of a {n} response)"),
            _ => String::new(),
        };
        out.push(format!(
            "The measured bytes were {carrier} content{message}, after its framing."
        ));
    }
    if let Some(b) = e.get("broke") {
        out.push(format!(
            "They came after {}'s framing broke ({}) at offset {}.",
            text(b, "protocol").unwrap_or("?"),
            text(b, "reason").unwrap_or("?"),
            show(num(b, "at"), 0),
        ));
    }
    out
}

/// Where a proxy was asked to connect, when the record says.
fn destination(record: &Value) -> Option<String> {
    let d = record.get("destination")?;
    Some(format!(
        "A proxy was asked to connect to {} port {}.",
        text(d, "host")?,
        show(num(d, "port"), 0)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn symmetric_only_says_the_test_the_values_and_the_meaning() {
        let e = json!({"direction": "client", "entropy": 7.981, "threshold": 7.5,
            "bytes_inspected": 905, "encoding": "raw", "collisions": 12,
            "collisions_expected": 12.4, "format": "openssl_salted"});
        let s = explain("symmetric_only", &e, &json!({})).join(" ");
        assert!(s.contains("Collision entropy 7.98 bits/byte over 905 bytes the client sent, threshold 7.50: as random as ciphertext; no key exchange"), "{s}");
        assert!(
            s.contains("12 equal byte pairs") && s.contains("openssl enc"),
            "{s}"
        );
    }

    #[test]
    fn every_alert_of_the_engine_has_sentences() {
        for a in encchan_core::Alert::ALL {
            assert!(
                !explain(a.name(), &json!({}), &json!({})).is_empty(),
                "{}",
                a.name()
            );
        }
    }
}
