//! pinset: trustworthy TLS for apps that reach on-site servers by IP address.
//!
//! This crate is the synchronous core: SPKI pins ([`pin`]), reading certificates and keys
//! ([`input`], [`cert`]), issuing them ([`pki`]), and the site on disk ([`plan`], [`site`],
//! [`ledger`]). TLS itself lives in `pinset-tls`.

pub mod atomic;
pub mod cert;
pub mod error;
pub mod export;
pub mod input;
pub mod ledger;
pub mod lint;
pub mod pin;
pub mod pki;
pub mod plan;
pub mod site;

pub use error::{Error, Result};
pub use pin::{CertSha256, Pin, PinFormat};
pub use site::Site;
