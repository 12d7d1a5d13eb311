//! The client side end to end, against real `openssl s_server` processes on loopback only
//! (127.0.0.1, 127.0.0.2, ::1): `pinset get` reaches the site's server and refuses every
//! impostor with the right report, mutual TLS works with PEM and PKCS#12 identities,
//! `pinset pin HOST:PORT` fetches expired, self-signed and many chains, and `pinset verify`
//! gives the same verdicts offline.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{assert_contains, assert_exit, init_site, loopback_site, pinset, s, stderr, stdout, tempdir};
use pinset_testkit::openssl::self_signed;
use pinset_testkit::pki::{Ca, Spec, ip};
use pinset_testkit::site::{ca_files, ca_pem, server_files};
use pinset_testkit::{ClosedPort, OpensslServer, V4, V4_OTHER, V6};
use serde_json::Value;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// The PKCS#12 password every client identity of these tests is issued with.
const P12_PASSWORD: &str = "correct horse battery staple";

/// Runs pinset in `cwd` (a folder without a site, so only `--site` names one).
fn run_in(cwd: &Path, args: &[&str]) -> Output {
    pinset().current_dir(cwd).args(args).output().expect("run pinset")
}

/// Standard output as JSON.
#[track_caller]
fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\n--- stderr:\n{}", stdout(out), stderr(out)))
}

/// The SPKI pin (base64) `pinset pin FILE` prints for the first certificate of a file.
fn pin_of(file: &Path) -> String {
    let out = pinset().arg("pin").arg(file).output().expect("run pinset pin");
    assert_exit(&out, 0, "pinset pin FILE");
    let text = stdout(&out);
    let pin = text.split_whitespace().next().unwrap_or_else(|| panic!("no pin printed for {file:?}"));
    assert_eq!(pin.len(), 44, "a SHA-256 pin is 44 base64 characters: {pin:?}");
    pin.to_string()
}

/// A certificate for 127.0.0.1 that expired in 2021, self-signed or issued by a site's
/// CA: (cert, key). openssl 3.0 cannot set validity dates in the past, so rcgen makes it.
fn expired_cert(dir: &Path, cn: &str, issuer_site: Option<&Path>) -> (PathBuf, PathBuf) {
    let mut spec = Spec::server(cn, vec![ip("127.0.0.1")])
        .valid(rcgen::date_time_ymd(2020, 1, 1), rcgen::date_time_ymd(2021, 1, 1));
    let identity = match issuer_site {
        None => spec.self_signed(),
        Some(site) => {
            let (ca_cert, ca_key) = ca_files(site);
            spec.authority_key_identifier = true;
            spec.signed_by(&Ca::from_files(&ca_cert, &ca_key))
        }
    };
    identity.write(dir, cn)
}

/// Issues client `name` of `site` with a PKCS#12 of `profile` ("modern" or "legacy").
fn issue_client(site: &Path, name: &str, profile: &str, password_file: &Path) {
    let out = pinset()
        .args(["issue", "client", name, "--site", s(site), "--password-file", s(password_file), "--p12-profile"])
        .arg(profile)
        .output()
        .expect("run pinset issue client");
    assert_exit(&out, 0, "pinset issue client");
}

// ---------------------------------------------------------------------------------------
// 1. pinset get reaches the site's own server
// ---------------------------------------------------------------------------------------

#[test]
fn get_fetches_the_status_page_over_ipv4_and_ipv6() {
    let tmp = tempdir();
    let site = loopback_site(tmp.path(), "shop", &[]);
    for ip in [V4, V6] {
        let server = OpensslServer::site(tmp.path(), &site, ip, &[]);
        let out = run_in(tmp.path(), &["get", &server.url(), "--site", s(&site), "--timeout", "10"]);
        assert_exit(&out, 0, &format!("pinset get {}", server.url()));
        assert_contains(&stdout(&out), &["s_server", "Ciphers"], "the s_server status page");
        assert_contains(
            &stderr(&out),
            &[&format!("{} verified", server.authority()), &format!("matched sha256/{}", pin_of(&ca_pem(&site)))],
            "the verification note",
        );
    }
}

