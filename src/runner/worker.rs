//! Workers: one process of the interpreter under test per request, driven over the protocol.
//!
//! The runner talks to a [`Worker`]; [`PythonWorker`] runs real interpreters, and tests script
//! a fake one.

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::protocol::{self, PROTOCOL_VERSION, RawSample, Request, WorkerMessage};
use crate::interpreter::Variant;
use crate::process::{self, Pipe};
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
    #[error(
        "worker sent `done` but did not exit within {} s and was killed (does the code start a thread it never joins?){}",
        deadline.as_secs(),
        tail(stderr)
    )]
    NoExit { deadline: Duration, stderr: String },
    #[error("interrupted")]
    Interrupted,
}

impl Error {
    /// A missing dependency skips a point instead of failing it.
    pub fn is_skip(&self) -> bool {
        matches!(self, Self::MissingDependency { .. })
    }

    /// Attach the worker's stderr where the error keeps it.
    fn with_stderr(self, text: String) -> Self {
        match self {
            Self::Protocol { err, .. } => Self::Protocol { err, stderr: text },
            other => other,
        }
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

/// Something that answers requests for a variant. `stop` says whether the run was asked to
/// stop (the runner's [`super::host::Host`] answers it): a worker polls it while it waits, and
/// ends with [`Error::Interrupted`].
pub trait Worker {
    fn run(
        &mut self,
        variant: &Variant,
        request: &Request,
        stop: &dyn Fn() -> bool,
    ) -> Result<WorkerOutput, Error>;
}

/// Runs `worker.py` in the variant's interpreter, with a deadline.
#[derive(Debug)]
pub struct PythonWorker {
    scripts: ScriptDir,
    pub deadline: Duration,
    /// Run the worker under `perf record` (`--profile`, after the measurements).
    pub profile: Option<super::profile::Recording>,
}

impl PythonWorker {
    pub fn new(deadline: Duration) -> std::io::Result<Self> {
        Ok(Self {
            scripts: ScriptDir::create()?,
            deadline,
            profile: None,
        })
    }
}

enum Event {
    Line(String),
    Closed,
}

/// How a worker's conversation ended, before its process is collected.
enum Ending {
    /// It said `done`: it must now exit on its own, within the deadline.
    Done,
    /// stdout closed before `done`.
    Closed,
    /// Something it said ends the run (protocol error, refused request, workload failure).
    Refused(Error),
    TimedOut,
    Interrupted,
}

/// Hear the worker's lines until it says `done`, closes stdout, says something that ends the
/// run, runs past `until` or is asked to stop.
fn listen(
    events: &mpsc::Receiver<Event>,
    until: Instant,
    stop: &dyn Fn() -> bool,
) -> (Ending, Conversation) {
    let mut conversation = Conversation::default();
    let ending = loop {
        if stop() {
            break Ending::Interrupted;
        }
        if Instant::now() > until {
            break Ending::TimedOut;
        }
        let line = match events.recv_timeout(POLL) {
            Ok(Event::Line(line)) => line,
            Ok(Event::Closed) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                break Ending::Closed;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
        };
        match conversation.hear(&line) {
            Ok(false) => {}
            Ok(true) => break Ending::Done,
            Err(err) => break Ending::Refused(err),
        }
    };
    (ending, conversation)
}

impl Worker for PythonWorker {
    fn run(
        &mut self,
        variant: &Variant,
        request: &Request,
        stop: &dyn Fn() -> bool,
    ) -> Result<WorkerOutput, Error> {
        let mut command = variant.command(&self.scripts.worker());
        command.current_dir(self.scripts.path());
        if let Some(recording) = &self.profile {
            command = super::profile::wrap(&command, recording);
        }
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // Its own process group: a terminal's Ctrl-C reaches ftbench alone, which then stops the
        // worker and everything it started (multiprocessing children) together.
        process::detach_and_tie(&mut command);
        if self.profile.is_some() {
            // Under perf the worker's parent is perf, not ftbench: it must not take that for
            // ftbench having died. perf is in the process group and dies with it.
            command.env_remove("FTBENCH_PARENT_PID");
        }
        let mut child = command.spawn().map_err(|err| Error::Spawn {
            path: variant.run_path.clone(),
            err,
        })?;
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let line = serde_json::to_string(request).expect("a request always serializes");
        // A worker that dies before reading its request is reported by its exit status below.
        let _ = writeln!(stdin, "{line}");
        drop(stdin);
        let events = read_lines(child.stdout.take().expect("stdout is piped"));
        let stderr = Pipe::drain(child.stderr.take().expect("stderr is piped"));

        // One deadline for the whole life of the worker, its shutdown included.
        let until = Instant::now() + self.deadline;
        let (ending, conversation) = listen(&events, until, stop);
        // Wait for the exit status: a worker that said `done` (or closed stdout) gets the rest
        // of its deadline to exit; any other ending kills it now.
        let status = match ending {
            Ending::Done | Ending::Closed => {
                let wait_until = match ending {
                    Ending::Done => until,
                    _ => until.min(Instant::now() + CRASH_GRACE),
                };
                process::wait_until(&mut child, wait_until, stop)
                    .ok()
                    .flatten()
            }
            _ => None,
        };
        let interrupted = stop();
        process::kill_group(&child);
        if status.is_none() {
            let _ = child.wait();
        }
        // What the worker's code detached from its group (forked, `os.setsid()`) was adopted by
        // ftbench: it ends with the worker.
        process::end_orphans();
        let (text, held_open) = stderr.take_by(Instant::now() + process::STDERR_GRACE);
        let text = if held_open {
            format!(
                "{text}\n(a process started by the worker left its process group and still holds its stderr open; ftbench stopped waiting for it)"
            )
        } else {
            text
        };
        let samples = conversation.samples.len();
        match (ending, status) {
            (Ending::Interrupted, _) => Err(Error::Interrupted),
            (Ending::Refused(err), _) => Err(err.with_stderr(text)),
            (Ending::TimedOut, _) => Err(Error::Timeout {
                deadline: self.deadline,
                stderr: text,
            }),
            (_, None) if interrupted => Err(Error::Interrupted),
            (Ending::Done, Some(status)) if status.success() => Ok(WorkerOutput {
                hello: conversation.hello.expect("done comes after hello"),
                calibration: conversation.calibration,
                samples: conversation.samples,
            }),
            (Ending::Done, None) => Err(Error::NoExit {
                deadline: self.deadline,
                stderr: text,
            }),
            (_, status) => Err(Error::Crashed {
                status: status.map_or_else(|| "no exit status".into(), |s| s.to_string()),
                samples,
                stderr: text,
            }),
        }
    }
}

/// How often the read loop checks the deadline and Ctrl-C while a worker is quiet (a line
/// wakes it at once): often enough to feel instant, rarely enough to cost the harness nothing.
const POLL: Duration = Duration::from_millis(50);

/// How long a worker whose stdout closed gets to report its exit status.
const CRASH_GRACE: Duration = Duration::from_secs(5);

/// Read `stdout` line by line on a thread, ending with [`Event::Closed`].
fn read_lines(stdout: std::process::ChildStdout) -> mpsc::Receiver<Event> {
    let (sender, events) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if sender.send(Event::Line(line)).is_err() {
                return;
            }
        }
        let _ = sender.send(Event::Closed);
    });
    events
}

