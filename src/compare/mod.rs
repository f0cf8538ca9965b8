//! Comparing results, as words and tables: what `crate::analysis::compare` found for two runs,
//! two machines or two versions of an interpreter, per point and per label.

use std::fmt::Write as _;

use crate::analysis::compare::thread_name;
pub use crate::analysis::compare::{FileComparison, PointComparison, compare, parse_label_map};
use crate::report::grid::Table;
use crate::report::table::faster_slower;
use crate::stats::{self, Verdict};

impl FileComparison {
    /// One line per label pair: its geometric mean and how many points went which way.
    fn label_notes(&self) -> Vec<String> {
        self.labels
            .iter()
            .map(|l| {
                let name = if l.label == l.other_label {
                    l.label.clone()
                } else {
                    format!("{} → {}", l.label, l.other_label)
                };
                let mean = match (l.geometric_mean, l.ci_low, l.ci_high) {
                    (Some(m), Some(low), Some(high)) => format!(
                        "geometric mean over {} point(s) {m:.3}x [{low:.3}, {high:.3}]: {}",
                        l.points,
                        match l.verdict {
                            Verdict::Same => "no real difference".to_string(),
                            _ => faster_slower(m),
                        }
                    ),
                    _ => "no undisturbed point to summarise".to_string(),
                };
                format!(
                    "{name}: {mean}; {} faster / {} slower / {} same{}",
                    l.faster,
                    l.slower,
                    l.same,
                    if l.disturbed > 0 {
                        format!(" / {} disturbed", l.disturbed)
                    } else {
                        String::new()
                    }
                )
            })
            .collect()
    }

    /// The comparison as a table (terminal text or Markdown): every column with `wide`, else
    /// the ratio with its interval and the verdict (the medians and p-value left out).
    pub fn table(&self, wide: bool) -> Table {
        let rows = self
            .points
            .iter()
            .map(|p| {
                let c = &p.comparison;
                let mut row = vec![
                    p.test.clone(),
                    thread_name(p.thread_count),
                    if p.label == p.other_label {
                        p.label.clone()
                    } else {
                        format!("{} → {}", p.label, p.other_label)
                    },
                ];
                if wide {
                    row.push(crate::report::human(p.value));
                    row.push(crate::report::human(p.other_value));
                }
                row.push(format!(
                    "{:.3} [{:.3}, {:.3}]",
                    c.ratio, c.ci_low, c.ci_high
                ));
                if wide {
                    row.push(format!("{:.3}", c.p_value));
                }
                row.push(match (c.verdict, p.machine) {
                    (Verdict::Same, _) => "same".to_string(),
                    (Verdict::Disturbed, Some("unequal CPUs")) => "unequal CPUs".to_string(),
                    (Verdict::Disturbed, _) => "disturbed (BUSY!)".to_string(),
                    _ => faster_slower(c.ratio),
                });
                row
            })
            .collect();
        let mut notes = self.label_notes();
        notes.push(self.what_was_compared());
        notes.push(format!(
            "ratio = {} / {} ({}, higher is faster); faster or slower only when Mann-Whitney p < {}, the 95% interval excludes 1 and the change is at least {:.0}%.",
            self.other,
            self.base,
            self.measure.as_str(),
            stats::ALPHA,
            stats::MIN_EFFECT * 100.0
        ));
        let disturbed = self.disturbed().len();
        if disturbed > 0 {
            notes.push(format!(
                "{disturbed} point(s) measured the machine in either file (other work took CPUs, or the threads' CPUs ran at unequal speeds): no verdict on them, they are left out of the geometric means, and --fail-on-regression ignores them."
            ));
        }
        if self.unmatched > 0 {
            notes.push(format!(
                "{} point(s) had no partner in the other file.",
                self.unmatched
            ));
        }
        let mut header = vec!["test", "threads", "label"];
        if wide {
            header.extend(["base", "other"]);
        }
        header.push("ratio [95% CI]");
        if wide {
            header.push("p");
        }
        header.push("verdict");
        Table {
            title: format!("{} against {}", self.other, self.base),
            groups: Vec::new(),
            header: header.iter().map(ToString::to_string).collect(),
            rows,
            notes,
        }
    }

    /// What a verdict of this comparison can and cannot tell, by what was compared.
    fn what_was_compared(&self) -> String {
        if self.different_machines {
            format!(
                "What this compares: one run on each of two different machines ({} and {}), so each point's speedup over its own serial run is compared, not raw throughput. The intervals hold the spread within each run, not from run to run or between the machines' builds: faster or slower says how these two runs differ, not that one machine always scales better.",
                self.base, self.other
            )
        } else {
            "What this compares: one run against one run on the same machine. The intervals hold the spread of the samples within each run, not the machine's drift from one run to the next (a VM's CPUs can change speed for minutes): faster or slower says these two runs differ; call it a change only when it repeats (`ftbench history --test TEST --label LABEL` follows a point across recorded runs).".to_string()
        }
    }
}

/// A line per regression, for the error message.
pub fn describe_regressions(regressions: &[&PointComparison]) -> String {
    let mut out = String::new();
    for p in regressions {
        let _ = writeln!(
            out,
            "  {} at {} on {}: {:.1}% slower (ratio {:.3} [{:.3}, {:.3}], p = {:.4})",
            p.test,
            crate::format::threads(p.thread_count),
            p.other_label,
            (1.0 - p.comparison.ratio) * 100.0,
            p.comparison.ratio,
            p.comparison.ci_low,
            p.comparison.ci_high,
            p.comparison.p_value
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Comparison;

    fn slower(label: &str) -> PointComparison {
        PointComparison {
            test: "lock_contention".into(),
            thread_count: 2,
            serial: false,
            label: label.into(),
            other_label: label.into(),
            value: 10.0,
            other_value: 5.0,
            metric: "ops_per_sec".into(),
            native: label == "native",
            machine: None,
            comparison: Comparison {
                ratio: 0.5,
                ci_low: 0.45,
                ci_high: 0.55,
                p_value: 0.001,
                verdict: Verdict::Slower,
            },
        }
    }

    #[test]
    fn the_native_reference_fails_no_regression_gate_unless_asked() {
        let comparison = FileComparison {
            base: "a".into(),
            other: "b".into(),
            points: vec![slower("native"), slower("3.13t")],
            labels: Vec::new(),
            unmatched: 0,
            different_machines: false,
            measure: crate::analysis::compare::Measure::Throughput,
        };
        let gate = |include_native| -> Vec<String> {
            comparison
                .regressions(5.0, include_native)
                .iter()
                .map(|p| p.label.clone())
                .collect()
        };
        assert_eq!(gate(false), ["3.13t"]);
        assert_eq!(gate(true), ["native", "3.13t"]);
    }
}
