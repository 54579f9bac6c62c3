//! Name and text validation (spec §2.6, D14): remote and local file names, display names and
//! descriptions, and the UTF-16 length BITS counts string limits in. A leaf module: it knows the job
//! type and nothing else of the simulator.

use crate::state::JobType;

/// Longest display name (D14).
pub const MAX_DISPLAY_NAME: usize = 256;
/// Longest description (D14).
pub const MAX_DESCRIPTION: usize = 1024;
/// Longest remote name (spec §2.6).
pub const MAX_REMOTE_NAME: usize = 2200;
/// Longest local name, MAX_PATH (spec §2.6).
pub const MAX_LOCAL_NAME: usize = 260;

/// D14: a display name BITS accepts (CreateJob, SetDisplayName): at most 256 UTF-16 units.
#[inline]
pub(crate) fn valid_display_name(name: &str) -> bool {
    fits_wide(name, MAX_DISPLAY_NAME)
}

/// D14: a description BITS accepts (SetDescription): at most 1,024 UTF-16 units.
#[inline]
pub(crate) fn valid_description(text: &str) -> bool {
    fits_wide(text, MAX_DESCRIPTION)
}

/// At most `max` UTF-16 units. A string has no more UTF-16 units than UTF-8 bytes (a character of
/// one to three bytes is one unit, of four bytes two), so one no longer than `max` bytes fits
/// without being looked at.
#[inline]
fn fits_wide(s: &str, max: usize) -> bool {
    s.len() <= max || wide_len(s) <= max
}

/// Characters in the UTF-16 sense, as BITS counts string limits.
pub(crate) fn wide_len(s: &str) -> usize {
    // ASCII (the usual case) is one UTF-16 unit per byte; `is_ascii` checks a word at a time.
    if s.is_ascii() {
        s.len()
    } else {
        s.encode_utf16().count()
    }
}

/// `s` starts with the ASCII `prefix`, ignoring ASCII case (what lower-casing `s` and comparing did,
/// without allocating).
pub(crate) fn starts_with_ignore_ascii_case(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

// Byte classes for the name checks: one table lookup per byte instead of per-char predicates.
const NON_ASCII: u8 = 1;
/// `char::is_control` for ASCII: U+0000..=U+001F and U+007F. (`char::is_whitespace` for ASCII is
/// these controls' U+0009..=U+000D plus the space.)
const CONTROL: u8 = 2;
const SPACE: u8 = 4;
const STAR: u8 = 8;
const QUESTION: u8 = 16;
/// `"`, `<`, `>`, `|`: not allowed in local names.
const LOCAL_ONLY: u8 = 32;
/// `:`: a local name has one only after its drive letter (no NTFS stream).
const COLON: u8 = 64;

static BYTE_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = match i as u8 {
            0x80..=0xFF => NON_ASCII,
            0x00..=0x1F | 0x7F => CONTROL,
            b' ' => SPACE,
            b'*' => STAR,
            b'?' => QUESTION,
            b'"' | b'<' | b'>' | b'|' => LOCAL_ONLY,
            b':' => COLON,
            _ => 0,
        };
        i += 1;
    }
    t
};

/// The union of the classes of `s`'s bytes.
fn byte_classes(s: &str) -> u8 {
    bytes_classes(s.as_bytes())
}

/// The union of the classes of `bytes`.
fn bytes_classes(bytes: &[u8]) -> u8 {
    let class = |b: u8| BYTE_CLASS[usize::from(b)];
    // Eight bytes a round into two accumulators: the loop's own counting and branching is paid
    // once per eight look-ups instead of once per byte.
    let mut chunks = bytes.chunks_exact(8);
    let (mut a, mut b) = (0u8, 0u8);
    for c in &mut chunks {
        a |= class(c[0]) | class(c[1]) | class(c[2]) | class(c[3]);
        b |= class(c[4]) | class(c[5]) | class(c[6]) | class(c[7]);
    }
    chunks
        .remainder()
        .iter()
        .fold(a | b, |acc, &x| acc | class(x))
}