#[test]
fn get_json_reports_tls_chain_verdict_and_status() {
    let tmp = tempdir();
    let site = loopback_site(tmp.path(), "shop", &[]);
    let (cert, _) = server_files(&site);
    let (leaf_pin, ca_pin) = (pin_of(&cert), pin_of(&ca_pem(&site)));
    // Default (TLS 1.3 with this openssl), then a server restricted to TLS 1.2.
    for (extra, version) in [(&[][..], "TLSv1.3"), (&["-tls1_2"][..], "TLSv1.2")] {
        let server = OpensslServer::site(tmp.path(), &site, V4, extra);
        let out = run_in(tmp.path(), &["get", &server.url(), "--site", s(&site), "--json", "--timeout", "10"]);
        assert_exit(&out, 0, "pinset get --json");
        let v = json(&out);
        assert_eq!(v["tls"]["version"], version, "{v:#}");
        let cipher = v["tls"]["cipher"].as_str().unwrap_or_else(|| panic!("tls.cipher is a string: {v:#}"));
        if version == "TLSv1.3" {
            assert!(cipher.starts_with("TLS13_"), "a TLS 1.3 suite: {cipher}");
        } else {
            assert!(cipher.contains("ECDHE_ECDSA"), "a TLS 1.2 ECDHE-ECDSA suite: {cipher}");
        }
        let chain = v["chain"].as_array().unwrap_or_else(|| panic!("chain is an array: {v:#}"));
        assert_eq!(chain.len(), 2, "leaf and anchor: {v:#}");
        assert_eq!(chain[0]["position"], "leaf");
        assert_eq!(chain[0]["pin"], leaf_pin.as_str(), "the leaf's pin is `pinset pin cert.pem`");
        assert_eq!(chain[0]["sent"], true);
        assert_eq!(chain[0]["subject"], "CN=127.0.0.1, O=shop");
        assert_eq!(chain[1]["position"], "anchor");
        assert_eq!(chain[1]["pin"], ca_pin.as_str(), "the anchor's pin is `pinset pin ca.pem`");
        assert_eq!(chain[1]["sent"], false, "s_server sent only the leaf");
        assert_eq!(v["verdict"]["accepted"], true, "{v:#}");
        assert_eq!(v["verdict"]["pins"]["result"], "matched");
        assert_eq!(v["verdict"]["pins"]["pin"], ca_pin.as_str(), "apps pin the CA of a CA site");
        assert_eq!(v["status"], 200);
        assert_eq!(v["url"], server.url().as_str());
        let body = v["body"].as_str().unwrap_or_else(|| panic!("body is a string: {v:#}"));
        assert!(body.contains("s_server") && body.contains(version), "the status page, naming {version}:\n{body}");
    }
}

#[test]
fn get_writes_the_body_to_the_file_given_with_o() {
    let tmp = tempdir();
    let site = loopback_site(tmp.path(), "shop", &[]);
    let server = OpensslServer::site(tmp.path(), &site, V4, &[]);
    let file = tmp.path().join("page.html");
    let out = run_in(tmp.path(), &["get", &server.url(), "--site", s(&site), "-o", s(&file), "--timeout", "10"]);
    assert_exit(&out, 0, "pinset get -o FILE");
    let body = std::fs::read_to_string(&file).expect("-o wrote the file");
    assert_contains(&body, &["s_server", "Ciphers", "</HTML>"], "the body in the -o file");
    assert!(!body.starts_with("HTTP/"), "the file holds the body, not the response head:\n{body}");
    assert!(out.stdout.is_empty(), "with -o nothing goes to stdout: {}", stdout(&out));
}

// ---------------------------------------------------------------------------------------
// 2. pinset get refuses impostors: exit 1 with the report naming the kind
// ---------------------------------------------------------------------------------------

