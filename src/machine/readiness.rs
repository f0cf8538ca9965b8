//! What `ftbench check` found, as data: stored in a results file's `system.check`, printed, and
//! read back. The checking itself is [`super::check`]; the machine's description
//! ([`super::sysinfo`]) holds one of these, so the types live apart from both.

use std::fmt::Write as _;

pub use crate::model::machine::{Check, Item, Status};

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

#[cfg(test)]
mod tests {
    use super::Check;

    /// `ftbench check`'s findings, as a committed `ftbench check --json` of the 16-core
    /// machine holds them.
    #[test]
    fn the_check_of_a_committed_machine() {
        let check: Check = serde_json::from_str(include_str!(
            "../../bench/results/16-cores-check-2026-11-27.json"
        ))
        .unwrap();
        insta::assert_snapshot!("machine_check", check.render());
    }
}
