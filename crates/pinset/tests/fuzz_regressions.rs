//! Inputs the fuzzer (fuzz/, cargo-fuzz) found that once made pinset panic or break a
//! property its fuzz target checks, each kept in `fuzz-regressions/` and read here exactly
//! as its target reads it: `address-*` by the address parsers, `plan-*` as a site plan, any
//! other by the input reader. Every one must now give a result or an error, never a panic,
//! and what parses must read back the same.

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

fn regressions_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions")
}

/// What the `read_objects` fuzz target does with one input.
fn read_as_fuzzed(data: &[u8]) {
    let mut password = |_: &str| Ok(Zeroizing::new("pinset".to_string()));
    if let Ok(objects) = pinset::input::read_objects("fuzz", data, &mut password) {
        for object in objects {
            let _ = object.pin();
            if let Some(der) = &object.cert_der {
                let _ = pinset::cert::summarize("fuzz", der, time::OffsetDateTime::UNIX_EPOCH);
            }
        }
    }
    let _ = pinset::input::read_certificates("fuzz", data);
    let _ = pinset::pki::read_pkcs12("fuzz.p12", data, "pinset");
}

/// What the `address` fuzz target does with one input (the same checks as
/// `fuzz/fuzz_targets/address.rs`).
fn address_as_fuzzed(data: &[u8]) {
    use pinset::address::{parse_dns, parse_ip};
    use pinset::{Host, Target};
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
}

/// What the `plan` fuzz target does with one input (the same checks as
/// `fuzz/fuzz_targets/plan.rs`).
fn plan_as_fuzzed(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let path = Path::new("fuzz/pinset.toml");
    if let Ok(plan) = pinset::plan::SitePlan::parse(path, text) {
        let written = plan.to_toml().expect("a plan that reads can be written");
        let again = pinset::plan::SitePlan::parse(path, &written).expect("a written plan reads back");
        assert_eq!(again, plan, "the plan changed on its way through the file:\n{written}");
    }
}

fn kept(name: &str) -> Vec<u8> {
    std::fs::read(regressions_dir().join(name)).expect("a kept fuzz input")
}

#[test]
fn a_name_ending_in_an_all_digit_label_is_no_dns_name() {
    // `892.168.1.10` was a DNS name to `--dns` and a bad IP address to every other parser.
    let data = kept("address-numeric-last-label");
    assert!(pinset::address::parse_dns(std::str::from_utf8(&data).expect("text")).is_err());
    address_as_fuzzed(&data);
}

#[test]
fn a_name_ending_in_a_hex_number_is_no_dns_name() {
    // `0X012` was the DNS name `0x012` to pinset and the address 0.0.0.18 to URL parsers.
    let data = kept("address-hex-last-label");
    assert!(pinset::address::parse_dns(std::str::from_utf8(&data).expect("text")).is_err());
    address_as_fuzzed(&data);
}

#[test]
fn every_kept_fuzz_input_reads_without_a_panic() {
    let mut files: Vec<_> = std::fs::read_dir(regressions_dir())
        .expect("the fuzz-regressions folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_none_or(|e| e != "md"))
        .collect();
    files.sort();
    for path in &files {
        let data = std::fs::read(path).expect("read");
        let name = path.file_name().map(Path::new).map(|p| p.display().to_string()).unwrap_or_default();
        let result = std::panic::catch_unwind(|| {
            if name.starts_with("address-") {
                address_as_fuzzed(&data);
            } else if name.starts_with("plan-") {
                plan_as_fuzzed(&data);
            } else {
                read_as_fuzzed(&data);
            }
        });
        assert!(result.is_ok(), "fuzz-regressions/{name} panics again");
    }
}
