//! Figures, drawn with plotters: the seed notebook's plots and more, as SVG (for the HTML report)
//! and PNG (with an embedded font, so no system fonts are needed). Renderers return bytes.
//!
//! Every figure gives each label the same colour, draws thread counts on a log-2 axis, and marks
//! the ideal-scaling line and the machine's core count where they mean something.

use std::fmt::Write as _;

use anyhow::{Context, Result, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::model::PHASES;
use crate::analysis::Analysis;
use crate::stats::Estimate;
use crate::workloads::Group;

const FONT: &[u8] = include_bytes!("fonts/DejaVuSans.ttf");
pub(super) const FONT_FAMILY: &str = "sans-serif";
/// The family name inside the embedded font file.
const EMBEDDED_FAMILY: &str = "DejaVu Sans";

/// Colour families (Tableau shades): a label's colour says what it is, so a reader knows a curve
/// without the legend, and the same label has the same colour in every report.
const FREE_THREADED: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(23, 190, 207),
    RGBColor(57, 59, 121),
    RGBColor(107, 174, 214),
];
/// A free-threaded build with the GIL forced on (`+gil`).
const GIL_FORCED: [RGBColor; 4] = [
    RGBColor(255, 127, 14),
    RGBColor(214, 39, 40),
    RGBColor(253, 174, 107),
    RGBColor(166, 54, 3),
];
const GIL_BUILD: [RGBColor; 5] = [
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(188, 189, 34),
    RGBColor(227, 119, 194),
];
const GREY: RGBColor = RGBColor(150, 150, 150);

/// Every label's colour, in label order: native black; free-threaded labels blue shades, `+gil`
/// variants orange/red, GIL builds green/purple/brown. Within a family a stable hash of the label
/// picks the shade (the next free one if an earlier label of the file took it), so a label keeps
/// its colour from report to report.
pub fn label_colours(variants: &[crate::results::VariantRecord]) -> Vec<RGBColor> {
    let mut used: Vec<RGBColor> = Vec::new();
    variants
        .iter()
        .map(|v| {
            if v.source == crate::interpreter::InterpreterSource::Native {
                return BLACK;
            }
            let family: &[RGBColor] = match (v.info.free_threaded, v.expects_gil) {
                (true, false) => &FREE_THREADED,
                (true, true) => &GIL_FORCED,
                _ => &GIL_BUILD,
            };
            let hash = crate::format::stable_hash(&v.label);
            let start = (hash % family.len() as u64) as usize;
            let colour = (0..family.len())
                .map(|k| family[(start + k) % family.len()])
                .find(|c| !used.contains(c))
                .unwrap_or(family[start]);
            used.push(colour);
            colour
        })
        .collect()
}

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

/// An SVG document of `size` pixels, as `draw` draws it (safe for XML, see [`xml_safe`]).
pub(super) fn svg_document(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<()>,
) -> Result<String> {
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, size).into_drawing_area();
        draw(&root)?;
        root.present().map_err(|e| anyhow!("{e}"))?;
    }
    Ok(xml_safe(&text))
}

/// An SVG document without the characters XML forbids (C0 controls other than tab, newline and
/// carriage return, and U+FFFE/U+FFFF): labels come from results files, which may come from
/// anyone, and one escape character makes the whole document unreadable. Each is written as
/// its visible escape (`\u{1b}`), as the terminal output does.
pub(super) fn xml_safe(svg: &str) -> String {
    if !svg.chars().any(forbidden_in_xml) {
        return svg.to_string();
    }
    let mut out = String::with_capacity(svg.len());
    for c in svg.chars() {
        if forbidden_in_xml(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

fn forbidden_in_xml(c: char) -> bool {
    (c < ' ' && !matches!(c, '\t' | '\n' | '\r'))
        || matches!(c, '\u{fffe}' | '\u{ffff}')
        // Not forbidden by XML, but they would turn a label around inside the report's page.
        || crate::output::bidirectional(c)
}

/// Rasterise an SVG document to PNG bytes (RGBA), with the embedded font for every family.
fn svg_to_png(svg: &str) -> Result<Vec<u8>> {
    // Loading the embedded font takes a fraction of a millisecond: each figure gets its own
    // database rather than a global one.
    let mut fonts = resvg::usvg::fontdb::Database::new();
    fonts.load_font_data(FONT.to_vec());
    fonts.set_sans_serif_family(EMBEDDED_FAMILY);
    let fontdb = std::sync::Arc::new(fonts);
    let options = resvg::usvg::Options {
        font_family: EMBEDDED_FAMILY.to_string(),
        fontdb,
        ..resvg::usvg::Options::default()
    };
    let tree =
        resvg::usvg::Tree::from_str(svg, &options).context("the figure's SVG does not parse")?;
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height())
        .context("the figure has no area")?;
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::default(),
        &mut pixmap.as_mut(),
    );
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, size.width(), size.height());
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    // The background is opaque white, so premultiplied and straight alpha are the same bytes.
    encoder
        .write_header()
        .and_then(|mut writer| writer.write_image_data(pixmap.data()))
        .context("failed to encode a PNG")?;
    Ok(bytes)
}

