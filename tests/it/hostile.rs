use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use predicates::prelude::*;

use std::os::unix::fs::FileTypeExt;

use crate::common::{
    canned_query, fake_python, fixture, ft_python, ftbench, read_json, temp, tiny_run,
};
use crate::require;

fn write_json(path: &Path, value: &serde_json::Value) {
    fs_err::write(path, serde_json::to_string_pretty(value).unwrap()).unwrap();
}

/// A script that leaves a marker when run, then behaves as `python`.
fn booby_trap(dir: &Path, python: &Path) -> (PathBuf, PathBuf) {
    let marker = dir.join("PWNED");
    let script = fake_python(
        dir,
        "evil-python",
        &format!(
            "touch {}\nexec {} \"$@\"",
            marker.display(),
            python.display()
        ),
    );
    (script, marker)
}

#[test]
fn resume_runs_no_program_named_in_the_file_and_checks_its_settings() {
    let ft = require!(ft_python());
    let dir = temp();
    let d = dir.path();
    tiny_run(d, &ft, "r.json");
    let original = read_json(&d.join("r.json"));
    let (trap, marker) = booby_trap(d, &ft);
    let resume = |file: &str, extra: &[&str]| {
        let output = ftbench(d)
            .args(["run", "--resume", file, "--no-report", "--no-store"])
            .args(extra)
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };

    // The interpreter path points at a script: refused, and the script never ran.
    let mut evil = original.clone();
    evil["variants"][0]["path"] = trap.display().to_string().into();
    evil["points"].as_array_mut().unwrap().pop();
    write_json(&d.join("evil.json"), &evil);
    let (code, stderr) = resume("evil.json", &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("runs no program named in it")
            && stderr.contains("--python ft=SPEC")
            && stderr.contains("--trust-paths"),
        "{stderr}"
    );
    assert!(!marker.exists(), "the script named in the file ran");
    // The user chooses the interpreter for the label: the run completes with it.
    let (code, stderr) = resume("evil.json", &["--python", &format!("ft={}", ft.display())]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("resume: ft runs"), "{stderr}");
    assert!(!marker.exists());
    let resumed = read_json(&d.join("evil.json"));
    assert_eq!(resumed["points"].as_array().unwrap().len(), 2);
    assert_eq!(resumed["resumes"].as_array().unwrap().len(), 1);
    assert!(resumed["resumes"][0]["hostname"].is_string());

    // Only `run_path` changed: it is derived again, never run.
    let mut evil = original.clone();
    evil["variants"][0]["run_path"] = trap.display().to_string().into();
    evil["points"].as_array_mut().unwrap().pop();
    write_json(&d.join("run-path.json"), &evil);
    let (code, stderr) = resume("run-path.json", &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!marker.exists(), "run_path from the file ran");

    // Settings are checked like flags; another machine or ftbench is refused.
    let cases: &[(&str, serde_json::Value, &str)] = &[
        (
            "/settings/threads",
            serde_json::json!([100_000]),
            "above 4096",
        ),
        ("/settings/timeout_s", serde_json::json!(0), "--timeout"),
        (
            "/settings/processes",
            serde_json::json!(1_000_000_000),
            "--processes",
        ),
        ("/settings/target_ns", serde_json::json!(0), "--target-ms"),
        (
            "/system/cpu_model",
            serde_json::json!("64-core Xeon"),
            "another machine",
        ),
        (
            "/ftbench_version",
            serde_json::json!("9.9.9"),
            "another ftbench",
        ),
    ];
    for (pointer, value, expected) in cases {
        let mut bad = original.clone();
        *bad.pointer_mut(pointer).unwrap() = value.clone();
        bad["variants"][0]["path"] = trap.display().to_string().into();
        write_json(&d.join("bad.json"), &bad);
        let (code, stderr) = resume("bad.json", &["--trust-paths"]);
        assert_eq!(code, Some(1), "{pointer}: {stderr}");
        assert!(stderr.contains(expected), "{pointer}: {stderr}");
        assert!(!marker.exists(), "{pointer}: ran before refusing");
    }
    // Flags that disagree with the file are refused too.
    let (code, stderr) = resume("r.json", &["--threads", "1,2"]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("--threads (the file has [1])"), "{stderr}");
}

