//! A fleet: several machines recording into one `PostgreSQL` store, files added from machines
//! without access, the fleet listed, compared and published as a dashboard.

use std::path::Path;

use predicates::prelude::*;

use crate::common::{ft_python, ftbench, postgres_database, read_json, temp};
use crate::report::chromium_dom;
use crate::require;

/// The 16-core machine's run (bench/results), as a machine without database access would
/// bring it.
fn sixteen_cores() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/results/16-cores-run2-2026-11-26.json")
}

/// A small quick run of `parallel_compute` on `python` at `threads`, recorded in `store`.
fn quick_run(dir: &Path, threads: &str, python: &str, store: &str) -> assert_cmd::Command {
    let mut command = ftbench(dir);
    command
        .args([
            "run",
            "--quick",
            "--tests",
            "parallel_compute",
            "--threads",
            threads,
        ])
        .args(["--target-ms", "20", "--processes", "2", "--no-report"])
        .arg(format!("--python={python}"))
        .args(["--store", store]);
    command
}

/// `url` without its password, which then comes from `PGPASSWORD` as libpq would take it.
fn without_password(url: &str) -> (String, String) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (userinfo, host) = rest.split_once('@').unwrap();
    let (user, password) = userinfo.split_once(':').unwrap();
    (format!("{scheme}://{user}@{host}"), password.to_string())
}

#[test]
fn two_machines_and_a_copied_file_make_one_fleet_and_one_dashboard() {
    let ft = require!(ft_python());
    let url = require!(postgres_database("fleet"));
    let dir = temp();
    let d = dir.path();
    // Machine `a` has the password in the URL; machine `b` takes it from PGPASSWORD and
    // insists on TLS.
    let (bare, password) = without_password(&url);
    for (machine, store, env_password) in [
        ("a", url.clone(), None),
        (
            "b",
            format!("{bare}?sslmode=require"),
            Some(password.as_str()),
        ),
    ] {
        let mut command = quick_run(d, "1,2", &format!("3.13.15t={}", ft.display()), &store);
        if let Some(password) = env_password {
            command.env("PGPASSWORD", password);
        }
        command
            .args(["--machine", machine, "-o", &format!("{machine}.json")])
            .assert()
            .success()
            .stderr(
                predicate::str::contains("Recorded as run")
                    .and(predicate::str::contains(&password).not()),
            );
    }
    // The 16-core machine had no access to the database: its file is added here, once.
    for expected in [
        "as run 3 of machine `16-cores`",
        "is already recorded as run 3",
    ] {
        ftbench(d)
            .args(["history", "add", "--machine", "16-cores", "--store", &url])
            .arg(sixteen_cores())
            .assert()
            .success()
            .stderr(predicate::str::contains(expected));
    }
    let machines = ftbench(d)
        .args(["history", "--machines", "--json", "--store", &url])
        .assert()
        .success();
    let machines: serde_json::Value =
        serde_json::from_slice(&machines.get_output().stdout).unwrap();
    let names: Vec<&str> = machines
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["machine"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["16-cores", "a", "b"]);
    let sixteen = &machines[0];
    assert_eq!(sixteen["runs"], 1);
    assert_eq!(sixteen["fingerprint"]["logical_cores"], 16);
    ftbench(d)
        .args(["history", "--machine", "a", "--store", &url])
        .assert()
        .success()
        .stdout(predicate::str::contains("a on ").and(predicate::str::contains("16-cores").not()));
    // Across machines, compare says so and compares speedups.
    ftbench(d)
        .args(["compare", "a.json"])
        .arg(sixteen_cores())
        .assert()
        .success()
        .stdout(
            predicate::str::contains("different machines")
                .and(predicate::str::contains("(speedup, higher is faster)")),
        );

    // The dashboard: every machine's curve of one test and label in one figure.
    let site = d.join("site");
    ftbench(d)
        .args(["publish", "--store", &url, "--out"])
        .arg(&site)
        .assert()
        .success()
        .stderr(predicate::str::contains("Published 3 machine(s)"));
    let figure = fs_err::read_to_string(site.join("parallel_compute-3.13.15t.svg")).unwrap();
    for machine in ["16-cores (16 CPUs", "a (", "b ("] {
        assert!(
            figure.contains(machine),
            "{machine} missing from the figure"
        );
    }
    let index = fs_err::read_to_string(site.join("index.html")).unwrap();
    assert!(
        index.contains("Intel(R) Xeon(R) Processor, 16 cores"),
        "no fingerprint"
    );
    let images = index.matches("<img ").count();
    assert!(images >= 4, "{images} figures");
    if let Some(dom) = chromium_dom(&site.join("index.html")) {
        assert_eq!(dom.matches("data-loaded=\"yes\"").count(), images, "{dom}");
    }
    // Nothing new: nothing rewritten.
    ftbench(d)
        .args(["publish", "--store", &url, "--out"])
        .arg(&site)
        .assert()
        .success()
        .stderr(predicate::str::contains("0 file(s) written"));

    // And the whole fleet moves to SQLite and back without loss or duplicates.
    ftbench(d)
        .args(["store", "copy", "--from", &url, "--to", "fleet.sqlite"])
        .assert()
        .success()
        .stderr(predicate::str::contains("Copied 3 run(s)"));
    ftbench(d)
        .args(["store", "copy", "--from", "fleet.sqlite", "--to", &url])
        .assert()
        .success()
        .stderr(
            predicate::str::contains("Copied 0 run(s)")
                .and(predicate::str::contains("3 were there already")),
        );
}

