//! The scenario suite through the library: every fixture passes, every malformed file is refused with
//! a message naming the file and the place, wrong expectations fail at the right step with the right
//! values, and the loader survives damaged input.

use bitsim::scenario::{graph, run, run_paths, RunOptions, Scenario, ScenarioResult};
use std::path::Path;

mod common;
use common::{json_files, root};

fn run_text(text: &str) -> ScenarioResult {
    let sc = Scenario::parse(text, "inline.json").unwrap_or_else(|e| panic!("invalid: {e}"));
    run(&sc, "inline.json", &RunOptions::default())
}

#[test]
fn every_fixture_scenario_passes() {
    let batch = run_paths(&[root().join("fixtures/scenarios")], &RunOptions::default());
    assert!(
        batch.invalid.is_empty(),
        "invalid fixtures:\n{}",
        batch.errors()
    );
    let failures: Vec<String> = batch
        .results
        .iter()
        .filter(|r| !r.passed)
        .map(|r| format!("{} ({}): {:#?}", r.name, r.file, r.failure))
        .collect();
    assert!(
        failures.is_empty(),
        "failing fixtures:\n{}",
        failures.join("\n")
    );
    assert!(
        batch.results.len() >= 40,
        "only {} fixtures",
        batch.results.len()
    );
    assert_eq!(batch.exit_code(), 0);
    // Every fixture says what it proves and cites a row or decision of the spec.
    for r in &batch.results {
        let sc = Scenario::load(Path::new(&r.file)).unwrap();
        let cites = sc
            .description
            .chars()
            .zip(sc.description.chars().skip(1))
            .any(|(a, b)| matches!(a, 'T' | 'D' | '§') && b.is_ascii_digit())
            || sc.description.contains("Scenario contract");
        assert!(cites, "{} cites no spec row or decision", r.file);
        assert_eq!(r.steps_run, sc.steps.len(), "{}", r.file);
    }
}

#[test]
fn fixture_names_match_file_names_and_are_unique() {
    for f in json_files(&root().join("fixtures/scenarios")) {
        let sc = Scenario::load(&f).unwrap();
        assert_eq!(
            Some(sc.name.as_str()),
            f.file_stem().and_then(|s| s.to_str()),
            "{}",
            f.display()
        );
    }
}

