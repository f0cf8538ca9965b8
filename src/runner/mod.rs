//! Running the plan: calibrate each (test, variant), then measure every point in worker
//! processes, verify checksums and GIL state, and write the results file after each point.

pub mod host;
pub mod mechanism;
pub mod native;
pub mod observer;
pub mod profile;
pub mod protocol;
pub mod pyperformance;
pub mod schedule;
pub mod suite;
#[cfg(test)]
mod tests;
pub mod worker;

use std::path::Path;

use anyhow::Result;

use crate::interpreter::Variant;
use crate::interrupt::Stop;
use crate::machine::load;
use crate::output::Printer;
use crate::results::{self, Calibration, Missing, Point, PointSample, ResultsFile, Settings};
use crate::stats::Summary;
use crate::workloads::{Group, Workload};
pub use host::Host;
pub use observer::{Event, Observer};
use protocol::{Mode, PROTOCOL_VERSION, Request};
use schedule::Pair;
pub use worker::{PythonWorker, Worker};

/// What to measure.
#[derive(Debug, Clone)]
pub struct Plan {
    pub variants: Vec<Variant>,
    pub tests: Vec<&'static Workload>,
    pub settings: Settings,
    /// Measure the points the results already hold once more (`settings.processes` more
    /// worker processes each) and add the samples to them: a gate that the first pass left
    /// undecided gets more evidence.
    pub again: bool,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Completed,
    Stopped(Stop),
}

/// What became of a pair's calibration, the first step of each (test, variant): its work size,
/// or why there is none. A point's step ends in a [`Point`] or an [`Ended`].
#[derive(Debug)]
pub enum Step {
    Done(u64),
    /// Not measured, for a reason that is no fault of the test (numpy missing).
    Skipped(String),
    Failed(Failure),
    /// A signal asked the run to stop.
    Stopped(Stop),
}

/// Why a step failed, and in whose words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: FailureKind,
    pub reason: String,
}

/// What kind of failure: a test's code, a worker or the interpreter under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The worker crashed, timed out, broke the protocol, or the test's code raised.
    Worker,
    /// The test needs a module the interpreter lacks (recorded as skipped for a calibration).
    MissingDependency,
    /// The interpreter is no longer the one inspected before the run.
    InterpreterChanged,
    /// A sample did not do the work it was given (its checksum differs).
    Checksum,
    /// The worker finished without what it was asked for.
    NoResult,
}

impl Failure {
    fn new(kind: FailureKind, reason: String) -> Self {
        Self { kind, reason }
    }

    fn of_worker(err: &worker::Error) -> Self {
        let kind = if err.is_skip() {
            FailureKind::MissingDependency
        } else {
            FailureKind::Worker
        };
        Self::new(kind, format!("{err:#}"))
    }
}

/// Threads started per sample by the thread tests with `--quick`.
const QUICK_THREADS_PER_SAMPLE: u64 = 250;

fn request(
    workload: &Workload,
    settings: &Settings,
    mode: Mode,
    threads: u32,
    work_size: u64,
) -> Request {
    let mut params: serde_json::Map<String, serde_json::Value> = workload
        .params
        .iter()
        .map(|(k, v)| ((*k).to_string(), serde_json::Value::from(*v)))
        .collect();
    if workload.group == Group::Regular {
        // regular.py serves every regular test; the test's name picks the benchmark.
        params.insert("bench".to_string(), workload.name.into());
    }
    if workload.group == Group::Threads && settings.quick {
        // A first look: a quarter of the seed's 1000 threads per sample (per-thread costs and
        // their percentiles from 250 threads; the whole runs took 13 of --quick's 80 s).
        params.insert("fixed".to_string(), QUICK_THREADS_PER_SAMPLE.into());
    }
    let params = (!params.is_empty()).then_some(params);
    Request {
        protocol: PROTOCOL_VERSION,
        module: workload.module.to_string(),
        params,
        mode,
        threads,
        work_size,
        scaling: settings.scaling,
        warmup: settings.warmup,
        samples: settings.samples,
        target_ns: settings.target_ns,
        cpus: settings.cpus.clone(),
    }
}

/// Where the runner keeps the results file after each finished point, and what it shows of a
/// point: the owner (`ftbench run`) writes the file with its derived section and knows the
/// point's speedup; the runner computes no statistics itself.
pub trait Sink {
    /// Write `results` whole and atomically.
    fn save(&mut self, results: &mut ResultsFile) -> Result<()>;
    /// A point's speedup over serial with its 95% interval, for the progress line.
    fn speedup(
        &self,
        results: &ResultsFile,
        test: &str,
        label: &str,
        thread_count: u32,
    ) -> Option<crate::stats::Estimate>;
}