/// Every file under `dir`, relative.
fn files_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        for entry in fs_err::read_dir(&next).unwrap().filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push(path.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    found.sort();
    found
}

/// A real 16-core results file with hostile names: a traversing test name, a label that clears
/// the screen, retitles the terminal, returns the carriage and injects Markdown and HTML, a
/// formula label and a metric that adds CSV columns.
fn hostile_results(dir: &Path) -> PathBuf {
    let source =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/results/16-cores-2026-11-26.json");
    let mut value: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(source).unwrap()).unwrap();
    let evil_test = "../../../../elsewhere/pwned";
    let evil_label =
        "3.13t\u{1b}[2J\u{1b}]0;owned\u{7}\rFAKE LINE\n# Pwned <script>alert(1)</script>";
    let formula = "=HYPERLINK(\"http://evil\")";
    let old_labels: Vec<String> = value["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["label"].as_str().unwrap().to_string())
        .collect();
    let rename = |label: &str| {
        if label == old_labels[0] {
            evil_label.to_string()
        } else if label == old_labels[1] {
            formula.to_string()
        } else {
            label.to_string()
        }
    };
    for variant in value["variants"].as_array_mut().unwrap() {
        let label = rename(variant["label"].as_str().unwrap());
        variant["label"] = label.into();
    }
    for point in value["points"].as_array_mut().unwrap() {
        let label = rename(point["label"].as_str().unwrap());
        point["label"] = label.into();
        if point["test"] == "lock_contention" {
            point["test"] = evil_test.into();
        }
    }
    value["settings"]["baseline"] = serde_json::Value::Null;
    value["external_tests"] = serde_json::json!([
        {"name": evil_test, "group": "scaling", "metric": "ops,evil\ninjected,row"}
    ]);
    let path = dir.join("hostile.json");
    write_json(&path, &value);
    path
}

#[test]
fn a_hostile_results_file_writes_nothing_outside_out_and_prints_no_escape() {
    let dir = temp();
    let d = dir.path();
    let file = hostile_results(d);
    let out = d.join("deep/a/b/c/out");
    let output = ftbench(d)
        .arg("report")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    // Nothing escaped --out.
    assert!(!d.join("deep/elsewhere").exists() && !d.join("elsewhere").exists());
    for name in files_under(d) {
        assert!(
            name.starts_with("deep/a/b/c/out/") || !name.starts_with("deep"),
            "{name}"
        );
    }
    let figures = files_under(&out.join("figures"));
    assert!(
        figures
            .iter()
            .any(|f| f.starts_with("scaling-elsewhere-pwned-")
                && Path::new(f).extension().is_some_and(|e| e == "svg")),
        "{figures:?}"
    );
    // No control character reaches the terminal, on stdout or stderr.
    for stream in [&output.stdout, &output.stderr] {
        assert!(!stream.contains(&0x1b) && !stream.contains(&b'\r') && !stream.contains(&0x07));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("\\u{1b}[2J"), "escaped visibly: {stdout}");
    // compare prints the same labels: escaped too.
    let compare = ftbench(d)
        .arg("compare")
        .arg(&file)
        .arg(&file)
        .output()
        .unwrap();
    assert!(compare.status.success(), "{compare:?}");
    for stream in [&compare.stdout, &compare.stderr] {
        assert!(!stream.contains(&0x1b) && !stream.contains(&b'\r'));
    }

    // CSV: 8 fields on every row, whatever the metric holds; no cell opens as a formula.
    let csv_text = fs_err::read_to_string(out.join("results.csv")).unwrap();
    let check_csv = "import csv, sys\nrows = list(csv.reader(open(sys.argv[1], newline='')))\nassert all(len(r) == 8 for r in rows), [r for r in rows if len(r) != 8][:3]\nassert not any(c.startswith(('=', '+', '@')) or (c.startswith('-') and not c[1:2].isdigit()) for r in rows for c in r), 'formula'\nprint(len(rows))";
    let python = std::process::Command::new("python3")
        .args(["-c", check_csv])
        .arg(out.join("results.csv"))
        .output()
        .unwrap();
    assert!(
        python.status.success(),
        "{}",
        String::from_utf8_lossy(&python.stderr)
    );
    assert!(csv_text.contains("\"'=HYPERLINK"), "neutralised formula");

    // Markdown: no injected heading or raw HTML.
    let md = fs_err::read_to_string(out.join("report.md")).unwrap();
    assert!(!md.lines().any(|l| l.starts_with("# Pwned")), "{md}");
    assert!(!md.contains("<script"), "raw HTML in report.md");
    assert!(md.contains("&lt;script&gt;"));
    // HTML and SVG escape it too (they always did; this keeps it so).
    let html = fs_err::read_to_string(out.join("report.html")).unwrap();
    assert!(!html.contains("<script>alert"), "raw script in report.html");
    assert!(
        !html.contains('\u{1b}'),
        "a raw escape character in report.html"
    );
    for svg in figures
        .iter()
        .filter(|f| Path::new(f).extension().is_some_and(|e| e == "svg"))
    {
        let text = fs_err::read_to_string(out.join("figures").join(svg)).unwrap();
        assert!(!text.contains("<script"), "{svg}");
    }
}

