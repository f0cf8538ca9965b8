//! What the terminal shows at the end of `run`, `scale`, `report` and `import`.
//!
//! By default every line fits the terminal: per scaling test one row per thread count and, per
//! label, the speedup with its interval and the verdict; the regular tests' time and speedup;
//! the verdicts' advice; then the headline. A table wider than the terminal is split into
//! several tables by label (never wrapped rows); one that cannot be split is printed a row at a
//! time, one `column: value` line each. Notes are word-wrapped. `--wide` prints every column
//! (throughput, efficiency, parallelism, where the threads' time went, memory), as report.md,
//! report.html and results.csv always do.

use std::fmt::Write as _;

use super::grid::Table;
use super::model::{Exporter, ReportModel};
use super::table;
use crate::analysis::Analysis;
use crate::analysis::model::Model;
use crate::output::wrap;

/// How the terminal output is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// The widest line allowed (not a limit with `wide`).
    pub width: usize,
    /// Every column, as `--wide` asks.
    pub wide: bool,
}

impl Layout {
    /// The layout for standard output: [`crate::output::width`].
    pub fn for_stdout(wide: bool) -> Self {
        Self {
            width: crate::output::width(),
            wide,
        }
    }
}

/// Everything the terminal shows for a results file.
pub fn render(model: &ReportModel<'_>, layout: Layout) -> String {
    let mut out = if layout.wide {
        table::render(model.analysis, &model.missing())
    } else {
        compact(model, layout.width)
    };
    out.push_str(&headline_text(&model.headline, layout));
    out
}

/// The default: tables that fit `width`.
fn compact(model: &ReportModel<'_>, width: usize) -> String {
    let results = model.analysis;
    let mut out = String::new();
    let pivots = compact_pivot_tables(results);
    if !pivots.is_empty() {
        out.push_str(&wrap(
            "Per test: the serial run's throughput, then at each thread count the speedup over it with its 95% interval, and the verdict.",
            width,
            0,
        ));
    }
    for table in pivots {
        out.push_str(&fit(&table, width));
    }
    if let Some(table) = compact_regular_table(results) {
        out.push_str(&fit(&table, width));
    }
    let why = table::why_lines(results);
    let verdicts = table::distinct_verdicts(&why);
    if !verdicts.is_empty() {
        out.push_str("\nVerdicts (at the highest thread count within the CPUs):\n");
        for verdict in verdicts {
            out.push_str(&wrap(
                &format!("{}: {}", verdict.as_str(), verdict.advice()),
                width,
                2,
            ));
        }
    }
    let advice = table::thread_advice(results);
    if !advice.is_empty() {
        out.push_str("\nHow many threads:\n");
        for line in advice {
            out.push_str(&wrap(&format!("  {line}"), width, 4));
        }
    }
    for table in table::thread_tables(results) {
        out.push_str(&fit(&table, width));
    }
    for line in model.missing() {
        out.push('\n');
        out.push_str(&wrap(&line.to_string(), width, 2));
    }
    if !out.is_empty() {
        let _ = writeln!(
            out,
            "\n(--wide: throughput, efficiency, parallelism, where the threads' time went, memory)"
        );
    }
    out
}

/// The headline under its title, wrapped (and unwrapped with `--wide`).
fn headline_text(sentences: &[String], layout: Layout) -> String {
    if sentences.is_empty() {
        return String::new();
    }
    let mut out = String::from("\n=== In short ===\n");
    for sentence in sentences {
        if layout.wide {
            let _ = writeln!(out, "{sentence}");
        } else {
            out.push_str(&wrap(sentence, layout.width, 2));
        }
    }
    out
}