/// Measure every point of `plan` that `results` does not hold yet on this machine, showing
/// progress on the terminal and handing `results` to `sink` after each point.
pub fn run(
    plan: &Plan,
    results: &mut ResultsFile,
    worker: &mut dyn Worker,
    sink: &mut dyn Sink,
    printer: &Printer,
) -> Result<Outcome> {
    let mut parts = Parts {
        worker,
        host: &mut host::Real::default(),
        observer: &observer::Terminal::new(printer),
    };
    run_on(plan, results, &mut parts, sink)
}

/// What a run is made of: the worker that measures, the machine it measures on, and who
/// watches its progress.
pub struct Parts<'a> {
    pub worker: &'a mut dyn Worker,
    pub host: &'a mut dyn Host,
    pub observer: &'a dyn Observer,
}

/// Measure every point of `plan` that `results` does not hold yet, in the schedule's order,
/// handing `results` to `sink` after each one. Only an error of the sink (the file cannot be
/// written) ends a run early without a stop.
pub fn run_on(
    plan: &Plan,
    results: &mut ResultsFile,
    parts: &mut Parts,
    sink: &mut dyn Sink,
) -> Result<Outcome> {
    let pairs = schedule::pairs(plan, results);
    parts
        .observer
        .start(pairs.iter().map(|p| p.points.len() as u64).sum());
    // We write after every point, because a later point may hang, crash or be interrupted, and
    // an hour of finished points must survive that.
    let ended = sink.save(results).and_then(|()| {
        for group in groups(plan, &pairs) {
            if let Some(stop) = measure_group(plan, group, results, parts, sink)? {
                sink.save(results)?;
                return Ok(Outcome::Stopped(stop));
            }
        }
        Ok(Outcome::Completed)
    });
    parts.observer.finish();
    ended
}

/// The pairs measured together: each pair alone, or with `interleave_labels` every label of a
/// test, so that their worker processes take turns round by round.
fn groups<'p, 'a>(plan: &Plan, pairs: &'p [Pair<'a>]) -> Vec<&'p [Pair<'a>]> {
    if !plan.settings.interleave_labels {
        return pairs.chunks(1).collect();
    }
    pairs
        .chunk_by(|a, b| std::ptr::eq(a.workload, b.workload))
        .collect()
}

/// A pair ready to measure: its work size and the points still to measure, each with the
/// samples of its rounds so far.
struct Ready<'p, 'a> {
    pair: &'p Pair<'a>,
    work_size: u64,
}

/// Calibrate each pair of a group, or give it the first calibrated pair's work size (the same
/// work splits the same way on every label): the pairs ready to measure, or the signal that
/// stopped it. A pair skipped or failed is recorded and saved.
fn calibrate_group<'p, 'a>(
    plan: &Plan,
    group: &'p [Pair<'a>],
    results: &mut ResultsFile,
    parts: &mut Parts,
    sink: &mut dyn Sink,
) -> Result<Result<Vec<Ready<'p, 'a>>, Stop>> {
    let mut ready: Vec<Ready> = Vec::new();
    for pair in group {
        parts.host.next_pair();
        if !pair.runs {
            parts.observer.advance(pair.points.len() as u64);
            continue;
        }
        parts.observer.pair(pair.workload, pair.variant);
        let shared = ready.first().map(|r| r.work_size);
        let calibrated = match shared {
            Some(work_size)
                if schedule::known_work_size(pair.workload, pair.variant, results).is_none() =>
            {
                results.calibrations.push(Calibration {
                    test: pair.workload.name.to_string(),
                    label: pair.variant.label.clone(),
                    work_size,
                    wall_ns: 0,
                });
                Step::Done(work_size)
            }
            _ => calibrate(plan, pair, results, parts),
        };
        let work_size = match calibrated {
            Step::Done(work_size) => Some(work_size),
            Step::Stopped(stop) => return Ok(Err(stop)),
            Step::Skipped(reason) => {
                record_skipped(pair, reason, results, parts.observer);
                None
            }
            Step::Failed(failure) => {
                record_calibration_failure(pair, &failure, results, parts.observer);
                None
            }
        };
        let Some(work_size) = work_size else {
            sink.save(results)?;
            parts.observer.advance(pair.points.len() as u64);
            continue;
        };
        parts.observer.advance(pair.done() as u64);
        ready.push(Ready { pair, work_size });
    }
    Ok(Ok(ready))
}

