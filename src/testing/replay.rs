//! Scenario files from runs: [`replay`] turns a setup and a list of draws into a [`Scenario`] (the
//! contract of `docs/scenario-format.md`, written by its one writer, [`Scenario::to_json`]), every
//! step expecting what the simulator answered; a [`Counterexample`] adds, at the end, what the spec
//! requires, so the file fails while the bug is there and can be committed as a regression fixture.
//!
//! Runs with chaos are replayed exactly without chaos: the answers chaos gave each remote are read
//! back from the trace and written into the remotes' scripted `responses`.

use super::draw::{Draw, Setup, SetupError};
use super::harness::Harness;
use super::invariants::{Expect, Violation};
use crate::scenario::{Action, FileSet, Op, Scenario, Step};
use crate::trace::{RedirectOutcome, TraceKind};
use crate::world::{Fault, Remote, Response};
use crate::HResult;
use crate::JobId;
use std::collections::BTreeMap;
use std::fmt;

/// The scenario that replays `draws` from `setup`, each step expecting what it returned: a file that
/// loads (`Scenario::parse` of its `to_json` reads back as itself) and passes.
///
/// A setup or a `set_remote` step that no scenario file can state (an empty or duplicate user name,
/// a remote size of `BG_SIZE_UNKNOWN`, an HTTP status outside 100..=599, …: the loader's rules,
/// [`Setup::check_run`]) is refused with an error naming the place, instead of writing a file the
/// loader would refuse.
pub fn replay(setup: &Setup, draws: &[Draw]) -> Result<Scenario, SetupError> {
    replay_with(setup, draws, &mut |_, _| true)
}

/// [`replay`], calling `after(harness, i)` after step `i` (the fuzz targets check their bounds there);
/// the run ends after the first step for which it answers `false` (the scenario has the steps so far).
pub(crate) fn replay_with(
    setup: &Setup,
    draws: &[Draw],
    after: &mut dyn FnMut(&Harness, usize) -> bool,
) -> Result<Scenario, SetupError> {
    setup.check_run(draws)?;
    let mut h = Harness::unchecked(setup);
    for (i, d) in draws.iter().enumerate() {
        let _ = h.step(d);
        if !after(&h, i) {
            break;
        }
    }
    Ok(render(&h, None))
}

/// A broken invariant with everything needed to reproduce it.
#[derive(Clone, Debug)]
pub struct Counterexample {
    /// What broke.
    pub violation: Violation,
    /// What the run started from.
    pub setup: Setup,
    /// The steps up to and including the one after which the violation was seen.
    pub draws: Vec<Draw>,
    /// A scenario replaying them, ending with what the spec requires.
    pub scenario: Scenario,
}

impl Counterexample {
    pub(crate) fn new(h: &Harness, violation: Violation) -> Counterexample {
        Counterexample {
            scenario: render(h, Some(&violation)),
            setup: h.setup().clone(),
            draws: h.records().iter().map(|r| r.draw.clone()).collect(),
            violation,
        }
    }

    /// The scenario's name (also a good file name).
    pub fn name(&self) -> &str {
        &self.scenario.name
    }
}

impl fmt::Display for Counterexample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invariant broken: {}", self.violation)?;
        writeln!(f, "chaos: {:?}", self.setup.chaos)?;
        writeln!(f, "steps generated: {}", self.draws.len())?;
        writeln!(
            f,
            "replay (save as fixtures/scenarios/regressions/{}.json):",
            self.name()
        )?;
        write!(f, "{}", self.scenario.to_json())
    }
}

impl std::error::Error for Counterexample {}

fn fnv(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// Where a remote's behaviour was defined: the world, or a `set_remote` step.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Def {
    World,
    Step(usize),
}

