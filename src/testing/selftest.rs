//! Tests of the kit itself: every rule of the checker rejects a history or an observation that breaks
//! it (so a passing property means something), and rendered scenarios replay what happened.

use super::*;
use crate::trace::{TraceEvent, TraceKind};
use crate::transition::Rule;
use crate::world::{Local, Network, Remote, Response};
use crate::{AppId, ErrorContext, HResult, JobId, JobState, JobType, SimTime, UserId, World};
use serde_json::Value as Json;

fn ev(ms: u64, kind: TraceKind) -> TraceEvent {
    TraceEvent {
        time: SimTime::from_millis(ms),
        kind,
    }
}

const J: JobId = JobId(0);

fn state(from: JobState, to: JobState, rule: Rule) -> TraceKind {
    TraceKind::State {
        job: J,
        from,
        to,
        rule,
    }
}

fn record(code: HResult, count: u32) -> TraceKind {
    TraceKind::ErrorRecord {
        job: J,
        context: ErrorContext::RemoteFile,
        code,
        file: Some(0),
        error_count: count,
    }
}

/// Replay `kinds` (one per millisecond) into a fresh history; the rule of the first violation.
fn first_violation(kinds: &[TraceKind]) -> Option<String> {
    let mut h = History::new();
    let mut events = vec![ev(0, TraceKind::Created { job: J })];
    events.extend(kinds.iter().enumerate().map(|(i, k)| ev(i as u64 + 1, *k)));
    events.iter().find_map(|e| h.apply(e).err()).map(|v| v.rule)
}

/// SUSPENDED -> QUEUED -> CONNECTING -> TRANSFERRING: the start of every run below.
fn running() -> Vec<TraceKind> {
    use JobState as S;
    vec![
        state(S::Suspended, S::Queued, Rule::T2),
        state(S::Queued, S::Connecting, Rule::T4),
        state(S::Connecting, S::Transferring, Rule::T5),
    ]
}

#[test]
fn a_consistent_history_passes() {
    use JobState as S;
    let mut k = running();
    k.push(state(S::Transferring, S::TransientError, Rule::T9));
    k.push(record(HResult::http(503), 1));
    k.push(state(S::TransientError, S::Queued, Rule::T11));
    k.push(state(S::Queued, S::Connecting, Rule::T4));
    k.push(state(S::Connecting, S::TransientError, Rule::T6));
    k.push(record(HResult::http(503), 2));
    k.push(state(S::TransientError, S::Error, Rule::T12));
    k.push(record(HResult::http(503), 2));
    k.push(state(S::Error, S::Cancelled, Rule::T16));
    assert_eq!(first_violation(&k), None);
}

