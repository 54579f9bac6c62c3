//! Robustness of the scenario loader and runner: damaged fixture files and random step sequences
//! never make them panic.

use bitsim::scenario::{self, run, RunOptions, Scenario};

mod common;
use common::{json_files, root};

/// Damaged copies of every fixture (cut at many places, one byte changed): loading never panics, and a
/// copy that still loads runs without panicking.
#[test]
fn damaged_fixtures_never_panic() {
    let mut loaded = 0;
    for f in json_files(&root().join("fixtures/scenarios")) {
        let text = std::fs::read_to_string(&f).unwrap();
        let bytes = text.as_bytes();
        let step = (bytes.len() / 40).max(1);
        for cut in (0..bytes.len()).step_by(step) {
            let cut_text = String::from_utf8_lossy(&bytes[..cut]);
            if cut < text.trim_end().len() {
                assert!(Scenario::parse(&cut_text, "cut.json").is_err());
            }
            for replacement in [b'0', b'"', b'-', b'}', b'9'] {
                let mut m = bytes.to_vec();
                m[cut] = replacement;
                let m = String::from_utf8_lossy(&m);
                if let Ok(sc) = Scenario::parse(&m, "mutated.json") {
                    loaded += 1;
                    let _ = scenario::run(&sc, "mutated.json", &RunOptions::default());
                }
            }
        }
    }
    assert!(loaded > 0);
}

