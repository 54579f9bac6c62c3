//! Reading a scenario file: JSON syntax (serde_json, with line and column), then the contract's shape
//! and meaning (every object's fields, types, ranges, names, aliases), each error with its JSON pointer
//! and the line and column it points at. Nothing runs before the whole file is known to be valid.

use super::json::{
    self, child_pointer, escape_text, line_col, number, one_of, quote, Kind, Member, Node,
};
use super::steps::StepReader;
use super::types::{Action, Check, Op, SandboxSpec, Scenario, UserSpec, WorldSpec};
use crate::world::{Fault, Network, Remote, Response};
use crate::HResult;
use std::collections::VecDeque;
use std::fmt;
use std::path::Path;

/// Why a file is not a valid scenario: where, and what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidScenario {
    /// The file as it was named.
    pub file: String,
    /// 1-based line, when the error has a place in the text.
    pub line: Option<usize>,
    /// 1-based column (characters).
    pub column: Option<usize>,
    /// The JSON pointer of the offending value (semantic errors), e.g. `/steps/3/job`.
    pub pointer: Option<String>,
    /// What is wrong and what was expected.
    pub message: String,
}

/// One line: `file:line:column: pointer: message`, with control characters in the file name, the
/// pointer (keys are arbitrary strings) and the message escaped (`\n`, `\u{0}`), so that no part of it
/// can start a line of its own.
impl fmt::Display for InvalidScenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", escape_text(&self.file))?;
        if let (Some(l), Some(c)) = (self.line, self.column) {
            write!(f, ":{l}:{c}")?;
        }
        let message = escape_text(&self.message);
        match &self.pointer {
            Some(p) if p.is_empty() => write!(f, ": (top level): {message}"),
            Some(p) => write!(f, ": {}: {message}", escape_text(&shown_pointer(p))),
            None => write!(f, ": {message}"),
        }
    }
}

/// A pointer for messages: each reference token longer than [`json::SHOWN_CHARS`] characters is cut
/// (`…` marks the cut; the place is still exact through line and column).
fn shown_pointer(p: &str) -> std::borrow::Cow<'_, str> {
    if !p.split('/').any(|t| t.chars().count() > json::SHOWN_CHARS) {
        return std::borrow::Cow::Borrowed(p);
    }
    let tokens: Vec<String> = p
        .split('/')
        .map(|t| {
            let n = t.chars().count();
            if n > json::SHOWN_CHARS {
                let head: String = t.chars().take(json::SHOWN_CHARS).collect();
                format!("{head}…({n} characters)")
            } else {
                t.to_string()
            }
        })
        .collect();
    std::borrow::Cow::Owned(tokens.join("/"))
}

/// The largest scenario file read, in bytes (16 MiB; the shipped scenarios are a few KB). Larger
/// inputs, and endless ones such as `/dev/zero`, are refused without reading further.
pub const MAX_FILE_BYTES: u64 = 16 << 20;

impl std::error::Error for InvalidScenario {}

/// An error inside the file: pointer, byte offset, message.
#[derive(Debug)]
pub(crate) struct At {
    pub ptr: String,
    pub pos: usize,
    pub msg: String,
}

pub(crate) type R<T> = Result<T, At>;

pub(crate) fn at<T>(node: &Node, ptr: &str, msg: impl Into<String>) -> R<T> {
    Err(At {
        ptr: ptr.to_string(),
        pos: node.pos,
        msg: msg.into(),
    })
}

impl Scenario {
    /// Read a scenario from JSON text. `file` names the source in error messages.
    pub fn parse(text: &str, file: &str) -> Result<Scenario, InvalidScenario> {
        let root = json::parse(text).map_err(|e| InvalidScenario {
            file: file.to_string(),
            line: Some(e.line.max(1)),
            column: Some(e.column.max(1)),
            message: match e.pointer {
                Some(_) => e.message,
                None => format!("not valid JSON: {}", e.message),
            },
            pointer: e.pointer,
        })?;
        let base = Path::new(file).parent().unwrap_or(Path::new(""));
        scenario(&root, base).map_err(|e| {
            let (line, column) = line_col(text, e.pos);
            InvalidScenario {
                file: file.to_string(),
                line: Some(line),
                column: Some(column),
                pointer: Some(e.ptr),
                message: e.msg,
            }
        })
    }

