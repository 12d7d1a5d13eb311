//! The address clients dial ([`Host`]) and the rules about naming it: a SAN of the right type
//! (no CN-only names, no IP written as a DNS name), RFC 6125 wildcard matching, and the
//! nameConstraints of the chain's CAs.

use std::fmt;
use std::net::IpAddr;

use x509_parser::extensions::GeneralName;

use super::finding::{Finding, NONE, R, Reissue, Severity, W, all, effects, trust};
use super::parsed::{Cert, printable};
use super::rules::{IP_ONLY_AS_DNS_SAN, NAME_CONSTRAINTS, NAME_NOT_IN_SAN, NAME_ONLY_IN_CN, NO_SAN_CN_ONLY};
use crate::cert::San;

pub use crate::address::Host;

/// How to name `host` in a new certificate with openssl.
fn name_it(host: &Host) -> String {
    let san = match host {
        Host::Ip(ip) => format!("IP:{ip}"),
        Host::Dns(d) => format!("DNS:{d}"),
    };
    format!("openssl: -addext subjectAltName={san}")
}

/// Issuing the certificate again naming `host`.
fn naming(host: &Host) -> Reissue {
    Reissue { names: vec![host.clone()], ..Reissue::default() }
}

/// The address rules: SANs of the right type, no CN-only names, no IP written as a DNS name.
pub(super) fn name_rules(c: &Cert<'_>, sans: &[San], name: Option<&Host>, out: &mut Vec<Finding>) {
    let ips: Vec<IpAddr> = sans.iter().filter_map(|s| if let San::Ip(ip) = s { Some(*ip) } else { None }).collect();
    let dns: Vec<&str> =
        sans.iter().filter_map(|s| if let San::Dns(d) = s { Some(d.as_str()) } else { None }).collect();
    let san_list = if sans.is_empty() {
        "the certificate has none".to_string()
    } else {
        printable(&sans.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))
    };
    let cn_matches = |host: &Host| {
        c.cn.as_deref().is_some_and(|cn| match host {
            Host::Ip(ip) => parse_ip_text(cn) == Some(*ip),
            Host::Dns(n) => dns_matches(cn, n),
        })
    };

    if ips.is_empty() && dns.is_empty() {
        // Java falls back to the CN for a DNS name, never for an IP address (dialled, or the
        // one the CN holds when no name is given).
        let cn_is_ip = c.cn.as_deref().and_then(parse_ip_text).is_some();
        let java = match (name, c.cn.is_some()) {
            (_, false) | (Some(Host::Ip(_)), _) => R,
            (None, true) if cn_is_ip => R,
            (Some(host @ Host::Dns(_)), true) if !cn_matches(host) => R,
            _ => W,
        };
        let cn_text =
            c.cn.as_deref().map(|cn| format!("only CN={}", printable(cn))).unwrap_or_else(|| "and no CN".into());
        let suggest = match (name, c.cn.as_deref()) {
            (Some(host), _) => Some(host.clone()),
            (None, Some(cn)) => match parse_ip_text(cn) {
                Some(ip) => Some(Host::Ip(ip)),
                None => Host::parse(cn).ok(),
            },
            (None, None) => None,
        };
        let (fix, reissue) = match suggest {
            Some(host) => {
                (format!("issue it again with a subjectAltName for each address; {}", name_it(&host)), naming(&host))
            }
            None => (
                "issue it again with a subjectAltName for each address; openssl: -addext subjectAltName=IP:ADDRESS"
                    .to_string(),
                Reissue { every_address: true, ..Reissue::default() },
            ),
        };
        out.push(
            Finding::new(
                NO_SAN_CN_ONLY,
                c,
                effects([R, R, R, java, R]),
                format!(
                    "no DNS or IP subjectAltName, {cn_text}: Apple, Chrome, Android 9+ and OkHttp ignore the CN; Java \
                 uses it for DNS names only"
                ),
                fix,
            )
            .reissued(reissue),
        );
        // The CN carries the name dialled: the finding above says all there is to say.
        if name.is_none_or(cn_matches) {
            return;
        }
    }

    // DNS SANs that hold an IP address: no client matches them.
    let ip_as_dns: Vec<(&str, IpAddr)> =
        dns.iter().filter_map(|d| parse_ip_text(d).map(|ip| (*d, ip))).filter(|(_, ip)| !ips.contains(ip)).collect();

    let Some(host) = name else {
        // Without the name dialled, an IP written as a DNS name is still a mistake: a refusal
        // when nothing else in the certificate is a usable name.
        let usable = !ips.is_empty() || dns.iter().any(|d| parse_ip_text(d).is_none());
        for (as_dns, ip) in ip_as_dns {
            out.push(Finding::new(
                IP_ONLY_AS_DNS_SAN,
                c,
                all(if usable { Severity::Warn } else { Severity::Reject }),
                format!(
                    "DNS:{} is an IP address written as a DNS name: clients dialling {ip} compare only iPAddress SANs \
                     and refuse it (SANs: {san_list})",
                    printable(as_dns)
                ),
                format!("issue it again with an iPAddress SAN, not a DNS one; {}", name_it(&Host::Ip(ip))),
            )
            .reissued(naming(&Host::Ip(ip))));
        }
        return;
    };

    let in_san = match host {
        Host::Ip(ip) => ips.contains(ip),
        Host::Dns(n) => dns.iter().any(|d| dns_matches(d, n)),
    };
    if in_san {
        return;
    }
    if let Host::Ip(ip) = host
        && let Some((as_dns, _)) = ip_as_dns.iter().find(|(_, i)| i == ip)
    {
        out.push(
            Finding::new(
                IP_ONLY_AS_DNS_SAN,
                c,
                all(Severity::Reject),
                format!(
                    "{ip} is only a DNS SAN (DNS:{}); clients connecting by IP compare only iPAddress SANs (SANs: \
                 {san_list})",
                    printable(as_dns)
                ),
                format!("issue it again with an iPAddress SAN, not a DNS one; {}", name_it(host)),
            )
            .reissued(naming(host)),
        );
        return;
    }
    if !(ips.is_empty() && dns.is_empty()) && cn_matches(host) {
        // Java's HostnameChecker: a DNS name may match the CN when there is no DNS SAN.
        let java = match host {
            Host::Dns(_) if dns.is_empty() => W,
            _ => R,
        };
        out.push(
            Finding::new(
                NAME_ONLY_IN_CN,
                c,
                effects([R, R, R, java, R]),
                format!("{host} is only in the subject CN, not in a {} SAN (SANs: {san_list})", host.san_type()),
                format!("issue it again with {host} in the SANs; {}", name_it(host)),
            )
            .reissued(naming(host)),
        );
        return;
    }
    out.push(
        Finding::new(
            NAME_NOT_IN_SAN,
            c,
            all(Severity::Reject),
            format!("{host} is in no {} SAN (SANs: {san_list})", host.san_type()),
            format!("dial an address the certificate names, or issue it again with {host} added; {}", name_it(host)),
        )
        .reissued(naming(host)),
    );
}

