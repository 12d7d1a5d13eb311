//! Revoking a site's certificates: the certificate revocation list `pki/crl.pem`, signed by
//! the site's CA, is written with every revoked row of the ledger and the new one, then the
//! ledger records the revocation (time and reason). Servers of the site read that list and
//! refuse a revoked client from their next handshake on.
//!
//! Crash safety: the list is written first (atomically), so that an interrupted revocation
//! errs towards refusing: killed between the two writes, the list already names the
//! certificate while the ledger does not yet; revoking it again (which is allowed, and keeps
//! the first time and reason) brings the ledger in line. The other order would leave a
//! certificate revoked in the ledger that every server still accepts.

use std::path::PathBuf;

use rcgen::{CertificateRevocationListParams, KeyIdMethod, RevokedCertParams, SerialNumber};
use time::{Duration, OffsetDateTime};

use crate::atomic::{self, PUBLIC_MODE};
use crate::error::{Error, Remedy, Result};
use crate::ledger::{LedgerEntry, RevocationReason};
use crate::plan::AuthorityMode;
use crate::site::Site;

/// Where a site's revocation list is, relative to the site folder.
pub const CRL_FILE: &str = "pki/crl.pem";

/// How long a revocation list stays valid (its nextUpdate): 397 days, the lifetime of a
/// certificate issued today. pinset signs a new list at every revocation and nothing
/// re-signs it on a schedule (the CA key stays offline), while a verifier that enforces
/// nextUpdate (OpenSSL, so an nginx given the list) refuses every client once it lapses.
pub const CRL_VALIDITY_DAYS: i64 = crate::pki::LEAF_VALIDITY_DAYS as i64;

/// What a revocation did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Revocation {
    /// The certificate, as the ledger records it after the revocation.
    pub certificate: LedgerEntry,
    /// False when it had been revoked before (its first time and reason are kept).
    pub newly_revoked: bool,
    /// The revocation list written, with every revoked certificate of the site.
    pub crl: PathBuf,
    /// How many certificates the list names.
    pub crl_entries: usize,
}

impl Site {
    /// The revocation list's path.
    pub fn crl_path(&self) -> PathBuf {
        self.path(CRL_FILE)
    }

    /// Revokes a certificate issued by the site's CA, named by its serial number (hex, any
    /// case, colons allowed) or by the name of a client identity, then writes the
    /// revocation list again. A root cannot be revoked: replacing one is a rotation.
    pub fn revoke(&mut self, which: &str, reason: RevocationReason) -> Result<Revocation> {
        self.require_ca()?;
        self.hold()?;
        let ledger = self.ledger()?;
        let serial = match self.plan.client(which).and_then(|c| c.active.serial.clone()) {
            Some(serial) => serial,
            None => which.chars().filter(|c| *c != ':').collect::<String>().to_ascii_lowercase(),
        };
        let entry = ledger.get(&serial)?.ok_or_else(|| {
            Error::bad_value(
                "certificate",
                which,
                "is neither a client of this site nor the serial number of a certificate it issued",
                Some("give a client's name or a serial number as the site's ledger records it"),
            )
        })?;
        if matches!(entry.kind.as_str(), "ca" | "ca-standby") {
            return Err(Error::bad_value(
                "certificate",
                which,
                "is a root of the site: a root is replaced by a rotation, not revoked",
                None,
            ));
        }
        let now = OffsetDateTime::now_utc().replace_nanosecond(0).map_err(|e| Error::crypto("clock", e))?;
        let newly_revoked = entry.status != "revoked";
        let (crl, crl_entries) =
            self.write_crl_from(&ledger, newly_revoked.then_some((serial.as_str(), now, reason)))?;
        if newly_revoked {
            ledger.revoke(&serial, now, reason)?;
        }
        let certificate = ledger.get(&serial)?.unwrap_or(entry);
        Ok(Revocation { certificate, newly_revoked, crl, crl_entries })
    }

    /// Writes the revocation list from the ledger's revoked rows, signed by the active CA,
    /// and returns its path.
    pub fn write_crl(&mut self) -> Result<PathBuf> {
        self.require_ca()?;
        self.hold()?;
        Ok(self.write_crl_from(&self.ledger()?, None)?.0)
    }

    fn require_ca(&self) -> Result<()> {
        if self.plan.authority.mode != AuthorityMode::Ca {
            return Err(Error::bad_value(
                "site",
                &self.plan.name,
                "is self-signed: it has no CA to sign a revocation list, and issues no client certificates",
                None,
            )
            .with_remedy(Remedy::CreateSiteWithCa));
        }
        Ok(())
    }

