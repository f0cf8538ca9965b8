//! `--profile`: where the time goes at one point, as flame graphs.
//!
//! After the measurements, one more worker process runs the point (same request, same work)
//! under Linux `perf record -e cpu-clock`, with Python 3.12+'s `-X perf` trampolines so that
//! Python functions appear by name (`py::aggregate:/path/file.py`). Its samples are not part of
//! the results. The stacks are unwound from DWARF information (`--call-graph dwarf`), which works
//! on builds without frame pointers but stops at the first Python trampoline: the innermost
//! Python function and the C code below it are named, the Python callers above it are not. An
//! interpreter built with frame pointers (`ftbench python install --frame-pointers`) is unwound
//! through its frame pointers instead, which gives whole Python stacks.
//!
//! `perf script` output is folded and drawn by the `inferno` crate: one merged graph and one per
//! thread that ran most of the samples.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::interpreter::Variant;
use crate::results::{ProfileRecord, ThreadProfile};

/// Samples per second per CPU: enough for a one-second point, small enough to unwind quickly.
const FREQUENCY: &str = "499";

/// Threads that get a graph of their own (the ones with the most samples).
const MOST_THREADS: usize = 8;

/// How the stacks of one recording are unwound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallGraph {
    /// DWARF unwinding: any build, Python frames up to the innermost function.
    Dwarf,
    /// Frame pointers: complete stacks, on builds with `-fno-omit-frame-pointer`.
    FramePointers,
}

impl CallGraph {
    /// Frame pointers where the interpreter was built with them, DWARF otherwise.
    pub fn for_variant(variant: &Variant) -> Self {
        if variant.interpreter.info.has_frame_pointers() {
            Self::FramePointers
        } else {
            Self::Dwarf
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dwarf => "dwarf",
            Self::FramePointers => "frame pointers",
        }
    }

    fn perf_args(self) -> &'static [&'static str] {
        match self {
            Self::Dwarf => &["--call-graph", "dwarf,16384"],
            Self::FramePointers => &["--call-graph", "fp"],
        }
    }
}

/// A worker run under `perf record`, writing its samples to `data`.
#[derive(Debug, Clone)]
pub struct Recording {
    pub data: PathBuf,
    pub call_graph: CallGraph,
    /// Whether the interpreter understands `-X perf` (CPython 3.12+ on Linux).
    pub python_names: bool,
}

/// Whether `perf` can record here; otherwise one line saying why and how to enable it.
pub fn check_perf(stop: crate::process::StopCheck) -> std::result::Result<(), String> {
    let mut command = Command::new("perf");
    command.args([
        "record",
        "-q",
        "-e",
        "cpu-clock",
        "-o",
        "/dev/null",
        "--",
        "true",
    ]);
    let output = run_perf(command, PERF_CHECK_DEADLINE, stop);
    match output {
        Err(err) if err.downcast_ref::<crate::process::Stopped>().is_some() => Err(format!(
            "`perf record` did not finish in {} s: {err:#}",
            PERF_CHECK_DEADLINE.as_secs()
        )),
        Err(_) => Err(
            "`perf` is not installed: install Debian's `linux-perf` package (Ubuntu: `linux-tools-$(uname -r)`)"
                .to_string(),
        ),
        Ok(out) if !out.status.success() => {
            let stderr = &out.stderr;
            let first = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            Err(format!(
                "`perf record` is not permitted here ({}): run as root, or allow it with `sudo sysctl kernel.perf_event_paranoid=1`",
                first.trim()
            ))
        }
        Ok(_) => Ok(()),
    }
}

/// `command` (a Python worker) wrapped in `perf record`: the same program, arguments and
/// environment, with `-X perf` first when the interpreter has it.
pub fn wrap(command: &Command, recording: &Recording) -> Command {
    let mut perf = Command::new("perf");
    crate::secrets::keep_secrets(&mut perf);
    perf.args(["record", "-q", "-e", "cpu-clock", "-F", FREQUENCY])
        .args(recording.call_graph.perf_args())
        .arg("-o")
        .arg(&recording.data)
        .arg("--")
        .arg(command.get_program());
    if recording.python_names {
        perf.args(["-X", "perf"]);
    }
    perf.args(command.get_args());
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => perf.env(key, value),
            None => perf.env_remove(key),
        };
    }
    if let Some(dir) = command.get_current_dir() {
        perf.current_dir(dir);
    }
    perf
}

