use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use crate::common::{ftbench, temp};
use crate::require;

/// The CPython source tarball the tests build from: `FTBENCH_TEST_CPYTHON_TARBALL`, set by
/// scripts/test.sh (required in CI).
fn cpython_tarball() -> Option<PathBuf> {
    let found = std::env::var_os("FTBENCH_TEST_CPYTHON_TARBALL").map(PathBuf::from);
    if let Some(path) = &found {
        assert!(path.is_file(), "{} is not a file", path.display());
    } else {
        crate::common::skip(
            "no CPython tarball: FTBENCH_TEST_CPYTHON_TARBALL is not set (run scripts/test.sh)",
        );
    }
    found
}

/// A python.org-layout mirror on 127.0.0.1 serving `root`: `GET /ftp/python/` is a directory
/// index of the version folders, `GET /ftp/python/V/FILE` a file, anything else 404. Returns the
/// mirror's URL; the server thread lives as long as the test process.
fn serve_mirror(root: &Path) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().unwrap().port();
    let root = root.to_path_buf();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut line = String::new();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            // Read the headers to their end, so that the client is not reset.
            let mut header = String::new();
            while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                header.clear();
            }
            let path = line.split_whitespace().nth(1).unwrap_or("/");
            let body = match path.strip_prefix("/ftp/python/") {
                Some("") => {
                    let mut names: Vec<String> = fs_err::read_dir(&root)
                        .unwrap()
                        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                        .collect();
                    names.sort();
                    let links = names.iter().fold(String::new(), |mut links, n| {
                        let _ = writeln!(links, "<a href=\"{n}/\">{n}/</a>");
                        links
                    });
                    Some(format!("<html><body><pre>\n<a href=\"../\">../</a>\n{links}</pre></body></html>").into_bytes())
                }
                Some(rest) if !rest.contains("..") => fs_err::read(root.join(rest)).ok(),
                _ => None,
            };
            let _ = match body {
                Some(body) => stream
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .as_bytes(),
                    )
                    .and_then(|()| stream.write_all(&body)),
                None => stream.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                ),
            };
        }
    });
    format!("http://127.0.0.1:{port}/ftp/python/")
}

