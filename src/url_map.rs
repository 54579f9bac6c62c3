//! `UrlMap<V>`: values by URL, found by hashing the URL instead of a B-tree descent of string compares.
//!
//! The world's remotes (and, for URLs no remote serves, the servers' request log) are looked up by
//! URL on connection attempts.
//! As `BTreeMap<String, _>`s, each look-up was a descent of ~25 compares of URLs sharing a long prefix
//! at 30,000 remotes, and the storm with one remote per job paid ~1.3× per event at 30,000 jobs what it
//! paid at 1,000 (BENCHMARKS.md, "storm_urls"). A hash look-up costs the same at any size.
//!
//! A look-up also hands out the entry's [`Slot`]: a job's file keeps its remote's slot, so a connection
//! attempt reaches its remote without hashing the URL or comparing it again (BENCHMARKS.md, "The sixth
//! performance round"). Each entry may also carry a side value of the map's owner (`S`, none by
//! default): the world's remotes keep their server's request log there, so a remote's first request
//! costs no look-up in a second table (BENCHMARKS.md, "The eleventh round").
//!
//! Determinism: the hash has no keys (`hash_bytes`, the same on every run), and nothing ever sees
//! the hash order: iteration, `Debug` and serialisation go in URL order, as the `BTreeMap` did.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;

/// A keyless multiply-rotate hash: URLs come from the test's own world, so there is no flooding to
/// resist, and SipHash (the std default) cost ≈ 700 instructions per look-up of a 40-byte URL
/// (BENCHMARKS.md, "lifecycle").
///
/// Two lanes take alternate 8-byte words, so the two multiply chains run side by side (a 40-byte URL
/// is three rounds deep instead of six); the last 1–15 bytes are read as whole words ending at the
/// URL's end (overlapping bytes already hashed), never copied into a buffer first (a word assembled
/// in memory byte by byte and read back whole stalls the load). The length seeds the first lane.
#[inline]
fn hash_bytes(b: &[u8]) -> u64 {
    #[inline(always)]
    fn round(lane: u64, word: u64) -> u64 {
        (lane.rotate_left(23) ^ word).wrapping_mul(MIX)
    }
    let word = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
    let n = b.len();
    let (mut x, mut y) = (n as u64, MIX2);
    let mut i = 0;
    while i + 16 <= n {
        x = round(x, word(i));
        y = round(y, word(i + 8));
        i += 16;
    }
    let rest = n - i;
    if rest > 8 {
        x = round(x, word(i));
        y = round(y, word(n - 8));
    } else if rest > 0 {
        x = round(
            x,
            if n >= 8 {
                word(n - 8)
            } else {
                // A URL shorter than a word: its bytes packed into one (rare).
                b.iter().fold(0u64, |w, &c| w << 8 | u64::from(c))
            },
        );
    }
    let h = round(x, y.rotate_left(32));
    h ^ (h >> 29)
}

/// An odd 64-bit constant with well-spread bits (the fractional digits of the golden ratio).
const MIX: u64 = 0x9e37_79b9_7f4a_7c15;
/// The second lane's seed (another odd constant: the fractional digits of the square root of 2).
const MIX2: u64 = 0x6a09_e667_f3bc_c909;

/// Where a URL's entry was found in one [`UrlMap`]: its index there and the map's layout generation
/// at the time. A holder (a job's file, a remote's request log) keeps it next to the URL and hands it
/// back as a hint with that same URL; the map trusts it only while its generation is unchanged.
///
/// Why that is enough: entries are never moved but by a removal, and a removal gives the map a new
/// generation; an insertion appends, and replacing a value keeps its place. Every map, clone and
/// generation change takes a generation no other map in the process had (a process-wide counter,
/// never 0), so a slot from another map is never valid here. The counter would have to wrap (2^32
/// maps created or changed by removals) for a stale slot to pass. [`Slot::NONE`] is never valid.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Slot {
    index: u32,
    generation: u32,
}

impl Slot {
    /// No slot known: the next look-up hashes the URL.
    pub const NONE: Slot = Slot {
        index: u32::MAX,
        generation: 0,
    };
}

