//! The object model's synchronous rules, one test per transition row and decision, every state
//! reached through real calls (and the engine where a row needs a transfer outcome).

mod common;
use bitsim::*;
use common::*;

// ============================================================ T1 and the defaults of §10 item 1

#[test]
fn t1_create_job_is_suspended_with_every_documented_default() {
    let (sim, app) = alice(World::new());
    sim.advance_secs(7);
    let job = app.create_job("nightly", JobType::Download).unwrap();
    assert_eq!(state(&job), JobState::Suspended);
    assert_eq!(job.get_type(), Ok(JobType::Download));
    assert_eq!(job.get_display_name().unwrap(), "nightly");
    assert_eq!(job.get_description().unwrap(), "");
    assert_eq!(job.get_priority(), Ok(Priority::Normal));
    assert_eq!(job.get_notify_flags(), Ok(NotifyFlags(0x3)));
    assert_eq!(job.get_notify_interface(), Ok(false));
    assert_eq!(job.get_minimum_retry_delay(), Ok(600));
    assert_eq!(job.get_no_progress_timeout(), Ok(1_209_600));
    assert_eq!(job.get_error_count(), Ok(0));
    assert_eq!(
        job.get_error().unwrap_err(),
        HResult::BG_E_ERROR_INFORMATION_UNAVAILABLE
    );
    assert_eq!(
        job.get_progress(),
        Ok(JobProgress {
            bytes_total: 0,
            bytes_transferred: 0,
            files_total: 0,
            files_transferred: 0
        })
    );
    let p = job.get_proxy_settings().unwrap();
    assert_eq!(
        (p.usage, p.proxy_list, p.bypass_list),
        (ProxyUsage::Preconfig, None, None)
    );
    let t = job.get_times().unwrap();
    assert_eq!(
        (
            t.creation_time,
            t.modification_time,
            t.transfer_completion_time
        ),
        (secs(7), secs(7), None)
    );
    assert_eq!(job.enum_files().unwrap().len(), 0);
    assert_eq!(job.get_id(), Ok(job.id()));
}

#[test]
fn t1_job_ids_are_guids_and_get_owner_is_a_sid() {
    let (sim, app) = alice(World::new());
    let a = app.create_job("a", JobType::Download).unwrap();
    let b = app.create_job("b", JobType::Upload).unwrap();
    assert_ne!(a.id(), b.id());
    assert_eq!(JobId::from_guid(&a.id().guid()), Some(a.id()));
    let sid = a.get_owner().unwrap();
    assert!(sid.starts_with("S-1-5-21-"), "{sid}");
    let alice = sim.with_service(|s| s.user_by_sid(&sid)).unwrap();
    assert_eq!(
        sim.with_service(|s| s.user(alice).unwrap().name.clone()),
        "alice"
    );
}

// ============================================================ T2, T3, T28 (Resume)

#[test]
fn t2_suspended_resume_with_files_is_queued() {
    let (sim, app) = alice(World::new());
    let job = app.create_job("j", JobType::Download).unwrap();
    job.add_file(A, LA).unwrap();
    assert_eq!(job.resume(), Ok(HResult::S_OK));
    assert_eq!(state(&job), JobState::Queued);
    assert_eq!(rules(&sim, &job), ["SUSPENDED->QUEUED T2"]);
}

#[test]
fn t3_suspended_resume_without_files_is_empty_and_stays_suspended() {
    let (_sim, app) = alice(World::new());
    let job = app.create_job("j", JobType::Download).unwrap();
    assert_eq!(job.resume(), Err(HResult::BG_E_EMPTY));
    assert_eq!(state(&job), JobState::Suspended);
}

#[test]
fn t28_resume_in_queued_is_a_no_op_that_succeeds() {
    let (_sim, app) = alice(World::new());
    let job = running_job(&app);
    assert_eq!(job.resume(), Ok(HResult::S_OK));
    assert_eq!(state(&job), JobState::Queued);
}

// ============================================================ T15, T16, T17 (Suspend, Cancel, Complete)

#[test]
fn t15_suspend_from_queued_and_again_is_idempotent() {
    let (_sim, app) = alice(World::new());
    let job = running_job(&app);
    assert_eq!(job.suspend(), Ok(HResult::S_OK));
    assert_eq!(state(&job), JobState::Suspended);
    assert_eq!(job.suspend(), Ok(HResult::S_OK));
    assert_eq!(state(&job), JobState::Suspended);
}

#[test]
fn t16_cancel_then_every_mutator_is_invalid_state_but_getters_work() {
    let (_sim, app) = alice(World::new());
    let job = running_job(&app);
    assert_eq!(job.cancel(), Ok(HResult::S_OK));
    assert_eq!(state(&job), JobState::Cancelled);
    let invalid = Err(HResult::BG_E_INVALID_STATE);
    assert_eq!(job.cancel(), invalid);
    assert_eq!(job.complete(), invalid);
    assert_eq!(job.resume(), invalid);
    assert_eq!(job.suspend(), invalid);
    assert_eq!(job.add_file(B, LB), Err(HResult::BG_E_INVALID_STATE));
    assert_eq!(job.set_display_name("x"), Err(HResult::BG_E_INVALID_STATE));
    assert_eq!(job.set_description("x"), Err(HResult::BG_E_INVALID_STATE));
    assert_eq!(
        job.set_priority(Priority::High),
        Err(HResult::BG_E_INVALID_STATE)
    );
    assert_eq!(job.set_notify_flags(1u32), Err(HResult::BG_E_INVALID_STATE));
    assert_eq!(
        job.clear_notify_interface(),
        Err(HResult::BG_E_INVALID_STATE)
    );
    assert_eq!(
        job.set_minimum_retry_delay(60),
        Err(HResult::BG_E_INVALID_STATE)
    );
    assert_eq!(
        job.set_no_progress_timeout(60),
        Err(HResult::BG_E_INVALID_STATE)
    );
    assert_eq!(job.take_ownership(), Err(HResult::BG_E_INVALID_STATE));
    assert_eq!(job.get_display_name().unwrap(), "job");
    assert_eq!(job.get_progress().unwrap().files_total, 1);
}

