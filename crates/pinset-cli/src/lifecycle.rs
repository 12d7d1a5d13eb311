//! What `release`, `export --release`, `renew`, `rotate` and `status` print about a site's
//! life: releases and their pins, and the next safe step in this tool's words.

use pinset::ledger::Release;
use pinset::rotation::ReleaseView;
use pinset::status::{NextStep, SiteStatus};

use crate::output::untrusted;

/// What `release add` and `export --release` print.
pub fn recorded(release: &Release) -> String {
    let mut t = format!(
        "Recorded release {}{} carrying {} pin{}:\n",
        untrusted(&release.version),
        platforms(release),
        release.pins.len(),
        if release.pins.len() == 1 { "" } else { "s" }
    );
    for p in &release.pins {
        t.push_str(&format!("  {:<8} {:<20} {}\n", p.role.name(), untrusted(&p.owner), p.pin));
    }
    t.push_str(&format!(
        "Rotation now refuses any step that would cut {} off; `pinset release retire {}` once it is no longer \
         supported.\n",
        untrusted(&release.version),
        untrusted(&release.version)
    ));
    t
}

fn platforms(release: &Release) -> String {
    if release.platforms.is_empty() {
        String::new()
    } else {
        format!(" ({})", untrusted(&release.platforms.join(", ")))
    }
}

/// Each release, supported or retired, with its pins and the role each plays today.
pub fn releases_text(status: &SiteStatus) -> String {
    let mut t = String::new();
    for r in &status.releases {
        let state = match &r.release.retired {
            None => "supported".to_string(),
            Some(at) => format!("retired {}", day(at)),
        };
        t.push_str(&format!(
            "  {}{}  {state}, recorded {}\n",
            untrusted(&r.release.version),
            platforms(&r.release),
            day(&r.release.created)
        ));
        for (p, now) in r.release.pins.iter().zip(&r.roles_now) {
            let now = now.map_or("no longer the site's".to_string(), |role| format!("{role} now"));
            t.push_str(&format!("      {}  {} ({now})\n", p.pin, untrusted(&p.owner)));
        }
    }
    t
}

/// `2026-12-01T00:00:00Z` → `2026-12-01`.
fn day(rfc3339: &str) -> &str {
    rfc3339.get(..10).unwrap_or(rfc3339)
}

/// The releases that would not connect, each with what it carries and lacks.
pub fn views_text(views: &[ReleaseView]) -> String {
    let mut t = String::new();
    for v in views {
        if v.connects {
            t.push_str(&format!("  {}: connects\n", untrusted(&v.version)));
        } else {
            let lacks: Vec<String> = v.lacks.iter().map(|p| format!("{} ({})", p.pin, untrusted(&p.owner))).collect();
            t.push_str(&format!(
                "  {}: cut off — it carries {} and not {}, so every connection fails its pin check\n",
                untrusted(&v.version),
                v.carries.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
                lacks.join(", ")
            ));
        }
    }
    t
}

/// A next step in this tool's words.
pub fn step_text(step: &NextStep) -> String {
    match step {
        NextStep::Renew { servers, days_left } => format!(
            "renew: {} end{} within {} days (the first in {days_left}): `pinset renew`",
            untrusted(&servers.join(", ")),
            if servers.len() == 1 { "s" } else { "" },
            pinset::rotation::RENEW_WITHIN_DAYS
        ),
        NextStep::RootEnding { stem, days_left } => format!(
            "the root {} ends in {days_left} days: ship its standby in every release, then `pinset rotate promote`",
            untrusted(stem)
        ),
        NextStep::Retire => {
            "`pinset rotate retire`: every supported release carries the active pins, so the retiring key can go".into()
        }
        NextStep::RetireReleases { releases } => format!(
            "the retiring key is still needed by {}: `pinset release retire {}` once no device runs it, then `pinset \
             rotate retire`",
            untrusted(&releases.join(", ")),
            untrusted(&releases.join(" "))
        ),
        NextStep::RecordRelease => {
            "record the app release you ship: `pinset release add VERSION` (or `pinset export … --release VERSION`), \
             so rotation can protect it"
                .into()
        }
        NextStep::PromoteSafe => {
            "nothing due. A promotion would be safe now (every supported release carries the standby pins): `pinset \
             rotate promote` when a key must change"
                .into()
        }
        NextStep::PromoteBlocked { releases } => format!(
            "nothing due. A promotion would cut off {}: ship a release with the standby pins and retire {} first",
            untrusted(&releases.join(", ")),
            if releases.len() == 1 { "it" } else { "them" }
        ),
        _ => format!("{step:?}"),
    }
}
