//! Reading and validating the `check` steps (see `steps.rs` for the operations and the names bound in
//! the file).

use super::json::{quote, Kind, Node};
use super::load::{
    array, at, boolean, hresult, integer, named, string, u32_field, u64_field, Fields, R,
};
use super::steps::{
    list, property_name, property_value, raw_property_id, raw_property_value, StepReader,
};
use super::types::{
    Action, BodyCheck, BytesTotal, Check, ErrorExpectation, FileValue, LocalTarget, PriorityValue,
    PropertyValue, SameAs, Step,
};
use crate::job::defaults;
use crate::{ErrorContext, HResult, JobState, NotifyEvent, NotifyFlags};

/// Fields of each check besides `check`.
const CHECKS: &[(&str, &[&str])] = &[
    ("state", &["app", "job", "is"]),
    ("error", &["app", "job", "none", "context", "code", "file"]),
    ("error_object", &["app", "error", "code"]),
    ("error_count", &["app", "job", "is"]),
    (
        "progress",
        &[
            "app",
            "job",
            "bytes_total",
            "bytes_transferred",
            "files_total",
            "files_transferred",
        ],
    ),
    ("property", &["app", "job", "property", "is", "expect"]),
    ("owner", &["app", "job", "is"]),
    (
        "times",
        &[
            "app",
            "job",
            "creation",
            "modification",
            "transfer_completion",
        ],
    ),
    ("jobs", &["app", "all_users", "count", "names", "expect"]),
    ("notifications", &["app", "are"]),
    ("launches", &["are"]),
    ("time", &["seconds"]),
    ("enum_count", &["app", "enum", "is", "expect"]),
    (
        "local_file",
        &[
            "path",
            "job",
            "file",
            "temporary",
            "exists",
            "size",
            "sha256",
            "text",
            "same_as",
        ],
    ),
    ("local_dir", &["dir", "names"]),
    (
        "file_property",
        &["app", "job", "file", "property", "is", "expect"],
    ),
    (
        "credentials",
        &["job", "target", "scheme", "present", "user"],
    ),
    ("requests", &["url", "count", "last"]),
    (
        "upload_received",
        &["url", "count", "size", "sha256", "text", "same_as"],
    ),
];

/// The `is` of `check file_property` for `property`.
fn file_value(property: &str, n: &Node, p: &str) -> R<FileValue> {
    Ok(match property {
        "remote_name" => FileValue::RemoteName(string(n, p)?),
        "local_name" => FileValue::LocalName(string(n, p)?),
        "validation_state" => FileValue::ValidationState(boolean(n, p)?),
        "from_peer" => FileValue::FromPeer(boolean(n, p)?),
        "file_ranges" => FileValue::FileRanges(ranges(n, p)?),
        "filled_file_ranges" => FileValue::FilledFileRanges(ranges(n, p)?),
        // D64: the header lines that must each appear (also the `is` of a raw id).
        _ if property == "http_response_headers" || property.parse::<u32>().is_ok() => {
            let items = array(n, p, "an array of header lines")?;
            FileValue::HttpResponseHeaders(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, it)| string(it, &format!("{p}/{i}")))
                    .collect::<R<Vec<_>>>()?,
            )
        }
        "temporary_name" => match &n.kind {
            Kind::Str(s) => FileValue::TemporaryName {
                name: s.to_string(),
                like: false,
            },
            _ => {
                let f = Fields::new(n, p, "a name or { like }", &["like"])?;
                FileValue::TemporaryName {
                    name: f.req_with(
                        "like",
                        "a pattern (* matches any run of characters)",
                        string,
                    )?,
                    like: true,
                }
            }
        },
        _ => {
            let f = Fields::new(
                n,
                p,
                "file progress ({ bytes_total, bytes_transferred, completed })",
                &["bytes_total", "bytes_transferred", "completed"],
            )?;
            FileValue::Progress {
                bytes_total: f.opt_with("bytes_total", bytes_total)?,
                bytes_transferred: f.opt_with("bytes_transferred", u64_field("a byte count"))?,
                completed: f.opt_with("completed", boolean)?,
            }
        }
    })
}

