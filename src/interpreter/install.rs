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

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::spec::VersionRequest;
use super::{GilMode, query};
use crate::output::Printer;

/// The numpy that `--with numpy` installs: the newest release with binary wheels for both GIL and
/// free-threaded CPython 3.13 (numpy 2.5 ships no cp313t wheels), the same on every interpreter.
pub const NUMPY_REQUIREMENT: &str = "numpy>=2.1,<2.5";

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

/// Written into an install's prefix once it is complete; an install without it is rebuilt.
const MARKER: &str = "ftbench-install.json";

/// What ftbench records about an install it made.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InstallRecord {
    pub version: String,
    pub free_threaded: bool,
    pub tarball: String,
    pub configure_args: Vec<String>,
    /// Built with frame pointers (`--frame-pointers`).
    #[serde(default)]
    pub frame_pointers: bool,
    pub build_seconds: f64,
    pub python: PathBuf,
}

/// Options of one `ftbench python install` call.
#[derive(Debug, Clone, Default)]
pub struct InstallOptions {
    pub source: Option<PathBuf>,
    pub with: Vec<String>,
    /// A python.org-layout mirror (`MIRROR/3.14.2/Python-3.14.2.tar.xz`) to use instead of
    /// python.org and Debian.
    pub mirror: Option<String>,
    /// Build with frame pointers, into its own prefix (`cpython-X.Y.Z[t]-fp`).
    pub frame_pointers: bool,
    pub install_build_deps: bool,
    pub pgo: bool,
    pub force: bool,
}

/// Parse an install request: `3.13`, `3.13t`, `3.13.15t` (a series or an exact version).
pub fn parse_request(text: &str) -> Result<VersionRequest> {
    match VersionRequest::parse(text) {
        Some(request) if request.parts.len() >= 2 && request.parts[0] == 3 => Ok(request),
        _ => bail!(
            "cannot install `{text}`: expected a CPython 3 version such as `3.13`, `3.13t` or `3.13.15t`"
        ),
    }
}

/// Every install ftbench has made, newest version first.
pub fn installed() -> Vec<InstallRecord> {
    let mut records: Vec<InstallRecord> = fs_err::read_dir(crate::dirs::pythons_dir())
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|entry| fs_err::read_to_string(entry.path().join(MARKER)).ok())
        .filter_map(|text| serde_json::from_str(&text).ok())
        .collect();
    records.sort_by_key(|r| std::cmp::Reverse(version_key(&r.version)));
    records
}

fn version_key(version: &str) -> Vec<u32> {
    version.split('.').filter_map(|p| p.parse().ok()).collect()
}

