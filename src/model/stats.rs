//! A point's samples summed up (the statistics that compute it are `stats`').

use serde::{Deserialize, Serialize};

/// The summary of one point's samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub n: usize,
    pub median: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub mean: f64,
    pub stdev: f64,
    /// Coefficient of variation, stdev / mean.
    pub cv: f64,
    pub min: f64,
    pub max: f64,
    /// Samples beyond Tukey's fences (1.5 IQR outside the quartiles).
    pub outliers: usize,
}
