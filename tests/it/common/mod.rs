/// Whether the machine, right now, can show the physics a test asserts.
pub mod fairness;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The terminal width the tests' commands run at unless a test sets its own: wide enough that no
/// phrase a test looks for is broken by a long path (see [`ftbench`]).
const WIDE_ENOUGH: &str = "1000";

/// The `ftbench` binary with a private cache dir, so tests do not share query caches.
pub fn ftbench(dir: &Path) -> Command {
    let mut command = assert_cmd::cargo::cargo_bin_cmd!("ftbench");
    command.env("FTBENCH_CACHE_DIR", dir.join("cache"));
    // Runs are recorded in a store of the test's own, not the user's history.
    command.env("FTBENCH_STORE", dir.join("history.sqlite"));
    command.env_remove("PYTHON_GIL");
    // Output is wrapped at the terminal's width (100 without one), so where a line breaks depends
    // on the length of the paths printed in it, which differs between machines. Tests that check
    // phrases get lines long enough to hold them; the tests of the layout set `COLUMNS` themselves.
    command.env("COLUMNS", WIDE_ENOUGH);
    command.current_dir(dir);
    command
}

/// The `ftbench` binary as a plain process, set up like [`ftbench`], for tests that spawn it and
/// signal it while it runs.
pub fn ftbench_process(dir: &Path) -> std::process::Command {
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin!("ftbench"));
    command
        .current_dir(dir)
        .env("FTBENCH_CACHE_DIR", dir.join("cache"))
        .env("FTBENCH_STORE", dir.join("history.sqlite"))
        .env("COLUMNS", WIDE_ENOUGH)
        .env_remove("PYTHON_GIL");
    command
}

/// A small tmpfs mounted at `dir/disk` (root only), or `None` with a note where it cannot be.
pub fn small_tmpfs(dir: &Path, size: &str) -> Option<PathBuf> {
    let disk = dir.join("disk");
    fs_err::create_dir(&disk).expect("a mount point");
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(&disk)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        skip("cannot mount a small tmpfs here (not root?)");
        return None;
    }
    Some(disk)
}

/// Whether the tests run under CI (`ftbench::running_under_ci`, the one place that decides).
pub fn in_ci() -> bool {
    ftbench::running_under_ci()
}

/// The running test cannot run here: under CI that fails it (a skip there would hide what we
/// sell); elsewhere it says `SKIPPED` and why, straight to stderr (past libtest's capture of
/// `eprintln!`), so a run shows what it did not test. The caller returns.
pub fn skip(reason: &str) {
    assert!(!in_ci(), "{} cannot run under CI: {reason}", test_name());
    say_skipped(reason);
}

/// The running test's name, as libtest names its thread.
fn test_name() -> String {
    std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string()
}

/// `SKIPPED <test>: <reason>`, straight to stderr (past libtest's capture of `eprintln!`).
pub fn say_skipped(reason: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "SKIPPED {}: {reason}", test_name());
}

/// A provisioned interpreter from the environment (set by scripts/test.sh), else from ftbench's
/// install dir. Under CI its absence fails the test: a skip there would hide what we sell.
fn provisioned(var: &str, free_threaded: bool) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(var) {
        return Some(PathBuf::from(path));
    }
    let home = std::env::var_os("HOME").map(PathBuf::from)?;
    let dir = std::env::var_os("FTBENCH_HOME")
        .map_or_else(|| home.join(".local/share/ftbench"), PathBuf::from)
        .join("pythons");
    let mut found: Vec<PathBuf> = fs_err::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.starts_with("cpython-3.13.") && n.ends_with('t') == free_threaded
            })
        })
        .map(|p| {
            p.join("bin").join(if free_threaded {
                "python3.13t"
            } else {
                "python3.13"
            })
        })
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found.pop()
}

fn require(var: &str, free_threaded: bool) -> Option<PathBuf> {
    let found = provisioned(var, free_threaded);
    if found.is_none() {
        let what = if free_threaded { "3.13t" } else { "3.13" };
        skip(&format!(
            "no CPython {what} for the tests: run scripts/test.sh, which installs it with `ftbench python install {what}` (or set {var})"
        ));
    }
    found
}

/// The free-threaded CPython 3.13t the tests measure.
pub fn ft_python() -> Option<PathBuf> {
    require("FTBENCH_TEST_PYTHON_FT", true)
}

/// The GIL CPython 3.13 built from the same source.
pub fn gil_python() -> Option<PathBuf> {
    require("FTBENCH_TEST_PYTHON_GIL", false)
}

/// The tools venv's Python (pandas), set by scripts/test.sh.
pub fn tools_python() -> Option<PathBuf> {
    let found = std::env::var_os("FTBENCH_TEST_TOOLS_PYTHON").map(PathBuf::from);
    if found.is_none() {
        skip("no tools venv: FTBENCH_TEST_TOOLS_PYTHON is not set (run scripts/test.sh)");
    }
    found
}

/// Return from the test early when an interpreter is not available (outside CI only).
#[macro_export]
macro_rules! require {
    ($found:expr) => {
        match $found {
            Some(value) => value,
            None => return,
        }
    };
}

/// A fresh temporary directory for one test.
pub fn temp() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("ftbench-it")
        .tempdir()
        .expect("a temp dir")
}

