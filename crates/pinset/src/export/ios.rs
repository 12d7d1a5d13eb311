//! Export for `ios`: `PinsetTrust.swift`, a URLSession delegate that trusts only the site's
//! anchors and checks SPKI pins (the way to pin a server reached by IP address on Apple
//! platforms), and `Info-ATS.plist`, ATS `NSPinnedDomains` for the DNS names. Also the small
//! property-list writer the `trustkit` export shares.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::mobile::{PinnedName, Xml, file_part, pinned_names};
use super::template::{Fill, Template, template};
use super::{DebugAnchor, Export, ExportFile, Options, SiteTrust, Target, text};
use crate::plan::PinTarget;

/// The DER SubjectPublicKeyInfo header of each key type the Swift code can pin: everything
/// before the raw key Apple's `SecKeyCopyExternalRepresentation` returns (an X9.63
/// uncompressed point for EC, a PKCS#1 `RSAPublicKey` for RSA, with the BIT STRING's
/// unused-bits byte kept in the header). A pin hashes header + raw key.
pub(super) struct SpkiHeader {
    /// What the Swift table says in its comment.
    pub name: &'static str,
    /// The Swift expression for `kSecAttrKeyType`.
    pub swift_key_type: &'static str,
    /// `kSecAttrKeySizeInBits`.
    pub bits: u32,
    /// Length of the raw key: a different length (an RSA exponent other than 65537) means
    /// another header, so the Swift code matches no pin rather than a wrong one.
    pub raw_len: usize,
    /// The header bytes.
    pub header: &'static [u8],
}

const EC: &str = "kSecAttrKeyTypeECSECPrimeRandom as String";
const RSA: &str = "kSecAttrKeyTypeRSA as String";

/// The headers the Swift code knows, tested against real keys below.
pub(super) const SPKI_HEADERS: [SpkiHeader; 5] = [
    SpkiHeader {
        name: "EC P-256",
        swift_key_type: EC,
        bits: 256,
        raw_len: 65,
        header: &[
            0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
            0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
        ],
    },
    SpkiHeader {
        name: "EC P-384",
        swift_key_type: EC,
        bits: 384,
        raw_len: 97,
        header: &[
            0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04,
            0x00, 0x22, 0x03, 0x62, 0x00,
        ],
    },
    SpkiHeader {
        name: "RSA 2048",
        swift_key_type: RSA,
        bits: 2048,
        raw_len: 270,
        header: &[
            0x30, 0x82, 0x01, 0x22, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05,
            0x00, 0x03, 0x82, 0x01, 0x0f, 0x00,
        ],
    },
    SpkiHeader {
        name: "RSA 3072",
        swift_key_type: RSA,
        bits: 3072,
        raw_len: 398,
        header: &[
            0x30, 0x82, 0x01, 0xa2, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05,
            0x00, 0x03, 0x82, 0x01, 0x8f, 0x00,
        ],
    },
    SpkiHeader {
        name: "RSA 4096",
        swift_key_type: RSA,
        bits: 4096,
        raw_len: 526,
        header: &[
            0x30, 0x82, 0x02, 0x22, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05,
            0x00, 0x03, 0x82, 0x02, 0x0f, 0x00,
        ],
    },
];

