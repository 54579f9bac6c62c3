//! Materialised files (scenario contract part 2; D40, D41): downloads land in a sandbox folder, byte for
//! byte, through a temporary file; nothing is written outside the sandbox; host errors become BITS errors.

use bitsim::{
    Body, ErrorContext, HResult, JobState, JobType, Remote, Response, Sha256, Sim, TempAction,
    TraceKind, World,
};
use std::fs;
use std::path::{Path, PathBuf};

/// A fresh, empty folder under the target directory (removed when dropped).
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let base = std::env::var_os("CARGO_TARGET_TMPDIR")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let p = base.join(format!("bitsim-sandbox-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn sha_file(p: &Path) -> [u8; 32] {
    Sha256::digest(&fs::read(p).unwrap())
}

/// Every file below `root`, as paths relative to it, sorted.
fn tree(root: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let mut out = Vec::new();
    if root.exists() {
        walk(root, root, &mut out);
    }
    out.sort();
    out
}

#[test]
fn download_into_sandbox_matches_the_remote_sha256() {
    let dir = TempDir::new("e2e");
    let url = "https://example.test/big.bin";
    let size = 3 * 1024 * 1024 + 5;
    let world = World::new()
        .remote(
            url,
            Remote::sized(size).with_responses([Response::win32(12030).after_bytes(1_000_003)]),
        )
        .sandbox(&dir.0);
    let sim = Sim::new(world);
    let app = sim.connect("app", sim.user("u")).unwrap();
    let job = app.create_job("big", JobType::Download).unwrap();
    job.add_file(url, "C:\\dl\\sub\\big.bin").unwrap();
    job.resume().unwrap();
    sim.advance_secs(2);
    // Cut after 1,000,003 bytes: the temporary file holds exactly those bytes.
    assert_eq!(job.get_state().unwrap(), JobState::TransientError);
    let files = tree(&dir.0);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].starts_with("C/dl/sub/BIT") && files[0].ends_with(".tmp"));
    let tmp = dir.0.join(&files[0]);
    assert_eq!(fs::metadata(&tmp).unwrap().len(), 1_000_003);
    sim.advance_secs(600 + 10);
    assert_eq!(job.get_state().unwrap(), JobState::Transferred);
    assert_eq!(fs::metadata(&tmp).unwrap().len(), size);
    assert!(!dir.0.join("C/dl/sub/big.bin").exists());
    assert_eq!(job.complete().unwrap(), HResult::S_OK);
    // Complete renamed it: only the local file is left, and it is the remote's body.
    assert_eq!(tree(&dir.0), vec!["C/dl/sub/big.bin".to_string()]);
    let want = Body::default_for(url, size).sha256();
    assert_eq!(sha_file(&dir.0.join("C/dl/sub/big.bin")), want);
}

#[test]
fn text_content_lands_exactly_and_complete_replaces_an_existing_file() {
    let dir = TempDir::new("text");
    fs::create_dir_all(dir.0.join("C/dl")).unwrap();
    fs::write(
        dir.0.join("C/dl/a.txt"),
        b"old contents, longer than the new",
    )
    .unwrap();
    let world = World::new()
        .remote(
            "https://example.test/a.txt",
            Remote::with_content(Body::text("hello")),
        )
        .sandbox(&dir.0);
    let sim = Sim::new(world);
    let app = sim.connect("app", sim.user("u")).unwrap();
    let job = app.create_job("a", JobType::Download).unwrap();
    job.add_file("https://example.test/a.txt", "C:\\dl\\a.txt")
        .unwrap();
    job.resume().unwrap();
    sim.advance_secs(1);
    assert_eq!(job.complete().unwrap(), HResult::S_OK);
    assert_eq!(fs::read(dir.0.join("C/dl/a.txt")).unwrap(), b"hello");
    assert_eq!(tree(&dir.0), vec!["C/dl/a.txt".to_string()]);
}

