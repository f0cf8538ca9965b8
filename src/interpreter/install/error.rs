//! Why `ftbench python install` failed: one variant per thing that can go wrong, each naming
//! what it is about (the request, the URL, the tarball, the build step and its log). A stop
//! request (Ctrl-C, SIGTERM) is its own variant, so that the command can exit as the signal
//! asks instead of reporting a failure.

use std::path::PathBuf;
use std::process::ExitStatus;

use crate::process::Stopped;

/// An error of some other part of ftbench (a child process, the interpreter query) kept as the
/// cause of an install error.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

pub type Result<T> = std::result::Result<T, Error>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "cannot install `{0}`: expected a CPython 3 version such as `3.13`, `3.13t` or `3.13.15t`"
    )]
    Request(String),
    #[error("source tarball `{}` does not exist", .0.display())]
    MissingSource(PathBuf),
    #[error("`{}` is not named Python-X.Y.Z.tar.xz", .0.display())]
    TarballName(PathBuf),
    #[error("`{}` holds CPython {version}, which does not answer the request `{request}`", .path.display())]
    WrongRelease {
        path: PathBuf,
        version: String,
        request: String,
    },
    /// A program ftbench runs could not be started or watched (`curl`, `tar`, `apt-get`, pip).
    #[error("failed to run {program}")]
    Run {
        program: String,
        #[source]
        cause: Cause,
    },
    /// Ctrl-C or SIGTERM stopped the step in hand, with everything it started.
    #[error(transparent)]
    Stopped(Stopped),
    #[error("no CPython {series} source from the mirror `{mirror}`")]
    Mirror {
        series: String,
        mirror: String,
        #[source]
        cause: Box<Error>,
    },
    #[error(
        "no CPython {series} source could be downloaded; put an upstream Python-{series}.N.tar.xz into {} or pass --source",
        .cache.display()
    )]
    NoSource { series: String, cache: PathBuf },
    #[error("`{0}` is not an http(s):// or file:// URL")]
    NotAUrl(String),
    #[error("{0}/ lists no release that answers the request")]
    NothingListed(String),
    /// Every listed release failed: each version with why.
    #[error("no listed release could be downloaded: {}", .0.join("; "))]
    NoListedRelease(Vec<String>),
    #[error(
        "`{url}` stalled: less than {bytes_per_second} bytes a second for {seconds} s ({said})"
    )]
    Stalled {
        url: String,
        bytes_per_second: u32,
        seconds: u32,
        said: String,
    },
    #[error("`{url}` is larger than {limit_mb} MB: not a CPython source release")]
    TooLarge { url: String, limit_mb: u64 },
    #[error("downloading `{url}` failed: {said}")]
    Download { url: String, said: String },
    #[error("its SHA-256 is {actual}, but the mirror publishes {published} ({url}.sha256)")]
    Checksum {
        actual: String,
        published: String,
        url: String,
    },
    /// The download is no CPython source archive, or one that would unpack outside its folder.
    #[error(transparent)]
    Archive(#[from] Archive),
    #[error("apt-get update with ftbench's private sources list failed ({0})")]
    AptUpdate(ExitStatus),
    #[error("Debian has no source package python{0}")]
    NoDebianPackage(String),
    #[error("none of Debian's python{series} versions ({}) could be downloaded", .versions.join(", "))]
    NoDebianDownload {
        series: String,
        versions: Vec<String>,
    },
    #[error(
        "missing build dependencies: {}\n  install them with: apt-get install {}\n  or rerun with --install-build-deps (as root)",
        .0.join(" "),
        .0.join(" ")
    )]
    MissingBuildDeps(Vec<String>),
    /// `apt-get update` or `apt-get install ...` for the build dependencies.
    #[error("{command} failed ({status})")]
    Apt { command: String, status: ExitStatus },
    #[error("failed to start the {step} step of cpython-{tag}")]
    StepStart {
        tag: String,
        step: &'static str,
        #[source]
        cause: Cause,
    },
    #[error(
        "building cpython-{tag} failed while {step} ({status}); the full log is kept at {}\n{tail}",
        .log.display()
    )]
    Step {
        tag: String,
        step: &'static str,
        status: ExitStatus,
        log: PathBuf,
        /// The log's last lines.
        tail: String,
    },
    #[error("the freshly built {} does not run", .python.display())]
    DoesNotRun {
        python: PathBuf,
        #[source]
        cause: Cause,
    },
    #[error("{} was built but reports free_threaded={free_threaded}", .python.display())]
    WrongBuild {
        python: PathBuf,
        free_threaded: bool,
    },
    #[error("pip could not install {requirements} into {}: {stderr}", .python.display())]
    Pip {
        requirements: String,
        python: PathBuf,
        stderr: String,
    },
    #[error("{} -m venv {} failed: {stderr}", .interpreter.display(), .venv.display())]
    Venv {
        interpreter: PathBuf,
        venv: PathBuf,
        stderr: String,
    },
    /// The interpreter query of a venv failed (its own message says why).
    #[error(transparent)]
    Query(Cause),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

