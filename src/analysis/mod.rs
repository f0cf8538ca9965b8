//! The analysis: everything derived from a results file's raw samples, in one place.
//!
//! An [`Analysis`] is a view of one [`ResultsFile`] and its [`Derived`] numbers: it tells the
//! file's facts (labels, tests and what each is, settings, the machine), never its raw points or
//! samples, which only this module reads; and it answers the derived questions from data
//! computed eagerly, before anything is shown: a test's curve per label ([`Series`]: speedups
//! with intervals, efficiency, Karp-Flatt, parallelism, memory, [`Verdict`]), a regular test's
//! entry and the suite's summary, a thread test's entry. Renderers (`report`), the dashboard and
//! `compare` read these and compute nothing; the seed-schema `results` section of the file is
//! serialised from them ([`seed`]). [`Derived`] is plain owned data: a run keeps one and brings
//! it up to date after each point ([`Derived::update`] re-derives only the entries whose samples
//! changed), so a write after each point costs what that point changed. criterion's
//! analysis/report split is the model.

pub mod compare;
pub mod fleet;
pub mod gate;
pub mod headline;
pub mod mechanism;
pub mod model;
pub mod seed;
pub mod verdict;
pub mod warnings;

use std::collections::HashMap;

use serde::Serialize;

use crate::results::{Point, ResultsFile, throughputs};
use crate::stats::{self, Estimate, Summary};
use crate::workloads::Group;
pub use verdict::Verdict;

/// The law fitted to one curve: the points within the CPUs that measured the code, not the
/// machine (neither disturbed nor unequal).
fn model_of(
    points: &[&Point],
    metrics: &[PointMetrics],
    serial: &[f64],
    unit_scale: f64,
    cpus: Option<usize>,
) -> model::Model {
    let Some(cpus) = cpus else {
        return model::Model::NotDescribed {
            reason: "the file does not record how many CPUs the machine had".to_string(),
        };
    };
    let measured = |p: &Point| model::Measured {
        threads: p.thread_count,
        values: throughputs(p, unit_scale),
    };
    let fit_points: Vec<model::Measured> = points
        .iter()
        .zip(metrics)
        .filter(|(p, m)| {
            p.thread_count as usize <= cpus
                && !matches!(m.verdict, Some(Verdict::Disturbed | Verdict::Unequal))
                && !p.disturbed()
        })
        .map(|(p, _)| measured(p))
        .collect();
    let all_points: Vec<model::Measured> = points.iter().map(|p| measured(p)).collect();
    model::model(&fit_points, &all_points, serial, cpus)
}

/// The point whose verdict answers "why does it not scale" for one series: the highest thread
/// count that fits the usable CPUs (above them every point is oversubscribed), else the highest.
pub fn telling_point(series: &Series, usable_cpus: usize) -> Option<&PointMetrics> {
    let judged = || series.points.iter().filter(|p| p.verdict.is_some());
    judged()
        .rfind(|p| p.thread_count as usize <= usable_cpus)
        .or_else(|| judged().next_back())
}

/// How far above the native reference's median a Python median speedup may lie before the
/// reference is no longer called a ceiling: speedups are each over their own serial run, so two
/// curves near the ideal line cross by noise alone.
pub const CEILING_TOLERANCE: f64 = 0.05;

/// Entries by (test, label), each with the sample or point counts it was derived from.
type Entries<F, V> = HashMap<(String, String), (F, V)>;

/// Everything derived from one file's samples, computed eagerly by [`Derived::update`]: owned
/// data, with the counts each entry was derived from. Points are only ever appended (see
/// [`ResultsFile`]), so an entry stays right until its own points (or, for a regular test, the
/// baseline's) grow, and an update re-derives only those.
#[derive(Debug, Default, Clone)]
pub struct Derived {
    series: Entries<usize, Option<Series>>,
    regular: Entries<(usize, usize), Option<RegularEntry>>,
    summaries: HashMap<String, (usize, Option<RegularSummary>)>,
    threads: Entries<usize, Option<ThreadEntry>>,
    /// While a run measures, the regular suite's summary (a bootstrap over every test) keeps
    /// the value it had, and is refreshed by the final write only.
    pub frozen_summaries: bool,
}

impl Derived {
    /// Everything derived from `file`.
    pub fn of(file: &ResultsFile) -> Self {
        let mut derived = Self::default();
        derived.update(file);
        derived
    }

