//! The schedule: which (test, variant) pairs of a plan run, which of their points are still to
//! measure, in which order the rounds visit them, and whether a pair's work size is already
//! known. Pure functions of the plan and the results so far: no worker, no clock, no machine.

use crate::interpreter::{InterpreterSource, Variant};
use crate::results::{ResultsFile, Settings};
use crate::workloads::Workload;

use super::{Plan, native};

/// One (test, variant) of the plan and what is left of it.
#[derive(Debug, Clone)]
pub struct Pair<'a> {
    pub workload: &'static Workload,
    pub variant: &'a Variant,
    /// Every thread count the pair measures, serial (0) first.
    pub points: Vec<u32>,
    /// Those the results file does not hold yet, in the first round's order.
    pub pending: Vec<u32>,
    /// Whether the pair runs at all: a native variant runs only the kernels it has.
    pub runs: bool,
}

impl Pair<'_> {
    /// Points of the pair already measured (or not to measure): what the progress bar skips.
    pub fn done(&self) -> usize {
        if self.runs {
            self.points.len() - self.pending.len()
        } else {
            self.points.len()
        }
    }
}

/// Every pair of `plan` in the order they run (tests outer, variants inner), with what
/// `results` already holds left out of each one's pending points.
pub fn pairs<'a>(plan: &'a Plan, results: &ResultsFile) -> Vec<Pair<'a>> {
    let mut pairs = Vec::new();
    for workload in &plan.tests {
        for variant in &plan.variants {
            let points = points_of(workload, &plan.settings);
            let runs = variant.interpreter.source != InterpreterSource::Native
                || native::supports(workload.name);
            let pending = points
                .iter()
                .copied()
                .filter(|n| {
                    results.point(workload.name, &variant.label, *n).is_none() != plan.again
                })
                .collect();
            pairs.push(Pair {
                workload,
                variant,
                points,
                pending,
                runs,
            });
        }
    }
    pairs
}

/// The thread counts a test runs at: the serial baseline (0) first, then `--threads` for tests
/// that scale.
pub fn points_of(workload: &Workload, settings: &Settings) -> Vec<u32> {
    let mut points = vec![0];
    if workload.group.scales() {
        points.extend(settings.threads.iter().copied());
    }
    points
}

/// The order in which round `round` (from 0) visits the points still pending: each worker
/// process of a point runs in turn with those of the other thread counts, so a slow spell of
/// the machine (frequent on shared VMs) spreads over all points of the curve instead of bending
/// it. Odd rounds run in reverse order (ABBA), which cancels a linear drift between the serial
/// baseline and the threaded points.
pub fn round_order<T: Copy>(pending: &[T], round: u32) -> Vec<T> {
    let mut order = pending.to_vec();
    if round % 2 == 1 {
        order.reverse();
    }
    order
}

/// The work size `results` already fixes for a pair: its own calibration (a resumed run), or,
/// for tests whose durations compare across labels, the first label's (every label must run
/// the same work). `None`: the pair calibrates.
pub fn known_work_size(
    workload: &Workload,
    variant: &Variant,
    results: &ResultsFile,
) -> Option<u64> {
    if let Some(calibration) = results.calibration(workload.name, &variant.label) {
        return Some(calibration.work_size);
    }
    if workload.group.shares_work_size() {
        return results
            .calibrations
            .iter()
            .find(|c| c.test == workload.name)
            .map(|c| c.work_size);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_alternate_direction() {
        let pending = [0, 1, 2, 4];
        assert_eq!(round_order(&pending, 0), [0, 1, 2, 4]);
        assert_eq!(round_order(&pending, 1), [4, 2, 1, 0]);
        assert_eq!(round_order(&pending, 2), [0, 1, 2, 4]);
    }
}