/// Random step sequences over a small vocabulary, run to the end: each step that fails gets its
/// `expect` set to what actually came back (a check that fails is dropped) and the scenario runs again,
/// so the sequence explores deep states. Nothing in the runner or the core may panic, and the final
/// scenario must pass.
#[test]
fn random_scenarios_never_panic() {
    use bitsim::scenario::{Action, Check, ErrorExpectation, Op};
    use bitsim::scenario::{StateMethod, Step, UserSpec, WorldSpec};
    use bitsim::{HResult, JobState, JobType};
    use bitsim::{Network, Remote, Response};
    use bitsim::{PriorityValue, PropertyValue};

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
            &v[self.below(v.len() as u64) as usize]
        }
    }

    let urls = [
        "https://x.test/a",
        "https://x.test/nolen",
        "https://x.test/busy",
        "https://nowhere.test/z",
    ];
    let responses = [
        Response::Ok,
        Response::http(503),
        Response::http(404),
        Response::win32(12030).after_bytes(700),
        Response::hresult(HResult::E_ACCESSDENIED),
    ];
    let world = WorldSpec {
        users: vec![
            UserSpec {
                name: "alice".into(),
                admin: false,
                logged_on: true,
            },
            UserSpec {
                name: "root".into(),
                admin: true,
                logged_on: true,
            },
            UserSpec {
                name: "carol".into(),
                admin: false,
                logged_on: false,
            },
        ],
        bandwidth: Some(1000),
        network: None,
        remotes: vec![
            (
                urls[0].into(),
                Remote::sized(5000).with_responses([Response::http(503)]),
            ),
            (urls[1].into(), Remote::default()),
            (
                urls[2].into(),
                Remote::sized(100).otherwise(Response::http(503)),
            ),
        ],
        locals: vec![("C:\\up\\f.bin".into(), 3000)],
        options: Default::default(),
        ..WorldSpec::default()
    };
    let jobs = ["j0", "j1", "j2"];
    let apps = ["app", "app1", "app2"];
    let users = ["alice", "root", "carol"];
    let mut rng = Rng(0x5eed);
    let mut kept = 0;
    for case in 0..150 {
        let mut steps = vec![Step {
            app: Some("app1".into()),
            action: Action::Do(Op::Connect {
                user: "root".into(),
            }),
        }];
        for _ in 0..40 {
            let job = rng.pick(&jobs).to_string();
            let app = Some(rng.pick(&apps).to_string());
            let e = HResult::S_OK;
            let action = match rng.below(22) {
                0 | 1 => Action::Do(Op::CreateJob {
                    name: format!("n{}", rng.below(3)),
                    job_type: *rng.pick(JobType::ALL),
                    bind: job,
                    expect: e,
                }),
                2 | 3 => Action::Do(Op::AddFile {
                    job,
                    remote: rng.pick(&urls).to_string(),
                    local: if rng.below(2) == 0 {
                        "C:\\up\\f.bin".into()
                    } else {
                        "C:\\dl\\g.bin".into()
                    },
                    expect: e,
                }),
                4..=6 => Action::Do(Op::State {
                    method: *rng.pick(&[
                        StateMethod::Resume,
                        StateMethod::Resume,
                        StateMethod::Suspend,
                        StateMethod::Cancel,
                        StateMethod::Complete,
                    ]),
                    job,
                    expect: e,
                }),
                7 => Action::Do(Op::Set {
                    job,
                    value: match rng.below(4) {
                        0 => PropertyValue::Priority(PriorityValue::Raw(rng.below(5) as u32)),
                        1 => PropertyValue::NotifyFlags(rng.below(16) as u32),
                        2 => PropertyValue::MinimumRetryDelay(rng.below(700) as u32),
                        _ => PropertyValue::NoProgressTimeout(rng.below(2000) as u32),
                    },
                    expect: e,
                }),
                8 => Action::Do(Op::TakeOwnership { job, expect: e }),
                9 => Action::Do(Op::GetError {
                    job,
                    bind_error: Some(format!("e{}", rng.below(2))),
                    expect: e,
                }),
                10 => Action::Do(Op::RegisterCallback {
                    job,
                    returns: if rng.below(2) == 0 {
                        HResult::S_OK
                    } else {
                        HResult::E_FAIL
                    },
                    implements: 1 + rng.below(3) as u8,
                    expect: e,
                }),
                11..=13 => Action::Do(Op::Advance {
                    seconds: rng.below(1500),
                }),
                14 => Action::Do(Op::RunUntilIdle {
                    max_seconds: Some(rng.below(5000)),
                }),
                15 => Action::Do(Op::Network {
                    state: if rng.below(2) == 0 {
                        Network::Up
                    } else {
                        Network::Down
                    },
                }),
                16 => Action::Do(Op::SetRemote {
                    url: rng.pick(&urls).to_string(),
                    remote: Box::new(
                        Remote::sized(rng.below(3000)).with_responses([*rng.pick(&responses)]),
                    ),
                }),
                17 => Action::Do(Op::RestartService),
                18 => match rng.below(4) {
                    0 => Action::Do(Op::Logoff {
                        user: rng.pick(&users).to_string(),
                    }),
                    1 => Action::Do(Op::Logon {
                        user: rng.pick(&users).to_string(),
                    }),
                    2 => Action::Do(Op::Exit),
                    _ => Action::Do(Op::Connect {
                        user: rng.pick(&users).to_string(),
                    }),
                },
                19 => Action::Check(Check::State {
                    job,
                    is: JobState::Transferred,
                }),
                20 => Action::Check(Check::Error {
                    job,
                    expect: ErrorExpectation::None,
                }),
                _ => Action::Check(Check::Notifications { are: vec![] }),
            };
            steps.push(Step { app, action });
        }
        let mut sc = Scenario {
            name: format!("random-{case}"),
            description: "fuzz".into(),
            world: world.clone(),
            steps,
        };
        // Heal failures one at a time; every round either fixes or removes a step.
        for _ in 0..200 {
            let r = run(
                &sc,
                "random.json",
                &RunOptions {
                    trace: case % 10 == 0,
                },
            );
            let Some(f) = r.failure else { break };
            let healed = match &mut sc.steps[f.step].action {
                Action::Do(op) => match HResult::parse(&f.actual) {
                    Ok(h) => match op {
                        Op::CreateJob { expect, .. }
                        | Op::GetJob { expect, .. }
                        | Op::AddFile { expect, .. }
                        | Op::State { expect, .. }
                        | Op::Set { expect, .. }
                        | Op::TakeOwnership { expect, .. }
                        | Op::GetError { expect, .. }
                        | Op::RegisterCallback { expect, .. } => {
                            *expect = h;
                            true
                        }
                        _ => false,
                    },
                    Err(_) => false,
                },
                Action::Check(_) => false,
            };
            if !healed {
                sc.steps.remove(f.step);
            }
        }
        let r = run(&sc, "random.json", &RunOptions::default());
        assert!(r.passed, "case {case} does not settle: {:?}", r.failure);
        kept += sc.steps.len();
    }
    // Healing keeps most steps (it mostly rewrites expectations rather than deleting).
    assert!(kept > 150 * 20, "only {kept} steps kept");
}

