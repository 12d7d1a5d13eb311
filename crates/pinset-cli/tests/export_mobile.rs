//! `pinset export` for the mobile and app targets (android, ios, trustkit, react-native,
//! cordova, capacitor, flutter, dotnet, chromium), checked against each platform's own rules
//! on fresh sites of every kind: a private CA pinned by apps, a self-signed server, a CA site
//! whose apps pin the server keys (with a wildcard), and a CA site reached by public-suffix
//! DNS names only (the one TrustKit can pin).
//!
//! The files are read by real parsers, not by string matching: Python's `xml.etree` and
//! `plistlib`, tree-sitter grammars (`scripts/syntax-check`), `node --check`, `sh -n`,
//! `openssl x509`; the pins they carry are compared with what `pinset pin` reads from the
//! site's own files.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use common::{init_site, openssl_ok, pinset, run, s, tempdir};
use serde_json::Value;

/// What a site is made of, for the expectations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Private CA, apps pin the CA keys; IPv4, IPv6 and a `.example` name; pins expire.
    Ca,
    /// Self-signed server, apps pin its keys; IPv4, IPv6 and a `.example` name.
    SelfSigned,
    /// Private CA, apps pin the server keys; IPs, a name and a wildcard; pins expire on a
    /// leap day.
    Leaf,
    /// Private CA, apps pin the CA keys; public-suffix DNS names and a wildcard only.
    Public,
}

const KINDS: [Kind; 4] = [Kind::Ca, Kind::SelfSigned, Kind::Leaf, Kind::Public];

/// A fresh site and what the test expects of it.
struct Site {
    kind: Kind,
    dir: PathBuf,
    /// The plan's last day of pins and the day they stop (the next day), if pins expire.
    expiry: Option<(&'static str, &'static str)>,
    /// Each address as host-keyed formats name it: the key and whether it covers subdomains
    /// (a `*.` wildcard becomes its parent with subdomains), in plan order.
    keys: Vec<(&'static str, bool)>,
}

impl Site {
    fn new(parent: &Path, kind: Kind) -> Site {
        let (name, args, expiry, keys): (_, &[&str], _, Vec<(&'static str, bool)>) = match kind {
            Kind::Ca => (
                "ca",
                &["--ip", "127.0.0.1", "--ip", "::1", "--dns", "x.example"],
                Some(("2027-12-31", "2028-01-01")),
                vec![("127.0.0.1", false), ("::1", false), ("x.example", false)],
            ),
            Kind::SelfSigned => (
                "selfsigned",
                &["--self-signed", "--ip", "127.0.0.1", "--ip", "::1", "--dns", "x.example"],
                None,
                vec![("127.0.0.1", false), ("::1", false), ("x.example", false)],
            ),
            Kind::Leaf => (
                "leaf",
                &["--pin", "leaf", "--ip", "127.0.0.1", "--ip", "::1", "--dns", "x.example", "--dns", "*.w.x.example"],
                Some(("2028-02-28", "2028-02-29")),
                vec![("127.0.0.1", false), ("::1", false), ("x.example", false), ("w.x.example", true)],
            ),
            Kind::Public => (
                "public",
                &["--dns", "app.example.com", "--dns", "*.dev.example.com"],
                Some(("2028-06-30", "2028-07-01")),
                vec![("app.example.com", false), ("dev.example.com", true)],
            ),
        };
        let dir = init_site(parent, name, args);
        if let Some((last, _)) = expiry {
            set_pin_expiration(&dir, last);
        }
        Site { kind, dir, expiry, keys }
    }

    fn ip_keys(&self) -> Vec<&'static str> {
        self.keys.iter().filter(|(k, _)| k.parse::<IpAddr>().is_ok()).map(|(k, _)| *k).collect()
    }

    fn dns_keys(&self) -> Vec<(&'static str, bool)> {
        self.keys.iter().filter(|(k, _)| k.parse::<IpAddr>().is_err()).copied().collect()
    }

    /// True when apps pin the CA's keys.
    fn pins_ca(&self) -> bool {
        matches!(self.kind, Kind::Ca | Kind::Public)
    }

    /// The pins apps carry, as `pinset pin --site` prints them.
    fn app_pins(&self) -> BTreeSet<String> {
        let out = pinset().args(["pin", "--site", s(&self.dir), "--json"]).output().expect("run pinset pin");
        assert!(out.status.success(), "pinset pin --site failed:\n{}", String::from_utf8_lossy(&out.stderr));
        let v: Value = serde_json::from_slice(&out.stdout).expect("pin --json is JSON");
        let pins: BTreeSet<String> =
            v.as_array().expect("an array").iter().map(|p| p["pin"].as_str().expect("a pin").to_string()).collect();
        assert!(pins.len() >= 2, "every site kind ships a backup pin: {pins:?}");
        pins
    }

    /// The pins of the certificates apps trust as anchors, read from the site's files.
    fn anchor_pins(&self) -> BTreeSet<String> {
        let files: &[&str] = match self.kind {
            Kind::SelfSigned => &["pki/servers/server/cert.pem", "pki/servers/server/standby.pem"],
            _ => &["pki/authority/ca.pem", "pki/authority/ca-standby.pem"],
        };
        files.iter().map(|f| file_pin(&self.dir.join(f))).collect()
    }

    /// The server's own keys (active, then standby when it has one), read from its files.
    fn leaf_pins(&self) -> BTreeSet<String> {
        let server = self.dir.join("pki/servers/server");
        let mut pins = BTreeSet::from([file_pin(&server.join("cert.pem"))]);
        for standby in ["standby.pem", "standby.key"] {
            if server.join(standby).exists() {
                pins.insert(file_pin(&server.join(standby)));
                break;
            }
        }
        pins
    }
}

/// Inserts `pin_expiration` after the plan's `pin = …` line, as `testdata/regenerate` does.
fn set_pin_expiration(dir: &Path, last_day: &str) {
    let path = dir.join("pinset.toml");
    let plan = std::fs::read_to_string(&path).expect("read pinset.toml");
    let mut out = String::new();
    let mut done = false;
    for line in plan.lines() {
        out.push_str(line);
        out.push('\n');
        if !done && line.starts_with("pin = ") {
            out.push_str(&format!("pin_expiration = \"{last_day}\"\n"));
            done = true;
        }
    }
    assert!(done, "no `pin = ` line in {}", path.display());
    std::fs::write(&path, out).expect("write pinset.toml");
}

/// The SPKI pin of one file (certificate, key), as `pinset pin FILE` prints it.
fn file_pin(path: &Path) -> String {
    let out = pinset().args(["pin", s(path)]).output().expect("run pinset pin");
    assert!(out.status.success(), "pinset pin {} failed:\n{}", path.display(), String::from_utf8_lossy(&out.stderr));
    pins_of_lines(&out.stdout).into_iter().next().unwrap_or_else(|| panic!("no pin for {}", path.display()))
}

/// The first word of every line of `pinset pin` output.
fn pins_of_lines(stdout: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stdout).lines().filter_map(|l| l.split_whitespace().next()).map(str::to_string).collect()
}

