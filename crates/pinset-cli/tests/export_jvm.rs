//! The JVM exports, run for real: `pinset export okhttp` (its Java file compiled with javac and
//! its Kotlin file with kotlinc, both against Debian's OkHttp 3.13.1) and `pinset export java`
//! (JDK only: HttpsURLConnection and java.net.http) fetch from `openssl s_server` on loopback.
//! For CA-pinned, leaf-pinned and self-signed sites: the site's server is reached over IPv4,
//! IPv6 and a DNS name; an impostor is refused by the pin check; an address the certificate
//! does not name is refused; once the pins have expired the impostor is accepted on the
//! anchors alone. And a hostile site name cannot break out of the generated comments.
//!
//! The impostor ([`Impostor`]) carries the genuine subject and SANs under another key, issued
//! by another CA. The one change these tests make to an export: the impostor's CA is appended
//! to the exported `pinset-anchors.pem`, as if the app had been told to trust that CA too.
//! Chain validation and the address check then pass, and only the pins can refuse the
//! impostor, so its error must be the pin failure, never a trust failure. A control run with
//! the anchors as exported shows the trust manager alone refuses it too.
//!
//! `openssl s_server` sends only the server's certificate, never its CA: a CA pin matching
//! proves the pins are checked against the validated chain, anchor included.

mod common;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{both, init_site, pinset, run, s, tempdir};
use pinset_testkit::net::Loopback;
use pinset_testkit::openssl::Impostor;
use pinset_testkit::rustls_server::{Response, TlsServer};
use pinset_testkit::site::server_files;
use pinset_testkit::{OpensslServer, V4, V6};

use common::OKHTTP_JARS;

/// The Kotlin runtime the compiled Kotlin export needs (kotlinc 1.3.31's).
const KOTLIN_STDLIB: &str = "/usr/share/java/kotlin-stdlib.jar";

/// What the clients print when they are refused by the trust manager rather than the pins.
const TRUST_FAILURES: [&str; 3] =
    ["PKIX path", "unable to find valid certification path", "does not lead to an anchor"];

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// `paths` joined as a classpath; each must exist.
fn classpath(paths: &[&str]) -> String {
    for p in paths {
        assert!(Path::new(p).exists(), "{p} is missing: install it with scripts/setup");
    }
    paths.join(":")
}

/// A site on loopback: `pinset init` with `args`, and an impostor of its server.
struct Fixture {
    tmp: tempfile::TempDir,
    site: PathBuf,
    impostor: Impostor,
}

impl Fixture {
    fn new(args: &[&str]) -> Fixture {
        let tmp = tempdir();
        let site = init_site(tmp.path(), "site", args);
        let forged = tmp.path().join("forged");
        std::fs::create_dir_all(&forged).expect("mkdir forged");
        let impostor = Impostor::forge(&forged, &server_files(&site).0);
        Fixture { tmp, site, impostor }
    }

    fn dir(&self) -> &Path {
        self.tmp.path()
    }

    /// The site's server on `ip`.
    fn genuine(&self, ip: IpAddr) -> OpensslServer {
        OpensslServer::site(self.dir(), &self.site, ip, &[])
    }

    /// The impostor on `ip`.
    fn impostor(&self, ip: IpAddr) -> OpensslServer {
        self.impostor.serve(self.dir(), ip)
    }

    /// Sets the plan's last day of pins to a day long past, after its `pin = "ca"` (or
    /// `"leaf"`) line, as testdata/regenerate does.
    fn expire_pins(&self) {
        let plan = self.site.join("pinset.toml");
        let text = std::fs::read_to_string(&plan).expect("read pinset.toml");
        let mut out = String::new();
        for line in text.lines() {
            out.push_str(line);
            out.push('\n');
            if line == "pin = \"ca\"" || line == "pin = \"leaf\"" {
                out.push_str("pin_expiration = \"2020-01-01\"\n");
            }
        }
        assert!(out.contains("pin_expiration"), "no `pin = …` line in {}:\n{text}", plan.display());
        std::fs::write(&plan, out).expect("write pinset.toml");
    }