impl Default for Slot {
    fn default() -> Self {
        Slot::NONE
    }
}

/// A generation no map had before (see [`Slot`]).
fn fresh_generation() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
    static NEXT: AtomicU32 = AtomicU32::new(1);
    loop {
        let g = NEXT.fetch_add(1, Relaxed);
        if g != 0 {
            return g;
        }
    }
}

/// The 32-bit hash a URL is placed by.
#[inline]
fn hash_url(url: &str) -> u32 {
    let h = hash_bytes(url.as_bytes());
    (h ^ (h >> 32)) as u32
}

/// One URL's entry: the key, the value and the side value the map's owner keeps about the URL
/// (the world's remotes: which job types accept the URL, [`crate::names::valid_remote_memo`], and
/// what the server received). The side value belongs to the URL: replacing the value keeps it.
#[derive(Clone)]
struct Entry<V, S> {
    key: String,
    value: V,
    side: S,
}

/// Values by URL: hashed look-ups, iteration in URL (byte) order.
///
/// The entries sit in a vector in insertion order (a removal moves the last one into the gap); an
/// open-addressing table of 64-bit words (linear probing, at most three quarters full) finds them:
/// each used word holds the URL's 32-bit hash and the entry's index + 1, so growing the table never
/// reads a URL again, and a probe compares a URL only when its hash matches. Because entries stay
/// put, a look-up hands out a slot the caller may keep to skip hashing next time.
///
/// `S` is a side value per URL, [`Default`] when the URL is inserted and kept while it stays: it
/// takes no part in iteration, look-ups by value, `Debug` or serialisation, only in equality.
pub struct UrlMap<V, S = ()> {
    entries: Vec<Entry<V, S>>,
    /// A power of two long, or empty; 0 is a free word.
    table: Vec<u64>,
    generation: u32,
}

impl<V: Clone, S: Clone> Clone for UrlMap<V, S> {
    /// A clone has a generation of its own: slots of the original are not trusted in it.
    fn clone(&self) -> Self {
        UrlMap {
            entries: self.entries.clone(),
            table: self.table.clone(),
            generation: fresh_generation(),
        }
    }
}

impl<V: PartialEq, S: PartialEq> PartialEq for UrlMap<V, S> {
    /// The same URLs with equal values and side values, whatever the insertion order.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self.entries.iter().all(|e| {
                other.index_of(&e.key).is_some_and(|i| {
                    other.entries[i].value == e.value && other.entries[i].side == e.side
                })
            })
    }
}

impl<V: Eq, S: Eq> Eq for UrlMap<V, S> {}

impl<V, S> Default for UrlMap<V, S> {
    fn default() -> Self {
        UrlMap {
            entries: Vec::new(),
            table: Vec::new(),
            generation: fresh_generation(),
        }
    }
}

/// Where a probe for a URL ended.
enum Probe {
    /// The entry's index and the table word's position.
    Found(usize, usize),
    /// The free word where it would go.
    Free(usize),
}

