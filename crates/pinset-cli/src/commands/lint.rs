//! `pinset lint` (not written yet).

use std::process::ExitCode;

use crate::cli::LintArgs;

/// Lints a certificate.
pub fn run(_args: LintArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("pinset lint is not written yet")
}