    /// Bring every entry up to date with `file`: each series, regular entry and thread entry
    /// whose samples changed is derived again (the series on every core: the bootstraps are
    /// independent and seeded by their samples), then the regular suite's summaries.
    pub fn update(&mut self, file: &ResultsFile) {
        let view = Analysis::with(file, self);
        let labels = view.labels();
        let keys = |group: fn(Group) -> bool| -> Vec<(String, String)> {
            view.tests()
                .into_iter()
                .filter(|t| group(view.group_of(t)))
                .flat_map(|t| labels.iter().map(move |l| (t.clone(), l.clone())))
                .collect()
        };
        let points = |key: &(String, String)| file.points_of(&key.0, &key.1);
        // Samples, not points: a gate's further pass adds samples to the points it has.
        let stale_series = stale(&self.series, keys(|_| true), |key| {
            points(key).iter().map(|p| p.samples.len()).sum()
        });
        let series = stats::on_every_core(&stale_series, |(key, fresh)| {
            (key.clone(), (*fresh, view.derive_series(&key.0, &key.1)))
        });
        // A regular entry's speedup also moves when the baseline's point arrives.
        let baseline = view.baseline();
        let regular = keys(|g| matches!(g, Group::Regular | Group::Pyperformance));
        let stale_regular = stale(&self.regular, regular, |key| {
            let base = baseline
                .as_ref()
                .map_or(0, |b| file.points_of(&key.0, b).len());
            (points(key).len(), base)
        });
        let regular = derive_each(stale_regular, |test, label| {
            view.derive_regular(test, label)
        });
        let stale_threads = stale(&self.threads, keys(|g| g == Group::Threads), |key| {
            points(key).len()
        });
        let threads = derive_each(stale_threads, |test, label| {
            view.derive_thread_entry(test, label)
        });
        self.series.extend(series);
        self.regular.extend(regular);
        self.threads.extend(threads);
        let regular_points: usize = file
            .regular_tests()
            .iter()
            .flat_map(|test| labels.iter().map(move |l| file.points_of(test, l).len()))
            .sum();
        let view = Analysis::with(file, self);
        let summaries: Vec<_> = labels
            .iter()
            .filter(|l| {
                self.summaries
                    .get(l.as_str())
                    .is_none_or(|(fresh, _)| *fresh != regular_points && !self.frozen_summaries)
            })
            .map(|l| {
                let summary = view.derive_regular_summary(l);
                (l.clone(), (regular_points, summary))
            })
            .collect();
        self.summaries.extend(summaries);
    }
}

/// The derived entry of (test, label), if it has one.
fn entry<F, V: Clone>(entries: &Entries<F, Option<V>>, test: &str, label: &str) -> Option<V> {
    entries
        .get(&(test.to_string(), label.to_string()))
        .and_then(|(_, value)| value.clone())
}

/// The `keys` whose entry is missing or was derived from other counts than `fresh` gives now,
/// each with its counts now.
fn stale<F: PartialEq, V>(
    entries: &Entries<F, V>,
    keys: Vec<(String, String)>,
    fresh: impl Fn(&(String, String)) -> F,
) -> Vec<((String, String), F)> {
    keys.into_iter()
        .map(|key| {
            let now = fresh(&key);
            (key, now)
        })
        .filter(|(key, now)| entries.get(key).is_none_or(|(then, _)| then != now))
        .collect()
}

/// Each stale (test, label) with its counts and its entry derived now.
fn derive_each<F, V>(
    stale: Vec<((String, String), F)>,
    derive: impl Fn(&str, &str) -> V,
) -> Vec<((String, String), (F, V))> {
    stale
        .into_iter()
        .map(|(key, fresh)| {
            let value = derive(&key.0, &key.1);
            (key, (fresh, value))
        })
        .collect()
}

enum Held<'a> {
    Owned(Box<Derived>),
    Borrowed(&'a Derived),
}

/// The derived view of one results file.
pub struct Analysis<'a> {
    file: &'a ResultsFile,
    derived: Held<'a>,
}

