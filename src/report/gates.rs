//! What CI systems read of the gates: a table for the terminal, a Markdown step summary
//! (`$GITHUB_STEP_SUMMARY`), workflow-command annotations (`::error`, `::warning`), `JUnit` XML
//! and JSON. Each returns text and does no IO.

use std::fmt::Write as _;

use crate::results::gate::{GateRecord, Outcome};

/// `value [low, high]` of a gate, or `-`.
fn number(record: &GateRecord) -> String {
    match (record.value, record.low, record.high) {
        (Some(v), Some(l), Some(h)) => format!("{v:.2} [{l:.2}, {h:.2}]"),
        (Some(v), _, _) => format!("{v:.2}"),
        _ => "-".to_string(),
    }
}

/// The word for an outcome, as the terminal and the summary show it.
fn word(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Passed => "PASSED",
        Outcome::Failed => "FAILED",
        Outcome::Undecided => "UNDECIDED",
    }
}

/// One line per outcome count: `2 passed, 1 failed, 0 undecided`.
pub fn tally(records: &[GateRecord]) -> String {
    let count = |o: Outcome| records.iter().filter(|r| r.outcome == o).count();
    format!(
        "{} passed, {} failed, {} undecided",
        count(Outcome::Passed),
        count(Outcome::Failed),
        count(Outcome::Undecided)
    )
}

/// The gates for the terminal: one block per gate, its reason wrapped to `width`.
pub fn terminal(records: &[GateRecord], width: usize) -> String {
    let mut out = String::from("=== Gates (--fail-if) ===\n");
    for record in records {
        let _ = writeln!(
            out,
            "{:<9}  {}  {}",
            word(record.outcome),
            crate::output::escape(&record.expression),
            number(record)
        );
        let reason = crate::output::wrap(
            &crate::output::escape(&record.reason),
            width.saturating_sub(11),
            0,
        );
        for line in reason.lines() {
            let _ = writeln!(out, "           {line}");
        }
    }
    let _ = writeln!(out, "gates: {}", tally(records));
    out
}

/// `--gates-json`: the run's outcome over all gates and each gate's record, pretty-printed.
pub fn json(records: &[GateRecord], overall: Outcome) -> serde_json::Result<String> {
    let json = serde_json::json!({
        "outcome": overall.name(),
        "gates": records,
    });
    Ok(format!("{}\n", serde_json::to_string_pretty(&json)?))
}

/// The Markdown summary GitHub shows on the run's page: the gates' table and the run's
/// headline, under 60 lines.
pub fn step_summary(records: &[GateRecord], headline: &[String]) -> String {
    let escape = crate::output::markdown_escape;
    let mut out = String::from("## ftbench gates\n\n");
    let _ = writeln!(out, "**{}**\n", tally(records));
    out.push_str("| outcome | gate | value [95% interval] | why |\n|---|---|---|---|\n");
    for record in records.iter().take(40) {
        let mark = match record.outcome {
            Outcome::Passed => "✅ passed",
            Outcome::Failed => "❌ failed",
            Outcome::Undecided => "⚠️ undecided",
        };
        let _ = writeln!(
            out,
            "| {mark} | `{}` | {} | {} |",
            escape(&record.expression).replace('`', "'"),
            number(record),
            escape(&record.reason)
        );
    }
    if records.len() > 40 {
        let _ = writeln!(
            out,
            "\n({} more gates in the results file)",
            records.len() - 40
        );
    }
    if !headline.is_empty() {
        out.push_str("\n### In short\n\n");
        for sentence in headline.iter().take(8) {
            let _ = writeln!(out, "- {}", escape(sentence));
        }
    }
    out
}

