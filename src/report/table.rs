//! The report's tables as data: the seed's pivot tables (per test, thread counts down, metric /
//! speedup / efficiency per label across, then the scaling factors), the regular tests with the
//! seed's summary statistics, and thread costs, with the sentences that go with them (the
//! verdicts, how many threads). A [`Table`] itself and its layouts are `grid`'s.

use std::fmt::Write;

use super::grid::Table;
use crate::analysis::model::Model;
use crate::analysis::{Analysis, Phase, PointMetrics, Series, Verdict, telling_point};
use crate::format::{human, seconds};
use crate::stats::Estimate;
use crate::workloads::Group;

/// Every table of a results file, in report order.
pub fn tables(results: &Analysis<'_>) -> Vec<Table> {
    let mut tables = pivot_tables(results);
    tables.extend(regular_table(results));
    tables.extend(thread_tables(results));
    tables
}

/// Everything the terminal shows at the end of a run: the tables, the seed's summary block for
/// the regular tests, and what was not measured.
pub fn render(results: &Analysis<'_>, missing: &[&crate::analysis::warnings::Warning]) -> String {
    let mut out = String::new();
    for table in pivot_tables(results) {
        out.push_str(&table.to_text());
    }
    if let Some(table) = regular_table(results) {
        out.push_str(&table.to_text());
        out.push_str(&summary_statistics(results));
    }
    out.push_str(&why_text(results));
    for table in thread_tables(results) {
        out.push_str(&table.to_text());
    }
    for line in missing {
        let _ = writeln!(out, "\n{line}");
    }
    out
}

/// "1.45x slower" / "1.05x faster", as pyperformance words a ratio.
pub fn faster_slower(speedup: f64) -> String {
    if (speedup - 1.0).abs() < 0.005 {
        "no change".to_string()
    } else if speedup >= 1.0 {
        format!("{speedup:.2}x faster")
    } else {
        format!("{:.2}x slower", 1.0 / speedup)
    }
}

/// A value with the half-width of its 95% interval, relative to it: `16.0M ±3.0%`.
/// A value with the half-width of its 95% interval; `±n/a` where there is no interval (a single
/// sample, or a seed-schema file that kept none): a zero-width interval would claim certainty.
pub(super) fn with_ci(text: &str, summary: &crate::stats::Summary) -> String {
    if summary.n < 2 {
        return format!("{text} ±n/a");
    }
    format!("{text} ±{:.1}%", summary.relative_half_width() * 100.0)
}

/// A ratio with its 95% interval, `2.01 [1.95, 2.07]`, or bare where it has none.
pub(super) fn ratio_with_ci(Estimate { value, low, high }: Estimate) -> String {
    if high > low {
        format!("{value:.2} [{low:.2}, {high:.2}]")
    } else {
        format!("{value:.2}")
    }
}

pub(super) fn group_header(
    groups: &[&str],
    labels: &[String],
    first: &str,
) -> (Vec<(String, usize)>, Vec<String>) {
    let mut spans = vec![(String::new(), 1)];
    let mut header = vec![first.to_string()];
    for group in groups {
        spans.push(((*group).to_string(), labels.len()));
        header.extend(labels.iter().cloned());
    }
    (spans, header)
}

/// The seed's pivot table for every scaling and pool test.
/// The seed's "Scaling Factor" lines under a pivot table.
fn scaling_factor_notes(series: &[(String, Series)]) -> Vec<String> {
    // The headline: the speedup at the highest thread count measured, which shows a slowdown.
    let mut notes = vec![String::new()];
    for (label, s) in series {
        if let Some(last) = s.points.last() {
            notes.push(format!(
                "{label}: speedup at {} {}",
                crate::format::threads(last.thread_count),
                last.speedup.map_or(
                    "-".to_string(),
                    |Estimate {
                         value: v,
                         low,
                         high,
                     }| if high > low {
                        format!("{v:.2}x [{low:.2}, {high:.2}]")
                    } else {
                        format!("{v:.2}x")
                    }
                )
            ));
        }
    }
    notes.push(String::new());
    notes.push(
        "Scaling Factor (the seed's: best speedup / speedup at the first thread count; never below 1.00x):"
            .to_string(),
    );
    for (label, s) in series {
        notes.push(format!(
            "{label}: {}",
            s.scaling_factor
                .map_or("-".to_string(), |f| format!("{f:.2}x"))
        ));
    }
    notes
}