#[test]
fn get_refuses_a_server_with_a_certificate_of_another_site() {
    let tmp = tempdir();
    let site = loopback_site(tmp.path(), "shop", &[]);
    let other = loopback_site(tmp.path(), "rogue", &[]);
    let (rogue_cert, _) = server_files(&other);
    let server = OpensslServer::site(tmp.path(), &other, V4, &[]);

    let body_file = tmp.path().join("body.html");
    let out = run_in(tmp.path(), &["get", &server.url(), "--site", s(&site), "-o", s(&body_file), "--timeout", "10"]);
    assert_exit(&out, 1, "a server of another site");
    assert!(!body_file.exists(), "nothing is written for a refused server");
    assert_contains(
        &stderr(&out),
        &[
            "does not lead to a trusted anchor",
            "for 127.0.0.1",
            &format!("sha256/{}", pin_of(&rogue_cert)),
            "CN=127.0.0.1, O=rogue",
            &format!("sha256/{}", pin_of(&ca_pem(&site))),
        ],
        "the unknown-issuer report (the chain seen, then the pins expected)",
    );
    assert!(!stdout(&out).contains("s_server"), "no body from a refused server:\n{}", stdout(&out));

    let out = run_in(tmp.path(), &["get", &server.url(), "--site", s(&site), "--json", "--timeout", "10"]);
    assert_exit(&out, 1, "a server of another site, --json");
    let v = json(&out);
    assert_eq!(v["verdict"]["accepted"], false, "{v:#}");
    assert_eq!(v["verdict"]["kind"], "unknown-issuer", "{v:#}");
    assert_eq!(v["chain"][0]["pin"], pin_of(&rogue_cert).as_str(), "{v:#}");
    assert!(v.get("body").is_none() && v.get("status").is_none(), "no response from a refused server: {v:#}");
}

#[test]
fn get_refuses_the_genuine_server_when_the_pin_is_another() {
    let tmp = tempdir();
    let site = loopback_site(tmp.path(), "shop", &[]);
    let other = loopback_site(tmp.path(), "elsewhere", &[]);
    let wrong = pin_of(&ca_pem(&other));
    let (cert, _) = server_files(&site);
    let server = OpensslServer::site(tmp.path(), &site, V4, &[]);
    let pin_arg = format!("sha256/{wrong}");

    let out = run_in(tmp.path(), &["get", &server.url(), "--site", s(&site), "--pin", &pin_arg, "--timeout", "10"]);
    assert_exit(&out, 1, "a pin of another site");
    assert_contains(
        &stderr(&out),
        &[
            "pinning failure",
            "Validated chain",
            &format!("sha256/{}: CN=127.0.0.1, O=shop", pin_of(&cert)),
            "(trust anchor, not sent)",
            "Pinned certificates for 127.0.0.1",
            &pin_arg,
        ],
        "the pin-mismatch report",
    );

    let out =
        run_in(tmp.path(), &["get", &server.url(), "--site", s(&site), "--pin", &pin_arg, "--json", "--timeout", "10"]);
    assert_exit(&out, 1, "a pin of another site, --json");
    let v = json(&out);
    assert_eq!(v["verdict"]["accepted"], false, "{v:#}");
    assert_eq!(v["verdict"]["kind"], "pin-mismatch", "{v:#}");
    assert_eq!(v["expected_pins"], serde_json::json!([wrong]), "{v:#}");

    // The control: the same server and site with the leaf's own pin is accepted.
    let leaf_pin = format!("sha256/{}", pin_of(&cert));
    let out = run_in(tmp.path(), &["get", &server.url(), "--site", s(&site), "--pin", &leaf_pin, "--timeout", "10"]);
    assert_exit(&out, 0, "the leaf's own pin");
    assert_contains(&stderr(&out), &[&format!("matched {leaf_pin} (leaf)")], "the pin that matched");
}

