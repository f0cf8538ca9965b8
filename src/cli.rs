//! Command-line flags as the user typed them: clap derive structs, no logic.
//!
//! Validation and defaults that need the machine (core counts, discovery) live in
//! [`crate::config`].

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::workloads::Suite;

/// How much faster or slower is Python with and without the GIL, and how does each kind of work
/// scale with threads?
#[derive(Debug, Parser)]
#[command(name = "ftbench", version, about, long_about = None, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Print only results and errors, no progress.
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Measure how each kind of Python work scales with threads on each interpreter.
    Run(RunArgs),
    /// Turn a results file into tables, figures (PNG, SVG), report.html, report.md and a CSV.
    Report(ReportArgs),
    /// List the Python interpreters on this machine, GIL and free-threaded builds apart.
    Pythons(PythonsArgs),
    /// Show what this machine is: CPU, cores, memory, OS, frequency governor, SMT, NUMA, cgroup.
    Sysinfo(SysinfoArgs),
    /// Is this machine ready to measure? Other load, steal, governor, turbo, SMT, CPU quota.
    ///
    /// Each problem comes with one line on how to fix it. `ftbench run` makes a short check
    /// before measuring and stores it in the results file (`system.check`).
    Check(CheckArgs),
    /// Manage interpreters that ftbench builds itself.
    #[command(subcommand)]
    Python(PythonCommand),
    /// Bring results from other tools into a results file.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Is this difference real? Compare results files or stored runs, point by point.
    Compare(CompareArgs),
    /// List stored runs, or follow one point across them.
    History(HistoryArgs),
    /// Measure your own function across interpreters and thread counts.
    Scale(ScaleArgs),
    /// Move runs between history stores (SQLite files and `PostgreSQL` databases).
    #[command(subcommand)]
    Store(StoreCommand),
    /// Write a static dashboard of a fleet's store: machines, speedup curves, trends.
    Publish(PublishArgs),
    /// Run pyperformance's benchmarks on each interpreter, interleaved, the GIL checked in each.
    ///
    /// pyperformance (a pinned version) is installed once into ftbench's cache with a venv per
    /// interpreter and per set of benchmark requirements. Results go into a results file that
    /// `report`, `compare`, `history` and `publish` read.
    Pyperformance(PyperformanceArgs),
    /// Which installed distributions turn the GIL back on in a free-threaded build?
    ///
    /// Each top-level module of each distribution is imported in a fresh process of its own (a
    /// deadline, a temporary working folder, every process it starts ended with it), and the
    /// extension module whose creation turned the GIL on is named, even when it is a
    /// dependency's. Imports that raise, crash, hang or exit get verdicts of their own.
    Audit(AuditArgs),
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Distributions to audit (any spelling: `MarkupSafe`, `markupsafe`). Default: every one the
    /// environment has.
    #[arg(value_name = "DISTRIBUTION")]
    pub distributions: Vec<String>,

    /// Audit the distributions a requirements file names (versions, extras and markers are
    /// ignored: what is installed is audited).
    #[arg(long, short = 'r', value_name = "PATH")]
    pub requirements: Vec<PathBuf>,

    /// A free-threaded interpreter whose environment to audit: a version (`3.13t`), a path (a
    /// venv's `bin/python` audits that venv), with an optional `LABEL=` prefix. Repeat to see
    /// the verdicts side by side. Default: every free-threaded interpreter ftbench finds.
    #[arg(long = "python", short = 'p', value_name = "SPEC")]
    pub pythons: Vec<String>,

    /// Print the audit as JSON on stdout (the table goes to stderr).
    #[arg(long)]
    pub json: bool,

    /// Exit 1 when any distribution turns the GIL on (for CI).
    #[arg(long)]
    pub fail_on_gil: bool,

    /// Seconds one import may take before its process (and every process it started) is
    /// killed and recorded as timed out.
    #[arg(long, value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,

    /// How many imports run at once [default: the CPUs this process may use].
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u64).range(1..=256))]
    pub jobs: Option<u64>,
}

