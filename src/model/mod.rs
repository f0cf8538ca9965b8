//! The model at the bottom: what a results file holds (the run's settings, each test's facts,
//! the interpreters and the machine it ran on, every sample and point, the gates' decisions)
//! as plain data that imports nothing else of ftbench. Every stage above reads and builds
//! these types and adds its own behaviour to them in its own files: `results` loads, checks
//! and migrates them, `stats` summarises samples, `machine` and `interpreter` collect what
//! they describe.

pub mod gate;
pub mod interpreter;
pub mod machine;
pub mod results;
pub mod stats;
pub mod test;
pub mod threads;
