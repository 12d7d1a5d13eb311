//! [`PinnedVerifier`] over real handshakes on loopback: the genuine server is accepted and
//! every impostor is refused with its own [`FailureKind`].
//!
//! The PKI is made here with rcgen (a site root, its intermediates, and impostors of every
//! kind). Servers are rustls servers in threads (`pinset_tls::server_config`) and, for the
//! chain and curl cases, `openssl s_server` processes. The client is a rustls
//! `ClientConfig` from `pinset_tls::verifier::client_config`; a refused handshake's
//! `rustls::Error` carries the typed [`VerifyError`].
//!
//! Run with `cargo test -p pinset-tls --test verifier`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pinset::Pin;
use pinset_testkit::client::{Session, client, client_tls12, connect};
use pinset_testkit::curl::curl_pinned;
use pinset_testkit::pki::{Ca, Identity, Spec, days_from_now, dns, ip};
use pinset_testkit::process::tempdir;
use pinset_testkit::rustls_server::RUSTLS_BODY;
use pinset_testkit::{OpensslServer, TlsServer};
use pinset_tls::verifier::{PinCheck, Position, Verified};
use pinset_tls::{ChainVerifier as _, FailureKind, PinnedVerifier, VerifyError};
use rcgen::{BasicConstraints, ExtendedKeyUsagePurpose, IsCa};
use rustls::pki_types::{ServerName, UnixTime};
use rustls::{HandshakeKind, ProtocolVersion};
use time::OffsetDateTime;
use time::macros::{date, datetime};

/// The address every server listens on and the genuine certificate names.
const DIAL: &str = "127.0.0.1";

// ---------------------------------------------------------------------------------------
// Fixture and assertions
// ---------------------------------------------------------------------------------------

/// A site: its root CA and the genuine server's certificate (for 127.0.0.1 and
/// localhost.test), issued by the root.
struct Site {
    root: Ca,
    genuine: Identity,
}

fn genuine_spec() -> Spec {
    Spec::server("genuine server", vec![ip(DIAL), dns("localhost.test")])
}

impl Site {
    fn new() -> Site {
        let root = Ca::root("pinset test root");
        let genuine = genuine_spec().signed_by(&root);
        Site { root, genuine }
    }

    /// Trusts the site's root and pins its key, as a site's apps do.
    fn pinning_root(&self) -> Arc<PinnedVerifier> {
        PinnedVerifier::builder().anchor(self.root.der()).pin(self.root.pin()).build().expect("verifier")
    }

    /// Trusts the site's root and pins the genuine leaf's key (the key curl pins too).
    fn pinning_leaf(&self) -> Arc<PinnedVerifier> {
        PinnedVerifier::builder().anchor(self.root.der()).pin(self.genuine.pin()).build().expect("verifier")
    }

    /// A certificate from the site's own CA, with the genuine certificate's subject and
    /// names, but another key.
    fn other_key(&self) -> Identity {
        genuine_spec().signed_by(&self.root)
    }

    /// Serves the genuine leaf.
    fn serve_genuine(&self) -> TlsServer {
        TlsServer::serve(&[self.genuine.pem()], &self.genuine.key_pem())
    }
}

fn accepted(result: Result<Session, rustls::Error>, what: &str) -> Session {
    match result {
        Ok(session) => session,
        Err(e) => match VerifyError::from_rustls(&e) {
            Some(v) => panic!("{what}: refused, expected accepted:\n{v}"),
            None => panic!("{what}: refused, expected accepted: {e:?}"),
        },
    }
}

fn refused(result: Result<Session, rustls::Error>, what: &str) -> VerifyError {
    match result {
        Ok(session) => panic!("{what}: accepted, expected refused ({session:?})"),
        Err(e) => VerifyError::from_rustls(&e)
            .unwrap_or_else(|| panic!("{what}: refused, but not by pinset's verifier: {e:?}"))
            .clone(),
    }
}

/// Serves `chain` (leaf first) with `key` and the genuine leaf, each on its own port: the
/// impostor dialled as `dial` must be refused with `kind`, and the genuine server, through
/// the same client configuration, accepted at 127.0.0.1.
fn impostor_refused(
    site: &Site,
    verifier: &Arc<PinnedVerifier>,
    chain: &[String],
    key: &Identity,
    dial: &str,
    kind: FailureKind,
    what: &str,
) -> VerifyError {
    let config = client(verifier);
    let bad = TlsServer::serve(chain, &key.key_pem());
    let err = refused(connect(&config, bad.addr, dial), what);
    assert_eq!(err.kind, kind, "{what}: wrong failure kind:\n{err}");
    assert_eq!(err.server_name, dial, "{what}: the name dialled");
    let good = site.serve_genuine();
    let session = accepted(connect(&config, good.addr, DIAL), &format!("the genuine server (next to {what})"));
    assert!(session.body.contains(RUSTLS_BODY), "the genuine server's answer: {session:?}");
    err
}

