//! `pinset release`: record the app releases that shipped the site's pins, retire them,
//! list them.

use pinset::Site;
use pinset::ledger::Release;

use crate::cli::{ReleaseAddArgs, ReleaseCommand, ReleaseListArgs, ReleaseRetireArgs};
use crate::output::{self, ExitStatus, untrusted};
use crate::{issuing, lifecycle};

/// Runs one `release` subcommand.
pub fn run(cmd: ReleaseCommand) -> anyhow::Result<ExitStatus> {
    match cmd {
        ReleaseCommand::Add(args) => add(args),
        ReleaseCommand::Retire(args) => retire(args),
        ReleaseCommand::List(args) => list(args),
    }
}

fn add(args: ReleaseAddArgs) -> anyhow::Result<ExitStatus> {
    let dir = output::site_dir(args.site.site.as_deref());
    let mut site = issuing::exclusive(&dir, &args.wait, |how| Site::open_for_change(&dir, how))?;
    let release = site.add_release(&args.version, &args.platform)?;
    if args.json {
        output::emit_json(&release)?;
    } else {
        output::emit(&lifecycle::recorded(&release))?;
    }
    Ok(ExitStatus::Success)
}

#[derive(serde::Serialize)]
struct Retired<'a> {
    release: &'a Release,
    newly_retired: bool,
}

fn retire(args: ReleaseRetireArgs) -> anyhow::Result<ExitStatus> {
    let dir = output::site_dir(args.site.site.as_deref());
    let mut site = issuing::exclusive(&dir, &args.wait, |how| Site::open_for_change(&dir, how))?;
    let newly_retired = site.retire_release(&args.version, time::OffsetDateTime::now_utc())?;
    let release = site.ledger()?.release(&args.version)?.ok_or_else(|| anyhow::anyhow!("release vanished"))?;
    if args.json {
        output::emit_json(&Retired { release: &release, newly_retired })?;
    } else if newly_retired {
        output::emit(&format!(
            "Retired release {}: rotation no longer protects it. `pinset status` shows the next safe step.\n",
            untrusted(&release.version)
        ))?;
    } else {
        output::emit(&format!(
            "Release {} was retired already ({}).\n",
            untrusted(&release.version),
            release.retired.as_deref().unwrap_or("?")
        ))?;
    }
    Ok(ExitStatus::Success)
}

fn list(args: ReleaseListArgs) -> anyhow::Result<ExitStatus> {
    let site = Site::open(&output::site_dir(args.site.site.as_deref()))?;
    let status = site.status(time::OffsetDateTime::now_utc())?;
    if args.json {
        let releases: Vec<&Release> = status.releases.iter().map(|r| &r.release).collect();
        output::emit_json(&releases)?;
        return Ok(ExitStatus::Success);
    }
    if status.releases.is_empty() {
        output::emit("No release recorded: `pinset release add VERSION` records the pins the app ships.\n")?;
        return Ok(ExitStatus::Success);
    }
    output::emit(&lifecycle::releases_text(&status))?;
    Ok(ExitStatus::Success)
}