/// Each malformed file with the place (pointer, or line:column for syntax errors) and a fragment of
/// what the message must say.
const MALFORMED: &[(&str, &str, &str)] = &[
    (
        "alias-bound-twice.json",
        ":5:48: /steps/1/bind",
        "job alias \"j\" is already bound",
    ),
    (
        "app-never-connected.json",
        "/steps/0/app",
        "application \"ghost\" has not connected",
    ),
    (
        "bad-hex-hresult.json",
        "/steps/1/expect",
        "invalid hex HRESULT \"0x8020000G\"",
    ),
    (
        "com-servers-bad-clsid.json",
        "/world/com_servers/not-a-guid",
        "\"not-a-guid\" is not a CLSID",
    ),
    (
        "com-servers-missing-app.json",
        "/world/com_servers/{6e1ad6d4-0c3a-4b4e-9a55-2f1d3c4b5a69}",
        "missing required field \"app\"",
    ),
    ("do-and-check.json", "/steps/0:", "exactly one of \"do\""),
    ("duplicate-key.json", "/name", "duplicate field \"name\""),
    (
        "empty-file.json",
        ":1:1:",
        "not valid JSON: EOF while parsing",
    ),
    (
        "error-none-false.json",
        "/steps/1/none",
        "\"none\" can only be true",
    ),
    (
        "expect-on-advance.json",
        "/steps/0/expect",
        "\"expect\" does not apply to do \"advance\"",
    ),
    (
        "exponent-bandwidth.json",
        "/world/bandwidth",
        "without fraction or exponent, found 1e6",
    ),
    (
        "float-seconds.json",
        "/steps/0/seconds",
        "without fraction or exponent, found 1.5",
    ),
    (
        "http-status-out-of-range.json",
        "/otherwise/http",
        "700 is not an HTTP status code",
    ),
    (
        "jobs-count-differs-from-names.json",
        ":7:45: /steps/2/names",
        "\"names\" lists 2 display names but \"count\" is 1: this check can never pass",
    ),
    (
        "jobs-expect-success-not-s-ok.json",
        ":5:46: /steps/0/expect",
        "EnumJobs succeeds only with S_OK, not S_FALSE",
    ),
    (
        "jobs-names-unsorted.json",
        "/steps/0/names",
        "names must be sorted",
    ),
    (
        "launches-modification-event.json",
        "/steps/1/are/0/event",
        "unknown launch event \"JOB_MODIFICATION\"",
    ),
    (
        "launches-unknown-field.json",
        "/steps/1/are/0/exitcode",
        "unknown field \"exitcode\" in a launch",
    ),
    (
        "missing-job-field.json",
        "/steps/1:",
        "missing required field \"job\"",
    ),
    (
        "missing-name.json",
        "(top level)",
        "missing required field \"name\"",
    ),
    (
        "missing-steps.json",
        "(top level)",
        "missing required field \"steps\"",
    ),
    (
        "name-not-a-string.json",
        "/name",
        "expected a string, found the number 5",
    ),
    (
        "negative-seconds.json",
        "/steps/0/seconds",
        "found the negative number -5",
    ),
    (
        "neither-do-nor-check.json",
        "/steps/0:",
        "a step needs \"do\"",
    ),
    (
        "nested-too-deep.json",
        ":5:171: /steps/0/note/0/",
        "nested deeper than 128 levels",
    ),
    ("not-utf8.json", "not-utf8.json:", "cannot read the file"),
    (
        "notifications-file-on-job-event.json",
        "/steps/1/are/0/file",
        "\"file\" is only for FILE_TRANSFERRED",
    ),
    (
        "notifications-file-ranges-without-ranges.json",
        "/steps/1/are/0",
        "missing required field \"ranges\"",
    ),
    (
        "notifications-file-transferred-without-file.json",
        "/steps/1/are/0",
        "missing required field \"file\"",
    ),
    (
        "number-beyond-u64.json",
        "~1a.bin/size",
        "18446744073709551616 is too large",
    ),
    (
        "priority-wrong-type.json",
        "/steps/1/value",
        "expected a priority",
    ),
    (
        "programs-negative-exit-code.json",
        "/world/programs/C:\\bin\\a.exe/exit_code",
        "negative number",
    ),
    (
        "programs-unknown-action.json",
        "/world/programs/C:\\bin\\a.exe/then",
        "unknown program action \"restart\"",
    ),
    (
        "progress-transferred-over-total.json",
        ":6:79: /steps/1/files_transferred",
        "files_transferred 2 exceeds files_total 1",
    ),
    (
        "property-never-stored.json",
        ":7:81: /steps/2/is",
        "SetMinimumRetryDelay stores 5 for anything smaller (D14)",
    ),
    (
        "register-callback-implements-four.json",
        "/steps/1/implements",
        "implements must be 1, 2 or 3",
    ),
    (
        "register-callback-implements-string.json",
        "/steps/1/implements",
        "expected an interface level 1, 2 or 3 (an integer)",
    ),
    (
        "register-callback-implements-zero.json",
        "/steps/1/implements",
        "implements must be 1, 2 or 3",
    ),
    (
        "response-with-two-faults.json",
        "/responses/1",
        "this one has http and win32",
    ),
    (
        "size-is-bg-size-unknown.json",
        "~1a.bin/size",
        "18446744073709551615 is BG_SIZE_UNKNOWN, not a size",
    ),
    (
        "steps-not-an-array.json",
        "/steps",
        "expected the steps (a JSON array), found an object",
    ),
    (
        "time-before-advances.json",
        ":7:35: /steps/2/seconds",
        "reads at least 10 s here, never 5 (D13)",
    ),
    (
        "top-level-array.json",
        "(top level)",
        "expected a scenario (a JSON object), found an array",
    ),
    ("trailing-comma.json", ":1:71:", "not valid JSON"),
    (
        "truncated.json",
        ":5:25:",
        "not valid JSON: EOF while parsing a string",
    ),
    (
        "unknown-check.json",
        "/steps/0/check",
        "unknown check \"speed\"",
    ),
    (
        "unknown-context-name.json",
        "/steps/1/context",
        "unknown error context \"REMOTE\"",
    ),
    (
        "unknown-error-alias.json",
        "/steps/0/error",
        "unknown error alias \"e1\"",
    ),
    (
        "unknown-event-name.json",
        "/steps/1/are/0/event",
        "unknown notification event \"JOB_DONE\"",
    ),
    (
        "unknown-hresult-name.json",
        "/steps/1/expect",
        "unknown HRESULT \"BG_E_NOPE\"",
    ),
    (
        "unknown-job-alias.json",
        ":7:31: /steps/3/job",
        "unknown job alias \"j2\"; aliases bound so far: \"j1\"",
    ),
    (
        "unknown-network-state.json",
        "/world/network",
        "unknown network state \"sideways\"",
    ),
    (
        "unknown-operation.json",
        "/steps/0/do",
        "unknown operation \"pause\"",
    ),
    (
        "unknown-property.json",
        "/steps/1/property",
        "unknown property \"speed\"",
    ),
    (
        "unknown-remote-field.json",
        "/world/remotes/https:~1~1example.test~1a.bin/delay",
        "unknown field \"delay\" in a remote",
    ),
    (
        "unknown-state-name.json",
        "/steps/1/is",
        "unknown job state \"DONE\"",
    ),
    (
        "unknown-step-field.json",
        "/steps/1/jobs",
        "unknown field \"jobs\" in a \"resume\" step",
    ),
    (
        "unknown-top-level-field.json",
        "/author",
        "unknown field \"author\" in a scenario",
    ),
    (
        "unknown-user-field.json",
        "/world/users/alice/root",
        "unknown field \"root\" in a user",
    ),
    (
        "unknown-user.json",
        "/steps/0/user",
        "unknown user \"mallory\"",
    ),
    (
        "unknown-world-field.json",
        "/world/latency",
        "unknown field \"latency\" in the world",
    ),
];