/// How long pyperformance measures each benchmark: the results file records it.
pub use crate::results::PyperformanceMode;

#[derive(Debug, Args)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "independent command-line switches"
)]
pub struct PyperformanceArgs {
    /// An interpreter to benchmark, as for `ftbench run`: a version, a path, an optional
    /// `LABEL=` prefix and a `+gil` suffix (the GIL forced on inside pyperformance's venvs, and
    /// checked). Default: as `run` picks them.
    #[arg(long = "python", short = 'p', value_name = "SPEC")]
    pub pythons: Vec<String>,

    /// Benchmarks and groups, pyperformance's `-b` syntax (`nbody,json_dumps`, `math`,
    /// `-go` to leave one out). Default: ftbench's selection of 21 benchmarks, about 10 minutes
    /// per interpreter on 2 cores (`--all` for pyperformance's whole default set).
    /// (`-b -go` and `-b=-go` both work.)
    #[arg(
        long,
        short = 'b',
        value_name = "LIST",
        conflicts_with = "all",
        allow_hyphen_values = true
    )]
    pub benchmarks: Option<String>,

    /// Every benchmark of pyperformance's default set (about 100: over an hour per interpreter).
    #[arg(long)]
    pub all: bool,

    /// `--fast`: rough answers quickly.
    #[arg(long, conflicts_with_all = ["rigorous", "debug_single_value"])]
    pub fast: bool,

    /// `--rigorous`: more processes and values per benchmark.
    #[arg(long, conflicts_with = "debug_single_value")]
    pub rigorous: bool,

    /// One value per benchmark: to check that everything installs and runs, not for speed.
    #[arg(long)]
    pub debug_single_value: bool,

    /// A pyperformance manifest of your own benchmarks (pyperformance's `--manifest`).
    #[arg(long, value_name = "PATH")]
    pub manifest: Option<PathBuf>,

    /// Seconds one benchmark on one interpreter may take, its venv included, before it is
    /// killed with every process it started and recorded as failed [default: 3600; with
    /// --resume, the file's].
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: Option<u64>,

    /// Keep benchmarks that turned the GIL back on in a free-threaded build in its geometric
    /// mean (they are marked either way).
    #[arg(long)]
    pub include_gil_benchmarks: bool,

    /// The label the others are compared against (default: the first --python, else the oldest
    /// GIL build).
    #[arg(long, value_name = "LABEL")]
    pub baseline: Option<String>,

    /// The results file (default: `ftbench-results/pyperformance-<timestamp>.json`).
    #[arg(long, short, value_name = "PATH", conflicts_with = "resume")]
    pub output: Option<PathBuf>,

    /// Continue a stopped run: the benchmarks not yet measured, with the file's settings (so
    /// the flags that choose benchmarks, mode or baseline do not go with it).
    #[arg(long, value_name = "PATH", conflicts_with_all = [
        "benchmarks", "all", "fast", "rigorous", "debug_single_value", "manifest", "baseline",
        "include_gil_benchmarks",
    ])]
    pub resume: Option<PathBuf>,

    /// With --resume: run the interpreters and the manifest the file names even where ftbench
    /// would not pick them itself (a results file may come from anywhere).
    #[arg(long, requires = "resume")]
    pub trust_paths: bool,

    /// Measure on a busy machine without waiting for it to get quiet (benchmarks still marked).
    #[arg(long)]
    pub allow_load: bool,

    /// Do not write the report (figures, HTML, Markdown, CSV) beside the results at the end.
    #[arg(long)]
    pub no_report: bool,

    /// Do not record the run in the history store.
    #[arg(long)]
    pub no_store: bool,

    /// Record the run in this history store: a SQLite file or a `postgresql://` URL (default:
    /// `$FTBENCH_STORE`, else `history.sqlite` in ftbench's data dir).
    #[arg(long, value_name = "PATH|URL", conflicts_with = "no_store")]
    pub store: Option<OsString>,

    /// The name this machine has in a fleet's store (default: the host name).
    #[arg(long, value_name = "NAME")]
    pub machine: Option<String>,

    /// Print every column of the tables however wide they get. Default: tables that fit the
    /// terminal.
    #[arg(long)]
    pub wide: bool,
}

