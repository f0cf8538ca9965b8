//! What several subcommands share: the history store, the report beside a results file, what
//! happens to a finished run (recorded, reported, its exit status), the machine check before
//! measuring, and warnings about marked points. Subcommands import this file, not each other.

use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::cli::MeasureArgs;
use crate::output::Printer;
use crate::report::{self, ReportModel};
use crate::results::{self, ResultsFile};
use crate::runner::Outcome;
use crate::store::{self, Location, Store};

/// The store for a command that records runs: created and migrated as needed.
pub fn open_store(arg: Option<&std::ffi::OsStr>) -> Result<Box<dyn Store>> {
    Ok(store::open(&Location::from_arg(arg), store::Access::Write)?)
}

/// The store for a command that only reads it: a path that does not exist is a mistake (a typo
/// in `--store`), not a store to create.
pub fn open_existing_store(arg: Option<&std::ffi::OsStr>) -> Result<Box<dyn Store>> {
    let location = Location::from_arg(arg);
    if !location.exists() {
        anyhow::bail!(
            "there is no history store at `{}`: `ftbench run` records runs there (--store or FTBENCH_STORE choose another)",
            location.display()
        );
    }
    Ok(store::open(&location, store::Access::Read)?)
}

/// `Intel Xeon, 16 cores, 125 GiB, Linux 6.18 (Debian 12), governor performance, SMT off`.
pub fn describe_fingerprint(fingerprint: &serde_json::Value) -> String {
    let text = |key: &str| fingerprint[key].as_str().map(str::to_string);
    let mut parts = vec![text("cpu_model").unwrap_or_else(|| "unknown CPU".to_string())];
    if let Some(cores) = fingerprint["logical_cores"].as_u64() {
        parts.push(format!("{cores} cores"));
    }
    if let Some(bytes) = fingerprint["memory_bytes"].as_u64() {
        parts.push(format!("{:.0} GiB", bytes as f64 / f64::from(1u32 << 30)));
    }
    match (text("kernel"), text("os")) {
        (Some(kernel), Some(os)) => parts.push(format!("kernel {kernel} ({os})")),
        (Some(one), None) | (None, Some(one)) => parts.push(one),
        (None, None) => {}
    }
    if let Some(governor) = text("cpu_governor") {
        parts.push(format!("governor {governor}"));
    }
    if let Some(smt) = text("smt") {
        parts.push(format!("SMT {smt}"));
    }
    parts.join(", ")
}

/// A stored trend as the analysis reads it.
pub fn run_samples(trend: &[store::TrendPoint]) -> Vec<crate::analysis::fleet::RunSamples<'_>> {
    trend
        .iter()
        .map(|p| crate::analysis::fleet::RunSamples {
            run_id: p.run_id,
            created: &p.created,
            samples: &p.samples,
            disturbed: p.disturbed,
        })
        .collect()
}

/// `results/2026-…json` → `results/2026-…-report/`.
pub fn report_dir(results: &std::path::Path) -> std::path::PathBuf {
    beside(results, "report")
}

/// A folder beside a results file, named after it: `results/2026-…json` →
/// `results/2026-…-WHAT/`.
pub fn beside(results: &std::path::Path, what: &str) -> std::path::PathBuf {
    let stem = results
        .file_stem()
        .map_or_else(|| "ftbench".into(), |s| s.to_string_lossy().into_owned());
    results.with_file_name(format!("{stem}-{what}"))
}

/// Render the whole report in memory, then write it: a rendering error writes nothing. The
/// flame graphs a `--profile` run recorded are read from beside `results_path`.
pub fn write_report(
    model: &ReportModel,
    results_path: &std::path::Path,
    dir: &std::path::Path,
    printer: &Printer,
) -> Result<()> {
    let results = model.analysis;
    let mut report = report::Report::render(model).context("failed to render the report")?;
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

/// What happens to a finished run's file: recorded in a store, reported beside it.
pub struct Keep<'a> {
    pub no_store: bool,
    pub store: Option<&'a std::ffi::OsStr>,
    pub no_report: bool,
}

impl<'a> Keep<'a> {
    pub fn of(measure: &'a MeasureArgs) -> Self {
        Self {
            no_store: measure.no_store,
            store: measure.store.as_deref(),
            no_report: measure.no_report,
        }
    }
}

impl Keep<'_> {
    /// Refuse, before anything is measured, a store that can never record the run: a path that
    /// exists and is not a regular file (`--store /dev/null`, a folder). Everything else about
    /// a store (a `PostgreSQL` server, a read-only disk) is found out when the run is recorded,
    /// which only warns: the results file is the first copy.
    pub fn check_store(&self) -> Result<()> {
        if self.no_store {
            return Ok(());
        }
        if let Location::Sqlite(path) = Location::from_arg(self.store)
            && fs_err::metadata(&path).is_ok_and(|meta| !meta.is_file())
        {
            anyhow::bail!(
                "the history store `{}` is not a regular file, so the run could not be recorded there; choose another --store, or pass --no-store",
                path.display()
            );
        }
        Ok(())
    }
}

