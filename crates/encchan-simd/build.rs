//! Turns on the x86-64 vector kernels (`cfg(encchan_simd_x86)`) when the
//! compiler has what they are written against: the AVX-512 intrinsics and
//! target features, and safe `#[target_feature]` functions, stable since
//! Rust 1.89. Older compilers (the workspace's MSRV is lower) build the
//! scalar kernel only.

use std::env;
use std::process::Command;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(encchan_simd_x86)");
    println!("cargo::rerun-if-changed=build.rs");
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let minor = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|v| {
            // "rustc 1.95.0 (59807616e 2026-04-14)"
            let mut parts = v.split_whitespace().nth(1)?.split('.');
            let major: u32 = parts.next()?.parse().ok()?;
            let minor: u32 = parts.next()?.parse().ok()?;
            (major == 1).then_some(minor)
        });
    let x86_64 = env::var("CARGO_CFG_TARGET_ARCH").is_ok_and(|a| a == "x86_64");
    if x86_64 && minor.is_some_and(|m| m >= 89) {
        println!("cargo::rustc-cfg=encchan_simd_x86");
    }
}
