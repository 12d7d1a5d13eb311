//! Reading what users hand pinset: PEM or DER certificates and bundles, public and private
//! keys (PKCS#8, SEC1, PKCS#1), CSRs and PKCS#12 files, each turned into [`Object`]s that
//! carry the SubjectPublicKeyInfo a pin is computed over.
//!
//! Inputs are read with their size bounded ([`read_limited`]); DER structures are decoded
//! with the RustCrypto `der`, `spki`, `pkcs1`, `sec1` and `pkcs8` crates and x509-parser,
//! and a key's SubjectPublicKeyInfo is kept byte for byte as its file states it, as
//! OpenSSL does, so the pin of a key is the pin of every certificate made from it.

use std::io::Read as _;
use std::path::Path;

use der::asn1::{AnyRef, BitStringRef, ObjectIdentifier};
use der::{Decode as _, Encode as _, Reader as _};
use rcgen::PublicKeyData as _;
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer};
use spki::AlgorithmIdentifierRef;
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

/// The largest input pinset reads: 16 MiB. The largest real inputs are CA bundles (the
/// whole Mozilla root store is about 220 KB of PEM) and PKCS#12 files with a chain (tens of
/// KB); an endless stream (`/dev/zero`, a pipe from `yes`) stops here instead of filling
/// memory.
pub const MAX_INPUT_BYTES: u64 = 16 * 1024 * 1024;

/// Reads an input: the file at `path_or_dash`, or standard input for `-`, refusing
/// anything larger than [`MAX_INPUT_BYTES`] before it is read whole.
pub fn read_limited(path_or_dash: &str) -> Result<Vec<u8>> {
    let stdin = path_or_dash == "-";
    let label = if stdin { "(stdin)" } else { path_or_dash };
    let too_large = |size: Option<u64>| {
        let what = match size {
            Some(n) => format!("is {} MiB", n.div_ceil(1024 * 1024)),
            None => format!("holds more than {} MiB", MAX_INPUT_BYTES / (1024 * 1024)),
        };
        Error::bad_input(
            label,
            format!(
                "{what}, more than the {} MiB pinset reads from one input (certificates, keys, bundles and \
                 PKCS#12 files are far smaller)",
                MAX_INPUT_BYTES / (1024 * 1024)
            ),
            Some("check that this is the file you meant"),
        )
    };
    let mut buf = Vec::new();
    let read = if stdin {
        std::io::stdin().lock().take(MAX_INPUT_BYTES + 1).read_to_end(&mut buf)
    } else {
        let file = std::fs::File::open(path_or_dash).map_err(|e| Error::io("cannot read", Path::new(label), e))?;
        // A regular file says its size: a big one is refused without reading it.
        if let Ok(meta) = file.metadata()
            && meta.is_file()
            && meta.len() > MAX_INPUT_BYTES
        {
            return Err(too_large(Some(meta.len())));
        }
        file.take(MAX_INPUT_BYTES + 1).read_to_end(&mut buf)
    };
    read.map_err(|e| Error::io("cannot read", Path::new(label), e))?;
    if buf.len() as u64 > MAX_INPUT_BYTES {
        return Err(too_large(None));
    }
    Ok(buf)
}

/// The UTF-8 byte-order mark some Windows editors put at the start of a text file;
/// OpenSSL skips it.
const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";

