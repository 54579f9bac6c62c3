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

// ============================================================ T11, T13, D3

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

// ============================================================ T14

// ============================================================ D5

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

// ============================================================ one job, one script: the table
//
// Most engine rows have the same shape: a world, one job (created, file added, set up, resumed),
// then time moves (with a call now and then) and the job's state, error, error count and progress
// are checked. Each row below is one such case and names its rows of the spec; `run_case` runs them.

/// A call made on the job between advances.
#[derive(Clone)]
enum Call {
    Resume,
    Suspend,
    RetryDelay(u32),
    Timeout(u32),
    SetRemote(Remote),
}

/// Calls, then an optional advance, then checks.
#[derive(Default)]
struct Phase {
    calls: Vec<Call>,
    advance: Option<u64>,
    state: Option<JobState>,
    error: Option<Result<(ErrorContext, HResult), HResult>>,
    count: Option<u32>,
    bytes: Option<u64>,
    completed_at: Option<SimTime>,
    modified_at: Option<SimTime>,
    error_file: Option<u32>,
}

/// Advance `s` seconds, then check.
fn at(s: u64) -> Phase {
    Phase {
        advance: Some(s),
        ..Phase::default()
    }
}

/// Make `c`, then check without advancing.
fn call(c: Call) -> Phase {
    Phase {
        calls: vec![c],
        ..Phase::default()
    }
}

impl Phase {
    fn and(mut self, c: Call) -> Phase {
        self.calls.push(c);
        self
    }
    fn then_at(mut self, s: u64) -> Phase {
        self.advance = Some(s);
        self
    }
    fn state(mut self, s: JobState) -> Phase {
        self.state = Some(s);
        self
    }
    fn error(mut self, context: ErrorContext, code: HResult) -> Phase {
        self.error = Some(Ok((context, code)));
        self
    }
    fn no_error(mut self, why: HResult) -> Phase {
        self.error = Some(Err(why));
        self
    }
    fn count(mut self, n: u32) -> Phase {
        self.count = Some(n);
        self
    }
    fn bytes(mut self, n: u64) -> Phase {
        self.bytes = Some(n);
        self
    }
    fn completed_at(mut self, t: SimTime) -> Phase {
        self.completed_at = Some(t);
        self
    }
    fn modified_at(mut self, t: SimTime) -> Phase {
        self.modified_at = Some(t);
        self
    }
    fn error_file(mut self, index: u32) -> Phase {
        self.error_file = Some(index);
        self
    }
}

/// One row: a job with file `A` (as `local`) in `world`.
struct Case {
    name: String,
    world: World,
    job_type: JobType,
    local: &'static str,
    /// Calls made after AddFile, before Resume.
    setup: Vec<Call>,
    phases: Vec<Phase>,
    /// State changes (`"FROM->TO Rule"`) the trace must contain by the end.
    rules: Vec<&'static str>,
    /// The last state change of the job.
    last_rule: Option<&'static str>,
}

impl Case {
    fn new(name: impl Into<String>, world: World) -> Case {
        Case {
            name: name.into(),
            world,
            job_type: JobType::Download,
            local: LA,
            setup: Vec::new(),
            phases: Vec::new(),
            rules: Vec::new(),
            last_rule: None,
        }
    }
    fn job(mut self, job_type: JobType, local: &'static str) -> Case {
        self.job_type = job_type;
        self.local = local;
        self
    }
    fn setup(mut self, c: Call) -> Case {
        self.setup.push(c);
        self
    }
    fn phase(mut self, p: Phase) -> Case {
        self.phases.push(p);
        self
    }
    fn rule(mut self, r: &'static str) -> Case {
        self.rules.push(r);
        self
    }
    fn last_rule(mut self, r: &'static str) -> Case {
        self.last_rule = Some(r);
        self
    }
}

