//! How fast each CPU is: a short native loop pinned to each usable CPU in turn, over a few
//! rounds, and the core types the kernel exposes (hybrid performance/efficiency cores).
//!
//! Why: on a VM one virtual CPU can run ~40% slower than another for seconds at a time without
//! reporting steal; laptops mix performance and efficiency cores; turbo differs by core. Threads
//! given equal parts then finish at different times, and a scaling curve bends for reasons that
//! have nothing to do with the code. The probe names the machine as the cause.
//!
//! Each round visits every CPU once, in alternating order (ABBA), so drift over the probe
//! spreads over all CPUs; a CPU's speed is the median of its rounds, relative to the fastest
//! CPU. A round in which the loop did not have its CPU to itself (CPU time well below wall
//! time: another task ran there) is left out.

use std::hint::black_box;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::cpus;
pub use crate::model::machine::CpuSpeed;

/// A CPU slower than this share of the fastest one makes equal parts unequal: a problem.
pub const UNEQUAL_SPEED: f64 = 0.9;
/// CPUs that run below this share of their lone speed when all are busy bend scaling curves.
pub const LOADED_SPEED: f64 = 0.9;
/// How long one pinned loop runs, roughly.
const LOOP_TARGET: Duration = Duration::from_millis(4);
/// Rounds at least and at most, whatever the budget.
const MIN_ROUNDS: usize = 3;
const MAX_ROUNDS: usize = 25;

/// Every usable CPU's speed, measured together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CpuProbe {
    pub cpus: Vec<CpuSpeed>,
    /// How long the probe took, in seconds.
    pub seconds: f64,
}

impl CpuProbe {
    /// The slowest CPU's speed against the fastest: 1.0 when all are equal.
    pub fn slowest(&self) -> Option<&CpuSpeed> {
        self.cpus
            .iter()
            .filter(|c| c.rounds > 0)
            .min_by(|a, b| a.relative_speed.total_cmp(&b.relative_speed))
    }

    /// `1 - slowest relative speed`: 0 for equal CPUs.
    pub fn spread(&self) -> f64 {
        self.slowest().map_or(0.0, |c| 1.0 - c.relative_speed)
    }

    /// The largest drift of any CPU, by size.
    pub fn drift(&self) -> f64 {
        self.cpus
            .iter()
            .map(|c| c.drift)
            .max_by(|a, b| a.abs().total_cmp(&b.abs()))
            .unwrap_or(0.0)
    }

    /// Whether some CPU runs clearly slower than the fastest.
    pub fn unequal(&self) -> bool {
        self.slowest()
            .is_some_and(|c| c.relative_speed < UNEQUAL_SPEED)
    }

    /// The lowest speed of a CPU while all ran at once, against its own alone.
    pub fn loaded(&self) -> Option<f64> {
        self.cpus
            .iter()
            .filter_map(|c| c.loaded_speed)
            .min_by(f64::total_cmp)
    }

    /// One line: `2 CPUs within 3%`, or which is slower.
    pub fn summary(&self) -> String {
        let measured = self.cpus.iter().filter(|c| c.rounds > 0).count();
        let Some(slowest) = self.slowest() else {
            return "no CPU could be measured alone".to_string();
        };
        let fastest = self
            .cpus
            .iter()
            .filter(|c| c.rounds > 0)
            .max_by(|a, b| a.relative_speed.total_cmp(&b.relative_speed))
            .unwrap_or(slowest);
        let drift = self.drift();
        let mut drift = if drift.abs() >= 0.03 {
            format!("; drifted {:+.0}% during the probe", drift * 100.0)
        } else {
            String::new()
        };
        if let Some(loaded) = self.loaded().filter(|l| *l < LOADED_SPEED) {
            let _ = std::fmt::Write::write_fmt(
                &mut drift,
                format_args!("; {loaded:.2}x of their lone speed when all are busy"),
            );
        }
        if self.unequal() {
            format!(
                "CPU {} runs at {:.2}x the speed of CPU {} ({} CPUs measured{drift})",
                slowest.cpu, slowest.relative_speed, fastest.cpu, measured
            )
        } else {
            format!(
                "{measured} CPU(s) within {:.0}% of each other{drift}",
                self.spread() * 100.0
            )
        }
    }
}

