//! The site plan, `pinset.toml`: which identities a site has, which addresses each server
//! answers on, which keys are active and standby, and what apps pin. Private keys never
//! enter it; it names the files in `pki/` that hold them.
//!
//! Every field is documented in the README ("The site plan"). Unknown fields are errors,
//! so a typo is reported instead of silently ignored.

use std::net::IpAddr;
use std::path::Path;

use time::OffsetDateTime;

use crate::error::{Error, Remedy, Result};
use crate::pin::Pin;
use crate::pki::KeyType;

/// File name of the plan inside a site folder.
pub const PLAN_FILE: &str = "pinset.toml";
/// The schema version this pinset reads and writes.
pub const PLAN_VERSION: u32 = 1;

/// What apps pin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PinTarget {
    /// The authority's keys (active + standby root): servers can be re-issued freely.
    Ca,
    /// Each server's own keys (active + standby).
    Leaf,
}

/// How the site's certificates are anchored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthorityMode {
    /// A private root CA issues the servers' and clients' certificates.
    Ca,
    /// Each server certificate is its own anchor.
    SelfSigned,
}

/// One key: its file, its pin and, when it has one, its certificate.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySlot {
    /// Certificate (PEM), relative to the site folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert: Option<String>,
    /// Full chain (PEM, leaf first, root last), relative to the site folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain: Option<String>,
    /// Private key (PKCS#8 PEM, mode 0600), relative to the site folder.
    pub key: String,
    /// SPKI pin of the key.
    pub pin: Pin,
    /// Serial number of the certificate, lower-case hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// End of the certificate's validity.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "time::serde::rfc3339::option")]
    pub not_after: Option<OffsetDateTime>,
}

/// The authority.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authority {
    /// Private CA or self-signed.
    pub mode: AuthorityMode,
    /// The active root (CA mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<KeySlot>,
    /// The standby root (CA mode): its certificate already exists so apps ship it as a
    /// second anchor from day one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standby: Option<KeySlot>,
    /// The root a promotion replaced (CA mode): apps still carry it and client
    /// certificates it issued still chain to it, until it is retired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retiring: Option<KeySlot>,
}

/// A server identity.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Server {
    /// Name of the identity (also its folder under `pki/servers/`).
    pub name: String,
    /// IP addresses it answers on.
    #[serde(default)]
    pub ips: Vec<IpAddr>,
    /// DNS names it answers on.
    #[serde(default)]
    pub dns: Vec<String>,
    /// Key algorithm.
    pub key_type: KeyType,
    /// The key and certificate in use.
    pub active: KeySlot,
    /// The standby key, present when apps pin this server's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standby: Option<KeySlot>,
    /// The key a promotion replaced (apps pin this server's key): its pin stays in exports
    /// until it is retired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retiring: Option<KeySlot>,
}

/// A client identity for mutual TLS.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Client {
    /// Name of the identity (also its folder under `pki/clients/` and its CN).
    pub name: String,
    /// Key algorithm.
    pub key_type: KeyType,
    /// The key and certificate.
    pub active: KeySlot,
}

/// The whole plan.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SitePlan {
    /// Schema version: 1.
    pub version: u32,
    /// The site's name: the O of every certificate and part of the root's CN.
    pub name: String,
    /// What apps pin.
    pub pin: PinTarget,
    /// Last day apps enforce pins (`YYYY-MM-DD`, UTC); anchors still apply after it.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "ymd::option")]
    pub pin_expiration: Option<time::Date>,
    /// The authority.
    pub authority: Authority,
    /// Server identities.
    #[serde(default, rename = "server")]
    pub servers: Vec<Server>,
    /// Client identities.
    #[serde(default, rename = "client", skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<Client>,
}

const PLAN_HEADER: &str = "# pinset site plan. Written by pinset; every field is described in pinset's README\n# (\"The site plan\"). Private keys are never stored here, only the files in pki/ holding them.\n\n";