#[test]
fn every_malformed_file_is_refused_with_file_and_place() {
    let dir = root().join("fixtures/malformed");
    let files = json_files(&dir);
    let listed: Vec<&str> = MALFORMED.iter().map(|m| m.0).collect();
    let on_disk: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        on_disk, listed,
        "the table must list every malformed file, sorted"
    );
    assert!(files.len() >= 20);
    for (name, place, fragment) in MALFORMED {
        let path = dir.join(name);
        let err = Scenario::load(&path).expect_err(name);
        let msg = err.to_string();
        assert!(msg.starts_with(&path.display().to_string()), "{msg}");
        assert!(
            msg.contains(place),
            "{name}: expected place {place:?} in\n{msg}"
        );
        assert!(
            msg.contains(fragment),
            "{name}: expected {fragment:?} in\n{msg}"
        );
        if *name != "not-utf8.json" {
            assert!(err.line.is_some() && err.column.is_some(), "{msg}");
        }
    }
    // The whole folder: no scenario runs, exit status 2.
    let batch = run_paths(&[dir], &RunOptions::default());
    assert!(batch.results.is_empty());
    assert_eq!(batch.invalid.len(), MALFORMED.len());
    assert_eq!(batch.exit_code(), 2);
}

const PARTIAL: &str = r#"{
  "name": "partial-without-expect",
  "description": "D7: Complete of a download with an untransferred file returns BG_S_PARTIAL_COMPLETE.",
  "world": { "remotes": { "https://x.test/a": { "size": 10 } } },
  "steps": [
    { "do": "create_job", "name": "p", "bind": "j" },
    { "do": "add_file", "job": "j", "remote": "https://x.test/a", "local": "C:\\a" },
    { "do": "complete", "job": "j" },
    { "check": "state", "job": "j", "is": "ACKNOWLEDGED" }
  ]
}"#;