impl PyperformanceArgs {
    /// A benchmark's deadline in seconds.
    pub fn timeout(&self) -> u64 {
        self.timeout
            .unwrap_or(crate::results::PyperformanceSettings::DEFAULT_TIMEOUT_S)
    }

    pub fn mode(&self) -> PyperformanceMode {
        if self.debug_single_value {
            PyperformanceMode::DebugSingleValue
        } else if self.fast {
            PyperformanceMode::Fast
        } else if self.rigorous {
            PyperformanceMode::Rigorous
        } else {
            PyperformanceMode::Default
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Copy every run of one store into another (each run once; runs already there are kept).
    Copy(StoreCopyArgs),
}

#[derive(Debug, Args)]
pub struct StoreCopyArgs {
    /// The store to read: a SQLite file or a `postgresql://` URL.
    #[arg(long, value_name = "PATH|URL")]
    pub from: OsString,

    /// The store to write (created and migrated as needed).
    #[arg(long, value_name = "PATH|URL")]
    pub to: OsString,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The history store: a SQLite file or a `postgresql://` URL (default: `$FTBENCH_STORE`,
    /// else `history.sqlite` in ftbench's data dir).
    #[arg(long, value_name = "PATH|URL")]
    pub store: Option<OsString>,

    /// The directory to write the dashboard into (`index.html` and its figures). Files that
    /// did not change are left alone.
    #[arg(long, short, value_name = "DIR")]
    pub out: PathBuf,

    /// The thread count whose speedup is followed over time (default: for each machine, the
    /// highest one it measured within its CPU count).
    #[arg(long, value_name = "N")]
    pub threads: Option<u32>,

    /// Replace an `index.html` in --out that `ftbench publish` did not write.
    #[arg(long)]
    pub force: bool,
}

/// How `ftbench scale` runs the function in parallel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScaleMode {
    /// Threads of one process (what free-threading changes).
    Threads,
    /// A `ProcessPoolExecutor` of that many processes (the function must pickle).
    Processes,
    /// Both, as two tests.
    Both,
}

#[derive(Debug, Args)]
pub struct ScaleArgs {
    /// `FILE:FUNCTION`, e.g. `bench.py:work`. An optional `setup()` in FILE runs once per process
    /// and its return value is passed to FUNCTION first.
    #[arg(value_name = "FILE:FUNCTION")]
    pub target: String,

    #[command(flatten)]
    pub measure: MeasureArgs,

    /// Arguments for FUNCTION: a JSON list (positional) or object (keyword).
    #[arg(long, value_name = "JSON")]
    pub args: Option<String>,

    /// Threads, processes, or both.
    #[arg(long, value_enum, default_value_t = ScaleMode::Threads)]
    pub mode: ScaleMode,

    /// N calls in total, split across the threads (default: calibrated to --target-ms).
    #[arg(long, value_name = "N", conflicts_with = "weak")]
    pub strong: Option<u64>,

    /// N calls per thread.
    #[arg(long, value_name = "N")]
    pub weak: Option<u64>,

    /// Check that every call on every thread returns what the serial call returns; a
    /// difference is reported as a likely race, with both values.
    #[arg(long)]
    pub check_results: bool,

    /// A checkout of the code before the change (pure Python): a second label, `base`, runs the
    /// same `FILE:FUNCTION` with PATH first on `sys.path`, the working tree is `head`, and the two
    /// take turns round by round (gate with `--fail-if 'regression > 10%'`).
    #[arg(long, value_name = "PATH")]
    pub base: Option<PathBuf>,

    /// Environment variables the isolated workers get from ftbench's environment.
    /// `PYTHONPATH` entries join `sys.path` (the workers run `python -I`); the user
    /// site-packages are on the path too, as for `python FILE`.
    #[arg(
        long,
        value_name = "NAME,...",
        value_delimiter = ',',
        default_value = "PYTHONPATH"
    )]
    pub inherit_env: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Results files: the first is the base, each other is compared against it.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Stored runs to compare (repeatable), by the ids `ftbench history` lists.
    #[arg(long = "run", value_name = "ID")]
    pub runs: Vec<i64>,

