//! The COM-shaped facade: the handles a BITS application holds — [`Manager`], [`Job`], [`File`] and
//! [`CopyError`] — with methods named after the COM methods, returning `Result<T, HResult>`.
//!
//! This layer is thin: every rule lives in the core ([`Service`]). What it adds is the handle itself:
//! a handle belongs to one application and one service generation, so handles of an exited application
//! or from before a service restart fail with RPC_E_DISCONNECTED (D2, D15), exactly as COM proxies do.
//!
//! ## Errors every handle method can return
//! * RPC_E_DISCONNECTED (0x80010108): the application exited ([`Manager::exit`], D2) or the service
//!   restarted since the handle was made ([`Sim::restart_service`], D15).
//! * RPC_E_CANTCALLOUT_ININPUTSYNCCALL (0x8001010D): the call was made while the simulator is busy
//!   inside a call of its own — from inside a closure given to [`Sim::with_service`] or
//!   [`Sim::with_service_mut`]. (Callbacks are not such a place: they run with the simulator free
//!   and may call every handle method, D19; see "Callbacks and threads" in the crate docs.)
//! * E_ACCESSDENIED (0x80070005), job methods only: the job belongs to another user and the
//!   application's user is not an administrator (D9; a handle meets this after an administrator's
//!   TakeOwnership moved the job).
//!
//! Methods that change a job (AddFile, every setter, TakeOwnership, SetNotifyInterface and the four
//! state changers) also fail with BG_E_INVALID_STATE (0x80200002) once the job is ACKNOWLEDGED or
//! CANCELLED (§1.3, §2.0). Getters work in every state, the final ones included (§1.3). The
//! method docs below list what each method returns beyond these.

use crate::calls::{ErrorObject, FileInfo};
use crate::engine::{ClockStop, StepLimitExceeded, DEFAULT_MAX_STEPS};
use crate::http::Credentials;
use crate::job::{FileProgress, JobProgress, JobTimes};
use crate::notify::{AppCode, Delivery, Notification, Notifier, NotifyEvent};
use crate::properties::{Prop, PropertyValue, ProxySettings};
use crate::service::IdleStep;
use crate::trace::TraceEvent;
use crate::world::{Network, Remote};
use crate::{
    AppId, ErrorContext, HResult, JobId, JobState, JobType, NotifyFlags, Priority, Service,
    SimDuration, SimTime, UserId, World,
};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// The machine every handle of one `Sim` shares: the core service, and what the facade knows about
/// the delivery of call-outs to application callbacks.
struct Machine {
    service: RefCell<Service>,
    /// The virtual time of the callback delivery in progress (`None` outside callbacks).
    delivering: Cell<Option<SimTime>>,
    /// The virtual time when the current mutable call began (what `Sim::now` reports while the
    /// service is busy inside `with_service_mut`).
    busy_since: Cell<SimTime>,
    /// Why the last clock method stopped before its target (`None`: it reached it).
    last_stop: Cell<Option<ClockStop>>,
}

type Shared = Rc<Machine>;

/// An application's IBackgroundCopyCallback.
///
/// Each method receives the notified job's handle (as the application that registered sees it) and,
/// for JobError, the job's error object (what GetError would give), besides the [`Notification`]. It
/// runs at the instant of its event with the simulator free: it may read and call anything —
/// [`Sim::trace`], handle getters, Complete, Cancel, [`Manager::exit`] — except move the clock (D19;
/// see "Callbacks and threads" in the crate docs).
///
/// Return `HResult::S_OK` to acknowledge. Any other value makes BITS call JobTransferred/JobError again
/// after the job's minimum retry delay, until it answers S_OK (D11).
///
/// A closure `FnMut(&Notification) -> HResult` is a callback too (it sees only the notification).
pub trait Callback {
    /// The job entered TRANSFERRED.
    fn job_transferred(&mut self, job: &Job, n: &Notification) -> HResult {
        let _ = (job, n);
        HResult::S_OK
    }
    /// The job entered ERROR; `error` is its error object (D1, D2).
    fn job_error(&mut self, job: &Job, error: &CopyError, n: &Notification) -> HResult {
        let _ = (job, error, n);
        HResult::S_OK
    }
    /// Something else changed.
    fn job_modification(&mut self, job: &Job, n: &Notification) -> HResult {
        let _ = (job, n);
        HResult::S_OK
    }
    /// Callback2 `FileTransferred`: `file` of the job finished (an upload-reply job: its reply came
    /// in; D60, D94). Called only when [`Callback::implements`] is 2 or more and the job's notify
    /// flags include FILE_TRANSFERRED; a negative answer makes BITS call it again after the job's
    /// minimum retry delay.
    fn file_transferred(&mut self, job: &Job, file: &File, n: &Notification) -> HResult {
        let _ = (job, file, n);
        HResult::S_OK
    }
    /// The newest IBackgroundCopyCallback interface this object answers QueryInterface for: 1
    /// (IBackgroundCopyCallback, the default), 2 (Callback2) or 3 (Callback3). Asked once, when it is
    /// registered (D60).
    fn implements(&self) -> u8 {
        1
    }
    /// Callback3 `FileRangesTransferred`: `ranges` of `file` are on disk since the last call (or
    /// the last RequestFileRanges) (D76). Called only when [`Callback::implements`] is 3 and the
    /// job's notify flags include FILE_RANGES_TRANSFERRED; not called again on failure.
    fn file_ranges_transferred(
        &mut self,
        job: &Job,
        file: &File,
        ranges: &[(u64, u64)],
        n: &Notification,
    ) -> HResult {
        let _ = (job, file, ranges, n);
        HResult::S_OK
    }
}

impl<F: FnMut(&Notification) -> HResult> Callback for F {
    fn job_transferred(&mut self, _: &Job, n: &Notification) -> HResult {
        self(n)
    }
    fn job_error(&mut self, _: &Job, _: &CopyError, n: &Notification) -> HResult {
        self(n)
    }
    fn job_modification(&mut self, _: &Job, n: &Notification) -> HResult {
        self(n)
    }
}

/// The facade's callbacks, as the core holds them.
type Code = Box<dyn Callback>;

impl AppCode {
    /// Application code for [`Notifier::Callback`] (what [`Job::set_notify_interface`] registers).
    pub fn new(callback: impl Callback + 'static) -> AppCode {
        let level = callback.implements().clamp(1, 3);
        let code: Code = Box::new(callback);
        AppCode(Box::new(code), level)
    }
}

/// The panic message of a `Sim` method that needs the service, called while the service is busy:
/// from inside a closure given to `with_service`/`with_service_mut`.
const REENTRANT: &str = "bitsim: this Sim method needs the service and cannot be called from \
    inside a closure given to Sim::with_service or Sim::with_service_mut (the service is busy \
    there); call it after the closure returns";

/// A simulated Windows machine running BITS: the service, its world and its clock.
///
/// Cloning a `Sim` gives another reference to the same machine.
#[derive(Clone)]
pub struct Sim {
    inner: Shared,
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.inner.service.try_borrow() {
            Ok(s) => write!(f, "Sim {{ now: {}, jobs: {} }}", s.now(), s.job_count()),
            Err(_) => f.write_str("Sim { <busy> }"),
        }
    }
}

impl Default for Sim {
    fn default() -> Sim {
        Sim::new(World::default())
    }
}

impl Machine {
    /// Deliver the pending call-outs to application callbacks (D19), each with the service released,
    /// counting each delivery in `steps`; stop at `max_steps` (the rest stay queued). Nothing is
    /// delivered from inside a delivery: the outer loop delivers what a callback caused.
    #[inline]
    fn deliver_pending(self: &Rc<Self>, steps: &mut u64, max_steps: u64) -> Result<(), u64> {
        if self.delivering.get().is_some() {
            return Ok(());
        }
        // Nothing queued (the usual case after a call): nothing to deliver, nothing to count.
        if self.service.try_borrow().is_ok_and(|s| !s.has_callouts()) {
            return Ok(());
        }
        self.deliver_queued(steps, max_steps)
    }