impl<V, S> UrlMap<V, S> {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }
    /// How many URLs.
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    /// No URL.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    #[inline]
    fn probe(&self, url: &str, hash: u32) -> Probe {
        let mask = self.table.len().wrapping_sub(1);
        let mut pos = hash as usize & mask;
        loop {
            let w = self.table[pos];
            if w == 0 {
                return Probe::Free(pos);
            }
            if (w >> 32) as u32 == hash {
                let i = (w as u32 - 1) as usize;
                if self.entries[i].key == url {
                    return Probe::Found(i, pos);
                }
            }
            pos = (pos + 1) & mask;
        }
    }

    /// The index of `url`'s entry.
    #[inline]
    fn index_of(&self, url: &str) -> Option<usize> {
        if self.entries.is_empty() {
            return None;
        }
        match self.probe(url, hash_url(url)) {
            Probe::Found(i, _) => Some(i),
            Probe::Free(_) => None,
        }
    }

    fn slot(&self, index: usize) -> Slot {
        Slot {
            index: index as u32,
            generation: self.generation,
        }
    }

    /// Whether `slot` is trusted here (see [`Slot`]).
    #[inline]
    fn valid(&self, slot: Slot) -> Option<usize> {
        let i = slot.index as usize;
        (slot.generation == self.generation && i < self.entries.len()).then_some(i)
    }

    /// The entry of `url`: `hint` if it is still valid (it must come from a look-up of this same
    /// `url`), otherwise found by hashing. With its slot, to keep for next time.
    #[inline]
    pub(crate) fn find(&self, url: &str, hint: Slot) -> Option<Slot> {
        self.find_lazy(hint, || url)
    }

    /// [`UrlMap::find`] with the URL asked for only when `hint` is not valid: a caller whose URL
    /// is a slice of a block elsewhere in memory does not touch that block while its slot holds.
    #[inline]
    pub(crate) fn find_lazy<'u>(&self, hint: Slot, url: impl FnOnce() -> &'u str) -> Option<Slot> {
        if let Some(i) = self.valid(hint) {
            debug_assert_eq!(self.entries[i].key, url(), "a slot is kept with its URL");
            return Some(hint);
        }
        self.index_of(url()).map(|i| self.slot(i))
    }

    /// The value at a slot [`UrlMap::find`] just gave.
    #[inline]
    pub(crate) fn at(&self, slot: Slot) -> &V {
        &self.entries[slot.index as usize].value
    }

    /// The value and the side value at a slot [`UrlMap::find`] just gave, to change.
    #[inline]
    pub(crate) fn both_mut(&mut self, slot: Slot) -> (&mut V, &mut S) {
        let e = &mut self.entries[slot.index as usize];
        (&mut e.value, &mut e.side)
    }

    /// The side value at a slot [`UrlMap::find`] just gave, to change.
    #[inline]
    pub(crate) fn side_mut(&mut self, slot: Slot) -> &mut S {
        &mut self.entries[slot.index as usize].side
    }

    /// The side value of `url`.
    pub(crate) fn side(&self, url: &str) -> Option<&S> {
        self.index_of(url).map(|i| &self.entries[i].side)
    }

    /// Every URL with its side value, to change (in no particular order: callers must not let it
    /// show).
    pub(crate) fn sides_mut(&mut self) -> impl Iterator<Item = (&str, &mut S)> {
        self.entries
            .iter_mut()
            .map(|e| (e.key.as_str(), &mut e.side))
    }

    /// The value of `url`.
    pub fn get(&self, url: &str) -> Option<&V> {
        self.index_of(url).map(|i| &self.entries[i].value)
    }
    /// The value of `url`, to change.
    pub fn get_mut(&mut self, url: &str) -> Option<&mut V> {
        self.index_of(url).map(|i| &mut self.entries[i].value)
    }
    /// Whether `url` has a value.
    pub fn contains_key(&self, url: &str) -> bool {
        self.index_of(url).is_some()
    }

    /// Room for one more entry in the table: at most three quarters full.
    fn reserve_one(&mut self) {
        self.reserve_table(self.entries.len() + 1);
    }

    /// Room in the table for `want` URLs in all (the table is rebuilt at most once here; the
    /// entries' vector grows as usual).
    pub(crate) fn reserve_table(&mut self, want: usize) {
        if want * 4 <= self.table.len() * 3 {
            return;
        }
        let mut cap = (self.table.len() * 2).max(8);
        while want * 4 > cap * 3 {
            cap *= 2;
        }
        let mask = cap - 1;
        let mut table = vec![0u64; cap];
        for &w in &self.table {
            if w != 0 {
                let mut pos = (w >> 32) as usize & mask;
                while table[pos] != 0 {
                    pos = (pos + 1) & mask;
                }
                table[pos] = w;
            }
        }
        self.table = table;
    }

    /// Append an entry for `url` (not in the map) at the free word `pos` of a table with room.
    fn push(&mut self, url: String, hash: u32, pos: usize, value: V) -> usize
    where
        S: Default,
    {
        let i = self.entries.len();
        let word = u32::try_from(i + 1).expect("fewer than 2^32 - 1 URLs");
        self.table[pos] = (u64::from(hash) << 32) | u64::from(word);
        self.entries.push(Entry {
            key: url,
            value,
            side: S::default(),
        });
        i
    }

    /// The value of `url`, inserted by `make` if missing (the URL copied only then), with its slot.
    fn entry(&mut self, url: &str, make: impl FnOnce() -> V) -> usize
    where
        S: Default,
    {
        self.reserve_one();
        let hash = hash_url(url);
        match self.probe(url, hash) {
            Probe::Found(i, _) => i,
            Probe::Free(pos) => self.push(url.to_string(), hash, pos, make()),
        }
    }

    /// Set the value of `url`; the previous one, if any.
    pub fn insert(&mut self, url: impl Into<String>, value: V) -> Option<V>
    where
        S: Default,
    {
        let url = url.into();
        self.reserve_one();
        let hash = hash_url(&url);
        match self.probe(&url, hash) {
            Probe::Found(i, _) => Some(std::mem::replace(&mut self.entries[i].value, value)),
            Probe::Free(pos) => {
                self.push(url, hash, pos, value);
                None
            }
        }
    }
    /// Take the value of `url` out (the last entry moves into its place: a new generation).
    pub fn remove(&mut self, url: &str) -> Option<V> {
        if self.entries.is_empty() {
            return None;
        }
        let Probe::Found(i, pos) = self.probe(url, hash_url(url)) else {
            return None;
        };
        // Backward-shift deletion: later words of the run that may sit earlier move up.
        let mask = self.table.len() - 1;
        let mut hole = pos;
        let mut next = (pos + 1) & mask;
        loop {
            let w = self.table[next];
            if w == 0 {
                break;
            }
            let home = (w >> 32) as usize & mask;
            if (next.wrapping_sub(home) & mask) >= (next.wrapping_sub(hole) & mask) {
                self.table[hole] = w;
                hole = next;
            }
            next = (next + 1) & mask;
        }
        self.table[hole] = 0;
        let last = self.entries.len() - 1;
        if i != last {
            // The last entry's word now names index `i`.
            let old = (last + 1) as u64;
            let hash = hash_url(&self.entries[last].key);
            let mut p = hash as usize & mask;
            while self.table[p] & 0xffff_ffff != old {
                p = (p + 1) & mask;
            }
            self.table[p] = (u64::from(hash) << 32) | (i + 1) as u64;
        }
        self.generation = fresh_generation();
        Some(self.entries.swap_remove(i).value)
    }
    /// The value of `url`, inserted as `V::default()` if missing (the URL is copied only then).
    pub fn get_or_default(&mut self, url: &str) -> &mut V
    where
        V: Default,
        S: Default,
    {
        let i = self.entry(url, V::default);
        &mut self.entries[i].value
    }
    /// Change the value of `url` with `f`, inserting `V::default()` first if missing: one look-up
    /// when `url` is there (the URL is copied only when it is not).
    pub fn update(&mut self, url: &str, f: impl FnOnce(&mut V))
    where
        V: Default,
        S: Default,
    {
        self.update_at(url, Slot::NONE, f);
    }
    /// [`UrlMap::update`] trying `hint` first (a slot of this same `url`); the entry's slot.
    #[inline]
    pub(crate) fn update_at(&mut self, url: &str, hint: Slot, f: impl FnOnce(&mut V)) -> Slot
    where
        V: Default,
        S: Default,
    {
        self.update_lazy(hint, || url, f)
    }
    /// [`UrlMap::update_at`] with the URL asked for only when `hint` is not valid (see
    /// [`UrlMap::find_lazy`]).
    #[inline]
    pub(crate) fn update_lazy<'u>(
        &mut self,
        hint: Slot,
        url: impl Fn() -> &'u str,
        f: impl FnOnce(&mut V),
    ) -> Slot
    where
        V: Default,
        S: Default,
    {
        let i = match self.find_lazy(hint, &url) {
            Some(s) => s.index as usize,
            None => self.entry(url(), V::default),
        };
        f(&mut self.entries[i].value);
        self.slot(i)
    }
    /// The entries in URL order.
    pub fn iter(&self) -> std::vec::IntoIter<(&String, &V)> {
        let mut all: Vec<(&String, &V)> = self.entries.iter().map(|e| (&e.key, &e.value)).collect();
        all.sort_unstable_by(|a, b| a.0.cmp(b.0));
        all.into_iter()
    }
    /// The URLs in order.
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.iter().map(|(k, _)| k)
    }
    /// The values in URL order.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.iter().map(|(_, v)| v)
    }
    /// The entries in URL order, to change.
    pub fn iter_mut(&mut self) -> std::vec::IntoIter<(&String, &mut V)> {
        let mut all: Vec<(&String, &mut V)> = self
            .entries
            .iter_mut()
            .map(|e| (&e.key, &mut e.value))
            .collect();
        all.sort_unstable_by(|a, b| a.0.cmp(b.0));
        all.into_iter()
    }
}

