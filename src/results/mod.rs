//! The results file: every raw sample and setting of a run, plus a `results` section in the seed
//! study's schema (`results.scaling_tests[test][label].scaling_data[...]`), derived from the
//! samples each time the file is written.

mod json;
mod time;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

pub use json::{load, write_atomically, write_results};
pub use time::{utc_now, utc_stamp_for_file};

use crate::interpreter::{GilMode, InterpreterInfo, InterpreterSource};
use crate::runner::protocol::Scaling;
use crate::stats::{self, Summary};
use crate::sysinfo::SystemInfo;
use crate::workloads;

/// Bumped whenever a reader of the old schema would misread the new one.
pub const SCHEMA_VERSION: u32 = 1;

/// The settings a run used; `--resume` reuses them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub tests: Vec<String>,
    pub threads: Vec<u32>,
    /// Target duration of one serial sample, in nanoseconds.
    pub target_ns: u64,
    pub warmup: u32,
    pub samples: u32,
    pub processes: u32,
    pub scaling: Scaling,
    pub timeout_s: u64,
    pub quick: bool,
}

/// A measured variant, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantRecord {
    pub label: String,
    pub path: std::path::PathBuf,
    pub run_path: std::path::PathBuf,
    pub source: InterpreterSource,
    pub gil_mode: GilMode,
    /// Whether the GIL should be on while it runs.
    pub expects_gil: bool,
    pub info: InterpreterInfo,
}

/// The calibrated work size of one (test, label).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub test: String,
    pub label: String,
    pub work_size: u64,
    pub wall_ns: u64,
}

/// One timed sample of a point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointSample {
    /// Which worker process (0..processes) took it.
    pub process: u32,
    pub wall_ns: u64,
    pub work_units: u64,
    /// The GIL was enabled before or after the timed section.
    pub gil_enabled: bool,
}

/// A finished point: one (test, label, thread count), 0 threads being the serial baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub test: String,
    pub label: String,
    pub thread_count: u32,
    pub samples: Vec<PointSample>,
    /// Throughput in the test's metric units per second.
    pub throughput: Summary,
    /// Samples whose GIL state differed from what the variant expects.
    pub gil_mismatches: usize,
}

/// A point that did not produce numbers, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Missing {
    pub test: String,
    pub label: String,
    /// `None` when the whole (test, label) was given up (calibration failed, dependency missing).
    pub thread_count: Option<u32>,
    pub reason: String,
}

/// Everything one `ftbench run` produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultsFile {
    pub schema_version: u32,
    pub ftbench_version: String,
    pub created: String,
    pub updated: String,
    pub command_line: Vec<String>,
    pub system: SystemInfo,
    pub settings: Settings,
    pub variants: Vec<VariantRecord>,
    pub calibrations: Vec<Calibration>,
    pub points: Vec<Point>,
    pub skipped: Vec<Missing>,
    pub errors: Vec<Missing>,
    pub warnings: Vec<String>,
    /// What the harness itself cost while it ran (the last session, for a resumed file).
    #[serde(default)]
    pub harness: Option<HarnessCost>,
    /// Derived from `points` at every write; the seed study's schema.
    #[serde(default)]
    pub results: Value,
    /// Each derived series with the number of points it was derived from: points are only ever
    /// appended, so a series is recomputed (bootstraps and all) only when its curve grew.
    #[serde(skip)]
    pub derived: HashMap<(String, String), (usize, Value)>,
}

/// The harness's own footprint: how much CPU ftbench used while its workers measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HarnessCost {
    /// Wall time of the run, in seconds.
    pub wall_s: f64,
    /// User + system CPU time of the ftbench process itself (not its workers), in seconds.
    pub cpu_s: f64,
    /// `cpu_s / wall_s`: the share of one core the harness took (goal: <= 1%).
    pub cpu_share: f64,
}

/// A point's numbers as tables and the seed schema show them.
#[derive(Debug, Clone, PartialEq)]
pub struct PointMetrics {
    pub thread_count: u32,
    pub value: Summary,
    /// Throughput over the serial baseline's, with its 95% interval.
    pub speedup: Option<(f64, f64, f64)>,
    pub efficiency: Option<f64>,
    pub karp_flatt: Option<f64>,
    pub gil_mismatches: usize,
}

/// One label's curve for one test.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub serial: Option<Summary>,
    pub points: Vec<PointMetrics>,
    /// Max speedup over the speedup at the first thread count (the seed's "scaling factor").
    pub scaling_factor: Option<f64>,
}

fn throughputs(point: &Point, unit_scale: f64) -> Vec<f64> {
    point
        .samples
        .iter()
        .map(|s| s.work_units as f64 * unit_scale / (s.wall_ns.max(1) as f64 / 1e9))
        .collect()
}

impl ResultsFile {
    pub fn point(&self, test: &str, label: &str, thread_count: u32) -> Option<&Point> {
        self.points
            .iter()
            .find(|p| p.test == test && p.label == label && p.thread_count == thread_count)
    }

    pub fn calibration(&self, test: &str, label: &str) -> Option<&Calibration> {
        self.calibrations
            .iter()
            .find(|c| c.test == test && c.label == label)
    }

