//! Arbitrary bytes into the scenario parser and runner: raw bytes must never make them panic, and
//! every scenario the kit generates from the same bytes must be valid and replay step for step.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    bitsim::testing::fuzz_scenario(data, &bitsim::testing::run_scenario);
});
