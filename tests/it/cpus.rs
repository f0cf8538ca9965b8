use std::path::Path;

use crate::common::fairness::Fairness;
use crate::common::{Hog, ft_python, ftbench, read_json, temp, tiny_run};
use crate::require;

/// The CPUs `ftbench check` probed: this process's usable CPUs, each with its speed.
fn usable_cpus(dir: &Path) -> Vec<serde_json::Value> {
    let output = ftbench(dir)
        .args(["check", "--seconds", "0.2", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let check: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    check["cpus"].as_array().cloned().unwrap_or_default()
}

/// The seed-schema entry of `test` on `label` at `threads`.
fn point<'a>(
    results: &'a serde_json::Value,
    test: &str,
    label: &str,
    threads: u64,
) -> &'a serde_json::Value {
    results["results"]["scaling_tests"][test][label]["scaling_data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["thread_count"] == threads)
        .unwrap()
}

#[test]
fn check_measures_the_speed_of_each_usable_cpu() {
    let dir = temp();
    let cpus = usable_cpus(dir.path());
    let count = std::thread::available_parallelism().unwrap().get();
    assert_eq!(cpus.len(), count, "{cpus:?}");
    let speeds: Vec<f64> = cpus
        .iter()
        .map(|c| c["relative_speed"].as_f64().unwrap())
        .collect();
    assert!(speeds.iter().all(|s| *s > 0.0 && *s <= 1.0), "{cpus:?}");
    assert!(speeds.iter().any(|s| (*s - 1.0).abs() < 1e-9), "{cpus:?}");
    assert!(cpus.iter().all(|c| c["cpu"].as_u64().is_some()));
    // The table names the item.
    let output = ftbench(dir.path())
        .args(["check", "--seconds", "0.2"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stdout).contains("CPU speeds"));
}

#[test]
fn cpus_that_are_not_usable_or_not_a_list_are_refused_by_name() {
    let ft = require!(ft_python());
    let dir = temp();
    for (cpus, says) in [
        ("4000", "CPU 4000 is not usable"),
        ("0,3000-3001", "CPUs 3000-3001 are not usable"),
        ("1-x", "`1-x` is not a CPU list"),
        (",", "names no CPU"),
    ] {
        let output = ftbench(dir.path())
            .args(["run", "--tests", "parallel_compute", "--threads", "1"])
            .args(["--no-store", "-o", "never.json", "--cpus", cpus, "--python"])
            .arg(format!("ft={}", ft.display()))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{cpus}: {stderr}");
        assert!(stderr.contains(says), "{cpus}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!dir.path().join("never.json").exists());
    }
}

/// Two threads on two CPUs, one of which a busy process holds: the threads wait for a CPU,
/// each thread's own time says so, and the verdict blames the machine, not the code.
#[test]
fn a_thread_beside_a_busy_process_waits_for_a_cpu_and_is_not_judged_waits_or_contends() {
    let ft = require!(ft_python());
    let dir = temp();
    let d = dir.path();
    let usable: Vec<u64> = usable_cpus(d)
        .iter()
        .filter_map(|c| c["cpu"].as_u64())
        .collect();
    if usable.len() < 2 {
        crate::common::skip("one usable CPU");
        return;
    }
    let (a, b) = (usable[usable.len() - 2], usable[usable.len() - 1]);
    let _hog = Hog::pinned(b);
    let output = ftbench(d)
        .args(["run", "--no-native", "--quick", "--target-ms", "100"])
        .args([
            "--tests",
            "parallel_compute",
            "--threads",
            "2",
            "--allow-load",
        ])
        .args([
            "--cpus",
            &format!("{a},{b}"),
            "--no-store",
            "-o",
            "busy.json",
        ])
        .arg("--python")
        .arg(format!("ft={}", ft.display()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let results = read_json(&d.join("busy.json"));
    assert_eq!(results["settings"]["cpus"], serde_json::json!([a, b]));
    // Every thread of every sample has its own time, on the CPUs it was given.
    let samples: Vec<&serde_json::Value> = results["points"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["samples"].as_array().unwrap())
        .collect();
    for sample in &samples {
        let threads = sample["threads"].as_array().expect("per-thread time");
        assert!(!threads.is_empty());
        for thread in threads {
            for field in ["wall_ns", "cpu_ns", "runq_ns"] {
                assert!(thread[field].as_u64().is_some(), "{field}: {thread}");
            }
            for cpu in thread["cpus"].as_array().unwrap() {
                assert!([a, b].contains(&cpu.as_u64().unwrap()), "{thread}");
            }
        }
    }
    // The probe of the CPUs the run used is in the file.
    assert_eq!(
        results["system"]["check"]["cpus"].as_array().unwrap().len(),
        2
    );
    let at_two = point(&results, "parallel_compute", "ft", 2);
    let cpu_wait = at_two["time"]["cpu_wait"].as_f64().unwrap();
    assert!(cpu_wait > 0.05, "{at_two}");
    let verdict = at_two["verdict"].as_str().unwrap();
    assert!(!["waits", "contends"].contains(&verdict), "{at_two}");
}

/// One thread of the team burns twice the CPU its part needs: to ftbench, exactly a slower
/// CPU. The point is measured again, marked, and its verdict names the machine.
#[test]
fn equal_parts_that_take_unequal_cpu_time_are_judged_unequal() {
    let ft = require!(ft_python());
    let dir = temp();
    let d = dir.path();
    let mut seen = Vec::new();
    for attempt in 0..2 {
        let output = ftbench(d)
            .env("FTBENCH_FAULT", "slow_thread")
            .args(["run", "--no-native", "--quick", "--tests", "_fault"])
            .args([
                "--threads",
                "1,2",
                "--no-store",
                "-o",
                "slow.json",
                "--force",
            ])
            .arg("--python")
            .arg(format!("ft={}", ft.display()))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "{stderr}");
        let results = read_json(&d.join("slow.json"));
        let at_two = point(&results, "_fault", "ft", 2).clone();
        // Judged unequal from the process that was measured again and marked (the probe alone
        // can also name the machine, with no sample marked: that is measured once more).
        if at_two["verdict"] == "unequal" && at_two["unequal_samples"].as_u64() > Some(0) {
            assert!(
                at_two["time"]["imbalance"].as_f64().unwrap() >= 1.15,
                "{at_two}"
            );
            assert!(stdout.contains("The machine, not the code"), "{stdout}");
            assert!(stderr.contains("UNEQUAL CPUs in"), "{stderr}");
            assert!(at_two["unequal_samples"].as_u64().unwrap() > 0, "{at_two}");
            return;
        }
        eprintln!("attempt {attempt}: {at_two}");
        seen.push(at_two);
    }
    panic!("never judged unequal: {seen:?}");
}

/// A file whose CPUs this machine does not have (another machine's run): resuming it names them;
/// with `--force` it runs on this machine's CPUs and says so.
#[test]
fn resuming_a_file_from_other_cpus_names_them_and_force_runs_here() {
    let ft = require!(ft_python());
    let dir = temp();
    let d = dir.path();
    tiny_run(d, &ft, "r.json");
    let mut results = read_json(&d.join("r.json"));
    results["settings"]["cpus"] = serde_json::json!([4000, 4001]);
    results["points"].as_array_mut().unwrap().pop();
    fs_err::write(d.join("r.json"), results.to_string()).unwrap();
    let resume = |force: bool| {
        let mut command = ftbench(d);
        command.args(["run", "--resume", "r.json", "--no-store", "--no-report"]);
        if force {
            command.arg("--force");
        }
        command.output().unwrap()
    };
    let refused = resume(false);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(stderr.contains("CPUs 4000-4001"), "{stderr}");
    let forced = resume(true);
    let stderr = String::from_utf8_lossy(&forced.stderr);
    assert!(forced.status.success(), "{stderr}");
    assert!(
        stderr.contains("CPUs 4000-4001 of the file are not all usable here"),
        "{stderr}"
    );
    assert_eq!(crate::common::point_count(&d.join("r.json")), 2);
}

/// The probe that lets a physics test say SKIPPED must see an unfair machine: with one CPU kept
/// busy, two Python processes reach about 1.5x of one (the probe's bar is 1.7x), two threads in
/// 10 ms windows less than 1.8x, and two threads on one cache line take turns.
#[test]
fn the_fairness_probe_sees_a_cpu_taken_by_other_work() {
    let ft = require!(ft_python());
    let quiet = Fairness::measure(&ft);
    eprintln!("quiet: {quiet}");
    let busy = {
        let _hog = Hog::start();
        Fairness::measure(&ft)
    };
    eprintln!("one CPU busy: {busy}");
    assert!(!busy.parallel(), "{busy}");
    // Each measure on its own, not only through `parallel`: 10 ms windows see the busy CPU too.
    assert!(busy.short_windows < 1.8, "{busy}");
    assert!(!busy.contended(), "{busy}");
}
