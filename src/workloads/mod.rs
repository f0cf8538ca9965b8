//! The workloads: Python files embedded in the binary, written to a temporary directory and run
//! by each interpreter under test through `worker.py`.

use std::path::{Path, PathBuf};

pub use crate::model::test::{Group, UserTest};

/// The suites `--suite` picks from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Suite {
    /// The seven scaling tests and the four thread-pool tests.
    Scaling,
    /// Single-threaded speed against a baseline.
    Regular,
    /// Thread creation, start and join costs.
    Threads,
    /// All of the above.
    All,
}

impl Suite {
    fn includes(self, group: Group) -> bool {
        match self {
            Self::All => true,
            Self::Scaling => group.scales(),
            Self::Regular => group == Group::Regular,
            Self::Threads => group == Group::Threads,
        }
    }
}

/// One test of the suite.
#[derive(Debug, Clone, Copy)]
pub struct Workload {
    pub name: &'static str,
    /// The Python module (a file below) that implements it.
    pub module: &'static str,
    /// Extra request parameters for modules that serve several tests.
    pub params: &'static [(&'static str, &'static str)],
    /// The throughput metric's key, as the seed names it.
    pub metric: &'static str,
    /// Metric units per unit of work (bytes→MB for `bandwidth_MB_s`).
    pub unit_scale: f64,
    pub group: Group,
    pub needs_numpy: bool,
    pub description: &'static str,
}

const MIB_IN_MB: f64 = 4.0 * 1_048_576.0 / 1_000_000.0;

/// Every test, in the order the suite runs them.
pub const WORKLOADS: &[Workload] = &[
    Workload {
        name: "parallel_compute",
        module: "parallel_compute",
        params: &[],
        metric: "ops_per_sec",
        unit_scale: 1.0,
        group: Group::Scaling,
        needs_numpy: false,
        description: "pure-Python integer arithmetic, no shared state",
    },
    Workload {
        name: "lock_contention",
        module: "lock_contention",
        params: &[],
        metric: "ops_per_sec",
        unit_scale: 1.0,
        group: Group::Scaling,
        needs_numpy: false,
        description: "threads increment one counter under one threading.Lock",
    },
    Workload {
        name: "ref_counting_shared",
        module: "ref_counting_shared",
        params: &[],
        metric: "refs_per_sec",
        unit_scale: 1.0,
        group: Group::Scaling,
        needs_numpy: false,
        description: "all threads take references to one shared object",
    },
    Workload {
        name: "ref_counting_local",
        module: "ref_counting_local",
        params: &[],
        metric: "refs_per_sec",
        unit_scale: 1.0,
        group: Group::Scaling,
        needs_numpy: false,
        description: "each thread takes references to its own object",
    },
    Workload {
        name: "memory_bandwidth",
        module: "memory_bandwidth",
        params: &[],
        metric: "bandwidth_MB_s",
        unit_scale: MIB_IN_MB,
        group: Group::Scaling,
        needs_numpy: false,
        description: "each thread copies its own 4 MiB buffer (memmove)",
    },
    Workload {
        name: "np_column_compute_thread",
        module: "np_column_compute_thread",
        params: &[],
        metric: "samples_per_sec",
        unit_scale: 1.0,
        group: Group::Scaling,
        needs_numpy: true,
        description: "numpy column sums over a shared table, split across threads",
    },
    Workload {
        name: "np_column_compute_mp",
        module: "np_column_compute_mp",
        params: &[],
        metric: "samples_per_sec",
        unit_scale: 1.0,
        group: Group::Scaling,
        needs_numpy: true,
        description: "the same numpy work through a multiprocessing pool",
    },
    Workload {
        name: "pool_cpu_bound_threads",
        module: "pools",
        params: &[("task", "cpu"), ("executor", "thread")],
        metric: "tasks_per_sec",
        unit_scale: 1.0,
        group: Group::Pool,
        needs_numpy: false,
        description: "sum-of-squares tasks through a ThreadPoolExecutor",
    },
    Workload {
        name: "pool_cpu_bound_processes",
        module: "pools",
        params: &[("task", "cpu"), ("executor", "process")],
        metric: "tasks_per_sec",
        unit_scale: 1.0,
        group: Group::Pool,
        needs_numpy: false,
        description: "sum-of-squares tasks through a ProcessPoolExecutor",
    },
    Workload {
        name: "pool_io_bound_threads",
        module: "pools",
        params: &[("task", "io"), ("executor", "thread")],
        metric: "tasks_per_sec",
        unit_scale: 1.0,
        group: Group::Pool,
        needs_numpy: false,
        description: "1-5 ms sleeping tasks through a ThreadPoolExecutor",
    },
    Workload {
        name: "pool_io_bound_processes",
        module: "pools",
        params: &[("task", "io"), ("executor", "process")],
        metric: "tasks_per_sec",
        unit_scale: 1.0,
        group: Group::Pool,
        needs_numpy: false,
        description: "1-5 ms sleeping tasks through a ProcessPoolExecutor",
    },
    regular("nbody", "float arithmetic: a 5-body simulation"),
    regular(
        "bigint_pi",
        "big-integer arithmetic: digits of pi by a spigot",
    ),
    regular("int_arith", "integer arithmetic in a loop"),
    regular(
        "oop_scheduler",
        "object-oriented method calls: a task scheduler",
    ),
    regular("recursion", "function calls and recursion: fib, ackermann"),
    regular("generators", "generators and closures"),
    regular("comprehensions", "list/dict/set comprehensions and sorting"),
    regular("strings", "string building and formatting"),
    regular("regex", "re: parsing log lines"),
    regular("json_roundtrip", "json dumps and loads"),
    regular("dataclass_attrs", "dataclasses and attribute access"),
    regular("deepcopy", "copy.deepcopy of nested containers"),
    regular("exceptions", "raising and catching exceptions"),
    Workload {
        name: "thread_lifecycle",
        module: "thread_lifecycle",
        params: &[("sleep", "1")],
        metric: "threads_per_sec",
        unit_scale: 1.0,
        group: Group::Threads,
        needs_numpy: false,
        description: "start 1000 threads that sleep 1 ms, join them (the seed's test)",
    },
    Workload {
        name: "thread_lifecycle_nosleep",
        module: "thread_lifecycle",
        params: &[("sleep", "0")],
        metric: "threads_per_sec",
        unit_scale: 1.0,
        group: Group::Threads,
        needs_numpy: false,
        description: "start 1000 threads that return at once, join them",
    },
];

