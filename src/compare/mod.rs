//! Comparing results: two runs, two machines, two versions of an interpreter. Points are matched
//! by (test, label, thread count), or across labels with a label map, and each pair gets a
//! ratio with its 95% interval, a Mann-Whitney p-value and a verdict (see [`crate::stats`]).

use std::fmt::Write as _;

use serde::Serialize;

use crate::report::table::{Table, faster_slower};
use crate::results::ResultsFile;
use crate::stats::{self, Comparison, Verdict};

/// One matched point.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PointComparison {
    pub test: String,
    /// 0 for the serial baseline, which `serial` also says.
    pub thread_count: u32,
    pub serial: bool,
    pub label: String,
    pub other_label: String,
    /// Median throughput in each file, in the test's metric.
    pub value: f64,
    pub other_value: f64,
    pub metric: String,
    /// The label is ftbench's native reference, not a Python.
    #[serde(skip)]
    pub native: bool,
    /// What the machine did to either side, when it did something that makes a speed verdict
    /// meaningless: `busy` (other work took CPUs) or `unequal CPUs` (in most samples the
    /// threads' CPUs ran at different speeds). The verdict is then `disturbed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub machine: Option<&'static str>,
    #[serde(flatten)]
    pub comparison: Comparison,
}

/// A whole comparison of one file (or run) against the base.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileComparison {
    pub base: String,
    pub other: String,
    pub points: Vec<PointComparison>,
    /// Per label pair: the geometric mean of its points' ratios with a 95% interval, and how
    /// many points went which way.
    pub labels: Vec<LabelSummary>,
    /// Points of either side with no partner.
    pub unmatched: usize,
    /// The two sides ran on different machines (names or CPUs differ): raw throughputs say
    /// more about the machines than about Python, so speedups over each side's own serial
    /// point are compared instead, and serial points are left out.
    pub different_machines: bool,
    /// What `value` and the ratios are of: `throughput` or `speedup`.
    pub measure: &'static str,
}

/// Whether two results files come from different machines.
pub fn different_machines(a: &ResultsFile, b: &ResultsFile) -> bool {
    a.system.machine_name() != b.system.machine_name()
        || a.system.cpu_model != b.system.cpu_model
        || a.system.logical_cores != b.system.logical_cores
}

/// A point's samples in what is compared: throughputs, or speedups over the same file's
/// serial median (`None` without a serial point).
fn compared_values(
    file: &ResultsFile,
    point: &crate::results::Point,
    speedups: bool,
) -> Option<Vec<f64>> {
    let values = file.throughputs(point);
    if !speedups {
        return Some(values);
    }
    let serial = file.point(&point.test, &point.label, 0)?.throughput.median;
    (serial > 0.0).then(|| values.iter().map(|v| v / serial).collect())
}

/// How one label did against its partner over every matched point.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelSummary {
    pub label: String,
    pub other_label: String,
    /// Points in the geometric mean (disturbed ones are left out).
    pub points: usize,
    /// Geometric mean of the ratios (other / base throughput) with its 95% bootstrap interval.
    pub geometric_mean: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    /// Faster or slower when the interval excludes 1 and the change is at least 1%.
    pub verdict: Verdict,
    pub faster: usize,
    pub slower: usize,
    pub same: usize,
    pub disturbed: usize,
}

/// Parse `--label-map A=B` entries.
pub fn parse_label_map(entries: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    entries
        .iter()
        .map(|entry| {
            entry
                .split_once('=')
                .filter(|(a, b)| !a.is_empty() && !b.is_empty())
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "malformed --label-map `{entry}`: expected BASE_LABEL=OTHER_LABEL"
                    )
                })
        })
        .collect()
}