#[test]
fn a_seed_schema_file_cannot_traverse_either() {
    let dir = temp();
    let d = dir.path();
    let text = fs_err::read_to_string(fixture("seed-results-16c.json")).unwrap();
    let text = text.replacen(
        "\"test_parallel_compute_scaling\"",
        "\"../../../../elsewhere/pwned\"",
        1,
    );
    fs_err::write(d.join("seed.json"), text).unwrap();
    ftbench(d)
        .args(["report", "seed.json", "--out", "out"])
        .assert()
        .success();
    assert!(!d.join("elsewhere").exists());
    for name in files_under(d) {
        assert!(
            name == "seed.json" || name.starts_with("out/") || name.starts_with("cache/"),
            "{name}"
        );
    }
}

#[test]
fn outputs_that_are_devices_or_existing_results_are_refused() {
    let dir = temp();
    let d = dir.path();
    // A FIFO stands in for /dev/null: the test never touches the real /dev.
    let fifo = d.join("device");
    crate::common::mkfifo(&fifo);
    let run = |output: &Path, extra: &[&str]| {
        ftbench(d)
            .args([
                "run",
                "--no-native",
                "--tests",
                "parallel_compute",
                "--threads",
                "1",
            ])
            .args(["--python", "python3", "-o"])
            .arg(output)
            .args(extra)
            .output()
            .unwrap()
    };
    let output = run(&fifo, &[]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is not a regular file"), "{stderr}");
    assert!(fs_err::metadata(&fifo).unwrap().file_type().is_fifo());
    // --force does not make a device a file.
    assert!(!run(&fifo, &["--force"]).status.success());

    let existing = d.join("old.json");
    fs_err::write(&existing, "{\"precious\": true}").unwrap();
    let output = run(&existing, &[]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("already exists")
            && stderr.contains("--force")
            && stderr.contains("--resume"),
        "{stderr}"
    );
    assert_eq!(
        fs_err::read_to_string(&existing).unwrap(),
        "{\"precious\": true}"
    );
}

#[test]
fn two_runs_on_one_output_do_not_both_write_it() {
    let ft = require!(ft_python());
    let dir = temp();
    let d = dir.path();
    let mut first = crate::common::ftbench_process(d)
        .args([
            "run",
            "--no-native",
            "--tests",
            "parallel_compute",
            "--threads",
            "1,2",
        ])
        .args([
            "--target-ms",
            "200",
            "--no-report",
            "--no-store",
            "-o",
            "same.json",
        ])
        .arg("--python")
        .arg(format!("ft={}", ft.display()))
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let lock = d.join(".same.json.lock");
    let start = Instant::now();
    while !lock.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the first run never locked"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let second = ftbench(d)
        .args([
            "run",
            "--no-native",
            "--tests",
            "parallel_compute",
            "--threads",
            "1",
        ])
        .args(["--force", "--no-report", "--no-store", "-o", "same.json"])
        .arg("--python")
        .arg(format!("ft={}", ft.display()))
        .output()
        .unwrap();
    let _ = std::process::Command::new("kill")
        .args(["-INT", &first.id().to_string()])
        .status();
    let _ = first.wait();
    assert!(!second.status.success());
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("another ftbench run is writing"),
        "{stderr}"
    );
    assert!(!lock.exists(), "the lock goes with the run that held it");
}

