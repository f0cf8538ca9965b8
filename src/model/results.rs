//! The results file's schema: the run's settings, its interpreters, every sample and point, and
//! what was skipped, failed or gated. Plain data: loading, checking and migrating it is
//! `results`' work, deriving numbers from it the analysis's.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::gate::GateRecord;
use super::interpreter::{GilMode, InterpreterInfo, InterpreterSource};
use super::machine::SystemInfo;
use super::stats::Summary;
use super::test::{ExternalTest, TestInfo, UserTest};
use super::threads::ThreadTime;

/// Bumped whenever a reader of the old schema would misread the new one.
pub const SCHEMA_VERSION: u32 = 1;

/// How work is divided between threads.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Scaling {
    /// A fixed total split across threads.
    #[default]
    Strong,
    /// A fixed amount per thread.
    Weak,
}

/// The settings a run used; `--resume` reuses them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Settings {
    pub tests: Vec<String>,
    pub threads: Vec<u32>,
    /// Target duration of one serial sample, in nanoseconds.
    pub target_ns: u64,
    pub warmup: u32,
    pub samples: u32,
    pub processes: u32,
    pub scaling: Scaling,
    pub timeout_s: u64,
    pub quick: bool,
    /// The label regular tests are compared against.
    #[serde(default)]
    pub baseline: Option<String>,
    /// `--allow-load`: measure on a busy machine without waiting or retrying (still marked).
    #[serde(default)]
    pub allow_load: bool,
    /// `--precision`: the half-width (percent of the median) each point's 95% interval should
    /// reach, adding worker processes until it does or `max_time_per_point_s` runs out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision_pct: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_time_per_point_s: Option<f64>,
    /// `ftbench scale` tests: what each one runs, so that a resumed run rebuilds them (the
    /// built-in tests are rebuilt from their names).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user_tests: Vec<UserTest>,
    /// What each test's numbers are, as this ftbench defined them when it measured: a later
    /// ftbench that renames a metric or moves a test reads the file as it was written. Files
    /// without it are read with the registry of the ftbench reading them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub test_info: Vec<TestInfo>,
    /// `--cpus`: the CPUs workers and their threads ran on, all usable CPUs by default (files
    /// from before it have none: the machine's usable CPUs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cpus: Vec<u32>,
    /// Single-run tests whose point ran with the GIL in another state than its build's (a
    /// module turned it back on) count in the geometric means anyway
    /// (`--include-gil-benchmarks`); by default they are left out and named.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub include_gil_benchmarks: bool,
    /// How `ftbench pyperformance` ran, for files it wrote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pyperformance: Option<PyperformanceSettings>,
    /// The labels of a test take turns round by round (A B, then B A) with one work size, as
    /// a gate's two versions of the code do, instead of one label's curve after another's.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interleave_labels: bool,
}

/// What `ftbench pyperformance` ran: enough to resume it and to say what the numbers are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PyperformanceSettings {
    /// The pinned pyperformance version that ran the benchmarks.
    pub version: String,
    /// How long pyperformance measured each benchmark.
    pub mode: PyperformanceMode,
    /// The `-b` selection as given (ftbench's default list spelled out).
    pub selection: String,
    /// A manifest of the user's own benchmarks, if one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<std::path::PathBuf>,
    /// Wall time each label's benchmarks took, venv creation included, in seconds (summed
    /// over resumed sessions).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub wall_s: std::collections::BTreeMap<String, f64>,
    /// How long one benchmark on one interpreter may take (its venv included) before it is
    /// killed with every process it started and recorded as failed, in seconds.
    #[serde(default = "PyperformanceSettings::default_timeout_s")]
    pub timeout_s: u64,
}

/// How long pyperformance measures each benchmark (pyperf's modes), recorded by the name of
/// its flag without the dashes; a file naming another mode does not load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PyperformanceMode {
    /// One value per benchmark: checks that everything runs, useless for speed.
    DebugSingleValue,
    /// `--fast`: fewer processes and values, rough answers quickly.
    Fast,
    /// pyperformance's default.
    #[default]
    Default,
    /// `--rigorous`: more processes and values.
    Rigorous,
}

impl PyperformanceMode {
    /// The name recorded in the results (pyperformance's flag without its dashes).
    pub fn name(self) -> &'static str {
        match self {
            Self::DebugSingleValue => "debug-single-value",
            Self::Fast => "fast",
            Self::Default => "default",
            Self::Rigorous => "rigorous",
        }
    }

    /// The flag that asks pyperformance for it (none for its default).
    pub fn flag(self) -> Option<&'static str> {
        match self {
            Self::DebugSingleValue => Some("--debug-single-value"),
            Self::Fast => Some("--fast"),
            Self::Default => None,
            Self::Rigorous => Some("--rigorous"),
        }
    }
}

