//! The report model: what every output of a report is made from, derived once from the
//! analysis (the headline's sentences and the warnings a reader must see, as typed lists), and
//! the [`Exporter`] trait each output implements in its own file (`terminal.rs`,
//! `markdown.rs`, `html.rs`, `csv.rs`, the figures in `plot/`). Exporters render; they find
//! nothing out. This file imports no other file of the report, so none imports it back.

use anyhow::Result;

use crate::analysis::Analysis;
use crate::analysis::warnings::{self, Warning};

/// What a report shows, derived once.
pub struct ReportModel<'a> {
    /// The numbers: series, speedups, verdicts, entries.
    pub analysis: &'a Analysis<'a>,
    /// "In short": the sentences a reader should take away.
    pub headline: Vec<String>,
    /// Warnings a reader must see before trusting the numbers (what was not measured among
    /// them).
    pub warnings: Vec<Warning>,
}

impl<'a> ReportModel<'a> {
    pub fn of(analysis: &'a Analysis<'a>) -> Self {
        Self {
            analysis,
            headline: crate::analysis::headline::headline(analysis),
            warnings: warnings::all(analysis),
        }
    }

    /// What was not measured, among the warnings: skipped and failed tests, grouped.
    pub fn missing(&self) -> Vec<&Warning> {
        self.warnings
            .iter()
            .filter(|w| matches!(w, Warning::Missing { .. }))
            .collect()
    }
}

/// One output of a report, rendered from the model.
pub trait Exporter {
    type Output;
    fn export(&self, model: &ReportModel<'_>) -> Result<Self::Output>;
}
