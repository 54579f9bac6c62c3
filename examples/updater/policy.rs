//! An update client's download policy, in the style of real BITS updaters (Firefox's updater,
//! Omaha): one job per update, found again by its display name after a restart instead of being
//! created twice; poll its state; wait out TRANSIENT_ERROR up to the client's own deadline; on ERROR
//! cancel and report the error (with the HTTP status when the server sent one); on TRANSFERRED
//! complete. Shared by `examples/updater.rs` and `tests/example_policy.rs`.

#![allow(dead_code)] // each includer uses a part

use bitsim::{ErrorContext, HResult, JobState, JobType, SimDuration, SimTime};

/// What the client needs from BITS (real clients wrap the COM interfaces the same way).
pub trait Bits {
    /// A job handle.
    type Job: Clone;
    /// The caller's own job called `name` that is not finished (EnumJobs + GetDisplayName).
    fn find_job(&mut self, name: &str) -> Result<Option<Self::Job>, HResult>;
    /// CreateJob (download).
    fn create_job(&mut self, name: &str) -> Result<Self::Job, HResult>;
    /// AddFile.
    fn add_file(&mut self, job: &Self::Job, url: &str, local: &str) -> Result<(), HResult>;
    /// SetMinimumRetryDelay.
    fn set_minimum_retry_delay(&mut self, job: &Self::Job, secs: u32) -> Result<(), HResult>;
    /// Resume.
    fn resume(&mut self, job: &Self::Job) -> Result<HResult, HResult>;
    /// GetState.
    fn state(&mut self, job: &Self::Job) -> Result<JobState, HResult>;
    /// GetError, then IBackgroundCopyError::GetError.
    fn error(&mut self, job: &Self::Job) -> Result<(ErrorContext, HResult), HResult>;
    /// Complete.
    fn complete(&mut self, job: &Self::Job) -> Result<HResult, HResult>;
    /// Cancel.
    fn cancel(&mut self, job: &Self::Job) -> Result<HResult, HResult>;
}

/// The update to fetch and the client's patience.
#[derive(Clone, Debug)]
pub struct UpdateConfig {
    /// The job's display name: how the client finds its job again.
    pub name: String,
    /// Where the update is.
    pub url: String,
    /// Where it goes.
    pub local: String,
    /// How long the job may stay in TRANSIENT_ERROR before the client gives up.
    pub transient_deadline: SimDuration,
    /// How long the whole download may take.
    pub overall_deadline: SimDuration,
    /// How often the client looks.
    pub poll_interval: SimDuration,
}

impl UpdateConfig {
    /// The defaults of this example: a day of transient errors, two days overall, a poll a minute.
    pub fn new(url: &str) -> UpdateConfig {
        UpdateConfig {
            name: "update".to_string(),
            url: url.to_string(),
            local: "C:\\dl\\a.bin".to_string(),
            transient_deadline: SimDuration::from_days(1),
            overall_deadline: SimDuration::from_days(2),
            poll_interval: SimDuration::from_secs(60),
        }
    }
}

/// How a download ended.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Outcome {
    /// Transferred and completed: the update is on disk.
    Installed,
    /// BITS gave up (ERROR); the job was cancelled. The report names the HTTP status if any.
    Failed {
        /// Where it failed.
        context: ErrorContext,
        /// The error.
        code: HResult,
        /// The server's HTTP status, when the error is one.
        http_status: Option<u16>,
    },
    /// The client's own deadline passed; the job was cancelled.
    GaveUp {
        /// The last error BITS reported, if any.
        last_error: Option<HResult>,
    },
    /// The job was finished by someone else (it is final, not by us).
    Vanished,
}

/// Whether the policy is done.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Poll {
    /// Still downloading; poll again later.
    Pending,
    /// Finished.
    Done(Outcome),
}

/// The policy, for one update; `BROKEN` selects a deliberately wrong variant (for the test that
/// shows the kit finds client bugs): it completes a job it sees in TRANSIENT_ERROR, keeping a partial
/// download instead of waiting.
pub struct Updater<B: Bits, const BROKEN: bool = false> {
    config: UpdateConfig,
    job: B::Job,
    started: SimTime,
    transient_since: Option<SimTime>,
}