/// What the file says about itself, for those who show it: its facts, never its raw points
/// or samples (the analysis reads those, within this module, through `file`). Renderers take
/// one argument, the analysis; the derived answers are its other methods.
impl<'a> Analysis<'a> {
    pub fn system(&self) -> &'a crate::machine::sysinfo::SystemInfo {
        &self.file.system
    }

    pub fn variants(&self) -> &'a [crate::results::VariantRecord] {
        &self.file.variants
    }

    pub fn settings(&self) -> &'a crate::results::Settings {
        &self.file.settings
    }

    /// When the run was created, as the file says it.
    pub fn created(&self) -> &'a str {
        &self.file.created
    }

    pub fn command_line(&self) -> &'a [String] {
        &self.file.command_line
    }

    pub fn ftbench_version(&self) -> &'a str {
        &self.file.ftbench_version
    }

    pub fn harness(&self) -> Option<&'a crate::results::HarnessCost> {
        self.file.harness.as_ref()
    }

    pub fn profiles(&self) -> &'a [crate::results::ProfileRecord] {
        &self.file.profiles
    }

    /// What the run's `--fail-if` gates decided.
    pub fn gates(&self) -> &'a [crate::results::gate::GateRecord] {
        &self.file.gates
    }

    /// What the run itself warned about while measuring.
    pub fn run_warnings(&self) -> &'a [String] {
        &self.file.warnings
    }

    pub fn skipped(&self) -> &'a [crate::results::Missing] {
        &self.file.skipped
    }

    pub fn errors(&self) -> &'a [crate::results::Missing] {
        &self.file.errors
    }

    /// Whether (test, label) was measured at `thread_count`.
    pub fn measured(&self, test: &str, label: &str, thread_count: u32) -> bool {
        self.file.point(test, label, thread_count).is_some()
    }

    /// Whether other work disturbed (test, label) at `thread_count`.
    pub fn disturbed(&self, test: &str, label: &str, thread_count: u32) -> bool {
        self.file
            .point(test, label, thread_count)
            .is_some_and(Point::disturbed)
    }

    pub fn labels(&self) -> Vec<String> {
        self.file.labels()
    }

    pub fn tests(&self) -> Vec<String> {
        self.file.tests()
    }

    pub fn info(&self, test: &str) -> std::borrow::Cow<'a, crate::results::TestInfo> {
        self.file.info(test)
    }

    pub fn group_of(&self, test: &str) -> crate::workloads::Group {
        self.file.group_of(test)
    }

    pub fn metric_of(&self, test: &str) -> String {
        self.file.metric_of(test)
    }

    pub fn unit_scale_of(&self, test: &str) -> f64 {
        self.file.unit_scale_of(test)
    }

    pub fn is_native(&self, label: &str) -> bool {
        self.file.is_native(label)
    }

    pub fn native_label(&self) -> Option<&'a str> {
        self.file.native_label()
    }

    pub fn baseline(&self) -> Option<String> {
        self.file.baseline()
    }

    pub fn regular_tests(&self) -> Vec<String> {
        self.file.regular_tests()
    }

    pub fn regular_heading(&self) -> &'static str {
        self.file.regular_heading()
    }

    pub fn regular_noun(&self) -> &'static str {
        self.file.regular_noun()
    }
}

impl std::fmt::Debug for Analysis<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analysis")
            .field("points", &self.file.points().len())
            .finish_non_exhaustive()
    }
}

impl<'a> Analysis<'a> {
    /// The whole analysis of a file, derived now.
    pub fn of(file: &'a ResultsFile) -> Self {
        Self {
            file,
            derived: Held::Owned(Box::new(Derived::of(file))),
        }
    }

    /// The analysis of `file` from numbers already derived from it ([`Derived::update`]).
    pub fn with(file: &'a ResultsFile, derived: &'a Derived) -> Self {
        Self {
            file,
            derived: Held::Borrowed(derived),
        }
    }

    fn derived(&self) -> &Derived {
        match &self.derived {
            Held::Owned(derived) => derived,
            Held::Borrowed(derived) => derived,
        }
    }

    /// The curve of `label` on `test`.
    pub fn series(&self, test: &str, label: &str) -> Option<Series> {
        entry(&self.derived().series, test, label)
    }

