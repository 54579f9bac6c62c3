//! What BITS does on its own between method calls — one test per engine-driven transition row
//! and per decision, plus the behaviours real clients rely on.

mod common;
use bitsim::*;
use common::*;

fn job_with(app: &Manager, files: &[(&str, &str)]) -> Job {
    let job = app.create_job("job", JobType::Download).unwrap();
    job.add_file_set(files).unwrap();
    job.resume().unwrap();
    job
}

// ============================================================ T4, T5, T6, T8

#[test]
fn t4_t5_t8_queued_connects_transfers_and_completes_on_the_virtual_clock() {
    let (sim, app) = alice(World::new().remote(A, Remote::sized(2_500_000)));
    let job = running_job(&app);
    assert_eq!(
        state(&job),
        JobState::Queued,
        "nothing happens until time moves"
    );
    sim.advance_secs(0);
    assert_eq!(state(&job), JobState::Transferring);
    sim.advance_secs(2);
    assert_eq!(job.get_progress().unwrap().bytes_transferred, 2_000_000);
    assert_eq!(job.get_progress().unwrap().bytes_total, 2_500_000);
    sim.advance(SimDuration::from_millis(499));
    assert_eq!(state(&job), JobState::Transferring);
    sim.advance(SimDuration::from_millis(1));
    assert_eq!(state(&job), JobState::Transferred);
    assert_eq!(
        job.get_times().unwrap().transfer_completion_time,
        Some(SimTime::from_millis(2500))
    );
    assert_eq!(
        job.get_times().unwrap().modification_time,
        SimTime::from_millis(2500)
    );
    assert_eq!(
        rules(&sim, &job),
        [
            "SUSPENDED->QUEUED T2",
            "QUEUED->CONNECTING T4",
            "CONNECTING->TRANSFERRING T5",
            "TRANSFERRING->TRANSFERRED T8"
        ]
    );
}

#[test]
fn t6_unknown_host_is_transient_error_with_remote_file_context() {
    let (sim, app) = alice(World::new());
    let job = running_job(&app); // A is not in the world
    sim.advance_secs(0);
    assert_eq!(state(&job), JobState::TransientError);
    assert_eq!(
        err_code(&job),
        Ok((ErrorContext::RemoteFile, HResult::from_u32(0x8007_2EE7)))
    );
    assert_eq!(
        job.get_error_count(),
        Ok(0),
        "D6: first attempt after Resume from SUSPENDED"
    );
    assert!(rules(&sim, &job).contains(&"CONNECTING->TRANSIENT_ERROR T6".to_string()));
}

#[test]
fn t5_d1_entering_transferring_drops_the_error_record() {
    let (sim, app) = alice(world_a(5_000_000, [Response::http(503)], Response::Ok));
    let job = running_job(&app);
    sim.advance_secs(0);
    assert!(job.get_error().is_ok());
    sim.advance_secs(600);
    assert_eq!(state(&job), JobState::Transferring);
    assert_eq!(
        job.get_error().unwrap_err(),
        HResult::BG_E_ERROR_INFORMATION_UNAVAILABLE
    );
}

#[test]
fn files_go_one_at_a_time_in_the_order_added() {
    let (sim, app) = alice(
        World::new()
            .remote(A, Remote::sized(1_000_000))
            .remote(B, Remote::sized(1_000_000)),
    );
    let job = job_with(&app, &[(B, LB), (A, LA)]);
    sim.advance(SimDuration::from_millis(500));
    let files = job.enum_files().unwrap();
    assert_eq!(files[0].get_progress().unwrap().bytes_transferred, 500_000);
    assert_eq!(
        files[1].get_progress().unwrap().bytes_total,
        BG_SIZE_UNKNOWN
    );
    sim.advance(SimDuration::from_millis(1000));
    assert_eq!(
        files[0].get_progress().unwrap().bytes_transferred,
        1_000_000
    );
    assert_eq!(files[1].get_progress().unwrap().bytes_transferred, 500_000);
}

// ============================================================ T9, T10 and D6

#[test]
fn t9_d6_mid_transfer_transient_failure_counts_and_keeps_the_bytes() {
    let world = world_a(
        8192,
        [Response::win32(12030).after_bytes(4096)],
        Response::Ok,
    );
    let (sim, app) = alice(world);
    let job = running_job(&app);
    sim.advance_secs(1);
    assert_eq!(state(&job), JobState::TransientError);
    assert_eq!(
        err_code(&job),
        Ok((ErrorContext::RemoteFile, HResult::from_u32(0x8007_2EFE)))
    );
    assert_eq!(job.get_error_count(), Ok(1));
    assert_eq!(job.get_progress().unwrap().bytes_transferred, 4096);
    sim.advance_secs(600);
    assert_eq!(state(&job), JobState::Transferred);
    // The retry resumed from 4096: the second attempt moved only the remaining 4096 bytes.
    let done_at = job.get_times().unwrap().transfer_completion_time.unwrap();
    // Failed at 4.096 ms (rounded up to 5 ms), retried at 600.005 s, 4096 more bytes: 600.010 s.
    assert_eq!(done_at, SimTime::from_millis(600_010));
}

