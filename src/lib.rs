//! ftbench: how much faster or slower is Python with and without the GIL, and how does each kind
//! of work scale with threads?
//!
//! The pipeline reads top to bottom in `commands::run` (one file per subcommand in `commands/`):
//! CLI → config → discover interpreters → plan → run workers (`runner`) → results (the raw
//! file) → analysis (every derived number, and the seed-schema section written from it) →
//! report (tables, figures, HTML) and store (history, fleet).
//!
//! The modules form layers, and a module imports only the layers below it, so there are no
//! import cycles (`scripts/layers.py` checks it in CI; test code may reach any layer). Low to
//! high: the model (`model`: what a results file holds, as data that imports nothing), helpers
//! (`files`, `dirs`, `output`, `secrets`, `stats`, `interrupt`, `process`), the tests
//! (`workloads`) and how numbers are written (`format`), the machine (`machine`) and the
//! interpreters (`interpreter`), the results file's loading and checking (`results`), the
//! command line and the settings (`cli`, `config`), the measuring (`runner`), the environment
//! audit (`audit`), every derived number (`analysis`), what shows them (`report`, `compare`),
//! the history (`store`), and the subcommands (`commands`).

mod analysis;
mod audit;
mod cli;
mod commands;
mod compare;
mod config;
mod dirs;
mod files;
mod format;
mod interpreter;
mod interrupt;
mod machine;
mod model;
mod output;
mod process;
mod report;
mod results;
mod runner;
mod secrets;
mod stats;
mod store;
mod workloads;

use std::process::ExitCode;

pub use cli::Cli;
pub use interpreter::{GilMode, InterpreterInfo, Spec};
pub use results::ResultsFile;
pub use runner::protocol::{PROTOCOL_VERSION, WorkerMessage};
pub use stats::Summary;

use output::Printer;

/// Exit code for a run stopped by SIGINT (128 + 2), as shells report it.
pub const EXIT_INTERRUPTED: u8 = 130;
/// Exit code for a run stopped by SIGTERM (128 + 15).
pub const EXIT_TERMINATED: u8 = 143;

/// Whether this process runs under CI (`CI` set, not empty, not `false`): the one place that
/// decides it. The tests fail under CI where they would skip elsewhere (a skip there would hide
/// what ftbench sells).
#[doc(hidden)]
#[must_use]
pub fn running_under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false")
}

/// Run the command line and turn its outcome into an exit code, printing any error chain once.
#[must_use]
pub fn main(cli: Cli) -> ExitCode {
    secrets::hide_own_environment();
    let printer = Printer::new(cli.quiet);
    match commands::dispatch(cli, &printer) {
        Ok(code) => code,
        Err(err) => {
            // A closed pipe (`ftbench pythons | head`) is not a failure.
            if err.chain().any(|cause| {
                cause
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            printer.error(&format!("{err:#}"));
            // A step stopped by Ctrl-C or SIGTERM exits as the signal says (130, 143), like a
            // run stopped between points.
            if err
                .chain()
                .any(<dyn std::error::Error>::is::<cli::UsageError>)
            {
                return ExitCode::from(2);
            }
            match err
                .chain()
                .find_map(|cause| cause.downcast_ref::<process::Stopped>())
            {
                Some(process::Stopped::Signal(stop)) => ExitCode::from(stop.exit_code()),
                _ => ExitCode::FAILURE,
            }
        }
    }
}
