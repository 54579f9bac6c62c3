//! Arbitrary bytes into the scenario parser and runner: raw bytes must never make them panic, and
//! every scenario the kit generates from the same bytes must read back as itself and replay step for
//! step.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    bitsim::testing::fuzz_scenario(data, &bitsim::testing::run_scenario);
});
