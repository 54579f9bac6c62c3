//! `OrdSet<T>`: an ordered set that is a sorted `Vec` while small and a `BTreeSet` once large.
//!
//! The engine's sets (ready queues, parked and running jobs, transfer stop points, maximum download
//! deadlines) hold zero to two entries in the usual machine, and each job's life inserts into and
//! removes from them about a dozen times. A `BTreeSet` pays a node search, and for its first entry
//! a node allocation, every time (~90 instructions per insert or remove in `profile lifecycle`); a
//! sorted vector of one or two entries pays a compare or two and keeps its allocation when it
//! empties. Past [`SMALL_MAX`] entries the set becomes a `BTreeSet` (O(log n) at any size, as
//! before), and back to a vector only once it is empty again.
//!
//! Determinism: iteration is in `Ord` order in both forms, exactly as the `BTreeSet` it replaces.

use std::collections::BTreeSet;

/// The most entries kept in the sorted vector; one more makes the set a `BTreeSet`.
const SMALL_MAX: usize = 32;

/// An ordered set of `T` (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum OrdSet<T> {
    /// At most [`SMALL_MAX`] entries, sorted, no duplicates.
    Small(Vec<T>),
    /// More than [`SMALL_MAX`] entries at some point since the set was last empty.
    Large(BTreeSet<T>),
}

impl<T> Default for OrdSet<T> {
    fn default() -> Self {
        OrdSet::Small(Vec::new())
    }
}

impl<T: Ord> OrdSet<T> {
    /// An empty set.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Add `x`; whether it was not there yet.
    #[inline]
    pub(crate) fn insert(&mut self, x: T) -> bool {
        // The usual case inline: a small set (mostly empty) whose entries are all below `x`.
        if let OrdSet::Small(v) = self {
            if v.len() < SMALL_MAX && v.len() < v.capacity() && v.last().is_none_or(|l| *l < x) {
                v.push(x);
                return true;
            }
        }
        self.insert_slow(x)
    }

    /// [`OrdSet::insert`] past its inline case.
    #[inline(never)]
    fn insert_slow(&mut self, x: T) -> bool {
        match self {
            OrdSet::Small(v) => {
                // Entries mostly arrive in order (sequence keys, later deadlines): look from the end.
                let at = match v.last() {
                    None => 0,
                    Some(last) if *last < x => v.len(),
                    Some(_) => match v.binary_search(&x) {
                        Ok(_) => return false,
                        Err(at) => at,
                    },
                };
                if at == v.len() && at < SMALL_MAX {
                    v.push(x);
                } else if v.len() < SMALL_MAX {
                    v.insert(at, x);
                } else {
                    let mut big: BTreeSet<T> = std::mem::take(v).into_iter().collect();
                    big.insert(x);
                    *self = OrdSet::Large(big);
                }
                true
            }
            OrdSet::Large(s) => s.insert(x),
        }
    }

    /// Remove `x`; whether it was there.
    #[inline]
    pub(crate) fn remove(&mut self, x: &T) -> bool {
        // The usual cases inline: a small set of at most one entry.
        if let OrdSet::Small(v) = self {
            match v.as_slice() {
                [] => return false,
                [only] => {
                    let hit = only == x;
                    if hit {
                        v.clear();
                    }
                    return hit;
                }
                _ => {}
            }
        }
        self.remove_slow(x)
    }

    /// [`OrdSet::remove`] past its inline cases.
    #[inline(never)]
    fn remove_slow(&mut self, x: &T) -> bool {
        match self {
            OrdSet::Small(v) => {
                // The first entry is the usual one to go (the front of a queue, the earliest point).
                let at = match v.first() {
                    None => return false,
                    Some(first) if first == x => 0,
                    Some(_) => match v.binary_search(x) {
                        Ok(at) => at,
                        Err(_) => return false,
                    },
                };
                if at + 1 == v.len() {
                    v.pop();
                } else {
                    v.remove(at);
                }
                true
            }
            OrdSet::Large(s) => {
                let gone = s.remove(x);
                if s.is_empty() {
                    *self = OrdSet::Small(Vec::new());
                }
                gone
            }
        }
    }

