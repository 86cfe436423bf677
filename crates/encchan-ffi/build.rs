//! The shared library's SONAME is `libencchan.so.<ABI version>`: a host
//! linked against one ABI never loads a library of another (the packages in
//! scripts/build-debs.sh install it under that name). The version is read
//! from the one place it is defined, `ENCCHAN_ABI_VERSION` in src/lib.rs.

fn main() {
    println!("cargo:rerun-if-changed=src/lib.rs");
    let lib = std::fs::read_to_string("src/lib.rs").expect("src/lib.rs");
    let abi = lib
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("pub const ENCCHAN_ABI_VERSION: u32 = ")
        })
        .and_then(|rest| rest.trim_end_matches(';').trim().parse::<u32>().ok())
        .expect("src/lib.rs defines `pub const ENCCHAN_ABI_VERSION: u32 = N;`");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libencchan.so.{abi}");
    }
}
