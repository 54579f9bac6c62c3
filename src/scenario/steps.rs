//! Reading and validating the steps: each step's fields and types, and — in file order — that every
//! application, user, job alias and error alias it names exists at that point of the file.

use super::json::{one_of, quote, Kind, Node};
use super::load::{
    array, at, hresult, named, network, remote, string, u32_field, u64_field, Fields, R,
};
use super::types::{
    Action, Op, PriorityValue, PropertyValue, StateMethod, Step, WorldSpec, DEFAULT_APP,
};
use crate::properties::{Prop, Scalar, ScalarKind};
use crate::{HResult, JobType, Priority};
use std::collections::{BTreeMap, BTreeSet};

/// Fields of each operation besides `do` (and whether `app` / `expect` apply is read off the list).
const OPS: &[(&str, &[&str])] = &[
    ("connect", &["app", "user"]),
    ("exit", &["app"]),
    ("logon", &["user"]),
    ("logoff", &["user"]),
    ("create_job", &["app", "name", "type", "bind", "expect"]),
    ("get_job", &["app", "job", "bind", "expect"]),
    ("add_file", &["app", "job", "remote", "local", "expect"]),
    ("add_file_set", &["app", "job", "files", "expect"]),
    ("resume", &["app", "job", "expect"]),
    ("suspend", &["app", "job", "expect"]),
    ("cancel", &["app", "job", "expect"]),
    ("complete", &["app", "job", "expect"]),
    ("set", &["app", "job", "property", "value", "expect"]),
    ("take_ownership", &["app", "job", "expect"]),
    ("get_error", &["app", "job", "bind_error", "expect"]),
    ("register_callback", &["app", "job", "returns", "expect"]),
    ("advance", &["seconds"]),
    ("run_until_idle", &["max_seconds"]),
    ("network", &["state"]),
    ("set_remote", &["url", "remote"]),
    ("restart_service", &[]),
];

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
    alive: BTreeSet<String>,
    /// Applications that ever connected.
    known: BTreeSet<String>,
    /// Job aliases, in binding order (for messages).
    jobs: Vec<String>,
    /// The same aliases, for O(log n) look-ups.
    job_set: BTreeSet<String>,
    /// Error aliases and the application holding each.
    pub(super) errors: BTreeMap<String, String>,
}

