//! The results file: every raw sample and setting of a run, plus a `results` section in the seed
//! study's schema (`results.scaling_tests[test][label].scaling_data[...]`), derived from the
//! samples each time the file is written.

pub mod guard;
mod json;
pub mod pyperf;
mod seed;
#[cfg(test)]
pub mod testing;
mod time;
pub mod verdict;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

pub use json::{load, write_atomically, write_results};
pub use time::{utc_at, utc_now, utc_stamp_for_file};

use crate::interpreter::{GilMode, InterpreterInfo, InterpreterSource};
use crate::stats::{self, Estimate, Summary};
use crate::sysinfo::SystemInfo;
use crate::workloads::{self, Group};
pub use verdict::Verdict;

/// Bumped whenever a reader of the old schema would misread the new one.
pub const SCHEMA_VERSION: u32 = 1;

/// The settings a run used; `--resume` reuses them.
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
}

/// What one test measured: its group, metric and the metric units per unit of work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestInfo {
    pub name: String,
    /// The workload module that ran it (`regular`, `user`, `parallel_compute`, ...).
    pub module: String,
    pub group: Group,
    pub metric: String,
    pub unit_scale: f64,
}

impl TestInfo {
    pub fn of(workload: &workloads::Workload) -> Self {
        Self {
            name: workload.name.to_string(),
            module: workload.module.to_string(),
            group: workload.group,
            metric: workload.metric.to_string(),
            unit_scale: workload.unit_scale,
        }
    }
}

/// A user's function as a test (`ftbench scale`), as recorded in the settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserTest {
    pub name: String,
    /// `user.py`'s parameters: `path`, `function`, `args`, `check`, `executor`, `fixed`, `env`,
    /// `user_site`.
    pub params: Vec<(String, String)>,
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
    /// whole life: see `runner::load`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disturbed: bool,
    /// The worker's resident memory, when it sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<SampleMemory>,
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

impl Point {
    /// `parallel_compute on 3.13t at 2 threads`, as warnings name a point.
    pub fn name(&self) -> String {
        format!(
            "{} on {} at {}",
            self.test,
            self.label,
            crate::format::workers(&self.test, self.thread_count)
        )
    }

    /// How many samples other work on the machine disturbed.
    pub fn disturbed_samples(&self) -> usize {
        self.samples.iter().filter(|s| s.disturbed).count()
    }

    /// Whether any sample was disturbed: its numbers may not be what this machine can do.
    pub fn disturbed(&self) -> bool {
        self.samples.iter().any(|s| s.disturbed)
    }

    /// Peak resident memory of a worker process, median over the point's processes, in MiB.
    pub fn max_rss_mb(&self) -> Option<f64> {
        let peaks = self.process_peaks_mb();
        (!peaks.is_empty()).then(|| stats::median(&peaks))
    }

    /// Each worker process's peak resident memory, in MiB (empty when the worker sent none).
    pub fn process_peaks_mb(&self) -> Vec<f64> {
        let mut peaks: Vec<(u32, u64)> = Vec::new();
        for sample in &self.samples {
            let Some(memory) = sample.memory else {
                continue;
            };
            match peaks.iter_mut().find(|(p, _)| *p == sample.process) {
                Some((_, peak)) => *peak = (*peak).max(memory.max_rss_kb),
                None => peaks.push((sample.process, memory.max_rss_kb)),
            }
        }
        peaks.iter().map(|(_, kb)| *kb as f64 / 1024.0).collect()
    }

    /// Resident memory after the section, median over samples, in KiB.
    pub fn rss_kb(&self) -> Option<f64> {
        let values: Vec<f64> = self
            .samples
            .iter()
            .filter_map(|s| s.memory?.rss_kb)
            .map(|kb| kb as f64)
            .collect();
        (!values.is_empty()).then(|| stats::median(&values))
    }

    /// The median over samples of one accounting value, if the samples have it.
    pub fn load_median(&self, value: impl Fn(&SampleLoad) -> Option<f64>) -> Option<f64> {
        let values: Vec<f64> = self
            .samples
            .iter()
            .filter_map(|s| s.load.as_ref().and_then(&value))
            .collect();
        (!values.is_empty()).then(|| stats::median(&values))
    }
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
    pub points: Vec<Point>,
    pub skipped: Vec<Missing>,
    pub errors: Vec<Missing>,
    pub warnings: Vec<String>,
    /// Tests that are not ftbench's own (imported from pyperf), with where they belong.
    #[serde(default)]
    pub external_tests: Vec<ExternalTest>,
    /// What the harness itself cost while it ran (the last session, for a resumed file).
    #[serde(default)]
    pub harness: Option<HarnessCost>,
    /// Each time the file was resumed: when, where and by which ftbench.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resumes: Vec<Resume>,
    /// Flame graphs recorded with `--profile` (not measurements).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<ProfileRecord>,
    /// Derived from `points` at every write; the seed study's schema.
    #[serde(default)]
    pub results: Value,
    /// Each derived series with the number of points it was derived from: points are only ever
    /// appended, so a series is recomputed (bootstraps and all) only when its curve grew.
    #[serde(skip)]
    pub derived: HashMap<(String, String), (usize, Value)>,
    /// Set while a run measures: the regular suite's summary (a bootstrap over every test) is
    /// then refreshed only by the final write, not after every point; the raw points are always
    /// written.
    #[serde(skip)]
    pub measuring: bool,
    /// Where each (test, label)'s points are, built on first use and rebuilt when points were
    /// added. Invariant: `points` only grows (the runner appends, loading replaces the whole
    /// file); code that edits or removes points in place must build a new `ResultsFile`.
    /// Every lookup is a hash probe, so reading a file stays linear in its size.
    #[serde(skip)]
    index: PointIndexCache,
}

