//! Reading what users hand pinset: PEM or DER certificates and bundles, public and private
//! keys (PKCS#8, SEC1, PKCS#1), CSRs and PKCS#12 files, each turned into [`Object`]s that
//! carry the SubjectPublicKeyInfo a pin is computed over.

use rcgen::PublicKeyData as _;
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer};
use x509_parser::prelude::FromDer as _;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::pin::{CertSha256, Pin};

/// What an input object is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ObjectKind {
    /// An X.509 certificate.
    Certificate,
    /// A bare public key (SubjectPublicKeyInfo or PKCS#1 RSAPublicKey).
    PublicKey,
    /// A private key; only its public half is kept.
    PrivateKey,
    /// A certificate signing request (PKCS#10).
    Csr,
}

impl ObjectKind {
    /// A short human name.
    pub fn describe(self) -> &'static str {
        match self {
            ObjectKind::Certificate => "certificate",
            ObjectKind::PublicKey => "public key",
            ObjectKind::PrivateKey => "private key",
            ObjectKind::Csr => "certificate request",
        }
    }
}

/// One object read from an input, with what a pin needs.
#[derive(Clone, Debug)]
pub struct Object {
    /// Where it came from: the input's name, with `#N` (from 1) when it holds several.
    pub source: String,
    /// What it is.
    pub kind: ObjectKind,
    /// The DER SubjectPublicKeyInfo of its key.
    pub spki: Vec<u8>,
    /// The DER certificate, for certificates.
    pub cert_der: Option<Vec<u8>>,
    /// The subject (certificates, CSRs) or the key type (keys).
    pub description: String,
}

impl Object {
    /// The SPKI pin of this object's key.
    pub fn pin(&self) -> Pin {
        Pin::of_spki(&self.spki)
    }

    /// The whole-certificate SHA-256, for certificates only.
    pub fn cert_sha256(&self) -> Option<CertSha256> {
        self.cert_der.as_deref().map(CertSha256::of_der)
    }
}

/// Supplies a PKCS#12 password when, and only when, an input turns out to need one.
pub type PasswordSource<'a> = &'a mut dyn FnMut(&str) -> Result<Zeroizing<String>>;

/// Reads every object in `bytes`, which came from the input named `name`.
pub fn read_objects(name: &str, bytes: &[u8], password: PasswordSource<'_>) -> Result<Vec<Object>> {
    if bytes.is_empty() {
        return Err(Error::bad_input(
            name,
            "is empty",
            Some("give a PEM or DER certificate, key, CSR or PKCS#12 file"),
        ));
    }
    let objects = if looks_like_pem(bytes) { read_pem(name, bytes)? } else { read_der(name, bytes, password)? };
    if objects.is_empty() {
        return Err(Error::bad_input(
            name,
            "holds no certificate, key or certificate request",
            Some("give a PEM or DER certificate, key, CSR or PKCS#12 file"),
        ));
    }
    let n = objects.len();
    Ok(objects
        .into_iter()
        .enumerate()
        .map(|(i, mut o)| {
            o.source = if n > 1 { format!("{name}#{}", i + 1) } else { name.to_string() };
            o
        })
        .collect())
}

/// Reads the certificates (only) of a PEM or DER input, in order.
pub fn read_certificates(name: &str, bytes: &[u8]) -> Result<Vec<Vec<u8>>> {
    let mut no_password = |_: &str| -> Result<Zeroizing<String>> {
        Err(Error::bad_input(
            name,
            "is a PKCS#12 file, a certificate was expected",
            Some("extract the certificate with `openssl pkcs12 -in FILE -nokeys`"),
        ))
    };
    let objects = read_objects(name, bytes, &mut no_password)?;
    let mut certs = Vec::new();
    for o in objects {
        match o.cert_der {
            Some(der) => certs.push(der),
            None => {
                return Err(Error::bad_input(
                    &o.source,
                    format!("is a {}, a certificate was expected", o.kind.describe()),
                    Some("give the certificate file (BEGIN CERTIFICATE), not the key or request"),
                ));
            }
        }
    }
    Ok(certs)
}

fn looks_like_pem(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(64 * 1024)];
    head.windows(11).any(|w| w == b"-----BEGIN ")
}

