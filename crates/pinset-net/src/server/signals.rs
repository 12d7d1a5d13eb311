//! The process signals a server obeys: SIGINT (Ctrl-C) and SIGTERM stop it gracefully,
//! SIGHUP asks it to reload its certificates. On platforms without Unix signals only
//! Ctrl-C exists, and reloading is left to file watching.

use std::io;

use super::Shutdown;

/// Which signal stopped the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopSignal {
    /// SIGINT: Ctrl-C in the terminal.
    Interrupt,
    /// SIGTERM: a service manager stopping the server.
    Terminate,
}

impl StopSignal {
    /// The signal's usual name.
    pub fn name(self) -> &'static str {
        match self {
            StopSignal::Interrupt => "SIGINT",
            StopSignal::Terminate => "SIGTERM",
        }
    }
}

/// Waits for SIGINT or SIGTERM, then triggers `shutdown` and returns which one came. The
/// handlers are installed before this returns its future, so a signal that arrives while
/// the server starts is not lost. Must be called inside the runtime.
pub fn stop_on_signals(shutdown: Shutdown) -> io::Result<impl Future<Output = StopSignal> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut int = signal(SignalKind::interrupt())?;
        let mut term = signal(SignalKind::terminate())?;
        Ok(async move {
            let which = tokio::select! {
                _ = int.recv() => StopSignal::Interrupt,
                _ = term.recv() => StopSignal::Terminate,
            };
            shutdown.trigger();
            which
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async move {
            let _ = tokio::signal::ctrl_c().await;
            shutdown.trigger();
            StopSignal::Interrupt
        })
    }
}

/// SIGHUP, the conventional "reload your files" signal.
pub struct ReloadSignal {
    #[cfg(unix)]
    inner: tokio::signal::unix::Signal,
}

impl ReloadSignal {
    /// Installs the handler (inside the runtime). From then on SIGHUP no longer ends the
    /// process.
    pub fn install() -> io::Result<ReloadSignal> {
        #[cfg(unix)]
        {
            Ok(ReloadSignal { inner: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())? })
        }
        #[cfg(not(unix))]
        {
            Ok(ReloadSignal {})
        }
    }

    /// Completes at the next SIGHUP (several sent at once may be seen as one).
    pub async fn recv(&mut self) {
        #[cfg(unix)]
        {
            self.inner.recv().await;
        }
        #[cfg(not(unix))]
        {
            std::future::pending::<()>().await;
        }
    }
}

/// How long [`shielded`] lets the runtime turn to deliver a signal received during the
/// work: a few milliseconds suffice; 20 keeps a start imperceptibly slower.
const SIGNAL_TURN: std::time::Duration = std::time::Duration::from_millis(20);

/// Runs `work` (blocking) with SIGINT and SIGTERM held: a stop signal that arrives while it
/// runs lets it finish — a site being created is never left half-made — and is returned
/// after it, for the caller to stop then. The handlers stay installed for the process's
/// later servers.
pub fn shielded<T>(work: impl FnOnce() -> T) -> io::Result<(T, Option<StopSignal>)> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let stop = {
        let _guard = runtime.enter();
        stop_on_signals(Shutdown::new())?
    };
    let out = work();
    // The runtime has not run while `work` did: a signal received meanwhile waits in the
    // driver, which a short turn of the runtime delivers.
    let which = runtime.block_on(async move { tokio::time::timeout(SIGNAL_TURN, stop).await.ok() });
    Ok((out, which))
}
