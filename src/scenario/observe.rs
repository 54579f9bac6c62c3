//! What an application saw of a call, as the runner's observe mode logs it for the testing kit's
//! invariant checker (the kit publishes these types as `bitsim::testing::{Seen, Observed}`; they live
//! here because the runner, a lower layer, produces them).

use crate::scenario::Action;
use crate::{AppId, ErrorContext, HResult, JobId, JobType, SimDuration, SimTime};

/// What an application saw.
#[derive(Clone, PartialEq, Debug)]
pub enum Seen {
    /// A method called through a job handle.
    JobCall {
        /// The calling application.
        app: AppId,
        /// The handle as a scenario names it (application, job alias), if the call has a scenario
        /// form.
        handle: Option<(String, String)>,
        /// The service generation the handle was obtained in.
        handle_generation: u32,
        /// The job.
        job: JobId,
        /// The call: an operation whose `expect` is what it returned, or a check holding what the
        /// getter read (its values mean nothing when `result` is a failure).
        action: Action,
        /// For GetError binding the object: the error alias.
        held: Option<String>,
        /// The HRESULT the call returned (a check that read its values: S_OK).
        result: HResult,
    },
    /// CreateJob.
    CreateJob {
        /// The calling application.
        app: AppId,
        /// The generation its manager was obtained in.
        generation: u32,
        /// The requested type.
        job_type: JobType,
        /// The new job, or the refusal.
        result: Result<JobId, HResult>,
    },
    /// GetJob.
    GetJob {
        /// The calling application.
        app: AppId,
        /// The generation its manager was obtained in.
        generation: u32,
        /// The job asked for.
        job: JobId,
        /// Success, or the refusal.
        result: Result<(), HResult>,
    },
    /// EnumJobs.
    EnumJobs {
        /// The calling application.
        app: AppId,
        /// The generation its manager was obtained in.
        generation: u32,
        /// BG_JOB_ENUM_ALL_USERS.
        all_users: bool,
        /// The jobs listed, or the refusal.
        result: Result<Vec<JobId>, HResult>,
    },
    /// A call on a held error object (D2).
    ErrorObject {
        /// Its error alias.
        error: String,
        /// What the call returned.
        result: Result<(ErrorContext, HResult), HResult>,
    },
    /// Time moved by `advance` (exactly `by`) or by `run_until_idle` (at most `by`).
    Time {
        /// Before.
        from: SimTime,
        /// The step (exact for advance, a bound for run-until-idle).
        by: SimDuration,
        /// Whether `by` is exact.
        exact: bool,
        /// After.
        to: SimTime,
    },
}

/// One observation with its place in the trace.
#[derive(Clone, PartialEq, Debug)]
pub struct Observed {
    /// Trace length when the call started.
    pub before: usize,
    /// Trace length when it returned.
    pub after: usize,
    /// The step (index in the run) that made it; `None` for the harness's own probes.
    pub step: Option<usize>,
    /// What was seen.
    pub seen: Seen,
}
