//! The [`Harness`]: applies [`Op`]s to a [`Sim`] through the COM-shaped facade, as applications
//! would, records what each call returned, probes every handle and held error object after every
//! step, and runs the invariant [`Checker`] — so a failure names the first step that broke a rule and
//! comes with a scenario file that replays it.

use super::invariants::{Checker, Observations, Observed, Seen, Violation};
use super::op::{pick, pick_recent, JobCall, Op, WorldSpec};
use super::scenario::{render, Failure};
use crate::world::Network;
use crate::{CopyError, Job, Sim, SimDuration, UserId, BG_JOB_ENUM_ALL_USERS};
use std::panic::{catch_unwind, AssertUnwindSafe};

mod calls;
mod record;

pub use record::{AppSlot, Done, HandleSlot, HeldSlot, JobSlot, Step};

/// Drives a [`Sim`] with [`Op`]s and checks the invariants after every one.
///
/// ```
/// use bitsim::testing::{Harness, JobCall, NamePick, Op, WorldSpec};
/// use bitsim::{JobType, Remote, World};
///
/// let spec = WorldSpec::single_user(World::new().remote("https://x.test/a", Remote::sized(10)));
/// let ops = [
///     Op::CreateJob { app: 0, name: NamePick::Update, job_type: JobType::Download },
///     Op::Job { app: 0, handle: 0, call: JobCall::AddFile { remote: 0, local: 0 } },
///     Op::Job { app: 0, handle: 0, call: JobCall::Resume },
///     Op::Advance { secs: 1 },
/// ];
/// let h = Harness::run(&spec, &ops).expect("no invariant breaks");
/// assert_eq!(h.jobs()[0].files, ["https://x.test/a"]);
/// ```
pub struct Harness {
    spec: WorldSpec,
    sim: Sim,
    users: Vec<UserId>,
    apps: Vec<AppSlot>,
    jobs: Vec<JobSlot>,
    handles: Vec<HandleSlot>,
    held: Vec<HeldSlot>,
    obs: Observations,
    checker: Checker,
    steps: Vec<Step>,
    remotes: Vec<String>,
    locals: Vec<String>,
    urls: Vec<String>,
    checking: bool,
}

impl Harness {
    /// A fresh machine for `spec`, with application `"app"` connected as the first user.
    pub fn new(spec: &WorldSpec) -> Harness {
        assert!(
            !spec.users.is_empty(),
            "a WorldSpec needs at least one user"
        );
        let sim = Sim::new(spec.world.clone());
        let users = spec
            .users
            .iter()
            .map(|u| sim.add_user(&u.name, u.admin, u.logged_on))
            .collect();
        let mut h = Harness {
            spec: spec.clone(),
            sim,
            users,
            apps: Vec::new(),
            jobs: Vec::new(),
            handles: Vec::new(),
            held: Vec::new(),
            obs: Observations::default(),
            checker: Checker::new(),
            steps: Vec::new(),
            remotes: spec.remote_pool(),
            locals: spec.local_pool(),
            urls: spec.url_pool(),
            checking: true,
        };
        h.connect(0);
        h
    }

    /// Stop reporting violations of `rule` at settled instants (see [`Checker::waive`]).
    pub fn waive(&mut self, rule: &str) {
        self.checker.waive(rule);
    }

    /// A harness that records and probes but checks nothing (for rendering runs that are known to
    /// break a rule).
    pub fn unchecked(spec: &WorldSpec) -> Harness {
        let mut h = Harness::new(spec);
        h.checking = false;
        h
    }

    /// Run `ops` from a fresh machine, stopping at the first broken invariant.
    pub fn run(spec: &WorldSpec, ops: &[Op]) -> Result<Harness, Box<Failure>> {
        let mut h = Harness::new(spec);
        for op in ops {
            h.step(op)?;
        }
        Ok(h)
    }

