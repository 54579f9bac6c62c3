//! The value conventions of part 2 of the scenario contract (`docs/scenario-format.md`,
//! "Conventions"): flags and GUIDs. Every part-2 field that takes flags or a GUID reads it here, so
//! the spellings accepted and the messages given are the same everywhere.

use super::json::{quote, Kind, Node};
use super::load::{at, integer, R};

pub(crate) use crate::properties::FlagNames;

/// A flags value: an integer (0 to 4294967295), a hex string `"0x800000FF"` (1–8 digits), a
/// constant name of `names`, or an array of names and hex strings, OR-ed. `what` names the field
/// in messages (e.g. "cost flags").
pub(crate) fn flags(n: &Node, ptr: &str, what: &str, names: FlagNames) -> R<u32> {
    match &n.kind {
        Kind::Num(_) => integer(n, ptr, u64::from(u32::MAX), what).map(|v| v as u32),
        Kind::Str(s) => flag_word(n, ptr, s, what, names),
        Kind::Arr(items) => {
            let mut bits = 0u32;
            for (i, item) in items.iter().enumerate() {
                let p = format!("{ptr}/{i}");
                match &item.kind {
                    Kind::Str(s) => bits |= flag_word(item, &p, s, what, names)?,
                    k => {
                        return at(
                            item,
                            &p,
                            format!(
                                "expected a {what} name or a hex string such as \"0x100\", found {}",
                                k.describe()
                            ),
                        )
                    }
                }
            }
            Ok(bits)
        }
        k => at(
            n,
            ptr,
            format!(
                "expected {what}: an integer, a hex string such as \"0x100\", a name ({}) or an array of them, found {}",
                name_list(names),
                k.describe()
            ),
        ),
    }
}

/// One word of a flags value: a hex string or a name.
fn flag_word(n: &Node, ptr: &str, s: &str, what: &str, names: FlagNames) -> R<u32> {
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        if (1..=8).contains(&hex.len()) && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(u32::from_str_radix(hex, 16).expect("1 to 8 hex digits fit in u32"));
        }
        return at(
            n,
            ptr,
            format!(
                "{} is not a hex {what} value: expected \"0x\" and 1 to 8 hex digits",
                quote(s)
            ),
        );
    }
    match names.iter().find(|(name, _)| *name == s) {
        Some((_, v)) => Ok(*v),
        None => at(
            n,
            ptr,
            format!(
                "unknown {what} name {}; expected {} or a hex string such as \"0x100\"",
                quote(s),
                name_list(names)
            ),
        ),
    }
}

/// The names of a flags table, for messages.
fn name_list(names: FlagNames) -> String {
    names.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
}

/// A GUID as written in scenario files: `{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}`, hex in either
/// case; all zeros is GUID_NULL. Returned as its 128-bit value (the text's digits in order).
pub(crate) fn guid(n: &Node, ptr: &str) -> R<u128> {
    let Kind::Str(s) = &n.kind else {
        return at(
            n,
            ptr,
            format!(
                "expected a GUID such as \"{{6e1ad6d4-0c3a-4b4e-9a55-2f1d3c4b5a69}}\", found {}",
                n.kind.describe()
            ),
        );
    };
    match parse_guid(s) {
        Some(v) => Ok(v),
        None => at(
            n,
            ptr,
            format!(
                "{} is not a GUID: expected {{8-4-4-4-12 hex digits}} in braces, such as \"{{6e1ad6d4-0c3a-4b4e-9a55-2f1d3c4b5a69}}\"",
                quote(s)
            ),
        ),
    }
}

/// The value of a braced GUID string, if it is one.
pub(crate) fn parse_guid(s: &str) -> Option<u128> {
    let inner = s.strip_prefix('{')?.strip_suffix('}')?;
    let groups: Vec<&str> = inner.split('-').collect();
    let lens = [8, 4, 4, 4, 12];
    if groups.len() != lens.len() {
        return None;
    }
    let mut v = 0u128;
    for (g, len) in groups.iter().zip(lens) {
        if g.len() != len || !g.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        v = (v << (4 * len)) | u128::from_str_radix(g, 16).ok()?;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::properties::show_guid;
    use crate::scenario::json::parse;

    const NAMES: FlagNames = &[("A", 0x1), ("B", 0x100), ("ALL", 0x101)];

    fn read(text: &str) -> R<u32> {
        flags(&parse(text).expect("test JSON"), "/f", "test flags", NAMES)
    }

    #[test]
    fn flags_accept_every_spelling_of_the_contract() {
        assert_eq!(read("257").unwrap(), 257);
        assert_eq!(read("4294967295").unwrap(), u32::MAX);
        assert_eq!(read("\"0x800000FF\"").unwrap(), 0x8000_00FF);
        assert_eq!(read("\"0Xa\"").unwrap(), 10);
        assert_eq!(read("\"B\"").unwrap(), 0x100);
        assert_eq!(read("[\"A\", \"0x10\", \"B\"]").unwrap(), 0x111);
        assert_eq!(read("[]").unwrap(), 0);
    }

    #[test]
    fn flags_refuse_what_the_contract_does_not_allow() {
        for bad in [
            "4294967296",
            "-1",
            "1.5",
            "\"0x\"",
            "\"0x123456789\"",
            "\"0xZZ\"",
            "\"C\"",
            "[1]",
            "true",
            "null",
        ] {
            let e = read(bad).expect_err(bad);
            assert!(
                e.msg.contains("flags") || e.msg.contains("test flags"),
                "{bad}: {}",
                e.msg
            );
        }
        let e = read("[\"A\", \"nope\"]").unwrap_err();
        assert_eq!(e.ptr, "/f/1");
        assert!(e.msg.contains("A, B, ALL"), "{}", e.msg);
    }

    #[test]
    fn guids_read_in_either_case_and_write_back_lowercase() {
        let text = "{6E1AD6D4-0c3a-4b4e-9a55-2f1d3c4b5a69}";
        let v = parse_guid(text).unwrap();
        assert_eq!(v, 0x6e1ad6d4_0c3a_4b4e_9a55_2f1d3c4b5a69);
        assert_eq!(show_guid(v), text.to_lowercase());
        assert_eq!(
            parse_guid("{00000000-0000-0000-0000-000000000000}"),
            Some(0)
        );
        for bad in [
            "6e1ad6d4-0c3a-4b4e-9a55-2f1d3c4b5a69",
            "{6e1ad6d4-0c3a-4b4e-9a55-2f1d3c4b5a6}",
            "{6e1ad6d40c3a-4b4e-9a55-2f1d3c4b5a69}",
            "{6e1ad6d4-0c3a-4b4e-9a55-2f1d3c4b5a6g}",
            "{}",
        ] {
            assert_eq!(parse_guid(bad), None, "{bad}");
        }
    }
}
