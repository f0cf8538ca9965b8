use std::path::Path;

use predicates::prelude::*;

use crate::common::fairness::{self, Fairness};
use crate::common::{
    fake_python, ft_python, ftbench, gil_python, python_args, read_json, temp, tools_python,
};
use crate::require;

fn speedup_at(results: &serde_json::Value, test: &str, label: &str, threads: u64) -> f64 {
    let data = &results["results"]["scaling_tests"][test][label]["scaling_data"];
    data.as_array()
        .unwrap_or_else(|| panic!("no scaling_data for {test}/{label}"))
        .iter()
        .find(|p| p["thread_count"] == threads)
        .and_then(|p| p["metrics"]["speedup"].as_f64())
        .unwrap_or_else(|| panic!("no speedup for {test}/{label} at {threads}"))
}

#[test]
fn quick_run_writes_the_seed_schema_and_the_seed_analysis_reads_it() {
    let ft = require!(ft_python());
    let gil = require!(gil_python());
    let tools = require!(tools_python());
    let dir = temp();
    // Labels set to the seed's version strings, so its notebook code runs unmodified.
    // Three interpreters and the native reference, printed for a 100-column terminal.
    let assert = ftbench(dir.path())
        .env("COLUMNS", "100")
        .args(["run", "--quick", "--threads", "1,2", "-o", "results.json"])
        .args(["--tests", "parallel_compute,ref_counting_shared,ref_counting_local,lock_contention,memory_bandwidth,np_column_compute_thread,np_column_compute_mp,pool_io_bound_threads"])
        .args(python_args(&[
            format!("3.13.0t={}", ft.display()),
            format!("3.12.7={}+gil", ft.display()),
            format!("3.13.0={}", gil.display()),
        ]))
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(
        stdout.contains("=== parallel_compute (ops_per_sec, higher is better) ==="),
        "{stdout}"
    );
    let widest = stdout.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    assert!(widest <= 100, "a line of {widest} columns:\n{stdout}");
    // The headline: each free-threaded build's single-thread ratio against its GIL
    // counterpart, and each label's best speedup on the compute test.
    let short = &stdout[stdout.find("=== In short ===").expect("a headline")..];
    let short = short.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(short.contains("On one thread 3.13.0t is "), "{short}");
    assert!(
        short.contains(" than 3.13.0 [") || short.contains(" as fast as 3.13.0 within the noise: "),
        "{short}"
    );
    let best = short
        .split("Best speedup over one serial run on parallel_compute: ")
        .nth(1)
        .expect("the best speedups");
    let best = &best[..best.find(" usable CPU").expect("the CPU count")];
    for label in ["3.13.0t", "3.12.7", "3.13.0", "native"] {
        assert!(
            best.contains(&format!("{label} ")) && best.contains(" at "),
            "{label}: {best}"
        );
    }
    // --wide: the seed's full tables.
    let wide = ftbench(dir.path())
        .args(["report", "--no-files", "--wide", "results.json"])
        .assert()
        .success();
    let wide = String::from_utf8_lossy(&wide.get_output().stdout).into_owned();
    assert!(
        wide.contains("Scaling Factor (the seed's: best speedup / speedup at the first thread count; never below 1.00x):")
            && wide.contains(": speedup at 2 threads ")
            && wide.contains("efficiency"),
        "{wide}"
    );
    assert!(
        wide.lines().any(|l| l.chars().count() > 100),
        "--wide is wide"
    );
    let path = dir.path().join("results.json");
    let results = read_json(&path);
    assert_eq!(results["schema_version"], 1);
    for key in [
        "ftbench_version",
        "created",
        "command_line",
        "system",
        "settings",
        "variants",
        "points",
    ] {
        assert!(!results[key].is_null(), "{key} missing");
    }
    let scaling = &results["results"]["scaling_tests"];
    for (test, metric) in [
        ("parallel_compute", "ops_per_sec"),
        ("ref_counting_shared", "refs_per_sec"),
        ("ref_counting_local", "refs_per_sec"),
        ("lock_contention", "ops_per_sec"),
        ("memory_bandwidth", "bandwidth_MB_s"),
        ("np_column_compute_thread", "samples_per_sec"),
        ("np_column_compute_mp", "samples_per_sec"),
    ] {
        for label in ["3.13.0t", "3.12.7", "3.13.0"] {
            let data = scaling[test][label]["scaling_data"]
                .as_array()
                .unwrap_or_else(|| panic!("{test}/{label}"));
            assert_eq!(data.len(), 2, "{test}/{label}");
            for point in data {
                let metrics = &point["metrics"];
                assert!(
                    metrics[metric].as_f64().unwrap() > 0.0,
                    "{test}/{label}: {metric}"
                );
                assert!(metrics["speedup"].as_f64().unwrap() > 0.0);
                assert!(metrics["efficiency"].as_f64().is_some());
                assert!(metrics["karp_flatt"].is_null() || metrics["karp_flatt"].is_f64());
                let (low, high) = (
                    metrics[format!("{metric}_ci_low")].as_f64().unwrap(),
                    metrics[format!("{metric}_ci_high")].as_f64().unwrap(),
                );
                assert!(
                    low <= metrics[metric].as_f64().unwrap()
                        && metrics[metric].as_f64().unwrap() <= high
                );
            }
            assert!(scaling[test][label]["scaling_factor"].as_f64().is_some());
        }
    }
    let pools =
        &results["results"]["pool_tests"]["pool_io_bound_threads"]["3.13.0t"]["scaling_data"];
    assert!(pools[0]["metrics"]["tasks_per_sec"].as_f64().unwrap() > 0.0);
    // numpy's version is recorded per interpreter, the same on each.
    let numpy: Vec<&str> = results["variants"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["label"] != "native")
        .map(|v| v["info"]["numpy"].as_str().unwrap())
        .collect();
    assert!(numpy.windows(2).all(|w| w[0] == w[1]), "{numpy:?}");

    let output = std::process::Command::new(tools)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seed_analysis.py"))
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the seed's analysis failed:\n{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(text.contains("=== parallel_compute ==="), "{text}");
    assert!(text.contains("SEED-ANALYSIS-OK"), "{text}");

    // `ftbench report` re-prints the same tables from the file.
    ftbench(dir.path())
        .args(["report", "results.json"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "=== memory_bandwidth (bandwidth_MB_s, higher is better) ===",
        ));
}

