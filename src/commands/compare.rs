//! `ftbench compare`: is the difference real?

use std::process::ExitCode;

use anyhow::Result;

use super::common::open_existing_store;
use crate::cli::CompareArgs;
use crate::compare;
use crate::output::Printer;
use crate::results::{self, ResultsFile};

/// `ftbench compare`: files and stored runs, each against the first.
pub(super) fn compare_command(args: &CompareArgs, printer: &Printer) -> Result<ExitCode> {
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
        let layout = crate::report::terminal::Layout::for_stdout(args.wide);
        let mut out = String::new();
        for comparison in &comparisons {
            out.push_str(&if args.markdown {
                comparison.table(true).to_markdown()
            } else if layout.wide {
                comparison.table(true).to_text()
            } else {
                crate::report::terminal::fit(&comparison.table(false), layout.width)
            });
        }
        printer.stdout(&out)?;
        say_gates(&inputs, printer);
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

/// What each run's own gates decided, where it had some.
fn say_gates(inputs: &[(String, ResultsFile)], printer: &Printer) {
    for (name, file) in inputs.iter().filter(|(_, f)| !f.gates.is_empty()) {
        let not_passed: Vec<String> = file
            .gates
            .iter()
            .filter(|g| g.outcome != results::gate::Outcome::Passed)
            .map(|g| {
                format!(
                    "{} {}",
                    g.outcome.name(),
                    crate::output::escape(&g.expression)
                )
            })
            .collect();
        printer.info(&format!(
            "gates of {name}: {}{}",
            crate::report::gates::tally(&file.gates),
            if not_passed.is_empty() {
                String::new()
            } else {
                format!(" ({})", not_passed.join("; "))
            }
        ));
    }
}
