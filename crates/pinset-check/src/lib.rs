//! The fleet probe behind `pinset check`: for every on-site server, whether it can be
//! reached and why not, what TLS it speaks, the chain it presents, the earliest expiry in
//! that chain *and* in the chain that validates to the site's anchors (the anchor itself
//! included, which validators do not date-check), whether its certificate names the
//! address dialled, what the site's verifier concludes, which of the site's pins matched
//! (active, standby, retiring, none), which supported app releases can still connect, and
//! a monitoring status against day thresholds. Then the same as Prometheus metrics, served
//! over HTTP while a watch re-checks the fleet on an interval.
//!
//! Built on `pinset-net`: the chain is fetched without trusting it (`pinset_net::probe`),
//! many servers at once, and judged offline with the site's `SiteVerifier`, so a refused
//! chain is still seen whole. Everything here is independent of a command line: a front
//! end supplies the targets, the sites and what to do with each round.
//!
//! | module | what it holds |
//! |---|---|
//! | [`inventory`] | the inventory file: one target a line, `address [name] [site]` |
//! | [`chain`] | what each certificate says, and the chain that validates to a site's anchors even when verification fails |
//! | [`report`] | one target's result ([`Report`]), its [`Status`], a whole [`Round`] |
//! | [`check`] | the site a target is judged against ([`SiteContext`], with its [`Release`]s), and [`check::run`], the concurrent probe of many targets |
//! | [`metrics`] | a round as Prometheus metrics (OpenMetrics text) |
//! | [`exporter`] | the `/metrics` HTTP endpoint, and [`exporter::watch`]: re-check on an interval until a stop signal |

pub mod chain;
pub mod check;
pub mod exporter;
pub mod inventory;
pub mod metrics;
pub mod report;

pub use check::{Options, Probe, Release, SiteContext, Thresholds};
pub use report::{PinKind, Report, Round, Status};
