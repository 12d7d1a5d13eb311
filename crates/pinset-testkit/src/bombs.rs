//! Decoding bombs: small PKCS#12 files that ask whoever opens them for minutes of key
//! derivation or a gigabyte of memory, built field by field (no tool writes such files on
//! purpose). pinset must refuse each before doing the work.

use der::asn1::OctetString;
use der::{Any, Decode, Encode};
use pkcs12::cms::content_info::ContentInfo;
use pkcs12::pbe_params::EncryptedPrivateKeyInfo;
use pkcs12::pfx::{Pfx, Version};
use pkcs12::{DigestInfo, MacData, SafeBag};
use spki::{AlgorithmIdentifierOwned, ObjectIdentifier};

const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const SHROUDED_KEY_BAG: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.2");
const PBES2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.13");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");

/// 200 encrypted key bags of 1,000,000 PBKDF2 iterations each, with a MAC (about 53 KB):
/// 200 million rounds before the first key, 25 seconds where it was measured.
pub fn pkcs12_many_key_bags() -> Vec<u8> {
    let bags: Vec<SafeBag> = (0..200).map(|_| shrouded_bag(pbkdf2(1_000_000))).collect();
    pfx(&bags, true)
}

/// One encrypted key bag whose key comes from scrypt with N=2^20, r=8, p=16 (under 400
/// bytes): a gigabyte of memory and 46 seconds where it was measured.
pub fn pkcs12_scrypt_gigabyte() -> Vec<u8> {
    let params = pkcs5::scrypt::Params::new(4, 8, 1).expect("scrypt parameters");
    let mut pbes2 =
        pkcs5::pbes2::Parameters::generate_scrypt_aes256cbc(params, &[7; 16], [9; 16]).expect("PBES2 parameters");
    if let pkcs5::pbes2::Kdf::Scrypt(s) = &mut pbes2.kdf {
        s.cost_parameter = 1 << 20;
        s.parallelization = 16;
    }
    let alg = AlgorithmIdentifierOwned {
        oid: PBES2,
        parameters: Some(Any::from_der(&pbes2.to_der().expect("encode")).expect("any")),
    };
    pfx(&[shrouded_bag(alg)], false)
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

fn pfx(bags: &[SafeBag], mac: bool) -> Vec<u8> {
    let octets = OctetString::new(bags.to_vec().to_der().expect("bags")).expect("octets");
    let data =
        ContentInfo { content_type: ID_DATA, content: Any::from_der(&octets.to_der().expect("encode")).expect("any") };
    let auth_safe = OctetString::new(vec![data].to_der().expect("safes")).expect("octets");
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