pub(crate) fn render(model: &SiteTrust, options: &Options) -> Export {
    let mut export = Export::new(Target::Ios);
    let names = pinned_names(model);
    export.files.push(ExportFile::text(
        "PinsetTrust.swift",
        swift(model, "ios", options.debug_ca.as_ref()),
        "URLSession delegate: trusts only the site's anchors for its addresses (IP and DNS) and checks the pins; \
         add it to the app target",
    ));
    export.files.push(ExportFile::text(
        "Info-ATS.plist",
        ats_plist(model, &names),
        "App Transport Security keys (`NSPinnedDomains` for DNS names, local networking for IP hosts): \
         merge into the app's Info.plist",
    ));
    let profile_name = profile_file_name(model);
    export.files.push(ExportFile::text(
        profile_name.clone(),
        super::profile::mobileconfig(model),
        format!(
            "configuration profile with the site's {}: install it on a device that must trust them system-wide \
             (Safari, ATS-pinned DNS names, other apps), then enable full trust; see the index README",
            anchor_kind(model)
        ),
    ));
    export.usage = "Add `PinsetTrust.swift` to the app target and give the URLSession that talks to the site \
         `PinsetTrust.shared` as its delegate: `URLSession(configuration: .ephemeral, delegate: PinsetTrust.shared, \
         delegateQueue: nil)`. It needs no profile on the device: it trusts the site's anchors itself. Merge the \
         `NSAppTransportSecurity` keys of `Info-ATS.plist` into `Info.plist`; its `NSPinnedDomains` work only once \
         the device trusts the site's CA (a configuration profile), so leave them out if the app reaches the DNS \
         names through `PinsetTrust` instead. iOS 14+ asks the user before the app reaches the local network: \
         also add `NSLocalNetworkUsageDescription` to `Info.plist`.\n"
        .to_string();
    export.usage.push_str(&format!(
        "\nWhere the device itself must trust the site (Safari, the ATS-pinned DNS names, apps without \
         `PinsetTrust`), install `{profile_name}`: send it to the device (AirDrop, Mail, or a download in Safari), \
         open Settings → General → VPN & Device Management (Profile Downloaded), tap the profile and Install; then \
         Settings → General → About → Certificate Trust Settings, and under Enable Full Trust for Root \
         Certificates turn on each of the site's roots. A profile installed by hand is not trusted for TLS until \
         that switch is on. On macOS, open the file, approve it in System Settings → Privacy & Security → \
         Profiles, then set the roots to Always Trust in Keychain Access.\n"
    ));
    if let Some(ca) = &options.debug_ca {
        export.warn(
            "ios-debug-ca",
            format!(
                "debug builds (`#if DEBUG`) of an app using PinsetTrust.swift also accept chains of the proxy CA {} \
                 (pin {}) without pins; release builds, which do not define DEBUG, carry an empty list. The device \
                 need not trust the proxy CA system-wide: PinsetTrust evaluates it itself",
                text::comment_safe(&ca.subject),
                ca.pin.to_base64()
            ),
        );
    }

    let ips: Vec<&str> = names.iter().filter(|n| n.ip.is_some()).map(|n| n.key.as_str()).collect();
    let dns: Vec<&PinnedName> = names.iter().filter(|n| n.ip.is_none()).collect();
    if !ips.is_empty() {
        export.warn(
            "ats-no-ip",
            format!(
                "ATS cannot pin IP hosts ({}): Info-ATS.plist only sets NSAllowsLocalNetworking so iOS 17+ lets the \
                 app reach them; PinsetTrust.swift pins them",
                ips.join(", ")
            ),
        );
    }
    if !dns.is_empty() {
        export.warn(
            "ats-system-trust",
            format!(
                "ATS pins apply after the system's own trust evaluation, so for the ATS-pinned DNS names ({}) the \
                 site's {} must be installed and trusted on the device as a configuration profile; or reach them \
                 through PinsetTrust.swift too and leave NSPinnedDomains out",
                dns.iter().map(|n| n.names.join(", ")).collect::<Vec<_>>().join(", "),
                anchor_kind(model)
            ),
        );
        if let Some(last) = &model.pins_expire_after {
            export.warn(
                "ats-no-expiry",
                format!(
                    "ATS pins have no expiration date: the NSPinnedDomains pins stay enforced after the plan's last \
                     day {last}; PinsetTrust.swift stops checking pins after it"
                ),
            );
        }
    }
    export
}

