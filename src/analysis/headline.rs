//! The headline: a few plain sentences that answer the study's question for the interpreters of
//! one results file, each number with its 95% interval. `run` and `report` end with them on the
//! terminal; report.md and report.html open with them.
//!
//! 1. The single-thread cost of each free-threaded build against its GIL counterpart (the GIL
//!    build of the same version, else the same build with its GIL forced on): the regular
//!    suite's geometric mean (else the scaling tests' serial runs), and its memory, against
//!    PEP 779's bar where the counterpart is a GIL build.
//!    Where the builds compared differ in how they were built (PGO, LTO, a shared library,
//!    frame pointers, debug, the JIT), a sentence says so: every ratio includes that.
//! 2. The best speedup each label reached on the compute test, and at how many threads.
//! 3. Per free-threaded build, the tests where it does not scale and why, telling the code's
//!    reasons (contends, waits, the GIL turned back on) from the machine's (unequal CPUs, other
//!    work).

use std::fmt::Write as _;

use super::{Analysis, PEP_779_MEMORY_RATIO, Verdict, pep_779};
use crate::interpreter::GilMode;
use crate::results::VariantRecord;
use crate::stats::{self, Estimate};

/// The scaling test whose best speedup the headline names, when it was measured.
const COMPUTE_TEST: &str = "parallel_compute";

/// The headline's sentences, in order; empty when the file has nothing to say them from.
pub fn headline(results: &Analysis<'_>) -> Vec<String> {
    let mut sentences = Vec::new();
    for build in free_threaded_builds(results) {
        if let Some(counterpart) = counterpart(results, build)
            && let Some(sentence) = single_thread_cost(results, build, counterpart)
        {
            sentences.push(sentence);
        }
    }
    sentences.extend(build_differences(results));
    sentences.extend(best_speedups(results));
    for build in free_threaded_builds(results) {
        sentences.extend(where_it_does_not_scale(results, &build.label));
    }
    sentences
}

/// Free-threaded builds run as such (not with the GIL forced on).
fn free_threaded_builds<'a>(results: &'a Analysis<'_>) -> Vec<&'a VariantRecord> {
    results
        .variants()
        .iter()
        .filter(|v| {
            v.info.free_threaded && v.gil_mode != GilMode::ForceOn && !results.is_native(&v.label)
        })
        .collect()
}

/// The GIL build of the same version, else the same build with its GIL forced on.
fn counterpart<'a>(results: &'a Analysis<'_>, build: &VariantRecord) -> Option<&'a VariantRecord> {
    let python = |v: &&VariantRecord| !results.is_native(&v.label) && v.label != build.label;
    let version = |v: &VariantRecord| (v.info.version_info[0], v.info.version_info[1]);
    results
        .variants()
        .iter()
        .filter(python)
        .find(|v| !v.info.free_threaded && version(v) == version(build))
        .or_else(|| {
            results.variants().iter().filter(python).find(|v| {
                v.gil_mode == GilMode::ForceOn
                    && (v.path == build.path || v.run_path == build.run_path)
            })
        })
}

/// "1.45x slower than 3.13 [1.40x, 1.51x]" for a speed ratio (above 1: faster); no interval
/// where each side has one value only (a seed-schema file, `--debug-single-value`).
fn speed_words(ratio: Estimate, other: &str) -> String {
    let interval = |low: f64, high: f64| {
        if high > low {
            format!(" [{low:.2}x, {high:.2}x]")
        } else {
            " (no interval: one value each)".to_string()
        }
    };
    if ratio.high > ratio.low && !ratio.excludes(1.0) {
        // Either way within the interval: a slowdown factor from below 1 to above it misreads.
        return format!(
            "as fast as {other} within the noise: {:.2}x its speed [{:.2}x, {:.2}x]",
            ratio.value, ratio.low, ratio.high
        );
    }
    if ratio.value >= 1.0 {
        format!(
            "{:.2}x faster than {other}{}",
            ratio.value,
            interval(ratio.low, ratio.high)
        )
    } else {
        format!(
            "{:.2}x slower than {other}{}",
            1.0 / ratio.value,
            interval(1.0 / ratio.high, 1.0 / ratio.low)
        )
    }
}