/// Give plotters the embedded font. Its registry is plotters' own (global by its design);
/// registering the same bytes again replaces them, so each drawing registers without a flag.
pub(super) fn register_font() -> Result<()> {
    let ok = plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT).is_ok()
        && plotters::style::register_font(FONT_FAMILY, FontStyle::Bold, FONT).is_ok();
    ok.then_some(())
        .ok_or_else(|| anyhow!("the embedded font does not load"))
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

/// One label's curve: a solid line in its colour, or for native a dashed black line, named a
/// ceiling only where it bounds the Python work of `test`.
fn curve<DB: DrawingBackend>(
    chart: &mut ChartContext<
        '_,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    points: &[(f64, f64)],
    results: &Analysis<'_>,
    index: usize,
    test: &str,
) -> DrawResult<DB> {
    let label = &results.labels()[index];
    let colour = label_colours(results.variants())[index];
    if results.is_native(label) {
        chart
            .draw_series(DashedLineSeries::new(
                points.to_vec(),
                10,
                5,
                BLACK.stroke_width(2),
            ))?
            .label(format!(
                "{label} ({})",
                if results.native_is_ceiling(test) {
                    "ceiling"
                } else {
                    "reference"
                }
            ))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLACK.stroke_width(2)));
    } else {
        chart
            .draw_series(LineSeries::new(points.to_vec(), colour.stroke_width(2)))?
            .label(label.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
            });
    }
    Ok(())
}

/// The model's fitted curve in the label's colour with its 95% band: thin within the thread
/// counts it was fitted on, dashed beyond them (a prediction).
fn fitted_curve<DB: DrawingBackend>(
    chart: &mut ChartContext<
        '_,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    fit: &crate::analysis::model::Fit,
    colour: RGBColor,
    y_max: f64,
) -> DrawResult<DB> {
    let fitted_to = f64::from(fit.thread_counts.iter().copied().max().unwrap_or(1));
    let at = |n: f64, v: f64| (n.log2(), v.min(y_max));
    let mut band: Vec<(f64, f64)> = fit.curve.iter().map(|(n, e)| at(*n, e.high)).collect();
    band.extend(fit.curve.iter().rev().map(|(n, e)| at(*n, e.low)));
    chart.draw_series(std::iter::once(Polygon::new(
        band,
        colour.mix(0.12).filled(),
    )))?;
    let (inside, beyond): (Vec<_>, Vec<_>) = fit
        .curve
        .iter()
        .map(|(n, e)| (*n, at(*n, e.value)))
        .partition(|(n, _)| *n <= fitted_to + 1e-9);
    let inside: Vec<(f64, f64)> = inside.into_iter().map(|(_, p)| p).collect();
    chart.draw_series(LineSeries::new(
        inside.clone(),
        colour.mix(0.7).stroke_width(1),
    ))?;
    if !beyond.is_empty() {
        let mut beyond: Vec<(f64, f64)> = beyond.into_iter().map(|(_, p)| p).collect();
        if let Some(last) = inside.last() {
            beyond.insert(0, *last);
        }
        chart.draw_series(DashedLineSeries::new(
            beyond,
            4,
            4,
            colour.mix(0.7).stroke_width(1),
        ))?;
    }
    Ok(())
}

pub(super) type DrawResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn scaling_tests(results: &Analysis<'_>) -> Vec<String> {
    results
        .tests()
        .into_iter()
        .filter(|t| results.group_of(t) == Group::Scaling)
        .collect()
}

/// `log2(n)`: thread counts go on a log-2 axis.
pub(super) fn log2(n: u32) -> f64 {
    f64::from(n).log2()
}

fn thread_label(x: &f64) -> String {
    format!("{}", 2f64.powf(*x).round())
}