    /// Read a scenario file.
    /// At most [`MAX_FILE_BYTES`] are read.
    pub fn load(path: &Path) -> Result<Scenario, InvalidScenario> {
        use std::io::Read as _;
        let file = path.display().to_string();
        let fail = |message: String| InvalidScenario {
            file: file.clone(),
            line: None,
            column: None,
            pointer: None,
            message,
        };
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
            .map_err(|e| fail(format!("cannot read the file: {e}")))?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(fail(format!(
                "cannot read the file: it is larger than {MAX_FILE_BYTES} bytes (16 MiB), the limit for a scenario file"
            )));
        }
        let text = String::from_utf8(bytes).map_err(|e| {
            fail(format!(
                "cannot read the file: it is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ))
        })?;
        Scenario::parse(&text, &file)
    }
}

/// The members of one JSON object, checked against the fields it may have.
pub(crate) struct Fields<'n> {
    pub node: &'n Node<'n>,
    pub ptr: String,
    members: &'n [Member<'n>],
}

impl<'n> Fields<'n> {
    /// `node` must be an object (`what` names it for messages) with no duplicate keys and no key outside
    /// `allowed`.
    pub fn new(node: &'n Node, ptr: &str, what: &str, allowed: &[&str]) -> R<Fields<'n>> {
        Fields::new_with(node, ptr, || what.to_string(), allowed)
    }

    /// [`Fields::new`] with the name for messages built only when a message needs it (the step
    /// reader names every step's kind; formatting it for each step cost more than reading it).
    pub fn new_with(
        node: &'n Node,
        ptr: &str,
        what: impl FnOnce() -> String,
        allowed: &[&str],
    ) -> R<Fields<'n>> {
        let Kind::Obj(members) = &node.kind else {
            let what = what();
            return at(
                node,
                ptr,
                format!(
                    "expected {what} (a JSON object), found {}",
                    node.kind.describe()
                ),
            );
        };
        if let Some((key, key_pos)) = first_duplicate(members) {
            return Err(At {
                ptr: child_pointer(ptr, key),
                pos: key_pos,
                msg: format!("duplicate field {}", quote(key)),
            });
        }
        for (key, key_pos, _) in members {
            // The member's pointer is built only for the error.
            if !allowed.contains(&&**key) {
                let what = what();
                return Err(At {
                    ptr: child_pointer(ptr, key),
                    pos: *key_pos,
                    msg: format!(
                        "unknown field {} in {what}; expected {}",
                        quote(key),
                        one_of(allowed)
                    ),
                });
            }
        }
        Ok(Fields {
            node,
            ptr: ptr.to_string(),
            members,
        })
    }

    pub fn get(&self, key: &str) -> Option<&'n Node<'n>> {
        self.members.iter().find(|m| m.0 == key).map(|m| &m.2)
    }

    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub fn ptr(&self, key: &str) -> String {
        child_pointer(&self.ptr, key)
    }

    pub fn req(&self, key: &str, what: &str) -> R<&'n Node<'n>> {
        self.get(key).ok_or_else(|| At {
            ptr: self.ptr.clone(),
            pos: self.node.pos,
            msg: format!("missing required field {} ({what})", quote(key)),
        })
    }

    /// A required field converted by `f(node, pointer)`.
    pub fn req_with<T>(&self, key: &str, what: &str, f: impl Fn(&Node, &str) -> R<T>) -> R<T> {
        let n = self.req(key, what)?;
        self.with_ptr(key, |p| f(n, p))
    }

    /// An optional field converted by `f(node, pointer)`.
    pub fn opt_with<T>(&self, key: &str, f: impl Fn(&Node, &str) -> R<T>) -> R<Option<T>> {
        self.get(key)
            .map(|n| self.with_ptr(key, |p| f(n, p)))
            .transpose()
    }

    /// `f` of the pointer of member `key` ([`Fields::ptr`]), built on the stack when it is short and
    /// `key` needs no escaping: a converter reads the pointer only for a message, and allocating it
    /// for every field read was a good part of loading a step.
    fn with_ptr<T>(&self, key: &str, f: impl FnOnce(&str) -> T) -> T {
        let mut buf = [0u8; 96];
        let (p, len) = (self.ptr.len(), self.ptr.len() + 1 + key.len());
        if len <= buf.len() && !key.bytes().any(|b| b == b'~' || b == b'/') {
            buf[..p].copy_from_slice(self.ptr.as_bytes());
            buf[p] = b'/';
            buf[p + 1..len].copy_from_slice(key.as_bytes());
            if let Ok(ptr) = std::str::from_utf8(&buf[..len]) {
                return f(ptr);
            }
        }
        f(&self.ptr(key))
    }
}

// ---------------------------------------------------------------------- scalar converters