    /// The pins apps carry, as `pinset pin --site` prints them.
    fn pins(&self) -> Vec<String> {
        let out = pinset().args(["pin", "--site", s(&self.site)]).output().expect("run pinset pin");
        assert!(out.status.success(), "pinset pin --site: {}", both(&out));
        let text = String::from_utf8(out.stdout).expect("utf-8");
        text.lines().filter_map(|l| l.split_whitespace().next()).map(str::to_string).collect()
    }

    /// Runs `pinset export TARGET` into `name` and returns its warnings (stderr).
    fn export(&self, target: &str, name: &str) -> (PathBuf, String) {
        let out = self.dir().join(name);
        let res = pinset()
            .args(["export", target, "--site", s(&self.site), "--out", s(&out)])
            .output()
            .expect("run pinset export");
        assert!(res.status.success(), "pinset export {target}: {}", both(&res));
        (out, String::from_utf8_lossy(&res.stderr).into_owned())
    }

    /// A classpath resources folder named `name` holding the export's `pinset-anchors.pem`,
    /// with the impostor's CA appended when `trust_impostor` is set.
    fn resources(&self, export: &Path, name: &str, trust_impostor: bool) -> PathBuf {
        let dir = self.dir().join(name);
        std::fs::create_dir_all(&dir).expect("mkdir resources");
        let mut pem = std::fs::read_to_string(export.join("pinset-anchors.pem")).expect("read pinset-anchors.pem");
        assert!(pem.contains("-----BEGIN CERTIFICATE-----"), "pinset-anchors.pem holds no certificate:\n{pem}");
        if trust_impostor {
            pem.push_str(&std::fs::read_to_string(&self.impostor.ca).expect("read the impostor CA"));
        }
        std::fs::write(dir.join("pinset-anchors.pem"), pem).expect("write pinset-anchors.pem");
        dir
    }
}

/// Compiles Java `sources` into `classes` with every lint on and warnings as errors.
fn javac(classes: &Path, cp: &str, sources: &[PathBuf]) {
    let mut args = vec!["-Xlint:all", "-Werror", "-d", s(classes)];
    if !cp.is_empty() {
        args.extend(["-cp", cp]);
    }
    args.extend(sources.iter().map(|p| s(p)));
    let out = run("javac", &args);
    assert!(out.status.success(), "javac {args:?}:\n{}", both(&out));
}

/// Runs `main` of `class` with `cp`, fetching `url`.
fn java(cp: &str, class: &str, url: &str) -> Output {
    run("java", &["-cp", cp, class, url])
}

/// The client reached the server: exit 0 and the status it printed.
fn assert_reached(out: &Output, what: &str, status: &str) {
    let text = both(out);
    assert!(out.status.success(), "{what}: the client was refused:\n{text}");
    assert!(text.contains(status), "{what}: no {status:?} in the output:\n{text}");
}

/// The client was refused by the pin check: exit 1, OkHttp's pinning failure report for
/// `host` listing `pins` and the impostor CA (the anchor of the chain it checked), and no
/// trust failure.
fn assert_refused_by_pins(out: &Output, what: &str, host: &str, pins: &[String]) {
    let text = both(out);
    assert_eq!(out.status.code(), Some(1), "{what}: the impostor was not refused:\n{text}");
    assert!(text.contains("Certificate pinning failure!"), "{what}: not refused by the pins:\n{text}");
    assert!(text.contains(&format!("Pinned certificates for {host}:")), "{what}: the report names {host}:\n{text}");
    for pin in pins {
        assert!(text.contains(&format!("sha256/{pin}")), "{what}: the report lists the pin {pin}:\n{text}");
    }
    assert!(
        text.contains("CN=Impostor Root CA"),
        "{what}: the checked chain ends at the anchor that validated it, the impostor CA:\n{text}"
    );
    for failure in TRUST_FAILURES {
        assert!(!text.contains(failure), "{what}: a trust failure ({failure}), not a pin failure:\n{text}");
    }
}

/// The client was refused by the trust manager: exit 1, a trust failure, no pin report.
fn assert_refused_by_trust(out: &Output, what: &str) {
    let text = both(out);
    assert_eq!(out.status.code(), Some(1), "{what}: the impostor was not refused:\n{text}");
    assert!(TRUST_FAILURES.iter().any(|f| text.contains(f)), "{what}: not a trust failure:\n{text}");
    assert!(!text.contains("Certificate pinning failure!"), "{what}: the pins, not the anchors, refused it:\n{text}");
}

