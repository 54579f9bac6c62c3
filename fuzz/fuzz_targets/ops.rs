//! Arbitrary bytes -> a setup and a sequence of scenario steps (`bitsim::testing::decode_run`), run by
//! the harness with every invariant checked after every step, under the step and size bounds of
//! `bitsim::testing::FuzzLimits::FUZZ` and a heap cap per input. A broken invariant or an exceeded
//! bound panics with what went wrong (and a replay scenario for a broken invariant). An input whose
//! first byte is `bitsim::testing::SANDBOX_MARK` runs sandboxed: files are materialised in a fresh
//! temporary folder and the file invariants (D40, D41, D63) are checked after every step too.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "memory_cap.rs"]
mod memory_cap;

#[global_allocator]
static ALLOC: memory_cap::Counting = memory_cap::Counting;

fuzz_target!(|data: &[u8]| {
    memory_cap::capped(|| bitsim::testing::fuzz_ops(data));
});
