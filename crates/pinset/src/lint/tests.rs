//! The lint rules on certificates made by rcgen and pinset: each rule fires where it should,
//! for the platforms it names, and nowhere else.

use std::net::IpAddr;

use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::finding::{NONE, R, W, all, effects, trust};
use super::names::dns_matches;
use super::*;
use crate::pki::{self, KeyType, LeafKind, LeafSpec};
use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, CustomExtension, DnType, ExtendedKeyUsagePurpose, GeneralSubtree,
    IsCa, Issuer, KeyPair, KeyUsagePurpose, NameConstraints, SanType,
};

pub(super) fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// A pinset CA and a server certificate for `ips`/`dns` valid `days`: [leaf, root].
pub(super) fn pinset_chain(ips: &[IpAddr], dns: &[String], days: u32) -> Vec<Vec<u8>> {
    pinset_chain_of(LeafKind::Server, KeyType::P256, ips, dns, days)
}

pub(super) fn pinset_chain_of(kind: LeafKind, kt: KeyType, ips: &[IpAddr], dns: &[String], days: u32) -> Vec<Vec<u8>> {
    let ca_key = KeyType::P256.generate().expect("ca key");
    let root = pki::new_root("pinset CA test", "test", &ca_key, now()).expect("root");
    let issuer = pki::load_issuer(&root.cert_der, &ca_key.serialize_pem(), "ca").expect("issuer");
    let key = kt.generate().expect("key");
    let spec = LeafSpec { kind, common_name: "server", organization: "test", ips, dns, days };
    let leaf = pki::issue_leaf(&spec, &key, kt, Some(&issuer), now()).expect("leaf");
    vec![leaf.cert_der, root.cert_der]
}

/// Certificate parameters like a careful hand-made server certificate: valid a year from
/// yesterday, CN `cn`, the given SANs, EKU serverAuth, KU digitalSignature, CA:FALSE.
pub(super) fn params(cn: &str, sans: Vec<SanType>) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.subject_alt_names = sans;
    p.not_before = now() - Duration::days(1);
    p.not_after = now() + Duration::days(364);
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    p
}

pub(super) fn ca_params(cn: &str) -> CertificateParams {
    let mut p = params(cn, Vec::new());
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.extended_key_usages = Vec::new();
    p
}

pub(super) fn self_signed(p: &CertificateParams) -> Vec<u8> {
    let key = KeyPair::generate().expect("key");
    p.self_signed(&key).expect("self-sign").der().to_vec()
}

/// `leaf` signed by a root made from `root`: [leaf, root].
pub(super) fn signed(leaf: &CertificateParams, root: CertificateParams) -> Vec<Vec<u8>> {
    let root_key = KeyPair::generate().expect("root key");
    let root_der = root.self_signed(&root_key).expect("root").der().to_vec();
    let issuer = Issuer::new(root, root_key);
    let key = KeyPair::generate().expect("key");
    vec![leaf.signed_by(&key, &issuer).expect("leaf").der().to_vec(), root_der]
}

pub(super) fn ip_san(s: &str) -> SanType {
    SanType::IpAddress(ip(s))
}

pub(super) fn dns_san(s: &str) -> SanType {
    SanType::DnsName(s.to_string().try_into().expect("ia5"))
}

fn ids(findings: &[Finding]) -> Vec<&'static str> {
    findings.iter().map(|f| f.rule).collect()
}

pub(super) fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

fn lint_all(chain: &[Vec<u8>], name: Option<&str>) -> Vec<Finding> {
    let host = name.map(|n| Host::parse(n).expect("host"));
    lint("t", chain, host.as_ref(), &Platform::ALL, now()).expect("lint")
}

fn only<'f>(findings: &'f [Finding], rule: &str) -> &'f Finding {
    assert_eq!(ids(findings), [rule], "{findings:#?}");
    &findings[0]
}

/// `der` with each of the `times` occurrences of `from` replaced by `to`, of the same length,
/// so that no DER length changes: how these tests make what rcgen will not (a DSA or X25519
/// key, version 9, an unknown signature algorithm). The signature no longer verifies, which
/// neither the lint rules nor [`support`] check.
pub(super) fn patched(der: &[u8], from: &[u8], to: &[u8], times: usize) -> Vec<u8> {
    assert_eq!(from.len(), to.len(), "a patch keeps the length");
    let mut out = der.to_vec();
    let (mut found, mut i) = (0, 0);
    while i + from.len() <= out.len() {
        if out[i..i + from.len()] == *from {
            out[i..i + from.len()].copy_from_slice(to);
            found += 1;
            i += from.len();
        } else {
            i += 1;
        }
    }
    assert_eq!(found, times, "{from:02x?} found {found} times");
    out
}