/// Runs `pinset export TARGET --site SITE --out OUT EXTRA…` and returns stderr.
fn export(site: &Site, target: &str, out: &Path, extra: &[&str]) -> String {
    let res = pinset()
        .args(["export", target, "--site", s(&site.dir), "--out", s(out)])
        .args(extra)
        .output()
        .expect("run pinset export");
    let stderr = String::from_utf8_lossy(&res.stderr).into_owned();
    assert!(res.status.success(), "pinset export {target} for {:?} failed:\n{stderr}", site.kind);
    stderr
}

/// The rule names of the warnings `pinset export` printed, per target:
/// `warning: TARGET [RULE]: message`.
fn warning_rules(stderr: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in stderr.lines() {
        let Some(rest) = line.strip_prefix("warning: ") else { continue };
        let (target, rest) = rest.split_once(" [").unwrap_or_else(|| panic!("malformed warning: {line}"));
        let (rule, _) = rest.split_once("]: ").unwrap_or_else(|| panic!("malformed warning: {line}"));
        out.entry(target.to_string()).or_default().insert(rule.to_string());
    }
    out
}

/// Runs `python3 -c SCRIPT ARGS…` and parses its stdout as JSON.
fn python_json(script: &str, args: &[&str]) -> Value {
    let mut all = vec!["-c", script];
    all.extend_from_slice(args);
    let out = run("python3", &all);
    assert!(out.status.success(), "python3 failed on {args:?}:\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("python printed JSON")
}

/// Parses a Network Security Config the way a strict XML parser does and reports its
/// structure, decoding every pin as Android's `Base64.decode` would.
const NSC_SCRIPT: &str = r#"
import base64, json, sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
parent = {child: node for node in root.iter() for child in node}
out = {
    "root": root.tag,
    "children": [c.tag for c in root],
    "pin_set_parents": [parent[p].tag for p in root.iter("pin-set")],
    "pin_parents": [parent[p].tag for p in root.iter("pin")],
    "configs": [],
}
for dc in root.findall("domain-config"):
    cfg = {"attrs": dc.attrib, "children": [c.tag for c in dc], "domains": [], "anchors": [], "pin_sets": []}
    for d in dc.findall("domain"):
        cfg["domains"].append({"text": d.text, "attrs": d.attrib})
    for ta in dc.findall("trust-anchors"):
        cfg["anchors"].extend({"tag": c.tag, "attrs": c.attrib} for c in ta)
    for ps in dc.findall("pin-set"):
        pins = []
        for p in ps:
            text = (p.text or "").strip()
            pins.append({"tag": p.tag, "attrs": p.attrib, "b64": text,
                         "len": len(base64.b64decode(text, validate=True))})
        cfg["pin_sets"].append({"attrs": ps.attrib, "pins": pins})
    out["configs"].append(cfg)
print(json.dumps(out))
"#;

/// Parses a property list with `plistlib` (what Xcode and `plutil` accept) as JSON.
const PLIST_SCRIPT: &str = r#"
import json, plistlib, sys
with open(sys.argv[1], "rb") as f:
    print(json.dumps(plistlib.load(f)))
"#;

/// Checks an Android resource name: `[a-z0-9_]`, starting with a letter.
fn is_resource_name(name: &str) -> bool {
    name.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// True for `yyyy-MM-dd`.
fn is_ymd(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

fn str_set<'a>(values: impl IntoIterator<Item = &'a Value>) -> BTreeSet<String> {
    values.into_iter().map(|v| v.as_str().expect("a string").to_string()).collect()
}

#[test]
fn android_config_follows_the_network_security_config_rules() {
    let tmp = tempdir();
    for kind in KINDS {
        let site = Site::new(tmp.path(), kind);
        let out = tmp.path().join(format!("android-{kind:?}"));
        let stderr = export(&site, "android", &out, &[]);
        let config = out.join("res/xml/network_security_config.xml");
        let nsc = python_json(NSC_SCRIPT, &[s(&config)]);
        let what = format!("{kind:?}: {}", config.display());

        assert_eq!(nsc["root"], "network-security-config", "{what}");
        // pin-set outside a domain-config is a parse error: the app crashes at start.
        for tag in nsc["children"].as_array().expect("children") {
            assert_eq!(tag, "domain-config", "{what}: only domain-configs at the top");
        }
        for p in nsc["pin_set_parents"].as_array().expect("parents") {
            assert_eq!(p, "domain-config", "{what}: a pin-set outside a domain-config");
        }
        for p in nsc["pin_parents"].as_array().expect("parents") {
            assert_eq!(p, "pin-set", "{what}: a pin outside a pin-set");
        }

        let configs = nsc["configs"].as_array().expect("configs");
        let app_pins = site.app_pins();
        let mut domains: Vec<(String, bool)> = Vec::new();
        let mut referenced: BTreeSet<String> = BTreeSet::new();
        for cfg in configs {
            let children = cfg["children"].as_array().expect("children");
            let count = |tag: &str| children.iter().filter(|c| *c == tag).count();
            assert_eq!(count("trust-anchors"), 1, "{what}: one trust-anchors per domain-config");
            assert_eq!(count("pin-set"), 1, "{what}: one pin-set per domain-config");
            assert_eq!(cfg["attrs"]["cleartextTrafficPermitted"], "false", "{what}");

            for d in cfg["domains"].as_array().expect("domains") {
                let text = d["text"].as_str().expect("domain text");
                let include = d["attrs"]["includeSubdomains"].as_str();
                assert!(!text.contains(['[', ']', '/', '*']), "{what}: domain {text} must be a bare host");
                assert_eq!(text, text.to_ascii_lowercase(), "{what}: Android compares domains in lower case");
                if let Ok(ip) = text.parse::<IpAddr>() {
                    // An IP address is compared as a string: IPv6 compressed, as OkHttp names it.
                    assert_eq!(text, ip.to_string(), "{what}: IP domain not in canonical form");
                    assert_ne!(include, Some("true"), "{what}: includeSubdomains on IP {text}");
                } else {
                    assert!(matches!(include, Some("true" | "false")), "{what}: {text} states includeSubdomains");
                }
                domains.push((text.to_string(), include == Some("true")));
            }

            let mut srcs = Vec::new();
            for a in cfg["anchors"].as_array().expect("anchors") {
                assert_eq!(a["tag"], "certificates", "{what}");
                let src = a["attrs"]["src"].as_str().expect("src").to_string();
                assert!(a["attrs"].get("overridePins").is_none(), "{what}: no anchor may override the pins");
                srcs.push(src);
            }
            for src in &srcs {
                let name = src.strip_prefix("@raw/").unwrap_or_else(|| panic!("{what}: anchor src {src} is not @raw/"));
                assert!(is_resource_name(name), "{what}: {name} is not a legal resource name");
                referenced.insert(name.to_string());
            }
            assert_eq!(srcs.len(), 2, "{what}: the active and standby anchors, and no system or user CAs: {srcs:?}");

            let pin_set = &cfg["pin_sets"][0];
            match site.expiry {
                Some((_, stop)) => {
                    let exp = pin_set["attrs"]["expiration"].as_str().expect("expiration");
                    assert!(is_ymd(exp), "{what}: expiration {exp} is not yyyy-MM-dd");
                    // AOSP XmlConfigSource: expirationTime = local midnight starting that day,
                    // pins skipped once now > expirationTime; so the day after the last day.
                    assert_eq!(exp, stop, "{what}: expiration is the first day pins are off");
                }
                None => assert!(pin_set["attrs"].get("expiration").is_none(), "{what}: pins do not expire"),
            }
            let mut pins = BTreeSet::new();
            for p in pin_set["pins"].as_array().expect("pins") {
                assert_eq!(p["tag"], "pin", "{what}");
                assert_eq!(p["attrs"]["digest"], "SHA-256", "{what}");
                assert_eq!(p["len"], 32, "{what}: pin {} does not decode to 32 bytes", p["b64"]);
                assert!(pins.insert(p["b64"].as_str().expect("b64").to_string()), "{what}: repeated pin");
            }
            assert_eq!(pins, app_pins, "{what}: the pin-set is the site's pins");
        }

        let want: Vec<(String, bool)> = site.keys.iter().map(|(k, sub)| (k.to_string(), *sub)).collect();
        assert_eq!(domains, want, "{what}: one domain per address (a wildcard as its parent with subdomains)");
        let unique: BTreeSet<&String> = domains.iter().map(|(d, _)| d).collect();
        assert_eq!(unique.len(), domains.len(), "{what}: a repeated domain is a parse error");

        // Every @raw/ name is a file in res/raw/ (any extension), and nothing else is there.
        let raw_dir = out.join("res/raw");
        let mut files: BTreeMap<String, PathBuf> = BTreeMap::new();
        for entry in std::fs::read_dir(&raw_dir).expect("res/raw") {
            let path = entry.expect("entry").path();
            let stem = path.file_stem().and_then(|s| s.to_str()).expect("file stem").to_string();
            assert!(files.insert(stem, path.clone()).is_none(), "{what}: two raw files share a resource name");
        }
        assert_eq!(files.keys().cloned().collect::<BTreeSet<_>>(), referenced, "{what}: res/raw/ and @raw/ agree");
        let raw_pins: BTreeSet<String> = files
            .values()
            .map(|path| {
                openssl_ok(&["x509", "-in", s(path), "-noout", "-subject"]);
                file_pin(path)
            })
            .collect();
        assert_eq!(raw_pins, site.anchor_pins(), "{what}: the raw resources are the site's anchors");

        let warned = warning_rules(&stderr);
        let android = warned.get("android").cloned().unwrap_or_default();
        let has_ipv6 = site.ip_keys().iter().any(|k| k.contains(':'));
        assert_eq!(android.contains("android-ipv6"), has_ipv6, "{what}: IPv6 domains are matched as strings");
        assert!(!android.contains("android-system-trust"), "{what}");
    }
}

#[test]
fn android_system_trust_adds_the_system_cas_and_says_so() {
    let tmp = tempdir();
    let site = Site::new(tmp.path(), Kind::Ca);
    let out = tmp.path().join("android");
    let stderr = export(&site, "android", &out, &["--system-trust"]);
    let nsc = python_json(NSC_SCRIPT, &[s(&out.join("res/xml/network_security_config.xml"))]);
    for cfg in nsc["configs"].as_array().expect("configs") {
        let srcs: Vec<&str> = cfg["anchors"]
            .as_array()
            .expect("anchors")
            .iter()
            .map(|a| a["attrs"]["src"].as_str().expect("src"))
            .collect();
        assert_eq!(srcs.iter().filter(|s| **s == "system").count(), 1, "{srcs:?}");
        assert!(!srcs.contains(&"user"), "user CAs are never trusted: {srcs:?}");
        assert_eq!(cfg["pin_sets"].as_array().expect("pin-sets").len(), 1, "the pins still decide");
    }
    assert!(warning_rules(&stderr)["android"].contains("android-system-trust"), "{stderr}");
}

#[test]
fn ats_plist_pins_dns_names_only_and_allows_local_networking_for_ips() {
    let tmp = tempdir();
    for kind in KINDS {
        let site = Site::new(tmp.path(), kind);
        let out = tmp.path().join(format!("ios-{kind:?}"));
        export(&site, "ios", &out, &[]);
        let path = out.join("Info-ATS.plist");
        let what = format!("{kind:?}: {}", path.display());
        let plist = python_json(PLIST_SCRIPT, &[s(&path)]);
        let ats = &plist["NSAppTransportSecurity"];
        assert!(ats.is_object(), "{what}: NSAppTransportSecurity");

        // iOS 17+ blocks IP-literal hosts without it.
        if site.ip_keys().is_empty() {
            assert!(ats.get("NSAllowsLocalNetworking").is_none(), "{what}");
        } else {
            assert_eq!(ats["NSAllowsLocalNetworking"], Value::Bool(true), "{what}");
        }

        let domains = ats["NSPinnedDomains"].as_object().expect("NSPinnedDomains (every kind has a DNS name)");
        let keys: BTreeSet<&str> = domains.keys().map(String::as_str).collect();
        let want: BTreeSet<&str> = site.dns_keys().iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, want, "{what}: NSPinnedDomains holds the DNS names, never an IP");
        let (identities, other) = if site.pins_ca() {
            ("NSPinnedCAIdentities", "NSPinnedLeafIdentities")
        } else {
            ("NSPinnedLeafIdentities", "NSPinnedCAIdentities")
        };
        for (key, subdomains) in site.dns_keys() {
            assert!(key.parse::<IpAddr>().is_err());
            let d = &domains[key];
            assert_eq!(d["NSIncludesSubdomains"], Value::Bool(subdomains), "{what}: {key}");
            assert!(d.get(other).is_none(), "{what}: {key} has {other}");
            let pins: BTreeSet<String> = d[identities]
                .as_array()
                .unwrap_or_else(|| panic!("{what}: {key} lacks {identities}"))
                .iter()
                .map(|id| {
                    assert_eq!(id.as_object().expect("a dict").len(), 1, "{what}: {id}");
                    id["SPKI-SHA256-BASE64"].as_str().expect("SPKI-SHA256-BASE64").to_string()
                })
                .collect();
            assert_eq!(pins, site.app_pins(), "{what}: {key}");
        }
    }
}

#[test]
fn trustkit_plist_pins_only_what_trustkit_accepts() {
    let tmp = tempdir();
    for kind in KINDS {
        let site = Site::new(tmp.path(), kind);
        let out = tmp.path().join(format!("trustkit-{kind:?}"));
        let stderr = export(&site, "trustkit", &out, &[]);
        let path = out.join("TrustKit.plist");
        let what = format!("{kind:?}: {}", path.display());
        let plist = python_json(PLIST_SCRIPT, &[s(&path)]);
        let rules = warning_rules(&stderr).remove("trustkit").unwrap_or_default();
        if kind != Kind::Public {
            // IP addresses and .example names only: TrustKit stops the app at start on an
            // IP, a name under no public suffix, and on an empty TSKPinnedDomains.
            assert_eq!(plist, serde_json::json!({}), "{what}: no TSKConfiguration at all");
            assert!(rules.contains("trustkit-empty"), "{what}: {stderr}");
            continue;
        }
        let config = &plist["TSKConfiguration"];
        assert_eq!(config["TSKSwizzleNetworkDelegates"], Value::Bool(false), "{what}");
        // On macOS TrustKit skips pins for user-installed anchors unless told not to.
        assert_eq!(config["TSKIgnorePinningForUserDefinedTrustAnchors"], Value::Bool(false), "{what}");
        let domains = config["TSKPinnedDomains"].as_object().expect("TSKPinnedDomains");
        let keys: BTreeSet<&str> = domains.keys().map(String::as_str).collect();
        let want: BTreeSet<&str> = site.dns_keys().iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, want, "{what}");
        let (_, stop) = site.expiry.expect("the public site's pins expire");
        for (key, subdomains) in site.dns_keys() {
            assert!(key.parse::<IpAddr>().is_err(), "{what}: TrustKit rejects IP {key}");
            let d = &domains[key];
            let hashes = str_set(d["TSKPublicKeyHashes"].as_array().expect("TSKPublicKeyHashes"));
            assert!(hashes.len() >= 2, "{what}: TrustKit refuses to enforce fewer than two pins");
            assert_eq!(hashes, site.app_pins(), "{what}: {key}");
            assert_eq!(d["TSKEnforcePinning"], Value::Bool(true), "{what}");
            assert_eq!(d["TSKIncludeSubdomains"], Value::Bool(subdomains), "{what}: {key}");
            assert_eq!(d["TSKDisableDefaultReportUri"], Value::Bool(true), "{what}: no reports to a third party");
            // TrustKit parses it as UTC midnight and stops once that instant has passed.
            assert_eq!(d["TSKExpirationDate"], stop, "{what}: the first day pins are off");
        }
        assert_eq!(rules, BTreeSet::from(["trustkit-system-trust".to_string()]), "{what}");
    }
}

