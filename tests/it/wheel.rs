use std::path::Path;

use crate::common::{temp, tools_python};
use crate::require;

/// The project's root, where Cargo.toml and pyproject.toml are.
fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `pip install` of the wheel built from this checkout (maturin, the binary inside), into a
/// fresh venv made by a Python that is not ftbench's own (the machine's `python3`), then
/// `ftbench --version` and a small `scale` from there; and `uvx` runs the same wheel.
#[test]
fn the_wheel_installs_with_pip_and_uvx_and_runs() {
    let tools = require!(tools_python());
    let bin = tools.parent().unwrap();
    let dir = temp();
    let d = dir.path();
    let wheels = d.join("wheels");
    // Its own target folder: the wheel's build must not replace the binary the other tests run.
    let built = std::process::Command::new(bin.join("maturin"))
        .args(["build", "--release", "--locked", "--out"])
        .arg(&wheels)
        .current_dir(root())
        .env("CARGO_TARGET_DIR", root().join("target/wheel"))
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "maturin build failed:\n{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let wheel = fs_err::read_dir(&wheels)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .expect("maturin wrote a wheel");
    let name = wheel.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with(&format!("ftbench-{}-py3-none-", env!("CARGO_PKG_VERSION"))),
        "{name}"
    );

    let venv = d.join("venv");
    let made = std::process::Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .unwrap();
    assert!(made.success());
    let installed = std::process::Command::new(venv.join("bin/python"))
        .args([
            "-m",
            "pip",
            "install",
            "-q",
            "--no-index",
            "--disable-pip-version-check",
        ])
        .arg(&wheel)
        .output()
        .unwrap();
    assert!(
        installed.status.success(),
        "{}",
        String::from_utf8_lossy(&installed.stderr)
    );
    let ftbench = venv.join("bin/ftbench");
    let version = std::process::Command::new(&ftbench)
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("ftbench {}", env!("CARGO_PKG_VERSION"))
    );
    fs_err::write(
        d.join("bench.py"),
        "def run():\n    return sum(range(2000))\n",
    )
    .unwrap();
    let scaled = std::process::Command::new(&ftbench)
        .args(["scale", "bench.py:run", "--quick", "--threads", "1,2"])
        .args([
            "--python",
            "python3",
            "--no-store",
            "--no-report",
            "-o",
            "r.json",
        ])
        .current_dir(d)
        .env("FTBENCH_CACHE_DIR", d.join("cache"))
        .output()
        .unwrap();
    assert!(
        scaled.status.success(),
        "{}",
        String::from_utf8_lossy(&scaled.stderr)
    );
    assert!(d.join("r.json").exists());

    // uvx, offline, from the same wheel.
    let uvx = std::process::Command::new(bin.join("uvx"))
        .args(["--offline", "--from"])
        .arg(&wheel)
        .args(["ftbench", "--version"])
        .env("UV_CACHE_DIR", d.join("uv-cache"))
        .env("UV_PYTHON_DOWNLOADS", "never")
        .env("UV_PYTHON", "python3")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&uvx.stdout).starts_with("ftbench "),
        "uvx: {}",
        String::from_utf8_lossy(&uvx.stderr)
    );
}

/// The workflow users copy passes actionlint; a workflow with a mistake in it does not (so the
/// lint can fail).
#[test]
fn the_documented_workflow_passes_actionlint() {
    let tools = require!(tools_python());
    let actionlint = tools.parent().unwrap().join("actionlint");
    let workflow = root().join("examples/github-actions/scaling-gate.yml");
    let linted = std::process::Command::new(&actionlint)
        .arg(&workflow)
        .output()
        .unwrap();
    assert!(
        linted.status.success(),
        "{}",
        String::from_utf8_lossy(&linted.stdout)
    );
    let dir = temp();
    let broken = dir.path().join("broken.yml");
    let text = fs_err::read_to_string(&workflow).unwrap();
    fs_err::write(
        &broken,
        text.replace("path: head", "path: head\n          depth: 1"),
    )
    .unwrap();
    let linted = std::process::Command::new(&actionlint)
        .arg(&broken)
        .output()
        .unwrap();
    assert!(!linted.status.success());
    assert!(
        String::from_utf8_lossy(&linted.stdout).contains("input \"depth\" is not defined"),
        "{}",
        String::from_utf8_lossy(&linted.stdout)
    );
}
