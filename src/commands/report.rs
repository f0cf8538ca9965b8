//! `ftbench report`: tables on stdout and the report files, for any results file.

use std::process::ExitCode;

use anyhow::Result;

use super::common::{report_dir, write_report};
use crate::analysis::Analysis;
use crate::output::Printer;
use crate::report::terminal::Layout;
use crate::report::terminal::Terminal;
use crate::report::{Exporter as _, ReportModel};
use crate::results;

/// `ftbench report FILE`: the tables, and the report files unless `--no-files`.
pub(super) fn report(args: &crate::cli::ReportArgs, printer: &Printer) -> Result<ExitCode> {
    let file = results::load(&args.results)?;
    let analysis = Analysis::of(&file);
    let model = ReportModel::of(&analysis);
    printer.stdout(&Terminal(Layout::for_stdout(args.wide)).export(&model)?)?;
    if !analysis.gates().is_empty() {
        printer.stdout(&crate::report::gates::terminal(
            analysis.gates(),
            crate::output::width(),
        ))?;
    }
    if !args.no_files {
        let dir = args
            .out
            .clone()
            .unwrap_or_else(|| report_dir(&args.results));
        write_report(&model, &args.results, &dir, printer)?;
    }
    Ok(ExitCode::SUCCESS)
}
