//! What a relayed connection shows without decrypting it: the TLS record layer, read as
//! the bytes pass, both ways. From the record types and lengths alone it tells whether the
//! client refused the handshake (an alert, a close, a reset), finished it, and then sent
//! application data, which is all a verdict on a genuine channel needs.
//!
//! TLS 1.2 and earlier: the client's alerts are readable until its ChangeCipherSpec; its
//! Finished is the first handshake record after that; application data records follow.
//! TLS 1.3 (the server's ServerHello carries `supported_versions` 1.3): everything after
//! the ServerHello is an encrypted record, so the client's first one is either an alert
//! (at most [`ALERT_RECORD_MAX`] bytes) or its Finished, and application data follows.

use crate::verdict::{Rejection, Verdict, alert_name, is_incompatibility};

/// Largest encrypted record that can be an alert: 2 bytes of alert, 1 of inner content
/// type, a 16-byte AEAD tag, and a little padding. A request (or an HTTP/2 preface) is
/// longer.
pub(crate) const ALERT_RECORD_MAX: usize = 24;

/// Largest record body kept to be read (a ServerHello, an alert); others are counted only.
const KEPT_MAX: usize = 4096;

/// Which way bytes went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    /// From the client to the server.
    Client,
    /// From the server to the client.
    Server,
}

/// One complete record.
struct TlsRecord {
    content_type: u8,
    len: usize,
    /// The start of its body, for the records worth reading.
    body: Vec<u8>,
}

/// Splits one direction's bytes into records.
#[derive(Default)]
struct Splitter {
    header: Vec<u8>,
    content_type: u8,
    remaining: usize,
    len: usize,
    body: Vec<u8>,
}

impl Splitter {
    fn feed(&mut self, mut bytes: &[u8], out: &mut Vec<TlsRecord>) {
        while !bytes.is_empty() {
            if self.remaining == 0 && self.header.len() < 5 {
                let take = (5 - self.header.len()).min(bytes.len());
                self.header.extend_from_slice(&bytes[..take]);
                bytes = &bytes[take..];
                if self.header.len() == 5 {
                    self.content_type = self.header[0];
                    self.len = usize::from(u16::from_be_bytes([self.header[3], self.header[4]]));
                    self.remaining = self.len;
                    self.body.clear();
                    if self.len == 0 {
                        self.finish(out);
                    }
                }
                continue;
            }
            let take = self.remaining.min(bytes.len());
            let keep = take.min(KEPT_MAX.saturating_sub(self.body.len()));
            self.body.extend_from_slice(&bytes[..keep]);
            self.remaining -= take;
            bytes = &bytes[take..];
            if self.remaining == 0 {
                self.finish(out);
            }
        }
    }

    fn finish(&mut self, out: &mut Vec<TlsRecord>) {
        out.push(TlsRecord { content_type: self.content_type, len: self.len, body: std::mem::take(&mut self.body) });
        self.header.clear();
    }
}

const CHANGE_CIPHER_SPEC: u8 = 20;
const ALERT: u8 = 21;
const HANDSHAKE: u8 = 22;
const APPLICATION_DATA: u8 = 23;

/// What one relayed connection has shown so far, and the verdict once it is decided.
pub(crate) struct Watch {
    client: Splitter,
    server: Splitter,
    /// The version the ServerHello chose (`TLSv1.3`, `TLSv1.2`, …), once seen.
    version: Option<String>,
    tls13: bool,
    client_ccs: bool,
    handshake_done: bool,
    /// The verdict when the client sends application data.
    on_data: Verdict,
    decided: Option<Verdict>,
}

impl Watch {
    /// A watch whose verdict on application data from the client is `on_data`.
    pub(crate) fn new(on_data: Verdict) -> Watch {
        Watch {
            client: Splitter::default(),
            server: Splitter::default(),
            version: None,
            tls13: false,
            client_ccs: false,
            handshake_done: false,
            on_data,
            decided: None,
        }
    }

    /// The verdict, once decided.
    pub(crate) fn verdict(&self) -> Option<&Verdict> {
        self.decided.as_ref()
    }