/// Sentence 1 for one free-threaded build: its speed (and memory) on one thread against its
/// counterpart.
fn single_thread_cost(
    results: &Analysis<'_>,
    build: &VariantRecord,
    counterpart: &VariantRecord,
) -> Option<String> {
    let (f, g) = (build.label.as_str(), counterpart.label.as_str());
    let regular: Vec<(Vec<f64>, Vec<f64>)> = results
        .regular_tests()
        .iter()
        .filter(|t| results.counts_in_means(t, f) && results.counts_in_means(t, g))
        .filter_map(|t| Some((results.durations(t, g)?, results.durations(t, f)?)))
        .filter(|(a, b)| !a.is_empty() && !b.is_empty())
        .collect();
    let (pairs, over) = if regular.is_empty() {
        // No regular suite: the serial runs of the scaling tests (throughputs: F over G).
        let serial: Vec<(Vec<f64>, Vec<f64>)> = results
            .tests()
            .iter()
            .filter(|t| results.group_of(t).scales())
            .filter_map(|t| {
                let a = results.file.point(t, f, 0)?;
                let b = results.file.point(t, g, 0)?;
                Some((results.file.throughputs(a), results.file.throughputs(b)))
            })
            .filter(|(a, b)| !a.is_empty() && !b.is_empty())
            .collect();
        let n = serial.len();
        (serial, format!("the serial runs of {n} scaling test(s)"))
    } else {
        let n = regular.len();
        let noun = results.regular_noun();
        (regular, format!("{n} {noun}, geometric mean"))
    };
    let borrowed: Vec<(&[f64], &[f64])> = pairs
        .iter()
        .map(|(a, b)| (a.as_slice(), b.as_slice()))
        .collect();
    let speed = stats::geometric_mean_ci(&borrowed)?;
    let mut sentence = format!("On one thread {f} is {} ({over}", speed_words(speed, g));
    if speed.high > speed.low && !speed.excludes(1.0) {
        sentence.push_str("; the interval includes 1.00x: no real difference");
    }
    sentence.push(')');
    let peaks: Vec<(Vec<f64>, Vec<f64>)> = results
        .regular_tests()
        .iter()
        .map(|t| (results.peaks_mb(t, f), results.peaks_mb(t, g)))
        .filter(|(a, b)| !a.is_empty() && !b.is_empty())
        .collect();
    let borrowed: Vec<(&[f64], &[f64])> = peaks
        .iter()
        .map(|(a, b)| (a.as_slice(), b.as_slice()))
        .collect();
    if let Some(memory) = stats::geometric_mean_ci(&borrowed) {
        let _ = write!(
            sentence,
            ", and holds {:.2}x its memory [{:.2}x, {:.2}x]",
            memory.value, memory.low, memory.high
        );
        if !counterpart.info.free_threaded {
            sentence.push_str(match pep_779(memory) {
                "within" => ", within PEP 779's bar",
                "above" => ", above PEP 779's bar",
                _ => ", the interval straddles PEP 779's bar",
            });
            let _ = write!(sentence, " of {PEP_779_MEMORY_RATIO:.2}x");
        }
    }
    sentence.push('.');
    Some(sentence)
}

/// Whether a build has one flag.
type BuildFlag = fn(&VariantRecord) -> bool;

