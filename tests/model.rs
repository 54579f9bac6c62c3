//! A reference model of the job state machine, written from the spec (§1.5, D1–D15), checked against
//! the simulator with `proptest-state-machine`.
//!
//! The model knows up to three jobs of one user: their state, type, file count, which files are done,
//! the error record (D1), a lower and upper bound of the error count (D6: exact where the spec
//! decides), the retry timer (D3) and the no-progress rule for a zero timeout (T26, D4). It drives the
//! world itself — each job's server answers ok, 404 or 503 as the model says — so it also predicts the
//! engine's transitions: TRANSFERRED, ERROR, TRANSIENT_ERROR, retries, network loss and return.
//!
//! It predicts every refusal (BG_E_EMPTY, BG_E_INVALID_STATE, the upload Complete rule, E_NOTIMPL,
//! AddFileWithRanges and File6 refusals of D57, D73 and D74, …)
//! instead of filtering them out with preconditions. All jobs are FOREGROUND, so they transfer at once
//! (D12) and do not depend on the background slot (whose one-at-a-time rule has its own property).
//! The system under test is the core `Service`, called as one application.

use bitsim::{AppId, HResult, JobId, JobState, JobType, Service, SimDuration, World};
use bitsim::{Network, Remote, Response};
use proptest::prelude::*;
use proptest::sample::select;
use proptest_state_machine::{prop_state_machine, ReferenceStateMachine, StateMachineTest};

const MAX_JOBS: usize = 3;
/// Zero-byte files: a successful attempt connects, transfers and finishes at one instant, so the model
/// needs no bandwidth arithmetic (transfer timing is covered by the property tests' worlds).
const FILE_SIZE: u64 = 0;
const DEFAULT_RETRY_DELAY: u64 = 600;
const DEFAULT_NO_PROGRESS: u32 = 1_209_600;

fn url(j: usize) -> String {
    format!("https://m{j}.test/f.bin")
}
fn upload_source(j: usize) -> String {
    format!("C:\\up\\m{j}.bin")
}

/// What a job's server answers every connection attempt with.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Answer {
    Ok,
    NotFound,    // 404: fatal (D5)
    Unavailable, // 503: transient (D5)
}

impl Answer {
    fn response(self) -> Response {
        match self {
            Answer::Ok => Response::Ok,
            Answer::NotFound => Response::http(404),
            Answer::Unavailable => Response::http(503),
        }
    }
}

/// How the next connection attempt counts for D6.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Attempt {
    /// The first after Resume from SUSPENDED or ERROR: a failure adds nothing.
    First,
    /// Started by the retry timer or by Resume in TRANSIENT_ERROR: a failure adds one.
    Retry,
    /// The spec does not say (after the network came back): 0 or 1.
    Either,
}

#[derive(Clone, Debug)]
struct MJob {
    job_type: JobType,
    state: JobState,
    files: u32,
    files_done: u32,
    answer: Answer,
    /// D1: the code of the error record, if any.
    record: Option<HResult>,
    count_lo: u32,
    count_hi: u32,
    attempt: Attempt,
    retry_delay: u64,
    no_progress_zero: bool,
    /// When it entered TRANSIENT_ERROR, and when the retry timer fires (none while waiting for the
    /// network, D3).
    transient_since: u64,
    retry_at: Option<u64>,
    /// D33: a Resume call succeeded (Job5 DYNAMIC_CONTENT is read-only from then on).
    resumed: bool,
}

#[derive(Clone, Debug)]
struct Model {
    jobs: Vec<MJob>,
    now: u64,
    network_up: bool,
    /// D10: the owner is logged on (jobs transfer only then).
    logged_on: bool,
    /// What the last transition's call must return (None for world changes).
    expect: Option<HResult>,
}