pub(crate) fn string(n: &Node, ptr: &str) -> R<String> {
    match &n.kind {
        Kind::Str(s) => Ok(s.to_string()),
        k => at(n, ptr, format!("expected a string, found {}", k.describe())),
    }
}

pub(crate) fn boolean(n: &Node, ptr: &str) -> R<bool> {
    match n.kind {
        Kind::Bool(b) => Ok(b),
        ref k => at(
            n,
            ptr,
            format!("expected true or false, found {}", k.describe()),
        ),
    }
}

/// A non-negative integer of at most `max` (so `1.0`, `-1`, `1e3` and values that do not fit are
/// refused, each with its own message).
pub(crate) fn integer(n: &Node, ptr: &str, max: u64, what: &str) -> R<u64> {
    let Kind::Num(raw) = &n.kind else {
        return at(
            n,
            ptr,
            format!("expected {what} (an integer), found {}", n.kind.describe()),
        );
    };
    if raw.contains(['.', 'e', 'E']) {
        return at(
            n,
            ptr,
            format!(
                "expected {what} as a whole number without fraction or exponent, found {}",
                number(raw)
            ),
        );
    }
    if raw.starts_with('-') {
        return at(
            n,
            ptr,
            format!(
                "expected {what} (an integer from 0 to {max}), found the negative number {}",
                number(raw)
            ),
        );
    }
    match raw.parse::<u64>() {
        Ok(v) if v <= max => Ok(v),
        _ => at(
            n,
            ptr,
            format!(
                "{} is too large for {what}: expected an integer from 0 to {max}",
                number(raw)
            ),
        ),
    }
}

pub(crate) fn u64_field(what: &'static str) -> impl Fn(&Node, &str) -> R<u64> {
    move |n, p| integer(n, p, u64::MAX, what)
}

pub(crate) fn u32_field(what: &'static str) -> impl Fn(&Node, &str) -> R<u32> {
    move |n, p| integer(n, p, u64::from(u32::MAX), what).map(|v| v as u32)
}

pub(crate) fn hresult(n: &Node, ptr: &str) -> R<HResult> {
    match &n.kind {
        // The parse error quotes the text in full; show it cut, as every message does.
        Kind::Str(s) => HResult::parse(s).or_else(|e| {
            at(
                n,
                ptr,
                e.to_string().replacen(&format!("{s:?}"), &quote(s), 1),
            )
        }),
        k => at(
            n,
            ptr,
            format!(
                "expected an HRESULT as a string (a symbolic name such as \"BG_E_INVALID_STATE\" or hex such as \"0x80200002\"), found {}",
                k.describe()
            ),
        ),
    }
}

/// A name out of a fixed list, converted by `parse`.
pub(crate) fn named<T>(
    n: &Node,
    ptr: &str,
    what: &str,
    names: &[&str],
    parse: impl Fn(&str) -> Option<T>,
) -> R<T> {
    match &n.kind {
        Kind::Str(s) => match parse(s) {
            Some(v) => Ok(v),
            None => at(
                n,
                ptr,
                format!("unknown {what} {}; expected {}", quote(s), one_of(names)),
            ),
        },
        k => at(
            n,
            ptr,
            format!(
                "expected {what} ({}), found {}",
                one_of(names),
                k.describe()
            ),
        ),
    }
}

pub(crate) fn array<'n>(n: &'n Node, ptr: &str, what: &str) -> R<&'n [Node<'n>]> {
    match &n.kind {
        Kind::Arr(items) => Ok(items),
        k => at(
            n,
            ptr,
            format!("expected {what} (a JSON array), found {}", k.describe()),
        ),
    }
}

// ---------------------------------------------------------------------- the file

