//! The regular suite (time per run, speedup against the baseline, the geometric mean) and shared against local reference counting.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axes::DrawResult;
use super::bars::{Bars, draw_bars, heights_and_intervals};
use super::style::label_colours;
use crate::analysis::Analysis;
use crate::stats::Estimate;

/// How many times the slowest test's time may be the fastest's before the time panel is left
/// out: on a linear axis the short ones would be invisible (pyperformance's benchmarks run from
/// microseconds to half a second), and the speedups say it all.
const REGULAR_TIME_SPREAD: f64 = 100.0;

/// Whether the regular figure draws the tests' times: not where they span more than
/// [`REGULAR_TIME_SPREAD`].
pub(super) fn regular_times_drawn(results: &Analysis<'_>) -> bool {
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

pub(super) fn draw_regular<DB: DrawingBackend>(
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

pub(super) fn draw_refcount<DB: DrawingBackend>(
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
