//! `ftbench pyperformance`: pyperformance's benchmarks on each interpreter, one benchmark at a
//! time and the interpreters interleaved (A B, then B A), the GIL checked in every benchmark's
//! processes, the results file written after each benchmark.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use super::common::{
    Keep, beside, claim_output, exit_code, machine_check, record_and_report, warn_marked_points,
};
use super::run::ResultsWriter;
use crate::analysis::Analysis;
use crate::cli::PyperformanceArgs;
use crate::interpreter::Variant;
use crate::output::Printer;
use crate::report::terminal::Layout;
use crate::report::{self, Exporter as _};
use crate::results::{
    self, Missing, PyperformanceSettings, ResultsFile, Settings, VariantRecord, guard,
};
use crate::runner::Outcome as RunOutcome;
use crate::runner::Sink as _;
use crate::runner::pyperformance::{self as pp, Benchmark, Install};
use crate::runner::suite::{self, Installed, Step};
use crate::runner::{host, observer};
use crate::{config, interrupt};

/// A run to do: the file so far, where it goes, the interpreters.
struct Session {
    results: ResultsFile,
    output: PathBuf,
    variants: Vec<Variant>,
}

pub(super) fn pyperformance(args: &PyperformanceArgs, printer: &Printer) -> Result<ExitCode> {
    interrupt::install().context("failed to install signal handlers")?;
    // A benchmark that detaches a process (`setsid`) leaves it to ftbench, which ends it.
    crate::process::adopt_orphans();
    keep(args).check_store()?;
    let mut session = match &args.resume {
        Some(path) => resume(path, args, printer)?,
        None => fresh(args)?,
    };
    let output = session.output.clone();
    let _lock = prepare(&mut session, printer)?;
    let logs = beside(&output, "logs");
    fs_err::create_dir_all(&logs)?;
    let installs = install_all(&session.variants, &logs, printer)?;
    let settings = session
        .results
        .settings
        .pyperformance
        .clone()
        .expect("a pyperformance session has its settings");
    let steps = plan(&mut session, &installs, &settings, args.resume.is_some())?;
    printer.info(&format!(
        "Running {} benchmark run(s) with pyperformance {} ({} mode) on {}; results: {}",
        steps.len(),
        settings.version,
        settings.mode,
        session
            .variants
            .iter()
            .map(|v| v.label.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        output.display()
    ));
    let mut sink = ResultsWriter::new(&output);
    let outcome = suite::run(
        &steps,
        &session.variants,
        &mut session.results,
        &mut suite::Parts {
            benchmarker: &mut Installed {
                installs: &installs,
                settings: &settings,
            },
            host: &mut host::Real::default(),
            observer: &observer::Terminal::new(printer),
            logs: &logs,
        },
        &mut sink,
    )?;
    // Written once more: a resumed file that had nothing left to run records its resume.
    sink.save(&mut session.results)?;
    let results = &session.results;
    let analysis = Analysis::with(results, &sink.derived);
    let model = report::ReportModel::of(&analysis);
    show(args, results, &model, printer)?;
    warn_marked_points(results, printer);
    printer.info(&format!("Results written to {}", output.display()));
    if outcome == RunOutcome::Completed && interrupt::requested().is_none() {
        record_and_report(&keep(args), (results, &model), &output, printer)?;
    }
    let outcome = match (outcome, interrupt::requested()) {
        (RunOutcome::Completed, Some(stop)) => RunOutcome::Stopped(stop),
        (outcome, _) => outcome,
    };
    if let RunOutcome::Stopped(stop) = outcome {
        printer.warn(&format!(
            "stopped by {}; every finished benchmark is in {1}; complete it with `ftbench pyperformance --resume {1}`",
            stop.name(),
            output.display()
        ));
        return Ok(ExitCode::from(stop.exit_code()));
    }
    Ok(exit_code(outcome, &results.errors, &output, printer))
}

/// Before measuring: the output's folder and lock ([`claim_output`]) and a short look at the
/// machine, said in one line and kept in the file.
fn prepare(session: &mut Session, printer: &Printer) -> Result<guard::OutputLock> {
    let lock = claim_output(&session.output)?;
    let check = machine_check(&session.results.system, &session.results.settings);
    printer.info(&check.summary());
    if session.results.system.check.is_none() {
        session.results.system.check = Some(check);
    }
    Ok(lock)
}

/// The run's tables, its warnings and each interpreter's wall time.
fn show(
    args: &PyperformanceArgs,
    results: &ResultsFile,
    model: &report::ReportModel<'_>,
    printer: &Printer,
) -> Result<()> {
    printer.stdout(&report::terminal::Terminal(Layout::for_stdout(args.wide)).export(model)?)?;
    for warning in &results.warnings {
        printer.warn(warning);
    }
    if let Some(run) = &results.settings.pyperformance {
        printer.info(&format!(
            "Wall time per interpreter: {}",
            run.wall_s
                .iter()
                .map(|(label, s)| format!("{label} {:.1} min", s / 60.0))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(())
}

/// What to keep of the run: the store and the report, as the flags say.
fn keep(args: &PyperformanceArgs) -> Keep<'_> {
    Keep {
        no_store: args.no_store,
        store: args.store.as_deref(),
        no_report: args.no_report,
    }
}

/// A new run from the command line: interpreters found, output free, nothing written yet.
fn fresh(args: &PyperformanceArgs) -> Result<Session> {
    let (variants, explicit) = config::pythons(&args.pythons)?;
    config::check_labels(&variants)?;
    let baseline = config::baseline_label(args.baseline.as_deref(), &variants, explicit)?;
    if let Some(machine) = &args.machine {
        results::check_name("machine name", machine).map_err(anyhow::Error::msg)?;
    }
    let manifest = args
        .manifest
        .as_deref()
        .map(|m| {
            fs_err::canonicalize(m)
                .with_context(|| format!("cannot read the manifest `{}`", m.display()))
        })
        .transpose()?;
    let selection = match (&args.benchmarks, args.all) {
        (Some(list), _) => list.clone(),
        (None, true) => "default".to_string(),
        (None, false) => pp::DEFAULT_SELECTION.join(","),
    };
    PyperformanceSettings::check_selection(&selection).map_err(anyhow::Error::msg)?;
    let output = args.output.clone().unwrap_or_else(|| {
        PathBuf::from("ftbench-results").join(format!(
            "pyperformance-{}.json",
            results::utc_stamp_for_file()
        ))
    });
    guard::check_output(
        &output,
        guard::Existing::Refuse(guard::Command::Pyperformance),
    )?;
    let settings = Settings {
        baseline: Some(baseline),
        allow_load: args.allow_load,
        include_gil_benchmarks: args.include_gil_benchmarks,
        pyperformance: Some(PyperformanceSettings {
            version: pp::VERSION.to_string(),
            mode: args.mode(),
            selection,
            manifest,
            wall_s: std::collections::BTreeMap::new(),
            timeout_s: args.timeout(),
        }),
        ..Settings::default()
    };
    let records = variants.iter().map(VariantRecord::of).collect();
    let mut results = ResultsFile::new(settings, records);
    results.system.machine.clone_from(&args.machine);
    Ok(Session {
        results,
        output,
        variants,
    })
}

/// `--resume FILE`: the file's selection, mode and interpreters (found again as `run --resume`
/// finds them); failed benchmarks are tried again.
fn resume(path: &Path, args: &PyperformanceArgs, printer: &Printer) -> Result<Session> {
    guard::check_output(path, guard::Existing::Continue)?;
    let mut previous = results::load(path)?;
    let Some(settings) = previous.settings.pyperformance.clone() else {
        bail!(
            "`{}` was not written by `ftbench pyperformance`; resume it with `ftbench run --resume`",
            path.display()
        );
    };
    if settings.version != pp::VERSION {
        bail!(
            "`{}` was measured with pyperformance {}, this ftbench runs {}: their numbers do not mix; start a new file",
            path.display(),
            settings.version,
            pp::VERSION
        );
    }
    if let Some(manifest) = &settings.manifest
        && !args.trust_paths
        && !own_file(manifest)
    {
        bail!(
            "cannot resume: `{}` names the manifest `{}`, which is not a file of yours on this machine; a results file may come from anywhere, so pass --trust-paths to run its benchmarks",
            path.display(),
            manifest.display()
        );
    }
    let variants = config::resume_variants(
        &previous,
        &args.pythons,
        args.trust_paths,
        false,
        path,
        printer,
    )?;
    previous.begin_resume(false);
    if let (Some(timeout), Some(run)) = (args.timeout, previous.settings.pyperformance.as_mut()) {
        run.timeout_s = timeout;
    }
    Ok(Session {
        results: previous,
        output: path.to_path_buf(),
        variants,
    })
}

/// Whether `path` is a file that belongs to the user running ftbench.
fn own_file(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    fs_err::metadata(path)
        .is_ok_and(|meta| meta.is_file() && meta.uid() == nix::unistd::getuid().as_raw())
}

/// pyperformance for each interpreter (a `+gil` variant shares its build's), installed once.
fn install_all(
    variants: &[Variant],
    logs: &Path,
    printer: &Printer,
) -> Result<Vec<(PathBuf, Install)>> {
    let mut installs: Vec<(PathBuf, Install)> = Vec::new();
    for variant in variants {
        let python = &variant.interpreter.path;
        if installs.iter().any(|(p, _)| p == python) {
            continue;
        }
        let spinner = printer.spinner("pyperformance");
        spinner.set_message(format!(
            "{} for {}",
            pp::VERSION,
            crate::output::escape(&variant.label)
        ));
        let log = logs.join(format!(
            "install-{}.log",
            crate::format::slug(&variant.label)
        ));
        let install = pp::install(python, &log, &interrupt::requested);
        spinner.finish_and_clear();
        installs.push((python.clone(), install?));
    }
    Ok(installs)
}

/// The steps still to run: every selected benchmark on every label that can run it, the
/// labels' order reversed every other benchmark (A B, B A) so that drift of the machine falls
/// on each alike. Benchmarks a label's Python cannot run are recorded as skipped; names that
/// are no benchmark are an error before anything runs.
fn plan(
    session: &mut Session,
    installs: &[(PathBuf, Install)],
    settings: &PyperformanceSettings,
    resumed: bool,
) -> Result<Vec<Step>> {
    let installed = Installed { installs, settings };
    let mut per_label = Vec::new();
    let mut all: Vec<Benchmark> = Vec::new();
    // One plan per interpreter: a `+gil` variant shares its build's.
    let mut plans: Vec<(&Path, pp::Plan)> = Vec::new();
    for variant in &session.variants {
        let python = variant.interpreter.path.as_path();
        if !plans.iter().any(|(p, _)| *p == python) {
            let plan = installed.of(variant).plan(
                &settings.selection,
                settings.manifest.as_deref(),
                &interrupt::requested,
            )?;
            plans.push((python, plan));
        }
        let plan = &plans
            .iter()
            .find(|(p, _)| *p == python)
            .expect("planned above")
            .1;
        if !plan.unknown.is_empty() && !resumed {
            bail!(
                "pyperformance {} has no benchmark or group named {} (`ftbench pyperformance -b` takes pyperformance's names; `python -m pyperformance list` lists them)",
                plan.version,
                plan.unknown
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        for excluded in &plan.excluded {
            session.results.skipped.push(Missing {
                test: excluded.name.clone(),
                label: variant.label.clone(),
                thread_count: None,
                reason: format!("needs Python {}", excluded.requires_python),
            });
        }
        for benchmark in &plan.benchmarks {
            // A name the results file could not hold is refused before anything runs.
            results::check_name("benchmark name", &benchmark.name).map_err(|reason| {
                anyhow::anyhow!(
                    "the selection `{}` cannot run: {reason}",
                    crate::output::escape(&settings.selection)
                )
            })?;
            if !all.iter().any(|b| b.name == benchmark.name) {
                all.push(benchmark.clone());
            }
        }
        per_label.push(
            plan.benchmarks
                .iter()
                .map(|b| b.name.clone())
                .collect::<Vec<_>>(),
        );
    }
    Ok(suite::steps(
        all,
        &per_label,
        &session.variants,
        &session.results,
    ))
}
