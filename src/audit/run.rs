//! Running the audit: list the environment's distributions, then import each top-level module
//! in a fresh process, several at once, and fold what each process wrote into verdicts.

use std::os::unix::process::ExitStatusExt as _;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use serde::Deserialize;

use super::{
    Distribution, DistributionAudit, ExtensionCheck, InterpreterAudit, ModuleAudit, Verdict,
    normalized,
};
use crate::process::Ended;

const DISTRIBUTIONS_PY: &str = include_str!("distributions.py");
const IMPORTS_PY: &str = include_str!("imports.py");

/// What one import's process may print before its log keeps only its head and tail.
const LOG_CAP: u64 = 256 << 10;
/// What one import's record may hold: a few lines per module it imports.
const RECORD_LIMIT: u64 = 16 << 20;
/// How long listing the distributions may take.
const LISTING_DEADLINE: Duration = Duration::from_secs(120);

/// Which distributions to audit.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Names (any spelling; PEP 503 normalized here); empty: every installed distribution.
    pub names: Vec<String>,
}

/// How the imports run.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// How long one module's process may take.
    pub timeout: Duration,
    /// How many processes at once.
    pub jobs: usize,
}

/// What `distributions.py` writes.
#[derive(Debug, Deserialize)]
struct Listing {
    gil_at_start: bool,
    gil_after_site: bool,
    started_by: Option<String>,
    distributions: Vec<Distribution>,
}

/// What one import's process gave: its module's audit and what its extensions declared.
type Outcome = (ModuleAudit, Vec<ExtensionCheck>);

/// One process to run: a distribution's top-level module and its extensions under it.
struct Job {
    distribution: usize,
    module: String,
    extensions: Vec<String>,
}