/// The body-check fields of `f` (`size`, `sha256`, `text`, `same_as`).
pub(super) fn body_check(f: &Fields) -> R<BodyCheck> {
    let sha256 = f.opt_with("sha256", |n, p| {
        let s = string(n, p)?;
        if s.len() != 64 || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return at(n, p, "a SHA-256 is 64 lowercase hex digits");
        }
        Ok(s)
    })?;
    let same_as = f.opt_with("same_as", |n, p| {
        let s = Fields::new(
            n,
            p,
            "a body to compare with ({ remote, ranges } or { local })",
            &["remote", "ranges", "local"],
        )?;
        match (s.has("remote"), s.has("local")) {
            (true, false) => Ok(SameAs::Remote {
                url: s.req_with("remote", "", string)?,
                ranges: s.opt_with("ranges", ranges)?,
            }),
            (false, true) if !s.has("ranges") => {
                Ok(SameAs::Local(s.req_with("local", "", string)?))
            }
            (false, true) => at(n, p, "\"ranges\" goes only with \"remote\""),
            _ => at(n, p, "same_as has exactly one of \"remote\" or \"local\""),
        }
    })?;
    Ok(BodyCheck {
        size: f.opt_with("size", u64_field("a size in bytes"))?,
        sha256,
        text: f.opt_with("text", string)?,
        same_as,
    })
}

/// Ranges: `[offset, length]` pairs, `length` possibly `"TO_EOF"` (stored as u64::MAX).
pub(super) fn ranges(n: &Node, p: &str) -> R<Vec<(u64, u64)>> {
    let items = array(n, p, "ranges: an array of [offset, length] pairs")?;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        // The pointers are built only for a message (a list of ranges may be long).
        let pair = match &item.kind {
            Kind::Arr(pair) if pair.len() == 2 => pair,
            _ => {
                let ip = format!("{p}/{i}");
                array(item, &ip, "a range: [offset, length]")?;
                return at(item, &ip, "a range is a pair [offset, length]");
            }
        };
        let num = |k: usize| -> R<u64> {
            let n = &pair[k];
            match &n.kind {
                Kind::Str(s) if s == "TO_EOF" => return Ok(u64::MAX),
                // Digits that fit: what `integer` accepts, without building the pointer.
                Kind::Num(raw) if raw.bytes().all(|b| b.is_ascii_digit()) => {
                    if let Ok(v) = raw.parse::<u64>() {
                        return Ok(v);
                    }
                }
                _ => {}
            }
            integer(
                n,
                &format!("{p}/{i}/{k}"),
                u64::MAX,
                "an integer or \"TO_EOF\"",
            )
        };
        out.push((num(0)?, num(1)?));
    }
    Ok(out)
}

impl StepReader {
    // ------------------------------------------------------------------ checks

