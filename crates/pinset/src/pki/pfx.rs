//! Reading PKCS#12 (PFX) files: the integrity MAC, the encrypted containers and the
//! shrouded key bags, with the work a file asks for added up and bounded *before* any of
//! it is done.
//!
//! A PKCS#12 file names its own key-derivation costs, so a small file can ask for minutes
//! of work or gigabytes of memory (200 key bags of 1,000,000 iterations each; one scrypt
//! bag with N = 2^20, r = 8, p = 16). p12-keystore, which writes pinset's files, decrypts
//! while it parses and bounds each derivation alone, so reading is done here on the same
//! RustCrypto structures (`pkcs12`, `cms`, `pkcs5`): the whole file is parsed, its costs
//! summed and checked against [`MAX_KDF_ROUNDS`] and the scrypt limits, then the password
//! is tried; bags that only appear once a container is decrypted are counted again before
//! any of them is opened.

use std::fmt::Write as _;

use der::asn1::{BmpString, OctetString};
use der::{Any, AnyRef, Decode, Encode};
use pkcs12::cms::content_info::ContentInfo;
use pkcs12::cms::encrypted_data::EncryptedData;
use pkcs12::kdf::{self, Pkcs12KeyType};
use pkcs12::pbe_params::{EncryptedPrivateKeyInfo, Pkcs12PbeParams};
use pkcs12::pfx::Pfx;
use pkcs12::{CertBag, MacData, SafeBag};
use spki::{AlgorithmIdentifierOwned, ObjectIdentifier};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// The most key-derivation rounds (one round: one iteration of PBKDF2 or of the PKCS#12
/// KDF, producing one hash-sized block) pinset spends on one PKCS#12 file, the empty
/// password tries included. OpenSSL writes 2,048 iterations per derivation and pinset
/// 10,000; a file made with 1,000,000 (above OWASP's 600,000 for PBKDF2) for its MAC, its
/// certificates and its key still opens, tries included (about 5,000,000 rounds, well under
/// a second). 200 key bags of 1,000,000 each ask forty times this.
#[cfg(not(fuzzing))]
pub const MAX_KDF_ROUNDS: u64 = 6_000_000;
/// Under the fuzzer the same checks run with a budget a hundred times smaller, so that
/// every input takes milliseconds.
#[cfg(fuzzing)]
pub const MAX_KDF_ROUNDS: u64 = 60_000;

/// The most memory one scrypt derivation may take (128·N·r bytes): OpenSSL's own default
/// limit (`SCRYPT_MAX_MEM`, 32 MiB), so every file OpenSSL opens still opens here.
pub const MAX_SCRYPT_MEMORY: u64 = 32 * 1024 * 1024;

/// The most scrypt work (N·r·p summed over the file) pinset does for one PKCS#12 file:
/// four derivations at OpenSSL's default N = 16384, r = 8, p = 1, each about 50 ms.
#[cfg(not(fuzzing))]
pub const MAX_SCRYPT_WORK: u64 = 4 * 16384 * 8;
/// Under the fuzzer, a budget for small scrypt parameters only (milliseconds per input).
#[cfg(fuzzing)]
pub const MAX_SCRYPT_WORK: u64 = 1024 * 8;

/// How deep safeContentsBags may nest: real files never nest; a fuzzer nests until the
/// stack runs out.
const MAX_NESTING: usize = 4;

const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_ENCRYPTED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.6");
const KEY_BAG: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.1");
const SHROUDED_KEY_BAG: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.2");
const CERT_BAG: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.3");
const SAFE_CONTENTS_BAG: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.6");
const X509_CERTIFICATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.22.1");
const FRIENDLY_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.20");
const LOCAL_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.21");
const PBES2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.13");
const PBE_SHA1_3DES: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.3");
const PBE_SHA1_RC2_128: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.5");
const PBE_SHA1_RC2_40: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.6");
const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const SHA224: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.4");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");

/// A private key found in a PKCS#12 file.
pub struct Pkcs12Key {
    /// The key, PKCS#8 DER.
    pub pkcs8: Zeroizing<Vec<u8>>,
    /// Its localKeyId attribute, which names the certificate that goes with it.
    pub local_key_id: Option<Vec<u8>>,
    /// Its friendlyName attribute (the alias keytool and Keychain show).
    pub friendly_name: Option<String>,
}

/// A certificate found in a PKCS#12 file.
pub struct Pkcs12Cert {
    /// The certificate, DER.
    pub der: Vec<u8>,
    /// Its localKeyId attribute (set on the certificate of a key).
    pub local_key_id: Option<Vec<u8>>,
}

