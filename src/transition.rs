//! The job state machine: one pure, exhaustive table — `(state, input) -> next state | refusal` —
//! with every arm citing its row of `docs/bits-semantics.md` (§1.5 T-numbers, D-numbers).
//!
//! The table decides *where* a job goes. What happens on the way in (error records, timers,
//! notifications, ModificationTime, the trace) is done by exactly one function, `Service::enter`,
//! so the rules cannot drift apart. The two small policy functions beside the table,
//! [`escalate`] (D4, T12, T25, T26) and [`error_count_increment`] (D6), are the only other places those
//! decisions live.

use crate::{HResult, JobState, JobType, SimDuration, SimTime};
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

/// An input of the state machine: a method call or something BITS observes on its own.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum Input {
    // ---- method calls ----
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
    // ---- what the service does on its own ----
    /// The scheduler gives the job its turn (T4).
    SchedulerTurn,
    /// The connection to the current file's server succeeded (T5).
    Connected,
    /// A transfer error, already classified (T6, T9, T10, T12, T25, T26).
    Failure(Failure),
    /// The last file finished (T8).
    AllFilesDone,
    /// The job loses its transfer slot: time slice over or pre-empted by a higher priority (T7).
    TimeSliceEnd,
    /// The minimum retry delay elapsed (T11).
    RetryTimer,
    /// No progress for NoProgressTimeout since the first transient error (T12, D4).
    NoProgressTimeout,
    /// The machine's network went away (T18).
    NetworkLost,
    /// The network came back (T19).
    NetworkBack,
    /// The job's owner logged off (T20, D10).
    OwnerLogoff,
    /// The BITS service restarted (D15).
    ServiceRestart,
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
}

impl Rule {
    /// Every rule, in declaration order (the trace stores a rule as its index here).
    pub const ALL: [Rule; 29] = [
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
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// The table's answer for an accepted input.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Transition {
    /// The state after the input (equal to the source state when nothing moves).
    pub to: JobState,
    /// The row that applies.
    pub rule: Rule,
    /// What the method returns (S_OK, or BG_S_PARTIAL_COMPLETE for a partial Complete).
    pub returns: HResult,
}

/// An input the table refuses: the HRESULT a method returns, or `E_UNEXPECTED` for an engine input
/// that cannot arrive in that state (the engine never sends one; tests check it).
pub type Refusal = HResult;

const fn to(to: JobState, rule: Rule) -> Result<Transition, Refusal> {
    Ok(Transition {
        to,
        rule,
        returns: HResult::S_OK,
    })
}

const fn stay(state: JobState, rule: Rule) -> Result<Transition, Refusal> {
    to(state, rule)
}

const NOT_APPLICABLE: Result<Transition, Refusal> = Err(HResult::E_UNEXPECTED);

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
        }),
        // T17c: upload and upload-reply jobs complete only from TRANSFERRED.
        JobType::Upload | JobType::UploadReply => match from {
            JobState::Transferred => to(JobState::Acknowledged, Rule::T17c),
            _ => Err(HResult::BG_E_INVALID_STATE),
        },
    }
}

/// T10 / T12 / T25 / T26: where a classified failure goes.
const fn failure(f: Failure, transient_rule: Rule) -> Result<Transition, Refusal> {
    match f {
        Failure::Transient => to(JobState::TransientError, transient_rule),
        Failure::Fatal => to(JobState::Error, Rule::T10),
        Failure::Escalated(Escalation::TimeoutZero) => to(JobState::Error, Rule::T26),
        Failure::Escalated(Escalation::DelayExceedsTimeout) => to(JobState::Error, Rule::T25),
        Failure::Escalated(Escalation::NoProgressExpired) => to(JobState::Error, Rule::T12),
    }
}