/// The chart context every thread-axis panel draws on.
pub(super) type ThreadChart<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// A panel with thread counts on a log-2 x axis and `y_desc` from 0 to `y_max`.
pub(super) fn threads_chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    caption: &str,
    max_threads: u32,
    y_max: f64,
    axes: (&str, &str),
    y_format: &dyn Fn(&f64) -> String,
) -> std::result::Result<ThreadChart<'a, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    let mut chart = ChartBuilder::on(area)
        .caption(caption, (FONT_FAMILY, 18))
        .margin(12)
        .x_label_area_size(38)
        .y_label_area_size(66)
        .build_cartesian_2d(-0.2f64..log2(max_threads) + 0.2, 0f64..y_max)?;
    chart
        .configure_mesh()
        .x_labels(log2(max_threads) as usize + 1)
        .x_label_formatter(&thread_label)
        .y_label_formatter(y_format)
        .x_desc(axes.0)
        .y_desc(axes.1)
        .label_style((FONT_FAMILY, 13))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    Ok(chart)
}

/// The legend box, top left, the same in every panel.
pub(super) fn legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut ThreadChart<'a, DB>,
) -> DrawResult<DB> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font((FONT_FAMILY, 12))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .draw()
}

/// The top of a panel's y axis: `data_max`, with a strip above it kept free for a legend of
/// `entries` lines, so that the legend never covers a point, a bar or an error bar.
pub(super) fn with_legend_room(data_max: f64, entries: usize, area_height: u32) -> f64 {
    // Caption, margins and the x labels take about 90 px of a panel.
    let plot = (f64::from(area_height) - 90.0).max(100.0);
    let legend = 16.0 + 17.0 * entries as f64;
    data_max / (1.0 - legend / plot - 0.03).max(0.4)
}

/// Ideal scaling, speedup = threads, at the powers of two up to the top of the panel: joined
/// the way measured points are joined.
pub(super) fn ideal_line(max_threads: u32, y_max: f64) -> Vec<(f64, f64)> {
    (0..=log2(max_threads) as u32)
        .map(|e| (f64::from(e), 2f64.powf(f64::from(e))))
        .filter(|(_, y)| *y <= y_max)
        .collect()
}

/// An axis label: zero is "0" whatever the unit (not "0.00 ns").
pub(super) fn axis_label(value: f64, format: impl Fn(f64) -> String) -> String {
    if value.abs() < f64::EPSILON {
        "0".to_string()
    } else {
        format(value)
    }
}

/// Every label's curve of `test`, with the label's index (its colour).
fn series_of(results: &Analysis<'_>, test: &str) -> Vec<(usize, crate::analysis::Series)> {
    results
        .labels()
        .iter()
        .enumerate()
        .filter_map(|(i, l)| results.series(test, l).map(|s| (i, s)))
        .collect()
}

fn max_threads(series: &[(usize, crate::analysis::Series)]) -> u32 {
    series
        .iter()
        .flat_map(|(_, s)| s.points.iter().map(|p| p.thread_count))
        .max()
        .unwrap_or(1)
        .max(2)
}

/// One panel: speedup vs threads for every label of `test`, the ideal line and the core count.
fn speedup_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    results: &Analysis<'_>,
    test: &str,
    with_ci: bool,
) -> DrawResult<DB> {
    let series = series_of(results, test);
    let max_threads = max_threads(&series);
    let max_speedup = series
        .iter()
        .flat_map(|(_, s)| s.points.iter().filter_map(|p| p.speedup.map(|v| v.high)))
        .fold(1.0f64, f64::max);
    let cores = results.system().logical_cores as u32;
    let y_max = with_legend_room(
        (max_speedup * 1.05).max(1.1),
        series.len() + 1,
        area.dim_in_pixel().1,
    );
    let mut chart = threads_chart(
        area,
        test,
        max_threads,
        y_max,
        (x_axis(results, test), "speedup (x serial)"),
        &|v| axis_label(*v, |v| format!("{v:.1}")),
    )?;
    let ideal = ideal_line(max_threads, y_max);
    chart
        .draw_series(DashedLineSeries::new(ideal, 6, 4, GREY.stroke_width(1)))?
        .label("ideal")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], GREY));
    if cores >= 1 && cores <= max_threads {
        let x = log2(cores);
        chart.draw_series(DashedLineSeries::new(
            vec![(x, 0.0), (x, y_max)],
            3,
            5,
            BLACK.mix(0.4).stroke_width(1),
        ))?;
        // At the bottom: the top strip belongs to the legend.
        chart.draw_series(std::iter::once(Text::new(
            format!("{cores} cores"),
            (x + 0.05, y_max * 0.05),
            (FONT_FAMILY, 12),
        )))?;
    }
    chart.draw_series(LineSeries::new(
        vec![(-0.2, 1.0), (log2(max_threads) + 0.2, 1.0)],
        BLACK.mix(0.15),
    ))?;
    for (index, s) in &series {
        let colour = label_colours(results.variants())[*index];
        let points: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter_map(|p| p.speedup.map(|v| (log2(p.thread_count), v.value)))
            .collect();
        curve(&mut chart, &points, results, *index, test)?;
        if let Some(crate::analysis::model::Model::Described(fit)) = &s.model {
            fitted_curve(&mut chart, fit, colour, y_max)?;
        }
        chart.draw_series(points.iter().map(|p| Circle::new(*p, 3, colour.filled())))?;
        if with_ci {
            chart.draw_series(s.points.iter().filter_map(|p| {
                p.speedup.map(
                    |Estimate {
                         value: v,
                         low,
                         high,
                     }| {
                        ErrorBar::new_vertical(
                            log2(p.thread_count),
                            low,
                            v,
                            high,
                            colour.stroke_width(1),
                            8,
                        )
                    },
                )
            }))?;
        }
    }
    legend(&mut chart)?;
    Ok(())
}

