//! A federation envelope as the inbox and the catch-up route read it: parse, check its
//! time, verify its signature with a pinned key.
#![no_main]

use comity_node::federation::envelope::Signed;
use comity_node::identity::PublicKey;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(signed) = Signed::parse(data) else {
        return;
    };
    let _ = signed.check_time(time::OffsetDateTime::now_utc());
    // The public half of the seed [7; 32]: the fuzzer signs nothing, so nothing verifies.
    let key: PublicKey = "ed25519:6kpsY+KcUgq+9VB7Ey7F+ZVHdq6+vnuSQh7qaRRG0iw="
        .parse()
        .expect("a valid key");
    assert!(
        signed.verify(&key).is_err(),
        "no input verifies without the private key"
    );
    let _ = Signed::parse(signed.to_json().as_bytes()).expect("what it writes it reads");
});