/// The transition table. Grouped by source state; no wildcard across states or inputs, so a new state
/// or input does not compile until its rows are written.
pub const fn next(state: JobState, input: Input) -> Result<Transition, Refusal> {
    use Input as I;
    use JobState as S;
    match state {
        // ================================ SUSPENDED ================================
        S::Suspended => match input {
            I::Resume { has_files: true } => to(S::Queued, Rule::T2),
            I::Resume { has_files: false } => Err(HResult::BG_E_EMPTY), // T3
            I::Suspend => stay(S::Suspended, Rule::T15),
            I::Cancel => to(S::Cancelled, Rule::T16),
            I::Complete {
                job_type,
                all_transferred,
            } => complete(state, job_type, all_transferred),
            I::AddFile => stay(S::Suspended, Rule::Unchanged),
            I::NetworkLost | I::NetworkBack | I::OwnerLogoff | I::ServiceRestart => {
                stay(S::Suspended, Rule::Unchanged)
            }
            I::SchedulerTurn
            | I::Connected
            | I::Failure(_)
            | I::AllFilesDone
            | I::TimeSliceEnd
            | I::RetryTimer
            | I::NoProgressTimeout => NOT_APPLICABLE,
        },

        // ================================ QUEUED ================================
        S::Queued => match input {
            I::Resume { .. } => stay(S::Queued, Rule::T28),
            I::Suspend => to(S::Suspended, Rule::T15),
            I::Cancel => to(S::Cancelled, Rule::T16),
            I::Complete {
                job_type,
                all_transferred,
            } => complete(state, job_type, all_transferred),
            I::AddFile => stay(S::Queued, Rule::Unchanged),
            I::SchedulerTurn => to(S::Connecting, Rule::T4),
            I::NetworkLost => to(S::TransientError, Rule::T18),
            // A queued job cannot escalate on its own, but the network loss of T18 can meet a zero
            // no-progress timeout (T26, D4): the engine then sends the escalated failure.
            // (T25 cannot apply: a network loss is not retried by the timer.)
            I::Failure(Failure::Escalated(
                e @ (Escalation::TimeoutZero | Escalation::NoProgressExpired),
            )) => failure(Failure::Escalated(e), Rule::T18),
            I::NetworkBack | I::OwnerLogoff | I::ServiceRestart => stay(S::Queued, Rule::Unchanged),
            I::Connected
            | I::Failure(
                Failure::Transient
                | Failure::Fatal
                | Failure::Escalated(Escalation::DelayExceedsTimeout),
            )
            | I::AllFilesDone
            | I::TimeSliceEnd
            | I::RetryTimer
            | I::NoProgressTimeout => NOT_APPLICABLE,
        },

        // ================================ CONNECTING ================================
        S::Connecting => match input {
            I::Resume { .. } => stay(S::Connecting, Rule::T28),
            I::Suspend => to(S::Suspended, Rule::T15),
            I::Cancel => to(S::Cancelled, Rule::T16),
            I::Complete {
                job_type,
                all_transferred,
            } => complete(state, job_type, all_transferred),
            I::AddFile => stay(S::Connecting, Rule::Unchanged),
            I::Connected => to(S::Transferring, Rule::T5),
            I::Failure(f) => failure(f, Rule::T6),
            I::TimeSliceEnd => to(S::Queued, Rule::T7),
            // T18 names QUEUED and TRANSFERRING; a job between the two is treated alike.
            I::NetworkLost => to(S::TransientError, Rule::T18),
            I::OwnerLogoff => to(S::Queued, Rule::D10),
            I::ServiceRestart => to(S::Queued, Rule::D15),
            I::NetworkBack => stay(S::Connecting, Rule::Unchanged),
            I::SchedulerTurn | I::AllFilesDone | I::RetryTimer | I::NoProgressTimeout => {
                NOT_APPLICABLE
            }
        },

        // ================================ TRANSFERRING ================================
        S::Transferring => match input {
            I::Resume { .. } => stay(S::Transferring, Rule::T28),
            I::Suspend => to(S::Suspended, Rule::T15),
            I::Cancel => to(S::Cancelled, Rule::T16),
            I::Complete {
                job_type,
                all_transferred,
            } => complete(state, job_type, all_transferred),
            I::AddFile => stay(S::Transferring, Rule::Unchanged),
            // The next file of the job connected: the job keeps transferring.
            I::Connected => stay(S::Transferring, Rule::T5),
            I::Failure(f) => failure(f, Rule::T9),
            I::AllFilesDone => to(S::Transferred, Rule::T8),
            I::TimeSliceEnd => to(S::Queued, Rule::T7),
            I::NetworkLost => to(S::TransientError, Rule::T18),
            I::OwnerLogoff => to(S::Queued, Rule::T20),
            I::ServiceRestart => to(S::Queued, Rule::D15),
            I::NetworkBack => stay(S::Transferring, Rule::Unchanged),
            I::SchedulerTurn | I::RetryTimer | I::NoProgressTimeout => NOT_APPLICABLE,
        },

        // ================================ TRANSIENT_ERROR ================================
        S::TransientError => match input {
            I::Resume { .. } => to(S::Queued, Rule::T13),
            I::Suspend => to(S::Suspended, Rule::T15),
            I::Cancel => to(S::Cancelled, Rule::T16),
            I::Complete {
                job_type,
                all_transferred,
            } => complete(state, job_type, all_transferred),
            I::AddFile => stay(S::TransientError, Rule::Unchanged),
            I::RetryTimer => to(S::Queued, Rule::T11),
            I::NoProgressTimeout => to(S::Error, Rule::T12),
            I::NetworkBack => to(S::Queued, Rule::T19),
            // Already in an error state: the retry timer stops (D3) but the state stays.
            I::NetworkLost | I::OwnerLogoff | I::ServiceRestart => {
                stay(S::TransientError, Rule::Unchanged)
            }
            I::SchedulerTurn | I::Connected | I::Failure(_) | I::AllFilesDone | I::TimeSliceEnd => {
                NOT_APPLICABLE
            }
        },

        // ================================ ERROR ================================
        S::Error => match input {
            I::Resume { .. } => to(S::Queued, Rule::T14),
            I::Suspend => to(S::Suspended, Rule::T15),
            I::Cancel => to(S::Cancelled, Rule::T16),
            I::Complete {
                job_type,
                all_transferred,
            } => complete(state, job_type, all_transferred),
            I::AddFile => stay(S::Error, Rule::Unchanged),
            I::NetworkLost | I::NetworkBack | I::OwnerLogoff | I::ServiceRestart => {
                stay(S::Error, Rule::Unchanged)
            }
            I::SchedulerTurn
            | I::Connected
            | I::Failure(_)
            | I::AllFilesDone
            | I::TimeSliceEnd
            | I::RetryTimer
            | I::NoProgressTimeout => NOT_APPLICABLE,
        },

        // ================================ TRANSFERRED ================================
        S::Transferred => match input {
            I::Resume { .. } => stay(S::Transferred, Rule::T28),
            I::Suspend => to(S::Suspended, Rule::T15),
            I::Cancel => to(S::Cancelled, Rule::T16),
            I::Complete {
                job_type,
                all_transferred,
            } => complete(state, job_type, all_transferred),
            I::AddFile => to(S::Suspended, Rule::D8),
            I::NetworkLost | I::NetworkBack | I::OwnerLogoff | I::ServiceRestart => {
                stay(S::Transferred, Rule::Unchanged)
            }
            I::SchedulerTurn
            | I::Connected
            | I::Failure(_)
            | I::AllFilesDone
            | I::TimeSliceEnd
            | I::RetryTimer
            | I::NoProgressTimeout => NOT_APPLICABLE,
        },

        // ================================ ACKNOWLEDGED, CANCELLED (final) ================================
        S::Acknowledged | S::Cancelled => match input {
            I::Resume { .. } | I::Suspend | I::Cancel | I::Complete { .. } | I::AddFile => {
                Err(HResult::BG_E_INVALID_STATE) // §1.3
            }
            I::NetworkLost | I::NetworkBack | I::OwnerLogoff | I::ServiceRestart => {
                stay(state, Rule::FinalAbsorbing)
            }
            I::SchedulerTurn
            | I::Connected
            | I::Failure(_)
            | I::AllFilesDone
            | I::TimeSliceEnd
            | I::RetryTimer
            | I::NoProgressTimeout => NOT_APPLICABLE,
        },
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

/// One edge of the state graph, for `bitsim graph`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Edge {
    /// Source state.
    pub from: JobState,
    /// Target state.
    pub to: JobState,
    /// What triggers it (method or event), in words.
    pub trigger: String,
    /// The spec row.
    pub rule: Rule,
}

/// A representative of every input, with a label, used to walk the table.
pub fn representative_inputs() -> Vec<(Input, String)> {
    let mut v = vec![
        (Input::Resume { has_files: true }, "Resume".to_string()),
        (
            Input::Resume { has_files: false },
            "Resume (no files)".to_string(),
        ),
        (Input::Suspend, "Suspend".to_string()),
        (Input::Cancel, "Cancel".to_string()),
    ];
    for job_type in JobType::ALL {
        let kind = if job_type.is_upload() {
            "upload"
        } else {
            "download"
        };
        for all in [true, false] {
            // Only label the variants that differ in where they go.
            if job_type.is_upload() && !all {
                continue;
            }
            if *job_type == JobType::UploadReply {
                continue;
            }
            let label = if all {
                format!("Complete ({kind})")
            } else {
                format!("Complete ({kind}, partial)")
            };
            v.push((
                Input::Complete {
                    job_type: *job_type,
                    all_transferred: all,
                },
                label,
            ));
        }
    }
    v.extend([
        (Input::AddFile, "AddFile".to_string()),
        (Input::SchedulerTurn, "scheduler turn".to_string()),
        (Input::Connected, "connected".to_string()),
        (
            Input::Failure(Failure::Transient),
            "transient error".to_string(),
        ),
        (Input::Failure(Failure::Fatal), "fatal error".to_string()),
        (
            Input::Failure(Failure::Escalated(Escalation::TimeoutZero)),
            "error, NoProgressTimeout = 0".to_string(),
        ),
        (
            Input::Failure(Failure::Escalated(Escalation::DelayExceedsTimeout)),
            "error, retry delay > NoProgressTimeout".to_string(),
        ),
        (
            Input::Failure(Failure::Escalated(Escalation::NoProgressExpired)),
            "error, no-progress time already used up".to_string(),
        ),
        (Input::AllFilesDone, "last file done".to_string()),
        (
            Input::TimeSliceEnd,
            "time slice over / pre-empted".to_string(),
        ),
        (Input::RetryTimer, "retry delay elapsed".to_string()),
        (Input::NoProgressTimeout, "no-progress timeout".to_string()),
        (Input::NetworkLost, "network lost".to_string()),
        (Input::NetworkBack, "network back".to_string()),
        (Input::OwnerLogoff, "owner logs off".to_string()),
        (Input::ServiceRestart, "service restart".to_string()),
    ]);
    v
}

/// Every state-changing edge of the table, found by walking it with [`representative_inputs`]; edges
/// with the same endpoints and rule are merged, their triggers joined.
pub fn edges() -> Vec<Edge> {
    let mut out: Vec<Edge> = Vec::new();
    for &from in JobState::ALL {
        for (input, label) in representative_inputs() {
            if let Ok(t) = next(from, input) {
                if t.to == from {
                    continue;
                }
                if let Some(e) = out
                    .iter_mut()
                    .find(|e| e.from == from && e.to == t.to && e.rule == t.rule)
                {
                    if !e.trigger.split(" / ").any(|x| x == label) {
                        e.trigger.push_str(" / ");
                        e.trigger.push_str(&label);
                    }
                } else {
                    out.push(Edge {
                        from,
                        to: t.to,
                        trigger: label,
                        rule: t.rule,
                    });
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use JobState as S;

    fn go(s: JobState, i: Input) -> (JobState, Rule) {
        let t = next(s, i).unwrap_or_else(|e| panic!("{s} {i:?} refused with {e}"));
        (t.to, t.rule)
    }

    #[test]
    fn t2_suspended_resume_with_files_is_queued() {
        assert_eq!(
            go(S::Suspended, Input::Resume { has_files: true }),
            (S::Queued, Rule::T2)
        );
    }

    #[test]
    fn t3_suspended_resume_without_files_is_empty() {
        assert_eq!(
            next(S::Suspended, Input::Resume { has_files: false }),
            Err(HResult::BG_E_EMPTY)
        );
    }

    #[test]
    fn t4_t5_t6_t8_t9_t10_engine_rows() {
        assert_eq!(
            go(S::Queued, Input::SchedulerTurn),
            (S::Connecting, Rule::T4)
        );
        assert_eq!(
            go(S::Connecting, Input::Connected),
            (S::Transferring, Rule::T5)
        );
        assert_eq!(
            go(S::Connecting, Input::Failure(Failure::Transient)),
            (S::TransientError, Rule::T6)
        );
        assert_eq!(
            go(S::Transferring, Input::AllFilesDone),
            (S::Transferred, Rule::T8)
        );
        assert_eq!(
            go(S::Transferring, Input::Failure(Failure::Transient)),
            (S::TransientError, Rule::T9)
        );
        assert_eq!(
            go(S::Transferring, Input::Failure(Failure::Fatal)),
            (S::Error, Rule::T10)
        );
        assert_eq!(
            go(S::Connecting, Input::Failure(Failure::Fatal)),
            (S::Error, Rule::T10)
        );
    }

    #[test]
    fn t7_transferring_time_slice_end_is_queued() {
        assert_eq!(
            go(S::Transferring, Input::TimeSliceEnd),
            (S::Queued, Rule::T7)
        );
    }

    #[test]
    fn t11_t12_t13_transient_error_rows() {
        assert_eq!(
            go(S::TransientError, Input::RetryTimer),
            (S::Queued, Rule::T11)
        );
        assert_eq!(
            go(S::TransientError, Input::NoProgressTimeout),
            (S::Error, Rule::T12)
        );
        assert_eq!(
            go(S::TransientError, Input::Resume { has_files: true }),
            (S::Queued, Rule::T13)
        );
    }

    #[test]
    fn t14_error_resume_is_queued() {
        assert_eq!(
            go(S::Error, Input::Resume { has_files: true }),
            (S::Queued, Rule::T14)
        );
    }

    #[test]
    fn t15_suspend_from_every_non_final_state() {
        for &s in JobState::ALL.iter().filter(|s| !s.is_final()) {
            assert_eq!(go(s, Input::Suspend).0, S::Suspended, "{s}");
        }
    }

    #[test]
    fn t16_cancel_from_every_non_final_state() {
        for &s in JobState::ALL.iter().filter(|s| !s.is_final()) {
            assert_eq!(go(s, Input::Cancel), (S::Cancelled, Rule::T16), "{s}");
        }
    }

    #[test]
    fn t17a_d7_download_complete_anywhere_partial_unless_all() {
        for &s in JobState::ALL.iter().filter(|s| !s.is_final()) {
            let t = next(
                s,
                Input::Complete {
                    job_type: JobType::Download,
                    all_transferred: false,
                },
            )
            .unwrap();
            assert_eq!(
                (t.to, t.rule, t.returns),
                (S::Acknowledged, Rule::T17a, HResult::BG_S_PARTIAL_COMPLETE)
            );
            let t = next(
                s,
                Input::Complete {
                    job_type: JobType::Download,
                    all_transferred: true,
                },
            )
            .unwrap();
            assert_eq!(t.returns, HResult::S_OK);
        }
    }

    #[test]
    fn t17c_d7_upload_complete_only_when_transferred() {
        for ty in [JobType::Upload, JobType::UploadReply] {
            for &s in JobState::ALL.iter().filter(|s| !s.is_final()) {
                let r = next(
                    s,
                    Input::Complete {
                        job_type: ty,
                        all_transferred: true,
                    },
                );
                if s == S::Transferred {
                    assert_eq!(r.unwrap().rule, Rule::T17c);
                } else {
                    assert_eq!(r, Err(HResult::BG_E_INVALID_STATE), "{ty} {s}");
                }
            }
        }
    }

    #[test]
    fn t18_t19_network_rows() {
        for s in [S::Queued, S::Connecting, S::Transferring] {
            assert_eq!(go(s, Input::NetworkLost), (S::TransientError, Rule::T18));
        }
        assert_eq!(
            go(S::TransientError, Input::NetworkBack),
            (S::Queued, Rule::T19)
        );
        assert_eq!(go(S::Suspended, Input::NetworkLost).0, S::Suspended);
    }

    #[test]
    fn t20_d10_logoff_requeues_running_jobs() {
        assert_eq!(
            go(S::Transferring, Input::OwnerLogoff),
            (S::Queued, Rule::T20)
        );
        assert_eq!(
            go(S::Connecting, Input::OwnerLogoff),
            (S::Queued, Rule::D10)
        );
        assert_eq!(go(S::Queued, Input::OwnerLogoff).0, S::Queued);
    }

    #[test]
    fn t25_t26_escalations_go_to_error() {
        let f = |e| Input::Failure(Failure::Escalated(e));
        assert_eq!(
            go(S::Transferring, f(Escalation::TimeoutZero)),
            (S::Error, Rule::T26)
        );
        assert_eq!(
            go(S::Connecting, f(Escalation::DelayExceedsTimeout)),
            (S::Error, Rule::T25)
        );
        assert_eq!(
            go(S::Connecting, f(Escalation::NoProgressExpired)),
            (S::Error, Rule::T12)
        );
    }

    #[test]
    fn t28_resume_in_action_states_is_a_no_op() {
        for s in [S::Queued, S::Connecting, S::Transferring] {
            let t = next(s, Input::Resume { has_files: true }).unwrap();
            assert_eq!((t.to, t.rule, t.returns), (s, Rule::T28, HResult::S_OK));
        }
    }

    #[test]
    fn d8_transferred_add_file_is_suspended() {
        assert_eq!(go(S::Transferred, Input::AddFile), (S::Suspended, Rule::D8));
        assert_eq!(go(S::Error, Input::AddFile), (S::Error, Rule::Unchanged));
    }

    #[test]
    fn d15_restart_requeues_in_flight_jobs_only() {
        assert_eq!(
            go(S::Transferring, Input::ServiceRestart),
            (S::Queued, Rule::D15)
        );
        assert_eq!(
            go(S::Connecting, Input::ServiceRestart),
            (S::Queued, Rule::D15)
        );
        for s in [
            S::Suspended,
            S::Queued,
            S::Error,
            S::TransientError,
            S::Transferred,
        ] {
            assert_eq!(go(s, Input::ServiceRestart).0, s);
        }
    }

    #[test]
    fn final_states_refuse_every_method_and_never_move() {
        for s in [S::Acknowledged, S::Cancelled] {
            for (input, _) in representative_inputs() {
                match next(s, input) {
                    Ok(t) => assert_eq!(t.to, s),
                    Err(e) => {
                        assert!(e == HResult::BG_E_INVALID_STATE || e == HResult::E_UNEXPECTED)
                    }
                }
            }
            assert_eq!(next(s, Input::Cancel), Err(HResult::BG_E_INVALID_STATE));
            assert_eq!(
                next(
                    s,
                    Input::Complete {
                        job_type: JobType::Download,
                        all_transferred: true
                    }
                ),
                Err(HResult::BG_E_INVALID_STATE)
            );
        }
    }

    #[test]
    fn d4_escalation_edge_cases() {
        let s = SimDuration::from_secs;
        let t = SimTime::from_secs;
        // NoProgressTimeout 0: every error goes to ERROR (T26), even network loss.
        assert_eq!(
            escalate(s(0), s(600), t(10), t(10), true),
            Failure::Escalated(Escalation::TimeoutZero)
        );
        assert_eq!(
            escalate(s(0), s(5), t(10), t(10), false),
            Failure::Escalated(Escalation::TimeoutZero)
        );
        // Retry delay larger than the timeout (T25) — only for errors retried by the timer.
        assert_eq!(
            escalate(s(60), s(61), t(0), t(0), true),
            Failure::Escalated(Escalation::DelayExceedsTimeout)
        );
        assert_eq!(
            escalate(s(60), s(61), t(0), t(0), false),
            Failure::Transient
        );
        assert_eq!(escalate(s(60), s(60), t(0), t(0), true), Failure::Transient);
        // The clock reached the timeout exactly.
        assert_eq!(
            escalate(s(60), s(5), t(0), t(60), true),
            Failure::Escalated(Escalation::NoProgressExpired)
        );
        assert_eq!(escalate(s(60), s(5), t(0), t(59), true), Failure::Transient);
    }

    #[test]
    fn d6_error_count_increments() {
        assert_eq!(error_count_increment(S::Transferring, false, false), 1);
        assert_eq!(error_count_increment(S::Connecting, true, false), 1);
        assert_eq!(error_count_increment(S::Connecting, false, false), 0);
        assert_eq!(error_count_increment(S::Transferring, true, true), 0);
    }

    #[test]
    fn rule_all_lists_every_rule_once_in_declaration_order() {
        for (i, r) in Rule::ALL.iter().enumerate() {
            assert_eq!(*r as usize, i, "{r}");
        }
    }

    #[test]
    fn graph_edges_come_from_the_table() {
        let edges = edges();
        assert!(edges
            .iter()
            .any(|e| e.from == S::Suspended && e.to == S::Queued && e.rule == Rule::T2));
        assert!(edges
            .iter()
            .any(|e| e.from == S::Transferred && e.to == S::Suspended && e.rule == Rule::D8));
        assert!(
            edges.iter().all(|e| !e.from.is_final()),
            "final states have no outgoing edges"
        );
        assert!(edges.iter().all(|e| e.from != e.to));
    }
}
