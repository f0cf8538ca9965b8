//! The `ftbench` binary: parse the command line, hand it to the library, turn the outcome into an
//! exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = ftbench::Cli::parse();
    ftbench::main(cli)
}
