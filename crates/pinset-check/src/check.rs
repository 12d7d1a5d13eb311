//! Checking targets: the site a target is judged against ([`SiteContext`]: its trust, its
//! verifier, the app releases it supports), one target's assessment ([`assess`], offline,
//! from what the probe fetched) and the concurrent probe of a whole fleet ([`run`]).
//!
//! A target's status, against [`Thresholds`] in days:
//!
//! | what | status |
//! |---|---|
//! | not reached: no address, connection refused, no answer before the deadline, the connection cut | UNKNOWN |
//! | reached, but no TLS 1.2 or 1.3 handshake (TLS 1.0/1.1 only, a handshake failure) | CRITICAL |
//! | the site's verifier refuses the chain (expired, wrong name, unknown CA, pin mismatch, not an address of the site …) | CRITICAL |
//! | a supported release cannot connect | CRITICAL |
//! | the earliest expiry of the presented or the validated chain (anchor included) is past, or less than `crit_days` away | CRITICAL |
//! | … less than `warn_days` away | WARNING |
//! | the chain carries the standby or a retiring key rather than the active one | WARNING |
//! | the site's pins are past their end date (apps enforce only its anchors) | WARNING |
//!
//! Without a site, only reachability, the name and the dates are checked.

use std::sync::Arc;
use std::time::{Duration, Instant};

use pinset::trust::SiteTrust;
use pinset::{Host, Pin, Target};
use pinset_net::ErrorKind;
use pinset_net::probe::{self, Presented};
use pinset_tls::SiteVerifier;
use pinset_tls::verifier::{BuildError, PinCheck};
use rustls::pki_types::{ServerName, UnixTime};
use time::OffsetDateTime;
use tokio::sync::Semaphore;

use crate::chain::{self, CertFacts, Link};
use crate::report::{
    AnchorSummary, Failure, PinKind, PinMatch, Problem, ReleaseResult, Report, Round, SiteSummary, Status, Tls, Verdict,
};

/// The deadline of one target when none is given: connecting and the handshake of a
/// healthy server on a LAN take milliseconds; 10 s allows a box that is busy or far.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Probes in flight at once when none is given: pinset-net's default, which checks a
/// fleet of hundreds in a few round trips with well under the usual 1,024 open files.
pub const DEFAULT_CONCURRENCY: usize = probe::DEFAULT_CONCURRENCY;

/// Days left under which a target is a warning, and under which it is critical.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Thresholds {
    /// WARNING below this many days left.
    pub warn_days: i64,
    /// CRITICAL below this many days left.
    pub crit_days: i64,
}

impl Default for Thresholds {
    /// 28 and 14 days: four weeks to renew calmly, two to act (what certificate monitors
    /// commonly default to).
    fn default() -> Thresholds {
        Thresholds { warn_days: 28, crit_days: 14 }
    }
}

impl Thresholds {
    /// The status of a date `days_left` away.
    pub fn status(&self, days_left: i64) -> Status {
        if days_left < 0 || days_left < self.crit_days {
            Status::Critical
        } else if days_left < self.warn_days {
            Status::Warning
        } else {
            Status::Ok
        }
    }
}

/// How a fleet is probed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Each target's deadline, from the start of its own probe.
    pub timeout: Duration,
    /// Probes in flight at once (at least one).
    pub concurrency: usize,
    /// Day thresholds.
    pub thresholds: Thresholds,
}

impl Default for Options {
    fn default() -> Options {
        Options { timeout: DEFAULT_TIMEOUT, concurrency: DEFAULT_CONCURRENCY, thresholds: Thresholds::default() }
    }
}

/// A shipped app release and the pins it carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Release {
    /// Its version.
    pub version: String,
    /// The pins it carries (any one in the validated chain lets it connect).
    pub pins: Vec<Pin>,
}

/// A site as targets are judged against it: what its apps trust, a verifier built from it,
/// and the app releases it supports (none until the site records releases).
pub struct SiteContext {
    trust: SiteTrust,
    verifier: Arc<SiteVerifier>,
    releases: Vec<Release>,
}

