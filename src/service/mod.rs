//! The simulated BITS service: jobs, users, applications, limits and the engine, with the one function
//! that moves a job between states (`enter.rs`), where every entry action lives.
//!
//! The service is split by concern, each file an `impl Service` block over the data defined here:
//! `enter.rs` (the choke point and callbacks), `run.rs` (clock, timers, scheduler), `transfer.rs`
//! (transfers and failures), `environment.rs` (network, logon, restart). The BITS methods are in
//! `calls.rs` and the job properties in `properties.rs`, outside this module; they reach the state
//! only through the transition table and `enter`.

mod effects;
mod enter;
mod environment;
mod http;
mod limits;
mod materialise;
mod run;
mod scavenge;
mod transfer;

pub(crate) use limits::max_download_remaining;
pub(crate) use run::{cancelled, IdleStep};

use crate::engine::Engine;
use crate::hresult::HResult;
use crate::job::{AppId, Job, JobId, UserId};
use crate::notify::{Delivery, Registration};
use crate::time::SimTime;
use crate::trace::{Trace, TraceEvent, TraceKind};
use crate::world::World;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

/// Every user's SID starts with this; the last part is 1000 + the user's index.
const SID_PREFIX: &str = "S-1-5-21-1004336348-1177238915-682003330-";

/// A user account.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct User {
    /// Account name.
    pub name: String,
    /// A member of Administrators: with an elevated token (the default, D34) exempt from quotas and
    /// may see and change every job (D9, D14, D95).
    pub admin: bool,
    /// Logged on interactively: the user's jobs transfer only then (D10).
    pub logged_on: bool,
    /// The token's mandatory integrity RID (SECURITY_MANDATORY_*_RID); `None`: HIGH (0x3000) when
    /// elevated, else MEDIUM (0x2000) (D34).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrity: Option<u32>,
    /// The token is elevated; `None`: as `admin` (D34).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elevated: Option<bool>,
}

impl User {
    /// GetOwnerElevationState of the user's jobs (D34).
    pub fn elevated(&self) -> bool {
        self.elevated.unwrap_or(self.admin)
    }
    /// D95: an administrator's powers (other users' jobs, BG_JOB_ENUM_ALL_USERS, TakeOwnership of
    /// another user's job, the quota exemption) come with an elevated token only; a member of
    /// Administrators running unelevated is a standard user (§6).
    pub fn admin_powers(&self) -> bool {
        self.admin && self.elevated()
    }
    /// GetOwnerIntegrityLevel of the user's jobs (D34).
    pub fn integrity(&self) -> u32 {
        self.integrity
            .unwrap_or(if self.elevated() { 0x3000 } else { 0x2000 })
    }

    /// The user's SID string, as GetOwner reports it (deterministic, from the account's index).
    pub fn sid_for(id: UserId) -> String {
        format!("{SID_PREFIX}{}", 1000 + u64::from(id.0))
    }
}

/// An application (client process).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct App {
    /// A name for traces and reports.
    pub name: String,
    /// The user it runs as.
    pub user: UserId,
    /// False once it exited (D2).
    pub alive: bool,
    /// Callback deliveries not yet taken by [`Service::take_deliveries`], at most
    /// [`Service::DELIVERY_LOG_CAP`] (D22).
    pub(crate) deliveries: VecDeque<Delivery>,
    /// Deliveries dropped from the full log since [`Service::take_dropped_deliveries`] last ran (D22).
    pub(crate) dropped_deliveries: u64,
}

impl App {
    /// D22: log one delivery; when the log is full the oldest entry is dropped and counted.
    pub(crate) fn log_delivery(&mut self, d: Delivery) {
        if self.deliveries.len() >= Service::DELIVERY_LOG_CAP {
            self.deliveries.pop_front();
            self.dropped_deliveries = self.dropped_deliveries.saturating_add(1);
        }
        self.deliveries.push_back(d);
    }
}

/// Per-machine limits for non-administrators (D14, spec §6 "Quotas"). Configurable.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Limits {
    /// MaxJobsPerMachine (300).
    pub max_jobs_per_machine: u32,
    /// MaxJobsPerUser (60).
    pub max_jobs_per_user: u32,
    /// MaxFilesPerJob (200).
    pub max_files_per_job: u32,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_jobs_per_machine: 300,
            max_jobs_per_user: 60,
            max_files_per_job: 200,
        }
    }
}