/// A Java program that drives the `java` export the ways `main` does not: `httpclient URL` is a
/// GET with `PinsetPinning.httpClient()` (java.net.http, SSLEngine); `rawsocket URL` is a
/// handshake on a socket of `PinsetPinning.sslContext()` with endpoint identification off,
/// which the trust manager must refuse.
const PROBE: &str = r#"
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import javax.net.ssl.SSLSocket;

public final class Probe {
    public static void main(String[] args) throws Exception {
        URI uri = URI.create(args[1]);
        try {
            if (args[0].equals("httpclient")) {
                // The body is not read: s_server -www never ends it.
                HttpResponse<InputStream> response = pinset.PinsetPinning.httpClient()
                        .send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofInputStream());
                System.out.println("HTTP " + response.statusCode() + " from " + uri);
            } else {
                try (SSLSocket socket = (SSLSocket) pinset.PinsetPinning.sslContext().getSocketFactory()
                        .createSocket(uri.getHost(), uri.getPort())) {
                    socket.startHandshake();
                    System.out.println("handshake done with " + uri);
                }
            }
        } catch (java.io.IOException e) {
            System.err.println(uri + ": " + e);
            System.exit(1);
        }
    }
}
"#;

// ---------------------------------------------------------------------------------------
// okhttp
// ---------------------------------------------------------------------------------------

/// The okhttp export's Java file, compiled against OkHttp 3.13.1 into the folder `name`.
fn compile_okhttp_java(fx: &Fixture, export: &Path, name: &str) -> PathBuf {
    let classes = fx.dir().join(name);
    javac(&classes, &classpath(&OKHTTP_JARS), &[export.join("PinsetPinning.java")]);
    classes
}

/// The classpath to run compiled okhttp `classes` with the anchors of `resources`.
fn okhttp_cp(classes: &Path, resources: &Path, extra: &[&str]) -> String {
    let mut parts = vec![s(classes), s(resources)];
    parts.extend(OKHTTP_JARS);
    parts.extend(extra);
    classpath(&parts)
}

#[test]
fn okhttp_java_client_reaches_the_site_over_ipv4_and_ipv6_and_refuses_an_impostor_by_its_pins() {
    let fx = Fixture::new(&["--ip", "127.0.0.1", "--ip", "::1"]);
    // A second server of the site at 127.0.0.2, which the first server's certificate does not name.
    let res = pinset()
        .args(["issue", "server", "second", "--site", s(&fx.site), "--ip", "127.0.0.2"])
        .output()
        .expect("run pinset issue");
    assert!(res.status.success(), "pinset issue server: {}", both(&res));
    let pins = fx.pins();
    let (export, warnings) = fx.export("okhttp", "okhttp");
    for file in ["PinsetPinning.kt", "PinsetPinning.java", "pinset-anchors.pem"] {
        assert!(export.join(file).is_file(), "the okhttp export lacks {file}");
    }
    assert!(
        warnings.contains("okhttp [okhttp-ipv6-name]") && warnings.contains("(::1)"),
        "the export warns that OkHttp before 4.5 cannot match ::1 itself:\n{warnings}"
    );
    let classes = compile_okhttp_java(&fx, &export, "classes");
    let trusting = fx.resources(&export, "trusting-impostor", true);
    let cp = okhttp_cp(&classes, &trusting, &[]);

    // OkHttp 3.13's own verifier refuses ::1 (it compares "::1" with Java's
    // "0:0:0:0:0:0:0:1"); the export's verifier compares addresses, and the CA pin matches
    // the anchor s_server never sends.
    for ip in [V4, V6] {
        let server = fx.genuine(ip);
        assert_reached(&java(&cp, "pinset.PinsetPinning", &server.url()), &format!("genuine {ip}"), "code=200");
    }
    for ip in [V4, V6] {
        let impostor = fx.impostor(ip);
        let out = java(&cp, "pinset.PinsetPinning", &impostor.url());
        assert_refused_by_pins(&out, &format!("impostor {ip}"), &ip.to_string(), &pins);
        assert!(
            both(&out).contains("SSLPeerUnverifiedException"),
            "OkHttp's CertificatePinner refused it:\n{}",
            both(&out)
        );
    }

    // Control: with the anchors as exported, the trust manager refuses the impostor first.
    let exported = fx.resources(&export, "as-exported", false);
    let impostor = fx.impostor(V4);
    let out = java(&okhttp_cp(&classes, &exported, &[]), "pinset.PinsetPinning", &impostor.url());
    assert_refused_by_trust(&out, "impostor, anchors as exported");

    // The verifier that replaces OkHttp's still refuses an address the certificate does not
    // name: 127.0.0.2 is pinned (the second server's address) and the chain is the site's, so
    // only the name check stands in the way. Linux loopback answers on all of 127/8.
    let other: IpAddr = "127.0.0.2".parse().expect("ip");
    let server = fx.genuine(other);
    let out = java(&cp, "pinset.PinsetPinning", &server.url());
    assert_eq!(out.status.code(), Some(1), "127.0.0.2 must be refused:\n{}", both(&out));
    assert!(both(&out).contains("Hostname 127.0.0.2 not verified"), "refused by the address check:\n{}", both(&out));
}

