//! The terminal: the only code that writes to stdout and stderr, and the owner of progress bars.
//!
//! Results go to stdout; progress, notes, warnings and errors go to stderr, so
//! `ftbench pythons --json | jq` sees JSON alone.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Writes everything ftbench shows a person.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    quiet: bool,
}

impl Printer {
    pub fn new(quiet: bool) -> Self {
        Self { quiet }
    }

    /// Write a result to stdout (shown even with `--quiet`).
    #[expect(clippy::unused_self, reason = "every write goes through the printer")]
    pub fn stdout(&self, text: &str) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())?;
        if !text.ends_with('\n') {
            out.write_all(b"\n")?;
        }
        out.flush()
    }

    /// A progress line on stderr, hidden by `--quiet`.
    pub fn info(&self, text: &str) {
        if !self.quiet {
            self.stderr(text);
        }
    }

    /// A warning on stderr, always shown.
    pub fn warn(&self, text: &str) {
        self.stderr(&format!("warning: {text}"));
    }

    /// An error on stderr, always shown.
    pub fn error(&self, text: &str) {
        self.stderr(&format!("error: {text}"));
    }

    #[expect(clippy::unused_self, reason = "every write goes through the printer")]
    fn stderr(&self, text: &str) {
        let mut err = std::io::stderr().lock();
        // Nothing sensible is left to do if stderr itself is gone.
        let _ = writeln!(err, "{text}");
    }

    /// A progress bar over `len` steps on stderr; hidden when stderr is not a terminal or with
    /// `--quiet`, so logs and pipes get plain lines only.
    pub fn progress(&self, len: u64, what: &str) -> ProgressBar {
        let target = if self.quiet || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let bar = ProgressBar::with_draw_target(Some(len), target);
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>10.bold} [{bar:30}] {pos}/{len} {msg} (ETA {eta})",
            )
            .expect("the template is valid")
            .progress_chars("=> "),
        );
        bar.set_prefix(what.to_string());
        bar
    }

    /// A spinner with a message on stderr, for work of unknown length (builds).
    pub fn spinner(&self, what: &str) -> ProgressBar {
        let target = if self.quiet || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let bar = ProgressBar::with_draw_target(None, target);
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix:.bold} {msg} [{elapsed}]")
                .expect("the template is valid"),
        );
        bar.set_prefix(what.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    }

    /// Print a line while a progress bar is shown, above it.
    pub fn line_above(&self, bar: &ProgressBar, text: &str) {
        if self.quiet {
            return;
        }
        if bar.is_hidden() {
            self.stderr(text);
        } else {
            bar.println(text);
        }
    }
}