#[test]
fn cancel_deletes_the_temporary_file_and_partial_complete_keeps_only_finished_files() {
    let dir = TempDir::new("cancel");
    let world = World::new()
        .remote("https://example.test/a", Remote::sized(1000))
        .remote("https://example.test/b", Remote::sized(1_000_000_000))
        .bandwidth(1000)
        .sandbox(&dir.0);
    let sim = Sim::new(world);
    let app = sim.connect("app", sim.user("u")).unwrap();
    let job = app.create_job("c", JobType::Download).unwrap();
    job.add_file("https://example.test/b", "C:\\dl\\b").unwrap();
    job.resume().unwrap();
    sim.advance_secs(3);
    assert_eq!(tree(&dir.0).len(), 1);
    job.cancel().unwrap();
    assert!(tree(&dir.0).is_empty());

    let job = app.create_job("p", JobType::Download).unwrap();
    job.add_file("https://example.test/a", "\\\\host\\share\\a")
        .unwrap();
    job.add_file("https://example.test/b", "\\\\host\\share\\b")
        .unwrap();
    job.resume().unwrap();
    sim.advance_secs(3);
    assert_eq!(job.complete().unwrap(), HResult::BG_S_PARTIAL_COMPLETE);
    assert_eq!(tree(&dir.0), vec!["UNC/host/share/a".to_string()]);
}

#[test]
fn names_never_escape_the_sandbox() {
    let outer = TempDir::new("escape");
    let root = outer.0.join("box");
    let world = World::new()
        .remote("https://example.test/a", Remote::sized(10))
        .sandbox(&root);
    let sim = Sim::new(world);
    let app = sim.connect("app", sim.user("u")).unwrap();
    // `..` stops at the drive: the file lands in the sandbox's C folder.
    let job = app.create_job("dots", JobType::Download).unwrap();
    job.add_file("https://example.test/a", "C:\\a\\..\\..\\..\\..\\x.bin")
        .unwrap();
    job.resume().unwrap();
    sim.advance_secs(1);
    assert_eq!(job.complete().unwrap(), HResult::S_OK);
    assert!(root.join("C/x.bin").is_file());
    // A DOS device name cannot be a file: ERROR_INVALID_NAME, context LOCAL_FILE, fatal.
    let job = app.create_job("device", JobType::Download).unwrap();
    job.add_file("https://example.test/a", "C:\\dl\\NUL.txt")
        .unwrap();
    job.resume().unwrap();
    sim.advance_secs(1);
    assert_eq!(job.get_state().unwrap(), JobState::Error);
    assert_eq!(
        job.get_error().unwrap().get_error().unwrap(),
        (ErrorContext::LocalFile, HResult::from_u32(0x8007_007B))
    );
    // A link planted inside the sandbox, pointing outside: refused, nothing written outside.
    let outside = outer.0.join("outside");
    fs::create_dir_all(&outside).unwrap();
    fs::create_dir_all(root.join("C")).unwrap();
    std::os::unix::fs::symlink(&outside, root.join("C/link")).unwrap();
    let job = app.create_job("link", JobType::Download).unwrap();
    job.add_file("https://example.test/a", "C:\\link\\x.bin")
        .unwrap();
    job.resume().unwrap();
    sim.advance_secs(1);
    assert_eq!(job.get_state().unwrap(), JobState::Error);
    assert_eq!(
        job.get_error().unwrap().get_error().unwrap(),
        (ErrorContext::LocalFile, HResult::E_ACCESSDENIED)
    );
    assert!(tree(&outside).is_empty());
    // Alternate separators are separators: C:/dl/y.bin is C:\dl\y.bin.
    let job = app.create_job("slash", JobType::Download).unwrap();
    job.add_file("https://example.test/a", "C:/dl/y.bin")
        .unwrap();
    job.resume().unwrap();
    sim.advance_secs(1);
    assert_eq!(job.complete().unwrap(), HResult::S_OK);
    assert!(root.join("C/dl/y.bin").is_file());
}

#[test]
fn a_folder_in_the_way_is_access_denied() {
    let dir = TempDir::new("blocked");
    // A plain file where a folder should be: the temporary file cannot be created.
    fs::create_dir_all(dir.0.join("C")).unwrap();
    fs::write(dir.0.join("C/dl"), b"not a folder").unwrap();
    let world = World::new()
        .remote("https://example.test/a", Remote::sized(10))
        .sandbox(&dir.0);
    let sim = Sim::new(world);
    let app = sim.connect("app", sim.user("u")).unwrap();
    let job = app.create_job("blocked", JobType::Download).unwrap();
    job.add_file("https://example.test/a", "C:\\dl\\a.bin")
        .unwrap();
    job.resume().unwrap();
    sim.advance_secs(1);
    assert_eq!(job.get_state().unwrap(), JobState::Error);
    let (ctx, _) = job.get_error().unwrap().get_error().unwrap();
    assert_eq!(ctx, ErrorContext::LocalFile);
}

