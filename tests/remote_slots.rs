//! A file remembers where its remote sits among the world's remotes (a slot, so an attempt skips
//! hashing the URL). Whatever changes between two attempts — the world's remote replaced, more
//! remotes added (the table grows), the file's remote name changed by SetRemoteName,
//! ReplaceRemotePrefix or a reported redirect (D30), a URL that was unknown becoming known, a service
//! restart (D15) — the next attempt must reach the remote the file names now, and count the request
//! there.

mod common;
use bitsim::*;
use common::*;

const C: &str = "https://other.test/c.bin";

/// A world where `A` answers one 503 (a transient error, D5) and then serves `size` bytes.
fn a_fails_once(size: u64) -> World {
    World::new().remote(A, Remote::sized(size).with_responses([Response::http(503)]))
}

/// Job with file `A`, resumed and run to its first attempt's transient error.
fn after_first_attempt(sim: &Sim, app: &Manager) -> Job {
    let job = running_job(app);
    sim.advance_secs(0);
    assert_eq!(job.get_state(), Ok(JobState::TransientError));
    assert_eq!(sim.with_service(|s| s.requests_received(A)).count, 1);
    job
}

/// Resume (T13) and run to the end; the file's total is what the answering remote announced.
fn finish(sim: &Sim, job: &Job) -> u64 {
    job.resume().unwrap();
    sim.run_until_idle().unwrap();
    assert_eq!(job.get_state(), Ok(JobState::Transferred));
    job.enum_files().unwrap()[0]
        .get_progress()
        .unwrap()
        .bytes_total
}

fn count(sim: &Sim, url: &str) -> u64 {
    sim.with_service(|s| s.requests_received(url)).count
}

#[test]
fn a_replaced_remote_answers_the_next_attempt_after_the_table_grew() {
    let (sim, app) = alice(a_fails_once(100));
    let job = after_first_attempt(&sim, &app);
    // Many new remotes: the URL table grows and is rebuilt several times.
    for i in 0..200 {
        sim.set_remote(&format!("https://grow.test/{i:04}.bin"), Remote::sized(1));
    }
    // A's remote replaced in place.
    sim.set_remote(A, Remote::sized(250));
    assert_eq!(finish(&sim, &job), 250);
    assert_eq!(count(&sim, A), 2);
}

#[test]
fn set_remote_name_between_attempts_reaches_the_new_remote() {
    let (sim, app) = alice(a_fails_once(100).remote(B, Remote::sized(300)));
    let job = after_first_attempt(&sim, &app);
    job.enum_files().unwrap()[0].set_remote_name(B).unwrap();
    assert_eq!(finish(&sim, &job), 300);
    assert_eq!((count(&sim, A), count(&sim, B)), (1, 1));
}

#[test]
fn replace_remote_prefix_between_attempts_reaches_the_new_remote() {
    let (sim, app) = alice(a_fails_once(100).remote(C, Remote::sized(400)));
    let job = after_first_attempt(&sim, &app);
    assert_eq!(
        job.replace_remote_prefix("https://example.test/a", "https://other.test/c"),
        Ok(HResult::S_OK)
    );
    assert_eq!(finish(&sim, &job), 400);
    assert_eq!((count(&sim, A), count(&sim, C)), (1, 1));
}

#[test]
fn an_unknown_url_that_becomes_known_answers_the_next_attempt() {
    let (sim, app) = alice(World::new().remote(B, Remote::sized(5)));
    let job = running_job(&app);
    sim.advance_secs(0);
    // ERROR_WINHTTP_NAME_NOT_RESOLVED: transient.
    assert_eq!(job.get_state(), Ok(JobState::TransientError));
    assert_eq!(count(&sim, A), 0);
    sim.set_remote(A, Remote::sized(70));
    assert_eq!(finish(&sim, &job), 70);
    assert_eq!(count(&sim, A), 1);
}

