use std::path::Path;

use predicates::prelude::*;

use crate::common::fairness::{self, Fairness};
use crate::common::{ft_python, ftbench, read_json, temp};
use crate::require;

/// A small real run of one variant, recorded in `store`.
fn run(dir: &Path, label: &str, python: &str, output: &str, store: &Path) {
    ftbench(dir)
        .args([
            "run",
            "--no-native",
            "--tests",
            "parallel_compute",
            "--threads",
            "2",
            "--target-ms",
            "60",
        ])
        .args([
            "--processes",
            "4",
            "--samples",
            "3",
            "--no-report",
            "-o",
            output,
            "--store",
        ])
        .arg(store)
        .arg("--python")
        .arg(format!("{label}={python}"))
        .assert()
        .success()
        .stderr(predicate::str::contains("in the history store"));
}

fn verdict_at(comparison: &serde_json::Value, test: &str, threads: u64) -> String {
    let point = comparison[0]["points"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["test"] == test && p["thread_count"] == threads);
    match point {
        Some(p) => p["verdict"].as_str().unwrap().to_string(),
        None => panic!("no {test} at {threads} in {comparison:#}"),
    }
}

#[test]
fn free_threading_is_significantly_faster_and_a_run_equals_itself() {
    let ft = require!(ft_python());
    let dir = temp();
    // The VM has slow spells (a serial point once read 0.62x of the other build's): a pair of
    // runs in which free-threading did not come out faster is measured once more, in a fresh
    // folder and store, before the test fails.
    let mut attempt = 0;
    let (d, store, comparison) = loop {
        attempt += 1;
        let d = dir.path().join(format!("attempt-{attempt}"));
        fs_err::create_dir(&d).unwrap();
        let store = d.join("history.sqlite");
        run(
            &d,
            "gil",
            &format!("{}+gil", ft.display()),
            "gil.json",
            &store,
        );
        run(&d, "ft", &ft.display().to_string(), "ft.json", &store);
        let output = ftbench(&d)
            .args(["compare", "gil.json", "ft.json", "--json"])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let comparison: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let faster = verdict_at(&comparison, "parallel_compute", 2) == "faster"
            && comparison[0]["labels"][0]["verdict"] == "faster";
        if faster || attempt == 2 {
            break (d, store, comparison);
        }
        eprintln!(
            "attempt {attempt}: free-threading did not come out faster, measuring again: {comparison}"
        );
    };
    let d = d.as_path();
    if verdict_at(&comparison, "parallel_compute", 2) != "faster" {
        let failure = format!("free-threading was not faster at 2 threads: {comparison:#}");
        fairness::judge(&ft, &failure, Fairness::parallel);
        return;
    }
    let point = &comparison[0]["points"][1];
    assert!(point["p_value"].as_f64().unwrap() < 0.05);
    assert!(point["ci_low"].as_f64().unwrap() > 1.0);

    let output = ftbench(d)
        .args(["compare", "ft.json", "ft.json", "--json"])
        .output()
        .unwrap();
    let same: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    for p in same[0]["points"].as_array().unwrap() {
        assert_eq!(p["verdict"], "same", "{p}");
    }
    // One geometric mean per label, with its interval and verdict, and the count of each way.
    let ft = &same[0]["labels"][0];
    assert_eq!(ft["label"], "ft");
    assert_eq!(ft["verdict"], "same", "{ft}");
    assert!(
        (ft["geometric_mean"].as_f64().unwrap() - 1.0).abs() < 1e-12,
        "{ft}"
    );
    assert!(ft["ci_low"].as_f64().unwrap() <= 1.0 && ft["ci_high"].as_f64().unwrap() >= 1.0);
    assert_eq!(ft["faster"], 0);
    assert_eq!(ft["slower"], 0);
    assert_eq!(ft["same"], ft["points"]);
    // Across builds, the free-threaded label is faster overall and says how many points were.
    let gil_vs_ft = &comparison[0]["labels"][0];
    assert_eq!(gil_vs_ft["verdict"], "faster", "{gil_vs_ft}");
    assert!(gil_vs_ft["faster"].as_u64().unwrap() >= 1, "{gil_vs_ft}");

    // The same comparison from the store, the other way round, fails the regression gate.
    ftbench(d)
        .args([
            "compare",
            "--run",
            "2",
            "--run",
            "1",
            "--fail-on-regression",
            "5",
            "--store",
        ])
        .arg(&store)
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("regressed by more than 5%")
                .and(predicate::str::contains("parallel_compute at 2 threads")),
        );
    ftbench(d)
        .args([
            "compare",
            "ft.json",
            "ft.json",
            "--markdown",
            "--fail-on-regression",
            "5",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("| test | threads | label |"));

    ftbench(d)
        .arg("history")
        .arg("--store")
        .arg(&store)
        .assert()
        .success()
        .stdout(predicate::str::contains("parallel_compute").and(predicate::str::contains("gil")));
    let output = ftbench(d)
        .args([
            "history",
            "--test",
            "parallel_compute",
            "--label",
            "ft",
            "--threads",
            "2",
            "--json",
            "--store",
        ])
        .arg(&store)
        .output()
        .unwrap();
    let trend: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(trend[0]["points"].as_array().unwrap().len(), 1);
    assert_eq!(trend[0]["threads"], "2 threads");
    // Without --threads, every thread count the store holds for the pair: serial and 2.
    let output = ftbench(d)
        .args([
            "history",
            "--test",
            "parallel_compute",
            "--label",
            "ft",
            "--json",
            "--store",
        ])
        .arg(&store)
        .output()
        .unwrap();
    let trends: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let counts: Vec<u64> = trends
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["thread_count"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, vec![0, 2]);
}