/// ftbench's native reference: the tests it has a Rust kernel for.
pub mod native {
    pub use crate::model::test::NativeRole as Role;

    /// The label native results carry.
    pub const LABEL: &str = "native";

    /// Tests with a native kernel.
    pub fn supports(test: &str) -> bool {
        matches!(
            test,
            "parallel_compute" | "memory_bandwidth" | "lock_contention" | "ref_counting_shared"
        )
    }

    /// The role of `test`'s native kernel, `None` for a test without one.
    pub fn role(test: &str) -> Option<Role> {
        match test {
            "parallel_compute" | "memory_bandwidth" => Some(Role::Ceiling),
            _ if supports(test) => Some(Role::Reference),
            _ => None,
        }
    }
}

/// Whether a test of a file written before ftbench recorded its parallel units ran worker
/// processes: the rule ftbench then applied to the test's name (the migration of
/// [`crate::results::ResultsFile::record_test_info`]; new files record it).
pub fn used_processes(test: &str) -> bool {
    test.ends_with("@processes") || find(test).is_some_and(Workload::uses_processes)
}

/// The parameters `user.py` understands, as `'static` keys.
const USER_PARAMS: &[&str] = &[
    "path",
    "function",
    "args",
    "check",
    "executor",
    "fixed",
    "env",
    "user_site",
];

impl Workload {
    /// Whether the test's parallel units are worker processes (a process pool), not threads.
    pub fn uses_processes(&self) -> bool {
        self.name == "np_column_compute_mp"
            || self
                .params
                .iter()
                .any(|(key, value)| *key == "executor" && *value == "process")
    }

    /// A recorded user test again (`--resume` of a `scale` run); `None` for a parameter
    /// `user.py` does not know.
    pub fn user_from_record(test: &UserTest) -> Option<&'static Self> {
        let params = test
            .params
            .iter()
            .map(|(key, value)| {
                USER_PARAMS
                    .iter()
                    .find(|k| *k == key)
                    .map(|k| (*k, value.clone()))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Self::leaked_user(test.name.clone(), params))
    }

