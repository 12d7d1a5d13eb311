//! An HTTP/1.1 GET over a plain tokio-rustls connection that trusts only a pinset site.
//!
//! ```sh
//! cargo run -p pinset-tls --example tokio_rustls_client -- SITE_DIR https://127.0.0.1:PORT/
//! ```
//!
//! What it shows: the `rustls::ClientConfig` from
//! [`pinset_tls::verifier::client_config`] (a [`SiteVerifier`] built from the site, on
//! [`pinset_tls::provider`]) is all a `tokio_rustls::TlsConnector` needs; tokio-rustls is
//! built with `default-features = false`, so it brings no crypto provider of its own. The
//! name handed to `connect` is what the certificate must name: for `https://127.0.0.1:…`
//! it is the IP literal, checked against the certificate's iPAddress SANs (never its CN).
//!
//! The example connects with a `tokio::net::TcpStream`, completes the handshake (where the
//! verifier runs: chain to one of the site's anchors, the name, then the pins), writes a
//! minimal `GET` with `Connection: close`, and prints the whole response, status line and
//! headers included. Exit codes: 0 on success, 1 when the server's certificate is refused
//! (pinset's report goes to stderr), 2 for any other error.
//!
//! tokio-rustls reports a refused certificate as an `io::Error` whose inner error
//! (`get_ref()`) is the `rustls::Error` carrying pinset's [`VerifyError`]:
//! [`VerifyError::from_rustls`] finds it.

use std::error::Error;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use pinset::Target;
use pinset_tls::verifier::PinCheck;
use pinset_tls::{ChainVerifier as _, SiteVerifier, VerifyError};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [site_dir, url] = args.as_slice() else {
        eprintln!("usage: tokio_rustls_client SITE_DIR https://HOST:PORT/PATH");
        return ExitCode::from(2);
    };
    let result = tokio::time::timeout(Duration::from_secs(10), run(Path::new(site_dir), url)).await;
    match result {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(err)) => match find_verify_error(err.as_ref()) {
            Some(report) => {
                eprint!("refused: {report}");
                ExitCode::from(1)
            }
            None => {
                eprintln!("error: {err}");
                ExitCode::from(2)
            }
        },
        Err(_) => {
            eprintln!("error: no complete answer within 10 s");
            ExitCode::from(2)
        }
    }
}

async fn run(site_dir: &Path, url: &str) -> Result<(), Box<dyn Error + Send + Sync>> {
    let site = pinset::Site::open(site_dir)?;
    let verifier = SiteVerifier::for_site(&site.trust()?).build()?;
    // This connection's own verifier and outcome: the shared verifier keeps no result.
    let (verifier, outcome) = verifier.for_connection();
    let config = pinset_tls::verifier::client_config(verifier)?;
    let connector = TlsConnector::from(Arc::new(config));

    let target = Target::parse(url, None)?;
    let server_name = pinset_tls::probe::server_name(&target.host)?;
    let tcp = TcpStream::connect((target.host.to_string(), target.port)).await?;
    // The handshake, and with it the verification, happens here.
    let mut tls = connector.connect(server_name, tcp).await?;
    if let Some(Ok(verified)) = outcome.get() {
        eprintln!("verified: {}", describe(&verified.pins));
    }

    let request = format!("GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", target.path, target.authority());
    tls.write_all(request.as_bytes()).await?;
    tls.flush().await?;

    let mut response = Vec::new();
    match tls.read_to_end(&mut response).await {
        Ok(_) => {}
        // A server that closes the TCP connection without a TLS close_notify: what was
        // read is still the answer (its Content-Length, if any, says whether it is whole).
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !response.is_empty() => {}
        Err(e) => return Err(e.into()),
    }
    print!("{}", String::from_utf8_lossy(&response));
    if !response.ends_with(b"\n") {
        println!();
    }
    Ok(())
}

/// What the pin check concluded, for a person.
fn describe(pins: &PinCheck) -> String {
    match pins {
        PinCheck::Matched { pin, position } => {
            format!("pin sha256/{pin} matched the {} of the chain", format!("{position:?}").to_lowercase())
        }
        other => format!("{other:?}"),
    }
}

/// pinset's report inside an error chain: tokio-rustls gives an `io::Error` (kind
/// InvalidData) → `rustls::Error` → [`VerifyError`].
///
/// `io::Error::source()` skips the error it wraps (it returns *that* error's source), so a
/// plain `source()` walk never sees the `rustls::Error`: each `io::Error` is also opened
/// with `get_ref()`.
fn find_verify_error(err: &(dyn Error + 'static)) -> Option<VerifyError> {
    if let Some(report) = err.downcast_ref::<VerifyError>() {
        return Some(report.clone());
    }
    if let Some(report) = err.downcast_ref::<rustls::Error>().and_then(VerifyError::from_rustls) {
        return Some(report.clone());
    }
    let wrapped = err.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref());
    if let Some(report) = wrapped.and_then(|inner| find_verify_error(inner)) {
        return Some(report);
    }
    err.source().and_then(find_verify_error)
}