pub fn pivot_tables(results: &Analysis<'_>) -> Vec<Table> {
    let mut tables = Vec::new();
    for (test, series) in scaling_series(results) {
        let metric = results.metric_of(&test);
        let labels: Vec<String> = series.iter().map(|(l, _)| l.clone()).collect();
        // Files measured with CPU accounting get a parallelism column (the seed's do not).
        let with_parallelism = series
            .iter()
            .any(|(_, s)| s.points.iter().any(|p| p.parallelism.is_some()));
        let with_verdict = series
            .iter()
            .any(|(_, s)| s.points.iter().any(|p| p.verdict.is_some()));
        // Files measured with per-thread times get where that time went.
        let with_time = series.iter().any(|(_, s)| {
            s.points
                .iter()
                .any(|p| p.time.is_some() && p.thread_count > 1)
        });
        let mut columns = vec![Column::Throughput, Column::Speedup, Column::Efficiency];
        if with_parallelism {
            columns.push(Column::Parallelism);
        }
        if with_time {
            columns.push(Column::Time);
        }
        if with_verdict {
            columns.push(Column::Verdict);
        }
        let names: Vec<&str> = columns.iter().map(|c| c.name(&metric)).collect();
        let (groups, header) = group_header(&names, &labels, "thread_count");
        let mut rows = Vec::new();
        let mut serial_row = vec!["serial".to_string()];
        for (_, s) in &series {
            serial_row.push(
                s.serial
                    .as_ref()
                    .map_or("-".to_string(), |v| with_ci(&human(v.median), v)),
            );
        }
        serial_row.extend(std::iter::repeat_n(
            String::new(),
            series.len() * (columns.len() - 1),
        ));
        rows.push(serial_row);
        for n in thread_counts(&series) {
            let mut row = vec![n.to_string()];
            for column in &columns {
                for (_, s) in &series {
                    let point = s.points.iter().find(|p| p.thread_count == n);
                    row.push(point.map_or("-".to_string(), |p| pivot_cell(p, *column)));
                }
            }
            rows.push(row);
        }
        let mut notes = scaling_factor_notes(&series);
        notes.extend(model_notes(&series));
        if with_time {
            notes.push(String::new());
            notes.push(TIME_NOTE.to_string());
        }
        notes.extend(memory_notes(&series));
        tables.push(Table {
            title: format!("{test} ({metric}, higher is better)"),
            groups,
            header,
            rows,
            notes,
        });
    }
    tables
}

/// Each scaling or pool test with the curves of the labels that measured it (tests no label
/// measured are left out).
pub(super) fn scaling_series(results: &Analysis<'_>) -> Vec<(String, Vec<(String, Series)>)> {
    results
        .tests()
        .into_iter()
        .filter(|test| results.group_of(test).scales())
        .filter_map(|test| {
            let series: Vec<(String, Series)> = results
                .labels()
                .into_iter()
                .filter_map(|l| results.series(&test, &l).map(|s| (l, s)))
                .collect();
            (!series.is_empty()).then_some((test, series))
        })
        .collect()
}

/// Every thread count any of the series measured, ascending.
pub(super) fn thread_counts(series: &[(String, Series)]) -> Vec<u32> {
    let mut counts: Vec<u32> = series
        .iter()
        .flat_map(|(_, s)| s.points.iter().map(|p| p.thread_count))
        .collect();
    counts.sort_unstable();
    counts.dedup();
    counts
}

/// The fitted model of each label's curve, or why there is none.
pub(super) fn model_notes(series: &[(String, Series)]) -> Vec<String> {
    let lines: Vec<String> = series
        .iter()
        .filter_map(|(label, s)| {
            Some(match s.model.as_ref()? {
                Model::Described(fit) => format!("{label}: {}", fit.describe()),
                Model::NotDescribed { reason } => format!("{label}: not described: {reason}"),
            })
        })
        .collect();
    if lines.is_empty() {
        return lines;
    }
    let mut notes = vec![
        String::new(),
        "Model (Universal Scalability Law C(N) = N / (1 + σ(N−1) + κN(N−1)), fitted within the CPUs):"
            .to_string(),
    ];
    notes.extend(lines);
    notes
}

