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

/// The runtime of a server: one worker thread per core the process may run on (its CPU
/// affinity, so a server pinned to one core gets one), unlike the shared runtime's minimum
/// of two. A server's work is many small CPU-bound tasks: threads beyond the cores only
/// add context switches and cross-thread wake-ups (with the access log's former wake-up
/// per line, task switches were a fifth of the CPU time of a server pinned to one core in
/// `bench/serve.sh`'s profile). Blocking work goes to `spawn_blocking`, never onto a
/// worker. On a single core the runtime is tokio's current-thread one: the same one
/// worker, without the multi-threaded scheduler's atomics, work-stealing queues and the
/// parked main thread beside it.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores == 1 {
        return tokio::runtime::Builder::new_current_thread().thread_name("pinset-serve").enable_all().build();
    }
    tokio::runtime::Builder::new_multi_thread().worker_threads(cores).thread_name("pinset-serve").enable_all().build()
}