fn scenario(root: &Node, base: &Path) -> R<Scenario> {
    let f = Fields::new(
        root,
        "",
        "a scenario",
        &["name", "description", "world", "steps"],
    )?;
    let name = f.req_with("name", "the scenario's name, a string", string)?;
    let description = f.req_with(
        "description",
        "a string saying what the scenario proves",
        string,
    )?;
    let world = f
        .opt_with("world", |n, p| world(n, p, base))?
        .unwrap_or_default();
    let steps_node = f.req("steps", "the array of steps")?;
    let items = array(steps_node, &f.ptr("steps"), "the steps")?;
    let mut reader = StepReader::new(&world);
    let mut steps = Vec::with_capacity(items.len());
    // D13: the clock only moves forward, and `advance` moves it by exactly its seconds, so by each
    // step the virtual time is at least the sum of the advances before it.
    let mut at_least: Option<u64> = Some(0);
    let mut ptr = String::from("/steps/");
    for (i, item) in items.iter().enumerate() {
        ptr.truncate("/steps/".len());
        json::push_index(&mut ptr, i);
        let step = reader.step(item, &ptr)?;
        if let Action::Check(Check::LocalFile { .. } | Check::LocalDir { .. }) = &step.action {
            if world.sandbox.is_none() {
                return at(
                    item,
                    &ptr,
                    "this check reads the sandbox: give the world a \"sandbox\" (true or a folder)",
                );
            }
        }
        match &step.action {
            Action::Do(Op::Advance { seconds }) => {
                // Only while the sum fits the clock's milliseconds; past that, stop checking.
                at_least = at_least
                    .and_then(|t| t.checked_add(*seconds))
                    .filter(|t| *t <= u64::MAX / 1000);
            }
            Action::Check(Check::Time { seconds }) => {
                if let Some(t) = at_least.filter(|t| seconds < t) {
                    let n = match &item.kind {
                        Kind::Obj(m) => m.iter().find(|(k, _, _)| k == "seconds").map(|m| &m.2),
                        _ => None,
                    };
                    return at(
                        n.unwrap_or(item),
                        &format!("{ptr}/seconds"),
                        format!(
                            "the steps before advance the clock by {t} s, so it reads at least {t} s here, never {seconds} (D13): this check can never pass"
                        ),
                    );
                }
            }
            _ => {}
        }
        steps.push(step);
    }
    Ok(Scenario {
        name,
        description,
        world,
        steps,
    })
}

fn world(n: &Node, ptr: &str, base: &Path) -> R<WorldSpec> {
    let f = Fields::new(
        n,
        ptr,
        "the world",
        &[
            "users",
            "bandwidth",
            "network",
            "remotes",
            "locals",
            "default_cost_flags",
            "inactivity_timeout",
            "network_cost",
            "group_policy",
            "sandbox",
            "system_proxy",
            "proxies",
            "certificates",
            "programs",
            "com_servers",
        ],
    )?;
    let mut options = super::types::WorldOptions {
        default_cost_flags: f.opt_with("default_cost_flags", |n, p| {
            super::convention::flags(
                n,
                p,
                "cost flags",
                crate::properties::options::COST_FLAG_NAMES,
            )
            .and_then(|v| {
                if v & !crate::job_options::COST_FLAGS_KNOWN != 0 {
                    at(
                        n,
                        p,
                        format!(
                            "cost flags 0x{v:X} hold bits outside 0xC00000FF (the cost states, IGNORE_CONGESTION and RESERVED)"
                        ),
                    )
                } else {
                    Ok(v)
                }
            })
        })?,
        inactivity_timeout: f.opt_with(
            "inactivity_timeout",
            u64_field("a JobInactivityTimeout in seconds"),
        )?,
        network_cost: f.opt_with("network_cost", network_cost)?,
        block_background: f.opt_with("group_policy", group_policy)?.unwrap_or(false),
        user_tokens: Vec::new(),
    };
    let (users, tokens) = f.opt_with("users", users)?.unwrap_or_default();
    options.user_tokens = tokens;
    let certificates = match f.get("certificates") {
        None => Vec::new(),
        Some(n) => super::http::certificates(n, &f.ptr("certificates"))?,
    };
    let mut notify = crate::NotifyWorld::default();
    if let Some(n) = f.get("programs") {
        super::cmdline::programs(n, &f.ptr("programs"), &mut notify)?;
    }
    if let Some(n) = f.get("com_servers") {
        super::cmdline::com_servers(n, &f.ptr("com_servers"), &mut notify)?;
    }
    let system_proxy = f.opt_with("system_proxy", super::http::proxy_name)?;
    let proxies = match f.get("proxies") {
        None => Vec::new(),
        Some(n) => {
            let p = f.ptr("proxies");
            super::http::proxies(
                map_members(n, &p, "the proxies (name → { valid, auth })")?,
                &p,
            )?
        }
    };
    let bandwidth = f.opt_with("bandwidth", u64_field("a bandwidth in bytes per second"))?;
    let network = f.opt_with("network", network)?;
    let remotes = f.opt_with("remotes", remotes)?.unwrap_or_default();
    let all_locals = f.opt_with("locals", locals)?.unwrap_or_default();
    let sandbox = f.opt_with("sandbox", |n, p| sandbox(n, p, base))?.flatten();
    let mut locals = Vec::with_capacity(all_locals.len());
    let mut local_content = Vec::new();
    let mut local_modified = Vec::new();
    for (path, (size, content, modified)) in all_locals {
        if let Some(c) = content {
            local_content.push((path.clone(), c));
        }
        if modified != 0 {
            local_modified.push((path.clone(), modified));
        }
        locals.push((path, size));
    }
    Ok(WorldSpec {
        users,
        bandwidth,
        network,
        remotes,
        locals,
        options,
        local_content,
        local_modified,
        sandbox,
        system_proxy,
        proxies,
        certificates,
        notify,
    })
}