/// Calibrate the pairs of a group and measure their pending points in rounds: each round
/// visits every pending point of every pair once (a worker process each), odd rounds in
/// reverse (A B, then B A), so that a slow spell of the machine falls on every label and
/// thread count alike. Pairs measured together share the first one's work size: the same work
/// splits the same way on every label. `Some` when a signal stopped it.
fn measure_group(
    plan: &Plan,
    group: &[Pair],
    results: &mut ResultsFile,
    parts: &mut Parts,
    sink: &mut dyn Sink,
) -> Result<Option<Stop>> {
    let ready = match calibrate_group(plan, group, results, parts, sink)? {
        Ok(ready) => ready,
        Err(stop) => return Ok(Some(stop)),
    };
    // Every pending point of the group, with its samples so far.
    let mut pending: Vec<(usize, u32, Vec<PointSample>)> = ready
        .iter()
        .enumerate()
        .flat_map(|(i, r)| r.pair.pending.iter().map(move |n| (i, *n, Vec::new())))
        .collect();
    let cpus = crate::machine::cpus::or_allowed(&plan.settings.cpus);
    for round in 0..plan.settings.processes {
        let last_round = round + 1 == plan.settings.processes;
        // How slow the CPUs are right now with all of them busy, next to this round's threaded
        // processes: a verdict weighs what the machine did then.
        let slowdown = pending
            .iter()
            .any(|(_, n, _)| *n >= 2)
            .then(|| parts.host.slowdown(&cpus))
            .flatten();
        let keys: Vec<(usize, u32)> = pending.iter().map(|(i, n, _)| (*i, *n)).collect();
        for (index, thread_count) in schedule::round_order(&keys, round) {
            let Ready { pair, work_size } = &ready[index];
            let job = PointJob {
                plan,
                workload: pair.workload,
                variant: pair.variant,
                thread_count,
                work_size: *work_size,
            };
            let at = pending
                .iter()
                .position(|(i, n, _)| *i == index && *n == thread_count)
                .expect("the round visits pending points");
            let finished =
                match measure_round(&job, round, slowdown, &mut pending[at].2, last_round, parts) {
                    Ok(None) => continue,
                    Ok(Some(point)) => Ok(point),
                    Err(Ended::Failed(failure)) => Err(failure),
                    Err(Ended::Stopped(signal)) => return Ok(Some(signal)),
                };
            pending.remove(at);
            record_point(&job, finished, results, parts.observer);
            sink.save(results)?;
            let (test, label) = (pair.workload.name, &pair.variant.label);
            if let Some(point) = results.point(test, label, thread_count) {
                let speedup = sink.speedup(results, test, label, thread_count);
                parts.observer.event(
                    pair.workload,
                    pair.variant,
                    Event::Measured { point, speedup },
                );
            }
            parts.observer.advance(1);
        }
    }
    Ok(None)
}

/// One round of one point: a worker process (measured again while disturbed), and on the last
/// round the processes `--precision` adds and the point's summary. `Ok(None)`: more rounds to go.
fn measure_round(
    job: &PointJob,
    round: u32,
    slowdown: Option<f64>,
    samples: &mut Vec<PointSample>,
    last_round: bool,
    parts: &mut Parts,
) -> Result<Option<Point>, Ended> {
    let new = measure_undisturbed(job, round, parts)?;
    samples.extend(new.into_iter().map(|mut sample| {
        if job.thread_count >= 2 {
            sample.cpu_slowdown = slowdown;
        }
        sample
    }));
    if !last_round {
        return Ok(None);
    }
    add_processes_for_precision(job, parts, samples)?;
    finish_point(job.workload, job.variant, job.thread_count, samples).map(Some)
}

/// A pair given up before its calibration: why, for `results` and the observer.
fn pair_missing(pair: &Pair, reason: String) -> Missing {
    Missing {
        test: pair.workload.name.to_string(),
        label: pair.variant.label.clone(),
        thread_count: None,
        reason,
    }
}

/// Keep a pair that does not run here (numpy missing) in `results`, and tell the observer.
fn record_skipped(pair: &Pair, reason: String, results: &mut ResultsFile, observer: &dyn Observer) {
    observer.event(
        pair.workload,
        pair.variant,
        Event::Skipped { reason: &reason },
    );
    results.skipped.push(pair_missing(pair, reason));
}

