//! The CLI as people meet it: `--version`, the man page and completions
//! generated from the clap definition, and colour only on a terminal.

use clap::CommandFactory;
use encchan_cli::args::Cli;
use std::process::{Command, Output, Stdio};

fn encchan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_encchan"))
        .args(args)
        .output()
        .expect("run encchan")
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/sample.pcap");

#[test]
fn version_names_the_engine_abi() {
    let out = String::from_utf8(encchan(&["--version"]).stdout).unwrap();
    assert!(
        out.starts_with(&format!("encchan {}", env!("CARGO_PKG_VERSION"))),
        "{out}"
    );
    assert!(
        out.contains(&format!("engine ABI {}", encchan::ENCCHAN_ABI_VERSION)),
        "{out}"
    );
}

#[test]
fn man_page_mentions_every_subcommand() {
    let out = encchan(&["generate", "man"]);
    assert_eq!(out.status.code(), Some(0));
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(
        page.starts_with(".ie") || page.contains(".TH encchan"),
        "roff"
    );
    let visible: Vec<String> = Cli::command()
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .map(|c| c.get_name().to_owned())
        .collect();
    assert!(visible.len() >= 3, "{visible:?}");
    for name in visible {
        assert!(page.contains(&name), "the page mentions {name}");
    }
    // One page per subcommand with a directory.
    let dir = std::env::temp_dir().join(format!("encchan-man-{}", std::process::id()));
    assert_eq!(
        encchan(&["generate", "man", dir.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    assert!(dir.join("encchan-report.1").is_file() && dir.join("encchan.1").is_file());
    if have("man") {
        let rendered = Command::new("man")
            .arg("-l")
            .arg(dir.join("encchan.1"))
            .env("MANPAGER", "cat")
            .output()
            .unwrap();
        assert!(
            rendered.status.success()
                && String::from_utf8_lossy(&rendered.stdout).contains("analyze")
        );
    }
}

#[test]
fn completions_are_not_empty_and_parse() {
    for (shell, check) in [
        ("bash", ["bash", "-n"]),
        ("zsh", ["zsh", "-n"]),
        ("fish", ["fish", "-n"]),
    ] {
        let out = encchan(&["generate", "completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(
            script.contains("analyze") && script.contains("report"),
            "{shell}"
        );
        if !have(check[0]) {
            eprintln!("SKIP: {shell} is not installed; its completions were not parsed");
            continue;
        }
        let file = std::env::temp_dir().join(format!(
            "encchan-completions-{}.{shell}",
            std::process::id()
        ));
        std::fs::write(&file, &script).unwrap();
        let status = Command::new(check[0])
            .arg(check[1])
            .arg(&file)
            .status()
            .unwrap();
        assert!(status.success(), "{shell} -n rejects the completions");
    }
}

#[test]
fn table_colour_only_on_a_terminal() {
    let piped = encchan(&["analyze", "--format", "table", SAMPLE]);
    assert!(
        !piped.stdout.is_empty() && !piped.stdout.contains(&0x1b),
        "no escapes in a pipe"
    );
    if !have("script") {
        eprintln!("SKIP: script(1) is missing; the terminal case did not run");
        return;
    }
    // script(1) gives the command a pseudo-terminal as its stdout.
    let in_pty = |no_color: Option<&str>| {
        let cmd = format!(
            "{} analyze --format table {SAMPLE}",
            env!("CARGO_BIN_EXE_encchan")
        );
        let mut c = Command::new("script");
        c.args(["-qec", &cmd, "/dev/null"]).stdin(Stdio::null());
        match no_color {
            Some(v) => c.env("NO_COLOR", v),
            None => c.env_remove("NO_COLOR"),
        };
        c.output().unwrap().stdout
    };
    let coloured = String::from_utf8_lossy(&in_pty(None)).into_owned();
    assert!(coloured.contains("\x1b[1;31msymmetric_only"), "{coloured}");
    assert!(coloured.contains("\x1b[2m"), "clean flows dim");
    assert!(!in_pty(Some("1")).contains(&0x1b), "NO_COLOR is respected");
}