impl PyperformanceSettings {
    /// A benchmark's deadline unless `--timeout` says otherwise: generous, since a rigorous
    /// run of a slow benchmark with its requirements to build takes many minutes.
    pub const DEFAULT_TIMEOUT_S: u64 = 3600;

    fn default_timeout_s() -> u64 {
        Self::DEFAULT_TIMEOUT_S
    }
}

impl std::fmt::Display for PyperformanceMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A measured variant, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantRecord {
    pub label: String,
    pub path: std::path::PathBuf,
    pub run_path: std::path::PathBuf,
    pub source: InterpreterSource,
    pub gil_mode: GilMode,
    /// Whether the GIL should be on while it runs.
    pub expects_gil: bool,
    pub info: InterpreterInfo,
}

/// The calibrated work size of one (test, label).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub test: String,
    pub label: String,
    pub work_size: u64,
    pub wall_ns: u64,
}

/// One timed sample of a point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointSample {
    /// Which worker process (0..processes) took it.
    pub process: u32,
    pub wall_ns: u64,
    pub work_units: u64,
    /// The GIL was enabled before or after the timed section.
    pub gil_enabled: bool,
    /// Test-specific measurements the worker sent with the sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<Value>,
    /// CPU accounting around the sample's section, when the worker sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load: Option<SampleLoad>,
    /// Other work took CPUs this sample's worker process needed (judged over the process's
    /// whole life: see `machine::load`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disturbed: bool,
    /// The worker's resident memory, when it sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<SampleMemory>,
    /// Its threads ran equal parts for unequal times without blocking or waiting for a CPU,
    /// and measuring the process again did not help (see [`super::threads`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unequal: bool,
    /// How much slower than the fastest CPU alone the slowest CPU ran the CPU probe's loop with
    /// all CPUs busy, measured just before this sample's round (`machine::probe::slowdown_now`;
    /// threaded points only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_slowdown: Option<f64>,
    /// Each thread's own time in the section (team and serial runs; files from before it and
    /// pools have none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub threads: Vec<ThreadTime>,
}

/// A worker's resident memory (RSS) at the end of a sample, in KiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleMemory {
    /// Peak RSS of the worker process so far (or of its largest child process: pools).
    pub max_rss_kb: u64,
    /// RSS right after the section, live child processes included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rss_kb: Option<u64>,
}

/// What the CPUs did during one sample's section.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SampleLoad {
    /// CPU-seconds of the timed threads per wall-second of the section: ~N for N threads that
    /// all ran, ~1 under the GIL, low when threads waited (locks, I/O).
    pub parallelism: f64,
    /// CPUs' worth of time everything else used (10 ms tick resolution: a short sample's value
    /// is rough; the process-level judgement is not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_load: Option<f64>,
    /// Share of the machine's CPU time stolen by the hypervisor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steal: Option<f64>,
    /// PSI: share of the section during which some runnable task waited for a CPU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_wait: Option<f64>,
    /// Context switches of the worker in the section: voluntary (a thread blocked on a lock,
    /// I/O, a queue, a sleep) and involuntary (the scheduler gave its CPU to another task).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voluntary_switches: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub involuntary_switches: Option<u64>,
}

/// A finished point: one (test, label, thread count), 0 threads being the serial baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub test: String,
    pub label: String,
    pub thread_count: u32,
    pub samples: Vec<PointSample>,
    /// Throughput in the test's metric units per second.
    pub throughput: Summary,
    /// Samples whose GIL state differed from what the variant expects.
    pub gil_mismatches: usize,
}

/// The flame graphs of one profiled point (`--profile`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileRecord {
    pub test: String,
    pub label: String,
    pub thread_count: u32,
    /// How stacks were unwound: `dwarf` or `frame pointers`.
    pub call_graph: String,
    /// CPU time the samples cover, in nanoseconds.
    pub cpu_ns: u64,
    /// The merged graph, relative to the results file's directory.
    pub file: String,
    /// The threads with the most samples, each with its own graph.
    pub threads: Vec<ThreadProfile>,
    /// Thread lifecycle tests: where start-up time goes, by native cost group.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub costs: Vec<CostGroup>,
    /// A scaling test at more than one thread: what grew against one thread of the same work.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub differential: Option<DifferentialRecord>,
}

