//! The [`Harness`]: runs [`Draw`]s through the scenario runner's own interpreter (in observe mode:
//! every expectation becomes what the simulator answered), probes every handle and held error object
//! after every step, and runs the invariant [`Checker`] — so a failure names the first step that broke
//! a rule and comes with a scenario file that replays it.

use super::draw::{pick, pick_recent, Draw, Setup};
use super::invariants::{
    Checker, EnumCall, EnumCursor, FileChecker, Moved, Observations, Observed, Seen, Violation,
};
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

/// An enumerator an application holds (D46: bound by `enum_jobs`, `enum_files` or `enum_clone`).
#[derive(Clone, Debug)]
pub struct EnumSlot {
    /// The application slot holding it.
    pub app: usize,
    /// Its `bind_enum` alias in the scenario.
    pub alias: String,
    /// The service generation it was made in (it dies at the next restart).
    pub generation: u32,
    /// What D46 says it is: the size of its snapshot and where its cursor stands.
    pub cursor: EnumCursor,
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
    enums: Vec<EnumSlot>,
    /// The first D46 violation found by the step or the probe since the last check.
    enum_violation: Option<Violation>,
    obs: Observations,
    checker: Checker,
    records: Vec<Record>,
    aliases: usize,
    checking: bool,
    /// The step being run: kept here while the runner runs it, so that a step the simulator panics
    /// in still goes into the records (and the replay ends with it).
    in_flight: Option<Step>,
    /// Where the latest value of every property read so far is (the `is` of a probe whose getter
    /// failed), by the property's index in the table: the handle slot whose reading of it holds the
    /// value the last successful read returned (a reference, so a read that succeeds costs no copy).
    templates: Vec<Option<usize>>,
    /// What the last probe of each handle slot read, and at which trace position (see
    /// [`Harness::probe`]).
    probed: Vec<Probed>,
    /// What every held error object answered at the last probe, and the stamp it was judged at (never
    /// skipped: see [`Checker::check_moved`]), by held slot.
    held_seen: Vec<(Observed, Option<u64>)>,
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

/// One handle's probes: the latest reading of each, kept here and updated in place (see
/// [`Harness::probe`]).
#[derive(Debug, Default)]
struct Probed {
    at: usize,
    checks: [Option<Reading>; 4],
    props: Vec<Option<PropReading>>,
    /// The observation a property reading of this handle is judged as (built once: each reading's
    /// value, result, generation and positions are moved in while it is judged, and back).
    judged_as: Option<Observed>,
}

/// A property getter's latest reading through a handle (see [`Probed::judged_as`]).
#[derive(Debug)]
struct PropReading {
    /// The value read (for a failed read, the property's template).
    value: PropertyValue,
    result: HResult,
    /// The service generation of the handle it was read through.
    generation: u32,
    before: usize,
    after: usize,
    /// New, or read again at other trace positions: judged after this step.
    recheck: bool,
    /// The history stamp it was last judged at (see [`Moved::checked`]); `None`: a new reading.
    checked: Option<u64>,
}

impl PropReading {
    fn new(
        value: PropertyValue,
        result: HResult,
        generation: u32,
        (before, after): (usize, usize),
    ) -> PropReading {
        PropReading {
            value,
            result,
            generation,
            before,
            after,
            recheck: true,
            checked: None,
        }
    }

    /// Whether it read `result` (and, on success, `value`) through generation `generation`.
    fn is(&self, value: &PropertyValue, result: HResult, generation: u32) -> bool {
        self.generation == generation && self.result == result && self.value == *value
    }

    /// The same reading again at `at..after` (as [`Reading::repeat`]).
    fn repeat(&mut self, same_position: bool, (at, after): (usize, usize)) {
        let moved = self.before != at || self.after != after;
        self.before = at;
        self.after = after;
        self.recheck = !same_position || moved;
    }

    /// A different reading, stored in its place, to be judged as new.
    fn replace(
        &mut self,
        value: Result<PropertyValue, &PropertyValue>,
        result: HResult,
        generation: u32,
        (at, after): (usize, usize),
    ) {
        match value {
            Ok(v) => self.value = v,
            Err(t) => self.value.clone_from(t),
        }
        self.result = result;
        self.generation = generation;
        self.before = at;
        self.after = after;
        self.recheck = true;
        self.checked = None;
    }

