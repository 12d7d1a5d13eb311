//! A round as Prometheus metrics, in the OpenMetrics text format (`prometheus-client`).
//!
//! blackbox_exporter's names where the meaning is the same, so dashboards and alert rules
//! written for it work unchanged; pinset's own for what no generic probe knows. Every
//! series of a target carries `target` (`host:port`), and `name` and `site` when the
//! target has them.
//!
//! | metric | value |
//! |---|---|
//! | `probe_success` | 1 when the handshake completed and the chain was accepted (by the site's verifier; without a site, when it names the address) |
//! | `probe_duration_seconds` | how long the probe took |
//! | `probe_ssl_earliest_cert_expiry` | earliest end of validity in the presented chain (Unix time) |
//! | `probe_ssl_last_chain_expiry_timestamp_seconds` | earliest end of validity in the chain validated to the site's anchors, the anchor included |
//! | `probe_tls_version_info{version}` | 1, with the version as blackbox_exporter writes it (`TLS 1.3`) |
//! | `probe_tls_cipher_info{cipher}` | 1, with the cipher suite |
//! | `probe_ssl_last_chain_info{fingerprint_sha256,subject,issuer,serialnumber}` | 1, for the leaf presented |
//! | `pinset_pin_match{kind}` | 1 for the kind of pin the chain carries (`active`, `standby`, `retiring`, `none`), 0 for the others |
//! | `pinset_verify_ok{reason}` | 1 with `reason="ok"`, else 0 with why (the verifier's kind, or the probe's failure: `connect`, `timeout`, `legacy-tls` …) |
//! | `pinset_release_can_connect{release}` | 1 or 0 for each supported release of the site |
//! | `pinset_check_status` | the target's monitoring status as an exit code: 0 ok, 1 warning, 2 critical, 3 unknown |
//! | `pinset_anchor_expiry_timestamp_seconds{site,anchor,role}` | each site anchor's own end of validity (no `target`) |
//! | `pinset_check_duration_seconds` | how long the last round over every target took (no `target`) |
//! | `pinset_check_last_round_timestamp_seconds` | when the last round ended (no `target`) |
//! | `pinset_check_targets` | how many targets a round checks (no `target`) |

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::report::{PinKind, Report, Round};

/// The content type of [`encode`]'s text, for an HTTP response.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

type Labels = Vec<(String, String)>;
type Family64 = Family<Labels, Gauge<f64, AtomicU64>>;

fn gauge(registry: &mut Registry, name: &str, help: &str) -> Family64 {
    let family = Family64::default();
    registry.register(name, help, family.clone());
    family
}

fn set(family: &Family64, labels: Labels, value: f64) {
    family.get_or_create(&labels).set(value);
}

fn timestamp(t: time::OffsetDateTime) -> f64 {
    t.unix_timestamp() as f64
}

/// blackbox_exporter's spelling of a TLS version: `TLS 1.3` for rustls' `TLSv1.3`.
fn blackbox_version(version: &str) -> String {
    match version.strip_prefix("TLSv") {
        Some(v) => format!("TLS {v}"),
        None => version.to_string(),
    }
}

fn target_labels(r: &Report) -> Labels {
    let mut labels = vec![("target".to_string(), r.target.clone())];
    if let Some(name) = &r.name {
        labels.push(("name".into(), name.clone()));
    }
    if let Some(site) = &r.site {
        labels.push(("site".into(), site.clone()));
    }
    labels
}

fn with(mut labels: Labels, key: &str, value: &str) -> Labels {
    labels.push((key.to_string(), value.to_string()));
    labels
}

