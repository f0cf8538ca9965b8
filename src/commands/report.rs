//! `ftbench report`: tables on stdout and the report files, for any results file.

use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::analysis::Analysis;
use crate::output::Printer;
use crate::report;
use crate::results;

/// `results/2026-…json` → `results/2026-…-report/`.
pub(super) fn report_dir(results: &std::path::Path) -> std::path::PathBuf {
    beside(results, "report")
}

/// A folder beside a results file, named after it: `results/2026-…json` →
/// `results/2026-…-WHAT/`.
pub(super) fn beside(results: &std::path::Path, what: &str) -> std::path::PathBuf {
    let stem = results
        .file_stem()
        .map_or_else(|| "ftbench".into(), |s| s.to_string_lossy().into_owned());
    results.with_file_name(format!("{stem}-{what}"))
}

/// Render the whole report in memory, then write it: a rendering error writes nothing. The
/// flame graphs a `--profile` run recorded are read from beside `results_path`.
pub(super) fn write_report(
    results: &Analysis,
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

/// `ftbench report FILE`: the tables, and the report files unless `--no-files`.
pub(super) fn report(args: &crate::cli::ReportArgs, printer: &Printer) -> Result<ExitCode> {
    let file = results::load(&args.results)?;
    let results = Analysis::of(&file);
    printer.stdout(&report::terminal::render(
        &results,
        report::terminal::Layout::for_stdout(args.wide),
    ))?;
    if !args.no_files {
        let dir = args
            .out
            .clone()
            .unwrap_or_else(|| report_dir(&args.results));
        write_report(&results, &args.results, &dir, printer)?;
    }
    Ok(ExitCode::SUCCESS)
}