#[derive(Clone, Debug)]
enum T {
    Create(JobType),
    AddFile {
        job: usize,
        valid: bool,
    },
    Resume(usize),
    Suspend(usize),
    Cancel(usize),
    Complete(usize),
    SetPriority(usize, u32),
    SetNotifyFlags(usize, u32),
    SetLongDisplayName(usize),
    SetNoProgressTimeout(usize, u32),
    SetMinimumRetryDelay(usize, u32),
    TakeOwnership(usize),
    /// Job5 COST_FLAGS (D33, D53): only values that allow the UNRESTRICTED network, or unknown bits.
    SetCostFlags(usize, u32),
    /// Job4 SetMaximumDownloadTime (D32, D55): files take no time, so a nonzero limit never ends.
    SetMaximumDownloadTime(usize, u32),
    /// HttpOptions SetCustomHeaders (D28): a short header, or one over 16,383 characters.
    SetCustomHeaders(usize, bool),
    /// Job3 ReplaceRemotePrefix with a prefix no file has (D37).
    ReplaceRemotePrefix(usize),
    /// Job5 DYNAMIC_CONTENT = FALSE (D33: downloads only, before the first Resume).
    SetDynamicContent(usize),
    /// Job3 AddFileWithRanges (D57) with no ranges, or with an InitialOffset of BG_LENGTH_TO_EOF:
    /// refused either way (a final state, an upload, the ranges), so the job never changes.
    AddFileWithRanges {
        job: usize,
        empty: bool,
    },
    /// File6 RequestFileRanges on file 0 with no ranges (D73, D74): refused (a final state, no
    /// file, an upload, the empty array).
    RequestNoRanges(usize),
    GetError(usize),
    GetJob(usize),
    EnumJobs,
    Serve(usize, Answer),
    Advance(u64),
    Network(bool),
    Logon(bool),
    RestartService,
}

impl Model {
    fn job(&mut self, j: usize) -> &mut MJob {
        &mut self.jobs[j]
    }

    /// D6: a failed attempt of this kind adds to the error count.
    fn count_failure(job: &mut MJob) {
        match job.attempt {
            Attempt::First => {}
            Attempt::Retry => {
                job.count_lo += 1;
                job.count_hi += 1;
            }
            Attempt::Either => job.count_hi += 1,
        }
    }

    /// Entry into QUEUED by a rule that decides what the next attempt counts as.
    fn queue(job: &mut MJob, attempt: Attempt) {
        job.state = JobState::Queued;
        job.attempt = attempt;
        job.retry_at = None;
    }

    /// A recoverable problem at `t`: TRANSIENT_ERROR with `code`, or ERROR when the no-progress timeout
    /// is zero (T26). `network` problems wait for the network instead of the timer (D3).
    fn transient(job: &mut MJob, code: HResult, t: u64, network: bool) {
        job.record = Some(code);
        job.retry_at = None;
        if job.no_progress_zero {
            job.state = JobState::Error;
            return;
        }
        job.state = JobState::TransientError;
        job.transient_since = t;
        if !network {
            job.retry_at = Some(t + job.retry_delay);
        }
    }

    /// The scheduler's turn for a QUEUED FOREGROUND job at `t` (T4 and what follows).
    fn run_queued(job: &mut MJob, t: u64, network_up: bool) {
        if !network_up {
            // T18: the job waits for the network; no error count (D6).
            Self::transient(job, HResult::BG_E_NETWORK_DISCONNECTED, t, true);
            return;
        }
        if job.files_done == job.files {
            // Nothing left to move: through TRANSFERRING (the record goes, D1) to TRANSFERRED (T8).
            job.record = None;
            job.state = JobState::Transferred;
            return;
        }
        match job.answer {
            Answer::Ok => {
                // T5, T8: every remaining file comes (one at a time, zero bytes each).
                job.record = None;
                job.files_done = job.files;
                job.state = JobState::Transferred;
            }
            Answer::NotFound => {
                // T10 from CONNECTING.
                Self::count_failure(job);
                job.record = Some(HResult::http(404));
                job.state = JobState::Error;
                job.retry_at = None;
            }
            Answer::Unavailable => {
                // T6 (or T26).
                Self::count_failure(job);
                Self::transient(job, HResult::http(503), t, false);
            }
        }
    }

