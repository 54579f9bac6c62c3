//! The rows of the property table from IBackgroundCopyJob3, IBackgroundCopyJob4 and
//! IBackgroundCopyJob5 (`docs/bits-semantics.md` §2.4, §2.5, §2.10, D32–D35): their per-job data
//! ([`JobOptions`], one boxed block a job holds only while something differs from the defaults), the
//! typed getters and setters the table names, and Job5's generic `SetProperty` / `GetProperty` by raw
//! BITS_JOB_PROPERTY_ID.

use super::{FlagNames, Prop};
use crate::hresult::HResult;
use crate::job::{AppId, Job, JobId};
use crate::service::Service;
use crate::state::JobType;

/// BG_COPY_FILE_* (§2.9, `MIDL-2_0`).
pub const FILE_ACL_FLAG_NAMES: FlagNames = &[
    ("OWNER", 0x1),
    ("GROUP", 0x2),
    ("DACL", 0x4),
    ("SACL", 0x8),
    ("ALL", 0xF),
];

/// BG_JOB_ENABLE_PEERCACHING_CLIENT / _SERVER, BG_JOB_DISABLE_BRANCH_CACHE
/// (`SDK bits3_0/nf-bits3_0-ibackgroundcopyjob4-setpeercachingflags`).
pub const PEER_CACHING_FLAG_NAMES: FlagNames = &[
    ("ENABLE_PEERCACHING_CLIENT", 0x1),
    ("ENABLE_PEERCACHING_SERVER", 0x2),
    ("DISABLE_BRANCH_CACHE", 0x4),
];

/// BITS_COST_STATE_* and the BITS_JOB_TRANSFER_POLICY composites (§2.9, D33).
pub const COST_FLAG_NAMES: FlagNames = crate::world::COST_FLAG_NAMES;

/// SECURITY_MANDATORY_*_RID (D34).
pub const INTEGRITY_NAMES: FlagNames = &[
    ("LOW", 0x1000),
    ("MEDIUM", 0x2000),
    ("HIGH", 0x3000),
    ("SYSTEM", 0x4000),
];

pub(crate) use crate::job_options::*;

/// BITS_JOB_PROPERTY_ID values (`SDK bits5_0/ne-bits5_0-bits_job_property_id`).
pub mod ids {
    /// BITS_JOB_PROPERTY_ID_COST_FLAGS.
    pub const COST_FLAGS: u32 = 1;
    /// BITS_JOB_PROPERTY_NOTIFICATION_CLSID.
    pub const NOTIFICATION_CLSID: u32 = 2;
    /// BITS_JOB_PROPERTY_DYNAMIC_CONTENT.
    pub const DYNAMIC_CONTENT: u32 = 3;
    /// BITS_JOB_PROPERTY_HIGH_PERFORMANCE.
    pub const HIGH_PERFORMANCE: u32 = 4;
    /// BITS_JOB_PROPERTY_MAX_DOWNLOAD_SIZE.
    pub const MAX_DOWNLOAD_SIZE: u32 = 5;
    /// BITS_JOB_PROPERTY_USE_STORED_CREDENTIALS (its row and rules are in `properties::http`, D26).
    pub const USE_STORED_CREDENTIALS: u32 = 7;
    /// BITS_JOB_PROPERTY_MINIMUM_NOTIFICATION_INTERVAL_MS.
    pub const MINIMUM_NOTIFICATION_INTERVAL_MS: u32 = 9;
    /// BITS_JOB_PROPERTY_ON_DEMAND_MODE.
    pub const ON_DEMAND_MODE: u32 = 10;
}

/// A value of IBackgroundCopyJob5::SetProperty / GetProperty by raw id, as the number the scenario
/// writes: the BITS_JOB_PROPERTY_VALUE member the id uses (Dword, CLsID, Enable as 0 / 1, Uint64).
pub type RawPropertyValue = u128;

impl Service {
    fn options_of(&self, app: AppId, job: JobId) -> Result<&JobOptions, HResult> {
        self.access(app, job).map(|j| self.jobs[j].options())
    }