/// The folded stacks of a recording: all threads merged, and per thread (by sample count).
#[derive(Debug, Default)]
pub struct Folded {
    pub merged: Vec<String>,
    /// `(tid, CPU ns, folded lines)`, most CPU first.
    pub threads: Vec<(u32, u64, Vec<String>)>,
    /// CPU time of all samples, in nanoseconds (perf weighs a cpu-clock sample by its period).
    pub cpu_ns: u64,
    /// Whether the interpreter's debug information named inlined functions (`None`: no frame
    /// of a binary on disk was sampled).
    pub debug_info: Option<bool>,
    /// `(tid, merged stack, count)` of every folded line, for [`Folded::work`].
    stacks: Vec<(u32, String, u64)>,
}

impl Folded {
    /// The merged stacks of the work: every thread but the worker process's main thread
    /// (`main`, its pid), whose start-up, imports and sample bookkeeping are paid once per
    /// process and would not cancel, per operation, between two short recordings. A process
    /// pool's children keep their main threads: there the work runs in them. All stacks where
    /// no other thread was sampled.
    pub fn work(&self, main: u32) -> Vec<String> {
        let work = merge(&self.stacks, |tid| tid != main);
        if work.is_empty() {
            return self.merged.clone();
        }
        work
    }
}

/// The folded lines of the `stacks` whose thread `keep`s, each stack once with its counts
/// summed, in order.
fn merge(stacks: &[(u32, String, u64)], keep: impl Fn(u32) -> bool) -> Vec<String> {
    let mut merged: BTreeMap<&str, u64> = BTreeMap::new();
    for (tid, stack, count) in stacks {
        if keep(*tid) {
            *merged.entry(stack).or_default() += count;
        }
    }
    merged
        .into_iter()
        .map(|(stack, count)| format!("{stack} {count}"))
        .collect()
}

/// How long `perf record -- true` may take to say whether perf works here.
const PERF_CHECK_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// Run `perf` in its own process group with a deadline: a perf that hangs (a kernel that
/// never answers, a wedged `perf script`) is killed with everything it started
/// ([`crate::process::Stopped`]), and the run goes on without the profile. `stop` ends it early.
fn run_perf(
    mut command: Command,
    deadline: std::time::Duration,
    stop: crate::process::StopCheck,
) -> anyhow::Result<crate::process::Captured> {
    let until = std::time::Instant::now() + deadline;
    crate::process::run_captured(&mut command, stop, |_| {
        if std::time::Instant::now() >= until {
            Err(format!("stopped after {} s", deadline.as_secs()))
        } else {
            Ok(())
        }
    })
}

/// Read a recording with `perf script` (within `deadline`, ended early by `stop`) and fold its
/// stacks.
pub fn fold(
    data: &Path,
    deadline: std::time::Duration,
    stop: crate::process::StopCheck,
) -> Result<Folded> {
    let mut command = Command::new("perf");
    command.arg("script").arg("-i").arg(data);
    let output = match run_perf(command, deadline, stop) {
        Ok(output) => output,
        Err(err) if err.downcast_ref::<crate::process::Stopped>().is_some() => {
            bail!("`perf script` did not finish: {err:#}")
        }
        Err(err) => return Err(err.context("failed to run `perf script`")),
    };
    if !output.status.success() {
        bail!("`perf script` failed: {}", output.stderr.trim());
    }
    let mut inliner = Inliner::default();
    let script = inliner.expand(&output.stdout);
    // One fold, with tids: each stack starts with `comm-pid/tid`. The merged graph is the same
    // stacks with `comm` as their root, counts summed.
    let mut options = inferno::collapse::perf::Options::default();
    options.include_tid = true;
    options.nthreads = 1;
    let mut folded = Vec::new();
    inferno::collapse::Collapse::collapse(
        &mut inferno::collapse::perf::Folder::from(options),
        script.as_bytes(),
        &mut folded,
    )
    .context("failed to fold the stacks")?;
    let mut by_thread: BTreeMap<u32, (u64, Vec<String>)> = BTreeMap::new();
    let mut stacks = Vec::new();
    for line in String::from_utf8_lossy(&folded).lines() {
        let (Some((stack, _)), Some(count)) = (line.rsplit_once(' '), count_of(line)) else {
            continue;
        };
        let (root, rest) = stack.split_once(';').unwrap_or((stack, ""));
        let Some((comm, tid)) = root
            .rsplit_once('/')
            .and_then(|(comm_pid, tid)| Some((comm_pid.rsplit_once('-')?.0, tid.parse().ok()?)))
        else {
            continue;
        };
        let whole = if rest.is_empty() {
            comm.to_string()
        } else {
            format!("{comm};{rest}")
        };
        stacks.push((tid, whole, count));
        if !rest.is_empty() {
            let entry = by_thread.entry(tid).or_default();
            entry.0 += count;
            entry.1.push(format!("{rest} {count}"));
        }
    }
    let merged = merge(&stacks, |_| true);
    let cpu_ns = merged.iter().filter_map(|l| count_of(l)).sum();
    let mut threads: Vec<(u32, u64, Vec<String>)> = by_thread
        .into_iter()
        .map(|(tid, (samples, lines))| (tid, samples, lines))
        .collect();
    threads.sort_by_key(|t| std::cmp::Reverse(t.1));
    Ok(Folded {
        merged,
        threads,
        cpu_ns,
        debug_info: inliner.debug_info,
        stacks,
    })
}