/// Audit the environment of `python`: each selected distribution's modules imported in a fresh
/// process. `progress` is told the number of imports once, then called after each.
pub fn audit_interpreter(
    python: &Path,
    label: &str,
    version: &str,
    selection: &Selection,
    settings: Settings,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<InterpreterAudit> {
    let started = Instant::now();
    let temp = tempfile::Builder::new()
        .prefix("ftbench-audit-")
        .tempdir()
        .context("cannot make a temporary folder for the audit")?;
    let dir = temp.path();
    fs_err::write(dir.join("distributions.py"), DISTRIBUTIONS_PY)?;
    fs_err::write(dir.join("imports.py"), IMPORTS_PY)?;
    let listing = list(python, dir).with_context(|| {
        format!(
            "cannot list the distributions of {label} (`{}`)",
            python.display()
        )
    })?;
    let chosen = choose(&listing.distributions, selection);
    let jobs: Vec<Job> = chosen
        .iter()
        .enumerate()
        .filter_map(|(index, dist)| dist.map(|d| (index, d)))
        .flat_map(|(index, dist)| {
            dist.modules.iter().map(move |module| Job {
                distribution: index,
                module: module.clone(),
                extensions: dist
                    .extensions
                    .iter()
                    .filter(|e| *e == module || e.starts_with(&format!("{module}.")))
                    .cloned()
                    .collect(),
            })
        })
        .collect();
    progress(Progress::Total(jobs.len()));
    let outcomes = import_all(python, dir, &jobs, settings, progress)?;
    let mut distributions = Vec::new();
    for (index, dist) in chosen.iter().enumerate() {
        let Some(dist) = dist else {
            distributions.push(not_installed(&selection.names[index]));
            continue;
        };
        let mine: Vec<&Outcome> = jobs
            .iter()
            .zip(&outcomes)
            .filter(|(job, _)| job.distribution == index)
            .map(|(_, outcome)| outcome)
            .collect();
        distributions.push(fold(dist, &mine, &listing.distributions));
    }
    Ok(InterpreterAudit {
        label: label.to_string(),
        path: python.to_path_buf(),
        version: version.to_string(),
        gil_at_start: listing.gil_at_start,
        started_by: listing.started_by,
        gil_after_site: listing.gil_after_site,
        distributions,
        wall_seconds: started.elapsed().as_secs_f64(),
        jobs: settings.jobs,
        timeout_seconds: settings.timeout.as_secs_f64(),
    })
}

/// What the caller's progress display hears.
#[derive(Debug, Clone)]
pub enum Progress {
    /// How many imports there are.
    Total(usize),
    /// One finished: its module and verdict.
    Done(String, Verdict),
}

/// `python` with the user's environment, less what would hide the answer: `PYTHON_GIL` (forces
/// the GIL off or on) and `PYTHONWARNINGS` (`error` turns CPython's warning into an exception).
/// No bytecode is written into the environment (`-B`), and the script's folder is not put on
/// `sys.path` (`-P`).
fn python(python: &Path, cwd: &Path) -> Command {
    let mut command = Command::new(python);
    command
        .env_remove("PYTHON_GIL")
        .env_remove("PYTHONWARNINGS")
        .env_remove("PYTHONSTARTUP")
        .env("TMPDIR", cwd)
        .current_dir(cwd)
        .args(["-B", "-P"]);
    command
}

fn list(python_path: &Path, dir: &Path) -> Result<Listing> {
    let out = dir.join("distributions.json");
    let log = dir.join("distributions.log");
    let mut command = python(python_path, dir);
    command
        .arg("-S")
        .arg(dir.join("distributions.py"))
        .arg(&out);
    let ended = crate::process::run_logged(
        &mut command,
        &log,
        LISTING_DEADLINE,
        LOG_CAP,
        &crate::interrupt::requested,
    )?;
    let tail = || crate::files::read_tail(&log, 2000).unwrap_or_default();
    match ended {
        Ended::TimedOut => bail!(
            "listing them took longer than {} s: {}",
            LISTING_DEADLINE.as_secs(),
            tail()
        ),
        Ended::Exited(status) if !status.success() => {
            bail!("the interpreter {}: {}", describe(status), tail().trim())
        }
        Ended::Exited(_) => {}
    }
    let bytes = crate::files::read_bounded(&out, 256 << 20)
        .with_context(|| format!("it wrote no list of distributions: {}", tail().trim()))?;
    serde_json::from_slice(&bytes).context("its list of distributions does not parse")
}

/// The distributions to audit, in order: every one, sorted by name, or those `selection`
/// names, in its order (`None` where one is not installed).
fn choose<'a>(all: &'a [Distribution], selection: &Selection) -> Vec<Option<&'a Distribution>> {
    if selection.names.is_empty() {
        let mut every: Vec<&Distribution> = all.iter().collect();
        every.sort_by_key(|d| normalized(&d.name));
        return every.into_iter().map(Some).collect();
    }
    selection
        .names
        .iter()
        .map(|name| {
            let wanted = normalized(name);
            all.iter().find(|d| normalized(&d.name) == wanted)
        })
        .collect()
}

fn not_installed(name: &str) -> DistributionAudit {
    DistributionAudit {
        name: name.to_string(),
        version: String::new(),
        tags: Vec::new(),
        abi: "-".to_string(),
        verdict: Verdict::NotInstalled,
        modules: Vec::new(),
        extensions: Vec::new(),
    }
}

/// Run every job, `settings.jobs` processes at a time; stops at Ctrl-C (the running processes
/// are killed by `run_logged`).
fn import_all(
    python: &Path,
    dir: &Path,
    jobs: &[Job],
    settings: Settings,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Vec<Outcome>> {
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Outcome>>> = jobs.iter().map(|_| Mutex::new(None)).collect();
    let failure: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..settings.jobs.clamp(1, jobs.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(index) else { break };
                    if failure.lock().expect("not poisoned").is_some() {
                        break;
                    }
                    match import_one(python, dir, index, job, settings.timeout) {
                        Ok(outcome) => {
                            progress(Progress::Done(
                                outcome.0.module.clone(),
                                outcome.0.verdict.clone(),
                            ));
                            *slots[index].lock().expect("not poisoned") = Some(outcome);
                        }
                        Err(err) => {
                            failure.lock().expect("not poisoned").get_or_insert(err);
                            break;
                        }
                    }
                }
            });
        }
    });
    if let Some(err) = failure.into_inner().expect("not poisoned") {
        return Err(err);
    }
    Ok(slots
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .expect("not poisoned")
                .expect("every job ran")
        })
        .collect())
}