    /// Move the reading into `o` (a property check of its handle) or back out of it.
    fn swap_into(&mut self, o: &mut Observed) {
        o.before = self.before;
        o.after = self.after;
        if let Seen::JobCall {
            action: Action::Check(Check::Property { is, .. }),
            result,
            handle_generation,
            ..
        } = &mut o.seen
        {
            std::mem::swap(is, &mut self.value);
            *result = self.result;
            *handle_generation = self.generation;
        }
    }
}

/// A probe's latest reading: the observation the checker judges (built once per handle and probe,
/// then overwritten in place when a reading differs: no allocation for a reading that repeats, and
/// none for the handle's names when one changes), whether it needs judging at its positions, and the
/// history stamp it was last judged at.
#[derive(Debug)]
struct Reading {
    observed: Observed,
    /// The reading is new, or was read again at other trace positions, and is judged after this step.
    recheck: bool,
    /// The history stamp it was last judged at (see [`Moved::checked`]); `None`: a new reading.
    checked: Option<u64>,
}

impl Reading {
    fn new(observed: Observed) -> Reading {
        Reading {
            observed,
            recheck: true,
            checked: None,
        }
    }

    /// The check, result and handle generation of the reading.
    fn check(&self) -> (&Check, HResult, u32) {
        check_of(&self.observed).expect("a probe observes a check")
    }

    /// The same reading again at trace positions `at..after`: moved there, and marked for judging
    /// unless the position is the same as well (`same_position`: the checker would compare the same
    /// reading with the same history).
    fn repeat(&mut self, same_position: bool, (at, after): (usize, usize)) {
        let o = &mut self.observed;
        let moved = o.before != at || o.after != after;
        o.before = at;
        o.after = after;
        self.recheck = !same_position || moved;
    }