/// The machine's jobs, by id: a `Vec<Job>` whose block a dropped machine leaves to the next (D88).
#[derive(Debug, Default)]
pub(crate) struct Jobs(Vec<Job>);

/// D88: the block of the last machine's job vector.
static JOB_SPARE: crate::growth::Spare<Job> = crate::growth::Spare::new();

impl Jobs {
    pub(crate) fn new(jobs: Vec<Job>) -> Jobs {
        Jobs(jobs)
    }

    /// Room for one more job. The first job of a machine takes D88's kept block when there is
    /// one (the jobs of the machine dropped before are gone from it); after that the vector
    /// grows by D68's step.
    #[inline]
    pub(crate) fn reserve_one(&mut self) {
        if self.0.len() == self.0.capacity() {
            self.grow();
        }
    }

    #[cold]
    fn grow(&mut self) {
        if self.0.capacity() == 0 {
            if let Some(block) = JOB_SPARE.take() {
                self.0 = block;
                return;
            }
        }
        crate::growth::reserve_one(&mut self.0);
    }
}

impl std::ops::Deref for Jobs {
    type Target = Vec<Job>;
    fn deref(&self) -> &Vec<Job> {
        &self.0
    }
}

impl std::ops::DerefMut for Jobs {
    fn deref_mut(&mut self) -> &mut Vec<Job> {
        &mut self.0
    }
}

impl Drop for Jobs {
    /// D88: the job vector's block (its jobs dropped) is kept for the next machine, whatever its
    /// size: a machine's vector grows by copying every job about twice over (D68 doubles it while
    /// small), which the next machine of about as many jobs is spared.
    fn drop(&mut self) {
        JOB_SPARE.keep_from(&mut self.0, 0);
    }
}

/// The simulated service with its world and clock. This is the deterministic core: plain data and
/// `&mut self` methods; the COM-shaped handles ([`crate::Sim`], [`crate::Manager`], [`crate::Job`]) are a thin layer over it.
#[derive(Debug)]
pub struct Service {
    pub(crate) now: SimTime,
    pub(crate) world: World,
    pub(crate) limits: Limits,
    pub(crate) jobs: Jobs,
    pub(crate) users: Vec<User>,
    /// The users by name: `user_id` is O(log n) (rebuilt from `users` by the snapshot loader).
    pub(crate) user_index: BTreeMap<String, UserId>,
    pub(crate) apps: Vec<App>,
    /// Non-final jobs per owner, and in all (quotas, D14).
    pub(crate) live_jobs_per_user: Vec<u32>,
    pub(crate) live_jobs: u32,
    /// Bumped by every service restart: handles from before are dead (D15).
    pub(crate) generation: u32,
    /// SetNotifyInterface registrations, by job index (not persisted, D15).
    /// Boxed: nearly every job has none, and `None` then costs 8 bytes instead of 40. Only as long
    /// as the last job that ever had one needs: a job past its end has none (read through
    /// [`Service::registration`], written through [`Service::set_registration`]), so creating a job
    /// touches no registration.
    pub(crate) registrations: Vec<Option<Box<Registration>>>,
    pub(crate) next_serial: u64,
    /// Timers, ready queues, running sets, bandwidth flow.
    pub(crate) engine: Engine,
    // ---- trace ----
    pub(crate) tracing: bool,
    pub(crate) trace: Trace,
    /// The sandbox files are materialised in, if the world has one (host state, kept across restarts).
    pub(crate) sandbox: Option<Box<crate::sandbox::Sandbox>>,
    /// Command-line launches not yet taken by [`Service::take_launches`] (§5.4).
    pub(crate) launches: Vec<crate::cmdline::Launch>,
    /// D91: the jobs in a retry loop, each with the instant its inactivity began (its entry into
    /// TRANSIENT_ERROR) and the ModificationTime the loop's last state change wrote. Only jobs in
    /// a loop have an entry (nothing per idle job); not saved: a load re-derives T22 from
    /// ModificationTime (D36).
    pub(crate) retry_idle: RetryIdle,
}