/// Everything pinset reads from a PKCS#12 file, in file order.
pub struct Pkcs12Contents {
    /// The private keys.
    pub keys: Vec<Pkcs12Key>,
    /// The X.509 certificates.
    pub certs: Vec<Pkcs12Cert>,
    /// Bags pinset does not read (CRLs, secrets, other certificate types), counted so a
    /// file holding only those is described as such.
    pub other_bags: usize,
}

/// The password a file is opened with. OpenSSL tries the empty password both as the
/// empty string (two zero bytes in the PKCS#12 KDF) and as no password at all.
#[derive(Clone, Copy)]
enum Password<'a> {
    Text(&'a str),
    Absent,
}

impl Password<'_> {
    /// The bytes PBES2 (PKCS#5) derives from: the UTF-8 text.
    fn utf8(&self) -> &[u8] {
        match self {
            Password::Text(t) => t.as_bytes(),
            Password::Absent => &[],
        }
    }
}

/// The work of one key derivation, before it is done.
#[derive(Clone, Copy, Default)]
struct Cost {
    rounds: u64,
    scrypt: u64,
}

/// What a file asks for, by part, for the refusal message.
#[derive(Default)]
struct Tally {
    mac: u64,
    containers: (usize, u64),
    keys: (usize, u64),
    scrypt: u64,
}

impl Tally {
    fn total(&self) -> u64 {
        self.mac.saturating_add(self.containers.1).saturating_add(self.keys.1)
    }
}

/// The work done so far, refusing any derivation that would pass the limits.
struct Meter<'a> {
    source: &'a str,
    spent: Cost,
}

impl Meter<'_> {
    /// Refuses when `ahead` (the work of `what`) would take the total past the limits.
    fn check(&self, ahead: Cost, what: &str) -> Result<()> {
        let rounds = self.spent.rounds.saturating_add(ahead.rounds);
        if rounds > MAX_KDF_ROUNDS {
            return Err(too_much_work(
                self.source,
                &format!("{} key-derivation rounds ({what}: {})", thousands(rounds), thousands(ahead.rounds)),
                &format!("{} rounds", thousands(MAX_KDF_ROUNDS)),
            ));
        }
        let scrypt = self.spent.scrypt.saturating_add(ahead.scrypt);
        if scrypt > MAX_SCRYPT_WORK {
            return Err(too_much_work(
                self.source,
                &format!("scrypt work N·r·p of {} ({what})", thousands(scrypt)),
                &thousands(MAX_SCRYPT_WORK),
            ));
        }
        Ok(())
    }

    /// Counts the work of one derivation about to run, refusing it past the limits.
    fn charge(&mut self, cost: Cost, what: &str) -> Result<()> {
        self.check(cost, what)?;
        self.spent.rounds += cost.rounds;
        self.spent.scrypt += cost.scrypt;
        Ok(())
    }
}

fn too_much_work(source: &str, asked: &str, limit: &str) -> Error {
    Error::bad_input(
        source,
        format!("this PKCS#12 file asks for {asked}, more than the {limit} pinset spends on one file"),
        Some("a file exported by a real tool needs far less: export it again with its default settings"),
    )
}

/// One entry of the AuthenticatedSafe.
enum Safe {
    /// Bags anyone can read (the key bags inside may still be shrouded).
    Plain(Vec<SafeBag>),
    /// Bags encrypted with a password.
    Encrypted { alg: AlgorithmIdentifierOwned, data: Vec<u8> },
}

/// A key bag as found, before its key is decrypted.
enum KeyBag {
    Plain(Zeroizing<Vec<u8>>),
    Shrouded(EncryptedPrivateKeyInfo),
}

#[derive(Default)]
struct Found {
    keys: Vec<(KeyBag, Option<Vec<u8>>, Option<String>)>,
    certs: Vec<Pkcs12Cert>,
    other_bags: usize,
}

impl Found {
    fn shrouded_costs(&self, source: &str) -> Result<Vec<Cost>> {
        self.keys
            .iter()
            .filter_map(|(k, ..)| match k {
                KeyBag::Shrouded(epki) => Some(cost_of(source, &epki.encryption_algorithm)),
                KeyBag::Plain(_) => None,
            })
            .collect()
    }
}

