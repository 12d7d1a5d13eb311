//! `pinset renew`: new certificates for the same keys, before the old ones end.

use pinset::Site;
use pinset::rotation::RenewOptions;

use crate::cli::RenewArgs;
use crate::issuing;
use crate::output::{self, ExitStatus, untrusted};

/// Renews what is due (or says what would be, with `--dry-run`).
pub fn run(args: RenewArgs) -> anyhow::Result<ExitStatus> {
    let dir = output::site_dir(args.site.site.as_deref());
    let mut site = if args.dry_run {
        Site::open(&dir)?
    } else {
        issuing::exclusive(&dir, &args.wait, |how| Site::open_for_change(&dir, how))?
    };
    let opts = RenewOptions {
        name: args.name.clone(),
        within_days: args.within,
        days: args.days,
        dry_run: args.dry_run,
        now: time::OffsetDateTime::now_utc(),
    };
    let report = site.renew(&opts)?;
    if args.json {
        output::emit_json(&report)?;
        return Ok(ExitStatus::Success);
    }
    let mut t = String::new();
    let due = report.certificates.iter().filter(|c| c.due).count();
    for c in report.certificates.iter().filter(|c| c.due) {
        let what = if c.kind == "server" { "server" } else { "standby certificate of server" };
        let head = if report.dry_run { "Would renew" } else { "Renewed" };
        t.push_str(&format!("{head} {what} {:?} (same key {}):\n", untrusted(&c.name), c.pin));
        t.push_str(&format!("  before  serial {}, ends {} ({} days)\n", c.serial, c.not_after.date(), c.days_left));
        if let (Some(serial), Some(end)) = (&c.new_serial, c.new_not_after) {
            t.push_str(&format!("  after   serial {serial}, ends {}\n", end.date()));
        }
    }
    for c in report.certificates.iter().filter(|c| !c.due) {
        t.push_str(&format!(
            "Not due: {} {:?} ends {} ({} days).\n",
            c.kind,
            untrusted(&c.name),
            c.not_after.date(),
            c.days_left
        ));
    }
    if due == 0 {
        t.push_str(&format!("Nothing to renew within {} days.\n", report.within_days));
    } else if !report.dry_run {
        t.push_str("Pins are unchanged; a running `pinset serve` picks up the new certificates by itself.\n");
    }
    output::emit(&t)?;
    Ok(ExitStatus::Success)
}
