//! A change to many files of a site at once (a renewal, a promotion, a retirement), made
//! so that a crash at any moment leaves the old site or the new one.
//!
//! The files keep their names (a server's `cert.pem` stays where an nginx config points),
//! so a change cannot be one rename. It goes through a journal entry in the ledger and a
//! staging folder, [`CHANGE_FOLDER`]:
//! 1. *prepare*: one ledger transaction records the new certificates, the new statuses of
//!    the ones they replace, and a journal entry naming every file the change writes or
//!    removes, with what undoes the ledger part;
//! 2. every new file, the plan included, is written into the staging folder under its
//!    final path, and the folder flushed as a whole;
//! 3. *commit*: the journal entry moves to phase `apply` (one ledger write);
//! 4. the staged files are moved into place (renames; the plan last), the files the change
//!    drops are removed, the staging folder is removed, and the journal entry last.
//!
//! A command that finds a journal entry (it holds the site's lock, so the command that
//! wrote it no longer runs) undoes a change in phase `prepare` (the staging folder removed,
//! the ledger rows undone) and finishes one in phase `apply` (step 4 again: a staged file
//! already moved is simply not there any more). Readers that do not take the lock may, for
//! the instant of step 4, see new certificate files with the old plan; they refuse that
//! (the pins disagree) and read again, as `serve`'s reload does.

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::atomic::{self, Durability};
use crate::error::{Error, Result};
use crate::ledger::{CertKind, ChangeRecord, Ledger, Record};
use crate::plan::{PLAN_FILE, SitePlan};
use crate::site::Site;

/// The staging folder of a change in progress, relative to the site folder.
pub const CHANGE_FOLDER: &str = "pki/.pinset-change";

/// A file a change writes: its final path (relative to the site folder), bytes and mode.
pub(crate) struct NewFile {
    pub rel: String,
    pub bytes: Zeroizing<Vec<u8>>,
    pub mode: u32,
}

/// Everything one change does.
pub(crate) struct Plan {
    /// What it is, for the journal (`renew`, `promote`, `retire`).
    pub operation: &'static str,
    /// The files it writes (each replaces the file of that name, if any).
    pub files: Vec<NewFile>,
    /// Files it removes (after the new ones are in place).
    pub removes: Vec<String>,
    /// Certificates it issued.
    pub rows: Vec<Record>,
    /// New kind and status of existing certificates, by serial.
    pub status: Vec<(String, CertKind, &'static str)>,
    /// The plan after it.
    pub plan: SitePlan,
}

/// Points at which a change can be told to stop as if killed (for the fault tests of the
/// library; the command-line tests kill real processes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) enum StopAt {
    /// The journal and the ledger rows written, nothing staged.
    Prepared,
    /// Everything staged, not committed.
    Staged,
    /// Committed, nothing moved.
    Committed,
    /// Committed, one file moved into place.
    FirstMoved,
}

impl Site {
    /// Makes `change` as the module says. The site must hold its lock.
    pub(crate) fn apply_change(&mut self, change: Plan) -> Result<()> {
        self.apply_change_until(change, None)
    }

