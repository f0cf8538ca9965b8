//! Where the time of a sample's threads went: each thread's own accounting, as the worker sent it
//! (`samples[].threads`), and its shares of the section: running, waiting for a CPU, blocked,
//! and idle after finishing early (or before starting late).
//!
//! These are facts of one sample, with no statistics: the runner uses them to measure a process
//! again when its threads ran on unequal CPUs, the analysis takes their medians per point.

use serde::{Deserialize, Serialize};

/// One thread's part of a sample.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadTime {
    /// When its part started, after the first thread's start, in nanoseconds.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub offset_ns: u64,
    /// Wall time of its part.
    pub wall_ns: u64,
    /// CPU time of its part.
    pub cpu_ns: u64,
    /// Time it was runnable but waited for a CPU (`/proc/self/task/TID/schedstat`), from
    /// before the start barrier to the end of its part, so a late start's wait counts; `None`
    /// where the kernel does not say.
    pub runq_ns: Option<u64>,
    /// Voluntary (it blocked) and involuntary (its CPU was taken) context switches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub switches: Option<[u64; 2]>,
    /// The CPU it was on when its part started and when it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<[u32; 2]>,
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde passes a reference"
)]
fn is_zero(value: &u64) -> bool {
    *value == 0
}

/// Slowest part's CPU time over the median of the others', at or above which parts that should
/// be equal were not: a CPU ran slower (or the work was not split evenly).
pub const UNEQUAL_IMBALANCE: f64 = 1.15;
/// Share of the threads' time spent blocked at or above which a point waits.
pub const BLOCKED_SHARE: f64 = 0.15;
/// Share of the threads' time spent waiting for a CPU at or above which other work took the
/// CPUs the threads needed.
pub const CPU_WAIT_SHARE: f64 = 0.10;
/// Below these shares nobody "blocked" or "waited for a CPU" worth naming.
pub const QUIET_SHARE: f64 = 0.08;
/// Idle share (threads done early, or started late) at or above which the threads' ends were
/// spread, whatever their CPU times.
pub const IDLE_SHARE: f64 = 0.15;

/// Shares of `threads × section wall time`, summing to about 1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TimeShares {
    pub running: f64,
    /// Runnable, waiting for a CPU; `None` where the kernel does not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_wait: Option<f64>,
    /// Neither running nor waiting for a CPU during its part: a lock, I/O, a queue, a sleep.
    pub blocked: f64,
    /// Started late, not for want of a CPU: released after the others, or waiting for the GIL
    /// (or a lock) before its part's clock started.
    #[serde(default)]
    pub late: f64,
    /// Done early: waiting for the slowest thread to finish.
    pub idle: f64,
    /// The slowest part's CPU time over the median of the other parts' (1.0 for one thread).
    pub imbalance: f64,
    /// CPU time per unit of work of the fastest part (the serial run's own, serially): against
    /// the serial run's, whether any thread ran at the single-thread pace.
    pub fastest_ns_per_unit: f64,
}