    /// The common part of every setter of this module: access, the row's states (§1.3), the
    /// row's own argument and timing checks, then the write, ModificationTime and JobModification.
    fn set_option(
        &mut self,
        app: AppId,
        job: JobId,
        prop: Prop,
        check: impl FnOnce(&Job) -> Result<(), HResult>,
        write: impl FnOnce(&mut JobOptions),
    ) -> Result<(), HResult> {
        let j = self.settable(app, job, prop)?;
        check(&self.jobs[j])?;
        self.jobs[j].edit_options(write);
        self.modified(j);
        Ok(())
    }

    // ------------------------------------------------------------------ getters

    /// IBackgroundCopyJob3::GetFileACLFlags (0 by default).
    pub fn file_acl_flags(&self, app: AppId, job: JobId) -> Result<u32, HResult> {
        self.options_of(app, job).map(|o| o.file_acl_flags)
    }
    /// IBackgroundCopyJob4::GetPeerCachingFlags (0 by default, D32).
    pub fn peer_caching_flags(&self, app: AppId, job: JobId) -> Result<u32, HResult> {
        self.options_of(app, job).map(|o| o.peer_caching_flags)
    }
    /// IBackgroundCopyJob4::GetMaximumDownloadTime (7,776,000 s by default).
    pub fn maximum_download_time(&self, app: AppId, job: JobId) -> Result<u32, HResult> {
        self.options_of(app, job).map(|o| o.maximum_download_time)
    }
    /// IBackgroundCopyJob4::GetOwnerIntegrityLevel: the owner's integrity RID (D34).
    pub fn owner_integrity_level(&self, app: AppId, job: JobId) -> Result<u32, HResult> {
        self.access(app, job)
            .map(|j| self.users[self.jobs[j].owner().index()].integrity())
    }
    /// IBackgroundCopyJob4::GetOwnerElevationState: whether the owner's token is elevated (D34).
    pub fn owner_elevation_state(&self, app: AppId, job: JobId) -> Result<bool, HResult> {
        self.access(app, job)
            .map(|j| self.users[self.jobs[j].owner().index()].elevated())
    }
    /// Job5 COST_FLAGS (D33).
    pub fn cost_flags(&self, app: AppId, job: JobId) -> Result<u32, HResult> {
        self.options_of(app, job).map(|o| o.cost_flags)
    }
    /// Job5 NOTIFICATION_CLSID (GUID_NULL by default).
    pub fn notification_clsid(&self, app: AppId, job: JobId) -> Result<u128, HResult> {
        self.options_of(app, job).map(|o| o.notification_clsid)
    }
    /// Job5 DYNAMIC_CONTENT (FALSE by default).
    pub fn dynamic_content(&self, app: AppId, job: JobId) -> Result<bool, HResult> {
        self.options_of(app, job).map(|o| o.dynamic_content)
    }
    /// Job5 HIGH_PERFORMANCE (FALSE by default).
    pub fn high_performance(&self, app: AppId, job: JobId) -> Result<bool, HResult> {
        self.options_of(app, job).map(|o| o.high_performance)
    }
    /// Job5 MAX_DOWNLOAD_SIZE (0, no cap, by default).
    pub fn max_download_size(&self, app: AppId, job: JobId) -> Result<u64, HResult> {
        self.options_of(app, job).map(|o| o.max_download_size)
    }
    /// Job5 MINIMUM_NOTIFICATION_INTERVAL_MS (500 by default).
    pub fn minimum_notification_interval_ms(&self, app: AppId, job: JobId) -> Result<u32, HResult> {
        self.options_of(app, job)
            .map(|o| o.minimum_notification_interval_ms)
    }
    /// Job5 ON_DEMAND_MODE (FALSE by default).
    pub fn on_demand_mode(&self, app: AppId, job: JobId) -> Result<bool, HResult> {
        self.options_of(app, job).map(|o| o.on_demand)
    }

    // ------------------------------------------------------------------ setters

