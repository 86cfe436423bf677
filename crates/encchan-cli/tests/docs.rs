//! The knob defaults every front end documents are the engine's knob table
//! (`encchan_core::knobs`): the README's `--config` block, the Suricata YAML
//! snippet's `encchan:` section, and Zeek's `EncChan::` options.
//!
//! The first two are generated from the table; `UPDATE_DOCS=1 cargo test -p
//! encchan-cli --test docs` rewrites them. Zeek's options are checked
//! (names, types and defaults), as Zeek's syntax holds more than the table.

use encchan_core::knobs::Kind;
use encchan_core::{Config, KNOBS};
use std::collections::BTreeSet;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn default_text(name: &str) -> String {
    let mut s = String::new();
    encchan_core::Knob::named(name)
        .unwrap()
        .write_value(&Config::default(), &mut s)
        .unwrap();
    s
}

/// Replaces the text between `start` (a line that stays) and the next line
/// equal to `end` in `file` by `body`, or checks that it is `body`.
fn generated_block(file: &str, start: &str, end: &str, body: &str) {
    let path = root().join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("{file}: no {start:?}"))
        + start.len();
    let to = from
        + text[from..]
            .find(end)
            .unwrap_or_else(|| panic!("{file}: no {end:?} after {start:?}"));
    let current = &text[from..to];
    if current == body {
        return;
    }
    if std::env::var_os("UPDATE_DOCS").is_some() {
        let updated = format!("{}{}{}", &text[..from], body, &text[to..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    panic!(
        "{file}: the knob defaults differ from the engine's table \
         (UPDATE_DOCS=1 cargo test -p encchan-cli --test docs rewrites them)\n--- now ---\n{current}\n--- table ---\n{body}"
    );
}

#[test]
fn readme_config_block_is_the_knob_table() {
    let mut body = String::new();
    Config::default().write_toml(&mut body).unwrap();
    generated_block(
        "README.md",
        "<!-- knobs: generated from the engine's knob table -->\n```toml\n",
        "```\n",
        &body,
    );
}

#[test]
fn suricata_yaml_section_is_the_knob_table() {
    // The section opens above the block, with the plugin's own `eve:`.
    let mut body = String::new();
    for k in KNOBS.iter() {
        let value = default_text(k.name);
        match k.kind {
            Kind::Ports(class) => {
                if !body.contains("  # ports:") {
                    body.push_str(
                        "  # Port profiles: each list replaces the engine's default for its kind\n\
                         \x20 # (the defaults below).\n  # ports:\n",
                    );
                }
                body.push_str(&format!("  #   # {}\n  #   {class}: [{value}]\n", k.help));
            }
            _ => {
                let line = format!("  {}: {value}", k.name.replace('_', "-"));
                body.push_str(&format!("{line:<34}# {}\n", k.help));
            }
        }
    }
    generated_block(
        "suricata-rules/suricata-encchan.yaml",
        "# The engine's knobs (all optional; the defaults are shown), from the\n\
         # engine's knob table (`encchan knobs --why` says why each default).\n",
        "# end of the knobs\n",
        &body,
    );
}

/// Zeek's `option NAME: TYPE = VALUE;` in the `EncChan` module, as text.
fn zeek_option(main: &str, name: &str) -> (String, String) {
    let needle = format!("option {name}:");
    let at = main
        .find(&needle)
        .unwrap_or_else(|| panic!("main.zeek has no option {name}"));
    let decl = &main[at + needle.len()..];
    let decl = &decl[..decl.find(';').unwrap()];
    let (ty, value) = decl.split_once('=').unwrap();
    (ty.trim().to_owned(), value.trim().to_owned())
}

fn numbers(s: &str) -> BTreeSet<u16> {
    s.split(|c: char| !c.is_ascii_digit())
        .filter(|t| !t.is_empty())
        .map(|t| t.parse().unwrap())
        .collect()
}

#[test]
fn zeek_options_are_the_knob_table() {
    let main = std::fs::read_to_string(root().join("zeek-scripts/main.zeek")).unwrap();
    for k in KNOBS.iter() {
        let want = default_text(k.name);
        let (ty, value) = zeek_option(&main, k.zeek);
        match k.kind {
            Kind::Number => {
                assert_eq!(ty, "double", "{}", k.zeek);
                assert_eq!(
                    value.parse::<f64>().unwrap(),
                    want.parse::<f64>().unwrap(),
                    "{}",
                    k.zeek
                );
            }
            Kind::Bytes => {
                assert_eq!(ty, "count", "{}", k.zeek);
                assert_eq!(value, want, "{}", k.zeek);
            }
            Kind::Seconds => {
                assert_eq!(ty, "interval", "{}", k.zeek);
                let secs: f64 = value.trim_end_matches("sec").trim().parse().unwrap();
                assert_eq!(secs, want.parse::<f64>().unwrap(), "{}", k.zeek);
            }
            Kind::Flag => {
                assert_eq!(ty, "bool", "{}", k.zeek);
                assert_eq!(value == "T", want == "true", "{}", k.zeek);
            }
            Kind::Ports(class) => {
                assert_eq!(ty, "table[string] of set[port]", "{}", k.zeek);
                let entry = format!("[\"{class}\"] = set(");
                let at = value
                    .find(&entry)
                    .unwrap_or_else(|| panic!("PortProfiles has no {class} entry"));
                let set = &value[at + entry.len()..];
                let set = &set[..set.find(')').unwrap()];
                // Zeek ports carry a transport; the engine judges numbers.
                let zeek: BTreeSet<u16> = set
                    .split(',')
                    .map(|p| p.trim().split('/').next().unwrap().parse().unwrap())
                    .collect();
                assert_eq!(zeek, numbers(&want), "PortProfiles[\"{class}\"]");
            }
        }
    }
}
