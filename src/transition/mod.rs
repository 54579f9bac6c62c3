//! The job state machine: pure, exhaustive tables with every arm citing its row of
//! `docs/bits-semantics.md` (§1.5 T-numbers, D-numbers). Method calls and engine events are separate
//! inputs: [`on_method`] answers a [`MethodCall`] with a [`Transition`] or the HRESULT the method
//! returns; [`on_event`] answers an [`EngineEvent`] with a [`Transition`] or `None`, an event that
//! cannot arrive in that state (a broken invariant, never an answer to anyone). A failure carries its
//! error record ([`ErrorReport`]) inside the event, and the transition hands it on ([`ErrorEntry`]).
//!
//! The table decides *where* a job goes. What happens on the way in (error records, timers,
//! notifications, ModificationTime, the trace) is done by exactly one function, `Service::enter`
//! (with `Job::enter` for the job's own fields), so the rules cannot drift apart. Only this module can
//! make a [`Transition`]. The two small policy functions beside the table,
//! [`escalate`] (D4, T12, T25, T26) and [`error_count_increment`] (D6), are the only other places those
//! decisions live.

use crate::hresult::HResult;
use crate::record::ErrorReport;
use crate::state::{JobState, JobType};
use crate::time::{SimDuration, SimTime};
use serde::{Deserialize, Serialize};
use std::fmt;

/// How an error the engine observed is to be treated (after D5 classification and D4 escalation).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, Serialize, Deserialize)]
pub enum Failure {
    /// A recoverable error: TRANSIENT_ERROR (T6 from CONNECTING, T9 from TRANSFERRING).
    Transient,
    /// A fatal error: ERROR (T10).
    Fatal,
    /// A recoverable error that must nevertheless end in ERROR.
    Escalated(Escalation),
}

/// Why a recoverable error goes to ERROR (D4).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, Serialize, Deserialize)]
pub enum Escalation {
    /// NoProgressTimeout is 0: no TRANSIENT_ERROR at all (T26).
    TimeoutZero,
    /// MinimumRetryDelay exceeds NoProgressTimeout: no retry, ERROR (T25).
    DelayExceedsTimeout,
    /// The no-progress clock had already reached NoProgressTimeout (T12, D4).
    NoProgressExpired,
}

/// A method call, as the transition table sees it (§1.4). A refusal is the HRESULT the method returns.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum MethodCall {
    /// IBackgroundCopyJob::Resume.
    Resume {
        /// Whether the job has at least one file (T2/T3).
        has_files: bool,
    },
    /// IBackgroundCopyJob::Suspend.
    Suspend,
    /// IBackgroundCopyJob::Cancel.
    Cancel,
    /// IBackgroundCopyJob::Complete.
    Complete {
        /// The job type (D7: upload types only from TRANSFERRED).
        job_type: JobType,
        /// Whether every file of the job was fully transferred (S_OK vs BG_S_PARTIAL_COMPLETE).
        all_transferred: bool,
    },
    /// IBackgroundCopyJob::AddFile / AddFileSet accepted (D8 moves a TRANSFERRED job to SUSPENDED).
    AddFile,
    /// IBackgroundCopyFile3::SetValidationState(FALSE) on a finished file downloaded from the origin
    /// server (T29, D59): ERROR with this BG_E_VALIDATION_FAILED record.
    ValidationFailed(ErrorReport),
    /// IBackgroundCopyFile3::SetValidationState(FALSE) on a finished file downloaded from a peer
    /// (§5.5, D79): the file is downloaded again from the origin server, so a TRANSFERRED job goes back
    /// to QUEUED (T32); any other state stays.
    PeerContentRejected,
}

