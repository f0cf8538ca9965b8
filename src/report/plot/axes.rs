//! What every chart shares: the log-2 thread axis, the legend's strip, the ideal-scaling line, axis labels, whiskers.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::FONT_FAMILY;

pub(crate) type DrawResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// `log2(n)`: thread counts go on a log-2 axis.
pub(crate) fn log2(n: u32) -> f64 {
    f64::from(n).log2()
}

fn thread_label(x: &f64) -> String {
    format!("{}", 2f64.powf(*x).round())
}

/// The chart context every thread-axis panel draws on.
type ThreadChart<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// A panel with thread counts on a log-2 x axis and `y_desc` from 0 to `y_max`.
pub(crate) fn threads_chart<'a, DB: DrawingBackend>(
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
pub(crate) fn legend<'a, DB: DrawingBackend + 'a>(
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
pub(crate) fn with_legend_room(data_max: f64, entries: usize, area_height: u32) -> f64 {
    // Caption, margins and the x labels take about 90 px of a panel.
    let plot = (f64::from(area_height) - 90.0).max(100.0);
    let legend = 16.0 + 17.0 * entries as f64;
    data_max / (1.0 - legend / plot - 0.03).max(0.4)
}

/// Ideal scaling, speedup = threads, at the powers of two up to the top of the panel: joined
/// the way measured points are joined.
pub(crate) fn ideal_line(max_threads: u32, y_max: f64) -> Vec<(f64, f64)> {
    (0..=log2(max_threads) as u32)
        .map(|e| (f64::from(e), 2f64.powf(f64::from(e))))
        .filter(|(_, y)| *y <= y_max)
        .collect()
}

/// An axis label: zero is "0" whatever the unit (not "0.00 ns").
pub(crate) fn axis_label(value: f64, format: impl Fn(f64) -> String) -> String {
    if value.abs() < f64::EPSILON {
        "0".to_string()
    } else {
        format(value)
    }
}

/// Over one bar at x = `centre`: its 95% interval as a plain whisker with caps (plotters'
/// `ErrorBar` adds a marker on the bar top), and its value label above both.
pub(super) fn whisker_and_label<DB: DrawingBackend>(
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