    /// A different reading (`check` with its `job` empty, `result`, of a handle of service
    /// generation `generation`) at `at..after`: stored in place of the old one (the check keeps the
    /// handle's alias), to be judged as new.
    fn replace(
        &mut self,
        mut check: Check,
        result: HResult,
        generation: u32,
        (at, after): (usize, usize),
    ) {
        let o = &mut self.observed;
        o.before = at;
        o.after = after;
        if let Seen::JobCall {
            action: Action::Check(c),
            result: r,
            handle_generation,
            ..
        } = &mut o.seen
        {
            std::mem::swap(check.job_mut_check(), c.job_mut_check());
            *c = check;
            *r = result;
            *handle_generation = generation;
        }
        self.recheck = true;
        self.checked = None;
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

/// The value property `k`'s template (slot `t`'s reading of it; `None` when `t` is `i`: the reading
/// itself) and slot `i`'s reading of it, to be changed.
fn template_and_reading(
    probed: &mut [Probed],
    t: usize,
    i: usize,
    k: usize,
) -> (Option<&PropertyValue>, &mut Option<PropReading>) {
    fn template(p: &Probed, k: usize) -> &PropertyValue {
        &p.props[k]
            .as_ref()
            .expect("the template slot holds a property reading")
            .value
    }
    if t == i {
        return (None, &mut probed[i].props[k]);
    }
    if t < i {
        let (a, b) = probed.split_at_mut(i);
        (Some(template(&a[t], k)), &mut b[0].props[k])
    } else {
        let (a, b) = probed.split_at_mut(t);
        (Some(template(&b[0], k)), &mut a[i].props[k])
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
    /// (D40, D41, D58, D63, D80; see [`FileChecker`]) are then checked after every step too.
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
            enums: Vec::new(),
            enum_violation: None,
            obs: Observations::default(),
            checker: Checker::new(),
            records: Vec::new(),
            in_flight: None,
            aliases: 0,
            checking: true,
            templates: Vec::new(),
            probed: Vec::new(),
            held_seen: Vec::new(),
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

    /// Run one step, probe, and check every invariant: the step's own observations, then every
    /// probe reading that is new (judged), or the same as before at another trace position (judged
    /// again unless nothing its verdict reads changed, [`Checker::check_moved`]), then the held
    /// error objects' answers.
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
                    // The step the simulator panicked in, if it got that far: the replay ends with
                    // it, so that running the replay panics the same way.
                    step: self.in_flight.take(),
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
        self.probe();
        if !self.checking {
            return Ok(());
        }
        // The probes' readings are judged at their positions when new or moved (a moved one not
        // even then when nothing the checker reads about it changed, [`Checker::check_moved`]); the
        // held error objects' answers after every step.
        let (probed, held_seen) = (&mut self.probed, &mut self.held_seen);
        let mut r = self
            .checker
            .check_moved_each(&self.runner.sim, &self.obs, |judge| {
                for p in probed.iter_mut() {
                    for r in p.checks.iter_mut().flatten().filter(|r| r.recheck) {
                        judge(Moved {
                            before: r.observed.before,
                            after: r.observed.after,
                            observed: &r.observed,
                            checked: &mut r.checked,
                        })?;
                    }
                    let Some(o) = p.judged_as.as_mut() else {
                        continue;
                    };
                    for r in p.props.iter_mut().flatten().filter(|r| r.recheck) {
                        r.swap_into(o);
                        let verdict = judge(Moved {
                            before: r.before,
                            after: r.after,
                            observed: o,
                            checked: &mut r.checked,
                        });
                        r.swap_into(o);
                        verdict?;
                    }
                }
                for (o, checked) in held_seen.iter_mut() {
                    judge(Moved {
                        before: o.before,
                        after: o.after,
                        observed: o,
                        checked,
                    })?;
                }
                Ok(())
            });
        if let (Ok(()), Some(v)) = (&r, self.enum_violation.take()) {
            r = Err(v);
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
    /// Every observation the steps made so far (the probes' readings are not among them: each
    /// handle keeps the latest reading of every probe, replaced in place when a reading differs,
    /// and the checker judges it after every step at its trace position when it is new or moved;
    /// see [`Harness::step`]).
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
    /// The enumerators bound so far (D46).
    pub fn enums(&self) -> &[EnumSlot] {
        &self.enums
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
            Action::Do(Op::EnumJobs { bind_enum, .. }) => {
                step_app = Some(app_name(self)?);
                *bind_enum = self.new_alias("n");
            }
            // A step on a held enumerator is made by the application holding it.
            Action::Do(
                Op::EnumNext { enumerator, .. }
                | Op::EnumSkip { enumerator, .. }
                | Op::EnumReset { enumerator, .. },
            )
            | Action::Check(Check::EnumCount { enumerator, .. }) => {
                let (_, e) = pick_recent(&self.enums, draw.pick)?;
                *enumerator = e.alias.clone();
                step_app = Some(self.apps[e.app].name.clone());
            }
            Action::Do(Op::EnumClone {
                enumerator,
                bind_enum,
                ..
            }) => {
                let (_, e) = pick_recent(&self.enums, draw.pick)?;
                *enumerator = e.alias.clone();
                step_app = Some(self.apps[e.app].name.clone());
                *bind_enum = self.new_alias("n");
            }
            Action::Do(
                Op::Advance { .. }
                | Op::RunUntilIdle { .. }
                | Op::Network { .. }
                | Op::NetworkCost { .. }
                | Op::GroupPolicy { .. }
                | Op::SetRemote { .. }
                | Op::SetLocal { .. }
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
                if let Action::Do(Op::EnumFiles { bind_enum, .. }) = a {
                    *bind_enum = self.new_alias("n");
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
    // Out of line so that a profile tells running the step from probing and judging.
    #[inline(never)]
    fn apply(&mut self, draw: &Draw, index: usize) -> (Option<Step>, Option<HResult>) {
        let Some(step) = self.resolve(draw) else {
            return (None, None);
        };
        let from = self.runner.sim.now();
        let before = self.trace_len();
        let step: &Step = self.in_flight.insert(step);
        let (made, result) = self.runner.observe(step);
        let step = self.in_flight.take().expect("the step run");
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
        if let (Some(made), Some(result)) = (&made, result) {
            self.enum_step(app, made, result);
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

    /// Whether enumerator slot `i` can still answer (D46): its application lives and the service
    /// has not restarted since it was made.
    fn enum_alive(&self, i: usize) -> bool {
        let e = &self.enums[i];
        let id = self.apps[e.app].id;
        e.generation == self.generation()
            && self.runner.sim.with_service(|s| s.live_app(id).is_ok())
    }

    /// GetCount of the enumerator the runner holds as `alias`.
    fn enum_count(&self, alias: &str) -> Option<Result<u32, HResult>> {
        self.runner.enum_count(alias)
    }

    /// Note a D46 violation (the first one stands until the step's checks report it).
    fn enum_broke(&mut self, v: Result<(), Violation>) {
        if let Err(v) = v {
            self.enum_violation.get_or_insert(v);
        }
    }

    /// The enumerator side of a step made as `made` by application slot `app`, which returned
    /// `result`: a new enumerator gets a slot (its cursor at the start of a snapshot of its GetCount;
    /// a file enumerator's is the job's files then; a clone's where the original's is); a call on a
    /// held one is judged against its [`EnumCursor`] and moves it (D46).
    fn enum_step(&mut self, app: Option<usize>, made: &Step, result: HResult) {
        let slot = |h: &Harness, alias: &str| h.enums.iter().position(|e| e.alias == alias);
        // A check's GetCount answer is the `expect` it states (the step's result is the check's).
        let result = match &made.action {
            Action::Check(Check::EnumCount { expect, .. }) => *expect,
            _ => result,
        };
        let (i, call) = match &made.action {
            Action::Do(Op::EnumJobs { bind_enum, .. } | Op::EnumFiles { bind_enum, .. })
                if result.is_success() =>
            {
                let (Some(a), Some(count)) = (app, self.enum_count(bind_enum)) else {
                    return;
                };
                let count = match count {
                    Ok(n) => n,
                    Err(h) => {
                        let v = Violation::new(
                            "D46",
                            format!("GetCount of the new enumerator {bind_enum} failed with {h}"),
                        );
                        return self.enum_broke(Err(v));
                    }
                };
                if let Action::Do(Op::EnumFiles { job, .. }) = &made.action {
                    // The snapshot is the job's files when it is made.
                    if let Some(hs) = self.slot_of(app, job) {
                        let files = self.jobs[self.handles[hs].job].files.len();
                        if files != count as usize {
                            let v = Violation::new(
                                "D46",
                                format!(
                                    "EnumFiles of {job} made {bind_enum} with GetCount {count},                                      but the job has {files} files"
                                ),
                            );
                            self.enum_broke(Err(v));
                        }
                    }
                }
                self.enums.push(EnumSlot {
                    app: a,
                    alias: bind_enum.clone(),
                    generation: self.generation(),
                    cursor: EnumCursor::new(count),
                });
                return;
            }
            Action::Do(Op::EnumNext {
                enumerator,
                count,
                fetched,
                ..
            }) => (
                slot(self, enumerator),
                EnumCall::Next {
                    celt: *count,
                    fetched: *fetched,
                },
            ),
            Action::Do(Op::EnumSkip {
                enumerator, count, ..
            }) => (slot(self, enumerator), EnumCall::Skip { celt: *count }),
            Action::Do(Op::EnumReset { enumerator, .. }) => {
                (slot(self, enumerator), EnumCall::Reset)
            }
            Action::Do(Op::EnumClone { enumerator, .. }) => {
                (slot(self, enumerator), EnumCall::Clone)
            }
            Action::Check(Check::EnumCount { enumerator, is, .. }) => {
                (slot(self, enumerator), EnumCall::Count { is: *is })
            }
            _ => return,
        };
        let Some(i) = i else {
            return;
        };
        let alive = self.enum_alive(i);
        let alias = self.enums[i].alias.clone();
        let verdict = self.enums[i].cursor.judge(&alias, call, alive, result);
        self.enum_broke(verdict);
        if let Action::Do(Op::EnumClone { bind_enum, .. }) = &made.action {
            if result.is_success() {
                let e = EnumSlot {
                    alias: bind_enum.clone(),
                    ..self.enums[i].clone()
                };
                self.enums.push(e);
            }
        }
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
    /// without a change here), and every held error object whether it still works. Each reading is
    /// kept in the handle's [`Probed`] (a different one replaces it in place) and marked for judging
    /// when it is new or moved.
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
        if self.templates.len() < PROPERTIES.len() {
            self.templates.resize(PROPERTIES.len(), None);
        }
        for i in 0..self.handles.len() {
            let slot = &self.handles[i];
            let app = &self.apps[slot.app];
            let job = self.jobs[slot.job].id;
            // The first reading of a probe through this handle: the observation it is kept in.
            let observed = |mut check: Check, result: HResult, (before, after): (usize, usize)| {
                check.job_mut_check().clone_from(&slot.alias);
                Reading::new(Observed {
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
                })
            };
            let probed = &mut self.probed[i];
            // A reading repeats the handle's previous probe only at the same trace position (the
            // history the checker compares it with is then the same).
            let same_position = probed.at == at;
            probed.at = at;
            for (probe, last) in probes.iter().zip(&mut probed.checks) {
                let (check, result) = match read(&slot.handle, probe) {
                    Ok(c) => (c, HResult::S_OK),
                    Err(h) => (probe.clone(), h),
                };
                match last {
                    Some(r) => {
                        let (c, was, g) = r.check();
                        if g == slot.generation && was == result && same_reading(c, &check) {
                            r.repeat(same_position, (at, at));
                        } else {
                            r.replace(check, result, slot.generation, (at, at));
                        }
                    }
                    None => *last = Some(observed(check, result, (at, at))),
                }
            }
            if probed.props.len() < PROPERTIES.len() {
                probed.props.resize_with(PROPERTIES.len(), || None);
            }
            // Every getter of the table obeys the same preconditions (D2 dead handles, D9 other
            // users' jobs) and changes nothing (D1), whatever the property.
            if probed.judged_as.is_none() {
                let placeholder = Check::Property {
                    job: String::new(),
                    is: PropertyValue::ErrorCount(0),
                };
                probed.judged_as = Some(observed(placeholder, HResult::S_OK, (at, at)).observed);
            }
            let generation = slot.generation;
            for (k, prop) in Prop::all().enumerate() {
                let read = slot.handle.get_property(prop);
                let after = self.runner.trace_len();
                let pos = (at, after);
                match read {
                    Ok(v) => {
                        self.templates[k] = Some(i);
                        match &mut self.probed[i].props[k] {
                            // The common case: the same value as the kept reading, compared in
                            // place.
                            Some(r) if r.is(&v, HResult::S_OK, generation) => {
                                r.repeat(same_position, pos)
                            }
                            Some(r) => r.replace(Ok(v), HResult::S_OK, generation, pos),
                            last @ None => {
                                *last = Some(PropReading::new(v, HResult::S_OK, generation, pos))
                            }
                        }
                    }
                    // A failed read states no value: any value of the property stands for it (the
                    // latest one read, through whichever handle). Until one was read, the failure
                    // has nothing to show it with (the checks above read through the same handle
                    // and preconditions).
                    Err(h) => {
                        let Some(t) = self.templates[k] else {
                            continue;
                        };
                        match template_and_reading(&mut self.probed, t, i, k) {
                            // The template is this very reading: its value stands.
                            (None, Some(r)) => {
                                if r.generation == generation && r.result == h {
                                    r.repeat(same_position, pos);
                                } else {
                                    r.result = h;
                                    r.generation = generation;
                                    r.before = at;
                                    r.after = after;
                                    r.recheck = true;
                                    r.checked = None;
                                }
                            }
                            (Some(t), Some(r)) if r.is(t, h, generation) => {
                                r.repeat(same_position, pos)
                            }
                            (Some(t), Some(r)) => r.replace(Err(t), h, generation, pos),
                            (Some(t), last @ None) => {
                                *last = Some(PropReading::new(t.clone(), h, generation, pos))
                            }
                            (None, None) => unreachable!("the template slot holds a reading"),
                        }
                    }
                }
            }
        }
        // Every held enumerator's GetCount: the size of its snapshot while it lives, whatever
        // happened since (a clone's too), RPC_E_DISCONNECTED once it died (D46).
        for i in 0..self.enums.len() {
            let Some(got) = self.enum_count(&self.enums[i].alias) else {
                continue;
            };
            let alive = self.enum_alive(i);
            let (is, result) = match got {
                Ok(n) => (Some(n), HResult::S_OK),
                Err(h) => (None, h),
            };
            let e = &mut self.enums[i];
            let verdict = e
                .cursor
                .judge(&e.alias, EnumCall::Count { is }, alive, result);
            self.enum_broke(verdict);
        }
        for (k, held) in self.held.iter().enumerate() {
            let result = held.object.get_error();
            match self.held_seen.get_mut(k) {
                Some((o, checked)) => {
                    o.before = at;
                    o.after = at;
                    if let Seen::ErrorObject { result: r, .. } = &mut o.seen {
                        *r = result;
                    }
                    *checked = None;
                }
                None => self.held_seen.push((
                    Observed {
                        before: at,
                        after: at,
                        step: None,
                        seen: Seen::ErrorObject {
                            error: held.alias.clone(),
                            result,
                        },
                    },
                    None,
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{StateMethod, WorldSpec};
    use crate::testing::draw::make;
    use crate::Remote;

    /// The readings a harness keeps per handle (see [`PropReading`]) are what every handle reads now,
    /// after every step: a reading that changed was replaced in place and judged at the step's end
    /// (its stamp is the history's current one); a failed read holds the latest value any handle
    /// read of its property; every reading marked for judging was judged at some stamp.
    #[test]
    fn kept_readings_are_what_the_handles_read_now() {
        let user = |name: &str| UserSpec {
            name: name.into(),
            admin: false,
            logged_on: true,
        };
        let world = WorldSpec {
            users: vec![user("alice"), user("bob")],
            remotes: vec![("https://x.test/a".into(), Remote::sized(100_000))],
            bandwidth: Some(1_000),
            ..WorldSpec::default()
        };
        let describe = |d: &str| make::set(PropertyValue::Description(d.to_string()));
        let steps = [
            Draw::call(0, 0, make::create_job("one", JobType::Download)),
            Draw::call(0, 0, make::add_file("https://x.test/a", "C:\\dl\\a.bin")),
            // A second application of alice's, with its own handle to the job.
            Draw::call(0, 0, make::connect()),
            Draw::call(0, 0, make::get_job()),
            Draw::call(0, 0, make::state(StateMethod::Resume)),
            Draw::env(Op::Advance { seconds: 1 }),
            // bob's application, and a job of his that alice's handles cannot read (D9).
            Draw::call(0, 1, make::connect()),
            Draw::call(0, 0, make::create_job("bob's", JobType::Download)),
            Draw::env(Op::Advance { seconds: 2 }),
            // alice's second application exits: its handle fails every read (D2).
            Draw::call(1, 0, Action::Do(Op::Exit)),
            Draw::call(1, 0, describe("changed while one handle is dead")),
            Draw::env(Op::Advance { seconds: 1 }),
            Draw::env(Op::RestartService),
            Draw::call(1, 0, describe("after the restart")),
            Draw::env(Op::Advance { seconds: 1 }),
        ];
        let mut h = Harness::new(&Setup::new(world));
        let mut before: Vec<Vec<Option<(PropertyValue, HResult)>>> = Vec::new();
        let mut replaced = 0;
        // The latest value read of each property, through any handle, in any step.
        let mut latest: Vec<Option<PropertyValue>> = vec![None; PROPERTIES.len()];
        for d in &steps {
            h.step(d).expect("a clean run");
            let stamp = h.history().stamp();
            let mut now = Vec::new();
            for (i, slot) in h.handles.iter().enumerate() {
                let mut row = Vec::new();
                for (k, prop) in Prop::all().enumerate() {
                    let kept = h.probed[i].props[k].as_ref();
                    let fresh = slot.handle.get_property(prop);
                    let want = match fresh {
                        Ok(v) => {
                            latest[k] = Some(v.clone());
                            Some((v, HResult::S_OK))
                        }
                        Err(e) => latest[k].clone().map(|v| (v, e)),
                    };
                    let got = kept.map(|r| {
                        assert_eq!(r.generation, slot.generation, "{prop:?} through handle {i}");
                        (r.value.clone(), r.result)
                    });
                    assert_eq!(got, want, "{prop:?} through handle {i} after {d:?}");
                    if let Some(r) = kept {
                        assert!(!r.recheck || r.checked.is_some(), "{prop:?} judged");
                        let was = before.get(i).and_then(|b: &Vec<_>| b[k].clone());
                        if was.is_some() && was != got {
                            assert_eq!(r.checked, Some(stamp), "{prop:?} judged when replaced");
                            replaced += 1;
                        }
                    }
                    row.push(got);
                }
                now.push(row);
            }
            before = now;
        }
        assert_eq!(
            h.handles.len(),
            3,
            "two handles to alice's job, one to bob's"
        );
        assert!(replaced >= 5, "readings were replaced ({replaced})");
    }
}
