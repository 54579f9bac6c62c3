//! A JSON tree that remembers where each value starts in the source text.
//!
//! This module reads the text into a small tree whose nodes keep their byte offset and whose objects
//! keep their keys in file order (the `users` order matters) and report duplicate keys. The reader
//! accepts exactly JSON's grammar (RFC 8259: the four whitespace bytes, numbers, escapes, nothing after
//! the value), so a text it reads is one serde_json accepts too; only when it stops does serde_json
//! read the text, and a syntax error is serde_json's message with its line and column, as when
//! serde_json checked every file first (that pass cost as much as a fifth of loading a scenario). The loader walks that tree with JSON pointers, so
//! every semantic error can name both the pointer and the line and column it points at.
//!
//! The tree borrows from the text: keys, strings and numbers are slices of it, and only a string
//! holding an escape is decoded into an owned copy (`Cow`). Each array and object allocates one
//! vector of exactly its length (its items are gathered on a stack shared by the whole read first).
//! Building the tree and dropping it was most of the cost of loading a scenario when every key and
//! string was a `String` of its own.
//!
//! Nesting is bounded: arrays and objects may be nested at most [`MAX_DEPTH`] (128) deep. Scenario
//! files never need more than about 8 levels (file → world → remotes → URL → responses → response);
//! the bound keeps the recursive reader (and the recursive drop of the tree) far from the stack's end
//! on any thread, and matches serde_json's own default recursion limit. Deeper text is refused with
//! its line, column and JSON pointer.

use std::borrow::Cow;
use std::fmt::Write as _;

/// A JSON value with the byte offset where it starts, borrowing from the text `'t`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Node<'t> {
    pub kind: Kind<'t>,
    pub pos: usize,
}

/// One member of an object: key, offset of the key, value.
pub(crate) type Member<'t> = (Cow<'t, str>, usize, Node<'t>);