    /// [`Machine::deliver_pending`] once something may be queued.
    #[inline(never)]
    fn deliver_queued(self: &Rc<Self>, steps: &mut u64, max_steps: u64) -> Result<(), u64> {
        loop {
            if *steps >= max_steps {
                let pending = self.service.borrow().has_callouts();
                return if pending { Err(*steps) } else { Ok(()) };
            }
            let (c, mut lent, generation) = {
                let mut s = self.service.borrow_mut();
                let Some((c, code)) = s.next_callout() else {
                    return Ok(());
                };
                (c, code, s.generation())
            };
            // Every AppCode is made by `AppCode::new`.
            let Some(code) = lent.0.downcast_mut::<Code>() else {
                self.service
                    .borrow_mut()
                    .callout_answered(c, lent, HResult::S_OK);
                continue;
            };
            let h = Handle {
                inner: self.clone(),
                app: c.app,
                generation,
            };
            let job = h.job(c.notification.job);
            let n = c.notification.clone();
            self.delivering.set(Some(n.time));
            let in_callback = Delivering(&self.delivering);
            let result = match (n.event, &c.error) {
                (NotifyEvent::JobTransferred, _) => code.job_transferred(&job, &n),
                (NotifyEvent::JobError, Some((record, epoch, generation))) => {
                    let error = CopyError {
                        h: h.clone(),
                        obj: ErrorObject {
                            app: c.app,
                            job: n.job,
                            epoch: *epoch,
                            generation: *generation,
                            record: record.clone(),
                        },
                    };
                    code.job_error(&job, &error, &n)
                }
                (NotifyEvent::JobError, None) | (NotifyEvent::JobModification, _) => {
                    code.job_modification(&job, &n)
                }
                (NotifyEvent::FileTransferred, _) => {
                    let file = h.file(n.job, n.file.unwrap_or(0));
                    code.file_transferred(&job, &file, &n)
                }
                (NotifyEvent::FileRangesTransferred, _) => {
                    let file = h.file(n.job, n.file.unwrap_or(0));
                    code.file_ranges_transferred(&job, &file, &n.ranges, &n)
                }
            };
            drop(in_callback);
            self.service.borrow_mut().callout_answered(c, lent, result);
            *steps += 1;
        }
    }

    /// After a call that may have queued call-outs: deliver them (bounded; the rest wait for the
    /// next clock method).
    fn deliver_after_call(self: &Rc<Self>) {
        let mut steps = 0;
        let _ = self.deliver_pending(&mut steps, DEFAULT_MAX_STEPS);
    }
}

/// Marks the machine as inside a callback (D19) until dropped, so that a callback that panics does not
/// leave it marked: after the panic is caught, clock methods work again.
struct Delivering<'a>(&'a Cell<Option<SimTime>>);

impl Drop for Delivering<'_> {
    fn drop(&mut self) {
        self.0.set(None);
    }
}

impl Sim {
    /// A machine with `world` around it, at virtual time zero, with no users.
    pub fn new(world: World) -> Sim {
        Sim::from_service(Service::new(world))
    }

    /// Wrap an existing core service.
    pub fn from_service(service: Service) -> Sim {
        let now = service.now();
        Sim {
            inner: Rc::new(Machine {
                service: RefCell::new(service),
                delivering: Cell::new(None),
                busy_since: Cell::new(now),
                last_stop: Cell::new(None),
            }),
        }
    }

    #[track_caller]
    fn with<R>(&self, f: impl FnOnce(&mut Service) -> R) -> R {
        let r = {
            let Ok(mut s) = self.inner.service.try_borrow_mut() else {
                panic!("{REENTRANT}");
            };
            self.inner.busy_since.set(s.now());
            f(&mut s)
        };
        self.inner.deliver_after_call();
        r
    }

    /// Whether a callback of this simulator is running right now (where clock methods refuse to
    /// move the clock: see "Callbacks and threads" in the crate docs).
    pub fn in_callback(&self) -> bool {
        self.inner.delivering.get().is_some()
    }

    /// Read the core service (for observers: invariant checks, reports). Works inside callbacks too.
    ///
    /// # Panics
    /// Inside a closure given to `with_service_mut` (the service is busy there).
    #[track_caller]
    pub fn with_service<R>(&self, f: impl FnOnce(&Service) -> R) -> R {
        let Ok(s) = self.inner.service.try_borrow() else {
            panic!("{REENTRANT}");
        };
        f(&s)
    }

    /// Change the core service directly (world scripting, limits, tracing). Call-outs to application
    /// callbacks that the change causes are delivered when `f` returns. Use the `Sim`'s own clock
    /// methods to move time: the core's deliver no call-outs (D19).
    ///
    /// # Panics
    /// Inside a closure given to `with_service` or `with_service_mut`.
    #[track_caller]
    pub fn with_service_mut<R>(&self, f: impl FnOnce(&mut Service) -> R) -> R {
        self.with(f)
    }

    /// Add a standard (non-administrator) user who is logged on.
    ///
    /// # Panics
    /// Inside a closure given to `with_service`/`with_service_mut`.
    #[track_caller]
    pub fn user(&self, name: &str) -> UserId {
        self.with(|s| s.add_user(name, false, true))
    }

    /// Add an administrator who is logged on.
    ///
    /// # Panics
    /// Inside a closure given to `with_service`/`with_service_mut`.
    #[track_caller]
    pub fn admin(&self, name: &str) -> UserId {
        self.with(|s| s.add_user(name, true, true))
    }

    /// Add a user with explicit flags.
    ///
    /// # Panics
    /// Inside a closure given to `with_service`/`with_service_mut`.
    #[track_caller]
    pub fn add_user(&self, name: &str, admin: bool, logged_on: bool) -> UserId {
        self.with(|s| s.add_user(name, admin, logged_on))
    }

    /// Start an application running as `user`; its BITS manager (what `CoCreateInstance` of the
    /// BackgroundCopyManager gives the application).
    ///
    /// Errors: E_INVALIDARG if `user` is not a user of this simulator (a [`UserId`] is an index into the
    /// simulator that made it; one from another `Sim` is refused when this one has no such user);
    /// RPC_E_CANTCALLOUT_ININPUTSYNCCALL inside a closure given to `with_service`/`with_service_mut`.
    pub fn connect(&self, app_name: &str, user: UserId) -> Result<Manager, HResult> {
        let mut s = self
            .inner
            .service
            .try_borrow_mut()
            .map_err(|_| HResult::RPC_E_CANTCALLOUT_ININPUTSYNCCALL)?;
        if s.user(user).is_none() {
            return Err(HResult::E_INVALIDARG);
        }
        let app = s.connect(app_name, user);
        Ok(Manager {
            h: Handle {
                inner: self.inner.clone(),
                app,
                generation: s.generation(),
            },
        })
    }

    /// The current virtual time. Works everywhere; inside a callback it is the time of the delivery
    /// ([`Notification::time`](crate::Notification::time)), since the clock waits for callbacks.
    pub fn now(&self) -> SimTime {
        match self.inner.service.try_borrow() {
            Ok(s) => s.now(),
            Err(_) => self.inner.busy_since.get(),
        }
    }

    /// The clock loop of every clock method (D19): run the service with `run` until it reaches its
    /// target or call-outs to application callbacks are pending; deliver those with the service
    /// released (at the same instant, before the next event), and go on. Every event and every
    /// delivery counts against [`DEFAULT_MAX_STEPS`]. From inside a callback: refused, recorded.
    fn clock<R>(
        &self,
        mut run: impl FnMut(&mut Service, &mut u64) -> Result<Option<R>, StepLimitExceeded>,
    ) -> Result<R, ClockStop> {
        let r = self.clock_loop(&mut run);
        self.inner.last_stop.set(r.as_ref().err().copied());
        r
    }

