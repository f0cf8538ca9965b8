//! What a reader must see before trusting the numbers, as a typed list found once: the GIL in
//! the wrong state, other work on the machine, a native reference that is no ceiling, noise, and
//! points that were skipped or failed. Each renderer (terminal, Markdown, HTML) only words them.

use std::fmt;

use super::Analysis;
use crate::stats::Estimate;

/// How many noisy points a warning names before it counts the rest.
const NOISY_SHOWN: usize = 6;

/// One thing a reader must know about the numbers.
#[derive(Debug, Clone, PartialEq)]
pub enum Warning {
    /// A point ran with the GIL in another state than its label's.
    GilMismatch {
        test: String,
        label: String,
        thread_count: u32,
        mismatches: usize,
        samples: usize,
    },
    /// Other work on the machine disturbed these points: (point, disturbed samples, samples).
    Disturbed(Vec<(String, usize, usize)>),
    /// A Python speedup above the native ceiling beyond both intervals: the reference was
    /// disturbed there.
    NativeBelowPython {
        test: String,
        thread_count: u32,
        label: String,
        speedup: f64,
        native: f64,
    },
    /// Points whose samples vary more than [`crate::stats::NOISY_CV`]; the advice fits how the
    /// numbers were made.
    Noisy {
        points: Vec<String>,
        of: usize,
        advice: &'static str,
    },
    /// A point (or a whole test and label, `thread_count` `None`) that gave no numbers, with the
    /// labels it happened to for the same reason.
    Missing {
        failed: bool,
        test: String,
        labels: Vec<String>,
        thread_count: Option<u32>,
        reason: String,
    },
    /// Said by the run itself while it measured (`warnings` in the results file).
    Recorded(String),
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::GilMismatch {
                test,
                label,
                thread_count,
                mismatches,
                samples,
            } => write!(
                f,
                "GIL in the wrong state: {test} on {label} at {} ({mismatches} of {samples} samples); these numbers do not measure what the label says",
                crate::format::threads(*thread_count)
            ),
            Self::Disturbed(points) => {
                let named: Vec<String> = points
                    .iter()
                    .map(|(name, disturbed, samples)| {
                        format!("{name} ({disturbed} of {samples} samples)")
                    })
                    .collect();
                write!(
                    f,
                    "other work on the machine disturbed {} point(s), marked BUSY!: {}. Their numbers may show the machine, not Python; measure them again on a quiet machine (`ftbench check` says what is busy).",
                    named.len(),
                    named.join("; ")
                )
            }
            Self::NativeBelowPython {
                test,
                thread_count,
                label,
                speedup,
                native,
            } => write!(
                f,
                "{test} at {}: {label}'s speedup {speedup:.2}x lies above the native ceiling's {native:.2}x beyond both intervals; the native reference was disturbed there and is no ceiling",
                crate::format::threads(*thread_count)
            ),
            Self::Noisy { points, of, advice } => {
                let more = points.len().saturating_sub(NOISY_SHOWN);
                write!(
                    f,
                    "{} of {of} points are noisy (CV above {:.0}%): {}{}. Their intervals are wide; {advice}.",
                    points.len(),
                    crate::stats::NOISY_CV * 100.0,
                    points[..points.len().min(NOISY_SHOWN)].join("; "),
                    if more > 0 {
                        format!("; and {more} more")
                    } else {
                        String::new()
                    }
                )
            }
            Self::Missing {
                failed,
                test,
                labels,
                thread_count,
                reason,
            } => write!(
                f,
                "{}: {test} on {}{}: {reason}",
                if *failed { "failed" } else { "skipped" },
                labels.join(", "),
                thread_count.map_or(String::new(), |n| format!(
                    " at {}",
                    crate::format::threads(n)
                )),
            ),
            Self::Recorded(text) => f.write_str(text),
        }
    }
}

/// Every warning of a results file, in the order a report shows them.
pub fn all(results: &Analysis<'_>) -> Vec<Warning> {
    let mut warnings: Vec<Warning> = results
        .file
        .points()
        .iter()
        .filter(|p| p.gil_mismatches > 0)
        .map(|point| Warning::GilMismatch {
            test: point.test.clone(),
            label: point.label.clone(),
            thread_count: point.thread_count,
            mismatches: point.gil_mismatches,
            samples: point.samples.len(),
        })
        .collect();
    let disturbed: Vec<(String, usize, usize)> = results
        .file
        .points()
        .iter()
        .filter(|p| p.disturbed())
        .map(|p| {
            (
                results.file.point_name(p),
                p.disturbed_samples(),
                p.samples.len(),
            )
        })
        .collect();
    if !disturbed.is_empty() {
        warnings.push(Warning::Disturbed(disturbed));
    }
    warnings.extend(native_below_python(results));
    let noisy: Vec<String> = results
        .file
        .points()
        .iter()
        .filter(|p| p.throughput.is_noisy())
        .map(|p| results.file.point_name(p))
        .collect();
    if !noisy.is_empty() {
        warnings.push(Warning::Noisy {
            points: noisy,
            of: results.file.points().len(),
            advice: noise_advice(results),
        });
    }
    warnings.extend(missing(results));
    warnings.extend(
        results
            .run_warnings()
            .iter()
            .cloned()
            .map(Warning::Recorded),
    );
    warnings
}

