//! What an install is and where its sources are kept: shared by every step of an install.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Written into an install's prefix once it is complete; an install without it is rebuilt.
pub(super) const MARKER: &str = "ftbench-install.json";

/// What ftbench records about an install it made.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InstallRecord {
    pub version: String,
    pub free_threaded: bool,
    pub tarball: String,
    pub configure_args: Vec<String>,
    /// Built with frame pointers (`--frame-pointers`).
    #[serde(default)]
    pub frame_pointers: bool,
    pub build_seconds: f64,
    pub python: PathBuf,
}

/// Options of one `ftbench python install` call.
#[derive(Debug, Clone, Default)]
pub struct InstallOptions {
    pub source: Option<PathBuf>,
    pub with: Vec<String>,
    /// A python.org-layout mirror (`MIRROR/3.14.2/Python-3.14.2.tar.xz`) to use instead of
    /// python.org and Debian.
    pub mirror: Option<String>,
    /// Build with frame pointers, into its own prefix (`cpython-X.Y.Z[t]-fp`).
    pub frame_pointers: bool,
    pub install_build_deps: bool,
    pub pgo: bool,
    pub force: bool,
}

pub(super) fn version_key(version: &str) -> Vec<u32> {
    version.split('.').filter_map(|p| p.parse().ok()).collect()
}

pub(super) fn version_array(version: &str) -> [u32; 3] {
    let parts = version_key(version);
    [
        parts.first().copied().unwrap_or(0),
        parts.get(1).copied().unwrap_or(0),
        parts.get(2).copied().unwrap_or(0),
    ]
}

/// `Python-3.13.15.tar.xz` → `3.13.15`.
pub(super) fn tarball_version(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let version = name.strip_prefix("Python-")?.strip_suffix(".tar.xz")?;
    (version.split('.').count() == 3 && version.split('.').all(is_version_number))
        .then(|| version.to_string())
}

/// One part of `X.Y.Z`: 1 to 4 ASCII digits (Rust's `u32` parser would take `+7`).
pub(super) fn is_version_number(part: &str) -> bool {
    (1..=4).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit())
}

/// Where downloaded source tarballs are kept.
pub(super) fn source_cache() -> PathBuf {
    crate::dirs::cache_dir().join("src")
}
