//! The rules table: every rule pinset lints for, as data (a stable id and the source that
//! states it), the order reports list them in, and the thresholds the rules apply. A test
//! keeps the ids unique.

use time::OffsetDateTime;
use time::macros::datetime;

/// A rule: its stable id and the source that states it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Rule {
    /// Stable identifier, as reports and JSON name it (`apple-825-days`).
    pub id: &'static str,
    /// A short citation of where the rule comes from.
    pub source: &'static str,
}

/// Apple refuses a TLS server certificate issued since 2019-07-01 that is valid for more
/// than 825 days, whatever its root.
pub const APPLE_825_DAYS: Rule = Rule {
    id: "apple-825-days",
    source: "Apple HT210176, Requirements for trusted certificates in iOS 13 and macOS 10.15: TLS server \
             certificates issued after 2019-07-01 must have a validity period of 825 days or fewer",
};
/// Apple requires an extendedKeyUsage extension with serverAuth on server certificates
/// issued since 2019-07-01; without one, iOS and macOS refuse the connection.
pub const NO_EKU: Rule = Rule {
    id: "no-eku",
    source: "Apple HT210176: TLS server certificates issued after 2019-07-01 must contain an extendedKeyUsage \
             extension with id-kp-serverAuth",
};
/// An extendedKeyUsage without serverAuth forbids TLS server use: every verifier refuses it
/// (anyExtendedKeyUsage satisfies all but Apple).
pub const EKU_WITHOUT_SERVER_AUTH: Rule = Rule {
    id: "eku-without-server-auth",
    source: "RFC 5280 §4.2.1.12; Java (JSSE EndEntityChecker): an extendedKeyUsage, if present, must include \
             serverAuth; Apple HT210176; Chromium and Android check it too",
};
/// Apple wants RSA keys of at least 2048 bits in servers and issuing CAs; the others refuse
/// only below 1024 bits and merely fall short of the baseline between the two.
pub const RSA_BELOW_2048: Rule = Rule {
    id: "rsa-below-2048",
    source: "Apple HT210176: RSA keys of 2048 bits or more; CA/Browser Forum Baseline Requirements §6.1.5; below \
             1024 bits Chrome, Android (Conscrypt ChainStrengthAnalyzer) and Java (jdk.certpath.disabledAlgorithms \
             RSA keySize < 1024) refuse",
};
/// SHA-1 signatures can be forged (SHAttered, 2017): Apple, Chrome and Android refuse them;
/// Java refuses them only under its own bundled roots.
pub const SHA1_SIGNATURE: Rule = Rule {
    id: "sha1-signature",
    source: "Apple HT210176: SHA-2 signatures only; Chrome refuses SHA-1 since version 57; Android Conscrypt \
             ChainStrengthAnalyzer; Java disables SHA-1 only for chains to its own roots \
             (jdk.certpath.disabledAlgorithms: SHA1 jdkCA & usage TLSServer)",
};
/// MD5 (and MD2, MD4) signatures are broken: every platform refuses them.
pub const MD5_SIGNATURE: Rule = Rule {
    id: "md5-signature",
    source: "RFC 6151; Apple HT210176 (SHA-2 only); Chrome; Android Conscrypt ChainStrengthAnalyzer; Java \
             jdk.certpath.disabledAlgorithms (MD2, MD5)",
};
/// EdDSA (Ed25519, Ed448) certificates: Apple's trust evaluation and Chromium's verifier have
/// none; Java has Ed25519 from version 15, Android only on recent versions.
pub const EDDSA_KEY: Rule = Rule {
    id: "eddsa-key",
    source: "Chromium's certificate verifier and Apple's trust evaluation accept RSA and ECDSA keys only; Java 15+ \
             (JEP 339: EdDSA); Android's support depends on its version",
};
/// JSSE and BoringSSL (Chrome, Android) check keyUsage against the handshake: ECDHE and TLS
/// 1.3 need digitalSignature, TLS 1.2 RSA key exchange keyEncipherment.
pub const KEY_USAGE_MISMATCH: Rule = Rule {
    id: "key-usage-mismatch",
    source: "Java (JSSE EndEntityChecker): keyUsage must fit the key exchange (digitalSignature for ECDHE and TLS \
             1.3, keyEncipherment for RSA key exchange); BoringSSL (Chrome, Android's Conscrypt) enforces keyUsage \
             for ECDSA keys and in TLS 1.3; RFC 5280 §4.2.1.3",
};
/// A CA certificate (cA=TRUE) used as the server's: the five platforms accept it, but
/// Chromium flags it and rustls/webpki (pinset verify, pinset get, PinnedVerifier) refuse it.
pub const CA_CERT_AS_SERVER: Rule = Rule {
    id: "ca-cert-as-server",
    source: "RFC 5280 §4.2.1.9; CA/Browser Forum Baseline Requirements 1.8.4 §7.1.2.3 (d): a server certificate \
             is not a CA; Chromium warns (kTargetCertShouldNotBeCa); rustls-webpki refuses it (CaUsedAsEndEntity)",
};
/// Names only in the subject CN: Chrome, Apple, OkHttp and Android ignore the CN; Java
/// still falls back to it, for DNS names only.
pub const NO_SAN_CN_ONLY: Rule = Rule {
    id: "no-san-cn-only",
    source: "Apple HT210176: names in the subjectAltName only, the CN is ignored; Chrome 58+: SAN required; \
             Android 9+ and OkHttp: no CN fallback; Java HostnameChecker falls back to the CN for DNS names only, \
             and needs an iPAddress SAN for an IP",
};
/// The address dialled is in the CN but not in a SAN of its type.
pub const NAME_ONLY_IN_CN: Rule = Rule {
    id: "name-only-in-cn",
    source: "Apple HT210176: the CN is ignored; Chrome 58+; Android 9+ and OkHttp: no CN fallback; Java \
             HostnameChecker uses the CN only for a DNS name when the certificate has no dNSName SAN",
};
/// An IP address written as a dNSName SAN matches nothing: clients compare IP hosts only
/// with iPAddress SANs.
pub const IP_ONLY_AS_DNS_SAN: Rule = Rule {
    id: "ip-only-as-dns-san",
    source: "RFC 2818 §3.1: for an IP address, the iPAddress subjectAltName must be present and match exactly; \
             Apple, Chrome, Java (HostnameChecker) and OkHttp compare an IP host with iPAddress SANs only",
};
/// The address dialled is in no SAN: every platform's hostname check fails.
pub const NAME_NOT_IN_SAN: Rule = Rule {
    id: "name-not-in-san",
    source: "RFC 2818 §3.1 / RFC 6125 §6.4: the name dialled must match a subjectAltName of its type",
};
/// A CA of the chain constrains names (nameConstraints) and a name of the server's
/// certificate falls outside: path validation fails.
pub const NAME_CONSTRAINTS: Rule = Rule {
    id: "name-constraints",
    source: "RFC 5280 §4.2.1.10 and §6.1.3 (b), (c): every platform applies an intermediate's nameConstraints; \
             Chrome also applies a locally trusted root's (RFC 5937 trust anchor constraints), Java and Android do \
             not",
};
/// Past notAfter a certificate is refused everywhere.
pub const EXPIRED: Rule = Rule {
    id: "expired",
    source: "RFC 5280 §4.1.2.5 / §6.1.3 (a)(2): a certificate is valid only from notBefore to notAfter",
};
/// Before notBefore a certificate is refused everywhere (often a device clock running slow).
pub const NOT_YET_VALID: Rule = Rule {
    id: "not-yet-valid",
    source: "RFC 5280 §4.1.2.5 / §6.1.3 (a)(2): a certificate is valid only from notBefore to notAfter",
};
/// A certificate about to expire must be renewed and deployed before it stops every client.
pub const EXPIRES_SOON: Rule = Rule {
    id: "expires-soon",
    source: "RFC 5280 §4.1.2.5; pinset warns 30 days ahead so a renewal reaches every server in time",
};
/// A chain certificate that signs another needs cA=TRUE and, with a keyUsage, keyCertSign.
pub const ISSUER_NOT_CA: Rule = Rule {
    id: "issuer-not-ca",
    source: "RFC 5280 §6.1.4 (k), (n): an issuing certificate needs basicConstraints cA=TRUE and, with keyUsage, \
             keyCertSign; Chrome applies the same to a locally trusted root (RFC 5937)",
};
/// A root installed by hand on iOS must be enabled in Certificate Trust Settings, which
/// lists roots by their CN: without one it cannot be enabled.
pub const ROOT_WITHOUT_CN: Rule = Rule {
    id: "root-without-cn",
    source: "Apple HT204477, Trust manually installed certificate profiles in iOS: a root must be enabled in \
             Settings > General > About > Certificate Trust Settings, which lists it by its CN",
};
/// An extension pinset cannot read (duplicated or malformed) makes clients refuse the
/// certificate.
pub const MALFORMED_EXTENSION: Rule = Rule {
    id: "malformed-extension",
    source: "RFC 5280 §4.2: each extension at most once, in its defined syntax; clients refuse certificates they \
             cannot parse",
};