/// What 2 threads with equal halves can reach on the run's CPUs: this VM's two vCPUs run at
/// unequal speeds for minutes (one at 0.75x of the other), and then the slower half ends each
/// sample: 2 x the slowest CPU's speed, by the run's own probe (2.0 on equal CPUs). With `point`
/// (test, label), also by the probe ftbench ran beside that point's 2-thread processes (how much
/// slower the CPUs ran with both busy, `time.cpu_slowdown`): the machine's own report of that
/// moment, measured apart from the point.
fn reachable_at_two(results: &serde_json::Value, point: Option<(&str, &str)>) -> f64 {
    let slowest = results["system"]["check"]["cpus"]
        .as_array()
        .map_or(1.0, |cpus| {
            cpus.iter()
                .filter_map(|c| c["relative_speed"].as_f64())
                .fold(1.0_f64, f64::min)
        });
    let busy = point
        .and_then(|(test, label)| {
            results["results"]["scaling_tests"][test][label]["scaling_data"]
                .as_array()?
                .iter()
                .find(|p| p["thread_count"] == 2)?["time"]["cpu_slowdown"]
                .as_f64()
        })
        .filter(|s| *s >= 1.0)
        .map_or(1.0, |s| 1.0 / s);
    2.0 * slowest.min(busy).clamp(0.5, 1.0)
}

/// What `parallel_compute` at 2 threads broke of the physics, if anything: (free-threaded,
/// GIL-forced, native, reachable) speedups.
fn physics_broken((ft, gil, native, reachable): (f64, f64, f64, f64)) -> Option<String> {
    // The hardware ceiling: Rust doing the same shape of work scales on 2 cores (1.7x of 2 on
    // equal CPUs).
    if native < 0.85 * reachable {
        return Some(format!(
            "native speedup at 2 threads was {native:.2} of {reachable:.2} reachable"
        ));
    }
    if ft < 0.8 * reachable {
        return Some(format!(
            "free-threaded speedup at 2 threads was {ft:.2} of {reachable:.2} reachable"
        ));
    }
    // Free-threading beats the same build with its GIL forced on, on any 2 CPUs.
    (ft < 1.25 * gil).then(|| format!("free-threaded {ft:.2} against GIL-forced {gil:.2}"))
}

