//! One view of a site's state, read without its lock: identities and when they end, the
//! anchors and when they end (a root's own end date, which validators do not check), the
//! releases and the pins each carries, the revoked certificates, and the next safe step.

use time::OffsetDateTime;

use crate::error::Result;
use crate::ledger::{LedgerEntry, Release};
use crate::pin::Pin;
use crate::rotation::{RENEW_WITHIN_DAYS, ReleaseView};
use crate::site::Site;
use crate::trust::Role;

/// A server or client identity.
#[derive(Clone, Debug, serde::Serialize)]
pub struct IdentityStatus {
    /// `server` or `client`.
    pub kind: &'static str,
    /// Its name.
    pub name: String,
    /// Its active certificate's serial.
    pub serial: Option<String>,
    /// When that certificate ends.
    #[serde(with = "time::serde::rfc3339::option")]
    pub not_after: Option<OffsetDateTime>,
    /// Whole days left.
    pub days_left: Option<i64>,
    /// Its keys: active, then standby and retiring when it has them.
    pub keys: Vec<KeyStatus>,
}

/// A key of an identity.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct KeyStatus {
    /// Its role.
    pub role: Role,
    /// Its pin.
    pub pin: Pin,
}

/// An anchor apps bundle.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AnchorStatus {
    /// `ca`, `ca-standby`, `ca-retiring`, or a self-signed server's.
    pub stem: String,
    /// Its role.
    pub role: Role,
    /// Its subject.
    pub subject: String,
    /// Its key's pin.
    pub pin: Pin,
    /// When it ends.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// Whole days left.
    pub days_left: i64,
}

/// A release and how the site's keys stand for it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ReleaseStatus {
    /// The release as recorded.
    #[serde(flatten)]
    pub release: Release,
    /// The role each of its pins plays today (`None`: a key the site no longer has).
    pub roles_now: Vec<Option<Role>>,
}

/// The next thing to do, most urgent first.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "step", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum NextStep {
    /// Server certificates end within the renewal window.
    Renew {
        /// The servers due.
        servers: Vec<String>,
        /// The fewest days left among them.
        days_left: i64,
    },
    /// A root of the site ends within a year: plan a CA rotation.
    RootEnding {
        /// The anchor's stem.
        stem: String,
        /// Days left.
        days_left: i64,
    },
    /// A retiring key can be dropped: no supported release needs it.
    Retire,
    /// A retiring key is still needed by these releases: retire them first.
    RetireReleases {
        /// The releases.
        releases: Vec<String>,
    },
    /// No release is recorded: record the one being shipped, so rotation can protect it.
    RecordRelease,
    /// A promotion is safe: every supported release carries the standby pins.
    PromoteSafe,
    /// A promotion would cut these releases off: ship the standby pins and retire them
    /// first.
    PromoteBlocked {
        /// The releases.
        releases: Vec<String>,
    },
}

/// The whole view.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SiteStatus {
    /// The site's name.
    pub site: String,
    /// `ca` or `self-signed`.
    pub authority: crate::plan::AuthorityMode,
    /// What apps pin.
    pub pin: crate::plan::PinTarget,
    /// Servers, then clients.
    pub identities: Vec<IdentityStatus>,
    /// Anchors, active first.
    pub anchors: Vec<AnchorStatus>,
    /// Releases, oldest first.
    pub releases: Vec<ReleaseStatus>,
    /// What a promotion now would mean for each supported release.
    pub promotion: Vec<ReleaseView>,
    /// Revoked certificates.
    pub revoked: Vec<LedgerEntry>,
    /// What to do next, most urgent first (at least one step).
    pub next: Vec<NextStep>,
}

/// A root ending within this many days asks for a planned CA rotation: a year leaves time
/// for a release carrying the new standby to reach every device.
pub const ROOT_WARNING_DAYS: i64 = 365;