#[test]
fn partial_complete_fails_the_default_s_ok_expectation() {
    let r = run_text(PARTIAL);
    assert!(!r.passed);
    assert_eq!(r.steps_run, 3);
    let f = r.failure.unwrap();
    assert_eq!(f.step, 2);
    assert_eq!(f.expected, "S_OK");
    assert_eq!(f.actual, "BG_S_PARTIAL_COMPLETE");
    assert!(
        f.message
            .contains("Complete returned BG_S_PARTIAL_COMPLETE"),
        "{}",
        f.message
    );
    let fixed = PARTIAL.replace(
        r#"{ "do": "complete", "job": "j" }"#,
        r#"{ "do": "complete", "job": "j", "expect": "BG_S_PARTIAL_COMPLETE" }"#,
    );
    assert!(run_text(&fixed).passed);
}

#[test]
fn wrong_state_expectation_names_step_expected_and_actual() {
    let text =
        std::fs::read_to_string(root().join("fixtures/scenarios/http-404-is-fatal.json")).unwrap();
    let wrong = text.replacen(r#""is": "ERROR""#, r#""is": "TRANSIENT_ERROR""#, 1);
    assert_ne!(text, wrong);
    let r = run_text(&wrong);
    let f = r.failure.expect("must fail");
    assert_eq!(f.step, 4);
    assert_eq!(
        (f.expected.as_str(), f.actual.as_str()),
        ("TRANSIENT_ERROR", "ERROR")
    );
    assert_eq!(r.steps_run, 5, "a failing check stops the scenario");
}

#[test]
fn wrong_error_code_and_time_fail() {
    let text =
        std::fs::read_to_string(root().join("fixtures/scenarios/http-404-is-fatal.json")).unwrap();
    let wrong = text.replace("0x80190194", "BG_E_HTTP_ERROR_403");
    let f = run_text(&wrong).failure.expect("must fail");
    assert_eq!(f.step, 5);
    assert_eq!(
        f.expected,
        "context REMOTE_FILE, code BG_E_HTTP_ERROR_403, file 0"
    );
    assert_eq!(
        f.actual,
        "context REMOTE_FILE, code BG_E_HTTP_ERROR_404, file 0"
    );

    // The check reads whole seconds elapsed: 0.010 s is 0 s, not 1 s.
    let r = run_text(
        r#"{ "name": "t", "description": "D13", "world": { "remotes": { "https://x.test/a": { "size": 10000 } } },
             "steps": [ { "do": "create_job", "name": "p", "bind": "j" },
                        { "do": "add_file", "job": "j", "remote": "https://x.test/a", "local": "C:\\a" },
                        { "do": "resume", "job": "j" },
                        { "do": "run_until_idle" },
                        { "check": "time", "seconds": 0 },
                        { "check": "time", "seconds": 1 } ] }"#,
    );
    let f = r.failure.expect("must fail");
    assert_eq!(
        (f.step, f.expected.as_str(), f.actual.as_str()),
        (5, "1s", "0.010s")
    );
}

#[test]
fn denied_handle_and_unbound_alias_are_step_failures() {
    let r = run_text(
        r#"{ "name": "t", "description": "D9", "world": { "users": { "alice": {}, "bob": {} } },
             "steps": [ { "do": "create_job", "name": "p", "bind": "j" },
                        { "do": "connect", "app": "b", "user": "bob" },
                        { "check": "state", "app": "b", "job": "j", "is": "SUSPENDED" } ] }"#,
    );
    let f = r.failure.expect("must fail");
    assert_eq!((f.step, f.actual.as_str()), (2, "E_ACCESSDENIED"));
    assert!(
        f.message.contains("GetJob returned E_ACCESSDENIED"),
        "{}",
        f.message
    );

    let r = run_text(
        r#"{ "name": "t", "description": "D14",
             "steps": [ { "do": "create_job", "name": "", "bind": "ok" },
                        { "do": "set", "job": "ok", "property": "priority", "value": 9, "expect": "E_NOTIMPL" },
                        { "do": "get_job", "job": "ok", "bind": "twin" },
                        { "do": "cancel", "job": "twin" },
                        { "do": "get_job", "job": "ok", "bind": "gone", "expect": "BG_E_NOT_FOUND" },
                        { "do": "resume", "job": "gone" } ] }"#,
    );
    let f = r.failure.expect("must fail");
    assert_eq!(f.step, 5);
    assert!(f.message.contains("names no job"), "{}", f.message);
}

