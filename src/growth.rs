//! D68: how the service's long vectors grow (the job vector, the trace).
//!
//! `Vec::push` doubles the capacity when full, so a vector is between half and completely full: at
//! 100,000 jobs the job vector held 131,072 slots (31 % unused), about 90 bytes of every idle job.
//! Past [`STEP_FROM_BYTES`] of capacity these vectors grow by a sixteenth instead (at most 6.25 %
//! unused). The copying stays amortised O(1) per push (a constant sixteen times that of doubling),
//! and large blocks are moved by the allocator's `mremap` on Linux rather than copied.
//!
//! D86: below it they grow fourfold, but never past the capacity doubling would first reach at or
//! beyond [`STEP_FROM_BYTES`] (the *landing* capacity). Every capacity stays a power of two times the
//! first (4), doubling's landing is reached in about half the steps with about a third of the
//! copying (a vector of 1,000 jobs copied 1,020 jobs' worth while doubling, 340 now), and from the
//! landing capacity on both rules are the same, so a large machine ends with the capacity it had. A
//! small vector may have up to three quarters of its capacity unused instead of a half, but never more
//! bytes unused than doubling leaves at its last step below the landing (under 256 KiB).

/// Capacity in bytes below which a vector grows fourfold (D86) instead of by a sixteenth (256 KiB).
pub(crate) const STEP_FROM_BYTES: usize = 256 * 1024;

/// Make room for one more element of `v` (D68, D86): fourfold while small, then a sixteenth.
#[inline]
pub(crate) fn reserve_one<T>(v: &mut Vec<T>) {
    if v.len() < v.capacity() {
        return;
    }
    reserve_step(v);
}

/// The capacity after `cap` when full (D68, D86), for elements of `size` bytes.
fn next_capacity(cap: usize, size: usize) -> usize {
    let size = size.max(1);
    if cap == 0 {
        return 4;
    }
    if cap.saturating_mul(size) < STEP_FROM_BYTES {
        // The capacity doubling would land on: the first power of two at or past the threshold.
        let landing = STEP_FROM_BYTES.div_ceil(size).next_power_of_two();
        cap.saturating_mul(4)
            .min(landing.max(cap.saturating_mul(2)))
    } else {
        cap.saturating_add((cap / 16).max(1))
    }
}

#[cold]
fn reserve_step<T>(v: &mut Vec<T>) {
    let cap = v.capacity();
    let more = next_capacity(cap, std::mem::size_of::<T>()) - cap;
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
    fn d68_d86_fourfold_while_small_then_grows_by_a_sixteenth() {
        let mut v: Vec<u64> = Vec::new();
        let mut caps = vec![];
        for i in 0..200_000u64 {
            push(&mut v, i);
            if caps.last() != Some(&v.capacity()) {
                caps.push(v.capacity());
            }
        }
        assert_eq!(&caps[..4], &[4, 16, 64, 256]);
        // 32,768 u64s are 256 KiB: growing by four stops there.
        let big = caps.iter().position(|&c| c == 32_768).unwrap();
        assert_eq!(caps[big - 1], 16_384);
        assert_eq!(caps[big + 1], 32_768 + 2_048);
        // Never more than a sixteenth unused once past the threshold.
        assert!(
            v.capacity() - v.len() <= v.capacity() / 16,
            "{}",
            v.capacity()
        );
        assert_eq!(v, (0..200_000).collect::<Vec<_>>());
    }

    /// D86 against D68's doubling: the fourfold steps stay on doubling's capacities, reach the same
    /// landing capacity, and from there on the two rules give the same capacities (a large machine
    /// ends with the memory it had); below the landing no capacity exceeds it.
    #[test]
    fn d86_lands_where_doubling_landed_and_then_agrees() {
        fn doubling(cap: usize, size: usize) -> usize {
            let bytes = cap.saturating_mul(size.max(1));
            cap + if bytes < STEP_FROM_BYTES {
                cap.max(4)
            } else {
                (cap / 16).max(1)
            }
        }
        for size in [1, 8, 24, 40, 56, 200, 1000, 4096, 300_000] {
            let (mut d, mut f) = (0usize, 0usize);
            let mut doubled: Vec<usize> = vec![];
            while d.saturating_mul(size) < STEP_FROM_BYTES {
                d = doubling(d, size);
                doubled.push(d);
            }
            let landing = d;
            while f < landing {
                f = next_capacity(f, size);
                assert!(doubled.contains(&f), "size {size}: {f} is not a doubling step");
            }
            assert_eq!(f, landing, "size {size}");
            for _ in 0..50 {
                d = doubling(d, size);
                f = next_capacity(f, size);
                assert_eq!(f, d, "size {size}");
            }
        }
    }
}
