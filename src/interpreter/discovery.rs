//! Find the Python interpreters on this machine: `PATH`, pyenv, uv, conda and ftbench's own
//! installs, deduplicated by resolved path and identity.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::spec::VersionRequest;
use super::{GilMode, Interpreter, InterpreterSource, Spec, SpecTarget, Variant, query};

/// A candidate that discovery skipped, and why (printed as a note, never fatal).
#[derive(Debug, Clone)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

/// Everything discovery found.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    pub interpreters: Vec<Interpreter>,
    pub skipped: Vec<Skipped>,
}

/// Why a spec did not resolve to an interpreter.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("no interpreter matches `{request}`; found: {found}")]
    NoMatch { request: String, found: String },
    #[error("`{request}` is ambiguous, it matches: {found}; pass a path instead")]
    Ambiguous { request: String, found: String },
    #[error("`{name}` was not found on PATH")]
    CommandNotFound { name: String },
    #[error(
        "`{raw}`: `{suffix}` needs a free-threaded build, but `{}` ({version}) is a GIL build",
        path.display()
    )]
    GilModeOnGilBuild {
        raw: String,
        suffix: &'static str,
        path: PathBuf,
        version: String,
    },
    #[error(transparent)]
    Query(#[from] query::Error),
}

/// Whether a file name is one discovery looks at: `python3`, `python3.N`, `python3.Nt`.
fn is_python_name(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("python3") else {
        return false;
    };
    if rest.is_empty() {
        return true;
    }
    let Some(minor) = rest.strip_prefix('.') else {
        return false;
    };
    let minor = minor.strip_suffix('t').unwrap_or(minor);
    !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit())
}

fn pythons_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs_err::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_str().is_some_and(is_python_name))
        .map(|entry| entry.path())
        .collect();
    // Most specific name first (`python3.13t` before `python3`), so it is the one kept.
    found.sort_by_key(|path| std::cmp::Reverse(path.as_os_str().len()));
    found
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs_err::read_dir(dir) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// Every candidate path with its source, most specific sources first.
fn candidates() -> Vec<(PathBuf, InterpreterSource)> {
    let home = crate::dirs::home_dir();
    let mut found = Vec::new();
    for dir in subdirs(&crate::dirs::pythons_dir()) {
        found.extend(
            pythons_in(&dir.join("bin"))
                .into_iter()
                .map(|p| (p, InterpreterSource::Ftbench)),
        );
    }
    let pyenv = std::env::var_os("PYENV_ROOT").map_or_else(|| home.join(".pyenv"), PathBuf::from);
    for dir in subdirs(&pyenv.join("versions")) {
        found.extend(
            pythons_in(&dir.join("bin"))
                .into_iter()
                .map(|p| (p, InterpreterSource::Pyenv)),
        );
    }
    let uv = std::env::var_os("UV_PYTHON_INSTALL_DIR")
        .map_or_else(|| home.join(".local/share/uv/python"), PathBuf::from);
    for dir in subdirs(&uv) {
        found.extend(
            pythons_in(&dir.join("bin"))
                .into_iter()
                .map(|p| (p, InterpreterSource::Uv)),
        );
    }
    let mut conda_envs: Vec<PathBuf> = std::env::var_os("CONDA_PREFIX")
        .map(PathBuf::from)
        .into_iter()
        .collect();
    for base in ["miniconda3", "anaconda3", "miniforge3"] {
        conda_envs.push(home.join(base));
        conda_envs.extend(subdirs(&home.join(base).join("envs")));
    }
    for env in conda_envs {
        found.extend(
            pythons_in(&env.join("bin"))
                .into_iter()
                .map(|p| (p, InterpreterSource::Conda)),
        );
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            // pyenv's shims are wrappers around what pyenv already lists.
            if dir.ends_with("shims") {
                continue;
            }
            found.extend(
                pythons_in(&dir)
                    .into_iter()
                    .map(|p| (p, InterpreterSource::Path)),
            );
        }
    }
    found
}

/// Find and query every interpreter on this machine.
pub fn discover() -> Discovery {
    let mut seen_paths = HashSet::new();
    let unique: Vec<(PathBuf, InterpreterSource)> = candidates()
        .into_iter()
        .filter(|(path, _)| {
            seen_paths.insert(fs_err::canonicalize(path).unwrap_or_else(|_| path.clone()))
        })
        .collect();
    // Queries start a process each; run them side by side.
    let answers: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = unique
            .iter()
            .map(|(path, _)| scope.spawn(move || query::query(path, GilMode::Default)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a query thread does not panic"))
            .collect()
    });
    let mut discovery = Discovery::default();
    let mut identities = HashSet::new();
    for ((path, source), answer) in unique.into_iter().zip(answers) {
        match answer {
            Ok(info) => {
                // One prefix holds one interpreter, however many names (links, copies) it has;
                // a venv has a prefix of its own.
                let identity = (
                    info.prefix.clone(),
                    info.version.clone(),
                    info.free_threaded,
                );
                if identities.insert(identity) {
                    discovery
                        .interpreters
                        .push(Interpreter { path, source, info });
                }
            }
            Err(err) => discovery.skipped.push(Skipped {
                path,
                reason: format!("{:#}", anyhow::Error::from(err)),
            }),
        }
    }
    discovery.interpreters.sort_by_key(|i| {
        (
            !i.info.free_threaded,
            std::cmp::Reverse(i.info.version_info),
        )
    });
    discovery
}