fn make(job: &Job, c: &Call) -> Result<(), HResult> {
    match c {
        Call::Resume => job.resume().map(drop),
        Call::Suspend => job.suspend().map(drop),
        Call::RetryDelay(s) => job.set_minimum_retry_delay(*s),
        Call::Timeout(s) => job.set_no_progress_timeout(*s),
        Call::SetRemote(_) => Ok(()),
    }
}

fn run_case(case: Case) {
    let name = &case.name;
    let (sim, app) = alice(case.world);
    let job = app.create_job("job", case.job_type).unwrap();
    job.add_file(A, case.local).unwrap();
    for c in &case.setup {
        make(&job, c).unwrap_or_else(|e| panic!("{name}: setup: {e}"));
    }
    assert_eq!(job.resume(), Ok(HResult::S_OK), "{name}: Resume (T2)");
    for (i, p) in case.phases.iter().enumerate() {
        let at = format!("{name}, phase {i}");
        for c in &p.calls {
            if let Call::SetRemote(r) = c {
                sim.set_remote(A, r.clone());
            }
            make(&job, c).unwrap_or_else(|e| panic!("{at}: call: {e}"));
        }
        if let Some(s) = p.advance {
            sim.advance_secs(s);
        }
        if let Some(s) = p.state {
            assert_eq!(state(&job), s, "{at}: state");
        }
        if let Some(e) = p.error {
            assert_eq!(err_code(&job), e, "{at}: GetError");
        }
        if let Some(n) = p.count {
            assert_eq!(job.get_error_count(), Ok(n), "{at}: GetErrorCount (D6)");
        }
        if let Some(n) = p.bytes {
            let got = job.get_progress().unwrap().bytes_transferred;
            assert_eq!(got, n, "{at}: bytes transferred");
        }
        if let Some(t) = p.completed_at {
            let got = job.get_times().unwrap().transfer_completion_time;
            assert_eq!(got, Some(t), "{at}: TransferCompletionTime");
        }
        if let Some(t) = p.modified_at {
            let got = job.get_times().unwrap().modification_time;
            assert_eq!(got, t, "{at}: ModificationTime");
        }
        if let Some(f) = p.error_file {
            let file = job.get_error().unwrap().get_file().unwrap();
            assert_eq!(file.index(), f, "{at}: the error's file");
        }
    }
    let seen = rules(&sim, &job);
    for r in &case.rules {
        assert!(seen.iter().any(|s| s == r), "{name}: no {r} in {seen:?}");
    }
    if let Some(r) = case.last_rule {
        assert_eq!(
            seen.last().map(String::as_str),
            Some(r),
            "{name}: last rule"
        );
    }
}