// Word-at-a-time tests for the usual names (8 bytes a round, no table): each gives a word with
// bit 7 of some byte set exactly when some byte of `x` passes the test (which bytes is not exact:
// only whether any does). They decide only acceptance of the common shapes below; anything they
// flag goes through the exact checks after them.
const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Some byte is zero.
#[inline(always)]
fn any_zero(x: u64) -> u64 {
    x.wrapping_sub(ONES) & !x & HIGHS
}

/// Some byte is `c`.
#[inline(always)]
fn any_eq(x: u64, c: u8) -> u64 {
    any_zero(x ^ (ONES * u64::from(c)))
}

/// Some byte is below `n` (`n` ≤ 128): no byte at or above `n` borrows, and a byte below it wraps
/// to 128 or more while its complement keeps bit 7.
#[inline(always)]
fn any_below(x: u64, n: u8) -> u64 {
    x.wrapping_sub(ONES * u64::from(n)) & !x & HIGHS
}

/// Some byte is above `n` (`n` ≤ 127), non-ASCII bytes included.
#[inline(always)]
fn any_above(x: u64, n: u8) -> u64 {
    (x.wrapping_add(ONES * u64::from(127 - n)) | x) & HIGHS
}

/// Some ASCII byte lies in `lo..=hi` (`hi` < 127; non-ASCII bytes are for [`any_above`]).
#[inline(always)]
fn any_in(x: u64, lo: u8, hi: u8) -> u64 {
    let y = x & !HIGHS;
    y.wrapping_add(ONES * u64::from(128 - lo)) & !y.wrapping_add(ONES * u64::from(127 - hi)) & HIGHS
}

/// Whether `test` flags any byte of `b` (at least 8 bytes long): whole words, the last one ending at
/// the end of `b` (overlapping bytes already tested).
#[inline(always)]
fn any_word(b: &[u8], test: impl Fn(u64) -> u64) -> bool {
    debug_assert!(b.len() >= 8);
    let word = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
    let mut flags = 0;
    let mut i = 0;
    while i + 8 < b.len() {
        flags |= test(word(i));
        i += 8;
    }
    flags |= test(word(b.len() - 8));
    flags != 0
}

/// The usual remote name, accepted without the byte table: `http://` or `https://`, something
/// not starting with `/` after it, at most MAX_PATH bytes (so no segment is too long), and only
/// printable ASCII other than space, `*` and `?`. `false` means "not decided here".
#[inline]
fn plain_http(remote: &str) -> bool {
    let b = remote.as_bytes();
    (8..=MAX_LOCAL_NAME).contains(&b.len())
        && http_rest(remote).is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'))
        && !any_word(b, |x| {
            any_above(x, 0x7E) | any_below(x, 0x21) | any_eq(x, b'*') | any_eq(x, b'?')
        })
}

/// The usual local name, accepted without the byte table: a drive path (`C:\` or `C:/`) of 10 to
/// MAX_PATH bytes whose bytes after the drive's colon are printable ASCII other than `*`, `"`, `|`
/// and `:` … `?` (colon, `;`, `<`, `=`, `>`, `?`: `;` and `=` are allowed, but rare enough to leave
/// to the exact check). `false` means "not decided here".
#[inline]
fn plain_drive_path(local: &str) -> bool {
    let b = local.as_bytes();
    (10..=MAX_LOCAL_NAME).contains(&b.len())
        && b[0].is_ascii_alphabetic()
        && b[1] == b':'
        && (b[2] == b'\\' || b[2] == b'/')
        && !any_word(&b[2..], |x| {
            any_above(x, 0x7E)
                | any_below(x, 0x20)
                | any_eq(x, b'*')
                | any_eq(x, b'"')
                | any_eq(x, b'|')
                | any_in(x, b':', b'?')
        })
}

