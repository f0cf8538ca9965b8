//! Why a point does (not) scale: one verdict per multi-threaded point, from its speedup, where
//! its threads' time went (each thread's own accounting: running, waiting for a CPU, blocked,
//! idle after finishing early; see [`crate::results::threads`]), the GIL state, other work on
//! the machine, and its thread count against the CPUs the run used.
//!
//! The rules, first match wins (a point at 0 or 1 thread gets none):
//!
//! | verdict          | when                                                                 |
//! | ---------------- | -------------------------------------------------------------------- |
//! | `disturbed`      | other work on the machine took CPUs the point needed                 |
//! | `scales`         | efficiency (speedup / threads) >= 0.8                                |
//! | `gil`            | the GIL was on (a GIL build, `+gil`, or a sample found it re-enabled) |
//! |                  | and the threads took turns: at least [`GIL_TURNS`] CPU busy, less    |
//! |                  | than [`WAITING_PARALLELISM`] of the threads running; never for       |
//! |                  | process pools, whose processes each have their own GIL              |
//! | `oversubscribed` | more threads than CPUs                                               |
//! | `disturbed`      | threads waited for a CPU ([`CPU_WAIT_SHARE`] of their time or more,  |
//! |                  | more than they were blocked): other work had the CPUs                |
//! | `waits`          | threads were blocked ([`BLOCKED_SHARE`] of their time or more)       |
//! | `contends`       | every part ran slower than a lone thread ([`SERIAL_PACE`]x its CPU   |
//! |                  | time per unit of work), beyond what the run's CPU probe says the     |
//! |                  | machine's CPUs explain: the threads slowed each other down           |
//! | `unequal`        | the fastest part ran at a lone thread's pace, and one part took      |
//! |                  | clearly longer on CPU than the others                                |
//! |                  | ([`crate::results::threads::UNEQUAL_IMBALANCE`]x) or the parts ended |
//! |                  | far apart, with nobody blocked or waiting for a CPU; or the probe    |
//! |                  | found the CPUs unequal: the machine, not the code                    |
//! | `contends`       | otherwise (threads ran, and the loss is theirs)                      |
//!
//! Points without per-thread accounting (files from older ftbench versions, process pools, a
//! thread pool the test runs itself) keep the older rule: `waits` when the threads ran less than
//! [`WAITING_PARALLELISM`] of the time, else `contends`.
//!
//! Voluntary context switches are reported beside the verdict as evidence (a thread that blocks
//! switches voluntarily), not used to decide it: their count depends on how long a sample is.

use serde::{Deserialize, Serialize};

use crate::results::TimeShares;
pub use crate::results::threads::{BLOCKED_SHARE, CPU_WAIT_SHARE};

/// The fastest part's CPU time per unit of work over the serial run's, at or below which it ran
/// at the single-thread pace: a slow-down that hit every part (contention) reads above it.
pub const SERIAL_PACE: f64 = 1.15;

/// Efficiency at or above which a point scales.
pub const SCALING_EFFICIENCY: f64 = 0.8;

/// Below this share of its threads running (effective parallelism / threads), a point waits.
pub const WAITING_PARALLELISM: f64 = 0.7;

/// CPUs the threads of a GIL point keep busy together, at least, for the GIL to be the reason
/// they do not scale: threads taking turns on the GIL keep about one CPU busy; threads that
/// sleep (I/O) keep far less busy and are waiting, GIL or not. On 16 cores the I/O pool of a
/// GIL build read 0.15 CPUs at 8 threads, the CPU-bound one 1.0.
pub const GIL_TURNS: f64 = 0.5;

/// Why a point does or does not scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Scales,
    Gil,
    Waits,
    Contends,
    Oversubscribed,
    Disturbed,
    Unequal,
    /// Processes that do not scale: they share nothing, so they cannot contend; what grows is
    /// the pool's own cost.
    Overhead,
}