/// How many threads to use, where the measured curve turns down: `best at 4 threads; 16
/// threads are 3.1x slower than 4`, per test and label.
pub fn thread_advice(results: &Analysis<'_>) -> Vec<String> {
    let mut lines = Vec::new();
    for test in results.tests() {
        if !results.group_of(&test).scales() {
            continue;
        }
        for label in results.labels() {
            let Some(series) = results.series(&test, &label) else {
                continue;
            };
            let best = series
                .points
                .iter()
                .max_by(|a, b| a.value.median.total_cmp(&b.value.median));
            let last = series.points.iter().max_by_key(|p| p.thread_count);
            let (Some(best), Some(last)) = (best, last) else {
                continue;
            };
            if best.thread_count >= last.thread_count || best.value.median <= 0.0 {
                continue;
            }
            let slower = best.value.median / last.value.median;
            if slower < 1.1 {
                continue;
            }
            let peak = match &series.model {
                Some(Model::Described(fit)) => fit
                    .peak_threads
                    .filter(|p| p.value.is_finite())
                    .map_or(String::new(), |p| {
                        format!(
                            " (the model puts the peak at {})",
                            crate::format::threads(p.value.round() as u32)
                        )
                    }),
                _ => String::new(),
            };
            lines.push(format!(
                "{test} on {label}: best at {}; {} are {slower:.1}x slower than {}{peak}",
                results.info(&test).workers(best.thread_count),
                results.info(&test).workers(last.thread_count),
                best.thread_count
            ));
        }
    }
    lines
}

/// What the `time %` column's five numbers are.
const TIME_NOTE: &str = "time %: of the threads' time, running / waiting for a CPU / blocked / started late / idle after finishing early";

/// A column group of a pivot table (one column per label each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    /// The test's own metric (`ops_per_sec`), with GIL! and BUSY! marks.
    Throughput,
    Speedup,
    Efficiency,
    Parallelism,
    /// Where the threads' time went ([`TIME_NOTE`]).
    Time,
    Verdict,
}

impl Column {
    /// The group's heading; the throughput column is headed by the test's metric.
    fn name(self, metric: &str) -> &str {
        match self {
            Self::Throughput => metric,
            Self::Speedup => "speedup",
            Self::Efficiency => "efficiency",
            Self::Parallelism => "parallelism",
            Self::Time => "time %",
            Self::Verdict => "verdict",
        }
    }
}

/// One cell of a pivot table: `column` of point `p`.
fn pivot_cell(p: &PointMetrics, column: Column) -> String {
    let fixed = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2}"));
    match column {
        Column::Speedup => p.speedup.map_or("-".to_string(), ratio_with_ci),
        Column::Efficiency => fixed(p.efficiency),
        Column::Parallelism => fixed(p.parallelism),
        Column::Time => match (&p.time, p.thread_count) {
            (Some(t), 2..) => {
                let pct = |v: f64| format!("{:.0}", (v * 100.0).clamp(0.0, 100.0));
                format!(
                    "{}/{}/{}/{}/{}",
                    pct(t.running),
                    t.cpu_wait.map_or("-".to_string(), pct),
                    pct(t.blocked),
                    pct(t.late),
                    pct(t.idle)
                )
            }
            _ => "-".to_string(),
        },
        Column::Verdict => p
            .verdict
            .map_or("-".to_string(), |v| v.as_str().to_string()),
        Column::Throughput => {
            let gil = if p.gil_mismatches > 0 { " GIL!" } else { "" };
            let busy = if p.disturbed_samples > 0 {
                " BUSY!"
            } else {
                ""
            };
            format!("{}{gil}{busy}", with_ci(&human(p.value.median), &p.value))
        }
    }
}

/// Peak memory per label: serial and at the highest thread count, and what each thread added.
fn memory_notes(series: &[(String, Series)]) -> Vec<String> {
    let lines: Vec<String> = series
        .iter()
        .filter_map(|(label, s)| {
            let last = s.points.last()?;
            let peak = last.max_rss_mb?;
            let per_thread = last.memory_per_thread_kb.map_or(String::new(), |kb| {
                format!(", {kb:+.0} KiB per thread over serial")
            });
            Some(format!(
                "{label}: {peak:.1} MiB at {}{per_thread}",
                crate::format::threads(last.thread_count)
            ))
        })
        .collect();
    if lines.is_empty() {
        return lines;
    }
    let mut notes = vec![
        String::new(),
        "Peak memory of a worker process (RSS):".to_string(),
    ];
    notes.extend(lines);
    notes
}

