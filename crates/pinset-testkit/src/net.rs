//! Loopback networking for the test servers: the addresses tests listen on, free ports, and
//! [`Loopback`], the std-thread TCP server every in-process test server of the kit is built
//! on (one thread accepting, one per connection, all of them stopped and joined on drop).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// 127.0.0.1.
pub const V4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// 127.0.0.2: Linux answers on all of 127/8, so a second IPv4 address that a certificate
/// for 127.0.0.1 does not name.
pub const V4_OTHER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
/// ::1.
pub const V6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);

/// Bound on every socket read and write of the kit's servers and clients, and on waiting
/// for a server to start: long enough for a loaded 2-core CI machine, short enough that a
/// hung peer fails the test instead of stalling the run.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// A port nobody listens on right now on `ip`: bind port 0, read it, let it go. Another
/// process may take it before the caller binds it; servers started on it retry then.
pub fn free_port(ip: IpAddr) -> u16 {
    let listener = TcpListener::bind(SocketAddr::new(ip, 0))
        .unwrap_or_else(|e| panic!("cannot listen on {ip} (is loopback {ip} configured?): {e}"));
    listener.local_addr().expect("local address").port()
}

/// `https://HOST:PORT/`, IPv6 in brackets.
pub fn https_url(addr: SocketAddr) -> String {
    format!("https://{addr}/")
}

/// The stop signal of a [`Loopback`] server, seen by its connection handlers: a handler
/// that waits or loops checks it, and wakes at once when the server is dropped.
#[derive(Clone, Default)]
pub struct Stop(Arc<(Mutex<bool>, Condvar)>);

impl Stop {
    /// Signals every waiter.
    fn stop(&self) {
        let (flag, cvar) = &*self.0;
        *flag.lock().unwrap_or_else(PoisonError::into_inner) = true;
        cvar.notify_all();
    }

    /// True once the server is being dropped.
    pub fn is_stopped(&self) -> bool {
        *self.0.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits `d`, or less if the server stops first; true if the server still runs.
    pub fn sleep(&self, d: Duration) -> bool {
        let (flag, cvar) = &*self.0;
        let guard = flag.lock().unwrap_or_else(PoisonError::into_inner);
        let (guard, _) = cvar.wait_timeout_while(guard, d, |stopped| !*stopped).unwrap_or_else(PoisonError::into_inner);
        !*guard
    }

    /// Waits until the server stops.
    pub fn wait(&self) {
        let (flag, cvar) = &*self.0;
        let guard = flag.lock().unwrap_or_else(PoisonError::into_inner);
        let _stopped = cvar.wait_while(guard, |stopped| !*stopped).unwrap_or_else(PoisonError::into_inner);
    }
}

/// What the accepting thread and the handle share.
#[derive(Default)]
struct Shared {
    stop: Stop,
    /// A clone of every accepted socket, shut down on drop so blocked handlers return.
    sockets: Mutex<Vec<TcpStream>>,
    handlers: Mutex<Vec<JoinHandle<()>>>,
    accepted: AtomicUsize,
}

/// A TCP server on loopback running `handler` in a thread of its own for every connection
/// it accepts. Dropping it stops it: the stop signal is raised, every accepted socket is
/// shut down (the peer sees the connection close), and all its threads are joined.
///
/// Build a misbehaving server of your own on it when the kit has none that fits:
///
/// ```no_run
/// use std::io::Write;
/// use pinset_testkit::net::{Loopback, V4};
///
/// // Answers every connection with one line, then holds it open until dropped.
/// let server = Loopback::start(V4, |mut sock, stop| {
///     let _ = sock.write_all(b"hello\n");
///     stop.wait();
/// });
/// println!("listening on {}", server.addr());
/// ```
pub struct Loopback {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl Loopback {
    /// Listens on `ip`, port 0 (the kernel picks a free one), and serves every connection
    /// with `handler(socket, stop)`. Handlers should end when the socket fails or `stop`
    /// says so; the kit's sockets carry [`IO_TIMEOUT`] as read and write timeouts.
    pub fn start<F>(ip: IpAddr, handler: F) -> Loopback
    where
        F: Fn(TcpStream, &Stop) + Send + Sync + 'static,
    {
        let listener = TcpListener::bind(SocketAddr::new(ip, 0))
            .unwrap_or_else(|e| panic!("cannot listen on {ip} (is loopback {ip} configured?): {e}"));
        let addr = listener.local_addr().expect("local address");
        let shared = Arc::new(Shared::default());
        let handler = Arc::new(handler);
        let acceptor = {
            let shared = shared.clone();
            thread::spawn(move || accept_loop(&listener, &shared, &handler))
        };
        Loopback { addr, shared, acceptor: Some(acceptor) }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many connections it has accepted so far.
    pub fn accepted(&self) -> usize {
        self.shared.accepted.load(Ordering::SeqCst)
    }
}

fn accept_loop<F>(listener: &TcpListener, shared: &Arc<Shared>, handler: &Arc<F>)
where
    F: Fn(TcpStream, &Stop) + Send + Sync + 'static,
{
    for sock in listener.incoming() {
        if shared.stop.is_stopped() {
            return;
        }
        let Ok(sock) = sock else { continue };
        shared.accepted.fetch_add(1, Ordering::SeqCst);
        if prepare(&sock).is_err() {
            continue;
        }
        if let Ok(clone) = sock.try_clone() {
            shared.sockets.lock().unwrap_or_else(PoisonError::into_inner).push(clone);
        }
        let (handler, stop) = (handler.clone(), shared.stop.clone());
        let thread = thread::spawn(move || handler(sock, &stop));
        shared.handlers.lock().unwrap_or_else(PoisonError::into_inner).push(thread);
    }
}

fn prepare(sock: &TcpStream) -> io::Result<()> {
    sock.set_nodelay(true)?;
    sock.set_read_timeout(Some(IO_TIMEOUT))?;
    sock.set_write_timeout(Some(IO_TIMEOUT))
}

impl Drop for Loopback {
    fn drop(&mut self) {
        self.shared.stop.stop();
        for sock in self.shared.sockets.lock().unwrap_or_else(PoisonError::into_inner).drain(..) {
            let _ = sock.shutdown(Shutdown::Both);
        }
        // The acceptor blocks in accept(): one more connection wakes it to see the stop.
        let _ = TcpStream::connect_timeout(&self.addr, IO_TIMEOUT);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        // Sockets accepted after the shutdown above (the wake-up one among them).
        for sock in self.shared.sockets.lock().unwrap_or_else(PoisonError::into_inner).drain(..) {
            let _ = sock.shutdown(Shutdown::Both);
        }
        let handlers: Vec<_> = self.shared.handlers.lock().unwrap_or_else(PoisonError::into_inner).drain(..).collect();
        for handler in handlers {
            let _ = handler.join();
        }
    }
}
