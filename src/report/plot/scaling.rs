//! The scaling figures: the grid of every scaling test's speedup, and each test in detail (speedup, parallelism, throughput, the fitted model).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axes::{
    DrawResult, axis_label, ideal_line, legend, log2, threads_chart, with_legend_room,
};
use super::style::{FONT_FAMILY, GREY, label_colours};
use crate::analysis::Analysis;
use crate::stats::Estimate;
use crate::workloads::Group;

/// One label's curve: a solid line in its colour, or for native a dashed black line, named a
/// ceiling only where it bounds the Python work of `test`.
pub(super) fn curve<DB: DrawingBackend>(
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

/// Every label's curve of `test`, with the label's index (its colour).
pub(super) fn series_of(
    results: &Analysis<'_>,
    test: &str,
) -> Vec<(usize, crate::analysis::Series)> {
    results
        .labels()
        .iter()
        .enumerate()
        .filter_map(|(i, l)| results.series(test, l).map(|s| (i, s)))
        .collect()
}

pub(super) fn max_threads(series: &[(usize, crate::analysis::Series)]) -> u32 {
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

pub(super) fn draw_grid<DB: DrawingBackend>(
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

pub(super) fn draw_detail<DB: DrawingBackend>(
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
pub(super) fn has_parallelism(results: &Analysis<'_>, test: &str) -> bool {
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
pub(super) fn throughput_panel<DB: DrawingBackend>(
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

/// Rows and columns of the scaling grid: one row up to 3 panels, 4 as 2 × 2 (not a row of 3
/// and a row with 2 empty cells), more in rows of 3 (the seed's 7 as 3 × 3).
pub(super) fn grid_shape(panels: usize) -> (usize, usize) {
    match panels.max(1) {
        small @ 1..=3 => (1, small),
        4 => (2, 2),
        many => (many.div_ceil(3), 3),
    }
}

pub(super) fn scaling_tests(results: &Analysis<'_>) -> Vec<String> {
    results
        .tests()
        .into_iter()
        .filter(|t| results.group_of(t) == Group::Scaling)
        .collect()
}