impl std::fmt::Debug for SiteContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SiteContext").field("site", &self.trust.site).field("releases", &self.releases).finish()
    }
}

impl SiteContext {
    /// A site's context from its trust; no releases.
    pub fn new(trust: SiteTrust) -> Result<SiteContext, BuildError> {
        let verifier = SiteVerifier::for_site(&trust).build()?;
        Ok(SiteContext { trust, verifier, releases: Vec::new() })
    }

    /// The supported releases of the site, each with the pins it carries: which of them
    /// can connect is reported per target.
    pub fn with_releases(mut self, releases: impl IntoIterator<Item = (String, Vec<Pin>)>) -> SiteContext {
        self.releases = releases.into_iter().map(|(version, pins)| Release { version, pins }).collect();
        self
    }

    /// The site's trust.
    pub fn trust(&self) -> &SiteTrust {
        &self.trust
    }

    /// The supported releases.
    pub fn releases(&self) -> &[Release] {
        &self.releases
    }

    /// Every address of the site a client can dial, on `port`, in plan order: each
    /// server's IP addresses and DNS names (`*.` patterns are not addresses and are left
    /// out).
    pub fn targets(&self, port: u16) -> Vec<Target> {
        let mut out: Vec<Target> = Vec::new();
        for (host, _) in self.trust.hosts() {
            if host.is_wildcard() {
                continue;
            }
            let t = Target { host: host.clone(), port, path: "/".into() };
            if !out.contains(&t) {
                out.push(t);
            }
        }
        out
    }

    /// The site's anchors and releases, with the anchors' own expiry against `thresholds`.
    pub fn summary(&self, now: OffsetDateTime, thresholds: Thresholds) -> SiteSummary {
        SiteSummary {
            site: self.trust.site.clone(),
            anchors: self
                .trust
                .anchors
                .iter()
                .map(|a| {
                    let days_left = days_until(a.not_after, now);
                    AnchorSummary {
                        stem: a.stem.clone(),
                        role: a.role,
                        subject: a.subject.clone(),
                        pin: a.pin,
                        not_after: a.not_after,
                        days_left,
                        status: thresholds.status(days_left),
                    }
                })
                .collect(),
            releases: self.releases.iter().map(|r| r.version.clone()).collect(),
        }
    }
}

/// One target to check.
#[derive(Clone, Debug)]
pub struct Probe {
    /// The server.
    pub target: Target,
    /// Its label.
    pub name: Option<String>,
    /// The site its apps trust (none: only reachability, name and dates are checked).
    pub site: Option<Arc<SiteContext>>,
}

/// Whole days from `now` to `at`, rounded down (negative once past).
pub fn days_until(at: OffsetDateTime, now: OffsetDateTime) -> i64 {
    (at - now).whole_seconds().div_euclid(86_400)
}

/// Probes every target, at most `options.concurrency` at once, each within
/// `options.timeout` of its own start, and assesses each as it completes; `progress` is
/// called with (done, total) after each. The reports are in the order of `probes`.
pub async fn run(probes: &[Probe], options: &Options, progress: &mut (dyn FnMut(usize, usize) + Send)) -> Round {
    let started = OffsetDateTime::now_utc();
    let clock = Instant::now();
    let slots = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    let (timeout, thresholds) = (options.timeout, options.thresholds);
    for (i, p) in probes.iter().enumerate() {
        let (p, slots) = (p.clone(), slots.clone());
        tasks.spawn(async move {
            // The semaphore is never closed, so acquiring only waits.
            let _slot = slots.acquire_owned().await;
            let start = Instant::now();
            let fetched = probe::fetch_chain(&p.target, None, timeout).await;
            let duration = start.elapsed();
            (i, assess(&p, fetched, duration, OffsetDateTime::now_utc(), thresholds))
        });
    }
    let mut reports: Vec<Option<Report>> = vec![None; probes.len()];
    let mut done = 0;
    while let Some(joined) = tasks.join_next().await {
        done += 1;
        if let Ok((i, report)) = joined {
            reports[i] = Some(report);
        }
        progress(done, probes.len());
    }
    let now = OffsetDateTime::now_utc();
    let reports = reports
        .into_iter()
        .zip(probes)
        .map(|(r, p)| {
            r.unwrap_or_else(|| {
                let e = pinset_net::Error {
                    target: p.target.authority(),
                    kind: ErrorKind::Io(std::io::Error::other("the probe stopped unexpectedly")),
                };
                assess(p, Err(e), Duration::ZERO, now, thresholds)
            })
        })
        .collect();
    let mut sites: Vec<&Arc<SiteContext>> = Vec::new();
    for s in probes.iter().filter_map(|p| p.site.as_ref()) {
        if !sites.iter().any(|k| Arc::ptr_eq(k, s)) {
            sites.push(s);
        }
    }
    let sites = sites.into_iter().map(|s| s.summary(now, thresholds)).collect();
    Round::new(started, clock.elapsed(), thresholds, sites, reports)
}