    fn clock_loop<R>(
        &self,
        run: &mut impl FnMut(&mut Service, &mut u64) -> Result<Option<R>, StepLimitExceeded>,
    ) -> Result<R, ClockStop> {
        if let Some(time) = self.inner.delivering.get() {
            self.with(|s| s.record_clock_in_callback());
            return Err(ClockStop::InCallback { time });
        }
        let mut steps = 0u64;
        loop {
            let delivered = self.inner.deliver_pending(&mut steps, DEFAULT_MAX_STEPS);
            let r = {
                let Ok(mut s) = self.inner.service.try_borrow_mut() else {
                    panic!("{REENTRANT}");
                };
                self.inner.busy_since.set(s.now());
                if let Err(at) = delivered {
                    return Err(s.step_limit(at).into());
                }
                run(&mut s, &mut steps).map(|r| r.filter(|_| !s.has_callouts()))
            };
            if let Some(r) = r? {
                return Ok(r);
            }
        }
    }

    /// Move virtual time forward, doing everything that falls due (callbacks included, D19).
    ///
    /// Bounded: it stops after [`DEFAULT_MAX_STEPS`] events (a loop of events), recording
    /// [`TraceKind::StepLimit`](crate::TraceKind::StepLimit); inside a callback it does nothing and records
    /// [`TraceKind::ClockInCallback`](crate::TraceKind::ClockInCallback). [`Sim::last_stop`] tells which; [`Sim::try_advance`] returns it.
    pub fn advance(&self, d: SimDuration) {
        let _ = self.try_advance(d);
    }

    /// Move virtual time forward by whole seconds (as [`Sim::advance`]).
    pub fn advance_secs(&self, secs: u64) {
        self.advance(SimDuration::from_secs(secs))
    }

    /// Process everything due up to `t` (as [`Sim::advance`]; [`Sim::try_run_until`] returns the stop).
    pub fn run_until(&self, t: SimTime) {
        let _ = self.try_run_until(t);
    }

    /// [`Sim::advance`], saying why it stopped before its target: [`ClockStop::StepLimit`] (the clock
    /// is at the last event processed) or [`ClockStop::InCallback`] (the clock did not move).
    pub fn try_advance(&self, d: SimDuration) -> Result<(), ClockStop> {
        let target = self.now() + d;
        self.try_run_until(target)
    }

    /// [`Sim::run_until`], saying why it stopped before `t` (as [`Sim::try_advance`]).
    pub fn try_run_until(&self, t: SimTime) -> Result<(), ClockStop> {
        self.clock(|s, steps| {
            s.run_toward(t, steps, DEFAULT_MAX_STEPS, true)
                .map(|reached| reached.then_some(()))
        })
    }

    /// Why the last clock method of this simulator stopped before its target, or `None` if it
    /// reached it.
    pub fn last_stop(&self) -> Option<ClockStop> {
        self.inner.last_stop.get()
    }

    /// Advance until no job can change state without a call (bounded by [`DEFAULT_MAX_STEPS`]).
    ///
    /// Errors: as [`Sim::try_advance`].
    pub fn run_until_idle(&self) -> Result<(), ClockStop> {
        self.run_until_idle_limit(SimTime::MAX).map(|_| ())
    }

    /// Advance until idle, but at most `max` of virtual time: `Ok(true)` if idle was reached, `Ok(false)`
    /// if the bound was reached first (the clock is then at now + `max`).
    ///
    /// Errors: as [`Sim::try_advance`].
    pub fn run_until_idle_within(&self, max: SimDuration) -> Result<bool, ClockStop> {
        let limit = self.now() + max;
        self.run_until_idle_limit(limit)
    }

    fn run_until_idle_limit(&self, limit: SimTime) -> Result<bool, ClockStop> {
        self.clock(|s, steps| {
            Ok(
                match s.idle_toward(limit, steps, DEFAULT_MAX_STEPS, true)? {
                    IdleStep::Idle => Some(true),
                    IdleStep::Limit => Some(false),
                    IdleStep::CallOut => None,
                },
            )
        })
    }

    /// The network goes up or down.
    ///
    /// # Panics
    /// Inside a closure given to `with_service`/`with_service_mut`.
    #[track_caller]
    pub fn set_network(&self, network: Network) {
        self.with(|s| s.set_network(network))
    }

    /// The network's cost changes (BITS_COST_STATE_* bits, e.g. `0x40 | 0x80` for USAGE_BASED and
    /// ROAMING): jobs whose cost flags do not allow it wait in TRANSIENT_ERROR with
    /// BG_E_BLOCKED_BY_COST_TRANSFER_POLICY, the others go on (T21a, T21b, D53).
    ///
    /// # Panics
    /// Inside a closure given to `with_service`/`with_service_mut`.
    #[track_caller]
    pub fn set_network_cost(&self, cost: u32) {
        self.with(|s| s.set_network_cost(cost))
    }

    /// Group Policy starts (`true`) or stops blocking background transfers — MaxInternetBandwidth 0
    /// in its window: jobs that are not FOREGROUND wait in TRANSIENT_ERROR with
    /// BG_E_BLOCKED_BY_POLICY, without retries or error counts, and are queued again when the block
    /// ends or they become FOREGROUND (T21, D99).
    ///
    /// # Panics
    /// Inside a closure given to `with_service`/`with_service_mut`.
    #[track_caller]
    pub fn set_background_policy_block(&self, blocked: bool) {
        self.with(|s| s.set_background_policy_block(blocked))
    }

    /// Change the shared bandwidth (bytes per virtual second) from now on.
    ///
    /// # Panics
    /// Inside a closure given to `with_service`/`with_service_mut`.
    #[track_caller]
    pub fn set_bandwidth(&self, bytes_per_sec: u64) {
        self.with(|s| s.set_bandwidth(bytes_per_sec))
    }

    /// Change a remote's behaviour from now on.
    ///
    /// # Panics
    /// Inside a closure given to `with_service`/`with_service_mut`.
    #[track_caller]
    pub fn set_remote(&self, url: &str, remote: Remote) {
        self.with(|s| s.set_remote(url, remote))
    }

    /// A user logs on.
    ///
    /// # Panics
    /// Inside a closure given to `with_service`/`with_service_mut`.
    #[track_caller]
    pub fn logon(&self, user: UserId) {
        self.with(|s| s.logon(user))
    }

    /// A user logs off.
    ///
    /// # Panics
    /// Inside a closure given to `with_service`/`with_service_mut`.
    #[track_caller]
    pub fn logoff(&self, user: UserId) {
        self.with(|s| s.logoff(user))
    }

    /// The BITS service restarts (D15): every handle held so far dies.
    ///
    /// # Panics
    /// Inside a closure given to `with_service`/`with_service_mut`.
    #[track_caller]
    pub fn restart_service(&self) {
        self.with(|s| s.restart_service())
    }

    /// The trace so far (inside a callback too), borrowed in place: no copy of the events. The
    /// borrow reads like a slice (`iter`, `len`, indexing); `.to_vec()` keeps a copy.
    ///
    /// # Panics
    /// Inside a closure given to `with_service_mut`. While the returned borrow is alive, a call that
    /// changes the machine (a method of a handle, the clock) panics as a reentrant call does: drop
    /// it first.
    #[track_caller]
    pub fn trace(&self) -> std::cell::Ref<'_, [TraceEvent]> {
        let Ok(s) = self.inner.service.try_borrow() else {
            panic!("{REENTRANT}");
        };
        std::cell::Ref::map(s, |s| s.trace().as_slice())
    }
}

/// What every handle carries: the machine, the application, the service generation.
#[derive(Clone)]
pub(crate) struct Handle {
    inner: Shared,
    app: AppId,
    generation: u32,
}

