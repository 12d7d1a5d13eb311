//! Reloading: on SIGHUP, and when a file of the site changes (the plan, or anything under
//! `pki/`: deploy tools replace certificates by rename, so the folders are watched, not
//! the files), the certificates are loaded and verified again, then swapped in for new
//! handshakes. A load that fails keeps the old certificates serving and logs why.
//! Changes are gathered for a moment first, so a deploy writing three files reloads once.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use pinset_net::server::Shutdown;
use pinset_net::server::signals::ReloadSignal;

use crate::certs::{Certificates, LoadOptions, Loaded};
use crate::log::Logger;
use crate::metrics::{Metrics, ReloadLabels};

/// How long the folder must be quiet before a change reloads: a deploy replaces the key
/// and the certificate one after the other, and loading between the two would refuse a
/// mismatched pair (harmlessly, but noisily).
const SETTLE: Duration = Duration::from_millis(250);

/// What a reload needs.
pub(crate) struct Reloader {
    pub certs: Arc<Certificates>,
    pub dir: PathBuf,
    pub opts: LoadOptions,
    pub logger: Logger,
    pub metrics: Metrics,
}

impl Reloader {
    /// Reloads on SIGHUP and (with `watch`) on file changes until shutdown.
    pub(crate) async fn run(self, watch: bool, shutdown: Shutdown) {
        let mut hup = match ReloadSignal::install() {
            Ok(h) => Some(h),
            Err(e) => {
                self.logger.warn(&format!("SIGHUP will not reload: {e}"));
                None
            }
        };
        let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(1);
        let _watcher = if watch {
            match watch_site(&self.dir, tx) {
                Ok(w) => Some(w),
                Err(e) => {
                    self.logger.warn(&format!("file changes will not reload (reload with SIGHUP): {e}"));
                    None
                }
            }
        } else {
            None
        };
        loop {
            let why = tokio::select! {
                _ = shutdown.triggered() => return,
                _ = async { match hup.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => "SIGHUP",
                Some(()) = rx.recv() => {
                    while let Ok(Some(())) = tokio::time::timeout(SETTLE, rx.recv()).await {}
                    "files changed"
                }
            };
            self.reload(why).await;
        }
    }

    async fn reload(&self, why: &str) {
        let certs = self.certs.clone();
        let dir = self.dir.clone();
        let opts = self.opts.clone();
        let result = tokio::task::spawn_blocking(move || certs.reload(&dir, &opts)).await;
        match result {
            Ok(Ok(loaded)) => {
                self.metrics.reloads.get_or_create(&ReloadLabels { result: "ok" }).inc();
                self.logger.info(&format!("reloaded ({why}): {}", describe(&loaded)));
            }
            Ok(Err(e)) => {
                self.metrics.reloads.get_or_create(&ReloadLabels { result: "refused" }).inc();
                self.logger
                    .warn(&format!("reload refused ({why}): {e}; still serving {}", describe(&self.certs.current())));
            }
            Err(e) => self.logger.error(&format!("reload failed ({why}): {e}")),
        }
    }
}

/// One line on what is served.
pub(crate) fn describe(loaded: &Loaded) -> String {
    let servers: Vec<String> = loaded
        .servers
        .iter()
        .map(|s| {
            format!(
                "server {:?} certificate {} (pin {}, valid until {})",
                s.name,
                s.certificate.serial,
                s.certificate.pin,
                s.certificate.not_after.date()
            )
        })
        .collect();
    let mut line = servers.join("; ");
    if loaded.revoked_listed > 0 {
        let n = loaded.revoked_listed;
        line.push_str(&format!("; revocation list names {n} certificate{}", if n == 1 { "" } else { "s" }));
    }
    line
}

/// Watches the site folder (the plan) and `pki/` (everything in it) for changes.
fn watch_site(dir: &Path, tx: tokio::sync::mpsc::Sender<()>) -> notify::Result<notify::RecommendedWatcher> {
    use notify::{EventKind, RecursiveMode, Watcher as _};
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        let Ok(event) = res else { return };
        if matches!(event.kind, EventKind::Access(_)) {
            return;
        }
        let relevant = event.paths.iter().any(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            // Temporary files of atomic writes and SQLite's journal come and go around the
            // real change, which is also seen.
            !(name.contains(".tmp-") || name.ends_with("-journal") || name.ends_with("-wal") || name.ends_with("-shm"))
        });
        if relevant {
            let _ = tx.try_send(());
        }
    })?;
    watcher.watch(dir, RecursiveMode::NonRecursive)?;
    watcher.watch(&dir.join("pki"), RecursiveMode::Recursive)?;
    Ok(watcher)
}