/// The kind of a probe failure, and the status it calls for.
fn classify(kind: &ErrorKind) -> (&'static str, Status) {
    match kind {
        ErrorKind::Resolve(_) => ("resolve", Status::Unknown),
        ErrorKind::Connect { .. } => ("connect", Status::Unknown),
        ErrorKind::TimedOut { .. } => ("timeout", Status::Unknown),
        ErrorKind::Io(_) => ("io", Status::Unknown),
        ErrorKind::BadServerName(_) => ("bad-server-name", Status::Unknown),
        ErrorKind::ClientCertificate { .. } => ("client-certificate", Status::Unknown),
        // The server answered, and no current client can complete a handshake with it.
        ErrorKind::LegacyTls => ("legacy-tls", Status::Critical),
        ErrorKind::Tls(_) => ("tls", Status::Critical),
        _ => ("other", Status::Unknown),
    }
}

/// The verifier's kind as a metric label and JSON value (`pin-mismatch`): its serde name.
fn kind_name(kind: pinset_tls::FailureKind) -> String {
    match serde_json::to_value(kind) {
        Ok(serde_json::Value::String(name)) => name,
        _ => format!("{kind:?}").to_ascii_lowercase(),
    }
}

fn date(t: OffsetDateTime) -> String {
    t.date().to_string()
}