#[test]
fn t10_fatal_error_from_transferring_counts_from_connecting_does_not() {
    let (sim, app) = alice(world_a(
        8192,
        [Response::http(403).after_bytes(10)],
        Response::Ok,
    ));
    let job = running_job(&app);
    sim.advance_secs(1);
    assert_eq!(state(&job), JobState::Error);
    assert_eq!(job.get_error_count(), Ok(1));
    assert!(rules(&sim, &job).contains(&"TRANSFERRING->ERROR T10".to_string()));

    let (sim, app) = alice(world_a(8192, [Response::http(403)], Response::Ok));
    let job = running_job(&app);
    sim.advance_secs(1);
    assert_eq!(state(&job), JobState::Error);
    assert_eq!(job.get_error_count(), Ok(0));
    assert!(rules(&sim, &job).contains(&"CONNECTING->ERROR T10".to_string()));
}

#[test]
fn d6_failed_retries_count_and_the_count_is_never_reset() {
    let (sim, app) = alice(world_a(100, [], Response::http(503)));
    let job = running_job(&app);
    job.set_minimum_retry_delay(60).unwrap();
    sim.advance_secs(0);
    assert_eq!(job.get_error_count(), Ok(0));
    sim.advance_secs(60);
    assert_eq!(job.get_error_count(), Ok(1), "timer retry failed");
    job.resume().unwrap(); // T13
    sim.advance_secs(0);
    assert_eq!(
        job.get_error_count(),
        Ok(2),
        "Resume-in-TRANSIENT_ERROR retry failed"
    );
    job.suspend().unwrap();
    job.resume().unwrap();
    sim.advance_secs(0);
    assert_eq!(
        job.get_error_count(),
        Ok(2),
        "first attempt after Resume from SUSPENDED"
    );
    sim.set_remote(A, Remote::sized(100));
    sim.advance_secs(61);
    assert_eq!(state(&job), JobState::Transferred);
    assert_eq!(job.get_error_count(), Ok(2), "never reset");
}

// ============================================================ T11, T13, D3

#[test]
fn t11_d3_transient_error_retries_after_the_minimum_retry_delay() {
    let (sim, app) = alice(world_a(100, [Response::http(503)], Response::Ok));
    let job = running_job(&app);
    sim.advance_secs(0);
    assert_eq!(state(&job), JobState::TransientError);
    sim.advance_secs(599);
    assert_eq!(state(&job), JobState::TransientError);
    sim.advance_secs(1);
    assert_eq!(state(&job), JobState::Transferring);
    assert!(rules(&sim, &job).contains(&"TRANSIENT_ERROR->QUEUED T11".to_string()));
}

#[test]
fn t11_d3_changing_the_delay_while_waiting_moves_the_retry() {
    let (sim, app) = alice(world_a(100, [Response::http(503)], Response::Ok));
    let job = running_job(&app);
    sim.advance_secs(10);
    job.set_minimum_retry_delay(30).unwrap();
    sim.advance_secs(19);
    assert_eq!(state(&job), JobState::TransientError);
    sim.advance_secs(1);
    assert_eq!(state(&job), JobState::Transferring);
}

#[test]
fn t13_d3_resume_in_transient_error_retries_at_once() {
    let (sim, app) = alice(world_a(100, [Response::http(503)], Response::Ok));
    let job = running_job(&app);
    sim.advance_secs(5);
    job.resume().unwrap();
    assert_eq!(state(&job), JobState::Queued);
    sim.advance_secs(0);
    assert_eq!(state(&job), JobState::Transferring);
}

// ============================================================ T12, T25, T26, D4

#[test]
fn t12_d4_fourteen_days_without_progress_is_error_at_exactly_1209600_seconds() {
    let (sim, app) = alice(world_a(100, [], Response::http(500)));
    sim.advance_secs(3);
    let job = running_job(&app);
    sim.advance_secs(0); // the first transient error happens at t=3
    let first = SimTime::from_secs(3);
    assert_eq!(state(&job), JobState::TransientError);
    sim.run_until(first + SimDuration::from_millis(1_209_600_000 - 1));
    assert_eq!(state(&job), JobState::TransientError);
    sim.run_until(first + SimDuration::from_secs(1_209_600));
    assert_eq!(state(&job), JobState::Error);
    let at = sim.trace().iter().rev().find_map(|e| match e.kind {
        TraceKind::State {
            to: JobState::Error,
            rule,
            ..
        } => Some((e.time, rule)),
        _ => None,
    });
    assert_eq!(
        at,
        Some((first + SimDuration::from_secs(1_209_600), Rule::T12))
    );
    // D4: the ERROR keeps the last transient error's context and code.
    assert_eq!(
        err_code(&job),
        Ok((ErrorContext::RemoteFile, HResult::http(500)))
    );
    // D6: the first attempt after Resume from SUSPENDED does not count; 2,015 timer retries failed
    // (600 s apart); at 1,209,600 s the deadline wins over the 2,016th retry (no retry at the deadline).
    assert_eq!(job.get_error_count(), Ok(2015));
}

