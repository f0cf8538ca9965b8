//! CPU lists as taskset and `/sys` write them (`0-7,16`), the CPUs this process may run on, and
//! pinning a thread to some of them (`--cpus`).

use std::fmt::Write as _;

/// A CPU list that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    #[error("`{text}` is not a CPU list: `{part}` is not a CPU number or a range like 0-7")]
    Syntax { text: String, part: String },
    #[error("`{text}` names no CPU")]
    Empty { text: String },
    #[error(
        "CPU{plural} {cpus} {verb} not usable by this process (usable: {usable}; `taskset`, a container or a cgroup may restrict them)",
        plural = if .cpus.contains(',') || .cpus.contains('-') { "s" } else { "" },
        verb = if .cpus.contains(',') || .cpus.contains('-') { "are" } else { "is" }
    )]
    NotUsable { cpus: String, usable: String },
}

/// The largest CPU number accepted, far above any machine's: a typo like `0-99999999` must not
/// build a list of a hundred million entries.
const MAX_CPU: u32 = 65_535;

/// Parse `0-3,8,10-11` into sorted, distinct CPU numbers.
pub fn parse(text: &str) -> Result<Vec<u32>, Error> {
    let syntax = |part: &str| Error::Syntax {
        text: text.to_string(),
        part: part.to_string(),
    };
    let number = |part: &str, value: &str| -> Result<u32, Error> {
        let value = value.trim();
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(syntax(part));
        }
        value
            .parse::<u32>()
            .ok()
            .filter(|n| *n <= MAX_CPU)
            .ok_or_else(|| syntax(part))
    };
    // Ranges merge as they come: `0-65535` given 16 000 times holds 65 536 numbers once, never
    // a billion entries before their duplicates go.
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (low, high) = if let Some((low, high)) = part.split_once('-') {
            (number(part, low)?, number(part, high)?)
        } else {
            let cpu = number(part, part)?;
            (cpu, cpu)
        };
        if low > high {
            return Err(syntax(part));
        }
        if !ranges.iter().any(|&(l, h)| l <= low && high <= h) {
            ranges.push((low, high));
            if ranges.len() > 256 {
                ranges = merge(ranges);
            }
        }
    }
    if ranges.is_empty() {
        return Err(Error::Empty {
            text: text.to_string(),
        });
    }
    Ok(merge(ranges)
        .into_iter()
        .flat_map(|(low, high)| low..=high)
        .collect())
}

/// Sorted ranges that neither overlap nor touch.
fn merge(mut ranges: Vec<(u32, u32)>) -> Vec<(u32, u32)> {
    ranges.sort_unstable();
    let mut merged: Vec<(u32, u32)> = Vec::with_capacity(ranges.len());
    for (low, high) in ranges {
        match merged.last_mut() {
            Some(last) if low <= last.1.saturating_add(1) => last.1 = last.1.max(high),
            _ => merged.push((low, high)),
        }
    }
    merged
}

/// `[0, 1, 2, 3, 8]` as `0-3,8`.
pub fn format(cpus: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < cpus.len() {
        let start = cpus[i];
        let mut end = start;
        while i + 1 < cpus.len() && cpus[i + 1] == end + 1 {
            end += 1;
            i += 1;
        }
        if !out.is_empty() {
            out.push(',');
        }
        if end == start {
            let _ = write!(out, "{start}");
        } else {
            let _ = write!(out, "{start}-{end}");
        }
        i += 1;
    }
    out
}

/// The CPUs this process may run on (its affinity), in order; all `available_parallelism` CPUs
/// counted from 0 where the affinity cannot be read.
pub fn allowed() -> Vec<u32> {
    #[cfg(target_os = "linux")]
    if let Ok(set) = nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0)) {
        let cpus: Vec<u32> = (0..nix::sched::CpuSet::count())
            .filter(|&cpu| set.is_set(cpu).unwrap_or(false))
            .map(|cpu| cpu as u32)
            .collect();
        if !cpus.is_empty() {
            return cpus;
        }
    }
    let count = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    (0..count as u32).collect()
}

