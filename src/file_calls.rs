//! File methods of IBackgroundCopyFile2 and IBackgroundCopyFile3 (scenario contract part 2, file
//! properties): SetRemoteName, GetTemporaryName, Get/SetValidationState, IsDownloadedFromPeer, and
//! File5 Get/SetProperty (D64).

use crate::hresult::HResult;
use crate::job::{AppId, JobId};
use crate::names::valid_remote;
use crate::sandbox::Sandbox;
use crate::service::Service;

/// E_PENDING (0x8000000A): SetValidationState before the file finished transferring.
pub(crate) const E_PENDING: HResult = HResult::from_u32(0x8000_000A);

/// BITS_FILE_PROPERTY_ID_HTTP_RESPONSE_HEADERS (SDK bits5_0 BITS_FILE_PROPERTY_ID).
pub const FILE_PROPERTY_HTTP_RESPONSE_HEADERS: u32 = 1;

impl Service {
    fn file_index(&self, j: usize, index: u32) -> Result<usize, HResult> {
        if (index as usize) < self.jobs[j].files().len() {
            Ok(index as usize)
        } else {
            Err(HResult::BG_E_FILE_NOT_FOUND)
        }
    }

    /// IBackgroundCopyFile2::SetRemoteName (§2.6): E_NOTIMPL for upload types, E_INVALIDARG for a bad
    /// name, BG_E_INVALID_STATE in a final state. The file continues at its offset unless the new
    /// remote's size or time stamp differ (D38) or it ignores ranges (D39); a finished file is not
    /// downloaded again. ModificationTime moves (§2.0).
    pub fn set_remote_name(
        &mut self,
        app: AppId,
        job: JobId,
        index: u32,
        remote: &str,
    ) -> Result<(), HResult> {
        let j = self.access(app, job)?;
        let f = self.file_index(j, index)?;
        let jb = &self.jobs[j];
        if jb.job_type().is_upload() {
            return Err(HResult::E_NOTIMPL);
        }
        if jb.state().is_final() {
            return Err(HResult::BG_E_INVALID_STATE);
        }
        if !valid_remote(remote, jb.job_type()) {
            return Err(HResult::E_INVALIDARG);
        }
        self.jobs[j].files_mut()[f].remote = remote.into();
        self.modified(j);
        Ok(())
    }

    /// IBackgroundCopyFile3::GetTemporaryName: the Windows name of the file's temporary file,
    /// `BIT<hex>.tmp` in the local file's folder (D40).
    pub fn temporary_name(&self, app: AppId, job: JobId, index: u32) -> Result<String, HResult> {
        let j = self.access(app, job)?;
        let f = self.file_index(j, index)?;
        let jb = &self.jobs[j];
        if jb.options().high_performance && !jb.job_type().is_upload() {
            // D63: a HIGH_PERFORMANCE job writes straight to the local name.
            return Ok(jb.files()[f].local.to_string());
        }
        Ok(Sandbox::temp_name(&jb.files()[f].local, jb.id(), index))
    }

    /// IBackgroundCopyFile3::GetValidationState: FALSE until the application validates the file
    /// (§2.10).
    pub fn validation_state(&self, app: AppId, job: JobId, index: u32) -> Result<bool, HResult> {
        let j = self.access(app, job)?;
        let f = self.file_index(j, index)?;
        Ok(self.jobs[j].files()[f]
            .extra
            .as_ref()
            .is_some_and(|e| e.validated))
    }

    /// IBackgroundCopyFile3::SetValidationState: E_PENDING until the file finished transferring
    /// (`SDK bits3_0/nf-bits3_0-ibackgroundcopyfile3-setvalidationstate`). TRUE marks it valid.
    /// FALSE (content rejected, which sends the job to ERROR with BG_E_VALIDATION_FAILED) is not
    /// built: it returns E_NOTIMPL and changes nothing.
    pub fn set_validation_state(
        &mut self,
        app: AppId,
        job: JobId,
        index: u32,
        valid: bool,
    ) -> Result<(), HResult> {
        let j = self.access(app, job)?;
        let f = self.file_index(j, index)?;
        if self.jobs[j].state().is_final() {
            return Err(HResult::BG_E_INVALID_STATE);
        }
        let file = &self.jobs[j].files()[f];
        if !file.is_done() || self.live_bytes(j).is_some_and(|(a, _)| a == index) {
            return Err(E_PENDING);
        }
        if !valid {
            return Err(HResult::E_NOTIMPL);
        }
        self.jobs[j].files_mut()[f]
            .extra
            .get_or_insert_with(Default::default)
            .validated = true;
        Ok(())
    }

    /// IBackgroundCopyFile3::IsDownloadedFromPeer: TRUE when the file's last answer came from a peer
    /// (a `peer` remote and a job with ENABLE_PEERCACHING_CLIENT, D65).
    pub fn downloaded_from_peer(
        &self,
        app: AppId,
        job: JobId,
        index: u32,
    ) -> Result<bool, HResult> {
        let j = self.access(app, job)?;
        let f = self.file_index(j, index)?;
        Ok(self.jobs[j].files()[f]
            .extra
            .as_ref()
            .is_some_and(|e| e.from_peer))
    }

    /// IBackgroundCopyFile5::GetProperty (D64): BITS_FILE_PROPERTY_ID_HTTP_RESPONSE_HEADERS (1) gives
    /// the headers of the server's last successful answer (or what SetProperty stored since), `""`
    /// before any; another id is BG_E_UNKNOWN_PROPERTY_ID.
    pub fn file_property(
        &self,
        app: AppId,
        job: JobId,
        index: u32,
        id: u32,
    ) -> Result<String, HResult> {
        let j = self.access(app, job)?;
        let f = self.file_index(j, index)?;
        if id != FILE_PROPERTY_HTTP_RESPONSE_HEADERS {
            return Err(HResult::BG_E_UNKNOWN_PROPERTY_ID);
        }
        Ok(self.jobs[j].files()[f]
            .extra
            .as_ref()
            .and_then(|e| e.response_headers.clone())
            .unwrap_or_default())
    }

    /// IBackgroundCopyFile5::SetProperty (D64): stores `value` as the file's HTTP_RESPONSE_HEADERS
    /// until the next answer replaces it; BG_E_UNKNOWN_PROPERTY_ID for another id, BG_E_INVALID_STATE
    /// in a final state.
    pub fn set_file_property(
        &mut self,
        app: AppId,
        job: JobId,
        index: u32,
        id: u32,
        value: &str,
    ) -> Result<(), HResult> {
        let j = self.access(app, job)?;
        let f = self.file_index(j, index)?;
        if id != FILE_PROPERTY_HTTP_RESPONSE_HEADERS {
            return Err(HResult::BG_E_UNKNOWN_PROPERTY_ID);
        }
        if self.jobs[j].state().is_final() {
            return Err(HResult::BG_E_INVALID_STATE);
        }
        self.jobs[j].files_mut()[f]
            .extra
            .get_or_insert_with(Default::default)
            .response_headers = Some(value.to_string());
        Ok(())
    }
}