#[test]
fn uploads_read_the_sandbox_file() {
    let dir = TempDir::new("upload");
    let world = World::new()
        .remote("https://example.test/up", Remote::default())
        .local_with("C:\\up\\r.bin", Body::pattern(7, 5000))
        .sandbox(&dir.0);
    let sim = Sim::new(world);
    let f = dir.0.join("C/up/r.bin");
    assert_eq!(fs::read(&f).unwrap(), Body::pattern(7, 5000).slice(0, 5000));
    // Client code changes the file before the upload starts: the upload reads its size from there.
    fs::write(&f, b"abc").unwrap();
    let app = sim.connect("app", sim.user("u")).unwrap();
    let job = app.create_job("up", JobType::Upload).unwrap();
    job.add_file("https://example.test/up", "C:\\up\\r.bin")
        .unwrap();
    job.resume().unwrap();
    sim.advance_secs(1);
    assert_eq!(job.get_state().unwrap(), JobState::Transferred);
    assert_eq!(job.get_progress().unwrap().bytes_total, 3);
    // A missing file: ERROR_FILE_NOT_FOUND, LOCAL_FILE.
    let job = app.create_job("missing", JobType::Upload).unwrap();
    job.add_file("https://example.test/up", "C:\\up\\none.bin")
        .unwrap();
    job.resume().unwrap();
    sim.advance_secs(1);
    assert_eq!(
        job.get_error().unwrap().get_error().unwrap(),
        (ErrorContext::LocalFile, HResult::ERROR_FILE_NOT_FOUND)
    );
}

#[test]
fn without_a_sandbox_nothing_touches_the_host() {
    let dir = TempDir::new("none");
    let sim = Sim::new(World::new().remote("https://example.test/a", Remote::sized(10)));
    let app = sim.connect("app", sim.user("u")).unwrap();
    let job = app.create_job("a", JobType::Download).unwrap();
    job.add_file("https://example.test/a", "C:\\dl\\a").unwrap();
    job.resume().unwrap();
    sim.advance_secs(1);
    assert_eq!(job.complete().unwrap(), HResult::S_OK);
    assert!(tree(&dir.0).is_empty());
}

#[test]
fn a_full_disk_is_error_disk_full_in_local_file_context() {
    let dir = TempDir::new("full");
    let world = World::new()
        .remote("https://example.test/a", Remote::sized(200_000))
        .bandwidth(100_000)
        .sandbox(&dir.0)
        .sandbox_capacity(100_000);
    let sim = Sim::new(world);
    let app = sim.connect("app", sim.user("u")).unwrap();
    let job = app.create_job("full", JobType::Download).unwrap();
    job.add_file("https://example.test/a", "C:\\dl\\a").unwrap();
    job.resume().unwrap();
    sim.advance_secs(3);
    assert_eq!(job.get_state().unwrap(), JobState::Error);
    assert_eq!(
        job.get_error().unwrap().get_error().unwrap(),
        (ErrorContext::LocalFile, HResult::ERROR_DISK_FULL)
    );
    // The progress stops where the written bytes end.
    let p = job.get_progress().unwrap();
    assert_eq!(p.bytes_transferred, 100_000);
    let tmp = dir.0.join(&tree(&dir.0)[0]);
    assert_eq!(fs::metadata(tmp).unwrap().len(), p.bytes_transferred);
}

const SANDBOXED: &str = r#"{
  "name": "kept sandbox",
  "description": "D40: a download materialised in the sandbox.",
  "world": { "sandbox": SANDBOX, "remotes": { "https://example.test/a": { "content": { "text": "abc" }, "size": 3 } } },
  "steps": [
    { "do": "create_job", "name": "a", "bind": "j" },
    { "do": "add_file", "job": "j", "remote": "https://example.test/a", "local": "C:\\dl\\a.txt" },
    { "do": "resume", "job": "j" },
    { "do": "advance", "seconds": 1 },
    { "do": "complete", "job": "j" },
    { "check": "local_file", "path": "C:\\dl\\a.txt", "text": "abc" }
  ]
}"#;

