//! The native reference: the shapes of four scaling tests written in Rust and run by ftbench
//! itself, with the same thread counts and the same strong-scaling split. Its threads start the
//! way the Python teams' do (`worker.py`): each waits at a gate of its own, and the gates are
//! opened one after the other, so the wake-ups happen in parallel (a barrier wakes its waiters
//! one by one through one lock: ~0.3 ms between the first and the last on 16 cores). For
//! compute and memory bandwidth they show how far the hardware lets this work scale (a
//! ceiling: the test's [`crate::results::NativeRole`], read through `ResultsFile::info`); for
//! locks and shared counters they are a reference only.
//!
//! [`NativeWorker`] answers the same requests as a Python worker, in-process.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Barrier, Mutex};
use std::time::Instant;

use super::protocol::{Mode, RawSample, Request, Scaling};
use super::worker::{Error, Hello, Worker, WorkerOutput};
use crate::interpreter::{InterpreterSource, Variant};
use crate::machine::cpus::thread_cpu_ns;
use crate::results::ThreadTime;

/// Bytes one thread copies per unit of `memory_bandwidth`, as in the Python test.
const CHUNK_BYTES: usize = 4 * 1024 * 1024;

// Which tests the native reference has is a fact of the test registry (config needs it before
// anything runs); the runner re-exports it.
pub use crate::workloads::native::{LABEL, supports};

/// One kernel: runs `count` units starting at global unit `start`, returns its checksum part.
type Kernel = fn(&State, u64, u64) -> u64;
/// What a kernel's checksum over `count` units from `start` must be.
type Expected = fn(u64, u64) -> u64;

struct State {
    lock: Mutex<u64>,
    shared: AtomicU64,
    buffers: Vec<Mutex<(Vec<u8>, Vec<u8>)>>,
}

fn parallel_compute(_: &State, start: u64, count: u64) -> u64 {
    let mut acc = 0u64;
    for i in start..start + count {
        let i = black_box(i);
        acc = acc.wrapping_add(i.wrapping_mul(i));
    }
    acc
}

fn squares_below(n: u64) -> u64 {
    let n = u128::from(n);
    if n == 0 {
        return 0;
    }
    ((n - 1) * n * (2 * n - 1) / 6) as u64
}

fn lock_contention(state: &State, _: u64, count: u64) -> u64 {
    for _ in 0..count {
        *state
            .lock
            .lock()
            .expect("no kernel panics holding the lock") += 1;
    }
    count
}

fn ref_counting_shared(state: &State, _: u64, count: u64) -> u64 {
    // One unit is one reference taken and dropped, as an incref/decref pair.
    for _ in 0..count {
        state.shared.fetch_add(1, Ordering::AcqRel);
        state.shared.fetch_sub(1, Ordering::AcqRel);
    }
    count
}

fn memory_bandwidth(state: &State, start: u64, count: u64) -> u64 {
    let slot = (start as usize / count.max(1) as usize) % state.buffers.len();
    let mut pair = state.buffers[slot]
        .lock()
        .expect("no kernel panics holding a buffer");
    let (src, dst) = &mut *pair;
    for _ in 0..count {
        dst.copy_from_slice(black_box(src.as_slice()));
        black_box(&dst);
    }
    if count > 0 && dst != src {
        return 0;
    }
    count
}

fn kernel(test: &str) -> Option<(Kernel, Expected)> {
    match test {
        "parallel_compute" => Some((parallel_compute, |start, count| {
            squares_below(start + count).wrapping_sub(squares_below(start))
        })),
        "lock_contention" => Some((lock_contention, |_, count| count)),
        "ref_counting_shared" => Some((ref_counting_shared, |_, count| count)),
        "memory_bandwidth" => Some((memory_bandwidth, |_, count| count)),
        _ => None,
    }
}

fn state(threads: usize, test: &str) -> State {
    let buffers = if test == "memory_bandwidth" {
        (0..threads.max(1))
            .map(|_| {
                let src: Vec<u8> = (0..CHUNK_BYTES).map(|i| (i % 251) as u8).collect();
                Mutex::new((src, vec![0u8; CHUNK_BYTES]))
            })
            .collect()
    } else {
        Vec::new()
    };
    State {
        lock: Mutex::new(0),
        shared: AtomicU64::new(0),
        buffers,
    }
}

