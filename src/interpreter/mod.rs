//! Python interpreters: what they are ([`InterpreterInfo`]), where they come from
//! ([`InterpreterSource`]), how a user names one ([`Spec`]) and how ftbench runs one
//! ([`Variant`], a build plus a GIL mode).

mod discovery;
pub mod install;
mod query;
mod spec;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

pub use crate::model::interpreter::{InterpreterInfo, InterpreterSource};
pub use discovery::{Discovery, discover};
pub use query::query;
pub use spec::{GilMode, Spec, SpecTarget};

impl InterpreterInfo {
    /// Built with `-fno-omit-frame-pointer` (`ftbench python install --frame-pointers`):
    /// profilers can walk its stacks through frame pointers, Python trampolines included.
    pub fn has_frame_pointers(&self) -> bool {
        self.config_args.contains("-fno-omit-frame-pointer")
    }

    /// What is known of an interpreter from another tool's results: its version and path.
    pub fn imported(
        version: &str,
        executable: &str,
        implementation: &str,
        free_threaded: bool,
    ) -> Self {
        let mut parts = version.split('.').map(|p| {
            p.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .unwrap_or(0)
        });
        Self {
            version: version.to_string(),
            version_info: [
                parts.next().unwrap_or(0),
                parts.next().unwrap_or(0),
                parts.next().unwrap_or(0),
            ],
            release_level: "final".to_string(),
            implementation: implementation.to_lowercase(),
            executable: executable.into(),
            prefix: PathBuf::new(),
            base_prefix: PathBuf::new(),
            free_threaded,
            gil_enabled: !free_threaded,
            jit: false,
            compiler: String::new(),
            pgo: false,
            lto: false,
            config_args: String::new(),
            debug_build: false,
            architecture: String::new(),
            platform: String::new(),
            pointer_bits: 64,
            numpy: None,
            site_packages: Vec::new(),
        }
    }

    /// The version with a `t` for free-threaded builds: `3.13.15t`, the name users know.
    pub fn version_tag(&self) -> String {
        format!(
            "{}{}",
            self.version,
            if self.free_threaded { "t" } else { "" }
        )
    }

    /// The `major.minor` series, e.g. `3.13`.
    pub fn series(&self) -> String {
        format!("{}.{}", self.version_info[0], self.version_info[1])
    }
}

/// A Python executable that answered the query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interpreter {
    /// The path ftbench runs (as found or given, not resolved, so venvs keep working).
    pub path: PathBuf,
    pub source: InterpreterSource,
    pub info: InterpreterInfo,
}

/// One thing to measure: an interpreter, how its GIL is set, and the label results carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    pub label: String,
    pub interpreter: Interpreter,
    pub gil: GilMode,
    /// The executable that runs the workloads: the interpreter itself, or a venv made from it
    /// by `--install-deps`.
    pub run_path: PathBuf,
    /// A folder the workers put first on `sys.path` (`scale --base`: the code before a change).
    pub sys_path_first: Option<PathBuf>,
}

impl Variant {
    pub fn new(label: String, interpreter: Interpreter, gil: GilMode) -> Self {
        let run_path = interpreter.path.clone();
        Self {
            label,
            interpreter,
            gil,
            run_path,
            sys_path_first: None,
        }
    }

    /// The default label: `3.13.15t`, `3.13.15t+gil`, `3.12.7`.
    pub fn default_label(info: &InterpreterInfo, gil: GilMode) -> String {
        format!("{}{}", info.version_tag(), gil.suffix())
    }

    /// Whether the GIL should be on while this variant runs, from its build and mode.
    pub fn expects_gil(&self) -> bool {
        match self.gil {
            GilMode::Default => !self.interpreter.info.free_threaded,
            GilMode::ForceOn => true,
            GilMode::ForceOff => false,
        }
    }

    /// A command that runs `script` in this variant, isolated (`-I -B`), with its GIL mode set.
    pub fn command(&self, script: &Path) -> Command {
        let mut command = python_command(&self.run_path, self.gil);
        command.arg(script);
        if let Some(first) = &self.sys_path_first {
            command.env(SYS_PATH_FIRST, first);
        }
        command
    }
}

/// The variable that tells a worker which folder goes first on `sys.path` (read by `user.py`).
pub const SYS_PATH_FIRST: &str = "FTBENCH_SYS_PATH_FIRST";

/// The variant that stands for ftbench's native kernels: no interpreter and no GIL.
pub fn native_variant() -> Variant {
    let label = crate::workloads::native::LABEL;
    let mut info = InterpreterInfo::imported(label, "ftbench", "native", true);
    // There is no interpreter: "free-threaded" here only says that no GIL is ever taken.
    info.version = label.to_string();
    let interpreter = Interpreter {
        path: PathBuf::from("(ftbench itself)"),
        source: InterpreterSource::Native,
        info,
    };
    Variant::new(label.to_string(), interpreter, GilMode::Default)
}

/// `python -I -B` with the GIL mode applied. `-I` ignores `PYTHON*` variables, so the mode is
/// passed as `-X gil=N` too; `PYTHON_GIL` is still set for child processes that drop `-I`.
pub fn python_command(python: &Path, gil: GilMode) -> Command {
    let mut command = Command::new(python);
    crate::secrets::keep_secrets(&mut command);
    command.env_remove("PYTHON_GIL");
    if let Some(value) = gil.python_gil_value() {
        command.arg("-X").arg(format!("gil={value}"));
        command.env("PYTHON_GIL", value);
    }
    command.arg("-I").arg("-B");
    command
}