    /// IBackgroundCopyJob3::SetFileACLFlags: BG_INVALID_STATE once TRANSFERRED (the row's states),
    /// E_INVALIDARG for bits outside BG_COPY_FILE_ALL (§2.4, D32).
    pub fn set_file_acl_flags(
        &mut self,
        app: AppId,
        job: JobId,
        flags: u32,
    ) -> Result<(), HResult> {
        self.set_option(
            app,
            job,
            Prop::FileAclFlags,
            |_| known(flags, FILE_ACL_FLAGS_KNOWN),
            |o| o.file_acl_flags = flags,
        )
    }

    /// IBackgroundCopyJob4::SetPeerCachingFlags: E_INVALIDARG for unknown bits (D32).
    pub fn set_peer_caching_flags(
        &mut self,
        app: AppId,
        job: JobId,
        flags: u32,
    ) -> Result<(), HResult> {
        self.set_option(
            app,
            job,
            Prop::PeerCachingFlags,
            |_| known(flags, PEER_CACHING_FLAGS_KNOWN),
            |o| o.peer_caching_flags = flags,
        )
    }

    /// IBackgroundCopyJob4::SetMaximumDownloadTime: any number of seconds (S_OK only, §2.5).
    pub fn set_maximum_download_time(
        &mut self,
        app: AppId,
        job: JobId,
        seconds: u32,
    ) -> Result<(), HResult> {
        let old = self
            .jobs
            .get(job.index())
            .map(|j| j.options().maximum_download_time);
        self.set_option(
            app,
            job,
            Prop::MaximumDownloadTime,
            |_| Ok(()),
            |o| o.maximum_download_time = seconds,
        )?;
        // T23 (D55): a running job's deadline moves; a limit already used up ends it now.
        if let Some(old) = old {
            self.max_download_limit_changed(job.index(), old);
        }
        Ok(())
    }

    /// Job5 COST_FLAGS: any time, effective at once; E_INVALIDARG for bits outside the cost states,
    /// IGNORE_CONGESTION and RESERVED (D33).
    pub fn set_cost_flags(&mut self, app: AppId, job: JobId, flags: u32) -> Result<(), HResult> {
        self.set_option(
            app,
            job,
            Prop::CostFlags,
            |_| known(flags, COST_FLAGS_KNOWN),
            |o| o.cost_flags = flags,
        )?;
        // D53: effective at once — a job the new flags block stops, one they allow goes on.
        self.cost_changed(job.index());
        Ok(())
    }

    /// Job5 NOTIFICATION_CLSID: any CLSID; GUID_NULL clears it (§5.2).
    pub fn set_notification_clsid(
        &mut self,
        app: AppId,
        job: JobId,
        clsid: u128,
    ) -> Result<(), HResult> {
        self.set_option(
            app,
            job,
            Prop::NotificationClsid,
            |_| Ok(()),
            |o| o.notification_clsid = clsid,
        )
    }

    /// Job5 DYNAMIC_CONTENT: downloads only, before the first Resume; E_INVALIDARG with
    /// ON_DEMAND_MODE on (D33).
    pub fn set_dynamic_content(&mut self, app: AppId, job: JobId, on: bool) -> Result<(), HResult> {
        self.set_option(
            app,
            job,
            Prop::DynamicContent,
            |j| {
                download_only(j)?;
                before_resume(j)?;
                if on && j.options().on_demand {
                    return Err(HResult::E_INVALIDARG);
                }
                Ok(())
            },
            |o| o.dynamic_content = on,
        )
    }

    /// Job5 HIGH_PERFORMANCE: downloads only, before the first file is added.
    pub fn set_high_performance(
        &mut self,
        app: AppId,
        job: JobId,
        on: bool,
    ) -> Result<(), HResult> {
        self.set_option(
            app,
            job,
            Prop::HighPerformance,
            |j| {
                download_only(j)?;
                if !j.files().is_empty() {
                    return Err(HResult::BG_E_READ_ONLY_PROPERTY_AFTER_ADDFILE);
                }
                Ok(())
            },
            |o| o.high_performance = on,
        )
    }

