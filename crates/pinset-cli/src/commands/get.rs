//! `pinset get`: an HTTP/1.1 request over TLS that the `PinnedVerifier` must accept first.

use std::io::{Read as _, Write as _};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use pinset::Target;
use pinset_tls::probe;
use pinset_tls::verifier::{Verified, VerifyError};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::cli::GetArgs;
use crate::client_trust::{ClientTrust, TrustFlags};
use crate::output::{self, ExitStatus};
use crate::verdict::{describe_pins, refused_text};

/// Largest response pinset keeps in memory: 256 MiB. A status page or API answer is far
/// smaller; anything larger is refused rather than exhausting a small device's memory.
const MAX_RESPONSE: u64 = 256 << 20;

/// Makes the request and prints the body (or the report of a refused server).
pub fn run(args: GetArgs) -> anyhow::Result<ExitStatus> {
    let target = Target::parse(&args.url, None)?;
    let trust = ClientTrust::from_flags(&TrustFlags {
        site: args.site.site.as_deref(),
        cas: &args.cas,
        pins: &args.pins,
        crls: &[],
    })?;
    let (verifier, outcome) = trust.verifier.clone().for_connection();
    let builder = rustls::ClientConfig::builder_with_provider(pinset_tls::provider())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match client_identity(&args)? {
        Some((chain, key)) => {
            builder.with_client_auth_cert(chain, key).context("client certificate and key do not fit")?
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let (body, method) = request_body(&args)?;

    let timeout = Duration::from_secs(args.timeout.max(1));
    let (mut sock, _) = probe::connect(&target, timeout)?;
    let mut conn = rustls::ClientConnection::new(Arc::new(config), probe::server_name(&target.host)?)?;
    while conn.is_handshaking() {
        if let Err(e) = conn.complete_io(&mut sock) {
            let tls = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
            if let Some(report) = tls.and_then(VerifyError::from_rustls) {
                return refused(&args, report);
            }
            if let Some(err) = client_certificate_refused(&e, &args) {
                return Err(err);
            }
            return Err(anyhow!(e).context(format!("{}: TLS handshake failed", target.authority())));
        }
    }
    let verified = outcome.get().and_then(|r| r.as_ref().ok()).cloned();
    let tls = serde_json::json!({
        "version": conn.protocol_version().map(|v| format!("{v:?}").replace('_', ".")),
        "cipher": conn.negotiated_cipher_suite().map(|c| format!("{:?}", c.suite())),
        "alpn": conn.alpn_protocol().map(|p| String::from_utf8_lossy(p).into_owned()),
    });

    let mut head = format!(
        "{method} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: pinset/{}\r\nAccept: */*\r\nConnection: close\r\n",
        target.path,
        target.authority(),
        env!("CARGO_PKG_VERSION")
    );
    for h in &args.headers {
        if !h.contains(':') || h.contains('\r') || h.contains('\n') {
            bail!(pinset::Error::BadValue {
                what: "header",
                value: h.clone(),
                problem: "is not `Name: value` on one line".into(),
                hint: Some("write it like -H 'Accept: application/json'".into()),
            });
        }
        head.push_str(h);
        head.push_str("\r\n");
    }
    if let Some(b) = &body {
        head.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    head.push_str("\r\n");
    let mut stream = rustls::Stream::new(&mut conn, &mut sock);
    stream.write_all(head.as_bytes())?;
    if let Some(b) = &body {
        stream.write_all(b)?;
    }
    stream.flush()?;
    let raw = match read_to_end(&mut stream) {
        Ok(raw) => raw,
        Err(e) => {
            // TLS 1.3 servers refuse a missing or unknown client certificate after the
            // handshake, so the refusal arrives while the response is read.
            if let Some(err) = e.downcast_ref::<std::io::Error>().and_then(|io| client_certificate_refused(io, &args)) {
                return Err(err);
            }
            return Err(e);
        }
    };
    let response = parse_response(&raw)?;

    if let Some(path) = &args.output {
        pinset::atomic::write(path, &response.body, pinset::atomic::PUBLIC_MODE)?;
    }
    if args.json {
        output::emit_json(&serde_json::json!({
            "url": args.url,
            "trust": trust.source,
            "tls": tls,
            "chain": verified.as_ref().map(|v| &v.chain),
            "verdict": verdict_json(verified.as_ref()),
            "status": response.status,
            "headers": response.headers,
            "body": if args.output.is_some() { None } else { Some(String::from_utf8_lossy(&response.body)) },
        }))?;
    } else {
        if !trust.pins_given {
            output::warn("no pin was checked: the anchors given with --ca alone decided (add --pin to pin a key)");
        }
        if let Some(v) = &verified {
            output::message(&format!("pinset: {} verified; pins {}\n", target.authority(), describe_pins(&v.pins)));
        }
        if args.output.is_none() {
            let mut out = std::io::stdout().lock();
            if let Err(e) = out.write_all(&response.body).and_then(|()| out.flush())
                && e.kind() != std::io::ErrorKind::BrokenPipe
            {
                return Err(e).context("cannot write to standard output");
            }
        }
    }
    Ok(ExitStatus::Success)
}

fn verdict_json(v: Option<&Verified>) -> serde_json::Value {
    match v {
        Some(v) => serde_json::json!({ "accepted": true, "pins": v.pins }),
        None => serde_json::json!({ "accepted": true }),
    }
}

/// A server the verifier refused: the report, exit 1.
fn refused(args: &GetArgs, report: &VerifyError) -> anyhow::Result<ExitStatus> {
    if args.json {
        output::emit_json(&serde_json::json!({
            "url": args.url,
            "verdict": { "accepted": false, "kind": report.kind, "detail": report.detail },
            "chain": report.chain,
            "expected_pins": report.expected_pins,
        }))?;
    } else {
        output::message(&format!("refused: {}", refused_text(report)));
    }
    Ok(ExitStatus::Failed)
}

type Identity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

fn client_identity(args: &GetArgs) -> anyhow::Result<Option<Identity>> {
    if let (Some(cert), Some(key)) = (&args.cert, &args.key) {
        let chain = pinset::input::read_certificates(cert, &output::read_input(cert)?)?
            .into_iter()
            .map(CertificateDer::from)
            .collect();
        let key_der = PrivateKeyDer::from_pem_slice(&output::read_input(key)?)
            .map_err(|e| anyhow!("{key}: not a PEM private key ({e})"))?;
        return Ok(Some((chain, key_der)));
    }
    if let Some(p12) = &args.p12 {
        let password = output::password(args.password_file.as_deref(), &format!("the PKCS#12 file {p12}"), false)?;
        let id = pinset::pki::read_pkcs12(p12, &output::read_input(p12)?, &password)?;
        let chain = id.chain.into_iter().map(CertificateDer::from).collect();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(id.key_pkcs8_der.to_vec()));
        return Ok(Some((chain, key)));
    }
    Ok(None)
}

fn request_body(args: &GetArgs) -> anyhow::Result<(Option<Vec<u8>>, String)> {
    let body = match args.data.as_deref() {
        Some(d) if d.starts_with('@') => Some(output::read_input(&d[1..])?),
        Some(d) => Some(d.as_bytes().to_vec()),
        None => None,
    };
    let method = args.method.clone().unwrap_or_else(|| if body.is_some() { "POST".into() } else { "GET".into() });
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase() || b == b'-') {
        bail!(pinset::Error::BadValue {
            what: "method",
            value: method,
            problem: "is not an HTTP method".into(),
            hint: Some("use GET, POST, PUT, DELETE …".into()),
        });
    }
    Ok((body, method))
}

/// Reads until the server closes. A peer that closes without close_notify after a
/// complete response is common with `Connection: close`; what was read is kept.
fn read_to_end(stream: &mut impl std::io::Read) -> anyhow::Result<Vec<u8>> {
    let mut raw = Vec::new();
    match stream.take(MAX_RESPONSE + 1).read_to_end(&mut raw) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => {}
        Err(e) => return Err(e).context("reading the response"),
    }
    if raw.len() as u64 > MAX_RESPONSE {
        bail!("the response is larger than {} MiB; pinset get is for status pages and API answers", MAX_RESPONSE >> 20);
    }
    Ok(raw)
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn parse_response(raw: &[u8]) -> anyhow::Result<Response> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| anyhow!("the server's response has no complete header"))?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("not an HTTP response: {status_line:?}"))?;
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))).collect();
    let header = |name: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
    let rest = &raw[end + 4..];
    let body = if header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
        dechunk(rest)?
    } else if let Some(len) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        rest[..len.min(rest.len())].to_vec()
    } else {
        rest.to_vec()
    };
    Ok(Response { status, headers, body })
}