fn draw_grid<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    results: &Analysis<'_>,
) -> DrawResult<DB> {
    let tests = scaling_tests(results);
    let (rows, columns) = grid_shape(tests.len());
    let panels = area.split_evenly((rows, columns));
    for (test, panel) in tests.iter().zip(panels.iter()) {
        speedup_panel(panel, results, test, false)?;
    }
    Ok(())
}

fn draw_detail<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    results: &Analysis<'_>,
    test: &str,
) -> DrawResult<DB> {
    let with_parallelism = has_parallelism(results, test);
    let panels = area.split_evenly((1, if with_parallelism { 3 } else { 2 }));
    speedup_panel(&panels[0], results, test, true)?;
    let metric = results.metric_of(test);
    throughput_panel(
        &panels[1],
        results,
        test,
        &format!("{metric} (higher is better)"),
        (x_axis(results, test), &metric),
        true,
    )?;
    if with_parallelism {
        parallelism_panel(&panels[2], results, test)?;
    }
    Ok(())
}

/// What the x axis of `test` counts: worker processes for process pools (`pools.png` says so
/// too), threads otherwise.
fn x_axis(results: &Analysis<'_>, test: &str) -> &'static str {
    if results.info(test).uses_processes() {
        "worker processes (log2 axis)"
    } else {
        "threads (log2 axis)"
    }
}

/// Whether any point of `test` has effective parallelism (files measured with CPU accounting).
fn has_parallelism(results: &Analysis<'_>, test: &str) -> bool {
    results.labels().iter().any(|label| {
        results
            .series(test, label)
            .is_some_and(|s| s.points.iter().any(|p| p.parallelism.is_some()))
    })
}

/// Effective parallelism (CPU-seconds of the timed threads per wall-second) vs threads, with the
/// line where every thread ran all the time.
fn parallelism_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    results: &Analysis<'_>,
    test: &str,
) -> DrawResult<DB> {
    let series = series_of(results, test);
    let max_threads = max_threads(&series);
    let y_max = with_legend_room(
        series
            .iter()
            .flat_map(|(_, s)| s.points.iter().filter_map(|p| p.parallelism))
            .fold(f64::from(max_threads), f64::max)
            * 1.03,
        series.len() + 1,
        area.dim_in_pixel().1,
    );
    let mut chart = threads_chart(
        area,
        "effective parallelism (CPUs busy running the threads)",
        max_threads,
        y_max,
        (x_axis(results, test), "CPU-seconds per second"),
        &|v| axis_label(*v, |v| format!("{v:.1}")),
    )?;
    let all_running: Vec<(f64, f64)> = (0..=log2(max_threads) as u32)
        .map(|k| (f64::from(k), f64::from(1u32 << k)))
        .collect();
    chart
        .draw_series(DashedLineSeries::new(
            all_running,
            6,
            4,
            GREY.stroke_width(1),
        ))?
        .label("every thread running")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], GREY.stroke_width(1)));
    for (index, s) in &series {
        let points: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter_map(|p| Some((log2(p.thread_count), p.parallelism?)))
            .collect();
        if points.is_empty() {
            continue;
        }
        curve(&mut chart, &points, results, *index, test)?;
    }
    legend(&mut chart)
}

