//! A table as data (title, header groups, header, rows, notes) and its layouts: aligned text
//! columns for the terminal, and Markdown. What goes in the tables is `table`'s.

use std::fmt::Write;

use serde::Serialize;

/// One table: a title, header groups spanning label columns, a header, rows, and notes below.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    pub title: String,
    /// `(text, columns spanned)` over the header; empty when the table has no groups.
    pub groups: Vec<(String, usize)>,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub notes: Vec<String>,
}

/// Lay out rows of cells in columns, the first left-aligned, the rest right-aligned.
pub fn grid(rows: &[Vec<String>]) -> String {
    grid_aligned(rows, 1)
}

/// The width of each column: its widest cell, in characters.
pub fn column_widths(rows: &[Vec<String>]) -> Vec<usize> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect()
}

/// Lay out rows of cells in columns, the first `left` columns left-aligned.
pub fn grid_aligned(rows: &[Vec<String>], left: usize) -> String {
    let widths = column_widths(rows);
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            // Padded by hand: `{:<w$}` panics for widths above 65 535, and a cell is data.
            let pad = " ".repeat(widths[c].saturating_sub(cell.chars().count()));
            if c > 0 {
                line.push_str("  ");
            }
            if c < left.max(1) {
                line.push_str(cell);
                line.push_str(&pad);
            } else {
                line.push_str(&pad);
                line.push_str(cell);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

impl Table {
    /// The table as aligned plain text with every column, its notes below.
    pub fn to_text(&self) -> String {
        let mut out = self.body_text();
        for note in &self.notes {
            out.push_str(note);
            out.push('\n');
        }
        out
    }

    /// The title and the aligned columns, without the notes.
    pub fn body_text(&self) -> String {
        format!("\n=== {} ===\n{}", self.title, self.grid_text())
    }

    /// The aligned columns alone: the header groups, the header and the rows.
    pub fn grid_text(&self) -> String {
        let mut rows = Vec::new();
        if !self.groups.is_empty() {
            let mut group_row = Vec::new();
            for (text, span) in &self.groups {
                group_row.push(text.clone());
                group_row.extend(std::iter::repeat_n(String::new(), span.saturating_sub(1)));
            }
            rows.push(group_row);
        }
        rows.push(self.header.clone());
        rows.extend(self.rows.iter().cloned());
        grid(&rows)
    }

    /// The table in GitHub-flavoured Markdown; header groups are folded into the header cells.
    pub fn to_markdown(&self) -> String {
        let mut header = self.header.clone();
        let mut column = 0;
        for (text, span) in &self.groups {
            for cell in header.iter_mut().skip(column).take(*span) {
                if !text.is_empty() {
                    *cell = format!("{text} · {cell}");
                }
            }
            column += span;
        }
        let escape = |cell: &String| crate::output::markdown_escape(cell);
        let mut out = format!("### {}\n\n", crate::output::markdown_escape(&self.title));
        let _ = writeln!(
            out,
            "| {} |",
            header.iter().map(escape).collect::<Vec<_>>().join(" | ")
        );
        let _ = writeln!(
            out,
            "|{}",
            header
                .iter()
                .enumerate()
                .map(|(i, _)| if i == 0 { " --- |" } else { " ---: |" })
                .collect::<String>()
        );
        for row in &self.rows {
            let _ = writeln!(
                out,
                "| {} |",
                row.iter().map(escape).collect::<Vec<_>>().join(" | ")
            );
        }
        if !self.notes.is_empty() {
            out.push('\n');
            for note in &self.notes {
                let _ = writeln!(out, "{}  ", crate::output::markdown_escape(note));
            }
        }
        out
    }
}

#[cfg(test)]
mod width_tests {
    use super::*;

    #[test]
    fn a_cell_wider_than_any_format_width_is_laid_out_without_panicking() {
        let huge = "x".repeat(70_000);
        let rows = vec![
            vec!["label".to_string(), "value".to_string()],
            vec![huge.clone(), "1".to_string()],
        ];
        let text = grid(&rows);
        assert!(text.lines().nth(1).unwrap().starts_with(&huge));
        assert_eq!(text.lines().next().unwrap().len(), 70_000 + 2 + 5);
    }
}