/// Something the service observes on its own. The engine sends an event only in a state that takes
/// it; a refusal is a broken invariant, not an answer (`Service::on_event` asserts it in debug builds
/// and traces it in release builds).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum EngineEvent {
    /// The scheduler gives the job its turn (T4).
    SchedulerTurn,
    /// The connection to the current file's server succeeded (T5).
    Connected,
    /// A transfer error, already classified (T6, T9, T10, T12, T25, T26), with the error record it
    /// creates (D1).
    Failure(Failure, ErrorReport),
    /// The last file finished (T8).
    AllFilesDone,
    /// The job loses its transfer slot: time slice over or pre-empted by a higher priority (T7).
    TimeSliceEnd,
    /// The minimum retry delay elapsed (T11).
    RetryTimer,
    /// No progress for NoProgressTimeout since the first transient error (T12, D4): ERROR with the
    /// last transient error's record.
    NoProgressTimeout,
    /// The machine's network went away (T18): the record is [`ErrorReport::NETWORK_LOST`].
    NetworkLost,
    /// The network came back (T19).
    NetworkBack,
    /// The job's owner logged off (T20, D10).
    OwnerLogoff,
    /// The BITS service restarted (D15).
    ServiceRestart,
    /// No activity for JobInactivityTimeout (T22, D36): the service cancels the job.
    InactivityTimeout,
    /// The network's cost is one the job's cost flags do not allow (T21a, D53): the record is
    /// [`ErrorReport::COST_BLOCKED`].
    CostBlocked,
    /// The network's cost, or the job's cost flags, changed so that a job waiting for the cost may
    /// transfer again (T21b, D53).
    CostCleared,
    /// The job spent its MaxDownloadTime in CONNECTING and TRANSFERRING (T23, D55): the record is
    /// [`ErrorReport::MAX_DOWNLOAD_TIMEOUT`].
    MaxDownloadTimeout,
    /// Every requested range (IBackgroundCopyFile6::RequestFileRanges) is on disk but a file is not
    /// complete, or an ON_DEMAND_MODE job has nothing left to move (T30, D75): SUSPENDED.
    RangesDone,
    /// Group Policy allows background transfers no bandwidth now and the job is not FOREGROUND (T21,
    /// D99): the record is [`ErrorReport::POLICY_BLOCKED`].
    PolicyBlocked,
    /// The policy's block ended, or the job became FOREGROUND, so that a job waiting for the policy
    /// may transfer again (T21, D99).
    PolicyCleared,
}

/// An engine event without its data: what the trace records of a refused event.
#[allow(missing_docs)]
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, Serialize, Deserialize)]
pub enum EventKind {
    SchedulerTurn,
    Connected,
    Failure,
    AllFilesDone,
    TimeSliceEnd,
    RetryTimer,
    NoProgressTimeout,
    NetworkLost,
    NetworkBack,
    OwnerLogoff,
    ServiceRestart,
    InactivityTimeout,
    CostBlocked,
    CostCleared,
    MaxDownloadTimeout,
    RangesDone,
    PolicyBlocked,
    PolicyCleared,
}

impl EventKind {
    /// The event's name in traces.
    pub const fn name(self) -> &'static str {
        match self {
            EventKind::SchedulerTurn => "scheduler turn",
            EventKind::Connected => "connected",
            EventKind::Failure => "failure",
            EventKind::AllFilesDone => "last file done",
            EventKind::TimeSliceEnd => "time slice over",
            EventKind::RetryTimer => "retry delay elapsed",
            EventKind::NoProgressTimeout => "no-progress timeout",
            EventKind::NetworkLost => "network lost",
            EventKind::NetworkBack => "network back",
            EventKind::OwnerLogoff => "owner logs off",
            EventKind::ServiceRestart => "service restart",
            EventKind::InactivityTimeout => "inactivity timeout",
            EventKind::CostBlocked => "cost blocked",
            EventKind::CostCleared => "cost cleared",
            EventKind::MaxDownloadTimeout => "maximum download time",
            EventKind::RangesDone => "requested ranges done",
            EventKind::PolicyBlocked => "policy blocked",
            EventKind::PolicyCleared => "policy cleared",
        }
    }
}

impl EngineEvent {
    /// The event without its data.
    pub const fn kind(&self) -> EventKind {
        match self {
            EngineEvent::SchedulerTurn => EventKind::SchedulerTurn,
            EngineEvent::Connected => EventKind::Connected,
            EngineEvent::Failure(..) => EventKind::Failure,
            EngineEvent::AllFilesDone => EventKind::AllFilesDone,
            EngineEvent::TimeSliceEnd => EventKind::TimeSliceEnd,
            EngineEvent::RetryTimer => EventKind::RetryTimer,
            EngineEvent::NoProgressTimeout => EventKind::NoProgressTimeout,
            EngineEvent::NetworkLost => EventKind::NetworkLost,
            EngineEvent::NetworkBack => EventKind::NetworkBack,
            EngineEvent::OwnerLogoff => EventKind::OwnerLogoff,
            EngineEvent::ServiceRestart => EventKind::ServiceRestart,
            EngineEvent::InactivityTimeout => EventKind::InactivityTimeout,
            EngineEvent::CostBlocked => EventKind::CostBlocked,
            EngineEvent::CostCleared => EventKind::CostCleared,
            EngineEvent::MaxDownloadTimeout => EventKind::MaxDownloadTimeout,
            EngineEvent::RangesDone => EventKind::RangesDone,
            EngineEvent::PolicyBlocked => EventKind::PolicyBlocked,
            EngineEvent::PolicyCleared => EventKind::PolicyCleared,
        }
    }
}

