//! Recovery: what an interrupted command left in a site, found and removed by the next
//! command that changes the site, while it holds the site's lock ([`crate::lock`]).
//!
//! A command that changes a site holds the lock for as long as anything it writes is
//! unfinished, and the kernel frees the lock when the command ends, however it ends. So
//! unfinished work found by a command holding the lock was left by one that no longer
//! runs. Each kind is recognised by its name or by a marker, never by being unknown: a
//! file pinset did not make is left alone, and a command that needs its place refuses
//! with a hint instead.
//!
//! The rules, applied in this order:
//! * `.pinset-init-PID/` in the site folder, the staging folder of `init`, is removed.
//!   Before its `pki/` moved into place it holds the new site's private keys. When it holds
//!   a plan and no `pki/`, and the site has a `pki/` but no plan, that `init` moved its
//!   `pki/` into place and stopped before its plan: that `pki/` is removed first. A `pki/`
//!   without a plan and without this evidence is left alone (`init` refuses to cover it).
//! * `pki/servers/NAME/` or `pki/clients/NAME/` that the plan does not name and that holds
//!   the marker [`ISSUING_MARKER`] (or nothing at all) is an issue that never committed: the
//!   ledger rows of the certificates in it are removed, then its files (the marker last,
//!   so an interrupted recovery is recovered too), then the folder. A named folder still
//!   marked was committed by an issue that stopped before removing the marker: the marker
//!   is removed.
//! * A change journaled in the ledger ([`crate::change`]; a renewal, a promotion, a
//!   retirement) is finished when it had committed, else undone, before any other rule,
//!   and the plan read again after it.
//! * Temporary files of atomic writes (`atomic::is_temporary`) anywhere under `pki/`, and
//!   the plan's own in the site folder, are removed.

use std::collections::HashSet;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::ledger::Ledger;
use crate::plan::{PLAN_FILE, SitePlan};

/// Name prefix of `init`'s staging folder in the site folder (followed by the process id).
pub const INIT_STAGING_PREFIX: &str = ".pinset-init-";

/// The file an issue puts in an identity's new folder before anything else and removes
/// once the plan names the identity: while it is there, the folder is not part of the site.
pub const ISSUING_MARKER: &str = ".pinset-issuing";

/// Something an interrupted command left behind, removed by the command that found it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leftover {
    /// What was removed (for a ledger repair, the ledger).
    pub path: PathBuf,
    /// What it was.
    pub kind: LeftoverKind,
}

/// What kind of leftover a [`Leftover`] was.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LeftoverKind {
    /// The staging folder of a site creation that never finished.
    InitStaging {
        /// Whether it still held the new site's private keys.
        held_keys: bool,
    },
    /// A `pki/` a site creation moved into place before it stopped, without its plan.
    UncommittedPki,
    /// The folder of an identity whose issue never reached the plan.
    UncommittedIdentity {
        /// The identity's ledger rows removed with it.
        ledger_rows: usize,
    },
    /// The temporary file of a write that never finished.
    TemporaryFile,
    /// A second active certificate for one identity in the ledger, left by two commands
    /// that changed the site at once before sites were locked: marked revoked.
    DuplicateActive {
        /// Its serial number.
        serial: String,
    },
    /// A renewal, promotion or retirement that was interrupted ([`crate::change`]):
    /// finished when it had committed, else undone.
    InterruptedChange {
        /// What it was: `renew`, `promote` or `retire`.
        operation: String,
        /// Finished (true) or undone.
        finished: bool,
    },
}