fn table() -> Vec<Case> {
    use Call::*;
    use ErrorContext::{LocalFile, RemoteFile};
    use JobState::*;
    let once = |r: Response| world_a(100, [r], Response::Ok);
    let mut cases = vec![
        Case::new("T6: an unknown host is TRANSIENT_ERROR about the remote file", World::new())
            .phase(
                at(0)
                    .state(TransientError)
                    .error(RemoteFile, HResult::from_u32(0x8007_2EE7))
                    // D6: the first attempt after Resume from SUSPENDED does not count.
                    .count(0),
            )
            .rule("CONNECTING->TRANSIENT_ERROR T6"),
        Case::new(
            "T5, D1: entering TRANSFERRING drops the error record",
            world_a(5_000_000, [Response::http(503)], Response::Ok),
        )
        .phase(at(0).error(RemoteFile, HResult::http(503)))
        .phase(
            at(600)
                .state(Transferring)
                .no_error(HResult::BG_E_ERROR_INFORMATION_UNAVAILABLE),
        ),
        Case::new(
            "T9, D6: a mid-transfer transient failure counts and keeps the bytes",
            world_a(
                8192,
                [Response::win32(12030).after_bytes(4096)],
                Response::Ok,
            ),
        )
        .phase(
            at(1)
                .state(TransientError)
                .error(RemoteFile, HResult::from_u32(0x8007_2EFE))
                .count(1)
                .bytes(4096),
        )
        // The retry resumed from 4096: failed at 4.096 ms (rounded up to 5 ms), retried at
        // 600.005 s, 4096 more bytes: done at 600.010 s.
        .phase(
            at(600)
                .state(Transferred)
                .completed_at(SimTime::from_millis(600_010)),
        ),
        Case::new(
            "T10, D6: a fatal error from TRANSFERRING counts",
            world_a(8192, [Response::http(403).after_bytes(10)], Response::Ok),
        )
        .phase(at(1).state(Error).count(1))
        .rule("TRANSFERRING->ERROR T10"),
        Case::new(
            "T10, D6: a fatal error from CONNECTING does not count",
            world_a(8192, [Response::http(403)], Response::Ok),
        )
        .phase(at(1).state(Error).count(0))
        .rule("CONNECTING->ERROR T10"),
        Case::new(
            "D6: failed retries count and the count is never reset",
            world_a(100, [], Response::http(503)),
        )
        .phase(call(RetryDelay(60)))
        .phase(at(0).count(0))
        .phase(at(60).count(1)) // the timer retry failed
        .phase(call(Resume).then_at(0).count(2)) // T13: the Resume-in-TRANSIENT_ERROR retry failed
        .phase(call(Suspend).and(Resume).then_at(0).count(2)) // first attempt after SUSPENDED
        .phase(
            call(SetRemote(Remote::sized(100)))
                .then_at(61)
                .state(Transferred)
                .count(2), // never reset
        ),
        Case::new(
            "T11, D3: TRANSIENT_ERROR retries after the minimum retry delay",
            once(Response::http(503)),
        )
        .phase(at(0).state(TransientError))
        .phase(at(599).state(TransientError))
        .phase(at(1).state(Transferring))
        .rule("TRANSIENT_ERROR->QUEUED T11"),
        Case::new(
            "T11, D3: changing the delay while waiting moves the retry",
            once(Response::http(503)),
        )
        .phase(at(10))
        .phase(call(RetryDelay(30)).then_at(19).state(TransientError))
        .phase(at(1).state(Transferring)),
        Case::new(
            "T13, D3: Resume in TRANSIENT_ERROR retries at once",
            once(Response::http(503)),
        )
        .phase(at(5))
        .phase(call(Resume).state(Queued))
        .phase(at(0).state(Transferring)),
        // Every attempt moves 1000 bytes then fails: progress each time, so the short timeout never
        // fires.
        Case::new(
            "D4: progress resets the no-progress clock",
            world_a(10_000, [], Response::http(503).after_bytes(1000)),
        )
        .phase(call(RetryDelay(60)).and(Timeout(100)))
        .phase(at(60 * 9 + 5).bytes(10_000).state(Transferred)),
        Case::new(
            "D4: without progress the short timeout fires between retries",
            world_a(100, [], Response::http(503)),
        )
        .phase(call(RetryDelay(60)).and(Timeout(100)))
        .phase(at(0)) // the first transient error at 0
        .phase(at(99).state(TransientError))
        .phase(at(1).state(Error).count(1)), // one failed retry at t=60
        Case::new(
            "T26, D4: NoProgressTimeout 0 turns the first 500 into ERROR at once",
            once(Response::http(500)),
        )
        .setup(Timeout(0))
        .phase(at(0).state(Error).error(RemoteFile, HResult::http(500)))
        .rule("CONNECTING->ERROR T26"),
        Case::new(
            "D4: lowering the timeout to 0 in TRANSIENT_ERROR gives ERROR at the current instant",
            once(Response::http(503)),
        )
        .phase(at(30).state(TransientError))
        .phase(
            call(Timeout(0))
                .state(Error)
                .error(RemoteFile, HResult::http(503))
                .modified_at(secs(30)),
        ),
        Case::new(
            "D4: lowering the timeout above the elapsed time moves the deadline to first error + 200 s",
            once(Response::http(503)),
        )
        .phase(at(100))
        .phase(call(Timeout(200)).state(TransientError))
        .phase(at(99).state(TransientError))
        .phase(at(1).state(Error)),
        Case::new(
            "D4: lowering the timeout to the elapsed time gives ERROR at once",
            once(Response::http(503)),
        )
        .phase(at(100))
        .phase(call(Timeout(100)).state(Error)),
        Case::new(
            "D4: timeout 0 during a healthy transfer does not fail it",
            World::new().remote(A, Remote::sized(3_000_000)),
        )
        .phase(at(1).state(Transferring))
        .phase(call(Timeout(0)).state(Transferring))
        .phase(at(5).state(Transferred)),
        Case::new(
            "T25: a retry delay larger than the timeout means ERROR instead of a retry",
            once(Response::http(503)),
        )
        .setup(Timeout(60))
        .setup(RetryDelay(61))
        .phase(at(0).state(Error))
        .rule("CONNECTING->ERROR T25"),
        Case::new(
            "D4, T12: the deadline wins over a retry due at the same instant",
            world_a(100, [], Response::http(503)),
        )
        .setup(Timeout(600)) // equal to the default retry delay
        .phase(at(600).state(Error).count(0)) // no retry attempt at the deadline
        .last_rule("TRANSIENT_ERROR->ERROR T12"),
        Case::new(
            "T14: Resume in ERROR requeues (BITS does not retry ERROR on its own)",
            once(Response::http(404)),
        )
        .phase(at(0).state(Error))
        .phase(at(3600).state(Error))
        .phase(call(Resume).state(Queued))
        .phase(at(1).state(Transferred))
        .rule("ERROR->QUEUED T14"),
        Case::new(
            "D5: the classification is overridable per world",
            once(Response::http(503)).classify_as(HResult::http(503), Class::Fatal),
        )
        .phase(at(0).state(Error)),
        Case::new(
            "D5: a missing file size is fatal, BG_E_MISSING_FILE_SIZE",
            World::new().remote(A, Remote::default()),
        )
        .phase(
            at(0)
                .state(Error)
                .error(RemoteFile, HResult::BG_E_MISSING_FILE_SIZE),
        ),
        Case::new(
            "D5: a server length equal to BG_SIZE_UNKNOWN is a missing size, not a hang",
            World::new()
                .bandwidth(u64::MAX)
                .remote(A, Remote::sized(u64::MAX)),
        )
        .phase(
            at(1)
                .state(Error)
                .error(RemoteFile, HResult::BG_E_MISSING_FILE_SIZE),
        ),
        Case::new(
            "D5: an upload without its local file is ERROR, LOCAL_FILE, file not found",
            World::new().remote(A, Remote::default()),
        )
        .job(JobType::Upload, "C:\\up\\missing.bin")
        .phase(
            at(0)
                .state(Error)
                .error(LocalFile, HResult::from_u32(0x8007_0002))
                .error_file(0),
        ),
    ];
    // D5, the default classification of HTTP statuses: fatal ones give ERROR, transient ones
    // TRANSIENT_ERROR, both with 0x80190000 + status about the remote file.
    let fatal = [404, 401, 407, 410, 501, 505].map(|s| (s, Error));
    let transient = [408, 409, 500, 503, 504].map(|s| (s, TransientError));
    for (status, expected) in fatal.into_iter().chain(transient) {
        cases.push(
            Case::new(
                format!("D5: HTTP {status} gives {expected}"),
                once(Response::http(status)),
            )
            .phase(at(0).state(expected).error(
                RemoteFile,
                HResult::from_u32(0x8019_0000 + u32::from(status)),
            )),
        );
    }
    cases
}

