//! One tidy CSV table of every number: `label, test, thread_count, metric, value, ci_low,
//! ci_high, serial`. The serial baseline (and the regular and thread suites, which run serially)
//! has an empty `thread_count` and `serial` true, so that a numeric filter on `thread_count`
//! never mistakes it for a thread count.

use std::fmt::Write;

use crate::analysis::{Analysis, RegularEntry, Series, ThreadEntry};
use crate::stats::Estimate;
use crate::workloads::Group;

/// A text field: always quoted, control characters made visible, and a leading `= + - @` (which
/// spreadsheets run as a formula) neutralised with a `'`. Numbers are written by ftbench itself
/// and stay bare, so spreadsheets and pandas read them as numbers (and `-0.5` stays negative).
fn field(text: &str) -> String {
    let text = crate::output::escape(text);
    let neutral = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text
    };
    format!("\"{}\"", neutral.replace('"', "\"\""))
}

/// One row's numbers: thread count (0: serial), metric, value and its 95% interval.
type Row = (u32, String, f64, Option<(f64, f64)>);

/// Render the CSV (empty CI cells where there is none).
pub fn render(results: &Analysis<'_>) -> String {
    let mut out = String::from("label,test,thread_count,metric,value,ci_low,ci_high,serial\n");
    for test in results.tests() {
        let group = results.group_of(&test);
        let metric = results.metric_of(&test);
        for label in results.labels() {
            let rows = match group {
                Group::Scaling | Group::Pool => results
                    .series(&test, &label)
                    .map(|series| scaling_rows(&series, &metric)),
                Group::Regular | Group::Pyperformance => {
                    results.regular(&test, &label).map(|e| regular_rows(&e))
                }
                Group::Threads => results.thread_entry(&test, &label).map(|e| thread_rows(&e)),
            };
            for (threads, metric, value, ci) in rows.unwrap_or_default() {
                let (low, high) = ci.map_or((String::new(), String::new()), |(l, h)| {
                    (l.to_string(), h.to_string())
                });
                let (threads, serial) = if threads == 0 {
                    (String::new(), true)
                } else {
                    (threads.to_string(), false)
                };
                let _ = writeln!(
                    out,
                    "{},{},{threads},{},{value},{low},{high},{serial}",
                    field(&label),
                    field(&test),
                    field(&metric)
                );
            }
        }
    }
    out
}

fn scaling_rows(series: &Series, metric: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    if let Some(serial) = &series.serial {
        rows.push((
            0,
            metric.to_string(),
            serial.median,
            Some((serial.ci_low, serial.ci_high)),
        ));
    }
    for p in &series.points {
        let n = p.thread_count;
        rows.push((
            n,
            metric.to_string(),
            p.value.median,
            Some((p.value.ci_low, p.value.ci_high)),
        ));
        if let Some(Estimate {
            value: s,
            low,
            high,
        }) = p.speedup
        {
            rows.push((n, "speedup".into(), s, Some((low, high))));
        }
        for (name, value) in [
            ("efficiency", p.efficiency),
            ("karp_flatt", p.karp_flatt),
            ("parallelism", p.parallelism),
            ("max_rss_mb", p.max_rss_mb),
            ("memory_per_thread_kb", p.memory_per_thread_kb),
            ("voluntary_switches", p.voluntary_switches),
            ("involuntary_switches", p.involuntary_switches),
        ] {
            if let Some(value) = value {
                rows.push((n, name.into(), value, None));
            }
        }
    }
    rows
}

fn regular_rows(entry: &RegularEntry) -> Vec<Row> {
    let d = &entry.duration;
    let mut rows = vec![(
        0,
        "duration_s".into(),
        d.median,
        Some((d.ci_low, d.ci_high)),
    )];
    if let Some(Estimate {
        value: s,
        low,
        high,
    }) = entry.speedup
    {
        rows.push((0, "speedup".into(), s, Some((low, high))));
    }
    if let Some(mb) = entry.max_rss_mb {
        rows.push((0, "max_rss_mb".into(), mb, None));
    }
    if let Some(Estimate {
        value: r,
        low,
        high,
    }) = entry.memory_ratio
    {
        rows.push((0, "memory_ratio".into(), r, Some((low, high))));
    }
    rows
}

fn thread_rows(entry: &ThreadEntry) -> Vec<Row> {
    let u = &entry.us_per_thread;
    let mut rows = vec![(
        0,
        "us_per_thread".into(),
        u.median,
        Some((u.ci_low, u.ci_high)),
    )];
    if let Some(kb) = entry.kb_per_live_thread {
        rows.push((0, "kb_per_live_thread".into(), kb, None));
    }
    for (phase, percentiles) in &entry.phases_us {
        for (q, v) in percentiles.named() {
            rows.push((0, format!("{phase}_{q}_us"), v, None));
        }
    }
    rows
}

/// `results.csv`.
pub struct Csv;

impl super::model::Exporter for Csv {
    type Output = String;
    fn export(&self, model: &super::model::ReportModel<'_>) -> anyhow::Result<String> {
        Ok(render(model.analysis))
    }
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn text_fields_are_quoted_and_never_formulas() {
        assert_eq!(field("3.13t"), "\"3.13t\"");
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("@SUM(A1)"), "\"'@SUM(A1)\"");
        assert_eq!(field("ops,x\ny"), "\"ops,x\\ny\"");
    }
}
