//! The end of time (D18), the step bounds of every clock method and the minimum time slice (D20),
//! and callbacks that call back in (D19). Each test reaches its state through real calls and would
//! hang, or see a different state, without the rule it is named after.

mod common;
use bitsim::*;
use common::*;
use std::cell::RefCell;
use std::rc::Rc;

const BIG: u64 = 1 << 40;

/// A machine whose clock stands at the end of time, with alice's application.
fn at_the_end_of_time(world: World) -> (Sim, Manager) {
    let (sim, app) = alice(world);
    sim.advance(SimDuration::MAX);
    assert_eq!(sim.now(), SimTime::MAX);
    assert_eq!(sim.last_stop(), None);
    (sim, app)
}

fn job_on(app: &Manager, url: &str, local: &str, priority: Priority) -> Job {
    let job = app.create_job("j", JobType::Download).unwrap();
    job.add_file(url, local).unwrap();
    job.set_priority(priority).unwrap();
    job.resume().unwrap();
    job
}

fn steps(sim: &Sim) -> u64 {
    sim.with_service(|s| s.steps())
}

fn count(sim: &Sim, f: impl Fn(&TraceKind) -> bool) -> usize {
    sim.trace().iter().filter(|e| f(&e.kind)).count()
}

// ============================================================ D18: the end of time

#[test]
fn d18_two_background_jobs_at_the_end_of_time_keep_their_places_instead_of_rotating_forever() {
    let (sim, app) = at_the_end_of_time(
        World::new()
            .remote(A, Remote::sized(BIG))
            .remote(B, Remote::sized(BIG)),
    );
    let first = job_on(&app, A, LA, Priority::Normal);
    let second = job_on(&app, B, LB, Priority::Normal);
    let before = steps(&sim);
    assert_eq!(sim.try_advance(SimDuration::from_secs(600)), Ok(()));
    assert_eq!(sim.try_advance(SimDuration::MAX), Ok(()));
    // The 600 s slice would end beyond the end of time: it is not armed, nobody rotates (T7 never).
    assert_eq!(state(&first), JobState::Transferring);
    assert_eq!(state(&second), JobState::Queued);
    assert!(steps(&sim) - before < 10, "{} steps", steps(&sim) - before);
    assert_eq!(sim.now(), SimTime::MAX);
    assert_eq!(sim.run_until_idle(), Ok(()));
}

#[test]
fn d18_a_failing_job_error_answer_at_the_end_of_time_is_delivered_once() {
    let (sim, app) = at_the_end_of_time(world_a(10, [Response::http(404)], Response::Ok));
    let job = app.create_job("j", JobType::Download).unwrap();
    job.add_file(A, LA).unwrap();
    job.set_notify_answer(HResult::E_FAIL).unwrap();
    job.resume().unwrap();
    assert_eq!(sim.try_advance(SimDuration::from_secs(3600)), Ok(()));
    assert_eq!(state(&job), JobState::Error, "404 is fatal (T10)");
    let got = app.take_notifications().unwrap();
    assert_eq!(
        got.len(),
        1,
        "the D11 re-delivery would fall beyond the end"
    );
    assert_eq!(got[0].notification.event, NotifyEvent::JobError);
    assert_eq!(got[0].result, HResult::E_FAIL);
    assert!(steps(&sim) < 20, "{} steps", steps(&sim));
}

#[test]
fn d18_a_failing_rust_callback_at_the_end_of_time_is_called_once() {
    let (sim, app) = at_the_end_of_time(world_a(10, [Response::http(404)], Response::Ok));
    let job = app.create_job("j", JobType::Download).unwrap();
    job.add_file(A, LA).unwrap();
    let calls = Rc::new(RefCell::new(0));
    let c = calls.clone();
    job.set_notify_interface(move |_: &Notification| {
        *c.borrow_mut() += 1;
        HResult::E_FAIL
    })
    .unwrap();
    job.resume().unwrap();
    sim.advance(SimDuration::MAX);
    assert_eq!(sim.last_stop(), None);
    assert_eq!(state(&job), JobState::Error);
    assert_eq!(*calls.borrow(), 1);
}