/// World `sandbox`: `true` (a fresh folder), `false` (none), or a folder relative to the scenario
/// file's folder, which must be empty if it exists.
fn sandbox(n: &Node, ptr: &str, base: &Path) -> R<Option<SandboxSpec>> {
    match &n.kind {
        Kind::Bool(true) => Ok(Some(SandboxSpec::Fresh)),
        Kind::Bool(false) => Ok(None),
        Kind::Str(s) => {
            let rel = Path::new(&**s);
            if s.is_empty() || rel.is_absolute() {
                return at(
                    n,
                    ptr,
                    format!(
                        "the sandbox folder {} must be a non-empty path relative to the scenario file's folder",
                        quote(s)
                    ),
                );
            }
            let dir = base.join(rel);
            match std::fs::read_dir(&dir) {
                Ok(mut entries) => {
                    if entries.next().is_some() {
                        return at(
                            n,
                            ptr,
                            format!(
                                "the sandbox folder {} is not empty: a sandbox given by path must be empty (or absent) when the scenario starts",
                                quote(&dir.display().to_string())
                            ),
                        );
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return at(
                        n,
                        ptr,
                        format!(
                            "the sandbox folder {} cannot be read: {e}",
                            quote(&dir.display().to_string())
                        ),
                    )
                }
            }
            Ok(Some(SandboxSpec::Dir(dir)))
        }
        other => at(
            n,
            ptr,
            format!(
                "expected true, false or a folder path relative to the scenario file, found {}",
                other.describe()
            ),
        ),
    }
}

/// The users, and those with a token given (name, `integrity`, `elevated`; D34).
type UserTokens = Vec<(String, Option<u32>, Option<bool>)>;

fn users(n: &Node, ptr: &str) -> R<(Vec<UserSpec>, UserTokens)> {
    let mut tokens = UserTokens::new();
    let members = map_members(n, ptr, "the users (name → { admin, logged_on })")?;
    if members.is_empty() {
        return at(
            n,
            ptr,
            "users lists no user; list at least one, or leave \"users\" out for the default user \"user\"",
        );
    }
    let mut out: Vec<UserSpec> = Vec::new();
    for (name, key_pos, value) in members {
        let uptr = child_pointer(ptr, name);
        if name.is_empty() {
            return Err(At {
                ptr: uptr,
                pos: *key_pos,
                msg: "a user name must not be empty".to_string(),
            });
        }
        let u = Fields::new(
            value,
            &uptr,
            "a user",
            &["admin", "logged_on", "integrity", "elevated"],
        )?;
        let integrity = u.opt_with("integrity", |n, p| match &n.kind {
            super::json::Kind::Num(_) => u32_field("an integrity level")(n, p),
            _ => named(
                n,
                p,
                "integrity level",
                &["LOW", "MEDIUM", "HIGH", "SYSTEM"],
                |s| {
                    crate::properties::options::INTEGRITY_NAMES
                        .iter()
                        .find(|(name, _)| *name == s)
                        .map(|(_, v)| *v)
                },
            ),
        })?;
        let elevated = u.opt_with("elevated", boolean)?;
        if integrity.is_some() || elevated.is_some() {
            tokens.push((name.to_string(), integrity, elevated));
        }
        out.push(UserSpec {
            name: name.to_string(),
            admin: u.opt_with("admin", boolean)?.unwrap_or(false),
            logged_on: u.opt_with("logged_on", boolean)?.unwrap_or(true),
        });
    }
    Ok((out, tokens))
}

pub(crate) fn network(n: &Node, ptr: &str) -> R<Network> {
    named(
        n,
        ptr,
        "network state",
        &["\"up\"", "\"down\""],
        |s| match s {
            "up" => Some(Network::Up),
            "down" => Some(Network::Down),
            _ => None,
        },
    )
}

/// World `group_policy` (T21, D99): `{ "block_background": true | false }`.
fn group_policy(n: &Node, ptr: &str) -> R<bool> {
    let f = Fields::new(n, ptr, "the group policy", &["block_background"])?;
    f.req_with("block_background", "true or false", boolean)
}

/// A network cost (world `network_cost`, operation `network_cost`, D53): a BITS_COST_STATE name
/// without its prefix, or an array of one such name and `ROAMING`.
pub(crate) fn network_cost(n: &Node, ptr: &str) -> R<u32> {
    const STATES: &str = "UNRESTRICTED, CAPPED_USAGE_UNKNOWN, BELOW_CAP, NEAR_CAP, OVERCAP_CHARGED, OVERCAP_THROTTLED or USAGE_BASED";
    let state = |n: &Node, p: &str, s: &str| -> R<u32> {
        match crate::world::COST_STATE_NAMES
            .iter()
            .find(|(name, _)| *name == s && *name != "ROAMING")
        {
            Some(&(_, bit)) => Ok(bit),
            None => at(
                n,
                p,
                format!(
                    "{} is not a network cost state: expected {STATES}{}",
                    super::json::quote(s),
                    if s == "ROAMING" {
                        " (ROAMING goes in an array with one of them)"
                    } else {
                        ""
                    }
                ),
            ),
        }
    };
    match &n.kind {
        Kind::Str(s) => state(n, ptr, s),
        Kind::Arr(items) => {
            let mut cost = 0u32;
            let mut states = 0;
            for (i, item) in items.iter().enumerate() {
                let p = format!("{ptr}/{i}");
                let Kind::Str(s) = &item.kind else {
                    return at(
                        item,
                        &p,
                        format!(
                            "expected a network cost name, found {}",
                            item.kind.describe()
                        ),
                    );
                };
                let bit = if s == "ROAMING" {
                    0x80
                } else {
                    states += 1;
                    state(item, &p, s)?
                };
                if cost & bit != 0 {
                    return at(item, &p, format!("{} is named twice", super::json::quote(s)));
                }
                cost |= bit;
            }
            if states != 1 {
                return at(
                    n,
                    ptr,
                    format!("a network cost array names exactly one of {STATES}, and may add ROAMING; this one names {states}"),
                );
            }
            Ok(cost)
        }
        k => at(
            n,
            ptr,
            format!(
                "expected a network cost: a name ({STATES}) or an array of one with \"ROAMING\", found {}",
                k.describe()
            ),
        ),
    }
}

/// Members of a map-like object (URL → …), rejecting duplicate keys.
pub(crate) fn map_members<'n>(n: &'n Node, ptr: &str, what: &str) -> R<&'n [Member<'n>]> {
    let Kind::Obj(members) = &n.kind else {
        return at(
            n,
            ptr,
            format!(
                "expected {what} (a JSON object), found {}",
                n.kind.describe()
            ),
        );
    };
    if let Some((key, key_pos)) = first_duplicate(members) {
        return Err(At {
            ptr: child_pointer(ptr, key),
            pos: key_pos,
            msg: format!("duplicate key {}", quote(key)),
        });
    }
    Ok(members)
}

