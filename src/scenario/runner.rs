//! Running a valid scenario against the public API (`Sim`, `Manager`, `Job`, `CopyError`).
//!
//! The runner holds what a real client would hold: per application, its `Manager` and one job handle
//! per alias. A job alias names a job (its id, like a GUID saved by a client); an application that uses
//! an alias it has no live handle for obtains one with `Manager::get_job`, and if that fails the step's
//! result is that HRESULT. After `restart_service` every handle is dead (D15): the runner drops them
//! and each running application re-creates its manager (`Manager::reconnect`, as a client calls
//! CoCreateInstance again); job handles are then obtained again on first use. Error objects are kept, so a check can see them fail.

use super::checks;
use super::types::{Action, Op, Scenario, Step, WorldSpec, DEFAULT_APP};
use crate::api::{CopyError, Job, Manager, Sim};
use crate::engine::DEFAULT_MAX_STEPS;
use crate::scenario::observe::{Observed, Seen};
use crate::world::{Chaos, World};
use crate::{AppId, HResult, JobId, SimDuration, SimTime, UserId};
use std::collections::BTreeMap;

/// How to run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Keep the rendered trace of every step in the result.
    pub trace: bool,
}

/// The outcome of one scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioResult {
    /// The file it came from.
    pub file: String,
    /// The scenario's name.
    pub name: String,
    /// Every step ran and every expectation held.
    pub passed: bool,
    /// Steps run, the failing one included.
    pub steps_run: usize,
    /// The first failure (a failing step stops its scenario).
    pub failure: Option<StepFailure>,
    /// The trace per step (empty unless [`RunOptions::trace`]).
    pub trace: Vec<TraceBlock>,
}

/// Why a step failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepFailure {
    /// 0-based index into `steps` (as in the JSON pointer `/steps/N`).
    pub step: usize,
    /// The step in short (`check state j is TRANSFERRED`).
    pub what: String,
    /// What the scenario expected.
    pub expected: String,
    /// What the simulator gave.
    pub actual: String,
    /// A sentence explaining the difference.
    pub message: String,
}

/// The trace events of one step (or of the setup), rendered with the scenario's names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceBlock {
    /// `setup`, or the step's index and a short description.
    pub heading: String,
    /// One line per event, each starting with its virtual time.
    pub events: Vec<String>,
}

/// A mismatch found while running a step.
#[derive(Debug)]
pub(crate) struct Fail {
    pub expected: String,
    pub actual: String,
    pub message: String,
}

pub(crate) type Outcome = Result<(), Fail>;

/// One application as the runner tracks it.
pub(crate) struct AppRun {
    /// Its manager (a new one, for the same application, after each service restart).
    pub manager: Manager,
    /// Live job handles by alias.
    pub handles: BTreeMap<String, Job>,
    /// The service generation its manager belongs to.
    pub generation: u32,
}

/// Where the last job method call went: the application, the job and the trace around the call.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(not(feature = "testing"), allow(dead_code))] // used by the testing kit
pub(crate) struct Site {
    pub app: AppId,
    pub job: JobId,
    pub generation: u32,
    pub before: usize,
    pub after: usize,
}

/// The state of a run.
pub(crate) struct Runner {
    pub sim: Sim,
    pub users: BTreeMap<String, UserId>,
    pub apps: BTreeMap<String, AppRun>,
    /// Alias → job id (`None` when the binding call failed).
    pub jobs: BTreeMap<String, Option<JobId>>,
    /// Error alias → object (`None` when the get_error call failed).
    pub errors: BTreeMap<String, Option<CopyError>>,
    /// Enumerator alias → object (`None` when the binding call failed; D46).
    pub enums: BTreeMap<String, Option<super::ops::HeldEnum>>,
    /// The first alias of each job, for messages and traces.
    pub job_names: BTreeMap<JobId, String>,
    /// With the testing kit: every BITS call made, as its invariant checker reads it.
    pub log: Option<Vec<Observed>>,
    /// The last job method call.
    pub site: Option<Site>,
    /// Observe mode: the applications a `check notifications` was left out for, because deliveries
    /// had been dropped (D22). That check took the log, but a replay without it would not: every
    /// later notifications check of the application is left out too.
    pub(crate) notifications_lost: std::collections::BTreeSet<String>,
    /// What the last successful `enum_next` handed out (names as its `names` states them), for
    /// observe mode to write as the step's `fetched` and `names`.
    pub(crate) next_seen: Option<Vec<String>>,
    /// User id → name, for traces.
    user_names: BTreeMap<UserId, String>,
    /// The current application of each name, id → name, for traces.
    app_names: BTreeMap<AppId, String>,
}