/// One line of what `imports.py` writes.
#[derive(Debug, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum Event {
    Start {
        pid: u32,
        gil: bool,
    },
    Importing {
        pid: u32,
        module: String,
        direct: bool,
    },
    Created {
        pid: u32,
        module: String,
        declares: Option<bool>,
    },
    Imported {
        pid: u32,
        module: String,
        error: Option<String>,
        seconds: f64,
    },
    Done {
        pid: u32,
    },
}

impl Event {
    fn pid(&self) -> u32 {
        match self {
            Self::Start { pid, .. }
            | Self::Importing { pid, .. }
            | Self::Created { pid, .. }
            | Self::Imported { pid, .. }
            | Self::Done { pid } => *pid,
        }
    }
}

fn import_one(
    python_path: &Path,
    dir: &Path,
    index: usize,
    job: &Job,
    timeout: Duration,
) -> Result<Outcome> {
    let cwd = dir.join(format!("import-{index}"));
    fs_err::create_dir(&cwd)?;
    let record = cwd.join("record.jsonl");
    let log = dir.join(format!("import-{index}.log"));
    let mut command = python(python_path, &cwd);
    command
        .args(["-X", "faulthandler"])
        .arg(dir.join("imports.py"))
        .arg(&record)
        .arg(&job.module)
        .args(&job.extensions);
    let started = Instant::now();
    let ended = crate::process::run_logged(
        &mut command,
        &log,
        timeout,
        LOG_CAP,
        &crate::interrupt::requested,
    )?;
    let wall_seconds = started.elapsed().as_secs_f64();
    let events = read_events(&record);
    let tail = || {
        let text = crate::files::read_tail(&log, 1500).unwrap_or_default();
        let text = text.trim();
        (!text.is_empty()).then(|| text.to_string())
    };
    let (verdict, import_seconds, extensions) = judge(job, &events, &ended, timeout);
    let output_tail = match verdict {
        Verdict::GilOff | Verdict::GilOn { .. } | Verdict::NothingToImport => None,
        _ => tail(),
    };
    Ok((
        ModuleAudit {
            module: job.module.clone(),
            verdict,
            import_seconds,
            wall_seconds,
            output_tail,
        },
        extensions,
    ))
}

/// The events a process wrote, those of the process itself only (a forked child writes too).
fn read_events(record: &Path) -> Vec<Event> {
    let Ok(bytes) = crate::files::read_bounded(record, RECORD_LIMIT) else {
        return Vec::new();
    };
    let events: Vec<Event> = String::from_utf8_lossy(&bytes)
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let Some(pid) = events.iter().find_map(|e| match e {
        Event::Start { pid, .. } => Some(*pid),
        _ => None,
    }) else {
        return Vec::new();
    };
    events.into_iter().filter(|e| e.pid() == pid).collect()
}