fn read_pem(name: &str, bytes: &[u8]) -> Result<Vec<Object>> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| Error::bad_input(name, "looks like PEM but is not valid text", None))?;
    check_pem_framing(name, text)?;
    let blocks = pem::parse_many(text).map_err(|e| {
        Error::bad_input(
            name,
            format!("malformed PEM: {e}"),
            Some("the file may be truncated or edited; export it again"),
        )
    })?;
    let mut objects = Vec::new();
    for (i, block) in blocks.iter().enumerate() {
        let label = format!("{name} (PEM block {}, {})", i + 1, block.tag());
        let der = block.contents();
        let object = match block.tag() {
            "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => certificate(&label, der, true)?,
            "PUBLIC KEY" => public_key(&label, der)?,
            "RSA PUBLIC KEY" => public_key(&label, &wrap_rsa_public_key(der))?,
            "PRIVATE KEY" => private_key(&label, PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der.to_vec())))?,
            "RSA PRIVATE KEY" => private_key(&label, PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(der.to_vec())))?,
            "EC PRIVATE KEY" => private_key(&label, PrivateKeyDer::Sec1(PrivateSec1KeyDer::from(der.to_vec())))?,
            "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" => csr(&label, der)?,
            // `openssl ecparam -genkey` writes the curve before the key: nothing to pin.
            "EC PARAMETERS" => continue,
            "ENCRYPTED PRIVATE KEY" => {
                return Err(Error::bad_input(
                    name,
                    "holds an encrypted private key",
                    Some("pin its certificate instead, or decrypt it: openssl pkey -in FILE -out plain.key"),
                ));
            }
            other => {
                return Err(Error::bad_input(
                    name,
                    format!("PEM block {} is {other:?}, which pinset does not read", i + 1),
                    Some(
                        "pinset reads CERTIFICATE, PUBLIC KEY, PRIVATE KEY (PKCS#8, RSA, EC) and CERTIFICATE REQUEST blocks",
                    ),
                ));
            }
        };
        objects.push(object);
    }
    Ok(objects)
}

/// A BEGIN line without its END line (a truncated download, a cut-and-paste) must be an
/// error, not a silently shorter bundle.
fn check_pem_framing(name: &str, text: &str) -> Result<()> {
    let mut open: Option<(usize, &str)> = None;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("-----BEGIN ") {
            if let Some((at, label)) = open {
                return Err(truncated(name, at, label));
            }
            open = Some((n + 1, rest.trim_end_matches('-')));
        } else if line.starts_with("-----END ") {
            if open.is_none() {
                return Err(Error::bad_input(
                    name,
                    format!("line {}: END line without a BEGIN line", n + 1),
                    Some("the file is damaged; export it again"),
                ));
            }
            open = None;
        }
    }
    match open {
        Some((at, label)) => Err(truncated(name, at, label)),
        None => Ok(()),
    }
}

fn truncated(name: &str, line: usize, label: &str) -> Error {
    Error::bad_input(
        name,
        format!("truncated PEM: the BEGIN {label} block at line {line} has no END line"),
        Some("the file was cut short; copy or download it again"),
    )
}

fn read_der(name: &str, der: &[u8], password: PasswordSource<'_>) -> Result<Vec<Object>> {
    if let Ok(o) = certificate(name, der, false) {
        return Ok(vec![o]);
    }
    if let Ok(o) = csr(name, der) {
        return Ok(vec![o]);
    }
    if let Ok((rest, _)) = x509_parser::x509::SubjectPublicKeyInfo::from_der(der)
        && rest.is_empty()
    {
        return Ok(vec![public_key(name, der)?]);
    }
    if let Ok(key) = PrivateKeyDer::try_from(der)
        && let Ok(o) = private_key(name, key)
    {
        return Ok(vec![o]);
    }
    if looks_like_pkcs12(der) {
        let pw = password(name)?;
        return read_pkcs12(name, der, &pw);
    }
    if let Some(announced) = der_truncated(der) {
        return Err(Error::bad_input(
            name,
            format!("truncated DER: it announces {announced} bytes but holds {}", der.len()),
            Some("the file was cut short; copy or download it again"),
        ));
    }
    Err(Error::bad_input(
        name,
        "is neither PEM nor a DER certificate, key, CSR or PKCS#12 file",
        Some("check that this is the file you meant; `file NAME` tells what it holds"),
    ))
}

/// The length a DER SEQUENCE announces (header included), when it is more than `der` holds:
/// the mark of a file cut short.
fn der_truncated(der: &[u8]) -> Option<usize> {
    let (&tag, rest) = der.split_first()?;
    let (&first, rest) = rest.split_first()?;
    if tag != 0x30 {
        return None;
    }
    let (len, header) = match first {
        0..=0x7f => (usize::from(first), 2),
        0x81..=0x84 => {
            let n = usize::from(first - 0x80);
            let bytes = rest.get(..n)?;
            (bytes.iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b)), 2 + n)
        }
        _ => return None,
    };
    let announced = header + len;
    (announced > der.len()).then_some(announced)
}

