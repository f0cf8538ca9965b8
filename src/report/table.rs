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

/// Every test's pivot table and scaling factors.
pub fn pivot_tables(results: &ResultsFile) -> String {
    let labels = results.labels();
    let mut out = String::new();
    for test in results.tests() {
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
