//! `ftbench store copy`: move runs between SQLite files and `PostgreSQL` databases.

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::StoreCopyArgs;
use crate::output::Printer;
use crate::store::{self, Location};

pub(super) fn copy(args: &StoreCopyArgs, printer: &Printer) -> Result<ExitCode> {
    let from = Location::parse(&args.from);
    if !from.exists() {
        anyhow::bail!(
            "there is no history store at `{}` to copy from",
            from.display()
        );
    }
    let to = Location::parse(&args.to);
    let source = store::open(&from, store::Access::Read)?;
    let mut target = store::open(&to, store::Access::Write)?;
    let (copied, present) = store::copy(source.as_ref(), target.as_mut())?;
    printer.info(&format!(
        "Copied {copied} run(s) from `{}` to `{}`; {present} were there already",
        from.display(),
        to.display()
    ));
    Ok(ExitCode::SUCCESS)
}
