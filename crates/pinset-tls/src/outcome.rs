//! What one connection's verification concluded, kept with that connection.
//!
//! A verifier is shared: a server or a probe runs hundreds of handshakes through one, at
//! once, so a verifier never remembers "the last result". To know what a connection's
//! handshake concluded, make the connection's client configuration from
//! [`ChainVerifier::for_connection`]: it returns a verifier that forwards to the shared one
//! and an [`Outcome`] that receives this connection's result, and nothing else's.
//!
//! ```no_run
//! # use std::sync::Arc;
//! # fn demo(verifier: Arc<pinset_tls::PinnedVerifier>) -> Result<(), Box<dyn std::error::Error>> {
//! use pinset_tls::outcome::ChainVerifier as _;
//! let (per_connection, outcome) = verifier.for_connection();
//! let config = pinset_tls::verifier::client_config(per_connection)?;
//! // … handshake with `config` …
//! if let Some(Ok(verified)) = outcome.get() {
//!     println!("pins: {:?}", verified.pins);
//! }
//! # Ok(()) }
//! ```

use std::fmt;
use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, SignatureScheme};

use crate::provider;
use crate::verifier::{Verified, VerifyError};

/// A verifier of server chains: [`crate::PinnedVerifier`] and [`crate::SiteVerifier`].
pub trait ChainVerifier: fmt::Debug + Send + Sync + 'static {
    /// Verifies a chain for `server_name` at `now`, offline: the same checks a handshake
    /// makes.
    fn verify_chain(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        now: UnixTime,
    ) -> Result<Verified, VerifyError>;

    /// A verifier for one connection, forwarding to this one, and the [`Outcome`] that
    /// receives that connection's result.
    fn for_connection(self: Arc<Self>) -> (Arc<dyn ServerCertVerifier>, Outcome) {
        let outcome = Outcome::default();
        (Arc::new(Recording { inner: self, outcome: outcome.clone() }), outcome)
    }
}

/// One connection's verification result, filled in during its handshake. Empty until the
/// server's certificate has been checked (and for a resumed session, whose chain was
/// checked when the session was made).
#[derive(Clone, Default)]
pub struct Outcome(Arc<OnceLock<Result<Verified, VerifyError>>>);

impl Outcome {
    /// The result, once the handshake has checked the server's chain.
    pub fn get(&self) -> Option<&Result<Verified, VerifyError>> {
        self.0.get()
    }

    fn set(&self, result: Result<Verified, VerifyError>) {
        // A connection verifies its server once; should rustls ever ask twice, the first
        // answer stands, as it decided the handshake.
        let _ = self.0.set(result);
    }
}

impl fmt::Debug for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.get() {
            None => f.write_str("Outcome(pending)"),
            Some(Ok(v)) => write!(f, "Outcome(accepted, {:?})", v.pins),
            Some(Err(e)) => write!(f, "Outcome(refused, {:?})", e.kind),
        }
    }
}

/// Forwards to a shared verifier and records this connection's result.
struct Recording<V: ChainVerifier + ?Sized> {
    inner: Arc<V>,
    outcome: Outcome,
}

impl<V: ChainVerifier + ?Sized> fmt::Debug for Recording<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recording").field("inner", &self.inner).field("outcome", &self.outcome).finish()
    }
}

impl<V: ChainVerifier + ?Sized> ServerCertVerifier for Recording<V> {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let result = self.inner.verify_chain(end_entity, intermediates, server_name, now);
        let verdict = to_rustls(&result);
        self.outcome.set(result);
        verdict
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &provider().signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &provider().signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        provider().signature_verification_algorithms.supported_schemes()
    }
}

/// A verification result as rustls takes it: the typed [`VerifyError`] travels inside
/// `CertificateError::Other`, where [`VerifyError::from_rustls`] finds it again.
pub(crate) fn to_rustls(result: &Result<Verified, VerifyError>) -> Result<ServerCertVerified, rustls::Error> {
    match result {
        Ok(_) => Ok(ServerCertVerified::assertion()),
        Err(e) => Err(rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(e.clone()))))),
    }
}