/// Entries of the probe's table: 256 KiB of `u32`, the size of a core's L2 cache or a share
/// of it, where an interpreter's working set lives.
const TABLE_ENTRIES: usize = 64 * 1024;

/// The probe's table, built once per process (the opening probe and every per-round one).
fn table() -> &'static [u32] {
    static TABLE: std::sync::OnceLock<Vec<u32>> = std::sync::OnceLock::new();
    TABLE.get_or_init(cycle_table)
}

/// One random cycle through all entries: `table[i]` is the entry after `i`.
fn cycle_table() -> Vec<u32> {
    let mut order: Vec<u32> = (0..TABLE_ENTRIES as u32).collect();
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    for k in (1..order.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        order.swap(k, (x % (k as u64 + 1)) as usize);
    }
    let mut table = vec![0u32; order.len()];
    for (k, &from) in order.iter().enumerate() {
        table[from as usize] = order[(k + 1) % order.len()];
    }
    table
}

/// The probe's loop: `iterations` steps of a pointer chase through the table, each with a
/// data-dependent branch. A loop of arithmetic alone sees only the clock; on a VM here two
/// vCPUs ran such a loop at the same speed while one ran Python 15-35% slower (its core's
/// caches shared with a neighbour), which this loop sees as Python does.
fn spin(table: &[u32], iterations: u64) -> u64 {
    let mut at = 0u32;
    let mut acc = black_box(0x9E37_79B9_7F4A_7C15u64);
    for step in 0..black_box(iterations) {
        at = table[at as usize];
        acc = acc.wrapping_add(u64::from(at) ^ step);
        if acc & 1 == 0 {
            acc = acc.rotate_left(3);
        }
    }
    acc
}

/// One timed loop: (wall ns, whether it had its CPU to itself).
fn timed(table: &[u32], iterations: u64) -> (u64, bool) {
    let cpu = cpus::thread_cpu_ns();
    let start = Instant::now();
    black_box(spin(table, iterations));
    let wall = start.elapsed().as_nanos() as u64;
    let cpu = cpus::thread_cpu_ns().saturating_sub(cpu);
    // The loop never blocks: wall time beyond its CPU time is time another task had the CPU.
    (wall, cpu as f64 >= 0.9 * wall as f64)
}

/// Iterations of the loop for about `target` on the calling thread's CPU, from `start` up.
fn calibrate(table: &[u32], target: Duration, start: u64) -> u64 {
    let target = target.as_nanos() as u64;
    let mut iterations = start;
    loop {
        let (wall, _) = timed(table, iterations);
        if wall >= target / 2 || iterations >= 1 << 34 {
            return (iterations as f64 * target as f64 / wall.max(1) as f64) as u64;
        }
        iterations *= 4;
    }
}

/// Core types from the kernel's hybrid PMU folders: CPU → `performance` / `efficiency`.
fn core_types() -> Vec<(u32, &'static str)> {
    let mut types = Vec::new();
    for (folder, name) in [
        ("/sys/devices/cpu_core/cpus", "performance"),
        ("/sys/devices/cpu_atom/cpus", "efficiency"),
    ] {
        if let Ok(text) = fs_err::read_to_string(folder)
            && let Ok(list) = cpus::parse(text.trim())
        {
            types.extend(list.into_iter().map(|cpu| (cpu, name)));
        }
    }
    types
}

