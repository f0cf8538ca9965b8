//! From raw flags to validated settings: thread counts, tests, interpreters, labels, output.
//!
//! Everything a user can get wrong is checked here, before any worker starts, with one error
//! that names the offending value.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use crate::cli::{MeasureArgs, RunArgs};
use crate::interpreter::{Discovery, GilMode, Spec, Variant, install};
use crate::machine::cpus;
use crate::output::Printer;
use crate::results::Scaling;
use crate::results::{self, ResultsFile, Settings, guard};
use crate::workloads::{self, Workload};

/// The most threads a point may ask for without `--force` (a limit of the results schema).
pub use crate::results::MAX_THREADS;
/// The shortest serial sample that measures the work rather than thread start-up and the clock:
/// at 32 threads a 5 ms strong-scaling sample is still ~150 µs per thread.
pub const MIN_TARGET_MS: u64 = 5;
/// The longest serial sample (10 minutes).
pub const MAX_TARGET_MS: u64 = 600_000;
/// The most worker processes, samples or warm-ups per point.
pub const MAX_REPEATS: u32 = 1000;
/// The longest worker deadline (a week).
pub const MAX_TIMEOUT_S: u64 = 7 * 24 * 3600;

/// Check settings the way the command line's flags are checked, wherever they came from (flags,
/// or a results file being resumed); the error names the setting and its flag.
pub fn validate(settings: &Settings, force: bool) -> Result<()> {
    for &n in &settings.threads {
        check_thread_count(i64::from(n), &n.to_string(), force)?;
    }
    let target_ms = settings.target_ns / 1_000_000;
    if settings.target_ns < MIN_TARGET_MS * 1_000_000 || target_ms > MAX_TARGET_MS {
        bail!(
            "invalid target `{target_ms} ms` (--target-ms): a sample must last {MIN_TARGET_MS} to {MAX_TARGET_MS} ms to measure the work rather than thread start-up and the clock"
        );
    }
    for (name, flag, value, min) in [
        ("processes", "--processes", settings.processes, 1),
        ("samples", "--samples", settings.samples, 1),
        ("warm-up", "--warmup", settings.warmup, 0),
    ] {
        if value < min || value > MAX_REPEATS {
            bail!("invalid number of {name} `{value}` ({flag}): it must be {min} to {MAX_REPEATS}");
        }
    }
    if !settings.cpus.is_empty() {
        cpus::check_usable(&settings.cpus).with_context(|| {
            format!(
                "cannot run on CPUs {} (--cpus)",
                cpus::format(&settings.cpus)
            )
        })?;
    }
    if settings.timeout_s == 0 || settings.timeout_s > MAX_TIMEOUT_S {
        bail!(
            "invalid timeout `{} s` (--timeout): it must be 1 to {MAX_TIMEOUT_S} s",
            settings.timeout_s
        );
    }
    if let Some(pct) = settings.precision_pct
        && !(pct.is_finite() && pct > 0.0 && pct <= 50.0)
    {
        bail!(
            "invalid precision `{pct}` (--precision): it must be above 0 and at most 50 (percent)"
        );
    }
    if let Some(seconds) = settings.max_time_per_point_s
        && !(seconds.is_finite() && seconds > 0.0 && seconds <= MAX_TIMEOUT_S as f64)
    {
        bail!("invalid time `{seconds} s` (--max-time-per-point): it must be above 0");
    }
    if settings.tests.is_empty() {
        bail!("no tests to run");
    }
    Ok(())
}

/// A validated `ftbench run`.
#[derive(Debug)]
pub struct RunConfig {
    pub variants: Vec<Variant>,
    pub tests: Vec<&'static Workload>,
    pub settings: Settings,
    pub output: PathBuf,
    /// The results file to continue (`--resume`), already loaded.
    pub resumed: Option<ResultsFile>,
    /// The label a gate's `regression` compares with when `--against` does not name one
    /// (`scale --base`: `base`).
    pub against: Option<String>,
}

/// A thread count within bounds: at least 1, at most [`MAX_THREADS`] unless forced, and a `u32`.
/// `text` is how the user wrote it, for the error.
fn check_thread_count(n: i64, text: &str, force: bool) -> Result<u32> {
    if n <= 0 {
        bail!("invalid thread count `{text}`: it must be at least 1");
    }
    if n > i64::from(crate::results::MAX_FORCED_THREADS) {
        bail!(
            "thread count `{text}` is too large: the most ftbench runs is {}",
            crate::results::MAX_FORCED_THREADS
        );
    }
    if n > i64::from(MAX_THREADS) && !force {
        bail!("thread count `{text}` is above {MAX_THREADS}; pass --force if you really mean it");
    }
    u32::try_from(n).map_err(|_| anyhow::anyhow!("thread count `{text}` is too large"))
}

