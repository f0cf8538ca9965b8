//! The JSON-lines protocol between ftbench and `worker.py`.
//!
//! ftbench writes one [`Request`] line on the worker's stdin; the worker answers with
//! [`WorkerMessage`] lines on stdout: `hello` first (with the protocol version), then
//! `calibration` or `sample`s, then `done` — or an `error`.

use serde::{Deserialize, Serialize};

/// Bump for any change the other side cannot ignore; `worker.py` states the same number (a unit
/// test checks).
pub const PROTOCOL_VERSION: u32 = 1;

/// What a worker is asked to do.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Find the serial work size whose run takes `target_ns`.
    Calibrate,
    /// Run warm-ups and samples at `threads` (0 = serial baseline on the main thread).
    Measure,
}

/// How work is divided between threads: a setting of the run, sent in every request.
pub use crate::results::Scaling;

/// The one line ftbench writes to a worker's stdin.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Request {
    pub protocol: u32,
    pub module: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub params: Option<serde_json::Map<String, serde_json::Value>>,
    pub mode: Mode,
    pub threads: u32,
    pub work_size: u64,
    pub scaling: Scaling,
    pub warmup: u32,
    pub samples: u32,
    pub target_ns: u64,
    /// `--cpus`: the worker and its threads run only on these CPUs (empty: wherever the OS
    /// puts them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cpus: Vec<u32>,
}

/// One timed run of the workload, as the worker measured it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RawSample {
    pub index: u32,
    pub warmup: bool,
    /// Wall time of the parallel section only, in nanoseconds (`perf_counter_ns`).
    pub wall_ns: u64,
    /// Units of work done in the section (all threads together).
    pub work_units: u64,
    /// The workload's checksum of what it did, and what it should be (decimal strings: Python
    /// integers are unbounded).
    pub checksum: String,
    pub expected: String,
    /// `sys._is_gil_enabled()` right before and right after the section.
    pub gil_enabled_before: bool,
    pub gil_enabled_after: bool,
    /// Test-specific measurements (`thread_lifecycle`'s phase percentiles), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<serde_json::Value>,
    /// CPU time of the timed threads during the section (for pools: the process's and its
    /// children's), in nanoseconds. Optional fields: a worker that does not send them still
    /// speaks protocol 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_ns: Option<u64>,
    /// Wall time between the accounting reads around the section (a little more than `wall_ns`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_ns: Option<u64>,
    /// PSI: time during which some runnable task waited for a CPU, in the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_wait_ns: Option<u64>,
    /// Non-idle CPU time of all CPUs in the window (10 ms ticks, as nanoseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub busy_ns: Option<u64>,
    /// Steal time of all CPUs in the window (ticks, as nanoseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steal_ns: Option<u64>,
    /// CPU time of the worker, its children and ftbench in the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own_ns: Option<u64>,
    /// Context switches of the worker's threads (and child processes) in the window: voluntary
    /// (a thread blocked) and involuntary (the scheduler took a CPU away).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voluntary_switches: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub involuntary_switches: Option<u64>,
    /// Peak resident memory of the worker process (or its largest child) so far, in KiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rss_kb: Option<u64>,
    /// Resident memory right after the section (live child processes included), in KiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rss_kb: Option<u64>,
    /// Each thread's own time in the section (a team of threads, or the serial run's one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<Vec<crate::results::ThreadTime>>,
}

/// A line a worker writes on stdout.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WorkerMessage {
    Hello {
        protocol: u32,
        #[serde(default)]
        pid: u32,
        #[serde(default)]
        version: String,
        #[serde(default)]
        free_threaded: bool,
        #[serde(default)]
        gil_enabled: bool,
    },
    Calibration {
        work_size: u64,
        wall_ns: u64,
    },
    /// Boxed: a sample is much larger than the other messages.
    Sample(Box<RawSample>),
    Error {
        kind: ErrorKind,
        message: String,
        #[serde(default)]
        traceback: String,
    },
    Done,
}