/// Either kind of input, for walking the whole table (`bitsim graph`, tests).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum Input {
    /// A method call.
    Method(MethodCall),
    /// An engine event.
    Event(EngineEvent),
}

impl From<MethodCall> for Input {
    fn from(m: MethodCall) -> Input {
        Input::Method(m)
    }
}

impl From<EngineEvent> for Input {
    fn from(e: EngineEvent) -> Input {
        Input::Event(e)
    }
}

/// The rule of the spec that justifies a transition.
#[allow(missing_docs)]
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Hash, Serialize, Deserialize)]
pub enum Rule {
    T2,
    T3,
    T4,
    T5,
    T6,
    T7,
    T8,
    T9,
    T10,
    T11,
    T12,
    T13,
    T14,
    T15,
    T16,
    T17a,
    T17c,
    T18,
    T19,
    T20,
    T25,
    T26,
    T28,
    D7,
    D8,
    D10,
    D15,
    /// §1.3: final states refuse every mutator with BG_E_INVALID_STATE and never change.
    FinalAbsorbing,
    /// §2.2: the call is accepted and leaves the state where it is (AddFile outside TRANSFERRED, Resume
    /// in TRANSFERRED, environment changes that do not concern the job in this state).
    Unchanged,
    T22,
    /// The network's cost blocks the job (D53).
    T21a,
    /// The network's cost no longer blocks the job (D53).
    T21b,
    T23,
    T29,
    /// The requested ranges are done and a file is not (T30, D75): SUSPENDED.
    T30,
    /// Rejected peer content sends a TRANSFERRED job back to QUEUED (D79).
    T32,
    /// Group Policy blocks background transfers, or stops blocking them (D99).
    T21,
}

impl Rule {
    /// Every rule, in declaration order (the trace stores a rule as its index here).
    pub const ALL: [Rule; 37] = [
        Rule::T2,
        Rule::T3,
        Rule::T4,
        Rule::T5,
        Rule::T6,
        Rule::T7,
        Rule::T8,
        Rule::T9,
        Rule::T10,
        Rule::T11,
        Rule::T12,
        Rule::T13,
        Rule::T14,
        Rule::T15,
        Rule::T16,
        Rule::T17a,
        Rule::T17c,
        Rule::T18,
        Rule::T19,
        Rule::T20,
        Rule::T25,
        Rule::T26,
        Rule::T28,
        Rule::D7,
        Rule::D8,
        Rule::D10,
        Rule::D15,
        Rule::FinalAbsorbing,
        Rule::Unchanged,
        Rule::T22,
        Rule::T21a,
        Rule::T21b,
        Rule::T23,
        Rule::T29,
        Rule::T30,
        Rule::T32,
        Rule::T21,
    ];

