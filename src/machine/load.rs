//! Other work on the machine: how much CPU everything else used while a worker measured, whether
//! that disturbed it, and waiting for a quiet machine.
//!
//! The sources Linux gives everywhere: `/proc/stat` (non-idle and steal time of all CPUs, in
//! 10 ms ticks), `/proc/pressure/cpu` (PSI: time some runnable task waited for a CPU, in µs)
//! and `getrusage` (ftbench's own CPU and its reaped workers', in µs). Kernels without
//! schedstats have no finer machine-wide counter, so a 20 ms sample alone cannot tell a busy
//! core from tick rounding. Disturbance is therefore judged per worker process, over its whole
//! life (hundreds of milliseconds), with the rounding subtracted: a worker is disturbed when
//! everything else used more than the CPUs its threads left free, beyond
//! [`DISTURBED_OTHER_LOAD`] and the tick resolution, or when the hypervisor stole more than
//! [`DISTURBED_STEAL`] of the machine.

use std::time::{Duration, Instant};

/// CPUs' worth of other work, beyond the CPUs the point left free, that disturbs it.
pub const DISTURBED_OTHER_LOAD: f64 = 0.1;
/// Share of the machine's CPU time stolen by the hypervisor that disturbs a point.
pub const DISTURBED_STEAL: f64 = 0.05;
/// The longest ftbench waits for a quiet machine before a point.
pub const MAX_WAIT: Duration = Duration::from_secs(10);
/// How often a disturbed worker process is measured again.
pub const MAX_RETRIES: u32 = 2;

/// `/proc/stat` counts in `USER_HZ` ticks, 100 per second on every Linux (it is ABI).
const TICK_NS: f64 = 10_000_000.0;

/// The machine's CPU counters at one moment.
#[derive(Debug, Clone, Copy)]
pub struct Counters {
    at: Instant,
    /// Non-idle and steal ticks of all CPUs, when `/proc/stat` is readable.
    stat: Option<(u64, u64)>,
    /// PSI "some" CPU stall total, µs.
    psi_us: Option<u64>,
    /// CPU of ftbench and of its reaped children (finished workers), ns.
    own_ns: u64,
}

fn proc_stat() -> Option<(u64, u64)> {
    let text = fs_err::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> = text
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .map(|v| v.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal
    let busy =
        fields.first()? + fields.get(1)? + fields.get(2)? + fields.get(5)? + fields.get(6)?;
    Some((busy, fields.get(7).copied().unwrap_or(0)))
}

fn psi_us() -> Option<u64> {
    let text = fs_err::read_to_string("/proc/pressure/cpu").ok()?;
    text.lines()
        .next()?
        .split("total=")
        .nth(1)?
        .trim()
        .parse()
        .ok()
}

/// User + system CPU time of `who` (this process, or its reaped children), in nanoseconds.
pub fn rusage_ns(who: nix::sys::resource::UsageWho) -> u64 {
    nix::sys::resource::getrusage(who).map_or(0, |usage| {
        let ns = |t: nix::sys::time::TimeVal| {
            t.tv_sec().max(0) as u64 * 1_000_000_000 + t.tv_usec().max(0) as u64 * 1000
        };
        ns(usage.user_time()) + ns(usage.system_time())
    })
}

impl Counters {
    pub fn read() -> Self {
        use nix::sys::resource::UsageWho;
        Self {
            at: Instant::now(),
            stat: proc_stat(),
            psi_us: psi_us(),
            own_ns: rusage_ns(UsageWho::RUSAGE_SELF) + rusage_ns(UsageWho::RUSAGE_CHILDREN),
        }
    }

    /// The raw counts between `self` and `later`, as a worker reports them for a sample:
    /// `(window_ns, busy_ns, steal_ns, own_ns, cpu_wait_ns)`.
    pub fn raw_until(&self, later: &Self) -> RawCounts {
        let stat = self.stat.zip(later.stat);
        RawCounts {
            window_ns: later.at.duration_since(self.at).as_nanos() as u64,
            busy_ns: stat.map(|((a, _), (b, _))| (b.saturating_sub(a) as f64 * TICK_NS) as u64),
            steal_ns: stat.map(|((_, a), (_, b))| (b.saturating_sub(a) as f64 * TICK_NS) as u64),
            own_ns: later.own_ns.saturating_sub(self.own_ns),
            cpu_wait_ns: self
                .psi_us
                .zip(later.psi_us)
                .map(|(a, b)| b.saturating_sub(a) * 1000),
        }
    }

    /// What happened on the machine between `self` and `later`, `None` without `/proc/stat`.
    pub fn until(&self, later: &Self) -> Option<OtherWork> {
        let ((busy0, steal0), (busy1, steal1)) = (self.stat?, later.stat?);
        let window_ns = later.at.duration_since(self.at).as_nanos() as f64;
        if window_ns <= 0.0 {
            return None;
        }
        let cpus = usable_cpus() as f64;
        let busy_ns = busy1.saturating_sub(busy0) as f64 * TICK_NS;
        let own_ns = later.own_ns.saturating_sub(self.own_ns) as f64;
        let steal_ticks = steal1.saturating_sub(steal0);
        Some(OtherWork {
            other_load: ((busy_ns - own_ns) / window_ns).max(0.0),
            // Each CPU's counter may be a tick off at either end.
            resolution: 2.0 * cpus * TICK_NS / window_ns,
            steal: if steal_ticks >= 2 {
                steal_ticks as f64 * TICK_NS / (window_ns * cpus)
            } else {
                0.0
            },
            cpu_wait: self
                .psi_us
                .zip(later.psi_us)
                .map(|(a, b)| b.saturating_sub(a) as f64 * 1000.0 / window_ns),
            window: Duration::from_nanos(window_ns as u64),
        })
    }
}

/// Counter differences over a window, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[expect(
    clippy::struct_field_names,
    reason = "units in the names, as the worker sends them"
)]
pub struct RawCounts {
    pub window_ns: u64,
    pub busy_ns: Option<u64>,
    pub steal_ns: Option<u64>,
    pub own_ns: u64,
    pub cpu_wait_ns: Option<u64>,
}

