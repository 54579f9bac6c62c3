//! Durable snapshots — exact round trips, the frozen v1 reader, verification of every file (clear
//! errors for bad files that leave the running service untouched), generations, and atomic saves.
//! (Fault injection inside a save is tested by the unit tests of `src/snapshot/file.rs`.)

use bitsim::*;
use proptest::prelude::*;
use std::path::{Path, PathBuf};

const A: &str = "https://example.test/a.bin";
const B: &str = "https://example.test/b.bin";

fn tmpdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bitsim-snap-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A service in the middle of things: transfers under way, a transient error with timers, an ERROR
/// record, a scripted callback, two users, a chaos generator mid-sequence.
fn busy() -> (Service, AppId, AppId, Vec<JobId>) {
    let world = World::new()
        .remote(
            A,
            Remote::sized(3_000_000).with_responses([Response::http(503)]),
        )
        .remote(
            B,
            Remote::sized(1_000).with_responses([Response::http(404)]),
        )
        .chaos(9, 0.1);
    let mut s = Service::new(world);
    let (u, v) = (
        s.add_user("alice", false, true),
        s.add_user("root", true, true),
    );
    let (a, r) = (s.connect("a", u), s.connect("r", v));
    let mut jobs = vec![];
    for (i, url) in [A, B, A, A].into_iter().enumerate() {
        let j = s
            .create_job(a, &format!("j{i}"), JobType::Download)
            .unwrap();
        s.add_file(a, j, url, "C:\\x").unwrap();
        s.set_priority(a, j, (i % 4) as u32).unwrap();
        s.set_minimum_retry_delay(a, j, 30).unwrap();
        s.set_notify_interface(
            a,
            j,
            Some(Notifier::Answer(if i == 1 {
                HResult::E_FAIL
            } else {
                HResult::S_OK
            })),
        )
        .unwrap();
        s.resume(a, j).unwrap();
        jobs.push(j);
    }
    s.advance(SimDuration::from_millis(1500));
    (s, a, r, jobs)
}

fn future(s: &mut Service, a: AppId, r: AppId, jobs: &[JobId]) -> Vec<String> {
    s.take_trace();
    s.advance(SimDuration::from_secs(20));
    let _ = s.suspend(a, jobs[0]);
    let _ = s.resume(r, jobs[0]);
    s.set_network(Network::Down);
    s.advance(SimDuration::from_secs(10));
    s.set_network(Network::Up);
    s.restart_service();
    let _ = s.set_no_progress_timeout(a, jobs[2], 5);
    s.advance(SimDuration::from_secs(3600));
    s.take_trace().iter().map(|e| e.to_string()).collect()
}

#[test]
fn snapshot_round_trip_gives_the_same_future_trace() {
    let (mut original, a, r, jobs) = busy();
    let json = original.to_snapshot_json();
    let mut loaded = Service::from_snapshot_json(&json, Path::new("mem")).unwrap();
    assert_eq!(
        loaded.to_snapshot_json(),
        json,
        "load then save reproduces the file"
    );
    let (t1, t2) = (
        future(&mut original, a, r, &jobs),
        future(&mut loaded, a, r, &jobs),
    );
    assert!(t1.len() > 20);
    assert_eq!(t1, t2);
}

#[test]
fn save_and_load_through_a_file() {
    let dir = tmpdir("file");
    let path = dir.join("state.json");
    let (original, a, _, jobs) = busy();
    original.save(&path).unwrap();
    let mut other = Service::new(World::new());
    other.load(&path).unwrap();
    assert_eq!(other.state(a, jobs[1]), original.state(a, jobs[1]));
    assert_eq!(other.progress(a, jobs[0]), original.progress(a, jobs[0]));
    assert_eq!(other.now(), original.now());
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left: {leftovers:?}");
}

fn load_err(json: &str) -> (SnapshotError, Service) {
    let dir = tmpdir(&format!("bad{}", json.len()));
    let path = dir.join("bad.json");
    std::fs::write(&path, json).unwrap();
    let (mut s, ..) = busy();
    let before = s.to_snapshot_json();
    let e = s.load(&path).unwrap_err();
    assert_eq!(
        s.to_snapshot_json(),
        before,
        "a failed load leaves the running service untouched"
    );
    assert!(e.to_string().contains("bad.json"), "names the file: {e}");
    (e, s)
}

#[test]
fn corrupt_and_truncated_files_are_parse_errors_with_a_position() {
    let (good, ..) = busy();
    let json = good.to_snapshot_json();
    let (e, _) = load_err(&json[..json.len() / 2]);
    assert!(
        matches!(e, SnapshotError::Parse { line: 1, column, .. } if column > 0),
        "{e}"
    );
    let (e, _) = load_err("{ this is not json");
    assert!(matches!(e, SnapshotError::Parse { .. }), "{e}");
    let (e, _) = load_err("");
    assert!(matches!(e, SnapshotError::Parse { .. }), "{e}");
}

#[test]
fn unknown_versions_are_refused_by_name() {
    let (good, ..) = busy();
    let json = good
        .to_snapshot_json()
        .replacen("\"version\":2", "\"version\":99", 1);
    let (e, _) = load_err(&json);
    assert!(
        matches!(
            e,
            SnapshotError::Version {
                found_version: 99,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("version 99"));
    let (e, _) = load_err(r#"{"format":"something-else","version":1}"#);
    assert!(matches!(e, SnapshotError::Version { .. }), "{e}");
}

#[test]
fn internally_inconsistent_snapshots_are_refused_with_the_problem() {
    let (good, ..) = busy();
    let mut v: serde_json::Value = serde_json::from_str(&good.to_snapshot_json()).unwrap();
    v["jobs"][0]["owner"] = serde_json::json!(7);
    let (e, _) = load_err(&v.to_string());
    assert!(e.to_string().contains("owner is not a known user"), "{e}");

    let mut v: serde_json::Value = serde_json::from_str(&good.to_snapshot_json()).unwrap();
    v["jobs"][1]["state"] = serde_json::json!("QUEUED");
    let (e, _) = load_err(&v.to_string());
    assert!(matches!(e, SnapshotError::Inconsistent { .. }), "{e}");

    let mut v: serde_json::Value = serde_json::from_str(&good.to_snapshot_json()).unwrap();
    v["jobs"][0]["minimum_retry_delay_secs"] = serde_json::json!(1);
    let (e, _) = load_err(&v.to_string());
    assert!(e.to_string().contains("below 5 s"), "{e}");
}

#[test]
fn d78_a_local_body_or_time_for_a_file_the_world_lacks_is_refused() {
    let (good, ..) = busy();
    for field in ["local_content", "local_modified"] {
        let mut v: serde_json::Value = serde_json::from_str(&good.to_snapshot_json()).unwrap();
        let value = if field == "local_content" {
            serde_json::json!({ "C:\\nowhere\\x.bin": { "Bytes": [97, 98, 99] } })
        } else {
            serde_json::json!({ "C:\\nowhere\\x.bin": 40 })
        };
        v["world"][field] = value;
        let (e, _) = load_err(&v.to_string());
        assert!(
            matches!(e, SnapshotError::Inconsistent { .. }),
            "{field}: expected an inconsistency, got {e}"
        );
        let text = e.to_string();
        assert!(
            text.contains(&format!("world.{field}")) && text.contains("nowhere"),
            "{text}"
        );
    }
}

#[test]
fn d15_restart_goes_through_the_snapshot_path_and_drops_code_callbacks() {
    let (mut s, a, _, jobs) = busy();
    s.set_notify_interface(
        a,
        jobs[3],
        Some(Notifier::Callback(AppCode::new(|_: &Notification| {
            HResult::S_OK
        }))),
    )
    .unwrap();
    let json = s.to_snapshot_json();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        v["callbacks"].as_array().unwrap().len(),
        3,
        "scripted answers kept, code dropped"
    );
    s.restart_service();
    for j in &jobs {
        assert_eq!(s.has_notify_interface(a, *j), Ok(false));
    }
}

// ---------------------------------------------------------------- property: round trip is invisible

#[derive(Clone, Debug)]
enum Op {
    Advance(u64),
    Resume(usize),
    Suspend(usize),
    Cancel(usize),
    Complete(usize),
    AddFile(usize, bool),
    Timeout(usize, u32),
    Network(bool),
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u64..700_000).prop_map(Op::Advance),
        (0usize..3).prop_map(Op::Resume),
        (0usize..3).prop_map(Op::Suspend),
        (0usize..3).prop_map(Op::Cancel),
        (0usize..3).prop_map(Op::Complete),
        (0usize..3, any::<bool>()).prop_map(|(j, b)| Op::AddFile(j, b)),
        (0usize..3, prop_oneof![Just(0u32), 1u32..2000]).prop_map(|(j, t)| Op::Timeout(j, t)),
        any::<bool>().prop_map(Op::Network),
        Just(Op::Restart),
    ]
}