fn dechunk(mut data: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").ok_or_else(|| anyhow!("truncated chunked body"))?;
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or_default().trim(), 16)
            .map_err(|_| anyhow!("bad chunk size {size_text:?}"))?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if data.len() < size {
            bail!("truncated chunked body");
        }
        out.extend_from_slice(&data[..size]);
        data = data.get(size + 2..).unwrap_or_default();
    }
}

/// A server's refusal of our (missing or unknown) client certificate, as an error that
/// says what to give.
fn client_certificate_refused(e: &std::io::Error, args: &GetArgs) -> Option<anyhow::Error> {
    use rustls::AlertDescription as A;
    let alert = match e.get_ref()?.downcast_ref::<rustls::Error>()? {
        rustls::Error::AlertReceived(a @ (A::CertificateRequired | A::BadCertificate | A::UnknownCA)) => *a,
        _ => return None,
    };
    let (problem, hint) = if args.cert.is_none() && args.p12.is_none() {
        (
            format!("the server requires a client certificate (mutual TLS; it sent {alert:?})"),
            "give one with --cert FILE --key FILE or --p12 FILE (see `pinset issue client`)",
        )
    } else {
        (
            format!("the server refused the client certificate ({alert:?})"),
            "the server trusts another CA: issue the client certificate from the site the server trusts",
        )
    };
    Some(anyhow!(pinset::Error::BadInput { path: args.url.clone(), problem, hint: Some(hint.into()) }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_and_sized_bodies() {
        let r = parse_response(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
        )
        .expect("chunked");
        assert_eq!((r.status, r.body.as_slice()), (200, b"hello world".as_slice()));
        let r = parse_response(b"HTTP/1.0 404 Not Found\r\nContent-Length: 3\r\n\r\nabcdef").expect("sized");
        assert_eq!((r.status, r.body.as_slice()), (404, b"abc".as_slice()));
        assert!(parse_response(b"garbage").is_err());
        assert!(parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").is_err());
    }
}
