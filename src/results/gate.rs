//! Gates: the conditions a CI job fails on (`--fail-if EXPR`), parsed from their text, and what
//! each one decided, as the results file records it (`gates`).
//!
//! An expression names the condition under which the gate **fails**:
//! - `speedup@N < X`, `efficiency@N < X` (also `<=`, `>`, `>=`): a point's speedup over the
//!   serial run (efficiency: speedup / N) at N threads;
//! - `regression > P%`: the code under test (every label but `--against`'s) slower than the base
//!   label by more than P% at some thread count, serial included (throughput ratio);
//! - `gil`: a free-threaded build's sample ran with the GIL on;
//! - `race`: `--check-results` found a call whose result differed from the serial call's.
//!
//! Each may end in `for TEST` to apply to one test only (by default: every test it applies to).

use serde::{Deserialize, Serialize};

pub use crate::model::gate::{GateRecord, Outcome};

/// What a gate measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Speedup,
    Efficiency,
}

impl Metric {
    pub fn name(self) -> &'static str {
        match self {
            Self::Speedup => "speedup",
            Self::Efficiency => "efficiency",
        }
    }
}

/// A comparison of a value with a threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Comparison {
    #[serde(rename = "<")]
    Below,
    #[serde(rename = "<=")]
    AtMost,
    #[serde(rename = ">")]
    Above,
    #[serde(rename = ">=")]
    AtLeast,
}

impl Comparison {
    /// Whether the failing side lies below the threshold.
    pub fn fails_below(self) -> bool {
        matches!(self, Self::Below | Self::AtMost)
    }
}

/// A parsed gate.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Point {
        metric: Metric,
        threads: u32,
        comparison: Comparison,
        threshold: f64,
    },
    /// Slower than the base label by more than this fraction (0.10 for `10%`).
    Regression {
        fraction: f64,
    },
    Gil,
    Race,
}

/// A gate as given: its text, its condition and the test it is limited to.
#[derive(Debug, Clone, PartialEq)]
pub struct Gate {
    pub expression: String,
    pub condition: Condition,
    pub test: Option<String>,
}

/// Why an expression is no gate: the part that is wrong, and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--fail-if `{expression}`: {problem}")]
pub struct ParseError {
    pub expression: String,
    pub problem: String,
}

impl Gate {
    /// Parse one `--fail-if` expression.
    pub fn parse(given: &str) -> Result<Self, ParseError> {
        let error = |problem: String| ParseError {
            expression: crate::output::escape(given),
            problem,
        };
        let trimmed = given.trim();
        let (body, test) = match trimmed.rsplit_once(" for ") {
            Some((body, test)) if !test.trim().is_empty() => {
                let test = test.trim().to_string();
                super::check_name("test", &test).map_err(error)?;
                (body.trim(), Some(test))
            }
            _ => (trimmed, None),
        };
        let condition = match body {
            "" => return Err(error("it is empty; e.g. `efficiency@2 < 0.6`".to_string())),
            "gil" => Condition::Gil,
            "race" => Condition::Race,
            _ => Self::parse_comparison(body).map_err(error)?,
        };
        Ok(Self {
            expression: trimmed.to_string(),
            condition,
            test,
        })
    }