fn certificate(label: &str, der: &[u8], from_pem: bool) -> Result<Object> {
    let (rest, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| {
        Error::bad_input(
            label,
            format!("not a valid X.509 certificate: {e}"),
            Some("the file may be truncated or damaged; export it again"),
        )
    })?;
    // A TRUSTED CERTIFICATE block carries OpenSSL's trust settings after the certificate.
    let used = der.len() - rest.len();
    if !from_pem && !rest.is_empty() {
        return Err(Error::bad_input(label, "trailing bytes after the certificate", None));
    }
    Ok(Object {
        source: label.to_string(),
        kind: ObjectKind::Certificate,
        spki: cert.public_key().raw.to_vec(),
        cert_der: Some(der[..used].to_vec()),
        description: crate::cert::name_to_string(cert.subject()),
    })
}

fn public_key(label: &str, der: &[u8]) -> Result<Object> {
    let (_, spki) = x509_parser::x509::SubjectPublicKeyInfo::from_der(der)
        .map_err(|e| Error::bad_input(label, format!("not a valid public key: {e}"), None))?;
    Ok(Object {
        source: label.to_string(),
        kind: ObjectKind::PublicKey,
        spki: spki.raw.to_vec(),
        cert_der: None,
        description: crate::cert::describe_spki(&spki),
    })
}

fn private_key(label: &str, key: PrivateKeyDer<'_>) -> Result<Object> {
    let stored = stored_ec_spki(&key);
    let pair = rcgen::KeyPair::try_from(&key).map_err(|e| {
        Error::bad_input(
            label,
            format!("not a usable private key ({e})"),
            Some("pinset reads RSA, P-256, P-384, P-521 and Ed25519 keys"),
        )
    })?;
    // An EC key file carries its public point as it was written (compressed or not, named
    // or explicit curve), and certificates made from it carry that same encoding: pin it
    // as stored, as OpenSSL does, rather than re-encoded.
    let spki = stored.unwrap_or_else(|| pair.subject_public_key_info());
    let description = match x509_parser::x509::SubjectPublicKeyInfo::from_der(&spki) {
        Ok((_, parsed)) => crate::cert::describe_spki(&parsed),
        Err(_) => "private key".into(),
    };
    Ok(Object { source: label.to_string(), kind: ObjectKind::PrivateKey, spki, cert_der: None, description })
}

fn csr(label: &str, der: &[u8]) -> Result<Object> {
    let (rest, req) = x509_parser::certification_request::X509CertificationRequest::from_der(der)
        .map_err(|e| Error::bad_input(label, format!("not a valid certificate request: {e}"), None))?;
    if !rest.is_empty() {
        return Err(Error::bad_input(label, "trailing bytes after the certificate request", None));
    }
    let info = &req.certification_request_info;
    Ok(Object {
        source: label.to_string(),
        kind: ObjectKind::Csr,
        spki: info.subject_pki.raw.to_vec(),
        cert_der: None,
        description: crate::cert::name_to_string(&info.subject),
    })
}

/// The SubjectPublicKeyInfo of an EC private key exactly as its file stores it: the
/// algorithm and curve parameters as written, and the `publicKey` field of ECPrivateKey.
/// `None` when the key is not EC or does not store its public point.
fn stored_ec_spki(key: &PrivateKeyDer<'_>) -> Option<Vec<u8>> {
    const EC_PUBLIC_KEY: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    let (alg_id, ec_private_key) = match key {
        PrivateKeyDer::Pkcs8(k) => {
            // PrivateKeyInfo ::= SEQUENCE { version, AlgorithmIdentifier, OCTET STRING, … }
            let (_, body, _) = tlv(k.secret_pkcs8_der())?;
            let (_, _, rest) = tlv(body)?;
            let (alg_whole, alg_body, rest) = tlv(rest)?;
            if !alg_body.starts_with(EC_PUBLIC_KEY) {
                return None;
            }
            let (_, inner, _) = tlv(rest)?;
            (alg_whole.to_vec(), inner)
        }
        PrivateKeyDer::Sec1(k) => {
            // The curve is the [0] field of ECPrivateKey itself.
            let (_, body, _) = tlv(k.secret_sec1_der())?;
            let params = field(body, 0xa0)?;
            let mut alg = EC_PUBLIC_KEY.to_vec();
            alg.extend_from_slice(params);
            (der_tlv(0x30, &alg), k.secret_sec1_der())
        }
        _ => return None,
    };
    // ECPrivateKey ::= SEQUENCE { version, privateKey, [0] parameters OPTIONAL, [1] publicKey OPTIONAL }
    let (_, body, _) = tlv(ec_private_key)?;
    let public_key = field(body, 0xa1)?;
    let (bit_string, _, _) = tlv(public_key)?;
    let mut spki = alg_id;
    spki.extend_from_slice(bit_string);
    Some(der_tlv(0x30, &spki))
}