/// D91's retry loops by job index: for each job in a loop, the instant its inactivity began and the
/// ModificationTime the loop's last change wrote. A vector indexed by job (allocated when the first
/// job enters a loop, 16 bytes per job up to the highest index in a loop), not a map: a storm of
/// jobs failing and retrying touches it at every state change, in O(1) and in job order.
#[derive(Debug, Default)]
pub(crate) struct RetryIdle {
    slots: Vec<(SimTime, SimTime)>,
    /// Jobs in a loop (slots whose first time is not [`RetryIdle::NONE`]).
    live: usize,
}

impl RetryIdle {
    /// A slot with no loop.
    const NONE: (SimTime, SimTime) = (SimTime::MAX, SimTime::MAX);

    /// No job is in a loop.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Job `id`'s loop, if it is in one.
    #[inline]
    pub(crate) fn get(&self, id: JobId) -> Option<(SimTime, SimTime)> {
        self.slots
            .get(id.index())
            .copied()
            .filter(|&e| e != Self::NONE)
    }

    /// Job `id`'s loop, to move its last change.
    #[inline]
    pub(crate) fn get_mut(&mut self, id: JobId) -> Option<&mut (SimTime, SimTime)> {
        self.slots.get_mut(id.index()).filter(|e| **e != Self::NONE)
    }

    /// Job `id` begins a loop (or begins it again). A loop that begins at the last instant (D18) is
    /// not kept: its beginning is then the job's ModificationTime anyway, which is all
    /// [`Service::inactive_since`] would read from it.
    pub(crate) fn insert(&mut self, id: JobId, loop_: (SimTime, SimTime)) {
        if loop_ == Self::NONE {
            self.remove(id);
            return;
        }
        let i = id.index();
        if i >= self.slots.len() {
            self.slots.resize(i + 1, Self::NONE);
        }
        if self.slots[i] == Self::NONE {
            self.live += 1;
        }
        self.slots[i] = loop_;
    }

    /// Job `id` is in no loop.
    #[inline]
    pub(crate) fn remove(&mut self, id: JobId) {
        if let Some(e) = self.slots.get_mut(id.index()) {
            if *e != Self::NONE {
                *e = Self::NONE;
                self.live -= 1;
            }
        }
    }
}

impl Service {
    /// A service on `world`, at time zero, with no users, applications or jobs.
    pub fn new(world: World) -> Service {
        let chaos = world.chaos.as_ref().map(|c| (c.seed, c.rate_ppm));
        let mut s = Service {
            now: SimTime::ZERO,
            world,
            limits: Limits::default(),
            jobs: Jobs::default(),
            users: Vec::new(),
            user_index: BTreeMap::new(),
            apps: Vec::new(),
            live_jobs_per_user: Vec::new(),
            live_jobs: 0,
            generation: 0,
            registrations: Vec::new(),
            next_serial: 0,
            engine: Engine::default(),
            tracing: true,
            trace: Trace::new(),
            sandbox: None,
            launches: Vec::new(),
            retry_idle: RetryIdle::default(),
        };
        s.open_sandbox();
        if let Some((seed, rate_ppm)) = chaos {
            s.record(TraceKind::ChaosSeed { seed, rate_ppm });
        }
        s
    }

    /// The current virtual time.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// The world (read-only).
    pub fn world(&self) -> &World {
        &self.world
    }

    /// The quota limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Change the quota limits (they apply to later calls).
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// How many service restarts happened.
    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// Number of jobs ever created (final ones included).
    pub fn job_count(&self) -> usize {
        self.jobs.len()
    }

