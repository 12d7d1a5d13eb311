//! The site's trust as apps see it, read once from the plan and `pki/`: the anchors apps
//! bundle, and for every address the pins that may appear for it, each with its owner and
//! role. Exports, verifiers, `pin` and every report read this one value ([`SiteTrust`]);
//! nothing else derives pins from the plan or parses the pin expiry.
//!
//! What apps pin follows the plan's `pin`:
//! - `ca`: every address carries the authority's keys (active and standby roots), so server
//!   certificates can be re-issued without an app update;
//! - `leaf`: every address carries the keys of the server answering on it (active and
//!   standby).
//!
//! After a promotion the key it replaced is `retiring`: its pin (and, where it is an
//! anchor, its certificate) stays in the trust, after the active and standby ones, until
//! the rotation retires it, so a server still presenting it keeps its apps.
//!
//! A pin-set applies up to and including [`SiteTrust::pins_expire_after`]; after that day
//! apps skip pins and keep enforcing the anchors (docs/platforms.md, Android: pins stop at
//! the start of the expiration day, so exports add a day where a platform counts that way).

use std::path::PathBuf;

use time::{Date, OffsetDateTime};

use crate::address::Host;
use crate::error::{Error, Result};
use crate::pin::Pin;
use crate::plan::{AuthorityMode, KeySlot, PinTarget};
use crate::site::Site;

/// The part a key plays in the site's life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Role {
    /// In use: servers present it (or certificates chain to it) today.
    Active,
    /// Created beside the active key and kept offline; apps ship its pin from day one so
    /// promoting it needs no app update.
    Standby,
    /// Replaced by a promotion; apps still carry its pin until no supported release
    /// depends on it being served.
    Retiring,
}

impl Role {
    /// The role's name in plans, exports and reports.
    pub fn name(self) -> &'static str {
        match self {
            Role::Active => "active",
            Role::Standby => "standby",
            Role::Retiring => "retiring",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Whose key a pin is.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Owner {
    /// The site's authority (its private CA).
    Authority,
    /// The server identity of that name.
    Server(String),
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Owner::Authority => f.write_str("authority"),
            Owner::Server(name) => write!(f, "server {name}"),
        }
    }
}

impl serde::Serialize for Owner {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A pin apps carry, with whose key it is and the part that key plays.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TrustPin {
    /// The pin.
    pub pin: Pin,
    /// Active, standby or retiring.
    pub role: Role,
    /// Whose key.
    pub owner: Owner,
}

/// A certificate apps trust as an anchor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anchor {
    /// Short name for file names: `ca`, `ca-standby`, `ca-retiring`, `SERVER`,
    /// `SERVER-standby`, `SERVER-retiring`.
    pub stem: String,
    /// Active, standby or retiring.
    pub role: Role,
    /// Whose key.
    pub owner: Owner,
    /// Subject, CN first.
    pub subject: String,
    /// The certificate, DER.
    pub der: Vec<u8>,
    /// The certificate, PEM (LF line endings).
    pub pem: String,
    /// The pin of its key.
    pub pin: Pin,
    /// End of its validity: validators do not check an anchor's own dates, so this is for
    /// reports and monitoring.
    pub not_after: OffsetDateTime,
    /// The file it was read from.
    pub path: PathBuf,
}

/// A server identity and what apps check for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerTrust {
    /// Name of the identity.
    pub name: String,
    /// Its addresses: IPs first, then DNS names (perhaps `*.` patterns), in plan order.
    pub hosts: Vec<Host>,
    /// The pins apps carry for it: the authority's (pin = "ca") or its own (pin = "leaf").
    pub pins: Vec<TrustPin>,
    /// Its own keys (active, then standby and retiring when it has them), for platforms
    /// that can only check the leaf.
    pub leaf_pins: Vec<TrustPin>,
}

impl ServerTrust {
    /// Whether one of its addresses covers `dialled`.
    pub fn answers(&self, dialled: &Host) -> bool {
        self.hosts.iter().any(|h| h.matches(dialled))
    }
}

