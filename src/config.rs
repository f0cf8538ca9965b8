//! From raw flags to validated settings: thread counts, tests, interpreters, labels, output.
//!
//! Everything a user can get wrong is checked here, before any worker starts, with one error
//! that names the offending value.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use crate::cli::RunArgs;
use crate::interpreter::{Discovery, GilMode, Spec, Variant, install};
use crate::output::Printer;
use crate::results::{self, ResultsFile, Settings};
use crate::runner::protocol::Scaling;
use crate::workloads::{self, Workload};

/// The most threads a point may ask for without `--force`.
pub const MAX_THREADS: u32 = 4096;

/// A validated `ftbench run`.
#[derive(Debug)]
pub struct RunConfig {
    pub variants: Vec<Variant>,
    pub tests: Vec<&'static Workload>,
    pub settings: Settings,
    pub output: PathBuf,
    /// The results file to continue (`--resume`), already loaded.
    pub resumed: Option<ResultsFile>,
}

/// Parse `--threads` values: positive integers, at most [`MAX_THREADS`] unless forced.
pub fn parse_threads(values: &[String], force: bool) -> Result<Vec<u32>> {
    let mut threads = Vec::new();
    for raw in values {
        let text = raw.trim();
        let n: i64 = text.parse().map_err(|_| {
            anyhow::anyhow!("invalid thread count `{text}`: expected a positive whole number")
        })?;
        if n <= 0 {
            bail!("invalid thread count `{text}`: it must be at least 1");
        }
        if n > i64::from(MAX_THREADS) && !force {
            bail!(
                "thread count `{text}` is above {MAX_THREADS}; pass --force if you really mean it"
            );
        }
        let n =
            u32::try_from(n).map_err(|_| anyhow::anyhow!("thread count `{text}` is too large"))?;
        if !threads.contains(&n) {
            threads.push(n);
        }
    }
    threads.sort_unstable();
    Ok(threads)
}

/// 1, 2, 4, ... up to twice the logical cores, plus the core count itself.
pub fn default_threads(logical_cores: usize) -> Vec<u32> {
    let limit = (logical_cores.max(1) * 2) as u32;
    let mut threads: Vec<u32> = std::iter::successors(Some(1u32), |n| n.checked_mul(2))
        .take_while(|n| *n <= limit)
        .collect();
    let cores = logical_cores as u32;
    if !threads.contains(&cores) {
        threads.push(cores);
        threads.sort_unstable();
    }
    threads
}

impl RunConfig {
    pub fn from_cli(args: &RunArgs, printer: &Printer) -> Result<Self> {
        if let Some(path) = &args.resume {
            return Self::resume(path, args, printer);
        }
        let threads = if args.measure.threads.is_empty() {
            default_threads(std::thread::available_parallelism().map_or(1, std::num::NonZero::get))
        } else {
            parse_threads(&args.measure.threads, args.measure.force)?
        };
        let tests = workloads::select(&args.tests, args.suite)?;
        let specs = args
            .measure
            .pythons
            .iter()
            .map(|raw| Spec::parse(raw))
            .collect::<Result<Vec<_>, _>>()?;
        let discovery = crate::interpreter::discover();
        let mut variants = if specs.is_empty() {
            let variants = discovery.default_variants();
            if !variants.iter().any(|v| v.interpreter.info.free_threaded) {
                bail!(
                    "no free-threaded Python found; install one with `ftbench python install 3.13t` or pass --python"
                );
            }
            variants
        } else {
            resolve_all(&discovery, &specs)?
        };
        if !args.no_native
            && tests
                .iter()
                .any(|t| crate::runner::native::supports(t.name))
        {
            variants.push(crate::runner::native::variant());
        }
        check_labels(&variants)?;
        let baseline = baseline_label(args.baseline.as_deref(), &variants, !specs.is_empty())?;
        if args.install_deps {
            for variant in &mut variants {
                install::attach_numpy_venv(variant, printer)?;
            }
        }
        let settings = Settings {
            tests: tests.iter().map(|t| t.name.to_string()).collect(),
            threads,
            target_ns: args
                .measure
                .target_ms
                .unwrap_or(if args.measure.quick { 20 } else { 100 })
                * 1_000_000,
            warmup: args.measure.warmup.unwrap_or(1),
            samples: args
                .measure
                .samples
                .unwrap_or(if args.measure.quick { 2 } else { 3 })
                .max(1),
            processes: args
                .measure
                .processes
                .unwrap_or(if args.measure.quick { 3 } else { 5 })
                .max(1),
            scaling: if args.weak {
                Scaling::Weak
            } else {
                Scaling::Strong
            },
            timeout_s: args.measure.timeout,
            quick: args.measure.quick,
            baseline: Some(baseline),
        };
        let output = args.measure.output.clone().unwrap_or_else(|| {
            PathBuf::from("ftbench-results").join(format!("{}.json", results::utc_stamp_for_file()))
        });
        Ok(Self {
            variants,
            tests,
            settings,
            output,
            resumed: None,
        })
    }

