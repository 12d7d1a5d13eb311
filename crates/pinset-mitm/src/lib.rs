//! The interception harness behind `pinset mitm` and the catalogue of bad TLS endpoints
//! behind `pinset testbed`: for every connection a client makes, a verdict — did it
//! accept an impostor?
//!
//! | module | what it holds |
//! |---|---|
//! | [`attack`] | the attacks played on intercepted connections |
//! | [`verdict`] | the verdict rule's results, the record of a connection, the summary of a run |
//! | [`ca`] | the harness's own CA, kept in a folder across runs, with install notes |
//! | [`forge`] | forged certificates (rcgen) and the server configurations presenting them |
//! | [`mitm`] | the CONNECT proxy and the reverse stand-in |
//! | [`testbed`] | the catalogue of bad endpoints made from a site's CA |
//!
//! Runs on `pinset-net`'s runtime; the listener code here is small on purpose (accept,
//! stop, a grace period).

pub mod attack;
pub mod ca;
pub mod forge;
mod listen;
pub use listen::until_stopped;
pub mod mitm;
mod observe;
mod records;
pub mod testbed;
pub mod verdict;

pub use attack::Attack;
pub use ca::HarnessCa;
pub use mitm::{Mitm, Mode, Options};
pub use testbed::{Endpoint, Testbed};
pub use verdict::{Record, Rejection, Sent, Summary, Verdict, VerdictKind};