/// Spec §2.6: a remote name BITS accepts (http/https URL, or an SMB path for download and upload jobs).
pub(crate) fn valid_remote(remote: &str, job_type: JobType) -> bool {
    if plain_http(remote) {
        return true;
    }
    let classes = byte_classes(remote);
    let (len, bad_char) = if classes & NON_ASCII == 0 {
        // ASCII: one UTF-16 unit per byte, and the byte classes decide as the `char` scan below.
        let question = classes & QUESTION != 0 && !remote.contains("://");
        (
            remote.len(),
            classes & (CONTROL | SPACE | STAR) != 0 || question,
        )
    } else {
        let bad = |c: char| {
            c.is_control() || c.is_whitespace() || c == '*' || c == '?' && !remote.contains("://")
        };
        (wide_len(remote), remote.chars().any(bad))
    };
    if remote.is_empty() || len > MAX_REMOTE_NAME || bad_char {
        return false;
    }
    if let Some(rest) = http_rest(remote) {
        return !rest.is_empty() && !rest.starts_with('/') && segments_fit(rest, &['/']);
    }
    // SMB: UNC path, drive path or file:// URL; never for upload-reply jobs (spec §7).
    let smb = remote.starts_with("\\\\") && remote.len() > 2
        || starts_with_ignore_ascii_case(remote, "file://") && remote.len() > 7
        || is_drive_path(remote);
    smb && job_type != JobType::UploadReply && segments_fit(remote, &['/', '\\'])
}

/// [`valid_remote`] with its answer kept in `memo`, a byte kept with the URL (the world's remotes
/// keep one per URL): two bits per job type, "known" and "valid". The answer depends on the name
/// and the job type only, so a URL that many jobs add (the usual updater) is checked once per type.
#[inline]
pub(crate) fn valid_remote_memo(remote: &str, job_type: JobType, memo: &mut u8) -> bool {
    let shift = match job_type {
        JobType::Download => 0,
        JobType::Upload => 2,
        JobType::UploadReply => 4,
    };
    if *memo >> shift & 1 != 0 {
        return *memo >> shift & 2 != 0;
    }
    let valid = valid_remote(remote, job_type);
    *memo |= (1 | u8::from(valid) << 1) << shift;
    valid
}

/// What follows `http://` or `https://` (any ASCII case) at the start of `s`, if one is there:
/// "http" compared once for both schemes.
fn http_rest(s: &str) -> Option<&str> {
    let b = s.as_bytes();
    if let Some(head) = b.first_chunk::<8>() {
        // The usual URL: its first eight bytes as one word. `| 0x20` maps exactly the upper- and
        // lower-case forms of the letters `h`, `t`, `p` and `s` to the lower-case one.
        let w = u64::from_le_bytes(*head);
        const HTTP: u64 = u32::from_le_bytes(*b"http") as u64;
        const SEP: u64 = u32::from_le_bytes(*b"://\0") as u64;
        if (w | 0x2020_2020) & 0xFFFF_FFFF != HTTP {
            return None;
        }
        if (w >> 32) & 0xFF_FFFF == SEP {
            return Some(&s[7..]);
        }
        return ((w >> 32 | 0x20) & 0xFF == u64::from(b's') && w >> 40 == SEP).then(|| &s[8..]);
    }
    if b.len() < 7 || !b[..4].eq_ignore_ascii_case(b"http") {
        return None;
    }
    if &b[4..7] == b"://" {
        return Some(&s[7..]);
    }
    // `| 0x20` maps exactly `S` and `s` to `s`.
    (b.len() >= 8 && b[4] | 0x20 == b's' && &b[5..8] == b"://").then(|| &s[8..])
}

/// `C:\…` or `C:/…` with something after the separator: an SMB remote name as a drive path (§2.6,
/// BG_FILE_INFO).
fn is_drive_path(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() > 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && (b[2] == b'\\' || b[2] == b'/')
}