/// What the device must trust: the CA, or (self-signed) each server certificate.
pub(super) fn anchor_kind(model: &SiteTrust) -> &'static str {
    match model.mode {
        crate::plan::AuthorityMode::Ca => "private CA roots (active and standby)",
        crate::plan::AuthorityMode::SelfSigned => "self-signed server certificates (active and standby)",
    }
}

/// `Info-ATS.plist`: the `NSAppTransportSecurity` dictionary.
fn ats_plist(model: &SiteTrust, names: &[PinnedName]) -> String {
    let mut ats: Vec<PlistEntry> = Vec::new();
    if names.iter().any(|n| n.ip.is_some()) {
        ats.push(PlistEntry::new(
            "NSAllowsLocalNetworking",
            Plist::Bool(true),
            Some("IP hosts: iOS 17+ blocks IP-literal hosts without it (ATS cannot pin them; PinsetTrust.swift does)"),
        ));
    }
    let identities = match model.pin_target {
        PinTarget::Ca => "NSPinnedCAIdentities",
        PinTarget::Leaf => "NSPinnedLeafIdentities",
    };
    let mut domains: Vec<PlistEntry> = Vec::new();
    for n in names.iter().filter(|n| n.ip.is_none()) {
        let pins = n
            .pins
            .iter()
            .map(|p| {
                Plist::Dict(vec![PlistEntry::new(
                    "SPKI-SHA256-BASE64",
                    Plist::String(p.pin.to_base64(), Some(format!("{} key of {}", p.role, p.owner))),
                    None,
                )])
            })
            .collect();
        let mut comment = format!("{}: server {}", n.names.join(", "), n.servers.join(", "));
        if n.subdomains {
            comment.push_str(&format!("; NSIncludesSubdomains covers one more label, as *.{} does", n.key));
        }
        domains.push(PlistEntry::new(
            &n.key,
            Plist::Dict(vec![
                PlistEntry::new("NSIncludesSubdomains", Plist::Bool(n.subdomains), None),
                PlistEntry::new(identities, Plist::Array(pins), None),
            ]),
            Some(&comment),
        ));
    }
    if domains.is_empty() {
        ats.push(PlistEntry::comment_only("no DNS names: nothing for NSPinnedDomains (ATS cannot pin IP hosts)"));
    } else {
        ats.push(PlistEntry::new("NSPinnedDomains", Plist::Dict(domains), None));
    }
    let root = Plist::Dict(vec![PlistEntry::new("NSAppTransportSecurity", Plist::Dict(ats), None)]);
    let mut head = text::provenance(model, "ios").to_vec();
    head.extend([String::new(), "Merge the NSAppTransportSecurity keys into the app's Info.plist.".to_string()]);
    if names.iter().any(|n| n.ip.is_none()) {
        head.extend([
            "ATS checks these pins after the system's own trust evaluation: the device must trust".to_string(),
            format!("the site's {}, installed as a configuration profile.", anchor_kind(model)),
        ]);
        if model.pin_target == PinTarget::Ca {
            // Apple: "ATS blocks the connection unless it can find the SPKI digest of at least
            // one CA or sub-CA certificate in the chain presented by the server."
            head.extend([
                "NSPinnedCAIdentities matches a CA certificate in the chain the server presents:".to_string(),
                "the servers must send chain.pem (leaf, then CA), not cert.pem alone.".to_string(),
            ]);
        }
    }
    plist_document(&head, &root)
}

/// The configuration profile's file name: `pinset-<site>.mobileconfig`.
fn profile_file_name(model: &SiteTrust) -> String {
    format!("pinset-{}.mobileconfig", file_part(&model.site))
}