/// Keep a pair whose calibration failed in `results` (a missing module as skipped), and tell
/// the observer.
fn record_calibration_failure(
    pair: &Pair,
    failure: &Failure,
    results: &mut ResultsFile,
    observer: &dyn Observer,
) {
    let reason = format!("calibration failed: {}", failure.reason);
    // The same mistake in the user's code fails every label alike: say it once.
    let same_as = results
        .errors
        .iter()
        .chain(&results.skipped)
        .find(|m| m.test == pair.workload.name && m.thread_count.is_none() && m.reason == reason)
        .map(|m| m.label.clone());
    observer.event(
        pair.workload,
        pair.variant,
        Event::CalibrationFailed {
            reason: &reason,
            same_as: same_as.as_deref(),
        },
    );
    if failure.kind == FailureKind::MissingDependency {
        results.skipped.push(pair_missing(pair, reason));
    } else {
        results.errors.push(pair_missing(pair, reason));
    }
}

/// Keep a finished point (or why it failed) in `results`, and tell the observer what went
/// wrong; the measured point itself is told once it is saved.
fn record_point(
    job: &PointJob,
    finished: Result<Point, Failure>,
    results: &mut ResultsFile,
    observer: &dyn Observer,
) {
    let PointJob {
        workload,
        variant,
        thread_count,
        ..
    } = *job;
    match finished {
        Ok(point) => {
            if let Some(warning) = short_samples(workload, &point) {
                observer.event(workload, variant, Event::Warning(&warning));
                results.warnings.push(warning);
            }
            results.merge_point(point, workload.unit_scale);
        }
        Err(Failure { reason, .. }) => {
            observer.event(
                workload,
                variant,
                Event::Failed {
                    thread_count,
                    reason: &reason,
                },
            );
            results.errors.push(Missing {
                test: workload.name.to_string(),
                label: variant.label.clone(),
                thread_count: Some(thread_count),
                reason,
            });
        }
    }
}

/// The work size for a pair, calibrating it if the results do not fix it yet.
fn calibrate(plan: &Plan, pair: &Pair, results: &mut ResultsFile, parts: &mut Parts) -> Step {
    let Pair {
        workload, variant, ..
    } = *pair;
    if let Some(work_size) = schedule::known_work_size(workload, variant, results) {
        return Step::Done(work_size);
    }
    if workload.needs_numpy && variant.interpreter.info.numpy.is_none() {
        return Step::Skipped(format!(
            "numpy is not installed for {} ({}); rerun with --install-deps",
            variant.label,
            variant.run_path.display()
        ));
    }
    if let Some(stop) = parts.host.stop_requested() {
        return Step::Stopped(stop);
    }
    let request = request(workload, &plan.settings, Mode::Calibrate, 1, 0);
    let host = &*parts.host;
    match parts
        .worker
        .run(variant, &request, &|| host.stop_requested().is_some())
    {
        Ok(output) => {
            let Some((work_size, wall_ns)) = output.calibration else {
                return Step::Failed(Failure::new(
                    FailureKind::NoResult,
                    "the worker finished without a calibration".to_string(),
                ));
            };
            // A calibrated size (not one the test fixes: wall_ns 0) splits evenly where it can.
            let work_size = if wall_ns > 0 {
                even_work_size(workload, &plan.settings, work_size)
            } else {
                work_size
            };
            if let Some(warning) = uneven_split(workload, &plan.settings, work_size) {
                parts
                    .observer
                    .event(workload, variant, Event::Warning(&warning));
                results.warnings.push(warning);
            }
            results.calibrations.push(Calibration {
                test: workload.name.to_string(),
                label: variant.label.clone(),
                work_size,
                wall_ns,
            });
            Step::Done(work_size)
        }
        Err(worker::Error::Interrupted) => {
            Step::Stopped(parts.host.stop_requested().unwrap_or(Stop::Interrupt))
        }
        Err(err) => Step::Failed(Failure::of_worker(&err)),
    }
}

/// Whether a test's work is split among its threads (strong scaling of a test that scales).
fn splits_work(workload: &Workload, settings: &Settings) -> bool {
    workload.group.scales() && settings.scaling == results::Scaling::Strong
}

/// A strong-scaling work size rounded up to a multiple of every measured thread count, where
/// that costs at most doubling it: 7 calls split 4 + 3 let two threads reach at most 1.75x,
/// a loss that is neither the code's nor the machine's.
fn even_work_size(workload: &Workload, settings: &Settings, work_size: u64) -> u64 {
    if !splits_work(workload, settings) {
        return work_size;
    }
    let lcm = settings.threads.iter().fold(1u64, |lcm, &n| {
        let n = u64::from(n.max(1));
        let (mut a, mut b) = (lcm, n);
        while b != 0 {
            (a, b) = (b, a % b);
        }
        lcm / a * n
    });
    if lcm <= 2 * work_size.max(1) {
        work_size.div_ceil(lcm) * lcm
    } else {
        work_size
    }
}