#[test]
fn free_threading_scales_and_the_gil_does_not() {
    // The physics on 2 cores, with generous margins: pure-Python arithmetic on 2 threads. A
    // shared VM has slow spells that can hide a whole curve; a failed check is measured once
    // more, and then judged by the fairness probe (SKIPPED only where two Python processes could
    // not reach 2x either); both attempts are printed.
    let ft = require!(ft_python());
    let dir = temp();
    let mut last = (0.0, 0.0, 0.0, 2.0);
    for attempt in 1..=2 {
        ftbench(dir.path())
            .args(["run", "--tests", "parallel_compute", "--threads", "1,2"])
            .args(["--target-ms", "100", "--processes", "6", "--samples", "3"])
            .args(["--no-report", "--no-store", "-o", "physics.json"])
            .args(python_args(&[
                format!("ft={}", ft.display()),
                format!("gil={}+gil", ft.display()),
            ]))
            .assert()
            .success();
        let results = read_json(&dir.path().join("physics.json"));
        let ft_speedup = speedup_at(&results, "parallel_compute", "ft", 2);
        let gil_speedup = speedup_at(&results, "parallel_compute", "gil", 2);
        let native_speedup = speedup_at(&results, "parallel_compute", "native", 2);
        let reachable = reachable_at_two(&results, None);
        eprintln!(
            "attempt {attempt}: parallel_compute speedup at 2 threads: free-threaded {ft_speedup:.2}, GIL forced {gil_speedup:.2}, native ceiling {native_speedup:.2}; reachable on these CPUs {reachable:.2}"
        );
        last = (ft_speedup, gil_speedup, native_speedup, reachable);
        if physics_broken(last).is_none() && gil_speedup <= 1.2 {
            break;
        }
        fs_err::remove_file(dir.path().join("physics.json")).unwrap();
    }
    // The GIL serialises the threads on any machine, fair or not.
    let gil_speedup = last.1;
    assert!(
        gil_speedup <= 1.2,
        "GIL-forced speedup at 2 threads was {gil_speedup:.2}"
    );
    if let Some(failure) = physics_broken(last) {
        fairness::judge(&ft, &failure, Fairness::parallel);
    }
}

#[test]
fn a_gil_that_comes_back_is_flagged_loudly() {
    // A wrapper that turns the GIL on behind ftbench's back, as an old C extension would.
    let ft = require!(ft_python());
    let dir = temp();
    let sneaky = fake_python(
        dir.path(),
        "sneaky-python",
        &format!("exec {} -X gil=1 \"$@\"", ft.display()),
    );
    let assert = ftbench(dir.path())
        .args([
            "run",
            "--no-native",
            "--quick",
            "--tests",
            "parallel_compute",
            "--threads",
            "2",
            "-o",
            "gil.json",
            "--python",
        ])
        .arg(format!("sneaky={}", sneaky.display()))
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("the GIL was ON"), "{stderr}");
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(stdout.contains("GIL!"), "{stdout}");
    let results = read_json(&dir.path().join("gil.json"));
    let data = &results["results"]["scaling_tests"]["parallel_compute"]["sneaky"]["scaling_data"];
    assert_eq!(data[0]["gil_reenabled"], true);
}

#[test]
fn numpy_tests_are_skipped_with_a_reason_without_numpy() {
    require!(ft_python());
    let dir = temp();
    // The machine's own python3 has no numpy in a fresh pyenv.
    let python = crate::common::fake_python(dir.path(), "bare-python", "exec python3 -S \"$@\"");
    let output = ftbench(dir.path())
        .args([
            "run",
            "--no-native",
            "--quick",
            "--tests",
            "np_column_compute_thread",
            "--threads",
            "1",
            "-o",
            "np.json",
            "--python",
        ])
        .arg(format!("bare={}", python.display()))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let results = read_json(&dir.path().join("np.json"));
    let skipped = &results["skipped"][0];
    assert_eq!(skipped["test"], "np_column_compute_thread");
    assert!(
        skipped["reason"]
            .as_str()
            .unwrap()
            .contains("numpy is not installed"),
        "{skipped}"
    );
}

