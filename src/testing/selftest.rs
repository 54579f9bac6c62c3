//! Tests of the kit itself: every rule of the checker rejects a history or an observation that breaks
//! it (so a passing property means something), and rendered scenarios replay what happened.

use super::*;
use crate::scenario::{Action, Check, ErrorExpectation, Op, Scenario, StateMethod, Step};
use crate::scenario::{UserSpec, WorldSpec};
use crate::trace::{TraceEvent, TraceKind};
use crate::transition::Rule;
use crate::world::{Remote, Response};
use crate::{AppId, ErrorContext, HResult, JobId, JobState, JobType, SimTime, UserId};

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
        file: None,
        result: HResult::S_OK,
    };
    assert_eq!(h.apply(&ev(0, notified)).unwrap_err().rule, "D2");
}

/// A small real run: alice's job went to ERROR (404), her error object is held, bob has an app.
fn run_with_error() -> Harness {
    let user = |name: &str| UserSpec {
        name: name.into(),
        admin: false,
        logged_on: true,
    };
    let world = WorldSpec {
        users: vec![user("alice"), user("bob")],
        remotes: vec![(
            remote_url(0),
            Remote::sized(10).with_responses([Response::http(404)]),
        )],
        ..WorldSpec::default()
    };
    let call = |action| Draw::call(0, 0, action);
    let steps = [
        call(make::create_job("update", JobType::Download)),
        call(make::add_file(&remote_url(0), DOWNLOAD_LOCALS[0])),
        call(make::state(StateMethod::Resume)),
        Draw::env(Op::Advance { seconds: 1 }),
        call(make::get_error(true)),
        Draw::call(0, 1, make::connect()),
    ];
    Harness::run(&Setup::new(world), &steps).expect("a clean run")
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

fn call(h: &Harness, app: usize, action: Action, result: HResult) -> Seen {
    Seen::JobCall {
        app: h.apps()[app].id,
        handle: None,
        handle_generation: 0,
        job: J,
        action,
        held: None,
        result,
    }
}

fn state_is(is: JobState) -> Action {
    Action::Check(Check::State {
        job: "j1".into(),
        is,
    })
}

/// A probe's successful reading `action` of `job` through `app`, at trace position `at` (no handle).
fn probe_reading(app: &crate::Manager, job: &crate::Job, action: Action, at: usize) -> Observed {
    Observed {
        before: at,
        after: at,
        step: None,
        seen: Seen::JobCall {
            app: app.app(),
            handle: None,
            handle_generation: 0,
            job: job.id(),
            action,
            held: None,
            result: HResult::S_OK,
        },
    }
}

#[test]
fn observation_rules_reject_what_breaks_them() {
    let h = run_with_error();
    assert!(check_invariants(h.sim(), h.observations()).is_ok());
    let ok = HResult::S_OK;
    let rule = |seen| check_with(&h, seen).map_err(|v| v.rule);
    // The truth: ERROR with a 404 record, count 0; alice may, bob may not.
    assert_eq!(rule(call(&h, 0, state_is(JobState::Error), ok)), Ok(()));
    assert_eq!(
        rule(call(&h, 0, state_is(JobState::Queued), ok)),
        Err("§1.1".into())
    );
    let count = |is| {
        Action::Check(Check::ErrorCount {
            job: "j1".into(),
            is,
        })
    };
    assert_eq!(rule(call(&h, 0, count(1), ok)), Err("D6".into()));
    let error = |expect| {
        Action::Check(Check::Error {
            job: "j1".into(),
            expect,
        })
    };
    assert_eq!(
        rule(call(&h, 0, error(ErrorExpectation::None), ok)),
        Err("D1".into())
    );
    let the_404 = ErrorExpectation::Some {
        context: Some(ErrorContext::RemoteFile),
        code: Some(HResult::http(404)),
        file: Some(0),
    };
    assert_eq!(rule(call(&h, 0, error(the_404), ok)), Ok(()));
    assert_eq!(
        rule(call(&h, 1, state_is(JobState::Error), ok)),
        Err("D9".into())
    );
    let cancel = Action::Do(Op::State {
        method: StateMethod::Cancel,
        job: "j1".into(),
        expect: HResult::E_ACCESSDENIED,
    });
    assert_eq!(rule(call(&h, 1, cancel, HResult::E_ACCESSDENIED)), Ok(()));
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
    let held = h.held()[0].alias.clone();
    assert_eq!(
        rule(Seen::ErrorObject {
            error: held.clone(),
            result: Ok((ErrorContext::RemoteFile, HResult::http(404))),
        }),
        Ok(())
    );
    assert_eq!(
        rule(Seen::ErrorObject {
            error: held,
            result: Err(HResult::BG_E_ERROR_INFORMATION_UNAVAILABLE),
        }),
        Err("D2".into())
    );
    // A handle of an older service generation is dead (D15).
    let resume = Action::Do(Op::State {
        method: StateMethod::Resume,
        job: "j1".into(),
        expect: ok,
    });
    let mut stale = call(&h, 0, resume, ok);
    if let Seen::JobCall {
        handle_generation, ..
    } = &mut stale
    {
        *handle_generation = 7;
    }
    assert_eq!(rule(stale), Err("D2".into()));
    // A failed call that changed the trace.
    let mut obs = h.observations().clone();
    let set = Action::Do(Op::Set {
        job: "j1".into(),
        value: crate::PropertyValue::Priority(make::priority(9)),
        expect: HResult::E_NOTIMPL,
    });
    obs.push(Observed {
        before: 2,
        after: 3,
        step: None,
        seen: call(&h, 0, set, HResult::E_NOTIMPL),
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
    let mut h = run_with_error();
    // bob's application cannot cancel alice's job, so alice's does.
    h.step(&Draw::call(1, 0, make::state(StateMethod::Cancel)))
        .unwrap();
    let resume = |expect| {
        Action::Do(Op::State {
            method: StateMethod::Resume,
            job: "j1".into(),
            expect,
        })
    };
    assert_eq!(
        check_with(&h, call(&h, 0, resume(HResult::S_OK), HResult::S_OK)).map_err(|v| v.rule),
        Err("§1.3".into())
    );
    let refused = HResult::BG_E_INVALID_STATE;
    assert!(check_with(&h, call(&h, 0, resume(refused), refused)).is_ok());
}

#[test]
fn a_failure_scenario_ends_with_what_the_spec_requires() {
    let h = run_with_error();
    let held = h.held()[0].alias.clone();
    let then = Step {
        app: None,
        action: Action::Check(Check::ErrorObject {
            error: held,
            code: HResult::RPC_E_DISCONNECTED,
        }),
    };
    let v = Violation::new("D2", "test".into()).expecting(Some(Expect::Then(then.clone())));
    let s = h.fail(v).scenario;
    assert_eq!(s.steps.last(), Some(&then));
    assert_eq!(Scenario::parse(&s.to_json(), "s.json").unwrap(), s);
    let v = Violation::new("§1.3", "test".into()).expecting(Some(Expect::Returns {
        step: 2,
        hresult: HResult::BG_E_EMPTY,
    }));
    let s = h.fail(v).scenario;
    let resume = s
        .steps
        .iter()
        .find_map(|st| match &st.action {
            Action::Do(Op::State {
                method: StateMethod::Resume,
                expect,
                ..
            }) => Some(*expect),
            _ => None,
        })
        .unwrap();
    assert_eq!(resume, HResult::BG_E_EMPTY);
    assert!(s.name.starts_with("regression-1-3-"));
}

#[test]
fn scenario_of_a_run_reads_like_the_contract() {
    let h = run_with_error();
    let s = h.scenario();
    assert_eq!(Scenario::parse(&s.to_json(), "s.json").unwrap(), s);
    // The writer's output, read as plain JSON: the contract's keys, defaults left out.
    let json: serde_json::Value = serde_json::from_str(&s.to_json()).unwrap();
    let want = |text: &str| serde_json::from_str::<serde_json::Value>(text).unwrap();
    let steps = json["steps"].as_array().unwrap();
    assert_eq!(
        steps[0],
        want(r#"{ "do": "create_job", "app": "app", "name": "update", "bind": "j1" }"#)
    );
    assert_eq!(
        steps[4],
        want(r#"{ "do": "get_error", "app": "app", "job": "j1", "bind_error": "e2" }"#)
    );
    assert_eq!(
        steps[5],
        want(r#"{ "do": "connect", "app": "app1", "user": "bob" }"#)
    );
    assert_eq!(
        json["world"]["remotes"][remote_url(0)],
        want(r#"{ "size": 10, "responses": [{ "http": 404 }] }"#)
    );
}

#[test]
fn chaos_runs_replay_from_their_scripted_scenario_world() {
    use proptest::strategy::{Strategy, ValueTree};
    let mut runner = proptest::test_runner::TestRunner::new(config(1));
    for seed in 0..200 {
        let (world, draws) = (strategies::world_spec(), strategies::draws(5..40))
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let setup = Setup {
            world,
            chaos: Some(crate::world::Chaos::new(seed + 1, 0.3)),
        };
        let mut original = Harness::unchecked(&setup);
        for d in &draws {
            let _ = original.step(d);
        }
        let scenario = original.scenario();
        let text = scenario.to_json();
        assert_eq!(Scenario::parse(&text, "s.json").unwrap(), scenario);
        let result = crate::scenario::run(
            &scenario,
            "s.json",
            &crate::scenario::RunOptions { trace: true },
        );
        assert!(result.passed, "{:?}\n{text}", result.failure);
        let lines: Vec<String> = result.trace.into_iter().flat_map(|b| b.events).collect();
        let trace = |l: &[String]| {
            l.iter()
                .filter(|e| !e.contains("remote changed") && !e.contains("chaos"))
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(trace(&original.trace_lines()), trace(&lines), "{text}");
    }
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
        h.soft[0].expect.as_deref(),
        Some(&Expect::Job {
            job: J,
            check: Check::ErrorCount {
                job: String::new(),
                is: 2
            }
        })
    );
}

/// The checker's skip of a repeated reading ([`Checker::check_moved`]): a reading already checked is
/// checked again once anything its verdict reads has changed (here: its job's state), so a reading
/// that has become wrong is caught at the first step where it is wrong.
#[test]
fn a_repeated_reading_is_checked_again_once_its_job_changed() {
    use crate::{Network, Remote, Sim, World};
    let sim = Sim::new(World::new().remote("https://x.test/a", Remote::sized(10)));
    let app = sim.connect("app", sim.user("alice")).unwrap();
    let job = app.create_job("j", JobType::Download).unwrap();
    job.add_file("https://x.test/a", "C:\\a").unwrap();
    let len = || sim.with_service(|s| s.trace().len());
    let suspended = |at: usize| probe_reading(&app, &job, state_is(JobState::Suspended), at);
    let mut checker = Checker::new();
    let obs = Observations {
        items: vec![suspended(len())],
    };
    checker.check(&sim, &obs).expect("SUSPENDED is the truth");
    let stored = &obs.items[0];
    let mut checked = None;
    let again = |checker: &mut Checker, checked: &mut Option<u64>| {
        let at = len();
        let moved = Moved {
            observed: stored,
            before: at,
            after: at,
            checked,
        };
        checker.check_moved(&sim, &obs, [moved]).map_err(|v| v.rule)
    };
    assert_eq!(again(&mut checker, &mut checked), Ok(()));
    let first = checked.expect("a checked reading keeps the stamp it was checked at");
    // Events that change no fact of the history: the stamp stays, the reading is not re-judged.
    sim.set_network(Network::Down);
    sim.set_network(Network::Up);
    assert_eq!(again(&mut checker, &mut checked), Ok(()));
    assert_eq!(checker.history().stamp(), first);
    // The job leaves SUSPENDED: the same reading, moved after it, breaks §1.1.
    job.resume().unwrap();
    assert_eq!(again(&mut checker, &mut checked), Err("§1.1".into()));
}

/// The checker's skip for a repeated property reading: its verdict reads of the job only that it
/// exists and who owns it, so a state change does not make it judged again, and a change of owner
/// does — a reading that has become wrong (alice's handle now reads another user's job, D9) is caught
/// at the first check after the change.
#[test]
fn a_repeated_property_reading_is_judged_again_once_its_owner_changed() {
    use crate::{PropertyValue, Remote, Sim, World};
    let sim = Sim::new(World::new().remote("https://x.test/a", Remote::sized(10)));
    let app = sim.connect("app", sim.user("alice")).unwrap();
    let job = app.create_job("j", JobType::Download).unwrap();
    job.add_file("https://x.test/a", "C:\\a").unwrap();
    let admin = sim.connect("admin", sim.admin("bob")).unwrap();
    let len = || sim.with_service(|s| s.trace().len());
    let reading = |action: Action, at: usize| probe_reading(&app, &job, action, at);
    let name = Action::Check(Check::Property {
        job: "j1".into(),
        is: PropertyValue::DisplayName("j".into()),
    });
    let mut checker = Checker::new();
    let obs = Observations {
        items: vec![
            reading(name, len()),
            reading(state_is(JobState::Suspended), len()),
        ],
    };
    checker
        .check(&sim, &obs)
        .expect("both readings are the truth");
    let mut checked = [None, None];
    let again = |checker: &mut Checker, checked: &mut [Option<u64>; 2], which: usize| {
        let at = len();
        let moved = Moved {
            observed: &obs.items[which],
            before: at,
            after: at,
            checked: &mut checked[which],
        };
        checker.check_moved(&sim, &obs, [moved]).map_err(|v| v.rule)
    };
    assert_eq!(again(&mut checker, &mut checked, 0), Ok(()));
    assert_eq!(again(&mut checker, &mut checked, 1), Ok(()));
    let first = checked[0].expect("a judged reading keeps the stamp it was judged at");
    // The job leaves SUSPENDED: the state reading is judged again (and is wrong now, §1.1); the
    // property reading is not judged again (its stamp stays), as nothing its verdict reads changed.
    job.resume().unwrap();
    assert_eq!(again(&mut checker, &mut checked, 1), Err("§1.1".into()));
    assert_eq!(again(&mut checker, &mut checked, 0), Ok(()));
    assert_eq!(checked[0], Some(first));
    // bob (an administrator) takes the job: alice's reading that succeeded breaks D9 now.
    admin.get_job(job.id()).unwrap().take_ownership().unwrap();
    assert_eq!(again(&mut checker, &mut checked, 0), Err("D9".into()));
}

/// The checker's skip reads of the applications only the reading's own: another application
/// connecting or exiting does not make a repeated reading judged again, its own application exiting
/// does (and the reading that succeeded breaks D2 now).
#[test]
fn a_repeated_reading_is_judged_again_once_its_own_application_changed() {
    use crate::{Remote, Sim, World};
    let sim = Sim::new(World::new().remote("https://x.test/a", Remote::sized(10)));
    let app = sim.connect("app", sim.user("alice")).unwrap();
    let job = app.create_job("j", JobType::Download).unwrap();
    let len = || sim.with_service(|s| s.trace().len());
    let obs = Observations {
        items: vec![probe_reading(
            &app,
            &job,
            state_is(JobState::Suspended),
            len(),
        )],
    };
    let mut checker = Checker::new();
    checker.check(&sim, &obs).expect("SUSPENDED is the truth");
    let mut checked = None;
    let again = |checker: &mut Checker, checked: &mut Option<u64>| {
        let at = len();
        let moved = Moved {
            observed: &obs.items[0],
            before: at,
            after: at,
            checked,
        };
        checker.check_moved(&sim, &obs, [moved]).map_err(|v| v.rule)
    };
    assert_eq!(again(&mut checker, &mut checked), Ok(()));
    let first = checked.expect("a judged reading keeps the stamp it was judged at");
    let other = sim.connect("other", sim.user("bob")).unwrap();
    other.exit().unwrap();
    assert_eq!(again(&mut checker, &mut checked), Ok(()));
    assert_eq!(
        checked,
        Some(first),
        "not judged again for another application"
    );
    assert!(checker.history().stamp() > first);
    app.exit().unwrap();
    assert_eq!(again(&mut checker, &mut checked), Err("D2".into()));
}

/// Every event that changes a fact the checker reads moves the history's stamp and the stamp of the
/// facts it changed; events that change no fact move neither.
#[test]
fn the_history_stamp_moves_with_every_fact() {
    use JobState as S;
    let mut h = History::new();
    let mut stamps = Vec::new();
    let mut apply = |h: &mut History, kind: TraceKind| {
        h.apply(&ev(1, kind)).unwrap();
        stamps.push((h.stamp(), h.job(J).map_or(0, |f| f.changed), h.apps_changed));
    };
    apply(&mut h, TraceKind::Created { job: J });
    apply(
        &mut h,
        TraceKind::AppConnected {
            app: AppId(0),
            user: UserId(0),
        },
    );
    apply(&mut h, state(S::Suspended, S::Queued, Rule::T2));
    apply(&mut h, state(S::Queued, S::Connecting, Rule::T4));
    apply(&mut h, state(S::Connecting, S::TransientError, Rule::T6));
    apply(&mut h, record(HResult::http(503), 0));
    apply(&mut h, TraceKind::Network { up: false });
    apply(
        &mut h,
        TraceKind::OwnerChanged {
            job: J,
            user: UserId(1),
        },
    );
    apply(&mut h, TraceKind::ServiceRestarted);
    // (stamp, the job's stamp, the applications' stamp) after each event.
    assert_eq!(
        stamps,
        [
            (1, 1, 0),
            (2, 1, 2),
            (3, 3, 2),
            (4, 4, 2),
            (5, 5, 2),
            (6, 6, 2),
            (6, 6, 2),
            (7, 7, 2),
            (8, 7, 8),
        ]
    );
}

#[test]
fn set_remote_name_e_notimpl_is_only_an_upload_answer_on_a_final_job() {
    // §2.6: File2 SetRemoteName answers E_NOTIMPL for an upload job before it looks at the state; a
    // final download job answers BG_E_INVALID_STATE (§1.3), and E_NOTIMPL there is caught.
    let final_job = |job_type| {
        let mut h = Harness::new(&Setup::new(WorldSpec {
            users: vec![UserSpec {
                name: "alice".into(),
                admin: false,
                logged_on: true,
            }],
            ..WorldSpec::default()
        }));
        let call = |action| Draw::call(0, 0, action);
        for d in [
            call(make::create_job("j", job_type)),
            call(make::add_file(&remote_url(0), DOWNLOAD_LOCALS[0])),
            call(make::state(StateMethod::Cancel)),
        ] {
            h.step(&d).unwrap_or_else(|c| panic!("{c}"));
        }
        h
    };
    let rename = |expect| {
        Action::Do(Op::SetFile {
            job: "j1".into(),
            file: 0,
            value: crate::scenario::FileSet::RemoteName(remote_url(1)),
            expect,
        })
    };
    let answer =
        |h: &Harness, code| check_with(h, call(h, 0, rename(code), code)).map_err(|v| v.rule);
    let h = final_job(JobType::Download);
    assert_eq!(answer(&h, HResult::BG_E_INVALID_STATE), Ok(()));
    assert_eq!(answer(&h, HResult::E_NOTIMPL), Err("§1.3".into()));
    let h = final_job(JobType::Upload);
    assert_eq!(answer(&h, HResult::E_NOTIMPL), Ok(()));
}
