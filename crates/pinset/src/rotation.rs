//! Keeping a site alive: renewal (new certificates for the same keys, so no pin changes),
//! promotion of the standby keys (what apps pin: the CA's key when they pin the CA, each
//! server's key when they pin servers), and retirement of the key a promotion replaced.
//!
//! Promotion and retirement never cut off a supported app release unless told to: each
//! supported release (see [`crate::ledger::Release`]) must carry a pin of every chain the
//! servers will present afterwards. A refusal names each release and what it would see; a
//! forced step reports exactly which releases stop connecting.
//!
//! Every step changes many files at once through [`crate::change`], so a crash at any
//! moment leaves the old site or the new one.

use rcgen::PublicKeyData as _;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::atomic::{PUBLIC_MODE, SECRET_MODE};
use crate::change::{self, NewFile};
use crate::error::{Error, Remedy, Result};
use crate::ledger::{CertKind, Record, Release};
use crate::pin::Pin;
use crate::pki::{self, Issued, KeyType, LeafKind, LeafSpec, Standby};
use crate::plan::{AuthorityMode, KeySlot, PinTarget, Server, SitePlan};
use crate::site::Site;

/// Renewal's default window: certificates ending within 30 days are renewed, a month
/// ahead so a failed renewal is noticed (and `check` warns at 30 days) before any expires.
pub const RENEW_WITHIN_DAYS: u32 = 30;

/// What [`Site::renew`] does.
#[derive(Clone, Debug)]
pub struct RenewOptions {
    /// Only this server identity (all of them when `None`).
    pub name: Option<String>,
    /// Renew certificates that end within this many days.
    pub within_days: u32,
    /// Validity of the new certificates, in days.
    pub days: u32,
    /// Say what would be renewed, change nothing.
    pub dry_run: bool,
    /// The time to judge expiry against and to issue at.
    pub now: OffsetDateTime,
}

impl Default for RenewOptions {
    fn default() -> Self {
        RenewOptions {
            name: None,
            within_days: RENEW_WITHIN_DAYS,
            days: pki::LEAF_VALIDITY_DAYS,
            dry_run: false,
            now: OffsetDateTime::now_utc(),
        }
    }
}

/// What renewal did (or would do) for one certificate.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Renewal {
    /// The server identity.
    pub name: String,
    /// `server` or `server-standby` (a self-signed server's standby certificate).
    pub kind: &'static str,
    /// The key's pin: the same before and after.
    pub pin: Pin,
    /// The certificate before.
    pub serial: String,
    /// Its end of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// Whole days left before renewal.
    pub days_left: i64,
    /// The new certificate (none when not due, or on a dry run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_serial: Option<String>,
    /// Its end of validity.
    #[serde(skip_serializing_if = "Option::is_none", with = "time::serde::rfc3339::option")]
    pub new_not_after: Option<OffsetDateTime>,
    /// Whether it was due.
    pub due: bool,
}

/// What [`Site::renew`] did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RenewReport {
    /// The window, in days.
    pub within_days: u32,
    /// Nothing was changed.
    pub dry_run: bool,
    /// Every certificate looked at, due or not.
    pub certificates: Vec<Renewal>,
}

/// A certificate due for renewal: its index in the report, and whether it is a standby's.
type Due = (usize, bool);

/// What a supported release would see after a step.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ReleaseView {
    /// The release.
    pub version: String,
    /// Its platforms.
    pub platforms: Vec<String>,
    /// The pins it carries.
    pub carries: Vec<Pin>,
    /// The keys the servers would present that it has no pin for, each with its owner.
    pub lacks: Vec<OwnedPin>,
    /// Whether it would still connect to every server.
    pub connects: bool,
}

/// A pin and whose key it is.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OwnedPin {
    /// `authority` or `server NAME`.
    pub owner: String,
    /// The pin.
    pub pin: Pin,
}

/// One key a promotion changed.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Promoted {
    /// `authority` or `server NAME`.
    pub owner: String,
    /// The key that was active, now retiring.
    pub retiring: Pin,
    /// The standby key, now active.
    pub active: Pin,
    /// The new standby key.
    pub standby: Pin,
}

/// What [`Site::promote`] did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Promotion {
    /// What apps pin.
    pub pin_target: PinTarget,
    /// The keys promoted.
    pub promoted: Vec<Promoted>,
    /// The server certificates issued again (under the new CA, or for the new key).
    pub reissued: Vec<String>,
    /// Every supported release and what it sees now.
    pub releases: Vec<ReleaseView>,
    /// The supported releases that stop connecting (only when forced).
    pub cut_off: Vec<String>,
}

/// What [`Site::retire`] did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Retirement {
    /// The retired keys and whose they were (none: nothing was retiring).
    pub retired: Vec<OwnedPin>,
    /// The supported releases that relied on a retired key (only when forced).
    pub cut_off: Vec<String>,
    /// Clients whose certificates the retired CA issued (only when forced).
    pub clients_cut_off: Vec<String>,
}

/// Whether a step is safe for the site's supported releases, and why not.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Safety {
    /// Every supported release and what it would see.
    pub releases: Vec<ReleaseView>,
}

impl Safety {
    /// The releases that would stop connecting.
    pub fn blocked(&self) -> Vec<String> {
        self.releases.iter().filter(|r| !r.connects).map(|r| r.version.clone()).collect()
    }
}

impl Site {
    /// The supported releases, oldest first.
    pub fn supported_releases(&self) -> Result<Vec<Release>> {
        Ok(self.ledger()?.releases()?.into_iter().filter(Release::supported).collect())
    }

