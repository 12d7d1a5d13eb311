//! What `init` and `issue server` share: the server request made from the command line, the
//! platform rules checked on a new certificate, and the report of the site they print.

use std::path::Path;
use std::time::Duration;

use pinset::lint::{self, Finding, Host, Platform};
use pinset::pki::KeyType;
use pinset::plan::{AuthorityMode, PinTarget};
use pinset::recovery::Leftover;
use pinset::site::{Exclusive, ServerRequest, Site};
use pinset::{SiteTrust, TrustPin};

use crate::cli::{ServerArgs, WaitArg};
use crate::output::{self, untrusted};

/// Runs `change` with the site in `dir` to itself: waiting as `--wait` says, saying once on
/// stderr that it waits, and noting each leftover of an interrupted command it removes.
pub fn exclusive<T>(dir: &Path, wait: &WaitArg, change: impl FnOnce(&Exclusive<'_>) -> T) -> T {
    let on_busy = || {
        output::message(&format!(
            "waiting for another pinset command changing this site ({}) to finish (at most {} s; --wait SECS)…\n",
            untrusted(&dir.display().to_string()),
            wait.wait
        ));
    };
    let on_leftover = |leftover: &Leftover| output::note(&untrusted(&leftover.to_string()));
    change(&Exclusive { wait: Duration::from_secs(wait.wait), on_busy: &on_busy, on_leftover: &on_leftover })
}

/// Turns command-line addresses into a checked request; every bad value is named.
pub fn server_request(name: &str, args: &ServerArgs) -> anyhow::Result<ServerRequest> {
    if args.ips.len() + args.dns.len() > pinset::site::MAX_ADDRESSES {
        // Refused before parsing thousands of values.
        anyhow::bail!(pinset::Error::bad_value(
            "server",
            name,
            format!(
                "has {} addresses; one certificate names at most {}",
                args.ips.len() + args.dns.len(),
                pinset::site::MAX_ADDRESSES
            ),
            Some("issue one server identity per machine, each with the addresses it answers on"),
        ));
    }
    let ips = args.ips.iter().map(|s| pinset::address::parse_ip(s)).collect::<pinset::Result<Vec<_>>>()?;
    let dns = args.dns.iter().map(|s| pinset::address::parse_dns(s)).collect::<pinset::Result<Vec<_>>>()?;
    Ok(ServerRequest {
        name: name.to_string(),
        ips,
        dns,
        key_type: args.key_type.parse::<KeyType>()?,
        days: args.days,
        allow_long_validity: args.allow_long_validity,
    })
}

/// Lints the new server certificate (with its chain) for each of its addresses on every
/// platform, and prints each finding on stderr as a warning: the certificate is issued
/// either way, and a normal one has no finding.
pub fn warn_about_platform_rules(site: &Site, name: &str) {
    match server_findings(site, name) {
        Ok(findings) => {
            for f in findings {
                output::message(&format!(
                    "warning: {}\n  fix: {}\n  source: {}\n",
                    untrusted(&f.to_string()),
                    output::fix_text(&f, Some(name)),
                    f.source
                ));
            }
        }
        Err(e) => output::warn(&format!("cannot check the new certificate against platform rules: {e}")),
    }
}

fn server_findings(site: &Site, name: &str) -> anyhow::Result<Vec<Finding>> {
    let server = site.plan.server(name).ok_or_else(|| anyhow::anyhow!("server {name:?} is not in the plan"))?;
    let Some(rel) = server.active.chain.as_deref().or(server.active.cert.as_deref()) else {
        return Ok(Vec::new());
    };
    let path = site.path(rel);
    let label = path.display().to_string();
    let bytes =
        std::fs::read(&path).map_err(|e| pinset::Error::Io { action: "cannot read", path: path.clone(), source: e })?;
    let chain = pinset::input::read_certificates(&label, &bytes)?;
    let now = time::OffsetDateTime::now_utc();
    let hosts: Vec<Host> =
        server.ips.iter().map(|ip| Host::Ip(*ip)).chain(server.dns.iter().map(|d| Host::Dns(d.clone()))).collect();
    let mut findings: Vec<Finding> = Vec::new();
    let runs = if hosts.is_empty() { vec![None] } else { hosts.iter().map(Some).collect() };
    for host in runs {
        for f in lint::lint(&label, &chain, host, &Platform::ALL, now)? {
            // Rules that do not depend on the address repeat for every address: once is enough.
            if !findings.iter().any(|g| g.rule == f.rule && g.certificate == f.certificate && g.message == f.message) {
                findings.push(f);
            }
        }
    }
    Ok(findings)
}

/// What `init` and `issue server` print: the anchors, each server with its files, and the
/// pins apps carry.
#[derive(serde::Serialize)]
pub struct SiteReport {
    site: String,
    authority: &'static str,
    pin: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pin_expiration: Option<String>,
    anchors: Vec<String>,
    servers: Vec<ServerReport>,
    app_pins: Vec<TrustPin>,
}

#[derive(serde::Serialize)]
struct ServerReport {
    name: String,
    addresses: Vec<String>,
    cert: String,
    chain: String,
    key: String,
    standby_key: Option<String>,
    not_after: Option<String>,
}

impl SiteReport {
    /// The report of a site, from its plan and its trust.
    pub fn of(site: &Site, trust: &SiteTrust) -> SiteReport {
        let show = |rel: &str| site.path(rel).display().to_string();
        SiteReport {
            site: trust.site.clone(),
            authority: match trust.mode {
                AuthorityMode::Ca => "ca",
                AuthorityMode::SelfSigned => "self-signed",
            },
            pin: match trust.pin_target {
                PinTarget::Ca => "ca",
                PinTarget::Leaf => "leaf",
            },
            pin_expiration: trust.pins_expire_after.map(|d| d.to_string()),
            anchors: trust.anchors.iter().map(|a| a.path.display().to_string()).collect(),
            servers: site
                .plan
                .servers
                .iter()
                .map(|s| ServerReport {
                    name: s.name.clone(),
                    addresses: s.ips.iter().map(ToString::to_string).chain(s.dns.iter().cloned()).collect(),
                    cert: s.active.cert.as_deref().map(show).unwrap_or_default(),
                    chain: s.active.chain.as_deref().map(show).unwrap_or_default(),
                    key: show(&s.active.key),
                    standby_key: s.standby.as_ref().map(|st| show(&st.key)),
                    not_after: s.active.not_after.map(|t| t.date().to_string()),
                })
                .collect(),
            app_pins: trust.app_pins(),
        }
    }

    /// The report as a person reads it.
    pub fn to_text(&self) -> String {
        let mut t = String::new();
        t.push_str("Trust anchors (bundle these in apps):\n");
        for a in &self.anchors {
            t.push_str(&format!("  {}\n", untrusted(a)));
        }
        for s in &self.servers {
            t.push_str(&format!("Server {:?} for {}:\n", s.name, s.addresses.join(", ")));
            t.push_str(&format!(
                "  certificate  {}\n  chain        {}\n  key          {}\n",
                untrusted(&s.cert),
                untrusted(&s.chain),
                untrusted(&s.key)
            ));
            if let Some(k) = &s.standby_key {
                t.push_str(&format!("  standby key  {}\n", untrusted(k)));
            }
            if let Some(d) = &s.not_after {
                t.push_str(&format!("  valid until  {d}\n"));
            }
        }
        t.push_str("Pins apps carry (SPKI SHA-256; ship both, the standby is the way out of a lost key):\n");
        for p in &self.app_pins {
            t.push_str(&format!("  {:<8} {:<20} {}\n", p.role.name(), p.owner.to_string(), p.pin));
        }
        if let Some(day) = &self.pin_expiration {
            t.push_str(&format!("Pins are enforced up to and including {day} (UTC); after it, the anchors alone.\n"));
        }
        t
    }
}
