//! pyperformance's benchmarks measured through the runner's parts: the same [`Host`] (other
//! work, waits, the stop request), [`Observer`] (progress) and [`Sink`] (the file after each
//! benchmark) as the thread tests, with a [`Benchmarker`] in the worker's place. One step is one
//! benchmark on one label; the steps take turns between labels (A B, then B A) so that the
//! machine's drift falls on each alike.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;

use super::pyperformance::{Benchmark, Install, Measured, Outcome as Ran};
use super::{Host, Observer, Outcome, Sink};
use crate::interpreter::Variant;
use crate::process::StopCheck;
use crate::results::{Missing, PyperformanceSettings, ResultsFile, SingleRun, TestInfo};
use crate::workloads::Group;

/// Runs one pyperformance benchmark on one variant: the benchmarks' kind of worker.
/// [`Installed`] runs pyperformance; tests script one.
pub trait Benchmarker {
    /// Run `benchmark` on `variant`, its output appended to `log`, ended early when `stop`
    /// names a stop request. `Err` only when ftbench itself failed or was stopped; a benchmark
    /// that failed is an [`Ran::Failed`].
    fn run(
        &mut self,
        benchmark: &Benchmark,
        variant: &Variant,
        log: &Path,
        stop: StopCheck,
    ) -> Result<Ran>;
}

/// pyperformance installed for each interpreter, run as the run's settings say.
pub struct Installed<'a> {
    pub installs: &'a [(PathBuf, Install)],
    pub settings: &'a PyperformanceSettings,
}

impl Installed<'_> {
    /// The install for `variant`'s interpreter (a `+gil` variant shares its build's).
    pub fn of(&self, variant: &Variant) -> &Install {
        &self
            .installs
            .iter()
            .find(|(p, _)| *p == variant.interpreter.path)
            .expect("every interpreter was installed")
            .1
    }
}

impl Benchmarker for Installed<'_> {
    fn run(
        &mut self,
        benchmark: &Benchmark,
        variant: &Variant,
        log: &Path,
        stop: StopCheck,
    ) -> Result<Ran> {
        self.of(variant)
            .run(benchmark, variant.gil, self.settings, log, stop)
    }
}

/// One benchmark on one label (an index into the run's variants).
#[derive(Debug, Clone)]
pub struct Step {
    pub benchmark: Benchmark,
    pub label: usize,
}

/// The steps still to run: every benchmark in `all` on every label whose list (`per_label`,
/// in the variants' order) holds it and whose results `results` does not hold yet, sorted by
/// name, the labels' order reversed every other benchmark.
pub fn steps(
    mut all: Vec<Benchmark>,
    per_label: &[Vec<String>],
    variants: &[Variant],
    results: &ResultsFile,
) -> Vec<Step> {
    all.sort_by(|a, b| a.name.cmp(&b.name));
    let labels = variants.len();
    let mut steps = Vec::new();
    for (i, benchmark) in all.into_iter().enumerate() {
        let order: Vec<usize> = if i % 2 == 0 {
            (0..labels).collect()
        } else {
            (0..labels).rev().collect()
        };
        for label in order {
            if per_label[label].contains(&benchmark.name)
                && !done(results, &benchmark.name, &variants[label].label)
            {
                steps.push(Step {
                    benchmark: benchmark.clone(),
                    label,
                });
            }
        }
    }
    steps
}

/// Whether a benchmark's results for `label` are already in the file (a resumed run).
fn done(results: &ResultsFile, benchmark: &str, label: &str) -> bool {
    results.points().iter().any(|p| {
        p.label == label
            && results
                .settings
                .test_info(&p.test)
                .is_some_and(|t| t.module == benchmark)
    })
}

/// What a benchmark run is made of: who runs the benchmarks, the machine it runs on, who
/// watches, and where each benchmark's log goes.
pub struct Parts<'a> {
    pub benchmarker: &'a mut dyn Benchmarker,
    pub host: &'a mut dyn Host,
    pub observer: &'a dyn Observer,
    pub logs: &'a Path,
}

/// Run `steps` on `variants`, handing `results` to `sink` after each; a stop request between
/// two benchmarks, or one that ended a benchmark, ends the run with what finished kept.
pub fn run(
    steps: &[Step],
    variants: &[Variant],
    results: &mut ResultsFile,
    parts: &mut Parts,
    sink: &mut dyn Sink,
) -> Result<Outcome> {
    parts.observer.start(steps.len() as u64);
    let ended = run_steps(steps, variants, results, parts, sink);
    parts.observer.finish();
    ended
}