impl<B: Bits, const BROKEN: bool> Updater<B, BROKEN> {
    /// Start (or restart) the download: take the existing job of that name if there is one —
    /// resuming it — otherwise create it.
    pub fn start(bits: &mut B, config: UpdateConfig, now: SimTime) -> Result<Self, HResult> {
        let job = match bits.find_job(&config.name)? {
            Some(job) => {
                if bits.state(&job)? == JobState::Suspended {
                    bits.resume(&job)?;
                }
                job
            }
            None => {
                let job = bits.create_job(&config.name)?;
                bits.add_file(&job, &config.url, &config.local)?;
                bits.set_minimum_retry_delay(&job, 60)?;
                bits.resume(&job)?;
                job
            }
        };
        Ok(Updater {
            config,
            job,
            started: now,
            transient_since: None,
        })
    }

    /// Look once and act on what is seen.
    pub fn poll(&mut self, bits: &mut B, now: SimTime) -> Result<Poll, HResult> {
        let state = bits.state(&self.job)?;
        if state != JobState::TransientError {
            self.transient_since = None;
        }
        let overdue = now.saturating_since(self.started) >= self.config.overall_deadline;
        match state {
            JobState::Transferred => {
                bits.complete(&self.job)?;
                Ok(Poll::Done(Outcome::Installed))
            }
            JobState::Error => {
                let (context, code) = bits.error(&self.job)?;
                bits.cancel(&self.job)?;
                Ok(Poll::Done(Outcome::Failed {
                    context,
                    code,
                    http_status: code.http_status(),
                }))
            }
            JobState::TransientError if BROKEN => {
                bits.complete(&self.job)?;
                Ok(Poll::Done(Outcome::Installed))
            }
            JobState::TransientError => {
                let since = *self.transient_since.get_or_insert(now);
                if overdue || now.saturating_since(since) >= self.config.transient_deadline {
                    let last_error = bits.error(&self.job).ok().map(|e| e.1);
                    bits.cancel(&self.job)?;
                    return Ok(Poll::Done(Outcome::GaveUp { last_error }));
                }
                Ok(Poll::Pending)
            }
            JobState::Suspended => {
                bits.resume(&self.job)?;
                Ok(Poll::Pending)
            }
            JobState::Acknowledged | JobState::Cancelled => Ok(Poll::Done(Outcome::Vanished)),
            JobState::Queued | JobState::Connecting | JobState::Transferring if overdue => {
                bits.cancel(&self.job)?;
                Ok(Poll::Done(Outcome::GaveUp { last_error: None }))
            }
            JobState::Queued | JobState::Connecting | JobState::Transferring => Ok(Poll::Pending),
        }
    }
}

/// The facade as the client's BITS layer: one application's manager.
impl Bits for bitsim::Manager {
    type Job = bitsim::Job;

    fn find_job(&mut self, name: &str) -> Result<Option<bitsim::Job>, HResult> {
        for job in self.enum_jobs(0)? {
            if job.get_display_name()? == name {
                return Ok(Some(job));
            }
        }
        Ok(None)
    }
    fn create_job(&mut self, name: &str) -> Result<bitsim::Job, HResult> {
        bitsim::Manager::create_job(self, name, JobType::Download)
    }
    fn add_file(&mut self, job: &bitsim::Job, url: &str, local: &str) -> Result<(), HResult> {
        job.add_file(url, local)
    }
    fn set_minimum_retry_delay(&mut self, job: &bitsim::Job, secs: u32) -> Result<(), HResult> {
        job.set_minimum_retry_delay(secs)
    }
    fn resume(&mut self, job: &bitsim::Job) -> Result<HResult, HResult> {
        job.resume()
    }
    fn state(&mut self, job: &bitsim::Job) -> Result<JobState, HResult> {
        job.get_state()
    }
    fn error(&mut self, job: &bitsim::Job) -> Result<(ErrorContext, HResult), HResult> {
        job.get_error()?.get_error()
    }
    fn complete(&mut self, job: &bitsim::Job) -> Result<HResult, HResult> {
        job.complete()
    }
    fn cancel(&mut self, job: &bitsim::Job) -> Result<HResult, HResult> {
        job.cancel()
    }
}