    /// Job5 MAX_DOWNLOAD_SIZE: downloads only, before the first Resume.
    pub fn set_max_download_size(
        &mut self,
        app: AppId,
        job: JobId,
        bytes: u64,
    ) -> Result<(), HResult> {
        self.set_option(
            app,
            job,
            Prop::MaxDownloadSize,
            |j| {
                download_only(j)?;
                before_resume(j)
            },
            |o| o.max_download_size = bytes,
        )
    }

    /// Job5 MINIMUM_NOTIFICATION_INTERVAL_MS: any time, any value.
    pub fn set_minimum_notification_interval_ms(
        &mut self,
        app: AppId,
        job: JobId,
        ms: u32,
    ) -> Result<(), HResult> {
        self.set_option(
            app,
            job,
            Prop::MinimumNotificationIntervalMs,
            |_| Ok(()),
            |o| o.minimum_notification_interval_ms = ms,
        )
    }

    /// Job5 ON_DEMAND_MODE: downloads only; E_INVALIDARG with DYNAMIC_CONTENT on (D33).
    pub fn set_on_demand_mode(&mut self, app: AppId, job: JobId, on: bool) -> Result<(), HResult> {
        self.set_option(
            app,
            job,
            Prop::OnDemandMode,
            |j| {
                download_only(j)?;
                if on && j.options().dynamic_content {
                    return Err(HResult::E_INVALIDARG);
                }
                if on && j.files().iter().any(|f| f.ranges().is_some()) {
                    // D77: an on-demand job has no file added with ranges.
                    return Err(HResult::E_INVALIDARG);
                }
                Ok(())
            },
            |o| o.on_demand = on,
        )?;
        if !on {
            self.leave_on_demand(app, job);
        }
        Ok(())
    }

    // ------------------------------------------------------------------ Job5 by raw id

    /// IBackgroundCopyJob5::SetProperty with a raw BITS_JOB_PROPERTY_ID and the value as a number
    /// (D35): BG_E_UNKNOWN_PROPERTY_ID for an id this module does not declare (USE_STORED_CREDENTIALS,
    /// id 7, belongs to the HTTP options), E_INVALIDARG for an Enable value other than 0 or 1 or a
    /// Dword value above 0xFFFFFFFF; otherwise the row's setter.
    pub fn set_property_raw(
        &mut self,
        app: AppId,
        job: JobId,
        id: u32,
        value: RawPropertyValue,
    ) -> Result<(), HResult> {
        self.access(app, job)?;
        let dword = || u32::try_from(value).map_err(|_| HResult::E_INVALIDARG);
        let enable = || match value {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(HResult::E_INVALIDARG),
        };
        match id {
            ids::COST_FLAGS => self.set_cost_flags(app, job, dword()?),
            ids::NOTIFICATION_CLSID => self.set_notification_clsid(app, job, value),
            ids::DYNAMIC_CONTENT => self.set_dynamic_content(app, job, enable()?),
            ids::HIGH_PERFORMANCE => self.set_high_performance(app, job, enable()?),
            ids::MAX_DOWNLOAD_SIZE => self.set_max_download_size(
                app,
                job,
                u64::try_from(value).map_err(|_| HResult::E_INVALIDARG)?,
            ),
            ids::MINIMUM_NOTIFICATION_INTERVAL_MS => {
                self.set_minimum_notification_interval_ms(app, job, dword()?)
            }
            ids::ON_DEMAND_MODE => self.set_on_demand_mode(app, job, enable()?),
            ids::USE_STORED_CREDENTIALS => self.set_use_stored_credentials(app, job, dword()?),
            _ => Err(HResult::BG_E_UNKNOWN_PROPERTY_ID),
        }
    }

