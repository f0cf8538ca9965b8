//! Turning a results file into what people read. Renderers are pure (results in, text out);
//! [`Report::write`] is the one place that writes their files.

pub mod audit;
pub mod csv;
pub mod fleet;
pub mod gates;
pub mod grid;
pub mod html;
pub mod markdown;
pub mod model;
pub mod plot;
pub mod profiles;
pub mod table;
pub mod terminal;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::analysis::Analysis;
pub use model::{Exporter, ReportModel};

// Names and numbers as people read them live in `format`, shared with the runner.
pub use crate::format::human;

/// Every file of a report, rendered in memory: nothing is written until all of it rendered.
#[derive(Debug, Clone)]
pub struct Report {
    /// Paths relative to the output directory, with their bytes.
    pub files: Vec<(PathBuf, Vec<u8>)>,
    pub render_time: Duration,
}

impl Report {
    /// Render `report.html`, `report.md`, `results.csv` and every figure as SVG and PNG.
    pub fn render(model: &ReportModel<'_>) -> Result<Self> {
        let start = Instant::now();
        let mut files = Vec::new();
        let figures = plot::Figures.export(model)?;
        for drawn in &figures {
            let name = &drawn.figure.name;
            files.push((
                PathBuf::from(format!("figures/{name}.svg")),
                drawn.svg.clone().into_bytes(),
            ));
            files.push((
                PathBuf::from(format!("figures/{name}.png")),
                drawn.png.clone(),
            ));
        }
        files.push((
            "report.html".into(),
            html::Html(&figures).export(model)?.into_bytes(),
        ));
        files.push((
            "report.md".into(),
            markdown::Markdown.export(model)?.into_bytes(),
        ));
        files.push(("results.csv".into(), csv::Csv.export(model)?.into_bytes()));
        Ok(Self {
            files,
            render_time: start.elapsed(),
        })
    }

    /// Copy the flame graphs a run recorded (`--profile`) into `profiles/`, reading each from
    /// `base` (the results file's directory). Only a relative `.svg` path below `base` is read
    /// (the names come from a results file, which may come from anyone), at most 64 MiB; the
    /// graphs that cannot be read are returned, to be named in a warning.
    pub fn attach_profiles(&mut self, results: &Analysis<'_>, base: &Path) -> Vec<String> {
        let mut missing = Vec::new();
        for file in profiles::profile_files(results) {
            match profiles::read_profile(base, &file) {
                Some(bytes) => self.files.push((
                    PathBuf::from("profiles").join(profiles::profile_name(&file)),
                    bytes,
                )),
                None => missing.push(file),
            }
        }
        missing
    }

    /// Write every file under `dir`, each atomically. Every path must stay inside `dir` (names
    /// come from results files, which may come from anyone), and only regular files are
    /// replaced.
    pub fn write(&self, dir: &Path) -> Result<()> {
        if dir.exists() && !dir.is_dir() {
            anyhow::bail!(
                "the report directory `{}` is not a directory",
                dir.display()
            );
        }
        for (relative, _) in &self.files {
            let inside = relative
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
            if !inside || relative.as_os_str().is_empty() {
                anyhow::bail!(
                    "refusing to write `{}`: a report file must stay inside `{}`",
                    relative.display(),
                    dir.display()
                );
            }
        }
        for (relative, bytes) in &self.files {
            let path = dir.join(relative);
            if let Some(parent) = path.parent() {
                fs_err::create_dir_all(parent)?;
            }
            crate::results::guard::check_output(&path, crate::results::guard::Existing::Replace)?;
            crate::results::write_atomically(&path, bytes)
                .with_context(|| format!("failed to write `{}`", path.display()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Report;
    use super::profiles::{profile_name, read_profile};
    use crate::format::{human, seconds, slug};

    #[test]
    fn slugs_are_safe_file_names() {
        assert_eq!(slug("scaling-parallel_compute"), "scaling-parallel_compute");
        assert_eq!(slug("scaling-3.13t"), "scaling-3.13t");
        assert!(
            slug("scaling-../../../../elsewhere/pwned").starts_with("scaling-elsewhere-pwned-")
        );
        for hostile in [
            "../../../../elsewhere/pwned",
            "scaling-mybench:needs_args@processes",
            "..",
            "",
            "a/b",
            "a\u{1b}[2J",
            "ü",
            &"x".repeat(300),
        ] {
            let s = slug(hostile);
            assert!(!s.is_empty() && s.len() <= 89, "{s}");
            assert!(!s.starts_with('.'), "{s}");
            assert!(
                s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')),
                "{s}"
            );
        }
        assert_ne!(slug("a:b"), slug("a@b"));
        assert_eq!(
            slug("scaling-mybench:needs_args@processes"),
            slug("scaling-mybench:needs_args@processes")
        );
    }

    #[test]
    fn a_report_never_writes_outside_its_directory() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        for relative in ["../escaped.svg", "/tmp/abs.svg", "figures/../../x.svg"] {
            let report = Report {
                files: vec![(relative.into(), b"x".to_vec())],
                render_time: std::time::Duration::ZERO,
            };
            let err = report.write(&out).unwrap_err().to_string();
            assert!(err.contains("must stay inside"), "{err}");
        }
        assert!(!dir.path().join("escaped.svg").exists());
        assert!(!out.exists(), "nothing is written, not even the directory");
    }

    #[test]
    fn durations() {
        assert_eq!(seconds(1.234), "1.23 s");
        assert_eq!(seconds(0.0123), "12.3 ms");
        assert_eq!(seconds(1.17e-6), "1.17 µs");
        assert_eq!(seconds(8.5e-7), "850 ns");
    }

    #[test]
    fn human_numbers() {
        assert_eq!(human(13_412_345.0), "13.4M");
        assert_eq!(human(952_100.0), "952k");
        assert_eq!(human(3.214), "3.21");
        assert_eq!(human(0.012_34), "0.0123");
        assert_eq!(human(1_872.29), "1872");
        assert_eq!(human(2.5e9), "2.50G");
    }

    #[test]
    fn only_flame_graphs_below_the_results_are_attached() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("results");
        fs_err::create_dir_all(base.join("run-profiles")).unwrap();
        fs_err::write(base.join("run-profiles/a.svg"), "<svg/>").unwrap();
        fs_err::write(dir.path().join("secret.svg"), "secret").unwrap();
        fs_err::write(base.join("run-profiles/notes.txt"), "text").unwrap();
        std::os::unix::fs::symlink(
            dir.path().join("secret.svg"),
            base.join("run-profiles/link.svg"),
        )
        .unwrap();
        assert_eq!(
            read_profile(&base, "run-profiles/a.svg").as_deref(),
            Some(&b"<svg/>"[..])
        );
        for hostile in [
            "../secret.svg",
            "run-profiles/../../secret.svg",
            dir.path().join("secret.svg").to_str().unwrap(),
            "run-profiles/notes.txt",
            "run-profiles/link.svg",
            "run-profiles/missing.svg",
        ] {
            assert_eq!(read_profile(&base, hostile), None, "{hostile}");
        }
        assert_eq!(
            profile_name("run-profiles/../x y.svg"),
            format!("{}.svg", slug("x y"))
        );
    }
}
