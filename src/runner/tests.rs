//! The measuring loop on a scripted [`FakeWorker`]: which requests it sends, in which order,
//! and what it skips on resume (hyperfine's `MockExecutor` is the model). The request logs are
//! insta snapshots: a change to the order of rounds shows up as a diff to review.

use std::path::PathBuf;

use super::protocol::{Mode, RawSample, Request, Scaling};
use super::worker::{Error, Hello, Worker, WorkerOutput};
use super::{Outcome, Plan, run};
use crate::interpreter::{GilMode, Interpreter, InterpreterInfo, InterpreterSource, Variant};
use crate::output::Printer;
use crate::results::{ResultsFile, Settings};

/// A worker that answers every request at once and writes down what it was asked.
#[derive(Default)]
struct FakeWorker {
    log: Vec<String>,
    /// Calibrations answered so far, each one a different work size.
    calibrations: u64,
    /// Crash when asked to measure this (label, threads).
    crash_at: Option<(String, u32)>,
    /// Measurements answered so far per (label, threads); with `noisy`, each one's samples
    /// take a different time.
    measured: std::collections::HashMap<(String, u32), u64>,
    /// Samples vary from process to process by up to this share (0: all alike).
    noisy: f64,
}

impl Worker for FakeWorker {
    fn run(&mut self, variant: &Variant, request: &Request) -> Result<WorkerOutput, Error> {
        let hello = Hello {
            pid: 1,
            version: variant.interpreter.info.version.clone(),
            free_threaded: variant.interpreter.info.free_threaded,
            gil_enabled: variant.expects_gil(),
        };
        let what = match request.mode {
            Mode::Calibrate => "calibrate".to_string(),
            Mode::Measure => format!(
                "measure {} work {}",
                crate::format::threads(request.threads),
                request.work_size
            ),
        };
        self.log.push(format!(
            "{:<5} {:<16} {what}",
            variant.label,
            request.module_name()
        ));
        if self.crash_at.as_ref() == Some(&(variant.label.clone(), request.threads))
            && request.mode == Mode::Measure
        {
            return Err(Error::Crashed {
                status: "signal 11".into(),
                samples: 0,
                stderr: "Segmentation fault".into(),
            });
        }
        if request.mode == Mode::Calibrate {
            self.calibrations += 1;
            return Ok(WorkerOutput {
                hello,
                calibration: Some((1000 * self.calibrations, 1_000_000)),
                samples: Vec::new(),
            });
        }
        // Threads that scale perfectly: a sample takes 1 ms / threads, give or take `noisy`
        // from one process to the next (a fixed pattern: the test is deterministic).
        let count = self
            .measured
            .entry((variant.label.clone(), request.threads))
            .or_default();
        *count += 1;
        let wobble = [1.0, -1.0, 0.5, -0.5, 0.0][(*count % 5) as usize] * self.noisy;
        let wall_ns = (1_000_000.0 * (1.0 + wobble)) as u64 / u64::from(request.threads.max(1));
        let samples = (0..request.warmup + request.samples)
            .map(|index| RawSample {
                index,
                warmup: index < request.warmup,
                wall_ns,
                work_units: request.work_size,
                checksum: "1".into(),
                expected: "1".into(),
                gil_enabled_before: variant.expects_gil(),
                gil_enabled_after: variant.expects_gil(),
                extra: None,
                cpu_ns: None,
                window_ns: None,
                cpu_wait_ns: None,
                busy_ns: None,
                steal_ns: None,
                own_ns: None,
                voluntary_switches: None,
                involuntary_switches: None,
                max_rss_kb: None,
                rss_kb: None,
                threads: None,
            })
            .collect();
        Ok(WorkerOutput {
            hello,
            calibration: None,
            samples,
        })
    }
}

impl Request {
    /// The test a request is for: regular tests share one module, so their `bench` parameter.
    fn module_name(&self) -> String {
        self.params
            .as_ref()
            .and_then(|p| p.get("bench"))
            .and_then(|b| b.as_str())
            .map_or_else(|| self.module.clone(), str::to_string)
    }
}

fn variant(label: &str, free_threaded: bool) -> Variant {
    let info = InterpreterInfo::imported("3.13.15", "/fake/python", "cpython", free_threaded);
    Variant::new(
        label.to_string(),
        Interpreter {
            path: PathBuf::from("/fake/python"),
            source: InterpreterSource::User,
            info,
        },
        GilMode::Default,
    )
}

fn plan(tests: &[&str], processes: u32) -> Plan {
    let settings = Settings {
        tests: tests.iter().map(|t| (*t).to_string()).collect(),
        threads: vec![1, 2],
        target_ns: 1_000_000,
        warmup: 1,
        samples: 1,
        processes,
        scaling: Scaling::Strong,
        timeout_s: 10,
        quick: false,
        baseline: None,
        // No waiting for a quiet machine: the fake answers in microseconds.
        allow_load: true,
        precision_pct: None,
        max_time_per_point_s: None,
        user_tests: Vec::new(),
        test_info: Vec::new(),
        cpus: Vec::new(),
        include_gil_benchmarks: false,
        pyperformance: None,
    };
    Plan {
        variants: vec![variant("ft", true), variant("gil", false)],
        tests: tests
            .iter()
            .map(|t| crate::workloads::find(t).expect("a built-in test"))
            .collect(),
        settings,
    }
}