#[test]
fn notifications_mismatch_lists_both_sides() {
    let text =
        std::fs::read_to_string(root().join("fixtures/scenarios/callback-job-transferred.json"))
            .unwrap();
    let wrong = text.replacen(r#""JOB_TRANSFERRED""#, r#""JOB_ERROR""#, 1);
    let f = run_text(&wrong).failure.expect("must fail");
    assert_eq!(f.expected, "[JOB_ERROR j]");
    assert_eq!(f.actual, "[JOB_TRANSFERRED j]");
}

#[test]
fn fixtures_round_trip_through_to_json() {
    for f in json_files(&root().join("fixtures/scenarios")) {
        let sc = Scenario::load(&f).unwrap();
        let again = Scenario::parse(&sc.to_json(), "again.json").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sc, again, "{}", f.display());
    }
}

#[test]
fn users_keep_file_order() {
    let sc = Scenario::parse(
        r#"{ "name": "o", "description": "d", "world": { "users": { "zed": {}, "amy": { "admin": true } } }, "steps": [
             { "check": "jobs", "all_users": true, "expect": "E_ACCESSDENIED" } ] }"#,
        "o.json",
    )
    .unwrap();
    let names: Vec<&str> = sc.world.users.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["zed", "amy"]);
    // The implicit application runs as the FIRST user (zed, not an administrator).
    assert!(run(&sc, "o.json", &RunOptions::default()).passed);
}

#[test]
fn empty_steps_is_a_valid_scenario() {
    let r = run_text(r#"{ "name": "e", "description": "nothing", "steps": [] }"#);
    assert!(r.passed);
    assert_eq!(r.steps_run, 0);
}

/// Traces carry virtual times and spec rows. (Determinism, D13, has one test for the whole crate:
/// tests/engine.rs, `d13_same_inputs_and_seed_give_the_same_trace_byte_for_byte`.)
#[test]
fn traces_are_timed_and_cite_their_rows() {
    let f = root().join("fixtures/scenarios/http-500-transient-retry-succeeds.json");
    let opts = RunOptions { trace: true };
    let a = run_paths(&[f], &opts).trace_listing();
    assert!(a.contains("t=0s j SUSPENDED -> QUEUED (T2)"), "{a}");
    assert!(
        a.contains("t=600s j TRANSIENT_ERROR -> QUEUED (T11)"),
        "{a}"
    );
}

#[test]
fn committed_state_machine_doc_matches_the_generator() {
    let committed = std::fs::read_to_string(root().join("docs/state-machine.md")).unwrap();
    assert_eq!(
        committed,
        graph::mermaid_markdown(),
        "regenerate with `bitsim graph --mermaid > docs/state-machine.md`"
    );
}

#[test]
fn readme_state_machine_matches_the_generator() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let block = format!("```mermaid\n{}```", graph::mermaid());
    assert!(
        readme.contains(&block),
        "update the Mermaid block in README.md from `bitsim graph --mermaid`"
    );
}

/// D60, D81: the `notified` line of a FileTransferred names the file; the second file's call waits
/// until the first one's is done.
#[test]
fn d81_file_transferred_trace_lines_name_the_file_in_order() {
    let f = root().join("fixtures/scenarios/file-transferred-d81-serialised-per-job.json");
    let opts = RunOptions { trace: true };
    let a = run_paths(&[f], &opts).trace_listing();
    let first = a
        .find("t=6s app notified FILE_TRANSFERRED of file 0 for j -> E_FAIL (D60)")
        .unwrap_or_else(|| panic!("{a}"));
    let second = a
        .find("t=11s app notified FILE_TRANSFERRED of file 1 for j -> S_OK (D60)")
        .unwrap_or_else(|| panic!("{a}"));
    assert!(first < second, "{a}");
    assert!(
        !a.contains("notified FILE_TRANSFERRED of file 1 for j -> E_FAIL"),
        "{a}"
    );
}
