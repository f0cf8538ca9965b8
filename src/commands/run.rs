//! `ftbench run`: measure, write the results after every point, record, report.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{Context, Result};

use super::common::{
    Keep, beside, claim_output, exit_code, machine_check, record_and_report, warn_marked_points,
};
use super::gate;
use crate::analysis::{self, Analysis, Derived};
use crate::cli::{MeasureArgs, RunArgs};
use crate::config::RunConfig;
use crate::interrupt;
use crate::output::Printer;
use crate::report::terminal::Layout;
use crate::report::{self, Exporter as _};
use crate::results::{self, ResultsFile, VariantRecord};
use crate::runner::Sink as _;
use crate::runner::{self, Outcome, Plan, PythonWorker};
use crate::workloads;

pub(super) fn run(args: &RunArgs, printer: &Printer) -> Result<ExitCode> {
    if args.list_tests {
        return list_tests(printer);
    }
    interrupt::install().context("failed to install signal handlers")?;
    let config = RunConfig::from_cli(args, printer)?;
    execute(config, &args.measure, printer)
}

/// The line that opens a run: what is measured, where, at which thread counts.
pub(super) fn measuring_line(config: &RunConfig) -> String {
    // Say what really runs: tests that do not scale run serially only.
    let scaling = config.tests.iter().any(|t| t.group.scales());
    let threads: Vec<String> = config
        .settings
        .threads
        .iter()
        .map(ToString::to_string)
        .collect();
    format!(
        "Measuring {} test(s) on {}, {}; results: {}",
        config.tests.len(),
        config
            .variants
            .iter()
            .map(|v| v.label.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        if scaling {
            format!("serial and at threads {}", threads.join(", "))
        } else {
            "serial only".to_string()
        },
        config.output.display()
    )
}

/// A message word-wrapped to the terminal's width.
fn fitted(text: &str) -> String {
    crate::output::wrap(text, crate::output::width(), 2)
        .trim_end()
        .to_string()
}

/// Measure a validated configuration, write and record its results, print its tables.
pub(super) fn execute(
    config: RunConfig,
    measure: &MeasureArgs,
    printer: &Printer,
) -> Result<ExitCode> {
    Keep::of(measure).check_store()?;
    let started = std::time::Instant::now();
    let mut config = config;
    let gating = gate::prepare_run(measure, &mut config, started)?;
    let opening = measuring_line(&config);
    let mut results = starting_results(&mut config, measure);
    let _lock = prepare(&config, &mut results, printer)?;
    printer.info(&fitted(&opening));
    let plan = Plan {
        variants: config.variants,
        tests: config.tests,
        settings: config.settings,
        again: false,
    };
    let mut worker = PythonWorker::new(std::time::Duration::from_secs(plan.settings.timeout_s))
        .context("failed to write the worker scripts to a temporary directory")?;
    // The harness's cost is counted over the measuring alone (the gates' further passes too).
    let measuring = std::time::Instant::now();
    let cpu_before = runner::native::process_cpu_seconds();
    let mut workers = runner::native::Workers {
        python: &mut worker,
        native: runner::native::NativeWorker,
        native_cpu_s: 0.0,
    };
    let mut sink = ResultsWriter::new(&config.output);
    // The regular suite's summary bootstraps every test at once: refreshed by the last write.
    sink.derived.frozen_summaries = true;
    let mut outcome = runner::run(&plan, &mut results, &mut workers, &mut sink, printer)?;
    let gates = match &gating {
        Some(gating) if outcome == Outcome::Completed => {
            let (again, gates) = decide_gates(
                gating,
                &plan,
                &mut results,
                (&mut workers, &mut sink),
                printer,
            )?;
            outcome = again;
            results.gates.clone_from(&gates);
            gates
        }
        _ => Vec::new(),
    };
    sink.derived.frozen_summaries = false;
    results.harness = Some(harness_cost(measuring, cpu_before, workers.native_cpu_s));
    if measure.profile && outcome == Outcome::Completed {
        let records = profile(
            &plan,
            &results,
            &mut worker,
            measure,
            &config.output,
            printer,
        );
        results.profiles.extend(records);
    }
    sink.save(&mut results)?;
    let analysis = Analysis::with(&results, &sink.derived);
    let model = report::ReportModel::of(&analysis);
    show(&results, &model, measure, printer)?;
    printer.info(&format!("Results written to {}", config.output.display()));
    if !gates.is_empty() {
        gate::publish(&gates, &model.headline, measure, printer)?;
    }
    let code = finish(
        outcome,
        measure,
        (&results, &model),
        &config.output,
        printer,
    )?;
    // A failed or undecided gate decides the status of a run that measured everything.
    let gate_status = gating
        .as_ref()
        .filter(|_| outcome == Outcome::Completed)
        .and_then(|gating| gating.exit_code(&gates));
    Ok(gate_status.unwrap_or(code))
}

/// Before measuring: the output's folder and lock ([`claim_output`]), ftbench as the subreaper
/// of what workers detach, and a short look at the machine, said in one line and kept in the
/// file.
fn prepare(
    config: &RunConfig,
    results: &mut ResultsFile,
    printer: &Printer,
) -> Result<results::guard::OutputLock> {
    let lock = claim_output(&config.output)?;
    // Processes a worker's code detaches come back to ftbench, which ends them (scale runs
    // anyone's code).
    crate::process::adopt_orphans();
    // A short look at the machine before measuring: said in one line, kept in the file.
    let check = machine_check(&results.system, &config.settings);
    printer.info(&fitted(&check.summary()));
    if results.system.check.is_none() {
        results.system.check = Some(check);
    }
    Ok(lock)
}

/// What measuring cost ftbench itself since `measuring` began (`cpu_before` its CPU seconds
/// then): the native kernels run in this process, and their CPU is measurement, not overhead.
fn harness_cost(
    measuring: std::time::Instant,
    cpu_before: f64,
    native_cpu_s: f64,
) -> results::HarnessCost {
    let wall_s = measuring.elapsed().as_secs_f64();
    let cpu_s = (runner::native::process_cpu_seconds() - cpu_before - native_cpu_s).max(0.0);
    results::HarnessCost {
        wall_s,
        cpu_s,
        cpu_share: if wall_s > 0.0 { cpu_s / wall_s } else { 0.0 },
    }
}

/// The file the run starts from: the resumed one, or a new one for the configuration.
fn starting_results(config: &mut RunConfig, measure: &MeasureArgs) -> ResultsFile {
    let mut results = if let Some(previous) = config.resumed.take() {
        previous
    } else {
        let mut results = new_results(config);
        results.system.machine.clone_from(&measure.machine);
        results
    };
    // A resumed file from before test facts were recorded: its user tests' facts come from the
    // configuration (loading recorded the built-in ones).
    for workload in &config.tests {
        if results.settings.test_info(workload.name).is_none() {
            results
                .settings
                .test_info
                .push(results::TestInfo::of(workload));
        }
    }
    results
}

/// The run's tables (on stderr when the gates' JSON holds stdout) and what to know about them.
fn show(
    results: &ResultsFile,
    model: &report::ReportModel,
    measure: &MeasureArgs,
    printer: &Printer,
) -> Result<()> {
    let tables = report::terminal::Terminal(Layout::for_stdout(measure.wide)).export(model)?;
    if measure.gates_json {
        printer.info(tables.trim_end());
    } else {
        printer.stdout(&tables)?;
    }
    warn_marked_points(results, printer);
    say_precision(results, printer);
    say_harness(results, printer);
    Ok(())
}

/// Decide the gates, measuring more (further passes over every point, their samples added) while
/// one is undecided and the budget allows. The outcome of the last pass, and the gates.
fn decide_gates(
    gating: &gate::Gating,
    plan: &Plan,
    results: &mut ResultsFile,
    (workers, sink): (&mut runner::native::Workers, &mut ResultsWriter),
    printer: &Printer,
) -> Result<(Outcome, Vec<results::gate::GateRecord>)> {
    let mut outcome = Outcome::Completed;
    let mut pass = std::time::Duration::ZERO;
    let mut first = true;
    loop {
        let gates = gating.decide(results);
        // The first pass's length is unknown here: a further pass takes about as long, so
        // the first one counts as the whole run so far.
        let budget_pass = if first { gating.elapsed() } else { pass };
        first = false;
        if outcome != Outcome::Completed || !gating.wants_more(&gates, budget_pass) {
            // The points grew in samples, not in number: every derived number is derived
            // again for the file.
            sink.derived = Derived::default();
            return Ok((outcome, gates));
        }
        printer.info(&format!(
            "gates: {}; measuring more within --budget",
            crate::report::gates::tally(&gates)
        ));
        let again = Plan {
            again: true,
            ..plan.clone()
        };
        let started = std::time::Instant::now();
        outcome = runner::run(&again, results, workers, sink, printer)?;
        pass = started.elapsed();
    }
}

/// After the measuring: record and report a completed run, and the exit status. A signal after
/// the last point (while writing, recording or reporting) still stops the run, and says so in
/// its exit status.
fn finish(
    mut outcome: Outcome,
    measure: &MeasureArgs,
    (results, model): (&ResultsFile, &report::ReportModel),
    output: &std::path::Path,
    printer: &Printer,
) -> Result<ExitCode> {
    let complete = outcome == Outcome::Completed;
    let mut reported = false;
    if let (Outcome::Completed, Some(stop)) = (outcome, interrupt::requested()) {
        outcome = Outcome::Stopped(stop);
    }
    if outcome == Outcome::Completed {
        record_and_report(&Keep::of(measure), (results, model), output, printer)?;
        reported = true;
        if let Some(stop) = interrupt::requested() {
            outcome = Outcome::Stopped(stop);
        }
    }
    if let (true, Outcome::Stopped(stop)) = (complete, outcome) {
        return Ok(stopped_after_the_last_point(
            stop, output, reported, printer,
        ));
    }
    Ok(exit_code(outcome, &results.errors, output, printer))
}

/// What the harness itself cost.
fn say_harness(results: &ResultsFile, printer: &Printer) {
    if let Some(cost) = &results.harness {
        printer.info(&format!(
            "Harness: {:.2} s of CPU in {:.1} s of wall time ({:.2}% of one core)",
            cost.cpu_s,
            cost.wall_s,
            cost.cpu_share * 100.0
        ));
    }
}

/// Writes the results file after each point with its seed section, from one [`Derived`] kept
/// for the whole run (each point re-derives only the curves it changed).
pub(super) struct ResultsWriter<'a> {
    output: &'a std::path::Path,
    pub derived: Derived,
}

