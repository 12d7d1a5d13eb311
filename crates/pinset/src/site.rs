//! A site on disk: `pinset.toml` plus `pki/`. Creating one, issuing server and client
//! certificates into it, and reading back what apps must pin and trust.
//!
//! Crash safety: every file is written atomically. `init` builds the whole `pki/` and the
//! plan in a staging folder, flushes it as a whole (`atomic::sync_tree`), then moves `pki/`
//! into place and the plan after it, each move flushed before the next; the plan is the
//! commit point of every operation, so an interrupted command leaves either the old site
//! or the new one.
//!
//! One at a time: a command that changes a site holds the site's lock ([`crate::lock`])
//! from before it reads the plan until it has committed ([`Site::open_for_change`],
//! [`Site::init_with`]); `issue_*` on a site opened with [`Site::open`] take it first and
//! read the plan again. Holding it, the command first removes what interrupted commands
//! left ([`crate::recovery`]). An issue marks the identity's new folder
//! ([`recovery::ISSUING_MARKER`]) until the plan names it, so recovery can tell an
//! uncommitted issue from a folder pinset did not make.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::address::Host;
use crate::atomic::{self, Durability, PUBLIC_MODE, SECRET_MODE};
use crate::error::{Error, Remedy, Result};
use crate::ledger::{CertKind, LEDGER_FILE, Ledger, Record};
use crate::lock::{DEFAULT_WAIT, SiteLock};
use crate::pki::{self, APPLE_MAX_SERVER_DAYS, Issued, KeyType, LeafKind, LeafSpec, P12Profile, Standby};
use crate::plan::{
    self, Authority, AuthorityMode, Client, KeySlot, PLAN_FILE, PLAN_VERSION, PinTarget, Server, SitePlan,
};
use crate::recovery::{self, ISSUING_MARKER, Leftover};

/// Most addresses one server certificate names. A server identity answers on a few
/// addresses; every one is sent in every handshake and checked by every client, so a list
/// of hundreds is a mistake (and would make issuing slow), not a site.
pub const MAX_ADDRESSES: usize = 64;

/// A server certificate to issue.
#[derive(Clone, Debug)]
pub struct ServerRequest {
    /// Identity name (folder under `pki/servers/`).
    pub name: String,
    /// IP addresses (iPAddress SANs).
    pub ips: Vec<IpAddr>,
    /// DNS names (dNSName SANs), already checked by [`plan::parse_dns`].
    pub dns: Vec<String>,
    /// Key algorithm.
    pub key_type: KeyType,
    /// Validity in days.
    pub days: u32,
    /// Allow more than Apple's 825 days.
    pub allow_long_validity: bool,
}

impl ServerRequest {
    /// A request with the default key type and validity.
    pub fn new(name: &str, ips: Vec<IpAddr>, dns: Vec<String>) -> ServerRequest {
        ServerRequest {
            name: name.into(),
            ips,
            dns,
            key_type: KeyType::P256,
            days: pki::LEAF_VALIDITY_DAYS,
            allow_long_validity: false,
        }
    }

    fn check(&self) -> Result<()> {
        plan::check_name(&self.name)?;
        if self.ips.is_empty() && self.dns.is_empty() {
            return Err(Error::bad_value("server", &self.name, "needs at least one address", None)
                .with_remedy(Remedy::GiveServerAddresses));
        }
        let count = self.ips.len() + self.dns.len();
        if count > MAX_ADDRESSES {
            return Err(Error::bad_value(
                "server",
                &self.name,
                format!("has {count} addresses; one certificate names at most {MAX_ADDRESSES}"),
                Some("issue one server identity per machine, each with the addresses it answers on"),
            ));
        }
        let mut seen = std::collections::HashSet::with_capacity(count);
        for host in self.ips.iter().map(|ip| Host::Ip(*ip)).chain(self.dns.iter().map(|d| Host::Dns(d.clone()))) {
            if !seen.insert(host.clone()) {
                return Err(Error::bad_value(
                    "address",
                    &host.to_string(),
                    format!("is given twice for server {:?}", self.name),
                    Some("give each address once"),
                ));
            }
        }
        check_days(self.days)?;
        if self.days > APPLE_MAX_SERVER_DAYS && !self.allow_long_validity {
            return Err(Error::bad_value(
                "validity",
                &format!("{} days", self.days),
                format!("is longer than {APPLE_MAX_SERVER_DAYS} days: iOS and macOS reject such server certificates"),
                None,
            )
            .with_remedy(Remedy::ShortenValidity {
                max_days: APPLE_MAX_SERVER_DAYS,
                default_days: pki::LEAF_VALIDITY_DAYS,
            }));
        }
        Ok(())
    }
}

