//! The plugin targets (`cordova-plugin`, `capacitor-plugin`), checked as far as this machine
//! allows (no Swift toolchain for Apple platforms, no Android SDK):
//!
//! - the Swift parses (tree-sitter), and `PinsetTrust.swift` is the `ios` export's file, the
//!   Java `PinsetPinning.java` the `okhttp` export's, byte for byte but the line naming the
//!   export;
//! - `PinsetPinning.java` and `PinsetHttp.java` compile with javac against Debian's OkHttp
//!   3.13 and run against real `openssl s_server` processes: the site's server is reached,
//!   an impostor of the site's own CA is refused by the pins even in a debuggable app, an
//!   interception proxy's certificate is refused unless the app is debuggable and the export
//!   carries that proxy's CA, and an `http://` URL is refused before any connection;
//! - the plugin classes that need the Android SDK parse (tree-sitter Java);
//! - the TypeScript type-checks with `tsc` against `@capacitor/core`'s own typings (installed
//!   by `scripts/setup` in `.tools/typecheck`), and `dist/` is exactly what `tsc` emits;
//! - `plugin.xml` and `package.json` parse and hold what Cordova, npm and Capacitor read, and
//!   every file they name is in the export.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{init_site, openssl_ok, pinset, run, run_bounded, s, tempdir};
use pinset_testkit::pki::{Ca, Spec, ip};
use pinset_testkit::{OpensslServer, V4};
use serde_json::Value;

