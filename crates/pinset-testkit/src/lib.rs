//! What pinset's tests and benchmarks share, written once: test PKIs (a genuine CA and
//! leaf, impostors of every kind), the real peers the tests talk to on loopback (`openssl
//! s_server`, `nghttpd`, curl, a rustls server and client), servers that misbehave on
//! purpose (trickling, silent, lying about their length), and the process helpers that
//! turn a failing peer into a readable test failure.
//!
//! A dev-dependency only (`publish = false`): no crate of the workspace uses it outside
//! its tests and benchmarks. It runs on std threads (no async runtime), and everything it
//! starts stops when its handle is dropped, so a failing test leaves no server behind.
//! Network traffic stays on loopback.
//!
//! | module | what it holds |
//! |---|---|
//! | [`pki`] | rcgen-made CAs and server certificates; [`Genuine`] and its impostors (other key, other CA, look-alike root, self-signed, expired, wrong name) |
//! | [`bombs`] | decoding bombs: PKCS#12 files asking for 200 million key-derivation rounds or a gigabyte of scrypt memory |
//! | [`openssl`] | what openssl makes: an impostor of a genuine certificate, a self-signed one, one whose subject holds control characters |
//! | [`site`] | the files of a pinset site, and a site made by the library for benchmarks and examples |
//! | [`s_server`] | `openssl s_server` on a free loopback port (any TLS version, TLS 1.0/1.1 only, mutual TLS) |
//! | [`nghttpd`] | nghttp2's `nghttpd`: a genuine HTTP/2-only server |
//! | [`rustls_server`] | a rustls server with a canned answer (status, headers, body, ALPN, a short body) |
//! | [`misbehave`] | [`TrickleServer`], [`SilentServer`], [`ClosedPort`] |
//! | [`client`] | a rustls client that hands back the handshake's `rustls::Error` |
//! | [`curl`] | curl, bounded and hermetic |
//! | [`net`] | loopback addresses, free ports, and the thread server the others are built on |
//! | [`process`] | running programs (bounded), their output, and the assertions on it |
//! | [`slow_disk`] | [`SlowFsync`]: every flush of a program delayed (an `LD_PRELOAD` library built with gcc) |

pub mod bombs;
pub mod client;
pub mod curl;
pub mod misbehave;
pub mod net;
pub mod nghttpd;
pub mod openssl;
pub mod pki;
pub mod process;
pub mod rustls_server;
pub mod s_server;
pub mod site;
pub mod slow_disk;

pub use misbehave::{ClosedPort, SilentServer, TrickleServer};
pub use net::{V4, V4_OTHER, V6, free_port};
pub use nghttpd::Nghttpd;
pub use pki::{Ca, Genuine, Identity, Spec};
pub use rustls_server::{Response, TlsServer};
pub use s_server::OpensslServer;
pub use slow_disk::SlowFsync;
