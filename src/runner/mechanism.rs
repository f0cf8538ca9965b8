//! What inside CPython grew when the threads were added: a differential profile of one point
//! (the single-thread run and the multi-thread run of the same work), each stack's CPU divided
//! by the operations done, and the growth attributed to the mechanisms free-threading is known
//! to contend on.
//!
//! [`MECHANISMS`] is the one table that maps CPython's symbols (and the functions inlined into
//! others, which `profile::Inliner` recovers from debug information) to a mechanism. A
//! sample's mechanism is read from its own C code only: the frames from the leaf up to the
//! first Python frame or evaluation loop, so that a Python function's caller never decides what
//! the sample was doing. Where several entries match there, the first in the table wins: a
//! critical section waits in a `PyMutex`, and is a critical section.

use std::collections::BTreeMap;

use crate::results::{DifferentialRecord, MechanismShare, SymbolGrowth};

/// One mechanism: its name, what it means to the user, and the frame-name prefixes that say a
/// sample is in it.
pub struct Mechanism {
    pub name: &'static str,
    /// Completes "…% of the growth is in {name}: {meaning}".
    pub meaning: &'static str,
    pub prefixes: &'static [&'static str],
}

/// The mechanisms, the most specific first. Each entry cites where CPython (3.13; 3.14 where it
/// moved) defines what it matches.
pub const MECHANISMS: &[Mechanism] = &[
    // Modules/_functoolsmodule.c: `lru_cache_call` holds a critical section on the cache for
    // the whole bounded call (python/cpython#131757).
    Mechanism {
        name: "functools.lru_cache",
        meaning: "one cache that every thread's calls go through",
        prefixes: &[
            "lru_cache_call",
            "bounded_lru_cache_wrapper",
            "infinite_lru_cache_wrapper",
            "bounded_lru_cache_get_lock_held",
            "bounded_lru_cache_update_lock_held",
        ],
    },
    // Objects/typeobject.c: `_PyType_Lookup` (3.14: `_PyType_LookupRef`) and `type_setattro`
    // take TYPE_LOCK on a cache miss or a change; `PyType_Modified` invalidates the type
    // attribute cache (python/cpython#132380).
    Mechanism {
        name: "the type attribute cache",
        meaning: "threads changing or looking up attributes of one class",
        prefixes: &[
            "_PyType_Lookup",
            "_PyType_LookupRef",
            "find_name_in_mro",
            "type_setattro",
            "PyType_Modified",
            "type_modified_unlocked",
            "_PyType_SetVersion",
            "set_version_unlocked",
            "assign_version_tag",
            "update_slot",
            "update_one_slot",
        ],
    },
    // Python/critical_section.c and Include/internal/pycore_critical_section.h: the per-object
    // lock of dicts, lists and sets (`Py_BEGIN_CRITICAL_SECTION`), slow path when another
    // thread holds it.
    Mechanism {
        name: "critical sections",
        meaning: "one dict, list or set that every thread changes",
        prefixes: &[
            "_PyCriticalSection_BeginSlow",
            "_PyCriticalSection2_BeginSlow",
            "_PyCriticalSection_Resume",
            "_PyCriticalSection_SuspendAll",
            "_PyCriticalSection_Begin",
            "_PyCriticalSection2_Begin",
            "_PyCriticalSection_End",
            "PyCriticalSection_Begin",
            "PyCriticalSection2_Begin",
        ],
    },
    // Python/gc_free_threading.c (the collector), Python/pystate.c (`_PyEval_StopTheWorld`),
    // Python/qsbr.c (safe memory reclamation).
    Mechanism {
        name: "garbage collection and stop-the-world pauses",
        meaning: "collections that stop every thread",
        prefixes: &[
            "_PyGC_Collect",
            "gc_collect_main",
            "gc_collect_internal",
            "_PyGC_",
            "gc_visit",
            "gc_mark",
            "update_refs",
            "_PyEval_StopTheWorld",
            "_PyEval_StartTheWorld",
            "stop_the_world",
            "start_the_world",
            "park_detached_threads",
            "_Py_qsbr_",
            "_PyMem_ProcessDelayed",
        ],
    },
    // Python/lock.c (`PyMutex`), Python/parking_lot.c, Python/thread_pthread.h and
    // Modules/_threadmodule.c (`threading.Lock`); futex waits in the kernel and glibc.
    Mechanism {
        name: "locks",
        meaning: "a lock every thread takes",
        prefixes: &[
            "_PyMutex_LockTimed",
            "_PyMutex_LockSlow",
            "_PyMutex_TryUnlock",
            "_PyMutex_UnlockSlow",
            "PyMutex_Lock",
            "PyMutex_Unlock",
            "PyMutex_LockFast",
            "_PyParkingLot_",
            "_PySemaphore_",
            "_PyRecursiveMutex_",
            "_PyRWMutex_",
            "PyEvent_Wait",
            "_PyOnceFlag_",
            "lock_PyThread_acquire_lock",
            "lock_PyThread_release_lock",
            "lock_acquire",
            "lock_release",
            "rlock_acquire",
            "rlock_release",
            "PyThread_acquire_lock",
            "PyThread_release_lock",
            "acquire_timed",
            "pthread_mutex_",
            "pthread_cond_",
            "__pthread_mutex",
            "___pthread_mutex",
            "__lll_lock",
            "sem_wait",
            "sem_clockwait",
            "sem_timedwait",
            "sem_post",
            "__new_sem",
            "do_futex",
            "futex",
            "__futex",
            "__x64_sys_futex",
        ],
    },
    // Include/object.h (3.14: Include/refcount.h): `Py_INCREF`/`Py_DECREF` inlined everywhere,
    // atomic on an object another thread owns; Objects/object.c (`_Py_DecRefShared`,
    // `_Py_MergeZeroLocalRefcount`) and Python/brc.c (biased reference counting's queue).
    Mechanism {
        name: "reference counts",
        meaning: "one object every thread takes references to",
        prefixes: &[
            "Py_INCREF",
            "Py_DECREF",
            "Py_XINCREF",
            "Py_XDECREF",
            "Py_NewRef",
            "Py_XNewRef",
            "_Py_NewRef",
            "Py_SETREF",
            "Py_CLEAR",
            "_Py_IncRef",
            "_Py_DecRef",
            "_Py_DecRefShared",
            "_Py_DecRefSharedDebug",
            "_Py_MergeZeroLocalRefcount",
            "_Py_ExplicitMergeRefcount",
            "_Py_TryIncref",
            "_Py_TryIncRefShared",
            "_Py_brc_",
            "_PyObject_SetMaybeWeakref",
            "_Py_IsOwnedByCurrentThread",
        ],
    },
    // Objects/mimalloc/ (page.c, segment.c, free.c): pages freed by another thread go through
    // their owner's delayed-free list.
    Mechanism {
        name: "the memory allocator (mimalloc)",
        meaning: "memory allocated by one thread and freed by another",
        prefixes: &[
            "_mi_",
            "mi_",
            "_PyObject_MiMalloc",
            "_PyObject_MiFree",
            "_PyMem_Mi",
        ],
    },
];