impl<V, S> std::ops::Index<&str> for UrlMap<V, S> {
    type Output = V;
    fn index(&self, url: &str) -> &V {
        match self.get(url) {
            Some(v) => v,
            None => panic!("no entry for {url:?}"),
        }
    }
}

impl<'a, V, S> IntoIterator for &'a UrlMap<V, S> {
    type Item = (&'a String, &'a V);
    type IntoIter = std::vec::IntoIter<(&'a String, &'a V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<V, S> IntoIterator for UrlMap<V, S> {
    type Item = (String, V);
    type IntoIter = std::vec::IntoIter<(String, V)>;
    /// The entries in URL order.
    fn into_iter(self) -> Self::IntoIter {
        let mut all: Vec<(String, V)> =
            self.entries.into_iter().map(|e| (e.key, e.value)).collect();
        all.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        all.into_iter()
    }
}

impl<K: Into<String>, V, S: Default> FromIterator<(K, V)> for UrlMap<V, S> {
    /// A later entry for the same URL replaces an earlier one (as `BTreeMap` does).
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut m = UrlMap::new();
        for (k, v) in iter {
            m.insert(k, v);
        }
        m
    }
}

impl<K: Into<String>, V, S: Default> Extend<(K, V)> for UrlMap<V, S> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<V: std::fmt::Debug, S> std::fmt::Debug for UrlMap<V, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<V: Serialize, S> Serialize for UrlMap<V, S> {
    /// A map in URL order, the shape a `BTreeMap<String, V>` serialises to (side values left out).
    fn serialize<Z: Serializer>(&self, s: Z) -> Result<Z::Ok, Z::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de, V: Deserialize<'de>, S: Default> Deserialize<'de> for UrlMap<V, S> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(BTreeMap::<String, V>::deserialize(d)?.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// URLs sharing a long prefix and differing in a few bytes spread over the table's low bits (the
    /// bucket index) and the top bits, with no two equal hashes; every length and tail shape (the
    /// overlapping last word, the packed short URL) counts its bytes.
    #[test]
    fn url_hash_spreads_urls_with_a_common_prefix() {
        let hash = |u: &str| hash_bytes(u.as_bytes());
        let urls: Vec<String> = (0..10_000)
            .map(|i| format!("https://example.test/updates/file{i}.bin"))
            .collect();
        let hashes: Vec<u64> = urls.iter().map(|u| hash(u)).collect();
        let distinct: std::collections::BTreeSet<u64> = hashes.iter().copied().collect();
        assert_eq!(distinct.len(), hashes.len());
        let low: std::collections::BTreeSet<u64> = hashes.iter().map(|h| h & 1023).collect();
        assert!(low.len() > 1000, "{} of 1024 low buckets", low.len());
        let top: std::collections::BTreeSet<u64> = hashes.iter().map(|h| h >> 57).collect();
        assert_eq!(top.len(), 128);
        // The 32-bit hash the table uses: its low bits too.
        let low32: std::collections::BTreeSet<u32> =
            urls.iter().map(|u| hash_url(u) & 1023).collect();
        assert!(low32.len() > 1000, "{} of 1024 low buckets", low32.len());
        assert_ne!(hash("https://a.test/x"), hash("https://a.test/x\0"));
        assert_eq!(hash("https://a.test/x"), hash("https://a.test/x"));
        // Every prefix of a long URL (lengths 0..=48: no tail, a short one, an overlapping one, a
        // packed one) and a one-byte change at every position give different hashes.
        let long = "https://cdn.example.test/pkg/update-1.2.3.bin?x";
        let mut all = std::collections::BTreeSet::new();
        for n in 0..=long.len() {
            assert!(all.insert(hash(&long[..n])), "prefix {n}");
        }
        for i in 0..long.len() {
            let mut b = long.as_bytes().to_vec();
            b[i] ^= 1;
            assert!(all.insert(hash_bytes(&b)), "changed byte {i}");
        }
    }

    #[test]
    fn iterates_serialises_and_debugs_in_url_order() {
        let urls = [
            "https://b.test/2",
            "https://a.test/9",
            "https://b.test/10",
            "http://z",
        ];
        let m: UrlMap<u32> = urls
            .iter()
            .enumerate()
            .map(|(i, u)| (*u, i as u32))
            .collect();
        let mut sorted: Vec<&str> = urls.to_vec();
        sorted.sort();
        assert_eq!(m.keys().map(String::as_str).collect::<Vec<_>>(), sorted);
        let json = serde_json::to_string(&m).unwrap();
        let b: BTreeMap<&str, u32> = urls
            .iter()
            .enumerate()
            .map(|(i, u)| (*u, i as u32))
            .collect();
        assert_eq!(json, serde_json::to_string(&b).unwrap());
        assert_eq!(format!("{m:?}"), format!("{b:?}"));
        let back: UrlMap<u32> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
        assert_eq!(m["http://z"], 3);
        assert_eq!(m.get("https://a.test/9"), Some(&1));
        assert!(!m.contains_key("https://a.test"));
    }

    #[test]
    fn get_or_default_inserts_once() {
        let mut m: UrlMap<u64> = UrlMap::new();
        *m.get_or_default("https://x.test/a") += 1;
        *m.get_or_default("https://x.test/a") += 1;
        assert_eq!(m.len(), 1);
        assert_eq!(m.get("https://x.test/a"), Some(&2));
        assert_eq!(m.remove("https://x.test/a"), Some(2));
        assert!(m.is_empty());
    }

    /// A slot stays right while entries are added (the table grows and is rebuilt) and values are
    /// replaced; a removal moves the last entry, so every older slot stops being trusted and the
    /// look-up hashes again, finding the moved entry where it now is.
    #[test]
    fn slots_survive_growth_and_replacement_and_not_a_removal() {
        let url = |i: u32| format!("https://s.test/{i}");
        let mut m: UrlMap<u32> = UrlMap::new();
        let first = {
            m.insert(url(0), 0);
            m.find(&url(0), Slot::NONE).unwrap()
        };
        for i in 1..1000 {
            m.insert(url(i), i);
        }
        assert_eq!(m.find(&url(0), first), Some(first));
        m.insert(url(0), 7);
        assert_eq!(*m.at(m.find(&url(0), first).unwrap()), 7);
        let last = m.find(&url(999), Slot::NONE).unwrap();
        assert_eq!(m.remove(&url(0)), Some(7));
        // url(999) moved into url(0)'s place: the old slot is not trusted, the new one is found.
        let moved = m.find(&url(999), last).unwrap();
        assert_ne!(moved, last);
        assert_eq!(moved.index, first.index);
        assert_eq!(*m.at(moved), 999);
        assert_eq!(m.find(&url(0), first), None);
        assert_eq!(m.find(&url(0), Slot::NONE), None);
        // A clone trusts no slot of the original, and still finds everything.
        let c = m.clone();
        assert_eq!(c.valid(moved), None);
        assert_eq!(c.find(&url(999), moved).map(|s| *c.at(s)), Some(999));
        assert_eq!(c, m);
        // NONE is never trusted.
        assert_eq!(m.valid(Slot::NONE), None);
    }

    /// A side value starts as its default, belongs to the URL (a new value keeps it, a removal
    /// takes it with the entry, the entry moved into the gap keeps its own) and counts in equality.
    #[test]
    fn side_values_belong_to_their_url() {
        let mut m: UrlMap<u32, u8> = UrlMap::new();
        m.insert("a", 1);
        m.insert("b", 2);
        m.insert("c", 3);
        assert_eq!(m.side("a"), Some(&0));
        let a = m.find("a", Slot::NONE).unwrap();
        *m.side_mut(a) = 10;
        let c = m.find("c", Slot::NONE).unwrap();
        let (v, s) = m.both_mut(c);
        *v = 30;
        *s = 30;
        m.insert("a", 11);
        assert_eq!((m.get("a"), m.side("a")), (Some(&11), Some(&10)));
        let before = m.clone();
        assert_eq!(m.remove("a"), Some(11));
        assert_eq!(m.side("a"), None);
        assert_eq!((m.get("c"), m.side("c")), (Some(&30), Some(&30)));
        m.insert("a", 11);
        assert_eq!(m.side("a"), Some(&0), "a new entry starts over");
        assert_ne!(m, before, "side values count in equality");
        *m.side_mut(m.find("a", Slot::NONE).unwrap()) = 10;
        assert_eq!(m, before);
        let mut sides: Vec<(String, u8)> =
            m.sides_mut().map(|(k, s)| (k.to_string(), *s)).collect();
        sides.sort();
        assert_eq!(sides, [("a".into(), 10), ("b".into(), 0), ("c".into(), 30)]);
    }

    /// Equality ignores insertion order (as the `BTreeMap` it replaced).
    #[test]
    fn equal_whatever_the_insertion_order() {
        let a: UrlMap<u32> = [("x", 1), ("y", 2)].into_iter().collect();
        let b: UrlMap<u32> = [("y", 2), ("x", 1)].into_iter().collect();
        let c: UrlMap<u32> = [("y", 2), ("x", 3)].into_iter().collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, UrlMap::new());
    }