#[test]
fn get_refuses_an_address_outside_the_certificate() {
    let tmp = tempdir();
    let site = init_site(tmp.path(), "shop", &["--ip", "127.0.0.1"]);
    let server = OpensslServer::site(tmp.path(), &site, V4_OTHER, &[]);
    assert!(server.url().starts_with("https://127.0.0.2:"), "{}", server.url());

    // The site answers on 127.0.0.1 only: 127.0.0.2 is not its address, said as such.
    let out = run_in(tmp.path(), &["get", &server.url(), "--site", s(&site), "--timeout", "10"]);
    assert_exit(&out, 1, "a site server dialled at an address that is not the site's");
    assert_contains(
        &stderr(&out),
        &[
            "no pins are known for 127.0.0.2",
            "not an address of site \"shop\", which answers on 127.0.0.1",
            "CN=127.0.0.1, O=shop",
        ],
        "the not-the-site's-address report",
    );

    // With the site's CA and pin given by hand, every address is checked against the
    // certificate's names: a name mismatch.
    let ca = ca_pem(&site);
    let out = run_in(tmp.path(), &["get", &server.url(), "--ca", s(&ca), "--json", "--timeout", "10"]);
    assert_exit(&out, 1, "name mismatch, --json");
    let v = json(&out);
    assert_eq!(v["verdict"]["accepted"], false, "{v:#}");
    assert_eq!(v["verdict"]["kind"], "name-mismatch", "{v:#}");
    let out = run_in(tmp.path(), &["get", &server.url(), "--ca", s(&ca), "--timeout", "10"]);
    assert_contains(
        &stderr(&out),
        &["not valid for the address", "for 127.0.0.2", "CN=127.0.0.1, O=shop"],
        "the name-mismatch report",
    );
}

#[test]
fn get_refuses_an_expired_certificate_of_the_site_ca() {
    let tmp = tempdir();
    let site = loopback_site(tmp.path(), "shop", &[]);
    let (cert, key) = expired_cert(tmp.path(), "stale", Some(&site));
    let server = OpensslServer::start(tmp.path(), V4, &cert, &key, &[]);

    let out = run_in(tmp.path(), &["get", &server.url(), "--site", s(&site), "--timeout", "10"]);
    assert_exit(&out, 1, "an expired certificate of the site's CA");
    assert_contains(&stderr(&out), &["has expired", &format!("sha256/{}: CN=stale", pin_of(&cert))], "the report");

    let out = run_in(tmp.path(), &["get", &server.url(), "--site", s(&site), "--json", "--timeout", "10"]);
    assert_exit(&out, 1, "expired, --json");
    let v = json(&out);
    assert_eq!((&v["verdict"]["accepted"], &v["verdict"]["kind"]), (&Value::Bool(false), &"expired".into()), "{v:#}");
}

// ---------------------------------------------------------------------------------------
// 3. Mutual TLS: PEM and PKCS#12 (modern and legacy) client identities
// ---------------------------------------------------------------------------------------

