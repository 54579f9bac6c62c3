//! The [`Harness`]: runs [`Draw`]s through the scenario runner's own interpreter (in observe mode:
//! every expectation becomes what the simulator answered), probes every handle and held error object
//! after every step, and runs the invariant [`Checker`] — so a failure names the first step that broke
//! a rule and comes with a scenario file that replays it.

use super::draw::{pick, pick_recent, Draw, Setup};
use super::invariants::{Checker, FileChecker, Moved, Observations, Observed, Seen, Violation};
use super::replay::{render, Counterexample};
use crate::properties::PROPERTIES;
use crate::scenario::checks::read;
use crate::scenario::runner::Runner;
use crate::scenario::{Action, Check, ErrorExpectation, Op, SandboxSpec, Scenario, Step, UserSpec};
use crate::{
    AppId, CopyError, HResult, Job, JobId, JobState, JobType, Prop, PropertyValue, Sim,
    SimDuration, UserId,
};

use std::panic::{catch_unwind, AssertUnwindSafe};

/// An application the harness started.
#[derive(Clone, Debug)]
pub struct AppSlot {
    /// Its name in the scenario (`"app"` for the first).
    pub name: String,
    /// The user index it runs as.
    pub user: usize,
    /// Its id.
    pub id: AppId,
}

/// A job created through the harness.
#[derive(Clone, Debug)]
pub struct JobSlot {
    /// Its id.
    pub id: JobId,
    /// Its type.
    pub job_type: JobType,
    /// Its alias in the scenario.
    pub alias: String,
    /// The remote names of the files added so far.
    pub files: Vec<String>,
}

/// A job handle an application holds.
#[derive(Clone, Debug)]
pub struct HandleSlot {
    /// The application slot.
    pub app: usize,
    /// The job slot.
    pub job: usize,
    /// Its alias in the scenario (bound by `create_job` or `get_job`).
    pub alias: String,
    /// The service generation it belongs to (it dies at the next restart).
    pub generation: u32,
    handle: Job,
}

/// An error object an application keeps.
#[derive(Clone, Debug)]
pub struct HeldSlot {
    /// The handle it was obtained through.
    pub handle: usize,
    /// Its error alias in the scenario.
    pub alias: String,
    object: CopyError,
}

/// One step as run.
#[derive(Clone, Debug)]
pub struct Record {
    /// The step as generated.
    pub draw: Draw,
    /// The step as made, every expectation set to what the simulator answered; `None` when there
    /// was nothing to act on (no such application or handle yet) or for a check whose getter failed
    /// (a check has no `expect`; [`Record::result`] says how it failed).
    pub step: Option<Step>,
    /// The HRESULT of the step's BITS call (`None` for steps that call none).
    pub result: Option<HResult>,
    /// Trace length before and after.
    pub trace: (usize, usize),
    /// The observations the step made (indices into [`Harness::observations`]).
    pub seen: (usize, usize),
}

/// Drives a simulator with [`Draw`]s and checks the invariants after every one.
///
/// ```
/// use bitsim::scenario::{StateMethod, UserSpec, WorldSpec};
/// use bitsim::testing::{make, Draw, Harness, Setup};
/// use bitsim::{JobType, Remote};
///
/// let world = WorldSpec {
///     users: vec![UserSpec { name: "alice".into(), admin: false, logged_on: true }],
///     remotes: vec![("https://x.test/a".into(), Remote::sized(10))],
///     ..WorldSpec::default()
/// };
/// let steps = [
///     Draw::call(0, 0, make::create_job("update", JobType::Download)),
///     Draw::call(0, 0, make::add_file("https://x.test/a", "C:\\dl\\a.bin")),
///     Draw::call(0, 0, make::state(StateMethod::Resume)),
///     Draw::env(bitsim::scenario::Op::Advance { seconds: 1 }),
/// ];
/// let h = Harness::run(&Setup::new(world), &steps).expect("no invariant breaks");
/// assert_eq!(h.jobs()[0].files, ["https://x.test/a"]);
/// ```
pub struct Harness {
    setup: Setup,
    runner: Runner,
    users: Vec<UserSpec>,
    user_ids: Vec<UserId>,
    apps: Vec<AppSlot>,
    jobs: Vec<JobSlot>,
    handles: Vec<HandleSlot>,
    held: Vec<HeldSlot>,
    obs: Observations,
    checker: Checker,
    records: Vec<Record>,
    aliases: usize,
    checking: bool,
    /// A value of every property read so far (the `is` of a probe whose getter failed), by the
    /// property's index in the table (a vector: one look-up per property per handle per step).
    templates: Vec<Option<PropertyValue>>,
    /// What the last probe of each handle slot read, and at which trace position (see
    /// [`Harness::probe`]).
    probed: Vec<Probed>,
    /// A sandboxed run (world `sandbox`): the file invariants, and the temporary folder removed when
    /// the harness goes (last, after the machine).
    files: Option<Box<SandboxRun>>,
}

