//! Crash-safe file writes: a temporary file in the same folder, fsync, rename, fsync of
//! the folder. A crash leaves either the old file or the new one, never half of one.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::error::{Error, Result};

/// File mode of private keys and PKCS#12 files: readable by the owner only.
pub const SECRET_MODE: u32 = 0o600;
/// File mode of certificates, the plan and other public material.
pub const PUBLIC_MODE: u32 = 0o644;

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
    fn a_missing_folder_is_an_error_naming_the_path() {
        let err = write(Path::new("/nonexistent-pinset-dir/x.pem"), b"x", PUBLIC_MODE).expect_err("no dir");
        assert!(err.to_string().contains("/nonexistent-pinset-dir/x.pem"), "{err}");
    }
}
