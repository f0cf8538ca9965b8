//! The source tarball: `--source`, the cache, python.org or a mirror (verified before it enters
//! the cache), else Debian's source package.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::debian::download_debian;
use super::error::{Archive, Error, Result};
use super::record::{
    InstallOptions, is_version_number, source_cache, tarball_version, version_array, version_key,
};
use crate::interpreter::spec::VersionRequest;
use crate::output::Printer;

/// The tarball to build `request` from: `--source`, a verified cached download, a mirror's or
/// python.org's release, else Debian's.
pub(super) fn find_tarball(
    request: &VersionRequest,
    options: &InstallOptions,
    printer: &Printer,
) -> Result<PathBuf> {
    if let Some(source) = &options.source {
        if !source.is_file() {
            return Err(Error::MissingSource(source.clone()));
        }
        return Ok(source.clone());
    }
    let cached = || -> Option<PathBuf> {
        let mut found: Vec<(Vec<u32>, PathBuf)> = fs_err::read_dir(source_cache())
            .ok()?
            .filter_map(std::result::Result::ok)
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
            Err(err) if err.is_stop() => return Err(err),
            Err(err) => {
                printer.warn(&format!(
                    "removing the cached source {}: {}",
                    path.display(),
                    err.chain()
                ));
                fs_err::remove_file(&path)?;
            }
        }
    }
    fs_err::create_dir_all(source_cache())?;
    let series = format!("{}.{}", request.parts[0], request.parts[1]);
    if let Some(mirror) = &options.mirror {
        return download_listed(mirror, request, printer).map_err(|err| match err {
            Error::Stopped(_) => err,
            err => Error::Mirror {
                series,
                mirror: mirror.clone(),
                cause: Box::new(err),
            },
        });
    }
    match download_listed(PYTHON_ORG, request, printer) {
        Ok(path) => return Ok(path),
        Err(err) if err.is_stop() => return Err(err),
        Err(err) => printer.info(&format!(
            "python.org is out of reach ({}); trying Debian's source package",
            err.chain()
        )),
    }
    download_debian(&series, request, printer)?;
    cached().ok_or_else(|| Error::NoSource {
        series,
        cache: source_cache(),
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
        let curl = crate::process::run_captured(&mut command, &crate::interrupt::requested, |_| {
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
        .map_err(|err| Error::of_process(err, "curl"))?;
        if !curl.status.success() {
            let said = curl.stderr.trim().to_string();
            let url = url.to_string();
            return Err(match curl.status.code() {
                Some(28) => Error::Stalled {
                    url,
                    bytes_per_second: STALL_BYTES_PER_SECOND,
                    seconds: STALL_SECONDS,
                    said,
                },
                Some(63) => Error::TooLarge {
                    url,
                    limit_mb: limit >> 20,
                },
                _ => Error::Download { url, said },
            });
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
        return Err(Error::NotAUrl(base.to_string()));
    }
    fs_err::create_dir_all(source_cache())?;
    let index_path = source_cache().join(format!("index-{}.partial", std::process::id()));
    fetch(&format!("{base}/"), &index_path, MAX_INDEX_BYTES, None)?;
    let index = String::from_utf8_lossy(&fs_err::read(&index_path)?).into_owned();
    let _ = fs_err::remove_file(&index_path);
    let mut versions = listed_versions(&index, request);
    if versions.is_empty() {
        return Err(Error::NothingListed(base.to_string()));
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
                if err.is_stop() {
                    return Err(err);
                }
                // A listed version without its tarball (pre-releases, a half-synced mirror):
                // try the next one, and say what went wrong if none works.
                failures.push(format!("{version}: {}", err.chain()));
            }
        }
    }
    Err(Error::NoListedRelease(failures))
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
        .map_err(|err| Error::Run {
            program: "sha256sum".to_string(),
            cause: err.into(),
        })?;
    let actual = String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if actual != published {
        return Err(Error::Checksum {
            actual,
            published,
            url: url.to_string(),
        });
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
    let tar = crate::process::run_captured(&mut command, &crate::interrupt::requested, |listed| {
        // A listing this long is no CPython (its has ~5000 members).
        if listed > 64 << 20 {
            return Err("the archive lists more members than any CPython release".to_string());
        }
        Ok(())
    })
    .map_err(|err| Error::of_process(err, "tar"))?;
    if !tar.status.success() {
        return Err(Archive::Incomplete(tar.stderr.trim().to_string()).into());
    }
    Ok(check_listing(&tar.stdout, version)?)
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
fn check_listing(listing: &str, version: &str) -> std::result::Result<(), Archive> {
    let top = format!("Python-{version}/");
    let mut expanded: u64 = 0;
    let mut has_configure = false;
    for line in listing.lines().filter(|l| !l.trim().is_empty()) {
        let (kind, size, name, target) =
            listing_entry(line).ok_or_else(|| Archive::Unreadable(line.to_string()))?;
        let Some(inside) = name
            .strip_prefix(&top)
            .or((name == top.trim_end_matches('/')).then_some(""))
        else {
            return Err(Archive::OutsideTop {
                name: name.to_string(),
                top,
            });
        };
        if inside.starts_with('/') || !stays_inside(inside) {
            return Err(Archive::Escapes(name.to_string()));
        }
        match (kind, target) {
            ('-' | 'd', None) => {}
            ('l', Some(target)) => {
                let folder = inside.rsplit_once('/').map_or("", |(folder, _)| folder);
                if target.starts_with('/') || !stays_inside(&format!("{folder}/{target}")) {
                    return Err(Archive::LinkOut {
                        name: name.to_string(),
                        target: target.to_string(),
                    });
                }
            }
            ('h', Some(target)) => {
                if !target.strip_prefix(&top).is_some_and(stays_inside) {
                    return Err(Archive::HardLinkOut {
                        name: name.to_string(),
                        target: target.to_string(),
                    });
                }
            }
            _ => return Err(Archive::NotAFile(name.to_string())),
        }
        expanded = expanded.saturating_add(size);
        if expanded > MAX_EXPANDED_BYTES {
            return Err(Archive::Bomb(MAX_EXPANDED_BYTES >> 20));
        }
        has_configure |= inside == "configure";
    }
    if !has_configure {
        return Err(Archive::NoConfigure(top));
    }
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