/// "Why it does not scale": one line per test and label with its verdict, and each verdict's
/// advice once.
pub fn why_lines(results: &Analysis<'_>) -> Vec<(String, String, u32, Verdict)> {
    let cpus = results.cpus();
    let mut lines = Vec::new();
    for test in results.tests() {
        if !results.group_of(&test).scales() {
            continue;
        }
        for label in results.labels() {
            if let Some(series) = results.series(&test, &label)
                && let Some(point) = telling_point(&series, cpus)
                && let Some(verdict) = point.verdict
            {
                lines.push((test.clone(), label, point.thread_count, verdict));
            }
        }
    }
    lines
}

/// The "why" block as text: verdicts per test, then the advice for each verdict that occurs.
pub fn why_text(results: &Analysis<'_>) -> String {
    let lines = why_lines(results);
    let mut out = String::new();
    if !lines.is_empty() {
        out.push_str("\nWhy it does (not) scale, per test and label:\n");
    }
    for (test, label, threads, verdict) in &lines {
        let _ = writeln!(
            out,
            "  {test:<26} {label:<14} {:<11} {}",
            results.info(test).workers(*threads),
            verdict.as_str()
        );
    }
    for verdict in distinct_verdicts(&lines) {
        let _ = writeln!(out, "{}: {}", verdict.as_str(), verdict.advice());
    }
    let mechanisms =
        crate::analysis::mechanism::lines(results.profiles(), |t| results.info(t).uses_processes());
    if !mechanisms.is_empty() {
        out.push_str("\nWhat grew when the threads were added (--profile):\n");
        for (test, label, line) in mechanisms {
            let _ = writeln!(out, "  {test} on {label}: {line}");
        }
    }
    let advice = thread_advice(results);
    if !advice.is_empty() {
        out.push_str("\nHow many threads:\n");
        for line in advice {
            let _ = writeln!(out, "  {line}");
        }
    }
    out
}

/// The verdicts of [`why_lines`], each once, in the order they first occur: each gets its
/// advice once, in every format.
pub fn distinct_verdicts(lines: &[(String, String, u32, Verdict)]) -> Vec<Verdict> {
    let mut seen: Vec<Verdict> = Vec::new();
    for (_, _, _, verdict) in lines {
        if !seen.contains(verdict) {
            seen.push(*verdict);
        }
    }
    seen
}

/// The regular tests: time per run and speedup against the baseline, per label.
pub fn regular_table(results: &Analysis<'_>) -> Option<Table> {
    let tests = results.regular_tests();
    let baseline = results.baseline()?;
    if tests.is_empty() {
        return None;
    }
    let labels: Vec<String> = results
        .labels()
        .into_iter()
        .filter(|l| tests.iter().any(|t| results.regular(t, l).is_some()))
        .collect();
    let with_memory = tests.iter().any(|t| {
        labels.iter().any(|l| {
            results
                .regular(t, l)
                .is_some_and(|e| e.memory_ratio.is_some())
        })
    });
    let columns: &[&str] = if with_memory {
        &["duration", "speedup", "memory"]
    } else {
        &["duration", "speedup"]
    };
    let (groups, header) = group_header(columns, &labels, "test");
    let mut rows = Vec::new();
    for test in &tests {
        let entries: Vec<_> = labels.iter().map(|l| results.regular(test, l)).collect();
        let mut row = vec![test.clone()];
        for (label, entry) in labels.iter().zip(&entries) {
            row.push(entry.as_ref().map_or("-".to_string(), |e| {
                with_ci(&seconds(e.duration.median), &e.duration) + gil_mark(results, test, label)
            }));
        }
        for (label, entry) in labels.iter().zip(&entries) {
            row.push(if *label == baseline {
                "base".to_string()
            } else {
                speedup_cell(results, test, label, &baseline, entry.as_ref())
            });
        }
        if with_memory {
            row.extend(
                labels
                    .iter()
                    .zip(&entries)
                    .map(|(label, entry)| memory_cell(entry.as_ref(), *label == baseline)),
            );
        }
        rows.push(row);
    }
    let geomean = geomean_row(results, &labels, &baseline, with_memory);
    rows.push(geomean);
    let notes = regular_notes(results, &rows);
    Some(Table {
        title: format!(
            "{}: time per run, speedup against {baseline}",
            results.regular_heading()
        ),
        groups,
        header,
        rows,
        notes,
    })
}

