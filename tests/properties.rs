//! Property tests: the error-record and error-object lifetimes (D1, D2), final states (§1.3),
//! visibility (D9), error counts (D6), time (D13), determinism, and the kit's own replays, over random
//! worlds and random interleavings of method calls, checks, time, world changes, application exits
//! and service restarts.
//!
//! Every property runs the kit's full invariant checker after every step (`Harness::step`) and asserts
//! its own rule explicitly on top. A failure prints the shrunk case and a scenario file that replays it.
//! Cases are deterministic (the kit's fixed seed; set `PROPTEST_RNG_SEED` to explore others).

mod common;
use bitsim::scenario::{run, Action, Op, RunOptions, Scenario, StateMethod};
use bitsim::testing::{
    config, make, replay, strategies, strategies::all_mutators, strategies::OpMix, Draw, Harness,
    Setup, Violation,
};
use bitsim::HResult;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::TestCaseError;

const CASES: u32 = 1000;

fn fail(h: &Harness, rule: &str, message: String) -> TestCaseError {
    let mut v = Violation::new(rule, message);
    v.step = h.records().len().checked_sub(1);
    TestCaseError::fail(h.fail(v).to_string())
}

/// D1 for every job some application can reach: GetError succeeds iff the job entered ERROR or
/// TRANSIENT_ERROR since it last entered TRANSFERRING, and reports the last error's context and code.
fn assert_d1(h: &Harness) -> Result<(), TestCaseError> {
    for (j, slot) in h.jobs().iter().enumerate() {
        let Some(hs) = h.usable_handle(j) else {
            continue;
        };
        let facts = h
            .history()
            .job(slot.id)
            .expect("created jobs are in the history");
        match h.job_handle(hs).get_error() {
            Ok(e) => {
                let got = e
                    .get_error()
                    .map_err(|e| fail(h, "D1", format!("fresh error object failed: {e}")))?;
                let want = facts.record.map(|(c, code, _)| (c, code));
                if !facts.error_since_transferring || Some(got) != want {
                    return Err(fail(h, "D1", format!(
                        "{} GetError gave {got:?}; entered an error state since TRANSFERRING: {}, last record {want:?}",
                        slot.alias, facts.error_since_transferring
                    )));
                }
            }
            Err(code) => {
                if facts.error_since_transferring
                    || code != HResult::BG_E_ERROR_INFORMATION_UNAVAILABLE
                {
                    return Err(fail(h, "D1", format!(
                        "{} GetError failed with {code}; entered an error state since TRANSFERRING: {}",
                        slot.alias, facts.error_since_transferring
                    )));
                }
            }
        }
    }
    Ok(())
}

/// What a held error object must answer (D2), from the facts when it was obtained and now.
struct HeldAt {
    held: usize,
    transferring_entries: u32,
    generation: u32,
}

fn track_held(h: &Harness, tracked: &mut Vec<HeldAt>) {
    while tracked.len() < h.held().len() {
        let i = tracked.len();
        let job = h.jobs()[h.handles()[h.held()[i].handle].job].id;
        tracked.push(HeldAt {
            held: i,
            transferring_entries: h.history().job(job).map_or(0, |f| f.transferring_entries),
            generation: h.history().generation,
        });
    }
}

/// D2: a held error object answers with its error until its job enters TRANSFERRING
/// (BG_E_ERROR_INFORMATION_UNAVAILABLE) or its application exits or the service restarts
/// (RPC_E_DISCONNECTED) — and never fails before.
fn assert_d2(h: &Harness, tracked: &[HeldAt]) -> Result<(), TestCaseError> {
    for t in tracked {
        let slot = &h.handles()[h.held()[t.held].handle];
        let app = &h.apps()[slot.app];
        let job = h.jobs()[slot.job].id;
        let entries = h.history().job(job).map_or(0, |f| f.transferring_entries);
        let want = if !h.history().app_alive(app.id) || h.history().generation != t.generation {
            Err(HResult::RPC_E_DISCONNECTED)
        } else if entries != t.transferring_entries {
            Err(HResult::BG_E_ERROR_INFORMATION_UNAVAILABLE)
        } else {
            Ok(())
        };
        let got = h.held_error(t.held).get_error().map(|_| ());
        if got != want {
            return Err(fail(
                h,
                "D2",
                format!(
                    "held error object {} of {} answered {got:?}; D2 requires {want:?}",
                    h.held()[t.held].alias,
                    slot.alias
                ),
            ));
        }
    }
    Ok(())
}

