//! The generic half of a TLS front, shared by every pinset server (`serve`, `up`, and the
//! interception and test servers to come): listening sockets bound the way a server
//! needs them ([`bind`]), an accept loop with a connection limit and a graceful drain
//! ([`run`]), the shutdown and reload signals ([`Shutdown`], [`signals`]) and an I/O
//! wrapper that closes idle connections ([`IdleIo`]). Nothing here knows TLS or HTTP.

mod idle;
mod listener;
mod shutdown;
pub mod signals;

pub use idle::{Activity, IdleIo};
pub use listener::{Accepted, BACKLOG, Drained, Limits, bind, run};
pub use shutdown::Shutdown;