impl fmt::Display for Leftover {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        match &self.kind {
            LeftoverKind::InitStaging { held_keys } => write!(
                f,
                "removed {path}, left by a site creation that was interrupted{}",
                if *held_keys { " (it held private keys)" } else { "" }
            ),
            LeftoverKind::UncommittedPki => {
                write!(f, "removed {path}, moved into place by a site creation that was interrupted before its plan")
            }
            LeftoverKind::UncommittedIdentity { ledger_rows } => write!(
                f,
                "removed {path}, left by an issue that was interrupted before the plan named it{}",
                match ledger_rows {
                    0 => String::new(),
                    1 => " (and its ledger row)".into(),
                    n => format!(" (and its {n} ledger rows)"),
                }
            ),
            LeftoverKind::TemporaryFile => write!(f, "removed {path}, left by a write that was interrupted"),
            LeftoverKind::InterruptedChange { operation, finished: true } => {
                write!(f, "finished the {operation} that was interrupted after it had committed ({path})")
            }
            LeftoverKind::InterruptedChange { operation, finished: false } => {
                write!(f, "undid the {operation} that was interrupted before it had committed ({path})")
            }
            LeftoverKind::DuplicateActive { serial } => write!(
                f,
                "marked certificate {serial} revoked in {path}: a second active certificate for one identity, \
                 which the plan does not name"
            ),
        }
    }
}

/// Whether `name` is the name of `init`'s staging folder.
pub(crate) fn is_init_staging(name: &str) -> bool {
    name.strip_prefix(INIT_STAGING_PREFIX).is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
}

/// Removes what interrupted `init`s left in `dir` (the first rule), telling `report` of
/// each removal as it is made.
pub(crate) fn init_leftovers(dir: &Path, report: &dyn Fn(&Leftover)) -> Result<Vec<Leftover>> {
    let mut found = Vec::new();
    let mut note = |path: PathBuf, kind: LeftoverKind| {
        let leftover = Leftover { path, kind };
        report(&leftover);
        found.push(leftover);
    };
    let has_plan = exists(&dir.join(PLAN_FILE))?;
    for entry in read_dir(dir)? {
        let name = entry.file_name();
        let Some(name) = name.to_str().filter(|n| is_init_staging(n)) else { continue };
        let staging = dir.join(name);
        if !fs::symlink_metadata(&staging).map_err(|e| Error::io("cannot read", &staging, e))?.is_dir() {
            continue;
        }
        let staged_pki = exists(&staging.join("pki"))?;
        if !has_plan && !staged_pki && exists(&staging.join(PLAN_FILE))? && exists(&dir.join("pki"))? {
            remove_tree(&dir.join("pki"))?;
            note(dir.join("pki"), LeftoverKind::UncommittedPki);
        }
        remove_tree(&staging)?;
        note(staging, LeftoverKind::InitStaging { held_keys: staged_pki });
    }
    Ok(found)
}

/// Removes what interrupted commands left in the site in `dir` whose plan is `plan` (every
/// rule), the ledger rows of uncommitted issues included, telling `report` of each
/// removal as it is made.
pub(crate) fn site_leftovers(
    dir: &Path,
    plan: &SitePlan,
    ledger: &mut Ledger,
    report: &dyn Fn(&Leftover),
) -> Result<Vec<Leftover>> {
    let mut found = init_leftovers(dir, report)?;
    let mut note = |path: PathBuf, kind: LeftoverKind| {
        let leftover = Leftover { path, kind };
        report(&leftover);
        found.push(leftover);
    };
    let named_serials = plan_serials(plan);
    let servers: HashSet<&str> = plan.servers.iter().map(|s| s.name.as_str()).collect();
    let clients: HashSet<&str> = plan.clients.iter().map(|c| c.name.as_str()).collect();
    for (folder, named) in [("servers", &servers), ("clients", &clients)] {
        let parent = dir.join("pki").join(folder);
        if !exists(&parent)? {
            continue;
        }
        for entry in read_dir(&parent)? {
            let path = entry.path();
            let meta = fs::symlink_metadata(&path).map_err(|e| Error::io("cannot read", &path, e))?;
            if !meta.is_dir() {
                continue;
            }
            let marker = path.join(ISSUING_MARKER);
            let marked = exists(&marker)?;
            let in_plan = entry.file_name().to_str().is_some_and(|n| named.contains(n));
            if in_plan {
                if marked {
                    fs::remove_file(&marker).map_err(|e| Error::io("cannot remove", &marker, e))?;
                }
                continue;
            }
            let files: Vec<PathBuf> = read_dir(&path)?.iter().map(fs::DirEntry::path).collect();
            if !marked && !files.is_empty() {
                continue;
            }
            let serials: Vec<String> =
                leaf_serials(&files).into_iter().filter(|s| !named_serials.contains(s)).collect();
            let ledger_rows = ledger.forget(&serials)?;
            for file in files.iter().filter(|f| **f != marker) {
                remove_tree(file)?;
            }
            if marked {
                fs::remove_file(&marker).map_err(|e| Error::io("cannot remove", &marker, e))?;
            }
            fs::remove_dir(&path).map_err(|e| Error::io("cannot remove", &path, e))?;
            note(path, LeftoverKind::UncommittedIdentity { ledger_rows });
        }
    }
    for file in temporary_files(dir)? {
        fs::remove_file(&file).map_err(|e| Error::io("cannot remove", &file, e))?;
        note(file, LeftoverKind::TemporaryFile);
    }
    Ok(found)
}

