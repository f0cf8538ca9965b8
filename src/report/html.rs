//! The single-file HTML report: inline SVG figures, CSS, no scripts and no network.

use anyhow::{Context, Result};
use serde::Serialize;

use super::plot::{self, Figure};
use super::table;
use crate::analysis::Analysis;
use crate::results::Point;
use crate::stats::Estimate;

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
}

fn profile_rows(results: &Analysis<'_>) -> Vec<ProfileRow> {
    results
        .profiles
        .iter()
        .map(|p| ProfileRow {
            test: p.test.clone(),
            label: p.label.clone(),
            threads: crate::format::threads(p.thread_count),
            cpu_ms: format!("{:.0}", p.cpu_ns as f64 / 1e6),
            call_graph: p.call_graph.clone(),
            file: super::profile_name(&p.file),
            per_thread: p
                .threads
                .iter()
                .map(|t| (t.tid, super::profile_name(&t.file)))
                .collect(),
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

/// Warnings a reader must see before trusting the numbers: GIL state, noise, missing points.
pub fn warnings(results: &Analysis<'_>) -> Vec<String> {
    let mut warnings = Vec::new();
    for point in results.points.iter().filter(|p| p.gil_mismatches > 0) {
        warnings.push(format!(
            "GIL in the wrong state: {} on {} at {} ({} of {} samples); these numbers do not measure what the label says",
            point.test,
            point.label,
            crate::format::threads(point.thread_count),
            point.gil_mismatches,
            point.samples.len()
        ));
    }
    let disturbed: Vec<String> = results
        .points
        .iter()
        .filter(|p| p.disturbed())
        .map(|p| {
            format!(
                "{} ({} of {} samples)",
                p.name(),
                p.disturbed_samples(),
                p.samples.len()
            )
        })
        .collect();
    if !disturbed.is_empty() {
        warnings.push(format!(
            "other work on the machine disturbed {} point(s), marked BUSY!: {}. Their numbers may show the machine, not Python; measure them again on a quiet machine (`ftbench check` says what is busy).",
            disturbed.len(),
            disturbed.join("; ")
        ));
    }
    warnings.extend(ceilings_below_python(results));
    let noisy: Vec<String> = results
        .points
        .iter()
        .filter(|p| p.throughput.is_noisy())
        .map(Point::name)
        .collect();
    if !noisy.is_empty() {
        const SHOWN: usize = 6;
        let more = noisy.len().saturating_sub(SHOWN);
        // The advice fits how the numbers were made: ftbench's own runs, pyperformance's, or
        // a file imported from elsewhere.
        let imported = results
            .variants
            .iter()
            .all(|v| v.source == crate::interpreter::InterpreterSource::Imported);
        let advice = if results.settings.pyperformance.is_some() {
            "close other programs, or run `ftbench pyperformance --rigorous`"
        } else if imported {
            "measure them again with more values (pyperf's --rigorous) on a quiet machine"
        } else {
            "close other programs, or raise --processes and --samples"
        };
        warnings.push(format!(
            "{} of {} points are noisy (CV above {:.0}%): {}{}. Their intervals are wide; {advice}.",
            noisy.len(),
            results.points.len(),
            crate::stats::NOISY_CV * 100.0,
            noisy[..noisy.len().min(SHOWN)].join("; "),
            if more > 0 { format!("; and {more} more") } else { String::new() }
        ));
    }
    warnings.extend(table::missing_lines(results));
    warnings.extend(results.warnings.iter().cloned());
    warnings
}

/// Where a Python speedup lies above the native ceiling beyond both intervals: the reference was
/// disturbed there (it cannot be beaten), so it must not be read as a ceiling.
fn ceilings_below_python(results: &Analysis<'_>) -> Vec<String> {
    let Some(native) = results.native_label() else {
        return Vec::new();
    };
    let mut warnings = Vec::new();
    for test in results.tests() {
        if !crate::workloads::native::is_ceiling(&test) {
            continue;
        }
        let Some(reference) = results.series(&test, native) else {
            continue;
        };
        for label in results.labels().iter().filter(|l| *l != native) {
            let Some(series) = results.series(&test, label) else {
                continue;
            };
            for point in &series.points {
                let (
                    Some(Estimate { value, low, .. }),
                    Some(Estimate {
                        value: nvalue,
                        high: nhigh,
                        ..
                    }),
                ) = (
                    point.speedup,
                    reference
                        .points
                        .iter()
                        .find(|n| n.thread_count == point.thread_count)
                        .and_then(|n| n.speedup),
                )
                else {
                    continue;
                };
                if low > nhigh {
                    warnings.push(format!(
                        "{test} at {}: {label}'s speedup {value:.2}x lies above the native ceiling's {nvalue:.2}x beyond both intervals; the native reference was disturbed there and is no ceiling",
                        crate::format::threads(point.thread_count)
                    ));
                }
            }
        }
    }
    warnings
}

/// Render the report from the results and their figures' SVG texts.
pub fn render(results: &Analysis<'_>, figures: &[(Figure, String)]) -> Result<String> {
    let variants = variant_rows(results);
    let system = &results.system;
    let system_rows = vec![
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
    ];
    let figure_context: Vec<FigureContext> = figures
        .iter()
        .map(|(f, svg)| FigureContext {
            name: &f.name,
            title: &f.title,
            svg: svg.trim_start_matches(|c| c != '<'),
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
            headline => crate::analysis::headline::headline(results),
            native_ceilings => native_ceilings,
            native_references => native_references,
            has_native => results.native_label().is_some(),
            created => results.created,
            command => results.command_line.join(" "),
            ftbench_version => results.ftbench_version,
            system => system,
            system_rows => system_rows,
            variants => variants,
            warnings => warnings(results),
            figures => figure_context,
            tables => table::tables(results),
            summary => summary,
            why => why,
            profiles => profile_rows(results),
            has_scaling => results.tests().iter().any(|t| results.group_of(t).scales()),
            regular_baseline => (!results.regular_tests().is_empty()).then(|| results.baseline()).flatten(),
            advice => advice,
            usable_cpus => results.cpus(),
            harness => results.harness.as_ref().map(|h| format!("{:.2}% of one core ({:.2} s of CPU in {:.0} s)", h.cpu_share * 100.0, h.cpu_s, h.wall_s)),
        })
        .context("failed to render the HTML report")
}

/// The interpreters table: one row per label, with its colour in the figures.
fn variant_rows(results: &Analysis<'_>) -> Vec<VariantRow> {
    let colours = plot::label_colours(results);
    results
        .variants
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
        .filter(|t| results.point(t, native, 1).is_some())
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
            threads: crate::format::workers(&test, threads),
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

#[cfg(test)]
mod tests {
    use crate::results::{ResultsFile, Settings};

    #[test]
    fn a_python_speedup_above_the_native_ceiling_is_called_a_disturbed_reference() {
        let variant = crate::results::testing::test_variant;
        let point = |label: &str, threads: u32, walls: &[u64]| {
            crate::results::testing::test_point("parallel_compute", label, threads, walls)
        };
        // Python at 2 threads twice as fast as serial; native at 2 threads as `native_walls` say.
        let file = |native_walls: &[u64]| {
            let mut results =
                ResultsFile::new(Settings::default(), vec![variant("ft"), variant("native")]);
            let serial = [1000, 1010, 990, 1005];
            results.points.push(point("ft", 0, &serial));
            results.points.push(point("ft", 2, &[500, 505, 495, 502]));
            results.points.push(point("native", 0, &serial));
            results.points.push(point("native", 2, native_walls));
            results
        };
        let disturbed = file(&[800, 810, 790, 805]);
        let warnings = super::ceilings_below_python(&crate::analysis::Analysis::of(&disturbed));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("the native reference was disturbed there and is no ceiling"),
            "{warnings:?}"
        );
        // Where native is above Python, nothing is said.
        let results = file(&[480, 485, 470, 490]);
        let warnings = super::ceilings_below_python(&crate::analysis::Analysis::of(&results));
        assert!(warnings.is_empty(), "{warnings:?}");
        // And only then is it called a ceiling (figures, legends).
        let is_ceiling = |r: &ResultsFile| {
            crate::analysis::Analysis::of(r).native_is_ceiling("parallel_compute")
        };
        assert!(is_ceiling(&results));
        assert!(!is_ceiling(&disturbed));
    }
}