    /// The negotiated version, once the ServerHello passed.
    pub(crate) fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// Bytes that went from `side`.
    pub(crate) fn feed(&mut self, side: Side, bytes: &[u8]) {
        let mut records = Vec::new();
        match side {
            Side::Client => self.client.feed(bytes, &mut records),
            Side::Server => self.server.feed(bytes, &mut records),
        }
        for record in records {
            if self.decided.is_some() {
                return;
            }
            match side {
                Side::Client => self.on_client_record(&record),
                Side::Server => self.on_server_record(&record),
            }
        }
    }

    /// `side` closed its half (reset when `reset`).
    pub(crate) fn closed(&mut self, side: Side, reset: bool) {
        if self.decided.is_some() {
            return;
        }
        self.decided = Some(match (side, self.handshake_done) {
            (Side::Client, false) if reset => Verdict::Rejected(Rejection::ResetInHandshake),
            (Side::Client, false) => Verdict::Rejected(Rejection::ClosedInHandshake),
            (Side::Client, true) => Verdict::Rejected(Rejection::ClosedAfterHandshake { reset }),
            (Side::Server, false) => {
                Verdict::Inconclusive("the server closed the connection during the handshake".into())
            }
            (Side::Server, true) => {
                Verdict::Inconclusive("the server closed the connection before the client sent any data".into())
            }
        });
    }

    fn on_server_record(&mut self, record: &TlsRecord) {
        match record.content_type {
            HANDSHAKE if self.version.is_none() => {
                if let Some((version, tls13)) = server_hello_version(&record.body) {
                    self.version = Some(version);
                    self.tls13 = tls13;
                }
            }
            // A readable alert: before the ServerHello, or from a TLS 1.2 server.
            ALERT if !self.handshake_done && record.body.len() >= 2 && !(self.tls13 && self.version.is_some()) => {
                let code = record.body[1];
                self.decided = Some(if is_incompatibility(code) {
                    Verdict::Rejected(Rejection::Incompatible(format!(
                        "the server's alert {}: the client offers no version or cipher the server accepts",
                        alert_name(code)
                    )))
                } else {
                    Verdict::Inconclusive(format!("the server sent the alert {}", alert_name(code)))
                });
            }
            _ => {}
        }
    }

    fn on_client_record(&mut self, record: &TlsRecord) {
        match record.content_type {
            ALERT if !self.handshake_done => {
                let readable = self.version.is_none() || (!self.tls13 && !self.client_ccs);
                self.decided = Some(match record.body.get(1) {
                    Some(0) if readable => Verdict::Rejected(Rejection::ClosedInHandshake),
                    Some(&code) if readable => Verdict::Rejected(Rejection::Alert(Some(alert_name(code)))),
                    _ => Verdict::Rejected(Rejection::Alert(None)),
                });
            }
            CHANGE_CIPHER_SPEC if !self.tls13 => self.client_ccs = true,
            HANDSHAKE if !self.tls13 && self.client_ccs => self.handshake_done = true,
            APPLICATION_DATA if self.version.is_some() => {
                if !self.tls13 || self.handshake_done {
                    if !self.tls13 || record.len > ALERT_RECORD_MAX {
                        self.handshake_done = true;
                        self.decided = Some(self.on_data.clone());
                    }
                } else if record.len <= ALERT_RECORD_MAX {
                    self.decided = Some(Verdict::Rejected(Rejection::Alert(None)));
                } else {
                    // The client's Finished: it accepted the server's certificate.
                    self.handshake_done = true;
                }
            }
            _ => {}
        }
    }
}

