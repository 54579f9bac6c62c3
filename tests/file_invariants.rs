//! The file invariants of a sandboxed run (the harness with a world `"sandbox": true`, the mode the
//! fuzz targets select with `SANDBOX_MARK`): a clean run passes them, and each rule fires when the
//! sandbox is tampered with between two steps (so a passing fuzz run means something).

use bitsim::scenario::{Action, Op, SandboxSpec, StateMethod, UserSpec, WorldSpec};
use bitsim::testing::{make, run_scenario, Draw, Harness, ScenarioVerdict, Setup};
use bitsim::{Body, JobType, PropertyValue, Remote};
use std::fs;
use std::io::{Seek, SeekFrom, Write};
use std::path::PathBuf;

const URL: &str = "https://x.test/a.bin";
const LOCAL: &str = "C:\\dl\\a.bin";
const SIZE: u64 = 5000;

fn setup() -> Setup {
    Setup::new(WorldSpec {
        users: vec![UserSpec {
            name: "alice".into(),
            admin: false,
            logged_on: true,
        }],
        bandwidth: Some(1000),
        remotes: vec![(URL.into(), Remote::sized(SIZE))],
        sandbox: Some(SandboxSpec::Fresh),
        ..WorldSpec::default()
    })
}

fn call(a: Action) -> Draw {
    Draw::call(0, 0, a)
}

fn advance(seconds: u64) -> Draw {
    Draw::env(Op::Advance { seconds })
}

/// Two seconds of transfer at 1,000 bytes a second, then Suspend: the service settles the transfer
/// and has written its 2,000 bytes (the checker compares with the bytes the service has written: it
/// never flushes a running transfer itself, which would move ModificationTime, §8.2).
fn partial() -> [Draw; 2] {
    [advance(2), call(make::state(StateMethod::Suspend))]
}

/// A sandboxed run: one download job (HIGH_PERFORMANCE if `hp`) of `URL` to `LOCAL`, resumed, then
/// `steps`; every step must pass.
fn run(hp: bool, steps: &[Draw]) -> Harness {
    let mut all = vec![call(make::create_job("update", JobType::Download))];
    if hp {
        all.push(call(make::set(PropertyValue::HighPerformance(true))));
    }
    all.push(call(make::add_file(URL, LOCAL)));
    all.push(call(make::state(StateMethod::Resume)));
    all.extend_from_slice(steps);
    let mut h = Harness::new(&setup());
    for d in &all {
        if let Err(c) = h.step(d) {
            panic!("a clean sandboxed run broke a rule: {c}");
        }
    }
    h
}

/// The next step (nothing happens in it) breaks `rule`.
fn fires(h: &mut Harness, rule: &str) {
    let err = h
        .step(&advance(0))
        .expect_err("the tampered sandbox must break a rule");
    assert_eq!(err.violation.rule, rule, "{err}");
}

fn dl(h: &Harness) -> PathBuf {
    h.sandbox_root()
        .expect("a sandboxed run")
        .join("C")
        .join("dl")
}

/// The `BIT*.tmp` files in the download folder.
fn temps(h: &Harness) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dl(h))
        .map(|es| es.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.retain(|p| p.file_name().unwrap().to_string_lossy().starts_with("BIT"));
    v.sort();
    v
}

/// The first `n` bytes of the remote's body, as the content module generates it.
fn body(n: u64) -> Vec<u8> {
    let mut buf = vec![0u8; n as usize];
    let got = Body::default_for(URL, SIZE).read_at(0, &mut buf);
    assert_eq!(got as u64, n);
    buf
}

/// Overwrite byte `at` of `p` with a different value.
fn flip(p: &PathBuf, at: u64) {
    let old = fs::read(p).unwrap()[at as usize];
    let mut f = fs::OpenOptions::new().write(true).open(p).unwrap();
    f.seek(SeekFrom::Start(at)).unwrap();
    f.write_all(&[old ^ 0x5A]).unwrap();
}

#[test]
fn d40_a_clean_sandboxed_run_holds_exactly_the_bytes_so_far_then_the_body() {
    let mut h = run(false, &partial());
    let t = temps(&h);
    assert_eq!(t.len(), 1, "{t:?}");
    assert_eq!(fs::read(&t[0]).unwrap(), body(2000));
    for d in [
        call(make::state(StateMethod::Resume)),
        advance(10),
        call(make::state(StateMethod::Complete)),
    ] {
        h.step(&d).unwrap_or_else(|c| panic!("{c}"));
    }
    assert!(temps(&h).is_empty() && !t[0].exists());
    assert_eq!(fs::read(dl(&h).join("a.bin")).unwrap(), body(SIZE));
    let folder = h.sandbox_folder().unwrap().to_path_buf();
    assert!(folder.is_dir());
    drop(h);
    assert!(!folder.exists(), "the harness leaves no folder behind");
}

