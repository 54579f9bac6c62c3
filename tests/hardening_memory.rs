//! Big inputs, bounded memory, arithmetic at the edges: large worlds load in O(n log n), the callback
//! delivery log is bounded (D22), final jobs are released at a restart (D23), and progress sums
//! saturate near 2^64 (D21). Every test runs in debug and in release builds.

use bitsim::scenario::{run, RunOptions, Scenario};
use bitsim::*;
use std::fmt::Write as _;
use std::path::Path;

// ============================================================ big worlds load in O(n log n)

/// A scenario with `users` users and `remotes` remotes whose last user runs one job to the end.
fn big_world(users: usize, remotes: usize) -> String {
    let mut s = String::from(r#"{"name":"big","description":"big world","world":{"users":{"#);
    for i in 0..users {
        let sep = if i == 0 { "" } else { "," };
        write!(s, r#"{sep}"user{i:06}":{{}}"#).unwrap();
    }
    s.push_str(r#"},"remotes":{"#);
    for i in 0..remotes {
        let sep = if i == 0 { "" } else { "," };
        write!(
            s,
            r#"{sep}"https://cdn.test/{i:06}.bin":{{"size":{}}}"#,
            1000 + i
        )
        .unwrap();
    }
    let last_user = format!("user{:06}", users - 1);
    let last_url = format!("https://cdn.test/{:06}.bin", remotes - 1);
    write!(
        s,
        r#"}}}},"steps":[
        {{"do":"connect","app":"late","user":"{last_user}"}},
        {{"app":"late","do":"create_job","name":"j","bind":"j"}},
        {{"app":"late","do":"add_file","job":"j","remote":"{last_url}","local":"C:\\dl\\x.bin"}},
        {{"app":"late","do":"resume","job":"j"}},
        {{"do":"advance","seconds":1}},
        {{"app":"late","check":"state","job":"j","is":"TRANSFERRED"}},
        {{"app":"late","check":"progress","job":"j","bytes_total":{}}}
        ]}}"#,
        1000 + remotes - 1
    )
    .unwrap();
    s
}

#[test]
fn a_world_of_100k_users_and_40k_remotes_loads_and_runs() {
    // Before the name index and the sorted duplicate-key check this took tens of seconds in release
    // (quadratic); now it is O(n log n) and fast even in a debug build.
    let text = big_world(100_000, 40_000);
    let sc = Scenario::parse(&text, "big.json").unwrap();
    let r = run(&sc, "big.json", &RunOptions::default());
    assert!(r.passed, "{:?}", r.failure);
}

#[test]
fn a_duplicate_key_in_a_big_map_is_still_reported_at_its_second_occurrence() {
    let mut text = big_world(50_000, 2);
    // Duplicate user000100 late in the users map, and user000007 even later: the first duplicate in
    // file order (the second "user000100") is the one reported.
    text = text.replacen(
        r#""user000200":{}"#,
        r#""user000100":{"admin":true},"user000200":{}"#,
        1,
    );
    text = text.replacen(
        r#""user000300":{}"#,
        r#""user000007":{},"user000300":{}"#,
        1,
    );
    let e = Scenario::parse(&text, "dup.json").unwrap_err().to_string();
    assert!(e.contains("duplicate key"), "{e}");
    assert!(e.contains("/world/users/user000100"), "{e}");
}

