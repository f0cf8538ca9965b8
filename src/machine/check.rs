//! `ftbench check`: is this machine ready to measure? Load now and over a window, steal, the
//! frequency governor, turbo, SMT, a cgroup CPU quota and usable CPUs against the thread counts,
//! each problem with one line on how to fix it (pyperf's `system show` is the model).

use std::time::Duration;

use super::load::{self, Counters};
use super::probe;
use super::sysinfo::SystemInfo;

pub use super::readiness::{Check, Item, Status};

fn item(name: &str, status: Status, value: String, fix: Option<&str>) -> Item {
    Item {
        name: name.to_string(),
        status,
        value,
        fix: fix.map(str::to_string),
    }
}

fn read(path: &str) -> Option<String> {
    fs_err::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// What to check beyond the machine itself.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// How long to measure other work.
    pub window: Duration,
    /// The most threads a run will ask for.
    pub max_threads: u32,
    /// The CPUs a run will use (`--cpus`), each probed for its speed.
    pub cpus: &'a [u32],
    /// How long the per-CPU speed probe may take in all.
    pub probe: Duration,
}

/// Check the machine: other work over the window, each CPU's speed, the settings that bend
/// scaling curves.
pub fn check(system: &SystemInfo, scope: Scope<'_>) -> Check {
    let (mut items, other_load) = load_items(scope.window);
    let speeds = probe::probe(scope.cpus, scope.probe);
    items.push(speed_item(&speeds));
    items.extend(machine_items(system, scope.max_threads, scope.cpus.len()));
    Check {
        window_s: scope.window.as_secs_f64(),
        other_load,
        items,
        cpus: speeds.cpus,
    }
}

/// Whether the CPUs a run uses are equally fast, and the core types where the kernel says.
fn speed_item(speeds: &probe::CpuProbe) -> Item {
    let name = "CPU speeds";
    if speeds.slowest().is_none() {
        return item(name, Status::Unknown, speeds.summary(), None);
    }
    let types: Vec<String> = ["performance", "efficiency"]
        .iter()
        .filter_map(|kind| {
            let of_kind: Vec<u32> = speeds
                .cpus
                .iter()
                .filter(|c| c.core_type.as_deref() == Some(*kind))
                .map(|c| c.cpu)
                .collect();
            (!of_kind.is_empty()).then(|| format!("{kind} cores {}", super::cpus::format(&of_kind)))
        })
        .collect();
    let types = if types.is_empty() {
        String::new()
    } else {
        format!("; {}", types.join(", "))
    };
    if speeds.unequal() {
        let fast: Vec<u32> = speeds
            .cpus
            .iter()
            .filter(|c| c.relative_speed >= probe::UNEQUAL_SPEED)
            .map(|c| c.cpu)
            .collect();
        Item {
            name: name.to_string(),
            status: Status::Problem,
            value: format!("{}{types}", speeds.summary()),
            fix: Some(format!(
                "threads given equal work finish at different times on CPUs of different speeds, and a curve bends for the machine's reasons: run on CPUs of one speed with --cpus {} (the performance cores on a hybrid CPU), or check again later (a VM's host decides its CPUs' speed)",
                super::cpus::format(&fast)
            )),
        }
    } else {
        item(
            name,
            if types.is_empty() {
                Status::Ok
            } else {
                Status::Note
            },
            format!("{}{types}", speeds.summary()),
            None,
        )
    }
}

/// Load now, other work over `window`, steal.
fn load_items(window: Duration) -> (Vec<Item>, Option<f64>) {
    let mut items = Vec::new();
    let usable = load::usable_cpus();
    // Load right now: the kernel's 1-minute average and the PSI 10-second CPU pressure.
    // A figure that is not a non-negative number (`nan`) is unknown, never "ok".
    let real = |v: &str| v.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0);
    let loadavg: Option<f64> =
        read("/proc/loadavg").and_then(|s| s.split_whitespace().next().and_then(real));
    let pressure: Option<f64> = read("/proc/pressure/cpu").and_then(|s| {
        s.split_whitespace()
            .find_map(|f| f.strip_prefix("avg10="))
            .and_then(real)
    });
    items.push(match loadavg {
        Some(avg) => item(
            "load now (1 min)",
            if avg > 0.5 { Status::Note } else { Status::Ok },
            format!(
                "{avg:.2} runnable on {usable} CPU(s){}",
                pressure.map_or(String::new(), |p| format!(
                    ", CPU pressure {p:.1}% over 10 s"
                ))
            ),
            None,
        ),
        None => item(
            "load now (1 min)",
            Status::Unknown,
            "no /proc/loadavg".into(),
            None,
        ),
    });
    // Load over the window: what a benchmark would compete with.
    let before = Counters::read();
    std::thread::sleep(window);
    let measured = before.until(&Counters::read());
    let window_s = window.as_secs_f64();
    let name = format!("other work ({window_s:.1} s)");
    items.push(match measured {
        Some(l) if l.disturbs(u32::try_from(usable).unwrap_or(u32::MAX)) => item(
            &name,
            Status::Problem,
            format!("{:.2} CPU(s) busy elsewhere (± {:.2})", l.other_load, l.resolution),
            Some("close other programs (browsers, builds, indexers) or wait; `top` shows them; on CI, pass --allow-load to measure anyway and mark disturbed points"),
        ),
        Some(l) => item(
            &name,
            Status::Ok,
            format!("{:.2} CPU(s) busy elsewhere (± {:.2})", l.other_load, l.resolution),
            None,
        ),
        None => item("other work", Status::Unknown, "no /proc/stat".into(), None),
    });
    items.push(match measured {
        Some(l) if l.steal > load::DISTURBED_STEAL => item(
            "steal",
            Status::Problem,
            format!("{:.1}% of CPU time taken by the hypervisor", l.steal * 100.0),
            Some("a noisy neighbour on this VM host: use dedicated or bigger instances, or measure at a quieter time"),
        ),
        Some(l) => item("steal", Status::Ok, format!("{:.1}%", l.steal * 100.0), None),
        None => item("steal", Status::Unknown, "no /proc/stat".into(), None),
    });
    (items, measured.map(|l| l.other_load))
}

