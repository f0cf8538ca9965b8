//! Deciding gates (`--fail-if`) from a run's numbers: each one passed, failed or undecided, from
//! intervals, never from a point estimate alone. A gate fails only when the whole 95% interval
//! lies on the failing side of its threshold, and passes only when it lies wholly on the other;
//! a point the machine disturbed (its verdict `disturbed` or `unequal`, or most of its samples
//! marked) cannot fail a gate: it leaves it undecided, naming the machine.

use super::{Analysis, Verdict};
use crate::results::gate::{Condition, Gate, GateRecord, Metric, Outcome};
use crate::results::{Point, throughputs};
use crate::stats::{Estimate, ratio_ci};

/// One candidate decision: for a (test, label, thread count).
struct Finding {
    outcome: Outcome,
    estimate: Option<Estimate>,
    threshold: Option<f64>,
    test: Option<String>,
    label: Option<String>,
    thread_count: Option<u32>,
    reason: String,
    /// How far the estimate is from failing (smaller: closer), to name the closest pass.
    margin: f64,
}

/// Decide every gate. `against` is the base label of `regression` gates; the other labels are
/// the code under test.
pub fn evaluate(analysis: &Analysis, gates: &[Gate], against: Option<&str>) -> Vec<GateRecord> {
    gates
        .iter()
        .map(|gate| {
            let findings = match &gate.condition {
                Condition::Point {
                    metric,
                    threads,
                    comparison,
                    threshold,
                } => point_findings(
                    analysis,
                    gate,
                    against,
                    (*metric, *threads, comparison.fails_below(), *threshold),
                ),
                Condition::Regression { fraction } => {
                    regression_findings(analysis, gate, against, *fraction)
                }
                Condition::Gil => gil_findings(analysis, gate),
                Condition::Race => race_findings(analysis, gate),
            };
            record(gate, findings)
        })
        .collect()
}

/// The gate's decision from its findings: the first failure, else the first undecided, else
/// the pass closest to failing.
fn record(gate: &Gate, mut findings: Vec<Finding>) -> GateRecord {
    let chosen = if let Some(at) = findings.iter().position(|f| f.outcome == Outcome::Failed) {
        Some(findings.swap_remove(at))
    } else if let Some(at) = findings
        .iter()
        .position(|f| f.outcome == Outcome::Undecided)
    {
        Some(findings.swap_remove(at))
    } else {
        findings
            .into_iter()
            .min_by(|a, b| a.margin.total_cmp(&b.margin))
    };
    let Some(finding) = chosen else {
        return GateRecord {
            expression: gate.expression.clone(),
            outcome: Outcome::Undecided,
            value: None,
            low: None,
            high: None,
            threshold: None,
            test: gate.test.clone(),
            label: None,
            thread_count: gate.threads(),
            reason: format!(
                "nothing the run measured decides it{}",
                gate.test.as_deref().map_or(String::new(), |t| format!(
                    " (no point of `{}`)",
                    crate::output::escape(t)
                ))
            ),
        };
    };
    GateRecord {
        expression: gate.expression.clone(),
        outcome: finding.outcome,
        value: finding.estimate.map(|e| e.value),
        low: finding.estimate.map(|e| e.low),
        high: finding.estimate.map(|e| e.high),
        threshold: finding.threshold,
        test: finding.test,
        label: finding.label,
        thread_count: finding.thread_count,
        reason: finding.reason,
    }
}

/// The tests a gate applies to.
fn tests_of(analysis: &Analysis, gate: &Gate) -> Vec<String> {
    let tests = analysis.tests();
    match &gate.test {
        Some(test) => tests.into_iter().filter(|t| t == test).collect(),
        None => tests,
    }
}

/// The labels of the code under test: all but the base.
fn labels_under_test(analysis: &Analysis, against: Option<&str>) -> Vec<String> {
    analysis
        .labels()
        .into_iter()
        .filter(|l| Some(l.as_str()) != against)
        .collect()
}

/// `x [low, high]` with the digits a ratio needs.
fn shown(estimate: Estimate) -> String {
    format!(
        "{:.2} [{:.2}, {:.2}]",
        estimate.value, estimate.low, estimate.high
    )
}

