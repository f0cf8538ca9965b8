//! What the runner tells about its progress, as events; [`Terminal`] shows them as a progress
//! bar with a line per point above it. The runner itself prints nothing.

use crate::format::human;
use crate::interpreter::Variant;
use crate::output::Printer;
use crate::results::Point;
use crate::stats::Estimate;
use crate::workloads::Workload;

/// Something that happened while measuring a (test, variant).
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// The pair does not run here, for a reason that is no fault of the test.
    Skipped { reason: &'a str },
    /// The pair's calibration failed; `same_as` names the label that failed the same way.
    CalibrationFailed {
        reason: &'a str,
        same_as: Option<&'a str>,
    },
    /// A point was measured in full; `speedup` over serial, where the run knows it.
    Measured {
        point: &'a Point,
        speedup: Option<Estimate>,
    },
    /// A point failed.
    Failed { thread_count: u32, reason: &'a str },
    /// Something worth a warning about a finished point.
    Warning(&'a str),
    /// The runner waits for a quiet machine before measuring a point again.
    Waiting { thread_count: u32, text: &'a str },
}

/// Receives the runner's progress.
pub trait Observer {
    /// The run begins with `total` points to go through.
    fn start(&self, total: u64);
    /// Work on a (test, variant) begins.
    fn pair(&self, workload: &Workload, variant: &Variant);
    /// `points` more points are finished (measured, failed or skipped).
    fn advance(&self, points: u64);
    /// Something happened on the current pair.
    fn event(&self, workload: &Workload, variant: &Variant, event: Event);
    /// Work on one pyperformance benchmark on a variant begins.
    fn benchmark(&self, name: &str, variant: &Variant);
    /// A line about the run: a benchmark's values or failure, a wait for a quiet machine.
    fn line(&self, text: &str);
    /// The run ends (completed or stopped).
    fn finish(&self);
}

/// The terminal: a progress bar, a line per point above it, warnings on stderr.
pub struct Terminal<'a> {
    printer: &'a Printer,
    bar: std::cell::RefCell<Option<indicatif::ProgressBar>>,
}

impl<'a> Terminal<'a> {
    pub fn new(printer: &'a Printer) -> Self {
        Self {
            printer,
            bar: std::cell::RefCell::new(None),
        }
    }
}

impl Observer for Terminal<'_> {
    fn start(&self, total: u64) {
        *self.bar.borrow_mut() = Some(self.printer.progress(total, "measuring"));
    }

    fn pair(&self, workload: &Workload, variant: &Variant) {
        if let Some(bar) = &*self.bar.borrow() {
            bar.set_message(format!("{} on {}", workload.name, variant.label));
        }
    }

    fn advance(&self, points: u64) {
        if let Some(bar) = &*self.bar.borrow() {
            bar.inc(points);
        }
    }

    fn event(&self, workload: &Workload, variant: &Variant, event: Event) {
        let (label, name) = (&variant.label, workload.name);
        match event {
            Event::Skipped { reason } => {
                self.line(&format!("  {label:<14} {name:<26} skipped: {reason}"));
            }
            Event::CalibrationFailed { reason, same_as } => self.line(&format!(
                "  {label:<14} {name:<26} {}",
                same_as.map_or_else(
                    || first_line(reason).to_string(),
                    |label| format!("calibration failed: the same error as on {label}")
                )
            )),
            Event::Measured { point, speedup } => self.measured(workload, variant, point, speedup),
            Event::Failed {
                thread_count,
                reason,
            } => self.line(&format!(
                "  {label:<14} {name:<26} {:>10}  FAILED: {}",
                crate::format::threads(thread_count),
                first_line(reason)
            )),
            Event::Warning(text) => self.line(&format!("  warning: {text}")),
            Event::Waiting { thread_count, text } => self.line(&format!(
                "  {name} on {label} at {}: {text}",
                crate::format::threads(thread_count)
            )),
        }
    }

    fn benchmark(&self, name: &str, variant: &Variant) {
        if let Some(bar) = &*self.bar.borrow() {
            bar.set_message(format!(
                "{name} on {}",
                crate::output::escape(&variant.label)
            ));
        }
    }

    fn line(&self, text: &str) {
        match &*self.bar.borrow() {
            Some(bar) => self.printer.line_above(bar, text),
            None => self.printer.info(text),
        }
    }

    fn finish(&self) {
        if let Some(bar) = self.bar.borrow_mut().take() {
            bar.finish_and_clear();
        }
    }
}

impl Terminal<'_> {
    /// A measured point's line, and a warning when its GIL was not what the variant expects.
    fn measured(
        &self,
        workload: &Workload,
        variant: &Variant,
        point: &Point,
        speedup: Option<Estimate>,
    ) {
        // One line where the terminal is wide enough; the rest on indented lines, never a mark
        // split in two.
        let mut parts = vec![format!(
            "  {:<14} {:<26} {:>10}  {:>9} {} ±{:.1}%",
            variant.label,
            workload.name,
            crate::format::threads(point.thread_count),
            human(point.throughput.median),
            workload.metric,
            point.throughput.relative_half_width() * 100.0,
        )];
        if let Some(speedup) = speedup {
            parts.push(format!(
                "speedup {:.2}x [{:.2}, {:.2}]",
                speedup.value, speedup.low, speedup.high
            ));
        }
        if let Some(parallelism) = point.load_median(|l| Some(l.parallelism)) {
            parts.push(format!("parallelism {parallelism:.2}"));
        }
        if point.throughput.is_noisy() {
            parts.push(format!("(noisy: CV {:.0}%)", point.throughput.cv * 100.0));
        }
        if point.disturbed() {
            parts.push(format!(
                "BUSY! other work disturbed {} of {} samples",
                point.disturbed_samples(),
                point.samples.len()
            ));
        }
        if point.unequal_samples() > 0 {
            parts.push(format!(
                "UNEQUAL CPUs in {} of {} samples (measured again)",
                point.unequal_samples(),
                point.samples.len()
            ));
        }
        self.line(&crate::output::join_within(
            &parts,
            crate::output::width(),
            6,
        ));
        if point.gil_mismatches > 0 {
            let state = if variant.expects_gil() { "OFF" } else { "ON" };
            // The user workload records CPython's own warning when an import turns the GIL on.
            let culprits: Vec<String> = point
                .samples
                .iter()
                .filter_map(|s| s.extra.as_ref()?["gil_enabled_by"].as_array().cloned())
                .flatten()
                .filter_map(|w| w.as_str().map(str::to_string))
                .fold(Vec::new(), |mut all, w| {
                    if !all.contains(&w) {
                        all.push(w);
                    }
                    all
                });
            self.printer.warn(&format!(
                "{} on {}: the GIL was {state} in {} of {} samples, against what this variant should have; these numbers do not measure {}",
                workload.name,
                variant.label,
                point.gil_mismatches,
                point.samples.len(),
                if variant.expects_gil() { "a GIL build" } else { "free-threading" },
            ));
            for culprit in &culprits {
                self.printer.warn(&format!("Python says: {culprit}"));
            }
            if !culprits.is_empty() {
                self.printer.warn(&format!(
                    "every distribution of that environment that does so: ftbench audit --python {}",
                    crate::output::escape(&variant.run_path.display().to_string())
                ));
            }
        }
    }
}

/// The first line of a (possibly multi-line) reason.
fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}
