//! Testing a BITS client with the kit: the update policy of `examples/updater/policy.rs` under random
//! worlds (servers with scripted faults, chaos, network loss, service and client restarts).
//!
//! The client's BITS layer is implemented over the kit's `Harness`, so every call the client makes is
//! a recorded operation: the simulator's invariants are checked after each one, and any failing run
//! comes with a scenario file that replays it. A deliberately broken variant of the policy shows the
//! kit finding a client bug and printing the shrunk scenario.

#[path = "../examples/updater/policy.rs"]
mod policy;

use bitsim::scenario::{Action, Check, ErrorExpectation, Op, Scenario, StateMethod};
use bitsim::testing::{config, make, strategies, Draw, Harness, Record, Setup, Violation};
use bitsim::PropertyValue;
use bitsim::{ErrorContext, HResult, JobState, JobType, SimDuration, TraceKind};
use bitsim::{Network, Response};
use policy::{Bits, Outcome, Poll, UpdateConfig, Updater};
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestError, TestRunner};

/// The client's BITS layer over the harness: the client is always the newest application, and its
/// job handles are the harness's handle slots.
struct KitBits {
    h: Harness,
}

impl KitBits {
    fn step(&mut self, draw: Draw) -> &Record {
        // An invariant broken while the client runs is reported with its scenario (as a panic: the
        // client's own Result carries BITS errors only).
        if let Err(failure) = self.h.step(&draw) {
            panic!("{failure}");
        }
        self.h.last().expect("just made")
    }

    /// A call through handle slot `job`: what it returned, and the step as made.
    fn call(&mut self, job: usize, action: Action) -> (HResult, Option<Action>) {
        let draw = self.h.draw_for(job, action);
        let r = self.step(draw);
        let result = r.result.expect("a BITS call");
        (result, r.step.as_ref().map(|s| s.action.clone()))
    }

    fn unit(&mut self, job: usize, action: Action) -> Result<(), HResult> {
        returned(self.call(job, action).0).map(|_| ())
    }
}

/// An operation's HRESULT as a client sees it: success codes are values, failures errors.
fn returned(h: HResult) -> Result<HResult, HResult> {
    if h.is_success() {
        Ok(h)
    } else {
        Err(h)
    }
}

impl Bits for KitBits {
    type Job = usize;

    fn find_job(&mut self, name: &str) -> Result<Option<usize>, HResult> {
        self.step(Draw::call(0, 0, make::jobs_check(false)));
        let listed = self.h.last_listed().expect("EnumJobs was made")?;
        // Every job this client creates is called `name` (see `create_job`).
        let Some(&slot) = listed.first() else {
            return Ok(None);
        };
        match &self.h.last().unwrap().step {
            Some(step) => match &step.action {
                Action::Check(Check::Jobs { names: Some(n), .. }) => {
                    assert!(n.iter().all(|x| x == name), "the kit's job names: {n:?}")
                }
                other => panic!("not EnumJobs: {other:?}"),
            },
            None => unreachable!("EnumJobs succeeded"),
        }
        let recent = (self.h.jobs().len() - 1 - slot) as u8;
        let r = self.step(Draw::call(0, recent, make::get_job()));
        returned(r.result.expect("GetJob"))?;
        Ok(Some(self.h.handles().len() - 1))
    }
    fn create_job(&mut self, name: &str) -> Result<usize, HResult> {
        assert_eq!(name, "update", "the kit's job names");
        let r = self.step(Draw::call(0, 0, make::create_job(name, JobType::Download)));
        returned(r.result.expect("CreateJob"))?;
        Ok(self.h.handles().len() - 1)
    }
    fn add_file(&mut self, job: &usize, url: &str, local: &str) -> Result<(), HResult> {
        self.unit(*job, make::add_file(url, local))
    }
    fn set_minimum_retry_delay(&mut self, job: &usize, secs: u32) -> Result<(), HResult> {
        self.unit(*job, make::set(PropertyValue::MinimumRetryDelay(secs)))
    }
    fn resume(&mut self, job: &usize) -> Result<HResult, HResult> {
        returned(self.call(*job, make::state(StateMethod::Resume)).0)
    }
    fn state(&mut self, job: &usize) -> Result<JobState, HResult> {
        match self.call(*job, make::state_check()) {
            (_, Some(Action::Check(Check::State { is, .. }))) => Ok(is),
            (h, _) => Err(h),
        }
    }
    fn error(&mut self, job: &usize) -> Result<(ErrorContext, HResult), HResult> {
        match self.call(*job, make::error_check()) {
            (
                _,
                Some(Action::Check(Check::Error {
                    expect:
                        ErrorExpectation::Some {
                            context: Some(c),
                            code: Some(code),
                            ..
                        },
                    ..
                })),
            ) => Ok((c, code)),
            (_, Some(_)) => Err(HResult::BG_E_ERROR_INFORMATION_UNAVAILABLE),
            (h, None) => Err(h),
        }
    }
    fn complete(&mut self, job: &usize) -> Result<HResult, HResult> {
        returned(self.call(*job, make::state(StateMethod::Complete)).0)
    }
    fn cancel(&mut self, job: &usize) -> Result<HResult, HResult> {
        returned(self.call(*job, make::state(StateMethod::Cancel)).0)
    }
}