/// Every `"…"` string literal of 44 base64 characters ending in `=`: the SPKI pins a source
/// file carries (anchors are longer, the Swift SPKI headers shorter).
fn quoted_pins(source: &str) -> BTreeSet<String> {
    source
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|q| {
            q.len() == 44
                && q.ends_with('=')
                && q.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=')
        })
        .map(str::to_string)
        .collect()
}

/// Every `"…"` string literal longer than 200 base64 characters: certificates (DER, base64).
fn quoted_certificates(source: &str) -> Vec<String> {
    source
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|q| {
            q.len() > 200 && q.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=')
        })
        .map(str::to_string)
        .collect()
}

/// The pins of base64 DER certificates, decoded by openssl and read by `pinset pin`.
fn pins_of_base64_certificates(dir: &Path, certs: &[String]) -> BTreeSet<String> {
    certs
        .iter()
        .enumerate()
        .map(|(i, b64)| {
            let b64_path = dir.join(format!("anchor-{i}.b64"));
            let der_path = dir.join(format!("anchor-{i}.der"));
            std::fs::write(&b64_path, b64).expect("write base64");
            openssl_ok(&["base64", "-d", "-A", "-in", s(&b64_path), "-out", s(&der_path)]);
            openssl_ok(&["x509", "-inform", "DER", "-in", s(&der_path), "-noout", "-subject"]);
            file_pin(&der_path)
        })
        .collect()
}