/// A thread's own accounting, read around its part: run-queue wait, context switches, CPU (the
/// native twin of `worker.py`'s `ThreadClock`).
#[derive(Debug, Clone, Copy)]
struct ThreadMark {
    runq_ns: Option<u64>,
    switches: Option<[u64; 2]>,
    cpu: Option<u32>,
}

impl ThreadMark {
    fn read() -> Self {
        let runq_ns = fs_err::read_to_string("/proc/thread-self/schedstat")
            .ok()
            .and_then(|text| text.split_whitespace().nth(1)?.parse().ok());
        #[cfg(target_os = "linux")]
        let switches = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_THREAD)
            .ok()
            .map(|u| {
                [
                    u.voluntary_context_switches().max(0) as u64,
                    u.involuntary_context_switches().max(0) as u64,
                ]
            });
        #[cfg(not(target_os = "linux"))]
        let switches = None;
        Self {
            runq_ns,
            switches,
            cpu: crate::machine::cpus::current(),
        }
    }

    /// The thread's entry of a sample, from this mark (before its part) to `after`.
    fn until(self, after: Self, offset_ns: u64, wall_ns: u64, cpu_ns: u64) -> ThreadTime {
        ThreadTime {
            offset_ns,
            wall_ns,
            cpu_ns,
            runq_ns: self
                .runq_ns
                .zip(after.runq_ns)
                .map(|(a, b)| b.saturating_sub(a)),
            switches: self
                .switches
                .zip(after.switches)
                .map(|(a, b)| [b[0].saturating_sub(a[0]), b[1].saturating_sub(a[1])]),
            cpus: self.cpu.zip(after.cpu).map(|(a, b)| [a, b]),
        }
    }
}

/// One gate per thread: the thread waits on its own receiver; `true` starts a part, `false`
/// (or a closed gate) ends the thread.
fn gates(threads: usize) -> (Vec<Sender<bool>>, Vec<Receiver<bool>>) {
    (0..threads).map(|_| std::sync::mpsc::channel()).unzip()
}

/// Open every gate with `go`, one after the other.
fn open(gates: &[Sender<bool>], go: bool) {
    for gate in gates {
        // A thread that ended has dropped its receiver: nothing to open.
        let _ = gate.send(go);
    }
}

/// Run `ranges` on one thread each, released together by their gates; the section is first
/// start to last end. Returns its wall time, the checksum and the CPU time of its threads (ns).
fn run_threads(kernel: Kernel, state: &State, ranges: &[(u64, u64)]) -> (u64, u64, u64) {
    let (senders, receivers) = gates(ranges.len());
    let results: Vec<(Instant, Instant, u64, u64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = ranges
            .iter()
            .zip(receivers)
            .map(|(&(start, count), gate)| {
                scope.spawn(move || {
                    let _ = gate.recv();
                    let begin = Instant::now();
                    let cpu = thread_cpu_ns();
                    let part = kernel(state, start, count);
                    let cpu = thread_cpu_ns().saturating_sub(cpu);
                    (begin, Instant::now(), part, cpu)
                })
            })
            .collect();
        open(&senders, true);
        handles
            .into_iter()
            .map(|h| h.join().expect("native kernels do not panic"))
            .collect()
    });
    let first = results
        .iter()
        .map(|r| r.0)
        .min()
        .expect("at least one thread");
    let last = results
        .iter()
        .map(|r| r.1)
        .max()
        .expect("at least one thread");
    let checksum = results.iter().fold(0u64, |acc, r| acc.wrapping_add(r.2));
    let cpu = results.iter().map(|r| r.3).sum();
    (last.duration_since(first).as_nanos() as u64, checksum, cpu)
}

fn split(total: u64, parts: u64) -> Vec<(u64, u64)> {
    let (base, extra) = (total / parts, total % parts);
    let mut start = 0;
    (0..parts)
        .map(|i| {
            let count = base + u64::from(i < extra);
            let range = (start, count);
            start += count;
            range
        })
        .collect()
}

/// Answers requests for the native variant in-process.
#[derive(Debug, Default)]
pub struct NativeWorker;

/// The shortest serial sample of a native kernel, whatever `--target-ms` asks (`--quick`: 20 ms,
/// 10 ms a thread at 2 threads). Waking a sleeping team on a VM's vCPUs can leave both threads on
/// one CPU for the first milliseconds: on this 2-vCPU VM `parallel_compute`'s native speedup at
/// 2 threads read 1.69-1.98x in four quick runs, and 1.98-2.00x in six with 50 ms samples. The
/// reference beside a curve must be steadier than the curve; a quick run pays a few seconds.
const MIN_SAMPLE_NS: u64 = 50_000_000;

