//! Results to test with: points and variants built by hand.

use super::{Point, PointSample, VariantRecord};
use crate::stats;

/// A point of `walls` (nanoseconds per 1000 units of work), for tests.
pub fn test_point(test: &str, label: &str, thread_count: u32, walls: &[u64]) -> Point {
    let samples: Vec<PointSample> = walls
        .iter()
        .map(|&wall_ns| PointSample {
            process: 0,
            wall_ns,
            work_units: 1000,
            gil_enabled: false,
            extra: None,
            load: None,
            disturbed: false,
            memory: None,
            unequal: false,
            cpu_slowdown: None,
            threads: Vec::new(),
        })
        .collect();
    let values: Vec<f64> = samples.iter().map(|s| s.throughput(1.0)).collect();
    Point {
        test: test.into(),
        label: label.into(),
        thread_count,
        throughput: stats::Summary::from_samples(&values).unwrap(),
        samples,
        gil_mismatches: 0,
    }
}

/// A variant record for tests: `native` is the native reference, others imported 3.13.0t.
pub fn test_variant(label: &str) -> VariantRecord {
    VariantRecord {
        label: label.into(),
        path: std::path::PathBuf::new(),
        run_path: std::path::PathBuf::new(),
        source: if label == "native" {
            crate::interpreter::InterpreterSource::Native
        } else {
            crate::interpreter::InterpreterSource::Imported
        },
        gil_mode: crate::interpreter::GilMode::Default,
        expects_gil: false,
        info: crate::interpreter::InterpreterInfo::imported("3.13.0", "", "cpython", true),
    }
}