    fn derive_series(&self, test: &str, label: &str) -> Option<Series> {
        let unit_scale = self.unit_scale_of(test);
        let all = self.file.points_of(test, label);
        let serial_point = all.iter().find(|p| p.thread_count == 0).copied();
        let serial_values = serial_point.map(|p| throughputs(p, unit_scale));
        let points: Vec<&Point> = all.into_iter().filter(|p| p.thread_count > 0).collect();
        if points.is_empty() && serial_point.is_none() {
            return None;
        }
        let usable_cpus = self.cpus();
        let curve = Curve {
            unit_scale,
            serial: serial_values.as_deref(),
            serial_rss: serial_point.and_then(Point::rss_kb),
            expects_gil: self
                .variants()
                .iter()
                .any(|v| v.label == label && v.expects_gil),
            processes: self.info(test).uses_processes(),
            // A lone thread's pace: the serial run's, or the 1-thread point's where it was
            // slower (a team thread is not the main thread), so the fastest part of a point is
            // compared with the slower of the two.
            serial_ns_per_unit: serial_point
                .into_iter()
                .chain(points.iter().copied().filter(|p| p.thread_count == 1))
                .filter_map(|p| p.time_shares().map(|t| t.fastest_ns_per_unit))
                .reduce(f64::max),
            machine_slowdown: self.machine_slowdown(),
            usable_cpus,
        };
        let metrics: Vec<PointMetrics> = points.iter().map(|p| curve.metrics(p)).collect();
        let first = metrics.first().and_then(|m| m.speedup).map(|s| s.value);
        let best = metrics
            .iter()
            .filter_map(|m| m.speedup.map(|s| s.value))
            .fold(None, |acc: Option<f64>, s| {
                Some(acc.map_or(s, |a| a.max(s)))
            });
        // Which points are oversubscribed depends on the CPU count: a file that does not
        // record it (the seed study's) gets no model rather than a guess.
        let cpus_known =
            self.system().available_parallelism > 0 || !self.settings().cpus.is_empty();
        let model = (!points.is_empty()).then(|| {
            model_of(
                &points,
                &metrics,
                serial_values.as_deref().unwrap_or(&[]),
                unit_scale,
                cpus_known.then_some(usable_cpus),
            )
        });
        Some(Series {
            serial: serial_point.map(|p| p.throughput.clone()),
            points: metrics,
            scaling_factor: first.zip(best).map(|(f, b)| b / f),
            model,
        })
    }

    /// The CPUs the run's threads could use: `--cpus` where it was given (recorded in the
    /// settings), else the machine's usable CPUs. Points above it are oversubscribed.
    pub fn cpus(&self) -> usize {
        if self.settings().cpus.is_empty() {
            self.system().usable_cpus()
        } else {
            self.settings().cpus.len()
        }
    }

    /// Whether the native reference of `test` is a ceiling here: a test whose native kernel
    /// bounds the Python work (compute, memory bandwidth), and no Python curve above it at any
    /// measured thread count from 2 on. A Python point is above it when its median speedup
    /// exceeds the native median by more than [`CEILING_TOLERANCE`] and its whole interval lies
    /// above the native median (two curves near the ideal line cross by noise alone: a bare
    /// median rule flipped the label from run to run on 2 cores). Where one is, the reference
    /// was disturbed or the machine bent it, and it is called a reference instead: on 2 cores
    /// `memory_bandwidth`'s native read 0.95x where Python read 1.94x, and on 16 cores 3.80x at
    /// 8 threads where 3.13t read 5.95x [3.84, 6.85].
    pub fn native_is_ceiling(&self, test: &str) -> bool {
        if !self.info(test).native_is_ceiling() {
            return false;
        }
        let Some(native) = self.native_label() else {
            return false;
        };
        let Some(reference) = self.series(test, native) else {
            return false;
        };
        self.labels()
            .iter()
            .filter(|l| l.as_str() != native)
            .filter_map(|l| self.series(test, l))
            .all(|series| {
                series.points.iter().all(|point| {
                    let native = reference
                        .points
                        .iter()
                        .find(|n| n.thread_count == point.thread_count)
                        .and_then(|n| n.speedup)
                        .map(|n| n.value);
                    match (point.speedup, native) {
                        (Some(python), Some(native)) if point.thread_count >= 2 => {
                            python.value <= native * (1.0 + CEILING_TOLERANCE)
                                || python.low <= native
                        }
                        _ => true,
                    }
                })
            })
    }

    /// How much slower than its fastest CPU the run's CPUs could be, by the probe of the run's
    /// machine check: the slowest CPU alone, or any CPU while all were busy (1.0 without one).
    fn machine_slowdown(&self) -> f64 {
        let Some(check) = &self.system().check else {
            return 1.0;
        };
        check
            .cpus
            .iter()
            .filter(|c| c.rounds > 0)
            .flat_map(|c| [Some(c.relative_speed), c.loaded_speed])
            .flatten()
            .filter(|s| *s > 0.0)
            .map(|s| 1.0 / s)
            .fold(1.0, f64::max)
    }

    /// Seconds per sample of a serial point.
    /// Seconds per single run of a regular test: a sample times a calibrated batch of
    /// `work_units` runs (the batch size stays in the raw samples).
    fn durations(&self, test: &str, label: &str) -> Option<Vec<f64>> {
        self.file.point(test, label, 0).map(|p| {
            p.samples
                .iter()
                .map(|s| s.wall_ns as f64 / 1e9 / s.work_units.max(1) as f64)
                .collect()
        })
    }