#[test]
fn okhttp_kotlin_client_compiles_against_okhttp_3_and_behaves_like_the_java_one() {
    let fx = Fixture::new(&["--ip", "127.0.0.1", "--ip", "::1"]);
    let pins = fx.pins();
    let (export, _) = fx.export("okhttp", "okhttp");
    let classes = fx.dir().join("kotlin-classes");
    let jars = classpath(&OKHTTP_JARS);
    let source = export.join("PinsetPinning.kt");
    let args = ["-cp", &jars, s(&source), "-d", s(&classes)];
    let out = run("kotlinc", &args);
    assert!(out.status.success(), "kotlinc {args:?}:\n{}", both(&out));
    assert!(!both(&out).contains("error:"), "kotlinc reported errors:\n{}", both(&out));

    let trusting = fx.resources(&export, "trusting-impostor", true);
    let cp = okhttp_cp(&classes, &trusting, &[KOTLIN_STDLIB]);
    for ip in [V4, V6] {
        let server = fx.genuine(ip);
        assert_reached(&java(&cp, "pinset.PinsetPinning", &server.url()), &format!("Kotlin, genuine {ip}"), "code=200");
    }
    let impostor = fx.impostor(V6);
    let out = java(&cp, "pinset.PinsetPinning", &impostor.url());
    assert_refused_by_pins(&out, "Kotlin, impostor ::1", "::1", &pins);
}

#[test]
fn okhttp_client_pins_a_self_signed_server_by_address_and_by_dns_name() {
    // Self-signed: the anchors are the server's own certificates and the pins its keys. The
    // DNS name `localhost` takes the verifier's dNSName path and a DNS CertificatePinner entry.
    let fx = Fixture::new(&["--self-signed", "--ip", "127.0.0.1", "--dns", "localhost"]);
    let pins = fx.pins();
    let (export, _) = fx.export("okhttp", "okhttp");
    let classes = compile_okhttp_java(&fx, &export, "classes");
    let cp = okhttp_cp(&classes, &fx.resources(&export, "trusting-impostor", true), &[]);

    let server = fx.genuine(V4);
    assert_reached(&java(&cp, "pinset.PinsetPinning", &server.url()), "genuine 127.0.0.1", "code=200");
    drop(server);
    let server = fx.genuine(V4);
    let by_name = format!("https://localhost:{}/", server.addr.port());
    assert_reached(&java(&cp, "pinset.PinsetPinning", &by_name), "genuine localhost", "code=200");
    drop(server);
    let impostor = fx.impostor(V4);
    let by_name = format!("https://localhost:{}/", impostor.addr.port());
    assert_refused_by_pins(&java(&cp, "pinset.PinsetPinning", &by_name), "impostor localhost", "localhost", &pins);
}

