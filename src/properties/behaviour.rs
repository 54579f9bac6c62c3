//! The behaviour of each row of the property table: the typed getters and setters it names, with
//! their validation (D14) and side effects (queues D12, timers D3/D4, ModificationTime §8.2, D11).

use super::Prop;
use crate::hresult::HResult;
use crate::job::{defaults, AppId, JobId, JobProgress, JobTimes};
use crate::names;
use crate::service::{Service, User};
use crate::state::{JobState, JobType, NotifyFlags, Priority};

impl Service {
    /// A job index whose property `prop` the caller may set: alive (D2), allowed (D9), and in a state
    /// the declaration allows (§1.3: BG_E_INVALID_STATE, before the arguments are looked at).
    pub(crate) fn settable(&self, app: AppId, job: JobId, prop: Prop) -> Result<usize, HResult> {
        let j = self.access(app, job)?;
        if !prop.decl().settable_in.contains(&self.jobs[j].state()) {
            return Err(HResult::BG_E_INVALID_STATE);
        }
        Ok(j)
    }

    // ------------------------------------------------------------------ getters

    /// GetState.
    pub fn state(&self, app: AppId, job: JobId) -> Result<JobState, HResult> {
        self.access(app, job).map(|j| self.jobs[j].state())
    }

    /// GetType.
    pub fn job_type(&self, app: AppId, job: JobId) -> Result<JobType, HResult> {
        self.access(app, job).map(|j| self.jobs[j].job_type())
    }

    /// GetProgress (§8.2), live to the current instant.
    pub fn progress(&self, app: AppId, job: JobId) -> Result<JobProgress, HResult> {
        self.access(app, job)
            .map(|j| self.jobs[j].progress(self.live_bytes(j)))
    }

    /// GetTimes (§8.2, D13). ModificationTime is also the time of the last byte transferred: while a
    /// running transfer has moved bytes not yet written down, that is the current instant, as
    /// GetProgress's bytes are live (§8.2).
    pub fn times(&self, app: AppId, job: JobId) -> Result<JobTimes, HResult> {
        self.access(app, job).map(|j| {
            let mut times = self.jobs[j].times();
            if let Some((file, bytes)) = self.live_bytes(j) {
                let settled = self.jobs[j]
                    .files()
                    .get(file as usize)
                    .map_or(u64::MAX, |f| f.bytes_transferred);
                if bytes > settled {
                    times.modification_time = times.modification_time.max(self.now);
                }
            }
            times
        })
    }

    /// GetOwner: the owner's SID string.
    pub fn owner(&self, app: AppId, job: JobId) -> Result<String, HResult> {
        self.access(app, job)
            .map(|j| User::sid_for(self.jobs[j].owner()))
    }

    /// GetDisplayName.
    pub fn display_name(&self, app: AppId, job: JobId) -> Result<String, HResult> {
        self.access(app, job)
            .map(|j| self.jobs[j].display_name().to_string())
    }

    /// GetDescription (empty by default).
    pub fn description(&self, app: AppId, job: JobId) -> Result<String, HResult> {
        self.access(app, job)
            .map(|j| self.jobs[j].description().to_string())
    }

    /// GetPriority (NORMAL by default).
    pub fn priority(&self, app: AppId, job: JobId) -> Result<Priority, HResult> {
        self.access(app, job).map(|j| self.jobs[j].priority())
    }

    /// GetNotifyFlags (0x3 by default).
    pub fn notify_flags(&self, app: AppId, job: JobId) -> Result<NotifyFlags, HResult> {
        self.access(app, job).map(|j| self.jobs[j].notify_flags())
    }

    /// GetMinimumRetryDelay in seconds (600 by default).
    pub fn minimum_retry_delay(&self, app: AppId, job: JobId) -> Result<u32, HResult> {
        self.access(app, job)
            .map(|j| self.jobs[j].retry_delay_secs())
    }

    /// GetNoProgressTimeout in seconds (1,209,600 by default).
    pub fn no_progress_timeout(&self, app: AppId, job: JobId) -> Result<u32, HResult> {
        self.access(app, job)
            .map(|j| self.jobs[j].no_progress_timeout_secs())
    }

