//! The chaos-run-to-scenario writer credits each answer chaos gave to the URL the attempt actually
//! requested: after SetRemoteName (§2.6, D42) the file's new remote, not the one it was added with.
//! A replay written with the answers under the old URL answers the new one from its script instead
//! (no fault where chaos gave one), and the replayed trace differs from the run's.

use bitsim::scenario::{
    run, Action, FileSet, Op, RunOptions, Scenario, StateMethod, UserSpec, WorldSpec,
};
use bitsim::testing::{make, replay, Draw, Harness, Setup};
use bitsim::{Chaos, JobType, Remote};

const URL: &str = "https://x.test/a.bin";
const OTHER: &str = "https://y.test/a.bin";

fn setup(seed: u64) -> Setup {
    let mut s = Setup::new(WorldSpec {
        users: vec![UserSpec {
            name: "alice".into(),
            admin: false,
            logged_on: true,
        }],
        bandwidth: Some(1000),
        remotes: vec![
            (URL.into(), Remote::sized(5000)),
            (OTHER.into(), Remote::sized(5000)),
        ],
        ..WorldSpec::default()
    });
    s.chaos = Some(Chaos::new(seed, 0.5));
    s
}

fn call(a: Action) -> Draw {
    Draw::call(0, 0, a)
}

/// A job of `URL`, renamed to `OTHER` before it starts, resumed and left to its retries for two
/// hours: every attempt requests `OTHER`.
fn draws() -> Vec<Draw> {
    vec![
        call(make::create_job("update", JobType::Download)),
        call(make::add_file(URL, "C:\\dl\\a.bin")),
        call(Action::Do(Op::SetFile {
            job: String::new(),
            file: 0,
            value: FileSet::RemoteName(OTHER.into()),
            expect: bitsim::HResult::S_OK,
        })),
        call(make::state(StateMethod::Resume)),
        Draw::env(Op::Advance { seconds: 7200 }),
    ]
}

#[test]
fn a_chaos_answer_after_set_remote_name_is_credited_to_the_new_url_and_replays() {
    let mut faulted = 0;
    for seed in 1..=8 {
        let setup = setup(seed);
        let mut h = Harness::unchecked(&setup);
        for d in &draws() {
            let _ = h.step(d);
        }
        let ours: Vec<String> = h
            .trace_lines()
            .into_iter()
            .filter(|l| !l.contains(" chaos: "))
            .collect();
        if ours
            .iter()
            .any(|l| l.contains("connect: ") && !l.contains("connect: ok"))
        {
            faulted += 1;
        }
        let scenario = replay(&setup, &draws()).expect("a world a file can state");
        let text = scenario.to_json();
        let back = Scenario::parse(&text, "renamed.json").unwrap_or_else(|e| panic!("{e}\n{text}"));
        let result = run(&back, "renamed.json", &RunOptions { trace: true });
        assert!(result.passed, "seed {seed}: {:?}\n{text}", result.failure);
        let replayed: Vec<String> = result.trace.into_iter().flat_map(|b| b.events).collect();
        assert_eq!(ours, replayed, "seed {seed}\n{text}");
    }
    assert!(
        faulted > 0,
        "chaos failed no attempt: the test shows nothing"
    );
}