#[test]
fn t17a_d7_download_complete_before_transfer_is_partial_and_acknowledged() {
    let (_sim, app) = alice(World::new());
    let job = app.create_job("j", JobType::Download).unwrap();
    job.add_file(A, LA).unwrap();
    assert_eq!(job.complete(), Ok(HResult::BG_S_PARTIAL_COMPLETE));
    assert_eq!(state(&job), JobState::Acknowledged);
    assert!(
        !job.enum_files().unwrap()[0]
            .get_progress()
            .unwrap()
            .completed
    );
    assert_eq!(job.complete(), Err(HResult::BG_E_INVALID_STATE));
}

#[test]
fn t17a_d7_download_complete_mid_job_keeps_only_finished_files() {
    let (sim, app) = alice(
        World::new()
            .remote(A, Remote::sized(1000))
            .remote(B, Remote::sized(1_000_000)),
    );
    let job = app.create_job("j", JobType::Download).unwrap();
    job.add_file_set(&[(A, LA), (B, LB)]).unwrap();
    job.resume().unwrap();
    sim.advance(SimDuration::from_millis(500));
    assert_eq!(state(&job), JobState::Transferring);
    assert_eq!(job.complete(), Ok(HResult::BG_S_PARTIAL_COMPLETE));
    let files = job.enum_files().unwrap();
    assert!(files[0].get_progress().unwrap().completed);
    assert!(!files[1].get_progress().unwrap().completed);
}

#[test]
fn t17a_d7_download_complete_after_transferred_is_s_ok() {
    let (sim, app) = alice(World::new().remote(A, Remote::sized(10)));
    let job = running_job(&app);
    sim.advance_secs(1);
    assert_eq!(state(&job), JobState::Transferred);
    assert_eq!(job.complete(), Ok(HResult::S_OK));
    assert_eq!(state(&job), JobState::Acknowledged);
    let p = job.enum_files().unwrap()[0].get_progress().unwrap();
    assert_eq!(
        (p.bytes_total, p.bytes_transferred, p.completed),
        (10, 10, true)
    );
}

#[test]
fn t17c_d7_upload_complete_only_in_transferred() {
    let world = World::new()
        .remote("https://up.test/in", Remote::default())
        .local("C:\\up\\r.bin", 100);
    let (sim, app) = alice(world);
    let job = app.create_job("up", JobType::Upload).unwrap();
    assert_eq!(job.complete(), Err(HResult::BG_E_INVALID_STATE));
    job.add_file("https://up.test/in", "C:\\up\\r.bin").unwrap();
    job.resume().unwrap();
    assert_eq!(job.complete(), Err(HResult::BG_E_INVALID_STATE));
    assert_eq!(state(&job), JobState::Queued);
    sim.advance_secs(1);
    assert_eq!(state(&job), JobState::Transferred);
    assert!(
        job.enum_files().unwrap()[0]
            .get_progress()
            .unwrap()
            .completed,
        "§8.2: uploaded file is complete"
    );
    assert_eq!(job.complete(), Ok(HResult::S_OK));
    assert_eq!(state(&job), JobState::Acknowledged);
}

// ============================================================ upload-job rules (§7)

#[test]
fn upload_job_takes_exactly_one_file() {
    let (_sim, app) = alice(World::new());
    for ty in [JobType::Upload, JobType::UploadReply] {
        let job = app.create_job("up", ty).unwrap();
        assert_eq!(
            job.add_file_set(&[(A, LA), (B, LB)]),
            Err(HResult::BG_E_TOO_MANY_FILES)
        );
        assert_eq!(
            job.enum_files().unwrap().len(),
            0,
            "AddFileSet adds none on failure"
        );
        job.add_file(A, LA).unwrap();
        assert_eq!(job.add_file(B, LB), Err(HResult::BG_E_TOO_MANY_FILES));
        assert_eq!(job.enum_files().unwrap().len(), 1);
    }
}

#[test]
fn upload_reply_rejects_smb_remote() {
    let (_sim, app) = alice(World::new());
    let job = app.create_job("up", JobType::UploadReply).unwrap();
    assert_eq!(
        job.add_file("\\\\srv\\share\\f", LA),
        Err(HResult::E_INVALIDARG)
    );
    let job = app.create_job("up", JobType::Upload).unwrap();
    assert_eq!(job.add_file("\\\\srv\\share\\f", LA), Ok(()));
}

// ============================================================ D8

