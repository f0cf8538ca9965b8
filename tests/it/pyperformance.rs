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
