//! One tidy CSV table of every number: `label, test, thread_count, metric, value, ci_low,
//! ci_high`.

use std::fmt::Write;

use crate::results::ResultsFile;
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

/// Render the CSV (`thread_count` 0 is the serial baseline; empty CI cells where there is none).
pub fn render(results: &ResultsFile) -> String {
    let mut out = String::from("label,test,thread_count,metric,value,ci_low,ci_high\n");
    let mut row = |label: &str,
                   test: &str,
                   threads: u32,
                   metric: &str,
                   value: f64,
                   ci: Option<(f64, f64)>| {
        let (low, high) = ci.map_or((String::new(), String::new()), |(l, h)| {
            (l.to_string(), h.to_string())
        });
        let _ = writeln!(
            out,
            "{},{},{threads},{},{value},{low},{high}",
            field(label),
            field(test),
            field(metric)
        );
    };
    for test in results.tests() {
        let group = results.group_of(&test);
        let metric = results.metric_of(&test);
        for label in results.labels() {
            match group {
                Group::Scaling | Group::Pool => {
                    let Some(series) = results.series(&test, &label) else {
                        continue;
                    };
                    if let Some(serial) = &series.serial {
                        row(
                            &label,
                            &test,
                            0,
                            &metric,
                            serial.median,
                            Some((serial.ci_low, serial.ci_high)),
                        );
                    }
                    for p in &series.points {
                        let n = p.thread_count;
                        row(
                            &label,
                            &test,
                            n,
                            &metric,
                            p.value.median,
                            Some((p.value.ci_low, p.value.ci_high)),
                        );
                        if let Some((s, low, high)) = p.speedup {
                            row(&label, &test, n, "speedup", s, Some((low, high)));
                        }
                        if let Some(e) = p.efficiency {
                            row(&label, &test, n, "efficiency", e, None);
                        }
                        if let Some(k) = p.karp_flatt {
                            row(&label, &test, n, "karp_flatt", k, None);
                        }
                    }
                }
                Group::Regular => {
                    let Some(entry) = results.regular(&test, &label) else {
                        continue;
                    };
                    let d = &entry.duration;
                    row(
                        &label,
                        &test,
                        0,
                        "duration_s",
                        d.median,
                        Some((d.ci_low, d.ci_high)),
                    );
                    if let Some((s, low, high)) = entry.speedup {
                        row(&label, &test, 0, "speedup", s, Some((low, high)));
                    }
                }
                Group::Threads => {
                    let Some(entry) = results.thread_entry(&test, &label) else {
                        continue;
                    };
                    let u = &entry.us_per_thread;
                    row(
                        &label,
                        &test,
                        0,
                        "us_per_thread",
                        u.median,
                        Some((u.ci_low, u.ci_high)),
                    );
                    for (phase, percentiles) in &entry.phases_us {
                        for q in ["p50", "p95", "p99"] {
                            if let Some(v) = percentiles[q].as_f64() {
                                row(&label, &test, 0, &format!("{phase}_{q}_us"), v, None);
                            }
                        }
                    }
                }
            }
        }
    }
    out
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