fn syntax_check(lang: &str, file: &Path) -> std::process::Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/syntax-check");
    run(s(&script), &[lang, s(file)])
}

fn assert_parses(lang: &str, file: &Path) {
    let out = syntax_check(lang, file);
    assert!(
        out.status.success(),
        "{} does not parse as {lang}:\n{}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn exported_code_parses_and_carries_the_site_pins_anchors_and_expiry() {
    let tmp = tempdir();
    for kind in KINDS {
        let site = Site::new(tmp.path(), kind);
        let base = tmp.path().join(format!("code-{kind:?}"));
        let app_pins = site.app_pins();
        let anchor_pins = site.anchor_pins();
        let what = |f: &Path| format!("{kind:?}: {}", f.display());

        // iOS: Swift, the site's pins per address, the anchors, the last day (UTC).
        let out = base.join("ios");
        export(&site, "ios", &out, &[]);
        let swift = out.join("PinsetTrust.swift");
        assert_parses("swift", &swift);
        let src = std::fs::read_to_string(&swift).expect("read swift");
        assert_eq!(quoted_pins(&src), app_pins, "{}", what(&swift));
        assert_eq!(pins_of_base64_certificates(&out, &quoted_certificates(&src)), anchor_pins, "{}", what(&swift));
        for (key, subdomains) in &site.keys {
            // The Swift table keeps the plan's spelling: a `*.` key covers exactly one label,
            // as the certificate's wildcard does.
            let spelled = if *subdomains { format!("*.{key}") } else { key.to_string() };
            assert!(src.contains(&format!("\"{spelled}\": [")), "{}: no entry for {spelled}", what(&swift));
        }
        let last = match site.expiry {
            Some((last, _)) => format!("\"{last}\""),
            None => "nil".to_string(),
        };
        assert!(src.contains(&format!("static let pinsLastDay: String? = {last}\n")), "{}", what(&swift));

        // react-native: TypeScript; every address, IPs and local names kept off iOS.
        let out = base.join("react-native");
        export(&site, "react-native", &out, &[]);
        let ts = out.join("pinset-pinning.ts");
        assert_parses("typescript", &ts);
        let src = std::fs::read_to_string(&ts).expect("read ts");
        assert_eq!(quoted_pins(&src), app_pins, "{}", what(&ts));
        let not_on_ios = src.split("const NOT_ON_IOS").nth(1).and_then(|r| r.split("];").next()).expect("NOT_ON_IOS");
        for (key, sub) in &site.keys {
            assert!(src.contains(&format!("  \"{key}\": {{\n    includeSubdomains: {sub},\n")), "{}: {key}", what(&ts));
            let refused = key.parse::<IpAddr>().is_ok() || key.ends_with(".example");
            assert_eq!(not_on_ios.contains(&format!("\"{key}\"")), refused, "{}: {key} on iOS", what(&ts));
        }
        let stops = src.matches("expirationDate: \"").count();
        match site.expiry {
            Some((_, stop)) => {
                assert_eq!(
                    src.matches(&format!("expirationDate: \"{stop}\"")).count(),
                    site.keys.len(),
                    "{}",
                    what(&ts)
                );
                assert_eq!(stops, site.keys.len(), "{}", what(&ts));
            }
            None => assert_eq!(stops, 0, "{}", what(&ts)),
        }

        // flutter: Dart; the pins per server and the anchors as PEM.
        let out = base.join("flutter");
        export(&site, "flutter", &out, &[]);
        let dart = out.join("pinset_pinning.dart");
        assert_parses("dart", &dart);
        let src = std::fs::read_to_string(&dart).expect("read dart");
        assert_eq!(quoted_pins(&src), app_pins, "{}", what(&dart));
        let pem = src.split("r'''\n").nth(1).and_then(|r| r.split("'''").next()).expect("the anchors PEM");
        let pem_path = out.join("anchors.pem");
        std::fs::write(&pem_path, pem).expect("write pem");
        let out_pin = pinset().args(["pin", s(&pem_path)]).output().expect("run pinset pin");
        assert!(out_pin.status.success());
        assert_eq!(pins_of_lines(&out_pin.stdout).into_iter().collect::<BTreeSet<_>>(), anchor_pins, "{}", what(&dart));
        let last = match site.expiry {
            Some((last, _)) => format!("\"{last}\""),
            None => "null".to_string(),
        };
        assert!(src.contains(&format!("const String? pinsetPinsExpireAfter = {last};")), "{}", what(&dart));
        assert!(!src.contains("badCertificateCallback ="), "{}: never accept what failed validation", what(&dart));

        // dotnet: C#; the pins, the anchors, the last day as a UTC date.
        let out = base.join("dotnet");
        export(&site, "dotnet", &out, &[]);
        let cs = out.join("PinsetPinning.cs");
        assert_parses("csharp", &cs);
        let src = std::fs::read_to_string(&cs).expect("read cs");
        assert_eq!(quoted_pins(&src), app_pins, "{}", what(&cs));
        assert_eq!(pins_of_base64_certificates(&out, &quoted_certificates(&src)), anchor_pins, "{}", what(&cs));
        let last = match site.expiry {
            Some((last, _)) => {
                let n: Vec<u32> = last.split('-').map(|p| p.parse().expect("number")).collect();
                format!("new DateTime({}, {}, {}, 0, 0, 0, DateTimeKind.Utc)", n[0], n[1], n[2])
            }
            None => "null".to_string(),
        };
        assert!(src.contains(&format!("PinsExpireAfter = {last};")), "{}", what(&cs));
        assert!(src.contains("X509ChainTrustMode.CustomRootTrust"), "{}", what(&cs));
        assert!(src.contains("ExportSubjectPublicKeyInfo()") && !src.contains("GetPublicKey()\n"), "{}", what(&cs));

        // cordova: JavaScript that node accepts.
        let out = base.join("cordova");
        export(&site, "cordova", &out, &[]);
        let js = out.join("pinset-pinning.js");
        let checked = run("node", &["--check", s(&js)]);
        assert!(checked.status.success(), "{}:\n{}", what(&js), String::from_utf8_lossy(&checked.stderr));
        let src = std::fs::read_to_string(&js).expect("read js");
        assert!(src.contains("cordova.plugin.http.setServerTrustMode(\n      \"pinned\","), "{}", what(&js));
    }
}

#[test]
fn the_syntax_checks_reject_broken_code() {
    let tmp = tempdir();
    let site = Site::new(tmp.path(), Kind::Leaf);
    let out = tmp.path().join("all");
    export(&site, "all", &out, &[]);
    // A broken copy of each exported file: a parenthesis and a brace left open.
    let cases = [
        ("swift", "ios/PinsetTrust.swift", "\nfunc broken( {\n"),
        ("typescript", "react-native/pinset-pinning.ts", "\nconst broken = (;\n"),
        ("dart", "flutter/pinset_pinning.dart", "\nvoid broken( {\n"),
        ("csharp", "dotnet/PinsetPinning.cs", "\nclass Broken { void M( }\n"),
    ];
    for (lang, file, garbage) in cases {
        let good = out.join(file);
        assert_parses(lang, &good);
        let bad = tmp.path().join(format!("broken-{lang}"));
        let mut src = std::fs::read_to_string(&good).expect("read");
        src.push_str(garbage);
        std::fs::write(&bad, src).expect("write");
        let res = syntax_check(lang, &bad);
        assert!(!res.status.success(), "the {lang} check accepted a broken file");
        let stderr = String::from_utf8_lossy(&res.stderr);
        assert!(stderr.contains("syntax error") || stderr.contains("missing"), "{lang}: {stderr}");
    }
    let bad_js = tmp.path().join("broken.js");
    let mut src = std::fs::read_to_string(out.join("cordova/pinset-pinning.js")).expect("read");
    src.push_str("\nfunction broken( {\n");
    std::fs::write(&bad_js, src).expect("write");
    assert!(!run("node", &["--check", s(&bad_js)]).status.success(), "node --check accepted a broken file");
}

#[test]
fn cordova_and_capacitor_ship_the_anchors_as_der_certificates() {
    let tmp = tempdir();
    for kind in KINDS {
        let site = Site::new(tmp.path(), kind);
        let out = tmp.path().join(format!("plugins-{kind:?}"));
        export(&site, "cordova", &out.join("cordova"), &[]);
        export(&site, "capacitor", &out.join("capacitor"), &[]);

        let cer_pins = |dir: &Path| -> BTreeMap<String, (Vec<u8>, String)> {
            std::fs::read_dir(dir)
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .map(|e| {
                    let path = e.expect("entry").path();
                    let name = path.file_name().and_then(|n| n.to_str()).expect("name").to_string();
                    assert!(name.ends_with(".cer"), "{kind:?}: {name}: the plugins load .cer files");
                    let der = std::fs::read(&path).expect("read cer");
                    assert_eq!(der.first(), Some(&0x30), "{kind:?}: {name} is DER (a SEQUENCE), not PEM");
                    openssl_ok(&["x509", "-inform", "DER", "-in", s(&path), "-noout", "-subject"]);
                    (name, (der, file_pin(&path)))
                })
                .collect()
        };
        let cordova = cer_pins(&out.join("cordova/www/certificates"));
        let pins: BTreeSet<String> = cordova.values().map(|(_, p)| p.clone()).collect();
        assert_eq!(pins, site.anchor_pins(), "{kind:?}: cordova ships exactly the site's anchors");
        assert_eq!(cordova.len(), pins.len(), "{kind:?}: one file per anchor");

        let capacitor = cer_pins(&out.join("capacitor/certificates"));
        assert_eq!(capacitor, cordova, "{kind:?}: both plugins get the same certificates");
        let config: Value =
            serde_json::from_slice(&std::fs::read(out.join("capacitor/capacitor.config.json")).expect("read json"))
                .expect("capacitor.config.json is JSON");
        assert_eq!(config["plugins"]["CapacitorHttp"]["enabled"], Value::Bool(true), "{kind:?}");
        let listed = str_set(config["plugins"]["SSLPinning"]["certs"].as_array().expect("SSLPinning.certs"));
        let want: BTreeSet<String> = capacitor.keys().map(|n| format!("certificates/{n}")).collect();
        assert_eq!(listed, want, "{kind:?}: SSLPinning.certs lists every file, relative to the app root");
    }
}

#[test]
fn chromium_lists_exactly_the_server_keys() {
    let tmp = tempdir();
    for kind in KINDS {
        let site = Site::new(tmp.path(), kind);
        let out = tmp.path().join(format!("chromium-{kind:?}"));
        export(&site, "chromium", &out, &[]);
        let script = out.join("pinset-chromium");
        let checked = run("sh", &["-n", s(&script)]);
        assert!(checked.status.success(), "{kind:?}: sh -n:\n{}", String::from_utf8_lossy(&checked.stderr));
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&script).expect("stat").permissions().mode();
        assert_eq!(mode & 0o111, 0o111, "{kind:?}: the launcher is executable");
        let src = std::fs::read_to_string(&script).expect("read script");
        let flag = "--ignore-certificate-errors-spki-list=";
        let lists: Vec<&str> = src
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .filter_map(|l| l.split(flag).nth(1))
            .map(|rest| rest.split_whitespace().next().unwrap_or_default())
            .collect();
        assert_eq!(lists.len(), 1, "{kind:?}: the flag appears once in the command:\n{src}");
        let listed: BTreeSet<String> = lists[0].split(',').map(str::to_string).collect();
        // Never the CA's key: Chromium matches the certificates a server sends, and an
        // impostor can send the public CA certificate after its own leaf.
        assert_eq!(listed, site.leaf_pins(), "{kind:?}: the servers' own keys");
        assert!(src.contains("--user-data-dir="), "{kind:?}: Chromium honours the flag only with a profile");
    }
}

