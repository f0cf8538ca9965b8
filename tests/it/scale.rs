use std::path::Path;

use crate::common::{error_reasons, example, ft_python, ftbench, python_args, read_json, temp};
use crate::require;

/// `ftbench scale TARGET` on 3.13t and 3.13t+gil, quick, threads 1 and 2.
fn scale(dir: &Path, ft: &Path, target: &str, extra: &[&str]) -> std::process::Output {
    ftbench(dir)
        .args([
            "scale",
            target,
            "--quick",
            "--threads",
            "1,2",
            "--no-store",
            "--no-report",
        ])
        // Each call replaces the previous results on purpose.
        .args(["-o", "scale.json", "--force", "--timeout", "60"])
        .args(python_args(&[
            format!("ft={}", ft.display()),
            format!("gil={}+gil", ft.display()),
        ]))
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn a_users_function_scales_in_threads_and_processes() {
    let ft = require!(ft_python());
    let dir = temp();
    let target = format!("{}:aggregate", example("aggregate.py").display());
    let output = scale(
        dir.path(),
        &ft,
        &target,
        &["--mode", "both", "--check-results"],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("=== aggregate:aggregate (calls_per_sec, higher is better) ==="),
        "{stdout}"
    );
    assert!(
        stdout.contains("=== aggregate:aggregate@processes"),
        "{stdout}"
    );
    let results = read_json(&dir.path().join("scale.json"));
    for test in ["aggregate:aggregate", "aggregate:aggregate@processes"] {
        for label in ["ft", "gil"] {
            let data = results["results"]["scaling_tests"][test][label]["scaling_data"]
                .as_array()
                .unwrap();
            assert_eq!(data.len(), 2, "{test}/{label}");
            assert!(data[1]["metrics"]["calls_per_sec"].as_f64().unwrap() > 0.0);
        }
    }
    // Every sample of the free-threaded label ran without the GIL, of the +gil label with it.
    for point in results["points"].as_array().unwrap() {
        assert_eq!(point["gil_mismatches"], 0, "{point}");
    }
    // A fixed number of calls instead of calibration.
    let target = format!("{}:parse", example("json_parser.py").display());
    let output = scale(dir.path(), &ft, &target, &["--strong", "40"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let results = read_json(&dir.path().join("scale.json"));
    let samples = &results["points"][0]["samples"][0];
    assert_eq!(samples["work_units"], 40);
}

fn fails_with(dir: &Path, ft: &Path, target: &str, extra: &[&str], expected: &str) {
    let output = scale(dir, ft, target, extra);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{target} should fail");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let text = if dir.join("scale.json").exists() {
        format!(
            "{stderr}{}",
            fs_err::read_to_string(dir.join("scale.json")).unwrap()
        )
    } else {
        stderr.to_string()
    };
    assert!(
        text.contains(expected),
        "{target}: expected {expected:?} in:\n{text}"
    );
}

#[test]
fn mistakes_in_the_users_code_get_clear_errors() {
    let ft = require!(ft_python());
    let dir = temp();
    let d = dir.path();
    let file = |name: &str, body: &str| {
        let path = d.join(name);
        fs_err::write(&path, body).unwrap();
        path.display().to_string()
    };
    fails_with(
        d,
        &ft,
        "missing.py:work",
        &[],
        "`missing.py` does not exist",
    );
    fails_with(d, &ft, "nocolon.py", &[], "is not FILE:FUNCTION");
    // A folder or a FIFO where the file should be says what it is.
    fs_err::create_dir(d.join("folder.py")).unwrap();
    fails_with(d, &ft, "folder.py:work", &[], "`folder.py` is a folder");
    crate::common::mkfifo(&d.join("pipe.py"));
    fails_with(
        d,
        &ft,
        "pipe.py:work",
        &[],
        "`pipe.py` is not a regular file",
    );
    let ok = file("ok.py", "def work():\n    return 1\n");
    // A fixed work size of 0 measures nothing (it used to print NaN).
    for flag in ["--strong", "--weak"] {
        fails_with(
            d,
            &ft,
            &format!("{ok}:work"),
            &[flag, "0"],
            &format!("invalid {flag} `0`: the work size must be at least 1"),
        );
    }
    // One call of a trivial function is microseconds: measured, but said to be too short.
    let output = scale(d, &ft, &format!("{ok}:work"), &["--strong", "1"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("are shorter than the clock and scheduler allow (~1 ms)"),
        "{stderr}"
    );
    // A wrong name lists what the file does define.
    fails_with(
        d,
        &ft,
        &format!("{ok}:nope"),
        &[],
        "has no function `nope`; it defines: work",
    );
    // PYTHONPATH reaches the isolated workers by default; without it, the error says how.
    let lib = d.join("lib");
    fs_err::create_dir_all(&lib).unwrap();
    fs_err::write(lib.join("helper_mod.py"), "VALUE = 3\n").unwrap();
    let needs = file(
        "needs.py",
        "import helper_mod\n\ndef work():\n    return helper_mod.VALUE\n",
    );
    let output = ftbench(d)
        .env("PYTHONPATH", &lib)
        .args([
            "scale",
            &format!("{needs}:work"),
            "--quick",
            "--threads",
            "1",
        ])
        .args(["--no-store", "--no-report", "--force", "-o", "needs.json"])
        .arg("--python")
        .arg(format!("ft={}", ft.display()))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = ftbench(d)
        .env("PYTHONPATH", &lib)
        .args([
            "scale",
            &format!("{needs}:work"),
            "--quick",
            "--threads",
            "1",
        ])
        .args([
            "--inherit-env",
            "HOME",
            "--no-store",
            "--no-report",
            "--force",
        ])
        .args(["-o", "needs.json", "--python"])
        .arg(format!("ft={}", ft.display()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("No module named 'helper_mod'")
            && stderr.contains("--inherit-env")
            && stderr.contains("needs.py:1: import helper_mod"),
        "{stderr}"
    );
    let raises = file(
        "raises.py",
        "def work():\n    raise ValueError('bad input 42')\n",
    );
    fails_with(
        d,
        &ft,
        &format!("{raises}:work"),
        &[],
        "ValueError: bad input 42 (at ",
    );
    // The failing line of the user's file is in the one-line error, and both labels failing
    // alike are said once.
    let output = scale(d, &ft, &format!("{raises}:work"), &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("raises.py:2: raise ValueError('bad input 42'))"),
        "{stderr}"
    );
    assert!(stderr.contains("the same error as on ft"), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("failed: raises:work on ft, gil:"),
        "{stdout}"
    );
    fails_with(
        d,
        &ft,
        &format!("{raises}:work"),
        &[],
        "Traceback (most recent call last)",
    );
    let imports = file(
        "imports.py",
        "import no_such_module_anywhere\n\ndef work():\n    return 1\n",
    );
    fails_with(
        d,
        &ft,
        &format!("{imports}:work"),
        &[],
        "No module named 'no_such_module_anywhere'",
    );
    let lambda = file("lambda.py", "work = lambda: 1\n");
    fails_with(
        d,
        &ft,
        &format!("{lambda}:work"),
        &["--mode", "processes"],
        "cannot be pickled, so it cannot run in processes",
    );
    fails_with(
        d,
        &ft,
        &format!("{ok}:work"),
        &["--args", "{not json"],
        "--args is not valid JSON",
    );
    let racy = format!("{}:bump", example("racy_counter.py").display());
    let output = ftbench(d)
        .args([
            "scale",
            &racy,
            "--threads",
            "2",
            "--strong",
            "20000",
            "--check-results",
            "--quick",
            "--no-store",
            "--no-report",
            "-o",
            "race.json",
        ])
        .arg("--python")
        .arg(format!("ft={}", ft.display()))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let results = read_json(&d.join("race.json"));
    let reasons = error_reasons(&results);
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("likely race: a thread's call returned")
                && r.contains("the serial call returned 1")),
        "{reasons:?}"
    );
}

#[test]
fn an_extension_that_turns_the_gil_on_is_named() {
    let ft = require!(ft_python());
    let dir = temp();
    let d = dir.path();
    crate::common::build_gil_extension(d, &ft);
    fs_err::write(
        d.join("uses_ext.py"),
        "import gilext\n\ndef work():\n    return sum(range(100))\n",
    )
    .unwrap();
    let output = ftbench(d)
        .args([
            "scale",
            "uses_ext.py:work",
            "--quick",
            "--threads",
            "2",
            "--no-store",
            "--no-report",
            "-o",
            "ext.json",
        ])
        .arg("--python")
        .arg(format!("ft={}", ft.display()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("the GIL was ON"), "{stderr}");
    assert!(
        stderr.contains("Python says:") && stderr.contains("'gilext'"),
        "the extension is not named:\n{stderr}"
    );
    let results = read_json(&d.join("ext.json"));
    assert!(
        results["points"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["gil_mismatches"].as_u64().unwrap() > 0)
    );
}

#[test]
fn a_profile_names_the_users_function_in_a_flame_graph_linked_from_the_report() {
    let ft = require!(ft_python());
    let dir = temp();
    let d = dir.path();
    let target = format!("{}:aggregate", example("aggregate.py").display());
    let maps = || -> std::collections::BTreeSet<String> {
        fs_err::read_dir("/tmp")
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.starts_with("perf-") && n.strip_suffix(".map").is_some())
            .collect()
    };
    let maps_before = maps();
    let output = ftbench(d)
        .args([
            "scale",
            &target,
            "--quick",
            "--threads",
            "1,2",
            "--no-store",
        ])
        .args(["-o", "profiled.json", "--profile"])
        .args(python_args(&[format!("ft={}", ft.display())]))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("Profile of aggregate:aggregate on ft at 2 threads: "),
        "{stderr}"
    );
    let results = read_json(&d.join("profiled.json"));
    let profile = &results["profiles"][0];
    assert_eq!(profile["thread_count"], 2, "{profile}");
    assert_eq!(profile["call_graph"], "dwarf");
    assert!(profile["cpu_ns"].as_u64().unwrap() > 0);
    // The main thread and the two timed ones each have a graph.
    assert!(
        profile["threads"].as_array().unwrap().len() >= 3,
        "{profile}"
    );
    let merged = d.join(profile["file"].as_str().unwrap());
    assert!(merged.starts_with(d.join("profiled-profiles")));
    let svg = fs_err::read_to_string(&merged).unwrap();
    // -X perf names the user's Python function in the native stacks, and its symbol map is
    // not left in /tmp.
    assert!(svg.contains("py::aggregate:"), "no py::aggregate frame");
    let left: Vec<String> = maps().difference(&maps_before).cloned().collect();
    assert!(left.is_empty(), "left in /tmp: {left:?}");
    assert!(svg.contains("_PyEval_EvalFrameDefault"));

    // The report carries the graphs and links them; both load in a browser.
    let report = d.join("profiled-report");
    let html = fs_err::read_to_string(report.join("report.html")).unwrap();
    let name = merged.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        html.contains(&format!("href=\"profiles/{name}\"")),
        "{html}"
    );
    assert!(report.join("profiles").join(&name).is_file());
    if let Some(dom) = crate::report::chromium_dom(&report.join("report.html")) {
        assert!(dom.contains("<h2>Profiles</h2>"));
        let graph = crate::report::chromium_dom(&report.join("profiles").join(&name)).unwrap();
        assert!(graph.contains("py::aggregate"));
    }
}

