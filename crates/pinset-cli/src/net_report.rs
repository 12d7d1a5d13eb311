//! How a failed network operation (pinset-net's [`pinset_net::Error`]) reaches the user:
//! the error naming the server, and a `hint:` line in this tool's words (its flags), for
//! `get` and live `pin` alike.

use std::path::Path;

use pinset::Remedy;
use pinset_net::{ErrorKind, Phase, RedirectRefusal};
use rustls::AlertDescription;

/// The error as the library error the report prints, `SERVER: what happened`, with its hint.
/// `output` is the `-o` file of `get`, if any (nothing is written to it on a failure).
pub fn error(e: &pinset_net::Error, output: Option<&Path>) -> pinset::Error {
    pinset::Error::BadInput {
        path: e.target().to_string(),
        problem: e.problem(),
        hint: hint(&e.kind, output).map(Remedy::from),
    }
}

/// What to do about an error of this kind, if there is something to say.
pub fn hint(kind: &ErrorKind, output: Option<&Path>) -> Option<String> {
    let more_time = "or allow more time with --timeout SECS";
    Some(match kind {
        ErrorKind::TimedOut { phase: Phase::Resolve | Phase::Connect, .. } => {
            format!(
                "nothing answered: check the address and port, and that no firewall drops the connection; {more_time}"
            )
        }
        ErrorKind::TimedOut { phase: Phase::Handshake, .. } => format!(
            "the server took the connection but did not complete a TLS handshake: check that it speaks TLS on that \
             port, {more_time}"
        ),
        ErrorKind::TimedOut { .. } => {
            format!("the server answers too slowly or never finishes; if it is only slow, {more_time}")
        }
        ErrorKind::Connect { .. } => "check the address and port, and that the server is running".into(),
        ErrorKind::LegacyTls => "enable TLS 1.2 (or 1.3) on the server: TLS 1.0 and 1.1 are deprecated (RFC 8996) \
                                 and refused by every current client platform"
            .into(),
        ErrorKind::ClientCertificate { presented: false, .. } => {
            "give one with --cert FILE --key FILE or --p12 FILE (see `pinset issue client`)".into()
        }
        ErrorKind::ClientCertificate { presented: true, alert: AlertDescription::CertificateRevoked } => {
            "the certificate is revoked (`pinset revoke`): issue the client a new one with `pinset issue client`".into()
        }
        ErrorKind::ClientCertificate { presented: true, alert: AlertDescription::CertificateExpired } => {
            "the certificate has expired: issue the client a new one with `pinset issue client`".into()
        }
        ErrorKind::ClientCertificate { presented: true, .. } => "the server trusts another CA, or restricts the \
                                                                  clients it accepts by name: issue the client \
                                                                  certificate from the site the server trusts"
            .into(),
        ErrorKind::ShortBody { .. } => match output {
            Some(file) => format!("nothing was written to {}; try again, and check the server's logs", file.display()),
            None => "the response is incomplete; try again, and check the server's logs".into(),
        },
        ErrorKind::TooLarge { .. } => "pinset get is for status pages and API answers".into(),
        ErrorKind::Redirect { refusal: RedirectRefusal::NotHttps, .. } => {
            "pinset speaks only TLS: make the server redirect to https://".into()
        }
        ErrorKind::Redirect { refusal: RedirectRefusal::OffSite { .. }, .. } => {
            "-L follows redirects only to the site's own addresses (without a site, to the host first dialled); \
             fetch that URL on its own if you mean to, with the trust it needs"
                .into()
        }
        ErrorKind::Redirect { refusal: RedirectRefusal::TooMany { .. }, .. } => {
            "the server redirects in a loop; fetch without -L to see where it sends you".into()
        }
        ErrorKind::Http { .. } => "check that the address and port are those of an HTTPS server".into(),
        _ => return None,
    })
}
