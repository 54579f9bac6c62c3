//! Testing a BITS client with the kit: the update policy of `examples/updater/policy.rs` under random
//! worlds (servers with scripted faults, chaos, network loss, service and client restarts).
//!
//! The client's BITS layer is implemented over the kit's `Harness`, so every call the client makes is
//! a recorded operation: the simulator's invariants are checked after each one, and any failing run
//! comes with a scenario file that replays it. A deliberately broken variant of the policy shows the
//! kit finding a client bug and printing the shrunk scenario.

#[path = "../examples/updater/policy.rs"]
mod policy;

use bitsim::testing::{
    config, strategies, validate_scenario, Done, Harness, JobCall, NamePick, Op, Value, Violation,
    WorldSpec,
};
use bitsim::Response;
use bitsim::{ErrorContext, HResult, JobState, JobType, SimDuration, TraceKind};
use policy::{Bits, Outcome, Poll, UpdateConfig, Updater};
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestError, TestRunner};

/// The client's BITS layer over the harness: the client is always the newest application.
struct KitBits {
    h: Harness,
}

impl KitBits {
    fn step(&mut self, op: Op) -> Result<&Done, HResult> {
        // An invariant broken while the client runs is reported with its scenario (as a panic: the
        // client's own Result carries BITS errors only).
        if let Err(failure) = self.h.step(&op) {
            panic!("{failure}");
        }
        Ok(&self.h.steps().last().expect("just made").done)
    }

    fn call(&mut self, job: usize, call: JobCall) -> Result<Value, HResult> {
        let op = self.h.op_for(job, call);
        match self.step(op)? {
            Done::Call { result, .. } => result.clone(),
            other => panic!("not a call: {other:?}"),
        }
    }
}

impl Bits for KitBits {
    type Job = usize;

    fn find_job(&mut self, name: &str) -> Result<Option<usize>, HResult> {
        let (slots, names) = match self.step(Op::EnumJobs {
            app: 0,
            all_users: false,
        })? {
            Done::EnumJobs { result, names, .. } => (result.clone()?, names.clone()),
            other => panic!("not EnumJobs: {other:?}"),
        };
        let Some(&slot) = slots
            .iter()
            .zip(&names)
            .find(|(_, n)| *n == name)
            .map(|(s, _)| s)
        else {
            return Ok(None);
        };
        let recent = (self.h.jobs().len() - 1 - slot) as u8;
        match self.step(Op::GetJob {
            app: 0,
            job: recent,
        })? {
            Done::GetJob { result, .. } => (*result).map(Some),
            other => panic!("not GetJob: {other:?}"),
        }
    }
    fn create_job(&mut self, name: &str) -> Result<usize, HResult> {
        assert_eq!(name, NamePick::Update.text(), "the kit's job names");
        let op = Op::CreateJob {
            app: 0,
            name: NamePick::Update,
            job_type: JobType::Download,
        };
        match self.step(op)? {
            Done::CreateJob { result, .. } => (*result).map(|_| self.h.handles().len() - 1),
            other => panic!("not CreateJob: {other:?}"),
        }
    }
    fn add_file(&mut self, job: &usize, url: &str, local: &str) -> Result<(), HResult> {
        let remote = self
            .h
            .spec()
            .remote_pool()
            .iter()
            .position(|u| u == url)
            .expect("a pool URL") as u8;
        let local = self
            .h
            .spec()
            .local_pool()
            .iter()
            .position(|l| l == local)
            .expect("a pool name") as u8;
        self.call(*job, JobCall::AddFile { remote, local })
            .map(|_| ())
    }
    fn set_minimum_retry_delay(&mut self, job: &usize, secs: u32) -> Result<(), HResult> {
        self.call(*job, JobCall::SetMinimumRetryDelay(secs))
            .map(|_| ())
    }
    fn resume(&mut self, job: &usize) -> Result<HResult, HResult> {
        returned(self.call(*job, JobCall::Resume))
    }
    fn state(&mut self, job: &usize) -> Result<JobState, HResult> {
        match self.call(*job, JobCall::GetState)? {
            Value::State(s) => Ok(s),
            other => panic!("GetState gave {other:?}"),
        }
    }
    fn error(&mut self, job: &usize) -> Result<(ErrorContext, HResult), HResult> {
        match self.call(*job, JobCall::GetError { hold: false })? {
            Value::Error(c, code, _) => Ok((c, code)),
            other => panic!("GetError gave {other:?}"),
        }
    }
    fn complete(&mut self, job: &usize) -> Result<HResult, HResult> {
        returned(self.call(*job, JobCall::Complete))
    }
    fn cancel(&mut self, job: &usize) -> Result<HResult, HResult> {
        returned(self.call(*job, JobCall::Cancel))
    }
}

