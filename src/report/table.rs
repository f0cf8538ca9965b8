//! The seed's pivot tables: per test, thread counts down, (metric, speedup, efficiency) per label
//! across, then the "Scaling Factor (relative to single thread)" lines.

use std::fmt::Write;

use super::human;
use crate::results::ResultsFile;
use crate::workloads;

/// Lay out rows of cells in columns, the first left-aligned, the rest right-aligned.
pub fn grid(rows: &[Vec<String>]) -> String {
    grid_aligned(rows, 1)
}

/// Lay out rows of cells in columns, the first `left` columns left-aligned.
pub fn grid_aligned(rows: &[Vec<String>], left: usize) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c == 0 {
                let _ = write!(line, "{cell:<w$}", w = widths[c]);
            } else if c < left {
                let _ = write!(line, "  {cell:<w$}", w = widths[c]);
            } else {
                let _ = write!(line, "  {cell:>w$}", w = widths[c]);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Everything the terminal shows at the end of a run: scaling pivot tables, regular tests with
/// the seed's summary statistics, thread costs, and what was not measured.
pub fn render(results: &ResultsFile) -> String {
    let mut out = pivot_tables(results);
    out.push_str(&regular_tables(results));
    out.push_str(&thread_tables(results));
    for missing in results.skipped.iter().chain(&results.errors) {
        let _ = writeln!(
            out,
            "\nnot measured: {} on {}{}: {}",
            missing.test,
            missing.label,
            missing
                .thread_count
                .map_or(String::new(), |n| format!(" at {n} threads")),
            missing.reason.lines().next().unwrap_or_default()
        );
    }
    out
}

/// "1.45x slower" / "1.05x faster", as pyperformance words a ratio.
pub fn faster_slower(speedup: f64) -> String {
    if speedup >= 1.0 {
        format!("{speedup:.2}x faster")
    } else {
        format!("{:.2}x slower", 1.0 / speedup)
    }
}

/// The regular tests: seconds per run and speedup per label, then the seed's summary block.
pub fn regular_tables(results: &ResultsFile) -> String {
    let tests = results.regular_tests();
    let Some(baseline) = results.baseline() else {
        return String::new();
    };
    if tests.is_empty() {
        return String::new();
    }
    let labels = results.labels();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n=== Regular tests: time per run, speedup against {baseline} ==="
    );
    let mut header_groups = vec![String::new()];
    let mut header = vec!["test".to_string()];
    for group in ["duration", "speedup"] {
        for (i, label) in labels.iter().enumerate() {
            header_groups.push(if i == 0 {
                group.to_string()
            } else {
                String::new()
            });
            header.push(label.clone());
        }
    }
    let mut rows = vec![header_groups, header];
    for test in &tests {
        let entries: Vec<_> = labels.iter().map(|l| results.regular(test, l)).collect();
        let mut row = vec![test.clone()];
        for entry in &entries {
            row.push(entry.as_ref().map_or("-".to_string(), |e| {
                format!(
                    "{} ±{:.1}%",
                    super::seconds(e.duration.median),
                    e.duration.relative_half_width() * 100.0
                )
            }));
        }
        for (label, entry) in labels.iter().zip(&entries) {
            if *label == baseline {
                row.push("base".to_string());
                continue;
            }
            row.push(entry.as_ref().and_then(|e| e.speedup).map_or(
                "-".to_string(),
                |(s, low, high)| {
                    let mark = if low > 1.0 || high < 1.0 { "" } else { " ~" };
                    format!("{s:.2}x{mark}")
                },
            ));
        }
        rows.push(row);
    }
    out.push_str(&grid(&rows));
    out.push_str("(~: the 95% interval of the speedup includes 1, so no real difference)\n");
    out.push_str("\nSummary Statistics:\n");
    for label in &labels {
        let Some(summary) = results.regular_summary(label) else {
            continue;
        };
        let _ = writeln!(out, "\n{label}:");
        let _ = writeln!(
            out,
            "Average Duration: {}",
            super::seconds(summary.average_duration)
        );
        let _ = writeln!(out, "Average Speedup: {:.3}x", summary.average_speedup);
        let _ = writeln!(out, "Tests Faster than {baseline}: {}", summary.faster);
        let _ = writeln!(out, "Tests Slower than {baseline}: {}", summary.slower);
        if label == &baseline {
            let _ = writeln!(out, "Geometric mean: 1.00x (the baseline)");
        } else if let Some((mean, low, high)) = summary.geometric_mean {
            let verdict = if summary.significant() {
                "significant"
            } else {
                "not significant: the interval includes 1.00x"
            };
            let _ = writeln!(
                out,
                "Geometric mean: {mean:.3}x ({}) [95% CI {low:.3}x, {high:.3}x], {verdict}",
                faster_slower(mean)
            );
        }
    }
    out
}