    /// The row or decision id as written in the spec (`T17a`, `D8`, `§1.3`).
    pub const fn id(self) -> &'static str {
        match self {
            Rule::T2 => "T2",
            Rule::T3 => "T3",
            Rule::T4 => "T4",
            Rule::T5 => "T5",
            Rule::T6 => "T6",
            Rule::T7 => "T7",
            Rule::T8 => "T8",
            Rule::T9 => "T9",
            Rule::T10 => "T10",
            Rule::T11 => "T11",
            Rule::T12 => "T12",
            Rule::T13 => "T13",
            Rule::T14 => "T14",
            Rule::T15 => "T15",
            Rule::T16 => "T16",
            Rule::T17a => "T17a",
            Rule::T17c => "T17c",
            Rule::T18 => "T18",
            Rule::T19 => "T19",
            Rule::T20 => "T20",
            Rule::T25 => "T25",
            Rule::T26 => "T26",
            Rule::T28 => "T28",
            Rule::D7 => "D7",
            Rule::D8 => "D8",
            Rule::D10 => "D10",
            Rule::D15 => "D15",
            Rule::FinalAbsorbing => "§1.3",
            Rule::Unchanged => "§2.2",
            Rule::T22 => "T22",
            Rule::T21a => "T21a",
            Rule::T21b => "T21b",
            Rule::T23 => "T23",
            Rule::T29 => "T29",
            Rule::T30 => "T30",
            Rule::T32 => "T32",
            Rule::T21 => "T21",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// The table's answer for an accepted input. Only the table makes one (the fields are private to
/// this module), so `Job::enter`, which takes one, can only follow the table.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Transition {
    to: JobState,
    rule: Rule,
    returns: HResult,
    error: Option<ErrorEntry>,
}

impl Transition {
    /// The state after the input (equal to the source state when nothing moves).
    pub const fn to(&self) -> JobState {
        self.to
    }
    /// The row that applies.
    pub const fn rule(&self) -> Rule {
        self.rule
    }
    /// What the method returns (S_OK, or BG_S_PARTIAL_COMPLETE for a partial Complete).
    pub const fn returns(&self) -> HResult {
        self.returns
    }
    /// For an entry into ERROR or TRANSIENT_ERROR: the error record it creates (D1).
    pub const fn error(&self) -> Option<ErrorEntry> {
        self.error
    }
}

/// The error record an entry into ERROR or TRANSIENT_ERROR creates (D1: every such entry creates one).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ErrorEntry {
    /// The record of the failure the event reported.
    New(ErrorReport),
    /// T12 / D4: the no-progress timeout keeps the last transient error's context, code and file.
    Renew,
}

/// A method call the table refuses: the HRESULT the method returns.
pub type Refusal = HResult;

const fn to(to: JobState, rule: Rule) -> Transition {
    Transition {
        to,
        rule,
        returns: HResult::S_OK,
        error: None,
    }
}

const fn stay(state: JobState, rule: Rule) -> Transition {
    to(state, rule)
}

const fn ok(t: Transition) -> Result<Transition, Refusal> {
    Ok(t)
}

const fn into_error(state: JobState, rule: Rule, entry: ErrorEntry) -> Transition {
    Transition {
        to: state,
        rule,
        returns: HResult::S_OK,
        error: Some(entry),
    }
}

/// D7 / T17a / T17c: what Complete does from a non-final state.
const fn complete(
    from: JobState,
    job_type: JobType,
    all_transferred: bool,
) -> Result<Transition, Refusal> {
    match job_type {
        JobType::Download => Ok(Transition {
            to: JobState::Acknowledged,
            rule: Rule::T17a,
            returns: if all_transferred {
                HResult::S_OK
            } else {
                HResult::BG_S_PARTIAL_COMPLETE
            },
            error: None,
        }),
        // T17c: upload and upload-reply jobs complete only from TRANSFERRED.
        JobType::Upload | JobType::UploadReply => match from {
            JobState::Transferred => ok(to(JobState::Acknowledged, Rule::T17c)),
            _ => Err(HResult::BG_E_INVALID_STATE),
        },
    }
}

/// T10 / T12 / T25 / T26: where a classified failure goes, with its record (D1).
const fn failure(f: Failure, report: ErrorReport, transient_rule: Rule) -> Transition {
    let entry = ErrorEntry::New(report);
    match f {
        Failure::Transient => into_error(JobState::TransientError, transient_rule, entry),
        Failure::Fatal => into_error(JobState::Error, Rule::T10, entry),
        Failure::Escalated(Escalation::TimeoutZero) => {
            into_error(JobState::Error, Rule::T26, entry)
        }
        Failure::Escalated(Escalation::DelayExceedsTimeout) => {
            into_error(JobState::Error, Rule::T25, entry)
        }
        Failure::Escalated(Escalation::NoProgressExpired) => {
            into_error(JobState::Error, Rule::T12, entry)
        }
    }
}

/// T18: a network loss is a transient error with the BG_E_NETWORK_DISCONNECTED record.
const NETWORK_LOST: Transition = into_error(
    JobState::TransientError,
    Rule::T18,
    ErrorEntry::New(ErrorReport::NETWORK_LOST),
);