    /// Each worker process's peak memory for a serial point, in MiB.
    fn peaks_mb(&self, test: &str, label: &str) -> Vec<f64> {
        self.file
            .point(test, label, 0)
            .map(Point::process_peaks_mb)
            .unwrap_or_default()
    }

    /// A regular test's duration, speedup and memory against the baseline for `label`.
    pub fn regular(&self, test: &str, label: &str) -> Option<RegularEntry> {
        entry(&self.derived().regular, test, label)
    }

    fn derive_regular(&self, test: &str, label: &str) -> Option<RegularEntry> {
        let durations = self.durations(test, label)?;
        let duration = Summary::from_samples(&durations)?;
        let baseline = self.baseline();
        let speedup = baseline
            .as_ref()
            .and_then(|b| self.durations(test, b))
            .filter(|b| !b.is_empty())
            .map(|baseline| stats::ratio_ci(&baseline, &durations));
        let peaks = self.peaks_mb(test, label);
        let memory_ratio = baseline
            .map(|b| self.peaks_mb(test, &b))
            .filter(|b| !b.is_empty() && !peaks.is_empty())
            .map(|baseline| stats::ratio_ci(&peaks, &baseline));
        Some(RegularEntry {
            duration,
            speedup,
            max_rss_mb: (!peaks.is_empty()).then(|| stats::median(&peaks)),
            memory_ratio,
        })
    }

    /// PEP 779 bounds a free-threaded build's memory against a GIL build's: `ratio` (the
    /// memory of `label` over the baseline's) as free-threaded over GIL, or `None` when both
    /// are the same kind of build (a `+gil` variant is its free-threaded build). With a
    /// free-threaded baseline the ratio is inverted: 0.75x of 3.13t is 3.13t at 1.34x.
    pub fn pep_779_ratio(&self, label: &str, ratio: Estimate) -> Option<Estimate> {
        let baseline = self.baseline()?;
        let free_threaded = |l: &str| {
            self.variants()
                .iter()
                .find(|v| v.label == l)
                .map(|v| v.info.free_threaded)
        };
        match (free_threaded(label)?, free_threaded(&baseline)?) {
            (true, false) => Some(ratio),
            (false, true) => Some(Estimate::new(
                1.0 / ratio.value,
                1.0 / ratio.high,
                1.0 / ratio.low,
            )),
            _ => None,
        }
    }

    /// How `label` did over every regular test that it and the baseline both ran.
    pub fn regular_summary(&self, label: &str) -> Option<RegularSummary> {
        self.derived()
            .summaries
            .get(label)
            .and_then(|(_, summary)| summary.clone())
    }

    fn derive_regular_summary(&self, label: &str) -> Option<RegularSummary> {
        let baseline = self.baseline()?;
        let mut pairs = Vec::new();
        let mut memory_pairs = Vec::new();
        let mut entries = Vec::new();
        let mut gil_left_out = Vec::new();
        for test in self.regular_tests() {
            let (Some(base), Some(own)) = (
                self.durations(&test, &baseline),
                self.durations(&test, label),
            ) else {
                continue;
            };
            if !(self.counts_in_means(&test, label) && self.counts_in_means(&test, &baseline)) {
                gil_left_out.push(test);
                continue;
            }
            if let Some(entry) = self.regular(&test, label) {
                entries.push(entry);
            }
            pairs.push((base, own));
            let (own, base) = (self.peaks_mb(&test, label), self.peaks_mb(&test, &baseline));
            if !own.is_empty() && !base.is_empty() {
                memory_pairs.push((own, base));
            }
        }
        if entries.is_empty() {
            return None;
        }
        let borrowed: Vec<(&[f64], &[f64])> = pairs
            .iter()
            .map(|(a, b)| (a.as_slice(), b.as_slice()))
            .collect();
        let speedups: Vec<Estimate> = entries.iter().filter_map(|e| e.speedup).collect();
        Some(RegularSummary {
            tests: entries.len(),
            average_duration: entries.iter().map(|e| e.duration.median).sum::<f64>()
                / entries.len() as f64,
            average_speedup: speedups.iter().map(|s| s.value).sum::<f64>()
                / speedups.len().max(1) as f64,
            geometric_mean: stats::geometric_mean_ci(&borrowed),
            faster: speedups.iter().filter(|s| s.low > 1.0).count(),
            slower: speedups.iter().filter(|s| s.high < 1.0).count(),
            memory_geometric_mean: stats::geometric_mean_ci(
                &memory_pairs
                    .iter()
                    .map(|(a, b)| (a.as_slice(), b.as_slice()))
                    .collect::<Vec<_>>(),
            ),
            gil_left_out,
        })
    }

