//! Where a thread's time goes, phase by phase, per label.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axes::DrawResult;
use super::bars::{Bars, draw_bars};
use super::style::label_colours;
use crate::analysis::Analysis;
use crate::analysis::Phase;
use crate::workloads::Group;

pub(super) fn draw_threads<DB: DrawingBackend>(
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
            groups: Phase::ALL.iter().map(|p| p.name().to_string()).collect(),
            values: Phase::ALL
                .iter()
                .map(|&phase| {
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
