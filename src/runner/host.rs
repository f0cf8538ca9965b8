//! The machine as the runner sees it: other work's CPU use around each worker process, how
//! fast the CPUs are right now, waiting for a quiet machine, and whether a signal asked the run
//! to stop. [`Real`] reads Linux's counters and the signal flags; tests inject a scripted one.

use crate::interrupt::{self, Stop};
use crate::machine::{load, probe};

/// What the runner asks of the machine it measures on.
pub trait Host {
    /// A new (test, label) begins: a fresh budget for waiting.
    fn next_pair(&mut self);
    /// A worker process is about to start: begin watching other work.
    fn before_process(&mut self);
    /// The worker process ended: whether other work took CPUs that its `needed` threads
    /// needed since [`Host::before_process`].
    fn disturbed(&mut self, needed: u32) -> bool;
    /// Whether waiting for a quiet machine and measuring again still make sense.
    fn willing(&self) -> bool;
    /// Wait (within the pair's budget) until other work leaves `needed` CPUs free, saying
    /// what it waits for through `say`.
    fn wait_for_quiet(&mut self, needed: u32, say: &dyn Fn(&str));
    /// How much slower the CPUs in `cpus` run right now with all of them busy than alone.
    fn slowdown(&mut self, cpus: &[u32]) -> Option<f64>;
    /// Whether a signal asked the run to stop.
    fn stop_requested(&self) -> Option<Stop>;
}

/// This machine: `/proc` counters, a CPU probe and the signal flags.
#[derive(Debug, Default)]
pub struct Real {
    before: Option<load::Counters>,
    patience: load::Patience,
}

impl Host for Real {
    fn next_pair(&mut self) {
        self.patience.next_pair();
    }

    fn before_process(&mut self) {
        self.before = Some(load::Counters::read());
    }

    fn disturbed(&mut self, needed: u32) -> bool {
        self.before
            .take()
            .and_then(|before| before.until(&load::Counters::read()))
            .is_some_and(|l| l.disturbs(needed))
    }

    fn willing(&self) -> bool {
        self.patience.willing()
    }

    fn wait_for_quiet(&mut self, needed: u32, say: &dyn Fn(&str)) {
        self.patience
            .wait(needed, say, &|| interrupt::requested().is_some());
    }

    fn slowdown(&mut self, cpus: &[u32]) -> Option<f64> {
        probe::slowdown_now(cpus)
    }

    fn stop_requested(&self) -> Option<Stop> {
        interrupt::requested()
    }
}