/// [`impostor_refused`] for a lone certificate.
fn lone_impostor_refused(
    site: &Site,
    verifier: &Arc<PinnedVerifier>,
    impostor: &Identity,
    dial: &str,
    kind: FailureKind,
    what: &str,
) -> VerifyError {
    impostor_refused(site, verifier, &[impostor.pem()], impostor, dial, kind, what)
}

/// Connects through a client configuration made for this one connection, so what the
/// shared verifier concluded for it is its own, and returns the session with that result.
fn accepted_verified(verifier: &Arc<PinnedVerifier>, addr: SocketAddr, name: &str, what: &str) -> (Session, Verified) {
    let (per_connection, outcome) = verifier.clone().for_connection();
    let config = Arc::new(pinset_tls::verifier::client_config(per_connection).expect("client config"));
    let session = accepted(connect(&config, addr, name), what);
    match outcome.get() {
        Some(Ok(v)) => (session, v.clone()),
        Some(Err(e)) => panic!("{what}: accepted, but this connection's verification failed:\n{e}"),
        None => panic!("{what}: the verifier was never called for this connection"),
    }
}

fn at(t: OffsetDateTime) -> UnixTime {
    UnixTime::since_unix_epoch(Duration::from_secs(u64::try_from(t.unix_timestamp()).expect("after 1970")))
}

fn server_name(name: &str) -> ServerName<'static> {
    ServerName::try_from(name.to_string()).expect("server name")
}

// ---------------------------------------------------------------------------------------
// The genuine server
// ---------------------------------------------------------------------------------------

#[test]
fn the_genuine_server_is_accepted_by_ip_and_by_dns_name() {
    let site = Site::new();
    let verifier = site.pinning_leaf();
    let config = client(&verifier);
    let server = site.serve_genuine();

    let (session, verified) = accepted_verified(&verifier, server.addr, DIAL, "the genuine server by IP");
    assert!(session.body.contains(RUSTLS_BODY), "{session:?}");
    assert_eq!(session.kind, Some(HandshakeKind::Full));
    assert_eq!(verified.pins, PinCheck::Matched { pin: site.genuine.pin(), position: Position::Leaf });
    let chain: Vec<_> = verified.chain.iter().map(|l| (l.position, l.pin, l.subject.as_str(), l.sent)).collect();
    assert_eq!(
        chain,
        [
            (Position::Leaf, site.genuine.pin(), "CN=genuine server", true),
            (Position::Anchor, site.root.pin(), "CN=pinset test root", false),
        ]
    );

    // The same server reached at 127.0.0.1 under its DNS name (SNI localhost.test).
    accepted(connect(&config, server.addr, "localhost.test"), "the genuine server by DNS name");
}

// ---------------------------------------------------------------------------------------
// Impostors, each refused with its own kind
// ---------------------------------------------------------------------------------------

#[test]
fn an_expired_leaf_is_refused() {
    let site = Site::new();
    let mut spec = genuine_spec();
    spec.not_before = days_from_now(-30);
    spec.not_after = days_from_now(-1);
    let expired = spec.signed_by(&site.root);
    let err = lone_impostor_refused(&site, &site.pinning_root(), &expired, DIAL, FailureKind::Expired, "expired");
    assert!(err.detail.contains("valid until"), "{err}");
    assert!(err.to_string().starts_with("a certificate of the chain has expired for 127.0.0.1"), "{err}");
}

#[test]
fn a_leaf_not_yet_valid_is_refused() {
    let site = Site::new();
    let mut spec = genuine_spec();
    spec.not_before = days_from_now(1);
    spec.not_after = days_from_now(30);
    let early = spec.signed_by(&site.root);
    let err =
        lone_impostor_refused(&site, &site.pinning_root(), &early, DIAL, FailureKind::NotYetValid, "not yet valid");
    assert!(err.detail.contains("valid from"), "{err}");
}

#[test]
fn a_certificate_for_another_ip_is_refused() {
    let site = Site::new();
    // Same CA, pinned CA key: only the address is wrong.
    let other_ip = Spec::server("genuine server", vec![ip("127.0.0.2")]).signed_by(&site.root);
    let err = lone_impostor_refused(
        &site,
        &site.pinning_root(),
        &other_ip,
        DIAL,
        FailureKind::NameMismatch,
        "a certificate for 127.0.0.2",
    );
    assert!(err.detail.contains("IP:127.0.0.2"), "{err}");
}

