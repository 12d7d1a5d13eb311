//! The probe behind live `pinset pin` (and `check`): the chain a server presents, fetched
//! *without trusting it* (`pinset_tls::probe::inspection_config`), so expired,
//! self-signed and misnamed chains can be pinned and diagnosed; deciding trust is the
//! caller's, with a verifier, offline.
//!
//! Each target has its own deadline, counted from the moment its probe starts (not while
//! it waits for a slot), and bounds the whole probe: resolving, connecting, the
//! handshake. [`fetch_chains`] runs many at once, at most `concurrency` at a time, and
//! returns the results in the order of the targets.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use pinset::Target;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::sync::Semaphore;

use crate::connect::{self, Deadline, TlsFacts};
use crate::error::{Error, ErrorKind};

/// Probes in flight at most when the caller has no reason to choose: enough to hide the
/// latency of a fleet of hundreds, few enough sockets for a small box (well under the
/// usual limit of 1,024 open files).
pub const DEFAULT_CONCURRENCY: usize = 64;

/// What a server presented.
#[derive(Clone, Debug)]
pub struct Presented {
    /// The target probed.
    pub target: Target,
    /// The address connected to.
    pub addr: SocketAddr,
    /// The certificates in the order the server sent them (leaf first).
    pub chain: Vec<CertificateDer<'static>>,
    /// What the handshake negotiated.
    pub tls: TlsFacts,
}

/// The server name to send: `sni` when given, else the target's own (an IP address sends
/// no SNI).
fn name_for(target: &Target, sni: Option<&str>) -> Result<ServerName<'static>, Error> {
    let bad = |n: &str| Error::new(target.authority(), ErrorKind::BadServerName(n.to_string()));
    match sni {
        Some(n) => ServerName::try_from(n.to_string()).map_err(|_| bad(n)),
        None => pinset_tls::probe::server_name(&target.host).map_err(|_| bad(&target.host.to_string())),
    }
}

fn config() -> Result<Arc<rustls::ClientConfig>, rustls::Error> {
    let mut config = pinset_tls::probe::inspection_config()?;
    // A resumed session shows no chain of its own: every probe makes a full handshake.
    config.resumption = rustls::client::Resumption::disabled();
    Ok(Arc::new(config))
}

/// Connects to `target` and returns the chain it presents, all within `timeout`. `sni`
/// overrides the name sent in the handshake.
pub async fn fetch_chain(target: &Target, sni: Option<&str>, timeout: Duration) -> Result<Presented, Error> {
    let config = config().map_err(|e| Error::new(target.authority(), ErrorKind::Tls(e)))?;
    fetch_with(config, target, sni, timeout).await
}

async fn fetch_with(
    config: Arc<rustls::ClientConfig>,
    target: &Target,
    sni: Option<&str>,
    timeout: Duration,
) -> Result<Presented, Error> {
    let name = name_for(target, sni)?;
    let deadline = Deadline::after(timeout);
    let (sock, addr) = connect::tcp(target, &deadline).await?;
    let mut tls = connect::handshake(&target.authority(), config, name, sock, &deadline, false).await?;
    let (_, conn) = tls.get_ref();
    let chain =
        conn.peer_certificates().map(|c| c.iter().map(|d| d.clone().into_owned()).collect()).unwrap_or_default();
    let presented = Presented { target: target.clone(), addr, chain, tls: TlsFacts::of(conn) };
    // A polite close, bounded: the chain is in hand whatever the server does now.
    let _ = tokio::time::timeout_at(deadline.at, tokio::io::AsyncWriteExt::shutdown(&mut tls)).await;
    Ok(presented)
}

/// Probes every target, at most `concurrency` at once (at least one), each within
/// `timeout` of its own start; the results are in the order of `targets`.
pub async fn fetch_chains(
    targets: &[Target],
    sni: Option<&str>,
    timeout: Duration,
    concurrency: usize,
) -> Vec<Result<Presented, Error>> {
    let config = match config() {
        Ok(c) => c,
        Err(e) => return targets.iter().map(|t| Err(Error::new(t.authority(), ErrorKind::Tls(e.clone())))).collect(),
    };
    let slots = Arc::new(Semaphore::new(concurrency.max(1)));
    let sni: Option<Arc<str>> = sni.map(Arc::from);
    let mut tasks = Vec::with_capacity(targets.len());
    for target in targets {
        let (slots, config, sni, target) = (slots.clone(), config.clone(), sni.clone(), target.clone());
        tasks.push(tokio::spawn(async move {
            // The semaphore is never closed, so acquiring only waits.
            let _slot = slots.acquire_owned().await;
            fetch_with(config, &target, sni.as_deref(), timeout).await
        }));
    }
    let mut results = Vec::with_capacity(tasks.len());
    for (task, target) in tasks.into_iter().zip(targets) {
        results.push(task.await.unwrap_or_else(|e| {
            Err(Error::new(target.authority(), ErrorKind::Io(std::io::Error::other(format!("the probe failed: {e}")))))
        }));
    }
    results
}