#[test]
fn d4_progress_resets_the_no_progress_clock() {
    // Every attempt moves 1000 bytes then fails: progress each time, so the short timeout never fires.
    let world = world_a(10_000, [], Response::http(503).after_bytes(1000));
    let (sim, app) = alice(world);
    let job = running_job(&app);
    job.set_minimum_retry_delay(60).unwrap();
    job.set_no_progress_timeout(100).unwrap();
    sim.advance_secs(60 * 9 + 5);
    assert_eq!(job.get_progress().unwrap().bytes_transferred, 10_000);
    assert_eq!(state(&job), JobState::Transferred);
}

#[test]
fn d4_without_progress_the_short_timeout_fires_between_retries() {
    let (sim, app) = alice(world_a(100, [], Response::http(503)));
    let job = running_job(&app);
    job.set_minimum_retry_delay(60).unwrap();
    job.set_no_progress_timeout(100).unwrap();
    sim.advance_secs(0); // first transient error at 0
    sim.advance_secs(99);
    assert_eq!(state(&job), JobState::TransientError);
    sim.advance_secs(1);
    assert_eq!(state(&job), JobState::Error);
    assert_eq!(job.get_error_count(), Ok(1), "one failed retry at t=60");
}

#[test]
fn t26_d4_no_progress_timeout_zero_turns_the_first_500_into_error_at_once() {
    let (sim, app) = alice(world_a(100, [Response::http(500)], Response::Ok));
    let job = app.create_job("j", JobType::Download).unwrap();
    job.add_file(A, LA).unwrap();
    job.set_no_progress_timeout(0).unwrap();
    job.resume().unwrap();
    sim.advance_secs(0);
    assert_eq!(state(&job), JobState::Error);
    assert_eq!(
        err_code(&job),
        Ok((ErrorContext::RemoteFile, HResult::http(500)))
    );
    assert!(rules(&sim, &job).contains(&"CONNECTING->ERROR T26".to_string()));
}

#[test]
fn d4_lowering_the_timeout_to_zero_in_transient_error_gives_error_at_once() {
    let (sim, app) = alice(world_a(100, [Response::http(503)], Response::Ok));
    let job = running_job(&app);
    sim.advance_secs(30);
    assert_eq!(state(&job), JobState::TransientError);
    job.set_no_progress_timeout(0).unwrap();
    assert_eq!(
        state(&job),
        JobState::Error,
        "at the current instant, without advancing"
    );
    assert_eq!(
        err_code(&job),
        Ok((ErrorContext::RemoteFile, HResult::http(503)))
    );
    assert_eq!(job.get_times().unwrap().modification_time, secs(30));
}

#[test]
fn d4_lowering_the_timeout_below_the_elapsed_time_gives_error_at_once_but_not_above() {
    let (sim, app) = alice(world_a(100, [Response::http(503)], Response::Ok));
    let job = running_job(&app);
    sim.advance_secs(100);
    job.set_no_progress_timeout(200).unwrap();
    assert_eq!(state(&job), JobState::TransientError);
    sim.advance_secs(99);
    assert_eq!(state(&job), JobState::TransientError);
    sim.advance_secs(1);
    assert_eq!(
        state(&job),
        JobState::Error,
        "deadline moved to first error + 200 s"
    );
    let (sim, app) = alice(world_a(100, [Response::http(503)], Response::Ok));
    let job = running_job(&app);
    sim.advance_secs(100);
    job.set_no_progress_timeout(100).unwrap();
    assert_eq!(state(&job), JobState::Error);
}

#[test]
fn d4_setting_timeout_zero_during_a_healthy_transfer_does_not_fail_it() {
    let (sim, app) = alice(World::new().remote(A, Remote::sized(3_000_000)));
    let job = running_job(&app);
    sim.advance_secs(1);
    assert_eq!(state(&job), JobState::Transferring);
    job.set_no_progress_timeout(0).unwrap();
    assert_eq!(state(&job), JobState::Transferring);
    sim.advance_secs(5);
    assert_eq!(state(&job), JobState::Transferred);
}

#[test]
fn t25_retry_delay_larger_than_the_timeout_means_error_instead_of_retry() {
    let (sim, app) = alice(world_a(100, [Response::http(503)], Response::Ok));
    let job = app.create_job("j", JobType::Download).unwrap();
    job.add_file(A, LA).unwrap();
    job.set_no_progress_timeout(60).unwrap();
    job.set_minimum_retry_delay(61).unwrap();
    job.resume().unwrap();
    sim.advance_secs(0);
    assert_eq!(state(&job), JobState::Error);
    assert!(rules(&sim, &job).contains(&"CONNECTING->ERROR T25".to_string()));
}

// ============================================================ T14

#[test]
fn t14_resume_in_error_requeues_and_the_fixed_server_succeeds() {
    let (sim, app) = alice(world_a(100, [Response::http(404)], Response::Ok));
    let job = running_job(&app);
    sim.advance_secs(0);
    assert_eq!(state(&job), JobState::Error);
    sim.advance_secs(3600);
    assert_eq!(
        state(&job),
        JobState::Error,
        "BITS does not retry ERROR on its own"
    );
    job.resume().unwrap();
    assert_eq!(state(&job), JobState::Queued);
    sim.advance_secs(1);
    assert_eq!(state(&job), JobState::Transferred);
    assert!(rules(&sim, &job).contains(&"ERROR->QUEUED T14".to_string()));
}

// ============================================================ D5