fn run_with(
    setup: &Setup,
    draws: &[Draw],
    mut after_step: impl FnMut(&Harness) -> Result<(), TestCaseError>,
) -> Result<Harness, TestCaseError> {
    let mut h = Harness::new(setup);
    for d in draws {
        h.step(d)?;
        after_step(&h)?;
    }
    Ok(h)
}

/// The run of `h` written as a scenario (the one writer) reads back as the same `Scenario` and replays
/// in the scenario runner step for step to the same trace (chaos lines aside: the file states chaos as
/// the remotes' scripted answers).
fn replays_as_its_scenario(h: &Harness, file: &str) -> Result<(), TestCaseError> {
    let scenario = h.scenario();
    let text = scenario.to_json();
    let back =
        Scenario::parse(&text, file).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
    prop_assert_eq!(&back, &scenario);
    let result = run(&back, file, &RunOptions { trace: true });
    if !result.passed {
        return Err(TestCaseError::fail(format!("{:?}\n{text}", result.failure)));
    }
    let replayed: Vec<String> = result.trace.into_iter().flat_map(|b| b.events).collect();
    let ours: Vec<String> = h
        .trace_lines()
        .into_iter()
        .filter(|l| !l.contains(" chaos: "))
        .collect();
    prop_assert_eq!(ours, replayed, "{}", text);
    Ok(())
}

/// The mixes the generic property draws from: the default one, job creation heavy (the scheduler's
/// slots, D12), error objects and their end (D1, D2), several users (D9).
fn mix() -> impl Strategy<Value = OpMix> {
    select(vec![
        OpMix::default(),
        OpMix {
            create: 10,
            ..OpMix::default()
        },
        OpMix::lifetimes(),
        OpMix::security(),
    ])
}

/// The result of the last step's call (the harness records it for every step that made one).
fn last_result(h: &Harness) -> Option<HResult> {
    h.last().and_then(|r| r.result)
}