/// What happens around the client between two polls.
#[derive(Clone, Copy, Debug)]
enum Env {
    Wait,
    WaitLong,
    NetworkDown,
    NetworkUp,
    RestartService,
    RestartClient,
}

fn env() -> impl Strategy<Value = Vec<Env>> {
    proptest::collection::vec(
        prop_oneof![
            6 => Just(Env::Wait),
            2 => Just(Env::WaitLong),
            1 => Just(Env::NetworkDown),
            1 => Just(Env::NetworkUp),
            1 => Just(Env::RestartService),
            1 => Just(Env::RestartClient),
        ],
        0..20,
    )
}

/// The update client's patience in these tests: polls every 10 minutes, gives up after 6 hours of
/// transient errors or a day overall.
fn update_config(setup: &Setup) -> UpdateConfig {
    let url = setup.world.remotes[0].0.clone();
    UpdateConfig {
        transient_deadline: SimDuration::from_hours(6),
        overall_deadline: SimDuration::from_days(1),
        poll_interval: SimDuration::from_secs(600),
        ..UpdateConfig::new(&url)
    }
}

/// Run the policy (correct or `BROKEN`) until it is done, with `env` happening between polls (then
/// plain waiting). Returns the outcome and the harness with everything recorded.
fn run_policy<const BROKEN: bool>(setup: &Setup, env: &[Env]) -> (Outcome, Harness) {
    let mut bits = KitBits {
        h: Harness::new(setup),
    };
    let cfg = update_config(setup);
    let start = |bits: &mut KitBits| {
        let now = bits.h.sim().now();
        Updater::<KitBits, BROKEN>::start(bits, cfg.clone(), now).expect("the client starts")
    };
    let mut client = start(&mut bits);
    let mut env = env.iter().copied();
    for _ in 0..1000 {
        let now = bits.h.sim().now();
        match client
            .poll(&mut bits, now)
            .expect("no unexpected BITS error")
        {
            Poll::Done(outcome) => return (outcome, bits.h),
            Poll::Pending => {}
        }
        let mut step = |op: Op| {
            bits.step(Draw::env(op));
        };
        match env.next().unwrap_or(Env::Wait) {
            Env::Wait => step(Op::Advance {
                seconds: cfg.poll_interval.as_secs(),
            }),
            Env::WaitLong => step(Op::Advance { seconds: 3600 }),
            Env::NetworkDown => step(Op::Network {
                state: Network::Down,
            }),
            Env::NetworkUp => step(Op::Network { state: Network::Up }),
            restart @ (Env::RestartService | Env::RestartClient) => {
                if matches!(restart, Env::RestartService) {
                    step(Op::RestartService);
                } else {
                    step(Op::Exit);
                }
                bits.step(Draw::call(0, 0, make::connect()));
                client = start(&mut bits);
            }
        }
    }
    panic!("the client never finished");
}

fn client_failure(h: &Harness, rule: &str, message: String) -> TestCaseError {
    TestCaseError::fail(h.fail(Violation::new(rule, message)).to_string())
}

