//! Listening sockets and the accept loop: a connection limit, and a graceful drain that
//! stops accepting at shutdown, lets connections finish within a deadline, then closes
//! the rest.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use super::Shutdown;

/// Pending connections the kernel queues per listener: bursts of new clients (a shop
/// opening, a benchmark) are queued instead of refused while the accept loop catches up.
/// Linux caps it at `net.core.somaxconn`.
pub const BACKLOG: i32 = 4096;

/// Binds a listening socket for a server: address reuse (a restarted server rebinds at
/// once), and for an IPv6 address IPv6 only, so `[::]:8443` and `0.0.0.0:8443` can both
/// be bound and each family is reported with its own addresses.
pub fn bind(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    #[cfg(unix)]
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

/// What the accept loop allows.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Connections open at once; past it the loop stops accepting (new clients wait in the
    /// kernel's queue) until one closes.
    pub max_connections: usize,
    /// How long connections may take to finish after shutdown before they are closed.
    pub drain_deadline: Duration,
}

/// One accepted connection.
#[derive(Debug)]
pub struct Accepted {
    /// The socket, with Nagle's algorithm off (requests and responses are written whole).
    pub stream: TcpStream,
    /// The client's address.
    pub peer: SocketAddr,
    /// The local address the connection arrived on (which of the host's addresses the
    /// client dialled).
    pub local: SocketAddr,
}

/// How the drain ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Drained {
    /// Connections that were open at shutdown and finished within the deadline.
    pub finished: usize,
    /// Connections still open at the deadline, closed.
    pub closed: usize,
}

/// Accepts connections on every listener and runs `handle` for each on its own task,
/// until `shutdown` is triggered; then stops accepting and drains (see [`Limits`]).
/// `handle` receives the shutdown signal too, to finish a connection's in-flight requests
/// and close it. Must be called inside the runtime. An accept error (out of file
/// descriptors) is passed to `on_error` and the loop goes on after a short pause.
pub async fn run<H, F>(
    listeners: Vec<std::net::TcpListener>,
    limits: Limits,
    shutdown: Shutdown,
    handle: H,
    on_error: impl Fn(&io::Error) + Send + Sync + 'static,
) -> io::Result<Drained>
where
    H: Fn(Accepted, Shutdown) -> F + Send + Sync + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let handle = Arc::new(handle);
    let on_error = Arc::new(on_error);
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut loops = JoinSet::new();
    for listener in listeners {
        let listener = TcpListener::from_std(listener)?;
        let (handle, on_error, slots, shutdown) = (handle.clone(), on_error.clone(), slots.clone(), shutdown.clone());
        loops.spawn(accept_loop(listener, limits.drain_deadline, slots, shutdown, handle, on_error));
    }
    let mut total = Drained::default();
    while let Some(r) = loops.join_next().await {
        if let Ok(d) = r {
            total.finished += d.finished;
            total.closed += d.closed;
        }
    }
    Ok(total)
}

async fn accept_loop<H, F>(
    listener: TcpListener,
    drain_deadline: Duration,
    slots: Arc<Semaphore>,
    shutdown: Shutdown,
    handle: Arc<H>,
    on_error: Arc<dyn Fn(&io::Error) + Send + Sync>,
) -> Drained
where
    H: Fn(Accepted, Shutdown) -> F + Send + Sync + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let mut connections = JoinSet::new();
    // Each connection task holds a sender; when all are gone, the drain is over.
    let (alive, mut all_closed) = mpsc::channel::<()>(1);
    let local_fallback = listener.local_addr().ok();
    loop {
        let permit = tokio::select! {
            _ = shutdown.triggered() => break,
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            // Reap finished tasks so a long-running server keeps no record of them.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let accepted = tokio::select! {
            _ = shutdown.triggered() => break,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Per-connection errors (a client that reset before accept) are skipped;
                // running out of descriptors is reported and waited out.
                if !matches!(e.kind(), io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset) {
                    on_error(&e);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let local = stream.local_addr().ok().or(local_fallback).unwrap_or(peer);
        let fut = handle(Accepted { stream, peer, local }, shutdown.clone());
        let alive = alive.clone();
        connections.spawn(async move {
            fut.await;
            drop(permit);
            drop(alive);
        });
    }
    drop(alive);
    while connections.try_join_next().is_some() {}
    let open = connections.len();
    let drained = tokio::time::timeout(drain_deadline, all_closed.recv()).await.is_ok();
    if drained {
        return Drained { finished: open, closed: 0 };
    }
    let mut finished = 0;
    while let Some(r) = connections.try_join_next() {
        if r.is_ok() {
            finished += 1;
        }
    }
    let closed = connections.len();
    connections.shutdown().await;
    Drained { finished, closed }
}