/// Every serial number the plan names: these certificates are the site's, whatever a
/// folder around them says.
pub(crate) fn plan_serials(plan: &SitePlan) -> HashSet<String> {
    let slots = plan
        .authority
        .active
        .iter()
        .chain(plan.authority.standby.iter())
        .chain(plan.authority.retiring.iter())
        .chain(
            plan.servers
                .iter()
                .flat_map(|s| std::iter::once(&s.active).chain(s.standby.iter()).chain(s.retiring.iter())),
        )
        .chain(plan.clients.iter().map(|c| &c.active));
    slots.filter_map(|slot| slot.serial.clone()).collect()
}

/// The serial number of the first certificate of each PEM or DER file among `files` (the
/// identity's own: a chain file holds its issuer after it), as the ledger writes it.
fn leaf_serials(files: &[PathBuf]) -> Vec<String> {
    let mut serials = Vec::new();
    for file in files {
        if !file.extension().is_some_and(|e| e == "pem" || e == "cer") {
            continue;
        }
        let Ok(bytes) = fs::read(file) else { continue };
        let Ok(certs) = crate::input::read_certificates(&file.display().to_string(), &bytes) else { continue };
        let Some(first) = certs.first() else { continue };
        if let Ok(cert) = crate::cert::parse("", first) {
            let serial = crate::cert::serial_to_string(cert.raw_serial());
            if !serials.contains(&serial) {
                serials.push(serial);
            }
        }
    }
    serials
}

/// Temporary files of atomic writes: the plan's in `dir`, and any under `dir/pki/`.
fn temporary_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> = read_dir(dir)?
        .iter()
        .filter(|e| {
            let name = e.file_name();
            crate::atomic::is_temporary(&name) && name.to_str().is_some_and(|n| n.starts_with(&format!(".{PLAN_FILE}")))
        })
        .map(fs::DirEntry::path)
        .collect();
    let pki = dir.join("pki");
    if !exists(&pki)? {
        return Ok(found);
    }
    let mut folders = vec![pki];
    while let Some(folder) = folders.pop() {
        for entry in read_dir(&folder)? {
            let kind = entry.file_type().map_err(|e| Error::io("cannot read", &entry.path(), e))?;
            if kind.is_dir() {
                folders.push(entry.path());
            } else if kind.is_file() && crate::atomic::is_temporary(&entry.file_name()) {
                found.push(entry.path());
            }
        }
    }
    found.sort();
    Ok(found)
}

fn read_dir(dir: &Path) -> Result<Vec<fs::DirEntry>> {
    let entries = fs::read_dir(dir).map_err(|e| Error::io("cannot read", dir, e))?;
    let mut list = entries.collect::<std::io::Result<Vec<_>>>().map_err(|e| Error::io("cannot read", dir, e))?;
    list.sort_by_key(fs::DirEntry::file_name);
    Ok(list)
}

fn exists(path: &Path) -> Result<bool> {
    match fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io("cannot read", path, e)),
    }
}

/// Removes a file or a whole folder (a symbolic link itself, never what it points to).
fn remove_tree(path: &Path) -> Result<()> {
    let meta = fs::symlink_metadata(path).map_err(|e| Error::io("cannot read", path, e))?;
    let result = if meta.is_dir() { fs::remove_dir_all(path) } else { fs::remove_file(path) };
    result.map_err(|e| Error::io("cannot remove", path, e))
}