    /// GetErrorCount (D6).
    pub fn error_count(&self, app: AppId, job: JobId) -> Result<u32, HResult> {
        self.access(app, job).map(|j| self.jobs[j].error_count())
    }

    // ------------------------------------------------------------------ setters

    /// SetDisplayName: E_INVALIDARG past 256 characters (D14).
    pub fn set_display_name(&mut self, app: AppId, job: JobId, name: &str) -> Result<(), HResult> {
        let j = self.settable(app, job, Prop::DisplayName)?;
        if !names::valid_display_name(name) {
            return Err(HResult::E_INVALIDARG);
        }
        self.jobs[j].set_display_name(name);
        self.modified(j);
        Ok(())
    }

    /// SetDescription: E_INVALIDARG past 1,024 characters (D14).
    pub fn set_description(&mut self, app: AppId, job: JobId, text: &str) -> Result<(), HResult> {
        let j = self.settable(app, job, Prop::Description)?;
        if !names::valid_description(text) {
            return Err(HResult::E_INVALIDARG);
        }
        self.jobs[j].set_description(text);
        self.modified(j);
        Ok(())
    }

    /// SetPriority with a raw BG_JOB_PRIORITY value: E_NOTIMPL for values outside the enumeration (D14).
    /// A queued job moves to its new queue; a running one changes between the foreground and the
    /// background slot (D12) and the scheduler looks again.
    pub fn set_priority(&mut self, app: AppId, job: JobId, value: u32) -> Result<(), HResult> {
        let j = self.settable(app, job, Prop::Priority)?;
        let p = Priority::from_value(value).ok_or(HResult::E_NOTIMPL)?;
        if self.custom_method(j) {
            // D29: a custom HTTP method locks the priority at FOREGROUND (SetHttpMethod page).
            return Err(HResult::BG_E_NOT_SUPPORTED_WITH_CUSTOM_HTTP_METHOD);
        }
        if self.jobs[j].priority() != p {
            let state = self.jobs[j].state();
            if state == JobState::Queued {
                self.unqueue(j);
                self.jobs[j].set_priority(p);
                self.enqueue(j);
            } else {
                self.jobs[j].set_priority(p);
                if state.is_running() {
                    let id = self.jobs[j].id();
                    self.engine.set_running(id, Some(p));
                    self.request_schedule();
                }
            }
            self.modified(j);
            if self.world.policy_blocks_background {
                // T21 (D99): only background jobs are blocked, so a move to or from FOREGROUND
                // starts or ends the wait.
                self.policy_changed(j);
            }
            return Ok(());
        }
        self.modified(j);
        Ok(())
    }

    /// SetNotifyFlags: E_NOTIMPL for unknown bits (D14, §5.1).
    pub fn set_notify_flags(&mut self, app: AppId, job: JobId, flags: u32) -> Result<(), HResult> {
        let j = self.settable(app, job, Prop::NotifyFlags)?;
        let flags = NotifyFlags(flags);
        if !flags.is_known() {
            return Err(HResult::E_NOTIMPL);
        }
        self.jobs[j].set_notify_flags(flags);
        self.modified(j);
        Ok(())
    }

    /// SetMinimumRetryDelay: values under 5 s store 5 and succeed (D14); a pending retry moves (D3).
    pub fn set_minimum_retry_delay(
        &mut self,
        app: AppId,
        job: JobId,
        seconds: u32,
    ) -> Result<(), HResult> {
        let j = self.settable(app, job, Prop::MinimumRetryDelay)?;
        self.jobs[j].set_retry_delay_secs(seconds.max(defaults::MINIMUM_RETRY_DELAY_FLOOR));
        self.modified(j);
        self.rearm_transient_timers(j);
        Ok(())
    }

    /// SetNoProgressTimeout: lowering it below the time already spent without progress while in
    /// TRANSIENT_ERROR sends the job to ERROR at once (D4, T12, through `transition::escalate`).
    pub fn set_no_progress_timeout(
        &mut self,
        app: AppId,
        job: JobId,
        seconds: u32,
    ) -> Result<(), HResult> {
        let j = self.settable(app, job, Prop::NoProgressTimeout)?;
        self.jobs[j].set_no_progress_timeout_secs(seconds);
        self.modified(j);
        self.rearm_transient_timers(j);
        Ok(())
    }
}