use common::OKHTTP_JARS;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn export(site: &Path, target: &str, out: &Path, extra: &[&str]) -> String {
    let res = pinset()
        .args(["export", target, "--site", s(site), "--out", s(out)])
        .args(extra)
        .output()
        .expect("run pinset export");
    let stderr = String::from_utf8_lossy(&res.stderr).into_owned();
    assert!(res.status.success(), "pinset export {target} failed:\n{stderr}");
    stderr
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn assert_parses(lang: &str, files: &[PathBuf]) {
    let mut args = vec![lang];
    args.extend(files.iter().map(|f| s(f)));
    let out = run(s(&repo().join("scripts/syntax-check")), &args);
    assert!(out.status.success(), "{files:?} do not parse as {lang}:\n{}", String::from_utf8_lossy(&out.stderr));
}

/// `text` with the export's name in its provenance lines replaced by `target`.
fn as_written_by(text: &str, from: &str, target: &str) -> String {
    text.replace(&format!("pinset export {from}`"), &format!("pinset export {target}`"))
}

/// Where each plugin keeps its sources.
struct Layout {
    target: &'static str,
    ios: &'static str,
    java: &'static str,
    framework: &'static str,
}

const LAYOUTS: [Layout; 2] = [
    Layout { target: "cordova-plugin", ios: "src/ios", java: "src/android", framework: "cordova" },
    Layout {
        target: "capacitor-plugin",
        ios: "ios/Sources/PinsetPlugin",
        java: "android/src/main/java",
        framework: "capacitor",
    },
];

#[test]
fn the_plugins_carry_the_ios_and_okhttp_code_and_it_parses() {
    let tmp = tempdir();
    for (name, args) in [
        ("ca", &["--ip", "192.168.1.10", "--ip", "fd00::10", "--dns", "hub.local"][..]),
        ("selfsigned", &["--self-signed", "--ip", "10.0.0.5"][..]),
    ] {
        let site = init_site(tmp.path(), name, args);
        let ios = tmp.path().join(format!("{name}-ios"));
        let okhttp = tmp.path().join(format!("{name}-okhttp"));
        export(&site, "ios", &ios, &[]);
        export(&site, "okhttp", &okhttp, &[]);
        for layout in &LAYOUTS {
            let out = tmp.path().join(format!("{name}-{}", layout.target));
            export(&site, layout.target, &out, &[]);
            let what = format!("{name}: {}", layout.target);
            let trust = out.join(layout.ios).join("PinsetTrust.swift");
            assert_eq!(
                as_written_by(&read(&trust), layout.target, "ios"),
                read(&ios.join("PinsetTrust.swift")),
                "{what}: PinsetTrust.swift is the ios export's"
            );
            let pinning = out.join(layout.java).join("pinset/PinsetPinning.java");
            assert_eq!(
                as_written_by(&read(&pinning), layout.target, "okhttp"),
                read(&okhttp.join("PinsetPinning.java")),
                "{what}: PinsetPinning.java is the okhttp export's"
            );
            let swift: Vec<PathBuf> = ["PinsetTrust.swift", "PinsetFetch.swift", "PinsetPlugin.swift"]
                .iter()
                .map(|f| out.join(layout.ios).join(f))
                .collect();
            assert_parses("swift", &swift);
            let fetch = read(&swift[1]);
            assert!(fetch.contains("willPerformHTTPRedirection"), "{what}: redirects are checked");
            assert!(fetch.contains("url.scheme?.lowercased() == \"https\""), "{what}: https only");
            let java: Vec<PathBuf> = [
                "pinset/PinsetPinning.java".to_string(),
                "pinset/PinsetHttp.java".to_string(),
                format!("pinset/{}/PinsetPlugin.java", layout.framework),
            ]
            .iter()
            .map(|f| out.join(layout.java).join(f))
            .collect();
            assert_parses("java", &java);
            let readme = read(&out.join("README.md"));
            let adds = match layout.framework {
                "cordova" => vec!["cordova plugin add ./cordova-plugin"],
                _ => vec!["npm install ./capacitor-plugin", "npx cap sync"],
            };
            for a in adds {
                assert!(readme.contains(a), "{what}: the README says how to add it ({a})");
            }
            assert!(readme.contains("Not compiled there"), "{what}: the README says what was not compiled");
        }
    }
}

/// Parses `plugin.xml` with Python's ElementTree and reports what Cordova reads from it.
const PLUGIN_XML_SCRIPT: &str = r#"
import json, sys
import xml.etree.ElementTree as ET
NS = "{http://apache.org/cordova/ns/plugins/1.0}"
root = ET.parse(sys.argv[1]).getroot()
def platform(name):
    p = root.find(f"{NS}platform[@name='{name}']")
    if p is None:
        return None
    return {
        "features": [
            {"name": f.get("name"), "params": {x.get("name"): x.get("value") for x in f.findall(f"{NS}param")}}
            for f in p.iter(f"{NS}feature")
        ],
        "sources": [{"src": x.get("src"), "target-dir": x.get("target-dir")} for x in p.findall(f"{NS}source-file")],
        "frameworks": [x.get("src") for x in p.findall(f"{NS}framework")],
    }
print(json.dumps({
    "tag": root.tag,
    "id": root.get("id"),
    "version": root.get("version"),
    "name": (root.findtext(f"{NS}name") or ""),
    "modules": [
        {"src": m.get("src"), "name": m.get("name"), "clobbers": [c.get("target") for c in m.findall(f"{NS}clobbers")]}
        for m in root.findall(f"{NS}js-module")
    ],
    "ios": platform("ios"),
    "android": platform("android"),
}))
"#;

fn python_json(script: &str, file: &Path) -> Value {
    let out = run("python3", &["-c", script, s(file)]);
    assert!(out.status.success(), "python3 on {}:\n{}", file.display(), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("python printed JSON")
}

#[test]
fn plugin_xml_and_package_json_hold_what_cordova_npm_and_capacitor_read() {
    let tmp = tempdir();
    let site = init_site(tmp.path(), "shop", &["--ip", "192.168.1.10"]);
    let out = tmp.path().join("cordova-plugin");
    export(&site, "cordova-plugin", &out, &[]);
    let xml = python_json(PLUGIN_XML_SCRIPT, &out.join("plugin.xml"));
    assert_eq!(xml["tag"], "{http://apache.org/cordova/ns/plugins/1.0}plugin");
    let id = xml["id"].as_str().expect("plugin id").to_string();
    assert!(id.starts_with("cordova-plugin-") && xml["version"].is_string(), "{xml}");
    assert!(!xml["name"].as_str().unwrap_or_default().is_empty(), "{xml}");
    let modules = xml["modules"].as_array().expect("js-modules");
    assert_eq!(modules.len(), 1, "{xml}");
    assert_eq!(modules[0]["clobbers"], serde_json::json!(["pinset"]), "window.pinset");
    let js = out.join(modules[0]["src"].as_str().expect("src"));
    let checked = run("node", &["--check", s(&js)]);
    assert!(checked.status.success(), "{}", String::from_utf8_lossy(&checked.stderr));
    assert!(read(&js).contains("exec(") && read(&js).contains("\"Pinset\""), "the module calls the native side");
    let mut named = BTreeSet::new();
    for (platform, class) in [("ios", "PinsetPlugin"), ("android", "pinset.cordova.PinsetPlugin")] {
        let p = &xml[platform];
        let features = p["features"].as_array().unwrap_or_else(|| panic!("{platform}: no platform element"));
        let feature = features.iter().find(|f| f["name"] == "Pinset").expect("the Pinset feature");
        assert_eq!(feature["params"][format!("{platform}-package")], class, "{platform}");
        for source in p["sources"].as_array().expect("source-files") {
            let src = source["src"].as_str().expect("src");
            assert!(out.join(src).is_file(), "{platform}: plugin.xml names {src}, which the export lacks");
            named.insert(src.to_string());
        }
    }
    assert!(xml["android"]["frameworks"][0].as_str().unwrap_or_default().starts_with("com.squareup.okhttp3:okhttp:"));
    for source in named.iter().filter(|s| s.ends_with(".java")) {
        // target-dir follows the package, as javac and Gradle want it.
        let package = read(&out.join(source)).lines().find(|l| l.starts_with("package ")).map(str::to_string);
        assert!(package.is_some(), "{source} declares its package");
    }
    let package: Value = serde_json::from_str(&read(&out.join("package.json"))).expect("package.json is JSON");
    assert_eq!(package["name"], Value::String(id.clone()), "npm name and plugin id agree");
    assert_eq!(package["cordova"]["id"], Value::String(id), "{package}");
    assert_eq!(package["version"], xml["version"], "{package}");
    assert_eq!(package["cordova"]["platforms"], serde_json::json!(["android", "ios"]), "{package}");

    let out = tmp.path().join("capacitor-plugin");
    export(&site, "capacitor-plugin", &out, &[]);
    let package: Value = serde_json::from_str(&read(&out.join("package.json"))).expect("package.json is JSON");
    for field in ["name", "version", "main", "types"] {
        assert!(package[field].is_string(), "package.json lacks {field}: {package}");
    }
    for field in ["main", "module", "types"] {
        let file = package[field].as_str().expect(field);
        assert!(out.join(file).is_file(), "{field} names {file}, which the export lacks");
    }
    assert!(out.join(package["capacitor"]["ios"]["src"].as_str().expect("capacitor.ios.src")).is_dir());
    assert!(out.join(package["capacitor"]["android"]["src"].as_str().expect("capacitor.android.src")).is_dir());
    assert!(package["peerDependencies"]["@capacitor/core"].is_string(), "{package}");
    assert!(out.join("PinsetPlugin.podspec").is_file() && out.join("Package.swift").is_file());
    assert_parses("swift", &[out.join("Package.swift")]);
    let checked = run(
        "python3",
        &[
            "-c",
            "import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])",
            s(&out.join("android/src/main/AndroidManifest.xml")),
        ],
    );
    assert!(checked.status.success(), "AndroidManifest.xml: {}", String::from_utf8_lossy(&checked.stderr));
}

#[test]
fn the_capacitor_typescript_type_checks_against_capacitor_core_and_dist_is_what_tsc_emits() {
    let tools = repo().join(".tools/typecheck/node_modules");
    let tsc = tools.join(".bin/tsc");
    assert!(tsc.exists(), "{} is missing: run scripts/setup", tsc.display());
    assert!(tools.join("@capacitor/core/package.json").exists(), "@capacitor/core is missing: run scripts/setup");
    let tmp = tempdir();
    let site = init_site(tmp.path(), "shop", &["--ip", "192.168.1.10"]);
    let out = tmp.path().join("capacitor-plugin");
    export(&site, "capacitor-plugin", &out, &["--debug-overrides", s(&site.join("pki/authority/ca-standby.pem"))]);
    std::os::unix::fs::symlink(&tools, out.join("node_modules")).expect("link node_modules");
    let emitted = tmp.path().join("emitted");
    let mut cmd = std::process::Command::new(&tsc);
    cmd.current_dir(&out).args(["-p", "tsconfig.json", "--outDir", s(&emitted)]);
    let res = run_bounded(cmd, std::time::Duration::from_secs(120), "tsc");
    assert!(
        res.status.success(),
        "tsc:\n{}{}",
        String::from_utf8_lossy(&res.stdout),
        String::from_utf8_lossy(&res.stderr)
    );
    for file in ["index.js", "index.d.ts", "definitions.js", "definitions.d.ts"] {
        assert_eq!(
            read(&emitted.join(file)),
            read(&out.join("dist/esm").join(file)),
            "dist/esm/{file} is what tsc emits"
        );
    }
    assert_parses("typescript", &[out.join("src/index.ts"), out.join("src/definitions.ts")]);

    // A type error in an app's call is caught against the real typings: the check can fail.
    let app = out.join("src/app.ts");
    std::fs::write(&app, "import { Pinset } from './index';\nPinset.fetch({ url: 42 });\n").expect("write app.ts");
    let mut cmd = std::process::Command::new(&tsc);
    cmd.current_dir(&out).args([
        "--noEmit",
        "--strict",
        "--moduleResolution",
        "node",
        "--target",
        "es2017",
        "--lib",
        "dom,es2017",
        s(&app),
    ]);
    let res = run_bounded(cmd, std::time::Duration::from_secs(120), "tsc app.ts");
    assert!(!res.status.success(), "tsc accepted a number as the URL");
    assert!(String::from_utf8_lossy(&res.stdout).contains("TS2322"), "{}", String::from_utf8_lossy(&res.stdout));
}

/// Calls the exported `PinsetHttp` as the plugin classes do: `java FetchMain debuggable|release URL`.
const FETCH_MAIN: &str = r#"import java.util.Collections;

public class FetchMain {
    public static void main(String[] args) {
        try {
            pinset.PinsetHttp.Result r =
                    new pinset.PinsetHttp(args[0].equals("debuggable")).fetch(args[1], "GET", Collections.emptyMap(), null, 20);
            System.out.println("status=" + r.status);
            System.out.print(r.body);
        } catch (Exception e) {
            System.err.println(e);
            System.exit(1);
        }
    }
}
"#;

struct JavaCore {
    classes: PathBuf,
}

impl JavaCore {
    /// Compiles the plugin's `PinsetPinning.java` and `PinsetHttp.java` (and the caller) with javac.
    fn build(export: &Path, java_dir: &str, dir: &Path) -> JavaCore {
        for jar in OKHTTP_JARS {
            assert!(Path::new(jar).exists(), "{jar} is missing: install it with scripts/setup");
        }
        let classes = dir.join("classes");
        let main = dir.join("FetchMain.java");
        std::fs::create_dir_all(dir).expect("create the build folder");
        std::fs::write(&main, FETCH_MAIN).expect("write FetchMain.java");
        let sources = export.join(java_dir).join("pinset");
        let jars = OKHTTP_JARS.join(":");
        let (pinning, http) = (sources.join("PinsetPinning.java"), sources.join("PinsetHttp.java"));
        let args = ["-Xlint:all", "-d", s(&classes), "-cp", &jars, s(&pinning), s(&http), s(&main)];
        let res = run("javac", &args);
        assert!(res.status.success(), "javac:\n{}", String::from_utf8_lossy(&res.stderr));
        JavaCore { classes }
    }

    fn fetch(&self, mode: &str, url: &str) -> Output {
        let cp = format!("{}:{}", s(&self.classes), OKHTTP_JARS.join(":"));
        let mut cmd = std::process::Command::new("java");
        cmd.args(["-cp", &cp, "FetchMain", mode, url]);
        run_bounded(cmd, std::time::Duration::from_secs(120), &format!("PinsetHttp {mode} {url}"))
    }
}

fn both(out: &Output) -> String {
    format!(
        "exit {:?}\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn the_android_core_reaches_the_site_refuses_impostors_and_trusts_the_proxy_only_when_debuggable() {
    let tmp = tempdir();
    // Apps pin the server's own keys: a certificate of the site's CA with another key is an
    // impostor the anchors accept and the pins refuse.
    let site = init_site(tmp.path(), "shop", &["--pin", "leaf", "--ip", "127.0.0.1"]);
    let proxy = Ca::root("Test Interception Proxy CA");
    let proxy_pem = proxy.write(tmp.path(), "proxy-ca");
    let genuine = OpensslServer::site(tmp.path(), &site, V4, &[]);
    let intercepted = {
        let leaf = Spec::server("127.0.0.1", vec![ip("127.0.0.1")]).signed_by(&proxy);
        let (cert, key) = leaf.write(tmp.path(), "intercepted");
        OpensslServer::start(tmp.path(), V4, &cert, &key, &[])
    };
    let unpinned = {
        let ca = Ca::from_files(&site.join("pki/authority/ca.pem"), &site.join("pki/authority/ca.key"));
        let leaf = Spec::server("127.0.0.1", vec![ip("127.0.0.1")]).signed_by(&ca);
        let (cert, key) = leaf.write(tmp.path(), "unpinned");
        openssl_ok(&["verify", "-CAfile", s(&site.join("pki/authority/ca.pem")), s(&cert)]);
        OpensslServer::start(tmp.path(), V4, &cert, &key, &[])
    };

    for layout in &LAYOUTS {
        for debug in [false, true] {
            let what = format!("{} (proxy CA exported: {debug})", layout.target);
            let out = tmp.path().join(format!("{}-{debug}", layout.target));
            let extra: Vec<&str> = if debug { vec!["--debug-overrides", s(&proxy_pem)] } else { vec![] };
            export(&site, layout.target, &out, &extra);
            let core = JavaCore::build(&out, layout.java, &out.with_extension("build"));
            for mode in ["release", "debuggable"] {
                let what = format!("{what}, {mode} app");
                let got = core.fetch(mode, &genuine.url());
                assert!(got.status.success() && both(&got).contains("status=200"), "{what}: genuine: {}", both(&got));

                let got = core.fetch(mode, &unpinned.url());
                assert!(!got.status.success(), "{what}: an unpinned key of the site's CA got in: {}", both(&got));
                assert!(both(&got).contains("Certificate pinning failure"), "{what}: {}", both(&got));

                let got = core.fetch(mode, &intercepted.url());
                if debug && mode == "debuggable" {
                    assert!(both(&got).contains("status=200"), "{what}: the proxy is trusted: {}", both(&got));
                } else {
                    assert!(!got.status.success(), "{what}: the proxy got in: {}", both(&got));
                    assert!(both(&got).contains("SSLHandshakeException"), "{what}: {}", both(&got));
                }

                let plain = genuine.url().replace("https://", "http://");
                let got = core.fetch(mode, &plain);
                assert!(
                    !got.status.success() && both(&got).contains("is not an https:// URL"),
                    "{what}: {}",
                    both(&got)
                );
            }
        }
    }
}

#[test]
fn debug_overrides_in_swift_are_debug_only_and_name_the_proxy_ca() {
    let tmp = tempdir();
    let site = init_site(tmp.path(), "shop", &["--ip", "192.168.1.10"]);
    let proxy = Ca::root("Test Interception Proxy CA");
    let proxy_pem = proxy.write(tmp.path(), "proxy-ca");
    // The PEM body, joined: the DER in standard base64, as the Swift table holds it.
    let b64: String = proxy.pem().lines().filter(|l| !l.starts_with("-----")).collect();
    for target in ["ios", "cordova-plugin", "capacitor-plugin"] {
        let plain = tmp.path().join(format!("{target}-plain"));
        let debug = tmp.path().join(format!("{target}-debug"));
        export(&site, target, &plain, &[]);
        let stderr = export(&site, target, &debug, &["--debug-overrides", s(&proxy_pem)]);
        assert!(stderr.contains("-debug-ca]"), "{target}: the warning says release builds are unaffected: {stderr}");
        assert!(stderr.contains("release builds"), "{target}: {stderr}");
        let find = |dir: &Path| -> PathBuf {
            ["PinsetTrust.swift", "src/ios/PinsetTrust.swift", "ios/Sources/PinsetPlugin/PinsetTrust.swift"]
                .iter()
                .map(|f| dir.join(f))
                .find(|p| p.exists())
                .expect("PinsetTrust.swift")
        };
        let (plain, debug) = (find(&plain), find(&debug));
        assert_parses("swift", &[plain.clone(), debug.clone()]);
        let (p, d) = (read(&plain), read(&debug));
        assert!(!p.contains("debugAnchorsBase64") && !p.contains(&b64), "{target}: no proxy CA without the flag");
        // The CA sits between `#if DEBUG` and `#else`, whose branch is an empty list.
        let block = d.split("#if DEBUG\n").nth(1).and_then(|r| r.split("#endif").next()).expect("an #if DEBUG block");
        let (debug_branch, release_branch) = block.split_once("#else\n").expect("an #else branch");
        assert!(debug_branch.contains(&b64), "{target}: the proxy CA is in the DEBUG branch");
        assert_eq!(release_branch.trim(), "static let debugAnchorsBase64: [String] = []", "{target}");
        assert_eq!(d.matches(&b64).count(), 1, "{target}: the proxy CA appears once");
        assert!(d.contains("evaluateDebug(trust, host: host)"), "{target}");
    }
}