/// One subtree of a nameConstraints extension that pinset can check.
enum Subtree {
    /// A DNS name and every name under it (`.x` only under it).
    Dns(String),
    /// An address range: network address and mask, both 4 or 16 bytes.
    Ip(Vec<u8>, Vec<u8>),
}

impl Subtree {
    fn from_general_name(g: &GeneralName<'_>) -> Option<Subtree> {
        match g {
            GeneralName::DNSName(d) => Some(Subtree::Dns(d.trim_end_matches('.').to_ascii_lowercase())),
            GeneralName::IPAddress(b) if b.len() == 8 || b.len() == 32 => {
                let (addr, mask) = b.split_at(b.len() / 2);
                Some(Subtree::Ip(addr.to_vec(), mask.to_vec()))
            }
            _ => None,
        }
    }

    /// Whether this subtree constrains names of `san`'s type.
    fn same_type(&self, san: &San) -> bool {
        matches!((self, san), (Subtree::Dns(_), San::Dns(_)) | (Subtree::Ip(..), San::Ip(_)))
    }

    /// RFC 5280 §4.2.1.10: a DNS name is within a subtree when labels added on the left give
    /// it; an address when it falls in the range.
    fn contains(&self, san: &San) -> bool {
        match (self, san) {
            (Subtree::Dns(base), San::Dns(name)) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                match base.strip_prefix('.') {
                    _ if base.is_empty() => true,
                    Some(parent) => name.ends_with(&format!(".{parent}")),
                    None => name == *base || name.ends_with(&format!(".{base}")),
                }
            }
            (Subtree::Ip(addr, mask), San::Ip(ip)) => {
                let bytes = match ip {
                    IpAddr::V4(v4) => v4.octets().to_vec(),
                    IpAddr::V6(v6) => v6.octets().to_vec(),
                };
                bytes.len() == addr.len() && bytes.iter().zip(addr).zip(mask).all(|((b, a), m)| b & m == a & m)
            }
            _ => false,
        }
    }
}