#[test]
fn each_platform_gap_is_named_by_its_warning() {
    let rules = |list: &[&str]| list.iter().map(|r| r.to_string()).collect::<BTreeSet<String>>();
    let expected = |kind: Kind| -> BTreeMap<&'static str, BTreeSet<String>> {
        let mut m = BTreeMap::new();
        match kind {
            Kind::Ca => {
                m.insert("android", rules(&["android-ipv6"]));
                m.insert("ios", rules(&["ats-no-ip", "ats-system-trust", "ats-no-expiry"]));
                m.insert("trustkit", rules(&["trustkit-no-ip", "trustkit-local-name", "trustkit-empty"]));
                m.insert("react-native", rules(&["rn-ios-no-ip", "rn-ios-local-name", "rn-system-trust"]));
                m.insert("cordova", rules(&["cordova-ios-system-trust", "cordova-global"]));
                m.insert("capacitor", rules(&["capacitor-global"]));
                m.insert("flutter", rules(&["dart-leaf-only"]));
                // A CA site's servers have no standby key of their own.
                m.insert("chromium", rules(&["chromium-override", "chromium-leaf-keys", "backup-pin"]));
            }
            Kind::SelfSigned => {
                m.insert("android", rules(&["android-ipv6"]));
                m.insert("ios", rules(&["ats-no-ip", "ats-system-trust"]));
                m.insert("trustkit", rules(&["trustkit-no-ip", "trustkit-local-name", "trustkit-empty"]));
                m.insert("react-native", rules(&["rn-ios-no-ip", "rn-ios-local-name", "rn-system-trust"]));
                m.insert("cordova", rules(&["cordova-ios-system-trust", "cordova-global", "whole-certificate-pin"]));
                m.insert("capacitor", rules(&["capacitor-global", "whole-certificate-pin"]));
                m.insert("chromium", rules(&["chromium-override"]));
            }
            Kind::Leaf => {
                m.insert("android", rules(&["android-ipv6"]));
                m.insert("ios", rules(&["ats-no-ip", "ats-system-trust", "ats-no-expiry"]));
                m.insert("trustkit", rules(&["trustkit-no-ip", "trustkit-local-name", "trustkit-empty"]));
                m.insert("react-native", rules(&["rn-ios-no-ip", "rn-ios-local-name", "rn-system-trust"]));
                m.insert("cordova", rules(&["cordova-ios-system-trust", "cordova-global", "cordova-ca-only"]));
                m.insert("capacitor", rules(&["capacitor-global", "capacitor-ca-only"]));
                m.insert("chromium", rules(&["chromium-override"]));
            }
            Kind::Public => {
                m.insert("ios", rules(&["ats-system-trust", "ats-no-expiry"]));
                m.insert("trustkit", rules(&["trustkit-system-trust"]));
                m.insert("react-native", rules(&["rn-system-trust"]));
                m.insert("cordova", rules(&["cordova-ios-system-trust", "cordova-global"]));
                m.insert("capacitor", rules(&["capacitor-global"]));
                m.insert("flutter", rules(&["dart-leaf-only"]));
                m.insert("chromium", rules(&["chromium-override", "chromium-leaf-keys", "backup-pin"]));
            }
        }
        m
    };
    let mine = ["android", "ios", "trustkit", "react-native", "cordova", "capacitor", "flutter", "dotnet", "chromium"];
    let tmp = tempdir();
    for kind in KINDS {
        let site = Site::new(tmp.path(), kind);
        let out = tmp.path().join(format!("warn-{kind:?}"));
        let all = warning_rules(&export(&site, "all", &out, &["-v"]));
        let want = expected(kind);
        for target in mine {
            let got = all.get(target).cloned().unwrap_or_default();
            let want = want.get(target).cloned().unwrap_or_default();
            assert_eq!(got, want, "{kind:?}: warnings of {target}");
            // A target exported alone prints the same warnings.
            let alone = warning_rules(&export(&site, target, &out.join(format!("{target}-alone")), &[]));
            assert_eq!(alone.get(target).cloned().unwrap_or_default(), want, "{kind:?}: {target} alone");
        }
    }
}

