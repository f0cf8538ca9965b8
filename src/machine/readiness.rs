//! What `ftbench check` found, as data: stored in a results file's `system.check`, printed, and
//! read back. The checking itself is [`super::check`]; the machine's description
//! ([`super::sysinfo`]) holds one of these, so the types live apart from both.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::probe::CpuSpeed;

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

impl Check {
    /// The problems found.
    pub fn problems(&self) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(|i| i.status == Status::Problem)
    }

    /// One line for the start of a run: `ready` or the problems.
    pub fn summary(&self) -> String {
        let problems: Vec<String> = self
            .problems()
            .map(|i| format!("{} ({})", i.name, i.value))
            .collect();
        if problems.is_empty() {
            "machine check: ready to measure".to_string()
        } else {
            format!(
                "machine check: {}; `ftbench check` says how to fix {}",
                problems.join(", "),
                if problems.len() == 1 { "it" } else { "them" }
            )
        }
    }

    /// The check as a table, one line per item and a fix line under each problem.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for item in &self.items {
            let mark = match item.status {
                Status::Ok => "ok",
                Status::Problem => "PROBLEM",
                Status::Note => "note",
                Status::Unknown => "unknown",
            };
            let _ = writeln!(out, "{mark:>8}  {:<22} {}", item.name, item.value);
            if let Some(fix) = &item.fix {
                let _ = writeln!(out, "{:>8}  {:<22} fix: {fix}", "", "");
            }
        }
        let problems = self.problems().count();
        let _ = write!(
            out,
            "\n{}",
            if problems == 0 {
                "Ready to measure.".to_string()
            } else {
                format!("{problems} problem(s): numbers measured now may show them.")
            }
        );
        out
    }
}