fn capacity(cpu: u32) -> Option<u32> {
    fs_err::read_to_string(format!("/sys/devices/system/cpu/cpu{cpu}/cpu_capacity"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn median(values: &mut [u64]) -> u64 {
    values.sort_unstable();
    values.get(values.len() / 2).copied().unwrap_or(0)
}

/// Measure each of `cpus` for about `budget` in all, on a thread of its own (pinned in turn to
/// each CPU; the caller's threads keep their affinity).
pub fn probe(cpu_list: &[u32], budget: Duration) -> CpuProbe {
    let start = Instant::now();
    let table = table();
    let wanted = cpu_list.to_vec();
    let (times, iterations) = std::thread::spawn(move || measure(table, &wanted, budget))
        .join()
        .unwrap_or_default();
    let loaded = if iterations > 0 && cpu_list.len() > 1 {
        measure_together(table, cpu_list, iterations)
    } else {
        Vec::new()
    };
    let types = core_types();
    let fastest = times
        .iter()
        .filter(|(_, rounds)| !rounds.is_empty())
        .map(|(_, rounds)| median(&mut rounds.clone()))
        .min()
        .unwrap_or(0);
    let cpus = times
        .into_iter()
        .map(|(cpu, rounds)| {
            let third = (rounds.len() / 3).max(1);
            let drift = if rounds.len() >= 3 {
                let first = median(&mut rounds[..third].to_vec());
                let last = median(&mut rounds[rounds.len() - third..].to_vec());
                last as f64 / first.max(1) as f64 - 1.0
            } else {
                0.0
            };
            let loop_ns = median(&mut rounds.clone());
            CpuSpeed {
                cpu,
                relative_speed: if loop_ns == 0 {
                    0.0
                } else {
                    fastest as f64 / loop_ns as f64
                },
                loop_ns,
                drift,
                rounds: rounds.len() as u32,
                loaded_speed: loaded
                    .iter()
                    .find(|(c, _)| *c == cpu)
                    .filter(|(_, t)| *t > 0 && loop_ns > 0)
                    .map(|(_, t)| loop_ns as f64 / *t as f64),
                core_type: types
                    .iter()
                    .find(|(c, _)| *c == cpu)
                    .map(|(_, t)| (*t).to_string()),
                capacity: capacity(cpu),
            }
        })
        .collect();
    CpuProbe {
        cpus,
        seconds: start.elapsed().as_secs_f64(),
    }
}

/// Rounds of the loop on every CPU at once.
const TOGETHER_ROUNDS: usize = 3;

/// Each CPU's median loop time while all of `cpu_list` run it at once (released together by
/// a barrier, each thread pinned to its CPU); 0 for a CPU that could not be pinned.
fn measure_together(table: &[u32], cpu_list: &[u32], iterations: u64) -> Vec<(u32, u64)> {
    let barrier = std::sync::Barrier::new(cpu_list.len());
    std::thread::scope(|scope| {
        let handles: Vec<_> = cpu_list
            .iter()
            .map(|&cpu| {
                let barrier = &barrier;
                scope.spawn(move || {
                    let pinned = cpus::pin_current_thread(&[cpu]).is_ok();
                    let mut walls = Vec::new();
                    for _ in 0..TOGETHER_ROUNDS {
                        barrier.wait();
                        black_box(spin(table, iterations / 8));
                        let (wall, alone) = timed(table, iterations);
                        if pinned && alone {
                            walls.push(wall);
                        }
                    }
                    (cpu, median(&mut walls))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or((0, 0)))
            .collect()
    })
}

/// How much slower the slowest of `cpu_list` runs the probe's loop right now while all of them
/// run it at once, against the fastest CPU alone (1.0: no slower; `None` where it cannot be
/// measured). About 1 ms per CPU alone and 3 ms together: cheap enough to take between the
/// worker processes of a run, so a verdict can see what the machine did next to a point, not
/// only at the start of the run (this VM's vCPUs change within a minute).
pub fn slowdown_now(cpu_list: &[u32]) -> Option<f64> {
    if cpu_list.len() < 2 {
        return None;
    }
    let table = table();
    let list = cpu_list.to_vec();
    let alone = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let mut iterations = 0;
                let mut alone = Vec::new();
                for (i, &cpu) in list.iter().enumerate() {
                    if cpus::pin_current_thread(&[cpu]).is_err() {
                        return None;
                    }
                    if i == 0 {
                        // About 1 ms of the loop on the first CPU.
                        iterations = calibrate(table, Duration::from_millis(1), 1 << 12);
                    }
                    let (wall, own) = timed(table, iterations);
                    alone.push(own.then_some(wall));
                }
                Some((alone, iterations))
            })
            .join()
            .ok()
            .flatten()
    })?;
    let (alone, iterations) = alone;
    let fastest = alone.iter().flatten().copied().min()?;
    let together = measure_together(table, cpu_list, iterations.saturating_mul(3));
    together
        .iter()
        .filter(|(_, t)| *t > 0)
        .map(|(_, t)| *t as f64 / (3.0 * fastest as f64))
        .max_by(f64::total_cmp)
        .map(|s| s.max(1.0))
}

/// Each CPU's undisturbed loop times alone, in visiting order, and the loop's iterations.
fn measure(table: &[u32], cpu_list: &[u32], budget: Duration) -> (Vec<(u32, Vec<u64>)>, u64) {
    let mut times: Vec<(u32, Vec<u64>)> = cpu_list.iter().map(|&c| (c, Vec::new())).collect();
    let Some(&first) = cpu_list.first() else {
        return (times, 0);
    };
    if cpus::pin_current_thread(&[first]).is_err() {
        return (times, 0);
    }
    // Calibrate on the first CPU: iterations for about LOOP_TARGET.
    let iterations = calibrate(table, LOOP_TARGET, 1 << 16);
    let per_round = LOOP_TARGET.as_secs_f64() * cpu_list.len() as f64;
    let rounds = ((budget.as_secs_f64() / per_round) as usize).clamp(MIN_ROUNDS, MAX_ROUNDS);
    let mut order: Vec<usize> = (0..cpu_list.len()).collect();
    for _ in 0..rounds {
        for &i in &order {
            let cpu = cpu_list[i];
            if cpus::pin_current_thread(&[cpu]).is_err() || cpus::current() != Some(cpu) {
                continue;
            }
            // One untimed loop first: the CPU may be waking from idle.
            black_box(spin(table, iterations / 8));
            let (wall, alone) = timed(table, iterations);
            if alone {
                times[i].1.push(wall);
            }
        }
        // ABBA: the next round visits the CPUs the other way round.
        order.reverse();
    }
    (times, iterations)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn speed(cpu: u32, relative_speed: f64, drift: f64) -> CpuSpeed {
        CpuSpeed {
            cpu,
            relative_speed,
            loop_ns: (4e6 / relative_speed) as u64,
            drift,
            rounds: 5,
            loaded_speed: None,
            core_type: None,
            capacity: None,
        }
    }

    #[test]
    fn the_probe_measures_every_usable_cpu() {
        let usable = cpus::allowed();
        let probe = probe(&usable, Duration::from_millis(200));
        assert_eq!(probe.cpus.len(), usable.len());
        assert!(probe.cpus.iter().any(|c| c.rounds > 0), "{probe:?}");
        // The fastest CPU is the yardstick.
        let best = probe
            .cpus
            .iter()
            .map(|c| c.relative_speed)
            .fold(0.0, f64::max);
        assert!((best - 1.0).abs() < 1e-9, "{probe:?}");
        assert!(probe.seconds < 5.0);
    }

    #[test]
    fn the_slowdown_now_is_measured_quickly() {
        let usable = cpus::allowed();
        let start = Instant::now();
        let slowdown = slowdown_now(&usable);
        if usable.len() >= 2 {
            let slowdown = slowdown.expect("two CPUs to compare");
            assert!((1.0..10.0).contains(&slowdown), "{slowdown}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn a_slow_cpu_is_named() {
        let probe = CpuProbe {
            cpus: vec![speed(0, 1.0, 0.0), speed(1, 0.72, 0.08)],
            seconds: 1.0,
        };
        assert!(probe.unequal());
        assert!((probe.spread() - 0.28).abs() < 1e-9);
        assert!((probe.drift() - 0.08).abs() < 1e-9);
        assert_eq!(
            probe.summary(),
            "CPU 1 runs at 0.72x the speed of CPU 0 (2 CPUs measured; drifted +8% during the probe)"
        );
        let even = CpuProbe {
            cpus: vec![speed(0, 0.98, 0.0), speed(1, 1.0, 0.01)],
            seconds: 1.0,
        };
        assert!(!even.unequal());
        assert_eq!(even.summary(), "2 CPU(s) within 2% of each other");
    }
}
