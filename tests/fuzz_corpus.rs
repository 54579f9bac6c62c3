//! The fuzz targets' bodies over the committed seed corpus, on stable Rust: every input the fuzzer
//! kept (`fuzz/corpus/<target>/*`) runs again here, invariants checked after every step, so a
//! regression shows up in `cargo test` without nightly or libFuzzer.

mod common;
use bitsim::testing::{decode_run, fuzz_ops, fuzz_scenario, run_scenario};
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

/// The inputs of the `ops` corpus whose first byte is `mark` (a mode of the decoder).
fn marked(mark: u8) -> Vec<(String, Vec<u8>)> {
    corpus("ops")
        .into_iter()
        .filter(|(_, data)| data.first() == Some(&mark))
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

/// The scenario target: raw corpus bytes never make the scenario parser or runner panic, and the
/// scenario generated from each input replays in the runner.
#[test]
fn scenario_target_holds_on_the_committed_corpus() {
    for target in ["ops", "scenario"] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/corpus")
            .join(target);
        if !dir.exists() {
            continue;
        }
        for (name, data) in corpus(target) {
            if let Err(panic) = std::panic::catch_unwind(|| fuzz_scenario(&data, &run_scenario)) {
                let msg = panic.downcast_ref::<String>().cloned().unwrap_or_default();
                panic!("{target} corpus input {name}: {msg}");
            }
        }
    }
}

/// The committed corpus still exercises the vocabulary: the replays of its `ops` inputs use every
/// operation and check the kit generates, so a change of the input encoding that left the corpus
/// decoding to trivial runs would show here.
#[test]
fn the_ops_corpus_reaches_every_generated_step_kind() {
    use bitsim::scenario::Action;
    use std::collections::BTreeSet;
    let mut kinds = BTreeSet::new();
    for (_, data) in corpus("ops") {
        let (setup, draws) = decode_run(&data);
        let steps = bitsim::testing::replay(&setup, &draws).map(|s| s.steps);
        for step in steps.unwrap_or_default() {
            kinds.insert(match &step.action {
                Action::Do(op) => format!("do {}", op.name()),
                Action::Check(c) => format!("check {}", c.name()),
            });
        }
    }
    let want = [
        "do create_job",
        "do get_job",
        "do add_file",
        "do add_file_set",
        "do resume",
        "do suspend",
        "do cancel",
        "do complete",
        "do set",
        "do take_ownership",
        "do get_error",
        "do register_callback",
        "do advance",
        "do run_until_idle",
        "do network",
        "do logon",
        "do logoff",
        "do connect",
        "do exit",
        "do set_remote",
        "do restart_service",
        "check state",
        "check progress",
        "check jobs",
        "check notifications",
        "do enum_jobs",
        "do enum_files",
        "do enum_next",
        "do enum_skip",
        "do enum_reset",
        "do enum_clone",
        "check enum_count",
    ];
    let missing: Vec<&str> = want
        .iter()
        .copied()
        .filter(|k| !kinds.contains(*k))
        .collect();
    assert!(
        missing.is_empty(),
        "the corpus never reaches {missing:?} (reached {kinds:?})"
    );
}

/// Inputs that start with `FILES_MARK` draw the file calls (draw tag `FILE_CALL_TAG`): the corpus
/// holds some that reach each of them, and every other input decodes as before (none starts with
/// the mark).
#[test]
fn the_files_mark_reaches_every_file_call() {
    use bitsim::scenario::Action;
    use bitsim::testing::FILES_MARK;
    use std::collections::BTreeSet;
    let mut kinds = BTreeSet::new();
    let mut inputs = 0;
    for (_, data) in marked(FILES_MARK) {
        inputs += 1;
        let (setup, draws) = decode_run(&data);
        for step in bitsim::testing::replay(&setup, &draws)
            .map(|s| s.steps)
            .unwrap_or_default()
        {
            if let Action::Do(op) = &step.action {
                kinds.insert(op.name().to_string());
            }
        }
    }
    assert!(inputs >= 4, "{inputs} marked inputs");
    for k in [
        "add_file_with_ranges",
        "request_file_ranges",
        "update_download_position",
        "set_file",
    ] {
        assert!(kinds.contains(k), "no marked input reaches {k} ({kinds:?})");
    }
}

