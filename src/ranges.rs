//! Byte ranges of a download file (IBackgroundCopyJob3::AddFileWithRanges, File2::GetFileRanges;
//! fact base §2.4, decisions D57 and D58).
//!
//! A range is `(offset, length)` as BG_FILE_RANGE; a length of [`BG_LENGTH_TO_EOF`] runs to the end of
//! the remote file. A file added with ranges transfers only those bytes: its BytesTotal is the sum of
//! the ranges' lengths and its bytes, in the temporary and the completed local file, are the ranges
//! concatenated in the order given (§2.4).

use crate::content::Body;
use crate::hresult::HResult;

/// BG_LENGTH_TO_EOF: `(UINT64)-1`, a range that runs to the end of the remote file (§2.4).
pub const BG_LENGTH_TO_EOF: u64 = u64::MAX;

/// The default MaxRangesPerFile group policy: 500 ranges per file (§2.4).
pub(crate) const MAX_RANGES_PER_FILE: usize = 500;

/// AddFileWithRanges' checks of the ranges themselves, in the order D57 fixes: none given
/// (E_INVALIDARG), more than MaxRangesPerFile (BG_E_TOO_MANY_RANGES_IN_FILE) when `capped` (the caller
/// is not an administrator: the policy does not apply to administrators, D57), an InitialOffset of
/// BG_LENGTH_TO_EOF (BG_E_INVALID_RANGE), then overlap (BG_E_OVERLAPPING_RANGES): sorted by offset
/// (a stable sort, so ranges with equal offsets keep the order given), a range must end at or before
/// the next one starts — duplicate offsets given in reverse order, `(100, 5)` then `(100, 0)`, are
/// refused, `(100, 0)` then `(100, 5)` are not (`SDK bits2_0/nf-bits2_0-ibackgroundcopyjob3-addfilewithranges`).
pub(crate) fn check(ranges: &[(u64, u64)], capped: bool) -> Result<(), HResult> {
    if ranges.is_empty() {
        return Err(HResult::E_INVALIDARG);
    }
    if capped && ranges.len() > MAX_RANGES_PER_FILE {
        return Err(HResult::BG_E_TOO_MANY_RANGES_IN_FILE);
    }
    if ranges.iter().any(|&(off, _)| off == BG_LENGTH_TO_EOF) {
        return Err(HResult::BG_E_INVALID_RANGE);
    }
    let mut sorted = ranges.to_vec();
    sorted.sort_by_key(|&(off, _)| off);
    for w in sorted.windows(2) {
        let (a, b) = (w[0], w[1]);
        if a.0.saturating_add(a.1) > b.0 {
            return Err(HResult::BG_E_OVERLAPPING_RANGES);
        }
    }
    Ok(())
}

/// The ranges made concrete for a remote of `size` bytes (a BG_LENGTH_TO_EOF length runs to `size`),
/// or BG_E_INVALID_RANGE when one lies past the file's end (§2.4: an error after Resume).
pub(crate) fn resolve(ranges: &[(u64, u64)], size: u64) -> Result<Vec<(u64, u64)>, HResult> {
    ranges
        .iter()
        .map(|&(off, len)| {
            if off > size {
                return Err(HResult::BG_E_INVALID_RANGE);
            }
            if len == BG_LENGTH_TO_EOF {
                return Ok((off, size - off));
            }
            match off.checked_add(len) {
                Some(end) if end <= size => Ok((off, len)),
                _ => Err(HResult::BG_E_INVALID_RANGE),
            }
        })
        .collect()
}

/// The sum of the concrete ranges' lengths: the file's BytesTotal (§2.4; saturating, D21).
pub(crate) fn total(resolved: &[(u64, u64)]) -> u64 {
    resolved
        .iter()
        .fold(0u64, |acc, &(_, len)| acc.saturating_add(len))
}