/// Splits one DER element off `input`: (whole element, content, rest).
fn tlv(input: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let first_len = *input.get(1)?;
    let (len, header) = if first_len < 0x80 {
        (usize::from(first_len), 2)
    } else {
        let n = usize::from(first_len & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let len = input.get(2..2 + n)?.iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, 2 + n)
    };
    let end = header.checked_add(len)?;
    Some((input.get(..end)?, input.get(header..end)?, input.get(end..)?))
}

/// The content of the first element tagged `tag` in a SEQUENCE's content.
fn field(mut body: &[u8], tag: u8) -> Option<&[u8]> {
    while let Some(&t) = body.first() {
        let (_, content, rest) = tlv(body)?;
        if t == tag {
            return Some(content);
        }
        body = rest;
    }
    None
}

/// PFX ::= SEQUENCE { version INTEGER (3), authSafe ContentInfo (id-data …) }
fn looks_like_pkcs12(der: &[u8]) -> bool {
    const ID_DATA: &[u8] = &[0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
    let head = &der[..der.len().min(40)];
    der.first() == Some(&0x30)
        && head.windows(3).any(|w| w == [0x02, 0x01, 0x03])
        && head.windows(ID_DATA.len()).any(|w| w == ID_DATA)
}

fn read_pkcs12(name: &str, der: &[u8], password: &str) -> Result<Vec<Object>> {
    let store = crate::pki::open_pkcs12(name, der, password)?;
    let mut objects = Vec::new();
    for (alias, entry) in store.entries() {
        match entry {
            p12_keystore::KeyStoreEntry::PrivateKeyChain(chain) => {
                let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(chain.key().as_der().to_vec()));
                objects.push(private_key(&format!("{name} ({alias})"), key)?);
                for c in chain.certs() {
                    objects.push(certificate(name, c.as_der(), false)?);
                }
            }
            p12_keystore::KeyStoreEntry::Certificate(c) => objects.push(certificate(name, c.as_der(), false)?),
            _ => {}
        }
    }
    Ok(objects)
}

/// SubjectPublicKeyInfo { rsaEncryption, NULL } around a PKCS#1 RSAPublicKey.
fn wrap_rsa_public_key(pkcs1: &[u8]) -> Vec<u8> {
    const ALG: &[u8] = &[0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];
    let mut bit_string = vec![0u8];
    bit_string.extend_from_slice(pkcs1);
    let mut body = ALG.to_vec();
    body.extend(der_tlv(0x03, &bit_string));
    der_tlv(0x30, &body)
}

fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().iter().copied().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_password(_: &str) -> Result<Zeroizing<String>> {
        panic!("no password expected")
    }

    #[test]
    fn truncated_pem_names_the_block_and_line() {
        let text = "-----BEGIN CERTIFICATE-----\nMIIB\n";
        let err = read_objects("cut.pem", text.as_bytes(), &mut no_password).expect_err("truncated");
        let msg = err.to_string();
        assert!(msg.contains("cut.pem") && msg.contains("line 1") && msg.contains("no END"), "{msg}");
    }

    #[test]
    fn der_garbage_is_refused() {
        let err = read_objects("junk.der", &[0x30, 0x03, 0x01, 0x02, 0x03, 0xff], &mut no_password).expect_err("junk");
        assert!(err.to_string().contains("junk.der"), "{err}");
    }

    #[test]
    fn a_der_file_cut_short_is_named_truncated() {
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = rcgen::CertificateParams::new(vec!["192.168.1.10".into()])
            .expect("params")
            .self_signed(&key)
            .expect("cert");
        let der = cert.der().to_vec();
        let err = read_certificates("c.cer", &der[..der.len() / 2]).expect_err("truncated").to_string();
        assert!(
            err.contains(&format!("truncated DER: it announces {} bytes but holds {}", der.len(), der.len() / 2)),
            "{err}"
        );
        assert_eq!(der_truncated(&der), None);
        assert_eq!(der_truncated(b"\x30"), None);
        assert_eq!(der_truncated(b"\x30\x85\x01"), None);
        assert_eq!(der_truncated(b"\x30\x05ab"), Some(7));
    }

    #[test]
    fn a_private_key_is_not_a_certificate() {
        let key = rcgen::KeyPair::generate().expect("key");
        let err = read_certificates("k.pem", key.serialize_pem().as_bytes()).expect_err("key");
        assert!(err.to_string().contains("private key"), "{err}");
    }

    #[test]
    fn rsa_public_key_wrapping_matches_the_spki_of_the_private_key() {
        let key = rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048).expect("rsa");
        let spki = key.subject_public_key_info();
        let (_, parsed) = x509_parser::x509::SubjectPublicKeyInfo::from_der(&spki).expect("spki");
        let pkcs1 = parsed.subject_public_key.data.to_vec();
        assert_eq!(wrap_rsa_public_key(&pkcs1), spki);
    }
}
