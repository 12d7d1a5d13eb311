//! [`SiteVerifier`] over real handshakes on loopback: each address is held to the pins the
//! site's exports pin for it, an address that is not the site's is refused as such, and one
//! verifier shared by concurrent handshakes reports each connection's own verdict.
//!
//! Also the checks a handshake would otherwise make only later or not at all: a leaf key
//! TLS clients cannot verify, a leaf allowed to sign certificates, and a revoked leaf.
//!
//! Run with `cargo test -p pinset-tls --test site_verifier`.

use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread;

use pinset::Host;
use pinset_testkit::TlsServer;
use pinset_testkit::client::connect;
use pinset_testkit::net::IO_TIMEOUT;
use pinset_testkit::pki::{Ca, Identity, Spec, days_from_now, dns, ip};
use pinset_testkit::rustls_server::RUSTLS_BODY;
use pinset_tls::verifier::{PinCheck, Position};
use pinset_tls::{ChainVerifier, FailureKind, PinnedVerifier, SiteVerifier, VerifyError};
use rcgen::KeyUsagePurpose;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

/// Serves `chain` with `key_pem` on 127.0.0.1, every connection in a thread of its own, so
/// handshakes really overlap.
fn serve_concurrently(chain: &[String], key_pem: &str) -> SocketAddr {
    let config =
        Arc::new(pinset_tls::server_config(chain.concat().as_bytes(), key_pem.as_bytes()).expect("server config"));
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("listen on 127.0.0.1");
    let addr = listener.local_addr().expect("local address");
    thread::spawn(move || {
        for sock in listener.incoming().flatten() {
            let config = config.clone();
            thread::spawn(move || {
                let _ = sock.set_read_timeout(Some(IO_TIMEOUT));
                let Ok(conn) = rustls::ServerConnection::new(config) else { return };
                let mut tls = rustls::StreamOwned::new(conn, sock);
                let mut buf = [0u8; 512];
                if matches!(tls.read(&mut buf), Ok(n) if n > 0) {
                    let _ = tls.write_all(format!("HTTP/1.0 200 OK\r\n\r\n{RUSTLS_BODY}\n").as_bytes());
                    tls.conn.send_close_notify();
                    let _ = tls.flush();
                }
            });
        }
    });
    addr
}

fn name(s: &str) -> ServerName<'static> {
    ServerName::try_from(s.to_string()).expect("server name")
}

fn host(s: &str) -> Host {
    Host::parse_pattern(s).expect("host")
}

#[test]
fn one_verifier_under_32_concurrent_handshakes_gives_each_connection_its_own_verdict() {
    let root = Ca::root("site root");
    let genuine = Spec::server("genuine", vec![ip("127.0.0.1")]).signed_by(&root);
    let impostor_root = Ca::root("impostor root");
    let impostor = Spec::server("genuine", vec![ip("127.0.0.1")]).signed_by(&impostor_root);
    let verifier = PinnedVerifier::builder().anchor(root.der()).pin(root.pin()).build().expect("verifier");
    let good = serve_concurrently(&[genuine.pem()], &genuine.key_pem());
    let bad = serve_concurrently(&[impostor.pem()], &impostor.key_pem());

    let barrier = Arc::new(std::sync::Barrier::new(32));
    let handles: Vec<_> = (0..32)
        .map(|i| {
            let verifier = verifier.clone();
            let barrier = barrier.clone();
            let genuine_side = i % 2 == 0;
            thread::spawn(move || {
                let (per_connection, outcome) = verifier.for_connection();
                let config = Arc::new(pinset_tls::verifier::client_config(per_connection).expect("config"));
                barrier.wait();
                let session = connect(&config, if genuine_side { good } else { bad }, "127.0.0.1");
                (genuine_side, session.is_ok(), outcome)
            })
        })
        .collect();
    for h in handles {
        let (genuine_side, connected, outcome) = h.join().expect("client thread");
        match (genuine_side, outcome.get()) {
            (true, Some(Ok(v))) => {
                assert!(connected, "the genuine server was accepted, so the connection must have gone through");
                assert_eq!(v.pins, PinCheck::Matched { pin: root.pin(), position: Position::Anchor });
            }
            (false, Some(Err(e))) => {
                assert!(!connected, "an impostor's connection went through");
                assert_eq!(e.kind, FailureKind::UnknownIssuer, "{e}");
            }
            (side, other) => {
                panic!("connection to the {} server: {other:?}", if side { "genuine" } else { "impostor" })
            }
        }
    }
}