#[test]
fn d40_a_tampered_temporary_file_breaks_the_rule() {
    let mut h = run(false, &partial());
    flip(&temps(&h)[0], 10);
    fires(&mut h, "D40 temporary");

    let mut h = run(false, &partial());
    let f = fs::OpenOptions::new()
        .write(true)
        .open(&temps(&h)[0])
        .unwrap();
    f.set_len(1999).unwrap();
    fires(&mut h, "D40 temporary");

    let mut h = run(false, &partial());
    fs::remove_file(&temps(&h)[0]).unwrap();
    fires(&mut h, "D40 temporary");
}

#[test]
fn d40_a_tampered_completed_file_breaks_the_rule() {
    let done = [advance(10), call(make::state(StateMethod::Complete))];
    let mut h = run(false, &done);
    flip(&dl(&h).join("a.bin"), SIZE - 1);
    fires(&mut h, "D40 complete");

    let mut h = run(false, &done);
    fs::remove_file(dl(&h).join("a.bin")).unwrap();
    fires(&mut h, "D40 complete");
}

#[test]
fn d40_a_temporary_file_back_after_cancel_breaks_the_rule() {
    let mut h = run(false, &[advance(2)]);
    let t = temps(&h)[0].clone();
    h.step(&call(make::state(StateMethod::Cancel)))
        .unwrap_or_else(|c| panic!("{c}"));
    assert!(!t.exists(), "Cancel deletes the temporary file");
    h.step(&advance(5)).unwrap_or_else(|c| panic!("{c}"));
    fs::write(&t, body(2000)).unwrap();
    fires(&mut h, "D40 cancel");
}

#[test]
fn d63_high_performance_writes_the_local_name_and_a_tampered_one_breaks_the_rule() {
    let mut h = run(true, &partial());
    assert!(temps(&h).is_empty(), "D63: no temporary file");
    let local = dl(&h).join("a.bin");
    assert_eq!(fs::read(&local).unwrap(), body(2000));
    flip(&local, 0);
    fires(&mut h, "D63");
}

#[test]
fn d41_a_stray_file_breaks_the_rule() {
    let mut h = run(false, &[advance(2)]);
    fs::write(dl(&h).join("extra.bin"), b"x").unwrap();
    fires(&mut h, "D41 stray");
}

#[cfg(unix)]
#[test]
fn d41_a_symbolic_link_breaks_the_rule() {
    let mut h = run(false, &[advance(2)]);
    std::os::unix::fs::symlink(std::env::temp_dir(), dl(&h).join("link")).unwrap();
    fires(&mut h, "D41 symlink");
}

#[test]
fn d41_a_file_beside_the_sandbox_breaks_the_rule() {
    let mut h = run(false, &[advance(2)]);
    let beside = h.sandbox_folder().unwrap().join("escaped.bin");
    fs::write(beside, b"x").unwrap();
    fires(&mut h, "D41 outside");
}

#[test]
fn a_sandboxed_harness_removes_its_folder_even_when_a_panic_unwinds() {
    let folder = std::sync::Mutex::new(None);
    let r = std::panic::catch_unwind(|| {
        let h = run(false, &[advance(2)]);
        *folder.lock().unwrap() = Some(h.sandbox_folder().unwrap().to_path_buf());
        panic!("a failing test");
    });
    assert!(r.is_err());
    let folder = folder.lock().unwrap().clone().expect("the run started");
    assert!(!folder.exists(), "{} is left behind", folder.display());
}

#[test]
fn a_sandboxed_replay_states_the_sandbox_and_passes_in_the_runner() {
    let h = run(
        false,
        &[advance(10), call(make::state(StateMethod::Complete))],
    );
    let text = h.scenario().to_json();
    assert!(text.contains("\"sandbox\": true"), "{text}");
    assert_eq!(run_scenario(&text), ScenarioVerdict::Passed, "{text}");
}

#[test]
fn d58_a_ranged_file_holds_its_ranges_concatenated_and_a_tampered_one_breaks_the_rule() {
    let ranged = Action::Do(Op::AddFileWithRanges {
        job: String::new(),
        remote: URL.into(),
        local: LOCAL.into(),
        ranges: vec![(1000, 500), (100, 200)],
        expect: bitsim::HResult::S_OK,
    });
    let steps = [
        call(make::create_job("update", JobType::Download)),
        call(ranged),
        call(make::state(StateMethod::Resume)),
        advance(5),
        call(make::state(StateMethod::Complete)),
    ];
    let mut h = Harness::new(&setup());
    for d in &steps {
        h.step(d).unwrap_or_else(|c| panic!("{c}"));
    }
    let all = body(SIZE);
    let want = [&all[1000..1500], &all[100..300]].concat();
    let local = dl(&h).join("a.bin");
    assert_eq!(fs::read(&local).unwrap(), want, "D58: the ranges, in order");
    flip(&local, 600);
    fires(&mut h, "D40 complete");
}