/// Per scaling test: one row per thread count; per label the speedup with its interval and the
/// verdict (the serial row holds the serial throughput).
pub(super) fn compact_pivot_tables(results: &Analysis<'_>) -> Vec<Table> {
    let mut tables = Vec::new();
    for (test, series) in table::scaling_series(results) {
        let with_verdict = series
            .iter()
            .any(|(_, s)| s.points.iter().any(|p| p.verdict.is_some()));
        let span = if with_verdict { 2 } else { 1 };
        let mut groups = vec![(String::new(), 1)];
        let mut header = vec![if results.info(&test).uses_processes() {
            "processes".to_string()
        } else {
            "threads".to_string()
        }];
        for (label, _) in &series {
            groups.push((label.clone(), span));
            header.push("speedup".to_string());
            if with_verdict {
                header.push("verdict".to_string());
            }
        }
        let mut serial_row = vec!["serial".to_string()];
        for (label, s) in &series {
            let busy = results.disturbed(&test, label, 0);
            serial_row.push(s.serial.as_ref().map_or("-".to_string(), |v| {
                format!(
                    "{}{}",
                    table::with_ci(&crate::format::human(v.median), v),
                    if busy { " BUSY!" } else { "" }
                )
            }));
            if with_verdict {
                serial_row.push(String::new());
            }
        }
        let mut rows = vec![serial_row];
        for n in table::thread_counts(&series) {
            let mut row = vec![n.to_string()];
            for (_, s) in &series {
                let point = s.points.iter().find(|p| p.thread_count == n);
                // The marks of the full table's throughput cell stay visible here.
                row.push(point.map_or("-".to_string(), |p| {
                    format!(
                        "{}{}{}",
                        p.speedup.map_or("-".to_string(), table::ratio_with_ci),
                        if p.gil_mismatches > 0 { " GIL!" } else { "" },
                        if p.disturbed_samples > 0 {
                            " BUSY!"
                        } else {
                            ""
                        }
                    )
                }));
                if with_verdict {
                    row.push(
                        point
                            .and_then(|p| p.verdict)
                            .map_or("-".to_string(), |v| v.as_str().to_string()),
                    );
                }
            }
            rows.push(row);
        }
        let notes: Vec<String> = series
            .iter()
            .filter_map(|(label, s)| match s.model.as_ref()? {
                Model::Described(fit) => Some(format!("{label}: {}", fit.brief())),
                Model::NotDescribed { .. } => None,
            })
            .collect();
        tables.push(Table {
            title: format!("{test} ({}, higher is better)", results.metric_of(&test)),
            groups,
            header,
            rows,
            notes,
        });
    }
    tables
}

/// The regular tests: per label the time per run and the speedup against the baseline.
pub(super) fn compact_regular_table(results: &Analysis<'_>) -> Option<Table> {
    let mut full = table::regular_table(results)?;
    // The full table's columns are grouped by measure (duration, speedup, memory), each over
    // every label: regroup them by label, without memory.
    let labels = full.groups.get(1).map_or(0, |g| g.1);
    let baseline = results.baseline()?;
    let names: Vec<String> = full.header[1..=labels].to_vec();
    let mut groups = vec![(String::new(), 1)];
    let mut header = vec!["test".to_string()];
    let mut columns: Vec<usize> = vec![0];
    for (i, label) in names.iter().enumerate() {
        let is_base = *label == baseline;
        groups.push((label.clone(), if is_base { 1 } else { 2 }));
        header.push("time".to_string());
        columns.push(1 + i);
        if !is_base {
            header.push("speedup".to_string());
            columns.push(1 + labels + i);
        }
    }
    full.rows = full
        .rows
        .iter()
        .map(|row| {
            columns
                .iter()
                .map(|&c| row.get(c).cloned().unwrap_or_default())
                .collect()
        })
        .collect();
    full.groups = groups;
    full.header = header;
    Some(full)
}

/// `table` as text no wider than `width`: whole, else split by its label groups, else a row at a
/// time; its notes word-wrapped.
pub fn fit(table: &Table, width: usize) -> String {
    let grid = table.grid_text();
    let mut out = if widest(&grid) <= width {
        title(&table.title, width) + &grid
    } else if let Some(parts) = split_by_groups(table, width) {
        parts
            .iter()
            .map(|part| title(&part.title, width) + &part.grid_text())
            .collect()
    } else {
        row_by_row(table, width)
    };
    for note in &table.notes {
        if note.is_empty() {
            out.push('\n');
        } else {
            out.push_str(&wrap(note, width, 2));
        }
    }
    out
}

/// A table's title line, wrapped where it is long.
fn title(text: &str, width: usize) -> String {
    format!("\n{}", wrap(&format!("=== {text} ==="), width, 4))
}

