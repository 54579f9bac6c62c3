//! File content: the bodies remotes serve and local files hold (scenario contract part 2, "Body").
//!
//! A body is literal bytes (`text`, `base64`) or a seeded `pattern` generated on the fly, so a remote of
//! 10 GB costs no memory: any byte range of a pattern is computed from its offset (SplitMix64, one 8-byte
//! block per step, little-endian). A remote without `content` serves `size` bytes of the pattern seeded
//! with the FNV-1a-64 hash of its URL (part 2 decision 2). SHA-256 is here too, for body checks.

use serde::{Deserialize, Serialize};

/// What a file holds.
#[derive(Clone, PartialEq, Eq, Debug, Hash, Serialize, Deserialize)]
pub enum Body {
    /// Literal bytes (`text` as UTF-8, or decoded `base64`).
    Bytes(Vec<u8>),
    /// `length` bytes of the SplitMix64 stream seeded with `seed`.
    Pattern {
        /// The seed.
        seed: u64,
        /// The body's length in bytes.
        length: u64,
    },
}

/// A file's part-2 data, boxed behind `FileData::extra` (`None` while all of it is at its default).
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileExtra {
    /// The remote's Last-Modified time when the bytes so far were transferred (D38).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub seen_modified: u64,
    /// IBackgroundCopyFile3::SetValidationState(TRUE) was called.
    #[serde(default, skip_serializing_if = "is_false")]
    pub validated: bool,
    /// The ranges AddFileWithRanges gave, in the order given (`None`: the whole file; §2.4, D57).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ranges: Option<Vec<(u64, u64)>>,
    /// The bytes came from a peer (File3::IsDownloadedFromPeer, D65).
    #[serde(default, skip_serializing_if = "is_false")]
    pub from_peer: bool,
    /// The application rejected the peer's copy (SetValidationState(FALSE), D79): the file comes from
    /// the origin server from now on.
    #[serde(default, skip_serializing_if = "is_false")]
    pub peer_rejected: bool,
    /// File5 HTTP_RESPONSE_HEADERS: the last successful response's headers, or what
    /// File5::SetProperty stored since (D64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_headers: Option<String>,
    /// IBackgroundCopyFile6 state: requested ranges, bytes on disk, download position (D74–D76).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_demand: Option<Box<crate::ondemand::OnDemand>>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 output for the state `s` (after its increment).
fn mix(s: u64) -> u64 {
    let mut z = s;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a, 64 bits: the seed of a remote's default body (hash of the URL's UTF-8 bytes).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    h
}

impl Body {
    /// A body of the string's UTF-8 bytes.
    pub fn text(s: &str) -> Body {
        Body::Bytes(s.as_bytes().to_vec())
    }
    /// `length` bytes of the pattern seeded with `seed`.
    pub fn pattern(seed: u64, length: u64) -> Body {
        Body::Pattern { seed, length }
    }
    /// The default body of a remote at `url` announcing `size` bytes: the URL-seeded pattern.
    pub fn default_for(url: &str, size: u64) -> Body {
        Body::Pattern {
            seed: fnv1a64(url.as_bytes()),
            length: size,
        }
    }
    /// Its length in bytes.
    pub fn len(&self) -> u64 {
        match self {
            Body::Bytes(b) => b.len() as u64,
            Body::Pattern { length, .. } => *length,
        }
    }
    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Fill `buf` with the bytes from `offset` on; returns how many there were (fewer at the end).
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> usize {
        let len = self.len();
        if offset >= len {
            return 0;
        }
        let n = usize::try_from((len - offset).min(buf.len() as u64)).unwrap_or(buf.len());
        match self {
            Body::Bytes(b) => {
                let start = offset as usize;
                buf[..n].copy_from_slice(&b[start..start + n]);
            }
            Body::Pattern { seed, .. } => {
                let word = |block: u64| {
                    mix(seed.wrapping_add(block.wrapping_add(1).wrapping_mul(GOLDEN))).to_le_bytes()
                };
                let out = &mut buf[..n];
                let mut block = offset / 8;
                // A start inside a block: its tail first; then whole blocks, then the head of the
                // last one (the same bytes as one block per step, without the per-step slicing).
                let from = (offset % 8) as usize;
                let mut i = 0;
                if from != 0 {
                    let take = (8 - from).min(n);
                    out[..take].copy_from_slice(&word(block)[from..from + take]);
                    i = take;
                    block += 1;
                }
                let mut chunks = out[i..].chunks_exact_mut(8);
                for c in &mut chunks {
                    c.copy_from_slice(&word(block));
                    block += 1;
                }
                let rest = chunks.into_remainder();
                if !rest.is_empty() {
                    let len = rest.len();
                    rest.copy_from_slice(&word(block)[..len]);
                }
            }
        }
        n
    }
    /// The bytes of `offset .. offset + len` (clipped to the body), in memory: for small reads only.
    pub fn slice(&self, offset: u64, len: u64) -> Vec<u8> {
        let n = len.min(self.len().saturating_sub(offset));
        let mut v = vec![0; usize::try_from(n).expect("a small read")];
        self.read_at(offset, &mut v);
        v
    }
    /// The SHA-256 of the whole body, streamed in chunks (memory does not grow with the length).
    pub fn sha256(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut off = 0;
        loop {
            let n = self.read_at(off, &mut buf);
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
            off += n as u64;
        }
        h.finish()
    }
}