/// Receives the rendered trace while a scenario runs, so that `bitsim run --trace` can write it out
/// as it comes instead of holding it (a retry storm renders millions of lines).
pub trait TraceSink {
    /// The events of the setup or of one step follow (`setup`, or `[i] description`).
    fn heading(&mut self, heading: &str);
    /// One event; `render` gives its line (call it only for lines that are kept).
    fn event(&mut self, render: &mut dyn FnMut() -> String);
}

/// Collects the trace into [`TraceBlock`]s (what [`run`] keeps with [`RunOptions::trace`]).
impl TraceSink for Vec<TraceBlock> {
    fn heading(&mut self, heading: &str) {
        self.push(TraceBlock {
            heading: heading.to_string(),
            events: Vec::new(),
        });
    }

    fn event(&mut self, render: &mut dyn FnMut() -> String) {
        if let Some(b) = self.last_mut() {
            b.events.push(render());
        }
    }
}

/// Run one scenario. Never panics on a valid [`Scenario`]; every problem is a step failure.
pub fn run(sc: &Scenario, file: &str, opts: &RunOptions) -> ScenarioResult {
    run_keeping(sc, file, opts, None)
}

/// [`run`] with `--keep-sandbox DIR`: a `"sandbox": true` scenario materialises its files in
/// `DIR/<scenario name>/` and they stay there (`None`: a fresh folder, removed afterwards).
pub fn run_keeping(
    sc: &Scenario,
    file: &str,
    opts: &RunOptions,
    keep_sandbox: Option<&std::path::Path>,
) -> ScenarioResult {
    let mut trace = Vec::new();
    let sink: Option<&mut dyn TraceSink> = if opts.trace { Some(&mut trace) } else { None };
    let mut result = run_with(sc, file, sink, keep_sandbox);
    result.trace = trace;
    result
}

/// Run one scenario, giving its trace to `sink` step by step (the result's `trace` stays empty).
pub fn run_traced(sc: &Scenario, file: &str, sink: &mut dyn TraceSink) -> ScenarioResult {
    run_with(sc, file, Some(sink), None)
}

/// [`run_traced`] with `--keep-sandbox DIR`.
pub fn run_traced_keeping(
    sc: &Scenario,
    file: &str,
    sink: &mut dyn TraceSink,
    keep_sandbox: Option<&std::path::Path>,
) -> ScenarioResult {
    run_with(sc, file, Some(sink), keep_sandbox)
}

/// The sandbox folder of one run; a fresh one is removed when the run ends.
struct SandboxDir {
    path: std::path::PathBuf,
    remove: bool,
}