fn apply(s: &mut Service, app: AppId, jobs: &[JobId], op: &Op) {
    match *op {
        Op::Advance(ms) => s.advance(SimDuration::from_millis(ms)),
        Op::Resume(j) => drop(s.resume(app, jobs[j])),
        Op::Suspend(j) => drop(s.suspend(app, jobs[j])),
        Op::Cancel(j) => drop(s.cancel(app, jobs[j])),
        Op::Complete(j) => drop(s.complete(app, jobs[j])),
        Op::AddFile(j, good) => drop(s.add_file(app, jobs[j], if good { A } else { B }, "C:\\f")),
        Op::Timeout(j, t) => drop(s.set_no_progress_timeout(app, jobs[j], t)),
        Op::Network(up) => s.set_network(if up { Network::Up } else { Network::Down }),
        Op::Restart => s.restart_service(),
    }
}

fn fresh() -> (Service, AppId, Vec<JobId>) {
    let world = World::new()
        .remote(
            A,
            Remote::sized(2_000_000)
                .with_responses([Response::http(503), Response::win32(12030).after_bytes(500)]),
        )
        .remote(B, Remote::sized(10).otherwise(Response::http(500)));
    let mut s = Service::new(world);
    let u = s.add_user("u", false, true);
    let app = s.connect("app", u);
    let jobs = (0..3)
        .map(|i| {
            s.create_job(app, &i.to_string(), JobType::Download)
                .unwrap()
        })
        .collect();
    (s, app, jobs)
}

proptest! {
    #![proptest_config(bitsim::testing::config(300))]

    #[test]
    fn save_load_then_the_same_inputs_give_the_same_trace(
        before in proptest::collection::vec(op(), 0..12),
        after in proptest::collection::vec(op(), 0..12),
    ) {
        let (mut s, app, jobs) = fresh();
        for o in &before {
            apply(&mut s, app, &jobs, o);
        }
        let mut copy = Service::from_snapshot_json(&s.to_snapshot_json(), Path::new("mem")).unwrap();
        s.take_trace();
        for o in &after {
            apply(&mut s, app, &jobs, o);
            apply(&mut copy, app, &jobs, o);
        }
        let t1: Vec<String> = s.take_trace().iter().map(|e| e.to_string()).collect();
        let t2: Vec<String> = copy.take_trace().iter().map(|e| e.to_string()).collect();
        prop_assert_eq!(t1, t2);
        prop_assert_eq!(s.to_snapshot_json(), copy.to_snapshot_json());
    }
}

// ---------------------------------------------------------------- the frozen v1 reader

const V1_BUSY: &str = "fixtures/snapshots/v1-busy.json";

fn repo_path(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// The calls that produced `fixtures/snapshots/v1-busy.json` (with the v1 build): replayed today,
/// they must reach exactly the state the v1 file converts to.
fn v1_busy_scenario() -> Service {
    let world = World::new()
        .remote("https://example.test/big.bin", Remote::sized(5_000_000))
        .remote(
            "https://example.test/flaky.bin",
            Remote::sized(200_000).with_responses([Response::http(503), Response::http(503)]),
        )
        .remote(
            "https://example.test/gone.bin",
            Remote::sized(10).with_responses([Response::http(404)]),
        )
        .remote(
            "https://example.test/cut.bin",
            Remote::sized(3_000_000)
                .with_responses([Response::win32(12030).after_bytes(2_500_000)]),
        )
        .local("C:\\up\\report.txt", 4_000)
        .bandwidth(999_999)
        .chaos(7, 0.05);
    let mut s = Service::new(world);
    let alice = s.add_user("alice", false, true);
    let bob = s.add_user("bob", false, false);
    let root = s.add_user("root", true, true);
    let a = s.connect("updater", alice);
    let b = s.connect("backup", bob);
    let r = s.connect("console", root);
    let gone_app = s.connect("short-lived", alice);
    let mk = |s: &mut Service, app, name: &str, url: &str, prio: u32| {
        let j = s.create_job(app, name, JobType::Download).unwrap();
        s.add_file(app, j, url, &format!("C:\\dl\\{name}.bin"))
            .unwrap();
        s.set_priority(app, j, prio).unwrap();
        j
    };
    let big = mk(&mut s, a, "big", "https://example.test/big.bin", 0);
    let flaky = mk(&mut s, a, "flaky", "https://example.test/flaky.bin", 0);
    s.set_minimum_retry_delay(a, flaky, 60).unwrap();
    let gone = mk(&mut s, a, "gone", "https://example.test/gone.bin", 0);
    s.set_notify_interface(a, gone, Some(Notifier::Answer(HResult::E_FAIL)))
        .unwrap();
    let cut = mk(&mut s, r, "cut", "https://example.test/cut.bin", 1);
    s.set_description(r, cut, "admin's job").unwrap();
    s.set_notify_interface(r, cut, Some(Notifier::Answer(HResult::S_OK)))
        .unwrap();
    let waiting = mk(&mut s, r, "waiting", "https://example.test/big.bin", 2);
    let parked = mk(&mut s, b, "parked", "https://example.test/big.bin", 2);
    let up = s.create_job(a, "upload", JobType::Upload).unwrap();
    s.add_file(a, up, "https://example.test/upload", "C:\\up\\report.txt")
        .unwrap();
    let _suspended = mk(&mut s, a, "suspended", "https://example.test/big.bin", 3);
    let cancelled = mk(
        &mut s,
        gone_app,
        "cancelled",
        "https://example.test/big.bin",
        2,
    );
    s.cancel(gone_app, cancelled).unwrap();
    s.set_notify_interface(gone_app, flaky, None).ok();
    for j in [big, flaky, gone, cut, waiting, up] {
        s.resume(if j == cut || j == waiting { r } else { a }, j)
            .unwrap();
    }
    s.resume(b, parked).unwrap();
    s.exit(gone_app);
    s.advance(SimDuration::from_millis(1_700));
    s
}

fn load_v1_busy() -> Service {
    let mut s = Service::new(World::new());
    s.load(&repo_path(V1_BUSY)).unwrap();
    s
}

#[test]
fn a_v1_file_written_by_the_v1_build_still_loads_with_its_facts() {
    let mut s = load_v1_busy();
    let text = std::fs::read_to_string(repo_path(V1_BUSY)).unwrap();
    assert!(text.contains("\"version\": 1"), "the fixture is a v1 file");
    assert_eq!(
        s.user(s.user_id("root").unwrap()).map(|u| u.admin),
        Some(true)
    );
    let root = s.connect("observer", s.user_id("root").unwrap());
    let ids: Vec<JobId> = s.all_job_ids().collect();
    let job = |n: usize| ids[n];
    assert_eq!(s.now(), SimTime::from_millis(1_700));
    assert_eq!(s.job_count(), 9);
    let states: Vec<JobState> = (0..9).map(|n| s.state(root, job(n)).unwrap()).collect();
    use JobState::*;
    assert_eq!(
        states,
        [
            Transferring,
            TransientError,
            Error,
            Transferring,
            Queued,
            Queued,
            Queued,
            Suspended,
            Cancelled
        ]
    );
    // Live progress of both running transfers: 999,999 B/s shared by two for 1.7 s.
    assert_eq!(s.progress(root, job(0)).unwrap().bytes_transferred, 849_999);
    assert_eq!(s.progress(root, job(3)).unwrap().bytes_transferred, 849_999);
    let e = s.get_error(root, job(2)).unwrap().record;
    assert_eq!(
        (e.context, e.code),
        (ErrorContext::RemoteFile, HResult::http(404))
    );
    assert_eq!(
        s.get_error(root, job(1)).unwrap().record.code,
        HResult::http(503)
    );
    assert_eq!(s.description(root, job(3)).unwrap(), "admin's job");
    assert_eq!(s.minimum_retry_delay(root, job(1)), Ok(60));
    let bob = s.user_id("bob").unwrap();
    assert!(!s.user(bob).unwrap().logged_on);
    assert_eq!(s.owner(root, job(5)).unwrap(), User::sid_for(bob));
    // The flaky job's retry timer (60 s after its error, D3) is the next timer after the first
    // transfer point.
    s.run_until(SimTime::from_secs(59));
    assert_eq!(s.state(root, job(1)), Ok(TransientError));
    assert_eq!(s.error_count(root, job(1)), Ok(0));
    s.run_until(SimTime::from_secs(60));
    // The retry at 60 s meets the second scripted 503: a new record, counted (D6).
    let e = s.get_error(root, job(1)).unwrap().record;
    assert_eq!(
        (e.time, e.code),
        (SimTime::from_secs(60), HResult::http(503))
    );
    assert_eq!(s.error_count(root, job(1)), Ok(1));
}

#[test]
fn a_v1_file_converts_to_the_state_todays_build_reaches_by_the_same_calls() {
    let from_v1 = Service::from_snapshot_json(
        &std::fs::read_to_string(repo_path(V1_BUSY)).unwrap(),
        Path::new(V1_BUSY),
    )
    .unwrap();
    let mut today = v1_busy_scenario();
    assert_eq!(from_v1.to_snapshot_json(), today.to_snapshot_json());
    let mut from_v1 = from_v1;
    from_v1.take_trace();
    today.take_trace();
    for s in [&mut from_v1, &mut today] {
        s.advance(SimDuration::from_secs(7_200));
    }
    let t =
        |s: &mut Service| -> Vec<String> { s.take_trace().iter().map(|e| e.to_string()).collect() };
    let (t1, t2) = (t(&mut from_v1), t(&mut today));
    assert!(t1.len() > 20, "{t1:?}");
    assert_eq!(t1, t2);
    assert_eq!(from_v1.to_snapshot_json(), today.to_snapshot_json());
}

fn v1_value() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(repo_path(V1_BUSY)).unwrap()).unwrap()
}

