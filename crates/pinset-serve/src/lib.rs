//! pinset's TLS front for an on-site server, and `up`, the one command a newcomer runs.
//!
//! A [`Server`] terminates TLS with the site's active server certificates and hands each
//! request to one [`Backend`]: a plain-HTTP upstream (a reverse proxy with a keep-alive
//! pool, WebSocket and other upgrades passed through, forwarded headers set), a folder of
//! static files, or the status page of `up`. Around that:
//!
//! - [`certs`]: what is served, loaded from the site and verified before use (key matches
//!   certificate, chain valid to the site's anchors, not expired, a pinned key where apps
//!   pin server keys), chosen per connection by SNI, else by the local address the
//!   connection arrived on, else the configured server; swapped atomically on reload;
//! - [`client_auth`]: mutual TLS against the site's CA, its revocation list and the
//!   ledger's revocations, with an allow-list of client names; the verified identity goes
//!   upstream in `X-Client-Cert-*` headers, and incoming headers of those names are
//!   removed first;
//! - [`reload`]: SIGHUP and file changes reload; a bad file keeps the old certificate;
//! - [`log`] and [`metrics`]: one access-log line per request, Prometheus metrics;
//! - [`up`]: the site `up` creates (this host's addresses) and its QR code;
//! - [`status`]: the status page (`/`) and `/.well-known/pinset.json`.
//!
//! All I/O runs on the shared runtime and the generic server pieces of `pinset-net`.

pub mod certs;
pub mod client_auth;
mod error;
mod files;
mod http;
pub mod log;
pub mod metrics;
mod metrics_server;
mod options;
mod proxy;
pub mod reload;
mod server;
pub mod status;
pub mod up;

pub use certs::{Certificates, Served, ServedSummary};
pub use client_auth::{ClientAuth, ClientIdentity};
pub use error::Error;
pub use log::{LogFormat, Logger};
pub use options::{Backend, Limits, ServeOptions, Upstream};
pub use pinset_net::server::signals::{StopSignal, shielded};
pub use pinset_net::server::{Drained, Shutdown};
pub use server::{Server, ServerSummary, Stopped, Summary};