impl TimeShares {
    /// The shares of one sample of `wall_ns` and `work_units` (split evenly between the
    /// threads) from its threads' accounting; `None` without it.
    pub fn of(wall_ns: u64, work_units: u64, threads: &[ThreadTime]) -> Option<Self> {
        if threads.is_empty() || wall_ns == 0 {
            return None;
        }
        let units_per_part = work_units.max(1) as f64 / threads.len() as f64;
        let fastest = threads.iter().map(|t| t.cpu_ns).min().unwrap_or(0);
        let total = wall_ns as f64 * threads.len() as f64;
        let sum = |f: &dyn Fn(&ThreadTime) -> f64| threads.iter().map(f).sum::<f64>() / total;
        let has_runq = threads.iter().all(|t| t.runq_ns.is_some());
        // The run-queue wait counts from before the start barrier: inside the part first, the
        // rest before it (a late start), never more than the part or the offset hold.
        let cpu = |t: &ThreadTime| t.cpu_ns.min(t.wall_ns) as f64;
        let runq_in =
            |t: &ThreadTime| (t.runq_ns.unwrap_or(0) as f64).min(t.wall_ns as f64 - cpu(t));
        let runq_before = |t: &ThreadTime| {
            (t.runq_ns.unwrap_or(0) as f64 - runq_in(t))
                .min(t.offset_ns.min(wall_ns.saturating_sub(t.wall_ns)) as f64)
                .max(0.0)
        };
        let offset = |t: &ThreadTime| t.offset_ns.min(wall_ns.saturating_sub(t.wall_ns)) as f64;
        Some(Self {
            running: sum(&cpu),
            cpu_wait: has_runq.then(|| sum(&|t| runq_in(t) + runq_before(t))),
            blocked: sum(&|t| t.wall_ns as f64 - cpu(t) - runq_in(t)),
            late: sum(&|t| offset(t) - runq_before(t)),
            idle: sum(&|t| wall_ns.saturating_sub(t.wall_ns) as f64 - offset(t)),
            imbalance: imbalance(threads),
            fastest_ns_per_unit: fastest as f64 / units_per_part,
        })
    }

    /// Equal parts on unequal CPUs, as far as one sample tells: nobody blocked or waited for a
    /// CPU, yet one part took clearly longer on CPU than the others, or the parts ended far
    /// apart. (The verdict also asks whether the fastest part ran at the serial pace: see
    /// `analysis::verdict`.)
    pub fn unequal(&self) -> bool {
        self.blocked < QUIET_SHARE
            && self.cpu_wait.unwrap_or(0.0) < QUIET_SHARE
            && self.late < QUIET_SHARE
            && (self.imbalance >= UNEQUAL_IMBALANCE || self.idle >= IDLE_SHARE)
    }
}

/// The slowest part's CPU time over the median of the others'.
fn imbalance(threads: &[ThreadTime]) -> f64 {
    if threads.len() < 2 {
        return 1.0;
    }
    let mut cpu: Vec<u64> = threads.iter().map(|t| t.cpu_ns).collect();
    cpu.sort_unstable();
    let slowest = cpu.pop().unwrap_or(0);
    let median = if cpu.len() % 2 == 1 {
        cpu[cpu.len() / 2] as f64
    } else {
        // As floats: the sum of two u64 near the top would wrap (release) or panic (debug).
        f64::midpoint(cpu[cpu.len() / 2 - 1] as f64, cpu[cpu.len() / 2] as f64)
    };
    if median <= 0.0 {
        1.0
    } else {
        slowest as f64 / median
    }
}

