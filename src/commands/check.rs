//! `ftbench check` and `ftbench sysinfo`: the machine.

use std::process::ExitCode;

use anyhow::Result;

use crate::output::Printer;
use crate::sysinfo::SystemInfo;

/// `ftbench check`: is this machine ready to measure?
pub(super) fn check_command(args: &crate::cli::CheckArgs, printer: &Printer) -> Result<ExitCode> {
    if !(args.seconds.is_finite() && (0.1..=600.0).contains(&args.seconds)) {
        anyhow::bail!(
            "invalid --seconds `{}`: it must be 0.1 to 600",
            args.seconds
        );
    }
    let threads = if args.threads.is_empty() {
        crate::config::default_threads(crate::runner::load::usable_cpus())
    } else {
        crate::config::parse_threads(&args.threads, false)?
    };
    if !args.json {
        printer.info(&format!(
            "Measuring other work on the machine for {:.1} s...",
            args.seconds
        ));
    }
    let check = crate::check::check(
        &SystemInfo::collect(),
        std::time::Duration::from_secs_f64(args.seconds),
        threads.iter().copied().max().unwrap_or(1),
    );
    if args.json {
        printer.stdout(&serde_json::to_string_pretty(&check)?)?;
    } else {
        printer.stdout(&check.render())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `ftbench sysinfo`: what this machine is.
pub(super) fn sysinfo(json: bool, printer: &Printer) -> Result<ExitCode> {
    let info = SystemInfo::collect();
    if json {
        printer.stdout(&serde_json::to_string_pretty(&info)?)?;
    } else {
        printer.stdout(&info.render())?;
    }
    Ok(ExitCode::SUCCESS)
}