#[test]
fn an_interrupted_scale_run_resumes_with_the_users_function() {
    let ft = require!(ft_python());
    let dir = temp();
    let d = dir.path();
    let file = d.join("scaled.json");
    let target = format!("{}:aggregate", example("aggregate.py").display());
    let count = crate::common::point_count;
    let child = crate::common::ftbench_process(d)
        .args(["scale", &target, "--mode", "both", "--threads", "1,2"])
        .args(["--target-ms", "30", "--processes", "1", "--samples", "3"])
        .args(["--no-report", "--no-store", "-o"])
        .arg(&file)
        .arg("--python")
        .arg(format!("ft={}", ft.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while count(&file) < 2 {
        assert!(start.elapsed().as_secs() < 60, "no points appeared");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id().cast_signed()),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let stopped = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&stopped.stderr);
    assert_eq!(stopped.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("--resume"), "{stderr}");
    let done = count(&file);
    assert!((2..6).contains(&done), "{done} points after the stop");
    // The file says what each scale test runs; resuming rebuilds them.
    let recorded = read_json(&file);
    assert_eq!(
        recorded["settings"]["user_tests"].as_array().unwrap().len(),
        2
    );
    let output = ftbench(d)
        .args(["run", "--resume"])
        .arg(&file)
        .args(["--no-report", "--no-store"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("resume: aggregate:aggregate runs aggregate from "),
        "{stderr}"
    );
    assert_eq!(count(&file), 6, "2 tests x (serial + 2 thread counts)");

    // Someone else's file naming code that is not the user's own is refused without
    // --trust-paths, and nothing runs.
    let theirs = d.join("theirs.py");
    fs_err::write(&theirs, "def aggregate():\n    open('/tmp/pwned', 'w')\n").unwrap();
    let nobody = nix::unistd::Uid::from_raw(65534);
    let owned_by_other = if nix::unistd::getuid() == nobody {
        std::path::PathBuf::from("/etc/hostname")
    } else {
        std::os::unix::fs::chown(&theirs, Some(nobody.as_raw()), None).unwrap();
        theirs
    };
    let mut hostile = read_json(&file);
    for test in hostile["settings"]["user_tests"].as_array_mut().unwrap() {
        for param in test["params"].as_array_mut().unwrap() {
            if param[0] == "path" {
                param[1] = owned_by_other.display().to_string().into();
            }
        }
    }
    hostile["points"] = serde_json::json!([]);
    fs_err::write(d.join("hostile.json"), hostile.to_string()).unwrap();
    let output = ftbench(d)
        .args([
            "run",
            "--resume",
            "hostile.json",
            "--no-report",
            "--no-store",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("which is not a file of yours on this machine"),
        "{stderr}"
    );
}

/// A `perf` that never answers does not hang the run: it is given up after 10 s, said, and the
/// measurements stand.
#[test]
fn a_hanging_perf_is_given_up_and_the_run_goes_on() {
    let ft = require!(ft_python());
    let dir = temp();
    let d = dir.path();
    let bin = d.join("bin");
    fs_err::create_dir(&bin).unwrap();
    let perf = bin.join("perf");
    fs_err::write(&perf, "#!/bin/sh\nsleep 3600\n").unwrap();
    std::process::Command::new("chmod")
        .args(["755"])
        .arg(&perf)
        .status()
        .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let path = path.as_str();
    let start = std::time::Instant::now();
    let output = ftbench(d)
        .env("PATH", path)
        .args([
            "run",
            "--quick",
            "--no-native",
            "--tests",
            "parallel_compute",
        ])
        .args(["--threads", "1", "--no-store", "--no-report", "--profile"])
        .args(["-o", "hang.json"])
        .args(python_args(&[format!("ft={}", ft.display())]))
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("did not finish in 10 s"), "{stderr}");
    assert!(start.elapsed() < std::time::Duration::from_secs(90));
    assert_eq!(crate::common::point_count(&d.join("hang.json")), 2);
    let sleeping = std::process::Command::new("pgrep")
        .args(["-f", &perf.display().to_string()])
        .output()
        .unwrap();
    assert!(!sleeping.status.success(), "the fake perf outlived the run");

    // SIGTERM after the last point (while perf hangs): the file is complete, and says so
    // instead of asking to resume it.
    let log = d.join("stderr.log");
    let mut child = crate::common::ftbench_process(d)
        .env("PATH", path)
        .args([
            "run",
            "--quick",
            "--no-native",
            "--tests",
            "parallel_compute",
        ])
        .args(["--threads", "1", "--no-store", "--no-report", "--profile"])
        .args(["-o", "late.json"])
        .args(python_args(&[format!("ft={}", ft.display())]))
        .stderr(fs_err::File::create(&log).unwrap().into_file())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while crate::common::point_count(&d.join("late.json")) < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the points were not measured"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap()),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = child.wait().unwrap();
    let stderr = fs_err::read_to_string(&log).unwrap();
    assert_eq!(status.code(), Some(143), "{stderr}");
    assert!(
        stderr.contains("after the last point; late.json is complete"),
        "{stderr}"
    );
    assert!(!stderr.contains("--resume"), "{stderr}");
}
