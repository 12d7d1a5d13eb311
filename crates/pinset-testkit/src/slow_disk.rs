//! A slow disk for one program: a small C library, compiled by the system's C compiler and
//! loaded with `LD_PRELOAD`, that sleeps before every `fsync` and `fdatasync` the program
//! makes (pinset's own flushes and SQLite's), then does the real one, and counts each call
//! in a log file so a test can show the delay applied.
//!
//! Why this way: a delay in the flush is what widens the windows between a command's
//! steps (the disk of the reported bug took 50 ms per fsync), and it must apply to the
//! real binary without changing it. Rust cannot write such a library without `unsafe`,
//! which the workspace forbids, so it is C, built at test time (gcc is on every CI
//! machine; `scripts/setup` installs it). A loop device or FUSE filesystem would need
//! root and would slow every write, not only the flushes.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const SOURCE: &str = r#"
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static void slow_down(void) {
    const char *ms = getenv("PINSET_TEST_FSYNC_DELAY_MS");
    long delay = ms ? atol(ms) : 50;
    struct timespec t = { delay / 1000, (delay % 1000) * 1000000L };
    while (nanosleep(&t, &t) == -1 && errno == EINTR) {}
    const char *log = getenv("PINSET_TEST_FSYNC_LOG");
    if (log) {
        int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0) {
            ssize_t ignored = write(fd, "f", 1);
            (void)ignored;
            close(fd);
        }
    }
}

int fsync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    slow_down();
    return real(fd);
}

int fdatasync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    slow_down();
    return real(fd);
}
"#;

/// The compiled library, removed when dropped.
pub struct SlowFsync {
    _dir: tempfile::TempDir,
    library: PathBuf,
}

impl SlowFsync {
    /// Compiles the library with `gcc`. The error says why it could not be (no compiler,
    /// or a failed build), for a test to print when it skips.
    pub fn build() -> Result<SlowFsync, String> {
        let dir = crate::process::tempdir();
        let source = dir.path().join("slow_fsync.c");
        let library = dir.path().join("libslow_fsync.so");
        std::fs::write(&source, SOURCE).map_err(|e| format!("cannot write {}: {e}", source.display()))?;
        let out = Command::new("gcc")
            .args(["-shared", "-fPIC", "-O2", "-o"])
            .arg(&library)
            .arg(&source)
            .arg("-ldl")
            .output()
            .map_err(|e| {
                format!("no C compiler to build the slow-fsync library (gcc: {e}); scripts/setup installs it")
            })?;
        if !out.status.success() {
            return Err(format!(
                "gcc could not build the slow-fsync library:\n{}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(SlowFsync { _dir: dir, library })
    }

    /// Makes `cmd` sleep `delay` before each of its flushes, each counted (one byte) in
    /// `log`.
    pub fn apply(&self, cmd: &mut Command, delay: Duration, log: &Path) {
        cmd.env("LD_PRELOAD", &self.library)
            .env("PINSET_TEST_FSYNC_DELAY_MS", delay.as_millis().to_string())
            .env("PINSET_TEST_FSYNC_LOG", log);
    }
}

/// How many flushes the programs given `log` made (what [`SlowFsync`] counted).
pub fn flushes(log: &Path) -> usize {
    std::fs::metadata(log).map(|m| m.len() as usize).unwrap_or(0)
}