#[test]
fn d8_add_file_to_transferred_job_suspends_it_and_resume_fetches_the_new_file() {
    let (sim, app) = alice(
        World::new()
            .remote(A, Remote::sized(10))
            .remote(B, Remote::sized(20)),
    );
    let job = running_job(&app);
    sim.advance_secs(1);
    assert_eq!(state(&job), JobState::Transferred);
    job.add_file(B, LB).unwrap();
    assert_eq!(state(&job), JobState::Suspended);
    assert_eq!(job.get_progress().unwrap().bytes_total, BG_SIZE_UNKNOWN);
    job.resume().unwrap();
    sim.advance_secs(1);
    assert_eq!(state(&job), JobState::Transferred);
    assert_eq!(
        job.get_progress().unwrap(),
        JobProgress {
            bytes_total: 30,
            bytes_transferred: 30,
            files_total: 2,
            files_transferred: 2
        }
    );
    assert!(rules(&sim, &job).contains(&"TRANSFERRED->SUSPENDED D8".to_string()));
}

// ============================================================ AddFile validation (§2.2, §2.6)

#[test]
fn add_file_rejects_bad_names_with_e_invalidarg() {
    let (_sim, app) = alice(World::new());
    let job = app.create_job("j", JobType::Download).unwrap();
    for (r, l) in [
        ("ftp://x/y", LA),
        ("", LA),
        (A, "relative.bin"),
        (A, "C:\\dl\\*.bin"),
        (A, ""),
    ] {
        assert_eq!(job.add_file(r, l), Err(HResult::E_INVALIDARG), "{r} {l}");
    }
    assert_eq!(job.add_file_set(&[]), Err(HResult::E_INVALIDARG));
    assert_eq!(
        job.add_file_set(&[(A, LA), (A, "bad")]),
        Err(HResult::E_INVALIDARG)
    );
    assert_eq!(job.enum_files().unwrap().len(), 0);
}

/// Local names that name a folder and no file (D98).
const FOLDER_NAMES: [&str; 6] = [
    "C:\\dl\\",
    "C:/dl/",
    "C:\\dl\\..",
    "C:\\",
    "\\\\server\\share\\dl\\",
    "\\\\server\\share",
];

#[test]
fn d98_add_file_refuses_a_local_name_that_names_a_folder() {
    let (_sim, app) = alice(World::new());
    let job = app.create_job("j", JobType::Download).unwrap();
    let up = app.create_job("u", JobType::Upload).unwrap();
    for l in FOLDER_NAMES {
        assert_eq!(job.add_file(A, l), Err(HResult::E_INVALIDARG), "{l}");
        assert_eq!(up.add_file(A, l), Err(HResult::E_INVALIDARG), "{l}");
    }
    assert_eq!(job.enum_files().unwrap().len(), 0);
    assert_eq!(up.enum_files().unwrap().len(), 0);
    job.add_file(A, "C:\\dl\\a").unwrap();
    assert_eq!(job.enum_files().unwrap().len(), 1);
}

#[test]
fn d98_add_file_set_refuses_a_folder_name_and_adds_none_of_the_set() {
    let (_sim, app) = alice(World::new());
    let job = app.create_job("j", JobType::Download).unwrap();
    for l in FOLDER_NAMES {
        assert_eq!(
            job.add_file_set(&[(A, LA), (B, l)]),
            Err(HResult::E_INVALIDARG),
            "{l}"
        );
    }
    assert_eq!(job.enum_files().unwrap().len(), 0);
    job.add_file_set(&[(A, LA), (B, LB)]).unwrap();
    assert_eq!(job.enum_files().unwrap().len(), 2);
}

#[test]
fn d98_add_file_with_ranges_refuses_a_folder_name() {
    let (_sim, app) = alice(World::new());
    let job = app.create_job("j", JobType::Download).unwrap();
    let ranges = [(0, 10)];
    for l in FOLDER_NAMES {
        assert_eq!(
            job.add_file_with_ranges(A, l, &ranges),
            Err(HResult::E_INVALIDARG),
            "{l}"
        );
    }
    assert_eq!(job.enum_files().unwrap().len(), 0);
    job.add_file_with_ranges(A, LA, &ranges).unwrap();
    assert_eq!(job.enum_files().unwrap().len(), 1);
}

#[test]
fn d98_set_reply_file_name_refuses_a_folder_name_and_keeps_the_name() {
    let (_sim, app) = alice(World::new());
    let job = app.create_job("r", JobType::UploadReply).unwrap();
    job.set_reply_file_name(Some("C:\\replies\\r.txt")).unwrap();
    for l in FOLDER_NAMES {
        assert_eq!(
            job.set_reply_file_name(Some(l)),
            Err(HResult::E_INVALIDARG),
            "{l}"
        );
    }
    assert_eq!(
        job.get_reply_file_name().unwrap().as_deref(),
        Some("C:\\replies\\r.txt")
    );
}

#[test]
fn file_names_are_kept_exactly_as_given_and_size_is_unknown_until_known() {
    let (sim, app) = alice(World::new().remote(A, Remote::sized(4096)));
    let job = app.create_job("j", JobType::Download).unwrap();
    job.add_file(A, "C:\\Dl\\MixedCase.BIN").unwrap();
    let f = &job.enum_files().unwrap()[0];
    assert_eq!(f.get_remote_name().unwrap(), A);
    assert_eq!(f.get_local_name().unwrap(), "C:\\Dl\\MixedCase.BIN");
    assert_eq!(
        f.get_progress().unwrap(),
        FileProgress {
            bytes_total: BG_SIZE_UNKNOWN,
            bytes_transferred: 0,
            completed: false
        }
    );
    assert_eq!(job.get_progress().unwrap().bytes_total, BG_SIZE_UNKNOWN);
    job.resume().unwrap();
    sim.advance_secs(1);
    assert_eq!(f.get_progress().unwrap().bytes_total, 4096);
}

