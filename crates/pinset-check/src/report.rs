//! What a check found: one [`Report`] per target, the [`Status`] a monitoring system acts
//! on, and a [`Round`] (every target of one pass, and the sites they were judged against).
//!
//! Statuses follow the monitoring-plugin convention (Nagios, Icinga, Sensu): OK,
//! WARNING, CRITICAL, UNKNOWN, with the exit codes 0, 1, 2 and 3. A round's status is its
//! worst target's, in the order CRITICAL > WARNING > UNKNOWN > OK (monitoring-plugins'
//! `max_state_alt`): a certificate about to expire is not hidden by a server that was
//! down when it was checked.

use std::net::SocketAddr;
use std::time::Duration;

use pinset::Pin;
use time::OffsetDateTime;

use crate::chain::{CertFacts, Link};

/// A monitoring status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Nothing to do.
    Ok,
    /// Act soon: a certificate within the warning days, a standby or retiring key served,
    /// pins past their end date.
    Warning,
    /// Act now: apps cannot connect, or will not within the critical days.
    Critical,
    /// The check could not tell: the server could not be reached.
    Unknown,
}

impl Status {
    /// The exit code monitoring systems read: 0, 1, 2, 3.
    pub fn exit_code(self) -> u8 {
        match self {
            Status::Ok => 0,
            Status::Warning => 1,
            Status::Critical => 2,
            Status::Unknown => 3,
        }
    }

    /// `ok`, `warning`, `critical`, `unknown`.
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warning => "warning",
            Status::Critical => "critical",
            Status::Unknown => "unknown",
        }
    }

    /// Severity for combining statuses: CRITICAL > WARNING > UNKNOWN > OK.
    fn rank(self) -> u8 {
        match self {
            Status::Ok => 0,
            Status::Unknown => 1,
            Status::Warning => 2,
            Status::Critical => 3,
        }
    }

    /// The worse of two statuses.
    pub fn worst(self, other: Status) -> Status {
        if other.rank() > self.rank() { other } else { self }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Which of the site's pins the validated chain carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PinKind {
    /// The key in use.
    Active,
    /// The standby key, meant to be kept offline until promoted: apps connect, but a
    /// promotion happened that the site does not record, or the wrong key was deployed.
    Standby,
    /// A key replaced by a promotion, still carried by apps for a while.
    Retiring,
    /// None of the pins apps carry for this address.
    None,
}

impl PinKind {
    /// Every kind, in the order metrics list them.
    pub const ALL: [PinKind; 4] = [PinKind::Active, PinKind::Standby, PinKind::Retiring, PinKind::None];

    /// `active`, `standby`, `retiring`, `none`.
    pub fn name(self) -> &'static str {
        match self {
            PinKind::Active => "active",
            PinKind::Standby => "standby",
            PinKind::Retiring => "retiring",
            PinKind::None => "none",
        }
    }

    pub(crate) fn of_role(role: pinset::Role) -> PinKind {
        match role {
            pinset::Role::Active => PinKind::Active,
            pinset::Role::Standby => PinKind::Standby,
            _ => PinKind::Retiring,
        }
    }
}

/// The pin check of a target.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PinMatch {
    /// Which of the site's pins matched.
    pub kind: PinKind,
    /// The pin that matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pin: Option<Pin>,
    /// Whose key it is (`authority`, `server NAME`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// What the site's verifier concluded, as a client of the site would.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Verdict {
    /// Whether the chain was accepted.
    pub ok: bool,
    /// `ok`, or why it was refused (the verifier's kebab-case kind: `expired`,
    /// `name-mismatch`, `unknown-issuer`, `pin-mismatch`, `not-site-address`, …).
    pub reason: String,
    /// The verifier's words.
    pub detail: String,
}

/// Why a target gave no chain.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Failure {
    /// `resolve`, `connect`, `timeout`, `legacy-tls`, `tls`, `io`, `bad-server-name`.
    pub kind: &'static str,
    /// What happened, in words.
    pub detail: String,
}

/// What a handshake negotiated.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Tls {
    /// `TLSv1.3`, `TLSv1.2`.
    pub version: String,
    /// The cipher suite, as rustls names it.
    pub cipher: String,
}

/// Whether a supported app release can connect.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ReleaseResult {
    /// The release's version.
    pub release: String,
    /// True when the chain validates, names the address, and carries a pin the release
    /// ships.
    pub can_connect: bool,
}

/// One reason for a target's status.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// The status it calls for.
    pub status: Status,
    /// What it is, in words.
    pub text: String,
}