/// The functions inlined into sampled frames, from each binary's DWARF information: `perf`
/// names `_PyEval_EvalFrameDefault+0x76ac`, where the code is `Py_INCREF`'s atomic add.
#[derive(Default)]
pub struct Inliner {
    binaries: HashMap<String, Option<Binary>>,
    /// `(binary, symbol, offset, leaf)` → inlined functions, innermost first.
    known: HashMap<(String, String, u64, bool), Vec<String>>,
    /// Whether a binary of the recording had debug information (`None`: none was asked).
    pub debug_info: Option<bool>,
}

struct Binary {
    loader: addr2line::Loader,
    symbols: HashMap<String, u64>,
    /// It has DWARF information (`.debug_info`), which names inlined functions.
    debug_info: bool,
}

/// How many stacks' frames are looked up, at most: a pathological recording is folded without
/// inlined frames beyond it rather than slowly.
const MOST_LOOKUPS: usize = 200_000;

impl Inliner {
    /// `perf script`'s text with a line added before each frame for every function inlined at
    /// its address (innermost first, as a call chain reads), in the same format, so that the
    /// fold and the flame graphs show them as frames.
    pub fn expand(&mut self, script: &str) -> String {
        let mut out = String::with_capacity(script.len() + script.len() / 4);
        let mut leaf = true;
        let mut lookups = 0;
        for line in script.lines() {
            let frame = line.starts_with(['\t', ' ']) && !line.trim().is_empty();
            if frame && lookups < MOST_LOOKUPS {
                lookups += 1;
                if let Some((address, symbol, offset, binary)) = parse_frame(line) {
                    for name in self.inlined(binary, symbol, offset, leaf) {
                        let _ = writeln!(out, "\t{address} {name} ({binary})");
                    }
                }
            }
            leaf = !frame;
            out.push_str(line);
            out.push('\n');
        }
        out
    }

    fn inlined(&mut self, binary: &str, symbol: &str, offset: u64, leaf: bool) -> Vec<String> {
        let key = (binary.to_string(), symbol.to_string(), offset, leaf);
        if let Some(known) = self.known.get(&key) {
            return known.clone();
        }
        let names = self.look_up(binary, symbol, offset, leaf);
        self.known.insert(key, names.clone());
        names
    }

    fn look_up(&mut self, binary: &str, symbol: &str, offset: u64, leaf: bool) -> Vec<String> {
        // perf's maps of JIT or `-X perf` trampolines (`/tmp/perf-PID.map`) are no binaries.
        if !binary.starts_with('/')
            || Path::new(binary)
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("map"))
        {
            return Vec::new();
        }
        let loaded = self
            .binaries
            .entry(binary.to_string())
            .or_insert_with(|| Binary::load(binary));
        let Some(loaded) = loaded else {
            return Vec::new();
        };
        let Some(start) = loaded.symbols.get(symbol) else {
            return Vec::new();
        };
        // A caller's address is where its call returns to: the call itself is the byte before.
        let address = start + offset - u64::from(!leaf && offset > 0);
        let mut names = Vec::new();
        if let Ok(mut frames) = loaded.loader.find_frames(address) {
            while let Ok(Some(frame)) = frames.next() {
                let name = frame
                    .function
                    .as_ref()
                    .and_then(|f| f.raw_name().ok().map(std::borrow::Cow::into_owned));
                names.push(name.unwrap_or_else(|| "??".to_string()));
            }
        }
        // The last frame is the function perf named.
        names.pop();
        self.debug_info = Some(self.debug_info.unwrap_or(false) || loaded.debug_info);
        names
    }
}