/// The value itself.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Kind<'t> {
    Null,
    Bool(bool),
    /// The number exactly as written (so that `1.0`, `-1` and `1e30` can be told apart from integers).
    Num(&'t str),
    /// The string's value: a slice of the text, or decoded when it holds an escape.
    Str(Cow<'t, str>),
    Arr(Vec<Node<'t>>),
    /// Members in file order.
    Obj(Vec<Member<'t>>),
}

impl Kind<'_> {
    /// How an error message names this kind of value.
    pub fn describe(&self) -> String {
        match self {
            Kind::Null => "null".to_string(),
            Kind::Bool(b) => format!("the boolean {b}"),
            Kind::Num(n) => format!("the number {}", number(n)),
            Kind::Str(s) => format!("the string {}", quote(s)),
            Kind::Arr(_) => "an array".to_string(),
            Kind::Obj(_) => "an object".to_string(),
        }
    }
}

/// The longest string value a message shows, in characters; longer ones are cut and say so.
pub(crate) const SHOWN_CHARS: usize = 80;

/// The longest number a message shows, in characters (a number is written as is, up to this).
pub(crate) const SHOWN_DIGITS: usize = 40;

/// A string in double quotes, escaped like JSON and cut when very long (for messages).
pub(crate) fn quote(s: &str) -> String {
    let count = s.chars().count();
    let shown: String = s.chars().take(SHOWN_CHARS).collect();
    let mut out = serde_json::to_string(&shown).unwrap_or_else(|_| format!("\"{shown}\""));
    if count > SHOWN_CHARS {
        out.insert(out.len() - 1, '…');
        let _ = write!(out, " ({count} characters, the first {SHOWN_CHARS} shown)");
    }
    out
}

/// A number exactly as written, cut when very long (for messages).
pub(crate) fn number(raw: &str) -> String {
    if raw.len() <= SHOWN_DIGITS {
        return raw.to_string();
    }
    // Number text is ASCII (serde_json accepted it), so byte offsets are character offsets.
    format!(
        "{}… (a number of {} characters, the first {SHOWN_DIGITS} shown)",
        &raw[..SHOWN_DIGITS],
        raw.len()
    )
}

/// `s` for human output: control characters and the Unicode characters that break or reorder lines
/// (line and paragraph separators, bidirectional overrides, zero-width and BOM) are written as escapes
/// (`\n`, `\t`, `\r`, else `\u{…}`), so that a name or path can never start a line of its own or
/// disguise what follows. Other text, backslashes included, is kept as is.
pub(crate) fn escape_text(s: &str) -> std::borrow::Cow<'_, str> {
    fn hidden(c: char) -> bool {
        c.is_control()
            || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
    }
    if !s.chars().any(hidden) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if hidden(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Escape one reference token of a JSON pointer (RFC 6901: `~` → `~0`, `/` → `~1`).
pub(crate) fn pointer_token(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    push_pointer_token(&mut out, key);
    out
}

/// Append `/` and the escaped `key` to the JSON pointer `out` (RFC 6901), allocating nothing when
/// `out` has room. The loader builds a pointer for every field it converts, so this stays cheap.
pub(crate) fn push_pointer_token(out: &mut String, key: &str) {
    if !key.bytes().any(|b| b == b'~' || b == b'/') {
        out.push_str(key);
        return;
    }
    for c in key.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
}

/// Append the array index `i` (decimal) to a JSON pointer, without the formatting machinery (the
/// loader names every step by its index).
pub(crate) fn push_index(out: &mut String, i: usize) {
    let mut digits = [0u8; 20];
    let mut n = i;
    let mut k = digits.len();
    loop {
        k -= 1;
        digits[k] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[k..] {
        out.push(char::from(d));
    }
}

/// `ptr` + `/` + the escaped `key`: the pointer of member `key` of the object at `ptr`.
pub(crate) fn child_pointer(ptr: &str, key: &str) -> String {
    let mut out = String::with_capacity(ptr.len() + 1 + key.len());
    out.push_str(ptr);
    out.push('/');
    push_pointer_token(&mut out, key);
    out
}

/// The 1-based line and column (in characters) of byte offset `pos` in `text`.
pub(crate) fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let mut pos = pos.min(text.len());
    while !text.is_char_boundary(pos) {
        pos -= 1;
    }
    let before = &text[..pos];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[start..].chars().count() + 1;
    (line, col)
}

/// How deep arrays and objects may be nested (the top-level value is level 1).
pub const MAX_DEPTH: usize = 128;

/// Why the text is not JSON: serde_json's message with its line and column (and, for text nested
/// deeper than [`MAX_DEPTH`], the JSON pointer of the value that is one level too deep).
#[derive(Debug)]
pub(crate) struct SyntaxError {
    pub line: usize,
    pub column: usize,
    pub pointer: Option<String>,
    pub message: String,
}

/// Why the positioned reader stopped: the offset, and for a nesting error the pointer tokens
/// collected while unwinding (innermost first).
struct ReadError {
    pos: usize,
    too_deep: Option<Vec<String>>,
}

impl ReadError {
    fn at(pos: usize) -> ReadError {
        ReadError {
            pos,
            too_deep: None,
        }
    }

    /// Add the token of the enclosing member while the error unwinds.
    fn inside(mut self, token: impl FnOnce() -> String) -> ReadError {
        if let Some(tokens) = &mut self.too_deep {
            tokens.push(token());
        }
        self
    }
}

/// Parse `text` into a tree with positions. When the text is not JSON, serde_json's message says why.
pub(crate) fn parse(text: &str) -> Result<Node<'_>, SyntaxError> {
    let mut r = Reader {
        text,
        bytes: text.as_bytes(),
        i: 0,
        depth: 0,
        items: Vec::new(),
        members: Vec::new(),
    };
    let e = match r.document() {
        Ok(root) => return Ok(root),
        Err(e) => e,
    };
    // The reader stopped. What serde_json says comes first (the reader accepts nothing serde_json
    // refuses, so the two differ only past the nesting bound and for a lone surrogate escape).
    if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(text) {
        let mut message = e.to_string();
        // serde_json appends " at line L column C"; the caller prints the position itself.
        if let Some(i) = message.rfind(" at line ") {
            message.truncate(i);
        }
        return Err(SyntaxError {
            line: e.line(),
            column: e.column(),
            pointer: None,
            message,
        });
    }
    let (line, column) = line_col(text, e.pos);
    Err(match e.too_deep {
            Some(tokens) => SyntaxError {
                line,
                column,
                pointer: Some(tokens.iter().rev().fold(String::new(), |mut p, t| {
                    p.push('/');
                    p.push_str(t);
                    p
                })),
                message: format!(
                    "nested deeper than {MAX_DEPTH} levels of arrays and objects (scenarios need about 8)"
                ),
            },
            None => SyntaxError {
                line,
                column,
                pointer: None,
                message: "malformed JSON".to_string(),
            },
    })
}

/// A reader of JSON text (RFC 8259 exactly: what it accepts, serde_json accepts). It returns the offset
/// where it stopped, never panics.
struct Reader<'t> {
    text: &'t str,
    bytes: &'t [u8],
    i: usize,
    /// Arrays and objects open around the current position.
    depth: usize,
    /// The items of the arrays being read, innermost last: each array takes its own off the top when
    /// it closes, into a vector of exactly its length.
    items: Vec<Node<'t>>,
    /// The same for the members of the objects being read.
    members: Vec<Member<'t>>,
}

impl<'t> Reader<'t> {
    /// JSON's whitespace: space, tab, line feed, carriage return (not form feed).
    fn ws(&mut self) {
        while self
            .bytes
            .get(self.i)
            .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        {
            self.i += 1;
        }
    }

    /// The whole text: one value, then only whitespace.
    fn document(&mut self) -> Result<Node<'t>, ReadError> {
        let root = self.value()?;
        self.ws();
        if self.i != self.bytes.len() {
            return Err(ReadError::at(self.i));
        }
        Ok(root)
    }

    /// A number (`-`? `0` or digits not starting with `0`, then `.` digits?, then `e`/`E` sign?
    /// digits?), ending where its grammar ends; the offset of the first byte that breaks it.
    fn number(&mut self) -> Result<(), usize> {
        let b = self.bytes;
        let mut i = self.i;
        let digits = |i: &mut usize| {
            let from = *i;
            while b.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i - from
        };
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                digits(&mut i);
            }
            _ => return Err(i),
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            if digits(&mut i) == 0 {
                return Err(i);
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if digits(&mut i) == 0 {
                return Err(i);
            }
        }
        self.i = i;
        Ok(())
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.i).copied()
    }

    fn eat(&mut self, b: u8) -> Result<(), ReadError> {
        self.ws();
        if self.peek() == Some(b) {
            self.i += 1;
            Ok(())
        } else {
            Err(ReadError::at(self.i))
        }
    }

    fn value(&mut self) -> Result<Node<'t>, ReadError> {
        self.ws();
        let pos = self.i;
        let kind = match self.peek() {
            Some(b'{' | b'[') if self.depth >= MAX_DEPTH => {
                return Err(ReadError {
                    pos,
                    too_deep: Some(Vec::new()),
                })
            }
            Some(b'{') => {
                self.depth += 1;
                let k = self.object()?;
                self.depth -= 1;
                k
            }
            Some(b'[') => {
                self.depth += 1;
                let k = self.array()?;
                self.depth -= 1;
                k
            }
            Some(b'"') => Kind::Str(self.string().map_err(ReadError::at)?),
            Some(b't') => self.word("true", Kind::Bool(true))?,
            Some(b'f') => self.word("false", Kind::Bool(false))?,
            Some(b'n') => self.word("null", Kind::Null)?,
            Some(b'-' | b'0'..=b'9') => {
                let start = self.i;
                self.number().map_err(ReadError::at)?;
                Kind::Num(&self.text[start..self.i])
            }
            _ => return Err(ReadError::at(self.i)),
        };
        Ok(Node { kind, pos })
    }

    fn word(&mut self, w: &str, kind: Kind<'t>) -> Result<Kind<'t>, ReadError> {
        if self.text[self.i..].starts_with(w) {
            self.i += w.len();
            Ok(kind)
        } else {
            Err(ReadError::at(self.i))
        }
    }

    fn string(&mut self) -> Result<Cow<'t, str>, usize> {
        let start = self.i;
        let text = self.text;
        let bytes = text.as_bytes();
        let mut i = start + 1; // after the opening quote
                               // Plain: no escape and no control character, so the text between the quotes is the value.
                               // Simple: escapes of one character only (`\\` in a Windows path), no control character.
        let mut plain = true;
        let mut simple = true;
        loop {
            let rest = bytes.get(i..).ok_or(start)?;
            let k = string_stop(rest).ok_or(start)?;
            i += k;
            match bytes[i] {
                b'"' => {
                    i += 1;
                    break;
                }
                b'\\' => {
                    plain = false;
                    simple &= matches!(
                        bytes.get(i + 1),
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't')
                    );
                    i += 2;
                }
                _ => {
                    plain = false;
                    simple = false;
                    i += 1;
                }
            }
        }
        self.i = i;
        let raw = text.get(start..self.i).ok_or(start)?;
        if plain {
            return Ok(Cow::Borrowed(&raw[1..raw.len() - 1]));
        }
        if simple {
            return Ok(Cow::Owned(unescape_simple(&raw[1..raw.len() - 1])));
        }
        // `\u` escapes (surrogate pairs) and control characters (refused): serde_json decides.
        serde_json::from_str::<String>(raw)
            .map(Cow::Owned)
            .map_err(|_| start)
    }

    fn array(&mut self) -> Result<Kind<'t>, ReadError> {
        self.eat(b'[')?;
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(Kind::Arr(Vec::new()));
        }
        let base = self.items.len();
        loop {
            let index = self.items.len() - base;
            let item = self.value().map_err(|e| e.inside(|| index.to_string()))?;
            self.items.push(item);
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(Kind::Arr(self.items.drain(base..).collect()));
                }
                _ => return Err(ReadError::at(self.i)),
            }
        }
    }

    fn object(&mut self) -> Result<Kind<'t>, ReadError> {
        self.eat(b'{')?;
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(Kind::Obj(Vec::new()));
        }
        let base = self.members.len();
        loop {
            self.ws();
            let key_pos = self.i;
            if self.peek() != Some(b'"') {
                return Err(ReadError::at(self.i));
            }
            let key = self.string().map_err(ReadError::at)?;
            self.eat(b':')?;
            let value = self.value().map_err(|e| e.inside(|| pointer_token(&key)))?;
            self.members.push((key, key_pos, value));
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Kind::Obj(self.members.drain(base..).collect()));
                }
                _ => return Err(ReadError::at(self.i)),
            }
        }
    }
}