    /// What each supported release would see if the servers presented `served` (for each
    /// server, the pins of the chain it presents: any one carried lets the release in).
    fn views(&self, served: &[(String, Vec<OwnedPin>)]) -> Result<Vec<ReleaseView>> {
        let mut out = Vec::new();
        for r in self.supported_releases()? {
            let mut lacks = Vec::new();
            for (_, chain) in served {
                if !chain.iter().any(|p| r.carries(&p.pin)) {
                    for p in chain {
                        if !lacks.contains(p) {
                            lacks.push(p.clone());
                        }
                    }
                }
            }
            out.push(ReleaseView {
                version: r.version.clone(),
                platforms: r.platforms.clone(),
                carries: r.pins.iter().map(|p| p.pin).collect(),
                connects: lacks.is_empty(),
                lacks,
            });
        }
        Ok(out)
    }

    /// The pins apps check in each server's chain, as `plan` has it: the CA's when apps
    /// pin the CA, the server's own key when they pin servers.
    fn served_pins(plan: &SitePlan) -> Vec<(String, Vec<OwnedPin>)> {
        plan.servers
            .iter()
            .map(|s| {
                let pins = match plan.pin {
                    PinTarget::Ca => plan
                        .authority
                        .active
                        .iter()
                        .map(|a| OwnedPin { owner: "authority".into(), pin: a.pin })
                        .collect(),
                    PinTarget::Leaf => vec![OwnedPin { owner: format!("server {}", s.name), pin: s.active.pin }],
                };
                (s.name.clone(), pins)
            })
            .collect()
    }

    /// Whether promoting the standby keys now is safe for every supported release.
    pub fn promotion_safety(&self) -> Result<Safety> {
        let mut after = self.plan.clone();
        match after.pin {
            PinTarget::Ca => after.authority.active = after.authority.standby.clone(),
            PinTarget::Leaf => {
                for s in &mut after.servers {
                    if let Some(st) = &s.standby {
                        s.active = st.clone();
                    }
                }
            }
        }
        Ok(Safety { releases: self.views(&Site::served_pins(&after))? })
    }

    /// Whether dropping the retiring keys now is safe: a supported release that lacks the
    /// active pins connects only to a server still presenting a retiring key.
    pub fn retirement_safety(&self) -> Result<Safety> {
        Ok(Safety { releases: self.views(&Site::served_pins(&self.plan))? })
    }

    /// Re-issues server certificates ending within the window with their own keys (pins
    /// unchanged). Running it again does nothing until they are due again.
    pub fn renew(&mut self, opts: &RenewOptions) -> Result<RenewReport> {
        if opts.dry_run {
            // Read only: no lock, nothing written.
            return Ok(RenewReport {
                within_days: opts.within_days,
                dry_run: true,
                certificates: self.renewals(opts)?.0,
            });
        }
        self.hold()?;
        let (mut certificates, due) = self.renewals(opts)?;
        if due.is_empty() {
            return Ok(RenewReport { within_days: opts.within_days, dry_run: false, certificates });
        }
        let mut plan = self.plan.clone();
        let mut files = Vec::new();
        let mut rows = Vec::new();
        let mut status = Vec::new();
        let ca = match plan.authority.mode {
            AuthorityMode::Ca => Some(self.ca_issuer()?),
            AuthorityMode::SelfSigned => None,
        };
        for (i, standby) in due {
            let server = plan.servers.iter_mut().find(|s| s.name == certificates[i].name).expect("in the plan");
            let slot = if standby { server.standby.as_mut().expect("due standby") } else { &mut server.active };
            let key = read_key(self, &slot.key)?;
            let shape = self.plan.server(&certificates[i].name).expect("in the plan");
            let issued = issue_server_cert(&self.plan, shape, &key, opts.days, ca.as_ref(), opts.now)?;
            files.extend(cert_files(slot, &issued, ca.as_ref().map(|c| c.1.as_slice()))?);
            let kind = if standby { CertKind::ServerStandby } else { CertKind::Server };
            if let Some(old) = &slot.serial {
                status.push((old.clone(), kind, "superseded"));
            }
            rows.push(Record {
                kind,
                name: certificates[i].name.clone(),
                cert_der: issued.cert_der.clone(),
                status: if standby { "standby" } else { "active" },
            });
            slot.serial = Some(issued.serial.clone());
            slot.not_after = Some(issued.not_after);
            certificates[i].new_serial = Some(issued.serial.clone());
            certificates[i].new_not_after = Some(issued.not_after);
        }
        self.apply_change(change::Plan { operation: "renew", files, removes: Vec::new(), rows, status, plan })?;
        Ok(RenewReport { within_days: opts.within_days, dry_run: false, certificates })
    }

    /// Every server certificate renewal looks at, and the due ones (index, standby).
    fn renewals(&self, opts: &RenewOptions) -> Result<(Vec<Renewal>, Vec<Due>)> {
        if let Some(name) = &opts.name
            && self.plan.server(name).is_none()
        {
            let names: Vec<&str> = self.plan.servers.iter().map(|s| s.name.as_str()).collect();
            return Err(Error::bad_value(
                "server",
                name,
                format!("is not a server of this site (its servers: {})", names.join(", ")),
                None,
            ));
        }
        let window = time::Duration::days(i64::from(opts.within_days));
        let mut list = Vec::new();
        let mut due = Vec::new();
        for s in self.plan.servers.iter().filter(|s| opts.name.as_ref().is_none_or(|n| *n == s.name)) {
            let slots = std::iter::once((&s.active, false, "server"))
                .chain(s.standby.iter().filter(|st| st.cert.is_some()).map(|st| (st, true, "server-standby")));
            for (slot, standby, kind) in slots {
                let (Some(serial), Some(not_after)) = (&slot.serial, slot.not_after) else { continue };
                let is_due = not_after - opts.now <= window;
                if is_due {
                    due.push((list.len(), standby));
                }
                list.push(Renewal {
                    name: s.name.clone(),
                    kind,
                    pin: slot.pin,
                    serial: serial.clone(),
                    not_after,
                    days_left: (not_after - opts.now).whole_seconds().div_euclid(86_400),
                    new_serial: None,
                    new_not_after: None,
                    due: is_due,
                });
            }
        }
        Ok((list, due))
    }