#[test]
fn get_presents_client_certificates_for_mutual_tls() {
    let tmp = tempdir();
    let site = loopback_site(tmp.path(), "shop", &[]);
    let other = loopback_site(tmp.path(), "rogue", &[]);
    let pw = tmp.path().join("p12-password");
    std::fs::write(&pw, P12_PASSWORD).expect("write the password file");
    issue_client(&site, "till-1", "modern", &pw);
    issue_client(&site, "till-2", "legacy", &pw);
    issue_client(&other, "intruder", "modern", &pw);
    // -Verify: a client certificate is required; -verify_return_error: one that does not
    // verify ends the handshake (s_server only logs it otherwise).
    let server = OpensslServer::site(
        tmp.path(),
        &site,
        V4,
        &["-Verify", "1", "-verify_return_error", "-CAfile", s(&ca_pem(&site))],
    );
    let base = ["get", &server.url(), "--site", s(&site), "--timeout", "10"].map(String::from);
    let get = |extra: &[&str]| {
        let mut args: Vec<&str> = base.iter().map(String::as_str).collect();
        args.extend_from_slice(extra);
        run_in(tmp.path(), &args)
    };
    let clients = site.join("pki/clients");

    let out = get(&[]);
    assert!(
        !out.status.success(),
        "a server requiring a client certificate refuses a client without one:\n{}",
        stdout(&out)
    );
    assert!(!stdout(&out).contains("s_server"), "no page without a client certificate:\n{}", stdout(&out));
    assert_exit(&out, 2, "no client certificate");
    assert_contains(&stderr(&out), &["requires a client certificate", "hint:", "--p12"], "what to give");

    let out = get(&["--cert", s(&clients.join("till-1/cert.pem")), "--key", s(&clients.join("till-1/key.pem"))]);
    assert_exit(&out, 0, "--cert/--key");
    assert_contains(&stdout(&out), &["Client certificate", "Subject: O=shop, CN=till-1"], "s_server saw till-1");

    let out = get(&["--p12", s(&clients.join("till-1/till-1.p12")), "--password-file", s(&pw)]);
    assert_exit(&out, 0, "--p12 modern");
    assert_contains(&stdout(&out), &["Client certificate", "Subject: O=shop, CN=till-1"], "s_server saw till-1");

    let out = get(&["--p12", s(&clients.join("till-2/till-2-legacy.p12")), "--password-file", s(&pw)]);
    assert_exit(&out, 0, "--p12 legacy");
    assert_contains(&stdout(&out), &["Client certificate", "Subject: O=shop, CN=till-2"], "s_server saw till-2");

    // A client certificate of another site's CA is refused by the server.
    let intruder = other.join("pki/clients/intruder");
    let out = get(&["--cert", s(&intruder.join("cert.pem")), "--key", s(&intruder.join("key.pem"))]);
    assert!(!out.status.success(), "s_server refuses a client of another CA:\n{}", stdout(&out));
    assert!(!stdout(&out).contains("s_server"), "no page for another CA's client:\n{}", stdout(&out));
}

// ---------------------------------------------------------------------------------------
// 4. pinset pin HOST:PORT: the chain a live server presents, trusted or not
// ---------------------------------------------------------------------------------------

#[test]
fn pin_of_a_live_server_with_an_expired_certificate() {
    let tmp = tempdir();
    let site = loopback_site(tmp.path(), "shop", &[]);
    let (cert, key) = expired_cert(tmp.path(), "old", None);
    let expected = pin_of(&cert);
    let server = OpensslServer::start(tmp.path(), V4, &cert, &key, &[]);

    for target in [server.authority(), server.url()] {
        let out = run_in(tmp.path(), &["pin", &target]);
        assert_exit(&out, 0, &format!("pinset pin {target} (no site)"));
        let text = stdout(&out);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1, "one certificate presented:\n{text}");
        assert_eq!(lines[0].split_whitespace().next(), Some(expected.as_str()), "the leaf's pin:\n{text}");
        assert_contains(
            lines[0],
            &[&format!("{}#1 (leaf)", server.authority()), "CN=old", "2021-01-01", "EXPIRED"],
            "the live line",
        );
        assert!(!stderr(&out).contains("validate"), "no site, no verdict:\n{}", stderr(&out));
    }

    let out = run_in(tmp.path(), &["pin", &server.authority(), "--site", s(&site)]);
    assert_exit(&out, 1, "an expired self-signed server checked against a site");
    assert_eq!(stdout(&out).split_whitespace().next(), Some(expected.as_str()), "the pin is still printed");
    assert_contains(&stderr(&out), &[&format!("{}: does NOT validate", server.authority())], "the verdict");

    let out = run_in(tmp.path(), &["pin", &server.url(), "--site", s(&site), "--json"]);
    assert_exit(&out, 1, "--json with a refusing site");
    let v = json(&out);
    let records = v.as_array().unwrap_or_else(|| panic!("an array of records: {v:#}"));
    assert_eq!(records.len(), 1, "{v:#}");
    assert_eq!(records[0]["spki_sha256"], expected.as_str());
    assert_eq!(records[0]["live"]["position"], 0);
    assert_eq!(records[0]["live"]["not_after"], "2021-01-01");
    assert_eq!(records[0]["live"]["site"]["valid"], false, "{v:#}");
}

