//! `ftbench python install`: build CPython from source into ftbench's data directory.
//!
//! A GIL request and a `t` request of the same version are built from the same tarball with the
//! same configure flags (only `--disable-gil` differs), so their comparison is fair.
//!
//! Source order: `--source TARBALL`, a tarball already in the cache, python.org, then Debian's
//! CPython source package (download only, private apt configuration in the cache; its orig
//! tarball is upstream's tarball). With `--mirror URL` (or `FTBENCH_PYTHON_MIRROR`), a mirror in
//! python.org's layout replaces python.org and Debian. Every download is verified before it
//! enters the cache: a complete xz archive whose top folder is `Python-VERSION/` with a
//! `configure` script in it.

mod build;
mod debian;
mod error;
mod record;
mod source;
mod venv;

use std::path::PathBuf;

pub use error::{Error, Result};
pub use record::{InstallOptions, InstallRecord};
pub use venv::{PIP_INSTALL, attach_numpy_venv, install_packages};

use super::spec::VersionRequest;
use super::{GilMode, query};
use crate::output::Printer;

/// Parse an install request: `3.13`, `3.13t`, `3.13.15t` (a series or an exact version).
pub fn parse_request(text: &str) -> Result<VersionRequest> {
    match VersionRequest::parse(text) {
        Some(request) if request.parts.len() >= 2 && request.parts[0] == 3 => Ok(request),
        _ => Err(Error::Request(text.to_string())),
    }
}

/// Every install ftbench has made, newest version first.
pub fn installed() -> Vec<InstallRecord> {
    let mut records: Vec<InstallRecord> = fs_err::read_dir(crate::dirs::pythons_dir())
        .into_iter()
        .flatten()
        .filter_map(std::result::Result::ok)
        .filter_map(|entry| fs_err::read_to_string(entry.path().join(record::MARKER)).ok())
        .filter_map(|text| serde_json::from_str(&text).ok())
        .collect();
    records.sort_by_key(|r| std::cmp::Reverse(record::version_key(&r.version)));
    records
}

/// Install one request; returns the interpreter's path.
pub fn install(request_text: &str, options: &InstallOptions, printer: &Printer) -> Result<PathBuf> {
    let request = parse_request(request_text)?;
    if !options.force
        && let Some(record) = installed().into_iter().find(|r| {
            request.matches(record::version_array(&r.version), r.free_threaded)
                && r.frame_pointers == options.frame_pointers
                && query::query(&r.python, GilMode::Default)
                    .is_ok_and(|info| info.free_threaded == r.free_threaded)
        })
    {
        printer.info(&format!(
            "{} is already installed at {}",
            request_text,
            record.python.display()
        ));
        install_packages(&record.python, &options.with, printer)?;
        return Ok(record.python);
    }
    let tarball = source::find_tarball(&request, options, printer)?;
    let version =
        record::tarball_version(&tarball).ok_or_else(|| Error::TarballName(tarball.clone()))?;
    if !request.matches(record::version_array(&version), request.free_threaded) {
        return Err(Error::WrongRelease {
            path: tarball,
            version,
            request: request_text.to_string(),
        });
    }
    build::check_build_deps(options.install_build_deps, printer)?;
    let record = build::build(&tarball, &version, &request, options, printer)?;
    install_packages(&record.python, &options.with, printer)?;
    Ok(record.python)
}
