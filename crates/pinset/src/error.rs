//! The library's error type: every failure names the value in question and, where there
//! is one, says what to do next through [`Error::remedy`].
//!
//! A [`Remedy`] is data, not a sentence about flags: the library knows no command line. The
//! `pinset` tool turns each remedy into a `hint:` line in its own words (its flags, its
//! environment variables); another front end words it its own way.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// What the user can do about an error.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Remedy {
    /// Advice that needs no command-line words.
    Advice(String),
    /// Give this address as an IP address (it was given where a DNS name belongs).
    UseIp(IpAddr),
    /// Give this name as a DNS name (it was given where an IP address belongs).
    UseDns(String),
    /// There is no site at the path: create one, or point to the folder that holds it.
    CreateOrFindSite,
    /// A server identity needs at least one address.
    GiveServerAddresses,
    /// A server certificate's validity is longer than Apple accepts: use at most
    /// `max_days` (the default is `default_days`), or allow it explicitly.
    ShortenValidity {
        /// Apple's limit.
        max_days: u32,
        /// pinset's default.
        default_days: u32,
    },
    /// A self-signed site has no CA to pin: pin the server keys.
    PinServerKeys,
    /// Client certificates need a site with a private CA.
    CreateSiteWithCa,
    /// The site needs a name.
    NameTheSite,
    /// A PKCS#12 file needs its password.
    GivePassword,
    /// Another command is changing the site: run again once it has finished, or wait
    /// longer for it.
    WaitForSite,
    /// The site's ledger is missing: restore it from a backup of the site.
    RestoreLedger,
    /// A release was recorded with other pins: record the new build under a new version.
    NewReleaseVersion,
    /// A promotion would cut these supported releases off: ship a release that carries
    /// the standby pin and retire these, or force the promotion knowing they stop connecting.
    ShipStandbyFirst {
        /// The supported releases lacking the standby's pin.
        releases: Vec<String>,
    },
    /// A retiring key is still in exports: retire it before promoting again.
    RetireFirst,
    /// Retiring the old key would cut these supported releases off: retire the releases
    /// first, or force it knowing they stop connecting.
    RetireReleasesFirst {
        /// The supported releases that still need the retiring key.
        releases: Vec<String>,
    },
    /// Client certificates of the retiring CA would stop being accepted: issue them again
    /// under the active CA (or revoke them) first, or force it.
    ReissueClients {
        /// The clients whose certificates the retiring CA issued.
        clients: Vec<String>,
    },
    /// The site has no standby key to promote (a site made before standby keys, or a
    /// self-signed server without one).
    NoStandby,
}

impl From<String> for Remedy {
    fn from(advice: String) -> Remedy {
        Remedy::Advice(advice)
    }
}

impl From<&str> for Remedy {
    fn from(advice: &str) -> Remedy {
        Remedy::Advice(advice.to_string())
    }
}

/// Everything that can go wrong in the pinset library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or folder could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What pinset was doing ("cannot read", "cannot write", …).
        action: &'static str,
        /// The path in question.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// An input file holds nothing pinset can use, or is damaged.
    #[error("{path}: {problem}")]
    BadInput {
        /// The file (or `-` for standard input) in question.
        path: String,
        /// What is wrong with it.
        problem: String,
        /// What to do about it.
        hint: Option<Remedy>,
    },
    /// A PKCS#12 file could not be opened with the password given.
    #[error("{path}: wrong password for this PKCS#12 file ({reason})")]
    WrongPassword {
        /// The PKCS#12 file.
        path: String,
        /// How it showed: the integrity check failed, or (a file without one) the content
        /// does not decrypt.
        reason: &'static str,
    },
    /// A command-line or plan value is not acceptable.
    #[error("{what} {value:?}: {problem}")]
    BadValue {
        /// The kind of value ("IP address", "DNS name", …).
        what: &'static str,
        /// The value as given.
        value: String,
        /// Why it is refused.
        problem: String,
        /// What to do about it.
        hint: Option<Remedy>,
    },
    /// The site plan (`pinset.toml`) is missing, unreadable or inconsistent.
    #[error("site plan {path}: {problem}")]
    Plan {
        /// The plan file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
        /// What to do about it.
        hint: Option<Remedy>,
    },
    /// The certificate ledger (SQLite) failed.
    #[error("certificate ledger {path}: {source}")]
    Ledger {
        /// The ledger file.
        path: PathBuf,
        /// The database error.
        #[source]
        source: rusqlite::Error,
    },
    /// Another command holds the site's lock (it is changing the site) and did not let go
    /// within the wait allowed.
    #[error("site {}: another process is changing it{}", path.display(), waited_text(*waited))]
    Busy {
        /// The site folder.
        path: PathBuf,
        /// How long this command waited.
        waited: std::time::Duration,
    },
    /// Key generation, signing or encoding failed inside the crypto library.
    #[error("{0}")]
    Crypto(String),
}

impl Error {
    /// What the user can do about this error, if pinset knows.
    pub fn remedy(&self) -> Option<&Remedy> {
        static PERMISSIONS: std::sync::LazyLock<Remedy> = std::sync::LazyLock::new(|| {
            Remedy::from("check the folder's owner and permissions, or choose another folder")
        });
        static CHECK_PATH: std::sync::LazyLock<Remedy> = std::sync::LazyLock::new(|| Remedy::from("check the path"));
        match self {
            Error::BadInput { hint, .. } | Error::BadValue { hint, .. } | Error::Plan { hint, .. } => hint.as_ref(),
            Error::WrongPassword { .. } => Some(&Remedy::GivePassword),
            Error::Busy { .. } => Some(&Remedy::WaitForSite),
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::PermissionDenied => Some(&PERMISSIONS),
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => Some(&CHECK_PATH),
            _ => None,
        }
    }

    /// This error with `remedy` as what to do about it (for the kinds that carry one).
    pub fn with_remedy(mut self, remedy: Remedy) -> Error {
        if let Error::BadInput { hint, .. } | Error::BadValue { hint, .. } | Error::Plan { hint, .. } = &mut self {
            *hint = Some(remedy);
        }
        self
    }

    pub(crate) fn io(action: &'static str, path: &Path, source: std::io::Error) -> Error {
        Error::Io { action, path: path.to_path_buf(), source }
    }

    /// A file whose content is wrong: `path` names it, `problem` says what is wrong.
    pub fn bad_input(path: &str, problem: impl Into<String>, hint: Option<&str>) -> Error {
        Error::BadInput { path: path.to_string(), problem: problem.into(), hint: hint.map(Into::into) }
    }

    /// A value given by the user (an address, a name, a date) that cannot be used.
    pub fn bad_value(what: &'static str, value: &str, problem: impl Into<String>, hint: Option<&str>) -> Error {
        Error::BadValue { what, value: value.to_string(), problem: problem.into(), hint: hint.map(Into::into) }
    }

    pub(crate) fn crypto(context: &str, e: impl std::fmt::Display) -> Error {
        Error::Crypto(format!("{context}: {e}"))
    }
}

fn waited_text(waited: std::time::Duration) -> String {
    match waited.as_secs() {
        0 => String::new(),
        1 => " (waited 1 second)".into(),
        n => format!(" (waited {n} seconds)"),
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
