//! Reading pyperf / pyperformance JSON results (format version 1.0) into regular tests.
//!
//! A file holds `benchmarks`, each with `runs` of `values` (seconds per loop; warm-ups are kept
//! apart and ignored); a benchmark's name is its own `metadata.name`, else the file's. Files
//! ending in `.gz` (what pyperformance writes for `-o X.json.gz`) are read through gzip.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Why a pyperf file cannot be imported.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read pyperf file `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        err: std::io::Error,
    },
    #[error("`{}` is not a pyperf JSON file{} (truncated or corrupt?)", path.display(), if path.extension().is_some_and(|e| e == "gz") { " inside gzip" } else { "" })]
    NotPyperf {
        path: PathBuf,
        #[source]
        err: serde_json::Error,
    },
    #[error("`{}` holds no benchmark with values", path.display())]
    Empty { path: PathBuf },
    #[error("`{}`: a benchmark has no name", path.display())]
    Unnamed { path: PathBuf },
    #[error("`{}`: {reason}", path.display())]
    BadName { path: PathBuf, reason: String },
    #[error("`{}` is not read: {what}", path.display())]
    TooLarge { path: PathBuf, what: String },
}

#[derive(Deserialize)]
struct File {
    benchmarks: Vec<Benchmark>,
    #[serde(default)]
    metadata: Metadata,
}

#[derive(Deserialize, Default)]
struct Metadata {
    name: Option<String>,
    python_version: Option<String>,
    python_executable: Option<String>,
    python_implementation: Option<String>,
    /// `./configure`'s arguments, quoted: `'--prefix=…' '--disable-gil'`.
    python_config_args: Option<String>,
    unit: Option<String>,
}

#[derive(Deserialize)]
struct Benchmark {
    runs: Vec<Run>,
    #[serde(default)]
    metadata: Metadata,
}

#[derive(Deserialize)]
struct Run {
    #[serde(default)]
    values: Vec<f64>,
}

/// One imported benchmark: its name and every value, in seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    pub name: String,
    pub seconds: Vec<f64>,
}

/// What a pyperf file says about the interpreter that produced it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Source {
    /// `3.12.1`, from `python_version` ("3.12.1 (64-bit) revision …").
    pub version: Option<String>,
    pub executable: Option<String>,
    pub implementation: Option<String>,
    /// `./configure`'s arguments (pyperf's `python_config_args`), when recorded: they tell a
    /// free-threaded build (`--disable-gil`), PGO and LTO.
    pub config_args: Option<String>,
}

impl Source {
    /// Whether the file says the interpreter was a free-threaded build; `None` when it does
    /// not record the build's configuration.
    pub fn free_threaded(&self) -> Option<bool> {
        self.config_args
            .as_deref()
            .map(|args| args.contains("--disable-gil"))
    }
}

/// A pyperf file's bytes, unpacked where it is gzipped; within ftbench's size limit either way
/// (a gzip bomb of 485 KB that unpacks to 531 MB stops at the limit, not at memory's end).
fn read_unpacked(path: &Path) -> Result<Vec<u8>, Error> {
    let read_error = |err| Error::Read {
        path: path.to_path_buf(),
        err,
    };
    let limit = super::json::MAX_FILE_BYTES;
    let too_large = |what: String| Error::TooLarge {
        path: path.to_path_buf(),
        what,
    };
    let mut text = crate::files::read_bounded(path, limit).map_err(|err| match err {
        crate::files::ReadError::Io(err) => read_error(err),
        refused => too_large(refused.to_string()),
    })?;
    if path.extension().is_some_and(|e| e == "gz") {
        use std::io::Read as _;
        let mut unpacked = Vec::new();
        flate2::read::GzDecoder::new(text.as_slice())
            .take(limit + 1)
            .read_to_end(&mut unpacked)
            .map_err(read_error)?;
        if unpacked.len() as u64 > limit {
            return Err(too_large(format!(
                "unpacks to more than the {} MiB ftbench reads",
                limit >> 20
            )));
        }
        text = unpacked;
    }
    Ok(text)
}

/// Read a pyperf file's benchmarks (those timed in seconds and with values).
pub fn read(path: &Path) -> Result<(Vec<Imported>, Source), Error> {
    let text = read_unpacked(path)?;
    let file: File = serde_json::from_slice(&text).map_err(|err| Error::NotPyperf {
        path: path.to_path_buf(),
        err,
    })?;
    // pyperformance records the build per benchmark, pyperf per file.
    let config_args = file.metadata.python_config_args.clone().or_else(|| {
        file.benchmarks
            .iter()
            .find_map(|b| b.metadata.python_config_args.clone())
    });
    let mut imported = Vec::new();
    for benchmark in file.benchmarks {
        let unit = benchmark
            .metadata
            .unit
            .as_deref()
            .or(file.metadata.unit.as_deref())
            .unwrap_or("second");
        if unit != "second" {
            continue;
        }
        let name = benchmark
            .metadata
            .name
            .clone()
            .or_else(|| file.metadata.name.clone())
            .ok_or_else(|| Error::Unnamed {
                path: path.to_path_buf(),
            })?;
        // Checked where it enters: a name ftbench would refuse on reading the results file back
        // must never be written into one.
        super::check_name("benchmark name", &name).map_err(|reason| Error::BadName {
            path: path.to_path_buf(),
            reason,
        })?;
        let seconds: Vec<f64> = benchmark
            .runs
            .iter()
            .flat_map(|r| r.values.iter().copied())
            .filter(|v| v.is_finite() && *v > 0.0)
            .collect();
        if !seconds.is_empty() {
            imported.push(Imported { name, seconds });
        }
    }
    if imported.is_empty() {
        return Err(Error::Empty {
            path: path.to_path_buf(),
        });
    }
    let source = Source {
        version: file
            .metadata
            .python_version
            .as_deref()
            .and_then(|v| v.split_whitespace().next())
            .map(str::to_string),
        executable: file.metadata.python_executable,
        implementation: file.metadata.python_implementation,
        config_args,
    };
    Ok((imported, source))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_no_results_file_could_hold_is_refused_where_it_enters() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        let file = |name: &str| {
            serde_json::json!({"benchmarks": [{
                "metadata": {"name": name, "unit": "second"},
                "runs": [{"values": [0.5, 0.6]}]
            }]})
            .to_string()
        };
        fs_err::write(&path, file("nbody")).unwrap();
        assert_eq!(read(&path).unwrap().0[0].name, "nbody");
        fs_err::write(&path, file(&"x".repeat(325))).unwrap();
        let err = read(&path).unwrap_err().to_string();
        assert!(err.contains("has 325 characters; the most is 256"), "{err}");
    }
}
