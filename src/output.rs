//! The terminal: the only code that writes to stdout and stderr, and the owner of progress bars.
//!
//! Results go to stdout; progress, notes, warnings and errors go to stderr, so
//! `ftbench pythons --json | jq` sees JSON alone.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Make text from a file safe to show on a terminal: control characters (escape sequences,
/// carriage returns, newlines inside a name) become visible escapes like `\u{1b}`, so a label
/// cannot clear the screen, retitle the window or fake a line.
pub fn escape(text: &str) -> String {
    if !text.chars().any(hidden) {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if hidden(c) {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A character that must not reach a terminal, a Markdown or an HTML page as it is: control
/// characters, and the bidirectional controls (U+202A–U+202E, U+2066–U+2069, the marks
/// U+200E, U+200F and U+061C) that make a name read backwards or hide what follows it
/// ("Trojan Source", CVE-2021-42574).
fn hidden(c: char) -> bool {
    c.is_control() || bidirectional(c)
}

/// A bidirectional control character (see [`escape`]).
pub fn bidirectional(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    )
}

/// Like [`escape`], but keeps line breaks and tabs: for whole messages and tables, whose own
/// lines are ftbench's. Every string from a file is [`escape`]d where it is put into one.
pub fn escape_keeping_lines(text: &str) -> std::borrow::Cow<'_, str> {
    let kept = |c: char| hidden(c) && c != '\n' && c != '\t';
    if !text.chars().any(kept) {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(
        text.chars()
            .map(|c| {
                if kept(c) {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// Writes everything ftbench shows a person.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    quiet: bool,
}

/// Where no terminal says how wide it is (a pipe, a file, CI).
pub const DEFAULT_WIDTH: usize = 100;
/// Narrower than this, output is laid out for this width anyway.
const MIN_WIDTH: usize = 40;

/// The width output is laid out for: `COLUMNS` where set, else the terminal's (stdout's, else
/// stderr's), else [`DEFAULT_WIDTH`].
pub fn width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|w| *w > 0)
        .or_else(|| {
            terminal_size::terminal_size()
                .or_else(|| terminal_size::terminal_size_of(std::io::stderr()))
                .map(|(w, _)| usize::from(w.0))
        })
        .unwrap_or(DEFAULT_WIDTH)
        .max(MIN_WIDTH)
}

/// `parts` joined by two spaces into lines no wider than `width` (a part is never split; one
/// wider than a line has a line of its own), lines after the first indented by `indent`.
pub fn join_within(parts: &[String], width: usize, indent: usize) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for part in parts {
        if !line.trim().is_empty() && line.chars().count() + 2 + part.chars().count() > width {
            lines.push(std::mem::replace(&mut line, " ".repeat(indent)));
        } else if !line.trim().is_empty() {
            line.push_str("  ");
        }
        line.push_str(part);
    }
    lines.push(line);
    lines.join("\n")
}

/// `text` word-wrapped to `width` columns, each line after the first indented by `indent`
/// spaces; a word longer than a line is cut. Ends with a newline.
pub fn wrap(text: &str, width: usize, indent: usize) -> String {
    let indent = " ".repeat(indent.min(width / 2));
    let mut out = String::new();
    for paragraph in text.split('\n') {
        let mut line: String = paragraph.chars().take_while(|c| *c == ' ').collect();
        // No word on `line` yet.
        let mut empty = true;
        for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
            let mut word: Vec<char> = word.chars().collect();
            loop {
                let used = line.chars().count();
                if used + usize::from(!empty) + word.len() <= width {
                    if !empty {
                        line.push(' ');
                    }
                    line.extend(word.iter());
                    empty = false;
                    break;
                }
                if empty {
                    // Longer than a whole line: cut it at the edge.
                    let room = width.saturating_sub(used).max(1).min(word.len());
                    line.extend(word.drain(..room));
                }
                out.push_str(line.trim_end());
                out.push('\n');
                line.clone_from(&indent);
                empty = true;
                if word.is_empty() {
                    break;
                }
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Make text from a results file inert in Markdown: it stays on its line (control characters
/// become visible escapes), raw HTML shows as text, and it cannot open a heading, link, image,
/// code span, emphasis or table cell (`!` needs no escape: `[` is escaped, so no image opens).
pub fn markdown_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in escape(text).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '#' | '[' | ']' | '|' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

impl Printer {
    pub fn new(quiet: bool) -> Self {
        Self { quiet }
    }

    /// Write a result to stdout (shown even with `--quiet`).
    #[expect(clippy::unused_self, reason = "every write goes through the printer")]
    pub fn stdout(&self, text: &str) -> std::io::Result<()> {
        let text = escape_keeping_lines(text);
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
        let text = escape_keeping_lines(text);
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
            bar.println(escape_keeping_lines(text));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_fill_lines_within_the_width_and_are_never_split() {
        let parts: Vec<String> = [
            "  3.13.15t       parallel_compute            2 threads      20.4M ops_per_sec ±6.0%",
            "speedup 1.92x [1.30, 2.05]",
            "parallelism 1.88",
            "UNEQUAL CPUs in 3 of 15 samples (measured again)",
        ]
        .map(String::from)
        .to_vec();
        let text = join_within(&parts, 100, 6);
        assert!(text.lines().all(|l| l.chars().count() <= 100), "{text}");
        for part in &parts {
            assert!(text.contains(part.trim()), "{part} split in {text}");
        }
        assert_eq!(text.lines().count(), 2, "{text}");
        assert_eq!(join_within(&parts, 400, 6).lines().count(), 1);
    }

    #[test]
    fn wrapping_keeps_every_line_within_the_width() {
        let text = "unequal: The machine, not the code: threads given equal parts ran at the serial pace but some took longer than others; averyveryveryverylongwordthatdoesnotfitanywhereatallinthewidth end";
        for width in [20, 40, 57, 100] {
            let wrapped = wrap(text, width, 2);
            assert!(
                wrapped.lines().all(|l| l.chars().count() <= width),
                "{width}: {wrapped}"
            );
            let words: Vec<&str> = wrapped.split_whitespace().collect();
            assert_eq!(
                words.concat(),
                text.split_whitespace().collect::<Vec<_>>().concat(),
                "nothing lost at {width}"
            );
        }
        assert_eq!(wrap("short", 100, 2), "short\n");
    }

    #[test]
    fn control_characters_are_made_visible() {
        assert_eq!(escape("3.13t"), "3.13t");
        assert_eq!(escape("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(escape("x\ry\nz"), "x\\ry\\nz");
        assert_eq!(escape("\u{1b}]0;title\u{7}"), "\\u{1b}]0;title\\u{7}");
        assert_eq!(escape_keeping_lines("a\nb\u{1b}c\td"), "a\nb\\u{1b}c\td");
        // C1 controls (a single-byte CSI in some terminals) too.
        assert_eq!(escape("\u{9b}2J"), "\\u{9b}2J");
        // Bidirectional controls that make a name read backwards.
        assert_eq!(escape("3.13t\u{202E}lig+"), "3.13t\\u{202e}lig+");
        assert_eq!(escape("a\u{2066}b\u{2069}"), "a\\u{2066}b\\u{2069}");
        assert_eq!(escape_keeping_lines("x\u{200F}\ny"), "x\\u{200f}\ny");
        assert!(!markdown_escape("\u{202E}x").contains('\u{202E}'));
    }
}
