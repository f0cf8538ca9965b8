//! `--fail-if`: gates for CI on `run` and `scale`. Parsed and checked before anything runs (a
//! bad expression is a usage error, exit 2); decided from the run's intervals; measured more
//! while one is undecided and `--budget` allows; recorded in the results file (`gates`); shown
//! on the terminal, in `$GITHUB_STEP_SUMMARY`, as GitHub annotations, as `JUnit` XML and as JSON.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::analysis::{self, Analysis};
use crate::cli::{MeasureArgs, Undecided, UsageError};
use crate::output::Printer;
use crate::results::ResultsFile;
use crate::results::gate::{Condition, Gate, GateRecord, Outcome};

/// The exit status of a run whose gates were undecided (and `--undecided exit`).
pub const UNDECIDED_EXIT: u8 = 3;

/// The gates of a run, ready to decide.
#[derive(Debug)]
pub struct Gating {
    pub gates: Vec<Gate>,
    pub against: Option<String>,
    /// When the run started.
    pub started: Instant,
    /// When the run must be done by, measuring more for undecided gates.
    pub deadline: Option<Instant>,
    pub undecided: Undecided,
}

/// Parse `--budget`: `120s`, `2m`, `1h` or plain seconds.
fn parse_budget(text: &str) -> Result<Duration, UsageError> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| c.is_ascii_alphabetic()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let scale = match unit.trim() {
        "s" | "sec" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => f64::NAN,
    };
    number
        .trim()
        .parse::<f64>()
        .ok()
        .map(|n| n * scale)
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 7.0 * 24.0 * 3600.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| {
            UsageError(format!(
                "invalid --budget `{}`: a duration like 120s, 2m or 1h",
                crate::output::escape(text)
            ))
        })
}

/// The run's gates from its flags, checked against what it will measure: every expression
/// parses, every thread count it names is measured, `regression` has a base label that is one
/// of the run's. `None` without `--fail-if`.
pub fn prepare(
    measure: &MeasureArgs,
    (labels, against): (&[String], Option<&str>),
    threads: &[u32],
    started: Instant,
) -> Result<Option<Gating>, UsageError> {
    let against = measure.against.as_deref().or(against);
    if measure.fail_if.is_empty() {
        if let Some(against) = &measure.against {
            return Err(UsageError(format!(
                "--against `{}` gates nothing without --fail-if",
                crate::output::escape(against)
            )));
        }
        return Ok(None);
    }
    let mut gates = Vec::new();
    for text in &measure.fail_if {
        let gate = Gate::parse(text).map_err(|err| UsageError(err.to_string()))?;
        if let Some(n) = gate.threads()
            && !threads.contains(&n)
        {
            return Err(UsageError(format!(
                "--fail-if `{}`: the run does not measure {n} thread(s) (--threads {})",
                crate::output::escape(&gate.expression),
                threads
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            )));
        }
        if matches!(gate.condition, Condition::Regression { .. }) && against.is_none() {
            return Err(UsageError(format!(
                "--fail-if `{}` compares with a base: name its label with --against (or use scale --base PATH)",
                crate::output::escape(&gate.expression)
            )));
        }
        gates.push(gate);
    }
    if let Some(against) = against {
        if !labels.iter().any(|l| l == against) {
            return Err(UsageError(format!(
                "--against `{}` is not a label of the run (labels: {})",
                crate::output::escape(against),
                labels.join(", ")
            )));
        }
        if labels.len() < 2 {
            return Err(UsageError(format!(
                "--against `{}` needs a second label to compare with it",
                crate::output::escape(against)
            )));
        }
    }
    let deadline = measure
        .budget
        .as_deref()
        .map(parse_budget)
        .transpose()?
        .map(|budget| started + budget);
    Ok(Some(Gating {
        gates,
        against: against.map(str::to_string),
        started,
        deadline,
        undecided: measure.undecided,
    }))
}

/// [`prepare`] for a run's configuration; with gates, the labels of a test take turns round by
/// round with one work size (a gate compares them).
pub fn prepare_run(
    measure: &MeasureArgs,
    config: &mut crate::config::RunConfig,
    started: Instant,
) -> Result<Option<Gating>, UsageError> {
    let labels: Vec<String> = config.variants.iter().map(|v| v.label.clone()).collect();
    let gating = prepare(
        measure,
        (&labels, config.against.as_deref()),
        &config.settings.threads,
        started,
    )?;
    if gating.is_some() {
        config.settings.interleave_labels = true;
    }
    Ok(gating)
}

impl Gating {
    /// How long the run has taken so far.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Decide every gate from the results as they stand.
    pub fn decide(&self, results: &ResultsFile) -> Vec<GateRecord> {
        analysis::gate::evaluate(&Analysis::of(results), &self.gates, self.against.as_deref())
    }

    /// Whether to measure more: a gate is undecided (each gate gets its own answer, whether
    /// or not another failed), and the budget has room for another pass as long as the last
    /// one (`pass` took that long).
    pub fn wants_more(&self, records: &[GateRecord], pass: Duration) -> bool {
        let undecided = records.iter().any(|r| r.outcome == Outcome::Undecided);
        undecided
            && self
                .deadline
                .is_some_and(|deadline| Instant::now() + pass <= deadline)
    }

    /// The exit status the gates give: 1 when one failed, else for an undecided one as
    /// `--undecided` says, else `None` (the run's own status stands).
    pub fn exit_code(&self, records: &[GateRecord]) -> Option<ExitCode> {
        if records.iter().any(|r| r.outcome == Outcome::Failed) {
            return Some(ExitCode::FAILURE);
        }
        if records.iter().any(|r| r.outcome == Outcome::Undecided) {
            return match self.undecided {
                Undecided::Exit => Some(ExitCode::from(UNDECIDED_EXIT)),
                Undecided::Pass => None,
                Undecided::Fail => Some(ExitCode::FAILURE),
            };
        }
        None
    }
}

/// Show the gates: the terminal's table (stderr when `--gates-json` holds stdout), the step
/// summary and annotations under GitHub Actions, the `JUnit` file.
pub fn publish(
    records: &[GateRecord],
    headline: &[String],
    measure: &MeasureArgs,
    printer: &Printer,
) -> Result<()> {
    let table = crate::report::gates::terminal(records, crate::output::width());
    if measure.gates_json {
        printer.info(table.trim_end());
        printer.stdout(&crate::report::gates::json(records, overall(records))?)?;
    } else {
        printer.stdout(&table)?;
    }
    super::common::tell_github(
        printer,
        "the gates",
        || crate::report::gates::step_summary(records, headline),
        || crate::report::gates::annotations(records),
    )?;
    if let Some(path) = &measure.junit {
        crate::files::write_atomically(path, crate::report::gates::junit(records).as_bytes())
            .with_context(|| format!("cannot write the JUnit file `{}`", path.display()))?;
    }
    Ok(())
}

/// The run's outcome over all gates.
fn overall(records: &[GateRecord]) -> Outcome {
    if records.iter().any(|r| r.outcome == Outcome::Failed) {
        Outcome::Failed
    } else if records.iter().any(|r| r.outcome == Outcome::Undecided) {
        Outcome::Undecided
    } else {
        Outcome::Passed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_parse_with_units() {
        assert_eq!(parse_budget("120s").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_budget("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_budget("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_budget("1h").unwrap(), Duration::from_secs(3600));
        for bad in ["", "0s", "-5s", "2 days", "fast", "1e400"] {
            assert!(parse_budget(bad).is_err(), "{bad}");
        }
    }
}
