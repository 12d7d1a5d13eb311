//! The probe against real servers on loopback, through the library: which supported
//! releases can connect (and their metric), and the validated chain's expiry counting the
//! site's anchor, which a server does not send and validators do not date-check.

use std::sync::Arc;

use pinset::Target;
use pinset::plan::{AuthorityMode, PinTarget};
use pinset::trust::{Anchor, Owner, ServerTrust, SiteTrust, TrustPin};
use pinset_check::check::{self, Options};
use pinset_check::{Probe, SiteContext, Status};
use pinset_testkit::TlsServer;
use pinset_testkit::pki::{Ca, Spec, days_from_now, ip};
use pinset_testkit::site::LibrarySite;

fn probe(server: &TlsServer, site: &Arc<SiteContext>) -> Probe {
    Probe { target: Target::parse(&server.authority(), None).expect("target"), name: None, site: Some(site.clone()) }
}

fn run(probes: &[Probe]) -> pinset_check::Round {
    pinset_net::block_on(check::run(probes, &Options::default(), &mut |_, _| {})).expect("runtime")
}

#[test]
fn each_release_connects_only_with_a_pin_in_the_validated_chain() {
    let lib = LibrarySite::new("shop", vec![pinset_testkit::V4]);
    let server = TlsServer::builder(lib.server_config()).start();
    let trust = lib.site.trust().expect("trust");
    let active = trust.anchors[0].pin;
    let standby = trust.anchors[1].pin;
    let elsewhere = Ca::root("another site").pin();
    let site = Arc::new(SiteContext::new(trust).expect("context").with_releases([
        ("2.0".to_string(), vec![active, standby]),
        ("1.0".to_string(), vec![standby]),
        ("0.9".to_string(), vec![elsewhere]),
    ]));
    let round = run(&[probe(&server, &site)]);
    let r = &round.targets[0];
    let connects: Vec<(&str, bool)> = r.releases.iter().map(|x| (x.release.as_str(), x.can_connect)).collect();
    assert_eq!(connects, [("2.0", true), ("1.0", false), ("0.9", false)]);
    assert_eq!(r.status, Status::Critical, "{:?}", r.problems);
    assert!(r.problems.iter().any(|p| p.text.contains("cannot connect: 1.0, 0.9")), "{:?}", r.problems);
    assert_eq!(round.sites[0].releases, ["2.0", "1.0", "0.9"]);
    let text = pinset_check::metrics::encode_round(&round);
    let target = server.authority();
    for (release, value) in [("2.0", 1), ("1.0", 0), ("0.9", 0)] {
        let line =
            format!("pinset_release_can_connect{{target=\"{target}\",site=\"shop\",release=\"{release}\"}} {value}");
        assert!(text.contains(&line), "{line} in:\n{text}");
    }

    // Every release connects once the site's pins are all it carries.
    let trust = lib.site.trust().expect("trust");
    let site = Arc::new(SiteContext::new(trust).expect("context").with_releases([("2.0".to_string(), vec![active])]));
    let round = run(&[probe(&server, &site)]);
    assert_eq!(round.targets[0].status, Status::Ok, "{:?}", round.targets[0].problems);
    assert!(round.targets[0].releases[0].can_connect);
}

#[test]
fn the_anchor_ending_first_is_the_validated_chains_expiry() {
    // A site CA that ends in 5 days, a server certificate it issued for 30, sent alone.
    let ca = Ca::root_valid("short-lived site CA", days_from_now(-1), days_from_now(5));
    let leaf = Spec::server("127.0.0.1", vec![ip("127.0.0.1")]).signed_by(&ca);
    let server = TlsServer::serve(&[leaf.pem()], &leaf.key_pem());
    let der = ca.der().to_vec();
    let anchor = Anchor {
        stem: "ca".into(),
        role: pinset::Role::Active,
        owner: Owner::Authority,
        subject: "CN=short-lived site CA".into(),
        der: der.clone(),
        pem: ca.pem(),
        pin: ca.pin(),
        not_after: pinset::cert::parse("ca", &der).expect("ca").validity().not_after.to_datetime(),
        path: "ca.pem".into(),
    };
    let pin = TrustPin { pin: ca.pin(), role: pinset::Role::Active, owner: Owner::Authority };
    let trust = SiteTrust {
        site: "shop".into(),
        pin_target: PinTarget::Ca,
        mode: AuthorityMode::Ca,
        pins_expire_after: None,
        servers: vec![ServerTrust {
            name: "server".into(),
            hosts: vec![pinset::Host::Ip(pinset_testkit::V4)],
            pins: vec![pin.clone()],
            leaf_pins: vec![],
        }],
        anchors: vec![anchor.clone()],
    };
    let site = Arc::new(SiteContext::new(trust).expect("context"));
    let round = run(&[probe(&server, &site)]);
    let r = &round.targets[0];
    assert_eq!(r.verify.as_ref().map(|v| v.ok), Some(true), "validators accept it: {:?}", r.verify);
    assert_eq!(r.validated_expiry, Some(anchor.not_after));
    assert!(r.presented_expiry.is_some_and(|p| p > anchor.not_after), "the leaf ends later");
    assert!(matches!(r.days_left, Some(4 | 5)), "{:?}", r.days_left);
    assert_eq!(r.status, Status::Critical);
    assert!(r.problems.iter().any(|p| p.text.contains("site's anchor")), "{:?}", r.problems);
    assert_eq!(round.sites[0].anchors[0].status, Status::Critical);
    let metric = format!(
        "probe_ssl_last_chain_expiry_timestamp_seconds{{target=\"{}\",site=\"shop\"}} {}",
        server.authority(),
        anchor.not_after.unix_timestamp()
    );
    let text = pinset_check::metrics::encode_round(&round);
    assert!(text.contains(&metric), "{metric} in:\n{text}");
}