impl SitePlan {
    /// Reads and checks the plan at `path`.
    pub fn load(path: &Path) -> Result<SitePlan> {
        let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::Plan {
                path: path.to_path_buf(),
                problem: "not found: this folder is not a pinset site".into(),
                hint: Some(Remedy::CreateOrFindSite),
            },
            _ => Error::io("cannot read", path, e),
        })?;
        Self::parse(path, &text)
    }

    /// Parses and checks plan text; `path` is named in errors.
    pub fn parse(path: &Path, text: &str) -> Result<SitePlan> {
        let plan_err = |problem: String, hint: Option<&str>| Error::Plan {
            path: path.to_path_buf(),
            problem,
            hint: hint.map(Into::into),
        };
        // Read the version first, so a newer plan gets a version error, not a field error.
        if let Ok(table) = text.parse::<toml::Table>() {
            match table.get("version").and_then(|v| v.as_integer()) {
                Some(v) if v == i64::from(PLAN_VERSION) => {}
                Some(v) => {
                    return Err(plan_err(
                        format!("version = {v}, but this pinset reads version {PLAN_VERSION}"),
                        Some("use the pinset release that wrote this plan, or a newer one"),
                    ));
                }
                None => {
                    return Err(plan_err(
                        "no `version = 1` line".into(),
                        Some("the first line of a plan is `version = 1`"),
                    ));
                }
            }
        }
        let plan: SitePlan = toml::from_str(text).map_err(|e| {
            // One line: where, then what (toml's own text draws the line over several).
            let at = e.span().map(|span| {
                let before = &text[..span.start.min(text.len())];
                let line = before.matches('\n').count() + 1;
                let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                format!("line {line}, column {column}: ")
            });
            plan_err(
                format!("{}{}", at.unwrap_or_default(), e.message().trim_end()),
                Some("fix the field named above; the README lists every field"),
            )
        })?;
        plan.check(path)?;
        Ok(plan)
    }

    /// The plan as TOML, with its header comment.
    pub fn to_toml(&self) -> Result<String> {
        let body = toml::to_string(self).map_err(|e| Error::Crypto(format!("cannot encode site plan: {e}")))?;
        Ok(format!("{PLAN_HEADER}{body}"))
    }

    /// Writes the plan atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::atomic::write(path, self.to_toml()?.as_bytes(), crate::atomic::PUBLIC_MODE)
    }

    /// Consistency rules the type system does not express.
    fn check(&self, path: &Path) -> Result<()> {
        let bad = |problem: String| Error::Plan { path: path.to_path_buf(), problem, hint: None };
        match self.authority.mode {
            AuthorityMode::Ca if self.authority.active.is_none() || self.authority.standby.is_none() => {
                return Err(bad("[authority] mode = \"ca\" needs [authority.active] and [authority.standby]".into()));
            }
            AuthorityMode::SelfSigned if self.pin == PinTarget::Ca => {
                return Err(bad("a self-signed site has no CA to pin: set pin = \"leaf\"".into()));
            }
            _ => {}
        }
        check_site_name(&self.name).map_err(|e| bad(e.to_string()))?;
        let mut names = std::collections::HashSet::new();
        for s in &self.servers {
            check_name(&s.name).map_err(|e| bad(e.to_string()))?;
            if !names.insert(("server", s.name.as_str())) {
                return Err(bad(format!("two servers are named {:?}", s.name)));
            }
            if s.ips.is_empty() && s.dns.is_empty() {
                return Err(bad(format!("server {:?} has no ips and no dns names", s.name)));
            }
            for d in &s.dns {
                if d.to_ascii_lowercase() != *d || d.ends_with('.') {
                    return Err(bad(format!(
                        "server {:?}: DNS name {d:?} must be lower case without a final dot",
                        s.name
                    )));
                }
                crate::address::check_dns(d).map_err(|e| bad(format!("server {:?}: DNS name {d:?} {e}", s.name)))?;
            }
            for ip in &s.ips {
                crate::address::parse_ip(&ip.to_string()).map_err(|e| bad(format!("server {:?}: {e}", s.name)))?;
            }
            if self.pin == PinTarget::Leaf && s.standby.is_none() {
                return Err(bad(format!("apps pin server keys, but server {:?} has no [server.standby] key", s.name)));
            }
        }
        for c in &self.clients {
            check_name(&c.name).map_err(|e| bad(e.to_string()))?;
            if !names.insert(("client", c.name.as_str())) {
                return Err(bad(format!("two clients are named {:?}", c.name)));
            }
        }
        Ok(())
    }

    /// The server named `name`.
    pub fn server(&self, name: &str) -> Option<&Server> {
        self.servers.iter().find(|s| s.name == name)
    }

    /// The client named `name`.
    pub fn client(&self, name: &str) -> Option<&Client> {
        self.clients.iter().find(|c| c.name == name)
    }
}

/// Parses a `YYYY-MM-DD` date.
pub fn parse_date(s: &str) -> Result<time::Date> {
    time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|_| Error::bad_value("date", s, "is not a YYYY-MM-DD date", None))
}

/// Serde of `YYYY-MM-DD` dates, as plans and JSON reports write them: `ymd::option` for an
/// `Option<Date>`.
#[allow(missing_docs)]
pub mod date {
    time::serde::format_description!(pub ymd, Date, "[year]-[month]-[day]");
}
use date::ymd;

/// How far ahead pinset warns that pins stop being enforced: an app release carrying a
/// later date takes weeks to pass store review and reach most of its users.
pub const PIN_EXPIRY_WARN_DAYS: i64 = 60;

/// Reads a pin expiration date, `YYYY-MM-DD` (UTC).
pub fn parse_pin_expiration(text: &str) -> Result<time::Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text.trim(), &format).map_err(|_| {
        Error::bad_value(
            "pin expiration",
            text,
            "is not a date as YYYY-MM-DD",
            Some("give the last day apps enforce the pins, e.g. 2027-12-31 (UTC)"),
        )
    })
}

/// Checks a pin expiration date set on `today` (UTC): a day before today is refused, since
/// apps would then carry pin-sets that are already off, which turns pinning off without a
/// word. The day itself is allowed: pins apply up to and including their last day.
pub fn check_pin_expiration(last: time::Date, today: time::Date) -> Result<()> {
    if last < today {
        return Err(Error::bad_value(
            "pin expiration",
            &last.to_string(),
            format!("is in the past (today is {today}): apps would export pin-sets that are already off"),
            Some("give a later day, far enough for a release with new pins to reach every user"),
        ));
    }
    Ok(())
}

/// Checks a site name: 1 to 64 characters on one line. It goes into certificate subjects
/// and into the comments and messages of every export, so a line break (or a Unicode line
/// separator, which JavaScript and C# end comments at) would let it out of them.
pub fn check_site_name(name: &str) -> Result<()> {
    let breaks_lines = |c: char| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}');
    if name.trim().is_empty() || name.len() > 64 || name.chars().any(breaks_lines) {
        return Err(Error::bad_value("site name", name, "must be 1 to 64 printable characters on one line", None)
            .with_remedy(Remedy::NameTheSite));
    }
    Ok(())
}

/// Checks an identity name: it becomes a folder name and a certificate CN.
pub fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        && name.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(Error::bad_value(
            "name",
            name,
            "must be 1 to 64 letters, digits, '-', '_' or '.', starting with a letter or digit",
            Some("it becomes a folder name in pki/, e.g. `backoffice` or `till-3`"),
        ))
    }
}
