//! The measuring loop on a scripted [`FakeWorker`]: which requests it sends, in which order,
//! and what it skips on resume (hyperfine's `MockExecutor` is the model). The request logs are
//! insta snapshots: a change to the order of rounds shows up as a diff to review.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::rc::Rc;

use super::protocol::{Mode, RawSample, Request, Scaling};
use super::worker::{Error, Hello, Worker, WorkerOutput};
use super::{Event, Host, Observer, Outcome, Parts, Plan, run_on};
use crate::interpreter::{GilMode, Interpreter, InterpreterInfo, InterpreterSource, Variant};
use crate::interrupt::Stop;
use crate::results::{ResultsFile, Settings};
use crate::workloads::Workload;

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
    /// A signal arrives while measuring this (label, threads): the worker is stopped, as a
    /// real one is, and the signal flag is set.
    signal_at: Option<(String, u32, Stop)>,
    /// The signal flag the fake host reads.
    signal: Rc<Cell<Option<Stop>>>,
    /// This label's interpreter lacks a module the test imports.
    missing_module_on: Option<String>,
    /// The first process of this (label, threads) has threads that waited for a CPU for
    /// 40% of their time (another process ran beside it).
    crowded_at: Option<(String, u32)>,
}

impl Worker for FakeWorker {
    #[expect(
        clippy::too_many_lines,
        reason = "test code: the fake worker's every behaviour in one place"
    )]
    fn run(
        &mut self,
        variant: &Variant,
        request: &Request,
        _stop: &dyn Fn() -> bool,
    ) -> Result<WorkerOutput, Error> {
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
        if let Some((label, threads, stop)) = &self.signal_at
            && (label, *threads) == (&variant.label, request.threads)
            && request.mode == Mode::Measure
        {
            self.signal.set(Some(*stop));
            return Err(Error::Interrupted);
        }
        if request.mode == Mode::Calibrate
            && self.missing_module_on.as_ref() == Some(&variant.label)
        {
            return Err(Error::MissingDependency {
                message: "No module named 'numpy'".into(),
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
                threads: (self.crowded_at.as_ref()
                    == Some(&(variant.label.clone(), request.threads))
                    && *count == 1)
                    .then(|| {
                        (0..request.threads)
                            .map(|_| crate::results::ThreadTime {
                                offset_ns: 0,
                                wall_ns,
                                cpu_ns: wall_ns * 6 / 10,
                                runq_ns: Some(wall_ns * 4 / 10),
                                switches: None,
                                cpus: None,
                            })
                            .collect()
                    }),
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
        // The fake host decides whether other work disturbed a process.
        allow_load: false,
        precision_pct: None,
        max_time_per_point_s: None,
        user_tests: Vec::new(),
        test_info: Vec::new(),
        cpus: Vec::new(),
        include_gil_benchmarks: false,
        pyperformance: None,
        interleave_labels: false,
    };
    Plan {
        variants: vec![variant("ft", true), variant("gil", false)],
        tests: tests
            .iter()
            .map(|t| crate::workloads::find(t).expect("a built-in test"))
            .collect(),
        settings,
        again: false,
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

/// A machine whose other work is scripted: no counters, no clock, no real signals.
#[derive(Default)]
struct FakeHost {
    /// Whether each worker process in turn was disturbed; quiet once the script runs out.
    disturbed: VecDeque<bool>,
    /// Worker processes started so far.
    processes: u32,
    /// Waits for a quiet machine so far.
    waits: u32,
    /// Stop (as a signal between two processes would) once this many processes started.
    stop_after: Option<(u32, Stop)>,
    /// The signal flag, which a [`FakeWorker`] may set while it measures.
    signal: Rc<Cell<Option<Stop>>>,
}

impl Host for FakeHost {
    fn next_pair(&mut self) {}

    fn before_process(&mut self) {
        self.processes += 1;
    }

    fn disturbed(&mut self, _needed: u32) -> bool {
        self.disturbed.pop_front().unwrap_or(false)
    }

    fn willing(&self) -> bool {
        true
    }

    fn wait_for_quiet(&mut self, _needed: u32, say: &dyn Fn(&str)) {
        self.waits += 1;
        say("waiting for a quiet machine");
    }

    fn slowdown(&mut self, _cpus: &[u32]) -> Option<f64> {
        None
    }

    fn stop_requested(&self) -> Option<Stop> {
        self.signal.get().or_else(|| {
            self.stop_after
                .filter(|(after, _)| self.processes >= *after)
                .map(|(_, stop)| stop)
        })
    }
}

/// Writes down what the runner tells, one line per event.
#[derive(Default)]
struct Told(RefCell<Vec<String>>);

impl Observer for Told {
    fn start(&self, total: u64) {
        self.0.borrow_mut().push(format!("start {total}"));
    }

    fn pair(&self, _: &Workload, _: &crate::interpreter::Variant) {}

    fn advance(&self, _: u64) {}

    fn event(&self, workload: &Workload, variant: &crate::interpreter::Variant, event: Event) {
        let what = match event {
            Event::Skipped { reason } => format!("skipped: {reason}"),
            Event::CalibrationFailed { reason, .. } => format!("calibration failed: {reason}"),
            Event::Measured { point, .. } => format!(
                "measured {} ({} samples)",
                crate::format::threads(point.thread_count),
                point.samples.len()
            ),
            Event::Failed {
                thread_count,
                reason,
            } => format!("failed {}: {reason}", crate::format::threads(thread_count)),
            Event::Warning(text) => format!("warning: {text}"),
            Event::Waiting { thread_count, text } => {
                format!("{}: {text}", crate::format::threads(thread_count))
            }
        };
        self.0
            .borrow_mut()
            .push(format!("{} {}: {what}", variant.label, workload.name));
    }

    fn benchmark(&self, name: &str, variant: &crate::interpreter::Variant) {
        self.0
            .borrow_mut()
            .push(format!("{name} on {}", variant.label));
    }

    fn line(&self, text: &str) {
        self.0.borrow_mut().push(text.trim().to_string());
    }

    fn finish(&self) {
        self.0.borrow_mut().push("finish".to_string());
    }
}

/// What a run on fakes did: the worker's requests, the runner's events, the host's counts.
struct Ran {
    outcome: Outcome,
    requests: Vec<String>,
    told: Vec<String>,
    host: FakeHost,
    /// The results file as last written.
    written: ResultsFile,
}

/// Run `plan` on `fake` and `host` into `results`.
fn run_fakes(
    plan: &Plan,
    results: &mut ResultsFile,
    mut fake: FakeWorker,
    mut host: FakeHost,
) -> Ran {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("results.json");
    let mut sink = RawFile(path.clone());
    fake.signal = Rc::clone(&host.signal);
    let told = Told::default();
    let mut parts = Parts {
        worker: &mut fake,
        host: &mut host,
        observer: &told,
    };
    let outcome = run_on(plan, results, &mut parts, &mut sink).unwrap();
    let written = serde_json::from_slice(&fs_err::read(&path).unwrap()).unwrap();
    Ran {
        outcome,
        requests: fake.log,
        told: told.0.into_inner(),
        host,
        written,
    }
}

/// Run `plan` on a fresh fake (into `results`), returning the fake's log.
fn measure(plan: &Plan, results: &mut ResultsFile) -> Vec<String> {
    measure_with(plan, results, FakeWorker::default())
}

/// Run `plan` on `fake` (into `results`) on a quiet machine, returning its log; the run must
/// complete.
fn measure_with(plan: &Plan, results: &mut ResultsFile, fake: FakeWorker) -> Vec<String> {
    let ran = run_fakes(plan, results, fake, FakeHost::default());
    assert_eq!(ran.outcome, Outcome::Completed);
    ran.requests
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
    assert_eq!(results.points().len(), 5);
    assert!(
        !results
            .points()
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
    let interval = |samples: &[crate::results::PointSample]| {
        let values: Vec<f64> = samples.iter().map(|s| s.throughput(1.0)).collect();
        crate::stats::Summary::from_samples(&values)
            .map_or(f64::INFINITY, |s| s.relative_half_width() * 100.0)
    };
    for point in results.points() {
        let half = point.throughput.relative_half_width() * 100.0;
        assert!(half <= 5.0, "{} at ±{half:.1}%", results.point_name(point));
        assert!(
            point.samples.len() > 2,
            "{}: more processes",
            results.point_name(point)
        );
        // It stops at the target: one process fewer had not reached it.
        let fewer = interval(&point.samples[..point.samples.len() - 1]);
        assert!(
            fewer > 5.0,
            "{}: ran on after ±{fewer:.1}%",
            results.point_name(point)
        );
    }
    // Already precise: no process beyond the plan's two.
    let mut precise = ResultsFile::new(plan.settings.clone(), Vec::new());
    measure_with(&plan, &mut precise, FakeWorker::default());
    assert!(precise.points().iter().all(|p| p.samples.len() == 2));
}

#[test]
fn rounds_alternate_direction_across_a_curve() {
    // Each label calibrates once, then its worker processes run in rounds over serial, 1 and 2
    // threads, every other round reversed (ABBA), so a slow spell spreads over the curve.
    let plan = plan(&["parallel_compute"], 3);
    let mut results = ResultsFile::new(plan.settings.clone(), Vec::new());
    let log = measure(&plan, &mut results);
    insta::assert_snapshot!(log.join("\n"));
    assert_eq!(results.points().len(), 6);
    assert!(results.points().iter().all(|p| p.samples.len() == 3));
}

#[test]
fn interleaved_labels_take_turns_with_one_work_size_and_a_second_pass_adds_samples() {
    // A gate's two labels: one calibration, then each round visits every point of both labels,
    // every other round reversed (A B, then B A), so drift between them cancels.
    let mut plan = plan(&["parallel_compute"], 2);
    plan.settings.interleave_labels = true;
    let mut results = ResultsFile::new(plan.settings.clone(), Vec::new());
    let log = measure(&plan, &mut results);
    assert_eq!(
        log,
        [
            "ft    parallel_compute calibrate",
            "ft    parallel_compute measure serial work 1000",
            "ft    parallel_compute measure 1 thread work 1000",
            "ft    parallel_compute measure 2 threads work 1000",
            "gil   parallel_compute measure serial work 1000",
            "gil   parallel_compute measure 1 thread work 1000",
            "gil   parallel_compute measure 2 threads work 1000",
            "gil   parallel_compute measure 2 threads work 1000",
            "gil   parallel_compute measure 1 thread work 1000",
            "gil   parallel_compute measure serial work 1000",
            "ft    parallel_compute measure 2 threads work 1000",
            "ft    parallel_compute measure 1 thread work 1000",
            "ft    parallel_compute measure serial work 1000",
        ]
    );
    assert_eq!(
        results
            .calibration("parallel_compute", "gil")
            .unwrap()
            .work_size,
        1000
    );
    // Again: no calibration, every point measured by two more processes, numbered after its own.
    let again = Plan {
        again: true,
        ..plan.clone()
    };
    let log = measure(&again, &mut results);
    assert_eq!(log.len(), 12, "{log:?}");
    assert!(log.iter().all(|l| !l.contains("calibrate")));
    assert_eq!(results.points().len(), 6);
    for point in results.points() {
        let processes: Vec<u32> = point.samples.iter().map(|s| s.process).collect();
        assert_eq!(processes, [0, 1, 2, 3], "{point:?}");
    }
}

#[test]
fn a_process_whose_threads_waited_for_a_cpu_is_measured_again() {
    // Another process ran beside the first worker process of `ft` at 2 threads for a second:
    // the load counters saw nothing (the fake host says quiet), the threads' run-queue time
    // did. That process is measured again, and the point keeps only the clean one.
    let plan = plan(&["parallel_compute"], 1);
    let mut results = ResultsFile::new(plan.settings.clone(), Vec::new());
    let fake = FakeWorker {
        crowded_at: Some(("ft".into(), 2)),
        ..FakeWorker::default()
    };
    let ran = run_fakes(&plan, &mut results, fake, FakeHost::default());
    let twice = ran
        .requests
        .iter()
        .filter(|l| l.starts_with("ft ") && l.contains("measure 2 threads"))
        .count();
    assert_eq!(twice, 2, "{:?}", ran.requests);
    assert_eq!(ran.host.waits, 1);
    let point = results.point("parallel_compute", "ft", 2).unwrap();
    assert_eq!(point.samples.len(), 1);
    assert!(!point.disturbed());
}

#[test]
fn a_strong_work_size_splits_evenly_or_says_what_the_split_costs() {
    let plan = plan(&["parallel_compute"], 1);
    let workload = crate::workloads::find("parallel_compute").unwrap();
    let mut settings = plan.settings.clone();
    settings.threads = vec![1, 2, 3, 4];
    // 7 calls over 1..4 threads: rounded up to 12, which each count divides.
    assert_eq!(super::even_work_size(workload, &settings, 7), 12);
    assert_eq!(super::uneven_split(workload, &settings, 12), None);
    // Too small to round (the least common multiple of 1..16 is 720720): said, with its cost.
    settings.threads = (1..=16).collect();
    assert_eq!(super::even_work_size(workload, &settings, 7), 7);
    let warning = super::uneven_split(workload, &settings, 7).unwrap();
    assert!(warning.contains("do not split evenly over"), "{warning}");
    // A size the user fixed: as given, with what its split costs.
    settings.threads = vec![1, 2];
    let warning = super::uneven_split(workload, &settings, 7).unwrap();
    assert!(
        warning.contains("7 units of work do not split evenly over 2 threads: their largest part is 4, so they can reach at most 1.75x"),
        "{warning}"
    );
    // Weak scaling splits nothing.
    settings.scaling = crate::results::Scaling::Weak;
    assert_eq!(super::uneven_split(workload, &settings, 7), None);
}

#[test]
fn resume_measures_only_the_missing_points() {
    let plan = plan(&["parallel_compute"], 2);
    let mut results = ResultsFile::new(plan.settings.clone(), Vec::new());
    measure(&plan, &mut results);
    // Lose the gil label's 2-thread point, as an interrupted run would not have it.
    let mut resumed = results.clone();
    resumed.retain_points(|p| !(p.label == "gil" && p.thread_count == 2));
    let log = measure(&plan, &mut resumed);
    insta::assert_snapshot!(log.join("\n"));
    assert_eq!(resumed.points().len(), 6);
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
        .points()
        .iter()
        .flat_map(|p| p.samples.iter().map(|s| s.work_units))
        .collect();
    assert!(sizes.iter().all(|s| *s == 1000), "{sizes:?}");
}

#[test]
fn the_schedule_leaves_out_what_the_file_holds_and_serial_tests_run_once() {
    let plan = plan(&["parallel_compute", "nbody"], 1);
    let mut results = ResultsFile::new(plan.settings.clone(), Vec::new());
    measure(&plan, &mut results);
    results.retain_points(|p| !(p.label == "gil" && p.thread_count == 1));
    let pairs = super::schedule::pairs(&plan, &results);
    let shown: Vec<String> = pairs
        .iter()
        .map(|p| {
            format!(
                "{} {} points {:?} pending {:?} done {}",
                p.workload.name,
                p.variant.label,
                p.points,
                p.pending,
                p.done()
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            "parallel_compute ft points [0, 1, 2] pending [] done 3",
            "parallel_compute gil points [0, 1, 2] pending [1] done 2",
            "nbody ft points [0] pending [] done 1",
            "nbody gil points [0] pending [] done 1",
        ]
    );
}

#[test]
fn ctrl_c_between_points_starts_no_other_worker() {
    // One process per point: each point is finished after its first worker.
    let plan = plan(&["parallel_compute"], 1);
    let mut results = ResultsFile::new(plan.settings.clone(), Vec::new());
    let host = FakeHost {
        stop_after: Some((2, Stop::Interrupt)),
        ..FakeHost::default()
    };
    let ran = run_fakes(&plan, &mut results, FakeWorker::default(), host);
    assert_eq!(ran.outcome, Outcome::Stopped(Stop::Interrupt));
    assert_eq!(
        ran.requests,
        [
            "ft    parallel_compute calibrate",
            "ft    parallel_compute measure serial work 1000",
            "ft    parallel_compute measure 1 thread work 1000",
        ]
    );
    // The two finished points are on disk; nothing was recorded as failed.
    assert_eq!(ran.written.points().len(), 2);
    assert!(ran.written.errors.is_empty() && ran.written.skipped.is_empty());
    assert_eq!(ran.told.last().map(String::as_str), Some("finish"));
}

#[test]
fn a_signal_inside_a_point_stops_its_worker_and_keeps_the_points_before() {
    let plan = plan(&["parallel_compute"], 1);
    let mut results = ResultsFile::new(plan.settings.clone(), Vec::new());
    let fake = FakeWorker {
        signal_at: Some(("ft".into(), 2, Stop::Terminate)),
        ..FakeWorker::default()
    };
    let ran = run_fakes(&plan, &mut results, fake, FakeHost::default());
    assert_eq!(ran.outcome, Outcome::Stopped(Stop::Terminate));
    // The interrupted point is neither measured nor failed, and the gil label never started.
    assert_eq!(ran.requests.len(), 4, "{:#?}", ran.requests);
    assert!(ran.requests.iter().all(|r| r.starts_with("ft ")));
    let kept: Vec<u32> = ran
        .written
        .points()
        .iter()
        .map(|p| p.thread_count)
        .collect();
    assert_eq!(kept, [0, 1]);
    assert!(ran.written.errors.is_empty(), "{:?}", ran.written.errors);
}

#[test]
fn a_disturbed_process_is_measured_again_after_a_wait() {
    let plan = plan(&["parallel_compute"], 1);
    let mut results = ResultsFile::new(plan.settings.clone(), Vec::new());
    let host = FakeHost {
        disturbed: VecDeque::from([true, false]),
        ..FakeHost::default()
    };
    let ran = run_fakes(&plan, &mut results, FakeWorker::default(), host);
    assert_eq!(ran.outcome, Outcome::Completed);
    assert_eq!(ran.host.waits, 1);
    let serial = "ft    parallel_compute measure serial work 1000";
    assert_eq!(ran.requests.iter().filter(|r| *r == serial).count(), 2);
    assert!(
        ran.told
            .contains(&"ft parallel_compute: serial: waiting for a quiet machine".to_string()),
        "{:#?}",
        ran.told
    );
    // Only the quiet process's samples are kept, unmarked.
    let point = results.point("parallel_compute", "ft", 0).unwrap();
    assert_eq!(point.samples.len(), 1);
    assert!(!point.disturbed());
}

#[test]
fn a_machine_that_stays_busy_gets_its_retries_then_the_point_is_marked() {
    let plan = plan(&["parallel_compute"], 1);
    let mut results = ResultsFile::new(plan.settings.clone(), Vec::new());
    let host = FakeHost {
        disturbed: VecDeque::from([true; 3]),
        ..FakeHost::default()
    };
    let ran = run_fakes(&plan, &mut results, FakeWorker::default(), host);
    let retries = crate::machine::load::MAX_RETRIES;
    assert_eq!(ran.host.waits, retries);
    let serial = "ft    parallel_compute measure serial work 1000";
    let runs = ran.requests.iter().filter(|r| *r == serial).count();
    assert_eq!(runs as u32, 1 + retries);
    let point = results.point("parallel_compute", "ft", 0).unwrap();
    assert!(point.disturbed() && point.disturbed_samples() == point.samples.len());
    // The next point found a quiet machine again.
    assert!(
        !results
            .point("parallel_compute", "ft", 1)
            .unwrap()
            .disturbed()
    );
}

#[test]
fn a_missing_module_skips_the_label_and_the_others_run() {
    let plan = plan(&["parallel_compute"], 1);
    let mut results = ResultsFile::new(plan.settings.clone(), Vec::new());
    let fake = FakeWorker {
        missing_module_on: Some("gil".into()),
        ..FakeWorker::default()
    };
    let ran = run_fakes(&plan, &mut results, fake, FakeHost::default());
    assert_eq!(ran.outcome, Outcome::Completed);
    assert!(results.errors.is_empty(), "{:?}", results.errors);
    assert_eq!(results.skipped.len(), 1);
    let skipped = &results.skipped[0];
    assert_eq!(
        (skipped.label.as_str(), skipped.thread_count),
        ("gil", None)
    );
    assert!(
        skipped.reason.contains("No module named 'numpy'"),
        "{}",
        skipped.reason
    );
    assert!(results.points().iter().all(|p| p.label == "ft"));
    assert_eq!(results.points().len(), 3);
    assert!(
        ran.told
            .iter()
            .any(|t| t.starts_with("gil parallel_compute: calibration failed")),
        "{:#?}",
        ran.told
    );
}

// pyperformance's benchmarks through the same host, observer and sink.

/// A pyperformance that answers at once: every benchmark gives two values, and writes down
/// what it was asked to run.
#[derive(Default)]
struct FakeBenchmarker {
    log: Vec<String>,
    /// (benchmark, label) whose processes turn the GIL on by importing this module.
    gil_on: Option<(String, String, String)>,
    /// (benchmark, label) that fails with this reason.
    fails: Option<(String, String, String)>,
    /// A signal arrives while this (benchmark, label) runs.
    signal_at: Option<(String, String, Stop)>,
    signal: Rc<Cell<Option<Stop>>>,
}

impl super::suite::Benchmarker for FakeBenchmarker {
    fn run(
        &mut self,
        benchmark: &super::pyperformance::Benchmark,
        variant: &Variant,
        log: &std::path::Path,
        stop: crate::process::StopCheck,
    ) -> anyhow::Result<super::pyperformance::Outcome> {
        use super::pyperformance::{GilState, Measured, Outcome as Ran};
        let here = (benchmark.name.clone(), variant.label.clone());
        self.log.push(format!(
            "{} {} -> {}",
            here.0,
            here.1,
            log.file_name().unwrap().to_string_lossy()
        ));
        let stop_check = stop;
        if let Some((b, l, stop)) = &self.signal_at
            && (b, l) == (&here.0, &here.1)
        {
            // The signal arrives; the benchmark's processes see the host's stop request.
            self.signal.set(Some(*stop));
            assert_eq!(stop_check(), Some(*stop));
            anyhow::bail!("pyperformance was stopped");
        }
        if let Some((b, l, reason)) = &self.fails
            && (b, l) == (&here.0, &here.1)
        {
            return Ok(Ran::Failed(reason.clone()));
        }
        let culprit = self
            .gil_on
            .as_ref()
            .filter(|(b, l, _)| (b, l) == (&here.0, &here.1))
            .map(|(_, _, module)| module.clone());
        let enabled = usize::from(variant.expects_gil() || culprit.is_some()) * 2;
        Ok(Ran::Measured(Measured {
            benchmarks: vec![crate::results::pyperf::Imported {
                name: benchmark.name.clone(),
                seconds: vec![0.01, 0.011],
            }],
            gil: GilState {
                processes: 2,
                enabled,
                enabled_by: culprit.into_iter().collect(),
            },
        }))
    }
}

fn benchmark(name: &str) -> super::pyperformance::Benchmark {
    super::pyperformance::Benchmark {
        name: name.to_string(),
        tags: Vec::new(),
        requirements: String::new(),
    }
}

/// What a benchmark run on fakes did.
struct Benchmarked {
    outcome: Outcome,
    asked: Vec<String>,
    told: Vec<String>,
    host: FakeHost,
    written: ResultsFile,
}

/// Every benchmark of `names` on both labels (in the order [`super::suite::steps`] gives),
/// on `fake` and `host`.
fn run_benchmarks(
    names: &[&str],
    results: &mut ResultsFile,
    mut fake: FakeBenchmarker,
    mut host: FakeHost,
) -> Benchmarked {
    let variants = [variant("ft", true), variant("gil", false)];
    let every: Vec<String> = names.iter().map(|n| (*n).to_string()).collect();
    let steps = super::suite::steps(
        names.iter().map(|n| benchmark(n)).collect(),
        &[every.clone(), every],
        &variants,
        results,
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("results.json");
    let mut sink = RawFile(path.clone());
    fake.signal = Rc::clone(&host.signal);
    let told = Told::default();
    let mut parts = super::suite::Parts {
        benchmarker: &mut fake,
        host: &mut host,
        observer: &told,
        logs: dir.path(),
    };
    let outcome = super::suite::run(&steps, &variants, results, &mut parts, &mut sink).unwrap();
    // Every test here finishes at least one benchmark, so the file exists.
    let written = serde_json::from_slice(&fs_err::read(&path).unwrap()).unwrap();
    Benchmarked {
        outcome,
        asked: fake.log,
        told: told.0.into_inner(),
        host,
        written,
    }
}

fn benchmark_results(allow_load: bool) -> ResultsFile {
    let settings = Settings {
        allow_load,
        ..Settings::default()
    };
    ResultsFile::new(settings, Vec::new())
}

#[test]
fn benchmarks_take_turns_between_labels_and_each_is_written_when_it_ends() {
    let mut results = benchmark_results(true);
    let ran = run_benchmarks(
        &["nbody", "deepcopy", "json_dumps"],
        &mut results,
        FakeBenchmarker::default(),
        FakeHost::default(),
    );
    assert_eq!(ran.outcome, Outcome::Completed);
    // Sorted by name, the labels' order reversed every other benchmark; a log per step.
    assert_eq!(
        ran.asked,
        [
            "deepcopy ft -> deepcopy-ft.log",
            "deepcopy gil -> deepcopy-gil.log",
            "json_dumps gil -> json_dumps-gil.log",
            "json_dumps ft -> json_dumps-ft.log",
            "nbody ft -> nbody-ft.log",
            "nbody gil -> nbody-gil.log",
        ]
    );
    assert_eq!(ran.host.processes, 6);
    assert_eq!(ran.written.points().len(), 6);
    assert!(ran.written.points().iter().all(|p| p.gil_mismatches == 0));
    assert_eq!(ran.told.first().map(String::as_str), Some("start 6"));
    assert_eq!(ran.told[1], "deepcopy on ft");
    assert!(
        ran.told[2].starts_with("ft             deepcopy "),
        "{:?}",
        ran.told
    );
    assert_eq!(ran.told.last().map(String::as_str), Some("finish"));
    // Each benchmark's test knows the manifest entry it came from.
    assert_eq!(
        ran.written
            .settings
            .test_info("json_dumps")
            .map(|t| t.module.as_str()),
        Some("json_dumps")
    );
}

#[test]
fn a_resumed_benchmark_run_runs_only_what_the_file_lacks() {
    let mut results = benchmark_results(true);
    let first = run_benchmarks(
        &["deepcopy"],
        &mut results,
        FakeBenchmarker::default(),
        FakeHost::default(),
    );
    assert_eq!(first.asked.len(), 2);
    // The file now holds deepcopy on both labels: only nbody runs, still second in the order
    // (its labels reversed).
    let ran = run_benchmarks(
        &["deepcopy", "nbody"],
        &mut results,
        FakeBenchmarker::default(),
        FakeHost::default(),
    );
    assert_eq!(
        ran.asked,
        ["nbody gil -> nbody-gil.log", "nbody ft -> nbody-ft.log"]
    );
    assert_eq!(ran.written.points().len(), 4);
}

#[test]
fn a_benchmark_that_turns_the_gil_on_is_marked_and_its_module_named() {
    let mut results = benchmark_results(true);
    let fake = FakeBenchmarker {
        gil_on: Some(("mako".into(), "ft".into(), "markupsafe._speedups".into())),
        fails: Some(("nbody".into(), "gil".into(), "it did not run".into())),
        ..FakeBenchmarker::default()
    };
    let host = FakeHost {
        // The second benchmark run had other work beside it.
        disturbed: VecDeque::from([false, true]),
        ..FakeHost::default()
    };
    let ran = run_benchmarks(&["mako", "nbody"], &mut results, fake, host);
    assert_eq!(ran.outcome, Outcome::Completed);
    let point = |label: &str| {
        ran.written
            .points()
            .iter()
            .find(|p| p.test == "mako" && p.label == label)
            .cloned()
            .unwrap()
    };
    assert_eq!(point("ft").gil_mismatches, 2);
    assert_eq!(point("gil").gil_mismatches, 0);
    assert!(point("gil").disturbed() && !point("ft").disturbed());
    let mako_ft = ran
        .told
        .iter()
        .find(|t| t.starts_with("ft             mako"))
        .unwrap();
    assert!(mako_ft.ends_with("GIL!"), "{mako_ft}");
    assert_eq!(ran.written.warnings.len(), 1, "{:?}", ran.written.warnings);
    assert!(
        ran.written.warnings[0].contains("mako ran on ft with the GIL on: importing markupsafe._speedups turned it back on in 2 of 2 process(es)"),
        "{}",
        ran.written.warnings[0]
    );
    assert!(
        ran.told
            .iter()
            .any(|t| t.starts_with("ft") && t.contains("mako"))
    );
    assert!(
        ran.told
            .iter()
            .any(|t| t.contains("mako") && t.ends_with("BUSY!")),
        "{:?}",
        ran.told
    );
    // The failed benchmark is an error of its label; its other label has its values.
    assert_eq!(ran.written.errors.len(), 1);
    assert_eq!(
        (
            ran.written.errors[0].test.as_str(),
            ran.written.errors[0].label.as_str()
        ),
        ("nbody", "gil")
    );
    assert!(
        ran.written
            .points()
            .iter()
            .any(|p| p.test == "nbody" && p.label == "ft")
    );
}

#[test]
fn a_benchmark_run_waits_for_a_quiet_machine_unless_load_is_allowed() {
    let mut results = benchmark_results(false);
    let ran = run_benchmarks(
        &["nbody"],
        &mut results,
        FakeBenchmarker::default(),
        FakeHost::default(),
    );
    assert_eq!(ran.host.waits, 2);
    assert_eq!(ran.told[2], "waiting for a quiet machine");
    let mut results = benchmark_results(true);
    let ran = run_benchmarks(
        &["nbody"],
        &mut results,
        FakeBenchmarker::default(),
        FakeHost::default(),
    );
    assert_eq!(ran.host.waits, 0);
}

#[test]
fn ctrl_c_between_benchmarks_starts_no_other_and_keeps_the_finished() {
    let mut results = benchmark_results(true);
    let host = FakeHost {
        stop_after: Some((3, Stop::Interrupt)),
        ..FakeHost::default()
    };
    let ran = run_benchmarks(
        &["deepcopy", "nbody"],
        &mut results,
        FakeBenchmarker::default(),
        host,
    );
    assert_eq!(ran.outcome, Outcome::Stopped(Stop::Interrupt));
    assert_eq!(ran.asked.len(), 3);
    assert_eq!(ran.written.points().len(), 3);
    assert!(ran.written.errors.is_empty());
    assert_eq!(ran.told.last().map(String::as_str), Some("finish"));
}

#[test]
fn a_signal_inside_a_benchmark_stops_the_run_without_a_failure() {
    let mut results = benchmark_results(true);
    let fake = FakeBenchmarker {
        signal_at: Some(("nbody".into(), "gil".into(), Stop::Terminate)),
        ..FakeBenchmarker::default()
    };
    let ran = run_benchmarks(
        &["deepcopy", "nbody"],
        &mut results,
        fake,
        FakeHost::default(),
    );
    assert_eq!(ran.outcome, Outcome::Stopped(Stop::Terminate));
    // deepcopy ran on both labels and is on disk; nbody on gil (its turn first) was stopped, on
    // ft never began.
    assert_eq!(ran.asked.len(), 3, "{:?}", ran.asked);
    assert_eq!(ran.written.points().len(), 2);
    assert!(ran.written.errors.is_empty(), "{:?}", ran.written.errors);
}