#[test]
fn one_job_rows_t5_t6_t9_t10_t11_t12_t13_t14_t25_t26_and_d1_d3_d4_d5_d6() {
    let cases = table();
    assert_eq!(cases.len(), 34, "23 rows and 11 HTTP statuses");
    for case in cases {
        run_case(case);
    }
}

// ============================================================ the world, changed while running

#[test]
fn d5_t7_the_world_changes_through_explicit_service_methods() {
    let world = World::new()
        .remote(A, Remote::sized(1_000_000_000))
        .remote(B, Remote::sized(100).otherwise(Response::http(503)));
    let (sim, app) = alice(world);
    // T7 with a 60 s slice instead of the default 600 s (D12).
    sim.with_service_mut(|s| s.set_time_slice_secs(60));
    assert_eq!(sim.with_service(|s| s.world().time_slice()), 60);
    let first = running_job(&app);
    let second = running_job(&app);
    sim.advance_secs(60);
    assert_eq!(
        (state(&first), state(&second)),
        (JobState::Queued, JobState::Transferring)
    );
    first.cancel().unwrap();
    second.cancel().unwrap();

    // D5: from now on 503 is fatal; `None` restores the default.
    sim.with_service_mut(|s| s.set_class_override(HResult::http(503), Some(Class::Fatal)));
    let fatal = job_with(&app, &[(B, LB)]);
    sim.advance_secs(0);
    assert_eq!(state(&fatal), JobState::Error);
    sim.with_service_mut(|s| s.set_class_override(HResult::http(503), None));
    assert!(sim.with_service(|s| s.world().class_overrides().is_empty()));
    let transient = job_with(&app, &[(B, LB)]);
    sim.advance_secs(0);
    assert_eq!(state(&transient), JobState::TransientError);

    // An upload's local file appears (and the server answers).
    let up = app.create_job("up", JobType::Upload).unwrap();
    up.add_file("https://example.test/up", "C:\\up\\new.bin")
        .unwrap();
    sim.set_remote("https://example.test/up", Remote::default());
    sim.with_service_mut(|s| s.set_local("C:\\up\\new.bin", 10));
    assert_eq!(
        sim.with_service(|s| s.world().locals().len()),
        1,
        "one local file"
    );
    up.resume().unwrap();
    sim.advance_secs(1);
    assert_eq!(state(&up), JobState::Transferred);
}