/// Text nested a million levels deep is an input error with its place, not a stack overflow (this
/// runs on a test thread's small stack).
#[test]
fn nesting_deeper_than_128_levels_is_refused_with_its_place() {
    let n = 1_000_000;
    let text = format!(
        "{{\"name\": \"n\", \"description\": \"d\", \"steps\": {}{}}}",
        "[".repeat(n),
        "]".repeat(n)
    );
    let e = Scenario::parse(&text, "deep.json").unwrap_err();
    // `steps` (level 2) opens at column 44; level 129 is 127 brackets further.
    assert_eq!((e.line, e.column), (Some(1), Some(44 + 127)));
    assert_eq!(e.pointer, Some(format!("/steps{}", "/0".repeat(127))));
    assert!(e.message.contains("deeper than 128"), "{e}");
    // 128 levels are fine (the contract needs about 8): here the steps array is level 2.
    let ok = format!(
        "{{\"name\": \"n\", \"description\": \"d\", \"steps\": [], \"world\": {{\"users\": {{\"u\": {{}}}}}}, \"x\": {}{}}}",
        "[".repeat(127),
        "]".repeat(127)
    );
    let e = Scenario::parse(&ok, "ok.json").unwrap_err();
    assert!(e.message.contains("unknown field \"x\""), "{e}");
}

/// Streaming the trace writes exactly the listing that collecting it gives.
#[test]
fn streamed_trace_equals_the_collected_listing() {
    let dir = root().join("fixtures/scenarios");
    let collected = scenario::run_paths(std::slice::from_ref(&dir), &RunOptions { trace: true });
    let mut streamed = Vec::new();
    let batch = scenario::run_paths_traced(&[dir], &mut streamed, 0);
    assert_eq!(
        String::from_utf8(streamed).unwrap(),
        collected.trace_listing()
    );
    assert_eq!(batch.summary(), collected.summary());
    assert!(batch.results.iter().all(|r| r.trace.is_empty()));
}

fn refused(steps: &str) -> String {
    let text = format!(
        r#"{{ "name": "n", "description": "d", "steps": [ {{ "do": "create_job", "name": "a", "bind": "j" }}, {steps} ] }}"#
    );
    match Scenario::parse(&text, "c.json") {
        Ok(_) => String::new(),
        Err(e) => e.to_string(),
    }
}

