//! [`Shutdown`]: one signal, triggered once, that every task of a server can wait for.

use std::sync::Arc;

use tokio::sync::watch;

/// A shutdown signal shared by a server's tasks: triggered once (by a signal, a command or
/// a test), seen by every clone.
#[derive(Clone, Debug)]
pub struct Shutdown {
    tx: Arc<watch::Sender<bool>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown::new()
    }
}

impl Shutdown {
    /// A signal not yet triggered.
    pub fn new() -> Shutdown {
        Shutdown { tx: Arc::new(watch::channel(false).0) }
    }

    /// Triggers it; later calls do nothing.
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    /// Whether it has been triggered.
    pub fn is_triggered(&self) -> bool {
        *self.tx.borrow()
    }

    /// Completes once it is triggered (at once if it was already).
    pub async fn triggered(&self) {
        let mut rx = self.tx.subscribe();
        // The sender lives in `self`, so the channel cannot close while this waits.
        let _ = rx.wait_for(|t| *t).await;
    }
}