/// The CPU the slowest part of a sample ran on (where it started and ended on the same one).
pub fn slowest_cpu(threads: &[ThreadTime]) -> Option<u32> {
    let slowest = threads.iter().max_by_key(|t| t.cpu_ns)?;
    let [first, last] = slowest.cpus?;
    (first == last).then_some(first)
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// A thread that ran `cpu_ms`, waited `runq_ms` for a CPU and was blocked `blocked_ms`.
    pub fn thread(cpu_ms: f64, runq_ms: f64, blocked_ms: f64) -> ThreadTime {
        let ms = |v: f64| (v * 1e6) as u64;
        ThreadTime {
            offset_ns: 0,
            wall_ns: ms(cpu_ms + runq_ms + blocked_ms),
            cpu_ns: ms(cpu_ms),
            runq_ns: Some(ms(runq_ms)),
            switches: None,
            cpus: None,
        }
    }

    fn shares(threads: &[ThreadTime]) -> TimeShares {
        let wall = threads
            .iter()
            .map(|t| t.offset_ns + t.wall_ns)
            .max()
            .unwrap();
        TimeShares::of(wall, 2 * threads.len() as u64, threads).unwrap()
    }

    #[test]
    fn the_shares_add_up_and_name_where_time_went() {
        // Two threads that ran all the time.
        let even = shares(&[thread(10.0, 0.0, 0.0), thread(10.0, 0.0, 0.0)]);
        assert!((even.running - 1.0).abs() < 1e-9 && even.idle == 0.0 && !even.unequal());
        // One slow CPU: 8.9 ms against 12.7 ms of CPU for equal parts.
        let slow = shares(&[thread(8.9, 0.0, 0.0), thread(12.7, 0.0, 0.0)]);
        assert!((slow.imbalance - 12.7 / 8.9).abs() < 1e-6);
        assert!((slow.idle - 3.8 / 25.4).abs() < 1e-6);
        assert!((slow.running + slow.idle - 1.0).abs() < 1e-6);
        assert!(slow.unequal());
        // A symmetric slow-down is not unequal.
        let both_slow = shares(&[thread(13.0, 0.0, 0.0), thread(12.7, 0.0, 0.0)]);
        assert!(!both_slow.unequal());
        // Blocked threads are not unequal CPUs, however unequal their ends.
        let locked = shares(&[thread(5.0, 0.0, 5.0), thread(5.0, 0.0, 0.0)]);
        assert!((locked.blocked - 0.25).abs() < 1e-9 && !locked.unequal());
        // Nor are threads that waited for a CPU.
        let busy = shares(&[thread(10.0, 4.0, 0.0), thread(10.0, 0.0, 0.0)]);
        assert!((busy.cpu_wait.unwrap() - 4.0 / 28.0).abs() < 1e-9 && !busy.unequal());
        // A thread released late because it waited for a CPU: that wait is no idle time.
        let mut late = thread(10.0, 3.0, 0.0);
        late.wall_ns = 10_000_000;
        late.offset_ns = 3_000_000;
        let late = shares(&[thread(13.0, 0.0, 0.0), late]);
        assert!(
            (late.cpu_wait.unwrap() - 3.0 / 26.0).abs() < 1e-9,
            "{late:?}"
        );
        assert!(
            late.idle.abs() < 1e-9 && late.blocked.abs() < 1e-9,
            "{late:?}"
        );
        // Without schedstat, waiting for a CPU reads as blocked and is not named.
        let mut old = thread(10.0, 0.0, 0.0);
        old.runq_ns = None;
        assert_eq!(shares(&[old.clone(), old]).cpu_wait, None);
        assert_eq!(TimeShares::of(0, 1, &[thread(1.0, 0.0, 0.0)]), None);
        assert_eq!(TimeShares::of(1, 1, &[]), None);
        // Two units a thread: the fastest part's pace is its CPU time over 2.
        assert!((slow.fastest_ns_per_unit - 8.9e6 / 2.0).abs() < 1.0);
    }

    #[test]
    fn an_imbalance_of_huge_cpu_times_does_not_wrap() {
        let huge = |cpu_ns| ThreadTime {
            cpu_ns,
            ..thread(1.0, 0.0, 0.0)
        };
        let parts = [huge(u64::MAX - 1), huge(u64::MAX - 1), huge(u64::MAX)];
        let ratio = imbalance(&parts);
        assert!((ratio - 1.0).abs() < 1e-9, "{ratio}");
    }

    #[test]
    fn the_slowest_part_names_its_cpu() {
        let mut fast = thread(8.9, 0.0, 0.0);
        fast.cpus = Some([0, 0]);
        let mut slow = thread(12.7, 0.0, 0.0);
        slow.cpus = Some([1, 1]);
        assert_eq!(slowest_cpu(&[fast.clone(), slow.clone()]), Some(1));
        slow.cpus = Some([1, 0]);
        assert_eq!(slowest_cpu(&[fast, slow]), None);
    }

    #[test]
    fn a_thread_serialises_small_and_reads_back() {
        let t = thread(1.0, 0.0, 0.0);
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, r#"{"wall_ns":1000000,"cpu_ns":1000000,"runq_ns":0}"#);
        assert_eq!(serde_json::from_str::<ThreadTime>(&json).unwrap(), t);
        let mut none = t;
        none.runq_ns = None;
        assert!(
            serde_json::to_string(&none)
                .unwrap()
                .contains(r#""runq_ns":null"#)
        );
    }
}