/// What an uneven split of a strong-scaling work size costs, where it costs 1% or more at some
/// thread count: said once, so that the loss is not read as the code's or the machine's.
fn uneven_split(workload: &Workload, settings: &Settings, work_size: u64) -> Option<String> {
    if !splits_work(workload, settings) || work_size == 0 {
        return None;
    }
    let worst = settings
        .threads
        .iter()
        .map(|&n| {
            let largest = work_size.div_ceil(u64::from(n.max(1)));
            (n, work_size as f64 / largest as f64)
        })
        .filter(|&(n, reach)| reach < 0.99 * f64::from(n))
        .min_by(|a, b| (a.1 / f64::from(a.0)).total_cmp(&(b.1 / f64::from(b.0))))?;
    Some(format!(
        "{}: {work_size} units of work do not split evenly over {} threads: their largest part is {}, so they can reach at most {:.2}x (give a size every thread count divides, --strong N)",
        workload.name,
        worst.0,
        work_size.div_ceil(u64::from(worst.0)),
        worst.1
    ))
}

/// One point of the plan: what to measure, on which variant, at how many threads, how much work.
#[derive(Clone, Copy)]
struct PointJob<'a> {
    plan: &'a Plan,
    workload: &'a Workload,
    variant: &'a Variant,
    thread_count: u32,
    work_size: u64,
}

impl PointJob<'_> {
    /// The measuring request of this point.
    fn request(&self) -> Request {
        request(
            self.workload,
            &self.plan.settings,
            Mode::Measure,
            self.thread_count,
            self.work_size,
        )
    }

    /// The request of a profiled run: the point's, with samples enough for the recording to
    /// hold [`PROFILE_CPU_NS`] of work. A `--quick` point does ~60 ms of work, 30 samples at
    /// perf's 499 Hz: one sample more or less moved a mechanism by a tenth of the growth, and
    /// a workload that shares nothing read as contending on reference counts.
    fn profile_request(&self) -> Request {
        let mut request = self.request();
        let per_sample = self.plan.settings.target_ns.max(1);
        let needed = PROFILE_CPU_NS.div_ceil(per_sample);
        let needed = u32::try_from(needed).unwrap_or(u32::MAX);
        request.samples = request
            .samples
            .max(needed.saturating_sub(request.warmup))
            .min(PROFILE_MAX_SAMPLES);
        request
    }
}

/// The work one profiled run records, in nanoseconds of the serial run's time: ~750 samples at
/// perf's 499 Hz, so that a mechanism's growth of a tenth of the single-thread cost is three
/// standard errors of the sampling noise (a mechanism at a third of the cost: ~250 samples).
const PROFILE_CPU_NS: u64 = 1_500_000_000;
/// The most samples a profiled run takes, whatever the target time (a tiny `--target-ms`).
const PROFILE_MAX_SAMPLES: u32 = 1000;

/// Why a point ended before it was measured.
enum Ended {
    Stopped(Stop),
    Failed(Failure),
}

/// Run one worker process of a point and judge whether other work disturbed it (over the
/// process's whole life, see [`load`]). A disturbed process is measured again after waiting for
/// a quiet machine, up to [`load::MAX_RETRIES`] times (not with `--allow-load`); if the machine
/// stays busy, the last attempt's samples are kept and marked. A process whose threads ran on
/// unequal CPUs is measured again [`UNEQUAL_RETRIES`] times, then kept and marked likewise.
fn measure_undisturbed(
    job: &PointJob,
    process: u32,
    parts: &mut Parts,
) -> Result<Vec<PointSample>, Ended> {
    let PointJob {
        plan,
        workload,
        variant,
        thread_count,
        ..
    } = *job;
    let needed = thread_count.max(1);
    let mut attempt = 0;
    let mut unequal_attempts = 0;
    loop {
        if let Some(stop) = parts.host.stop_requested() {
            return Err(Ended::Stopped(stop));
        }
        parts.host.before_process();
        let mut samples = measure_process(job, process, parts)?;
        // Other work shows in the load counters over the process's life, or, for samples
        // shorter than the counters' tick, in the threads' own run-queue time.
        let busy = parts.host.disturbed(needed) || crowded(&samples, job);
        if !busy {
            // Threads that ran equal parts for unequal times without blocking or waiting for a
            // CPU: the CPUs were not equally fast just then (a VM's vCPU drifts for seconds).
            // Measured again once; if it stays so, the samples are marked.
            if thread_count >= 2 && ran_unequal(&samples) {
                if unequal_attempts < UNEQUAL_RETRIES && !plan.settings.allow_load {
                    unequal_attempts += 1;
                    continue;
                }
                for sample in &mut samples {
                    sample.unequal = true;
                }
            }
            return Ok(samples);
        }
        if plan.settings.allow_load || attempt >= load::MAX_RETRIES || !parts.host.willing() {
            for sample in &mut samples {
                sample.disturbed = true;
            }
            return Ok(samples);
        }
        attempt += 1;
        let observer = parts.observer;
        parts.host.wait_for_quiet(needed, &|text| {
            observer.event(workload, variant, Event::Waiting { thread_count, text });
        });
    }
}