/// `PinsetTrust.swift`, as the `ios` export and the plugins (`target` names the export in the
/// provenance comment) ship it: the site's tables, then the code of `templates/ios/body.swift`,
/// with the debug-only proxy CA when `debug` is given.
pub(super) fn swift(model: &SiteTrust, target: &str, debug: Option<&DebugAnchor>) -> String {
    let mut s = text::comment("// ", &text::provenance(model, target));
    s.push_str(&text::comment(
        "// ",
        &[
            String::new(),
            format!("PinsetTrust: TLS trust for the servers of site {}, the way to pin a", text::quote(&model.site)),
            "server reached by IP address on Apple platforms (ATS cannot). For each address of the site".to_string(),
            "it trusts only the site's anchors (not the system's CAs), checks the host name or IP address".to_string(),
            "against the certificate, then, while pins are in force, requires a pinned key (SPKI SHA-256)".to_string(),
            "in the evaluated chain. Other hosts get the system's default handling.".to_string(),
            String::new(),
            "Use it as the delegate of the URLSession that talks to the site:".to_string(),
            "    let session = URLSession(configuration: .ephemeral, delegate: PinsetTrust.shared, delegateQueue: nil)"
                .to_string(),
            "Needs iOS 13 / macOS 10.15 (CryptoKit). iOS 14+ asks the user before the app reaches the local"
                .to_string(),
            "network: add NSLocalNetworkUsageDescription to Info.plist.".to_string(),
        ],
    ));
    s.push_str("\nimport CryptoKit\nimport Foundation\nimport Security\n\n");
    s.push_str(&format!(
        "/// Trusts the anchors of site {} for its addresses and checks their SPKI pins.\n",
        text::quote(&model.site)
    ));
    s.push_str("final class PinsetTrust: NSObject, URLSessionDelegate {\n");
    s.push_str("    /// One delegate serves every session: it holds no state.\n");
    s.push_str("    static let shared = PinsetTrust()\n\n");

    s.push_str("    /// The site's anchors (DER certificates, base64), active before standby.\n");
    s.push_str("    static let anchorsBase64: [String] = [\n");
    for a in &model.anchors {
        s.push_str(&format!("        // {}: {}\n", a.role, text::comment_safe(&a.subject)));
        s.push_str(&format!("        {},\n", text::quote(&STANDARD.encode(&a.der))));
    }
    s.push_str("    ]\n\n");

    s.push_str("    /// The pins (SPKI SHA-256, base64) of each address of the site. IPv6 is compressed and\n");
    s.push_str(
        "    /// without brackets; a \"*.parent\" key covers exactly one more label, as the certificate does.\n",
    );
    s.push_str("    static let pinsByHost: [String: Set<String>] = [\n");
    let hosts = swift_hosts(model);
    if hosts.is_empty() {
        s.push_str("        :\n");
    }
    for (host, servers, pins) in &hosts {
        s.push_str(&format!("        // server {}\n", text::comment_safe(&servers.join(", "))));
        s.push_str(&format!("        {}: [\n", text::quote(host)));
        s.push_str(&text::pin_list(pins, "            ", " ", "//"));
        s.push_str("        ],\n");
    }
    s.push_str("    ]\n\n");

    s.push_str("    /// The last day (UTC, YYYY-MM-DD) pins are enforced; after it the anchors alone apply.\n");
    s.push_str("    /// nil: pins never expire.\n");
    match &model.pins_expire_after {
        Some(day) => {
            s.push_str(&format!("    static let pinsLastDay: String? = {}\n\n", text::quote(&day.to_string())))
        }
        None => s.push_str("    static let pinsLastDay: String? = nil\n\n"),
    }

    s.push_str("    /// DER SubjectPublicKeyInfo headers by key type and size. Apple exports only the raw key\n");
    s.push_str("    /// (an X9.63 point for EC, PKCS#1 for RSA); a pin hashes the whole SPKI, so the header goes\n");
    s.push_str("    /// in front. A key of any other type, size or raw length matches no pin.\n");
    s.push_str("    static let spkiHeaders: [(keyType: String, bits: Int, rawLength: Int, header: String)] = [\n");
    for h in &SPKI_HEADERS {
        s.push_str(&format!(
            "        ({}, {}, {}, {}), // {}\n",
            h.swift_key_type,
            h.bits,
            h.raw_len,
            text::quote(&STANDARD.encode(h.header)),
            h.name
        ));
    }
    s.push_str("    ]\n");
    if let Some(ca) = debug {
        s.push_str(
            "\n    /// Debug builds only (`DEBUG` is defined by Xcode's Debug configuration, never by Release):\n",
        );
        s.push_str(
            "    /// an interception proxy's CA, trusted for the site's addresses without pins, so a team can\n",
        );
        s.push_str("    /// inspect its own app's traffic. A release build carries an empty list.\n");
        s.push_str("    #if DEBUG\n");
        s.push_str("    static let debugAnchorsBase64: [String] = [\n");
        s.push_str(&format!("        // debug proxy CA: {}\n", text::comment_safe(&ca.subject)));
        s.push_str(&format!("        {},\n", text::quote(&STANDARD.encode(&ca.der))));
        s.push_str("    ]\n    #else\n    static let debugAnchorsBase64: [String] = []\n    #endif\n");
    }
    s.push_str(SWIFT_BODY.render(&Fill::new().flag("debug", debug.is_some())).as_str());
    s.push_str("}\n");
    s
}

