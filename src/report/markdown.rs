//! `report.md`: the summary tables in GitHub-flavoured Markdown, for a pull-request comment.

use std::fmt::Write;

use super::model::{Exporter, ReportModel};
use super::table;
use crate::analysis::Analysis;
use crate::output::markdown_escape as escape;

/// What each kind of speedup in the file is measured against.
fn baselines(results: &Analysis<'_>) -> String {
    let tests = results.tests();
    let mut said = String::new();
    if tests.iter().any(|t| results.group_of(t).scales()) {
        said.push_str("Scaling speedups are over the same interpreter's serial run. ");
    }
    if !results.regular_tests().is_empty()
        && let Some(baseline) = results.baseline()
    {
        let _ = write!(
            said,
            "Regular-test speedups are against {} (its time per run over each label's). ",
            escape(&baseline)
        );
    }
    said
}

/// Render the Markdown report.
pub fn render(model: &ReportModel<'_>) -> String {
    let results = model.analysis;
    let mut out = String::from("## ftbench results\n\n");
    let _ = writeln!(
        out,
        "{} on {} ({} logical cores), {}. {}± is the half-width of the 95% interval of the median (n/a: a single sample, no interval).\n",
        escape(&results.labels().join(", ")),
        escape(&results.system().cpu_model),
        results.system().logical_cores,
        escape(results.created()),
        baselines(results)
    );
    if !model.headline.is_empty() {
        out.push_str("### In short\n\n");
        for sentence in &model.headline {
            let _ = writeln!(out, "- {}", escape(sentence));
        }
        out.push('\n');
    }
    if !results.gates().is_empty() {
        // The gates as CI saw them, without the summary's own heading.
        let summary = super::gates::step_summary(results.gates(), &[]);
        out.push_str("### Gates\n");
        out.push_str(summary.trim_start_matches("## ftbench gates\n"));
        out.push('\n');
    }
    if !model.warnings.is_empty() {
        out.push_str("> [!WARNING]\n");
        for warning in &model.warnings {
            let _ = writeln!(out, "> - {}", escape(&warning.to_string()));
        }
        out.push('\n');
    }
    tables(&mut out, results);
    why(&mut out, results);
    let mechanisms =
        crate::analysis::mechanism::lines(results.profiles(), |t| results.info(t).uses_processes());
    if !mechanisms.is_empty() {
        out.push_str("### What grew when the threads were added (--profile)\n\n");
        for (test, label, line) in &mechanisms {
            let _ = writeln!(
                out,
                "- **{}** on {}: {}",
                escape(test),
                escape(label),
                escape(line)
            );
        }
        out.push('\n');
    }
    // In HTML, not a code span: a backtick in the command line cannot close it.
    let command_line = crate::output::escape(&results.command_line().join(" "))
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let _ = writeln!(out, "<sub><code>{command_line}</code></sub>");
    out
}

/// The terminal's fitted layout first (one table per test: a row per thread count, a column per
/// label with its speedup, interval and verdict), every column below, folded.
fn tables(out: &mut String, results: &Analysis<'_>) {
    let fitted: Vec<super::grid::Table> = super::terminal::compact_pivot_tables(results)
        .into_iter()
        .chain(super::terminal::compact_regular_table(results))
        .collect();
    for t in &fitted {
        out.push_str(&t.to_markdown());
        out.push('\n');
    }
    let full = table::tables(results);
    if !full.is_empty() {
        if !fitted.is_empty() {
            out.push_str("<details><summary>Every column: throughput, efficiency, parallelism, where the time went, memory</summary>\n\n");
        }
        for t in &full {
            out.push_str(&t.to_markdown());
            out.push('\n');
        }
        if !fitted.is_empty() {
            out.push_str("</details>\n\n");
        }
    }
}

/// "Why it does not scale": each telling point's verdict, and what each verdict means.
fn why(out: &mut String, results: &Analysis<'_>) {
    let why = table::why_lines(results);
    if !why.is_empty() {
        out.push_str(
            "### Why it does not scale\n\n| test | label | threads | verdict |\n| --- | --- | --- | --- |\n",
        );
        for (test, label, threads, verdict) in &why {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                escape(test),
                escape(label),
                results.info(test).workers(*threads),
                verdict.as_str()
            );
        }
        out.push('\n');
        for verdict in table::distinct_verdicts(&why) {
            let _ = writeln!(
                out,
                "- **{}**: {}",
                verdict.as_str(),
                escape(verdict.advice())
            );
        }
        out.push('\n');
    }
}

/// `report.md`.
pub struct Markdown;

impl Exporter for Markdown {
    type Output = String;
    fn export(&self, model: &ReportModel<'_>) -> anyhow::Result<String> {
        Ok(render(model))
    }
}

#[cfg(test)]
mod tests {
    use crate::output::markdown_escape as escape;

    #[test]
    fn hostile_names_stay_inert() {
        let hostile = "3.13t\n# Pwned\n<script>alert(1)</script> | [x](http://e) `c` *e*";
        let escaped = escape(hostile);
        assert!(!escaped.contains('\n'), "{escaped}");
        assert!(
            !escaped.contains('<') && !escaped.contains('>'),
            "{escaped}"
        );
        assert!(escaped.contains("\\# Pwned"), "{escaped}");
        assert!(
            escaped.contains("\\|") && escaped.contains("\\[x\\]"),
            "{escaped}"
        );
        assert_eq!(escape("parallel_compute"), "parallel_compute");
    }
}
