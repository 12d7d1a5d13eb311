//! `pinset status`: one screen of the site's state and the next safe step. It only reads,
//! unless a renewal or rotation was interrupted: then it finishes or undoes it first.

use pinset::Site;

use crate::cli::StatusArgs;
use crate::lifecycle;
use crate::output::{self, ExitStatus, untrusted};

/// Prints the state of the site.
pub fn run(args: StatusArgs) -> anyhow::Result<ExitStatus> {
    let dir = output::site_dir(args.site.site.as_deref());
    let mut site = Site::open(&dir)?;
    if site.ledger()?.has_pending_change()? {
        // An interrupted renewal or rotation: its files may not match the plan yet. Taking
        // the site settles it (finished or undone, said on stderr) before it is shown.
        site = crate::issuing::exclusive(&dir, &args.wait, |how| Site::open_for_change(&dir, how))?;
    }
    let status = site.status(time::OffsetDateTime::now_utc())?;
    if args.json {
        output::emit_json(&status)?;
        return Ok(ExitStatus::Success);
    }
    let mut t = format!(
        "Site {} ({}, apps pin {})\n",
        untrusted(&status.site),
        match status.authority {
            pinset::plan::AuthorityMode::Ca => "private CA",
            pinset::plan::AuthorityMode::SelfSigned => "self-signed",
        },
        match status.pin {
            pinset::plan::PinTarget::Ca => "the CA's keys",
            pinset::plan::PinTarget::Leaf => "each server's keys",
        }
    );
    t.push_str("Identities:\n");
    for i in &status.identities {
        let ends = match (i.not_after, i.days_left) {
            (Some(end), Some(days)) => format!("ends {} ({days} days)", end.date()),
            _ => "no certificate".into(),
        };
        t.push_str(&format!("  {:<7} {:<16} {ends}\n", i.kind, untrusted(&i.name)));
        if i.kind == "server" {
            for k in &i.keys {
                t.push_str(&format!("          {:<8} key {}\n", k.role.name(), k.pin));
            }
        }
    }
    t.push_str("Anchors (validators do not check an anchor's own end date; plan ahead):\n");
    for a in &status.anchors {
        t.push_str(&format!(
            "  {:<8} {:<14} ends {} ({} days)  {}\n",
            a.role.name(),
            untrusted(&a.stem),
            a.not_after.date(),
            a.days_left,
            a.pin
        ));
    }
    if status.releases.is_empty() {
        t.push_str("Releases: none recorded\n");
    } else {
        t.push_str("Releases:\n");
        t.push_str(&lifecycle::releases_text(&status));
    }
    if status.revoked.is_empty() {
        t.push_str("Revoked: none\n");
    } else {
        t.push_str("Revoked:\n");
        for e in &status.revoked {
            t.push_str(&format!(
                "  {} {:<16} {}  {}\n",
                untrusted(&e.kind),
                untrusted(&e.name),
                e.serial,
                e.revocation_reason.as_deref().unwrap_or("unspecified")
            ));
        }
    }
    t.push_str("Next:\n");
    for step in &status.next {
        t.push_str(&format!("  {}\n", lifecycle::step_text(step)));
    }
    output::emit(&t)?;
    Ok(ExitStatus::Success)
}
