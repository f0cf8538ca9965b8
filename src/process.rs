//! Child processes with a deadline: each in its own process group, killed with its parent, its
//! pipes drained by threads that the caller stops waiting for at the deadline.
//!
//! The interpreter query and the benchmark worker both start Python this way. Three failure modes
//! shaped it:
//! - a worker whose user code forks a child that leaves the process group (`setsid`) while holding
//!   stderr open would block a plain `read_to_end` until that child exits, so pipes are collected
//!   into shared buffers that can be read at any moment ([`Pipe::take_by`]);
//! - `SIGKILL` of ftbench cannot be caught, so workers set `PR_SET_PDEATHSIG` and die with it;
//! - a process group (`process_group(0)`) lets one `killpg` stop a worker and its
//!   multiprocessing children together, and keeps a terminal's Ctrl-C away from them.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Put `command` in its own process group, and tell it ftbench's pid so that it can ask the
/// kernel to kill it when ftbench dies (`worker.py` sets `PR_SET_PDEATHSIG` itself). Setting it
/// here would need a `pre_exec` hook, which makes std fork the whole harness instead of using
/// `posix_spawn`: that cost more than the harness's whole 1% CPU budget in a quick run.
pub fn detach_and_tie(command: &mut Command) {
    command
        .process_group(0)
        .env("FTBENCH_PARENT_PID", std::process::id().to_string());
    crate::secrets::keep_secrets(command);
}

/// SIGKILL a whole process group (the child and everything it started that stayed in it).
pub fn kill_group(child: &Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

/// A child's output pipe, read to its end by a thread into a buffer the caller can take at any
/// moment.
#[derive(Debug, Clone)]
pub struct Pipe {
    state: PipeState,
}

/// The bytes read so far and whether the pipe has closed, with a signal for the closing.
type PipeState = Arc<(Mutex<(Vec<u8>, bool)>, Condvar)>;

impl Pipe {
    /// Start draining `pipe`.
    pub fn drain(mut pipe: impl Read + Send + 'static) -> Self {
        let state = Arc::new((Mutex::new((Vec::new(), false)), Condvar::new()));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            let mut chunk = [0u8; 8192];
            loop {
                let read = pipe.read(&mut chunk);
                let (lock, closed) = &*shared;
                let mut guard = lock
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                match read {
                    Ok(0) | Err(_) => {
                        guard.1 = true;
                        closed.notify_all();
                        return;
                    }
                    Ok(n) => guard.0.extend_from_slice(&chunk[..n]),
                }
            }
        });
        Self { state }
    }

    /// Everything read until the pipe closed or `until` passed, whichever came first; the flag
    /// says whether the pipe was still open (someone outside the process group holds it).
    pub fn take_by(&self, until: Instant) -> (String, bool) {
        let (lock, closed) = &*self.state;
        let mut guard = lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while !guard.1 {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            guard = closed
                .wait_timeout(guard, left)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
        (String::from_utf8_lossy(&guard.0).into_owned(), !guard.1)
    }
}

