//! Thread pools against process pools, cpu-bound and io-bound.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axes::DrawResult;
use super::scaling::{series_of, throughput_panel};
use crate::analysis::Analysis;

pub(super) fn draw_pools<DB: DrawingBackend>(
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

/// Rows and columns of the pools figure: side by side up to two, then two by two.
pub(super) fn pool_shape(panels: usize) -> (usize, usize) {
    match panels {
        0 | 1 => (1, 1),
        2 => (1, 2),
        _ => (2, 2),
    }
}

/// The pool tests that have numbers, in the seed's order (a run without the io tests draws no
/// empty panels for them).
pub(super) fn pool_tests(results: &Analysis<'_>) -> Vec<&'static str> {
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