/// Opens a PKCS#12 file. The empty password is tried first, so a file without one opens
/// without asking; `ask` is called only when a password is needed, at most once.
pub(crate) fn open(
    source: &str,
    der: &[u8],
    ask: &mut dyn FnMut() -> Result<Zeroizing<String>>,
) -> Result<Pkcs12Contents> {
    let malformed = |e: der::Error| {
        Error::bad_input(
            source,
            format!("not a valid PKCS#12 file: {e}"),
            Some("the file may be truncated or damaged; export it again"),
        )
    };
    let pfx = Pfx::from_der(der).map_err(malformed)?;
    if pfx.auth_safe.content_type == ID_SIGNED_DATA {
        return Err(Error::bad_input(
            source,
            "uses public-key integrity (a signed PKCS#12), which pinset does not read",
            Some("export it again with password integrity, the mode every common tool writes"),
        ));
    }
    if pfx.auth_safe.content_type != ID_DATA {
        return Err(Error::bad_input(source, "not a valid PKCS#12 file: its content is not data", None));
    }
    let auth_safe = pfx.auth_safe.content.decode_as::<OctetString>().map_err(malformed)?;
    let mac_data = pfx.mac_data;
    let infos = Vec::<ContentInfo>::from_der(auth_safe.as_bytes()).map_err(malformed)?;
    let mut safes = Vec::new();
    for info in infos {
        safes.push(read_safe(source, &info)?);
    }

    // Everything visible before a password is used: refuse a bomb before any work.
    let mut tally = Tally::default();
    let mut visible = Found::default();
    for safe in &safes {
        match safe {
            Safe::Plain(bags) => collect_bags(source, bags, 0, &mut visible)?,
            Safe::Encrypted { alg, .. } => {
                let c = cost_of(source, alg)?;
                tally.containers.0 += 1;
                tally.containers.1 = tally.containers.1.saturating_add(c.rounds);
                tally.scrypt = tally.scrypt.saturating_add(c.scrypt);
            }
        }
    }
    for c in visible.shrouded_costs(source)? {
        tally.keys.0 += 1;
        tally.keys.1 = tally.keys.1.saturating_add(c.rounds);
        tally.scrypt = tally.scrypt.saturating_add(c.scrypt);
    }
    if let Some(mac) = &mac_data {
        tally.mac = mac_cost(source, mac)?.rounds;
    }
    check_tally(source, &tally)?;

    let needs_password = mac_data.is_some()
        || safes.iter().any(|s| matches!(s, Safe::Encrypted { .. }))
        || visible.keys.iter().any(|(k, ..)| matches!(k, KeyBag::Shrouded(_)));
    let mut meter = Meter { source, spent: Cost::default() };
    if !needs_password {
        return decrypt_all(source, &safes, Password::Absent, &mut meter).map_err(|e| e.into_error(source, None));
    }
    if let Some(mac) = &mac_data {
        let data = pfx.auth_safe.content.value();
        for empty in [Password::Text(""), Password::Absent] {
            if verify_mac(source, mac, empty, data, &mut meter)? {
                return decrypt_all(source, &safes, empty, &mut meter).map_err(|e| e.into_error(source, None));
            }
        }
        let given = ask()?;
        if !verify_mac(source, mac, Password::Text(&given), data, &mut meter)? {
            return Err(Error::WrongPassword { path: source.to_string(), reason: "its integrity check failed" });
        }
        return decrypt_all(source, &safes, Password::Text(&given), &mut meter).map_err(|e| e.into_error(source, None));
    }
    // No MAC: a wrong password shows only as content that does not decrypt.
    match decrypt_all(source, &safes, Password::Text(""), &mut meter) {
        Ok(contents) => Ok(contents),
        Err(Failure::Error(e)) => Err(e),
        Err(Failure::Undecryptable) => {
            let given = ask()?;
            decrypt_all(source, &safes, Password::Text(&given), &mut meter).map_err(|e| {
                e.into_error(source, Some("its content does not decrypt, and with no integrity check in the file pinset cannot tell a wrong password from damage"))
            })
        }
    }
}

fn check_tally(source: &str, t: &Tally) -> Result<()> {
    if t.total() > MAX_KDF_ROUNDS {
        let mut parts = Vec::new();
        if t.mac > 0 {
            parts.push(format!("the MAC {}", thousands(t.mac)));
        }
        if t.containers.0 > 0 {
            parts.push(format!("{} encrypted container(s) {}", t.containers.0, thousands(t.containers.1)));
        }
        if t.keys.0 > 0 {
            parts.push(format!("{} encrypted key bag(s) {}", t.keys.0, thousands(t.keys.1)));
        }
        return Err(too_much_work(
            source,
            &format!("{} key-derivation rounds ({})", thousands(t.total()), parts.join(", ")),
            &format!("{} rounds", thousands(MAX_KDF_ROUNDS)),
        ));
    }
    if t.scrypt > MAX_SCRYPT_WORK {
        return Err(too_much_work(
            source,
            &format!("scrypt work N·r·p of {} in all", thousands(t.scrypt)),
            &thousands(MAX_SCRYPT_WORK),
        ));
    }
    Ok(())
}