/// [`run`]'s loop: each step in turn, the file saved after each; returns at a stop request.
fn run_steps(
    steps: &[Step],
    variants: &[Variant],
    results: &mut ResultsFile,
    parts: &mut Parts,
    sink: &mut dyn Sink,
) -> Result<Outcome> {
    for step in steps {
        if let Some(stop) = parts.host.stop_requested() {
            return Ok(Outcome::Stopped(stop));
        }
        let variant = &variants[step.label];
        let name = &step.benchmark.name;
        parts.observer.benchmark(name, variant);
        parts.host.next_pair();
        if !results.settings.allow_load && parts.host.willing() {
            let observer = parts.observer;
            parts.host.wait_for_quiet(1, &|text| observer.line(text));
        }
        let log = parts.logs.join(format!(
            "{}-{}.log",
            crate::format::slug(name),
            crate::format::slug(&variant.label)
        ));
        let started = Instant::now();
        parts.host.before_process();
        let host = &*parts.host;
        let ran = parts
            .benchmarker
            .run(&step.benchmark, variant, &log, &|| host.stop_requested());
        let disturbed = parts.host.disturbed(1);
        let line = match ran {
            Err(err) => {
                if let Some(stop) = parts.host.stop_requested() {
                    return Ok(Outcome::Stopped(stop));
                }
                record_failure(results, name, &variant.label, format!("{err:#}"))
            }
            Ok(Ran::Failed(reason)) => record_failure(results, name, &variant.label, reason),
            Ok(Ran::Measured(measured)) => record(results, variant, name, &measured, disturbed),
        };
        parts.observer.line(&line);
        if let Some(run) = results.settings.pyperformance.as_mut() {
            *run.wall_s.entry(variant.label.clone()).or_default() +=
                started.elapsed().as_secs_f64();
        }
        sink.save(results)?;
        parts.observer.advance(1);
    }
    Ok(Outcome::Completed)
}

fn record_failure(
    results: &mut ResultsFile,
    benchmark: &str,
    label: &str,
    reason: String,
) -> String {
    let line = format!("  {label:<14} {benchmark:<22} FAILED: {reason}");
    results.errors.push(Missing {
        test: benchmark.to_string(),
        label: label.to_string(),
        thread_count: None,
        reason,
    });
    line
}

/// Add one benchmark's values for a label; a GIL in the wrong state is marked, named and said.
fn record(
    results: &mut ResultsFile,
    variant: &Variant,
    benchmark: &str,
    measured: &Measured,
    disturbed: bool,
) -> String {
    let gil = &measured.gil;
    let expects_gil = variant.expects_gil();
    let extra = (!gil.enabled_by.is_empty())
        .then(|| serde_json::json!({ "gil_enabled_by": gil.enabled_by }));
    let mut parts = Vec::new();
    for imported in &measured.benchmarks {
        if results.settings.test_info(&imported.name).is_none() {
            results.settings.test_info.push(TestInfo::external(
                &imported.name,
                benchmark,
                Group::Pyperformance,
                "runs_per_sec",
            ));
        }
        results.add_single_run(
            &imported.name,
            &variant.label,
            &imported.seconds,
            &SingleRun {
                gil_enabled: gil.gil_enabled(),
                expects_gil,
                disturbed,
                extra: extra.clone(),
            },
        );
        let median = crate::stats::median(&imported.seconds);
        parts.push(format!(
            "{} {} ({} value(s))",
            imported.name,
            crate::format::seconds(median),
            imported.seconds.len()
        ));
    }
    let mut line = format!("  {:<14} {}", variant.label, parts.join(", "));
    if gil.gil_enabled() != expects_gil {
        line.push_str("  GIL!");
        let warning = gil_warning(results, variant, benchmark, measured);
        results.warnings.push(warning);
    }
    if disturbed {
        line.push_str("  BUSY!");
    }
    line
}

/// What to say of a benchmark whose GIL was not in the state its label asks for.
fn gil_warning(
    results: &ResultsFile,
    variant: &Variant,
    benchmark: &str,
    measured: &Measured,
) -> String {
    let gil = &measured.gil;
    if !gil.gil_enabled() {
        return format!(
            "{benchmark} ran on {} with the GIL off although its mode asks for it on; marked GIL!",
            variant.label
        );
    }
    let by = if gil.enabled_by.is_empty() {
        "an import".to_string()
    } else {
        format!("importing {}", gil.enabled_by.join(", "))
    };
    format!(
        "{benchmark} ran on {} with the GIL on: {by} turned it back on in {} of {} process(es) (`ftbench audit` names each distribution that does); marked GIL!{}",
        variant.label,
        gil.enabled,
        gil.processes,
        if results.settings.include_gil_benchmarks {
            " and kept in the geometric mean (--include-gil-benchmarks)"
        } else {
            " and left out of its geometric mean (--include-gil-benchmarks keeps it)"
        }
    )
}