/// The DER (tag, length, value) of what the patches swap.
pub(super) mod der {
    /// Object identifiers.
    pub const P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    pub const P192: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x01];
    pub const P384: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
    pub const SECP256K1: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a];
    pub const EC_PUBLIC_KEY: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    pub const DSA: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01];
    pub const ED25519: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];
    pub const X25519: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x6e];
    pub const X448: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x6f];
    pub const ED448: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x71];
    pub const ECDSA_SHA256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
    /// 1.2.840.10045.4.3.9: no algorithm.
    pub const ECDSA_UNKNOWN: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x09];
    pub const RSA_SHA256: &[u8] = &[0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
    pub const RSA_SHA1: &[u8] = &[0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05];
    pub const RSA_MD5: &[u8] = &[0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x04];
    /// The version field: `[0] { INTEGER 2 }` is version 3.
    pub const V3: &[u8] = &[0xa0, 0x03, 0x02, 0x01, 0x02];
    pub const V9: &[u8] = &[0xa0, 0x03, 0x02, 0x01, 0x08];
    pub const V1: &[u8] = &[0xa0, 0x03, 0x02, 0x01, 0x00];
}

/// A self-signed server certificate for 10.0.0.5 with a new key of `alg`.
pub(super) fn self_signed_with(alg: &'static rcgen::SignatureAlgorithm) -> Vec<u8> {
    let key = KeyPair::generate_for(alg).expect("key");
    params("s", vec![ip_san("10.0.0.5")]).self_signed(&key).expect("self-sign").der().to_vec()
}

/// A server certificate for 10.0.0.5 (P-256 key) with an extension 1.2.3.4, `critical` or
/// not, signed by a root that carries the same: [leaf, root].
pub(super) fn with_extension_1234(critical: bool) -> Vec<Vec<u8>> {
    let ext = || {
        let mut e = CustomExtension::from_oid_content(&[1, 2, 3, 4], vec![0x05, 0x00]);
        e.set_criticality(critical);
        e
    };
    let mut leaf = params("s", vec![ip_san("10.0.0.5")]);
    leaf.custom_extensions.push(ext());
    let mut root = ca_params("root");
    root.custom_extensions.push(ext());
    signed(&leaf, root)
}

#[test]
fn a_pinset_certificate_has_no_findings_for_its_addresses() {
    let chain = pinset_chain(&[ip("192.168.1.10"), ip("fd00::10")], &["hub.local".into()], 397);
    for host in ["192.168.1.10", "fd00::10", "[fd00::10]", "hub.local", "HUB.local."] {
        let f = lint_all(&chain, Some(host));
        assert!(f.is_empty(), "{host}: {f:?}");
    }
    assert!(lint_all(&chain[..1], None).is_empty());
    let f = lint_authorities("t", &chain[1..], &Platform::ALL, now()).expect("lint");
    assert!(f.is_empty(), "{f:?}");
    // Every key type pinset offers but Ed25519 (which eddsa-key reports) passes too.
    for kt in [KeyType::P384, KeyType::Rsa2048] {
        let chain = pinset_chain_of(LeafKind::Server, kt, &[ip("10.0.0.5")], &[], 397);
        assert!(lint_all(&chain, Some("10.0.0.5")).is_empty(), "{kt:?}");
    }
}

#[test]
fn a_self_signed_pinset_server_has_no_findings() {
    let key = KeyType::P256.generate().expect("key");
    let ips = [ip("10.0.0.5")];
    let spec = LeafSpec {
        kind: LeafKind::Server,
        common_name: "hub",
        organization: "t",
        ips: &ips,
        dns: &["hub.local".into()],
        days: 397,
    };
    let leaf = pki::issue_leaf(&spec, &key, KeyType::P256, None, now()).expect("leaf");
    for host in ["10.0.0.5", "hub.local"] {
        assert!(lint_all(std::slice::from_ref(&leaf.cert_der), Some(host)).is_empty(), "{host}");
    }
}