    proptest::proptest! {
        /// Any sequence of inserts, removes, updates and look-ups agrees with a `BTreeMap`, and a
        /// slot kept for a URL since its last look-up always leads back to that URL's value.
        #[test]
        fn agrees_with_a_btree_map(ops in proptest::collection::vec((0u8..4, 0u16..64, 0u32..1000), 0..400)) {
            let mut m: UrlMap<u32> = UrlMap::new();
            let mut model: BTreeMap<String, u32> = BTreeMap::new();
            let mut kept: BTreeMap<String, Slot> = BTreeMap::new();
            for (op, k, v) in ops {
                let url = format!("https://p.test/{}", k);
                match op {
                    0 => proptest::prop_assert_eq!(m.insert(url.clone(), v), model.insert(url.clone(), v)),
                    1 => proptest::prop_assert_eq!(m.remove(&url), model.remove(&url)),
                    2 => {
                        let hint = kept.get(&url).copied().unwrap_or(Slot::NONE);
                        let s = m.update_at(&url, hint, |x| *x += v);
                        *model.entry(url.clone()).or_default() += v;
                        proptest::prop_assert_eq!(*m.at(s), model[&url]);
                    }
                    _ => {}
                }
                let hint = kept.get(&url).copied().unwrap_or(Slot::NONE);
                let found = m.find(&url, hint);
                proptest::prop_assert_eq!(found.map(|s| *m.at(s)), model.get(&url).copied());
                match found {
                    Some(s) => { kept.insert(url, s); }
                    None => { kept.remove(&url); }
                }
                for (u, s) in &kept {
                    let again = m.find(u, *s);
                    proptest::prop_assert_eq!(again.map(|s| *m.at(s)), model.get(u).copied());
                }
            }
            proptest::prop_assert_eq!(m.len(), model.len());
            let got: Vec<(String, u32)> = m.iter().map(|(k, v)| (k.clone(), *v)).collect();
            let want: Vec<(String, u32)> = model.into_iter().collect();
            proptest::prop_assert_eq!(got, want);
        }
    }
}
