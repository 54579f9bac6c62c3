//! The fuzz targets' bodies over the committed seed corpus, on stable Rust: every input the fuzzer
//! kept (`fuzz/corpus/<target>/*`) runs again here, invariants checked after every step, so a
//! regression shows up in `cargo test` without nightly or libFuzzer.

use bitsim::testing::{decode_run, fuzz_ops, fuzz_scenario, validate_scenario, ScenarioVerdict};
use std::path::Path;

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).expect("readable"))
        })
        .collect()
}

#[test]
fn ops_target_holds_on_the_committed_corpus() {
    let inputs = corpus("ops");
    assert!(
        inputs.len() >= 10,
        "the ops corpus has {} inputs",
        inputs.len()
    );
    let mut steps = 0;
    for (name, data) in &inputs {
        let (_, ops) = decode_run(data);
        steps += ops.len();
        if let Err(panic) = std::panic::catch_unwind(|| fuzz_ops(data)) {
            let msg = panic.downcast_ref::<String>().cloned().unwrap_or_default();
            panic!("corpus input {name}: {msg}");
        }
    }
    assert!(
        steps > inputs.len() * 5,
        "the corpus decodes to too few operations"
    );
}

/// Until the scenario runner is wired in (fuzz/fuzz_targets/scenario.rs), the scenario target's
/// kit side: the scenario generated from every corpus input uses only the contract's vocabulary.
#[test]
fn scenario_target_kit_side_holds_on_the_committed_corpus() {
    let check = |text: &str| match serde_json::from_str::<serde_json::Value>(text) {
        Err(e) => ScenarioVerdict::Invalid(e.to_string()),
        Ok(v) => match validate_scenario(&v) {
            Ok(()) => ScenarioVerdict::Passed,
            Err(e) => ScenarioVerdict::Invalid(e),
        },
    };
    for target in ["ops", "scenario"] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/corpus")
            .join(target);
        if !dir.exists() {
            continue;
        }
        for (name, data) in corpus(target) {
            let r = std::panic::catch_unwind(|| fuzz_scenario(&data, &check));
            assert!(r.is_ok(), "{target} corpus input {name}");
        }
    }
}