/// Throughput vs threads for every Python label of `test`, with 95% error bars or markers.
fn throughput_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    results: &Analysis<'_>,
    test: &str,
    caption: &str,
    axes: (&str, &str),
    with_ci: bool,
) -> DrawResult<DB> {
    let labels = results.labels();
    // Rust's throughput would flatten every Python curve here; the ceiling is in the speedup.
    let series: Vec<_> = series_of(results, test)
        .into_iter()
        .filter(|(i, _)| !results.is_native(&labels[*i]))
        .collect();
    if series.is_empty() {
        return Ok(());
    }
    let max_threads = max_threads(&series);
    let y_max = with_legend_room(
        series
            .iter()
            .flat_map(|(_, s)| s.points.iter().map(|p| p.value.ci_high))
            .fold(0.0f64, f64::max)
            * 1.05,
        series.len(),
        area.dim_in_pixel().1,
    );
    let mut chart = threads_chart(area, caption, max_threads, y_max.max(1.0), axes, &|v| {
        axis_label(*v, crate::format::human)
    })?;
    for (index, s) in &series {
        let colour = label_colours(results.variants())[*index];
        let points: Vec<(f64, f64)> = s
            .points
            .iter()
            .map(|p| (log2(p.thread_count), p.value.median))
            .collect();
        curve(&mut chart, &points, results, *index, test)?;
        if with_ci {
            chart.draw_series(s.points.iter().map(|p| {
                ErrorBar::new_vertical(
                    log2(p.thread_count),
                    p.value.ci_low,
                    p.value.median,
                    p.value.ci_high,
                    colour.stroke_width(1),
                    8,
                )
            }))?;
        } else {
            chart.draw_series(points.iter().map(|p| Circle::new(*p, 3, colour.filled())))?;
        }
    }
    legend(&mut chart)
}

/// Over one bar at x = `centre`: its 95% interval as a plain whisker with caps (plotters'
/// `ErrorBar` adds a marker on the bar top), and its value label above both.
fn whisker_and_label<DB: DrawingBackend>(
    chart: &mut ThreadChart<'_, DB>,
    centre: f64,
    cap: f64,
    value: f64,
    interval: Option<(f64, f64)>,
    label: Option<String>,
) -> DrawResult<DB> {
    if let Some((low, high)) = interval {
        let ink = BLACK.mix(0.7).stroke_width(1);
        chart.draw_series([
            PathElement::new(vec![(centre, low), (centre, high)], ink),
            PathElement::new(vec![(centre - cap, low), (centre + cap, low)], ink),
            PathElement::new(vec![(centre - cap, high), (centre + cap, high)], ink),
        ])?;
    }
    if let Some(label) = label {
        let top = interval.map_or(value, |(_, high)| high.max(value));
        let y_max = chart.y_range().end;
        let style = TextStyle::from((FONT_FAMILY, 10).into_font())
            .pos(Pos::new(HPos::Center, VPos::Bottom));
        chart.draw_series(std::iter::once(Text::new(
            label,
            (centre, top + y_max * 0.008),
            style,
        )))?;
    }
    Ok(())
}

/// Grouped bars: `groups` along x, one bar per label within each group, with value labels.
struct Bars {
    caption: String,
    y_desc: String,
    groups: Vec<String>,
    /// `values[group][label]`, `None` where there is no number.
    values: Vec<Vec<Option<f64>>>,
    /// 95% intervals, the same shape as `values` (empty: none drawn).
    intervals: Vec<Vec<Option<(f64, f64)>>>,
    format: fn(f64) -> String,
    reference: Option<f64>,
}

impl Bars {
    /// The highest value, interval end or reference line: the axis must hold it.
    fn top(&self) -> f64 {
        self.values
            .iter()
            .flatten()
            .flatten()
            .copied()
            .chain(self.intervals.iter().flatten().flatten().map(|i| i.1))
            .fold(self.reference.unwrap_or(0.0), f64::max)
    }

    /// Whether label `l` has a bar in any group (one without is left out of the legend).
    fn has_bar(&self, l: usize) -> bool {
        self.values
            .iter()
            .any(|row| row.get(l).is_some_and(Option::is_some))
    }
}

/// `[group][label]` grids of bar heights and of their 95% intervals.
type Heights = Vec<Vec<Option<f64>>>;
type Intervals = Vec<Vec<Option<(f64, f64)>>>;