    /// Promotes the standby keys apps pin: the CA's (its standby root starts issuing, and
    /// every server certificate is issued again under it with the server's own key) or
    /// each server's (a new certificate for the standby key). The replaced key becomes
    /// retiring; new standby keys are made. Refused when a supported release lacks a pin
    /// of what the servers would present, unless `force`.
    pub fn promote(&mut self, force: bool, now: OffsetDateTime) -> Result<Promotion> {
        self.hold()?;
        let retiring = match self.plan.pin {
            PinTarget::Ca => self.plan.authority.retiring.is_some(),
            PinTarget::Leaf => self.plan.servers.iter().any(|s| s.retiring.is_some()),
        };
        if retiring {
            return Err(Error::bad_value(
                "promotion",
                &self.plan.name,
                "a key replaced by the last promotion is still retiring: apps of the current releases carry its pin",
                None,
            )
            .with_remedy(Remedy::RetireFirst));
        }
        let missing: Vec<String> = match self.plan.pin {
            PinTarget::Ca if self.plan.authority.standby.is_none() => vec!["authority".into()],
            PinTarget::Ca => Vec::new(),
            PinTarget::Leaf => {
                self.plan.servers.iter().filter(|s| s.standby.is_none()).map(|s| format!("server {}", s.name)).collect()
            }
        };
        if !missing.is_empty() {
            return Err(Error::bad_value(
                "promotion",
                &self.plan.name,
                format!("{} has no standby key to promote", missing.join(", ")),
                None,
            )
            .with_remedy(Remedy::NoStandby));
        }
        let safety = self.promotion_safety()?;
        let blocked = safety.blocked();
        if !blocked.is_empty() && !force {
            return Err(Error::bad_value(
                "promotion",
                &self.plan.name,
                format!("would cut off supported releases: {}", describe_views(&safety.releases)),
                None,
            )
            .with_remedy(Remedy::ShipStandbyFirst { releases: blocked }));
        }
        let (change, promoted, reissued) = match self.plan.pin {
            PinTarget::Ca => self.promote_authority(now)?,
            PinTarget::Leaf => self.promote_servers(now)?,
        };
        self.apply_change(change)?;
        let releases = self.views(&Site::served_pins(&self.plan))?;
        Ok(Promotion { pin_target: self.plan.pin, promoted, reissued, releases, cut_off: blocked })
    }

    fn promote_authority(&self, now: OffsetDateTime) -> Result<(change::Plan, Vec<Promoted>, Vec<String>)> {
        let mut plan = self.plan.clone();
        let old_active = plan.authority.active.clone().expect("checked: a CA site");
        let old_standby = plan.authority.standby.clone().expect("checked: has a standby");
        let mut files = Vec::new();
        // The old active root keeps its certificate and key as the retiring one.
        let retiring = KeySlot {
            cert: Some("pki/authority/ca-retiring.pem".into()),
            chain: None,
            key: "pki/authority/ca-retiring.key".into(),
            ..old_active.clone()
        };
        files.extend(copy_slot(self, &old_active, &retiring)?);
        // The standby root moves into the active root's files.
        let active =
            KeySlot { cert: old_active.cert.clone(), chain: None, key: old_active.key.clone(), ..old_standby.clone() };
        files.extend(copy_slot(self, &old_standby, &active)?);
        // A new standby root in the standby's files, its CN unique among the site's roots
        // (a tag of its key: chain building matches issuers by name).
        let key = KeyType::P256.generate()?;
        let pin = Pin::of_spki(&key.subject_public_key_info());
        let tag: String = pin.as_bytes()[..4].iter().map(|b| format!("{b:02x}")).collect();
        let new_root = pki::new_root(&format!("pinset CA {} ({tag})", plan.name), &plan.name, &key, now)?;
        let standby = KeySlot {
            cert: old_standby.cert.clone(),
            chain: None,
            key: old_standby.key.clone(),
            pin: new_root.pin,
            serial: Some(new_root.serial.clone()),
            not_after: Some(new_root.not_after),
        };
        files.extend(issued_files(&standby, &new_root, None, true)?);
        let mut rows = vec![Record {
            kind: CertKind::CaStandby,
            name: "authority".into(),
            cert_der: new_root.cert_der.clone(),
            status: "standby",
        }];
        let mut status = Vec::new();
        status.extend(old_active.serial.iter().map(|s| (s.clone(), CertKind::Ca, "retiring")));
        status.extend(old_standby.serial.iter().map(|s| (s.clone(), CertKind::Ca, "active")));
        // Every server certificate again, under the new active root, with its own key.
        let (issuer_cert, issuer_key) =
            (read_file(self, active_cert(&old_standby)?)?, read_key_pem(self, &old_standby.key)?);
        let issuer_der =
            crate::input::read_certificates("standby root", &issuer_cert)?.into_iter().next().unwrap_or_default();
        let issuer = pki::load_issuer(&issuer_der, &issuer_key, &self.path(&old_standby.key).display().to_string())?;
        let ca = (issuer, issuer_der);
        let mut reissued = Vec::new();
        for s in &mut plan.servers {
            let key = read_key(self, &s.active.key)?;
            let days = pki::LEAF_VALIDITY_DAYS;
            let issued = issue_server_cert(&self.plan, s, &key, days, Some(&ca), now)?;
            files.extend(cert_files(&s.active, &issued, Some(&ca.1))?);
            status.extend(s.active.serial.iter().map(|old| (old.clone(), CertKind::Server, "superseded")));
            rows.push(Record {
                kind: CertKind::Server,
                name: s.name.clone(),
                cert_der: issued.cert_der,
                status: "active",
            });
            s.active.serial = Some(issued.serial);
            s.active.not_after = Some(issued.not_after);
            reissued.push(s.name.clone());
        }
        plan.authority.active = Some(active);
        plan.authority.standby = Some(standby);
        plan.authority.retiring = Some(retiring);
        let promoted = vec![Promoted {
            owner: "authority".into(),
            retiring: old_active.pin,
            active: old_standby.pin,
            standby: new_root.pin,
        }];
        Ok((change::Plan { operation: "promote", files, removes: Vec::new(), rows, status, plan }, promoted, reissued))
    }

