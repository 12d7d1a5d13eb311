//! The errors of starting a server. Once it runs, failures are per connection or per
//! request and go to the log, never up to the caller.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Why a server could not start (or a reload was refused).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The site could not be read.
    #[error(transparent)]
    Site(#[from] pinset::Error),
    /// A certificate or key of the site cannot be served.
    #[error("{path}: {problem}")]
    Certificate {
        /// The file in question.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// The site names no server identity to serve, or not the one asked for.
    #[error("{0}")]
    NoServer(String),
    /// A value given to the server is not acceptable.
    #[error("{what} {value:?} {problem}")]
    Value {
        /// What the value is.
        what: &'static str,
        /// The value.
        value: String,
        /// What is wrong.
        problem: String,
    },
    /// A listening address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// Another I/O failure at start (the runtime, the file watcher).
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// rustls refused a configuration.
    #[error("TLS configuration: {0}")]
    Tls(String),
}

impl Error {
    /// What the user can do, when the library error behind this one says.
    pub fn remedy(&self) -> Option<&pinset::Remedy> {
        match self {
            Error::Site(e) => e.remedy(),
            _ => None,
        }
    }

    pub(crate) fn cert(path: impl Into<PathBuf>, problem: impl Into<String>) -> Error {
        Error::Certificate { path: path.into(), problem: problem.into() }
    }
}