#[test]
fn trace_rules_reject_what_breaks_them() {
    use JobState as S;
    let with = |extra: &[TraceKind]| {
        let mut k = running();
        k.extend_from_slice(extra);
        first_violation(&k)
    };
    let rule = |r: &str| Some(r.to_string());
    // §1.1: a state change must start from the one current state.
    assert_eq!(
        with(&[state(S::Queued, S::Connecting, Rule::T4)]),
        rule("§1.1")
    );
    // §1.5: no row goes SUSPENDED -> TRANSFERRING.
    assert_eq!(
        first_violation(&[state(S::Suspended, S::Transferring, Rule::T5)]),
        rule("§1.5")
    );
    // §1.3: nothing leaves a final state.
    assert_eq!(
        first_violation(&[
            state(S::Suspended, S::Cancelled, Rule::T16),
            state(S::Cancelled, S::Queued, Rule::T2)
        ]),
        rule("§1.3")
    );
    // D1: entering an error state creates a record; nothing else does; TRANSFERRING drops it.
    assert_eq!(
        with(&[
            state(S::Transferring, S::Error, Rule::T10),
            state(S::Error, S::Queued, Rule::T14)
        ]),
        rule("D1")
    );
    assert_eq!(with(&[record(HResult::http(404), 1)]), rule("D1"));
    assert_eq!(
        with(&[
            state(S::Transferring, S::TransientError, Rule::T9),
            record(HResult::http(503), 1),
            state(S::TransientError, S::Queued, Rule::T13),
            state(S::Queued, S::Connecting, Rule::T4),
            state(S::Connecting, S::Transferring, Rule::T5),
            state(S::Transferring, S::Suspended, Rule::T15),
        ]),
        rule("D1")
    );
    // D6: TRANSFERRING -> error counts one; network loss counts nothing; a retry failure counts one;
    // the count never goes down.
    assert_eq!(
        with(&[
            state(S::Transferring, S::TransientError, Rule::T9),
            record(HResult::http(503), 0)
        ]),
        rule("D6")
    );
    assert_eq!(
        with(&[
            state(S::Transferring, S::TransientError, Rule::T18),
            record(HResult::BG_E_NETWORK_DISCONNECTED, 1)
        ]),
        rule("D6")
    );
    assert_eq!(
        with(&[
            state(S::Transferring, S::TransientError, Rule::T9),
            record(HResult::http(503), 1),
            state(S::TransientError, S::Queued, Rule::T11),
            state(S::Queued, S::Connecting, Rule::T4),
            state(S::Connecting, S::TransientError, Rule::T6),
            record(HResult::http(503), 1),
        ]),
        rule("D6")
    );
    assert_eq!(
        with(&[
            state(S::Transferring, S::TransientError, Rule::T9),
            record(HResult::http(503), 1),
            state(S::TransientError, S::Queued, Rule::T13),
            state(S::Queued, S::Connecting, Rule::T4),
            state(S::Connecting, S::Transferring, Rule::T5),
            TraceKind::ErrorRecordDropped { job: J },
            state(S::Transferring, S::Error, Rule::T10),
            record(HResult::http(404), 0),
        ]),
        rule("D6")
    );
    // D4: the no-progress timeout keeps the last transient error.
    assert_eq!(
        with(&[
            state(S::Transferring, S::TransientError, Rule::T9),
            record(HResult::http(503), 1),
            state(S::TransientError, S::Error, Rule::T12),
            record(HResult::http(404), 1),
        ]),
        rule("D4")
    );
}

#[test]
fn time_and_callbacks_are_checked() {
    let mut h = History::new();
    h.apply(&ev(5, TraceKind::Created { job: J })).unwrap();
    assert_eq!(
        h.apply(&ev(4, TraceKind::RemoteChanged)).unwrap_err().rule,
        "D13"
    );
    let app = AppId(0);
    let mut h = History::new();
    for k in [
        TraceKind::AppConnected {
            app,
            user: UserId(0),
        },
        TraceKind::Created { job: J },
        TraceKind::AppExited { app },
    ] {
        h.apply(&ev(0, k)).unwrap();
    }
    let notified = TraceKind::Notified {
        app,
        job: J,
        event: crate::NotifyEvent::JobModification,
        result: HResult::S_OK,
    };
    assert_eq!(h.apply(&ev(0, notified)).unwrap_err().rule, "D2");
}

/// A small real run: alice's job went to ERROR (404), her error object is held, bob has an app.
fn run_with_error() -> Harness {
    let world = World::new().remote(
        "https://r0.test/f0.bin",
        Remote::sized(10).with_responses([Response::http(404)]),
    );
    let spec = WorldSpec {
        users: vec![
            UserSpec {
                name: "alice".into(),
                admin: false,
                logged_on: true,
            },
            UserSpec {
                name: "bob".into(),
                admin: false,
                logged_on: true,
            },
        ],
        world,
    };
    let call = |call| Op::Job {
        app: 0,
        handle: 0,
        call,
    };
    let ops = [
        Op::CreateJob {
            app: 0,
            name: NamePick::Update,
            job_type: JobType::Download,
        },
        call(JobCall::AddFile {
            remote: 0,
            local: 0,
        }),
        call(JobCall::Resume),
        Op::Advance { secs: 1 },
        call(JobCall::GetError { hold: true }),
        Op::Connect { user: 1 },
    ];
    Harness::run(&spec, &ops).expect("a clean run")
}