/// The file side of a sandboxed run.
struct SandboxRun {
    checker: FileChecker,
    root: std::path::PathBuf,
    /// The fresh folder holding the sandbox (`None`: a folder the setup named, kept).
    folder: Option<TempFolder>,
}

/// A fresh folder under the system's temporary folder, unique in this process (process id and a
/// counter), removed when dropped, also while a panic unwinds.
struct TempFolder {
    path: std::path::PathBuf,
}

impl TempFolder {
    fn new() -> TempFolder {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "bitsim-harness-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        // Made now so that the file checker can see anything written beside the sandbox; if it
        // cannot be made, the sandbox's first write fails with the host error for it (D41).
        let _ = std::fs::create_dir_all(&path);
        TempFolder { path }
    }
}

impl Drop for TempFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// One handle's probes as last stored: per probe, where its observation is (see [`Stored`]).
#[derive(Clone, Debug, Default)]
struct Probed {
    at: usize,
    checks: [Option<Stored>; 4],
    props: Vec<Option<Stored>>,
}

/// A probe's last stored observation, by its index in [`Harness::observations`], and the trace
/// positions of the latest probe that read the same (the stored observation is not copied: the
/// checker reads it at these positions, [`Moved`]).
#[derive(Clone, Copy, Debug)]
struct Stored {
    index: usize,
    before: usize,
    after: usize,
    /// The latest probe read the same and still needs checking at its positions.
    recheck: bool,
    /// The history stamp it was last checked against (see [`Moved::checked`]).
    checked: Option<u64>,
}

impl Stored {
    fn new(index: usize, (before, after): (usize, usize)) -> Stored {
        Stored {
            index,
            before,
            after,
            recheck: false,
            checked: None,
        }
    }

    /// The same reading again at trace positions `at..after`: moved there, and marked for checking
    /// unless the position is the same as well (`same_position`: the checker would compare the same
    /// reading with the same history).
    fn repeat(&mut self, same_position: bool, (at, after): (usize, usize)) {
        let moved = self.before != at || self.after != after;
        self.before = at;
        self.after = after;
        self.recheck = !same_position || moved;
    }
}

/// The check and result of a `Seen::JobCall` observation.
fn check_of(o: &Observed) -> Option<(&Check, HResult, u32)> {
    match &o.seen {
        Seen::JobCall {
            action: Action::Check(c),
            result,
            handle_generation,
            ..
        } => Some((c, *result, *handle_generation)),
        _ => None,
    }
}

/// Whether two readings of a probe read the same values (their `job` aliases aside: the stored one
/// names the handle, a fresh reading does not). The patterns name every field, so a field added to
/// a check is compared or this stops compiling.
fn same_reading(a: &Check, b: &Check) -> bool {
    match (a, b) {
        (Check::State { job: _, is: x }, Check::State { job: _, is: y }) => x == y,
        (Check::ErrorCount { job: _, is: x }, Check::ErrorCount { job: _, is: y }) => x == y,
        (
            Check::Progress {
                job: _,
                bytes_total: a1,
                bytes_transferred: a2,
                files_total: a3,
                files_transferred: a4,
            },
            Check::Progress {
                job: _,
                bytes_total: b1,
                bytes_transferred: b2,
                files_total: b3,
                files_transferred: b4,
            },
        ) => a1 == b1 && a2 == b2 && a3 == b3 && a4 == b4,
        (Check::Error { job: _, expect: x }, Check::Error { job: _, expect: y }) => x == y,
        (Check::Property { job: _, is: x }, Check::Property { job: _, is: y }) => x == y,
        // Any other pair is stored anew (the probes make only the checks above).
        _ => false,
    }
}