/// Reads every object in `bytes`, which came from the input named `name`.
pub fn read_objects(name: &str, bytes: &[u8], password: PasswordSource<'_>) -> Result<Vec<Object>> {
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
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
            "is a password-protected PKCS#12 file, a certificate was expected",
            Some("extract the certificate with `openssl pkcs12 -in FILE -nokeys`"),
        ))
    };
    let objects = read_objects(name, bytes, &mut no_password)?;
    // A PKCS#12 file keeps its key beside its certificates: the certificates are taken.
    let pkcs12 = DerKind::of(bytes) == Some(DerKind::Pkcs12);
    let mut certs = Vec::new();
    for o in objects {
        match o.cert_der {
            Some(der) => certs.push(der),
            None if pkcs12 => {}
            None => {
                return Err(Error::bad_input(
                    &o.source,
                    format!("is a {}, a certificate was expected", o.kind.describe()),
                    Some("give the certificate file (BEGIN CERTIFICATE), not the key or request"),
                ));
            }
        }
    }
    if certs.is_empty() {
        return Err(Error::bad_input(
            name,
            "is a PKCS#12 file holding no certificate, only a private key",
            Some("give the certificate file, or a PKCS#12 file exported with its certificate"),
        ));
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
        // RFC 1421 encryption (`Proc-Type: 4,ENCRYPTED`), as `openssl ec -aes256` and
        // `openssl rsa -aes256` still write: the body is ciphertext, not a key.
        if block.headers().get("Proc-Type").is_some_and(|v| v.contains("ENCRYPTED")) {
            let cipher = block.headers().get("DEK-Info").and_then(|d| d.split(',').next()).unwrap_or("unknown cipher");
            return Err(Error::bad_input(
                name,
                format!(
                    "PEM block {} holds an encrypted private key ({} with legacy PEM encryption, {})",
                    i + 1,
                    block.tag(),
                    cipher.escape_debug()
                ),
                Some("pin its certificate instead, or decrypt it: openssl pkey -in FILE -out plain.key"),
            ));
        }
        let object = match block.tag() {
            "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => certificate(&label, der, true)?,
            "PUBLIC KEY" => public_key(&label, der)?,
            "RSA PUBLIC KEY" => rsa_public_key(&label, der)?,
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
                    format!("PEM block {} is {:?}, which pinset does not read", i + 1, shown_label(other)),
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

/// A PEM label as a message shows it: labels are a few words, so anything longer is cut.
fn shown_label(label: &str) -> String {
    const MAX: usize = 40;
    match label.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &label[..at]),
        None => label.to_string(),
    }
}

/// A BEGIN line without its END line (a truncated download, a cut-and-paste) must be an
/// error, not a silently shorter bundle; a PEM that lost its line breaks is named as such.
fn check_pem_framing(name: &str, text: &str) -> Result<()> {
    let mut open: Option<(usize, String)> = None;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("-----BEGIN ") {
            let (label, after) = match rest.find("-----") {
                Some(end) => (&rest[..end], rest[end + 5..].trim()),
                None => (rest, ""),
            };
            let label = shown_label(label).escape_debug().to_string();
            if !after.is_empty() {
                return Err(Error::bad_input(
                    name,
                    format!(
                        "line {}: the BEGIN {label} line goes on after its closing dashes: the PEM lost its line breaks",
                        n + 1
                    ),
                    Some("put the BEGIN line, the base64 lines and the END line each on lines of their own"),
                ));
            }
            if let Some((at, label)) = open {
                return Err(truncated(name, at, &label));
            }
            open = Some((n + 1, label));
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
        Some((at, label)) => Err(truncated(name, at, &label)),
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

/// What a DER input holds, told by which structure decodes it whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DerKind {
    Certificate,
    Csr,
    PublicKey,
    RsaPublicKey,
    Pkcs8Key,
    RsaPrivateKey,
    EcPrivateKey,
    EncryptedKey,
    Pkcs12,
}

impl DerKind {
    fn of(der: &[u8]) -> Option<DerKind> {
        if x509_parser::parse_x509_certificate(der).is_ok_and(|(rest, _)| rest.is_empty()) {
            return Some(DerKind::Certificate);
        }
        if x509_parser::certification_request::X509CertificationRequest::from_der(der)
            .is_ok_and(|(rest, _)| rest.is_empty())
        {
            return Some(DerKind::Csr);
        }
        type Decodes = fn(&[u8]) -> bool;
        let kinds: [(DerKind, Decodes); 7] = [
            (DerKind::Pkcs12, |d| pkcs12::pfx::Pfx::from_der(d).is_ok()),
            (DerKind::PublicKey, |d| spki::SubjectPublicKeyInfoRef::from_der(d).is_ok()),
            (DerKind::Pkcs8Key, |d| pkcs8::PrivateKeyInfoRef::from_der(d).is_ok()),
            (DerKind::RsaPrivateKey, |d| pkcs1::RsaPrivateKeyRef::from_der(d).is_ok()),
            (DerKind::EcPrivateKey, |d| EcPrivateKeyAnyCurve::decode(d).is_some()),
            (DerKind::RsaPublicKey, |d| pkcs1::RsaPublicKeyRef::from_der(d).is_ok()),
            (DerKind::EncryptedKey, |d| pkcs8::EncryptedPrivateKeyInfoRef::from_der(d).is_ok()),
        ];
        kinds.into_iter().find(|(_, decodes)| decodes(der)).map(|(kind, _)| kind)
    }

    fn describe(self) -> &'static str {
        match self {
            DerKind::Certificate => "certificate",
            DerKind::Csr => "certificate request",
            DerKind::PublicKey | DerKind::RsaPublicKey => "public key",
            DerKind::Pkcs8Key | DerKind::RsaPrivateKey | DerKind::EcPrivateKey => "private key",
            DerKind::EncryptedKey => "encrypted private key",
            DerKind::Pkcs12 => "PKCS#12 file",
        }
    }
}