    /// Whether a single-run test's result for `label` counts in geometric means: not when it
    /// ran with the GIL in another state than its build's (a module turned it back on in a
    /// free-threaded build), unless the file says to keep those (`--include-gil-benchmarks`).
    pub fn counts_in_means(&self, test: &str, label: &str) -> bool {
        self.settings().include_gil_benchmarks || !self.ran_with_wrong_gil(test, label)
    }

    /// Whether `label` ran `test` with the GIL in another state than its build's in any sample.
    pub fn ran_with_wrong_gil(&self, test: &str, label: &str) -> bool {
        self.file
            .points_of(test, label)
            .iter()
            .any(|p| p.gil_mismatches > 0)
    }

    /// A thread test's per-thread cost and phase percentiles for `label`.
    pub fn thread_entry(&self, test: &str, label: &str) -> Option<ThreadEntry> {
        entry(&self.derived().threads, test, label)
    }

    fn derive_thread_entry(&self, test: &str, label: &str) -> Option<ThreadEntry> {
        let point = self.file.point(test, label, 0)?;
        let threads = point.samples.first()?.work_units.max(1);
        let micros: Vec<f64> = point
            .samples
            .iter()
            .map(|s| s.wall_ns as f64 / 1e3 / s.work_units.max(1) as f64)
            .collect();
        let mut phases_us = Vec::new();
        let phase_names: Vec<String> = point
            .samples
            .iter()
            .filter_map(|s| s.extra.as_ref()?["phases_us"].as_object())
            .flat_map(|m| m.keys().cloned())
            .fold(Vec::new(), |mut names, n| {
                if !names.contains(&n) {
                    names.push(n);
                }
                names
            });
        for phase in phase_names {
            let median_of = |q: &str| {
                let values: Vec<f64> = point
                    .samples
                    .iter()
                    .filter_map(|s| s.extra.as_ref()?["phases_us"][&phase][q].as_f64())
                    .collect();
                (!values.is_empty()).then(|| stats::median(&values))
            };
            let percentiles = Percentiles {
                p50: median_of("p50"),
                p95: median_of("p95"),
                p99: median_of("p99"),
            };
            phases_us.push((phase, percentiles));
        }
        let live: Vec<f64> = point
            .samples
            .iter()
            .filter_map(|s| s.extra.as_ref()?["kb_per_live_thread"].as_f64())
            .collect();
        Some(ThreadEntry {
            us_per_thread: Summary::from_samples(&micros)?,
            threads,
            phases_us,
            max_rss_mb: point.max_rss_mb(),
            kb_per_live_thread: (!live.is_empty()).then(|| stats::median(&live)),
        })
    }
}

/// What every point of one curve is judged against: the curve's serial run, its build and its
/// machine.
struct Curve<'a> {
    unit_scale: f64,
    serial: Option<&'a [f64]>,
    serial_rss: Option<f64>,
    expects_gil: bool,
    processes: bool,
    serial_ns_per_unit: Option<f64>,
    /// The run's probe of the machine, where a point has no measurement of its own.
    machine_slowdown: f64,
    usable_cpus: usize,
}

impl Curve<'_> {
    /// One point's numbers and verdict.
    fn metrics(&self, p: &Point) -> PointMetrics {
        let values = throughputs(p, self.unit_scale);
        let speedup = self
            .serial
            .filter(|s| !s.is_empty() && !values.is_empty())
            .map(|serial| stats::ratio_ci(&values, serial));
        let efficiency = speedup.map(|s| s.value / f64::from(p.thread_count));
        let parallelism = p.load_median(|l| Some(l.parallelism));
        let time = p.time_shares();
        // The machine's slowdown next to this point, where the runner measured it.
        let measured: Vec<f64> = p.samples.iter().filter_map(|s| s.cpu_slowdown).collect();
        let nearby = (!measured.is_empty()).then(|| stats::median(&measured));
        let verdict = Verdict::judge(&verdict::Evidence {
            thread_count: p.thread_count,
            efficiency,
            parallelism,
            gil: self.expects_gil || p.gil_mismatches > 0,
            processes: self.processes,
            disturbed: p.disturbed(),
            usable_cpus: self.usable_cpus,
            time,
            serial_ns_per_unit: self.serial_ns_per_unit,
            machine_slowdown: nearby.unwrap_or(self.machine_slowdown),
        });
        PointMetrics {
            thread_count: p.thread_count,
            value: p.throughput.clone(),
            speedup,
            efficiency,
            karp_flatt: speedup.and_then(|s| stats::karp_flatt(s.value, p.thread_count)),
            gil_mismatches: p.gil_mismatches,
            parallelism,
            other_load: p.load_median(|l| l.other_load),
            steal: p.load_median(|l| l.steal),
            disturbed_samples: p.disturbed_samples(),
            voluntary_switches: p.load_median(|l| l.voluntary_switches.map(|v| v as f64)),
            involuntary_switches: p.load_median(|l| l.involuntary_switches.map(|v| v as f64)),
            max_rss_mb: p.max_rss_mb(),
            memory_per_thread_kb: self
                .serial_rss
                .zip(p.rss_kb())
                .map(|(serial, own)| (own - serial) / f64::from(p.thread_count)),
            time,
            serial_pace: time
                .zip(self.serial_ns_per_unit)
                .filter(|(_, s)| *s > 0.0)
                .map(|(t, s)| t.fastest_ns_per_unit / s),
            unequal_samples: p.unequal_samples(),
            cpu_slowdown: nearby,
            slowest_cpu: p.slowest_cpu(),
            verdict,
        }
    }
}