/// Bar heights and their 95% intervals, from one estimate per cell.
fn heights_and_intervals(cells: &[Vec<Option<Estimate>>]) -> (Heights, Intervals) {
    let heights = cells
        .iter()
        .map(|row| row.iter().map(|c| c.map(|e| e.value)).collect())
        .collect();
    let intervals = cells
        .iter()
        .map(|row| row.iter().map(|c| c.map(|e| (e.low, e.high))).collect())
        .collect();
    (heights, intervals)
}

fn draw_bars<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    bars: &Bars,
    labels: &[String],
    colours: &[RGBColor],
) -> DrawResult<DB> {
    let highest = bars.top();
    let drawn_labels = (0..labels.len()).filter(|l| bars.has_bar(*l)).count();
    let (area_width, area_height) = area.dim_in_pixel();
    // Room above the tallest bar for its value label, then for the legend.
    let y_max = with_legend_room(highest * 1.08, drawn_labels, area_height);
    let n = bars.groups.len() as f64;
    let groups = bars.groups.clone();
    let mut chart = ChartBuilder::on(area)
        .caption(&bars.caption, (FONT_FAMILY, 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..n, 0f64..y_max.max(1e-12))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(groups.len() * 2 + 1)
        .x_label_formatter(&move |x| {
            let centre = x - x.floor();
            if (centre - 0.5).abs() < 1e-6 {
                groups.get(x.floor() as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|v| axis_label(*v, bars.format))
        .y_desc(bars.y_desc.clone())
        .label_style((FONT_FAMILY, 12))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    let width = 0.8 / labels.len().max(1) as f64;
    // Value labels only where they fit over their bar (about 6 px per character at 10 px);
    // the tables carry every number.
    let bar_px = (f64::from(area_width) - 100.0) / n.max(1.0) * width;
    for (g, row) in bars.values.iter().enumerate() {
        for (l, value) in row.iter().enumerate() {
            let Some(value) = value else { continue };
            let x0 = g as f64 + 0.1 + l as f64 * width;
            let colour = colours[l];
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x0, 0.0), (x0 + width * 0.92, *value)],
                colour.filled(),
            )))?;
            let interval = bars
                .intervals
                .get(g)
                .and_then(|row| row.get(l).copied().flatten());
            let text = (bars.format)(*value);
            // Value labels only where they fit over their bar.
            let label = (bar_px >= 6.0 * text.chars().count() as f64).then_some(text);
            let centre = x0 + width * 0.46;
            whisker_and_label(&mut chart, centre, width * 0.15, *value, interval, label)?;
        }
    }
    if let Some(reference) = bars.reference {
        chart.draw_series(DashedLineSeries::new(
            vec![(0.0, reference), (n, reference)],
            6,
            4,
            BLACK.mix(0.5).stroke_width(1),
        ))?;
    }
    // A label without a single bar (native in the regular suite) is not in the legend.
    for (l, label) in labels.iter().enumerate().filter(|(l, _)| bars.has_bar(*l)) {
        let colour = colours[l];
        chart
            .draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())?
            .label(label.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], colour.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font((FONT_FAMILY, 12))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .draw()?;
    Ok(())
}

/// How many times the slowest test's time may be the fastest's before the time panel is left
/// out: on a linear axis the short ones would be invisible (pyperformance's benchmarks run from
/// microseconds to half a second), and the speedups say it all.
const REGULAR_TIME_SPREAD: f64 = 100.0;

/// Whether the regular figure draws the tests' times: not where they span more than
/// [`REGULAR_TIME_SPREAD`].
fn regular_times_drawn(results: &Analysis<'_>) -> bool {
    let medians: Vec<f64> = results
        .regular_tests()
        .iter()
        .flat_map(|t| {
            results
                .labels()
                .into_iter()
                .filter_map(move |l| results.regular(t, &l))
        })
        .map(|e| e.duration.median)
        .filter(|m| *m > 0.0)
        .collect();
    let (low, high) = medians
        .iter()
        .fold((f64::INFINITY, 0.0_f64), |(lo, hi), m| {
            (lo.min(*m), hi.max(*m))
        });
    medians.is_empty() || high / low <= REGULAR_TIME_SPREAD
}

/// The regular tests as bar groups: a test some label ran with the GIL in the wrong state says
/// so under its bars.
fn regular_groups(results: &Analysis<'_>, tests: &[String], labels: &[String]) -> Vec<String> {
    tests
        .iter()
        .map(|t| {
            let marked = labels.iter().any(|l| results.ran_with_wrong_gil(t, l));
            if marked {
                format!("{t} (GIL!)")
            } else {
                t.clone()
            }
        })
        .collect()
}

