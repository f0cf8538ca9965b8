//! `ftbench pythons` and `ftbench python install | list`.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{Context, Result};
use serde_json::json;

use crate::interpreter::{self, GilMode, Variant, install};
use crate::output::Printer;
use crate::report;

pub(super) fn pythons(as_json: bool, printer: &Printer) -> Result<ExitCode> {
    let discovery = interpreter::discover();
    for skipped in &discovery.skipped {
        printer.info(&format!(
            "note: skipped {}: {}",
            skipped.path.display(),
            skipped.reason.lines().next().unwrap_or_default()
        ));
    }
    if as_json {
        let list: Vec<serde_json::Value> = discovery
            .interpreters
            .iter()
            .map(|i| {
                let mut value = json!({
                    "label": Variant::default_label(&i.info, GilMode::Default),
                    "path": i.path,
                    "version": i.info.version,
                    "implementation": i.info.implementation,
                    "free_threaded": i.info.free_threaded,
                    "gil_enabled": i.info.gil_enabled,
                    "source": i.source,
                });
                value["info"] = serde_json::to_value(&i.info).expect("info serializes");
                value
            })
            .collect();
        printer.stdout(&serde_json::to_string_pretty(&list)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    printer.stdout(&listing(&discovery.interpreters))?;
    Ok(ExitCode::SUCCESS)
}

/// `ftbench pythons`' listing: the free-threaded builds, then the GIL builds, each with where it
/// was found, its path and its flags.
fn listing(interpreters: &[interpreter::Interpreter]) -> String {
    let mut out = String::new();
    for (title, free_threaded) in [
        ("Free-threaded builds (PEP 703)", true),
        ("GIL builds", false),
    ] {
        let group: Vec<_> = interpreters
            .iter()
            .filter(|i| i.info.free_threaded == free_threaded)
            .collect();
        let _ = writeln!(out, "{title}:");
        let mut rows = Vec::new();
        if group.is_empty() {
            let _ = writeln!(
                out,
                "  none{}",
                if free_threaded {
                    " (install one: ftbench python install 3.13t)"
                } else {
                    ""
                }
            );
        }
        for i in group {
            let flags = flags(&i.info);
            rows.push(vec![
                format!("  {}", i.info.version_tag()),
                i.source.to_string(),
                i.path.display().to_string(),
                flags.join(", "),
            ]);
        }
        out.push_str(&report::grid::grid_aligned(&rows, 4));
        out.push('\n');
    }
    out.trim_end().to_string()
}

/// What `ftbench pythons` says about a build beside its path: GIL state, JIT, PGO, LTO, frame
/// pointers, numpy.
fn flags(info: &crate::interpreter::InterpreterInfo) -> Vec<String> {
    let mut flags = Vec::new();
    if info.free_threaded {
        flags.push(
            if info.gil_enabled {
                "GIL on at start-up"
            } else {
                "GIL off"
            }
            .to_string(),
        );
    }
    for (on, name) in [
        (info.jit, "JIT"),
        (info.pgo, "PGO"),
        (info.lto, "LTO"),
        (info.has_frame_pointers(), "frame pointers"),
    ] {
        if on {
            flags.push(name.to_string());
        }
    }
    if let Some(numpy) = &info.numpy {
        flags.push(format!("numpy {numpy}"));
    }
    flags
}

/// `ftbench python install VERSION...`: build each request, print each interpreter's path.
pub(super) fn install(args: crate::cli::InstallArgs, printer: &Printer) -> Result<ExitCode> {
    let options = install::InstallOptions {
        source: args.source,
        with: args.with,
        mirror: args.mirror,
        frame_pointers: args.frame_pointers,
        install_build_deps: args.install_build_deps,
        pgo: args.pgo,
        force: args.force,
    };
    // SIGINT and SIGTERM stop the download or build step in hand, with everything it started;
    // what it left behind is removed, and ftbench exits 130 or 143.
    crate::interrupt::install().context("cannot watch for Ctrl-C and SIGTERM")?;
    for request in &args.requests {
        match install::install(request, &options, printer) {
            Ok(python) => printer.stdout(&python.display().to_string())?,
            Err(install::Error::Stopped(crate::process::Stopped::Signal(stop))) => {
                printer.error(&format!(
                    "installing Python {request}: {}",
                    crate::process::Stopped::Signal(stop)
                ));
                return Ok(ExitCode::from(stop.exit_code()));
            }
            Err(err) => {
                return Err(
                    anyhow::Error::from(err).context(format!("failed to install Python {request}"))
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `ftbench python list`: the interpreters ftbench built.
pub(super) fn list(printer: &Printer) -> Result<ExitCode> {
    let mut out = String::new();
    for record in install::installed() {
        let _ = writeln!(
            out,
            "{}{}{}  {}  (built in {:.0} s from {})",
            record.version,
            if record.free_threaded { "t" } else { "" },
            if record.frame_pointers {
                ", frame pointers"
            } else {
                ""
            },
            record.python.display(),
            record.build_seconds,
            record.tarball
        );
    }
    printer.stdout(&out)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The listing of the interpreters a committed 16-core run measured (its native label is
    /// no interpreter and is left out).
    #[test]
    fn the_listing_of_a_committed_runs_interpreters() {
        let file: crate::results::ResultsFile = serde_json::from_str(include_str!(
            "../../bench/results/16-cores-run2-2026-11-26.json"
        ))
        .unwrap();
        let mut interpreters: Vec<interpreter::Interpreter> = file
            .variants
            .iter()
            .filter(|v| v.source != interpreter::InterpreterSource::Native)
            .map(|v| interpreter::Interpreter {
                path: v.path.clone(),
                source: v.source,
                info: v.info.clone(),
            })
            .collect();
        interpreters.dedup_by(|a, b| a.path == b.path);
        insta::assert_snapshot!("pythons_listing", listing(&interpreters));
        insta::assert_snapshot!("pythons_listing_empty", listing(&[]));
    }
}
