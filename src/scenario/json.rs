//! A JSON tree that remembers where each value starts in the source text.
//!
//! Scenario files are checked in two passes. serde_json first decides whether the text is JSON at all
//! (its messages carry line and column). This module then reads the same, now known-good, text into a
//! small tree whose nodes keep their byte offset and whose objects keep their keys in file order (the
//! `users` order matters) and report duplicate keys. The loader walks that tree with JSON pointers, so
//! every semantic error can name both the pointer and the line and column it points at.

use std::fmt::Write as _;

/// A JSON value with the byte offset where it starts.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Node {
    pub kind: Kind,
    pub pos: usize,
}

/// The value itself.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Kind {
    Null,
    Bool(bool),
    /// The number exactly as written (so that `1.0`, `-1` and `1e30` can be told apart from integers).
    Num(String),
    Str(String),
    Arr(Vec<Node>),
    /// Members in file order: key, offset of the key, value.
    Obj(Vec<(String, usize, Node)>),
}

impl Kind {
    /// How an error message names this kind of value.
    pub fn describe(&self) -> String {
        match self {
            Kind::Null => "null".to_string(),
            Kind::Bool(b) => format!("the boolean {b}"),
            Kind::Num(n) => format!("the number {n}"),
            Kind::Str(s) => format!("the string {}", quote(s)),
            Kind::Arr(_) => "an array".to_string(),
            Kind::Obj(_) => "an object".to_string(),
        }
    }
}

/// A string in double quotes, escaped like JSON and cut when very long (for messages).
pub(crate) fn quote(s: &str) -> String {
    const MAX: usize = 80;
    let shown: String = s.chars().take(MAX).collect();
    let mut out = serde_json::to_string(&shown).unwrap_or_else(|_| format!("\"{shown}\""));
    if s.chars().count() > MAX {
        out.insert(out.len() - 1, '…');
    }
    out
}

/// Escape one reference token of a JSON pointer (RFC 6901: `~` → `~0`, `/` → `~1`).
pub(crate) fn pointer_token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
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

/// Why the text is not JSON: serde_json's message with its line and column.
#[derive(Debug)]
pub(crate) struct SyntaxError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Parse `text`: serde_json decides validity; then the tree is read with positions.
pub(crate) fn parse(text: &str) -> Result<Node, SyntaxError> {
    if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(text) {
        let mut message = e.to_string();
        // serde_json appends " at line L column C"; the caller prints the position itself.
        if let Some(i) = message.rfind(" at line ") {
            message.truncate(i);
        }
        return Err(SyntaxError {
            line: e.line(),
            column: e.column(),
            message,
        });
    }
    let mut r = Reader {
        text,
        bytes: text.as_bytes(),
        i: 0,
    };
    r.value().map_err(|pos| {
        let (line, column) = line_col(text, pos);
        SyntaxError {
            line,
            column,
            message: "malformed JSON".to_string(),
        }
    })
}

/// A reader over text serde_json already accepted. It still returns errors (the offset) rather than
/// panicking, should the two ever disagree.
struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    i: usize,
}

impl Reader<'_> {
    fn ws(&mut self) {
        while self
            .bytes
            .get(self.i)
            .is_some_and(|b| b.is_ascii_whitespace())
        {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.i).copied()
    }

    fn eat(&mut self, b: u8) -> Result<(), usize> {
        self.ws();
        if self.peek() == Some(b) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.i)
        }
    }

    fn value(&mut self) -> Result<Node, usize> {
        self.ws();
        let pos = self.i;
        let kind = match self.peek() {
            Some(b'{') => self.object()?,
            Some(b'[') => self.array()?,
            Some(b'"') => Kind::Str(self.string()?),
            Some(b't') => self.word("true", Kind::Bool(true))?,
            Some(b'f') => self.word("false", Kind::Bool(false))?,
            Some(b'n') => self.word("null", Kind::Null)?,
            Some(b'-' | b'0'..=b'9') => {
                let start = self.i;
                while self
                    .peek()
                    .is_some_and(|b| matches!(b, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'))
                {
                    self.i += 1;
                }
                Kind::Num(self.text[start..self.i].to_string())
            }
            _ => return Err(self.i),
        };
        Ok(Node { kind, pos })
    }

    fn word(&mut self, w: &str, kind: Kind) -> Result<Kind, usize> {
        if self.text[self.i..].starts_with(w) {
            self.i += w.len();
            Ok(kind)
        } else {
            Err(self.i)
        }
    }

    fn string(&mut self) -> Result<String, usize> {
        let start = self.i;
        self.i += 1; // opening quote
        loop {
            match self.peek() {
                Some(b'"') => {
                    self.i += 1;
                    break;
                }
                Some(b'\\') => self.i += 2,
                Some(_) => self.i += 1,
                None => return Err(start),
            }
        }
        let raw = self.text.get(start..self.i).ok_or(start)?;
        serde_json::from_str::<String>(raw).map_err(|_| start)
    }

    fn array(&mut self) -> Result<Kind, usize> {
        self.eat(b'[')?;
        let mut items = Vec::new();
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(Kind::Arr(items));
        }
        loop {
            items.push(self.value()?);
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(Kind::Arr(items));
                }
                _ => return Err(self.i),
            }
        }
    }

    fn object(&mut self) -> Result<Kind, usize> {
        self.eat(b'{')?;
        let mut members = Vec::new();
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(Kind::Obj(members));
        }
        loop {
            self.ws();
            let key_pos = self.i;
            if self.peek() != Some(b'"') {
                return Err(self.i);
            }
            let key = self.string()?;
            self.eat(b':')?;
            let value = self.value()?;
            members.push((key, key_pos, value));
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Kind::Obj(members));
                }
                _ => return Err(self.i),
            }
        }
    }
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
    fn keeps_order_positions_and_raw_numbers() {
        let text = "{\n  \"b\": 1.5,\n  \"a\": [true, null, \"x\\n\"]\n}";
        let n = parse(text).unwrap();
        let Kind::Obj(m) = &n.kind else { panic!() };
        assert_eq!(m[0].0, "b");
        assert_eq!(m[0].2.kind, Kind::Num("1.5".into()));
        assert_eq!(line_col(text, m[0].2.pos), (2, 8));
        assert_eq!(m[1].0, "a");
        let Kind::Arr(items) = &m[1].2.kind else {
            panic!()
        };
        assert_eq!(items[2].kind, Kind::Str("x\n".into()));
        assert_eq!(line_col(text, m[1].1), (3, 3));
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let e = parse("{\n  \"a\": 1,\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("EOF"), "{}", e.message);
    }

    #[test]
    fn pointer_tokens_are_escaped() {
        assert_eq!(pointer_token("https://x/a~b"), "https:~1~1x~1a~0b");
    }

    #[test]
    fn quote_cuts_long_strings() {
        let q = quote(&"a".repeat(200));
        assert!(q.ends_with("…\""), "{q}");
    }
}