/// Each label's geometric mean of the regular suite against the baseline (1 for the baseline).
fn geometric_means(
    results: &Analysis<'_>,
    labels: &[String],
    baseline: &str,
) -> Vec<Option<Estimate>> {
    labels
        .iter()
        .map(|l| {
            if l == baseline {
                Some(Estimate::exact(1.0))
            } else {
                results.regular_summary(l).and_then(|s| s.geometric_mean)
            }
        })
        .collect()
}

fn draw_regular<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    results: &Analysis<'_>,
) -> DrawResult<DB> {
    let labels = results.labels();
    let tests = results.regular_tests();
    let baseline = results.baseline().unwrap_or_default();
    let entries: Vec<Vec<Option<crate::analysis::RegularEntry>>> = tests
        .iter()
        .map(|t| labels.iter().map(|l| results.regular(t, l)).collect())
        .collect();
    let cells = |cell: fn(&crate::analysis::RegularEntry) -> Option<Estimate>| {
        let rows: Vec<Vec<Option<Estimate>>> = entries
            .iter()
            .map(|row| row.iter().map(|e| e.as_ref().and_then(cell)).collect())
            .collect();
        heights_and_intervals(&rows)
    };
    let groups = regular_groups(results, &tests, &labels);
    let speedup_area = if regular_times_drawn(results) {
        let (top, bottom) = area.split_vertically(area.dim_in_pixel().1 / 2);
        let (values, intervals) = cells(|e| {
            Some(Estimate::new(
                e.duration.median,
                e.duration.ci_low,
                e.duration.ci_high,
            ))
        });
        let durations = Bars {
            caption: "time per run (lower is better)".into(),
            y_desc: "seconds".into(),
            groups: groups.clone(),
            values,
            intervals,
            format: crate::format::seconds,
            reference: None,
        };
        draw_bars(
            &top,
            &durations,
            &labels,
            &label_colours(results.variants()),
        )?;
        bottom
    } else {
        area.clone()
    };
    let (mut values, mut intervals) = cells(|e| e.speedup);
    // The suite's summary as the last group: each label's geometric mean with its interval.
    let means = geometric_means(results, &labels, &baseline);
    let mut groups = groups;
    let summarised = tests.len() > 1
        && labels
            .iter()
            .zip(&means)
            .any(|(l, m)| *l != baseline && m.is_some());
    if summarised {
        let (mean_values, mean_intervals) = heights_and_intervals(&[means]);
        values.extend(mean_values);
        intervals.extend(mean_intervals);
        groups.push("geometric mean".into());
    }
    let speedups = Bars {
        caption: format!("speedup against {baseline} (higher is better)"),
        y_desc: "speedup".into(),
        groups,
        values,
        intervals,
        format: |v| format!("{v:.2}x"),
        reference: Some(1.0),
    };
    draw_bars(
        &speedup_area,
        &speedups,
        &labels,
        &label_colours(results.variants()),
    )
}

fn draw_refcount<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    results: &Analysis<'_>,
) -> DrawResult<DB> {
    let labels = results.labels();
    let at_max = |test: &str, label: &str| {
        results.series(test, label).and_then(|s| {
            s.points.last().map(|p| {
                (
                    p.thread_count,
                    Estimate::new(p.value.median, p.value.ci_low, p.value.ci_high),
                )
            })
        })
    };
    let threads = labels
        .iter()
        .filter_map(|l| at_max("ref_counting_shared", l).map(|p| p.0))
        .max()
        .unwrap_or(0);
    let rows: Vec<Vec<Option<Estimate>>> = ["ref_counting_shared", "ref_counting_local"]
        .iter()
        .map(|test| {
            labels
                .iter()
                .map(|l| at_max(test, l).map(|p| p.1))
                .collect()
        })
        .collect();
    let (values, intervals) = heights_and_intervals(&rows);
    let bars = Bars {
        caption: format!("refs_per_sec at {threads} threads (higher is better)"),
        y_desc: "refs_per_sec".into(),
        groups: vec!["shared object".into(), "thread-local objects".into()],
        values,
        intervals,
        format: crate::format::human,
        reference: None,
    };
    draw_bars(area, &bars, &labels, &label_colours(results.variants()))
}

fn draw_pools<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    results: &Analysis<'_>,
) -> DrawResult<DB> {
    let tests = pool_tests(results);
    for (test, panel) in tests
        .iter()
        .zip(area.split_evenly(pool_shape(tests.len())).iter())
    {
        throughput_panel(
            panel,
            results,
            test,
            test,
            ("workers (log2 axis)", "tasks_per_sec"),
            false,
        )?;
    }
    Ok(())
}

