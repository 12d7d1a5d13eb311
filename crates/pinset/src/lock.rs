//! The site lock: one command at a time changes a site.
//!
//! A command that changes a site (creating it, issuing into it) holds an exclusive
//! advisory lock, `flock(2)`, on the site folder itself from before it reads the plan until
//! after it has committed, so two commands never both read the same plan and each write
//! their own. Locking the folder rather than a file in it leaves nothing behind: a folder
//! holding only a lock file would have to be told apart from a site, and a refused `init`
//! would leave one. Commands that only read a site take no lock: every write is atomic and
//! the plan, written last, is the commit point, so a reader sees the old site or the new.
//!
//! The lock belongs to the open folder, not to the process that opened it, and the kernel
//! releases it when that process ends in any way, `kill -9` included; a lock can therefore
//! never be left behind. Whatever an interrupted command left on disk is found, and
//! removed, by the next command that holds the lock (`site`, "Recovery").
//!
//! A command that finds the site locked waits, polling, up to a limit its caller chooses
//! (zero: not at all). A folder removed while a command waited for it (an `init` that
//! created it and then failed removes it) is noticed: the lock is held only on the folder
//! that is still at the path.
//!
//! On network filesystems `flock` may be local to one machine (older NFS clients) or
//! emulated with byte-range locks that need write access; a site is meant to live on a
//! local disk.

use std::fs::File;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rustix::fs::{FlockOperation, flock};

use crate::error::{Error, Result};

/// How long a command waits for another one changing the same site, unless told
/// otherwise: far longer than any `init` or `issue` takes (a 4096-bit RSA key on a slow
/// machine, a few seconds), short enough that a stuck script ends.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(60);

/// First pause between two attempts: a site is usually held for milliseconds.
const FIRST_PAUSE: Duration = Duration::from_millis(2);
/// Longest pause between two attempts, the pauses doubling up to it: a waiting command
/// starts at most this long after the holder ended, and does not spin meanwhile.
const LONGEST_PAUSE: Duration = Duration::from_millis(50);

/// An exclusive lock on a site folder, released when dropped (or when the process ends).
#[derive(Debug)]
pub struct SiteLock {
    _folder: File,
    dir: PathBuf,
}

impl SiteLock {
    /// Locks the folder `dir`, which must exist. When another command holds it, calls
    /// `on_busy` once and waits up to `wait`; still held then, the error is
    /// [`Error::Busy`]. A missing folder is an [`Error::Io`] of kind `NotFound`, also when
    /// the folder was removed while this command waited for it.
    pub fn acquire(dir: &Path, wait: Duration, on_busy: &dyn Fn()) -> Result<SiteLock> {
        let start = Instant::now();
        let mut pause = FIRST_PAUSE;
        let mut told = false;
        loop {
            let folder = File::open(dir).map_err(|e| Error::io("cannot open the site folder", dir, e))?;
            match flock(&folder, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => {
                    if still_at_path(&folder, dir)? {
                        return Ok(SiteLock { _folder: folder, dir: dir.to_path_buf() });
                    }
                    // Removed or replaced while we waited: lock what is there now.
                    continue;
                }
                Err(e) if e == rustix::io::Errno::WOULDBLOCK || e == rustix::io::Errno::INTR => {}
                Err(e) => return Err(Error::io("cannot lock the site folder", dir, e.into())),
            }
            let waited = start.elapsed();
            if waited >= wait {
                return Err(Error::Busy { path: dir.to_path_buf(), waited });
            }
            if !told {
                on_busy();
                told = true;
            }
            std::thread::sleep(pause.min(wait - waited));
            pause = (pause * 2).min(LONGEST_PAUSE);
        }
    }

    /// The locked folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Whether the open folder `folder` is still the one at `dir`.
fn still_at_path(folder: &File, dir: &Path) -> Result<bool> {
    let open = folder.metadata().map_err(|e| Error::io("cannot read", dir, e))?;
    match std::fs::metadata(dir) {
        Ok(now) => Ok(now.dev() == open.dev() && now.ino() == open.ino()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::io("cannot open the site folder", dir, e)),
        Err(e) => Err(Error::io("cannot read", dir, e)),
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[test]
    fn a_second_holder_waits_then_is_refused_and_the_lock_frees_on_drop() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = SiteLock::acquire(dir.path(), Duration::ZERO, &|| {}).expect("a free site");
        let told = Cell::new(0);
        let err = SiteLock::acquire(dir.path(), Duration::ZERO, &|| told.set(told.get() + 1)).expect_err("held");
        assert!(matches!(err, Error::Busy { .. }), "{err}");
        assert_eq!(told.get(), 0, "no wait, no waiting notice");
        let err = SiteLock::acquire(dir.path(), Duration::from_millis(30), &|| told.set(told.get() + 1))
            .expect_err("still held");
        assert!(err.to_string().contains("another process is changing it"), "{err}");
        assert_eq!(told.get(), 1, "the wait is announced once");
        drop(first);
        SiteLock::acquire(dir.path(), Duration::ZERO, &|| {}).expect("free again");
    }

    #[test]
    fn a_missing_folder_is_not_found() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = SiteLock::acquire(&dir.path().join("gone"), Duration::ZERO, &|| {}).expect_err("missing");
        assert!(matches!(&err, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound), "{err}");
    }

    #[test]
    fn a_folder_replaced_while_waiting_is_locked_as_it_is_now() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("site");
        std::fs::create_dir(&dir).expect("mkdir");
        let first = SiteLock::acquire(&dir, Duration::ZERO, &|| {}).expect("free");
        let waiter = std::thread::spawn({
            let dir = dir.clone();
            move || SiteLock::acquire(&dir, Duration::from_secs(30), &|| {})
        });
        // A new folder takes the place of the locked one (a rename over an empty folder, so
        // the path never goes missing), then the holder lets go of the old one.
        let new = root.path().join("new");
        std::fs::create_dir(&new).expect("mkdir");
        std::fs::rename(&new, &dir).expect("replace");
        drop(first);
        let second = waiter.join().expect("thread").expect("the new folder is locked");
        let ino = std::fs::metadata(&dir).expect("meta").ino();
        assert_eq!(second._folder.metadata().expect("meta").ino(), ino);
    }
}