impl Handle {
    pub(crate) fn read<R>(
        &self,
        f: impl FnOnce(&Service, AppId) -> Result<R, HResult>,
    ) -> Result<R, HResult> {
        let s = self
            .inner
            .service
            .try_borrow()
            .map_err(|_| HResult::RPC_E_CANTCALLOUT_ININPUTSYNCCALL)?;
        s.live_app(self.app)?;
        if s.generation() != self.generation {
            return Err(HResult::RPC_E_DISCONNECTED);
        }
        f(&s, self.app)
    }

    /// A call that may change the service; call-outs to application callbacks it causes are
    /// delivered before it returns (D19), or by the delivery loop around a callback making it.
    fn write<R>(
        &self,
        f: impl FnOnce(&mut Service, AppId) -> Result<R, HResult>,
    ) -> Result<R, HResult> {
        let r = {
            let mut s = self
                .inner
                .service
                .try_borrow_mut()
                .map_err(|_| HResult::RPC_E_CANTCALLOUT_ININPUTSYNCCALL)?;
            self.inner.busy_since.set(s.now());
            s.live_app(self.app)?;
            if s.generation() != self.generation {
                return Err(HResult::RPC_E_DISCONNECTED);
            }
            f(&mut s, self.app)
        };
        self.inner.deliver_after_call();
        r
    }

    /// A call that may change job `id`: [`Handle::write`] after D96's integrity check (a caller of
    /// lower integrity than the job's owner may read the job but not change it).
    fn write_job<R>(
        &self,
        id: JobId,
        f: impl FnOnce(&mut Service, AppId) -> Result<R, HResult>,
    ) -> Result<R, HResult> {
        self.write(|s, app| {
            s.may_modify(app, id)?;
            f(s, app)
        })
    }

    pub(crate) fn job(&self, id: JobId) -> Job {
        Job {
            h: self.clone(),
            id,
        }
    }

    /// A handle to file `index` of job `job` (for the file enumerator).
    pub(crate) fn file(&self, job: JobId, index: u32) -> File {
        File {
            h: self.clone(),
            job,
            index,
        }
    }

    /// The application the handle acts for.
    pub(crate) fn app(&self) -> AppId {
        self.app
    }
}

/// IBackgroundCopyManager, as held by one application.
#[derive(Clone)]
pub struct Manager {
    h: Handle,
}

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Manager({:?})", self.h.app)
    }
}

impl Manager {
    /// The application this manager belongs to.
    pub fn app(&self) -> AppId {
        self.h.app
    }

    /// The machine this manager's application runs on (another reference to the same [`Sim`]).
    pub fn sim(&self) -> Sim {
        Sim {
            inner: self.h.inner.clone(),
        }
    }

    /// A new manager object for the same application (CoCreateInstance again): what an application does
    /// after a service restart made its old handles fail with RPC_E_DISCONNECTED (D15).
    ///
    /// Errors: RPC_E_DISCONNECTED if the application exited (D2); RPC_E_CANTCALLOUT_ININPUTSYNCCALL
    /// inside a closure given to `Sim::with_service`.
    pub fn reconnect(&self) -> Result<Manager, HResult> {
        let s = self
            .h
            .inner
            .service
            .try_borrow()
            .map_err(|_| HResult::RPC_E_CANTCALLOUT_ININPUTSYNCCALL)?;
        s.live_app(self.h.app)?;
        let generation = s.generation();
        Ok(Manager {
            h: Handle {
                inner: self.h.inner.clone(),
                app: self.h.app,
                generation,
            },
        })
    }

    /// CreateJob (T1): a new SUSPENDED job owned by this application's user, with the defaults of
    /// [`crate::defaults`].
    ///
    /// Errors: E_INVALIDARG for a display name over 256 characters (D14); BG_E_TOO_MANY_JOBS_PER_USER
    /// and BG_E_TOO_MANY_JOBS_PER_MACHINE past the quotas ([`crate::Limits`]) for non-administrators
    /// (D14).
    pub fn create_job(&self, display_name: &str, job_type: JobType) -> Result<Job, HResult> {
        self.h
            .write(|s, app| s.create_job(app, display_name, job_type))
            .map(|id| self.h.job(id))
    }

    /// GetJob: a handle to a job by id.
    ///
    /// Errors: BG_E_NOT_FOUND for an unknown id or a job in a final state (§1.3); E_ACCESSDENIED for
    /// another user's job unless this application's user is an administrator (D9).
    pub fn get_job(&self, id: JobId) -> Result<Job, HResult> {
        self.h
            .read(|s, app| s.get_job(app, id))
            .map(|id| self.h.job(id))
    }

    /// EnumJobs: the non-final jobs of this application's user (`flags` 0), or of every user
    /// ([`crate::BG_JOB_ENUM_ALL_USERS`]), in creation order (§2.1, §1.3).
    ///
    /// Errors: E_ACCESSDENIED for BG_JOB_ENUM_ALL_USERS from a non-administrator (D9); E_INVALIDARG for
    /// any other flag bit.
    pub fn enum_jobs(&self, flags: u32) -> Result<Vec<Job>, HResult> {
        self.h
            .read(|s, app| s.enum_jobs(app, flags))
            .map(|ids| ids.into_iter().map(|id| self.h.job(id)).collect())
    }

    /// EnumJobs, as the IEnumBackgroundCopyJobs object: a snapshot of the set [`Manager::enum_jobs`]
    /// lists, read with Next / Skip / Reset / Clone / GetCount (D46).
    ///
    /// Errors: as [`Manager::enum_jobs`].
    pub fn job_enum(&self, flags: u32) -> Result<crate::JobEnum, HResult> {
        let ids = self.h.read(|s, app| s.enum_jobs(app, flags))?;
        Ok(crate::enumerate::JobEnum::new(self.h.clone(), ids))
    }

    /// GetErrorDescription: the message text of `code` in language `language` (a LANGID; English and
    /// the neutral/default languages are installed; §2.1).
    ///
    /// Errors: ERROR_RESOURCE_LANG_NOT_FOUND (0x80070717) for another language; ERROR_MR_MID_NOT_FOUND
    /// (0x8007013D) for a code without a message.
    pub fn get_error_description(&self, code: HResult, language: u32) -> Result<String, HResult> {
        self.h
            .read(|s, app| s.get_error_description(app, code, language))
    }

    /// The callback deliveries made to this application's registrations since the last call (the pull
    /// interface of D11). Deliveries made before the application exited can still be taken.
    ///
    /// Inside a callback it returns what was delivered so far; the delivery in progress is logged
    /// when the callback returns (D19).
    ///
    /// Errors: RPC_E_CANTCALLOUT_ININPUTSYNCCALL inside a closure given to `Sim::with_service`.
    pub fn take_notifications(&self) -> Result<Vec<Delivery>, HResult> {
        let mut s = self
            .h
            .inner
            .service
            .try_borrow_mut()
            .map_err(|_| HResult::RPC_E_CANTCALLOUT_ININPUTSYNCCALL)?;
        Ok(s.take_deliveries(self.h.app))
    }

    /// The application exits (D2): every handle it holds dies; its jobs live on. Exiting twice is
    /// harmless.
    ///
    /// Inside a callback it works too: the application's registrations are dropped, so the callback
    /// is not called again, and its handles fail from then on (D2, D19).
    ///
    /// Errors: RPC_E_CANTCALLOUT_ININPUTSYNCCALL inside a closure given to `Sim::with_service`.
    pub fn exit(&self) -> Result<(), HResult> {
        let mut s = self
            .h
            .inner
            .service
            .try_borrow_mut()
            .map_err(|_| HResult::RPC_E_CANTCALLOUT_ININPUTSYNCCALL)?;
        s.exit(self.h.app);
        Ok(())
    }
}

