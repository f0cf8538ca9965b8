//! What `ftbench audit` shows: a table that fits the terminal (one interpreter: a row per
//! distribution with its verdict and culprit; several: their verdicts side by side), a summary
//! line per interpreter, the advice, a Markdown step summary and GitHub annotations. Each
//! returns text and does no IO.

use std::fmt::Write as _;

use crate::audit::{Audit, DistributionAudit, InterpreterAudit, Verdict};
use crate::output::escape;

/// Rows with the troubles first (the GIL on, then the rest), then by name.
fn ordered(distributions: &[DistributionAudit]) -> Vec<&DistributionAudit> {
    let mut rows: Vec<&DistributionAudit> = distributions.iter().collect();
    rows.sort_by_key(|d| {
        (
            std::cmp::Reverse(rank(&d.verdict)),
            crate::audit::normalized(&d.name),
        )
    });
    rows
}

/// Sort rank: GIL on first, then other troubles, then clean.
fn rank(verdict: &Verdict) -> u8 {
    match verdict {
        Verdict::GilOn { .. } => 3,
        Verdict::GilOff | Verdict::NothingToImport => 0,
        Verdict::NotInstalled => 1,
        _ => 2,
    }
}

/// `text` cut to `width` characters, with `…` where it was cut.
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Lay out rows whose last column takes what `width` leaves.
fn layout(rows: &[Vec<String>], width: usize) -> String {
    let widths = super::grid::column_widths(rows);
    let columns = widths.len();
    if columns == 0 {
        return String::new();
    }
    let fixed: usize = widths[..columns - 1].iter().map(|w| w + 2).sum();
    let last = width.saturating_sub(fixed).max(12);
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c + 1 == columns {
                line.push_str(&fit(cell, last));
            } else {
                line.push_str(cell);
                line.push_str(&" ".repeat(widths[c] - cell.chars().count() + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The terminal's view of the whole audit.
pub fn terminal(audit: &Audit, width: usize) -> String {
    let mut out = String::new();
    if let [one] = audit.interpreters.as_slice() {
        let _ = writeln!(
            out,
            "{}\n",
            crate::output::wrap(&heading(one), width, 2).trim_end()
        );
        out.push_str(&one_table(one, width));
    } else {
        for interpreter in &audit.interpreters {
            let _ = writeln!(
                out,
                "{}",
                crate::output::wrap(&heading(interpreter), width, 2).trim_end()
            );
        }
        out.push('\n');
        out.push_str(&side_by_side(audit, width));
    }
    out.push('\n');
    for interpreter in &audit.interpreters {
        for line in start_up(interpreter) {
            let _ = writeln!(out, "{}", crate::output::wrap(&line, width, 2).trim_end());
        }
        let _ = writeln!(
            out,
            "{}",
            crate::output::wrap(&summary(interpreter), width, 2).trim_end()
        );
    }
    if audit.turns_gil_on() {
        let _ = writeln!(
            out,
            "\n{}",
            crate::output::wrap(ADVICE, width, 0).trim_end()
        );
    }
    out
}

/// What to do about a distribution that turns the GIL on.
pub const ADVICE: &str = "An extension module that does not declare free-threading support (`Py_mod_gil`) turns the GIL back on for the whole process when it is imported: every thread after it takes turns. Look for a release of it that declares support (its wheel tagged cp313t is not enough), ask its maintainers, or keep it out of the threaded part of your program. `PYTHON_GIL=0` forces the GIL off at your own risk.";

fn heading(interpreter: &InterpreterAudit) -> String {
    let imports: usize = interpreter
        .distributions
        .iter()
        .map(|d| d.modules.len())
        .sum();
    format!(
        "Audit of {} ({}): {} distribution(s), {imports} import(s) in {:.1} s, {} at a time, each within {:.0} s",
        escape(&interpreter.label),
        escape(&interpreter.path.display().to_string()),
        interpreter.distributions.len(),
        interpreter.wall_seconds,
        interpreter.jobs,
        interpreter.timeout_seconds,
    )
}

fn one_table(interpreter: &InterpreterAudit, width: usize) -> String {
    let mut rows = vec![vec![
        "Distribution".to_string(),
        "Version".to_string(),
        "Wheel".to_string(),
        "Verdict".to_string(),
        "Culprit / why".to_string(),
    ]];
    for dist in ordered(&interpreter.distributions) {
        rows.push(vec![
            escape(&dist.name),
            escape(&dist.version),
            escape(&dist.abi),
            dist.verdict.word(),
            escape(&dist.verdict.detail()),
        ]);
    }
    layout(&rows, width)
}

fn side_by_side(audit: &Audit, width: usize) -> String {
    let mut names: Vec<&str> = Vec::new();
    for interpreter in &audit.interpreters {
        for dist in ordered(&interpreter.distributions) {
            if !names
                .iter()
                .any(|n| crate::audit::normalized(n) == crate::audit::normalized(&dist.name))
            {
                names.push(&dist.name);
            }
        }
    }
    let mut header = vec!["Distribution".to_string()];
    header.extend(audit.interpreters.iter().map(|i| escape(&i.label)));
    header.push("Versions".to_string());
    let mut rows = vec![header];
    for name in names {
        let mut row = vec![escape(name)];
        let mut versions: Vec<String> = Vec::new();
        for interpreter in &audit.interpreters {
            let found = interpreter
                .distributions
                .iter()
                .find(|d| crate::audit::normalized(&d.name) == crate::audit::normalized(name));
            row.push(found.map_or_else(
                || "not installed".to_string(),
                |d| match &d.verdict {
                    Verdict::GilOn { by, .. } => format!("GIL ON: {}", escape(by)),
                    other => other.word(),
                },
            ));
            if let Some(d) =
                found.filter(|d| !d.version.is_empty() && !versions.contains(&d.version))
            {
                versions.push(d.version.clone());
            }
        }
        row.push(escape(&versions.join(" / ")));
        rows.push(row);
    }
    layout(&rows, width)
}

/// A line when start-up itself (a `.pth` file, `sitecustomize`) turned the GIL on.
fn start_up(interpreter: &InterpreterAudit) -> Vec<String> {
    let label = escape(&interpreter.label);
    if interpreter.gil_at_start {
        return vec![format!(
            "{label}: the GIL is on before anything is imported: this is not a free-threaded build, or it forces the GIL on"
        )];
    }
    if interpreter.gil_after_site {
        return vec![format!(
            "{label}: start-up turns the GIL on{}: a `.pth` file or `sitecustomize` imports it, so every program of this environment runs with the GIL",
            interpreter
                .started_by
                .as_ref()
                .map(|m| format!(" (importing {})", escape(m)))
                .unwrap_or_default()
        )];
    }
    Vec::new()
}

/// `3.13.15t: 2 of 41 distributions turn the GIL on: a (x), b (y); 1 failed to import, …`.
pub fn summary(interpreter: &InterpreterAudit) -> String {
    let on: Vec<String> = interpreter
        .turning_gil_on()
        .map(|d| format!("{} ({})", escape(&d.name), escape(&d.verdict.detail())))
        .collect();
    let installed = interpreter
        .distributions
        .iter()
        .filter(|d| d.verdict != Verdict::NotInstalled)
        .count();
    let mut text = format!("{}: ", escape(&interpreter.label));
    if on.is_empty() {
        let _ = write!(text, "none of {installed} distribution(s) turns the GIL on");
    } else {
        let _ = write!(
            text,
            "{} of {installed} distribution(s) turn the GIL on: {}",
            on.len(),
            on.join(", ")
        );
    }
    let count = |pick: fn(&Verdict) -> bool| {
        interpreter
            .distributions
            .iter()
            .filter(|d| pick(&d.verdict))
            .count()
    };
    let troubles = [
        (
            count(|v| matches!(v, Verdict::Failed { .. })),
            "failed to import",
        ),
        (count(|v| matches!(v, Verdict::Crashed { .. })), "crashed"),
        (
            count(|v| matches!(v, Verdict::TimedOut { .. })),
            "timed out",
        ),
        (
            count(|v| matches!(v, Verdict::Exited { .. })),
            "exited mid-import",
        ),
        (
            count(|v| matches!(v, Verdict::OnAtStart)),
            "could not be judged (GIL on at start)",
        ),
        (
            count(|v| matches!(v, Verdict::NotInstalled)),
            "not installed",
        ),
    ];
    let said: Vec<String> = troubles
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
    if !said.is_empty() {
        let _ = write!(text, "; {}", said.join(", "));
    }
    text
}

/// The Markdown summary for `$GITHUB_STEP_SUMMARY`: each interpreter's summary and its
/// distributions that are not clean (at most 40 rows each).
pub fn step_summary(audit: &Audit) -> String {
    let md = crate::output::markdown_escape;
    let mut out = String::from("## ftbench audit\n\n");
    for interpreter in &audit.interpreters {
        let _ = writeln!(out, "**{}**\n", md(&summary(interpreter)));
        let troubled: Vec<&DistributionAudit> = ordered(&interpreter.distributions)
            .into_iter()
            .filter(|d| rank(&d.verdict) > 0)
            .collect();
        if troubled.is_empty() {
            continue;
        }
        out.push_str(
            "| distribution | version | wheel | verdict | culprit / why |\n|---|---|---|---|---|\n",
        );
        for dist in troubled.iter().take(40) {
            let mark = if dist.verdict.turns_gil_on() {
                "❌ "
            } else {
                "⚠️ "
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {mark}{} | {} |",
                md(&dist.name),
                md(&dist.version),
                md(&dist.abi),
                dist.verdict.word(),
                md(&dist.verdict.detail())
            );
        }
        if troubled.len() > 40 {
            let _ = writeln!(out, "\n({} more: see `--json`)", troubled.len() - 40);
        }
        out.push('\n');
    }
    out
}

/// A GitHub annotation per distribution that turns the GIL on: `::error` when the audit fails
/// on it, `::warning` otherwise.
pub fn annotations(audit: &Audit, fail_on_gil: bool) -> String {
    let kind = if fail_on_gil { "error" } else { "warning" };
    let mut out = String::new();
    for interpreter in &audit.interpreters {
        for dist in interpreter.turning_gil_on() {
            let _ = writeln!(
                out,
                "::{kind} title={}::{}",
                super::gates::command_property(&format!(
                    "ftbench audit: {} turns the GIL on",
                    dist.name
                )),
                super::gates::command_data(&format!(
                    "{} {} turns the GIL back on in {}: {}",
                    dist.name,
                    dist.version,
                    interpreter.label,
                    dist.verdict.detail()
                ))
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::ModuleAudit;

    fn dist(name: &str, verdict: Verdict) -> DistributionAudit {
        DistributionAudit {
            name: name.to_string(),
            version: "1.0".to_string(),
            tags: vec![],
            abi: "-".to_string(),
            modules: vec![ModuleAudit {
                module: name.to_lowercase(),
                verdict: verdict.clone(),
                import_seconds: Some(0.01),
                wall_seconds: 0.05,
                output_tail: None,
            }],
            verdict,
            extensions: vec![],
        }
    }

    fn audit(labels: &[&str]) -> Audit {
        let distributions = vec![
            dist("numpy", Verdict::GilOff),
            dist(
                "local\u{1b}[31m",
                Verdict::GilOn {
                    by: "markupsafe._speedups".into(),
                    by_distribution: Some("MarkupSafe".into()),
                    direct: false,
                },
            ),
            dist(
                "raises",
                Verdict::Failed {
                    error: "ValueError: no".into(),
                },
            ),
        ];
        Audit {
            schema_version: crate::audit::SCHEMA_VERSION,
            interpreters: labels
                .iter()
                .map(|label| InterpreterAudit {
                    label: (*label).to_string(),
                    path: "/x/python3.13t".into(),
                    version: "3.13.15".into(),
                    gil_at_start: false,
                    started_by: None,
                    gil_after_site: false,
                    distributions: distributions.clone(),
                    wall_seconds: 1.5,
                    jobs: 2,
                    timeout_seconds: 30.0,
                })
                .collect(),
        }
    }

    #[test]
    fn the_table_puts_the_gil_first_fits_the_width_and_shows_no_control_character() {
        let text = terminal(&audit(&["3.13.15t"]), 60);
        insta::assert_snapshot!("audit_table", text);
        let rows: Vec<&str> = text.lines().filter(|l| l.contains("1.0")).collect();
        assert!(rows[0].contains("GIL ON"), "{text}");
        assert!(rows[2].contains("GIL off"), "{text}");
        for line in text.lines().skip(2).take(4) {
            assert!(line.chars().count() <= 60, "{line:?}");
        }
        assert!(!text.contains('\u{1b}'), "{text}");
        assert_eq!(
            summary(&audit(&["3.13.15t"]).interpreters[0]),
            "3.13.15t: 1 of 3 distribution(s) turn the GIL on: local\\u{1b}[31m (markupsafe._speedups, from MarkupSafe); 1 failed to import"
        );
        assert!(text.contains("Py_mod_gil"), "{text}");
    }

    #[test]
    fn several_interpreters_stand_side_by_side() {
        let text = terminal(&audit(&["3.13t", "3.14t"]), 120);
        insta::assert_snapshot!("audit_side_by_side", text);
        // `--json` is the audit itself, serialised.
        insta::assert_snapshot!(
            "audit_json",
            serde_json::to_string_pretty(&audit(&["3.13t", "3.14t"])).unwrap()
        );
        let header = text
            .lines()
            .find(|l| l.starts_with("Distribution"))
            .unwrap();
        assert!(
            header.contains("3.13t") && header.contains("3.14t"),
            "{text}"
        );
        let row = text.lines().find(|l| l.starts_with("local")).unwrap();
        assert_eq!(
            row.matches("GIL ON: markupsafe._speedups").count(),
            2,
            "{row}"
        );
    }

    #[test]
    fn ci_output_names_each_culprit_and_escapes_what_github_reads() {
        let audit = audit(&["3.13t"]);
        let summary = step_summary(&audit);
        insta::assert_snapshot!("audit_step_summary", summary);
        assert!(summary.contains("❌ GIL ON"), "{summary}");
        assert!(summary.contains("⚠️ import failed"), "{summary}");
        assert!(!summary.contains("| numpy"), "{summary}");
        let notes = annotations(&audit, true);
        insta::assert_snapshot!("audit_annotations", notes);
        assert_eq!(notes.lines().count(), 1, "{notes}");
        assert!(
            notes.starts_with("::error title=ftbench audit%3A local"),
            "{notes}"
        );
        assert!(annotations(&audit, false).starts_with("::warning"));
    }
}
