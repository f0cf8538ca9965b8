//! Where ftbench keeps what outlives a run: installed interpreters (data) and caches.

use std::path::PathBuf;

fn home() -> PathBuf {
    std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from)
}

/// ftbench's data directory: `$FTBENCH_HOME`, else `$XDG_DATA_HOME/ftbench`, else
/// `~/.local/share/ftbench`. Installed interpreters live in `pythons/` below it.
pub fn data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("FTBENCH_HOME") {
        return PathBuf::from(dir);
    }
    std::env::var_os("XDG_DATA_HOME")
        .map_or_else(|| home().join(".local/share"), PathBuf::from)
        .join("ftbench")
}

/// Where `ftbench python install` puts interpreters.
pub fn pythons_dir() -> PathBuf {
    data_dir().join("pythons")
}

/// ftbench's cache directory: `$FTBENCH_CACHE_DIR`, else `$XDG_CACHE_HOME/ftbench`, else
/// `~/.cache/ftbench`. Interpreter queries, source tarballs, build logs and venvs live here.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("FTBENCH_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    std::env::var_os("XDG_CACHE_HOME")
        .map_or_else(|| home().join(".cache"), PathBuf::from)
        .join("ftbench")
}

/// The user's home directory, for discovery of pyenv, uv and conda installs.
pub fn home_dir() -> PathBuf {
    home()
}
