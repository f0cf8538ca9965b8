//! What a test is, as a results file records it: its group, metric, parallel units and native
//! kernel's role, a user's function as a test, and the limits on names and thread counts.

use serde::{Deserialize, Serialize};

/// The longest label, test, machine or host name ftbench records or reads, in characters: far
/// above any real one, far below what would break a table (a 65 536-character label made every
/// table code panic) or a database index.
pub const MAX_NAME_CHARS: usize = 256;

/// The most threads a point may ask for without `--force`; a seed-schema file's thread counts
/// are read up to it.
pub const MAX_THREADS: u32 = 4096;

/// The most threads a point may have at all, `--force` or not: a file saying 4294967295 threads
/// is broken, not a big machine.
pub const MAX_FORCED_THREADS: u32 = 1 << 20;

/// What one test measured: its group, metric and the metric units per unit of work, what its
/// parallel units are and what ftbench's native kernel of it means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestInfo {
    pub name: String,
    /// The workload module that ran it (`regular`, `user`, `parallel_compute`, ...).
    pub module: String,
    pub group: Group,
    pub metric: String,
    pub unit_scale: f64,
    /// Threads, or worker processes of a pool. `None` only in files written before ftbench
    /// recorded it, until [`super::results::ResultsFile::record_test_info`] fills it in on load.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workers: Option<Workers>,
    /// The role of ftbench's native kernel of the test; `None` for tests without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub native: Option<NativeRole>,
}

/// What a test's parallel units are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Workers {
    Threads,
    /// Worker processes of a pool (`pool_*_processes`, `np_column_compute_mp`,
    /// `scale --mode processes`).
    Processes,
}

/// A test that came from elsewhere (a pyperf import): its group and metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExternalTest {
    pub name: String,
    pub group: Group,
    pub metric: String,
}

/// A user's function as a test (`ftbench scale`), as recorded in a results file's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserTest {
    pub name: String,
    /// `user.py`'s parameters: `path`, `function`, `args`, `check`, `executor`, `fixed`, `env`,
    /// `user_site`.
    pub params: Vec<(String, String)>,
}

/// Which part of the results file a workload's numbers go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    /// `results.scaling_tests`: the seed's seven scaling tests.
    Scaling,
    /// `results.pool_tests`: the seed's cpu-bound / io-bound tasks through executors.
    Pool,
    /// `results.regular_tests`: single-threaded speed, one duration per label.
    Regular,
    /// `results.thread_tests`: thread creation, start and join costs.
    Threads,
    /// `results.pyperformance_tests`: pyperformance's benchmarks (`ftbench pyperformance`), one
    /// duration per label like the regular tests, compared and summed up apart from them.
    Pyperformance,
}

impl Group {
    /// The key under `results` in the results file.
    pub fn key(self) -> &'static str {
        match self {
            Self::Scaling => "scaling_tests",
            Self::Pool => "pool_tests",
            Self::Regular => "regular_tests",
            Self::Threads => "thread_tests",
            Self::Pyperformance => "pyperformance_tests",
        }
    }

    /// Whether each label has one duration (no thread counts), compared against a baseline.
    pub fn single_run(self) -> bool {
        matches!(self, Self::Regular | Self::Pyperformance)
    }

    /// Whether the group measures thread counts; the others run the serial point alone.
    pub fn scales(self) -> bool {
        matches!(self, Self::Scaling | Self::Pool)
    }

    /// Whether every label runs the same work size (calibrated once, on the first label), so
    /// durations compare directly.
    pub fn shares_work_size(self) -> bool {
        self == Self::Regular
    }
}

/// What the native kernel of a test means for Python's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NativeRole {
    /// It bounds what Python can do (compute, memory bandwidth): its curve is a ceiling.
    Ceiling,
    /// A tight Rust mutex or atomic contends harder than Python does (`lock_contention`,
    /// `ref_counting_shared`): its curve is only a reference.
    Reference,
}