/// Below this share of the growth no mechanism is named: the growth is spread thin.
pub const NAMED_SHARE: f64 = 0.25;

/// How many functions each ranking keeps.
const TOP: usize = 10;

/// Whether a frame is Python code or the evaluation loop: above it, the sample's own C code
/// ends.
fn is_python(frame: &str) -> bool {
    frame.starts_with("py::") || frame.starts_with("_PyEval_EvalFrameDefault")
}

/// A frame's name without inferno's annotations (`_[k]` kernel, `_[i]` inlined).
fn bare(frame: &str) -> &str {
    frame
        .strip_suffix("_[k]")
        .or_else(|| frame.strip_suffix("_[i]"))
        .or_else(|| frame.strip_suffix("_[j]"))
        .unwrap_or(frame)
}

/// The mechanism of one stack (frames root first) and the frame that named it.
pub fn mechanism_of<'a>(frames: &[&'a str]) -> Option<(&'static Mechanism, &'a str)> {
    let mut own: Vec<&str> = Vec::new();
    for frame in frames.iter().rev() {
        own.push(frame);
        if is_python(bare(frame)) {
            break;
        }
    }
    for mechanism in MECHANISMS {
        for frame in &own {
            let name = bare(frame);
            if mechanism.prefixes.iter().any(|p| name.starts_with(p)) {
                return Some((mechanism, name));
            }
        }
    }
    None
}

