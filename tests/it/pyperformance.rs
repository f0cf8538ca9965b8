use predicates::prelude::*;

use crate::common::{fixture, ft_python, ftbench, gil_python, python_args, read_json, temp};
use crate::require;

/// The samples' GIL states of one (test, label) in a results file.
fn gil_states(results: &serde_json::Value, test: &str, label: &str) -> Vec<bool> {
    results["points"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["test"] == test && p["label"] == label)
        .flat_map(|p| p["samples"].as_array().unwrap().iter())
        .map(|s| s["gil_enabled"].as_bool().unwrap())
        .collect()
}

/// The labels in the order the run's progress lines name them for one benchmark.
fn order(stderr: &str, test: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| l.starts_with("  ") && l.contains(&format!(" {test} ")))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

/// `ftbench pyperformance` on 3.13t, 3.13t with its GIL forced on, and 3.13: the interpreters
/// interleaved benchmark by benchmark, the GIL's state read inside pyperformance's venvs, a
/// benchmark whose import turns the GIL back on (`gil_markup`, `markupsafe` 2.0.1's speedups)
/// marked and kept out of 3.13t's geometric mean, a failing benchmark recorded with its
/// reason, and a file that `report`, `compare` and `--resume` read.
#[test]
fn pyperformance_interleaves_checks_the_gil_and_writes_a_results_file() {
    let ft = require!(ft_python());
    let gil = require!(gil_python());
    let dir = temp();
    let d = dir.path();
    let manifest = fixture("pyperformance/MANIFEST");
    let pythons = python_args(&[
        format!("3.13t={}", ft.display()),
        format!("3.13t+gil={}+gil", ft.display()),
        format!("3.13={}", gil.display()),
    ]);
    // Names that are no benchmark: one error naming them, before anything runs.
    ftbench(d)
        .args([
            "pyperformance",
            "-b",
            "nbody,no_such_benchmark",
            "-o",
            "x.json",
        ])
        .args(&pythons)
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "has no benchmark or group named `no_such_benchmark`",
        ));
    assert!(!d.join("x.json").exists());

    let assert = ftbench(d)
        .args(["pyperformance", "-b", "gil_markup,nbody", "--fast"])
        .arg("--manifest")
        .arg(&manifest)
        .args(["--baseline", "3.13", "-o", "pp.json", "--no-store"])
        .args(&pythons)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stdout.contains("=== pyperformance: time per run, speedup against 3.13 ==="),
        "{stdout}"
    );
    // A B C, then C B A: machine drift falls on every interpreter alike.
    assert_eq!(
        order(&stderr, "gil_markup"),
        ["3.13t", "3.13t+gil", "3.13"],
        "{stderr}"
    );
    assert_eq!(
        order(&stderr, "nbody"),
        ["3.13", "3.13t+gil", "3.13t"],
        "{stderr}"
    );

    let results = read_json(&d.join("pp.json"));
    assert_eq!(results["settings"]["pyperformance"]["version"], "1.14.0");
    assert_eq!(results["settings"]["pyperformance"]["mode"], "fast");
    // The GIL as each build and mode has it, read in the benchmark's own processes: the
    // +gil variant really runs with the GIL on inside pyperformance's venv.
    for (label, on) in [("3.13t", false), ("3.13t+gil", true), ("3.13", true)] {
        let states = gil_states(&results, "nbody", label);
        assert!(states.len() >= 3, "every value kept: {states:?}");
        assert!(states.iter().all(|s| *s == on), "{label}: {states:?}");
    }
    // MarkupSafe 2.0.1 turned the GIL back on in 3.13t: marked, named, left out of the mean.
    assert!(
        gil_states(&results, "gil_markup", "3.13t")
            .iter()
            .all(|s| *s)
    );
    let marked = results["points"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["test"] == "gil_markup" && p["label"] == "3.13t")
        .unwrap();
    assert!(marked["gil_mismatches"].as_u64().unwrap() > 0, "{marked}");
    assert_eq!(
        marked["samples"][0]["extra"]["gil_enabled_by"][0],
        "markupsafe._speedups"
    );
    let warnings = results["warnings"].to_string();
    assert!(
        warnings
            .contains("gil_markup ran on 3.13t with the GIL on: importing markupsafe._speedups"),
        "{warnings}"
    );
    let summary = &results["results"]["regular_summary"]["labels"]["3.13t"];
    assert_eq!(summary["tests"], 1, "{summary}");
    assert_eq!(summary["gil_left_out"][0], "gil_markup", "{summary}");
    // The +gil variant's run of it counts: the GIL was on as asked.
    assert_eq!(
        results["results"]["regular_summary"]["labels"]["3.13t+gil"]["tests"],
        2
    );
    assert!(stdout.contains(" GIL!"), "{stdout}");
    let short = stdout[stdout.find("=== In short ===").expect("a headline")..]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        short.contains("On one thread 3.13t is ") && short.contains("1 pyperformance benchmark(s)"),
        "{short}"
    );

    // report and compare read it.
    ftbench(d)
        .args(["report", "pp.json", "--out", "rep"])
        .assert()
        .success();
    let markdown = fs_err::read_to_string(d.join("rep/report.md")).unwrap();
    assert!(markdown.contains("pyperformance"), "{markdown}");
    // The figure: the speedups with each label's geometric mean, the GIL mark under the test.
    let figure = fs_err::read_to_string(d.join("rep/figures/regular.svg")).unwrap();
    assert!(
        figure.contains("geometric mean") && figure.contains("gil_markup (GIL!)"),
        "the regular figure names the mean and the marked test"
    );
    ftbench(d)
        .args(["compare", "pp.json", "pp.json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("nbody"));

    // A stopped run resumes with what is missing only: here, nbody on 3.13t.
    let mut partial = results.clone();
    partial["points"]
        .as_array_mut()
        .unwrap()
        .retain(|p| !(p["test"] == "nbody" && p["label"] == "3.13t"));
    fs_err::write(d.join("partial.json"), partial.to_string()).unwrap();
    let resumed = ftbench(d)
        .args([
            "pyperformance",
            "--resume",
            "partial.json",
            "--no-store",
            "--no-report",
        ])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&resumed.get_output().stderr).into_owned();
    assert!(stderr.contains("Running 1 benchmark run(s)"), "{stderr}");
    assert_eq!(
        gil_states(&read_json(&d.join("partial.json")), "nbody", "3.13t").len(),
        gil_states(&results, "nbody", "3.13t").len()
    );

    // A benchmark that fails is recorded with its reason and its log; the run exits 1.
    let failed = ftbench(d)
        .args(["pyperformance", "-b", "broken", "--debug-single-value"])
        .arg("--manifest")
        .arg(&manifest)
        .args(["-o", "broken.json", "--no-store"])
        .args(python_args(&[format!("3.13t={}", ft.display())]))
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&failed.get_output().stderr).into_owned();
    assert!(
        stderr.contains("broken") && stderr.contains("FAILED"),
        "{stderr}"
    );
    let broken = read_json(&d.join("broken.json"));
    let reason = broken["errors"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("(log: "), "{reason}");
    assert_eq!(broken["errors"][0]["test"], "broken");
}