#[test]
fn a_sandbox_folder_given_by_path_must_be_empty_and_is_kept() {
    use bitsim::scenario::{run_paths, RunOptions, Scenario};
    let dir = TempDir::new("bypath");
    let file = dir.0.join("s.json");
    fs::write(&file, SANDBOXED.replace("SANDBOX", "\"box\"")).unwrap();
    // Absent: created, used, kept.
    let batch = run_paths(std::slice::from_ref(&file), &RunOptions::default());
    assert_eq!(batch.exit_code(), 0, "{}", batch.summary());
    assert_eq!(fs::read(dir.0.join("box/C/dl/a.txt")).unwrap(), b"abc");
    // Now not empty: the file is refused (exit 2) with its place.
    let err = Scenario::load(&file).unwrap_err();
    assert!(err.message.contains("not empty"), "{}", err.message);
    assert_eq!(err.pointer.as_deref(), Some("/world/sandbox"));
    let batch = run_paths(std::slice::from_ref(&file), &RunOptions::default());
    assert_eq!(batch.exit_code(), 2);
}

#[test]
fn keep_sandbox_puts_fresh_sandboxes_under_the_scenario_name() {
    use bitsim::scenario::{run_paths, run_paths_keeping, RunOptions};
    let dir = TempDir::new("keep");
    let file = dir.0.join("s.json");
    fs::write(&file, SANDBOXED.replace("SANDBOX", "true")).unwrap();
    let keep = dir.0.join("kept");
    let batch = run_paths_keeping(
        std::slice::from_ref(&file),
        &RunOptions::default(),
        None,
        &keep,
    );
    assert_eq!(batch.exit_code(), 0, "{}", batch.summary());
    assert_eq!(
        fs::read(keep.join("kept_sandbox/C/dl/a.txt")).unwrap(),
        b"abc"
    );
    // Without it the fresh folder is gone afterwards: nothing new appears next to the file.
    let before = tree(&dir.0);
    let batch = run_paths(std::slice::from_ref(&file), &RunOptions::default());
    assert_eq!(batch.exit_code(), 0, "{}", batch.summary());
    assert_eq!(tree(&dir.0), before);
}

#[test]
fn local_checks_without_a_sandbox_are_refused_at_load() {
    let text = SANDBOXED.replace("\"sandbox\": SANDBOX, ", "");
    let err = bitsim::scenario::Scenario::parse(&text, "x.json").unwrap_err();
    assert_eq!(err.pointer.as_deref(), Some("/steps/5"));
    assert!(err.message.contains("sandbox"), "{}", err.message);
}

#[test]
fn bodies_that_cannot_be_are_refused_with_their_place() {
    let scenario = |remote: &str| {
        format!(
            r#"{{ "name": "n", "description": "d", "world": {{ "remotes": {{ "https://x.test/a": {remote} }} }}, "steps": [] }}"#
        )
    };
    for (remote, pointer, says) in [
        (
            r#"{ "size": 4, "content": { "text": "hello" } }"#,
            "/world/remotes/https:~1~1x.test~1a/size",
            "differs",
        ),
        (
            r#"{ "content": { "base64": "AB==" } }"#,
            "/world/remotes/https:~1~1x.test~1a/content/base64",
            "base64",
        ),
        (
            r#"{ "content": { "pattern": 1 } }"#,
            "/world/remotes/https:~1~1x.test~1a/content",
            "length",
        ),
        (
            r#"{ "content": { "text": "a", "pattern": 1, "length": 1 } }"#,
            "/world/remotes/https:~1~1x.test~1a/content",
            "exactly one",
        ),
    ] {
        let err = bitsim::scenario::Scenario::parse(&scenario(remote), "x.json").unwrap_err();
        assert_eq!(
            err.pointer.as_deref(),
            Some(pointer),
            "{remote}: {}",
            err.message
        );
        assert!(err.message.contains(says), "{remote}: {}", err.message);
    }
}