fn refused(v: &serde_json::Value, needle: &str) {
    let (e, _) = load_err(&v.to_string());
    assert!(
        matches!(e, SnapshotError::Inconsistent { .. }),
        "expected an inconsistency, got {e}"
    );
    assert!(e.to_string().contains(needle), "{e}");
}

#[test]
fn v1_unknown_ids_in_running_or_parked_are_refused_not_panics() {
    let mut v = v1_value();
    v["running"] = serde_json::json!([0, 3, 42]);
    refused(&v, "running names unknown job 42");
    let mut v = v1_value();
    v["parked"] = serde_json::json!([77]);
    refused(&v, "parked names unknown job 77");
}

#[test]
fn v1_a_transfer_point_not_matching_its_transfer_is_refused() {
    let mut v = v1_value();
    v["flow"]["points"][0][0] = serde_json::json!(1_801_800_000_000_001u64);
    refused(&v, "no matching transfer point");
    let mut v = v1_value();
    v["flow"]["points"].as_array_mut().unwrap().remove(0);
    refused(&v, "no matching transfer point");
}

#[test]
fn v1_a_wrong_ready_queue_priority_is_rebuilt_and_the_scheduler_ends() {
    let mut v = v1_value();
    // Job 4 (NORMAL) filed under LOW: the v1 build looped forever; the queue is rebuilt from the
    // job's own priority.
    let bg = v["ready_bg"].as_array_mut().unwrap();
    let entry = bg.iter_mut().find(|e| e[2] == 4).unwrap();
    entry[0] = serde_json::json!("LOW");
    let dir = tmpdir("v1prio");
    let path = dir.join("prio.json");
    std::fs::write(&path, v.to_string()).unwrap();
    let mut s = Service::new(World::new());
    s.load(&path).unwrap();
    assert_eq!(
        s.run_until_idle_before(SimTime::from_secs(86_400), 1_000_000),
        Ok(false)
    );
    let root = s.connect("observer", s.user_id("root").unwrap());
    let waiting = s.all_job_ids().nth(4).unwrap();
    assert_eq!(s.state(root, waiting), Ok(JobState::Transferred));
}

#[test]
fn v1_a_transfer_without_its_point_and_timers_in_the_past_are_refused() {
    let mut v = v1_value();
    v["jobs"][0]["active"] = serde_json::Value::Null;
    refused(&v, "transfer");
    let mut v = v1_value();
    v["events"][0]["time"] = serde_json::json!(5);
    refused(&v, "due before the clock");
}

// ---------------------------------------------------------------- v2 verification

fn v2_value() -> serde_json::Value {
    let (s, ..) = busy();
    serde_json::from_str(&s.to_snapshot_json()).unwrap()
}