/// The first member (in file order) whose key an earlier member already has, with its position.
/// O(n log n): the members' indexes are sorted by key (stable, so among equal keys the file order stays)
/// and each run of equal keys names its second member; the earliest of those in the file is reported,
/// exactly the member the former pairwise scan stopped at.
fn first_duplicate<'m>(members: &'m [Member<'_>]) -> Option<(&'m str, usize)> {
    // Small objects (every step, most of the world): the first member whose key an earlier member
    // has, without sorting an index vector. The same answer as the sort below: the smallest index
    // that repeats an earlier key.
    if members.len() <= 16 {
        return (1..members.len())
            .find(|&i| members[..i].iter().any(|m| m.0 == members[i].0))
            .map(|i| (&*members[i].0, members[i].1));
    }
    let mut order: Vec<usize> = (0..members.len()).collect();
    order.sort_by(|&a, &b| members[a].0.cmp(&members[b].0));
    order
        .windows(2)
        .filter(|w| members[w[0]].0 == members[w[1]].0)
        .map(|w| w[1])
        .min()
        .map(|i| (&*members[i].0, members[i].1))
}

fn remotes(n: &Node, ptr: &str) -> R<Vec<(String, Remote)>> {
    map_members(n, ptr, "the remotes (URL → remote)")?
        .iter()
        .map(|(url, _, v)| Ok((url.to_string(), remote(v, &child_pointer(ptr, url))?)))
        .collect()
}

type LocalSpec = (String, LocalFile);