/// Each address as the Swift table keys it (the plan's spelling, lower case; a repeated
/// address merged), with its servers and pins.
fn swift_hosts(model: &SiteTrust) -> Vec<(String, Vec<String>, Vec<super::TrustPin>)> {
    let mut out: Vec<(String, Vec<String>, Vec<super::TrustPin>)> = Vec::new();
    for server in &model.servers {
        for host in &server.hosts {
            let key = host.to_string();
            let i = match out.iter().position(|(k, _, _)| *k == key) {
                Some(i) => i,
                None => {
                    out.push((key, Vec::new(), Vec::new()));
                    out.len() - 1
                }
            };
            let (_, servers, pins) = &mut out[i];
            if !servers.contains(&server.name) {
                servers.push(server.name.clone());
            }
            for p in &server.pins {
                if !pins.iter().any(|e| e.pin == p.pin) {
                    pins.push(p.clone());
                }
            }
        }
    }
    out
}

/// The code of `PinsetTrust` after its tables.
const SWIFT_BODY: Template = template!("ios/body.swift");

// ---------------------------------------------------------------------------------------
// A small XML property-list writer (shared with the trustkit export).

/// A property-list value.
pub(super) enum Plist {
    /// `<true/>` or `<false/>`.
    Bool(bool),
    /// `<integer>`.
    Integer(i64),
    /// `<data>`: bytes, base64 on one line.
    Data(Vec<u8>),
    /// `<string>`, with a comment after it.
    String(String, Option<String>),
    /// `<array>`.
    Array(Vec<Plist>),
    /// `<dict>`, in this order.
    Dict(Vec<PlistEntry>),
}

/// One key of a dictionary, with a comment line before it.
pub(super) struct PlistEntry {
    comment: Option<String>,
    key: Option<String>,
    value: Option<Plist>,
}

impl PlistEntry {
    /// `key` = `value`, after the comment line `comment`.
    pub(super) fn new(key: &str, value: Plist, comment: Option<&str>) -> PlistEntry {
        PlistEntry { comment: comment.map(str::to_string), key: Some(key.to_string()), value: Some(value) }
    }

    /// A comment line alone.
    pub(super) fn comment_only(comment: &str) -> PlistEntry {
        PlistEntry { comment: Some(comment.to_string()), key: None, value: None }
    }
}