#[test]
fn an_address_outside_the_sans_is_rejected_everywhere() {
    let chain = pinset_chain(&[ip("192.168.1.10")], &[], 397);
    let f = lint_all(&chain, Some("192.168.1.11"));
    let f = only(&f, "name-not-in-san");
    assert_eq!(f.platforms, all(Severity::Reject));
    assert!(f.message.contains("192.168.1.11") && f.message.contains("IP:192.168.1.10"), "{}", f.message);
    assert!(f.fix.contains("subjectAltName=IP:192.168.1.11"), "{}", f.fix);
    assert_eq!(f.reissue.as_ref().map(|r| r.names.clone()), Some(vec![Host::Ip(ip("192.168.1.11"))]));
    let f = lint_all(&chain, Some("hub.local"));
    assert!(only(&f, "name-not-in-san").message.contains("no dNSName SAN"));
}

#[test]
fn apple_825_days_names_the_lifetime_and_only_ios() {
    let chain = pinset_chain(&[ip("10.0.0.5")], &[], 900);
    let f = lint_all(&chain, None);
    let finding = only(&f, "apple-825-days");
    assert_eq!(finding.platforms, vec![Effect { platform: Platform::Ios, severity: Severity::Reject }]);
    assert!(finding.message.starts_with("valid for 900 days ("), "{}", finding.message);
    assert!(finding.fix.contains("-days 397"), "{}", finding.fix);
    assert_eq!(finding.reissue.as_ref().and_then(|r| r.days), Some(397));
    assert!(finding.source.contains("HT210176"));
    assert_eq!(verdict(&f, Platform::Ios), Verdict::Rejects);
    assert_eq!(verdict(&f, Platform::Android), Verdict::Accepts);
    // 825 days exactly is allowed.
    let chain = pinset_chain(&[ip("10.0.0.5")], &[], 825);
    assert!(lint_all(&chain, None).is_empty());
}

#[test]
fn apple_2019_rules_spare_older_certificates() {
    let mut p = params("old", vec![ip_san("10.0.0.5")]);
    p.not_before = datetime!(2019-06-01 0:00 UTC);
    p.not_after = now() + Duration::days(400);
    p.extended_key_usages = Vec::new();
    assert!(lint_all(&[self_signed(&p)], Some("10.0.0.5")).is_empty());
    p.not_before = datetime!(2019-07-02 0:00 UTC);
    let f = lint_all(&[self_signed(&p)], Some("10.0.0.5"));
    assert_eq!(ids(&f), ["apple-825-days", "no-eku"]);
}

#[test]
fn platform_selection_drops_findings_of_other_platforms() {
    let chain = pinset_chain(&[ip("10.0.0.5")], &[], 900);
    let f = lint("t", &chain, None, &[Platform::Android, Platform::Java], now()).expect("lint");
    assert!(f.is_empty(), "{f:?}");
    let chain = pinset_chain(&[ip("10.0.0.5")], &[], 397);
    let f = lint("t", &chain, Some(&Host::Ip(ip("10.0.0.6"))), &[Platform::Java, Platform::Ios], now()).expect("lint");
    let platforms: Vec<Platform> = only(&f, "name-not-in-san").platforms.iter().map(|e| e.platform).collect();
    assert_eq!(platforms, [Platform::Ios, Platform::Java]);
}

#[test]
fn expiry_rules_follow_the_clock() {
    let chain = pinset_chain(&[ip("10.0.0.5")], &[], 397);
    let later = now() + Duration::days(400);
    let f = lint("t", &chain, None, &Platform::ALL, later).expect("lint");
    assert_eq!(only(&f, "expired").platforms, all(Severity::Reject));
    let soon = now() + Duration::days(390);
    assert_eq!(ids(&lint("t", &chain, None, &Platform::ALL, soon).expect("lint")), ["expires-soon"]);
    let before = now() - Duration::days(2);
    // The root too (issued at the same time), as a warning: clients differ on anchors.
    let f = lint("t", &chain, None, &Platform::ALL, before).expect("lint");
    assert_eq!(ids(&f), ["not-yet-valid", "not-yet-valid"]);
    assert_eq!((f[0].severity(), f[1].severity()), (Severity::Reject, Severity::Warn));
    // The root expires in ten years: past that, a warning on the root as well.
    let f = lint("t", &chain, None, &Platform::ALL, now() + Duration::days(3700)).expect("lint");
    assert_eq!(ids(&f), ["expired", "expired"]);
    assert_eq!((f[1].certificate, f[1].severity()), (1, Severity::Warn));
}

#[test]
fn garbage_is_an_error_naming_the_input() {
    let err = lint("junk.der", &[vec![0x30, 0x03, 0x02, 0x01]], None, &Platform::ALL, now()).expect_err("junk");
    assert!(err.to_string().contains("junk.der"), "{err}");
    let err = lint("none.pem", &[], None, &Platform::ALL, now()).expect_err("empty");
    assert!(err.to_string().contains("none.pem"), "{err}");
    let mut chain = pinset_chain(&[ip("10.0.0.5")], &[], 397);
    chain[1].truncate(40);
    let err = lint("chain.pem", &chain, None, &Platform::ALL, now()).expect_err("truncated");
    assert!(err.to_string().contains("chain.pem (certificate 2)"), "{err}");
}