/// A differential profile: the single-thread run and the multi-thread run of the same work,
/// each function's CPU per operation compared (`runner::mechanism`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DifferentialRecord {
    pub thread_count: u32,
    /// CPU per operation on one thread and at `thread_count` threads, in nanoseconds.
    pub serial_ns_per_op: f64,
    pub ns_per_op: f64,
    /// `ns_per_op / serial_ns_per_op`.
    pub growth: f64,
    /// Each mechanism's CPU per operation in both runs and its share of the growth, largest
    /// first.
    pub mechanisms: Vec<MechanismShare>,
    /// The share of the growth no mechanism explains.
    pub unattributed: f64,
    /// The functions whose own CPU per operation grew most.
    pub top_self: Vec<SymbolGrowth>,
    /// The functions whose CPU per operation, callees included, grew most.
    pub top_inclusive: Vec<SymbolGrowth>,
    /// The single-thread flame graph and the differential one (red: grew), relative to the
    /// results file's directory.
    pub serial_file: String,
    pub file: String,
    /// Whether the interpreter had debug information, so that functions inlined into the
    /// evaluation loop (`Py_INCREF`'s atomics) could be named.
    pub debug_info: bool,
}

/// One mechanism in a differential profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MechanismShare {
    pub name: String,
    pub serial_ns_per_op: f64,
    pub ns_per_op: f64,
    /// Its part of the whole growth (negative when it shrank).
    pub share: f64,
    /// The frames that named it whose cost grew most.
    pub symbols: Vec<String>,
}

/// One function's CPU per operation on one thread and on many.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SymbolGrowth {
    pub symbol: String,
    pub serial_ns_per_op: f64,
    pub ns_per_op: f64,
}

/// CPU time of one native cost group of thread start-up (`runner::profile::THREAD_COST_GROUPS`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostGroup {
    pub group: String,
    pub cpu_ns: u64,
    /// CPU microseconds per thread started in the profiled worker.
    pub us_per_thread: f64,
}

/// One thread's flame graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadProfile {
    pub tid: u32,
    pub cpu_ns: u64,
    pub file: String,
}

/// A point that did not produce numbers, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Missing {
    pub test: String,
    pub label: String,
    /// `None` when the whole (test, label) was given up (calibration failed, dependency missing).
    pub thread_count: Option<u32>,
    pub reason: String,
}

/// Everything one `ftbench run` produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultsFile {
    pub schema_version: u32,
    pub ftbench_version: String,
    pub created: String,
    pub updated: String,
    /// A random id given when the run starts: a store records a run once, however often its
    /// file is added. Files from before it had none (their key is host name and start time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    pub command_line: Vec<String>,
    pub system: SystemInfo,
    pub settings: Settings,
    pub variants: Vec<VariantRecord>,
    pub calibrations: Vec<Calibration>,
    /// Every measured point; read with [`ResultsFile::points`], added with
    /// [`ResultsFile::add_point`], so that the index below always matches them.
    points: Vec<Point>,
    pub skipped: Vec<Missing>,
    pub errors: Vec<Missing>,
    pub warnings: Vec<String>,
    /// Tests that are not ftbench's own, as files from before `settings.test_info` named them:
    /// read, turned into test facts on load ([`ResultsFile::record_test_info`]), never written.
    #[serde(default, skip_serializing)]
    pub external_tests: Vec<ExternalTest>,
    /// What the harness itself cost while it ran (the last session, for a resumed file).
    #[serde(default)]
    pub harness: Option<HarnessCost>,
    /// Each time the file was resumed: when, where and by which ftbench.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resumes: Vec<Resume>,
    /// What each `--fail-if` gate decided, in the order given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gates: Vec<GateRecord>,
    /// Flame graphs recorded with `--profile` (not measurements).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<ProfileRecord>,
    /// The seed study's schema, derived from `points` by the analysis at every write
    /// (`analysis::seed`). Skipped on load, never held as a tree: it is derived data, and a
    /// JSON tree of a 99 MiB `results` array took 3.8 GB.
    #[serde(
        default,
        deserialize_with = "skip_derived",
        skip_serializing_if = "Value::is_null"
    )]
    pub results: Value,
    /// Where each (test, label)'s points are, built on first use and dropped by every method
    /// that changes `points` (the field is private: nothing else can). Every lookup is a hash
    /// probe, so reading a file stays linear in its size.
    #[serde(skip)]
    index: PointIndexCache,
}

/// Read past a derived section without keeping it.
fn skip_derived<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
    <serde::de::IgnoredAny as serde::Deserialize>::deserialize(deserializer)?;
    Ok(Value::Null)
}

/// Positions of points by test and label, with the tests in report order.
#[derive(Debug, Default)]
struct PointIndex {
    by_test: HashMap<String, HashMap<String, Vec<usize>>>,
    tests: Vec<String>,
}

/// The lazily built [`PointIndex`]: not part of the data (equal, cloned and serialised as
/// nothing). Built once on the first lookup through `&self`; only methods that take `&mut self`
/// change the points, and they empty it first, so no lock is needed.
#[derive(Debug, Default)]
struct PointIndexCache(std::sync::OnceLock<PointIndex>);