#[test]
fn d5_default_classification_of_http_statuses() {
    for (status, expected) in [
        (404, JobState::Error),
        (401, JobState::Error),
        (407, JobState::Error),
        (410, JobState::Error),
        (501, JobState::Error),
        (505, JobState::Error),
        (408, JobState::TransientError),
        (409, JobState::TransientError),
        (500, JobState::TransientError),
        (503, JobState::TransientError),
        (504, JobState::TransientError),
    ] {
        let (sim, app) = alice(world_a(100, [Response::http(status)], Response::Ok));
        let job = running_job(&app);
        sim.advance_secs(0);
        assert_eq!(state(&job), expected, "HTTP {status}");
        assert_eq!(
            err_code(&job).unwrap().1.code(),
            0x8019_0000 + u32::from(status)
        );
    }
}

#[test]
fn d5_classification_is_overridable_per_world() {
    let world = world_a(100, [Response::http(503)], Response::Ok)
        .classify_as(HResult::http(503), Class::Fatal);
    let (sim, app) = alice(world);
    let job = running_job(&app);
    sim.advance_secs(0);
    assert_eq!(state(&job), JobState::Error);
}

#[test]
fn missing_file_size_is_fatal_bg_e_missing_file_size() {
    let (sim, app) = alice(World::new().remote(A, Remote::default()));
    let job = running_job(&app);
    sim.advance_secs(0);
    assert_eq!(state(&job), JobState::Error);
    assert_eq!(
        err_code(&job),
        Ok((ErrorContext::RemoteFile, HResult::BG_E_MISSING_FILE_SIZE))
    );
}

#[test]
fn upload_without_local_file_is_error_local_file_not_found() {
    let (sim, app) = alice(World::new().remote(A, Remote::default()));
    let job = app.create_job("up", JobType::Upload).unwrap();
    job.add_file(A, "C:\\up\\missing.bin").unwrap();
    job.resume().unwrap();
    sim.advance_secs(0);
    assert_eq!(state(&job), JobState::Error);
    assert_eq!(
        err_code(&job),
        Ok((ErrorContext::LocalFile, HResult::from_u32(0x8007_0002)))
    );
    assert_eq!(job.get_error().unwrap().get_file().unwrap().index(), 0);
}

#[test]
fn a_changed_remote_size_restarts_the_file_from_zero() {
    let (sim, app) = alice(world_a(4_000_000, [], Response::Ok));
    let job = running_job(&app);
    sim.advance_secs(1);
    job.suspend().unwrap();
    assert_eq!(job.get_progress().unwrap().bytes_transferred, 1_000_000);
    sim.set_remote(A, Remote::sized(2_000_000));
    job.resume().unwrap();
    sim.advance_secs(0);
    assert_eq!(job.get_progress().unwrap().bytes_transferred, 0);
    assert_eq!(job.get_progress().unwrap().bytes_total, 2_000_000);
}

// ============================================================ T18, T19

#[test]
fn t18_network_loss_is_transient_without_count_or_retry_timer() {
    let (sim, app) = alice(World::new().remote(A, Remote::sized(5_000_000)));
    let job = running_job(&app);
    let queued = running_job(&app);
    sim.advance_secs(1);
    assert_eq!(
        state(&queued),
        JobState::Queued,
        "one background job at a time"
    );
    sim.set_network(Network::Down);
    for j in [&job, &queued] {
        assert_eq!(state(j), JobState::TransientError);
        assert_eq!(
            err_code(j),
            Ok((
                ErrorContext::GeneralTransport,
                HResult::BG_E_NETWORK_DISCONNECTED
            ))
        );
        assert_eq!(j.get_error_count(), Ok(0));
    }
    sim.advance_secs(3600);
    assert_eq!(
        state(&job),
        JobState::TransientError,
        "no retry while disconnected"
    );
    assert_eq!(job.get_progress().unwrap().bytes_transferred, 1_000_000);
}

#[test]
fn t19_network_back_requeues_every_transient_error_job_whatever_its_code() {
    let world = World::new()
        .remote(A, Remote::sized(100).with_responses([Response::http(503)]))
        .remote(B, Remote::sized(100));
    let (sim, app) = alice(world);
    let j503 = job_with(&app, &[(A, LA)]);
    sim.advance_secs(0);
    assert_eq!(err_code(&j503).unwrap().1, HResult::http(503));
    sim.set_network(Network::Down);
    let jb = job_with(&app, &[(B, LB)]);
    sim.advance_secs(0);
    assert_eq!(
        state(&jb),
        JobState::TransientError,
        "queued while down (T18)"
    );
    sim.set_network(Network::Up);
    assert_eq!(state(&j503), JobState::Queued);
    assert_eq!(state(&jb), JobState::Queued);
    assert!(rules(&sim, &j503).contains(&"TRANSIENT_ERROR->QUEUED T19".to_string()));
    sim.advance_secs(1);
    assert_eq!(
        (state(&j503), state(&jb)),
        (JobState::Transferred, JobState::Transferred)
    );
}

// ============================================================ T20, D10