/// A fake interpreter whose worker says `hello` (and what `worker_tail` adds) and then runs
/// `after`.
fn fake_worker(dir: &Path, name: &str, worker_tail: &str, after: &str) -> PathBuf {
    let hello = r#"{"type": "hello", "protocol": 1, "pid": 1, "version": "3.13.1", "free_threaded": true, "gil_enabled": false}"#;
    let script = format!(
        "case \"$*\" in *\" -c \"*) echo '{}' ;; *) cat >/dev/null; echo '{hello}'; {worker_tail} {after} ;; esac",
        canned_query("3.13.1", true)
    );
    fake_python(dir, name, &script)
}

fn run_fake(dir: &Path, fake: &Path, timeout: &str) -> (Option<i32>, serde_json::Value, Duration) {
    let start = Instant::now();
    let output = ftbench(dir)
        .env("TMPDIR", dir)
        .args([
            "run",
            "--no-native",
            "--quick",
            "--tests",
            "parallel_compute",
        ])
        .args([
            "--threads",
            "1",
            "--processes",
            "1",
            "--no-report",
            "--no-store",
        ])
        .args([
            "--timeout",
            timeout,
            "-o",
            "fake.json",
            "--force",
            "--python",
        ])
        .arg(format!("fake={}", fake.display()))
        .output()
        .unwrap();
    (
        output.status.code(),
        read_json(&dir.join("fake.json")),
        start.elapsed(),
    )
}

#[test]
fn a_worker_that_never_exits_or_leaves_its_group_cannot_hang_ftbench() {
    let dir = temp();
    let d = dir.path();
    // `done`, then it never exits: the deadline covers shutdown.
    let hang = fake_worker(
        d,
        "hang-python",
        "echo '{\"type\": \"done\"}';",
        "exec sleep 300",
    );
    let (code, results, took) = run_fake(d, &hang, "3");
    assert_eq!(code, Some(1));
    let reasons = crate::common::error_reasons(&results);
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("did not exit within 3 s")),
        "{reasons:?}"
    );
    assert!(took < Duration::from_secs(30), "{took:?}");

    // A child that leaves the process group and holds stderr open: ftbench stops waiting.
    let escape = fake_worker(
        d,
        "escape-python",
        "setsid sleep 37.25 & echo '{\"type\": \"calibration\", \"work_size\": 1000, \"wall_ns\": 1000000}'; echo '{\"type\": \"done\"}';",
        "exit 0",
    );
    let (_, _, took) = run_fake(d, &escape, "2");
    let _ = std::process::Command::new("pkill")
        .args(["-f", "sleep 37.25"])
        .status();
    assert!(took < Duration::from_secs(20), "{took:?}");
}

