//! Ctrl-C and SIGTERM: recorded in flags that the runner checks between and during samples, so
//! a stopped run kills its worker, keeps its results file valid and exits 130 or 143. A second
//! signal exits at once.

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// Which signal asked the run to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// SIGINT (Ctrl-C): exit 130.
    Interrupt,
    /// SIGTERM: exit 143.
    Terminate,
}

impl Stop {
    /// How messages name the signal: `Ctrl-C` or `SIGTERM`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Interrupt => "Ctrl-C",
            Self::Terminate => "SIGTERM",
        }
    }

    /// The exit status of a run it stopped: 130 or 143, as shells report them.
    pub fn exit_code(self) -> u8 {
        match self {
            Self::Interrupt => crate::EXIT_INTERRUPTED,
            Self::Terminate => crate::EXIT_TERMINATED,
        }
    }
}

struct Flags {
    interrupt: Arc<AtomicBool>,
    terminate: Arc<AtomicBool>,
}

static FLAGS: OnceLock<Flags> = OnceLock::new();

/// Start recording SIGINT and SIGTERM instead of dying on them.
pub fn install() -> std::io::Result<()> {
    if FLAGS.get().is_some() {
        return Ok(());
    }
    let flags = Flags {
        interrupt: Arc::new(AtomicBool::new(false)),
        terminate: Arc::new(AtomicBool::new(false)),
    };
    // A second signal, while the first is still being handled (a worker shutting down, a report
    // being written), exits at once: workers die with ftbench (PR_SET_PDEATHSIG), and the
    // results file on disk is always a complete one. The conditional exit is registered first,
    // so it sees the flag as the previous signal left it.
    for (signal, flag, code) in [
        (
            signal_hook::consts::SIGINT,
            &flags.interrupt,
            crate::EXIT_INTERRUPTED,
        ),
        (
            signal_hook::consts::SIGTERM,
            &flags.terminate,
            crate::EXIT_TERMINATED,
        ),
    ] {
        signal_hook::flag::register_conditional_shutdown(
            signal,
            i32::from(code),
            Arc::clone(flag),
        )?;
        signal_hook::flag::register(signal, Arc::clone(flag))?;
    }
    let _ = FLAGS.set(flags);
    Ok(())
}

/// The signal that asked the run to stop, if any has.
pub fn requested() -> Option<Stop> {
    let flags = FLAGS.get()?;
    if flags.interrupt.load(Ordering::Relaxed) {
        Some(Stop::Interrupt)
    } else if flags.terminate.load(Ordering::Relaxed) {
        Some(Stop::Terminate)
    } else {
        None
    }
}