/// What makes a download no CPython source archive (see `source::verify_tarball`).
#[derive(Debug, thiserror::Error)]
pub enum Archive {
    #[error("the download is not a complete .tar.xz archive ({0})")]
    Incomplete(String),
    #[error("tar listed `{0}`, which is no member")]
    Unreadable(String),
    #[error("the archive holds `{name}`, outside `{top}`")]
    OutsideTop { name: String, top: String },
    #[error("the archive holds `{0}`, which would be extracted outside its folder")]
    Escapes(String),
    #[error("the archive holds a link `{name}` to `{target}`, outside its folder")]
    LinkOut { name: String, target: String },
    #[error("the archive holds a hard link `{name}` to `{target}`, outside its folder")]
    HardLinkOut { name: String, target: String },
    #[error("the archive holds `{0}`, which is not a file, folder or link")]
    NotAFile(String),
    #[error("the archive unpacks to more than {0} MB: no CPython release does (an xz bomb?)")]
    Bomb(u64),
    #[error("the archive has no `{0}configure`")]
    NoConfigure(String),
}

impl Error {
    /// A child process's failure: the stop request it carries, else `program` that could not
    /// run, with why.
    pub fn of_process(err: anyhow::Error, program: impl Into<String>) -> Self {
        match err.downcast::<Stopped>() {
            Ok(stopped) => Self::Stopped(stopped),
            Err(err) => Self::Run {
                program: program.into(),
                cause: err.into(),
            },
        }
    }

    /// Whether a stop request caused it.
    pub fn is_stop(&self) -> bool {
        matches!(self, Self::Stopped(_))
    }

    /// The message with each cause after it (`a: b: c`), as `{:#}` of an `anyhow` error says it.
    pub fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(next) = cause {
            text.push_str(": ");
            text.push_str(&next.to_string());
            cause = next.source();
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_request_stays_a_stop_and_other_failures_name_their_program() {
        let stop = Stopped::Signal(crate::interrupt::Stop::Terminate);
        let err = Error::of_process(anyhow::Error::new(stop), "curl");
        assert!(err.is_stop(), "{err:?}");
        let err = Error::of_process(
            anyhow::anyhow!("No such file or directory").context("spawning"),
            "curl",
        );
        assert!(!err.is_stop());
        assert_eq!(
            err.chain(),
            "failed to run curl: spawning: No such file or directory"
        );
    }

    #[test]
    fn a_mirror_failure_says_the_mirror_then_why() {
        let err = || Error::Mirror {
            series: "3.13".into(),
            mirror: "https://mirror.example/python".into(),
            cause: Box::new(Error::NoListedRelease(vec![
                "3.13.9: downloading `u` failed: 404".into(),
                "3.13.8: the archive has no `Python-3.13.8/configure`".into(),
            ])),
        };
        let said = "no CPython 3.13 source from the mirror `https://mirror.example/python`: no listed release could be downloaded: 3.13.9: downloading `u` failed: 404; 3.13.8: the archive has no `Python-3.13.8/configure`";
        assert_eq!(err().chain(), said);
        // What `main` prints of it (anyhow's chain) is the same.
        assert_eq!(format!("{:#}", anyhow::Error::from(err())), said);
    }
}
