//! Workers: one process of the interpreter under test per request, driven over the protocol.
//!
//! The runner talks to a [`Worker`]; [`PythonWorker`] runs real interpreters, and tests script
//! a fake one.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::interrupt;
use super::protocol::{self, PROTOCOL_VERSION, RawSample, Request, WorkerMessage};
use crate::interpreter::Variant;
use crate::workloads::ScriptDir;

/// What a worker said in its `hello`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hello {
    pub pid: u32,
    pub version: String,
    pub free_threaded: bool,
    pub gil_enabled: bool,
}

/// Everything a worker reported before `done`.
#[derive(Debug, Clone)]
pub struct WorkerOutput {
    pub hello: Hello,
    /// `(work_size, wall_ns)` from a calibration request.
    pub calibration: Option<(u64, u64)>,
    pub samples: Vec<RawSample>,
}

/// Why a worker gave no complete answer. Each variant keeps the evidence: exit status, the
/// offending line, the end of stderr.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to start `{}`", path.display())]
    Spawn {
        path: std::path::PathBuf,
        #[source]
        err: std::io::Error,
    },
    #[error("worker did not finish within {} s and was killed{}", deadline.as_secs(), tail(stderr))]
    Timeout { deadline: Duration, stderr: String },
    #[error(
        "worker exited with {status} after {samples} sample(s), before finishing{}",
        tail(stderr)
    )]
    Crashed {
        status: String,
        samples: usize,
        stderr: String,
    },
    #[error("worker speaks protocol {found}, this ftbench speaks {expected}")]
    ProtocolMismatch { expected: u32, found: u32 },
    #[error("worker broke the protocol: {err}{}", tail(stderr))]
    Protocol {
        err: protocol::ParseError,
        stderr: String,
    },
    #[error("worker sent `{what}` out of order")]
    OutOfOrder { what: String },
    #[error("missing dependency: {message}")]
    MissingDependency { message: String },
    #[error("the workload failed: {message}\n{traceback}")]
    Workload { message: String, traceback: String },
    #[error("interrupted")]
    Interrupted,
}

impl Error {
    /// A missing dependency skips a point instead of failing it.
    pub fn is_skip(&self) -> bool {
        matches!(self, Self::MissingDependency { .. })
    }
}

fn tail(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.trim_end().lines().collect();
    if lines.is_empty() {
        return String::new();
    }
    let start = lines.len().saturating_sub(8);
    format!("; its stderr ends with:\n  {}", lines[start..].join("\n  "))
}

/// Something that answers requests for a variant.
pub trait Worker {
    fn run(&mut self, variant: &Variant, request: &Request) -> Result<WorkerOutput, Error>;
}

/// Runs `worker.py` in the variant's interpreter, with a deadline.
#[derive(Debug)]
pub struct PythonWorker {
    scripts: ScriptDir,
    pub deadline: Duration,
}

impl PythonWorker {
    pub fn new(deadline: Duration) -> std::io::Result<Self> {
        Ok(Self {
            scripts: ScriptDir::create()?,
            deadline,
        })
    }
}

enum Event {
    Line(String),
    Closed,
}