fn read_safe(source: &str, info: &ContentInfo) -> Result<Safe> {
    let malformed = |e: der::Error| Error::bad_input(source, format!("not a valid PKCS#12 file: {e}"), None);
    if info.content_type == ID_DATA {
        let octets = info.content.decode_as::<OctetString>().map_err(malformed)?;
        return Ok(Safe::Plain(Vec::<SafeBag>::from_der(octets.as_bytes()).map_err(malformed)?));
    }
    if info.content_type == ID_ENCRYPTED_DATA {
        let enc = info.content.decode_as::<EncryptedData>().map_err(malformed)?;
        let data = enc.enc_content_info.encrypted_content.map(|o| o.into_bytes().into_vec()).unwrap_or_default();
        return Ok(Safe::Encrypted { alg: enc.enc_content_info.content_enc_alg, data });
    }
    Err(Error::bad_input(
        source,
        format!("holds a container of type {}, which pinset does not read (public-key encryption?)", info.content_type),
        Some("export it again with password encryption, the mode every common tool writes"),
    ))
}

/// Sorts the bags of a SafeContents into keys, certificates and the rest.
fn collect_bags(source: &str, bags: &[SafeBag], depth: usize, found: &mut Found) -> Result<()> {
    let malformed = |e: der::Error| Error::bad_input(source, format!("not a valid PKCS#12 file: {e}"), None);
    for bag in bags {
        // bagValue is [0] EXPLICIT: the value is the content of that wrapper.
        let wrapper = AnyRef::from_der(&bag.bag_value).map_err(malformed)?;
        let value = wrapper.value();
        let local_key_id = attribute(bag, LOCAL_KEY_ID).and_then(|a| a.decode_as::<OctetString>().ok());
        let local_key_id = local_key_id.map(|o| o.into_bytes().into_vec());
        match bag.bag_id {
            KEY_BAG => {
                let name = attribute(bag, FRIENDLY_NAME).and_then(|a| a.decode_as::<BmpString>().ok());
                found.keys.push((
                    KeyBag::Plain(Zeroizing::new(value.to_vec())),
                    local_key_id,
                    name.map(|n| n.to_string()),
                ));
            }
            SHROUDED_KEY_BAG => {
                let epki = EncryptedPrivateKeyInfo::from_der(value).map_err(malformed)?;
                let name = attribute(bag, FRIENDLY_NAME).and_then(|a| a.decode_as::<BmpString>().ok());
                found.keys.push((KeyBag::Shrouded(epki), local_key_id, name.map(|n| n.to_string())));
            }
            CERT_BAG => {
                let cert = CertBag::from_der(value).map_err(malformed)?;
                if cert.cert_id == X509_CERTIFICATE {
                    found.certs.push(Pkcs12Cert { der: cert.cert_value.into_bytes().into_vec(), local_key_id });
                } else {
                    found.other_bags += 1;
                }
            }
            SAFE_CONTENTS_BAG => {
                if depth >= MAX_NESTING {
                    return Err(Error::bad_input(
                        source,
                        format!("not a valid PKCS#12 file: its bags nest more than {MAX_NESTING} deep"),
                        None,
                    ));
                }
                let inner = Vec::<SafeBag>::from_der(value).map_err(malformed)?;
                collect_bags(source, &inner, depth + 1, found)?;
            }
            _ => found.other_bags += 1,
        }
    }
    Ok(())
}

fn attribute(bag: &SafeBag, oid: ObjectIdentifier) -> Option<&Any> {
    bag.bag_attributes.as_ref()?.iter().find(|a| a.oid == oid)?.values.iter().next()
}

/// Why decrypting failed: the password (or damage), or something to report as it is.
enum Failure {
    Undecryptable,
    Error(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Error(e)
    }
}

impl Failure {
    fn into_error(self, source: &str, no_mac: Option<&'static str>) -> Error {
        match self {
            Failure::Error(e) => e,
            Failure::Undecryptable => match no_mac {
                Some(reason) => Error::WrongPassword { path: source.to_string(), reason },
                None => Error::bad_input(
                    source,
                    "its integrity check passed but its content does not decrypt",
                    Some("the file is damaged or was written by a broken tool; export it again"),
                ),
            },
        }
    }
}