#[test]
fn pin_of_live_self_signed_and_site_servers() {
    let tmp = tempdir();
    let site = loopback_site(tmp.path(), "shop", &[]);

    let (cert, key) = self_signed(tmp.path(), "selfie", "IP:127.0.0.1");
    let server = OpensslServer::start(tmp.path(), V4, &cert, &key, &[]);
    let out = run_in(tmp.path(), &["pin", &server.authority()]);
    assert_exit(&out, 0, "a self-signed server");
    let text = stdout(&out);
    assert_eq!(text.split_whitespace().next(), Some(pin_of(&cert).as_str()), "{text}");
    assert_contains(&text, &["CN=selfie"], "the subject");
    assert!(!text.contains("EXPIRED"), "a current certificate is not marked expired:\n{text}");

    // The site's server sending leaf and CA: two records, positions 0 and 1, validated.
    let (leaf, leaf_key) = server_files(&site);
    let ca = ca_pem(&site);
    let server = OpensslServer::start(tmp.path(), V6, &leaf, &leaf_key, &["-cert_chain", s(&ca)]);
    let out = run_in(tmp.path(), &["pin", &server.authority(), "--site", s(&site), "--json"]);
    assert_exit(&out, 0, "the site's own server, --json");
    let v = json(&out);
    let records = v.as_array().unwrap_or_else(|| panic!("an array of records: {v:#}"));
    assert_eq!(records.len(), 2, "leaf and CA: {v:#}");
    for (i, (r, file)) in records.iter().zip([&leaf, &ca]).enumerate() {
        assert_eq!(r["live"]["position"], i, "{v:#}");
        assert_eq!(r["spki_sha256"], pin_of(file).as_str(), "record {i}: {v:#}");
        assert_eq!(r["source"], format!("{}#{}", server.authority(), i + 1), "{v:#}");
    }
    assert_eq!(records[0]["live"]["site"]["valid"], true, "{v:#}");
    assert!(records[1]["live"].get("site").is_none(), "the verdict is on the leaf's record: {v:#}");

    let out = run_in(tmp.path(), &["pin", &server.url(), "--site", s(&site)]);
    assert_exit(&out, 0, "the site's own server");
    assert_contains(&stderr(&out), &[&format!("{}: validates against the site", server.authority())], "verdict");
    assert_eq!(stdout(&out).lines().count(), 2, "{}", stdout(&out));

    // A --site that is not a site is an error, never a silently skipped check.
    let missing = tmp.path().join("no-such-site");
    let out = run_in(tmp.path(), &["pin", &server.authority(), "--site", s(&missing)]);
    assert_exit(&out, 2, "--site naming a folder without a site");
    assert_contains(&stderr(&out), &["error:", "no-such-site"], "the error");
}