#[test]
fn okhttp_client_stops_pinning_after_the_last_day() {
    let fx = Fixture::new(&["--ip", "127.0.0.1"]);
    fx.expire_pins();
    let (export, _) = fx.export("okhttp", "okhttp");
    let java_file = std::fs::read_to_string(export.join("PinsetPinning.java")).expect("read");
    assert!(java_file.contains("2020-01-01 (UTC)"), "the export names the plan's last day");
    let classes = compile_okhttp_java(&fx, &export, "classes");
    let cp = okhttp_cp(&classes, &fx.resources(&export, "trusting-impostor", true), &[]);
    // The app trusts the impostor's CA, and the pins no longer stand in the way.
    let impostor = fx.impostor(V4);
    assert_reached(&java(&cp, "pinset.PinsetPinning", &impostor.url()), "impostor after the last day", "code=200");
    // The anchors still do.
    let cp = okhttp_cp(&classes, &fx.resources(&export, "as-exported", false), &[]);
    let impostor = fx.impostor(V4);
    assert_refused_by_trust(&java(&cp, "pinset.PinsetPinning", &impostor.url()), "impostor after the last day");
}

// ---------------------------------------------------------------------------------------
// java (JDK only)
// ---------------------------------------------------------------------------------------

/// The java export and the probe, compiled into `name`.
fn compile_java_target(fx: &Fixture, export: &Path, name: &str) -> PathBuf {
    let classes = fx.dir().join(name);
    let probe = fx.dir().join(format!("{name}-src/Probe.java"));
    std::fs::create_dir_all(probe.parent().expect("parent")).expect("mkdir probe");
    std::fs::write(&probe, PROBE).expect("write Probe.java");
    javac(&classes, "", &[export.join("PinsetPinning.java"), probe]);
    classes
}

/// The classpath to run compiled java-target `classes` with the anchors of `resources`.
fn jdk_cp(classes: &Path, resources: &Path) -> String {
    format!("{}:{}", s(classes), s(resources))
}

#[test]
fn java_client_reaches_the_site_with_urlconnection_and_httpclient_and_refuses_an_impostor_by_its_pins() {
    let fx = Fixture::new(&["--ip", "127.0.0.1", "--ip", "::1"]);
    let pins = fx.pins();
    let (export, warnings) = fx.export("java", "java");
    assert!(!warnings.contains("java ["), "no platform warning for the JDK:\n{warnings}");
    let classes = compile_java_target(&fx, &export, "classes");
    let cp = jdk_cp(&classes, &fx.resources(&export, "trusting-impostor", true));

    for ip in [V4, V6] {
        let server = fx.genuine(ip);
        assert_reached(&java(&cp, "pinset.PinsetPinning", &server.url()), &format!("genuine {ip}"), "HTTP 200");
    }
    for ip in [V4, V6] {
        let impostor = fx.impostor(ip);
        let out = java(&cp, "pinset.PinsetPinning", &impostor.url());
        assert_refused_by_pins(&out, &format!("impostor {ip}"), &ip.to_string(), &pins);
    }

    // java.net.http runs the trust manager on an SSLEngine: the same checks.
    let server = fx.genuine(V6);
    let out = run("java", &["-cp", &cp, "Probe", "httpclient", &server.url()]);
    assert_reached(&out, "HttpClient, genuine ::1", "HTTP 200");
    let impostor = fx.impostor(V4);
    let out = run("java", &["-cp", &cp, "Probe", "httpclient", &impostor.url()]);
    assert_refused_by_pins(&out, "HttpClient, impostor 127.0.0.1", "127.0.0.1", &pins);

    // A socket without endpoint identification would leave the address unchecked: refused,
    // even for the genuine server.
    let server = fx.genuine(V4);
    let out = run("java", &["-cp", &cp, "Probe", "rawsocket", &server.url()]);
    assert_eq!(out.status.code(), Some(1), "a handshake without endpoint identification must fail:\n{}", both(&out));
    assert!(both(&out).contains("endpoint identification is off"), "says why:\n{}", both(&out));

    // Control: the anchors as exported, given as a file (main's second argument, which
    // overrides the classpath that trusts the impostor): PKIX refuses it before any pin.
    let impostor = fx.impostor(V4);
    let anchors = export.join("pinset-anchors.pem");
    let out = run("java", &["-cp", &cp, "pinset.PinsetPinning", &impostor.url(), s(&anchors)]);
    assert_refused_by_trust(&out, "impostor, anchors as exported");
}