/// The version field is one X.509 does not define, or a v1/v2 certificate carries
/// extensions: every client's parser refuses it.
pub const INVALID_VERSION: Rule = Rule {
    id: "invalid-version",
    source: "RFC 5280 §4.1.2.1: the version is v1, v2 or v3, and extensions need v3; Apple (SecCertificate takes \
             versions 1 to 3 only), Chromium (ParseTbsCertificate), BoringSSL (Android's Conscrypt), Java \
             (CertificateVersion) and rustls-webpki (UnsupportedCertVersion) refuse to parse anything else",
};
/// A critical extension clients do not process: RFC 5280 makes them refuse the certificate.
pub const UNKNOWN_CRITICAL_EXTENSION: Rule = Rule {
    id: "unknown-critical-extension",
    source: "RFC 5280 §4.2: a client must reject a certificate with a critical extension it does not recognize; \
             Apple trustd (kSecPolicyCheckCriticalExtensions), Chromium (kUnconsumedCriticalExtension), Java \
             (PKIXCertPathValidator), Android (the PKIX CertPathValidator of its TrustManagerImpl) and \
             rustls-webpki (UnsupportedCriticalExtension) do",
};
/// An EC key on a curve other than P-256, P-384 and P-521 (secp256k1, brainpool, P-192,
/// P-224, explicit parameters): no platform can verify what it signs.
pub const UNSUPPORTED_CURVE: Rule = Rule {
    id: "unsupported-curve",
    source: "RFC 8446 §4.2.3: TLS signs with ECDSA on P-256, P-384 and P-521 only; Chromium \
             (SimplePathBuilderDelegate: only P-256, P-384, P-521 are supported for ECDSA); BoringSSL, which \
             Android's Conscrypt uses, has no secp256k1 or brainpool curve (google/conscrypt#572, #673); Java \
             deprecated the other curves (JDK-8235184) and removed them in JDK 16 (JDK-8235710); Apple takes EC \
             keys of 256 bits or more (SecPolicyAddStrongKeySizeOptions) on the NIST curves",
};
/// A key TLS clients cannot use to authenticate a server: DSA, X25519, X448 or an algorithm
/// none of them knows.
pub const UNSUPPORTED_KEY: Rule = Rule {
    id: "unsupported-key",
    source: "RFC 8446 §4.2.3: TLS 1.3 signs with RSA, ECDSA and EdDSA keys only; X25519 and X448 keys only agree \
             on keys and never sign (RFC 8410 §5); Chromium (SimplePathBuilderDelegate) accepts RSA and EC keys \
             only; BoringSSL (Chrome, Android's Conscrypt) has no DSA in TLS and OkHttp's cipher suites no DHE_DSS; \
             Java uses a DSA key only over TLS 1.2 DHE_DSS cipher suites",
};
/// A P-521 server key: BoringSSL clients (Chrome, Android) do not accept P-521 signatures
/// in the handshake.
pub const P521_SERVER_KEY: Rule = Rule {
    id: "p521-server-key",
    source: "BoringSSL leaves ecdsa_secp521r1_sha512 out of the signature algorithms a client accepts (commit \
             e9fc3e5), so Chrome refuses a P-521 server key; Android's Conscrypt does not enable P-521 in TLS \
             (google/conscrypt#681); a CA's P-521 key is fine, Chromium's verifier accepts it",
};
/// A certificate signed with an algorithm no client implements (GOST, SM2, an unknown id).
pub const UNSUPPORTED_SIGNATURE: Rule = Rule {
    id: "unsupported-signature",
    source: "Chromium (SignatureAlgorithm), Apple, BoringSSL, Java and rustls-webpki verify RSA (PKCS#1 v1.5 and \
             PSS), ECDSA, EdDSA and (Java only) DSA signatures: none verifies a certificate signed with another \
             algorithm",
};

