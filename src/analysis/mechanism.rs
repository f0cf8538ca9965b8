//! The mechanism line of a differential profile: how much CPU per operation grew when the
//! threads were added, and which of CPython's mechanisms explains it (`runner::mechanism`).

use std::fmt::Write as _;

use crate::results::{DifferentialRecord, MechanismShare, ProfileRecord};
use crate::runner::mechanism::{MECHANISMS, NAMED_SHARE};

/// Growth below this is no growth worth explaining (the 2-core VM's noise is ~5%).
const GREW: f64 = 1.1;
/// A mechanism's own growth must be at least this share of the single-thread CPU per operation
/// to be named: below it, one-time costs (start-up, imports) and the VM's noise can reach it.
const SIGNIFICANT: f64 = 0.1;

/// Whether a mechanism's own growth is more than noise: at least a tenth of the single-thread
/// cost (one-time costs such as start-up and imports, and the VM's noise, stay below it).
fn grew_enough(mechanism: &MechanismShare, differential: &DifferentialRecord) -> bool {
    mechanism.ns_per_op - mechanism.serial_ns_per_op >= SIGNIFICANT * differential.serial_ns_per_op
}

/// One sentence, e.g. "CPU per operation grew 3.4x at 2 threads; 71% of the growth is in locks
/// (`_PyMutex_LockTimed`, `futex`): a lock every thread takes".
pub fn sentence(differential: &DifferentialRecord) -> String {
    let threads = crate::format::threads(differential.thread_count);
    let growth = differential.growth;
    let mut text = if !growth.is_finite() {
        format!("CPU per operation at {threads} could not be compared with one thread")
    } else if growth < GREW {
        format!(
            "CPU per operation barely grew at {threads} ({growth:.2}x against one thread): no mechanism to name"
        )
    } else {
        let grew = format!("CPU per operation grew {growth:.1}x at {threads}");
        // A mechanism is named when it explains a good part of the growth, and that part is
        // itself more than noise.
        let significant =
            |m: &&MechanismShare| m.share >= NAMED_SHARE && grew_enough(m, differential);
        match differential.mechanisms.first().filter(significant) {
            Some(top) => {
                let meaning = MECHANISMS
                    .iter()
                    .find(|m| m.name == top.name)
                    .map_or("", |m| m.meaning);
                let symbols = if top.symbols.is_empty() {
                    String::new()
                } else {
                    format!(
                        " ({})",
                        top.symbols
                            .iter()
                            .take(3)
                            .map(|s| format!("`{}`", crate::output::escape(s)))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                let mut text = format!(
                    "{grew}; {:.0}% of the growth is in {}{symbols}: {meaning}",
                    top.share.min(1.0) * 100.0,
                    top.name
                );
                let others: Vec<String> = differential
                    .mechanisms
                    .iter()
                    .skip(1)
                    .filter(|m| m.share >= 0.1 && grew_enough(m, differential))
                    .map(|m| format!("{:.0}% in {}", m.share * 100.0, m.name))
                    .collect();
                if !others.is_empty() {
                    text.push_str("; ");
                    text.push_str(&others.join(", "));
                }
                if differential.unattributed >= 0.05 {
                    let _ = write!(
                        text,
                        "; {:.0}% unattributed",
                        differential.unattributed * 100.0
                    );
                }
                text
            }
            None => format!(
                "{grew}, but no mechanism accounts for a significant part of it{}",
                differential
                    .mechanisms
                    .first()
                    .filter(|m| m.share > 0.0)
                    .map(|m| format!(" (the largest, {}, {:.0}%)", m.name, m.share * 100.0))
                    .unwrap_or_default()
            ),
        }
    };
    if !differential.debug_info {
        text.push_str(
            " (this build has no debug information: code inlined into the evaluation loop, such as `Py_INCREF`'s atomics, counts as the loop's own)",
        );
    }
    text
}

/// The line of a process pool's differential: processes share nothing, so no mechanism of
/// the interpreter is shared either; what grows is the pool's own cost.
fn process_sentence(differential: &DifferentialRecord) -> String {
    let threads = crate::results::Workers::Processes.count(differential.thread_count);
    format!(
        "CPU per operation at {threads} is {:.2}x one process's: processes share no object, lock or reference count, so what grows is the pool's own cost (starting processes, the memory each copies, pickling through pipes) and the machine's",
        differential.growth
    )
}

/// The line of one differential: a process pool's ([`process_sentence`]) or the mechanism
/// line ([`sentence`]).
pub fn line(differential: &DifferentialRecord, processes: bool) -> String {
    if processes {
        process_sentence(differential)
    } else {
        sentence(differential)
    }
}

/// The line of each profile that has a differential: `(test, label, line)`. `processes` says
/// which tests run in processes.
pub fn lines(
    profiles: &[ProfileRecord],
    processes: impl Fn(&str) -> bool,
) -> Vec<(String, String, String)> {
    profiles
        .iter()
        .filter_map(|p| {
            let differential = p.differential.as_ref()?;
            let line = line(differential, processes(&p.test));
            Some((p.test.clone(), p.label.clone(), line))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(growth: f64, shares: &[(&str, f64)], debug_info: bool) -> DifferentialRecord {
        DifferentialRecord {
            thread_count: 2,
            serial_ns_per_op: 100.0,
            ns_per_op: 100.0 * growth,
            growth,
            mechanisms: shares
                .iter()
                .map(|(name, share)| MechanismShare {
                    name: (*name).to_string(),
                    serial_ns_per_op: 10.0,
                    ns_per_op: 10.0 + share * 100.0 * (growth - 1.0),
                    share: *share,
                    symbols: vec!["_PyMutex_LockTimed".into(), "futex_wait".into()],
                })
                .collect(),
            unattributed: 1.0 - shares.iter().map(|s| s.1).sum::<f64>(),
            top_self: vec![],
            top_inclusive: vec![],
            serial_file: String::new(),
            file: String::new(),
            debug_info,
        }
    }

    #[test]
    fn the_line_names_the_mechanism_its_share_and_what_it_means() {
        assert_eq!(
            sentence(&record(
                3.4,
                &[("locks", 0.71), ("reference counts", 0.12)],
                true
            )),
            "CPU per operation grew 3.4x at 2 threads; 71% of the growth is in locks (`_PyMutex_LockTimed`, `futex_wait`): a lock every thread takes; 12% in reference counts; 17% unattributed"
        );
    }

    #[test]
    fn thin_growth_and_no_growth_name_nothing() {
        assert!(sentence(&record(1.8, &[("locks", 0.2)], true)).contains(
            "but no mechanism accounts for a significant part of it (the largest, locks, 20%)"
        ));
        assert!(sentence(&record(1.03, &[], true)).contains("barely grew"));
        assert!(sentence(&record(3.0, &[("locks", 0.9)], false)).contains("no debug information"));
    }
}