    /// Virtual time moves by `d`: each job follows its own timeline (FOREGROUND jobs do not wait for
    /// each other, D12).
    fn advance(&mut self, d: u64) {
        let end = self.now + d;
        let (now, up, on) = (self.now, self.network_up, self.logged_on);
        for job in &mut self.jobs {
            let mut t = now;
            loop {
                match job.state {
                    // D10: a QUEUED job waits while its owner is logged off...
                    JobState::Queued if !on && up => break,
                    // ...but the network loss reaches it all the same (T18).
                    JobState::Queued => Self::run_queued(job, t, up),
                    JobState::TransientError => match job.retry_at {
                        Some(at) if at <= end => {
                            t = at.max(t);
                            Self::queue(job, Attempt::Retry); // T11
                        }
                        _ => break,
                    },
                    _ => break,
                }
            }
        }
        self.now = end;
    }

    /// D3 / D4: a setter of the retry delay or the timeout while in TRANSIENT_ERROR moves the timer,
    /// and a zero timeout ends the wait in ERROR now (the clock has run since the first error).
    fn retimed(&mut self, j: usize) {
        let (now, up) = (self.now, self.network_up);
        let job = self.job(j);
        if job.state != JobState::TransientError {
            return;
        }
        if job.no_progress_zero {
            job.state = JobState::Error; // T12: keeps the record
            job.retry_at = None;
        } else if up && job.retry_at.is_some() {
            job.retry_at = Some((job.transient_since + job.retry_delay).max(now));
        }
    }

    /// The common refusal of every mutator: a final job (§1.3).
    fn mutable(&self, j: usize) -> Result<(), HResult> {
        if self.jobs[j].state.is_final() {
            Err(HResult::BG_E_INVALID_STATE)
        } else {
            Ok(())
        }
    }

