//! Arbitrary bytes into the scenario parser and runner: raw bytes must never make it panic, and every
//! scenario the kit generates from the same bytes must replay and pass.
#![no_main]

use bitsim::testing::{fuzz_scenario, validate_scenario, ScenarioVerdict};
use libfuzzer_sys::fuzz_target;

/// TODO(lead): once `bitsim::scenario` is merged, replace this stand-in with the runner, e.g.
/// `|text| match bitsim::scenario::run_str(text) { Ok(r) if r.passed() => Passed, Ok(r) =>
/// Failed(r.to_string()), Err(e) => Invalid(e.to_string()) }`. Until then the target checks the
/// kit's side of the contract: raw bytes are only parsed as JSON, and generated scenarios must use the
/// contract's vocabulary.
fn run(text: &str) -> ScenarioVerdict {
    match serde_json::from_str::<serde_json::Value>(text) {
        Err(e) => ScenarioVerdict::Invalid(e.to_string()),
        Ok(v) => match validate_scenario(&v) {
            Ok(()) => ScenarioVerdict::Passed,
            Err(e) => ScenarioVerdict::Invalid(e),
        },
    }
}

fuzz_target!(|data: &[u8]| {
    // Raw inputs may get any verdict (never a panic); generated scenarios must pass.
    fuzz_scenario(data, &run);
});