    /// Whether `x` is in the set.
    #[allow(dead_code)]
    pub(crate) fn contains(&self, x: &T) -> bool {
        match self {
            OrdSet::Small(v) => v.binary_search(x).is_ok(),
            OrdSet::Large(s) => s.contains(x),
        }
    }

    /// The smallest entry.
    pub(crate) fn first(&self) -> Option<&T> {
        match self {
            OrdSet::Small(v) => v.first(),
            OrdSet::Large(s) => s.first(),
        }
    }

    /// How many entries.
    pub(crate) fn len(&self) -> usize {
        match self {
            OrdSet::Small(v) => v.len(),
            OrdSet::Large(s) => s.len(),
        }
    }

    /// No entry.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Remove every entry.
    pub(crate) fn clear(&mut self) {
        match self {
            OrdSet::Small(v) => v.clear(),
            OrdSet::Large(_) => *self = OrdSet::Small(Vec::new()),
        }
    }

    /// The entries in order.
    pub(crate) fn iter(&self) -> Iter<'_, T> {
        match self {
            OrdSet::Small(v) => Iter::Small(v.iter()),
            OrdSet::Large(s) => Iter::Large(s.iter()),
        }
    }
}

/// The entries of an [`OrdSet`] in order.
pub(crate) enum Iter<'a, T> {
    Small(std::slice::Iter<'a, T>),
    Large(std::collections::btree_set::Iter<'a, T>),
}

impl<'a, T> Iterator for Iter<'a, T> {
    type Item = &'a T;
    fn next(&mut self) -> Option<&'a T> {
        match self {
            Iter::Small(i) => i.next(),
            Iter::Large(i) => i.next(),
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Iter::Small(i) => i.size_hint(),
            Iter::Large(i) => i.size_hint(),
        }
    }
}

impl<'a, T: Ord> IntoIterator for &'a OrdSet<T> {
    type Item = &'a T;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The set behaves as a `BTreeSet` through inserts and removes in a scrambled order, across the
    /// switch to the large form and back to the small one.
    #[test]
    fn matches_a_btreeset_small_and_large() {
        let mut ours: OrdSet<(u64, u32)> = OrdSet::new();
        let mut theirs = BTreeSet::new();
        let mut x: u64 = 12345;
        let mut went_large = false;
        for round in 0..4_000u64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            // Sizes swing between empty and ~100 entries: the first half of every 400 rounds
            // mostly inserts, the second half mostly removes.
            let grow = (round / 200) % 2 == 0;
            let key = ((x >> 33) % 120, (x >> 20) as u32 % 3);
            let insert = if grow { x % 4 != 0 } else { x % 4 == 0 };
            if insert {
                assert_eq!(ours.insert(key), theirs.insert(key), "insert {key:?}");
            } else {
                assert_eq!(ours.remove(&key), theirs.remove(&key), "remove {key:?}");
                if let Some(&f) = theirs.first() {
                    assert_eq!(ours.remove(&f), theirs.remove(&f), "remove first {f:?}");
                }
            }
            went_large |= matches!(ours, OrdSet::Large(_));
            assert_eq!(ours.len(), theirs.len());
            assert_eq!(ours.is_empty(), theirs.is_empty());
            assert_eq!(ours.first(), theirs.first());
            assert_eq!(ours.contains(&key), theirs.contains(&key));
            assert!(ours.iter().eq(theirs.iter()), "same order");
            if theirs.is_empty() {
                assert!(matches!(ours, OrdSet::Small(_)), "empty is small again");
            }
        }
        assert!(went_large, "the test reached the large form");
        ours.clear();
        assert!(ours.is_empty() && ours.first().is_none());
    }
}
