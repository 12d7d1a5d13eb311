//! `pinset testbed` (placeholder)
use crate::cli::TestbedArgs;
use crate::output::ExitStatus;
/// Runs the testbed.
pub fn run(_args: TestbedArgs) -> anyhow::Result<ExitStatus> {
    anyhow::bail!("not yet")
}