/// Positions of points by test and label, with the tests in report order.
#[derive(Debug, Default)]
struct PointIndex {
    /// The number of points indexed; a different count means the index is stale.
    points: usize,
    by_test: HashMap<String, HashMap<String, Vec<usize>>>,
    tests: Vec<String>,
    /// Each (test, label)'s series, derived (bootstraps and all) at most once per index.
    series: std::sync::Mutex<HashMap<(String, String), Option<Series>>>,
}

/// The lazily built [`PointIndex`]: not part of the data (equal, cloned and serialised as
/// nothing).
#[derive(Debug, Default)]
struct PointIndexCache(std::sync::Mutex<Option<std::sync::Arc<PointIndex>>>);

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

/// A test that came from elsewhere (a pyperf import): its group and metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExternalTest {
    pub name: String,
    pub group: Group,
    pub metric: String,
}

/// A regular test's numbers for one label.
#[derive(Debug, Clone, PartialEq)]
pub struct RegularEntry {
    /// Seconds per run (the same work on every label).
    pub duration: Summary,
    /// Baseline duration / this duration, with its 95% interval; `None` without a baseline run.
    pub speedup: Option<Estimate>,
    /// Peak resident memory of a worker process (median over processes), in MiB.
    pub max_rss_mb: Option<f64>,
    /// This label's peak memory / the baseline's, with its 95% interval.
    pub memory_ratio: Option<Estimate>,
}

/// How one label did over the whole regular suite against the baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct RegularSummary {
    pub tests: usize,
    pub average_duration: f64,
    pub average_speedup: f64,
    /// Geometric mean of the speedups with its 95% interval.
    pub geometric_mean: Option<Estimate>,
    /// Tests whose speedup interval lies wholly above 1 (faster) or below 1 (slower).
    pub faster: usize,
    pub slower: usize,
    /// Geometric mean of the peak-memory ratios against the baseline with its 95% interval.
    pub memory_geometric_mean: Option<Estimate>,
}

/// PEP 779's bar for free-threaded CPython: at most 20% more memory than the GIL build.
pub const PEP_779_MEMORY_RATIO: f64 = 1.20;

/// Where a memory ratio's interval lies against [`PEP_779_MEMORY_RATIO`].
pub fn pep_779(ratio: Estimate) -> &'static str {
    if ratio.high <= PEP_779_MEMORY_RATIO {
        "within"
    } else if ratio.low > PEP_779_MEMORY_RATIO {
        "above"
    } else {
        "undecided"
    }
}

impl RegularSummary {
    /// Whether the suite-wide difference is real: the interval of the geometric mean excludes 1.
    pub fn significant(&self) -> bool {
        self.geometric_mean.is_some_and(|g| g.excludes(1.0))
    }
}

/// The 50th, 95th and 99th percentiles of a distribution; a percentile the worker did not send
/// is `None` (and left out of the JSON).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Percentiles {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p50: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p95: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p99: Option<f64>,
}

impl Percentiles {
    /// Each percentile with its name (`p50`, `p95`, `p99`), where it has a value.
    pub fn named(&self) -> impl Iterator<Item = (&'static str, f64)> {
        [("p50", self.p50), ("p95", self.p95), ("p99", self.p99)]
            .into_iter()
            .filter_map(|(name, value)| value.map(|v| (name, v)))
    }
}

impl ThreadEntry {
    /// The percentiles of one phase (`construct`, `start`, `body`, `join`).
    pub fn phase(&self, name: &str) -> Option<&Percentiles> {
        self.phases_us
            .iter()
            .find(|(phase, _)| phase == name)
            .map(|(_, p)| p)
    }
}

/// A thread test's numbers for one label.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadEntry {
    /// Microseconds per thread (creation, start, body and join, over the whole sample).
    pub us_per_thread: Summary,
    pub threads: u64,
    /// Median over samples of each phase's percentiles, in µs, in the order the worker sent them.
    pub phases_us: Vec<(String, Percentiles)>,
    /// Peak resident memory of a worker process (median over processes), in MiB.
    pub max_rss_mb: Option<f64>,
    /// Resident memory one live (blocked) thread adds, median over worker processes, in KiB.
    pub kb_per_live_thread: Option<f64>,
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

