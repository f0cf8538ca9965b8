use std::path::Path;
use std::time::Duration;

use crate::common::fairness::{self, Fairness};
use crate::common::{Hog, ft_python, ftbench, read_json, temp};
use crate::require;

/// `parallel_compute` at 2 threads on `labels` (LABEL=SPEC), quick; returns stdout and stderr.
///
/// Samples are 50 ms at 2 threads (`--target-ms 100`), not quick's 10 ms: on this 2-core VM the
/// scheduler now and then leaves both threads on one CPU for a few milliseconds, which a 10 ms
/// sample shows as a point that did not scale (seen in CI: 1.31x with no other work running).
fn run(dir: &Path, labels: &[String], output: &str, extra: &[&str]) -> (String, String) {
    let mut command = ftbench(dir);
    command
        .args([
            "run",
            "--no-native",
            "--quick",
            "--target-ms",
            "100",
            "--tests",
            "parallel_compute",
        ])
        .args(["--threads", "2", "--no-store", "-o", output, "--force"]);
    for label in labels {
        command.args(["--python", label]);
    }
    let output = command.args(extra).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stderr}");
    (String::from_utf8_lossy(&output.stdout).into_owned(), stderr)
}

/// The seed-schema entry of `parallel_compute` on `label` at `threads`.
fn point<'a>(results: &'a serde_json::Value, label: &str, threads: u64) -> &'a serde_json::Value {
    results["results"]["scaling_tests"]["parallel_compute"][label]["scaling_data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["thread_count"] == threads)
        .unwrap()
}

#[test]
fn a_point_measured_beside_a_busy_core_is_marked_everywhere_and_compare_gives_no_verdict() {
    let ft = require!(ft_python());
    let dir = temp();
    let d = dir.path();
    let label = format!("ft={}", ft.display());
    let (stdout, stderr) = {
        let _hog = Hog::start();
        run(
            d,
            std::slice::from_ref(&label),
            "busy.json",
            &["--allow-load"],
        )
    };
    let busy = read_json(&d.join("busy.json"));
    assert_eq!(point(&busy, "ft", 2)["disturbed"], true, "{stderr}");
    assert_eq!(point(&busy, "ft", 2)["verdict"], "disturbed", "{stderr}");
    let samples = busy["points"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["thread_count"] == 2)
        .unwrap()["samples"]
        .as_array()
        .unwrap();
    assert!(samples.iter().all(|s| s["disturbed"] == true));
    assert!(samples[0]["load"]["other_load"].as_f64().is_some());
    // --allow-load neither waits nor retries.
    assert!(!stderr.contains("waiting up to"), "{stderr}");
    assert!(stdout.contains("BUSY!"), "{stdout}");
    assert!(
        stderr.contains("other work on the machine disturbed 1 point(s)"),
        "{stderr}"
    );
    let report = d.join("busy-report");
    for file in ["report.md", "report.html"] {
        let text = fs_err::read_to_string(report.join(file)).unwrap();
        assert!(text.contains("BUSY!"), "{file}");
    }

    // The run's machine check is kept in the file.
    assert!(
        busy["system"]["check"]["items"]
            .as_array()
            .is_some_and(|i| i.len() == 9)
    );

    // Against a clean run: no faster or slower, and --fail-on-regression does not fail on it
    // (the 2-thread point lost half its throughput; the serial one, beside a free core, did not).
    let clean = clean_run(d, &label);
    let output = ftbench(d)
        .args([
            "compare",
            &clean,
            "busy.json",
            "--json",
            "--fail-on-regression",
            "30",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let comparison: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let at_two = comparison[0]["points"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["thread_count"] == 2)
        .unwrap();
    assert_eq!(at_two["verdict"], "disturbed", "{at_two}");
    assert!(
        stderr.contains("--fail-on-regression ignores 1 point(s)"),
        "{stderr}"
    );
}

/// A quick run on an idle machine whose 2-thread point is not disturbed (measured again once:
/// the VM has slow spells and other work may run beside the tests).
fn clean_run(dir: &Path, label: &str) -> String {
    for attempt in 0..2 {
        let (_, stderr) = run(dir, &[label.to_string()], "clean.json", &["--no-report"]);
        if point(&read_json(&dir.join("clean.json")), "ft", 2)["disturbed"] == false {
            return "clean.json".to_string();
        }
        eprintln!("attempt {attempt}: the idle run was disturbed: {stderr}");
    }
    panic!("two runs on an idle machine were both marked disturbed");
}

#[test]
fn with_waiting_the_point_is_measured_after_the_load_stops() {
    let ft = require!(ft_python());
    let dir = temp();
    let d = dir.path();
    let label = format!("ft={}", ft.display());
    for attempt in 0..2 {
        let hog = Hog::start();
        let stopper = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(4));
            drop(hog);
        });
        let (_, stderr) = run(
            d,
            std::slice::from_ref(&label),
            "waited.json",
            &["--no-report"],
        );
        stopper.join().unwrap();
        let results = read_json(&d.join("waited.json"));
        let at_two = point(&results, "ft", 2);
        let speedup = at_two["metrics"]["speedup"].as_f64().unwrap();
        // Measured after the load stopped: undisturbed, and at the idle speedup, or judged by
        // the machine where this VM's vCPUs had drifted apart (they do, for minutes at a time).
        if at_two["disturbed"] == false && (speedup >= 1.8 || at_two["verdict"] == "unequal") {
            assert!(stderr.contains("waiting up to"), "{stderr}");
            return;
        }
        eprintln!("attempt {attempt}: speedup {speedup}, {at_two}\n{stderr}");
    }
    fairness::judge(
        &ft,
        "the point was not measured at the idle speedup after the load stopped",
        Fairness::parallel,
    );
}