/// What to do about noise, for how the numbers were made: ftbench's own runs, pyperformance's,
/// or a file imported from elsewhere.
fn noise_advice(results: &Analysis<'_>) -> &'static str {
    let imported = results
        .variants()
        .iter()
        .all(|v| v.source == crate::interpreter::InterpreterSource::Imported);
    if results.settings().pyperformance.is_some() {
        "close other programs, or run `ftbench pyperformance --rigorous`"
    } else if imported {
        "measure them again with more values (pyperf's --rigorous) on a quiet machine"
    } else {
        "close other programs, or raise --processes and --samples"
    }
}

/// One warning per point that was skipped or failed, with its reason; labels that failed the
/// same way share one.
fn missing(results: &Analysis<'_>) -> Vec<Warning> {
    let mut groups: Vec<Warning> = Vec::new();
    for (failed, missing) in results
        .skipped()
        .iter()
        .map(|m| (false, m))
        .chain(results.errors().iter().map(|m| (true, m)))
    {
        let reason = missing.reason.lines().next().unwrap_or_default();
        let same = groups.iter_mut().find(|w| {
            matches!(w, Warning::Missing { failed: f, test, thread_count, reason: r, .. }
                if *f == failed && *test == missing.test && *thread_count == missing.thread_count && r == reason)
        });
        match same {
            Some(Warning::Missing { labels, .. }) => labels.push(missing.label.clone()),
            _ => groups.push(Warning::Missing {
                failed,
                test: missing.test.clone(),
                labels: vec![missing.label.clone()],
                thread_count: missing.thread_count,
                reason: reason.to_string(),
            }),
        }
    }
    groups
}

/// Where a Python speedup lies above the native ceiling beyond both intervals: the reference was
/// disturbed there (it cannot be beaten), so it must not be read as a ceiling.
pub fn native_below_python(results: &Analysis<'_>) -> Vec<Warning> {
    let Some(native) = results.native_label() else {
        return Vec::new();
    };
    let mut warnings = Vec::new();
    for test in results.tests() {
        if !results.info(&test).native_is_ceiling() {
            continue;
        }
        let Some(reference) = results.series(&test, native) else {
            continue;
        };
        for label in results.labels().iter().filter(|l| *l != native) {
            let Some(series) = results.series(&test, label) else {
                continue;
            };
            for point in &series.points {
                let (
                    Some(Estimate { value, low, .. }),
                    Some(Estimate {
                        value: nvalue,
                        high: nhigh,
                        ..
                    }),
                ) = (
                    point.speedup,
                    reference
                        .points
                        .iter()
                        .find(|n| n.thread_count == point.thread_count)
                        .and_then(|n| n.speedup),
                )
                else {
                    continue;
                };
                if low > nhigh {
                    warnings.push(Warning::NativeBelowPython {
                        test: test.clone(),
                        thread_count: point.thread_count,
                        label: label.clone(),
                        speedup: value,
                        native: nvalue,
                    });
                }
            }
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{Missing, ResultsFile, Settings};

    #[test]
    fn a_python_speedup_above_the_native_ceiling_is_called_a_disturbed_reference() {
        let variant = crate::results::testing::test_variant;
        let point = |label: &str, threads: u32, walls: &[u64]| {
            crate::results::testing::test_point("parallel_compute", label, threads, walls)
        };
        // Python at 2 threads twice as fast as serial; native at 2 threads as `native_walls` say.
        let file = |native_walls: &[u64]| {
            let mut results =
                ResultsFile::new(Settings::default(), vec![variant("ft"), variant("native")]);
            let serial = [1000, 1010, 990, 1005];
            results.add_point(point("ft", 0, &serial));
            results.add_point(point("ft", 2, &[500, 505, 495, 502]));
            results.add_point(point("native", 0, &serial));
            results.add_point(point("native", 2, native_walls));
            results
        };
        let disturbed = file(&[800, 810, 790, 805]);
        let warnings = native_below_python(&Analysis::of(&disturbed));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0]
                .to_string()
                .contains("the native reference was disturbed there and is no ceiling"),
            "{warnings:?}"
        );
        // Where native is above Python, nothing is said.
        let results = file(&[480, 485, 470, 490]);
        assert!(native_below_python(&Analysis::of(&results)).is_empty());
        // And only then is it called a ceiling (figures, legends).
        let is_ceiling = |r: &ResultsFile| Analysis::of(r).native_is_ceiling("parallel_compute");
        assert!(is_ceiling(&results));
        assert!(!is_ceiling(&disturbed));
    }

    #[test]
    fn labels_that_failed_alike_share_one_line() {
        let mut results = ResultsFile::new(Settings::default(), Vec::new());
        for label in ["a", "b"] {
            results.errors.push(Missing {
                test: "fastapi".into(),
                label: label.into(),
                thread_count: None,
                reason: "its requirements did not install\nmore".into(),
            });
        }
        results.skipped.push(Missing {
            test: "nbody".into(),
            label: "a".into(),
            thread_count: Some(2),
            reason: "needs numpy".into(),
        });
        let lines: Vec<String> = missing(&Analysis::of(&results))
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            lines,
            [
                "skipped: nbody on a at 2 threads: needs numpy",
                "failed: fastapi on a, b: its requirements did not install"
            ]
        );
    }
}