/// A regular test's numbers for one label.
#[derive(Debug, Clone, PartialEq)]
pub struct RegularEntry {
    /// Seconds per run (the same work on every label).
    pub duration: Summary,
    /// Baseline duration / this duration, with its 95% interval; `None` without a baseline run.
    pub speedup: Option<Estimate>,
    /// Peak resident memory of a worker process (median over processes), in MiB.
    pub max_rss_mb: Option<f64>,
    /// This label's peak memory / the baseline's, with its 95% interval.
    pub memory_ratio: Option<Estimate>,
}

/// How one label did over the whole regular suite against the baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct RegularSummary {
    pub tests: usize,
    pub average_duration: f64,
    pub average_speedup: f64,
    /// Geometric mean of the speedups with its 95% interval.
    pub geometric_mean: Option<Estimate>,
    /// Tests whose speedup interval lies wholly above 1 (faster) or below 1 (slower).
    pub faster: usize,
    pub slower: usize,
    /// Geometric mean of the peak-memory ratios against the baseline with its 95% interval.
    pub memory_geometric_mean: Option<Estimate>,
    /// Tests left out of the means: `label` or the baseline ran them with the GIL in another
    /// state than its build's ([`Analysis::counts_in_means`]).
    pub gil_left_out: Vec<String>,
}

/// PEP 779's bar for free-threaded CPython: at most 20% more memory than the GIL build.
pub const PEP_779_MEMORY_RATIO: f64 = 1.20;

/// Where a memory ratio's interval lies against [`PEP_779_MEMORY_RATIO`].
pub fn pep_779(ratio: Estimate) -> &'static str {
    if ratio.high <= PEP_779_MEMORY_RATIO {
        "within"
    } else if ratio.low > PEP_779_MEMORY_RATIO {
        "above"
    } else {
        "undecided"
    }
}

impl RegularSummary {
    /// Whether the suite-wide difference is real: the interval of the geometric mean excludes 1.
    pub fn significant(&self) -> bool {
        // One value per test (`--debug-single-value`, a pyperf file of single values) gives no
        // interval: nothing is significant then.
        self.geometric_mean
            .is_some_and(|g| g.high > g.low && g.excludes(1.0))
    }
}

/// The 50th, 95th and 99th percentiles of a distribution; a percentile the worker did not send
/// is `None` (and left out of the JSON).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Percentiles {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p50: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p95: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p99: Option<f64>,
}

impl Percentiles {
    /// Each percentile with its name (`p50`, `p95`, `p99`), where it has a value.
    pub fn named(&self) -> impl Iterator<Item = (&'static str, f64)> {
        [("p50", self.p50), ("p95", self.p95), ("p99", self.p99)]
            .into_iter()
            .filter_map(|(name, value)| value.map(|v| (name, v)))
    }
}

/// A phase of a thread's life that `thread_lifecycle` measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Construct,
    Start,
    Body,
    Join,
}

impl Phase {
    /// Every phase, in the order a thread goes through them.
    pub const ALL: [Self; 4] = [Self::Construct, Self::Start, Self::Body, Self::Join];

    /// Its name, as the worker reports it (`phases_us`) and the tables show it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Construct => "construct",
            Self::Start => "start",
            Self::Body => "body",
            Self::Join => "join",
        }
    }
}

impl ThreadEntry {
    /// The percentiles of one phase.
    pub fn phase(&self, phase: Phase) -> Option<&Percentiles> {
        self.phases_us
            .iter()
            .find(|(name, _)| name == phase.name())
            .map(|(_, p)| p)
    }
}