/// Other work on the machine over a window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OtherWork {
    /// CPUs' worth of time used by everything but ftbench and its workers (0 idle, 1 = one core).
    pub other_load: f64,
    /// How far off `other_load` may be from tick rounding alone, in CPUs.
    pub resolution: f64,
    /// Share of all CPUs' time stolen by the hypervisor.
    pub steal: f64,
    /// PSI: share of the window during which some runnable task waited for a CPU.
    pub cpu_wait: Option<f64>,
    pub window: Duration,
}

impl OtherWork {
    /// Whether other work took CPUs that `needed` threads needed, beyond rounding.
    pub fn disturbs(&self, needed: u32) -> bool {
        let free = (usable_cpus() as f64 - f64::from(needed.max(1))).max(0.0);
        self.other_load - self.resolution > free + DISTURBED_OTHER_LOAD
            || self.steal > DISTURBED_STEAL
    }
}

/// The CPUs this process may run on (affinity and cgroup quota included), read once: it is
/// asked for every sample, and `available_parallelism` reads the cgroup files each time.
pub fn usable_cpus() -> usize {
    static CPUS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CPUS.get_or_init(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get))
}

/// How much more waiting for a quiet machine a run will do.
///
/// Each (test, label) may wait [`MAX_WAIT`] in all; after two of them waited that long in vain
/// the machine is taken as busy for good, and the rest of the run measures without waiting or
/// retrying (as `--allow-load` does from the start), marking what other work disturbed.
#[derive(Debug)]
pub struct Patience {
    left: Duration,
    exhausted: u32,
    said: bool,
}

impl Default for Patience {
    fn default() -> Self {
        Self {
            left: MAX_WAIT,
            exhausted: 0,
            said: false,
        }
    }
}

impl Patience {
    /// A new (test, label): a fresh budget.
    pub fn next_pair(&mut self) {
        self.left = MAX_WAIT;
        self.said = false;
    }

    /// Whether waiting and retrying still make sense.
    pub fn willing(&self) -> bool {
        self.exhausted < 2 && !self.left.is_zero()
    }

    /// Wait for other work to leave `needed` CPUs free, from this pair's budget, until `stop`
    /// says to stop; say so once. Returns whether the machine got quiet.
    pub fn wait(&mut self, needed: u32, say: impl Fn(&str), stop: &dyn Fn() -> bool) -> bool {
        let said = self.said;
        let (waited, quiet) = wait_for_quiet((needed, self.left), stop, |text| {
            if !said {
                say(text);
            }
        });
        self.said = true;
        self.left = self.left.saturating_sub(waited);
        if !quiet && self.left.is_zero() {
            self.exhausted += 1;
            if self.exhausted == 2 {
                say(
                    "the machine stays busy: measuring on without waiting, marking disturbed points (--allow-load skips the waiting from the start)",
                );
            }
        }
        quiet
    }
}

/// Wait until other work leaves `needed` CPUs free (or `max` passes, or `stop` says to stop),
/// calling `say` once with what is busy. Returns how long it waited and whether the machine got
/// quiet.
pub fn wait_for_quiet(
    (needed, max): (u32, Duration),
    stop: &dyn Fn() -> bool,
    say: impl Fn(&str),
) -> (Duration, bool) {
    let start = Instant::now();
    let mut said = false;
    loop {
        let before = Counters::read();
        std::thread::sleep(Duration::from_millis(250));
        let Some(load) = before.until(&Counters::read()) else {
            return (start.elapsed(), true);
        };
        if !load.disturbs(needed) {
            return (start.elapsed(), true);
        }
        if start.elapsed() >= max || stop() {
            return (start.elapsed(), false);
        }
        if !said {
            say(&format!(
                "waiting up to {:.0} s for a quiet machine: other work is using {:.1} CPU(s) of {}",
                max.as_secs_f64(),
                load.other_load,
                usable_cpus()
            ));
            said = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(other_load: f64, resolution: f64, steal: f64) -> OtherWork {
        OtherWork {
            other_load,
            resolution,
            steal,
            cpu_wait: None,
            window: Duration::from_millis(500),
        }
    }

    #[test]
    fn other_work_disturbs_only_the_cpus_a_point_needs() {
        let cpus = usable_cpus() as u32;
        // A whole core busy elsewhere disturbs a point that needs every CPU...
        assert!(load(1.0, 0.05, 0.0).disturbs(cpus));
        // ...not one that leaves that core free,
        if cpus >= 2 {
            assert!(!load(1.0, 0.05, 0.0).disturbs(cpus - 1));
        }
        // nor tick rounding, nor a trace of load.
        assert!(!load(0.3, 0.3, 0.0).disturbs(cpus));
        assert!(!load(0.05, 0.0, 0.0).disturbs(cpus));
        assert!(load(0.0, 0.0, 0.2).disturbs(1));
    }

    #[test]
    fn counters_read_on_linux() {
        let before = Counters::read();
        std::thread::sleep(Duration::from_millis(50));
        let load = before.until(&Counters::read()).expect("/proc/stat exists");
        assert!(load.other_load >= 0.0 && load.resolution > 0.0);
        assert!(load.window >= Duration::from_millis(50));
    }
}