#[test]
fn dns_names_match_dns_sans_and_ip_addresses_ip_sans_only() {
    let site = Site::new();
    let verifier = site.pinning_root();
    let mismatch = |cert: &Identity, dial: &str, what: &str| {
        lone_impostor_refused(&site, &verifier, cert, dial, FailureKind::NameMismatch, what)
    };

    let other = Spec::server("genuine server", vec![dns("other.test")]).signed_by(&site.root);
    let err = mismatch(&other, "localhost.test", "a certificate for other.test dialled as localhost.test");
    assert!(err.detail.contains("DNS:other.test"), "{err}");

    // The genuine certificate names localhost.test, not localhost.
    let err = mismatch(&site.genuine, "localhost", "localhost.test's certificate dialled as localhost");
    assert!(err.detail.contains("IP:127.0.0.1") && err.detail.contains("DNS:localhost.test"), "{err}");

    // Connected to 127.0.0.1 under a DNS name: an iPAddress SAN does not answer a DNS name.
    let ip_only = Spec::server("genuine server", vec![ip(DIAL)]).signed_by(&site.root);
    mismatch(&ip_only, "localhost", "an IP-only certificate dialled as localhost");

    // ... nor a dNSName SAN spelling the address an IP literal.
    let dns_spelled_ip = Spec::server("genuine server", vec![dns(DIAL)]).signed_by(&site.root);
    mismatch(&dns_spelled_ip, DIAL, "a dNSName \"127.0.0.1\" dialled as the IP 127.0.0.1");

    // No fallback to the CN, for an address or a host.
    let cn_ip = Spec::server(DIAL, vec![]).signed_by(&site.root);
    let err = mismatch(&cn_ip, DIAL, "CN=127.0.0.1 without SANs");
    assert!(err.detail.contains("the CN is never used"), "{err}");
    let cn_dns = Spec::server("localhost.test", vec![]).signed_by(&site.root);
    mismatch(&cn_dns, "localhost.test", "CN=localhost.test without SANs");

    // And the genuine server under its DNS name is fine.
    accepted(connect(&client(&verifier), site.serve_genuine().addr, "localhost.test"), "genuine as localhost.test");
}

#[test]
fn a_certificate_from_an_untrusted_root_is_refused() {
    let site = Site::new();
    let evil = Ca::root("evil root");
    let impostor = genuine_spec().signed_by(&evil);
    let err = lone_impostor_refused(
        &site,
        &site.pinning_leaf(),
        &impostor,
        DIAL,
        FailureKind::UnknownIssuer,
        "a certificate from an untrusted root",
    );
    // The chain in the report is what the server sent.
    assert_eq!(err.chain.len(), 1, "{err}");
    assert_eq!(err.chain[0].pin, impostor.pin());
    assert!(err.to_string().contains("Peer certificate chain:"), "{err}");
}

#[test]
fn a_root_with_the_site_roots_name_but_another_key_is_refused() {
    let site = Site::new();
    let lookalike = Ca::root("pinset test root");
    let impostor = genuine_spec().signed_by(&lookalike);
    // The issuer name finds the site's anchor, whose key does not verify the signature.
    lone_impostor_refused(
        &site,
        &site.pinning_leaf(),
        &impostor,
        DIAL,
        FailureKind::BadSignature,
        "a root named like the site's",
    );
}

#[test]
fn a_self_signed_impostor_with_the_genuine_subject_and_names_is_refused() {
    let site = Site::new();
    let impostor = genuine_spec().self_signed();
    lone_impostor_refused(
        &site,
        &site.pinning_leaf(),
        &impostor,
        DIAL,
        FailureKind::UnknownIssuer,
        "a self-signed impostor",
    );
}

/// Regression: in report-only mode the first validated path was accepted and its pin
/// mismatch reported, though another path carried the pinned root.
#[test]
fn report_only_tries_every_path_before_reporting_a_mismatch() {
    let active = Ca::root("pinset root A");
    let standby = Ca::root("pinset root B");
    let inter = active.intermediate("pinset intermediate");
    let inter_by_standby = inter.cross_signed_by("pinset intermediate", &standby);
    let leaf = genuine_spec().signed_by(&inter);
    let reports = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = reports.clone();
    let verifier = PinnedVerifier::builder()
        .anchor(active.der())
        .anchor(standby.der())
        .pin(standby.pin())
        .report_only(move |_| {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        })
        .build()
        .expect("verifier");
    let server = TlsServer::serve(&[leaf.pem(), inter.pem(), inter_by_standby.pem()], &leaf.key_pem());
    let (_, verified) = accepted_verified(&verifier, server.addr, DIAL, "report-only, pinned path second");
    assert_eq!(verified.pins, PinCheck::Matched { pin: standby.pin(), position: Position::Anchor });
    assert_eq!(reports.load(std::sync::atomic::Ordering::SeqCst), 0, "nothing to report: a path matched");
}

/// The name is checked before the pins: a certificate from the site's CA for another
/// address is a name mismatch, whatever its key.
#[test]
fn a_misnamed_certificate_is_a_name_mismatch_before_it_is_a_pin_mismatch() {
    let site = Site::new();
    let err = lone_impostor_refused(
        &site,
        &site.pinning_leaf(),
        &site.other_key(),
        "127.0.0.2",
        FailureKind::NameMismatch,
        "the site's CA, another key, dialled at another address",
    );
    assert!(err.to_string().contains("not valid for the address"), "{err}");
}