/// A point's numbers as tables and the seed schema show them.
#[derive(Debug, Clone, PartialEq)]
pub struct PointMetrics {
    pub thread_count: u32,
    pub value: Summary,
    /// Throughput over the serial baseline's, with its 95% interval.
    pub speedup: Option<Estimate>,
    pub efficiency: Option<f64>,
    pub karp_flatt: Option<f64>,
    pub gil_mismatches: usize,
    /// Medians over samples: effective parallelism, other load, steal.
    pub parallelism: Option<f64>,
    pub other_load: Option<f64>,
    pub steal: Option<f64>,
    /// Samples other work on the machine disturbed.
    pub disturbed_samples: usize,
    /// Medians over samples of the worker's context switches during the section.
    pub voluntary_switches: Option<f64>,
    pub involuntary_switches: Option<f64>,
    /// Peak resident memory of a worker process (median over processes), in MiB.
    pub max_rss_mb: Option<f64>,
    /// Resident memory after the section, over the serial point's, per thread, in KiB.
    pub memory_per_thread_kb: Option<f64>,
    /// Why the point does or does not scale.
    pub verdict: Option<Verdict>,
}

/// One label's curve for one test.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub serial: Option<Summary>,
    pub points: Vec<PointMetrics>,
    /// Max speedup over the speedup at the first thread count (the seed's "scaling factor").
    pub scaling_factor: Option<f64>,
}

/// A point's samples as throughputs, in metric units per second.
pub fn throughputs(point: &Point, unit_scale: f64) -> Vec<f64> {
    point
        .samples
        .iter()
        .map(|s| s.throughput(unit_scale))
        .collect()
}

impl PointSample {
    /// Work per second in the test's metric units (`unit_scale` per unit of work).
    pub fn throughput(&self, unit_scale: f64) -> f64 {
        self.work_units as f64 * unit_scale / (self.wall_ns.max(1) as f64 / 1e9)
    }
}

/// 128 random bits as hex: std's hasher keys come from the OS's random source.
fn new_run_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let word = || {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        hasher.write_u32(std::process::id());
        hasher.finish()
    };
    format!("{:016x}{:016x}", word(), word())
}

impl ResultsFile {
    /// The key a store records this run under: its run id, or for files from before run ids,
    /// its host name and start time.
    pub fn run_key(&self) -> String {
        self.run_id
            .clone()
            .unwrap_or_else(|| format!("{}@{}", self.system.hostname, self.created))
    }

    /// An empty results file for a run with these settings and variants, on this machine.
    pub fn new(settings: Settings, variants: Vec<VariantRecord>) -> Self {
        let now = utc_now();
        Self {
            schema_version: SCHEMA_VERSION,
            ftbench_version: env!("CARGO_PKG_VERSION").to_string(),
            created: now.clone(),
            updated: now,
            run_id: Some(new_run_id()),
            command_line: std::env::args().collect(),
            system: SystemInfo::collect(),
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
            results: Value::Null,
            derived: HashMap::new(),
            measuring: false,
            index: PointIndexCache::default(),
        }
    }

    /// The point index, rebuilt if points were added since it was built.
    fn index(&self) -> std::sync::Arc<PointIndex> {
        let mut cache = self
            .index
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(index) = cache.as_ref().filter(|i| i.points == self.points.len()) {
            return std::sync::Arc::clone(index);
        }
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
        let index = std::sync::Arc::new(PointIndex {
            points: self.points.len(),
            by_test,
            tests,
            series: std::sync::Mutex::default(),
        });
        *cache = Some(std::sync::Arc::clone(&index));
        index
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

    /// Add a regular test's durations measured elsewhere (a pyperf import) for `label`.
    pub fn add_imported(&mut self, test: &str, label: &str, seconds: &[f64], gil_enabled: bool) {
        if workloads::find(test).is_none() && !self.external_tests.iter().any(|t| t.name == test) {
            self.external_tests.push(ExternalTest {
                name: test.to_string(),
                group: Group::Regular,
                metric: "runs_per_sec".to_string(),
            });
        }
        if !self.settings.tests.iter().any(|t| t == test) {
            self.settings.tests.push(test.to_string());
        }
        let samples: Vec<PointSample> = seconds
            .iter()
            .map(|s| PointSample {
                process: 0,
                wall_ns: (s * 1e9).round().max(1.0) as u64,
                work_units: 1,
                gil_enabled,
                extra: None,
                load: None,
                disturbed: false,
                memory: None,
            })
            .collect();
        let rates: Vec<f64> = seconds.iter().map(|s| 1.0 / s).collect();
        if let Some(throughput) = Summary::from_samples(&rates) {
            self.points.push(Point {
                test: test.to_string(),
                label: label.to_string(),
                thread_count: 0,
                samples,
                throughput,
                gil_mismatches: 0,
            });
        }
    }

    pub fn point(&self, test: &str, label: &str, thread_count: u32) -> Option<&Point> {
        self.points_of(test, label)
            .into_iter()
            .find(|p| p.thread_count == thread_count)
    }

    pub fn calibration(&self, test: &str, label: &str) -> Option<&Calibration> {
        self.calibrations
            .iter()
            .find(|c| c.test == test && c.label == label)
    }

    /// A point's samples as throughputs in its test's metric.
    pub fn throughputs(&self, point: &Point) -> Vec<f64> {
        throughputs(point, self.unit_scale_of(&point.test))
    }

    /// Labels in the order the run measured them.
    pub fn labels(&self) -> Vec<String> {
        self.variants.iter().map(|v| v.label.clone()).collect()
    }

    /// Tests with at least one point, in suite order.
    pub fn tests(&self) -> Vec<String> {
        self.index().tests.clone()
    }

    /// The curve of `label` on `test`, from the raw samples; derived once, then remembered until
    /// points are added.
    pub fn series(&self, test: &str, label: &str) -> Option<Series> {
        let index = self.index();
        let key = (test.to_string(), label.to_string());
        if let Some(known) = index
            .series
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
        {
            return known.clone();
        }
        let series = self.derive_series(test, label);
        index
            .series
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key, series.clone());
        series
    }