#[test]
fn user_lookup_by_name_and_by_sid_scales_and_answers_exactly() {
    let mut s = Service::new(World::new());
    for i in 0..100_000 {
        s.add_user(&format!("u{i}"), i % 7 == 0, true);
    }
    // Names are unique: adding an existing name answers the existing id.
    assert_eq!(
        s.add_user("u99999", false, false),
        s.user_id("u99999").unwrap()
    );
    let id = s.user_id("u54321").unwrap();
    assert_eq!(s.user(id).unwrap().name, "u54321");
    assert_eq!(s.user_id("nobody"), None);
    let sid = User::sid_for(id);
    assert_eq!(s.user_by_sid(&sid), Some(id));
    // Only the exact SID string names a user.
    assert_eq!(
        s.user_by_sid(&format!("{sid}0")),
        None,
        "index out of range"
    );
    assert_eq!(s.user_by_sid(&sid.replace("-1004336348-", "-1-")), None);
    assert_eq!(
        s.user_by_sid("S-1-5-21-1004336348-1177238915-682003330-999"),
        None
    );
    assert_eq!(
        s.user_by_sid("S-1-5-21-1004336348-1177238915-682003330-+1000"),
        None
    );
    // The index survives a snapshot round trip.
    let back = Service::from_snapshot_json(&s.to_snapshot_json(), Path::new("mem")).unwrap();
    assert_eq!(back.user_id("u54321"), Some(id));
}

// ============================================================ D22: the delivery log is bounded

const CAP: usize = Service::DELIVERY_LOG_CAP;

/// An application whose job delivers one JobModification per `set_description` call.
fn chatty() -> (Service, AppId, JobId) {
    let mut s = Service::new(World::new());
    let u = s.add_user("u", false, true);
    let app = s.connect("a", u);
    let job = s.create_job(app, "j", JobType::Download).unwrap();
    s.set_notify_flags(app, job, NotifyFlags::JOB_MODIFICATION.0)
        .unwrap();
    s.set_notify_interface(app, job, Some(Notifier::Answer(HResult::S_OK)))
        .unwrap();
    (s, app, job)
}

#[test]
fn d31_the_delivery_log_keeps_the_newest_entries_and_counts_the_dropped_ones() {
    let (mut s, app, job) = chatty();
    let extra = 25;
    for i in 0..CAP + extra {
        s.set_description(app, job, &format!("d{i}")).unwrap();
        s.advance(SimDuration::from_millis(1));
    }
    // The dropped count survives a restart (the log is persisted with it).
    s.restart_service();
    let got = s.take_deliveries(app);
    assert_eq!(got.len(), CAP);
    // The oldest `extra` deliveries (at 0 .. extra-1 ms) were dropped: the first kept is at `extra` ms.
    assert_eq!(got[0].notification.time, SimTime::from_millis(extra as u64));
    assert_eq!(s.take_dropped_deliveries(app), extra as u64);
    assert_eq!(s.take_dropped_deliveries(app), 0, "taken once");
    assert!(s.take_deliveries(app).is_empty());
}