#[test]
fn d38_survives_a_service_restart() {
    // The time stamp the bytes so far came with is persisted: a remote changed across a restart still
    // restarts the file at 0.
    let url = "https://example.test/a";
    let world = World::new()
        .remote(url, Remote::sized(8000).modified_at(50))
        .bandwidth(1000);
    let sim = Sim::new(world);
    let app = sim.connect("app", sim.user("u")).unwrap();
    let job = app.create_job("a", JobType::Download).unwrap();
    job.add_file(url, "C:\\dl\\a").unwrap();
    job.resume().unwrap();
    sim.advance_secs(3);
    job.suspend().unwrap();
    assert_eq!(job.get_progress().unwrap().bytes_transferred, 3000);
    sim.restart_service();
    sim.set_remote(url, Remote::sized(8000).modified_at(60));
    let app = app.reconnect().unwrap();
    let job = app.get_job(job.id()).unwrap();
    job.resume().unwrap();
    sim.advance_secs(0);
    assert_eq!(job.get_progress().unwrap().bytes_transferred, 0);
    sim.advance_secs(8);
    assert_eq!(job.get_state().unwrap(), JobState::Transferred);
}

/// D78: an upload whose sandbox file client code rewrites after the first read (same size, a new
/// last-write time) fails with BG_E_LOCAL_FILE_CHANGED, context LOCAL_FILE: noticed when the last
/// byte has gone (the server does not take it) and again at the next connection after Resume.
#[test]
fn d78_a_sandbox_upload_rewritten_by_client_code_is_local_file_changed() {
    let dir = TempDir::new("d78-rewrite");
    let world = World::new()
        .bandwidth(1000)
        .remote("https://example.test/up", Remote::default())
        .local_with("C:\\up\\r.bin", Body::pattern(7, 5000))
        .local_modified("C:\\up\\r.bin", 100)
        .sandbox(&dir.0);
    let sim = Sim::new(world);
    let f = dir.0.join("C/up/r.bin");
    let app = sim.connect("app", sim.user("u")).unwrap();
    let job = app.create_job("up", JobType::Upload).unwrap();
    job.add_file("https://example.test/up", "C:\\up\\r.bin")
        .unwrap();
    job.resume().unwrap();
    sim.advance_secs(2);
    assert_eq!(job.get_state().unwrap(), JobState::Transferring);
    // Client code rewrites the file with the same size: its host last-write time changes.
    fs::write(&f, Body::pattern(8, 5000).slice(0, 5000)).unwrap();
    sim.advance_secs(10);
    assert_eq!(job.get_state().unwrap(), JobState::Error);
    assert_eq!(
        job.get_error().unwrap().get_error().unwrap(),
        (ErrorContext::LocalFile, HResult::BG_E_LOCAL_FILE_CHANGED)
    );
    let p = job.get_progress().unwrap();
    assert_eq!((p.bytes_total, p.bytes_transferred), (5000, 4999));
    // Resume: the file is still not the version first read, so the next connection fails again.
    job.resume().unwrap();
    sim.advance_secs(1);
    assert_eq!(job.get_state().unwrap(), JobState::Error);
    assert_eq!(
        job.get_error().unwrap().get_error().unwrap(),
        (ErrorContext::LocalFile, HResult::BG_E_LOCAL_FILE_CHANGED)
    );
}

/// D78: the world's `modified` is the sandbox file's last-write time, so an untouched sandbox
/// upload finishes, and set_local with a new time (same size and body) is a change.
#[test]
fn d78_set_local_with_a_new_time_changes_a_sandbox_upload() {
    let dir = TempDir::new("d78-set-local");
    let world = World::new()
        .bandwidth(1000)
        .remote("https://example.test/up", Remote::default())
        .local_with("C:\\up\\a.bin", Body::pattern(7, 3000))
        .local_modified("C:\\up\\a.bin", 100)
        .local_with("C:\\up\\b.bin", Body::pattern(9, 3000))
        .sandbox(&dir.0);
    let sim = Sim::new(world);
    let app = sim.connect("app", sim.user("u")).unwrap();
    let a = app.create_job("a", JobType::Upload).unwrap();
    a.add_file("https://example.test/up", "C:\\up\\a.bin")
        .unwrap();
    a.resume().unwrap();
    sim.advance_secs(4);
    assert_eq!(a.get_state().unwrap(), JobState::Transferred);
    let b = app.create_job("b", JobType::Upload).unwrap();
    b.add_file("https://example.test/up", "C:\\up\\b.bin")
        .unwrap();
    b.resume().unwrap();
    sim.advance_secs(1);
    sim.with_service_mut(|s| {
        s.set_local_file("C:\\up\\b.bin", 3000, 5, Some(Body::pattern(9, 3000)))
    });
    assert_eq!(b.get_state().unwrap(), JobState::Error);
    assert_eq!(
        b.get_error().unwrap().get_error().unwrap(),
        (ErrorContext::LocalFile, HResult::BG_E_LOCAL_FILE_CHANGED)
    );
}