/// The client property: it completes only jobs it saw TRANSFERRED (the trace's ACKNOWLEDGED entries
/// all come from TRANSFERRED).
fn completes_only_transferred(h: &Harness) -> Result<(), TestCaseError> {
    for e in h.sim().trace().iter() {
        if let TraceKind::State {
            to: JobState::Acknowledged,
            from,
            ..
        } = e.kind
        {
            if from != JobState::Transferred {
                return Err(client_failure(
                    h,
                    "client: Complete only TRANSFERRED",
                    format!("completed a job in {from}"),
                ));
            }
        }
    }
    Ok(())
}

fn single_user_world() -> impl Strategy<Value = Setup> {
    strategies::setup().prop_map(Setup::single_user)
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn never_leaves_a_job_in_a_non_final_state(world in single_user_world(), env in env()) {
        let (outcome, h) = run_policy::<false>(&world, &env);
        for slot in h.jobs() {
            let state = h.history().job(slot.id).unwrap().state;
            if !state.is_final() {
                return Err(client_failure(&h, "client: no job left behind", format!("{outcome:?} left {} {state}", slot.alias)));
            }
        }
    }

    #[test]
    fn never_completes_a_job_that_was_not_transferred(world in single_user_world(), env in env()) {
        let (_, h) = run_policy::<false>(&world, &env);
        completes_only_transferred(&h)?;
    }

    /// With a server that answers 404 (and a network that is up whenever the client waits for it).
    #[test]
    fn reports_the_servers_http_status_on_a_404(mut world in single_user_world(), env in env()) {
        let env: Vec<Env> = env.into_iter().filter(|e| !matches!(e, Env::NetworkDown)).collect();
        world.world.network = Some(Network::Up);
        world.chaos = None;
        world.world.remotes[0].1.responses.push_front(Response::http(404));
        let (outcome, h) = run_policy::<false>(&world, &env);
        let want = Outcome::Failed { context: ErrorContext::RemoteFile, code: HResult::http(404), http_status: Some(404) };
        if outcome != want {
            return Err(client_failure(&h, "client: report the HTTP status", format!("{outcome:?}, want {want:?}")));
        }
    }

    #[test]
    fn never_creates_a_duplicate_job_after_a_restart(
        world in single_user_world(),
        mut env in env(),
        at in any::<prop::sample::Index>(),
        service in any::<bool>(),
    ) {
        let restart = if service { Env::RestartService } else { Env::RestartClient };
        let i = at.index(env.len() + 1);
        env.insert(i, restart);
        let (_, h) = run_policy::<false>(&world, &env);
        let created = h
            .records()
            .iter()
            .filter(|r| {
                matches!(r.draw.action, Action::Do(Op::CreateJob { .. })) && r.result == Some(HResult::S_OK)
            })
            .count();
        if created != 1 {
            return Err(client_failure(&h, "client: one job per update", format!("{created} jobs created")));
        }
    }
}

/// The kit finds a client bug: the broken policy completes a job it sees in TRANSIENT_ERROR. The
/// property fails, proptest shrinks the case, and the shrunk run is a scenario file of the contract.
#[test]
fn the_kit_finds_a_client_that_completes_on_transient_error() {
    let mut runner = TestRunner::new(config(1000));
    let result = runner.run(&(single_user_world(), env()), |(world, env)| {
        let (_, h) = run_policy::<true>(&world, &env);
        completes_only_transferred(&h)
    });
    let Err(TestError::Fail(reason, (world, env))) = result else {
        panic!("the broken client was not caught: {result:?}");
    };
    assert!(
        reason
            .to_string()
            .contains("completed a job in TRANSIENT_ERROR"),
        "{reason}"
    );
    let (_, h) = run_policy::<true>(&world, &env);
    let failure = h.fail(Violation::new(
        "client: Complete only TRANSFERRED",
        "the client completed a job in TRANSIENT_ERROR".into(),
    ));
    let text = failure.scenario.to_json();
    assert_eq!(
        Scenario::parse(&text, "failure.json").expect("a contract scenario"),
        failure.scenario
    );
    assert_eq!(
        bitsim::testing::run_scenario(&text),
        bitsim::testing::ScenarioVerdict::Passed,
        "the scenario replays the client's run in the scenario runner"
    );
    println!("shrunk case: world {world:?}\nenv {env:?}\n{failure}");
    assert!(failure.scenario.steps.iter().any(|s| matches!(
        s.action,
        Action::Do(Op::State {
            method: StateMethod::Complete,
            expect: HResult::BG_S_PARTIAL_COMPLETE,
            ..
        })
    )));
}
