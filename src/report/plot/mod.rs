//! Figures, drawn with plotters: the seed notebook's plots and more, as SVG (for the HTML report)
//! and PNG (with an embedded font, so no system fonts are needed). Renderers return bytes.
//!
//! Every figure gives each label the same colour, draws thread counts on a log-2 axis, and marks
//! the ideal-scaling line and the machine's core count where they mean something.

mod axes;
mod bars;
mod pools;
mod regular;
mod scaling;
mod style;
mod threads;

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;

use pools::{draw_pools, pool_shape, pool_tests};
use regular::{draw_refcount, draw_regular, regular_times_drawn};
use scaling::{draw_detail, draw_grid, grid_shape, has_parallelism, scaling_tests};
use style::svg_to_png;
use threads::draw_threads;

use crate::analysis::Analysis;
use crate::workloads::Group;

pub(crate) use axes::{
    DrawResult, axis_label, ideal_line, legend, log2, threads_chart, with_legend_room,
};
pub(crate) use style::{FONT_FAMILY, label_colours, register_font, svg_document};

/// One figure of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figure {
    /// File stem: `scaling`, `scaling-parallel_compute`, `regular`, ...
    pub name: String,
    pub title: String,
    pub kind: FigureKind,
}

/// What a figure draws.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FigureKind {
    /// Speedup vs threads, one panel per scaling test (the seed's summary grid).
    ScalingGrid,
    /// One test in detail: speedup and the native metric vs threads, with 95% CIs.
    ScalingDetail(String),
    /// Regular tests: time per run and speedup against the baseline.
    Regular,
    /// Shared vs local reference counting at the highest thread count.
    RefCounting,
    /// Thread pools: cpu-bound vs io-bound, threads vs processes.
    Pools,
    /// Thread lifecycle phases per label.
    Threads,
}

/// The figures a results file has data for, in report order.
pub fn figures(results: &Analysis<'_>) -> Vec<Figure> {
    let tests = results.tests();
    let scaling: Vec<&String> = tests
        .iter()
        .filter(|t| results.group_of(t) == Group::Scaling)
        .collect();
    let mut figures = Vec::new();
    if !scaling.is_empty() {
        figures.push(Figure {
            name: "scaling".into(),
            title: "Speedup over the serial baseline, per scaling test".into(),
            kind: FigureKind::ScalingGrid,
        });
    }
    if tests.iter().any(|t| t == "ref_counting_shared")
        && tests.iter().any(|t| t == "ref_counting_local")
    {
        figures.push(Figure {
            name: "refcount".into(),
            title: "Reference counting at the highest thread count: shared vs local objects".into(),
            kind: FigureKind::RefCounting,
        });
    }
    if tests.iter().any(|t| results.group_of(t) == Group::Pool) {
        figures.push(Figure {
            name: "pools".into(),
            title: "Thread pools vs process pools, cpu-bound vs io-bound tasks".into(),
            kind: FigureKind::Pools,
        });
    }
    if !results.regular_tests().is_empty() {
        figures.push(Figure {
            name: "regular".into(),
            title: if regular_times_drawn(results) {
                format!(
                    "{}: time per run and speedup against the baseline",
                    results.regular_heading()
                )
            } else {
                format!(
                    "{}: speedup against the baseline",
                    results.regular_heading()
                )
            },
            kind: FigureKind::Regular,
        });
    }
    if tests.iter().any(|t| results.group_of(t) == Group::Threads) {
        figures.push(Figure {
            name: "threads".into(),
            title: "Thread lifecycle: where a thread's time goes (median µs)".into(),
            kind: FigureKind::Threads,
        });
    }
    for test in tests.iter().filter(|t| results.group_of(t).scales()) {
        figures.push(Figure {
            name: crate::format::slug(&format!("scaling-{test}")),
            title: format!("{test}: speedup and throughput vs threads, with 95% intervals"),
            kind: FigureKind::ScalingDetail(test.clone()),
        });
    }
    figures
}

impl Figure {
    /// Pixel size: grids get room for their panels.
    pub fn size(&self, results: &Analysis<'_>) -> (u32, u32) {
        match &self.kind {
            FigureKind::ScalingGrid => {
                let (rows, columns) = grid_shape(scaling_tests(results).len());
                ((500 * columns as u32).max(900), 60 + rows as u32 * 420)
            }
            FigureKind::Regular => {
                // One group per test and one for the geometric mean.
                let tests = results.regular_tests().len().max(1) as u32 + 1;
                let height = if regular_times_drawn(results) {
                    1000
                } else {
                    560
                };
                ((tests * 110 + 200).max(900), height)
            }
            FigureKind::Pools => {
                let (rows, _) = pool_shape(pool_tests(results).len());
                (1300, 60 + rows as u32 * 420)
            }
            FigureKind::ScalingDetail(test) if has_parallelism(results, test) => (1800, 560),
            FigureKind::ScalingDetail(_) | FigureKind::RefCounting | FigureKind::Threads => {
                (1300, 560)
            }
        }
    }

    /// The figure as an SVG document.
    pub fn svg(&self, results: &Analysis<'_>) -> Result<String> {
        svg_document(self.size(results), |root| self.draw(root, results))
    }