#[test]
fn pin_of_many_live_servers_prints_them_in_the_order_given() {
    let tmp = tempdir();
    let identities: Vec<(PathBuf, PathBuf)> =
        (0..5).map(|i| self_signed(tmp.path(), &format!("srv-{i}"), "IP:127.0.0.1")).collect();
    let servers: Vec<OpensslServer> =
        identities.iter().map(|(c, k)| OpensslServer::start(tmp.path(), V4, c, k, &[])).collect();
    // Not the order they were started in, nor port order.
    let order = [3, 0, 4, 1, 2];
    let targets: Vec<String> = order.iter().map(|&i| servers[i].authority()).collect();
    let mut args = vec!["pin"];
    args.extend(targets.iter().map(String::as_str));

    let out = run_in(tmp.path(), &args);
    assert_exit(&out, 0, "five live servers");
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "one line per server:\n{text}");
    for (line, &i) in lines.iter().zip(&order) {
        assert_eq!(line.split_whitespace().next(), Some(pin_of(&identities[i].0).as_str()), "srv-{i}:\n{text}");
        assert_contains(line, &[&format!("{}#1 (leaf)", servers[i].authority()), &format!("CN=srv-{i}")], "line");
    }

    args.push("--json");
    let out = run_in(tmp.path(), &args);
    assert_exit(&out, 0, "five live servers, --json");
    let v = json(&out);
    let sources: Vec<&str> = v.as_array().expect("array").iter().filter_map(|r| r["source"].as_str()).collect();
    let expected: Vec<String> = targets.iter().map(|t| format!("{t}#1")).collect();
    assert_eq!(sources, expected, "records in the order given");
}

#[test]
fn pin_of_a_closed_port_is_an_error_naming_the_address() {
    let tmp = tempdir();
    let closed = ClosedPort::new();
    let target = closed.authority();
    let out = run_in(tmp.path(), &["pin", &target, "--timeout", "5"]);
    assert_exit(&out, 2, "a closed port");
    assert_contains(&stderr(&out), &["error:", &target], "the error");
    assert!(out.stdout.is_empty(), "nothing on stdout: {}", stdout(&out));

    // One server down does not hide what the other inputs give; the exit code still says 2.
    let site = loopback_site(tmp.path(), "shop", &[]);
    let ca = ca_pem(&site);
    let out = run_in(tmp.path(), &["pin", &target, s(&ca), "--timeout", "5"]);
    assert_exit(&out, 2, "a closed port among other inputs");
    assert!(stdout(&out).contains(s(&ca)), "the CA's pin is still printed:\n{}", stdout(&out));
    assert_contains(&stderr(&out), &[&target, "could not be reached"], "the error");

    // A URL that is not a valid target says why, rather than looking for a file by that name.
    let out = run_in(tmp.path(), &["pin", "https://127.0.0.1:99999"]);
    assert_exit(&out, 2, "a port out of range");
    assert_contains(&stderr(&out), &["\"https://127.0.0.1:99999\"", "port", "1 to 65535"], "the error");
    assert!(!stderr(&out).contains("cannot read"), "not treated as a file:\n{}", stderr(&out));
}

// ---------------------------------------------------------------------------------------
// 5. pinset verify: the same checks offline
// ---------------------------------------------------------------------------------------