/// A thread test's numbers for one label.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadEntry {
    /// Microseconds per thread (creation, start, body and join, over the whole sample).
    pub us_per_thread: Summary,
    pub threads: u64,
    /// Median over samples of each phase's percentiles, in µs, in the order the worker sent them.
    pub phases_us: Vec<(String, Percentiles)>,
    /// Peak resident memory of a worker process (median over processes), in MiB.
    pub max_rss_mb: Option<f64>,
    /// Resident memory one live (blocked) thread adds, median over worker processes, in KiB.
    pub kb_per_live_thread: Option<f64>,
}

/// A point's numbers as tables and the seed schema show them.
#[derive(Debug, Clone, PartialEq)]
pub struct PointMetrics {
    pub thread_count: u32,
    pub value: Summary,
    /// Throughput over the serial baseline's, with its 95% interval.
    pub speedup: Option<Estimate>,
    pub efficiency: Option<f64>,
    pub karp_flatt: Option<f64>,
    pub gil_mismatches: usize,
    /// Medians over samples: effective parallelism, other load, steal.
    pub parallelism: Option<f64>,
    pub other_load: Option<f64>,
    pub steal: Option<f64>,
    /// Samples other work on the machine disturbed.
    pub disturbed_samples: usize,
    /// Medians over samples of the worker's context switches during the section.
    pub voluntary_switches: Option<f64>,
    pub involuntary_switches: Option<f64>,
    /// Peak resident memory of a worker process (median over processes), in MiB.
    pub max_rss_mb: Option<f64>,
    /// Resident memory after the section, over the serial point's, per thread, in KiB.
    pub memory_per_thread_kb: Option<f64>,
    /// Where the threads' time went (medians over samples), when they said.
    pub time: Option<crate::results::TimeShares>,
    /// The fastest part's CPU time per unit over the serial run's: 1.0 when some thread ran
    /// at the single-thread pace.
    pub serial_pace: Option<f64>,
    /// Samples whose threads ran on unequal CPUs even when measured again.
    pub unequal_samples: usize,
    /// The CPU probe's slowdown with all CPUs busy, measured next to this point (median).
    pub cpu_slowdown: Option<f64>,
    /// The CPU the slowest part ran on in most samples, with the share of samples.
    pub slowest_cpu: Option<(u32, f64)>,
    /// Why the point does or does not scale.
    pub verdict: Option<Verdict>,
}

/// One label's curve for one test.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub serial: Option<Summary>,
    pub points: Vec<PointMetrics>,
    /// Max speedup over the speedup at the first thread count (the seed's "scaling factor").
    pub scaling_factor: Option<f64>,
    /// The Universal Scalability Law fitted to the curve, or why it does not describe it.
    pub model: Option<model::Model>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::Settings;

    /// PEP 779 is about a free-threaded build against a GIL build, whichever is the baseline:
    /// on 16 cores the GIL build read 0.747x of a 3.13t baseline, and was called "within the
    /// bar" though 3.13t held 1.34x the GIL build's memory.
    #[test]
    fn pep_779_compares_the_free_threaded_build_with_the_gil_build() {
        let variant = |label: &str, free_threaded: bool| {
            let mut v = crate::results::testing::test_variant(label);
            v.info.free_threaded = free_threaded;
            v
        };
        let mut results = ResultsFile::new(
            Settings::default(),
            vec![
                variant("ft", true),
                variant("ft+gil", true),
                variant("gil", false),
            ],
        );
        let gil_of_ft = Estimate::new(0.747, 0.745, 0.749);
        results.settings.baseline = Some("ft".into());
        let analysis = Analysis::of(&results);
        let oriented = analysis.pep_779_ratio("gil", gil_of_ft).unwrap();
        assert!((oriented.value - 1.0 / 0.747).abs() < 1e-9);
        assert!(oriented.low < oriented.value && oriented.value < oriented.high);
        assert_eq!(pep_779(oriented), "above");
        // The same build with its GIL forced on is no GIL build.
        assert_eq!(analysis.pep_779_ratio("ft+gil", Estimate::exact(1.0)), None);
        results.settings.baseline = Some("gil".into());
        let analysis = Analysis::of(&results);
        let ft_of_gil = Estimate::new(1.1, 1.05, 1.15);
        assert_eq!(analysis.pep_779_ratio("ft", ft_of_gil), Some(ft_of_gil));
        assert_eq!(pep_779(ft_of_gil), "within");
    }
}
