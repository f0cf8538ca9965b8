//! The seed study's `results` section, serialised from the analysis at every write: the
//! schema `results-16c.json` used (`results.scaling_tests[test][label].scaling_data[...]`), so
//! the seed's own pandas code reads ftbench's files. Nothing here computes a statistic. The
//! section is typed ([`Section`] and what it holds); its field order is the file's key order.

use std::path::Path;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::{Analysis, Derived, RegularEntry, Series, ThreadEntry, pep_779};
use crate::results::{self, Point, ResultsFile};
use crate::stats::Estimate;
use crate::workloads::Group;

/// Bring `derived` up to date with `file`, serialise the seed section from it and write the
/// whole file atomically.
pub fn write(path: &Path, file: &mut ResultsFile, derived: &mut Derived) -> std::io::Result<()> {
    file.updated = results::utc_now();
    derived.update(file);
    let section = section(&Analysis::with(file, derived));
    file.results = serde_json::to_value(section).map_err(std::io::Error::other)?;
    let bytes = serde_json::to_vec_pretty(file).map_err(std::io::Error::other)?;
    results::write_atomically(path, &bytes)
}

/// Entries under names found at run time (tests, labels, metrics), in the order found,
/// serialised as a JSON object.
#[derive(Debug)]
pub struct Keyed<T>(pub Vec<(String, T)>);

impl<T> Default for Keyed<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T: Serialize> Serialize for Keyed<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// The seed-schema section: per group (`scaling_tests`, `regular_tests`, ...), per test, per
/// label, its entry; then the regular suite's summary.
#[derive(Debug, Serialize)]
pub struct Section {
    #[serde(flatten)]
    pub groups: Keyed<Keyed<Keyed<Entry>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regular_summary: Option<SuiteSummary>,
}

/// One (test, label): a single-run test's entry, a thread test's, or a scaling curve.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Entry {
    Regular(RegularJson),
    Threads(ThreadJson),
    Curve(CurveJson),
}

/// A regular (or pyperformance) test on one label.
#[derive(Debug, Serialize)]
pub struct RegularJson {
    duration: f64,
    duration_ci_low: f64,
    duration_ci_high: f64,
    cv: f64,
    samples: usize,
    #[serde(flatten, with = "interval_named::speedup")]
    speedup: Option<Estimate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_rss_mb: Option<f64>,
    #[serde(flatten, with = "interval_named::memory_ratio")]
    memory_ratio: Option<Estimate>,
    #[serde(flatten)]
    accounting: Option<Accounting>,
}

/// A thread test on one label.
#[derive(Debug, Serialize)]
pub struct ThreadJson {
    us_per_thread: f64,
    us_per_thread_ci_low: f64,
    us_per_thread_ci_high: f64,
    threads: u64,
    total_ms: f64,
    phases_us: Keyed<super::Percentiles>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_rss_mb: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kb_per_live_thread: Option<f64>,
    #[serde(flatten)]
    accounting: Option<Accounting>,
}

/// A single-run entry's CPU accounting, from its one (serial) point.
#[derive(Debug, Serialize)]
struct Accounting {
    parallelism: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    other_load: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    steal: Option<f64>,
    disturbed: bool,
}

/// A scaling (or pool) test's curve on one label.
#[derive(Debug, Serialize)]
pub struct CurveJson {
    scaling_data: Vec<PointJson>,
    serial: Option<SerialJson>,
    scaling_factor: Option<f64>,
    model: Option<serde_json::Value>,
}

/// The serial run: its throughput under the metric's name, with interval and CV.
#[derive(Debug, Serialize)]
struct SerialJson {
    #[serde(flatten)]
    value: Keyed<f64>,
    ci_low: f64,
    ci_high: f64,
    cv: f64,
}