#[test]
fn a_certificate_from_the_sites_own_ca_for_another_key_fails_the_pin() {
    let site = Site::new();
    let impostor = site.other_key();
    let err = lone_impostor_refused(
        &site,
        &site.pinning_leaf(),
        &impostor,
        DIAL,
        FailureKind::PinMismatch,
        "the site's CA, another key",
    );
    assert_eq!(err.expected_pins, [site.genuine.pin()]);
    let chain: Vec<_> = err.chain.iter().map(|l| (l.position, l.pin, l.sent)).collect();
    assert_eq!(
        chain,
        [(Position::Leaf, impostor.pin(), true), (Position::Anchor, site.root.pin(), false)],
        "the validated chain, anchor included:\n{err}"
    );
    let message = err.to_string();
    for line in [
        "certificate pinning failure: no pinned key in the validated chain for 127.0.0.1".to_string(),
        "  Validated chain:\n".to_string(),
        format!("\n    sha256/{}: CN=genuine server\n", impostor.pin()),
        format!("\n    sha256/{}: CN=pinset test root (trust anchor, not sent)\n", site.root.pin()),
        "  Pinned certificates for 127.0.0.1:\n".to_string(),
        format!("\n    sha256/{}\n", site.genuine.pin()),
    ] {
        assert!(message.contains(&line), "the message lacks {line:?}:\n{message}");
    }
}

#[test]
fn a_ca_certificate_used_as_the_server_certificate_is_refused() {
    let site = Site::new();
    let mut spec = genuine_spec();
    spec.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_as_leaf = spec.signed_by(&site.root);
    let err = lone_impostor_refused(
        &site,
        &site.pinning_root(),
        &ca_as_leaf,
        DIAL,
        FailureKind::CaUsedAsEndEntity,
        "a CA certificate as the server's",
    );
    assert!(err.detail.contains("CA:TRUE"), "{err}");
}

#[test]
fn a_client_only_certificate_is_refused() {
    let site = Site::new();
    let mut spec = genuine_spec();
    spec.eku = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client_only = spec.signed_by(&site.root);
    let err = lone_impostor_refused(
        &site,
        &site.pinning_root(),
        &client_only,
        DIAL,
        FailureKind::BadUsage,
        "EKU clientAuth only",
    );
    assert!(err.detail.contains("lacks serverAuth"), "{err}");
}

// ---------------------------------------------------------------------------------------
// Chains with an intermediate
// ---------------------------------------------------------------------------------------

#[test]
fn an_intermediate_must_be_sent_in_any_order() {
    let site = Site::new();
    let inter = site.root.intermediate("pinset test intermediate");
    let leaf = genuine_spec().signed_by(&inter);
    let unrelated = Ca::root("unrelated CA");
    // Pins the intermediate (as this chain's apps would) and the root (so that the genuine
    // server, issued by the root directly, passes too).
    let verifier = PinnedVerifier::builder()
        .anchor(site.root.der())
        .pin(inter.pin())
        .pin(site.root.pin())
        .build()
        .expect("verifier pinning the CAs");

    // Leaf only: the intermediate is missing.
    let err = impostor_refused(
        &site,
        &verifier,
        &[leaf.pem()],
        &leaf,
        DIAL,
        FailureKind::UnknownIssuer,
        "a leaf without its intermediate",
    );
    assert!(err.detail.contains("did not send"), "{err}");

    for (chain, anchor_sent, what) in [
        (vec![leaf.pem(), inter.pem()], false, "leaf, intermediate"),
        (vec![leaf.pem(), unrelated.pem(), inter.pem()], false, "leaf, unrelated CA, intermediate"),
        (vec![leaf.pem(), site.root.pem(), inter.pem()], true, "leaf, root, intermediate"),
    ] {
        let server = TlsServer::serve(&chain, &leaf.key_pem());
        let (_, verified) = accepted_verified(&verifier, server.addr, DIAL, what);
        assert_eq!(verified.pins, PinCheck::Matched { pin: inter.pin(), position: Position::Intermediate }, "{what}");
        let chain: Vec<_> = verified.chain.iter().map(|l| (l.position, l.pin, l.sent)).collect();
        assert_eq!(
            chain,
            [
                (Position::Leaf, leaf.pin(), true),
                (Position::Intermediate, inter.pin(), true),
                (Position::Anchor, site.root.pin(), anchor_sent),
            ],
            "{what}: the validated chain"
        );
    }
}