impl Clone for PointIndexCache {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl PartialEq for PointIndexCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// One `ftbench run --resume` of a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resume {
    /// UTC time the resumed run started.
    pub at: String,
    pub hostname: String,
    pub ftbench_version: String,
    /// Whether `--force` let it mix machines, versions or interpreters.
    pub forced: bool,
}

/// What holds for every value of a single run added with [`ResultsFile::add_single_run`].
#[derive(Debug, Clone, PartialEq)]
pub struct SingleRun {
    /// Whether the GIL was on while it ran.
    pub gil_enabled: bool,
    /// Whether the label's build and mode should have had it on (else the point is marked).
    pub expects_gil: bool,
    /// Whether other work on the machine disturbed it.
    pub disturbed: bool,
    /// Kept with each sample (`gil_enabled_by`: the modules that turned the GIL on).
    pub extra: Option<Value>,
}

/// The harness's own footprint: how much CPU ftbench used while its workers measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HarnessCost {
    /// Wall time of the run, in seconds.
    pub wall_s: f64,
    /// User + system CPU time of the ftbench process itself (not its workers), in seconds.
    pub cpu_s: f64,
    /// `cpu_s / wall_s`: the share of one core the harness took (goal: <= 1%).
    pub cpu_share: f64,
}

impl ResultsFile {
    /// A file with no points yet: the run's settings and variants, the machine it runs on,
    /// when it began, its run id and its (redacted) command line.
    pub fn begun(
        settings: Settings,
        variants: Vec<VariantRecord>,
        system: SystemInfo,
        created: String,
        run_id: Option<String>,
        command_line: Vec<String>,
    ) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            ftbench_version: env!("CARGO_PKG_VERSION").to_string(),
            updated: created.clone(),
            created,
            run_id,
            command_line,
            system,
            settings,
            variants,
            calibrations: Vec::new(),
            points: Vec::new(),
            skipped: Vec::new(),
            errors: Vec::new(),
            warnings: Vec::new(),
            external_tests: Vec::new(),
            harness: None,
            resumes: Vec::new(),
            profiles: Vec::new(),
            gates: Vec::new(),
            results: Value::Null,
            index: PointIndexCache::default(),
        }
    }

    /// The points to change in place (a resumed point's further processes, a loaded file's
    /// checks): the index is dropped first, and rebuilt on the next lookup, which cannot come
    /// while the points are borrowed.
    pub fn points_mut(&mut self) -> &mut Vec<Point> {
        self.forget_index();
        &mut self.points
    }

    /// Every measured point, in the order they were measured.
    pub fn points(&self) -> &[Point] {
        &self.points
    }

    /// Add a measured point.
    pub fn add_point(&mut self, point: Point) {
        self.points.push(point);
        self.forget_index();
    }

    /// Drop the point index: `points` changed.
    fn forget_index(&mut self) {
        self.index.0.take();
    }

    /// The point index, built on first use after `points` changed.
    fn index(&self) -> &PointIndex {
        self.index.0.get_or_init(|| self.build_index())
    }

    /// Where each (test, label)'s points are, by thread count, and the tests in suite order.
    fn build_index(&self) -> PointIndex {
        let mut by_test: HashMap<String, HashMap<String, Vec<usize>>> = HashMap::new();
        let mut order: Vec<String> = Vec::new();
        for (i, point) in self.points.iter().enumerate() {
            let labels = by_test.entry(point.test.clone()).or_insert_with(|| {
                order.push(point.test.clone());
                HashMap::new()
            });
            labels.entry(point.label.clone()).or_default().push(i);
        }
        for labels in by_test.values_mut() {
            for positions in labels.values_mut() {
                positions.sort_by_key(|&i| self.points[i].thread_count);
            }
        }
        // Suite order first, then tests the settings do not list, in order of appearance.
        let mut tests: Vec<String> = Vec::new();
        let mut listed = std::collections::HashSet::new();
        for name in &self.settings.tests {
            if by_test.contains_key(name) && listed.insert(name.as_str()) {
                tests.push(name.clone());
            }
        }
        for name in order {
            if !listed.contains(name.as_str()) {
                tests.push(name);
            }
        }
        PointIndex { by_test, tests }
    }

    /// The points of `label` on `test`, by thread count (serial first).
    pub fn points_of(&self, test: &str, label: &str) -> Vec<&Point> {
        self.index()
            .by_test
            .get(test)
            .and_then(|labels| labels.get(label))
            .map(|positions| positions.iter().map(|&i| &self.points[i]).collect())
            .unwrap_or_default()
    }

    /// Tests with at least one point, in suite order.
    pub fn tests(&self) -> Vec<String> {
        self.index().tests.clone()
    }
}