/// Thread lifecycle costs: µs per thread per label, then each phase's percentiles.
pub fn thread_tables(results: &ResultsFile) -> String {
    let tests: Vec<String> = results
        .tests()
        .into_iter()
        .filter(|t| results.group_of(t) == crate::workloads::Group::Threads)
        .collect();
    if tests.is_empty() {
        return String::new();
    }
    let labels = results.labels();
    let mut out = String::from(
        "\n=== Thread lifecycle: microseconds per thread (create, start, run, join) ===\n",
    );
    let mut rows = vec![
        std::iter::once("test".to_string())
            .chain(labels.iter().cloned())
            .collect::<Vec<_>>(),
    ];
    for test in &tests {
        let mut row = vec![test.clone()];
        for label in &labels {
            row.push(
                results
                    .thread_entry(test, label)
                    .map_or("-".to_string(), |e| {
                        format!(
                            "{:.1} ±{:.1}%",
                            e.us_per_thread.median,
                            e.us_per_thread.relative_half_width() * 100.0
                        )
                    }),
            );
        }
        rows.push(row);
    }
    out.push_str(&grid(&rows));
    for test in &tests {
        let _ = writeln!(out, "\nPhases of {test}, p50 / p95 / p99 in µs:");
        let mut rows = vec![vec![
            "label".to_string(),
            "construct".to_string(),
            "start".to_string(),
            "body".to_string(),
            "join".to_string(),
        ]];
        for label in &labels {
            let Some(entry) = results.thread_entry(test, label) else {
                continue;
            };
            let mut row = vec![label.clone()];
            for phase in ["construct", "start", "body", "join"] {
                let p = &entry.phases_us[phase];
                let f = |q: &str| p[q].as_f64().map_or("-".to_string(), |v| format!("{v:.1}"));
                row.push(format!("{} / {} / {}", f("p50"), f("p95"), f("p99")));
            }
            rows.push(row);
        }
        out.push_str(&grid(&rows));
    }
    out
}

/// Every scaling test's pivot table and scaling factors.
pub fn pivot_tables(results: &ResultsFile) -> String {
    let labels = results.labels();
    let mut out = String::new();
    for test in results.tests() {
        if !results.group_of(&test).scales() {
            continue;
        }
        let metric = workloads::find(&test).map_or("throughput", |w| w.metric);
        let series: Vec<(String, crate::results::Series)> = labels
            .iter()
            .filter_map(|l| results.series(&test, l).map(|s| (l.clone(), s)))
            .collect();
        if series.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n=== {test} ({metric}, higher is better) ===");
        let mut header_groups = vec![String::new()];
        let mut header = vec!["thread_count".to_string()];
        for group in [metric, "speedup", "efficiency"] {
            for (i, (label, _)) in series.iter().enumerate() {
                header_groups.push(if i == 0 {
                    group.to_string()
                } else {
                    String::new()
                });
                header.push(label.clone());
            }
        }
        let mut rows = vec![header_groups, header];
        let mut serial_row = vec!["serial".to_string()];
        for (_, s) in &series {
            serial_row.push(s.serial.as_ref().map_or("-".to_string(), |v| {
                format!(
                    "{} ±{:.1}%",
                    human(v.median),
                    v.relative_half_width() * 100.0
                )
            }));
        }
        serial_row.extend(std::iter::repeat_n(String::new(), series.len() * 2));
        rows.push(serial_row);
        let mut thread_counts: Vec<u32> = series
            .iter()
            .flat_map(|(_, s)| s.points.iter().map(|p| p.thread_count))
            .collect();
        thread_counts.sort_unstable();
        thread_counts.dedup();
        for n in thread_counts {
            let mut row = vec![n.to_string()];
            let find =
                |s: &crate::results::Series| s.points.iter().find(|p| p.thread_count == n).cloned();
            for (_, s) in &series {
                row.push(find(s).map_or("-".to_string(), |p| {
                    let flag = if p.gil_mismatches > 0 { " GIL!" } else { "" };
                    format!(
                        "{} ±{:.1}%{flag}",
                        human(p.value.median),
                        p.value.relative_half_width() * 100.0
                    )
                }));
            }
            for (_, s) in &series {
                row.push(
                    find(s)
                        .and_then(|p| p.speedup)
                        .map_or("-".to_string(), |(v, _, _)| format!("{v:.3}")),
                );
            }
            for (_, s) in &series {
                row.push(
                    find(s)
                        .and_then(|p| p.efficiency)
                        .map_or("-".to_string(), |v| format!("{v:.3}")),
                );
            }
            rows.push(row);
        }
        out.push_str(&grid(&rows));
        out.push_str("\nScaling Factor (relative to single thread):\n");
        for (label, s) in &series {
            let _ = writeln!(
                out,
                "{label}: {}",
                s.scaling_factor
                    .map_or("-".to_string(), |f| format!("{f:.2}x"))
            );
        }
    }
    out
}