#[test]
fn java_client_pins_the_server_keys_of_a_leaf_site_until_the_last_day() {
    let fx = Fixture::new(&["--pin", "leaf", "--ip", "127.0.0.1", "--ip", "::1"]);
    let pins = fx.pins();
    let (export, _) = fx.export("java", "java");
    let classes = compile_java_target(&fx, &export, "classes");
    let cp = jdk_cp(&classes, &fx.resources(&export, "trusting-impostor", true));
    let server = fx.genuine(V6);
    assert_reached(&java(&cp, "pinset.PinsetPinning", &server.url()), "genuine ::1", "HTTP 200");
    let impostor = fx.impostor(V6);
    assert_refused_by_pins(&java(&cp, "pinset.PinsetPinning", &impostor.url()), "impostor ::1", "::1", &pins);

    // Past the last day only the anchors apply, and the app trusts the impostor's CA.
    fx.expire_pins();
    let (expired, _) = fx.export("java", "java-expired");
    let text = std::fs::read_to_string(expired.join("PinsetPinning.java")).expect("read");
    assert!(text.contains("LocalDate.parse(\"2020-01-01\")"), "the export carries the plan's last day");
    let classes = compile_java_target(&fx, &expired, "classes-expired");
    let cp = jdk_cp(&classes, &fx.resources(&expired, "expired-trusting-impostor", true));
    let impostor = fx.impostor(V6);
    assert_reached(&java(&cp, "pinset.PinsetPinning", &impostor.url()), "impostor ::1 after the last day", "HTTP 200");
}

// ---------------------------------------------------------------------------------------
// Both
// ---------------------------------------------------------------------------------------

