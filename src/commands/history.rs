//! `ftbench history` and the history store.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Result;

use super::common::{describe_fingerprint, open_existing_store, open_store, run_samples};
use crate::cli::{HistoryAddArgs, HistoryArgs, HistoryCommand};
use crate::output::Printer;
use crate::report;
use crate::results::{self};
use crate::store::{self, Store};

/// The stored label `requested` means: itself, or the one label it names the way `--python`
/// does (`3.13t` is `3.13.15t`, not `3.13.15t+gil`).
pub(super) fn resolve_label(store: &dyn Store, test: &str, requested: &str) -> Result<String> {
    let labels = store.labels(test)?;
    if labels.iter().any(|l| l == requested) {
        return Ok(requested.to_string());
    }
    let (version, free_threaded) = requested
        .strip_suffix('t')
        .map_or((requested, false), |v| (v, true));
    let matching: Vec<&String> = labels
        .iter()
        .filter(|label| {
            let Some(rest) = label.strip_prefix(version) else {
                return false;
            };
            let rest = rest.strip_suffix('t').unwrap_or(rest);
            label.ends_with('t') == free_threaded
                && (rest.is_empty()
                    || rest
                        .strip_prefix('.')
                        .is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit())))
        })
        .collect();
    match matching.as_slice() {
        [one] => Ok((*one).clone()),
        [] => anyhow::bail!(
            "the store has no label `{requested}` for `{test}`; it has: {}",
            if labels.is_empty() {
                "none (is the test name right?)".to_string()
            } else {
                labels.join(", ")
            }
        ),
        several => anyhow::bail!(
            "`{requested}` could be any of {}; pass one of them with --label",
            several
                .iter()
                .map(|l| format!("`{l}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// `ftbench history`: the stored runs, or one point's trend with its significant steps.
pub(super) fn history_command(args: &HistoryArgs, printer: &Printer) -> Result<ExitCode> {
    if let Some(HistoryCommand::Add(add)) = &args.action {
        return history_add(add, printer);
    }
    let store = open_existing_store(args.store.as_deref())?;
    if args.machines {
        return list_machines(store.as_ref(), args.json, printer);
    }
    match (&args.test, &args.label) {
        (Some(test), Some(label)) => show_trend(store.as_ref(), args, test, label, printer),
        _ => list_runs(store.as_ref(), args.machine.as_deref(), args.json, printer),
    }
}

/// How `results` differs from the stored run `id` with the same run id (its points and
/// samples), or `None` when it does not (or the stored run cannot be read).
fn differs_from_stored(
    store: &dyn Store,
    id: i64,
    results: &results::ResultsFile,
) -> Option<String> {
    let stored = store.load(id).ok()?;
    let samples =
        |r: &results::ResultsFile| r.points().iter().map(|p| p.samples.len()).sum::<usize>();
    if stored.points().len() != results.points().len() {
        return Some(format!(
            "{} points in the file, {} in the store",
            results.points().len(),
            stored.points().len()
        ));
    }
    (stored.points() != results.points()).then(|| {
        format!(
            "other samples: {} in the file, {} in the store",
            samples(results),
            samples(&stored)
        )
    })
}

/// `ftbench history add FILE...`: record results files, each once.
pub(super) fn history_add(args: &HistoryAddArgs, printer: &Printer) -> Result<ExitCode> {
    let mut store = open_store(args.store.as_deref())?;
    for file in &args.files {
        let results = results::load(file)?;
        if results.points().is_empty() {
            printer.warn(&format!("{} has no points; not recorded", file.display()));
            continue;
        }
        let mut results = results;
        if let Some(machine) = &args.machine {
            results::check_name("machine name", machine).map_err(anyhow::Error::msg)?;
            results.system.machine = Some(machine.clone());
        }
        let absolute = fs_err::canonicalize(file).unwrap_or_else(|_| file.clone());
        let recorded = store.record(&results, Some(&absolute))?;
        if recorded.new {
            printer.info(&format!(
                "Recorded {} as run {} of machine `{}`",
                file.display(),
                recorded.id,
                results.system.machine_name()
            ));
        } else if let Some(difference) = differs_from_stored(store.as_ref(), recorded.id, &results)
        {
            // The same run id, other measurements: a resumed file, or someone else's edit.
            printer.warn(&format!(
                "{} has the run id of run {} but not its content ({difference}); the store keeps run {} as it was",
                file.display(),
                recorded.id,
                recorded.id
            ));
        } else {
            printer.info(&format!(
                "{} is already recorded as run {}",
                file.display(),
                recorded.id
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn list_runs(
    store: &dyn Store,
    machine: Option<&str>,
    json: bool,
    printer: &Printer,
) -> Result<ExitCode> {
    let runs = store.runs(machine)?;
    if let Some(machine) = machine
        && runs.is_empty()
    {
        let known: Vec<String> = store.machines()?.into_iter().map(|m| m.machine).collect();
        anyhow::bail!(
            "the store has no run of machine `{machine}`; it has: {}",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        );
    }
    if json {
        printer.stdout(&serde_json::to_string_pretty(&runs)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut rows = vec![
        [
            "id", "date", "machine", "labels", "tests", "settings", "points", "status", "results",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for run in &runs {
        rows.push(vec![
            run.id.to_string(),
            run.created.clone(),
            if run.machine == run.hostname {
                format!(
                    "{} ({}, {} cores)",
                    run.machine, run.cpu_model, run.logical_cores
                )
            } else {
                format!(
                    "{} on {} ({}, {} cores)",
                    run.machine, run.hostname, run.cpu_model, run.logical_cores
                )
            },
            run.labels.join(", "),
            if run.tests.len() > 4 {
                format!("{} tests", run.tests.len())
            } else {
                run.tests.join(", ")
            },
            format!(
                "{}, threads {}",
                if run.quick { "quick" } else { "default" },
                run.threads
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            run.points.to_string(),
            match (run.failed, run.resumed) {
                (0, 0) => "complete".to_string(),
                (0, r) => format!("complete (resumed {r}x)"),
                (f, _) => format!("partial: {f} failed"),
            },
            run.results_path.clone().unwrap_or_default(),
        ]);
    }
    printer.stdout(&report::grid::grid_aligned(&rows, 6))?;
    Ok(ExitCode::SUCCESS)
}

pub(super) fn show_trend(
    store: &dyn Store,
    args: &HistoryArgs,
    test: &str,
    label: &str,
    printer: &Printer,
) -> Result<ExitCode> {
    let label = &resolve_label(store, test, label)?;
    let thread_counts: Vec<u32> = match args.threads {
        Some(n) => vec![n],
        None => store.thread_counts(test, label)?,
    };
    let mut trends = Vec::new();
    let mut out = String::new();
    for threads in thread_counts {
        let trend = store.trend(test, label, threads, args.machine.as_deref())?;
        let _ = writeln!(
            out,
            "\n=== {test} on {label} at {} ===\n{}",
            crate::format::threads(threads),
            report::grid::grid_aligned(&trend_rows(&trend), 3)
        );
        trends.push(serde_json::json!({
            "thread_count": threads,
            "threads": crate::format::threads(threads),
            "points": trend,
        }));
    }
    if trends
        .iter()
        .all(|t| t["points"].as_array().is_none_or(Vec::is_empty))
    {
        anyhow::bail!(
            "the store has no point of `{test}` on `{label}`; `ftbench history` lists the runs"
        );
    }
    if args.json {
        printer.stdout(&serde_json::to_string_pretty(&trends)?)?;
    } else {
        printer.stdout(&out)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `ftbench history --machines`: the fleet.
fn list_machines(store: &dyn Store, json: bool, printer: &Printer) -> Result<ExitCode> {
    let machines = store.machines()?;
    if json {
        printer.stdout(&serde_json::to_string_pretty(&machines)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut rows = vec![
        ["machine", "runs", "first seen", "last seen", "what it is"]
            .map(String::from)
            .to_vec(),
    ];
    for m in &machines {
        rows.push(vec![
            m.machine.clone(),
            m.runs.to_string(),
            m.first_seen.clone(),
            m.last_seen.clone(),
            describe_fingerprint(&m.fingerprint),
        ]);
    }
    printer.stdout(&report::grid::grid_aligned(&rows, 1))?;
    Ok(ExitCode::SUCCESS)
}

/// One row per run, each compared with the run before it; significant steps are flagged.
pub(super) fn trend_rows(trend: &[store::TrendPoint]) -> Vec<Vec<String>> {
    let mut rows = vec![
        [
            "run",
            "date",
            "machine",
            "median",
            "95% CI",
            "vs previous",
            "step",
        ]
        .map(String::from)
        .to_vec(),
    ];
    let steps = crate::analysis::fleet::steps(&run_samples(trend));
    for (point, step) in trend.iter().zip(steps) {
        rows.push(vec![
            point.run_id.to_string(),
            point.created.clone(),
            point.machine.clone(),
            report::human(point.median),
            format!(
                "[{}, {}]",
                report::human(point.ci_low),
                report::human(point.ci_high)
            ),
            step.map_or(String::new(), |c| {
                format!("{:.3}x (p = {:.3})", c.ratio, c.p_value)
            }),
            step.map_or(String::new(), |c| match c.verdict {
                crate::stats::Verdict::Same => String::new(),
                crate::stats::Verdict::Disturbed => "disturbed (BUSY!): no verdict".to_string(),
                verdict => format!("<- significant: {verdict}"),
            }),
        ]);
    }
    rows
}