#[test]
fn v2_cross_references_and_invariants_are_checked() {
    type Corrupt = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(&str, Corrupt, &str)> = vec![
        (
            "transfer of an unknown job",
            Box::new(|v| v["transfers"][0]["job"] = 99.into()),
            "unknown job",
        ),
        (
            "transfer of a job that does not run",
            Box::new(|v| {
                let idle = v["jobs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .position(|j| j["state"] == "ERROR")
                    .unwrap();
                v["transfers"][0]["job"] = idle.into()
            }),
            "not running",
        ),
        (
            "running job without its transfer",
            Box::new(|v| {
                v["transfers"].as_array_mut().unwrap().remove(0);
            }),
            "exactly one transfer",
        ),
        (
            "transfer past its file",
            Box::new(|v| v["transfers"][0]["stop_at"] = 4_000_000.into()),
            "stop_at",
        ),
        (
            "timer in the past",
            Box::new(|v| v["timers"][0]["at"] = 0.into()),
            "due before the clock",
        ),
        (
            "queue naming a non-QUEUED job",
            Box::new(|v| v["queue"] = serde_json::json!([0])),
            "not QUEUED",
        ),
        (
            "unknown owner",
            Box::new(|v| v["jobs"][2]["owner"] = 9.into()),
            "owner is not a known user",
        ),
        (
            "retry timer not pending",
            Box::new(|v| {
                let timers = v["timers"].as_array_mut().unwrap();
                timers.retain(|t| t["event"].get("retry").is_none());
            }),
            "no such timer is pending",
        ),
        (
            "job time in the future",
            Box::new(|v| v["jobs"][1]["modified"] = 99_999_999.into()),
            "in the future",
        ),
        (
            "callback of an unknown application",
            Box::new(|v| v["callbacks"][0]["app"] = 9.into()),
            "unknown application",
        ),
        (
            "time slice of zero",
            Box::new(|v| v["world"]["time_slice_secs"] = 0.into()),
            "time_slice_secs",
        ),
    ];
    for (what, corrupt, needle) in cases {
        let mut v = v2_value();
        corrupt(&mut v);
        let (e, _) = load_err(&v.to_string());
        assert!(
            matches!(e, SnapshotError::Inconsistent { .. }) && e.to_string().contains(needle),
            "{what}: {e}"
        );
    }
}

#[test]
fn unknown_fields_are_refused_in_v2() {
    let mut v = v2_value();
    v["jobs"][0]["ready_key"] = 3.into();
    let (e, _) = load_err(&v.to_string());
    assert!(matches!(e, SnapshotError::Parse { .. }), "{e}");
    assert!(e.to_string().contains("ready_key"), "{e}");
}

// ---------------------------------------------------------------- generations (D15)

#[test]
fn loading_bumps_the_generation_so_old_handles_cannot_read_the_loaded_jobs() {
    // Another machine where application 0 is bob and job 0 is bob's.
    let other = Sim::new(World::new());
    let bob = other.connect("b", other.user("bob")).unwrap();
    bob.create_job("bob's secret", JobType::Download).unwrap();
    let dir = tmpdir("generation");
    let path = dir.join("bob.json");
    other.with_service(|s| s.save(&path)).unwrap();

    let sim =
        Sim::new(World::new().remote(A, Remote::sized(10).with_responses([Response::http(404)])));
    let alice = sim.connect("a", sim.user("alice")).unwrap();
    let job = alice.create_job("alice's", JobType::Download).unwrap();
    job.add_file(A, "C:\\a").unwrap();
    job.resume().unwrap();
    sim.advance_secs(1);
    let error = job.get_error().unwrap();
    assert_eq!(job.get_display_name().unwrap(), "alice's");

    sim.with_service_mut(|s| s.load(&path)).unwrap();
    assert_eq!(job.get_display_name(), Err(HResult::RPC_E_DISCONNECTED));
    assert_eq!(
        alice.get_job(job.id()).err(),
        Some(HResult::RPC_E_DISCONNECTED)
    );
    assert_eq!(error.get_error(), Err(HResult::RPC_E_DISCONNECTED));
    assert_eq!(sim.with_service(|s| s.generation()), 1);
    // A manager created after the load works, on the loaded jobs.
    let again = sim
        .connect("b2", sim.with_service(|s| s.user_id("bob")).unwrap())
        .unwrap();
    assert_eq!(
        again.get_job(job.id()).unwrap().get_display_name().unwrap(),
        "bob's secret"
    );
}

#[test]
fn the_generation_after_a_load_exceeds_both_the_old_and_the_saved_one() {
    let (mut saved, ..) = busy();
    for _ in 0..3 {
        saved.restart_service();
    }
    let dir = tmpdir("generation2");
    let path = dir.join("s.json");
    saved.save(&path).unwrap();
    let mut s = Service::new(World::new());
    s.load(&path).unwrap();
    assert_eq!(s.generation(), 4);
    let mut t = Service::new(World::new());
    for _ in 0..6 {
        t.restart_service();
    }
    t.load(&path).unwrap();
    assert_eq!(t.generation(), 7);
    assert_eq!(
        Service::from_snapshot_json(&saved.to_snapshot_json(), &path)
            .unwrap()
            .generation(),
        3
    );
}

// ---------------------------------------------------------------- saving

#[test]
fn concurrent_savers_all_succeed_and_leave_one_whole_file() {
    let dir = tmpdir("concurrent");
    let path = dir.join("state.json");
    let handles: Vec<_> = (0..8u64)
        .map(|i| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut s = Service::new(World::new().bandwidth(1_000 + i));
                s.add_user(&format!("user{i}"), false, true);
                for _ in 0..25 {
                    s.save(&path).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let mut s = Service::new(World::new());
    s.load(&path).unwrap();
    // One whole save of one saver: its bandwidth and its user belong together.
    let i = s.world().bandwidth_per_sec() - 1_000;
    assert!(i < 8, "bandwidth {}", s.world().bandwidth_per_sec());
    assert!(s.user_id(&format!("user{i}")).is_some());
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "no temporary left: {names:?}");
}

#[test]
fn stale_temporaries_from_a_crashed_run_do_not_block_a_save() {
    let dir = tmpdir("stale");
    let path = dir.join("state.json");
    // The old fixed name (`.NAME.tmp-PID`) and a few of today's shape, as a crash would leave them.
    let stale = [
        format!(".state.json.tmp-{}", std::process::id()),
        format!(".state.json.tmp-{}-0-00000000", std::process::id()),
        format!(".state.json.tmp-{}-1-deadbeef", std::process::id()),
    ];
    for name in &stale {
        std::fs::write(dir.join(name), b"half a snapsh").unwrap();
    }
    let (s, ..) = busy();
    s.save(&path).unwrap();
    let mut back = Service::new(World::new());
    back.load(&path).unwrap();
    assert_eq!(back.now(), s.now());
    for name in &stale {
        assert_eq!(
            std::fs::read(dir.join(name)).unwrap(),
            b"half a snapsh",
            "left alone"
        );
    }
}

#[test]
fn saving_refuses_to_replace_a_directory() {
    let dir = tmpdir("dir-target");
    let target = dir.join("state.json");
    std::fs::create_dir(&target).unwrap();
    let (s, ..) = busy();
    let e = s.save(&target).unwrap_err();
    assert!(
        matches!(
            e,
            SnapshotError::NotARegularFile {
                kind: "a directory",
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("state.json"), "{e}");
    assert!(target.is_dir());
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "no temporary left"
    );
}

#[cfg(unix)]
#[test]
fn saving_refuses_to_replace_a_symlink_or_a_device() {
    let dir = tmpdir("link-target");
    let real = dir.join("real.json");
    std::fs::write(&real, b"precious").unwrap();
    let link = dir.join("state.json");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let (s, ..) = busy();
    let e = s.save(&link).unwrap_err();
    assert!(
        matches!(
            e,
            SnapshotError::NotARegularFile {
                kind: "a symbolic link",
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(std::fs::read(&real).unwrap(), b"precious");
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        2,
        "no temporary left"
    );

    let dev = Path::new("/dev/null");
    let e = s.save(dev).unwrap_err();
    assert!(matches!(e, SnapshotError::NotARegularFile { .. }), "{e}");
    assert!(e.to_string().contains("/dev/null"), "{e}");
}

// ---------------------------------------------------------------- corruption: load or refuse

/// Load `json` into a running service: it either refuses (and the service is untouched) or loads
/// a service that runs within a step bound without panicking, stays consistent, and never reports
/// idle while a transfer could move.
fn load_or_refuse(json: &str, tag: &str) {
    let dir = tmpdir(&format!("corrupt-{tag}"));
    let path = dir.join("c.json");
    std::fs::write(&path, json).unwrap();
    let (mut s, ..) = busy();
    let before = s.to_snapshot_json();
    let trace_before = s.trace().len();
    match s.load(&path) {
        Err(e) => {
            assert_eq!(
                s.to_snapshot_json(),
                before,
                "refused ({e}) but the service changed"
            );
            assert_eq!(s.trace().len(), trace_before);
            assert!(e.to_string().contains("c.json"), "{e}");
        }
        Ok(()) => {
            let limit = s.now() + SimDuration::from_days(30);
            if let Ok(true) = s.run_until_idle_before(limit, 20_000) {
                assert!(s.is_idle());
                if s.world().bandwidth_per_sec() > 0 {
                    let observer = s.add_user("\u{1}observer", true, true);
                    let admin = s.connect("observer", observer);
                    let admin_view: Vec<JobState> = s
                        .all_job_ids()
                        .map(|j| s.state(admin, j).unwrap())
                        .collect();
                    assert!(
                        admin_view.iter().all(|st| !st.is_running()),
                        "idle with a transfer that could move: {admin_view:?}"
                    );
                    if s.world().network_status() == Network::Up {
                        for j in s.all_job_ids() {
                            let owner = s.user_by_sid(&s.owner(admin, j).unwrap()).unwrap();
                            let ready = s.state(admin, j) == Ok(JobState::Queued)
                                && s.user(owner).unwrap().logged_on;
                            assert!(!ready, "idle with job {j} ready to run but never started");
                        }
                    }
                }
            }
            // Whatever happened, the state is still one a snapshot can hold.
            let again = s.to_snapshot_json();
            Service::from_snapshot_json(&again, Path::new("after-run")).unwrap();
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_one_digit_change_of_a_small_v2_snapshot_loads_or_is_refused() {
    let (s, ..) = busy();
    let json = s.to_snapshot_json();
    let digits: Vec<usize> = json
        .bytes()
        .enumerate()
        .filter(|(_, b)| b.is_ascii_digit())
        .map(|(i, _)| i)
        .collect();
    assert!(digits.len() > 100);
    for (n, &i) in digits.iter().enumerate() {
        let mut bytes = json.clone().into_bytes();
        bytes[i] = b'0' + (bytes[i] - b'0' + 1) % 10;
        load_or_refuse(std::str::from_utf8(&bytes).unwrap(), &format!("v2d{n}"));
    }
}

#[test]
fn every_one_digit_change_of_the_v1_fixture_loads_or_is_refused() {
    let json = std::fs::read_to_string(repo_path(V1_BUSY)).unwrap();
    let digits: Vec<usize> = json
        .bytes()
        .enumerate()
        .filter(|(_, b)| b.is_ascii_digit())
        .map(|(i, _)| i)
        .collect();
    for (n, &i) in digits.iter().enumerate() {
        let mut bytes = json.clone().into_bytes();
        bytes[i] = b'0' + (bytes[i] - b'0' + 7) % 10;
        load_or_refuse(std::str::from_utf8(&bytes).unwrap(), &format!("v1d{n}"));
    }
}

/// Every leaf of a JSON value, as a path of keys and indexes.
fn leaves(
    v: &serde_json::Value,
    at: &mut Vec<serde_json::Value>,
    out: &mut Vec<Vec<serde_json::Value>>,
) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                at.push(k.clone().into());
                leaves(x, at, out);
                at.pop();
            }
        }
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                at.push(i.into());
                leaves(x, at, out);
                at.pop();
            }
        }
        _ => out.push(at.clone()),
    }
}

fn leaf_mut<'v>(
    v: &'v mut serde_json::Value,
    path: &[serde_json::Value],
) -> &'v mut serde_json::Value {
    path.iter().fold(v, |v, k| match k {
        serde_json::Value::String(k) => &mut v[k.as_str()],
        k => &mut v[k.as_u64().unwrap() as usize],
    })
}