#[test]
fn t20_d10_logoff_requeues_and_transfers_resume_at_next_logon() {
    let sim = Sim::new(World::new().remote(A, Remote::sized(3_000_000)));
    let alice = sim.user("alice");
    let app = sim.connect("app", alice).unwrap();
    let job = running_job(&app);
    sim.advance_secs(1);
    sim.logoff(alice);
    assert_eq!(state(&job), JobState::Queued);
    assert!(rules(&sim, &job).contains(&"TRANSFERRING->QUEUED T20".to_string()));
    sim.advance_secs(100);
    assert_eq!(state(&job), JobState::Queued);
    assert_eq!(job.get_progress().unwrap().bytes_transferred, 1_000_000);
    sim.logon(alice);
    sim.advance_secs(2);
    assert_eq!(state(&job), JobState::Transferred);
}

#[test]
fn d10_jobs_of_a_logged_off_owner_wait_in_queued() {
    let sim = Sim::new(World::new().remote(A, Remote::sized(10)));
    let bob = sim.add_user("bob", false, false);
    let app = sim.connect("app", bob).unwrap();
    let job = running_job(&app);
    sim.advance_secs(60);
    assert_eq!(state(&job), JobState::Queued);
    sim.logon(bob);
    sim.advance_secs(1);
    assert_eq!(state(&job), JobState::Transferred);
}

// ============================================================ D12 (scheduling)

#[test]
fn d12_background_jobs_one_at_a_time_by_priority_then_fifo() {
    let world = World::new().remote(A, Remote::sized(1_000_000));
    let (sim, app) = alice(world);
    let make = |p: Priority| {
        let j = app.create_job("j", JobType::Download).unwrap();
        j.add_file(A, LA).unwrap();
        j.set_priority(p).unwrap();
        j.resume().unwrap();
        j
    };
    let low = make(Priority::Low);
    let normal1 = make(Priority::Normal);
    let normal2 = make(Priority::Normal);
    let high = make(Priority::High);
    let order = |sim: &Sim| {
        let done: Vec<(SimTime, JobId)> = sim
            .trace()
            .iter()
            .filter_map(|e| match e.kind {
                TraceKind::State {
                    job,
                    to: JobState::Transferred,
                    ..
                } => Some((e.time, job)),
                _ => None,
            })
            .collect();
        done
    };
    sim.advance_secs(0);
    assert_eq!(state(&high), JobState::Transferring);
    assert_eq!(
        [state(&low), state(&normal1), state(&normal2)],
        [JobState::Queued; 3]
    );
    sim.advance_secs(10);
    let ids: Vec<JobId> = order(&sim).into_iter().map(|(_, j)| j).collect();
    assert_eq!(ids, [high.id(), normal1.id(), normal2.id(), low.id()]);
    let times: Vec<SimTime> = order(&sim).into_iter().map(|(t, _)| t).collect();
    assert_eq!(
        times,
        [secs(1), secs(2), secs(3), secs(4)],
        "one at a time, full bandwidth each"
    );
}

#[test]
fn d12_foreground_jobs_run_together_sharing_bandwidth_beside_one_background_job() {
    let world = World::new().remote(A, Remote::sized(1_000_000));
    let (sim, app) = alice(world);
    let fg: Vec<Job> = (0..2)
        .map(|_| {
            let j = app.create_job("fg", JobType::Download).unwrap();
            j.add_file(A, LA).unwrap();
            j.set_priority(Priority::Foreground).unwrap();
            j.resume().unwrap();
            j
        })
        .collect();
    let bg = running_job(&app);
    sim.advance_secs(1);
    for j in fg.iter().chain([&bg]) {
        assert_eq!(state(j), JobState::Transferring);
        assert_eq!(j.get_progress().unwrap().bytes_transferred, 333_333);
    }
    sim.advance_secs(3);
    for j in fg.iter().chain([&bg]) {
        assert_eq!(state(j), JobState::Transferred);
    }
}

#[test]
fn t7_d12_higher_priority_preempts_and_equal_priority_rotates_after_the_time_slice() {
    let world = World::new().remote(A, Remote::sized(1_000_000_000));
    let (sim, app) = alice(world);
    let first = running_job(&app);
    let second = running_job(&app);
    sim.advance_secs(599);
    assert_eq!(
        (state(&first), state(&second)),
        (JobState::Transferring, JobState::Queued)
    );
    sim.advance_secs(1);
    assert_eq!(
        (state(&first), state(&second)),
        (JobState::Queued, JobState::Transferring)
    );
    assert!(rules(&sim, &first).contains(&"TRANSFERRING->QUEUED T7".to_string()));
    assert_eq!(
        first.get_progress().unwrap().bytes_transferred,
        600_000_000,
        "progress kept"
    );
    let urgent = running_job(&app);
    urgent.set_priority(Priority::High).unwrap();
    sim.advance_secs(0);
    assert_eq!(
        (state(&second), state(&urgent)),
        (JobState::Queued, JobState::Transferring)
    );
}

// ============================================================ D11 (notifications)

#[test]
fn d11_transferred_and_error_notifications_honour_flags() {
    let world = World::new()
        .remote(A, Remote::sized(10))
        .remote(B, Remote::sized(10).with_responses([Response::http(404)]));
    let (sim, app) = alice(world);
    let ok = job_with(&app, &[(A, LA)]);
    let bad = job_with(&app, &[(B, LB)]);
    ok.set_notify_answer(HResult::S_OK).unwrap();
    bad.set_notify_answer(HResult::S_OK).unwrap();
    sim.advance_secs(1);
    let got: Vec<(NotifyEvent, JobId)> = app
        .take_notifications()
        .unwrap()
        .iter()
        .map(|d| (d.notification.event, d.notification.job))
        .collect();
    assert_eq!(
        got,
        [
            (NotifyEvent::JobTransferred, ok.id()),
            (NotifyEvent::JobError, bad.id())
        ]
    );
    assert!(app.take_notifications().unwrap().is_empty(), "taken once");
}