    /// The parameters of a user test, to record in the settings.
    pub fn user_record(&self) -> UserTest {
        UserTest {
            name: self.name.to_string(),
            params: self
                .params
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
        }
    }

    /// A user's function as a test (`ftbench scale`). The registry holds `'static` tests; a
    /// user test is made once per process, so leaking it is a few bytes, not a growing leak.
    pub fn leaked_user(name: String, params: Vec<(&'static str, String)>) -> &'static Self {
        let params: Vec<(&'static str, &'static str)> = params
            .into_iter()
            .map(|(key, value)| (key, &*Box::leak(value.into_boxed_str())))
            .collect();
        Box::leak(Box::new(Self {
            name: Box::leak(name.into_boxed_str()),
            module: "user",
            params: Box::leak(params.into_boxed_slice()),
            metric: "calls_per_sec",
            unit_scale: 1.0,
            group: Group::Scaling,
            needs_numpy: false,
            description: "the user's own function",
        }))
    }
}

/// A regular test: one benchmark of `regular.py`, run serially.
const fn regular(name: &'static str, description: &'static str) -> Workload {
    Workload {
        name,
        module: "regular",
        params: &[],
        metric: "runs_per_sec",
        unit_scale: 1.0,
        group: Group::Regular,
        needs_numpy: false,
        description,
    }
}

/// A hidden test that misbehaves as `FTBENCH_FAULT` says, for ftbench's own fault tests. It can
/// be named with `--tests _fault` but is never part of the default suite or `--list-tests`.
pub const FAULT: Workload = Workload {
    name: "_fault",
    module: "_fault",
    params: &[],
    metric: "ops_per_sec",
    unit_scale: 1.0,
    group: Group::Scaling,
    needs_numpy: false,
    description: "misbehaves on purpose (ftbench's own tests)",
};

/// Test groups a user may name instead of listing tests.
const ALIASES: &[(&str, &[&str])] = &[
    (
        "pool_cpu_bound",
        &["pool_cpu_bound_threads", "pool_cpu_bound_processes"],
    ),
    (
        "pool_io_bound",
        &["pool_io_bound_threads", "pool_io_bound_processes"],
    ),
];

/// The Python files, embedded at build time.
const FILES: &[(&str, &str)] = &[
    ("worker.py", include_str!("worker.py")),
    ("start_worker.py", include_str!("start_worker.py")),
    ("parallel_compute.py", include_str!("parallel_compute.py")),
    ("lock_contention.py", include_str!("lock_contention.py")),
    (
        "ref_counting_shared.py",
        include_str!("ref_counting_shared.py"),
    ),
    (
        "ref_counting_local.py",
        include_str!("ref_counting_local.py"),
    ),
    ("memory_bandwidth.py", include_str!("memory_bandwidth.py")),
    ("np_columns.py", include_str!("np_columns.py")),
    (
        "np_column_compute_thread.py",
        include_str!("np_column_compute_thread.py"),
    ),
    (
        "np_column_compute_mp.py",
        include_str!("np_column_compute_mp.py"),
    ),
    ("pools.py", include_str!("pools.py")),
    ("_fault.py", include_str!("_fault.py")),
    ("regular.py", include_str!("regular.py")),
    ("thread_lifecycle.py", include_str!("thread_lifecycle.py")),
    ("user.py", include_str!("user.py")),
];

/// The worker script's text, for the protocol-version check.
#[cfg(test)]
pub fn worker_source() -> &'static str {
    FILES[0].1
}

/// Look a test up by name.
pub fn find(name: &str) -> Option<&'static Workload> {
    WORKLOADS
        .iter()
        .chain(std::iter::once(&FAULT))
        .find(|w| w.name == name)
}

/// Expand a user's test names (with aliases) into workloads, or say which name is unknown and
/// what was probably meant.
pub fn select(names: &[String], suite: Suite) -> Result<Vec<&'static Workload>, UnknownTest> {
    if names.is_empty() {
        return Ok(WORKLOADS
            .iter()
            .filter(|w| suite.includes(w.group))
            .collect());
    }
    let mut selected: Vec<&'static Workload> = Vec::new();
    for name in names {
        let name = name.trim();
        let expanded: Vec<&str> = match ALIASES.iter().find(|(alias, _)| *alias == name) {
            Some((_, members)) => members.to_vec(),
            None => vec![name],
        };
        for member in expanded {
            let workload = find(member).ok_or_else(|| UnknownTest {
                name: name.to_string(),
                suggestion: closest(name).map(str::to_string),
            })?;
            if !selected.iter().any(|w| w.name == workload.name) {
                selected.push(workload);
            }
        }
    }
    Ok(selected)
}

