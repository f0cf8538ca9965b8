//! `ftbench audit`: which distributions of an environment turn the GIL back on in a
//! free-threaded build.
//!
//! On a free-threaded CPython, creating one extension module that does not declare `Py_mod_gil`
//! turns the GIL on for the whole process, with one `RuntimeWarning`. The audit lists the
//! environment's distributions (`distributions.py`, run by the interpreter itself) and imports
//! each top-level module in a fresh process of its own (`imports.py`), with a deadline, its
//! working directory and `TMPDIR` in a temporary folder, its output capped in a log, and every
//! process it started ended when it ends ([`crate::process::run_logged`]). What the process wrote
//! before it ended says what happened: the GIL stayed off, an extension's creation turned it on
//! (named, even when a dependency's import did it), the import raised, the process crashed,
//! exited, or ran out of time. Imports run in parallel, one process each.

mod run;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use run::{Progress, Selection, Settings, audit_interpreter};

/// What the JSON of an audit says about its own shape.
pub const SCHEMA_VERSION: u32 = 1;

/// One distribution as `distributions.py` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distribution {
    pub name: String,
    pub version: String,
    /// Its `.dist-info` (or `.egg-info`) folder.
    pub path: String,
    /// The top-level modules to import (`top_level.txt`, else `RECORD`).
    pub modules: Vec<String>,
    /// The extension modules it ships, dotted.
    pub extensions: Vec<String>,
    /// The tags of its `WHEEL` file (`cp313-cp313t-manylinux_2_17_x86_64`); empty without one.
    pub tags: Vec<String>,
    pub installer: String,
}

impl Distribution {
    /// The wheel's ABI tags in short (`cp313t`, `abi3`, `none`), or `-` without a `WHEEL` file.
    pub fn abi(&self) -> String {
        let mut abis: Vec<&str> = Vec::new();
        for tag in &self.tags {
            let abi = tag.split('-').nth(1).unwrap_or(tag);
            for part in abi.split('.') {
                if !abis.contains(&part) {
                    abis.push(part);
                }
            }
        }
        if abis.is_empty() {
            "-".to_string()
        } else {
            abis.join(".")
        }
    }
}

/// Normalized distribution name (PEP 503): lower case, runs of `-`, `_`, `.` as one `-`.
pub fn normalized(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.trim().chars() {
        let c = if matches!(c, '-' | '_' | '.') {
            '-'
        } else {
            c.to_ascii_lowercase()
        };
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    out
}

/// How importing one module (or one distribution, the worst of its modules) ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// The GIL was on already when the process started (a `.pth` file or `sitecustomize`
    /// imported such an extension): nothing can be said of this module.
    OnAtStart,
    /// Creating an extension module turned the GIL on.
    GilOn {
        /// The extension module that turned it on (`?` when it went on without one being seen).
        by: String,
        /// The distribution that ships it, where known.
        by_distribution: Option<String>,
        /// Only an extension imported directly turned it on, not the top-level import.
        direct: bool,
    },
    /// The process was killed by a signal (a segfault).
    Crashed { signal: String, during: String },
    /// The import outlived its deadline; the process and its children were killed.
    TimedOut { seconds: f64, during: String },
    /// The process ended in the middle of the import (`os._exit`).
    Exited { code: i32, during: String },
    /// The import raised: the exception's last line.
    Failed { error: String },
    /// The GIL stayed off.
    GilOff,
    /// The distribution has no module to import (scripts, data, an editable install).
    NothingToImport,
    /// A distribution asked for that this environment does not have.
    NotInstalled,
}

impl Verdict {
    /// How much a verdict matters: a distribution shows its modules' worst.
    fn severity(&self) -> u8 {
        match self {
            Self::GilOn { .. } => 8,
            Self::OnAtStart => 7,
            Self::Crashed { .. } => 6,
            Self::TimedOut { .. } => 5,
            Self::Exited { .. } => 4,
            Self::Failed { .. } => 3,
            Self::NotInstalled => 2,
            Self::GilOff => 1,
            Self::NothingToImport => 0,
        }
    }