#[test]
fn hosts_parse_as_ip_or_dns_and_refuse_the_rest() {
    assert_eq!(Host::parse("192.168.1.10").expect("ip"), Host::Ip(ip("192.168.1.10")));
    assert_eq!(Host::parse("[fd00::10]").expect("ip6"), Host::Ip(ip("fd00::10")));
    assert_eq!(Host::parse("Hub.Local.").expect("dns"), Host::Dns("hub.local".into()));
    assert_eq!(Host::parse("hub.local:8443").expect("with a port"), Host::Dns("hub.local".into()));
    for bad in ["192.168.1.300", "fd00::zz", "*.shop.example", "hub.local:99999", "", "a b"] {
        assert!(Host::parse(bad).is_err(), "{bad:?} should be refused");
    }
    let err = Host::parse("192.168.1.300").expect_err("bad ip");
    assert!(err.to_string().contains("IP address"), "{err}");
}

#[test]
fn wildcards_match_exactly_one_label() {
    assert!(dns_matches("*.shop.example", "till.shop.example"));
    assert!(dns_matches("HUB.local.", "hub.local"));
    assert!(!dns_matches("*.shop.example", "shop.example"));
    assert!(!dns_matches("*.shop.example", "a.till.shop.example"));
    assert!(!dns_matches("*.local", "hub.local"));
    assert!(!dns_matches("t*.shop.example", "till.shop.example"));
}

#[test]
fn cn_only_names_java_alone_may_fall_back_for_a_dns_name() {
    let p = params("hub.local", Vec::new());
    let der = [self_signed(&p)];
    // Without a name: Java warns (its CN fallback), the others refuse.
    let f = lint_all(&der, None);
    let finding = only(&f, "no-san-cn-only");
    assert_eq!(finding.platforms, effects([R, R, R, W, R]));
    assert!(finding.message.contains("only CN=hub.local"), "{}", finding.message);
    assert!(finding.fix.contains("subjectAltName=DNS:hub.local"), "{}", finding.fix);
    assert_eq!(finding.reissue.as_ref().map(|r| r.names.clone()), Some(vec![Host::Dns("hub.local".into())]));
    // Dialled by that name: the same single finding.
    assert_eq!(only(&lint_all(&der, Some("hub.local")), "no-san-cn-only").platforms, effects([R, R, R, W, R]));
    // Another name: Java refuses too, and the mismatch is named.
    let f = lint_all(&der, Some("till.local"));
    assert_eq!(ids(&f), ["no-san-cn-only", "name-not-in-san"]);
    assert_eq!(f[0].platforms, all(Severity::Reject));
    // An IP in the CN: Java has no CN fallback for addresses.
    let der = [self_signed(&params("192.168.1.10", Vec::new()))];
    let f = lint_all(&der, Some("192.168.1.10"));
    assert_eq!(only(&f, "no-san-cn-only").platforms, all(Severity::Reject));
    assert_eq!(only(&lint_all(&der, None), "no-san-cn-only").platforms, all(Severity::Reject));
    assert!(f[0].fix.contains("subjectAltName=IP:192.168.1.10"), "{}", f[0].fix);
    assert_eq!(f[0].reissue.as_ref().map(|r| r.names.clone()), Some(vec![Host::Ip(ip("192.168.1.10"))]));
}

#[test]
fn a_name_only_in_the_cn_beside_other_sans() {
    let der = [self_signed(&params("hub.local", vec![ip_san("10.0.0.5")]))];
    let f = lint_all(&der, Some("hub.local"));
    // Java's HostnameChecker uses the CN when there is no dNSName SAN at all.
    assert_eq!(only(&f, "name-only-in-cn").platforms, effects([R, R, R, W, R]));
    let der = [self_signed(&params("hub.local", vec![dns_san("till.local")]))];
    assert_eq!(only(&lint_all(&der, Some("hub.local")), "name-only-in-cn").platforms, all(Severity::Reject));
}

