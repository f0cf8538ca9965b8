//! Grouped bars with their 95% intervals and value labels.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axes::{DrawResult, axis_label, whisker_and_label, with_legend_room};
use super::style::FONT_FAMILY;
use crate::stats::Estimate;

/// Grouped bars: `groups` along x, one bar per label within each group, with value labels.
pub(super) struct Bars {
    pub(super) caption: String,
    pub(super) y_desc: String,
    pub(super) groups: Vec<String>,
    /// `values[group][label]`, `None` where there is no number.
    pub(super) values: Vec<Vec<Option<f64>>>,
    /// 95% intervals, the same shape as `values` (empty: none drawn).
    pub(super) intervals: Vec<Vec<Option<(f64, f64)>>>,
    pub(super) format: fn(f64) -> String,
    pub(super) reference: Option<f64>,
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
pub(super) type Heights = Vec<Vec<Option<f64>>>;

pub(super) type Intervals = Vec<Vec<Option<(f64, f64)>>>;

/// Bar heights and their 95% intervals, from one estimate per cell.
pub(super) fn heights_and_intervals(cells: &[Vec<Option<Estimate>>]) -> (Heights, Intervals) {
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

pub(super) fn draw_bars<DB: DrawingBackend>(
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
