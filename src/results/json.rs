//! Reading results files. Writes are atomic (`files::write_atomically`: temp file in the same
//! directory, fsync, rename), so a crash or Ctrl-C at any moment leaves the previous complete
//! file.

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
    #[error("results file `{}` does not match schema version {SCHEMA_VERSION}: {err}", path.display())]
    Schema {
        path: PathBuf,
        /// `field.path: what was wrong`, from `serde_path_to_error`.
        err: String,
    },
    #[error("results file `{}` has `schema_version` {found}; it must be a whole number like {SCHEMA_VERSION}", path.display())]
    BadVersion { path: PathBuf, found: String },
    #[error("results file `{}` is not usable: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
}

/// The most points a results file may hold (a 16-core default run has ~1 000).
pub const MAX_POINTS: usize = 100_000;
/// The most samples one point may hold.
pub const MAX_SAMPLES: usize = 100_000;
/// The most labels (interpreters) a results file may hold.
pub const MAX_LABELS: usize = 256;
/// The most distinct tests a results file may hold.
pub const MAX_TESTS: usize = 10_000;

/// Every name a results file shows (labels, tests, the machine and host) within
/// [`super::MAX_NAME_CHARS`] and free of NUL bytes.
fn check_names(file: &ResultsFile) -> Result<(), String> {
    let names = file
        .variants
        .iter()
        .map(|v| ("label", v.label.as_str()))
        .chain(
            file.points()
                .iter()
                .flat_map(|p| [("label", p.label.as_str()), ("test", p.test.as_str())]),
        )
        .chain(file.settings.tests.iter().map(|t| ("test", t.as_str())))
        .chain(
            file.system
                .machine
                .iter()
                .map(|m| ("machine name", m.as_str())),
        )
        .chain(std::iter::once((
            "host name",
            file.system.hostname.as_str(),
        )));
    for (kind, name) in names {
        super::check_name(kind, name)?;
    }
    Ok(())
}

/// Load and validate a results file.
pub fn load(path: &Path) -> Result<ResultsFile, Error> {
    // The size is checked before a byte is read: a 3 GiB sparse file, `/dev/zero` or a FIFO is
    // refused at once instead of filling memory.
    let text = crate::files::read_bounded(path, MAX_FILE_BYTES).map_err(|err| match err {
        crate::files::ReadError::Io(err) => Error::Read {
            path: path.to_path_buf(),
            err,
        },
        refused => Error::Invalid {
            path: path.to_path_buf(),
            message: refused.to_string(),
        },
    })?;
    parse(path, &text)
}

/// The largest results file ftbench reads (a 16-core default run writes ~2 MiB).
pub const MAX_FILE_BYTES: u64 = 256 << 20;

/// Only the version of a results file: everything else is skipped without being kept.
#[derive(serde::Deserialize)]
struct VersionProbe {
    schema_version: Option<serde_json::Value>,
}

/// Validate a results file's bytes (`path` only names it in errors).
pub fn parse(path: &Path, text: &[u8]) -> Result<ResultsFile, Error> {
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(Error::Invalid {
            path: path.to_path_buf(),
            message: format!(
                "{} MiB, more than the {} MiB ftbench reads",
                text.len() >> 20,
                MAX_FILE_BYTES >> 20
            ),
        });
    }
    let not_json = |err| Error::NotJson {
        path: path.to_path_buf(),
        err,
    };
    // A first pass reads only the version, so a large file is never held as a JSON tree: the
    // second pass deserialises straight into the typed structs.
    let probe: VersionProbe = match serde_json::from_slice(text) {
        Ok(probe) => probe,
        Err(err) if err.is_data() => VersionProbe {
            schema_version: None,
        },
        Err(err) => return Err(not_json(err)),
    };
    let Some(version) = probe.schema_version else {
        // No version: the seed study's own results-16c.json, or not ours at all.
        let value: serde_json::Value = serde_json::from_slice(text).map_err(not_json)?;
        let file = super::seed::from_seed(&value)
            .map_err(|message| Error::Invalid {
                path: path.to_path_buf(),
                message,
            })?
            .ok_or_else(|| Error::NotResults {
                path: path.to_path_buf(),
            })?;
        return check(path, file);
    };
    // `"1"`, `1.0` or `-1` is a broken file, not a seed-schema one.
    let version = version.as_u64().ok_or_else(|| Error::BadVersion {
        path: path.to_path_buf(),
        found: version.to_string(),
    })?;
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
    let mut deserializer = serde_json::Deserializer::from_slice(text);
    let file: ResultsFile =
        serde_path_to_error::deserialize(&mut deserializer).map_err(|err| Error::Schema {
            path: path.to_path_buf(),
            err: format!("{}: {}", err.path(), err.inner()),
        })?;
    check(path, file)
}