/// After a run: record it in the history store and write its report, unless told not to.
pub fn record_and_report(
    keep: &Keep<'_>,
    (results, model): (&ResultsFile, &ReportModel),
    output: &std::path::Path,
    printer: &Printer,
) -> Result<()> {
    if results.points().is_empty() {
        return Ok(());
    }
    if !keep.no_store {
        // The history is a second copy: failing to record loses nothing, so it only warns.
        match open_store(keep.store)
            .and_then(|mut store| Ok((store.record(results, Some(output))?, store.name())))
        {
            Ok((recorded, name)) => printer.info(&format!(
                "Recorded as run {} in the history store `{name}`",
                recorded.id
            )),
            Err(err) => printer.warn(&format!(
                "the run was not recorded in the history store: {err:#}\n  the results file is complete; record it later with `ftbench history add {}`",
                output.display()
            )),
        }
    }
    if !keep.no_report {
        write_report(model, output, &report_dir(output), printer)?;
    }
    Ok(())
}

/// The exit status of a run: 0, 1 when a point failed, 130 / 143 when a signal stopped it.
pub fn exit_code(
    outcome: Outcome,
    failed: &[results::Missing],
    output: &std::path::Path,
    printer: &Printer,
) -> ExitCode {
    match outcome {
        Outcome::Completed if !failed.is_empty() => {
            printer.error(&format!(
                "{} point(s) failed (listed above and under `errors` in {})",
                failed.len(),
                output.display()
            ));
            ExitCode::FAILURE
        }
        Outcome::Completed => ExitCode::SUCCESS,
        Outcome::Stopped(stop) => {
            printer.warn(&format!(
                "stopped by {}; every finished point is in {1}; complete it with `ftbench run --resume {1}`",
                stop.name(),
                output.display()
            ));
            ExitCode::from(stop.exit_code())
        }
    }
}

/// Warn about points whose numbers may not mean what they say: the GIL in the wrong state, or
/// other work on the machine.
pub fn warn_marked_points(results: &ResultsFile, printer: &Printer) {
    let gil_points = results
        .points()
        .iter()
        .filter(|p| p.gil_mismatches > 0)
        .count();
    if gil_points > 0 {
        printer.warn(&format!(
            "{gil_points} point(s) ran with the GIL in the wrong state (marked GIL! above, `gil_reenabled` in the results)"
        ));
    }
    let disturbed: Vec<String> = results
        .points()
        .iter()
        .filter(|p| p.disturbed())
        .map(|p| results.point_name(p))
        .collect();
    if !disturbed.is_empty() {
        printer.warn(&format!(
            "other work on the machine disturbed {} point(s) (marked BUSY! above, `disturbed` in the results): {}; measure them again on a quiet machine (`ftbench check` says what is busy)",
            disturbed.len(),
            disturbed.join("; ")
        ));
    }
}

/// Where a measuring command writes: `output`'s folder made, and its lock taken (held until the
/// command has written its last byte: a second one on the same output fails at once).
pub(super) fn claim_output(output: &std::path::Path) -> Result<results::guard::OutputLock> {
    if let Some(parent) = output.parent()
        && !parent.as_os_str().is_empty()
    {
        fs_err::create_dir_all(parent).with_context(|| {
            format!("cannot create the output directory `{}`", parent.display())
        })?;
    }
    Ok(results::guard::OutputLock::acquire(output)?)
}

/// A short look at the machine before measuring: other work for half a second, and the speed
/// of each CPU the run will use.
pub fn machine_check(
    system: &crate::machine::sysinfo::SystemInfo,
    settings: &results::Settings,
) -> crate::machine::check::Check {
    let cpus = crate::machine::cpus::or_allowed(&settings.cpus);
    crate::machine::check::check(
        system,
        crate::machine::check::Scope {
            window: std::time::Duration::from_millis(500),
            max_threads: settings.threads.iter().copied().max().unwrap_or(1),
            cpus: &cpus,
            probe: std::time::Duration::from_millis(300),
        },
    )
}

/// What GitHub Actions reads of a command: `summary` appended to `$GITHUB_STEP_SUMMARY` where
/// that is set, and `annotations` (workflow commands, which GitHub reads from stdout) printed
/// where `GITHUB_ACTIONS=true`. Each is made only when it is wanted; `what` names it in an error.
pub(super) fn tell_github(
    printer: &Printer,
    what: &str,
    summary: impl FnOnce() -> String,
    annotations: impl FnOnce() -> String,
) -> Result<()> {
    if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
        use std::io::Write as _;
        let summary = summary();
        fs_err::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut file| file.write_all(summary.as_bytes()))
            .with_context(|| format!("cannot append {what} to $GITHUB_STEP_SUMMARY"))?;
    }
    if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
        let annotations = annotations();
        if !annotations.is_empty() {
            printer.stdout(&annotations)?;
        }
    }
    Ok(())
}
