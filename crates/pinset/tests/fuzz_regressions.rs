//! Inputs the fuzzer (fuzz/, cargo-fuzz) found that once made the input reader panic,
//! each kept in `fuzz-regressions/` and read here exactly as the fuzz targets read it:
//! every one must now give a result or an error, never a panic.

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
        let result = std::panic::catch_unwind(|| read_as_fuzzed(&data));
        assert!(result.is_ok(), "fuzz-regressions/{name} panics again");
    }
}