#[test]
fn a_users_thread_that_is_never_joined_does_not_keep_the_worker_alive() {
    let ft = require!(ft_python());
    let dir = temp();
    let d = dir.path();
    fs_err::write(
        d.join("leaky.py"),
        "import threading, time\n\ndef work(n):\n    threading.Thread(target=time.sleep, args=(600,)).start()\n    return sum(range(n))\n",
    )
    .unwrap();
    let start = Instant::now();
    ftbench(d)
        .args([
            "scale",
            "leaky.py:work",
            "--args",
            "[1000]",
            "--threads",
            "1",
        ])
        .args([
            "--quick",
            "--processes",
            "1",
            "--timeout",
            "60",
            "--no-report",
            "--no-store",
        ])
        .args(["-o", "leaky.json", "--python"])
        .arg(format!("ft={}", ft.display()))
        .assert()
        .success();
    assert!(
        start.elapsed() < Duration::from_secs(50),
        "{:?}",
        start.elapsed()
    );
}

/// The pids of processes whose command line mentions `needle`.
fn processes_mentioning(needle: &str) -> Vec<u32> {
    fs_err::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .filter(|pid| {
            fs_err::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(needle))
        })
        .filter(|pid| {
            // A zombie is dead already, waiting for its new parent to reap it.
            fs_err::read(format!("/proc/{pid}/stat"))
                .is_ok_and(|s| !String::from_utf8_lossy(&s).contains(") Z "))
        })
        .collect()
}

#[test]
fn sigkill_of_ftbench_takes_its_workers_along_and_the_next_run_cleans_up() {
    let ft = require!(ft_python());
    let dir = temp();
    let d = dir.path();
    let mut run = crate::common::ftbench_process(d)
        .env("TMPDIR", d)
        .args([
            "run",
            "--no-native",
            "--tests",
            "parallel_compute",
            "--threads",
            "1",
        ])
        .args([
            "--target-ms",
            "3000",
            "--no-report",
            "--no-store",
            "-o",
            "k.json",
        ])
        .arg("--python")
        .arg(format!("ft={}", ft.display()))
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let needle = d.display().to_string();
    let start = Instant::now();
    let workers = loop {
        let found = processes_mentioning(&format!("{needle}/ftbench-workers-"));
        if !found.is_empty() {
            break found;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no worker started"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    run.kill().unwrap();
    let _ = run.wait();
    let start = Instant::now();
    while workers
        .iter()
        .any(|pid| processes_mentioning(&needle).contains(pid))
    {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "workers {workers:?} outlived ftbench"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let stale = |d: &Path| {
        fs_err::read_dir(d)
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with("ftbench-workers-")
            })
            .count()
    };
    assert_eq!(stale(d), 1, "SIGKILL leaves the script dir behind");
    // The next run removes the dead owner's directory (and its own when it ends).
    let fake = fake_worker(d, "quick-python", "", "exit 3");
    let _ = run_fake(d, &fake, "5");
    assert_eq!(stale(d), 0);
}

#[test]
fn ctrl_c_while_a_finished_run_records_still_stops_it() {
    let ft = require!(ft_python());
    let dir = temp();
    let d = dir.path();
    tiny_run(d, &ft, "done.json");
    // Hold the store's write lock for a few seconds, so recording waits.
    let store = d.join("held.sqlite");
    let mut holder = std::process::Command::new("python3")
        .args([
            "-c",
            "import sqlite3, sys, time\nc = sqlite3.connect(sys.argv[1], isolation_level=None)\nc.execute('CREATE TABLE IF NOT EXISTS x (y)')\nc.execute('BEGIN EXCLUSIVE')\nprint('held', flush=True)\ntime.sleep(4)\nc.execute('COMMIT')",
        ])
        .arg(&store)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(holder.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "held");
    // Every point is there: the resume goes straight to writing, recording and reporting.
    let run = crate::common::ftbench_process(d)
        .args(["run", "--resume", "done.json", "--no-report", "--store"])
        .arg(&store)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let _ = std::process::Command::new("kill")
        .args(["-INT", &run.id().to_string()])
        .status();
    let output = run.wait_with_output().unwrap();
    let _ = holder.wait();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("stopped by Ctrl-C"), "{stderr}");
}

