//! The machine the numbers come from: what it is ([`sysinfo`]), which CPUs a run may use and how
//! to pin to them ([`cpus`]), how fast each CPU is ([`probe`]), and whether it is ready to
//! measure ([`check`]).

pub mod check;
pub mod cpus;
pub mod probe;
pub mod sysinfo;
