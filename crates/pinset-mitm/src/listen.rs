//! The harness's accept loops: every connection of every listener in a task of its own,
//! until a stop signal; then no new connection is taken, and those in flight are given a
//! grace period to reach their verdict before the run ends. (Kept small on purpose: a
//! shared listener with graceful shutdown belongs in `pinset-net`.)

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};

/// Pause after a failed accept (out of file descriptors): the loop neither spins nor
/// stops.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Serves every connection of `listeners` with `handler(socket, peer, index of its
/// listener)` until `stop` completes, then waits up to `grace` for the connections in
/// flight.
pub(crate) async fn serve<F, Fut>(
    listeners: Vec<TcpListener>,
    stop: impl Future<Output = ()>,
    grace: Duration,
    handler: F,
) where
    F: Fn(TcpStream, SocketAddr, usize) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // Every connection task holds a clone of `done_tx`; all dropped = all finished.
    let (done_tx, mut done_rx) = tokio::sync::mpsc::channel::<()>(1);
    let mut loops = Vec::new();
    for (index, listener) in listeners.into_iter().enumerate() {
        let (handler, mut stop_rx, done_tx) = (handler.clone(), stop_rx.clone(), done_tx.clone());
        loops.push(tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stop_rx.changed() => return,
                    accepted = listener.accept() => match accepted {
                        Ok((sock, peer)) => {
                            let _ = sock.set_nodelay(true);
                            let (handler, done) = (handler.clone(), done_tx.clone());
                            tokio::spawn(async move {
                                handler(sock, peer, index).await;
                                drop(done);
                            });
                        }
                        Err(_) => tokio::time::sleep(ACCEPT_BACKOFF).await,
                    },
                }
            }
        }));
    }
    drop(done_tx);
    stop.await;
    let _ = stop_tx.send(true);
    for l in loops {
        let _ = l.await;
    }
    let _ = tokio::time::timeout(grace, done_rx.recv()).await;
}

/// Completes on Ctrl-C (SIGINT), on SIGTERM, or after `duration` when one is given: when
/// a harness run ends and prints its summary.
pub async fn until_stopped(duration: Option<Duration>) {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    let elapsed = async {
        match duration {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
        _ = elapsed => {}
    }
}
