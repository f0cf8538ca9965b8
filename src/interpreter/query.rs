//! Ask an interpreter what it is, by running the embedded `query.py` in it.
//!
//! Model: uv-python's `InterpreterInfo::query`. Answers are cached by path + mtime + size, since
//! a query costs a process start (~20-50 ms) and discovery makes many.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::{GilMode, InterpreterInfo};

const QUERY_PY: &str = include_str!("query.py");

/// How long an interpreter may take to describe itself before it counts as hung;
/// `FTBENCH_QUERY_TIMEOUT` (seconds) overrides it.
pub const QUERY_DEADLINE: Duration = Duration::from_secs(15);

fn query_deadline() -> Duration {
    std::env::var("FTBENCH_QUERY_TIMEOUT")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| *s > 0.0)
        .map_or(QUERY_DEADLINE, Duration::from_secs_f64)
}

/// Why an executable could not be used as a Python interpreter.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Python interpreter `{}` does not exist", path.display())]
    NotFound { path: PathBuf },
    #[error("`{}` is not an executable file", path.display())]
    NotExecutable { path: PathBuf },
    #[error("Failed to start `{}`", path.display())]
    SpawnFailed {
        path: PathBuf,
        #[source]
        err: std::io::Error,
    },
    #[error("`{}` did not answer within {} s (does it hang at start-up?)", path.display(), deadline.as_secs())]
    TimedOut { path: PathBuf, deadline: Duration },
    #[error("`{}` is not a working Python interpreter: it exited with {status}{}", path.display(), stderr_tail(stderr))]
    StatusCode {
        path: PathBuf,
        status: String,
        stderr: String,
    },
    #[error("`{}` is not a Python interpreter ftbench understands: it answered {:?}", path.display(), truncate(stdout, 200))]
    UnexpectedResponse {
        path: PathBuf,
        stdout: String,
        #[source]
        err: serde_json::Error,
    },
    #[error("`{}` cannot be used", path.display())]
    Unsupported {
        path: PathBuf,
        #[source]
        err: QueryError,
    },
}

/// A known refusal from `query.py`.
#[derive(Debug, Clone, thiserror::Error, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum QueryError {
    #[error("{message}")]
    UnsupportedVersion { message: String },
}

#[derive(Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
enum QueryResponse {
    Success(Box<InterpreterInfo>),
    Error(QueryError),
}

fn stderr_tail(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.trim_end().lines().collect();
    if lines.is_empty() {
        return String::new();
    }
    let tail = &lines[lines.len().saturating_sub(5)..];
    format!("; its stderr ends with:\n  {}", tail.join("\n  "))
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((index, _)) => format!("{}…", &text[..index]),
        None => text.to_string(),
    }
}

#[derive(Serialize, Deserialize)]
struct CacheEntry {
    path: PathBuf,
    mtime_ns: u128,
    size: u64,
    /// Each site-packages directory's mtime: installing a package changes it.
    packages_mtime_ns: Vec<u128>,
    info: InterpreterInfo,
}

fn packages_stamp(info: &InterpreterInfo) -> Vec<u128> {
    info.site_packages
        .iter()
        .map(|dir| stamp(dir).map_or(0, |(mtime, _)| mtime))
        .collect()
}

fn cache_file(path: &Path) -> PathBuf {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    path.hash(&mut hasher);
    crate::dirs::cache_dir()
        .join("interpreters")
        .join(format!("{:016x}.json", hasher.finish()))
}

fn stamp(path: &Path) -> Option<(u128, u64)> {
    let meta = fs_err::metadata(path).ok()?;
    let mtime = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
    Some((mtime.as_nanos(), meta.len()))
}

/// Describe the interpreter at `path` running with `gil`, from the cache when its file is
/// unchanged.
pub fn query(path: &Path, gil: GilMode) -> Result<InterpreterInfo, Error> {
    query_with_deadline(path, gil, query_deadline())
}

pub fn query_with_deadline(
    path: &Path,
    gil: GilMode,
    deadline: Duration,
) -> Result<InterpreterInfo, Error> {
    check_executable(path)?;
    let canonical = fs_err::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let stamp = stamp(&canonical);
    let cacheable = gil == GilMode::Default;
    if cacheable && let Some((mtime_ns, size)) = stamp {
        let file = cache_file(path);
        if let Ok(text) = fs_err::read_to_string(&file)
            && let Ok(entry) = serde_json::from_str::<CacheEntry>(&text)
            && entry.path == path
            && entry.mtime_ns == mtime_ns
            && entry.size == size
            && entry.packages_mtime_ns == packages_stamp(&entry.info)
        {
            return Ok(entry.info);
        }
    }
    let info = query_uncached(path, gil, deadline)?;
    // Only a real binary is cached: a wrapper script (a pyenv shim) keeps its mtime while the
    // interpreter behind it changes.
    let is_binary = fs_err::canonicalize(&info.executable).is_ok_and(|exe| exe == canonical);
    if cacheable
        && is_binary
        && let Some((mtime_ns, size)) = stamp
    {
        let entry = CacheEntry {
            path: path.to_path_buf(),
            mtime_ns,
            size,
            packages_mtime_ns: packages_stamp(&info),
            info: info.clone(),
        };
        let file = cache_file(path);
        // The cache is an optimisation: failing to write it must not fail the query.
        if let Some(parent) = file.parent()
            && fs_err::create_dir_all(parent).is_ok()
            && let Ok(json) = serde_json::to_vec(&entry)
        {
            let _ = crate::files::write_atomically(&file, &json);
        }
    }
    Ok(info)
}

fn check_executable(path: &Path) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|_| Error::NotFound {
        path: path.to_path_buf(),
    })?;
    if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 {
        return Err(Error::NotExecutable {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

fn query_uncached(path: &Path, gil: GilMode, deadline: Duration) -> Result<InterpreterInfo, Error> {
    // The script goes in as `-c` rather than a temp file: nothing to clean up, and `-E -s`
    // instead of `-I` lets Python 2 reach the script and be refused by name.
    let mut command = Command::new(path);
    crate::secrets::keep_secrets(&mut command);
    command.env_remove("PYTHON_GIL");
    if let Some(value) = gil.python_gil_value() {
        command.arg("-X").arg(format!("gil={value}"));
    }
    command.args(["-E", "-s", "-B", "-c", QUERY_PY]);
    let finished = crate::process::run_with_deadline(command, b"", deadline).map_err(|err| {
        Error::SpawnFailed {
            path: path.to_path_buf(),
            err,
        }
    })?;
    if finished.timed_out {
        return Err(Error::TimedOut {
            path: path.to_path_buf(),
            deadline,
        });
    }
    let status = finished.status.expect("a finished process has a status");
    if !status.success() {
        return Err(Error::StatusCode {
            path: path.to_path_buf(),
            status: status.to_string(),
            stderr: finished.stderr,
        });
    }
    let line = finished.stdout.trim();
    match serde_json::from_str::<QueryResponse>(line) {
        Ok(QueryResponse::Success(info)) => Ok(*info),
        Ok(QueryResponse::Error(err)) => Err(Error::Unsupported {
            path: path.to_path_buf(),
            err,
        }),
        Err(err) => Err(Error::UnexpectedResponse {
            path: path.to_path_buf(),
            stdout: finished.stdout,
            err,
        }),
    }
}