/// Every rule, in the order reports list them.
pub const RULES: [Rule; 26] = [
    MALFORMED_EXTENSION,
    INVALID_VERSION,
    UNKNOWN_CRITICAL_EXTENSION,
    EXPIRED,
    NOT_YET_VALID,
    EXPIRES_SOON,
    APPLE_825_DAYS,
    NO_EKU,
    EKU_WITHOUT_SERVER_AUTH,
    RSA_BELOW_2048,
    UNSUPPORTED_CURVE,
    UNSUPPORTED_KEY,
    P521_SERVER_KEY,
    EDDSA_KEY,
    SHA1_SIGNATURE,
    MD5_SIGNATURE,
    UNSUPPORTED_SIGNATURE,
    KEY_USAGE_MISMATCH,
    CA_CERT_AS_SERVER,
    NO_SAN_CN_ONLY,
    IP_ONLY_AS_DNS_SAN,
    NAME_ONLY_IN_CN,
    NAME_NOT_IN_SAN,
    NAME_CONSTRAINTS,
    ISSUER_NOT_CA,
    ROOT_WITHOUT_CN,
];

/// Apple's iOS 13 rules on validity and EKU bind certificates whose notBefore is on or after
/// this day (HT210176).
pub(super) const APPLE_2019_RULES_FROM: OffsetDateTime = datetime!(2019-07-01 0:00 UTC);
/// Below this RSA size Chrome, Android (Conscrypt) and Java refuse the key outright.
pub(super) const RSA_FLOOR_BITS: usize = 1024;
/// Days before notAfter from which `expires-soon` warns: time for a renewal to reach every
/// server of a site before clients start refusing the old certificate.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

#[cfg(test)]
mod tests {
    use super::RULES;

    #[test]
    fn every_rule_has_a_unique_id_and_a_source() {
        let mut seen = std::collections::HashSet::new();
        for r in RULES {
            assert!(seen.insert(r.id), "duplicate {}", r.id);
            assert!(!r.source.is_empty());
        }
    }
}
