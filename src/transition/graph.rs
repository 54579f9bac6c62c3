//! The state graph, walked from the transition table (`bitsim graph`, the README's diagram).

use super::{next, EngineEvent, Escalation, Failure, Input, MethodCall, Rule};
use crate::hresult::HResult;
use crate::record::ErrorReport;
use crate::state::{JobState, JobType};

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

/// The error report the representatives of a failure carry.
pub(super) const SAMPLE_REPORT: ErrorReport = ErrorReport {
    context: crate::state::ErrorContext::RemoteFile,
    code: HResult::http(503),
    file: Some(0),
    protocol: Some(crate::record::Protocol::Http),
    network_loss: false,
};

/// A representative of every input, with a label, used to walk the table.
pub fn representative_inputs() -> Vec<(Input, String)> {
    let method = |c: MethodCall, label: &str| (Input::Method(c), label.to_string());
    let event = |e: EngineEvent, label: &str| (Input::Event(e), label.to_string());
    let failure = |f: Failure, label: &str| event(EngineEvent::Failure(f, SAMPLE_REPORT), label);
    let mut v = vec![
        method(MethodCall::Resume { has_files: true }, "Resume"),
        method(MethodCall::Resume { has_files: false }, "Resume (no files)"),
        method(MethodCall::Suspend, "Suspend"),
        method(MethodCall::Cancel, "Cancel"),
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
            let call = MethodCall::Complete {
                job_type: *job_type,
                all_transferred: all,
            };
            v.push(method(call, &label));
        }
    }
    v.extend([
        method(MethodCall::AddFile, "AddFile"),
        method(
            MethodCall::ValidationFailed(SAMPLE_REPORT),
            "SetValidationState(FALSE), origin content",
        ),
        method(
            MethodCall::PeerContentRejected,
            "SetValidationState(FALSE), peer content",
        ),
        event(EngineEvent::SchedulerTurn, "scheduler turn"),
        event(EngineEvent::Connected, "connected"),
        failure(Failure::Transient, "transient error"),
        failure(Failure::Fatal, "fatal error"),
        failure(
            Failure::Escalated(Escalation::TimeoutZero),
            "error, NoProgressTimeout = 0",
        ),
        failure(
            Failure::Escalated(Escalation::DelayExceedsTimeout),
            "error, retry delay > NoProgressTimeout",
        ),
        failure(
            Failure::Escalated(Escalation::NoProgressExpired),
            "error, no-progress time already used up",
        ),
        event(EngineEvent::AllFilesDone, "last file done"),
        event(EngineEvent::TimeSliceEnd, "time slice over / pre-empted"),
        event(EngineEvent::RetryTimer, "retry delay elapsed"),
        event(EngineEvent::NoProgressTimeout, "no-progress timeout"),
        event(EngineEvent::NetworkLost, "network lost"),
        event(EngineEvent::NetworkBack, "network back"),
        event(EngineEvent::OwnerLogoff, "owner logs off"),
        event(EngineEvent::ServiceRestart, "service restart"),
        event(
            EngineEvent::InactivityTimeout,
            "inactivity timeout (service cancels)",
        ),
        event(EngineEvent::CostBlocked, "network cost blocks the job"),
        event(EngineEvent::CostCleared, "network cost allows the job"),
        event(
            EngineEvent::MaxDownloadTimeout,
            "maximum download time used up",
        ),
        event(
            EngineEvent::RangesDone,
            "requested ranges done, a file is not (File6)",
        ),
        event(
            EngineEvent::PolicyBlocked,
            "group policy blocks background transfers",
        ),
        event(EngineEvent::PolicyCleared, "group policy allows the job"),
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
