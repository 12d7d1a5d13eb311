//! The extra CA of debuggable builds ([`DebugAnchor`]): an interception proxy's CA that a
//! team trusts on purpose while inspecting its own app's traffic. Android writes it as
//! `<debug-overrides>` (applied only when the app is debuggable, docs/platforms.md); the
//! iOS code and the plugins trust it behind a debug-only switch. Chains that end at it are
//! accepted without pins (the proxy forges every leaf); chains of the site keep their pins.

use crate::error::{Error, Result};
use crate::pin::Pin;

/// A CA certificate trusted by debug builds only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DebugAnchor {
    /// Its subject, CN first.
    pub subject: String,
    /// The certificate, DER.
    pub der: Vec<u8>,
    /// The certificate, PEM (LF line endings).
    pub pem: String,
    /// The pin of its key.
    pub pin: Pin,
}

impl DebugAnchor {
    /// The first certificate of `bytes` (PEM or DER), which must be a CA: a proxy signs the
    /// certificates it forges with it. `label` names the input in errors.
    pub fn read(label: &str, bytes: &[u8]) -> Result<DebugAnchor> {
        let der = crate::input::read_certificates(label, bytes)?.into_iter().next().ok_or_else(|| {
            Error::bad_input(label, "holds no certificate", Some("give the proxy's CA certificate (PEM or DER)"))
        })?;
        let parsed = crate::cert::parse(label, &der)?;
        let is_ca = matches!(parsed.basic_constraints(), Ok(Some(bc)) if bc.value.ca);
        if !is_ca {
            return Err(Error::bad_input(
                label,
                "is not a CA certificate (no basicConstraints CA:TRUE): a proxy signs the certificates it forges \
                 with its CA, and a leaf can sign nothing",
                Some("give the proxy's CA certificate, e.g. mitmproxy-ca-cert.pem or Charles' root certificate"),
            ));
        }
        let subject = crate::cert::name_to_string(parsed.subject());
        let pin = Pin::of_spki(parsed.tbs_certificate.subject_pki.raw);
        let pem = pem::encode_config(
            &pem::Pem::new("CERTIFICATE", der.clone()),
            pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
        );
        Ok(DebugAnchor { subject, der, pem, pin })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shop_file(rel: &str) -> Vec<u8> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/sites/shop");
        std::fs::read(dir.join(rel)).expect("fixture file")
    }

    #[test]
    fn a_ca_is_read_and_a_leaf_refused() {
        let ca = DebugAnchor::read("ca.pem", &shop_file("pki/authority/ca.pem")).expect("a CA");
        assert!(ca.pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert!(ca.subject.starts_with("CN="), "{}", ca.subject);
        let err = DebugAnchor::read("cert.pem", &shop_file("pki/servers/backoffice/cert.pem")).expect_err("a leaf");
        assert!(err.to_string().contains("is not a CA certificate"), "{err}");
        let err = DebugAnchor::read("empty.pem", b"").expect_err("nothing");
        assert!(err.to_string().contains("empty.pem"), "{err}");
    }
}