impl Worker for NativeWorker {
    fn run(
        &mut self,
        _variant: &Variant,
        request: &Request,
        stop: &dyn Fn() -> bool,
    ) -> Result<WorkerOutput, Error> {
        let test = request.module.as_str();
        let (kernel, expected) = kernel(test).ok_or_else(|| Error::MissingDependency {
            message: format!("no native kernel for {test}"),
        })?;
        let hello = Hello {
            pid: std::process::id(),
            version: LABEL.to_string(),
            free_threaded: true,
            gil_enabled: false,
        };
        if request.mode == Mode::Calibrate {
            let target_ns = request.target_ns.max(MIN_SAMPLE_NS);
            let state = state(1, test);
            let mut units = 1u64 << 10;
            loop {
                let (wall_ns, _, _) = run_threads(kernel, &state, &[(0, units)]);
                if wall_ns >= target_ns / 4 || units >= 1 << 40 {
                    let work_size =
                        (units as f64 * target_ns as f64 / wall_ns.max(1) as f64) as u64;
                    return Ok(WorkerOutput {
                        hello,
                        calibration: Some((work_size.max(1), wall_ns)),
                        samples: Vec::new(),
                    });
                }
                units *= if wall_ns < target_ns / 40 { 4 } else { 2 };
            }
        }
        let threads = u64::from(request.threads.max(1));
        let ranges = match (request.threads, request.scaling) {
            (0, _) => vec![(0, request.work_size)],
            (_, Scaling::Strong) => split(request.work_size, threads),
            (_, Scaling::Weak) => (0..threads)
                .map(|i| (i * request.work_size, request.work_size))
                .collect(),
        };
        let total: u64 = ranges.iter().map(|r| r.1).sum();
        let state = state(ranges.len(), test);
        let samples =
            measure_with_team(kernel, &state, &ranges, (request, stop), expected(0, total))?;
        Ok(WorkerOutput {
            hello,
            calibration: None,
            samples,
        })
    }
}

/// One team thread's begin, end, checksum part, CPU ns and marks of the sample just run.
type Slot = (Instant, Instant, u64, u64, Option<(ThreadMark, ThreadMark)>);

/// Each thread's entry of a sample whose first part started at `first`.
fn thread_times(parts: &[Slot], first: Instant) -> Vec<ThreadTime> {
    parts
        .iter()
        .filter_map(|p| {
            let (before, after) = p.4?;
            Some(before.until(
                after,
                p.0.duration_since(first).as_nanos() as u64,
                p.1.duration_since(p.0).as_nanos() as u64,
                p.3,
            ))
        })
        .collect()
}

/// Measure every sample of a request with one team of threads, started once and released
/// for each sample by their gates (the end of a sample is a barrier, as in `worker.py`).
///
/// Threads started afresh for every sample (as before) begin on their creator's CPU and are
/// moved by the scheduler only after a while: in 10 ms `--quick` samples two new threads ran
/// side by side for a fraction of the section (effective parallelism 1.2 at 2 threads, speedups
/// of 1.0-1.7 where Python read 2.0). A team placed once, warm-up included, runs in parallel from
/// the first instant of every timed sample, as the Python worker's threads do.
fn measure_with_team(
    kernel: Kernel,
    state: &State,
    ranges: &[(u64, u64)],
    (request, stop): (&Request, &dyn Fn() -> bool),
    expected: u64,
) -> Result<Vec<RawSample>, Error> {
    let total: u64 = ranges.iter().map(|r| r.1).sum();
    let threads = ranges.len();
    let (senders, receivers) = gates(threads);
    let end = Barrier::new(threads + 1);
    // Each thread's begin, end, checksum part, CPU ns and marks of the sample just run.
    let slots: Vec<Mutex<Slot>> = (0..threads)
        .map(|_| Mutex::new((Instant::now(), Instant::now(), 0, 0, None)))
        .collect();
    let cpus = &request.cpus;
    std::thread::scope(|scope| {
        for ((slot, &(from, count)), gate) in slots.iter().zip(ranges).zip(receivers) {
            let end = &end;
            scope.spawn(move || {
                // `--cpus`: checked usable before the run; a failure leaves the thread unpinned.
                if !cpus.is_empty() {
                    let _ = crate::machine::cpus::pin_current_thread(cpus);
                }
                loop {
                    // Before the gate, as in worker.py: a late start's wait for a CPU counts.
                    let mark = ThreadMark::read();
                    if gate.recv() != Ok(true) {
                        return;
                    }
                    let begin = Instant::now();
                    let cpu = thread_cpu_ns();
                    let part = kernel(state, from, count);
                    let cpu = thread_cpu_ns().saturating_sub(cpu);
                    let finish = Instant::now();
                    let marks = Some((mark, ThreadMark::read()));
                    *slot.lock().expect("no kernel panicked") = (begin, finish, part, cpu, marks);
                    end.wait();
                }
            });
        }
        let release = || open(&senders, false);
        let mut samples = Vec::new();
        for index in 0..request.warmup + request.samples {
            if stop() {
                release();
                return Err(Error::Interrupted);
            }
            *state.lock.lock().expect("no kernel panicked") = 0;
            let before = crate::machine::load::Counters::read();
            open(&senders, true);
            end.wait();
            let counts = before.raw_until(&crate::machine::load::Counters::read());
            let parts: Vec<Slot> = slots
                .iter()
                .map(|s| *s.lock().expect("no kernel panicked"))
                .collect();
            samples.push(sample(
                (index, index < request.warmup),
                &parts,
                &counts,
                (total, expected),
            ));
        }
        release();
        Ok(samples)
    })
}