/// Install one request; returns the interpreter's path.
pub fn install(request_text: &str, options: &InstallOptions, printer: &Printer) -> Result<PathBuf> {
    let request = parse_request(request_text)?;
    if !options.force
        && let Some(record) = installed().into_iter().find(|r| {
            request.matches(version_array(&r.version), r.free_threaded)
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
    let tarball = find_tarball(&request, options, printer)?;
    let version = tarball_version(&tarball)
        .with_context(|| format!("`{}` is not named Python-X.Y.Z.tar.xz", tarball.display()))?;
    if !request.matches(version_array(&version), request.free_threaded) {
        bail!(
            "`{}` holds CPython {version}, which does not answer the request `{request_text}`",
            tarball.display()
        );
    }
    check_build_deps(options.install_build_deps, printer)?;
    let record = build(&tarball, &version, &request, options, printer)?;
    install_packages(&record.python, &options.with, printer)?;
    Ok(record.python)
}

fn version_array(version: &str) -> [u32; 3] {
    let parts = version_key(version);
    [
        parts.first().copied().unwrap_or(0),
        parts.get(1).copied().unwrap_or(0),
        parts.get(2).copied().unwrap_or(0),
    ]
}

/// `Python-3.13.15.tar.xz` → `3.13.15`.
fn tarball_version(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let version = name.strip_prefix("Python-")?.strip_suffix(".tar.xz")?;
    (version.split('.').count() == 3 && version.split('.').all(is_version_number))
        .then(|| version.to_string())
}

fn source_cache() -> PathBuf {
    crate::dirs::cache_dir().join("src")
}

fn find_tarball(
    request: &VersionRequest,
    options: &InstallOptions,
    printer: &Printer,
) -> Result<PathBuf> {
    if let Some(source) = &options.source {
        if !source.is_file() {
            bail!("source tarball `{}` does not exist", source.display());
        }
        return Ok(source.clone());
    }
    let cached = || -> Option<PathBuf> {
        let mut found: Vec<(Vec<u32>, PathBuf)> = fs_err::read_dir(source_cache())
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter_map(|p| {
                let version = tarball_version(&p)?;
                request
                    .matches(version_array(&version), request.free_threaded)
                    .then(|| (version_key(&version), p))
            })
            .collect();
        found.sort();
        found.pop().map(|(_, p)| p)
    };
    // A cached download is checked again before use: one that no longer passes (a planted or
    // damaged file, one cached by an older ftbench) is removed, not built from, and not left to
    // fail every later attempt.
    while let Some(path) = cached() {
        let version = tarball_version(&path).unwrap_or_default();
        match verify_tarball(&path, &version) {
            Ok(()) => {
                printer.info(&format!("Using cached source {}", path.display()));
                return Ok(path);
            }
            Err(err) if err.downcast_ref::<crate::process::Stopped>().is_some() => return Err(err),
            Err(err) => {
                printer.warn(&format!(
                    "removing the cached source {}: {err:#}",
                    path.display()
                ));
                fs_err::remove_file(&path)?;
            }
        }
    }
    fs_err::create_dir_all(source_cache())?;
    let series = format!("{}.{}", request.parts[0], request.parts[1]);
    if let Some(mirror) = &options.mirror {
        return download_listed(mirror, request, printer)
            .with_context(|| format!("no CPython {series} source from the mirror `{mirror}`"));
    }
    match download_listed(PYTHON_ORG, request, printer) {
        Ok(path) => return Ok(path),
        Err(err) => printer.info(&format!(
            "python.org is out of reach ({err:#}); trying Debian's source package"
        )),
    }
    download_debian(&series, request, printer)?;
    cached().with_context(|| {
        format!(
            "no CPython {series} source could be downloaded; put an upstream Python-{series}.N.tar.xz into {} or pass --source",
            source_cache().display()
        )
    })
}

/// The largest directory index page ftbench reads from a mirror.
pub const MAX_INDEX_BYTES: u64 = 4 << 20;
/// The largest source tarball ftbench downloads (CPython's are ~22 MB).
pub const MAX_TARBALL_BYTES: u64 = 256 << 20;
/// The most bytes a source tarball may unpack to (CPython's unpack to ~130 MB).
pub const MAX_EXPANDED_BYTES: u64 = 1 << 30;
/// A download slower than this many bytes a second for [`STALL_SECONDS`] is given up.
const STALL_BYTES_PER_SECOND: u32 = 1024;
const STALL_SECONDS: u32 = 15;

/// Download `url` into `path` with curl: at most `limit` bytes (a server that sends more is cut
/// off and the file removed), given up when it stalls, stopped with ftbench (SIGINT, SIGTERM),
/// progress on `spinner`.
fn fetch(
    url: &str,
    path: &Path,
    limit: u64,
    spinner: Option<&indicatif::ProgressBar>,
) -> Result<()> {
    let result = (|| {
        let mut command = Command::new("curl");
        command
            .args(["-fsSL", "--connect-timeout", "5", "--max-filesize"])
            .arg(limit.to_string())
            .args(["--speed-limit", &STALL_BYTES_PER_SECOND.to_string()])
            .args(["--speed-time", &STALL_SECONDS.to_string()])
            .arg("-o")
            .arg(path)
            .arg(url);
        let curl = crate::process::run_captured(&mut command, |_| {
            let size = fs_err::metadata(path).map_or(0, |m| m.len());
            if let Some(spinner) = spinner {
                spinner.set_message(format!("{:.1} MB", size as f64 / 1e6));
            }
            if size > limit {
                return Err(format!(
                    "`{url}` sent more than {} MB: not a CPython source release (the limit is {} MB)",
                    limit >> 20,
                    limit >> 20
                ));
            }
            Ok(())
        })
        .context("failed to run curl")?;
        if !curl.status.success() {
            let said = curl.stderr.trim();
            match curl.status.code() {
                Some(28) => bail!(
                    "`{url}` stalled: less than {STALL_BYTES_PER_SECOND} bytes a second for {STALL_SECONDS} s ({said})"
                ),
                Some(63) => bail!(
                    "`{url}` is larger than {} MB: not a CPython source release",
                    limit >> 20
                ),
                _ => bail!("downloading `{url}` failed: {said}"),
            }
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs_err::remove_file(path);
    }
    result
}

/// Where python.org keeps its source releases: `VERSION/Python-VERSION.tar.xz` below it.
const PYTHON_ORG: &str = "https://www.python.org/ftp/python";

/// Download the newest release that answers `request` from a python.org-layout `base` (its
/// directory index lists one folder per version), verified before it enters the cache.
fn download_listed(base: &str, request: &VersionRequest, printer: &Printer) -> Result<PathBuf> {
    let base = base.trim_end_matches('/');
    if !["https://", "http://", "file://"]
        .iter()
        .any(|scheme| base.starts_with(scheme))
    {
        bail!("`{base}` is not an http(s):// or file:// URL");
    }
    fs_err::create_dir_all(source_cache())?;
    let index_path = source_cache().join(format!("index-{}.partial", std::process::id()));
    fetch(&format!("{base}/"), &index_path, MAX_INDEX_BYTES, None)?;
    let index = String::from_utf8_lossy(&fs_err::read(&index_path)?).into_owned();
    let _ = fs_err::remove_file(&index_path);
    let mut versions = listed_versions(&index, request);
    if versions.is_empty() {
        bail!("{base}/ lists no release that answers the request");
    }
    versions.sort_by_key(|v| std::cmp::Reverse(version_key(v)));
    let mut failures = Vec::new();
    for version in versions {
        let target = source_cache().join(format!("Python-{version}.tar.xz"));
        let partial = target.with_extension("partial");
        let url = format!("{base}/{version}/Python-{version}.tar.xz");
        printer.info(&format!("Downloading {url}"));
        let spinner = printer.spinner(&format!("Python-{version}.tar.xz"));
        let fetched = fetch(&url, &partial, MAX_TARBALL_BYTES, Some(&spinner))
            .and_then(|()| verify_tarball(&partial, &version))
            .and_then(|()| verify_checksum(&partial, &url, printer));
        spinner.finish_and_clear();
        match fetched {
            Ok(()) => {
                fs_err::rename(&partial, &target)?;
                return Ok(target);
            }
            Err(err) => {
                let _ = fs_err::remove_file(&partial);
                if err.downcast_ref::<crate::process::Stopped>().is_some() {
                    return Err(err);
                }
                // A listed version without its tarball (pre-releases, a half-synced mirror):
                // try the next one, and say what went wrong if none works.
                failures.push(format!("{version}: {err:#}"));
            }
        }
    }
    bail!(
        "no listed release could be downloaded: {}",
        failures.join("; ")
    )
}

/// The `X.Y.Z` folder names in a directory index page that answer `request`.
fn listed_versions(index: &str, request: &VersionRequest) -> Vec<String> {
    let mut versions: Vec<String> = index
        .split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split(['/', '"']).next())
        .filter(|v| v.split('.').count() == 3 && v.split('.').all(is_version_number))
        .filter(|v| request.matches(version_array(v), request.free_threaded))
        .map(str::to_string)
        .collect();
    versions.sort();
    versions.dedup();
    versions
}

/// One part of `X.Y.Z`: 1 to 4 ASCII digits (Rust's `u32` parser would take `+7`).
fn is_version_number(part: &str) -> bool {
    (1..=4).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit())
}

/// Where the mirror publishes a SHA-256 beside the tarball (`URL.sha256`, as many mirrors and
/// release pipelines do), check it; else say what was and was not verified. python.org signs
/// its releases (`.asc`, `.sigstore`), which ftbench does not check.
fn verify_checksum(path: &Path, url: &str, printer: &Printer) -> Result<()> {
    let file = path.with_extension("sha256");
    let published = fetch(&format!("{url}.sha256"), &file, 4096, None)
        .ok()
        .and_then(|()| fs_err::read_to_string(&file).ok());
    let _ = fs_err::remove_file(&file);
    let Some(published) = published
        .as_deref()
        .and_then(|text| text.split_whitespace().next())
        .map(str::to_ascii_lowercase)
        .filter(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
    else {
        printer.info(&format!(
            "{url}.sha256 is not published: the download is checked as a complete archive of one CPython source folder, not against a checksum or signature"
        ));
        return Ok(());
    };
    let output = Command::new("sha256sum")
        .arg(path)
        .output()
        .context("failed to run sha256sum")?;
    let actual = String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if actual != published {
        bail!("its SHA-256 is {actual}, but the mirror publishes {published} ({url}.sha256)");
    }
    printer.info(&format!("SHA-256 matches {url}.sha256"));
    Ok(())
}

/// A downloaded source tarball is a complete xz archive (xz checks its own CRC while `tar`
/// reads it to the end) of one `Python-VERSION/` folder holding a `configure` script, whose
/// every member stays inside that folder once extracted (no absolute path after the folder is
/// stripped, no `..`, no link leading out, no device or FIFO) and which unpacks to at most
/// [`MAX_EXPANDED_BYTES`]: a truncated download, an HTML error page, another project's archive,
/// a planted path or an xz bomb is refused here, before anything is extracted.
fn verify_tarball(path: &Path, version: &str) -> Result<()> {
    let mut command = Command::new("tar");
    command.arg("-tvJf").arg(path);
    let tar = crate::process::run_captured(&mut command, |listed| {
        // A listing this long is no CPython (its has ~5000 members).
        if listed > 64 << 20 {
            return Err("the archive lists more members than any CPython release".to_string());
        }
        Ok(())
    })
    .context("failed to run tar")?;
    if !tar.status.success() {
        bail!(
            "the download is not a complete .tar.xz archive ({})",
            tar.stderr.trim()
        );
    }
    check_listing(&tar.stdout, version)
}

/// One member of `tar -tv`'s listing: its type letter, size, name and link target.
fn listing_entry(line: &str) -> Option<(char, u64, &str, Option<&str>)> {
    // `-rw-r--r-- user/group 1234 2024-10-07 05:13 NAME`, `... NAME -> TARGET` for a symbolic
    // link, `... NAME link to TARGET` for a hard one.
    let mut rest = line;
    let mut fields = Vec::new();
    for _ in 0..5 {
        rest = rest.trim_start();
        let end = rest.find(char::is_whitespace)?;
        fields.push(&rest[..end]);
        rest = &rest[end..];
    }
    let name_part = rest.strip_prefix(' ')?;
    let kind = fields[0].chars().next()?;
    let size = fields[2].parse().unwrap_or(u64::MAX);
    let (name, target) = match kind {
        'l' => name_part
            .split_once(" -> ")
            .map_or((name_part, None), |(n, t)| (n, Some(t))),
        'h' => name_part
            .split_once(" link to ")
            .map_or((name_part, None), |(n, t)| (n, Some(t))),
        _ => (name_part, None),
    };
    Some((kind, size, name, target))
}

/// Whether a relative path stays inside its folder (no `..` climbing above it, not absolute).
fn stays_inside(path: &str) -> bool {
    if path.starts_with('/') {
        return false;
    }
    let mut depth = 0i64;
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => depth -= 1,
            _ => depth += 1,
        }
        if depth < 0 {
            return false;
        }
    }
    true
}

/// The members of a source tarball's listing, checked (see [`verify_tarball`]).
fn check_listing(listing: &str, version: &str) -> Result<()> {
    let top = format!("Python-{version}/");
    let mut expanded: u64 = 0;
    let mut has_configure = false;
    for line in listing.lines().filter(|l| !l.trim().is_empty()) {
        let (kind, size, name, target) = listing_entry(line)
            .with_context(|| format!("tar listed `{line}`, which is no member"))?;
        let Some(inside) = name
            .strip_prefix(&top)
            .or((name == top.trim_end_matches('/')).then_some(""))
        else {
            bail!("the archive holds `{name}`, outside `{top}`");
        };
        if inside.starts_with('/') || !stays_inside(inside) {
            bail!("the archive holds `{name}`, which would be extracted outside its folder");
        }
        match (kind, target) {
            ('-' | 'd', None) => {}
            ('l', Some(target)) => {
                let folder = inside.rsplit_once('/').map_or("", |(folder, _)| folder);
                if target.starts_with('/') || !stays_inside(&format!("{folder}/{target}")) {
                    bail!("the archive holds a link `{name}` to `{target}`, outside its folder");
                }
            }
            ('h', Some(target)) => {
                if !target.strip_prefix(&top).is_some_and(stays_inside) {
                    bail!(
                        "the archive holds a hard link `{name}` to `{target}`, outside its folder"
                    );
                }
            }
            _ => bail!("the archive holds `{name}`, which is not a file, folder or link"),
        }
        expanded = expanded.saturating_add(size);
        if expanded > MAX_EXPANDED_BYTES {
            bail!(
                "the archive unpacks to more than {} MB: no CPython release does (an xz bomb?)",
                MAX_EXPANDED_BYTES >> 20
            );
        }
        has_configure |= inside == "configure";
    }
    if !has_configure {
        bail!("the archive has no `{top}configure`");
    }
    Ok(())
}

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
    let status = private_apt(apt, "apt-get")
        .args(["-qq", "update"])
        .status()
        .context("failed to run apt-get")?;
    if !status.success() {
        bail!("apt-get update with ftbench's private sources list failed ({status})");
    }
    let output = private_apt(apt, "apt-cache")
        .args(["showsrc", "--only-source", &format!("python{series}")])
        .output()
        .context("failed to run apt-cache")?;
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
        bail!("Debian has no source package python{series}");
    }
    Ok(versions)
}