/// Parse `--threads` values: positive integers, at most [`MAX_THREADS`] unless forced.
pub fn parse_threads(values: &[String], force: bool) -> Result<Vec<u32>> {
    let mut threads = Vec::new();
    for raw in values {
        let text = raw.trim();
        let n: i64 = text.parse().map_err(|_| {
            anyhow::anyhow!("invalid thread count `{text}`: expected a positive whole number")
        })?;
        let n = check_thread_count(n, text, force)?;
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

/// Attach a venv with the test dependencies to every Python variant.
fn prepare(variants: &mut [Variant], printer: &Printer) -> Result<()> {
    for variant in variants {
        if variant.interpreter.source != crate::interpreter::InterpreterSource::Native {
            install::attach_numpy_venv(variant, printer)?;
        }
    }
    Ok(())
}

/// What to measure, as `run` and `scale` both ask for it.
#[derive(Debug)]
pub struct Selection<'a> {
    pub measure: &'a MeasureArgs,
    pub tests: Vec<&'static workloads::Workload>,
    /// `--baseline` for the regular suite.
    pub baseline: Option<&'a str>,
    /// `--weak`: the work grows with the threads.
    pub weak: bool,
    /// Add the native reference where a test has one.
    pub native: bool,
}

impl RunConfig {
    /// `ftbench run`'s configuration (or its `--resume`), interpreters prepared.
    pub fn from_cli(args: &RunArgs, printer: &Printer) -> Result<Self> {
        if let Some(path) = &args.resume {
            return Self::resume(path, args, printer);
        }
        let mut config = Self::new(&Selection {
            measure: &args.measure,
            tests: workloads::select(&args.tests, args.suite)?,
            baseline: args.baseline.as_deref(),
            weak: args.weak,
            native: !args.no_native,
        })?;
        if args.install_deps {
            config.prepare_interpreters(printer)?;
        }
        Ok(config)
    }

    /// Validate a selection into a configuration: flags, interpreters found (discovery only
    /// reads the machine), labels, output. Nothing is installed or written.
    pub fn new(selection: &Selection) -> Result<Self> {
        let measure = selection.measure;
        let cpus = match &measure.cpus {
            Some(text) => cpus::check_usable(&cpus::parse(text)?)
                .with_context(|| format!("cannot use --cpus `{text}`"))?,
            None => cpus::allowed(),
        };
        let threads = if measure.threads.is_empty() {
            default_threads(cpus.len())
        } else {
            parse_threads(&measure.threads, measure.force)?
        };
        let tests = selection.tests.clone();
        let (mut variants, explicit) = pythons(&measure.pythons)?;
        if selection.native
            && tests
                .iter()
                .any(|t| crate::workloads::native::supports(t.name))
        {
            variants.push(crate::interpreter::native_variant());
        }
        check_labels(&variants)?;
        if let Some(machine) = &measure.machine {
            results::check_name("machine name", machine).map_err(anyhow::Error::msg)?;
        }
        let baseline = baseline_label(selection.baseline, &variants, explicit)?;
        let settings = Settings {
            tests: tests.iter().map(|t| t.name.to_string()).collect(),
            threads,
            target_ns: measure
                .target_ms
                .unwrap_or(if measure.quick { 20 } else { 100 })
                * 1_000_000,
            warmup: measure.warmup.unwrap_or(1),
            samples: measure.samples.unwrap_or(if measure.quick { 2 } else { 3 }),
            processes: measure
                .processes
                .unwrap_or(if measure.quick { 3 } else { 5 }),
            scaling: if selection.weak {
                Scaling::Weak
            } else {
                Scaling::Strong
            },
            timeout_s: measure.timeout,
            quick: measure.quick,
            baseline: Some(baseline),
            allow_load: measure.allow_load,
            precision_pct: measure.precision,
            max_time_per_point_s: measure.precision.map(|_| measure.max_time_per_point),
            user_tests: Vec::new(),
            test_info: Vec::new(),
            cpus,
            include_gil_benchmarks: false,
            pyperformance: None,
            interleave_labels: false,
        };
        validate(&settings, measure.force)?;
        let output = measure.output.clone().unwrap_or_else(|| {
            PathBuf::from("ftbench-results").join(format!("{}.json", results::utc_stamp_for_file()))
        });
        guard::check_output(
            &output,
            if measure.force {
                guard::Existing::Replace
            } else {
                guard::Existing::Refuse(guard::Command::Run)
            },
        )?;
        Ok(Self {
            variants,
            tests,
            settings,
            output,
            resumed: None,
            against: None,
        })
    }

    /// Give every interpreter a venv with the test dependencies (`--install-deps`): the one
    /// step that installs anything, shared by a new run and a resumed one.
    pub fn prepare_interpreters(&mut self, printer: &Printer) -> Result<()> {
        prepare(&mut self.variants, printer)
    }

    /// `--resume FILE`: the file's settings and labels, each label's interpreter found again on
    /// this machine. A results file is data from anywhere: no path in it runs unless ftbench
    /// would pick that interpreter itself, the user names one (`--python LABEL=SPEC`), or the
    /// user says to trust the file (`--trust-paths`).
    fn resume(path: &std::path::Path, args: &RunArgs, printer: &Printer) -> Result<Self> {
        guard::check_output(path, guard::Existing::Continue)?;
        let mut previous = results::load(path)?;
        if previous.settings.interleave_labels {
            bail!(
                "`{}` is a gated run (--fail-if); a gate is not resumed: run it again",
                path.display()
            );
        }
        if previous.settings.pyperformance.is_some() {
            bail!(
                "`{}` was written by `ftbench pyperformance`; complete it with `ftbench pyperformance --resume {}`",
                path.display(),
                path.display()
            );
        }
        let force = args.measure.force;
        let invalid = || {
            format!(
                "cannot resume `{}`: its settings are not ones ftbench would run",
                path.display()
            )
        };
        // A file from a machine with other CPUs (mixed only with --force): this machine's.
        if force
            && !previous.settings.cpus.is_empty()
            && cpus::check_usable(&previous.settings.cpus).is_err()
        {
            let here = cpus::allowed();
            printer.info(&format!(
                "resume: CPUs {} of the file are not all usable here; running on {}",
                cpus::format(&previous.settings.cpus),
                cpus::format(&here)
            ));
            previous.settings.cpus = here;
        }
        validate(&previous.settings, force).with_context(invalid)?;
        check_flags_match(&previous.settings, args)?;
        check_same_machine(&previous, path, force)?;
        let mut variants = resume_variants(
            &previous,
            &args.measure.pythons,
            args.trust_paths,
            force,
            path,
            printer,
        )?;
        // The venv for --install-deps is derived from the interpreter, never taken from the file.
        let used_venv = previous.variants.iter().any(|v| v.run_path != v.path);
        if args.install_deps || used_venv {
            prepare(&mut variants, printer)?;
        }
        let tests = resumed_tests(&previous.settings, args.trust_paths, printer)?;
        previous.begin_resume(force);
        Ok(Self {
            variants,
            tests,
            settings: previous.settings.clone(),
            output: path.to_path_buf(),
            resumed: Some(previous),
            against: None,
        })
    }
}

/// The interpreters that run a resumed file's labels, found again on this machine: `--python
/// LABEL=SPEC` where given, else as [`resolve_resumed`] finds them; each must still be the
/// version and kind of build the file measured, unless `force`.
pub fn resume_variants(
    previous: &ResultsFile,
    pythons: &[String],
    trust_paths: bool,
    force: bool,
    path: &std::path::Path,
    printer: &Printer,
) -> Result<Vec<Variant>> {
    let specs = pythons
        .iter()
        .map(|raw| Spec::parse(raw))
        .collect::<Result<Vec<_>, _>>()?;
    for spec in &specs {
        let known = spec
            .label
            .as_ref()
            .is_some_and(|label| previous.variants.iter().any(|v| &v.label == label));
        if !known {
            bail!(
                "with --resume, --python must be LABEL=SPEC for a label of `{}` ({}); `{}` is not",
                path.display(),
                previous.labels().join(", "),
                spec.raw
            );
        }
    }
    let discovery = std::cell::OnceCell::new();
    let mut variants = Vec::new();
    for record in &previous.variants {
        if record.source == crate::interpreter::InterpreterSource::Native {
            variants.push(crate::interpreter::native_variant());
            continue;
        }
        let spec = specs
            .iter()
            .find(|s| s.label.as_deref() == Some(&record.label));
        let (variant, how) = resolve_resumed(record, spec, trust_paths, &discovery, path)?;
        let (now, then) = (&variant.interpreter.info, &record.info);
        if (now.version != then.version || now.free_threaded != then.free_threaded) && !force {
            bail!(
                "cannot resume: `{}` is now {} but the results were measured on {} (pass --force to mix them)",
                variant.interpreter.path.display(),
                now.version_tag(),
                then.version_tag()
            );
        }
        printer.info(&format!(
            "resume: {} runs {} ({how})",
            crate::output::escape(&record.label),
            variant.interpreter.path.display()
        ));
        variants.push(variant);
    }
    Ok(variants)
}

/// The tests of a resumed run, in its order: built-in tests by name, `scale` tests rebuilt from
/// their recorded parameters. A user test runs code from a file named in the results, so that
/// file must exist and belong to the user running ftbench (a file from someone else names
/// someone else's code), unless `--trust-paths`.
fn resumed_tests(
    settings: &Settings,
    trust_paths: bool,
    printer: &Printer,
) -> Result<Vec<&'static workloads::Workload>> {
    let mut user = Vec::new();
    for test in &settings.user_tests {
        let workload = workloads::Workload::user_from_record(test).with_context(|| {
            format!(
                "cannot resume: the user test `{}` has a parameter ftbench does not know",
                test.name
            )
        })?;
        let param = |key: &str| {
            workload
                .params
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| *v)
        };
        let file = std::path::Path::new(param("path").unwrap_or(""));
        let function = param("function").unwrap_or("");
        if !trust_paths {
            use std::os::unix::fs::MetadataExt as _;
            let own = fs_err::metadata(file)
                .is_ok_and(|meta| meta.is_file() && meta.uid() == nix::unistd::getuid().as_raw());
            if !own {
                bail!(
                    "cannot resume: the user test `{}` runs `{function}` from `{}`, which is not a file of yours on this machine; a results file may come from anywhere, so pass --trust-paths to run that code",
                    test.name,
                    file.display()
                );
            }
        }
        printer.info(&format!(
            "resume: {} runs {function} from {}",
            test.name,
            file.display()
        ));
        user.push(workload);
    }
    let built_in: Vec<String> = settings
        .tests
        .iter()
        .filter(|name| !user.iter().any(|w| w.name == name.as_str()))
        .cloned()
        .collect();
    let mut found = if built_in.is_empty() {
        Vec::new()
    } else {
        workloads::select(&built_in, workloads::Suite::All)?
    };
    found.extend(user);
    Ok(settings
        .tests
        .iter()
        .filter_map(|name| found.iter().find(|w| w.name == name.as_str()).copied())
        .collect())
}