#[test]
fn d18_a_foreground_transfer_that_would_finish_beyond_the_end_never_finishes() {
    let (sim, app) = at_the_end_of_time(world_a(10, [], Response::Ok));
    let job = job_on(&app, A, LA, Priority::Foreground);
    assert_eq!(sim.try_advance(SimDuration::MAX), Ok(()));
    assert_eq!(state(&job), JobState::Transferring);
    assert_eq!(job.get_progress().unwrap().bytes_transferred, 0);
    assert!(steps(&sim) < 10, "{} steps", steps(&sim));
    assert_eq!(sim.run_until_idle(), Ok(()));
    assert_eq!(sim.now(), SimTime::MAX);
}

#[test]
fn d18_a_transfer_that_finishes_just_before_the_end_still_finishes() {
    let (sim, app) = alice(world_a(1_000, [], Response::Ok));
    sim.run_until(SimTime::from_millis(u64::MAX - 5_000));
    let job = job_on(&app, A, LA, Priority::Foreground);
    sim.advance(SimDuration::MAX);
    assert_eq!(state(&job), JobState::Transferred, "1000 bytes take 1 ms");
    assert_eq!(sim.now(), SimTime::MAX);
}

#[test]
fn d18_a_transient_error_at_the_end_of_time_stays_without_timers() {
    let (sim, app) = at_the_end_of_time(world_a(10, [Response::http(503)], Response::Ok));
    let job = job_on(&app, A, LA, Priority::Normal);
    assert_eq!(sim.run_until_idle(), Ok(()));
    assert_eq!(
        state(&job),
        JobState::TransientError,
        "503 is transient (D5)"
    );
    assert_eq!(
        count(&sim, |k| matches!(
            k,
            TraceKind::RetryArmed { .. } | TraceKind::DeadlineArmed { .. }
        )),
        0,
        "neither the retry (D3) nor the deadline (D4) can fall due after the end"
    );
    assert!(sim.with_service(|s| s.is_idle()));
}

// ============================================================ step bounds and the minimum slice

#[test]
fn d20_a_zero_time_slice_is_taken_as_one_second() {
    assert_eq!(World::new().time_slice_secs(0).time_slice(), 1);
    assert_eq!(World::new().time_slice_secs(7).time_slice(), 7);
    let mut s = Service::new(World::new());
    s.set_time_slice_secs(0);
    assert_eq!(s.world().time_slice(), 1);
}

#[test]
fn d20_two_background_jobs_with_a_zero_slice_rotate_once_a_second() {
    let (sim, app) = alice(
        World::new()
            .time_slice_secs(0)
            .bandwidth(1)
            .remote(A, Remote::sized(BIG))
            .remote(B, Remote::sized(BIG)),
    );
    let first = job_on(&app, A, LA, Priority::Normal);
    let _second = job_on(&app, B, LB, Priority::Normal);
    assert_eq!(sim.try_advance(SimDuration::from_secs(10)), Ok(()));
    assert_eq!(sim.now(), secs(10));
    let rotations = sim
        .trace()
        .iter()
        .filter(|e| matches!(e.kind, TraceKind::State { rule: Rule::T7, .. }))
        .count();
    assert_eq!(rotations, 10, "one T7 rotation a second");
    assert_eq!(
        state(&first),
        JobState::Transferring,
        "ten rotations: the first has the slot again"
    );
}