/// Take a probe's reading `(check, result)` (its `job` empty) at trace positions `at..after` into
/// its stored observation `slot` (an index into `items`). Returns the observation to store when the
/// reading differs from the stored one, or there was none, or the stored one is from an earlier
/// service generation (a handle obtained again after a restart, D15, observes afresh): `new` builds
/// it, and the caller pushes it and points `slot` at it. When it is the same, the slot is moved to the
/// new position ([`Stored::repeat`]).
fn take_reading(
    items: &[Observed],
    slot: &mut Option<Stored>,
    generation: u32,
    same_position: bool,
    (check, result): (Check, HResult),
    (at, after): (usize, usize),
    new: impl FnOnce(Check, HResult) -> Observed,
) -> Option<Observed> {
    if let Some(stored) = slot {
        let (c, r, g) = check_of(&items[stored.index]).expect("a probe observes a check");
        if g == generation && r == result && same_reading(c, &check) {
            stored.repeat(same_position, (at, after));
            return None;
        }
    }
    Some(new(check, result))
}

trait CheckJob {
    fn job_mut_check(&mut self) -> &mut String;
}

impl CheckJob for Check {
    fn job_mut_check(&mut self) -> &mut String {
        match self {
            Check::State { job, .. }
            | Check::Error { job, .. }
            | Check::ErrorCount { job, .. }
            | Check::Progress { job, .. }
            | Check::Property { job, .. }
            | Check::Owner { job, .. } => job,
            other => unreachable!("not a job check: {other:?}"),
        }
    }
}

impl Harness {
    /// A fresh machine for `setup`, with application `"app"` connected as the first user.
    ///
    /// A setup whose world has a `sandbox` runs sandboxed: `"sandbox": true` (the kit's fuzz
    /// inputs) materialises files in a fresh folder under the system's temporary folder, removed when
    /// the harness is dropped; a folder the setup names is used and kept. The file invariants
    /// (D40, D41, D58, D63; see [`FileChecker`]) are then checked after every step too.
    pub fn new(setup: &Setup) -> Harness {
        let files = match &setup.world.sandbox {
            None => None,
            Some(SandboxSpec::Dir(d)) => Some(SandboxRun {
                checker: FileChecker::new(None),
                root: d.clone(),
                folder: None,
            }),
            Some(SandboxSpec::Fresh) => {
                let folder = TempFolder::new();
                Some(SandboxRun {
                    checker: FileChecker::new(Some(folder.path.clone())),
                    root: folder.path.join("sandbox"),
                    folder: Some(folder),
                })
            }
        };
        let root = files.as_ref().map(|f| f.root.clone());
        let mut runner = Runner::start_in(&setup.world, setup.chaos.clone(), root);
        runner.log = Some(Vec::new());
        let users = setup.world.effective_users();
        let user_ids = users.iter().map(|u| runner.users[&u.name]).collect();
        let id = runner.apps[crate::scenario::DEFAULT_APP].manager.app();
        Harness {
            setup: setup.clone(),
            runner,
            users,
            user_ids,
            apps: vec![AppSlot {
                name: crate::scenario::DEFAULT_APP.to_string(),
                user: 0,
                id,
            }],
            jobs: Vec::new(),
            handles: Vec::new(),
            held: Vec::new(),
            obs: Observations::default(),
            checker: Checker::new(),
            records: Vec::new(),
            aliases: 0,
            checking: true,
            templates: Vec::new(),
            probed: Vec::new(),
            files: files.map(Box::new),
        }
    }

    /// The sandbox folder of a sandboxed run (`None`: the run touches no host file).
    pub fn sandbox_root(&self) -> Option<&std::path::Path> {
        self.files.as_deref().map(|f| f.root.as_path())
    }

