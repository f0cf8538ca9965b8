//! `ftbench publish`: a fleet's store as a static dashboard.
//!
//! The figures come from the points table (every run's samples), not from re-reading each run's
//! document: only each machine's newest run, and its newest run of each scaling test, are
//! loaded whole (for their curves). A file is
//! written only when its bytes changed, so publishing again after new runs rewrites only the
//! figures those runs touch (and the index).

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::Result;

use super::common::{describe_fingerprint, open_existing_store, run_samples};
use crate::analysis::fleet::{
    Curve, Fleet, FleetLabel, FleetTest, Machine, RegularTrend, SuiteRun, Trend, speedup_trend,
    suite_trend,
};
use crate::analysis::{Analysis, Derived};
use crate::cli::PublishArgs;
use crate::output::Printer;
use crate::results::ResultsFile;
use crate::stats::Estimate;
use crate::store::{MachineSummary, RunSummary, Store, TrendPoint};

pub(super) fn publish(args: &PublishArgs, printer: &Printer) -> Result<ExitCode> {
    let store = open_existing_store(args.store.as_deref())?;
    let fleet = gather(store.as_ref(), args.threads)?;
    if fleet.machines.is_empty() {
        anyhow::bail!(
            "the store `{}` has no runs to publish: `ftbench run` or `ftbench history add` records them",
            store.name()
        );
    }
    check_out(&args.out, args.force)?;
    let files = crate::report::fleet::render(&fleet)?;
    fs_err::create_dir_all(&args.out)?;
    let (mut written, mut unchanged) = (0, 0);
    for (name, bytes) in &files {
        let path = args.out.join(name);
        if fs_err::read(&path).is_ok_and(|old| &old == bytes) {
            unchanged += 1;
            continue;
        }
        crate::results::write_atomically(&path, bytes)
            .map_err(|err| anyhow::anyhow!("cannot write `{}`: {err}", path.display()))?;
        written += 1;
    }
    printer.info(&format!(
        "Published {} machine(s) to {}: {written} file(s) written, {unchanged} unchanged",
        fleet.machines.len(),
        args.out.join("index.html").display()
    ));
    Ok(ExitCode::SUCCESS)
}

/// `--out` takes a dashboard: a folder (new, or one holding a dashboard), never a file, the
/// root or the home folder, and an `index.html` that `publish` did not write is replaced only
/// with `--force`.
fn check_out(out: &std::path::Path, force: bool) -> Result<()> {
    let resolved = fs_err::canonicalize(out).unwrap_or_else(|_| out.to_path_buf());
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    if resolved.parent().is_none() || home.is_some_and(|h| h == resolved) {
        anyhow::bail!(
            "--out `{}` is {}: give the dashboard a folder of its own",
            out.display(),
            if resolved.parent().is_none() {
                "the root folder"
            } else {
                "your home folder"
            }
        );
    }
    if let Ok(meta) = fs_err::metadata(out)
        && !meta.is_dir()
    {
        anyhow::bail!("--out `{}` is not a folder", out.display());
    }
    let index = out.join("index.html");
    if let Ok(meta) = fs_err::symlink_metadata(&index) {
        let ours = meta.is_file()
            && fs_err::read_to_string(&index)
                .is_ok_and(|text| text.contains(crate::report::fleet::GENERATOR));
        if !ours && !force {
            anyhow::bail!(
                "`{}` exists and is not a dashboard ftbench published: pass --force to replace it, or publish elsewhere",
                index.display()
            );
        }
        if !meta.is_file() {
            anyhow::bail!("`{}` is not a regular file", index.display());
        }
    }
    Ok(())
}

/// The runs a dashboard loads whole: each machine's newest, and for each scaling test the
/// newest of its runs that measured it (a test a machine ran yesterday but not today stays on
/// the dashboard). Each run is loaded once.
struct Loaded {
    runs: Vec<(i64, ResultsFile)>,
    /// Per machine: the index of its newest run.
    newest: Vec<usize>,
    /// Per machine: each scaling test it measured and the index of its newest run with it.
    by_test: Vec<Vec<(String, usize)>>,
}

impl Loaded {
    fn index(&mut self, store: &dyn Store, id: i64) -> Result<usize> {
        if let Some(index) = self.runs.iter().position(|(run, _)| *run == id) {
            return Ok(index);
        }
        self.runs.push((id, store.load(id)?));
        Ok(self.runs.len() - 1)
    }

