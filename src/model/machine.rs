//! The machine a run measured on: what it is, and the short look at it before measuring.

use serde::{Deserialize, Serialize};

/// A description of this machine, recorded in every results file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemInfo {
    pub hostname: String,
    /// The name a fleet knows this machine by (`--machine`); the host name where none was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine: Option<String>,
    pub cpu_model: String,
    pub architecture: String,
    /// Physical cores, where the OS tells.
    pub physical_cores: Option<usize>,
    pub logical_cores: usize,
    /// CPUs this process may run on (affinity), which can be fewer than `logical_cores`.
    pub available_parallelism: usize,
    pub memory_bytes: u64,
    pub os: String,
    pub kernel: String,
    /// `scaling_governor` of cpu0 (`performance`, `powersave`, ...).
    pub cpu_governor: Option<String>,
    /// `on`, `off`, `notsupported`, ... from `/sys/devices/system/cpu/smt/control`.
    pub smt: Option<String>,
    pub numa_nodes: Option<usize>,
    /// CPUs allowed by the cgroup (`cpu.max` quota / period), if limited.
    pub cgroup_cpu_limit: Option<f64>,
    /// The machine check a run made before measuring (`ftbench check`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<Check>,
}

/// How an item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    /// Numbers measured now may be off because of it.
    Problem,
    /// Worth knowing when reading the numbers; not wrong.
    Note,
    /// The machine does not say (a VM without the file, another OS).
    Unknown,
}

/// One thing checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub name: String,
    pub status: Status,
    /// What was found.
    pub value: String,
    /// How to fix it, for a problem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// The whole check, as printed, stored in a results file's `system.check` and `--json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// How long other work was measured, in seconds.
    pub window_s: f64,
    /// CPUs' worth of other work during the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_load: Option<f64>,
    pub items: Vec<Item>,
    /// Each usable CPU's speed from a pinned native loop (files from before it have none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cpus: Vec<CpuSpeed>,
}

/// One CPU's speed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CpuSpeed {
    /// The CPU's number, as the kernel counts them.
    pub cpu: u32,
    /// Its loop's median time against the fastest CPU's: 1.0 for the fastest, 0.7 for one that
    /// takes 1/0.7 as long.
    pub relative_speed: f64,
    /// Median time of the loop on this CPU, in nanoseconds.
    pub loop_ns: u64,
    /// The last third of its rounds against the first third: +0.05 means it got 5% slower
    /// during the probe.
    pub drift: f64,
    /// Rounds that counted (the loop had the CPU to itself).
    pub rounds: u32,
    /// Its speed while every probed CPU ran the loop at once, against its speed alone: below 1
    /// when CPUs slow down as more of them are busy (turbo that drops, SMT siblings or a VM's
    /// vCPUs sharing physical cores, a power limit). `None` where it could not be measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loaded_speed: Option<f64>,
    /// `performance` or `efficiency` where the kernel says (`/sys/devices/cpu_core`,
    /// `/sys/devices/cpu_atom`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub core_type: Option<String>,
    /// `cpu_capacity` (1024 = the biggest core), where the kernel exposes it (Arm big.LITTLE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
}