/// D80: the reply's temporary file counts against the sandbox's disk like any download: a reply that
/// does not fit fails with ERROR_DISK_FULL, context LOCAL_FILE, its file holding what fit; Cancel
/// removes it.
#[test]
fn d80_a_reply_that_does_not_fit_is_disk_full_in_local_file_context() {
    let dir = TempDir::new("d80-full");
    let world = World::new()
        .remote(
            "https://example.test/upload",
            Remote::default().with_reply(Body::pattern(3, 10_000), [], []),
        )
        .local_with("C:\\up\\r.bin", Body::pattern(7, 100))
        .sandbox(&dir.0)
        .sandbox_capacity(4_000);
    let sim = Sim::new(world);
    let app = sim.connect("app", sim.user("u")).unwrap();
    let job = app.create_job("r", JobType::UploadReply).unwrap();
    job.add_file("https://example.test/upload", "C:\\up\\r.bin")
        .unwrap();
    job.resume().unwrap();
    sim.advance_secs(1);
    assert_eq!(job.get_state().unwrap(), JobState::Error);
    assert_eq!(
        job.get_error().unwrap().get_error().unwrap(),
        (ErrorContext::LocalFile, HResult::ERROR_DISK_FULL)
    );
    let tmp = dir.0.join("C/up/BITFFFFFFFE.tmp");
    assert_eq!(fs::metadata(&tmp).unwrap().len(), 4_000);
    assert_eq!(job.get_reply_progress().unwrap().bytes_transferred, 4_000);
    job.cancel().unwrap();
    assert!(!tmp.exists());
    assert_eq!(tree(&dir.0), vec!["C/up/r.bin".to_string()]);
}

/// The Completed flag of each file of `job` (BG_FILE_PROGRESS, §8.2).
fn completed(job: &bitsim::Job) -> Vec<bool> {
    job.enum_files()
        .unwrap()
        .iter()
        .map(|f| f.get_progress().unwrap().completed)
        .collect()
}

/// The `temp_file ... renamed` and `rename_failed` records of the trace, in order.
fn renames(sim: &Sim) -> Vec<(u32, Option<HResult>)> {
    sim.trace()
        .iter()
        .filter_map(|e| match e.kind {
            TraceKind::TempFile {
                file,
                action: TempAction::Renamed,
                ..
            } => Some((file, None)),
            TraceKind::RenameFailed { file, code, .. } => Some((file, Some(code))),
            _ => None,
        })
        .collect()
}

/// Three files transferred into the sandbox at `dir`, the second's local name a folder (holding a
/// file) since before the job began: its temporary file lands beside it, only its rename can fail.
fn three_files_second_blocked(dir: &Path) -> (Sim, bitsim::Manager, bitsim::Job) {
    fs::create_dir_all(dir.join("C/dl/b.bin")).unwrap();
    fs::write(dir.join("C/dl/b.bin/keep.txt"), b"mine").unwrap();
    let world = World::new()
        .remote("https://example.test/a", Remote::sized(3000))
        .remote("https://example.test/b", Remote::sized(2000))
        .remote("https://example.test/c", Remote::sized(1000))
        .sandbox(dir);
    let sim = Sim::new(world);
    let app = sim.connect("app", sim.user("u")).unwrap();
    let job = app.create_job("three", JobType::Download).unwrap();
    for x in ["a", "b", "c"] {
        job.add_file(
            &format!("https://example.test/{x}"),
            &format!("C:\\dl\\{x}.bin"),
        )
        .unwrap();
    }
    job.resume().unwrap();
    sim.advance_secs(60);
    assert_eq!(job.get_state().unwrap(), JobState::Transferred);
    (sim, app, job)
}

