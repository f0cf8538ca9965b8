use std::path::Path;

use crate::common::{ft_python, ftbench, gil_python, temp};
use crate::require;

/// Install a distribution into `site` by hand, as an installer leaves it: the module, and a
/// `.dist-info` folder with `METADATA`, `RECORD` and, where the names cannot be read from
/// `RECORD`, `top_level.txt`.
fn local_distribution(site: &Path, name: &str, module: &str, code: &str) {
    fs_err::write(site.join(format!("{module}.py")), code).unwrap();
    let info = site.join(format!("{}-1.0.dist-info", name.replace('-', "_")));
    fs_err::create_dir_all(&info).unwrap();
    fs_err::write(
        info.join("METADATA"),
        format!("Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"),
    )
    .unwrap();
    fs_err::write(info.join("top_level.txt"), format!("{module}\n")).unwrap();
    fs_err::write(
        info.join("RECORD"),
        format!(
            "{module}.py,,\n{}-1.0.dist-info/METADATA,,\n",
            name.replace('-', "_")
        ),
    )
    .unwrap();
}

/// The processes whose command line holds `needle`: `pid: command line`.
fn processes_with(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in fs_err::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmdline) = fs_err::read(entry.path().join("cmdline")) {
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if cmdline.contains(needle) {
                found.push(format!(
                    "{}: {cmdline}",
                    entry.file_name().to_string_lossy()
                ));
            }
        }
    }
    found
}

/// One distribution's entry in the audit's JSON.
fn entry<'a>(json: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    json["interpreters"][0]["distributions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == name)
        .unwrap_or_else(|| panic!("{name} is not in the audit: {json:#}"))
}