/// Decrypts every container, then (the hidden key bags counted) every key.
fn decrypt_all(
    source: &str,
    safes: &[Safe],
    password: Password<'_>,
    meter: &mut Meter<'_>,
) -> std::result::Result<Pkcs12Contents, Failure> {
    let mut found = Found::default();
    for safe in safes {
        match safe {
            Safe::Plain(bags) => collect_bags(source, bags, 0, &mut found)?,
            Safe::Encrypted { alg, data } => {
                let plain = decrypt(source, alg, data, password, meter)?;
                // Garbage after a lucky padding byte is a wrong password, not damage.
                let bags = Vec::<SafeBag>::from_der(&plain).map_err(|_| Failure::Undecryptable)?;
                collect_bags(source, &bags, 0, &mut found)?;
            }
        }
    }
    // Key bags hidden inside encrypted containers are seen only now: count them all
    // before opening any.
    let rest = found.shrouded_costs(source)?;
    let ahead = rest.iter().fold(Cost::default(), |a, c| Cost {
        rounds: a.rounds.saturating_add(c.rounds),
        scrypt: a.scrypt.saturating_add(c.scrypt),
    });
    meter.check(ahead, &format!("{} encrypted key bag(s)", rest.len()))?;
    let mut keys = Vec::new();
    for (bag, local_key_id, friendly_name) in found.keys {
        let pkcs8 = match bag {
            KeyBag::Plain(der) => der,
            KeyBag::Shrouded(epki) => {
                let plain =
                    decrypt(source, &epki.encryption_algorithm, epki.encrypted_data.as_bytes(), password, meter)?;
                // A wrong password that slips past the padding check leaves no PKCS#8.
                if pkcs8::PrivateKeyInfoRef::from_der(&plain).is_err() {
                    return Err(Failure::Undecryptable);
                }
                plain
            }
        };
        keys.push(Pkcs12Key { pkcs8, local_key_id, friendly_name });
    }
    Ok(Pkcs12Contents { keys, certs: found.certs, other_bags: found.other_bags })
}

/// The cost of one encryption algorithm's key derivation, checked against the per-run
/// scrypt memory limit.
fn cost_of(source: &str, alg: &AlgorithmIdentifierOwned) -> Result<Cost> {
    let iterations = |n: i64| -> Result<u64> {
        u64::try_from(n).ok().filter(|n| *n > 0).ok_or_else(|| {
            Error::bad_input(source, format!("not a valid PKCS#12 file: an iteration count of {n}"), None)
        })
    };
    match alg.oid {
        // Key (24 bytes: two SHA-1 blocks) and IV (one block), each `iterations` rounds.
        PBE_SHA1_3DES => Ok(Cost { rounds: iterations(pbe_params(source, alg)?.iterations.into())? * 3, scrypt: 0 }),
        PBE_SHA1_RC2_40 | PBE_SHA1_RC2_128 => {
            Ok(Cost { rounds: iterations(pbe_params(source, alg)?.iterations.into())? * 2, scrypt: 0 })
        }
        PBES2 => {
            let params = pbes2_params(source, alg)?;
            match &params.kdf {
                pkcs5::pbes2::Kdf::Pbkdf2(p) => {
                    // PBKDF2 runs its iterations once per block of the PRF's output.
                    let block = match p.prf {
                        pkcs5::pbes2::Pbkdf2Prf::HmacWithSha1 => 20,
                        pkcs5::pbes2::Pbkdf2Prf::HmacWithSha224 => 28,
                        pkcs5::pbes2::Pbkdf2Prf::HmacWithSha256 => 32,
                        pkcs5::pbes2::Pbkdf2Prf::HmacWithSha384 => 48,
                        _ => 64,
                    };
                    let blocks = params.encryption.key_size().div_ceil(block).max(1) as u64;
                    Ok(Cost { rounds: iterations(p.iteration_count.into())?.saturating_mul(blocks), scrypt: 0 })
                }
                pkcs5::pbes2::Kdf::Scrypt(s) => {
                    let (n, r, p) = (s.cost_parameter, u64::from(s.block_size), u64::from(s.parallelization));
                    let memory = 128u64.saturating_mul(n).saturating_mul(r);
                    if memory > MAX_SCRYPT_MEMORY {
                        return Err(Error::bad_input(
                            source,
                            format!(
                                "this PKCS#12 file asks for scrypt with N={n}, r={r}, p={p}, which needs {} MiB of \
                                 memory; pinset allows {} MiB (OpenSSL's own default limit)",
                                memory / (1024 * 1024),
                                MAX_SCRYPT_MEMORY / (1024 * 1024)
                            ),
                            Some(
                                "a file exported by a real tool needs far less: export it again with its default settings",
                            ),
                        ));
                    }
                    Ok(Cost { rounds: 0, scrypt: n.saturating_mul(r).saturating_mul(p) })
                }
                _ => Err(unsupported(source, "a PBES2 key derivation")),
            }
        }
        other => Err(unsupported(source, &algorithm_name(other))),
    }
}

fn algorithm_name(oid: ObjectIdentifier) -> String {
    match oid.to_string().as_str() {
        "1.2.840.113549.1.12.1.1" => "pbeWithSHAAnd128BitRC4".into(),
        "1.2.840.113549.1.12.1.2" => "pbeWithSHAAnd40BitRC4".into(),
        "1.2.840.113549.1.12.1.4" => "pbeWithSHAAnd2-KeyTripleDES-CBC".into(),
        other => format!("the algorithm {other}"),
    }
}