/// Debian's archive carries CPython's pristine tarball in its source packages. A private apt
/// configuration under the cache reads only our own sources list, so `/etc/apt` stays untouched.
fn download_debian(series: &str, request: &VersionRequest, printer: &Printer) -> Result<()> {
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
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.to_string_lossy().ends_with(".orig.tar.xz"));
        if let Some(orig) = orig {
            let target = source_cache().join(format!("Python-{upstream}.tar.xz"));
            fs_err::copy(&orig, &target)?;
            return Ok(());
        }
    }
    bail!(
        "none of Debian's python{series} versions ({}) could be downloaded",
        versions.join(", ")
    )
}

/// The Debian archive this machine's apt already uses (one-line or deb822 format; only the
/// files apt itself reads), else Debian's own redirector.
fn debian_archive_uri() -> String {
    let mut files = vec![PathBuf::from("/etc/apt/sources.list")];
    if let Ok(entries) = fs_err::read_dir("/etc/apt/sources.list.d") {
        let mut extra: Vec<PathBuf> = entries
            .filter_map(Result::ok)
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

fn check_build_deps(install: bool, printer: &Printer) -> Result<()> {
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
        bail!(
            "missing build dependencies: {}\n  install them with: apt-get install {}\n  or rerun with --install-build-deps (as root)",
            missing.join(" "),
            missing.join(" ")
        );
    }
    printer.info(&format!(
        "Installing build dependencies: {}",
        missing.join(" ")
    ));
    let status = Command::new("apt-get")
        .args(["-qq", "update"])
        .status()
        .context("failed to run apt-get")?;
    if !status.success() {
        bail!("apt-get update failed ({status})");
    }
    let status = Command::new("apt-get")
        .env("DEBIAN_FRONTEND", "noninteractive")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(&missing)
        .status()
        .context("failed to run apt-get")?;
    if !status.success() {
        bail!("apt-get install {} failed ({status})", missing.join(" "));
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
    let info = query::query(&python, GilMode::Default)
        .with_context(|| format!("the freshly built {} does not run", python.display()))?;
    if info.free_threaded != request.free_threaded {
        bail!(
            "{} was built but reports free_threaded={}",
            python.display(),
            info.free_threaded
        );
    }
    Ok(python)
}

fn build(
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
        let status = match crate::process::run_stoppable(&mut command, || Ok(()))
            .with_context(|| format!("failed to start the {what} step of cpython-{tag}"))
        {
            Ok(status) => status,
            Err(err) => {
                spinner.finish_and_clear();
                let _ = fs_err::remove_dir_all(&prefix);
                return Err(err);
            }
        };
        if !status.success() {
            spinner.finish_and_clear();
            let text = fs_err::read_to_string(&log_path).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(25).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            // The half-built prefix would be mistaken for nothing useful; remove it, keep the log.
            let _ = fs_err::remove_dir_all(&prefix);
            bail!(
                "building cpython-{tag} failed while {what} ({status}); the full log is kept at {}\n{}",
                log_path.display(),
                tail.join("\n")
            );
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
        .with_context(|| format!("failed to run pip in {}", python.display()))?;
    if !output.status.success() {
        bail!(
            "pip could not install {} into {}: {}",
            requirements.join(" "),
            python.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// Give a variant numpy: if its interpreter lacks it, create (once) a venv for it in the cache,
/// keyed on the interpreter's identity as pyperformance does, install numpy there, and run the
/// variant from the venv.
pub fn attach_numpy_venv(variant: &mut super::Variant, printer: &Printer) -> Result<()> {
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
            .with_context(|| {
                format!(
                    "failed to run {} -m venv",
                    variant.interpreter.path.display()
                )
            })?;
        if !output.status.success() {
            let _ = fs_err::remove_dir_all(&venv);
            bail!(
                "{} -m venv {} failed: {}",
                variant.interpreter.path.display(),
                venv.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
    }
    let mut venv_info = query::query(&python, GilMode::Default)?;
    if venv_info.numpy.is_none() {
        install_packages(&python, &["numpy".to_string()], printer)?;
        venv_info = query::query(&python, GilMode::Default)?;
    }
    variant.run_path = python;
    variant.interpreter.info.numpy = venv_info.numpy;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_pages_list_only_release_folders_that_answer_the_request() {
        // python.org's index (nginx), Apache's and Python's http.server write links differently.
        let index = r#"<a href="../">../</a>
<a href="3.13.15/">3.13.15/</a>   01-Jan-2026
<a href="3.13.2/">3.13.2/</a>
<a href="3.13.15/">3.13.15/</a>
<a href="3.14.0/">3.14.0/</a> <a href="3.13.0a1/">3.13.0a1/</a>
<a href="3.13.3">3.13.3</a> <a href="Python-3.13.1.tar.xz">x</a> <a href="win32/">w</a>"#;
        let request = VersionRequest::parse("3.13t").unwrap();
        assert_eq!(
            listed_versions(index, &request),
            ["3.13.15", "3.13.2", "3.13.3"]
        );
        let exact = VersionRequest::parse("3.14.0").unwrap();
        assert_eq!(listed_versions(index, &exact), ["3.14.0"]);
        // Parsed strictly: `+7`, `07777`, an empty part are no version numbers.
        let hostile =
            r#"<a href="3.13.+7/">x</a><a href="3.13.77777/">x</a><a href="3.13./">x</a>"#;
        assert!(listed_versions(hostile, &request).is_empty());
        assert_eq!(tarball_version(Path::new("Python-3.13.+7.tar.xz")), None);
        assert_eq!(
            tarball_version(Path::new("Python-3.13.7.tar.xz")).as_deref(),
            Some("3.13.7")
        );
    }

    /// `tar -tv` lines for the members named, as GNU tar writes them.
    fn listing(members: &[(&str, u64, &str)]) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        for (mode, size, name) in members {
            let _ = writeln!(out, "{mode} user/group {size:>8} 2026-01-01 00:00 {name}");
        }
        out
    }

    #[test]
    fn members_that_would_land_outside_the_folder_are_refused() {
        let ok = [
            ("drwxr-xr-x", 0, "Python-3.13.9/"),
            ("-rwxr-xr-x", 1000, "Python-3.13.9/configure"),
            ("-rw-r--r--", 10, "Python-3.13.9/Doc/a file with spaces.txt"),
            ("lrwxrwxrwx", 0, "Python-3.13.9/Lib/link -> ../configure"),
            (
                "hrw-r--r--",
                0,
                "Python-3.13.9/copy link to Python-3.13.9/configure",
            ),
        ];
        check_listing(&listing(&ok), "3.13.9").unwrap();
        let refused = |member: (&str, u64, &str)| {
            let mut members = ok.to_vec();
            members.push(member);
            format!(
                "{:#}",
                check_listing(&listing(&members), "3.13.9").unwrap_err()
            )
        };
        for (member, says) in [
            (
                ("-rw-r--r--", 5, "Python-3.13.9//tmp/victim/target.txt"),
                "outside its folder",
            ),
            (
                ("-rw-r--r--", 5, "Python-3.13.9/../../etc/passwd"),
                "outside its folder",
            ),
            (
                ("-rw-r--r--", 5, "Python-3.13.9/a/../../x"),
                "outside its folder",
            ),
            (("-rw-r--r--", 5, "Other-1.0/x"), "outside `Python-3.13.9/`"),
            (
                ("lrwxrwxrwx", 0, "Python-3.13.9/l -> /etc"),
                "outside its folder",
            ),
            (
                ("lrwxrwxrwx", 0, "Python-3.13.9/Lib/l -> ../../x"),
                "outside its folder",
            ),
            (
                ("hrw-r--r--", 0, "Python-3.13.9/h link to /etc/shadow"),
                "outside its folder",
            ),
            (
                ("crw-rw-rw-", 0, "Python-3.13.9/dev"),
                "not a file, folder or link",
            ),
            (
                ("prw-r--r--", 0, "Python-3.13.9/fifo"),
                "not a file, folder or link",
            ),
            (
                ("-rw-r--r--", 4 << 30, "Python-3.13.9/zeros"),
                "more than 1024 MB",
            ),
        ] {
            let error = refused(member);
            assert!(error.contains(says), "{member:?}: {error}");
        }
        let no_configure = listing(&[("-rw-r--r--", 1, "Python-3.13.9/README")]);
        assert!(check_listing(&no_configure, "3.13.9").is_err());
    }

    #[test]
    fn only_a_whole_python_source_archive_passes_verification() {
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("Python-3.13.9");
        fs_err::create_dir_all(&tree).unwrap();
        fs_err::write(tree.join("configure"), "#!/bin/sh\n").unwrap();
        let tar = |name: &str, args: &[&str]| {
            let path = dir.path().join(name);
            let status = Command::new("tar")
                .arg("-cJf")
                .arg(&path)
                .arg("-C")
                .arg(dir.path())
                .args(args)
                .status()
                .unwrap();
            assert!(status.success());
            path
        };
        let good = tar("good.tar.xz", &["Python-3.13.9"]);
        verify_tarball(&good, "3.13.9").unwrap();
        let error = |path: &Path, version: &str| {
            format!("{:#}", verify_tarball(path, version).unwrap_err())
        };
        assert!(error(&good, "3.13.8").contains("outside `Python-3.13.8/`"));
        let bytes = fs_err::read(&good).unwrap();
        let cut = dir.path().join("cut.tar.xz");
        fs_err::write(&cut, &bytes[..bytes.len() - 8]).unwrap();
        assert!(error(&cut, "3.13.9").contains("not a complete .tar.xz archive"));
        let page = dir.path().join("page.tar.xz");
        fs_err::write(&page, "<html>404</html>").unwrap();
        assert!(error(&page, "3.13.9").contains("not a complete .tar.xz archive"));
        fs_err::remove_file(tree.join("configure")).unwrap();
        fs_err::write(tree.join("README"), "").unwrap();
        let hollow = tar("hollow.tar.xz", &["Python-3.13.9"]);
        assert!(error(&hollow, "3.13.9").contains("has no `Python-3.13.9/configure`"));
    }
}