#[test]
fn an_ip_written_as_a_dns_san_is_found_with_or_without_a_name() {
    let der = [self_signed(&params("server", vec![dns_san("192.168.1.10")]))];
    let f = lint_all(&der, Some("192.168.1.10"));
    let finding = only(&f, "ip-only-as-dns-san");
    assert_eq!(finding.platforms, all(Severity::Reject));
    assert!(finding.message.contains("DNS:192.168.1.10"), "{}", finding.message);
    assert!(finding.fix.contains("IP:192.168.1.10"), "{}", finding.fix);
    // No name: nothing else in the certificate can match, so every platform refuses.
    assert_eq!(only(&lint_all(&der, None), "ip-only-as-dns-san").platforms, all(Severity::Reject));
    // Beside a usable name it is a warning without --name.
    let der = [self_signed(&params("server", vec![dns_san("192.168.1.10"), dns_san("hub.local")]))];
    assert_eq!(only(&lint_all(&der, None), "ip-only-as-dns-san").platforms, all(Severity::Warn));
    assert!(lint_all(&der, Some("hub.local")).is_empty());
    // Beside the iPAddress SAN of the same address it is harmless.
    let der = [self_signed(&params("server", vec![dns_san("192.168.1.10"), ip_san("192.168.1.10")]))];
    assert!(lint_all(&der, None).is_empty());
}

#[test]
fn extended_key_usage_rules() {
    let mut p = params("s", vec![ip_san("10.0.0.5")]);
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let f = lint_all(&[self_signed(&p)], None);
    let finding = only(&f, "eku-without-server-auth");
    assert_eq!(finding.platforms, all(Severity::Reject));
    assert!(finding.message.contains("clientAuth"), "{}", finding.message);
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::Any];
    assert_eq!(
        only(&lint_all(&[self_signed(&p)], None), "eku-without-server-auth").platforms,
        effects([R, NONE, NONE, NONE, NONE])
    );
    p.extended_key_usages = Vec::new();
    assert_eq!(only(&lint_all(&[self_signed(&p)], None), "no-eku").platforms, effects([R, NONE, NONE, NONE, NONE]));
    // A pinset client certificate is not a server's.
    let chain = pinset_chain_of(LeafKind::Client, KeyType::P256, &[], &[], 397);
    let f = lint_all(&chain, None);
    assert_eq!(ids(&f), ["eku-without-server-auth", "no-san-cn-only"]);
}

#[test]
fn key_usage_must_allow_the_handshake_signature() {
    let mut p = params("s", vec![ip_san("10.0.0.5")]);
    p.key_usages = vec![KeyUsagePurpose::KeyAgreement];
    let f = lint_all(&[self_signed(&p)], None);
    let finding = only(&f, "key-usage-mismatch");
    // Java, and BoringSSL in Chrome and Android; OkHttp follows its platform; Apple is silent.
    assert_eq!(finding.platforms, effects([NONE, R, R, R, R]));
    assert!(finding.message.contains("keyUsage is keyAgreement") && finding.message.contains("EC P-256"));
}

#[test]
fn a_ca_certificate_as_the_server_is_a_warning() {
    let mut p = params("s", vec![ip_san("10.0.0.5")]);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages.push(KeyUsagePurpose::KeyCertSign);
    let f = lint_all(&[self_signed(&p)], Some("10.0.0.5"));
    assert_eq!(only(&f, "ca-cert-as-server").platforms, all(Severity::Warn));
    assert!(Platform::ALL.iter().all(|&pl| verdict(&f, pl) == Verdict::AcceptsWithWarnings));
}

#[test]
fn an_issuer_must_be_a_ca() {
    let leaf = params("s", vec![ip_san("10.0.0.5")]);
    let mut not_ca = params("not a CA", Vec::new());
    not_ca.extended_key_usages = Vec::new();
    // Self-issued: a root, which only Chrome checks.
    let chain = signed(&leaf, not_ca.clone());
    let f = lint_all(&chain, Some("10.0.0.5"));
    let finding = only(&f, "issuer-not-ca");
    assert_eq!((finding.certificate, &finding.platforms), (1, &effects([NONE, NONE, R, NONE, NONE])));
    assert!(finding.message.contains("cA=FALSE") && finding.message.contains("without keyCertSign"));
    // A certificate that does not sign the one before it is not blamed.
    let unrelated = self_signed(&ca_params("other CA"));
    let chain = vec![chain[0].clone(), unrelated];
    assert!(lint_all(&chain, Some("10.0.0.5")).is_empty());
}