#[test]
fn d20_every_clock_method_of_the_service_stops_at_its_bound_with_a_clear_error() {
    let world = World::new()
        .time_slice_secs(1)
        .bandwidth(1)
        .remote(A, Remote::sized(BIG))
        .remote(B, Remote::sized(BIG));
    let mut s = Service::new(world);
    let u = s.add_user("alice", false, true);
    let app = s.connect("app", u);
    for url in [A, B] {
        let j = s.create_job(app, "j", JobType::Download).unwrap();
        s.add_file(app, j, url, LA).unwrap();
        s.resume(app, j).unwrap();
    }
    let e = s.try_advance(SimDuration::from_days(1), 1_000).unwrap_err();
    assert_eq!(e.steps, 1_000);
    assert_eq!(e.time, s.now());
    assert!(s.now() < SimTime::from_secs(86_400), "stopped short");
    assert_eq!(
        s.trace().last().map(|e| e.kind),
        Some(TraceKind::StepLimit { steps: 1_000 })
    );
    assert!(e.to_string().contains("1000 events"), "{e}");
    let e = s.try_run_until(SimTime::MAX, 10).unwrap_err();
    assert_eq!(e.steps, 10);
    let e = s.run_until_idle(10).unwrap_err();
    assert_eq!(e.steps, 10);
    assert_eq!(
        s.run_until_idle_before(SimTime::MAX, 5).unwrap_err().steps,
        5
    );
    // Within the bound, the target is reached.
    let before = s.now();
    assert_eq!(s.try_advance(SimDuration::from_secs(3), 1_000), Ok(()));
    assert_eq!(s.now(), before + SimDuration::from_secs(3));
}

/// Ten million events: run in release builds only (the suite's `cargo test --release`).
#[test]
#[cfg_attr(debug_assertions, ignore = "ten million events; run with --release")]
fn d20_sim_advance_stops_at_default_max_steps_and_says_so() {
    let (sim, app) = alice(
        World::new()
            .time_slice_secs(1)
            .bandwidth(1)
            .remote(A, Remote::sized(BIG))
            .remote(B, Remote::sized(BIG)),
    );
    sim.with_service_mut(|s| s.set_tracing(false));
    job_on(&app, A, LA, Priority::Normal);
    job_on(&app, B, LB, Priority::Normal);
    sim.advance(SimDuration::from_days(365 * 1000));
    let stop = sim.last_stop().expect("the bound was hit");
    match stop {
        ClockStop::StepLimit(e) => {
            assert_eq!(e.steps, DEFAULT_MAX_STEPS);
            assert_eq!(e.time, sim.now());
        }
        other => panic!("{other:?}"),
    }
    assert!(sim.now() < SimTime::from_secs(86_400 * 365 * 1000));
    // The next call starts a new budget.
    assert_eq!(sim.try_advance(SimDuration::from_secs(1)), Ok(()));
    assert_eq!(sim.last_stop(), None);
}

// ============================================================ D19: callbacks that call back in

/// Completes the job when it is transferred, as Microsoft's samples do.
struct Completer {
    returned: Rc<RefCell<Vec<Result<HResult, HResult>>>>,
}

impl Callback for Completer {
    fn job_transferred(&mut self, job: &Job, n: &Notification) -> HResult {
        assert_eq!(job.id(), n.job);
        self.returned.borrow_mut().push(job.complete());
        HResult::S_OK
    }
}

#[test]
fn d19_a_callback_completes_the_job_on_job_transferred_and_it_ends_acknowledged() {
    let (sim, app) = alice(world_a(1_000, [], Response::Ok));
    let job = app.create_job("j", JobType::Download).unwrap();
    job.add_file(A, LA).unwrap();
    let returned = Rc::new(RefCell::new(vec![]));
    job.set_notify_interface(Completer {
        returned: returned.clone(),
    })
    .unwrap();
    job.resume().unwrap();
    sim.advance_secs(60);
    assert_eq!(*returned.borrow(), vec![Ok(HResult::S_OK)], "D7");
    assert_eq!(state(&job), JobState::Acknowledged);
    // Complete's state change happens inside the callback; the delivery is logged when the
    // callback returns: both at the instant the transfer ended.
    let t = job.get_times().unwrap().transfer_completion_time.unwrap();
    let tail: Vec<TraceKind> = sim
        .trace()
        .iter()
        .filter(|e| e.job() == Some(job.id()) && e.time == t)
        .map(|e| e.kind)
        .skip_while(|k| {
            !matches!(
                k,
                TraceKind::State {
                    to: JobState::Transferred,
                    ..
                }
            )
        })
        .skip(1)
        .collect();
    assert!(
        matches!(
            tail.as_slice(),
            [
                TraceKind::State {
                    from: JobState::Transferred,
                    to: JobState::Acknowledged,
                    ..
                },
                TraceKind::Notified {
                    event: NotifyEvent::JobTransferred,
                    result: HResult::S_OK,
                    ..
                },
            ]
        ),
        "{tail:?}"
    );
}

