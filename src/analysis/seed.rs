//! The seed study's `results` section, serialised from the analysis at every write: the
//! schema `results-16c.json` used (`results.scaling_tests[test][label].scaling_data[...]`), so
//! the seed's own pandas code reads ftbench's files. Nothing here computes a statistic.

use std::path::Path;

use serde_json::{Map, Value, json};

use super::{Analysis, AnalysisCache, RegularEntry, Series, ThreadEntry, pep_779};
use crate::results::{self, Point, ResultsFile};
use crate::stats::Estimate;
use crate::workloads::Group;

/// Serialise the seed section from `cache` (derived as needed) and write the whole file
/// atomically.
pub fn write(path: &Path, file: &mut ResultsFile, cache: &AnalysisCache) -> std::io::Result<()> {
    file.updated = results::utc_now();
    let section = section(&Analysis::with_cache(file, cache));
    file.results = section;
    let bytes = serde_json::to_vec_pretty(file).map_err(std::io::Error::other)?;
    results::write_atomically(path, &bytes)
}

/// The seed-schema section of a file.
pub fn section(analysis: &Analysis) -> Value {
    let mut groups: Vec<(&str, Map<String, Value>)> = Vec::new();
    for test in analysis.tests() {
        let group_kind = analysis.group_of(&test);
        let group = group_kind.key();
        let metric = analysis.metric_of(&test);
        let mut per_label = Map::new();
        for label in analysis.labels() {
            let with_accounting = |mut value: Value| {
                if let Some(point) = analysis.file.point(&test, &label, 0) {
                    add_accounting(&mut value, point);
                }
                value
            };
            let value = match group_kind {
                Group::Regular | Group::Pyperformance => analysis
                    .regular(&test, &label)
                    .map(|e| with_accounting(regular_json(&e))),
                Group::Threads => analysis
                    .thread_entry(&test, &label)
                    .map(|e| with_accounting(thread_json(&e))),
                Group::Scaling | Group::Pool => analysis
                    .series(&test, &label)
                    .map(|s| series_json(&s, &metric)),
            };
            if let Some(value) = value {
                per_label.insert(label, value);
            }
        }
        match groups.iter_mut().find(|(key, _)| *key == group) {
            Some((_, tests)) => {
                tests.insert(test, Value::Object(per_label));
            }
            None => groups.push((group, Map::from_iter([(test, Value::Object(per_label))]))),
        }
    }
    let mut section: Map<String, Value> = groups
        .into_iter()
        .map(|(key, tests)| (key.to_string(), Value::Object(tests)))
        .collect();
    if let Some(summary) = regular_summary_json(analysis) {
        section.insert("regular_summary".to_string(), summary);
    }
    Value::Object(section)
}

/// The regular suite's summary per label.
fn regular_summary_json(analysis: &Analysis) -> Option<Value> {
    if analysis.regular_tests().is_empty() {
        return None;
    }
    let mut summaries = Map::new();
    for label in analysis.labels() {
        let Some(s) = analysis.regular_summary(&label) else {
            continue;
        };
        let mut value = json!({
            "tests": s.tests,
            "average_duration": s.average_duration,
            "average_speedup": s.average_speedup,
            "geometric_mean": s.geometric_mean.map(|g| g.value),
            "geometric_mean_ci_low": s.geometric_mean.map(|g| g.low),
            "geometric_mean_ci_high": s.geometric_mean.map(|g| g.high),
            "significant": s.significant(),
            "faster": s.faster,
            "slower": s.slower,
        });
        if !s.gil_left_out.is_empty() {
            value["gil_left_out"] = json!(s.gil_left_out);
        }
        if let Some(memory) = s.memory_geometric_mean {
            value["memory_geometric_mean"] = json!(memory.value);
            value["memory_geometric_mean_ci_low"] = json!(memory.low);
            value["memory_geometric_mean_ci_high"] = json!(memory.high);
            if let Some(oriented) = analysis.pep_779_ratio(&label, memory) {
                value["pep_779"] = json!(pep_779(oriented));
                value["pep_779_ratio"] = json!(oriented.value);
            }
        }
        summaries.insert(label, value);
    }
    Some(json!({ "baseline": analysis.baseline(), "labels": summaries }))
}

