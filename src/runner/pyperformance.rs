//! pyperformance's benchmarks, run one (benchmark, interpreter) at a time.
//!
//! pyperformance is installed once per interpreter into ftbench's cache (a pinned version, run
//! by that interpreter itself: pyperformance picks the benchmarks a Python can run by the
//! Python that runs it). Its venvs live there too, one per set of benchmark requirements:
//! pyperformance shares one venv between all benchmarks, so one benchmark's pins (mako's
//! `markupsafe==2.0.1`) would replace what another installed. Each venv gets a probe
//! (`gil_probe.py` and a `.pth` line) with which every benchmark process reports whether the GIL
//! was on and which module's import turned it back on.
//!
//! Layout: `<cache>/pyperformance/<version>/<interpreter key>/tool` (pyperformance itself) and
//! `.../venvs/<requirements key>/venv/<pyperformance's venv name>`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::interpreter::GilMode;
use crate::process::{Ended, StopCheck};
use crate::results::{PyperformanceSettings, pyperf};

/// The pyperformance release ftbench installs and records.
pub const VERSION: &str = "1.14.0";

/// ftbench's default selection: 21 benchmarks of pyperformance's default set (23 results:
/// `deepcopy` gives three), 8 to 10 minutes per interpreter on 2 cores in pyperformance's
/// default mode. Pure Python of the seed's kinds of work (numbers, objects, strings,
/// generators, templates, regexes, serialisation), plus `coverage`, whose C tracer turns the
/// GIL back on in a free-threaded 3.13: what the suite says about such a benchmark is seen.
/// (`mako` pins `markupsafe` 2.0.1, whose speedups would turn it on too, but the benchmark
/// blocks that import.)
pub const DEFAULT_SELECTION: &[&str] = &[
    "chaos",
    "coroutines",
    "coverage",
    "crypto_pyaes",
    "deepcopy",
    "deltablue",
    "fannkuch",
    "float",
    "generators",
    "go",
    "hexiom",
    "json_dumps",
    "json_loads",
    "mako",
    "nbody",
    "nqueens",
    "pidigits",
    "raytrace",
    "regex_v8",
    "richards",
    "spectral_norm",
];

const PLAN_PY: &str = include_str!("../workloads/pyperformance/plan.py");
const PROBE_PY: &str = include_str!("../workloads/pyperformance/gil_probe.py");
/// The variable that tells the probe where to write.
const PROBE_VARIABLE: &str = "FTBENCH_GIL_PROBE";
/// The probe's code, compiled by the venv's own Python (a `marshal` of the code object): the
/// `.pth` line runs it without the import system (no search of `sys.path`, no `.pyc` that
/// `PYTHONDONTWRITEBYTECODE` may keep from being written), so a process pays one `open` and one
/// `marshal.loads` of a small file, and only where ftbench set the variable.
const PROBE_CODE: &str = "ftbench_gil_probe.code";
/// The most of a probe file read (its last lines): a benchmark that starts millions of
/// processes must not make ftbench read without end.
const PROBE_MAX_BYTES: u64 = 16 << 20;
/// Environment variables pip needs to reach the user's package index inside pyperformance's
/// venvs (pyperformance passes only HOME and PATH on unless told).
const PASSED_PREFIXES: [&str; 1] = ["PIP_"];
const PASSED_NAMES: [&str; 8] = [
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
];

/// pyperformance installed for one interpreter.
#[derive(Debug, Clone)]
pub struct Install {
    /// `<cache>/pyperformance/<version>/<interpreter key>`.
    root: PathBuf,
    /// The tool venv's Python, which runs pyperformance.
    python: PathBuf,
    /// The interpreter benchmarked.
    interpreter: PathBuf,
}

/// One benchmark of pyperformance's manifest, as the plan lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Benchmark {
    pub name: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Its pinned requirements, one per line, sorted (empty: pyperf alone).
    #[serde(default)]
    pub requirements: String,
}

/// What a selection names for one interpreter.
#[derive(Debug, Clone, Deserialize)]
pub struct Plan {
    pub version: String,
    pub benchmarks: Vec<Benchmark>,
    /// Names that are neither a benchmark nor a group.
    #[serde(default)]
    pub unknown: Vec<String>,
    /// Named benchmarks this interpreter's version cannot run, with the versions they need.
    #[serde(default)]
    pub excluded: Vec<Excluded>,
    #[serde(default)]
    error: Option<String>,
}