impl StepReader {
    pub fn new(world: &WorldSpec) -> StepReader {
        let app = BTreeSet::from([DEFAULT_APP.to_string()]);
        let users: Vec<String> = world
            .effective_users()
            .into_iter()
            .map(|u| u.name)
            .collect();
        StepReader {
            user_set: users.iter().cloned().collect(),
            users,
            job_set: BTreeSet::new(),
            alive: app.clone(),
            known: app,
            jobs: Vec::new(),
            errors: BTreeMap::new(),
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
        let tag_ptr = format!("{ptr}/{tag}");
        let kind = named(tag_node, &tag_ptr, what, &names(table), |s| {
            table.iter().find(|t| t.0 == s).map(|t| t.0.to_string())
        })?;
        let allowed_rest = table.iter().find(|t| t.0 == kind).map_or(&[][..], |t| t.1);
        for (key, key_pos, _) in members {
            let reason = match key.as_str() {
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
        let mut allowed = vec![tag];
        allowed.extend_from_slice(allowed_rest);
        let f = Fields::new(node, ptr, &format!("a {kind:?} step"), &allowed)?;
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

    fn new_job_alias(&mut self, n: &Node, p: &str) -> R<String> {
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

    fn expect(f: &Fields) -> R<HResult> {
        Ok(f.opt_with("expect", hresult)?.unwrap_or(HResult::S_OK))
    }

    // ------------------------------------------------------------------ operations

    fn op(&mut self, node: &Node, ptr: &str) -> R<Step> {
        let (kind, f) = self.fields(node, ptr, "do", OPS, "operation")?;
        // `connect` names a new application; every other step names one that connected already.
        let mut app = if kind == "connect" {
            None
        } else {
            self.app(&f)?
        };
        let op = match kind.as_str() {
            "connect" => {
                let n = f.req("app", "the name of the new application")?;
                let p = f.ptr("app");
                let name = string(n, &p)?;
                if self.alive.contains(&name) {
                    return at(
                        n,
                        &p,
                        format!("application {} is already connected", quote(&name)),
                    );
                }
                let user = f.req_with("user", "the user it runs as", |n, p| self.user(n, p))?;
                self.alive.insert(name.clone());
                self.known.insert(name.clone());
                app = Some(name);
                Op::Connect { user }
            }
            "exit" => {
                let name = app.clone().unwrap_or_else(|| DEFAULT_APP.to_string());
                self.alive.remove(&name);
                Op::Exit
            }
            "logon" | "logoff" => {
                let user = f.req_with("user", "a user name", |n, p| self.user(n, p))?;
                if kind == "logon" {
                    Op::Logon { user }
                } else {
                    Op::Logoff { user }
                }
            }
            "create_job" => {
                let name = f.req_with("name", "the job's display name", string)?;
                let job_type = f
                    .opt_with("type", |n, p| {
                        named(
                            n,
                            p,
                            "job type",
                            &JobType::ALL.iter().map(|v| v.name()).collect::<Vec<_>>(),
                            JobType::from_name,
                        )
                    })?
                    .unwrap_or(JobType::Download);
                let expect = Self::expect(&f)?;
                let b = f.req("bind", "the alias the new job gets")?;
                let bind = self.new_job_alias(b, &f.ptr("bind"))?;
                Op::CreateJob {
                    name,
                    job_type,
                    bind,
                    expect,
                }
            }
            "get_job" => {
                let job = self.job(&f, "job")?;
                let expect = Self::expect(&f)?;
                let bind = match f.get("bind") {
                    Some(b) => Some(self.new_job_alias(b, &f.ptr("bind"))?),
                    None => None,
                };
                Op::GetJob { job, bind, expect }
            }
            "add_file" => Op::AddFile {
                job: self.job(&f, "job")?,
                remote: f.req_with("remote", "the remote URL", string)?,
                local: f.req_with("local", "the local file name", string)?,
                expect: Self::expect(&f)?,
            },
            "add_file_set" => Op::AddFileSet {
                job: self.job(&f, "job")?,
                files: f.req_with(
                    "files",
                    "an array of {\"remote\", \"local\"} objects",
                    file_set,
                )?,
                expect: Self::expect(&f)?,
            },
            "resume" | "suspend" | "cancel" | "complete" => Op::State {
                method: match kind.as_str() {
                    "resume" => StateMethod::Resume,
                    "suspend" => StateMethod::Suspend,
                    "cancel" => StateMethod::Cancel,
                    _ => StateMethod::Complete,
                },
                job: self.job(&f, "job")?,
                expect: Self::expect(&f)?,
            },
            "set" => Op::Set {
                job: self.job(&f, "job")?,
                value: property(&f, "value")?,
                expect: Self::expect(&f)?,
            },
            "take_ownership" => Op::TakeOwnership {
                job: self.job(&f, "job")?,
                expect: Self::expect(&f)?,
            },
            "get_error" => {
                let job = self.job(&f, "job")?;
                let expect = Self::expect(&f)?;
                let bind_error = match f.get("bind_error") {
                    None => None,
                    Some(n) => {
                        let p = f.ptr("bind_error");
                        let alias = string(n, &p)?;
                        if alias.is_empty() {
                            return at(n, &p, "an error alias must not be empty");
                        }
                        if self.errors.contains_key(&alias) {
                            return at(
                                n,
                                &p,
                                format!(
                                    "error alias {} is already bound; choose a new name",
                                    quote(&alias)
                                ),
                            );
                        }
                        let holder = app.clone().unwrap_or_else(|| DEFAULT_APP.to_string());
                        self.errors.insert(alias.clone(), holder);
                        Some(alias)
                    }
                };
                Op::GetError {
                    job,
                    bind_error,
                    expect,
                }
            }
            "register_callback" => Op::RegisterCallback {
                job: self.job(&f, "job")?,
                returns: f.opt_with("returns", hresult)?.unwrap_or(HResult::S_OK),
                expect: Self::expect(&f)?,
            },
            "advance" => Op::Advance {
                seconds: f.req_with("seconds", "whole seconds ≥ 0", u64_field("seconds"))?,
            },
            "run_until_idle" => Op::RunUntilIdle {
                max_seconds: f.opt_with("max_seconds", u64_field("seconds"))?,
            },
            "network" => Op::Network {
                state: f.req_with("state", "\"up\" or \"down\"", network)?,
            },
            "set_remote" => Op::SetRemote {
                url: f.req_with("url", "the remote's URL", string)?,
                remote: f.req_with("remote", "the remote, as in the world", remote)?,
            },
            _ => Op::RestartService,
        };
        Ok(Step {
            app,
            action: Action::Do(op),
        })
    }
}

/// The `files` of `add_file_set`: `{ "remote", "local" }` objects, in order (an empty array is valid:
/// AddFileSet refuses it with E_INVALIDARG, which a scenario may want to show).
fn file_set(n: &Node, p: &str) -> R<Vec<(String, String)>> {
    let items = array(n, p, "an array of {\"remote\", \"local\"} objects")?;
    let mut files = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let ip = format!("{p}/{i}");
        let f = Fields::new(item, &ip, "a file of the set", &["remote", "local"])?;
        files.push((
            f.req_with("remote", "the remote URL", string)?,
            f.req_with("local", "the local file name", string)?,
        ));
    }
    Ok(files)
}

/// `property` plus its value under `key` (`value` for set, `is` for check property). The names and
/// the kind of value each takes come from the property table (`crate::properties`).
pub(super) fn property(f: &Fields, key: &str) -> R<PropertyValue> {
    let name = f.req_with("property", "the property name", |n, p| {
        named(n, p, "property", PropertyValue::NAMES, |s| {
            PropertyValue::NAMES.iter().find(|x| **x == s).copied()
        })
    })?;
    let prop = Prop::from_name(name).expect("the table declares every name in NAMES");
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

pub(super) fn list<'a>(items: impl Iterator<Item = &'a String>) -> String {
    let v: Vec<String> = items.map(|s| quote(s)).collect();
    if v.is_empty() {
        "none".to_string()
    } else {
        one_of(&v.iter().map(String::as_str).collect::<Vec<_>>()).replace(" or ", ", ")
    }
}