    /// Writes the list of the ledger's revoked rows and `also` (a revocation the ledger does
    /// not record yet: serial, time, reason); returns its path and how many it names.
    fn write_crl_from(
        &self,
        ledger: &crate::ledger::Ledger,
        also: Option<(&str, OffsetDateTime, RevocationReason)>,
    ) -> Result<(PathBuf, usize)> {
        let (issuer, _) = self.ca_issuer()?;
        let now = OffsetDateTime::now_utc().replace_nanosecond(0).map_err(|e| Error::crypto("clock", e))?;
        let mut revoked_certs = Vec::new();
        if let Some((serial, revocation_time, reason)) = also
            && let Some(serial) = unhex(serial)
        {
            revoked_certs.push(RevokedCertParams {
                serial_number: SerialNumber::from_slice(&serial),
                revocation_time,
                reason_code: Some(reason.to_rcgen()),
                invalidity_date: None,
            });
        }
        for e in ledger.revoked()? {
            let Some(serial) = unhex(&e.serial) else { continue };
            let revocation_time = e
                .revoked_at
                .as_deref()
                .and_then(|t| OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok())
                .unwrap_or(now);
            revoked_certs.push(RevokedCertParams {
                serial_number: SerialNumber::from_slice(&serial),
                revocation_time,
                reason_code: e
                    .revocation_reason
                    .as_deref()
                    .and_then(RevocationReason::from_name)
                    .map(RevocationReason::to_rcgen),
                invalidity_date: None,
            });
        }
        let count = revoked_certs.len();
        let params = CertificateRevocationListParams {
            this_update: now,
            next_update: now + Duration::days(CRL_VALIDITY_DAYS),
            // The list's number must grow with every list: the signing time in seconds does.
            crl_number: SerialNumber::from_slice(&now.unix_timestamp().to_be_bytes()),
            issuing_distribution_point: None,
            revoked_certs,
            key_identifier_method: KeyIdMethod::Sha256,
        };
        let crl = params.signed_by(&issuer).map_err(|e| Error::crypto("cannot sign the revocation list", e))?;
        let pem = crl.pem().map_err(|e| Error::crypto("cannot encode the revocation list", e))?;
        let path = self.crl_path();
        atomic::write(&path, pem.as_bytes(), PUBLIC_MODE)?;
        Ok((path, count))
    }
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::{ClientRequest, InitOptions, ServerRequest};

    fn site(dir: &std::path::Path) -> Site {
        let server = ServerRequest::new("server", vec!["127.0.0.1".parse().expect("ip")], vec![]);
        Site::init(
            dir,
            InitOptions { name: Some("shop".into()), mode: AuthorityMode::Ca, pin: None, server, pin_expiration: None },
        )
        .expect("init")
    }

    fn client(site: &mut Site, name: &str) -> String {
        site.issue_client(&ClientRequest {
            name: name.into(),
            key_type: crate::pki::KeyType::P256,
            days: 30,
            p12_profile: crate::pki::P12Profile::Modern,
            password: zeroize::Zeroizing::new("pw".into()),
        })
        .expect("issue client");
        site.plan.client(name).and_then(|c| c.active.serial.clone()).expect("serial")
    }

    fn crl_serials(site: &Site) -> Vec<String> {
        let text = std::fs::read_to_string(site.crl_path()).expect("crl written");
        let der = pem::parse(text).expect("pem").into_contents();
        let (_, crl) = x509_parser::revocation_list::CertificateRevocationList::from_der(&der).expect("parse crl");
        let next = crl.next_update().expect("nextUpdate").to_datetime();
        let this = crl.last_update().to_datetime();
        assert_eq!(next - this, Duration::days(CRL_VALIDITY_DAYS));
        crl.iter_revoked_certificates().map(|r| crate::pin::hex(r.raw_serial())).collect()
    }

    use x509_parser::prelude::FromDer as _;

    #[test]
    fn revoking_by_name_or_serial_records_it_and_lists_it_in_the_crl() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut site = site(&dir.path().join("shop"));
        let one = client(&mut site, "till-1");
        let two = client(&mut site, "till-2");
        let r = site.revoke("till-1", RevocationReason::KeyCompromise).expect("revoke by name");
        assert!(r.newly_revoked);
        assert_eq!(r.certificate.status, "revoked");
        assert_eq!(r.certificate.revocation_reason.as_deref(), Some("key-compromise"));
        assert_eq!(crl_serials(&site), vec![one.clone()]);
        let colons: Vec<String> = (0..two.len()).step_by(2).map(|i| two[i..i + 2].to_ascii_uppercase()).collect();
        let r = site.revoke(&colons.join(":"), RevocationReason::Superseded).expect("revoke by serial");
        assert_eq!(r.crl_entries, 2);
        let again = site.revoke("till-1", RevocationReason::Unspecified).expect("again");
        assert!(!again.newly_revoked);
        assert_eq!(again.certificate.revocation_reason.as_deref(), Some("key-compromise"), "first reason kept");
        let mut listed = crl_serials(&site);
        listed.sort();
        let mut want = vec![one, two];
        want.sort();
        assert_eq!(listed, want);
    }

    #[test]
    fn roots_and_unknown_certificates_are_refused_by_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut site = site(&dir.path().join("shop"));
        let err = site.revoke("nobody", RevocationReason::Unspecified).expect_err("unknown");
        assert!(err.to_string().contains("nobody"), "{err}");
        let root = site.plan.authority.active.as_ref().and_then(|s| s.serial.clone()).expect("root serial");
        let err = site.revoke(&root, RevocationReason::Unspecified).expect_err("root");
        assert!(err.to_string().contains("rotation"), "{err}");
        assert!(!site.crl_path().exists(), "nothing written for a refused revocation");
    }
}
