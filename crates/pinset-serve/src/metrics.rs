//! Prometheus metrics of a server (`prometheus-client`): handshakes and their failures by
//! reason, requests by status, request latency, open connections, reloads, and the seconds
//! until each served certificate expires, served as text on a plain-HTTP address of its
//! own.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// A handshake's outcome: `ok` or why it failed.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HandshakeLabels {
    /// `ok`, or a failure reason (`timeout`, `closed`, `no-client-certificate`,
    /// `client-certificate-revoked`, `client-certificate-untrusted`, `client-not-allowed`,
    /// `client-certificate-expired`, `protocol`, `other`).
    pub outcome: &'static str,
}

/// A response's status code.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabels {
    /// The status code.
    pub code: u16,
}

/// A served certificate.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ServerLabels {
    /// The server identity's name.
    pub server: String,
}

/// A reload's outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReloadLabels {
    /// `ok` or `refused`.
    pub result: &'static str,
}

/// Every metric of a server.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    /// TLS handshakes by outcome.
    pub handshakes: Family<HandshakeLabels, Counter>,
    /// Requests by status code.
    pub requests: Family<StatusLabels, Counter>,
    /// Request duration, seconds.
    pub latency: Histogram,
    /// Connections open now.
    pub connections: Gauge,
    /// Reloads by result.
    pub reloads: Family<ReloadLabels, Counter>,
    /// Seconds until each served certificate expires (set when scraped).
    pub certificate_expiry: Family<ServerLabels, Gauge<f64, AtomicU64>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// A new set, registered under `pinset_serve_…`.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("pinset_serve");
        let handshakes = Family::<HandshakeLabels, Counter>::default();
        registry.register("handshakes", "TLS handshakes by outcome", handshakes.clone());
        let requests = Family::<StatusLabels, Counter>::default();
        registry.register("requests", "HTTP requests by response status", requests.clone());
        // 0.5 ms to about 16 s, doubling.
        let latency = Histogram::new(exponential_buckets(0.0005, 2.0, 16));
        registry.register("request_duration_seconds", "Time from request to end of response", latency.clone());
        let connections = Gauge::default();
        registry.register("connections", "Client connections open", connections.clone());
        let reloads = Family::<ReloadLabels, Counter>::default();
        registry.register("reloads", "Certificate reloads by result", reloads.clone());
        let certificate_expiry = Family::<ServerLabels, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "certificate_expiry_seconds",
            "Seconds until the served certificate expires",
            certificate_expiry.clone(),
        );
        Metrics {
            registry: Arc::new(registry),
            handshakes,
            requests,
            latency,
            connections,
            reloads,
            certificate_expiry,
        }
    }

    /// Counts a handshake outcome.
    pub fn handshake(&self, outcome: &'static str) {
        self.handshakes.get_or_create(&HandshakeLabels { outcome }).inc();
    }

    /// The metrics in Prometheus' text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
