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
#[inline]
pub(crate) fn push<T>(v: &mut Vec<T>, x: T) {
    reserve_one(v);
    v.push(x);
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
}
