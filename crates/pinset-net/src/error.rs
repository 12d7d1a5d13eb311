//! What can end a network operation of pinset-net — a fetch or a probe — as one typed
//! error: the server it concerns ([`Error::target`]) and what happened ([`ErrorKind`]).
//!
//! The words are the user's: "timed out after 3 s waiting for the response", "the server
//! speaks only TLS 1.0 or 1.1; pinset needs TLS 1.2 or later", never an operating-system
//! error number alone. A front end adds its own hint (its flags) from the kind.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use pinset_tls::VerifyError;
use rustls::AlertDescription;

/// A network operation that failed, and on which server.
#[derive(Debug)]
pub struct Error {
    /// The server, as `host:port` (IPv6 in brackets), or the URL for a redirect.
    pub target: String,
    /// What happened.
    pub kind: ErrorKind,
}

impl Error {
    pub(crate) fn new(target: impl Into<String>, kind: ErrorKind) -> Error {
        Error { target: target.into(), kind }
    }

    /// The server it concerns.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The certificate refusal, when the server's chain was refused.
    pub fn refusal(&self) -> Option<&VerifyError> {
        match &self.kind {
            ErrorKind::Refused(report) => Some(report),
            _ => None,
        }
    }
}

impl Error {
    /// What happened, in words, without the server's name in front: the kind, and for a
    /// connection to a name the address it resolved to.
    pub fn problem(&self) -> String {
        match &self.kind {
            ErrorKind::Connect { addr, .. } if addr.to_string() != self.target => format!("{} ({addr})", self.kind),
            kind => kind.to_string(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.target, self.problem())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Resolve(e) | ErrorKind::Io(e) => Some(e),
            ErrorKind::Connect { source, .. } => Some(source),
            ErrorKind::Tls(e) => Some(e),
            _ => None,
        }
    }
}

/// Where an operation was when its deadline passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Phase {
    /// Looking up the host name.
    Resolve,
    /// Opening the TCP connection.
    Connect,
    /// The TLS handshake.
    Handshake,
    /// Sending the request and waiting for the response head.
    Response,
    /// Reading the response body.
    Body,
}

impl Phase {
    /// The phase as words that follow "timed out after N s".
    pub fn words(self) -> &'static str {
        match self {
            Phase::Resolve => "resolving the host name",
            Phase::Connect => "connecting",
            Phase::Handshake => "in the TLS handshake",
            Phase::Response => "waiting for the response",
            Phase::Body => "reading the response body",
        }
    }
}

/// Why a redirect was not followed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedirectRefusal {
    /// The `Location` is `http://` (or another scheme): the request would leave TLS.
    NotHttps,
    /// The `Location` is not a URL pinset can follow (user information, a bad host …).
    BadLocation(String),
    /// The `Location` names a host outside the allowed scope (not an address of the site,
    /// or not the host first dialled).
    OffSite {
        /// What the allowed scope is, in words ("an address of site \"shop\" (127.0.0.1, ::1)").
        scope: String,
    },
    /// More redirects than the limit.
    TooMany {
        /// The limit.
        max: usize,
    },
}

/// What ended a fetch or a probe.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The host name could not be resolved.
    Resolve(std::io::Error),
    /// No address of the server accepted a TCP connection (the message names the address
    /// through [`Error::problem`] when the server was dialled by name).
    Connect {
        /// The (last) address tried.
        addr: SocketAddr,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The deadline passed.
    TimedOut {
        /// The deadline given for the whole operation.
        after: Duration,
        /// Where the operation was.
        phase: Phase,
    },
    /// The server's certificate chain was refused by the verifier: the report says why.
    Refused(Box<VerifyError>),
    /// The server offers only TLS 1.0 or 1.1.
    LegacyTls,
    /// The server refused the connection for its client certificate (mutual TLS).
    ClientCertificate {
        /// The alert the server sent.
        alert: AlertDescription,
        /// Whether a client certificate was presented.
        presented: bool,
    },
    /// The TLS handshake (or the TLS layer later) failed otherwise.
    Tls(rustls::Error),
    /// The connection failed (reset, or closed in the middle of the handshake).
    Io(std::io::Error),
    /// The request cannot be sent as given (a header or method HTTP does not allow).
    BadRequest(String),
    /// The HTTP exchange failed: a response that is not HTTP, a protocol error.
    Http {
        /// "HTTP/1.1" or "HTTP/2".
        version: &'static str,
        /// hyper's words, with their causes.
        detail: String,
    },
    /// The response ended before the body its head announced (or, without a length, the
    /// connection was cut without TLS close_notify).
    ShortBody {
        /// Bytes of body received.
        received: u64,
        /// The `Content-Length`, when there was one.
        declared: Option<u64>,
        /// What ended it.
        detail: String,
    },
    /// The response body is larger than the limit.
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// A redirect that was not followed.
    Redirect {
        /// The `Location` as the server sent it (resolved against the request's URL).
        location: String,
        /// Why it was refused.
        refusal: RedirectRefusal,
    },
    /// The name to send in the handshake (SNI) is not a valid DNS name.
    BadServerName(String),
}