#[test]
fn d11_no_job_error_for_transient_error_and_modification_only_with_its_flag() {
    let (sim, app) = alice(world_a(10, [Response::http(503)], Response::Ok));
    let job = job_with(&app, &[(A, LA)]);
    job.set_notify_answer(HResult::S_OK).unwrap();
    sim.advance_secs(0);
    assert!(
        app.take_notifications().unwrap().is_empty(),
        "TRANSIENT_ERROR raises nothing with the default flags"
    );
    job.set_notify_flags(NotifyFlags::JOB_MODIFICATION | NotifyFlags::JOB_TRANSFERRED)
        .unwrap();
    job.set_description("x").unwrap();
    sim.advance_secs(601);
    let got: Vec<NotifyEvent> = app
        .take_notifications()
        .unwrap()
        .iter()
        .map(|d| d.notification.event)
        .collect();
    assert_eq!(got.first(), Some(&NotifyEvent::JobModification));
    assert_eq!(got.last(), Some(&NotifyEvent::JobTransferred));
    assert!(got[..got.len() - 1]
        .iter()
        .all(|e| *e == NotifyEvent::JobModification));
    job.set_notify_flags(NotifyFlags::DISABLE | NotifyFlags::JOB_MODIFICATION)
        .unwrap();
    job.set_description("y").unwrap();
    assert!(
        app.take_notifications().unwrap().is_empty(),
        "BG_NOTIFY_DISABLE silences everything"
    );
}

#[test]
fn d11_failing_callback_is_called_again_after_the_retry_delay_until_s_ok() {
    let (sim, app) = alice(World::new().remote(A, Remote::sized(10)));
    let job = job_with(&app, &[(A, LA)]);
    job.set_minimum_retry_delay(60).unwrap();
    let calls = std::rc::Rc::new(std::cell::Cell::new(0));
    let c = calls.clone();
    job.set_notify_interface(move |n: &Notification| {
        assert_eq!(n.event, NotifyEvent::JobTransferred);
        c.set(c.get() + 1);
        if c.get() < 3 {
            HResult::E_FAIL
        } else {
            HResult::S_OK
        }
    })
    .unwrap();
    sim.advance_secs(1);
    assert_eq!(calls.get(), 1);
    sim.advance_secs(59);
    assert_eq!(calls.get(), 1);
    sim.advance_secs(1);
    assert_eq!(calls.get(), 2);
    sim.advance_secs(600);
    assert_eq!(calls.get(), 3, "stops once it answers S_OK");
    let times: Vec<SimTime> = app
        .take_notifications()
        .unwrap()
        .iter()
        .map(|d| d.notification.time)
        .collect();
    assert_eq!(
        times,
        [
            SimTime::from_millis(1),
            SimTime::from_millis(60_001),
            SimTime::from_millis(120_001)
        ]
    );
}

#[test]
fn d11_registering_after_the_event_delivers_it() {
    let (sim, app) = alice(world_a(10, [Response::http(404)], Response::Ok));
    let job = job_with(&app, &[(A, LA)]);
    sim.advance_secs(0);
    assert_eq!(state(&job), JobState::Error);
    job.set_notify_answer(HResult::S_OK).unwrap();
    let got = app.take_notifications().unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].notification.event, NotifyEvent::JobError);
    assert_eq!(
        got[0].notification.error,
        Some((ErrorContext::RemoteFile, HResult::http(404)))
    );
}

#[test]
fn d11_last_registration_wins_and_an_exited_applications_registration_is_dropped() {
    let sim = Sim::new(World::new().remote(A, Remote::sized(10)));
    let u = sim.user("alice");
    let (first, second) = (
        sim.connect("first", u).unwrap(),
        sim.connect("second", u).unwrap(),
    );
    let job = running_job(&first);
    job.set_notify_answer(HResult::S_OK).unwrap();
    let job2 = second.get_job(job.id()).unwrap();
    job2.set_notify_answer(HResult::S_OK).unwrap();
    second.exit().unwrap();
    sim.advance_secs(1);
    assert_eq!(state(&job), JobState::Transferred);
    assert!(
        first.take_notifications().unwrap().is_empty(),
        "replaced by the second registration"
    );
    assert_eq!(
        job.get_notify_interface(),
        Ok(false),
        "dropped with its application"
    );
}

// ============================================================ D15

