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
    parse(path, &text)
}

/// Validate a results file's bytes (`path` only names it in errors).
pub fn parse(path: &Path, text: &[u8]) -> Result<ResultsFile, Error> {
    let value: serde_json::Value = serde_json::from_slice(text).map_err(|err| Error::NotJson {
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
    // Temp files are created private (0600); a results file is for sharing (0644), and a file
    // being replaced keeps its own permissions, never fewer.
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs_err::metadata(path)
            .ok()
            .filter(std::fs::Metadata::is_file)
            .map_or(0o644, |meta| meta.permissions().mode() & 0o7777);
        temp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
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

/// Fuzzing the loader (issue: bad input never panics). Proptest drives it, so it runs in CI for
/// a bounded number of inputs (`FTBENCH_FUZZ_CASES`, default 2000); a long run is
/// `FTBENCH_FUZZ_CASES=1000000 cargo test --release fuzz`.
#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::results::{Point, PointSample, Settings};
    use crate::stats::Summary;
    use proptest::prelude::*;

    pub fn cases() -> u32 {
        std::env::var("FTBENCH_FUZZ_CASES")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(2000)
    }

    /// A small valid results file to mutate.
    fn valid() -> Vec<u8> {
        let mut file = ResultsFile::new(
            Settings {
                tests: vec!["parallel_compute".into(), "nbody".into()],
                threads: vec![1, 2],
                target_ns: 1,
                warmup: 1,
                samples: 2,
                processes: 1,
                ..Settings::default()
            },
            Vec::new(),
        );
        for (test, threads) in [
            ("parallel_compute", 0),
            ("parallel_compute", 2),
            ("nbody", 0),
        ] {
            file.points.push(Point {
                test: test.into(),
                label: "a".into(),
                thread_count: threads,
                samples: vec![
                    PointSample {
                        process: 0,
                        wall_ns: 1000,
                        work_units: 10,
                        gil_enabled: false,
                        extra: None,
                    },
                    PointSample {
                        process: 0,
                        wall_ns: 1200,
                        work_units: 10,
                        gil_enabled: true,
                        extra: None,
                    },
                ],
                throughput: Summary::from_samples(&[1.0, 2.0]).unwrap(),
                gil_mismatches: 1,
            });
        }
        file.derive_results();
        serde_json::to_vec(&file).unwrap()
    }

    /// Everything a loaded file goes through afterwards must not panic either.
    fn exercise(bytes: &[u8]) {
        if let Ok(mut file) = parse(Path::new("fuzz.json"), bytes) {
            file.derive_results();
            let _ = crate::report::table::render(&file);
            let _ = crate::report::csv::render(&file);
            let _ = crate::report::markdown::render(&file);
        }
    }

    fn mutation() -> impl Strategy<Value = Vec<u8>> {
        let base = valid();
        let len = base.len();
        prop_oneof![
            (0..len).prop_map({
                let b = base.clone();
                move |cut| b[..cut].to_vec()
            }),
            (0..len, any::<u8>()).prop_map({
                let b = base.clone();
                move |(at, byte)| {
                    let mut m = b.clone();
                    m[at] = byte;
                    m
                }
            }),
            (
                0..len,
                prop::sample::select(vec![
                    "-1",
                    "1e400",
                    "null",
                    "\"x\"",
                    "[]",
                    "{}",
                    "0",
                    "18446744073709551616",
                    "NaN",
                    ",",
                    "\\u0000"
                ])
            )
                .prop_map({
                    let b = base;
                    move |(at, token)| {
                        let mut m = b[..at].to_vec();
                        m.extend_from_slice(token.as_bytes());
                        m.extend_from_slice(&b[at..]);
                        m
                    }
                }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            exercise(&bytes);
        }

        #[test]
        fn mutated_results_never_panic(bytes in mutation()) {
            exercise(&bytes);
        }
    }

    #[test]
    fn the_valid_file_loads() {
        let file = parse(Path::new("ok.json"), &valid()).unwrap();
        assert_eq!(file.points.len(), 3);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_files_are_readable_by_others() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        write_atomically(&path, b"{}").unwrap();
        let mode = fs_err::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
        assert_eq!(fs_err::read(&path).unwrap(), b"{}");
        // A replaced file keeps the permissions it had, wider or narrower.
        for kept in [0o664, 0o600] {
            fs_err::set_permissions(&path, std::fs::Permissions::from_mode(kept)).unwrap();
            write_atomically(&path, b"[]").unwrap();
            let mode = fs_err::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, kept);
        }
    }
}