// ============================================================ D14 (limits and validation)

#[test]
fn d14_display_name_and_description_limits() {
    let (_sim, app) = alice(World::new());
    assert!(app.create_job(&"n".repeat(256), JobType::Download).is_ok());
    assert_eq!(
        app.create_job(&"n".repeat(257), JobType::Download)
            .unwrap_err(),
        HResult::E_INVALIDARG
    );
    let job = app.create_job("j", JobType::Download).unwrap();
    assert_eq!(
        job.set_display_name(&"n".repeat(257)),
        Err(HResult::E_INVALIDARG)
    );
    assert_eq!(job.get_display_name().unwrap(), "j");
    assert_eq!(job.set_description(&"d".repeat(1024)), Ok(()));
    assert_eq!(
        job.set_description(&"d".repeat(1025)),
        Err(HResult::E_INVALIDARG)
    );
    assert_eq!(job.get_description().unwrap().len(), 1024);
}

#[test]
fn d14_minimum_retry_delay_below_five_stores_five() {
    let (_sim, app) = alice(World::new());
    let job = app.create_job("j", JobType::Download).unwrap();
    assert_eq!(job.set_minimum_retry_delay(0), Ok(()));
    assert_eq!(job.get_minimum_retry_delay(), Ok(5));
    assert_eq!(job.set_minimum_retry_delay(4), Ok(()));
    assert_eq!(job.get_minimum_retry_delay(), Ok(5));
    assert_eq!(job.set_minimum_retry_delay(60), Ok(()));
    assert_eq!(job.get_minimum_retry_delay(), Ok(60));
}

#[test]
fn d14_unknown_enum_values_are_e_notimpl() {
    let (_sim, app) = alice(World::new());
    let job = app.create_job("j", JobType::Download).unwrap();
    assert_eq!(job.set_priority_raw(4), Err(HResult::E_NOTIMPL));
    assert_eq!(job.get_priority(), Ok(Priority::Normal));
    assert_eq!(job.set_priority_raw(0), Ok(()));
    assert_eq!(job.get_priority(), Ok(Priority::Foreground));
    assert_eq!(job.set_notify_flags(0x40u32), Err(HResult::E_NOTIMPL));
    assert_eq!(job.set_notify_flags(0x3Fu32), Ok(()));
    assert_eq!(job.get_notify_flags(), Ok(NotifyFlags(0x3F)));
}

#[test]
fn d14_quotas_for_non_admins_per_user_and_per_machine() {
    let sim = Sim::new(World::new());
    sim.with_service_mut(|s| {
        s.set_limits(Limits {
            max_jobs_per_machine: 5,
            max_jobs_per_user: 3,
            max_files_per_job: 2,
        })
    });
    let (a, b, root) = (sim.user("a"), sim.user("b"), sim.admin("root"));
    let (ma, mb, mr) = (
        sim.connect("a", a).unwrap(),
        sim.connect("b", b).unwrap(),
        sim.connect("r", root).unwrap(),
    );
    let jobs: Vec<Job> = (0..3)
        .map(|i| ma.create_job(&format!("a{i}"), JobType::Download).unwrap())
        .collect();
    assert_eq!(
        ma.create_job("a3", JobType::Download).unwrap_err(),
        HResult::BG_E_TOO_MANY_JOBS_PER_USER
    );
    mb.create_job("b0", JobType::Download).unwrap();
    mb.create_job("b1", JobType::Download).unwrap();
    assert_eq!(
        mb.create_job("b2", JobType::Download).unwrap_err(),
        HResult::BG_E_TOO_MANY_JOBS_PER_MACHINE
    );
    // Administrators are exempt (their jobs still count towards the machine total).
    let r0 = mr.create_job("r0", JobType::Download).unwrap();
    // A job in a final state no longer counts.
    jobs[0].cancel().unwrap();
    assert_eq!(
        ma.create_job("a4", JobType::Download).unwrap_err(),
        HResult::BG_E_TOO_MANY_JOBS_PER_MACHINE
    );
    r0.cancel().unwrap();
    assert!(ma.create_job("a4", JobType::Download).is_ok());
    // Files per job.
    let j = &jobs[1];
    j.add_file_set(&[(A, LA), (B, LB)]).unwrap();
    assert_eq!(
        j.add_file(A, "C:\\c"),
        Err(HResult::BG_E_TOO_MANY_FILES_IN_JOB)
    );
}

#[test]
fn d14_default_quota_values() {
    assert_eq!(
        Limits::default(),
        Limits {
            max_jobs_per_machine: 300,
            max_jobs_per_user: 60,
            max_files_per_job: 200
        }
    );
    let (_sim, app) = alice(World::new());
    for i in 0..60 {
        app.create_job(&i.to_string(), JobType::Download).unwrap();
    }
    assert_eq!(
        app.create_job("61st", JobType::Download).unwrap_err(),
        HResult::BG_E_TOO_MANY_JOBS_PER_USER
    );
    assert_eq!(HResult::BG_E_TOO_MANY_JOBS_PER_USER.code(), 0x8020_0049);
    assert_eq!(HResult::BG_E_TOO_MANY_JOBS_PER_MACHINE.code(), 0x8020_0050);
}