/// §2.6 (BG_FILE_INFO): every segment of a remote name (between separators) is at most MAX_PATH
/// UTF-16 units, else E_INVALIDARG.
fn segments_fit(s: &str, separators: &[char]) -> bool {
    if s.len() <= MAX_LOCAL_NAME {
        return true; // no segment can be longer than the whole
    }
    s.split(separators)
        .all(|seg| wide_len(seg) <= MAX_LOCAL_NAME)
}

/// Spec §2.6: a local name must be a full path (drive or UNC), at most MAX_PATH, no wildcards, no
/// `\\?\` prefix, no NTFS stream, and it must name a file (D98).
pub(crate) fn valid_local(local: &str) -> bool {
    if plain_drive_path(local) {
        return !ends_at_folder(local.as_bytes());
    }
    // The first two bytes apart: a colon after them is an NTFS stream (found in the same pass).
    let (head, tail) = local.as_bytes().split_at(local.len().min(2));
    let tail_classes = bytes_classes(tail);
    let classes = bytes_classes(head) | tail_classes;
    let (len, bad_char) = if classes & NON_ASCII == 0 {
        (
            local.len(),
            classes & (CONTROL | STAR | QUESTION | LOCAL_ONLY) != 0,
        )
    } else {
        let bad = |c: char| c.is_control() || matches!(c, '*' | '?' | '"' | '<' | '>' | '|');
        (wide_len(local), local.chars().any(bad))
    };
    if local.is_empty() || len > MAX_LOCAL_NAME || local.starts_with("\\\\?\\") || bad_char {
        return false;
    }
    let b = local.as_bytes();
    let drive = b.len() >= 3
        && b[0].is_ascii_alphabetic()
        && b[1] == b':'
        && (b[2] == b'\\' || b[2] == b'/');
    let unc = local.starts_with("\\\\") && local.len() > 2;
    let rest_has_colon = if drive {
        tail_classes & COLON != 0
    } else {
        classes & COLON != 0
    };
    (drive || unc) && !rest_has_colon && !ends_at_folder(b) && (!unc || unc_has_file(local))
}

/// D98: the name ends at a folder, not a file: its last segment is empty once the trailing dots and
/// spaces Windows cuts are gone (`C:\dl\`, `C:\dl\.`, `C:\dl\..`, `C:\dl\. .`). A look at the
/// name's last bytes: no allocation.
#[inline(always)]
fn ends_at_folder(b: &[u8]) -> bool {
    let mut i = b.len();
    while i > 0 && matches!(b[i - 1], b'.' | b' ') {
        i -= 1;
    }
    i == 0 || matches!(b[i - 1], b'\\' | b'/')
}