#[test]
fn python_install_downloads_verifies_and_builds_from_a_mirror() {
    let tarball = require!(cpython_tarball());
    let name = tarball.file_name().unwrap().to_string_lossy().into_owned();
    let version = name
        .strip_prefix("Python-")
        .and_then(|n| n.strip_suffix(".tar.xz"))
        .unwrap()
        .to_string();
    let dir = temp();
    let d = dir.path();
    let mirror = d.join("mirror");
    fs_err::create_dir_all(mirror.join(&version)).unwrap();
    fs_err::copy(&tarball, mirror.join(&version).join(&name)).unwrap();
    // A newer release whose tarball was cut short in transfer: listed first, refused by the
    // verification, and the next release is taken.
    let broken = "3.13.99";
    fs_err::create_dir_all(mirror.join(broken)).unwrap();
    let bytes = fs_err::read(&tarball).unwrap();
    fs_err::write(
        mirror.join(broken).join(format!("Python-{broken}.tar.xz")),
        &bytes[..bytes.len() / 3],
    )
    .unwrap();
    // A release folder without its tarball (pre-release folders on python.org look like this).
    fs_err::create_dir_all(mirror.join("3.13.98")).unwrap();
    let url = serve_mirror(&mirror);

    let output = ftbench(d)
        .env("FTBENCH_HOME", d.join("home"))
        .env("FTBENCH_PYTHON_MIRROR", &url)
        .args(["python", "install", "3.13", "--frame-pointers"])
        .timeout(std::time::Duration::from_secs(1200))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("Downloading {url}{broken}/Python-{broken}.tar.xz")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("Downloading {url}{version}/{name}")),
        "{stderr}"
    );
    let python = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    assert!(python.starts_with(d.join("home")), "{}", python.display());
    let printed = std::process::Command::new(&python)
        .args(["-c", "import sys; print(sys.version.split()[0])"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&printed.stdout).trim(), version);
    // Built with frame pointers, into its own prefix, and `pythons` says so.
    assert!(
        python
            .to_string_lossy()
            .contains(&format!("cpython-{version}-fp/")),
        "{}",
        python.display()
    );
    let pythons = ftbench(d)
        .env("FTBENCH_HOME", d.join("home"))
        .arg("pythons")
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&pythons.stdout);
    let line = listed
        .lines()
        .find(|l| l.contains(&*python.to_string_lossy()))
        .unwrap_or_else(|| panic!("{listed}"));
    assert!(line.contains("frame pointers"), "{line}");
    // A profile on it walks the frame pointers: whole Python stacks, the worker's own frames
    // above the user's function (DWARF unwinding stops at the innermost Python function).
    let target = format!(
        "{}:aggregate",
        crate::common::example("aggregate.py").display()
    );
    let output = ftbench(d)
        .env("FTBENCH_HOME", d.join("home"))
        .args([
            "scale",
            &target,
            "--quick",
            "--threads",
            "1,2",
            "--no-store",
        ])
        .args(["--no-report", "-o", "fp.json", "--profile", "--python"])
        .arg(format!("fp={}", python.display()))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let results = crate::common::read_json(&d.join("fp.json"));
    let profile = &results["profiles"][0];
    assert_eq!(profile["call_graph"], "frame pointers", "{profile}");
    let svg = fs_err::read_to_string(d.join(profile["file"].as_str().unwrap())).unwrap();
    assert!(svg.contains("py::aggregate:"));
    assert!(svg.contains("py::Team._body:"), "no outer Python frame");
    // Only the verified tarball entered the cache.
    let cached: Vec<String> = fs_err::read_dir(d.join("cache/src"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(cached, vec![name]);
}

#[test]
fn a_mirror_that_fails_gets_one_clear_error_naming_it() {
    let dir = temp();
    let d = dir.path();
    let mirror = d.join("mirror");
    fs_err::create_dir_all(mirror.join("3.13.7")).unwrap();
    // A tarball that is an HTML error page, as some proxies send with status 200.
    fs_err::write(
        mirror.join("3.13.7/Python-3.13.7.tar.xz"),
        "<html>Access denied</html>",
    )
    .unwrap();
    let url = serve_mirror(&mirror);
    for (request, expected) in [
        ("3.13", "not a complete .tar.xz archive"),
        ("3.12", "lists no release that answers the request"),
    ] {
        let output = ftbench(d)
            .env("FTBENCH_HOME", d.join("home"))
            .args(["python", "install", request, "--mirror", &url])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success());
        assert!(stderr.contains(&format!("the mirror `{url}`")), "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!stderr.contains("Debian"), "{stderr}");
    }
    let output = ftbench(d)
        .env("FTBENCH_HOME", d.join("home"))
        .args([
            "python",
            "install",
            "3.13",
            "--mirror",
            "ftp://example.org/",
        ])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("is not an http(s):// or file:// URL")
    );
}

/// A hostile mirror on 127.0.0.1: each request's path goes to `answer`, on a thread of its own,
/// with the stream to write to. Returns the mirror's URL.
fn serve_hostile(
    answer: impl Fn(&str, &mut std::net::TcpStream) + Send + Sync + 'static,
) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().unwrap().port();
    let answer = std::sync::Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let answer = std::sync::Arc::clone(&answer);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    return;
                }
                let mut header = String::new();
                while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                    header.clear();
                }
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                answer(&path, &mut stream);
            });
        }
    });
    format!("http://127.0.0.1:{port}/ftp/python/")
}

fn respond(stream: &mut std::net::TcpStream, body: &[u8]) {
    let _ = stream
        .write_all(
            format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        )
        .and_then(|()| stream.write_all(body));
}

fn not_found(stream: &mut std::net::TcpStream) {
    let _ = stream
        .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
}

/// An index page listing one release folder.
fn index_of(version: &str) -> Vec<u8> {
    format!("<html><pre><a href=\"{version}/\">{version}/</a></pre></html>").into_bytes()
}

