//! pinset: trustworthy TLS for apps that reach on-site servers by IP address.
//!
//! This crate is the synchronous core: SPKI pins ([`pin`]), addresses ([`address`]), reading
//! certificates and keys ([`input`], [`cert`]), issuing them ([`pki`]), the site on disk
//! ([`plan`], [`site`], [`ledger`]; one command at a time: [`lock`], [`recovery`], [`change`]),
//! keeping it alive ([`rotation`], [`revocation`], [`status`]) and the one model of what its
//! apps trust ([`trust`]).
//! It knows no command line: errors carry a [`Remedy`] as data. TLS lives in `pinset-tls`.

pub mod address;
pub mod atomic;
pub mod cert;
pub mod change;
pub mod error;
pub mod export;
pub mod input;
pub mod ledger;
pub mod lint;
pub mod lock;
pub mod pin;
pub mod pki;
pub mod plan;
pub mod recovery;
pub mod revocation;
pub mod rotation;
pub mod site;
pub mod status;
pub mod trust;

pub use address::{Host, Target};
pub use error::{Error, Remedy, Result};
pub use pin::{CertSha256, Pin, PinFormat};
pub use site::Site;
pub use trust::{Role, SiteTrust, TrustPin};
