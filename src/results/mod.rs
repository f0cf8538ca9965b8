//! The results file's behaviour. Its schema (every raw sample and setting of a run) is
//! [`crate::model`]'s, re-exported here; this module builds, loads, checks and migrates it, and
//! answers what a file's tests are. The `results` section in the seed study's schema
//! (`results.scaling_tests[test][label].scaling_data[...]`) is derived from the samples each
//! time the file is written.

pub mod gate;
pub mod guard;
mod json;
pub mod pyperf;
mod seed;
#[cfg(test)]
pub mod testing;
mod time;

pub use crate::files::write_atomically;
pub use crate::model::results::{
    Calibration, CostGroup, DifferentialRecord, HarnessCost, MechanismShare, Missing, Point,
    PointSample, ProfileRecord, PyperformanceMode, PyperformanceSettings, ResultsFile, Resume,
    SCHEMA_VERSION, SampleLoad, SampleMemory, Scaling, Settings, SingleRun, SymbolGrowth,
    ThreadProfile, VariantRecord,
};
pub use crate::model::test::{
    MAX_FORCED_THREADS, MAX_NAME_CHARS, MAX_THREADS, NativeRole, TestInfo, Workers,
};
pub use crate::model::threads::{self, ThreadTime, TimeShares};
pub use json::load;
pub use time::{utc_at, utc_now, utc_stamp_for_file};

use crate::machine::sysinfo::SystemInfo;
use crate::stats::{self, Summary};
use crate::workloads::{self, Group};

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

impl PyperformanceSettings {
    /// The longest wall time a file may record for one label (a year).
    const MAX_WALL_S: f64 = 365.0 * 24.0 * 3600.0;

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

/// A user's function as a test, as recorded in the settings (defined with the tests).
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
        Self::begun(
            settings,
            variants,
            SystemInfo::collect(),
            utc_now(),
            Some(new_run_id()),
            crate::secrets::redacted_args(std::env::args()),
        )
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

    /// Add `point`, or, where the file holds its (test, label, thread count) already, add its
    /// samples to that point as further worker processes (numbered after the point's own) and
    /// summarise it again. `unit_scale` is the test's metric units per unit of work.
    pub fn merge_point(&mut self, point: Point, unit_scale: f64) {
        let Some(at) = self.points().iter().position(|p| {
            p.test == point.test && p.label == point.label && p.thread_count == point.thread_count
        }) else {
            self.add_point(point);
            return;
        };
        let held = &mut self.points_mut()[at];
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
    }

    /// Keep only the points `keep` accepts (tests that play an interrupted run).
    #[cfg(test)]
    pub fn retain_points(&mut self, keep: impl FnMut(&Point) -> bool) {
        self.points_mut().retain(keep);
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
        for point in self.points() {
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
        results
            .external_tests
            .push(crate::model::test::ExternalTest {
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