/// Write an executable shell script posing as an interpreter. It replaces any script of that
/// name by a rename, as a package upgrade does: rewriting it in place while a worker is being
/// started from it fails with "Text file busy" (ETXTBSY).
pub fn fake_python(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    let new = dir.join(format!(".{name}.new"));
    fs_err::write(&new, format!("#!/bin/sh\n{body}\n")).expect("write the fake");
    fs_err::set_permissions(&new, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    fs_err::rename(&new, &path).expect("put the fake in place");
    path
}

/// A canned successful query answer for a fake interpreter.
pub fn canned_query(version: &str, free_threaded: bool) -> String {
    let parts: Vec<u32> = version.split('.').map(|p| p.parse().unwrap()).collect();
    serde_json::json!({
        "result": "success", "version": version, "version_info": parts,
        "release_level": "final", "implementation": "cpython", "executable": "/fake/python",
        "prefix": "/fake", "base_prefix": "/fake", "free_threaded": free_threaded,
        "gil_enabled": !free_threaded, "jit": false, "compiler": "GCC", "pgo": false,
        "lto": false, "config_args": "", "debug_build": false, "architecture": "x86_64",
        "platform": "linux", "pointer_bits": 64, "numpy": null, "site_packages": [],
    })
    .to_string()
}

/// Load a results file as JSON.
pub fn read_json(path: &Path) -> serde_json::Value {
    let text = fs_err::read_to_string(path).expect("the results file exists");
    serde_json::from_str(&text).expect("the results file is valid JSON")
}

/// `--python SPEC` for each spec, in order.
pub fn python_args(specs: &[String]) -> Vec<String> {
    specs
        .iter()
        .flat_map(|spec| ["--python".to_string(), spec.clone()])
        .collect()
}

/// The reasons of a results file's failed points.
pub fn error_reasons(results: &serde_json::Value) -> Vec<String> {
    results["errors"]
        .as_array()
        .expect("a results file lists its errors")
        .iter()
        .map(|e| {
            e["reason"]
                .as_str()
                .expect("every error has a reason")
                .to_string()
        })
        .collect()
}

/// A file of `tests/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A file of `examples/`.
pub fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

/// How many points a results file holds (0 while it is missing or being replaced).
pub fn point_count(path: &Path) -> usize {
    fs_err::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v["points"].as_array().map(Vec::len))
        .unwrap_or(0)
}

/// A fresh `PostgreSQL` database named `ftbench_it_NAME` on the test cluster
/// (`FTBENCH_TEST_POSTGRES`, started by scripts/test.sh), as a URL. Under CI its absence fails
/// the test.
pub fn postgres_database(name: &str) -> Option<String> {
    let Ok(url) = std::env::var("FTBENCH_TEST_POSTGRES") else {
        skip("no PostgreSQL: FTBENCH_TEST_POSTGRES is not set (run scripts/test.sh)");
        return None;
    };
    let database = format!("ftbench_it_{name}");
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).expect("the test cluster");
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
        .unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {database}"))
        .unwrap();
    let (base, query) = url
        .split_once('?')
        .map_or((url.as_str(), None), |(b, q)| (b, Some(q)));
    let (authority, _) = base.rsplit_once('/').expect("a URL with a database");
    Some(format!(
        "{authority}/{database}{}",
        query.map(|q| format!("?{q}")).unwrap_or_default()
    ))
}

/// A process spinning on a CPU (one the scheduler picks, or one pinned) until it is dropped.
pub struct Hog(std::process::Child);

impl Hog {
    /// Anywhere the scheduler puts it.
    pub fn start() -> Self {
        Self::spin("while True: pass")
    }

    /// Only on `cpu`.
    pub fn pinned(cpu: u64) -> Self {
        Self::spin(&format!(
            "import os\nos.sched_setaffinity(0, [{cpu}])\nwhile True: pass"
        ))
    }

    fn spin(code: &str) -> Self {
        let child = std::process::Command::new("python3")
            .args(["-c", code])
            .spawn()
            .expect("python3 starts");
        // Let the scheduler see it before anything is measured.
        std::thread::sleep(std::time::Duration::from_millis(300));
        Self(child)
    }
}

impl Drop for Hog {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A tiny real run: `parallel_compute`, serial and 1 thread, on the free-threaded build.
pub fn tiny_run(dir: &Path, ft: &Path, output: &str) {
    ftbench(dir)
        .args([
            "run",
            "--no-native",
            "--quick",
            "--tests",
            "parallel_compute",
        ])
        .args(["--threads", "1", "--no-report", "--no-store", "-o", output])
        .arg("--python")
        .arg(format!("ft={}", ft.display()))
        .assert()
        .success();
}

/// Build `gilext` into `dir` for `ft`: a C extension with single-phase init and no `Py_mod_gil`
/// slot, so importing it on a free-threaded build turns the GIL back on (CPython says so in a
/// `RuntimeWarning`).
pub fn build_gil_extension(dir: &Path, ft: &Path) {
    fs_err::write(
        dir.join("gilext.c"),
        "#include <Python.h>\nstatic struct PyModuleDef m = {PyModuleDef_HEAD_INIT, \"gilext\", NULL, -1, NULL};\nPyMODINIT_FUNC PyInit_gilext(void) { return PyModule_Create(&m); }\n",
    )
    .unwrap();
    let config = ft.with_file_name(format!(
        "{}-config",
        ft.file_name().unwrap().to_string_lossy()
    ));
    let includes = std::process::Command::new(&config)
        .arg("--includes")
        .output()
        .unwrap();
    let suffix = std::process::Command::new(ft)
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))",
        ])
        .output()
        .unwrap();
    let built = std::process::Command::new("gcc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(dir.join(format!(
            "gilext{}",
            String::from_utf8_lossy(&suffix.stdout).trim()
        )))
        .arg(dir.join("gilext.c"))
        .args(String::from_utf8_lossy(&includes.stdout).split_whitespace())
        .status()
        .unwrap();
    assert!(built.success(), "gcc could not build the test extension");
}

/// Make a FIFO at `path`: a file that never ends and that opening for reading waits on.
pub fn mkfifo(path: &Path) {
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo {}", path.display());
}
