//! Reading and validating the steps: each step's fields and types, and — in file order — that every
//! application, user, job alias and error alias it names exists at that point of the file.

use super::json::{one_of, quote, Kind, Node};
use super::load::{at, boolean, hresult, integer, named, string, u32_field, Fields, R};
use super::ops::OPS;
use super::types::{PriorityValue, PropertyValue, Step, WorldSpec, DEFAULT_APP};
use crate::properties::{Prop, Scalar, ScalarKind};
use crate::{HResult, Priority};
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn names(table: &[(&'static str, &[&str])]) -> Vec<&'static str> {
    table.iter().map(|t| t.0).collect()
}

/// What is known at the current point of the file.
pub(crate) struct StepReader {
    /// The world's users, in file order (for messages).
    users: Vec<String>,
    /// The same names, for O(log n) look-ups.
    user_set: BTreeSet<String>,
    /// Applications connected and not exited.
    pub(super) alive: BTreeSet<String>,
    /// Applications that ever connected.
    pub(super) known: BTreeSet<String>,
    /// Job aliases, in binding order (for messages).
    jobs: Vec<String>,
    /// The same aliases, for O(log n) look-ups.
    job_set: BTreeSet<String>,
    /// Error aliases and the application holding each.
    pub(super) errors: BTreeMap<String, String>,
    /// Enumerator aliases: the application holding each, and whether it enumerates jobs (D46).
    pub(super) enums: BTreeMap<String, (String, bool)>,
}

impl StepReader {
    pub fn new(world: &WorldSpec) -> StepReader {
        let app = BTreeSet::from([DEFAULT_APP.to_string()]);
        // `com_servers` applications may be named without `connect` (their deliveries are read
        // with `check notifications`).
        let mut known = app.clone();
        known.extend(world.notify.com_servers.values().map(|c| c.app.clone()));
        let users: Vec<String> = world
            .effective_users()
            .into_iter()
            .map(|u| u.name)
            .collect();
        StepReader {
            user_set: users.iter().cloned().collect(),
            users,
            job_set: BTreeSet::new(),
            alive: app,
            known,
            jobs: Vec::new(),
            errors: BTreeMap::new(),
            enums: BTreeMap::new(),
        }
    }

    pub fn step(&mut self, node: &Node, ptr: &str) -> R<Step> {
        let Kind::Obj(members) = &node.kind else {
            return at(
                node,
                ptr,
                format!(
                    "expected a step (an object with \"do\" or \"check\"), found {}",
                    node.kind.describe()
                ),
            );
        };
        let has = |k: &str| members.iter().any(|m| m.0 == k);
        match (has("do"), has("check")) {
            (true, true) => at(
                node,
                ptr,
                "a step has exactly one of \"do\" (an operation) or \"check\" (an assertion), this one has both",
            ),
            (false, false) => at(
                node,
                ptr,
                "a step needs \"do\" (an operation) or \"check\" (an assertion)",
            ),
            (true, false) => self.op(node, ptr),
            (false, true) => self.check(node, ptr),
        }
    }

    /// The kind name and the fields it allows (with the tag itself), with good messages for an unknown
    /// kind and for `app` / `expect` where they do not apply.
    pub(super) fn fields<'n>(
        &self,
        node: &'n Node,
        ptr: &str,
        tag: &str,
        table: &[(&'static str, &[&str])],
        what: &str,
    ) -> R<(String, Fields<'n>)> {
        let Kind::Obj(members) = &node.kind else {
            return at(node, ptr, "expected a step object");
        };
        let tag_node = members
            .iter()
            .find(|m| m.0 == tag)
            .map(|m| &m.2)
            .ok_or_else(|| super::load::At {
                ptr: ptr.to_string(),
                pos: node.pos,
                msg: format!("missing {tag:?}"),
            })?;
        // The tag's pointer and the list of names are built only for a message.
        let known = match &tag_node.kind {
            Kind::Str(s) => table.iter().find(|t| t.0 == &**s).map(|t| t.0),
            _ => None,
        };
        let kind = match known {
            Some(k) => k.to_string(),
            None => named(
                tag_node,
                &format!("{ptr}/{tag}"),
                what,
                &names(table),
                |s| table.iter().find(|t| t.0 == s).map(|t| t.0.to_string()),
            )?,
        };
        let allowed_rest = table.iter().find(|t| t.0 == kind).map_or(&[][..], |t| t.1);
        for (key, key_pos, _) in members {
            let reason = match &**key {
                "app" if !allowed_rest.contains(&"app") => Some(format!(
                    "\"app\" does not apply to {tag} {kind:?}: it is not a call made by an application"
                )),
                "expect" if !allowed_rest.contains(&"expect") => Some(format!(
                    "\"expect\" does not apply to {tag} {kind:?}: only operations that call a BITS method (and check \"jobs\") have one"
                )),
                _ => None,
            };
            if let Some(msg) = reason {
                return Err(super::load::At {
                    ptr: format!("{ptr}/{key}"),
                    pos: *key_pos,
                    msg,
                });
            }
        }
        // The tag and the kind's fields, on the stack when they fit.
        let mut buf = [""; 40];
        let owned: Vec<&str>;
        let allowed: &[&str] = if allowed_rest.len() < buf.len() {
            buf[0] = tag;
            buf[1..=allowed_rest.len()].copy_from_slice(allowed_rest);
            &buf[..=allowed_rest.len()]
        } else {
            owned = std::iter::once(tag)
                .chain(allowed_rest.iter().copied())
                .collect();
            &owned
        };
        let f = Fields::new_with(node, ptr, || format!("a {kind:?} step"), allowed)?;
        Ok((kind, f))
    }

    // ------------------------------------------------------------------ names bound in the file

    /// The calling application: `app` or the default, which must have connected by now.
    pub(super) fn app(&self, f: &Fields) -> R<Option<String>> {
        let Some(n) = f.get("app") else {
            return Ok(None);
        };
        let p = f.ptr("app");
        let name = string(n, &p)?;
        if !self.known.contains(&name) {
            return at(
                n,
                &p,
                format!(
                    "application {} has not connected at this point (start it with {{\"do\": \"connect\", \"app\": {}, \"user\": …}}); connected so far: {}",
                    quote(&name),
                    quote(&name),
                    list(self.known.iter())
                ),
            );
        }
        Ok(Some(name))
    }

    pub(super) fn user(&self, n: &Node, p: &str) -> R<String> {
        let name = string(n, p)?;
        if !self.user_set.contains(&name) {
            return at(
                n,
                p,
                format!(
                    "unknown user {}; the world has {}",
                    quote(&name),
                    list(self.users.iter())
                ),
            );
        }
        Ok(name)
    }

    pub(super) fn job(&self, f: &Fields, key: &str) -> R<String> {
        let n = f.req(key, "a job alias bound earlier by create_job or get_job")?;
        let p = f.ptr(key);
        self.job_alias(n, &p)
    }

    pub(super) fn job_alias(&self, n: &Node, p: &str) -> R<String> {
        let alias = string(n, p)?;
        if !self.job_set.contains(&alias) {
            return at(
                n,
                p,
                format!(
                    "unknown job alias {}; aliases bound so far: {}",
                    quote(&alias),
                    list(self.jobs.iter())
                ),
            );
        }
        Ok(alias)
    }

    pub(super) fn new_job_alias(&mut self, n: &Node, p: &str) -> R<String> {
        let alias = string(n, p)?;
        if alias.is_empty() {
            return at(n, p, "a job alias must not be empty");
        }
        if self.job_set.contains(&alias) {
            return at(
                n,
                p,
                format!(
                    "job alias {} is already bound; choose a new name",
                    quote(&alias)
                ),
            );
        }
        self.job_set.insert(alias.clone());
        self.jobs.push(alias.clone());
        Ok(alias)
    }

    pub(super) fn expect(f: &Fields) -> R<HResult> {
        Ok(f.opt_with("expect", hresult)?.unwrap_or(HResult::S_OK))
    }

    // ------------------------------------------------------------------ operations

    /// An operation: its kind and fields, then the rest as its declaration reads them
    /// (`super::ops`).
    fn op(&mut self, node: &Node, ptr: &str) -> R<Step> {
        let (kind, f) = self.fields(node, ptr, "do", OPS, "operation")?;
        super::ops::load(self, &f, &kind)
    }
}

/// `property` plus its value under `key` (`value` for set, `is` for check property). The names and
/// the kind of value each takes come from the property table (`crate::properties`).
pub(super) fn property(f: &Fields, key: &str) -> R<PropertyValue> {
    let prop = property_name(f, PropertyValue::NAMES)?;
    property_value(f, key, prop)
}

/// The named `property` of a step, one of `names`.
pub(super) fn property_name(f: &Fields, names: &[&'static str]) -> R<Prop> {
    let name = f.req_with("property", "the property name", |n, p| {
        named(n, p, "property", names, |s| {
            names.iter().find(|x| **x == s).copied()
        })
    })?;
    Ok(Prop::from_name(name).expect("the table declares every name in NAMES"))
}

/// An integer `property`: a raw BITS_JOB_PROPERTY_ID for IBackgroundCopyJob5 (D35).
pub(super) fn raw_property_id(f: &Fields) -> R<Option<u32>> {
    match f.get("property") {
        Some(n) if matches!(n.kind, Kind::Num(_)) => {
            u32_field("a BITS_JOB_PROPERTY_ID")(n, &f.ptr("property")).map(Some)
        }
        _ => Ok(None),
    }
}

/// The value of a raw Job5 property: an integer (0 to 2^64-1), or a GUID for a CLSID (D35).
pub(super) fn raw_property_value(f: &Fields, key: &str) -> R<u128> {
    let v = f.req(key, "the property's value (an integer or a GUID)")?;
    let p = f.ptr(key);
    match &v.kind {
        Kind::Str(_) => super::convention::guid(v, &p),
        _ => integer(v, &p, u64::MAX, "a property value").map(u128::from),
    }
}

/// The value of property `prop` at `key`.
pub(super) fn property_value(f: &Fields, key: &str, prop: Prop) -> R<PropertyValue> {
    let name = prop.name();
    let v = f.req(key, "the property's value")?;
    let p = f.ptr(key);
    let scalar = match prop.scalar_kind() {
        Some(ScalarKind::Text) => Scalar::Text(string(v, &p)?),
        Some(ScalarKind::Number) => Scalar::Number(u32_field(prop.number_hint())(v, &p)?),
        Some(ScalarKind::Priority) => Scalar::Priority(match &v.kind {
            Kind::Num(_) => PriorityValue::Raw(u32_field(prop.number_hint())(v, &p)?),
            Kind::Str(_) => PriorityValue::Named(named(
                v,
                &p,
                "priority",
                &Priority::ALL.iter().map(|v| v.name()).collect::<Vec<_>>(),
                Priority::from_name,
            )?),
            k => {
                return at(
                    v,
                    &p,
                    format!(
                        "expected a priority (FOREGROUND, HIGH, NORMAL or LOW) or a raw integer, found {}",
                        k.describe()
                    ),
                )
            }
        }),
        Some(ScalarKind::Flags(names)) => Scalar::Flags(super::convention::flags(v, &p, prop.number_hint(), names)?),
        Some(ScalarKind::Bool) => Scalar::Bool(boolean(v, &p)?),
        Some(ScalarKind::Wide) => Scalar::Wide(integer(v, &p, u64::MAX, prop.number_hint())?),
        Some(ScalarKind::Guid) => Scalar::Guid(super::convention::guid(v, &p)?),
        Some(ScalarKind::Proxy) => Scalar::Proxy(proxy_value(v, &p)?),
        Some(ScalarKind::CmdLine) => Scalar::CmdLine(cmd_line_value(v, &p)?),
        Some(ScalarKind::OptText) => Scalar::OptText(opt_string(v, &p)?),
        None => return at(v, &p, format!("property {name} has no value scenario files can write")),
    };
    match PropertyValue::from_scalar(prop, scalar) {
        Some(value) => Ok(value),
        None => at(
            v,
            &p,
            format!("property {name} does not take this kind of value"),
        ),
    }
}

/// A string or null.
pub(super) fn opt_string(n: &Node, p: &str) -> R<Option<String>> {
    match &n.kind {
        Kind::Null => Ok(None),
        Kind::Str(s) => Ok(Some(s.to_string())),
        k => at(
            n,
            p,
            format!("expected a string or null, found {}", k.describe()),
        ),
    }
}

/// `proxy_settings`: `{ "usage": PRECONFIG | NO_PROXY | OVERRIDE | AUTODETECT | integer, "list",
/// "bypass" }` (each list a string or null, absent: null).
fn proxy_value(n: &Node, p: &str) -> R<crate::ProxyValue> {
    const USAGES: [&str; 4] = ["PRECONFIG", "NO_PROXY", "OVERRIDE", "AUTODETECT"];
    let f = Fields::new(n, p, "proxy settings", &["usage", "list", "bypass"])?;
    let u = f.req("usage", "a proxy usage")?;
    let up = f.ptr("usage");
    let usage = match &u.kind {
        Kind::Num(_) => u32_field("a raw BG_JOB_PROXY_USAGE value")(u, &up)?,
        _ => named(u, &up, "proxy usage", &USAGES, |s| {
            USAGES.iter().position(|x| *x == s).map(|i| i as u32)
        })?,
    };
    Ok(crate::ProxyValue {
        usage,
        list: f.opt_with("list", opt_string)?.flatten(),
        bypass: f.opt_with("bypass", opt_string)?.flatten(),
    })
}

/// `notify_cmd_line`: `{ "program": string or null, "parameters": string or null }` (both
/// required, so that a check says what it expects of each).
fn cmd_line_value(n: &Node, p: &str) -> R<crate::CmdLineValue> {
    let f = Fields::new(n, p, "command line", &["program", "parameters"])?;
    let program = f.req("program", "a program path or null")?;
    let parameters = f.req("parameters", "parameters or null")?;
    Ok(crate::CmdLineValue {
        program: opt_string(program, &f.ptr("program"))?,
        parameters: opt_string(parameters, &f.ptr("parameters"))?,
    })
}

pub(super) fn list<'a>(items: impl Iterator<Item = &'a String>) -> String {
    let v: Vec<String> = items.map(|s| quote(s)).collect();
    if v.is_empty() {
        "none".to_string()
    } else {
        one_of(&v.iter().map(String::as_str).collect::<Vec<_>>()).replace(" or ", ", ")
    }
}
