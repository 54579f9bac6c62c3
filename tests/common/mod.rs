//! Shared set-up for the integration tests.
#![allow(dead_code)]

use bitsim::*;
use std::path::{Path, PathBuf};

pub const A: &str = "https://example.test/a.bin";
pub const B: &str = "https://example.test/b.bin";
pub const LA: &str = "C:\\dl\\a.bin";
pub const LB: &str = "C:\\dl\\b.bin";

/// A machine with one logged-on standard user "alice" and her application.
pub fn alice(world: World) -> (Sim, Manager) {
    let sim = Sim::new(world);
    let u = sim.user("alice");
    let app = sim.connect("app", u).unwrap();
    (sim, app)
}

/// A world where `A` answers with `responses` then `otherwise`, size `size`.
pub fn world_a(
    size: u64,
    responses: impl IntoIterator<Item = Response>,
    otherwise: Response,
) -> World {
    World::new().remote(
        A,
        Remote::sized(size)
            .with_responses(responses)
            .otherwise(otherwise),
    )
}

/// A download job with file A, resumed.
pub fn running_job(app: &Manager) -> Job {
    let job = app.create_job("job", JobType::Download).unwrap();
    job.add_file(A, LA).unwrap();
    assert_eq!(job.resume(), Ok(HResult::S_OK));
    job
}

pub fn state(job: &Job) -> JobState {
    job.get_state().unwrap()
}

pub fn err_code(job: &Job) -> Result<(ErrorContext, HResult), HResult> {
    job.get_error()?.get_error()
}

pub fn secs(s: u64) -> SimTime {
    SimTime::from_secs(s)
}

/// The rules (spec rows) of the job's state changes, in order, from the trace.
pub fn rules(sim: &Sim, job: &Job) -> Vec<String> {
    sim.trace()
        .iter()
        .filter_map(|e| match e.kind {
            TraceKind::State {
                job: j,
                from,
                to,
                rule,
            } if j == job.id() => Some(format!("{from}->{to} {rule}")),
            _ => None,
        })
        .collect()
}

/// The package root (fixtures live below it).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `*.json` file below `dir`, sub-folders included (`fixtures/scenarios/regressions/`), sorted by
/// path — the same set `bitsim run DIR` runs.
pub fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                v.push(p);
            }
        }
    }
    v.sort();
    v
}

/// The enumerator steps among `steps`, each as `do <op> <HRESULT>` or `check enum_count <HRESULT>`
/// (what the reach tests of the testing kit's enumerator draws compare).
pub fn enum_kinds(steps: &[bitsim::scenario::Step]) -> Vec<String> {
    use bitsim::scenario::{Action, Check, Op};
    steps
        .iter()
        .filter_map(|s| match &s.action {
            Action::Do(
                op @ (Op::EnumJobs { expect, .. }
                | Op::EnumFiles { expect, .. }
                | Op::EnumNext { expect, .. }
                | Op::EnumSkip { expect, .. }
                | Op::EnumReset { expect, .. }
                | Op::EnumClone { expect, .. }),
            ) => Some(format!("do {} {expect}", op.name())),
            Action::Check(c @ Check::EnumCount { expect, .. }) => {
                Some(format!("check {} {expect}", c.name()))
            }
            _ => None,
        })
        .collect()
}

/// Every enumerator step with every outcome D46 gives it: S_OK, the short S_FALSE of Next and
/// Skip, EnumJobs ALL_USERS refused to a non-administrator, and RPC_E_DISCONNECTED from each call
/// on a held enumerator after its application exits or the service restarts.
pub fn enum_outcomes_wanted() -> Vec<String> {
    let mut want = vec![
        "do enum_jobs S_OK".to_string(),
        format!("do enum_jobs {}", HResult::E_ACCESSDENIED),
        "do enum_files S_OK".to_string(),
        "do enum_next S_OK".to_string(),
        "do enum_next S_FALSE".to_string(),
        "do enum_skip S_OK".to_string(),
        "do enum_skip S_FALSE".to_string(),
        "do enum_reset S_OK".to_string(),
        "do enum_clone S_OK".to_string(),
        "check enum_count S_OK".to_string(),
    ];
    for k in [
        "do enum_next",
        "do enum_skip",
        "do enum_reset",
        "do enum_clone",
        "check enum_count",
    ] {
        want.push(format!("{k} {}", HResult::RPC_E_DISCONNECTED));
    }
    want
}