fn check_days(days: u32) -> Result<()> {
    if days == 0 || days > 36500 {
        return Err(Error::bad_value("validity", &format!("{days} days"), "must be between 1 and 36500 days", None));
    }
    Ok(())
}

/// What `init` creates.
#[derive(Clone, Debug)]
pub struct InitOptions {
    /// The site's name (default: the folder's name).
    pub name: Option<String>,
    /// Private CA or self-signed.
    pub mode: AuthorityMode,
    /// What apps pin (default: `ca` for a private CA, `leaf` for self-signed).
    pub pin: Option<PinTarget>,
    /// The first server.
    pub server: ServerRequest,
    /// The last day apps enforce the pins (UTC); none: until the apps change.
    pub pin_expiration: Option<time::Date>,
}

/// A client certificate to issue.
pub struct ClientRequest {
    /// Identity name: folder under `pki/clients/` and CN.
    pub name: String,
    /// Key algorithm.
    pub key_type: KeyType,
    /// Validity in days.
    pub days: u32,
    /// PKCS#12 profile.
    pub p12_profile: P12Profile,
    /// PKCS#12 password.
    pub password: Zeroizing<String>,
}

/// Files written for a server or client identity, relative to the site folder.
#[derive(Clone, Debug, serde::Serialize)]
pub struct IssuedFiles {
    /// Private key, PKCS#8 PEM, 0600.
    pub key: String,
    /// Certificate, PEM.
    pub cert: String,
    /// Certificate followed by its issuers, PEM (not for roots: a root is its own chain).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain: Option<String>,
    /// Certificate, DER (`.cer`, what Cordova, Capacitor and Android `@raw` take).
    pub cer: String,
    /// PKCS#12 bundle (client certificates).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p12: Option<String>,
    /// Standby key (pinned identities).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standby_key: Option<String>,
}

/// How a command that changes a site gets it to itself: how long it waits for another
/// one changing it, and whom it tells.
pub struct Exclusive<'a> {
    /// The longest wait while another process holds the site's lock; zero fails at once.
    pub wait: Duration,
    /// Told once, before waiting, when another process holds the lock.
    pub on_busy: &'a dyn Fn(),
    /// Told of each leftover of an interrupted command as it is removed.
    pub on_leftover: &'a dyn Fn(&Leftover),
}

impl Default for Exclusive<'_> {
    /// Waits [`DEFAULT_WAIT`], tells no one.
    fn default() -> Self {
        Exclusive { wait: DEFAULT_WAIT, on_busy: &|| {}, on_leftover: &|_| {} }
    }
}

/// An open site.
#[derive(Clone, Debug)]
pub struct Site {
    dir: PathBuf,
    /// The plan as read from `pinset.toml`.
    pub plan: SitePlan,
    /// The site's lock, held while this site is open for change (shared by clones).
    lock: Option<Arc<SiteLock>>,
    /// What interrupted commands had left, removed when the lock was taken.
    recovered: Vec<Leftover>,
}

impl Site {
    /// Opens the site in `dir` for reading.
    pub fn open(dir: &Path) -> Result<Site> {
        let plan = SitePlan::load(&dir.join(PLAN_FILE))?;
        Ok(Site { dir: dir.to_path_buf(), plan, lock: None, recovered: Vec::new() })
    }