    /// The fresh folder that holds the sandbox of a `"sandbox": true` run and nothing else (the
    /// file checker reports anything written beside the sandbox), removed when the harness goes.
    pub fn sandbox_folder(&self) -> Option<&std::path::Path> {
        self.files
            .as_deref()
            .and_then(|f| f.folder.as_ref())
            .map(|f| f.path.as_path())
    }

    /// A harness that records and probes but checks nothing (for rendering runs that are known to
    /// break a rule).
    pub fn unchecked(setup: &Setup) -> Harness {
        let mut h = Harness::new(setup);
        h.checking = false;
        h
    }

    /// Run `draws` from a fresh machine, stopping at the first broken invariant.
    pub fn run(setup: &Setup, draws: &[Draw]) -> Result<Harness, Box<Counterexample>> {
        let mut h = Harness::new(setup);
        for d in draws {
            h.step(d)?;
        }
        Ok(h)
    }

    /// Run one step, probe, and check every invariant.
    pub fn step(&mut self, draw: &Draw) -> Result<(), Box<Counterexample>> {
        let index = self.records.len();
        let before = self.trace_len();
        let seen_before = self.obs.items.len();
        let outcome = catch_unwind(AssertUnwindSafe(|| self.apply(draw, index)));
        let (step, result) = match outcome {
            Ok(done) => done,
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "non-string panic".to_string());
                self.records.push(Record {
                    draw: draw.clone(),
                    step: None,
                    result: None,
                    trace: (before, before),
                    seen: (seen_before, seen_before),
                });
                let mut v = Violation::new("panic", format!("the simulator panicked: {msg}"));
                v.step = Some(index);
                return Err(self.fail(v));
            }
        };
        self.records.push(Record {
            draw: draw.clone(),
            step,
            result,
            trace: (before, self.trace_len()),
            seen: (seen_before, self.obs.items.len()),
        });
        let probes_from = self.obs.items.len();
        self.probe();
        if !self.checking {
            return Ok(());
        }
        // Probes that read what they read before are checked at the new position without being
        // stored again (and not even then when nothing the checker reads about them changed).
        let items = &self.obs.items;
        let again = self.probed.iter_mut().flat_map(|p| {
            p.checks
                .iter_mut()
                .chain(&mut p.props)
                .flatten()
                .filter(|s| s.recheck)
                .map(|s| Moved {
                    observed: &items[s.index],
                    before: s.before,
                    after: s.after,
                    checked: &mut s.checked,
                })
        });
        let mut r = self.checker.check_moved(&self.runner.sim, &self.obs, again);
        if r.is_ok() && probes_from < self.obs.items.len() {
            // The probes stored in this step read no events at the end of the trace, where the
            // history now stands: they were checked against the facts of its current stamp.
            let (end, stamp) = (self.trace_len(), self.checker.history().stamp());
            for p in &mut self.probed {
                for s in p.checks.iter_mut().chain(&mut p.props).flatten() {
                    if s.index >= probes_from && s.before == end && s.after == end {
                        s.checked = Some(stamp);
                    }
                }
            }
        }
        if let (Ok(()), Some(files)) = (&r, self.files.as_deref_mut()) {
            r = files.checker.check(&self.runner.sim);
        }
        r.map_err(|mut v| {
            v.step = v.step.or(Some(index));
            self.fail(v)
        })
    }

    /// A failure report for `violation` found after the steps so far (for property-specific
    /// assertions made by tests).
    pub fn fail(&self, violation: Violation) -> Box<Counterexample> {
        Box::new(Counterexample::new(self, violation))
    }

    /// The scenario that replays the steps so far, each expecting what it returned.
    pub fn scenario(&self) -> Scenario {
        render(self, None)
    }

    /// The machine.
    pub fn sim(&self) -> &Sim {
        &self.runner.sim
    }
    /// What the run started from.
    pub fn setup(&self) -> &Setup {
        &self.setup
    }
    /// The users, as the scenario lists them.
    pub fn users(&self) -> &[UserSpec] {
        &self.users
    }
    /// The users' ids, by index.
    pub fn user_ids(&self) -> &[UserId] {
        &self.user_ids
    }
    /// The history rebuilt from the trace so far.
    pub fn history(&self) -> &super::History {
        self.checker.history()
    }
    /// Every observation so far, except repeated probes: a probe (see [`Harness::step`]) that reads
    /// exactly what the same handle's previous probe of that getter read is stored once. It is still
    /// checked after every step at its new trace position (unless that position is also the same:
    /// the checker's verdict on an observation depends only on the observation and the history up
    /// to its position, so that repeat would be checked against the same facts).
    pub fn observations(&self) -> &Observations {
        &self.obs
    }
    /// The steps so far.
    pub fn records(&self) -> &[Record] {
        &self.records
    }
    /// The last step.
    pub fn last(&self) -> Option<&Record> {
        self.records.last()
    }
    /// The applications started so far.
    pub fn apps(&self) -> &[AppSlot] {
        &self.apps
    }
    /// The jobs created so far.
    pub fn jobs(&self) -> &[JobSlot] {
        &self.jobs
    }
    /// The handles obtained so far.
    pub fn handles(&self) -> &[HandleSlot] {
        &self.handles
    }
    /// The error objects kept so far.
    pub fn held(&self) -> &[HeldSlot] {
        &self.held
    }

    /// The job slots EnumJobs listed in the last step (`None` when it made no EnumJobs).
    pub fn last_listed(&self) -> Option<Result<Vec<usize>, HResult>> {
        let r = self.records.last()?;
        self.obs.items[r.seen.0..r.seen.1]
            .iter()
            .find_map(|o| match &o.seen {
                Seen::EnumJobs { result, .. } => Some(result.clone().map(|ids| {
                    ids.iter()
                        .filter_map(|id| self.jobs.iter().position(|j| j.id == *id))
                        .collect()
                })),
                _ => None,
            })
    }

    /// A handle to job slot `job` that can reach it now: its application is alive, the handle is from
    /// the current service generation, and its user owns the job or is an administrator. The most
    /// recently obtained one.
    pub fn usable_handle(&self, job: usize) -> Option<usize> {
        let generation = self.generation();
        let owner = self.history().job(self.jobs[job].id)?.owner;
        (0..self.handles.len()).rev().find(|&i| {
            let h = &self.handles[i];
            let app = &self.apps[h.app];
            h.job == job
                && h.generation == generation
                && self.history().app_alive(app.id)
                && (self.users[app.user].admin || owner == Some(self.user_ids[app.user]))
        })
    }

    /// The error object of held slot `i` (calls on it are not recorded).
    pub fn held_error(&self, i: usize) -> &CopyError {
        &self.held[i].object
    }

    /// The handle of `handle_slot` as an object the test can call directly (calls made this way are
    /// not recorded; use [`Harness::draw_for`] to record them).
    pub fn job_handle(&self, handle_slot: usize) -> &Job {
        &self.handles[handle_slot].handle
    }

    /// The step that makes `action` through handle slot `handle_slot` (indices resolve newest
    /// first, so the draw is valid until another application starts or the application obtains
    /// another handle).
    pub fn draw_for(&self, handle_slot: usize, action: Action) -> Draw {
        let slot = &self.handles[handle_slot];
        let newer_handles = self.handles[handle_slot + 1..]
            .iter()
            .filter(|h| h.app == slot.app)
            .count();
        let newer_apps = self.apps.len() - 1 - slot.app;
        Draw::call(newer_apps as u8, newer_handles as u8, action)
    }

    /// The trace as the scenario runner renders it (`bitsim run --trace`), one line per event.
    pub fn trace_lines(&self) -> Vec<String> {
        self.runner.render_all()
    }

    fn trace_len(&self) -> usize {
        self.runner.trace_len()
    }

    fn generation(&self) -> u32 {
        self.runner.generation()
    }

    /// A new alias: `prefix` and a number no other alias of the run has.
    fn new_alias(&mut self, prefix: &str) -> String {
        self.aliases += 1;
        format!("{prefix}{}", self.aliases)
    }

    /// The step `draw` stands for now, its names chosen; `None` when there is nothing to act on.
    fn resolve(&mut self, draw: &Draw) -> Option<Step> {
        let mut action = draw.action.clone();
        let app = pick_recent(&self.apps, draw.app).map(|(a, _)| a);
        let app_name = |h: &Harness| app.map(|a| h.apps[a].name.clone());
        let mut step_app = None;
        match &mut action {
            Action::Do(Op::Connect { user }) => {
                let (_, u) = pick(&self.users, draw.pick)?;
                *user = u.name.clone();
                step_app = Some(format!("app{}", self.apps.len()));
            }
            Action::Do(Op::Logon { user } | Op::Logoff { user }) => {
                *user = pick(&self.users, draw.pick)?.1.name.clone();
            }
            Action::Do(Op::Exit) => step_app = Some(app_name(self)?),
            Action::Do(Op::CreateJob { bind, .. }) => {
                step_app = Some(app_name(self)?);
                *bind = self.new_alias("j");
            }
            Action::Do(Op::GetJob { job, bind, .. }) => {
                step_app = Some(app_name(self)?);
                let alias = pick_recent(&self.jobs, draw.pick)?.1.alias.clone();
                *bind = Some(self.new_alias(&format!("{alias}_")));
                *job = alias;
            }
            Action::Check(Check::Jobs { .. } | Check::Notifications { .. }) => {
                step_app = Some(app_name(self)?);
            }
            Action::Check(Check::ErrorObject { error, .. }) => {
                *error = pick_recent(&self.held, draw.pick)?.1.alias.clone();
            }
            Action::Do(
                Op::Advance { .. }
                | Op::RunUntilIdle { .. }
                | Op::Network { .. }
                | Op::NetworkCost { .. }
                | Op::SetRemote { .. }
                | Op::RestartService,
            )
            | Action::Check(Check::Time { .. }) => {}
            a => {
                let a_idx = app?;
                let mine: Vec<usize> = (0..self.handles.len())
                    .filter(|&i| self.handles[i].app == a_idx)
                    .collect();
                let (_, &hs) = pick_recent(&mine, draw.pick)?;
                let alias = self.handles[hs].alias.clone();
                // File calls name a file by index: map it onto the job's files (none: no step),
                // so a replay never names a file the job does not have.
                if let Action::Do(
                    Op::SetFile { file, .. }
                    | Op::RequestFileRanges { file, .. }
                    | Op::UpdateDownloadPosition { file, .. },
                ) = a
                {
                    let n = self.jobs[self.handles[hs].job].files.len();
                    if n == 0 {
                        return None;
                    }
                    *file %= u32::try_from(n).unwrap_or(u32::MAX);
                }
                if let Action::Do(Op::GetError {
                    bind_error: Some(b),
                    ..
                }) = a
                {
                    *b = self.new_alias("e");
                }
                *a.job_mut()? = alias;
                step_app = Some(self.apps[a_idx].name.clone());
            }
        }
        Some(Step {
            app: step_app,
            action,
        })
    }

    /// Run the step through the runner, note what changed, log the observations.
    fn apply(&mut self, draw: &Draw, index: usize) -> (Option<Step>, Option<HResult>) {
        let Some(step) = self.resolve(draw) else {
            return (None, None);
        };
        let from = self.runner.sim.now();
        let before = self.trace_len();
        let (made, result) = self.runner.observe(&step);
        let log = self.runner.log.replace(Vec::new()).unwrap_or_default();
        for mut o in log {
            o.step = Some(index);
            self.obs.push(o);
        }
        let ok = result.is_some_and(HResult::is_success);
        let app = step
            .app
            .as_deref()
            .and_then(|n| self.apps.iter().position(|a| a.name == n));
        match &step.action {
            Action::Do(Op::Connect { user }) => {
                let name = step.app.clone().unwrap_or_default();
                let user = self.users.iter().position(|u| &u.name == user).unwrap_or(0);
                let id = self.runner.apps[&name].manager.app();
                self.apps.push(AppSlot { name, user, id });
            }
            Action::Do(Op::Advance { seconds }) => self.time(before, index, from, *seconds, true),
            Action::Do(Op::RunUntilIdle { max_seconds }) => {
                self.time(before, index, from, max_seconds.unwrap_or(0), false)
            }
            Action::Do(Op::CreateJob { job_type, bind, .. }) if ok => {
                if let (Some(a), Some(Some(id))) = (app, self.runner.jobs.get(bind)) {
                    self.jobs.push(JobSlot {
                        id: *id,
                        job_type: *job_type,
                        alias: bind.clone(),
                        files: Vec::new(),
                    });
                    self.new_handle(a, self.jobs.len() - 1, bind);
                }
            }
            Action::Do(Op::GetJob {
                job,
                bind: Some(bind),
                ..
            }) if ok => {
                let j = self.jobs.iter().position(|s| &s.alias == job);
                if let (Some(a), Some(j)) = (app, j) {
                    self.new_handle(a, j, bind);
                }
            }
            Action::Do(Op::GetError {
                job,
                bind_error: Some(alias),
                ..
            }) if ok => {
                let hs = self.slot_of(app, job);
                if let (Some(hs), Some(Some(object))) = (hs, self.runner.errors.get(alias)) {
                    self.held.push(HeldSlot {
                        handle: hs,
                        alias: alias.clone(),
                        object: object.clone(),
                    });
                }
            }
            Action::Do(
                Op::AddFile { job, remote, .. } | Op::AddFileWithRanges { job, remote, .. },
            ) if ok => {
                self.add_files(app, job, std::slice::from_ref(remote));
            }
            Action::Do(Op::AddFileSet { job, files, .. }) if ok => {
                let remotes: Vec<String> = files.iter().map(|f| f.0.clone()).collect();
                self.add_files(app, job, &remotes);
            }
            _ => {}
        }
        // Handles the runner obtained again after a restart (D15) replace the dead ones.
        let generation = self.generation();
        for slot in &mut self.handles {
            if slot.generation == generation {
                continue;
            }
            let app = &self.apps[slot.app].name;
            if let Some(h) = self
                .runner
                .apps
                .get(app)
                .and_then(|a| a.handles.get(&slot.alias))
            {
                slot.handle = h.clone();
                slot.generation = generation;
            }
        }
        (made, result)
    }

    fn slot_of(&self, app: Option<usize>, alias: &str) -> Option<usize> {
        let a = app?;
        (0..self.handles.len())
            .find(|&i| self.handles[i].app == a && self.handles[i].alias == alias)
    }

    fn add_files(&mut self, app: Option<usize>, alias: &str, remotes: &[String]) {
        if let Some(hs) = self.slot_of(app, alias) {
            let j = self.handles[hs].job;
            self.jobs[j].files.extend(remotes.iter().cloned());
        }
    }

    fn new_handle(&mut self, app: usize, job: usize, alias: &str) {
        let name = &self.apps[app].name;
        if let Some(h) = self
            .runner
            .apps
            .get(name)
            .and_then(|a| a.handles.get(alias))
        {
            self.handles.push(HandleSlot {
                app,
                job,
                alias: alias.to_string(),
                generation: self.runner.generation(),
                handle: h.clone(),
            });
        }
    }

    fn time(&mut self, before: usize, index: usize, from: crate::SimTime, secs: u64, exact: bool) {
        let to = self.runner.sim.now();
        self.obs.push(Observed {
            before,
            after: self.trace_len(),
            step: Some(index),
            seen: Seen::Time {
                from,
                by: SimDuration::from_secs(secs),
                exact,
                to,
            },
        });
    }

    /// Ask every handle what it sees (GetState, GetErrorCount, GetProgress, GetError: the checks of
    /// the scenario vocabulary, read as the runner reads them; then every readable property of the
    /// property table, through `Job::get_property`, so that a property added to the table is probed
    /// without a change here), and every held error object whether it still works.
    fn probe(&mut self) {
        let at = self.trace_len();
        let probes = [
            Check::State {
                job: String::new(),
                is: JobState::Suspended,
            },
            Check::ErrorCount {
                job: String::new(),
                is: 0,
            },
            Check::Progress {
                job: String::new(),
                bytes_total: None,
                bytes_transferred: None,
                files_total: None,
                files_transferred: None,
            },
            Check::Error {
                job: String::new(),
                expect: ErrorExpectation::None,
            },
        ];
        if self.probed.len() < self.handles.len() {
            self.probed.resize_with(self.handles.len(), Probed::default);
        }
        for (slot, probed) in self.handles.iter().zip(&mut self.probed) {
            let app = &self.apps[slot.app];
            // A reading repeats the handle's previous probe only at the same trace position (the
            // history the checker compares it with is then the same).
            let same_position = probed.at == at;
            probed.at = at;
            let job = self.jobs[slot.job].id;
            let observed = |before: usize, after: usize| {
                move |mut check: Check, result: HResult| {
                    check.job_mut_check().clone_from(&slot.alias);
                    Observed {
                        before,
                        after,
                        step: None,
                        seen: Seen::JobCall {
                            app: app.id,
                            handle: Some((app.name.clone(), slot.alias.clone())),
                            handle_generation: slot.generation,
                            job,
                            action: Action::Check(check),
                            held: None,
                            result,
                        },
                    }
                }
            };
            for (probe, last) in probes.iter().zip(&mut probed.checks) {
                let reading = match read(&slot.handle, probe) {
                    Ok(c) => (c, HResult::S_OK),
                    Err(h) => (probe.clone(), h),
                };
                let new = observed(at, at);
                let items = &self.obs.items;
                if let Some(o) = take_reading(
                    items,
                    last,
                    slot.generation,
                    same_position,
                    reading,
                    (at, at),
                    new,
                ) {
                    *last = Some(Stored::new(items.len(), (at, at)));
                    self.obs.push(o);
                }
            }
            // Every getter of the table obeys the same preconditions (D2 dead handles, D9 other
            // users' jobs) and changes nothing (D1), whatever the property.
            if self.templates.len() < PROPERTIES.len() {
                self.templates.resize(PROPERTIES.len(), None);
            }
            if probed.props.len() < PROPERTIES.len() {
                probed.props.resize(PROPERTIES.len(), None);
            }
            for (k, prop) in Prop::all().enumerate() {
                let template = &mut self.templates[k];
                let read = slot.handle.get_property(prop);
                let after = self.runner.trace_len();
                // The stored observation of this getter, when it is of the same service generation.
                let stored =
                    probed.props[k]
                        .as_mut()
                        .and_then(|s| match &self.obs.items[s.index].seen {
                            Seen::JobCall {
                                handle_generation,
                                action: Action::Check(Check::Property { is, .. }),
                                result,
                                ..
                            } if *handle_generation == slot.generation => Some((s, is, *result)),
                            _ => None,
                        });
                let (is, result) = match read {
                    Ok(v) => {
                        match template {
                            // Comparing first: most reads repeat the last value, and a clone of
                            // a string or list value allocates.
                            Some(t) if *t == v => {}
                            Some(t) => t.clone_from(&v),
                            None => *template = Some(v.clone()),
                        }
                        // The common case, without building a reading: the stored observation
                        // read the same result and value. What `take_reading` does for a repeat.
                        if let Some((s, was, HResult::S_OK)) = stored {
                            if *was == v {
                                s.repeat(same_position, (at, after));
                                continue;
                            }
                        }
                        (v, HResult::S_OK)
                    }
                    // A failed read states no value: any value of the property stands for it. Until
                    // one was read, the failure has nothing to show it with (the checks above read
                    // through the same handle and preconditions).
                    Err(h) => match template {
                        Some(t) => {
                            if let Some((s, was, r)) = stored {
                                if r == h && was == t {
                                    s.repeat(same_position, (at, after));
                                    continue;
                                }
                            }
                            (t.clone(), h)
                        }
                        None => continue,
                    },
                };
                let o = observed(at, after)(
                    Check::Property {
                        job: String::new(),
                        is,
                    },
                    result,
                );
                probed.props[k] = Some(Stored::new(self.obs.items.len(), (at, after)));
                self.obs.push(o);
            }
        }
        for held in &self.held {
            self.obs.push(Observed {
                before: at,
                after: at,
                step: None,
                seen: Seen::ErrorObject {
                    error: held.alias.clone(),
                    result: held.object.get_error(),
                },
            });
        }
    }
}
