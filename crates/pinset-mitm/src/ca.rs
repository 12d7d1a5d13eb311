//! The harness's own CA, kept in a folder and reused across runs so a device installs it
//! once: `ca.pem` (PEM), `ca.cer` (the same certificate, DER: what Android's and iOS's
//! installers take), `ca.key` (its key, mode 0600) and `INSTALL.txt` (how to install it on
//! Android and iOS). Every file is written atomically (`pinset::atomic`), the key first.
//!
//! A folder holding a certificate without its key, a key without its certificate, or a
//! pair that does not match is refused, never overwritten: a device may trust that CA.

use std::path::{Path, PathBuf};

use pinset::Pin;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose, PublicKeyData as _};
use time::{Duration, OffsetDateTime};

/// Lifetime of the harness CA: one year. It is reused so a device installs it once, and
/// it should not outlive the testing it is for on a device someone forgets to clean.
pub const CA_VALIDITY_DAYS: i64 = 365;

/// The certificate, PEM.
pub const CERT_FILE: &str = "ca.pem";
/// The certificate, DER (Android and iOS install `.cer`/`.der` files).
pub const DER_FILE: &str = "ca.cer";
/// The key, PKCS#8 PEM, mode 0600.
pub const KEY_FILE: &str = "ca.key";
/// How to install the CA on a device.
pub const NOTES_FILE: &str = "INSTALL.txt";

/// The subject CN of a harness CA: says what it is wherever a device lists it.
const CA_CN: &str = "pinset mitm CA (testing only, remove after use)";

/// The harness CA, open.
pub struct HarnessCa {
    dir: PathBuf,
    /// The certificate, DER.
    pub cert_der: Vec<u8>,
    /// The certificate, PEM.
    pub cert_pem: String,
    /// The pin of its key.
    pub pin: Pin,
    /// End of its validity.
    pub not_after: OffsetDateTime,
    /// Whether this run made it (false: it was read back from the folder).
    pub created: bool,
    pub(crate) issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for HarnessCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HarnessCa").field("dir", &self.dir).field("pin", &self.pin).finish()
    }
}

impl HarnessCa {
    /// Opens the CA kept in `dir`, or makes one there (creating the folder) when it holds
    /// neither certificate nor key. An expired CA is refused.
    pub fn open_or_create(dir: &Path) -> pinset::Result<HarnessCa> {
        let (cert_path, key_path) = (dir.join(CERT_FILE), dir.join(KEY_FILE));
        let ca = match (cert_path.exists(), key_path.exists()) {
            (false, false) => HarnessCa::create(dir)?,
            (true, true) => HarnessCa::open(dir)?,
            (cert, _) => {
                let (has, lacks) = if cert { (&cert_path, &key_path) } else { (&key_path, &cert_path) };
                return Err(pinset::Error::bad_input(
                    &has.display().to_string(),
                    format!("is here but {} is not", lacks.display()),
                    Some("restore the missing file, or remove the folder to make a new CA (and install it again)"),
                ));
            }
        };
        if ca.not_after < OffsetDateTime::now_utc() {
            return Err(pinset::Error::bad_input(
                &cert_path.display().to_string(),
                format!("the harness CA expired on {}", ca.not_after.date()),
                Some("remove the folder to make a new CA, and install the new one on the device"),
            ));
        }
        // The DER copy and the notes are derived: written again when missing.
        for (file, bytes) in [(DER_FILE, ca.cert_der.clone()), (NOTES_FILE, install_notes(&ca).into_bytes())] {
            let path = dir.join(file);
            if !path.exists() {
                pinset::atomic::write(&path, &bytes, pinset::atomic::PUBLIC_MODE)?;
            }
        }
        Ok(ca)
    }