    /// Labels in the order the run measured them.
    pub fn labels(&self) -> Vec<String> {
        self.variants.iter().map(|v| v.label.clone()).collect()
    }

    /// Tests with at least one point, in suite order.
    pub fn tests(&self) -> Vec<String> {
        let mut tests: Vec<String> = Vec::new();
        for name in &self.settings.tests {
            if self.points.iter().any(|p| &p.test == name) {
                tests.push(name.clone());
            }
        }
        for point in &self.points {
            if !tests.contains(&point.test) {
                tests.push(point.test.clone());
            }
        }
        tests
    }

    /// The curve of `label` on `test`, from the raw samples.
    pub fn series(&self, test: &str, label: &str) -> Option<Series> {
        let unit_scale = workloads::find(test).map_or(1.0, |w| w.unit_scale);
        let serial_point = self.point(test, label, 0);
        let serial_values = serial_point.map(|p| throughputs(p, unit_scale));
        let mut points: Vec<&Point> = self
            .points
            .iter()
            .filter(|p| p.test == test && p.label == label && p.thread_count > 0)
            .collect();
        if points.is_empty() && serial_point.is_none() {
            return None;
        }
        points.sort_by_key(|p| p.thread_count);
        let metrics: Vec<PointMetrics> = points
            .iter()
            .map(|p| {
                let values = throughputs(p, unit_scale);
                let speedup = serial_values
                    .as_ref()
                    .filter(|s| !s.is_empty() && !values.is_empty())
                    .map(|serial| stats::ratio_ci(&values, serial));
                PointMetrics {
                    thread_count: p.thread_count,
                    value: p.throughput.clone(),
                    speedup,
                    efficiency: speedup.map(|(s, _, _)| s / f64::from(p.thread_count)),
                    karp_flatt: speedup.and_then(|(s, _, _)| stats::karp_flatt(s, p.thread_count)),
                    gil_mismatches: p.gil_mismatches,
                }
            })
            .collect();
        let first = metrics.first().and_then(|m| m.speedup).map(|s| s.0);
        let best = metrics
            .iter()
            .filter_map(|m| m.speedup.map(|s| s.0))
            .fold(None, |acc: Option<f64>, s| {
                Some(acc.map_or(s, |a| a.max(s)))
            });
        Some(Series {
            serial: serial_point.map(|p| p.throughput.clone()),
            points: metrics,
            scaling_factor: first.zip(best).map(|(f, b)| b / f),
        })
    }

    /// Rebuild the seed-schema `results` section from the points.
    pub fn derive_results(&mut self) {
        let mut groups: Vec<(&str, Map<String, Value>)> = Vec::new();
        for test in self.tests() {
            let workload = workloads::find(&test);
            let group = workload.map_or("scaling_tests", |w| w.group.key());
            let metric = workload.map_or("throughput", |w| w.metric);
            let mut per_label = Map::new();
            for label in self.labels() {
                let count = self
                    .points
                    .iter()
                    .filter(|p| p.test == test && p.label == label)
                    .count();
                let key = (test.clone(), label.clone());
                if let Some((cached, value)) = self.derived.get(&key)
                    && *cached == count
                {
                    per_label.insert(label, value.clone());
                    continue;
                }
                let Some(series) = self.series(&test, &label) else {
                    continue;
                };
                let value = series_json(&series, metric);
                self.derived.insert(key, (count, value.clone()));
                per_label.insert(label, value);
            }
            match groups.iter_mut().find(|(key, _)| *key == group) {
                Some((_, tests)) => {
                    tests.insert(test, Value::Object(per_label));
                }
                None => groups.push((group, Map::from_iter([(test, Value::Object(per_label))]))),
            }
        }
        self.results = Value::Object(
            groups
                .into_iter()
                .map(|(key, tests)| (key.to_string(), Value::Object(tests)))
                .collect(),
        );
    }
}

fn series_json(series: &Series, metric: &str) -> Value {
    let scaling_data: Vec<Value> = series
        .points
        .iter()
        .map(|p| {
            let mut metrics = Map::new();
            metrics.insert(metric.to_string(), json!(p.value.median));
            metrics.insert(format!("{metric}_ci_low"), json!(p.value.ci_low));
            metrics.insert(format!("{metric}_ci_high"), json!(p.value.ci_high));
            if let Some((speedup, low, high)) = p.speedup {
                metrics.insert("speedup".into(), json!(speedup));
                metrics.insert("speedup_ci_low".into(), json!(low));
                metrics.insert("speedup_ci_high".into(), json!(high));
            }
            if let Some(efficiency) = p.efficiency {
                metrics.insert("efficiency".into(), json!(efficiency));
            }
            metrics.insert("karp_flatt".into(), json!(p.karp_flatt));
            metrics.insert("cv".into(), json!(p.value.cv));
            metrics.insert("samples".into(), json!(p.value.n));
            json!({
                "thread_count": p.thread_count,
                "metrics": metrics,
                "gil_reenabled": p.gil_mismatches > 0,
            })
        })
        .collect();
    json!({
        "scaling_data": scaling_data,
        "serial": series.serial.as_ref().map(|s| json!({
            metric: s.median, "ci_low": s.ci_low, "ci_high": s.ci_high, "cv": s.cv,
        })),
        "scaling_factor": series.scaling_factor,
    })
}