#[test]
fn a_hostile_site_name_stays_inside_the_comments_and_strings_of_every_jvm_file() {
    // A site name is free text on one line. In Java and Kotlin `*/` would end a doc comment
    // (and `/*` open a nested one in Kotlin), and javac reads `\u000a` as a line break even in
    // a comment or a string: any of them would turn the rest of the name into code.
    let tmp = tempdir();
    let site = init_site(tmp.path(), "site", &["--ip", "127.0.0.1"]);
    let plan_path = site.join("pinset.toml");
    let plan = std::fs::read_to_string(&plan_path).expect("read pinset.toml");
    let edited = plan.replace("name = \"site\"", r#"name = "x */ /* \\u000a \" $y""#);
    assert_ne!(edited, plan, "the plan names the site");
    std::fs::write(&plan_path, edited).expect("write pinset.toml");
    let export = |target: &str| {
        let out = tmp.path().join(target);
        let res = pinset().args(["export", target, "--site", s(&site), "--out", s(&out)]).output().expect("run");
        assert!(res.status.success(), "pinset export {target}: {}", both(&res));
        out
    };
    let (okhttp, jdk) = (export("okhttp"), export("java"));
    for file in [okhttp.join("PinsetPinning.kt"), okhttp.join("PinsetPinning.java"), jdk.join("PinsetPinning.java")] {
        let text = std::fs::read_to_string(&file).expect("read");
        assert!(
            text.contains("site \"x *_/ /_* _u000a _ _y\""),
            "{}: the name, defused, is in the comments",
            file.display()
        );
        assert!(text.contains("SITE = \"x */ /* _u000a _ _y\""), "{}: the name is the SITE string", file.display());
        assert!(!text.contains("\\u"), "{}: no unicode escape", file.display());
    }
    javac(&tmp.path().join("okhttp-classes"), &classpath(&OKHTTP_JARS), &[okhttp.join("PinsetPinning.java")]);
    javac(&tmp.path().join("jdk-classes"), "", &[jdk.join("PinsetPinning.java")]);
    let jars = classpath(&OKHTTP_JARS);
    let (source, classes) = (okhttp.join("PinsetPinning.kt"), tmp.path().join("kotlin-classes"));
    let out = run("kotlinc", &["-cp", &jars, s(&source), "-d", s(&classes)]);
    assert!(out.status.success() && !both(&out).contains("error:"), "kotlinc:\n{}", both(&out));
}

// ---------------------------------------------------------------------------------------
// No cleartext
// ---------------------------------------------------------------------------------------

/// What the cleartext server answers: a client that prints it fell back to cleartext.
const CLEARTEXT_BODY: &str = "served in cleartext";

/// A plain HTTP server on 127.0.0.1, one of the site's addresses, answering every request
/// with [`CLEARTEXT_BODY`] and counting the connections it gets.
fn cleartext_server() -> Loopback {
    Loopback::start(V4, |mut sock, _stop| {
        use std::io::{Read as _, Write as _};
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match sock.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let _ = write!(
            sock,
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{CLEARTEXT_BODY}",
            CLEARTEXT_BODY.len()
        );
    })
}

/// Every JVM client (OkHttp from Java and from Kotlin, the JDK-only class through
/// HttpsURLConnection and java.net.http) refuses an `http://` URL of the site's own address,
/// and does not follow the genuine server's redirect to it: the cleartext server is never
/// reached (docs/platforms.md: OkHttp does both unless told otherwise).
#[test]
fn every_jvm_client_refuses_http_urls_and_redirects_to_http() {
    let fx = Fixture::new(&["--ip", "127.0.0.1"]);
    let plain = cleartext_server();
    let http_url = format!("http://{}/", plain.addr());
    let chain = std::fs::read_to_string(fx.site.join("pki/servers/server/chain.pem")).expect("chain.pem");
    let key = std::fs::read_to_string(server_files(&fx.site).1).expect("key.pem");
    let genuine =
        TlsServer::start(pinset_testkit::pki::server_config(&[chain], &key), Response::redirect(302, &http_url));

    let (okhttp, _) = fx.export("okhttp", "okhttp");
    let okhttp_resources = fx.resources(&okhttp, "okhttp-resources", false);
    let okhttp_java = okhttp_cp(&compile_okhttp_java(&fx, &okhttp, "okhttp-classes"), &okhttp_resources, &[]);
    let kotlin_classes = fx.dir().join("kotlin-classes");
    let jars = classpath(&OKHTTP_JARS);
    let out = run("kotlinc", &["-cp", &jars, s(&okhttp.join("PinsetPinning.kt")), "-d", s(&kotlin_classes)]);
    assert!(out.status.success() && !both(&out).contains("error:"), "kotlinc:\n{}", both(&out));
    let okhttp_kotlin = okhttp_cp(&kotlin_classes, &okhttp_resources, &[KOTLIN_STDLIB]);
    let (jdk, _) = fx.export("java", "java");
    let jdk_classes = compile_java_target(&fx, &jdk, "jdk-classes");
    let jdk = jdk_cp(&jdk_classes, &fx.resources(&jdk, "jdk-resources", false));

    let clients: [(&str, &str, Vec<&str>); 4] = [
        ("OkHttp (Java)", &okhttp_java, vec!["pinset.PinsetPinning"]),
        ("OkHttp (Kotlin)", &okhttp_kotlin, vec!["pinset.PinsetPinning"]),
        ("JDK HttpsURLConnection", &jdk, vec!["pinset.PinsetPinning"]),
        ("JDK java.net.http", &jdk, vec!["Probe", "httpclient"]),
    ];
    for (what, cp, main) in &clients {
        let fetch = |url: &str| {
            let mut args = vec!["-cp", cp];
            args.extend(main.iter().copied());
            args.push(url);
            run("java", &args)
        };
        let out = fetch(&http_url);
        assert_ne!(out.status.code(), Some(0), "{what}: an http:// URL must fail:\n{}", both(&out));
        assert!(!both(&out).contains(CLEARTEXT_BODY), "{what}: the cleartext answer:\n{}", both(&out));
        assert_eq!(plain.accepted(), 0, "{what} connected in cleartext to {http_url}:\n{}", both(&out));

        let out = fetch(&genuine.url());
        assert!(genuine.next_outcome().is_ok(), "{what}: the genuine server answered the redirect:\n{}", both(&out));
        assert!(!both(&out).contains(CLEARTEXT_BODY), "{what}: the cleartext answer:\n{}", both(&out));
        assert_eq!(plain.accepted(), 0, "{what} followed the redirect to {http_url}:\n{}", both(&out));
    }
}
