//! `--config FILE`: the engine's knobs in TOML, by the names of the engine's
//! knob table ([`encchan_core::knobs`]); `encchan knobs` prints them all
//! with their defaults.
//!
//! ```toml
//! entropy_threshold = 7.5      # bits per byte
//! inspect_budget = 4096        # bytes per direction
//! handshake_timeout = 10.0     # seconds
//! measure_known_protocols = false
//! [ports]
//! tls = [443, 8443]            # each list replaces that default set
//! ```

use encchan_core::Config;
use toml::Value;

/// A TOML value as the text the engine's knob setter takes.
fn knob_text(v: &Value) -> Option<String> {
    Some(match v {
        Value::Integer(n) => n.to_string(),
        Value::Float(x) => x.to_string(),
        Value::Boolean(b) => b.to_string(),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_integer().map(|n| n.to_string()))
            .collect::<Option<Vec<_>>>()?
            .join(","),
        _ => return None,
    })
}

/// Parses `text` over the defaults and validates the result.
pub fn parse(text: &str) -> Result<Config, String> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
    let mut cfg = Config::default();
    let mut set = |name: &str, v: &Value| -> Result<(), String> {
        let text = knob_text(v).ok_or_else(|| format!("{name}: not a number, boolean or list"))?;
        cfg.set_unchecked(name, &text)
            .map_err(|e| e.for_knob(name).to_string())
    };
    for (key, value) in &table {
        match (key.as_str(), value) {
            ("ports", Value::Table(ports)) => {
                for (class, list) in ports {
                    set(&format!("ports.{class}"), list)?;
                }
            }
            _ => set(key, value)?,
        }
    }
    cfg.validate().map_err(|e| e.to_string())?;
    Ok(cfg)
}

/// Every knob with its default, as a `--config` file.
pub fn defaults() -> String {
    let mut out = String::new();
    Config::default()
        .write_toml(&mut out)
        .expect("writing to a String");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_and_validates() {
        let cfg =
            parse("entropy_threshold = 7.2\nhandshake_timeout = 2.5\n[ports]\ntls = [4443]\n")
                .unwrap();
        assert_eq!(cfg.entropy_threshold, 7.2);
        assert_eq!(cfg.handshake_timeout_us, 2_500_000);
        assert!(cfg.ports.tls.contains(4443) && !cfg.ports.tls.contains(443));
        assert!(cfg.ports.ssh.contains(22));
        assert!(parse("entropy_threshold = 9")
            .unwrap_err()
            .contains("entropy_threshold"));
        assert!(parse("no_such_knob = 1").is_err());
        assert_eq!(parse("").unwrap(), Config::default());
        // Knobs that must fit together are checked together, in any order.
        assert!(parse("min_payload = 5000\ninspect_budget = 8192\n").is_ok());
    }

    #[test]
    fn the_defaults_file_reads_back_as_the_defaults() {
        assert_eq!(parse(&defaults()).unwrap(), Config::default());
    }

    #[test]
    fn every_knob_maps_onto_the_config() {
        let cfg = parse(
            "entropy_threshold = 7.0\nmin_payload = 64\ninspect_budget = 2048\n\
             handshake_timeout = 0.25\nasymmetry_ratio = 20.0\nvolume_threshold = 5000000\n\
             [ports]\ntls = []\nssh = [22, 2222]\nplaintext = [8080]\n",
        )
        .unwrap();
        assert_eq!(cfg.entropy_threshold, 7.0);
        assert_eq!(cfg.min_payload, 64);
        assert_eq!(cfg.inspect_budget, 2048);
        assert_eq!(cfg.handshake_timeout_us, 250_000);
        assert_eq!(cfg.asymmetry_ratio, 20.0);
        assert_eq!(cfg.volume_threshold, 5_000_000);
        assert!(
            !cfg.ports.tls.contains(443),
            "an empty list empties the set"
        );
        assert!(cfg.ports.ssh.contains(2222) && cfg.ports.ssh.contains(22));
        assert!(cfg.ports.plaintext.contains(8080) && !cfg.ports.plaintext.contains(80));
    }

    #[test]
    fn bad_files_are_errors_not_panics() {
        for bad in [
            "handshake_timeout = -1",
            "handshake_timeout = nan",
            "handshake_timeout = inf",
            "min_payload = -5",
            "min_payload = 1.5",
            "entropy_threshold = \"high\"",
            "[ports]\ntls = [70000]",
            "[ports]\ntls = 443x",
            "[ports]\nftp = [21]",
            "entropy_threshold = ",
            "\u{0}",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
