//! The single-file HTML report: inline SVG figures, CSS, no scripts and no network.

use anyhow::{Context, Result};
use serde::Serialize;

use super::model::{Exporter, ReportModel};
use super::plot;
use super::plot::Drawn;
use super::table;
use crate::analysis::Analysis;

const TEMPLATE: &str = include_str!("templates/report.html");

/// One profiled point, with the report-relative names of its flame graphs.
#[derive(Serialize)]
struct ProfileRow {
    test: String,
    label: String,
    threads: String,
    cpu_ms: String,
    call_graph: String,
    file: String,
    /// `(tid, file)` per thread.
    per_thread: Vec<(u32, String)>,
    /// What grew against one thread, and the differential and single-thread graphs.
    mechanism: Option<String>,
    differential: Option<(String, String)>,
}

fn profile_rows(results: &Analysis<'_>) -> Vec<ProfileRow> {
    results
        .profiles()
        .iter()
        .map(|p| ProfileRow {
            test: p.test.clone(),
            label: p.label.clone(),
            threads: crate::format::threads(p.thread_count),
            cpu_ms: format!("{:.0}", p.cpu_ns as f64 / 1e6),
            call_graph: p.call_graph.clone(),
            file: super::profiles::profile_name(&p.file),
            per_thread: p
                .threads
                .iter()
                .map(|t| (t.tid, super::profiles::profile_name(&t.file)))
                .collect(),
            mechanism: p.differential.as_ref().map(|d| {
                crate::analysis::mechanism::line(d, results.info(&p.test).uses_processes())
            }),
            differential: p.differential.as_ref().map(|d| {
                (
                    super::profiles::profile_name(&d.file),
                    super::profiles::profile_name(&d.serial_file),
                )
            }),
        })
        .collect()
}

/// One line of "Why it does not scale".
#[derive(Serialize)]
struct WhyRow {
    test: String,
    label: String,
    threads: String,
    verdict: &'static str,
}

#[derive(Serialize)]
struct VariantRow {
    label: String,
    color: String,
    version: String,
    build: &'static str,
    gil: &'static str,
    numpy: String,
    path: String,
}

#[derive(Serialize)]
struct FigureContext<'a> {
    name: &'a str,
    title: &'a str,
    svg: &'a str,
}

/// Render the report from the model and its figures, drawn as SVG.
pub fn render(model: &ReportModel<'_>, figures: &[Drawn]) -> Result<String> {
    let results = model.analysis;
    let variants = variant_rows(results);
    let system = &results.system();
    let system_rows = system_rows(system);
    let figure_context: Vec<FigureContext> = figures
        .iter()
        .map(|d| FigureContext {
            name: &d.figure.name,
            title: &d.figure.title,
            svg: d.svg.trim_start_matches(|c| c != '<'),
        })
        .collect();
    let summary = if results.regular_tests().is_empty() {
        String::new()
    } else {
        table::summary_statistics(results).trim().to_string()
    };
    let (why, advice) = why_rows(results);
    let (native_ceilings, native_references) = native_roles(results);
    let mut env = environment();
    env.add_template("report.html", TEMPLATE)
        .context("the report template does not parse")?;
    let template = env
        .get_template("report.html")
        .context("the report template is missing")?;
    template
        .render(minijinja::context! {
            labels => results.labels(),
            headline => model.headline,
            native_ceilings => native_ceilings,
            native_references => native_references,
            has_native => results.native_label().is_some(),
            created => results.created(),
            command => results.command_line().join(" "),
            ftbench_version => results.ftbench_version(),
            system => system,
            system_rows => system_rows,
            variants => variants,
            warnings => model.warnings.iter().map(ToString::to_string).collect::<Vec<_>>(),
            figures => figure_context,
            tables => table::tables(results),
            summary => summary,
            why => why,
            profiles => profile_rows(results),
            has_scaling => results.tests().iter().any(|t| results.group_of(t).scales()),
            regular_baseline => (!results.regular_tests().is_empty()).then(|| results.baseline()).flatten(),
            advice => advice,
            usable_cpus => results.cpus(),
            harness => results.harness().as_ref().map(|h| format!("{:.2}% of one core ({:.2} s of CPU in {:.0} s)", h.cpu_share * 100.0, h.cpu_s, h.wall_s)),
        })
        .context("failed to render the HTML report")
}

