//! `pinset issue server` and `pinset issue client`.

use std::io::Write as _;
use std::process::ExitCode;

use pinset::lint::{self, Finding, Host, Platform};
use pinset::pki::{KeyType, P12Profile};
use pinset::plan::{self, AuthorityMode};
use pinset::site::{ClientRequest, ServerRequest, Site};

use crate::cli::{IssueClientArgs, IssueServerArgs, P12ProfileArg, ServerArgs};
use crate::output;

/// Turns command-line addresses into a checked request; every bad value is named.
pub fn server_request(name: &str, args: &ServerArgs) -> anyhow::Result<ServerRequest> {
    let ips = args.ips.iter().map(|s| plan::parse_ip(s)).collect::<pinset::Result<Vec<_>>>()?;
    let dns = args.dns.iter().map(|s| plan::parse_dns(s)).collect::<pinset::Result<Vec<_>>>()?;
    Ok(ServerRequest {
        name: name.to_string(),
        ips,
        dns,
        key_type: args.key_type.parse::<KeyType>()?,
        days: args.days,
        allow_long_validity: args.allow_long_validity,
    })
}

/// Issues a server certificate into the site.
pub fn server(args: IssueServerArgs) -> anyhow::Result<ExitCode> {
    let mut site = Site::open(&output::site_dir(args.site.site.as_deref()))?;
    let req = server_request(&args.name, &args.server)?;
    site.issue_server(&req)?;
    warn_about_platform_rules(&site, &args.name);
    let report = site_report(&site);
    if args.json {
        output::emit_json(&report)?;
    } else {
        output::emit(&format!("Issued server {:?}\n\n{}", args.name, report.to_text()))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Lints the new server certificate (with its chain) for each of its addresses on every
/// platform, and prints each finding on stderr as a warning: the certificate is issued
/// either way, and a normal one has no finding.
pub fn warn_about_platform_rules(site: &Site, name: &str) {
    let mut text = String::new();
    match server_findings(site, name) {
        Ok(findings) => {
            for f in findings {
                let fix = f.fix.replace("pinset issue server NAME", &format!("pinset issue server {name}"));
                text.push_str(&format!("warning: {f}\n  fix: {fix}\n  source: {}\n", f.source));
            }
        }
        Err(e) => text.push_str(&format!("warning: cannot check the new certificate against platform rules: {e}\n")),
    }
    let _ = std::io::stderr().write_all(text.as_bytes());
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

/// Issues a client certificate for mutual TLS.
pub fn client(args: IssueClientArgs) -> anyhow::Result<ExitCode> {
    let mut site = Site::open(&output::site_dir(args.site.site.as_deref()))?;
    let password =
        output::password(args.password_file.as_deref(), &format!("the PKCS#12 file of client {:?}", args.name), true)?;
    let req = ClientRequest {
        name: args.name.clone(),
        key_type: args.key_type.parse::<KeyType>()?,
        days: args.days,
        p12_profile: match args.p12_profile {
            P12ProfileArg::Modern => P12Profile::Modern,
            P12ProfileArg::Legacy => P12Profile::Legacy,
        },
        password,
    };
    let files = site.issue_client(&req)?;
    let pin = site.plan.client(&args.name).map(|c| c.active.pin);
    if args.json {
        output::emit_json(&serde_json::json!({ "client": args.name, "files": files, "spki_sha256": pin }))?;
    } else {
        let mut text = format!("Issued client {:?}\n", args.name);
        for (label, path) in [
            ("key", Some(&files.key)),
            ("certificate", Some(&files.cert)),
            ("chain", files.chain.as_ref()),
            ("DER", Some(&files.cer)),
            ("PKCS#12", files.p12.as_ref()),
        ] {
            if let Some(path) = path {
                text.push_str(&format!("  {label:<12} {}\n", site.path(path).display()));
            }
        }
        if let Some(pin) = pin {
            text.push_str(&format!("  {:<12} {pin}\n", "pin"));
        }
        output::emit(&text)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// What `init` and `issue server` print: each server with its files, and the app pins.
#[derive(serde::Serialize)]
pub struct SiteReport {
    site: String,
    authority: &'static str,
    pin: &'static str,
    anchors: Vec<String>,
    servers: Vec<ServerReport>,
    app_pins: Vec<pinset::site::AppPin>,
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

/// Builds the report of a site.
pub fn site_report(site: &Site) -> SiteReport {
    let show = |rel: &str| site.path(rel).display().to_string();
    let anchors = match site.plan.authority.mode {
        AuthorityMode::Ca => site
            .plan
            .authority
            .active
            .iter()
            .chain(&site.plan.authority.standby)
            .filter_map(|s| s.cert.as_deref().map(show))
            .collect(),
        AuthorityMode::SelfSigned => site
            .plan
            .servers
            .iter()
            .flat_map(|s| [s.active.cert.as_deref(), s.standby.as_ref().and_then(|st| st.cert.as_deref())])
            .flatten()
            .map(show)
            .collect(),
    };
    SiteReport {
        site: site.plan.name.clone(),
        authority: match site.plan.authority.mode {
            AuthorityMode::Ca => "ca",
            AuthorityMode::SelfSigned => "self-signed",
        },
        pin: match site.plan.pin {
            plan::PinTarget::Ca => "ca",
            plan::PinTarget::Leaf => "leaf",
        },
        anchors,
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
        app_pins: site.app_pins(),
    }
}

impl SiteReport {
    /// The report as a person reads it.
    pub fn to_text(&self) -> String {
        let mut t = String::new();
        t.push_str("Trust anchors (bundle these in apps):\n");
        for a in &self.anchors {
            t.push_str(&format!("  {a}\n"));
        }
        for s in &self.servers {
            t.push_str(&format!("Server {:?} for {}:\n", s.name, s.addresses.join(", ")));
            t.push_str(&format!("  certificate  {}\n  chain        {}\n  key          {}\n", s.cert, s.chain, s.key));
            if let Some(k) = &s.standby_key {
                t.push_str(&format!("  standby key  {k}\n"));
            }
            if let Some(d) = &s.not_after {
                t.push_str(&format!("  valid until  {d}\n"));
            }
        }
        t.push_str("Pins apps carry (SPKI SHA-256; ship both, the standby is the way out of a lost key):\n");
        for p in &self.app_pins {
            t.push_str(&format!("  {:<8} {:<20} {}\n", p.role, p.owner, p.pin));
        }
        t
    }
}