/// A `.tar.xz` built by Python's tarfile with `members` (name, content; a name ending in `/` is
/// a folder), for archives `tar` itself would not write.
fn crafted_tarball(dir: &Path, file: &str, members: &[(&str, &str)]) -> Vec<u8> {
    let script = format!(
        "import io, sys, tarfile\nwith tarfile.open(sys.argv[1], 'w:xz') as t:\n    for name, body in {members:?}:\n        info = tarfile.TarInfo(name)\n        if name.endswith('/'):\n            info.type = tarfile.DIRTYPE\n            t.addfile(info)\n        else:\n            data = body.encode()\n            info.size = len(data)\n            t.addfile(info, io.BytesIO(data))\n"
    );
    let path = dir.join(file);
    let status = std::process::Command::new("python3")
        .args(["-c", &script])
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    fs_err::read(path).unwrap()
}

/// `ftbench python install VERSION --mirror URL` in a home of its own; (status, stderr).
fn install_from(d: &Path, url: &str, version: &str) -> (std::process::ExitStatus, String) {
    let output = ftbench(d)
        .env("FTBENCH_HOME", d.join("home"))
        .args(["python", "install", version, "--mirror", url])
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (output.status, stderr)
}

/// No file of the cache's source folder is a partial download or another leftover.
fn no_leftovers(d: &Path) {
    let src = d.join("cache/src");
    if let Ok(entries) = fs_err::read_dir(&src) {
        let names: Vec<String> = entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.is_empty(), "left in {}: {names:?}", src.display());
    }
}

/// A tarball member `Python-V//tmp/...` would be extracted to that absolute path: refused, and
/// nothing is written there.
#[test]
fn a_tarball_member_that_leads_outside_its_folder_is_refused_before_extraction() {
    let dir = temp();
    let d = dir.path();
    let victim = d.join("victim");
    let planted = format!("Python-3.13.89/{}/target.txt", victim.display());
    let tarball = crafted_tarball(
        d,
        "planted.tar.xz",
        &[
            ("Python-3.13.89/", ""),
            ("Python-3.13.89/configure", "#!/bin/sh\nexit 1\n"),
            (&planted, "overwritten by a mirror"),
        ],
    );
    let url = serve_hostile(move |path, stream| match path {
        "/ftp/python/" => respond(stream, &index_of("3.13.89")),
        "/ftp/python/3.13.89/Python-3.13.89.tar.xz" => respond(stream, &tarball),
        _ => not_found(stream),
    });
    let (status, stderr) = install_from(d, &url, "3.13.89");
    assert!(!status.success());
    assert!(
        stderr.contains("would be extracted outside its folder"),
        "{stderr}"
    );
    assert!(!victim.exists(), "the planted member was written");
    no_leftovers(d);
}

/// An endless index page, an endless tarball, a version listed as `3.13.+7/`: one clear error
/// each, memory and disk bounded, nothing cached.
#[test]
fn endless_pages_endless_tarballs_and_bad_versions_are_bounded_and_refused() {
    let dir = temp();
    let d = dir.path();
    let endless = |stream: &mut std::net::TcpStream| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
        let chunk = vec![b'<'; 1 << 16];
        // Bounded here too: 512 MB at most, or until ftbench hangs up.
        for _ in 0..8192 {
            if stream.write_all(&chunk).is_err() {
                return;
            }
        }
    };
    let index_url = serve_hostile(move |path, stream| match path {
        "/ftp/python/" => endless(stream),
        _ => not_found(stream),
    });
    let (status, stderr) = install_from(d, &index_url, "3.13");
    assert!(!status.success());
    assert!(stderr.contains("sent more than 4 MB"), "{stderr}");
    let tarball_url = serve_hostile(move |path, stream| match path {
        "/ftp/python/" => respond(stream, &index_of("3.13.88")),
        "/ftp/python/3.13.88/Python-3.13.88.tar.xz" => endless(stream),
        _ => not_found(stream),
    });
    let (status, stderr) = install_from(d, &tarball_url, "3.13.88");
    assert!(!status.success());
    assert!(stderr.contains("sent more than 256 MB"), "{stderr}");
    no_leftovers(d);
    let plus_url = serve_hostile(move |path, stream| match path {
        "/ftp/python/" => respond(stream, b"<a href=\"3.13.+7/\">3.13.+7/</a>"),
        _ => not_found(stream),
    });
    let (status, stderr) = install_from(d, &plus_url, "3.13");
    assert!(!status.success());
    assert!(
        stderr.contains("lists no release that answers the request"),
        "{stderr}"
    );
    no_leftovers(d);
}