// ---------------------------------------------------------------- D80: the reply file

const REPLY_URL: &str = "https://x.test/upload";
const UPLOAD: &str = "C:\\dl\\up.bin";
const REPLY: &[u8] = b"the server application's reply";

/// A sandboxed upload-reply job of `UPLOAD` (a 3,000-byte world local) to `REPLY_URL`, whose server
/// application answers `REPLY`; resumed and run until TRANSFERRED. Every step must pass.
fn reply_run() -> Harness {
    let setup = Setup::new(WorldSpec {
        users: vec![UserSpec {
            name: "alice".into(),
            admin: false,
            logged_on: true,
        }],
        bandwidth: Some(1000),
        remotes: vec![(
            REPLY_URL.into(),
            Remote::default().with_reply(Body::Bytes(REPLY.to_vec()), [], []),
        )],
        locals: vec![(UPLOAD.into(), 3000)],
        sandbox: Some(SandboxSpec::Fresh),
        ..WorldSpec::default()
    });
    let mut h = Harness::new(&setup);
    for d in [
        call(make::create_job("report", JobType::UploadReply)),
        call(make::add_file(REPLY_URL, UPLOAD)),
        call(make::state(StateMethod::Resume)),
        advance(60),
    ] {
        if let Err(c) = h.step(&d) {
            panic!("a clean sandboxed upload-reply run broke a rule: {c}");
        }
    }
    h
}

#[test]
fn d80_a_transferred_reply_is_in_its_temporary_file_and_a_tampered_one_breaks_the_rule() {
    let mut h = reply_run();
    let t = temps(&h);
    assert_eq!(t.len(), 1, "{t:?}");
    assert!(t[0].to_string_lossy().ends_with("FFFFFFFE.tmp"), "{t:?}");
    assert_eq!(fs::read(&t[0]).unwrap(), REPLY);
    flip(&t[0], 3);
    fires(&mut h, "D80 temporary");
}

#[test]
fn d80_complete_makes_the_reply_file_visible_and_a_tampered_one_breaks_the_rule() {
    let mut h = reply_run();
    h.step(&call(make::state(StateMethod::Complete)))
        .unwrap_or_else(|c| panic!("{c}"));
    let t = temps(&h);
    assert_eq!(t.len(), 1, "only the reply file is left: {t:?}");
    assert!(
        t[0].to_string_lossy().ends_with("FFFFFFFF.tmp"),
        "D72's generated name: {t:?}"
    );
    assert_eq!(fs::read(&t[0]).unwrap(), REPLY);
    flip(&t[0], 0);
    fires(&mut h, "D80 complete");
}

#[test]
fn d80_cancel_deletes_the_reply_and_a_reappearing_one_breaks_the_rule() {
    let mut h = reply_run();
    let t = temps(&h)[0].clone();
    h.step(&call(make::state(StateMethod::Cancel)))
        .unwrap_or_else(|c| panic!("{c}"));
    assert!(!t.exists(), "Cancel deletes the reply's temporary file");
    fs::write(&t, REPLY).unwrap();
    fires(&mut h, "D80 cancel");
}

// ---------------------------------------------------------------- D37: a finished file's new name

/// D37: ReplaceRemotePrefix renames finished files too, and they are never downloaded again: their
/// bytes stay those of the remote they came from. The checker must hold them to those bytes, not to
/// the new name's remote (here one the world does not have), up to and after Complete.
#[test]
fn d37_a_finished_file_renamed_keeps_the_bytes_it_finished_with() {
    let rename = call(Action::Do(Op::ReplaceRemotePrefix {
        job: String::new(),
        old_prefix: "https://x.test/".into(),
        new_prefix: "https://y.test/".into(),
        expect: bitsim::HResult::S_OK,
    }));
    let mut h = run(false, &[advance(30), rename.clone()]);
    let t = temps(&h);
    assert_eq!(t.len(), 1, "{t:?}");
    assert_eq!(fs::read(&t[0]).unwrap(), body(SIZE));
    flip(&t[0], 7);
    fires(&mut h, "D40 temporary");

    let mut h = run(false, &[advance(30), rename.clone()]);
    h.step(&call(make::state(StateMethod::Complete)))
        .unwrap_or_else(|c| panic!("{c}"));
    let local = dl(&h).join("a.bin");
    assert_eq!(fs::read(&local).unwrap(), body(SIZE));
    flip(&local, 7);
    fires(&mut h, "D40 complete");
}

const OTHER: &str = "https://y.test/a.bin";