/// T21a (D53): the network's cost blocks the job: TRANSIENT_ERROR with the
/// BG_E_BLOCKED_BY_COST_TRANSFER_POLICY record, waiting for the cost instead of the retry timer.
const COST_BLOCKED: Transition = into_error(
    JobState::TransientError,
    Rule::T21a,
    ErrorEntry::New(ErrorReport::COST_BLOCKED),
);

/// T21 (D99): Group Policy blocks background transfers: TRANSIENT_ERROR with the
/// BG_E_BLOCKED_BY_POLICY record, waiting for the policy instead of the retry timer.
const POLICY_BLOCKED: Transition = into_error(
    JobState::TransientError,
    Rule::T21,
    ErrorEntry::New(ErrorReport::POLICY_BLOCKED),
);

/// T23 (D55): the job used up its maximum download time: ERROR with BG_E_MAXDOWNLOAD_TIMEOUT.
const MAX_DOWNLOAD_TIMEOUT: Transition = into_error(
    JobState::Error,
    Rule::T23,
    ErrorEntry::New(ErrorReport::MAX_DOWNLOAD_TIMEOUT),
);

/// The transition table for method calls (§1.4). Grouped by source state; no wildcard across states
/// or calls, so a new state or call does not compile until its rows are written.
#[inline(always)]
pub const fn on_method(state: JobState, call: MethodCall) -> Result<Transition, Refusal> {
    use JobState as S;
    use MethodCall as M;
    if state.is_final() {
        // §1.3: final states refuse every mutator.
        return Err(HResult::BG_E_INVALID_STATE);
    }
    match call {
        M::Complete {
            job_type,
            all_transferred,
        } => complete(state, job_type, all_transferred),
        M::Cancel => ok(to(S::Cancelled, Rule::T16)),
        M::Suspend => ok(match state {
            S::Suspended => stay(S::Suspended, Rule::T15),
            _ => to(S::Suspended, Rule::T15),
        }),
        M::Resume { has_files } => match state {
            S::Suspended if has_files => ok(to(S::Queued, Rule::T2)),
            S::Suspended => Err(HResult::BG_E_EMPTY), // T3
            S::Queued | S::Connecting | S::Transferring | S::Transferred => {
                ok(stay(state, Rule::T28))
            }
            S::TransientError => ok(to(S::Queued, Rule::T13)),
            S::Error => ok(to(S::Queued, Rule::T14)),
            S::Acknowledged | S::Cancelled => Err(HResult::BG_E_INVALID_STATE), // §1.3
        },
        M::AddFile => match state {
            S::Transferred => ok(to(S::Suspended, Rule::D8)),
            _ => ok(stay(state, Rule::Unchanged)),
        },
        // T29 (D59): rejected origin content sends every other non-final state to ERROR with a new
        // record; a job already in ERROR stays there with its record (D1: records come with entries).
        M::ValidationFailed(report) => match state {
            S::Error => ok(stay(S::Error, Rule::T29)),
            _ => ok(into_error(S::Error, Rule::T29, ErrorEntry::New(report))),
        },
        // T32 (D79): rejected peer content is downloaded again from the origin: a TRANSFERRED job
        // has a file to transfer again and is queued; every other state stays (the file waits for
        // the job's next transfer).
        M::PeerContentRejected => match state {
            S::Transferred => ok(to(S::Queued, Rule::T32)),
            _ => ok(stay(state, Rule::T32)),
        },
    }
}

