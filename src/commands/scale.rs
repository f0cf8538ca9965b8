//! `ftbench scale FILE:FUNC`: the user's own code, measured like a built-in test.

use std::process::ExitCode;

use anyhow::{Context, Result};

use super::run::execute;
use crate::cli::{ScaleArgs, ScaleMode};
use crate::config::{RunConfig, Selection};
use crate::interrupt;
use crate::output::Printer;

/// `ftbench scale FILE:FUNCTION`: the user's own function through the whole machinery.
pub(super) fn scale(args: &ScaleArgs, printer: &Printer) -> Result<ExitCode> {
    let (path, function) = target(args)?;
    let stem = path
        .file_stem()
        .map_or_else(|| "user".into(), |s| s.to_string_lossy().into_owned());
    let executors: &[&str] = match args.mode {
        ScaleMode::Threads => &["thread"],
        ScaleMode::Processes => &["process"],
        ScaleMode::Both => &["thread", "process"],
    };
    if let Some((flag, 0)) = args
        .strong
        .map(|n| ("--strong", n))
        .or(args.weak.map(|n| ("--weak", n)))
    {
        anyhow::bail!("invalid {flag} `0`: the work size must be at least 1");
    }
    let fixed = args.strong.or(args.weak).map(|n| n.to_string());
    // Names the user asked for that are set here, as a JSON object for user.py.
    let inherited = serde_json::Value::Object(
        args.inherit_env
            .iter()
            .map(|name| name.trim())
            .filter(|name| !name.is_empty())
            .filter_map(|name| {
                std::env::var(name)
                    .ok()
                    .map(|value| (name.to_string(), value.into()))
            })
            .collect(),
    )
    .to_string();
    let tests: Vec<&'static crate::workloads::Workload> = executors
        .iter()
        .map(|executor| {
            let name = if *executor == "thread" {
                format!("{stem}:{function}")
            } else {
                format!("{stem}:{function}@processes")
            };
            let mut params = vec![
                ("path", path.display().to_string()),
                ("function", function.to_string()),
                (
                    "args",
                    args.args.clone().unwrap_or_else(|| "[]".to_string()),
                ),
                (
                    "check",
                    if args.check_results { "1" } else { "0" }.to_string(),
                ),
                ("executor", (*executor).to_string()),
            ];
            if let Some(fixed) = &fixed {
                params.push(("fixed", fixed.clone()));
            }
            params.push(("env", inherited.clone()));
            params.push(("user_site", "1".to_string()));
            crate::workloads::Workload::leaked_user(name, params)
        })
        .collect();
    interrupt::install().context("failed to install signal handlers")?;
    let mut config = RunConfig::new(&Selection {
        measure: &args.measure,
        tests: tests.clone(),
        baseline: None,
        weak: args.weak.is_some(),
        native: false,
    })?;
    config.settings.user_tests = tests.iter().map(|t| t.user_record()).collect();
    if let Some(base) = &args.base {
        with_base(&mut config, base)?;
    }
    execute(config, &args.measure, printer)
}

/// The file and function of `FILE:FUNCTION`, once the file is a regular file and `--args` is
/// JSON of the right shape.
fn target(args: &ScaleArgs) -> Result<(std::path::PathBuf, &str)> {
    let (file, function) = args
        .target
        .rsplit_once(':')
        .filter(|(file, function)| !file.is_empty() && !function.is_empty())
        .ok_or_else(|| {
            anyhow::anyhow!("`{}` is not FILE:FUNCTION, e.g. bench.py:work", args.target)
        })?;
    let path = std::path::Path::new(file);
    match fs_err::metadata(path) {
        Err(_) => anyhow::bail!("`{file}` does not exist (from `{}`)", args.target),
        Ok(meta) if meta.is_dir() => anyhow::bail!(
            "`{file}` is a folder, not a Python file (from `{}`)",
            args.target
        ),
        Ok(meta) if !meta.is_file() => anyhow::bail!(
            "`{file}` is not a regular file (a FIFO, socket or device?): give the Python file that defines the function (from `{}`)",
            args.target
        ),
        Ok(_) => {}
    }
    let path = fs_err::canonicalize(path)?;
    if let Some(json) = &args.args {
        let value: serde_json::Value = serde_json::from_str(json)
            .with_context(|| format!("--args is not valid JSON: {json}"))?;
        if !(value.is_array() || value.is_object()) {
            anyhow::bail!("--args must be a JSON list (positional) or object (keyword): {json}");
        }
    }
    Ok((path, function))
}

/// `--base PATH`: the interpreter runs as two labels that take turns, `base` with PATH first on
/// `sys.path` and `head` with the working tree; gates compare head against base.
fn with_base(config: &mut RunConfig, base: &std::path::Path) -> Result<()> {
    let base = match fs_err::metadata(base) {
        Ok(meta) if meta.is_dir() => fs_err::canonicalize(base)?,
        _ => anyhow::bail!(
            "--base `{}` is not a folder (a checkout of the code before the change)",
            base.display()
        ),
    };
    let [variant] = config.variants.as_slice() else {
        anyhow::bail!(
            "--base compares two versions of the code on one interpreter; give one --python (two venvs: --python base=… --python head=… --against base)"
        );
    };
    let mut before = variant.clone();
    before.label = "base".to_string();
    before.sys_path_first = Some(base);
    let mut after = variant.clone();
    after.label = "head".to_string();
    config.variants = vec![before, after];
    config.against = Some("base".to_string());
    config.settings.baseline = Some("base".to_string());
    Ok(())
}