    /// Derive every series now, on every core: the bootstraps are independent and seeded by
    /// their samples, so the numbers are those [`Self::series`] would give one by one.
    pub fn derive_all_series(&self) {
        let index = self.index();
        let keys: Vec<(&str, &str)> = index
            .by_test
            .iter()
            .flat_map(|(test, labels)| labels.keys().map(move |l| (test.as_str(), l.as_str())))
            .collect();
        let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let chunk = keys.len().div_ceil(workers).max(1);
        std::thread::scope(|scope| {
            for part in keys.chunks(chunk) {
                scope.spawn(move || {
                    for (test, label) in part {
                        self.series(test, label);
                    }
                });
            }
        });
    }

    fn derive_series(&self, test: &str, label: &str) -> Option<Series> {
        let unit_scale = self.unit_scale_of(test);
        let all = self.points_of(test, label);
        let serial_point = all.iter().find(|p| p.thread_count == 0).copied();
        let serial_values = serial_point.map(|p| throughputs(p, unit_scale));
        let points: Vec<&Point> = all.into_iter().filter(|p| p.thread_count > 0).collect();
        if points.is_empty() && serial_point.is_none() {
            return None;
        }
        let expects_gil = self
            .variants
            .iter()
            .find(|v| v.label == label)
            .is_some_and(|v| v.expects_gil);
        let serial_rss = serial_point.and_then(Point::rss_kb);
        let metrics: Vec<PointMetrics> = points
            .iter()
            .map(|p| {
                let values = throughputs(p, unit_scale);
                let speedup = serial_values
                    .as_ref()
                    .filter(|s| !s.is_empty() && !values.is_empty())
                    .map(|serial| stats::ratio_ci(&values, serial));
                let efficiency = speedup.map(|s| s.value / f64::from(p.thread_count));
                let parallelism = p.load_median(|l| Some(l.parallelism));
                let verdict = Verdict::judge(&verdict::Evidence {
                    thread_count: p.thread_count,
                    efficiency,
                    parallelism,
                    gil: expects_gil || p.gil_mismatches > 0,
                    processes: crate::workloads::uses_processes(test),
                    disturbed: p.disturbed(),
                    usable_cpus: self.system.usable_cpus(),
                });
                PointMetrics {
                    thread_count: p.thread_count,
                    value: p.throughput.clone(),
                    speedup,
                    efficiency,
                    karp_flatt: speedup.and_then(|s| stats::karp_flatt(s.value, p.thread_count)),
                    gil_mismatches: p.gil_mismatches,
                    parallelism,
                    other_load: p.load_median(|l| l.other_load),
                    steal: p.load_median(|l| l.steal),
                    disturbed_samples: p.disturbed_samples(),
                    voluntary_switches: p.load_median(|l| l.voluntary_switches.map(|v| v as f64)),
                    involuntary_switches: p
                        .load_median(|l| l.involuntary_switches.map(|v| v as f64)),
                    max_rss_mb: p.max_rss_mb(),
                    memory_per_thread_kb: serial_rss
                        .zip(p.rss_kb())
                        .map(|(serial, own)| (own - serial) / f64::from(p.thread_count)),
                    verdict,
                }
            })
            .collect();
        let first = metrics.first().and_then(|m| m.speedup).map(|s| s.value);
        let best = metrics
            .iter()
            .filter_map(|m| m.speedup.map(|s| s.value))
            .fold(None, |acc: Option<f64>, s| {
                Some(acc.map_or(s, |a| a.max(s)))
            });
        Some(Series {
            serial: serial_point.map(|p| p.throughput.clone()),
            points: metrics,
            scaling_factor: first.zip(best).map(|(f, b)| b / f),
        })
    }

    /// The group a test's numbers belong to.
    pub fn group_of(&self, test: &str) -> Group {
        if let Some(info) = self.test_info(test) {
            return info.group;
        }
        workloads::find(test)
            .map(|w| w.group)
            .or_else(|| {
                self.external_tests
                    .iter()
                    .find(|t| t.name == test)
                    .map(|t| t.group)
            })
            .unwrap_or(Group::Scaling)
    }