impl<'a> ResultsWriter<'a> {
    pub fn new(output: &'a std::path::Path) -> Self {
        Self {
            output,
            derived: Derived::default(),
        }
    }
}

impl runner::Sink for ResultsWriter<'_> {
    fn save(&mut self, results: &mut ResultsFile) -> Result<()> {
        analysis::seed::write(self.output, results, &mut self.derived)
            .with_context(|| format!("failed to write results to `{}`", self.output.display()))
    }

    fn speedup(
        &self,
        results: &ResultsFile,
        test: &str,
        label: &str,
        thread_count: u32,
    ) -> Option<crate::stats::Estimate> {
        Analysis::with(results, &self.derived)
            .series(test, label)?
            .points
            .iter()
            .find(|p| p.thread_count == thread_count)?
            .speedup
    }
}

/// With `--precision`: how many points reached it, and which did not.
pub(super) fn say_precision(results: &ResultsFile, printer: &Printer) {
    let Some(pct) = results.settings.precision_pct else {
        return;
    };
    let missed: Vec<String> = results
        .points()
        .iter()
        .filter(|p| p.throughput.relative_half_width() * 100.0 > pct)
        .map(|p| {
            format!(
                "{} (±{:.1}%)",
                results.point_name(p),
                p.throughput.relative_half_width() * 100.0
            )
        })
        .collect();
    let total = results.points().len();
    if missed.is_empty() {
        printer.info(&format!("Precision: all {total} points reached ±{pct}%"));
    } else {
        printer.warn(&format!(
            "{} of {total} points did not reach ±{pct}% within --max-time-per-point ({} s): {}",
            missed.len(),
            results.settings.max_time_per_point_s.unwrap_or_default(),
            missed.join("; ")
        ));
    }
}