/// One point of a curve.
#[derive(Debug, Serialize)]
struct PointJson {
    thread_count: u32,
    metrics: MetricsJson,
    gil_reenabled: bool,
    /// Only files measured with accounting say so: the seed's schema stays as it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    disturbed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    verdict: Option<super::Verdict>,
    /// Files measured with per-thread accounting: where the threads' time went.
    #[serde(skip_serializing_if = "Option::is_none")]
    time: Option<TimeJson>,
    #[serde(skip_serializing_if = "is_zero")]
    unequal_samples: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// A point's numbers: the throughput under the metric's name with its interval, then the
/// derived ones.
#[derive(Debug, Serialize)]
struct MetricsJson {
    #[serde(flatten)]
    value: Keyed<f64>,
    #[serde(flatten, with = "interval_named::speedup")]
    speedup: Option<Estimate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    efficiency: Option<f64>,
    karp_flatt: Option<f64>,
    cv: f64,
    samples: usize,
    /// The accounting that was measured, by name.
    #[serde(flatten)]
    accounting: Keyed<f64>,
}

/// Where the threads' time went at a point.
#[derive(Debug, Serialize)]
struct TimeJson {
    running: f64,
    cpu_wait: Option<f64>,
    blocked: f64,
    late: f64,
    idle: f64,
    imbalance: f64,
    serial_pace: Option<f64>,
    cpu_slowdown: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    slowest_cpu: Option<SlowestCpu>,
}

#[derive(Debug, Serialize)]
struct SlowestCpu {
    cpu: u32,
    share_of_samples: f64,
}

/// The regular suite's summary: the baseline and, per label, its geometric mean and counts.
#[derive(Debug, Serialize)]
pub struct SuiteSummary {
    baseline: Option<String>,
    labels: Keyed<LabelSummary>,
}

#[derive(Debug, Serialize)]
struct LabelSummary {
    tests: usize,
    average_duration: f64,
    average_speedup: f64,
    geometric_mean: Option<f64>,
    geometric_mean_ci_low: Option<f64>,
    geometric_mean_ci_high: Option<f64>,
    significant: bool,
    faster: usize,
    slower: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    gil_left_out: Vec<String>,
    #[serde(flatten, with = "interval_named::memory_geometric_mean")]
    memory_geometric_mean: Option<Estimate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pep_779: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pep_779_ratio: Option<f64>,
}

/// An optional estimate as three keys, `NAME`, `NAME_ci_low` and `NAME_ci_high`, or none.
mod interval_named {
    use serde::ser::{SerializeMap, Serializer};

    use crate::stats::Estimate;

    fn keys<S: Serializer>(
        name: &str,
        estimate: Option<&Estimate>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if let Some(e) = estimate {
            map.serialize_entry(name, &e.value)?;
            map.serialize_entry(&format!("{name}_ci_low"), &e.low)?;
            map.serialize_entry(&format!("{name}_ci_high"), &e.high)?;
        }
        map.end()
    }

    macro_rules! named {
        ($($name:ident),*) => {$(
            pub mod $name {
                #[expect(clippy::ref_option, reason = "serde's `with` passes a reference")]
                pub fn serialize<S: serde::Serializer>(
                    estimate: &Option<crate::stats::Estimate>,
                    serializer: S,
                ) -> Result<S::Ok, S::Error> {
                    super::keys(stringify!($name), estimate.as_ref(), serializer)
                }
            }
        )*};
    }