/// IBackgroundCopyJob, as held by one application.
///
/// The getters (`get_state`, `get_type`, `get_progress`, `get_times`, `get_owner`,
/// `get_display_name`, `get_description`, `get_priority`, `get_notify_flags`,
/// `get_notify_interface`, `get_minimum_retry_delay`, `get_no_progress_timeout`, `get_error_count`,
/// `get_proxy_settings`, `get_id`) work in every state, the final ones included (§1.3), and fail only
/// with the errors every handle method can return: RPC_E_DISCONNECTED (application exited, D2, or
/// service restarted, D15), E_ACCESSDENIED (another user's job, D9) and, inside a closure given to
/// `Sim::with_service`, RPC_E_CANTCALLOUT_ININPUTSYNCCALL. The other methods list their own errors.
#[derive(Clone)]
pub struct Job {
    h: Handle,
    id: JobId,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Job({:?} via {:?})", self.id, self.h.app)
    }
}

/// The facade's typed getter and setter of every row of the property table.
macro_rules! facade_property_methods {
    ($(
        $(#[$doc:meta])*
        $var:ident {
            name: $name:literal,
            value: $vty:ty,
            get: $get:ident -> $gty:ty, $api_get:ident, $com_get:literal, $to_value:expr,
            $(set: $set:ident($aty:ty), $api_set:ident, $com_set:literal, $to_arg:expr,
            errors: [$($err:ident),*],
            $(states: $states:expr,)?)?
            default: $default:literal,
            cite: $cite:literal,
        }
    )*) => {
        $(
            #[doc = concat!($com_get, ", in every state (final ones included).")]
            #[doc = ""]
            $(#[$doc])*
            #[doc = ""]
            #[doc = concat!("Default: ", $default, ". Rule: ", $cite, ". Errors: only the common ones of every handle method (module docs).")]
            pub fn $api_get(&self) -> Result<$gty, HResult> {
                self.h.read(|s, app| s.$get(app, self.id))
            }
            $(
                #[doc = concat!($com_set, ", in every state but ACKNOWLEDGED and CANCELLED; the property is described at [`Job::", stringify!($api_get), "`].")]
                #[doc = ""]
                #[doc = concat!(
                    "Errors: BG_E_INVALID_STATE in ACKNOWLEDGED and CANCELLED (§1.3, checked before the argument)",
                    $(", ", stringify!($err), " for a value the rule refuses",)*
                    " (", $cite, "), and the common ones of every handle method (module docs)."
                )]
                pub fn $api_set(&self, value: $aty) -> Result<(), HResult> {
                    self.h.write_job(self.id, |s, app| s.$set(app, self.id, value))
                }
            )?
        )*
    };
}

impl Job {
    /// The job's id as the handle knows it (no call is made).
    pub fn id(&self) -> JobId {
        self.id
    }

    /// GetId: the job's id (any state; only the common errors).
    pub fn get_id(&self) -> Result<JobId, HResult> {
        self.h.read(|s, app| s.job_id(app, self.id))
    }

    crate::properties::for_each_job_property!(facade_property_methods);

    /// GetNotifyInterface: whether a callback is registered.
    pub fn get_notify_interface(&self) -> Result<bool, HResult> {
        self.h.read(|s, app| s.has_notify_interface(app, self.id))
    }

    /// Any property, by its declaration ([`crate::PROPERTIES`]).
    pub fn get_property(&self, prop: Prop) -> Result<PropertyValue, HResult> {
        self.h.read(|s, app| s.get_property(app, self.id, prop))
    }

    /// Set any property (BG_E_READ_ONLY_PROPERTY for one without a setter).
    pub fn set_property(&self, value: &PropertyValue) -> Result<(), HResult> {
        self.h
            .write_job(self.id, |s, app| s.set_property(app, self.id, value))
    }

    /// IBackgroundCopyJob5::SetProperty with a raw BITS_JOB_PROPERTY_ID (`bits5_0.h`) and the
    /// BITS_JOB_PROPERTY_VALUE member that id uses, as a number: Dword (COST_FLAGS 1,
    /// MINIMUM_NOTIFICATION_INTERVAL_MS 9), CLsID (NOTIFICATION_CLSID 2, the GUID's 128 bits),
    /// Enable as 0 or 1 (DYNAMIC_CONTENT 3, HIGH_PERFORMANCE 4, ON_DEMAND_MODE 10) or Uint64
    /// (MAX_DOWNLOAD_SIZE 5). Each id behaves as its typed setter (`set_cost_flags`, …).
    ///
    /// Errors: BG_E_UNKNOWN_PROPERTY_ID for any other id; E_INVALIDARG for a value its member cannot
    /// hold (D35); the typed setter's errors; the common ones of every handle method.
    pub fn set_property_raw(&self, id: u32, value: u128) -> Result<(), HResult> {
        self.h.write_job(self.id, |s, app| {
            s.set_property_raw(app, self.id, id, value)
        })
    }

    /// IBackgroundCopyJob3::ReplaceRemotePrefix: every file whose remote name starts with
    /// `old_prefix` (case-sensitive) gets `new_prefix` instead; `Ok(S_FALSE)` when none matched.
    ///
    /// Errors: BG_E_INVALID_STATE in ACKNOWLEDGED and CANCELLED; E_NOTIMPL for upload and upload-reply
    /// jobs; E_INVALIDARG for an empty prefix or a resulting name §2.6 refuses (nothing changes);
    /// the common ones of every handle method.
    pub fn replace_remote_prefix(
        &self,
        old_prefix: &str,
        new_prefix: &str,
    ) -> Result<HResult, HResult> {
        self.h.write_job(self.id, |s, app| {
            s.replace_remote_prefix(app, self.id, old_prefix, new_prefix)
        })
    }

    /// IBackgroundCopyJob5::GetProperty with a raw BITS_JOB_PROPERTY_ID: the value as
    /// [`Job::set_property_raw`] takes it (Enable as 0 or 1).
    ///
    /// Errors: BG_E_UNKNOWN_PROPERTY_ID for an id not listed there; the common ones of every handle
    /// method.
    pub fn get_property_raw(&self, id: u32) -> Result<u128, HResult> {
        self.h.read(|s, app| s.get_property_raw(app, self.id, id))
    }

    /// AddFile: one file, as [`Job::add_file_set`] with one element (non-final states, §2.0).
    ///
    /// Errors: as AddFileSet.
    pub fn add_file(&self, remote_url: &str, local_name: &str) -> Result<(), HResult> {
        self.h.write_job(self.id, |s, app| {
            s.add_file(app, self.id, remote_url, local_name)
        })
    }

    /// AddFileSet: all files or none (non-final states, §2.0). Adding to a TRANSFERRED job sends it
    /// back to SUSPENDED (D8); in other states the state does not change.
    ///
    /// Errors: E_INVALIDARG for an empty set or a remote or local name §2.6 refuses;
    /// BG_E_TOO_MANY_FILES for a second file in an upload or upload-reply job (§7);
    /// BG_E_TOO_MANY_FILES_IN_JOB past MaxFilesPerJob for non-administrators (D14); BG_E_INVALID_STATE in
    /// ACKNOWLEDGED and CANCELLED (§1.3).
    pub fn add_file_set(&self, files: &[(&str, &str)]) -> Result<(), HResult> {
        self.h
            .write_job(self.id, |s, app| s.add_file_set(app, self.id, files))
    }

