//! Crash-safe file writes, in two ways.
//!
//! * [`write`], for one file that may replace another: a temporary file in the same folder,
//!   fsync, rename, fsync of the folder. A crash leaves either the old file or the new one,
//!   never half of one.
//! * A staging folder, for a new tree of files that appears all at once (a new site's
//!   `pki/`): [`write_staged`] writes each file without flushing it, [`sync_tree`] then
//!   flushes every file and folder of the tree together, and only then is the tree renamed
//!   into place and its new parent flushed with [`sync_dir`].
//!
//! The staging way is as durable as [`write`]. fsync of a file makes its bytes and inode
//! durable, fsync of a folder makes its entries durable; [`sync_tree`] returns only once
//! every one of those flushes has succeeded, so the whole tree is on disk before the rename
//! that makes it visible under its real name. A crash before that rename is durable leaves
//! only the staging folder, which nothing reads as the real thing; after it, the tree is
//! complete. The caller's commit point (for a site, the plan) comes after the rename, in a
//! later flush.
//!
//! It is also much cheaper: each fsync commits the filesystem's journal and waits for the
//! disk, one commit after the other when the flushes come one by one. [`sync_tree`] issues
//! them concurrently, so the filesystem gathers them into one commit (journal group commit
//! on ext4 and XFS). Figures: `docs/architecture.md`, "Decisions".

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Error, Result};

/// File mode of private keys and PKCS#12 files: readable by the owner only.
pub const SECRET_MODE: u32 = 0o600;
/// File mode of certificates, the plan and other public material.
pub const PUBLIC_MODE: u32 = 0o644;

/// Threads of [`sync_tree`] and [`sync_all`], the calling one included (a new site has 17
/// paths to flush): on ext4, `init` took the same time with 4, 8 or 16 (the journal commits
/// whatever is waiting at once), and each thread costs ~0.1 ms where flushing is free (tmpfs).
const SYNC_THREADS: usize = 8;

/// When a write reaches the disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// Before the write returns: [`write`].
    Now,
    /// With its staging folder, which [`sync_tree`] flushes as a whole before the folder is
    /// moved into place: [`write_staged`].
    Staged,
}

/// Writes `bytes` to `path` with the given mode and durability: [`write`] or
/// [`write_staged`].
pub fn write_with(path: &Path, bytes: &[u8], mode: u32, durability: Durability) -> Result<()> {
    match durability {
        Durability::Now => write(path, bytes, mode),
        Durability::Staged => write_staged(path, bytes, mode),
    }
}

/// Writes `bytes` to the new file `path` (never an existing one) with the given mode and
/// no flush: only for a file inside a staging folder that [`sync_tree`] flushes before the
/// folder is moved into place. As with [`write`], the mode is set before any byte is
/// written.
pub fn write_staged(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|e| Error::io("cannot write", path, e))?;
    let result = (|| {
        // The umask may have narrowed the mode: set it exactly.
        file.set_permissions(fs::Permissions::from_mode(mode))?;
        file.write_all(bytes)
    })();
    if let Err(e) = result {
        drop(file);
        let _ = fs::remove_file(path);
        return Err(Error::io("cannot write", path, e));
    }
    Ok(())
}

/// Flushes `root`, and every file and folder under it, to disk, all at once (see the
/// module documentation). Symbolic links are neither followed nor flushed.
pub fn sync_tree(root: &Path) -> Result<()> {
    sync_all(&tree_paths(root)?)
}

/// `root` and every file and folder under it (symbolic links left out): what
/// [`sync_tree`] flushes, for a caller that flushes more paths in the same batch.
pub fn tree_paths(root: &Path) -> Result<Vec<PathBuf>> {
    let mut paths = vec![root.to_path_buf()];
    let mut i = 0;
    while i < paths.len() {
        let dir = paths[i].clone();
        i += 1;
        let meta = fs::symlink_metadata(&dir).map_err(|e| Error::io("cannot sync", &dir, e))?;
        if !meta.is_dir() {
            continue;
        }
        for entry in fs::read_dir(&dir).map_err(|e| Error::io("cannot sync", &dir, e))? {
            let entry = entry.map_err(|e| Error::io("cannot sync", &dir, e))?;
            let kind = entry.file_type().map_err(|e| Error::io("cannot sync", &entry.path(), e))?;
            if kind.is_dir() || kind.is_file() {
                paths.push(entry.path());
            }
        }
    }
    Ok(paths)
}