/// Find the interpreter that runs a resumed label, and say how it was found.
fn resolve_resumed(
    record: &results::VariantRecord,
    spec: Option<&Spec>,
    trust_paths: bool,
    discovery: &std::cell::OnceCell<Discovery>,
    path: &std::path::Path,
) -> Result<(Variant, &'static str)> {
    if let Some(spec) = spec {
        let variant = discovery
            .get_or_init(crate::interpreter::discover)
            .resolve(spec)
            .with_context(|| format!("cannot use --python `{}`", spec.raw))?;
        return Ok((variant, "--python"));
    }
    if trust_paths {
        let info =
            crate::interpreter::query(&record.path, GilMode::Default).with_context(|| {
                format!(
                    "cannot resume: interpreter `{}` of {} is gone",
                    record.path.display(),
                    record.label
                )
            })?;
        let interpreter = crate::interpreter::Interpreter {
            path: record.path.clone(),
            source: record.source,
            info,
        };
        return Ok((
            Variant::new(record.label.clone(), interpreter, record.gil_mode),
            "--trust-paths",
        ));
    }
    let discovery = discovery.get_or_init(crate::interpreter::discover);
    let interpreter = find_discovered(discovery, &record.path).ok_or_else(|| {
        anyhow::anyhow!(
            "cannot resume `{}`: label `{}` names the interpreter `{}`, which ftbench does not find on this machine (`ftbench pythons` lists what it finds). A results file may come from anywhere, so ftbench runs no program named in it: choose one with --python {}=SPEC, or pass --trust-paths to run that path",
            path.display(),
            crate::output::escape(&record.label),
            crate::output::escape(&record.path.display().to_string()),
            crate::output::escape(&record.label)
        )
    })?;
    Ok((
        Variant::new(record.label.clone(), interpreter.clone(), record.gil_mode),
        "found by discovery",
    ))
}

