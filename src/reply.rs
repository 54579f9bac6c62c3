//! Job2's reply methods of upload-reply jobs (§2.3, §7, §8.2): GetReplyProgress, GetReplyData,
//! SetReplyFileName and GetReplyFileName. The reply itself is downloaded by the transfer engine
//! (`service/transfer.rs`, D71); its state lives in the job's boxed options
//! ([`crate::job_options::ReplyState`]).

use crate::hresult::HResult;
use crate::job::{AppId, JobId};
use crate::service::Service;
use crate::state::{JobState, JobType, BG_SIZE_UNKNOWN};
use serde::{Deserialize, Serialize};

/// GetReplyData returns at most 1 MB; a longer reply gives BG_E_TOO_LARGE (§2.3).
pub const MAX_REPLY_DATA: u64 = 1 << 20;

/// BG_JOB_REPLY_PROGRESS (§8.1).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ReplyProgress {
    /// The reply's length; BG_SIZE_UNKNOWN until the reply starts (§8.2).
    pub bytes_total: u64,
    /// Bytes of the reply received so far.
    pub bytes_transferred: u64,
}

/// What GetReplyData answers.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ReplyData {
    /// The reply (empty: the server application sent none, the COM method's NULL buffer).
    Data(Vec<u8>),
    /// BG_E_TOO_LARGE: the reply is longer than 1 MB; this is the length reported.
    TooLarge(u64),
}

/// D72: the reply file name BITS generates for `local` (the upload file) of job `job`:
/// `BIT<hex>.tmp` in the upload file's folder, the hex being the job number over 32 bits of ones
/// (no file index reaches 2^32 - 1, so it never names a download's temporary file, D40).
pub fn generated_reply_name(local: &str, job: JobId) -> String {
    let folder = match local.rfind(['\\', '/']) {
        Some(i) => &local[..i],
        None => "",
    };
    format!(
        "{folder}\\BIT{:X}.tmp",
        (u64::from(job.0) << 32) | 0xFFFF_FFFF
    )
}

/// D80: the file slot of an upload-reply job's reply in the sandbox and in `temp_file` trace
/// records. Its temporary file is `BIT<hex>.tmp` in the reply file's folder, the hex being the job
/// number over `FFFFFFFE` (no file index reaches it, and it differs from D72's generated name).
pub const REPLY_SLOT: u32 = 0xFFFF_FFFE;

impl Service {
    /// The reply file name of upload-reply job `j` (D72): the one set, else the generated one.
    pub(crate) fn reply_name_of(&self, j: usize) -> Option<String> {
        let jb = &self.jobs[j];
        if let Some(n) = jb
            .options()
            .reply
            .as_deref()
            .and_then(|r| r.file_name.clone())
        {
            return Some(n);
        }
        jb.files()
            .first()
            .map(|f| generated_reply_name(f.local(), jb.id()))
    }

    /// The job's index if it is an upload-reply job; E_NOTIMPL for other types (§2.3).
    fn reply_job(&self, app: AppId, job: JobId) -> Result<usize, HResult> {
        let j = self.access(app, job)?;
        if self.jobs[j].job_type() != JobType::UploadReply {
            return Err(HResult::E_NOTIMPL);
        }
        Ok(j)
    }

    /// IBackgroundCopyJob2::GetReplyProgress (§2.3, §8.2): BytesTotal BG_SIZE_UNKNOWN until the
    /// reply starts. E_NOTIMPL for download and upload jobs.
    pub fn reply_progress(&self, app: AppId, job: JobId) -> Result<ReplyProgress, HResult> {
        let j = self.reply_job(app, job)?;
        Ok(match self.jobs[j].options().reply.as_deref() {
            Some(r) => ReplyProgress {
                bytes_total: r.bytes_total,
                bytes_transferred: r.bytes_transferred,
            },
            None => ReplyProgress {
                bytes_total: BG_SIZE_UNKNOWN,
                bytes_transferred: 0,
            },
        })
    }

    /// IBackgroundCopyJob2::GetReplyData (§2.3, D66): the reply in TRANSFERRED and, after Complete,
    /// ACKNOWLEDGED; BG_E_INVALID_STATE elsewhere; a reply over 1 MB gives
    /// [`ReplyData::TooLarge`] with its length. E_NOTIMPL for download and upload jobs.
    pub fn reply_data(&self, app: AppId, job: JobId) -> Result<ReplyData, HResult> {
        let j = self.reply_job(app, job)?;
        if !matches!(
            self.jobs[j].state(),
            JobState::Transferred | JobState::Acknowledged
        ) {
            return Err(HResult::BG_E_INVALID_STATE);
        }
        let body = self.jobs[j]
            .options()
            .reply
            .as_deref()
            .and_then(|r| r.data.as_ref());
        Ok(match body {
            None => ReplyData::Data(Vec::new()),
            Some(b) if b.len() > MAX_REPLY_DATA => ReplyData::TooLarge(b.len()),
            Some(b) => ReplyData::Data(b.slice(0, b.len())),
        })
    }

    /// IBackgroundCopyJob2::GetReplyFileName (§2.3, D72): the name set, else the generated one
    /// once the upload file is added, else `None` (NULL). E_NOTIMPL for other job types.
    pub fn reply_file_name(&self, app: AppId, job: JobId) -> Result<Option<String>, HResult> {
        let j = self.reply_job(app, job)?;
        Ok(self.reply_name_of(j))
    }

    /// IBackgroundCopyJob2::SetReplyFileName (§2.3, D72): E_NOTIMPL for other job types;
    /// BG_E_INVALID_STATE in a final state and once the reply download has begun (reply BytesTotal
    /// known); E_INVALIDARG for a name LocalName's rules refuse (§2.6). NULL or "" goes back to the
    /// generated name.
    pub fn set_reply_file_name(
        &mut self,
        app: AppId,
        job: JobId,
        name: Option<&str>,
    ) -> Result<(), HResult> {
        // §1.3: a final state refuses every setter first (BG_E_INVALID_STATE), then the job type.
        let j = self.settable(app, job, crate::Prop::ReplyFileName)?;
        if self.jobs[j].job_type() != JobType::UploadReply {
            return Err(HResult::E_NOTIMPL);
        }
        let started = self.jobs[j]
            .options()
            .reply
            .as_deref()
            .is_some_and(|r| r.bytes_total != BG_SIZE_UNKNOWN);
        if started {
            return Err(HResult::BG_E_INVALID_STATE);
        }
        let name = name.filter(|n| !n.is_empty());
        if name.is_some_and(|n| !crate::names::valid_local(n)) {
            return Err(HResult::E_INVALIDARG);
        }
        let name = name.map(str::to_string);
        self.jobs[j].edit_options(|o| match (&mut o.reply, name) {
            (Some(r), name) => r.file_name = name,
            (None, None) => {}
            (reply @ None, Some(n)) => {
                *reply = Some(Box::new(crate::job_options::ReplyState {
                    file_name: Some(n),
                    ..Default::default()
                }));
            }
        });
        // A ReplyState at its default is dropped so that jobs without a reply save nothing.
        self.jobs[j].edit_options(|o| {
            if o.reply.as_deref() == Some(&crate::job_options::ReplyState::default()) {
                o.reply = None;
            }
        });
        self.modified(j);
        Ok(())
    }
}