    pub(super) fn check(&mut self, node: &Node, ptr: &str) -> R<Step> {
        let (kind, f) = self.fields(node, ptr, "check", CHECKS, "check")?;
        let app = self.app(&f)?;
        let check = match kind.as_str() {
            "state" => Check::State {
                job: self.job(&f, "job")?,
                is: f.req_with("is", "a job state", |n, p| {
                    named(
                        n,
                        p,
                        "job state",
                        &JobState::ALL.iter().map(|v| v.name()).collect::<Vec<_>>(),
                        JobState::from_name,
                    )
                })?,
            },
            "error" => {
                let job = self.job(&f, "job")?;
                let detail = ["context", "code", "file"].iter().any(|k| f.has(k));
                let expect = match f.get("none") {
                    Some(n) => {
                        let p = f.ptr("none");
                        if !boolean(n, &p)? {
                            return at(
                                n,
                                &p,
                                "\"none\" can only be true; to expect an error, give \"context\", \"code\" or \"file\" instead",
                            );
                        }
                        if detail {
                            return at(
                                n,
                                &p,
                                "\"none\": true cannot be combined with \"context\", \"code\" or \"file\"",
                            );
                        }
                        ErrorExpectation::None
                    }
                    None if !detail => {
                        return at(
                            node,
                            ptr,
                            "check \"error\" needs \"none\": true, or at least one of \"context\", \"code\" or \"file\"",
                        )
                    }
                    None => ErrorExpectation::Some {
                        context: f.opt_with("context", |n, p| {
                            named(
                                n,
                                p,
                                "error context",
                                &ErrorContext::ALL.iter().map(|v| v.name()).collect::<Vec<_>>(),
                                ErrorContext::from_name,
                            )
                        })?,
                        code: f.opt_with("code", hresult)?,
                        file: f.opt_with("file", u32_field("a 0-based file index"))?,
                    },
                };
                Check::Error { job, expect }
            }
            "error_object" => {
                let n = f.req("error", "an error alias bound by get_error's bind_error")?;
                let p = f.ptr("error");
                let error = string(n, &p)?;
                let Some(holder) = self.errors.get(&error) else {
                    return at(
                        n,
                        &p,
                        format!(
                            "unknown error alias {}; aliases bound so far: {}",
                            quote(&error),
                            list(self.errors.keys())
                        ),
                    );
                };
                if let Some(a) = &app {
                    if a != holder {
                        return at(
                            f.get("app").unwrap_or(node),
                            &f.ptr("app"),
                            format!(
                                "error object {} is held by application {}, not {}",
                                quote(&error),
                                quote(holder),
                                quote(a)
                            ),
                        );
                    }
                }
                Check::ErrorObject {
                    error,
                    code: f.req_with("code", "the HRESULT calls on it return", hresult)?,
                }
            }
            "error_count" => Check::ErrorCount {
                job: self.job(&f, "job")?,
                is: f.req_with("is", "the error count", u32_field("an error count"))?,
            },
            "progress" => {
                let job = self.job(&f, "job")?;
                if ![
                    "bytes_total",
                    "bytes_transferred",
                    "files_total",
                    "files_transferred",
                ]
                .iter()
                .any(|k| f.has(k))
                {
                    return at(
                        node,
                        ptr,
                        "check \"progress\" needs at least one of \"bytes_total\", \"bytes_transferred\", \"files_total\" or \"files_transferred\"",
                    );
                }
                let bytes_total = f.opt_with("bytes_total", bytes_total)?;
                let bytes_transferred =
                    f.opt_with("bytes_transferred", u64_field("a byte count"))?;
                let files_total = f.opt_with("files_total", u32_field("a file count"))?;
                let files_transferred =
                    f.opt_with("files_transferred", u32_field("a file count"))?;
                // GetProgress never reports more transferred than there is in total.
                if let (Some(BytesTotal::Bytes(total)), Some(done)) =
                    (bytes_total, bytes_transferred)
                {
                    if done > total {
                        return never(
                            &f,
                            "bytes_transferred",
                            format!("bytes_transferred {done} exceeds bytes_total {total}"),
                        );
                    }
                }
                if let (Some(total), Some(done)) = (files_total, files_transferred) {
                    if done > total {
                        return never(
                            &f,
                            "files_transferred",
                            format!("files_transferred {done} exceeds files_total {total}"),
                        );
                    }
                }
                Check::Progress {
                    job,
                    bytes_total,
                    bytes_transferred,
                    files_total,
                    files_transferred,
                }
            }
            "property" => {
                let job = self.job(&f, "job")?;
                let expect = StepReader::expect(&f)?;
                let prop_is = |name: &str| {
                    f.get("property")
                        .is_some_and(|n| matches!(&n.kind, Kind::Str(s) if s == name))
                };
                // D28: GetCustomHeaders answers S_FALSE (and NULL) when no headers are set; it is the
                // one job getter with a success code other than S_OK (scenario contract, part 2).
                let headers_none = expect == HResult::S_FALSE && prop_is("custom_headers");
                if !expect.is_failure() && expect != HResult::S_OK && !headers_none {
                    return never(
                        &f,
                        "expect",
                        format!("{expect}: of these getters only custom_headers returns a success code other than S_OK (S_FALSE)"),
                    );
                }
                // reply_data's BG_E_TOO_LARGE reports the length: `is: { size }` (D66).
                let too_large = prop_is("reply_data") && expect == HResult::BG_E_TOO_LARGE;
                if expect.is_failure() && f.has("is") && !too_large {
                    return at(
                        f.get("is").unwrap_or(f.node),
                        &f.ptr("is"),
                        format!(
                            "a getter that fails with {expect} returns no value: leave \"is\" out"
                        ),
                    );
                }
                if f.get("property")
                    .is_some_and(|n| matches!(&n.kind, Kind::Str(s) if s == "client_certificate"))
                {
                    client_certificate(&f, job, expect)?
                } else if prop_is("reply_progress") {
                    reply_progress(&f, job, expect)?
                } else if prop_is("reply_data") {
                    let body = match f.get("is") {
                        None => BodyCheck::default(),
                        Some(n) => {
                            let g = Fields::new(
                                n,
                                &f.ptr("is"),
                                "a body check ({ size, sha256, text, same_as })",
                                if too_large {
                                    &["size"]
                                } else {
                                    &["size", "sha256", "text", "same_as"]
                                },
                            )?;
                            body_check(&g)?
                        }
                    };
                    Check::ReplyData {
                        job,
                        body: Box::new(body),
                        expect,
                    }
                } else if let Some(id) = raw_property_id(&f)? {
                    let is = if expect.is_failure() {
                        None
                    } else {
                        Some(raw_property_value(&f, "is")?)
                    };
                    Check::RawProperty {
                        job,
                        id,
                        is,
                        expect,
                    }
                } else if headers_none {
                    // S_FALSE is GetCustomHeaders' answer exactly when it returns NULL (D28): the
                    // check reads NULL, and a value other than null could never pass.
                    let none = PropertyValue::CustomHeaders(None);
                    let is = match f.has("is") {
                        true => property_value(&f, "is", none.prop())?,
                        false => none.clone(),
                    };
                    if is != none {
                        return never(
                            &f,
                            "is",
                            "GetCustomHeaders returns S_FALSE only with no headers (null)"
                                .to_string(),
                        );
                    }
                    Check::Property { job, is }
                } else if expect.is_failure() {
                    let prop = property_name(&f, &checkable_names())?;
                    Check::PropertyFails { job, prop, expect }
                } else {
                    let prop = property_name(&f, &checkable_names())?;
                    let is = property_value(&f, "is", prop)?;
                    if let Some(why) = never_stored(&is) {
                        return never(&f, "is", why);
                    }
                    Check::Property { job, is }
                }
            }
            "times" => {
                let job = self.job(&f, "job")?;
                let keys = ["creation", "modification", "transfer_completion"];
                if !keys.iter().any(|k| f.has(k)) {
                    return at(
                        node,
                        ptr,
                        "a times check names at least one of creation, modification, transfer_completion",
                    );
                }
                let time = |n: &Node, p: &str| -> R<Option<u64>> {
                    match &n.kind {
                        Kind::Str(s) if s == "UNKNOWN" => Ok(None),
                        _ => u64_field("virtual seconds since the start, or \"UNKNOWN\"")(n, p)
                            .map(Some),
                    }
                };
                Check::Times {
                    job,
                    creation: f.opt_with("creation", time)?,
                    modification: f.opt_with("modification", time)?,
                    transfer_completion: f.opt_with("transfer_completion", time)?,
                }
            }
            "owner" => Check::Owner {
                job: self.job(&f, "job")?,
                is: f.req_with("is", "the owner's user name", |n, p| self.user(n, p))?,
            },
            "jobs" => jobs(&f)?,
            "enum_count" => {
                let enumerator = super::ops::held_enum(self, &f, app.as_deref())?;
                let expect = f.opt_with("expect", hresult)?.unwrap_or(HResult::S_OK);
                if !expect.is_failure() && expect != HResult::S_OK {
                    return never(
                        &f,
                        "expect",
                        format!("GetCount succeeds only with S_OK, not {expect}"),
                    );
                }
                let is = if expect.is_failure() {
                    if let Some(n) = f.get("is") {
                        return at(
                            n,
                            &f.ptr("is"),
                            format!("\"is\" cannot be checked when GetCount is expected to fail with {expect}"),
                        );
                    }
                    None
                } else {
                    Some(f.req_with("is", "the number of elements", u32_field("a count"))?)
                };
                Check::EnumCount {
                    enumerator,
                    is,
                    expect,
                }
            }
            "notifications" => {
                let n = f.req("are", "the list of expected deliveries")?;
                let p = f.ptr("are");
                let mut are = Vec::new();
                for (i, item) in array(n, &p, "the expected deliveries")?.iter().enumerate() {
                    let ip = format!("{p}/{i}");
                    let e = Fields::new(
                        item,
                        &ip,
                        "a delivery ({ event, job, file, ranges })",
                        &["event", "job", "file", "ranges"],
                    )?;
                    let event = e.req_with("event", "the callback method", |n, p| {
                        named(
                            n,
                            p,
                            "notification event",
                            &[
                                "JOB_TRANSFERRED",
                                "JOB_ERROR",
                                "JOB_MODIFICATION",
                                "FILE_TRANSFERRED",
                                "FILE_RANGES_TRANSFERRED",
                            ],
                            NotifyEvent::from_name,
                        )
                    })?;
                    // D60: FILE_TRANSFERRED names its file (an index); the job events have none.
                    let file = if event.is_file_event() {
                        Some(e.req_with("file", "a file index", u32_field("a file index"))?)
                    } else {
                        if let Some(n) = e.get("file") {
                            return Err(super::load::At {
                                ptr: e.ptr("file"),
                                pos: n.pos,
                                msg: format!("\"file\" is only for FILE_TRANSFERRED and FILE_RANGES_TRANSFERRED, not {event}"),
                            });
                        }
                        None
                    };
                    // D76: FILE_RANGES_TRANSFERRED names the ranges it carries; no other event has any.
                    let ranges = if event == NotifyEvent::FileRangesTransferred {
                        e.req_with("ranges", "an array of [offset, length] pairs", ranges)?
                    } else {
                        if let Some(n) = e.get("ranges") {
                            return Err(super::load::At {
                                ptr: e.ptr("ranges"),
                                pos: n.pos,
                                msg: format!(
                                    "\"ranges\" is only for FILE_RANGES_TRANSFERRED, not {event}"
                                ),
                            });
                        }
                        Vec::new()
                    };
                    are.push((event, self.job(&e, "job")?, file, ranges));
                }
                Check::Notifications { are }
            }
            "launches" => {
                let n = f.req("are", "the list of expected launches")?;
                let p = f.ptr("are");
                let mut are = Vec::new();
                for (i, item) in array(n, &p, "the expected launches")?.iter().enumerate() {
                    let ip = format!("{p}/{i}");
                    let (e, spec) = super::cmdline::launch_fields(item, &ip)?;
                    are.push(spec.with_job(self.job(&e, "job")?));
                }
                Check::Launches { are }
            }
            "local_file" => {
                let target = match (f.has("path"), f.has("job")) {
                    (true, false) if !f.has("file") && !f.has("temporary") => {
                        LocalTarget::Path(f.req_with("path", "", string)?)
                    }
                    (false, true) => LocalTarget::File {
                        job: self.job(&f, "job")?,
                        file: f.req_with("file", "the file's index in its job", u32_field("a file index"))?,
                        temporary: f.opt_with("temporary", boolean)?.unwrap_or(false),
                    },
                    _ => {
                        return at(
                            node,
                            ptr,
                            "local_file names its file by \"path\", or by \"job\" and \"file\" (with optional \"temporary\"), not both",
                        )
                    }
                };
                let exists = f.opt_with("exists", boolean)?;
                let body = body_check(&f)?;
                if exists == Some(false) && body != BodyCheck::default() {
                    return at(node, ptr, "a file expected not to exist has no body to check: this check can never pass");
                }
                Check::LocalFile {
                    target: Box::new(target),
                    exists,
                    body: Box::new(body),
                }
            }
            "file_property" => {
                let job = self.job(&f, "job")?;
                let file = f.req_with(
                    "file",
                    "the file's index in its job",
                    u32_field("a file index"),
                )?;
                let property = f.req_with("property", "a file property", |n, p| {
                    if let Kind::Num(_) = n.kind {
                        // File5::GetProperty by raw BITS_FILE_PROPERTY_ID (D64), kept as its digits.
                        return Ok(u32_field("a BITS_FILE_PROPERTY_ID")(n, p)?.to_string());
                    }
                    let s = string(n, p)?;
                    const KNOWN: [&str; 9] = [
                        "remote_name",
                        "local_name",
                        "progress",
                        "temporary_name",
                        "validation_state",
                        "from_peer",
                        "file_ranges",
                        "filled_file_ranges",
                        "http_response_headers",
                    ];
                    if !KNOWN.contains(&s.as_str()) {
                        return at(
                            n,
                            p,
                            format!(
                                "unknown file property {}; expected one of {}",
                                quote(&s),
                                KNOWN.join(", ")
                            ),
                        );
                    }
                    Ok(s)
                })?;
                let expect = f.opt_with("expect", hresult)?.unwrap_or(HResult::S_OK);
                let is = f.opt_with("is", |n, p| file_value(&property, n, p))?;
                if expect.is_failure() && is.is_some() {
                    return at(node, ptr, "a getter that fails returns no value: leave \"is\" out with a failing \"expect\"");
                }
                if !expect.is_failure() && is.is_none() {
                    return at(
                        node,
                        ptr,
                        "check \"file_property\" needs \"is\" (or a failing \"expect\")",
                    );
                }
                Check::FileProperty {
                    job,
                    file,
                    property,
                    is,
                    expect,
                }
            }
            "local_dir" => Check::LocalDir {
                dir: f.req_with("dir", "the folder's Windows name", string)?,
                names: f.req_with("names", "the sorted entry names", |n, p| {
                    let items = array(n, p, "the sorted entry names")?;
                    let names = items
                        .iter()
                        .enumerate()
                        .map(|(i, it)| string(it, &format!("{p}/{i}")))
                        .collect::<R<Vec<_>>>()?;
                    if names.windows(2).any(|w| w[0] >= w[1]) {
                        return at(n, p, "the names must be sorted and distinct");
                    }
                    Ok(names)
                })?,
            },
            "credentials" => Check::Credentials {
                job: self.job(&f, "job")?,
                target: f.req_with("target", "SERVER or PROXY", |n, p| {
                    named(
                        n,
                        p,
                        "authentication target",
                        &["SERVER", "PROXY"],
                        crate::AuthTarget::from_name,
                    )
                })?,
                scheme: f.req_with("scheme", "an authentication scheme", |n, p| {
                    named(
                        n,
                        p,
                        "authentication scheme",
                        &["BASIC", "DIGEST", "NTLM", "NEGOTIATE", "PASSPORT"],
                        crate::AuthScheme::from_name,
                    )
                })?,
                present: f.req_with("present", "true or false", super::load::boolean)?,
                user: match f.get("user") {
                    None => None,
                    Some(n) => {
                        if f.get("present")
                            .is_some_and(|p| matches!(p.kind, Kind::Bool(false)))
                        {
                            return at(
                                n,
                                &f.ptr("user"),
                                "a user name is checked only with \"present\": true",
                            );
                        }
                        Some(super::steps::opt_string(n, &f.ptr("user"))?)
                    }
                },
            },
            "requests" => Check::Requests {
                url: f.req_with("url", "the URL", super::load::string)?,
                count: f.opt_with("count", u64_field("a number of requests"))?,
                last: f.opt_with("last", last_request)?,
            },
            "upload_received" => Check::UploadReceived {
                url: f.req_with("url", "the URL", super::load::string)?,
                count: f.opt_with("count", u64_field("a number of uploads"))?,
                body: Box::new(body_check(&f)?),
            },
            _ => Check::Time {
                seconds: f.req_with(
                    "seconds",
                    "virtual seconds since the start",
                    u64_field("seconds"),
                )?,
            },
        };
        Ok(Step {
            app,
            action: Action::Check(check),
        })
    }
}