/// With chaos: the answers each remote definition actually gave, in order, read from the trace.
///
/// Only attempts that reached the remote's script count: what stops at a gate (the proxy — invalid,
/// not running or asking for credentials —, the server certificate, the client certificate, the
/// server's credentials, a required header; D27, D30, D31) consumes no scripted answer and no chaos,
/// and stops at the same gate on replay. The trace marks such attempts (`TraceKind::Attempt::gate`).
///
/// Each answer is credited to the URL the attempt requested: the file's remote name as it is at
/// that attempt (the one it was added with, then SetRemoteName's, §2.6, and the renames the trace
/// records: ReplaceRemotePrefix, a redirect reported or refused, D30), and along a redirect each
/// hop's (the redirect answer to the URL that gave it, the final answer to the last one; a refused
/// redirect ends the attempt with no further answer).
fn observed_answers(h: &Harness) -> BTreeMap<(String, Def), Vec<Response>> {
    let mut current: BTreeMap<String, Def> = BTreeMap::new();
    let mut seen: BTreeMap<(String, Def), Vec<Response>> = BTreeMap::new();
    // The remote name of each file (job, index) once it differs from the one it was added with.
    let mut renamed: BTreeMap<(JobId, u32), String> = BTreeMap::new();
    h.sim().with_service(|s| {
        let trace = s.trace();
        // The attempts (job, file) under way that stopped at a refused redirect (an attempt stopped
        // at a gate, a proxy's included, says so itself).
        let mut stopped = std::collections::BTreeSet::new();
        // The attempts under way that a redirect sent on: the URL of their next hop.
        let mut hop: BTreeMap<(JobId, u32), String> = BTreeMap::new();
        for (i, rec) in h.records().iter().enumerate() {
            match &rec.step {
                Some(Step {
                    action: Action::Do(Op::SetRemote { url, .. }),
                    ..
                }) => {
                    current.insert(url.clone(), Def::Step(i));
                }
                Some(Step {
                    action:
                        Action::Do(Op::SetFile {
                            job,
                            file,
                            value: FileSet::RemoteName(url),
                            ..
                        }),
                    ..
                }) if rec.result.is_some_and(HResult::is_success) => {
                    if let Some(j) = h.jobs().iter().find(|j| j.alias == *job) {
                        renamed.insert((j.id, *file), url.clone());
                    }
                }
                _ => {}
            }
            for ev in trace.range(rec.trace.0..rec.trace.1) {
                match ev.kind {
                    TraceKind::RemoteNameChanged { job, file, to } => {
                        renamed.insert((job, file), to.as_str().to_string());
                        continue;
                    }
                    TraceKind::Redirected {
                        job,
                        file,
                        status,
                        from,
                        to,
                        outcome,
                    } => {
                        // The script of `from` answered with this redirect.
                        let (from, to) = (from.as_str(), to.as_str());
                        let index = s
                            .world()
                            .remotes
                            .get(from)
                            .and_then(|r| r.http.as_deref())
                            .and_then(|h| h.redirects.iter().position(|u| u == to));
                        if let Some(index) = index.and_then(|n| u16::try_from(n).ok()) {
                            let def = *current.get(from).unwrap_or(&Def::World);
                            seen.entry((from.to_string(), def))
                                .or_default()
                                .push(Response::Redirect { status, to: index });
                        }
                        if outcome == RedirectOutcome::Refused {
                            stopped.insert((job, file));
                        } else {
                            hop.insert((job, file), to.to_string());
                        }
                        continue;
                    }
                    _ => {}
                }
                let (job, file, result, after_bytes) = match ev.kind {
                    TraceKind::Attempt {
                        job,
                        file,
                        result,
                        gate,
                    } => {
                        if gate {
                            // Stopped at a gate before the script: no scripted answer used, the
                            // replay stops at the same gate (and a redirect hop under way ends).
                            hop.remove(&(job, file));
                            continue;
                        }
                        (job, file, result, None)
                    }
                    TraceKind::AttemptCut {
                        job,
                        file,
                        result,
                        after_bytes,
                    } => (job, file, result, Some(after_bytes)),
                    _ => continue,
                };
                let hopped = hop.remove(&(job, file));
                if stopped.remove(&(job, file)) {
                    continue;
                }
                let Some(url) = hopped
                    .or_else(|| renamed.get(&(job, file)).cloned())
                    .or_else(|| {
                        h.jobs()
                            .iter()
                            .find(|j| j.id == job)
                            .and_then(|j| j.files.get(file as usize))
                            .cloned()
                    })
                else {
                    continue;
                };
                let def = *current.get(&url).unwrap_or(&Def::World);
                let answer = if result == HResult::S_OK {
                    Response::Ok
                } else {
                    let fault = match (result.http_status(), result.win32_code()) {
                        (Some(s), _) => Fault::Http(s),
                        (None, Some(n)) => Fault::Win32(n),
                        _ => Fault::HResult(result),
                    };
                    Response::Fail { fault, after_bytes }
                };
                seen.entry((url, def)).or_default().push(answer);
            }
        }
    });
    seen
}

/// `base` with its first answers replaced by the ones observed.
fn replayed(base: &Remote, observed: Option<&Vec<Response>>) -> Remote {
    let Some(obs) = observed else {
        return base.clone();
    };
    let mut r = base.clone();
    let rest: Vec<Response> = base.responses.iter().skip(obs.len()).copied().collect();
    r.responses = obs.iter().copied().chain(rest).collect();
    renumber_redirects(&mut r);
    r
}

