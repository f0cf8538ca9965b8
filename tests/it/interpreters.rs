use predicates::prelude::*;

use crate::common::{
    canned_query, fake_python, ft_python, ftbench, gil_python, python_args, read_json, temp,
};
use crate::require;

#[test]
fn pythons_json_lists_the_free_threaded_build() {
    let ft = require!(ft_python());
    let dir = temp();
    let output = ftbench(dir.path())
        .args(["pythons", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let list: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let ft = fs_err::canonicalize(ft).unwrap();
    let entry = list
        .as_array()
        .unwrap()
        .iter()
        .find(|i| fs_err::canonicalize(i["path"].as_str().unwrap()).ok() == Some(ft.clone()))
        .unwrap_or_else(|| panic!("{} is not listed in {list:#}", ft.display()));
    assert_eq!(entry["free_threaded"], true);
    assert_eq!(entry["gil_enabled"], false);
    assert_eq!(entry["implementation"], "cpython");
    for key in ["label", "path", "version", "source"] {
        assert!(entry[key].is_string(), "{key} missing in {entry}");
    }
    assert!(entry["label"].as_str().unwrap().ends_with('t'));
}

#[test]
fn pythons_table_groups_builds() {
    require!(ft_python());
    let dir = temp();
    ftbench(dir.path())
        .arg("pythons")
        .assert()
        .success()
        .stdout(
            predicate::str::contains("Free-threaded builds")
                .and(predicate::str::contains("GIL builds")),
        );
}

#[test]
fn gil_suffix_runs_the_same_build_with_the_gil_on() {
    let ft = require!(ft_python());
    let dir = temp();
    ftbench(dir.path())
        .args([
            "run",
            "--quick",
            "--no-native",
            "--tests",
            "parallel_compute",
            "--threads",
            "1",
            "-o",
            "r.json",
        ])
        .args(["--python", "3.13t+gil", "--python"])
        .arg(format!("path={}+gil", ft.display()))
        .args(["--python", "ft=3.13t"])
        .assert()
        .success();
    let results = read_json(&dir.path().join("r.json"));
    let variants = results["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 3);
    let canonical =
        |v: &serde_json::Value| fs_err::canonicalize(v["path"].as_str().unwrap()).unwrap();
    assert_eq!(canonical(&variants[0]), fs_err::canonicalize(&ft).unwrap());
    assert_eq!(canonical(&variants[0]), canonical(&variants[1]));
    for v in &variants[..2] {
        assert_eq!(v["gil_mode"], "force_on");
        assert_eq!(v["expects_gil"], true);
    }
    assert!(variants[0]["label"].as_str().unwrap().ends_with("t+gil"));
    assert_eq!(variants[1]["label"], "path");
    assert_eq!(variants[2]["label"], "ft");
    assert_eq!(variants[2]["expects_gil"], false);
    // Every sample saw the GIL state its variant asked for.
    for point in results["points"].as_array().unwrap() {
        let on = point["label"] != "ft";
        for sample in point["samples"].as_array().unwrap() {
            assert_eq!(sample["gil_enabled"], on, "{point}");
        }
        assert_eq!(point["gil_mismatches"], 0);
    }
}

#[test]
fn sysinfo_json_describes_the_machine() {
    let dir = temp();
    let output = ftbench(dir.path())
        .args(["sysinfo", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let info: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(info["logical_cores"].as_u64().unwrap() >= 1);
    assert!(info["memory_bytes"].as_u64().unwrap() > 0);
    for key in ["cpu_model", "os", "kernel", "hostname"] {
        assert!(info[key].is_string(), "{key}");
    }
}

/// Run `ftbench run --python SPEC` and expect one clear error naming `expected`.
fn rejects(dir: &std::path::Path, spec: &str, expected: &str) {
    let output = ftbench(dir)
        .env("FTBENCH_QUERY_TIMEOUT", "2")
        .args([
            "run",
            "--tests",
            "parallel_compute",
            "--threads",
            "1",
            "--python",
            spec,
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{spec} was accepted");
    assert!(
        stderr.contains(expected),
        "for {spec}, expected {expected:?} in:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    let errors = stderr.lines().filter(|l| l.starts_with("error:")).count();
    assert_eq!(errors, 1, "one error, not several:\n{stderr}");
    assert!(
        !dir.join("ftbench-results").exists(),
        "nothing may be written for {spec}"
    );
}

#[test]
fn bad_interpreters_get_one_clear_error() {
    let dir = temp();
    let d = dir.path();
    rejects(d, "/no/such/python3", "`/no/such/python3` does not exist");
    let plain = d.join("plain-file");
    fs_err::write(&plain, "not a program").unwrap();
    rejects(d, plain.to_str().unwrap(), "is not an executable file");
    let echo = fake_python(d, "echo-python", "echo hello from a shell script");
    rejects(
        d,
        echo.to_str().unwrap(),
        "is not a Python interpreter ftbench understands",
    );
    let old = fake_python(
        d,
        "python2",
        r#"echo '{"result": "error", "kind": "unsupported_version", "message": "Python 2.7 is older than 3.9, the oldest ftbench supports"}'"#,
    );
    rejects(d, old.to_str().unwrap(), "Python 2.7 is older than 3.9");
    let crash = fake_python(
        d,
        "crashing-python",
        "echo 'Fatal Python error: init failed' >&2; exit 1",
    );
    rejects(
        d,
        crash.to_str().unwrap(),
        "Fatal Python error: init failed",
    );
    let hang = fake_python(d, "hanging-python", "sleep 30");
    rejects(d, hang.to_str().unwrap(), "did not answer within 2 s");
    rejects(d, "3.99t", "no interpreter matches `3.99t`; found:");
    rejects(
        d,
        "no-such-python-command",
        "`no-such-python-command` was not found on PATH",
    );
    rejects(d, "=3.13t", "malformed interpreter spec `=3.13t`");
    let fake = fake_python(
        d,
        "gil-build",
        &format!("echo '{}'", canned_query("3.12.7", false)),
    );
    rejects(
        d,
        &format!("{}+gil", fake.display()),
        "`+gil` needs a free-threaded build",
    );
}

/// A Python 2 is refused by name, with the query's own error. A fresh machine has no Python 2,
/// so the provisioned 3.13t plays one: a wrapper runs ftbench's query (`-c QUERY`) with
/// `sys.version_info` set to 2.7's, which is what the query's version gate reads.
#[test]
fn a_python2_is_refused_by_name() {
    let ft = require!(ft_python());
    let dir = temp();
    let script = format!(
        "for last in \"$@\"; do :; done\nexec \"{}\" -E -s -B -c \"import sys; sys.version_info = (2, 7, 18, 'final', 0); exec(sys.argv[1])\" \"$last\"",
        ft.display()
    );
    let python2 = fake_python(dir.path(), "python2.7", &script);
    rejects(
        dir.path(),
        python2.to_str().unwrap(),
        "Python 2.7 is older than 3.9",
    );
}

#[test]
fn duplicate_labels_are_refused() {
    let ft = require!(ft_python());
    let gil = require!(gil_python());
    let dir = temp();
    ftbench(dir.path())
        .args(["run", "--tests", "parallel_compute", "--threads", "1"])
        .args(python_args(&[
            format!("same={}", ft.display()),
            format!("same={}", gil.display()),
        ]))
        .assert()
        .failure()
        .stderr(predicate::str::contains("duplicate label `same`"));
}