/// Reads the error, then cancels, on JobError.
#[derive(Default)]
struct Canceller {
    seen: Rc<RefCell<Vec<String>>>,
}

impl Callback for Canceller {
    fn job_error(&mut self, job: &Job, error: &CopyError, _: &Notification) -> HResult {
        let mut seen = self.seen.borrow_mut();
        seen.push(format!("{:?}", error.get_error()));
        seen.push(format!("{:?}", error.get_error_description(0x409)));
        seen.push(format!("{:?}", job.get_state()));
        seen.push(format!("{:?}", job.cancel()));
        seen.push(format!("{:?}", job.get_state()));
        HResult::S_OK
    }
}

#[test]
fn d19_a_callback_cancels_the_job_and_reads_the_error_description_on_job_error() {
    let (sim, app) = alice(world_a(10, [Response::http(404)], Response::Ok));
    let job = app.create_job("j", JobType::Download).unwrap();
    job.add_file(A, LA).unwrap();
    let cb = Canceller::default();
    let seen = cb.seen.clone();
    job.set_notify_interface(cb).unwrap();
    job.resume().unwrap();
    sim.advance_secs(1);
    let text = app
        .get_error_description(HResult::http(404), 0x409)
        .unwrap();
    assert_eq!(
        *seen.borrow(),
        vec![
            format!(
                "{:?}",
                Ok::<_, HResult>((ErrorContext::RemoteFile, HResult::http(404)))
            ),
            format!("{:?}", Ok::<_, HResult>(text)),
            format!("{:?}", Ok::<_, HResult>(JobState::Error)),
            format!("{:?}", Ok::<_, HResult>(HResult::S_OK)),
            format!("{:?}", Ok::<_, HResult>(JobState::Cancelled)),
        ]
    );
    assert_eq!(state(&job), JobState::Cancelled, "T16");
}

#[test]
fn d19_reads_inside_a_callback_see_the_delivery_instant() {
    let (sim, app) = alice(world_a(10, [], Response::Ok));
    let job = running_job(&app);
    let seen = Rc::new(RefCell::new(None));
    let (s2, out) = (sim.clone(), seen.clone());
    job.set_notify_interface(move |n: &Notification| {
        let last_state = s2.trace().iter().rev().find_map(|e| match e.kind {
            TraceKind::State { to, .. } => Some(to),
            _ => None,
        });
        let service_now = s2.with_service(|s| s.now());
        *out.borrow_mut() = Some((s2.in_callback(), s2.now(), service_now, n.time, last_state));
        HResult::S_OK
    })
    .unwrap();
    sim.advance_secs(5);
    let (inside, now, service_now, time, last) = seen.borrow().unwrap();
    assert!(inside);
    assert!(!sim.in_callback());
    assert_eq!((now, service_now), (time, time));
    assert_eq!(last, Some(JobState::Transferred));
    assert_eq!(sim.now(), secs(5));
}