/// The version a ServerHello (the first message of a handshake record's body) chose, and
/// whether it is TLS 1.3.
fn server_hello_version(body: &[u8]) -> Option<(String, bool)> {
    let u16_at = |i: usize| Some(u16::from_be_bytes([*body.get(i)?, *body.get(i + 1)?]));
    if *body.first()? != 2 {
        return None;
    }
    let legacy = u16_at(4)?;
    let mut chosen = legacy;
    // type(1) len(3) version(2) random(32), then the session id.
    let mut i = 38;
    i += 1 + usize::from(*body.get(i)?);
    i += 3; // cipher suite, compression method
    if let Some(ext_len) = u16_at(i) {
        let end = (i + 2 + usize::from(ext_len)).min(body.len());
        i += 2;
        while i + 4 <= end {
            let (ty, len) = (u16_at(i)?, usize::from(u16_at(i + 2)?));
            if ty == 43 && len == 2 {
                chosen = u16_at(i + 4)?;
            }
            i += 4 + len;
        }
    }
    let name = match chosen {
        0x0304 => "TLSv1.3",
        0x0303 => "TLSv1.2",
        0x0302 => "TLSv1.1",
        0x0301 => "TLSv1.0",
        _ => "TLS (unknown version)",
    };
    Some((name.to_string(), chosen == 0x0304))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(ty: u8, body: &[u8]) -> Vec<u8> {
        let mut r = vec![ty, 3, 3];
        r.extend_from_slice(&(body.len() as u16).to_be_bytes());
        r.extend_from_slice(body);
        r
    }

    fn server_hello(tls13: bool) -> Vec<u8> {
        let mut b = vec![2, 0, 0, 0, 3, 3];
        b.extend_from_slice(&[0; 32]);
        b.push(0); // session id
        b.extend_from_slice(&[0x13, 0x01, 0]);
        let ext: Vec<u8> = if tls13 { vec![0, 43, 0, 2, 3, 4] } else { vec![] };
        b.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        b.extend_from_slice(&ext);
        record(HANDSHAKE, &b)
    }

    #[test]
    fn tls13_finished_then_data_is_data() {
        let mut w = Watch::new(Verdict::Connected);
        w.feed(Side::Client, &record(HANDSHAKE, &[1, 0, 0, 0]));
        let hello = server_hello(true);
        // Split across reads.
        w.feed(Side::Server, &hello[..7]);
        w.feed(Side::Server, &hello[7..]);
        assert_eq!(w.version(), Some("TLSv1.3"));
        w.feed(Side::Client, &record(APPLICATION_DATA, &[0; 53]));
        assert!(w.verdict().is_none(), "the Finished is no data");
        w.feed(Side::Client, &record(APPLICATION_DATA, &[0; 19]));
        assert!(w.verdict().is_none(), "an encrypted close_notify is no data");
        w.feed(Side::Client, &record(APPLICATION_DATA, &[0; 100]));
        assert_eq!(w.verdict(), Some(&Verdict::Connected));
    }

    #[test]
    fn tls13_alert_instead_of_finished_is_a_rejection() {
        let mut w = Watch::new(Verdict::Connected);
        w.feed(Side::Server, &server_hello(true));
        w.feed(Side::Client, &record(APPLICATION_DATA, &[0; 19]));
        assert_eq!(w.verdict(), Some(&Verdict::Rejected(Rejection::Alert(None))));
    }

    #[test]
    fn tls12_alerts_are_read_and_closes_are_told_apart() {
        let mut w = Watch::new(Verdict::Connected);
        w.feed(Side::Server, &server_hello(false));
        w.feed(Side::Client, &record(ALERT, &[2, 48]));
        assert_eq!(w.verdict(), Some(&Verdict::Rejected(Rejection::Alert(Some("unknown_ca".into())))));

        let mut w = Watch::new(Verdict::Connected);
        w.feed(Side::Server, &server_hello(false));
        w.feed(Side::Client, &record(CHANGE_CIPHER_SPEC, &[1]));
        w.feed(Side::Client, &record(HANDSHAKE, &[0; 40]));
        w.closed(Side::Client, false);
        assert_eq!(w.verdict(), Some(&Verdict::Rejected(Rejection::ClosedAfterHandshake { reset: false })));

        let mut w = Watch::new(Verdict::Connected);
        w.feed(Side::Server, &record(ALERT, &[2, 70]));
        assert!(matches!(w.verdict(), Some(Verdict::Rejected(Rejection::Incompatible(_)))));
    }
}