/// Wait for `child` until `until`, calling `stop` every few milliseconds; `None` when the time
/// ran out or `stop` said so (the child is still running then).
pub fn wait_until(
    child: &mut Child,
    until: Instant,
    stop: impl Fn() -> bool,
) -> std::io::Result<Option<ExitStatus>> {
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= until || stop() {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// How long to keep reading a killed child's stderr for its last words.
pub const STDERR_GRACE: Duration = Duration::from_millis(500);

/// What a child process left behind when it ended (or was killed at its deadline).
#[derive(Debug)]
pub struct Finished {
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
}

/// Run `command` to completion with a deadline, feeding it `stdin`; at the deadline kill its
/// process group and return what it wrote.
pub fn run_with_deadline(
    mut command: Command,
    stdin: &[u8],
    deadline: Duration,
) -> std::io::Result<Finished> {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    detach_and_tie(&mut command);
    let mut child = command.spawn()?;
    let mut input = child.stdin.take().expect("stdin is piped");
    let stdin = stdin.to_vec();
    std::thread::spawn(move || {
        use std::io::Write;
        // A child that exits without reading its input is not our error to report here.
        let _ = input.write_all(&stdin);
    });
    let stdout = Pipe::drain(child.stdout.take().expect("stdout is piped"));
    let stderr = Pipe::drain(child.stderr.take().expect("stderr is piped"));
    let until = Instant::now() + deadline;
    let status = wait_until(&mut child, until, || false)?;
    // Whatever it started in its group goes with it, whether it finished or not.
    kill_group(&child);
    let timed_out = status.is_none();
    if timed_out {
        let _ = child.wait();
    }
    // A pipe still open now is held by something that left the group: its output is not ours.
    let read_until = Instant::now() + STDERR_GRACE;
    Ok(Finished {
        status,
        stdout: stdout.take_by(read_until).0,
        stderr: stderr.take_by(read_until).0,
        timed_out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pipe_held_open_by_an_escaped_child_does_not_block() {
        // The shell exits at once; its background child keeps stdout and stderr open for 30 s.
        let mut command = Command::new("sh");
        command.args(["-c", "echo hi; setsid sleep 30 & exit 0"]);
        let start = Instant::now();
        let finished = run_with_deadline(command, b"", Duration::from_secs(5)).unwrap();
        assert!(finished.status.is_some_and(|s| s.success()));
        assert_eq!(finished.stdout.trim(), "hi");
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn a_capped_copy_keeps_the_head_and_the_tail() {
        let input: Vec<u8> = (0..100_000u32)
            .flat_map(|i| format!("{i}\n").into_bytes())
            .collect();
        let mut out = Vec::new();
        copy_capped(input.as_slice(), &mut out, 1000).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("0\n1\n2\n"), "{}", &text[..20]);
        assert!(text.ends_with("99998\n99999\n"));
        assert!(text.contains("bytes of output left out here"));
        assert!(text.len() < 1200, "{}", text.len());
        // Under the cap, the copy is exact.
        let mut out = Vec::new();
        copy_capped(&b"short\n"[..], &mut out, 1000).unwrap();
        assert_eq!(out, b"short\n");
    }

    #[test]
    fn a_killed_group_is_waited_for_until_its_members_are_dead() {
        let mut command = Command::new("sh");
        // A member of the group that outlives its parent by a little while it dies.
        command.args(["-c", "sleep 30 & sleep 30"]).process_group(0);
        let mut child = command.spawn().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        assert!(group_has_live_members(child.id()));
        kill_group(&child);
        let _ = child.wait();
        wait_for_group_to_die(child.id(), Duration::from_secs(5));
        assert!(!group_has_live_members(child.id()));
    }

    #[test]
    fn a_logged_child_is_killed_at_its_deadline_with_what_it_detached() {
        adopt_orphans();
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let pidfile = dir.path().join("pid");
        let mut command = Command::new("sh");
        command.arg("-c").arg(format!(
            "echo started; setsid sh -c 'echo $$ > {}; exec sleep 60' & sleep 60",
            pidfile.display()
        ));
        let start = Instant::now();
        let ended = run_logged(
            &mut command,
            &log,
            Duration::from_millis(700),
            1 << 20,
            &|| None,
        )
        .unwrap();
        assert!(matches!(ended, Ended::TimedOut), "{ended:?}");
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{:?}",
            start.elapsed()
        );
        assert!(fs_err::read_to_string(&log).unwrap().contains("started"));
        let pid: i32 = fs_err::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // The detached child is gone (no /proc entry, or a zombie nobody waits for).
        let alive = fs_err::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|stat| !stat.contains(") Z "));
        assert!(!alive, "the setsid child {pid} survived");
    }

    #[test]
    fn a_hung_child_is_killed_at_its_deadline() {
        let mut command = Command::new("sh");
        command.args(["-c", "echo started >&2; sleep 30"]);
        let start = Instant::now();
        let finished = run_with_deadline(command, b"", Duration::from_millis(300)).unwrap();
        assert!(finished.timed_out);
        assert_eq!(finished.stderr.trim(), "started");
        assert!(start.elapsed() < Duration::from_secs(5));
    }
}

/// A child that was not let finish.
#[derive(Debug, thiserror::Error)]
pub enum Stopped {
    /// SIGINT or SIGTERM reached ftbench: the child's whole process group was killed.
    #[error("stopped by {}", .0.name())]
    Signal(crate::interrupt::Stop),
    /// The caller's watch refused to go on (a download over its size limit).
    #[error("{0}")]
    Refused(String),
}

/// Asked while a child runs: whether ftbench was asked to stop (SIGINT, SIGTERM), and how. The
/// caller says where the request comes from: the runner's host, or the signal flags
/// (`crate::interrupt::requested`) for a command that has no host.
pub type StopCheck<'a> = &'a dyn Fn() -> Option<crate::interrupt::Stop>;

/// Run `command` to its end in a process group of its own, unless `stop` names a stop request
/// or `watch` refuses (both asked every 100 ms): then the whole group (a `make -j`'s compilers
/// too) is killed (SIGKILL) and reaped before this returns, so nothing is left running with PID
/// 1 as its parent. Secrets are kept from it.
pub fn run_stoppable(
    command: &mut Command,
    stop: StopCheck,
    watch: impl FnMut() -> Result<(), String>,
) -> anyhow::Result<ExitStatus> {
    command.process_group(0);
    crate::secrets::keep_secrets(command);
    let mut child = command.spawn()?;
    let watch = std::cell::RefCell::new(watch);
    let stopped = std::cell::RefCell::new(None);
    // No deadline of its own: the watch is the caller's deadline, if it wants one.
    let forever = Instant::now() + Duration::from_secs(100 * 365 * 24 * 3600);
    let status = wait_until(&mut child, forever, || {
        let stop = match stop() {
            Some(signal) => Some(Stopped::Signal(signal)),
            None => (watch.borrow_mut())().err().map(Stopped::Refused),
        };
        let hit = stop.is_some();
        *stopped.borrow_mut() = stop;
        hit
    })?;
    match (status, stopped.into_inner()) {
        (Some(status), _) => Ok(status),
        (None, stop) => {
            kill_group(&child);
            let _ = child.wait();
            Err(stop
                .unwrap_or(Stopped::Refused("stopped".to_string()))
                .into())
        }
    }
}

/// How a child run by [`run_logged`] ended.
#[derive(Debug)]
pub enum Ended {
    /// It exited by itself.
    Exited(ExitStatus),
    /// It outlived its deadline: it, its process group and everything it left behind were killed.
    TimedOut,
}

/// [`run_stoppable`] with a deadline, its stdout and stderr appended together to `log`, at most
/// `cap` bytes of them: the first half and the last half are kept, and a line between them says
/// how much was left out. Nothing it prints is held in memory beyond the tail's half. At the
/// deadline, or when `stop` (asked every 100 ms) names a stop request, its process group is
/// killed, and so is whatever it detached
/// (`setsid`) once that is re-parented to ftbench ([`adopt_orphans`] must have been called).
pub fn run_logged(
    command: &mut Command,
    log: &std::path::Path,
    deadline: Duration,
    cap: u64,
    stop: StopCheck,
) -> anyhow::Result<Ended> {
    let file = fs_err::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    let (reader, writer) = std::io::pipe()?;
    command
        .stdin(Stdio::null())
        .stdout(writer.try_clone()?)
        .stderr(writer);
    command.process_group(0);
    crate::secrets::keep_secrets(command);
    // Everything the child starts inherits this mark, so that what it detaches can be told
    // from other children of ftbench once it is re-parented here.
    let mark = format!(
        "{}-{}",
        std::process::id(),
        TREES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    command.env(TREE_VARIABLE, &mark);
    let spawned = command.spawn();
    // The command keeps its copies of the pipe's writing end until they are replaced: the log
    // would never see its end while they are open.
    command.stdout(Stdio::null()).stderr(Stdio::null());
    let mut child = spawned?;
    let (done, finished) = std::sync::mpsc::channel();
    let copier = std::thread::spawn(move || {
        let result = copy_capped(reader, file.into_parts().0, cap);
        let _ = done.send(());
        result
    });
    let until = Instant::now() + deadline;
    let stopped = std::cell::Cell::new(None);
    let status = wait_until(&mut child, until, || {
        stopped.set(stop());
        stopped.get().is_some()
    })?;
    kill_group(&child);
    if status.is_none() {
        let _ = child.wait();
    }
    // SIGKILL is delivered, not yet acted on: a member of the group that has not died yet has
    // not handed its detached children to ftbench, and the scan below would miss them.
    wait_for_group_to_die(child.id(), GROUP_DEATH);
    end_marked_orphans(&mark);
    // What holds the pipe now escaped both the group and ftbench's adoption: its output is
    // not waited for.
    if finished.recv_timeout(STDERR_GRACE * 4).is_ok() {
        copier
            .join()
            .map_err(|_| anyhow::anyhow!("the log's copier panicked"))??;
    }
    if let Some(signal) = stopped.get() {
        return Err(Stopped::Signal(signal).into());
    }
    Ok(status.map_or(Ended::TimedOut, Ended::Exited))
}

/// Copy `from` to `to` until it ends, keeping at most `cap` bytes: the first half as it comes,
/// the last half in a ring that is written at the end after a line that says what was dropped.
fn copy_capped(mut from: impl Read, mut to: impl std::io::Write, cap: u64) -> std::io::Result<()> {
    let head_cap = usize::try_from(cap / 2).unwrap_or(usize::MAX);
    let tail_cap = usize::try_from(cap - cap / 2).unwrap_or(usize::MAX);
    let mut head = 0usize;
    let mut tail = std::collections::VecDeque::new();
    let mut dropped = 0u64;
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        let mut bytes = &chunk[..n];
        if head < head_cap {
            let take = bytes.len().min(head_cap - head);
            to.write_all(&bytes[..take])?;
            head += take;
            bytes = &bytes[take..];
        }
        tail.extend(bytes);
        if tail.len() > tail_cap {
            let excess = tail.len() - tail_cap;
            tail.drain(..excess);
            dropped += excess as u64;
        }
    }
    if dropped > 0 {
        write!(
            to,
            "\n[ftbench: {dropped} bytes of output left out here; the log keeps the first and last {} KiB]\n",
            tail_cap >> 10
        )?;
    }
    let (front, back) = tail.as_slices();
    to.write_all(front)?;
    to.write_all(back)?;
    to.flush()
}

/// What a child run by [`run_captured`] printed, and how it ended.
#[derive(Debug)]
pub struct Captured {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// [`run_stoppable`] with the child's stdout and stderr kept in anonymous temporary files (no
/// pipe to fill, nothing left behind); `watch` is told how many bytes stdout holds so far.
pub fn run_captured(
    command: &mut Command,
    stop: StopCheck,
    mut watch: impl FnMut(u64) -> Result<(), String>,
) -> anyhow::Result<Captured> {
    use std::io::{Seek, SeekFrom};
    let stdout = tempfile::tempfile()?;
    let stderr = tempfile::tempfile()?;
    command
        .stdin(Stdio::null())
        .stdout(stdout.try_clone()?)
        .stderr(stderr.try_clone()?);
    let status = run_stoppable(command, stop, || {
        watch(stdout.metadata().map_or(0, |m| m.len()))
    })?;
    let read = |mut file: std::fs::File| -> std::io::Result<String> {
        file.seek(SeekFrom::Start(0))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    Ok(Captured {
        status,
        stdout: read(stdout)?,
        stderr: read(stderr)?,
    })
}

/// Make ftbench the subreaper of everything it starts (Linux): a process that a worker's code
/// forks and detaches (`os.setsid()`, a double fork) is re-parented to ftbench instead of
/// `init`, so [`end_orphans`] can find and end it. Elsewhere, nothing happens.
pub fn adopt_orphans() {
    #[cfg(target_os = "linux")]
    let _ = nix::sys::prctl::set_child_subreaper(true);
}

/// The processes whose parent is ftbench: each thread's `/proc/self/task/TID/children` (cheap),
/// or, on kernels without it, every process's `PPid` in `/proc`.
fn own_children() -> Vec<i32> {
    let mut listed = false;
    let mut children = Vec::new();
    if let Ok(tasks) = fs_err::read_dir("/proc/self/task") {
        for task in tasks.filter_map(Result::ok) {
            if let Ok(text) = fs_err::read_to_string(task.path().join("children")) {
                listed = true;
                children.extend(
                    text.split_whitespace()
                        .filter_map(|p| p.parse::<i32>().ok()),
                );
            }
        }
    }
    if listed {
        return children;
    }
    let me = std::process::id().to_string();
    processes()
        .into_iter()
        .filter(|pid| {
            fs_err::read_to_string(format!("/proc/{pid}/status")).is_ok_and(|status| {
                status
                    .lines()
                    .find_map(|l| l.strip_prefix("PPid:"))
                    .is_some_and(|ppid| ppid.trim() == me)
            })
        })
        .collect()
}

/// How long [`run_logged`] waits for a killed process group's members to die.
const GROUP_DEATH: Duration = Duration::from_secs(2);

/// Wait (at most `limit`) until no live process is left in process group `group` (zombies are
/// dead: their children have been re-parented).
fn wait_for_group_to_die(group: u32, limit: Duration) {
    let until = Instant::now() + limit;
    while group_has_live_members(group) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Every process's pid, from `/proc` (none where it cannot be read).
fn processes() -> Vec<i32> {
    let Ok(entries) = fs_err::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .collect()
}

/// Whether a process that is not a zombie has `group` as its process group (`/proc/PID/stat`).
fn group_has_live_members(group: u32) -> bool {
    processes().into_iter().any(|pid| {
        let Ok(stat) = fs_err::read_to_string(format!("/proc/{pid}/stat")) else {
            return false;
        };
        // `pid (comm) state ppid pgrp ...`: the command may hold spaces and parentheses.
        let Some((_, rest)) = stat.rsplit_once(") ") else {
            return false;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next();
        let pgrp = fields.nth(1).and_then(|f| f.parse::<u32>().ok());
        state != Some("Z") && state != Some("X") && pgrp == Some(group)
    })
}

/// How many [`run_logged`] children this process started: each one's mark is its own.
static TREES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The variable that marks the processes one [`run_logged`] child started. A program that
/// starts its children with an environment of its own choosing must pass it on (pyperf's
/// `--inherit-environ`).
pub const TREE_VARIABLE: &str = "FTBENCH_TREE";

/// End the processes re-parented to ftbench whose environment holds `mark` as
/// [`TREE_VARIABLE`] (and whatever they leave as they die), leaving other children alone.
fn end_marked_orphans(mark: &str) {
    let needle = format!("{TREE_VARIABLE}={mark}\0");
    end_children_where(|pid| {
        fs_err::read(format!("/proc/{pid}/environ"))
            .is_ok_and(|env| env.windows(needle.len()).any(|w| w == needle.as_bytes()))
    });
}

/// End every process that a finished worker left behind and ftbench adopted ([`adopt_orphans`]):
/// each is killed with its process group and reaped, and so are the processes re-parented to
/// ftbench as they die. Call it only when ftbench has no child of its own running (between
/// workers). Returns how many were ended.
pub fn end_orphans() -> usize {
    end_children_where(|_| true)
}

/// Kill (with their process groups) and reap the children of ftbench that `chosen` picks, and
/// those re-parented to ftbench as they die; how many were ended.
fn end_children_where(chosen: impl Fn(i32) -> bool) -> usize {
    let mut ended = 0;
    // Bounded: each round ends one generation of a fork tree.
    for _ in 0..64 {
        let children: Vec<i32> = own_children().into_iter().filter(|p| chosen(*p)).collect();
        if children.is_empty() {
            break;
        }
        for pid in children {
            let pid = nix::unistd::Pid::from_raw(pid);
            let _ = nix::sys::signal::killpg(pid, nix::sys::signal::Signal::SIGKILL);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            let _ = nix::sys::wait::waitpid(pid, None);
            ended += 1;
        }
    }
    ended
}