    fn call(&mut self, t: &T) -> Result<HResult, HResult> {
        use JobState as S;
        const OK: Result<HResult, HResult> = Ok(HResult::S_OK);
        match *t {
            T::Create(job_type) => {
                self.jobs.push(MJob {
                    job_type,
                    state: S::Suspended, // T1
                    files: 0,
                    files_done: 0,
                    answer: Answer::Ok,
                    record: None,
                    count_lo: 0,
                    count_hi: 0,
                    attempt: Attempt::First,
                    retry_delay: DEFAULT_RETRY_DELAY,
                    no_progress_zero: false,
                    transient_since: 0,
                    retry_at: None,
                    resumed: false,
                });
                OK
            }
            T::AddFile { job: j, valid } => {
                self.mutable(j)?;
                let job = self.job(j);
                if !valid {
                    return Err(HResult::E_INVALIDARG);
                }
                if job.job_type.is_upload() && job.files >= 1 {
                    return Err(HResult::BG_E_TOO_MANY_FILES);
                }
                job.files += 1;
                if job.state == S::Transferred {
                    job.state = S::Suspended; // D8
                }
                OK
            }
            T::AddFileWithRanges { job: j, empty } => {
                self.mutable(j)?; // D57: a final state first
                if self.jobs[j].job_type.is_upload() {
                    return Err(HResult::E_NOTIMPL); // D57
                }
                if empty {
                    return Err(HResult::E_INVALIDARG); // D57: no ranges
                }
                Err(HResult::BG_E_INVALID_RANGE) // D57: InitialOffset BG_LENGTH_TO_EOF
            }
            T::RequestNoRanges(j) => {
                self.mutable(j)?; // D73: a final state (after the file's access)
                let job = &self.jobs[j];
                if job.files == 0 {
                    return Err(HResult::BG_E_FILE_NOT_FOUND); // D73: the file
                }
                if job.job_type.is_upload() {
                    return Err(HResult::BG_E_RANDOM_ACCESS_NOT_SUPPORTED); // D73
                }
                Err(HResult::E_INVALIDARG) // D74: no ranges
            }
            T::Resume(j) => {
                self.mutable(j)?;
                let job = self.job(j);
                match job.state {
                    S::Suspended if job.files == 0 => return Err(HResult::BG_E_EMPTY), // T3
                    S::Suspended | S::Error => Self::queue(job, Attempt::First),       // T2, T14
                    S::TransientError => Self::queue(job, Attempt::Retry),             // T13
                    _ => {}                                                            // T28
                }
                job.resumed = true;
                OK
            }
            T::Suspend(j) => {
                self.mutable(j)?;
                let job = self.job(j);
                job.state = S::Suspended; // T15
                job.retry_at = None;
                OK
            }
            T::Cancel(j) => {
                self.mutable(j)?;
                self.job(j).state = S::Cancelled; // T16
                OK
            }
            T::Complete(j) => {
                self.mutable(j)?;
                let job = self.job(j);
                let all = job.files_done == job.files;
                match job.job_type {
                    JobType::Download => {
                        job.state = S::Acknowledged; // T17a, D7
                        Ok(if all {
                            HResult::S_OK
                        } else {
                            HResult::BG_S_PARTIAL_COMPLETE
                        })
                    }
                    _ if job.state == S::Transferred => {
                        job.state = S::Acknowledged; // T17c
                        OK
                    }
                    _ => Err(HResult::BG_E_INVALID_STATE), // D7
                }
            }
            T::SetPriority(j, p) => {
                self.mutable(j)?;
                if p > 3 {
                    return Err(HResult::E_NOTIMPL); // D14
                }
                OK
            }
            T::SetNotifyFlags(j, f) => {
                self.mutable(j)?;
                if f & !0x3F != 0 {
                    return Err(HResult::E_NOTIMPL); // D14
                }
                OK
            }
            T::SetLongDisplayName(j) => {
                self.mutable(j)?;
                Err(HResult::E_INVALIDARG) // D14: over 256 characters
            }
            T::SetNoProgressTimeout(j, s) => {
                self.mutable(j)?;
                self.job(j).no_progress_zero = s == 0;
                self.retimed(j);
                OK
            }
            T::SetMinimumRetryDelay(j, s) => {
                self.mutable(j)?;
                self.job(j).retry_delay = u64::from(s.max(5)); // D14: floor 5
                self.retimed(j);
                OK
            }
            T::TakeOwnership(j) => {
                self.mutable(j)?;
                OK // the caller owns it already
            }
            T::SetCostFlags(j, f) => {
                self.mutable(j)?;
                if f & !0xC000_00FF != 0 {
                    return Err(HResult::E_INVALIDARG); // D33
                }
                OK
            }
            T::SetMaximumDownloadTime(j, _) => {
                self.mutable(j)?;
                OK // D32: any value
            }
            T::SetCustomHeaders(j, long) => {
                self.mutable(j)?;
                if long {
                    return Err(HResult::BG_E_STRING_TOO_LONG); // D28
                }
                OK
            }
            T::ReplaceRemotePrefix(j) => {
                self.mutable(j)?;
                if self.jobs[j].job_type.is_upload() {
                    return Err(HResult::E_NOTIMPL); // D37
                }
                Ok(HResult::S_FALSE) // no remote name starts with it
            }
            T::SetDynamicContent(j) => {
                self.mutable(j)?;
                let job = &self.jobs[j];
                if job.job_type.is_upload() {
                    return Err(HResult::BG_E_PROPERTY_SUPPORTED_FOR_DOWNLOAD_JOBS_ONLY);
                    // D33
                }
                if job.resumed {
                    return Err(HResult::BG_E_READ_ONLY_PROPERTY_AFTER_RESUME); // D33
                }
                OK
            }
            T::GetError(j) => self.jobs[j]
                .record
                .map(|_| HResult::S_OK)
                .ok_or(HResult::BG_E_ERROR_INFORMATION_UNAVAILABLE),
            T::GetJob(j) => {
                if self.jobs[j].state.is_final() {
                    Err(HResult::BG_E_NOT_FOUND) // D9
                } else {
                    OK
                }
            }
            T::EnumJobs => OK,
            T::Serve(..) | T::Advance(_) | T::Network(_) | T::Logon(_) | T::RestartService => OK,
        }
    }