/// Writes the raw file, nothing derived.
struct RawFile(std::path::PathBuf);

impl super::Sink for RawFile {
    fn save(&mut self, results: &mut ResultsFile) -> anyhow::Result<()> {
        crate::results::write_atomically(&self.0, &serde_json::to_vec(results)?)?;
        Ok(())
    }

    fn speedup(&self, _: &ResultsFile, _: &str, _: &str, _: u32) -> Option<crate::stats::Estimate> {
        None
    }
}

/// Run `plan` on a fresh fake (into `results`), returning the fake's log.
fn measure(plan: &Plan, results: &mut ResultsFile) -> Vec<String> {
    measure_with(plan, results, FakeWorker::default())
}

/// Run `plan` on `fake` (into `results`), returning its log; the run must complete.
fn measure_with(plan: &Plan, results: &mut ResultsFile, mut fake: FakeWorker) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let mut sink = RawFile(dir.path().join("results.json"));
    let outcome = run(plan, results, &mut fake, &mut sink, &Printer::new(true)).unwrap();
    assert_eq!(outcome, Outcome::Completed);
    fake.log
}

#[test]
fn a_crashing_worker_fails_its_point_and_the_run_goes_on() {
    let plan = plan(&["parallel_compute"], 2);
    let mut results = ResultsFile::new(plan.settings.clone(), Vec::new());
    let fake = FakeWorker {
        crash_at: Some(("gil".into(), 2)),
        ..FakeWorker::default()
    };
    measure_with(&plan, &mut results, fake);
    // The failed point is an error with the worker's own words; the five others are measured.
    assert_eq!(results.points.len(), 5);
    assert!(
        !results
            .points
            .iter()
            .any(|p| p.label == "gil" && p.thread_count == 2)
    );
    assert_eq!(results.errors.len(), 1, "{:?}", results.errors);
    let error = &results.errors[0];
    assert_eq!(
        (
            error.test.as_str(),
            error.label.as_str(),
            error.thread_count
        ),
        ("parallel_compute", "gil", Some(2))
    );
    assert!(
        error.reason.contains("signal 11") && error.reason.contains("Segmentation fault"),
        "{}",
        error.reason
    );
}

#[test]
fn precision_adds_processes_until_the_interval_is_narrow_enough() {
    let mut plan = plan(&["parallel_compute"], 2);
    plan.settings.precision_pct = Some(5.0);
    plan.settings.max_time_per_point_s = Some(30.0);
    // Samples 10% apart: two processes give an interval far wider than 5%.
    let noisy = FakeWorker {
        noisy: 0.10,
        ..FakeWorker::default()
    };
    let mut results = ResultsFile::new(plan.settings.clone(), Vec::new());
    measure_with(&plan, &mut results, noisy);
    for point in &results.points {
        let half = point.throughput.relative_half_width() * 100.0;
        assert!(half <= 5.0, "{} at ±{half:.1}%", point.name());
        assert!(point.samples.len() > 2, "{}: more processes", point.name());
    }
    // Already precise: no process beyond the plan's two.
    let mut precise = ResultsFile::new(plan.settings.clone(), Vec::new());
    measure_with(&plan, &mut precise, FakeWorker::default());
    assert!(precise.points.iter().all(|p| p.samples.len() == 2));
}

#[test]
fn rounds_alternate_direction_across_a_curve() {
    // Each label calibrates once, then its worker processes run in rounds over serial, 1 and 2
    // threads, every other round reversed (ABBA), so a slow spell spreads over the curve.
    let plan = plan(&["parallel_compute"], 3);
    let mut results = ResultsFile::new(plan.settings.clone(), Vec::new());
    let log = measure(&plan, &mut results);
    insta::assert_snapshot!(log.join("\n"));
    assert_eq!(results.points.len(), 6);
    assert!(results.points.iter().all(|p| p.samples.len() == 3));
}

#[test]
fn resume_measures_only_the_missing_points() {
    let plan = plan(&["parallel_compute"], 2);
    let mut results = ResultsFile::new(plan.settings.clone(), Vec::new());
    measure(&plan, &mut results);
    // Lose the gil label's 2-thread point, as an interrupted run would not have it.
    let kept: Vec<_> = results
        .points
        .iter()
        .filter(|p| !(p.label == "gil" && p.thread_count == 2))
        .cloned()
        .collect();
    let mut resumed = ResultsFile::new(plan.settings.clone(), Vec::new());
    resumed.calibrations = results.calibrations.clone();
    resumed.points = kept;
    let log = measure(&plan, &mut resumed);
    insta::assert_snapshot!(log.join("\n"));
    assert_eq!(resumed.points.len(), 6);
}

#[test]
fn regular_tests_run_the_same_work_on_every_label() {
    // Durations compare only when every label ran the same work: the first label calibrates,
    // the others reuse its work size (the fake gives each calibration a different size).
    let plan = plan(&["nbody"], 2);
    let mut results = ResultsFile::new(plan.settings.clone(), Vec::new());
    let log = measure(&plan, &mut results);
    insta::assert_snapshot!(log.join("\n"));
    assert_eq!(results.calibrations.len(), 1);
    let sizes: Vec<u64> = results
        .points
        .iter()
        .flat_map(|p| p.samples.iter().map(|s| s.work_units))
        .collect();
    assert!(sizes.iter().all(|s| *s == 1000), "{sizes:?}");
}