/// The regular table's last row: each label's geometric mean against the baseline (`~` where
/// its interval holds 1), and of memory where the table shows memory.
fn geomean_row(
    results: &Analysis<'_>,
    labels: &[String],
    baseline: &str,
    with_memory: bool,
) -> Vec<String> {
    let mut geomean = vec!["geometric mean".to_string()];
    geomean.extend(std::iter::repeat_n(String::new(), labels.len()));
    for label in labels {
        geomean.push(if *label == *baseline {
            "base".to_string()
        } else {
            results
                .regular_summary(label)
                .and_then(|s| s.geometric_mean.map(|g| (g, s.significant())))
                .map_or("-".to_string(), |(g, significant)| {
                    let mark = if significant { "" } else { " ~" };
                    format!("{}{mark}", times_with_ci(g))
                })
        });
    }
    if with_memory {
        geomean.extend(labels.iter().map(|label| {
            results
                .regular_summary(label)
                .and_then(|s| s.memory_geometric_mean)
                .filter(|_| *label != baseline)
                .map_or_else(
                    || if *label == *baseline { "base" } else { "-" }.to_string(),
                    times_with_ci,
                )
        }));
    }
    geomean
}

/// ` GIL!` where `label` ran a single-run test with the GIL in another state than its build's
/// (a module turned it back on), else nothing.
fn gil_mark(results: &Analysis<'_>, test: &str, label: &str) -> &'static str {
    if results.ran_with_wrong_gil(test, label) {
        " GIL!"
    } else {
        ""
    }
}

/// A regular test's speedup against the baseline: `~` where its interval holds 1 (or there is
/// none, one value each), `GIL!` where either side ran with the GIL in the wrong state.
fn speedup_cell(
    results: &Analysis<'_>,
    test: &str,
    label: &str,
    baseline: &str,
    entry: Option<&crate::analysis::RegularEntry>,
) -> String {
    entry.and_then(|e| e.speedup).map_or("-".to_string(), |s| {
        let mark = if s.high > s.low && s.excludes(1.0) {
            ""
        } else {
            " ~"
        };
        let gil = match gil_mark(results, test, label) {
            "" => gil_mark(results, test, baseline),
            mark => mark,
        };
        format!("{:.2}x{mark}{gil}", s.value)
    })
}

/// The legends of the marks the regular table's rows use.
fn regular_notes(results: &Analysis<'_>, rows: &[Vec<String>]) -> Vec<String> {
    let mut notes = Vec::new();
    if rows.iter().flatten().any(|cell| cell.contains(" ~")) {
        notes.push("(~: the 95% interval includes 1, so no real difference)".to_string());
    }
    if rows.iter().flatten().any(|cell| cell.ends_with(" GIL!")) {
        notes.push(format!(
            "(GIL!: ran with the GIL in another state than its build's, a module turned it back on; {})",
            if results.settings().include_gil_benchmarks {
                "kept in the geometric means by --include-gil-benchmarks"
            } else {
                "left out of the geometric means"
            }
        ));
    }
    notes
}

pub(super) fn times_with_ci(g: Estimate) -> String {
    if g.high > g.low {
        format!("{:.3}x [{:.3}, {:.3}]", g.value, g.low, g.high)
    } else {
        format!("{:.3}x (no interval)", g.value)
    }
}

/// A regular test's memory cell: the baseline's peak in MiB, other labels' ratio to it.
pub(super) fn memory_cell(
    entry: Option<&crate::analysis::RegularEntry>,
    is_baseline: bool,
) -> String {
    match entry {
        Some(e) if is_baseline => e
            .max_rss_mb
            .map_or("base".to_string(), |mb| format!("{mb:.1} MiB")),
        Some(e) => e
            .memory_ratio
            .map_or("-".to_string(), |Estimate { value: r, .. }| {
                format!("{r:.2}x")
            }),
        None => "-".to_string(),
    }
}

/// The seed's "Summary Statistics" block, with the geometric mean and whether it is real.
pub fn summary_statistics(results: &Analysis<'_>) -> String {
    let Some(baseline) = results.baseline() else {
        return String::new();
    };
    let mut out = String::from("\nSummary Statistics:\n");
    for label in results.labels() {
        let Some(summary) = results.regular_summary(&label) else {
            continue;
        };
        let _ = writeln!(out, "\n{label}:");
        let _ = writeln!(
            out,
            "Average Duration: {}",
            seconds(summary.average_duration)
        );
        let _ = writeln!(out, "Average Speedup: {:.3}x", summary.average_speedup);
        let _ = writeln!(out, "Tests Faster than {baseline}: {}", summary.faster);
        let _ = writeln!(out, "Tests Slower than {baseline}: {}", summary.slower);
        if label == baseline {
            let _ = writeln!(out, "Geometric mean: 1.00x (the baseline)");
        } else if let Some(Estimate {
            value: mean,
            low,
            high,
        }) = summary.geometric_mean
        {
            let verdict = if summary.significant() {
                "significant"
            } else {
                "not significant: the interval includes 1.00x"
            };
            let _ = writeln!(
                out,
                "Geometric mean: {mean:.3}x ({}) [95% CI {low:.3}x, {high:.3}x], {verdict}",
                faster_slower(mean)
            );
        }
        if label != baseline
            && let Some(memory) = summary.memory_geometric_mean
        {
            let _ = writeln!(
                out,
                "{}",
                memory_sentence(memory, &baseline, results.pep_779_ratio(&label, memory))
            );
        }
    }
    out
}

/// The regular suite's memory against the baseline; where one side is a free-threaded build
/// and the other a GIL build, judged against PEP 779's 1.20 bar (free-threaded over GIL).
pub fn memory_sentence(memory: Estimate, baseline: &str, pep_779: Option<Estimate>) -> String {
    let Estimate {
        value: mean,
        low,
        high,
    } = memory;
    let judged = pep_779.map_or(String::new(), |ratio| {
        let where_ = match crate::analysis::pep_779(ratio) {
            "within" => "within PEP 779's bar of 1.20x",
            "above" => "above PEP 779's bar of 1.20x",
            _ => "the interval straddles PEP 779's bar of 1.20x",
        };
        format!(
            "; the free-threaded build holds {:.3}x the GIL build's [{:.3}x, {:.3}x], {where_}",
            ratio.value, ratio.low, ratio.high
        )
    });
    format!(
        "Peak memory (geometric mean): {mean:.3}x of {baseline} [95% CI {low:.3}x, {high:.3}x]{judged}"
    )
}

/// Thread lifecycle costs: µs per thread per label, then each test's phase percentiles.
pub fn thread_tables(results: &Analysis<'_>) -> Vec<Table> {
    let tests: Vec<String> = results
        .tests()
        .into_iter()
        .filter(|t| results.group_of(t) == Group::Threads)
        .collect();
    if tests.is_empty() {
        return Vec::new();
    }
    let labels: Vec<String> = results
        .labels()
        .into_iter()
        .filter(|l| tests.iter().any(|t| results.thread_entry(t, l).is_some()))
        .collect();
    let mut header = vec!["test".to_string()];
    header.extend(labels.iter().cloned());
    let live = live_memory_rows(results, &tests, &labels);
    let rows = tests
        .iter()
        .map(|test| {
            let mut row = vec![test.clone()];
            for label in &labels {
                row.push(
                    results
                        .thread_entry(test, label)
                        .map_or("-".to_string(), |e| {
                            let us = e.us_per_thread.median;
                            with_ci(&format!("{us:.1}"), &e.us_per_thread)
                        }),
                );
            }
            row
        })
        .collect();
    let mut tables = vec![Table {
        title: "Thread lifecycle: microseconds per thread (create, start, run, join)".to_string(),
        groups: Vec::new(),
        header: header.clone(),
        rows,
        notes: Vec::new(),
    }];
    if !live.is_empty() {
        tables.push(Table {
            title: "Thread memory: KiB of resident memory per live (blocked) thread".to_string(),
            groups: Vec::new(),
            header,
            rows: live,
            notes: Vec::new(),
        });
    }
    tables.extend(thread_cost_table(results));
    tables.extend(tests.iter().map(|test| phase_table(results, test, &labels)));
    tables
}

/// KiB per live thread, a row per test that measured it.
fn live_memory_rows(
    results: &Analysis<'_>,
    tests: &[String],
    labels: &[String],
) -> Vec<Vec<String>> {
    tests
        .iter()
        .filter_map(|test| {
            let cells: Vec<Option<f64>> = labels
                .iter()
                .map(|l| {
                    results
                        .thread_entry(test, l)
                        .and_then(|e| e.kb_per_live_thread)
                })
                .collect();
            cells.iter().any(Option::is_some).then(|| {
                let mut row = vec![test.clone()];
                row.extend(
                    cells
                        .iter()
                        .map(|c| c.map_or("-".to_string(), |kb| format!("{kb:.0}"))),
                );
                row
            })
        })
        .collect()
}

/// One thread test's phases, p50 / p95 / p99 per label.
fn phase_table(results: &Analysis<'_>, test: &str, labels: &[String]) -> Table {
    let mut rows = Vec::new();
    for label in labels {
        let Some(entry) = results.thread_entry(test, label) else {
            continue;
        };
        let mut row = vec![label.clone()];
        for phase in Phase::ALL {
            let p = entry.phase(phase).copied().unwrap_or_default();
            let f = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}"));
            row.push(format!("{} / {} / {}", f(p.p50), f(p.p95), f(p.p99)));
        }
        rows.push(row);
    }
    let mut header = vec!["label".to_string()];
    header.extend(Phase::ALL.iter().map(|p| p.name().to_string()));
    Table {
        title: format!("Phases of {test}, p50 / p95 / p99 in µs"),
        groups: Vec::new(),
        header,
        rows,
        notes: Vec::new(),
    }
}