impl Binary {
    fn load(path: &str) -> Option<Self> {
        use object::{Object as _, ObjectSymbol as _};
        let bytes = fs_err::read(path).ok()?;
        let file = object::File::parse(&*bytes).ok()?;
        let symbols = file
            .symbols()
            .chain(file.dynamic_symbols())
            .filter(object::ObjectSymbol::is_definition)
            .filter_map(|s| Some((s.name().ok()?.to_string(), s.address())))
            .collect();
        let debug_info = file.section_by_name(".debug_info").is_some();
        let loader = addr2line::Loader::new(path).ok()?;
        Some(Self {
            loader,
            symbols,
            debug_info,
        })
    }
}

/// A `perf script` call-chain line: `\t    5607e1d7b77c _PyEval_EvalFrameDefault+0x76ac (/x/python)`
/// → (address, symbol, offset, binary).
fn parse_frame(line: &str) -> Option<(&str, &str, u64, &str)> {
    let (address, rest) = line.trim_start().split_once(' ')?;
    let (symbol_offset, binary) = rest.rsplit_once(" (")?;
    let binary = binary.strip_suffix(')')?;
    let (symbol, offset) = symbol_offset.rsplit_once("+0x")?;
    Some((
        address,
        symbol,
        u64::from_str_radix(offset, 16).ok()?,
        binary,
    ))
}

/// Native cost groups of a thread's life, matched on frame names: each sample goes to the group
/// of the first frame, from the leaf up, that contains one of the group's names (so a page fault
/// inside `allocate_stack` is thread set-up, a futex wait inside `_PySemaphore_Wait` is a lock).
/// Samples of the thread workload with no matching frame are "other". A CPython change that
/// renames a function shows up as a growing "other", not as a wrong group.
pub const THREAD_COST_GROUPS: &[(&str, &[&str])] = &[
    (
        "thread state and TLS",
        &[
            "ThreadState_New",
            "new_threadstate",
            "init_threadstate",
            "bind_tstate",
            "ThreadState_Bind",
            "tstate_",
            "PyThreadState_Clear",
            "PyThreadState_Delete",
            "__tls_get_addr",
            "_dl_allocate_tls",
            "_dl_deallocate_tls",
            "allocate_stack",
            "pthread_create",
            "create_thread",
            "start_thread",
            "clone",
            "pythread_wrapper",
            "thread_run",
            "start_joinable_thread",
            "start_new_thread",
            "ThreadHandle_start",
            "PyThread_start",
            "mi_heap_init",
            "_mi_thread",
            "mi_thread_",
            "_mi_heap",
        ],
    ),
    (
        "locks, atomics and barriers",
        &[
            "PyMutex",
            "_PyParkingLot",
            "_PySemaphore",
            "PyEvent",
            "_PyRWMutex",
            "lock_PyThread",
            "lock_acquire",
            "pthread_mutex",
            "pthread_cond",
            "__lll_lock",
            "futex",
            "sem_wait",
            "sem_post",
            "qsbr",
            "_Py_atomic",
            "stop_the_world",
            "start_the_world",
            "OnceFlag",
            "take_gil",
            "drop_gil",
            "PyCOND",
            "PyEval_AcquireLock",
            "PyEval_RestoreThread",
            "PyEval_SaveThread",
            "join_thread",
            "ThreadHandle_join",
            "pthread_join",
            "pthread_clockjoin",
        ],
    ),
    (
        "reference counts",
        &[
            "MergeZeroLocalRefcount",
            "ExplicitMergeRefcount",
            "MergeRefcount",
            "_Py_brc",
            "brc_",
            "_Py_Dealloc",
            "_Py_IncRef",
            "_Py_DecRef",
            "Py_INCREF",
            "Py_DECREF",
        ],
    ),
    // Python-level machinery of the threading module (Thread.start's Event, Condition.wait),
    // where no native frame below named another group.
    ("threading.py code", &["threading.py"]),
];