#[test]
fn parallelism_tells_threads_that_ran_from_threads_that_waited_and_idle_runs_are_unmarked() {
    let ft = require!(ft_python());
    let dir = temp();
    let d = dir.path();
    let labels = [
        format!("ft={}", ft.display()),
        format!("gil={}+gil", ft.display()),
    ];
    for attempt in 0..2 {
        let mut command = ftbench(d);
        command
            .args([
                "run",
                "--no-native",
                "--quick",
                "--target-ms",
                "100",
                "--threads",
                "1,2",
                "--no-report",
            ])
            .args([
                "--tests",
                "parallel_compute,ref_counting_local,lock_contention",
            ])
            .args(["--no-store", "-o", "idle.json", "--force"]);
        for label in &labels {
            command.args(["--python", label]);
        }
        let output = command.output().unwrap();
        assert!(output.status.success(), "{output:?}");
        let results = read_json(&d.join("idle.json"));
        let parallelism = |label: &str| {
            point(&results, label, 2)["metrics"]["parallelism"]
                .as_f64()
                .unwrap()
        };
        let marked: Vec<String> = results["points"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| {
                p["samples"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|s| s["disturbed"] == true)
            })
            .map(|p| format!("{} {} {}", p["test"], p["label"], p["thread_count"]))
            .collect();
        let (ft_par, gil_par) = (parallelism("ft"), parallelism("gil"));
        // Two threads that both ran against threads that took turns: ~2 against ~1. On this VM
        // the vCPUs drift apart for minutes at a time, and a thread done early idles until the
        // other finishes (1.68-1.75 were read on an idle machine then): the builds stay told
        // apart by half a CPU or more.
        if marked.is_empty() && ft_par >= 1.5 && gil_par <= 1.2 && ft_par - gil_par >= 0.5 {
            return;
        }
        eprintln!(
            "attempt {attempt}: marked {marked:?}, parallelism ft {ft_par:.2}, gil {gil_par:.2}"
        );
    }
    fairness::judge(
        &ft,
        "an idle quick run was marked, or parallelism did not tell the builds apart",
        Fairness::parallel,
    );
}

#[test]
fn check_prints_every_item_and_its_json_parses() {
    let dir = temp();
    let output = ftbench(dir.path())
        .args(["check", "--seconds", "0.5"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    for item in [
        "load now",
        "other work",
        "steal",
        "frequency governor",
        "turbo / boost",
        "SMT",
        "cgroup CPU quota",
        "usable CPUs",
        "CPU speeds",
    ] {
        assert!(text.contains(item), "{item}: {text}");
    }
    let output = ftbench(dir.path())
        .args(["check", "--seconds", "0.3", "--json", "--threads", "1,64"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["items"].as_array().unwrap().len(), 9);
    assert!(json["other_load"].as_f64().is_some());
    assert!(!json["cpus"].as_array().unwrap().is_empty(), "{json}");
    let usable = json["items"].as_array().unwrap().last().unwrap()["value"]
        .as_str()
        .unwrap();
    assert!(usable.contains("oversubscription"), "{usable}");
    // A window too short to measure is refused.
    ftbench(dir.path())
        .args(["check", "--seconds", "0"])
        .assert()
        .failure();
}