/// A file states a redirect target only inside the answer that uses it, so the loader numbers a
/// remote's targets in the order its answers name them (the responses, then `otherwise`), each once.
/// Once observed answers replaced the script, the remote's targets are renumbered that way: the
/// targets no answer uses any more (a redirect chaos answered in place of) go, and the rest are
/// numbered as the file will number them; with neither a target nor a gate left, the remote has no
/// HTTP part, as a file without them has none.
fn renumber_redirects(r: &mut Remote) {
    let Some(http) = r.http.as_deref_mut() else {
        return;
    };
    let old = std::mem::take(&mut http.redirects);
    for answer in r
        .responses
        .iter_mut()
        .chain(std::iter::once(&mut r.otherwise))
    {
        if let Response::Redirect { to, .. } = answer {
            let Some(url) = old.get(usize::from(*to)) else {
                continue;
            };
            let at = match http.redirects.iter().position(|u| u == url) {
                Some(i) => i,
                None => {
                    http.redirects.push(url.clone());
                    http.redirects.len() - 1
                }
            };
            *to = u16::try_from(at).unwrap_or(u16::MAX);
        }
    }
    if *http == crate::world::RemoteHttp::new() {
        r.http = None;
    }
}

/// The scenario of the harness's steps; with a violation, ending with what the spec requires.
pub(crate) fn render(h: &Harness, violation: Option<&Violation>) -> Scenario {
    let chaos = h.setup().chaos.is_some();
    let answers = if chaos {
        observed_answers(h)
    } else {
        BTreeMap::new()
    };
    let mut steps: Vec<(usize, Step)> = Vec::new();
    for (i, rec) in h.records().iter().enumerate() {
        let Some(step) = &rec.step else { continue };
        let mut step = step.clone();
        if let Action::Do(Op::SetRemote { url, remote }) = &mut step.action {
            **remote = replayed(remote, answers.get(&(url.clone(), Def::Step(i))));
        }
        steps.push((i, step));
    }
    if let Some(e) = violation.and_then(|v| v.expect.as_ref()) {
        expect(h, &mut steps, e);
    }
    let mut world = h.setup().world.clone();
    for (url, r) in &mut world.remotes {
        *r = replayed(r, answers.get(&(url.clone(), Def::World)));
    }
    for ((url, def), obs) in &answers {
        if *def == Def::World && !world.remotes.iter().any(|(u, _)| u == url) {
            // Chaos also hit a URL nobody serves: keep its answers, then "name not resolved".
            let base = Remote::default().otherwise(Response::win32(12007));
            world
                .remotes
                .push((url.clone(), replayed(&base, Some(obs))));
        }
    }
    let steps: Vec<Step> = steps.into_iter().map(|(_, s)| s).collect();
    let mut sc = Scenario {
        name: String::new(),
        description: String::new(),
        world,
        steps,
    };
    let hash = fnv(&sc.to_json());
    let n = h.records().len();
    let (name, mut description) = match violation {
        Some(v) => {
            let slug: String = v
                .rule
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
                .collect();
            (
                format!("regression-{}-{hash:08x}", slug.trim_matches('-')),
                format!(
                    "Found by bitsim::testing: {v}. Replays {n} generated steps; every step expects \
                     what the simulator answered{}.",
                    if v.expect.is_some() {
                        ", and the last expectation is what the spec requires"
                    } else {
                        ""
                    }
                ),
            )
        }
        None => (
            format!("generated-{hash:08x}"),
            format!(
                "Generated by bitsim::testing from {n} steps; every step expects what the simulator \
                 answered."
            ),
        ),
    };
    if chaos {
        description.push_str(
            " Note: chaos faults are written as the remotes' scripted responses, as the run met them.",
        );
    }
    sc.name = name;
    sc.description = description;
    sc
}

/// Apply what the spec requires (a violation's expectation) to the replay.
fn expect(h: &Harness, steps: &mut Vec<(usize, Step)>, e: &Expect) {
    match e {
        Expect::Returns { step, hresult } => {
            let last = steps.iter_mut().rev().find(|(i, s)| {
                *i == *step
                    && matches!(&s.action, Action::Do(op) if op.clone().expect_mut().is_some())
            });
            if let Some((
                _,
                Step {
                    action: Action::Do(op),
                    ..
                },
            )) = last
            {
                if let Some(x) = op.expect_mut() {
                    *x = *hresult;
                }
            }
        }
        Expect::Then(step) => steps.push((usize::MAX, step.clone())),
        Expect::Job { job, check } => {
            // A handle that still reaches the job: the newest of a live application of this
            // generation.
            let generation = h.sim().with_service(|s| s.generation());
            let live = (0..h.handles().len()).rev().find(|&i| {
                let slot = &h.handles()[i];
                h.jobs()[slot.job].id == *job
                    && slot.generation == generation
                    && h.history().app_alive(h.apps()[slot.app].id)
            });
            if let Some(hs) = live {
                let slot = &h.handles()[hs];
                let mut action = Action::Check(check.clone());
                if let Some(j) = action.job_mut() {
                    *j = slot.alias.clone();
                }
                steps.push((
                    usize::MAX,
                    Step {
                        app: Some(h.apps()[slot.app].name.clone()),
                        action,
                    },
                ));
            }
        }
    }
}
