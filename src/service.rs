//! The simulated BITS service: jobs, users, applications, limits, and the one function that moves a
//! job between states (`enter`), where every entry action lives.
//!
//! The method implementations are in `calls.rs`, the engine (time, scheduler, transfers) in
//! `engine.rs`; all of them are `impl Service` blocks over the data defined here.

use crate::engine::{Event, Flow, Scheduled};
use crate::heap::MinHeap;
use crate::job::{ErrorRecord, Job, Protocol};
use crate::notify::{Delivery, Notification, NotifyEvent, Registration};
use crate::trace::{Trace, TraceEvent, TraceKind};
use crate::transition::{self, Input, Rule};
use crate::{AppId, ErrorContext, HResult, JobId, JobState, Priority, SimTime, UserId, World};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, VecDeque};

/// A user account.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct User {
    /// Account name.
    pub name: String,
    /// A member of Administrators (elevated): exempt from quotas, may see and change every job (D9, D14).
    pub admin: bool,
    /// Logged on interactively: the user's jobs transfer only then (D10).
    pub logged_on: bool,
}

impl User {
    /// The user's SID string, as GetOwner reports it (deterministic, from the account's index).
    pub fn sid_for(id: UserId) -> String {
        format!("S-1-5-21-1004336348-1177238915-682003330-{}", 1000 + id.0)
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
    /// Callback deliveries not yet taken by [`Service::take_deliveries`].
    pub(crate) deliveries: Vec<Delivery>,
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

/// Why a job enters a state: what the entry actions need to know.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Cause {
    /// Nothing beyond the input itself.
    Plain,
    /// An error: the error record to create (D1).
    Error {
        context: ErrorContext,
        code: HResult,
        file: Option<u32>,
        network_loss: bool,
    },
}

/// The simulated service with its world and clock. This is the deterministic core: plain data and
/// `&mut self` methods; the COM-shaped handles in [`crate::api`] are a thin layer over it.
#[derive(Debug)]
pub struct Service {
    pub(crate) now: SimTime,
    pub(crate) world: World,
    pub(crate) limits: Limits,
    pub(crate) jobs: Vec<Job>,
    pub(crate) users: Vec<User>,
    pub(crate) apps: Vec<App>,
    /// Non-final jobs per owner, and in all (quotas, D14).
    pub(crate) live_jobs_per_user: Vec<u32>,
    pub(crate) live_jobs: u32,
    /// Bumped by every service restart: handles from before are dead (D15).
    pub(crate) generation: u32,
    /// SetNotifyInterface registrations, by job index (not persisted, D15).
    /// Boxed: nearly every job has none, and `None` then costs 8 bytes per job instead of 40.
    pub(crate) registrations: Vec<Option<Box<Registration>>>,
    pub(crate) next_serial: u64,
    // ---- engine ----
    pub(crate) events: MinHeap<Scheduled>,
    /// Timers pushed for the instant they were pushed at (mostly scheduler passes), kept out of the
    /// heap in a FIFO: always sorted by `(time, seq)`, so the next event is the smaller of this front
    /// and the heap's top — the same order as if they were in the heap, at O(1) instead of O(log n).
    pub(crate) now_events: VecDeque<Scheduled>,
    pub(crate) seq: u64,
    /// Number of armed state-changing timers (retry, no-progress deadline); 0 and no transfers = idle.
    pub(crate) armed: u64,
    pub(crate) schedule_pending: bool,
    pub(crate) ready_fg: BTreeSet<(u64, JobId)>,
    /// QUEUED background jobs by `(enqueue sequence, job)`, one set per priority value (index
    /// `Priority::value()`; FOREGROUND's stays empty): the queue `(priority, sequence, job)` without
    /// comparing priorities inside a B-tree search. `first_ready_bg` gives its first entry.
    pub(crate) ready_bg: [BTreeSet<(u64, JobId)>; 4],
    /// QUEUED jobs whose owner is logged off.
    pub(crate) parked: BTreeSet<JobId>,
    pub(crate) running: BTreeSet<JobId>,
    /// The running jobs whose priority is not FOREGROUND, in no order (derived from `running` and the
    /// priorities; not saved): the scheduler looks at these without scanning every running
    /// foreground job. Normally one; more only between a priority change and the next scheduler pass.
    /// A `Vec`, not a set: it keeps its allocation when it empties.
    pub(crate) running_bg: Vec<JobId>,
    pub(crate) flow: Flow,
    /// Boxes of finished transfers (`Job::active`), reused by the next ones so a transfer does not
    /// allocate; at most as many as ever ran at once. Not state: not saved.
    #[allow(clippy::vec_box)] // the boxes themselves are what is kept for reuse
    pub(crate) spare_active: Vec<Box<crate::job::Active>>,
    pub(crate) steps: u64,
    // ---- trace ----
    pub(crate) tracing: bool,
    pub(crate) trace: Trace,
}

impl Service {
    /// A service on `world`, at time zero, with no users, applications or jobs.
    pub fn new(world: World) -> Service {
        let chaos = world.chaos.as_ref().map(|c| (c.seed, c.rate_ppm));
        let mut s = Service {
            now: SimTime::ZERO,
            world,
            limits: Limits::default(),
            jobs: Vec::new(),
            users: Vec::new(),
            apps: Vec::new(),
            live_jobs_per_user: Vec::new(),
            live_jobs: 0,
            generation: 0,
            registrations: Vec::new(),
            next_serial: 0,
            events: MinHeap::new(),
            now_events: VecDeque::new(),
            seq: 0,
            armed: 0,
            schedule_pending: false,
            ready_fg: BTreeSet::new(),
            ready_bg: Default::default(),
            parked: BTreeSet::new(),
            running: BTreeSet::new(),
            running_bg: Vec::new(),
            flow: Flow::default(),
            spare_active: Vec::new(),
            steps: 0,
            tracing: true,
            trace: Trace::new(),
        };
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
        self.jobs.iter().map(|j| j.id)
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
        self.steps
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

    /// Add a user account. Names are unique: adding an existing name returns the existing id unchanged.
    pub fn add_user(&mut self, name: &str, admin: bool, logged_on: bool) -> UserId {
        if let Some(id) = self.user_id(name) {
            return id;
        }
        self.users.push(User {
            name: name.to_string(),
            admin,
            logged_on,
        });
        self.live_jobs_per_user.push(0);
        UserId(self.users.len() as u32 - 1)
    }

    /// The id of the user called `name`.
    pub fn user_id(&self, name: &str) -> Option<UserId> {
        self.users
            .iter()
            .position(|u| u.name == name)
            .map(|i| UserId(i as u32))
    }

    /// The user with this id.
    pub fn user(&self, id: UserId) -> Option<&User> {
        self.users.get(id.index())
    }

    /// The user whose SID string (as GetOwner returns it) is `sid`.
    pub fn user_by_sid(&self, sid: &str) -> Option<UserId> {
        (0..self.users.len() as u32)
            .map(UserId)
            .find(|&u| User::sid_for(u) == sid)
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
            deliveries: Vec::new(),
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
    pub fn take_deliveries(&mut self, app: AppId) -> Vec<Delivery> {
        self.apps
            .get_mut(app.index())
            .map(|a| std::mem::take(&mut a.deliveries))
            .unwrap_or_default()
    }

    /// RPC_E_DISCONNECTED unless `app` is alive (D2).
    pub(crate) fn live_app(&self, app: AppId) -> Result<&App, HResult> {
        match self.apps.get(app.index()) {
            Some(a) if a.alive => Ok(a),
            _ => Err(HResult::RPC_E_DISCONNECTED),
        }
    }

    pub(crate) fn is_admin(&self, user: UserId) -> bool {
        self.users[user.index()].admin
    }

    /// D9: the job index if `app` may touch job `id` at all: RPC_E_DISCONNECTED for an exited
    /// application, BG_E_NOT_FOUND for an unknown id, E_ACCESSDENIED for another user's job unless the
    /// caller is an administrator.
    pub(crate) fn access(&self, app: AppId, id: JobId) -> Result<usize, HResult> {
        let user = self.live_app(app)?.user;
        let job = self.jobs.get(id.index()).ok_or(HResult::BG_E_NOT_FOUND)?;
        if job.owner == user || self.is_admin(user) {
            Ok(id.index())
        } else {
            Err(HResult::E_ACCESSDENIED)
        }
    }

    // ------------------------------------------------------------------ the choke point

    /// Feed `input` to the transition table for job `j`; on acceptance, enter the new state. Returns what
    /// the method returns (S_OK / BG_S_PARTIAL_COMPLETE) or the refusal.
    pub(crate) fn apply(
        &mut self,
        j: usize,
        input: Input,
        cause: Cause,
    ) -> Result<HResult, HResult> {
        let from = self.jobs[j].state;
        let t = transition::next(from, input)?;
        if t.to != from {
            self.enter(j, t.to, t.rule, cause);
        }
        Ok(t.returns)
    }

    /// Enter state `to` by `rule`: the one place where entry and exit actions happen (the one choke
    /// point): slots and queues, the error record (D1), error objects (D2), the error count (D6),
    /// timers (D3, D4), ModificationTime (§8.2), notifications (D11) and the trace.
    fn enter(&mut self, j: usize, to: JobState, rule: Rule, cause: Cause) {
        let now = self.now;
        let from = self.jobs[j].state;
        let id = self.jobs[j].id;
        debug_assert!(!from.is_final(), "final states are absorbing");

        // ---- leave `from`
        if from.is_running() && !to.is_running() {
            self.release_slot(j);
            self.jobs[j].slice_at = None;
        }
        if from == JobState::Queued {
            self.unqueue(j);
        }
        self.disarm_timers(j);

        // ---- become `to`
        {
            let job = &mut self.jobs[j];
            job.state = to;
            job.state_since = now;
            job.times.modification_time = now;
        }
        self.record(TraceKind::State {
            job: id,
            from,
            to,
            rule,
        });

        match to {
            JobState::Transferring => {
                // D1: the error record goes; D2: error objects handed out so far die.
                let job = &mut self.jobs[j];
                job.transfer_epoch = job.transfer_epoch.wrapping_add(1);
                job.retry_attempt = false;
                if job.error.take().is_some() {
                    self.record(TraceKind::ErrorRecordDropped { job: id });
                }
            }
            JobState::Error | JobState::TransientError => {
                let Cause::Error {
                    context,
                    code,
                    file,
                    network_loss,
                } = cause
                else {
                    // T12 (no-progress timeout) re-enters ERROR with the last transient error (D4).
                    self.reenter_error_keeping_record(j);
                    self.after_enter(j, from, to, rule);
                    return;
                };
                let job = &mut self.jobs[j];
                let inc = transition::error_count_increment(from, job.retry_attempt, network_loss);
                job.error_count = job.error_count.saturating_add(inc);
                job.retry_attempt = false;
                job.waiting_for_network = network_loss && to == JobState::TransientError;
                let protocol = file.map(|f| Protocol::of(&job.files[f as usize].remote));
                job.error = Some(ErrorRecord {
                    context,
                    code,
                    file,
                    protocol,
                    time: now,
                });
                let error_count = job.error_count;
                self.record(TraceKind::ErrorRecord {
                    job: id,
                    context,
                    code,
                    file,
                    error_count,
                });
            }
            JobState::Queued => {
                let job = &mut self.jobs[j];
                // D6: the next attempt is a retry only when the retry timer or Resume in TRANSIENT_ERROR
                // started it.
                job.retry_attempt = matches!(rule, Rule::T11 | Rule::T13);
                if matches!(rule, Rule::T2 | Rule::T14) {
                    // §3.3 [INFERRED]: after the application intervenes the no-progress clock starts afresh.
                    job.no_progress_since = None;
                }
                self.enqueue(j);
            }
            JobState::Transferred => {
                self.jobs[j].times.transfer_completion_time = Some(now);
            }
            JobState::Acknowledged | JobState::Cancelled => {
                let owner = self.jobs[j].owner;
                self.live_jobs = self.live_jobs.saturating_sub(1);
                let per_user = &mut self.live_jobs_per_user[owner.index()];
                *per_user = per_user.saturating_sub(1);
            }
            JobState::Suspended | JobState::Connecting => {}
        }
        self.after_enter(j, from, to, rule);
    }

    /// D4: the no-progress timeout moves the job to ERROR keeping the last transient error's context,
    /// code and file; the record is created anew (D1: every entry into ERROR creates one).
    fn reenter_error_keeping_record(&mut self, j: usize) {
        let now = self.now;
        let job = &mut self.jobs[j];
        job.retry_attempt = false;
        job.waiting_for_network = false;
        if let Some(rec) = &mut job.error {
            rec.time = now;
            let (context, code, file, error_count) =
                (rec.context, rec.code, rec.file, job.error_count);
            let id = job.id;
            self.record(TraceKind::ErrorRecord {
                job: id,
                context,
                code,
                file,
                error_count,
            });
        }
    }

    /// Timers and notifications that follow the entry.
    fn after_enter(&mut self, j: usize, _from: JobState, to: JobState, _rule: Rule) {
        match to {
            JobState::TransientError => self.arm_transient_timers(j),
            JobState::Error => {
                self.notify(j, NotifyEvent::JobError);
                return;
            }
            JobState::Transferred => {
                self.notify(j, NotifyEvent::JobTransferred);
                return;
            }
            _ => {}
        }
        self.notify(j, NotifyEvent::JobModification);
    }

    // ------------------------------------------------------------------ notifications (D11)

    /// Deliver `event` for job `j` to its registration, if its flag is set and DISABLE is not.
    pub(crate) fn notify(&mut self, j: usize, event: NotifyEvent) {
        if !self.jobs[j].notify_flags.delivers(event.flag()) {
            return;
        }
        let Some(reg) = self.registrations.get_mut(j).and_then(Option::as_mut) else {
            return;
        };
        let job = &self.jobs[j];
        let n = Notification {
            event,
            job: job.id,
            state: job.state,
            error: match event {
                NotifyEvent::JobError => job.error.as_ref().map(|e| (e.context, e.code)),
                _ => None,
            },
            time: self.now,
        };
        let result = reg.notifier.call(&n);
        let (app, serial) = (reg.app, reg.serial);
        self.apps[app.index()].deliveries.push(Delivery {
            notification: n,
            result,
        });
        self.record(TraceKind::Notified {
            app,
            job: n.job,
            event,
            result,
        });
        // D11: a failing JobTransferred / JobError is called again after the minimum retry delay until it
        // answers S_OK. JobModification has no retry rule (spec §5.2) and is not repeated.
        if result != HResult::S_OK && event != NotifyEvent::JobModification {
            let at = self.now + self.jobs[j].retry_delay();
            self.push_event(
                at,
                Event::NotifyRetry {
                    job: n.job,
                    serial,
                    event,
                },
            );
        }
    }

    /// A scheduled re-delivery of a failed JobTransferred / JobError (D11).
    pub(crate) fn notify_retry(&mut self, id: JobId, serial: u64, event: NotifyEvent) {
        let j = id.index();
        let still_registered = self.registrations[j]
            .as_ref()
            .is_some_and(|r| r.serial == serial);
        let still_due = match event {
            NotifyEvent::JobTransferred => self.jobs[j].state == JobState::Transferred,
            NotifyEvent::JobError => self.jobs[j].state == JobState::Error,
            NotifyEvent::JobModification => false,
        };
        if still_registered && still_due {
            self.notify(j, event);
        }
    }

    /// The job changed without changing state (property, file added, progress): ModificationTime and
    /// JobModification (§8.2, D11).
    pub(crate) fn modified(&mut self, j: usize) {
        self.jobs[j].times.modification_time = self.now;
        self.notify(j, NotifyEvent::JobModification);
    }

    pub(crate) fn push_event(&mut self, time: SimTime, event: Event) {
        self.seq += 1;
        let e = Scheduled {
            time,
            seq: self.seq,
            event,
        };
        // Sequence numbers only grow, so appending keeps the FIFO sorted whenever `time` is not
        // earlier than its last entry's.
        if time == self.now && self.now_events.back().is_none_or(|b| b.time <= time) {
            self.now_events.push_back(e);
        } else {
            self.events.push(e);
        }
    }

    /// The next pending timer in `(time, seq)` order, without removing it.
    pub(crate) fn peek_event(&self) -> Option<&Scheduled> {
        match (self.events.peek(), self.now_events.front()) {
            (Some(h), Some(f)) => Some(if f < h { f } else { h }),
            (Some(h), None) => Some(h),
            (None, f) => f,
        }
    }

    /// Remove and return the next pending timer in `(time, seq)` order.
    pub(crate) fn pop_event(&mut self) -> Option<Scheduled> {
        match (self.events.peek(), self.now_events.front()) {
            (Some(h), Some(f)) if h < f => self.events.pop(),
            (_, Some(_)) => self.now_events.pop_front(),
            (Some(_), None) => self.events.pop(),
            (None, None) => None,
        }
    }

    /// The first background job in the ready queue: the best priority, then the earliest enqueued.
    pub(crate) fn first_ready_bg(&self) -> Option<(Priority, u64, JobId)> {
        self.ready_bg.iter().enumerate().find_map(|(p, set)| {
            let &(seq, id) = set.first()?;
            let priority = Priority::from_value(p as u32).expect("an index of a priority value");
            Some((priority, seq, id))
        })
    }

    /// `id` is running with a background priority (see `running_bg`).
    pub(crate) fn set_running_bg(&mut self, id: JobId, on: bool) {
        let at = self.running_bg.iter().position(|&x| x == id);
        match (at, on) {
            (None, true) => self.running_bg.push(id),
            (Some(i), false) => {
                self.running_bg.swap_remove(i);
            }
            _ => {}
        }
    }

    /// Every pending timer, in no particular order.
    pub(crate) fn pending_events(&self) -> impl Iterator<Item = &Scheduled> {
        self.events.iter().chain(self.now_events.iter())
    }
}