#[test]
fn d19_clock_methods_inside_a_callback_refuse_and_say_so() {
    let (sim, app) = alice(world_a(10, [], Response::Ok));
    let job = running_job(&app);
    let seen = Rc::new(RefCell::new(vec![]));
    let (s2, out) = (sim.clone(), seen.clone());
    job.set_notify_interface(move |n: &Notification| {
        let mut o = out.borrow_mut();
        o.push(s2.try_advance(SimDuration::from_secs(1)));
        s2.advance_secs(1);
        o.push(s2.last_stop().map_or(Ok(()), Err));
        o.push(s2.run_until_idle());
        o.push(if s2.now() == n.time {
            Ok(())
        } else {
            Err(ClockStop::InCallback { time: s2.now() })
        });
        HResult::S_OK
    })
    .unwrap();
    sim.advance_secs(5);
    let t = job.get_times().unwrap().transfer_completion_time.unwrap();
    let refused = Err(ClockStop::InCallback { time: t });
    assert_eq!(
        *seen.borrow(),
        vec![refused, refused, refused, Ok(())],
        "the clock did not move"
    );
    assert_eq!(count(&sim, |k| *k == TraceKind::ClockInCallback), 3);
    assert_eq!(sim.now(), secs(5));
    assert_eq!(
        sim.last_stop(),
        None,
        "the outer advance reached its target"
    );
}

/// Takes the notifications, then exits, on JobTransferred; answers E_FAIL.
struct Leaver {
    app: Manager,
    taken: Rc<RefCell<Vec<Vec<NotifyEvent>>>>,
    exit: Rc<RefCell<Option<Result<(), HResult>>>>,
}

impl Callback for Leaver {
    fn job_transferred(&mut self, job: &Job, _: &Notification) -> HResult {
        let taken = self.app.take_notifications().unwrap();
        self.taken
            .borrow_mut()
            .push(taken.iter().map(|d| d.notification.event).collect());
        *self.exit.borrow_mut() = Some(self.app.exit());
        assert_eq!(job.get_state(), Err(HResult::RPC_E_DISCONNECTED), "D2");
        HResult::E_FAIL
    }
}

#[test]
fn d19_exit_and_take_notifications_inside_a_callback_do_what_they_say() {
    let (sim, app) = alice(world_a(10, [], Response::Ok));
    let job = app.create_job("j", JobType::Download).unwrap();
    job.add_file(A, LA).unwrap();
    job.set_notify_flags(NotifyFlags::JOB_TRANSFERRED | NotifyFlags::JOB_MODIFICATION)
        .unwrap();
    job.set_minimum_retry_delay(60).unwrap();
    let taken = Rc::new(RefCell::new(vec![]));
    let exit = Rc::new(RefCell::new(None));
    job.set_notify_interface(Leaver {
        app: app.clone(),
        taken: taken.clone(),
        exit: exit.clone(),
    })
    .unwrap();
    job.resume().unwrap();
    sim.advance_secs(1_000);
    // Inside: the deliveries before this one (JobModification for QUEUED, CONNECTING,
    // TRANSFERRING), not the one in progress.
    assert_eq!(
        *taken.borrow(),
        vec![vec![NotifyEvent::JobModification; 3]],
        "called once: the exit dropped the registration, so E_FAIL is not re-delivered (D2, D11)"
    );
    assert_eq!(*exit.borrow(), Some(Ok(())));
    assert_eq!(count(&sim, |k| matches!(k, TraceKind::AppExited { .. })), 1);
    // The delivery in progress was logged when the callback returned, after the exit.
    let after: Vec<(NotifyEvent, HResult)> = app
        .take_notifications()
        .unwrap()
        .iter()
        .map(|d| (d.notification.event, d.result))
        .collect();
    assert_eq!(after, vec![(NotifyEvent::JobTransferred, HResult::E_FAIL)]);
    assert_eq!(job.get_state(), Err(HResult::RPC_E_DISCONNECTED));
    let owner = sim.connect("again", sim.with_service(|s| s.user_id("alice")).unwrap());
    let again = owner.unwrap().get_job(job.id()).unwrap();
    assert_eq!(
        state(&again),
        JobState::Transferred,
        "jobs outlive their app (D2)"
    );
}

/// Answers E_FAIL twice, then completes the job.
struct Stubborn {
    calls: Rc<RefCell<Vec<SimTime>>>,
}