    /// The figure as PNG bytes: the SVG, rasterised by resvg with the same embedded font.
    /// (plotters' own bitmap backend misplaced glyphs: "3.13.15t" read "3.1 3.15t".)
    pub fn png(&self, results: &Analysis<'_>) -> Result<Vec<u8>> {
        svg_to_png(&self.svg(results)?)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        results: &Analysis<'_>,
    ) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        // Both backends measure text with the embedded font.
        register_font()?;
        root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
        let area = root
            .titled(&self.title, (FONT_FAMILY, 24))
            .map_err(|e| anyhow!("{e}"))?;
        let drawn = match &self.kind {
            FigureKind::ScalingGrid => draw_grid(&area, results),
            FigureKind::ScalingDetail(test) => draw_detail(&area, results, test),
            FigureKind::Regular => draw_regular(&area, results),
            FigureKind::RefCounting => draw_refcount(&area, results),
            FigureKind::Pools => draw_pools(&area, results),
            FigureKind::Threads => draw_threads(&area, results),
        };
        drawn.map_err(|e| anyhow!("failed to draw figure `{}`: {e}", self.name))
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

impl super::model::Exporter for Figures {
    type Output = Vec<Drawn>;
    fn export(&self, model: &super::model::ReportModel<'_>) -> anyhow::Result<Vec<Drawn>> {
        figures(model.analysis)
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

#[cfg(test)]
mod layout_tests {
    use super::axes::{axis_label, with_legend_room};
    use super::pools::pool_shape;
    use super::scaling::grid_shape;
    use super::style::{svg_to_png, xml_safe};

    /// Decode a PNG into (width, height, RGBA bytes).
    fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
            .read_info()
            .unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut pixels).unwrap();
        assert_eq!(info.color_type, png::ColorType::Rgba);
        (info.width, info.height, pixels)
    }

    #[test]
    fn png_text_keeps_its_glyphs_together() {
        // plotters' bitmap backend drew "3.13.15t" as "3.1 3.15t": a gap as wide as a glyph.
        let svg = r##"<svg width="400" height="80" xmlns="http://www.w3.org/2000/svg"><rect width="400" height="80" fill="#FFFFFF"/><text x="10" y="55" font-family="sans-serif" font-size="40" fill="#000000">3.13.15t</text></svg>"##;
        let (width, height, pixels) = decode(&svg_to_png(svg).unwrap());
        assert_eq!((width, height), (400, 80));
        let inked: Vec<bool> = (0..width as usize)
            .map(|x| (0..height as usize).any(|y| pixels[(y * width as usize + x) * 4] < 128))
            .collect();
        let first = inked.iter().position(|&i| i).expect("the text is drawn");
        let last = inked.iter().rposition(|&i| i).unwrap();
        // Eight glyphs at 40 px: about 150 px of text.
        assert!((120..200).contains(&(last - first)), "{first}..{last}");
        let widest_gap = inked[first..=last]
            .split(|&i| i)
            .map(<[bool]>::len)
            .max()
            .unwrap();
        // Around a '.' the gaps are ~8 px; a missing glyph's worth would be over 20.
        assert!(widest_gap <= 12, "a {widest_gap} px gap inside the text");
    }

    #[test]
    fn the_legend_gets_a_strip_of_its_own_and_zero_is_zero() {
        // 3 legend lines in a 560 px panel: the data stays below the legend's strip.
        let top = with_legend_room(2.0, 3, 560);
        let legend_share = (16.0 + 17.0 * 3.0) / (560.0 - 90.0);
        assert!(2.0 / top <= 1.0 - legend_share, "{top}");
        assert!(top < 3.0, "{top}: not more room than needed");
        assert_eq!(axis_label(0.0, crate::format::seconds), "0");
        assert_eq!(axis_label(0.0, crate::format::human), "0");
        assert_eq!(axis_label(0.5, crate::format::seconds), "500 ms");
    }

    #[test]
    fn control_characters_in_labels_do_not_break_the_svg() {
        let svg = "<svg width=\"10\" height=\"10\" xmlns=\"http://www.w3.org/2000/svg\"><text>3.13t\u{1b}[2J\u{7}</text></svg>";
        let safe = xml_safe(svg);
        assert_eq!(
            safe,
            "<svg width=\"10\" height=\"10\" xmlns=\"http://www.w3.org/2000/svg\"><text>3.13t\\u{1b}[2J\\u{7}</text></svg>"
        );
        svg_to_png(&safe).unwrap();
        assert!(svg_to_png(svg).is_err(), "the raw escape is not XML");
    }

    #[test]
    fn grids_leave_no_empty_row_or_column() {
        assert_eq!(grid_shape(1), (1, 1));
        assert_eq!(grid_shape(2), (1, 2));
        assert_eq!(grid_shape(3), (1, 3));
        assert_eq!(grid_shape(4), (2, 2));
        assert_eq!(grid_shape(6), (2, 3));
        assert_eq!(grid_shape(7), (3, 3));
        assert_eq!(pool_shape(2), (1, 2));
        assert_eq!(pool_shape(4), (2, 2));
    }
}