#[test]
fn d95_unelevated_admin_has_quotas_and_no_access_to_other_users_jobs() {
    let sim = Sim::new(World::new());
    sim.with_service_mut(|s| {
        s.set_limits(Limits {
            max_jobs_per_machine: 300,
            max_jobs_per_user: 2,
            max_files_per_job: 1,
        })
    });
    let alice = sim.user("alice");
    let plain = sim.add_user("plain", true, true);
    sim.with_service_mut(|s| s.set_user_token(plain, None, Some(false)));
    let boss = sim.admin("boss");
    let (ma, mp, mb) = (
        sim.connect("a", alice).unwrap(),
        sim.connect("p", plain).unwrap(),
        sim.connect("b", boss).unwrap(),
    );
    let aj = ma.create_job("a", JobType::Download).unwrap();
    // Unelevated: another user's job and all users' jobs are closed (D95, D9).
    assert_eq!(mp.get_job(aj.id()).unwrap_err(), HResult::E_ACCESSDENIED);
    assert_eq!(mp.enum_jobs(1).unwrap_err(), HResult::E_ACCESSDENIED);
    // Unelevated: the per-user and per-job quotas apply (D14 exempts administrators only elevated).
    let p0 = mp.create_job("p0", JobType::Download).unwrap();
    mp.create_job("p1", JobType::Download).unwrap();
    assert_eq!(
        mp.create_job("p2", JobType::Download).unwrap_err(),
        HResult::BG_E_TOO_MANY_JOBS_PER_USER
    );
    p0.add_file(A, LA).unwrap();
    assert_eq!(p0.add_file(B, LB), Err(HResult::BG_E_TOO_MANY_FILES_IN_JOB));
    // Elevated (the default for an administrator): exempt, and may see and take every job.
    for i in 0..3 {
        mb.create_job(&format!("b{i}"), JobType::Download).unwrap();
    }
    assert_eq!(mb.enum_jobs(1).unwrap().len(), 6);
    let bj = mb.get_job(aj.id()).unwrap();
    bj.take_ownership().unwrap();
    assert_eq!(bj.get_owner_elevation_state(), Ok(true));
    assert_eq!(mp.get_job(aj.id()).unwrap_err(), HResult::E_ACCESSDENIED);
}

#[test]
fn d96_lower_integrity_reads_a_job_but_every_change_is_access_denied() {
    let sim = Sim::new(World::new());
    let svc = sim.admin("svc");
    sim.with_service_mut(|s| s.set_user_token(svc, Some(0x4000), None));
    let root = sim.admin("root");
    let (ms, mr) = (
        sim.connect("s", svc).unwrap(),
        sim.connect("r", root).unwrap(),
    );
    let sj = ms.create_job("wu", JobType::Download).unwrap();
    sj.add_file(A, LA).unwrap();
    let rj = mr.get_job(sj.id()).unwrap();
    // Reading works (D9 lets the administrator see it).
    assert_eq!(rj.get_state(), Ok(JobState::Suspended));
    assert_eq!(rj.get_display_name().unwrap(), "wu");
    assert_eq!(rj.get_owner_integrity_level(), Ok(0x4000));
    let files = rj.enum_files().unwrap();
    assert_eq!(files[0].get_remote_name().unwrap(), A);
    assert_eq!(mr.enum_jobs(1).unwrap().len(), 1);
    // Every change is refused first, even where the state would refuse it too.
    let denied = Err(HResult::E_ACCESSDENIED);
    assert_eq!(rj.set_display_name("mine"), denied);
    assert_eq!(rj.set_priority(Priority::High), denied);
    assert_eq!(rj.add_file(B, LB), denied);
    assert_eq!(rj.resume(), Err(HResult::E_ACCESSDENIED));
    assert_eq!(rj.suspend(), Err(HResult::E_ACCESSDENIED));
    assert_eq!(rj.complete(), Err(HResult::E_ACCESSDENIED));
    assert_eq!(rj.cancel(), Err(HResult::E_ACCESSDENIED));
    assert_eq!(rj.take_ownership(), denied);
    assert_eq!(rj.set_notify_answer(HResult::S_OK), denied);
    assert_eq!(files[0].set_remote_name(B), denied);
    // Nothing changed, and the owner itself may change its job.
    assert_eq!(sj.get_display_name().unwrap(), "wu");
    assert_eq!(sj.get_priority(), Ok(Priority::Normal));
    assert_eq!(sj.get_progress().unwrap().files_total, 1);
    assert_eq!(sj.get_owner().unwrap(), rj.get_owner().unwrap());
    assert_eq!(sj.set_display_name("wu2"), Ok(()));
    assert_eq!(sj.cancel(), Ok(HResult::S_OK));
}

// ============================================================ D9 (ownership, visibility)

fn two_users() -> (Sim, Manager, Manager, Manager, UserId) {
    let sim = Sim::new(World::new());
    let (alice, bob, root) = (sim.user("alice"), sim.user("bob"), sim.admin("root"));
    let (a, b, r) = (
        sim.connect("a", alice).unwrap(),
        sim.connect("b", bob).unwrap(),
        sim.connect("r", root).unwrap(),
    );
    (sim, a, b, r, root)
}

