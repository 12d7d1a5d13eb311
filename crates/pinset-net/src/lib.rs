//! The one home of tokio and hyper in pinset. Everything that does network I/O
//! concurrently — the HTTP client behind `pinset get`, the probe behind live `pin` and
//! `check`, the listeners of `serve` and `mitm` — runs on the runtime made here, so the
//! number of threads, the signal handling and the shutdown rules are decided once.
//!
//! Synchronous callers (the command-line tool) enter it through [`block_on`].
//!
//! | module | what it holds |
//! |---|---|
//! | [`client`] | the HTTPS client behind `get`: hyper over tokio-rustls, HTTP/2 or HTTP/1.1 by ALPN, one deadline, size limit, redirects only within a scope |
//! | [`probe`] | the chain a server presents, fetched without trusting it, many servers at once |
//! | [`error`] | what ends a fetch or a probe, in the user's words |
//!
//! Every operation has one deadline for the whole of it (resolving, connecting, the
//! handshake, the response), never a timeout per read.

pub mod client;
mod connect;
pub mod error;
pub mod probe;

use std::future::Future;

pub use client::{Client, Exchange, Fetched, HttpVersion, Identity, Limits, Redirects, Request, Scope};
pub use connect::TlsFacts;
pub use error::{Error, ErrorKind, Phase, RedirectRefusal};
pub use hyper::header::{HeaderMap, HeaderName, HeaderValue};
pub use hyper::{Method, StatusCode};

/// Worker threads of the shared runtime: one per core, at least two, so a slow handshake
/// never stalls the accept loop or a probe's deadline timer. On-site boxes have few cores;
/// more threads than cores would only add scheduling.
fn worker_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()).max(2)
}

/// A new multi-threaded tokio runtime with I/O and timers, as every pinset network task
/// uses.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(worker_threads())
        .thread_name("pinset-net")
        .enable_all()
        .build()
}

/// Runs `future` to completion on a new shared-style runtime: the entry point of a
/// synchronous command into async networking.
pub fn block_on<F: Future>(future: F) -> std::io::Result<F::Output> {
    Ok(runtime()?.block_on(future))
}

pub mod server;