    /// The throughput metric's key for a test (`ops_per_sec`, ...).
    pub fn metric_of(&self, test: &str) -> String {
        if let Some(info) = self.test_info(test) {
            return info.metric.clone();
        }
        workloads::find(test).map_or_else(
            || {
                self.external_tests
                    .iter()
                    .find(|t| t.name == test)
                    .map_or_else(|| "throughput".to_string(), |t| t.metric.clone())
            },
            |w| w.metric.to_string(),
        )
    }

    /// The recorded description of a test, for files that carry one.
    fn test_info(&self, test: &str) -> Option<&TestInfo> {
        self.settings.test_info.iter().find(|t| t.name == test)
    }

    /// Metric units per unit of work of a test: as recorded, else from the registry.
    pub fn unit_scale_of(&self, test: &str) -> f64 {
        self.test_info(test).map_or_else(
            || workloads::find(test).map_or(1.0, |w| w.unit_scale),
            |t| t.unit_scale,
        )
    }

    /// Whether `label` is ftbench's native reference (by what its variant is, not by its name: a
    /// Python labelled `native` is a Python).
    pub fn is_native(&self, label: &str) -> bool {
        self.variants
            .iter()
            .any(|v| v.label == label && v.source == crate::interpreter::InterpreterSource::Native)
    }

    /// The label of the native reference, if the run has one.
    pub fn native_label(&self) -> Option<&str> {
        self.variants
            .iter()
            .find(|v| v.source == crate::interpreter::InterpreterSource::Native)
            .map(|v| v.label.as_str())
    }

    /// The label regular tests compare against.
    pub fn baseline(&self) -> Option<String> {
        let labels = self.labels();
        self.settings
            .baseline
            .clone()
            .filter(|b| labels.contains(b))
            .or_else(|| labels.first().cloned())
    }

    /// Seconds per sample of a serial point.
    /// Seconds per single run of a regular test: a sample times a calibrated batch of
    /// `work_units` runs (the batch size stays in the raw samples).
    fn durations(&self, test: &str, label: &str) -> Option<Vec<f64>> {
        self.point(test, label, 0).map(|p| {
            p.samples
                .iter()
                .map(|s| s.wall_ns as f64 / 1e9 / s.work_units.max(1) as f64)
                .collect()
        })
    }

    /// Each worker process's peak memory for a serial point, in MiB.
    fn peaks_mb(&self, test: &str, label: &str) -> Vec<f64> {
        self.point(test, label, 0)
            .map(Point::process_peaks_mb)
            .unwrap_or_default()
    }

    /// A regular test's duration, speedup and memory against the baseline for `label`.
    pub fn regular(&self, test: &str, label: &str) -> Option<RegularEntry> {
        let durations = self.durations(test, label)?;
        let duration = Summary::from_samples(&durations)?;
        let baseline = self.baseline();
        let speedup = baseline
            .as_ref()
            .and_then(|b| self.durations(test, b))
            .filter(|b| !b.is_empty())
            .map(|baseline| stats::ratio_ci(&baseline, &durations));
        let peaks = self.peaks_mb(test, label);
        let memory_ratio = baseline
            .map(|b| self.peaks_mb(test, &b))
            .filter(|b| !b.is_empty() && !peaks.is_empty())
            .map(|baseline| stats::ratio_ci(&peaks, &baseline));
        Some(RegularEntry {
            duration,
            speedup,
            max_rss_mb: (!peaks.is_empty()).then(|| stats::median(&peaks)),
            memory_ratio,
        })
    }

    /// PEP 779 bounds a free-threaded build's memory against a GIL build's: `ratio` (the
    /// memory of `label` over the baseline's) as free-threaded over GIL, or `None` when both
    /// are the same kind of build (a `+gil` variant is its free-threaded build). With a
    /// free-threaded baseline the ratio is inverted: 0.75x of 3.13t is 3.13t at 1.34x.
    pub fn pep_779_ratio(&self, label: &str, ratio: Estimate) -> Option<Estimate> {
        let baseline = self.baseline()?;
        let free_threaded = |l: &str| {
            self.variants
                .iter()
                .find(|v| v.label == l)
                .map(|v| v.info.free_threaded)
        };
        match (free_threaded(label)?, free_threaded(&baseline)?) {
            (true, false) => Some(ratio),
            (false, true) => Some(Estimate::new(
                1.0 / ratio.value,
                1.0 / ratio.high,
                1.0 / ratio.low,
            )),
            _ => None,
        }
    }

    /// Regular tests measured, in suite order.
    pub fn regular_tests(&self) -> Vec<String> {
        self.tests()
            .into_iter()
            .filter(|t| self.group_of(t) == Group::Regular)
            .collect()
    }