/// The value of string content whose escapes are all of one character (`\"`, `\\`, `\/`, `\b`, `\f`,
/// `\n`, `\r`, `\t`; the reader checked that).
fn unescape_simple(content: &str) -> String {
    let mut out = String::with_capacity(content.len());
    let mut rest = content;
    while let Some(k) = rest.find('\\') {
        out.push_str(&rest[..k]);
        let Some(&e) = rest.as_bytes().get(k + 1) else {
            break;
        };
        out.push(match e {
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            other => char::from(other),
        });
        rest = &rest[k + 2..];
    }
    out.push_str(rest);
    out
}

/// The offset of the first byte of `bytes` that ends a plain run of string content: `"`, `\` or a
/// control character (below 0x20). Eight bytes at a time: in each 64-bit word the bytes equal to a
/// value, or below 0x20, set their high bit in a mask (the usual "has a zero byte" subtraction; a
/// borrow can only set bits above a byte that truly matches, so the lowest set bit is exact).
fn string_stop(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for c in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(c);
        let w = u64::from_le_bytes(word);
        let quote = w ^ (ONES * u64::from(b'"'));
        let backslash = w ^ (ONES * u64::from(b'\\'));
        let found = (quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (w.wrapping_sub(ONES * 0x20) & !w);
        let found = found & HIGH;
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map(|k| at + k)
}

/// A list of names for messages: `a, b or c`.
pub(crate) fn one_of(names: &[&str]) -> String {
    let mut s = String::new();
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            s.push_str(if i + 1 == names.len() { " or " } else { ", " });
        }
        let _ = write!(s, "{n}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_without_escapes_read_as_serde_json_reads_them() {
        for raw in [
            "\"\"",
            "\"plain\"",
            "\"Zo\u{eb} \u{1F600} C:/x\"",
            "\"a\\\"b\"",
            "\"tab\\tnew\\n\"",
            "\"bad\u{1}control\"",
            "\"C:\\\\dl\\\\a.bin\"",
            "\"\\\\\"",
            "\"\\/\\b\\f\\r\\\"\\\\x\\t\"",
            "\"\\u00e9 \\ud83d\\ude00 \\\\ \"",
            "\"lone \\ud800\"",
            "\"lone \\udc00 low\"",
            "\"bad \\x escape\"",
            "\"\\\"",
        ] {
            let ours = parse(raw).map(|n| n.kind);
            let theirs = serde_json::from_str::<String>(raw);
            match (ours, theirs) {
                (Ok(Kind::Str(a)), Ok(b)) => assert_eq!(a, b, "{raw:?}"),
                (Err(_), Err(_)) => {}
                (a, b) => panic!("{raw:?}: {a:?} vs {b:?}"),
            }
        }
    }

    #[test]
    fn keeps_order_positions_and_raw_numbers() {
        let text = "{\n  \"b\": 1.5,\n  \"a\": [true, null, \"x\\n\"]\n}";
        let n = parse(text).unwrap();
        let Kind::Obj(m) = &n.kind else { panic!() };
        assert_eq!(m[0].0, "b");
        assert_eq!(m[0].2.kind, Kind::Num("1.5"));
        assert_eq!(line_col(text, m[0].2.pos), (2, 8));
        assert_eq!(m[1].0, "a");
        let Kind::Arr(items) = &m[1].2.kind else {
            panic!()
        };
        assert_eq!(items[2].kind, Kind::Str("x\n".into()));
        assert_eq!(line_col(text, m[1].1), (3, 3));
    }

    #[test]
    fn plain_strings_borrow_the_text_and_escaped_ones_are_decoded() {
        let n = parse(r#"{"k": "plain", "e\u0041": "a\tb"}"#).unwrap();
        let Kind::Obj(m) = &n.kind else { panic!() };
        assert!(matches!(m[0].0, Cow::Borrowed("k")));
        assert!(matches!(&m[0].2.kind, Kind::Str(Cow::Borrowed("plain"))));
        assert!(matches!(&m[1].0, Cow::Owned(k) if k == "eA"));
        assert!(matches!(&m[1].2.kind, Kind::Str(Cow::Owned(v)) if v == "a\tb"));
    }

    /// Whether the reader alone (without serde_json) reads `text`.
    fn reads(text: &str) -> bool {
        Reader {
            text,
            bytes: text.as_bytes(),
            i: 0,
            depth: 0,
            items: Vec::new(),
            members: Vec::new(),
        }
        .document()
        .is_ok()
    }

    #[test]
    fn the_reader_accepts_what_serde_json_accepts_and_nothing_else() {
        for text in [
            "0",
            "-0",
            "1.5",
            "-12.25e+3",
            "1E5",
            "1e-0",
            "[]",
            "{}",
            " [1, \"a\", null] \r\n\t",
            "{\"a\": {\"b\": [true, false]}}",
            "\"\\u00e9\\n\\/\"",
            // refused by both
            "",
            " ",
            "01",
            "-",
            "1.",
            ".5",
            "1e",
            "1e+",
            "+1",
            "1 2",
            "[1,]",
            "{\"a\":1,}",
            "[1 2]",
            "{\"a\" 1}",
            "{1: 2}",
            "tru",
            "nul",
            "truex",
            "[",
            "]",
            "\"",
            "\"a",
            "\"\\x\"",
            "\"\\u12\"",
            "\"\u{1}\"",
            "\u{c}1",
            "1\u{c}",
            "\u{feff}1",
            "[1]x",
            "{} {}",
            "NaN",
            "Infinity",
            "-Infinity",
            "1.5.3",
            "0x10",
            "--1",
            "1e5e5",
        ] {
            let serde = serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok();
            assert_eq!(reads(text), serde, "{text:?}");
            assert_eq!(parse(text).is_ok(), serde, "{text:?}");
        }
    }

    proptest::proptest! {
        /// The word-at-a-time scan finds the same byte as a byte-by-byte one, for any bytes (UTF-8
        /// continuation bytes, DEL and 0x20 itself included).
        #[test]
        fn string_stop_finds_the_first_quote_backslash_or_control(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![
                    1 => proptest::prelude::Just(b'"'),
                    1 => proptest::prelude::Just(b'\\'),
                    1 => 0u8..0x20,
                    20 => 0x20u8..=0xFF,
                ],
                0..48,
            )
        ) {
            let naive = bytes.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
            proptest::prop_assert_eq!(string_stop(&bytes), naive);
        }

        /// Over short texts of JSON's punctuation, digits and letters: the reader reads a text exactly
        /// when serde_json accepts it (no `d`/`D`, so no surrogate escape can be formed).
        #[test]
        fn the_reader_agrees_with_serde_json_on_any_short_text(
            text in "[\\[\\]{}\",:0-9.eE+\\-\\\\ \t\n\r\u{c}truefalsenul/bu]{0,24}"
        ) {
            let serde = serde_json::from_str::<serde::de::IgnoredAny>(&text).is_ok();
            proptest::prop_assert_eq!(reads(&text), serde, "{:?}", text);
        }
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let e = parse("{\n  \"a\": 1,\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("EOF"), "{}", e.message);
    }

    #[test]
    fn nesting_up_to_the_limit_is_read() {
        let text = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        let mut n = &parse(&text).unwrap();
        let mut levels = 1;
        while let Kind::Arr(items) = &n.kind {
            let Some(first) = items.first() else { break };
            n = first;
            levels += 1;
        }
        assert_eq!(levels, MAX_DEPTH);
    }

    #[test]
    fn nesting_past_the_limit_names_line_column_and_pointer() {
        // Level 1 is the outer object, levels 2..=127 arrays, level 128 the object holding "k", whose
        // array is level 129: its pointer is the escaped key (RFC 6901), 126 indexes and "k", and the
        // error points at its opening bracket.
        let text = format!(
            "{{\n \"a/b\": {}{{\"k\": [1]}}{}}}",
            "[".repeat(MAX_DEPTH - 2),
            "]".repeat(MAX_DEPTH - 2)
        );
        let e = parse(&text).unwrap_err();
        assert_eq!(
            e.pointer.as_deref(),
            Some(format!("/a~1b{}/k", "/0".repeat(MAX_DEPTH - 2)).as_str())
        );
        assert_eq!((e.line, e.column), (2, 8 + (MAX_DEPTH - 2) + 6 + 1));
        assert!(e.message.contains("deeper than 128"), "{}", e.message);
    }

    #[test]
    fn very_deep_nesting_is_an_error_not_a_stack_overflow() {
        // A million levels: serde_json accepts the syntax, the positioned reader stops at the limit.
        let n = 1_000_000;
        let text = format!("{}{}", "[".repeat(n), "]".repeat(n));
        let e = parse(&text).unwrap_err();
        assert_eq!((e.line, e.column), (1, MAX_DEPTH + 1));
        assert_eq!(e.pointer.unwrap().len(), 2 * MAX_DEPTH);
    }

    #[test]
    fn indexes_are_written_in_decimal() {
        for i in [0, 7, 10, 99, 100, 12345, usize::MAX] {
            let mut p = String::from("/steps/");
            push_index(&mut p, i);
            assert_eq!(p, format!("/steps/{i}"));
        }
    }

    #[test]
    fn pointer_tokens_are_escaped() {
        assert_eq!(pointer_token("https://x/a~b"), "https:~1~1x~1a~0b");
    }

    #[test]
    fn quote_cuts_long_strings_and_says_the_limit() {
        let q = quote(&"a".repeat(200));
        assert_eq!(
            q,
            format!(
                "\"{}…\" (200 characters, the first 80 shown)",
                "a".repeat(80)
            )
        );
        assert_eq!(quote("a\nb"), "\"a\\nb\"");
    }

    #[test]
    fn long_numbers_are_cut_and_say_the_limit() {
        assert_eq!(number("12345"), "12345");
        let n = number(&"9".repeat(100_000));
        assert_eq!(
            n,
            format!(
                "{}… (a number of 100000 characters, the first 40 shown)",
                "9".repeat(40)
            )
        );
    }

    #[test]
    fn escape_text_keeps_every_line_on_its_line() {
        assert_eq!(escape_text("plain C:\\dl\\a.bin"), "plain C:\\dl\\a.bin");
        assert_eq!(
            escape_text("x\nPASS y\r\t\0\u{1b}[31m\u{2028}\u{202e}"),
            "x\\nPASS y\\r\\t\\u{0}\\u{1b}[31m\\u{2028}\\u{202e}"
        );
    }
}
