//! Comparing results, the numbers: two runs, two machines, two versions of an interpreter.
//! Points are matched by (test, label, thread count), or across labels with a label map, and
//! each pair gets a ratio with its 95% interval, a Mann-Whitney p-value and a verdict (see
//! [`crate::stats`]). `crate::compare` words them.

use serde::Serialize;

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
    /// What `value` and the ratios are of.
    pub measure: Measure,
}

/// What two runs' points are compared in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// The tests' own throughputs (the same machine).
    Throughput,
    /// Speedups over each side's own serial point (different machines).
    Speedup,
}

impl Measure {
    /// Speedups between different machines, throughputs on one.
    fn of(different_machines: bool) -> Self {
        if different_machines {
            Self::Speedup
        } else {
            Self::Throughput
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Throughput => "throughput",
            Self::Speedup => "speedup",
        }
    }
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
    measure: Measure,
) -> Option<Vec<f64>> {
    let values = file.throughputs(point);
    if measure == Measure::Throughput {
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

/// Which labels of `base` and `other` are compared: `label_map`'s pairs, else the one label of
/// each side, else the labels both have.
fn label_pairs(
    base: &ResultsFile,
    other: &ResultsFile,
    label_map: &[(String, String)],
) -> Vec<(String, String)> {
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
    pairs
}

/// The statistics of each matched pair of points. They are independent: spread over the cores.
fn compare_all(
    base: &ResultsFile,
    other: &ResultsFile,
    jobs: &[Job<'_>],
    measure: Measure,
) -> Vec<Comparison> {
    crate::stats::on_every_core(jobs, |(point, partner, _, _)| {
        Comparison::of(
            &compared_values(base, point, measure).unwrap_or_default(),
            &compared_values(other, partner, measure).unwrap_or_default(),
        )
    })
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
    let pairs = label_pairs(base, other, label_map);
    // Every step is a hash lookup, so big files compare in linear time.
    let mut metrics: std::collections::HashMap<&str, String> = std::collections::HashMap::new();
    let different = different_machines(base, other);
    let measure = Measure::of(different);
    let jobs = matched_points(base, other, &pairs, measure);
    let matched = 2 * jobs.len();
    let comparisons = compare_all(base, other, &jobs, measure);
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
                    value: median_of(base, point, measure),
                    other_value: median_of(other, partner, measure),
                    metric: if measure == Measure::Speedup {
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
    let labels = label_summaries(base, other, &jobs, &points, measure);
    FileComparison {
        base: base_name.to_string(),
        other: other_name.to_string(),
        points,
        labels,
        unmatched: base.points().len() + other.points().len() - matched,
        different_machines: different,
        measure,
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
    measure: Measure,
) -> Vec<Job<'a>> {
    let mut jobs = Vec::new();
    for (base_label, other_label) in pairs {
        for point in base.points().iter().filter(|p| &p.label == base_label) {
            if let Some(partner) = other.point(&point.test, other_label, point.thread_count)
                && (measure == Measure::Throughput
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
fn median_of(file: &ResultsFile, point: &crate::results::Point, measure: Measure) -> f64 {
    if measure == Measure::Throughput {
        return point.throughput.median;
    }
    file.point(&point.test, &point.label, 0)
        .map_or(f64::NAN, |serial| {
            point.throughput.median / serial.throughput.median
        })
}

pub fn thread_name(n: u32) -> String {
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
    measure: Measure,
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
                        compared_values(other, q, measure).unwrap_or_default(),
                        compared_values(base, p, measure).unwrap_or_default(),
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