    /// Opens the site in `dir` to change it: takes the site's lock (waiting as `how` says),
    /// reads the plan under it, checks the ledger (which must exist) and removes what
    /// interrupted commands left (see [`crate::recovery`]). The lock is held until the
    /// site and every clone of it are dropped.
    pub fn open_for_change(dir: &Path, how: &Exclusive<'_>) -> Result<Site> {
        // A folder that is no site says so before anything waits for it.
        SitePlan::load(&dir.join(PLAN_FILE))?;
        let lock = SiteLock::acquire(dir, how.wait, how.on_busy)?;
        let mut ledger = Ledger::open(&dir.join("pki").join(LEDGER_FILE))?;
        let mut changes = Vec::new();
        for (operation, finished) in crate::change::recover(dir, &mut ledger)? {
            let leftover = Leftover {
                path: dir.join(crate::change::CHANGE_FOLDER),
                kind: recovery::LeftoverKind::InterruptedChange { operation, finished },
            };
            (how.on_leftover)(&leftover);
            changes.push(leftover);
        }
        // Read after the changes are settled: a finished one moved a new plan into place.
        let plan = SitePlan::load(&dir.join(PLAN_FILE))?;
        let mut recovered = recovery::site_leftovers(dir, &plan, &mut ledger, how.on_leftover)?;
        recovered.splice(0..0, changes);
        if !ledger.enforces_one_active() {
            let named = recovery::plan_serials(&plan);
            for serial in ledger.settle_duplicates(&|s| named.contains(s))? {
                let leftover = Leftover {
                    path: dir.join("pki").join(LEDGER_FILE),
                    kind: recovery::LeftoverKind::DuplicateActive { serial },
                };
                (how.on_leftover)(&leftover);
                recovered.push(leftover);
            }
        }
        Ok(Site { dir: dir.to_path_buf(), plan, lock: Some(Arc::new(lock)), recovered })
    }

    /// What interrupted commands had left, removed when this site was opened for change.
    pub fn recovered(&self) -> &[Leftover] {
        &self.recovered
    }

    /// Takes the site's lock if this site does not hold it yet, reading the plan again.
    pub(crate) fn hold(&mut self) -> Result<()> {
        if self.lock.is_none() {
            *self = Site::open_for_change(&self.dir, &Exclusive::default())?;
        }
        Ok(())
    }

    /// The site folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A path from the plan, resolved against the site folder.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    /// Creates a new site in `dir` (created if missing). Refuses to touch an existing site.
    /// Waits for another command creating or changing a site there as [`Exclusive`]'s
    /// default says; [`Site::init_with`] chooses.
    pub fn init(dir: &Path, opts: InitOptions) -> Result<Site> {
        Site::init_with(dir, opts, &Exclusive::default())
    }