/// A named benchmark that needs another Python version.
#[derive(Debug, Clone, Deserialize)]
pub struct Excluded {
    pub name: String,
    pub requires_python: String,
}

/// How one benchmark ran on one interpreter.
#[derive(Debug)]
pub enum Outcome {
    Measured(Measured),
    /// It did not install or did not run: why, with the log that says more.
    Failed(String),
}

/// A benchmark's values (one manifest entry may hold several pyperf benchmarks) and the GIL's
/// state in its processes.
#[derive(Debug)]
pub struct Measured {
    pub benchmarks: Vec<pyperf::Imported>,
    pub gil: GilState,
}

/// What the probe saw in a benchmark's processes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GilState {
    /// Processes that reported.
    pub processes: usize,
    /// Of those, the ones that ended with the GIL enabled.
    pub enabled: usize,
    /// Modules whose import turned the GIL back on (each once).
    pub enabled_by: Vec<String>,
}

impl GilState {
    /// Read the probe's lines; `None` when no process reported (the probe did not load). A
    /// process writes a line at start and another at the moment an import turns the GIL on (a
    /// fork child only the second): processes are told apart by pid.
    fn read(path: &Path) -> Option<Self> {
        #[derive(Deserialize)]
        struct Line {
            pid: u64,
            gil_enabled: bool,
            #[serde(default)]
            enabled_by: Vec<String>,
        }
        let text = crate::files::read_tail(path, PROBE_MAX_BYTES).ok()?;
        let mut state = Self::default();
        let mut seen: std::collections::HashMap<u64, bool> = std::collections::HashMap::new();
        for line in text
            .lines()
            .filter_map(|l| serde_json::from_str::<Line>(l).ok())
        {
            *seen.entry(line.pid).or_default() |= line.gil_enabled;
            for module in line.enabled_by {
                if !state.enabled_by.contains(&module) {
                    state.enabled_by.push(module);
                }
            }
        }
        state.processes = seen.len();
        state.enabled = seen.values().filter(|on| **on).count();
        (state.processes > 0).then_some(state)
    }

    /// Whether the GIL was on in the benchmark: in any of its processes.
    pub fn gil_enabled(&self) -> bool {
        self.enabled > 0
    }
}

/// A short stable key for a path or a text, for directory names.
fn key(text: &str) -> String {
    format!("{:016x}", crate::format::stable_hash(text))
}

/// A command with the user's environment but none of ftbench's secrets and no `PYTHON_GIL`.
fn command(program: &Path) -> Command {
    let mut command = Command::new(program);
    crate::secrets::keep_secrets(&mut command);
    command.env_remove("PYTHON_GIL").env_remove(PROBE_VARIABLE);
    command
}

/// The most of one command's output a log keeps (its first and last halves): a benchmark that
/// prints without end fills neither the disk nor ftbench's memory.
pub const LOG_CAP_BYTES: u64 = 4 << 20;
/// How long pip may take to make pyperformance's own venv.
const INSTALL_DEADLINE: Duration = Duration::from_secs(30 * 60);
/// How long pyperformance may take to list a selection's benchmarks.
const PLAN_DEADLINE: Duration = Duration::from_secs(5 * 60);

/// Run `command` to its end (ended when `stop` says so, killed with everything it started at
/// `deadline`), its output appended to `log` within [`LOG_CAP_BYTES`].
fn run_logged(
    command: &mut Command,
    log: &Path,
    deadline: Duration,
    stop: StopCheck,
) -> Result<Ended> {
    crate::process::run_logged(command, log, deadline, LOG_CAP_BYTES, stop)
}

/// Whether a logged command exited with success.
fn succeeded(ended: &Ended) -> bool {
    matches!(ended, Ended::Exited(status) if status.success())
}

