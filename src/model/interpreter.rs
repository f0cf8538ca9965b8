//! What an interpreter said about itself, where it was found, and how a variant sets its GIL.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// How a variant sets the GIL of the interpreter it runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GilMode {
    /// Whatever the build does by default.
    #[default]
    Default,
    /// `+gil`: a free-threaded build with `PYTHON_GIL=1`.
    ForceOn,
    /// `+nogil`: a free-threaded build with `PYTHON_GIL=0` (even if an extension asks for it).
    ForceOff,
}

impl GilMode {
    /// The suffix a spec and a label carry for this mode.
    pub fn suffix(self) -> &'static str {
        match self {
            Self::Default => "",
            Self::ForceOn => "+gil",
            Self::ForceOff => "+nogil",
        }
    }

    /// The value of `PYTHON_GIL` (and `-X gil=`) for this mode, if it sets one.
    pub fn python_gil_value(self) -> Option<&'static str> {
        match self {
            Self::Default => None,
            Self::ForceOn => Some("1"),
            Self::ForceOff => Some("0"),
        }
    }
}

/// What an interpreter said about itself when ftbench ran `query.py` in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InterpreterInfo {
    /// `platform.python_version()`, e.g. `3.13.15`.
    pub version: String,
    /// Major, minor, micro.
    pub version_info: [u32; 3],
    pub release_level: String,
    /// `sys.implementation.name`, e.g. `cpython`.
    pub implementation: String,
    /// `sys.executable` as the interpreter reports it.
    pub executable: PathBuf,
    pub prefix: PathBuf,
    pub base_prefix: PathBuf,
    /// Built with `Py_GIL_DISABLED` (`--disable-gil`): a free-threaded build.
    pub free_threaded: bool,
    /// `sys._is_gil_enabled()` at start-up (always true before 3.13).
    pub gil_enabled: bool,
    /// A JIT is built in and available.
    pub jit: bool,
    pub compiler: String,
    /// Built with `--enable-optimizations`.
    pub pgo: bool,
    /// Built with `--with-lto`.
    pub lto: bool,
    pub config_args: String,
    pub debug_build: bool,
    pub architecture: String,
    pub platform: String,
    pub pointer_bits: u32,
    /// numpy's version, if installed for this interpreter.
    pub numpy: Option<String>,
    /// Where its packages live; their mtimes invalidate the query cache.
    #[serde(default)]
    pub site_packages: Vec<PathBuf>,
}

/// Where discovery found an interpreter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InterpreterSource {
    /// Given by the user as a path or command name.
    User,
    /// A `python3*` on `PATH`.
    Path,
    Pyenv,
    Uv,
    Conda,
    /// Built by `ftbench python install`.
    Ftbench,
    /// Read from another tool's results (`ftbench import pyperf`).
    Imported,
    /// Not an interpreter: ftbench's own Rust kernels (the native ceiling).
    Native,
}

impl std::fmt::Display for InterpreterSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::User => "user",
            Self::Path => "path",
            Self::Pyenv => "pyenv",
            Self::Uv => "uv",
            Self::Conda => "conda",
            Self::Ftbench => "ftbench",
            Self::Imported => "imported",
            Self::Native => "native",
        })
    }
}
