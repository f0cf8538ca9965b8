use std::path::Path;
use std::time::{Duration, Instant};

use predicates::prelude::*;

use crate::common::{
    canned_query, error_reasons, fake_python, ft_python, ftbench, point_count, read_json, temp,
};
use crate::require;

/// Run the hidden `_fault` test (then `parallel_compute`, to show the suite goes on) with one
/// fault, and return the results file.
fn run_fault(ft: &Path, fault: &str) -> (serde_json::Value, String) {
    let dir = temp();
    let output = ftbench(dir.path())
        .env("FTBENCH_FAULT", fault)
        .args([
            "run",
            "--quick",
            "--no-native",
            "--tests",
            "_fault,parallel_compute",
            "--threads",
            "1",
        ])
        .args(["--timeout", "5", "-o", "faults.json", "--python"])
        .arg(format!("ft={}", ft.display()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        output.status.code(),
        Some(1),
        "a run with failed points exits 1:\n{stderr}"
    );
    let results = read_json(&dir.path().join("faults.json"));
    // The suite went on past the fault.
    let good = results["points"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["test"] == "parallel_compute")
        .count();
    assert_eq!(
        good, 2,
        "parallel_compute must still run after the fault ({fault})"
    );
    let reasons = error_reasons(&results);
    assert!(!reasons.is_empty(), "the fault {fault} was not recorded");
    (results, reasons.join("\n---\n"))
}

#[test]
fn every_worker_fault_is_recorded_and_the_suite_goes_on() {
    let ft = require!(ft_python());
    let cases = [
        ("hang", "did not finish within 5 s and was killed"),
        ("exit3", "exit status: 3"),
        ("segfault", "signal: 11"),
        ("raise", "RuntimeError: the workload raised on purpose"),
        (
            "garbage",
            "unexpected line on the worker's stdout: \"this is not JSON\"",
        ),
        ("die_mid_sample", "dying in the middle of a sample"),
        ("bad_checksum", "checksum mismatch"),
    ];
    for (fault, expected) in cases {
        let start = Instant::now();
        let (_, reasons) = run_fault(&ft, fault);
        assert!(
            reasons.contains(expected),
            "{fault}: expected {expected:?} in:\n{reasons}"
        );
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{fault} took too long"
        );
    }
}

#[test]
fn a_worker_speaking_another_protocol_is_refused() {
    let dir = temp();
    let script = format!(
        "case \"$*\" in *\" -c \"*) echo '{}' ;; *) cat >/dev/null; echo '{{\"type\": \"hello\", \"protocol\": 99}}' ;; esac",
        canned_query("3.13.1", true)
    );
    let fake = fake_python(dir.path(), "future-python", &script);
    let output = ftbench(dir.path())
        .args([
            "run",
            "--no-native",
            "--quick",
            "--tests",
            "parallel_compute",
            "--threads",
            "1",
            "-o",
            "p.json",
            "--python",
        ])
        .arg(format!("future={}", fake.display()))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let results = read_json(&dir.path().join("p.json"));
    let reason = results["errors"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("worker speaks protocol 99, this ftbench speaks 1"),
        "{reason}"
    );
}

/// Start a run, stop it with `signal` once some points are on disk, check the file, resume it.
fn stop_and_resume(signal: &str, code: i32) {
    let ft = require!(ft_python());
    let dir = temp();
    let file = dir.path().join("long.json");
    let (exit, stderr) =
        sabotage_mid_run(dir.path(), &file, &format!("ft={}", ft.display()), |pid| {
            let status = std::process::Command::new("kill")
                .args([&format!("-{signal}"), &pid.to_string()])
                .status()
                .unwrap();
            assert!(status.success());
        });
    assert_eq!(exit, Some(code), "{stderr}");
    assert!(stderr.contains("--resume"), "{stderr}");
    let done = point_count(&file);
    assert!((2..9).contains(&done), "{done} points after the stop");
    no_temp_files(dir.path());
    ftbench(dir.path())
        .args(["run", "--resume"])
        .arg(&file)
        .assert()
        .success();
    assert_eq!(
        point_count(&file),
        9,
        "3 tests x (serial + 2 thread counts)"
    );
    let results = read_json(&file);
    for point in results["points"].as_array().unwrap() {
        assert_eq!(point["label"], "ft");
    }
}

