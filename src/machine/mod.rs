//! The machine the numbers come from: what it is ([`sysinfo`]), which CPUs a run may use and how
//! to pin to them ([`cpus`]), how fast each CPU is ([`probe`]), and whether it is ready to
//! measure ([`check`], its findings as data in [`readiness`]), and what else is running on it ([`load`]: CPU counters, waiting for a
//! quiet machine).

pub mod check;
pub mod cpus;
pub mod load;
pub mod probe;
pub mod readiness;
pub mod sysinfo;