    fn world(&mut self, t: &T) {
        match *t {
            T::Serve(j, a) => self.job(j).answer = a,
            T::Advance(d) => self.advance(d),
            T::Network(up) if up != self.network_up => {
                self.network_up = up;
                let now = self.now;
                for job in &mut self.jobs {
                    match (up, job.state) {
                        // T18: QUEUED jobs lose the network at once, no count; retries stop.
                        (false, JobState::Queued) => {
                            Self::transient(job, HResult::BG_E_NETWORK_DISCONNECTED, now, true)
                        }
                        (false, JobState::TransientError) => job.retry_at = None,
                        // T19: every TRANSIENT_ERROR job is queued again.
                        (true, JobState::TransientError) => Self::queue(job, Attempt::Either),
                        _ => {}
                    }
                }
            }
            // D10: nothing is running between steps, so logoff moves no job; logon lets QUEUED ones
            // run at the next scheduler turn.
            T::Logon(on) => self.logged_on = on,
            // D15: jobs, properties and records persist; nothing is running between steps.
            T::Network(_) | T::RestartService => {}
            _ => {}
        }
    }
}

struct Reference;

fn job_index(n: usize) -> BoxedStrategy<usize> {
    (0..n.max(1)).boxed()
}

impl ReferenceStateMachine for Reference {
    type State = Model;
    type Transition = T;

    fn init_state() -> BoxedStrategy<Model> {
        Just(Model {
            jobs: Vec::new(),
            now: 0,
            network_up: true,
            logged_on: true,
            expect: None,
        })
        .boxed()
    }

    fn transitions(m: &Model) -> BoxedStrategy<T> {
        let create = prop_oneof![
            4 => Just(JobType::Download),
            1 => Just(JobType::Upload),
            1 => Just(JobType::UploadReply),
        ]
        .prop_map(T::Create);
        let world = prop_oneof![
            4 => select(&[1u64, 5, 60, 600][..]).prop_map(T::Advance),
            1 => any::<bool>().prop_map(T::Network),
            1 => any::<bool>().prop_map(T::Logon),
            1 => Just(T::RestartService),
            1 => Just(T::EnumJobs),
        ];
        if m.jobs.is_empty() {
            return prop_oneof![3 => create, 1 => world].boxed();
        }
        let j = job_index(m.jobs.len());
        let answer = prop_oneof![
            2 => Just(Answer::Ok),
            1 => Just(Answer::NotFound),
            2 => Just(Answer::Unavailable),
        ];
        let calls = prop_oneof![
            6 => (j.clone(), prop_oneof![6 => Just(true), 1 => Just(false)])
                .prop_map(|(job, valid)| T::AddFile { job, valid }),
            8 => j.clone().prop_map(T::Resume),
            2 => j.clone().prop_map(T::Suspend),
            1 => j.clone().prop_map(T::Cancel),
            2 => j.clone().prop_map(T::Complete),
            1 => (j.clone(), select(&[0u32, 4, 7][..])).prop_map(|(j, p)| T::SetPriority(j, p)),
            1 => (j.clone(), select(&[3u32, 0x40][..])).prop_map(|(j, f)| T::SetNotifyFlags(j, f)),
            1 => j.clone().prop_map(T::SetLongDisplayName),
            1 => (j.clone(), select(&[0u32, DEFAULT_NO_PROGRESS][..]))
                .prop_map(|(j, s)| T::SetNoProgressTimeout(j, s)),
            1 => (j.clone(), select(&[0u32, 5, 60, 600][..]))
                .prop_map(|(j, s)| T::SetMinimumRetryDelay(j, s)),
            1 => j.clone().prop_map(T::TakeOwnership),
            1 => (j.clone(), select(&[0x8000_0067u32, 0x8000_00FF, 0x8000_0021, 0x100][..]))
                .prop_map(|(j, f)| T::SetCostFlags(j, f)),
            1 => (j.clone(), select(&[1u32, 7_776_000][..]))
                .prop_map(|(j, s)| T::SetMaximumDownloadTime(j, s)),
            1 => (j.clone(), any::<bool>()).prop_map(|(j, l)| T::SetCustomHeaders(j, l)),
            1 => j.clone().prop_map(T::ReplaceRemotePrefix),
            1 => j.clone().prop_map(T::SetDynamicContent),
            1 => (j.clone(), any::<bool>())
                .prop_map(|(job, empty)| T::AddFileWithRanges { job, empty }),
            1 => j.clone().prop_map(T::RequestNoRanges),
            3 => j.clone().prop_map(T::GetError),
            1 => j.clone().prop_map(T::GetJob),
            4 => (j, answer).prop_map(|(j, a)| T::Serve(j, a)),
        ];
        if m.jobs.len() < MAX_JOBS {
            prop_oneof![1 => create, 8 => calls, 3 => world].boxed()
        } else {
            prop_oneof![8 => calls, 3 => world].boxed()
        }
    }