fn describe(interpreters: &[&Interpreter]) -> String {
    if interpreters.is_empty() {
        return "nothing".to_string();
    }
    interpreters
        .iter()
        .map(|i| format!("{} ({})", i.info.version_tag(), i.path.display()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Find `name` on `PATH`, as a shell would.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

impl Discovery {
    /// Turn a spec into a variant: find or query its interpreter, check its GIL mode, label it.
    pub fn resolve(&self, spec: &Spec) -> Result<Variant, ResolveError> {
        let interpreter = match &spec.target {
            SpecTarget::Path(path) => Interpreter {
                info: query::query(path, GilMode::Default)?,
                path: path.clone(),
                source: InterpreterSource::User,
            },
            SpecTarget::Command(name) => {
                let path = which(name)
                    .ok_or_else(|| ResolveError::CommandNotFound { name: name.clone() })?;
                Interpreter {
                    info: query::query(&path, GilMode::Default)?,
                    path,
                    source: InterpreterSource::User,
                }
            }
            SpecTarget::Version(request) => self.find_version(request)?.clone(),
        };
        if spec.gil != GilMode::Default && !interpreter.info.free_threaded {
            return Err(ResolveError::GilModeOnGilBuild {
                raw: spec.raw.clone(),
                suffix: spec.gil.suffix(),
                path: interpreter.path,
                version: interpreter.info.version,
            });
        }
        let label = spec
            .label
            .clone()
            .unwrap_or_else(|| Variant::default_label(&interpreter.info, spec.gil));
        Ok(Variant::new(label, interpreter, spec.gil))
    }

    /// The newest interpreter answering `request`; an error if none, or if two different
    /// interpreters share that newest version.
    pub fn find_version(&self, request: &VersionRequest) -> Result<&Interpreter, ResolveError> {
        let matching: Vec<&Interpreter> = self
            .interpreters
            .iter()
            .filter(|i| request.matches(i.info.version_info, i.info.free_threaded))
            .collect();
        let Some(newest) = matching.iter().map(|i| i.info.version_info).max() else {
            let all: Vec<&Interpreter> = self.interpreters.iter().collect();
            return Err(ResolveError::NoMatch {
                request: request.to_string(),
                found: describe(&all),
            });
        };
        let best: Vec<&Interpreter> = matching
            .into_iter()
            .filter(|i| i.info.version_info == newest)
            .collect();
        if best.len() > 1 {
            return Err(ResolveError::Ambiguous {
                request: request.to_string(),
                found: describe(&best),
            });
        }
        Ok(best[0])
    }

    /// What `ftbench run` measures without `--python`: every free-threaded build, the newest GIL
    /// build, and the newest free-threaded build with its GIL forced on.
    pub fn default_variants(&self) -> Vec<Variant> {
        let free_threaded = self.free_threaded();
        let mut variants = as_found(&free_threaded);
        if let Some(newest) = free_threaded.iter().max_by_key(|i| i.info.version_info) {
            variants.push(Variant::new(
                Variant::default_label(&newest.info, GilMode::ForceOn),
                (*newest).clone(),
                GilMode::ForceOn,
            ));
        }
        if let Some(gil) = self
            .interpreters
            .iter()
            .filter(|i| !i.info.free_threaded && i.info.implementation == "cpython")
            .max_by_key(|i| i.info.version_info)
        {
            variants.push(Variant::new(
                Variant::default_label(&gil.info, GilMode::Default),
                gil.clone(),
                GilMode::Default,
            ));
        }
        disambiguate_labels(&mut variants);
        variants
    }

    /// Every free-threaded CPython found, each as it is (GIL not forced), labels made unique:
    /// what `ftbench audit` looks at without `--python`.
    pub fn free_threaded_variants(&self) -> Vec<Variant> {
        let mut variants = as_found(&self.free_threaded());
        disambiguate_labels(&mut variants);
        variants
    }

    fn free_threaded(&self) -> Vec<&Interpreter> {
        self.interpreters
            .iter()
            .filter(|i| i.info.free_threaded && i.info.implementation == "cpython")
            .collect()
    }
}

/// Each interpreter as a variant with its GIL as built and its default label.
fn as_found(interpreters: &[&Interpreter]) -> Vec<Variant> {
    interpreters
        .iter()
        .map(|i| {
            Variant::new(
                Variant::default_label(&i.info, GilMode::Default),
                (*i).clone(),
                GilMode::Default,
            )
        })
        .collect()
}

/// Make default labels unique by appending the source where two builds share a version.
fn disambiguate_labels(variants: &mut [Variant]) {
    let mut counts = std::collections::HashMap::new();
    for variant in variants.iter() {
        *counts.entry(variant.label.clone()).or_insert(0) += 1;
    }
    for variant in variants.iter_mut() {
        if counts[&variant.label] > 1 {
            variant.label = format!("{}@{}", variant.label, variant.interpreter.source);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_python_name;

    #[test]
    fn python_names() {
        for name in ["python3", "python3.13", "python3.13t", "python3.9"] {
            assert!(is_python_name(name), "{name}");
        }
        for name in [
            "python",
            "python3-config",
            "python3.13-config",
            "python3.",
            "python3.t",
            "python2.7",
        ] {
            assert!(!is_python_name(name), "{name}");
        }
    }
}
