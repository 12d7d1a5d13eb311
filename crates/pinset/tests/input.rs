//! The input reader against known answers: key files OpenSSL wrote (PKCS#1 RSA public and
//! private, SEC1 EC with compressed points and explicit curves, PKCS#8), each pinned as
//! OpenSSL pins it (`data/keys/pins.txt`, written by `data/keys/regenerate`), and inputs
//! too large to read.

use std::path::PathBuf;

use zeroize::Zeroizing;

fn keys_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/keys")
}

fn no_password(_: &str) -> pinset::Result<Zeroizing<String>> {
    panic!("no password expected")
}

#[test]
fn key_files_pin_as_openssl_pins_them() {
    let pins = std::fs::read_to_string(keys_dir().join("pins.txt")).expect("read pins.txt");
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in pins.lines() {
        let (file, expected) = line.split_once(' ').expect("`file pin` lines");
        let bytes = std::fs::read(keys_dir().join(file)).expect("read a fixture");
        match pinset::input::read_objects(file, &bytes, &mut no_password) {
            Ok(objects) if objects.len() == 1 && objects[0].pin().to_base64() == expected => {}
            Ok(objects) => failures.push(format!(
                "{file}: expected {expected}, got {:?}",
                objects.iter().map(|o| (o.pin().to_base64(), o.kind)).collect::<Vec<_>>()
            )),
            Err(e) => failures.push(format!("{file}: {e}")),
        }
        checked += 1;
    }
    assert!(checked >= 14, "pins.txt lists every fixture ({checked})");
    assert!(failures.is_empty(), "pinset disagrees with openssl:\n{}", failures.join("\n"));
}

#[test]
fn every_key_encoding_of_the_fixtures_is_covered() {
    let pins = std::fs::read_to_string(keys_dir().join("pins.txt")).expect("read pins.txt");
    for needed in [
        "rsa-pkcs1-public.pem",
        "rsa-pkcs1-public.der",
        "rsa-pkcs1.pem",
        "rsa-pkcs1.der",
        "p256-sec1-compressed.pem",
        "p256-sec1-compressed.der",
        "p256-pkcs8-compressed.der",
        "p384-sec1-explicit.pem",
        "p384-sec1-explicit.der",
        "p384-pkcs8-explicit.pem",
        "ed25519.p8.pem",
    ] {
        assert!(pins.lines().any(|l| l.starts_with(&format!("{needed} "))), "{needed} missing from pins.txt");
    }
}

#[test]
fn an_endless_input_is_refused_at_the_limit() {
    let err = pinset::input::read_limited("/dev/zero").expect_err("endless").to_string();
    assert!(err.contains("/dev/zero") && err.contains("more than 16 MiB"), "{err}");
}

#[test]
fn a_large_file_is_refused_by_its_size_before_it_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big.pem");
    let file = std::fs::File::create(&path).expect("create");
    file.set_len(pinset::input::MAX_INPUT_BYTES + 1).expect("sparse file");
    let err = pinset::input::read_limited(path.to_str().expect("utf-8")).expect_err("too big").to_string();
    assert!(err.contains("big.pem") && err.contains("is 17 MiB") && err.contains("16 MiB"), "{err}");
    std::fs::File::create(&path).expect("create").set_len(pinset::input::MAX_INPUT_BYTES).expect("at the limit");
    let read = pinset::input::read_limited(path.to_str().expect("utf-8")).expect("a file at the limit is read");
    assert_eq!(read.len() as u64, pinset::input::MAX_INPUT_BYTES);
}

#[test]
fn a_missing_file_is_an_io_error_naming_it() {
    let err = pinset::input::read_limited("/nonexistent/cert.pem").expect_err("missing");
    assert!(matches!(err, pinset::Error::Io { .. }), "{err}");
    assert!(err.to_string().contains("/nonexistent/cert.pem"), "{err}");
}
