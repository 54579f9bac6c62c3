//! The table, row by row, and the invariants of the whole table.

use super::graph::SAMPLE_REPORT;
use super::*;
use crate::record::ErrorReport;
use JobState as S;

fn go(s: JobState, i: impl Into<Input>) -> (JobState, Rule) {
    let i = i.into();
    let t = next(s, i).unwrap_or_else(|e| panic!("{s} {i:?} refused with {e}"));
    (t.to, t.rule)
}

#[test]
fn t2_suspended_resume_with_files_is_queued() {
    assert_eq!(
        go(S::Suspended, MethodCall::Resume { has_files: true }),
        (S::Queued, Rule::T2)
    );
}

#[test]
fn t3_suspended_resume_without_files_is_empty() {
    assert_eq!(
        next(S::Suspended, MethodCall::Resume { has_files: false }),
        Err(HResult::BG_E_EMPTY)
    );
}

#[test]
fn t4_t5_t6_t8_t9_t10_engine_rows() {
    assert_eq!(
        go(S::Queued, EngineEvent::SchedulerTurn),
        (S::Connecting, Rule::T4)
    );
    assert_eq!(
        go(S::Connecting, EngineEvent::Connected),
        (S::Transferring, Rule::T5)
    );
    assert_eq!(
        go(
            S::Connecting,
            EngineEvent::Failure(Failure::Transient, SAMPLE_REPORT)
        ),
        (S::TransientError, Rule::T6)
    );
    assert_eq!(
        go(S::Transferring, EngineEvent::AllFilesDone),
        (S::Transferred, Rule::T8)
    );
    assert_eq!(
        go(
            S::Transferring,
            EngineEvent::Failure(Failure::Transient, SAMPLE_REPORT)
        ),
        (S::TransientError, Rule::T9)
    );
    assert_eq!(
        go(
            S::Transferring,
            EngineEvent::Failure(Failure::Fatal, SAMPLE_REPORT)
        ),
        (S::Error, Rule::T10)
    );
    assert_eq!(
        go(
            S::Connecting,
            EngineEvent::Failure(Failure::Fatal, SAMPLE_REPORT)
        ),
        (S::Error, Rule::T10)
    );
}

#[test]
fn t7_transferring_time_slice_end_is_queued() {
    assert_eq!(
        go(S::Transferring, EngineEvent::TimeSliceEnd),
        (S::Queued, Rule::T7)
    );
}

#[test]
fn t11_t12_t13_transient_error_rows() {
    assert_eq!(
        go(S::TransientError, EngineEvent::RetryTimer),
        (S::Queued, Rule::T11)
    );
    assert_eq!(
        go(S::TransientError, EngineEvent::NoProgressTimeout),
        (S::Error, Rule::T12)
    );
    assert_eq!(
        go(S::TransientError, MethodCall::Resume { has_files: true }),
        (S::Queued, Rule::T13)
    );
}

#[test]
fn t14_error_resume_is_queued() {
    assert_eq!(
        go(S::Error, MethodCall::Resume { has_files: true }),
        (S::Queued, Rule::T14)
    );
}

#[test]
fn t15_suspend_from_every_non_final_state() {
    for &s in JobState::ALL.iter().filter(|s| !s.is_final()) {
        assert_eq!(go(s, MethodCall::Suspend).0, S::Suspended, "{s}");
    }
}

#[test]
fn t16_cancel_from_every_non_final_state() {
    for &s in JobState::ALL.iter().filter(|s| !s.is_final()) {
        assert_eq!(go(s, MethodCall::Cancel), (S::Cancelled, Rule::T16), "{s}");
    }
}