#[test]
fn d15_restart_keeps_jobs_and_error_records_requeues_in_flight_and_kills_handles() {
    let world = World::new()
        .remote(A, Remote::sized(5_000_000))
        .remote(B, Remote::sized(10).with_responses([Response::http(404)]));
    let sim = Sim::new(world);
    let u = sim.user("alice");
    let app = sim.connect("app", u).unwrap();
    let running = job_with(&app, &[(A, LA)]);
    running.set_priority(Priority::Foreground).unwrap();
    let failed = job_with(&app, &[(B, LB)]);
    failed.set_description("kept").unwrap();
    running.set_notify_answer(HResult::S_OK).unwrap();
    sim.advance_secs(1);
    let e = failed.get_error().unwrap();
    sim.restart_service();
    assert_eq!(running.get_state(), Err(HResult::RPC_E_DISCONNECTED));
    assert_eq!(e.get_error(), Err(HResult::RPC_E_DISCONNECTED));
    assert_eq!(
        app.get_job(running.id()).unwrap_err(),
        HResult::RPC_E_DISCONNECTED
    );
    let app = app.reconnect().unwrap();
    let running = app.get_job(running.id()).unwrap();
    let failed = app.get_job(failed.id()).unwrap();
    assert_eq!(state(&running), JobState::Queued);
    assert!(rules(&sim, &running).contains(&"TRANSFERRING->QUEUED D15".to_string()));
    assert_eq!(running.get_progress().unwrap().bytes_transferred, 1_000_000);
    assert_eq!(state(&failed), JobState::Error);
    assert_eq!(failed.get_description().unwrap(), "kept");
    assert_eq!(
        err_code(&failed),
        Ok((ErrorContext::RemoteFile, HResult::http(404)))
    );
    assert_eq!(
        running.get_notify_interface(),
        Ok(false),
        "callbacks do not persist"
    );
    sim.advance_secs(4);
    assert_eq!(state(&running), JobState::Transferred);
    assert!(app.take_notifications().unwrap().is_empty());
}

// ============================================================ time and determinism (D13)

#[test]
fn d13_run_until_idle_stops_at_the_last_event_and_reports_a_step_limit() {
    let (sim, app) = alice(world_a(10, [Response::http(503)], Response::Ok));
    let job = running_job(&app);
    sim.run_until_idle().unwrap();
    assert_eq!(state(&job), JobState::Transferred);
    assert_eq!(sim.now(), SimTime::from_millis(600_001));

    let (sim, app) = alice(world_a(10, [], Response::http(503)));
    let job = running_job(&app);
    job.set_minimum_retry_delay(5).unwrap();
    job.set_no_progress_timeout(u32::MAX).unwrap();
    let r = sim.with_service_mut(|s| s.run_until_idle(1000));
    let err = r.unwrap_err();
    assert_eq!(err.steps, 1000);
    assert!(err.to_string().contains("1000 events"));
    assert_eq!(
        sim.run_until_idle_within(SimDuration::from_secs(60)),
        Ok(false)
    );
}

/// One busy machine: three users, thirty jobs of every priority and type, scripted faults of every
/// kind, chaos, network flaps, logoffs, callbacks that fail and service restarts over two virtual
/// days. Returns the rendered trace and its event count.
fn busy_run() -> (String, usize) {
    let world = World::new()
        .bandwidth(200_000)
        .chaos(42, 0.2)
        .remote("https://a.test/big.bin", Remote::sized(5_000_000))
        .remote(
            "https://a.test/flaky.bin",
            Remote::sized(300_000).with_responses([
                Response::http(503),
                Response::win32(12029).after_bytes(100_000),
            ]),
        )
        .remote(
            "https://a.test/gone.bin",
            Remote::sized(10).with_responses([Response::http(404)]),
        )
        .remote("https://a.test/nosize.bin", Remote::default())
        .remote("https://a.test/empty.bin", Remote::sized(0))
        .remote(
            "https://a.test/down.bin",
            Remote::sized(50_000).otherwise(Response::http(500)),
        )
        .local("C:\\up\\report.bin", 120_000);
    let urls = [
        "https://a.test/big.bin",
        "https://a.test/flaky.bin",
        "https://a.test/gone.bin",
        "https://a.test/nosize.bin",
        "https://a.test/empty.bin",
        "https://a.test/down.bin",
        "https://nowhere.test/x.bin",
    ];
    let sim = Sim::new(world);
    let users = [sim.user("alice"), sim.user("bob"), sim.admin("root")];
    let connect_all = || -> Vec<Manager> {
        users
            .iter()
            .map(|&u| sim.connect("app", u).unwrap())
            .collect()
    };
    let mut apps = connect_all();
    let mut jobs = Vec::new();
    for i in 0..30usize {
        let job_type = match i % 7 {
            3 => JobType::Upload,
            5 => JobType::UploadReply,
            _ => JobType::Download,
        };
        let job = apps[i % 3]
            .create_job(&format!("job{i}"), job_type)
            .unwrap();
        let files = if job_type == JobType::Download {
            1 + i % 3
        } else {
            1
        };
        for f in 0..files {
            let local = if job_type == JobType::Download {
                format!("C:\\dl\\{i}_{f}.bin")
            } else {
                "C:\\up\\report.bin".into()
            };
            let _ = job.add_file(urls[(i + f) % urls.len()], &local);
        }
        let priorities = [
            Priority::Foreground,
            Priority::High,
            Priority::Normal,
            Priority::Low,
        ];
        let _ = job.set_priority(priorities[i % 4]);
        let _ = job.set_minimum_retry_delay([60, 600, 5][i % 3]);
        if i % 5 == 0 {
            let answer = if i % 10 == 0 {
                HResult::S_OK
            } else {
                HResult::E_FAIL
            };
            let _ = job.set_notify_answer(answer);
        }
        let _ = job.resume();
        jobs.push(job);
    }
    for round in 0..96u64 {
        sim.advance_secs(1800);
        match round % 12 {
            2 => sim.set_network(Network::Down),
            3 => sim.set_network(Network::Up),
            5 => sim.logoff(users[round as usize % 2]),
            6 => sim.logon(users[round as usize % 2]),
            8 => sim.set_remote("https://a.test/gone.bin", Remote::sized(10)),
            10 => {
                sim.restart_service();
                apps = connect_all();
                jobs = (0..30)
                    .map(|i| apps[i % 3].get_job(jobs[i].id()).unwrap_or(jobs[i].clone()))
                    .collect();
            }
            _ => {}
        }
        for (i, job) in jobs.iter().enumerate() {
            match job.get_state() {
                Ok(JobState::Error) if round % 4 == 0 => {
                    let _ = job.resume();
                }
                Ok(JobState::Transferred) => {
                    let _ = job.complete();
                }
                Ok(JobState::TransientError) if i % 6 == 0 => {
                    let _ = job.resume();
                }
                _ => {}
            }
        }
    }
    let trace = sim.trace();
    (
        trace.iter().map(|e| format!("{e}\n")).collect(),
        trace.len(),
    )
}