/// What a verdict is judged from.
#[derive(Debug, Clone, Copy)]
pub struct Evidence {
    pub thread_count: u32,
    pub efficiency: Option<f64>,
    /// CPU-seconds of the timed threads per wall-second.
    pub parallelism: Option<f64>,
    /// The GIL was on while the point ran.
    pub gil: bool,
    /// The parallel units are processes (each with its own GIL), not threads.
    pub processes: bool,
    pub disturbed: bool,
    pub usable_cpus: usize,
    /// Where the threads' time went (medians over samples), when they said.
    pub time: Option<TimeShares>,
    /// A lone thread's CPU time per unit of work (the serial run's, or the 1-thread point's
    /// where slower), when they said.
    pub serial_ns_per_unit: Option<f64>,
    /// How much slower than the fastest CPU alone the run's CPUs could be, by the machine's own
    /// probe at the start of the run (`check.cpus`: the slowest CPU alone, or any CPU while all
    /// were busy): 1.0 for a machine whose CPUs were equal.
    pub machine_slowdown: f64,
}

impl Verdict {
    /// The verdict for a point; `None` below 2 threads, without a speedup, or without CPU
    /// accounting (files from older ftbench versions, imports).
    pub fn judge(evidence: &Evidence) -> Option<Self> {
        let threads = evidence.thread_count;
        if threads < 2 {
            return None;
        }
        if evidence.disturbed {
            return Some(Self::Disturbed);
        }
        let efficiency = evidence.efficiency?;
        // Files measured before ftbench kept CPU accounting get no verdict.
        let parallelism = evidence.parallelism?;
        if efficiency >= SCALING_EFFICIENCY {
            return Some(Self::Scales);
        }
        let waiting = parallelism < WAITING_PARALLELISM * f64::from(threads);
        if evidence.gil && !evidence.processes && waiting && parallelism >= GIL_TURNS {
            return Some(Self::Gil);
        }
        if threads as usize > evidence.usable_cpus {
            return Some(Self::Oversubscribed);
        }
        if evidence.processes {
            // Processes share no object, lock or reference count: whatever slowed them is the
            // pool's start-up, memory and messages, never contention.
            return Some(Self::Overhead);
        }
        if let Some(time) = evidence.time.filter(|_| !evidence.processes) {
            let cpu_wait = time.cpu_wait.unwrap_or(0.0);
            if cpu_wait >= CPU_WAIT_SHARE && cpu_wait >= time.blocked {
                return Some(Self::Disturbed);
            }
            if time.blocked >= BLOCKED_SHARE {
                return Some(Self::Waits);
            }
            // Every part slower than a lone thread, beyond what the machine's CPUs explain:
            // the threads slowed each other down.
            let machine = evidence.machine_slowdown.max(1.0);
            let slowed = evidence
                .serial_ns_per_unit
                .filter(|s| *s > 0.0)
                .is_some_and(|lone| time.fastest_ns_per_unit / lone > SERIAL_PACE * machine);
            if slowed {
                return Some(Self::Contends);
            }
            if time.unequal() || machine > 1.0 / crate::machine::probe::UNEQUAL_SPEED {
                return Some(Self::Unequal);
            }
            return Some(Self::Contends);
        }
        if waiting {
            Some(Self::Waits)
        } else {
            Some(Self::Contends)
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scales => "scales",
            Self::Gil => "gil",
            Self::Waits => "waits",
            Self::Contends => "contends",
            Self::Oversubscribed => "oversubscribed",
            Self::Disturbed => "disturbed",
            Self::Unequal => "unequal",
            Self::Overhead => "overhead",
        }
    }