#[test]
fn a_full_store_disk_says_so_and_history_add_records_the_run_later() {
    let ft = require!(ft_python());
    let dir = temp();
    let d = dir.path();
    tiny_run(d, &ft, "r.json");
    let Some(disk) = crate::common::small_tmpfs(d, "256k") else {
        return;
    };
    let _ = std::process::Command::new("dd")
        .args(["if=/dev/zero", "bs=4k"])
        .arg(format!("of={}", disk.join("filler").display()))
        .stderr(std::process::Stdio::null())
        .status();
    let full = disk.join("history.sqlite");
    let output = ftbench(d)
        .args(["history", "add", "r.json", "--store"])
        .arg(&full)
        .output()
        .unwrap();
    // A resumed complete run records at its end: the warning says how to record it later.
    let resumed = ftbench(d)
        .args(["run", "--resume", "r.json", "--no-report", "--store"])
        .arg(&full)
        .output()
        .unwrap();
    let _ = std::process::Command::new("umount").arg(&disk).status();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("is full"), "{stderr}");
    assert!(!stderr.contains("damaged"), "{stderr}");
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert!(resumed.status.success(), "{stderr}");
    assert!(stderr.contains("ftbench history add r.json"), "{stderr}");

    // Later, on a disk with room: recorded once, however often it is added.
    let store = d.join("good.sqlite");
    for expected in ["Recorded r.json as run 1", "already recorded as run 1"] {
        ftbench(d)
            .args(["history", "add", "r.json", "--store"])
            .arg(&store)
            .assert()
            .success()
            .stderr(predicate::str::contains(expected));
    }
    // The same run id with other content is not "already recorded" in silence.
    let mut edited = read_json(&d.join("r.json"));
    edited["points"].as_array_mut().unwrap().pop();
    fs_err::write(d.join("edited.json"), edited.to_string()).unwrap();
    ftbench(d)
        .args(["history", "add", "edited.json", "--store"])
        .arg(&store)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "has the run id of run 1 but not its content",
        ));
    // A NUL byte in a label: one error naming the file, nothing recorded.
    let mut nul = read_json(&d.join("r.json"));
    nul["run_id"] = serde_json::json!("another-run");
    nul["variants"][0]["label"] = serde_json::json!("ft\u{0}x");
    fs_err::write(d.join("nul.json"), nul.to_string()).unwrap();
    let output = ftbench(d)
        .args(["history", "add", "nul.json", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("nul.json") && stderr.contains("NUL byte"),
        "{stderr}"
    );
}

/// A `PostgreSQL` store's password, given in the URL on the command line and in `PGPASSWORD`,
/// reaches no file, no message, no stored document and no worker (issue 22, item 1).
#[test]
fn a_store_password_reaches_no_file_message_document_or_worker() {
    let ft = require!(crate::common::ft_python());
    let Some(url) = crate::common::postgres_database("secrets") else {
        return;
    };
    let password = url
        .split_once("://")
        .and_then(|(_, rest)| rest.rsplit_once('@'))
        .and_then(|(userinfo, _)| userinfo.split_once(':'))
        .map(|(_, password)| password.to_string())
        .expect("the test cluster's URL has a password");
    assert!(password.len() >= 8);
    let dir = temp();
    let d = dir.path();
    let output = ftbench(d)
        .env("PGPASSWORD", &password)
        .env("FTBENCH_STORE", &url)
        .args([
            "scale",
            &format!("{}:no_secrets", fixture("no_secrets.py").display()),
        ])
        .args([
            "--quick",
            "--threads",
            "1",
            "-o",
            "secrets.json",
            "--store",
            &url,
        ])
        .arg("--python")
        .arg(format!("ft={}", ft.display()))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stdout.contains(&password) && !stderr.contains(&password));
    assert!(stderr.contains("shows in `ps`"), "{stderr}");
    assert!(stderr.contains("Recorded as run"), "{stderr}");
    // No file ftbench wrote holds it.
    let mut files = vec![d.to_path_buf()];
    let mut checked = 0;
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(fs_err::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else {
            let bytes = fs_err::read(&path).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains(&password), "{}", path.display());
            checked += 1;
        }
    }
    assert!(checked >= 4, "{checked} files");
    let results = read_json(&d.join("secrets.json"));
    assert!(
        results["command_line"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a.as_str().unwrap().contains(":***@")),
        "{}",
        results["command_line"]
    );
    // Nor does the stored document.
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let runs: i64 = client
        .query_one("SELECT count(*) FROM documents", &[])
        .unwrap()
        .get(0);
    assert_eq!(runs, 1);
    let leaks: i64 = client
        .query_one(
            "SELECT count(*) FROM documents WHERE strpos(document, $1) > 0",
            &[&password],
        )
        .unwrap()
        .get(0);
    assert_eq!(leaks, 0);
}