/// The transition table for engine events. `None`: the event cannot arrive in that state (the engine
/// never sends it there; a test walks every pair). Grouped by source state, no wildcard.
#[inline(always)]
pub const fn on_event(state: JobState, event: EngineEvent) -> Option<Transition> {
    use EngineEvent as E;
    use JobState as S;
    Some(match state {
        // ================================ SUSPENDED ================================
        S::Suspended => match event {
            E::NetworkLost | E::NetworkBack | E::OwnerLogoff | E::ServiceRestart => {
                stay(S::Suspended, Rule::Unchanged)
            }
            E::InactivityTimeout => to(S::Cancelled, Rule::T22),
            E::SchedulerTurn
            | E::Connected
            | E::Failure(..)
            | E::AllFilesDone
            | E::TimeSliceEnd
            | E::RetryTimer
            | E::NoProgressTimeout
            | E::CostBlocked
            | E::CostCleared
            | E::PolicyBlocked
            | E::PolicyCleared
            | E::MaxDownloadTimeout
            | E::RangesDone => return None,
        },

        // ================================ QUEUED ================================
        S::Queued => match event {
            E::SchedulerTurn => to(S::Connecting, Rule::T4),
            E::NetworkLost => NETWORK_LOST,
            // A queued job cannot escalate on its own, but the network loss of T18 can meet a zero
            // no-progress timeout (T26, D4): the engine then sends the escalated failure.
            // (T25 cannot apply: a network loss is not retried by the timer.)
            E::Failure(
                f @ Failure::Escalated(Escalation::TimeoutZero | Escalation::NoProgressExpired),
                report,
            ) => failure(f, report, Rule::T18),
            E::NetworkBack | E::OwnerLogoff | E::ServiceRestart => stay(S::Queued, Rule::Unchanged),
            E::InactivityTimeout => to(S::Cancelled, Rule::T22),
            E::CostBlocked => COST_BLOCKED,
            E::PolicyBlocked => POLICY_BLOCKED,
            E::CostCleared | E::PolicyCleared | E::MaxDownloadTimeout | E::RangesDone => {
                return None
            }
            E::Connected
            | E::Failure(
                Failure::Transient
                | Failure::Fatal
                | Failure::Escalated(Escalation::DelayExceedsTimeout),
                _,
            )
            | E::AllFilesDone
            | E::TimeSliceEnd
            | E::RetryTimer
            | E::NoProgressTimeout => return None,
        },

        // ================================ CONNECTING ================================
        S::Connecting => match event {
            E::Connected => to(S::Transferring, Rule::T5),
            E::Failure(f, report) => failure(f, report, Rule::T6),
            E::TimeSliceEnd => to(S::Queued, Rule::T7),
            // T18 names QUEUED and TRANSFERRING; a job between the two is treated alike.
            E::NetworkLost => NETWORK_LOST,
            E::OwnerLogoff => to(S::Queued, Rule::D10),
            E::ServiceRestart => to(S::Queued, Rule::D15),
            E::NetworkBack => stay(S::Connecting, Rule::Unchanged),
            E::InactivityTimeout => to(S::Cancelled, Rule::T22),
            E::CostBlocked => COST_BLOCKED,
            E::PolicyBlocked => POLICY_BLOCKED,
            E::MaxDownloadTimeout => MAX_DOWNLOAD_TIMEOUT,
            // T30 (D75): an on-demand job with nothing to move before its first byte.
            E::RangesDone => to(S::Suspended, Rule::T30),
            E::SchedulerTurn
            | E::AllFilesDone
            | E::RetryTimer
            | E::NoProgressTimeout
            | E::CostCleared
            | E::PolicyCleared => return None,
        },

        // ================================ TRANSFERRING ================================
        S::Transferring => match event {
            // The next file of the job connected: the job keeps transferring.
            E::Connected => stay(S::Transferring, Rule::T5),
            E::Failure(f, report) => failure(f, report, Rule::T9),
            E::AllFilesDone => to(S::Transferred, Rule::T8),
            E::TimeSliceEnd => to(S::Queued, Rule::T7),
            E::NetworkLost => NETWORK_LOST,
            E::OwnerLogoff => to(S::Queued, Rule::T20),
            E::ServiceRestart => to(S::Queued, Rule::D15),
            E::NetworkBack => stay(S::Transferring, Rule::Unchanged),
            E::InactivityTimeout => to(S::Cancelled, Rule::T22),
            E::CostBlocked => COST_BLOCKED,
            E::PolicyBlocked => POLICY_BLOCKED,
            E::MaxDownloadTimeout => MAX_DOWNLOAD_TIMEOUT,
            // T30 (D75): the requested ranges are on disk, a file is not complete.
            E::RangesDone => to(S::Suspended, Rule::T30),
            E::SchedulerTurn
            | E::RetryTimer
            | E::NoProgressTimeout
            | E::CostCleared
            | E::PolicyCleared => return None,
        },

        // ================================ TRANSIENT_ERROR ================================
        S::TransientError => match event {
            E::RetryTimer => to(S::Queued, Rule::T11),
            E::NoProgressTimeout => into_error(S::Error, Rule::T12, ErrorEntry::Renew),
            E::NetworkBack => to(S::Queued, Rule::T19),
            // Already in an error state: the retry timer stops (D3) but the state stays.
            E::NetworkLost | E::OwnerLogoff | E::ServiceRestart => {
                stay(S::TransientError, Rule::Unchanged)
            }
            E::InactivityTimeout => to(S::Cancelled, Rule::T22),
            // T21b (D53): only a job waiting for the cost gets it.
            E::CostCleared => to(S::Queued, Rule::T21b),
            // T21 (D99): only a job waiting for the policy gets it.
            E::PolicyCleared => to(S::Queued, Rule::T21),
            E::SchedulerTurn
            | E::Connected
            | E::Failure(..)
            | E::AllFilesDone
            | E::TimeSliceEnd
            | E::CostBlocked
            | E::PolicyBlocked
            | E::MaxDownloadTimeout
            | E::RangesDone => return None,
        },

        // ================================ ERROR, TRANSFERRED ================================
        S::Error | S::Transferred => match event {
            E::NetworkLost | E::NetworkBack | E::OwnerLogoff | E::ServiceRestart => {
                stay(state, Rule::Unchanged)
            }
            E::InactivityTimeout => to(S::Cancelled, Rule::T22),
            E::SchedulerTurn
            | E::Connected
            | E::Failure(..)
            | E::AllFilesDone
            | E::TimeSliceEnd
            | E::RetryTimer
            | E::NoProgressTimeout
            | E::CostBlocked
            | E::CostCleared
            | E::PolicyBlocked
            | E::PolicyCleared
            | E::MaxDownloadTimeout
            | E::RangesDone => return None,
        },

        // ================================ ACKNOWLEDGED, CANCELLED (final) ================================
        S::Acknowledged | S::Cancelled => match event {
            E::NetworkLost | E::NetworkBack | E::OwnerLogoff | E::ServiceRestart => {
                stay(state, Rule::FinalAbsorbing)
            }
            E::InactivityTimeout
            | E::SchedulerTurn
            | E::Connected
            | E::Failure(..)
            | E::AllFilesDone
            | E::TimeSliceEnd
            | E::RetryTimer
            | E::NoProgressTimeout
            | E::CostBlocked
            | E::CostCleared
            | E::PolicyBlocked
            | E::PolicyCleared
            | E::MaxDownloadTimeout
            | E::RangesDone => return None,
        },
    })
}

