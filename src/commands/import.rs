//! `ftbench import pyperf`: pyperf results as regular tests.

use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::analysis::{self, Analysis, Derived};
use crate::cli::ImportPyperfArgs;
use crate::interpreter::{self, GilMode};
use crate::output::Printer;
use crate::report::terminal::Layout;
use crate::report::{self, Exporter as _};
use crate::results::{self, ResultsFile, VariantRecord, pyperf};

/// What the pyperf file says of the build it ran, and whether it was free-threaded.
fn imported_build(source: &pyperf::Source, label: &str) -> (interpreter::InterpreterInfo, bool) {
    let version = source
        .version
        .clone()
        .unwrap_or_else(|| "0.0.0".to_string());
    let executable = source.executable.clone().unwrap_or_default();
    // The build's `./configure` arguments say it (`--disable-gil`); files without them (old
    // pyperf) leave the usual tell: a `t` executable or label.
    let free_threaded = source
        .free_threaded()
        .unwrap_or_else(|| executable.ends_with('t') || label.ends_with('t'));
    let mut info = interpreter::InterpreterInfo::imported(
        &version,
        &executable,
        source.implementation.as_deref().unwrap_or("cpython"),
        free_threaded,
    );
    if let Some(config_args) = &source.config_args {
        info.pgo = config_args.contains("--enable-optimizations");
        info.lto = config_args.contains("--with-lto");
        info.config_args.clone_from(config_args);
    }
    (info, free_threaded)
}

/// `ftbench import pyperf`: a pyperf / pyperformance file becomes one label's regular tests.
pub(super) fn import_pyperf(args: &ImportPyperfArgs, printer: &Printer) -> Result<ExitCode> {
    let (benchmarks, source) = pyperf::read(&args.file)?;
    let output = args.output.clone().unwrap_or_else(|| {
        std::path::PathBuf::from("ftbench-results")
            .join(format!("imported-{}.json", results::utc_stamp_for_file()))
    });
    results::guard::check_output(&output, results::guard::Existing::Continue)?;
    let mut results = if output.exists() {
        results::load(&output)?
    } else {
        ResultsFile::new(results::Settings::default(), Vec::new())
    };
    if results.variants.iter().any(|v| v.label == args.label) {
        anyhow::bail!(
            "`{}` already has a label `{}`; pick another with --label",
            output.display(),
            args.label
        );
    }
    let (info, free_threaded) = imported_build(&source, &args.label);
    let executable = source.executable.clone().unwrap_or_default();
    results.variants.push(VariantRecord {
        label: args.label.clone(),
        path: executable.clone().into(),
        run_path: executable.into(),
        source: interpreter::InterpreterSource::Imported,
        gil_mode: GilMode::Default,
        expects_gil: !free_threaded,
        info,
    });
    for benchmark in &benchmarks {
        results.add_imported(
            &benchmark.name,
            &args.label,
            &benchmark.seconds,
            !free_threaded,
        );
    }
    if let Some(baseline) = &args.baseline {
        if !results.variants.iter().any(|v| &v.label == baseline) {
            anyhow::bail!(
                "--baseline `{baseline}` is neither `{}` nor a label of `{}` ({})",
                args.label,
                output.display(),
                results.labels().join(", ")
            );
        }
        results.settings.baseline = Some(baseline.clone());
    } else if results.settings.baseline.is_none() {
        results.settings.baseline = Some(args.label.clone());
    }
    if let Some(parent) = output.parent()
        && !parent.as_os_str().is_empty()
    {
        fs_err::create_dir_all(parent)?;
    }
    let mut derived = Derived::default();
    analysis::seed::write(&output, &mut results, &mut derived)
        .with_context(|| format!("failed to write `{}`", output.display()))?;
    let analysis = Analysis::with(&results, &derived);
    let model = report::ReportModel::of(&analysis);
    printer.stdout(&report::terminal::Terminal(Layout::for_stdout(args.wide)).export(&model)?)?;
    printer.info(&format!(
        "Imported {} benchmark(s) from {} as `{}` into {}",
        benchmarks.len(),
        args.file.display(),
        args.label,
        output.display()
    ));
    Ok(ExitCode::SUCCESS)
}
