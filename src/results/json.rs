//! Reading and writing results files. Writes are atomic (temp file in the same directory, fsync,
//! rename), so a crash or Ctrl-C at any moment leaves the previous complete file.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{ResultsFile, SCHEMA_VERSION};

/// Why a results file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read results file `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        err: std::io::Error,
    },
    #[error("results file `{}` is not valid JSON (truncated or corrupt?)", path.display())]
    NotJson {
        path: PathBuf,
        #[source]
        err: serde_json::Error,
    },
    #[error("`{}` is not an ftbench results file (no `schema_version`, and not in the seed study's schema either)", path.display())]
    NotResults { path: PathBuf },
    #[error("results file `{}` has schema version {found}, written by a newer ftbench; this one reads version {SCHEMA_VERSION}", path.display())]
    FromTheFuture { path: PathBuf, found: u64 },
    #[error("results file `{}` has schema version {found}, which this ftbench (version {SCHEMA_VERSION}) cannot read", path.display())]
    OldSchema { path: PathBuf, found: u64 },
    #[error("results file `{}` does not match schema version {SCHEMA_VERSION}", path.display())]
    Schema {
        path: PathBuf,
        #[source]
        err: serde_json::Error,
    },
}

/// Load and validate a results file.
pub fn load(path: &Path) -> Result<ResultsFile, Error> {
    let text = fs_err::read(path).map_err(|err| Error::Read {
        path: path.to_path_buf(),
        err,
    })?;
    let value: serde_json::Value = serde_json::from_slice(&text).map_err(|err| Error::NotJson {
        path: path.to_path_buf(),
        err,
    })?;
    let Some(version) = value
        .get("schema_version")
        .and_then(serde_json::Value::as_u64)
    else {
        // No version: the seed study's own results-16c.json, or not ours at all.
        return super::seed::from_seed(&value).ok_or_else(|| Error::NotResults {
            path: path.to_path_buf(),
        });
    };
    if version > u64::from(SCHEMA_VERSION) {
        return Err(Error::FromTheFuture {
            path: path.to_path_buf(),
            found: version,
        });
    }
    if version < u64::from(SCHEMA_VERSION) {
        return Err(Error::OldSchema {
            path: path.to_path_buf(),
            found: version,
        });
    }
    serde_json::from_value(value).map_err(|err| Error::Schema {
        path: path.to_path_buf(),
        err,
    })
}

/// Replace `path` with `bytes` atomically: readers see the old file or the new one, never half.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".ftbench-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|err| {
            std::io::Error::new(
                err.kind(),
                format!("cannot create a file in `{}`: {err}", dir.display()),
            )
        })?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|err| {
        std::io::Error::new(
            err.error.kind(),
            format!("cannot replace `{}`: {}", path.display(), err.error),
        )
    })?;
    Ok(())
}

/// Derive the seed-schema section and write the whole file atomically.
pub fn write_results(path: &Path, results: &mut ResultsFile) -> std::io::Result<()> {
    results.updated = super::utc_now();
    results.derive_results();
    let bytes = serde_json::to_vec_pretty(results).map_err(std::io::Error::other)?;
    write_atomically(path, &bytes)
}