/// A local file as a scenario gives it: size, optional body, last-write time (virtual seconds).
pub(crate) type LocalFile = (u64, Option<crate::content::Body>, u64);

/// A local file: `{ size, content, modified }` (`size` required, equal to the content's length;
/// `modified` the last-write time in virtual seconds, default 0, D78).
pub(crate) fn local(v: &Node, lptr: &str) -> R<LocalFile> {
    let f = Fields::new(v, lptr, "a local file", &["size", "content", "modified"])?;
    let size = f.req_with(
        "size",
        "the file size in bytes",
        u64_field("a size in bytes"),
    )?;
    let content = f.opt_with("content", body)?;
    if let Some(c) = &content {
        if c.len() != size {
            return at(
                f.get("size").unwrap_or(v),
                &f.ptr("size"),
                format!(
                    "size {size} differs from the content's length {}: they must be equal",
                    c.len()
                ),
            );
        }
    }
    let modified = f
        .opt_with(
            "modified",
            u64_field("a last-write time in virtual seconds"),
        )?
        .unwrap_or(0);
    Ok((size, content, modified))
}

fn locals(n: &Node, ptr: &str) -> R<Vec<LocalSpec>> {
    map_members(
        n,
        ptr,
        "the local files (path → { size, content, modified })",
    )?
    .iter()
    .map(|(path, _, v)| {
        let lptr = child_pointer(ptr, path);
        Ok((path.to_string(), local(v, &lptr)?))
    })
    .collect()
}

/// A body: exactly one of `text`, `base64` or `pattern` (with a required `length`).
pub(crate) fn body(n: &Node, ptr: &str) -> R<crate::content::Body> {
    use crate::content::{base64_decode, Body};
    let f = Fields::new(
        n,
        ptr,
        "a body ({ text } or { base64 } or { pattern, length })",
        &["text", "base64", "pattern", "length"],
    )?;
    let given: Vec<&str> = ["text", "base64", "pattern"]
        .into_iter()
        .filter(|k| f.has(k))
        .collect();
    if given.len() != 1 {
        return at(
            n,
            ptr,
            format!(
                "a body has exactly one of \"text\", \"base64\" or \"pattern\", this one has {}",
                if given.is_empty() {
                    "none".to_string()
                } else {
                    given.join(" and ")
                }
            ),
        );
    }
    if given[0] != "pattern" && f.has("length") {
        return at(
            f.get("length").unwrap_or(n),
            &f.ptr("length"),
            "\"length\" goes only with \"pattern\" (a text or base64 body has the length of its bytes)",
        );
    }
    match given[0] {
        "text" => Ok(Body::text(&f.req_with("text", "", string)?)),
        "base64" => f.req_with("base64", "", |n, p| {
            let s = string(n, p)?;
            match base64_decode(&s) {
                Some(b) => Ok(Body::Bytes(b)),
                None => at(
                    n,
                    p,
                    "not valid base64 (RFC 4648, standard alphabet, padded with '=')",
                ),
            }
        }),
        _ => {
            let seed = f.req_with("pattern", "", u64_field("a pattern seed (0 to 2^64-1)"))?;
            let length = f.req_with(
                "length",
                "the pattern's length in bytes",
                u64_field("a length in bytes"),
            )?;
            if length == crate::BG_SIZE_UNKNOWN {
                return at(
                    f.get("length").unwrap_or(n),
                    &f.ptr("length"),
                    "18446744073709551615 is BG_SIZE_UNKNOWN, not a length (D21)",
                );
            }
            Ok(Body::pattern(seed, length))
        }
    }
}