    /// One sentence: what the verdict means and what to do about it.
    pub fn advice(self) -> &'static str {
        match self {
            Self::Scales => {
                "Each added thread adds at least 80% of a thread's work: more threads help, up to the number of CPUs."
            }
            Self::Gil => {
                "The GIL was on, so threads took turns: use a free-threaded build (3.13t or later), and if an extension turned the GIL back on (`ftbench audit` names every one an environment holds), ask for a release that declares free-threading support (`Py_mod_gil`); `PYTHON_GIL=0` forces it off at your own risk."
            }
            Self::Waits => {
                "Threads spent their time blocked (a lock, I/O, a queue, a join): hold locks for less time, give each thread its own state, or batch work between waits."
            }
            Self::Contends => {
                "Threads ran but slowed each other down (shared objects' reference counts, shared cache lines, the allocator or memory bandwidth): give each thread its own copies, avoid writing to shared containers, and prefer immortal or thread-local objects for what all threads read."
            }
            Self::Oversubscribed => {
                "More threads than usable CPUs: they take turns on the CPUs, so look at the thread counts up to the CPU count."
            }
            Self::Disturbed => {
                "Other work on the machine took CPUs this point needed (threads waited for a CPU): measure again on a quiet machine (`ftbench check` says what is busy)."
            }
            Self::Overhead => {
                "Processes share nothing, so they do not contend: what grows with them is the pool's own cost, starting each process (fork or spawn, imports), the memory each copies, and pickling tasks and results through pipes; give each task more work, or use threads on a free-threaded build."
            }
            Self::Unequal => {
                "The machine, not the code: threads given equal parts ran at the serial pace but some took longer than others, with none blocked or waiting for a CPU, as on CPUs of unequal speed (a VM's vCPUs, efficiency cores, turbo); `ftbench check` measures each CPU, and `--cpus` keeps the run on CPUs of one speed; if your own parts are not equal work, split them evenly."
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::threads::tests::thread;

    fn evidence(thread_count: u32, efficiency: f64, parallelism: f64) -> Evidence {
        Evidence {
            thread_count,
            efficiency: Some(efficiency),
            parallelism: Some(parallelism),
            gil: false,
            processes: false,
            disturbed: false,
            usable_cpus: 2,
            time: None,
            serial_ns_per_unit: None,
            machine_slowdown: 1.0,
        }
    }

    /// Two threads' evidence: efficiency, then their parts (CPU ms, wait for a CPU ms, blocked
    /// ms) for two units each; the serial run took 10 ms of CPU for two units.
    fn two_threads(efficiency: f64, parts: [(f64, f64, f64); 2]) -> Evidence {
        let threads: Vec<_> = parts.iter().map(|&(c, r, b)| thread(c, r, b)).collect();
        let wall = threads.iter().map(|t| t.wall_ns).max().unwrap();
        Evidence {
            time: TimeShares::of(wall, 4, &threads),
            serial_ns_per_unit: Some(5e6),
            ..evidence(2, efficiency, 2.0 * efficiency)
        }
    }

    #[test]
    fn per_thread_evidence_names_the_cause() {
        let judge = |e: Evidence| Verdict::judge(&e);
        // Blocked half the time on a lock: waits.
        assert_eq!(
            judge(two_threads(0.5, [(10.0, 0.0, 10.0), (10.0, 0.0, 0.0)])),
            Some(Verdict::Waits)
        );
        // Runnable but waiting for a CPU (a busy process beside it): the machine, not `waits`
        // nor `contends`.
        assert_eq!(
            judge(two_threads(0.6, [(10.0, 8.0, 0.0), (10.0, 0.0, 0.0)])),
            Some(Verdict::Disturbed)
        );
        // Done early: one part took 1.43x the CPU of the other, the fast one at the serial
        // pace (the VM's slow vCPU).
        assert_eq!(
            judge(two_threads(0.7, [(10.0, 0.0, 0.0), (14.3, 0.0, 0.0)])),
            Some(Verdict::Unequal)
        );
        // A symmetric slow-down (a shared float's reference count): both parts at 2x the serial
        // pace, so contends, even when one is a little slower than the other.
        assert_eq!(
            judge(two_threads(0.5, [(20.0, 0.0, 0.0), (20.5, 0.0, 0.0)])),
            Some(Verdict::Contends)
        );
        assert_eq!(
            judge(two_threads(0.4, [(20.0, 0.0, 0.0), (25.0, 0.0, 0.0)])),
            Some(Verdict::Contends)
        );
        // Unequal and scaling anyway: scales comes first.
        assert_eq!(
            judge(two_threads(0.85, [(10.0, 0.0, 0.0), (11.7, 0.0, 0.0)])),
            Some(Verdict::Scales)
        );
        // A process pool that does not scale is its own overhead, never contention.
        let pool = Evidence {
            processes: true,
            ..two_threads(0.5, [(10.0, 0.0, 0.0), (14.3, 0.0, 0.0)])
        };
        assert_eq!(judge(pool), Some(Verdict::Overhead));
        // 16 threads that never block, one CPU slower: not `waits` (the 16-core pure loop).
        let mut parts: Vec<_> = (0..15).map(|_| thread(10.0, 0.0, 0.0)).collect();
        parts.push(thread(17.0, 0.0, 0.0));
        let sixteen = Evidence {
            time: TimeShares::of(17_000_000, 32, &parts),
            serial_ns_per_unit: Some(5e6),
            usable_cpus: 16,
            ..evidence(16, 0.58, 9.38)
        };
        assert_eq!(judge(sixteen), Some(Verdict::Unequal));
        // Both parts at 1.4x a lone thread's pace, evenly: contends on a machine whose CPUs
        // were equal, the machine's doing where its probe found a CPU 1.4x slower.
        let even_slow = two_threads(0.7, [(14.0, 0.0, 0.0), (14.0, 0.0, 0.0)]);
        assert_eq!(judge(even_slow), Some(Verdict::Contends));
        let slow_machine = Evidence {
            machine_slowdown: 1.4,
            ..two_threads(0.7, [(14.0, 0.0, 0.0), (14.0, 0.0, 0.0)])
        };
        assert_eq!(judge(slow_machine), Some(Verdict::Unequal));
        // A float read by both threads slows them 2.6x: contends even on that machine.
        let shared = Evidence {
            machine_slowdown: 1.4,
            ..two_threads(0.4, [(26.0, 0.0, 0.0), (26.0, 0.0, 0.0)])
        };
        assert_eq!(judge(shared), Some(Verdict::Contends));
    }

    #[test]
    fn each_rule_in_its_order() {
        let judge = |e: Evidence| Verdict::judge(&e);
        assert_eq!(judge(evidence(1, 1.0, 1.0)), None);
        assert_eq!(judge(evidence(2, 0.95, 1.98)), Some(Verdict::Scales));
        assert_eq!(judge(evidence(2, 0.5, 1.0)), Some(Verdict::Waits));
        assert_eq!(judge(evidence(2, 0.4, 1.9)), Some(Verdict::Contends));
        assert_eq!(
            judge(evidence(4, 0.48, 1.96)),
            Some(Verdict::Oversubscribed)
        );
        // An I/O-bound point scales though its threads hardly use a CPU.
        assert_eq!(judge(evidence(2, 0.99, 0.01)), Some(Verdict::Scales));
        let gil = Evidence {
            gil: true,
            ..evidence(4, 0.25, 1.0)
        };
        assert_eq!(judge(gil), Some(Verdict::Gil));
        // A GIL build's sleeping I/O threads wait; its process pool is not held by a GIL, nor
        // are threads that run in parallel (numpy releases the GIL in its loops).
        let io = Evidence {
            gil: true,
            usable_cpus: 16,
            ..evidence(8, 0.66, 0.15)
        };
        assert_eq!(judge(io), Some(Verdict::Waits));
        let pool = Evidence {
            gil: true,
            processes: true,
            usable_cpus: 16,
            ..evidence(8, 0.7, 7.4)
        };
        assert_eq!(judge(pool), Some(Verdict::Overhead));
        let numpy = Evidence {
            gil: true,
            usable_cpus: 16,
            ..evidence(4, 0.79, 3.4)
        };
        assert_eq!(judge(numpy), Some(Verdict::Contends));
        let numpy_turns = Evidence {
            gil: true,
            usable_cpus: 16,
            ..evidence(8, 0.31, 3.7)
        };
        assert_eq!(judge(numpy_turns), Some(Verdict::Gil));
        let busy = Evidence {
            disturbed: true,
            ..evidence(2, 0.95, 1.98)
        };
        assert_eq!(judge(busy), Some(Verdict::Disturbed));
        // Without accounting (an old file) there is no verdict.
        let old = Evidence {
            parallelism: None,
            ..evidence(2, 0.5, 0.0)
        };
        assert_eq!(judge(old), None);
        let no_speedup = Evidence {
            efficiency: None,
            ..evidence(2, 0.5, 1.0)
        };
        assert_eq!(judge(no_speedup), None);
    }

    #[test]
    fn every_verdict_has_a_name_and_advice() {
        for verdict in [
            Verdict::Scales,
            Verdict::Gil,
            Verdict::Waits,
            Verdict::Contends,
            Verdict::Oversubscribed,
            Verdict::Disturbed,
            Verdict::Unequal,
            Verdict::Overhead,
        ] {
            assert_eq!(
                serde_json::to_value(verdict).unwrap(),
                serde_json::json!(verdict.as_str())
            );
            assert!(verdict.advice().ends_with('.'));
        }
    }
}