/// What serde cannot check: limits, empty or zero-length samples, duplicate points, and stored
/// summaries that disagree with their samples (recomputed from the samples, which are the truth).
fn check(path: &Path, mut file: ResultsFile) -> Result<ResultsFile, Error> {
    // Every test's facts recorded first: the summaries below are checked in the file's units.
    file.record_test_info();
    let invalid = |message: String| Error::Invalid {
        path: path.to_path_buf(),
        message,
    };
    if file.points().len() > MAX_POINTS {
        return Err(invalid(format!(
            "{} points, more than the {MAX_POINTS} ftbench reads",
            file.points().len()
        )));
    }
    if file.variants.len() > MAX_LABELS {
        return Err(invalid(format!(
            "{} labels, more than the {MAX_LABELS} ftbench reads",
            file.variants.len()
        )));
    }
    check_names(&file).map_err(invalid)?;
    check_settings(&mut file.settings).map_err(invalid)?;
    let mut seen = std::collections::HashSet::with_capacity(file.points().len());
    let mut tests = std::collections::HashSet::new();
    // The points change in place below, each read in its file's own units.
    let settings = file.settings.clone();
    for (index, point) in file.points_mut().iter_mut().enumerate() {
        let at = || {
            format!(
                "points[{index}] ({} on {} at {})",
                crate::output::escape(&point.test),
                crate::output::escape(&point.label),
                crate::format::threads(point.thread_count)
            )
        };
        if point.samples.is_empty() {
            return Err(invalid(format!("{}: no samples", at())));
        }
        if point.samples.len() > MAX_SAMPLES {
            return Err(invalid(format!(
                "{}: {} samples, more than the {MAX_SAMPLES} ftbench reads",
                at(),
                point.samples.len()
            )));
        }
        if point.thread_count > super::MAX_FORCED_THREADS {
            return Err(invalid(format!(
                "{}: more than the {} threads ftbench runs",
                at(),
                super::MAX_FORCED_THREADS
            )));
        }
        if let Some(i) = point.samples.iter().position(|s| s.wall_ns == 0) {
            return Err(invalid(format!("{}: samples[{i}].wall_ns is 0", at())));
        }
        if !seen.insert((point.test.clone(), point.label.clone(), point.thread_count)) {
            return Err(invalid(format!(
                "{}: a second point with the same test, label and thread count",
                at()
            )));
        }
        tests.insert(point.test.clone());
        // The file's own units: a later ftbench that changed a test's scale must not rescale
        // an old file's points.
        let values = super::throughputs(point, settings.unit_scale_of(&point.test));
        if !summary_agrees(&point.throughput, &values) {
            point.throughput = crate::stats::Summary::from_samples(&values)
                .expect("a point with samples has a summary");
        }
    }
    if tests.len() > MAX_TESTS {
        return Err(invalid(format!(
            "{} tests, more than the {MAX_TESTS} ftbench reads",
            tests.len()
        )));
    }
    Ok(file)
}

/// Settings that cannot be: a test's scale that is not a positive number, a CPU named twice
/// (made distinct: a CPU list is a set), a pyperformance run whose mode, selection, manifest,
/// deadline or wall times no ftbench writes.
fn check_settings(settings: &mut super::Settings) -> Result<(), String> {
    for info in &settings.test_info {
        if !(info.unit_scale.is_finite() && info.unit_scale > 0.0) {
            return Err(format!(
                "the test `{}` has unit_scale {}; it must be a positive number",
                crate::output::escape(&info.name),
                info.unit_scale
            ));
        }
    }
    settings.cpus.sort_unstable();
    settings.cpus.dedup();
    if let Some(run) = &settings.pyperformance {
        run.check()?;
    }
    Ok(())
}