/// A `scale` function that forks a child which detaches (`os.setsid()`) and forks a sleeper:
/// the sleepers leave the worker's process group, so killing the group misses them; ftbench
/// adopts them (`PR_SET_CHILD_SUBREAPER`) and ends them with the worker (issue 22, item 11).
#[test]
fn processes_a_function_detaches_end_with_the_run() {
    let ft = require!(ft_python());
    let dir = temp();
    let d = dir.path();
    let pids = d.join("pids");
    fs_err::write(
        d.join("detach.py"),
        format!(
            "import os, time\n\ndef detach():\n    pid = os.fork()\n    if pid == 0:\n        os.setsid()\n        if os.fork() == 0:\n            with open({pids:?}, 'a') as f:\n                f.write('%d\\n' % os.getpid())\n            time.sleep(3600)\n        os._exit(0)\n    os.waitpid(pid, 0)\n    return 1\n",
            pids = pids.display().to_string()
        ),
    )
    .unwrap();
    let output = ftbench(d)
        .args([
            "scale",
            "detach.py:detach",
            "--strong",
            "2",
            "--threads",
            "1",
        ])
        .args([
            "--quick",
            "--processes",
            "1",
            "--no-store",
            "--no-report",
            "-o",
            "d.json",
        ])
        .args(["--python", &format!("ft={}", ft.display())])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let started: Vec<i32> = fs_err::read_to_string(&pids)
        .unwrap()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    assert!(!started.is_empty(), "the function detached nothing");
    // Give the kernel a moment to finish the last kill.
    std::thread::sleep(Duration::from_millis(200));
    let alive: Vec<i32> = started
        .iter()
        .copied()
        .filter(|pid| {
            fs_err::read_to_string(format!("/proc/{pid}/status"))
                .is_ok_and(|s| !s.contains("State:\tZ"))
        })
        .collect();
    for pid in &alive {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(*pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    assert!(
        alive.is_empty(),
        "{} of {} detached sleepers outlived ftbench",
        alive.len(),
        started.len()
    );
}

/// A label of 70 000 characters (every table panicked on one over 65 535): refused by name when
/// a file is loaded or added to a store, before any table is drawn.
#[test]
fn a_label_too_long_for_a_table_is_refused_by_name() {
    let ft = require!(ft_python());
    let dir = temp();
    let d = dir.path();
    tiny_run(d, &ft, "r.json");
    let mut long = read_json(&d.join("r.json"));
    let label = "x".repeat(70_000);
    long["variants"][0]["label"] = serde_json::json!(label);
    for point in long["points"].as_array_mut().unwrap() {
        point["label"] = serde_json::json!(label);
    }
    fs_err::write(d.join("long.json"), long.to_string()).unwrap();
    for command in [
        vec!["report", "long.json", "--no-files"],
        vec!["history", "add", "long.json"],
        vec!["compare", "long.json", "r.json"],
    ] {
        let output = ftbench(d).args(&command).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{command:?}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(
            stderr.contains("has 70000 characters; the most is 256"),
            "{command:?}: {}",
            &stderr[..stderr.len().min(400)]
        );
        assert!(stderr.len() < 2000, "the error repeats the whole label");
    }
}

/// Issue 31's advice and input items, end to end: a store that can never record is refused
/// before anything is measured; `run --resume` of a pyperformance file names the right command;
/// `pyperformance -o EXISTING` suggests no `--force`; `-b -go` parses; `check --threads 4097`
/// asks no `--force`; results files that are devices, sparse giants or gzip bombs are refused
/// at once, naming the file.
#[test]
fn advice_names_the_right_thing_and_hostile_files_are_refused_at_once() {
    let dir = temp();
    let d = dir.path();
    let fifo = d.join("store");
    crate::common::mkfifo(&fifo);
    let started = std::time::Instant::now();
    let output = ftbench(d)
        .args(["run", "--no-native", "--tests", "parallel_compute"])
        .args([
            "--threads",
            "1",
            "--python",
            "python3",
            "-o",
            "r.json",
            "--store",
        ])
        .arg(&fifo)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("is not a regular file") && stderr.contains("--no-store"),
        "{stderr}"
    );
    assert!(!d.join("r.json").exists(), "nothing was measured");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));

    // A pyperformance file: resumed by pyperformance, and no --force it does not have.
    let pyperformance = fixture("pyperformance/results.json");
    fs_err::copy(&pyperformance, d.join("pp.json")).unwrap();
    let output = ftbench(d)
        .args(["run", "--resume", "pp.json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("written by `ftbench pyperformance`")
            && stderr.contains("ftbench pyperformance --resume pp.json"),
        "{stderr}"
    );
    let output = ftbench(d)
        .args([
            "pyperformance",
            "-b",
            "-go",
            "-p",
            "python3",
            "-o",
            "pp.json",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("already exists")
            && !stderr.contains("--force")
            && stderr.contains("ftbench pyperformance --resume pp.json"),
        "{stderr}"
    );
    let output = ftbench(d)
        .args([
            "pyperformance",
            "-b",
            ",,,",
            "-p",
            "python3",
            "-o",
            "new.json",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("names no benchmark"), "{stderr}");
    let output = ftbench(d)
        .args(["check", "--threads", "4097", "--json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("--force"), "{stderr}");

    // Files no reader should hold in memory: refused before they are read.
    let sparse = d.join("sparse.json");
    fs_err::File::create(&sparse)
        .unwrap()
        .set_len(3 << 30)
        .unwrap();
    for file in [sparse.as_path(), fifo.as_path()] {
        let started = std::time::Instant::now();
        for command in [&["report"][..], &["history", "add"], &["compare", "r.json"]] {
            let output = ftbench(d).args(command).arg(file).output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(!output.status.success(), "{command:?}");
            assert!(
                stderr.contains(&*file.display().to_string()) || stderr.contains("r.json"),
                "{command:?}: {stderr}"
            );
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
    }
    // A gzip bomb: 1 GiB of zeros in about a megabyte.
    let bomb = d.join("bomb.json.gz");
    {
        use std::io::Write as _;
        let mut encoder = flate2::write::GzEncoder::new(
            fs_err::File::create(&bomb).unwrap(),
            flate2::Compression::best(),
        );
        let zeros = vec![b' '; 1 << 20];
        for _ in 0..1024 {
            encoder.write_all(&zeros).unwrap();
        }
        encoder.finish().unwrap();
    }
    let output = ftbench(d)
        .args(["import", "pyperf"])
        .arg(&bomb)
        .args(["--label", "x", "-o", "imported.json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("unpacks to more than the 256 MiB"),
        "{stderr}"
    );
}
