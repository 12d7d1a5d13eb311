//! Arbitrary text as a site plan (`pinset.toml`), as every command that opens a site reads
//! it. Any panic is a bug: a bad plan must be an error naming the file. A plan that reads
//! must also write back to text that reads as the same plan: what pinset saves after a
//! change is what the next command reads.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use pinset::plan::SitePlan;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let path = Path::new("fuzz/pinset.toml");
    if let Ok(plan) = SitePlan::parse(path, text) {
        let written = plan.to_toml().expect("a plan that reads can be written");
        let again = SitePlan::parse(path, &written).expect("a written plan reads back");
        assert_eq!(again, plan, "the plan changed on its way through the file:\n{written}");
    }
});
