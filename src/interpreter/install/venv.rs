//! Packages in an interpreter (`--with`) and the numpy venv a run attaches to a build without
//! numpy.

use std::path::Path;
use std::process::Command;

use super::error::{Error, Result};
use crate::interpreter::{GilMode, Variant, query};
use crate::output::Printer;

/// The numpy that `--with numpy` installs: the newest release with binary wheels for both GIL and
/// free-threaded CPython 3.13 (numpy 2.5 ships no cp313t wheels), the same on every interpreter.
pub const NUMPY_REQUIREMENT: &str = "numpy>=2.1,<2.5";

/// `python` followed by these runs pip's install quietly, without its version check.
pub const PIP_INSTALL: [&str; 5] = [
    "-m",
    "pip",
    "install",
    "--quiet",
    "--disable-pip-version-check",
];

/// `pip install` packages into an interpreter, binary wheels only; bare `numpy` means
/// [`NUMPY_REQUIREMENT`].
pub fn install_packages(python: &Path, packages: &[String], printer: &Printer) -> Result<()> {
    if packages.is_empty() {
        return Ok(());
    }
    let requirements: Vec<&str> = packages
        .iter()
        .map(|p| {
            if p == "numpy" {
                NUMPY_REQUIREMENT
            } else {
                p.as_str()
            }
        })
        .collect();
    printer.info(&format!(
        "Installing {} into {}",
        requirements.join(" "),
        python.display()
    ));
    let output = Command::new(python)
        .env_remove("FTBENCH_STORE")
        .env_remove("PGPASSWORD")
        .args(PIP_INSTALL)
        .args(["--only-binary=:all:"])
        .args(&requirements)
        .env_remove("PYTHON_GIL")
        .output()
        .map_err(|err| Error::Run {
            program: format!("pip in {}", python.display()),
            cause: err.into(),
        })?;
    if !output.status.success() {
        return Err(Error::Pip {
            requirements: requirements.join(" "),
            python: python.to_path_buf(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    Ok(())
}

/// Give a variant numpy: if its interpreter lacks it, create (once) a venv for it in the cache,
/// keyed on the interpreter's identity as pyperformance does, install numpy there, and run the
/// variant from the venv.
pub fn attach_numpy_venv(variant: &mut Variant, printer: &Printer) -> Result<()> {
    use std::hash::{Hash, Hasher};
    let info = &variant.interpreter.info;
    if info.numpy.is_some() {
        return Ok(());
    }
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (
        &info.executable,
        &info.prefix,
        &info.version,
        info.free_threaded,
    )
        .hash(&mut hasher);
    let venv = crate::dirs::cache_dir().join("venvs").join(format!(
        "{}-{:016x}",
        info.version_tag(),
        hasher.finish()
    ));
    let python = venv.join("bin").join("python");
    if !python.exists() {
        printer.info(&format!(
            "Creating a venv for {} at {}",
            variant.label,
            venv.display()
        ));
        let output = Command::new(&variant.interpreter.path)
            .args(["-m", "venv"])
            .arg(&venv)
            .env_remove("PYTHON_GIL")
            .output()
            .map_err(|err| Error::Run {
                program: format!("{} -m venv", variant.interpreter.path.display()),
                cause: err.into(),
            })?;
        if !output.status.success() {
            let _ = fs_err::remove_dir_all(&venv);
            return Err(Error::Venv {
                interpreter: variant.interpreter.path.clone(),
                venv,
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
            });
        }
    }
    let query = || query::query(&python, GilMode::Default).map_err(|err| Error::Query(err.into()));
    let mut venv_info = query()?;
    if venv_info.numpy.is_none() {
        install_packages(&python, &["numpy".to_string()], printer)?;
        venv_info = query()?;
    }
    variant.run_path = python;
    variant.interpreter.info.numpy = venv_info.numpy;
    Ok(())
}