/// One target's result.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Report {
    /// The server, `host:port` (IPv6 in brackets).
    pub target: String,
    /// Its label from the inventory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The site it was judged against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    /// The status a monitoring system acts on.
    pub status: Status,
    /// Why the status is not OK (empty when it is).
    pub problems: Vec<Problem>,
    /// Whether a TLS handshake completed and a chain was received.
    pub reachable: bool,
    /// The address connected to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<SocketAddr>,
    /// Why no chain was received.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    /// What the handshake negotiated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<Tls>,
    /// The chain the server sent, in its order.
    pub presented: Vec<CertFacts>,
    /// The earliest end of validity in the presented chain.
    #[serde(with = "time::serde::rfc3339::option")]
    pub presented_expiry: Option<OffsetDateTime>,
    /// The chain that validates to one of the site's anchors, anchor included, found even
    /// when verification refused the chain (empty when none validates).
    pub validated_chain: Vec<Link>,
    /// The earliest end of validity in the validated chain, the anchor's own included.
    #[serde(with = "time::serde::rfc3339::option")]
    pub validated_expiry: Option<OffsetDateTime>,
    /// Whole days until the earlier of the two expiries (negative once past).
    pub days_left: Option<i64>,
    /// Whether the leaf names the address dialled.
    pub name_match: Option<bool>,
    /// What the site's verifier concluded (none without a site, or without a chain).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify: Option<Verdict>,
    /// Which of the site's pins matched (none without a site, or without a chain).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pin: Option<PinMatch>,
    /// Each supported release of the site, and whether it can connect.
    pub releases: Vec<ReleaseResult>,
    /// How long the probe took, in milliseconds.
    #[serde(rename = "duration_ms", serialize_with = "millis")]
    pub duration: Duration,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// An anchor of a site and its own end of validity.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AnchorSummary {
    /// Its file stem (`ca`, `ca-standby`, a server's name).
    pub stem: String,
    /// Active or standby.
    pub role: pinset::Role,
    /// Its subject.
    pub subject: String,
    /// The pin of its key.
    pub pin: Pin,
    /// End of its validity (validators do not check it; some platforms do).
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// Whole days left (negative once past).
    pub days_left: i64,
    /// Against the thresholds.
    pub status: Status,
}

/// A site that targets were judged against.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SiteSummary {
    /// The site's name.
    pub site: String,
    /// Its anchors, active first.
    pub anchors: Vec<AnchorSummary>,
    /// The supported releases it records (empty: none recorded).
    pub releases: Vec<String>,
}

/// How many targets ended in each status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// OK.
    pub ok: usize,
    /// WARNING.
    pub warning: usize,
    /// CRITICAL.
    pub critical: usize,
    /// UNKNOWN.
    pub unknown: usize,
}

/// One pass over every target.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Round {
    /// When it started.
    #[serde(with = "time::serde::rfc3339")]
    pub started: OffsetDateTime,
    /// How long it took, in milliseconds.
    #[serde(rename = "duration_ms", serialize_with = "millis")]
    pub duration: Duration,
    /// Warning below this many days left.
    pub warn_days: i64,
    /// Critical below this many days left.
    pub crit_days: i64,
    /// The worst status, targets and anchors alike.
    pub status: Status,
    /// Targets per status.
    pub counts: Counts,
    /// The sites targets were judged against.
    pub sites: Vec<SiteSummary>,
    /// Every target, in the order given.
    pub targets: Vec<Report>,
}

impl Round {
    /// Builds a round, computing its status and counts.
    pub fn new(
        started: OffsetDateTime,
        duration: Duration,
        thresholds: crate::Thresholds,
        sites: Vec<SiteSummary>,
        targets: Vec<Report>,
    ) -> Round {
        let mut counts = Counts::default();
        let mut status = Status::Ok;
        for r in &targets {
            status = status.worst(r.status);
            match r.status {
                Status::Ok => counts.ok += 1,
                Status::Warning => counts.warning += 1,
                Status::Critical => counts.critical += 1,
                Status::Unknown => counts.unknown += 1,
            }
        }
        for a in sites.iter().flat_map(|s| &s.anchors) {
            status = status.worst(a.status);
        }
        Round {
            started,
            duration,
            warn_days: thresholds.warn_days,
            crit_days: thresholds.crit_days,
            status,
            counts,
            sites,
            targets,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn critical_outranks_warning_outranks_unknown_outranks_ok() {
        use Status::*;
        assert_eq!(Ok.worst(Unknown), Unknown);
        assert_eq!(Unknown.worst(Warning), Warning);
        assert_eq!(Warning.worst(Unknown), Warning);
        assert_eq!(Critical.worst(Warning), Critical);
        assert_eq!(Unknown.worst(Critical), Critical);
        assert_eq!([Ok, Warning, Critical, Unknown].map(Status::exit_code), [0, 1, 2, 3]);
    }
}
