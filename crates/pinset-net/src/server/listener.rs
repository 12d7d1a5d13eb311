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
        // Nagle's algorithm off on the listener: on Linux accepted sockets inherit it,
        // which saves the accept loop a system call per connection.
        socket2::SockRef::from(&listener).set_tcp_nodelay(true)?;
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
    let listening = listener.local_addr().ok();
    // A listener on one address: every connection arrives on it, no need to ask per
    // connection (a system call each). On a wildcard address the system says which.
    let fixed_local = listening.filter(|a| !a.ip().is_unspecified());
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
        // Inherited from the listener on Linux (see above); elsewhere set here.
        if !cfg!(target_os = "linux") {
            let _ = stream.set_nodelay(true);
        }
        let local = match fixed_local {
            Some(a) => a,
            None => stream.local_addr().ok().or(listening).unwrap_or(peer),
        };
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;
    use crate::server::{Activity, IdleIo};

    fn limits(max: usize, deadline_ms: u64) -> Limits {
        Limits { max_connections: max, drain_deadline: Duration::from_millis(deadline_ms) }
    }

    #[tokio::test]
    async fn shutdown_lets_a_short_connection_finish_and_closes_a_stuck_one_at_the_deadline() {
        let listener = bind("127.0.0.1:0".parse().expect("addr")).expect("bind");
        let addr = listener.local_addr().expect("addr");
        let shutdown = Shutdown::new();
        let served = Arc::new(AtomicUsize::new(0));
        let counter = served.clone();
        let server = tokio::spawn(run(
            vec![listener],
            limits(10, 300),
            shutdown.clone(),
            move |acc, shutdown| {
                let counter = counter.clone();
                async move {
                    let mut s = acc.stream;
                    let mut b = [0u8; 1];
                    let _ = s.read_exact(&mut b).await;
                    counter.fetch_add(1, Ordering::SeqCst);
                    if b[0] == b'q' {
                        // Finishes soon after shutdown.
                        shutdown.triggered().await;
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        let _ = s.write_all(b"bye").await;
                    } else {
                        // Never finishes on its own.
                        std::future::pending::<()>().await;
                    }
                }
            },
            |_| {},
        ));
        let mut quick = tokio::net::TcpStream::connect(addr).await.expect("connect");
        quick.write_all(b"q").await.expect("write");
        let mut stuck = tokio::net::TcpStream::connect(addr).await.expect("connect");
        stuck.write_all(b"s").await.expect("write");
        while served.load(Ordering::SeqCst) < 2 {
            tokio::task::yield_now().await;
        }
        shutdown.trigger();
        let mut bye = [0u8; 3];
        quick.read_exact(&mut bye).await.expect("the quick one finishes");
        assert_eq!(&bye, b"bye");
        let drained = server.await.expect("join").expect("run");
        assert_eq!(drained, Drained { finished: 1, closed: 1 });
        let mut rest = Vec::new();
        assert_eq!(stuck.read_to_end(&mut rest).await.expect("closed"), 0, "the stuck one was closed");
        assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "still accepting after shutdown");
    }

    #[tokio::test]
    async fn an_idle_connection_is_closed_but_not_while_a_request_is_in_progress() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let client = tokio::spawn(async move {
            let mut c = tokio::net::TcpStream::connect(addr).await.expect("connect");
            let mut rest = Vec::new();
            let _ = c.read_to_end(&mut rest).await;
        });
        let (sock, _) = listener.accept().await.expect("accept");
        let activity = Arc::new(Activity::default());
        activity.start();
        let mut io = IdleIo::new(sock, Duration::from_millis(50), activity.clone());
        let mut b = [0u8; 1];
        // Busy: a read waits past the idle time without failing.
        let busy = tokio::time::timeout(Duration::from_millis(200), io.read(&mut b)).await;
        assert!(busy.is_err(), "a busy connection was closed as idle: {busy:?}");
        activity.end();
        let idle = tokio::time::timeout(Duration::from_secs(5), io.read(&mut b)).await.expect("closed in time");
        assert_eq!(idle.expect_err("idle").kind(), io::ErrorKind::TimedOut);
        drop(io);
        client.await.expect("client");
    }
}