    /// Pair labels across files: `BASE_LABEL=OTHER_LABEL` (repeatable), e.g. to compare two
    /// machines or 3.13.0t with 3.13.1t.
    #[arg(long, value_name = "A=B")]
    pub label_map: Vec<String>,

    /// Print JSON.
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,

    /// Print GitHub-flavoured Markdown.
    #[arg(long)]
    pub markdown: bool,

    /// Print every column (both medians and the p-value) however wide the table gets.
    /// Default: a table that fits the terminal.
    #[arg(long)]
    pub wide: bool,

    /// Exit 1 when a point is significantly slower by more than PCT percent, and name it.
    #[arg(long, value_name = "PCT")]
    pub fail_on_regression: Option<f64>,

    /// With --fail-on-regression: count the native reference's points too (it is Rust, not the
    /// Python under test, so it is left out by default).
    #[arg(long, requires = "fail_on_regression")]
    pub include_native: bool,

    /// The history store: a SQLite file or a `postgresql://` URL (default: `$FTBENCH_STORE`,
    /// else `history.sqlite` in ftbench's data dir).
    #[arg(long, value_name = "PATH|URL")]
    pub store: Option<OsString>,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct HistoryArgs {
    #[command(subcommand)]
    pub action: Option<HistoryCommand>,

    /// Follow this test across runs (with `--label`).
    #[arg(long, requires = "label")]
    pub test: Option<String>,

    /// The label to follow.
    #[arg(long, requires = "test")]
    pub label: Option<String>,

    /// The thread count to follow (default: every one the test has).
    #[arg(long, value_name = "N")]
    pub threads: Option<u32>,

    /// Only this machine's runs (`--machine` of `ftbench run`, else its host name).
    #[arg(long, value_name = "NAME")]
    pub machine: Option<String>,

    /// List the machines of the fleet: each one's runs, when it was last seen, what it is.
    #[arg(long, conflicts_with_all = ["test", "machine"])]
    pub machines: bool,

    /// Print JSON.
    #[arg(long)]
    pub json: bool,

    /// The history store: a SQLite file or a `postgresql://` URL (default: `$FTBENCH_STORE`,
    /// else `history.sqlite` in ftbench's data dir).
    #[arg(long, value_name = "PATH|URL")]
    pub store: Option<OsString>,
}

#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// Record results files in the store (a run made elsewhere, or one whose recording failed).
    ///
    /// A run already in the store is not added twice.
    Add(HistoryAddArgs),
}

#[derive(Debug, Args)]
pub struct HistoryAddArgs {
    /// Results files written by `ftbench run` or `ftbench scale`.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Record them as runs of this machine (default: the name the file gives, else its host
    /// name).
    #[arg(long, value_name = "NAME")]
    pub machine: Option<String>,

    /// The history store: a SQLite file or a `postgresql://` URL (default: `$FTBENCH_STORE`,
    /// else `history.sqlite` in ftbench's data dir).
    #[arg(long, value_name = "PATH|URL")]
    pub store: Option<OsString>,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Read a pyperf / pyperformance JSON file as one label's regular tests.
    ///
    /// Import two files (say 3.12 and 3.13t) into the same output to get the per-test speedups
    /// and the geometric mean with its confidence interval.
    Pyperf(ImportPyperfArgs),
}

#[derive(Debug, Args)]
pub struct ImportPyperfArgs {
    /// The pyperf JSON file (`pyperf ... -o FILE.json`, `pyperformance run -o FILE.json`, or
    /// gzipped: `FILE.json.gz`).
    pub file: PathBuf,

    /// The label these numbers carry, e.g. `3.12` or `3.13t`.
    #[arg(long)]
    pub label: String,