    fn apply(mut m: Model, t: &T) -> Model {
        let r = m.call(t);
        m.world(t);
        m.expect = Some(r.unwrap_or_else(|e| e));
        m
    }
}

/// The simulator, driven as one application of one user.
struct Sut {
    service: Service,
    app: AppId,
    jobs: Vec<JobId>,
}

struct ModelTest;

impl StateMachineTest for ModelTest {
    type SystemUnderTest = Sut;
    type Reference = Reference;

    fn init_test(_: &Model) -> Sut {
        let mut world = World::new().bandwidth(1_000_000);
        for j in 0..MAX_JOBS {
            world = world
                .remote(url(j), Remote::sized(FILE_SIZE))
                .local(upload_source(j), FILE_SIZE);
        }
        let mut service = Service::new(world);
        let user = service.add_user("alice", false, true);
        let app = service.connect("app", user);
        Sut {
            service,
            app,
            jobs: Vec::new(),
        }
    }

    fn apply(mut sut: Sut, m: &Model, t: T) -> Sut {
        let s = &mut sut.service;
        let app = sut.app;
        let id = |j: usize| sut.jobs[j];
        let ok = |r: Result<(), HResult>| r.map(|_| HResult::S_OK);
        let got: Result<HResult, HResult> = match t {
            T::Create(job_type) => s.create_job(app, "model", job_type).and_then(|job| {
                sut.jobs.push(job);
                s.set_priority(app, job, 0).map(|_| HResult::S_OK) // FOREGROUND
            }),
            T::AddFile { job, valid } => {
                let j = &m.jobs[job];
                let local = match (valid, j.job_type.is_upload()) {
                    (false, _) => "relative\\name.bin".to_string(),
                    (true, true) => upload_source(job),
                    (true, false) => format!("C:\\dl\\m{job}.bin"),
                };
                ok(s.add_file(app, id(job), &url(job), &local))
            }
            T::Resume(j) => s.resume(app, id(j)),
            T::Suspend(j) => s.suspend(app, id(j)),
            T::Cancel(j) => s.cancel(app, id(j)),
            T::Complete(j) => s.complete(app, id(j)),
            T::SetPriority(j, p) => ok(s.set_priority(app, id(j), p)),
            T::SetNotifyFlags(j, f) => ok(s.set_notify_flags(app, id(j), f)),
            T::SetLongDisplayName(j) => ok(s.set_display_name(app, id(j), &"n".repeat(257))),
            T::SetNoProgressTimeout(j, v) => ok(s.set_no_progress_timeout(app, id(j), v)),
            T::SetMinimumRetryDelay(j, v) => ok(s.set_minimum_retry_delay(app, id(j), v)),
            T::TakeOwnership(j) => ok(s.take_ownership(app, id(j))),
            T::SetCostFlags(j, f) => ok(s.set_cost_flags(app, id(j), f)),
            T::SetMaximumDownloadTime(j, v) => ok(s.set_maximum_download_time(app, id(j), v)),
            T::SetCustomHeaders(j, long) => {
                let h = if long {
                    "X".repeat(16_384)
                } else {
                    "X-Key: k1\r\n".to_string()
                };
                ok(s.set_custom_headers(app, id(j), Some(&h)))
            }
            T::ReplaceRemotePrefix(j) => s.replace_remote_prefix(
                app,
                id(j),
                "https://no-such-prefix.test/",
                "https://other.test/",
            ),
            T::SetDynamicContent(j) => ok(s.set_dynamic_content(app, id(j), false)),
            T::AddFileWithRanges { job, empty } => {
                let ranges: &[(u64, u64)] = if empty { &[] } else { &[(u64::MAX, 1)] };
                let local = format!("C:\\dl\\r{job}.bin");
                ok(s.add_file_with_ranges(app, id(job), &url(job), &local, ranges))
            }
            T::RequestNoRanges(j) => ok(s.request_file_ranges(app, id(j), 0, &[])),
            T::GetError(j) => s.get_error(app, id(j)).map(|_| HResult::S_OK),
            T::GetJob(j) => s.get_job(app, id(j)).map(|_| HResult::S_OK),
            T::EnumJobs => {
                let listed = s.enum_jobs(app, 0).expect("own jobs can be listed");
                let want: Vec<JobId> = (0..m.jobs.len())
                    .filter(|&j| !m.jobs[j].state.is_final())
                    .map(id)
                    .collect();
                assert_eq!(
                    listed, want,
                    "D9: EnumJobs lists exactly the non-final jobs"
                );
                Ok(HResult::S_OK)
            }
            T::Serve(j, a) => {
                s.set_remote(&url(j), Remote::sized(FILE_SIZE).otherwise(a.response()));
                Ok(HResult::S_OK)
            }
            T::Advance(d) => {
                s.advance(SimDuration::from_secs(d));
                Ok(HResult::S_OK)
            }
            T::Network(up) => {
                s.set_network(if up { Network::Up } else { Network::Down });
                Ok(HResult::S_OK)
            }
            T::Logon(on) => {
                let user = s.app(app).expect("connected").user;
                if on {
                    s.logon(user);
                } else {
                    s.logoff(user);
                }
                Ok(HResult::S_OK)
            }
            T::RestartService => {
                s.restart_service();
                Ok(HResult::S_OK)
            }
        };
        let want = m.expect.expect("the model predicted");
        assert_eq!(
            got.unwrap_or_else(|e| e),
            want,
            "{t:?} returned something else than the spec says"
        );
        sut
    }