/// The median of a point's values in a results file, in seconds.
fn median_seconds(results: &serde_json::Value, test: &str) -> f64 {
    let mut values: Vec<f64> = results["points"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["test"] == test)
        .flat_map(|p| p["samples"].as_array().unwrap().iter())
        .map(|s| s["wall_ns"].as_f64().unwrap() / 1e9)
        .collect();
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The processes whose command line holds every one of `marks`.
fn processes_marked(marks: &[&str]) -> Vec<String> {
    fs_err::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter(|e| {
            fs_err::read(e.path().join("cmdline")).is_ok_and(|c| {
                let line = String::from_utf8_lossy(&c);
                marks.iter().all(|m| line.contains(m))
            })
        })
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// Issue 31's pyperformance items on a real 3.13t: the GIL probe costs nothing at start-up
/// (`python_startup` through ftbench reads what the same venv reads without it) and sees a
/// fork child that turns the GIL on and ends through `os._exit`; a benchmark that never ends
/// is killed at `--timeout` with the `setsid` child it left, recorded as failed, and the run
/// goes on; a benchmark that floods its output leaves a capped log; a planner stuck on a FIFO
/// stops at SIGTERM and leaves nothing behind.
#[test]
fn pyperformance_probe_costs_nothing_and_hostile_benchmarks_end() {
    let ft = require!(ft_python());
    let dir = temp();
    let d = dir.path();
    let manifest = fixture("pyperformance/MANIFEST");
    let pythons = python_args(&[format!("3.13t={}", ft.display())]);
    // What another run left behind is not this run's survivor.
    let before = processes_marked(&["ftbench-test-hang-child"]);

    let failed = ftbench(d)
        .args(["pyperformance", "-b", "hang,flood,gil_fork", "--fast"])
        .args(["--timeout", "20", "--manifest"])
        .arg(&manifest)
        .args(["-o", "hostile.json", "--no-store", "--no-report"])
        .args(&pythons)
        .timeout(std::time::Duration::from_secs(600))
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&failed.get_output().stderr).into_owned();
    let results = read_json(&d.join("hostile.json"));
    // The hung benchmark: failed with its deadline named, and its detached child gone.
    let reason = results["errors"][0]["reason"].as_str().unwrap();
    assert_eq!(results["errors"][0]["test"], "hang", "{stderr}");
    assert!(reason.contains("within its 20 s deadline"), "{reason}");
    assert_eq!(results["settings"]["pyperformance"]["timeout_s"], 20);
    let survivors: Vec<String> = processes_marked(&["ftbench-test-hang-child"])
        .into_iter()
        .filter(|pid| !before.contains(pid))
        .collect();
    assert_eq!(
        survivors,
        Vec::<String>::new(),
        "the setsid child of the hung benchmark survived"
    );
    // The run went on after it: the flood and the fork child were measured.
    assert!(
        !gil_states(&results, "flood", "3.13t").is_empty(),
        "{stderr}"
    );
    // The flood's log keeps its head and its tail, within the cap.
    let log = d.join("hostile-logs/flood-3.13t.log");
    let size = fs_err::metadata(&log).unwrap().len();
    assert!(size < 5 << 20, "the flood's log holds {size} bytes");
    let text = String::from_utf8_lossy(&fs_err::read(&log).unwrap()).into_owned();
    assert!(
        text.contains("bytes of output left out here"),
        "no cut mark"
    );
    assert!(text.contains("the flood's last line") || text.contains("Mean +- std dev"));
    // A fork child that turned the GIL on and never ran atexit hooks was seen.
    assert!(
        gil_states(&results, "gil_fork", "3.13t").iter().all(|s| *s),
        "{stderr}"
    );
    let marked = results["points"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["test"] == "gil_fork")
        .unwrap();
    assert_eq!(
        marked["samples"][0]["extra"]["gil_enabled_by"][0],
        "markupsafe._speedups"
    );

    // python_startup through ftbench, with its probe in the benchmark's venv: the GIL's state
    // read from every process, as for any benchmark.
    ftbench(d)
        .args(["pyperformance", "-b", "python_startup", "--fast"])
        .args(["-o", "startup.json", "--no-store", "--no-report"])
        .args(&pythons)
        .assert()
        .success();
    let startup = read_json(&d.join("startup.json"));
    assert!(median_seconds(&startup, "python_startup") > 0.0);
    assert!(
        gil_states(&startup, "python_startup", "3.13t")
            .iter()
            .all(|s| !*s)
    );
    // What the probe costs python_startup: that venv's `python -c pass` with ftbench's variable
    // and without it, taking turns 150 times (separate pyperformance runs of it differ by up to
    // 8% from one to the next here, more than the probe could). Within 5%, measured again once.
    let python = glob_one(&d.join("cache/pyperformance"), "venvs/pyperf-only/venv");
    let python = fs_err::read_dir(&python)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path().join("bin/python"))
        .find(|p| p.exists())
        .expect("pyperformance's venv for python_startup");
    let probe_file = d.join("probe.jsonl");
    let time_start = |probed: bool| {
        let mut command = std::process::Command::new(&python);
        command.args(["-c", "pass"]).env_remove("FTBENCH_GIL_PROBE");
        if probed {
            command.env("FTBENCH_GIL_PROBE", &probe_file);
        }
        let started = std::time::Instant::now();
        assert!(command.status().unwrap().success());
        started.elapsed().as_secs_f64()
    };
    let median = |mut values: Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let mut ratios = Vec::new();
    for _ in 0..2 {
        let (mut with, mut without) = (Vec::new(), Vec::new());
        for i in 0..150 {
            // A B, then B A: drift falls on both alike.
            if i % 2 == 0 {
                with.push(time_start(true));
                without.push(time_start(false));
            } else {
                without.push(time_start(false));
                with.push(time_start(true));
            }
        }
        let ratio = median(with) / median(without);
        ratios.push(ratio);
        if ratio <= 1.05 {
            break;
        }
    }
    assert!(
        ratios.iter().any(|r| *r <= 1.05),
        "python -c pass with the probe / without it: {ratios:?}"
    );
    // And the probe did run in those processes: one line each.
    assert!(fs_err::read_to_string(&probe_file).unwrap().lines().count() >= 150);

    // A planner stuck on a FIFO named as a benchmark's metafile stops at SIGTERM.
    let fifo = d.join("stuck.toml");
    crate::common::mkfifo(&fifo);
    fs_err::write(
        d.join("FIFO_MANIFEST"),
        format!(
            "[benchmarks]\n\nname\tmetafile\nstuck\t{}\n",
            fifo.display()
        ),
    )
    .unwrap();
    let mut child = crate::common::ftbench_process(d)
        .args([
            "pyperformance",
            "-b",
            "stuck",
            "--manifest",
            "FIFO_MANIFEST",
        ])
        .args(["-o", "stuck.json", "--no-store", "--no-report"])
        .args(&pythons)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The planner's command line: `python …/plan.py stuck …/FIFO_MANIFEST`.
    let manifest_text = d.join("FIFO_MANIFEST").display().to_string();
    let planner = ["plan.py", manifest_text.as_str()];
    let started = std::time::Instant::now();
    while processes_marked(&planner).is_empty() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(120),
            "the planner never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap()),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let stopped = std::time::Instant::now();
    let status = child.wait().unwrap();
    assert!(stopped.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(status.code(), Some(143));
    assert_eq!(
        processes_marked(&planner),
        Vec::<String>::new(),
        "plan.py survived"
    );
}

/// The one path under `root` that ends with `suffix`.
fn glob_one(root: &std::path::Path, suffix: &str) -> std::path::PathBuf {
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        if dir.ends_with(suffix) {
            return dir;
        }
        if let Ok(entries) = fs_err::read_dir(&dir) {
            stack.extend(
                entries
                    .filter_map(Result::ok)
                    .filter(|e| {
                        e.file_type()
                            .is_ok_and(|t| !t.is_symlink() || e.path().ends_with("bin/python"))
                    })
                    .map(|e| e.path()),
            );
        }
    }
    panic!("nothing under {} ends with {suffix}", root.display());
}