/// The properties `check property` reads by name: the settable ones and the read-only getters of
/// IBackgroundCopyJob4 (part 2).
/// `check property client_certificate`: `is` is `{ location, store, sha1, subject }`, any subset
/// (D31); left out with a failing `expect`.
fn client_certificate(f: &Fields, job: String, expect: HResult) -> R<Check> {
    let (mut location, mut store, mut sha1, mut subject) = (None, None, None, None);
    if !expect.is_failure() {
        let n = f.req("is", "{ location, store, sha1, subject }, any of them")?;
        let p = f.ptr("is");
        let g = Fields::new(
            n,
            &p,
            "a client certificate ({ location, store, sha1, subject })",
            &["location", "store", "sha1", "subject"],
        )?;
        location = g.opt_with("location", |n, p| {
            let l = super::http::location(n, p)?;
            if l as usize >= crate::http::CERT_STORE_LOCATIONS.len() {
                return at(
                    n,
                    p,
                    format!("location {l} is outside BG_CERT_STORE_LOCATION (0 to 7), where every certificate is: this check can never pass"),
                );
            }
            Ok(l)
        })?;
        store = g.opt_with("store", string)?;
        subject = g.opt_with("subject", string)?;
        sha1 = g.opt_with("sha1", |n, p| {
            let s = string(n, p)?;
            if s.len() != 40 || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                return at(
                    n,
                    p,
                    format!(
                        "{} is not a SHA-1 hash: expected 40 lowercase hex digits",
                        quote(&s)
                    ),
                );
            }
            Ok(s)
        })?;
    }
    Ok(Check::ClientCertificate {
        job,
        location,
        store,
        sha1,
        subject,
        expect,
    })
}