impl Site {
    /// The site's state at `now`.
    pub fn status(&self, now: OffsetDateTime) -> Result<SiteStatus> {
        let trust = self.trust()?;
        let ledger = self.ledger()?;
        let days = |t: OffsetDateTime| (t - now).whole_seconds().div_euclid(86_400);
        let mut identities = Vec::new();
        for s in &self.plan.servers {
            let mut keys = vec![KeyStatus { role: Role::Active, pin: s.active.pin }];
            keys.extend(s.standby.iter().map(|k| KeyStatus { role: Role::Standby, pin: k.pin }));
            keys.extend(s.retiring.iter().map(|k| KeyStatus { role: Role::Retiring, pin: k.pin }));
            identities.push(IdentityStatus {
                kind: "server",
                name: s.name.clone(),
                serial: s.active.serial.clone(),
                not_after: s.active.not_after,
                days_left: s.active.not_after.map(days),
                keys,
            });
        }
        for c in &self.plan.clients {
            identities.push(IdentityStatus {
                kind: "client",
                name: c.name.clone(),
                serial: c.active.serial.clone(),
                not_after: c.active.not_after,
                days_left: c.active.not_after.map(days),
                keys: vec![KeyStatus { role: Role::Active, pin: c.active.pin }],
            });
        }
        let anchors: Vec<AnchorStatus> = trust
            .anchors
            .iter()
            .map(|a| AnchorStatus {
                stem: a.stem.clone(),
                role: a.role,
                subject: a.subject.clone(),
                pin: a.pin,
                not_after: a.not_after,
                days_left: days(a.not_after),
            })
            .collect();
        let all_pins = trust.app_pins();
        let releases: Vec<ReleaseStatus> = ledger
            .releases()?
            .into_iter()
            .map(|r| {
                let roles_now =
                    r.pins.iter().map(|p| all_pins.iter().find(|q| q.pin == p.pin).map(|q| q.role)).collect();
                ReleaseStatus { release: r, roles_now }
            })
            .collect();
        let promotion = self.promotion_safety()?.releases;
        let revoked = ledger.revoked()?;

        let mut next = Vec::new();
        let due: Vec<&IdentityStatus> = identities
            .iter()
            .filter(|i| i.kind == "server" && i.days_left.is_some_and(|d| d <= i64::from(RENEW_WITHIN_DAYS)))
            .collect();
        if !due.is_empty() {
            next.push(NextStep::Renew {
                servers: due.iter().map(|i| i.name.clone()).collect(),
                days_left: due.iter().filter_map(|i| i.days_left).min().unwrap_or_default(),
            });
        }
        if let Some(a) = anchors.iter().filter(|a| a.role == Role::Active).min_by_key(|a| a.days_left)
            && a.days_left <= ROOT_WARNING_DAYS
        {
            next.push(NextStep::RootEnding { stem: a.stem.clone(), days_left: a.days_left });
        }
        let retiring = self.plan.authority.retiring.is_some() || self.plan.servers.iter().any(|s| s.retiring.is_some());
        let supported = releases.iter().filter(|r| r.release.supported()).count();
        if retiring {
            let blocked = self.retirement_safety()?.blocked();
            if blocked.is_empty() {
                next.push(NextStep::Retire);
            } else {
                next.push(NextStep::RetireReleases { releases: blocked });
            }
        } else if supported == 0 {
            next.push(NextStep::RecordRelease);
        } else {
            let blocked: Vec<String> = promotion.iter().filter(|v| !v.connects).map(|v| v.version.clone()).collect();
            if blocked.is_empty() {
                next.push(NextStep::PromoteSafe);
            } else {
                next.push(NextStep::PromoteBlocked { releases: blocked });
            }
        }
        Ok(SiteStatus {
            site: self.plan.name.clone(),
            authority: self.plan.authority.mode,
            pin: self.plan.pin,
            identities,
            anchors,
            releases,
            promotion,
            revoked,
            next,
        })
    }

    /// The pins a release records: the pins apps carry for the site today, with their roles.
    pub fn release_pins(&self) -> Result<Vec<crate::ledger::ReleasePin>> {
        Ok(release_pins_of(&self.trust()?))
    }

    /// Records the release `version` as carrying the site's pins today, on `platforms`.
    pub fn add_release(&mut self, version: &str, platforms: &[String]) -> Result<Release> {
        check_version(version)?;
        self.hold()?;
        let pins = self.release_pins()?;
        self.ledger()?.record_release(version, platforms, &pins)
    }

    /// Records the release `version` as carrying the app pins of `trust` (what an export
    /// of this site, perhaps of some of its servers only, wrote), on `platforms`. The site
    /// must be held from before `trust` was read, so the pins are the site's.
    pub fn add_release_of(
        &mut self,
        version: &str,
        platforms: &[String],
        trust: &crate::trust::SiteTrust,
    ) -> Result<Release> {
        check_version(version)?;
        self.hold()?;
        self.ledger()?.record_release(version, platforms, &release_pins_of(trust))
    }

    /// Marks the release `version` no longer supported; false when it was retired already.
    pub fn retire_release(&mut self, version: &str, now: OffsetDateTime) -> Result<bool> {
        self.hold()?;
        self.ledger()?.retire_release(version, now)
    }
}

fn release_pins_of(trust: &crate::trust::SiteTrust) -> Vec<crate::ledger::ReleasePin> {
    trust
        .app_pins()
        .into_iter()
        .map(|p| crate::ledger::ReleasePin { pin: p.pin, role: p.role, owner: p.owner.to_string() })
        .collect()
}

/// Checks a release version: 1 to 64 printable characters without spaces (it goes into
/// reports, metric labels and file comments).
pub fn check_version(version: &str) -> Result<()> {
    let ok = !version.is_empty()
        && version.len() <= 64
        && version.chars().all(|c| c.is_ascii_graphic() && c != '"' && c != '\\');
    if ok {
        Ok(())
    } else {
        Err(crate::Error::bad_value(
            "release",
            version,
            "must be 1 to 64 printable characters without spaces or quotes",
            Some("name it as the app does, e.g. 2.3.0"),
        ))
    }
}
