//! On-demand files (BITS 10.1): IBackgroundCopyFile6 RequestFileRanges, UpdateDownloadPosition and
//! GetFilledFileRanges; the transfers of files with requested ranges or a download position and of
//! ON_DEMAND_MODE jobs (T30); Callback3 FileRangesTransferred. Decisions D73–D77 of the fact base.
//!
//! A file under these rules keeps its state in [`OnDemand`] (boxed in the file's extra block): the
//! requested ranges still missing, the bytes on disk (`filled`, sorted and merged, as
//! GetFilledFileRanges returns them), the download position and the ranges filled since the last
//! FileRangesTransferred. Its BytesTransferred is the number of bytes on disk. A connection moves a
//! *plan*: the missing bytes in the order D75 gives, and the engine's byte counter runs through the
//! plan's concatenation (`plan_base` is the counter where it starts), so the shared bandwidth model
//! is unchanged.

use crate::hresult::HResult;
use crate::job::{AppId, JobId};
use crate::ranges::BG_LENGTH_TO_EOF;
use crate::service::Service;
use crate::state::BG_SIZE_UNKNOWN;
use serde::{Deserialize, Serialize};

/// The on-demand state of one download file (D74–D76).
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OnDemand {
    /// Requested ranges not yet all on disk, in the order requested. A length may be
    /// BG_LENGTH_TO_EOF while the file's size is unknown (resolved at its connection, D74).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requested: Vec<(u64, u64)>,
    /// The bytes on disk, sorted by offset and merged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filled: Vec<(u64, u64)>,
    /// UpdateDownloadPosition's offset, if it was called.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<u64>,
    /// Bytes filled since the last FileRangesTransferred (or RequestFileRanges), sorted and merged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreported: Vec<(u64, u64)>,
    /// The running connection's segments, in the order they move.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plan: Vec<(u64, u64)>,
    /// The file's byte counter where the plan starts.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub plan_base: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Add `[off, off + len)` to a sorted, merged set.
pub(crate) fn add(set: &mut Vec<(u64, u64)>, off: u64, len: u64) {
    if len == 0 {
        return;
    }
    let (mut s, mut e) = (off, off.saturating_add(len));
    let mut out = Vec::with_capacity(set.len() + 1);
    let mut placed = false;
    for &(o, l) in set.iter() {
        let oe = o.saturating_add(l);
        if oe < s {
            out.push((o, l));
        } else if o > e {
            if !placed {
                out.push((s, e - s));
                placed = true;
            }
            out.push((o, l));
        } else {
            s = s.min(o);
            e = e.max(oe);
        }
    }
    if !placed {
        out.push((s, e - s));
    }
    out.sort_unstable_by_key(|r| r.0);
    *set = out;
}

/// The parts of `[from, to)` not in the sorted, merged `set`, in offset order.
pub(crate) fn missing(set: &[(u64, u64)], from: u64, to: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut at = from;
    for &(o, l) in set {
        if at >= to {
            break;
        }
        let oe = o.saturating_add(l);
        if oe <= at {
            continue;
        }
        if o > at {
            let end = o.min(to);
            out.push((at, end - at));
        }
        at = at.max(oe);
    }
    if at < to {
        out.push((at, to - at));
    }
    out
}

/// Sum of the lengths.
pub(crate) fn total(set: &[(u64, u64)]) -> u64 {
    set.iter().fold(0u64, |a, &(_, l)| a.saturating_add(l))
}

/// The pieces of the plan's concatenation from position `from` to `to` (file offsets, in order).
pub(crate) fn pieces(plan: &[(u64, u64)], from: u64, to: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut start = 0u64;
    for &(o, l) in plan {
        let end = start.saturating_add(l);
        let a = from.max(start);
        let b = to.min(end);
        if a < b {
            out.push((o + (a - start), b - a));
        }
        start = end;
        if start >= to {
            break;
        }
    }
    out
}

/// The requested ranges made concrete for a file of `size` bytes, or BG_E_INVALID_RANGE when a part
/// lies outside it (RequestFileRanges page: "any part of the requested range is outside the actual
/// file size").
pub(crate) fn resolve(ranges: &[(u64, u64)], size: u64) -> Result<Vec<(u64, u64)>, HResult> {
    // D74: a BG_LENGTH_TO_EOF offset is refused whatever the size; the rest is D58's resolution.
    if ranges.iter().any(|&(off, _)| off == BG_LENGTH_TO_EOF) {
        return Err(HResult::BG_E_INVALID_RANGE);
    }
    crate::ranges::resolve(ranges, size)
}

impl OnDemand {
    /// A file that moved `have` bytes in order before it came under these rules (D74).
    pub(crate) fn from_linear(have: u64) -> OnDemand {
        let mut od = OnDemand::default();
        add(&mut od.filled, 0, have);
        od
    }

    /// Whether every requested range is on disk.
    pub(crate) fn requests_done(&self) -> bool {
        self.requested.is_empty()
    }

    /// Drop the requested ranges that are wholly on disk.
    fn prune(&mut self) {
        let filled = &self.filled;
        self.requested
            .retain(|&(o, l)| l != 0 && !missing(filled, o, o.saturating_add(l)).is_empty());
    }

    /// The bytes a connection moves, in order (D75): the requested ranges still missing, in the
    /// order requested; with none pending in the whole job (`job_requests`), the missing bytes from
    /// the download position to the end and — unless the job is ON_DEMAND_MODE (`on_demand`) — then
    /// from 0 to the position. `size` is known.
    pub(crate) fn plan_for(
        &self,
        size: u64,
        on_demand: bool,
        job_requests: bool,
    ) -> Vec<(u64, u64)> {
        if !self.requested.is_empty() {
            let mut taken = self.filled.clone();
            let mut out = Vec::new();
            for &(o, l) in &self.requested {
                let end = o.saturating_add(l).min(size);
                for (mo, ml) in missing(&taken, o.min(size), end) {
                    out.push((mo, ml));
                }
                add(&mut taken, o, end.saturating_sub(o));
            }
            return out;
        }
        if job_requests {
            return Vec::new();
        }
        match (self.position, on_demand) {
            (None, true) => Vec::new(),
            (p, true) => missing(&self.filled, p.unwrap_or(0).min(size), size),
            (p, false) => {
                let p = p.unwrap_or(0).min(size);
                let mut v = missing(&self.filled, p, size);
                v.extend(missing(&self.filled, 0, p));
                v
            }
        }
    }
}

impl crate::job::FileData {
    /// The file's on-demand state, if it has one (D74).
    pub(crate) fn on_demand(&self) -> Option<&OnDemand> {
        self.extra.as_ref().and_then(|e| e.on_demand.as_deref())
    }
    /// The file's on-demand state, made from its linear progress if it has none yet.
    pub(crate) fn on_demand_mut(&mut self) -> &mut OnDemand {
        let have = self.bytes_transferred;
        self.extra
            .get_or_insert_with(Default::default)
            .on_demand
            .get_or_insert_with(|| Box::new(OnDemand::from_linear(have)))
    }
    /// GetFilledFileRanges: the bytes on disk, sorted and merged (a file moved in order holds
    /// `[0, BytesTransferred)`).
    pub(crate) fn filled_ranges(&self) -> Vec<(u64, u64)> {
        match self.on_demand() {
            Some(od) => od.filled.clone(),
            None if self.bytes_transferred > 0 => vec![(0, self.bytes_transferred)],
            None => Vec::new(),
        }
    }
    /// D75: the file's on-demand state is dropped (its job left the rules): it moves in order again.
    fn drop_on_demand(&mut self) {
        if let Some(e) = self.extra.as_mut() {
            e.on_demand = None;
        }
    }
    /// How far the temporary file reaches: the end of the last byte on disk.
    pub(crate) fn disk_extent(&self) -> u64 {
        match self.on_demand() {
            Some(od) => od.filled.last().map_or(0, |&(o, l)| o.saturating_add(l)),
            None => self.bytes_transferred,
        }
    }
}

impl Service {
    /// The checks every File6 method makes, in D73's order: the application and access (D2, D9),
    /// the file index, then BG_E_RANDOM_ACCESS_NOT_SUPPORTED for a job or file that does not meet
    /// the ON_DEMAND_MODE requirements: an upload type, a DYNAMIC_CONTENT job, a file added with
    /// ranges (multi-range), a remote that is not HTTP or HTTPS (SMB), or a server that no longer
    /// honours Range requests (the world's remote says `accept_ranges: false`).
    fn file6(&self, app: AppId, job: JobId, index: u32) -> Result<(usize, usize), HResult> {
        let j = self.access(app, job)?;
        let jb = &self.jobs[j];
        let f = index as usize;
        if f >= jb.files().len() {
            return Err(HResult::BG_E_FILE_NOT_FOUND);
        }
        let file = &jb.files()[f];
        let lower = file
            .remote()
            .get(..8)
            .unwrap_or(file.remote())
            .to_ascii_lowercase();
        let http = lower.starts_with("http://") || lower.starts_with("https://");
        let ranges_lost = self
            .world
            .remotes
            .get(file.remote())
            .is_some_and(|r| !r.accept_ranges);
        if jb.job_type().is_upload()
            || jb.dynamic_content()
            || file.ranges().is_some()
            || !http
            || ranges_lost
        {
            return Err(HResult::BG_E_RANDOM_ACCESS_NOT_SUPPORTED);
        }
        Ok((j, f))
    }

    /// The mutators' checks: [`Service::file6`]'s, with a final state (BG_E_INVALID_STATE, §1.3)
    /// after the access checks and before the others (D73).
    fn file6_mut(&self, app: AppId, job: JobId, index: u32) -> Result<(usize, usize), HResult> {
        let j = self.access(app, job)?;
        if self.jobs[j].state().is_final() {
            return Err(HResult::BG_E_INVALID_STATE);
        }
        self.file6(app, job, index)
    }

    /// IBackgroundCopyFile6::RequestFileRanges (D73, D74): checks as `Service::file6_mut`, then
    /// the ranges: none (E_INVALIDARG), more than MaxRangesPerFile (BG_E_TOO_MANY_RANGES_IN_FILE, as
    /// D57: not for administrators), then BG_E_INVALID_RANGE for an InitialOffset of BG_LENGTH_TO_EOF or, once the file's size
    /// is known, any part outside it. Ranges may overlap each other and the bytes already on disk or
    /// pending (the page: they are split into non-overlapping ranges). Accepted: the job moves by
    /// the on-demand rules from now on (D75); the ranges filled so far are no longer reported (the
    /// Callback3 page: ranges "since the last call to FileRangesTransferred or RequestFileRanges").
    pub fn request_file_ranges(
        &mut self,
        app: AppId,
        job: JobId,
        index: u32,
        ranges: &[(u64, u64)],
    ) -> Result<(), HResult> {
        let (j, f) = self.file6_mut(app, job, index)?;
        if ranges.is_empty() {
            return Err(HResult::E_INVALIDARG);
        }
        // D57, D74: MaxRangesPerFile does not bind administrators.
        let caller = self.apps[app.index()].user;
        if !self.is_admin(caller) && ranges.len() > crate::ranges::MAX_RANGES_PER_FILE {
            return Err(HResult::BG_E_TOO_MANY_RANGES_IN_FILE);
        }
        if ranges.iter().any(|&(o, _)| o == BG_LENGTH_TO_EOF) {
            return Err(HResult::BG_E_INVALID_RANGE);
        }
        let size = self.jobs[j].files()[f].bytes_total;
        let concrete = if size == BG_SIZE_UNKNOWN {
            ranges.to_vec()
        } else {
            resolve(ranges, size)?
        };
        self.settle(j);
        self.jobs[j].edit_options(|o| o.file6 = true);
        let od = self.jobs[j].files_mut()[f].on_demand_mut();
        od.requested.extend(concrete);
        od.unreported.clear();
        od.prune();
        self.replan(j);
        self.modified(j);
        Ok(())
    }

    /// IBackgroundCopyFile6::UpdateDownloadPosition (D73, D75): checks as `Service::file6_mut`;
    /// any offset is taken (past the end there is nothing to move from it).
    pub fn update_download_position(
        &mut self,
        app: AppId,
        job: JobId,
        index: u32,
        offset: u64,
    ) -> Result<(), HResult> {
        let (j, f) = self.file6_mut(app, job, index)?;
        self.settle(j);
        self.jobs[j].edit_options(|o| o.file6 = true);
        self.jobs[j].files_mut()[f].on_demand_mut().position = Some(offset);
        self.replan(j);
        self.modified(j);
        Ok(())
    }

    /// IBackgroundCopyFile6::GetFilledFileRanges (D73): checks as `Service::file6` (any state):
    /// the bytes on disk, merged and ordered by offset, live bytes of a running transfer included.
    pub fn filled_file_ranges(
        &self,
        app: AppId,
        job: JobId,
        index: u32,
    ) -> Result<Vec<(u64, u64)>, HResult> {
        let (j, f) = self.file6(app, job, index)?;
        let file = &self.jobs[j].files()[f];
        let mut set = file.filled_ranges();
        if let Some((a, bytes)) = self.live_bytes(j) {
            if a as usize == f && bytes > file.bytes_transferred {
                match file.on_demand() {
                    Some(od) => {
                        let base = od.plan_base;
                        for (o, l) in pieces(&od.plan, file.bytes_transferred - base, bytes - base)
                        {
                            add(&mut set, o, l);
                        }
                    }
                    None => add(&mut set, 0, bytes),
                }
            }
        }
        Ok(set)
    }

    /// Whether job `j` moves its files by the on-demand rules (D75): ON_DEMAND_MODE, or a File6
    /// mutator was called on one of its files.
    pub(crate) fn on_demand_job(&self, j: usize) -> bool {
        let o = self.jobs[j].options();
        !self.jobs[j].job_type().is_upload() && (o.on_demand || o.file6)
    }

    /// D75: ON_DEMAND_MODE turned off. A job no File6 mutator was called on is no longer under the
    /// on-demand rules: its files move in order, so their on-demand state goes. Without requests or a
    /// download position (both File6 mutators) an ON_DEMAND_MODE job moved each file in order from
    /// 0, so the bytes on disk are `[0, BytesTransferred)`, as a file moved in order counts them;
    /// kept, the stale state went on answering GetFilledFileRanges and placing the temporary file's
    /// end (at the bytes on disk when the mode went off) while the bytes moved in order after it.
    pub(crate) fn leave_on_demand(&mut self, app: AppId, job: JobId) {
        let Ok(j) = self.access(app, job) else {
            return;
        };
        if self.on_demand_job(j) {
            return; // a File6 mutator keeps the job under the rules (D75)
        }
        for f in self.jobs[j].files_mut() {
            f.drop_on_demand();
        }
    }

    /// Whether any file of job `j` has requested ranges not yet on disk.
    pub(crate) fn job_requests(&self, j: usize) -> bool {
        self.jobs[j]
            .files()
            .iter()
            .any(|f| f.on_demand().is_some_and(|od| !od.requests_done()))
    }

    /// The next file an on-demand job connects for (D75): the first in the order added that is not
    /// complete and has bytes to move, or whose size is still unknown (a connection learns it).
    pub(crate) fn on_demand_next_file(&self, j: usize) -> Option<usize> {
        let on_demand = self.jobs[j].options().on_demand;
        let requests = self.job_requests(j);
        self.jobs[j].files().iter().position(|file| {
            if file.is_done() {
                return false;
            }
            if file.bytes_total == BG_SIZE_UNKNOWN {
                return true;
            }
            match file.on_demand() {
                Some(od) => !od
                    .plan_for(file.bytes_total, on_demand, requests)
                    .is_empty(),
                None => !OnDemand::from_linear(file.bytes_transferred)
                    .plan_for(file.bytes_total, on_demand, requests)
                    .is_empty(),
            }
        })
    }

    /// At a connection of file `f` of on-demand job `j` (its size now known): resolve its requested
    /// ranges against the size (BG_E_INVALID_RANGE for a part outside it, D74) and make its plan.
    /// Returns the plan's length (0: nothing to move).
    pub(crate) fn on_demand_connect(&mut self, j: usize, f: usize) -> Result<u64, HResult> {
        let on_demand = self.jobs[j].options().on_demand;
        {
            let file = &mut self.jobs[j].files_mut()[f];
            let size = file.bytes_total;
            let od = file.on_demand_mut();
            od.requested = resolve(&od.requested, size)?;
            od.prune();
        }
        let requests = self.job_requests(j);
        let file = &mut self.jobs[j].files_mut()[f];
        let (size, have) = (file.bytes_total, file.bytes_transferred);
        let od = file.on_demand_mut();
        let plan = od.plan_for(size, on_demand, requests);
        let len = total(&plan);
        od.plan = plan;
        od.plan_base = have;
        Ok(len)
    }

    /// A File6 mutator changed job `j`'s wishes while it transfers: the running connection moves
    /// the new plan of its file from here (D75). A request for another file waits for the running
    /// connection's plan to end (simplification).
    fn replan(&mut self, j: usize) {
        let Some(a) = self.jobs[j].active.as_deref().copied() else {
            return;
        };
        let f = a.file as usize;
        let on_demand = self.jobs[j].options().on_demand;
        let requests = self.job_requests(j);
        let file = &mut self.jobs[j].files_mut()[f];
        let size = file.bytes_total;
        let have = file.bytes_transferred;
        let od = file.on_demand_mut();
        if od.plan.is_empty() {
            // A connection made before the job came under these rules moves on in order.
            od.plan = vec![(have, a.stop_at.saturating_sub(have))];
            od.plan_base = have;
        }
        if a.fail.is_some() || size == BG_SIZE_UNKNOWN {
            return; // a scripted failure or a local-file error stops it where it was set
        }
        let Ok(resolved) = resolve(&od.requested, size) else {
            return;
        };
        od.requested = resolved;
        od.prune();
        let plan = od.plan_for(size, on_demand, requests);
        if plan.is_empty() {
            return; // keep moving what the connection was moving
        }
        let len = total(&plan);
        od.plan = plan;
        od.plan_base = have;
        self.rebase_active(j, have, have.saturating_add(len));
    }

    /// Bytes `from..to` of on-demand file `f`'s counter moved: they go on disk at their offsets.
    /// Returns the counter the file reaches (less than `to` after a local-file error, D41) and the
    /// error, if any.
    pub(crate) fn on_demand_settle(
        &mut self,
        j: usize,
        f: usize,
        from: u64,
        to: u64,
    ) -> (u64, Option<HResult>) {
        let (plan, base) = {
            let od = self.jobs[j].files()[f]
                .on_demand()
                .expect("an on-demand settle has a plan");
            (od.plan.clone(), od.plan_base)
        };
        let mut reached = from;
        let mut error = None;
        for (o, l) in pieces(&plan, from - base, to - base) {
            let (done, err) = match self.sandbox_write(j, f, o, o + l) {
                Ok(()) => (l, None),
                Err((code, at)) => (at.saturating_sub(o).min(l), Some(code)),
            };
            let od = self.jobs[j].files_mut()[f].on_demand_mut();
            add(&mut od.filled, o, done);
            add(&mut od.unreported, o, done);
            reached += done;
            if err.is_some() {
                error = err;
                break;
            }
        }
        let file = &mut self.jobs[j].files_mut()[f];
        file.bytes_transferred = reached;
        file.on_demand_mut().prune();
        (reached, error)
    }

    /// Callback3 FileRangesTransferred for file `f` of job `j` (D76): the ranges filled since the
    /// last one, when there are any; then they count as reported.
    pub(crate) fn notify_ranges(&mut self, j: usize, f: usize) {
        let ranges = match self.jobs[j].files_mut()[f]
            .extra
            .as_mut()
            .and_then(|e| e.on_demand.as_deref_mut())
        {
            Some(od) if !od.unreported.is_empty() => std::mem::take(&mut od.unreported),
            _ => return,
        };
        self.notify_file_ranges(j, f as u32, ranges);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn d74_sets_merge_and_gaps() {
        let mut s = Vec::new();
        add(&mut s, 10, 5);
        add(&mut s, 0, 3);
        add(&mut s, 3, 7);
        assert_eq!(s, vec![(0, 15)]);
        add(&mut s, 20, 5);
        assert_eq!(s, vec![(0, 15), (20, 5)]);
        assert_eq!(missing(&s, 0, 30), vec![(15, 5), (25, 5)]);
        assert_eq!(missing(&s, 12, 22), vec![(15, 5)]);
        assert_eq!(missing(&[], 4, 9), vec![(4, 5)]);
        assert_eq!(pieces(&[(100, 10), (0, 5)], 8, 13), vec![(108, 2), (0, 3)]);
    }

    #[test]
    fn d74_resolve_refuses_outside_the_size() {
        assert_eq!(resolve(&[(10, BG_LENGTH_TO_EOF)], 100), Ok(vec![(10, 90)]));
        assert_eq!(resolve(&[(90, 11)], 100), Err(HResult::BG_E_INVALID_RANGE));
        assert_eq!(resolve(&[(101, 0)], 100), Err(HResult::BG_E_INVALID_RANGE));
        assert_eq!(resolve(&[(100, 0)], 100), Ok(vec![(100, 0)]));
    }

    #[test]
    fn d75_plan_order() {
        let mut od = OnDemand::from_linear(10);
        od.requested = vec![(50, 10), (5, 20)];
        // Requests first, in the order requested, without bytes on disk or taken twice.
        assert_eq!(od.plan_for(100, false, true), vec![(50, 10), (10, 15)]);
        od.requested.clear();
        assert_eq!(od.plan_for(100, false, true), vec![]);
        od.position = Some(80);
        assert_eq!(od.plan_for(100, false, false), vec![(80, 20), (10, 70)]);
        assert_eq!(od.plan_for(100, true, false), vec![(80, 20)]);
        od.position = None;
        assert_eq!(od.plan_for(100, true, false), vec![]);
    }
}