#[derive(Clone, Debug)]
enum Corruption {
    /// Replace the byte at (a fraction of the length) by another.
    Byte(f64, u8),
    /// Replace one leaf by a value from a small pool of plausible and implausible ones.
    Field(f64, usize),
    /// Swap the values of two leaves (ids pointing at other things, times out of order).
    Swap(f64, f64),
    /// Drop one element of an array.
    Drop(f64),
}

fn corruption() -> impl Strategy<Value = Corruption> {
    prop_oneof![
        (0.0..1.0f64, any::<u8>()).prop_map(|(at, b)| Corruption::Byte(at, b)),
        (0.0..1.0f64, 0usize..12).prop_map(|(at, k)| Corruption::Field(at, k)),
        (0.0..1.0f64, 0.0..1.0f64).prop_map(|(a, b)| Corruption::Swap(a, b)),
        (0.0..1.0f64).prop_map(Corruption::Drop),
    ]
}

fn corrupt(json: &str, c: &Corruption) -> String {
    let mut v: serde_json::Value = serde_json::from_str(json).unwrap();
    let mut all = Vec::new();
    leaves(&v, &mut Vec::new(), &mut all);
    let pick = |f: f64| &all[((f * all.len() as f64) as usize).min(all.len() - 1)];
    match *c {
        Corruption::Byte(at, b) => {
            let mut bytes = json.as_bytes().to_vec();
            let i = ((at * bytes.len() as f64) as usize).min(bytes.len() - 1);
            bytes[i] = b;
            return String::from_utf8_lossy(&bytes).into_owned();
        }
        Corruption::Field(at, k) => {
            let pool = [
                serde_json::json!(0),
                serde_json::json!(1),
                serde_json::json!(2),
                serde_json::json!(3),
                serde_json::json!(7),
                serde_json::json!(99),
                serde_json::json!(1_000_000_000u64),
                serde_json::json!(null),
                serde_json::json!("QUEUED"),
                serde_json::json!("TRANSFERRING"),
                serde_json::json!(true),
                serde_json::json!(u32::MAX),
            ];
            *leaf_mut(&mut v, pick(at)) = pool[k].clone();
        }
        Corruption::Swap(a, b) => {
            let (pa, pb) = (pick(a).clone(), pick(b).clone());
            let x = leaf_mut(&mut v, &pa).clone();
            let y = std::mem::replace(leaf_mut(&mut v, &pb), x);
            *leaf_mut(&mut v, &pa) = y;
        }
        Corruption::Drop(at) => {
            let p = pick(at);
            if let Some((last, parent)) = p.split_last() {
                if let (Some(i), serde_json::Value::Array(a)) =
                    (last.as_u64(), leaf_mut(&mut v, parent))
                {
                    a.remove(i as usize);
                }
            }
        }
    }
    v.to_string()
}

proptest! {
    #![proptest_config(bitsim::testing::config(400))]

    #[test]
    fn a_corrupted_snapshot_loads_or_is_refused_and_never_panics_loops_or_stalls(
        cs in proptest::collection::vec(corruption(), 1..4),
        v1 in any::<bool>(),
    ) {
        let mut json = if v1 {
            std::fs::read_to_string(repo_path(V1_BUSY)).unwrap()
        } else {
            busy().0.to_snapshot_json()
        };
        for c in &cs {
            if serde_json::from_str::<serde_json::Value>(&json).is_err() {
                break;
            }
            json = corrupt(&json, c);
        }
        load_or_refuse(&json, "prop");
    }
}

/// D33: "resumed" survives a snapshot even where nothing else shows it (Resume then Suspend before
/// any progress), and is not written where the state already shows it.
#[test]
fn d33_resumed_survives_a_snapshot_where_nothing_else_shows_it() {
    let world = World::new().remote(A, Remote::sized(1_000));
    let mut s = Service::new(world);
    let u = s.add_user("alice", false, true);
    let a = s.connect("a", u);
    let quiet = s.create_job(a, "quiet", JobType::Download).unwrap();
    s.add_file(a, quiet, A, "C:\\q").unwrap();
    s.resume(a, quiet).unwrap();
    s.suspend(a, quiet).unwrap();
    let fresh = s.create_job(a, "fresh", JobType::Download).unwrap();
    s.add_file(a, fresh, A, "C:\\f").unwrap();
    let queued = s.create_job(a, "queued", JobType::Download).unwrap();
    s.add_file(a, queued, A, "C:\\g").unwrap();
    s.resume(a, queued).unwrap();
    assert_eq!(
        s.set_dynamic_content(a, quiet, true),
        Err(HResult::BG_E_READ_ONLY_PROPERTY_AFTER_RESUME)
    );
    let json = s.to_snapshot_json();
    assert_eq!(
        json.matches("\"resumed\"").count(),
        1,
        "only the quiet job needs the flag written: {json}"
    );
    let mut loaded = Service::from_snapshot_json(&json, Path::new("mem")).unwrap();
    assert_eq!(
        loaded.set_dynamic_content(a, quiet, true),
        Err(HResult::BG_E_READ_ONLY_PROPERTY_AFTER_RESUME)
    );
    assert_eq!(
        loaded.set_dynamic_content(a, queued, true),
        Err(HResult::BG_E_READ_ONLY_PROPERTY_AFTER_RESUME)
    );
    assert_eq!(loaded.set_dynamic_content(a, fresh, true), Ok(()));
}