/// Inputs that start with `ENUMS_MARK` draw the held enumerators of D46 (draw tags `ENUM_TAG` and
/// up): the corpus holds some that reach every enumerator step, each with every outcome the spec gives
/// it — S_OK, S_FALSE for a short Next or Skip, E_ACCESSDENIED for EnumJobs of all users without
/// administrator rights (§2.1), RPC_E_DISCONNECTED once the enumerator's application exited or the
/// service restarted — and every other input decodes as before (none starts with the mark).
#[test]
fn the_enums_mark_reaches_every_enum_step() {
    use bitsim::testing::ENUMS_MARK;
    use std::collections::BTreeSet;
    let mut kinds = BTreeSet::new();
    let mut inputs = 0;
    for (_, data) in marked(ENUMS_MARK) {
        inputs += 1;
        let (setup, draws) = decode_run(&data);
        let steps = bitsim::testing::replay(&setup, &draws)
            .map(|s| s.steps)
            .unwrap_or_default();
        kinds.extend(common::enum_kinds(&steps));
    }
    assert!(inputs >= 5, "{inputs} marked inputs");
    let want = common::enum_outcomes_wanted();
    let missing: Vec<&String> = want.iter().filter(|k| !kinds.contains(*k)).collect();
    assert!(
        missing.is_empty(),
        "no marked input reaches {missing:?} ({kinds:?})"
    );
}

/// The bounds of the fuzz targets (`FuzzLimits::FUZZ`) fail runaways, not ordinary inputs: every
/// input of both corpora, run as the targets run it, stays under half of each bound. Prints what the
/// corpus reaches (`cargo test --release --test fuzz_corpus -- --nocapture`).
#[test]
fn the_fuzz_bounds_leave_room_over_the_corpus() {
    use bitsim::testing::{FuzzLimits, Harness};
    let mut most = FuzzLimits {
        max_events_per_step: 0,
        max_events: 0,
        max_trace: 0,
        max_jobs: 0,
    };
    for target in ["ops", "scenario"] {
        for (_, data) in corpus(target) {
            let (setup, draws) = decode_run(&data);
            if setup.check_run(&draws).is_err() {
                continue;
            }
            let mut h = Harness::unchecked(&setup);
            let mut last = FuzzLimits::used(&h).max_events;
            for d in &draws {
                let _ = h.step(d);
                let used = FuzzLimits::used(&h);
                most.max_events_per_step = most.max_events_per_step.max(used.max_events - last);
                last = used.max_events;
            }
            let used = FuzzLimits::used(&h);
            most.max_events = most.max_events.max(used.max_events);
            most.max_trace = most.max_trace.max(used.max_trace);
            most.max_jobs = most.max_jobs.max(used.max_jobs);
        }
    }
    println!(
        "the corpus reaches {most:?}; the bounds are {:?}",
        FuzzLimits::FUZZ
    );
    let b = FuzzLimits::FUZZ;
    assert!(
        most.max_events_per_step * 2 <= b.max_events_per_step,
        "{most:?}"
    );
    assert!(most.max_events * 2 <= b.max_events, "{most:?}");
    assert!(most.max_trace * 2 <= b.max_trace, "{most:?}");
    assert!(most.max_jobs * 2 <= b.max_jobs, "{most:?}");
}

