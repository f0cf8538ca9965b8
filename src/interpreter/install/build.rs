//! Building CPython: its build dependencies, `configure`, `make`, `make install`, and the check
//! that the result runs and is the build asked for.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use super::error::{Error, Result};
use super::record::{InstallOptions, InstallRecord, MARKER};
use crate::interpreter::spec::VersionRequest;
use crate::interpreter::{GilMode, query};
use crate::output::Printer;

/// Debian packages whose headers CPython needs for the modules people use (ssl, ctypes, sqlite3,
/// compression, readline, decimal, uuid).
const BUILD_DEPS: &[&str] = &[
    "build-essential",
    "pkg-config",
    "libssl-dev",
    "libffi-dev",
    "libsqlite3-dev",
    "zlib1g-dev",
    "libbz2-dev",
    "liblzma-dev",
    "libreadline-dev",
    "libncurses-dev",
    "libgdbm-dev",
    "libgdbm-compat-dev",
    "uuid-dev",
    "libzstd-dev",
    "libexpat1-dev",
];

pub(super) fn check_build_deps(install: bool, printer: &Printer) -> Result<()> {
    let Ok(output) = Command::new("dpkg-query")
        .args(["-W", "-f=${Package} ${Status}\\n"])
        .args(BUILD_DEPS)
        .output()
    else {
        printer.info("dpkg-query is not available; not checking build dependencies");
        return Ok(());
    };
    let text = String::from_utf8_lossy(&output.stdout);
    let missing: Vec<&str> = BUILD_DEPS
        .iter()
        .copied()
        .filter(|dep| {
            !text
                .lines()
                .any(|l| l.starts_with(&format!("{dep} ")) && l.ends_with("install ok installed"))
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !install {
        return Err(Error::MissingBuildDeps(
            missing.iter().map(|dep| (*dep).to_string()).collect(),
        ));
    }
    printer.info(&format!(
        "Installing build dependencies: {}",
        missing.join(" ")
    ));
    let apt_get = |err: std::io::Error| Error::Run {
        program: "apt-get".to_string(),
        cause: err.into(),
    };
    let status = Command::new("apt-get")
        .args(["-qq", "update"])
        .status()
        .map_err(apt_get)?;
    if !status.success() {
        return Err(Error::Apt {
            command: "apt-get update".to_string(),
            status,
        });
    }
    let status = Command::new("apt-get")
        .env("DEBIAN_FRONTEND", "noninteractive")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(&missing)
        .status()
        .map_err(apt_get)?;
    if !status.success() {
        return Err(Error::Apt {
            command: format!("apt-get install {}", missing.join(" ")),
            status,
        });
    }
    Ok(())
}

/// `configure`'s arguments for the build `request` and `options` ask for, into `prefix`.
fn configure_args(
    prefix: &Path,
    request: &VersionRequest,
    options: &InstallOptions,
) -> Vec<String> {
    let mut configure_args = vec![format!("--prefix={}", prefix.display())];
    if request.free_threaded {
        configure_args.push("--disable-gil".to_string());
    }
    if options.frame_pointers {
        // As configure variables, so that sysconfig's CONFIG_ARGS records them.
        configure_args
            .push("CFLAGS=-fno-omit-frame-pointer -mno-omit-leaf-frame-pointer".to_string());
    }
    if options.pgo {
        configure_args.push("--enable-optimizations".to_string());
        configure_args.push("--with-lto".to_string());
    }
    configure_args
}

/// The interpreter a build installed into `prefix`, once it runs and is the build asked for.
fn check_built(prefix: &Path, request: &VersionRequest) -> Result<PathBuf> {
    let python = prefix.join("bin").join(format!(
        "python{}.{}{}",
        request.parts[0],
        request.parts[1],
        if request.free_threaded { "t" } else { "" }
    ));
    let info = match query::query(&python, GilMode::Default) {
        Ok(info) => info,
        Err(err) => {
            return Err(Error::DoesNotRun {
                python,
                cause: err.into(),
            });
        }
    };
    if info.free_threaded != request.free_threaded {
        return Err(Error::WrongBuild {
            python,
            free_threaded: info.free_threaded,
        });
    }
    Ok(python)
}

pub(super) fn build(
    tarball: &Path,
    version: &str,
    request: &VersionRequest,
    options: &InstallOptions,
    printer: &Printer,
) -> Result<InstallRecord> {
    let tag = format!(
        "{version}{}{}",
        if request.free_threaded { "t" } else { "" },
        if options.frame_pointers { "-fp" } else { "" }
    );
    let prefix = crate::dirs::pythons_dir().join(format!("cpython-{tag}"));
    if prefix.exists() {
        fs_err::remove_dir_all(&prefix)?;
    }
    fs_err::create_dir_all(&prefix)?;
    let logs = crate::dirs::cache_dir().join("logs");
    fs_err::create_dir_all(&logs)?;
    let log_path = logs.join(format!("build-cpython-{tag}.log"));
    let log = fs_err::File::create(&log_path)?;
    let work = tempfile::Builder::new()
        .prefix("build")
        .tempdir_in(crate::dirs::cache_dir())?;
    let configure_args = configure_args(&prefix, request, options);
    let spinner = printer.spinner(&format!("cpython-{tag}"));
    let start = Instant::now();
    let steps = build_steps(tarball, work.path(), &configure_args);
    for (what, mut command) in steps {
        spinner.set_message(what);
        printer.line_above(&spinner, &format!("cpython-{tag}: {what}"));
        command
            .current_dir(work.path())
            .stdin(std::process::Stdio::null())
            .stdout(log.file().try_clone()?)
            .stderr(log.file().try_clone()?);
        // Stopped with ftbench (SIGINT, SIGTERM): the step's whole process group goes, and so
        // do the half-built prefix and the build folder; a later install starts afresh.
        let status =
            match crate::process::run_stoppable(&mut command, &crate::interrupt::requested, || {
                Ok(())
            }) {
                Ok(status) => status,
                Err(err) => {
                    spinner.finish_and_clear();
                    let _ = fs_err::remove_dir_all(&prefix);
                    return Err(match err.downcast::<crate::process::Stopped>() {
                        Ok(stopped) => Error::Stopped(stopped),
                        Err(err) => Error::StepStart {
                            tag,
                            step: what,
                            cause: err.into(),
                        },
                    });
                }
            };
        if !status.success() {
            spinner.finish_and_clear();
            let text = fs_err::read_to_string(&log_path).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(25).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            // The half-built prefix would be mistaken for nothing useful; remove it, keep the log.
            let _ = fs_err::remove_dir_all(&prefix);
            return Err(Error::Step {
                tag,
                step: what,
                status,
                log: log_path,
                tail: tail.join("\n"),
            });
        }
    }
    spinner.finish_and_clear();
    let python = check_built(&prefix, request)?;
    let record = InstallRecord {
        version: version.to_string(),
        free_threaded: request.free_threaded,
        tarball: tarball.display().to_string(),
        configure_args,
        frame_pointers: options.frame_pointers,
        build_seconds: start.elapsed().as_secs_f64(),
        python: python.clone(),
    };
    fs_err::write(prefix.join(MARKER), serde_json::to_vec_pretty(&record)?)?;
    printer.info(&format!(
        "Installed cpython-{tag} in {:.0} s: {}",
        record.build_seconds,
        python.display()
    ));
    Ok(record)
}

/// The commands of a build, in order, each with what it is doing.
fn build_steps(
    tarball: &Path,
    work: &Path,
    configure_args: &[String],
) -> Vec<(&'static str, Command)> {
    let jobs = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    vec![
        ("extracting", {
            let mut c = Command::new("tar");
            c.arg("-xf")
                .arg(tarball)
                .arg("-C")
                .arg(work)
                .arg("--strip-components=1");
            c
        }),
        ("configuring", {
            let mut c = Command::new("./configure");
            c.args(configure_args);
            c
        }),
        ("compiling", {
            let mut c = Command::new("make");
            c.arg(format!("-j{jobs}"));
            c
        }),
        ("installing", {
            let mut c = Command::new("make");
            c.arg("install");
            c
        }),
    ]
}