fn unsupported(source: &str, what: &str) -> Error {
    Error::bad_input(
        source,
        format!("is encrypted with {what}, which pinset does not read"),
        Some("export it again with AES (PBES2) or 3DES, which every common tool reads"),
    )
}

fn pbe_params(source: &str, alg: &AlgorithmIdentifierOwned) -> Result<Pkcs12PbeParams> {
    alg.parameters
        .as_ref()
        .ok_or_else(|| der::Error::from(der::Tag::Sequence.value_error()))
        .and_then(|p| p.decode_as::<Pkcs12PbeParams>())
        .map_err(|e| Error::bad_input(source, format!("not a valid PKCS#12 file: encryption parameters: {e}"), None))
}

fn pbes2_params(source: &str, alg: &AlgorithmIdentifierOwned) -> Result<pkcs5::pbes2::Parameters> {
    let der = alg.parameters.as_ref().map(Encode::to_der).transpose().ok().flatten();
    der.and_then(|d| pkcs5::pbes2::Parameters::from_der(&d).ok()).ok_or_else(|| {
        Error::bad_input(
            source,
            "not a valid PKCS#12 file: PBES2 parameters that pinset cannot read",
            Some("export it again with AES (PBES2) or 3DES, which every common tool reads"),
        )
    })
}

fn mac_cost(source: &str, mac: &MacData) -> Result<Cost> {
    let n = u64::try_from(mac.iterations).ok().filter(|n| *n > 0).ok_or_else(|| {
        Error::bad_input(source, format!("not a valid PKCS#12 file: a MAC iteration count of {}", mac.iterations), None)
    })?;
    Ok(Cost { rounds: n, scrypt: 0 })
}

/// Whether the MAC verifies with `password`; the derivation is charged first.
fn verify_mac(source: &str, mac: &MacData, password: Password<'_>, data: &[u8], meter: &mut Meter<'_>) -> Result<bool> {
    use aws_lc_rs::hmac;
    let (alg, len) = match mac.mac.algorithm.oid {
        SHA1 => (hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, 20),
        SHA224 => (hmac::HMAC_SHA224, 28),
        SHA256 => (hmac::HMAC_SHA256, 32),
        SHA384 => (hmac::HMAC_SHA384, 48),
        SHA512 => (hmac::HMAC_SHA512, 64),
        other => return Err(unsupported(source, &format!("a MAC over the digest {other}"))),
    };
    meter.charge(mac_cost(source, mac)?, "the MAC")?;
    let salt = mac.mac_salt.as_bytes();
    let key = match mac.mac.algorithm.oid {
        SHA1 => pkcs12_kdf::<sha1::Sha1>(source, password, salt, Pkcs12KeyType::Mac, mac.iterations, len)?,
        SHA224 => pkcs12_kdf::<sha2::Sha224>(source, password, salt, Pkcs12KeyType::Mac, mac.iterations, len)?,
        SHA256 => pkcs12_kdf::<sha2::Sha256>(source, password, salt, Pkcs12KeyType::Mac, mac.iterations, len)?,
        SHA384 => pkcs12_kdf::<sha2::Sha384>(source, password, salt, Pkcs12KeyType::Mac, mac.iterations, len)?,
        _ => pkcs12_kdf::<sha2::Sha512>(source, password, salt, Pkcs12KeyType::Mac, mac.iterations, len)?,
    };
    let key = hmac::Key::new(alg, &key);
    Ok(hmac::verify(&key, data, mac.mac.digest.as_bytes()).is_ok())
}

fn pkcs12_kdf<D>(
    source: &str,
    password: Password<'_>,
    salt: &[u8],
    id: Pkcs12KeyType,
    rounds: i32,
    len: usize,
) -> Result<Zeroizing<Vec<u8>>>
where
    D: sha2::Digest + sha2::digest::FixedOutputReset + sha2::digest::block_api::BlockSizeUser,
{
    match password {
        Password::Text(t) => kdf::derive_key_utf8::<D>(t, salt, id, rounds, len).map(Zeroizing::new).map_err(|_| {
            Error::bad_input(
                source,
                "the password holds characters a PKCS#12 password cannot (outside Unicode's basic plane)",
                None,
            )
        }),
        Password::Absent => Ok(Zeroizing::new(kdf::derive_key::<D>(&[], salt, id, rounds, len))),
    }
}