/// An unknown test name.
#[derive(Debug, thiserror::Error)]
#[error("unknown test `{name}`{}; see `ftbench run --list-tests`", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
pub struct UnknownTest {
    pub name: String,
    pub suggestion: Option<String>,
}

fn closest(name: &str) -> Option<&'static str> {
    WORKLOADS
        .iter()
        .map(|w| w.name)
        .chain(ALIASES.iter().map(|(alias, _)| *alias))
        .map(|candidate| (edit_distance(name, candidate), candidate))
        .filter(|(distance, candidate)| *distance <= candidate.len() / 2)
        .min()
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

/// The embedded Python files written out to a temporary directory for one run.
#[derive(Debug)]
pub struct ScriptDir {
    dir: tempfile::TempDir,
}

impl ScriptDir {
    pub fn create() -> std::io::Result<Self> {
        remove_stale_script_dirs(&std::env::temp_dir());
        let dir = tempfile::Builder::new()
            .prefix(&format!("{SCRIPT_DIR_PREFIX}{}-", std::process::id()))
            .tempdir()?;
        for (name, text) in FILES {
            fs_err::write(dir.path().join(name), text)?;
        }
        Ok(Self { dir })
    }

    /// The script a worker process runs: `start_worker.py`, which runs `worker.py` with its
    /// bytecode cached.
    pub fn worker(&self) -> PathBuf {
        self.dir.path().join("start_worker.py")
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Script directories are named `ftbench-workers-PID-XXXXXX`, so a later run can tell whose
/// they are.
const SCRIPT_DIR_PREFIX: &str = "ftbench-workers-";

/// Remove the script directories of ftbench processes that are gone (killed with SIGKILL, which
/// leaves no chance to clean up). Best effort: whatever cannot be removed stays.
fn remove_stale_script_dirs(temp: &Path) {
    let Ok(entries) = fs_err::read_dir(temp) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let Some(owner) = name
            .to_str()
            .and_then(|n| n.strip_prefix(SCRIPT_DIR_PREFIX))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let alive = Path::new("/proc").join(owner.to_string()).exists();
        if !alive && entry.file_type().is_ok_and(|t| t.is_dir()) {
            let _ = fs_err::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_dirs_of_dead_owners_are_removed() {
        let temp = tempfile::tempdir().unwrap();
        // pid_max is at most 2^22 on Linux: this owner cannot exist.
        let dead = temp.path().join(format!("{SCRIPT_DIR_PREFIX}99999999-abc"));
        let alive = temp
            .path()
            .join(format!("{SCRIPT_DIR_PREFIX}{}-abc", std::process::id()));
        let other = temp.path().join("ftbench-workers-notapid");
        for dir in [&dead, &alive, &other] {
            fs_err::create_dir_all(dir).unwrap();
        }
        remove_stale_script_dirs(temp.path());
        assert!(!dead.exists());
        assert!(alive.exists());
        assert!(other.exists());
    }

    #[test]
    fn every_module_is_embedded() {
        for workload in WORKLOADS {
            let file = format!("{}.py", workload.module);
            assert!(
                FILES.iter().any(|(name, _)| *name == file),
                "{file} is not embedded"
            );
        }
    }

    #[test]
    fn unknown_names_get_a_suggestion() {
        let err = select(&["parallel_compte".to_string()], Suite::All).unwrap_err();
        assert_eq!(err.suggestion.as_deref(), Some("parallel_compute"));
        let err = select(&["zzzz".to_string()], Suite::All).unwrap_err();
        assert_eq!(err.suggestion, None);
        let pools = select(&["pool_io_bound".to_string()], Suite::All).unwrap();
        assert_eq!(pools.len(), 2);
        assert_eq!(select(&[], Suite::Regular).unwrap().len(), 13);
        assert_eq!(select(&[], Suite::Scaling).unwrap().len(), 11);
        assert_eq!(select(&[], Suite::Threads).unwrap().len(), 2);
    }
}