#[test]
fn d31_a_notifications_check_fails_when_deliveries_were_dropped() {
    let mut steps = String::from(
        r#"{"do":"create_job","name":"j","bind":"j"},
        {"do":"set","job":"j","property":"notify_flags","value":8},
        {"do":"register_callback","job":"j"}"#,
    );
    for i in 0..CAP + 3 {
        write!(
            steps,
            r#",{{"do":"set","job":"j","property":"description","value":"d{i}"}}"#
        )
        .unwrap();
    }
    steps.push_str(r#",{"check":"notifications","are":[{"event":"JOB_MODIFICATION","job":"j"}]}"#);
    let text = format!(r#"{{"name":"n","description":"d","steps":[{steps}]}}"#);
    let sc = Scenario::parse(&text, "n.json").unwrap();
    let r = run(&sc, "n.json", &RunOptions::default());
    assert!(!r.passed);
    let f = r.failure.unwrap();
    assert!(
        f.message.contains("3 deliveries to \"app\" were dropped"),
        "{}",
        f.message
    );
}

#[test]
fn d31_an_old_unbounded_log_in_a_v2_file_is_refused() {
    let (mut s, app, job) = chatty();
    for i in 0..10 {
        s.set_description(app, job, &format!("d{i}")).unwrap();
    }
    let mut v: serde_json::Value = serde_json::from_str(&s.to_snapshot_json()).unwrap();
    let one = v["apps"][0]["deliveries"][0].clone();
    v["apps"][0]["deliveries"] = serde_json::Value::Array(vec![one; CAP + 1]);
    let e = Service::from_snapshot_json(&v.to_string(), Path::new("big.json")).unwrap_err();
    assert!(e.to_string().contains("more than the log keeps"), "{e}");
}

// ============================================================ D23: final jobs are released at a restart

#[test]
fn d32_final_jobs_are_released_at_a_restart_keeping_what_the_core_answers() {
    const URL: &str = "https://x.test/a.bin";
    let sim = Sim::new(World::new().remote(URL, Remote::sized(1_000)));
    let app = sim.connect("a", sim.user("alice")).unwrap();
    let jobs: Vec<bitsim::Job> = (0..6)
        .map(|i| {
            let j = app.create_job(&format!("j{i}"), JobType::Download).unwrap();
            j.add_file(URL, &format!("C:\\dl\\{i}.bin")).unwrap();
            j
        })
        .collect();
    jobs[0].cancel().unwrap();
    jobs[1].resume().unwrap();
    sim.run_until_idle().unwrap();
    assert_eq!(jobs[1].complete(), Ok(HResult::S_OK));
    jobs[2].cancel().unwrap();
    // Before the restart, handles on final jobs keep answering their getters (§1.3).
    assert_eq!(jobs[0].get_display_name().unwrap(), "j0");
    assert_eq!(jobs[1].get_state(), Ok(JobState::Acknowledged));
    let names = |sim: &Sim| -> Vec<String> {
        let v: serde_json::Value =
            serde_json::from_str(&sim.with_service(|s| s.to_snapshot_json())).unwrap();
        v["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| format!("{}:{}", j["display_name"], j["files"][0]["remote"]))
            .collect()
    };
    assert_eq!(names(&sim)[0], format!("\"j0\":\"{URL}\""));

    sim.restart_service();
    let app = app.reconnect().unwrap();
    for (i, j) in jobs.iter().enumerate() {
        let again = app.get_job(j.id());
        if i <= 2 {
            assert_eq!(again.err(), Some(HResult::BG_E_NOT_FOUND), "job {i} (D9)");
        } else {
            assert_eq!(again.unwrap().get_display_name().unwrap(), format!("j{i}"));
        }
    }
    assert_eq!(app.enum_jobs(0).unwrap().len(), 3);
    // The strings of the final jobs are gone; the live jobs keep theirs.
    let after = names(&sim);
    assert_eq!(after.len(), 6, "ids stay reserved, never reused");
    assert!(after[..3].iter().all(|n| n == "\"\":\"\""), "{after:?}");
    assert_eq!(after[3], format!("\"j3\":\"{URL}\""));
    sim.with_service(|s| {
        assert_eq!(s.released_job_count(), 3);
        // What the core answers about a final job does not move (state, files, progress).
        let a = app.app();
        assert_eq!(s.state(a, jobs[0].id()), Ok(JobState::Cancelled));
        assert_eq!(s.state(a, jobs[1].id()), Ok(JobState::Acknowledged));
        let p = s.progress(a, jobs[1].id()).unwrap();
        assert_eq!((p.files_total, p.bytes_transferred), (1, 1_000));
    });
    let next = app.create_job("next", JobType::Download).unwrap();
    assert_eq!(next.id().guid(), "{B175B175-0000-4000-8000-000000000007}");
    // A second restart has nothing more to release; a save/load round trip is exact.
    sim.restart_service();
    let json = sim.with_service(|s| s.to_snapshot_json());
    let back = Service::from_snapshot_json(&json, Path::new("after.json")).unwrap();
    assert_eq!(back.to_snapshot_json(), json);
}

#[test]
fn d32_many_restarts_with_many_final_jobs_keep_the_live_job_exact() {
    let mut s = Service::new(World::new().remote("https://x.test/a", Remote::sized(10)));
    let u = s.add_user("root", true, true);
    let app = s.connect("a", u);
    let live = s.create_job(app, "live", JobType::Download).unwrap();
    s.set_description(app, live, "kept").unwrap();
    for _ in 0..200 {
        for _ in 0..10 {
            let j = s.create_job(app, "gone", JobType::Download).unwrap();
            s.add_file(app, j, "https://x.test/a", "C:\\dl\\a").unwrap();
            s.cancel(app, j).unwrap();
        }
        s.restart_service();
    }
    assert_eq!(s.job_count(), 2_001);
    assert_eq!(s.released_job_count(), 2_000);
    assert_eq!(s.state(app, live), Ok(JobState::Suspended));
    assert_eq!(s.description(app, live).unwrap(), "kept");
    assert_eq!(s.enum_jobs(app, 0).unwrap(), [live]);
}

#[test]
fn d32_a_snapshot_with_bad_job_ids_is_refused() {
    let mut s = Service::new(World::new());
    let u = s.add_user("u", false, true);
    let app = s.connect("a", u);
    for _ in 0..3 {
        s.create_job(app, "j", JobType::Download).unwrap();
    }
    let mut v: serde_json::Value = serde_json::from_str(&s.to_snapshot_json()).unwrap();
    v["job_ids_issued"] = 2.into();
    let e = Service::from_snapshot_json(&v.to_string(), Path::new("few.json")).unwrap_err();
    assert!(e.to_string().contains("fewer than the 3 jobs"), "{e}");
    v["job_ids_issued"] = 9.into();
    v["jobs"][2]["id"] = 1.into();
    let e = Service::from_snapshot_json(&v.to_string(), Path::new("order.json")).unwrap_err();
    assert!(e.to_string().contains("not ascending"), "{e}");
    v["jobs"][2]["id"] = 9.into();
    let e = Service::from_snapshot_json(&v.to_string(), Path::new("big.json")).unwrap_err();
    assert!(e.to_string().contains("not ascending"), "{e}");
}

// ============================================================ D21: sums saturate near 2^64

#[test]
fn d30_two_files_of_2_pow_63_bytes_saturate_the_job_progress_below_unknown() {
    let half = 1u64 << 63;
    let sim = Sim::new(
        World::new()
            .remote("https://x.test/a", Remote::sized(half))
            .remote("https://x.test/b", Remote::sized(half + 5))
            .bandwidth(u64::MAX),
    );
    let app = sim.connect("a", sim.user("alice")).unwrap();
    let job = app.create_job("huge", JobType::Download).unwrap();
    job.add_file("https://x.test/a", "C:\\dl\\a").unwrap();
    job.add_file("https://x.test/b", "C:\\dl\\b").unwrap();
    job.resume().unwrap();
    sim.advance_secs(0);
    assert_eq!(
        job.get_progress().unwrap().bytes_total,
        BG_SIZE_UNKNOWN,
        "D16"
    );
    sim.run_until_idle().unwrap();
    assert_eq!(job.get_state(), Ok(JobState::Transferred));
    let p = job.get_progress().unwrap();
    assert_eq!(
        p.bytes_total,
        u64::MAX - 1,
        "saturates, never wraps, never reads unknown"
    );
    assert_eq!(p.bytes_transferred, u64::MAX - 1);
    assert_eq!((p.files_total, p.files_transferred), (2, 2));
    let files = job.enum_files().unwrap();
    assert_eq!(files[1].get_progress().unwrap().bytes_total, half + 5);
}

#[test]
fn d30_a_huge_advance_and_huge_delays_saturate_the_clock() {
    let sim = Sim::new(World::new().remote("https://x.test/a", Remote::sized(10)));
    let app = sim.connect("a", sim.user("alice")).unwrap();
    let job = app.create_job("j", JobType::Download).unwrap();
    job.set_minimum_retry_delay(u32::MAX).unwrap();
    job.set_no_progress_timeout(u32::MAX).unwrap();
    sim.advance_secs(u64::MAX);
    assert_eq!(sim.now(), SimTime::MAX);
    sim.advance_secs(u64::MAX);
    assert_eq!(sim.now(), SimTime::MAX);
    assert_eq!(job.get_minimum_retry_delay(), Ok(u32::MAX));
}