/// Whether a sample's threads waited for a CPU for [`results::threads::CPU_WAIT_SHARE`] of
/// their time or more at a point with a CPU for each of them: other work took the CPUs, even
/// where the machine's load counters (which tick every few milliseconds) saw nothing in a
/// 20 ms sample. One such sample makes the process disturbed: it is measured again.
fn crowded(samples: &[PointSample], job: &PointJob) -> bool {
    let cpus = crate::machine::cpus::or_allowed(&job.plan.settings.cpus).len();
    job.thread_count >= 2
        && job.thread_count as usize <= cpus
        && samples
            .iter()
            .filter_map(PointSample::time_shares)
            .any(|t| t.cpu_wait.unwrap_or(0.0) >= results::threads::CPU_WAIT_SHARE)
}

/// How often a process whose threads ran on unequal CPUs is measured again.
const UNEQUAL_RETRIES: u32 = 1;

/// Whether most of a process's samples had threads that ran equal parts for unequal times with
/// none blocked or waiting for a CPU ([`results::TimeShares::unequal`]).
fn ran_unequal(samples: &[PointSample]) -> bool {
    let judged: Vec<bool> = samples
        .iter()
        .filter_map(PointSample::time_shares)
        .map(|t| t.unequal())
        .collect();
    !judged.is_empty() && 2 * judged.iter().filter(|u| **u).count() > judged.len()
}

/// Run one worker process of a point and return its timed samples, after checking the worker's
/// identity and every sample's checksum.
fn measure_process(
    job: &PointJob,
    process: u32,
    parts: &mut Parts,
) -> Result<Vec<PointSample>, Ended> {
    let variant = job.variant;
    let host = &*parts.host;
    let stop = || host.stop_requested().is_some();
    let output = match parts.worker.run(variant, &job.request(), &stop) {
        Ok(output) => output,
        Err(worker::Error::Interrupted) => {
            return Err(Ended::Stopped(
                parts.host.stop_requested().unwrap_or(Stop::Interrupt),
            ));
        }
        Err(err) => return Err(Ended::Failed(Failure::of_worker(&err))),
    };
    let info = &variant.interpreter.info;
    if output.hello.version != info.version || output.hello.free_threaded != info.free_threaded {
        return Err(Ended::Failed(Failure::new(
            FailureKind::InterpreterChanged,
            format!(
                "`{}` changed since it was inspected: it was {} and now runs as {}{}",
                variant.run_path.display(),
                info.version_tag(),
                output.hello.version,
                if output.hello.free_threaded { "t" } else { "" }
            ),
        )));
    }
    let mut samples = Vec::new();
    for sample in output.samples {
        // Every sample, warm-up included, must have done the work it was asked to.
        if sample.checksum != sample.expected {
            return Err(Ended::Failed(Failure::new(
                FailureKind::Checksum,
                format!(
                    "checksum mismatch in sample {} of process {process}: got {}, expected {} (the workload did not do the work it was given: a race or a bug)",
                    sample.index, sample.checksum, sample.expected
                ),
            )));
        }
        if sample.warmup {
            continue;
        }
        samples.push(PointSample {
            process,
            wall_ns: sample.wall_ns,
            work_units: sample.work_units,
            gil_enabled: sample.gil_enabled_before || sample.gil_enabled_after,
            load: sample_load(&sample),
            memory: sample.max_rss_kb.map(|max_rss_kb| results::SampleMemory {
                max_rss_kb,
                rss_kb: sample.rss_kb,
            }),
            extra: sample.extra,
            disturbed: false,
            unequal: false,
            cpu_slowdown: None,
            threads: sample.threads.unwrap_or_default(),
        });
    }
    Ok(samples)
}