/// Flushes every file or folder of `paths` to disk, concurrently, and returns once all
/// are flushed; the first failure is the error. fsync applies to the file itself, not to
/// the descriptor that wrote it, so each path is opened anew (read-only) to be flushed.
pub fn sync_all(paths: &[PathBuf]) -> Result<()> {
    let next = AtomicUsize::new(0);
    let failure: Mutex<Option<Error>> = Mutex::new(None);
    let work = || {
        loop {
            let n = next.fetch_add(1, Ordering::Relaxed);
            let Some(path) = paths.get(n) else { break };
            if let Err(e) = File::open(path).and_then(|f| f.sync_all()) {
                let mut slot = failure.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                slot.get_or_insert(Error::io("cannot sync", path, e));
            }
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..paths.len().min(SYNC_THREADS) {
            // A thread that cannot start leaves its share to the others.
            if std::thread::Builder::new().spawn_scoped(scope, work).is_err() {
                break;
            }
        }
        work();
    });
    match failure.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Writes `bytes` to `path` atomically with the given mode. The mode is set on the
/// temporary file before any byte is written, so a key is never readable by others, not
/// even for an instant.
pub fn write(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut attempt = 0u32;
    let (tmp, mut file) = loop {
        let tmp = dir.join(format!(".{name}.tmp-{}-{attempt}", std::process::id()));
        match OpenOptions::new().write(true).create_new(true).mode(mode).open(&tmp) {
            Ok(f) => break (tmp, f),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => attempt += 1,
            Err(e) => return Err(Error::io("cannot write", path, e)),
        }
    };
    let result = (|| {
        // The umask may have narrowed the mode: set it exactly.
        file.set_permissions(fs::Permissions::from_mode(mode))?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)?;
        sync_dir(dir)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io("cannot write", path, e));
    }
    Ok(())
}

/// Whether `name` is a temporary file of [`write`] (`.NAME.tmp-PID-N`): left behind only by
/// a process that ended in the middle of a write, as a finished or failed write removes or
/// renames its own.
pub fn is_temporary(name: &std::ffi::OsStr) -> bool {
    let Some(name) = name.to_str() else { return false };
    let Some((stem, tail)) = name.rsplit_once(".tmp-") else { return false };
    let Some((pid, attempt)) = tail.split_once('-') else { return false };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    stem.len() > 1 && stem.starts_with('.') && digits(pid) && digits(attempt)
}

/// Creates `dir` and its parents. Folders stay 0755 so a server running as another
/// user can read certificates; what must stay private is each key file (0600).
pub fn create_dir_all(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| Error::io("cannot create folder", dir, e))
}

/// Flushes a folder's entries (a rename is durable only once its folder is).
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_files_are_0600_and_leave_no_temporary_behind() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("k.key");
        write(&path, b"secret", SECRET_MODE).expect("write");
        write(&path, b"secret 2", SECRET_MODE).expect("overwrite");
        let mode = fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(fs::read(&path).expect("read"), b"secret 2");
        let names: Vec<_> = fs::read_dir(dir.path()).expect("ls").map(|e| e.expect("entry").file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("k.key")]);
    }

    #[test]
    fn staged_files_keep_their_mode_and_never_replace_a_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = dir.path().join("k.key");
        write_with(&key, b"secret", SECRET_MODE, Durability::Staged).expect("write");
        assert_eq!(fs::metadata(&key).expect("meta").permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::read(&key).expect("read"), b"secret");
        let err = write_staged(&key, b"other", SECRET_MODE).expect_err("exists");
        assert!(err.to_string().contains("k.key"), "{err}");
        assert_eq!(fs::read(&key).expect("read"), b"secret", "the first file is left alone");
    }

    #[test]
    fn sync_tree_flushes_a_nested_tree_and_names_what_it_cannot_open() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("stage");
        fs::create_dir_all(root.join("a/b")).expect("mkdir");
        for (i, rel) in ["x", "a/y", "a/b/z", "a/b/w"].iter().enumerate() {
            write_staged(&root.join(rel), format!("{i}").as_bytes(), PUBLIC_MODE).expect("write");
        }
        std::os::unix::fs::symlink("/nonexistent-pinset-target", root.join("a/link")).expect("symlink");
        sync_tree(&root).expect("a tree with a dangling symbolic link flushes");

        let paths: Vec<PathBuf> =
            ["x", "a/gone", "a/b/z"].iter().map(|rel| root.join(rel)).chain([dir.path().to_path_buf()]).collect();
        let err = sync_all(&paths).expect_err("a missing path");
        assert!(err.to_string().contains("a/gone"), "{err}");
        sync_tree(&dir.path().join("missing")).expect_err("a missing root");
    }

    #[test]
    fn temporary_files_are_told_apart_by_name() {
        use std::ffi::OsStr;
        for yes in [".key.pem.tmp-123-0", ".pinset.toml.tmp-9-12"] {
            assert!(is_temporary(OsStr::new(yes)), "{yes}");
        }
        for no in ["key.pem", "key.pem.tmp-1-0", ".tmp-1-0", ".a.tmp-x-0", ".a.tmp-1-", ".a.tmp-1", ".a.tmp-1-2b"] {
            assert!(!is_temporary(OsStr::new(no)), "{no}");
        }
    }

    #[test]
    fn a_missing_folder_is_an_error_naming_the_path() {
        let err = write(Path::new("/nonexistent-pinset-dir/x.pem"), b"x", PUBLIC_MODE).expect_err("no dir");
        assert!(err.to_string().contains("/nonexistent-pinset-dir/x.pem"), "{err}");
    }
}
