//! One function per subcommand, each reading top to bottom: config → discover → run → results →
//! report.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{Context, Result};
use serde_json::json;

use crate::cli::{
    Cli, Command, CompareArgs, HistoryAddArgs, HistoryArgs, HistoryCommand, ImportCommand,
    ImportPyperfArgs, PythonCommand, RunArgs, ScaleArgs, ScaleMode,
};
use crate::compare;
use crate::config::RunConfig;
use crate::interpreter::{self, GilMode, Variant, install};
use crate::output::Printer;
use crate::results::store::{self, SqliteStore, Store};
use crate::results::{self, Point, ResultsFile, VariantRecord, pyperf};
use crate::runner::{self, Outcome, Plan, PythonWorker, interrupt};
use crate::sysinfo::SystemInfo;
use crate::{report, workloads};

pub fn dispatch(cli: Cli, printer: &Printer) -> Result<ExitCode> {
    match cli.command {
        Command::Run(args) => run(&args, printer),
        Command::Report(args) => {
            let results = results::load(&args.results)?;
            results.derive_all_series();
            printer.stdout(&report::table::render(&results))?;
            if !args.no_files {
                let dir = args
                    .out
                    .clone()
                    .unwrap_or_else(|| report_dir(&args.results));
                write_report(&results, &args.results, &dir, printer)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Pythons(args) => pythons(args.json, printer),
        Command::Import(ImportCommand::Pyperf(args)) => import_pyperf(&args, printer),
        Command::Compare(args) => compare_command(&args, printer),
        Command::Scale(args) => scale(&args, printer),
        Command::History(args) => history_command(&args, printer),
        Command::Check(args) => check_command(&args, printer),
        Command::Sysinfo(args) => {
            let info = SystemInfo::collect();
            if args.json {
                printer.stdout(&serde_json::to_string_pretty(&info)?)?;
            } else {
                printer.stdout(&info.render())?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Python(PythonCommand::Install(args)) => {
            let options = install::InstallOptions {
                source: args.source,
                with: args.with,
                mirror: args.mirror,
                frame_pointers: args.frame_pointers,
                install_build_deps: args.install_build_deps,
                pgo: args.pgo,
                force: args.force,
            };
            for request in &args.requests {
                let python = install::install(request, &options, printer)
                    .with_context(|| format!("failed to install Python {request}"))?;
                printer.stdout(&python.display().to_string())?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Python(PythonCommand::List) => {
            let mut out = String::new();
            for record in install::installed() {
                let _ = writeln!(
                    out,
                    "{}{}  {}  (built in {:.0} s from {})",
                    record.version,
                    if record.free_threaded { "t" } else { "" },
                    record.python.display(),
                    record.build_seconds,
                    record.tarball
                );
            }
            printer.stdout(&out)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `ftbench check`: is this machine ready to measure?
fn check_command(args: &crate::cli::CheckArgs, printer: &Printer) -> Result<ExitCode> {
    if !(args.seconds.is_finite() && (0.1..=600.0).contains(&args.seconds)) {
        anyhow::bail!(
            "invalid --seconds `{}`: it must be 0.1 to 600",
            args.seconds
        );
    }
    let threads = if args.threads.is_empty() {
        crate::config::default_threads(crate::runner::load::usable_cpus())
    } else {
        crate::config::parse_threads(&args.threads, false)?
    };
    if !args.json {
        printer.info(&format!(
            "Measuring other work on the machine for {:.1} s...",
            args.seconds
        ));
    }
    let check = crate::check::check(
        &SystemInfo::collect(),
        std::time::Duration::from_secs_f64(args.seconds),
        threads.iter().copied().max().unwrap_or(1),
    );
    if args.json {
        printer.stdout(&serde_json::to_string_pretty(&check)?)?;
    } else {
        printer.stdout(&check.render())?;
    }
    Ok(ExitCode::SUCCESS)
}

fn pythons(as_json: bool, printer: &Printer) -> Result<ExitCode> {
    let discovery = interpreter::discover();
    for skipped in &discovery.skipped {
        printer.info(&format!(
            "note: skipped {}: {}",
            skipped.path.display(),
            skipped.reason.lines().next().unwrap_or_default()
        ));
    }
    if as_json {
        let list: Vec<serde_json::Value> = discovery
            .interpreters
            .iter()
            .map(|i| {
                let mut value = json!({
                    "label": Variant::default_label(&i.info, GilMode::Default),
                    "path": i.path,
                    "version": i.info.version,
                    "implementation": i.info.implementation,
                    "free_threaded": i.info.free_threaded,
                    "gil_enabled": i.info.gil_enabled,
                    "source": i.source,
                });
                value["info"] = serde_json::to_value(&i.info).expect("info serializes");
                value
            })
            .collect();
        printer.stdout(&serde_json::to_string_pretty(&list)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = String::new();
    for (title, free_threaded) in [
        ("Free-threaded builds (PEP 703)", true),
        ("GIL builds", false),
    ] {
        let group: Vec<_> = discovery
            .interpreters
            .iter()
            .filter(|i| i.info.free_threaded == free_threaded)
            .collect();
        let _ = writeln!(out, "{title}:");
        let mut rows = Vec::new();
        if group.is_empty() {
            let _ = writeln!(
                out,
                "  none{}",
                if free_threaded {
                    " (install one: ftbench python install 3.13t)"
                } else {
                    ""
                }
            );
        }
        for i in group {
            let mut flags = Vec::new();
            if i.info.free_threaded {
                flags.push(if i.info.gil_enabled {
                    "GIL on at start-up"
                } else {
                    "GIL off"
                });
            }
            if i.info.jit {
                flags.push("JIT");
            }
            if i.info.pgo {
                flags.push("PGO");
            }
            if i.info.lto {
                flags.push("LTO");
            }
            if i.info.has_frame_pointers() {
                flags.push("frame pointers");
            }
            let numpy = i.info.numpy.as_ref().map(|v| format!("numpy {v}"));
            if let Some(numpy) = &numpy {
                flags.push(numpy);
            }
            rows.push(vec![
                format!("  {}", i.info.version_tag()),
                i.source.to_string(),
                i.path.display().to_string(),
                flags.join(", "),
            ]);
        }
        out.push_str(&report::table::grid_aligned(&rows, 4));
        out.push('\n');
    }
    printer.stdout(out.trim_end())?;
    Ok(ExitCode::SUCCESS)
}

/// `--profile`: flame graphs of every (test, interpreter) into `<results>-profiles/`.
fn profile(
    plan: &Plan,
    results: &ResultsFile,
    worker: &mut PythonWorker,
    args: &RunArgs,
    output: &std::path::Path,
    printer: &Printer,
) -> Vec<results::ProfileRecord> {
    let base = output.parent().unwrap_or_else(|| std::path::Path::new(""));
    runner::profile_points(
        plan,
        results,
        worker,
        args.measure.profile_threads,
        (&profiles_dir(output), base),
        printer,
    )
}

/// `results/2026-…json` → `results/2026-…-profiles/`.
fn profiles_dir(results: &std::path::Path) -> std::path::PathBuf {
    let stem = results
        .file_stem()
        .map_or_else(|| "ftbench".into(), |s| s.to_string_lossy().into_owned());
    results.with_file_name(format!("{stem}-profiles"))
}

/// `results/2026-…json` → `results/2026-…-report/`.
fn report_dir(results: &std::path::Path) -> std::path::PathBuf {
    let stem = results
        .file_stem()
        .map_or_else(|| "ftbench".into(), |s| s.to_string_lossy().into_owned());
    results.with_file_name(format!("{stem}-report"))
}

/// Render the whole report in memory, then write it: a rendering error writes nothing. The
/// flame graphs a `--profile` run recorded are read from beside `results_path`.
fn write_report(
    results: &ResultsFile,
    results_path: &std::path::Path,
    dir: &std::path::Path,
    printer: &Printer,
) -> Result<()> {
    let mut report = report::Report::render(results).context("failed to render the report")?;
    let base = results_path
        .parent()
        .unwrap_or_else(|| std::path::Path::new(""));
    let missing = report.attach_profiles(results, base);
    if !missing.is_empty() {
        printer.warn(&format!(
            "{} flame graph(s) named in the results are not beside them and are missing from the report: {}",
            missing.len(),
            missing.join(", ")
        ));
    }
    report.write(dir)?;
    printer.info(&format!(
        "Report ({} files, rendered in {:.2} s): {}",
        report.files.len(),
        report.render_time.as_secs_f64(),
        dir.join("report.html").display()
    ));
    Ok(())
}

fn list_tests(printer: &Printer) -> Result<ExitCode> {
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

fn run(args: &RunArgs, printer: &Printer) -> Result<ExitCode> {
    if args.list_tests {
        return list_tests(printer);
    }
    interrupt::install().context("failed to install signal handlers")?;
    let config = RunConfig::from_cli(args, printer)?;
    execute(config, args, printer)
}

/// The line that opens a run: what is measured, where, at which thread counts.
fn measuring_line(config: &RunConfig) -> String {
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

/// Measure a validated configuration, write and record its results, print its tables.
fn execute(config: RunConfig, args: &RunArgs, printer: &Printer) -> Result<ExitCode> {
    let opening = measuring_line(&config);
    let mut results = match config.resumed {
        Some(previous) => previous,
        None => new_results(&config),
    };
    for workload in &config.tests {
        // Tests ftbench does not know by name (a user's function) say where they belong.
        if crate::workloads::find(workload.name).is_none()
            && !results
                .external_tests
                .iter()
                .any(|t| t.name == workload.name)
        {
            results.external_tests.push(results::ExternalTest {
                name: workload.name.to_string(),
                group: workload.group,
                metric: workload.metric.to_string(),
            });
        }
    }
    if let Some(parent) = config.output.parent()
        && !parent.as_os_str().is_empty()
    {
        fs_err::create_dir_all(parent).with_context(|| {
            format!("cannot create the output directory `{}`", parent.display())
        })?;
    }
    // Held until the run has written its last byte: a second run on the same -o fails at once.
    let _lock = results::guard::OutputLock::acquire(&config.output)?;
    // A short look at the machine before measuring: said in one line, kept in the file.
    let check = crate::check::check(
        &results.system,
        std::time::Duration::from_millis(500),
        config.settings.threads.iter().copied().max().unwrap_or(1),
    );
    printer.info(&check.summary());
    if results.system.check.is_none() {
        results.system.check = Some(check);
    }
    printer.info(&opening);
    let plan = Plan {
        variants: config.variants,
        tests: config.tests,
        settings: config.settings,
    };
    let mut worker = PythonWorker::new(std::time::Duration::from_secs(plan.settings.timeout_s))
        .context("failed to write the worker scripts to a temporary directory")?;
    let started = std::time::Instant::now();
    let cpu_before = runner::native::process_cpu_seconds();
    let mut workers = runner::native::Workers {
        python: &mut worker,
        native: runner::native::NativeWorker,
        native_cpu_s: 0.0,
    };
    results.measuring = true;
    let mut outcome = runner::run(&plan, &mut results, &mut workers, &config.output, printer)?;
    results.measuring = false;
    let wall_s = started.elapsed().as_secs_f64();
    // The native kernels run in this process; their CPU is measurement, not overhead.
    let cpu_s =
        (runner::native::process_cpu_seconds() - cpu_before - workers.native_cpu_s).max(0.0);
    results.harness = Some(results::HarnessCost {
        wall_s,
        cpu_s,
        cpu_share: if wall_s > 0.0 { cpu_s / wall_s } else { 0.0 },
    });
    if args.measure.profile && outcome == Outcome::Completed {
        let records = profile(&plan, &results, &mut worker, args, &config.output, printer);
        results.profiles.extend(records);
    }
    results::write_results(&config.output, &mut results)
        .with_context(|| format!("failed to write results to `{}`", config.output.display()))?;
    printer.stdout(&report::table::render(&results))?;
    warn_marked_points(&results, printer);
    say_precision(&results, printer);
    if let Some(cost) = &results.harness {
        printer.info(&format!(
            "Harness: {:.2} s of CPU in {:.1} s of wall time ({:.2}% of one core)",
            cost.cpu_s,
            cost.wall_s,
            cost.cpu_share * 100.0
        ));
    }
    printer.info(&format!("Results written to {}", config.output.display()));
    // A signal after the last point (while writing, recording or reporting) still stops the
    // run, and says so in its exit status.
    if let (Outcome::Completed, Some(stop)) = (outcome, interrupt::requested()) {
        outcome = Outcome::Stopped(stop);
    }
    if outcome == Outcome::Completed {
        record_and_report(args, &results, &config.output, printer)?;
        if let Some(stop) = interrupt::requested() {
            outcome = Outcome::Stopped(stop);
        }
    }
    Ok(exit_code(outcome, &results, &config.output, printer))
}

/// Warn about points whose numbers may not mean what they say: the GIL in the wrong state, or
/// other work on the machine.
fn warn_marked_points(results: &ResultsFile, printer: &Printer) {
    let gil_points = results
        .points
        .iter()
        .filter(|p| p.gil_mismatches > 0)
        .count();
    if gil_points > 0 {
        printer.warn(&format!(
            "{gil_points} point(s) ran with the GIL in the wrong state (marked GIL! above, `gil_reenabled` in the results)"
        ));
    }
    let disturbed: Vec<String> = results
        .points
        .iter()
        .filter(|p| p.disturbed())
        .map(Point::name)
        .collect();
    if !disturbed.is_empty() {
        printer.warn(&format!(
            "other work on the machine disturbed {} point(s) (marked BUSY! above, `disturbed` in the results): {}; measure them again on a quiet machine (`ftbench check` says what is busy)",
            disturbed.len(),
            disturbed.join("; ")
        ));
    }
}

/// With `--precision`: how many points reached it, and which did not.
fn say_precision(results: &ResultsFile, printer: &Printer) {
    let Some(pct) = results.settings.precision_pct else {
        return;
    };
    let missed: Vec<String> = results
        .points
        .iter()
        .filter(|p| p.throughput.relative_half_width() * 100.0 > pct)
        .map(|p| {
            format!(
                "{} (±{:.1}%)",
                p.name(),
                p.throughput.relative_half_width() * 100.0
            )
        })
        .collect();
    let total = results.points.len();
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

/// The exit status of a run: 0, 1 when a point failed, 130 / 143 when a signal stopped it.
fn exit_code(
    outcome: Outcome,
    results: &ResultsFile,
    output: &std::path::Path,
    printer: &Printer,
) -> ExitCode {
    match outcome {
        Outcome::Completed if !results.errors.is_empty() => {
            printer.error(&format!(
                "{} point(s) failed (listed above and under `errors` in {})",
                results.errors.len(),
                output.display()
            ));
            ExitCode::FAILURE
        }
        Outcome::Completed => ExitCode::SUCCESS,
        Outcome::Stopped(stop) => {
            let signal = if stop == interrupt::Stop::Interrupt {
                "Ctrl-C"
            } else {
                "SIGTERM"
            };
            printer.warn(&format!(
                "stopped by {signal}; every finished point is in {0}; complete it with `ftbench run --resume {0}`",
                output.display()
            ));
            ExitCode::from(if stop == interrupt::Stop::Interrupt {
                crate::EXIT_INTERRUPTED
            } else {
                crate::EXIT_TERMINATED
            })
        }
    }
}

/// After a run: record it in the history store and write its report, unless told not to.
fn record_and_report(
    args: &RunArgs,
    results: &ResultsFile,
    output: &std::path::Path,
    printer: &Printer,
) -> Result<()> {
    if results.points.is_empty() {
        return Ok(());
    }
    if !args.measure.no_store {
        // The history is a second copy: failing to record loses nothing, so it only warns.
        match open_store(args.measure.store.as_deref())
            .and_then(|mut store| Ok(store.record(results, Some(output))?))
        {
            Ok(id) => printer.info(&format!("Recorded as run {id} in the history store")),
            Err(err) => printer.warn(&format!(
                "the run was not recorded in the history store: {err:#}\n  the results file is complete; record it later with `ftbench history add {}`",
                output.display()
            )),
        }
    }
    if !args.measure.no_report {
        write_report(results, output, &report_dir(output), printer)?;
    }
    Ok(())
}

fn new_results(config: &RunConfig) -> ResultsFile {
    let variants = config
        .variants
        .iter()
        .map(|v| VariantRecord {
            label: v.label.clone(),
            path: v.interpreter.path.clone(),
            run_path: v.run_path.clone(),
            source: v.interpreter.source,
            gil_mode: v.gil,
            expects_gil: v.expects_gil(),
            info: v.interpreter.info.clone(),
        })
        .collect();
    ResultsFile::new(config.settings.clone(), variants)
}

/// `ftbench import pyperf`: a pyperf / pyperformance file becomes one label's regular tests.
fn import_pyperf(args: &ImportPyperfArgs, printer: &Printer) -> Result<ExitCode> {
    let (benchmarks, source) = pyperf::read(&args.file)?;
    let output = args.output.clone().unwrap_or_else(|| {
        std::path::PathBuf::from("ftbench-results")
            .join(format!("imported-{}.json", results::utc_stamp_for_file()))
    });
    results::guard::check_output(&output, results::guard::Existing::Continue)?;
    let mut results = if output.exists() {
        results::load(&output)?
    } else {
        ResultsFile::new(results::Settings::default(), Vec::new())
    };
    if results.variants.iter().any(|v| v.label == args.label) {
        anyhow::bail!(
            "`{}` already has a label `{}`; pick another with --label",
            output.display(),
            args.label
        );
    }
    let version = source
        .version
        .clone()
        .unwrap_or_else(|| "0.0.0".to_string());
    let executable = source.executable.clone().unwrap_or_default();
    // pyperf does not record Py_GIL_DISABLED; a `t` executable or label is the usual tell.
    let free_threaded = executable.ends_with('t') || args.label.ends_with('t');
    let info = interpreter::InterpreterInfo::imported(
        &version,
        &executable,
        source.implementation.as_deref().unwrap_or("cpython"),
        free_threaded,
    );
    results.variants.push(VariantRecord {
        label: args.label.clone(),
        path: executable.clone().into(),
        run_path: executable.into(),
        source: interpreter::InterpreterSource::Imported,
        gil_mode: GilMode::Default,
        expects_gil: !free_threaded,
        info,
    });
    for benchmark in &benchmarks {
        results.add_imported(
            &benchmark.name,
            &args.label,
            &benchmark.seconds,
            !free_threaded,
        );
    }
    if results.settings.baseline.is_none() {
        results.settings.baseline = Some(args.label.clone());
    }
    if let Some(parent) = output.parent()
        && !parent.as_os_str().is_empty()
    {
        fs_err::create_dir_all(parent)?;
    }
    results::write_results(&output, &mut results)
        .with_context(|| format!("failed to write `{}`", output.display()))?;
    printer.stdout(&report::table::render(&results))?;
    printer.info(&format!(
        "Imported {} benchmark(s) from {} as `{}` into {}",
        benchmarks.len(),
        args.file.display(),
        args.label,
        output.display()
    ));
    Ok(ExitCode::SUCCESS)
}

fn open_store(path: Option<&std::path::Path>) -> Result<SqliteStore> {
    let path = path.map_or_else(store::default_path, std::path::Path::to_path_buf);
    Ok(SqliteStore::open(&path)?)
}

/// The store for a command that only reads it: a path that does not exist is a mistake (a typo
/// in `--store`), not a store to create.
fn open_existing_store(path: Option<&std::path::Path>) -> Result<SqliteStore> {
    let path = path.map_or_else(store::default_path, std::path::Path::to_path_buf);
    if !path.exists() {
        anyhow::bail!(
            "there is no history store at `{}`: `ftbench run` records runs there (--store or FTBENCH_STORE choose another)",
            path.display()
        );
    }
    Ok(SqliteStore::open(&path)?)
}

/// The stored label `requested` means: itself, or the one label it names the way `--python`
/// does (`3.13t` is `3.13.15t`, not `3.13.15t+gil`).
fn resolve_label(store: &SqliteStore, test: &str, requested: &str) -> Result<String> {
    let labels = store.labels(test)?;
    if labels.iter().any(|l| l == requested) {
        return Ok(requested.to_string());
    }
    let (version, free_threaded) = requested
        .strip_suffix('t')
        .map_or((requested, false), |v| (v, true));
    let matching: Vec<&String> = labels
        .iter()
        .filter(|label| {
            let Some(rest) = label.strip_prefix(version) else {
                return false;
            };
            let rest = rest.strip_suffix('t').unwrap_or(rest);
            label.ends_with('t') == free_threaded
                && (rest.is_empty()
                    || rest
                        .strip_prefix('.')
                        .is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit())))
        })
        .collect();
    match matching.as_slice() {
        [one] => Ok((*one).clone()),
        [] => anyhow::bail!(
            "the store has no label `{requested}` for `{test}`; it has: {}",
            if labels.is_empty() {
                "none (is the test name right?)".to_string()
            } else {
                labels.join(", ")
            }
        ),
        several => anyhow::bail!(
            "`{requested}` could be any of {}; pass one of them with --label",
            several
                .iter()
                .map(|l| format!("`{l}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// `ftbench compare`: files and stored runs, each against the first.
fn compare_command(args: &CompareArgs, printer: &Printer) -> Result<ExitCode> {
    let label_map = compare::parse_label_map(&args.label_map)?;
    let mut inputs: Vec<(String, ResultsFile)> = Vec::new();
    for file in &args.files {
        inputs.push((file.display().to_string(), results::load(file)?));
    }
    if !args.runs.is_empty() {
        let store = open_existing_store(args.store.as_deref())?;
        for id in &args.runs {
            inputs.push((format!("run {id}"), store.load(*id)?));
        }
    }
    if inputs.len() < 2 {
        anyhow::bail!(
            "compare needs two results files or stored runs (FILE FILE, --run ID --run ID)"
        );
    }
    let (base_name, base) = &inputs[0];
    let comparisons: Vec<compare::FileComparison> = inputs[1..]
        .iter()
        .map(|(name, other)| compare::compare(base, base_name, other, name, &label_map))
        .collect();
    if comparisons.iter().all(|c| c.points.is_empty()) {
        anyhow::bail!(
            "no point of {base_name} matches the others by (test, label, thread count); pair labels with --label-map BASE=OTHER (labels: {})",
            base.labels().join(", ")
        );
    }
    if args.json {
        printer.stdout(&serde_json::to_string_pretty(&comparisons)?)?;
    } else {
        let mut out = String::new();
        for comparison in &comparisons {
            let table = comparison.table();
            out.push_str(&if args.markdown {
                table.to_markdown()
            } else {
                table.to_text()
            });
        }
        printer.stdout(&out)?;
    }
    if let Some(percent) = args.fail_on_regression {
        let disturbed: usize = comparisons.iter().map(|c| c.disturbed().len()).sum();
        if disturbed > 0 {
            printer.warn(&format!(
                "--fail-on-regression ignores {disturbed} point(s) that other work on the machine disturbed (verdict `disturbed`); measure them again on a quiet machine"
            ));
        }
        let regressions: Vec<&compare::PointComparison> = comparisons
            .iter()
            .flat_map(|c| c.regressions(percent, args.include_native))
            .collect();
        if !regressions.is_empty() {
            printer.error(&format!(
                "{} point(s) regressed by more than {percent}%:\n{}",
                regressions.len(),
                compare::describe_regressions(&regressions).trim_end()
            ));
            return Ok(ExitCode::FAILURE);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `ftbench history`: the stored runs, or one point's trend with its significant steps.
fn history_command(args: &HistoryArgs, printer: &Printer) -> Result<ExitCode> {
    if let Some(HistoryCommand::Add(add)) = &args.action {
        return history_add(add, printer);
    }
    let store = open_existing_store(args.store.as_deref())?;
    match (&args.test, &args.label) {
        (Some(test), Some(label)) => show_trend(&store, args, test, label, printer),
        _ => list_runs(&store, args.json, printer),
    }
}

/// `ftbench history add FILE...`: record results files, each once.
fn history_add(args: &HistoryAddArgs, printer: &Printer) -> Result<ExitCode> {
    let mut store = open_store(args.store.as_deref())?;
    for file in &args.files {
        let results = results::load(file)?;
        if results.points.is_empty() {
            printer.warn(&format!("{} has no points; not recorded", file.display()));
            continue;
        }
        let absolute = fs_err::canonicalize(file).unwrap_or_else(|_| file.clone());
        if let Some(id) = store.find(&results.created, &results.system.hostname)? {
            printer.info(&format!(
                "{} is already recorded as run {id}",
                file.display()
            ));
        } else {
            let id = store.record(&results, Some(&absolute))?;
            printer.info(&format!("Recorded {} as run {id}", file.display()));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn list_runs(store: &SqliteStore, json: bool, printer: &Printer) -> Result<ExitCode> {
    let runs = store.runs()?;
    if json {
        printer.stdout(&serde_json::to_string_pretty(&runs)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut rows = vec![
        [
            "id", "date", "machine", "labels", "tests", "settings", "points", "status", "results",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for run in &runs {
        rows.push(vec![
            run.id.to_string(),
            run.created.clone(),
            format!(
                "{} ({}, {} cores)",
                run.hostname, run.cpu_model, run.logical_cores
            ),
            run.labels.join(", "),
            if run.tests.len() > 4 {
                format!("{} tests", run.tests.len())
            } else {
                run.tests.join(", ")
            },
            format!(
                "{}, threads {}",
                if run.quick { "quick" } else { "default" },
                run.threads
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            run.points.to_string(),
            match (run.failed, run.resumed) {
                (0, 0) => "complete".to_string(),
                (0, r) => format!("complete (resumed {r}x)"),
                (f, _) => format!("partial: {f} failed"),
            },
            run.results_path.clone().unwrap_or_default(),
        ]);
    }
    printer.stdout(&report::table::grid_aligned(&rows, 6))?;
    Ok(ExitCode::SUCCESS)
}

fn show_trend(
    store: &SqliteStore,
    args: &HistoryArgs,
    test: &str,
    label: &str,
    printer: &Printer,
) -> Result<ExitCode> {
    let label = &resolve_label(store, test, label)?;
    let thread_counts: Vec<u32> = match args.threads {
        Some(n) => vec![n],
        None => store.thread_counts(test, label)?,
    };
    let mut trends = Vec::new();
    let mut out = String::new();
    for threads in thread_counts {
        let trend = store.trend(test, label, threads)?;
        let _ = writeln!(
            out,
            "\n=== {test} on {label} at {} ===\n{}",
            crate::format::threads(threads),
            report::table::grid_aligned(&trend_rows(&trend), 3)
        );
        trends.push(serde_json::json!({
            "thread_count": threads,
            "threads": crate::format::threads(threads),
            "points": trend,
        }));
    }
    if trends
        .iter()
        .all(|t| t["points"].as_array().is_none_or(Vec::is_empty))
    {
        anyhow::bail!(
            "the store has no point of `{test}` on `{label}`; `ftbench history` lists the runs"
        );
    }
    if args.json {
        printer.stdout(&serde_json::to_string_pretty(&trends)?)?;
    } else {
        printer.stdout(&out)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// One row per run, each compared with the run before it; significant steps are flagged.
fn trend_rows(trend: &[store::TrendPoint]) -> Vec<Vec<String>> {
    let mut rows = vec![
        [
            "run",
            "date",
            "machine",
            "median",
            "95% CI",
            "vs previous",
            "step",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for (i, point) in trend.iter().enumerate() {
        let step = i.checked_sub(1).map(|j| {
            let mut step = crate::stats::Comparison::of(&trend[j].samples, &point.samples);
            // A busy machine measured the other work too: no step to call significant.
            if trend[j].disturbed || point.disturbed {
                step.verdict = crate::stats::Verdict::Disturbed;
            }
            step
        });
        rows.push(vec![
            point.run_id.to_string(),
            point.created.clone(),
            point.hostname.clone(),
            report::human(point.median),
            format!(
                "[{}, {}]",
                report::human(point.ci_low),
                report::human(point.ci_high)
            ),
            step.map_or(String::new(), |c| {
                format!("{:.3}x (p = {:.3})", c.ratio, c.p_value)
            }),
            step.map_or(String::new(), |c| match c.verdict {
                crate::stats::Verdict::Same => String::new(),
                crate::stats::Verdict::Disturbed => "disturbed (BUSY!): no verdict".to_string(),
                verdict => format!("<- significant: {verdict}"),
            }),
        ]);
    }
    rows
}

/// `ftbench scale FILE:FUNCTION`: the user's own function through the whole machinery.
fn scale(args: &ScaleArgs, printer: &Printer) -> Result<ExitCode> {
    let (file, function) = args
        .target
        .rsplit_once(':')
        .filter(|(file, function)| !file.is_empty() && !function.is_empty())
        .ok_or_else(|| {
            anyhow::anyhow!("`{}` is not FILE:FUNCTION, e.g. bench.py:work", args.target)
        })?;
    let path = std::path::Path::new(file);
    if !path.is_file() {
        anyhow::bail!("`{file}` does not exist (from `{}`)", args.target);
    }
    let path = fs_err::canonicalize(path)?;
    if let Some(json) = &args.args {
        let value: serde_json::Value = serde_json::from_str(json)
            .with_context(|| format!("--args is not valid JSON: {json}"))?;
        if !(value.is_array() || value.is_object()) {
            anyhow::bail!("--args must be a JSON list (positional) or object (keyword): {json}");
        }
    }
    let stem = path
        .file_stem()
        .map_or_else(|| "user".into(), |s| s.to_string_lossy().into_owned());
    let executors: &[&str] = match args.mode {
        ScaleMode::Threads => &["thread"],
        ScaleMode::Processes => &["process"],
        ScaleMode::Both => &["thread", "process"],
    };
    if let Some((flag, 0)) = args
        .strong
        .map(|n| ("--strong", n))
        .or(args.weak.map(|n| ("--weak", n)))
    {
        anyhow::bail!("invalid {flag} `0`: the work size must be at least 1");
    }
    let fixed = args.strong.or(args.weak).map(|n| n.to_string());
    // Names the user asked for that are set here, as a JSON object for user.py.
    let inherited = serde_json::Value::Object(
        args.inherit_env
            .iter()
            .map(|name| name.trim())
            .filter(|name| !name.is_empty())
            .filter_map(|name| {
                std::env::var(name)
                    .ok()
                    .map(|value| (name.to_string(), value.into()))
            })
            .collect(),
    )
    .to_string();
    let tests: Vec<&'static crate::workloads::Workload> = executors
        .iter()
        .map(|executor| {
            let name = if *executor == "thread" {
                format!("{stem}:{function}")
            } else {
                format!("{stem}:{function}@processes")
            };
            let mut params = vec![
                ("path", path.display().to_string()),
                ("function", function.to_string()),
                (
                    "args",
                    args.args.clone().unwrap_or_else(|| "[]".to_string()),
                ),
                (
                    "check",
                    if args.check_results { "1" } else { "0" }.to_string(),
                ),
                ("executor", (*executor).to_string()),
            ];
            if let Some(fixed) = &fixed {
                params.push(("fixed", fixed.clone()));
            }
            params.push(("env", inherited.clone()));
            params.push(("user_site", "1".to_string()));
            crate::workloads::Workload::leaked_user(name, params)
        })
        .collect();
    let run_args = RunArgs {
        measure: args.measure.clone(),
        tests: Vec::new(),
        suite: crate::workloads::Suite::Scaling,
        baseline: None,
        list_tests: false,
        resume: None,
        trust_paths: false,
        weak: args.weak.is_some(),
        install_deps: false,
        no_native: true,
    };
    interrupt::install().context("failed to install signal handlers")?;
    let mut config = RunConfig::from_cli(&run_args, printer)?;
    config.settings.tests = tests.iter().map(|t| t.name.to_string()).collect();
    config.tests = tests;
    execute(config, &run_args, printer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{Point, PointSample, Settings};

    #[test]
    fn a_label_resolves_the_way_python_specs_do() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(&dir.path().join("h.sqlite")).unwrap();
        let mut results = ResultsFile::new(Settings::default(), Vec::new());
        for label in ["3.13.15t", "3.13.15t+gil", "3.13.15", "3.12.1"] {
            results.points.push(Point {
                test: "parallel_compute".into(),
                label: label.into(),
                thread_count: 0,
                samples: vec![PointSample {
                    process: 0,
                    wall_ns: 1000,
                    work_units: 1,
                    gil_enabled: false,
                    extra: None,
                    load: None,
                    disturbed: false,
                    memory: None,
                }],
                throughput: crate::stats::Summary::from_samples(&[1e6]).unwrap(),
                gil_mismatches: 0,
            });
        }
        store.record(&results, None).unwrap();
        let resolve = |label: &str| resolve_label(&store, "parallel_compute", label);
        assert_eq!(resolve("3.13t").unwrap(), "3.13.15t");
        assert_eq!(resolve("3.13").unwrap(), "3.13.15");
        assert_eq!(resolve("3.13.15t+gil").unwrap(), "3.13.15t+gil");
        assert_eq!(resolve("3.12").unwrap(), "3.12.1");
        let err = resolve("3.14t").unwrap_err().to_string();
        assert!(
            err.contains("it has: 3.12.1, 3.13.15, 3.13.15t, 3.13.15t+gil"),
            "{err}"
        );
        let err = resolve_label(&store, "nbody", "3.13t")
            .unwrap_err()
            .to_string();
        assert!(err.contains("none (is the test name right?)"), "{err}");
    }
}
