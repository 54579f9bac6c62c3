//! Arbitrary bytes into the scenario parser and runner: raw bytes must never make them panic, and
//! every scenario the kit generates from the same bytes must read back as itself and replay step for
//! step (or, for a world no file can state, be refused as the loader refuses it). Runs under a heap
//! cap per input. An input whose first byte is `bitsim::testing::SANDBOX_MARK` generates a sandboxed
//! run (file invariants checked by the harness; the replay states `"sandbox": true` and runs in a
//! fresh temporary folder); a raw scenario naming a sandbox folder runs in a fresh one instead.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "memory_cap.rs"]
mod memory_cap;

#[global_allocator]
static ALLOC: memory_cap::Counting = memory_cap::Counting;

fuzz_target!(|data: &[u8]| {
    memory_cap::capped(|| {
        bitsim::testing::fuzz_scenario(data, &bitsim::testing::run_scenario)
    });
});
