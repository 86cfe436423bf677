//! Generates Rust bindings from the checked-in C header with bindgen (needs
//! libclang: Debian's libclang-dev).

use std::path::PathBuf;

fn main() {
    let header = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../include/encchan.h");
    println!("cargo:rerun-if-changed={}", header.display());
    let bindings = bindgen::Builder::default()
        .header(header.to_string_lossy())
        .allowlist_function("encchan_.*")
        .allowlist_type("Encchan.*")
        .allowlist_var("ENCCHAN_.*")
        .generate()
        .expect("bindgen parses include/encchan.h");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("bindings.rs");
    bindings.write_to_file(out).expect("write bindings");
}