/// A regular or thread entry's CPU accounting, from its one (serial) point, when it has any.
fn add_accounting(value: &mut Value, point: &Point) {
    let Some(parallelism) = point.load_median(|l| Some(l.parallelism)) else {
        return;
    };
    value["parallelism"] = json!(parallelism);
    if let Some(other) = point.load_median(|l| l.other_load) {
        value["other_load"] = json!(other);
    }
    if let Some(steal) = point.load_median(|l| l.steal) {
        value["steal"] = json!(steal);
    }
    value["disturbed"] = json!(point.disturbed());
}

fn regular_json(entry: &RegularEntry) -> Value {
    let mut value = json!({
        "duration": entry.duration.median,
        "duration_ci_low": entry.duration.ci_low,
        "duration_ci_high": entry.duration.ci_high,
        "cv": entry.duration.cv,
        "samples": entry.duration.n,
    });
    if let Some(Estimate {
        value: speedup,
        low,
        high,
    }) = entry.speedup
    {
        value["speedup"] = json!(speedup);
        value["speedup_ci_low"] = json!(low);
        value["speedup_ci_high"] = json!(high);
    }
    if let Some(mb) = entry.max_rss_mb {
        value["max_rss_mb"] = json!(mb);
    }
    if let Some(Estimate {
        value: ratio,
        low,
        high,
    }) = entry.memory_ratio
    {
        value["memory_ratio"] = json!(ratio);
        value["memory_ratio_ci_low"] = json!(low);
        value["memory_ratio_ci_high"] = json!(high);
    }
    value
}

fn thread_json(entry: &ThreadEntry) -> Value {
    let mut value = json!({
        "us_per_thread": entry.us_per_thread.median,
        "us_per_thread_ci_low": entry.us_per_thread.ci_low,
        "us_per_thread_ci_high": entry.us_per_thread.ci_high,
        "threads": entry.threads,
        "total_ms": entry.us_per_thread.median * entry.threads as f64 / 1e3,
        "phases_us": entry
            .phases_us
            .iter()
            .map(|(phase, p)| (phase.clone(), json!(p)))
            .collect::<Map<String, Value>>(),
    });
    if let Some(mb) = entry.max_rss_mb {
        value["max_rss_mb"] = json!(mb);
    }
    if let Some(kb) = entry.kb_per_live_thread {
        value["kb_per_live_thread"] = json!(kb);
    }
    value
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
            if let Some(Estimate {
                value: speedup,
                low,
                high,
            }) = p.speedup
            {
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
            for (key, value) in [
                ("parallelism", p.parallelism),
                ("other_load", p.other_load),
                ("steal", p.steal),
                ("voluntary_switches", p.voluntary_switches),
                ("involuntary_switches", p.involuntary_switches),
                ("max_rss_mb", p.max_rss_mb),
                ("memory_per_thread_kb", p.memory_per_thread_kb),
            ] {
                if let Some(value) = value {
                    metrics.insert(key.into(), json!(value));
                }
            }
            let mut point = json!({
                "thread_count": p.thread_count,
                "metrics": metrics,
                "gil_reenabled": p.gil_mismatches > 0,
            });
            // Only files measured with accounting say so: the seed's schema stays as it was.
            if p.parallelism.is_some() || p.disturbed_samples > 0 {
                point["disturbed"] = json!(p.disturbed_samples > 0);
            }
            if let Some(verdict) = p.verdict {
                point["verdict"] = json!(verdict);
            }
            // Files measured with per-thread accounting: where the threads' time went.
            if let Some(time) = &p.time {
                let mut breakdown = json!({
                    "running": time.running,
                    "cpu_wait": time.cpu_wait,
                    "blocked": time.blocked,
                    "late": time.late,
                    "idle": time.idle,
                    "imbalance": time.imbalance,
                    "serial_pace": p.serial_pace,
                    "cpu_slowdown": p.cpu_slowdown,
                });
                if let Some((cpu, share)) = p.slowest_cpu {
                    breakdown["slowest_cpu"] = json!({"cpu": cpu, "share_of_samples": share});
                }
                point["time"] = breakdown;
            }
            if p.unequal_samples > 0 {
                point["unequal_samples"] = json!(p.unequal_samples);
            }
            point
        })
        .collect();
    json!({
        "scaling_data": scaling_data,
        "serial": series.serial.as_ref().map(|s| json!({
            metric: s.median, "ci_low": s.ci_low, "ci_high": s.ci_high, "cv": s.cv,
        })),
        "scaling_factor": series.scaling_factor,
        "model": series.model.as_ref().map(super::model::Model::to_json),
    })
}