/// T17b, D97: a folder at a file's local name (MoveFileEx cannot replace a folder): Complete renames
/// the files before it, returns E_ACCESSDENIED and the job stays TRANSFERRED, in the queue; the
/// renamed files are visible and Completed, the others keep their temporary files; nothing else of
/// the job moves (ModificationTime, error record). A Complete while the folder is there fails again
/// without renaming anything twice; once it is gone, Complete renames only what is left and the job
/// is ACKNOWLEDGED with S_OK.
#[test]
fn t17b_d97_a_folder_at_a_local_name_keeps_the_job_transferred_until_it_is_gone() {
    let dir = TempDir::new("t17b-folder");
    let (sim, _app, job) = three_files_second_blocked(&dir.0);
    let times = job.get_times().unwrap();
    assert_eq!(job.complete(), Err(HResult::E_ACCESSDENIED));
    assert_eq!(job.get_state().unwrap(), JobState::Transferred);
    assert_eq!(completed(&job), [true, false, false]);
    assert_eq!(
        renames(&sim),
        [(0, None), (1, Some(HResult::E_ACCESSDENIED))]
    );
    assert_eq!(job.get_times().unwrap(), times);
    assert_eq!(
        job.get_error().unwrap_err(),
        HResult::BG_E_ERROR_INFORMATION_UNAVAILABLE
    );
    let p = job.get_progress().unwrap();
    assert_eq!((p.files_total, p.files_transferred), (3, 3));
    let files = tree(&dir.0);
    assert_eq!(files.len(), 4, "{files:?}");
    assert_eq!(files[0], "C/dl/BIT1.tmp");
    assert_eq!(files[1], "C/dl/BIT2.tmp");
    assert_eq!(&files[2..], ["C/dl/a.bin", "C/dl/b.bin/keep.txt"]);
    assert_eq!(
        sha_file(&dir.0.join("C/dl/a.bin")),
        Body::default_for("https://example.test/a", 3000).sha256()
    );
    // The rendered trace names the new record.
    let text: Vec<String> = sim.trace().iter().map(|e| e.to_string()).collect();
    let text = text.join("\n");
    assert!(
        text.contains("rename_failed: file 1 not renamed to its local name: E_ACCESSDENIED"),
        "{text}"
    );

    // Again with the folder still there: the same error, file 0 is not renamed twice.
    assert_eq!(job.complete(), Err(HResult::E_ACCESSDENIED));
    assert_eq!(
        renames(&sim),
        [
            (0, None),
            (1, Some(HResult::E_ACCESSDENIED)),
            (1, Some(HResult::E_ACCESSDENIED))
        ]
    );

    fs::remove_dir_all(dir.0.join("C/dl/b.bin")).unwrap();
    assert_eq!(job.complete(), Ok(HResult::S_OK));
    assert_eq!(job.get_state().unwrap(), JobState::Acknowledged);
    assert_eq!(completed(&job), [true, true, true]);
    assert_eq!(
        renames(&sim)[3..],
        [(1, None), (2, None)],
        "only what was left is renamed"
    );
    assert_eq!(tree(&dir.0), ["C/dl/a.bin", "C/dl/b.bin", "C/dl/c.bin"]);
    for (x, size) in [("a", 3000), ("b", 2000), ("c", 1000)] {
        assert_eq!(
            sha_file(&dir.0.join(format!("C/dl/{x}.bin"))),
            Body::default_for(&format!("https://example.test/{x}"), size).sha256()
        );
    }
}

/// T17b, D97: a symbolic link at the local name (D41: refused, E_ACCESSDENIED) fails the rename the
/// same way; Cancel then deletes the temporary files left, and a file the failed Complete renamed
/// stays (it is no longer a temporary file: it is the user's, Complete page); the link is untouched.
#[cfg(unix)]
#[test]
fn t17b_d97_a_link_at_a_local_name_fails_the_rename_and_cancel_keeps_the_renamed_file() {
    let dir = TempDir::new("t17b-link");
    let world = World::new()
        .remote("https://example.test/a", Remote::sized(3000))
        .remote("https://example.test/b", Remote::sized(2000))
        .sandbox(&dir.0);
    let sim = Sim::new(world);
    let app = sim.connect("app", sim.user("u")).unwrap();
    let job = app.create_job("link", JobType::Download).unwrap();
    job.add_file("https://example.test/a", "C:\\dl\\a.bin")
        .unwrap();
    job.add_file("https://example.test/b", "C:\\dl\\b.bin")
        .unwrap();
    job.resume().unwrap();
    sim.advance_secs(60);
    assert_eq!(job.get_state().unwrap(), JobState::Transferred);
    // Planted after the transfer, before Complete.
    std::os::unix::fs::symlink(dir.0.join("C/dl/a.bin"), dir.0.join("C/dl/b.bin")).unwrap();
    assert_eq!(job.complete(), Err(HResult::E_ACCESSDENIED));
    assert_eq!(job.get_state().unwrap(), JobState::Transferred);
    assert_eq!(completed(&job), [true, false]);
    assert!(dir.0.join("C/dl/BIT1.tmp").is_file());
    assert_eq!(job.cancel(), Ok(HResult::S_OK));
    assert!(!dir.0.join("C/dl/BIT1.tmp").exists());
    assert!(dir.0.join("C/dl/a.bin").is_file());
    assert!(fs::symlink_metadata(dir.0.join("C/dl/b.bin"))
        .unwrap()
        .file_type()
        .is_symlink());
}