    fn promote_servers(&self, now: OffsetDateTime) -> Result<(change::Plan, Vec<Promoted>, Vec<String>)> {
        let mut plan = self.plan.clone();
        let ca = match plan.authority.mode {
            AuthorityMode::Ca => Some(self.ca_issuer()?),
            AuthorityMode::SelfSigned => None,
        };
        let mut files = Vec::new();
        let mut rows = Vec::new();
        let mut status = Vec::new();
        let mut promoted = Vec::new();
        let mut reissued = Vec::new();
        for s in &mut plan.servers {
            let old_active = s.active.clone();
            let old_standby = s.standby.clone().expect("checked: has a standby");
            let dir = format!("pki/servers/{}", s.name);
            let retiring = KeySlot {
                cert: old_active.cert.as_ref().map(|_| format!("{dir}/retiring.pem")),
                chain: old_active.chain.as_ref().map(|_| format!("{dir}/retiring-chain.pem")),
                key: format!("{dir}/retiring.key"),
                ..old_active.clone()
            };
            files.extend(copy_slot(self, &old_active, &retiring)?);
            // The standby key moves into the active key's file. A self-signed server's
            // standby certificate is the anchor apps already carry: it is served as it is
            // (any client accepts the very certificate it trusts) while it has more than the
            // renewal window left; otherwise, and behind a CA, a new certificate is issued.
            let window = time::Duration::days(i64::from(RENEW_WITHIN_DAYS));
            let keep_anchor = ca.is_none()
                && old_standby.cert.is_some()
                && old_standby.not_after.is_some_and(|end| end - now > window);
            let active = if keep_anchor {
                let active = KeySlot {
                    cert: old_active.cert.clone(),
                    chain: old_active.chain.clone(),
                    key: old_active.key.clone(),
                    ..old_standby.clone()
                };
                files.extend(copy_slot(self, &old_standby, &active)?);
                status.extend(old_active.serial.iter().map(|o| (o.clone(), CertKind::Server, "retiring")));
                status.extend(old_standby.serial.iter().map(|o| (o.clone(), CertKind::Server, "active")));
                active
            } else {
                let key = read_key(self, &old_standby.key)?;
                let issued = issue_server_cert(&self.plan, s, &key, pki::LEAF_VALIDITY_DAYS, ca.as_ref(), now)?;
                let active = KeySlot {
                    cert: old_active.cert.clone(),
                    chain: old_active.chain.clone(),
                    key: old_active.key.clone(),
                    pin: issued.pin,
                    serial: Some(issued.serial.clone()),
                    not_after: Some(issued.not_after),
                };
                files.push(NewFile {
                    rel: active.key.clone(),
                    bytes: Zeroizing::new(issued.key_pem.as_bytes().to_vec()),
                    mode: SECRET_MODE,
                });
                files.extend(cert_files(&active, &issued, ca.as_ref().map(|c| c.1.as_slice()))?);
                status.extend(old_active.serial.iter().map(|o| (o.clone(), CertKind::Server, "retiring")));
                status.extend(old_standby.serial.iter().map(|o| (o.clone(), CertKind::ServerStandby, "superseded")));
                rows.push(Record {
                    kind: CertKind::Server,
                    name: s.name.clone(),
                    cert_der: issued.cert_der.clone(),
                    status: "active",
                });
                active
            };
            let days = pki::LEAF_VALIDITY_DAYS;
            // A new standby key in the standby's files (with a certificate when the server
            // is its own anchor).
            let (standby_key, key_pair) = Standby::generate(s.key_type)?;
            let standby = match ca {
                Some(_) => {
                    files.push(NewFile {
                        rel: old_standby.key.clone(),
                        bytes: Zeroizing::new(standby_key.key_pem.as_bytes().to_vec()),
                        mode: SECRET_MODE,
                    });
                    KeySlot {
                        cert: None,
                        chain: None,
                        key: old_standby.key.clone(),
                        pin: standby_key.pin,
                        serial: None,
                        not_after: None,
                    }
                }
                None => {
                    let cert = issue_server_cert(&self.plan, s, &key_pair, days, None, now)?;
                    let slot = KeySlot {
                        cert: Some(old_standby.cert.clone().unwrap_or_else(|| format!("{dir}/standby.pem"))),
                        chain: Some(old_standby.chain.clone().unwrap_or_else(|| format!("{dir}/standby-chain.pem"))),
                        key: old_standby.key.clone(),
                        pin: cert.pin,
                        serial: Some(cert.serial.clone()),
                        not_after: Some(cert.not_after),
                    };
                    files.extend(issued_files(&slot, &cert, None, true)?);
                    rows.push(Record {
                        kind: CertKind::ServerStandby,
                        name: s.name.clone(),
                        cert_der: cert.cert_der,
                        status: "standby",
                    });
                    slot
                }
            };
            promoted.push(Promoted {
                owner: format!("server {}", s.name),
                retiring: old_active.pin,
                active: active.pin,
                standby: standby.pin,
            });
            s.active = active;
            s.standby = Some(standby);
            s.retiring = Some(retiring);
            reissued.push(s.name.clone());
        }
        Ok((change::Plan { operation: "promote", files, removes: Vec::new(), rows, status, plan }, promoted, reissued))
    }