    /// The worst of `verdicts` (the first of equals), or `NothingToImport`.
    pub fn worst<'a>(verdicts: impl IntoIterator<Item = &'a Self>) -> Self {
        let mut worst: Option<&Self> = None;
        for verdict in verdicts {
            if worst.is_none_or(|w| verdict.severity() > w.severity()) {
                worst = Some(verdict);
            }
        }
        worst.cloned().unwrap_or(Self::NothingToImport)
    }

    pub fn turns_gil_on(&self) -> bool {
        matches!(self, Self::GilOn { .. })
    }

    /// A short word for tables: `GIL off`, `GIL ON`, `crashed`.
    pub fn word(&self) -> String {
        match self {
            Self::OnAtStart => "GIL on at start".to_string(),
            Self::GilOn { .. } => "GIL ON".to_string(),
            Self::Crashed { signal, .. } => format!("crashed ({signal})"),
            Self::TimedOut { seconds, .. } => format!("timed out ({seconds:.0} s)"),
            Self::Exited { code, .. } => format!("exited ({code})"),
            Self::Failed { .. } => "import failed".to_string(),
            Self::GilOff => "GIL off".to_string(),
            Self::NothingToImport => "nothing to import".to_string(),
            Self::NotInstalled => "not installed".to_string(),
        }
    }

    /// What explains the verdict: the culprit module, the error, where it died; empty if
    /// nothing.
    pub fn detail(&self) -> String {
        match self {
            Self::GilOn {
                by,
                by_distribution,
                direct,
            } => {
                let mut text = by.clone();
                if let Some(dist) = by_distribution {
                    text.push_str(", from ");
                    text.push_str(dist);
                }
                if *direct {
                    text.push_str(", imported directly");
                }
                text
            }
            Self::Crashed { during, .. }
            | Self::TimedOut { during, .. }
            | Self::Exited { during, .. } => format!("importing {during}"),
            Self::Failed { error } => error.clone(),
            Self::OnAtStart => "start-up turned it on: nothing to judge".to_string(),
            Self::GilOff | Self::NothingToImport | Self::NotInstalled => String::new(),
        }
    }
}

/// Whether one extension module declares that it runs without the GIL, as its import showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtensionCheck {
    pub module: String,
    /// `true`: the GIL stayed off when it was created; `false`: creating it turned the GIL on;
    /// absent: not created, or created with the GIL on already (nothing to read).
    pub declares: Option<bool>,
}

/// One top-level module's import.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModuleAudit {
    pub module: String,
    #[serde(flatten)]
    pub verdict: Verdict,
    /// The import's own time, where it finished.
    pub import_seconds: Option<f64>,
    /// The whole process, start-up included.
    pub wall_seconds: f64,
    /// The last lines the process printed, where it did not end well.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub output_tail: Option<String>,
}

/// One distribution's audit: its modules' verdicts and the worst of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DistributionAudit {
    pub name: String,
    pub version: String,
    /// The `WHEEL` file's tags (empty: no wheel).
    pub tags: Vec<String>,
    /// `cp313t`, `abi3`, `none`, or `-`.
    pub abi: String,
    #[serde(flatten)]
    pub verdict: Verdict,
    pub modules: Vec<ModuleAudit>,
    /// Its extension modules, each with what its import said.
    pub extensions: Vec<ExtensionCheck>,
}

/// One interpreter's environment, audited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InterpreterAudit {
    pub label: String,
    pub path: PathBuf,
    pub version: String,
    /// The GIL was on before `site` ran (`PYTHON_GIL` is removed: a GIL build would say so).
    pub gil_at_start: bool,
    /// The extension a `.pth` file or `sitecustomize` imported that turned the GIL on.
    pub started_by: Option<String>,
    /// Start-up itself (`site`) turned the GIL on.
    pub gil_after_site: bool,
    pub distributions: Vec<DistributionAudit>,
    pub wall_seconds: f64,
    /// How many imports ran at once.
    pub jobs: usize,
    pub timeout_seconds: f64,
}

impl InterpreterAudit {
    /// The distributions whose import turned the GIL on.
    pub fn turning_gil_on(&self) -> impl Iterator<Item = &DistributionAudit> {
        self.distributions
            .iter()
            .filter(|d| d.verdict.turns_gil_on())
    }
}

/// Every interpreter's audit, as `--json` writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Audit {
    pub schema_version: u32,
    pub interpreters: Vec<InterpreterAudit>,
}

impl Audit {
    pub fn turns_gil_on(&self) -> bool {
        self.interpreters
            .iter()
            .any(|i| i.turning_gil_on().next().is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalized_as_pep_503_says() {
        assert_eq!(normalized("MarkupSafe"), "markupsafe");
        assert_eq!(normalized("zope.interface"), "zope-interface");
        assert_eq!(normalized("Foo__Bar-._baz"), "foo-bar-baz");
    }

    #[test]
    fn the_worst_verdict_is_the_distributions() {
        let on = Verdict::GilOn {
            by: "a._b".into(),
            by_distribution: None,
            direct: false,
        };
        let failed = Verdict::Failed {
            error: "ImportError: x".into(),
        };
        assert_eq!(
            Verdict::worst([&Verdict::GilOff, &failed, &on, &Verdict::GilOff]),
            on
        );
        assert_eq!(Verdict::worst([&Verdict::GilOff, &failed]), failed);
        assert_eq!(Verdict::worst([]), Verdict::NothingToImport);
    }

    #[test]
    fn wheel_tags_shorten_to_their_abis() {
        let mut dist = Distribution {
            name: "numpy".into(),
            version: "2.4.1".into(),
            path: String::new(),
            modules: vec![],
            extensions: vec![],
            tags: vec![
                "cp313-cp313t-manylinux_2_17_x86_64".into(),
                "cp313-cp313t-manylinux2014_x86_64".into(),
            ],
            installer: "pip".into(),
        };
        assert_eq!(dist.abi(), "cp313t");
        dist.tags = vec!["py3-none-any".into()];
        assert_eq!(dist.abi(), "none");
        dist.tags.clear();
        assert_eq!(dist.abi(), "-");
    }
}
