//! A 4-ary min-heap for the engine's timers.
//!
//! Same contract as `BinaryHeap<Reverse<T>>` for the engine (the smallest element first; the engine's
//! keys `(time, seq)` are unique, so the order is total and deterministic), but each node has four
//! children that sit next to each other in memory: a pop walks half as many levels, and each level's
//! children share one or two cache lines. With hundreds of thousands of armed timers (a retry and a
//! no-progress deadline per job in TRANSIENT_ERROR), the levels below the cache-resident top are what
//! a pop pays for.

/// Children per node.
const D: usize = 4;

/// A min-heap of `Copy` values.
#[derive(Clone, Debug)]
pub(crate) struct MinHeap<T> {
    v: Vec<T>,
}

impl<T> Default for MinHeap<T> {
    fn default() -> MinHeap<T> {
        MinHeap { v: Vec::new() }
    }
}

impl<T: Ord + Copy> MinHeap<T> {
    /// A heap of `v`'s elements (any order).
    pub(crate) fn from_vec(v: Vec<T>) -> MinHeap<T> {
        let mut h = MinHeap { v };
        if h.v.len() > 1 {
            for i in (0..=(h.v.len() - 2) / D).rev() {
                h.sift_down(i);
            }
        }
        h
    }

    /// The smallest element.
    pub(crate) fn peek(&self) -> Option<&T> {
        self.v.first()
    }

    /// Add `x`.
    pub(crate) fn push(&mut self, x: T) {
        self.v.push(x);
        let mut i = self.v.len() - 1;
        while i > 0 {
            let parent = (i - 1) / D;
            if x < self.v[parent] {
                self.v[i] = self.v[parent];
                i = parent;
            } else {
                break;
            }
        }
        self.v[i] = x;
    }

    /// Remove and return the smallest element.
    pub(crate) fn pop(&mut self) -> Option<T> {
        let last = self.v.pop()?;
        if self.v.is_empty() {
            return Some(last);
        }
        let top = std::mem::replace(&mut self.v[0], last);
        self.sift_down(0);
        Some(top)
    }

    /// Every element, in no particular order.
    pub(crate) fn iter(&self) -> std::slice::Iter<'_, T> {
        self.v.iter()
    }

    /// How many elements.
    pub(crate) fn len(&self) -> usize {
        self.v.len()
    }

    /// Keep only the elements `keep` accepts (the pop order of the rest is unchanged: the order is
    /// the elements' own).
    pub(crate) fn retain(&mut self, keep: impl FnMut(&T) -> bool) {
        let mut v = std::mem::take(&mut self.v);
        v.retain(keep);
        *self = MinHeap::from_vec(v);
    }

    /// Move the element at `i` down to its place.
    fn sift_down(&mut self, mut i: usize) {
        let x = self.v[i];
        let n = self.v.len();
        loop {
            let first = D * i + 1;
            if first >= n {
                break;
            }
            let mut best = first;
            for c in first + 1..(first + D).min(n) {
                if self.v[c] < self.v[best] {
                    best = c;
                }
            }
            if self.v[best] < x {
                self.v[i] = self.v[best];
                i = best;
            } else {
                break;
            }
        }
        self.v[i] = x;
    }
}

#[cfg(test)]
mod tests {
    use super::MinHeap;
    use proptest::prelude::*;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    proptest! {
        #![proptest_config(crate::proptest_config::config(256))]

        /// Any interleaving of pushes and pops gives what `BinaryHeap<Reverse<_>>` gives.
        #[test]
        fn behaves_as_the_std_binary_heap(
            start in proptest::collection::vec(any::<(u8, u16)>(), 0..40),
            ops in proptest::collection::vec(proptest::option::of(any::<(u8, u16)>()), 0..300),
        ) {
            let mut ours = MinHeap::from_vec(start.clone());
            let mut std: BinaryHeap<_> = start.into_iter().map(Reverse).collect();
            for op in ops {
                match op {
                    Some(x) => {
                        ours.push(x);
                        std.push(Reverse(x));
                    }
                    None => prop_assert_eq!(ours.pop(), std.pop().map(|r| r.0)),
                }
                prop_assert_eq!(ours.peek().copied(), std.peek().map(|r| r.0));
                prop_assert_eq!(ours.iter().count(), std.len());
            }
            while let Some(x) = std.pop() {
                prop_assert_eq!(ours.pop(), Some(x.0));
            }
            prop_assert_eq!(ours.pop(), None);
        }

        /// `retain` keeps exactly the accepted elements, and they still come out smallest first.
        #[test]
        fn d85_retain_keeps_the_order_of_the_rest(
            start in proptest::collection::vec(any::<(u8, u16)>(), 0..200),
            odd in any::<bool>(),
        ) {
            let mut ours = MinHeap::from_vec(start.clone());
            let keep = |x: &(u8, u16)| (x.1 % 2 == 1) == odd;
            ours.retain(keep);
            let mut want: Vec<_> = start.into_iter().filter(keep).collect();
            want.sort_unstable();
            prop_assert_eq!(ours.len(), want.len());
            let mut got = Vec::new();
            while let Some(x) = ours.pop() {
                got.push(x);
            }
            prop_assert_eq!(got, want);
        }
    }
}