    /// The results file to add them to (created if missing; the first label imported is the
    /// baseline unless --baseline says otherwise). Default:
    /// `ftbench-results/imported-<timestamp>.json`.
    #[arg(long, short, value_name = "PATH")]
    pub output: Option<PathBuf>,

    /// The label the others are compared against: this one or one already in the file
    /// (default: the first label imported).
    #[arg(long, value_name = "LABEL")]
    pub baseline: Option<String>,

    /// Print every column of the tables however wide they get. Default: tables that fit the
    /// terminal.
    #[arg(long)]
    pub wide: bool,
}

#[derive(Debug, Args)]
pub struct PythonsArgs {
    /// Print a JSON list instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,

    /// How long to measure other work on the machine.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    pub seconds: f64,

    /// The thread counts you mean to measure (default: ftbench's defaults for this machine).
    #[arg(long, short, value_name = "N,N,...", value_delimiter = ',')]
    pub threads: Vec<String>,

    /// The CPUs you mean to run on (`0-7,16`, as `run --cpus`); each is probed for its speed.
    /// Default: every CPU this process may use.
    #[arg(long, value_name = "LIST")]
    pub cpus: Option<String>,
}

#[derive(Debug, Args)]
pub struct SysinfoArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum PythonCommand {
    /// Build CPython from source into ftbench's data directory (`3.13t` is free-threaded).
    ///
    /// A GIL request and a `t` request of the same version are built from the same source tarball
    /// with the same configure flags, so comparing them measures the GIL and nothing else.
    Install(InstallArgs),
    /// List the interpreters ftbench has installed.
    List,
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Versions to install: `3.13`, `3.13t`, `3.13.15t`, `3.14t`, ...
    #[arg(required = true, value_name = "VERSION")]
    pub requests: Vec<String>,

    /// Build from this local `Python-X.Y.Z.tar.xz` instead of downloading one.
    #[arg(long, value_name = "TARBALL")]
    pub source: Option<PathBuf>,

    /// Install these packages afterwards (binary wheels only), e.g. `--with numpy`.
    #[arg(long = "with", value_name = "PACKAGE")]
    pub with: Vec<String>,

    /// Download sources from this python.org-layout mirror (`URL/3.14.2/Python-3.14.2.tar.xz`)
    /// instead of python.org; with a mirror, python.org and Debian are not tried.
    #[arg(long, value_name = "URL", env = "FTBENCH_PYTHON_MIRROR")]
    pub mirror: Option<String>,

    /// Install missing Debian build dependencies with apt-get (needs root).
    #[arg(long)]
    pub install_build_deps: bool,

    /// Build with frame pointers (`-fno-omit-frame-pointer -mno-omit-leaf-frame-pointer`, about
    /// 1-2% slower) so that `--profile` shows whole Python stacks; installed as `cpython-X.Y.Z[t]-fp`
    #[arg(long)]
    pub frame_pointers: bool,

    /// Build with `--enable-optimizations --with-lto` (PGO + LTO: ~15 min on 2 cores, ~4% faster).
    #[arg(long)]
    pub pgo: bool,

    /// Rebuild even if a working install exists.
    #[arg(long)]
    pub force: bool,
}

/// What every measuring command takes: interpreters, thread counts, repetitions, output.
#[derive(Debug, Clone, Args)]
pub struct MeasureArgs {
    /// Interpreter to measure (repeatable): a path, a version like `3.13t`, `python3.12`, with an
    /// optional `LABEL=` prefix and `+gil` / `+nogil` suffix (`3.13t+gil` forces the GIL on).
    /// Default: every free-threaded build found, the newest GIL build, and the newest
    /// free-threaded build with its GIL forced on.
    #[arg(long = "python", short = 'p', value_name = "SPEC")]
    pub pythons: Vec<String>,