#[test]
fn ctrl_c_keeps_every_finished_point_and_resume_completes_the_run() {
    stop_and_resume("INT", 130);
}

#[test]
fn sigterm_keeps_every_finished_point_too() {
    stop_and_resume("TERM", 143);
}

#[test]
fn bad_run_input_gets_one_clear_error() {
    let dir = temp();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--tests", "parallel_compte"],
            "unknown test `parallel_compte` (did you mean `parallel_compute`?)",
        ),
        (
            &["--threads", "0"],
            "invalid thread count `0`: it must be at least 1",
        ),
        (&["--threads", "-3"], "invalid thread count `-3`"),
        (&["--threads", "two"], "invalid thread count `two`"),
        (&["--threads", "5000"], "thread count `5000` is above 4096"),
    ];
    for (args, expected) in cases {
        let output = ftbench(dir.path()).arg("run").args(*args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"));
    }
}

#[test]
fn broken_results_files_get_one_clear_error() {
    let dir = temp();
    let d = dir.path();
    fs_err::write(
        d.join("truncated.json"),
        "{\"schema_version\": 1, \"points\": [",
    )
    .unwrap();
    fs_err::write(d.join("other.json"), "{\"hello\": 1}").unwrap();
    fs_err::write(d.join("future.json"), "{\"schema_version\": 99}").unwrap();
    fs_err::write(
        d.join("wrong.json"),
        "{\"schema_version\": 1, \"points\": 3}",
    )
    .unwrap();
    let cases = [
        (
            "truncated.json",
            "is not valid JSON (truncated or corrupt?)",
        ),
        ("other.json", "is not an ftbench results file"),
        (
            "future.json",
            "has schema version 99, written by a newer ftbench",
        ),
        ("wrong.json", "does not match schema version 1"),
        ("missing.json", "cannot read results file"),
    ];
    for (file, expected) in cases {
        for args in [vec!["report", file], vec!["run", "--resume", file]] {
            ftbench(d).args(&args).assert().failure().stderr(
                predicate::str::contains(expected).and(predicate::str::contains("panicked").not()),
            );
        }
    }
    // The broken file is left as it was.
    assert_eq!(
        fs_err::read_to_string(d.join("truncated.json")).unwrap(),
        "{\"schema_version\": 1, \"points\": ["
    );
}

/// Start a long run writing into `output`, wait for its first points, then call `sabotage`;
/// return the run's exit code and stderr.
fn sabotage_mid_run(
    dir: &Path,
    output: &Path,
    python: &str,
    sabotage: impl FnOnce(u32),
) -> (Option<i32>, String) {
    let child = crate::common::ftbench_process(dir)
        .args([
            "run",
            "--no-native",
            "--tests",
            "parallel_compute,lock_contention,ref_counting_local",
            "--threads",
            "1,2",
        ])
        .args([
            "--target-ms",
            "30",
            "--processes",
            "1",
            "--samples",
            "3",
            "--no-report",
            "-o",
        ])
        .arg(output)
        .args(["--python", python])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while point_count(output) < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no points appeared"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    sabotage(child.id());
    let result = child.wait_with_output().unwrap();
    (
        result.status.code(),
        String::from_utf8_lossy(&result.stderr).into_owned(),
    )
}