/// Checks that can never pass are refused at load; the nearest values that can pass are accepted.
#[test]
fn checks_that_can_never_pass_are_refused() {
    let property = |name: &str, is: &str| {
        refused(&format!(
            r#"{{ "check": "property", "job": "j", "property": "{name}", "is": {is} }}"#
        ))
    };
    assert!(property("priority", "4").contains("/steps/1/is: priority 4; SetPriority refuses"));
    assert_eq!(property("priority", "3"), "");
    assert!(property("notify_flags", "64").contains("notify flags 0x40"));
    assert_eq!(property("notify_flags", "63"), "");
    assert!(property("minimum_retry_delay", "4").contains("stores 5"));
    assert_eq!(property("minimum_retry_delay", "5"), "");
    let long = |n: usize| format!("\"{}\"", "é".repeat(n));
    assert!(property("display_name", &long(257)).contains("display name of 257 UTF-16 units"));
    assert_eq!(property("display_name", &long(256)), "");
    assert!(property("description", &long(1025)).contains("description of 1025 UTF-16 units"));
    assert_eq!(property("description", &long(1024)), "");

    let progress = |fields: &str| {
        refused(&format!(
            r#"{{ "check": "progress", "job": "j", {fields} }}"#
        ))
    };
    assert!(progress(r#""bytes_total": 10, "bytes_transferred": 11"#)
        .contains("/steps/1/bytes_transferred: bytes_transferred 11 exceeds bytes_total 10"));
    assert_eq!(
        progress(r#""bytes_total": 10, "bytes_transferred": 10"#),
        ""
    );
    assert_eq!(
        progress(r#""bytes_total": "UNKNOWN", "bytes_transferred": 11"#),
        ""
    );
    assert_eq!(progress(r#""files_total": 1, "files_transferred": 1"#), "");

    let jobs = |fields: &str| refused(&format!(r#"{{ "check": "jobs", {fields} }}"#));
    assert!(jobs(r#""count": 2, "names": ["a"]"#)
        .contains("\"names\" lists 1 display names but \"count\" is 2"));
    assert_eq!(jobs(r#""count": 1, "names": ["a"]"#), "");
    assert!(jobs(r#""count": 1, "expect": "BG_S_PARTIAL_COMPLETE""#)
        .contains("EnumJobs succeeds only with S_OK"));
    assert_eq!(jobs(r#""count": 1, "expect": "S_OK""#), "");

    let time = |steps: &str| refused(steps);
    assert!(time(r#"{ "do": "advance", "seconds": 7 }, { "do": "run_until_idle" }, { "check": "time", "seconds": 6 }"#)
        .contains("/steps/3/seconds: the steps before advance the clock by 7 s"));
    assert_eq!(
        time(r#"{ "do": "advance", "seconds": 7 }, { "check": "time", "seconds": 7 }"#),
        ""
    );
    assert_eq!(
        time(r#"{ "do": "run_until_idle" }, { "check": "time", "seconds": 9 }"#),
        ""
    );
    // Sums past what the clock can hold are not used as proof.
    assert_eq!(
        time(
            r#"{ "do": "advance", "seconds": 18446744073709551615 }, { "do": "advance", "seconds": 5 }, { "check": "time", "seconds": 0 }"#
        ),
        ""
    );
}

/// D28: `check property custom_headers` takes `expect: S_FALSE` (GetCustomHeaders' answer when no
/// headers are set), with `is` null or left out; no other job getter answers S_FALSE.
#[test]
fn d28_custom_headers_check_takes_s_false_and_only_it() {
    let check = |name: &str, rest: &str| {
        refused(&format!(
            r#"{{ "check": "property", "job": "j", "property": "{name}", "expect": "S_FALSE"{rest} }}"#
        ))
    };
    assert_eq!(check("custom_headers", ""), "");
    assert_eq!(check("custom_headers", r#", "is": null"#), "");
    assert!(check("custom_headers", r#", "is": "X-A: 1""#)
        .contains("/steps/1/is: GetCustomHeaders returns S_FALSE only with no headers (null)"));
    assert!(check("description", r#", "is": "d""#)
        .contains("/steps/1/expect: S_FALSE: of these getters only custom_headers returns"));
}

/// Inputs are read up to 16 MiB: an endless file is refused instead of filling memory.
#[cfg(unix)]
#[test]
fn endless_inputs_are_refused_at_the_size_limit() {
    let e = Scenario::load(std::path::Path::new("/dev/zero")).unwrap_err();
    assert_eq!(e.file, "/dev/zero");
    assert!(
        e.message.contains("larger than 16777216 bytes (16 MiB)"),
        "{e}"
    );
    assert_eq!(scenario::MAX_FILE_BYTES, 16 << 20);
}

/// Values echoed in messages are cut, and the message says where.
#[test]
fn long_values_in_messages_are_cut_and_say_the_limit() {
    let hex = format!("0x{}", "1".repeat(100_000));
    let text = format!(
        r#"{{ "name": "n", "description": "d", "steps": [ {{ "do": "create_job", "name": "a", "bind": "j", "expect": "{hex}" }} ] }}"#
    );
    let e = Scenario::parse(&text, "h.json").unwrap_err();
    assert!(e.message.len() < 400, "{e}");
    assert!(
        e.message.starts_with(&format!(
            "invalid hex HRESULT \"{}…\" (100002 characters, the first 80 shown)",
            &hex[..80]
        )),
        "{e}"
    );
    let name = "n".repeat(5000);
    let text = format!(r#"{{ "name": "n", "description": "d", "steps": [], "{name}": 1 }}"#);
    let e = Scenario::parse(&text, "k.json").unwrap_err();
    assert!(e.to_string().len() < 600, "{e}");
    assert!(
        e.message.contains("(5000 characters, the first 80 shown)"),
        "{e}"
    );
    // The pointer keeps the whole key (the JSON report shows it); the message line cuts it.
    assert_eq!(e.pointer, Some(format!("/{name}")));
    assert!(
        e.to_string().contains(&format!(
            "k.json:1:49: /{}…(5000 characters): unknown field",
            &name[..80]
        )),
        "{e}"
    );
}

/// D53, D31: bad `network_cost` values (world and operation) and bad `check property
/// client_certificate` values are refused with their place; the good spellings load.
#[test]
fn network_cost_and_client_certificate_inputs_are_refused_with_their_place() {
    let world = |cost: &str| {
        let text = format!(
            r#"{{ "name": "n", "description": "d", "world": {{ "network_cost": {cost} }}, "steps": [] }}"#
        );
        match Scenario::parse(&text, "c.json") {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        }
    };
    assert_eq!(world(r#""USAGE_BASED""#), "");
    assert_eq!(world(r#"["USAGE_BASED", "ROAMING"]"#), "");
    assert!(world(r#""ROAMING""#)
        .contains("/world/network_cost: \"ROAMING\" is not a network cost state"));
    assert!(world(r#""CHEAP""#).contains("/world/network_cost"));
    assert!(world(r#"["USAGE_BASED", "NEAR_CAP"]"#).contains("names exactly one"));
    assert!(world(r#"["ROAMING"]"#).contains("names exactly one"));
    assert!(world(r#"["NEAR_CAP", "NEAR_CAP"]"#).contains("/world/network_cost/1"));
    assert!(world("64").contains("expected a network cost"));

    assert_eq!(
        refused(r#"{ "do": "network_cost", "cost": "NEAR_CAP" }"#),
        ""
    );
    assert!(refused(r#"{ "do": "network_cost" }"#).contains("missing required field \"cost\""));
    assert!(
        refused(r#"{ "do": "network_cost", "cost": "NEAR_CAP", "app": "app" }"#)
            .contains("/steps/1/app")
    );
    assert!(refused(r#"{ "do": "network_cost", "cost": [1] }"#).contains("/steps/1/cost/0"));

    let cert = |rest: &str| {
        refused(&format!(
            r#"{{ "check": "property", "job": "j", "property": "client_certificate"{rest} }}"#
        ))
    };
    assert_eq!(cert(r#", "expect": "RPC_X_BAD_STUB_DATA""#), "");
    assert_eq!(
        cert(r#", "is": { "location": "CURRENT_USER", "store": "MY", "subject": "x" }"#),
        ""
    );
    assert!(cert("").contains("missing required field \"is\""));
    assert!(cert(r#", "is": { "sha1": "ABC" }"#).contains("/steps/1/is/sha1"));
    assert!(cert(r#", "is": { "thumbprint": "x" }"#).contains("/steps/1/is/thumbprint"));
    assert!(cert(r#", "is": { "location": 99 }"#).contains("/steps/1/is/location"));
    assert!(cert(r#", "expect": "RPC_X_BAD_STUB_DATA", "is": {}"#).contains("leave \"is\" out"));
}

/// `ranges` (add_file_with_ranges, the file_ranges property) are refused with their place when they
/// are not [offset, length] pairs of integers or "TO_EOF" (scenario contract part 2, "Ranges"; D57).
#[test]
fn bad_ranges_are_refused_with_their_place() {
    let add = |ranges: &str| {
        refused(&format!(
            r#"{{ "do": "add_file_with_ranges", "job": "j", "remote": "https://x.test/a", "local": "C:\\a", "ranges": {ranges} }}"#
        ))
    };
    assert_eq!(add(r#"[[0, 10], [20, "TO_EOF"]]"#), "");
    assert_eq!(add("[]"), ""); // a valid file: AddFileWithRanges itself refuses it (E_INVALIDARG)
    assert!(add(r#""all""#).contains("/steps/1/ranges"));
    assert!(add("[[0]]").contains("/steps/1/ranges/0: a range is a pair"));
    assert!(add("[[0, 1, 2]]").contains("/steps/1/ranges/0: a range is a pair"));
    assert!(add("[5]").contains("/steps/1/ranges/0"));
    assert!(add("[[0, -1]]").contains("/steps/1/ranges/0/1"));
    assert!(add(r#"[[0, "EOF"]]"#).contains("/steps/1/ranges/0/1"));
    assert!(add("[[1.5, 2]]").contains("/steps/1/ranges/0/0"));
    let missing = refused(
        r#"{ "do": "add_file_with_ranges", "job": "j", "remote": "https://x.test/a", "local": "C:\\a" }"#,
    );
    assert!(
        missing.contains("/steps/1") && missing.contains("ranges"),
        "{missing}"
    );
    let unknown = refused(
        r#"{ "do": "add_file_with_ranges", "job": "j", "remote": "https://x.test/a", "local": "C:\\a", "ranges": [[0, 1]], "range": 1 }"#,
    );
    assert!(unknown.contains("/steps/1/range"), "{unknown}");
    let check = |is: &str| {
        refused(&format!(
            r#"{{ "check": "file_property", "job": "j", "file": 0, "property": "file_ranges", "is": {is} }}"#
        ))
    };
    assert_eq!(check("[[0, 1]]"), "");
    assert!(check("[[0, true]]").contains("/steps/1/is/0/1"));
    assert!(check("{}").contains("/steps/1/is"));
}

/// File6 input (D73–D76): `request_file_ranges` ranges, `update_download_position` offsets, the
/// `filled_file_ranges` property and FILE_RANGES_TRANSFERRED entries are refused with their place when
/// malformed; good ones load.
#[test]
fn bad_file6_input_is_refused_with_its_place() {
    let req = |rest: &str| {
        refused(&format!(
            r#"{{ "do": "request_file_ranges", "job": "j", "file": 0{rest} }}"#
        ))
    };
    assert_eq!(req(r#", "ranges": [[0, 10], [20, "TO_EOF"]]"#), "");
    assert_eq!(req(r#", "ranges": []"#), ""); // RequestFileRanges itself refuses it (E_INVALIDARG)
    assert!(req(r#", "ranges": [[0]]"#).contains("/steps/1/ranges/0: a range is a pair"));
    assert!(req(r#", "ranges": [[0, -1]]"#).contains("/steps/1/ranges/0/1"));
    assert!(req(r#", "ranges": "all""#).contains("/steps/1/ranges"));
    assert!(req("").contains("ranges"), "ranges are required");
    assert!(req(r#", "ranges": [[0, 1]], "file": -1"#).contains("/steps/1"));
    let pos = |rest: &str| {
        refused(&format!(
            r#"{{ "do": "update_download_position", "job": "j", "file": 0{rest} }}"#
        ))
    };
    assert_eq!(pos(r#", "offset": 100"#), "");
    assert!(pos(r#", "offset": -1"#).contains("/steps/1/offset"));
    assert!(pos(r#", "offset": "100""#).contains("/steps/1/offset"));
    assert!(pos("").contains("offset"), "offset is required");
    let filled = |is: &str| {
        refused(&format!(
            r#"{{ "check": "file_property", "job": "j", "file": 0, "property": "filled_file_ranges", "is": {is} }}"#
        ))
    };
    assert_eq!(filled("[]"), "");
    assert!(filled("[[0, true]]").contains("/steps/1/is/0/1"));
    let note = |entry: &str| {
        refused(&format!(
            r#"{{ "check": "notifications", "are": [{entry}] }}"#
        ))
    };
    assert_eq!(
        note(
            r#"{ "event": "FILE_RANGES_TRANSFERRED", "job": "j", "file": 0, "ranges": [[0, 5]] }"#
        ),
        ""
    );
    assert!(note(
        r#"{ "event": "FILE_RANGES_TRANSFERRED", "job": "j", "file": 0, "ranges": [[0]] }"#
    )
    .contains("/steps/1/are/0/ranges/0"));
    assert!(
        note(r#"{ "event": "FILE_RANGES_TRANSFERRED", "job": "j", "ranges": [] }"#)
            .contains("\"file\"")
    );
    assert!(
        note(r#"{ "event": "FILE_TRANSFERRED", "job": "j", "file": 0, "ranges": [] }"#)
            .contains("\"ranges\" is only for FILE_RANGES_TRANSFERRED")
    );
}

fn refused_in(world: &str, steps: &str) -> String {
    let text = format!(
        r#"{{ "name": "n", "description": "d", "world": {world}, "steps": [ {{ "do": "create_job", "name": "a", "bind": "j" }}, {steps} ] }}"#
    );
    match Scenario::parse(&text, "c.json") {
        Ok(_) => String::new(),
        Err(e) => e.to_string(),
    }
}

/// Bad `peer` remotes and File5 property input (D64, D65) are refused with their place; good ones load.
#[test]
fn peer_and_file5_property_inputs_are_validated() {
    let remote = |r: &str| {
        refused_in(
            &format!(r#"{{ "remotes": {{ "https://x.test/a": {r} }} }}"#),
            r#"{ "do": "advance", "seconds": 0 }"#,
        )
    };
    assert!(remote(r#"{ "size": 1, "peer": "yes" }"#)
        .contains("/world/remotes/https:~1~1x.test~1a/peer"));
    assert_eq!(remote(r#"{ "size": 1, "peer": true }"#), "");
    let step = |s: &str| refused(s);
    let add =
        r#"{ "do": "add_file", "job": "j", "remote": "https://x.test/a", "local": "C:\\a" }, "#;
    let e = step(&format!(
        r#"{add}{{ "do": "set_file", "job": "j", "file": 0, "property": "http_response_headers", "value": 7 }}"#
    ));
    assert!(e.contains("/steps/2/value"), "{e}");
    let e = step(&format!(
        r#"{add}{{ "do": "set_file", "job": "j", "file": 0, "property": -1, "value": "x" }}"#
    ));
    assert!(e.contains("/steps/2/property"), "{e}");
    let e = step(&format!(
        r#"{add}{{ "do": "set_file", "job": "j", "file": 0, "property": "response_headers", "value": "x" }}"#
    ));
    assert!(e.contains("http_response_headers"), "{e}");
    assert_eq!(
        step(&format!(
            r#"{add}{{ "do": "set_file", "job": "j", "file": 0, "property": 1, "value": "X: y\r\n" }}"#
        )),
        ""
    );
    let e = step(&format!(
        r#"{add}{{ "check": "file_property", "job": "j", "file": 0, "property": "http_response_headers", "is": "X: y" }}"#
    ));
    assert!(e.contains("/steps/2/is"), "{e}");
    let e = step(&format!(
        r#"{add}{{ "check": "file_property", "job": "j", "file": 0, "property": 1, "is": [1] }}"#
    ));
    assert!(e.contains("/steps/2/is/0"), "{e}");
    let e = step(&format!(
        r#"{add}{{ "check": "file_property", "job": "j", "file": 0, "property": 4294967296, "expect": "BG_E_UNKNOWN_PROPERTY_ID" }}"#
    ));
    assert!(e.contains("/steps/2/property"), "{e}");
    assert_eq!(
        step(&format!(
            r#"{add}{{ "check": "file_property", "job": "j", "file": 0, "property": 9, "expect": "BG_E_UNKNOWN_PROPERTY_ID" }}"#
        )),
        ""
    );
}

/// Bad remote `reply` input, bad `reply_*` property checks and bad `upload_received` checks (§7,
/// D66, D71) are refused with their place; the good spellings load.
#[test]
fn reply_inputs_are_refused_with_their_place() {
    let remote = |r: &str| {
        refused_in(
            &format!(r#"{{ "remotes": {{ "https://x.test/a": {{ "reply": {r} }} }} }}"#),
            r#"{ "do": "advance", "seconds": 0 }"#,
        )
    };
    let at = "/world/remotes/https:~1~1x.test~1a/reply";
    assert_eq!(remote("{}"), "");
    assert_eq!(
        remote(
            r#"{ "content": { "text": "id=7" }, "app": [ { "http": 500 }, "ok" ], "responses": [ { "http": 503, "after_bytes": 2 }, "ok" ] }"#
        ),
        ""
    );
    let e = remote(r#""ok""#);
    assert!(e.contains(at), "{e}");
    let e = remote(r#"{ "body": {} }"#);
    assert!(e.contains(&format!("{at}/body")), "{e}");
    let e = remote(r#"{ "app": "ok" }"#);
    assert!(e.contains(&format!("{at}/app")), "{e}");
    let e = remote(r#"{ "app": [ "fine" ] }"#);
    assert!(
        e.contains(&format!("{at}/app/0")) && e.contains("unknown answer"),
        "{e}"
    );
    let e = remote(r#"{ "app": [ { "http": 700 } ] }"#);
    assert!(e.contains(&format!("{at}/app/0/http")), "{e}");
    let e = remote(r#"{ "app": [ { "win32": 5 } ] }"#);
    assert!(e.contains(&format!("{at}/app/0/win32")), "{e}");
    let e = remote(r#"{ "app": [ {} ] }"#);
    assert!(
        e.contains(&format!("{at}/app/0")) && e.contains("http"),
        "{e}"
    );
    let e = remote(r#"{ "responses": [ "bad" ] }"#);
    assert!(e.contains(&format!("{at}/responses/0")), "{e}");
    let e = remote(r#"{ "content": { "text": 5 } }"#);
    assert!(e.contains(&format!("{at}/content/text")), "{e}");

    let prop = |name: &str, rest: &str| {
        refused(&format!(
            r#"{{ "check": "property", "job": "j", "property": "{name}"{rest} }}"#
        ))
    };
    assert_eq!(
        prop("reply_progress", r#", "is": { "bytes_total": "UNKNOWN" }"#),
        ""
    );
    assert_eq!(prop("reply_progress", r#", "expect": "E_NOTIMPL""#), "");
    assert!(prop("reply_progress", "").contains("missing required field \"is\""));
    let e = prop("reply_progress", r#", "is": { "bytes_total": "MANY" }"#);
    assert!(e.contains("/steps/1/is/bytes_total"), "{e}");
    let e = prop("reply_progress", r#", "is": { "total": 1 }"#);
    assert!(e.contains("/steps/1/is/total"), "{e}");
    let e = prop("reply_progress", r#", "expect": "E_NOTIMPL", "is": {}"#);
    assert!(e.contains("leave \"is\" out"), "{e}");
    assert_eq!(
        prop("reply_data", r#", "is": { "text": "x", "size": 1 }"#),
        ""
    );
    assert_eq!(
        prop("reply_data", r#", "expect": "BG_E_INVALID_STATE""#),
        ""
    );
    assert_eq!(
        prop(
            "reply_data",
            r#", "expect": "BG_E_TOO_LARGE", "is": { "size": 1048577 }"#
        ),
        ""
    );
    let e = prop(
        "reply_data",
        r#", "expect": "BG_E_TOO_LARGE", "is": { "text": "x" }"#,
    );
    assert!(e.contains("/steps/1/is/text"), "{e}");
    let e = prop(
        "reply_data",
        r#", "expect": "BG_E_INVALID_STATE", "is": { "size": 1 }"#,
    );
    assert!(e.contains("leave \"is\" out"), "{e}");
    let e = prop("reply_data", r#", "is": { "bytes": 1 }"#);
    assert!(e.contains("/steps/1/is/bytes"), "{e}");
    let e = prop("reply_data", r#", "is": { "size": -1 }"#);
    assert!(e.contains("/steps/1/is/size"), "{e}");
    let e = refused(r#"{ "do": "set", "job": "j", "property": "reply_file_name", "value": 5 }"#);
    assert!(e.contains("/steps/1/value"), "{e}");
    assert_eq!(
        refused(r#"{ "do": "set", "job": "j", "property": "reply_file_name", "value": null }"#),
        ""
    );

    let received = |rest: &str| {
        refused(&format!(
            r#"{{ "check": "upload_received", "url": "https://x.test/a"{rest} }}"#
        ))
    };
    assert_eq!(received(r#", "count": 2, "text": "hello""#), "");
    assert!(refused(r#"{ "check": "upload_received", "count": 1 }"#)
        .contains("missing required field \"url\""));
    let e = received(r#", "count": "two""#);
    assert!(e.contains("/steps/1/count"), "{e}");
    let e = received(r#", "body": "x""#);
    assert!(e.contains("/steps/1/body"), "{e}");
    let e = received(r#", "sha256": "abc""#);
    assert!(e.contains("/steps/1/sha256"), "{e}");
}