/// `URL` and `OTHER`: two remotes of `SIZE` bytes with the same (default) Last-Modified time, whose
/// pattern bodies differ (each is seeded with its URL).
fn two_remotes() -> Setup {
    let mut s = setup();
    s.world.remotes.push((OTHER.into(), Remote::sized(SIZE)));
    s
}

/// `steps` after creating, filling and resuming one download job, in a machine of `setup`; every step
/// must pass.
fn run_in(setup: &Setup, steps: &[Draw]) -> Harness {
    let mut all = vec![
        call(make::create_job("update", JobType::Download)),
        call(make::add_file(URL, LOCAL)),
        call(make::state(StateMethod::Resume)),
    ];
    all.extend_from_slice(steps);
    let mut h = Harness::new(setup);
    for (i, d) in all.iter().enumerate() {
        if let Err(c) = h.step(d) {
            panic!("step {i} of a clean sandboxed run broke a rule: {c}");
        }
    }
    h
}

/// `[0, at)` of `first`'s body then `[at, SIZE)` of `second`'s.
fn spliced(first: &Body, second: &Body, at: u64) -> Vec<u8> {
    let mut out = vec![0u8; SIZE as usize];
    assert_eq!(first.read_at(0, &mut out[..at as usize]) as u64, at);
    assert_eq!(
        second.read_at(at, &mut out[at as usize..]) as u64,
        SIZE - at
    );
    out
}

#[test]
fn d38_a_file_renamed_to_a_remote_of_the_same_size_and_time_continues_with_both_bodies() {
    // §2.6: SetRemoteName / ReplaceRemotePrefix continue at the same offset when the new URL's size
    // and time stamp are the same (D38): the file holds the old remote's bytes so far, then the new
    // remote's. Two seconds from x, the rename while suspended, then `after` from y.
    let renamed_then = |after: &[Draw]| {
        let mut steps = vec![
            advance(2),
            call(make::state(StateMethod::Suspend)),
            call(Action::Do(Op::ReplaceRemotePrefix {
                job: String::new(),
                old_prefix: "https://x.test/".into(),
                new_prefix: "https://y.test/".into(),
                expect: bitsim::HResult::S_OK,
            })),
            call(make::state(StateMethod::Resume)),
        ];
        steps.extend_from_slice(after);
        run_in(&two_remotes(), &steps)
    };
    let (x, y) = (Body::default_for(URL, SIZE), Body::default_for(OTHER, SIZE));
    assert_ne!(x, y);
    let mut h = renamed_then(&[advance(1), call(make::state(StateMethod::Suspend))]);
    let t = temps(&h);
    assert_eq!(t.len(), 1, "{t:?}");
    assert_eq!(fs::read(&t[0]).unwrap(), spliced(&x, &y, 2000)[..3000]);
    flip(&t[0], 2500);
    fires(&mut h, "D40 temporary");

    let mut h = renamed_then(&[advance(10), call(make::state(StateMethod::Complete))]);
    let local = dl(&h).join("a.bin");
    assert_eq!(fs::read(&local).unwrap(), spliced(&x, &y, 2000));
    flip(&local, 1500);
    fires(&mut h, "D40 complete");
}

#[test]
fn d38_a_remote_changed_in_place_keeps_its_body_for_the_running_connection_then_continues() {
    // The world's remote gets other bytes of the same size and time stamp while a connection moves
    // bytes: that connection keeps the old body (D38, "a connection already moving bytes keeps the
    // old body"); the next connection continues at its offset with the new body.
    let new: Vec<u8> = (0..SIZE).map(|i| (i % 251) as u8).collect();
    let change = Draw::env(Op::SetRemote {
        url: URL.into(),
        remote: Box::new(Remote::with_content(Body::Bytes(new.clone()))),
    });
    let old = Body::default_for(URL, SIZE);
    let new = Body::Bytes(new);
    let mut h = run_in(
        &setup(),
        &[
            advance(1),
            change,
            advance(2),
            call(make::state(StateMethod::Suspend)),
            call(make::state(StateMethod::Resume)),
            advance(10),
            call(make::state(StateMethod::Complete)),
        ],
    );
    let local = dl(&h).join("a.bin");
    assert_eq!(fs::read(&local).unwrap(), spliced(&old, &new, 3000));
    flip(&local, 2999);
    fires(&mut h, "D40 complete");
}

// ---------------------------------------------------------------- D86: one local name, several writers

/// A step on the job behind handle `handle` (handles count newest first: 0 is the job created last).
fn on(handle: u8, a: Action) -> Draw {
    Draw::call(0, handle, a)
}