    /// IBackgroundCopyJob3::AddFileWithRanges: a download file of which only `ranges` (`(offset,
    /// length)`, length possibly [`crate::BG_LENGTH_TO_EOF`]) are transferred; the local file is the
    /// ranges concatenated in the order given (§2.4).
    ///
    /// Errors, in this order (D57): BG_E_INVALID_STATE in ACKNOWLEDGED and CANCELLED; E_NOTIMPL for
    /// upload types; E_INVALIDARG for no ranges, a name AddFile refuses or an SMB remote;
    /// BG_E_TOO_MANY_RANGES_IN_FILE past 500 ranges (not for administrators); BG_E_INVALID_RANGE for
    /// an offset of BG_LENGTH_TO_EOF; BG_E_OVERLAPPING_RANGES; then AddFile's limits. After Resume a range past the
    /// remote's end sends the job to ERROR with BG_E_INVALID_RANGE, a server ignoring ranges with
    /// BG_E_INSUFFICIENT_RANGE_SUPPORT (D58).
    pub fn add_file_with_ranges(
        &self,
        remote_url: &str,
        local_name: &str,
        ranges: &[(u64, u64)],
    ) -> Result<(), HResult> {
        self.h.write_job(self.id, |s, app| {
            s.add_file_with_ranges(app, self.id, remote_url, local_name, ranges)
        })
    }

    /// EnumFiles: one handle per file, in the order added (any state; only the common errors).
    pub fn enum_files(&self) -> Result<Vec<File>, HResult> {
        let n = self.h.read(|s, app| s.file_count(app, self.id))?;
        Ok((0..n)
            .map(|index| File {
                h: self.h.clone(),
                job: self.id,
                index,
            })
            .collect())
    }

    /// EnumFiles, as the IEnumBackgroundCopyFiles object: a snapshot of the job's files at this call,
    /// in the order added, read with Next / Skip / Reset / Clone / GetCount (D46).
    ///
    /// Errors: only the common ones of every handle method.
    pub fn file_enum(&self) -> Result<crate::FileEnum, HResult> {
        let n = self.h.read(|s, app| s.file_count(app, self.id))?;
        Ok(crate::enumerate::FileEnum::new(self.h.clone(), self.id, n))
    }

    /// Suspend (T15): any non-final state goes to SUSPENDED; `Ok(S_OK)`, also when already suspended.
    ///
    /// Errors: BG_E_INVALID_STATE in ACKNOWLEDGED and CANCELLED (§1.3).
    pub fn suspend(&self) -> Result<HResult, HResult> {
        self.h.write_job(self.id, |s, app| s.suspend(app, self.id))
    }

    /// Resume: SUSPENDED goes to QUEUED (T2), TRANSIENT_ERROR and ERROR go to QUEUED for a retry now
    /// (T13, T14); QUEUED, CONNECTING and TRANSFERRING stay (T28); TRANSFERRED stays. `Ok(S_OK)`.
    ///
    /// Errors: BG_E_EMPTY for a job without files (T3; the job stays SUSPENDED); BG_E_INVALID_STATE in
    /// ACKNOWLEDGED and CANCELLED (§1.3).
    pub fn resume(&self) -> Result<HResult, HResult> {
        self.h.write_job(self.id, |s, app| s.resume(app, self.id))
    }

    /// Cancel (T16): any non-final state goes to CANCELLED, a final state. `Ok(S_OK)`.
    ///
    /// Errors: BG_E_INVALID_STATE in ACKNOWLEDGED and CANCELLED (§1.3; a second Cancel).
    pub fn cancel(&self) -> Result<HResult, HResult> {
        self.h.write_job(self.id, |s, app| s.cancel(app, self.id))
    }

    /// Complete: the job goes to ACKNOWLEDGED, a final state, keeping its fully transferred files
    /// (D7). A download job completes from any non-final state (T17a) and returns `Ok(S_OK)` when
    /// every file was transferred, `Ok(BG_S_PARTIAL_COMPLETE)` otherwise; an upload or upload-reply job
    /// only from TRANSFERRED (T17c), with `Ok(S_OK)`.
    ///
    /// Errors: BG_E_INVALID_STATE for an upload or upload-reply job outside TRANSFERRED (T17c), and in
    /// ACKNOWLEDGED and CANCELLED (§1.3; a second Complete). With a sandbox, the error of a download's
    /// rename that failed (e.g. E_ACCESSDENIED for a folder at the local name): the job stays in the
    /// queue and the files renamed before it are Completed; call Complete again once the obstacle is
    /// gone (T17b, D97).
    pub fn complete(&self) -> Result<HResult, HResult> {
        self.h.write_job(self.id, |s, app| s.complete(app, self.id))
    }

    /// SetPriority.
    pub fn set_priority(&self, p: Priority) -> Result<(), HResult> {
        self.set_priority_raw(p.value())
    }

    /// SetNotifyFlags (unknown bits give E_NOTIMPL).
    pub fn set_notify_flags(&self, flags: impl Into<NotifyFlagsArg>) -> Result<(), HResult> {
        self.set_notify_flags_raw(flags.into().0)
    }

    /// SetNotifyInterface with application code (non-final states). The last registration wins;
    /// registering on a job already in TRANSFERRED or ERROR delivers that notification before this
    /// call returns (D11).
    ///
    /// The callback is called at the virtual instant of its event, after the step that caused it and
    /// before the next event, with the simulator free (D19): it receives this job's handle (and, for
    /// JobError, the error object), may call any handle method (Complete on JobTransferred, Cancel and
    /// GetErrorDescription on JobError) and read anything ([`Sim::now`], [`Sim::trace`],
    /// [`Sim::with_service`]); clock methods called inside it refuse to move the clock (see
    /// "Callbacks and threads" in the crate docs).
    ///
    /// Errors: BG_E_INVALID_STATE in ACKNOWLEDGED and CANCELLED (§1.3).
    pub fn set_notify_interface(&self, callback: impl Callback + 'static) -> Result<(), HResult> {
        self.h.write_job(self.id, |s, app| {
            s.set_notify_interface(
                app,
                self.id,
                Some(Notifier::Callback(AppCode::new(callback))),
            )
        })
    }

    /// SetNotifyInterface with a callback that answers every call with `answer` and only records the
    /// deliveries (poll them with [`Manager::take_notifications`]); an answer other than S_OK makes
    /// BITS call JobTransferred/JobError again after the retry delay (D11).
    ///
    /// Errors: BG_E_INVALID_STATE in ACKNOWLEDGED and CANCELLED (§1.3).
    pub fn set_notify_answer(&self, answer: HResult) -> Result<(), HResult> {
        self.h.write_job(self.id, |s, app| {
            s.set_notify_interface(app, self.id, Some(Notifier::Answer(answer)))
        })
    }

    /// [`Job::set_notify_answer`] with an object that answers QueryInterface for
    /// IBackgroundCopyCallback up to `implements` (1–3, clamped; `set_notify_answer` is 3):
    /// FileTransferred needs 2 (D60).
    ///
    /// Errors: BG_E_INVALID_STATE in ACKNOWLEDGED and CANCELLED (§1.3).
    pub fn set_notify_answer_implementing(
        &self,
        answer: HResult,
        implements: u8,
    ) -> Result<(), HResult> {
        self.h.write_job(self.id, |s, app| {
            s.set_notify_interface_implementing(
                app,
                self.id,
                Some(Notifier::Answer(answer)),
                implements,
            )
        })
    }

    /// SetNotifyInterface(NULL): no more callbacks (D11).
    ///
    /// Errors: BG_E_INVALID_STATE in ACKNOWLEDGED and CANCELLED (§1.3).
    pub fn clear_notify_interface(&self) -> Result<(), HResult> {
        self.h
            .write_job(self.id, |s, app| s.set_notify_interface(app, self.id, None))
    }

    /// GetError: the error object, or BG_E_ERROR_INFORMATION_UNAVAILABLE.
    pub fn get_error(&self) -> Result<CopyError, HResult> {
        let obj = self.h.read(|s, app| s.get_error(app, self.id))?;
        Ok(CopyError {
            h: self.h.clone(),
            obj,
        })
    }