/// With `--precision`: run more worker processes for a point until the 95% interval of its median
/// is within ±PCT, or the point has taken `--max-time-per-point` (counted from now: the rounds
/// before ran interleaved with other points).
fn add_processes_for_precision(
    job: &PointJob,
    parts: &mut Parts,
    samples: &mut Vec<PointSample>,
) -> Result<(), Ended> {
    let PointJob { plan, workload, .. } = *job;
    let (Some(pct), Some(limit)) = (
        plan.settings.precision_pct,
        plan.settings.max_time_per_point_s,
    ) else {
        return Ok(());
    };
    let start = std::time::Instant::now();
    let mut process = plan.settings.processes;
    loop {
        let values: Vec<f64> = samples
            .iter()
            .map(|s| s.throughput(workload.unit_scale))
            .collect();
        let reached = Summary::from_samples(&values)
            .is_some_and(|s| s.n >= 2 && s.relative_half_width() * 100.0 <= pct);
        if reached || start.elapsed().as_secs_f64() >= limit {
            return Ok(());
        }
        let new = measure_undisturbed(job, process, parts)?;
        samples.extend(new);
        process += 1;
    }
}

/// Below this a sample mostly measures the clock, thread start-up and the scheduler's time
/// slice, not the work.
const SHORTEST_SAMPLE_NS: u64 = 1_000_000;

/// A warning when a point's samples are shorter than [`SHORTEST_SAMPLE_NS`].
fn short_samples(workload: &Workload, point: &Point) -> Option<String> {
    let mut walls: Vec<u64> = point.samples.iter().map(|s| s.wall_ns).collect();
    walls.sort_unstable();
    let median = *walls.get(walls.len() / 2)?;
    (median < SHORTEST_SAMPLE_NS).then(|| {
        format!(
            "{}: samples of {} are shorter than the clock and scheduler allow (~1 ms); give each sample more work (--target-ms, or a larger --strong / --weak size)",
            point.name(&results::TestInfo::of(workload)),
            crate::format::seconds(median as f64 / 1e9)
        )
    })
}

/// A sample's accounting from what the worker sent (`None` from a worker that sent none).
fn sample_load(sample: &protocol::RawSample) -> Option<results::SampleLoad> {
    let cpu_ns = sample.cpu_ns? as f64;
    let window = sample.window_ns.filter(|w| *w > 0).map(|w| w as f64);
    let cpus = load::usable_cpus() as f64;
    Some(results::SampleLoad {
        parallelism: cpu_ns / sample.wall_ns.max(1) as f64,
        other_load: window
            .zip(sample.busy_ns.zip(sample.own_ns))
            .map(|(w, (busy, own))| ((busy as f64 - own as f64) / w).max(0.0)),
        steal: window
            .zip(sample.steal_ns)
            .map(|(w, steal)| steal as f64 / (w * cpus)),
        cpu_wait: window
            .zip(sample.cpu_wait_ns)
            .map(|(w, wait)| wait as f64 / w),
        voluntary_switches: sample.voluntary_switches,
        involuntary_switches: sample.involuntary_switches,
    })
}

/// Summarize a point's samples from all its processes.
fn finish_point(
    workload: &Workload,
    variant: &Variant,
    thread_count: u32,
    samples: &[PointSample],
) -> Result<Point, Ended> {
    let values: Vec<f64> = samples
        .iter()
        .map(|s| s.throughput(workload.unit_scale))
        .collect();
    let throughput = Summary::from_samples(&values).ok_or_else(|| {
        Ended::Failed(Failure::new(
            FailureKind::NoResult,
            "the workers returned no samples".to_string(),
        ))
    })?;
    let expects_gil = variant.expects_gil();
    Ok(Point {
        test: workload.name.to_string(),
        label: variant.label.clone(),
        thread_count,
        samples: samples.to_vec(),
        throughput,
        gil_mismatches: samples
            .iter()
            .filter(|s| s.gil_enabled != expects_gil)
            .count(),
    })
}