/// GitHub's workflow-command escaping of a message.
pub(super) fn command_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// GitHub's workflow-command escaping of a property value.
pub(super) fn command_property(text: &str) -> String {
    command_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// `::error` for each failed gate and `::warning` for each undecided one.
pub fn annotations(records: &[GateRecord]) -> String {
    let mut out = String::new();
    for record in records {
        let kind = match record.outcome {
            Outcome::Passed => continue,
            Outcome::Failed => "error",
            Outcome::Undecided => "warning",
        };
        let _ = writeln!(
            out,
            "::{kind} title={}::{}",
            command_property(&format!(
                "ftbench gate {} {}",
                record.outcome.name(),
                record.expression
            )),
            command_data(&format!("{}: {}", record.expression, record.reason))
        );
    }
    out
}

/// Text for an XML attribute or element.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids the other C0 controls; shown as their escapes.
            c if c < ' ' && !matches!(c, '\t' | '\n' | '\r') => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// The gates as `JUnit` XML: one testsuite, one testcase per gate; a failed gate is a
/// `<failure>`, an undecided one `<skipped>` with its reason (`JUnit` has no third outcome).
pub fn junit(records: &[GateRecord]) -> String {
    let failures = records
        .iter()
        .filter(|r| r.outcome == Outcome::Failed)
        .count();
    let skipped = records
        .iter()
        .filter(|r| r.outcome == Outcome::Undecided)
        .count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"ftbench\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\">",
        records.len()
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"ftbench gates\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\" errors=\"0\">",
        records.len()
    );
    for record in records {
        let _ = write!(
            out,
            "    <testcase classname=\"ftbench.gates\" name=\"{}\"",
            xml(&record.expression)
        );
        let message = format!("{} {}", number(record), record.reason);
        match record.outcome {
            Outcome::Passed => {
                let _ = writeln!(
                    out,
                    ">\n      <system-out>{}</system-out>\n    </testcase>",
                    xml(&message)
                );
            }
            Outcome::Failed => {
                let _ = writeln!(
                    out,
                    ">\n      <failure message=\"{}\" type=\"gate\">{}</failure>\n    </testcase>",
                    xml(&record.reason),
                    xml(&message)
                );
            }
            Outcome::Undecided => {
                let _ = writeln!(
                    out,
                    ">\n      <skipped message=\"undecided: {}\"/>\n    </testcase>",
                    xml(&record.reason)
                );
            }
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(expression: &str, outcome: Outcome, reason: &str) -> GateRecord {
        GateRecord {
            expression: expression.to_string(),
            outcome,
            value: Some(0.52),
            low: Some(0.48),
            high: Some(0.55),
            threshold: Some(0.6),
            test: Some("bench:work".to_string()),
            label: Some("head".to_string()),
            thread_count: Some(2),
            reason: reason.to_string(),
        }
    }

    #[test]
    fn annotations_escape_what_github_reads_as_syntax() {
        let records = [
            record(
                "efficiency@2 < 0.6",
                Outcome::Failed,
                "50% of it,\nnext: line",
            ),
            record("regression > 10%", Outcome::Undecided, "noisy"),
            record("gil", Outcome::Passed, "fine"),
        ];
        let text = annotations(&records);
        insta::assert_snapshot!("gate_annotations", text);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(
            lines[0],
            "::error title=ftbench gate failed efficiency@2 < 0.6::efficiency@2 < 0.6: 50%25 of it,%0Anext: line"
        );
        assert!(
            lines[1].starts_with("::warning title=ftbench gate undecided regression > 10%25::"),
            "{}",
            lines[1]
        );
    }

    #[test]
    fn junit_has_one_testcase_per_gate_and_escapes_xml() {
        let records = [
            record("speedup@2 < 1.5 for a<b", Outcome::Failed, "x & y"),
            record("gil", Outcome::Passed, "ok"),
            record("regression > 10%", Outcome::Undecided, "noisy \"here\""),
        ];
        let text = junit(&records);
        insta::assert_snapshot!("gate_junit", text);
        assert!(
            text.contains("tests=\"3\" failures=\"1\" skipped=\"1\""),
            "{text}"
        );
        assert!(
            text.contains("name=\"speedup@2 &lt; 1.5 for a&lt;b\""),
            "{text}"
        );
        assert!(text.contains("<failure message=\"x &amp; y\""), "{text}");
        assert!(text.contains("<skipped message=\"undecided: noisy &quot;here&quot;\"/>"));
        assert_eq!(text.matches("<testcase ").count(), 3);
    }

    #[test]
    fn the_step_summary_is_short_and_says_each_outcome() {
        let records: Vec<GateRecord> = (0..100)
            .map(|i| record(&format!("speedup@{i} < 1"), Outcome::Passed, "ok"))
            .collect();
        let text = step_summary(&records, &["On 2 threads it scales.".to_string()]);
        assert!(text.lines().count() < 60, "{}", text.lines().count());
        assert!(text.contains("**100 passed, 0 failed, 0 undecided**"));
        assert!(text.contains("60 more gates"));
        // Every outcome, each with its reason, under the headline.
        let records = [
            record(
                "speedup@2 < 1.5",
                Outcome::Failed,
                "speedup 1.21 [1.10, 1.30]",
            ),
            record("regression > 10%", Outcome::Undecided, "too noisy to say"),
            record("gil", Outcome::Passed, "the GIL stayed off"),
        ];
        insta::assert_snapshot!(
            "gate_step_summary",
            step_summary(&records, &["On 2 threads it scales.".to_string()])
        );
    }

    #[test]
    fn the_terminal_wraps_each_reason_under_its_gate() {
        let records = [
            record(
                "speedup@2 < 1.5",
                Outcome::Failed,
                "speedup 1.21 [1.10, 1.30] on 3.13.15t at 2 threads, below 1.5 with 95% confidence; the machine was quiet",
            ),
            record("regression > 10%", Outcome::Undecided, "too noisy to say"),
            record("gil", Outcome::Passed, "the GIL stayed off\x1b[31m"),
        ];
        insta::assert_snapshot!("gate_terminal", terminal(&records, 60));
        insta::assert_snapshot!("gate_json", json(&records, Outcome::Failed).unwrap());
    }
}
