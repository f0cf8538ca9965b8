#![expect(
    clippy::print_stderr,
    reason = "tests say why they skip and what they measured"
)]
#![expect(
    clippy::too_many_lines,
    reason = "an end-to-end test reads best as one story"
)]

//! Integration tests: the `ftbench` binary on real interpreters (the provisioned 3.13 / 3.13t
//! pair) and on fake ones (shell scripts posing as Python).

/// `ftbench audit`: which distributions turn the GIL on, hostile imports as data.
mod audit;
/// Shared helpers: the binary, test interpreters, fake interpreters, temp dirs.
mod common;
/// Comparisons, the history store and its errors.
mod compare;
/// Unequal CPUs: each thread's own time, the per-CPU probe, `--cpus`, verdicts that name the
/// machine.
mod cpus;
/// Faults: timeouts, crashes, protocol breaks, checksums, Ctrl-C and `--resume`, bad input.
mod faults;
/// A fleet: machines sharing a PostgreSQL store, the dashboard.
mod fleet;
/// Gates for CI (`--fail-if`): two versions of the user's code, outcomes, exit codes, what CI
/// systems read.
mod gates;
/// Results files from someone else, hostile workers and outputs: security and data safety.
mod hostile;
/// `ftbench python install` from a python.org-layout mirror.
mod install;
/// `ftbench pythons`, `sysinfo`, spec resolution and every bad-interpreter error.
mod interpreters;
/// Other work on the machine: disturbed points, waiting, parallelism, `ftbench check`.
mod load;
/// `--profile`'s differential: the mechanism that grew when the threads were added.
mod mechanism;
/// A model of each curve (the Universal Scalability Law): fits, predictions, reasons.
mod model;
/// `ftbench pyperformance`: interleaving, the GIL per benchmark, failures, resume.
mod pyperformance;
/// Reports: figures, HTML (checked in Chromium), Markdown, CSV.
mod report;
/// `ftbench run` end to end: results schema, the seed's analysis, physics, GIL truth.
mod run;
/// `ftbench scale` on the examples and on broken user code.
mod scale;
/// The regular and thread suites, and pyperf imports.
mod suites;
/// The Python package: the wheel with the binary inside, installed by pip and uvx; the CI
/// workflow users copy, linted.
mod wheel;
/// Verdicts per point: each from a purpose-built workload, and the report's "why" section.
mod why;