/// Compare `other` against `base`. Labels pair up by name, by `label_map` (`(base, other)`), or
/// — when each side has exactly one label — with each other.
pub fn compare(
    base: &ResultsFile,
    base_name: &str,
    other: &ResultsFile,
    other_name: &str,
    label_map: &[(String, String)],
) -> FileComparison {
    let base_labels = base.labels();
    let other_labels = other.labels();
    let mut pairs: Vec<(String, String)> = label_map.to_vec();
    if pairs.is_empty() {
        if base_labels.len() == 1 && other_labels.len() == 1 {
            pairs.push((base_labels[0].clone(), other_labels[0].clone()));
        } else {
            pairs = base_labels
                .iter()
                .filter(|l| other_labels.contains(l))
                .map(|l| (l.clone(), l.clone()))
                .collect();
        }
    }
    // Every step is a hash lookup, so big files compare in linear time.
    let mut metrics: std::collections::HashMap<&str, String> = std::collections::HashMap::new();
    let speedups = different_machines(base, other);
    let jobs = matched_points(base, other, &pairs, speedups);
    let matched = 2 * jobs.len();
    // The statistics of each pair are independent: spread them over the cores.
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let chunk = jobs.len().div_ceil(workers).max(1);
    let comparisons: Vec<Comparison> = std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(point, partner, _, _)| {
                            Comparison::of(
                                &compared_values(base, point, speedups).unwrap_or_default(),
                                &compared_values(other, partner, speedups).unwrap_or_default(),
                            )
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("comparison threads do not panic"))
            .collect()
    });
    let mut points: Vec<PointComparison> = jobs
        .iter()
        .zip(comparisons)
        .map(
            |((point, partner, base_label, other_label), mut comparison)| {
                // A disturbed side measured the machine's other work as much as Python, and one
                // whose threads ran on CPUs of unequal speed measured the CPUs: the ratio is kept,
                // but never called faster or slower.
                let machine = machine_of(point, partner);
                if machine.is_some() {
                    comparison.verdict = Verdict::Disturbed;
                }
                PointComparison {
                    test: point.test.clone(),
                    thread_count: point.thread_count,
                    serial: point.thread_count == 0,
                    label: (*base_label).clone(),
                    other_label: (*other_label).clone(),
                    value: median_of(base, point, speedups),
                    other_value: median_of(other, partner, speedups),
                    metric: if speedups {
                        "speedup".to_string()
                    } else {
                        metrics
                            .entry(point.test.as_str())
                            .or_insert_with(|| base.metric_of(&point.test))
                            .clone()
                    },
                    native: base.is_native(base_label),
                    machine,
                    comparison,
                }
            },
        )
        .collect();
    let order: std::collections::HashMap<String, usize> = base
        .tests()
        .into_iter()
        .enumerate()
        .map(|(i, t)| (t, i))
        .collect();
    points.sort_by_cached_key(|p| {
        (
            order.get(&p.test).copied().unwrap_or(usize::MAX),
            p.label.clone(),
            p.thread_count,
        )
    });
    let labels = label_summaries(base, other, &jobs, &points, speedups);
    FileComparison {
        base: base_name.to_string(),
        other: other_name.to_string(),
        points,
        labels,
        unmatched: base.points.len() + other.points.len() - matched,
        different_machines: speedups,
        measure: if speedups { "speedup" } else { "throughput" },
    }
}

/// What the machine did to either side of a pair that takes away a speed verdict.
fn machine_of(
    point: &crate::results::Point,
    partner: &crate::results::Point,
) -> Option<&'static str> {
    if point.disturbed() || partner.disturbed() {
        Some("busy")
    } else if point.mostly_unequal() || partner.mostly_unequal() {
        Some("unequal CPUs")
    } else {
        None
    }
}

/// A base point, its partner in the other file, and their labels.
type Job<'a> = (
    &'a crate::results::Point,
    &'a crate::results::Point,
    &'a String,
    &'a String,
);

/// Every base point with a partner in `other` (by test, paired label and thread count); across
/// machines only points with a speedup on both sides (a thread count and a serial point).
fn matched_points<'a>(
    base: &'a ResultsFile,
    other: &'a ResultsFile,
    pairs: &'a [(String, String)],
    speedups: bool,
) -> Vec<Job<'a>> {
    let mut jobs = Vec::new();
    for (base_label, other_label) in pairs {
        for point in base.points.iter().filter(|p| &p.label == base_label) {
            if let Some(partner) = other.point(&point.test, other_label, point.thread_count)
                && (!speedups
                    || (point.thread_count > 0
                        && other.point(&point.test, other_label, 0).is_some()
                        && base.point(&point.test, base_label, 0).is_some()))
            {
                jobs.push((point, partner, base_label, other_label));
            }
        }
    }
    jobs
}

/// The median of what is compared for one point.
fn median_of(file: &ResultsFile, point: &crate::results::Point, speedups: bool) -> f64 {
    if !speedups {
        return point.throughput.median;
    }
    file.point(&point.test, &point.label, 0)
        .map_or(f64::NAN, |serial| {
            point.throughput.median / serial.throughput.median
        })
}

fn thread_name(n: u32) -> String {
    if n == 0 {
        "serial".to_string()
    } else {
        n.to_string()
    }
}