    fn of(store: &dyn Store, summaries: &[MachineSummary], runs: &[RunSummary]) -> Result<Self> {
        let mut loaded = Self {
            runs: Vec::new(),
            newest: Vec::new(),
            by_test: Vec::new(),
        };
        for summary in summaries {
            let mut mine: Vec<&RunSummary> = runs
                .iter()
                .filter(|r| r.machine == summary.machine)
                .collect();
            mine.sort_by(|a, b| (b.created.as_str(), b.id).cmp(&(a.created.as_str(), a.id)));
            let newest = mine.first().expect("a listed machine has a run").id;
            let newest = loaded.index(store, newest)?;
            loaded.newest.push(newest);
            let mut tests: Vec<(String, usize)> = Vec::new();
            for run in mine {
                if run
                    .tests
                    .iter()
                    .all(|t| tests.iter().any(|(known, _)| known == t))
                {
                    continue;
                }
                let index = loaded.index(store, run.id)?;
                let results = &loaded.runs[index].1;
                for test in results.tests() {
                    if results.group_of(&test).scales() && !tests.iter().any(|(t, _)| *t == test) {
                        tests.push((test, index));
                    }
                }
            }
            loaded.by_test.push(tests);
        }
        Ok(loaded)
    }

    /// The run a machine's curve of `test` comes from.
    fn run_of(&self, machine: usize, test: &str) -> Option<usize> {
        self.by_test[machine]
            .iter()
            .find(|(t, _)| t == test)
            .map(|(_, index)| *index)
    }
}

/// What the dashboard shows, from the store.
pub(super) fn gather(store: &dyn Store, threads: Option<u32>) -> Result<Fleet> {
    let mut summaries = store.machines()?;
    summaries.sort_by(|a, b| {
        (a.first_seen.as_str(), a.machine.as_str()).cmp(&(b.first_seen.as_str(), &b.machine))
    });
    let runs = store.runs(None)?;
    let loaded = Loaded::of(store, &summaries, &runs)?;
    let mut labels: Vec<String> = Vec::new();
    for (_, results) in &loaded.runs {
        for label in results.labels() {
            if !labels.contains(&label) {
                labels.push(label);
            }
        }
    }
    let machines: Vec<Machine> = summaries
        .iter()
        .zip(&loaded.newest)
        .map(|(summary, &newest)| Machine {
            name: summary.machine.clone(),
            cores: loaded.runs[newest].1.system.usable_cpus(),
            description: describe_fingerprint(&summary.fingerprint),
            runs: summary.runs,
            last_seen: summary.last_seen.clone(),
            label_runs: labels
                .iter()
                .map(|label| {
                    runs.iter()
                        .filter(|r| r.machine == summary.machine && r.labels.contains(label))
                        .count()
                })
                .collect(),
        })
        .collect();
    let mut tests: Vec<String> = Vec::new();
    for machine_tests in &loaded.by_test {
        for (test, _) in machine_tests {
            if !tests.contains(test) {
                tests.push(test.clone());
            }
        }
    }
    // Each loaded run's numbers, derived when a curve of it is first needed.
    let mut derived: Vec<Option<Derived>> = loaded.runs.iter().map(|_| None).collect();
    let mut fleet_tests = Vec::new();
    for test in tests {
        let mut test_labels = Vec::new();
        for label in &labels {
            if let Some(entry) = label_entry(
                store,
                &machines,
                (&loaded, &mut derived),
                &test,
                label,
                threads,
            )? {
                test_labels.push(entry);
            }
        }
        if !test_labels.is_empty() {
            fleet_tests.push(FleetTest {
                test,
                labels: test_labels,
            });
        }
    }
    let newest: Vec<&ResultsFile> = loaded.newest.iter().map(|&i| &loaded.runs[i].1).collect();
    Ok(Fleet {
        store: store.name(),
        // The store's state, not the clock: publishing an unchanged store changes no file.
        generated: summaries
            .iter()
            .map(|s| s.last_seen.clone())
            .max()
            .unwrap_or_default(),
        regular: regular_trends(store, &machines, &newest)?,
        machines,
        labels,
        tests: fleet_tests,
    })
}