/// Read the bytes of the ranges' concatenation from `pos` on into `buf` (fewer at its end); returns
/// how many. Memory does not grow with the ranges' sizes (D41).
pub(crate) fn read_at(body: &Body, resolved: &[(u64, u64)], pos: u64, buf: &mut [u8]) -> usize {
    let mut start = 0u64; // position of the current range in the concatenation
    let mut done = 0usize;
    for &(off, len) in resolved {
        if done == buf.len() {
            break;
        }
        let end = start.saturating_add(len);
        let at = pos.saturating_add(done as u64);
        if at < end {
            let into = at - start;
            let want = usize::try_from((len - into).min((buf.len() - done) as u64))
                .unwrap_or(buf.len() - done);
            let n = body.read_at(off.saturating_add(into), &mut buf[done..done + want]);
            done += n;
            if n < want {
                break;
            }
        }
        start = end;
    }
    done
}

impl crate::service::Service {
    /// The size a connection of file `f` of job `j` transfers, given the remote's `size`: the sum of
    /// its ranges for a file added with ranges, else `size`. Errors (D58): a server that ignores Range
    /// requests gives BG_E_INSUFFICIENT_RANGE_SUPPORT (no whole-body fallback, unlike D39), a range past
    /// the remote's end BG_E_INVALID_RANGE; both fatal with context REMOTE_FILE (D5, §4.5).
    pub(crate) fn ranged_size(
        &self,
        j: usize,
        f: usize,
        size: u64,
        accept_ranges: bool,
    ) -> Result<u64, HResult> {
        let Some(ranges) = self.jobs[j].files()[f].ranges() else {
            return Ok(size);
        };
        if !accept_ranges {
            return Err(HResult::BG_E_INSUFFICIENT_RANGE_SUPPORT);
        }
        resolve(ranges, size).map(|r| total(&r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_order_and_overlap_d57() {
        assert_eq!(check(&[], true), Err(HResult::E_INVALIDARG));
        assert_eq!(check(&[], false), Err(HResult::E_INVALIDARG));
        assert_eq!(
            check(&vec![(0, 1); 501], true),
            Err(HResult::BG_E_TOO_MANY_RANGES_IN_FILE)
        );
        let five_hundred: Vec<_> = (0..500).map(|i| (i * 10, 10)).collect();
        assert_eq!(check(&five_hundred, true), Ok(()));
        // D57: MaxRangesPerFile does not apply to administrators.
        let five_hundred_one: Vec<_> = (0..501).map(|i| (i * 10, 10)).collect();
        assert_eq!(check(&five_hundred_one, false), Ok(()));
        assert_eq!(
            check(&vec![(0, 1); 501], false),
            Err(HResult::BG_E_OVERLAPPING_RANGES)
        );
        assert_eq!(
            check(&[(BG_LENGTH_TO_EOF, 1)], true),
            Err(HResult::BG_E_INVALID_RANGE)
        );
        assert_eq!(
            check(&[(100, 5), (100, 0)], true),
            Err(HResult::BG_E_OVERLAPPING_RANGES)
        );
        assert_eq!(check(&[(100, 0), (100, 5)], true), Ok(()));
        assert_eq!(check(&[(10, 5), (0, 10)], true), Ok(()));
        assert_eq!(
            check(&[(10, 5), (0, 11)], true),
            Err(HResult::BG_E_OVERLAPPING_RANGES)
        );
        assert_eq!(
            check(&[(0, BG_LENGTH_TO_EOF), (100, 1)], true),
            Err(HResult::BG_E_OVERLAPPING_RANGES)
        );
    }

    #[test]
    fn resolve_and_read() {
        assert_eq!(
            resolve(&[(2, 3), (8, BG_LENGTH_TO_EOF)], 10),
            Ok(vec![(2, 3), (8, 2)])
        );
        assert_eq!(resolve(&[(8, 3)], 10), Err(HResult::BG_E_INVALID_RANGE));
        assert_eq!(resolve(&[(11, 0)], 10), Err(HResult::BG_E_INVALID_RANGE));
        assert_eq!(resolve(&[(10, 0)], 10), Ok(vec![(10, 0)]));
        let body = Body::text("0123456789");
        let r = [(8, 2), (0, 3)];
        let mut buf = [0u8; 5];
        assert_eq!(read_at(&body, &r, 0, &mut buf), 5);
        assert_eq!(&buf, b"89012");
        let mut buf = [0u8; 8];
        assert_eq!(read_at(&body, &r, 1, &mut buf), 4);
        assert_eq!(&buf[..4], b"9012");
        assert_eq!(total(&r), 5);
    }
}