/// The last lines of a log, for an error message (read from its end).
fn tail(log: &Path, lines: usize) -> String {
    let text = crate::files::read_tail(log, 64 << 10).unwrap_or_default();
    let all: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Install (once) pyperformance for `interpreter` into ftbench's cache. `log` receives pip's
/// output; `stop` ends the install early.
pub fn install(interpreter: &Path, log: &Path, stop: StopCheck) -> Result<Install> {
    let root = crate::dirs::cache_dir()
        .join("pyperformance")
        .join(VERSION)
        .join(key(&interpreter.to_string_lossy()));
    let tool = root.join("tool");
    let python = tool.join("bin").join("python");
    let install = Install {
        root: root.clone(),
        python: python.clone(),
        interpreter: interpreter.to_path_buf(),
    };
    if installed_version(&python).as_deref() == Some(VERSION) {
        return Ok(install);
    }
    fs_err::create_dir_all(&root)?;
    // Built beside and renamed into place: an interrupted install leaves no half a tool.
    let building = root.join("tool.partial");
    if building.exists() {
        fs_err::remove_dir_all(&building)?;
    }
    if tool.exists() {
        fs_err::remove_dir_all(&tool)?;
    }
    let made = run_logged(
        command(interpreter).args(["-m", "venv"]).arg(&building),
        log,
        INSTALL_DEADLINE,
        stop,
    )?;
    if !succeeded(&made) {
        bail!(
            "cannot create a venv with `{}` for pyperformance:\n{}",
            interpreter.display(),
            tail(log, 5)
        );
    }
    let pip = run_logged(
        command(&building.join("bin").join("python"))
            .args(crate::interpreter::install::PIP_INSTALL)
            .arg(format!("pyperformance=={VERSION}")),
        log,
        INSTALL_DEADLINE,
        stop,
    )?;
    if !succeeded(&pip) {
        bail!(
            "pip could not install pyperformance {VERSION} for `{}` (is the package index reachable?):\n{}",
            interpreter.display(),
            tail(log, 5)
        );
    }
    // Only `python -m ...` runs from it (a venv's Python finds its prefix from where it is;
    // the scripts in bin/ would name the old path).
    fs_err::rename(&building, &tool)?;
    if installed_version(&python).as_deref() != Some(VERSION) {
        bail!(
            "pyperformance {VERSION} did not install into `{}`:\n{}",
            tool.display(),
            tail(log, 5)
        );
    }
    Ok(install)
}

/// The pyperformance version a tool venv's Python imports, if any.
fn installed_version(python: &Path) -> Option<String> {
    let output = command(python)
        .args([
            "-c",
            "import pyperformance; print(pyperformance.__version__)",
        ])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

impl Install {
    /// The benchmarks `selection` names for this interpreter; `stop` ends the planner early.
    pub fn plan(&self, selection: &str, manifest: Option<&Path>, stop: StopCheck) -> Result<Plan> {
        let dir = tempfile::tempdir()?;
        let script = dir.path().join("plan.py");
        fs_err::write(&script, PLAN_PY)?;
        let mut command = command(&self.python);
        command.arg(&script).arg(selection);
        if let Some(manifest) = manifest {
            command.arg(manifest);
        }
        // Stoppable and with a deadline like every other step: a manifest can name a FIFO.
        let started = std::time::Instant::now();
        let output = crate::process::run_captured(&mut command, stop, |_| {
            if started.elapsed() > PLAN_DEADLINE {
                Err(format!(
                    "pyperformance's planner took more than {} s (does the manifest name a file that never ends?)",
                    PLAN_DEADLINE.as_secs()
                ))
            } else {
                Ok(())
            }
        })
        .context("failed to run pyperformance's planner")?;
        let plan: Plan = serde_json::from_str(output.stdout.trim()).map_err(|_| {
            anyhow::anyhow!(
                "pyperformance could not read the selection `{selection}`{}:\n{}",
                manifest.map_or(String::new(), |m| format!(" from `{}`", m.display())),
                output.stderr.trim()
            )
        })?;
        if let Some(error) = &plan.error {
            bail!("pyperformance refused the selection `{selection}`: {error}");
        }
        Ok(plan)
    }

    /// Run one benchmark with pyperformance as the run's `settings` say (its mode, manifest and
    /// deadline), the GIL as `gil` says, its output appended to `log`, ended early when `stop`
    /// says so. `Err` only when ftbench itself failed or was stopped.
    pub fn run(
        &self,
        benchmark: &Benchmark,
        gil: GilMode,
        settings: &PyperformanceSettings,
        log: &Path,
        stop: StopCheck,
    ) -> Result<Outcome> {
        let (mode, manifest) = (settings.mode, settings.manifest.as_deref());
        let deadline = Duration::from_secs(settings.timeout_s);
        let requirements = if benchmark.requirements.is_empty() {
            "pyperf-only".to_string()
        } else {
            key(&benchmark.requirements)
        };
        let home = self.root.join("venvs").join(requirements);
        fs_err::create_dir_all(&home)?;
        let scratch = tempfile::tempdir()?;
        let probe = scratch.path().join("gil.jsonl");
        let output = scratch.path().join("result.json");
        let gil_value = gil.python_gil_value();
        let passed = passed_variables(gil_value.is_some());
        let pyperformance = |action: &[&str]| {
            let mut command = command(&self.python);
            command
                .current_dir(&home)
                .args(["-m", "pyperformance"])
                .args(action)
                .args(["-b", &benchmark.name, "--python"])
                .arg(&self.interpreter)
                .arg("--inherit-environ")
                .arg(passed.join(","));
            if let Some(manifest) = manifest {
                command.arg("--manifest").arg(manifest);
            }
            command
        };
        if venv_site_packages(&home).is_empty() {
            let created = run_logged(&mut pyperformance(&["venv", "create"]), log, deadline, stop)?;
            if let Ended::TimedOut = created {
                return Ok(Outcome::Failed(timed_out(log, deadline)));
            }
            if !succeeded(&created) {
                return Ok(Outcome::Failed(failure(log, "could not create its venv")));
            }
        }
        let sites = venv_site_packages(&home);
        if sites.is_empty() {
            return Ok(Outcome::Failed(failure(log, "pyperformance made no venv")));
        }
        for site in &sites {
            install_probe(site)?;
        }
        let mut run = pyperformance(&["run"]);
        run.arg("-o").arg(&output).env(PROBE_VARIABLE, &probe);
        if let Some(flag) = mode.flag() {
            run.arg(flag);
        }
        if let Some(value) = gil_value {
            run.env("PYTHON_GIL", value);
        }
        if let Ended::TimedOut = run_logged(&mut run, log, deadline, stop)? {
            return Ok(Outcome::Failed(timed_out(log, deadline)));
        }
        // pyperformance exits 1 when a benchmark failed even if it wrote others: the file
        // decides.
        if !output.exists() {
            return Ok(Outcome::Failed(failure(log, "it did not run")));
        }
        let benchmarks = match pyperf::read(&output) {
            Ok((benchmarks, _)) => benchmarks,
            Err(err) => return Ok(Outcome::Failed(format!("{err:#}"))),
        };
        let Some(gil) = GilState::read(&probe) else {
            return Ok(Outcome::Failed(failure(
                log,
                "no process of it reported the GIL's state (ftbench's probe did not load)",
            )));
        };
        Ok(Outcome::Measured(Measured { benchmarks, gil }))
    }
}

/// The variables pyperf passes on to its workers (`--inherit-environ`): the user's proxies and
/// certificates, the probe's, the process tree's mark, and `PYTHON_GIL` where it is set.
fn passed_variables(gil_set: bool) -> Vec<String> {
    let mut passed: Vec<String> = std::env::vars_os()
        .filter_map(|(name, _)| name.into_string().ok())
        .filter(|name| {
            PASSED_PREFIXES.iter().any(|p| name.starts_with(p))
                || PASSED_NAMES.contains(&name.as_str())
        })
        .collect();
    passed.push(PROBE_VARIABLE.to_string());
    // pyperf's workers get only the variables named: without the mark, what a worker
    // detaches could not be told from other processes once it is ftbench's to end.
    passed.push(crate::process::TREE_VARIABLE.to_string());
    if gil_set {
        passed.push("PYTHON_GIL".to_string());
    }
    passed
}

/// The site-packages folders of the venvs under a requirements home.
fn venv_site_packages(home: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(venvs) = fs_err::read_dir(home.join("venv")) else {
        return found;
    };
    for venv in venvs.flatten() {
        let Ok(libs) = fs_err::read_dir(venv.path().join("lib")) else {
            continue;
        };
        for lib in libs.flatten() {
            let site = lib.path().join("site-packages");
            if lib.file_name().to_string_lossy().starts_with("python") && site.is_dir() {
                found.push(site);
            }
        }
    }
    found.sort();
    found
}

/// Put the GIL probe into a venv (again where an older ftbench left another one).
fn install_probe(site: &Path) -> Result<()> {
    // The source (for whoever reads the venv), its code compiled by the venv's Python, and a
    // `.pth` line that runs that code only where ftbench set the variable (`os` is loaded
    // before any `.pth` file runs).
    let module = site.join("ftbench_gil_probe.py");
    let code = site.join(PROBE_CODE);
    if fs_err::read_to_string(&module).ok().as_deref() != Some(PROBE_PY) || !code.is_file() {
        crate::files::write_atomically(&module, PROBE_PY.as_bytes())?;
        let python = site
            .ancestors()
            .nth(3)
            .map(|venv| venv.join("bin").join("python"))
            .filter(|p| p.exists())
            .with_context(|| format!("no venv Python above `{}`", site.display()))?;
        let compiled = command(&python)
            .args([
                "-I",
                "-c",
                "import marshal, sys\n\
                 source = open(sys.argv[1], encoding='utf-8').read()\n\
                 code = compile(source, sys.argv[1], 'exec')\n\
                 open(sys.argv[2], 'wb').write(marshal.dumps(code))",
            ])
            .arg(&module)
            .arg(&code)
            .output()
            .context("failed to compile ftbench's GIL probe")?;
        if !compiled.status.success() {
            bail!(
                "`{}` could not compile ftbench's GIL probe: {}",
                python.display(),
                String::from_utf8_lossy(&compiled.stderr).trim()
            );
        }
    }
    let code_literal = serde_json::to_string(&code.to_string_lossy())?;
    let pth_line = format!(
        "import os; os.environ.get('{PROBE_VARIABLE}') and exec(__import__('marshal').loads(open({code_literal}, 'rb').read()), {{'__name__': 'ftbench_gil_probe'}})\n"
    );
    let pth = site.join("ftbench_gil_probe.pth");
    if fs_err::read(&pth).ok().as_deref() != Some(pth_line.as_bytes()) {
        crate::files::write_atomically(&pth, pth_line.as_bytes())?;
    }
    Ok(())
}

/// Why a benchmark was stopped at its deadline.
fn timed_out(log: &Path, deadline: Duration) -> String {
    format!(
        "it did not finish within its {} s deadline (--timeout): killed with every process it started (log: {})",
        deadline.as_secs(),
        log.display()
    )
}

/// Why a benchmark failed, from what pyperformance and pip printed: the first error line that
/// says something, and where the log is.
fn failure(log: &Path, what: &str) -> String {
    let text = crate::files::read_tail(log, 256 << 10).unwrap_or_default();
    let said = |line: &&str| {
        let line = line.trim();
        (line.starts_with("ERROR:") || line.starts_with("error:") || line.contains("Error:"))
            && !line.contains("No benchmark was run")
            && !line.contains("has failed")
    };
    let detail = if text.contains("Install requirements error")
        || text.contains("could not install requirements")
    {
        let pip = text
            .lines()
            .find(|l| l.trim_start().starts_with("ERROR:") && !l.contains("Benchmark"))
            .map(str::trim);
        format!(
            "its requirements did not install{}",
            pip.map_or(String::new(), |l| format!(": {l}"))
        )
    } else {
        text.lines()
            .rev()
            .find(said)
            .map_or_else(|| what.to_string(), |l| l.trim().to_string())
    };
    format!("{detail} (log: {})", log.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_and_tell_texts_apart() {
        assert_eq!(key("markupsafe==2.0.1"), key("markupsafe==2.0.1"));
        assert_ne!(key("markupsafe==2.0.1"), key("markupsafe==3.0.2"));
        assert_eq!(key("").len(), 16);
    }

    #[test]
    fn the_probe_says_which_module_turned_the_gil_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gil.jsonl");
        assert_eq!(GilState::read(&path), None);
        fs_err::write(
            &path,
            concat!(
                "{\"pid\": 1, \"gil_enabled\": false, \"enabled_by\": []}\n",
                "{\"pid\": 2, \"gil_enabled\": true, \"enabled_by\": [\"markupsafe._speedups\"]}\n",
                "not json\n",
                "{\"pid\": 3, \"gil_enabled\": true, \"enabled_by\": [\"markupsafe._speedups\"]}\n",
            ),
        )
        .unwrap();
        let state = GilState::read(&path).unwrap();
        assert_eq!(state.processes, 3);
        assert_eq!(state.enabled, 2);
        assert_eq!(state.enabled_by, ["markupsafe._speedups"]);
        assert!(state.gil_enabled());
    }

    #[test]
    fn a_failure_names_pips_error_and_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("fastapi.log");
        fs_err::write(
            &log,
            "ERROR: Failed building wheel for pydantic-core\nERROR: Benchmark fastapi failed: could not install requirements\n- fastapi (Install requirements error)\n",
        )
        .unwrap();
        let reason = failure(&log, "it did not run");
        assert!(
            reason.starts_with(
                "its requirements did not install: ERROR: Failed building wheel for pydantic-core"
            ),
            "{reason}"
        );
        assert!(reason.ends_with("fastapi.log)"), "{reason}");
        fs_err::write(&log, "Traceback\nRuntimeError: Benchmark died\n").unwrap();
        assert!(failure(&log, "x").starts_with("RuntimeError: Benchmark died"));
    }
}