/// Rows and columns of the scaling grid: one row up to 3 panels, 4 as 2 × 2 (not a row of 3
/// and a row with 2 empty cells), more in rows of 3 (the seed's 7 as 3 × 3).
fn grid_shape(panels: usize) -> (usize, usize) {
    match panels.max(1) {
        small @ 1..=3 => (1, small),
        4 => (2, 2),
        many => (many.div_ceil(3), 3),
    }
}

/// The pool tests that have numbers, in the seed's order (a run without the io tests draws no
/// empty panels for them).
fn pool_tests(results: &Analysis<'_>) -> Vec<&'static str> {
    [
        "pool_cpu_bound_threads",
        "pool_cpu_bound_processes",
        "pool_io_bound_threads",
        "pool_io_bound_processes",
    ]
    .into_iter()
    .filter(|test| !series_of(results, test).is_empty())
    .collect()
}

/// Rows and columns of the pools figure: side by side up to two, then two by two.
fn pool_shape(panels: usize) -> (usize, usize) {
    match panels {
        0 | 1 => (1, 1),
        2 => (1, 2),
        _ => (2, 2),
    }
}

fn draw_threads<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    results: &Analysis<'_>,
) -> DrawResult<DB> {
    let labels = results.labels();
    let tests: Vec<String> = results
        .tests()
        .into_iter()
        .filter(|t| results.group_of(t) == Group::Threads)
        .collect();
    let panels = area.split_evenly((1, tests.len().max(1)));
    for (test, panel) in tests.iter().zip(panels.iter()) {
        let entries: Vec<_> = labels
            .iter()
            .map(|l| results.thread_entry(test, l))
            .collect();
        let bars = Bars {
            caption: format!("{test}: median µs per phase"),
            y_desc: "µs".into(),
            groups: PHASES.iter().map(|p| (*p).to_string()).collect(),
            values: PHASES
                .iter()
                .map(|phase| {
                    entries
                        .iter()
                        .map(|e| e.as_ref().and_then(|e| e.phase(phase)?.p50))
                        .collect()
                })
                .collect(),
            // Phase percentiles are medians over samples: no interval to draw.
            intervals: Vec::new(),
            format: |v| format!("{v:.0}"),
            reference: None,
        };
        draw_bars(panel, &bars, &labels, &label_colours(results.variants()))?;
    }
    Ok(())
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
mod colour_tests {
    use super::*;
    use crate::interpreter::{GilMode, InterpreterInfo, InterpreterSource};
    use crate::results::{Settings, VariantRecord};

    fn variant(label: &str, free_threaded: bool, expects_gil: bool) -> VariantRecord {
        VariantRecord {
            label: label.into(),
            path: std::path::PathBuf::new(),
            run_path: std::path::PathBuf::new(),
            source: if label == "native" {
                InterpreterSource::Native
            } else {
                InterpreterSource::Imported
            },
            gil_mode: if expects_gil && free_threaded {
                GilMode::ForceOn
            } else {
                GilMode::Default
            },
            expects_gil,
            info: InterpreterInfo::imported("3.13.15", "", "cpython", free_threaded),
        }
    }

    #[test]
    fn a_label_is_coloured_by_what_it_is_and_the_same_in_every_report() {
        let ft = variant("3.13.15t", true, false);
        let forced = variant("3.13.15t+gil", true, true);
        let gil = variant("3.13.15", false, true);
        let native = variant("native", true, false);
        let one = crate::results::ResultsFile::new(
            Settings::default(),
            vec![ft.clone(), forced.clone(), gil.clone(), native.clone()],
        );
        let colours = label_colours(&one.variants);
        assert!(FREE_THREADED.contains(&colours[0]));
        assert!(GIL_FORCED.contains(&colours[1]));
        assert!(GIL_BUILD.contains(&colours[2]));
        assert_eq!(colours[3], BLACK);
        // Another report, other order, another label beside them: the same colours.
        let other = crate::results::ResultsFile::new(
            Settings::default(),
            vec![gil, variant("3.12.1", false, true), native, ft],
        );
        let again = label_colours(&other.variants);
        assert_eq!(again[0], colours[2]);
        assert_eq!(again[2], BLACK);
        assert_eq!(again[3], colours[0]);
        assert_ne!(again[1], again[0], "two GIL builds get two shades");
    }
}

#[cfg(test)]
mod layout_tests {
    use super::*;

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