/// The group of a thread's-life sample, or `None` for a sample outside the thread workload
/// (interpreter start-up, imports). `frames` go from the root to the leaf.
fn thread_cost_group(frames: &[&str]) -> Option<&'static str> {
    let in_workload = frames.iter().any(|f| {
        f.contains("thread_lifecycle.py")
            || f.contains("threading.py")
            || f.contains("start_thread")
            || f.contains("pthread_create")
    });
    if !in_workload {
        return None;
    }
    for frame in frames.iter().rev() {
        for (group, names) in THREAD_COST_GROUPS {
            if names.iter().any(|name| frame.contains(name)) {
                return Some(group);
            }
        }
    }
    Some("other")
}

/// CPU time per cost group of the thread workload's samples, in [`THREAD_COST_GROUPS`] order
/// with "other" last.
pub fn thread_costs(merged: &[String]) -> Vec<(String, u64)> {
    let mut costs: Vec<(String, u64)> = THREAD_COST_GROUPS
        .iter()
        .map(|(group, _)| ((*group).to_string(), 0))
        .chain(std::iter::once(("other".to_string(), 0)))
        .collect();
    for line in merged {
        let (Some((stack, _)), Some(count)) = (line.rsplit_once(' '), count_of(line)) else {
            continue;
        };
        let frames: Vec<&str> = stack.split(';').collect();
        if let Some(group) = thread_cost_group(&frames)
            && let Some(entry) = costs.iter_mut().find(|(g, _)| g == group)
        {
            entry.1 += count;
        }
    }
    costs
}

/// The count (CPU ns) at the end of a folded line.
fn count_of(line: &str) -> Option<u64> {
    line.rsplit_once(' ')?.1.parse().ok()
}

/// A flame graph of folded `lines` as SVG bytes.
pub fn flamegraph(lines: &[String], title: &str, subtitle: &str) -> Result<Vec<u8>> {
    let mut options = inferno::flamegraph::Options::default();
    options.title = title.to_string();
    options.subtitle = Some(subtitle.to_string());
    // perf weighs each cpu-clock sample by its period: the counts are nanoseconds of CPU.
    options.count_name = "ns of CPU".to_string();
    let mut svg = Vec::new();
    inferno::flamegraph::from_lines(&mut options, lines.iter().map(String::as_str), &mut svg)
        .context("failed to draw the flame graph")?;
    Ok(xml_safe(svg))
}

/// The SVG with every character XML 1.0 forbids (C0 controls but tab and newlines: an ESC in a
/// label or a frame name) replaced by `?`: inferno escapes markup, not these, and a browser
/// refuses the whole figure for one of them.
fn xml_safe(mut svg: Vec<u8>) -> Vec<u8> {
    for byte in &mut svg {
        if *byte < 0x20 && !matches!(*byte, b'\t' | b'\n' | b'\r') {
            *byte = b'?';
        }
    }
    svg
}

/// Draw the graphs of one recording into `dir` and describe them, with paths relative to `base`
/// (the results file's directory). For a thread lifecycle test, `threads_started` (threads the
/// profiled worker started) turns its cost groups into microseconds per thread.
pub fn write_graphs(
    folded: &Folded,
    point: (&str, &str, u32),
    threads_started: Option<u64>,
    call_graph: CallGraph,
    dir: &Path,
    base: &Path,
) -> Result<ProfileRecord> {
    let (test, label, thread_count) = point;
    if folded.cpu_ns == 0 {
        bail!("perf recorded no samples");
    }
    fs_err::create_dir_all(dir)?;
    let stem = format!(
        "{}-{}-{}",
        crate::format::slug(test),
        crate::format::slug(label),
        if thread_count == 0 {
            "serial".to_string()
        } else {
            format!("{thread_count}t")
        }
    );
    let relative = |path: &Path| {
        path.strip_prefix(base)
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned()
    };
    let subtitle = format!(
        "{test} on {label} at {}: {:.0} ms of CPU in one worker process, start-up included ({} unwinding)",
        crate::format::threads(thread_count),
        folded.cpu_ns as f64 / 1e6,
        call_graph.as_str()
    );
    let merged = dir.join(format!("{stem}.svg"));
    crate::results::write_atomically(
        &merged,
        &flamegraph(&folded.merged, "All threads", &subtitle)?,
    )?;
    let mut threads = Vec::new();
    for (rank, (tid, cpu_ns, lines)) in folded.threads.iter().take(MOST_THREADS).enumerate() {
        let path = dir.join(format!("{stem}-thread{}.svg", rank + 1));
        let title = format!("Thread {tid} ({:.0} ms of CPU)", *cpu_ns as f64 / 1e6);
        crate::results::write_atomically(&path, &flamegraph(lines, &title, &subtitle)?)?;
        threads.push(ThreadProfile {
            tid: *tid,
            cpu_ns: *cpu_ns,
            file: relative(&path),
        });
    }
    let costs = threads_started.map(|started| {
        thread_costs(&folded.merged)
            .into_iter()
            .map(|(group, cpu_ns)| crate::results::CostGroup {
                group,
                cpu_ns,
                us_per_thread: cpu_ns as f64 / 1e3 / started.max(1) as f64,
            })
            .collect()
    });
    Ok(ProfileRecord {
        costs: costs.unwrap_or_default(),
        test: test.to_string(),
        label: label.to_string(),
        thread_count,
        call_graph: call_graph.as_str().to_string(),
        cpu_ns: folded.cpu_ns,
        file: relative(&merged),
        threads,
        differential: None,
    })
}