/// What went wrong in a worker, as `worker.py` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The request was not JSON.
    BadRequest,
    /// The request's protocol version is not the worker's.
    ProtocolMismatch,
    /// The workload's module could not be imported (numpy missing): the point is skipped.
    MissingDependency,
    /// The workload raised.
    Exception,
    /// A kind this ftbench does not know (a newer worker): treated as a failure.
    #[serde(other)]
    Other,
}

/// A line that is not a message of this protocol.
#[derive(Debug, thiserror::Error)]
#[error("unexpected line on the worker's stdout: {line:?}")]
pub struct ParseError {
    pub line: String,
    #[source]
    pub err: serde_json::Error,
}

/// Parse one stdout line.
pub fn parse_line(line: &str) -> Result<WorkerMessage, ParseError> {
    serde_json::from_str(line).map_err(|err| ParseError {
        line: line.chars().take(300).collect(),
        err,
    })
}

/// Fuzzing the protocol parser: any line, garbage or a mutated message, gives a message or an
/// error, never a panic (`FTBENCH_FUZZ_CASES` sets the count, as for the loader).
#[cfg(test)]
mod fuzz {
    use super::parse_line;
    use proptest::prelude::*;

    const VALID: &[&str] = &[
        r#"{"type": "hello", "protocol": 1, "pid": 7, "version": "3.13.15", "free_threaded": true, "gil_enabled": false}"#,
        r#"{"type": "sample", "index": 0, "warmup": false, "wall_ns": 5, "work_units": 10, "checksum": "1", "expected": "1", "gil_enabled_before": false, "gil_enabled_after": true, "extra": {"phases_us": {}}}"#,
        r#"{"type": "calibration", "work_size": 100, "wall_ns": 5}"#,
        r#"{"type": "error", "kind": "exception", "message": "boom", "traceback": "..."}"#,
        r#"{"type": "done"}"#,
    ];

    fn cases() -> u32 {
        std::env::var("FTBENCH_FUZZ_CASES")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(2000)
    }

    fn mutated() -> impl Strategy<Value = String> {
        (
            prop::sample::select(VALID),
            any::<prop::sample::Index>(),
            any::<char>(),
            0..3u8,
        )
            .prop_map(|(line, at, c, how)| {
                let mut chars: Vec<char> = line.chars().collect();
                let i = at.index(chars.len());
                match how {
                    0 => chars.truncate(i),
                    1 => chars[i] = c,
                    _ => chars.insert(i, c),
                }
                chars.into_iter().collect()
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_lines_never_panic(line in ".{0,300}") {
            let _ = parse_line(&line);
        }

        #[test]
        fn mutated_messages_never_panic(line in mutated()) {
            let _ = parse_line(&line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_py_states_the_same_protocol_version() {
        let source = crate::workloads::worker_source();
        let line = format!("PROTOCOL = {PROTOCOL_VERSION}\n");
        assert!(
            source.contains(&line),
            "worker.py must say `{}`",
            line.trim()
        );
    }

    #[test]
    fn parses_each_message() {
        let hello = parse_line(r#"{"type": "hello", "protocol": 1, "pid": 7, "version": "3.13.15", "free_threaded": true, "gil_enabled": false}"#).unwrap();
        assert!(matches!(hello, WorkerMessage::Hello { protocol: 1, .. }));
        let foreign = parse_line(r#"{"type": "hello", "protocol": 99}"#).unwrap();
        assert!(matches!(foreign, WorkerMessage::Hello { protocol: 99, .. }));
        let sample = parse_line(r#"{"type": "sample", "index": 0, "warmup": false, "wall_ns": 5, "work_units": 10, "checksum": "1", "expected": "1", "gil_enabled_before": false, "gil_enabled_after": true}"#).unwrap();
        assert!(matches!(
            sample,
            WorkerMessage::Sample(ref raw) if raw.gil_enabled_after
        ));
        assert_eq!(
            parse_line(r#"{"type": "done"}"#).unwrap(),
            WorkerMessage::Done
        );
        assert!(parse_line("hello world").is_err());
        assert!(parse_line(r#"{"type": "sample"}"#).is_err());
    }
}
