//! What a served answer leaves on a file (the File5 response headers, D64; the peer that served it,
//! D65) and the job-wide download cap of Job5 MAX_DOWNLOAD_SIZE (D62).

use super::Service;
use crate::state::BG_SIZE_UNKNOWN;
use crate::world::{Attempt, Response};

/// BG_JOB_ENABLE_PEERCACHING_CLIENT (§2.11).
const PEERCACHING_CLIENT: u32 = 0x1;

impl Service {
    /// A connection attempt of job `j` for file `f` was answered by the remote at `url` (`None`: the
    /// file's remote name). A successful answer stores the server's `headers` as the file's
    /// HTTP_RESPONSE_HEADERS (D64) and whether a peer served it (D65).
    pub(crate) fn note_served(&mut self, j: usize, f: usize, url: Option<&str>, attempt: &Attempt) {
        if attempt.response != Response::Ok {
            return;
        }
        let job = &mut self.jobs[j];
        let upload = job.job_type().is_upload();
        let client = job.options().peer_caching_flags & PEERCACHING_CLIENT != 0;
        let file = &mut job.files_mut()[f];
        let remotes = &self.world.remotes;
        let found = match url {
            Some(url) => remotes.get(url),
            // The file's own remote, by the slot the attempt just refreshed.
            None => remotes
                .find(file.remote(), file.remote_slot)
                .map(|s| remotes.at(s)),
        };
        let Some(remote) = found else {
            return;
        };
        let had = file.extra.as_deref();
        // D79: once its peer copy was rejected, the file comes from the origin server.
        let peer = !upload && client && remote.peer && !had.is_some_and(|e| e.peer_rejected);
        if remote.headers.is_empty()
            && !peer
            && had.is_none_or(|e| e.response_headers.is_none() && !e.from_peer)
        {
            // Nothing to record, nothing to clear: a plain file keeps no extra box.
            return;
        }
        let extra = file.extra.get_or_insert_with(Default::default);
        extra.from_peer = peer;
        extra.response_headers = if remote.headers.is_empty() {
            None
        } else {
            Some(response_headers(&remote.headers))
        };
        file.shrink_extra();
    }

    /// D62: how many more bytes file `f` of job `j` may bring under MAX_DOWNLOAD_SIZE, or `None`
    /// without a cap. The other files count with their sizes (their bytes so far while unknown).
    pub(crate) fn download_room(&self, j: usize, f: usize) -> Option<u64> {
        let cap = self.jobs[j].options().max_download_size;
        if cap == 0 {
            return None;
        }
        let used = self.jobs[j]
            .files()
            .iter()
            .enumerate()
            .filter(|&(g, _)| g != f)
            .map(|(_, file)| {
                if file.bytes_total == BG_SIZE_UNKNOWN {
                    file.bytes_transferred
                } else {
                    file.bytes_total
                }
            })
            .fold(0u64, u64::saturating_add);
        Some(cap.saturating_sub(used))
    }
}

/// D64: the header lines as one string, each line ended by CR LF.
pub(crate) fn response_headers(lines: &[String]) -> String {
    let mut s = String::new();
    for l in lines {
        s.push_str(l);
        s.push_str("\r\n");
    }
    s
}