/// `check property reply_progress` (§2.3, §8.2): `is` is `{ bytes_total, bytes_transferred }`,
/// any subset; left out with a failing `expect`.
fn reply_progress(f: &Fields, job: String, expect: HResult) -> R<Check> {
    let (mut total, mut transferred) = (None, None);
    if !expect.is_failure() {
        let n = f.req("is", "{ bytes_total, bytes_transferred }, any of them")?;
        let g = Fields::new(
            n,
            &f.ptr("is"),
            "reply progress ({ bytes_total, bytes_transferred })",
            &["bytes_total", "bytes_transferred"],
        )?;
        total = g.opt_with("bytes_total", bytes_total)?;
        transferred = g.opt_with("bytes_transferred", u64_field("a byte count"))?;
    }
    Ok(Check::ReplyProgress {
        job,
        bytes_total: total,
        bytes_transferred: transferred,
        expect,
    })
}

fn checkable_names() -> Vec<&'static str> {
    let mut v = PropertyValue::NAMES.to_vec();
    v.extend(crate::properties::CHECK_ONLY_NAMES);
    v.extend(["client_certificate", "reply_progress", "reply_data"]);
    v
}

/// Refuse a check that can never pass: `why` says what is impossible, at field `key`.
fn never<T>(f: &Fields, key: &str, why: String) -> R<T> {
    at(
        f.get(key).unwrap_or(f.node),
        &f.ptr(key),
        format!("{why}: this check can never pass"),
    )
}