#[test]
fn any_validated_path_carrying_a_pin_is_accepted_and_reported_as_matched() {
    // The intermediate is cross-signed: by the active root and by the standby root, both
    // trusted. Only the standby root is pinned; the path through the active root is
    // tried first (its certificate is sent first), refused, and the next one accepted.
    let active = Ca::root("pinset root A");
    let standby = Ca::root("pinset root B");
    let inter = active.intermediate("pinset intermediate");
    let inter_by_standby = inter.cross_signed_by("pinset intermediate", &standby);
    let leaf = genuine_spec().signed_by(&inter);
    let verifier = PinnedVerifier::builder()
        .anchor(active.der())
        .anchor(standby.der())
        .pin(standby.pin())
        .build()
        .expect("verifier");

    for (chain, what) in [
        (vec![leaf.pem(), inter.pem(), inter_by_standby.pem()], "via root A first"),
        (vec![leaf.pem(), inter_by_standby.pem(), inter.pem()], "via root B first"),
    ] {
        let server = TlsServer::serve(&chain, &leaf.key_pem());
        let (_, verified) = accepted_verified(&verifier, server.addr, DIAL, what);
        assert_eq!(verified.pins, PinCheck::Matched { pin: standby.pin(), position: Position::Anchor }, "{what}");
        assert_eq!(verified.chain.last().map(|l| l.pin), Some(standby.pin()), "{what}: the path through root B");
    }

    // Pinning neither root refuses both paths with the pin failure.
    let unpinned = PinnedVerifier::builder()
        .anchor(active.der())
        .anchor(standby.der())
        .pin(Ca::root("elsewhere").pin())
        .build()
        .expect("verifier");
    let server = TlsServer::serve(&[leaf.pem(), inter.pem(), inter_by_standby.pem()], &leaf.key_pem());
    let err = refused(connect(&client(&unpinned), server.addr, DIAL), "no pinned root");
    assert_eq!(err.kind, FailureKind::PinMismatch, "{err}");
}

#[test]
fn openssl_s_server_with_and_without_its_intermediate() {
    let dir = tempdir();
    let root = Ca::root("pinset test root");
    let inter = root.intermediate("pinset test intermediate");
    let leaf = genuine_spec().signed_by(&inter);
    let unrelated = Ca::root("unrelated CA");
    let verifier = PinnedVerifier::builder().anchor(root.der()).pin(root.pin()).build().expect("verifier");
    let config = client(&verifier);

    let alone = OpensslServer::start_pem(dir.path(), "alone", &leaf.pem(), &leaf.key_pem(), &[]);
    let err = refused(connect(&config, alone.addr, DIAL), "s_server sending the leaf only");
    assert_eq!(err.kind, FailureKind::UnknownIssuer, "{err}");

    for (name, chain) in [("with-intermediate", vec![inter.pem()]), ("shuffled", vec![unrelated.pem(), inter.pem()])] {
        let server = OpensslServer::start_pem(dir.path(), name, &leaf.pem(), &leaf.key_pem(), &chain);
        let (session, verified) = accepted_verified(&verifier, server.addr, DIAL, name);
        assert!(session.body.contains("s_server"), "{name}: the -www status page: {session:?}");
        assert_eq!(verified.pins, PinCheck::Matched { pin: root.pin(), position: Position::Anchor }, "{name}");
        assert_eq!(verified.chain.len(), 3, "{name}: leaf, intermediate, anchor");
    }
}

// ---------------------------------------------------------------------------------------
// Pins: anchors, expiry, report-only, pin-only
// ---------------------------------------------------------------------------------------

#[test]
fn an_anchor_pin_matches_though_the_root_is_not_sent() {
    let site = Site::new();
    let verifier = site.pinning_root();

    for (chain, sent) in [(vec![site.genuine.pem()], false), (vec![site.genuine.pem(), site.root.pem()], true)] {
        let server = TlsServer::serve(&chain, &site.genuine.key_pem());
        let (_, verified) = accepted_verified(&verifier, server.addr, DIAL, "the genuine server");
        assert_eq!(verified.pins, PinCheck::Matched { pin: site.root.pin(), position: Position::Anchor });
        let anchor = verified.chain.last().expect("an anchor");
        assert_eq!((anchor.position, anchor.pin, anchor.sent), (Position::Anchor, site.root.pin(), sent));
        assert_eq!(anchor.subject, "CN=pinset test root");
    }
}