/// Draw the single-thread graph and the differential graph (the multi-thread run against it,
/// per operation: red grew, blue shrank) of one point into `dir`, and fill in their paths.
pub fn write_differential(
    record: &mut crate::results::DifferentialRecord,
    serial: (&[String], u64),
    threaded: (&[String], u64),
    point: (&str, &str),
    (dir, base): (&Path, &Path),
) -> Result<()> {
    let (test, label) = point;
    let stem = format!(
        "{}-{}",
        crate::format::slug(test),
        crate::format::slug(label)
    );
    let relative = |path: &Path| {
        path.strip_prefix(base)
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned()
    };
    let serial_path = dir.join(format!("{stem}-1t.svg"));
    crate::results::write_atomically(
        &serial_path,
        &flamegraph(
            serial.0,
            "The work, one thread",
            &format!(
                "{test} on {label} at 1 thread: {:.0} ms of CPU, the worker's main thread left out",
                serial.0.iter().filter_map(|l| count_of(l)).sum::<u64>() as f64 / 1e6
            ),
        )?,
    )?;
    // The single-thread counts scaled to the multi-thread run's operations: the same work.
    let scale = threaded.1.max(1) as f64 / serial.1.max(1) as f64;
    let before: String = serial
        .0
        .iter()
        .filter_map(|line| {
            let (stack, count) = line.rsplit_once(' ')?;
            let count: f64 = count.parse().ok()?;
            Some(format!("{stack} {}\n", (count * scale).round() as u64))
        })
        .collect();
    let after = threaded.0.join("\n") + "\n";
    let mut lines = Vec::new();
    inferno::differential::from_readers(
        inferno::differential::Options::default(),
        before.as_bytes(),
        after.as_bytes(),
        &mut lines,
    )
    .context("failed to compare the two profiles")?;
    let lines: Vec<String> = String::from_utf8_lossy(&lines)
        .lines()
        .map(str::to_string)
        .collect();
    let path = dir.join(format!("{stem}-{}t-vs-1t.svg", record.thread_count));
    crate::results::write_atomically(
        &path,
        &flamegraph(
            &lines,
            &format!(
                "What grew at {} against one thread (red), per operation",
                crate::format::threads(record.thread_count)
            ),
            &format!(
                "{test} on {label}: CPU per operation {:.0} ns at 1 thread, {:.0} ns at {} ({:.2}x)",
                record.serial_ns_per_op,
                record.ns_per_op,
                crate::format::threads(record.thread_count),
                record.growth
            ),
        )?,
    )?;
    record.serial_file = relative(&serial_path);
    record.file = relative(&path);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_work_leaves_out_the_workers_main_thread_only() {
        let stack = |tid: u32, frames: &str, count: u64| (tid, frames.to_string(), count);
        let folded = Folded {
            merged: vec!["python;all 9".to_string()],
            stacks: vec![
                // The worker (pid 100): its main thread imports, its team threads work.
                stack(100, "python;import", 5),
                stack(101, "python;work", 2),
                stack(102, "python;work", 1),
                // A pool's child process: its main thread is the work.
                stack(200, "python;work", 1),
            ],
            ..Folded::default()
        };
        assert_eq!(folded.work(100), vec!["python;work 4".to_string()]);
        // Nothing but the main thread sampled: every stack counts.
        let lone = Folded {
            merged: vec!["python;all 5".to_string()],
            stacks: vec![stack(100, "python;all", 5)],
            ..Folded::default()
        };
        assert_eq!(lone.work(100), vec!["python;all 5".to_string()]);
    }

    #[test]
    fn perf_wraps_the_worker_without_changing_it() {
        let mut worker = Command::new("/opt/python3.13t");
        worker
            .args(["-I", "-B", "worker.py"])
            .env("PYTHON_GIL", "0")
            .env_remove("FTBENCH_PARENT_PID")
            .current_dir("/tmp");
        let recording = Recording {
            data: PathBuf::from("/tmp/x/perf.data"),
            call_graph: CallGraph::Dwarf,
            python_names: true,
        };
        let perf = wrap(&worker, &recording);
        assert_eq!(perf.get_program(), "perf");
        let args: Vec<&str> = perf.get_args().map(|a| a.to_str().unwrap()).collect();
        assert_eq!(
            args,
            [
                "record",
                "-q",
                "-e",
                "cpu-clock",
                "-F",
                FREQUENCY,
                "--call-graph",
                "dwarf,16384",
                "-o",
                "/tmp/x/perf.data",
                "--",
                "/opt/python3.13t",
                "-X",
                "perf",
                "-I",
                "-B",
                "worker.py"
            ]
        );
        let envs: Vec<_> = perf.get_envs().collect();
        assert!(envs.contains(&("PYTHON_GIL".as_ref(), Some("0".as_ref()))));
        assert!(envs.contains(&("FTBENCH_PARENT_PID".as_ref(), None)));
        assert_eq!(perf.get_current_dir(), Some(Path::new("/tmp")));
    }

    #[test]
    fn thread_costs_go_to_the_innermost_frame_that_names_a_group() {
        let lines: Vec<String> = [
            // Set-up: a page fault inside allocate_stack is thread set-up.
            "python3.13t;py::serial:/w/thread_lifecycle.py;pthread_create;allocate_stack;clear_page_erms 70",
            // A new thread waits for its start signal on a futex.
            "python3.13t;start_thread;pythread_wrapper;_PySemaphore_Wait;futex_wait 20",
            "python3.13t;start_thread;pythread_wrapper;thread_run;_Py_MergeZeroLocalRefcount 5",
            "python3.13t;py::body:/w/thread_lifecycle.py;_PyEval_EvalFrameDefault 5",
            // Interpreter start-up is not the workload's.
            "python3.13t;_start;pymain_main;_PyImport_Load 999",
        ]
        .iter()
        .map(|l| (*l).to_string())
        .collect();
        let mut lines = lines;
        lines.push(
            "python3.13t;py::Thread.start:/lib/threading.py;_PyEval_EvalFrameDefault 3".into(),
        );
        let costs = thread_costs(&lines);
        assert_eq!(
            costs,
            [
                ("thread state and TLS".to_string(), 70),
                ("locks, atomics and barriers".to_string(), 20),
                ("reference counts".to_string(), 5),
                ("threading.py code".to_string(), 3),
                ("other".to_string(), 5),
            ]
        );
    }

    #[test]
    fn control_characters_never_reach_a_flame_graph() {
        let lines = vec!["py::work\u{1b}[2J;inner 5000".to_string()];
        let svg = flamegraph(&lines, "All \u{1b} threads", "label \u{1b}[31m").unwrap();
        assert!(!svg.iter().any(|b| *b < 0x20 && !b"\t\n\r".contains(b)));
        assert!(String::from_utf8_lossy(&svg).contains("py::work?[2J"));
    }

    #[test]
    fn a_flame_graph_names_the_frames_it_was_given() {
        let lines = vec![
            "python3.13t;py::aggregate:/x/aggregate.py;_PyEval_EvalFrameDefault 40".to_string(),
            "python3.13t;py::aggregate:/x/aggregate.py;long_add 10".to_string(),
        ];
        let svg = String::from_utf8(flamegraph(&lines, "All threads", "a test").unwrap()).unwrap();
        assert!(svg.contains("py::aggregate"), "{svg}");
        assert!(svg.contains("All threads"));
        assert_eq!(count_of(&lines[0]), Some(40));
    }
}