/// Why a `check property` value can never be read back, if it cannot (D14: the setters refuse or
/// raise such values, so no job ever holds them).
fn never_stored(v: &PropertyValue) -> Option<String> {
    match v {
        PropertyValue::DisplayName(s) if s.encode_utf16().count() > defaults::MAX_DISPLAY_NAME => {
            Some(format!(
                "a display name of {} UTF-16 units; SetDisplayName and CreateJob refuse more than {} with E_INVALIDARG (D14)",
                s.encode_utf16().count(),
                defaults::MAX_DISPLAY_NAME
            ))
        }
        PropertyValue::Description(s) if s.encode_utf16().count() > defaults::MAX_DESCRIPTION => {
            Some(format!(
                "a description of {} UTF-16 units; SetDescription refuses more than {} with E_INVALIDARG (D14)",
                s.encode_utf16().count(),
                defaults::MAX_DESCRIPTION
            ))
        }
        PropertyValue::Priority(PriorityValue::Raw(n)) if *n > 3 => Some(format!(
            "priority {n}; SetPriority refuses values outside BG_JOB_PRIORITY (0 to 3) with E_NOTIMPL (D14), so GetPriority returns 0 to 3"
        )),
        PropertyValue::NotifyFlags(n) if !NotifyFlags(*n).is_known() => Some(format!(
            "notify flags 0x{n:X}; SetNotifyFlags refuses bits outside 0x{:X} with E_NOTIMPL (D14, §5.1)",
            NotifyFlags::ALL_KNOWN.0
        )),
        PropertyValue::MinimumRetryDelay(n) if *n < defaults::MINIMUM_RETRY_DELAY_FLOOR => {
            Some(format!(
                "a minimum retry delay of {n} s; SetMinimumRetryDelay stores {} for anything smaller (D14)",
                defaults::MINIMUM_RETRY_DELAY_FLOOR
            ))
        }
        _ => None,
    }
}

