//! Arbitrary bytes -> a setup and a sequence of scenario steps (`bitsim::testing::decode_run`), run by
//! the harness with every invariant checked after every step. A broken invariant panics with the
//! violation and a replay scenario.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    bitsim::testing::fuzz_ops(data);
});
