//! The COM-shaped facade: the handles a BITS application holds — [`Manager`], [`Job`], [`File`] and
//! [`CopyError`] — with methods named after the COM methods, returning `Result<T, HResult>`.
//!
//! This layer is thin: every rule lives in the core ([`Service`]). What it adds is the handle itself:
//! a handle belongs to one application and one service generation, so handles of an exited application
//! or from before a service restart fail with RPC_E_DISCONNECTED (D2, D15), exactly as COM proxies do.
//! A call made from inside a callback (re-entrantly) fails with RPC_E_CANTCALLOUT_ININPUTSYNCCALL instead
//! of deadlocking or panicking.

use crate::calls::{ErrorObject, FileInfo};
use crate::engine::{StepLimitExceeded, DEFAULT_MAX_STEPS};
use crate::job::{FileProgress, JobProgress, JobTimes};
use crate::notify::{Callback, Delivery, Notifier};
use crate::properties::{Prop, PropertyValue, ProxySettings};
use crate::trace::TraceEvent;
use crate::world::{Network, Remote};
use crate::{
    AppId, ErrorContext, HResult, JobId, JobState, JobType, NotifyFlags, Priority, Service,
    SimDuration, SimTime, UserId, World,
};
use std::cell::RefCell;
use std::rc::Rc;

type Shared = Rc<RefCell<Service>>;