    /// Thread counts, comma-separated. Default: 1, 2, 4, ... up to twice the logical cores.
    #[arg(
        long,
        short,
        value_name = "N,N,...",
        value_delimiter = ',',
        allow_negative_numbers = true
    )]
    pub threads: Vec<String>,

    /// Run workers and their threads only on these CPUs, as taskset writes them (`0-7,16`).
    /// Thread counts above its size are oversubscribed. Default: every CPU this process may use.
    /// Use it to leave out slower CPUs (efficiency cores, a VM's slow vCPU: `ftbench check`
    /// measures each one).
    #[arg(long, value_name = "LIST")]
    pub cpus: Option<String>,

    /// Where to write the results JSON. Default: `ftbench-results/<timestamp>.json`.
    #[arg(long, short, value_name = "PATH")]
    pub output: Option<PathBuf>,

    /// Small work sizes and few repetitions: a first look in a minute or two.
    #[arg(long)]
    pub quick: bool,

    /// Target duration of one serial sample, in milliseconds (default 100, 20 with --quick).
    #[arg(long, value_name = "MS")]
    pub target_ms: Option<u64>,

    /// Timed samples per worker process (default 3, 2 with --quick).
    #[arg(long, value_name = "K")]
    pub samples: Option<u32>,

    /// Untimed warm-up runs per worker process before the samples (default 1).
    #[arg(long, value_name = "W")]
    pub warmup: Option<u32>,

    /// Worker processes per point, run in interleaved rounds (default 5, 3 with --quick).
    #[arg(long, value_name = "R")]
    pub processes: Option<u32>,

    /// Seconds a worker may take before it is killed and its point recorded as failed.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub timeout: u64,

    /// Allow thread counts above 4096.
    #[arg(long)]
    pub force: bool,

    /// Do not write the report (figures, HTML, Markdown, CSV) beside the results at the end.
    #[arg(long)]
    pub no_report: bool,

    /// After measuring, record where the time goes at one point per test and interpreter with
    /// Linux `perf` (flame graphs beside the results, linked from report.html)
    #[arg(long)]
    pub profile: bool,

    /// With --profile: the thread count to profile (default: the highest one measured)
    #[arg(long, value_name = "N", requires = "profile")]
    pub profile_threads: Option<u32>,

    /// Record the run in this history store: a SQLite file or a `postgresql://` URL (default:
    /// `$FTBENCH_STORE`, else `history.sqlite` in ftbench's data dir).
    #[arg(long, value_name = "PATH|URL", conflicts_with = "no_store")]
    pub store: Option<OsString>,

    /// The name this machine has in a fleet's store (default: the host name).
    #[arg(long, value_name = "NAME")]
    pub machine: Option<String>,

    /// Do not record the run in the history store.
    #[arg(long)]
    pub no_store: bool,

    /// Keep adding worker processes to each point until the 95% interval of its median is within
    /// ± this many percent (or --max-time-per-point runs out). Starts from --processes.
    #[arg(long, value_name = "PCT")]
    pub precision: Option<f64>,

    /// With --precision: the most time one point may take, in seconds.
    #[arg(
        long,
        value_name = "SECONDS",
        requires = "precision",
        default_value_t = 30.0
    )]
    pub max_time_per_point: f64,

    /// Measure even when other work keeps the machine busy: no waiting for a quiet machine and
    /// no re-measuring (for CI runners that are never idle). Disturbed points are still marked.
    #[arg(long)]
    pub allow_load: bool,

    /// Print every column of the tables (throughput, efficiency, parallelism, where the threads'
    /// time went, memory) however wide they get. Default: tables that fit the terminal.
    #[arg(long)]
    pub wide: bool,

    /// A gate: fail (exit 1) when EXPR holds with 95% confidence (repeatable). `speedup@N < X`,
    /// `efficiency@N < X` (also `<=`, `>`, `>=`), `regression > P%` (against --against),
    /// `gil`, `race` (with scale --check-results); `... for TEST` limits one to a test. A gate
    /// the noise cannot decide is undecided (exit 3, see --undecided).
    #[arg(long = "fail-if", value_name = "EXPR")]
    pub fail_if: Vec<String>,

    /// The label the others are gated against (`regression`), e.g. `--python base=…/python
    /// --python head=…/python --against base`; the labels of a test take turns round by round.
    #[arg(long, value_name = "LABEL")]
    pub against: Option<String>,

    /// With --fail-if: how long the whole run may take, measuring more while a gate is
    /// undecided (`120s`, `2m`, or seconds). Default: no more than the first pass.
    #[arg(long, value_name = "DURATION", requires = "fail_if")]
    pub budget: Option<String>,

    /// With --fail-if: what an undecided gate does to the exit status: `exit` (3, the
    /// default), `pass` (0) or `fail` (1).
    #[arg(long, value_enum, default_value_t = Undecided::Exit)]
    pub undecided: Undecided,

    /// With --fail-if: write the gates as `JUnit` XML (one testcase per gate) for GitLab,
    /// Jenkins and other CI systems.
    #[arg(long, value_name = "FILE", requires = "fail_if")]
    pub junit: Option<PathBuf>,

    /// With --fail-if: print the gates as JSON on stdout (the tables go to stderr).
    #[arg(long = "gates-json", requires = "fail_if")]
    pub gates_json: bool,
}