/// The metrics of `round`, as OpenMetrics text.
pub fn encode_round(round: &Round) -> String {
    let mut registry = Registry::default();
    let success = gauge(
        &mut registry,
        "probe_success",
        "Whether the TLS handshake completed and the chain was accepted as the site's apps would accept it",
    );
    let duration = gauge(&mut registry, "probe_duration_seconds", "How long the probe of the target took, in seconds");
    let earliest = gauge(
        &mut registry,
        "probe_ssl_earliest_cert_expiry",
        "Earliest end of validity in the presented chain, in Unix time",
    );
    let chain_expiry = gauge(
        &mut registry,
        "probe_ssl_last_chain_expiry_timestamp_seconds",
        "Earliest end of validity in the chain validated to the site's anchors, the anchor included, in Unix time",
    );
    let version = gauge(&mut registry, "probe_tls_version_info", "The TLS version negotiated");
    let cipher = gauge(&mut registry, "probe_tls_cipher_info", "The TLS cipher suite negotiated");
    let chain_info = gauge(&mut registry, "probe_ssl_last_chain_info", "The leaf certificate the server presented");
    let pin_match = gauge(
        &mut registry,
        "pinset_pin_match",
        "1 for the kind of the site's pin the chain carries (active, standby, retiring, none), 0 for the others",
    );
    let verify_ok = gauge(
        &mut registry,
        "pinset_verify_ok",
        "1 when the site's verifier accepts the chain; else 0, and the reason says why",
    );
    let release = gauge(
        &mut registry,
        "pinset_release_can_connect",
        "Whether a supported app release of the site can connect to the target",
    );
    let status = gauge(
        &mut registry,
        "pinset_check_status",
        "The target's monitoring status as an exit code: 0 ok, 1 warning, 2 critical, 3 unknown",
    );
    let anchor = gauge(
        &mut registry,
        "pinset_anchor_expiry_timestamp_seconds",
        "End of validity of a site's trust anchor (validators do not check it), in Unix time",
    );
    let round_duration =
        gauge(&mut registry, "pinset_check_duration_seconds", "How long the last round over every target took");
    let round_end =
        gauge(&mut registry, "pinset_check_last_round_timestamp_seconds", "When the last round ended, in Unix time");
    let targets = gauge(&mut registry, "pinset_check_targets", "How many targets a round checks");

    for r in &round.targets {
        let l = target_labels(r);
        let accepted = match &r.verify {
            Some(v) => v.ok,
            None => r.name_match != Some(false),
        };
        set(&success, l.clone(), if r.reachable && accepted { 1.0 } else { 0.0 });
        set(&duration, l.clone(), r.duration.as_secs_f64());
        set(&status, l.clone(), f64::from(r.status.exit_code()));
        if let Some(t) = r.presented_expiry {
            set(&earliest, l.clone(), timestamp(t));
        }
        if let Some(t) = r.validated_expiry {
            set(&chain_expiry, l.clone(), timestamp(t));
        }
        if let Some(tls) = &r.tls {
            set(&version, with(l.clone(), "version", &blackbox_version(&tls.version)), 1.0);
            set(&cipher, with(l.clone(), "cipher", &tls.cipher), 1.0);
        }
        if let Some(leaf) = r.presented.first() {
            let mut labels = with(l.clone(), "fingerprint_sha256", &leaf.sha256);
            labels = with(labels, "subject", &leaf.subject);
            labels = with(labels, "issuer", &leaf.issuer);
            labels = with(labels, "serialnumber", &leaf.serial);
            set(&chain_info, labels, 1.0);
        }
        if let Some(pin) = &r.pin {
            for kind in PinKind::ALL {
                set(&pin_match, with(l.clone(), "kind", kind.name()), if pin.kind == kind { 1.0 } else { 0.0 });
            }
        }
        if r.site.is_some() {
            let (reason, ok) = match (&r.verify, &r.failure) {
                (Some(v), _) => (v.reason.as_str(), v.ok),
                (None, Some(f)) => (f.kind, false),
                (None, None) => ("no-chain", false),
            };
            set(&verify_ok, with(l.clone(), "reason", reason), if ok { 1.0 } else { 0.0 });
        }
        for rel in &r.releases {
            set(&release, with(l.clone(), "release", &rel.release), if rel.can_connect { 1.0 } else { 0.0 });
        }
    }
    for site in &round.sites {
        for a in &site.anchors {
            let labels = vec![
                ("site".to_string(), site.site.clone()),
                ("anchor".to_string(), a.stem.clone()),
                ("role".to_string(), a.role.name().to_string()),
            ];
            set(&anchor, labels, timestamp(a.not_after));
        }
    }
    set(&round_duration, Vec::new(), round.duration.as_secs_f64());
    let ended = round.started + round.duration;
    set(&round_end, Vec::new(), timestamp(ended));
    set(&targets, Vec::new(), round.targets.len() as f64);
    let mut text = String::new();
    // Writing into a String cannot fail.
    let _ = encode(&mut text, &registry);
    text
}

/// The metrics before the first round has ended: how many targets there are, nothing else.
pub fn encode_pending(targets: usize) -> String {
    let mut registry = Registry::default();
    let family = gauge(&mut registry, "pinset_check_targets", "How many targets a round checks");
    set(&family, Vec::new(), targets as f64);
    let mut text = String::new();
    let _ = encode(&mut text, &registry);
    text
}