impl Callback for Stubborn {
    fn job_transferred(&mut self, job: &Job, n: &Notification) -> HResult {
        self.calls.borrow_mut().push(n.time);
        if self.calls.borrow().len() < 3 {
            HResult::E_FAIL
        } else {
            job.complete().unwrap();
            HResult::S_OK
        }
    }
}

#[test]
fn d19_d11_a_rust_callback_answering_e_fail_is_called_again_after_the_retry_delay() {
    let (sim, app) = alice(world_a(1_000, [], Response::Ok));
    let job = app.create_job("j", JobType::Download).unwrap();
    job.add_file(A, LA).unwrap();
    job.set_minimum_retry_delay(60).unwrap();
    let calls = Rc::new(RefCell::new(vec![]));
    job.set_notify_interface(Stubborn {
        calls: calls.clone(),
    })
    .unwrap();
    job.resume().unwrap();
    sim.advance_secs(1_000);
    let t = job.get_times().unwrap().transfer_completion_time.unwrap();
    let minute = SimDuration::from_secs(60);
    assert_eq!(*calls.borrow(), vec![t, t + minute, t + minute + minute]);
    assert_eq!(state(&job), JobState::Acknowledged);
    let results: Vec<HResult> = app
        .take_notifications()
        .unwrap()
        .iter()
        .map(|d| d.result)
        .collect();
    assert_eq!(results, [HResult::E_FAIL, HResult::E_FAIL, HResult::S_OK]);
}

#[test]
fn d19_a_callback_registered_on_an_error_job_is_called_before_the_call_returns() {
    let (sim, app) = alice(world_a(10, [Response::http(404)], Response::Ok));
    let job = running_job(&app);
    sim.advance_secs(1);
    assert_eq!(state(&job), JobState::Error);
    let cb = Canceller::default();
    let seen = cb.seen.clone();
    job.set_notify_interface(cb).unwrap();
    assert_eq!(
        seen.borrow().len(),
        5,
        "delivered inside SetNotifyInterface (D11)"
    );
    assert_eq!(state(&job), JobState::Cancelled);
}

#[test]
fn d19_a_scripted_answer_stays_inside_the_step_and_a_bare_service_queues_code_callbacks() {
    let mut s = Service::new(world_a(10, [], Response::Ok));
    let u = s.add_user("alice", false, true);
    let app = s.connect("app", u);
    let j = s.create_job(app, "j", JobType::Download).unwrap();
    s.add_file(app, j, A, LA).unwrap();
    s.set_notify_interface(
        app,
        j,
        Some(Notifier::Callback(AppCode::new(|_: &Notification| {
            HResult::S_OK
        }))),
    )
    .unwrap();
    s.resume(app, j).unwrap();
    s.advance(SimDuration::from_secs(1));
    assert!(s.has_callouts(), "nobody delivers them in a bare service");
    assert!(s.take_deliveries(app).is_empty());
    // A Sim around it delivers them at its next clock call.
    let sim = Sim::from_service(s);
    sim.advance_secs(0);
    let delivered = sim.with_service_mut(|s| s.take_deliveries(app));
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].notification.event, NotifyEvent::JobTransferred);
    assert!(!sim.with_service(|s| s.has_callouts()));
}

/// D19: a callback that panics does not leave the simulator believing it is inside a callback: once
/// the panic is caught, the clock moves again.
#[test]
fn d19_after_a_callback_panics_the_clock_moves_again() {
    let (sim, app) = alice(world_a(1_000, [], Response::Ok));
    let job = app.create_job("j", JobType::Download).unwrap();
    job.add_file(A, LA).unwrap();
    job.set_notify_interface(|_: &Notification| -> HResult { panic!("client bug") })
        .unwrap();
    job.resume().unwrap();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sim.advance_secs(60)));
    assert!(caught.is_err(), "the callback's panic reaches the caller");
    assert!(!sim.in_callback());
    let before = sim.now();
    assert_eq!(sim.try_advance(SimDuration::from_secs(10)), Ok(()));
    assert_eq!(sim.now(), before + SimDuration::from_secs(10));
    assert_eq!(state(&job), JobState::Transferred);
}