    /// IBackgroundCopyJob5::GetProperty with a raw BITS_JOB_PROPERTY_ID (D35): the value as a number
    /// (Enable as 0 or 1), BG_E_UNKNOWN_PROPERTY_ID for an id this module does not declare.
    pub fn get_property_raw(
        &self,
        app: AppId,
        job: JobId,
        id: u32,
    ) -> Result<RawPropertyValue, HResult> {
        let o = self.options_of(app, job)?;
        Ok(match id {
            ids::COST_FLAGS => o.cost_flags.into(),
            ids::NOTIFICATION_CLSID => o.notification_clsid,
            ids::DYNAMIC_CONTENT => o.dynamic_content.into(),
            ids::HIGH_PERFORMANCE => o.high_performance.into(),
            ids::MAX_DOWNLOAD_SIZE => o.max_download_size.into(),
            ids::MINIMUM_NOTIFICATION_INTERVAL_MS => o.minimum_notification_interval_ms.into(),
            ids::ON_DEMAND_MODE => o.on_demand.into(),
            ids::USE_STORED_CREDENTIALS => self.use_stored_credentials(app, job)?.into(),
            _ => return Err(HResult::BG_E_UNKNOWN_PROPERTY_ID),
        })
    }
}

/// E_INVALIDARG for bits outside `mask`.
fn known(flags: u32, mask: u32) -> Result<(), HResult> {
    if flags & !mask == 0 {
        Ok(())
    } else {
        Err(HResult::E_INVALIDARG)
    }
}

/// BG_E_PROPERTY_SUPPORTED_FOR_DOWNLOAD_JOBS_ONLY for upload and upload-reply jobs.
fn download_only(j: &Job) -> Result<(), HResult> {
    if j.job_type() == JobType::Download {
        Ok(())
    } else {
        Err(HResult::BG_E_PROPERTY_SUPPORTED_FOR_DOWNLOAD_JOBS_ONLY)
    }
}

/// BG_E_READ_ONLY_PROPERTY_AFTER_RESUME once the job has been resumed (D33).
fn before_resume(j: &Job) -> Result<(), HResult> {
    if j.resumed() {
        Err(HResult::BG_E_READ_ONLY_PROPERTY_AFTER_RESUME)
    } else {
        Ok(())
    }
}

impl Service {
    /// IBackgroundCopyJob3::ReplaceRemotePrefix (§2.4, D37): every file whose remote name starts with
    /// `old_prefix` (case-sensitive, no conversion) gets `new_prefix` instead. S_FALSE when no file
    /// matched. Errors, in this order: the common ones and BG_E_INVALID_STATE in a final state;
    /// E_NOTIMPL for upload and upload-reply jobs; E_INVALIDARG for an empty prefix or when a
    /// resulting name is not a valid remote name (§2.6, 2,200 characters at most) — then no file
    /// changes.
    pub fn replace_remote_prefix(
        &mut self,
        app: AppId,
        job: JobId,
        old_prefix: &str,
        new_prefix: &str,
    ) -> Result<HResult, HResult> {
        let j = self.access(app, job)?;
        let jb = &self.jobs[j];
        if jb.state().is_final() {
            return Err(HResult::BG_E_INVALID_STATE);
        }
        if jb.job_type() != JobType::Download {
            return Err(HResult::E_NOTIMPL);
        }
        if old_prefix.is_empty() || new_prefix.is_empty() {
            return Err(HResult::E_INVALIDARG);
        }
        let mut changes: Vec<(usize, String)> = Vec::new();
        for (i, f) in jb.files().iter().enumerate() {
            if let Some(rest) = f.remote().strip_prefix(old_prefix) {
                let name = format!("{new_prefix}{rest}");
                if !crate::names::valid_remote(&name, jb.job_type()) {
                    return Err(HResult::E_INVALIDARG);
                }
                changes.push((i, name));
            }
        }
        if changes.is_empty() {
            return Ok(HResult::S_FALSE);
        }
        for (i, name) in changes {
            let to = crate::trace::TraceText::new(&name);
            self.jobs[j].files_mut()[i].set_remote(&name);
            self.record(crate::trace::TraceKind::RemoteNameChanged {
                job,
                file: i as u32,
                to,
            });
        }
        self.modified(j);
        Ok(HResult::S_OK)
    }
}
