//! D68: how the service's long vectors grow (the job vector, the trace).
//!
//! `Vec::push` doubles the capacity when full, so a vector is between half and completely full: at
//! 100,000 jobs the job vector held 131,072 slots (31 % unused), about 90 bytes of every idle job.
//! Past [`STEP_FROM_BYTES`] of capacity these vectors grow by a sixteenth instead (at most 6.25 %
//! unused). Below it they still double: small machines (a fresh one every 1,000 jobs in the
//! lifecycle bench) reallocate as rarely as before. The copying stays amortised O(1) per push (a
//! constant sixteen times that of doubling), and large blocks are moved by the allocator's `mremap`
//! on Linux rather than copied.

/// Capacity in bytes below which a vector doubles (256 KiB).
pub(crate) const STEP_FROM_BYTES: usize = 256 * 1024;

/// Make room for one more element of `v` (D68): double while small, then a sixteenth.
#[inline]
pub(crate) fn reserve_one<T>(v: &mut Vec<T>) {
    if v.len() < v.capacity() {
        return;
    }
    reserve_step(v);
}

#[cold]
fn reserve_step<T>(v: &mut Vec<T>) {
    let cap = v.capacity();
    let bytes = cap.saturating_mul(std::mem::size_of::<T>());
    let more = if bytes < STEP_FROM_BYTES {
        cap.max(4)
    } else {
        (cap / 16).max(1)
    };
    v.reserve_exact(more);
}

/// `v.push(x)` with the D68 growth step.
#[cfg(test)]
fn push<T>(v: &mut Vec<T>, x: T) {
    reserve_one(v);
    v.push(x);
}

/// D88: the largest block (in bytes) a dropped machine leaves for the next one (64 MiB: the trace
/// of a 200,000-job storm); a larger block goes back to the system.
pub(crate) const SPARE_MAX_BYTES: usize = 64 << 20;

/// D88: the block of a long vector of the last machine dropped (the trace, a timer run), emptied,
/// kept for the same vector of the next machine. Its memory was written by the machine that
/// filled it, so the next one fills it without page faults (fresh memory from the system costs a
/// fault and a zeroed page every 4 KiB). At most one block, from [`STEP_FROM_BYTES`] (the
/// trace and the job vector: from any size, [`Spare::keep_from`]) to [`SPARE_MAX_BYTES`]; a machine takes it when the vector gets its first element. Nothing the
/// machine records depends on it: only where the elements are stored.
pub(crate) struct Spare<T>(std::sync::Mutex<Vec<T>>);

impl<T> Spare<T> {
    /// No block kept.
    pub(crate) const fn new() -> Spare<T> {
        Spare(std::sync::Mutex::new(Vec::new()))
    }

    /// The kept block (empty), if there is one.
    #[cold]
    pub(crate) fn take(&self) -> Option<Vec<T>> {
        let mut kept = self.0.lock().ok()?;
        (kept.capacity() > 0).then(|| std::mem::take(&mut *kept))
    }

    /// Keep `v`'s block, emptied, if it is long and larger than the one kept (`v` is left empty
    /// then); otherwise `v` is left as it is.
    pub(crate) fn keep(&self, v: &mut Vec<T>) {
        self.keep_from(v, STEP_FROM_BYTES);
    }

    /// [`Spare::keep`] for blocks of at least `min_bytes` (and at most [`SPARE_MAX_BYTES`]).
    pub(crate) fn keep_from(&self, v: &mut Vec<T>, min_bytes: usize) {
        let bytes = v.capacity().saturating_mul(std::mem::size_of::<T>());
        if !(min_bytes.max(1)..=SPARE_MAX_BYTES).contains(&bytes) {
            return;
        }
        if let Ok(mut kept) = self.0.lock() {
            if kept.capacity() < v.capacity() {
                v.clear();
                *kept = std::mem::take(v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn d68_doubles_while_small_then_grows_by_a_sixteenth() {
        let mut v: Vec<u64> = Vec::new();
        let mut caps = vec![];
        for i in 0..200_000u64 {
            push(&mut v, i);
            if caps.last() != Some(&v.capacity()) {
                caps.push(v.capacity());
            }
        }
        assert_eq!(&caps[..4], &[4, 8, 16, 32]);
        // 32,768 u64s are 256 KiB: doubling stops there.
        let big = caps.iter().position(|&c| c == 32_768).unwrap();
        assert_eq!(caps[big + 1], 32_768 + 2_048);
        // Never more than a sixteenth unused once past the threshold.
        assert!(
            v.capacity() - v.len() <= v.capacity() / 16,
            "{}",
            v.capacity()
        );
        assert_eq!(v, (0..200_000).collect::<Vec<_>>());
    }

    #[test]
    fn d88_spare_keeps_one_long_block_and_hands_it_out_empty() {
        static S: Spare<u64> = Spare::new();
        assert!(S.take().is_none());
        // Short: not kept, left alone.
        let mut short: Vec<u64> = (0..10).collect();
        S.keep(&mut short);
        assert_eq!(short.len(), 10);
        assert!(S.take().is_none());
        // Long: kept empty, `v` left empty.
        let mut long: Vec<u64> = (0..40_000).collect();
        let cap = long.capacity();
        S.keep(&mut long);
        assert_eq!((long.len(), long.capacity()), (0, 0));
        // A smaller long block does not replace it.
        let mut smaller: Vec<u64> = (0..33_000).collect();
        S.keep(&mut smaller);
        assert_eq!(smaller.len(), 33_000);
        let got = S.take().unwrap();
        assert_eq!((got.len(), got.capacity()), (0, cap));
        assert!(S.take().is_none(), "handed out once");
        // Over the limit: not kept.
        let mut huge: Vec<u64> = Vec::with_capacity(SPARE_MAX_BYTES / 8 + 1);
        S.keep(&mut huge);
        assert!(huge.capacity() > 0);
        assert!(S.take().is_none());
    }

    /// D88's job vector: any block is kept (from one byte on), a block never allocated is not.
    #[test]
    fn d88_keep_from_zero_keeps_short_blocks_but_not_empty_ones() {
        static S: Spare<u64> = Spare::new();
        let mut none: Vec<u64> = Vec::new();
        S.keep_from(&mut none, 0);
        assert!(S.take().is_none());
        let mut short: Vec<u64> = (0..10).collect();
        let cap = short.capacity();
        S.keep_from(&mut short, 0);
        assert_eq!((short.len(), short.capacity()), (0, 0));
        let got = S.take().unwrap();
        assert_eq!((got.len(), got.capacity()), (0, cap));
    }
}