fn widest(text: &str) -> usize {
    text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

/// The table as several, each with the first column and as many whole label groups as fit;
/// `None` when it has no groups to split by or one group alone does not fit.
fn split_by_groups(table: &Table, width: usize) -> Option<Vec<Table>> {
    let spans: usize = table.groups.iter().map(|g| g.1).sum();
    if table.groups.len() < 3 || table.groups[0].1 != 1 || spans != table.header.len() {
        return None;
    }
    // Column ranges of the groups after the first.
    let mut ranges = Vec::new();
    let mut start = 1;
    for (_, span) in &table.groups[1..] {
        ranges.push((start, start + span));
        start += span;
    }
    let part = |groups: &[usize], first: bool| -> Table {
        let columns: Vec<usize> = std::iter::once(0)
            .chain(
                groups
                    .iter()
                    .flat_map(|&g| ranges[g].0..ranges[g].1)
                    .collect::<Vec<_>>(),
            )
            .collect();
        let pick = |row: &Vec<String>| -> Vec<String> {
            columns
                .iter()
                .map(|&c| row.get(c).cloned().unwrap_or_default())
                .collect()
        };
        Table {
            title: if first {
                table.title.clone()
            } else {
                format!("{} (continued)", table.title)
            },
            groups: std::iter::once(table.groups[0].clone())
                .chain(groups.iter().map(|&g| table.groups[g + 1].clone()))
                .collect(),
            header: pick(&table.header),
            rows: table.rows.iter().map(pick).collect(),
            notes: Vec::new(),
        }
    };
    let mut parts: Vec<Table> = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    for g in 0..ranges.len() {
        current.push(g);
        if widest(&part(&current, parts.is_empty()).grid_text()) > width {
            current.pop();
            if current.is_empty() {
                return None;
            }
            parts.push(part(&current, parts.is_empty()));
            current = vec![g];
            if widest(&part(&current, false).grid_text()) > width {
                return None;
            }
        }
    }
    parts.push(part(&current, parts.is_empty()));
    Some(parts)
}

/// A table too wide for any split: each row as its first cell, then `column: value` lines.
fn row_by_row(table: &Table, width: usize) -> String {
    let mut names = Vec::with_capacity(table.header.len());
    let mut groups = table
        .groups
        .iter()
        .flat_map(|(text, span)| std::iter::repeat_n(text.as_str(), *span));
    for column in &table.header {
        let group = groups.next().unwrap_or("");
        names.push(if group.is_empty() {
            column.clone()
        } else {
            format!("{group} {column}")
        });
    }
    let mut out = String::new();
    out.push_str(&title(&table.title, width));
    for row in &table.rows {
        let Some((first, rest)) = row.split_first() else {
            continue;
        };
        out.push_str(&wrap(first, width, 2));
        for (name, cell) in names.iter().skip(1).zip(rest) {
            if !cell.is_empty() {
                out.push_str(&wrap(&format!("  {name}: {cell}"), width, 4));
            }
        }
    }
    out
}

/// What the terminal shows: tables fitted to a width, or all of them with `--wide`.
pub struct Terminal(pub Layout);

impl Exporter for Terminal {
    type Output = String;
    fn export(&self, model: &ReportModel<'_>) -> anyhow::Result<String> {
        Ok(render(model, self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wide_table(labels: usize) -> Table {
        let mut groups = vec![(String::new(), 1)];
        let mut header = vec!["threads".to_string()];
        let mut row = vec!["2".to_string()];
        for i in 0..labels {
            groups.push((format!("3.13.{i}t+gil"), 2));
            header.extend(["speedup".to_string(), "verdict".to_string()]);
            row.extend([
                "1.44 [1.26, 2.21]".to_string(),
                "oversubscribed".to_string(),
            ]);
        }
        Table {
            title: "parallel_compute (ops_per_sec, higher is better)".to_string(),
            groups,
            header,
            rows: vec![row],
            notes: vec!["a note long enough to be wrapped at forty columns, surely".to_string()],
        }
    }

    #[test]
    fn a_wide_table_splits_by_label_and_keeps_every_cell() {
        let table = wide_table(5);
        let text = fit(&table, 100);
        assert!(widest(&text) <= 100, "{text}");
        assert_eq!(text.matches("(continued)").count(), 2, "{text}");
        assert_eq!(text.matches("1.44 [1.26, 2.21]").count(), 5, "{text}");
        assert!(text.contains("=== parallel_compute (ops_per_sec, higher is better) ==="));
        // What fits stays one table.
        assert!(!fit(&wide_table(2), 100).contains("(continued)"));
    }

    #[test]
    fn a_table_no_split_fits_goes_row_by_row() {
        let text = fit(&wide_table(3), 40);
        assert!(widest(&text) <= 40, "{text}");
        assert_eq!(text.matches("1.44 [1.26, 2.21]").count(), 3, "{text}");
        assert!(text.contains("3.13.0t+gil speedup: 1.44"), "{text}");
    }
}