// ============================================================ D88

/// D88: a machine built after a dropped one takes the dropped machine's job vector and trace
/// blocks; it must behave exactly as a fresh machine: the same job ids from 0, the same trace.
#[test]
fn d88_a_machine_after_a_dropped_one_behaves_as_a_fresh_one() {
    fn run() -> (Vec<JobId>, Vec<TraceEvent>) {
        let (sim, app) = alice(World::new().remote(A, Remote::sized(5_000)));
        let jobs: Vec<Job> = (0..3)
            .map(|i| job_with(&app, &[(A, &format!("C:\\dl\\{i}.bin"))]))
            .collect();
        sim.run_until_idle().unwrap();
        for job in &jobs {
            job.complete().unwrap();
        }
        let ids = jobs.iter().map(|j| j.id()).collect();
        (ids, sim.with_service(|s| s.trace().to_vec()))
    }
    let fresh = run();
    assert_eq!(
        fresh.0.iter().map(|j| j.index()).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    {
        // A larger machine (an administrator: no quota), dropped: its blocks are kept for the
        // next one.
        let sim = Sim::new(World::new().remote(A, Remote::sized(5_000)));
        let app = sim.connect("admin", sim.admin("root")).unwrap();
        for i in 0..2_000 {
            let job = app.create_job("big", JobType::Download).unwrap();
            job.add_file(A, &format!("C:\\dl\\big{i}.bin")).unwrap();
        }
        sim.run_until_idle().unwrap();
    }
    assert_eq!(run(), fresh);
}

// ============================================================ D91

#[test]
fn d91_a_retry_loop_is_not_activity_and_a_restart_starts_it_again() {
    // A job failing every 60 s with NoProgressTimeout above JobInactivityTimeout (1,000 s).
    let looping = |sim: &Sim, app: &Manager| {
        let job = app.create_job("looping", JobType::Download).unwrap();
        job.set_priority(Priority::Foreground).unwrap();
        job.set_minimum_retry_delay(60).unwrap();
        job.set_no_progress_timeout(5000).unwrap();
        job.add_file(A, LA).unwrap();
        job.resume().unwrap();
        sim.advance_secs(0);
        assert_eq!(state(&job), JobState::TransientError);
        job
    };
    let world = || world_a(10, [], Response::http(503)).inactivity_timeout(1000);

    // Without a restart: cancelled 1,000 s after the first transient error, although every retry
    // moved ModificationTime (the last one at 960 s).
    let (sim, app) = alice(world());
    let job = looping(&sim, &app);
    sim.advance_secs(999);
    assert_eq!(state(&job), JobState::TransientError);
    assert_eq!(
        job.get_times().unwrap().modification_time,
        SimTime::from_millis(960_000)
    );
    sim.advance_secs(1);
    assert_eq!(state(&job), JobState::Cancelled);

    // A restart at 500 s forgets the loop (not saved): T22 counts from ModificationTime (480 s)
    // until the next retry (540 s) begins a new loop, so the job is cancelled at 1,540 s.
    let (sim, app) = alice(world());
    let id = looping(&sim, &app).id();
    sim.advance_secs(500);
    sim.restart_service();
    let app = sim.connect("again", sim.user("alice")).unwrap();
    let job = app.get_job(id).unwrap();
    assert_eq!(state(&job), JobState::TransientError);
    sim.advance_secs(1039);
    assert_eq!(state(&job), JobState::TransientError);
    sim.advance_secs(1);
    assert_eq!(state(&job), JobState::Cancelled);
}

#[test]
fn d94_upload_reply_file_transferred_comes_with_the_reply_and_is_re_called() {
    let up = "https://example.test/app";
    let (sim, app) = alice(
        World::new()
            .remote(
                up,
                Remote::sized(0).with_reply(
                    Body::Bytes(b"id=7".to_vec()),
                    [],
                    [Response::win32(12030)],
                ),
            )
            .remote(B, Remote::sized(0))
            .local("C:\\up\\q.bin", 10),
    );
    let job = app.create_job("ask", JobType::UploadReply).unwrap();
    job.add_file(up, "C:\\up\\q.bin").unwrap();
    job.set_minimum_retry_delay(60).unwrap();
    job.set_notify_flags(0x11u32).unwrap();
    job.set_notify_answer_implementing(HResult::E_FAIL, 2)
        .unwrap();
    job.resume().unwrap();
    sim.advance_secs(1);
    // The upload is done and the reply failed: no FileTransferred yet.
    assert_eq!(state(&job), JobState::TransientError);
    assert!(app.take_notifications().unwrap().is_empty());
    sim.advance_secs(60);
    assert_eq!(state(&job), JobState::Transferred);
    sim.advance_secs(60);
    let seen: Vec<(NotifyEvent, Option<u32>, u64)> = app
        .take_notifications()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d.notification.event,
                d.notification.file,
                d.notification.time.as_millis() / 1000,
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (NotifyEvent::FileTransferred, Some(0), 60),
            (NotifyEvent::JobTransferred, None, 60),
            (NotifyEvent::FileTransferred, Some(0), 120),
            (NotifyEvent::JobTransferred, None, 120),
        ]
    );
    // A plain upload job never gets one.
    let put = app.create_job("put", JobType::Upload).unwrap();
    put.add_file(B, "C:\\up\\q.bin").unwrap();
    put.set_notify_flags(0x11u32).unwrap();
    put.set_notify_answer_implementing(HResult::S_OK, 2)
        .unwrap();
    put.resume().unwrap();
    sim.advance_secs(1);
    let events: Vec<NotifyEvent> = app
        .take_notifications()
        .unwrap()
        .iter()
        .filter(|d| d.notification.job == put.id())
        .map(|d| d.notification.event)
        .collect();
    assert_eq!(events, [NotifyEvent::JobTransferred]);
}