fn read_der(name: &str, der: &[u8], password: PasswordSource<'_>) -> Result<Vec<Object>> {
    let object = match DerKind::of(der) {
        Some(DerKind::Certificate) => certificate(name, der, false)?,
        Some(DerKind::Csr) => csr(name, der)?,
        Some(DerKind::PublicKey) => public_key(name, der)?,
        Some(DerKind::RsaPublicKey) => rsa_public_key(name, der)?,
        Some(DerKind::Pkcs8Key) => private_key(name, PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der.to_vec())))?,
        Some(DerKind::RsaPrivateKey) => {
            private_key(name, PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(der.to_vec())))?
        }
        Some(DerKind::EcPrivateKey) => private_key(name, PrivateKeyDer::Sec1(PrivateSec1KeyDer::from(der.to_vec())))?,
        Some(DerKind::EncryptedKey) => {
            return Err(Error::bad_input(
                name,
                "holds an encrypted private key (PKCS#8, DER)",
                Some("pin its certificate instead, or decrypt it: openssl pkey -inform DER -in FILE -out plain.key"),
            ));
        }
        Some(DerKind::Pkcs12) => return read_pkcs12(name, der, password),
        None => return Err(unreadable_der(name, der)),
    };
    Ok(vec![object])
}

/// Why a DER input decodes as nothing pinset reads: cut short, followed by bytes that are
/// not part of it, or something else altogether.
fn unreadable_der(name: &str, der: &[u8]) -> Error {
    if let Some((announced, header)) = first_element(der) {
        if announced > der.len() && header.tag() == der::Tag::Sequence {
            return Error::bad_input(
                name,
                format!("truncated DER: it announces {announced} bytes but holds {}", der.len()),
                Some("the file was cut short; copy or download it again"),
            );
        }
        if announced < der.len()
            && let Some(kind) = DerKind::of(&der[..announced])
        {
            return Error::bad_input(
                name,
                format!(
                    "is a DER {} of {announced} bytes followed by {} bytes that are not part of it",
                    kind.describe(),
                    der.len() - announced
                ),
                Some(
                    "a DER file holds exactly one object: the file is damaged, or several were joined (convert \
                     each to PEM and join those instead)",
                ),
            );
        }
    }
    Error::bad_input(
        name,
        "is neither PEM nor a DER certificate, key, CSR or PKCS#12 file",
        Some("check that this is the file you meant; `file NAME` tells what it holds"),
    )
}

/// The length (header included) and header of the first DER element of `der`, as its
/// header announces it.
fn first_element(der: &[u8]) -> Option<(usize, der::Header)> {
    let mut reader = der::SliceReader::new(der).ok()?;
    let header = der::Header::decode(&mut reader).ok()?;
    let header_len = usize::try_from(u32::from(reader.position())).ok()?;
    let len = usize::try_from(u32::from(header.length())).ok()?;
    Some((header_len.checked_add(len)?, header))
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
        return Err(Error::bad_input(
            label,
            format!("is a DER certificate of {used} bytes followed by {} bytes that are not part of it", rest.len()),
            None,
        ));
    }
    crate::cert::check_serial(label, cert.raw_serial())?;
    Ok(Object {
        source: label.to_string(),
        kind: ObjectKind::Certificate,
        spki: cert.public_key().raw.to_vec(),
        cert_der: Some(der[..used].to_vec()),
        description: crate::cert::name_to_string(cert.subject()),
    })
}

