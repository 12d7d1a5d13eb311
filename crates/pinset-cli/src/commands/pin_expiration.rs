//! `pinset pin-expiration`: show or set the last day apps enforce the site's pins.

use pinset::Site;
use pinset::trust::PinExpiry;
use time::{Date, OffsetDateTime};

use crate::cli::PinExpirationArgs;
use crate::issuing;
use crate::output::{self, ExitStatus};

/// Shows the last day, or sets it under the site's lock; warns while it is near or past.
pub fn run(args: PinExpirationArgs) -> anyhow::Result<ExitStatus> {
    let dir = output::site_dir(args.site.site.as_deref());
    let changed = match args.date.as_deref() {
        None => None,
        Some("never") => Some(None),
        Some(text) => Some(Some(pinset::plan::parse_pin_expiration(text)?)),
    };
    let trust = match changed {
        None => Site::open(&dir)?.trust()?,
        Some(last) => {
            let mut site = issuing::exclusive(&dir, &args.wait, |how| Site::open_for_change(&dir, how))?;
            site.set_pin_expiration(last)?;
            site.trust()?
        }
    };
    let today = OffsetDateTime::now_utc().date();
    let expiry = trust.pin_expiry(today);
    if args.json {
        output::emit_json(&Report::of(&trust.site, expiry, changed.is_some()))?;
    } else {
        let state = match expiry {
            PinExpiry::Never => "no last day: apps enforce the pins until they change".to_string(),
            PinExpiry::Until { last } | PinExpiry::Near { last, .. } => {
                format!("apps enforce the pins up to and including {last} (UTC), {}", days((last - today).whole_days()))
            }
            PinExpiry::Expired { last } => format!("the pins expired after {last} (UTC)"),
        };
        let head = if changed.is_some() { "Set the pin expiration of site" } else { "Site" };
        let mut text = format!("{head} {:?}: {state}\n", trust.site);
        if changed.is_some() {
            text.push_str("Exports written from now on carry it; apps already shipped keep the day they carry.\n");
        }
        output::emit(&text)?;
    }
    if let Some(warning) = expiry.warning() {
        output::warn(&warning);
    }
    Ok(ExitStatus::Success)
}

fn days(n: i64) -> String {
    match n {
        0 => "today is the last day".into(),
        1 => "1 day left".into(),
        n => format!("{n} days left"),
    }
}

/// What `--json` prints.
#[derive(serde::Serialize)]
struct Report<'a> {
    site: &'a str,
    /// The last day (`YYYY-MM-DD`), or null for none.
    pin_expiration: Option<String>,
    /// `never`, `ok`, `near` or `expired`.
    state: &'static str,
    /// Days from today to the last day (negative once past).
    days_left: Option<i64>,
    /// Whether this run changed the plan.
    changed: bool,
}

impl<'a> Report<'a> {
    fn of(site: &'a str, expiry: PinExpiry, changed: bool) -> Report<'a> {
        let today = OffsetDateTime::now_utc().date();
        let (last, state): (Option<Date>, _) = match expiry {
            PinExpiry::Never => (None, "never"),
            PinExpiry::Until { last } => (Some(last), "ok"),
            PinExpiry::Near { last, .. } => (Some(last), "near"),
            PinExpiry::Expired { last } => (Some(last), "expired"),
        };
        Report {
            site,
            pin_expiration: last.map(|d| d.to_string()),
            state,
            days_left: last.map(|d| (d - today).whole_days()),
            changed,
        }
    }
}