fn no_temp_files(dir: &Path) {
    let leftovers: Vec<_> = fs_err::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn an_output_directory_that_turns_read_only_keeps_the_last_complete_file() {
    let ft = require!(ft_python());
    let dir = temp();
    let out = dir.path().join("out");
    fs_err::create_dir(&out).unwrap();
    // Root ignores permissions; the immutable attribute stops root too.
    if !std::process::Command::new("chattr")
        .arg("+i")
        .arg(&out)
        .status()
        .is_ok_and(|s| s.success())
    {
        crate::common::skip("chattr +i does not work here");
        return;
    }
    std::process::Command::new("chattr")
        .arg("-i")
        .arg(&out)
        .status()
        .unwrap();
    let file = out.join("r.json");
    let (code, stderr) =
        sabotage_mid_run(dir.path(), &file, &format!("ft={}", ft.display()), |_| {
            assert!(
                std::process::Command::new("chattr")
                    .arg("+i")
                    .arg(&out)
                    .status()
                    .unwrap()
                    .success()
            );
        });
    std::process::Command::new("chattr")
        .arg("-i")
        .arg(&out)
        .status()
        .unwrap();
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("failed to write results to"), "{stderr}");
    assert!(stderr.contains("cannot create a file in"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let results = read_json(&file);
    assert!(
        results["points"].as_array().unwrap().len() >= 2,
        "the last complete file survives"
    );
    no_temp_files(&out);
}

#[test]
fn a_full_disk_keeps_the_last_complete_file() {
    let ft = require!(ft_python());
    let dir = temp();
    let Some(disk) = crate::common::small_tmpfs(dir.path(), "4m") else {
        return;
    };
    let file = disk.join("r.json");
    let (code, stderr) =
        sabotage_mid_run(dir.path(), &file, &format!("ft={}", ft.display()), |_| {
            // Fill the disk: dd stops at ENOSPC.
            let _ = std::process::Command::new("dd")
                .args(["if=/dev/zero", "bs=64k"])
                .arg(format!("of={}", disk.join("filler").display()))
                .stderr(std::process::Stdio::null())
                .status();
        });
    let results =
        fs_err::read_to_string(&file).map(|t| serde_json::from_str::<serde_json::Value>(&t));
    let leftovers: Vec<String> = fs_err::read_dir(&disk)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".ftbench-"))
        .collect();
    let _ = std::process::Command::new("umount").arg(&disk).status();
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    let results = results
        .expect("the results file is still there")
        .expect("and it is valid JSON");
    assert!(results["points"].as_array().unwrap().len() >= 2);
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn an_interpreter_that_changes_or_disappears_mid_run_is_caught() {
    let ft = require!(ft_python());
    let gil = require!(crate::common::gil_python());
    let dir = temp();
    let python = fake_python(
        dir.path(),
        "moving-python",
        &format!("exec {} \"$@\"", ft.display()),
    );
    let file = dir.path().join("moving.json");
    let (code, stderr) = sabotage_mid_run(
        dir.path(),
        &file,
        &format!("moving={}", python.display()),
        |_| {
            fake_python(
                dir.path(),
                "moving-python",
                &format!("exec {} \"$@\"", gil.display()),
            );
        },
    );
    assert_eq!(code, Some(1), "{stderr}");
    let results = read_json(&file);
    let reasons = error_reasons(&results);
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("changed since it was inspected: it was 3.13")),
        "{reasons:?}"
    );
    // The fake interpreter is not one ftbench finds itself: resuming needs consent.
    ftbench(dir.path())
        .args(["run", "--resume", "moving.json"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("--trust-paths"));
    // With it, resuming on the changed interpreter is refused; on a vanished one too.
    ftbench(dir.path())
        .args(["run", "--resume", "moving.json", "--trust-paths"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "but the results were measured on 3.13",
        ));
    fs_err::remove_file(&python).unwrap();
    ftbench(dir.path())
        .args(["run", "--resume", "moving.json", "--trust-paths"])
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("cannot resume: interpreter")
                .and(predicate::str::contains("is gone")),
        );
}