#[test]
fn verify_gives_the_connection_verdicts_offline() {
    let tmp = tempdir();
    let site = loopback_site(tmp.path(), "shop", &[]);
    let other = loopback_site(tmp.path(), "elsewhere", &[]);
    let (cert, _) = server_files(&site);
    let verify = |extra: &[&str]| {
        let mut args = vec!["verify", s(&cert)];
        args.extend_from_slice(extra);
        run_in(tmp.path(), &args)
    };

    for name in ["127.0.0.1", "::1", "[::1]"] {
        let out = verify(&["--site", s(&site), "--name", name]);
        assert_exit(&out, 0, &format!("--name {name}"));
        assert_contains(&stdout(&out), &[&format!("valid for {name}"), &pin_of(&ca_pem(&site))], "the verdict");
    }

    let out = verify(&["--site", s(&site), "--name", "127.0.0.9"]);
    assert_exit(&out, 1, "an address that is not the site's");
    assert_contains(&stderr(&out), &["no pins are known for 127.0.0.9", "answers on 127.0.0.1, ::1"], "the report");
    let out = verify(&["--ca", s(&ca_pem(&site)), "--name", "127.0.0.9"]);
    assert_exit(&out, 1, "an address outside the SANs");
    assert_contains(&stderr(&out), &["not valid for the address", "127.0.0.9"], "the report");

    let out = verify(&["--site", s(&site), "--name", "127.0.0.1", "--at", "2099-01-01T00:00:00Z"]);
    assert_exit(&out, 1, "in 2099");
    assert_contains(&stderr(&out), &["expired"], "the report");

    let out = verify(&["--ca", s(&ca_pem(&other)), "--name", "127.0.0.1"]);
    assert_exit(&out, 1, "another site's CA");
    assert_contains(&stderr(&out), &["does not lead to a trusted anchor"], "the report");
    let out = verify(&["--ca", s(&ca_pem(&site)), "--name", "127.0.0.1"]);
    assert_exit(&out, 0, "its own CA as --ca");

    let wrong = format!("sha256/{}", pin_of(&ca_pem(&other)));
    let out = verify(&["--site", s(&site), "--name", "127.0.0.1", "--pin", &wrong]);
    assert_exit(&out, 1, "a wrong pin");
    assert_contains(&stderr(&out), &["pinning failure", &wrong], "the report");
    let right = format!("sha256/{}", pin_of(&cert));
    let out = verify(&["--site", s(&site), "--name", "127.0.0.1", "--pin", &wrong, "--pin", &right]);
    assert_exit(&out, 0, "any one pin passes");

    let out = verify(&["--site", s(&site), "--name", "not-an-address!!"]);
    assert_exit(&out, 2, "a name that is neither DNS nor IP");
    assert_contains(&stderr(&out), &["error:", "not-an-address!!"], "the usage error");

    let out = verify(&["--site", s(&site), "--name", "127.0.0.1", "--json"]);
    assert_exit(&out, 0, "--json, valid");
    let v = json(&out);
    assert_eq!(v["valid"], true, "{v:#}");
    assert_eq!(v["chain"][0]["pin"], pin_of(&cert).as_str(), "{v:#}");
    let out = verify(&["--site", s(&site), "--name", "127.0.0.9", "--json"]);
    assert_exit(&out, 1, "--json, invalid");
    let v = json(&out);
    assert_eq!(v["valid"], false, "{v:#}");
    assert_eq!(v["kind"], "not-site-address", "{v:#}");
    let out = verify(&["--ca", s(&ca_pem(&site)), "--name", "127.0.0.9", "--json"]);
    assert_eq!(json(&out)["kind"], "name-mismatch");
}

#[test]
fn a_self_signed_sites_server_is_reached_by_site_by_its_certificate_and_verified_offline() {
    // A self-signed site's server certificate is its own anchor and carries keyCertSign
    // (OpenSSL needs it to take the certificate as its own issuer): that is no reason to
    // refuse it, while a CA-issued leaf with keyCertSign still is.
    let tmp = tempdir();
    let site = init_site(tmp.path(), "hub", &["--self-signed", "--ip", "127.0.0.1"]);
    let cert = site.join("pki/servers/server/cert.pem");
    let key = site.join("pki/servers/server/key.pem");
    let server = OpensslServer::start(tmp.path(), V4, &cert, &key, &[]);

    let out = run_in(tmp.path(), &["get", &server.url(), "--site", s(&site), "-o", "/dev/null", "--timeout", "10"]);
    assert_exit(&out, 0, "get --site of a self-signed site");
    let pin = format!("sha256/{}", pin_of(&cert));
    let out = run_in(
        tmp.path(),
        &["get", &server.url(), "--ca", s(&cert), "--pin", &pin, "-o", "/dev/null", "--timeout", "10"],
    );
    assert_exit(&out, 0, "get --ca CERT --pin PIN of the same server");
    let out = run_in(tmp.path(), &["verify", s(&cert), "--ca", s(&cert), "--name", "127.0.0.1"]);
    assert_exit(&out, 0, "verify of the certificate against itself");
    let out = run_in(tmp.path(), &["verify", s(&cert), "--site", s(&site), "--name", "127.0.0.1"]);
    assert_exit(&out, 0, "verify --site");
}