/// D98: a UNC name names a file below its share (`\\host\share\file`), not the host or the share.
fn unc_has_file(local: &str) -> bool {
    local[2..]
        .split(['\\', '/'])
        .filter(|s| !s.is_empty())
        .nth(2)
        .is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The memo answers as `valid_remote` does, for every job type, first time and after, in
    /// any order of job types.
    #[test]
    fn valid_remote_memo_answers_as_valid_remote() {
        let types = [JobType::Download, JobType::Upload, JobType::UploadReply];
        for url in [
            "https://example.test/a.bin",
            "http://x",
            "https://a b",
            "ftp://x/y",
            "\\\\server\\share\\f",
            "C:\\f",
            "https:///x",
            "",
        ] {
            for order in [[0, 1, 2], [2, 1, 0], [1, 0, 2]] {
                let mut memo = 0u8;
                for _ in 0..2 {
                    for &t in &order {
                        let t = types[t];
                        assert_eq!(
                            valid_remote_memo(url, t, &mut memo),
                            valid_remote(url, t),
                            "{url:?} {t:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn http_rest_matches_the_prefix_compare() {
        for url in [
            "https://a",
            "HTTPS://a",
            "HtTp://a",
            "http://",
            "https:/a",
            "http:/",
            "httpx://a",
            "httpS://a",
            "http",
            "ftp://a",
            "https//a",
            "hTTps://x/y",
            "http://é",
            "httq://a",
            "http:/xy",
            "HTTP://abc",
            "https:/ab",
            "https:xxx",
            "httpS:/ab",
            "http;//ab",
            "hTtP\u{00e9}://",
            "Https://",
            "http://abcdefgh",
            "https://abcdefgh",
            "https\0//abcd",
        ] {
            let old = ["http://", "https://"]
                .iter()
                .find(|p| starts_with_ignore_ascii_case(url, p))
                .map(|p| &url[p.len()..]);
            assert_eq!(http_rest(url), old, "{url}");
        }
    }

    /// The word tests say "some byte passes" exactly when one does: every pair of byte values at
    /// every pair of places, the other bytes a filler that passes none of the tests.
    #[test]
    fn word_tests_find_exactly_the_bytes_they_look_for() {
        /// A word test, and the byte predicate it stands for.
        type Case = (&'static str, fn(u64) -> u64, fn(u8) -> bool);
        let tests: [Case; 6] = [
            ("above 7E", |x| any_above(x, 0x7E), |c| c > 0x7E),
            ("below 21", |x| any_below(x, 0x21), |c| c < 0x21),
            ("below 20", |x| any_below(x, 0x20), |c| c < 0x20),
            ("star", |x| any_eq(x, b'*'), |c| c == b'*'),
            ("zero", any_zero, |c| c == 0),
            (
                "in : ..= ?",
                |x| any_in(x, b':', b'?'),
                |c| (b':'..=b'?').contains(&c),
            ),
        ];
        for (name, test, wants) in tests {
            for (p, q) in [(0, 1), (0, 7), (3, 4), (6, 7), (7, 2)] {
                for a in 0..=255u8 {
                    for b in 0..=255u8 {
                        let mut w = [b'a'; 8];
                        w[p] = a;
                        w[q] = b;
                        let x = u64::from_le_bytes(w);
                        let any = w.iter().any(|&c| wants(c));
                        // `any_in` only answers for ASCII bytes (the others are for `any_above`).
                        if name.starts_with("in") && (a >= 0x80 || b >= 0x80) {
                            continue;
                        }
                        assert_eq!(test(x) != 0, any, "{name}: {w:?}");
                    }
                }
            }
        }
    }

    /// The table-free paths accept the usual names and leave everything else to the exact checks.
    #[test]
    fn spec_2_6_plain_names_take_the_word_path() {
        for url in [
            "https://example.test/pkg/update-1.2.3.bin",
            "http://a/b",
            "HTTPS://x.test/y",
        ] {
            assert!(plain_http(url), "{url}");
            assert!(valid_remote(url, JobType::Download));
        }
        for url in [
            "https://x.test/a?b=1",
            "https://x.test/a b",
            "https://x.test/a*",
            "https:///x",
            "https://x.test/é",
            "https://x.test/\u{7F}",
            "ftp://x.test/abc",
        ] {
            assert!(!plain_http(url), "{url}");
            assert_eq!(
                valid_remote(url, JobType::Download),
                reference::valid_remote(url, JobType::Download),
                "{url}"
            );
        }
        for local in [
            "C:\\ProgramData\\updater\\update-1.2.3.bin",
            "z:/dir/file.bin",
        ] {
            assert!(plain_drive_path(local), "{local}");
            assert!(valid_local(local));
        }
        for local in [
            "C:\\dir\\a;b=c.bin",
            "C:\\dir\\a:stream",
            "C:\\dir\\a<b.bin",
            "C:\\dir\\a\"b.bin",
            "C:\\dir\\a|b.bin",
            "C:\\dir\\a?b.bin",
            "C:\\dir\\tab\tx",
            "C:\\dir\\é.bin",
            "C::\\dir\\file",
            "\\\\server\\share\\f",
            "C:\\a.bin",
        ] {
            assert!(!plain_drive_path(local), "{local}");
            assert_eq!(valid_local(local), reference::valid_local(local), "{local}");
        }
        assert!(valid_local("C:\\dir\\a;b=c.bin"), "`;` and `=` are allowed");
        // What the word paths accept, the exact checks accept: every printable ASCII byte at the
        // start, middle and end of the part after the scheme or drive, for every job type.
        for c in (0x00u8..0x80).map(char::from).chain(['é', '\u{80}']) {
            for (pre, post) in [("", "abcdefgh"), ("abcd", "efgh"), ("abcdefgh", "")] {
                let url = format!("https://{pre}{c}{post}");
                if plain_http(&url) {
                    for t in [JobType::Download, JobType::Upload, JobType::UploadReply] {
                        assert!(reference::valid_remote(&url, t), "{url:?} {t:?}");
                    }
                }
                let local = format!("C:\\{pre}{c}{post}");
                if plain_drive_path(&local) {
                    // Accepted but for D98's look at the last bytes (a name ending at a folder).
                    assert_eq!(
                        valid_local(&local),
                        reference::valid_local(&local),
                        "{local:?}"
                    );
                }
                // And the word path decides every printable byte but the ones it leaves to
                // the exact check (`;` and `=` allowed there, the others refused).
                let left = matches!(c, '*' | '"' | '|' | ':'..='?') || !(' '..='~').contains(&c);
                assert_eq!(plain_drive_path(&local), !left, "{local:?}");
            }
        }
    }

    #[test]
    fn d14_display_name_and_description_limits() {
        assert!(valid_display_name(&"a".repeat(256)));
        assert!(!valid_display_name(&"a".repeat(257)));
        assert!(valid_display_name(&"é".repeat(256)));
        // Over 256 bytes but at most 256 UTF-16 units: 200 two-byte and 56 one-byte characters
        // (456 bytes), and four-byte characters (two units each).
        let mixed = format!("{}{}", "é".repeat(200), "a".repeat(56));
        assert!(mixed.len() > 256 && valid_display_name(&mixed));
        assert!(!valid_display_name(&format!("{mixed}a")));
        assert!(valid_display_name(&"😀".repeat(128)));
        assert!(!valid_display_name(&"😀".repeat(129)));
        for s in ["", "a", "é", "😀", "日本", "a😀é"] {
            let n = s.encode_utf16().count();
            for max in 0..8 {
                assert_eq!(fits_wide(s, max), n <= max, "{s:?} {max}");
            }
        }
        assert!(valid_description(&"a".repeat(1024)));
        assert!(!valid_description(&"a".repeat(1025)));
    }

    #[test]
    fn spec_2_6_remote_names() {
        assert!(valid_remote(
            "https://example.test/a.bin",
            JobType::Download
        ));
        assert!(valid_remote("http://example.test/a?x=1", JobType::Download));
        assert!(valid_remote("\\\\server\\share\\a.bin", JobType::Upload));
        assert!(!valid_remote(
            "\\\\server\\share\\a.bin",
            JobType::UploadReply
        ));
        assert!(!valid_remote("ftp://example.test/a", JobType::Download));
        assert!(!valid_remote("https://", JobType::Download));
        assert!(!valid_remote("https://ex ample.test/", JobType::Download));
        assert!(!valid_remote("", JobType::Download));
        assert!(!valid_remote(
            &format!("https://x.test/{}", "a".repeat(2200)),
            JobType::Download
        ));
        // BG_FILE_INFO: a drive path is an SMB remote name (not for upload-reply, §7).
        assert!(valid_remote("C:\\data\\a.bin", JobType::Download));
        assert!(valid_remote("d:/data/a.bin", JobType::Upload));
        assert!(!valid_remote("C:\\data\\a.bin", JobType::UploadReply));
        assert!(!valid_remote("C:\\", JobType::Download));
        // Each segment at most MAX_PATH (260) UTF-16 units.
        let seg = |n: usize| format!("https://x.test/{}/b", "a".repeat(n));
        assert!(valid_remote(&seg(260), JobType::Download));
        assert!(!valid_remote(&seg(261), JobType::Download));
        assert!(!valid_remote(
            &format!("\\\\server\\share\\{}", "é".repeat(261)),
            JobType::Download
        ));
    }

    #[test]
    fn spec_2_6_local_names() {
        assert!(valid_local("C:\\tmp\\a.bin"));
        assert!(valid_local("\\\\server\\share\\a.bin"));
        assert!(!valid_local("a.bin"));
        assert!(!valid_local("tmp\\a.bin"));
        assert!(!valid_local("C:\\tmp\\*.bin"));
        assert!(!valid_local("\\\\?\\C:\\a"));
        assert!(!valid_local("C:\\a.bin:stream"));
        assert!(
            !valid_local("C::\\a.bin"),
            "a colon right after the drive's"
        );
        assert!(
            !valid_local("\\\\server\\share:x\\a.bin"),
            "a colon in a UNC path"
        );
        assert!(!valid_local("C:\\é\\a.bin:s"), "non-ASCII with a stream");
        assert!(valid_local("C:\\é\\a.bin"));
        assert!(!valid_local("é:\\a.bin"));
        assert!(!valid_local(&format!("C:\\{}", "a".repeat(258))));
    }

    /// D98: a local name that names a folder and no file (a trailing separator, a last segment of
    /// dots and spaces only, a UNC host or share) is refused, on the fast path and off it.
    #[test]
    fn d98_local_name_must_name_a_file() {
        for folder in [
            "C:\\",
            "C:/",
            "C:\\dl\\",
            "C:\\downloads\\",
            "C:/downloads/",
            "C:\\downloads\\.",
            "C:\\downloads\\..",
            "C:\\downloads\\. .",
            "C:\\é\\",
            "\\\\server\\share\\dl\\",
            "\\\\server\\share",
            "\\\\server\\share\\",
            "\\\\server",
        ] {
            assert!(!valid_local(folder), "{folder:?}");
        }
        for file in [
            "C:\\dl\\a",
            "C:\\downloads\\a.bin.",
            "C:\\downloads\\.hidden",
            "\\\\server\\share\\a",
        ] {
            assert!(valid_local(file), "{file:?}");
        }
    }

    /// The name checks as first written (char scans, allocating lower-case prefix): the fast paths
    /// must decide exactly as these do.
    mod reference {
        use super::super as defaults;
        use crate::JobType;

        pub fn wide_len(s: &str) -> usize {
            s.encode_utf16().count()
        }

        pub fn valid_remote(remote: &str, job_type: JobType) -> bool {
            if remote.is_empty()
                || wide_len(remote) > defaults::MAX_REMOTE_NAME
                || remote.chars().any(|c| {
                    c.is_control()
                        || c.is_whitespace()
                        || c == '*'
                        || c == '?' && !remote.contains("://")
                })
            {
                return false;
            }
            let lower = remote.get(..8).unwrap_or(remote).to_ascii_lowercase();
            let http = ["http://", "https://"]
                .iter()
                .find(|p| lower.starts_with(*p))
                .map(|p| &remote[p.len()..]);
            let fits = |s: &str, seps: &[char]| {
                s.split(seps)
                    .all(|seg| seg.encode_utf16().count() <= defaults::MAX_LOCAL_NAME)
            };
            if let Some(rest) = http {
                return !rest.is_empty() && !rest.starts_with('/') && fits(rest, &['/']);
            }
            let b = remote.as_bytes();
            let drive = b.len() > 3
                && b[0].is_ascii_alphabetic()
                && b[1] == b':'
                && (b[2] == b'\\' || b[2] == b'/');
            let smb = remote.starts_with("\\\\") && remote.len() > 2
                || lower.starts_with("file://") && remote.len() > 7
                || drive;
            smb && job_type != JobType::UploadReply && fits(remote, &['/', '\\'])
        }

        pub fn valid_local(local: &str) -> bool {
            if local.is_empty()
                || wide_len(local) > defaults::MAX_LOCAL_NAME
                || local.starts_with("\\\\?\\")
            {
                return false;
            }
            if local
                .chars()
                .any(|c| c.is_control() || matches!(c, '*' | '?' | '"' | '<' | '>' | '|'))
            {
                return false;
            }
            let b = local.as_bytes();
            let drive = b.len() >= 3
                && b[0].is_ascii_alphabetic()
                && b[1] == b':'
                && (b[2] == b'\\' || b[2] == b'/');
            let unc = local.starts_with("\\\\") && local.len() > 2;
            let rest_has_colon = if drive {
                local[2..].contains(':')
            } else {
                local.contains(':')
            };
            // D98: the last segment, trailing dots and spaces cut, names a file; a UNC name has
            // one below its share.
            let last = local.rsplit(['\\', '/']).next().unwrap_or("");
            let names_file = !last.trim_end_matches(['.', ' ']).is_empty();
            let below_share = !unc
                || local[2..]
                    .split(['\\', '/'])
                    .filter(|s| !s.is_empty())
                    .count()
                    >= 3;
            (drive || unc) && !rest_has_colon && names_file && below_share
        }

        pub fn protocol_is_http(remote: &str) -> bool {
            let lower = remote.get(..8).unwrap_or(remote).to_ascii_lowercase();
            lower.starts_with("http://") || lower.starts_with("https://")
        }
    }

    /// Names built from pieces that matter to the checks: schemes in any case, separators, wildcards,
    /// controls, whitespace (ASCII and not), non-ASCII letters, and lengths near the limits.
    fn name() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let piece = prop_oneof![
            Just("http://".to_string()),
            Just("HTTPS://".to_string()),
            Just("hTtP://".to_string()),
            Just("file://".to_string()),
            Just("FILE://".to_string()),
            Just("\\\\".to_string()),
            Just("\\\\?\\".to_string()),
            Just("C:\\".to_string()),
            Just("z:/".to_string()),
            Just("/".to_string()),
            Just(":".to_string()),
            Just("?".to_string()),
            Just("*".to_string()),
            Just("<>|\"".to_string()),
            Just(" ".to_string()),
            Just("\t".to_string()),
            Just("\u{0B}".to_string()),
            Just("\u{7F}".to_string()),
            Just("\u{85}".to_string()),
            Just("\u{A0}".to_string()),
            Just("\u{3000}".to_string()),
            Just("é".to_string()),
            Just("日本".to_string()),
            Just("😀".to_string()),
            "[a-zA-Z0-9._-]{1,12}",
            // Any printable ASCII: what the word-at-a-time paths accept or leave to the exact checks.
            "[!-~]{1,4}",
            (0usize..3).prop_map(|i| "a".repeat([250, 2190, 40][i])),
        ];
        proptest::collection::vec(piece, 0..6).prop_map(|v| v.concat())
    }

    proptest::proptest! {
        #![proptest_config(crate::proptest_config::config(256))]

        #[test]
        fn fast_name_checks_decide_as_the_reference(s in name()) {
            for t in [JobType::Download, JobType::Upload, JobType::UploadReply] {
                proptest::prop_assert_eq!(valid_remote(&s, t), reference::valid_remote(&s, t));
            }
            proptest::prop_assert_eq!(valid_local(&s), reference::valid_local(&s));
            proptest::prop_assert_eq!(wide_len(&s), reference::wide_len(&s));
            proptest::prop_assert_eq!(
                crate::record::Protocol::of(&s) == crate::record::Protocol::Http,
                reference::protocol_is_http(&s)
            );
        }
    }
}
