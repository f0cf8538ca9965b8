//! The fleet's numbers: a machine's speedup run after run, the regular suite's geometric mean
//! over time, a stored point's steps from run to run, with regressions called by the `compare`
//! statistics. `commands/publish.rs` gathers the runs from the store into a [`Fleet`];
//! `report::fleet` draws it.

use serde::Serialize;

use crate::stats::{self, Comparison, Estimate};

/// Everything the dashboard shows.
#[derive(Debug, Clone, Serialize)]
pub struct Fleet {
    /// The store, as messages name it (no password).
    pub store: String,
    pub generated: String,
    /// In the order they were first seen; a machine's index is its colour.
    pub machines: Vec<Machine>,
    /// Every interpreter label any latest run measured.
    pub labels: Vec<String>,
    pub tests: Vec<FleetTest>,
    pub regular: Vec<RegularTrend>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub name: String,
    pub cores: usize,
    pub description: String,
    pub runs: i64,
    pub last_seen: String,
    /// Per label of [`Fleet::labels`]: runs of this machine that measured it.
    pub label_runs: Vec<usize>,
}

/// One scaling test: a figure per interpreter label.
#[derive(Debug, Clone, Serialize)]
pub struct FleetTest {
    pub test: String,
    pub labels: Vec<FleetLabel>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FleetLabel {
    pub label: String,
    /// The latest run's speedup curve on each machine.
    pub curves: Vec<Curve>,
    /// Each machine's speedup at one thread count, run after run.
    pub trends: Vec<Trend>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Curve {
    pub machine: usize,
    pub run_id: i64,
    pub points: Vec<(u32, Estimate)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Trend {
    pub machine: usize,
    /// The thread count followed (for the regular suite: 0).
    pub threads: u32,
    pub points: Vec<TrendEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrendEntry {
    pub run_id: i64,
    pub created: String,
    pub value: Estimate,
    /// Significantly slower than the run before (the `compare` statistics).
    pub regression: bool,
}

/// The regular suite's geometric mean of one label against a baseline, over time.
#[derive(Debug, Clone, Serialize)]
pub struct RegularTrend {
    pub label: String,
    pub baseline: String,
    pub trends: Vec<Trend>,
}

/// One run's samples of one point, as the store keeps them.
#[derive(Debug, Clone, Copy)]
pub struct RunSamples<'a> {
    pub run_id: i64,
    pub created: &'a str,
    pub samples: &'a [f64],
    /// Other work on the machine disturbed the point.
    pub disturbed: bool,
}

/// Speedup at one thread count, run after run: each run's samples over its own serial median,
/// with a regression flag where the `compare` statistics call a run's speedups slower than the
/// run before's (never across a disturbed point). `parallel` in run order.
pub fn speedup_trend(serial: &[RunSamples], parallel: &[RunSamples]) -> Vec<TrendEntry> {
    let mut entries = Vec::new();
    let mut previous: Option<(Vec<f64>, bool)> = None;
    for point in parallel {
        let Some(base) = serial.iter().find(|s| s.run_id == point.run_id) else {
            continue;
        };
        if base.samples.is_empty() || point.samples.is_empty() {
            continue;
        }
        let base_median = stats::median(base.samples);
        let speedups: Vec<f64> = point.samples.iter().map(|v| v / base_median).collect();
        let disturbed = point.disturbed || base.disturbed;
        let regression = previous.as_ref().is_some_and(|(before, was_disturbed)| {
            !disturbed
                && !was_disturbed
                && Comparison::of(before, &speedups).verdict == stats::Verdict::Slower
        });
        entries.push(TrendEntry {
            run_id: point.run_id,
            created: point.created.to_string(),
            value: stats::ratio_ci(point.samples, base.samples),
            regression,
        });
        previous = Some((speedups, disturbed));
    }
    entries
}

/// One run of a suite: its id, date, and per test (the label's samples, the baseline's).
pub type SuiteRun = (i64, String, Vec<(Vec<f64>, Vec<f64>)>);

/// A suite's geometric mean (label over baseline, with its 95% interval) run after run, in
/// date order; a run whose interval lies wholly below the previous one's is a regression.
pub fn suite_trend(mut runs: Vec<SuiteRun>) -> Vec<TrendEntry> {
    runs.sort_by(|a, b| (a.1.as_str(), a.0).cmp(&(b.1.as_str(), b.0)));
    let mut points: Vec<TrendEntry> = Vec::new();
    for (run_id, created, pairs) in runs {
        let refs: Vec<(&[f64], &[f64])> = pairs
            .iter()
            .map(|(a, b)| (a.as_slice(), b.as_slice()))
            .collect();
        let Some(value) = stats::geometric_mean_ci(&refs) else {
            continue;
        };
        let regression = points.last().is_some_and(|p| value.high < p.value.low);
        points.push(TrendEntry {
            run_id,
            created,
            value,
            regression,
        });
    }
    points
}

/// Each stored point against the one before it (`None` for the first): the `compare` verdict,
/// `disturbed` where either was measured on a busy machine.
pub fn steps(trend: &[RunSamples]) -> Vec<Option<Comparison>> {
    trend
        .iter()
        .enumerate()
        .map(|(i, point)| {
            let before = trend.get(i.checked_sub(1)?)?;
            let mut step = Comparison::of(before.samples, point.samples);
            if before.disturbed || point.disturbed {
                step.verdict = stats::Verdict::Disturbed;
            }
            Some(step)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(run_id: i64, samples: &[f64]) -> RunSamples<'_> {
        RunSamples {
            run_id,
            created: "2026-11-26T00:00:00Z",
            samples,
            disturbed: false,
        }
    }

    #[test]
    fn a_speedup_that_drops_is_a_regression_and_one_that_holds_is_not() {
        let serial = [100.0, 101.0, 99.0, 100.0, 100.5, 99.5];
        let fast = [400.0, 404.0, 396.0, 401.0, 399.0, 400.0];
        let slow = [300.0, 303.0, 297.0, 301.0, 299.0, 300.0];
        let serials = [run(1, &serial), run(2, &serial), run(3, &serial)];
        let trend = speedup_trend(&serials, &[run(1, &fast), run(2, &fast), run(3, &slow)]);
        let flags: Vec<bool> = trend.iter().map(|e| e.regression).collect();
        assert_eq!(flags, [false, false, true]);
        assert!((trend[0].value.value - 4.0).abs() < 0.05);
        // A disturbed run is never called a regression.
        let mut busy = run(3, &slow);
        busy.disturbed = true;
        let trend = speedup_trend(&serials, &[run(1, &fast), busy]);
        assert!(!trend[1].regression);
        let steps = steps(&[run(1, &fast), run(2, &slow)]);
        assert!(steps[0].is_none());
        assert_eq!(steps[1].unwrap().verdict, stats::Verdict::Slower);
    }
}