/// The verdict of one process from its events and how it ended; the import's own time; what
/// its extensions declared.
fn judge(
    job: &Job,
    events: &[Event],
    ended: &Ended,
    timeout: Duration,
) -> (Verdict, Option<f64>, Vec<ExtensionCheck>) {
    let mut extensions: Vec<ExtensionCheck> = Vec::new();
    let mut turned_on: Option<(String, bool)> = None;
    let mut direct = false;
    let mut during = job.module.clone();
    let mut top: Option<(Option<String>, f64)> = None;
    let mut at_start = false;
    for event in events {
        match event {
            Event::Start { gil, .. } => at_start = *gil,
            Event::Importing {
                module, direct: d, ..
            } => {
                during.clone_from(module);
                direct = *d;
            }
            Event::Created {
                module, declares, ..
            } => {
                if *declares == Some(false) && turned_on.is_none() {
                    turned_on = Some((module.clone(), direct));
                }
                if !extensions.iter().any(|e| &e.module == module) {
                    extensions.push(ExtensionCheck {
                        module: module.clone(),
                        declares: *declares,
                    });
                }
            }
            Event::Imported {
                module,
                error,
                seconds,
                ..
            } if module == &job.module && top.is_none() => {
                top = Some((error.clone(), *seconds));
            }
            Event::Imported { .. } | Event::Done { .. } => {}
        }
    }
    let seconds = top.as_ref().map(|(_, s)| *s);
    if events.is_empty() {
        // It never started: the interpreter itself failed, or the deadline came first.
        return (
            ended_early(ended, job.module.clone(), timeout).unwrap_or_else(|| Verdict::Failed {
                error: "the interpreter wrote no record".to_string(),
            }),
            None,
            extensions,
        );
    }
    if at_start {
        return (Verdict::OnAtStart, seconds, extensions);
    }
    if let Some((by, direct)) = turned_on {
        let verdict = Verdict::GilOn {
            by,
            by_distribution: None,
            direct,
        };
        return (verdict, seconds, extensions);
    }
    let verdict = match top {
        None => ended_early(ended, during, timeout).unwrap_or_else(|| Verdict::Failed {
            error: "the import ended without a word".to_string(),
        }),
        Some((Some(error), _)) => Verdict::Failed { error },
        // Whatever befell an extension imported directly afterwards, `import module` kept the
        // GIL off.
        Some((None, _)) => Verdict::GilOff,
    };
    (verdict, seconds, extensions)
}

/// How a process that did not finish its import ended, if it did end badly.
fn ended_early(ended: &Ended, during: String, timeout: Duration) -> Option<Verdict> {
    match ended {
        Ended::TimedOut => Some(Verdict::TimedOut {
            seconds: timeout.as_secs_f64(),
            during,
        }),
        Ended::Exited(status) => match (status.signal(), status.code()) {
            (Some(signal), _) => Some(Verdict::Crashed {
                signal: signal_name(signal),
                during,
            }),
            (None, Some(code)) => Some(Verdict::Exited { code, during }),
            (None, None) => None,
        },
    }
}

fn signal_name(signal: i32) -> String {
    nix::sys::signal::Signal::try_from(signal)
        .map_or_else(|_| format!("signal {signal}"), |s| s.as_str().to_string())
}

fn describe(status: std::process::ExitStatus) -> String {
    match (status.signal(), status.code()) {
        (Some(signal), _) => format!("was killed by {}", signal_name(signal)),
        (_, Some(code)) => format!("exited with {code}"),
        _ => "failed".to_string(),
    }
}

/// A distribution's audit from its modules' outcomes; the culprit's distribution named from
/// the whole listing.
fn fold(dist: &Distribution, outcomes: &[&Outcome], all: &[Distribution]) -> DistributionAudit {
    let mut modules: Vec<ModuleAudit> = outcomes.iter().map(|(m, _)| m.clone()).collect();
    for module in &mut modules {
        if let Verdict::GilOn {
            by,
            by_distribution,
            ..
        } = &mut module.verdict
        {
            *by_distribution = owner(by, all)
                .filter(|owner| normalized(owner) != normalized(&dist.name))
                .map(str::to_string);
        }
    }
    // Each of its own extensions with what the imports read of it: `declares` known wins.
    let extensions = dist
        .extensions
        .iter()
        .map(|module| ExtensionCheck {
            module: module.clone(),
            declares: outcomes
                .iter()
                .flat_map(|(_, checks)| checks)
                .filter(|c| &c.module == module)
                .find_map(|c| c.declares),
        })
        .collect();
    DistributionAudit {
        name: dist.name.clone(),
        version: dist.version.clone(),
        tags: dist.tags.clone(),
        abi: dist.abi(),
        verdict: Verdict::worst(modules.iter().map(|m| &m.verdict)),
        modules,
        extensions,
    }
}

