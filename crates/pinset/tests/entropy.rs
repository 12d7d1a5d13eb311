//! The random generator behind every key, serial and handshake: aws-lc must be built to
//! seed it from the operating system (and the CPU's RDRAND), not from CPU-jitter
//! collection, which costs ~60 ms at the first random byte of every process. The build
//! setting is in the repository's `.cargo/config.toml`; the decision and its figures are in
//! `docs/architecture.md`, "Decisions".

#[test]
fn aws_lc_seeds_from_the_operating_system_not_from_cpu_jitter() {
    // aws-lc answers which entropy source its generator is seeded from; drawing a key
    // first makes sure the generator is the one in use, not a default.
    let rng = aws_lc_rs::rand::SystemRandom::new();
    aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(&aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
        .expect("a P-256 key");
    assert_eq!(
        aws_lc_rs::try_fips_cpu_jitter_entropy(),
        Err("FIPS CPU Jitter Entropy not enabled!"),
        "aws-lc was built with CPU-jitter entropy: build from inside the repository, whose \
         .cargo/config.toml turns it off (see docs/architecture.md, \"Decisions\")"
    );
}