/// Resume job `handle`, let the clock run `seconds`, suspend it again.
fn run_for(handle: u8, seconds: u64) -> [Draw; 3] {
    [
        on(handle, make::state(StateMethod::Resume)),
        advance(seconds),
        on(handle, make::state(StateMethod::Suspend)),
    ]
}

/// Create a download job of `URL` to `LOCAL` (HIGH_PERFORMANCE if `hp`), and resume it.
fn job(hp: bool) -> Vec<Draw> {
    let mut v = vec![on(0, make::create_job("update", JobType::Download))];
    if hp {
        v.push(on(0, make::set(PropertyValue::HighPerformance(true))));
    }
    v.push(on(0, make::add_file(URL, LOCAL)));
    v.push(on(0, make::state(StateMethod::Resume)));
    v
}

/// `steps` in a fresh sandboxed machine of `setup`; every step must pass.
fn steps_in(setup: &Setup, steps: &[Draw]) -> Harness {
    let mut h = Harness::new(setup);
    for (i, d) in steps.iter().enumerate() {
        if let Err(c) = h.step(d) {
            panic!("step {i} of a clean sandboxed run broke a rule: {c}");
        }
    }
    h
}

#[test]
fn d86_a_later_high_performance_job_cancelled_leaves_its_bytes_not_the_earlier_jobs() {
    // j1 (HP) transfers all 5,000 bytes and stays TRANSFERRED; j2 (HP, same local name) writes two
    // seconds and is cancelled: the local name holds j2's 2,000 bytes (D63: Cancel removes nothing).
    let mut steps = job(true);
    steps.push(advance(10));
    steps.extend(job(true));
    steps.extend([advance(2), on(0, make::state(StateMethod::Cancel))]);
    let mut h = steps_in(&setup(), &steps);
    let local = dl(&h).join("a.bin");
    assert_eq!(fs::read(&local).unwrap(), body(2000));
    flip(&local, 1999);
    fires(&mut h, "D63");
}

#[test]
fn d86_the_earlier_jobs_bytes_left_in_place_are_reported() {
    // The old, wrong answer: j1's 5,000 bytes under the name j2 wrote last.
    let mut steps = job(true);
    steps.push(advance(10));
    steps.extend(job(true));
    steps.extend([advance(2), on(0, make::state(StateMethod::Cancel))]);
    let mut h = steps_in(&setup(), &steps);
    fs::write(dl(&h).join("a.bin"), body(SIZE)).unwrap();
    fires(&mut h, "D63");
}

/// A download job of `remote` to `LOCAL` (HIGH_PERFORMANCE if `hp`), resumed.
fn job_of(remote: &str, hp: bool) -> Vec<Draw> {
    let mut v = job(hp);
    let add = v.len() - 2;
    v[add] = on(0, make::add_file(remote, LOCAL));
    v
}

/// `n` bytes of `body` from `at`.
fn bytes_of(body: &Body, at: u64, n: u64) -> Vec<u8> {
    let mut buf = vec![0u8; n as usize];
    assert_eq!(body.read_at(at, &mut buf) as u64, n);
    buf
}

#[test]
fn d86_a_high_performance_job_continues_over_a_normal_jobs_completed_file() {
    // j1 (HP, x) writes 2,000 bytes and is suspended; j2 (normal, y) completes: its temporary file
    // replaces the local file (§1.7, D40). j1 resumes at 2,000 (D38: same size and time stamp): the
    // file holds y's first 2,000 bytes, then x's (D86).
    let (x, y) = (Body::default_for(URL, SIZE), Body::default_for(OTHER, SIZE));
    let then = |tail: &[Draw]| {
        let mut steps = job_of(URL, true);
        steps.extend(partial());
        steps.extend(job_of(OTHER, false));
        steps.extend([advance(10), on(0, make::state(StateMethod::Complete))]);
        steps.extend_from_slice(tail);
        steps_in(&two_remotes(), &steps)
    };
    let h = then(&[]);
    assert_eq!(
        fs::read(dl(&h).join("a.bin")).unwrap(),
        bytes_of(&y, 0, SIZE)
    );
    let resumed = run_for(1, 1);
    let mut h = then(&resumed);
    let local = dl(&h).join("a.bin");
    let want = [bytes_of(&y, 0, 2000), bytes_of(&x, 2000, 1000)].concat();
    assert_eq!(fs::read(&local).unwrap(), want);
    flip(&local, 500);
    fires(&mut h, "D40 complete");
    let mut h = then(&resumed);
    flip(&dl(&h).join("a.bin"), 2500);
    fires(&mut h, "D63");
}