/// Decrypts `data`; the derivation is charged first. A bad padding is `Undecryptable`.
fn decrypt(
    source: &str,
    alg: &AlgorithmIdentifierOwned,
    data: &[u8],
    password: Password<'_>,
    meter: &mut Meter<'_>,
) -> std::result::Result<Zeroizing<Vec<u8>>, Failure> {
    use cbc::cipher::block_padding::Pkcs7;
    use cbc::cipher::{BlockModeDecrypt as _, KeyIvInit as _};
    meter.charge(cost_of(source, alg)?, "a decryption")?;
    match alg.oid {
        PBES2 => {
            let params = pbes2_params(source, alg)?;
            params.decrypt(password.utf8(), data).map(Zeroizing::new).map_err(|e| match e {
                pkcs5::Error::DecryptFailed => Failure::Undecryptable,
                other => Failure::Error(Error::bad_input(source, format!("cannot decrypt: {other}"), None)),
            })
        }
        oid @ (PBE_SHA1_3DES | PBE_SHA1_RC2_40 | PBE_SHA1_RC2_128) => {
            let p = pbe_params(source, alg)?;
            let salt = p.salt.as_bytes();
            let key_len = match oid {
                PBE_SHA1_3DES => 24,
                PBE_SHA1_RC2_128 => 16,
                _ => 5,
            };
            let key =
                pkcs12_kdf::<sha1::Sha1>(source, password, salt, Pkcs12KeyType::EncryptionKey, p.iterations, key_len)?;
            let iv = pkcs12_kdf::<sha1::Sha1>(source, password, salt, Pkcs12KeyType::Iv, p.iterations, 8)?;
            let plain = match oid {
                PBE_SHA1_3DES => cbc::Decryptor::<des::TdesEde3>::new_from_slices(&key, &iv)
                    .map_err(|_| Failure::Undecryptable)?
                    .decrypt_padded_vec::<Pkcs7>(data),
                _ => cbc::Decryptor::<rc2::Rc2>::new_from_slices(&key, &iv)
                    .map_err(|_| Failure::Undecryptable)?
                    .decrypt_padded_vec::<Pkcs7>(data),
            };
            plain.map(Zeroizing::new).map_err(|_| Failure::Undecryptable)
        }
        other => Err(Failure::Error(unsupported(source, &algorithm_name(other)))),
    }
}