/// One sample of the team from its threads' `parts` and the machine's `counts` around it.
fn sample(
    (index, warmup): (u32, bool),
    parts: &[Slot],
    counts: &crate::machine::load::RawCounts,
    (total, expected): (u64, u64),
) -> RawSample {
    let first = parts
        .iter()
        .map(|p| p.0)
        .min()
        .expect("at least one thread");
    let last = parts
        .iter()
        .map(|p| p.1)
        .max()
        .expect("at least one thread");
    let checksum = parts.iter().fold(0u64, |acc, p| acc.wrapping_add(p.2));
    RawSample {
        index,
        warmup,
        wall_ns: last.duration_since(first).as_nanos() as u64,
        work_units: total,
        checksum: checksum.to_string(),
        expected: expected.to_string(),
        gil_enabled_before: false,
        gil_enabled_after: false,
        extra: None,
        // The kernels run in this process: its CPU is the "own" time.
        cpu_ns: Some(parts.iter().map(|p| p.3).sum()),
        window_ns: Some(counts.window_ns),
        cpu_wait_ns: counts.cpu_wait_ns,
        busy_ns: counts.busy_ns,
        steal_ns: counts.steal_ns,
        own_ns: Some(counts.own_ns),
        // ftbench's own switches and memory are not the kernels': none is reported.
        voluntary_switches: None,
        involuntary_switches: None,
        max_rss_kb: None,
        rss_kb: None,
        threads: Some(thread_times(parts, first)),
    }
}

/// Sends each variant to its worker: the native variant in-process, the rest to Python.
pub struct Workers<'a> {
    pub python: &'a mut dyn Worker,
    pub native: NativeWorker,
    /// CPU seconds the native kernels used in this process: measurement, not harness overhead.
    pub native_cpu_s: f64,
}

impl Worker for Workers<'_> {
    fn run(
        &mut self,
        variant: &Variant,
        request: &Request,
        stop: &dyn Fn() -> bool,
    ) -> Result<WorkerOutput, Error> {
        if variant.interpreter.source == InterpreterSource::Native {
            let before = process_cpu_seconds();
            let output = self.native.run(variant, request, stop);
            self.native_cpu_s += process_cpu_seconds() - before;
            output
        } else {
            self.python.run(variant, request, stop)
        }
    }
}

/// User + system CPU seconds this process (not its children) has used so far.
pub fn process_cpu_seconds() -> f64 {
    crate::machine::load::rusage_ns(nix::sys::resource::UsageWho::RUSAGE_SELF) as f64 / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_match_the_closed_forms() {
        for test in [
            "parallel_compute",
            "lock_contention",
            "ref_counting_shared",
            "memory_bandwidth",
        ] {
            let (kernel, expected) = kernel(test).unwrap();
            let state = state(3, test);
            let total = if test == "memory_bandwidth" {
                6
            } else {
                100_003
            };
            let (_, checksum, _) = run_threads(kernel, &state, &split(total, 3));
            assert_eq!(checksum, expected(0, total), "{test}");
        }
        assert_eq!(squares_below(4), 1 + 4 + 9);
        assert!(!supports("nbody"));
    }
}