/// Whether the machine, not the code, may explain a point's numbers.
fn machine_says(verdict: Option<Verdict>, disturbed: usize, samples: usize) -> Option<String> {
    match verdict {
        Some(Verdict::Disturbed) => Some("other work on the machine disturbed the point".into()),
        Some(Verdict::Unequal) => Some("the point's threads ran on CPUs of unequal speed".into()),
        _ if samples > 0 && disturbed * 2 > samples => Some(format!(
            "other work on the machine disturbed {disturbed} of its {samples} samples"
        )),
        _ => None,
    }
}

/// A point the machine disturbed is undecided whichever side of the threshold it fell on: a
/// failure is not the code's, and an interval too wide to decide was widened by the machine, so
/// the reason names the machine in both cases (the figures stay in front).
fn blame_machine(outcome: Outcome, reason: &str, machine: &str) -> (Outcome, String) {
    let reason = match outcome {
        Outcome::Failed => format!("{reason}, but {machine}: not the code's to answer for"),
        _ => format!("{reason}; {machine}: not the code's to answer for"),
    };
    (Outcome::Undecided, reason)
}

/// Decide an interval against a threshold: failed when it lies wholly on the failing side,
/// passed when wholly on the other, else undecided.
fn decide(estimate: Estimate, fails_below: bool, threshold: f64) -> Outcome {
    let (fails, passes) = if fails_below {
        (estimate.high < threshold, estimate.low >= threshold)
    } else {
        (estimate.low > threshold, estimate.high <= threshold)
    };
    if fails {
        Outcome::Failed
    } else if passes {
        Outcome::Passed
    } else {
        Outcome::Undecided
    }
}

fn point_findings(
    analysis: &Analysis,
    gate: &Gate,
    against: Option<&str>,
    (metric, threads, fails_below, threshold): (Metric, u32, bool, f64),
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for test in tests_of(analysis, gate) {
        for label in labels_under_test(analysis, against) {
            let Some(series) = analysis.series(&test, &label) else {
                continue;
            };
            let Some(point) = series.points.iter().find(|p| p.thread_count == threads) else {
                continue;
            };
            let Some(speedup) = point.speedup else {
                continue;
            };
            let n = f64::from(threads);
            let estimate = match metric {
                Metric::Speedup => speedup,
                Metric::Efficiency => {
                    Estimate::new(speedup.value / n, speedup.low / n, speedup.high / n)
                }
            };
            let mut outcome = decide(estimate, fails_below, threshold);
            let name = metric.name();
            let at = format!(
                "{} on {} at {threads} thread(s)",
                crate::output::escape(&test),
                crate::output::escape(&label)
            );
            let mut reason = match outcome {
                Outcome::Failed => format!(
                    "{name} {} is {} {threshold} ({at})",
                    shown(estimate),
                    if fails_below { "below" } else { "above" }
                ),
                Outcome::Passed => format!("{name} {} ({at})", shown(estimate)),
                Outcome::Undecided => format!(
                    "{name} {}: the interval holds the threshold {threshold} ({at}); too noisy to say",
                    shown(estimate)
                ),
            };
            if outcome != Outcome::Passed
                && let Some(machine) = machine_says(
                    point.verdict,
                    point.disturbed_samples + point.unequal_samples,
                    point.value.n,
                )
            {
                (outcome, reason) = blame_machine(outcome, &reason, &machine);
            }
            let margin = if fails_below {
                estimate.low - threshold
            } else {
                threshold - estimate.high
            };
            findings.push(Finding {
                outcome,
                estimate: Some(estimate),
                threshold: Some(threshold),
                test: Some(test.clone()),
                label: Some(label.clone()),
                thread_count: Some(threads),
                reason,
                margin,
            });
        }
    }
    findings
}

/// What the machine did to either point of a head/base pair (each with its curve), if it
/// disturbed one.
fn machine_of_pair(
    head: (&Point, Option<&super::Series>),
    base: (&Point, Option<&super::Series>),
) -> Option<String> {
    [head, base].into_iter().find_map(|(point, series)| {
        let verdict = series.and_then(|s| {
            s.points
                .iter()
                .find(|p| p.thread_count == point.thread_count)
                .and_then(|p| p.verdict)
        });
        let disturbed = point
            .samples
            .iter()
            .filter(|s| s.disturbed || s.unequal)
            .count();
        machine_says(verdict, disturbed, point.samples.len())
    })
}