    /// How `label` did over every regular test that it and the baseline both ran.
    pub fn regular_summary(&self, label: &str) -> Option<RegularSummary> {
        let baseline = self.baseline()?;
        let mut pairs = Vec::new();
        let mut memory_pairs = Vec::new();
        let mut entries = Vec::new();
        for test in self.regular_tests() {
            let (Some(base), Some(own)) = (
                self.durations(&test, &baseline),
                self.durations(&test, label),
            ) else {
                continue;
            };
            if let Some(entry) = self.regular(&test, label) {
                entries.push(entry);
            }
            pairs.push((base, own));
            let (own, base) = (self.peaks_mb(&test, label), self.peaks_mb(&test, &baseline));
            if !own.is_empty() && !base.is_empty() {
                memory_pairs.push((own, base));
            }
        }
        if entries.is_empty() {
            return None;
        }
        let borrowed: Vec<(&[f64], &[f64])> = pairs
            .iter()
            .map(|(a, b)| (a.as_slice(), b.as_slice()))
            .collect();
        let speedups: Vec<Estimate> = entries.iter().filter_map(|e| e.speedup).collect();
        Some(RegularSummary {
            tests: entries.len(),
            average_duration: entries.iter().map(|e| e.duration.median).sum::<f64>()
                / entries.len() as f64,
            average_speedup: speedups.iter().map(|s| s.value).sum::<f64>()
                / speedups.len().max(1) as f64,
            geometric_mean: stats::geometric_mean_ci(&borrowed),
            faster: speedups.iter().filter(|s| s.low > 1.0).count(),
            slower: speedups.iter().filter(|s| s.high < 1.0).count(),
            memory_geometric_mean: stats::geometric_mean_ci(
                &memory_pairs
                    .iter()
                    .map(|(a, b)| (a.as_slice(), b.as_slice()))
                    .collect::<Vec<_>>(),
            ),
        })
    }

    /// A thread test's per-thread cost and phase percentiles for `label`.
    pub fn thread_entry(&self, test: &str, label: &str) -> Option<ThreadEntry> {
        let point = self.point(test, label, 0)?;
        let threads = point.samples.first()?.work_units.max(1);
        let micros: Vec<f64> = point
            .samples
            .iter()
            .map(|s| s.wall_ns as f64 / 1e3 / s.work_units.max(1) as f64)
            .collect();
        let mut phases_us = Vec::new();
        let phase_names: Vec<String> = point
            .samples
            .iter()
            .filter_map(|s| s.extra.as_ref()?["phases_us"].as_object())
            .flat_map(|m| m.keys().cloned())
            .fold(Vec::new(), |mut names, n| {
                if !names.contains(&n) {
                    names.push(n);
                }
                names
            });
        for phase in phase_names {
            let median_of = |q: &str| {
                let values: Vec<f64> = point
                    .samples
                    .iter()
                    .filter_map(|s| s.extra.as_ref()?["phases_us"][&phase][q].as_f64())
                    .collect();
                (!values.is_empty()).then(|| stats::median(&values))
            };
            let percentiles = Percentiles {
                p50: median_of("p50"),
                p95: median_of("p95"),
                p99: median_of("p99"),
            };
            phases_us.push((phase, percentiles));
        }
        let live: Vec<f64> = point
            .samples
            .iter()
            .filter_map(|s| s.extra.as_ref()?["kb_per_live_thread"].as_f64())
            .collect();
        Some(ThreadEntry {
            us_per_thread: Summary::from_samples(&micros)?,
            threads,
            phases_us,
            max_rss_mb: point.max_rss_mb(),
            kb_per_live_thread: (!live.is_empty()).then(|| stats::median(&live)),
        })
    }

    /// Rebuild the seed-schema `results` section from the points.
    pub fn derive_results(&mut self) {
        let mut groups: Vec<(&str, Map<String, Value>)> = Vec::new();
        let baseline_points = |results: &Self, test: &str| {
            results.baseline().map_or(0, |b| {
                results
                    .points
                    .iter()
                    .filter(|p| p.test == test && p.label == b)
                    .count()
            })
        };
        for test in self.tests() {
            let group_kind = self.group_of(&test);
            let group = group_kind.key();
            let metric = self.metric_of(&test);
            let mut per_label = Map::new();
            for label in self.labels() {
                // A regular test's speedup also moves when the baseline's point arrives.
                let count = self
                    .points
                    .iter()
                    .filter(|p| p.test == test && p.label == label)
                    .count()
                    + 1000 * baseline_points(self, &test);
                let key = (test.clone(), label.clone());
                if let Some((cached, value)) = self.derived.get(&key)
                    && *cached == count
                {
                    per_label.insert(label, value.clone());
                    continue;
                }
                let with_accounting = |mut value: Value| {
                    if let Some(point) = self.point(&test, &label, 0) {
                        add_accounting(&mut value, point);
                    }
                    value
                };
                let value = match group_kind {
                    Group::Regular => self
                        .regular(&test, &label)
                        .map(|e| with_accounting(regular_json(&e))),
                    Group::Threads => self
                        .thread_entry(&test, &label)
                        .map(|e| with_accounting(thread_json(&e))),
                    Group::Scaling | Group::Pool => {
                        self.series(&test, &label).map(|s| series_json(&s, &metric))
                    }
                };
                let Some(value) = value else {
                    continue;
                };
                self.derived.insert(key, (count, value.clone()));
                per_label.insert(label, value);
            }
            match groups.iter_mut().find(|(key, _)| *key == group) {
                Some((_, tests)) => {
                    tests.insert(test, Value::Object(per_label));
                }
                None => groups.push((group, Map::from_iter([(test, Value::Object(per_label))]))),
            }
        }
        let mut results: Map<String, Value> = groups
            .into_iter()
            .map(|(key, tests)| (key.to_string(), Value::Object(tests)))
            .collect();
        if let Some(summary) = self.derive_regular_summary() {
            results.insert("regular_summary".to_string(), summary);
        }
        self.results = Value::Object(results);
    }