/// A duration as a person reads it: whole seconds as `3 s`, else milliseconds.
pub(crate) fn seconds(d: Duration) -> String {
    if d.subsec_nanos() == 0 { format!("{} s", d.as_secs()) } else { format!("{} ms", d.as_millis()) }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Resolve(e) => write!(f, "cannot resolve the host name ({e})"),
            ErrorKind::Connect { source, .. } => match source.kind() {
                std::io::ErrorKind::ConnectionRefused => {
                    f.write_str("connection refused: nothing listens on that port")
                }
                _ => write!(f, "cannot connect ({source})"),
            },
            ErrorKind::TimedOut { after, phase } => write!(f, "timed out after {} {}", seconds(*after), phase.words()),
            ErrorKind::Refused(report) => write!(f, "{} ({})", report.kind.summary(), report.detail),
            ErrorKind::LegacyTls => f.write_str(
                "the server speaks only TLS 1.0 or 1.1, which every current client platform has disabled \
                 (RFC 8996); pinset needs TLS 1.2 or later",
            ),
            ErrorKind::ClientCertificate { alert, presented: false } => {
                write!(f, "the server requires a client certificate (mutual TLS; it sent {alert:?})")
            }
            ErrorKind::ClientCertificate { alert, presented: true } => {
                write!(f, "the server refused the client certificate ({alert:?})")
            }
            ErrorKind::Tls(e) => write!(f, "TLS failed: {e}"),
            ErrorKind::Io(e) => match e.kind() {
                std::io::ErrorKind::UnexpectedEof => {
                    f.write_str("the server closed the connection during the TLS handshake (is it a TLS server?)")
                }
                _ => write!(f, "the connection failed ({e})"),
            },
            ErrorKind::BadRequest(detail) => write!(f, "the request cannot be sent: {detail}"),
            ErrorKind::Http { version, detail } => write!(f, "the {version} exchange failed: {detail}"),
            ErrorKind::ShortBody { received, declared: Some(declared), detail } => write!(
                f,
                "the response ended after {received} of the {declared} bytes its Content-Length announced ({detail})"
            ),
            ErrorKind::ShortBody { received, declared: None, detail } => write!(
                f,
                "the response was cut after {received} bytes of body: the connection ended without TLS \
                 close_notify, so the end cannot be told from a truncation ({detail})"
            ),
            ErrorKind::TooLarge { limit } => {
                write!(f, "the response body is larger than {} MiB, the most pinset keeps in memory", limit >> 20)
            }
            ErrorKind::Redirect { location, refusal } => match refusal {
                RedirectRefusal::NotHttps => write!(
                    f,
                    "redirects to {location}, which is not https://: the request would leave TLS, so it is not followed"
                ),
                RedirectRefusal::BadLocation(why) => write!(f, "redirects to {location}, which is not followed: {why}"),
                RedirectRefusal::OffSite { scope } => {
                    write!(f, "redirects to {location}, which is not {scope}: not followed")
                }
                RedirectRefusal::TooMany { max } => {
                    write!(f, "redirects again, to {location}, after {max} redirects: not followed (a loop?)")
                }
            },
            ErrorKind::BadServerName(name) => write!(f, "{name:?} is not a server name to send (not a DNS name)"),
        }
    }
}

/// The pinset verifier's report inside a rustls error, the version refusal of a TLS 1.0/1.1
/// server, a server's refusal of the client certificate, or the error itself.
pub(crate) fn classify_tls(err: &rustls::Error, presented: bool) -> ErrorKind {
    use rustls::{Error as E, PeerIncompatible as P};
    if let Some(report) = VerifyError::from_rustls(err) {
        return ErrorKind::Refused(Box::new(report.clone()));
    }
    match err {
        // A TLS 1.0/1.1-only server answers a ClientHello offering 1.2 and 1.3 with a
        // protocol_version alert (OpenSSL), or picks its own version (others).
        E::AlertReceived(AlertDescription::ProtocolVersion)
        | E::PeerIncompatible(P::ServerDoesNotSupportTls12Or13 | P::ServerTlsVersionIsDisabledByOurConfig) => {
            ErrorKind::LegacyTls
        }
        // What servers send for a missing or untrusted client certificate: TLS 1.3's
        // certificate_required, and bad_certificate / unknown_ca / access_denied.
        E::AlertReceived(
            alert @ (AlertDescription::CertificateRequired
            | AlertDescription::BadCertificate
            | AlertDescription::UnknownCA
            | AlertDescription::AccessDenied
            | AlertDescription::CertificateRevoked
            | AlertDescription::CertificateExpired),
        ) => ErrorKind::ClientCertificate { alert: *alert, presented },
        other => ErrorKind::Tls(other.clone()),
    }
}

/// The rustls error inside an error chain (tokio-rustls wraps it in an `io::Error`, hyper
/// wraps that), if there is one.
pub(crate) fn find_rustls<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(tls) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|i| i.downcast_ref::<rustls::Error>())
        {
            return Some(tls);
        }
        next = e.source();
    }
    None
}

/// The alert a server sent about the client certificate, from an error's text. Over
/// HTTP/2 that alert arrives after the handshake, and h2 keeps only the text of the TLS
/// layer's error ("received fatal alert: CertificateRequired"), not the error itself.
pub(crate) fn client_certificate_alert(text: &str) -> Option<rustls::Error> {
    const ALERTS: [AlertDescription; 7] = [
        AlertDescription::CertificateRequired,
        AlertDescription::BadCertificate,
        AlertDescription::UnknownCA,
        AlertDescription::AccessDenied,
        AlertDescription::CertificateRevoked,
        AlertDescription::CertificateExpired,
        AlertDescription::CertificateUnknown,
    ];
    let name = text.split("received fatal alert: ").nth(1)?;
    let name = name.split(|c: char| !c.is_ascii_alphanumeric()).next()?;
    ALERTS.into_iter().find(|a| format!("{a:?}") == name).map(rustls::Error::AlertReceived)
}

/// An error and its causes in one line, each cause once.
pub(crate) fn chain_text(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut next = err.source();
    while let Some(e) = next {
        let cause = e.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
        next = e.source();
    }
    text
}
