//! The verdict on one connection, by the rule of `docs/architecture.md` ("Interception
//! harness"), and the summary of many:
//!
//! - application data received over a forged channel: [`Verdict::AcceptedImpostor`];
//! - plain HTTP where TLS was expected: [`Verdict::Cleartext`];
//! - a fatal alert from the client, a close or reset during the handshake, a handshake
//!   that fails because the client offers nothing the impostor accepts, or a completed
//!   handshake followed by a close without data within the timeout: [`Verdict::Rejected`],
//!   with which of these in its [`Rejection`];
//! - nothing of the above within the timeout: [`Verdict::Inconclusive`];
//! - application data over a genuine channel (the control): [`Verdict::Connected`].
//!
//! What a client sent is kept only as its size and first line ([`Sent`]), never its body
//! or its headers' values.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use time::OffsetDateTime;

/// What a client sent over a channel it should not have used: its size and its first line
/// (the request line, as the client wrote it: text from a peer, to be escaped before it
/// reaches a terminal).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    /// Bytes received before the harness answered.
    pub bytes: u64,
    /// The first line, without its line break, at most [`FIRST_LINE_MAX`] bytes (cut on a
    /// character boundary), invalid UTF-8 replaced.
    pub first_line: String,
}

/// Longest first line kept: a request line is short; a long one is a query string that
/// may carry a token, and the report needs only its start.
pub const FIRST_LINE_MAX: usize = 200;

impl Sent {
    /// The size and first line of `bytes`.
    pub fn of(bytes: &[u8]) -> Sent {
        let end = bytes.iter().position(|&b| b == b'\n').unwrap_or(bytes.len());
        let line = String::from_utf8_lossy(&bytes[..end]);
        let line = line.strip_suffix('\r').unwrap_or(&line);
        let mut cut = line.len().min(FIRST_LINE_MAX);
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        Sent { bytes: bytes.len() as u64, first_line: line[..cut].to_string() }
    }
}

/// How a client refused an impostor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// It sent a fatal alert during the handshake; `None` when the alert was encrypted
    /// (TLS 1.3 on a relayed connection), so its name could not be read.
    Alert(Option<String>),
    /// It closed the connection during the handshake.
    ClosedInHandshake,
    /// It reset the connection during the handshake.
    ResetInHandshake,
    /// The handshake failed because the client offers no protocol version or cipher the
    /// other side accepts (a client that will not speak TLS 1.2, or TLS 1.0).
    Incompatible(String),
    /// It completed the handshake, then closed (or reset, when `reset`) without sending
    /// any data: the check some clients make after the handshake (OkHttp's pinner).
    ClosedAfterHandshake {
        /// Reset rather than closed.
        reset: bool,
    },
}

impl Rejection {
    /// A short name for reports and JSON: `alert`, `closed-in-handshake`,
    /// `reset-in-handshake`, `incompatible`, `closed-after-handshake`.
    pub fn how(&self) -> &'static str {
        match self {
            Rejection::Alert(_) => "alert",
            Rejection::ClosedInHandshake => "closed-in-handshake",
            Rejection::ResetInHandshake => "reset-in-handshake",
            Rejection::Incompatible(_) => "incompatible",
            Rejection::ClosedAfterHandshake { .. } => "closed-after-handshake",
        }
    }
}

/// The verdict on one connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The client sent application data over a forged channel: it accepted an impostor.
    /// What it sent, when the harness could read it (`None` on a relayed connection,
    /// where it stays encrypted).
    AcceptedImpostor(Option<Sent>),
    /// The client sent plain HTTP where TLS was expected.
    Cleartext(Sent),
    /// The client refused the impostor.
    Rejected(Rejection),
    /// None of the above happened within the timeout (or the harness could not play the
    /// attack); the reason says what was seen.
    Inconclusive(String),
    /// The client sent application data over a genuine channel: the control works.
    Connected,
}

/// The kinds of verdict, without their details.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerdictKind {
    /// See [`Verdict::AcceptedImpostor`].
    AcceptedImpostor,
    /// See [`Verdict::Cleartext`].
    Cleartext,
    /// See [`Verdict::Rejected`].
    Rejected,
    /// See [`Verdict::Inconclusive`].
    Inconclusive,
    /// See [`Verdict::Connected`].
    Connected,
}

impl VerdictKind {
    /// Its name in reports: `accepted-impostor`, `cleartext`, `rejected`, `inconclusive`,
    /// `connected`.
    pub fn name(self) -> &'static str {
        match self {
            VerdictKind::AcceptedImpostor => "accepted-impostor",
            VerdictKind::Cleartext => "cleartext",
            VerdictKind::Rejected => "rejected",
            VerdictKind::Inconclusive => "inconclusive",
            VerdictKind::Connected => "connected",
        }
    }

    /// Whether this verdict is a finding against the client: an impostor accepted or
    /// cleartext sent.
    pub fn is_failure(self) -> bool {
        matches!(self, VerdictKind::AcceptedImpostor | VerdictKind::Cleartext)
    }
}

impl Verdict {
    /// Its kind.
    pub fn kind(&self) -> VerdictKind {
        match self {
            Verdict::AcceptedImpostor(_) => VerdictKind::AcceptedImpostor,
            Verdict::Cleartext(_) => VerdictKind::Cleartext,
            Verdict::Rejected(_) => VerdictKind::Rejected,
            Verdict::Inconclusive(_) => VerdictKind::Inconclusive,
            Verdict::Connected => VerdictKind::Connected,
        }
    }