/// Judges what the probe of `probe` fetched (or why it fetched nothing), at `now`.
pub fn assess(
    probe: &Probe,
    fetched: Result<Presented, pinset_net::Error>,
    duration: Duration,
    now: OffsetDateTime,
    thresholds: Thresholds,
) -> Report {
    let site = probe.site.as_deref();
    let mut report = Report {
        target: probe.target.authority(),
        name: probe.name.clone(),
        site: site.map(|s| s.trust.site.clone()),
        status: Status::Ok,
        problems: Vec::new(),
        reachable: false,
        address: None,
        failure: None,
        tls: None,
        presented: Vec::new(),
        presented_expiry: None,
        validated_chain: Vec::new(),
        validated_expiry: None,
        days_left: None,
        name_match: None,
        verify: None,
        pin: None,
        releases: Vec::new(),
        duration,
    };
    let mut problems = Vec::new();
    let presented = match fetched {
        Ok(p) => p,
        Err(e) => {
            let (kind, status) = classify(&e.kind);
            report.failure = Some(Failure { kind, detail: e.problem() });
            problems.push(Problem { status, text: e.problem() });
            report.releases = site
                .map(|s| {
                    s.releases
                        .iter()
                        .map(|r| ReleaseResult { release: r.version.clone(), can_connect: false })
                        .collect()
                })
                .unwrap_or_default();
            return finish(report, problems);
        }
    };
    report.reachable = true;
    report.address = Some(presented.addr);
    report.tls = Some(Tls { version: presented.tls.version.clone(), cipher: presented.tls.cipher.clone() });
    report.presented = presented.chain.iter().filter_map(|c| CertFacts::of(c)).collect();
    report.presented_expiry = chain::earliest(report.presented.iter().map(|c| c.not_after));
    let Some((leaf, rest)) = presented.chain.split_first() else {
        problems.push(Problem { status: Status::Critical, text: "the server sent no certificate".into() });
        return finish(report, problems);
    };
    let server_name = pinset_tls::probe::server_name(&probe.target.host).ok();
    report.name_match = match (&server_name, webpki::EndEntityCert::try_from(leaf)) {
        (Some(name), Ok(cert)) => Some(cert.verify_is_valid_for_subject_name(name).is_ok()),
        _ => None,
    };
    if let Some(site) = site {
        judge(site, probe, leaf, rest, &presented, server_name.as_ref(), now, &mut report, &mut problems);
    } else if report.name_match == Some(false) {
        problems.push(Problem {
            status: Status::Critical,
            text: format!("the certificate does not name {}: clients refuse it", probe.target.host),
        });
    }
    // Dates: the earlier of the presented and the validated chain's earliest expiry.
    let presented_first =
        report.presented.iter().min_by_key(|c| c.not_after).map(|c| (c.not_after, c.subject.clone(), "presented"));
    let validated_first = report
        .validated_chain
        .iter()
        .min_by_key(|l| l.not_after)
        .map(|l| (l.not_after, l.subject.clone(), if l.sent { "presented" } else { "site's anchor" }));
    let first = match (presented_first, validated_first) {
        (Some(p), Some(v)) => Some(if v.0 < p.0 { v } else { p }),
        (p, v) => p.or(v),
    };
    if let Some((at, subject, whose)) = first {
        let days = days_until(at, now);
        report.days_left = Some(days);
        let status = thresholds.status(days);
        if status != Status::Ok {
            let cn = if subject.is_empty() { String::new() } else { format!(" ({subject})") };
            let text = if at <= now {
                format!("a {whose} certificate{cn} expired on {}", date(at))
            } else {
                let limit = if status == Status::Critical { thresholds.crit_days } else { thresholds.warn_days };
                format!("a {whose} certificate{cn} expires on {}, in {days} days (under {limit} days)", date(at))
            };
            problems.push(Problem { status, text });
        }
    }
    finish(report, problems)
}