#[test]
fn name_constraints_of_the_chain_are_checked() {
    let leaf = params("s", vec![ip_san("192.168.1.10"), dns_san("hub.shop.example")]);
    let mut root = ca_params("constrained root");
    root.name_constraints = Some(NameConstraints {
        permitted_subtrees: vec![
            GeneralSubtree::IpAddress(CidrSubnet::from_v4_prefix([10, 0, 0, 0], 8)),
            GeneralSubtree::DnsName("shop.example".into()),
        ],
        excluded_subtrees: Vec::new(),
    });
    let chain = signed(&leaf, root.clone());
    let f = lint_all(&chain, Some("192.168.1.10"));
    let finding = only(&f, "name-constraints");
    // A root's constraints: Chrome enforces them on locally trusted roots.
    assert_eq!((finding.certificate, &finding.platforms), (1, &effects([NONE, NONE, R, NONE, NONE])));
    assert!(finding.message.contains("IP:192.168.1.10 is outside the permitted IP:10.0.0.0/8"), "{}", finding.message);
    assert!(!finding.message.contains("hub.shop.example"), "{}", finding.message);
    // Inside the constraints: nothing.
    let ok = params("s", vec![ip_san("10.1.2.3"), dns_san("hub.shop.example")]);
    assert!(lint_all(&signed(&ok, root.clone()), Some("10.1.2.3")).is_empty());
    // An excluded name.
    root.name_constraints = Some(NameConstraints {
        permitted_subtrees: Vec::new(),
        excluded_subtrees: vec![GeneralSubtree::DnsName("shop.example".into())],
    });
    let f = lint_all(&signed(&leaf, root), None);
    assert!(only(&f, "name-constraints").message.contains("DNS:hub.shop.example is in the excluded DNS:shop.example"));
}

#[test]
fn eddsa_keys_are_refused_by_apple_and_chrome() {
    let chain = pinset_chain_of(LeafKind::Server, KeyType::Ed25519, &[ip("10.0.0.5")], &[], 397);
    let finding = only(&lint_all(&chain, Some("10.0.0.5")), "eddsa-key").clone();
    assert_eq!(finding.platforms, effects([R, W, R, W, W]));
    assert!(finding.message.contains("Ed25519"));
}

#[test]
fn a_root_without_cn_is_an_ios_warning() {
    let mut root = ca_params("x");
    root.distinguished_name = rcgen::DistinguishedName::new();
    root.distinguished_name.push(DnType::OrganizationName, "Shop");
    let chain = signed(&params("s", vec![ip_san("10.0.0.5")]), root);
    let f = lint_all(&chain, Some("10.0.0.5"));
    let finding = only(&f, "root-without-cn");
    assert_eq!((finding.certificate, &finding.platforms), (1, &effects([W, NONE, NONE, NONE, NONE])));
}

#[test]
fn findings_serialize_with_their_severity_and_fix() {
    let chain = pinset_chain(&[ip("10.0.0.5")], &[], 900);
    let f = lint_all(&chain, None);
    let v = serde_json::to_value(&f[0]).expect("json");
    assert_eq!(v["rule"], "apple-825-days");
    assert_eq!(v["severity"], "reject");
    assert_eq!(v["platforms"], serde_json::json!([{"platform": "ios", "severity": "reject"}]));
    assert!(v["fix"].as_str().is_some_and(|s| s.contains("-days 397")), "{v}");
    assert_eq!(v["reissue"]["days"], 397, "{v}");
    assert!(v["source"].as_str().is_some_and(|s| s.contains("HT210176")), "{v}");
}

#[test]
fn platform_text_groups_by_severity() {
    let f = Finding {
        rule: "x",
        certificate: 0,
        subject: String::new(),
        platforms: trust(R, W, W, W),
        message: "m".into(),
        fix: "f".into(),
        reissue: None,
        source: "s",
    };
    assert_eq!(f.platforms_text(), "ios rejects; android, chrome, java, okhttp warn");
    assert_eq!(f.severity(), Severity::Reject);
    assert_eq!("macos".parse::<Platform>().expect("alias"), Platform::Ios);
}

#[test]
fn a_version_other_than_1_to_3_is_rejected_everywhere() {
    let server = self_signed(&params("s", vec![ip_san("10.0.0.5")]));
    let f = lint_all(&[patched(&server, der::V3, der::V9, 1)], Some("10.0.0.5"));
    let finding = only(&f, "invalid-version");
    assert_eq!(finding.platforms, all(Severity::Reject));
    assert!(finding.message.starts_with("the certificate is version 9:"), "{}", finding.message);
    // Version 1 cannot carry the extensions it has.
    let f = lint_all(&[patched(&server, der::V3, der::V1, 1)], Some("10.0.0.5"));
    assert!(only(&f, "invalid-version").message.contains("version 1 with"), "{f:?}");
}