/// A site with two servers under one CA, apps pinning each server's own key (pin = "leaf").
struct TwoServers {
    root: Ca,
    till: Identity,
    hub: Identity,
    verifier: Arc<SiteVerifier>,
}

fn two_servers() -> TwoServers {
    let root = Ca::root("shop CA");
    let till = Spec::server("till", vec![ip("127.0.0.1"), dns("till.shop.test")]).signed_by(&root);
    let hub = Spec::server("hub", vec![ip("127.0.0.2"), dns("hub.shop.test")]).signed_by(&root);
    let verifier = SiteVerifier::builder("shop")
        .anchor(root.der())
        .server_pins(vec![host("127.0.0.1"), host("till.shop.test")], vec![till.pin()])
        .server_pins(vec![host("127.0.0.2"), host("*.hub.shop.test"), host("hub.shop.test")], vec![hub.pin()])
        .build()
        .expect("site verifier");
    TwoServers { root, till, hub, verifier }
}

#[test]
fn each_address_accepts_only_the_pins_of_the_server_answering_on_it() {
    let site = two_servers();
    let config = Arc::new(pinset_tls::verifier::client_config(site.verifier.clone()).expect("config"));

    let till = TlsServer::serve(&[site.till.pem()], &site.till.key_pem());
    connect(&config, till.addr, "127.0.0.1").expect("the till at its own address");
    connect(&config, till.addr, "till.shop.test").expect("the till by its DNS name");

    // The hub's certificate is genuine (the site's CA, the right names), but served where
    // the till answers it is not the key apps pin for that address.
    site.verifier.verify(&site.hub.der(), &[], &name("hub.shop.test"), UnixTime::now()).expect("the hub at its name");
    let hub_as_till = Spec::server("hub", vec![ip("127.0.0.1")]).signed_by(&site.root);
    let server = TlsServer::serve(&[hub_as_till.pem()], &hub_as_till.key_pem());
    let refused = connect(&config, server.addr, "127.0.0.1").expect_err("another server's key at the till's address");
    let report = VerifyError::from_rustls(&refused).expect("pinset's report");
    assert_eq!(report.kind, FailureKind::PinMismatch, "{report}");
    assert_eq!(report.expected_pins, [site.till.pin()], "only the till's pins apply at its address");
}

#[test]
fn wildcard_addresses_cover_exactly_one_label() {
    let root = Ca::root("shop CA");
    let verifier = SiteVerifier::builder("shop")
        .anchor(root.der())
        .server_pins(vec![host("*.hub.shop.test")], vec![root.pin()])
        .build()
        .expect("site verifier");
    let hub = Spec::server("hub", vec![dns("a.hub.shop.test"), dns("a.b.hub.shop.test"), dns("hub.shop.test")])
        .signed_by(&root);
    let ok = verifier.verify(&hub.der(), &[], &name("a.hub.shop.test"), UnixTime::now());
    assert!(ok.is_ok(), "{ok:?}");
    for other in ["a.b.hub.shop.test", "hub.shop.test"] {
        let err = verifier.verify(&hub.der(), &[], &name(other), UnixTime::now()).expect_err(other);
        assert_eq!(err.kind, FailureKind::NotSiteAddress, "{other}: {err}");
    }
}

#[test]
fn an_address_that_is_not_the_sites_is_refused_as_such_naming_the_sites_addresses() {
    let site = two_servers();
    let stranger = Spec::server("stranger", vec![ip("127.0.0.9")]).signed_by(&site.root);
    let err =
        site.verifier.verify(&stranger.der(), &[], &name("127.0.0.9"), UnixTime::now()).expect_err("not the site's");
    assert_eq!(err.kind, FailureKind::NotSiteAddress);
    assert!(
        err.detail.contains("site \"shop\", which answers on 127.0.0.1, till.shop.test, 127.0.0.2"),
        "{}",
        err.detail
    );
    assert!(err.to_string().contains("no pins are known for 127.0.0.9: it is not an address of site"), "{err}");
    assert_eq!(site.verifier.pins_for(&name("127.0.0.9")), None);
    assert_eq!(site.verifier.pins_for(&name("HUB.shop.test")), Some(vec![site.hub.pin()]));
}