/// D53, D55: the network's cost and a job's elapsed download time go through save and load exactly
/// (written only when set), and the loaded service reaches T23 at the same instant as the original.
#[test]
fn d53_d55_network_cost_and_download_time_round_trip() {
    let world = World::new()
        .bandwidth(1_000)
        .remote(A, Remote::sized(100_000));
    let mut s = Service::new(world);
    let alice = s.add_user("alice", false, true);
    let a = s.connect("app", alice);
    let j = s.create_job(a, "timed", JobType::Download).unwrap();
    s.add_file(a, j, A, "C:\\dl\\a.bin").unwrap();
    s.set_maximum_download_time(a, j, 30).unwrap();
    s.resume(a, j).unwrap();
    s.advance(SimDuration::from_secs(10));
    // 10 s of transfer, then blocked by the cost: TRANSIENT_ERROR with 10 s counted.
    s.set_network_cost(0x10); // OVERCAP_CHARGED: TRANSFER_STANDARD does not allow it
    assert_eq!(s.state(a, j), Ok(JobState::TransientError));
    let json = s.to_snapshot_json();
    assert!(json.contains("\"network_cost\""), "the cost is saved");
    assert!(json.contains("\"download_time_ms\""), "the count is saved");
    let mut loaded = Service::from_snapshot_json(&json, Path::new("mem")).unwrap();
    assert_eq!(
        loaded.to_snapshot_json(),
        json,
        "load then save reproduces the file"
    );
    for svc in [&mut s, &mut loaded] {
        svc.advance(SimDuration::from_secs(100));
        assert_eq!(svc.state(a, j), Ok(JobState::TransientError));
        svc.set_network_cost(0x1);
        svc.advance(SimDuration::from_secs(19));
        assert_eq!(svc.state(a, j), Ok(JobState::Transferring));
        svc.advance(SimDuration::from_secs(1));
        assert_eq!(svc.state(a, j), Ok(JobState::Error));
        let obj = svc.get_error(a, j).unwrap();
        assert_eq!(
            svc.check_error_object(&obj).map(|e| e.code),
            Ok(HResult::BG_E_MAXDOWNLOAD_TIMEOUT)
        );
    }
    // A fresh service writes neither.
    let fresh = Service::new(World::new()).to_snapshot_json();
    assert!(!fresh.contains("network_cost") && !fresh.contains("download_time_ms"));
}

/// T21, D99: Group Policy's block of background transfers goes through save and load exactly
/// (written only when set); a blocked job stays blocked in both, and the end of the window queues
/// it in both, which then finish at the same instant. A FOREGROUND job never waits.
#[test]
fn t21_d99_policy_block_round_trip() {
    let world = World::new()
        .bandwidth(1_000)
        .remote(A, Remote::sized(10_000));
    let mut s = Service::new(world);
    let alice = s.add_user("alice", false, true);
    let a = s.connect("app", alice);
    let j = s.create_job(a, "bg", JobType::Download).unwrap();
    s.add_file(a, j, A, "C:\\dl\\a.bin").unwrap();
    let f = s.create_job(a, "fg", JobType::Download).unwrap();
    s.add_file(a, f, A, "C:\\dl\\f.bin").unwrap();
    s.set_priority(a, f, 0).unwrap(); // FOREGROUND
    s.resume(a, j).unwrap();
    s.advance(SimDuration::from_secs(4));
    s.set_background_policy_block(true);
    s.resume(a, f).unwrap();
    s.advance(SimDuration::from_secs(1));
    assert_eq!(s.state(a, j), Ok(JobState::TransientError));
    assert_eq!(s.state(a, f), Ok(JobState::Transferring));
    let json = s.to_snapshot_json();
    assert!(
        json.contains("\"policy_blocks_background\""),
        "the block is saved"
    );
    let mut loaded = Service::from_snapshot_json(&json, Path::new("mem")).unwrap();
    assert_eq!(
        loaded.to_snapshot_json(),
        json,
        "load then save reproduces the file"
    );
    assert!(loaded.world().background_blocked_by_policy());
    for svc in [&mut s, &mut loaded] {
        svc.advance(SimDuration::from_secs(3_600));
        assert_eq!(svc.state(a, j), Ok(JobState::TransientError));
        assert_eq!(svc.state(a, f), Ok(JobState::Transferred));
        let obj = svc.get_error(a, j).unwrap();
        assert_eq!(
            svc.check_error_object(&obj).map(|e| e.code),
            Ok(HResult::BG_E_BLOCKED_BY_POLICY)
        );
        assert_eq!(svc.error_count(a, j), Ok(0));
        svc.set_background_policy_block(false);
        assert_eq!(svc.state(a, j), Ok(JobState::Queued));
        // 4,000 bytes were on disk before the block: 6 s for the rest.
        svc.advance(SimDuration::from_secs(5));
        assert_eq!(svc.state(a, j), Ok(JobState::Transferring));
        svc.advance(SimDuration::from_secs(1));
        assert_eq!(svc.state(a, j), Ok(JobState::Transferred));
    }
    let fresh = Service::new(World::new()).to_snapshot_json();
    assert!(!fresh.contains("policy_blocks_background"));
}

/// §5.2–§5.4, D49–D52: the command line (with its user), the programs and COM servers of the world,
/// a queued launch, a pending relaunch and the unread launch log all survive a save and load exactly,
/// and the loaded service goes on launching as the original does.
#[test]
fn command_lines_com_servers_and_launches_round_trip() {
    let clsid = 0x6E1A_D6D4_0C3A_4B4E_9A55_2F1D_3C4B_5A69;
    let world = World::new()
        .remote(A, Remote::sized(1000))
        .remote(B, Remote::sized(1000))
        .program("C:\\bin\\n.exe", Program::exits(2))
        .com_server(clsid, ComServer::new("svc", HResult::E_FAIL));
    let mut s = Service::new(world);
    let u = s.add_user("alice", false, true);
    let a = s.connect("a", u);
    let j = s.create_job(a, "j", JobType::Download).unwrap();
    s.add_file(a, j, A, "C:\\dl\\a").unwrap();
    s.set_notify_cmd_line(a, j, (Some("C:\\bin\\n.exe"), Some("n.exe 1")))
        .unwrap();
    let k = s.create_job(a, "k", JobType::Download).unwrap();
    s.add_file(a, k, B, "C:\\dl\\b").unwrap();
    s.set_notification_clsid(a, k, clsid).unwrap();
    s.resume(a, j).unwrap();
    s.resume(a, k).unwrap();
    s.advance(SimDuration::from_secs(1));
    // j launched once (exit 2: a relaunch is pending); k's server answered E_FAIL (a retry is pending).
    assert_eq!(s.take_launches().len(), 1);
    s.advance(SimDuration::from_secs(600));
    let json = s.to_snapshot_json();
    assert!(json.contains("\"programs\"") && json.contains("\"com_servers\""));
    assert!(json.contains("notify_cmd_line") && json.contains("\"launches\""));
    let mut loaded = Service::from_snapshot_json(&json, Path::new("mem")).unwrap();
    assert_eq!(
        loaded.to_snapshot_json(),
        json,
        "load then save reproduces the file"
    );
    assert_eq!(
        loaded.notify_cmd_line(a, j),
        Ok(("C:\\bin\\n.exe".to_string(), "n.exe 1".to_string()))
    );
    assert_eq!(loaded.take_launches(), s.take_launches());
    for svc in [&mut s, &mut loaded] {
        svc.advance(SimDuration::from_secs(600));
    }
    let l = loaded.take_launches();
    assert_eq!(l, s.take_launches());
    assert_eq!(
        l.len(),
        1,
        "the pending relaunch ran after the restore: {l:?}"
    );
    assert_eq!(l[0].exit_code, Some(2));
    let svc = loaded.app_named("svc").expect("activation started svc");
    assert_eq!(loaded.take_deliveries(svc), s.take_deliveries(svc));
    // A restart keeps the command line; TakeOwnership by another user would drop it (fixture).
    loaded.restart_service();
    let a2 = loaded.connect("a2", u);
    assert_eq!(
        loaded.notify_cmd_line(a2, j).map(|c| c.0),
        Ok("C:\\bin\\n.exe".to_string())
    );
}

