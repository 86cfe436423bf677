//! Shared by the integration tests: where the real captures are.

use std::path::{Path, PathBuf};

/// `../shared/captures` beside the repository, or `None` (with one loud
/// SKIP line naming `what`) when it is absent. In CI (`ENCCHAN_CI` set) its
/// absence is a failure.
pub fn shared(what: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/captures");
    if p.is_dir() {
        return Some(p);
    }
    assert!(
        std::env::var_os("ENCCHAN_CI").is_none(),
        "../shared/captures is missing in CI"
    );
    eprintln!("SKIP: ../shared/captures is absent; {what} did not run");
    None
}