/// A server that sends a byte every 2 s: the download is given up as stalled, with a message;
/// and SIGTERM during such a download ends ftbench and its curl at once, leaving nothing.
#[test]
fn a_dripping_server_stalls_the_download_and_sigterm_ends_it_and_its_children() {
    let dir = temp();
    let d = dir.path();
    let drip = |stream: &mut std::net::TcpStream| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n");
        for _ in 0..60 {
            if stream.write_all(b"x").is_err() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_secs(2));
        }
    };
    let url = serve_hostile(move |path, stream| match path {
        "/ftp/python/" => respond(stream, &index_of("3.13.87")),
        "/ftp/python/3.13.87/Python-3.13.87.tar.xz" => drip(stream),
        _ => not_found(stream),
    });
    let start = std::time::Instant::now();
    let (status, stderr) = install_from(d, &url, "3.13.87");
    assert!(!status.success());
    assert!(
        stderr.contains("stalled: less than 1024 bytes a second"),
        "{stderr}"
    );
    assert!(
        start.elapsed() < std::time::Duration::from_secs(60),
        "{:?}",
        start.elapsed()
    );
    no_leftovers(d);

    // SIGTERM in the middle of it.
    let mut child = crate::common::ftbench_process(d)
        .env("FTBENCH_HOME", d.join("home"))
        .args(["python", "install", "3.13.87", "--mirror", &url])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(3));
    let tarball = format!("{url}3.13.87/Python-3.13.87.tar.xz");
    let curl_running = || {
        std::process::Command::new("pgrep")
            .args(["-f", &tarball])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    assert!(curl_running(), "curl is downloading");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap()),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "ftbench did not stop");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(143));
    assert!(!curl_running(), "curl outlived ftbench");
    no_leftovers(d);
}

/// A mirror that publishes `Python-V.tar.xz.sha256`: a tarball whose SHA-256 differs is refused
/// (and nothing is cached); a cached tarball that no longer passes is removed, not built from.
#[test]
fn published_checksums_are_checked_and_bad_cached_sources_are_removed() {
    let dir = temp();
    let d = dir.path();
    let tarball = crafted_tarball(
        d,
        "good.tar.xz",
        &[
            ("Python-3.13.86/", ""),
            ("Python-3.13.86/configure", "#!/bin/sh\nexit 1\n"),
        ],
    );
    let url = serve_hostile(move |path, stream| match path {
        "/ftp/python/" => respond(stream, &index_of("3.13.86")),
        "/ftp/python/3.13.86/Python-3.13.86.tar.xz" => respond(stream, &tarball),
        "/ftp/python/3.13.86/Python-3.13.86.tar.xz.sha256" => respond(
            stream,
            format!("{}  Python-3.13.86.tar.xz\n", "ab".repeat(32)).as_bytes(),
        ),
        _ => not_found(stream),
    });
    let (status, stderr) = install_from(d, &url, "3.13.86");
    assert!(!status.success());
    assert!(stderr.contains("but the mirror publishes abab"), "{stderr}");
    no_leftovers(d);

    // A cached source that is not a CPython source folder: removed, with a warning, and the
    // mirror asked instead.
    let src = d.join("cache/src");
    fs_err::create_dir_all(&src).unwrap();
    fs_err::write(
        src.join("Python-3.13.85.tar.xz"),
        "<html>not a tarball</html>",
    )
    .unwrap();
    let (status, stderr) = install_from(d, &url, "3.13.85");
    assert!(!status.success());
    assert!(stderr.contains("removing the cached source"), "{stderr}");
    assert!(!src.join("Python-3.13.85.tar.xz").exists());
}