proptest! {
    #![proptest_config(config(CASES))]

    /// The kit's generic property: no sequence panics, every invariant of the checker holds after
    /// every step (D1, D2, D4, D6, D9, D10, D12, D13, T18, §1.1, §1.3, §1.5), and the run written as a
    /// scenario (the one writer) reads back as the same `Scenario` and replays in the scenario runner
    /// step for step to the same trace.
    #[test]
    fn every_run_keeps_every_invariant_and_replays_as_its_scenario(
        setup in strategies::setup(),
        draws in mix().prop_flat_map(|m| strategies::draws_with(m, 1..45)),
    ) {
        let h = run_with(&setup, &draws, |_| Ok(()))?;
        prop_assert_eq!(h.records().len(), draws.len());
        replays_as_its_scenario(&h, "generated.json")?;
    }

    /// The held enumerators of D46 in generated runs by several users: every enumerator step is
    /// judged by the harness (GetCount the snapshot's size, Next and Skip S_FALSE exactly when fewer
    /// than celt, Reset, Clone at the same position, RPC_E_DISCONNECTED once dead), every other
    /// invariant holds, and the run written as a scenario — `enum_next` with the `fetched` and
    /// `names` it observed, `check enum_count` with the count — reads back as itself and replays to
    /// the same trace.
    #[test]
    fn enumerator_runs_keep_every_invariant_and_replay_as_their_scenario(
        setup in strategies::multi_user_setup(),
        draws in strategies::draws_with(OpMix::enumerators(), 1..40),
    ) {
        let h = run_with(&setup, &draws, |_| Ok(()))?;
        replays_as_its_scenario(&h, "enumerators.json")?;
    }

    /// D1 and D2 across random interleavings (the default mix, and one weighted toward error
    /// objects, application exits and restarts): GetError succeeds iff the job entered an error state
    /// since it last entered TRANSFERRING; a held error object answers until its job enters
    /// TRANSFERRING or its application exits, and never fails before.
    #[test]
    fn error_record_and_error_object_lifetimes_across_interleavings(
        setup in strategies::setup(),
        draws in prop_oneof![strategies::draws(1..40), strategies::draws_with(OpMix::lifetimes(), 1..40)],
    ) {
        let mut tracked = Vec::new();
        run_with(&setup, &draws, |h| {
            assert_d1(h)?;
            track_held(h, &mut tracked);
            assert_d2(h, &tracked)
        })?;
    }

    /// §1.3: once a job is CANCELLED or ACKNOWLEDGED it stays there whatever happens,
    /// every mutator returns BG_E_INVALID_STATE, and getters keep working.
    #[test]
    fn final_states_absorb_and_refuse_every_mutator(
        setup in strategies::setup(),
        before in strategies::draws(0..15),
        by_complete in any::<bool>(),
        after in strategies::draws(0..15),
    ) {
        let mut h = run_with(&setup, &before, |_| Ok(()))?;
        // A job to finish, with a handle that reaches it: the newest job, or a new one.
        let target = (0..h.jobs().len()).rev().find_map(|j| {
            let hs = h.usable_handle(j)?;
            let state = h.history().job(h.jobs()[j].id)?.state;
            (!state.is_final()).then_some(hs)
        });
        let hs = match target {
            Some(hs) => hs,
            None => {
                h.step(&Draw::call(0, 0, make::connect()))?;
                h.step(&Draw::call(0, 0, make::create_job("update", bitsim::JobType::Download)))?;
                h.handles().len() - 1
            }
        };
        let finish = if by_complete { StateMethod::Complete } else { StateMethod::Cancel };
        h.step(&h.draw_for(hs, make::state(finish)))?;
        let job = h.handles()[hs].job;
        let id = h.jobs()[job].id;
        if !h.history().job(id).unwrap().state.is_final() {
            // Complete of an upload job outside TRANSFERRED is refused (D7): cancel instead.
            h.step(&h.draw_for(hs, make::state(StateMethod::Cancel)))?;
        }
        let final_state = h.history().job(id).unwrap().state;
        prop_assert!(final_state.is_final(), "{final_state} is not final");
        let handle = h.job_handle(hs).clone();
        let refuse_all = |h: &mut Harness| -> Result<(), TestCaseError> {
            for action in all_mutators() {
                h.step(&h.draw_for(hs, action.clone()))?;
                let r = last_result(h);
                let app_alive = h.history().app_alive(h.apps()[h.handles()[hs].app].id);
                if app_alive && r != Some(HResult::BG_E_INVALID_STATE) {
                    return Err(fail(h, "§1.3", format!("{action:?} on a {final_state} job returned {r:?}")));
                }
            }
            Ok(())
        };
        refuse_all(&mut h)?;
        prop_assert_eq!(handle.get_state(), Ok(final_state));
        for d in &after {
            h.step(d)?;
            let now = h.history().job(id).unwrap().state;
            if now != final_state {
                return Err(fail(&h, "§1.3", format!("the job left {final_state} for {now}")));
            }
        }
        // Handles stay usable only while their application lives and the service does not restart.
        if h.history().app_alive(h.apps()[h.handles()[hs].app].id) && h.history().generation == 0 {
            prop_assert_eq!(handle.get_state(), Ok(final_state));
            refuse_all(&mut h)?;
        }
    }

    /// D9: a standard user never sees or changes another user's job — EnumJobs lists
    /// only their own non-final jobs, EnumJobs for all users and GetJob of another's job are refused,
    /// and calls through handles to jobs that became someone else's fail with E_ACCESSDENIED.
    #[test]
    fn standard_user_never_sees_or_changes_another_users_job(
        setup in strategies::multi_user_setup(),
        draws in strategies::draws_with(OpMix::security(), 1..30),
    ) {
        let mut h = Harness::new(&setup);
        for d in &draws {
            h.step(d)?;
            let generation = h.history().generation;
            let n_apps = h.apps().len();
            for a in 0..n_apps {
                let app = h.apps()[a].clone();
                let user = &h.users()[app.user];
                if user.admin || !h.history().app_alive(app.id) {
                    continue;
                }
                let recent = (n_apps - 1 - a) as u8;
                let me = h.user_ids()[app.user];
                // A live application's manager is always current: the runner connects it again
                // after a service restart (D15).
                {
                    h.step(&Draw::call(recent, 0, make::jobs_check(true)))?;
                    last_enum(&h, Err(HResult::E_ACCESSDENIED))?;
                    h.step(&Draw::call(recent, 0, make::jobs_check(false)))?;
                    let own: Vec<usize> = (0..h.jobs().len())
                        .filter(|&j| {
                            let f = h.history().job(h.jobs()[j].id).unwrap();
                            f.owner == Some(me) && !f.state.is_final()
                        })
                        .collect();
                    last_enum(&h, Ok(own))?;
                    for j in 0..h.jobs().len() {
                        let f = h.history().job(h.jobs()[j].id).unwrap().clone();
                        if f.owner == Some(me) {
                            continue;
                        }
                        let recent_job = (h.jobs().len() - 1 - j) as u8;
                        h.step(&Draw::call(recent, recent_job, make::get_job()))?;
                        let want = if f.state.is_final() { HResult::BG_E_NOT_FOUND } else { HResult::E_ACCESSDENIED };
                        let got = last_result(&h);
                        if got != Some(want) {
                            return Err(fail(&h, "D9", format!("GetJob of another user's job: {got:?}, want {want}")));
                        }
                    }
                }
                for (hs, slot) in h.handles().iter().enumerate() {
                    let f = h.history().job(h.jobs()[slot.job].id).unwrap();
                    if slot.app != a || f.owner == Some(me) || slot.generation != generation {
                        continue;
                    }
                    let handle = h.job_handle(hs);
                    let seen = (handle.get_state().err(), handle.get_progress().err(), handle.get_display_name().err());
                    let denied = Some(HResult::E_ACCESSDENIED);
                    if seen != (denied, denied, denied) {
                        return Err(fail(&h, "D9", format!("{} reads another user's job {}: {seen:?}", app.name, slot.alias)));
                    }
                }
            }
        }
    }

    /// D6: the error count seen through GetErrorCount never decreases.
    #[test]
    fn error_count_never_decreases(
        setup in strategies::setup(),
        draws in strategies::draws(1..40),
    ) {
        let mut seen: Vec<u32> = Vec::new();
        run_with(&setup, &draws, |h| {
            seen.resize(h.jobs().len(), 0);
            for (j, last) in seen.iter_mut().enumerate() {
                let Some(hs) = h.usable_handle(j) else { continue };
                let n = h.job_handle(hs).get_error_count().map_err(|e| fail(h, "D6", format!("GetErrorCount failed: {e}")))?;
                if n < *last {
                    return Err(fail(h, "D6", format!("{}: error count went from {last} to {n}", h.jobs()[j].alias)));
                }
                *last = n;
            }
            Ok(())
        })?;
    }

    /// D13: virtual time never goes backwards; `advance(d)` moves it by exactly d.
    #[test]
    fn time_never_goes_backwards(
        setup in strategies::setup(),
        draws in strategies::draws(1..40),
    ) {
        let mut last = bitsim::SimTime::ZERO;
        let mut last_event = 0usize;
        run_with(&setup, &draws, |h| {
            let now = h.sim().now();
            if now < last {
                return Err(fail(h, "D13", format!("the clock went from {last} back to {now}")));
            }
            if let Action::Do(Op::Advance { seconds }) = h.last().unwrap().draw.action {
                if now != last + bitsim::SimDuration::from_secs(seconds) {
                    return Err(fail(h, "D13", format!("advance({seconds}) moved the clock from {last} to {now}")));
                }
            }
            let times: Vec<_> = h.sim().with_service(|s| s.trace().iter_from(last_event).map(|e| e.time).collect());
            if times.windows(2).any(|w| w[1] < w[0]) || times.last().is_some_and(|t| *t > now) {
                return Err(fail(h, "D13", format!("trace times out of order: {times:?} (now {now})")));
            }
            last = now;
            last_event += times.len();
            Ok(())
        })?;
    }
}