    /// What the client sent, for the verdicts that keep it.
    pub fn sent(&self) -> Option<&Sent> {
        match self {
            Verdict::AcceptedImpostor(s) => s.as_ref(),
            Verdict::Cleartext(s) => Some(s),
            _ => None,
        }
    }
}

/// One connection and its verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// When the verdict was reached.
    pub time: OffsetDateTime,
    /// The client's address and port.
    pub client: SocketAddr,
    /// The host the client meant to reach: the CONNECT target, the name it sent (SNI), or
    /// the address it dialled.
    pub host: String,
    /// The port it meant to reach.
    pub port: u16,
    /// What the client was shown: an attack's name, or a testbed endpoint's.
    pub scenario: String,
    /// The TLS version negotiated, when a handshake completed.
    pub tls: Option<String>,
    /// The verdict.
    pub verdict: Verdict,
}

/// How many connections of a group got each verdict.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// By kind.
    pub by_kind: BTreeMap<VerdictKind, u64>,
}

impl Counts {
    /// Connections counted.
    pub fn total(&self) -> u64 {
        self.by_kind.values().sum()
    }

    /// Connections of `kind`.
    pub fn of(&self, kind: VerdictKind) -> u64 {
        self.by_kind.get(&kind).copied().unwrap_or(0)
    }
}

/// The verdicts of a run, per client address, host and scenario.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Keyed by client, host, the order each scenario was first seen in, and scenario.
    rows: BTreeMap<(IpAddr, String, usize, String), Counts>,
    seen: Vec<String>,
}

/// One row of a [`Summary`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SummaryRow<'a> {
    /// The client's address (without its port: one device, many connections).
    pub client: IpAddr,
    /// The host it meant to reach.
    pub host: &'a str,
    /// The attack or endpoint.
    pub scenario: &'a str,
    /// Its verdicts.
    pub counts: &'a Counts,
}

impl Summary {
    /// Counts `record`.
    pub fn add(&mut self, record: &Record) {
        let order = match self.seen.iter().position(|s| *s == record.scenario) {
            Some(i) => i,
            None => {
                self.seen.push(record.scenario.clone());
                self.seen.len() - 1
            }
        };
        let key = (record.client.ip(), record.host.clone(), order, record.scenario.clone());
        *self.rows.entry(key).or_default().by_kind.entry(record.verdict.kind()).or_default() += 1;
    }

    /// The rows, ordered by client, host and the order scenarios were first seen in.
    pub fn rows(&self) -> impl Iterator<Item = SummaryRow<'_>> {
        self.rows.iter().map(|((client, host, _, scenario), counts)| SummaryRow {
            client: *client,
            host,
            scenario,
            counts,
        })
    }

    /// Connections of `kind` over all rows.
    pub fn total(&self, kind: VerdictKind) -> u64 {
        self.rows.values().map(|c| c.of(kind)).sum()
    }

    /// Whether any impostor was accepted or any cleartext seen.
    pub fn failed(&self) -> bool {
        self.total(VerdictKind::AcceptedImpostor) + self.total(VerdictKind::Cleartext) > 0
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// The name TLS gives an alert (RFC 8446 §6, RFC 5246 §7.2), `alert N` for one it does not
/// know.
pub fn alert_name(code: u8) -> String {
    let name = match code {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        21 => "decryption_failed",
        22 => "record_overflow",
        30 => "decompression_failure",
        40 => "handshake_failure",
        41 => "no_certificate",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        n => return format!("alert {n}"),
    };
    name.to_string()
}

/// Whether an alert says the two sides share no protocol version or cipher suite.
pub(crate) fn is_incompatibility(code: u8) -> bool {
    // protocol_version, handshake_failure, insufficient_security.
    matches!(code, 70 | 40 | 71)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sent_keeps_the_size_and_the_first_line_only() {
        let s = Sent::of(b"GET /a?b HTTP/1.1\r\nAuthorization: secret\r\n\r\n");
        assert_eq!(s.first_line, "GET /a?b HTTP/1.1");
        assert_eq!(s.bytes, 44);
        let long = format!("GET /{} HTTP/1.1\r\n", "é".repeat(300));
        let s = Sent::of(long.as_bytes());
        assert!(s.first_line.len() <= FIRST_LINE_MAX && s.first_line.starts_with("GET /é"));
    }

    #[test]
    fn the_summary_fails_on_an_accepted_impostor_or_cleartext() {
        let mut summary = Summary::default();
        let record = |verdict| Record {
            time: OffsetDateTime::UNIX_EPOCH,
            client: "127.0.0.1:5000".parse().expect("addr"),
            host: "10.0.0.1".into(),
            port: 443,
            scenario: "trusted-ca".into(),
            tls: None,
            verdict,
        };
        summary.add(&record(Verdict::Rejected(Rejection::Alert(Some("unknown_ca".into())))));
        summary.add(&record(Verdict::Connected));
        assert!(!summary.failed());
        summary.add(&record(Verdict::Cleartext(Sent::of(b"GET / HTTP/1.1\r\n"))));
        assert!(summary.failed());
        let rows: Vec<_> = summary.rows().collect();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].counts.total(), 3);
        assert_eq!(alert_name(48), "unknown_ca");
        assert_eq!(alert_name(201), "alert 201");
    }
}
