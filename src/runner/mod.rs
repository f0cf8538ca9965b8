//! Running the plan: calibrate each (test, variant), then measure every point in worker
//! processes, verify checksums and GIL state, and write the results file after each point.

pub mod native;
pub mod profile;
pub mod protocol;
pub mod pyperformance;
#[cfg(test)]
mod tests;
pub mod worker;

use std::path::Path;

use anyhow::Result;

use crate::format::human;
use crate::interpreter::Variant;
use crate::interrupt::{self, Stop};
use crate::machine::load;
use crate::output::Printer;
use crate::results::{self, Calibration, Missing, Point, PointSample, ResultsFile, Settings};
use crate::stats::Summary;
use crate::workloads::{Group, Workload};
use protocol::{Mode, PROTOCOL_VERSION, Request};
pub use worker::{PythonWorker, Worker};

/// What to measure.
#[derive(Debug, Clone)]
pub struct Plan {
    pub variants: Vec<Variant>,
    pub tests: Vec<&'static Workload>,
    pub settings: Settings,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Completed,
    Stopped(Stop),
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

/// The thread counts a test runs at: the serial baseline (0) first, then `--threads` for tests
/// that scale.
fn points_of(workload: &Workload, settings: &Settings) -> Vec<u32> {
    let mut points = vec![0];
    if workload.group.scales() {
        points.extend(settings.threads.iter().copied());
    }
    points
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

/// Measure every point of `plan` that `results` does not hold yet, handing `results` to `sink`
/// after each one.
#[expect(
    clippy::too_many_lines,
    reason = "the whole measuring loop in one place: calibration, rounds, saves and stops"
)]
pub fn run(
    plan: &Plan,
    results: &mut ResultsFile,
    worker: &mut dyn Worker,
    sink: &mut dyn Sink,
    printer: &Printer,
) -> Result<Outcome> {
    let total: usize = plan
        .tests
        .iter()
        .map(|w| plan.variants.len() * points_of(w, &plan.settings).len())
        .sum();
    let bar = printer.progress(total as u64, "measuring");
    // We write after every point, because a later point may hang, crash or be interrupted, and
    // an hour of finished points must survive that.
    sink.save(results)?;
    let mut patience = load::Patience::default();
    for workload in &plan.tests {
        for variant in &plan.variants {
            patience.next_pair();
            if variant.interpreter.source == crate::interpreter::InterpreterSource::Native
                && !native::supports(workload.name)
            {
                bar.inc(points_of(workload, &plan.settings).len() as u64);
                continue;
            }
            bar.set_message(format!("{} on {}", workload.name, variant.label));
            let points = points_of(workload, &plan.settings);
            let point_count = points.len();
            let Some(work_size) =
                calibrate(plan, workload, variant, results, worker, printer, &bar)
            else {
                if let Some(stop) = interrupt::requested() {
                    bar.finish_and_clear();
                    sink.save(results)?;
                    return Ok(Outcome::Stopped(stop));
                }
                sink.save(results)?;
                bar.inc(point_count as u64);
                continue;
            };
            // Rounds: each worker process of a point runs in turn with those of the other thread
            // counts, so a slow spell of the machine (frequent on shared VMs) spreads over all
            // points of the curve instead of bending it. Odd rounds run in reverse order (ABBA),
            // which cancels a linear drift between the serial baseline and the threaded points.
            let mut pending: Vec<(u32, Vec<PointSample>)> = points
                .into_iter()
                .filter(|n| results.point(workload.name, &variant.label, *n).is_none())
                .map(|n| (n, Vec::new()))
                .collect();
            bar.inc((point_count - pending.len()) as u64);
            let cpus = crate::machine::cpus::or_allowed(&plan.settings.cpus);
            for process in 0..plan.settings.processes {
                let last_round = process + 1 == plan.settings.processes;
                let mut still_pending = Vec::new();
                // How slow the CPUs are right now with all of them busy, next to this round's
                // threaded processes: a verdict weighs what the machine did then.
                let slowdown = pending
                    .iter()
                    .any(|(n, _)| *n >= 2)
                    .then(|| crate::machine::probe::slowdown_now(&cpus))
                    .flatten();
                if process % 2 == 1 {
                    pending.reverse();
                }
                for (thread_count, mut samples) in pending {
                    let job = PointJob {
                        plan,
                        workload,
                        variant,
                        thread_count,
                        work_size,
                    };
                    let say = |text: &str| printer.line_above(&bar, text);
                    let outcome = measure_undisturbed(&job, process, worker, &mut patience, &say)
                        .and_then(|new| {
                            samples.extend(new.into_iter().map(|mut sample| {
                                if thread_count >= 2 {
                                    sample.cpu_slowdown = slowdown;
                                }
                                sample
                            }));
                            if !last_round {
                                return Ok(None);
                            }
                            add_processes_for_precision(
                                &job,
                                worker,
                                &mut patience,
                                &say,
                                &mut samples,
                            )?;
                            finish_point(workload, variant, thread_count, &samples).map(Some)
                        });
                    match outcome {
                        Ok(None) => still_pending.push((thread_count, samples)),
                        Ok(Some(point)) => {
                            if let Some(warning) = short_samples(&point) {
                                printer.line_above(&bar, &format!("  warning: {warning}"));
                                results.warnings.push(warning);
                            }
                            results.points.push(point);
                            sink.save(results)?;
                            report_point(
                                results,
                                &*sink,
                                workload,
                                variant,
                                thread_count,
                                printer,
                                &bar,
                            );
                            bar.inc(1);
                        }
                        Err(PointError::Stopped(stop)) => {
                            bar.finish_and_clear();
                            sink.save(results)?;
                            return Ok(Outcome::Stopped(stop));
                        }
                        Err(PointError::Failed(reason)) => {
                            printer.line_above(
                                &bar,
                                &format!(
                                    "  {:<14} {:<26} {:>10}  FAILED: {}",
                                    variant.label,
                                    workload.name,
                                    crate::format::threads(thread_count),
                                    first_line(&reason)
                                ),
                            );
                            results
                                .errors
                                .push(missing(workload, variant, thread_count, reason));
                            sink.save(results)?;
                            bar.inc(1);
                        }
                    }
                }
                if process % 2 == 1 {
                    still_pending.reverse();
                }
                pending = still_pending;
            }
        }
    }
    bar.finish_and_clear();
    Ok(Outcome::Completed)
}