fn jobs(f: &Fields) -> R<Check> {
    let expect = f.opt_with("expect", hresult)?.unwrap_or(HResult::S_OK);
    if !expect.is_failure() && expect != HResult::S_OK {
        return never(
            f,
            "expect",
            format!(
                "EnumJobs succeeds only with S_OK, not {expect}; expected S_OK or a failure HRESULT"
            ),
        );
    }
    let all_users = f.opt_with("all_users", boolean)?.unwrap_or(false);
    if expect.is_failure() {
        for k in ["count", "names"] {
            if let Some(n) = f.get(k) {
                return at(
                    n,
                    &f.ptr(k),
                    format!(
                        "\"{k}\" cannot be checked when EnumJobs is expected to fail with {expect}"
                    ),
                );
            }
        }
        return Ok(Check::Jobs {
            all_users,
            count: None,
            names: None,
            expect,
        });
    }
    let count = f.req_with(
        "count",
        "the number of jobs listed",
        u32_field("a job count"),
    )?;
    let names = match f.get("names") {
        None => None,
        Some(n) => {
            let p = f.ptr("names");
            let items = array(n, &p, "the sorted display names")?;
            let mut v = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                v.push(string(item, &format!("{p}/{i}"))?);
            }
            if v.windows(2).any(|w| w[0] > w[1]) {
                let mut sorted = v.clone();
                sorted.sort();
                return at(
                    n,
                    &p,
                    format!(
                        "names must be sorted (by Unicode code point): write {}",
                        serde_json::to_string(&sorted).unwrap_or_default()
                    ),
                );
            }
            if v.len() != count as usize {
                return never(
                    f,
                    "names",
                    format!(
                        "\"names\" lists {} display names but \"count\" is {count}",
                        v.len()
                    ),
                );
            }
            Some(v)
        }
    };
    Ok(Check::Jobs {
        all_users,
        count: Some(count),
        names,
        expect,
    })
}