impl Drop for SandboxDir {
    fn drop(&mut self) {
        if self.remove {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Where this run's files go: the scenario's folder, DIR/<name>/ with `--keep-sandbox`, or a fresh
/// folder under the system's temporary folder.
fn sandbox_dir(sc: &Scenario, keep: Option<&std::path::Path>) -> Option<SandboxDir> {
    use super::types::SandboxSpec;
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    match sc.world.sandbox.as_ref()? {
        SandboxSpec::Dir(d) => Some(SandboxDir {
            path: d.clone(),
            remove: false,
        }),
        SandboxSpec::Fresh => Some(match keep {
            Some(dir) => {
                // The scenario's name, made a single safe folder name.
                let name: String = sc
                    .name
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect();
                let name = if name.is_empty() || name.chars().all(|c| c == '.') {
                    "_".to_string()
                } else {
                    name
                };
                let path = dir.join(name);
                let _ = std::fs::remove_dir_all(&path);
                SandboxDir {
                    path,
                    remove: false,
                }
            }
            None => SandboxDir {
                path: std::env::temp_dir().join(format!(
                    "bitsim-sandbox-{}-{}",
                    std::process::id(),
                    NEXT.fetch_add(1, Ordering::Relaxed)
                )),
                remove: true,
            },
        }),
    }
}

fn run_with(
    sc: &Scenario,
    file: &str,
    mut sink: Option<&mut dyn TraceSink>,
    keep_sandbox: Option<&std::path::Path>,
) -> ScenarioResult {
    let dir = sandbox_dir(sc, keep_sandbox);
    if let Some(d) = &dir {
        if d.remove {
            let _ = std::fs::remove_dir_all(&d.path);
        }
    }
    let mut r = Runner::start_in(&sc.world, None, dir.as_ref().map(|d| d.path.clone()));
    // Without a sink nothing reads the trace: the engine stops recording it.
    r.sim.with_service_mut(|s| s.set_tracing(sink.is_some()));
    r.collect_trace(&mut sink, || "setup".to_string());
    let mut failure = None;
    let mut steps_run = 0;
    for (i, step) in sc.steps.iter().enumerate() {
        steps_run = i + 1;
        let outcome = r.step(step);
        r.collect_trace(&mut sink, || format!("[{i}] {}", describe(step)));
        if let Err(f) = outcome {
            failure = Some(StepFailure {
                step: i,
                what: describe(step),
                expected: f.expected,
                actual: f.actual,
                message: f.message,
            });
            break;
        }
    }
    ScenarioResult {
        file: file.to_string(),
        name: sc.name.clone(),
        passed: failure.is_none(),
        steps_run,
        failure,
        trace: Vec::new(),
    }
}

impl WorldSpec {
    /// The simulator's world for this spec (no chaos: scenario files script every answer).
    pub fn to_world(&self) -> World {
        let mut world = World::new();
        if let Some(b) = self.bandwidth {
            world.bandwidth = b;
        }
        if let Some(n) = self.network {
            world.network = n;
        }
        for (url, remote) in &self.remotes {
            world.put_remote(url.clone(), remote.clone());
        }
        for (path, size) in &self.locals {
            world = world.local(path.clone(), *size);
        }
        if let Some(c) = self.options.default_cost_flags {
            world = world.default_cost_flags(c);
        }
        if let Some(t) = self.options.inactivity_timeout {
            world = world.inactivity_timeout(t);
        }
        if let Some(c) = self.options.network_cost {
            world = world.network_cost(c);
        }
        if self.options.block_background {
            world = world.block_background_by_policy(true);
        }
        for (path, body) in &self.local_content {
            world.local_content.insert(path.clone(), body.clone());
        }
        for (path, secs) in &self.local_modified {
            world = world.local_modified(path.clone(), *secs);
        }
        if let Some(p) = &self.system_proxy {
            world = world.system_proxy(p.clone());
        }
        for (name, p) in &self.proxies {
            world = world.proxy(name.clone(), p.clone());
        }
        for c in &self.certificates {
            world = world.certificate(c.clone());
        }
        world.notify = self.notify.clone();
        world
    }
}

impl Runner {
    /// A machine for `w` (with `chaos`, for the testing kit), the default application connected,
    /// files materialised in `sandbox` (`None`: nowhere).
    pub(crate) fn start_in(
        w: &WorldSpec,
        chaos: Option<Chaos>,
        sandbox: Option<std::path::PathBuf>,
    ) -> Runner {
        let mut world = w.to_world();
        world.chaos = chaos;
        world.sandbox = sandbox;
        let sim = Sim::new(world);
        let mut users = BTreeMap::new();
        let mut user_names = BTreeMap::new();
        let mut first = None;
        for u in w.effective_users() {
            let id = sim.add_user(&u.name, u.admin, u.logged_on);
            if let Some((_, integrity, elevated)) =
                w.options.user_tokens.iter().find(|t| t.0 == u.name)
            {
                let (integrity, elevated) = (*integrity, *elevated);
                sim.with_service_mut(|s| s.set_user_token(id, integrity, elevated));
            }
            first.get_or_insert(id);
            user_names.insert(id, u.name.clone());
            users.insert(u.name, id);
        }
        let mut r = Runner {
            sim,
            users,
            apps: BTreeMap::new(),
            jobs: BTreeMap::new(),
            errors: BTreeMap::new(),
            enums: BTreeMap::new(),
            job_names: BTreeMap::new(),
            user_names,
            app_names: BTreeMap::new(),
            log: None,
            site: None,
            notifications_lost: std::collections::BTreeSet::new(),
            next_seen: None,
        };
        if let Some(user) = first {
            r.connect(DEFAULT_APP, user);
        }
        r
    }

    pub(super) fn connect(&mut self, app: &str, user: UserId) {
        let m = self
            .sim
            .connect(app, user)
            .expect("the runner connects only users it added to its own Sim");
        let id = m.app();
        let generation = self.generation();
        let previous = self.apps.insert(
            app.to_string(),
            AppRun {
                manager: m,
                handles: BTreeMap::new(),
                generation,
            },
        );
        if let Some(p) = previous {
            self.app_names.remove(&p.manager.app());
        }
        self.app_names.insert(id, app.to_string());
    }

    /// Events in the trace so far.
    pub(crate) fn trace_len(&self) -> usize {
        self.sim.with_service(|s| s.trace().len())
    }

    /// Service restarts so far.
    /// GetCount of the enumerator bound as `alias` (`None`: no such alias, or the call that binds it
    /// failed; D46).
    #[cfg_attr(not(feature = "testing"), allow(dead_code))] // used by the testing kit
    pub(crate) fn enum_count(&self, alias: &str) -> Option<Result<u32, HResult>> {
        match self.enums.get(alias)?.as_ref()? {
            super::ops::HeldEnum::Jobs(e) => Some(e.get_count()),
            super::ops::HeldEnum::Files(e) => Some(e.get_count()),
        }
    }

    pub(crate) fn generation(&self) -> u32 {
        self.sim.with_service(|s| s.generation())
    }

    /// Log what a call made at trace length `before` saw (only with the testing kit's log on).
    pub(crate) fn note(&mut self, before: usize, seen: impl FnOnce() -> Seen) {
        if self.log.is_some() {
            let after = self.trace_len();
            let seen = seen();
            if let Some(log) = &mut self.log {
                log.push(Observed {
                    before,
                    after,
                    step: None,
                    seen,
                });
            }
        }
    }

    /// The application's manager, its id and generation.
    pub(crate) fn manager_of(&self, app: &str) -> Result<(Manager, AppId, u32), Fail> {
        let m = self.manager(app)?.clone();
        let generation = self.apps.get(app).map_or(0, |a| a.generation);
        Ok((m.clone(), m.app(), generation))
    }

    /// Call `f` through `app`'s handle for `alias` (obtained with GetJob when it holds none),
    /// remembering where the call went ([`Runner::site`]); `Ok(Err(h))` when GetJob fails with `h`.
    pub(crate) fn call<T>(
        &mut self,
        app: &str,
        alias: &str,
        f: impl FnOnce(&Job) -> T,
    ) -> Result<Result<T, HResult>, Fail> {
        self.site = None;
        let job = match self.handle(app, alias)? {
            Ok(j) => j,
            Err(h) => return Ok(Err(h)),
        };
        let before = if self.log.is_some() {
            self.trace_len()
        } else {
            0
        };
        let r = f(&job);
        if self.log.is_some() {
            self.site = Some(Site {
                app: job_app(self, app),
                job: job.id(),
                generation: self.generation(),
                before,
                after: self.trace_len(),
            });
        }
        Ok(Ok(r))
    }

    /// Give the events recorded since the last call to `sink` under `heading`. The name maps are
    /// kept up to date as users and applications appear, not rebuilt per step.
    fn collect_trace(
        &self,
        sink: &mut Option<&mut dyn TraceSink>,
        heading: impl FnOnce() -> String,
    ) {
        let Some(sink) = sink else { return };
        let events = self.sim.with_service_mut(|s| s.take_trace());
        sink.heading(&heading());
        for e in &events {
            sink.event(&mut || {
                e.render(
                    &|j| self.job_name(j),
                    &|u| {
                        self.user_names
                            .get(&u)
                            .cloned()
                            .unwrap_or_else(|| format!("{u:?}"))
                    },
                    &|a| {
                        self.app_names
                            .get(&a)
                            .cloned()
                            .unwrap_or_else(|| format!("{a:?}"))
                    },
                )
            });
        }
    }

    /// The whole trace so far rendered as [`TraceBlock`] lines are (for the testing kit, which keeps
    /// the trace instead of taking it step by step).
    #[cfg_attr(not(feature = "testing"), allow(dead_code))] // used by the testing kit
    pub(crate) fn render_all(&self) -> Vec<String> {
        let users: BTreeMap<UserId, String> =
            self.users.iter().map(|(n, id)| (*id, n.clone())).collect();
        let apps: BTreeMap<AppId, String> = self
            .apps
            .iter()
            .map(|(n, a)| (a.manager.app(), n.clone()))
            .collect();
        self.sim
            .trace()
            .iter()
            .map(|e| {
                e.render(
                    &|j| self.job_name(j),
                    &|u| users.get(&u).cloned().unwrap_or_else(|| format!("{u:?}")),
                    &|a| apps.get(&a).cloned().unwrap_or_else(|| format!("{a:?}")),
                )
            })
            .collect()
    }

    /// The alias a job is known by (its GUID when it has none).
    pub fn job_name(&self, id: JobId) -> String {
        self.job_names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| id.guid())
    }

    /// The application's current manager. Validation guarantees the application connected.
    pub fn manager(&self, app: &str) -> Result<&Manager, Fail> {
        self.apps.get(app).map(|a| &a.manager).ok_or_else(|| Fail {
            expected: format!("application {app:?} connected"),
            actual: "not connected".to_string(),
            message: format!("application {app:?} is not connected"),
        })
    }

    /// The job an alias names, or a failure when its binding call failed.
    pub fn job_id(&self, alias: &str) -> Result<JobId, Fail> {
        match self.jobs.get(alias) {
            Some(Some(id)) => Ok(*id),
            _ => Err(Fail {
                expected: format!("job alias {alias:?} bound to a job"),
                actual: "no job".to_string(),
                message: format!(
                    "job alias {alias:?} names no job: the step that should have bound it failed"
                ),
            }),
        }
    }

    /// `app`'s handle for `alias`, obtained with GetJob when it holds none: `Ok(Err(h))` when GetJob
    /// fails with `h`.
    pub fn handle(&mut self, app: &str, alias: &str) -> Result<Result<Job, HResult>, Fail> {
        if let Some(h) = self.apps.get(app).and_then(|a| a.handles.get(alias)) {
            return Ok(Ok(h.clone()));
        }
        let id = self.job_id(alias)?;
        let (manager, app_id, generation) = self.manager_of(app)?;
        let before = if self.log.is_some() {
            self.trace_len()
        } else {
            0
        };
        let r = manager.get_job(id);
        let result = r.as_ref().map(|_| ()).map_err(|e| *e);
        self.note(before, || Seen::GetJob {
            app: app_id,
            generation,
            job: id,
            result,
        });
        match r {
            Ok(job) => {
                if let Some(a) = self.apps.get_mut(app) {
                    a.handles.insert(alias.to_string(), job.clone());
                }
                Ok(Ok(job))
            }
            Err(h) => Ok(Err(h)),
        }
    }

    fn step(&mut self, step: &Step) -> Outcome {
        let app = step.app_name().to_string();
        match &step.action {
            Action::Do(op) => self.op(&app, op),
            Action::Check(c) => checks::check(self, &app, c),
        }
    }

    /// The step run in observe mode (the testing kit's): nothing is compared; the result is the step
    /// with every expectation replaced by what the simulator answered — `expect` of an operation,
    /// the values of a check — and the HRESULT of the step's BITS call (S_OK for a check that read
    /// its values). A check whose getter failed has no scenario form (checks carry no `expect`): its
    /// step is `None`. With [`Runner::log`] on, every call is logged for the invariant checker.
    #[cfg_attr(not(feature = "testing"), allow(dead_code))] // used by the testing kit
    pub(crate) fn observe(&mut self, step: &Step) -> (Option<Step>, Option<HResult>) {
        let app = step.app_name().to_string();
        let (action, result) = match &step.action {
            Action::Do(op) => match self.perform(&app, op) {
                Ok(Some((_, _, actual, _))) => {
                    let mut op = op.clone();
                    if let Some(e) = op.expect_mut() {
                        *e = actual;
                    }
                    // Next states what came back: `fetched` and `names` on success, neither on a
                    // failure (the loader refuses them there).
                    if let Op::EnumNext { fetched, names, .. } = &mut op {
                        let got = self.next_seen.take().filter(|_| actual.is_success());
                        *fetched = got
                            .as_ref()
                            .map(|v| u32::try_from(v.len()).unwrap_or(u32::MAX));
                        *names = got;
                    }
                    (Some(Action::Do(op)), Some(actual))
                }
                // Environment steps; a failure is `run_until_idle` giving up, which the replay
                // meets in the same way.
                Ok(None) | Err(_) => (Some(Action::Do(op.clone())), None),
            },
            Action::Check(c) => match checks::observe(self, &app, c) {
                Ok((seen, result)) => (seen.map(Action::Check), Some(result)),
                Err(_) => (None, None),
            },
        };
        if let (Some(site), Some(alias), Some(result)) =
            (self.site.take(), step.action.job(), result)
        {
            let held = match &step.action {
                Action::Do(op) => op.holds().cloned(),
                Action::Check(_) => None,
            };
            let seen = Seen::JobCall {
                app: site.app,
                handle: Some((app.clone(), alias.to_string())),
                handle_generation: site.generation,
                job: site.job,
                action: action.clone().unwrap_or_else(|| step.action.clone()),
                held,
                result,
            };
            if let Some(log) = &mut self.log {
                log.push(Observed {
                    before: site.before,
                    after: site.after,
                    step: None,
                    seen,
                });
            }
        }
        let step = action.map(|action| Step {
            app: step.app.clone(),
            action,
        });
        (step, result)
    }

    fn op(&mut self, app: &str, op: &Op) -> Outcome {
        let Some((method, expect, actual, note)) = self.perform(app, op)? else {
            return Ok(());
        };
        if actual == expect {
            return Ok(());
        }
        Err(Fail {
            expected: expect.to_string(),
            actual: actual.to_string(),
            message: format!("{method} returned {actual}, but the scenario expects {expect}{note}"),
        })
    }

    /// Make the operation's call: `(method, expected, actual, note)`, or `None` for an operation
    /// that calls no BITS method.
    fn perform(
        &mut self,
        app: &str,
        op: &Op,
    ) -> Result<Option<(&'static str, HResult, HResult, String)>, Fail> {
        self.site = None;
        // Each operation's call is made by its declaration (`super::ops`).
        let Some((actual, note)) = super::ops::run(op, self, app)? else {
            return Ok(None);
        };
        let method = op.method().unwrap_or_else(|| op.name());
        let expect = op.expect().copied().unwrap_or(HResult::S_OK);
        Ok(Some((method, expect, actual, note)))
    }

    /// Call `f` on `app`'s handle for `alias`; when no handle can be obtained, the result is GetJob's
    /// HRESULT and the note says so.
    pub(super) fn with_job(
        &mut self,
        app: &str,
        alias: &str,
        f: impl FnOnce(&Job) -> HResult,
    ) -> Result<(HResult, String), Fail> {
        Ok(match self.call(app, alias, f)? {
            Ok(actual) => (actual, String::new()),
            Err(h) => (
                h,
                format!(" (application {app:?} could not obtain a handle to {alias:?}: GetJob returned {h})"),
            ),
        })
    }

    pub(super) fn user_id(&self, name: &str) -> Result<UserId, Fail> {
        self.users.get(name).copied().ok_or_else(|| Fail {
            expected: format!("user {name:?}"),
            actual: "no such user".to_string(),
            message: format!("the world has no user {name:?}"),
        })
    }

    /// D15: every handle dies; each running application creates its manager again
    /// (`Manager::reconnect`); job handles are obtained again on first use.
    pub(super) fn restart(&mut self) {
        self.sim.restart_service();
        let generation = self.generation();
        for a in self.apps.values_mut() {
            a.handles.clear();
            if let Ok(m) = a.manager.reconnect() {
                a.manager = m;
                a.generation = generation;
            }
        }
    }

    /// `advance`: everything due up to now + `seconds`, bounded in engine events: a step that hits
    /// the bound fails, naming it.
    pub(super) fn advance(&mut self, seconds: u64) -> Outcome {
        let target = self.sim.now() + SimDuration::from_secs(seconds);
        self.sim.try_run_until(target).map_err(|e| Fail {
            expected: format!("reach {target}"),
            actual: format!("stopped at {}", e.time()),
            message: format!(
                "advance stopped before {target}: {e} (the bound is {DEFAULT_MAX_STEPS} events per step)"
            ),
        })
    }

    pub(super) fn run_until_idle(&mut self, max_seconds: Option<u64>) -> Outcome {
        let r = match max_seconds {
            None => self.sim.run_until_idle(),
            Some(s) => self
                .sim
                .run_until_idle_within(SimDuration::from_secs(s))
                .map(|_| ()),
        };
        r.map_err(|e| Fail {
            expected: "idle".to_string(),
            actual: format!("still busy at {}", e.time()),
            message: format!(
                "run_until_idle gave up: {e} (the bound is {DEFAULT_MAX_STEPS} events per step)"
            ),
        })
    }

    /// Virtual time now.
    pub fn now(&self) -> SimTime {
        self.sim.now()
    }
}

fn job_app(r: &Runner, app: &str) -> AppId {
    r.apps.get(app).map_or(AppId(u32::MAX), |a| a.manager.app())
}

/// A short description of a step, for reports and traces.
pub fn describe(step: &Step) -> String {
    use super::types::Check as C;
    let s = match &step.action {
        Action::Do(op) => super::ops::describe(op),
        Action::Check(c) => match c {
            C::State { job, is } => format!("check state {job} is {is}"),
            C::Error { job, .. } | C::ErrorCount { job, .. } | C::Progress { job, .. } => {
                format!("check {} {job}", c.name())
            }
            C::ErrorObject { error, code } => format!("check error_object {error} is {code}"),
            C::Property { job, is } => {
                format!("check property {job} {} is {}", is.property(), is.show())
            }
            C::PropertyFails { job, prop, expect } => {
                format!("check property {job} {} fails with {expect}", prop.name())
            }
            C::RawProperty {
                job,
                id,
                is,
                expect,
            } => match is {
                Some(n) => format!("check property {job} #{id} is {n}"),
                None => format!("check property {job} #{id} returns {expect}"),
            },
            C::ClientCertificate { job, expect, .. } => {
                if expect.is_failure() {
                    format!("check property {job} client_certificate returns {expect}")
                } else {
                    format!("check property {job} client_certificate")
                }
            }
            C::ReplyProgress { job, expect, .. } | C::ReplyData { job, expect, .. } => {
                let name = if matches!(c, C::ReplyProgress { .. }) {
                    "reply_progress"
                } else {
                    "reply_data"
                };
                if *expect == crate::HResult::S_OK {
                    format!("check property {job} {name}")
                } else {
                    format!("check property {job} {name} returns {expect}")
                }
            }
            C::UploadReceived { url, .. } => format!("check upload_received {url}"),
            C::Owner { job, is } => format!("check owner {job} is {is}"),
            C::Times { job, .. } => format!("check times {job}"),
            C::Jobs { all_users, .. } => {
                format!("check jobs{}", if *all_users { " (all users)" } else { "" })
            }
            C::Notifications { .. } => "check notifications".to_string(),
            C::Launches { .. } => "check launches".to_string(),
            C::Time { seconds } => format!("check time is {seconds}s"),
            C::EnumCount { enumerator, .. } => format!("check enum_count {enumerator}"),
            C::LocalFile { target, .. } => match &**target {
                super::types::LocalTarget::Path(p) => format!("check local_file {p}"),
                super::types::LocalTarget::File {
                    job,
                    file,
                    temporary,
                } => format!(
                    "check local_file {job} file {file}{}",
                    if *temporary { " (temporary)" } else { "" }
                ),
            },
            C::LocalDir { dir, .. } => format!("check local_dir {dir}"),
            C::FileProperty {
                job,
                file,
                property,
                ..
            } => format!("check file_property {job} file {file} {property}"),
            C::Requests { url, .. } => format!("check requests {url}"),
            C::Credentials {
                job,
                target,
                scheme,
                present,
                ..
            } => format!(
                "check credentials {job} {} {} {}",
                target.name(),
                scheme.name(),
                if *present { "present" } else { "absent" }
            ),
        },
    };
    match &step.app {
        Some(a) if a != DEFAULT_APP => format!("{s} [app {a}]"),
        _ => s,
    }
}