/// 1234567 as "1,234,567".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        let _ = write!(out, "{c}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pkcs12::DigestInfo;
    use pkcs12::pfx::Version;

    fn no_password() -> Result<Zeroizing<String>> {
        panic!("no password may be asked for")
    }

    fn pbkdf2(iterations: u32) -> AlgorithmIdentifierOwned {
        let params = pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(iterations, &[7; 16], [9; 16])
            .expect("PBES2 parameters");
        AlgorithmIdentifierOwned {
            oid: PBES2,
            parameters: Some(Any::from_der(&params.to_der().expect("encode")).expect("any")),
        }
    }

    /// A shrouded key bag whose ciphertext is never reached: the refusal comes first.
    fn shrouded_bag(alg: AlgorithmIdentifierOwned) -> SafeBag {
        let epki = EncryptedPrivateKeyInfo {
            encryption_algorithm: alg,
            encrypted_data: OctetString::new(vec![0u8; 48]).expect("octets"),
        };
        SafeBag { bag_id: SHROUDED_KEY_BAG, bag_value: epki.to_der().expect("encode"), bag_attributes: None }
    }

    fn data(bags: &[SafeBag]) -> ContentInfo {
        let octets = OctetString::new(bags.to_vec().to_der().expect("bags")).expect("octets");
        ContentInfo { content_type: ID_DATA, content: Any::from_der(&octets.to_der().expect("encode")).expect("any") }
    }

    /// An encrypted container holding `bags`, encrypted for real (with the empty password
    /// and 1,000 iterations), as a MAC-less file made by a hostile tool would carry it.
    fn encrypted(bags: &[SafeBag]) -> ContentInfo {
        let alg = pbkdf2(1000);
        let plain = bags.to_vec().to_der().expect("bags");
        let params = pkcs5::pbes2::Parameters::from_der(&alg.parameters.as_ref().expect("p").to_der().expect("der"))
            .expect("params");
        let ciphertext = params.encrypt(b"", &plain).expect("encrypt");
        let enc = EncryptedData {
            version: pkcs12::cms::content_info::CmsVersion::V0,
            enc_content_info: pkcs12::cms::enveloped_data::EncryptedContentInfo {
                content_type: ID_DATA,
                content_enc_alg: alg,
                encrypted_content: Some(OctetString::new(ciphertext).expect("octets")),
            },
            unprotected_attrs: None,
        };
        ContentInfo {
            content_type: ID_ENCRYPTED_DATA,
            content: Any::from_der(&enc.to_der().expect("encode")).expect("any"),
        }
    }

    fn pfx(safes: Vec<ContentInfo>, mac: bool) -> Vec<u8> {
        let auth_safe = OctetString::new(safes.to_der().expect("safes")).expect("octets");
        let mac_data = mac.then(|| MacData {
            mac: DigestInfo {
                algorithm: AlgorithmIdentifierOwned { oid: SHA256, parameters: None },
                digest: OctetString::new(vec![0u8; 32]).expect("digest"),
            },
            mac_salt: OctetString::new(vec![1u8; 8]).expect("salt"),
            iterations: 2048,
        });
        Pfx {
            version: Version::V3,
            auth_safe: ContentInfo {
                content_type: ID_DATA,
                content: Any::from_der(&auth_safe.to_der().expect("encode")).expect("any"),
            },
            mac_data,
        }
        .to_der()
        .expect("pfx")
    }

    #[test]
    fn two_hundred_key_bags_of_a_million_iterations_are_refused_before_any_work() {
        let bags: Vec<SafeBag> = (0..200).map(|_| shrouded_bag(pbkdf2(1_000_000))).collect();
        let file = pfx(vec![data(&bags)], true);
        assert!(file.len() > 20_000, "a file of the reported shape: {} bytes", file.len());
        let err = open("bomb.p12", &file, &mut no_password).err().expect("refused").to_string();
        assert!(
            err.contains("bomb.p12")
                && err.contains("200 encrypted key bag(s) 200,000,000")
                && err.contains("the 6,000,000 rounds pinset spends on one file"),
            "{err}"
        );
    }

    #[test]
    fn scrypt_asking_for_a_gigabyte_is_refused_before_any_work() {
        let params = pkcs5::scrypt::Params::new(4, 8, 1).expect("scrypt params");
        let mut pbes2 =
            pkcs5::pbes2::Parameters::generate_scrypt_aes256cbc(params, &[7; 16], [9; 16]).expect("PBES2 parameters");
        match &mut pbes2.kdf {
            pkcs5::pbes2::Kdf::Scrypt(s) => {
                s.cost_parameter = 1 << 20;
                s.parallelization = 16;
            }
            _ => panic!("scrypt expected"),
        }
        let alg = AlgorithmIdentifierOwned {
            oid: PBES2,
            parameters: Some(Any::from_der(&pbes2.to_der().expect("encode")).expect("any")),
        };
        let file = pfx(vec![data(&[shrouded_bag(alg)])], false);
        assert!(file.len() < 400, "a file of the reported shape: {} bytes", file.len());
        let err = open("scrypt.p12", &file, &mut no_password).err().expect("refused").to_string();
        assert!(
            err.contains("N=1048576, r=8, p=16") && err.contains("1024 MiB") && err.contains("pinset allows 32 MiB"),
            "{err}"
        );
    }

    #[test]
    fn key_bags_hidden_in_an_encrypted_container_are_counted_before_they_are_opened() {
        let bags: Vec<SafeBag> = (0..20).map(|_| shrouded_bag(pbkdf2(1_000_000))).collect();
        let file = pfx(vec![encrypted(&bags)], false);
        let err = open("hidden.p12", &file, &mut no_password).err().expect("refused").to_string();
        assert!(err.contains("20 encrypted key bag(s): 20,000,000") && err.contains("6,000,000"), "{err}");
    }

    #[test]
    fn a_file_without_a_password_opens_without_asking() {
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = rcgen::CertificateParams::new(vec!["192.168.1.10".into()])
            .expect("params")
            .self_signed(&key)
            .expect("cert");
        let file =
            crate::pki::pkcs12("k", &key.serialize_der(), &[cert.der().to_vec()], "", crate::pki::P12Profile::Modern)
                .expect("pkcs12");
        let contents = open("nopw.p12", &file, &mut no_password).expect("opens");
        assert_eq!((contents.keys.len(), contents.certs.len()), (1, 1));
        assert_eq!(contents.certs[0].der, cert.der().to_vec());
    }

    #[test]
    fn a_wrong_password_on_a_file_with_a_mac_is_named() {
        let key = rcgen::KeyPair::generate().expect("key");
        let file = crate::pki::pkcs12("k", &key.serialize_der(), &[], "right", crate::pki::P12Profile::Legacy)
            .expect("pkcs12");
        let mut asked = 0;
        let mut wrong = || {
            asked += 1;
            Ok(Zeroizing::new("wrong".to_string()))
        };
        let err = open("w.p12", &file, &mut wrong).err().expect("refused");
        assert!(matches!(err, Error::WrongPassword { .. }), "{err}");
        assert_eq!(asked, 1);
        let contents = open("w.p12", &file, &mut || Ok(Zeroizing::new("right".to_string()))).expect("opens");
        assert_eq!(contents.keys.len(), 1);
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(200_002_048), "200,002,048");
    }
}