    /// Apply one operation, probe, and check every invariant.
    pub fn step(&mut self, op: &Op) -> Result<(), Box<Failure>> {
        let before = self.trace_len();
        let index = self.steps.len();
        let outcome = catch_unwind(AssertUnwindSafe(|| self.apply(op, index)));
        let done = match outcome {
            Ok(done) => done,
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "non-string panic".to_string());
                self.steps.push(Step {
                    op: op.clone(),
                    done: Done::Skipped,
                    trace: (before, before),
                });
                let mut v = Violation::new("panic", format!("the simulator panicked: {msg}"));
                v.step = Some(index);
                return Err(self.fail(v));
            }
        };
        let after = self.trace_len();
        self.steps.push(Step {
            op: op.clone(),
            done,
            trace: (before, after),
        });
        self.probe();
        if !self.checking {
            return Ok(());
        }
        let r = self.checker.check(&self.sim, &self.obs);
        r.map_err(|mut v| {
            v.step = v.step.or(Some(index));
            self.fail(v)
        })
    }

    /// A failure report for `violation` found after the steps so far (for property-specific
    /// assertions made by tests).
    pub fn fail(&self, violation: Violation) -> Box<Failure> {
        Box::new(Failure::new(self, violation))
    }

    /// The scenario file that replays the steps so far, each call expecting what it returned.
    pub fn scenario(&self) -> serde_json::Value {
        render(self, None)
    }

    /// The machine.
    pub fn sim(&self) -> &Sim {
        &self.sim
    }
    /// The world the run started from.
    pub fn spec(&self) -> &WorldSpec {
        &self.spec
    }
    /// The history rebuilt from the trace so far.
    pub fn history(&self) -> &super::History {
        self.checker.history()
    }
    /// Every observation so far.
    pub fn observations(&self) -> &Observations {
        &self.obs
    }
    /// The steps so far.
    pub fn steps(&self) -> &[Step] {
        &self.steps
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
    /// The users, by index.
    pub fn users(&self) -> &[UserId] {
        &self.users
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
            let user = &self.spec.users[app.user];
            h.job == job
                && h.generation == generation
                && self.history().app_alive(app.id)
                && (user.admin || owner == Some(self.users[app.user]))
        })
    }

    /// The error object of held slot `i` (calls on it are not recorded).
    pub fn held_error(&self, i: usize) -> &CopyError {
        &self.held[i].object
    }

    /// The handle of `handle_slot` as an object the test can call directly (calls made this way are
    /// not recorded; use [`Harness::op_for`] to record them).
    pub fn job_handle(&self, handle_slot: usize) -> &Job {
        &self.handles[handle_slot].handle
    }

    /// The operation that makes `call` through handle slot `handle_slot` (indices resolve newest
    /// first, so the operation is valid until another application starts or the application obtains
    /// another handle).
    pub fn op_for(&self, handle_slot: usize, call: JobCall) -> Op {
        let slot = &self.handles[handle_slot];
        let newer_handles = self.handles[handle_slot + 1..]
            .iter()
            .filter(|h| h.app == slot.app)
            .count();
        let newer_apps = self.apps.len() - 1 - slot.app;
        Op::Job {
            app: newer_apps as u8,
            handle: newer_handles as u8,
            call,
        }
    }

    fn trace_len(&self) -> usize {
        self.sim.with_service(|s| s.trace().len())
    }

    fn generation(&self) -> u32 {
        self.sim.with_service(|s| s.generation())
    }

    fn connect(&mut self, user: usize) -> usize {
        let i = self.apps.len();
        let name = if i == 0 {
            "app".to_string()
        } else {
            format!("app{i}")
        };
        let manager = self
            .sim
            .connect(&name, self.users[user])
            .expect("the harness connects only users it added to its own Sim");
        self.apps.push(AppSlot {
            name,
            user,
            id: manager.app(),
            manager,
            generation: self.generation(),
        });
        i
    }

    fn new_handle(&mut self, app: usize, job: usize, handle: Job) -> usize {
        let i = self.handles.len();
        let alias = if self.handles.iter().any(|h| h.job == job) {
            format!("{}_{}", self.jobs[job].alias, i)
        } else {
            self.jobs[job].alias.clone()
        };
        let generation = self.generation();
        self.handles.push(HandleSlot {
            app,
            job,
            alias,
            handle,
            generation,
        });
        i
    }

    fn observe(&mut self, before: usize, step: Option<usize>, seen: Seen) {
        let after = self.trace_len();
        self.obs.push(Observed {
            before,
            after,
            step,
            seen,
        });
    }

    fn apply(&mut self, op: &Op, index: usize) -> Done {
        let step = Some(index);
        let before = self.trace_len();
        match op {
            Op::CreateJob {
                app,
                name,
                job_type,
            } => {
                let Some((a, slot)) = pick_recent(&self.apps, *app) else {
                    return Done::Skipped;
                };
                let (manager, generation, id) = (slot.manager.clone(), slot.generation, slot.id);
                let name = name.text();
                let r = manager.create_job(&name, *job_type);
                let seen_result = r.as_ref().map(Job::id).map_err(|e| *e);
                self.observe(
                    before,
                    step,
                    Seen::CreateJob {
                        app: id,
                        generation,
                        job_type: *job_type,
                        result: seen_result,
                    },
                );
                let result = r.map(|handle| {
                    let j = self.jobs.len();
                    self.jobs.push(JobSlot {
                        id: handle.id(),
                        job_type: *job_type,
                        alias: format!("j{j}"),
                        files: Vec::new(),
                    });
                    self.new_handle(a, j, handle);
                    j
                });
                Done::CreateJob {
                    app: a,
                    name,
                    job_type: *job_type,
                    result,
                }
            }
            Op::GetJob { app, job } => {
                let (Some((a, slot)), Some((j, js))) =
                    (pick_recent(&self.apps, *app), pick_recent(&self.jobs, *job))
                else {
                    return Done::Skipped;
                };
                let (manager, generation, id, job_id) =
                    (slot.manager.clone(), slot.generation, slot.id, js.id);
                let r = manager.get_job(job_id);
                self.observe(
                    before,
                    step,
                    Seen::GetJob {
                        app: id,
                        generation,
                        job: job_id,
                        result: r.as_ref().map(|_| ()).map_err(|e| *e),
                    },
                );
                let result = r.map(|handle| self.new_handle(a, j, handle));
                Done::GetJob {
                    app: a,
                    job: j,
                    result,
                }
            }
            Op::EnumJobs { app, all_users } => {
                let Some((a, slot)) = pick_recent(&self.apps, *app) else {
                    return Done::Skipped;
                };
                let (manager, generation, id) = (slot.manager.clone(), slot.generation, slot.id);
                let flags = if *all_users { BG_JOB_ENUM_ALL_USERS } else { 0 };
                let listed = manager.enum_jobs(flags);
                let names = listed
                    .as_ref()
                    .map(|v| v.iter().filter_map(|j| j.get_display_name().ok()).collect())
                    .unwrap_or_default();
                let r = listed.map(|v| v.iter().map(Job::id).collect::<Vec<_>>());
                self.observe(
                    before,
                    step,
                    Seen::EnumJobs {
                        app: id,
                        generation,
                        all_users: *all_users,
                        result: r.clone(),
                    },
                );
                let result = r.map(|ids| {
                    ids.iter()
                        .filter_map(|id| self.jobs.iter().position(|j| j.id == *id))
                        .collect()
                });
                Done::EnumJobs {
                    app: a,
                    all_users: *all_users,
                    result,
                    names,
                }
            }
            Op::Job { app, handle, call } => {
                let Some((a, _)) = pick_recent(&self.apps, *app) else {
                    return Done::Skipped;
                };
                let mine: Vec<usize> = (0..self.handles.len())
                    .filter(|&i| self.handles[i].app == a)
                    .collect();
                let Some((_, &hs)) = pick_recent(&mine, *handle) else {
                    return Done::Skipped;
                };
                self.job_call(hs, call, step)
            }
            Op::TakeNotifications { app } => {
                let Some((a, slot)) = pick_recent(&self.apps, *app) else {
                    return Done::Skipped;
                };
                let deliveries = slot
                    .manager
                    .take_notifications()
                    .expect("no call is made from inside a callback here")
                    .into_iter()
                    .filter_map(|d| {
                        let j = self.jobs.iter().position(|j| j.id == d.notification.job)?;
                        Some((d.notification.event, j))
                    })
                    .collect();
                Done::Notifications { app: a, deliveries }
            }
            Op::Advance { secs } => {
                let from = self.sim.now();
                let by = SimDuration::from_secs(*secs);
                self.sim.advance(by);
                let to = self.sim.now();
                self.observe(
                    before,
                    step,
                    Seen::Time {
                        from,
                        by,
                        exact: true,
                        to,
                    },
                );
                Done::Environment { target: None }
            }
            Op::RunUntilIdle { max_secs } => {
                let from = self.sim.now();
                let by = SimDuration::from_secs(*max_secs);
                // A step-limit error leaves the clock where it stopped; the time check covers it.
                let _ = self.sim.run_until_idle_within(by);
                let to = self.sim.now();
                self.observe(
                    before,
                    step,
                    Seen::Time {
                        from,
                        by,
                        exact: false,
                        to,
                    },
                );
                Done::Environment { target: None }
            }
            Op::Network { up } => {
                self.sim
                    .set_network(if *up { Network::Up } else { Network::Down });
                Done::Environment { target: None }
            }
            Op::Logon { user } | Op::Logoff { user } => {
                let Some((u, &id)) = pick(&self.users, *user) else {
                    return Done::Skipped;
                };
                if matches!(op, Op::Logon { .. }) {
                    self.sim.logon(id);
                } else {
                    self.sim.logoff(id);
                }
                Done::Environment { target: Some(u) }
            }
            Op::Connect { user } => {
                let u = usize::from(*user) % self.users.len();
                let a = self.connect(u);
                Done::Environment { target: Some(a) }
            }
            Op::Exit { app } => {
                let Some((a, slot)) = pick_recent(&self.apps, *app) else {
                    return Done::Skipped;
                };
                slot.manager
                    .exit()
                    .expect("no call is made from inside a callback here");
                Done::Environment { target: Some(a) }
            }
            Op::SetRemote { url, remote } => {
                let Some((_, url)) = pick(&self.urls, *url) else {
                    return Done::Skipped;
                };
                let url = url.clone();
                self.sim.set_remote(&url, remote.clone());
                Done::SetRemote {
                    url,
                    remote: remote.clone(),
                }
            }
            Op::RestartService => {
                // D15: every handle dies. Running applications create their manager again (as a
                // client calls CoCreateInstance again; the scenario runner does the same) and obtain
                // job handles again on first use (see `job_call`).
                self.sim.restart_service();
                let generation = self.generation();
                for slot in &mut self.apps {
                    if let Ok(m) = slot.manager.reconnect() {
                        slot.manager = m;
                        slot.generation = generation;
                    }
                }
                Done::Environment { target: None }
            }
        }
    }
}