    fn create(dir: &Path) -> pinset::Result<HarnessCa> {
        pinset::atomic::create_dir_all(dir)?;
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(crypto)?;
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::OrganizationName, "pinset mitm");
        params.distinguished_name.push(DnType::CommonName, CA_CN);
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let now = OffsetDateTime::now_utc().replace_nanosecond(0).map_err(crypto)?;
        params.not_before = now - Duration::hours(1);
        params.not_after = now + Duration::days(CA_VALIDITY_DAYS);
        params.serial_number = Some(crate::forge::random_serial()?);
        let cert = params.self_signed(&key).map_err(crypto)?;
        // The key first: a certificate on disk without its key would be refused next time.
        pinset::atomic::write(&dir.join(KEY_FILE), key.serialize_pem().as_bytes(), pinset::atomic::SECRET_MODE)?;
        pinset::atomic::write(&dir.join(CERT_FILE), cert.pem().as_bytes(), pinset::atomic::PUBLIC_MODE)?;
        let mut ca = HarnessCa::open(dir)?;
        ca.created = true;
        Ok(ca)
    }

    fn open(dir: &Path) -> pinset::Result<HarnessCa> {
        let (cert_path, key_path) = (dir.join(CERT_FILE), dir.join(KEY_FILE));
        let read = |p: &Path| {
            std::fs::read(p).map_err(|source| pinset::Error::Io {
                action: "cannot read",
                path: p.to_path_buf(),
                source,
            })
        };
        let cert_label = cert_path.display().to_string();
        let cert_der = pinset::input::read_certificates(&cert_label, &read(&cert_path)?)?
            .into_iter()
            .next()
            .ok_or_else(|| pinset::Error::bad_input(&cert_label, "holds no certificate", None))?;
        let key_pem = String::from_utf8(read(&key_path)?)
            .map_err(|_| pinset::Error::bad_input(&key_path.display().to_string(), "is not a PEM private key", None))?;
        let key = KeyPair::from_pem(&key_pem).map_err(|e| {
            pinset::Error::bad_input(
                &key_path.display().to_string(),
                format!("is not a private key pinset reads ({e})"),
                None,
            )
        })?;
        let parsed = pinset::cert::parse(&cert_label, &cert_der)?;
        let pin = Pin::of_spki(parsed.tbs_certificate.subject_pki.raw);
        if pin != Pin::of_spki(&key.subject_public_key_info()) {
            return Err(pinset::Error::bad_input(
                &key_path.display().to_string(),
                format!("is not the key of {cert_label}"),
                Some(
                    "restore the pair from the same run, or remove the folder to make a new CA (and install it again)",
                ),
            ));
        }
        let not_after = parsed.validity().not_after.to_datetime();
        let issuer = Issuer::from_ca_cert_der(&cert_der.clone().into(), key)
            .map_err(|e| pinset::Error::bad_input(&cert_label, format!("cannot sign with it ({e})"), None))?;
        let cert_pem = pem::encode(&pem::Pem::new("CERTIFICATE", cert_der.clone()));
        Ok(HarnessCa { dir: dir.to_path_buf(), cert_der, cert_pem, pin, not_after, created: false, issuer })
    }

    /// The folder it is kept in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `DIR/ca.pem`.
    pub fn cert_path(&self) -> PathBuf {
        self.dir.join(CERT_FILE)
    }

    /// `DIR/ca.cer` (DER).
    pub fn der_path(&self) -> PathBuf {
        self.dir.join(DER_FILE)
    }

    /// `DIR/INSTALL.txt`.
    pub fn notes_path(&self) -> PathBuf {
        self.dir.join(NOTES_FILE)
    }
}

fn crypto(e: impl std::fmt::Display) -> pinset::Error {
    pinset::Error::Crypto(format!("cannot make the harness CA: {e}"))
}

/// How to install the CA on Android and iOS, and remove it afterwards.
fn install_notes(ca: &HarnessCa) -> String {
    format!(
        "\
The pinset mitm CA: install it on a test device to play the trusted-ca attack.

  ca.pem   the certificate, PEM
  ca.cer   the same certificate, DER
  ca.key   its private key: keep it here, never copy it to a device
  pin      {pin}
  expires  {expires}

An app that pins its keys must refuse every connection the harness forges, this CA
installed or not. An app that only trusts the device's CAs accepts the trusted-ca attack:
that is the finding.

Android (7 and later)
  1. Copy ca.cer to the device (adb push ca.cer /sdcard/Download/).
  2. Settings > Security > Encryption & credentials > Install a certificate >
     CA certificate, and pick ca.cer.
  3. Apps trust user-installed CAs only if their network security configuration says
     so (<certificates src=\"user\"/>, often in <debug-overrides>): a release build that
     does not is protected by that alone, pinned or not. Test a build that trusts user
     CAs to see what its pins do.
  4. Wi-Fi > the network > Proxy > Manual: the harness's address and port.
  Remove it afterwards: Settings > Security > Encryption & credentials > User
  credentials (or Trusted credentials > User).

iOS and iPadOS
  1. Send ca.cer to the device (AirDrop, mail, or a web page) and open it:
     \"Profile Downloaded\".
  2. Settings > General > VPN & Device Management: install the profile.
  3. Settings > General > About > Certificate Trust Settings: turn on full trust
     for \"{cn}\" (without this step, TLS does not trust it).
  4. Settings > Wi-Fi > (i) > Configure Proxy > Manual: the harness's address and port.
  Remove it afterwards: Settings > General > VPN & Device Management > the profile >
  Remove Profile.
",
        pin = ca.pin,
        expires = ca.not_after.date(),
        cn = CA_CN,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ca_is_made_once_and_reused_and_a_lone_half_is_refused() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("ca");
        let made = HarnessCa::open_or_create(&dir).expect("create");
        assert!(made.created);
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.join(KEY_FILE)).expect("key").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        for f in [CERT_FILE, DER_FILE, NOTES_FILE] {
            assert!(dir.join(f).is_file(), "{f}");
        }
        let again = HarnessCa::open_or_create(&dir).expect("reuse");
        assert!(!again.created);
        assert_eq!(again.pin, made.pin);
        std::fs::remove_file(dir.join(KEY_FILE)).expect("rm key");
        let err = HarnessCa::open_or_create(&dir).expect_err("a certificate without its key");
        assert!(err.to_string().contains("ca.key"), "{err}");
        assert!(dir.join(CERT_FILE).exists(), "never overwritten");
    }
}