/// Whether a stored summary is the one its samples give: same count and median, an interval
/// around the median, all finite. Cheap (no bootstrap), so loading stays linear.
fn summary_agrees(summary: &crate::stats::Summary, values: &[f64]) -> bool {
    let median = crate::stats::median(values);
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs());
    summary.n == values.len()
        && close(summary.median, median)
        && [
            summary.ci_low,
            summary.ci_high,
            summary.mean,
            summary.stdev,
            summary.cv,
        ]
        .iter()
        .all(|v| v.is_finite())
        && summary.ci_low <= summary.median
        && summary.median <= summary.ci_high
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
            file.add_point(Point {
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
                        load: None,
                        disturbed: false,
                        memory: None,
                        unequal: false,
                        cpu_slowdown: None,
                        threads: Vec::new(),
                    },
                    PointSample {
                        process: 0,
                        wall_ns: 1200,
                        work_units: 10,
                        gil_enabled: true,
                        extra: None,
                        load: None,
                        disturbed: false,
                        memory: None,
                        unequal: false,
                        cpu_slowdown: None,
                        threads: Vec::new(),
                    },
                ],
                throughput: Summary::from_samples(&[1.0, 2.0]).unwrap(),
                gil_mismatches: 1,
            });
        }
        serde_json::to_vec(&file).unwrap()
    }

    /// Everything a loaded file goes through afterwards must not panic either.
    fn exercise(bytes: &[u8]) {
        if let Ok(file) = parse(Path::new("fuzz.json"), bytes) {
            let analysis = crate::analysis::Analysis::of(&file);
            let _ = crate::analysis::seed::section(&analysis);
            let model = crate::report::ReportModel::of(&analysis);
            let layout = crate::report::terminal::Layout {
                width: 100,
                wide: true,
            };
            let _ = crate::report::terminal::render(&model, layout);
            let _ = crate::report::csv::render(&analysis);
            let _ = crate::report::markdown::render(&model);
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
        assert_eq!(file.points().len(), 3);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A valid file as JSON, to break in one place.
    fn valid_value() -> serde_json::Value {
        let mut file = ResultsFile::new(crate::results::Settings::default(), Vec::new());
        file.settings.tests = vec!["parallel_compute".into()];
        for threads in [0, 2] {
            file.add_point(crate::results::Point {
                test: "parallel_compute".into(),
                label: "a".into(),
                thread_count: threads,
                samples: vec![crate::results::PointSample {
                    process: 0,
                    wall_ns: 1_000_000,
                    work_units: 10,
                    gil_enabled: false,
                    extra: None,
                    load: None,
                    disturbed: false,
                    memory: None,
                    unequal: false,
                    cpu_slowdown: None,
                    threads: Vec::new(),
                }],
                throughput: crate::stats::Summary::from_samples(&[10.0]).unwrap(),
                gil_mismatches: 0,
            });
        }
        serde_json::to_value(&file).unwrap()
    }

    fn error_of(value: &serde_json::Value) -> String {
        parse(Path::new("f.json"), &serde_json::to_vec(value).unwrap())
            .map(|_| ())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_version_that_is_not_a_whole_number_is_an_error_not_a_seed_file() {
        for bad in [
            serde_json::json!("1"),
            serde_json::json!(1.0),
            serde_json::json!(-1),
        ] {
            let mut value = valid_value();
            value["schema_version"] = bad.clone();
            let err = error_of(&value);
            assert!(err.contains("it must be a whole number"), "{bad}: {err}");
        }
    }

    /// A summary is recomputed in the units the file records for its test, not in the units
    /// this ftbench's registry gives it.
    #[test]
    fn summaries_are_checked_in_the_files_own_units() {
        let mut value = valid_value();
        value["settings"]["test_info"] = serde_json::json!([{
            "name": "parallel_compute",
            "module": "parallel_compute",
            "group": "scaling",
            "metric": "ops_per_sec",
            "unit_scale": 2.0,
        }]);
        // 10 units in 1 ms at 2 metric units each: 20 000 per second, not the registry's 10 000.
        value["points"][0]["throughput"]["median"] = 1.0.into();
        let file = parse(Path::new("f.json"), &serde_json::to_vec(&value).unwrap()).unwrap();
        assert!((file.points()[0].throughput.median - 20_000.0).abs() < 1e-6);
    }

    #[test]
    fn type_errors_name_the_field() {
        let mut value = valid_value();
        value["points"][1]["samples"][0]["wall_ns"] = "2".into();
        let err = error_of(&value);
        assert!(
            err.contains("points[1].samples[0].wall_ns: invalid type: string \"2\""),
            "{err}"
        );
    }

    #[test]
    fn points_that_cannot_be_numbers_are_errors() {
        let mut value = valid_value();
        value["points"][0]["samples"] = serde_json::json!([]);
        assert!(
            error_of(&value).contains("points[0] (parallel_compute on a at serial): no samples")
        );
        let mut value = valid_value();
        value["points"][1]["samples"][0]["wall_ns"] = 0.into();
        assert!(error_of(&value).contains("2 threads): samples[0].wall_ns is 0"));
        let mut value = valid_value();
        let copy = value["points"][1].clone();
        value["points"].as_array_mut().unwrap().push(copy);
        assert!(
            error_of(&value).contains("a second point with the same test, label and thread count")
        );
    }

    #[test]
    fn stored_summaries_that_disagree_with_the_samples_are_recomputed() {
        let mut value = valid_value();
        value["points"][1]["throughput"]["median"] = (-1e308).into();
        value["points"][1]["throughput"]["ci_low"] = (-1e308).into();
        let file = parse(Path::new("f.json"), &serde_json::to_vec(&value).unwrap()).unwrap();
        let throughput = &file.points()[1].throughput;
        assert!(
            (throughput.median - 10.0 / 1e-3).abs() < 1e-6,
            "{throughput:?}"
        );
        assert!(throughput.ci_low > 0.0);
    }

    #[test]
    fn absurd_files_are_refused_with_the_limit() {
        let mut file = ResultsFile::new(crate::results::Settings::default(), Vec::new());
        for i in 0..=MAX_LABELS {
            file.variants.push(crate::results::VariantRecord {
                label: format!("l{i}"),
                path: PathBuf::new(),
                run_path: PathBuf::new(),
                source: crate::interpreter::InterpreterSource::Imported,
                gil_mode: crate::interpreter::GilMode::Default,
                expects_gil: true,
                info: crate::interpreter::InterpreterInfo::imported("3.13.0", "", "cpython", false),
            });
        }
        let err = check(Path::new("f.json"), file).unwrap_err().to_string();
        assert!(err.contains("257 labels, more than the 256"), "{err}");
        let mut value = valid_value();
        let sample = value["points"][0]["samples"][0].clone();
        value["points"][0]["samples"] = serde_json::Value::Array(vec![sample; MAX_SAMPLES + 1]);
        assert!(error_of(&value).contains("more than the 100000 ftbench reads"));
        let big = vec![b' '; usize::try_from(MAX_FILE_BYTES).unwrap() + 1];
        let err = parse(Path::new("f.json"), &big).unwrap_err().to_string();
        assert!(err.contains("MiB ftbench reads"), "{err}");
    }

    #[test]
    fn numbers_and_settings_that_cannot_be_are_refused() {
        let parsed = |value: &serde_json::Value| {
            parse(Path::new("f.json"), &serde_json::to_vec(value).unwrap())
        };
        assert!(parsed(&valid_value()).is_ok());
        let mut value = valid_value();
        value["points"][1]["thread_count"] = serde_json::json!(4_294_967_295_u64);
        assert!(
            error_of(&value).contains("more than the 1048576 threads"),
            "{}",
            error_of(&value)
        );
        for scale in [0.0, -1.0] {
            let mut value = valid_value();
            value["settings"]["test_info"] = serde_json::json!([{
                "name": "parallel_compute", "module": "parallel_compute", "group": "scaling", "metric": "ops_per_sec",
                "unit_scale": scale
            }]);
            assert!(
                error_of(&value).contains("unit_scale"),
                "{}",
                error_of(&value)
            );
        }
        // A CPU named twice is one CPU.
        let mut value = valid_value();
        value["settings"]["cpus"] = serde_json::json!([1, 0, 1, 0, 1]);
        assert_eq!(parsed(&value).unwrap().settings.cpus, [0, 1]);
        // pyperformance settings no ftbench writes.
        let pyperformance = serde_json::json!({
            "version": "1.14.0", "mode": "fast", "selection": "nbody",
            "manifest": "/abs/MANIFEST", "wall_s": {"a": 12.5}
        });
        let mut value = valid_value();
        value["settings"]["pyperformance"] = pyperformance.clone();
        let file = parsed(&value).unwrap();
        assert_eq!(
            file.settings.pyperformance.unwrap().timeout_s,
            crate::results::PyperformanceSettings::DEFAULT_TIMEOUT_S
        );
        for (key, bad, said) in [
            ("mode", serde_json::json!("evil"), "unknown variant `evil`"),
            ("selection", serde_json::json!(""), "names no benchmark"),
            ("selection", serde_json::json!(",,,"), "names no benchmark"),
            (
                "manifest",
                serde_json::json!("MANIFEST"),
                "not an absolute path",
            ),
            ("wall_s", serde_json::json!({"a": 1e300}), "not a duration"),
            ("wall_s", serde_json::json!({"a": -1.0}), "not a duration"),
            ("timeout_s", serde_json::json!(0), "timeout_s of 0"),
        ] {
            let mut value = valid_value();
            value["settings"]["pyperformance"] = pyperformance.clone();
            value["settings"]["pyperformance"][key] = bad;
            assert!(
                error_of(&value).contains(said),
                "{key}: {}",
                error_of(&value)
            );
        }
    }

    #[test]
    fn the_derived_section_is_skipped_not_parsed() {
        let mut value = valid_value();
        value["results"] = serde_json::Value::Array(vec![serde_json::json!(0); 200_000]);
        let file = parse(Path::new("f.json"), &serde_json::to_vec(&value).unwrap()).unwrap();
        assert!(file.results.is_null());
        // Nor is a file that is not one read: a device that never ends, or a sparse giant.
        let err = load(Path::new("/dev/zero")).unwrap_err().to_string();
        assert!(err.contains("not a regular file"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let sparse = dir.path().join("big.json");
        fs_err::File::create(&sparse)
            .unwrap()
            .set_len(3 << 30)
            .unwrap();
        let start = std::time::Instant::now();
        let err = load(&sparse).unwrap_err().to_string();
        assert!(err.contains("MiB ftbench reads"), "{err}");
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn seed_thread_counts_are_checked() {
        let seed = |thread_count: serde_json::Value| {
            let mut point = serde_json::json!({"metrics": {"ops_per_sec": 5.0, "speedup": 1.0}});
            if !thread_count.is_null() {
                point["thread_count"] = thread_count;
            }
            serde_json::json!({"results": {"scaling_tests": {"x": {"y": {"scaling_data": [point]}}}}})
        };
        for (bad, expected) in [
            (
                serde_json::json!("2"),
                "scaling_data[0].thread_count: expected an integer from 1 to 4096, found \"2\"",
            ),
            (serde_json::json!(0), "found 0"),
            (serde_json::json!(5000), "found 5000"),
            (serde_json::json!(4_294_967_298_u64), "found 4294967298"),
            (
                serde_json::Value::Null,
                "scaling_data[0].thread_count: missing",
            ),
        ] {
            let err = error_of(&seed(bad.clone()));
            assert!(err.contains("results.scaling_tests.x.y."), "{bad}: {err}");
            assert!(err.contains(expected), "{bad}: {err}");
        }
        assert!(
            parse(
                Path::new("f.json"),
                &serde_json::to_vec(&seed(2.into())).unwrap()
            )
            .is_ok()
        );
    }
}