/// The site's part of an assessment: the verifier's verdict, the validated chain, the pin
/// matched, the releases that can connect.
#[allow(clippy::too_many_arguments)]
fn judge(
    site: &SiteContext,
    probe: &Probe,
    leaf: &rustls::pki_types::CertificateDer<'static>,
    rest: &[rustls::pki_types::CertificateDer<'static>],
    presented: &Presented,
    server_name: Option<&ServerName<'static>>,
    now: OffsetDateTime,
    report: &mut Report,
    problems: &mut Vec<Problem>,
) {
    let validated: Option<Vec<Link>> = chain::validated_chain(&site.trust.anchors, &presented.chain, now);
    if let Some(chain) = &validated {
        report.validated_expiry = chain::earliest(chain.iter().map(|l| l.not_after));
        report.validated_chain = chain.clone();
    }
    let unix_now = UnixTime::since_unix_epoch(Duration::from_secs(u64::try_from(now.unix_timestamp()).unwrap_or(0)));
    let result = server_name.map(|name| site.verifier.verify(leaf, rest, name, unix_now));
    let mut pins_apply = true;
    let verdict = match &result {
        Some(Ok(v)) => {
            let detail = match &v.pins {
                PinCheck::Matched { pin, .. } | PinCheck::MatchedWithoutNameCheck { pin } => {
                    if let pinset::trust::PinExpiry::Near { last, days_left } = site.trust.pin_expiry(now.date()) {
                        problems.push(Problem {
                            status: Status::Warning,
                            text: format!(
                                "the site's pins expire after {last} ({days_left} days left): apps then enforce \
                                 only its anchors; ship a release with a later pin expiration first"
                            ),
                        });
                    }
                    format!("valid for {}, pin {pin} matched", probe.target.host)
                }
                PinCheck::Expired { expired_after } => {
                    pins_apply = false;
                    problems.push(Problem {
                        status: Status::Warning,
                        text: format!(
                            "the site's pins expired after {expired_after}: apps enforce only its anchors now"
                        ),
                    });
                    format!("valid for {}, pins expired after {expired_after}", probe.target.host)
                }
                PinCheck::NoPins | PinCheck::MismatchReported => {
                    pins_apply = false;
                    format!("valid for {}, no pins apply", probe.target.host)
                }
            };
            Verdict { ok: true, reason: "ok".into(), detail }
        }
        Some(Err(e)) => {
            Verdict { ok: false, reason: kind_name(e.kind), detail: format!("{} ({})", e.kind.summary(), e.detail) }
        }
        None => Verdict {
            ok: false,
            reason: "bad-server-name".into(),
            detail: format!("{} is not a name a client can dial", probe.target.host),
        },
    };
    if !verdict.ok && verdict.reason != "expired" {
        problems.push(Problem { status: Status::Critical, text: format!("apps refuse it: {}", verdict.detail) });
    }
    // Which of the address's pins the chain carries: the validated chain when there is
    // one, else what was sent.
    let chain_pins: Vec<Pin> = match &validated {
        Some(chain) => chain.iter().map(|l| l.pin).collect(),
        None => report.presented.iter().map(|c| c.pin).collect(),
    };
    let host: &Host = &probe.target.host;
    report.pin = Some(match site.trust.pins_for(host) {
        None => PinMatch { kind: PinKind::None, pin: None, owner: None },
        Some(pins) => {
            let best = pins.iter().filter(|p| chain_pins.contains(&p.pin)).min_by_key(|p| p.role);
            match best {
                Some(p) => {
                    PinMatch { kind: PinKind::of_role(p.role), pin: Some(p.pin), owner: Some(p.owner.to_string()) }
                }
                None => PinMatch { kind: PinKind::None, pin: None, owner: None },
            }
        }
    });
    match report.pin.as_ref().map(|p| p.kind) {
        Some(PinKind::Standby) => problems.push(Problem {
            status: Status::Warning,
            text: "it serves the standby key: apps connect, but that key was to stay offline until a promotion \
                   the site records"
                .into(),
        }),
        Some(PinKind::Retiring) => problems.push(Problem {
            status: Status::Warning,
            text: "it still serves a retiring key: deploy the active one before the releases carrying the old pin \
                   are retired"
                .into(),
        }),
        _ => {}
    }
    // A release connects when its own pins would accept the chain: the chain validates and
    // names the address (the verifier checks both before the pins), and a pin the release
    // carries is in it, or no pins apply any more.
    let chain_good = verdict.ok || verdict.reason == "pin-mismatch";
    report.releases = site
        .releases
        .iter()
        .map(|r| ReleaseResult {
            release: r.version.clone(),
            can_connect: chain_good
                && validated.is_some()
                && (!pins_apply || r.pins.iter().any(|p| chain_pins.contains(p))),
        })
        .collect();
    let stranded: Vec<&str> = report.releases.iter().filter(|r| !r.can_connect).map(|r| r.release.as_str()).collect();
    if !stranded.is_empty() && verdict.ok {
        problems.push(Problem {
            status: Status::Critical,
            text: format!("supported releases that cannot connect: {}", stranded.join(", ")),
        });
    }
    report.verify = Some(verdict);
}

fn finish(mut report: Report, problems: Vec<Problem>) -> Report {
    report.status = problems.iter().fold(Status::Ok, |s, p| s.worst(p.status));
    // Worst first, the order otherwise kept.
    let mut problems = problems;
    problems.sort_by_key(|p| std::cmp::Reverse(rank(p.status)));
    report.problems = problems;
    report
}

fn rank(s: Status) -> u8 {
    match s {
        Status::Ok => 0,
        Status::Unknown => 1,
        Status::Warning => 2,
        Status::Critical => 3,
    }
}