/// Check `h`'s observations plus one fabricated `seen` (made right after the last step).
fn check_with(h: &Harness, seen: Seen) -> Result<(), Violation> {
    let mut obs = h.observations().clone();
    let at = h.sim().with_service(|s| s.trace().len());
    obs.push(Observed {
        before: at,
        after: at,
        step: None,
        seen,
    });
    check_invariants(h.sim(), &obs)
}

fn call(h: &Harness, app: usize, method: Method, result: Result<super::Value, HResult>) -> Seen {
    Seen::JobCall {
        app: h.apps()[app].id,
        handle: Some(0),
        handle_generation: 0,
        job: J,
        method,
        held: None,
        result,
    }
}

#[test]
fn observation_rules_reject_what_breaks_them() {
    use super::Value as V;
    let h = run_with_error();
    assert!(check_invariants(h.sim(), h.observations()).is_ok());
    let rule = |seen| check_with(&h, seen).map_err(|v| v.rule);
    // The truth: ERROR with a 404 record, count 0; alice may, bob may not.
    assert_eq!(
        rule(call(&h, 0, Method::GetState, Ok(V::State(JobState::Error)))),
        Ok(())
    );
    assert_eq!(
        rule(call(
            &h,
            0,
            Method::GetState,
            Ok(V::State(JobState::Queued))
        )),
        Err("§1.1".into())
    );
    assert_eq!(
        rule(call(&h, 0, Method::GetErrorCount, Ok(V::Count(1)))),
        Err("D6".into())
    );
    assert_eq!(
        rule(call(
            &h,
            0,
            Method::GetError,
            Err(HResult::BG_E_ERROR_INFORMATION_UNAVAILABLE)
        )),
        Err("D1".into())
    );
    assert_eq!(
        rule(call(&h, 1, Method::GetState, Ok(V::State(JobState::Error)))),
        Err("D9".into())
    );
    assert_eq!(
        rule(call(&h, 1, Method::Cancel, Err(HResult::E_ACCESSDENIED))),
        Ok(())
    );
    assert_eq!(
        rule(Seen::EnumJobs {
            app: h.apps()[1].id,
            generation: 0,
            all_users: false,
            result: Ok(vec![J]),
        }),
        Err("D9".into())
    );
    assert_eq!(
        rule(Seen::GetJob {
            app: h.apps()[1].id,
            generation: 0,
            job: J,
            result: Ok(()),
        }),
        Err("D9".into())
    );
    // The held error object works (D2) — and answering anything else is caught.
    assert_eq!(
        rule(Seen::ErrorObject {
            held: 0,
            result: Ok((ErrorContext::RemoteFile, HResult::http(404))),
        }),
        Ok(())
    );
    assert_eq!(
        rule(Seen::ErrorObject {
            held: 0,
            result: Err(HResult::BG_E_ERROR_INFORMATION_UNAVAILABLE),
        }),
        Err("D2".into())
    );
    // A handle of an older service generation is dead (D15).
    let mut stale = call(&h, 0, Method::Resume, Ok(V::Returned(HResult::S_OK)));
    if let Seen::JobCall {
        handle_generation, ..
    } = &mut stale
    {
        *handle_generation = 7;
    }
    assert_eq!(rule(stale), Err("D2".into()));
    // A failed call that changed the trace.
    let mut obs = h.observations().clone();
    obs.push(Observed {
        before: 2,
        after: 3,
        step: None,
        seen: call(&h, 0, Method::SetPriority, Err(HResult::E_NOTIMPL)),
    });
    assert_eq!(
        check_invariants(h.sim(), &obs).map_err(|v| v.rule),
        Err("D1".into())
    );
    // Time: advance(5) that moved the clock by 4.
    let t = |ms| SimTime::from_millis(ms);
    assert_eq!(
        rule(Seen::Time {
            from: t(0),
            by: crate::SimDuration::from_secs(5),
            exact: true,
            to: t(4000),
        }),
        Err("D13".into())
    );
}