/// A signal after every point was measured: nothing to resume, so the message says the file is
/// complete (and how to record and draw it, where the signal came first).
fn stopped_after_the_last_point(
    stop: interrupt::Stop,
    output: &std::path::Path,
    reported: bool,
    printer: &Printer,
) -> ExitCode {
    let how = if reported {
        String::new()
    } else {
        format!(
            " (`ftbench history add {0}` records it, `ftbench report {0}` draws it)",
            output.display()
        )
    };
    printer.warn(&format!(
        "stopped by {} after the last point; {} is complete{how}",
        stop.name(),
        output.display()
    ));
    ExitCode::from(stop.exit_code())
}

pub(super) fn new_results(config: &RunConfig) -> ResultsFile {
    let variants = config.variants.iter().map(VariantRecord::of).collect();
    let mut settings = config.settings.clone();
    settings.test_info = config
        .tests
        .iter()
        .map(|w| results::TestInfo::of(w))
        .collect();
    ResultsFile::new(settings, variants)
}

/// `--profile`: flame graphs of every (test, interpreter) into `<results>-profiles/`.
pub(super) fn profile(
    plan: &Plan,
    results: &ResultsFile,
    worker: &mut PythonWorker,
    measure: &MeasureArgs,
    output: &std::path::Path,
    printer: &Printer,
) -> Vec<results::ProfileRecord> {
    let base = output.parent().unwrap_or_else(|| std::path::Path::new(""));
    let records = runner::profile_points(
        plan,
        results,
        (worker, &crate::interrupt::requested),
        measure.profile_threads,
        (&beside(output, "profiles"), base),
        printer,
    );
    for (test, label, line) in
        crate::analysis::mechanism::lines(&records, |t| results.info(t).uses_processes())
    {
        printer.info(&format!(
            "What grew: {} on {}: {line}",
            crate::output::escape(&test),
            crate::output::escape(&label)
        ));
    }
    records
}

pub(super) fn list_tests(printer: &Printer) -> Result<ExitCode> {
    let mut out = String::new();
    for w in workloads::WORKLOADS {
        let _ = writeln!(
            out,
            "{:<26} {:<16} {}{}",
            w.name,
            w.metric,
            w.description,
            if w.needs_numpy { " (numpy)" } else { "" }
        );
    }
    printer.stdout(&out)?;
    Ok(ExitCode::SUCCESS)
}
