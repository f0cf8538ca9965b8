//! The report model: what every output of a report is made from, derived once from the
//! analysis (the headline's sentences and the warnings a reader must see, as typed lists), and
//! the [`Exporter`] trait each output implements. Exporters render; they find nothing out.

use anyhow::Result;

use crate::analysis::Analysis;
use crate::analysis::warnings::{self, Warning};

use super::plot::Figure;
use super::terminal::Layout;

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

/// What the terminal shows: tables fitted to a width, or all of them with `--wide`.
pub struct Terminal(pub Layout);

impl Exporter for Terminal {
    type Output = String;
    fn export(&self, model: &ReportModel<'_>) -> Result<String> {
        Ok(super::terminal::render(model, self.0))
    }
}

/// `report.md`.
pub struct Markdown;

impl Exporter for Markdown {
    type Output = String;
    fn export(&self, model: &ReportModel<'_>) -> Result<String> {
        Ok(super::markdown::render(model))
    }
}

/// `results.csv`.
pub struct Csv;

impl Exporter for Csv {
    type Output = String;
    fn export(&self, model: &ReportModel<'_>) -> Result<String> {
        Ok(super::csv::render(model.analysis))
    }
}

/// A figure drawn both ways: SVG for the HTML report, PNG for everything else.
pub struct Drawn {
    pub figure: Figure,
    pub svg: String,
    pub png: Vec<u8>,
}

/// Every figure of the report.
pub struct Figures;

impl Exporter for Figures {
    type Output = Vec<Drawn>;
    fn export(&self, model: &ReportModel<'_>) -> Result<Vec<Drawn>> {
        super::plot::figures(model.analysis)
            .into_iter()
            .map(|figure| {
                Ok(Drawn {
                    svg: figure.svg(model.analysis)?,
                    png: figure.png(model.analysis)?,
                    figure,
                })
            })
            .collect()
    }
}

/// `report.html`, with the figures drawn for it.
pub struct Html<'f>(pub &'f [Drawn]);

impl Exporter for Html<'_> {
    type Output = String;
    fn export(&self, model: &ReportModel<'_>) -> Result<String> {
        super::html::render(model, self.0)
    }
}