    named!(speedup, memory_ratio, memory_geometric_mean);
}

/// The seed-schema section of a file.
pub fn section(analysis: &Analysis) -> Section {
    let mut groups: Keyed<Keyed<Keyed<Entry>>> = Keyed::default();
    for test in analysis.tests() {
        let group_kind = analysis.group_of(&test);
        let group = group_kind.key();
        let metric = analysis.metric_of(&test);
        let mut per_label = Keyed::default();
        for label in analysis.labels() {
            let accounting = || analysis.file.point(&test, &label, 0).and_then(accounting);
            let entry = match group_kind {
                Group::Regular | Group::Pyperformance => analysis
                    .regular(&test, &label)
                    .map(|e| Entry::Regular(regular_json(&e, accounting()))),
                Group::Threads => analysis
                    .thread_entry(&test, &label)
                    .map(|e| Entry::Threads(thread_json(&e, accounting()))),
                Group::Scaling | Group::Pool => analysis
                    .series(&test, &label)
                    .map(|s| Entry::Curve(curve_json(&s, &metric))),
            };
            if let Some(entry) = entry {
                per_label.0.push((label, entry));
            }
        }
        match groups.0.iter_mut().find(|(key, _)| key == group) {
            Some((_, tests)) => tests.0.push((test, per_label)),
            None => groups
                .0
                .push((group.to_string(), Keyed(vec![(test, per_label)]))),
        }
    }
    Section {
        groups,
        regular_summary: suite_summary(analysis),
    }
}

/// The regular suite's summary per label.
fn suite_summary(analysis: &Analysis) -> Option<SuiteSummary> {
    if analysis.regular_tests().is_empty() {
        return None;
    }
    let mut labels = Keyed::default();
    for label in analysis.labels() {
        let Some(s) = analysis.regular_summary(&label) else {
            continue;
        };
        let memory = s.memory_geometric_mean;
        let pep = memory.and_then(|m| analysis.pep_779_ratio(&label, m));
        let summary = LabelSummary {
            tests: s.tests,
            average_duration: s.average_duration,
            average_speedup: s.average_speedup,
            geometric_mean: s.geometric_mean.map(|g| g.value),
            geometric_mean_ci_low: s.geometric_mean.map(|g| g.low),
            geometric_mean_ci_high: s.geometric_mean.map(|g| g.high),
            significant: s.significant(),
            faster: s.faster,
            slower: s.slower,
            gil_left_out: s.gil_left_out.clone(),
            memory_geometric_mean: memory,
            pep_779: pep.map(pep_779),
            pep_779_ratio: pep.map(|p| p.value),
        };
        labels.0.push((label, summary));
    }
    Some(SuiteSummary {
        baseline: analysis.baseline(),
        labels,
    })
}

/// A single-run entry's CPU accounting, from its one (serial) point, when it has any.
fn accounting(point: &Point) -> Option<Accounting> {
    Some(Accounting {
        parallelism: point.load_median(|l| Some(l.parallelism))?,
        other_load: point.load_median(|l| l.other_load),
        steal: point.load_median(|l| l.steal),
        disturbed: point.disturbed(),
    })
}

fn regular_json(entry: &RegularEntry, accounting: Option<Accounting>) -> RegularJson {
    RegularJson {
        duration: entry.duration.median,
        duration_ci_low: entry.duration.ci_low,
        duration_ci_high: entry.duration.ci_high,
        cv: entry.duration.cv,
        samples: entry.duration.n,
        speedup: entry.speedup,
        max_rss_mb: entry.max_rss_mb,
        memory_ratio: entry.memory_ratio,
        accounting,
    }
}

fn thread_json(entry: &ThreadEntry, accounting: Option<Accounting>) -> ThreadJson {
    ThreadJson {
        us_per_thread: entry.us_per_thread.median,
        us_per_thread_ci_low: entry.us_per_thread.ci_low,
        us_per_thread_ci_high: entry.us_per_thread.ci_high,
        threads: entry.threads,
        total_ms: entry.us_per_thread.median * entry.threads as f64 / 1e3,
        phases_us: Keyed(entry.phases_us.clone()),
        max_rss_mb: entry.max_rss_mb,
        kb_per_live_thread: entry.kb_per_live_thread,
        accounting,
    }
}

/// A value under the metric's name, then its interval: `{METRIC, METRIC_ci_low, ...}`.
fn under_metric(metric: &str, median: f64, interval: Option<(f64, f64)>) -> Keyed<f64> {
    let mut keyed = vec![(metric.to_string(), median)];
    if let Some((low, high)) = interval {
        keyed.push((format!("{metric}_ci_low"), low));
        keyed.push((format!("{metric}_ci_high"), high));
    }
    Keyed(keyed)
}

fn curve_json(series: &Series, metric: &str) -> CurveJson {
    let scaling_data = series
        .points
        .iter()
        .map(|p| PointJson {
            thread_count: p.thread_count,
            metrics: MetricsJson {
                value: under_metric(
                    metric,
                    p.value.median,
                    Some((p.value.ci_low, p.value.ci_high)),
                ),
                speedup: p.speedup,
                efficiency: p.efficiency,
                karp_flatt: p.karp_flatt,
                cv: p.value.cv,
                samples: p.value.n,
                accounting: Keyed(
                    [
                        ("parallelism", p.parallelism),
                        ("other_load", p.other_load),
                        ("steal", p.steal),
                        ("voluntary_switches", p.voluntary_switches),
                        ("involuntary_switches", p.involuntary_switches),
                        ("max_rss_mb", p.max_rss_mb),
                        ("memory_per_thread_kb", p.memory_per_thread_kb),
                    ]
                    .into_iter()
                    .filter_map(|(key, value)| Some((key.to_string(), value?)))
                    .collect(),
                ),
            },
            gil_reenabled: p.gil_mismatches > 0,
            disturbed: (p.parallelism.is_some() || p.disturbed_samples > 0)
                .then_some(p.disturbed_samples > 0),
            verdict: p.verdict,
            time: p.time.as_ref().map(|time| TimeJson {
                running: time.running,
                cpu_wait: time.cpu_wait,
                blocked: time.blocked,
                late: time.late,
                idle: time.idle,
                imbalance: time.imbalance,
                serial_pace: p.serial_pace,
                cpu_slowdown: p.cpu_slowdown,
                slowest_cpu: p.slowest_cpu.map(|(cpu, share)| SlowestCpu {
                    cpu,
                    share_of_samples: share,
                }),
            }),
            unequal_samples: p.unequal_samples,
        })
        .collect();
    CurveJson {
        scaling_data,
        serial: series.serial.as_ref().map(|s| SerialJson {
            value: under_metric(metric, s.median, None),
            ci_low: s.ci_low,
            ci_high: s.ci_high,
            cv: s.cv,
        }),
        scaling_factor: series.scaling_factor,
        model: series.model.as_ref().map(super::model::Model::to_json),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::testing::{test_point, test_variant};
    use crate::results::{ResultsFile, Settings};

    #[test]
    fn the_section_keeps_the_seeds_schema_and_key_order() {
        let mut file = ResultsFile::new(Settings::default(), vec![test_variant("ft")]);
        file.add_point(test_point("parallel_compute", "ft", 0, &[1000, 1010, 990]));
        file.add_point(test_point("parallel_compute", "ft", 2, &[500, 505, 495]));
        file.add_point(test_point("nbody", "ft", 0, &[2000, 2020, 1980]));
        file.record_test_info();
        let json = serde_json::to_value(section(&Analysis::of(&file))).unwrap();
        let curve = &json["scaling_tests"]["parallel_compute"]["ft"];
        let keys = |v: &serde_json::Value| -> Vec<String> {
            v.as_object().unwrap().keys().cloned().collect()
        };
        assert_eq!(
            keys(curve),
            ["scaling_data", "serial", "scaling_factor", "model"]
        );
        let point = &curve["scaling_data"][0];
        assert_eq!(point["thread_count"], 2);
        assert_eq!(
            keys(&point["metrics"])[..6],
            [
                "ops_per_sec",
                "ops_per_sec_ci_low",
                "ops_per_sec_ci_high",
                "speedup",
                "speedup_ci_low",
                "speedup_ci_high"
            ]
        );
        // Without accounting the seed's point has no `disturbed` key, as the seed wrote it.
        assert!(point.get("disturbed").is_none());
        let serial_ops = curve["serial"]["ops_per_sec"].as_f64().unwrap();
        assert!((serial_ops / 1e9 - 1.0).abs() < 1e-6, "{serial_ops}");
        let regular = &json["regular_tests"]["nbody"]["ft"];
        assert_eq!(
            keys(regular)[..5],
            [
                "duration",
                "duration_ci_low",
                "duration_ci_high",
                "cv",
                "samples"
            ]
        );
        assert_eq!(json["regular_summary"]["labels"]["ft"]["tests"], 1);
    }
}