#[test]
fn d86_a_high_performance_restart_at_0_empties_the_bytes_another_job_left() {
    // j1 (HP, y) writes 2,000 bytes and is suspended; j2 (HP, x) transfers all 5,000 (TRANSFERRED).
    // Resumed with y unchanged, j1 continues at 2,000 over j2's bytes; with y changed in size
    // (D38) it restarts at 0, which empties the local file, j2's bytes with it (D63).
    let (x, y) = (Body::default_for(URL, SIZE), Body::default_for(OTHER, SIZE));
    let then = |tail: &[Draw]| {
        let mut steps = job_of(OTHER, true);
        steps.extend(partial());
        steps.extend(job_of(URL, true));
        steps.push(advance(10));
        steps.extend_from_slice(tail);
        steps_in(&two_remotes(), &steps)
    };
    let h = then(&[]);
    assert_eq!(
        fs::read(dl(&h).join("a.bin")).unwrap(),
        bytes_of(&x, 0, SIZE)
    );
    let resume = run_for(1, 1);
    let mut h = then(&resume);
    let local = dl(&h).join("a.bin");
    let want = [bytes_of(&x, 0, 2000), bytes_of(&y, 2000, 1000)].concat();
    assert_eq!(fs::read(&local).unwrap(), want);
    flip(&local, 10);
    fires(&mut h, "D63");

    let mut changed = vec![Draw::env(Op::SetRemote {
        url: OTHER.into(),
        remote: Box::new(Remote::sized(SIZE - 1000)),
    })];
    changed.extend(resume);
    let mut h = then(&changed);
    let local = dl(&h).join("a.bin");
    assert_eq!(fs::read(&local).unwrap(), bytes_of(&y, 0, 1000));
    fs::write(&local, bytes_of(&x, 0, SIZE)).unwrap();
    fires(&mut h, "D63");
}

#[test]
fn d86_two_foreground_high_performance_jobs_writing_at_once_through_a_service_restart() {
    // FOREGROUND jobs run at once (D12): both write the one local name in the same seconds; every
    // byte is the one its last writer put there, across a service restart (the sandbox is host
    // state, D40).
    let fg = |remote: &str| {
        let mut v = job_of(remote, true);
        v.insert(
            2,
            on(0, make::set(PropertyValue::Priority(make::priority(0)))),
        );
        v
    };
    let mut steps = fg(URL);
    steps.push(advance(2));
    steps.extend(fg(OTHER));
    steps.extend([advance(2), Draw::env(Op::RestartService), advance(20)]);
    let mut h = steps_in(&two_remotes(), &steps);
    let local = dl(&h).join("a.bin");
    let got = fs::read(&local).unwrap();
    assert_eq!(got.len() as u64, SIZE);
    let (x, y) = (
        bytes_of(&Body::default_for(URL, SIZE), 0, SIZE),
        bytes_of(&Body::default_for(OTHER, SIZE), 0, SIZE),
    );
    assert!((0..got.len()).all(|i| got[i] == x[i] || got[i] == y[i]));
    flip(&local, 4999);
    fires(&mut h, "D63");
}

#[test]
fn d40_a_service_restart_keeps_the_sandbox_and_the_transfer_goes_on_writing_there() {
    // D40: the sandbox is host state, a service restart keeps it. A restart used to drop it: the
    // transfer then wrote nothing more (and the checker had nothing left to check).
    let mut h = run(
        false,
        &[advance(2), Draw::env(Op::RestartService), advance(10)],
    );
    let t = temps(&h);
    assert_eq!(t.len(), 1, "{t:?}");
    assert_eq!(fs::read(&t[0]).unwrap(), body(SIZE));
    flip(&t[0], SIZE - 1);
    fires(&mut h, "D40 temporary");
}

#[test]
fn d86_a_world_local_written_again_with_the_same_body_replaces_a_high_performance_jobs_bytes() {
    // LOCAL is a world local of 3,000 bytes; j1 (HP) writes 2,000 bytes over it and is suspended;
    // the world writes the local again, the same body: the file is the world's again (D40, D86). j1
    // resumed continues at 2,000: the world's first 2,000 bytes, then j1's.
    let mut setup = setup();
    setup.world.locals.push((LOCAL.into(), 3000));
    let w = Body::default_for(LOCAL, 3000);
    let written_again = |h: &mut Harness| {
        h.sim()
            .with_service_mut(|s| s.set_local_file(LOCAL, 3000, 0, None));
        h.step(&advance(0)).unwrap_or_else(|c| panic!("{c}"));
    };
    let mut steps = job(true);
    steps.extend(partial());
    let mut h = steps_in(&setup, &steps);
    let local = dl(&h).join("a.bin");
    assert_eq!(fs::read(&local).unwrap(), body(2000));
    written_again(&mut h);
    assert_eq!(fs::read(&local).unwrap(), bytes_of(&w, 0, 3000));
    let resumed = run_for(0, 2);
    for d in &resumed {
        h.step(d).unwrap_or_else(|c| panic!("{c}"));
    }
    assert_eq!(
        fs::read(&local).unwrap(),
        [bytes_of(&w, 0, 2000), body(4000)[2000..].to_vec()].concat()
    );
    flip(&local, 1000);
    fires(&mut h, "D40 local");
}