    /// TakeOwnership: this application's user becomes the owner (non-final states); the job then runs
    /// only while the new owner is logged on (D9, D10). A no-op for the owner.
    ///
    /// Errors: E_ACCESSDENIED for a caller who does not own the job and is not an administrator
    /// running elevated (D9, D95);
    /// BG_E_INVALID_STATE in ACKNOWLEDGED and CANCELLED (§1.3).
    pub fn take_ownership(&self) -> Result<(), HResult> {
        self.h
            .write_job(self.id, |s, app| s.take_ownership(app, self.id))
    }
}

/// The HTTP methods of a job that are not property rows: credentials (IBackgroundCopyJob2) and
/// the custom-header lock (IBackgroundCopyJobHttpOptions3). The HTTP properties themselves
/// (proxy settings, custom headers, security flags, HTTP method, USE_STORED_CREDENTIALS) are
/// rows of the property table, with their typed methods above.
impl Job {
    /// IBackgroundCopyJob2::SetCredentials: credentials for one (target, scheme) pair, replacing
    /// what the job held for that pair (§2.3, D25). They are never readable back.
    ///
    /// Errors: BG_E_INVALID_AUTH_TARGET, BG_E_INVALID_AUTH_SCHEME, BG_E_USERNAME_TOO_LARGE (over
    /// 300 characters), BG_E_PASSWORD_TOO_LARGE (over 65,536), E_INVALIDARG (a NULL user name or
    /// password, except both NULL with NTLM or NEGOTIATE: the caller's logon), BG_E_INVALID_STATE in
    /// ACKNOWLEDGED and CANCELLED.
    pub fn set_credentials(&self, credentials: &Credentials) -> Result<(), HResult> {
        self.h.write_job(self.id, |s, app| {
            s.set_credentials(app, self.id, credentials)
        })
    }

    /// IBackgroundCopyJob2::RemoveCredentials: `Ok(S_OK)` when credentials for the pair were
    /// removed, `Ok(S_FALSE)` when the job held none (§2.3).
    ///
    /// Errors: BG_E_INVALID_AUTH_TARGET, BG_E_INVALID_AUTH_SCHEME, BG_E_INVALID_STATE in
    /// ACKNOWLEDGED and CANCELLED.
    pub fn remove_credentials(&self, target: u32, scheme: u32) -> Result<HResult, HResult> {
        self.h
            .write_job(self.id, |s, app| {
                s.remove_credentials(app, self.id, target, scheme)
            })
            .map(|removed| {
                if removed {
                    HResult::S_OK
                } else {
                    HResult::S_FALSE
                }
            })
    }

    /// IBackgroundCopyJobHttpOptions::SetClientCertificateByName (`CertificateBy::Subject`) or
    /// SetClientCertificateByID (`CertificateBy::Sha1`): the job presents that certificate of the
    /// world's store to servers that ask for one (D31).
    ///
    /// Errors: E_NOTIMPL (location outside BG_CERT_STORE_LOCATION), BG_E_STRING_TOO_LONG (store or
    /// subject over 255 characters), E_INVALIDARG (empty subject), ERROR_FILE_NOT_FOUND (no such
    /// store), CRYPT_E_NOT_FOUND (no matching certificate), BG_E_INVALID_STATE in ACKNOWLEDGED and
    /// CANCELLED.
    pub fn set_client_certificate(
        &self,
        location: u32,
        store: &str,
        by: crate::properties::CertificateBy<'_>,
    ) -> Result<(), HResult> {
        self.h.write_job(self.id, |s, app| {
            s.set_client_certificate(app, self.id, location, store, by)
        })
    }

    /// IBackgroundCopyJobHttpOptions::RemoveClientCertificate: `Ok(S_FALSE)` when the job has none.
    ///
    /// Errors: BG_E_INVALID_STATE in ACKNOWLEDGED and CANCELLED.
    pub fn remove_client_certificate(&self) -> Result<HResult, HResult> {
        self.h
            .write_job(self.id, |s, app| s.remove_client_certificate(app, self.id))
            .map(|removed| {
                if removed {
                    HResult::S_OK
                } else {
                    HResult::S_FALSE
                }
            })
    }

    /// IBackgroundCopyJob2::GetReplyProgress (§2.3, §8.2): BytesTotal is BG_SIZE_UNKNOWN until the
    /// reply starts.
    ///
    /// Errors: E_NOTIMPL for download and upload jobs.
    pub fn get_reply_progress(&self) -> Result<crate::ReplyProgress, HResult> {
        self.h.read(|s, app| s.reply_progress(app, self.id))
    }

    /// IBackgroundCopyJob2::GetReplyData (§2.3, D66): the reply, in TRANSFERRED and ACKNOWLEDGED;
    /// [`crate::ReplyData::TooLarge`] with the length for a reply over 1 MB (the COM method's
    /// BG_E_TOO_LARGE).
    ///
    /// Errors: BG_E_INVALID_STATE in other states; E_NOTIMPL for download and upload jobs.
    pub fn get_reply_data(&self) -> Result<crate::ReplyData, HResult> {
        self.h.read(|s, app| s.reply_data(app, self.id))
    }

    /// IBackgroundCopyJobHttpOptions::GetClientCertificate (any state).
    ///
    /// Errors: RPC_X_BAD_STUB_DATA when the job has no client certificate.
    pub fn get_client_certificate(&self) -> Result<crate::ClientCertificate, HResult> {
        self.h.read(|s, app| s.client_certificate(app, self.id))
    }

    /// IBackgroundCopyJobHttpOptions3::MakeCustomHeadersWriteOnly: GetCustomHeaders answers
    /// E_ACCESSDENIED from now on; the headers are still sent (D28).
    ///
    /// Errors: BG_E_INVALID_STATE in ACKNOWLEDGED and CANCELLED.
    pub fn make_custom_headers_write_only(&self) -> Result<(), HResult> {
        self.h.write_job(self.id, |s, app| {
            s.make_custom_headers_write_only(app, self.id)
        })
    }
}

/// Accepts [`NotifyFlags`] or a raw `u32` for [`Job::set_notify_flags`].
pub struct NotifyFlagsArg(u32);

impl From<NotifyFlags> for NotifyFlagsArg {
    fn from(f: NotifyFlags) -> Self {
        NotifyFlagsArg(f.bits())
    }
}

impl From<u32> for NotifyFlagsArg {
    fn from(f: u32) -> Self {
        NotifyFlagsArg(f)
    }
}

/// IBackgroundCopyFile.
#[derive(Clone)]
pub struct File {
    h: Handle,
    job: JobId,
    index: u32,
}

impl std::fmt::Debug for File {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "File({:?} #{})", self.job, self.index)
    }
}

