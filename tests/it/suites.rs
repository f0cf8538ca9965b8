use predicates::prelude::*;

use crate::common::{
    fixture, ft_python, ftbench, gil_python, python_args, read_json, temp, tools_python,
};
use crate::require;

#[test]
fn regular_suite_compares_against_a_baseline_with_a_geometric_mean() {
    let ft = require!(ft_python());
    let gil = require!(gil_python());
    let tools = require!(tools_python());
    let dir = temp();
    // Labels set to the seed's version strings, so its own plotting code runs on our file.
    let assert = ftbench(dir.path())
        .args([
            "run",
            "--suite",
            "regular",
            "--quick",
            "--wide",
            "-o",
            "regular.json",
        ])
        .args(python_args(&[
            format!("3.12.7={}", gil.display()),
            format!("3.13.0={}+gil", ft.display()),
            format!("3.13.0t={}", ft.display()),
        ]))
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    for expected in [
        "=== Regular tests: time per run, speedup against 3.12.7 ===",
        "Summary Statistics:",
        "Tests Faster than 3.12.7:",
        "Geometric mean: 1.00x (the baseline)",
    ] {
        assert!(
            stdout.contains(expected),
            "{expected:?} missing in:\n{stdout}"
        );
    }
    let results = read_json(&dir.path().join("regular.json"));
    let regular = &results["results"]["regular_tests"];
    let tests = regular.as_object().unwrap();
    assert!(tests.len() >= 12, "{} regular tests", tests.len());
    let mut batches = 0;
    for (test, labels) in tests {
        for label in ["3.12.7", "3.13.0", "3.13.0t"] {
            let entry = &labels[label];
            assert!(entry["duration"].as_f64().unwrap() > 0.0, "{test}/{label}");
            // `duration` is seconds per single run, not per calibrated batch of runs.
            let point = results["points"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["test"] == test.as_str() && p["label"] == label)
                .unwrap();
            let mut per_run: Vec<f64> = point["samples"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| {
                    let runs = s["work_units"].as_f64().unwrap();
                    batches += usize::from(runs > 1.0);
                    s["wall_ns"].as_f64().unwrap() / 1e9 / runs
                })
                .collect();
            per_run.sort_by(f64::total_cmp);
            let median = if per_run.len() % 2 == 1 {
                per_run[per_run.len() / 2]
            } else {
                f64::midpoint(per_run[per_run.len() / 2 - 1], per_run[per_run.len() / 2])
            };
            let duration = entry["duration"].as_f64().unwrap();
            assert!(
                (duration - median).abs() <= 1e-9 * median,
                "{test}/{label}: {duration} vs {median}"
            );
            let (low, high) = (
                entry["duration_ci_low"].as_f64().unwrap(),
                entry["duration_ci_high"].as_f64().unwrap(),
            );
            assert!(
                low <= entry["duration"].as_f64().unwrap()
                    && entry["duration"].as_f64().unwrap() <= high
            );
            assert!(entry["speedup"].as_f64().unwrap() > 0.0, "{test}/{label}");
        }
        // Every label ran the same work, so durations compare directly.
        assert!((labels["3.12.7"]["speedup"].as_f64().unwrap() - 1.0).abs() < 1e-12);
    }
    assert!(
        batches > 0,
        "some fast test ran in calibrated batches of several runs"
    );
    let summary = &results["results"]["regular_summary"];
    assert_eq!(summary["baseline"], "3.12.7");
    let ft_summary = &summary["labels"]["3.13.0t"];
    let (mean, low, high) = (
        ft_summary["geometric_mean"].as_f64().unwrap(),
        ft_summary["geometric_mean_ci_low"].as_f64().unwrap(),
        ft_summary["geometric_mean_ci_high"].as_f64().unwrap(),
    );
    assert!(low <= mean && mean <= high && low > 0.0);
    assert!(ft_summary["significant"].is_boolean());
    // Memory: every entry has its peak and ratio; the suite's geometric mean has an interval
    // and a verdict against PEP 779's 1.20. The free-threaded build holds more memory than the
    // GIL build (bigger objects, mimalloc): measured 1.22x here.
    for labels in tests.values() {
        for label in ["3.12.7", "3.13.0", "3.13.0t"] {
            assert!(
                labels[label]["max_rss_mb"].as_f64().unwrap() > 1.0,
                "{label}"
            );
            assert!(
                labels[label]["memory_ratio"].as_f64().unwrap() > 0.0,
                "{label}"
            );
        }
    }
    let (memory, memory_low, memory_high) = (
        ft_summary["memory_geometric_mean"].as_f64().unwrap(),
        ft_summary["memory_geometric_mean_ci_low"].as_f64().unwrap(),
        ft_summary["memory_geometric_mean_ci_high"]
            .as_f64()
            .unwrap(),
    );
    assert!(memory_low <= memory && memory <= memory_high);
    assert!(
        memory > 1.0,
        "3.13t peak memory {memory} of the GIL build's"
    );
    let pep_779 = ft_summary["pep_779"].as_str().unwrap();
    assert!(["within", "above", "undecided"].contains(&pep_779));
    assert!(
        stdout.contains("Peak memory (geometric mean): "),
        "{stdout}"
    );
    eprintln!(
        "regular suite peak memory: 3.13t {memory:.3} [{memory_low:.3}, {memory_high:.3}] of the GIL build ({pep_779} PEP 779's 1.20); 3.13t+gil {:.3}",
        summary["labels"]["3.13.0"]["memory_geometric_mean"]
    );
    // The free-threaded build against its own GIL-forced variant, as the closing note reports.
    eprintln!(
        "regular suite geometric mean: 3.13t {mean:.3} [{low:.3}, {high:.3}] vs the GIL build; 3.13t+gil {:.3}",
        summary["labels"]["3.13.0"]["geometric_mean"]
    );

    let output = std::process::Command::new(&tools)
        .env("MPLBACKEND", "Agg")
        .arg(fixture("seed_regular.py"))
        .arg(dir.path().join("regular.json"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the seed's regular comparison failed:\n{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        text.contains("SEED-REGULAR-OK") && text.contains("Average Speedup"),
        "{text}"
    );
}

#[test]
fn thread_suite_reports_microseconds_per_thread_and_phases() {
    let ft = require!(ft_python());
    let gil = require!(gil_python());
    let dir = temp();
    let assert = ftbench(dir.path())
        .args(["run", "--suite", "threads", "--quick", "-o", "threads.json"])
        .args(python_args(&[
            format!("ft={}", ft.display()),
            format!("ft+gil={}+gil", ft.display()),
            format!("gil={}", gil.display()),
        ]))
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(
        stdout.contains("=== Thread lifecycle: microseconds per thread"),
        "{stdout}"
    );
    assert!(
        stdout.contains("=== Phases of thread_lifecycle, p50 / p95 / p99 in µs ==="),
        "{stdout}"
    );
    let results = read_json(&dir.path().join("threads.json"));
    for test in ["thread_lifecycle", "thread_lifecycle_nosleep"] {
        for label in ["ft", "ft+gil", "gil"] {
            let entry = &results["results"]["thread_tests"][test][label];
            let us = entry["us_per_thread"]
                .as_f64()
                .unwrap_or_else(|| panic!("{test}/{label}: {entry}"));
            assert!(us > 0.0);
            // --quick starts 250 threads per sample (the seed's 1000 without it).
            assert_eq!(entry["threads"], 250);
            for phase in ["construct", "start", "body", "join"] {
                let p = &entry["phases_us"][phase];
                let (p50, p95, p99) = (
                    p["p50"].as_f64().unwrap(),
                    p["p95"].as_f64().unwrap(),
                    p["p99"].as_f64().unwrap(),
                );
                assert!(p50 <= p95 && p95 <= p99, "{test}/{label}/{phase}: {p}");
            }
            assert!(
                entry["kb_per_live_thread"].as_f64().unwrap() > 0.0,
                "{entry}"
            );
            if test == "thread_lifecycle" {
                // Each body sleeps 1 ms.
                assert!(entry["phases_us"]["body"]["p50"].as_f64().unwrap() >= 1000.0);
                eprintln!(
                    "{label}: {us:.1} µs per thread, {:.0} KiB per live thread",
                    entry["kb_per_live_thread"]
                );
            }
        }
        // Each free-threaded thread brings its own allocator heaps: 78 KiB against 14 here.
        let live = |label: &str| {
            results["results"]["thread_tests"][test][label]["kb_per_live_thread"]
                .as_f64()
                .unwrap()
        };
        assert!(
            live("ft") > live("gil"),
            "{test}: {} vs {}",
            live("ft"),
            live("gil")
        );
    }
    assert!(
        stdout.contains("=== Thread memory: KiB of resident memory per live (blocked) thread ==="),
        "{stdout}"
    );
}

#[test]
fn pyperf_results_import_as_regular_tests() {
    let tools = require!(tools_python());
    let dir = temp();
    let d = dir.path();
    for (name, statement) in [
        ("a.json", "sum(range(100))"),
        ("b.json", "sorted(range(300))"),
    ] {
        let status = std::process::Command::new(&tools)
            .args([
                "-m",
                "pyperf",
                "timeit",
                "--processes",
                "2",
                "--values",
                "3",
                "--loops",
                "200",
                "--warmups",
                "1",
                "-q",
                "-o",
            ])
            .arg(d.join(name))
            .arg(statement)
            .status()
            .unwrap();
        assert!(status.success());
    }
    ftbench(d)
        .args([
            "import",
            "pyperf",
            "a.json",
            "--label",
            "base",
            "-o",
            "imported.json",
        ])
        .assert()
        .success();
    ftbench(d)
        .args([
            "import",
            "pyperf",
            "b.json",
            "--label",
            "other",
            "-o",
            "imported.json",
            "--wide",
        ])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("Geometric mean:")
                .and(predicate::str::contains("speedup against base")),
        );
    let results = read_json(&d.join("imported.json"));
    let timeit = &results["results"]["regular_tests"]["timeit"];
    assert!(timeit["base"]["duration"].as_f64().unwrap() > 0.0);
    assert!(timeit["other"]["speedup"].as_f64().unwrap() > 0.0);
    assert!(results["results"]["regular_summary"]["labels"]["other"]["geometric_mean"].is_f64());
    // Importing the same label twice, and a truncated file, are clear errors.
    ftbench(d)
        .args([
            "import",
            "pyperf",
            "b.json",
            "--label",
            "other",
            "-o",
            "imported.json",
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains("already has a label `other`"));
    let text = fs_err::read_to_string(d.join("a.json")).unwrap();
    import_what_pyperformance_writes(d, &text);
    fs_err::write(d.join("truncated.json"), &text[..text.len() / 2]).unwrap();
    ftbench(d)
        .args([
            "import",
            "pyperf",
            "truncated.json",
            "--label",
            "t",
            "-o",
            "imported.json",
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "`truncated.json` is not a pyperf JSON file (truncated or corrupt?)",
        ));
}

/// What pyperformance writes, imported: gzipped (`-o X.json.gz`), the build told by its
/// `./configure` arguments rather than its name, one value per benchmark given no interval,
/// and the baseline chosen by `--baseline`.
fn import_what_pyperformance_writes(d: &std::path::Path, pyperf_json: &str) {
    use std::io::Write as _;
    let mut file: serde_json::Value = serde_json::from_str(pyperf_json).unwrap();
    file["metadata"]["python_config_args"] =
        serde_json::json!("'--prefix=/opt/py' '--disable-gil' '--enable-optimizations'");
    let benchmark = &mut file["benchmarks"][0];
    // One value in all, as `--debug-single-value` leaves.
    let runs = benchmark["runs"].as_array_mut().unwrap();
    runs.retain(|r| r.get("values").is_some());
    runs.truncate(1);
    runs[0]["values"].as_array_mut().unwrap().truncate(1);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(file.to_string().as_bytes()).unwrap();
    fs_err::write(d.join("single.json.gz"), gz.finish().unwrap()).unwrap();
    ftbench(d)
        .args(["import", "pyperf", "single.json.gz", "--label", "build"])
        .args(["-o", "imported.json", "--baseline", "nope"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "--baseline `nope` is neither `build` nor a label of `imported.json` (base, other, build)",
        ));
    ftbench(d)
        .args(["import", "pyperf", "single.json.gz", "--label", "build"])
        .args(["-o", "imported.json", "--baseline", "build"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("speedup against build")
                .and(predicate::str::contains("(no interval)")),
        );
    let results = read_json(&d.join("imported.json"));
    let build = results["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["label"] == "build")
        .unwrap();
    assert_eq!(build["info"]["free_threaded"], true, "{build}");
    assert_eq!(build["info"]["pgo"], true, "{build}");
    assert_eq!(results["settings"]["baseline"], "build");
    // Against one value there is no interval, so nothing is significant.
    let other = &results["results"]["regular_summary"]["labels"]["other"];
    assert_eq!(other["significant"], false, "{other}");
}

#[test]
fn a_profiled_thread_suite_says_where_thread_start_up_goes() {
    let ft = require!(ft_python());
    let gil = require!(gil_python());
    let dir = temp();
    let assert = ftbench(dir.path())
        .args([
            "run",
            "--suite",
            "threads",
            "--tests",
            "thread_lifecycle_nosleep",
        ])
        .args([
            "--quick",
            "--no-store",
            "--no-report",
            "--profile",
            "-o",
            "t.json",
        ])
        .args(python_args(&[
            format!("ft={}", ft.display()),
            format!("gil={}", gil.display()),
        ]))
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(
        stdout.contains("=== Thread start-up by native cost group (perf, --profile)"),
        "{stdout}"
    );
    let results = read_json(&dir.path().join("t.json"));
    let profiles = results["profiles"].as_array().unwrap();
    assert_eq!(profiles.len(), 2, "{profiles:?}");
    for profile in profiles {
        assert_eq!(
            profile["thread_count"], 0,
            "a serial test is profiled serially"
        );
        let costs = profile["costs"].as_array().unwrap();
        let ns = |group: &str| {
            costs
                .iter()
                .find(|c| c["group"] == group)
                .and_then(|c| c["cpu_ns"].as_u64())
                .unwrap_or_else(|| panic!("no {group} in {costs:?}"))
        };
        let total: u64 = costs.iter().map(|c| c["cpu_ns"].as_u64().unwrap()).sum();
        assert!(total > 0);
        // Creating a thread is mostly setting it up: the named groups hold most of the time.
        assert!(ns("thread state and TLS") > 0, "{costs:?}");
        assert!(
            ns("other") * 2 < total,
            "most samples fall in no group: {costs:?}"
        );
        for cost in costs {
            assert!(cost["us_per_thread"].as_f64().unwrap() >= 0.0);
        }
        eprintln!("{}: {costs:?}", profile["label"]);
    }
}