    /// Creates a new site in `dir` (created if missing), holding the folder's lock from
    /// before it looks for an existing site until its plan is in place, and removing what
    /// interrupted `init`s left there first (also when it then refuses an existing site). Refuses to touch an existing site; when it
    /// fails, removes only what it created itself. The site returned does not hold the lock.
    pub fn init_with(dir: &Path, opts: InitOptions, how: &Exclusive<'_>) -> Result<Site> {
        opts.server.check()?;
        if let Some(last) = opts.pin_expiration {
            crate::plan::check_pin_expiration(last, OffsetDateTime::now_utc().date())?;
        }
        let plan_path = dir.join(PLAN_FILE);
        let name = match &opts.name {
            Some(n) => n.clone(),
            None => default_site_name(dir),
        };
        crate::plan::check_site_name(&name)?;
        let pin = opts.pin.unwrap_or(match opts.mode {
            AuthorityMode::Ca => PinTarget::Ca,
            AuthorityMode::SelfSigned => PinTarget::Leaf,
        });
        if opts.mode == AuthorityMode::SelfSigned && pin == PinTarget::Ca {
            return Err(Error::bad_value("pin", "ca", "a self-signed site has no CA to pin", None)
                .with_remedy(Remedy::PinServerKeys));
        }

        // The folders this init creates, outermost first: removed again if it fails.
        let mut created: Vec<PathBuf> = Vec::new();
        let mut attempts = 0;
        let lock = loop {
            created.extend(create_missing_dirs(dir)?);
            match SiteLock::acquire(dir, how.wait, how.on_busy) {
                Ok(lock) => break lock,
                // Removed while this init waited (another init that created it failed):
                // create it again.
                Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound && attempts < 10 => {
                    attempts += 1;
                }
                Err(e) => {
                    if !matches!(e, Error::Busy { .. }) {
                        remove_created(&created);
                    }
                    return Err(e);
                }
            }
        };
        let staging = dir.join(format!("{}{}", recovery::INIT_STAGING_PREFIX, std::process::id()));
        let mut moved_pki = false;
        let mut recovered = Vec::new();
        let result = (|| {
            recovered = recovery::init_leftovers(dir, how.on_leftover)?;
            if plan_path.exists() {
                return Err(site_exists(&plan_path));
            }
            if dir.join("pki").exists() {
                return Err(Error::Plan {
                    path: plan_path.clone(),
                    problem: format!("{} exists but pinset.toml does not", dir.join("pki").display()),
                    hint: Some(
                        "it may hold keys of an earlier site: move it away before creating a new site here".into(),
                    ),
                });
            }
            atomic::create_dir_all(&staging.join("pki"))?;
            let mut plan = SitePlan {
                version: PLAN_VERSION,
                name,
                pin,
                pin_expiration: opts.pin_expiration,
                authority: Authority { mode: opts.mode, active: None, standby: None, retiring: None },
                servers: Vec::new(),
                clients: Vec::new(),
            };
            let now = OffsetDateTime::now_utc();
            let mut records = Vec::new();
            if opts.mode == AuthorityMode::Ca {
                let cn = format!("pinset CA {}", plan.name);
                plan.authority.active =
                    Some(write_root(&staging, &mut records, &cn, &plan.name, "ca", CertKind::Ca, "active", now)?);
                plan.authority.standby = Some(write_root(
                    &staging,
                    &mut records,
                    &format!("{cn} (standby)"),
                    &plan.name,
                    "ca-standby",
                    CertKind::CaStandby,
                    "standby",
                    now,
                )?);
            }
            let mut staged = Site { dir: staging.clone(), plan, lock: None, recovered: Vec::new() };
            let server = staged.make_server(&mut records, &opts.server, now, Durability::Staged)?;
            staged.plan.servers.push(server);
            Ledger::create_staged(&staging.join("pki").join(LEDGER_FILE))?.record(&records)?;
            let staged_plan = staging.join(PLAN_FILE);
            atomic::write_staged(&staged_plan, staged.plan.to_toml()?.as_bytes(), PUBLIC_MODE)?;
            // Three flushes in a row, the fewest this order allows: everything staged at
            // once (with the folders holding the folders this init created), then `pki/`
            // in place, then the plan (the commit point) in place.
            let mut paths = atomic::tree_paths(&staging)?;
            paths.extend(
                created
                    .iter()
                    .map(|d| d.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf()),
            );
            atomic::sync_all(&paths)?;
            for (from, to) in [(staging.join("pki"), dir.join("pki")), (staged_plan, plan_path.clone())] {
                std::fs::rename(&from, &to).map_err(|e| Error::io("cannot move into place", &to, e))?;
                moved_pki = true;
                atomic::sync_dir(dir).map_err(|e| Error::io("cannot sync", dir, e))?;
            }
            Ok(staged.plan)
        })();
        let _ = std::fs::remove_dir_all(&staging);
        match result {
            // Committed: the lock is let go, so a caller keeping the site does not hold up
            // other commands (changing it through this value takes the lock again).
            Ok(plan) => Ok(Site { dir: dir.to_path_buf(), plan, lock: None, recovered }),
            Err(e) => {
                if !plan_path.exists() {
                    if moved_pki {
                        let _ = std::fs::remove_dir_all(dir.join("pki"));
                    }
                    remove_created(&created);
                }
                drop(lock);
                Err(e)
            }
        }
    }