    pub(crate) fn apply_change_until(&mut self, change: Plan, stop: Option<StopAt>) -> Result<()> {
        let mut ledger = self.ledger()?;
        let mut record = ChangeRecord {
            moves: change.files.iter().map(|f| f.rel.clone()).chain(std::iter::once(PLAN_FILE.to_string())).collect(),
            removes: change.removes.clone(),
            ..ChangeRecord::default()
        };
        let id = ledger.begin_change(change.operation, &mut record, &change.rows, &change.status)?;
        if stop == Some(StopAt::Prepared) {
            return Ok(());
        }
        let staging = self.path(CHANGE_FOLDER);
        let staged = (|| {
            if staging.exists() {
                remove_tree(&staging)?;
            }
            atomic::create_dir_all(&staging)?;
            for f in &change.files {
                let to = staging.join(&f.rel);
                if let Some(parent) = to.parent() {
                    atomic::create_dir_all(parent)?;
                }
                atomic::write_with(&to, &f.bytes, f.mode, Durability::Staged)?;
            }
            let plan_text = change.plan.to_toml()?;
            atomic::write_staged(&staging.join(PLAN_FILE), plan_text.as_bytes(), atomic::PUBLIC_MODE)?;
            atomic::sync_tree(&staging)
        })();
        if let Err(e) = staged {
            let _ = remove_tree(&staging);
            let _ = ledger.undo_change(id);
            return Err(e);
        }
        if stop == Some(StopAt::Staged) {
            return Ok(());
        }
        if let Err(e) = ledger.commit_change(id) {
            let _ = remove_tree(&staging);
            let _ = ledger.undo_change(id);
            return Err(e);
        }
        if stop == Some(StopAt::Committed) {
            return Ok(());
        }
        if stop == Some(StopAt::FirstMoved) {
            move_one(self.dir(), &record.moves[0])?;
            return Ok(());
        }
        finish(self.dir(), &record)?;
        ledger.end_change(id)?;
        self.plan = change.plan;
        Ok(())
    }
}

/// Step 4: moves what is still staged into place (the plan last), removes what the change
/// drops, then the staging folder. Safe to run again after an interruption.
pub(crate) fn finish(dir: &Path, record: &ChangeRecord) -> Result<()> {
    let mut folders: Vec<PathBuf> = Vec::new();
    for rel in &record.moves {
        if let Some(folder) = move_one(dir, rel)?
            && !folders.contains(&folder)
        {
            folders.push(folder);
        }
    }
    for rel in &record.removes {
        let path = dir.join(rel);
        match std::fs::remove_file(&path) {
            Ok(()) => {
                if let Some(parent) = path.parent()
                    && !folders.iter().any(|f| f == parent)
                {
                    folders.push(parent.to_path_buf());
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("cannot remove", &path, e)),
        }
    }
    for folder in &folders {
        atomic::sync_dir(folder).map_err(|e| Error::io("cannot sync", folder, e))?;
    }
    let staging = dir.join(CHANGE_FOLDER);
    if staging.exists() {
        remove_tree(&staging)?;
    }
    Ok(())
}

/// Moves one staged file into place, flushing its folder when it is the plan (the last
/// move). Returns the folder it moved into, `None` when it was moved already.
fn move_one(dir: &Path, rel: &str) -> Result<Option<PathBuf>> {
    let from = dir.join(CHANGE_FOLDER).join(rel);
    let to = dir.join(rel);
    if !from.exists() {
        return Ok(None);
    }
    let parent = to.parent().unwrap_or(dir).to_path_buf();
    atomic::create_dir_all(&parent)?;
    std::fs::rename(&from, &to).map_err(|e| Error::io("cannot move into place", &to, e))?;
    if rel == PLAN_FILE {
        // The plan is moved last: everything it names is in place, flushed before it.
        atomic::sync_dir(&parent).map_err(|e| Error::io("cannot sync", &parent, e))?;
    }
    Ok(Some(parent))
}

/// What recovery does with the changes an interrupted command left: finishes the committed
/// ones, undoes the others. Returns, for each, whether it was finished (true) or undone.
pub(crate) fn recover(dir: &Path, ledger: &mut Ledger) -> Result<Vec<(String, bool)>> {
    let mut done = Vec::new();
    for change in ledger.changes()? {
        if change.applying {
            finish(dir, &change.record)?;
            ledger.end_change(change.id)?;
        } else {
            let staging = dir.join(CHANGE_FOLDER);
            if staging.exists() {
                remove_tree(&staging)?;
            }
            ledger.undo_change(change.id)?;
        }
        done.push((change.operation.clone(), change.applying));
    }
    // A staging folder without a journal entry was left by a change that was undone or
    // finished up to removing it.
    let staging = dir.join(CHANGE_FOLDER);
    if staging.exists() {
        remove_tree(&staging)?;
    }
    Ok(done)
}

fn remove_tree(path: &Path) -> Result<()> {
    std::fs::remove_dir_all(path).map_err(|e| Error::io("cannot remove", path, e))
}