// ---------------------------------------------------------------- D89: a world local written after a Complete

/// LOCAL is also a world local of 3,000 bytes; a normal job of `URL` to it completes (its temporary
/// file replaces the world's file, §1.7, D40), then the world writes the local again with the same
/// body, size and time (`set_local`, D40): every step must pass.
fn completed_then_written_again() -> Harness {
    let mut setup = setup();
    setup.world.locals.push((LOCAL.into(), 3000));
    let mut steps = job(false);
    steps.extend([advance(10), on(0, make::state(StateMethod::Complete))]);
    steps.push(Draw::env(Op::SetLocal {
        path: LOCAL.into(),
        size: 3000,
        content: None,
        modified: 0,
    }));
    steps_in(&setup, &steps)
}

#[test]
fn d89_a_world_local_written_again_after_a_complete_is_the_worlds_and_not_reported() {
    let h = completed_then_written_again();
    let w = Body::default_for(LOCAL, 3000);
    let got = fs::read(dl(&h).join("a.bin")).unwrap();
    assert_eq!(
        got.len(),
        3000,
        "the world's 3,000 bytes, not the job's {SIZE}"
    );
    assert!(got == bytes_of(&w, 0, 3000), "the world's body");
}

#[test]
fn d89_the_completed_jobs_bytes_left_after_the_world_wrote_the_local_again_are_reported() {
    // The wrong file: the job's completed body still there after the world wrote its local again.
    let mut h = completed_then_written_again();
    fs::write(dl(&h).join("a.bin"), body(SIZE)).unwrap();
    fires(&mut h, "D40 local");
    let mut h = completed_then_written_again();
    flip(&dl(&h).join("a.bin"), 2999);
    fires(&mut h, "D40 local");
}

// ---------------------------------------------------------------- D90: on-demand files hold their ranges at their offsets

fn request(ranges: Vec<(u64, u64)>) -> Draw {
    on(
        0,
        Action::Do(Op::RequestFileRanges {
            job: String::new(),
            file: 0,
            ranges,
            expect: bitsim::HResult::S_OK,
        }),
    )
}

/// A download job of `URL` to `LOCAL` (HIGH_PERFORMANCE if `hp`) whose file 0 has the File6 requests
/// `[1000, 1500)` and `[3000, 3200)` (D74), resumed for one second: the requested ranges move first
/// (D75), 700 bytes, and the job is SUSPENDED (T30). Every step must pass.
fn requested(hp: bool) -> Harness {
    let mut steps = vec![on(0, make::create_job("update", JobType::Download))];
    if hp {
        steps.push(on(0, make::set(PropertyValue::HighPerformance(true))));
    }
    steps.extend([
        on(0, make::add_file(URL, LOCAL)),
        request(vec![(1000, 500), (3000, 200)]),
        on(0, make::state(StateMethod::Resume)),
        advance(1),
    ]);
    steps_in(&setup(), &steps)
}

/// What a file with `[1000, 1500)` and `[3000, 3200)` of the body on disk holds: zeros in the holes.
fn with_holes() -> Vec<u8> {
    let all = body(SIZE);
    let mut want = vec![0u8; 3200];
    want[1000..1500].copy_from_slice(&all[1000..1500]);
    want[3000..3200].copy_from_slice(&all[3000..3200]);
    want
}

/// Put a non-zero byte at `at` of `p` (a hole: no range written there).
fn poke(p: &PathBuf, at: u64) {
    let mut f = fs::OpenOptions::new().write(true).open(p).unwrap();
    f.seek(SeekFrom::Start(at)).unwrap();
    f.write_all(&[0xA5]).unwrap();
}

#[test]
fn d90_an_on_demand_temporary_file_holds_its_ranges_at_their_offsets_and_zeros_between() {
    let h = requested(false);
    let t = temps(&h);
    assert_eq!(t.len(), 1, "{t:?}");
    assert_eq!(fs::read(&t[0]).unwrap(), with_holes());
    // The job moves the rest in order when resumed (D75) and completes with the whole body.
    let mut h = h;
    for d in [
        on(0, make::state(StateMethod::Resume)),
        advance(10),
        on(0, make::state(StateMethod::Complete)),
    ] {
        h.step(&d).unwrap_or_else(|c| panic!("{c}"));
    }
    assert_eq!(fs::read(dl(&h).join("a.bin")).unwrap(), body(SIZE));
}

