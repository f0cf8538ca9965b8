//! One file per subcommand, each reading top to bottom: config → discover → run → results →
//! report. `dispatch` only routes.

mod audit;
mod check;
mod common;
mod compare;
mod gate;
mod history;
mod import;
mod publish;
mod pyperformance;
mod pythons;
mod report;
mod run;
mod scale;
mod store;

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::{Cli, Command, ImportCommand, PythonCommand, StoreCommand};
use crate::output::Printer;

pub fn dispatch(cli: Cli, printer: &Printer) -> Result<ExitCode> {
    if crate::secrets::password_on_command_line() {
        printer.warn(crate::secrets::PASSWORD_ADVICE);
    }
    match cli.command {
        Command::Run(args) => run::run(&args, printer),
        Command::Report(args) => report::report(&args, printer),
        Command::Pythons(args) => pythons::pythons(args.json, printer),
        Command::Import(ImportCommand::Pyperf(args)) => import::import_pyperf(&args, printer),
        Command::Compare(args) => compare::compare_command(&args, printer),
        Command::Scale(args) => scale::scale(&args, printer),
        Command::History(args) => history::history_command(&args, printer),
        Command::Check(args) => check::check_command(&args, printer),
        Command::Sysinfo(args) => check::sysinfo(args.json, printer),
        Command::Python(PythonCommand::Install(args)) => pythons::install(args, printer),
        Command::Python(PythonCommand::List) => pythons::list(printer),
        Command::Store(StoreCommand::Copy(args)) => store::copy(&args, printer),
        Command::Publish(args) => publish::publish(&args, printer),
        Command::Pyperformance(args) => pyperformance::pyperformance(&args, printer),
        Command::Audit(args) => audit::audit(&args, printer),
    }
}
