//! Arbitrary bytes as an input file: PEM (certificates, keys, CSRs, bundles), DER
//! certificates, SubjectPublicKeyInfo, PKCS#1, SEC1 and PKCS#8 keys, CSRs and PKCS#12 files
//! (opened with the password `pinset` when one is asked for). Every certificate read is
//! summarized as `inspect` shows it. Any panic is a bug: bad input must be an error.

#![no_main]

use libfuzzer_sys::fuzz_target;
use zeroize::Zeroizing;

fuzz_target!(|data: &[u8]| {
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
});