#[test]
fn a_site_verifier_from_text_matches_one_from_values() {
    let site = two_servers();
    let from_text = SiteVerifier::builder("shop")
        .anchors_pem(site.root.pem().as_bytes())
        .expect("anchors")
        .server(&["127.0.0.1", "till.shop.test"], &[&format!("sha256/{}", site.till.pin())])
        .expect("server")
        .build()
        .expect("verifier");
    assert!(from_text.verify(&site.till.der(), &[], &name("127.0.0.1"), UnixTime::now()).is_ok());
    let bad = SiteVerifier::builder("shop").server(&["10.0.0.0/8"], &[]).err().expect("a network is no address");
    assert!(bad.to_string().contains("10.0.0.0/8"), "{bad}");
    let bad = SiteVerifier::builder("shop").server(&["127.0.0.1"], &["AAAA"]).err().expect("no pin");
    assert!(bad.to_string().contains("32"), "{bad}");
}

/// A leaf signed by `root` with extra key usages.
fn leaf_with_usages(root: &Ca, usages: Vec<KeyUsagePurpose>) -> CertificateDer<'static> {
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).expect("params");
    params.subject_alt_names = vec![ip("127.0.0.1")];
    params.key_usages = usages;
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.signed_by(&key, &root.issuer).expect("sign");
    CertificateDer::from(cert.der().to_vec())
}

#[test]
fn a_leaf_that_may_sign_certificates_is_refused_offline_and_in_a_handshake_alike() {
    let root = Ca::root("root");
    let verifier = PinnedVerifier::builder().anchor(root.der()).build().expect("verifier");
    let leaf = leaf_with_usages(&root, vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyCertSign]);
    let err = verifier.verify(&leaf, &[], &name("127.0.0.1"), UnixTime::now()).expect_err("keyCertSign");
    assert_eq!(err.kind, FailureKind::BadUsage);
    assert!(err.detail.contains("keyCertSign"), "{err}");
    let fine = leaf_with_usages(&root, vec![KeyUsagePurpose::DigitalSignature]);
    assert!(verifier.verify(&fine, &[], &name("127.0.0.1"), UnixTime::now()).is_ok());
}

#[test]
fn a_revoked_leaf_is_refused_and_the_same_chain_accepted_without_the_list() {
    let root = Ca::root("root");
    let leaf = Spec::server("leaf", vec![ip("127.0.0.1")]).signed_by(&root);
    let serial = pinset::cert::parse("leaf", &leaf.der()).expect("parse").raw_serial().to_vec();
    let crl = rcgen::CertificateRevocationListParams {
        this_update: days_from_now(-1),
        next_update: days_from_now(7),
        crl_number: rcgen::SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: vec![rcgen::RevokedCertParams {
            serial_number: rcgen::SerialNumber::from_slice(&serial),
            revocation_time: days_from_now(-1),
            reason_code: Some(rcgen::RevocationReason::KeyCompromise),
            invalidity_date: None,
        }],
        key_identifier_method: rcgen::KeyIdMethod::Sha256,
    }
    .signed_by(&root.issuer)
    .expect("sign the CRL");
    let with_crl =
        PinnedVerifier::builder().anchor(root.der()).crl("test.crl", crl.der().to_vec()).build().expect("verifier");
    let err = with_crl.verify(&leaf.der(), &[], &name("127.0.0.1"), UnixTime::now()).expect_err("revoked");
    assert_eq!(err.kind, FailureKind::Revoked, "{err}");
    let without = PinnedVerifier::builder().anchor(root.der()).build().expect("verifier");
    assert!(without.verify(&leaf.der(), &[], &name("127.0.0.1"), UnixTime::now()).is_ok());

    let err = PinnedVerifier::builder().anchor(root.der()).crl("junk.crl", b"junk".to_vec()).build().expect_err("junk");
    assert!(err.to_string().contains("junk.crl"), "{err}");
}

#[test]
fn a_name_mismatch_lists_every_name_with_its_type_in_full() {
    let root = Ca::root("root");
    let long_dns = format!("{}.example.test", "a".repeat(60));
    let sans = vec![
        ip("127.0.0.1"),
        dns(&long_dns),
        rcgen::SanType::URI("spiffe://shop/till-1".try_into().expect("uri")),
        rcgen::SanType::Rfc822Name("ops@shop.test".try_into().expect("email")),
    ];
    let leaf = Spec::server("leaf", sans).signed_by(&root);
    let verifier = PinnedVerifier::builder().anchor(root.der()).build().expect("verifier");
    let err = verifier.verify(&leaf.der(), &[], &name("10.0.0.9"), UnixTime::now()).expect_err("mismatch");
    assert_eq!(err.kind, FailureKind::NameMismatch);
    assert_eq!(
        err.detail,
        format!("the certificate names IP:127.0.0.1, DNS:{long_dns}, URI:spiffe://shop/till-1, email:ops@shop.test")
    );
}
