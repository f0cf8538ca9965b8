//! The results file: every raw sample and setting of a run, plus a `results` section in the seed
//! study's schema (`results.scaling_tests[test][label].scaling_data[...]`), derived from the
//! samples each time the file is written.

pub mod gate;
pub mod guard;
mod json;
pub mod pyperf;
mod seed;
#[cfg(test)]
pub mod testing;
pub mod threads;
mod time;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::files::write_atomically;
pub use json::load;
pub use threads::{ThreadTime, TimeShares};
pub use time::{utc_at, utc_now, utc_stamp_for_file};

use crate::interpreter::{GilMode, InterpreterInfo, InterpreterSource};
use crate::machine::sysinfo::SystemInfo;
use crate::stats::{self, Summary};
use crate::workloads::{self, Group};

/// The longest label, test, machine or host name ftbench records or reads, in characters: far
/// above any real one, far below what would break a table (a 65 536-character label made every
/// table code panic) or a database index.
pub const MAX_NAME_CHARS: usize = 256;

/// A `kind` of name (`label`, `machine name`, ...) that fits [`MAX_NAME_CHARS`] and holds no NUL
/// (`PostgreSQL` refuses it); the error names it, shortened and escaped.
pub fn check_name(kind: &str, name: &str) -> Result<(), String> {
    let chars = name.chars().count();
    let shown = || {
        let head: String = name.chars().take(40).collect();
        format!(
            "`{}{}`",
            crate::output::escape(&head),
            if chars > 40 { "…" } else { "" }
        )
    };
    if chars > MAX_NAME_CHARS {
        return Err(format!(
            "the {kind} {} has {chars} characters; the most is {MAX_NAME_CHARS}",
            shown()
        ));
    }
    if name.contains('\0') {
        return Err(format!("the {kind} {} holds a NUL byte", shown()));
    }
    Ok(())
}

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

impl std::fmt::Display for PyperformanceMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl PyperformanceSettings {
    /// A benchmark's deadline unless `--timeout` says otherwise: generous, since a rigorous
    /// run of a slow benchmark with its requirements to build takes many minutes.
    pub const DEFAULT_TIMEOUT_S: u64 = 3600;
    /// The longest wall time a file may record for one label (a year).
    const MAX_WALL_S: f64 = 365.0 * 24.0 * 3600.0;

    fn default_timeout_s() -> u64 {
        Self::DEFAULT_TIMEOUT_S
    }

    /// A selection names at least one benchmark or group: `,,,` or an empty text would make
    /// pyperformance run its whole default set.
    pub fn check_selection(selection: &str) -> Result<(), String> {
        if selection.split(',').all(|part| part.trim().is_empty()) {
            return Err(format!(
                "the benchmark selection `{}` names no benchmark",
                crate::output::escape(selection)
            ));
        }
        Ok(())
    }

    /// What a file may say of a pyperformance run, checked on load (its mode is one of
    /// [`PyperformanceMode`]'s by type): a selection that names something, an absolute manifest (pyperformance opens a relative
    /// one from its venv's folder, not from where the file was written), a deadline, and wall
    /// times that are durations.
    pub fn check(&self) -> Result<(), String> {
        Self::check_selection(&self.selection)?;
        if let Some(manifest) = &self.manifest
            && !manifest.is_absolute()
        {
            return Err(format!(
                "the pyperformance manifest `{}` is not an absolute path",
                crate::output::escape(&manifest.to_string_lossy())
            ));
        }
        if self.timeout_s == 0 {
            return Err("a pyperformance timeout_s of 0".to_string());
        }
        if let Some((label, s)) = self
            .wall_s
            .iter()
            .find(|(_, s)| !(s.is_finite() && (0.0..=Self::MAX_WALL_S).contains(*s)))
        {
            return Err(format!(
                "the pyperformance wall time of `{}` is {s} s, not a duration",
                crate::output::escape(label)
            ));
        }
        Ok(())
    }
}

impl Settings {
    /// The recorded description of a test, for files that carry one.
    pub fn test_info(&self, test: &str) -> Option<&TestInfo> {
        self.test_info.iter().find(|t| t.name == test)
    }

    /// Metric units per unit of work of a test, as the file records it (a loaded file records
    /// every test: [`ResultsFile::record_test_info`]).
    pub fn unit_scale_of(&self, test: &str) -> f64 {
        self.test_info(test).map_or(1.0, |t| t.unit_scale)
    }
}

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
    /// recorded it, until [`ResultsFile::record_test_info`] fills it in on load.
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

impl Workers {
    fn of(processes: bool) -> Self {
        if processes {
            Self::Processes
        } else {
            Self::Threads
        }
    }