    /// Drops the retiring keys a promotion left: their pins leave exports, their files the
    /// site. Refused while a supported release relies on a server still presenting them,
    /// or (CA) while active client certificates chain to the retiring root, unless `force`.
    pub fn retire(&mut self, force: bool) -> Result<Retirement> {
        self.hold()?;
        let mut retired = Vec::new();
        if let Some(r) = &self.plan.authority.retiring {
            retired.push(("authority".to_string(), r.clone()));
        }
        for s in &self.plan.servers {
            if let Some(r) = &s.retiring {
                retired.push((format!("server {}", s.name), r.clone()));
            }
        }
        if retired.is_empty() {
            return Ok(Retirement { retired: Vec::new(), cut_off: Vec::new(), clients_cut_off: Vec::new() });
        }
        let safety = self.retirement_safety()?;
        let blocked = safety.blocked();
        if !blocked.is_empty() && !force {
            return Err(Error::bad_value(
                "retirement",
                &self.plan.name,
                format!(
                    "supported releases lack the active pins and reach servers only while they present the retiring \
                     key: {}",
                    describe_views(&safety.releases)
                ),
                None,
            )
            .with_remedy(Remedy::RetireReleasesFirst { releases: blocked }));
        }
        let clients = self.clients_of_retiring_root()?;
        if !clients.is_empty() && !force {
            return Err(Error::bad_value(
                "retirement",
                &self.plan.name,
                format!(
                    "the retiring root issued the certificates of clients {}: servers would refuse them once it \
                     is no longer trusted",
                    clients.join(", ")
                ),
                None,
            )
            .with_remedy(Remedy::ReissueClients { clients }));
        }
        let mut plan = self.plan.clone();
        plan.authority.retiring = None;
        for s in &mut plan.servers {
            s.retiring = None;
        }
        let mut removes = Vec::new();
        let mut status = Vec::new();
        for (owner, slot) in &retired {
            for rel in slot.cert.iter().chain(slot.chain.iter()).chain(std::iter::once(&slot.key)) {
                removes.push(rel.clone());
            }
            removes.extend(slot.cert.as_deref().map(cer_path));
            let kind = if owner == "authority" { CertKind::Ca } else { CertKind::Server };
            status.extend(slot.serial.iter().map(|s| (s.clone(), kind, "superseded")));
        }
        self.apply_change(change::Plan {
            operation: "retire",
            files: Vec::new(),
            removes,
            rows: Vec::new(),
            status,
            plan,
        })?;
        Ok(Retirement {
            retired: retired.into_iter().map(|(owner, slot)| OwnedPin { owner, pin: slot.pin }).collect(),
            cut_off: blocked,
            clients_cut_off: clients,
        })
    }

    /// The clients whose active certificates the retiring root issued.
    pub fn clients_of_retiring_root(&self) -> Result<Vec<String>> {
        let Some(root) = &self.plan.authority.retiring else { return Ok(Vec::new()) };
        let root_der = first_cert(self, root.cert.as_deref().unwrap_or_default())?;
        let root_cert = crate::cert::parse("retiring root", &root_der)?;
        let subject = root_cert.subject().as_raw().to_vec();
        let revoked: Vec<String> = self.ledger()?.revoked()?.into_iter().map(|e| e.serial).collect();
        let mut out = Vec::new();
        for c in &self.plan.clients {
            if c.active.serial.as_ref().is_some_and(|s| revoked.contains(s)) {
                continue;
            }
            let Some(rel) = &c.active.cert else { continue };
            let der = first_cert(self, rel)?;
            let cert = crate::cert::parse(rel, &der)?;
            if cert.issuer().as_raw() == subject.as_slice() {
                out.push(c.name.clone());
            }
        }
        Ok(out)
    }
}

