//! Arbitrary bytes as a PKCS#12 file opened with the password `pinset`: the MAC, the
//! encrypted containers, the key bags and the work bounds checked before any key
//! derivation. Any panic is a bug: a damaged or hostile file must be an error.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = pinset::pki::read_pkcs12("fuzz.p12", data, "pinset");
});