fn regression_findings(
    analysis: &Analysis,
    gate: &Gate,
    against: Option<&str>,
    fraction: f64,
) -> Vec<Finding> {
    let Some(base) = against else {
        return Vec::new();
    };
    let floor = 1.0 - fraction;
    let percent = fraction * 100.0;
    let mut findings = Vec::new();
    for test in tests_of(analysis, gate) {
        let unit_scale = analysis.unit_scale_of(&test);
        let base_points = analysis.file.points_of(&test, base);
        let base_series = analysis.series(&test, base);
        for label in labels_under_test(analysis, against) {
            let head_series = analysis.series(&test, &label);
            for head in analysis.file.points_of(&test, &label) {
                let Some(base_point) = base_points
                    .iter()
                    .find(|p| p.thread_count == head.thread_count)
                else {
                    continue;
                };
                let ratio = ratio_ci(
                    &throughputs(head, unit_scale),
                    &throughputs(base_point, unit_scale),
                );
                let mut outcome = decide(ratio, true, floor);
                let at = format!(
                    "{} {} against {} at {}",
                    crate::output::escape(&test),
                    crate::output::escape(&label),
                    crate::output::escape(base),
                    crate::format::threads(head.thread_count)
                );
                let slower = |x: f64| (1.0 - x) * 100.0;
                let mut reason = match outcome {
                    Outcome::Failed => format!(
                        "{at}: {:.1}% slower [{:.1}%, {:.1}%], more than {percent}% (throughput ratio {})",
                        slower(ratio.value),
                        slower(ratio.high),
                        slower(ratio.low),
                        shown(ratio)
                    ),
                    Outcome::Passed => format!("{at}: throughput ratio {}", shown(ratio)),
                    Outcome::Undecided => format!(
                        "{at}: throughput ratio {}, whose interval holds {floor:.2} ({percent}% slower); too noisy to say",
                        shown(ratio)
                    ),
                };
                if outcome != Outcome::Passed
                    && let Some(machine) = machine_of_pair(
                        (head, head_series.as_ref()),
                        (base_point, base_series.as_ref()),
                    )
                {
                    (outcome, reason) = blame_machine(outcome, &reason, &machine);
                }
                findings.push(Finding {
                    outcome,
                    estimate: Some(ratio),
                    threshold: Some(floor),
                    test: Some(test.clone()),
                    label: Some(label.clone()),
                    thread_count: Some(head.thread_count),
                    reason,
                    margin: ratio.low - floor,
                });
            }
        }
    }
    findings
}

fn gil_findings(analysis: &Analysis, gate: &Gate) -> Vec<Finding> {
    let free_threaded: Vec<&str> = analysis
        .variants()
        .iter()
        .filter(|v| !v.expects_gil)
        .map(|v| v.label.as_str())
        .collect();
    let mut findings = Vec::new();
    for test in tests_of(analysis, gate) {
        for label in &free_threaded {
            for point in analysis.file.points_of(&test, label) {
                let on = point.samples.iter().filter(|s| s.gil_enabled).count();
                if on == 0 {
                    continue;
                }
                let mut modules: Vec<String> = Vec::new();
                for sample in &point.samples {
                    let named = sample
                        .extra
                        .as_ref()
                        .and_then(|e| e["gil_enabled_by"].as_array().cloned())
                        .unwrap_or_default();
                    for module in named.iter().filter_map(|m| m.as_str()).map(module_of) {
                        if !modules.iter().any(|m| m == module) {
                            modules.push(module.to_string());
                        }
                    }
                }
                findings.push(Finding {
                    outcome: Outcome::Failed,
                    estimate: None,
                    threshold: None,
                    test: Some(test.clone()),
                    label: Some((*label).to_string()),
                    thread_count: Some(point.thread_count),
                    reason: format!(
                        "{} ran on {} with the GIL on in {on} of {} sample(s){}",
                        crate::output::escape(&test),
                        crate::output::escape(label),
                        point.samples.len(),
                        if modules.is_empty() {
                            String::new()
                        } else {
                            format!(
                                ": importing {} turned it back on (`ftbench audit` names every such dependency)",
                                modules
                                    .iter()
                                    .map(|m| crate::output::escape(m))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )
                        }
                    ),
                    margin: 0.0,
                });
            }
        }
    }
    if findings.is_empty() {
        findings.push(nothing_found(
            gate,
            if free_threaded.is_empty() {
                "no label is a free-threaded build, so none could turn the GIL back on".to_string()
            } else {
                format!(
                    "the GIL stayed off in every sample of {}",
                    free_threaded.join(", ")
                )
            },
        ));
    }
    findings
}