/// One test on one label: the latest curve of every machine that measured it (from its newest
/// run with the test), and each machine's speedup at one thread count over its runs.
fn label_entry(
    store: &dyn Store,
    machines: &[Machine],
    (loaded, derived): (&Loaded, &mut [Option<Derived>]),
    test: &str,
    label: &str,
    threads: Option<u32>,
) -> Result<Option<FleetLabel>> {
    let mut curves = Vec::new();
    let mut trends = Vec::new();
    for (machine, about) in machines.iter().enumerate() {
        let Some(index) = loaded.run_of(machine, test) else {
            continue;
        };
        let (run_id, results) = &loaded.runs[index];
        let derived = derived[index].get_or_insert_with(|| Derived::of(results));
        let Some(series) = Analysis::with(results, derived).series(test, label) else {
            continue;
        };
        let points: Vec<(u32, Estimate)> = series
            .points
            .iter()
            .filter_map(|p| p.speedup.map(|s| (p.thread_count, s)))
            .collect();
        let Some(lowest) = points.iter().map(|(n, _)| *n).min() else {
            continue;
        };
        // By default the highest thread count the machine has CPUs for.
        let cores = about.cores as u32;
        let followed = threads.unwrap_or_else(|| {
            points
                .iter()
                .map(|(n, _)| *n)
                .filter(|n| *n <= cores)
                .max()
                .unwrap_or(lowest)
        });
        let name = Some(about.name.as_str());
        let (serial, parallel) = (
            store.trend(test, label, 0, name)?,
            store.trend(test, label, followed, name)?,
        );
        let entries = speedup_trend(&run_samples(&serial), &run_samples(&parallel));
        if !entries.is_empty() {
            trends.push(Trend {
                machine,
                threads: followed,
                points: entries,
            });
        }
        curves.push(Curve {
            machine,
            run_id: *run_id,
            points,
        });
    }
    Ok((!curves.is_empty()).then(|| FleetLabel {
        label: label.to_string(),
        curves,
        trends,
    }))
}

/// The regular suite's geometric mean of each label against the baseline, per machine and run.
fn regular_trends(
    store: &dyn Store,
    machines: &[Machine],
    latest: &[&ResultsFile],
) -> Result<Vec<RegularTrend>> {
    let Some(reference) = latest.iter().find(|r| !r.regular_tests().is_empty()) else {
        return Ok(Vec::new());
    };
    let Some(baseline) = reference.baseline() else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for label in reference.labels().into_iter().filter(|l| *l != baseline) {
        let mut trends = Vec::new();
        for (machine, results) in latest.iter().enumerate() {
            let name = Some(machines[machine].name.as_str());
            let mut by_run: BTreeMap<i64, SuiteRun> = BTreeMap::new();
            for test in results.regular_tests() {
                let base: BTreeMap<i64, TrendPoint> = store
                    .trend(&test, &baseline, 0, name)?
                    .into_iter()
                    .map(|p| (p.run_id, p))
                    .collect();
                for point in store.trend(&test, &label, 0, name)? {
                    if let Some(b) = base.get(&point.run_id) {
                        by_run
                            .entry(point.run_id)
                            .or_insert_with(|| (point.run_id, point.created.clone(), Vec::new()))
                            .2
                            .push((point.samples, b.samples.clone()));
                    }
                }
            }
            let points = suite_trend(by_run.into_values().collect());
            if !points.is_empty() {
                trends.push(Trend {
                    machine,
                    threads: 0,
                    points,
                });
            }
        }
        if !trends.is_empty() {
            out.push(RegularTrend {
                label,
                baseline: baseline.clone(),
                trends,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dashboard_folder_is_guarded_like_an_output_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = |out: &std::path::Path, force: bool| {
            check_out(out, force).map_err(|e| e.to_string()).err()
        };
        assert!(
            err(std::path::Path::new("/"), true)
                .unwrap()
                .contains("the root folder")
        );
        let file = dir.path().join("file");
        fs_err::write(&file, "x").unwrap();
        assert!(err(&file, false).unwrap().contains("is not a folder"));
        let out = dir.path().join("site");
        assert_eq!(err(&out, false), None);
        fs_err::create_dir(&out).unwrap();
        fs_err::write(out.join("index.html"), "<html>my own page</html>").unwrap();
        assert!(err(&out, false).unwrap().contains("pass --force"));
        assert_eq!(err(&out, true), None);
        fs_err::write(
            out.join("index.html"),
            format!(
                "<html><head>{}</head></html>",
                crate::report::fleet::GENERATOR
            ),
        )
        .unwrap();
        assert_eq!(err(&out, false), None);
    }
}