    fn resume(path: &std::path::Path, args: &RunArgs, printer: &Printer) -> Result<Self> {
        let mut previous = results::load(path)?;
        let mut variants = Vec::new();
        for record in &previous.variants {
            if record.source == crate::interpreter::InterpreterSource::Native {
                variants.push(crate::runner::native::variant());
                continue;
            }
            let info =
                crate::interpreter::query(&record.path, GilMode::Default).with_context(|| {
                    format!(
                        "cannot resume: interpreter `{}` of {} is gone",
                        record.path.display(),
                        record.label
                    )
                })?;
            if info.version != record.info.version
                || info.free_threaded != record.info.free_threaded
            {
                bail!(
                    "cannot resume: `{}` is now {} but the results were measured on {}",
                    record.path.display(),
                    info.version_tag(),
                    record.info.version_tag()
                );
            }
            let interpreter = crate::interpreter::Interpreter {
                path: record.path.clone(),
                source: record.source,
                info: record.info.clone(),
            };
            let mut variant = Variant::new(record.label.clone(), interpreter, record.gil_mode);
            variant.run_path.clone_from(&record.run_path);
            variants.push(variant);
        }
        if args.install_deps {
            for variant in &mut variants {
                install::attach_numpy_venv(variant, printer)?;
            }
        }
        let tests = workloads::select(&previous.settings.tests, workloads::Suite::All)?;
        // Failed and skipped points are tried again.
        previous.errors.clear();
        previous.skipped.clear();
        Ok(Self {
            variants,
            tests,
            settings: previous.settings.clone(),
            output: path.to_path_buf(),
            resumed: Some(previous),
        })
    }
}

fn resolve_all(discovery: &Discovery, specs: &[Spec]) -> Result<Vec<Variant>> {
    specs
        .iter()
        .map(|spec| {
            discovery
                .resolve(spec)
                .with_context(|| format!("cannot use --python `{}`", spec.raw))
        })
        .collect()
}

/// The label regular tests compare against: `--baseline`, else the first `--python`, else the
/// oldest GIL build (the seed compared against 3.12), else the first variant.
fn baseline_label(requested: Option<&str>, variants: &[Variant], explicit: bool) -> Result<String> {
    if let Some(label) = requested {
        if !variants.iter().any(|v| v.label == label) {
            let labels: Vec<&str> = variants.iter().map(|v| v.label.as_str()).collect();
            bail!(
                "--baseline `{label}` is not one of the measured labels: {}",
                labels.join(", ")
            );
        }
        return Ok(label.to_string());
    }
    let oldest_gil = variants
        .iter()
        .filter(|v| v.expects_gil() && !v.interpreter.info.free_threaded)
        .min_by_key(|v| v.interpreter.info.version_info);
    let chosen = if explicit {
        variants.first()
    } else {
        oldest_gil.or(variants.first())
    };
    Ok(chosen.map(|v| v.label.clone()).unwrap_or_default())
}

fn check_labels(variants: &[Variant]) -> Result<()> {
    for (i, variant) in variants.iter().enumerate() {
        if variants[..i].iter().any(|v| v.label == variant.label) {
            bail!(
                "duplicate label `{}`: give each --python its own label with LABEL=SPEC",
                variant.label
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_counts() {
        let strings = |v: &[&str]| v.iter().map(ToString::to_string).collect::<Vec<_>>();
        assert_eq!(
            parse_threads(&strings(&["4", "1", "2", "2"]), false).unwrap(),
            vec![1, 2, 4]
        );
        for bad in ["0", "-1", "x", "1.5", ""] {
            let err = parse_threads(&strings(&[bad]), false)
                .unwrap_err()
                .to_string();
            assert!(err.contains(&format!("`{bad}`")), "{err}");
        }
        assert!(parse_threads(&strings(&["5000"]), false).is_err());
        assert_eq!(
            parse_threads(&strings(&["5000"]), true).unwrap(),
            vec![5000]
        );
        assert_eq!(default_threads(2), vec![1, 2, 4]);
        assert_eq!(default_threads(16), vec![1, 2, 4, 8, 16, 32]);
        assert_eq!(default_threads(12), vec![1, 2, 4, 8, 12, 16]);
    }
}