/// Thread start-up by native cost group, from `--profile` runs of the thread suite: the share
/// of the workload's CPU samples and CPU µs per thread, per test and label.
fn thread_cost_table(results: &Analysis<'_>) -> Option<Table> {
    let profiled: Vec<_> = results
        .profiles()
        .iter()
        .filter(|p| !p.costs.is_empty())
        .collect();
    let groups: Vec<String> = profiled
        .first()?
        .costs
        .iter()
        .map(|c| c.group.clone())
        .collect();
    let mut header = vec!["test".to_string(), "label".to_string()];
    header.extend(groups.iter().cloned());
    let rows = profiled
        .iter()
        .map(|p| {
            let total: u64 = p.costs.iter().map(|c| c.cpu_ns).sum();
            let mut row = vec![p.test.clone(), p.label.clone()];
            row.extend(groups.iter().map(|group| {
                p.costs
                    .iter()
                    .find(|c| &c.group == group)
                    .map_or("-".to_string(), |c| {
                        format!(
                            "{:.0}% ({:.1} µs)",
                            c.cpu_ns as f64 * 100.0 / total.max(1) as f64,
                            c.us_per_thread
                        )
                    })
            }));
            row
        })
        .collect();
    Some(Table {
        title: "Thread start-up by native cost group (perf, --profile): share of CPU, CPU µs per thread".to_string(),
        groups: Vec::new(),
        header,
        rows,
        notes: vec![
            "Samples of the thread workload only, each in the group of its innermost frame that names one (see THREAD_COST_GROUPS in src/runner/profile.rs); a growing \"other\" means CPython renamed something.".to_string(),
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::{Estimate, faster_slower, ratio_with_ci, with_ci};
    use crate::stats::Summary;

    #[test]
    fn numbers_say_what_they_are() {
        // No change is not "1.00x faster".
        assert_eq!(faster_slower(1.001), "no change");
        assert_eq!(faster_slower(1.45), "1.45x faster");
        assert_eq!(faster_slower(0.5), "2.00x slower");
        // One sample has no interval: never a zero-width "±0.0%".
        let one = Summary::from_samples(&[5.0]).unwrap();
        assert_eq!(with_ci("5.00", &one), "5.00 ±n/a");
        let some = Summary::from_samples(&[5.0, 5.1, 4.9, 5.05]).unwrap();
        assert!(with_ci("5.00", &some).ends_with('%'));
        // Ratios come with their interval where they have one.
        assert_eq!(
            ratio_with_ci(Estimate::new(2.013, 1.87, 2.08)),
            "2.01 [1.87, 2.08]"
        );
        assert_eq!(ratio_with_ci(Estimate::exact(1.038)), "1.04");
    }
}
