//! `ftbench check` and `ftbench sysinfo`: the machine.

use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::machine::sysinfo::SystemInfo;
use crate::output::Printer;

/// `ftbench check`: is this machine ready to measure?
pub(super) fn check_command(args: &crate::cli::CheckArgs, printer: &Printer) -> Result<ExitCode> {
    if !(args.seconds.is_finite() && (0.1..=600.0).contains(&args.seconds)) {
        anyhow::bail!(
            "invalid --seconds `{}`: it must be 0.1 to 600",
            args.seconds
        );
    }
    let cpus = match &args.cpus {
        Some(text) => crate::machine::cpus::check_usable(&crate::machine::cpus::parse(text)?)
            .with_context(|| format!("cannot use --cpus `{text}`"))?,
        None => crate::machine::cpus::allowed(),
    };
    let threads = if args.threads.is_empty() {
        crate::config::default_threads(cpus.len())
    } else {
        // A readiness check runs nothing: any count ftbench could run with --force is asked about.
        crate::config::parse_threads(&args.threads, true)?
    };
    if !args.json {
        printer.info(&format!(
            "Measuring other work on the machine for {:.1} s...",
            args.seconds
        ));
    }
    let check = crate::machine::check::check(
        &SystemInfo::collect(),
        crate::machine::check::Scope {
            window: std::time::Duration::from_secs_f64(args.seconds),
            max_threads: threads.iter().copied().max().unwrap_or(1),
            cpus: &cpus,
            probe: std::time::Duration::from_millis(1500),
        },
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