#[test]
fn list_tests_names_every_test() {
    let dir = temp();
    ftbench(dir.path())
        .args(["run", "--list-tests"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("ref_counting_shared")
                .and(predicate::str::contains("np_column_compute_mp"))
                .and(predicate::str::contains("pool_io_bound_processes"))
                .and(predicate::str::contains("_fault").not()),
        );
}

#[test]
fn native_is_a_trustworthy_ceiling_in_quick_runs_and_only_a_reference_for_locks() {
    let ft = require!(ft_python());
    let dir = temp();
    for attempt in 0..2 {
        ftbench(dir.path())
            .args([
                "run",
                "--quick",
                "--tests",
                "parallel_compute,lock_contention",
            ])
            .args([
                "--threads",
                "1,2",
                "--no-store",
                "--force",
                "-o",
                "native.json",
            ])
            .arg("--python")
            .arg(format!("ft={}", ft.display()))
            .assert()
            .success();
        let results = read_json(&dir.path().join("native.json"));
        // Two Rust threads on two idle cores: the physics is certain. Before the team of threads
        // started once per worker, short samples read 1.00x-1.73x here.
        let speedup = speedup_at(&results, "parallel_compute", "native", 2);
        let parallelism =
            results["results"]["scaling_tests"]["parallel_compute"]["native"]["scaling_data"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["thread_count"] == 2)
                .unwrap()["metrics"]["parallelism"]
                .as_f64()
                .unwrap();
        // On this VM the two vCPUs drift apart in speed for minutes at a time: a point whose
        // verdict names the machine (`unequal`) has told the truth about it.
        let verdict =
            results["results"]["scaling_tests"]["parallel_compute"]["native"]["scaling_data"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["thread_count"] == 2)
                .unwrap()["verdict"]
                .clone();
        // 1.8x of 2 on equal CPUs; on CPUs of unequal speed, of what they can reach. Time the
        // hypervisor steals lowers CPU-seconds per second (parallelism) for the serial and the
        // 2-thread runs alike while leaving the speedup whole (seen in CI: 2.00x at parallelism
        // 1.71): there ftbench's own verdict, which weighs both, must say it scales.
        let reachable = reachable_at_two(&results, Some(("parallel_compute", "native")));
        if (speedup >= 0.9 * reachable && (parallelism >= 1.8 || verdict == "scales"))
            || (speedup >= 0.75 * reachable && verdict == "unequal")
        {
            let svg = |name: &str| {
                fs_err::read_to_string(
                    dir.path()
                        .join(format!("native-report/figures/scaling-{name}.svg")),
                )
                .unwrap()
            };
            // A ceiling unless the Python curve lies above it: a median more than 5% above the
            // native one with its whole interval above it (a VM whose CPUs drift apart can bend
            // the native curve below Python's, and then it is only a reference).
            let ft_at_two =
                &results["results"]["scaling_tests"]["parallel_compute"]["ft"]["scaling_data"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|p| p["thread_count"] == 2)
                    .unwrap()["metrics"];
            let (ft_speedup, ft_low) = (
                ft_at_two["speedup"].as_f64().unwrap(),
                ft_at_two["speedup_ci_low"].as_f64().unwrap(),
            );
            let above = ft_speedup > speedup * 1.05 && ft_low > speedup;
            let expected = if above {
                "native (reference)"
            } else {
                "native (ceiling)"
            };
            assert!(
                svg("parallel_compute").contains(expected),
                "native {speedup:.2}, ft {ft_speedup:.2} (low {ft_low:.2}): expected {expected}"
            );
            assert!(svg("lock_contention").contains("native (reference)"));
            assert!(!svg("lock_contention").contains("native (ceiling)"));
            return;
        }
        eprintln!(
            "attempt {attempt}: native speedup {speedup:.2} of {reachable:.2} reachable, parallelism {parallelism:.2}, verdict {verdict}"
        );
    }
    fairness::judge(
        &ft,
        "native parallel_compute did not scale to 2 threads in a quick run",
        Fairness::parallel_in_short_windows,
    );
}

/// Linux keeps a process's peak RSS (`ru_maxrss`) across exec, and std spawns with `vfork`: a
/// worker started by a big harness used to report the harness's peak as its own (on a 16-core
/// run every point of every interpreter read 136.5 MiB). The worker's peak must be its own.
#[test]
fn a_workers_peak_memory_is_its_own_not_the_harness() {
    let python = require!(ft_python());
    let dir = temp();
    fs_err::write(
        dir.path().join("worker.py"),
        include_str!("../../src/workloads/worker.py"),
    )
    .unwrap();
    // 768 MiB written page by page, so this test process's peak RSS is at least that.
    let ballast = std::hint::black_box(vec![1_u8; 768 << 20]);
    let out = std::process::Command::new(&python)
        .current_dir(dir.path())
        .args([
            "-c",
            // Importing the worker claims nothing: its stdout is still the process's own.
            "import worker; print(worker.Accounting.memory()[0])",
        ])
        .output()
        .unwrap();
    drop(ballast);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let peak_kb: u64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    assert!(
        (1024..256 * 1024).contains(&peak_kb),
        "the worker says its peak RSS is {peak_kb} KiB beside a 768 MiB harness"
    );
}