/// T17b, D97: the job stays in the state it is in, whatever it is: a partial Complete of a SUSPENDED
/// job whose first file cannot be renamed returns the error, keeps the unfinished file's temporary
/// file (nothing is deleted while the job is in the queue) and its progress; Resume finishes it.
#[test]
fn t17b_d97_a_failed_partial_complete_keeps_the_job_and_its_unfinished_file() {
    let dir = TempDir::new("t17b-partial");
    fs::create_dir_all(dir.0.join("C/dl/a.bin")).unwrap();
    let world = World::new()
        .remote("https://example.test/a", Remote::sized(1000))
        .remote("https://example.test/b", Remote::sized(10_000))
        .bandwidth(1000)
        .sandbox(&dir.0);
    let sim = Sim::new(world);
    let app = sim.connect("app", sim.user("u")).unwrap();
    let job = app.create_job("partial", JobType::Download).unwrap();
    job.add_file("https://example.test/a", "C:\\dl\\a.bin")
        .unwrap();
    job.add_file("https://example.test/b", "C:\\dl\\b.bin")
        .unwrap();
    job.resume().unwrap();
    sim.advance_secs(3);
    job.suspend().unwrap();
    let before = job.enum_files().unwrap()[1].get_progress().unwrap();
    assert_eq!(before.bytes_transferred, 2000);
    assert_eq!(job.complete(), Err(HResult::E_ACCESSDENIED));
    assert_eq!(job.get_state().unwrap(), JobState::Suspended);
    assert_eq!(completed(&job), [false, false]);
    assert_eq!(job.enum_files().unwrap()[1].get_progress().unwrap(), before);
    assert_eq!(
        fs::metadata(dir.0.join("C/dl/BIT1.tmp")).unwrap().len(),
        2000
    );
    job.resume().unwrap();
    sim.advance_secs(20);
    assert_eq!(job.get_state().unwrap(), JobState::Transferred);
    fs::remove_dir_all(dir.0.join("C/dl/a.bin")).unwrap();
    assert_eq!(job.complete(), Ok(HResult::S_OK));
    assert_eq!(tree(&dir.0), ["C/dl/a.bin", "C/dl/b.bin"]);
}

/// T17b, D97: the Completed flags a failed Complete set survive a service restart (the snapshot's
/// `completed`), and so do the files (the sandbox is host state, D40): the next Complete renames only
/// what is left.
#[test]
fn t17b_d97_completed_flags_survive_a_service_restart() {
    let dir = TempDir::new("t17b-restart");
    let (sim, app, job) = three_files_second_blocked(&dir.0);
    assert_eq!(job.complete(), Err(HResult::E_ACCESSDENIED));
    sim.restart_service();
    let app = app.reconnect().unwrap();
    let job = app.get_job(job.id()).unwrap();
    assert_eq!(job.get_state().unwrap(), JobState::Transferred);
    assert_eq!(completed(&job), [true, false, false]);
    fs::remove_dir_all(dir.0.join("C/dl/b.bin")).unwrap();
    assert_eq!(job.complete(), Ok(HResult::S_OK));
    let after: Vec<_> = renames(&sim)
        .into_iter()
        .filter(|(_, failed)| failed.is_none())
        .collect();
    assert_eq!(after, [(0, None), (1, None), (2, None)]);
    assert_eq!(tree(&dir.0), ["C/dl/a.bin", "C/dl/b.bin", "C/dl/c.bin"]);
}
