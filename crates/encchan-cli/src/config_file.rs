//! `--config FILE`: the engine's knobs in TOML.
//!
//! ```toml
//! entropy_threshold = 7.5      # bits per byte
//! min_payload = 32             # bytes
//! inspect_budget = 4096        # bytes per direction
//! handshake_timeout = 10.0     # seconds
//! asymmetry_ratio = 10.0
//! volume_threshold = 1048576   # bytes
//! measure_known_protocols = false
//! [ports]
//! tls = [443, 8443]            # each list replaces that default set
//! ssh = [22]
//! plaintext = [80, 25]
//! ```

use encchan_core::{Config, PortSet};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    entropy_threshold: Option<f32>,
    min_payload: Option<u32>,
    inspect_budget: Option<u32>,
    handshake_timeout: Option<f64>,
    asymmetry_ratio: Option<f32>,
    volume_threshold: Option<u64>,
    measure_known_protocols: Option<bool>,
    ports: Option<Ports>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Ports {
    tls: Option<Vec<u16>>,
    ssh: Option<Vec<u16>>,
    plaintext: Option<Vec<u16>>,
}

/// Parses `text` over the defaults and validates the result.
pub fn parse(text: &str) -> Result<Config, String> {
    let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut cfg = Config::default();
    if let Some(v) = file.entropy_threshold {
        cfg.entropy_threshold = v;
    }
    if let Some(v) = file.min_payload {
        cfg.min_payload = v;
    }
    if let Some(v) = file.inspect_budget {
        cfg.inspect_budget = v;
    }
    if let Some(v) = file.handshake_timeout {
        if !(v.is_finite() && v >= 0.0) {
            return Err("handshake_timeout must be a non-negative number of seconds".into());
        }
        cfg.handshake_timeout_us = (v * 1e6) as u64;
    }
    if let Some(v) = file.asymmetry_ratio {
        cfg.asymmetry_ratio = v;
    }
    if let Some(v) = file.volume_threshold {
        cfg.volume_threshold = v;
    }
    if let Some(v) = file.measure_known_protocols {
        cfg.measure_known_protocols = v;
    }
    if let Some(p) = file.ports {
        if let Some(list) = p.tls {
            cfg.ports.tls = PortSet::of(&list);
        }
        if let Some(list) = p.ssh {
            cfg.ports.ssh = PortSet::of(&list);
        }
        if let Some(list) = p.plaintext {
            cfg.ports.plaintext = PortSet::of(&list);
        }
    }
    cfg.validate().map_err(|e| e.to_string())?;
    Ok(cfg)
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
            "[ports]\ntls = 443",
            "[ports]\nftp = [21]",
            "entropy_threshold = ",
            "\u{0}",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