#[test]
fn expired_pins_are_skipped_but_the_anchors_still_apply() {
    let site = Site::new();
    let today = OffsetDateTime::now_utc().date();
    let yesterday = today.previous_day().expect("a day before today");
    let impostor = site.other_key();
    let pins_expired = |last_day| {
        PinnedVerifier::builder()
            .anchor(site.root.der())
            .pin(site.genuine.pin())
            .pins_expire_after(last_day)
            .build()
            .expect("verifier")
    };

    // The pins applied up to yesterday: a certificate of the site's CA that does not match
    // them is accepted.
    let verifier = pins_expired(yesterday);
    let server = TlsServer::serve(&[impostor.pem()], &impostor.key_pem());
    let (_, verified) = accepted_verified(&verifier, server.addr, DIAL, "pins expired");
    assert_eq!(verified.pins, PinCheck::Expired { expired_after: yesterday });

    // Anchors are still enforced.
    let self_signed = genuine_spec().self_signed();
    lone_impostor_refused(
        &site,
        &verifier,
        &self_signed,
        DIAL,
        FailureKind::UnknownIssuer,
        "a self-signed impostor, pins expired",
    );

    // Pins that apply up to and including today still apply.
    lone_impostor_refused(
        &site,
        &pins_expired(today),
        &impostor,
        DIAL,
        FailureKind::PinMismatch,
        "the site's CA, another key, pins expiring tonight",
    );
}

#[test]
fn report_only_reports_a_pin_mismatch_and_lets_the_connection_through() {
    let site = Site::new();
    let reports: Arc<Mutex<Vec<VerifyError>>> = Arc::default();
    let sink = reports.clone();
    let verifier = PinnedVerifier::builder()
        .anchor(site.root.der())
        .pin(site.genuine.pin())
        .report_only(move |e| sink.lock().expect("reports").push(e.clone()))
        .build()
        .expect("verifier");
    let config = client(&verifier);
    let reported = || reports.lock().expect("reports").clone();

    let impostor = site.other_key();
    let server = TlsServer::serve(&[impostor.pem()], &impostor.key_pem());
    let (session, verified) = accepted_verified(&verifier, server.addr, DIAL, "report-only, wrong pin");
    assert!(session.body.contains(RUSTLS_BODY), "{session:?}");
    assert_eq!(verified.pins, PinCheck::MismatchReported);
    let seen = reported();
    assert_eq!(seen.len(), 1, "one report");
    assert_eq!(seen[0].kind, FailureKind::PinMismatch);
    assert_eq!(seen[0].chain[0].pin, impostor.pin(), "the report names the key seen");
    assert_eq!(seen[0].expected_pins, [site.genuine.pin()]);

    // The genuine server is no mismatch; chain and name failures are refused, not reported.
    let server = site.serve_genuine();
    let (_, verified) = accepted_verified(&verifier, server.addr, DIAL, "report-only, genuine");
    assert_eq!(verified.pins, PinCheck::Matched { pin: site.genuine.pin(), position: Position::Leaf });
    let self_signed = genuine_spec().self_signed();
    let err = refused(
        connect(&config, TlsServer::serve(&[self_signed.pem()], &self_signed.key_pem()).addr, DIAL),
        "report-only, self-signed",
    );
    assert_eq!(err.kind, FailureKind::UnknownIssuer);
    let other_ip = Spec::server("genuine server", vec![ip("127.0.0.2")]).signed_by(&site.root);
    let err = refused(
        connect(&config, TlsServer::serve(&[other_ip.pem()], &other_ip.key_pem()).addr, DIAL),
        "report-only, other IP",
    );
    assert_eq!(err.kind, FailureKind::NameMismatch);
    assert_eq!(reported().len(), 1, "still the one report");
}

#[test]
fn pin_only_accepts_a_self_signed_server_at_another_address_by_its_pin() {
    let printer = Spec::server("printer", vec![ip("10.9.9.9")]).self_signed();
    let pin_only = |pin: Pin| {
        PinnedVerifier::builder()
            .anchor(printer.der())
            .pin(pin)
            .pin_only_without_name_check()
            .build()
            .expect("verifier")
    };
    let serve_printer = || TlsServer::serve(&[printer.pem()], &printer.key_pem());

    // Its address changed (DHCP): dialled at 127.0.0.1, the pin vouches for it.
    let verifier = pin_only(printer.pin());
    let server = serve_printer();
    let (_, verified) = accepted_verified(&verifier, server.addr, DIAL, "pin-only, right pin");
    assert_eq!(verified.pins, PinCheck::MatchedWithoutNameCheck { pin: printer.pin() });

    // A wrong pin is refused.
    let wrong = pin_only(Ca::root("elsewhere").pin());
    let err = refused(connect(&client(&wrong), serve_printer().addr, DIAL), "pin-only, wrong pin");
    assert_eq!(err.kind, FailureKind::PinMismatch, "{err}");

    // Another self-signed certificate for the same address is not an anchor: named like the
    // anchor, its signature is checked with the anchor's key and fails; named otherwise,
    // no anchor issued it.
    for (cn, kind) in [("printer", FailureKind::BadSignature), ("other printer", FailureKind::UnknownIssuer)] {
        let other = Spec::server(cn, vec![ip("10.9.9.9")]).self_signed();
        let err = refused(
            connect(&client(&verifier), TlsServer::serve(&[other.pem()], &other.key_pem()).addr, DIAL),
            &format!("pin-only, another self-signed CN={cn}"),
        );
        assert_eq!(err.kind, kind, "{err}");
    }

    // Without pin-only, the same anchor and pin at the new address fail the name check.
    let named =
        PinnedVerifier::builder().anchor(printer.der()).pin(printer.pin()).build().expect("verifier with names");
    let err = refused(connect(&client(&named), serve_printer().addr, DIAL), "not pin-only");
    assert_eq!(err.kind, FailureKind::NameMismatch, "{err}");
}