/// The machine's rows of the report: CPU, cores, memory, OS, host, governor / SMT / NUMA.
fn system_rows(system: &crate::machine::sysinfo::SystemInfo) -> Vec<(&'static str, String)> {
    vec![
        ("CPU", system.cpu_model.clone()),
        (
            "Cores",
            format!(
                "{} logical, {} physical",
                system.logical_cores,
                system
                    .physical_cores
                    .map_or("?".to_string(), |n| n.to_string())
            ),
        ),
        (
            "Memory",
            format!(
                "{:.1} GiB",
                system.memory_bytes as f64 / f64::from(1u32 << 30)
            ),
        ),
        ("OS", format!("{} ({})", system.os, system.kernel)),
        ("Host", system.hostname.clone()),
        (
            "Governor / SMT / NUMA",
            format!(
                "{} / {} / {}",
                system.cpu_governor.as_deref().unwrap_or("?"),
                system.smt.as_deref().unwrap_or("?"),
                system.numa_nodes.map_or("?".to_string(), |n| n.to_string())
            ),
        ),
    ]
}

/// The interpreters table: one row per label, with its colour in the figures.
fn variant_rows(results: &Analysis<'_>) -> Vec<VariantRow> {
    let colours = plot::label_colours(results.variants());
    results
        .variants()
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let c = colours[i];
            VariantRow {
                label: v.label.clone(),
                color: format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2),
                version: v.info.version.clone(),
                build: if v.info.free_threaded {
                    "free-threaded"
                } else {
                    "GIL"
                },
                gil: if v.expects_gil { "on" } else { "off" },
                numpy: v.info.numpy.clone().unwrap_or_else(|| "-".to_string()),
                path: v.run_path.display().to_string(),
            }
        })
        .collect()
}

/// The tests the native reference was measured on: those where it is a ceiling, and those where
/// it is only a reference.
fn native_roles(results: &Analysis<'_>) -> (Vec<String>, Vec<String>) {
    let Some(native) = results.native_label() else {
        return (Vec::new(), Vec::new());
    };
    results
        .tests()
        .into_iter()
        .filter(|t| results.measured(t, native, 1))
        .partition(|t| results.native_is_ceiling(t))
}

/// "Why it does not scale": one row per test and label, and each verdict's advice once.
fn why_rows(results: &Analysis<'_>) -> (Vec<WhyRow>, Vec<(&'static str, &'static str)>) {
    let lines = table::why_lines(results);
    let advice = table::distinct_verdicts(&lines)
        .into_iter()
        .map(|v| (v.as_str(), v.advice()))
        .collect();
    let why: Vec<WhyRow> = lines
        .into_iter()
        .map(|(test, label, threads, verdict)| WhyRow {
            threads: results.info(&test).workers(threads),
            test,
            label,
            verdict: verdict.as_str(),
        })
        .collect();
    (why, advice)
}

/// The template environment of ftbench's HTML pages (the report, the fleet dashboard):
/// HTML-escaped, and control characters in text from files (labels, machine names) written as
/// visible escapes (`\u{1b}`), as on the terminal, never raw. Values marked safe (the figures,
/// already XML-safe) pass as they are.
pub fn environment() -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    env.set_formatter(|out, state, value| match value.as_str() {
        Some(text) if !value.is_safe() => minijinja::escape_formatter(
            out,
            state,
            &minijinja::Value::from(crate::output::escape_keeping_lines(text).as_ref()),
        ),
        _ => minijinja::escape_formatter(out, state, value),
    });
    env
}

/// `report.html`, with the figures drawn for it.
pub struct Html<'f>(pub &'f [Drawn]);

impl Exporter for Html<'_> {
    type Output = String;
    fn export(&self, model: &ReportModel<'_>) -> Result<String> {
        render(model, self.0)
    }
}