/// What a worker said so far, checked against the protocol's order.
#[derive(Default)]
struct Conversation {
    hello: Option<Hello>,
    calibration: Option<(u64, u64)>,
    samples: Vec<RawSample>,
}

impl Conversation {
    /// Take one line; `Ok(true)` when it was `done`.
    fn hear(&mut self, line: &str) -> Result<bool, Error> {
        let message = protocol::parse_line(line).map_err(|err| Error::Protocol {
            err,
            stderr: String::new(),
        })?;
        match (message, self.hello.is_some()) {
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
                    return Err(Error::ProtocolMismatch {
                        expected: PROTOCOL_VERSION,
                        found: protocol,
                    });
                }
                self.hello = Some(Hello {
                    pid,
                    version,
                    free_threaded,
                    gil_enabled,
                });
            }
            (WorkerMessage::Calibration { work_size, wall_ns }, true) => {
                self.calibration = Some((work_size, wall_ns));
            }
            (WorkerMessage::Sample(sample), true) => self.samples.push(*sample),
            (
                WorkerMessage::Error {
                    kind,
                    message,
                    traceback,
                },
                true,
            ) => {
                return Err(match kind {
                    protocol::ErrorKind::MissingDependency => Error::MissingDependency { message },
                    protocol::ErrorKind::BadRequest
                    | protocol::ErrorKind::ProtocolMismatch
                    | protocol::ErrorKind::Exception
                    | protocol::ErrorKind::Other => Error::Workload { message, traceback },
                });
            }
            (WorkerMessage::Done, true) => return Ok(true),
            (other, _) => {
                let what = serde_json::to_value(&other)
                    .ok()
                    .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_string))
                    .unwrap_or_default();
                return Err(Error::OutOfOrder { what });
            }
        }
        Ok(false)
    }
}