    /// Issues a new server identity and adds it to the plan.
    pub fn issue_server(&mut self, req: &ServerRequest) -> Result<&Server> {
        req.check()?;
        self.hold()?;
        self.refuse_existing("server", &req.name, self.plan.server(&req.name).is_some(), "servers")?;
        let folder = self.path(&format!("pki/servers/{}", req.name));
        begin_identity(&folder)?;
        let mut records = Vec::new();
        let server = match self.make_server(&mut records, req, OffsetDateTime::now_utc(), Durability::Now) {
            Ok(s) => s,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&folder);
                return Err(e);
            }
        };
        let mut plan = self.plan.clone();
        plan.servers.push(server);
        self.commit(plan, &records, &folder)?;
        Ok(self.plan.servers.last().expect("just pushed"))
    }

    /// Issues a client certificate for mutual TLS and adds it to the plan.
    pub fn issue_client(&mut self, req: &ClientRequest) -> Result<IssuedFiles> {
        plan::check_name(&req.name)?;
        check_days(req.days)?;
        if self.plan.authority.mode != AuthorityMode::Ca {
            return Err(Error::bad_value(
                "client",
                &req.name,
                "client certificates need a private CA, and this site is self-signed",
                None,
            )
            .with_remedy(Remedy::CreateSiteWithCa));
        }
        if req.password.is_empty() {
            return Err(Error::bad_value(
                "PKCS#12 password",
                "(empty)",
                "may not be empty: it would leave the key unprotected",
                Some("give a real password"),
            ));
        }
        self.hold()?;
        self.refuse_existing("client", &req.name, self.plan.client(&req.name).is_some(), "clients")?;
        let folder = self.path(&format!("pki/clients/{}", req.name));
        begin_identity(&folder)?;
        let made = (|| {
            let (issuer, ca_der) = self.ca_issuer()?;
            let key = req.key_type.generate()?;
            let spec = LeafSpec {
                kind: LeafKind::Client,
                common_name: &req.name,
                organization: &self.plan.name,
                ips: &[],
                dns: &[],
                days: req.days,
            };
            let issued = pki::issue_leaf(&spec, &key, req.key_type, Some(&issuer), OffsetDateTime::now_utc())?;
            let rel = format!("pki/clients/{}", req.name);
            let mut files = write_identity(&self.dir, &rel, &issued, Some(&ca_der), Durability::Now)?;
            let p12_name = match req.p12_profile {
                P12Profile::Modern => format!("{rel}/{}.p12", req.name),
                P12Profile::Legacy => format!("{rel}/{}-legacy.p12", req.name),
            };
            let p12 = pki::pkcs12(
                &req.name,
                &issued.key_der,
                &[issued.cert_der.clone(), ca_der],
                &req.password,
                req.p12_profile,
            )?;
            atomic::write(&self.dir.join(&p12_name), &p12, SECRET_MODE)?;
            files.p12 = Some(p12_name);
            let record = Record {
                kind: CertKind::Client,
                name: req.name.clone(),
                cert_der: issued.cert_der.clone(),
                status: "active",
            };
            Ok((
                files,
                record,
                Client { name: req.name.clone(), key_type: req.key_type, active: slot(&files_for_slot(&rel), &issued) },
            ))
        })();
        let (files, record, client) = match made {
            Ok(m) => m,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&folder);
                return Err(e);
            }
        };
        let mut plan = self.plan.clone();
        plan.clients.push(client);
        self.commit(plan, &[record], &folder)?;
        Ok(files)
    }

    /// A PKCS#12 file of client `name`'s key and certificate, with the CA certificate that
    /// issued it, encrypted with `profile` and `password`: the file in another profile for a
    /// client the site already has (an older Android or macOS wants the legacy one), without
    /// issuing a new certificate. The key is checked against the plan's pin of the client.
    pub fn client_pkcs12(&self, name: &str, profile: P12Profile, password: &str) -> Result<Vec<u8>> {
        let client = self.plan.client(name).ok_or_else(|| {
            let names: Vec<&str> = self.plan.clients.iter().map(|c| c.name.as_str()).collect();
            let hint = if names.is_empty() {
                "this site has issued no client certificate yet".to_string()
            } else {
                format!("the site's clients are: {}", names.join(", "))
            };
            Error::bad_value("client", name, format!("is not a client of site {}", self.plan.name), Some(&hint))
        })?;
        if password.is_empty() {
            return Err(Error::bad_value(
                "PKCS#12 password",
                "(empty)",
                "may not be empty: it would leave the key unprotected",
                Some("give a real password"),
            ));
        }
        let slot = &client.active;
        let chain_rel = slot.chain.as_deref().or(slot.cert.as_deref()).unwrap_or_default();
        let chain_path = self.path(chain_rel);
        let bytes = std::fs::read(&chain_path).map_err(|e| Error::io("cannot read", &chain_path, e))?;
        let chain = crate::input::read_certificates(&chain_path.display().to_string(), &bytes)?;
        let key_path = self.path(&slot.key);
        let key_pem =
            Zeroizing::new(std::fs::read_to_string(&key_path).map_err(|e| Error::io("cannot read", &key_path, e))?);
        let label = key_path.display().to_string();
        let key = rcgen::KeyPair::from_pem(&key_pem)
            .map_err(|e| Error::bad_input(&label, format!("is not a PEM private key: {e}"), None))?;
        let pin = crate::pin::Pin::of_spki(&rcgen::PublicKeyData::subject_public_key_info(&key));
        if pin != slot.pin || chain.is_empty() {
            return Err(Error::bad_input(
                &label,
                format!("holds a key whose pin {pin} is not client {name}'s {} in the plan", slot.pin),
                Some("the plan and pki/ disagree; restore both from the same backup"),
            ));
        }
        let key_der = Zeroizing::new(key.serialize_der());
        pki::pkcs12(name, &key_der, &chain, password, profile)
    }

    /// Sets the last day apps enforce the pins (UTC), or none. Refuses a day in the past
    /// (see [`crate::plan::check_pin_expiration`]); writes the plan atomically under the
    /// site's lock. Apps already shipped keep the date they carry: the change reaches them
    /// with the next export and release.
    pub fn set_pin_expiration(&mut self, last: Option<time::Date>) -> Result<()> {
        if let Some(last) = last {
            crate::plan::check_pin_expiration(last, OffsetDateTime::now_utc().date())?;
        }
        self.hold()?;
        if self.plan.pin_expiration == last {
            return Ok(());
        }
        let mut plan = self.plan.clone();
        plan.pin_expiration = last;
        plan.save(&self.path(PLAN_FILE))?;
        self.plan = plan;
        Ok(())
    }

    /// The site's trust as apps see it: anchors, and for every address the pins that may
    /// appear for it. Reads the anchor files, checking each against the plan.
    pub fn trust(&self) -> Result<crate::trust::SiteTrust> {
        crate::trust::SiteTrust::of_site(self)
    }

    /// Opens the site's ledger.
    pub fn ledger(&self) -> Result<Ledger> {
        Ledger::open(&self.path(&format!("pki/{LEDGER_FILE}")))
    }

    fn refuse_existing(&self, what: &'static str, name: &str, in_plan: bool, folder: &str) -> Result<()> {
        if in_plan {
            return Err(Error::bad_value(
                what,
                name,
                "already exists in this site",
                Some("choose another name; renewing an identity is a rotation, not a new issue"),
            ));
        }
        let dir = self.path(&format!("pki/{folder}/{name}"));
        if dir.exists() {
            return Err(Error::bad_value(
                what,
                name,
                format!("{} exists but is not in the plan", dir.display()),
                Some(
                    "pinset did not leave it (what an interrupted issue leaves is removed by the next command): \
                     move it away, then issue again",
                ),
            ));
        }
        Ok(())
    }

    /// Writes `plan` as the new plan, then unmarks `folder`; on failure removes `folder`
    /// and the ledger rows the operation added, so nothing half-issued remains.
    fn commit(&mut self, plan: SitePlan, records: &[Record], folder: &Path) -> Result<()> {
        let undo = |e: Error| {
            let _ = std::fs::remove_dir_all(folder);
            e
        };
        let mut ledger = self.ledger().map_err(undo)?;
        ledger.record(records).map_err(undo)?;
        if let Err(e) = plan.save(&self.path(PLAN_FILE)) {
            let serials: Vec<String> = records
                .iter()
                .filter_map(|r| {
                    crate::cert::parse("", &r.cert_der).ok().map(|c| crate::cert::serial_to_string(c.raw_serial()))
                })
                .collect();
            let _ = ledger.forget(&serials);
            return Err(undo(e));
        }
        self.plan = plan;
        // Committed: the folder is the site's now. A marker left by a crash here is
        // removed by the next command.
        let _ = std::fs::remove_file(folder.join(ISSUING_MARKER));
        Ok(())
    }

    pub(crate) fn ca_issuer(&self) -> Result<(rcgen::Issuer<'static, rcgen::KeyPair>, Vec<u8>)> {
        let slot = self.plan.authority.active.as_ref().ok_or_else(|| Error::Plan {
            path: self.path(PLAN_FILE),
            problem: "this site has no active CA".into(),
            hint: None,
        })?;
        let cert_rel = slot.cert.as_deref().unwrap_or_default();
        let cert_path = self.path(cert_rel);
        let cert_bytes = std::fs::read(&cert_path).map_err(|e| Error::io("cannot read", &cert_path, e))?;
        let ca_der = crate::input::read_certificates(&cert_path.display().to_string(), &cert_bytes)?
            .into_iter()
            .next()
            .unwrap_or_default();
        let key_path = self.path(&slot.key);
        let key_pem =
            Zeroizing::new(std::fs::read_to_string(&key_path).map_err(|e| Error::io("cannot read", &key_path, e))?);
        let issuer = pki::load_issuer(&ca_der, &key_pem, &key_path.display().to_string())?;
        Ok((issuer, ca_der))
    }

    /// Issues a server identity into `self.dir` (which may be a staging folder, written
    /// with `Durability::Staged`).
    fn make_server(
        &self,
        records: &mut Vec<Record>,
        req: &ServerRequest,
        now: OffsetDateTime,
        durability: Durability,
    ) -> Result<Server> {
        let rel = format!("pki/servers/{}", req.name);
        atomic::create_dir_all(&self.dir.join(&rel))?;
        let cn =
            req.dns.first().cloned().unwrap_or_else(|| req.ips.first().map(ToString::to_string).unwrap_or_default());
        let spec = LeafSpec {
            kind: LeafKind::Server,
            common_name: &cn,
            organization: &self.plan.name,
            ips: &req.ips,
            dns: &req.dns,
            days: req.days,
        };
        let pinned = self.plan.pin == PinTarget::Leaf;
        let key = req.key_type.generate()?;
        let (active, standby) = match self.plan.authority.mode {
            AuthorityMode::Ca => {
                let (issuer, ca_der) = self.ca_issuer()?;
                let issued = pki::issue_leaf(&spec, &key, req.key_type, Some(&issuer), now)?;
                let files = write_identity(&self.dir, &rel, &issued, Some(&ca_der), durability)?;
                records.push(Record {
                    kind: CertKind::Server,
                    name: req.name.clone(),
                    cert_der: issued.cert_der.clone(),
                    status: "active",
                });
                let standby = if pinned {
                    // Behind the private CA a standby needs no certificate yet: the CA
                    // signs one at promotion, and apps already trust the CA.
                    let (standby, _) = Standby::generate(req.key_type)?;
                    let key_rel = format!("{rel}/standby.key");
                    atomic::write_with(&self.dir.join(&key_rel), standby.key_pem.as_bytes(), SECRET_MODE, durability)?;
                    Some(KeySlot {
                        cert: None,
                        chain: None,
                        key: key_rel,
                        pin: standby.pin,
                        serial: None,
                        not_after: None,
                    })
                } else {
                    None
                };
                (slot(&files, &issued), standby)
            }
            AuthorityMode::SelfSigned => {
                let issued = pki::issue_leaf(&spec, &key, req.key_type, None, now)?;
                let files = write_identity(&self.dir, &rel, &issued, None, durability)?;
                records.push(Record {
                    kind: CertKind::Server,
                    name: req.name.clone(),
                    cert_der: issued.cert_der.clone(),
                    status: "active",
                });
                // A self-signed server is its own anchor: its standby gets a certificate
                // now, so apps ship both anchors and promotion needs no app update.
                let (_, standby_key) = Standby::generate(req.key_type)?;
                let standby = pki::issue_leaf(&spec, &standby_key, req.key_type, None, now)?;
                let standby_files = write_named(&self.dir, &rel, "standby", &standby, true, durability)?;
                records.push(Record {
                    kind: CertKind::ServerStandby,
                    name: req.name.clone(),
                    cert_der: standby.cert_der.clone(),
                    status: "standby",
                });
                (slot(&files, &issued), Some(slot(&standby_files, &standby)))
            }
        };
        Ok(Server {
            name: req.name.clone(),
            ips: req.ips.clone(),
            dns: req.dns.clone(),
            key_type: req.key_type,
            active,
            standby,
            retiring: None,
        })
    }
}

