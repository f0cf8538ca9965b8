//! What a `--fail-if` gate decided, as the results file keeps it (parsing and deciding gates
//! are `results::gate`'s and the analysis's).

use serde::{Deserialize, Serialize};

/// What a gate decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    Failed,
    /// Neither, with confidence: the interval holds the threshold, or the machine disturbed
    /// the points that would have failed it.
    Undecided,
}

/// One gate's decision, as the results file keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateRecord {
    /// The expression as given.
    pub expression: String,
    pub outcome: Outcome,
    /// The number that decided it (the worst case over tests, labels and thread counts), with
    /// its 95% interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// Where it was decided: the test, the label and the thread count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_count: Option<u32>,
    /// Why, in a sentence.
    pub reason: String,
}
