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