/// Lowercase hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Encode as RFC 4648 base64 (standard alphabet, padded).
pub fn base64_encode(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decode RFC 4648 base64 (standard alphabet, padded). `None` when it is not valid.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if b.len() % 4 != 0 {
        return None;
    }
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(b.len() / 4 * 3);
    let chunks = b.len() / 4;
    for (k, q) in b.chunks(4).enumerate() {
        let last = k + 1 == chunks;
        let pad = q.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for (i, &c) in q.iter().enumerate() {
            let v = if i >= 4 - pad { 0 } else { val(c)? };
            n = (n << 6) | v;
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        // Canonical form: the bits dropped by padding must be zero.
        if (pad == 1 && bytes[2] != 0) || (pad == 2 && bytes[1] != 0) {
            return None;
        }
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Some(out)
}

/// SHA-256 (FIPS 180-4), streaming.
#[derive(Clone, Debug)]
pub struct Sha256 {
    h: [u32; 8],
    buf: [u8; 64],
    used: usize,
    total: u64,
}

const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

impl Default for Sha256 {
    fn default() -> Self {
        Self::new()
    }
}

impl Sha256 {
    /// A fresh hash.
    pub fn new() -> Sha256 {
        Sha256 {
            h: [
                0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
                0x5be0cd19,
            ],
            buf: [0; 64],
            used: 0,
            total: 0,
        }
    }

    fn block(&mut self, b: &[u8; 64]) {
        let mut w = [0u32; 64];
        for i in 0..16 {
            w[i] = u32::from_be_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b_, mut c, mut d, mut e, mut f, mut g, mut h] = self.h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = h
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b_) ^ (a & c) ^ (b_ & c);
            let t2 = s0.wrapping_add(maj);
            h = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b_;
            b_ = a;
            a = t1.wrapping_add(t2);
        }
        for (s, v) in self.h.iter_mut().zip([a, b_, c, d, e, f, g, h]) {
            *s = s.wrapping_add(v);
        }
    }

    /// Hash more bytes.
    pub fn update(&mut self, mut data: &[u8]) {
        self.total = self.total.wrapping_add(data.len() as u64);
        while !data.is_empty() {
            let take = (64 - self.used).min(data.len());
            self.buf[self.used..self.used + take].copy_from_slice(&data[..take]);
            self.used += take;
            data = &data[take..];
            if self.used == 64 {
                let b = self.buf;
                self.block(&b);
                self.used = 0;
            }
        }
    }

    /// The digest.
    pub fn finish(mut self) -> [u8; 32] {
        let bits = self.total.wrapping_mul(8);
        self.update(&[0x80]);
        while self.used != 56 {
            self.update(&[0]);
        }
        let mut b = self.buf;
        b[56..].copy_from_slice(&bits.to_be_bytes());
        self.block(&b);
        let mut out = [0u8; 32];
        for (i, v) in self.h.iter().enumerate() {
            out[4 * i..4 * i + 4].copy_from_slice(&v.to_be_bytes());
        }
        out
    }

    /// The digest of `data`.
    pub fn digest(data: &[u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(data);
        h.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_known_answers() {
        assert_eq!(
            hex(&Sha256::digest(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex(&Sha256::digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(&Sha256::digest(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
        let mut h = Sha256::new();
        for _ in 0..1000 {
            h.update(&[b'a'; 1000]);
        }
        assert_eq!(
            hex(&h.finish()),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        );
    }

    #[test]
    fn pattern_is_splitmix64_little_endian() {
        // SplitMix64 seeded with 0: the first outputs are well known.
        let b = Body::pattern(0, 16);
        let v = b.slice(0, 16);
        assert_eq!(
            u64::from_le_bytes(v[..8].try_into().unwrap()),
            0xE220_A839_7B1D_CDAF
        );
        assert_eq!(
            u64::from_le_bytes(v[8..].try_into().unwrap()),
            0x6E78_9E6A_A1B9_65F4
        );
        // Random access agrees with a sequential read, across block boundaries.
        let long = Body::pattern(42, 1000);
        let all = long.slice(0, 1000);
        for off in [0u64, 1, 7, 8, 9, 333, 995] {
            assert_eq!(
                long.slice(off, 13),
                all[off as usize..(off as usize + 13).min(1000)]
            );
        }
        assert_eq!(long.slice(999, 10).len(), 1);
        assert_eq!(long.slice(1000, 10).len(), 0);
    }

    #[test]
    fn pattern_reads_at_any_offset_match_the_byte_stream() {
        // The bytes of a pattern, one block per step (the definition), against read_at from every
        // offset in the first blocks and lengths that start, end and stay inside a block.
        let (seed, length) = (0x1234_5678_9abc_def0_u64, 61);
        let stream: Vec<u8> = (0..8u64)
            .flat_map(|b| mix(seed.wrapping_add((b + 1).wrapping_mul(GOLDEN))).to_le_bytes())
            .take(length as usize)
            .collect();
        let body = Body::pattern(seed, length);
        for off in 0..length + 2 {
            for want in [0usize, 1, 3, 7, 8, 9, 16, 17, 64] {
                let mut buf = vec![0xAA; want];
                let got = body.read_at(off, &mut buf);
                let start = (off as usize).min(stream.len());
                let end = (start + want).min(stream.len());
                assert_eq!(got, end - start, "offset {off}, length {want}");
                assert_eq!(
                    &buf[..got],
                    &stream[start..end],
                    "offset {off}, length {want}"
                );
                assert!(
                    buf[got..].iter().all(|&b| b == 0xAA),
                    "offset {off}, length {want}"
                );
            }
        }
    }

    #[test]
    fn fnv1a64_known_answers() {
        assert_eq!(fnv1a64(b""), 0xCBF2_9CE4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xAF63_DC4C_8601_EC8C);
    }

    #[test]
    fn base64_round_trips_and_refuses_junk() {
        assert_eq!(base64_decode("AAECAw==").unwrap(), vec![0, 1, 2, 3]);
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode("").unwrap(), b"");
        for n in 0..7u8 {
            let v: Vec<u8> = (0..n).map(|i| i.wrapping_mul(97)).collect();
            assert_eq!(base64_decode(&base64_encode(&v)).unwrap(), v);
        }
        assert_eq!(base64_encode(&[0, 1, 2, 3]), "AAECAw==");
        for bad in ["AAE", "AA=A", "A===", "AB==", "****"] {
            assert!(base64_decode(bad).is_none(), "{bad}");
        }
    }
}
