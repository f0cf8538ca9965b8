//! Reading a results file in the seed study's own schema (`results-16c.json`: no
//! `schema_version`, `results.scaling_tests[test][version].scaling_data[{thread_count,
//! metrics}]`, `results.regular_tests[test][version].duration`), so `ftbench report` draws the
//! seed's numbers too.
//!
//! The seed kept one number per point and no samples: each becomes a point with one synthetic
//! sample of that throughput, so its intervals are points. The serial baseline is recovered
//! from the first point's throughput and speedup.

use serde_json::Value;

use super::{Point, PointSample, ResultsFile, Settings, TestInfo, VariantRecord};
use crate::interpreter::{GilMode, InterpreterInfo, InterpreterSource};
use crate::machine::sysinfo::SystemInfo;
use crate::stats::Summary;
use crate::workloads::{self, Group};

/// Work units of a synthetic sample: large, so that nanosecond rounding is negligible.
const UNITS: u64 = 1_000_000_000;

fn synthetic_point(
    test: &str,
    label: &str,
    thread_count: u32,
    value: f64,
    unit_scale: f64,
) -> Option<Point> {
    if !(value.is_finite() && value > 0.0) {
        return None;
    }
    let wall_ns = (UNITS as f64 * unit_scale / value * 1e9).round().max(1.0) as u64;
    Some(Point {
        test: test.to_string(),
        label: label.to_string(),
        thread_count,
        samples: vec![PointSample {
            process: 0,
            wall_ns,
            work_units: UNITS,
            gil_enabled: false,
            extra: None,
            load: None,
            disturbed: false,
            memory: None,
            unequal: false,
            cpu_slowdown: None,
            threads: Vec::new(),
        }],
        throughput: Summary::from_samples(&[value])?,
        gil_mismatches: 0,
    })
}

/// `test_parallel_compute_scaling` → `parallel_compute`.
fn our_name(seed_name: &str) -> String {
    let name = seed_name.strip_prefix("test_").unwrap_or(seed_name);
    name.strip_suffix("_scaling").unwrap_or(name).to_string()
}

fn unknown_system() -> SystemInfo {
    SystemInfo {
        machine: None,
        hostname: "unknown".into(),
        cpu_model: "unknown (seed-schema file)".into(),
        architecture: "unknown".into(),
        physical_cores: None,
        logical_cores: 0,
        available_parallelism: 0,
        memory_bytes: 0,
        os: "unknown".into(),
        kernel: "unknown".into(),
        cpu_governor: None,
        smt: None,
        numa_nodes: None,
        cgroup_cpu_limit: None,
        check: None,
    }
}

/// A JSON value as an error shows it: strings quoted, short.
fn shown(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(40) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text,
    }
}

/// One seed curve: its points, the serial baseline recovered from the first point's speedup.
fn add_scaling(
    file: &mut ResultsFile,
    seed_name: &str,
    label: &str,
    entry: &Value,
) -> Result<(), String> {
    let Some(data) = entry["scaling_data"].as_array() else {
        return Ok(());
    };
    let metric = data
        .iter()
        .filter_map(|p| p["metrics"].as_object())
        .flat_map(|m| m.keys())
        .find(|k| !matches!(k.as_str(), "speedup" | "efficiency"))
        .cloned()
        .unwrap_or_else(|| "throughput".to_string());
    let name = our_name(seed_name);
    let (test, unit_scale) = match workloads::find(&name) {
        Some(w) if w.metric == metric => (name, w.unit_scale),
        // The seed's ref_counting_local printed bandwidth numbers: keep its own name.
        _ => (seed_name.to_string(), 1.0),
    };
    if file.settings.test_info(&test).is_none() {
        file.settings.test_info.push(match workloads::find(&test) {
            Some(workload) => TestInfo::of(workload),
            // Not the registry's: the `_` arm above, one work unit per metric unit.
            None => TestInfo::external(&test, "seed", Group::Scaling, &metric),
        });
    }
    if !file.settings.tests.contains(&test) {
        file.settings.tests.push(test.clone());
    }
    let mut first = true;
    let mut seen = Vec::new();
    for (index, point) in data.iter().enumerate() {
        let field = || {
            format!(
                "results.scaling_tests.{}.{}.scaling_data[{index}].thread_count",
                crate::output::escape(seed_name),
                crate::output::escape(label)
            )
        };
        let threads = match point.get("thread_count") {
            None => return Err(format!("{}: missing", field())),
            Some(value) => value
                .as_u64()
                .filter(|n| (1..=u64::from(super::MAX_THREADS)).contains(n))
                .ok_or_else(|| {
                    format!(
                        "{}: expected an integer from 1 to {}, found {}",
                        field(),
                        super::MAX_THREADS,
                        shown(value)
                    )
                })? as u32,
        };
        if seen.contains(&threads) {
            return Err(format!("{}: {threads} appears twice", field()));
        }
        seen.push(threads);
        let Some(value) = point["metrics"][&metric].as_f64() else {
            continue;
        };
        if first {
            first = false;
            let speedup = point["metrics"]["speedup"]
                .as_f64()
                .filter(|s| *s > 0.0)
                .unwrap_or(1.0);
            if let Some(point) = synthetic_point(&test, label, 0, value / speedup, unit_scale) {
                file.add_point(point);
            }
        }
        if let Some(point) = synthetic_point(&test, label, threads, value, unit_scale) {
            file.add_point(point);
        }
    }
    Ok(())
}

/// Convert a seed-schema document; `Ok(None)` if it is not one, an error naming the field when
/// it is one with a bad value.
pub fn from_seed(value: &Value) -> Result<Option<ResultsFile>, String> {
    let Some(results) = value.get("results").and_then(Value::as_object) else {
        return Ok(None);
    };
    let scaling = results.get("scaling_tests").and_then(Value::as_object);
    let regular = results.get("regular_tests").and_then(Value::as_object);
    if scaling.is_none() && regular.is_none() {
        return Ok(None);
    }
    let mut file = ResultsFile::new(Settings::default(), Vec::new());
    file.system = unknown_system();
    file.command_line = vec!["(seed study)".to_string()];
    let mut labels: Vec<String> = Vec::new();
    let mut note_label = |label: &str| {
        if !labels.iter().any(|l| l == label) {
            labels.push(label.to_string());
        }
    };
    for (seed_name, per_version) in scaling.into_iter().flatten() {
        let Some(per_version) = per_version.as_object() else {
            continue;
        };
        for (label, entry) in per_version {
            note_label(label);
            add_scaling(&mut file, seed_name, label, entry)?;
        }
    }
    for (test, per_version) in regular.into_iter().flatten() {
        let Some(per_version) = per_version.as_object() else {
            continue;
        };
        for (label, entry) in per_version {
            note_label(label);
            let Some(duration) = entry["duration"].as_f64() else {
                continue;
            };
            file.add_imported(test, label, &[duration], true);
        }
    }
    for label in labels {
        let free_threaded = label.ends_with('t');
        file.variants.push(VariantRecord {
            label: label.clone(),
            path: std::path::PathBuf::new(),
            run_path: std::path::PathBuf::new(),
            source: InterpreterSource::Imported,
            gil_mode: GilMode::Default,
            expects_gil: !free_threaded,
            info: InterpreterInfo::imported(
                label.trim_end_matches('t'),
                "",
                "cpython",
                free_threaded,
            ),
        });
    }
    file.settings.baseline = file.variants.first().map(|v| v.label.clone());
    Ok(Some(file))
}