/// The discovered interpreter at `path` (compared after resolving symlinks), if any.
fn find_discovered<'a>(
    discovery: &'a Discovery,
    path: &std::path::Path,
) -> Option<&'a crate::interpreter::Interpreter> {
    let wanted = fs_err::canonicalize(path).ok()?;
    discovery
        .interpreters
        .iter()
        .find(|i| fs_err::canonicalize(&i.path).is_ok_and(|p| p == wanted))
}

/// Measuring flags given with `--resume` must agree with the file: a resumed run measures the
/// rest of the points exactly as the first part was measured.
fn check_flags_match(settings: &Settings, args: &RunArgs) -> Result<()> {
    let m = &args.measure;
    let mut differ = Vec::new();
    if !m.threads.is_empty() && parse_threads(&m.threads, m.force)? != settings.threads {
        differ.push(format!("--threads (the file has {:?})", settings.threads));
    }
    if let Some(text) = &m.cpus
        && cpus::parse(text)? != settings.cpus
    {
        differ.push(format!(
            "--cpus (the file has {})",
            if settings.cpus.is_empty() {
                "every usable CPU".to_string()
            } else {
                cpus::format(&settings.cpus)
            }
        ));
    }
    if m.quick != settings.quick && m.quick {
        differ.push("--quick (the file was not measured with it)".to_string());
    }
    for (flag, given, recorded) in [
        (
            "--samples",
            m.samples.map(u64::from),
            u64::from(settings.samples),
        ),
        (
            "--processes",
            m.processes.map(u64::from),
            u64::from(settings.processes),
        ),
        (
            "--warmup",
            m.warmup.map(u64::from),
            u64::from(settings.warmup),
        ),
        ("--target-ms", m.target_ms, settings.target_ns / 1_000_000),
    ] {
        if given.is_some_and(|g| g != recorded) {
            differ.push(format!("{flag} (the file has {recorded})"));
        }
    }
    if !args.tests.is_empty() {
        differ.push("--tests (the file lists its own)".to_string());
    }
    if differ.is_empty() {
        Ok(())
    } else {
        bail!(
            "--resume continues a run with the settings it started with; these flags differ from them: {}",
            differ.join(", ")
        )
    }
}