/// Where the pins' last day stands on a given day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinExpiry {
    /// The plan sets no last day: pins are enforced until the apps change.
    Never,
    /// Pins are enforced up to and including `last`, which is far enough away.
    Until {
        /// The last day.
        last: Date,
    },
    /// Pins are enforced up to and including `last`, fewer than
    /// [`crate::plan::PIN_EXPIRY_WARN_DAYS`] days away: a release with a later date must
    /// reach users before then.
    Near {
        /// The last day.
        last: Date,
        /// Days from the day asked about to the last day (0: it is the last day).
        days_left: i64,
    },
    /// Past the last day: apps enforce only the anchors.
    Expired {
        /// The last day.
        last: Date,
    },
}

impl PinExpiry {
    /// A sentence for a warning, when there is something to warn about.
    pub fn warning(&self) -> Option<String> {
        match self {
            PinExpiry::Never | PinExpiry::Until { .. } => None,
            PinExpiry::Near { last, days_left } => Some(format!(
                "apps stop enforcing the pins after {last} ({}): ship a release with a later pin expiration \
                 before then, or pinning turns off",
                match days_left {
                    0 => "today is the last day".to_string(),
                    1 => "1 day left".to_string(),
                    n => format!("{n} days left"),
                }
            )),
            PinExpiry::Expired { last } => Some(format!(
                "the pins expired after {last}: apps carrying them enforce only the anchors, so pinning is off; \
                 set a later pin expiration and ship a release with it"
            )),
        }
    }
}

/// Everything apps trust for a site: read once from the plan and the anchor files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteTrust {
    /// The site's name.
    pub site: String,
    /// What apps pin.
    pub pin_target: PinTarget,
    /// How the site is anchored.
    pub mode: AuthorityMode,
    /// Last day pins are enforced (UTC), if the plan sets one.
    pub pins_expire_after: Option<Date>,
    /// The server identities, in plan order.
    pub servers: Vec<ServerTrust>,
    /// The anchors, active before standby before retiring.
    pub anchors: Vec<Anchor>,
}

impl SiteTrust {
    /// Reads the plan's trust and the anchor certificates of `site`, checking each anchor's
    /// key against the pin the plan records (a swapped file is refused, naming it).
    pub fn of_site(site: &Site) -> Result<SiteTrust> {
        let plan = &site.plan;
        let authority_pins: Vec<TrustPin> = [
            (Role::Active, &plan.authority.active),
            (Role::Standby, &plan.authority.standby),
            (Role::Retiring, &plan.authority.retiring),
        ]
        .into_iter()
        .filter_map(|(role, slot)| slot.as_ref().map(|s| TrustPin { pin: s.pin, role, owner: Owner::Authority }))
        .collect();
        let mut servers = Vec::new();
        for s in &plan.servers {
            let owner = Owner::Server(s.name.clone());
            let mut leaf_pins = vec![TrustPin { pin: s.active.pin, role: Role::Active, owner: owner.clone() }];
            leaf_pins.extend(s.standby.iter().map(|st| TrustPin {
                pin: st.pin,
                role: Role::Standby,
                owner: owner.clone(),
            }));
            leaf_pins.extend(s.retiring.iter().map(|r| TrustPin {
                pin: r.pin,
                role: Role::Retiring,
                owner: owner.clone(),
            }));
            let pins = match plan.pin {
                PinTarget::Ca => authority_pins.clone(),
                PinTarget::Leaf => leaf_pins.clone(),
            };
            let hosts =
                s.ips.iter().map(|ip| Host::Ip(*ip)).chain(s.dns.iter().map(|d| Host::Dns(d.clone()))).collect();
            servers.push(ServerTrust { name: s.name.clone(), hosts, pins, leaf_pins });
        }
        let mut slots: Vec<(String, Role, Owner, &KeySlot)> = Vec::new();
        match plan.authority.mode {
            AuthorityMode::Ca => {
                slots.extend(
                    plan.authority.active.iter().map(|s| ("ca".to_string(), Role::Active, Owner::Authority, s)),
                );
                slots.extend(
                    plan.authority
                        .standby
                        .iter()
                        .map(|s| ("ca-standby".to_string(), Role::Standby, Owner::Authority, s)),
                );
                slots.extend(
                    plan.authority
                        .retiring
                        .iter()
                        .map(|s| ("ca-retiring".to_string(), Role::Retiring, Owner::Authority, s)),
                );
            }
            AuthorityMode::SelfSigned => {
                for s in &plan.servers {
                    let owner = Owner::Server(s.name.clone());
                    slots.push((s.name.clone(), Role::Active, owner.clone(), &s.active));
                    slots.extend(
                        s.standby.iter().map(|st| (format!("{}-standby", s.name), Role::Standby, owner.clone(), st)),
                    );
                    slots.extend(
                        s.retiring.iter().map(|r| (format!("{}-retiring", s.name), Role::Retiring, owner.clone(), r)),
                    );
                }
            }
        }
        let mut anchors = Vec::new();
        for (stem, role, owner, slot) in slots {
            let Some(rel) = &slot.cert else { continue };
            let path = site.path(rel);
            let bytes = std::fs::read(&path).map_err(|e| Error::io("cannot read", &path, e))?;
            let label = path.display().to_string();
            let der = crate::input::read_certificates(&label, &bytes)?.into_iter().next().ok_or_else(|| {
                Error::bad_input(&label, "holds no certificate", Some("restore it from a backup of the site"))
            })?;
            let parsed = crate::cert::parse(&label, &der)?;
            let subject = crate::cert::name_to_string(parsed.subject());
            let not_after = parsed.validity().not_after.to_datetime();
            let pin = Pin::of_spki(parsed.tbs_certificate.subject_pki.raw);
            if pin != slot.pin {
                return Err(Error::bad_input(
                    &label,
                    format!("holds a key whose pin {pin} is not the plan's {}", slot.pin),
                    Some("the plan and pki/ disagree; restore both from the same backup"),
                ));
            }
            let pem = pem::encode_config(
                &pem::Pem::new("CERTIFICATE", der.clone()),
                pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
            );
            anchors.push(Anchor { stem, role, owner, subject, der, pem, pin, not_after, path });
        }
        Ok(SiteTrust {
            site: plan.name.clone(),
            pin_target: plan.pin,
            mode: plan.authority.mode,
            pins_expire_after: plan.pin_expiration,
            servers,
            anchors,
        })
    }