/// The sandboxed inputs of the ops corpus (first byte `SANDBOX_MARK`) run with a fresh sandbox folder,
/// pass the file invariants after every step, leave no folder behind, and between them reach every
/// file event the file checker rules on: a temporary file created, truncated (a changed remote, D38),
/// renamed by Complete and deleted by Cancel (D40), HIGH_PERFORMANCE writes (D63), a service restart
/// (the sandbox is kept, D40) and files crossing the 64 KiB write chunk.
#[test]
fn the_sandboxed_corpus_inputs_reach_every_file_rule() {
    use bitsim::scenario::SandboxSpec;
    use bitsim::testing::{Harness, SANDBOX_MARK};
    let mut lines = Vec::new();
    let mut inputs = 0;
    let mut high_performance = false;
    for (name, data) in marked(SANDBOX_MARK) {
        inputs += 1;
        let (setup, draws) = decode_run(&data);
        assert_eq!(setup.world.sandbox, Some(SandboxSpec::Fresh), "{name}");
        high_performance |= draws
            .iter()
            .any(|d| format!("{:?}", d.action).contains("HighPerformance(true)"));
        let h = Harness::run(&setup, &draws).unwrap_or_else(|c| panic!("{name}: {c}"));
        let folder = h.sandbox_folder().expect("a fresh folder").to_path_buf();
        assert!(folder.is_dir(), "{name}: {} was not made", folder.display());
        lines.extend(h.trace_lines());
        drop(h);
        assert!(
            !folder.exists(),
            "{name}: {} is left behind",
            folder.display()
        );
    }
    assert!(inputs >= 5, "only {inputs} sandboxed inputs in the corpus");
    assert!(high_performance, "no sandboxed input sets HIGH_PERFORMANCE");
    reaches_every(
        &lines,
        "sandboxed",
        &[
            "temp_file of file 0 created",
            "temp_file of file 0 truncated",
            "renamed to its local name",
            "temp_file of file 0 deleted",
            "-> ACKNOWLEDGED",
            "-> CANCELLED",
            "service restarted",
            "done (131073 bytes)",
        ],
    );
}

/// Each of `wants` appears in some trace line of the `kind` corpus inputs.
fn reaches_every(lines: &[String], kind: &str, wants: &[&str]) {
    for want in wants {
        assert!(
            lines.iter().any(|l| l.contains(want)),
            "no {kind} corpus input reaches {want:?}"
        );
    }
}

/// The inputs of the ops corpus that start with `HTTP_MARK` run in worlds with HTTP gates, and
/// between them meet every gate: a 401 answered with the kit's credentials and one with none to
/// send, a 407 from the proxy, a request through the proxy, a redirect, and a server certificate
/// refused (D27, D30, D31 and the certificate rows of scenario-format part 2).
#[test]
fn the_http_mark_reaches_every_gate() {
    use bitsim::testing::{Harness, HTTP_MARK};
    let mut lines = Vec::new();
    let mut inputs = 0;
    for (name, data) in marked(HTTP_MARK) {
        inputs += 1;
        let (setup, draws) = decode_run(&data);
        let h = Harness::run(&setup, &draws).unwrap_or_else(|c| panic!("{name}: {c}"));
        lines.extend(h.trace_lines());
    }
    assert!(inputs >= 5, "only {inputs} HTTP-gated inputs in the corpus");
    reaches_every(
        &lines,
        "HTTP-gated",
        &[
            "challenged: 401, sent SERVER",
            "challenged: 401, no credentials to send",
            "challenged: 407, sent PROXY",
            "challenged: 407, no credentials to send",
            "proxy: through proxy.test:8080",
            "redirected: ",
            "SECURE_CERT",
            " at a gate",
            "-> TRANSFERRED",
        ],
    );
}

/// The budget bounds of `FuzzLimits` (events and trace events in all) stop an ordinary run, they do
/// not fail it: the input under `fuzz/budget/` (found by the `ops` target) retries one job every 5 s
/// (D3's floor) through a proxy for 28 whole-day steps — 3.4 million trace events in all, past the
/// budget — and both targets pass it, having checked every step up to the budget.
#[test]
fn an_ordinary_run_past_the_budget_stops_and_passes() {
    use bitsim::testing::{FuzzLimits, Harness};
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/budget/retry-every-5s-through-a-proxy-for-28-days");
    let data = std::fs::read(&path).expect("the budget input");
    let (setup, draws) = decode_run(&data);
    let mut h = Harness::unchecked(&setup);
    let mut most_in_a_step = 0;
    let mut last = FuzzLimits::used(&h).max_events;
    for d in &draws {
        let _ = h.step(d);
        let used = FuzzLimits::used(&h).max_events;
        most_in_a_step = most_in_a_step.max(used - last);
        last = used;
    }
    let used = FuzzLimits::used(&h);
    let b = FuzzLimits::FUZZ;
    assert!(
        used.max_trace > b.max_trace,
        "{used:?}: not past the budget"
    );
    assert!(
        most_in_a_step <= b.max_events_per_step / 4,
        "{most_in_a_step}"
    );
    assert!(used.max_jobs <= b.max_jobs);
    drop(h);
    fuzz_ops(&data);
    fuzz_scenario(&data, &run_scenario);
}