fn bytes_total(n: &Node, p: &str) -> R<BytesTotal> {
    match &n.kind {
        Kind::Str(s) if s == "UNKNOWN" => Ok(BytesTotal::Unknown),
        Kind::Str(s) => at(
            n,
            p,
            format!(
                "unknown bytes_total {}; expected an integer or \"UNKNOWN\"",
                quote(s)
            ),
        ),
        _ => integer(n, p, u64::MAX, "a byte count or \"UNKNOWN\"").map(BytesTotal::Bytes),
    }
}

/// `last` of `check requests`: `{ "method", "from", "headers", "credentials": { "target", "scheme" }
/// or null }`, any subset.
fn last_request(n: &Node, p: &str) -> R<super::types::LastRequest> {
    let f = Fields::new(
        n,
        p,
        "the latest request ({ method, from, headers, credentials })",
        &["method", "from", "headers", "credentials"],
    )?;
    let headers = match f.get("headers") {
        None => None,
        Some(h) => {
            let hp = f.ptr("headers");
            Some(
                super::load::array(h, &hp, "an array of header lines")?
                    .iter()
                    .enumerate()
                    .map(|(i, x)| super::load::string(x, &format!("{hp}/{i}")))
                    .collect::<R<Vec<_>>>()?,
            )
        }
    };
    let credentials = match f.get("credentials") {
        None => None,
        Some(c) if matches!(c.kind, Kind::Null) => Some(None),
        Some(c) => {
            let cp = f.ptr("credentials");
            let cf = Fields::new(
                c,
                &cp,
                "credentials ({ target, scheme }) or null",
                &["target", "scheme"],
            )?;
            let target = cf.req_with("target", "SERVER or PROXY", |n, p| {
                named(
                    n,
                    p,
                    "authentication target",
                    &["SERVER", "PROXY"],
                    crate::AuthTarget::from_name,
                )
            })?;
            let scheme = cf.req_with("scheme", "an authentication scheme", |n, p| {
                named(
                    n,
                    p,
                    "authentication scheme",
                    &["BASIC", "DIGEST", "NTLM", "NEGOTIATE", "PASSPORT"],
                    crate::AuthScheme::from_name,
                )
            })?;
            Some(Some((target, scheme)))
        }
    };
    Ok(super::types::LastRequest {
        method: f.opt_with("method", super::load::string)?,
        from: f.opt_with("from", u64_field("a byte offset"))?,
        headers,
        credentials,
    })
}