#[test]
fn d9_another_users_job_is_access_denied_for_non_admins() {
    let (_sim, a, b, _r, _) = two_users();
    let job = a.create_job("alice's", JobType::Download).unwrap();
    assert_eq!(b.get_job(job.id()).unwrap_err(), HResult::E_ACCESSDENIED);
    // Even a handle obtained by other means is refused on every method.
    let stolen = b.get_job(job.id());
    assert!(stolen.is_err());
    assert_eq!(b.enum_jobs(0).unwrap().len(), 0);
    assert_eq!(
        b.enum_jobs(BG_JOB_ENUM_ALL_USERS).unwrap_err(),
        HResult::E_ACCESSDENIED
    );
    assert_eq!(a.enum_jobs(0).unwrap().len(), 1);
}

#[test]
fn d9_admin_sees_and_changes_other_users_jobs_without_owning_them() {
    let (sim, a, _b, r, root) = two_users();
    let job = a.create_job("alice's", JobType::Download).unwrap();
    let as_root = r.get_job(job.id()).unwrap();
    assert_eq!(
        r.enum_jobs(0).unwrap().len(),
        0,
        "own jobs only without the flag"
    );
    assert_eq!(r.enum_jobs(BG_JOB_ENUM_ALL_USERS).unwrap().len(), 1);
    as_root.set_description("checked by root").unwrap();
    as_root.add_file(A, LA).unwrap();
    assert_eq!(job.get_description().unwrap(), "checked by root");
    let owner = job.get_owner().unwrap();
    assert_ne!(sim.with_service(|s| s.user_by_sid(&owner)), Some(root));
}

#[test]
fn d9_take_ownership_needs_admin_unless_owner() {
    let (sim, a, b, r, root) = two_users();
    let job = a.create_job("alice's", JobType::Download).unwrap();
    assert_eq!(job.take_ownership(), Ok(()), "the owner may");
    assert_eq!(b.get_job(job.id()).unwrap_err(), HResult::E_ACCESSDENIED);
    let as_root = r.get_job(job.id()).unwrap();
    as_root.take_ownership().unwrap();
    let owner = job.get_owner();
    // Alice no longer owns it: her handle is now refused (D9 on every method).
    assert_eq!(owner, Err(HResult::E_ACCESSDENIED));
    let sid = as_root.get_owner().unwrap();
    assert_eq!(sim.with_service(|s| s.user_by_sid(&sid)), Some(root));
    assert_eq!(r.enum_jobs(0).unwrap().len(), 1);
}

#[test]
fn d9_final_jobs_vanish_from_get_job_and_enum_jobs() {
    let (_sim, a, _b, r, _) = two_users();
    let job = a.create_job("j", JobType::Download).unwrap();
    job.cancel().unwrap();
    assert_eq!(a.get_job(job.id()).unwrap_err(), HResult::BG_E_NOT_FOUND);
    assert_eq!(r.get_job(job.id()).unwrap_err(), HResult::BG_E_NOT_FOUND);
    assert_eq!(a.enum_jobs(0).unwrap().len(), 0);
    assert_eq!(r.enum_jobs(BG_JOB_ENUM_ALL_USERS).unwrap().len(), 0);
    assert_eq!(
        state(&job),
        JobState::Cancelled,
        "the held handle still reads"
    );
    assert_eq!(
        a.get_job(JobId::from_guid("{B175B175-0000-4000-8000-0000000000FF}").unwrap())
            .unwrap_err(),
        HResult::BG_E_NOT_FOUND
    );
}

// ============================================================ D1, D2 (error records and objects)

#[test]
fn d1_get_error_without_error_is_information_unavailable() {
    let (_sim, app) = alice(World::new());
    let job = running_job(&app);
    assert_eq!(
        job.get_error().unwrap_err(),
        HResult::BG_E_ERROR_INFORMATION_UNAVAILABLE
    );
    assert_eq!(job.add_file("ftp://bad", LA), Err(HResult::E_INVALIDARG));
    assert_eq!(
        job.get_error().unwrap_err(),
        HResult::BG_E_ERROR_INFORMATION_UNAVAILABLE,
        "a failing call creates none"
    );
}

#[test]
fn d1_error_record_survives_suspend_resume_and_final_states_then_transferring_drops_it() {
    let (sim, app) = alice(world_a(100, [Response::http(404)], Response::Ok));
    let job = running_job(&app);
    sim.advance_secs(0);
    assert_eq!(state(&job), JobState::Error);
    job.suspend().unwrap();
    assert_eq!(
        err_code(&job),
        Ok((ErrorContext::RemoteFile, HResult::http(404)))
    );
    job.resume().unwrap();
    assert_eq!(state(&job), JobState::Queued);
    assert_eq!(
        err_code(&job),
        Ok((ErrorContext::RemoteFile, HResult::http(404))),
        "kept while QUEUED"
    );
    sim.advance_secs(1);
    assert_eq!(state(&job), JobState::Transferred);
    assert_eq!(
        job.get_error().unwrap_err(),
        HResult::BG_E_ERROR_INFORMATION_UNAVAILABLE
    );

    let (sim, app) = alice(world_a(100, [Response::http(404)], Response::Ok));
    let job = running_job(&app);
    sim.advance_secs(0);
    job.cancel().unwrap();
    assert_eq!(
        err_code(&job),
        Ok((ErrorContext::RemoteFile, HResult::http(404))),
        "survives final states"
    );
}

