//! The configuration profile (`.mobileconfig`) the `ios` export writes: one root
//! certificate payload (`com.apple.security.root`) per anchor of the site, active and
//! standby, in a `Configuration` payload named after the site.
//!
//! The keys are those Apple's Configuration Profile Reference requires of every profile and
//! payload (`PayloadType`, `PayloadVersion`, `PayloadIdentifier`, `PayloadUUID`,
//! `PayloadDisplayName`, and `PayloadContent`). Identifiers come from the site's name, UUIDs
//! from the pins of its anchors (the keys that make the site what it is), never drawn at
//! random: exporting again gives the same file, and a device installing a newer export
//! replaces the profile it has (same top-level identifier) instead of adding a second one.

use sha2::{Digest as _, Sha256};

use super::ios::{Plist, PlistEntry, plist_document};
use super::{SiteTrust, text};
use crate::plan::AuthorityMode;

/// `PayloadVersion` of the profile and of each payload: the only version Apple defines.
const PAYLOAD_VERSION: i64 = 1;

/// The reverse-DNS prefix of every identifier pinset writes.
const IDENTIFIER_PREFIX: &str = "org.pinset.site";

/// The profile, as an XML property list.
pub(super) fn mobileconfig(model: &SiteTrust) -> String {
    let ident = model.ident();
    let top_identifier = format!("{IDENTIFIER_PREFIX}.{ident}");
    let mut payloads = Vec::new();
    let site_key: Vec<String> = model.anchors.iter().map(|a| a.pin.to_base64()).collect();
    let site_key: Vec<&str> = site_key.iter().map(String::as_str).collect();
    for a in &model.anchors {
        payloads.push(Plist::Dict(vec![
            PlistEntry::new("PayloadType", Plist::String("com.apple.security.root".into(), None), None),
            PlistEntry::new("PayloadVersion", Plist::Integer(PAYLOAD_VERSION), None),
            PlistEntry::new(
                "PayloadIdentifier",
                Plist::String(format!("{top_identifier}.{}", super::ident(&a.stem)), None),
                None,
            ),
            PlistEntry::new("PayloadUUID", Plist::String(uuid(&["anchor", &a.pin.to_base64()]), None), None),
            PlistEntry::new(
                "PayloadDisplayName",
                Plist::String(format!("{} {} root ({})", model.site, a.role, a.stem), None),
                None,
            ),
            PlistEntry::new(
                "PayloadDescription",
                Plist::String(format!("{} root of site {}, pin {}", a.role, model.site, a.pin.to_base64()), None),
                None,
            ),
            PlistEntry::new(
                "PayloadCertificateFileName",
                Plist::String(format!("{}.cer", super::mobile::file_part(&a.stem)), None),
                None,
            ),
            PlistEntry::new("PayloadContent", Plist::Data(a.der.clone()), Some(&format!("{}: {}", a.role, a.subject))),
        ]));
    }
    let what = match model.mode {
        AuthorityMode::Ca => "the private CA roots (active and standby)",
        AuthorityMode::SelfSigned => "the self-signed server certificates (active and standby)",
    };
    let root = Plist::Dict(vec![
        PlistEntry::new("PayloadType", Plist::String("Configuration".into(), None), None),
        PlistEntry::new("PayloadVersion", Plist::Integer(PAYLOAD_VERSION), None),
        PlistEntry::new("PayloadIdentifier", Plist::String(top_identifier, None), None),
        PlistEntry::new("PayloadUUID", Plist::String(uuid(&[&["profile"], site_key.as_slice()].concat()), None), None),
        PlistEntry::new("PayloadDisplayName", Plist::String(format!("{} TLS roots", model.site), None), None),
        PlistEntry::new(
            "PayloadDescription",
            Plist::String(
                format!(
                    "Trust {what} of site {} for TLS. After installing, enable full trust for each in Settings > \
                     General > About > Certificate Trust Settings.",
                    model.site
                ),
                None,
            ),
            None,
        ),
        PlistEntry::new("PayloadOrganization", Plist::String(model.site.clone(), None), None),
        PlistEntry::new("PayloadRemovalDisallowed", Plist::Bool(false), None),
        PlistEntry::new("PayloadContent", Plist::Array(payloads), None),
    ]);
    let mut head = text::provenance(model, "ios").to_vec();
    head.extend([
        String::new(),
        "Install on the device (AirDrop, Mail or Safari), then Settings > General > VPN & Device".to_string(),
        "Management > Install; then Settings > General > About > Certificate Trust Settings: turn on".to_string(),
        "full trust for each root. Until then iOS does not trust them for TLS.".to_string(),
    ]);
    plist_document(&head, &root)
}

/// A name-based UUID (RFC 9562 version 8, the layout for custom hashes) of `parts`: SHA-256
/// over them, NUL-separated, cut to 128 bits with the version and variant bits set. The same
/// parts give the same UUID, so an export is reproducible.
fn uuid(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    h.update(b"pinset mobileconfig\0");
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let d = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02X}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_stable_distinct_and_well_formed() {
        let a = uuid(&["shop", "profile"]);
        assert_eq!(a, uuid(&["shop", "profile"]));
        assert_ne!(a, uuid(&["shop2", "profile"]));
        assert_ne!(uuid(&["ab", "c"]), uuid(&["a", "bc"]), "parts are separated");
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "8", "version 8: {a}");
        assert!(matches!(&a[19..20], "8" | "9" | "A" | "B"), "RFC variant: {a}");
    }
}