/// A file's ranges (AddFileWithRanges, D57/D58) and a rejected file (T29, D59) survive save and load
/// exactly, and the loaded service continues the ranged transfer as the original does.
#[test]
fn ranges_and_rejected_content_round_trip() {
    let world = World::new()
        .remote(A, Remote::sized(100_000))
        .remote(B, Remote::sized(10))
        .bandwidth(1000);
    let mut s = Service::new(world);
    let u = s.add_user("alice", false, true);
    let a = s.connect("a", u);
    let j = s.create_job(a, "ranged", JobType::Download).unwrap();
    s.add_file(a, j, B, "C:\\b").unwrap();
    s.add_file_with_ranges(
        a,
        j,
        A,
        "C:\\a",
        &[(90_000, 1500), (0, BG_LENGTH_TO_EOF - 1)],
    )
    .unwrap_err();
    s.add_file_with_ranges(
        a,
        j,
        A,
        "C:\\a",
        &[(90_000, 1500), (99_000, BG_LENGTH_TO_EOF)],
    )
    .unwrap();
    s.resume(a, j).unwrap();
    s.advance(SimDuration::from_millis(500));
    s.set_validation_state(a, j, 0, false).unwrap();
    assert_eq!(s.state(a, j), Ok(JobState::Error));
    s.resume(a, j).unwrap();
    s.advance(SimDuration::from_millis(1500));
    let json = s.to_snapshot_json();
    assert!(json.contains("\"ranges\""), "the ranges are saved");
    let mut loaded = Service::from_snapshot_json(&json, Path::new("mem")).unwrap();
    assert_eq!(loaded.to_snapshot_json(), json);
    assert_eq!(
        loaded.file_ranges(a, j, 1),
        Ok(vec![(90_000, 1500), (99_000, BG_LENGTH_TO_EOF)])
    );
    assert_eq!(loaded.file_ranges(a, j, 0), Ok(vec![]));
    for svc in [&mut s, &mut loaded] {
        svc.advance(SimDuration::from_secs(10));
        assert_eq!(svc.state(a, j), Ok(JobState::Transferred));
        let p = svc.progress(a, j).unwrap();
        assert_eq!((p.bytes_total, p.bytes_transferred), (2510, 2510));
    }
}

/// On-demand state (D74–D76) survives save and load exactly, mid-transfer: the requested ranges, the
/// bytes on disk, the download position, the running plan and the `file6` mark; the loaded service
/// continues the on-demand transfer as the original does (T30, then TRANSFERRED).
#[test]
fn on_demand_state_round_trip_d74() {
    let world = World::new()
        .remote(A, Remote::sized(10_000))
        .bandwidth(1000);
    let mut s = Service::new(world);
    let u = s.add_user("alice", false, true);
    let a = s.connect("a", u);
    let j = s.create_job(a, "od", JobType::Download).unwrap();
    s.add_file(a, j, A, "C:\\a").unwrap();
    s.request_file_ranges(a, j, 0, &[(8000, 1000), (2000, 1000)])
        .unwrap();
    s.update_download_position(a, j, 0, 5000).unwrap();
    s.resume(a, j).unwrap();
    s.advance(SimDuration::from_millis(1500));
    assert_eq!(
        s.filled_file_ranges(a, j, 0),
        Ok(vec![(2000, 500), (8000, 1000)])
    );
    let json = s.to_snapshot_json();
    assert!(
        json.contains("\"on_demand\""),
        "the on-demand state is saved"
    );
    assert!(json.contains("\"file6\""), "the job's mark is saved");
    let mut loaded = Service::from_snapshot_json(&json, Path::new("mem")).unwrap();
    assert_eq!(loaded.to_snapshot_json(), json);
    for svc in [&mut s, &mut loaded] {
        svc.advance(SimDuration::from_secs(1));
        // T30: both requested ranges are on disk, the file is not.
        assert_eq!(svc.state(a, j), Ok(JobState::Suspended));
        assert_eq!(
            svc.filled_file_ranges(a, j, 0),
            Ok(vec![(2000, 1000), (8000, 1000)])
        );
        svc.resume(a, j).unwrap();
        svc.advance(SimDuration::from_secs(3));
        // From the position 5,000 first: 5,000..8,000 is on disk, 0..2,000 not yet.
        assert_eq!(
            svc.filled_file_ranges(a, j, 0),
            Ok(vec![(2000, 1000), (5000, 4000)])
        );
        svc.advance(SimDuration::from_secs(10));
        assert_eq!(svc.state(a, j), Ok(JobState::Transferred));
        assert_eq!(svc.filled_file_ranges(a, j, 0), Ok(vec![(0, 10_000)]));
    }
}

/// D64, D65 state survives save/load and a restart: a file's response headers and peer origin, a
/// `peer` remote, and a dynamic-content file whose size is still unknown (D62).
#[test]
fn peer_headers_and_dynamic_sizes_round_trip() {
    let mut shared = Remote::sized(100).from_peer();
    shared.headers = vec!["ETag: \"v1\"".to_string()];
    let dynamic = Remote::with_content(Body::pattern(5, 4000));
    let dynamic = Remote {
        size: None,
        ..dynamic
    };
    let mut s = Service::new(
        World::new()
            .remote(A, shared)
            .remote(B, dynamic)
            .bandwidth(1000),
    );
    let u = s.add_user("alice", false, true);
    let a = s.connect("a", u);
    let p = s.create_job(a, "peer", JobType::Download).unwrap();
    s.set_peer_caching_flags(a, p, 1).unwrap();
    s.add_file(a, p, A, "C:\\p").unwrap();
    let d = s.create_job(a, "dyn", JobType::Download).unwrap();
    s.set_dynamic_content(a, d, true).unwrap();
    s.add_file(a, d, B, "C:\\d").unwrap();
    s.set_priority(a, p, 0).unwrap();
    s.set_priority(a, d, 0).unwrap();
    s.resume(a, p).unwrap();
    s.resume(a, d).unwrap();
    s.advance(SimDuration::from_secs(2));
    assert!(s.downloaded_from_peer(a, p, 0).unwrap());
    assert_eq!(s.file_property(a, p, 0, 1).unwrap(), "ETag: \"v1\"\r\n");
    assert_eq!(s.progress(a, d).unwrap().bytes_total, BG_SIZE_UNKNOWN);
    let json = s.to_snapshot_json();
    let mut loaded = Service::from_snapshot_json(&json, Path::new("mem")).unwrap();
    assert_eq!(loaded.to_snapshot_json(), json);
    loaded.restart_service();
    assert!(loaded.downloaded_from_peer(a, p, 0).unwrap());
    assert_eq!(
        loaded.file_property(a, p, 0, 1).unwrap(),
        "ETag: \"v1\"\r\n"
    );
    assert!(loaded.world().remotes()[A].peer);
    loaded.advance(SimDuration::from_secs(60));
    assert_eq!(loaded.state(a, d).unwrap(), JobState::Transferred);
    assert_eq!(loaded.progress(a, d).unwrap().bytes_total, 4000);
}