impl File {
    fn info(&self) -> Result<FileInfo, HResult> {
        self.h.read(|s, app| s.file_info(app, self.job, self.index))
    }
    /// The file's position in its job (0-based, in the order added).
    pub fn index(&self) -> u32 {
        self.index
    }
    /// GetRemoteName (any state; only the common errors).
    pub fn get_remote_name(&self) -> Result<String, HResult> {
        self.info().map(|i| i.remote_name)
    }
    /// GetLocalName, exactly as given to AddFile (any state; only the common errors).
    pub fn get_local_name(&self) -> Result<String, HResult> {
        self.info().map(|i| i.local_name)
    }
    /// GetProgress of this file, live to the current instant (any state; only the common errors; §8.2).
    pub fn get_progress(&self) -> Result<FileProgress, HResult> {
        self.info().map(|i| i.progress)
    }
    /// IBackgroundCopyFile2::SetRemoteName: E_NOTIMPL for upload types, E_INVALIDARG for a bad name,
    /// BG_E_INVALID_STATE in a final state (§2.6). The file continues at its offset unless the new
    /// remote differs in size or time stamp (D38) or ignores ranges (D39).
    pub fn set_remote_name(&self, remote: &str) -> Result<(), HResult> {
        self.h.write_job(self.job, |s, app| {
            s.set_remote_name(app, self.job, self.index, remote)
        })
    }
    /// IBackgroundCopyFile2::GetFileRanges: the `(offset, length)` ranges the file was added with
    /// (AddFileWithRanges), in the order given, a length of [`crate::BG_LENGTH_TO_EOF`] as given. Empty
    /// for a file added without ranges or in an upload job: the COM method's S_FALSE (any state; only
    /// the common errors).
    pub fn get_file_ranges(&self) -> Result<Vec<(u64, u64)>, HResult> {
        self.h
            .read(|s, app| s.file_ranges(app, self.job, self.index))
    }
    /// IBackgroundCopyFile6::RequestFileRanges: download these `(offset, length)` ranges first (a
    /// length may be [`crate::BG_LENGTH_TO_EOF`]); overlaps are allowed. BG_E_RANDOM_ACCESS_NOT_SUPPORTED
    /// for an upload, dynamic-content, multi-range or non-HTTP file or a server without Range
    /// support; BG_E_INVALID_RANGE for a part outside the known size; E_INVALIDARG for none (D73, D74).
    /// When every requested range is on disk the job goes to SUSPENDED unless the file is complete
    /// (T30).
    pub fn request_file_ranges(&self, ranges: &[(u64, u64)]) -> Result<(), HResult> {
        self.h.write_job(self.job, |s, app| {
            s.request_file_ranges(app, self.job, self.index, ranges)
        })
    }
    /// IBackgroundCopyFile6::UpdateDownloadPosition: download missing data from `offset` first (D75).
    pub fn update_download_position(&self, offset: u64) -> Result<(), HResult> {
        self.h.write_job(self.job, |s, app| {
            s.update_download_position(app, self.job, self.index, offset)
        })
    }
    /// IBackgroundCopyFile6::GetFilledFileRanges: the ranges on disk, merged and ordered by offset
    /// (D73).
    pub fn get_filled_file_ranges(&self) -> Result<Vec<(u64, u64)>, HResult> {
        self.h
            .read(|s, app| s.filled_file_ranges(app, self.job, self.index))
    }
    /// IBackgroundCopyFile3::GetTemporaryName: the Windows name of the temporary file,
    /// `BIT<hex>.tmp` beside the local file (D40).
    pub fn get_temporary_name(&self) -> Result<String, HResult> {
        self.h
            .read(|s, app| s.temporary_name(app, self.job, self.index))
    }
    /// IBackgroundCopyFile3::GetValidationState (FALSE by default).
    pub fn get_validation_state(&self) -> Result<bool, HResult> {
        self.h
            .read(|s, app| s.validation_state(app, self.job, self.index))
    }
    /// IBackgroundCopyFile3::SetValidationState: E_PENDING (0x8000000A) until the file finished
    /// transferring; TRUE marks it valid; FALSE rejects the content: the file's progress goes to 0 and,
    /// for origin content, the job to ERROR with BG_E_VALIDATION_FAILED (T29, D59), and Resume
    /// downloads the file again; for peer content the file is downloaded again from the origin, a
    /// TRANSFERRED job being queued again (T32, D79).
    pub fn set_validation_state(&self, valid: bool) -> Result<(), HResult> {
        self.h.write_job(self.job, |s, app| {
            s.set_validation_state(app, self.job, self.index, valid)
        })
    }
    /// IBackgroundCopyFile3::IsDownloadedFromPeer: TRUE once a `peer` remote served the file to a
    /// job with ENABLE_PEERCACHING_CLIENT (D65).
    pub fn is_downloaded_from_peer(&self) -> Result<bool, HResult> {
        self.h
            .read(|s, app| s.downloaded_from_peer(app, self.job, self.index))
    }
    /// IBackgroundCopyFile5::GetProperty by raw BITS_FILE_PROPERTY_ID: id 1
    /// (HTTP_RESPONSE_HEADERS) gives the last successful answer's header lines, CR LF ended, or
    /// `""`; another id is BG_E_UNKNOWN_PROPERTY_ID (D64).
    pub fn get_property(&self, id: u32) -> Result<String, HResult> {
        self.h
            .read(|s, app| s.file_property(app, self.job, self.index, id))
    }
    /// IBackgroundCopyFile5::SetProperty by raw BITS_FILE_PROPERTY_ID: id 1 stores the
    /// HTTP_RESPONSE_HEADERS value until the next answer; BG_E_UNKNOWN_PROPERTY_ID for another id,
    /// BG_E_INVALID_STATE in a final state (D64).
    pub fn set_property(&self, id: u32, value: &str) -> Result<(), HResult> {
        self.h.write_job(self.job, |s, app| {
            s.set_file_property(app, self.job, self.index, id, value)
        })
    }
}

/// IBackgroundCopyError: usable until the job enters TRANSFERRING (then
/// BG_E_ERROR_INFORMATION_UNAVAILABLE) or its application exits or the service restarts (then
/// RPC_E_DISCONNECTED) (D2, D15). Every method below can fail with those two and, inside a closure
/// given to `Sim::with_service`, RPC_E_CANTCALLOUT_ININPUTSYNCCALL.
#[derive(Clone)]
pub struct CopyError {
    h: Handle,
    obj: ErrorObject,
}

impl std::fmt::Debug for CopyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CopyError({:?} {} {})",
            self.obj.job, self.obj.record.context, self.obj.record.code
        )
    }
}

impl CopyError {
    fn check<R>(
        &self,
        f: impl FnOnce(&Service, &crate::job::ErrorRecord) -> Result<R, HResult>,
    ) -> Result<R, HResult> {
        let s = self
            .h
            .inner
            .service
            .try_borrow()
            .map_err(|_| HResult::RPC_E_CANTCALLOUT_ININPUTSYNCCALL)?;
        let rec = s.check_error_object(&self.obj)?;
        f(&s, rec)
    }

    /// GetError: the error's context and code (§3.2); only the errors above.
    pub fn get_error(&self) -> Result<(ErrorContext, HResult), HResult> {
        self.check(|_, r| Ok((r.context, r.code)))
    }

    /// GetFile: the file the error is about.
    ///
    /// Errors: BG_E_FILE_NOT_AVAILABLE when the error is not about a file (network loss, §3.2).
    pub fn get_file(&self) -> Result<File, HResult> {
        let index = self.check(|_, r| r.file.ok_or(HResult::BG_E_FILE_NOT_AVAILABLE))?;
        Ok(File {
            h: self.h.clone(),
            job: self.obj.job,
            index,
        })
    }

    /// GetProtocol: "http" or "file".
    ///
    /// Errors: BG_E_PROTOCOL_NOT_AVAILABLE when no protocol was involved (network loss, a local file;
    /// §3.2).
    pub fn get_protocol(&self) -> Result<&'static str, HResult> {
        self.check(|_, r| {
            r.protocol
                .map(|p| p.as_str())
                .ok_or(HResult::BG_E_PROTOCOL_NOT_AVAILABLE)
        })
    }

    /// GetErrorDescription: the text of the error's code.
    ///
    /// Errors: E_INVALIDARG for language 0 (§2.7); otherwise as [`Manager::get_error_description`].
    pub fn get_error_description(&self, language: u32) -> Result<String, HResult> {
        if language == 0 {
            return Err(HResult::E_INVALIDARG);
        }
        let app = self.obj.app;
        self.check(|s, r| s.get_error_description(app, r.code, language))
    }

    /// GetErrorContextDescription: the text of the context's message id (§4.3).
    ///
    /// Errors: E_INVALIDARG for language 0 (§2.7); otherwise as [`Manager::get_error_description`].
    pub fn get_error_context_description(&self, language: u32) -> Result<String, HResult> {
        if language == 0 {
            return Err(HResult::E_INVALIDARG);
        }
        let app = self.obj.app;
        self.check(|s, r| s.get_error_description(app, r.context.message_id(), language))
    }

    /// The job this error is about (no call is made).
    pub fn job_id(&self) -> JobId {
        self.obj.job
    }
}