    /// The regular suite's summary per label (cached until a regular point arrives).
    fn derive_regular_summary(&mut self) -> Option<Value> {
        let regular_points = self
            .points
            .iter()
            .filter(|p| self.group_of(&p.test) == Group::Regular)
            .count();
        if regular_points == 0 {
            return None;
        }
        {
            let mut summaries = Map::new();
            for label in self.labels() {
                // The suite summary bootstraps every test together: recomputed only when a
                // regular point arrived.
                let key = ("regular_summary".to_string(), label.clone());
                if let Some((cached, value)) = self.derived.get(&key)
                    && (*cached == regular_points || self.measuring)
                {
                    summaries.insert(label, value.clone());
                    continue;
                }
                let Some(s) = self.regular_summary(&label) else {
                    continue;
                };
                let value = json!({
                            "tests": s.tests,
                            "average_duration": s.average_duration,
                            "average_speedup": s.average_speedup,
                            "geometric_mean": s.geometric_mean.map(|g| g.value),
                            "geometric_mean_ci_low": s.geometric_mean.map(|g| g.low),
                            "geometric_mean_ci_high": s.geometric_mean.map(|g| g.high),
                            "significant": s.significant(),
                            "faster": s.faster,
                            "slower": s.slower,
                });
                let mut value = value;
                if let Some(memory) = s.memory_geometric_mean {
                    value["memory_geometric_mean"] = json!(memory.value);
                    value["memory_geometric_mean_ci_low"] = json!(memory.low);
                    value["memory_geometric_mean_ci_high"] = json!(memory.high);
                    if let Some(oriented) = self.pep_779_ratio(&label, memory) {
                        value["pep_779"] = json!(pep_779(oriented));
                        value["pep_779_ratio"] = json!(oriented.value);
                    }
                }
                self.derived.insert(key, (regular_points, value.clone()));
                summaries.insert(label, value);
            }
            Some(json!({ "baseline": self.baseline(), "labels": summaries }))
        }
    }
}

/// A regular or thread entry's CPU accounting, from its one (serial) point, when it has any.
fn add_accounting(value: &mut Value, point: &Point) {
    let Some(parallelism) = point.load_median(|l| Some(l.parallelism)) else {
        return;
    };
    value["parallelism"] = json!(parallelism);
    if let Some(other) = point.load_median(|l| l.other_load) {
        value["other_load"] = json!(other);
    }
    if let Some(steal) = point.load_median(|l| l.steal) {
        value["steal"] = json!(steal);
    }
    value["disturbed"] = json!(point.disturbed());
}

fn regular_json(entry: &RegularEntry) -> Value {
    let mut value = json!({
        "duration": entry.duration.median,
        "duration_ci_low": entry.duration.ci_low,
        "duration_ci_high": entry.duration.ci_high,
        "cv": entry.duration.cv,
        "samples": entry.duration.n,
    });
    if let Some(Estimate {
        value: speedup,
        low,
        high,
    }) = entry.speedup
    {
        value["speedup"] = json!(speedup);
        value["speedup_ci_low"] = json!(low);
        value["speedup_ci_high"] = json!(high);
    }
    if let Some(mb) = entry.max_rss_mb {
        value["max_rss_mb"] = json!(mb);
    }
    if let Some(Estimate {
        value: ratio,
        low,
        high,
    }) = entry.memory_ratio
    {
        value["memory_ratio"] = json!(ratio);
        value["memory_ratio_ci_low"] = json!(low);
        value["memory_ratio_ci_high"] = json!(high);
    }
    value
}

fn thread_json(entry: &ThreadEntry) -> Value {
    let mut value = json!({
        "us_per_thread": entry.us_per_thread.median,
        "us_per_thread_ci_low": entry.us_per_thread.ci_low,
        "us_per_thread_ci_high": entry.us_per_thread.ci_high,
        "threads": entry.threads,
        "total_ms": entry.us_per_thread.median * entry.threads as f64 / 1e3,
        "phases_us": entry
            .phases_us
            .iter()
            .map(|(phase, p)| (phase.clone(), json!(p)))
            .collect::<Map<String, Value>>(),
    });
    if let Some(mb) = entry.max_rss_mb {
        value["max_rss_mb"] = json!(mb);
    }
    if let Some(kb) = entry.kb_per_live_thread {
        value["kb_per_live_thread"] = json!(kb);
    }
    value
}