#[test]
fn an_unknown_critical_extension_is_rejected_and_a_roots_is_a_warning() {
    let chain = with_extension_1234(true);
    let f = lint_all(&chain, Some("10.0.0.5"));
    assert_eq!(ids(&f), ["unknown-critical-extension", "unknown-critical-extension"]);
    assert_eq!((f[0].certificate, &f[0].platforms), (0, &all(Severity::Reject)));
    assert!(f[0].message.contains("critical extension 1.2.3.4"), "{}", f[0].message);
    assert_eq!((f[1].certificate, &f[1].platforms), (1, &all(Severity::Warn)));
    assert!(Platform::ALL.iter().all(|&p| verdict(&f, p) == Verdict::Rejects));
    // The same extension, not critical: clients ignore it.
    assert!(lint_all(&with_extension_1234(false), Some("10.0.0.5")).is_empty());
}

#[test]
fn keys_on_curves_tls_does_not_sign_with_are_rejected_everywhere() {
    let p256 = self_signed(&params("s", vec![ip_san("10.0.0.5")]));
    let f = lint_all(&[patched(&p256, der::P256, der::P192, 1)], Some("10.0.0.5"));
    let finding = only(&f, "unsupported-curve");
    assert_eq!(finding.platforms, all(Severity::Reject));
    assert!(finding.message.contains("the key is an EC key on P-192 (1.2.840.10045.3.1.1)"), "{}", finding.message);
    let p384 = self_signed_with(&rcgen::PKCS_ECDSA_P384_SHA384);
    let f = lint_all(&[patched(&p384, der::P384, der::SECP256K1, 1)], Some("10.0.0.5"));
    assert!(only(&f, "unsupported-curve").message.contains("secp256k1 (1.3.132.0.10)"), "{f:?}");
    // A CA's key on such a curve: no client verifies what it signs.
    let mut chain = pinset_chain(&[ip("10.0.0.5")], &[], 397);
    chain[1] = patched(&chain[1], der::P256, der::P192, 1);
    let f = lint_all(&chain, Some("10.0.0.5"));
    let finding = only(&f, "unsupported-curve");
    assert_eq!((finding.certificate, &finding.platforms), (1, &all(Severity::Reject)));
    assert!(finding.message.starts_with("this CA's key is"), "{}", finding.message);
}

#[test]
fn dsa_and_key_agreement_keys_are_rejected_where_clients_cannot_use_them() {
    let p256 = self_signed(&params("s", vec![ip_san("10.0.0.5")]));
    let f = lint_all(&[patched(&p256, der::EC_PUBLIC_KEY, der::DSA, 1)], Some("10.0.0.5"));
    let finding = only(&f, "unsupported-key");
    // Java alone negotiates DSA (TLS 1.2 DHE_DSS); OkHttp's cipher suites have none.
    assert_eq!(finding.platforms, effects([R, R, R, W, R]));
    assert!(finding.message.starts_with("the key is DSA (1.2.840.10040.4.1)"), "{}", finding.message);
    for (oid, name) in [(der::X25519, "X25519"), (der::X448, "X448")] {
        let mut chain = pinset_chain_of(LeafKind::Server, KeyType::Ed25519, &[ip("10.0.0.5")], &[], 397);
        chain[0] = patched(&chain[0], der::ED25519, oid, 1);
        let f = lint_all(&chain, Some("10.0.0.5"));
        let finding = only(&f, "unsupported-key");
        assert_eq!(finding.platforms, all(Severity::Reject), "{name}");
        assert!(finding.message.contains(name) && finding.message.contains("cannot sign"), "{}", finding.message);
    }
    // Ed448 is eddsa-key's, once.
    let mut chain = pinset_chain_of(LeafKind::Server, KeyType::Ed25519, &[ip("10.0.0.5")], &[], 397);
    chain[0] = patched(&chain[0], der::ED25519, der::ED448, 1);
    assert!(only(&lint_all(&chain, Some("10.0.0.5")), "eddsa-key").message.contains("Ed448"));
}

#[test]
fn a_p521_server_key_is_rejected_by_boringssl_clients_but_a_p521_ca_is_fine() {
    let f = lint_all(&[self_signed_with(&rcgen::PKCS_ECDSA_P521_SHA512)], Some("10.0.0.5"));
    assert_eq!(only(&f, "p521-server-key").platforms, effects([NONE, R, R, NONE, R]));
    let root_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).expect("root key");
    let root = ca_params("P-521 root");
    let root_der = root.self_signed(&root_key).expect("root").der().to_vec();
    let issuer = Issuer::new(root, root_key);
    let key = KeyPair::generate().expect("key");
    let leaf = params("s", vec![ip_san("10.0.0.5")]).signed_by(&key, &issuer).expect("leaf").der().to_vec();
    assert!(lint_all(&[leaf, root_der], Some("10.0.0.5")).is_empty());
}

