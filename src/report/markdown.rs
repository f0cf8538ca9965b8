//! `report.md`: the summary tables in GitHub-flavoured Markdown, for a pull-request comment.

use std::fmt::Write;

use super::table;
use crate::results::ResultsFile;

/// Render the Markdown report.
pub fn render(results: &ResultsFile) -> String {
    let mut out = String::from("## ftbench results\n\n");
    let _ = writeln!(
        out,
        "{} on {} ({} logical cores), {}. Speedup is over the same interpreter's serial run; ± is the half-width of the 95% interval of the median.\n",
        results.labels().join(", "),
        results.system.cpu_model,
        results.system.logical_cores,
        results.created
    );
    let warnings = super::html::warnings(results);
    if !warnings.is_empty() {
        out.push_str("> [!WARNING]\n");
        for warning in &warnings {
            let _ = writeln!(out, "> - {warning}");
        }
        out.push('\n');
    }
    for t in table::tables(results) {
        out.push_str(&t.to_markdown());
        out.push('\n');
    }
    let _ = writeln!(out, "<sub>`{}`</sub>", results.command_line.join(" "));
    out
}
