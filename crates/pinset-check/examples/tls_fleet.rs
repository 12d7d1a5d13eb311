//! A fleet of TLS endpoints in one process, for `bench/check.sh`: one listener per
//! address given, each completing TLS handshakes with the same certificate chain and key,
//! then holding the connection until the client closes it (or 10 s pass). Not pinset: a
//! plain tokio-rustls server, so the probe under test is not its own peer.
//!
//! ```text
//! cargo run --release -p pinset-check --example tls_fleet -- CHAIN.pem KEY.pem ADDRESSES.txt
//! ```
//!
//! `ADDRESSES.txt` holds one `IP:PORT` a line. Prints `ready N` on stdout once every
//! listener is bound, then serves until killed.

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncReadExt as _;
use tokio_rustls::TlsAcceptor;

/// How long a connection is held after its handshake at most: a client reads the chain
/// and closes at once.
const HOLD: Duration = Duration::from_secs(10);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [chain, key, addresses] = args.as_slice() else {
        return Err("usage: tls_fleet CHAIN.pem KEY.pem ADDRESSES.txt".into());
    };
    let config = pinset_tls::server_config(&std::fs::read(chain)?, &std::fs::read(key)?)?;
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let addrs: Vec<SocketAddr> = std::fs::read_to_string(addresses)?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.trim().parse())
        .collect::<Result<_, _>>()?;
    let runtime = pinset_net::runtime()?;
    runtime.block_on(async move {
        let mut listeners = Vec::with_capacity(addrs.len());
        for addr in &addrs {
            let l = tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
            listeners.push(l);
        }
        println!("ready {}", listeners.len());
        std::io::stdout().flush()?;
        for listener in listeners {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                loop {
                    let Ok((sock, _)) = listener.accept().await else { continue };
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        let _ = sock.set_nodelay(true);
                        let Ok(Ok(mut tls)) = tokio::time::timeout(HOLD, acceptor.accept(sock)).await else { return };
                        let mut buf = [0u8; 1024];
                        let _ = tokio::time::timeout(HOLD, async {
                            while matches!(tls.read(&mut buf).await, Ok(n) if n > 0) {}
                        })
                        .await;
                    });
                }
            });
        }
        std::future::pending::<()>().await;
        Ok::<(), Box<dyn std::error::Error>>(())
    })
}
