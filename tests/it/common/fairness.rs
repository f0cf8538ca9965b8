//! Whether this machine, right now, can show the physics a test asserts.
//!
//! A shared VM has spells (minutes long) in which its two vCPUs cannot run two things at once at
//! full speed: a neighbour takes a host core, or both vCPUs land on one core's hyperthreads. A
//! physics test measured in such a spell sees a machine, not the code. So a physics test that
//! failed twice asks this probe, measured at once and apart from ftbench: on a machine the probe
//! calls fair the test fails; otherwise it says SKIPPED with the probe's figures. The probe never
//! decides a pass, and a machine it calls unfair is one on which the physics cannot be seen by
//! anyone: two Python processes that share nothing cannot reach 2x, or two CPUs writing one
//! cache line do not slow each other.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Two Python processes that share nothing reach at least this much of one's throughput on a
/// fair 2-CPU machine (1.9-2.0 on this VM when quiet).
const PARALLEL: f64 = 1.7;
/// Two threads each running ~10 ms of arithmetic finish at least this much sooner, per unit of
/// work, than one alone: a `--quick` sample's window (1.9-2.0 here when quiet).
const SHORT: f64 = 1.8;
/// Two threads incrementing one atomic take at least this many times as long as two
/// incrementing their own (2.5-3x across this VM's vCPUs when quiet; 1x when they take turns).
const CONTENDED: f64 = 2.0;

/// What the probe measured.
#[derive(Clone, Copy, Debug)]
pub struct Fairness {
    /// Throughput of two Python processes running at once, over one's alone (median of rounds).
    pub processes: f64,
    /// Wall time of two threads sharing one atomic counter over two with their own.
    pub shared_line: f64,
    /// Work per second of two threads running ~10 ms windows at once over one's alone.
    pub short_windows: f64,
}

impl Fairness {
    /// Measure now, with `python` (the interpreter the test measured): three interleaved rounds.
    pub fn measure(python: &Path) -> Self {
        let mut processes: Vec<f64> = (0..3).map(|_| processes_round(python)).collect();
        let mut shared: Vec<f64> = (0..3).map(|_| shared_line_round()).collect();
        let mut short: Vec<f64> = (0..3).map(|_| short_windows_round()).collect();
        Self {
            processes: median(&mut processes),
            shared_line: median(&mut shared),
            short_windows: median(&mut short),
        }
    }

    /// Two CPUs can run two independent things at once, at full speed.
    pub fn parallel(&self) -> bool {
        self.processes >= PARALLEL
    }

    /// Two CPUs run two threads in parallel within a `--quick` sample's ~10 ms too.
    pub fn parallel_in_short_windows(&self) -> bool {
        self.parallel() && self.short_windows >= SHORT
    }

    /// Two CPUs writing one cache line slow each other, as contention needs.
    pub fn contended(&self) -> bool {
        self.parallel() && self.shared_line >= CONTENDED
    }
}

impl std::fmt::Display for Fairness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "two Python processes reached {:.2}x of one (fair: >= {PARALLEL}), two threads in \
             10 ms windows {:.2}x of one (fair: >= {SHORT}), two threads on one cache line took \
             {:.1}x as long as on their own (fair: >= {CONTENDED})",
            self.processes, self.short_windows, self.shared_line
        )
    }
}

/// A physics test's checks failed twice (`failure` says how). Where the probe calls the machine
/// fair for it (`fair`), the test fails; otherwise it says SKIPPED with the probe's figures, under
/// CI too: the machine, measured apart, could not have shown the physics.
pub fn judge(python: &Path, failure: &str, fair: fn(&Fairness) -> bool) {
    let probe = Fairness::measure(python);
    assert!(!fair(&probe), "{failure} (on a fair machine: {probe})");
    super::say_skipped(&format!(
        "{failure}, on a machine that could not show it: {probe}"
    ));
}

/// One Python process alone, then two at once, each timing the same loop inside itself (start-up
/// excluded): the pair's summed throughput over the one's.
fn processes_round(python: &Path) -> f64 {
    const LOOP: &str = "import time\nt = time.perf_counter()\nacc = 0\nfor i in range(8_000_000): acc += i * i\nprint(time.perf_counter() - t)";
    let spawn = || {
        std::process::Command::new(python)
            .args(["-c", LOOP])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("the interpreter starts")
    };
    let seconds = |child: std::process::Child| -> f64 {
        let output = child.wait_with_output().expect("the probe finishes");
        String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .expect("the probe prints its time")
    };
    let alone = seconds(spawn());
    let pair = [spawn(), spawn()];
    let [a, b] = pair.map(seconds);
    alone / a + alone / b
}

/// Two threads each adding to one atomic, then each to its own (a cache line apart): the time of
/// the first over the second.
fn shared_line_round() -> f64 {
    #[repr(align(128))]
    struct Line(AtomicU64);
    const ADDS: u64 = 2_000_000;
    let time = |lines: [&Line; 2]| -> Duration {
        let start = Instant::now();
        std::thread::scope(|scope| {
            for line in lines {
                scope.spawn(move || {
                    for _ in 0..ADDS {
                        line.0.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        });
        start.elapsed()
    };
    let (one, two) = (Line(AtomicU64::new(0)), Line(AtomicU64::new(0)));
    let shared = time([&one, &one]);
    let own = time([&one, &two]);
    shared.as_secs_f64() / own.as_secs_f64().max(1e-9)
}

/// Twenty ~10 ms windows: one thread alone, then two at once (fresh threads each time, as a
/// plain program would start them), each doing the same arithmetic; the work per second of the
/// two over the one's, median over the windows.
fn short_windows_round() -> f64 {
    let spin = |n: u64| {
        let mut acc = 0u64;
        for i in 0..n {
            acc = std::hint::black_box(acc.wrapping_mul(31).wrapping_add(i));
        }
        acc
    };
    // Work for ~10 ms on one thread.
    let mut n = 1u64 << 16;
    while {
        let start = Instant::now();
        spin(n);
        start.elapsed() < Duration::from_millis(10)
    } {
        n *= 2;
    }
    let window = |threads: usize| -> Duration {
        let start = Instant::now();
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| spin(n));
            }
        });
        start.elapsed()
    };
    let mut ratios: Vec<f64> = (0..20)
        .map(|_| {
            let one = window(1).as_secs_f64();
            let two = window(2).as_secs_f64();
            2.0 * one / two.max(1e-9)
        })
        .collect();
    median(&mut ratios)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