fn returned(r: Result<Value, HResult>) -> Result<HResult, HResult> {
    r.map(|v| match v {
        Value::Returned(h) => h,
        _ => HResult::S_OK,
    })
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
fn update_config(world: &WorldSpec) -> UpdateConfig {
    let url = world.remote_pool()[0].clone();
    UpdateConfig {
        transient_deadline: SimDuration::from_hours(6),
        overall_deadline: SimDuration::from_days(1),
        poll_interval: SimDuration::from_secs(600),
        ..UpdateConfig::new(&url)
    }
}

/// Run the policy (correct or `BROKEN`) until it is done, with `env` happening between polls (then
/// plain waiting). Returns the outcome and the harness with everything recorded.
fn run_policy<const BROKEN: bool>(world: &WorldSpec, env: &[Env]) -> (Outcome, Harness) {
    let mut h = Harness::new(world);
    for rule in bitsim::testing::KNOWN_CORE_BUGS {
        h.waive(rule); // see tests/properties.rs; one job here anyway
    }
    let mut bits = KitBits { h };
    let cfg = update_config(world);
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
            bits.step(op).expect("environment changes always happen");
        };
        match env.next().unwrap_or(Env::Wait) {
            Env::Wait => step(Op::Advance {
                secs: cfg.poll_interval.as_secs(),
            }),
            Env::WaitLong => step(Op::Advance { secs: 3600 }),
            Env::NetworkDown => step(Op::Network { up: false }),
            Env::NetworkUp => step(Op::Network { up: true }),
            restart @ (Env::RestartService | Env::RestartClient) => {
                if matches!(restart, Env::RestartService) {
                    step(Op::RestartService);
                } else {
                    step(Op::Exit { app: 0 });
                }
                step(Op::Connect { user: 0 });
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
    for e in h.sim().trace() {
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

fn single_user_world() -> impl Strategy<Value = WorldSpec> {
    strategies::world().prop_map(WorldSpec::single_user)
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
        let url = world.remote_pool()[0].clone();
        let mut remote = world.world.remotes()[&url].clone();
        remote.responses.push_front(Response::http(404));
        world.world = std::mem::take(&mut world.world)
            .network(bitsim::Network::Up)
            .with_chaos(None)
            .remote(url, remote);
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
        let created = h.steps().iter().filter(|s| matches!(s.done, Done::CreateJob { result: Ok(_), .. })).count();
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
    validate_scenario(&failure.scenario).expect("a contract scenario");
    let text = serde_json::to_string_pretty(&failure.scenario).unwrap();
    assert_eq!(
        bitsim::testing::run_scenario(&text),
        bitsim::testing::ScenarioVerdict::Passed,
        "the scenario replays the client's run in the scenario runner"
    );
    println!("shrunk case: world {world:?}\nenv {env:?}\n{failure}");
    let steps = failure.scenario["steps"].as_array().unwrap();
    assert!(steps
        .iter()
        .any(|s| s["do"] == "complete" && s["expect"] == "BG_S_PARTIAL_COMPLETE"));
}