/// A whole plist document: the XML declaration, the DOCTYPE, `head` as a comment, `root`.
pub(super) fn plist_document(head: &[String], root: &Plist) -> String {
    let mut xml = Xml::new("UTF-8");
    xml.doctype(r#"plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd""#);
    xml.comment(head);
    xml.open("plist", &[("version", "1.0")]);
    write_plist(root, &mut xml);
    xml.close("plist");
    xml.finish()
}

fn write_plist(value: &Plist, xml: &mut Xml) {
    match value {
        Plist::Bool(b) => xml.empty(if *b { "true" } else { "false" }, &[]),
        Plist::Integer(n) => xml.element("integer", &[], &n.to_string()),
        Plist::Data(bytes) => xml.element("data", &[], &STANDARD.encode(bytes)),
        Plist::String(s, comment) => {
            xml.element("string", &[], s);
            if let Some(c) = comment {
                xml.trailing_comment(c);
            }
        }
        Plist::Array(items) if items.is_empty() => xml.empty("array", &[]),
        Plist::Array(items) => {
            xml.open("array", &[]);
            for item in items {
                write_plist(item, xml);
            }
            xml.close("array");
        }
        Plist::Dict(entries) if entries.iter().all(|e| e.key.is_none() && e.comment.is_none()) => {
            xml.empty("dict", &[]);
        }
        Plist::Dict(entries) => {
            xml.open("dict", &[]);
            for e in entries {
                if let Some(c) = &e.comment {
                    xml.comment(std::slice::from_ref(c));
                }
                if let (Some(k), Some(v)) = (&e.key, &e.value) {
                    xml.element("key", &[], k);
                    write_plist(v, xml);
                }
            }
            xml.close("dict");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::KeyType;
    use rcgen::PublicKeyData as _;
    use x509_parser::prelude::FromDer as _;

    /// Each header the Swift code prepends, followed by the raw key Apple exports (the BIT
    /// STRING's contents: an X9.63 point or a PKCS#1 key), is the real DER SPKI of a fresh key.
    #[test]
    fn swift_spki_headers_rebuild_real_spkis() {
        let cases = [
            ("EC P-256", KeyType::P256),
            ("EC P-384", KeyType::P384),
            ("RSA 2048", KeyType::Rsa2048),
            ("RSA 3072", KeyType::Rsa3072),
            ("RSA 4096", KeyType::Rsa4096),
        ];
        for (name, key_type) in cases {
            let h = SPKI_HEADERS.iter().find(|h| h.name == name).expect("header in the table");
            let key = key_type.generate().expect("generate key");
            let spki = key.subject_public_key_info();
            let (rest, parsed) = x509_parser::x509::SubjectPublicKeyInfo::from_der(&spki).expect("parse spki");
            assert!(rest.is_empty());
            let raw: &[u8] = &parsed.subject_public_key.data;
            assert_eq!(raw.len(), h.raw_len, "{name}: raw key length");
            match h.swift_key_type {
                EC => assert_eq!(raw[0], 0x04, "{name}: an uncompressed X9.63 point"),
                _ => assert_eq!(raw[0], 0x30, "{name}: a PKCS#1 RSAPublicKey SEQUENCE"),
            }
            let mut rebuilt = h.header.to_vec();
            rebuilt.extend_from_slice(raw);
            assert_eq!(rebuilt, spki, "{name}: header + raw key must be the SPKI");
        }
    }

    #[test]
    fn plist_comments_and_empty_containers() {
        let root = Plist::Dict(vec![
            PlistEntry::new("a", Plist::Array(vec![]), Some("x -- y")),
            PlistEntry::new("b", Plist::Dict(vec![]), None),
            PlistEntry::new("c", Plist::String("<&>".into(), Some("z".into())), None),
        ]);
        let doc = plist_document(&["head".into()], &root);
        assert!(doc.contains("<!-- x - - y -->\n        <key>a</key>\n        <array/>\n"), "{doc}");
        assert!(doc.contains("<key>b</key>\n        <dict/>\n"), "{doc}");
        assert!(doc.contains("<string>&lt;&amp;&gt;</string> <!-- z -->\n"), "{doc}");
    }
}