    fn check_invariants(sut: &Sut, m: &Model) {
        let s = &sut.service;
        assert_eq!(s.now().as_millis() / 1000, m.now, "virtual time");
        assert_eq!(sut.jobs.len(), m.jobs.len(), "jobs created");
        for (j, mj) in m.jobs.iter().enumerate() {
            let id = sut.jobs[j];
            let state = s.state(sut.app, id).expect("own job");
            assert_eq!(state, mj.state, "job {j}: state (model {mj:?})");
            let record = s.get_error(sut.app, id).ok().map(|e| e.record.code);
            assert_eq!(
                record, mj.record,
                "job {j}: error record (D1) (model {mj:?})"
            );
            let count = s.error_count(sut.app, id).expect("own job");
            assert!(
                (mj.count_lo..=mj.count_hi).contains(&count),
                "job {j}: error count {count} not in {}..={} (D6) (model {mj:?})",
                mj.count_lo,
                mj.count_hi
            );
            let p = s.progress(sut.app, id).expect("own job");
            assert_eq!(p.files_total, mj.files, "job {j}: files");
            if !mj.state.is_final() {
                assert_eq!(p.files_transferred, mj.files_done, "job {j}: files done");
            }
        }
    }
}

prop_state_machine! {
    #![proptest_config(bitsim::testing::config(1000))]

    #[test]
    fn the_simulator_follows_the_spec_model(sequential 1..40 => ModelTest);
}