    /// `count` of them as a phrase: `serial`, `1 thread`, `2 processes`.
    pub fn count(self, count: u32) -> String {
        match (self, count) {
            (Self::Threads, _) => crate::format::threads(count),
            (Self::Processes, 0) => "serial".to_string(),
            (Self::Processes, 1) => "1 process".to_string(),
            (Self::Processes, n) => format!("{n} processes"),
        }
    }
}

pub use crate::workloads::native::Role as NativeRole;

impl TestInfo {
    /// A test ftbench's registry does not define (imported, pyperformance's, the seed's own):
    /// one unit of work is one unit of its metric.
    pub fn external(name: &str, module: &str, group: Group, metric: &str) -> Self {
        Self {
            name: name.to_string(),
            module: module.to_string(),
            group,
            metric: metric.to_string(),
            unit_scale: 1.0,
            workers: Some(Workers::Threads),
            native: None,
        }
    }

    pub fn of(workload: &workloads::Workload) -> Self {
        Self {
            name: workload.name.to_string(),
            module: workload.module.to_string(),
            group: workload.group,
            metric: workload.metric.to_string(),
            unit_scale: workload.unit_scale,
            workers: Some(Workers::of(workload.uses_processes())),
            native: workloads::native::role(workload.name),
        }
    }

    /// Whether the test's parallel units are worker processes.
    pub fn uses_processes(&self) -> bool {
        self.workers == Some(Workers::Processes)
    }

    /// Whether ftbench's native kernel bounds what Python can do on the test.
    pub fn native_is_ceiling(&self) -> bool {
        self.native == Some(NativeRole::Ceiling)
    }

    /// A point's parallel units as a phrase: `2 threads`, `2 processes`, `serial`.
    pub fn workers(&self, count: u32) -> String {
        Workers::of(self.uses_processes()).count(count)
    }

    /// Fill in what files from before ftbench recorded it lack, by the rules that ftbench
    /// applied when it wrote them (the test's name).
    fn migrate(&mut self) {
        if self.workers.is_none() {
            self.workers = Some(Workers::of(workloads::used_processes(&self.name)));
            self.native = workloads::native::role(&self.name);
        }
    }

    /// A test that a file from before ftbench recorded test facts names without them (an
    /// import, a user test): its parallel units and native role by the rules of then.
    fn by_old_rules(name: &str, group: Group, metric: &str) -> Self {
        let mut info = Self {
            workers: None,
            ..Self::external(name, "", group, metric)
        };
        info.migrate();
        info
    }
}

/// The most threads a point may ask for without `--force`; a seed-schema file's thread counts
/// are read up to it.
pub const MAX_THREADS: u32 = 4096;
/// The most threads a point may have at all, `--force` or not: a file saying 4294967295 threads
/// is broken, not a big machine.
pub const MAX_FORCED_THREADS: u32 = 1 << 20;

/// A user's function as a test, as recorded in the settings (defined with the tests).
pub use crate::workloads::UserTest;

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

impl VariantRecord {
    /// How a variant about to be measured is recorded.
    pub fn of(variant: &crate::interpreter::Variant) -> Self {
        Self {
            label: variant.label.clone(),
            path: variant.interpreter.path.clone(),
            run_path: variant.run_path.clone(),
            source: variant.interpreter.source,
            gil_mode: variant.gil,
            expects_gil: variant.expects_gil(),
            info: variant.interpreter.info.clone(),
        }
    }
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
    /// and measuring the process again did not help (see [`threads`]).
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

impl Point {
    /// `parallel_compute on 3.13t at 2 threads`, as warnings name a point (`info`: its test's).
    pub fn name(&self, info: &TestInfo) -> String {
        format!(
            "{} on {} at {}",
            self.test,
            self.label,
            info.workers(self.thread_count)
        )
    }

    /// How many samples other work on the machine disturbed.
    pub fn disturbed_samples(&self) -> usize {
        self.samples.iter().filter(|s| s.disturbed).count()
    }

    /// Where the threads' time went: each share's median over the samples that say.
    pub fn time_shares(&self) -> Option<TimeShares> {
        let all: Vec<TimeShares> = self
            .samples
            .iter()
            .filter_map(PointSample::time_shares)
            .collect();
        if all.is_empty() {
            return None;
        }
        let median =
            |f: &dyn Fn(&TimeShares) -> f64| stats::median(&all.iter().map(f).collect::<Vec<_>>());
        let waits: Vec<f64> = all.iter().filter_map(|t| t.cpu_wait).collect();
        Some(TimeShares {
            running: median(&|t| t.running),
            cpu_wait: (waits.len() == all.len()).then(|| stats::median(&waits)),
            blocked: median(&|t| t.blocked),
            late: median(&|t| t.late),
            idle: median(&|t| t.idle),
            imbalance: median(&|t| t.imbalance),
            fastest_ns_per_unit: median(&|t| t.fastest_ns_per_unit),
        })
    }