#[test]
fn a_reported_redirect_sends_later_attempts_to_the_final_url() {
    // OLD redirects to NEW; NEW answers one 503, then serves.
    const OLD: &str = "https://example.test/old";
    const NEW: &str = "https://cdn.test/new";
    let mut old = Remote::default();
    let r = old.redirect(301, NEW);
    let world = World::new()
        .remote(OLD, old.otherwise(r))
        .remote(NEW, Remote::sized(90).with_responses([Response::http(503)]));
    let (sim, app) = alice(world);
    let job = app.create_job("report", JobType::Download).unwrap();
    job.add_file(OLD, LA).unwrap();
    job.set_security_flags(0x100).unwrap(); // ALLOW_REPORT
    job.resume().unwrap();
    sim.advance_secs(0);
    assert_eq!(job.get_state(), Ok(JobState::TransientError));
    assert_eq!(job.enum_files().unwrap()[0].get_remote_name().unwrap(), NEW);
    assert_eq!(finish(&sim, &job), 90);
    // The retry went to NEW directly: OLD saw one request, NEW two.
    assert_eq!((count(&sim, OLD), count(&sim, NEW)), (1, 2));
}

#[test]
fn a_restart_between_attempts_keeps_the_file_on_its_remote() {
    let (sim, app) = alice(a_fails_once(100).remote(B, Remote::sized(300)));
    let job = after_first_attempt(&sim, &app);
    sim.restart_service();
    // The world gains a remote and A is replaced after the restart, too.
    sim.set_remote(C, Remote::sized(1));
    sim.set_remote(A, Remote::sized(120));
    let app = app.reconnect().unwrap();
    let job = app
        .get_job(job.id())
        .expect("the job survives the restart (D15)");
    assert_eq!(finish(&sim, &job), 120);
    assert_eq!((count(&sim, A), count(&sim, B)), (2, 0));
}

/// Scenario-format part 2, trace record `remote_name_changed`: SetRemoteName writes it (as
/// ReplaceRemotePrefix and the redirect policies do), naming the file and the new URL; a refused
/// SetRemoteName writes none.
#[test]
fn set_remote_name_writes_the_remote_name_changed_record() {
    let (sim, app) = alice(a_fails_once(100).remote(B, Remote::sized(300)));
    let job = after_first_attempt(&sim, &app);
    let file = &job.enum_files().unwrap()[0];
    let renames = |sim: &Sim| -> Vec<(u32, String)> {
        sim.trace()
            .iter()
            .filter_map(|e| match &e.kind {
                TraceKind::RemoteNameChanged { file, to, .. } => {
                    Some((*file, to.as_str().to_string()))
                }
                _ => None,
            })
            .collect()
    };
    assert_eq!(renames(&sim), vec![]);
    assert_eq!(
        file.set_remote_name("ftp://x.test/a"),
        Err(HResult::E_INVALIDARG)
    );
    assert_eq!(renames(&sim), vec![]);
    file.set_remote_name(B).unwrap();
    assert_eq!(renames(&sim), vec![(0, B.to_string())]);
}

/// A URL no remote serves still receives what a proxy answers for it (a 407 counts for the URL the
/// request was addressed to, D27). When the world gains a remote there, that remote keeps the count
/// and adds to it: one log per URL, whoever holds it.
#[test]
fn a_url_keeps_what_it_received_when_it_becomes_a_remote() {
    const PROXY: &str = "proxy.test:8080";
    let proxy = Proxy {
        valid: true,
        auth: Some(Auth {
            schemes: vec![AuthScheme::Basic],
            user: None,
            password: None,
            implicit: false,
        }),
    };
    let (sim, app) = alice(World::new().system_proxy(PROXY).proxy(PROXY, proxy));
    let job = running_job(&app);
    sim.advance_secs(0);
    let seen = sim.with_service(|s| s.requests_received(A));
    assert_eq!(seen.count, 1, "the proxy's 407 counts for {A}");
    assert_eq!(seen.last.map(|r| r.credentials), Some(None));
    sim.set_remote(A, Remote::sized(10));
    assert_eq!(
        count(&sim, A),
        1,
        "the new remote keeps what the URL received"
    );
    assert_eq!(
        sim.with_service(|s| s.world().requests(A).map(|r| r.count)),
        Some(1)
    );
    // The next attempt meets the same 407 and is counted with the remote.
    assert_eq!(
        job.get_state(),
        Ok(JobState::Error),
        "a 407 unanswered is fatal"
    );
    job.resume().unwrap();
    sim.advance_secs(3_600);
    assert_eq!(count(&sim, A), 2);
}