/// One summary per label pair, in the order the pairs were matched.
fn label_summaries(
    base: &ResultsFile,
    other: &ResultsFile,
    jobs: &[Job<'_>],
    points: &[PointComparison],
    speedups: bool,
) -> Vec<LabelSummary> {
    let mut pairs: Vec<(&String, &String)> = Vec::new();
    for (_, _, a, b) in jobs {
        if !pairs.contains(&(a, b)) {
            pairs.push((a, b));
        }
    }
    pairs
        .into_iter()
        .map(|(label, other_label)| {
            let samples: Vec<(Vec<f64>, Vec<f64>)> = jobs
                .iter()
                .filter(|(p, q, a, b)| {
                    *a == label
                        && *b == other_label
                        && !p.disturbed()
                        && !q.disturbed()
                        && !p.mostly_unequal()
                        && !q.mostly_unequal()
                })
                .map(|(p, q, _, _)| {
                    (
                        compared_values(other, q, speedups).unwrap_or_default(),
                        compared_values(base, p, speedups).unwrap_or_default(),
                    )
                })
                .collect();
            let pairs: Vec<(&[f64], &[f64])> = samples
                .iter()
                .map(|(a, b)| (a.as_slice(), b.as_slice()))
                .collect();
            let mean = stats::geometric_mean_ci(&pairs);
            let count = |verdict: Verdict| {
                points
                    .iter()
                    .filter(|p| {
                        &p.label == label
                            && &p.other_label == other_label
                            && p.comparison.verdict == verdict
                    })
                    .count()
            };
            let verdict = match mean {
                None => Verdict::Disturbed,
                Some(m) if m.low > 1.0 && m.value - 1.0 >= stats::MIN_EFFECT => Verdict::Faster,
                Some(m) if m.high < 1.0 && 1.0 - m.value >= stats::MIN_EFFECT => Verdict::Slower,
                Some(_) => Verdict::Same,
            };
            LabelSummary {
                label: label.clone(),
                other_label: other_label.clone(),
                points: pairs.len(),
                geometric_mean: mean.map(|m| m.value),
                ci_low: mean.map(|m| m.low),
                ci_high: mean.map(|m| m.high),
                verdict,
                faster: count(Verdict::Faster),
                slower: count(Verdict::Slower),
                same: count(Verdict::Same),
                disturbed: count(Verdict::Disturbed),
            }
        })
        .collect()
}

impl FileComparison {
    /// One line per label pair: its geometric mean and how many points went which way.
    fn label_notes(&self) -> Vec<String> {
        self.labels
            .iter()
            .map(|l| {
                let name = if l.label == l.other_label {
                    l.label.clone()
                } else {
                    format!("{} → {}", l.label, l.other_label)
                };
                let mean = match (l.geometric_mean, l.ci_low, l.ci_high) {
                    (Some(m), Some(low), Some(high)) => format!(
                        "geometric mean over {} point(s) {m:.3}x [{low:.3}, {high:.3}]: {}",
                        l.points,
                        match l.verdict {
                            Verdict::Same => "no real difference".to_string(),
                            _ => faster_slower(m),
                        }
                    ),
                    _ => "no undisturbed point to summarise".to_string(),
                };
                format!(
                    "{name}: {mean}; {} faster / {} slower / {} same{}",
                    l.faster,
                    l.slower,
                    l.same,
                    if l.disturbed > 0 {
                        format!(" / {} disturbed", l.disturbed)
                    } else {
                        String::new()
                    }
                )
            })
            .collect()
    }

    /// The comparison as a table (terminal text or Markdown): every column with `wide`, else
    /// the ratio with its interval and the verdict (the medians and p-value left out).
    pub fn table(&self, wide: bool) -> Table {
        let rows = self
            .points
            .iter()
            .map(|p| {
                let c = &p.comparison;
                let mut row = vec![
                    p.test.clone(),
                    thread_name(p.thread_count),
                    if p.label == p.other_label {
                        p.label.clone()
                    } else {
                        format!("{} → {}", p.label, p.other_label)
                    },
                ];
                if wide {
                    row.push(crate::report::human(p.value));
                    row.push(crate::report::human(p.other_value));
                }
                row.push(format!(
                    "{:.3} [{:.3}, {:.3}]",
                    c.ratio, c.ci_low, c.ci_high
                ));
                if wide {
                    row.push(format!("{:.3}", c.p_value));
                }
                row.push(match (c.verdict, p.machine) {
                    (Verdict::Same, _) => "same".to_string(),
                    (Verdict::Disturbed, Some("unequal CPUs")) => "unequal CPUs".to_string(),
                    (Verdict::Disturbed, _) => "disturbed (BUSY!)".to_string(),
                    _ => faster_slower(c.ratio),
                });
                row
            })
            .collect();
        let mut notes = self.label_notes();
        notes.push(self.what_was_compared());
        notes.push(format!(
            "ratio = {} / {} ({}, higher is faster); faster or slower only when Mann-Whitney p < {}, the 95% interval excludes 1 and the change is at least {:.0}%.",
            self.other,
            self.base,
            self.measure,
            stats::ALPHA,
            stats::MIN_EFFECT * 100.0
        ));
        let disturbed = self.disturbed().len();
        if disturbed > 0 {
            notes.push(format!(
                "{disturbed} point(s) measured the machine in either file (other work took CPUs, or the threads' CPUs ran at unequal speeds): no verdict on them, they are left out of the geometric means, and --fail-on-regression ignores them."
            ));
        }
        if self.unmatched > 0 {
            notes.push(format!(
                "{} point(s) had no partner in the other file.",
                self.unmatched
            ));
        }
        let mut header = vec!["test", "threads", "label"];
        if wide {
            header.extend(["base", "other"]);
        }
        header.push("ratio [95% CI]");
        if wide {
            header.push("p");
        }
        header.push("verdict");
        Table {
            title: format!("{} against {}", self.other, self.base),
            groups: Vec::new(),
            header: header.iter().map(ToString::to_string).collect(),
            rows,
            notes,
        }
    }

    /// What a verdict of this comparison can and cannot tell, by what was compared.
    fn what_was_compared(&self) -> String {
        if self.different_machines {
            format!(
                "What this compares: one run on each of two different machines ({} and {}), so each point's speedup over its own serial run is compared, not raw throughput. The intervals hold the spread within each run, not from run to run or between the machines' builds: faster or slower says how these two runs differ, not that one machine always scales better.",
                self.base, self.other
            )
        } else {
            "What this compares: one run against one run on the same machine. The intervals hold the spread of the samples within each run, not the machine's drift from one run to the next (a VM's CPUs can change speed for minutes): faster or slower says these two runs differ; call it a change only when it repeats (`ftbench history --test TEST --label LABEL` follows a point across recorded runs).".to_string()
        }
    }

    /// Points whose verdict is [`Verdict::Disturbed`].
    pub fn disturbed(&self) -> Vec<&PointComparison> {
        self.points
            .iter()
            .filter(|p| p.comparison.verdict == Verdict::Disturbed)
            .collect()
    }

    /// Significant slowdowns beyond `percent`: the points that fail `--fail-on-regression`.
    /// The native reference is not Python: its points count only with `include_native`.
    pub fn regressions(&self, percent: f64, include_native: bool) -> Vec<&PointComparison> {
        self.points
            .iter()
            .filter(|p| include_native || !p.native)
            .filter(|p| {
                p.comparison.verdict == Verdict::Slower
                    && p.comparison.ratio < 1.0 - percent / 100.0
            })
            .collect()
    }
}

/// A line per regression, for the error message.
pub fn describe_regressions(regressions: &[&PointComparison]) -> String {
    let mut out = String::new();
    for p in regressions {
        let _ = writeln!(
            out,
            "  {} at {} on {}: {:.1}% slower (ratio {:.3} [{:.3}, {:.3}], p = {:.4})",
            p.test,
            crate::format::threads(p.thread_count),
            p.other_label,
            (1.0 - p.comparison.ratio) * 100.0,
            p.comparison.ratio,
            p.comparison.ci_low,
            p.comparison.ci_high,
            p.comparison.p_value
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slower(label: &str) -> PointComparison {
        PointComparison {
            test: "lock_contention".into(),
            thread_count: 2,
            serial: false,
            label: label.into(),
            other_label: label.into(),
            value: 10.0,
            other_value: 5.0,
            metric: "ops_per_sec".into(),
            native: label == "native",
            machine: None,
            comparison: Comparison {
                ratio: 0.5,
                ci_low: 0.45,
                ci_high: 0.55,
                p_value: 0.001,
                verdict: Verdict::Slower,
            },
        }
    }

    #[test]
    fn the_native_reference_fails_no_regression_gate_unless_asked() {
        let comparison = FileComparison {
            base: "a".into(),
            other: "b".into(),
            points: vec![slower("native"), slower("3.13t")],
            labels: Vec::new(),
            unmatched: 0,
            different_machines: false,
            measure: "throughput",
        };
        let gate = |include_native| -> Vec<String> {
            comparison
                .regressions(5.0, include_native)
                .iter()
                .map(|p| p.label.clone())
                .collect()
        };
        assert_eq!(gate(false), ["3.13t"]);
        assert_eq!(gate(true), ["native", "3.13t"]);
    }
}