/// The distribution that ships `module`: the one listing it as an extension, else the one
/// whose top-level modules hold its first part.
fn owner<'a>(module: &str, all: &'a [Distribution]) -> Option<&'a str> {
    let top = module.split('.').next().unwrap_or(module);
    all.iter()
        .find(|d| d.extensions.iter().any(|e| e == module))
        .or_else(|| all.iter().find(|d| d.modules.iter().any(|m| m == top)))
        .map(|d| d.name.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(module: &str) -> Job {
        Job {
            distribution: 0,
            module: module.to_string(),
            extensions: vec![],
        }
    }

    fn events(lines: &str) -> Vec<Event> {
        lines
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn exited(code: i32) -> Ended {
        Ended::Exited(std::process::ExitStatus::from_raw(code << 8))
    }

    #[test]
    fn an_extension_that_turns_the_gil_on_is_named() {
        let record = events(concat!(
            r#"{"event": "start", "pid": 5, "gil": false}"#,
            "\n",
            r#"{"event": "importing", "pid": 5, "module": "gil_via", "direct": false}"#,
            "\n",
            r#"{"event": "created", "pid": 5, "module": "_json", "declares": true}"#,
            "\n",
            r#"{"event": "created", "pid": 5, "module": "markupsafe._speedups", "declares": false}"#,
            "\n",
            r#"{"event": "imported", "pid": 5, "module": "gil_via", "error": null, "gil": true, "seconds": 0.01}"#,
            "\n",
            r#"{"event": "done", "pid": 5, "gil": true}"#,
        ));
        let (verdict, seconds, extensions) =
            judge(&job("gil_via"), &record, &exited(0), Duration::from_secs(5));
        assert_eq!(
            verdict,
            Verdict::GilOn {
                by: "markupsafe._speedups".into(),
                by_distribution: None,
                direct: false
            }
        );
        assert_eq!(seconds, Some(0.01));
        assert_eq!(extensions.len(), 2);
        assert_eq!(extensions[1].declares, Some(false));
    }

    #[test]
    fn a_process_that_dies_mid_import_says_where() {
        let record = events(concat!(
            r#"{"event": "start", "pid": 5, "gil": false}"#,
            "\n",
            r#"{"event": "importing", "pid": 5, "module": "boom", "direct": false}"#,
        ));
        let crashed = Ended::Exited(std::process::ExitStatus::from_raw(11));
        assert_eq!(
            judge(&job("boom"), &record, &crashed, Duration::from_secs(5)).0,
            Verdict::Crashed {
                signal: "SIGSEGV".into(),
                during: "boom".into()
            }
        );
        assert_eq!(
            judge(&job("boom"), &record, &exited(3), Duration::from_secs(5)).0,
            Verdict::Exited {
                code: 3,
                during: "boom".into()
            }
        );
        assert_eq!(
            judge(
                &job("boom"),
                &record,
                &Ended::TimedOut,
                Duration::from_secs(5)
            )
            .0,
            Verdict::TimedOut {
                seconds: 5.0,
                during: "boom".into()
            }
        );
    }

    #[test]
    fn a_forked_childs_lines_are_not_the_processs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("record.jsonl");
        fs_err::write(
            &path,
            concat!(
                r#"{"event": "start", "pid": 5, "gil": false}"#,
                "\n",
                r#"{"event": "importing", "pid": 5, "module": "forks", "direct": false}"#,
                "\n",
                r#"{"event": "imported", "pid": 6, "module": "forks", "error": "boo", "gil": false, "seconds": 0.01}"#,
                "\n",
                "not json\n",
                r#"{"event": "imported", "pid": 5, "module": "forks", "error": null, "gil": false, "seconds": 0.01}"#,
                "\n",
            ),
        )
        .unwrap();
        let record = read_events(&path);
        assert_eq!(record.len(), 3);
        assert_eq!(
            judge(&job("forks"), &record, &exited(0), Duration::from_secs(5)).0,
            Verdict::GilOff
        );
    }
}
