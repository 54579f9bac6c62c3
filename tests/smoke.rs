use bitsim::*;

const URL: &str = "https://example.test/a.bin";

fn setup(remote: Remote) -> (Sim, Manager) {
    let sim = Sim::new(World::new().remote(URL, remote));
    let u = sim.user("alice");
    let app = sim.connect("app", u);
    (sim, app)
}

#[test]
fn smoke_404() {
    let (sim, app) = setup(Remote::sized(100).with_responses([Response::http(404)]));
    let job = app.create_job("j", JobType::Download).unwrap();
    job.add_file(URL, "C:\\a.bin").unwrap();
    job.resume().unwrap();
    sim.advance_secs(0);
    assert_eq!(job.get_state().unwrap(), JobState::Error);
    let e = job.get_error().unwrap();
    assert_eq!(
        e.get_error().unwrap(),
        (ErrorContext::RemoteFile, HResult::from_u32(0x80190194))
    );
    for t in sim.trace() {
        println!("{t}");
    }
}

#[test]
fn smoke_14_days() {
    let (sim, app) = setup(Remote::sized(100).otherwise(Response::http(500)));
    let job = app.create_job("j", JobType::Download).unwrap();
    job.add_file(URL, "C:\\a.bin").unwrap();
    job.resume().unwrap();
    sim.advance_secs(0);
    assert_eq!(job.get_state().unwrap(), JobState::TransientError);
    sim.advance(SimDuration::from_millis(1_209_600_000 - 1));
    assert_eq!(job.get_state().unwrap(), JobState::TransientError);
    sim.advance(SimDuration::from_millis(1));
    assert_eq!(job.get_state().unwrap(), JobState::Error);
    // D6: the first attempt after Resume from SUSPENDED does not count; 2015 timer retries failed
    // (600 s apart); at 1,209,600 s the deadline (armed first) wins over the 2016th retry.
    assert_eq!(job.get_error_count().unwrap(), 2015);
    let trace = sim.trace();
    println!("{} events; last: {}", trace.len(), trace.last().unwrap());
}

#[test]
fn smoke_progress_and_times() {
    let (sim, app) = setup(Remote::sized(2_000_000));
    let job = app.create_job("j", JobType::Download).unwrap();
    job.add_file(URL, "C:\\a.bin").unwrap();
    job.add_file(URL, "C:\\b.bin").unwrap();
    job.resume().unwrap();
    sim.advance_secs(1);
    let p = job.get_progress().unwrap();
    println!("{p:?}");
    assert_eq!(p.bytes_transferred, 1_000_000);
    sim.advance_secs(3);
    let p = job.get_progress().unwrap();
    assert_eq!(p.bytes_transferred, 4_000_000);
    assert_eq!(job.get_state().unwrap(), JobState::Transferred);
    assert_eq!(
        job.get_times().unwrap().transfer_completion_time,
        Some(SimTime::from_secs(4))
    );
    for t in sim.trace() {
        println!("{t}");
    }
}