fn site_exists(plan_path: &Path) -> Error {
    Error::Plan {
        path: plan_path.to_path_buf(),
        problem: "a site already exists here; pinset never overwrites one".into(),
        hint: Some("choose another folder, or remove this site first if you really mean to replace it".into()),
    }
}

/// Creates `dir` and its missing parents, returning the folders it created, outermost
/// first. A folder another process creates at the same moment is not counted.
fn create_missing_dirs(dir: &Path) -> Result<Vec<PathBuf>> {
    let missing: Vec<&Path> =
        dir.ancestors().take_while(|a| !a.as_os_str().is_empty() && !a.exists()).collect::<Vec<_>>();
    let mut created = Vec::new();
    for folder in missing.into_iter().rev() {
        match std::fs::create_dir(folder) {
            Ok(()) => created.push(folder.to_path_buf()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && folder.is_dir() => {}
            Err(e) => {
                remove_created(&created);
                return Err(Error::io("cannot create folder", dir, e));
            }
        }
    }
    Ok(created)
}

/// Removes the folders `init` created, innermost first, each only if empty: a folder
/// something else was put in is not this init's to remove.
fn remove_created(created: &[PathBuf]) {
    for folder in created.iter().rev() {
        let _ = std::fs::remove_dir(folder);
    }
}

/// Creates an identity's folder, which must not exist, and marks it as not yet part of
/// the site (the marker is removed at commit).
fn begin_identity(folder: &Path) -> Result<()> {
    if let Some(parent) = folder.parent() {
        atomic::create_dir_all(parent)?;
    }
    std::fs::create_dir(folder).map_err(|e| Error::io("cannot create folder", folder, e))?;
    let marker = folder.join(ISSUING_MARKER);
    // Not flushed on its own: its folder is flushed by the first file written after it.
    if let Err(e) = std::fs::write(&marker, format!("issuing, process {}\n", std::process::id())) {
        let _ = std::fs::remove_dir_all(folder);
        return Err(Error::io("cannot write", &marker, e));
    }
    Ok(())
}

fn default_site_name(dir: &Path) -> String {
    let abs = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    abs.file_name().map(|n| n.to_string_lossy().into_owned()).filter(|n| !n.is_empty()).unwrap_or_else(|| "site".into())
}

/// Issues a root into init's staging folder `root`.
#[allow(clippy::too_many_arguments)]
fn write_root(
    root: &Path,
    records: &mut Vec<Record>,
    cn: &str,
    org: &str,
    stem: &str,
    kind: CertKind,
    status: &'static str,
    now: OffsetDateTime,
) -> Result<KeySlot> {
    let key = KeyType::P256.generate()?;
    let issued = pki::new_root(cn, org, &key, now)?;
    let rel = "pki/authority";
    let files = write_named(root, rel, stem, &issued, false, Durability::Staged)?;
    records.push(Record { kind, name: "authority".into(), cert_der: issued.cert_der.clone(), status });
    Ok(slot(&files, &issued))
}

/// Writes `cert.pem`, `chain.pem`, `cert.cer` and `key.pem` of an identity.
fn write_identity(
    root: &Path,
    rel: &str,
    issued: &Issued,
    issuer_der: Option<&[u8]>,
    durability: Durability,
) -> Result<IssuedFiles> {
    let files = files_for_slot(rel);
    write_files(root, &files, issued, issuer_der, durability)?;
    Ok(files)
}

/// Writes `<stem>.pem`, `<stem>.cer`, `<stem>.key` and, with `chain`, `<stem>-chain.pem`
/// (for a self-signed certificate, the certificate alone).
fn write_named(
    root: &Path,
    rel: &str,
    stem: &str,
    issued: &Issued,
    chain: bool,
    durability: Durability,
) -> Result<IssuedFiles> {
    let files = IssuedFiles {
        key: format!("{rel}/{stem}.key"),
        cert: format!("{rel}/{stem}.pem"),
        chain: chain.then(|| format!("{rel}/{stem}-chain.pem")),
        cer: format!("{rel}/{stem}.cer"),
        p12: None,
        standby_key: None,
    };
    write_files(root, &files, issued, None, durability)?;
    Ok(files)
}

fn files_for_slot(rel: &str) -> IssuedFiles {
    IssuedFiles {
        key: format!("{rel}/key.pem"),
        cert: format!("{rel}/cert.pem"),
        chain: Some(format!("{rel}/chain.pem")),
        cer: format!("{rel}/cert.cer"),
        p12: None,
        standby_key: None,
    }
}

fn write_files(
    root: &Path,
    files: &IssuedFiles,
    issued: &Issued,
    issuer_der: Option<&[u8]>,
    durability: Durability,
) -> Result<()> {
    if let Some(parent) = root.join(&files.key).parent() {
        atomic::create_dir_all(parent)?;
    }
    atomic::write_with(&root.join(&files.key), issued.key_pem.as_bytes(), SECRET_MODE, durability)?;
    atomic::write_with(&root.join(&files.cert), issued.cert_pem.as_bytes(), PUBLIC_MODE, durability)?;
    if let Some(chain_path) = &files.chain {
        let mut chain = issued.cert_pem.clone();
        if let Some(der) = issuer_der {
            chain.push_str(&pem::encode(&pem::Pem::new("CERTIFICATE", der.to_vec())));
        }
        atomic::write_with(&root.join(chain_path), chain.as_bytes(), PUBLIC_MODE, durability)?;
    }
    atomic::write_with(&root.join(&files.cer), &issued.cert_der, PUBLIC_MODE, durability)?;
    Ok(())
}

fn slot(files: &IssuedFiles, issued: &Issued) -> KeySlot {
    KeySlot {
        cert: Some(files.cert.clone()),
        chain: files.chain.clone(),
        key: files.key.clone(),
        pin: issued.pin,
        serial: Some(issued.serial.clone()),
        not_after: Some(issued.not_after),
    }
}