    /// Every job id ever created, in creation order (an observer's view, for invariant checkers; not a
    /// BITS method: applications use `enum_jobs`).
    pub fn all_job_ids(&self) -> impl Iterator<Item = JobId> + '_ {
        self.jobs.iter().map(|j| j.id())
    }

    /// D23: how many final jobs had their strings released at a service restart of this service.
    pub fn released_job_count(&self) -> usize {
        self.jobs.iter().filter(|j| j.is_released()).count()
    }

    /// Turn trace recording on or off (on by default).
    pub fn set_tracing(&mut self, on: bool) {
        self.tracing = on;
    }

    /// The trace recorded so far (compact; iterate it, or `to_vec()`).
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// Take the trace recorded so far, leaving it empty.
    pub fn take_trace(&mut self) -> Vec<TraceEvent> {
        self.trace.take()
    }

    /// How many engine events were processed since the service was created.
    pub fn steps(&self) -> u64 {
        self.engine.steps
    }

    pub(crate) fn record(&mut self, kind: TraceKind) {
        if self.tracing {
            self.trace.push(TraceEvent {
                time: self.now,
                kind,
            });
        }
    }

    // ------------------------------------------------------------------ users and applications

    /// Job `j`'s SetNotifyInterface registration, if it has one.
    #[inline]
    pub(crate) fn registration(&self, j: usize) -> Option<&Registration> {
        self.registrations.get(j).and_then(Option::as_deref)
    }

    /// Register `r` for job `j` (or clear its registration).
    pub(crate) fn set_registration(&mut self, j: usize, r: Option<Box<Registration>>) {
        if j >= self.registrations.len() {
            if r.is_none() {
                return;
            }
            self.registrations.resize_with(j + 1, || None);
        }
        self.registrations[j] = r;
    }

    /// Add a user account. Names are unique: adding an existing name returns the existing id unchanged.
    pub fn add_user(&mut self, name: &str, admin: bool, logged_on: bool) -> UserId {
        if let Some(id) = self.user_id(name) {
            return id;
        }
        let id = UserId(self.users.len() as u32);
        self.users.push(User {
            name: name.to_string(),
            admin,
            logged_on,
            integrity: None,
            elevated: None,
        });
        self.user_index.insert(name.to_string(), id);
        self.live_jobs_per_user.push(0);
        id
    }

    /// Set a user's token: its integrity RID and elevation (`None`: the defaults of D34), as
    /// GetOwnerIntegrityLevel and GetOwnerElevationState report them for the user's jobs.
    pub fn set_user_token(&mut self, user: UserId, integrity: Option<u32>, elevated: Option<bool>) {
        if let Some(u) = self.users.get_mut(user.index()) {
            u.integrity = integrity;
            u.elevated = elevated;
        }
    }

    /// The id of the user called `name` (O(log n), by the name index).
    pub fn user_id(&self, name: &str) -> Option<UserId> {
        self.user_index.get(name).copied()
    }

    /// The user with this id.
    pub fn user(&self, id: UserId) -> Option<&User> {
        self.users.get(id.index())
    }

    /// The user whose SID string (as GetOwner returns it) is `sid`.
    /// Constant time: the SID's last part is 1000 + the user's index, and only the exact string
    /// [`User::sid_for`] gives is accepted.
    pub fn user_by_sid(&self, sid: &str) -> Option<UserId> {
        let rid: u64 = sid.strip_prefix(SID_PREFIX)?.parse().ok()?;
        let id = UserId(u32::try_from(rid.checked_sub(1000)?).ok()?);
        (id.index() < self.users.len() && User::sid_for(id) == sid).then_some(id)
    }

    /// Start an application running as `user`.
    pub fn connect(&mut self, name: &str, user: UserId) -> AppId {
        assert!(
            user.index() < self.users.len(),
            "connect: unknown user {user:?}"
        );
        self.apps.push(App {
            name: name.to_string(),
            user,
            alive: true,
            deliveries: VecDeque::new(),
            dropped_deliveries: 0,
        });
        let app = AppId(self.apps.len() as u32 - 1);
        self.record(TraceKind::AppConnected { app, user });
        app
    }

    /// The application with this id.
    pub fn app(&self, id: AppId) -> Option<&App> {
        self.apps.get(id.index())
    }

    /// The application exits: its handles, error objects and callback registrations die (D2). Its jobs
    /// live on in the service.
    pub fn exit(&mut self, app: AppId) {
        let Some(a) = self.apps.get_mut(app.index()) else {
            return;
        };
        if !a.alive {
            return;
        }
        a.alive = false;
        for r in &mut self.registrations {
            if r.as_ref().is_some_and(|r| r.app == app) {
                *r = None;
            }
        }
        self.record(TraceKind::AppExited { app });
    }

    /// Take the callback deliveries made to `app`'s registrations since the last call (the pull
    /// interface, D11), in delivery order.
    ///
    /// D22: the log keeps the newest [`Service::DELIVERY_LOG_CAP`] deliveries per application; older
    /// ones are dropped and counted ([`Service::take_dropped_deliveries`]).
    pub fn take_deliveries(&mut self, app: AppId) -> Vec<Delivery> {
        self.apps
            .get_mut(app.index())
            .map(|a| Vec::from(std::mem::take(&mut a.deliveries)))
            .unwrap_or_default()
    }

    /// D22: how many deliveries to `app` were dropped from its full log since the last call, and reset
    /// the count. A reader that must see every delivery (the scenario `notifications` check) fails when
    /// this is not 0.
    pub fn take_dropped_deliveries(&mut self, app: AppId) -> u64 {
        self.apps
            .get_mut(app.index())
            .map(|a| std::mem::take(&mut a.dropped_deliveries))
            .unwrap_or(0)
    }

    /// D22: the most deliveries an application's log holds (the oldest are dropped beyond it).
    pub const DELIVERY_LOG_CAP: usize = 4096;

    /// RPC_E_DISCONNECTED unless `app` is alive (D2).
    pub(crate) fn live_app(&self, app: AppId) -> Result<&App, HResult> {
        match self.apps.get(app.index()) {
            Some(a) if a.alive => Ok(a),
            _ => Err(HResult::RPC_E_DISCONNECTED),
        }
    }

    /// The caller may act as an administrator (D9, D14; elevated only, D95).
    pub(crate) fn is_admin(&self, user: UserId) -> bool {
        self.users[user.index()].admin_powers()
    }

    /// D96: a caller whose token's integrity level is below that of the job owner's token may not
    /// change the job (E_ACCESSDENIED), even as an elevated administrator; reading it is allowed. An
    /// unknown job is left to the method's own checks.
    #[inline]
    pub(crate) fn may_modify(&self, app: AppId, id: JobId) -> Result<(), HResult> {
        let user = self.live_app(app)?.user;
        match self.jobs.get(id.index()) {
            // The owner's own calls (nearly all) are never refused.
            Some(job) if job.owner() != user => {
                if self.users[user.index()].integrity()
                    < self.users[job.owner().index()].integrity()
                {
                    Err(HResult::E_ACCESSDENIED)
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    /// D9: the job index if `app` may touch job `id` at all: RPC_E_DISCONNECTED for an exited
    /// application, BG_E_NOT_FOUND for an unknown id, E_ACCESSDENIED for another user's job unless the
    /// caller is an administrator.
    pub(crate) fn access(&self, app: AppId, id: JobId) -> Result<usize, HResult> {
        let user = self.live_app(app)?.user;
        let job = self.jobs.get(id.index()).ok_or(HResult::BG_E_NOT_FOUND)?;
        if job.owner() == user || self.is_admin(user) {
            Ok(id.index())
        } else {
            Err(HResult::E_ACCESSDENIED)
        }
    }
}

#[cfg(test)]
mod retry_idle_tests {
    use super::RetryIdle;
    use crate::time::SimTime;
    use crate::JobId;

    /// D91's table: a loop per job, counted; a removed or never-begun loop reads as none; a loop
    /// begun at the last instant is not kept (its beginning would be the ModificationTime anyway).
    #[test]
    fn d91_retry_loops_are_kept_per_job_and_counted() {
        let (a, b) = (JobId(3), JobId(40));
        let t = |s| SimTime::from_secs(s);
        let mut r = RetryIdle::default();
        assert!(r.is_empty());
        assert_eq!(r.get(a), None);
        r.insert(b, (t(5), t(5)));
        r.insert(a, (t(1), t(2)));
        r.insert(a, (t(3), t(3)));
        assert!(!r.is_empty());
        assert_eq!(r.get(a), Some((t(3), t(3))));
        assert_eq!(r.get(JobId(4)), None);
        r.get_mut(b).unwrap().1 = t(9);
        assert_eq!(r.get(b), Some((t(5), t(9))));
        r.remove(b);
        r.remove(b);
        assert_eq!(r.get(b), None);
        assert!(!r.is_empty());
        r.insert(a, (SimTime::MAX, SimTime::MAX));
        assert_eq!(r.get(a), None);
        assert!(r.is_empty());
        r.remove(JobId(1000));
        assert!(r.is_empty());
    }
}