/// Governor, turbo, SMT, cgroup quota, the `usable` CPUs against `max_threads`.
fn machine_items(system: &SystemInfo, max_threads: u32, usable: usize) -> Vec<Item> {
    let mut items = Vec::new();
    items.push(match system.cpu_governor.as_deref() {
        Some("performance") => item("frequency governor", Status::Ok, "performance".into(), None),
        Some(other) => item(
            "frequency governor",
            Status::Problem,
            other.to_string(),
            Some("as root: `cpupower frequency-set -g performance` (or write `performance` to /sys/devices/system/cpu/cpu*/cpufreq/scaling_governor)"),
        ),
        None => item("frequency governor", Status::Unknown, "not exposed (a VM sets it on the host)".into(), None),
    });
    let no_turbo = read("/sys/devices/system/cpu/intel_pstate/no_turbo");
    let boost = read("/sys/devices/system/cpu/cpufreq/boost");
    items.push(match (no_turbo.as_deref(), boost.as_deref()) {
        (Some("0"), _) | (_, Some("1")) => item(
            "turbo / boost",
            Status::Problem,
            "on: the clock depends on how many cores are busy, which bends scaling curves".into(),
            Some("as root: `echo 1 > /sys/devices/system/cpu/intel_pstate/no_turbo` (Intel) or `echo 0 > /sys/devices/system/cpu/cpufreq/boost` (AMD)"),
        ),
        (Some(_), _) | (_, Some(_)) => item("turbo / boost", Status::Ok, "off".into(), None),
        _ => item("turbo / boost", Status::Unknown, "not exposed (a VM sets it on the host)".into(), None),
    });
    items.push(match system.smt.as_deref() {
        Some("on") => item(
            "SMT (hyper-threading)",
            Status::Note,
            format!(
                "on: threads above {} physical cores share cores",
                system
                    .physical_cores
                    .map_or("the".to_string(), |c| c.to_string())
            ),
            None,
        ),
        Some(other) => item("SMT (hyper-threading)", Status::Ok, other.to_string(), None),
        None => item(
            "SMT (hyper-threading)",
            Status::Unknown,
            "not exposed".into(),
            None,
        ),
    });
    items.push(match system.cgroup_cpu_limit {
        Some(limit) if limit > 0.0 && limit < system.logical_cores as f64 => item(
            "cgroup CPU quota",
            Status::Problem,
            format!("{limit:.1} of {} CPUs", system.logical_cores),
            Some("threads beyond the quota are throttled, not parallel: raise the container's CPU limit (docker --cpus, Kubernetes limits.cpu)"),
        ),
        Some(limit) if limit.is_finite() && limit > 0.0 => {
            item("cgroup CPU quota", Status::Ok, format!("{limit:.1} CPUs"), None)
        }
        Some(limit) => item(
            "cgroup CPU quota",
            Status::Unknown,
            format!("unreadable ({limit})"),
            None,
        ),
        None => item("cgroup CPU quota", Status::Ok, "none".into(), None),
    });
    items.push(if max_threads as usize > usable {
        item(
            "usable CPUs",
            Status::Note,
            format!(
                "{usable}; points above {usable} threads measure oversubscription, not parallelism"
            ),
            None,
        )
    } else {
        item(
            "usable CPUs",
            Status::Ok,
            format!("{usable} for up to {max_threads} threads"),
            None,
        )
    });
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_is_checked_and_a_problem_has_a_fix() {
        let system = SystemInfo::collect();
        let cpus = crate::machine::cpus::allowed();
        let check = check(
            &system,
            Scope {
                window: Duration::from_millis(200),
                max_threads: 4096,
                cpus: &cpus,
                probe: Duration::from_millis(100),
            },
        );
        assert_eq!(check.cpus.len(), cpus.len());
        let names: Vec<&str> = check.items.iter().map(|i| i.name.as_str()).collect();
        for expected in [
            "load now",
            "other work",
            "steal",
            "governor",
            "turbo",
            "SMT",
            "cgroup",
            "CPU speeds",
            "usable CPUs",
        ] {
            assert!(
                names.iter().any(|n| n.contains(expected)),
                "{expected}: {names:?}"
            );
        }
        assert!(check.problems().all(|p| p.fix.is_some()));
        // 4096 threads oversubscribe any machine.
        assert!(
            check
                .items
                .last()
                .unwrap()
                .value
                .contains("oversubscription")
        );
        let text = check.render();
        assert!(text.contains("usable CPUs"), "{text}");
    }
}