    /// The CPU the slowest part ran on in most samples, with the share of samples, where one did.
    pub fn slowest_cpu(&self) -> Option<(u32, f64)> {
        let cpus: Vec<u32> = self
            .samples
            .iter()
            .filter_map(|s| threads::slowest_cpu(&s.threads))
            .collect();
        let mut counts: Vec<(u32, usize)> = Vec::new();
        for cpu in &cpus {
            match counts.iter_mut().find(|(c, _)| c == cpu) {
                Some((_, n)) => *n += 1,
                None => counts.push((*cpu, 1)),
            }
        }
        let (cpu, n) = counts.into_iter().max_by_key(|(_, n)| *n)?;
        Some((cpu, n as f64 / self.samples.len().max(1) as f64))
    }

    /// How many samples ran on unequal CPUs even when measured again.
    pub fn unequal_samples(&self) -> usize {
        self.samples.iter().filter(|s| s.unequal).count()
    }

    /// Whether any sample was disturbed: its numbers may not be what this machine can do.
    pub fn disturbed(&self) -> bool {
        self.samples.iter().any(|s| s.disturbed)
    }

    /// Whether most samples' threads ran unequal even when measured again (CPUs of unequal
    /// speed): its numbers say what the machine did more than what the code did. (A few such
    /// samples, common on a VM, leave the median alone.)
    pub fn mostly_unequal(&self) -> bool {
        2 * self.samples.iter().filter(|s| s.unequal).count() > self.samples.len()
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
    pub gates: Vec<gate::GateRecord>,
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

/// A test that came from elsewhere (a pyperf import): its group and metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExternalTest {
    pub name: String,
    pub group: Group,
    pub metric: String,
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

    /// Where its threads' time went, when the worker said.
    pub fn time_shares(&self) -> Option<TimeShares> {
        TimeShares::of(self.wall_ns, self.work_units, &self.threads)
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
            command_line: crate::secrets::redacted_args(std::env::args()),
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
            gates: Vec::new(),
            results: Value::Null,
            index: PointIndexCache::default(),
        }
    }