impl fmt::Display for Subtree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subtree::Dns(d) => write!(f, "DNS:{d}"),
            Subtree::Ip(addr, mask) => {
                let ip = match <[u8; 4]>::try_from(addr.as_slice()) {
                    Ok(v4) => IpAddr::from(v4),
                    Err(_) => IpAddr::from(<[u8; 16]>::try_from(addr.as_slice()).unwrap_or_default()),
                };
                let ones: u32 = mask.iter().map(|b| b.count_ones()).sum();
                write!(f, "IP:{ip}/{ones}")
            }
        }
    }
}

/// `name-constraints`: each CA of the chain with nameConstraints, against the server's DNS
/// and IP names (and the name dialled).
pub(super) fn name_constraint_rules(certs: &[Cert<'_>], sans: &[San], name: Option<&Host>, out: &mut Vec<Finding>) {
    let mut names: Vec<San> = sans.iter().filter(|s| matches!(s, San::Dns(_) | San::Ip(_))).cloned().collect();
    if let Some(host) = name {
        let san = match host {
            Host::Ip(ip) => San::Ip(*ip),
            Host::Dns(d) => San::Dns(d.clone()),
        };
        if !names.contains(&san) {
            names.push(san);
        }
    }
    for c in certs.iter().skip(1) {
        let Ok(Some(nc)) = c.x509.name_constraints() else { continue };
        let subtrees = |list: &Option<Vec<x509_parser::extensions::GeneralSubtree<'_>>>| -> Vec<Subtree> {
            list.iter().flatten().filter_map(|s| Subtree::from_general_name(&s.base)).collect()
        };
        let permitted = subtrees(&nc.value.permitted_subtrees);
        let excluded = subtrees(&nc.value.excluded_subtrees);
        let mut outside = Vec::new();
        for n in &names {
            let typed: Vec<&Subtree> = permitted.iter().filter(|p| p.same_type(n)).collect();
            if !typed.is_empty() && !typed.iter().any(|p| p.contains(n)) {
                let list = typed.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
                outside.push(format!("{n} is outside the permitted {list}"));
            } else if let Some(e) = excluded.iter().find(|e| e.contains(n)) {
                outside.push(format!("{n} is in the excluded {e}"));
            }
        }
        if outside.is_empty() {
            continue;
        }
        // Java and Android build trust anchors from the key and name only: a root's own
        // constraints bind Chrome, which enforces them on locally trusted roots.
        let (platforms, whose) = if c.self_issued {
            (effects([NONE, NONE, R, NONE, NONE]), "this root")
        } else {
            (trust(R, R, R, R), "this CA")
        };
        out.push(Finding::new(
            NAME_CONSTRAINTS,
            c,
            platforms,
            format!(
                "{whose} constrains names and the server certificate breaks them: {}",
                printable(&outside.join("; "))
            ),
            "issue the server certificate from a CA whose nameConstraints cover its addresses, or widen them",
        ));
    }
}

/// An IP address written as text (in a dNSName or CN), brackets allowed.
pub(super) fn parse_ip_text(s: &str) -> Option<IpAddr> {
    let t = s.trim();
    t.strip_prefix('[').and_then(|r| r.strip_suffix(']')).unwrap_or(t).parse().ok()
}

/// RFC 6125 §6.4 matching: case-insensitive, a trailing dot ignored, and a `*` only as the
/// whole left-most label, standing for exactly one label, under a parent of two labels or
/// more (OkHttp and Chrome refuse `*.tld`).
pub(super) fn dns_matches(pattern: &str, name: &str) -> bool {
    let pattern = pattern.trim().trim_end_matches('.').to_ascii_lowercase();
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if pattern == name {
        return true;
    }
    match pattern.strip_prefix("*.") {
        Some(parent) if parent.contains('.') && !parent.contains('*') => {
            name.split_once('.').is_some_and(|(first, rest)| !first.is_empty() && rest == parent)
        }
        _ => false,
    }
}