#[test]
fn d2_error_object_dies_when_job_enters_transferring() {
    let (sim, app) = alice(world_a(100, [Response::http(503)], Response::Ok));
    let job = running_job(&app);
    sim.advance_secs(0);
    let e = job.get_error().unwrap();
    assert_eq!(
        e.get_error(),
        Ok((ErrorContext::RemoteFile, HResult::http(503)))
    );
    assert_eq!(e.get_protocol(), Ok("http"));
    assert_eq!(e.get_file().unwrap().get_remote_name().unwrap(), A);
    job.resume().unwrap(); // T13: retried at once
    assert_eq!(
        e.get_error(),
        Ok((ErrorContext::RemoteFile, HResult::http(503))),
        "still usable while QUEUED"
    );
    sim.advance_secs(0);
    let gone = Err(HResult::BG_E_ERROR_INFORMATION_UNAVAILABLE);
    assert_eq!(e.get_error(), gone);
    assert_eq!(
        e.get_protocol(),
        Err(HResult::BG_E_ERROR_INFORMATION_UNAVAILABLE)
    );
    assert_eq!(
        e.get_error_description(0x409),
        Err(HResult::BG_E_ERROR_INFORMATION_UNAVAILABLE)
    );
}

#[test]
fn d2_exited_application_handles_die_but_jobs_survive() {
    let sim = Sim::new(world_a(100, [Response::http(404)], Response::Ok));
    let u = sim.user("alice");
    let first = sim.connect("first", u).unwrap();
    let job = running_job(&first);
    sim.advance_secs(0);
    let e = job.get_error().unwrap();
    first.exit().unwrap();
    assert_eq!(e.get_error(), Err(HResult::RPC_E_DISCONNECTED));
    assert_eq!(job.get_state(), Err(HResult::RPC_E_DISCONNECTED));
    assert_eq!(
        first.create_job("x", JobType::Download).unwrap_err(),
        HResult::RPC_E_DISCONNECTED
    );
    let second = sim.connect("second", u).unwrap();
    let again = second.get_job(job.id()).unwrap();
    assert_eq!(state(&again), JobState::Error);
    assert_eq!(
        err_code(&again),
        Ok((ErrorContext::RemoteFile, HResult::http(404)))
    );
}

#[test]
fn error_object_file_and_protocol_not_available_for_network_loss() {
    let (sim, app) = alice(World::new().remote(A, Remote::sized(10_000_000)));
    let job = running_job(&app);
    sim.advance_secs(1);
    sim.set_network(Network::Down);
    let e = job.get_error().unwrap();
    assert_eq!(
        e.get_error(),
        Ok((
            ErrorContext::GeneralTransport,
            HResult::BG_E_NETWORK_DISCONNECTED
        ))
    );
    assert_eq!(e.get_file().unwrap_err(), HResult::BG_E_FILE_NOT_AVAILABLE);
    assert_eq!(e.get_protocol(), Err(HResult::BG_E_PROTOCOL_NOT_AVAILABLE));
}

#[test]
fn error_descriptions_and_languages() {
    let (sim, app) = alice(world_a(100, [Response::http(404)], Response::Ok));
    let text = app
        .get_error_description(HResult::BG_E_INVALID_STATE, 0x409)
        .unwrap();
    assert!(!text.is_empty() && !text.contains('\n'));
    assert!(app
        .get_error_description(HResult::http(418), 0x409)
        .unwrap()
        .contains("418"));
    assert_eq!(
        app.get_error_description(HResult::BG_E_EMPTY, 0x407)
            .unwrap_err(),
        HResult::from_u32(0x8007_0717)
    );
    let job = running_job(&app);
    sim.advance_secs(0);
    let e = job.get_error().unwrap();
    assert_eq!(
        e.get_error_description(0).unwrap_err(),
        HResult::E_INVALIDARG
    );
    assert_eq!(
        e.get_error_description(0x409),
        app.get_error_description(HResult::http(404), 0x409)
    );
    let ctx = e.get_error_context_description(0x409).unwrap();
    assert_eq!(
        Some(ctx.as_str()),
        HResult::BG_E_ERROR_CONTEXT_REMOTE_FILE.message()
    );
    assert_eq!(
        e.get_error_context_description(0x40C).unwrap_err(),
        HResult::ERROR_RESOURCE_LANG_NOT_FOUND
    );
}

// ============================================================ §8.2 ModificationTime on the virtual clock

#[test]
fn modification_time_moves_with_calls_on_the_virtual_clock() {
    let (sim, app) = alice(World::new());
    let job = app.create_job("j", JobType::Download).unwrap();
    let m = |job: &Job| job.get_times().unwrap().modification_time;
    sim.advance_secs(5);
    job.add_file(A, LA).unwrap();
    assert_eq!(m(&job), secs(5));
    sim.advance_secs(5);
    job.set_priority(Priority::High).unwrap();
    assert_eq!(m(&job), secs(10));
    sim.advance_secs(5);
    job.suspend().unwrap(); // no state change, still a modification (§2.0)
    assert_eq!(m(&job), secs(15));
    sim.advance_secs(5);
    let _ = job.get_state();
    assert_eq!(m(&job), secs(15), "getters do not modify");
    assert_eq!(job.get_times().unwrap().creation_time, secs(0));
}

// ============================================================ D11: what a callback may call

/// Everything a callback tried, as it saw it.
#[derive(Default, Debug)]
struct Seen {
    now: Option<SimTime>,
    in_callback: bool,
    get_state: Option<Result<JobState, HResult>>,
    get_error: Option<Result<(ErrorContext, HResult), HResult>>,
    resume: Option<Result<HResult, HResult>>,
    reconnect: Option<bool>,
    connect: Option<bool>,
}

