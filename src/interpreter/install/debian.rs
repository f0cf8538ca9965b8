//! CPython's pristine tarball from Debian's source packages, read with a private apt
//! configuration under ftbench's cache.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::error::{Error, Result};
use super::record::{source_cache, version_array, version_key};
use crate::interpreter::spec::VersionRequest;
use crate::output::Printer;

/// `apt-get` or `apt-cache` reading only ftbench's own sources list and state under `apt`.
fn private_apt(apt: &Path, program: &str) -> Command {
    let mut command = Command::new(program);
    for option in [
        format!(
            "Dir::Etc::sourcelist={}",
            apt.join("sources.list").display()
        ),
        "Dir::Etc::sourceparts=/nonexistent".to_string(),
        format!("Dir::State::Lists={}", apt.join("lists").display()),
        format!("Dir::Cache={}", apt.join("cache").display()),
        // A mirror's sid snapshot may be older than its Valid-Until date.
        "Acquire::Check-Valid-Until=false".to_string(),
        "APT::Sandbox::User=root".to_string(),
    ] {
        command.arg("-o").arg(option);
    }
    command
}

/// The versions of Debian's source package `python{series}`, newest first.
fn debian_versions(apt: &Path, series: &str, printer: &Printer) -> Result<Vec<String>> {
    printer.info("Reading Debian's source package lists");
    let run = |program: &str| {
        let program = program.to_string();
        move |err: std::io::Error| Error::Run {
            program,
            cause: err.into(),
        }
    };
    let status = private_apt(apt, "apt-get")
        .args(["-qq", "update"])
        .status()
        .map_err(run("apt-get"))?;
    if !status.success() {
        return Err(Error::AptUpdate(status));
    }
    let output = private_apt(apt, "apt-cache")
        .args(["showsrc", "--only-source", &format!("python{series}")])
        .output()
        .map_err(run("apt-cache"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let mut versions: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("Version: "))
        .map(str::to_string)
        .collect();
    versions
        .sort_by_key(|v| std::cmp::Reverse(version_key(v.split(['-', '~']).next().unwrap_or(v))));
    versions.dedup();
    if versions.is_empty() {
        return Err(Error::NoDebianPackage(series.to_string()));
    }
    Ok(versions)
}

/// Debian's archive carries CPython's pristine tarball in its source packages. A private apt
/// configuration under the cache reads only our own sources list, so `/etc/apt` stays untouched.
pub(super) fn download_debian(
    series: &str,
    request: &VersionRequest,
    printer: &Printer,
) -> Result<()> {
    let apt = crate::dirs::cache_dir().join("apt");
    for dir in ["lists/partial", "cache/archives/partial"] {
        fs_err::create_dir_all(apt.join(dir))?;
    }
    let uri = debian_archive_uri();
    fs_err::write(
        apt.join("sources.list"),
        format!("deb-src {uri} sid main\ndeb-src {uri} trixie main\n"),
    )?;
    let versions = debian_versions(&apt, series, printer)?;
    let download = tempfile::Builder::new()
        .prefix("download")
        .tempdir_in(crate::dirs::cache_dir())?;
    // Newest first; a mirror may list a version whose files it no longer (or never) had.
    for version in &versions {
        let upstream = version
            .split('-')
            .next()
            .unwrap_or(version)
            .replace('~', "");
        if !request.matches(version_array(&upstream), request.free_threaded) {
            continue;
        }
        printer.info(&format!(
            "Downloading Debian's python{series} {version} source"
        ));
        let ok = private_apt(&apt, "apt-get")
            .current_dir(download.path())
            .args([
                "-qq",
                "source",
                "--download-only",
                &format!("python{series}={version}"),
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            printer.info(&format!(
                "python{series} {version}: not downloadable, trying an older one"
            ));
            continue;
        }
        let orig = fs_err::read_dir(download.path())?
            .filter_map(std::result::Result::ok)
            .map(|e| e.path())
            .find(|p| p.to_string_lossy().ends_with(".orig.tar.xz"));
        if let Some(orig) = orig {
            let target = source_cache().join(format!("Python-{upstream}.tar.xz"));
            fs_err::copy(&orig, &target)?;
            return Ok(());
        }
    }
    Err(Error::NoDebianDownload {
        series: series.to_string(),
        versions,
    })
}

/// The Debian archive this machine's apt already uses (one-line or deb822 format; only the
/// files apt itself reads), else Debian's own redirector.
fn debian_archive_uri() -> String {
    let mut files = vec![PathBuf::from("/etc/apt/sources.list")];
    if let Ok(entries) = fs_err::read_dir("/etc/apt/sources.list.d") {
        let mut extra: Vec<PathBuf> = entries
            .filter_map(std::result::Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "list" || e == "sources"))
            .collect();
        extra.sort();
        files.extend(extra);
    }
    for file in files {
        let Ok(text) = fs_err::read_to_string(&file) else {
            continue;
        };
        for line in text.lines() {
            let uris: Vec<&str> = if let Some(rest) = line.strip_prefix("URIs:") {
                rest.split_whitespace().collect()
            } else if let Some(rest) = line.strip_prefix("deb ") {
                rest.split_whitespace()
                    .filter(|w| w.contains("://"))
                    .take(1)
                    .collect()
            } else {
                Vec::new()
            };
            if let Some(uri) = uris
                .into_iter()
                .find(|u| u.trim_end_matches('/').ends_with("/debian"))
            {
                return uri.to_string();
            }
        }
    }
    "http://deb.debian.org/debian".to_string()
}