#[test]
fn d90_a_flipped_byte_in_a_range_and_a_byte_written_in_a_hole_are_reported() {
    for (at, inside) in [
        (1000, true),
        (1499, true),
        (3199, true),
        (0, false),
        (1500, false),
        (2999, false),
    ] {
        let mut h = requested(false);
        let t = temps(&h)[0].clone();
        if inside {
            flip(&t, at);
        } else {
            poke(&t, at);
        }
        fires(&mut h, "D40 temporary");
    }
    // A byte past the last range: the file is longer than its bytes reach.
    let mut h = requested(false);
    let t = temps(&h)[0].clone();
    poke(&t, 3200);
    fires(&mut h, "D40 temporary");
}

#[test]
fn d90_a_high_performance_on_demand_file_holds_its_ranges_under_its_local_name() {
    let h = requested(true);
    assert!(temps(&h).is_empty(), "D63: no temporary file");
    let local = dl(&h).join("a.bin");
    assert_eq!(fs::read(&local).unwrap(), with_holes());
    for (at, rule) in [(1200, "D63"), (3000, "D63")] {
        let mut h = requested(true);
        flip(&local_of(&h), at);
        fires(&mut h, rule);
    }
    for at in [10, 2000] {
        let mut h = requested(true);
        poke(&local_of(&h), at);
        fires(&mut h, "D86");
    }
}

fn local_of(h: &Harness) -> PathBuf {
    dl(h).join("a.bin")
}

#[test]
fn d75_a_job_that_leaves_on_demand_mode_moves_in_order_and_keeps_its_bytes() {
    // ON_DEMAND_MODE with nothing requested and no position: the connection moves nothing and the
    // job is SUSPENDED (T30). Turned off, the job moves its file in order; its bytes on disk stay
    // `[0, BytesTransferred)` across connections (the stale on-demand state used to place the
    // temporary file's end at 0, so the next connection cut the file and left zeros).
    let steps = vec![
        on(0, make::create_job("update", JobType::Download)),
        on(0, make::set(PropertyValue::OnDemandMode(true))),
        on(0, make::add_file(URL, LOCAL)),
        on(0, make::state(StateMethod::Resume)),
        advance(1),
        on(0, make::set(PropertyValue::OnDemandMode(false))),
    ];
    let mut steps = steps;
    steps.extend(run_for(0, 2));
    let mut h = steps_in(&setup(), &steps);
    let t = temps(&h);
    assert_eq!(t.len(), 1, "{t:?}");
    assert_eq!(fs::read(&t[0]).unwrap(), body(2000));
    for d in run_for(0, 1) {
        h.step(&d).unwrap_or_else(|c| panic!("{c}"));
    }
    assert_eq!(fs::read(&t[0]).unwrap(), body(3000));
    flip(&t[0], 10);
    fires(&mut h, "D40 temporary");
}

/// T17b, D97: a Complete that fails at a later file leaves the files it renamed at their local names
/// (held to the body from then on, "D40 complete"), the others in their temporary files ("D40
/// temporary"); the checker passes such a run, Cancel included (the renamed file stays), and fires
/// when the renamed file is tampered with.
#[test]
fn t17b_d97_files_renamed_by_a_failed_complete_are_held_to_their_body() {
    const BLOCKED: &str = "C:\\dl\\b.bin";
    let run = || {
        let mut s = setup();
        // A world local inside a folder at the second file's local name: its rename must fail.
        s.world.locals.push(("C:\\dl\\b.bin\\keep.txt".into(), 4));
        let mut h = Harness::new(&s);
        for d in [
            call(make::create_job("update", JobType::Download)),
            call(make::add_file(URL, LOCAL)),
            call(make::add_file(URL, BLOCKED)),
            call(make::state(StateMethod::Resume)),
            advance(20),
            call(make::state(StateMethod::Complete)),
        ] {
            h.step(&d).unwrap_or_else(|c| panic!("{c}"));
        }
        let job = h.job_handle(0);
        assert_eq!(job.get_state().unwrap(), bitsim::JobState::Transferred);
        assert_eq!(job.complete(), Err(bitsim::HResult::E_ACCESSDENIED));
        h
    };
    let mut h = run();
    assert_eq!(fs::read(dl(&h).join("a.bin")).unwrap(), body(SIZE));
    assert_eq!(temps(&h).len(), 1);
    h.step(&advance(1)).unwrap_or_else(|c| panic!("{c}"));
    h.step(&call(make::state(StateMethod::Cancel)))
        .unwrap_or_else(|c| panic!("{c}"));
    assert!(temps(&h).is_empty());
    h.step(&advance(1)).unwrap_or_else(|c| panic!("{c}"));
    flip(&dl(&h).join("a.bin"), 0);
    fires(&mut h, "D40 complete");

    let mut h = run();
    fs::remove_file(&temps(&h)[0]).unwrap();
    fires(&mut h, "D40 temporary");
}