/// The module a record names: pyperformance's probe records the name, `run` and `scale` keep
/// CPython's whole warning ("…has been enabled to load module 'gilext', which…").
fn module_of(text: &str) -> &str {
    text.split_once("to load module '")
        .and_then(|(_, rest)| rest.split_once('\''))
        .map_or(text, |(module, _)| module)
}

/// A `gil` or `race` gate that found nothing to fail on: passed, for `reason`.
fn nothing_found(gate: &Gate, reason: String) -> Finding {
    Finding {
        outcome: Outcome::Passed,
        estimate: None,
        threshold: None,
        test: gate.test.clone(),
        label: None,
        thread_count: None,
        reason,
        margin: f64::INFINITY,
    }
}

fn race_findings(analysis: &Analysis, gate: &Gate) -> Vec<Finding> {
    let tests = tests_of(analysis, gate);
    let mut findings: Vec<Finding> = analysis
        .file
        .errors
        .iter()
        .filter(|e| {
            e.reason.contains("likely race") && (gate.test.is_none() || tests.contains(&e.test))
        })
        .map(|e| Finding {
            outcome: Outcome::Failed,
            estimate: None,
            threshold: None,
            test: Some(e.test.clone()),
            label: Some(e.label.clone()),
            thread_count: e.thread_count,
            reason: format!(
                "{} on {}: {}",
                crate::output::escape(&e.test),
                crate::output::escape(&e.label),
                crate::output::escape(&e.reason)
            ),
            margin: 0.0,
        })
        .collect();
    if findings.is_empty() {
        findings.push(nothing_found(
            gate,
            "every checked call returned what the serial call returned".to_string(),
        ));
    }
    findings
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_module_is_read_from_cpythons_warning() {
        assert_eq!(
            super::module_of(
                "The global interpreter lock (GIL) has been enabled to load module 'gilext', which has not declared that it can run safely without the GIL."
            ),
            "gilext"
        );
        assert_eq!(
            super::module_of("markupsafe._speedups"),
            "markupsafe._speedups"
        );
    }

    #[test]
    fn an_interval_decides_only_wholly_on_one_side() {
        use super::{Estimate, Outcome, decide};
        for ((value, low, high), fails_below, threshold, expected) in [
            ((0.5, 0.45, 0.55), true, 0.6, Outcome::Failed),
            ((0.7, 0.65, 0.75), true, 0.6, Outcome::Passed),
            ((0.6, 0.55, 0.65), true, 0.6, Outcome::Undecided),
            ((2.0, 1.8, 2.2), false, 1.5, Outcome::Failed),
            ((1.2, 1.1, 1.4), false, 1.5, Outcome::Passed),
        ] {
            let estimate = Estimate::new(value, low, high);
            assert_eq!(
                decide(estimate, fails_below, threshold),
                expected,
                "{estimate:?}"
            );
        }
    }

    #[test]
    fn a_machine_that_disturbed_the_point_is_named_whether_it_failed_or_was_too_noisy() {
        use super::{Outcome, blame_machine};
        let machine = "other work on the machine disturbed the point";
        for (outcome, joint) in [(Outcome::Failed, ", but "), (Outcome::Undecided, "; ")] {
            let (after, reason) = blame_machine(outcome, "efficiency 0.69", machine);
            assert_eq!(after, Outcome::Undecided);
            assert_eq!(
                reason,
                format!("efficiency 0.69{joint}{machine}: not the code's to answer for")
            );
        }
    }
}