/// Releases and what each sees, in one line: `1.0 carries A, B; lacks C (authority)`.
pub fn describe_views(views: &[ReleaseView]) -> String {
    views
        .iter()
        .filter(|v| !v.connects)
        .map(|v| {
            let lacks: Vec<String> = v.lacks.iter().map(|p| format!("{} ({})", p.pin, p.owner)).collect();
            format!(
                "release {} carries {} but not {}, so it would refuse the servers with a pin mismatch",
                v.version,
                v.carries.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
                lacks.join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A server certificate for `server`'s addresses and `key`, under `ca` or self-signed.
fn issue_server_cert(
    plan: &SitePlan,
    server: &Server,
    key: &rcgen::KeyPair,
    days: u32,
    ca: Option<&(rcgen::Issuer<'static, rcgen::KeyPair>, Vec<u8>)>,
    now: OffsetDateTime,
) -> Result<Issued> {
    let cn =
        server.dns.first().cloned().unwrap_or_else(|| server.ips.first().map(ToString::to_string).unwrap_or_default());
    let spec = LeafSpec {
        kind: LeafKind::Server,
        common_name: &cn,
        organization: &plan.name,
        ips: &server.ips,
        dns: &server.dns,
        days,
    };
    pki::issue_leaf(&spec, key, server.key_type, ca.map(|c| &c.0), now)
}

/// `cert.pem` → `cert.cer`: the DER copy written beside every certificate.
fn cer_path(cert: &str) -> String {
    match cert.strip_suffix(".pem") {
        Some(stem) => format!("{stem}.cer"),
        None => format!("{cert}.cer"),
    }
}

/// The certificate, chain and DER files of `slot` holding `issued` (with `issuer_der`
/// after it in the chain).
fn cert_files(slot: &KeySlot, issued: &Issued, issuer_der: Option<&[u8]>) -> Result<Vec<NewFile>> {
    issued_files(slot, issued, issuer_der, false)
}

/// As [`cert_files`], and the key too when `with_key`.
fn issued_files(slot: &KeySlot, issued: &Issued, issuer_der: Option<&[u8]>, with_key: bool) -> Result<Vec<NewFile>> {
    let mut out = Vec::new();
    let public =
        |rel: &str, bytes: Vec<u8>| NewFile { rel: rel.to_string(), bytes: Zeroizing::new(bytes), mode: PUBLIC_MODE };
    if let Some(cert) = &slot.cert {
        out.push(public(cert, issued.cert_pem.as_bytes().to_vec()));
        out.push(public(&cer_path(cert), issued.cert_der.clone()));
    }
    if let Some(chain) = &slot.chain {
        let mut text = issued.cert_pem.clone();
        if let Some(der) = issuer_der {
            text.push_str(&pem::encode(&pem::Pem::new("CERTIFICATE", der.to_vec())));
        }
        out.push(public(chain, text.into_bytes()));
    }
    if with_key {
        out.push(NewFile {
            rel: slot.key.clone(),
            bytes: Zeroizing::new(issued.key_pem.as_bytes().to_vec()),
            mode: SECRET_MODE,
        });
    }
    Ok(out)
}

/// The files of `from` copied to the paths of `to` (certificate, its DER copy, chain, key).
fn copy_slot(site: &Site, from: &KeySlot, to: &KeySlot) -> Result<Vec<NewFile>> {
    let mut out = Vec::new();
    let mut copy = |a: &str, b: &str, mode: u32| -> Result<()> {
        out.push(NewFile { rel: b.to_string(), bytes: Zeroizing::new(read_file(site, a)?), mode });
        Ok(())
    };
    if let (Some(a), Some(b)) = (&from.cert, &to.cert) {
        copy(a, b, PUBLIC_MODE)?;
        let cer = cer_path(a);
        if site.path(&cer).exists() {
            copy(&cer, &cer_path(b), PUBLIC_MODE)?;
        }
    }
    if let (Some(a), Some(b)) = (&from.chain, &to.chain) {
        copy(a, b, PUBLIC_MODE)?;
    }
    copy(&from.key, &to.key, SECRET_MODE)?;
    Ok(out)
}

fn active_cert(slot: &KeySlot) -> Result<&str> {
    slot.cert.as_deref().ok_or_else(|| Error::bad_value("key", &slot.key, "has no certificate", None))
}

fn read_file(site: &Site, rel: &str) -> Result<Vec<u8>> {
    let path = site.path(rel);
    std::fs::read(&path).map_err(|e| Error::io("cannot read", &path, e))
}

fn read_key_pem(site: &Site, rel: &str) -> Result<Zeroizing<String>> {
    let path = site.path(rel);
    std::fs::read_to_string(&path).map(Zeroizing::new).map_err(|e| Error::io("cannot read", &path, e))
}

fn read_key(site: &Site, rel: &str) -> Result<rcgen::KeyPair> {
    let pem = read_key_pem(site, rel)?;
    rcgen::KeyPair::from_pem(&pem).map_err(|e| {
        Error::bad_input(
            &site.path(rel).display().to_string(),
            format!("cannot read the key: {e}"),
            Some("the key file may be damaged; restore it from a backup of the site"),
        )
    })
}

fn first_cert(site: &Site, rel: &str) -> Result<Vec<u8>> {
    let bytes = read_file(site, rel)?;
    let label = site.path(rel).display().to_string();
    crate::input::read_certificates(&label, &bytes)?
        .into_iter()
        .next()
        .ok_or_else(|| Error::bad_input(&label, "holds no certificate", Some("restore it from a backup of the site")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::StopAt;
    use crate::site::{Exclusive, InitOptions, ServerRequest};
    use crate::trust::Role;

    fn site(dir: &std::path::Path, mode: AuthorityMode, pin: Option<PinTarget>) -> Site {
        let server = ServerRequest::new("server", vec!["127.0.0.1".parse().expect("ip")], vec![]);
        Site::init(dir, InitOptions { name: Some("shop".into()), mode, pin, pin_expiration: None, server })
            .expect("init")
    }

    fn reopen(site: &Site) -> Site {
        Site::open_for_change(site.dir(), &Exclusive::default()).expect("open for change")
    }

    /// The server's certificate names the active root as its issuer, its chain ends with
    /// that root, and every anchor file matches the plan.
    fn assert_consistent(site: &Site) {
        let trust = site.trust().expect("plan and pki agree");
        let s = &site.plan.servers[0];
        let chain = std::fs::read(site.path(s.active.chain.as_deref().expect("chain"))).expect("read chain");
        let certs = crate::input::read_certificates("chain", &chain).expect("certificates");
        let leaf = crate::cert::parse("leaf", &certs[0]).expect("leaf");
        assert_eq!(crate::cert::serial_to_string(leaf.raw_serial()), s.active.serial.clone().expect("serial"));
        assert_eq!(crate::pin::Pin::of_spki(leaf.tbs_certificate.subject_pki.raw), s.active.pin);
        if site.plan.authority.mode == AuthorityMode::Ca {
            let active = trust.anchors.iter().find(|a| a.role == Role::Active).expect("active anchor");
            assert_eq!(certs.last(), Some(&active.der), "the chain ends at the active root");
            let root = crate::cert::parse("root", &active.der).expect("root");
            assert_eq!(leaf.issuer().as_raw(), root.subject().as_raw());
        }
        let key = std::fs::read_to_string(site.path(&s.active.key)).expect("key");
        let pair = rcgen::KeyPair::from_pem(&key).expect("key parses");
        assert_eq!(Pin::of_spki(&pair.subject_public_key_info()), s.active.pin, "key.pem is the active key");
        let ledger = site.ledger().expect("ledger");
        assert!(ledger.changes().expect("changes").is_empty(), "no change left in progress");
        assert!(!site.path(crate::change::CHANGE_FOLDER).exists());
        let active_rows: Vec<_> = ledger
            .entries()
            .expect("entries")
            .into_iter()
            .filter(|e| e.kind == "server" && e.status == "active")
            .collect();
        assert_eq!(active_rows.len(), 1);
        assert_eq!(Some(&active_rows[0].serial), s.active.serial.as_ref());
    }

    #[test]
    fn renewal_keeps_the_key_and_is_idempotent() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut site = site(&dir.path().join("shop"), AuthorityMode::Ca, None);
        let before = site.plan.servers[0].active.clone();
        let later = OffsetDateTime::now_utc() + time::Duration::days(380);
        let dry = site.renew(&RenewOptions { dry_run: true, now: later, ..RenewOptions::default() }).expect("dry");
        assert!(dry.certificates[0].due && dry.certificates[0].new_serial.is_none());
        assert_eq!(site.plan.servers[0].active, before, "a dry run changes nothing");
        let r = site.renew(&RenewOptions { now: later, ..RenewOptions::default() }).expect("renew");
        let after = site.plan.servers[0].active.clone();
        assert_eq!(after.pin, before.pin, "same key");
        assert_ne!(after.serial, before.serial);
        assert_eq!(r.certificates[0].new_serial, after.serial);
        assert_consistent(&site);
        let ledger = site.ledger().expect("ledger");
        assert_eq!(ledger.get(before.serial.as_deref().expect("s")).expect("get").expect("row").status, "superseded");
        let again = site.renew(&RenewOptions { now: later, ..RenewOptions::default() }).expect("again");
        assert!(again.certificates.iter().all(|c| !c.due), "renewed once only");
        assert_eq!(site.plan.servers[0].active, after);
    }

    #[test]
    fn a_ca_promotion_moves_the_standby_root_in_and_keeps_the_old_one_retiring() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut site = site(&dir.path().join("shop"), AuthorityMode::Ca, None);
        site.add_release("1.0", &["android".into()]).expect("release");
        let (a, b) = (site.plan.authority.active.clone().expect("a"), site.plan.authority.standby.clone().expect("b"));
        let server_pin = site.plan.servers[0].active.pin;
        let p = site.promote(false, OffsetDateTime::now_utc()).expect("promote");
        assert!(p.cut_off.is_empty() && p.releases.iter().all(|r| r.connects));
        assert_eq!(site.plan.authority.active.as_ref().map(|s| s.pin), Some(b.pin));
        assert_eq!(site.plan.authority.retiring.as_ref().map(|s| s.pin), Some(a.pin));
        let c = site.plan.authority.standby.clone().expect("new standby");
        assert!(c.pin != a.pin && c.pin != b.pin);
        assert_eq!(site.plan.servers[0].active.pin, server_pin, "servers keep their keys");
        assert_consistent(&site);
        let trust = site.trust().expect("trust");
        let roles: Vec<(Role, Pin)> = trust.app_pins().iter().map(|p| (p.role, p.pin)).collect();
        assert_eq!(roles, vec![(Role::Active, b.pin), (Role::Standby, c.pin), (Role::Retiring, a.pin)]);
        assert_eq!(
            trust.anchors.iter().map(|a| a.role).collect::<Vec<_>>(),
            [Role::Active, Role::Standby, Role::Retiring]
        );

        // Again, before the old key is retired: refused.
        let err = site.promote(false, OffsetDateTime::now_utc()).expect_err("retiring first");
        assert_eq!(err.remedy(), Some(&Remedy::RetireFirst));
        // Release 1.0 carries B (now active), so retiring A is safe.
        let r = site.retire(false).expect("retire");
        assert_eq!(r.retired.iter().map(|p| p.pin).collect::<Vec<_>>(), vec![a.pin]);
        assert!(site.plan.authority.retiring.is_none() && !site.path("pki/authority/ca-retiring.pem").exists());
        // 1.0 lacks C: a second promotion would cut it off.
        let err = site.promote(false, OffsetDateTime::now_utc()).expect_err("1.0 lacks the standby");
        assert_eq!(err.remedy(), Some(&Remedy::ShipStandbyFirst { releases: vec!["1.0".into()] }));
        assert!(
            err.to_string().contains("release 1.0 carries") && err.to_string().contains(&c.pin.to_string()),
            "{err}"
        );
        site.add_release("2.0", &[]).expect("2.0");
        site.retire_release("1.0", OffsetDateTime::now_utc()).expect("retire 1.0");
        site.promote(false, OffsetDateTime::now_utc()).expect("safe now");
        assert_eq!(site.plan.authority.active.as_ref().map(|s| s.pin), Some(c.pin));
        assert_consistent(&site);
    }

    #[test]
    fn a_forced_promotion_names_the_releases_it_cuts_off() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut site = site(&dir.path().join("shop"), AuthorityMode::Ca, None);
        site.add_release("1.0", &[]).expect("1.0");
        site.promote(false, OffsetDateTime::now_utc()).expect("first");
        site.retire(false).expect("retire");
        let p = site.promote(true, OffsetDateTime::now_utc()).expect("forced");
        assert_eq!(p.cut_off, vec!["1.0".to_string()]);
        assert!(p.releases.iter().any(|r| r.version == "1.0" && !r.connects));
    }

    #[test]
    fn leaf_promotion_of_a_self_signed_site() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut site = site(&dir.path().join("shop"), AuthorityMode::SelfSigned, None);
        site.add_release("1.0", &[]).expect("1.0");
        let s = site.plan.servers[0].clone();
        let standby = s.standby.clone().expect("standby");
        std::fs::copy(site.path("pki/servers/server/standby.pem"), dir.path().join("standby.pem")).expect("copy");
        site.promote(false, OffsetDateTime::now_utc()).expect("promote");
        let now = &site.plan.servers[0];
        assert_eq!(now.active.pin, standby.pin);
        assert_eq!(now.active.serial, standby.serial, "the anchor apps carry is served as it is");
        assert_eq!(
            std::fs::read(site.path("pki/servers/server/cert.pem")).expect("active"),
            std::fs::read(dir.path().join("standby.pem")).expect("copy"),
        );
        assert_eq!(now.retiring.as_ref().map(|r| r.pin), Some(s.active.pin));
        assert!(now.standby.as_ref().is_some_and(|n| n.pin != standby.pin && n.cert.is_some()));
        assert_consistent(&site);
        let trust = site.trust().expect("trust");
        assert_eq!(trust.anchors.iter().filter(|a| a.role == Role::Retiring).count(), 1);
        site.retire(false).expect("retire");
        assert!(!site.path("pki/servers/server/retiring.key").exists());
        assert_consistent(&site);
    }

    #[test]
    fn retiring_a_root_that_issued_active_clients_is_refused_naming_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut site = site(&dir.path().join("shop"), AuthorityMode::Ca, None);
        for name in ["till-1", "till-2"] {
            site.issue_client(&crate::site::ClientRequest {
                name: name.into(),
                key_type: KeyType::P256,
                days: 30,
                p12_profile: crate::pki::P12Profile::Modern,
                password: Zeroizing::new("pw".into()),
            })
            .expect("client");
        }
        site.promote(false, OffsetDateTime::now_utc()).expect("promote");
        let err = site.retire(false).expect_err("clients of the old root");
        assert_eq!(err.remedy(), Some(&Remedy::ReissueClients { clients: vec!["till-1".into(), "till-2".into()] }));
        site.revoke("till-1", crate::ledger::RevocationReason::Superseded).expect("revoke");
        let err = site.retire(false).expect_err("till-2 still");
        assert_eq!(err.remedy(), Some(&Remedy::ReissueClients { clients: vec!["till-2".into()] }));
        let r = site.retire(true).expect("forced");
        assert_eq!(r.clients_cut_off, vec!["till-2".to_string()]);
        assert!(site.plan.authority.retiring.is_none());
    }

    #[test]
    fn leaf_promotion_behind_a_ca_issues_the_standby_key_a_certificate() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut site = site(&dir.path().join("shop"), AuthorityMode::Ca, Some(PinTarget::Leaf));
        let standby = site.plan.servers[0].standby.clone().expect("standby");
        site.promote(false, OffsetDateTime::now_utc()).expect("promote");
        assert_eq!(site.plan.servers[0].active.pin, standby.pin);
        assert!(site.plan.servers[0].standby.as_ref().is_some_and(|s| s.cert.is_none()));
        assert_consistent(&site);
    }

    /// A promotion stopped at each point (as a kill would stop it) is undone before its
    /// commit and finished after it by the next command that opens the site for change.
    #[test]
    fn an_interrupted_promotion_is_undone_or_finished() {
        for (stop, finished) in
            [(StopAt::Prepared, false), (StopAt::Staged, false), (StopAt::Committed, true), (StopAt::FirstMoved, true)]
        {
            let dir = tempfile::tempdir().expect("tempdir");
            let mut site = site(&dir.path().join("shop"), AuthorityMode::Ca, None);
            let before = site.plan.clone();
            let ledger_before = site.ledger().expect("ledger").entries().expect("entries");
            site.hold().expect("lock");
            let (change, _, _) = site.promote_authority(OffsetDateTime::now_utc()).expect("prepare");
            let after = change.plan.clone();
            site.apply_change_until(change, Some(stop)).expect("stopped");
            drop(site);
            let seen = std::cell::RefCell::new(Vec::new());
            let note = |l: &crate::recovery::Leftover| seen.borrow_mut().push(l.kind.clone());
            let how = Exclusive { on_leftover: &note, ..Exclusive::default() };
            let site = Site::open_for_change(&dir.path().join("shop"), &how).expect("recover");
            assert!(
                seen.borrow().iter().any(|k| matches!(
                    k,
                    crate::recovery::LeftoverKind::InterruptedChange { finished: f, .. } if *f == finished
                )),
                "{stop:?}: {:?}",
                seen.borrow()
            );
            assert_eq!(site.plan, if finished { after } else { before }, "{stop:?}");
            assert_consistent(&site);
            if !finished {
                assert_eq!(site.ledger().expect("ledger").entries().expect("entries"), ledger_before, "{stop:?}");
            }
            drop(site);
            let again = reopen(&Site::open(&dir.path().join("shop")).expect("open"));
            assert!(again.recovered().is_empty(), "{stop:?}: recovered once");
        }
    }
}
