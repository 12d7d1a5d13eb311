//! Arbitrary text as an address, through each parser a user's address goes through:
//! `Target::parse` (URLs, `host:port`, with and without a default port), `Host::parse`,
//! `Host::parse_pattern`, `parse_ip` (`--ip`) and `parse_dns` (`--dns`). Any panic is a bug.
//! What a parser accepts must read back the same from the way pinset writes it (a URL,
//! `host:port`, an address, a name), since that text goes into plans, exports and requests.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pinset::address::{parse_dns, parse_ip};
use pinset::{Host, Target};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    for default_port in [None, Some(443)] {
        if let Ok(t) = Target::parse(s, default_port) {
            let url = t.url();
            // Percent-encoding can take a path past the longest address pinset reads.
            if url.len() <= pinset::address::MAX_TARGET_LEN {
                assert_eq!(Target::parse(&url, None).as_ref().ok(), Some(&t), "{s:?} as the URL {url:?}");
            }
            let authority = t.to_string();
            let back = Target::parse(&authority, None).unwrap_or_else(|e| panic!("{s:?} as {authority:?}: {e}"));
            assert_eq!((&back.host, back.port), (&t.host, t.port), "{s:?} as {authority:?}");
            assert!(t.path.starts_with('/') && !t.path.chars().any(|c| c.is_control() || c == ' '), "{t:?}");
        }
    }
    if let Ok(h) = Host::parse(s) {
        assert_eq!(Host::parse(&h.to_string()).as_ref().ok(), Some(&h), "{s:?} as {h}");
    }
    if let Ok(h) = Host::parse_pattern(s) {
        assert_eq!(Host::parse_pattern(&h.to_string()).as_ref().ok(), Some(&h), "{s:?} as {h}");
    }
    if let Ok(ip) = parse_ip(s) {
        assert_eq!(parse_ip(&ip.to_string()).ok(), Some(ip), "{s:?} as {ip}");
    }
    if let Ok(name) = parse_dns(s) {
        assert_eq!(parse_dns(&name).ok().as_deref(), Some(name.as_str()), "{s:?} as {name}");
        assert_eq!(Host::parse_pattern(&name).ok(), Some(Host::Dns(name.clone())), "{s:?} as {name}");
    }
});