/// A run is resumed on the machine it started on, by the same ftbench, unless `--force`.
fn check_same_machine(previous: &ResultsFile, path: &std::path::Path, force: bool) -> Result<()> {
    if previous
        .variants
        .iter()
        .all(|v| v.source == crate::interpreter::InterpreterSource::Imported)
    {
        bail!(
            "`{}` holds imported results (a seed-schema file or a pyperf import), not an ftbench run: there is nothing to resume",
            path.display()
        );
    }
    let here = crate::machine::sysinfo::SystemInfo::collect();
    let then = &previous.system;
    let mut differ = Vec::new();
    for (what, now, before) in [
        ("CPU", here.cpu_model.clone(), then.cpu_model.clone()),
        (
            "logical cores",
            here.logical_cores.to_string(),
            then.logical_cores.to_string(),
        ),
        (
            "architecture",
            here.architecture.clone(),
            then.architecture.clone(),
        ),
        ("host name", here.hostname.clone(), then.hostname.clone()),
        (
            "ftbench version",
            env!("CARGO_PKG_VERSION").to_string(),
            previous.ftbench_version.clone(),
        ),
    ] {
        if now != before {
            differ.push(format!("{what}: {before} then, {now} now"));
        }
    }
    let (a, b) = (here.memory_bytes as f64, then.memory_bytes as f64);
    if (a - b).abs() > 0.05 * a.max(b) {
        differ.push(format!(
            "memory: {:.1} GiB then, {:.1} GiB now",
            b / f64::from(1u32 << 30),
            a / f64::from(1u32 << 30)
        ));
    }
    if differ.is_empty() || force {
        return Ok(());
    }
    bail!(
        "cannot resume `{}` here: it was measured on another machine or by another ftbench ({}); its points would not be comparable. Start a new run, or pass --force to mix them anyway",
        path.display(),
        crate::output::escape(&differ.join("; "))
    )
}

/// The interpreters `--python` names (each found, or an error naming the spec), else the ones
/// discovery picks by default; and whether they were named.
pub fn pythons(raw: &[String]) -> Result<(Vec<Variant>, bool)> {
    let specs = raw
        .iter()
        .map(|raw| Spec::parse(raw))
        .collect::<Result<Vec<_>, _>>()?;
    let discovery = crate::interpreter::discover();
    if !specs.is_empty() {
        return Ok((resolve_all(&discovery, &specs)?, true));
    }
    let variants = discovery.default_variants();
    if !variants.iter().any(|v| v.interpreter.info.free_threaded) {
        bail!(
            "no free-threaded Python found; install one with `ftbench python install 3.13t` or pass --python"
        );
    }
    Ok((variants, false))
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
pub fn baseline_label(
    requested: Option<&str>,
    variants: &[Variant],
    explicit: bool,
) -> Result<String> {
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

pub fn check_labels(variants: &[Variant]) -> Result<()> {
    for (i, variant) in variants.iter().enumerate() {
        results::check_name("label", &variant.label).map_err(anyhow::Error::msg)?;
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