#[test]
fn t17a_d7_download_complete_anywhere_partial_unless_all() {
    for &s in JobState::ALL.iter().filter(|s| !s.is_final()) {
        let t = next(
            s,
            MethodCall::Complete {
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
            MethodCall::Complete {
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
                MethodCall::Complete {
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
        assert_eq!(
            go(s, EngineEvent::NetworkLost),
            (S::TransientError, Rule::T18)
        );
    }
    assert_eq!(
        go(S::TransientError, EngineEvent::NetworkBack),
        (S::Queued, Rule::T19)
    );
    assert_eq!(go(S::Suspended, EngineEvent::NetworkLost).0, S::Suspended);
}

#[test]
fn t20_d10_logoff_requeues_running_jobs() {
    assert_eq!(
        go(S::Transferring, EngineEvent::OwnerLogoff),
        (S::Queued, Rule::T20)
    );
    assert_eq!(
        go(S::Connecting, EngineEvent::OwnerLogoff),
        (S::Queued, Rule::D10)
    );
    assert_eq!(go(S::Queued, EngineEvent::OwnerLogoff).0, S::Queued);
}

#[test]
fn t25_t26_escalations_go_to_error() {
    let f = |e| EngineEvent::Failure(Failure::Escalated(e), SAMPLE_REPORT);
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
        let t = next(s, MethodCall::Resume { has_files: true }).unwrap();
        assert_eq!((t.to, t.rule, t.returns), (s, Rule::T28, HResult::S_OK));
    }
}

#[test]
fn d8_transferred_add_file_is_suspended() {
    assert_eq!(
        go(S::Transferred, MethodCall::AddFile),
        (S::Suspended, Rule::D8)
    );
    assert_eq!(
        go(S::Error, MethodCall::AddFile),
        (S::Error, Rule::Unchanged)
    );
}

#[test]
fn d15_restart_requeues_in_flight_jobs_only() {
    assert_eq!(
        go(S::Transferring, EngineEvent::ServiceRestart),
        (S::Queued, Rule::D15)
    );
    assert_eq!(
        go(S::Connecting, EngineEvent::ServiceRestart),
        (S::Queued, Rule::D15)
    );
    for s in [
        S::Suspended,
        S::Queued,
        S::Error,
        S::TransientError,
        S::Transferred,
    ] {
        assert_eq!(go(s, EngineEvent::ServiceRestart).0, s);
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
        assert_eq!(
            next(s, MethodCall::Cancel),
            Err(HResult::BG_E_INVALID_STATE)
        );
        assert_eq!(
            next(
                s,
                MethodCall::Complete {
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

#[test]
fn d1_every_entry_into_an_error_state_carries_its_record() {
    // `Job::enter` relies on this: the table names the record of every entry into ERROR or
    // TRANSIENT_ERROR, and of no other entry.
    for &from in JobState::ALL {
        for (input, label) in representative_inputs() {
            let Ok(t) = next(from, input) else { continue };
            let error_entry = t.to != from && matches!(t.to, S::Error | S::TransientError);
            assert_eq!(t.error.is_some(), error_entry, "{from} {label}");
        }
    }
}

#[test]
fn d1_failures_carry_their_report_and_t12_renews_the_last() {
    let t = on_event(
        S::Transferring,
        EngineEvent::Failure(Failure::Fatal, SAMPLE_REPORT),
    );
    assert_eq!(
        t.and_then(|t| t.error),
        Some(ErrorEntry::New(SAMPLE_REPORT))
    );
    let t = on_event(S::Queued, EngineEvent::NetworkLost);
    assert_eq!(
        t.and_then(|t| t.error),
        Some(ErrorEntry::New(ErrorReport::NETWORK_LOST))
    );
    let t = on_event(S::TransientError, EngineEvent::NoProgressTimeout);
    assert_eq!(
        t.map(|t| (t.to, t.error)),
        Some((S::Error, Some(ErrorEntry::Renew)))
    );
}

#[test]
fn refusals_are_hresults_for_methods_and_none_for_engine_events() {
    assert_eq!(
        on_method(S::Suspended, MethodCall::Resume { has_files: false }),
        Err(HResult::BG_E_EMPTY)
    );
    assert_eq!(
        on_method(S::Cancelled, MethodCall::Suspend),
        Err(HResult::BG_E_INVALID_STATE)
    );
    // An engine event the state cannot take is not an answer to anyone: no HRESULT.
    assert_eq!(on_event(S::Suspended, EngineEvent::RetryTimer), None);
    assert_eq!(on_event(S::Error, EngineEvent::Connected), None);
    assert_eq!(on_event(S::Queued, EngineEvent::AllFilesDone), None);
    // The events the engine sends to every job take every state.
    for &s in JobState::ALL {
        for e in [
            EngineEvent::NetworkBack,
            EngineEvent::ServiceRestart,
            EngineEvent::OwnerLogoff,
        ] {
            assert!(on_event(s, e).is_some(), "{s} {e:?}");
        }
    }
}

#[test]
fn t21a_t21b_t23_rows() {
    // T21a (D53): queued and running jobs wait for the cost in TRANSIENT_ERROR with the cost record.
    for s in [S::Queued, S::Connecting, S::Transferring] {
        let t = on_event(s, EngineEvent::CostBlocked).expect("takes the cost block");
        assert_eq!((t.to(), t.rule()), (S::TransientError, Rule::T21a));
        assert_eq!(t.error(), Some(ErrorEntry::New(ErrorReport::COST_BLOCKED)));
    }
    // T21b: only a waiting job is queued again.
    assert_eq!(
        go(S::TransientError, EngineEvent::CostCleared),
        (S::Queued, Rule::T21b)
    );
    // T23 (D55): running jobs only, into ERROR with BG_E_MAXDOWNLOAD_TIMEOUT.
    for s in [S::Connecting, S::Transferring] {
        let t = on_event(s, EngineEvent::MaxDownloadTimeout).expect("takes T23");
        assert_eq!((t.to(), t.rule()), (S::Error, Rule::T23));
        assert_eq!(
            t.error(),
            Some(ErrorEntry::New(ErrorReport::MAX_DOWNLOAD_TIMEOUT))
        );
    }
    for s in [
        S::Suspended,
        S::Queued,
        S::TransientError,
        S::Error,
        S::Transferred,
    ] {
        assert!(
            on_event(s, EngineEvent::MaxDownloadTimeout).is_none(),
            "{s}"
        );
    }
    for s in [S::Suspended, S::TransientError, S::Error, S::Transferred] {
        assert!(on_event(s, EngineEvent::CostBlocked).is_none(), "{s}");
    }
    // D6: a cost block never counts, even from TRANSFERRING.
    assert_eq!(
        error_count_increment(
            S::Transferring,
            true,
            ErrorReport::COST_BLOCKED.network_loss
        ),
        0
    );
}

#[test]
fn t21_d99_policy_block_rows() {
    // T21 (D99): queued and running jobs wait for the policy in TRANSIENT_ERROR with its record.
    for s in [S::Queued, S::Connecting, S::Transferring] {
        let t = on_event(s, EngineEvent::PolicyBlocked).expect("takes the policy block");
        assert_eq!((t.to(), t.rule()), (S::TransientError, Rule::T21));
        assert_eq!(
            t.error(),
            Some(ErrorEntry::New(ErrorReport::POLICY_BLOCKED))
        );
        assert!(on_event(s, EngineEvent::PolicyCleared).is_none(), "{s}");
    }
    // The window ends: only a waiting job is queued again.
    assert_eq!(
        go(S::TransientError, EngineEvent::PolicyCleared),
        (S::Queued, Rule::T21)
    );
    for s in [
        S::Suspended,
        S::TransientError,
        S::Error,
        S::Transferred,
        S::Acknowledged,
        S::Cancelled,
    ] {
        assert!(on_event(s, EngineEvent::PolicyBlocked).is_none(), "{s}");
    }
    for s in [
        S::Suspended,
        S::Error,
        S::Transferred,
        S::Acknowledged,
        S::Cancelled,
    ] {
        assert!(on_event(s, EngineEvent::PolicyCleared).is_none(), "{s}");
    }
    assert_eq!(ErrorReport::POLICY_BLOCKED.code.code(), 0x8020_003E);
    // D6: a policy block never counts, even from TRANSFERRING.
    assert_eq!(
        error_count_increment(
            S::Transferring,
            true,
            ErrorReport::POLICY_BLOCKED.network_loss
        ),
        0
    );
}

#[test]
fn t32_d79_rejected_peer_content_queues_only_a_transferred_job() {
    let t = on_method(S::Transferred, MethodCall::PeerContentRejected).unwrap();
    assert_eq!((t.to(), t.rule(), t.error()), (S::Queued, Rule::T32, None));
    for s in [
        S::Suspended,
        S::Queued,
        S::Connecting,
        S::Transferring,
        S::TransientError,
        S::Error,
    ] {
        let t = on_method(s, MethodCall::PeerContentRejected).unwrap();
        assert_eq!((t.to(), t.error()), (s, None), "{s}");
    }
    for s in [S::Acknowledged, S::Cancelled] {
        assert_eq!(
            on_method(s, MethodCall::PeerContentRejected),
            Err(HResult::BG_E_INVALID_STATE)
        );
    }
}
