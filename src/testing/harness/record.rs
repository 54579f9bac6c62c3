//! What the harness keeps: the applications, jobs, handles and error objects it holds, and the record
//! of each step.

use super::super::invariants::Value;
use super::super::op::{JobCall, Op};
use crate::notify::NotifyEvent;
use crate::world::Remote;
use crate::{AppId, CopyError, HResult, Job, JobId, JobType, Manager};

/// An application the harness started.
#[derive(Clone, Debug)]
pub struct AppSlot {
    /// Its name in a replay (`"app"` for the first).
    pub name: String,
    /// The user index it runs as.
    pub user: usize,
    /// Its id.
    pub id: AppId,
    /// The service generation its manager belongs to (it dies at the next restart).
    pub generation: u32,
    pub(super) manager: Manager,
}

/// A job created through the harness.
#[derive(Clone, Debug)]
pub struct JobSlot {
    /// Its id.
    pub id: JobId,
    /// Its type.
    pub job_type: JobType,
    /// Its alias in a replay.
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
    /// Its alias in a replay.
    pub alias: String,
    /// The service generation it belongs to (it dies at the next restart).
    pub generation: u32,
    pub(super) handle: Job,
}

/// An error object an application keeps.
#[derive(Clone, Debug)]
pub struct HeldSlot {
    /// The handle it was obtained through.
    pub handle: usize,
    /// Its alias in a replay.
    pub alias: String,
    pub(super) object: CopyError,
}

/// What one step did, with everything resolved (names, slots, results).
#[derive(Clone, Debug)]
pub enum Done {
    /// Nothing to act on (no such application or handle yet).
    Skipped,
    /// CreateJob; on success the new job slot.
    CreateJob {
        /// Application slot.
        app: usize,
        /// Display name.
        name: String,
        /// Type.
        job_type: JobType,
        /// New job slot, or the refusal.
        result: Result<usize, HResult>,
    },
    /// GetJob; on success the new handle slot.
    GetJob {
        /// Application slot.
        app: usize,
        /// Job slot.
        job: usize,
        /// New handle slot, or the refusal.
        result: Result<usize, HResult>,
    },
    /// EnumJobs; on success the job slots listed.
    EnumJobs {
        /// Application slot.
        app: usize,
        /// BG_JOB_ENUM_ALL_USERS.
        all_users: bool,
        /// Job slots, or the refusal.
        result: Result<Vec<usize>, HResult>,
        /// The display names of the jobs listed.
        names: Vec<String>,
    },
    /// A job method through a handle.
    Call {
        /// Handle slot.
        handle: usize,
        /// The call.
        call: JobCall,
        /// For AddFile / AddFileSet: the (remote, local) names.
        files: Vec<(String, String)>,
        /// For GetError with `hold`: the held slot.
        held: Option<usize>,
        /// The outcome.
        result: Result<Value, HResult>,
    },
    /// Deliveries taken by an application: (event, job slot).
    Notifications {
        /// Application slot.
        app: usize,
        /// What was delivered.
        deliveries: Vec<(NotifyEvent, usize)>,
    },
    /// Any environment change or time step (the op says which); user and app indices resolved.
    Environment {
        /// The user or application slot the op named, resolved.
        target: Option<usize>,
    },
    /// SetRemote with the URL resolved.
    SetRemote {
        /// The URL.
        url: String,
        /// The new behaviour.
        remote: Remote,
    },
}

/// One recorded step.
#[derive(Clone, Debug)]
pub struct Step {
    /// The operation as generated.
    pub op: Op,
    /// What it did.
    pub done: Done,
    /// Trace length before and after.
    pub trace: (usize, usize),
}