#[test]
fn mutators_on_a_final_job_must_be_refused() {
    use super::Value as V;
    let mut h = run_with_error();
    h.step(&Op::Job {
        app: 1,
        handle: 0,
        call: JobCall::Cancel,
    })
    .unwrap();
    assert_eq!(
        check_with(
            &h,
            call(&h, 0, Method::Resume, Ok(V::Returned(HResult::S_OK)))
        )
        .map_err(|v| v.rule),
        Err("§1.3".into())
    );
    assert!(check_with(
        &h,
        call(&h, 0, Method::Resume, Err(HResult::BG_E_INVALID_STATE))
    )
    .is_ok());
}

#[test]
fn a_failure_scenario_ends_with_what_the_spec_requires() {
    let h = run_with_error();
    let mut v = Violation::new("D2", "test".into());
    v.expect = Some(Expect::ErrorObject {
        held: 0,
        code: HResult::RPC_E_DISCONNECTED,
    });
    let s = h.fail(v).scenario;
    validate_scenario(&s).unwrap();
    let steps = s["steps"].as_array().unwrap();
    assert_eq!(
        steps.last().unwrap(),
        &serde_json::json!({ "check": "error_object", "error": "e0", "code": "RPC_E_DISCONNECTED" })
    );
    let mut v = Violation::new("§1.3", "test".into());
    v.expect = Some(Expect::Returns {
        step: 2,
        hresult: HResult::BG_E_EMPTY,
    });
    let s = h.fail(v).scenario;
    let resume = s["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|st| st["do"] == "resume")
        .unwrap();
    assert_eq!(resume["expect"], "BG_E_EMPTY");
    assert!(s["name"].as_str().unwrap().starts_with("regression-1-3-"));
}

#[test]
fn scenario_of_a_run_reads_like_the_contract() {
    let h = run_with_error();
    let s = h.scenario();
    validate_scenario(&s).unwrap();
    let steps = s["steps"].as_array().unwrap();
    assert_eq!(
        steps[0],
        serde_json::json!({ "do": "create_job", "app": "app", "name": "update", "type": "DOWNLOAD",
                             "bind": "j0", "expect": "S_OK" })
    );
    assert_eq!(
        steps[4],
        serde_json::json!({ "do": "get_error", "app": "app", "job": "j0", "bind_error": "e0",
                             "expect": "S_OK" })
    );
    assert_eq!(
        steps[5],
        serde_json::json!({ "do": "connect", "app": "app1", "user": "bob" })
    );
    assert_eq!(
        s["world"]["remotes"]["https://r0.test/f0.bin"],
        serde_json::json!({ "size": 10, "responses": [{ "http": 404 }] })
    );
}

fn entry(e: &Json) -> Response {
    {
        if e == "ok" {
            return Response::Ok;
        }
        let r = if let Some(s) = e.get("http") {
            Response::http(s.as_u64().unwrap() as u16)
        } else if let Some(n) = e.get("win32") {
            Response::win32(n.as_u64().unwrap() as u32)
        } else {
            Response::hresult(HResult::parse(e["hresult"].as_str().unwrap()).unwrap())
        };
        match e.get("after_bytes") {
            Some(n) => r.after_bytes(n.as_u64().unwrap()),
            None => r,
        }
    }
}

fn remote_of(r: &Json) -> Remote {
    Remote {
        size: r.get("size").and_then(Json::as_u64),
        responses: r
            .get("responses")
            .map(|l| l.as_array().unwrap().iter().map(entry).collect())
            .unwrap_or_default(),
        otherwise: r.get("otherwise").map_or(Response::Ok, entry),
    }
}

/// The world of a contract scenario, read back (the part of the format the kit writes).
fn world_of(s: &Json) -> WorldSpec {
    let w = &s["world"];
    let mut world = World::new().bandwidth(w["bandwidth"].as_u64().unwrap());
    world.network = if w["network"] == "up" {
        Network::Up
    } else {
        Network::Down
    };
    for (url, r) in w["remotes"].as_object().unwrap() {
        world.remotes.insert(url.clone(), remote_of(r));
    }
    for (path, l) in w["locals"].as_object().unwrap() {
        world.locals.insert(
            path.clone(),
            Local {
                size: l["size"].as_u64().unwrap(),
            },
        );
    }
    let users = w["users"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, f)| UserSpec {
            name: name.clone(),
            admin: f["admin"] == true,
            logged_on: f["logged_on"] == true,
        })
        .collect();
    WorldSpec { users, world }
}