#[test]
fn d19_a_callback_reads_at_the_delivery_time_and_its_calls_work() {
    use std::cell::RefCell;
    use std::rc::Rc;
    let (sim, app) = alice(world_a(10, [Response::http(404)], Response::Ok));
    let alice_id = sim.with_service(|s| s.user_id("alice")).unwrap();
    let job = app.create_job("job", JobType::Download).unwrap();
    job.add_file(A, LA).unwrap();
    job.set_notify_flags(NotifyFlags::JOB_ERROR).unwrap();
    let seen = Rc::new(RefCell::new(Seen::default()));
    let error = job.clone();
    let (s2, a2, out) = (sim.clone(), app.clone(), seen.clone());
    job.set_notify_interface(move |n: &Notification| {
        let mut o = out.borrow_mut();
        o.now = Some(s2.now());
        assert_eq!(o.now, Some(n.time), "Sim::now is the delivery time");
        o.in_callback = s2.in_callback();
        o.get_state = Some(error.get_state());
        o.get_error = Some(err_code(&error));
        o.resume = Some(error.resume());
        o.reconnect = Some(a2.reconnect().is_ok());
        o.connect = Some(s2.connect("other", alice_id).is_ok());
        HResult::S_OK
    })
    .unwrap();
    sim.advance_secs(7);
    job.resume().unwrap();
    sim.advance_secs(3);
    let o = seen.borrow();
    assert_eq!(o.now, Some(secs(7)));
    assert!(o.in_callback);
    assert!(!sim.in_callback());
    assert_eq!(o.get_state, Some(Ok(JobState::Error)), "404 is fatal (T10)");
    assert_eq!(
        o.get_error,
        Some(Ok((ErrorContext::RemoteFile, HResult::http(404))))
    );
    assert_eq!(
        o.resume,
        Some(Ok(HResult::S_OK)),
        "T14, from inside the callback"
    );
    assert_eq!((o.reconnect, o.connect), (Some(true), Some(true)));
    assert_eq!(
        state(&job),
        JobState::Transferred,
        "the retry the callback asked for went through"
    );
    let got = app.take_notifications().unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].notification.event, NotifyEvent::JobError);
    assert_eq!(got[0].notification.time, secs(7));
    assert_eq!(sim.now(), secs(10), "outside callbacks, now is the clock");
}

#[test]
fn handle_methods_inside_a_with_service_closure_fail_cleanly() {
    let (sim, app) = alice(world_a(10, [], Response::Ok));
    let job = running_job(&app);
    let inside = sim.with_service(|_| (job.get_state(), app.take_notifications().err()));
    const BUSY: HResult = HResult::RPC_E_CANTCALLOUT_ININPUTSYNCCALL;
    assert_eq!(
        inside,
        (Ok(JobState::Queued), Some(BUSY)),
        "reads share the service; writes need it"
    );
    let inside = sim.with_service_mut(|_| job.get_state());
    assert_eq!(inside, Err(BUSY));
}

#[test]
fn connect_refuses_a_user_of_another_sim_with_e_invalidarg() {
    let big = Sim::default();
    let _ = big.user("alice");
    let carol = big.user("carol");
    let small = Sim::default();
    assert_eq!(
        small.connect("app", carol).err(),
        Some(HResult::E_INVALIDARG)
    );
    let _ = small.user("dave");
    assert_eq!(
        small.connect("app", carol).err(),
        Some(HResult::E_INVALIDARG)
    );
    assert!(big.connect("app", carol).is_ok());
}

#[test]
fn exit_twice_and_take_notifications_after_exit_succeed() {
    let (sim, app) = alice(world_a(10, [], Response::Ok));
    let job = running_job(&app);
    job.set_notify_answer(HResult::S_OK).unwrap();
    sim.advance_secs(1);
    assert_eq!(app.exit(), Ok(()));
    assert_eq!(app.exit(), Ok(()), "exiting again is harmless");
    assert_eq!(job.get_state(), Err(HResult::RPC_E_DISCONNECTED), "D2");
    let got = app.take_notifications().unwrap();
    assert_eq!(
        got.iter().map(|d| d.notification.event).collect::<Vec<_>>(),
        [NotifyEvent::JobTransferred],
        "deliveries made before the exit can still be taken (D11)"
    );
}

#[test]
fn d11_a_callback_run_by_a_method_call_also_reads_the_clock() {
    use std::cell::Cell;
    use std::rc::Rc;
    let (sim, app) = alice(world_a(10, [], Response::Ok));
    let job = app.create_job("job", JobType::Download).unwrap();
    job.set_notify_flags(NotifyFlags::JOB_MODIFICATION).unwrap();
    let seen = Rc::new(Cell::new(None));
    let (s2, out) = (sim.clone(), seen.clone());
    job.set_notify_interface(move |n: &Notification| {
        out.set(Some((n.event, s2.now(), n.time)));
        HResult::S_OK
    })
    .unwrap();
    sim.advance_secs(42);
    // SetDescription changes a property: JobModification, delivered inside the call (§8.2, D11).
    job.set_description("x").unwrap();
    assert_eq!(
        seen.get(),
        Some((NotifyEvent::JobModification, secs(42), secs(42)))
    );
}