/// Reads a configuration profile with `plistlib` and reports each key's type as Python
/// sees it (`str`, `int`, `bytes`, `bool`, `list`, `dict`), data as base64.
const PROFILE_SCRIPT: &str = r#"
import base64, json, plistlib, sys
with open(sys.argv[1], "rb") as f:
    root = plistlib.load(f)
def describe(v):
    if isinstance(v, dict):
        return {k: describe(x) for k, x in v.items()}
    if isinstance(v, list):
        return [describe(x) for x in v]
    if isinstance(v, bytes):
        return {"type": "bytes", "value": base64.b64encode(v).decode()}
    return {"type": type(v).__name__, "value": v}
print(json.dumps(describe(root)))
"#;

/// `value` (as PROFILE_SCRIPT describes it) has the Python type `ty`; its value.
fn typed<'a>(value: &'a Value, ty: &str, what: &str) -> &'a Value {
    assert_eq!(value["type"], ty, "{what}: {value}");
    &value["value"]
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[test]
fn the_ios_configuration_profile_has_the_structure_apple_documents() {
    let tmp = tempdir();
    for kind in KINDS {
        let site = Site::new(tmp.path(), kind);
        let (a, b) = (tmp.path().join(format!("profile-{kind:?}-a")), tmp.path().join(format!("profile-{kind:?}-b")));
        export(&site, "ios", &a, &[]);
        export(&site, "ios", &b, &[]);
        let name = std::fs::read_dir(&a)
            .expect("export folder")
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .find(|n| n.ends_with(".mobileconfig"))
            .unwrap_or_else(|| panic!("{kind:?}: no .mobileconfig"));
        let path = a.join(&name);
        let what = format!("{kind:?}: {name}");
        assert_eq!(
            std::fs::read(&path).expect("read"),
            std::fs::read(b.join(&name)).expect("read"),
            "{what}: re-exports are identical"
        );
        let p = python_json(PROFILE_SCRIPT, &[s(&path)]);
        // Top level: a Configuration profile (Apple, Configuration Profile Reference).
        assert_eq!(typed(&p["PayloadType"], "str", &what), "Configuration");
        assert_eq!(typed(&p["PayloadVersion"], "int", &what), 1);
        let top_id = typed(&p["PayloadIdentifier"], "str", &what).as_str().expect("str").to_string();
        assert!(top_id.contains('.'), "{what}: a reverse-DNS identifier: {top_id}");
        let top_uuid = typed(&p["PayloadUUID"], "str", &what).as_str().expect("str").to_string();
        assert!(is_uuid(&top_uuid), "{what}: {top_uuid}");
        let display = typed(&p["PayloadDisplayName"], "str", &what).as_str().expect("str");
        let site_name = site.dir.file_name().and_then(|n| n.to_str()).expect("site name");
        assert!(display.contains(site_name), "{what}: the profile is named after the site: {display}");
        let payloads = p["PayloadContent"].as_array().expect("PayloadContent is an array");
        assert_eq!(payloads.len(), 2, "{what}: the active and standby anchors");
        let mut uuids = BTreeSet::from([top_uuid]);
        let mut ids = BTreeSet::from([top_id.clone()]);
        let mut pins = BTreeSet::new();
        for (i, payload) in payloads.iter().enumerate() {
            let w = format!("{what} payload {i}");
            assert_eq!(typed(&payload["PayloadType"], "str", &w), "com.apple.security.root");
            assert_eq!(typed(&payload["PayloadVersion"], "int", &w), 1);
            let id = typed(&payload["PayloadIdentifier"], "str", &w).as_str().expect("str");
            assert!(id.starts_with(&format!("{top_id}.")), "{w}: {id} under {top_id}");
            let uuid = typed(&payload["PayloadUUID"], "str", &w).as_str().expect("str");
            assert!(is_uuid(uuid), "{w}: {uuid}");
            assert!(uuids.insert(uuid.to_string()) && ids.insert(id.to_string()), "{w}: identifiers are distinct");
            assert!(!typed(&payload["PayloadDisplayName"], "str", &w).as_str().expect("str").is_empty());
            let der = typed(&payload["PayloadContent"], "bytes", &w).as_str().expect("base64").to_string();
            pins.extend(pins_of_base64_certificates(&a, &[der]));
        }
        assert_eq!(pins, site.anchor_pins(), "{what}: the payloads are the site's anchors");
    }
    // The README tells how to install it and turn on full trust.
    let other = tempdir();
    let site = Site::new(other.path(), Kind::Ca);
    let out = tmp.path().join("profile-all");
    export(&site, "all", &out, &[]);
    let index = std::fs::read_to_string(out.join("README.md")).expect("README.md");
    assert!(index.contains("Certificate Trust Settings") && index.contains(".mobileconfig"), "{index}");
}