#[test]
fn eight_writers_at_once_lose_nothing_and_duplicate_nothing() {
    let url = require!(postgres_database("writers"));
    let dir = temp();
    let d = dir.path();
    let mut base = read_json(&sixteen_cores());
    let files: Vec<String> = (0..8)
        .map(|i| {
            base["run_id"] = serde_json::json!(format!("writer-{i}"));
            base["system"]["machine"] = serde_json::json!(format!("w{i}"));
            let name = format!("w{i}.json");
            fs_err::write(d.join(&name), serde_json::to_vec(&base).unwrap()).unwrap();
            name
        })
        .collect();
    // Each writer adds its own file and its neighbour's, all at once: every run is offered twice.
    let writers: Vec<std::process::Child> = (0..8)
        .map(|i| {
            std::process::Command::new(assert_cmd::cargo::cargo_bin!("ftbench"))
                .current_dir(d)
                .args(["history", "add", "--store", &url])
                .args([&files[i], &files[(i + 1) % 8]])
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for writer in writers {
        let out = writer.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let runs = ftbench(d)
        .args(["history", "--json", "--store", &url])
        .assert()
        .success();
    let runs: serde_json::Value = serde_json::from_slice(&runs.get_output().stdout).unwrap();
    let mut keys: Vec<&str> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    keys.sort_unstable();
    let expected: Vec<String> = (0..8).map(|i| format!("writer-{i}")).collect();
    assert_eq!(keys, expected);
    assert!(runs.as_array().unwrap().iter().all(|r| r["points"] == 265));
}

#[test]
fn a_database_that_is_gone_loses_no_run_and_says_how_to_add_it() {
    let ft = require!(ft_python());
    let url = require!(postgres_database("gone"));
    let dir = temp();
    let d = dir.path();
    // A port nobody listens on: the database went away before the run could be recorded.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let gone = format!("postgresql://ftbench:secret@127.0.0.1:{port}/ftbench");
    quick_run(d, "1", &format!("ft={}", ft.display()), &gone)
        .args(["-o", "run.json"])
        .assert()
        .success()
        .stderr(
            predicate::str::contains("was not recorded in the history store")
                .and(predicate::str::contains("ftbench history add run.json"))
                .and(predicate::str::contains(format!("127.0.0.1:{port}")))
                .and(predicate::str::contains("secret").not()),
        );
    assert!(
        read_json(&d.join("run.json"))["points"]
            .as_array()
            .unwrap()
            .len()
            >= 2
    );
    ftbench(d)
        .args(["history", "add", "run.json", "--store", &url])
        .assert()
        .success()
        .stderr(predicate::str::contains("as run 1"));
}

#[test]
fn a_hostile_file_in_the_fleet_cannot_break_out_of_the_dashboard() {
    let dir = temp();
    let d = dir.path();
    // Someone else's results file: a label that is a path and markup, planted in every place
    // a label appears, and a machine name that is markup with an escape character.
    let text = fs_err::read_to_string(sixteen_cores())
        .unwrap()
        .replace("\"3.13.15t\"", "\"../../evil<script>alert(1)</script>\"");
    fs_err::write(d.join("hostile.json"), text).unwrap();
    ftbench(d)
        .args(["history", "add", "hostile.json", "--store", "fleet.sqlite"])
        .args(["--machine", "<img src=x onerror=alert(1)>\u{1b}[31m"])
        .assert()
        .success();
    let site = d.join("out").join("site");
    ftbench(d)
        .args(["publish", "--store", "fleet.sqlite", "--out"])
        .arg(&site)
        .assert()
        .success();
    // Everything written is inside the site, as plain files with safe names.
    let mut outside = Vec::new();
    for entry in fs_err::read_dir(d).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if !["hostile.json", "fleet.sqlite", "out", "cache"].contains(&name.as_str())
            && !name.starts_with("fleet.sqlite-")
        {
            outside.push(name);
        }
    }
    assert!(outside.is_empty(), "written outside --out: {outside:?}");
    for entry in fs_err::read_dir(&site).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)),
            "{name}"
        );
    }
    let index = fs_err::read_to_string(site.join("index.html")).unwrap();
    assert!(
        !index.contains("<script>alert"),
        "markup from a label reached the page"
    );
    assert!(
        !index.contains("<img src=x"),
        "markup from a machine name reached the page"
    );
    assert!(
        !index.contains('\u{1b}'),
        "an escape character reached the page"
    );
    for entry in fs_err::read_dir(&site).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "svg") {
            let svg = fs_err::read_to_string(&path).unwrap();
            assert!(!svg.contains("<script"), "{}", path.display());
            assert!(!svg.contains('\u{1b}'), "{}", path.display());
        }
    }
}

/// A machine that measured a test yesterday but not today keeps it on the dashboard: each
/// machine's newest run of each test, not only its newest run.
#[test]
fn the_dashboard_shows_every_test_a_machine_has_run() {
    let ft = require!(ft_python());
    let dir = temp();
    let d = dir.path();
    let python = format!("ft={}", ft.display());
    for (test, output) in [
        ("parallel_compute", "first.json"),
        ("lock_contention", "second.json"),
    ] {
        ftbench(d)
            .args(["run", "--quick", "--tests", test, "--threads", "1,2"])
            .args(["--target-ms", "20", "--processes", "2", "--no-report"])
            .arg(format!("--python={python}"))
            .args(["--store", "fleet.sqlite", "--machine", "m", "-o", output])
            .assert()
            .success();
    }
    let site = d.join("site");
    ftbench(d)
        .args(["publish", "--store", "fleet.sqlite", "--out"])
        .arg(&site)
        .assert()
        .success();
    for test in ["parallel_compute", "lock_contention"] {
        assert!(
            site.join(format!("{test}-ft.svg")).is_file(),
            "{test}'s figure is missing: {:?}",
            fs_err::read_dir(&site)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect::<Vec<_>>()
        );
    }
}
