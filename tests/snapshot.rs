//! Durable snapshots — exact round trips, clear errors for bad files that leave the running
//! service untouched, and atomic saves.

use bitsim::*;
use bitsim::{save_atomically, SaveStage};
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
        .replacen("\"version\":1", "\"version\":99", 1);
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
    v["jobs"][0]["retry_delay"] = serde_json::json!(1);
    let (e, _) = load_err(&v.to_string());
    assert!(e.to_string().contains("below 5 s"), "{e}");
}

#[test]
fn a_failed_or_interrupted_save_leaves_the_previous_file_intact() {
    let dir = tmpdir("atomic");
    let path = dir.join("state.json");
    let (s, ..) = busy();
    s.save(&path).unwrap();
    let before = std::fs::read(&path).unwrap();
    for stage in [SaveStage::Written, SaveStage::Flushed] {
        let r = save_atomically(&path, b"{\"half\":", |at| {
            if at == stage {
                Err(std::io::Error::other("power cut"))
            } else {
                Ok(())
            }
        });
        let e = r.unwrap_err();
        assert!(e.to_string().contains("power cut"), "{e}");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "interrupted at {stage:?}"
        );
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "temporary file removed"
        );
    }
    let missing = dir.join("no-such-dir").join("state.json");
    assert!(matches!(s.save(&missing), Err(SnapshotError::Io { .. })));
    let mut fresh = Service::new(World::new());
    fresh.load(&path).unwrap();
    assert_eq!(fresh.now(), s.now());
}

#[test]
fn d15_restart_goes_through_the_snapshot_path_and_drops_code_callbacks() {
    let (mut s, a, _, jobs) = busy();
    s.set_notify_interface(
        a,
        jobs[3],
        Some(Notifier::Callback(Box::new(|_: &Notification| {
            HResult::S_OK
        }))),
    )
    .unwrap();
    let json = s.to_snapshot_json();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        v["registrations"].as_array().unwrap().len(),
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
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

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