#[test]
fn pin_only_skips_the_name_check_only_when_a_pin_matched() {
    // Two self-signed servers of one site, both anchors; the verifier of the printer's app
    // pins the printer's key only.
    let printer = Spec::server("printer", vec![ip("10.9.9.9")]).self_signed();
    let scanner = Spec::server("scanner", vec![ip("10.8.8.8")]).self_signed();
    let name = server_name("10.9.9.9");
    let now = UnixTime::now();
    let builder = || {
        PinnedVerifier::builder()
            .anchor(printer.der())
            .anchor(scanner.der())
            .pin(printer.pin())
            .pin_only_without_name_check()
    };

    // Pins in force: the scanner is refused for its key.
    let err = builder().build().expect("verifier").verify(&scanner.der(), &[], &name, now).expect_err("scanner");
    assert_eq!(err.kind, FailureKind::PinMismatch, "{err}");

    // Pins expired: no pin vouches for the scanner, so its name must (and does not).
    let yesterday = OffsetDateTime::now_utc().date().previous_day().expect("yesterday");
    let expired = builder().pins_expire_after(yesterday).build().expect("verifier");
    let err = expired.verify(&scanner.der(), &[], &name, now).expect_err("scanner, pins expired");
    assert_eq!(err.kind, FailureKind::NameMismatch, "{err}");
    let at_home = expired.verify(&printer.der(), &[], &name, now).expect("the printer at its own address");
    assert_eq!(at_home.pins, PinCheck::Expired { expired_after: yesterday });

    // Report-only: a mismatch merely reported vouches for nothing either.
    let reports = Arc::new(AtomicUsize::new(0));
    let count = reports.clone();
    let report_only = builder()
        .report_only(move |_| {
            count.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .expect("verifier");
    let err = report_only.verify(&scanner.der(), &[], &name, now).expect_err("scanner, report-only");
    assert_eq!(err.kind, FailureKind::NameMismatch, "{err}");
    let scanner_name = server_name("10.8.8.8");
    let verified = report_only.verify(&scanner.der(), &[], &scanner_name, now).expect("scanner at its own address");
    assert_eq!(verified.pins, PinCheck::MismatchReported);
    assert_eq!(reports.load(Ordering::SeqCst), 1);
}

// ---------------------------------------------------------------------------------------
// Session resumption
// ---------------------------------------------------------------------------------------

#[test]
fn a_resumed_session_cannot_carry_an_impostor_past_the_pin() {
    let site = Site::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let verifier = PinnedVerifier::builder()
        .anchor(site.root.der())
        .pin(site.genuine.pin())
        .observe(Arc::new(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
        }))
        .build()
        .expect("verifier");
    let impostor = site.other_key();

    for (label, config, version) in [
        ("TLS 1.3", client(&verifier), ProtocolVersion::TLSv1_3),
        ("TLS 1.2", client_tls12(verifier.clone()), ProtocolVersion::TLSv1_2),
    ] {
        let genuine = site.serve_genuine();
        let first = accepted(connect(&config, genuine.addr, DIAL), &format!("{label}: genuine, first"));
        assert_eq!((first.kind, first.version), (Some(HandshakeKind::Full), Some(version)), "{label}");
        let verified_so_far = calls.load(Ordering::SeqCst);

        // The session is resumed: the chain is not verified again.
        let second = accepted(connect(&config, genuine.addr, DIAL), &format!("{label}: genuine, resumed"));
        assert_eq!(second.kind, Some(HandshakeKind::Resumed), "{label}: {second:?}");
        assert_eq!(calls.load(Ordering::SeqCst), verified_so_far, "{label}: no verification on resumption");

        // Same ServerName, another port, a certificate of the site's CA with another key:
        // the impostor cannot resume the genuine session, so it is verified and refused.
        let bad = TlsServer::serve(&[impostor.pem()], &impostor.key_pem());
        let err = refused(connect(&config, bad.addr, DIAL), &format!("{label}: impostor after a stored session"));
        assert_eq!(err.kind, FailureKind::PinMismatch, "{label}: {err}");
        assert_eq!(calls.load(Ordering::SeqCst), verified_so_far + 1, "{label}: the impostor was verified");
    }
}

// ---------------------------------------------------------------------------------------
// Offline verification at a chosen time
// ---------------------------------------------------------------------------------------

#[test]
fn offline_verification_at_a_chosen_time() {
    let root = Ca::root_valid("pinset test root", datetime!(2000-01-01 0:00 UTC), datetime!(2010-01-01 0:00 UTC));
    let mut spec = genuine_spec();
    spec.not_before = datetime!(2001-01-01 0:00 UTC);
    spec.not_after = datetime!(2003-01-01 0:00 UTC);
    let leaf = spec.signed_by(&root);
    let name = server_name(DIAL);
    let verifier = PinnedVerifier::builder().anchor(root.der()).pin(leaf.pin()).build().expect("verifier");

    let ok = verifier.verify(&leaf.der(), &[], &name, at(datetime!(2002-06-01 0:00 UTC))).expect("within validity");
    assert_eq!(ok.pins, PinCheck::Matched { pin: leaf.pin(), position: Position::Leaf });

    let err = verifier.verify(&leaf.der(), &[], &name, at(datetime!(2003-06-01 0:00 UTC))).expect_err("after");
    assert_eq!(err.kind, FailureKind::Expired, "{err}");
    assert_eq!(err.detail, "valid until 2003-01-01T00:00:00Z, checked at 2003-06-01T00:00:00Z");
    let err = verifier.verify(&leaf.der(), &[], &name, at(datetime!(2003-01-01 0:00:01 UTC))).expect_err("just after");
    assert_eq!(err.kind, FailureKind::Expired, "{err}");

    let err = verifier.verify(&leaf.der(), &[], &name, at(datetime!(2000-06-01 0:00 UTC))).expect_err("before");
    assert_eq!(err.kind, FailureKind::NotYetValid, "{err}");

    // The pins' last day, inclusive, on the verification's own clock.
    let wrong_pin = PinnedVerifier::builder()
        .anchor(root.der())
        .pin(root_pin_of_nothing())
        .pins_expire_after(date!(2001 - 12 - 31))
        .build()
        .expect("verifier");
    let err = wrong_pin
        .verify(&leaf.der(), &[], &name, at(datetime!(2001-12-31 23:59:59 UTC)))
        .expect_err("on the pins' last day");
    assert_eq!(err.kind, FailureKind::PinMismatch, "{err}");
    let ok = wrong_pin.verify(&leaf.der(), &[], &name, at(datetime!(2002-01-01 0:00 UTC))).expect("the day after");
    assert_eq!(ok.pins, PinCheck::Expired { expired_after: date!(2001 - 12 - 31) });
}

/// A pin no certificate of these tests has.
fn root_pin_of_nothing() -> Pin {
    Pin::of_spki(b"no key at all")
}

// ---------------------------------------------------------------------------------------
// curl agrees
// ---------------------------------------------------------------------------------------

#[test]
fn curl_with_the_ca_and_the_leaf_pin_agrees_with_pinset() {
    let dir = tempdir();
    let site = Site::new();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, site.root.pem()).expect("write ca.pem");
    let verifier = site.pinning_leaf();
    let config = client(&verifier);

    let self_signed = genuine_spec().self_signed();
    let other_key = site.other_key();
    // (name, served identity, pin given to both, curl's exit code, pinset's verdict)
    let cases: [(&str, &Identity, Pin, i32, Option<FailureKind>); 4] = [
        ("genuine", &site.genuine, site.genuine.pin(), 0, None),
        ("self-signed", &self_signed, site.genuine.pin(), 60, Some(FailureKind::UnknownIssuer)),
        ("other-key", &other_key, site.genuine.pin(), 90, Some(FailureKind::PinMismatch)),
        // The genuine server against a pin it does not carry: both refuse.
        ("genuine-wrong-pin", &site.genuine, self_signed.pin(), 90, Some(FailureKind::PinMismatch)),
    ];
    for (name, identity, pin, curl_exit, pinset_kind) in cases {
        let server = OpensslServer::start_pem(dir.path(), name, &identity.pem(), &identity.key_pem(), &[]);
        let out = curl_pinned(&ca_file, pin, &server.url());
        let (code, stderr) = (out.status.code(), String::from_utf8_lossy(&out.stderr));
        assert_eq!(code, Some(curl_exit), "{name}: curl's exit code; stderr:\n{stderr}");

        let verifier = if pin == site.genuine.pin() {
            verifier.clone()
        } else {
            PinnedVerifier::builder().anchor(site.root.der()).pin(pin).build().expect("verifier")
        };
        let config = if pin == site.genuine.pin() { config.clone() } else { client(&verifier) };
        let result = connect(&config, server.addr, DIAL);
        match pinset_kind {
            None => {
                let session = accepted(result, name);
                assert!(session.body.contains("s_server"), "{name}: {session:?}");
            }
            Some(kind) => assert_eq!(refused(result, name).kind, kind, "{name}"),
        }
        assert_eq!(code == Some(0), pinset_kind.is_none(), "{name}: curl and pinset disagree");
    }
}