/// The crate's one determinism test (D13): the busy machine above, twice, through the facade; and
/// every shipped fixture, twice, through the scenario runner with traces on. Both give identical
/// output byte for byte. Nothing reads the host clock, no output follows hash-map order, and the
/// chaos generator is seeded from the world.
#[test]
fn d13_same_inputs_and_seed_give_the_same_trace_byte_for_byte() {
    let (a, n) = busy_run();
    let (b, _) = busy_run();
    assert_eq!(a.len(), b.len());
    assert!(a == b, "the traces of two identical busy runs differ");
    // The run was busy: many events, every kind of trouble.
    assert!(n > 2_000, "only {n} events");
    for needle in [
        "service restarted",
        "network down",
        "logged off",
        "BG_E_HTTP_ERROR_404",
        "BG_E_HTTP_ERROR_503",
        "BG_E_MISSING_FILE_SIZE",
        "-> TRANSFERRED",
        "-> ACKNOWLEDGED",
        "-> ERROR",
        "-> TRANSIENT_ERROR",
        "notified",
    ] {
        assert!(a.contains(needle), "the busy run has no {needle:?}");
    }

    let fixtures = json_files(&root().join("fixtures/scenarios"));
    assert!(fixtures.len() >= 74, "{} fixtures", fixtures.len());
    let opts = bitsim::scenario::RunOptions { trace: true };
    let one = bitsim::scenario::run_paths(&fixtures, &opts).trace_listing();
    let two = bitsim::scenario::run_paths(&fixtures, &opts).trace_listing();
    assert!(
        one.lines().count() > 1_000,
        "{} trace lines",
        one.lines().count()
    );
    assert!(
        one == two,
        "two runs of the fixture suite give different traces"
    );
}

#[test]
fn d12_equal_shares_finish_exactly_on_time() {
    // Three transfers share 1,000,000 B/s: each 1,000,000-byte file takes exactly 3 s.
    let (sim, app) = alice(World::new().remote(A, Remote::sized(1_000_000)));
    let jobs: Vec<Job> = (0..3)
        .map(|_| {
            let j = app.create_job("fg", JobType::Download).unwrap();
            j.add_file(A, LA).unwrap();
            j.set_priority(Priority::Foreground).unwrap();
            j.resume().unwrap();
            j
        })
        .collect();
    sim.advance(SimDuration::from_millis(2999));
    assert!(jobs.iter().all(|j| state(j) == JobState::Transferring));
    sim.advance(SimDuration::from_millis(1));
    assert!(jobs.iter().all(|j| state(j) == JobState::Transferred));
}

#[test]
fn a_server_length_equal_to_bg_size_unknown_is_a_missing_size_not_a_hang() {
    let (sim, app) = alice(
        World::new()
            .bandwidth(u64::MAX)
            .remote(A, Remote::sized(u64::MAX)),
    );
    let job = running_job(&app);
    sim.advance_secs(1);
    assert_eq!(state(&job), JobState::Error);
    assert_eq!(
        err_code(&job),
        Ok((ErrorContext::RemoteFile, HResult::BG_E_MISSING_FILE_SIZE))
    );
}

#[test]
fn d4_the_deadline_wins_over_a_retry_due_at_the_same_instant() {
    let (sim, app) = alice(world_a(100, [], Response::http(503)));
    let job = app.create_job("j", JobType::Download).unwrap();
    job.add_file(A, LA).unwrap();
    job.set_no_progress_timeout(600).unwrap(); // equal to the default retry delay
    job.resume().unwrap();
    sim.advance_secs(600);
    assert_eq!(state(&job), JobState::Error);
    assert_eq!(
        job.get_error_count(),
        Ok(0),
        "no retry attempt at the deadline"
    );
    assert_eq!(
        rules(&sim, &job).last().map(String::as_str),
        Some("TRANSIENT_ERROR->ERROR T12")
    );
}
