//! Export for `trustkit`: the `TSKConfiguration` dictionary (an Info.plist fragment) for the
//! DNS names TrustKit accepts, and the rules that decide which names those are (shared with
//! the `react-native` export, whose iOS side is TrustKit).

use super::ios::{Plist, PlistEntry, anchor_kind, plist_document};
use super::mobile::{PinnedName, pinned_names, pins_stop_day};
use super::{Export, ExportFile, Options, SiteTrust, Target, text};

/// Top-level labels meant for local networks (RFC 2606, RFC 6761, RFC 6762, ICANN's
/// `.internal`, common router defaults) that are not on the Public Suffix List. TrustKit
/// looks every pinned domain up in its copy of that list and raises "invalid domain" (the
/// app stops at start) for a name under none of its suffixes.
const LOCAL_TLDS: [&str; 12] = [
    "local",
    "localhost",
    "localdomain",
    "lan",
    "home",
    "internal",
    "intranet",
    "corp",
    "private",
    "test",
    "example",
    "invalid",
];

/// Why TrustKit cannot take an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Refusal {
    /// An IP address: TrustKit rejects it as a domain.
    Ip,
    /// A single-label name or one under a local-only top-level domain: not under a public suffix.
    LocalName,
    /// Fewer than two pins: TrustKit refuses to start when enforcing with no backup pin.
    OnePin,
}

/// Why TrustKit would refuse `name` (and stop the app at start), if it would.
pub(super) fn refusal(name: &PinnedName) -> Option<Refusal> {
    if name.ip.is_some() {
        return Some(Refusal::Ip);
    }
    let tld = name.key.rsplit('.').next().unwrap_or_default();
    if !name.key.contains('.') || LOCAL_TLDS.contains(&tld) {
        return Some(Refusal::LocalName);
    }
    // TrustKit counts distinct pins, and needs two when it enforces them.
    if name.pins.len() < 2 {
        return Some(Refusal::OnePin);
    }
    None
}

/// The addresses in `names` refused for `why`, as the plan spells them.
pub(super) fn refused(names: &[PinnedName], why: Refusal) -> Vec<&str> {
    names.iter().filter(|n| refusal(n) == Some(why)).flat_map(|n| n.names.iter().map(String::as_str)).collect()
}