#[test]
fn concurrent_runs_share_one_store_and_lose_nothing() {
    let ft = require!(ft_python());
    let dir = temp();
    let store = dir.path().join("shared.sqlite");
    let children: Vec<_> = (0..2)
        .map(|i| {
            crate::common::ftbench_process(dir.path())
                .args([
                    "run",
                    "--no-native",
                    "--quick",
                    "--tests",
                    "lock_contention",
                    "--threads",
                    "1",
                    "--no-report",
                ])
                .args(["-o", &format!("r{i}.json"), "--store"])
                .arg(&store)
                .arg("--python")
                .arg(format!("p{i}={}", ft.display()))
                .output()
                .unwrap()
        })
        .collect();
    for child in children {
        assert!(
            child.status.success(),
            "{}",
            String::from_utf8_lossy(&child.stderr)
        );
    }
    let output = ftbench(dir.path())
        .args(["history", "--json", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    let runs: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(runs.as_array().unwrap().len(), 2, "{runs:#}");
    for run in runs.as_array().unwrap() {
        assert_eq!(run["points"], 2);
    }
    let _ = read_json(&dir.path().join("r0.json"));
}

#[test]
fn broken_stores_and_missing_runs_get_one_clear_error() {
    let dir = temp();
    let d = dir.path();
    fs_err::write(
        d.join("truncated.sqlite"),
        b"SQLite format 3\0 and then nothing useful",
    )
    .unwrap();
    // A read-only command never creates a store at a mistyped path.
    ftbench(d)
        .args(["history", "--store", "typo.sqlite"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "there is no history store at `typo.sqlite`",
        ));
    assert!(!d.join("typo.sqlite").exists());
    ftbench(d)
        .args(["history", "--store", "truncated.sqlite"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("is damaged or not a store"));
    {
        let future = rusqlite::Connection::open(d.join("future.sqlite")).unwrap();
        future.execute_batch("PRAGMA user_version = 99").unwrap();
    }
    ftbench(d)
        .args(["history", "--store", "future.sqlite"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "has schema 99, written by a newer ftbench",
        ));
    // An empty file is not a store, and reading it does not make it one.
    drop(rusqlite::Connection::open(d.join("empty.sqlite")).unwrap());
    ftbench(d)
        .args(["history", "--store", "empty.sqlite"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "is an empty file, not a history store",
        ));
    assert_eq!(fs_err::metadata(d.join("empty.sqlite")).unwrap().len(), 0);
    // A store with one run: the missing one is named.
    ftbench(d)
        .args(["history", "add", "--store", "fresh.sqlite"])
        .arg(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("bench/results/2-cores-regular-2026-11-26.json"),
        )
        .assert()
        .success();
    ftbench(d)
        .args([
            "compare",
            "--run",
            "1",
            "--run",
            "999",
            "--store",
            "fresh.sqlite",
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains("has no run 999"));
    ftbench(d)
        .args(["compare", "a.json"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "cannot read results file `a.json`",
        ));
}