#[test]
fn chaos_runs_replay_from_their_scripted_scenario_world() {
    use proptest::strategy::{Strategy, ValueTree};
    let mut runner = proptest::test_runner::TestRunner::new(config(1));
    let mut replayed = 0;
    for _ in 0..200 {
        let (mut spec, ops) = (strategies::world_spec(), strategies::ops(5..40))
            .new_tree(&mut runner)
            .unwrap()
            .current();
        spec.world.chaos = Some(crate::world::Chaos::new(replayed + 1, 0.3));
        let mut original = Harness::unchecked(&spec);
        for op in &ops {
            let _ = original.step(op);
        }
        let scenario = original.scenario();
        validate_scenario(&scenario).unwrap();
        // The same operations, with set_remote taking the scenario's (scripted) remotes.
        let mut scripted = scenario["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["do"] == "set_remote")
            .map(|s| remote_of(&s["remote"]));
        let mut again = Harness::unchecked(&world_of(&scenario));
        for step in original.steps() {
            let op = match (&step.op, &step.done) {
                (Op::SetRemote { url, .. }, Done::SetRemote { .. }) => Op::SetRemote {
                    url: *url,
                    remote: scripted.next().unwrap(),
                },
                (op, _) => op.clone(),
            };
            let _ = again.step(&op);
        }
        let trace = |h: &Harness| {
            h.sim()
                .trace()
                .iter()
                .filter(|e| {
                    !matches!(
                        e.kind,
                        TraceKind::RemoteChanged | TraceKind::ChaosSeed { .. }
                    )
                })
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(trace(&original), trace(&again), "{scenario:#}");
        replayed += 1;
    }
    assert_eq!(replayed, 200);
}

#[test]
fn a_retry_at_the_no_progress_deadline_is_a_soft_d4_violation() {
    use JobState as S;
    let mut k = running();
    k.push(state(S::Transferring, S::TransientError, Rule::T9));
    k.push(record(HResult::http(503), 1));
    let mut h = History::new();
    let mut events = vec![ev(0, TraceKind::Created { job: J })];
    events.extend(k.iter().map(|k| ev(1, *k)));
    events.push(ev(
        1,
        TraceKind::DeadlineArmed {
            job: J,
            at: SimTime::from_millis(601),
        },
    ));
    // The retry one millisecond before the deadline is fine; at the deadline it is not.
    events.push(ev(600, state(S::TransientError, S::Queued, Rule::T11)));
    events.push(ev(600, state(S::Queued, S::Connecting, Rule::T4)));
    events.push(ev(600, state(S::Connecting, S::TransientError, Rule::T6)));
    events.push(ev(600, record(HResult::http(503), 2)));
    for e in &events {
        h.apply(e).unwrap();
    }
    assert!(h.soft.is_empty());
    h.apply(&ev(601, state(S::TransientError, S::Queued, Rule::T11)))
        .unwrap();
    assert_eq!(h.soft.len(), 1);
    assert_eq!(h.soft[0].rule, "D4");
    assert_eq!(
        h.soft[0].expect,
        Some(Expect::JobErrorCount { job: J, is: 2 })
    );
}
