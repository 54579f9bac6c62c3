//! `UrlMap<V>`: values by URL, found by hashing the URL instead of a B-tree descent of string compares.
//!
//! The world's remotes and the servers' request log are looked up by URL on every connection attempt.
//! As `BTreeMap<String, _>`s, each look-up was a descent of ~25 compares of URLs sharing a long prefix
//! at 30,000 remotes, and the storm with one remote per job paid ~1.3× per event at 30,000 jobs what it
//! paid at 1,000 (BENCHMARKS.md, "storm_urls"). A hash look-up costs the same at any size.
//!
//! Determinism: the hasher has no keys (`UrlHasher`, the same on every run), and nothing ever sees
//! the hash order: iteration, `Debug` and serialisation go in URL order, as the `BTreeMap` did.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

type Fixed = BuildHasherDefault<UrlHasher>;

/// A keyless multiply-rotate hash over 8-byte words: URLs come from the test's own world, so there is
/// no flooding to resist, and SipHash (the std default) cost ≈ 700 instructions per look-up of a
/// 40-byte URL (BENCHMARKS.md, "lifecycle").
#[derive(Default, Clone, Copy)]
pub struct UrlHasher(u64);

/// An odd 64-bit constant with well-spread bits (the fractional digits of the golden ratio).
const MIX: u64 = 0x9e37_79b9_7f4a_7c15;

impl UrlHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(23) ^ word).wrapping_mul(MIX);
    }
}

impl Hasher for UrlHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            self.add(u64::from_le_bytes(w.try_into().expect("8 bytes")));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(last));
        }
        self.add(bytes.len() as u64);
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn finish(&self) -> u64 {
        // Fold the well-mixed high half into the low bits the table indexes by.
        self.0 ^ (self.0 >> 29)
    }
}

/// Values by URL: hashed look-ups, iteration in URL (byte) order.
#[derive(Clone, PartialEq, Eq)]
pub struct UrlMap<V> {
    map: HashMap<String, V, Fixed>,
}

impl<V> Default for UrlMap<V> {
    fn default() -> Self {
        UrlMap {
            map: HashMap::default(),
        }
    }
}

impl<V> UrlMap<V> {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }
    /// How many URLs.
    pub fn len(&self) -> usize {
        self.map.len()
    }
    /// No URL.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    /// The value of `url`.
    pub fn get(&self, url: &str) -> Option<&V> {
        self.map.get(url)
    }
    /// The value of `url`, to change.
    pub fn get_mut(&mut self, url: &str) -> Option<&mut V> {
        self.map.get_mut(url)
    }
    /// Whether `url` has a value.
    pub fn contains_key(&self, url: &str) -> bool {
        self.map.contains_key(url)
    }
    /// Set the value of `url`; the previous one, if any.
    pub fn insert(&mut self, url: impl Into<String>, value: V) -> Option<V> {
        self.map.insert(url.into(), value)
    }
    /// Take the value of `url` out.
    pub fn remove(&mut self, url: &str) -> Option<V> {
        self.map.remove(url)
    }
    /// The value of `url`, inserted as `V::default()` if missing (the URL is copied only then).
    pub fn get_or_default(&mut self, url: &str) -> &mut V
    where
        V: Default,
    {
        if !self.map.contains_key(url) {
            self.map.insert(url.to_string(), V::default());
        }
        self.map.get_mut(url).expect("inserted above")
    }
    /// Change the value of `url` with `f`, inserting `V::default()` first if missing: one look-up
    /// when `url` is there (the URL is copied only when it is not).
    pub fn update(&mut self, url: &str, f: impl FnOnce(&mut V))
    where
        V: Default,
    {
        if let Some(v) = self.map.get_mut(url) {
            f(v);
            return;
        }
        let mut v = V::default();
        f(&mut v);
        self.map.insert(url.to_string(), v);
    }
    /// The entries in URL order.
    pub fn iter(&self) -> std::vec::IntoIter<(&String, &V)> {
        let mut all: Vec<(&String, &V)> = self.map.iter().collect();
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
        let mut all: Vec<(&String, &mut V)> = self.map.iter_mut().collect();
        all.sort_unstable_by(|a, b| a.0.cmp(b.0));
        all.into_iter()
    }
}

impl<V> std::ops::Index<&str> for UrlMap<V> {
    type Output = V;
    fn index(&self, url: &str) -> &V {
        match self.map.get(url) {
            Some(v) => v,
            None => panic!("no entry for {url:?}"),
        }
    }
}

impl<'a, V> IntoIterator for &'a UrlMap<V> {
    type Item = (&'a String, &'a V);
    type IntoIter = std::vec::IntoIter<(&'a String, &'a V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<V> IntoIterator for UrlMap<V> {
    type Item = (String, V);
    type IntoIter = std::vec::IntoIter<(String, V)>;
    /// The entries in URL order.
    fn into_iter(self) -> Self::IntoIter {
        let mut all: Vec<(String, V)> = self.map.into_iter().collect();
        all.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        all.into_iter()
    }
}

impl<K: Into<String>, V> FromIterator<(K, V)> for UrlMap<V> {
    /// A later entry for the same URL replaces an earlier one (as `BTreeMap` does).
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut m = UrlMap::new();
        for (k, v) in iter {
            m.insert(k, v);
        }
        m
    }
}

impl<K: Into<String>, V> Extend<(K, V)> for UrlMap<V> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<V: std::fmt::Debug> std::fmt::Debug for UrlMap<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<V: Serialize> Serialize for UrlMap<V> {
    /// A map in URL order, the shape a `BTreeMap<String, V>` serialises to.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for UrlMap<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(BTreeMap::<String, V>::deserialize(d)?.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    /// URLs sharing a long prefix and differing in a few bytes spread over the table's low bits (the
    /// bucket index) and its top 7 bits (the control byte), with no two equal hashes.
    #[test]
    fn url_hasher_spreads_urls_with_a_common_prefix() {
        let hash = |u: &str| Fixed::default().hash_one(u);
        let hashes: Vec<u64> = (0..10_000)
            .map(|i| hash(&format!("https://example.test/updates/file{i}.bin")))
            .collect();
        let distinct: std::collections::BTreeSet<u64> = hashes.iter().copied().collect();
        assert_eq!(distinct.len(), hashes.len());
        let low: std::collections::BTreeSet<u64> = hashes.iter().map(|h| h & 1023).collect();
        assert!(low.len() > 1000, "{} of 1024 low buckets", low.len());
        let top: std::collections::BTreeSet<u64> = hashes.iter().map(|h| h >> 57).collect();
        assert_eq!(top.len(), 128);
        assert_ne!(hash("https://a.test/x"), hash("https://a.test/x\0"));
        assert_eq!(hash("https://a.test/x"), hash("https://a.test/x"));
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
}