/// Callback2 FileTransferred (D60, D81): a pending re-call of a failed FileTransferred, the calls
/// waiting behind it, the file index of the logged deliveries and a scripted registration's
/// `implements` survive save and load exactly, and the loaded service re-calls the file as the
/// original does.
#[test]
fn d60_file_transferred_retries_and_levels_round_trip() {
    let world = World::new()
        .remote(A, Remote::sized(1000))
        .remote(B, Remote::sized(1000));
    let mut s = Service::new(world);
    let u = s.add_user("alice", false, true);
    let a = s.connect("a", u);
    let j = s.create_job(a, "j", JobType::Download).unwrap();
    s.add_file(a, j, A, "C:\\dl\\a").unwrap();
    s.add_file(a, j, B, "C:\\dl\\b").unwrap();
    s.set_notify_flags(a, j, 0x10).unwrap();
    s.set_notify_interface_implementing(a, j, Some(Notifier::Answer(HResult::E_FAIL)), 2)
        .unwrap();
    s.resume(a, j).unwrap();
    s.advance(SimDuration::from_secs(1));
    let first = s.take_deliveries(a);
    let files: Vec<_> = first.iter().map(|d| d.notification.file).collect();
    // D81: file 1's call waits behind file 0's failing one.
    assert_eq!(files, [Some(0)]);
    s.advance(SimDuration::from_secs(60));
    let json = s.to_snapshot_json();
    assert!(json.contains("file_notify_retry"), "{json}");
    assert!(json.contains("\"file_notices\""), "{json}");
    assert!(json.contains("\"implements\""));
    let mut loaded = Service::from_snapshot_json(&json, Path::new("mem")).unwrap();
    assert_eq!(
        loaded.to_snapshot_json(),
        json,
        "load then save reproduces the file"
    );
    for svc in [&mut s, &mut loaded] {
        svc.advance(SimDuration::from_secs(600));
    }
    let again = loaded.take_deliveries(a);
    assert_eq!(again, s.take_deliveries(a));
    let files: Vec<_> = again.iter().map(|d| d.notification.file).collect();
    assert_eq!(
        files,
        [Some(0)],
        "file 0 was called again; file 1 still waits (D81)"
    );
}

/// §7, D71, D72: an upload-reply job's reply state (file name, progress of a reply cut by a
/// transient failure, the application having answered) and the server's remaining reply script
/// survive a snapshot exactly, and the future is the same.
#[test]
fn upload_reply_state_round_trips() {
    const U: &str = "https://example.test/app";
    let world = World::new()
        .remote(
            U,
            Remote::default().with_reply(
                Body::text("receipt"),
                [Some(500), None],
                [Response::http(503).after_bytes(3), Response::http(503)],
            ),
        )
        .local("C:\\up\\q.bin", 10);
    let mut s = Service::new(world);
    let u = s.add_user("alice", false, true);
    let a = s.connect("a", u);
    let j = s.create_job(a, "ask", JobType::UploadReply).unwrap();
    s.add_file(a, j, U, "C:\\up\\q.bin").unwrap();
    s.set_reply_file_name(a, j, Some("C:\\replies\\r.txt"))
        .unwrap();
    s.set_minimum_retry_delay(a, j, 5).unwrap();
    s.resume(a, j).unwrap();
    // The application answers 500, then "ok"; the reply is cut after 3 bytes.
    s.advance(SimDuration::from_secs(7));
    assert_eq!(s.state(a, j), Ok(JobState::TransientError));
    let p = s.reply_progress(a, j).unwrap();
    assert_eq!((p.bytes_total, p.bytes_transferred), (7, 3));
    let json = s.to_snapshot_json();
    assert!(json.contains("\"reply\""), "the reply state is saved");
    let mut loaded = Service::from_snapshot_json(&json, Path::new("mem")).unwrap();
    assert_eq!(
        loaded.to_snapshot_json(),
        json,
        "load then save reproduces the file"
    );
    assert_eq!(loaded.reply_progress(a, j), s.reply_progress(a, j));
    assert_eq!(
        loaded.reply_file_name(a, j).unwrap().as_deref(),
        Some("C:\\replies\\r.txt")
    );
    let run = |s: &mut Service| {
        s.take_trace();
        s.restart_service();
        s.advance(SimDuration::from_secs(60));
        s.take_trace()
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
    };
    let (t1, t2) = (run(&mut s), run(&mut loaded));
    assert_eq!(t1, t2);
    assert_eq!(loaded.state(a, j), Ok(JobState::Transferred));
    assert_eq!(
        loaded.reply_data(a, j),
        Ok(ReplyData::Data(b"receipt".to_vec()))
    );
    // A job without a reply saves no reply block (existing snapshots keep their bytes).
    let mut plain = Service::new(World::new().local("C:\\up\\q.bin", 10));
    let pu = plain.add_user("bob", false, true);
    let pa = plain.connect("b", pu);
    let pj = plain.create_job(pa, "up", JobType::Upload).unwrap();
    plain.add_file(pa, pj, U, "C:\\up\\q.bin").unwrap();
    assert!(!plain.to_snapshot_json().contains("\"reply\""));
}

/// T23 (D55): a hand-edited snapshot whose running job has spent more than its maximum download
/// time before the snapshot's instant is refused (the service would have ended it first); the same
/// file with a count that leaves time loads and ends the job when the rest runs out.
#[test]
fn t23_a_running_job_past_its_deadline_is_refused_on_load() {
    let world = World::new()
        .bandwidth(1_000)
        .remote(A, Remote::sized(100_000));
    let mut s = Service::new(world);
    let alice = s.add_user("alice", false, true);
    let a = s.connect("app", alice);
    let j = s.create_job(a, "timed", JobType::Download).unwrap();
    s.add_file(a, j, A, "C:\\dl\\a.bin").unwrap();
    s.set_maximum_download_time(a, j, 30).unwrap();
    s.resume(a, j).unwrap();
    s.advance(SimDuration::from_secs(10));
    assert_eq!(s.state(a, j), Ok(JobState::Transferring));
    let json = s.to_snapshot_json();
    let with_count = |ms: i64| {
        let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let job = &mut v["jobs"][0];
        assert!(job["options"].is_object(), "the options are saved: {job}");
        job["options"]["download_time_ms"] = ms.into();
        serde_json::to_string(&v).unwrap()
    };
    // Entered its running state at or before 0 s; 10 s later, with 25 s counted before, 30 s are
    // used up at 5 s: refused.
    let err = Service::from_snapshot_json(&with_count(25_000), Path::new("edited.json"))
        .expect_err("a deadline in the past is refused");
    let msg = err.to_string();
    assert!(
        msg.contains("maximum download time") && msg.contains("edited.json"),
        "{msg}"
    );
    // 15 s counted before: 5 s remain after the snapshot's instant.
    let mut ok = Service::from_snapshot_json(&with_count(15_000), Path::new("edited.json"))
        .expect("a deadline still ahead loads");
    ok.advance(SimDuration::from_secs(4));
    assert_eq!(ok.state(a, j), Ok(JobState::Transferring));
    ok.advance(SimDuration::from_secs(2));
    assert_eq!(ok.state(a, j), Ok(JobState::Error));
}