pub(crate) fn render(model: &SiteTrust, _options: &Options) -> Export {
    let mut export = Export::new(Target::Trustkit);
    let names = pinned_names(model);
    let stop = pins_stop_day(model);
    let pinned: Vec<&PinnedName> = names.iter().filter(|n| refusal(n).is_none()).collect();

    let mut domains: Vec<PlistEntry> = Vec::new();
    for n in &pinned {
        let hashes = n
            .pins
            .iter()
            .map(|p| Plist::String(p.pin.to_base64(), Some(format!("{} key of {}", p.role, p.owner))))
            .collect();
        let mut entries = vec![
            PlistEntry::new("TSKPublicKeyHashes", Plist::Array(hashes), None),
            PlistEntry::new("TSKIncludeSubdomains", Plist::Bool(n.subdomains), None),
            PlistEntry::new("TSKEnforcePinning", Plist::Bool(true), None),
            PlistEntry::new(
                "TSKDisableDefaultReportUri",
                Plist::Bool(true),
                Some("otherwise pin failures are reported to a third party's server"),
            ),
        ];
        if let Some(day) = &stop {
            entries.push(PlistEntry::new(
                "TSKExpirationDate",
                Plist::String(day.clone(), None),
                Some("the day pins stop (UTC): the day after the plan's last day"),
            ));
        }
        let mut comment = format!("{}: server {}", n.names.join(", "), n.servers.join(", "));
        if n.subdomains {
            comment.push_str(&format!(
                "; TSKIncludeSubdomains covers names of any depth below {} (and {0} itself)",
                n.key
            ));
        }
        domains.push(PlistEntry::new(&n.key, Plist::Dict(entries), Some(&comment)));
    }

    let root = if domains.is_empty() {
        Plist::Dict(vec![PlistEntry::comment_only(
            "No TSKConfiguration: TrustKit can pin none of this site's addresses, and it stops the app at \
             start when TSKPinnedDomains is empty. Use PinsetTrust.swift from the ios export.",
        )])
    } else {
        Plist::Dict(vec![PlistEntry::new(
            "TSKConfiguration",
            Plist::Dict(vec![
                PlistEntry::new(
                    "TSKSwizzleNetworkDelegates",
                    Plist::Bool(false),
                    Some("the app passes challenges to TrustKit's pinningValidator in its URLSession delegate"),
                ),
                PlistEntry::new(
                    "TSKIgnorePinningForUserDefinedTrustAnchors",
                    Plist::Bool(false),
                    Some(
                        "macOS only (iOS ignores it): TrustKit skips the pins of a chain ending at a CA the user \
                         installed unless this is false, and the site's anchors are such CAs",
                    ),
                ),
                PlistEntry::new("TSKPinnedDomains", Plist::Dict(domains), None),
            ]),
            None,
        )])
    };
    let mut head = text::provenance(model, "trustkit").to_vec();
    head.extend([
        String::new(),
        "Merge the TSKConfiguration key into the app's Info.plist (TrustKit reads it at launch).".to_string(),
        "TrustKit checks pins after iOS's own trust evaluation: the device must trust the site's".to_string(),
        format!("{}, installed as a configuration profile.", anchor_kind(model)),
        "IP addresses, local-only names and names with one pin are left out: TrustKit stops the".to_string(),
        "app at start on them. PinsetTrust.swift from the ios export covers every address.".to_string(),
    ]);
    export.files.push(ExportFile::text(
        "TrustKit.plist",
        plist_document(&head, &root),
        "TrustKit configuration (`TSKConfiguration`) for the DNS names TrustKit accepts: merge into Info.plist",
    ));
    export.usage = "Merge the `TSKConfiguration` key of `TrustKit.plist` into the app's `Info.plist`; TrustKit \
         initializes itself from it at launch. Network delegates are not swizzled: in the URLSession delegate, \
         call `TrustKit.sharedInstance().pinningValidator.handle(challenge, completionHandler: completionHandler)` \
         and fall back to default handling when it returns false. TrustKit pins after iOS's own trust evaluation, \
         so devices must trust the site's CA through a configuration profile; `PinsetTrust.swift` (the `ios` \
         export) needs no profile and also pins IP addresses.\n"
        .to_string();

    let ips = refused(&names, Refusal::Ip);
    if !ips.is_empty() {
        export.warn(
            "trustkit-no-ip",
            format!(
                "TrustKit rejects IP addresses as domains (the app stops at start): {} left out; PinsetTrust.swift \
                 from the ios export pins them",
                ips.join(", ")
            ),
        );
    }
    let local = refused(&names, Refusal::LocalName);
    if !local.is_empty() {
        export.warn(
            "trustkit-local-name",
            format!(
                "TrustKit accepts only names under a public suffix (it raises \"invalid domain\" and the app stops at \
                 start): {} left out, being single-label or under a local-only top-level domain; PinsetTrust.swift \
                 from the ios export pins them",
                local.join(", ")
            ),
        );
    }
    let one_pin = refused(&names, Refusal::OnePin);
    if !one_pin.is_empty() {
        export.warn(
            "trustkit-two-pins",
            format!(
                "TrustKit refuses to start when it enforces fewer than two pins for a domain: {} left out rather \
                 than written with TSKEnforcePinning false, which would look pinned but only report (and reports \
                 are off); give the plan a standby key and export again",
                one_pin.join(", ")
            ),
        );
    }
    if pinned.is_empty() {
        export.warn(
            "trustkit-empty",
            "TrustKit can pin none of this site's addresses, and it stops the app at start when TSKPinnedDomains is \
             empty: TrustKit.plist holds no TSKConfiguration; use PinsetTrust.swift from the ios export",
        );
    } else {
        export.warn(
            "trustkit-system-trust",
            format!(
                "TrustKit checks pins after iOS's own trust evaluation: the device must trust the site's {}, \
                 installed as a configuration profile and enabled in Certificate Trust Settings, or connections fail before any pin \
                 is checked; PinsetTrust.swift from the ios export needs no profile",
                anchor_kind(model)
            ),
        );
    }
    export
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(key: &str, pins: usize) -> PinnedName {
        let pin = |i: u8| super::super::TrustPin {
            pin: crate::pin::Pin::of_spki(&[i]),
            role: crate::trust::Role::Active,
            owner: crate::trust::Owner::Authority,
        };
        PinnedName {
            key: key.into(),
            subdomains: false,
            ip: key.parse().ok(),
            names: vec![key.into()],
            servers: vec!["s".into()],
            pins: (0..pins as u8).map(pin).collect(),
        }
    }

    #[test]
    fn trustkit_refuses_what_stops_it_at_start() {
        assert_eq!(refusal(&name("10.0.0.5", 2)), Some(Refusal::Ip));
        assert_eq!(refusal(&name("fd00::10", 2)), Some(Refusal::Ip));
        assert_eq!(refusal(&name("till-3.local", 2)), Some(Refusal::LocalName));
        assert_eq!(refusal(&name("nas", 2)), Some(Refusal::LocalName));
        assert_eq!(refusal(&name("shop.example", 2)), Some(Refusal::LocalName));
        assert_eq!(refusal(&name("api.shop.example.com", 1)), Some(Refusal::OnePin));
        assert_eq!(refusal(&name("api.shop.example.com", 2)), None);
        assert_eq!(refusal(&name("nas.home.arpa", 2)), None);
    }
}
