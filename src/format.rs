//! Names and numbers as people read them, shared by every command and renderer.

/// A thread count as a phrase: `serial`, `1 thread`, `8 threads` (0 is the serial baseline).
pub fn threads(thread_count: u32) -> String {
    match thread_count {
        0 => "serial".to_string(),
        1 => "1 thread".to_string(),
        n => format!("{n} threads"),
    }
}

/// FNV-1a of `text`: the same on every build and platform (std's hashers are not), so what is
/// derived from it (file names, colours) stays the same from report to report.
pub fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A file name made from data (a test name, a label): ASCII letters, digits, `.`, `_` and `-`
/// only, never starting with `.`, at most 80 characters. A name that had to change gets a short
/// hash of the original, so two names that differ only in unsafe characters stay two files.
pub fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        // A dot stays only after a letter or digit (`3.13t`), so `../` runs become one `-`.
        let keep = c.is_ascii_alphanumeric()
            || matches!(c, '_' | '-')
            || (c == '.' && out.ends_with(|p: char| p.is_ascii_alphanumeric()));
        let c = if keep { c } else { '-' };
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    let trimmed: String = out
        .trim_start_matches(['.', '-'])
        .trim_end_matches('-')
        .chars()
        .take(80)
        .collect();
    if trimmed == name && !trimmed.is_empty() {
        return trimmed;
    }
    let hash = stable_hash(name);
    let stem = if trimmed.is_empty() { "x" } else { &trimmed };
    format!("{stem}-{:08x}", hash & 0xffff_ffff)
}

/// A number in engineering style: `13.4M`, `952k`, `3.21`, `0.0123`.
pub fn human(value: f64) -> String {
    let magnitude = value.abs();
    let (scaled, suffix) = if magnitude >= 1e9 {
        (value / 1e9, "G")
    } else if magnitude >= 1e6 {
        (value / 1e6, "M")
    } else if magnitude >= 1e4 {
        (value / 1e3, "k")
    } else {
        (value, "")
    };
    let digits = if scaled.abs() >= 100.0 {
        0
    } else if scaled.abs() >= 10.0 {
        1
    } else if scaled.abs() >= 0.1 || scaled == 0.0 {
        2
    } else {
        4
    };
    format!("{scaled:.digits$}{suffix}")
}

/// A duration in seconds with a fitting unit: `1.23 s`, `12.3 ms`, `1.17 µs`, `850 ns`.
pub fn seconds(value: f64) -> String {
    let (scaled, unit) = if value >= 1.0 {
        (value, "s")
    } else if value >= 1e-3 {
        (value * 1e3, "ms")
    } else if value >= 1e-6 {
        (value * 1e6, "µs")
    } else {
        (value * 1e9, "ns")
    };
    let digits = if scaled >= 100.0 {
        0
    } else if scaled >= 10.0 {
        1
    } else {
        2
    };
    format!("{scaled:.digits$} {unit}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn thread_counts_read_as_words() {
        assert_eq!(super::threads(0), "serial");
        assert_eq!(super::threads(1), "1 thread");
        assert_eq!(super::threads(16), "16 threads");
    }
}