impl Worker for PythonWorker {
    #[expect(
        clippy::too_many_lines,
        reason = "one read loop; split up, its kill and deadline paths would scatter"
    )]
    fn run(&mut self, variant: &Variant, request: &Request) -> Result<WorkerOutput, Error> {
        let mut command = variant.command(&self.scripts.worker());
        command
            .current_dir(self.scripts.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group: a terminal's Ctrl-C reaches ftbench alone, which then stops
            // the worker and everything it started (multiprocessing children) together.
            .process_group(0);
        let mut child = command.spawn().map_err(|err| Error::Spawn {
            path: variant.run_path.clone(),
            err,
        })?;
        let pid = i32::try_from(child.id()).expect("pids fit in i32");
        let kill = || {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        };
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let line = serde_json::to_string(request).expect("a request always serializes");
        // A worker that dies before reading its request is reported by its exit status below.
        let _ = writeln!(stdin, "{line}");
        drop(stdin);

        let (sender, events) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout is piped");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                match line {
                    Ok(line) => {
                        if sender.send(Event::Line(line)).is_err() {
                            return;
                        }
                    }
                    Err(_) => break,
                }
            }
            let _ = sender.send(Event::Closed);
        });
        let mut stderr_pipe = child.stderr.take().expect("stderr is piped");
        let stderr_thread = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = std::io::Read::read_to_end(&mut stderr_pipe, &mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        });
        let stderr = |child: &mut std::process::Child| {
            let _ = child.wait();
            // Orphaned pool children would hold the pipes open; the group goes with its leader.
            kill();
            stderr_thread.join().unwrap_or_default()
        };

        let start = Instant::now();
        let mut hello: Option<Hello> = None;
        let mut calibration = None;
        let mut samples = Vec::new();
        let outcome: Result<(), Error> = loop {
            if interrupt::requested().is_some() {
                kill();
                break Err(Error::Interrupted);
            }
            if start.elapsed() > self.deadline {
                kill();
                break Err(Error::Timeout {
                    deadline: self.deadline,
                    stderr: String::new(),
                });
            }
            let event = match events.recv_timeout(Duration::from_millis(20)) {
                Ok(event) => event,
                Err(mpsc::RecvTimeoutError::Timeout) => continue,
                Err(mpsc::RecvTimeoutError::Disconnected) => Event::Closed,
            };
            let line = match event {
                Event::Line(line) => line,
                Event::Closed => {
                    break Err(Error::Crashed {
                        status: String::new(),
                        samples: samples.len(),
                        stderr: String::new(),
                    });
                }
            };
            let message = match protocol::parse_line(&line) {
                Ok(message) => message,
                Err(err) => {
                    kill();
                    break Err(Error::Protocol {
                        err,
                        stderr: String::new(),
                    });
                }
            };
            match (message, hello.is_some()) {
                (
                    WorkerMessage::Hello {
                        protocol,
                        pid,
                        version,
                        free_threaded,
                        gil_enabled,
                    },
                    false,
                ) => {
                    if protocol != PROTOCOL_VERSION {
                        kill();
                        break Err(Error::ProtocolMismatch {
                            expected: PROTOCOL_VERSION,
                            found: protocol,
                        });
                    }
                    hello = Some(Hello {
                        pid,
                        version,
                        free_threaded,
                        gil_enabled,
                    });
                }
                (WorkerMessage::Calibration { work_size, wall_ns }, true) => {
                    calibration = Some((work_size, wall_ns));
                }
                (WorkerMessage::Sample(sample), true) => samples.push(sample),
                (
                    WorkerMessage::Error {
                        kind,
                        message,
                        traceback,
                    },
                    true,
                ) => {
                    kill();
                    break Err(if kind == "missing_dependency" {
                        Error::MissingDependency { message }
                    } else {
                        Error::Workload { message, traceback }
                    });
                }
                (WorkerMessage::Done, true) => break Ok(()),
                (other, _) => {
                    kill();
                    let what = serde_json::to_value(&other)
                        .ok()
                        .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_string))
                        .unwrap_or_default();
                    break Err(Error::OutOfOrder { what });
                }
            }
        };
        match outcome {
            Ok(()) => {
                let status = child.wait().ok();
                let text = stderr(&mut child);
                match status {
                    Some(status) if status.success() => Ok(WorkerOutput {
                        hello: hello.expect("done comes after hello"),
                        calibration,
                        samples,
                    }),
                    status => Err(Error::Crashed {
                        status: status.map_or_else(|| "unknown status".into(), |s| s.to_string()),
                        samples: samples.len(),
                        stderr: text,
                    }),
                }
            }
            Err(Error::Crashed { samples, .. }) => {
                // stdout closed early: wait a moment for the exit status, then report it.
                let status = wait_briefly(&mut child);
                if status.is_none() {
                    kill();
                }
                let text = stderr(&mut child);
                Err(Error::Crashed {
                    status: status.map_or_else(|| "no exit status".into(), |s| s.to_string()),
                    samples,
                    stderr: text,
                })
            }
            Err(Error::Timeout { deadline, .. }) => Err(Error::Timeout {
                deadline,
                stderr: stderr(&mut child),
            }),
            Err(Error::Protocol { err, .. }) => Err(Error::Protocol {
                err,
                stderr: stderr(&mut child),
            }),
            Err(other) => {
                let _ = stderr(&mut child);
                Err(other)
            }
        }
    }
}

fn wait_briefly(child: &mut std::process::Child) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}