    /// A resumed run starts: failed and skipped points are tried again, and the file records when,
    /// where, by which ftbench and whether `--force` mixed anything.
    pub fn begin_resume(&mut self, forced: bool) {
        self.errors.clear();
        self.skipped.clear();
        self.resumes.push(Resume {
            at: utc_now(),
            hostname: crate::machine::sysinfo::SystemInfo::collect().hostname,
            ftbench_version: env!("CARGO_PKG_VERSION").to_string(),
            forced,
        });
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

    /// Add `point`, or, where the file holds its (test, label, thread count) already, add its
    /// samples to that point as further worker processes (numbered after the point's own) and
    /// summarise it again. `unit_scale` is the test's metric units per unit of work.
    pub fn merge_point(&mut self, point: Point, unit_scale: f64) {
        let Some(at) = self.points.iter().position(|p| {
            p.test == point.test && p.label == point.label && p.thread_count == point.thread_count
        }) else {
            self.add_point(point);
            return;
        };
        let held = &mut self.points[at];
        let next = held
            .samples
            .iter()
            .map(|s| s.process + 1)
            .max()
            .unwrap_or(0);
        let first_new = point.samples.iter().map(|s| s.process).min().unwrap_or(0);
        held.samples.extend(point.samples.into_iter().map(|mut s| {
            s.process = next + (s.process - first_new);
            s
        }));
        held.gil_mismatches += point.gil_mismatches;
        if let Some(summary) = crate::stats::Summary::from_samples(&throughputs(held, unit_scale)) {
            held.throughput = summary;
        }
        self.forget_index();
    }

    /// Keep only the points `keep` accepts (tests that play an interrupted run).
    #[cfg(test)]
    pub fn retain_points(&mut self, keep: impl FnMut(&Point) -> bool) {
        self.points.retain(keep);
        self.forget_index();
    }

    /// Drop the point index: `points` changed.
    fn forget_index(&mut self) {
        *self
            .index
            .0
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }

    /// The point index, built on first use after `points` changed.
    fn index(&self) -> std::sync::Arc<PointIndex> {
        let mut cache = self
            .index
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(index) = cache.as_ref() {
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
        let index = std::sync::Arc::new(PointIndex { by_test, tests });
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
        if self.test_info(test).is_none() {
            self.settings.test_info.push(match workloads::find(test) {
                Some(workload) => TestInfo::of(workload),
                None => TestInfo::external(test, "pyperf", Group::Regular, "runs_per_sec"),
            });
        }
        self.add_single_run(
            test,
            label,
            seconds,
            &SingleRun {
                gil_enabled,
                expects_gil: gil_enabled,
                disturbed: false,
                extra: None,
            },
        );
    }

    /// Add a single-run test's durations (seconds, every value kept) for `label`, each value a
    /// sample with the facts `run` gives; nothing without a value.
    pub fn add_single_run(&mut self, test: &str, label: &str, seconds: &[f64], run: &SingleRun) {
        if !self.settings.tests.iter().any(|t| t == test) {
            self.settings.tests.push(test.to_string());
        }
        let samples: Vec<PointSample> = seconds
            .iter()
            .map(|s| PointSample {
                process: 0,
                wall_ns: (s * 1e9).round().max(1.0) as u64,
                work_units: 1,
                gil_enabled: run.gil_enabled,
                extra: run.extra.clone(),
                load: None,
                disturbed: run.disturbed,
                memory: None,
                unequal: false,
                cpu_slowdown: None,
                threads: Vec::new(),
            })
            .collect();
        let rates: Vec<f64> = seconds.iter().map(|s| 1.0 / s).collect();
        if let Some(throughput) = Summary::from_samples(&rates) {
            let gil_mismatches = if run.gil_enabled == run.expects_gil {
                0
            } else {
                samples.len()
            };
            self.add_point(Point {
                test: test.to_string(),
                label: label.to_string(),
                thread_count: 0,
                samples,
                throughput,
                gil_mismatches,
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

    /// What a test is: as the file records it (every file written or loaded records each of its
    /// tests, [`ResultsFile::record_test_info`]), else as this ftbench's registry defines it
    /// (files built in memory), else an unknown scaling test. The one accessor of test facts.
    pub fn info(&self, test: &str) -> std::borrow::Cow<'_, TestInfo> {
        match self.settings.test_info(test) {
            Some(info) => std::borrow::Cow::Borrowed(info),
            None => std::borrow::Cow::Owned(workloads::find(test).map_or_else(
                || TestInfo::by_old_rules(test, Group::Scaling, "throughput"),
                TestInfo::of,
            )),
        }
    }

    /// How warnings name `point`: `parallel_compute on 3.13t at 2 threads`.
    pub fn point_name(&self, point: &Point) -> String {
        point.name(&self.info(&point.test))
    }

    /// Give every test the file names a recorded `TestInfo`, once, when the file is read:
    /// files from before ftbench recorded them are read as this ftbench's registry, or their
    /// `external_tests` entry (imports, user tests), defines the test. From then on the file's
    /// own facts hold, whatever a later ftbench changes.
    pub fn record_test_info(&mut self) {
        let mut names: Vec<String> = self.settings.tests.clone();
        for point in &self.points {
            if !names.contains(&point.test) {
                names.push(point.test.clone());
            }
        }
        for info in &mut self.settings.test_info {
            info.migrate();
        }
        for name in names {
            if self.settings.test_info(&name).is_some() {
                continue;
            }
            let info = match self.external_tests.iter().find(|t| t.name == name) {
                Some(external) => TestInfo::by_old_rules(&name, external.group, &external.metric),
                None => self.info(&name).into_owned(),
            };
            self.settings.test_info.push(info);
        }
        self.external_tests.clear();
    }

    /// The group a test's numbers belong to.
    pub fn group_of(&self, test: &str) -> Group {
        self.info(test).group
    }

    /// The throughput metric's key for a test (`ops_per_sec`, ...).
    pub fn metric_of(&self, test: &str) -> String {
        self.info(test).metric.clone()
    }

    /// The recorded description of a test, for files that carry one.
    fn test_info(&self, test: &str) -> Option<&TestInfo> {
        self.settings.test_info(test)
    }

    /// Metric units per unit of work of a test.
    pub fn unit_scale_of(&self, test: &str) -> f64 {
        self.info(test).unit_scale
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

    /// Single-run tests measured, in suite order: ftbench's regular tests, else (a file of
    /// `ftbench pyperformance` or of imported pyperformance runs) pyperformance's benchmarks.
    /// One file's suite is one of them: their geometric means do not mix.
    pub fn regular_tests(&self) -> Vec<String> {
        let group = self.single_run_group();
        self.tests()
            .into_iter()
            .filter(|t| self.group_of(t) == group)
            .collect()
    }

    /// The group [`ResultsFile::regular_tests`] comes from: `Regular` where the file has any
    /// of ftbench's regular tests, else `Pyperformance`.
    fn single_run_group(&self) -> Group {
        if self
            .tests()
            .iter()
            .any(|t| self.group_of(t) == Group::Regular)
        {
            Group::Regular
        } else {
            Group::Pyperformance
        }
    }

    /// The heading of the single-run tests' table: `Regular tests` or `pyperformance`.
    pub fn regular_heading(&self) -> &'static str {
        match self.single_run_group() {
            Group::Pyperformance => "pyperformance",
            _ => "Regular tests",
        }
    }

    /// What the single-run tests are called in prose: `regular test(s)` or `pyperformance
    /// benchmark(s)`.
    pub fn regular_noun(&self) -> &'static str {
        match self.single_run_group() {
            Group::Pyperformance => "pyperformance benchmark(s)",
            _ => "regular test(s)",
        }
    }
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
            workers: Some(Workers::Processes),
            native: None,
        });
        assert_eq!(results.metric_of("parallel_compute"), "widgets_per_sec");
        // Its parallel units and its native kernel's role too: the registry's name rules do
        // not decide them.
        let info = results.info("parallel_compute");
        assert_eq!(info.workers(2), "2 processes");
        assert!(!info.native_is_ceiling());
        assert_eq!(results.group_of("parallel_compute"), Group::Pool);
        assert!((results.unit_scale_of("parallel_compute") - 2.0).abs() < f64::EPSILON);
        let info = TestInfo::of(crate::workloads::find("nbody").unwrap());
        assert_eq!(
            (info.group, info.metric.as_str()),
            (Group::Regular, "runs_per_sec")
        );
    }

    #[test]
    fn each_test_records_how_it_runs() {
        let info = |name: &str| TestInfo::of(crate::workloads::find(name).unwrap());
        assert_eq!(info("parallel_compute").workers(2), "2 threads");
        assert_eq!(info("pool_cpu_bound_processes").workers(2), "2 processes");
        assert_eq!(info("np_column_compute_mp").workers(1), "1 process");
        assert_eq!(info("parallel_compute").native, Some(NativeRole::Ceiling));
        assert_eq!(info("lock_contention").native, Some(NativeRole::Reference));
        assert_eq!(info("nbody").native, None);
        let user = crate::workloads::Workload::leaked_user(
            "bench:work@processes".into(),
            vec![("executor", "process".into())],
        );
        assert!(TestInfo::of(user).uses_processes());
    }

    #[test]
    fn old_files_get_the_facts_they_were_written_with_once_on_load() {
        // A file from before ftbench recorded workers and native roles: its `test_info` says
        // neither, and a user test named by `scale --mode processes` has no entry at all.
        let json = r#"{"name": "memory_bandwidth", "module": "memory_bandwidth",
            "group": "scaling", "metric": "bytes_per_sec", "unit_scale": 8.0}"#;
        let mut results = ResultsFile::new(Settings::default(), Vec::new());
        results
            .settings
            .test_info
            .push(serde_json::from_str(json).unwrap());
        results.settings.tests = vec![
            "memory_bandwidth".into(),
            "b:f@processes".into(),
            "b:g@processes".into(),
        ];
        // Old files described user tests in `external_tests`: the name rule still holds there.
        results.external_tests.push(ExternalTest {
            name: "b:g@processes".into(),
            group: Group::Scaling,
            metric: "calls_per_sec".into(),
        });
        results.record_test_info();
        assert!(results.info("b:g@processes").uses_processes());
        assert_eq!(results.metric_of("b:g@processes"), "calls_per_sec");
        let old = results.info("memory_bandwidth");
        assert_eq!(
            (old.workers, old.native),
            (Some(Workers::Threads), Some(NativeRole::Ceiling))
        );
        assert!(results.info("b:f@processes").uses_processes());
        // Written back, the facts are there for every later reader.
        let again = serde_json::to_string(&results.settings.test_info).unwrap();
        assert!(
            again.contains(r#""workers":"threads","native":"ceiling""#),
            "{again}"
        );
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn parallel_units_read_as_words() {
        use super::Workers;
        assert_eq!(Workers::Threads.count(2), "2 threads");
        assert_eq!(Workers::Threads.count(0), "serial");
        assert_eq!(Workers::Processes.count(2), "2 processes");
        assert_eq!(Workers::Processes.count(1), "1 process");
        assert_eq!(Workers::Processes.count(0), "serial");
    }
}