#[test]
fn signature_algorithms_come_from_support() {
    let server = self_signed(&params("s", vec![ip_san("10.0.0.5")]));
    let f = lint_all(&[patched(&server, der::ECDSA_SHA256, der::ECDSA_UNKNOWN, 2)], Some("10.0.0.5"));
    let finding = only(&f, "unsupported-signature");
    assert_eq!(finding.platforms, all(Severity::Reject));
    assert!(finding.message.contains("1.2.840.10045.4.3.9"), "{}", finding.message);
    // SHA-1 and MD5 by an RSA CA.
    let ca_key = KeyType::Rsa2048.generate().expect("ca key");
    let root = pki::new_root("pinset CA test", "test", &ca_key, now()).expect("root");
    let issuer = pki::load_issuer(&root.cert_der, &ca_key.serialize_pem(), "ca").expect("issuer");
    let key = KeyType::P256.generate().expect("key");
    let ips = [ip("10.0.0.5")];
    let spec = LeafSpec { kind: LeafKind::Server, common_name: "s", organization: "t", ips: &ips, dns: &[], days: 397 };
    let leaf = pki::issue_leaf(&spec, &key, KeyType::P256, Some(&issuer), now()).expect("leaf").cert_der;
    assert!(lint_all(&[leaf.clone(), root.cert_der.clone()], Some("10.0.0.5")).is_empty());
    let sha1 = patched(&leaf, der::RSA_SHA256, der::RSA_SHA1, 2);
    let f = lint_all(&[sha1, root.cert_der.clone()], Some("10.0.0.5"));
    let finding = only(&f, "sha1-signature");
    assert_eq!(finding.platforms, trust(R, R, R, W));
    assert!(finding.message.starts_with("signed with sha1WithRSAEncryption:"), "{}", finding.message);
    let md5 = patched(&leaf, der::RSA_SHA256, der::RSA_MD5, 2);
    let f = lint_all(&[md5, root.cert_der], Some("10.0.0.5"));
    assert!(only(&f, "md5-signature").message.contains("md5WithRSAEncryption"), "{f:?}");
}

#[test]
fn certificate_text_reaches_messages_without_control_characters() {
    // A CN with ESC and BEL and a DNS SAN with a line break, no iPAddress SAN.
    let der = [self_signed(&params("evil\u{1b}[2J\u{7}", vec![dns_san("10.0.0.5\nforged line")]))];
    let f = lint_all(&der, Some("10.0.0.5"));
    assert!(!f.is_empty());
    for finding in &f {
        assert!(!finding.message.chars().any(char::is_control), "{:?}", finding.message);
    }
    let mut root = ca_params("x");
    root.distinguished_name = rcgen::DistinguishedName::new();
    root.distinguished_name.push(DnType::OrganizationName, "Shop\u{1b}]0;title\u{7}");
    let f = lint_all(&signed(&params("s", vec![ip_san("10.0.0.5")]), root), Some("10.0.0.5"));
    let finding = only(&f, "root-without-cn");
    assert!(finding.message.contains("O=Shop\\u{1b}]0;title\\u{7}"), "{}", finding.message);
    // The subject field itself stays exact, for JSON.
    assert!(finding.subject.contains('\u{1b}'));
}

#[test]
fn a_ca_is_told_from_an_outsiders_self_signed_server() {
    let parse = |der: &[u8]| crate::cert::parse("t", der).map(|c| is_authority(&c)).expect("parse");
    let chain = pinset_chain(&[ip("10.0.0.5")], &[], 397);
    assert!(!parse(&chain[0]) && parse(&chain[1]));
    // `openssl req -x509 -subj /CN=192.168.1.10`: cA=TRUE, no keyUsage, no SAN.
    for cn in ["192.168.1.10", "hub.local", "localhost"] {
        let mut p = params(cn, Vec::new());
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = Vec::new();
        p.extended_key_usages = Vec::new();
        assert!(!parse(&self_signed(&p)), "{cn}");
        // With keyCertSign, or with a CA's kind of name, it is an authority.
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        assert!(parse(&self_signed(&p)), "{cn} with keyCertSign");
    }
    let mut p = ca_params("Shop Root");
    p.key_usages = Vec::new();
    assert!(parse(&self_signed(&p)));
}