    /// Every address of every server with the server answering on it, in plan order.
    pub fn hosts(&self) -> impl Iterator<Item = (&Host, &ServerTrust)> {
        self.servers.iter().flat_map(|s| s.hosts.iter().map(move |h| (h, s)))
    }

    /// The servers whose addresses cover `dialled`.
    pub fn servers_for<'a>(&'a self, dialled: &'a Host) -> impl Iterator<Item = &'a ServerTrust> + 'a {
        self.servers.iter().filter(move |s| s.answers(dialled))
    }

    /// The pins that may appear for `dialled`, each once (the pins of every server whose
    /// addresses cover it); `None` when no server of the site answers on it.
    pub fn pins_for(&self, dialled: &Host) -> Option<Vec<TrustPin>> {
        let mut servers = self.servers_for(dialled).peekable();
        servers.peek()?;
        Some(dedup(servers.flat_map(|s| s.pins.iter())))
    }

    /// The pins apps carry, each once, in plan order (active before standby).
    pub fn app_pins(&self) -> Vec<TrustPin> {
        dedup(self.servers.iter().flat_map(|s| s.pins.iter()))
    }

    /// Every server's own keys, each once: what leaf-only platforms (curl, Chromium) check.
    pub fn leaf_pins(&self) -> Vec<TrustPin> {
        dedup(self.servers.iter().flat_map(|s| s.leaf_pins.iter()))
    }

    /// Where the pins' last day stands on `today` (UTC).
    pub fn pin_expiry(&self, today: Date) -> PinExpiry {
        match self.pins_expire_after {
            None => PinExpiry::Never,
            Some(last) if today > last => PinExpiry::Expired { last },
            Some(last) => {
                let days_left = (last - today).whole_days();
                if days_left < crate::plan::PIN_EXPIRY_WARN_DAYS {
                    PinExpiry::Near { last, days_left }
                } else {
                    PinExpiry::Until { last }
                }
            }
        }
    }

    /// Whether pins are past their last day on `today` (UTC): apps then enforce only the
    /// anchors.
    pub fn pins_expired_on(&self, today: Date) -> bool {
        self.pins_expire_after.is_some_and(|last| today > last)
    }

    /// The anchors as one PEM bundle, active first.
    pub fn anchors_pem(&self) -> String {
        self.anchors.iter().map(|a| a.pem.as_str()).collect()
    }

    /// An address of the site for examples: the first server's first, IPv6 in brackets
    /// (`192.0.2.1`, a documentation address, for a site without servers).
    pub fn example_host(&self) -> String {
        self.hosts().next().map_or_else(|| "192.0.2.1".to_string(), |(h, _)| h.url_host())
    }

    /// The site name as an identifier fragment: lower case, `[a-z0-9_]`.
    pub fn ident(&self) -> String {
        crate::export::ident(&self.site)
    }

    /// The part of the site an export is for: the addresses of the servers or addresses
    /// named in `only` (all of them when `only` is empty), less those named in `exclude`.
    /// A name is a server identity's name (all its addresses) or one address as the plan
    /// spells it (`127.0.0.1`, `fd00::10`, `hub.local`, `*.wards.example`). A server left
    /// with no address is dropped, and with it (self-signed) its own anchors, so a test
    /// server on 127.0.0.1 can be kept out of the files a release ships.
    ///
    /// A name that is neither is refused, naming the servers and addresses there are, and
    /// so is a selection that leaves no address.
    pub fn select(&self, only: &[String], exclude: &[String]) -> Result<SiteTrust> {
        if only.is_empty() && exclude.is_empty() {
            return Ok(self.clone());
        }
        for name in only.iter().chain(exclude) {
            if !self.servers.iter().any(|s| s.name == *name) && self.named_hosts(name).is_empty() {
                return Err(Error::bad_value(
                    "server or address",
                    name,
                    format!("is neither a server nor an address of site {}", self.site),
                    Some(&format!("the site's servers and addresses are: {}", self.describe_hosts())),
                ));
            }
        }
        let picks = |name: &str, server: &ServerTrust, host: &Host| {
            server.name == name || self.named_hosts(name).contains(host)
        };
        let mut out = self.clone();
        for server in &mut out.servers {
            let whole = server.clone();
            server.hosts.retain(|h| {
                (only.is_empty() || only.iter().any(|n| picks(n, &whole, h)))
                    && !exclude.iter().any(|n| picks(n, &whole, h))
            });
        }
        out.servers.retain(|s| !s.hosts.is_empty());
        if out.servers.is_empty() {
            let asked: Vec<String> =
                only.iter().map(|n| format!("only {n}")).chain(exclude.iter().map(|n| format!("not {n}"))).collect();
            return Err(Error::bad_value(
                "selection",
                &asked.join(", "),
                format!("leaves no address of site {} to export", self.site),
                Some(&format!("the site's servers and addresses are: {}", self.describe_hosts())),
            ));
        }
        out.anchors.retain(|a| match &a.owner {
            Owner::Authority => true,
            Owner::Server(name) => out.servers.iter().any(|s| s.name == *name),
        });
        Ok(out)
    }

    /// The addresses of the site spelt `name` (one address may be a host of two servers).
    fn named_hosts(&self, name: &str) -> Vec<Host> {
        let parsed = Host::parse_pattern(name).ok();
        self.hosts()
            .map(|(h, _)| h)
            .filter(|h| h.to_string() == name.to_ascii_lowercase() || parsed.as_ref() == Some(*h))
            .cloned()
            .collect()
    }

    /// `server NAME (ADDR, ADDR); …`, for messages.
    fn describe_hosts(&self) -> String {
        self.servers
            .iter()
            .map(|s| {
                let hosts: Vec<String> = s.hosts.iter().map(ToString::to_string).collect();
                format!("server {} ({})", s.name, hosts.join(", "))
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn dedup<'a>(pins: impl Iterator<Item = &'a TrustPin>) -> Vec<TrustPin> {
    let mut out: Vec<TrustPin> = Vec::new();
    for p in pins {
        if !out.iter().any(|o| o.pin == p.pin) {
            out.push(p.clone());
        }
    }
    out
}