/// A simulated Windows machine running BITS: the service, its world and its clock.
///
/// Cloning a `Sim` gives another reference to the same machine.
#[derive(Clone)]
pub struct Sim {
    inner: Shared,
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.inner.try_borrow() {
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

impl Sim {
    /// A machine with `world` around it, at virtual time zero, with no users.
    pub fn new(world: World) -> Sim {
        Sim::from_service(Service::new(world))
    }

    /// Wrap an existing core service.
    pub fn from_service(service: Service) -> Sim {
        Sim {
            inner: Rc::new(RefCell::new(service)),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut Service) -> R) -> R {
        let mut s = self
            .inner
            .try_borrow_mut()
            .expect("bitsim: Sim used from inside one of its own callbacks");
        f(&mut s)
    }

    /// Read the core service (for observers: invariant checks, reports).
    pub fn with_service<R>(&self, f: impl FnOnce(&Service) -> R) -> R {
        self.with(|s| f(s))
    }

    /// Change the core service directly (world scripting, limits, tracing).
    pub fn with_service_mut<R>(&self, f: impl FnOnce(&mut Service) -> R) -> R {
        self.with(f)
    }

    /// Add a standard (non-administrator) user who is logged on.
    pub fn user(&self, name: &str) -> UserId {
        self.with(|s| s.add_user(name, false, true))
    }

    /// Add an administrator who is logged on.
    pub fn admin(&self, name: &str) -> UserId {
        self.with(|s| s.add_user(name, true, true))
    }

    /// Add a user with explicit flags.
    pub fn add_user(&self, name: &str, admin: bool, logged_on: bool) -> UserId {
        self.with(|s| s.add_user(name, admin, logged_on))
    }

    /// Start an application running as `user`; its BITS manager.
    pub fn connect(&self, app_name: &str, user: UserId) -> Manager {
        let (app, generation) = self.with(|s| (s.connect(app_name, user), s.generation()));
        Manager {
            h: Handle {
                inner: self.inner.clone(),
                app,
                generation,
            },
        }
    }

    /// The current virtual time.
    pub fn now(&self) -> SimTime {
        self.with(|s| s.now())
    }

    /// Move virtual time forward, doing everything that falls due.
    pub fn advance(&self, d: SimDuration) {
        self.with(|s| s.advance(d))
    }

    /// Move virtual time forward by whole seconds.
    pub fn advance_secs(&self, secs: u64) {
        self.advance(SimDuration::from_secs(secs))
    }

    /// Process everything due up to `t`.
    pub fn run_until(&self, t: SimTime) {
        self.with(|s| s.run_until(t))
    }

    /// Advance until no job can change state without a call (bounded).
    pub fn run_until_idle(&self) -> Result<(), StepLimitExceeded> {
        self.with(|s| s.run_until_idle(DEFAULT_MAX_STEPS))
    }

    /// Advance until idle, but at most `max` of virtual time: `Ok(true)` if idle was reached, `Ok(false)`
    /// if the bound was reached first (the clock is then at now + `max`).
    pub fn run_until_idle_within(&self, max: SimDuration) -> Result<bool, StepLimitExceeded> {
        self.with(|s| {
            let limit = s.now() + max;
            s.run_until_idle_before(limit, DEFAULT_MAX_STEPS)
        })
    }

    /// The network goes up or down.
    pub fn set_network(&self, network: Network) {
        self.with(|s| s.set_network(network))
    }

    /// Change the shared bandwidth (bytes per virtual second) from now on.
    pub fn set_bandwidth(&self, bytes_per_sec: u64) {
        self.with(|s| s.set_bandwidth(bytes_per_sec))
    }

    /// Change a remote's behaviour from now on.
    pub fn set_remote(&self, url: &str, remote: Remote) {
        self.with(|s| s.set_remote(url, remote))
    }

    /// A user logs on.
    pub fn logon(&self, user: UserId) {
        self.with(|s| s.logon(user))
    }

    /// A user logs off.
    pub fn logoff(&self, user: UserId) {
        self.with(|s| s.logoff(user))
    }

    /// The BITS service restarts (D15): every handle held so far dies.
    pub fn restart_service(&self) {
        self.with(|s| s.restart_service())
    }

    /// The trace so far.
    pub fn trace(&self) -> Vec<TraceEvent> {
        self.with(|s| s.trace().to_vec())
    }
}

/// What every handle carries: the machine, the application, the service generation.
#[derive(Clone)]
struct Handle {
    inner: Shared,
    app: AppId,
    generation: u32,
}

impl Handle {
    fn read<R>(&self, f: impl FnOnce(&Service, AppId) -> Result<R, HResult>) -> Result<R, HResult> {
        let s = self
            .inner
            .try_borrow()
            .map_err(|_| HResult::RPC_E_CANTCALLOUT_ININPUTSYNCCALL)?;
        s.live_app(self.app)?;
        if s.generation() != self.generation {
            return Err(HResult::RPC_E_DISCONNECTED);
        }
        f(&s, self.app)
    }

    fn write<R>(
        &self,
        f: impl FnOnce(&mut Service, AppId) -> Result<R, HResult>,
    ) -> Result<R, HResult> {
        let mut s = self
            .inner
            .try_borrow_mut()
            .map_err(|_| HResult::RPC_E_CANTCALLOUT_ININPUTSYNCCALL)?;
        s.live_app(self.app)?;
        if s.generation() != self.generation {
            return Err(HResult::RPC_E_DISCONNECTED);
        }
        f(&mut s, self.app)
    }

    fn job(&self, id: JobId) -> Job {
        Job {
            h: self.clone(),
            id,
        }
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

    /// A new manager object for the same application (CoCreateInstance again): what an application does
    /// after a service restart made its old handles fail with RPC_E_DISCONNECTED (D15). Fails with
    /// RPC_E_DISCONNECTED if the application exited.
    pub fn reconnect(&self) -> Result<Manager, HResult> {
        let s = self
            .h
            .inner
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

    /// CreateJob.
    pub fn create_job(&self, display_name: &str, job_type: JobType) -> Result<Job, HResult> {
        self.h
            .write(|s, app| s.create_job(app, display_name, job_type))
            .map(|id| self.h.job(id))
    }

    /// GetJob.
    pub fn get_job(&self, id: JobId) -> Result<Job, HResult> {
        self.h
            .read(|s, app| s.get_job(app, id))
            .map(|id| self.h.job(id))
    }

    /// EnumJobs (`flags`: 0 or [`crate::BG_JOB_ENUM_ALL_USERS`]).
    pub fn enum_jobs(&self, flags: u32) -> Result<Vec<Job>, HResult> {
        self.h
            .read(|s, app| s.enum_jobs(app, flags))
            .map(|ids| ids.into_iter().map(|id| self.h.job(id)).collect())
    }

    /// GetErrorDescription.
    pub fn get_error_description(&self, code: HResult, language: u32) -> Result<String, HResult> {
        self.h
            .read(|s, app| s.get_error_description(app, code, language))
    }

    /// The callback deliveries made to this application's registrations since the last call (the pull
    /// interface of D11). Deliveries made before the application exited can still be taken.
    pub fn take_notifications(&self) -> Vec<Delivery> {
        self.h
            .inner
            .try_borrow_mut()
            .map(|mut s| s.take_deliveries(self.h.app))
            .unwrap_or_default()
    }

    /// The application exits (D2): every handle it holds dies; its jobs live on.
    pub fn exit(&self) {
        if let Ok(mut s) = self.h.inner.try_borrow_mut() {
            s.exit(self.h.app);
        }
    }
}

/// IBackgroundCopyJob, as held by one application.
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
            errors: [$($err:ident),*],)?
            default: $default:literal,
            cite: $cite:literal,
        }
    )*) => {
        $(
            #[doc = concat!($com_get, ".")]
            pub fn $api_get(&self) -> Result<$gty, HResult> {
                self.h.read(|s, app| s.$get(app, self.id))
            }
            $(
                #[doc = concat!($com_set, ".")]
                pub fn $api_set(&self, value: $aty) -> Result<(), HResult> {
                    self.h.write(|s, app| s.$set(app, self.id, value))
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

    /// GetId.
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
        self.h.write(|s, app| s.set_property(app, self.id, value))
    }

    /// AddFile.
    pub fn add_file(&self, remote_url: &str, local_name: &str) -> Result<(), HResult> {
        self.h
            .write(|s, app| s.add_file(app, self.id, remote_url, local_name))
    }

    /// AddFileSet: all files or none.
    pub fn add_file_set(&self, files: &[(&str, &str)]) -> Result<(), HResult> {
        self.h.write(|s, app| s.add_file_set(app, self.id, files))
    }

    /// EnumFiles.
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

    /// Suspend.
    pub fn suspend(&self) -> Result<HResult, HResult> {
        self.h.write(|s, app| s.suspend(app, self.id))
    }

    /// Resume.
    pub fn resume(&self) -> Result<HResult, HResult> {
        self.h.write(|s, app| s.resume(app, self.id))
    }

    /// Cancel.
    pub fn cancel(&self) -> Result<HResult, HResult> {
        self.h.write(|s, app| s.cancel(app, self.id))
    }

    /// Complete: `Ok(S_OK)` or `Ok(BG_S_PARTIAL_COMPLETE)` (D7).
    pub fn complete(&self) -> Result<HResult, HResult> {
        self.h.write(|s, app| s.complete(app, self.id))
    }

    /// SetPriority.
    pub fn set_priority(&self, p: Priority) -> Result<(), HResult> {
        self.set_priority_raw(p.value())
    }

    /// SetNotifyFlags (unknown bits give E_NOTIMPL).
    pub fn set_notify_flags(&self, flags: impl Into<NotifyFlagsArg>) -> Result<(), HResult> {
        self.set_notify_flags_raw(flags.into().0)
    }

    /// SetNotifyInterface with application code.
    pub fn set_notify_interface(&self, callback: impl Callback + 'static) -> Result<(), HResult> {
        self.h.write(|s, app| {
            s.set_notify_interface(app, self.id, Some(Notifier::Callback(Box::new(callback))))
        })
    }

    /// SetNotifyInterface with a callback that answers every call with `answer` and only records the
    /// deliveries (poll them with [`Manager::take_notifications`]).
    pub fn set_notify_answer(&self, answer: HResult) -> Result<(), HResult> {
        self.h
            .write(|s, app| s.set_notify_interface(app, self.id, Some(Notifier::Answer(answer))))
    }

    /// SetNotifyInterface(NULL).
    pub fn clear_notify_interface(&self) -> Result<(), HResult> {
        self.h
            .write(|s, app| s.set_notify_interface(app, self.id, None))
    }

    /// GetError: the error object, or BG_E_ERROR_INFORMATION_UNAVAILABLE.
    pub fn get_error(&self) -> Result<CopyError, HResult> {
        let obj = self.h.read(|s, app| s.get_error(app, self.id))?;
        Ok(CopyError {
            h: self.h.clone(),
            obj,
        })
    }

    /// TakeOwnership.
    pub fn take_ownership(&self) -> Result<(), HResult> {
        self.h.write(|s, app| s.take_ownership(app, self.id))
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
    /// GetRemoteName.
    pub fn get_remote_name(&self) -> Result<String, HResult> {
        self.info().map(|i| i.remote_name)
    }
    /// GetLocalName (exactly as given to AddFile).
    pub fn get_local_name(&self) -> Result<String, HResult> {
        self.info().map(|i| i.local_name)
    }
    /// GetProgress.
    pub fn get_progress(&self) -> Result<FileProgress, HResult> {
        self.info().map(|i| i.progress)
    }
}

/// IBackgroundCopyError: usable until the job enters TRANSFERRING (then
/// BG_E_ERROR_INFORMATION_UNAVAILABLE) or its application exits (then RPC_E_DISCONNECTED) (D2).
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
            .try_borrow()
            .map_err(|_| HResult::RPC_E_CANTCALLOUT_ININPUTSYNCCALL)?;
        let rec = s.check_error_object(&self.obj)?;
        f(&s, rec)
    }

    /// GetError: (context, code).
    pub fn get_error(&self) -> Result<(ErrorContext, HResult), HResult> {
        self.check(|_, r| Ok((r.context, r.code)))
    }

    /// GetFile, or BG_E_FILE_NOT_AVAILABLE when the error is not about a file.
    pub fn get_file(&self) -> Result<File, HResult> {
        let index = self.check(|_, r| r.file.ok_or(HResult::BG_E_FILE_NOT_AVAILABLE))?;
        Ok(File {
            h: self.h.clone(),
            job: self.obj.job,
            index,
        })
    }

    /// GetProtocol ("http" or "file"), or BG_E_PROTOCOL_NOT_AVAILABLE.
    pub fn get_protocol(&self) -> Result<&'static str, HResult> {
        self.check(|_, r| {
            r.protocol
                .map(|p| p.as_str())
                .ok_or(HResult::BG_E_PROTOCOL_NOT_AVAILABLE)
        })
    }

    /// GetErrorDescription: E_INVALIDARG for language 0 (spec §2.7), else as the manager's.
    pub fn get_error_description(&self, language: u32) -> Result<String, HResult> {
        if language == 0 {
            return Err(HResult::E_INVALIDARG);
        }
        let app = self.obj.app;
        self.check(|s, r| s.get_error_description(app, r.code, language))
    }

    /// GetErrorContextDescription: the text of the context's message id (spec §4.3).
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
