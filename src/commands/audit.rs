//! `ftbench audit`: which distributions of an environment turn the GIL back on. Reads top to
//! bottom: the names asked for → the free-threaded interpreters → each environment audited →
//! table, JSON, CI outputs → exit status.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};

use crate::audit::{self, Audit, Progress, Selection, Settings};
use crate::cli::{AuditArgs, UsageError};
use crate::interpreter::{self, GilMode, Spec, Variant};
use crate::output::Printer;

pub(super) fn audit(args: &AuditArgs, printer: &Printer) -> Result<ExitCode> {
    let mut names = args.distributions.clone();
    for path in &args.requirements {
        names.extend(requirements(path, 0)?);
    }
    let selection = Selection {
        names: dedup(names),
    };
    let variants = interpreters(&args.pythons)?;
    crate::interrupt::install().context("failed to install signal handlers")?;
    crate::process::adopt_orphans();
    if let Ok(value) = std::env::var("PYTHON_GIL") {
        printer.info(&format!(
            "note: PYTHON_GIL={} is set here; the imports run without it, as a program that does not set it would",
            crate::output::escape(&value)
        ));
    }
    let settings = Settings {
        timeout: Duration::from_secs(args.timeout),
        jobs: args.jobs.map_or_else(
            || std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            |n| usize::try_from(n).unwrap_or(1),
        ),
    };
    let mut audit = Audit {
        schema_version: audit::SCHEMA_VERSION,
        interpreters: Vec::new(),
    };
    for variant in &variants {
        let bar = printer.progress(0, &variant.label);
        let progress = |event: Progress| match event {
            Progress::Total(n) => bar.set_length(n as u64),
            Progress::Done(module, verdict) => {
                bar.set_message(format!(
                    "{} {}",
                    crate::output::escape(&module),
                    verdict.word()
                ));
                bar.inc(1);
            }
        };
        let result = audit::audit_interpreter(
            &variant.interpreter.path,
            &variant.label,
            &variant.interpreter.info.version,
            &selection,
            settings,
            &progress,
        );
        bar.finish_and_clear();
        audit.interpreters.push(result?);
    }
    show(&audit, args, printer)?;
    Ok(if args.fail_on_gil && audit.turns_gil_on() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The free-threaded interpreters to audit: those asked for, or every one found.
fn interpreters(specs: &[String]) -> Result<Vec<Variant>> {
    let discovery = interpreter::discover();
    let variants: Vec<Variant> = if specs.is_empty() {
        let found = discovery.free_threaded_variants();
        if found.is_empty() {
            bail!(
                "no free-threaded Python found: install one with `ftbench python install 3.13t`, or pass --python PATH"
            );
        }
        found
    } else {
        let mut chosen = Vec::new();
        for raw in specs {
            let spec = Spec::parse(raw)
                .map_err(|err| UsageError(format!("invalid --python `{raw}`: {err}")))?;
            if spec.gil != GilMode::Default {
                return Err(UsageError(format!(
                    "--python `{raw}`: an audit sees whether imports turn the GIL on, so the GIL cannot be forced (leave out `{}`)",
                    spec.gil.suffix()
                ))
                .into());
            }
            let variant = discovery
                .resolve(&spec)
                .with_context(|| format!("cannot use --python `{raw}`"))?;
            if !variant.interpreter.info.free_threaded {
                return Err(UsageError(format!(
                    "--python `{raw}` ({}, Python {}) is a GIL build: the GIL is always on there; audit a free-threaded build (3.13t or later)",
                    variant.interpreter.path.display(),
                    variant.interpreter.info.version
                ))
                .into());
            }
            chosen.push(variant);
        }
        chosen
    };
    for (i, variant) in variants.iter().enumerate() {
        if variants[..i].iter().any(|v| v.label == variant.label) {
            return Err(UsageError(format!(
                "two interpreters are labelled `{}`: give each a label (`--python NAME=PATH`)",
                variant.label
            ))
            .into());
        }
    }
    Ok(variants)
}

/// The distribution names a requirements file lists: `name`, `name[extra]>=1; marker`,
/// `name @ url`; `-r other.txt` is followed (relative to the file). Options, paths and URLs
/// without a name are skipped.
fn requirements(path: &Path, depth: usize) -> Result<Vec<String>> {
    if depth > 8 {
        bail!(
            "requirements file `{}`: `-r` nests more than 8 deep",
            path.display()
        );
    }
    let bytes = crate::files::read_bounded(path, 16 << 20)
        .with_context(|| format!("cannot read the requirements file `{}`", path.display()))?;
    let text = String::from_utf8_lossy(&bytes);
    let mut names = Vec::new();
    for line in text.lines() {
        let line = match line
            .find(" #")
            .or_else(|| line.starts_with('#').then_some(0))
        {
            Some(at) => &line[..at],
            None => line,
        }
        .trim();
        if let Some(nested) = line
            .strip_prefix("-r ")
            .or_else(|| line.strip_prefix("--requirement "))
            .or_else(|| line.strip_prefix("--requirement="))
        {
            let nested = PathBuf::from(nested.trim());
            let nested = if nested.is_absolute() {
                nested
            } else {
                path.parent().unwrap_or(Path::new(".")).join(nested)
            };
            names.extend(requirements(&nested, depth + 1)?);
            continue;
        }
        if line.is_empty() || line.starts_with('-') || line.contains("://") && !line.contains('@') {
            continue;
        }
        let name: String = line
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            .collect();
        let rest = line[name.len()..].trim_start();
        let is_name = !name.is_empty()
            && !name.starts_with('.')
            && (rest.is_empty() || rest.starts_with(['[', '<', '>', '=', '!', '~', ';', '@', '(']));
        if is_name {
            names.push(name);
        }
    }
    Ok(names)
}

/// Names once each, in their first order (PEP 503 spellings are one name).
fn dedup(names: Vec<String>) -> Vec<String> {
    let mut unique: Vec<String> = Vec::new();
    for name in names {
        if !unique
            .iter()
            .any(|u| audit::normalized(u) == audit::normalized(&name))
        {
            unique.push(name);
        }
    }
    unique
}

/// The table (stdout, or stderr with `--json`), the JSON, the step summary and annotations.
fn show(audit: &Audit, args: &AuditArgs, printer: &Printer) -> Result<()> {
    let table = crate::report::audit::terminal(audit, crate::output::width());
    if args.json {
        printer.info(table.trim_end());
        printer.stdout(&format!("{}\n", serde_json::to_string_pretty(audit)?))?;
    } else {
        printer.stdout(&table)?;
    }
    super::common::tell_github(
        printer,
        "the audit",
        || crate::report::audit::step_summary(audit),
        || crate::report::audit::annotations(audit, args.fail_on_gil),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_files_give_their_names() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::write(dir.path().join("more.txt"), "greenlet>=3\n").unwrap();
        fs_err::write(
            dir.path().join("req.txt"),
            "# comment\nnumpy==2.4.1  # pinned\nMarkupSafe[extra] >= 2 ; python_version>'3'\n\
             -r more.txt\n--index-url https://x\n-e ./local\nsqlalchemy @ https://x/s.whl\n\
             ./path/to/pkg\nhttps://example.com/x.whl\nzope.interface\n",
        )
        .unwrap();
        assert_eq!(
            requirements(&dir.path().join("req.txt"), 0).unwrap(),
            [
                "numpy",
                "MarkupSafe",
                "greenlet",
                "sqlalchemy",
                "zope.interface"
            ]
        );
        let missing = requirements(&dir.path().join("nope.txt"), 0).unwrap_err();
        assert!(format!("{missing:#}").contains("nope.txt"), "{missing:#}");
    }

    #[test]
    fn names_are_asked_for_once() {
        assert_eq!(
            dedup(vec![
                "MarkupSafe".into(),
                "numpy".into(),
                "markupsafe".into()
            ]),
            ["MarkupSafe", "numpy"]
        );
    }
}