fn series_json(series: &Series, metric: &str) -> Value {
    let scaling_data: Vec<Value> = series
        .points
        .iter()
        .map(|p| {
            let mut metrics = Map::new();
            metrics.insert(metric.to_string(), json!(p.value.median));
            metrics.insert(format!("{metric}_ci_low"), json!(p.value.ci_low));
            metrics.insert(format!("{metric}_ci_high"), json!(p.value.ci_high));
            if let Some(Estimate {
                value: speedup,
                low,
                high,
            }) = p.speedup
            {
                metrics.insert("speedup".into(), json!(speedup));
                metrics.insert("speedup_ci_low".into(), json!(low));
                metrics.insert("speedup_ci_high".into(), json!(high));
            }
            if let Some(efficiency) = p.efficiency {
                metrics.insert("efficiency".into(), json!(efficiency));
            }
            metrics.insert("karp_flatt".into(), json!(p.karp_flatt));
            metrics.insert("cv".into(), json!(p.value.cv));
            metrics.insert("samples".into(), json!(p.value.n));
            for (key, value) in [
                ("parallelism", p.parallelism),
                ("other_load", p.other_load),
                ("steal", p.steal),
                ("voluntary_switches", p.voluntary_switches),
                ("involuntary_switches", p.involuntary_switches),
                ("max_rss_mb", p.max_rss_mb),
                ("memory_per_thread_kb", p.memory_per_thread_kb),
            ] {
                if let Some(value) = value {
                    metrics.insert(key.into(), json!(value));
                }
            }
            let mut point = json!({
                "thread_count": p.thread_count,
                "metrics": metrics,
                "gil_reenabled": p.gil_mismatches > 0,
            });
            // Only files measured with accounting say so: the seed's schema stays as it was.
            if p.parallelism.is_some() || p.disturbed_samples > 0 {
                point["disturbed"] = json!(p.disturbed_samples > 0);
            }
            if let Some(verdict) = p.verdict {
                point["verdict"] = json!(verdict);
            }
            point
        })
        .collect();
    json!({
        "scaling_data": scaling_data,
        "serial": series.serial.as_ref().map(|s| json!({
            metric: s.median, "ci_low": s.ci_low, "ci_high": s.ci_high, "cv": s.cv,
        })),
        "scaling_factor": series.scaling_factor,
    })
}

#[cfg(test)]
mod info_tests {
    use super::*;

    #[test]
    fn a_file_keeps_the_meaning_it_was_written_with() {
        let mut results = ResultsFile::new(Settings::default(), Vec::new());
        // The registry's own idea of the test, for a file that does not say.
        assert_eq!(results.metric_of("parallel_compute"), "ops_per_sec");
        assert_eq!(results.group_of("parallel_compute"), Group::Scaling);
        // A file written when the test measured something else is read as it was written.
        results.settings.test_info.push(TestInfo {
            name: "parallel_compute".into(),
            module: "parallel_compute".into(),
            group: Group::Pool,
            metric: "widgets_per_sec".into(),
            unit_scale: 2.0,
        });
        assert_eq!(results.metric_of("parallel_compute"), "widgets_per_sec");
        assert_eq!(results.group_of("parallel_compute"), Group::Pool);
        assert!((results.unit_scale_of("parallel_compute") - 2.0).abs() < f64::EPSILON);
        let info = TestInfo::of(crate::workloads::find("nbody").unwrap());
        assert_eq!(
            (info.group, info.metric.as_str()),
            (Group::Regular, "runs_per_sec")
        );
    }

    /// PEP 779 is about a free-threaded build against a GIL build, whichever is the baseline:
    /// on 16 cores the GIL build read 0.747x of a 3.13t baseline, and was called "within the
    /// bar" though 3.13t held 1.34x the GIL build's memory.
    #[test]
    fn pep_779_compares_the_free_threaded_build_with_the_gil_build() {
        let variant = |label: &str, free_threaded: bool| {
            let mut v = testing::test_variant(label);
            v.info.free_threaded = free_threaded;
            v
        };
        let mut results = ResultsFile::new(
            Settings::default(),
            vec![
                variant("ft", true),
                variant("ft+gil", true),
                variant("gil", false),
            ],
        );
        let gil_of_ft = Estimate::new(0.747, 0.745, 0.749);
        results.settings.baseline = Some("ft".into());
        let oriented = results.pep_779_ratio("gil", gil_of_ft).unwrap();
        assert!((oriented.value - 1.0 / 0.747).abs() < 1e-9);
        assert!(oriented.low < oriented.value && oriented.value < oriented.high);
        assert_eq!(pep_779(oriented), "above");
        // The same build with its GIL forced on is no GIL build.
        assert_eq!(results.pep_779_ratio("ft+gil", Estimate::exact(1.0)), None);
        results.settings.baseline = Some("gil".into());
        let ft_of_gil = Estimate::new(1.1, 1.05, 1.15);
        assert_eq!(results.pep_779_ratio("ft", ft_of_gil), Some(ft_of_gil));
        assert_eq!(pep_779(ft_of_gil), "within");
    }
}