/// How the Python builds compared were built, where they differ (PGO, LTO, a shared library,
/// frame pointers, a debug build, the JIT): every ratio between them includes that. A `+gil`
/// variant is its build; builds whose flags are unknown (imported without them) say nothing.
fn build_differences(results: &Analysis<'_>) -> Option<String> {
    let mut builds: Vec<&VariantRecord> = Vec::new();
    for v in results
        .variants()
        .iter()
        .filter(|v| !results.is_native(&v.label))
    {
        let known = !v.info.config_args.is_empty();
        if known && !builds.iter().any(|b| b.path == v.path) {
            builds.push(v);
        }
    }
    if builds.len() < 2 {
        return None;
    }
    let flags: [(&str, BuildFlag); 6] = [
        ("PGO", |v| v.info.pgo),
        ("LTO", |v| v.info.lto),
        ("--enable-shared", |v| {
            v.info.config_args.contains("--enable-shared")
        }),
        ("frame pointers", |v| v.info.has_frame_pointers()),
        ("a debug build", |v| v.info.debug_build),
        ("the JIT", |v| v.info.jit),
    ];
    let mut differences = Vec::new();
    for (flag, has) in flags {
        let (with, without): (Vec<&VariantRecord>, Vec<&VariantRecord>) =
            builds.iter().partition(|v| has(v));
        let names = |v: &[&VariantRecord]| {
            v.iter()
                .map(|v| v.label.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if with.is_empty() || without.is_empty() {
            continue;
        }
        differences.push(if with.len() <= without.len() {
            format!("{flag} in {} only", names(&with))
        } else {
            format!("no {flag} in {}", names(&without))
        });
    }
    (!differences.is_empty()).then(|| {
        format!(
            "The builds differ, and every ratio between them includes that: {}.",
            differences.join("; ")
        )
    })
}

/// The test whose best speedups sentence 2 names: the compute test, else the first scaling test.
fn compute_test(results: &Analysis<'_>) -> Option<String> {
    let scaling: Vec<String> = results
        .tests()
        .into_iter()
        .filter(|t| results.group_of(t).scales())
        .collect();
    scaling
        .iter()
        .find(|t| *t == COMPUTE_TEST)
        .or_else(|| scaling.first())
        .cloned()
}

/// Sentence 2: the best speedup each label reached on the compute test, at how many threads.
fn best_speedups(results: &Analysis<'_>) -> Option<String> {
    let test = compute_test(results)?;
    let parts: Vec<String> = results
        .labels()
        .iter()
        .filter_map(|label| {
            let series = results.series(&test, label)?;
            let best = series
                .points
                .iter()
                .filter_map(|p| Some((p.thread_count, p.speedup?)))
                .max_by(|a, b| a.1.value.total_cmp(&b.1.value))?;
            let (threads, s) = best;
            let interval = if s.high > s.low {
                format!(" [{:.2}x, {:.2}x]", s.low, s.high)
            } else {
                String::new()
            };
            Some(format!(
                "{label} {:.2}x{interval} at {}",
                s.value,
                results.info(&test).workers(threads)
            ))
        })
        .collect();
    if parts.is_empty() {
        return None;
    }
    // Seed-schema files do not say how many CPUs the machine had.
    let cpus = if results.system().logical_cores > 0 {
        format!(
            " ({} usable CPU(s), so at most {}x)",
            results.cpus(),
            results.cpus()
        )
    } else {
        String::new()
    };
    Some(format!(
        "Best speedup over one serial run on {test}: {}{cpus}.",
        parts.join(", ")
    ))
}

/// Sentence 3 for one free-threaded build: where it does not scale, and why.
fn where_it_does_not_scale(results: &Analysis<'_>, label: &str) -> Option<String> {
    let cpus = results.cpus();
    let mut code: Vec<(String, Verdict)> = Vec::new();
    let mut machine: Vec<(String, Verdict)> = Vec::new();
    let mut scales = 0;
    for test in results.tests() {
        if !results.group_of(&test).scales() {
            continue;
        }
        let Some(series) = results.series(&test, label) else {
            continue;
        };
        let Some(point) = super::telling_point(&series, cpus) else {
            continue;
        };
        match point.verdict {
            Some(Verdict::Scales) => scales += 1,
            Some(v @ (Verdict::Contends | Verdict::Waits | Verdict::Gil | Verdict::Overhead)) => {
                code.push((test, v));
            }
            Some(v @ (Verdict::Disturbed | Verdict::Unequal)) => machine.push((test, v)),
            Some(Verdict::Oversubscribed) | None => {}
        }
    }
    if code.is_empty() && machine.is_empty() {
        return (scales > 0).then(|| {
            format!("{label} scaled on every test judged ({scales}), up to {cpus} CPU(s).")
        });
    }
    let list = |tests: &[(String, Verdict)]| {
        tests
            .iter()
            .map(|(t, v)| format!("{t} ({})", v.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut sentence = if code.is_empty() {
        format!("{label} scaled on {scales} test(s)")
    } else {
        format!("{label} does not scale on {}", list(&code))
    };
    if !machine.is_empty() {
        let _ = write!(
            sentence,
            "; the machine, not the code, held back {}: measure those again (`ftbench check`, `--cpus`)",
            list(&machine)
        );
    }
    sentence.push('.');
    Some(sentence)
}
