//! Compiles tests/c/ffi_test.c with `-Wall -Wextra -Werror` against the
//! checked-in header, links it with the static library cargo built for this
//! test run, runs it, and (when valgrind is installed) runs it again under
//! valgrind's memcheck.

use std::path::PathBuf;
use std::process::Command;

fn target_deps_dir() -> PathBuf {
    // This test runs from target/<profile>/deps, where cargo also put
    // libencchan.a for this build.
    std::env::current_exe()
        .expect("test path")
        .parent()
        .expect("deps dir")
        .to_path_buf()
}

fn build_c_test() -> PathBuf {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let deps = target_deps_dir();
    let lib = deps.join("libencchan.a");
    assert!(
        lib.exists(),
        "static library not built at {}",
        lib.display()
    );
    let exe = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ffi_test");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let out = Command::new(&cc)
        .args([
            "-std=c11",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-pedantic",
            "-g",
            "-O1",
        ])
        .arg("-I")
        .arg(crate_dir.join("../../include"))
        .arg(crate_dir.join("tests/c/ffi_test.c"))
        .arg(&lib)
        .args(["-lpthread", "-ldl", "-lm", "-o"])
        .arg(&exe)
        .output()
        .expect("run the C compiler");
    assert!(
        out.status.success(),
        "C test failed to compile:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

#[test]
fn c_program_exercises_every_function() {
    let exe = build_c_test();
    let out = Command::new(&exe).output().expect("run the C test");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "C test failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("checks passed"), "{stdout}");

    if Command::new("valgrind").arg("--version").output().is_ok() {
        let out = Command::new("valgrind")
            .args([
                "--error-exitcode=99",
                "--leak-check=full",
                "--errors-for-leak-kinds=definite",
                "-q",
            ])
            .arg(&exe)
            .output()
            .expect("run valgrind");
        assert!(
            out.status.success(),
            "valgrind found errors:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    } else {
        eprintln!("SKIP valgrind run of the C test: valgrind is not installed");
    }
}