/// Both tables behind one function, for walking them (`bitsim graph`, tests): an engine event that
/// cannot arrive gives `E_UNEXPECTED`.
pub fn next(state: JobState, input: impl Into<Input>) -> Result<Transition, Refusal> {
    match input.into() {
        Input::Method(m) => on_method(state, m),
        Input::Event(e) => on_event(state, e).ok_or(HResult::E_UNEXPECTED),
    }
}

/// D4, T12, T25, T26: decide whether a recoverable error may enter TRANSIENT_ERROR.
///
/// `no_progress_since` is when the no-progress clock started (the first transient error after the last
/// progress), `now` the instant of this error. `retried_by_timer` is false for conditions BITS waits out
/// instead of retrying (network loss), to which T25 does not apply.
pub fn escalate(
    no_progress_timeout: SimDuration,
    minimum_retry_delay: SimDuration,
    no_progress_since: SimTime,
    now: SimTime,
    retried_by_timer: bool,
) -> Failure {
    if no_progress_timeout == SimDuration::ZERO {
        Failure::Escalated(Escalation::TimeoutZero) // T26
    } else if retried_by_timer && minimum_retry_delay > no_progress_timeout {
        Failure::Escalated(Escalation::DelayExceedsTimeout) // T25
    } else if now.saturating_since(no_progress_since) >= no_progress_timeout {
        Failure::Escalated(Escalation::NoProgressExpired) // T12 / D4
    } else {
        Failure::Transient
    }
}

/// D6: how much an entry into an error state adds to the error count.
///
/// +1 when the job goes TRANSFERRING → ERROR or TRANSIENT_ERROR; +1 when a retry attempt (started by
/// the retry timer or by Resume in TRANSIENT_ERROR) fails; nothing for network loss, or for a failed
/// first attempt after Resume from SUSPENDED or ERROR.
pub const fn error_count_increment(from: JobState, retry_attempt: bool, network_loss: bool) -> u32 {
    if network_loss {
        0
    } else if matches!(from, JobState::Transferring) || retry_attempt {
        1
    } else {
        0
    }
}

mod graph;
#[cfg(test)]
use graph::representative_inputs;
pub use graph::{edges, Edge};

#[cfg(test)]
mod tests;
