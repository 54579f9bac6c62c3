//! The file effects of four IBackgroundCopyJob5 properties, read only through these methods. The
//! properties themselves are stored elsewhere (the job property table); until they are wired here every
//! method returns the documented default (`SDK bits5_0/ne-bits5_0-bits_job_property_id`; §2.10 Job5
//! defaults), so the effects below never fire yet.

use super::Service;

impl Service {
    /// BITS_JOB_PROPERTY_DYNAMIC_CONTENT (id 3, default FALSE): the server's content may change
    /// between requests, so a file interrupted mid-way restarts at byte 0 (trace `restarted`,
    /// "dynamic content") and a missing Content-Length is not an error.
    pub(crate) fn dynamic_content(&self, _j: usize) -> bool {
        false
    }

    /// BITS_JOB_PROPERTY_HIGH_PERFORMANCE (id 4, default FALSE): bytes are written straight to the
    /// local name, without a temporary file, and nothing is removed on Cancel or a fatal error.
    #[allow(dead_code)] // its effects are not built yet
    pub(crate) fn high_performance(&self, _j: usize) -> bool {
        false
    }

    /// BITS_JOB_PROPERTY_MAX_DOWNLOAD_SIZE (id 5, default 0 = no limit): a file larger than this fails
    /// the job.
    #[allow(dead_code)] // its effects are not built yet
    pub(crate) fn max_download_size(&self, _j: usize) -> u64 {
        0
    }

    /// BITS_JOB_PROPERTY_ON_DEMAND_MODE (id 10, default FALSE): the job transfers the ranges requested
    /// with RequestFileRanges.
    #[allow(dead_code)] // its effects are not built yet
    pub(crate) fn on_demand(&self, _j: usize) -> bool {
        false
    }
}