/// CPU per operation of each folded stack, and in total: folded lines (`a;b;c COUNT`, counts in
/// ns of CPU) divided by `operations`.
struct PerOperation {
    stacks: Vec<(Vec<String>, f64)>,
    total: f64,
}

impl PerOperation {
    fn of(lines: &[String], operations: u64) -> Self {
        let operations = operations.max(1) as f64;
        let mut stacks = Vec::new();
        let mut total = 0.0;
        for line in lines {
            let Some((stack, count)) = line.rsplit_once(' ') else {
                continue;
            };
            let Ok(count) = count.parse::<u64>() else {
                continue;
            };
            let per = count as f64 / operations;
            total += per;
            stacks.push((stack.split(';').map(str::to_string).collect(), per));
        }
        Self { stacks, total }
    }

    /// CPU per operation by key, each stack counted once per distinct key it yields.
    fn by<F>(&self, keys: F) -> BTreeMap<String, f64>
    where
        F: Fn(&[&str]) -> Vec<String>,
    {
        let mut out: BTreeMap<String, f64> = BTreeMap::new();
        for (frames, per) in &self.stacks {
            let frames: Vec<&str> = frames.iter().map(String::as_str).collect();
            let mut seen: Vec<String> = Vec::new();
            for key in keys(&frames) {
                if !seen.contains(&key) {
                    *out.entry(key.clone()).or_default() += per;
                    seen.push(key);
                }
            }
        }
        out
    }
}

/// The functions whose cost per operation grew most, from the per-key costs of both runs.
fn ranked(one: &BTreeMap<String, f64>, many: &BTreeMap<String, f64>) -> Vec<SymbolGrowth> {
    let mut growth: Vec<SymbolGrowth> = many
        .keys()
        .chain(one.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|symbol| {
            let before = one.get(symbol).copied().unwrap_or(0.0);
            let after = many.get(symbol).copied().unwrap_or(0.0);
            SymbolGrowth {
                symbol: symbol.clone(),
                serial_ns_per_op: before,
                ns_per_op: after,
            }
        })
        .filter(|g| g.ns_per_op > g.serial_ns_per_op)
        .collect();
    growth.sort_by(|a, b| {
        (b.ns_per_op - b.serial_ns_per_op).total_cmp(&(a.ns_per_op - a.serial_ns_per_op))
    });
    growth.truncate(TOP);
    growth
}