fn public_key(label: &str, der: &[u8]) -> Result<Object> {
    // Decoded whole by `spki`: the pin is over these exact bytes.
    spki::SubjectPublicKeyInfoRef::from_der(der)
        .map_err(|e| Error::bad_input(label, format!("not a valid public key: {e}"), None))?;
    Ok(Object {
        source: label.to_string(),
        kind: ObjectKind::PublicKey,
        spki: der.to_vec(),
        cert_der: None,
        description: describe_spki_der(der, "public key"),
    })
}

/// A PKCS#1 RSAPublicKey (`BEGIN RSA PUBLIC KEY`), pinned as the SubjectPublicKeyInfo that
/// holds it (rsaEncryption, NULL parameters), as OpenSSL and every certificate carry it.
fn rsa_public_key(label: &str, der: &[u8]) -> Result<Object> {
    pkcs1::RsaPublicKeyRef::from_der(der)
        .map_err(|e| Error::bad_input(label, format!("not a valid RSA public key: {e}"), None))?;
    let spki = BitStringRef::from_bytes(der)
        .and_then(|key| spki_der(pkcs1::ALGORITHM_ID, key))
        .map_err(|e| Error::bad_input(label, format!("not a valid RSA public key: {e}"), None))?;
    public_key(label, &spki)
}

fn spki_der(algorithm: AlgorithmIdentifierRef<'_>, public_key: BitStringRef<'_>) -> der::Result<Vec<u8>> {
    spki::SubjectPublicKeyInfoRef { algorithm, subject_public_key: public_key }.to_der()
}

fn describe_spki_der(spki: &[u8], fallback: &str) -> String {
    match x509_parser::x509::SubjectPublicKeyInfo::from_der(spki) {
        Ok((_, parsed)) => crate::cert::describe_spki(&parsed),
        Err(_) => fallback.into(),
    }
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
    let description = describe_spki_der(&spki, "private key");
    Ok(Object { source: label.to_string(), kind: ObjectKind::PrivateKey, spki, cert_der: None, description })
}

/// The SubjectPublicKeyInfo of a PKCS#8 private key (a PKCS#12 key bag), as its pin is
/// computed.
pub(crate) fn private_key_spki(label: &str, pkcs8: &[u8]) -> Result<Vec<u8>> {
    private_key(label, PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pkcs8.to_vec()))).map(|o| o.spki)
}

fn csr(label: &str, der: &[u8]) -> Result<Object> {
    let (rest, req) = x509_parser::certification_request::X509CertificationRequest::from_der(der)
        .map_err(|e| Error::bad_input(label, format!("not a valid certificate request: {e}"), None))?;
    if !rest.is_empty() {
        return Err(Error::bad_input(label, "trailing bytes after the certificate request", None));
    }
    let info = &req.certification_request_info;
    // The self-signature is the one proof that whoever made the request holds the key:
    // a request that fails it was altered or damaged, and its key is not to be pinned.
    // Algorithms the verifier does not know (P-521, RSA under 2048 bits …) are not a
    // failed signature and pass unchecked.
    match req.verify_signature() {
        Err(x509_parser::error::X509Error::SignatureVerificationError) if !rsa_outside_verifier(info) => {
            return Err(Error::bad_input(
                label,
                "the certificate request's self-signature does not verify: it was altered after it was signed, \
                 or it is damaged",
                Some("ask for a new request from whoever holds the key, or pin the key itself"),
            ));
        }
        _ => {}
    }
    Ok(Object {
        source: label.to_string(),
        kind: ObjectKind::Csr,
        spki: info.subject_pki.raw.to_vec(),
        cert_der: None,
        description: crate::cert::name_to_string(&info.subject),
    })
}

/// Whether a request's key is RSA of a size the signature verifier does not take (it
/// checks 2048 to 8192 bits), so a failure says nothing about the signature.
fn rsa_outside_verifier(info: &x509_parser::certification_request::X509CertificationRequestInfo<'_>) -> bool {
    let key = crate::cert::key_info(&info.subject_pki);
    key.algorithm == "RSA" && !(2048..=8192).contains(&key.bits)
}

/// id-ecPublicKey (RFC 5480).
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");

/// ECPrivateKey (RFC 5915) with its curve as written: `sec1::EcPrivateKey` reads named
/// curves only, and OpenSSL writes the whole curve there with `-param_enc explicit`.
#[derive(der::Sequence)]
struct EcPrivateKeyAnyCurve<'a> {
    version: u8,
    private_key: &'a der::asn1::OctetStringRef,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    parameters: Option<AnyRef<'a>>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    public_key: Option<BitStringRef<'a>>,
}

