//! What machine the numbers come from: CPU, cores, memory, OS, frequency governor, SMT, NUMA and
//! cgroup CPU limit (the seed's first cell, and what a reader needs to judge scaling figures).

use std::fmt::Write as _;

pub use crate::model::machine::SystemInfo;

fn read_trimmed(path: &str) -> Option<String> {
    fs_err::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

impl SystemInfo {
    /// The machine's fleet name: `--machine`, else the host name.
    pub fn machine_name(&self) -> &str {
        self.machine.as_deref().unwrap_or(&self.hostname)
    }

    /// What the machine is, without its name or the state it was in: two runs with the same
    /// fingerprint ran on the same kind of machine.
    pub fn fingerprint(&self) -> serde_json::Value {
        serde_json::json!({
            "cpu_model": self.cpu_model,
            "architecture": self.architecture,
            "physical_cores": self.physical_cores,
            "logical_cores": self.logical_cores,
            "memory_bytes": self.memory_bytes,
            "os": self.os,
            "kernel": self.kernel,
            "cpu_governor": self.cpu_governor,
            "smt": self.smt,
        })
    }

    /// The CPUs a run could use: the affinity mask, or the cgroup quota rounded up if smaller.
    pub fn usable_cpus(&self) -> usize {
        let cpus = self.available_parallelism.max(1);
        self.cgroup_cpu_limit
            .map_or(cpus, |limit| cpus.min(limit.ceil().max(1.0) as usize))
    }

    /// Read this machine's description.
    pub fn collect() -> Self {
        let system = sysinfo::System::new().ok().map(|mut system| {
            system.refresh_cpu_all();
            system.refresh_memory();
            system
        });
        let cpus = system.as_ref().map_or(&[][..], sysinfo::System::cpus);
        let cpu_model = cpus
            .first()
            .map(|cpu| cpu.brand().trim().to_string())
            .filter(|brand| !brand.is_empty())
            .unwrap_or_else(|| "unknown".to_string());
        let numa_nodes = fs_err::read_dir("/sys/devices/system/node")
            .ok()
            .map(|dir| {
                dir.filter_map(Result::ok)
                    .filter(|e| {
                        let name = e.file_name();
                        let name = name.to_string_lossy();
                        name.strip_prefix("node")
                            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
                    })
                    .count()
            });
        Self {
            hostname: sysinfo::System::host_name().unwrap_or_else(|_| "unknown".to_string()),
            machine: None,
            cpu_model,
            architecture: std::env::consts::ARCH.to_string(),
            physical_cores: sysinfo::System::physical_core_count().ok(),
            logical_cores: cpus.len().max(1),
            available_parallelism: std::thread::available_parallelism()
                .map_or(1, std::num::NonZero::get),
            memory_bytes: system.as_ref().map_or(0, sysinfo::System::total_memory),
            os: sysinfo::System::long_os_version().unwrap_or_else(|_| "unknown".to_string()),
            kernel: sysinfo::System::kernel_version().unwrap_or_else(|_| "unknown".to_string()),
            cpu_governor: read_trimmed("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
            smt: read_trimmed("/sys/devices/system/cpu/smt/control"),
            numa_nodes: numa_nodes.filter(|&n| n > 0),
            cgroup_cpu_limit: read_trimmed("/sys/fs/cgroup/cpu.max")
                .and_then(|text| cgroup_cpu_limit(&text)),
            check: None,
        }
    }

    /// The table `ftbench sysinfo` prints.
    pub fn render(&self) -> String {
        let opt = |value: Option<String>| value.unwrap_or_else(|| "unknown".to_string());
        let rows = [
            ("Host", self.hostname.clone()),
            ("CPU", self.cpu_model.clone()),
            ("Architecture", self.architecture.clone()),
            (
                "Physical cores",
                opt(self.physical_cores.map(|n| n.to_string())),
            ),
            ("Logical cores", self.logical_cores.to_string()),
            ("Usable CPUs", self.available_parallelism.to_string()),
            (
                "Total memory",
                format!(
                    "{:.2} GiB",
                    self.memory_bytes as f64 / f64::from(1u32 << 30)
                ),
            ),
            ("OS", self.os.clone()),
            ("Kernel", self.kernel.clone()),
            ("CPU governor", opt(self.cpu_governor.clone())),
            ("SMT", opt(self.smt.clone())),
            ("NUMA nodes", opt(self.numa_nodes.map(|n| n.to_string()))),
            (
                "cgroup CPU limit",
                self.cgroup_cpu_limit
                    .map_or_else(|| "none".to_string(), |n| format!("{n:.2} CPUs")),
            ),
        ];
        let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        rows.iter().fold(String::new(), |mut out, (k, v)| {
            let pad = " ".repeat(width.saturating_sub(k.chars().count()));
            let _ = writeln!(out, "{k}{pad}  {v}");
            out
        })
    }
}

/// CPUs a cgroup's `cpu.max` (`QUOTA PERIOD`, or `max PERIOD` for none) allows; `None` for no
/// limit or for text that is no limit a kernel writes (`0 0`, `NaN 1`, a negative quota).
pub fn cgroup_cpu_limit(text: &str) -> Option<f64> {
    let mut parts = text.split_whitespace();
    let positive = |part: Option<&str>| {
        part?
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v > 0.0)
    };
    let quota = positive(parts.next())?;
    let period = positive(parts.next())?;
    Some(quota / period)
}

#[cfg(test)]
mod cgroup_tests {
    #[test]
    fn only_a_real_quota_is_a_limit() {
        assert_eq!(super::cgroup_cpu_limit("200000 100000"), Some(2.0));
        for broken in [
            "max 100000",
            "0 0",
            "NaN 1",
            "1 NaN",
            "-5 1",
            "inf 1",
            "",
            "100",
        ] {
            assert_eq!(super::cgroup_cpu_limit(broken), None, "{broken}");
        }
    }
}

#[cfg(test)]
mod render_tests {
    use super::SystemInfo;

    /// `ftbench check`'s machine table on a committed run's machine (the 16-core one).
    #[test]
    fn the_machine_table_of_a_committed_run() {
        let file: serde_json::Value = serde_json::from_str(include_str!(
            "../../bench/results/16-cores-run2-2026-11-26.json"
        ))
        .unwrap();
        let system: SystemInfo = serde_json::from_value(file["system"].clone()).unwrap();
        insta::assert_snapshot!("machine_table", system.render());
    }
}