/// Compare the single-thread run (`serial`: folded lines and operations) with the
/// multi-thread run of the same work (`threaded`), at `thread_count` threads.
pub fn differential(
    serial: (&[String], u64),
    threaded: (&[String], u64),
    thread_count: u32,
) -> DifferentialRecord {
    let one = PerOperation::of(serial.0, serial.1);
    let many = PerOperation::of(threaded.0, threaded.1);
    let growth = many.total - one.total;
    // Each stack has one mechanism at most, named by one frame: a mechanism's cost is the sum
    // of its frames'.
    let symbol_key = |frames: &[&str]| {
        mechanism_of(frames)
            .map(|(m, symbol)| vec![format!("{}\u{0}{}", m.name, symbol)])
            .unwrap_or_default()
    };
    let symbols_one = one.by(symbol_key);
    let symbols_many = many.by(symbol_key);
    let mut mechanisms: Vec<MechanismShare> = MECHANISMS
        .iter()
        .map(|m| {
            let total = |symbols: &BTreeMap<String, f64>| -> f64 {
                symbols
                    .iter()
                    .filter(|(key, _)| key.split_once('\u{0}').is_some_and(|k| k.0 == m.name))
                    .map(|(_, cost)| cost)
                    .sum()
            };
            let (before, after) = (total(&symbols_one), total(&symbols_many));
            let mut symbols: Vec<(String, f64)> = symbols_many
                .iter()
                .filter_map(|(key, after)| {
                    let (name, symbol) = key.split_once('\u{0}')?;
                    (name == m.name).then(|| {
                        let before = symbols_one.get(key).copied().unwrap_or(0.0);
                        (symbol.to_string(), after - before)
                    })
                })
                .filter(|(_, grew)| *grew > 0.0)
                .collect();
            symbols.sort_by(|a, b| b.1.total_cmp(&a.1));
            MechanismShare {
                name: m.name.to_string(),
                serial_ns_per_op: before,
                ns_per_op: after,
                share: if growth > 0.0 {
                    (after - before) / growth
                } else {
                    0.0
                },
                symbols: symbols.into_iter().take(4).map(|(s, _)| s).collect(),
            }
        })
        .filter(|m| m.ns_per_op > 0.0 || m.serial_ns_per_op > 0.0)
        .collect();
    mechanisms.sort_by(|a, b| b.share.total_cmp(&a.share));
    let attributed: f64 = mechanisms.iter().map(|m| m.share.max(0.0)).sum();
    let leaf = |frames: &[&str]| {
        frames
            .last()
            .map(|f| vec![bare(f).to_string()])
            .unwrap_or_default()
    };
    // The root frame (the command's name) is in every stack: it says nothing.
    let inclusive = |frames: &[&str]| frames.iter().skip(1).map(|f| bare(f).to_string()).collect();
    DifferentialRecord {
        thread_count,
        serial_ns_per_op: one.total,
        ns_per_op: many.total,
        growth: if one.total > 0.0 {
            many.total / one.total
        } else {
            f64::NAN
        },
        mechanisms,
        unattributed: if growth > 0.0 {
            (1.0 - attributed).max(0.0)
        } else {
            0.0
        },
        top_self: ranked(&one.by(leaf), &many.by(leaf)),
        top_inclusive: ranked(&one.by(inclusive), &many.by(inclusive)),
        serial_file: String::new(),
        file: String::new(),
        debug_info: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &[&str]) -> Vec<String> {
        text.iter().map(|l| (*l).to_string()).collect()
    }

    #[test]
    fn a_sample_is_named_by_its_own_c_code_the_most_specific_first() {
        fn by(stack: &str) -> Option<(&'static str, &str)> {
            let frames: Vec<&str> = stack.split(';').collect();
            mechanism_of(&frames).map(|(m, s)| (m.name, s))
        }
        assert_eq!(
            by("python;py::work;_PyEval_EvalFrameDefault;Py_INCREF_[i];_Py_atomic_add_ssize_[i]"),
            Some(("reference counts", "Py_INCREF"))
        );
        assert_eq!(
            by(
                "python;py::work;_PyEval_EvalFrameDefault;dict_ass_sub;_PyCriticalSection_BeginSlow;_PyMutex_LockTimed;_PyParkingLot_Park;futex_wait_[k]"
            ),
            Some(("critical sections", "_PyCriticalSection_BeginSlow"))
        );
        assert_eq!(
            by(
                "python;py::work;_PyEval_EvalFrameDefault;lock_PyThread_acquire_lock;_PySemaphore_Wait"
            ),
            Some(("locks", "_PySemaphore_Wait"))
        );
        // A lock taken by a caller above the Python frame does not name the sample.
        assert_eq!(
            by("python;lock_PyThread_acquire_lock;py::work;_PyEval_EvalFrameDefault;long_add"),
            None
        );
    }

    #[test]
    fn growth_per_operation_is_shared_among_mechanisms() {
        // 1 thread: 1000 ops, 100 ns/op in the loop, 20 ns/op in refcounts.
        let serial = lines(&[
            "python;py::work;_PyEval_EvalFrameDefault 100000",
            "python;py::work;_PyEval_EvalFrameDefault;_Py_DecRefShared 20000",
        ]);
        // 2 threads, the same 1000 ops: refcounts grew by 80 ns/op, the loop by 20.
        let threaded = lines(&[
            "python;py::work;_PyEval_EvalFrameDefault 120000",
            "python;py::work;_PyEval_EvalFrameDefault;_Py_DecRefShared 100000",
        ]);
        let record = differential((&serial, 1000), (&threaded, 1000), 2);
        assert!((record.growth - 220.0 / 120.0).abs() < 1e-9);
        assert_eq!(record.mechanisms[0].name, "reference counts");
        assert!((record.mechanisms[0].share - 0.8).abs() < 1e-9);
        assert_eq!(record.mechanisms[0].symbols, ["_Py_DecRefShared"]);
        assert!((record.unattributed - 0.2).abs() < 1e-9);
        assert_eq!(record.top_self[0].symbol, "_Py_DecRefShared");
        assert!(
            record
                .top_inclusive
                .iter()
                .any(|g| g.symbol == "_Py_DecRefShared" && (g.ns_per_op - 100.0).abs() < 1e-9)
        );
        assert!(record.top_inclusive.iter().all(|g| g.symbol != "python"));
    }
}
