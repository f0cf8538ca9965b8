//! Ctrl-C and SIGTERM: recorded in flags that the runner checks between and during samples, so
//! a stopped run kills its worker, keeps its results file valid and exits 130 or 143.

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
    signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&flags.interrupt))?;
    signal_hook::flag::register(signal_hook::consts::SIGTERM, Arc::clone(&flags.terminate))?;
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