/// A remote: `size`, `responses`, `otherwise`, and the body fields `content`, `modified`,
/// `accept_ranges`, `headers`.
pub(crate) fn remote(n: &Node, ptr: &str) -> R<Remote> {
    let f = Fields::new(
        n,
        ptr,
        "a remote",
        &[
            "size",
            "responses",
            "otherwise",
            "content",
            "modified",
            "accept_ranges",
            "headers",
            "peer",
            "auth",
            "required_headers",
            "headers_missing",
            "certificate",
            "client_certificate",
            "reply",
        ],
    )?;
    let mut remote = Remote::default();
    let size = f.opt_with("size", |n, p| {
        let v = integer(n, p, u64::MAX, "a size in bytes")?;
        if v == crate::BG_SIZE_UNKNOWN {
            return at(
                n,
                p,
                "18446744073709551615 is BG_SIZE_UNKNOWN, not a size: leave \"size\" out for a server that sends no length",
            );
        }
        Ok(v)
    })?;
    let responses = match f.get("responses") {
        None => VecDeque::new(),
        Some(list) => {
            let rptr = f.ptr("responses");
            array(list, &rptr, "the responses")?
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let p = format!("{rptr}/{i}");
                    match super::http::redirect(r, &p, &mut remote)? {
                        Some(x) => Ok(x),
                        None => response(r, &p),
                    }
                })
                .collect::<R<VecDeque<_>>>()?
        }
    };
    let otherwise = match f.get("otherwise") {
        None => Response::Ok,
        Some(o) => {
            let p = f.ptr("otherwise");
            match super::http::redirect(o, &p, &mut remote)? {
                Some(x) => x,
                None => response(o, &p)?,
            }
        }
    };
    super::http::remote_fields(&f, &mut remote)?;
    // §7, D71: an upload-reply server application.
    if let Some(r) = f.opt_with("reply", super::http::reply)? {
        remote.http_mut().reply = Some(Box::new(r));
    }
    remote.size = size;
    remote.responses = responses;
    remote.otherwise = otherwise;
    let content = f.opt_with("content", body)?;
    if let (Some(c), Some(sz)) = (&content, size) {
        if c.len() != sz {
            return at(
                f.get("size").unwrap_or(n),
                &f.ptr("size"),
                format!(
                    "size {sz} differs from the content's length {}: give one or make them equal",
                    c.len()
                ),
            );
        }
    }
    let modified = f
        .opt_with("modified", u64_field("a time in virtual seconds"))?
        .unwrap_or(0);
    let accept_ranges = f.opt_with("accept_ranges", boolean)?.unwrap_or(true);
    let headers = match f.get("headers") {
        None => Vec::new(),
        Some(list) => {
            let hptr = f.ptr("headers");
            array(list, &hptr, "the response header lines")?
                .iter()
                .enumerate()
                .map(|(i, h)| string(h, &format!("{hptr}/{i}")))
                .collect::<R<Vec<_>>>()?
        }
    };
    remote.content = content;
    remote.modified = modified;
    remote.accept_ranges = accept_ranges;
    remote.headers = headers;
    // D65: a peer serves the body too.
    remote.peer = f.opt_with("peer", boolean)?.unwrap_or(false);
    Ok(remote)
}

/// `"ok"` or `{ http | win32 | hresult, after_bytes? }`.
pub(crate) fn response(n: &Node, ptr: &str) -> R<Response> {
    if let Kind::Str(s) = &n.kind {
        if s == "ok" {
            return Ok(Response::Ok);
        }
        return at(
            n,
            ptr,
            format!(
                "unknown response {}; expected \"ok\" or an object with one of \"http\", \"win32\" or \"hresult\"",
                quote(s)
            ),
        );
    }
    let f = Fields::new(
        n,
        ptr,
        "a response (\"ok\" or { http | win32 | hresult, after_bytes })",
        &["http", "win32", "hresult", "after_bytes"],
    )?;
    let given: Vec<&str> = ["http", "win32", "hresult"]
        .into_iter()
        .filter(|k| f.has(k))
        .collect();
    let fault = match given.as_slice() {
        ["http"] => Fault::Http(f.req_with("http", "", |n, p| {
            let v = integer(n, p, u64::MAX, "an HTTP status code")?;
            if !(100..=599).contains(&v) {
                return at(
                    n,
                    p,
                    format!("{v} is not an HTTP status code: expected 100 to 599"),
                );
            }
            Ok(v as u16)
        })?),
        ["win32"] => Fault::Win32(f.req_with("win32", "", |n, p| {
            let v = integer(n, p, u64::MAX, "a Win32 error number")?;
            if !(1..=0xFFFF).contains(&v) {
                return at(
                    n,
                    p,
                    format!("{v} is not a Win32 error number: expected 1 to 65535"),
                );
            }
            Ok(v as u32)
        })?),
        ["hresult"] => Fault::HResult(f.req_with("hresult", "", hresult)?),
        [] => {
            return at(
                n,
                ptr,
                "a failing response needs exactly one of \"http\", \"win32\" or \"hresult\"",
            )
        }
        _ => {
            return at(
                n,
                ptr,
                format!(
                "a response has exactly one of \"http\", \"win32\" or \"hresult\", this one has {}",
                given.join(" and ")
            ),
            )
        }
    };
    let after_bytes = f.opt_with("after_bytes", u64_field("a byte count"))?;
    Ok(Response::Fail { fault, after_bytes })
}