/// `--profile`: run each (test, Python label) of the plan once more, under `perf record`, at
/// `threads` (default: the highest thread count of the run; serial tests serially), and draw
/// its flame graphs into `dir`. Nothing measured here enters the results' numbers. Problems are
/// said and skipped: a profile is an extra, never a reason to lose the run.
pub fn profile_points(
    plan: &Plan,
    results: &ResultsFile,
    (worker, stop): (&mut PythonWorker, &dyn Fn() -> Option<Stop>),
    threads: Option<u32>,
    (dir, base): (&Path, &Path),
    printer: &Printer,
) -> Vec<results::ProfileRecord> {
    if let Err(why) = profile::check_perf(stop) {
        printer.warn(&format!("--profile: no profiles recorded: {why}"));
        return Vec::new();
    }
    let highest =
        threads.unwrap_or_else(|| plan.settings.threads.iter().copied().max().unwrap_or(1));
    let mut records = Vec::new();
    for workload in &plan.tests {
        for variant in &plan.variants {
            // The native kernels are ftbench's own code, not an interpreter: a Python worker
            // cannot run them.
            if variant.interpreter.source == crate::interpreter::InterpreterSource::Native {
                continue;
            }
            let Some(calibration) = results.calibration(workload.name, &variant.label) else {
                continue;
            };
            let thread_count = if workload.group.scales() { highest } else { 0 };
            let name = format!(
                "{} on {} at {}",
                workload.name,
                variant.label,
                crate::format::threads(thread_count)
            );
            let job = PointJob {
                plan,
                workload,
                variant,
                thread_count,
                work_size: calibration.work_size,
            };
            let recorded = record_profile(&job, (worker, stop), (dir, base));
            match recorded {
                Ok((record, problem)) => {
                    printer.info(&format!(
                        "Profile of {name}: {:.0} ms of CPU, {}",
                        record.cpu_ns as f64 / 1e6,
                        base.join(&record.file).display()
                    ));
                    if let Some(problem) = problem {
                        printer.warn(&format!("--profile: {name}: {problem}"));
                    }
                    records.push(record);
                }
                Err(err) => printer.warn(&format!("--profile: {name}: {err:#}")),
            }
            if stop().is_some() {
                return records;
            }
        }
    }
    records
}

/// One profiled worker run and its graphs; for a scaling test at more than one thread, a
/// second run of the same work on one thread and the differential between them (a problem
/// there is said, and the first profile kept).
fn record_profile(
    job: &PointJob,
    (worker, stop): (&mut PythonWorker, &dyn Fn() -> Option<Stop>),
    (dir, base): (&Path, &Path),
) -> anyhow::Result<(results::ProfileRecord, Option<String>)> {
    let PointJob {
        plan: _,
        workload,
        variant,
        thread_count,
        work_size: _,
    } = *job;
    let call_graph = profile::CallGraph::for_variant(variant);
    let (folded, operations, main) = record_once(job, worker, stop)?;
    // A thread lifecycle sample's unit of work is one thread started; warm-ups count too, as
    // they do in the operations.
    let threads_started = (workload.group == Group::Threads).then_some(operations);
    let mut record = profile::write_graphs(
        &folded,
        (workload.name, &variant.label, thread_count),
        threads_started,
        call_graph,
        dir,
        base,
    )?;
    if !workload.group.scales() || thread_count < 2 || stop().is_some() {
        return Ok((record, None));
    }
    let one = PointJob {
        thread_count: 1,
        ..*job
    };
    let compared = record_once(&one, worker, stop).and_then(|(serial, serial_ops, serial_main)| {
        let (before, after) = (serial.work(serial_main), folded.work(main));
        let mut differential =
            mechanism::differential((&before, serial_ops), (&after, operations), thread_count);
        differential.debug_info = folded.debug_info.unwrap_or(false);
        profile::write_differential(
            &mut differential,
            (&before, serial_ops),
            (&after, operations),
            (workload.name, &variant.label),
            (dir, base),
        )?;
        Ok(differential)
    });
    match compared {
        Ok(differential) => {
            record.differential = Some(differential);
            Ok((record, None))
        }
        Err(err) => Ok((
            record,
            Some(format!(
                "no differential profile against one thread: {err:#}"
            )),
        )),
    }
}

/// One worker run of `job` under `perf record`: its folded stacks, the operations it did
/// (warm-ups included, as the recording is) and the worker's pid (its main thread's tid).
fn record_once(
    job: &PointJob,
    worker: &mut PythonWorker,
    stop: &dyn Fn() -> Option<Stop>,
) -> anyhow::Result<(profile::Folded, u64, u32)> {
    let scratch = tempfile::Builder::new()
        .prefix("ftbench-profile")
        .tempdir()?;
    let variant = job.variant;
    worker.profile = Some(profile::Recording {
        data: scratch.path().join("perf.data"),
        call_graph: profile::CallGraph::for_variant(variant),
        python_names: variant.interpreter.info.version_info >= [3, 12, 0]
            && cfg!(target_os = "linux"),
    });
    let request = job.profile_request();
    let ran = worker.run(variant, &request, &|| stop().is_some());
    worker.profile = None;
    let ran = ran?;
    let folded = profile::fold(
        &scratch.path().join("perf.data"),
        std::time::Duration::from_secs(job.plan.settings.timeout_s),
        stop,
    );
    // `-X perf` left the worker's symbol map in /tmp (`perf script` has read it): ours to
    // remove.
    let _ = fs_err::remove_file(format!("/tmp/perf-{}.map", ran.hello.pid));
    let operations = ran.samples.iter().map(|s| s.work_units).sum();
    Ok((folded?, operations, ran.hello.pid))
}