/// Reads what `<debug-overrides>` holds, and where it is.
const DEBUG_OVERRIDES_SCRIPT: &str = r#"
import json, sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
parent = {child: node for node in root.iter() for child in node}
print(json.dumps({
    "children": [c.tag for c in root],
    "parents": [parent[d].tag for d in root.iter("debug-overrides")],
    "overrides": [
        {"children": [c.tag for c in d], "certificates": [c.attrib for t in d.findall("trust-anchors") for c in t]}
        for d in root.iter("debug-overrides")
    ],
}))
"#;

#[test]
fn android_debug_overrides_trust_the_proxy_ca_in_debuggable_builds_only() {
    let tmp = tempdir();
    let proxy = pinset_testkit::pki::Ca::root("Test Interception Proxy CA");
    let proxy_pem = proxy.write(tmp.path(), "proxy-ca");
    for kind in KINDS {
        let site = Site::new(tmp.path(), kind);
        let plain = tmp.path().join(format!("android-plain-{kind:?}"));
        let out = tmp.path().join(format!("android-debug-{kind:?}"));
        export(&site, "android", &plain, &[]);
        let stderr = export(&site, "android", &out, &["--debug-overrides", s(&proxy_pem)]);
        let config = out.join("res/xml/network_security_config.xml");
        let what = format!("{kind:?}: {}", config.display());
        // The release configuration is unchanged: the same domain-configs, anchors and pins.
        let nsc = python_json(NSC_SCRIPT, &[s(&config)]);
        let plain_nsc = python_json(NSC_SCRIPT, &[s(&plain.join("res/xml/network_security_config.xml"))]);
        assert_eq!(nsc["configs"], plain_nsc["configs"], "{what}: the domain-configs do not change");
        assert_eq!(nsc["pin_set_parents"], plain_nsc["pin_set_parents"], "{what}");
        let d = python_json(DEBUG_OVERRIDES_SCRIPT, &[s(&config)]);
        // One debug-overrides, a child of network-security-config (anywhere else the file does
        // not parse on a device), after the domain-configs.
        assert_eq!(d["parents"], serde_json::json!(["network-security-config"]), "{what}");
        let children = d["children"].as_array().expect("children");
        assert_eq!(children.last(), Some(&Value::from("debug-overrides")), "{what}");
        assert!(children[..children.len() - 1].iter().all(|c| c == "domain-config"), "{what}");
        let overrides = &d["overrides"][0];
        assert_eq!(overrides["children"], serde_json::json!(["trust-anchors"]), "{what}: no pin-set there");
        let certs = overrides["certificates"].as_array().expect("certificates");
        assert_eq!(certs.len(), 1, "{what}: the proxy CA alone, never system or user CAs");
        assert_eq!(certs[0]["overridePins"], "true", "{what}: overridePins stated explicitly");
        let src = certs[0]["src"].as_str().expect("src");
        let raw = src.strip_prefix("@raw/").expect("@raw/");
        assert!(is_resource_name(raw), "{what}: {raw}");
        let file = out.join(format!("res/raw/{raw}.pem"));
        assert_eq!(file_pin(&file), proxy.pin().to_base64(), "{what}: the raw resource is the proxy CA");
        let android = warning_rules(&stderr).remove("android").unwrap_or_default();
        assert!(android.contains("android-debug-overrides"), "{what}: {stderr}");
        assert!(stderr.contains("release builds are unaffected"), "{what}: {stderr}");
    }
    // A target that has no debug-only switch refuses the flag rather than ignore it.
    let other = tempdir();
    let site = Site::new(other.path(), Kind::Ca);
    let out = pinset()
        .args(["export", "okhttp", "--site", s(&site.dir), "--debug-overrides", s(&proxy_pem)])
        .output()
        .expect("run pinset");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is for android, ios"), "{:?}", out);
    // A leaf is not a proxy CA.
    let leaf = site.dir.join("pki/servers/server/cert.pem");
    let out = pinset()
        .args(["export", "android", "--site", s(&site.dir), "--debug-overrides", s(&leaf)])
        .output()
        .expect("run pinset");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a CA certificate"), "{:?}", out);
}