fn missing(workload: &Workload, variant: &Variant, thread_count: u32, reason: String) -> Missing {
    Missing {
        test: workload.name.to_string(),
        label: variant.label.clone(),
        thread_count: Some(thread_count),
        reason,
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}

/// The work size for (test, variant), calibrating it if needed. `None` when the pair cannot run
/// (recorded as skipped or failed).
fn calibrate(
    plan: &Plan,
    workload: &Workload,
    variant: &Variant,
    results: &mut ResultsFile,
    worker: &mut dyn Worker,
    printer: &Printer,
    bar: &indicatif::ProgressBar,
) -> Option<u64> {
    if let Some(calibration) = results.calibration(workload.name, &variant.label) {
        return Some(calibration.work_size);
    }
    if workload.group.shares_work_size()
        && let Some(first) = results
            .calibrations
            .iter()
            .find(|c| c.test == workload.name)
    {
        // Durations only compare when every label ran the same work.
        return Some(first.work_size);
    }
    let missing = |reason: String| Missing {
        test: workload.name.to_string(),
        label: variant.label.clone(),
        thread_count: None,
        reason,
    };
    if workload.needs_numpy && variant.interpreter.info.numpy.is_none() {
        let reason = format!(
            "numpy is not installed for {} ({}); rerun with --install-deps",
            variant.label,
            variant.run_path.display()
        );
        printer.line_above(
            bar,
            &format!(
                "  {:<14} {:<26} skipped: {reason}",
                variant.label, workload.name
            ),
        );
        results.skipped.push(missing(reason));
        return None;
    }
    let request = request(workload, &plan.settings, Mode::Calibrate, 1, 0);
    match worker.run(variant, &request) {
        Ok(output) => {
            let Some((work_size, wall_ns)) = output.calibration else {
                results.errors.push(missing(
                    "the worker finished without a calibration".to_string(),
                ));
                return None;
            };
            results.calibrations.push(Calibration {
                test: workload.name.to_string(),
                label: variant.label.clone(),
                work_size,
                wall_ns,
            });
            Some(work_size)
        }
        Err(worker::Error::Interrupted) => None,
        Err(err) => {
            let reason = format!("calibration failed: {err:#}");
            // The same mistake in the user's code fails every label alike: say it once.
            let same_as = results
                .errors
                .iter()
                .chain(&results.skipped)
                .find(|m| m.test == workload.name && m.thread_count.is_none() && m.reason == reason)
                .map(|m| m.label.clone());
            printer.line_above(
                bar,
                &format!(
                    "  {:<14} {:<26} {}",
                    variant.label,
                    workload.name,
                    same_as.map_or_else(
                        || first_line(&reason).to_string(),
                        |label| format!("calibration failed: the same error as on {label}")
                    )
                ),
            );
            if err.is_skip() {
                results.skipped.push(missing(reason));
            } else {
                results.errors.push(missing(reason));
            }
            None
        }
    }
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
}

enum PointError {
    Stopped(Stop),
    Failed(String),
}

/// Run one worker process of a point and judge whether other work disturbed it (over the
/// process's whole life, see [`load`]). A disturbed process is measured again after waiting for
/// a quiet machine, up to [`load::MAX_RETRIES`] times (not with `--allow-load`); if the machine
/// stays busy, the last attempt's samples are kept and marked. A process whose threads ran on
/// unequal CPUs is measured again [`UNEQUAL_RETRIES`] times, then kept and marked likewise.
fn measure_undisturbed(
    job: &PointJob,
    process: u32,
    worker: &mut dyn Worker,
    patience: &mut load::Patience,
    say: &dyn Fn(&str),
) -> Result<Vec<PointSample>, PointError> {
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
        let before = load::Counters::read();
        let mut samples = measure_process(job, process, worker)?;
        let disturbed = before
            .until(&load::Counters::read())
            .is_some_and(|l| l.disturbs(needed));
        if !disturbed {
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
        if plan.settings.allow_load || attempt >= load::MAX_RETRIES || !patience.willing() {
            for sample in &mut samples {
                sample.disturbed = true;
            }
            return Ok(samples);
        }
        attempt += 1;
        patience.wait(needed, |text| {
            say(&format!(
                "  {} on {} at {}: {text}",
                workload.name,
                variant.label,
                crate::format::threads(thread_count)
            ));
        });
        if let Some(stop) = interrupt::requested() {
            return Err(PointError::Stopped(stop));
        }
    }
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
    worker: &mut dyn Worker,
) -> Result<Vec<PointSample>, PointError> {
    let variant = job.variant;
    let output = match worker.run(variant, &job.request()) {
        Ok(output) => output,
        Err(worker::Error::Interrupted) => {
            return Err(PointError::Stopped(
                interrupt::requested().unwrap_or(Stop::Interrupt),
            ));
        }
        Err(err) => return Err(PointError::Failed(format!("{err:#}"))),
    };
    let info = &variant.interpreter.info;
    if output.hello.version != info.version || output.hello.free_threaded != info.free_threaded {
        return Err(PointError::Failed(format!(
            "`{}` changed since it was inspected: it was {} and now runs as {}{}",
            variant.run_path.display(),
            info.version_tag(),
            output.hello.version,
            if output.hello.free_threaded { "t" } else { "" }
        )));
    }
    let mut samples = Vec::new();
    for sample in output.samples {
        // Every sample, warm-up included, must have done the work it was asked to.
        if sample.checksum != sample.expected {
            return Err(PointError::Failed(format!(
                "checksum mismatch in sample {} of process {process}: got {}, expected {} (the workload did not do the work it was given: a race or a bug)",
                sample.index, sample.checksum, sample.expected
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
    worker: &mut dyn Worker,
    patience: &mut load::Patience,
    say: &dyn Fn(&str),
    samples: &mut Vec<PointSample>,
) -> Result<(), PointError> {
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
        let new = measure_undisturbed(job, process, worker, patience, say)?;
        samples.extend(new);
        process += 1;
    }
}

/// Below this a sample mostly measures the clock, thread start-up and the scheduler's time
/// slice, not the work.
const SHORTEST_SAMPLE_NS: u64 = 1_000_000;

/// A warning when a point's samples are shorter than [`SHORTEST_SAMPLE_NS`].
fn short_samples(point: &Point) -> Option<String> {
    let mut walls: Vec<u64> = point.samples.iter().map(|s| s.wall_ns).collect();
    walls.sort_unstable();
    let median = *walls.get(walls.len() / 2)?;
    (median < SHORTEST_SAMPLE_NS).then(|| {
        format!(
            "{}: samples of {} are shorter than the clock and scheduler allow (~1 ms); give each sample more work (--target-ms, or a larger --strong / --weak size)",
            point.name(),
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
) -> Result<Point, PointError> {
    let values: Vec<f64> = samples
        .iter()
        .map(|s| s.throughput(workload.unit_scale))
        .collect();
    let throughput = Summary::from_samples(&values)
        .ok_or_else(|| PointError::Failed("the workers returned no samples".to_string()))?;
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

fn report_point(
    results: &ResultsFile,
    sink: &dyn Sink,
    workload: &Workload,
    variant: &Variant,
    thread_count: u32,
    printer: &Printer,
    bar: &indicatif::ProgressBar,
) {
    let Some(point) = results.point(workload.name, &variant.label, thread_count) else {
        return;
    };
    // One line where the terminal is wide enough; the rest on indented lines, never a mark
    // split in two.
    let mut parts = vec![format!(
        "  {:<14} {:<26} {:>10}  {:>9} {} ±{:.1}%",
        variant.label,
        workload.name,
        crate::format::threads(thread_count),
        human(point.throughput.median),
        workload.metric,
        point.throughput.relative_half_width() * 100.0,
    )];
    if let Some(speedup) = sink.speedup(results, workload.name, &variant.label, thread_count) {
        parts.push(format!(
            "speedup {:.2}x [{:.2}, {:.2}]",
            speedup.value, speedup.low, speedup.high
        ));
    }
    if let Some(parallelism) = point.load_median(|l| Some(l.parallelism)) {
        parts.push(format!("parallelism {parallelism:.2}"));
    }
    if point.throughput.is_noisy() {
        parts.push(format!("(noisy: CV {:.0}%)", point.throughput.cv * 100.0));
    }
    if point.disturbed() {
        parts.push(format!(
            "BUSY! other work disturbed {} of {} samples",
            point.disturbed_samples(),
            point.samples.len()
        ));
    }
    if point.unequal_samples() > 0 {
        parts.push(format!(
            "UNEQUAL CPUs in {} of {} samples (measured again)",
            point.unequal_samples(),
            point.samples.len()
        ));
    }
    printer.line_above(
        bar,
        &crate::output::join_within(&parts, crate::output::width(), 6),
    );
    if point.gil_mismatches > 0 {
        let state = if variant.expects_gil() { "OFF" } else { "ON" };
        // The user workload records CPython's own warning when an import turns the GIL on.
        let culprits: Vec<String> = point
            .samples
            .iter()
            .filter_map(|s| s.extra.as_ref()?["gil_enabled_by"].as_array().cloned())
            .flatten()
            .filter_map(|w| w.as_str().map(str::to_string))
            .fold(Vec::new(), |mut all, w| {
                if !all.contains(&w) {
                    all.push(w);
                }
                all
            });
        printer.warn(&format!(
            "{} on {}: the GIL was {state} in {} of {} samples, against what this variant should have; these numbers do not measure {}",
            workload.name,
            variant.label,
            point.gil_mismatches,
            point.samples.len(),
            if variant.expects_gil() { "a GIL build" } else { "free-threading" },
        ));
        for culprit in culprits {
            printer.warn(&format!("Python says: {culprit}"));
        }
    }
}

/// `--profile`: run each (test, Python label) of the plan once more, under `perf record`, at
/// `threads` (default: the highest thread count of the run; serial tests serially), and draw
/// its flame graphs into `dir`. Nothing measured here enters the results' numbers. Problems are
/// said and skipped: a profile is an extra, never a reason to lose the run.
pub fn profile_points(
    plan: &Plan,
    results: &ResultsFile,
    worker: &mut PythonWorker,
    threads: Option<u32>,
    (dir, base): (&Path, &Path),
    printer: &Printer,
) -> Vec<results::ProfileRecord> {
    if let Err(why) = profile::check_perf() {
        printer.warn(&format!("--profile: no profiles recorded: {why}"));
        return Vec::new();
    }
    let highest =
        threads.unwrap_or_else(|| plan.settings.threads.iter().copied().max().unwrap_or(1));
    let mut records = Vec::new();
    for workload in &plan.tests {
        for variant in &plan.variants {
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
            let recorded = record_profile(&job, worker, (dir, base));
            match recorded {
                Ok(record) => {
                    printer.info(&format!(
                        "Profile of {name}: {:.0} ms of CPU, {}",
                        record.cpu_ns as f64 / 1e6,
                        base.join(&record.file).display()
                    ));
                    records.push(record);
                }
                Err(err) => printer.warn(&format!("--profile: {name}: {err:#}")),
            }
            if interrupt::requested().is_some() {
                return records;
            }
        }
    }
    records
}

/// One profiled worker run and its graphs.
fn record_profile(
    job: &PointJob,
    worker: &mut PythonWorker,
    (dir, base): (&Path, &Path),
) -> anyhow::Result<results::ProfileRecord> {
    let PointJob {
        plan,
        workload,
        variant,
        thread_count,
        work_size,
    } = *job;
    let scratch = tempfile::Builder::new()
        .prefix("ftbench-profile")
        .tempdir()?;
    let call_graph = profile::CallGraph::for_variant(variant);
    worker.profile = Some(profile::Recording {
        data: scratch.path().join("perf.data"),
        call_graph,
        python_names: variant.interpreter.info.version_info >= [3, 12, 0]
            && cfg!(target_os = "linux"),
    });
    let ran = worker.run(variant, &job.request());
    worker.profile = None;
    let ran = ran?;
    let folded = profile::fold(
        &scratch.path().join("perf.data"),
        std::time::Duration::from_secs(plan.settings.timeout_s),
    );
    // `-X perf` left the worker's symbol map in /tmp (`perf script` has read it): ours to
    // remove.
    let _ = fs_err::remove_file(format!("/tmp/perf-{}.map", ran.hello.pid));
    let folded = folded?;
    // A thread lifecycle sample starts `work_size` threads; warm-ups count too.
    let threads_started = (workload.group == Group::Threads)
        .then(|| work_size * u64::from(plan.settings.warmup + plan.settings.samples));
    profile::write_graphs(
        &folded,
        (workload.name, &variant.label, thread_count),
        threads_started,
        call_graph,
        dir,
        base,
    )
}