/// `wanted` if every CPU of it is usable by this process, else one error naming those that are
/// not.
pub fn check_usable(wanted: &[u32]) -> Result<Vec<u32>, Error> {
    let usable = allowed();
    let missing: Vec<u32> = wanted
        .iter()
        .copied()
        .filter(|cpu| !usable.contains(cpu))
        .collect();
    if missing.is_empty() {
        Ok(wanted.to_vec())
    } else {
        Err(Error::NotUsable {
            cpus: format(&missing),
            usable: format(&usable),
        })
    }
}

/// Run the calling thread only on `cpus` from now on (the kernel moves it at once). Threads it
/// starts inherit the set.
pub fn pin_current_thread(cpus: &[u32]) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        let mut set = nix::sched::CpuSet::new();
        for &cpu in cpus {
            set.set(cpu as usize).map_err(std::io::Error::from)?;
        }
        nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set)
            .map_err(std::io::Error::from)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = cpus;
        Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "pinning threads to CPUs needs Linux",
        ))
    }
}

/// The calling thread's CPU time so far, in nanoseconds (`CLOCK_THREAD_CPUTIME_ID`: exact, where
/// `getrusage(RUSAGE_THREAD)` is tick-based and read 1.5 for two threads that both ran).
pub fn thread_cpu_ns() -> u64 {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID).map_or(0, |t| {
        t.tv_sec().max(0) as u64 * 1_000_000_000 + t.tv_nsec().max(0) as u64
    })
}

/// `cpus`, or every CPU this process may use where it is empty (`--cpus` not given, or a file
/// from before it).
pub fn or_allowed(cpus: &[u32]) -> Vec<u32> {
    if cpus.is_empty() {
        allowed()
    } else {
        cpus.to_vec()
    }
}

/// The CPU the calling thread runs on now, where the OS tells.
pub fn current() -> Option<u32> {
    #[cfg(target_os = "linux")]
    {
        nix::sched::sched_getcpu().ok().map(|cpu| cpu as u32)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse_as_taskset_writes_them() {
        assert_eq!(parse("0-3,8").unwrap(), vec![0, 1, 2, 3, 8]);
        assert_eq!(parse(" 5, 1,1 ,2-3 ").unwrap(), vec![1, 2, 3, 5]);
        assert_eq!(parse("7").unwrap(), vec![7]);
        for bad in ["a", "1-", "-1", "3-1", "1.5", "0-99999999", "1--2", "+1"] {
            assert!(
                matches!(parse(bad), Err(Error::Syntax { .. })),
                "{bad}: {:?}",
                parse(bad)
            );
        }
        assert_eq!(
            parse(" , "),
            Err(Error::Empty {
                text: " , ".to_string()
            })
        );
    }

    #[test]
    fn repeated_ranges_cost_their_distinct_cpus_only() {
        let text = vec!["0-65535"; 16_000].join(",");
        let start = std::time::Instant::now();
        let cpus = parse(&text).unwrap();
        assert_eq!(cpus.len(), 65_536);
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
        assert_eq!(parse("3,1,1,0-2,2").unwrap(), [0, 1, 2, 3]);
        assert_eq!(parse("5-7,1-2,3").unwrap(), [1, 2, 3, 5, 6, 7]);
    }

    #[test]
    fn lists_format_as_ranges() {
        assert_eq!(format(&[0, 1, 2, 3, 8, 10, 11]), "0-3,8,10-11");
        assert_eq!(format(&[4]), "4");
        assert_eq!(format(&[]), "");
        for text in ["0-3,8", "1,3,5", "0-15"] {
            assert_eq!(format(&parse(text).unwrap()), text);
        }
    }

    #[test]
    fn this_process_has_usable_cpus_and_refuses_others() {
        let usable = allowed();
        assert!(!usable.is_empty());
        assert_eq!(check_usable(&usable).unwrap(), usable);
        let err = check_usable(&[MAX_CPU]).unwrap_err();
        assert!(err.to_string().contains("CPU 65535 is not usable"), "{err}");
    }

    #[test]
    fn a_pinned_thread_runs_where_it_was_pinned() {
        let usable = allowed();
        let last = *usable.last().unwrap();
        std::thread::spawn(move || {
            pin_current_thread(&[last]).unwrap();
            assert_eq!(current(), Some(last));
        })
        .join()
        .unwrap();
    }
}