    fn parse_comparison(body: &str) -> Result<Condition, String> {
        let at = body
            .find(['<', '>'])
            .ok_or_else(|| format!("`{}` has no `<` or `>`; gates are `speedup@N < X`, `efficiency@N < X`, `regression > P%`, `gil` or `race`", crate::output::escape(body)))?;
        let (left, rest) = body.split_at(at);
        let (comparison, right) = if let Some(right) = rest.strip_prefix("<=") {
            (Comparison::AtMost, right)
        } else if let Some(right) = rest.strip_prefix(">=") {
            (Comparison::AtLeast, right)
        } else if let Some(right) = rest.strip_prefix('<') {
            (Comparison::Below, right)
        } else {
            (Comparison::Above, &rest[1..])
        };
        let (left, right) = (left.trim(), right.trim());
        if left == "regression" {
            if comparison.fails_below() {
                return Err("`regression` fails above a threshold: `regression > 10%`".to_string());
            }
            let number = right.strip_suffix('%').unwrap_or(right).trim();
            let percent = number
                .parse::<f64>()
                .ok()
                .filter(|p| p.is_finite() && *p >= 0.0 && *p < 100.0)
                .ok_or_else(|| {
                    format!(
                        "`{}` is not a percentage from 0 to 100, e.g. `10%`",
                        crate::output::escape(right)
                    )
                })?;
            return Ok(Condition::Regression {
                fraction: percent / 100.0,
            });
        }
        let (name, threads) = left.split_once('@').ok_or_else(|| {
            format!(
                "`{}` names no thread count: `speedup@N` or `efficiency@N`",
                crate::output::escape(left)
            )
        })?;
        let metric = match name.trim() {
            "speedup" => Metric::Speedup,
            "efficiency" => Metric::Efficiency,
            other => {
                return Err(format!(
                    "`{}` is no metric: `speedup`, `efficiency` or `regression`",
                    crate::output::escape(other)
                ));
            }
        };
        let threads = threads
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=super::MAX_FORCED_THREADS).contains(n))
            .ok_or_else(|| {
                format!(
                    "`{}` is not a thread count (a whole number from 1)",
                    crate::output::escape(threads.trim())
                )
            })?;
        let threshold = right
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite() && *x >= 0.0)
            .ok_or_else(|| {
                format!(
                    "`{}` is not a number to compare with",
                    crate::output::escape(right)
                )
            })?;
        Ok(Condition::Point {
            metric,
            threads,
            comparison,
            threshold,
        })
    }

    /// The thread count the gate needs measured, if any.
    pub fn threads(&self) -> Option<u32> {
        match self.condition {
            Condition::Point { threads, .. } => Some(threads),
            _ => None,
        }
    }
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::Undecided => "undecided",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_parse() {
        let gate = Gate::parse("efficiency@4 < 0.6").unwrap();
        assert_eq!(
            gate.condition,
            Condition::Point {
                metric: Metric::Efficiency,
                threads: 4,
                comparison: Comparison::Below,
                threshold: 0.6
            }
        );
        assert_eq!(gate.test, None);
        let gate = Gate::parse(" speedup@2<=1.5 for bench:work ").unwrap();
        assert_eq!(gate.test.as_deref(), Some("bench:work"));
        assert_eq!(gate.threads(), Some(2));
        assert_eq!(
            Gate::parse("regression > 10%").unwrap().condition,
            Condition::Regression { fraction: 0.1 }
        );
        assert_eq!(
            Gate::parse("regression>5").unwrap().condition,
            Condition::Regression { fraction: 0.05 }
        );
        assert_eq!(Gate::parse("gil").unwrap().condition, Condition::Gil);
        assert_eq!(
            Gate::parse("race for x").unwrap().condition,
            Condition::Race
        );
    }

    #[test]
    fn a_bad_expression_names_its_bad_part() {
        for (text, said) in [
            ("", "it is empty"),
            ("efficiency@four < 0.6", "`four` is not a thread count"),
            ("efficiency@0 < 0.6", "`0` is not a thread count"),
            ("eficiency@2 < 0.6", "`eficiency` is no metric"),
            ("speedup < 1.5", "`speedup` names no thread count"),
            ("speedup@2 < fast", "`fast` is not a number"),
            ("speedup@2 = 1.5", "has no `<` or `>`"),
            ("regression < 10%", "fails above a threshold"),
            ("regression > lots", "`lots` is not a percentage"),
            ("regression > 150%", "`150%` is not a percentage"),
        ] {
            let err = Gate::parse(text).unwrap_err().to_string();
            assert!(err.contains(said), "{text}: {err}");
            assert!(err.starts_with("--fail-if `"), "{err}");
        }
    }
}