/// A venv of 3.13t holding numpy (from the base interpreter), markupsafe 2.0.1 (its speedups
/// predate free-threading), and local distributions: one that imports markupsafe's speedups,
/// and hostile ones. Each gets its verdict; nothing survives; nothing is written outside a
/// temporary folder; `--fail-on-gil` exits 1, and without it the audit exits 0.
#[test]
fn an_audit_names_what_turns_the_gil_on_and_survives_hostile_imports() {
    let ft = require!(ft_python());
    let dir = temp();
    let d = dir.path();
    let venv = d.join("venv");
    let made = std::process::Command::new(&ft)
        .args(["-m", "venv", "--system-site-packages"])
        .arg(&venv)
        .status()
        .unwrap();
    assert!(made.success());
    let python = venv.join("bin/python");
    let installed = std::process::Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "markupsafe==2.0.1",
        ])
        .current_dir(d)
        .output()
        .unwrap();
    assert!(
        installed.status.success(),
        "pip could not install markupsafe 2.0.1: {}",
        String::from_utf8_lossy(&installed.stderr)
    );
    let site = venv.join("lib/python3.13t/site-packages");
    assert!(site.is_dir(), "{}", site.display());
    let hostile = [
        (
            "ftb-gil-via",
            "ftb_gil_via",
            "import markupsafe._speedups  # noqa: F401\n",
        ),
        (
            "ftb-raises",
            "ftb_raises",
            "raise ValueError('this package refuses to load')\n",
        ),
        ("ftb-hangs", "ftb_hangs", "import time\ntime.sleep(3600)\n"),
        (
            "ftb-segfaults",
            "ftb_segfaults",
            "import ctypes\nctypes.string_at(0)\n",
        ),
        (
            "ftb-floods",
            "ftb_floods",
            "import sys\nfor _ in range(40000):\n    sys.stdout.write('x' * 1000 + '\\n')\n    sys.stderr.write('y' * 1000 + '\\n')\n",
        ),
        (
            "ftb-forks",
            "ftb_forks",
            "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(3600)\n",
        ),
        ("ftb-exits", "ftb_exits", "import os\nos._exit(3)\n"),
        (
            "ftb-writes",
            "ftb_writes",
            "import os\nopen('written-by-import.txt', 'w').write('x')\nos.chdir('..')\nopen('written-after-chdir.txt', 'w').write('x')\n",
        ),
        ("ftb-ctrl\u{1b}[31m", "ftb_ctrl\u{1b}[31m", "X = 1\n"),
    ];
    for (name, module, code) in hostile {
        local_distribution(&site, name, module, code);
    }
    let summary = d.join("summary.md");
    // What another run left behind is not this audit's survivor.
    let before: Vec<String> = ["ftb_forks", "ftb_hangs"]
        .iter()
        .flat_map(|m| processes_with(m))
        .collect();
    let started = std::time::Instant::now();
    let output = ftbench(d)
        .args(["audit", "--fail-on-gil", "--json", "--timeout", "8"])
        .arg("--python")
        .arg(format!("venv={}", python.display()))
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_ACTIONS", "true")
        .env("PYTHON_GIL", "0")
        .output()
        .unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    eprintln!("{stderr}\naudit: {seconds:.1} s");
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    // Annotations follow the JSON on stdout.
    let json_end = stdout.find("\n::").map_or(stdout.len(), |at| at + 1);
    let json: serde_json::Value = serde_json::from_str(&stdout[..json_end]).unwrap();

    assert_eq!(entry(&json, "numpy")["verdict"], "gil_off");
    assert!(
        entry(&json, "numpy")["extensions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["declares"] == true),
        "{json:#}"
    );
    let markupsafe = entry(&json, "MarkupSafe");
    assert_eq!(markupsafe["verdict"], "gil_on");
    assert_eq!(markupsafe["by"], "markupsafe._speedups");
    let via = entry(&json, "ftb-gil-via");
    assert_eq!(via["verdict"], "gil_on");
    assert_eq!(via["by"], "markupsafe._speedups");
    assert_eq!(via["by_distribution"], "MarkupSafe");
    let raises = entry(&json, "ftb-raises");
    assert_eq!(raises["verdict"], "failed");
    assert_eq!(raises["error"], "ValueError: this package refuses to load");
    let hangs = entry(&json, "ftb-hangs");
    assert_eq!(hangs["verdict"], "timed_out");
    assert_eq!(hangs["during"], "ftb_hangs");
    let segfaults = entry(&json, "ftb-segfaults");
    assert_eq!(segfaults["verdict"], "crashed");
    assert_eq!(segfaults["signal"], "SIGSEGV");
    assert!(
        segfaults["modules"][0]["output_tail"]
            .as_str()
            .is_some_and(|t| t.contains("Segmentation fault")),
        "the crash's own words are kept: {segfaults:#}"
    );
    assert_eq!(entry(&json, "ftb-floods")["verdict"], "gil_off");
    assert_eq!(entry(&json, "ftb-forks")["verdict"], "gil_off");
    let exits = entry(&json, "ftb-exits");
    assert_eq!(exits["verdict"], "exited");
    assert_eq!(exits["code"], 3);
    assert_eq!(entry(&json, "ftb-writes")["verdict"], "gil_off");
    assert_eq!(entry(&json, "ftb-ctrl\u{1b}[31m")["verdict"], "gil_off");
    assert_eq!(
        entry(&json, "ftb-ctrl\u{1b}[31m")["modules"][0]["module"],
        "ftb_ctrl\u{1b}[31m"
    );

    // The table on stderr: the culprit named, a summary, no raw control character.
    assert!(
        stderr.contains("2 of ") && stderr.contains("turn the GIL on: "),
        "{stderr}"
    );
    assert!(stderr.contains("Py_mod_gil"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr}");
    assert!(stderr.contains("ftb-ctrl\\u{1b}[31m"), "{stderr}");
    assert!(stderr.contains("PYTHON_GIL=0 is set here"), "{stderr}");
    // CI: annotations and a step summary.
    assert!(
        stdout.contains("::error title=ftbench audit%3A MarkupSafe turns the GIL on::"),
        "{stdout}"
    );
    let summary = fs_err::read_to_string(&summary).unwrap();
    assert!(summary.contains("## ftbench audit"), "{summary}");
    assert!(summary.contains("ftb-gil-via"), "{summary}");

    // Nothing outlives the audit, and nothing was written beside it.
    for module in ["ftb_forks", "ftb_hangs"] {
        let survivors: Vec<String> = processes_with(module)
            .into_iter()
            .filter(|p| !before.contains(p))
            .collect();
        assert_eq!(survivors, Vec::<String>::new(), "{module} left a process");
    }
    assert!(!d.join("written-by-import.txt").exists());
    assert!(!d.join("written-after-chdir.txt").exists());
    assert!(
        !site.join("__pycache__").exists(),
        "the audit wrote bytecode into the environment"
    );

    // Without --fail-on-gil the same finding exits 0; a name not installed is said so; two
    // environments stand side by side.
    let output = ftbench(d)
        .args(["audit", "markupsafe", "no-such-distribution"])
        .arg("--python")
        .arg(format!("venv={}", python.display()))
        .arg("--python")
        .arg(format!("base={}", ft.display()))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("venv: 1 of 1 distribution(s) turn the GIL on"),
        "{stdout}"
    );
    assert!(stdout.contains("1 not installed"), "{stdout}");
    let row = stdout
        .lines()
        .find(|l| l.starts_with("MarkupSafe"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        row.contains("GIL ON: markupsafe._speedups") && row.contains("not installed"),
        "{row}"
    );

    // A `.pth` file that imports the speedups turns the GIL on at start-up: named, and no
    // import is judged against a GIL that was on before it.
    fs_err::write(
        site.join("zz_ftbench_startup.pth"),
        "import markupsafe._speedups\n",
    )
    .unwrap();
    let output = ftbench(d)
        .args(["audit", "numpy", "--json"])
        .arg("--python")
        .arg(python.as_os_str())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("start-up turns the GIL on (importing markupsafe._speedups)"),
        "{stderr}"
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        json["interpreters"][0]["started_by"],
        "markupsafe._speedups"
    );
    assert_eq!(entry(&json, "numpy")["verdict"], "on_at_start");
}

/// What cannot be audited is refused before anything runs, naming the bad part.
#[test]
fn an_audit_refuses_gil_builds_forced_modes_and_missing_files() {
    let ft = require!(ft_python());
    let gil = require!(gil_python());
    let dir = temp();
    let d = dir.path();
    for (args, said, code) in [
        (
            vec!["--python".to_string(), gil.display().to_string()],
            "is a GIL build",
            2,
        ),
        (
            vec!["--python".to_string(), format!("{}+gil", ft.display())],
            "the GIL cannot be forced",
            2,
        ),
        (
            vec![
                "--python".to_string(),
                ft.display().to_string(),
                "-r".to_string(),
                "missing.txt".to_string(),
            ],
            "cannot read the requirements file `missing.txt`",
            1,
        ),
    ] {
        let output = ftbench(d).arg("audit").args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(stderr.contains(said), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