/// A command line that cannot run: exit 2, as clap's own usage errors (a gate expression that
/// does not parse, a --budget that is no duration).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// What an undecided gate does to the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Undecided {
    /// Exit 3: CI can tell "too noisy to say" from a failure.
    Exit,
    /// Exit 0 (when no gate failed).
    Pass,
    /// Exit 1.
    Fail,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub measure: MeasureArgs,

    /// Tests to run, comma-separated (see `--list-tests`). Default: all of them.
    #[arg(long, value_name = "NAME,...", value_delimiter = ',')]
    pub tests: Vec<String>,

    /// Which tests to run when `--tests` does not name them.
    #[arg(long, value_enum, default_value_t = Suite::All)]
    pub suite: Suite,

    /// The label regular tests are compared against. Default: the first `--python`, else the
    /// oldest GIL build measured.
    #[arg(long, value_name = "LABEL")]
    pub baseline: Option<String>,

    /// List the tests and exit.
    #[arg(long)]
    pub list_tests: bool,

    /// Complete an interrupted results file: run only its missing points, with its settings.
    #[arg(long, value_name = "PATH", conflicts_with = "output")]
    pub resume: Option<PathBuf>,

    /// With --resume: run the interpreter paths recorded in the file even where ftbench would
    /// not pick them itself. Only for files you made or trust: a results file names programs.
    #[arg(long, requires = "resume")]
    pub trust_paths: bool,

    /// Weak scaling: each thread gets the calibrated work (default: the work is split).
    #[arg(long)]
    pub weak: bool,

    /// Create a venv per interpreter in the cache and install numpy there (binary wheels only).
    #[arg(long)]
    pub install_deps: bool,

    /// Do not measure the native reference (the same work shapes in Rust, run by ftbench itself).
    #[arg(long)]
    pub no_native: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A results file written by `ftbench run`.
    pub results: PathBuf,

    /// Where to write the report. Default: `<results file without .json>-report/`.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Only print the tables; write no files.
    #[arg(long)]
    pub no_files: bool,

    /// Print every column of the tables (throughput, efficiency, parallelism, where the threads'
    /// time went, memory) however wide they get. Default: tables that fit the terminal.
    #[arg(long)]
    pub wide: bool,
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::Cli;

    #[test]
    fn a_resumed_pyperformance_run_keeps_the_files_selection_and_mode() {
        let parse =
            |args: &[&str]| Cli::try_parse_from([&["ftbench", "pyperformance"], args].concat());
        assert!(parse(&["--resume", "r.json"]).is_ok());
        for flag in [
            &["-b", "nbody"][..],
            &["--fast"],
            &["--all"],
            &["--baseline", "3.12"],
        ] {
            let err = parse(&[&["--resume", "r.json"], flag].concat()).unwrap_err();
            assert_eq!(
                err.kind(),
                clap::error::ErrorKind::ArgumentConflict,
                "{flag:?}"
            );
        }
        assert!(parse(&["--fast", "--rigorous"]).is_err());
    }
}