impl<'a> EcPrivateKeyAnyCurve<'a> {
    /// Decodes an ECPrivateKey of version 1, the only one there is.
    fn decode(der: &'a [u8]) -> Option<EcPrivateKeyAnyCurve<'a>> {
        EcPrivateKeyAnyCurve::from_der(der).ok().filter(|k| k.version == 1 && !k.private_key.is_empty())
    }
}

/// The SubjectPublicKeyInfo of an EC private key exactly as its file stores it: the
/// algorithm and curve parameters as written, and the `publicKey` field of ECPrivateKey.
/// `None` when the key is not EC or does not store its public point.
fn stored_ec_spki(key: &PrivateKeyDer<'_>) -> Option<Vec<u8>> {
    match key {
        PrivateKeyDer::Pkcs8(k) => {
            let info = pkcs8::PrivateKeyInfoRef::from_der(k.secret_pkcs8_der()).ok()?;
            if info.algorithm.oid != EC_PUBLIC_KEY {
                return None;
            }
            let ec = EcPrivateKeyAnyCurve::decode(info.private_key.as_bytes())?;
            spki_der(info.algorithm, ec.public_key?).ok()
        }
        PrivateKeyDer::Sec1(k) => {
            // The curve is the [0] field of ECPrivateKey itself.
            if let Ok(ec) = sec1::EcPrivateKey::from_der(k.secret_sec1_der()) {
                let curve = ec.parameters?.named_curve()?;
                let algorithm = AlgorithmIdentifierRef { oid: EC_PUBLIC_KEY, parameters: Some(AnyRef::from(&curve)) };
                return spki_der(algorithm, BitStringRef::from_bytes(ec.public_key?).ok()?).ok();
            }
            let ec = EcPrivateKeyAnyCurve::decode(k.secret_sec1_der())?;
            let algorithm = AlgorithmIdentifierRef { oid: EC_PUBLIC_KEY, parameters: Some(ec.parameters?) };
            spki_der(algorithm, ec.public_key?).ok()
        }
        _ => None,
    }
}

fn read_pkcs12(name: &str, der: &[u8], password: PasswordSource<'_>) -> Result<Vec<Object>> {
    let mut ask = || password(name);
    let contents = crate::pki::open_pkcs12(name, der, &mut ask)?;
    if contents.keys.is_empty() && contents.certs.is_empty() {
        let what = match contents.other_bags {
            0 => "is an empty PKCS#12 file: it holds no key and no certificate".to_string(),
            n => format!(
                "is a PKCS#12 file holding no key and no X.509 certificate, only {n} other bag(s) (CRLs, secrets)"
            ),
        };
        return Err(Error::bad_input(name, what, Some("export it again with the certificate or key to pin")));
    }
    let mut objects = Vec::new();
    for (i, key) in contents.keys.iter().enumerate() {
        let alias = key.friendly_name.clone().unwrap_or_else(|| format!("key {}", i + 1));
        let label = format!("{name} ({})", alias.escape_debug());
        objects.push(private_key(&label, PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.pkcs8.to_vec())))?);
    }
    for cert in &contents.certs {
        objects.push(certificate(name, &cert.der, false)?);
    }
    Ok(objects)
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
        assert_eq!(first_element(&der).map(|(n, _)| n), Some(der.len()));
        assert_eq!(first_element(b"\x30").map(|(n, _)| n), None);
        assert_eq!(first_element(b"\x30\x85\x01").map(|(n, _)| n), None);
        assert_eq!(first_element(b"\x30\x05ab").map(|(n, _)| n), Some(7));
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
        assert_eq!(rsa_public_key("k", &pkcs1).expect("pkcs1").spki, spki);
        let (der_pkcs1, _) = read_der_one(&pkcs1);
        assert_eq!(der_pkcs1, spki, "a DER RSAPublicKey is read too");
    }

    fn read_der_one(der: &[u8]) -> (Vec<u8>, ObjectKind) {
        let objects = read_objects("x.der", der, &mut no_password).expect("read");
        assert_eq!(objects.len(), 1);
        (objects[0].spki.clone(), objects[0].kind)
    }
}