proptest! {
    #![proptest_config(config(300))]

    /// `replay` writes a file that loads and replays for every world it accepts, edge values
    /// included (sizes up to u64::MAX - 1, HTTP 100 and 599, escaped user names), and refuses the
    /// worlds the loader refuses (a size of BG_SIZE_UNKNOWN, HTTP 600, an empty or duplicate user
    /// name, …) with an error naming the place: such a world, written as a file, does not load.
    #[test]
    fn replay_loads_and_replays_to_the_same_trace_for_edge_worlds(
        setup in strategies::edge_setup(),
        draws in strategies::draws(1..25),
    ) {
        match replay(&setup, &draws) {
            Ok(scenario) => {
                let text = scenario.to_json();
                let back = Scenario::parse(&text, "edge.json")
                    .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
                prop_assert_eq!(&back, &scenario);
                let result = run(&back, "edge.json", &RunOptions { trace: true });
                if !result.passed {
                    return Err(TestCaseError::fail(format!("{:?}\n{text}", result.failure)));
                }
                let mut h = Harness::unchecked(&setup);
                for d in &draws {
                    let _ = h.step(d);
                }
                let replayed: Vec<String> = result.trace.into_iter().flat_map(|b| b.events).collect();
                let ours: Vec<String> =
                    h.trace_lines().into_iter().filter(|l| !l.contains(" chaos: ")).collect();
                prop_assert_eq!(ours, replayed, "{}", text);
            }
            Err(refused) => {
                prop_assert!(setup.check().is_err(), "only the world is edited here: {}", refused);
                prop_assert!(refused.place.starts_with("world."), "{}", refused);
                let sc = Scenario {
                    name: "refused".into(),
                    description: String::new(),
                    world: setup.world.clone(),
                    steps: vec![bitsim::scenario::Step {
                        app: None,
                        action: Action::Do(Op::Advance { seconds: 0 }),
                    }],
                };
                let text = sc.to_json();
                if let Ok(back) = Scenario::parse(&text, "refused.json") {
                    prop_assert_ne!(back, sc, "refused ({}) but the loader reads it:\n{}", refused, text);
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(config(250))]

    /// Worlds with HTTP gates (servers asking for credentials or a client certificate, bad server
    /// certificates, required headers, redirects, a proxy asking for credentials or invalid, D27,
    /// D30, D31): every invariant holds after every step, and the run written as a scenario reads
    /// back as itself and replays step for step to the same trace — the challenges, redirects and
    /// certificate failures included.
    #[test]
    fn http_gated_runs_keep_every_invariant_and_replay_as_their_scenario(
        setup in strategies::http_setup(),
        draws in strategies::draws_with(OpMix::http(), 1..40),
    ) {
        let h = run_with(&setup, &draws, |_| Ok(()))?;
        replays_as_its_scenario(&h, "http.json")?;
    }
}

/// Generation is driven by the property table: over a few thousand generated job steps, every
/// property of the table that has a setter is set, with at least three distinct values (values around
/// its limits, D14), and `all_mutators` (the §1.3 refusals) sets every one of them too.
#[test]
fn every_settable_property_of_the_table_is_generated() {
    use bitsim::{Prop, PropertyValue, PROPERTIES};
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    use std::collections::{BTreeMap, BTreeSet};
    let settable: BTreeSet<Prop> = PROPERTIES
        .iter()
        .filter(|d| d.setter.is_some())
        .map(|d| d.prop)
        .collect();
    assert!(settable.len() >= 6, "the table lists {settable:?}");
    let mut runner = TestRunner::new(config(1));
    let strategy = strategies::job_action(OpMix::default());
    let mut seen: BTreeMap<Prop, BTreeSet<String>> = BTreeMap::new();
    for _ in 0..4000 {
        let action = strategy.new_tree(&mut runner).unwrap().current();
        if let Action::Do(Op::Set { value, .. }) = action {
            seen.entry(value.prop()).or_default().insert(value.show());
        }
    }
    let generated: BTreeSet<Prop> = seen.keys().copied().collect();
    assert_eq!(generated, settable, "values seen: {seen:?}");
    for (prop, values) in &seen {
        // A boolean has two values; every other kind gets at least three.
        let least = if prop.scalar_kind() == Some(bitsim::ScalarKind::Bool) {
            2
        } else {
            3
        };
        assert!(values.len() >= least, "{prop:?} got only {values:?}");
    }
    let refused: BTreeSet<Prop> = all_mutators()
        .into_iter()
        .filter_map(|a| match a {
            Action::Do(Op::Set { value, .. }) => Some(PropertyValue::prop(&value)),
            _ => None,
        })
        .collect();
    assert_eq!(refused, settable);
}

/// The kit's enumerator draws reach every held-enumerator step of the contract and its outcomes:
/// `enum_jobs` for the caller and for all users (refused without administrator rights, §2.1),
/// `enum_files`, `enum_next` returning S_OK and S_FALSE, `enum_skip` both ways, `enum_reset`,
/// `enum_clone`, `check enum_count`, and each of them on an enumerator that died with its
/// application or the service (RPC_E_DISCONNECTED, D46); the written `enum_next` states what came
/// back.
#[test]
fn the_enumerator_draws_reach_every_enum_step() {
    use std::collections::BTreeSet;
    let runs = sampled_runs(
        strategies::multi_user_setup(),
        OpMix::enumerators(),
        20..40,
        300,
    );
    let mut kinds = BTreeSet::new();
    let mut names_written = 0;
    for h in runs {
        let steps = h.scenario().steps;
        kinds.extend(common::enum_kinds(&steps));
        names_written += steps
            .iter()
            .filter(|s| {
                matches!(&s.action, Action::Do(Op::EnumNext { fetched: Some(n), names: Some(v), .. })
                    if *n as usize == v.len() && *n > 0)
            })
            .count();
    }
    let want = common::enum_outcomes_wanted();
    let missing: Vec<&String> = want.iter().filter(|k| !kinds.contains(*k)).collect();
    assert!(
        missing.is_empty(),
        "never reached {missing:?} (reached {kinds:?})"
    );
    assert!(
        names_written > 20,
        "{names_written} enum_next steps state their names"
    );
}

/// The values the kit sets straddle the D14 limits: for display names (256 UTF-16 units),
/// descriptions (1,024), priorities and notify flags, some generated values are accepted and some
/// refused with the row's error, on a live job.
#[test]
fn generated_property_values_straddle_the_validation_limits() {
    use bitsim::{JobType, Prop, Sim, World};
    let sim = Sim::new(World::new());
    let alice = sim.add_user("alice", false, true);
    let app = sim.connect("app", alice).unwrap();
    let download = app.create_job("j", JobType::Download).unwrap();
    // §2.3: only an upload-reply job has a reply file name (others: E_NOTIMPL, D72).
    let reply = app.create_job("r", JobType::UploadReply).unwrap();
    for prop in strategies::settable_properties() {
        let job = if prop == Prop::ReplyFileName {
            &reply
        } else {
            &download
        };
        let mut accepted = 0;
        let mut refused = BTreeSet::new();
        for pick in 0..=u8::MAX {
            match job.set_property(&strategies::property_value(prop, pick)) {
                Ok(()) => accepted += 1,
                Err(h) => {
                    refused.insert(h);
                }
            }
        }
        assert!(accepted > 0, "{prop:?}: no generated value accepted");
        let allowed = prop.decl().errors;
        assert!(
            refused.iter().all(|h| allowed.contains(h)),
            "{prop:?} refused with {refused:?}; its row declares {allowed:?}"
        );
        if matches!(
            prop,
            Prop::DisplayName | Prop::Description | Prop::Priority | Prop::NotifyFlags
        ) {
            assert!(
                !refused.is_empty(),
                "{prop:?}: no generated value over its D14 limit"
            );
        }
    }
}

use std::collections::BTreeSet;

fn last_enum(h: &Harness, want: Result<Vec<usize>, HResult>) -> Result<(), TestCaseError> {
    match h.last_listed() {
        Some(result) => {
            let got = result.map(|mut v| {
                v.sort();
                v
            });
            if got != want {
                return Err(fail(
                    h,
                    "D9",
                    format!("EnumJobs returned {got:?}, want {want:?}"),
                ));
            }
            Ok(())
        }
        None => Err(fail(h, "D9", "EnumJobs was not made".to_string())),
    }
}

/// The kit draws Group Policy's block of background transfers (T21, D99) among the world changes:
/// generated runs reach both ends of the wait — a job blocked by the policy and one cleared when
/// the block ends or it becomes FOREGROUND — with every invariant checked after every step.
#[test]
fn generated_runs_reach_the_policy_block_and_its_end() {
    let (mut blocked, mut cleared) = (0, 0);
    for h in sampled_runs(strategies::setup(), OpMix::default(), 30..60, 200) {
        for line in h.trace_lines() {
            blocked += usize::from(line.contains("policy_blocked"));
            cleared += usize::from(line.contains("policy_cleared"));
        }
    }
    assert!(
        blocked > 0 && cleared > 0,
        "blocked {blocked}, cleared {cleared}"
    );
}

/// `n` runs drawn one after another from `setup` and steps of `mix` (a fixed seed: the same runs
/// every time), each run to its end with every invariant checked; a broken one fails the test.
fn sampled_runs(
    setup: impl Strategy<Value = Setup>,
    mix: OpMix,
    len: std::ops::Range<usize>,
    n: usize,
) -> impl Iterator<Item = Harness> {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::new(config(1));
    let strategy = (setup, strategies::draws_with(mix, len));
    (0..n).map(move |_| {
        let (setup, draws) = strategy.new_tree(&mut runner).unwrap().current();
        Harness::run(&setup, &draws).unwrap_or_else(|c| panic!("{c}"))
    })
}
