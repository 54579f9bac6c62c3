//! The checks: each calls the BITS getter it names through the application's handle and compares.

use super::runner::{Fail, Outcome, Runner};
use super::types::{BytesTotal, Check, ErrorExpectation, PropertyValue};
use crate::api::{CopyError, Job};
use crate::{HResult, JobId, NotifyEvent, BG_JOB_ENUM_ALL_USERS, BG_SIZE_UNKNOWN};
use std::fmt::Display;

pub(crate) fn check(r: &mut Runner, app: &str, c: &Check) -> Outcome {
    match c {
        Check::State { job, is } => {
            let actual = getter(r, app, job, is, Job::get_state)?;
            same(actual == *is, is, actual, || {
                format!("{job} is {actual}, but the scenario expects {is}")
            })
        }
        Check::ErrorCount { job, is } => {
            let actual = getter(r, app, job, is, Job::get_error_count)?;
            same(actual == *is, is, actual, || {
                format!("GetErrorCount of {job} returned {actual}, but the scenario expects {is}")
            })
        }
        Check::Owner { job, is } => {
            let sid = getter(r, app, job, is, Job::get_owner)?;
            let actual = r
                .sim
                .with_service(|s| {
                    s.user_by_sid(&sid)
                        .and_then(|u| s.user(u))
                        .map(|u| u.name.clone())
                })
                .unwrap_or(sid);
            same(&actual == is, is, &actual, || {
                format!("{job} is owned by {actual}, but the scenario expects {is}")
            })
        }
        Check::Property { job, is } => property(r, app, job, is),
        Check::Times {
            job,
            creation,
            modification,
            transfer_completion,
        } => {
            let show = |t: Option<u64>| t.map_or("UNKNOWN".to_string(), |s| format!("{s}s"));
            let wanted = [
                ("creation", creation),
                ("modification", modification),
                ("transfer_completion", transfer_completion),
            ];
            let expected = wanted
                .iter()
                .filter_map(|(k, t)| t.map(|t| format!("{k} {}", show(t))))
                .collect::<Vec<_>>()
                .join(", ");
            let times = getter(r, app, job, &expected, Job::get_times)?;
            let secs = |t: crate::SimTime| Some(t.as_millis() / 1000);
            let seen = [
                secs(times.creation_time),
                secs(times.modification_time),
                times.transfer_completion_time.and_then(secs),
            ];
            let actual = wanted
                .iter()
                .zip(seen)
                .filter_map(|((k, t), s)| t.map(|_| format!("{k} {}", show(s))))
                .collect::<Vec<_>>()
                .join(", ");
            let ok = wanted
                .iter()
                .zip(seen)
                .all(|((_, t), s)| t.is_none_or(|t| t == s));
            same(ok, &expected, &actual, || {
                format!("GetTimes of {job} returned {actual}, but the scenario expects {expected}")
            })
        }
        Check::PropertyFails { job, prop, expect } => {
            let prop = *prop;
            let actual = returned(r, app, job, expect, |j| j.get_property(prop).map(|_| ()))?;
            same(actual == *expect, expect, actual, || {
                format!(
                    "{} of {job} returned {actual}, but the scenario expects {expect}",
                    prop.decl().getter
                )
            })
        }
        Check::RawProperty {
            job,
            id,
            is,
            expect,
        } => {
            let id = *id;
            let shown = match is {
                Some(n) => n.to_string(),
                None => expect.to_string(),
            };
            let got = match r.call(app, job, |j| j.get_property_raw(id))? {
                Ok(got) => got,
                Err(h) => {
                    return Err(Fail {
                        expected: shown,
                        actual: h.to_string(),
                        message: format!(
                            "application {app:?} could not obtain a handle to {job:?}: GetJob returned {h}"
                        ),
                    })
                }
            };
            let (code, value) = match got {
                Ok(v) => (HResult::S_OK, Some(v)),
                Err(h) => (h, None),
            };
            let actual = match value {
                Some(v) if is.is_some() => v.to_string(),
                _ => code.to_string(),
            };
            let ok = code == *expect && (is.is_none() || value == *is);
            same(ok, &shown, &actual, || {
                format!(
                    "IBackgroundCopyJob5::GetProperty({id}) of {job} returned {actual}, but the scenario expects {shown}"
                )
            })
        }
        Check::ClientCertificate {
            job,
            location,
            store,
            sha1,
            subject,
            expect,
        } => {
            let show = |loc: Option<u32>,
                        store: Option<&str>,
                        sha1: Option<&str>,
                        subject: Option<&str>| {
                let mut parts = Vec::new();
                if let Some(l) = loc {
                    parts.push(format!(
                        "location {}",
                        crate::http::CERT_STORE_LOCATIONS
                            .get(l as usize)
                            .map_or_else(|| l.to_string(), |n| (*n).to_string())
                    ));
                }
                for (k, val) in [("store", store), ("sha1", sha1), ("subject", subject)] {
                    if let Some(val) = val {
                        parts.push(format!("{k} {val:?}"));
                    }
                }
                format!("{{{}}}", parts.join(", "))
            };
            let shown = if expect.is_failure() {
                expect.to_string()
            } else {
                show(
                    *location,
                    store.as_deref(),
                    sha1.as_deref(),
                    subject.as_deref(),
                )
            };
            let got = match r.call(app, job, |j| j.get_client_certificate())? {
                Ok(got) => got,
                Err(h) => {
                    return Err(Fail {
                        expected: shown,
                        actual: h.to_string(),
                        message: format!(
                            "application {app:?} could not obtain a handle to {job:?}: GetJob returned {h}"
                        ),
                    })
                }
            };
            let (ok, actual) = match got {
                Ok(c) => {
                    let ok = *expect == HResult::S_OK
                        && location.is_none_or(|l| l == c.location)
                        && store.as_ref().is_none_or(|s| *s == c.store)
                        && sha1.as_ref().is_none_or(|s| *s == c.sha1)
                        && subject.as_ref().is_none_or(|s| *s == c.subject);
                    let actual = show(
                        location.map(|_| c.location),
                        store.as_ref().map(|_| c.store.as_str()),
                        sha1.as_ref().map(|_| c.sha1.as_str()),
                        subject.as_ref().map(|_| c.subject.as_str()),
                    );
                    (ok, if ok { actual } else { format!("S_OK {actual}") })
                }
                Err(h) => (h == *expect, h.to_string()),
            };
            same(ok, &shown, &actual, || {
                format!(
                    "GetClientCertificate of {job} returned {actual}, but the scenario expects {shown}"
                )
            })
        }
        Check::Progress {
            job,
            bytes_total,
            bytes_transferred,
            files_total,
            files_transferred,
        } => {
            let mut expected = Vec::new();
            if let Some(b) = bytes_total {
                expected.push(format!(
                    "bytes_total {}",
                    show_total(match b {
                        BytesTotal::Bytes(n) => *n,
                        BytesTotal::Unknown => BG_SIZE_UNKNOWN,
                    })
                ));
            }
            let mut push = |name: &str, v: Option<u64>| {
                if let Some(v) = v {
                    expected.push(format!("{name} {v}"));
                }
            };
            push("bytes_transferred", *bytes_transferred);
            push("files_total", files_total.map(u64::from));
            push("files_transferred", files_transferred.map(u64::from));
            let expected = expected.join(", ");
            let p = getter(r, app, job, &expected, Job::get_progress)?;
            let want_total = bytes_total.map(|b| match b {
                BytesTotal::Bytes(n) => n,
                BytesTotal::Unknown => BG_SIZE_UNKNOWN,
            });
            let ok = want_total.is_none_or(|t| t == p.bytes_total)
                && bytes_transferred.is_none_or(|t| t == p.bytes_transferred)
                && files_total.is_none_or(|t| t == p.files_total)
                && files_transferred.is_none_or(|t| t == p.files_transferred);
            let actual = format!(
                "bytes_total {}, bytes_transferred {}, files_total {}, files_transferred {}",
                show_total(p.bytes_total),
                p.bytes_transferred,
                p.files_total,
                p.files_transferred
            );
            same(ok, &expected, &actual, || {
                format!("GetProgress of {job} does not match the expected progress")
            })
        }
        Check::Error { job, expect } => error(r, app, job, expect),
        Check::ErrorObject { error, code } => {
            let obj: CopyError = match r.errors.get(error) {
                Some(Some(o)) => o.clone(),
                _ => {
                    return Err(Fail {
                        expected: format!("error object {error:?}"),
                        actual: "no error object".to_string(),
                        message: format!(
                            "error alias {error:?} holds no error object: the get_error step that binds it failed"
                        ),
                    })
                }
            };
            let actual = obj.get_error().map(|_| HResult::S_OK).unwrap_or_else(|e| e);
            same(actual == *code, code, actual, || {
                format!("calls on error object {error} return {actual}, but the scenario expects {code}")
            })
        }
        Check::Jobs {
            all_users,
            count,
            names,
            expect,
        } => jobs(r, app, *all_users, *count, names.as_deref(), *expect),
        Check::Notifications { are } => notifications(r, app, are),
        Check::Launches { are } => launches(r, are),
        Check::EnumCount {
            enumerator,
            is,
            expect,
        } => {
            let got = enum_count(r, enumerator)?;
            let (ok, actual) = match got {
                Ok(n) => (Some(n) == *is && expect.is_success(), n.to_string()),
                Err(h) => (*expect == h, h.to_string()),
            };
            let expected = match is {
                Some(n) => n.to_string(),
                None => expect.to_string(),
            };
            same(ok, &expected, &actual, || {
                format!("GetCount of {enumerator} returned {actual}, but the scenario expects {expected}")
            })
        }
        Check::LocalFile {
            target,
            exists,
            body,
        } => super::file_checks::local_file(r, app, target, *exists, body),
        Check::LocalDir { dir, names } => super::file_checks::local_dir(r, dir, names),
        Check::FileProperty {
            job,
            file,
            property,
            is,
            expect,
        } => super::file_checks::file_property(r, app, job, *file, property, is.as_ref(), *expect),
        Check::Requests { url, count, last } => requests(r, url, *count, last.as_ref()),
        Check::UploadReceived { url, count, body } => {
            let seen = r
                .sim
                .with_service(|s| s.world.http.uploads.get(url).cloned())
                .unwrap_or_default();
            if let Some(c) = count {
                same(seen.count == *c, c, seen.count, || {
                    format!(
                        "the server application of {url} received {} uploads, but the scenario expects {c}",
                        seen.count
                    )
                })?;
            }
            if **body == super::types::BodyCheck::default() {
                return Ok(());
            }
            match &seen.body {
                Some(b) => super::file_checks::body_matches(
                    r,
                    &format!("the upload {url} received"),
                    b,
                    body,
                ),
                None => Err(Fail {
                    expected: "an upload".into(),
                    actual: "none".into(),
                    message: format!(
                        "{url} has received no upload, but the scenario checks its body"
                    ),
                }),
            }
        }
        Check::ReplyProgress {
            job,
            bytes_total,
            bytes_transferred,
            expect,
        } => {
            let show_total = |t: &BytesTotal| match t {
                BytesTotal::Bytes(n) => n.to_string(),
                BytesTotal::Unknown => "UNKNOWN".to_string(),
            };
            let shown = if expect.is_failure() {
                expect.to_string()
            } else {
                let mut parts = Vec::new();
                if let Some(t) = bytes_total {
                    parts.push(format!("bytes_total {}", show_total(t)));
                }
                if let Some(n) = bytes_transferred {
                    parts.push(format!("bytes_transferred {n}"));
                }
                format!("{{{}}}", parts.join(", "))
            };
            let got = match r.call(app, job, |j| j.get_reply_progress())? {
                Ok(got) => got,
                Err(h) => return Err(no_handle(app, job, &shown, h)),
            };
            let (ok, actual) = match got {
                Ok(p) => {
                    let total = if p.bytes_total == BG_SIZE_UNKNOWN {
                        BytesTotal::Unknown
                    } else {
                        BytesTotal::Bytes(p.bytes_total)
                    };
                    let ok = *expect == HResult::S_OK
                        && bytes_total.as_ref().is_none_or(|t| *t == total)
                        && bytes_transferred.is_none_or(|n| n == p.bytes_transferred);
                    (
                        ok,
                        format!(
                            "{{bytes_total {}, bytes_transferred {}}}",
                            show_total(&total),
                            p.bytes_transferred
                        ),
                    )
                }
                Err(h) => (h == *expect, h.to_string()),
            };
            same(ok, &shown, &actual, || {
                format!(
                    "GetReplyProgress of {job} returned {actual}, but the scenario expects {shown}"
                )
            })
        }
        Check::ReplyData { job, body, expect } => {
            let got = match r.call(app, job, |j| j.get_reply_data())? {
                Ok(got) => got,
                Err(h) => return Err(no_handle(app, job, &expect.to_string(), h)),
            };
            match got {
                Ok(crate::ReplyData::Data(bytes)) if *expect == HResult::S_OK => {
                    super::file_checks::body_matches(
                        r,
                        &format!("the reply data of {job}"),
                        &crate::Body::Bytes(bytes),
                        body,
                    )
                }
                Ok(crate::ReplyData::TooLarge(n)) if *expect == HResult::BG_E_TOO_LARGE => {
                    let want = body.size;
                    same(
                        want.is_none_or(|w| w == n),
                        format!("size {}", want.unwrap_or(n)),
                        format!("size {n}"),
                        || {
                            format!("GetReplyData of {job} reported a length of {n}, but the scenario expects {}", want.unwrap_or(n))
                        },
                    )
                }
                Ok(crate::ReplyData::Data(_)) => {
                    same(false, expect, HResult::S_OK, || {
                        format!("GetReplyData of {job} returned S_OK, but the scenario expects {expect}")
                    })
                }
                Ok(crate::ReplyData::TooLarge(n)) => {
                    same(false, expect, HResult::BG_E_TOO_LARGE, || {
                        format!("GetReplyData of {job} returned BG_E_TOO_LARGE (length {n}), but the scenario expects {expect}")
                    })
                }
                Err(h) => same(h == *expect, expect, h, || {
                    format!("GetReplyData of {job} returned {h}, but the scenario expects {expect}")
                }),
            }
        }
        Check::Credentials {
            job,
            target,
            scheme,
            present,
            user,
        } => {
            let id = r.job_id(job)?;
            let held = r
                .sim
                .with_service(|s| s.held_credentials(id, *target, *scheme));
            let show = |h: &Option<Option<String>>| match h {
                None => "none".to_string(),
                Some(None) => "present (NULL user: the caller's logon)".to_string(),
                Some(Some(u)) => format!("present (user {u:?})"),
            };
            let ok = held.is_some() == *present
                && user.as_ref().is_none_or(|u| held.as_ref() == Some(u));
            let expected = match user {
                Some(u) => show(&Some(u.clone())),
                None if *present => "present".to_string(),
                None => "none".to_string(),
            };
            same(ok, &expected, show(&held), || {
                format!(
                    "{job} holds {} credentials for {} {}, but the scenario expects {expected}",
                    show(&held),
                    target.name(),
                    scheme.name()
                )
            })
        }
        Check::Time { seconds } => {
            let now = r.now();
            let elapsed = now.saturating_since(crate::SimTime::ZERO);
            // Whole virtual seconds elapsed (the clock counts milliseconds; a transfer that ends at
            // 600.005 s reads as 600 s, as a seconds display would show it).
            let ok = *seconds == now.as_secs();
            same(ok, format!("{seconds}s"), elapsed, || {
                format!("the virtual clock reads {elapsed}, but the scenario expects {seconds}s")
            })
        }
    }
}

/// GetCount of a held enumerator (D46).
fn enum_count(r: &Runner, enumerator: &str) -> Result<Result<u32, HResult>, Fail> {
    match r.enums.get(enumerator) {
        Some(Some(super::ops::HeldEnum::Jobs(e))) => Ok(e.get_count()),
        Some(Some(super::ops::HeldEnum::Files(e))) => Ok(e.get_count()),
        _ => Err(Fail {
            expected: format!("enumerator {enumerator:?}"),
            actual: "no enumerator".to_string(),
            message: format!(
                "enumerator alias {enumerator:?} holds no enumerator: the step that binds it failed"
            ),
        }),
    }
}

fn same(
    ok: bool,
    expected: impl Display,
    actual: impl Display,
    msg: impl FnOnce() -> String,
) -> Outcome {
    if ok {
        Ok(())
    } else {
        Err(Fail {
            expected: expected.to_string(),
            actual: actual.to_string(),
            message: msg(),
        })
    }
}

fn show_total(n: u64) -> String {
    if n == BG_SIZE_UNKNOWN {
        "UNKNOWN".to_string()
    } else {
        n.to_string()
    }
}

/// Obtain `app`'s handle for `job` and call `get` on it; a failing call is a mismatch whose actual
/// value is the HRESULT.
fn getter<T>(
    r: &mut Runner,
    app: &str,
    job: &str,
    expected: impl Display,
    get: impl FnOnce(&Job) -> Result<T, HResult>,
) -> Result<T, Fail> {
    let r = match r.call(app, job, get)? {
        Ok(r) => r,
        Err(h) => {
            return Err(Fail {
                expected: expected.to_string(),
                actual: h.to_string(),
                message: format!(
                    "application {app:?} could not obtain a handle to {job:?}: GetJob returned {h}"
                ),
            })
        }
    };
    r.map_err(|h| Fail {
        expected: expected.to_string(),
        actual: h.to_string(),
        message: format!("the call on {job} failed with {h}"),
    })
}

/// The HRESULT a getter returned (S_OK when it succeeded), for checks that expect a failure.
fn returned(
    r: &mut Runner,
    app: &str,
    job: &str,
    expected: impl Display,
    get: impl FnOnce(&Job) -> Result<(), HResult>,
) -> Result<HResult, Fail> {
    match r.call(app, job, get)? {
        Ok(r) => Ok(r.err().unwrap_or(HResult::S_OK)),
        Err(h) => Err(Fail {
            expected: expected.to_string(),
            actual: h.to_string(),
            message: format!(
                "application {app:?} could not obtain a handle to {job:?}: GetJob returned {h}"
            ),
        }),
    }
}

fn property(r: &mut Runner, app: &str, job: &str, is: &PropertyValue) -> Outcome {
    let expected = is.show();
    let actual = getter(r, app, job, &expected, |j| j.get_property(is.prop()))?;
    let shown = actual.show();
    same(is.matches(&actual), &expected, &shown, || {
        format!(
            "{} of {job} returned {shown}, but the scenario expects {expected}",
            is.getter()
        )
    })
}

fn error(r: &mut Runner, app: &str, job: &str, expect: &ErrorExpectation) -> Outcome {
    let none = || format!("no error ({})", HResult::BG_E_ERROR_INFORMATION_UNAVAILABLE);
    let expected = match expect {
        ErrorExpectation::None => none(),
        ErrorExpectation::Some {
            context,
            code,
            file,
        } => {
            let mut v = Vec::new();
            if let Some(c) = context {
                v.push(format!("context {c}"));
            }
            if let Some(c) = code {
                v.push(format!("code {c}"));
            }
            if let Some(f) = file {
                v.push(format!("file {f}"));
            }
            v.join(", ")
        }
    };
    let handle = match r.call(app, job, Job::clone)? {
        Ok(h) => h,
        Err(h) => {
            return same(false, &expected, h, || {
                format!(
                    "application {app:?} could not obtain a handle to {job:?}: GetJob returned {h}"
                )
            })
        }
    };
    let obj = match handle.get_error() {
        Err(HResult::BG_E_ERROR_INFORMATION_UNAVAILABLE) => {
            return same(*expect == ErrorExpectation::None, &expected, none(), || {
                format!("{job} has no error (GetError returned BG_E_ERROR_INFORMATION_UNAVAILABLE), but the scenario expects {expected}")
            })
        }
        Err(h) => {
            return same(false, &expected, h, || {
                format!("GetError on {job} failed with {h}")
            })
        }
        Ok(o) => o,
    };
    let (ctx, code) = match obj.get_error() {
        Ok(x) => x,
        Err(h) => {
            return same(false, &expected, h, || {
                format!("IBackgroundCopyError::GetError failed with {h}")
            })
        }
    };
    let file = match obj.get_file() {
        Ok(f) => Some(f.index()),
        Err(_) => None,
    };
    let actual = format!(
        "context {ctx}, code {code}, file {}",
        file.map_or("none".to_string(), |f| f.to_string())
    );
    let ok = match expect {
        ErrorExpectation::None => false,
        ErrorExpectation::Some {
            context,
            code: c,
            file: fl,
        } => {
            context.is_none_or(|x| x == ctx)
                && c.is_none_or(|x| x == code)
                && fl.is_none_or(|x| Some(x) == file)
        }
    };
    same(ok, &expected, &actual, || match expect {
        ErrorExpectation::None => {
            format!("{job} has an error ({actual}), but the scenario expects none")
        }
        _ => format!("the error of {job} does not match"),
    })
}

fn jobs(
    r: &mut Runner,
    app: &str,
    all_users: bool,
    count: Option<u32>,
    names: Option<&[String]>,
    expect: HResult,
) -> Outcome {
    let flags = if all_users { BG_JOB_ENUM_ALL_USERS } else { 0 };
    let mut expected = match count {
        Some(c) => format!("{c} jobs"),
        None => expect.to_string(),
    };
    if let Some(n) = names {
        expected.push_str(&format!(" {n:?}"));
    }
    let listed = match r.manager(app)?.enum_jobs(flags) {
        Err(h) => {
            return same(h == expect, &expected, h, || {
                format!("EnumJobs returned {h}, but the scenario expects {expect}")
            })
        }
        Ok(v) if expect != HResult::S_OK => {
            return same(false, &expected, format!("S_OK ({} jobs)", v.len()), || {
                format!("EnumJobs succeeded, but the scenario expects {expect}")
            })
        }
        Ok(v) => v,
    };
    let mut got: Vec<String> = listed
        .iter()
        .map(|j| j.get_display_name().unwrap_or_else(|h| format!("<{h}>")))
        .collect();
    got.sort();
    let actual = format!("{} jobs {got:?}", got.len());
    let ok =
        count.is_none_or(|c| c as usize == got.len()) && names.is_none_or(|n| n == got.as_slice());
    same(ok, &expected, &actual, || {
        format!("EnumJobs as seen by {app:?} lists {actual}, but the scenario expects {expected}")
    })
}

/// D22: deliveries dropped from `app`'s full log since the previous look (the count is reset).
fn take_dropped(r: &Runner, app: crate::AppId) -> u64 {
    r.sim.with_service_mut(|s| s.take_dropped_deliveries(app))
}

/// `check launches`: the command-line launches since the previous one, machine-wide (§5.4).
fn launches(r: &mut Runner, are: &[super::cmdline::LaunchSpec]) -> Outcome {
    let got = r.sim.with_service_mut(|s| s.take_launches());
    let ok = got.len() == are.len()
        && are
            .iter()
            .zip(&got)
            .all(|(want, l)| want.matches(l, &r.job_name(l.job)));
    let expected = format!(
        "[{}]",
        are.iter().map(|l| l.show()).collect::<Vec<_>>().join(", ")
    );
    let actual = format!(
        "[{}]",
        got.iter()
            .map(|l| super::cmdline::show_launch(l, &r.job_name(l.job)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    same(ok, &expected, &actual, || {
        format!("the command-line launches since the previous check were {actual}, but the scenario expects {expected}")
    })
}

/// The deliveries to `app`: through its manager, or, for a `com_servers` application that
/// activation started (D52), straight from the service's log.
fn deliveries_of(r: &mut Runner, app: &str) -> (Vec<crate::Delivery>, u64) {
    if let Some(a) = r.apps.get(app) {
        let d = a
            .manager
            .take_notifications()
            .expect("no call is made from inside a callback here");
        return (d, take_dropped(r, a.manager.app()));
    }
    r.sim.with_service_mut(|s| match s.app_named(app) {
        Some(id) => (s.take_deliveries(id), s.take_dropped_deliveries(id)),
        None => (Vec::new(), 0),
    })
}

type Want = (NotifyEvent, JobId, Option<u32>, Vec<(u64, u64)>);

fn notifications(r: &mut Runner, app: &str, are: &[super::types::ExpectedDelivery]) -> Outcome {
    let mut want: Vec<Want> = Vec::with_capacity(are.len());
    for (event, alias, file, ranges) in are {
        want.push((*event, r.job_id(alias)?, *file, ranges.clone()));
    }
    let with_modifications = are
        .iter()
        .any(|(e, _, _, _)| *e == NotifyEvent::JobModification);
    // D60: FILE_* deliveries are compared only when the list names one (older files keep their meaning).
    let with_files = are.iter().any(|(e, _, _, _)| e.is_file_event());
    let mut got: Vec<Want> = Vec::new();
    let (delivered, dropped) = deliveries_of(r, app);
    for d in delivered {
        let n = d.notification;
        let wanted = match n.event {
            NotifyEvent::JobModification => with_modifications,
            e if e.is_file_event() => with_files,
            _ => true,
        };
        if wanted {
            got.push((n.event, n.job, n.file, n.ranges));
        }
    }
    let show = |v: &[Want]| {
        let items: Vec<String> = v
            .iter()
            .map(|(e, j, f, rs)| match f {
                Some(f) if *e == NotifyEvent::FileRangesTransferred => {
                    format!("{e} {} file {f} ranges {rs:?}", r.job_name(*j))
                }
                Some(f) => format!("{e} {} file {f}", r.job_name(*j)),
                None => format!("{e} {}", r.job_name(*j)),
            })
            .collect();
        format!("[{}]", items.join(", "))
    };
    let (expected, actual) = (show(&want), show(&got));
    if dropped > 0 {
        // D22: the log kept only the newest deliveries; comparing the rest would pass on lost data.
        return Err(Fail {
            expected,
            actual: format!("{actual} and {dropped} older deliveries dropped"),
            message: format!(
                "{dropped} deliveries to {app:?} were dropped since the previous check (the log keeps the newest {} per application, D22); check notifications more often",
                crate::Service::DELIVERY_LOG_CAP
            ),
        });
    }
    same(want == got, &expected, &actual, || {
        format!(
            "the callbacks delivered to {app:?} since the previous check were {actual}, but the scenario expects {expected}{}",
            match (with_modifications, with_files) {
                (true, true) => "",
                (false, true) => " (JOB_MODIFICATION deliveries ignored)",
                (true, false) => " (FILE_* deliveries ignored)",
                (false, false) => " (JOB_MODIFICATION and FILE_* deliveries ignored)",
            }
        )
    })
}

/// What a job check reads through `job` right now: the check with the values seen (GetOwner gives the
/// owner's SID as `is`), or the HRESULT the getter failed with. `GetError` failing with
/// BG_E_ERROR_INFORMATION_UNAVAILABLE reads as `none: true` (D1). Used by the observe mode and by the
/// testing kit's probes of every handle.
#[cfg_attr(not(feature = "testing"), allow(dead_code))] // used by the testing kit
pub(crate) fn read(job: &Job, c: &Check) -> Result<Check, HResult> {
    let alias = c_job(c);
    Ok(match c {
        Check::State { .. } => Check::State {
            job: alias,
            is: job.get_state()?,
        },
        Check::ErrorCount { .. } => Check::ErrorCount {
            job: alias,
            is: job.get_error_count()?,
        },
        Check::Owner { .. } => Check::Owner {
            job: alias,
            is: job.get_owner()?,
        },
        Check::Progress { .. } => {
            let p = job.get_progress()?;
            Check::Progress {
                job: alias,
                bytes_total: Some(if p.bytes_total == BG_SIZE_UNKNOWN {
                    BytesTotal::Unknown
                } else {
                    BytesTotal::Bytes(p.bytes_total)
                }),
                bytes_transferred: Some(p.bytes_transferred),
                files_total: Some(p.files_total),
                files_transferred: Some(p.files_transferred),
            }
        }
        Check::Error { .. } => {
            let expect = match job.get_error() {
                Err(HResult::BG_E_ERROR_INFORMATION_UNAVAILABLE) => ErrorExpectation::None,
                Err(h) => return Err(h),
                Ok(obj) => {
                    let (context, code) = obj.get_error()?;
                    ErrorExpectation::Some {
                        context: Some(context),
                        code: Some(code),
                        file: obj.get_file().ok().map(|f| f.index()),
                    }
                }
            };
            Check::Error { job: alias, expect }
        }
        Check::Property { is, .. } => Check::Property {
            job: alias,
            is: job.get_property(is.prop())?,
        },
        other => other.clone(),
    })
}

#[cfg_attr(not(feature = "testing"), allow(dead_code))] // used by the testing kit
fn c_job(c: &Check) -> String {
    match c {
        Check::State { job, .. }
        | Check::Error { job, .. }
        | Check::ErrorCount { job, .. }
        | Check::Progress { job, .. }
        | Check::Property { job, .. }
        | Check::PropertyFails { job, .. }
        | Check::RawProperty { job, .. }
        | Check::ClientCertificate { job, .. }
        | Check::Times { job, .. }
        | Check::Owner { job, .. } => job.clone(),
        _ => String::new(),
    }
}

/// A check in observe mode (see [`Runner::observe`]): the check with the values seen and the
/// HRESULT of its call, or no check (`None`) when the getter failed with that HRESULT.
#[cfg_attr(not(feature = "testing"), allow(dead_code))] // used by the testing kit
pub(crate) fn observe(
    r: &mut Runner,
    app: &str,
    c: &Check,
) -> Result<(Option<Check>, HResult), Fail> {
    let seen = match c {
        Check::State { job, .. }
        | Check::Error { job, .. }
        | Check::ErrorCount { job, .. }
        | Check::Progress { job, .. }
        | Check::Property { job, .. }
        | Check::Owner { job, .. } => match r.call(app, job, |j| read(j, c))? {
            Ok(Ok(Check::Owner { job, is: sid })) => {
                let is = r
                    .sim
                    .with_service(|s| {
                        s.user_by_sid(&sid)
                            .and_then(|u| s.user(u))
                            .map(|u| u.name.clone())
                    })
                    .unwrap_or(sid);
                Ok(Check::Owner { job, is })
            }
            Ok(seen) => seen,
            Err(h) => Err(h),
        },
        // Not generated by the testing kit: kept as written.
        Check::PropertyFails { .. }
        | Check::RawProperty { .. }
        | Check::ClientCertificate { .. }
        | Check::ReplyProgress { .. }
        | Check::ReplyData { .. }
        | Check::UploadReceived { .. }
        | Check::Times { .. } => Ok(c.clone()),
        Check::ErrorObject { error, .. } => {
            let code = match r.errors.get(error) {
                Some(Some(o)) => o.get_error().map(|_| HResult::S_OK).unwrap_or_else(|e| e),
                _ => return Ok((None, HResult::E_UNEXPECTED)),
            };
            Ok(Check::ErrorObject {
                error: error.clone(),
                code,
            })
        }
        Check::Jobs { all_users, .. } => {
            let (manager, app_id, generation) = r.manager_of(app)?;
            let before = r.trace_len();
            let flags = if *all_users { BG_JOB_ENUM_ALL_USERS } else { 0 };
            let listed = manager.enum_jobs(flags);
            let ids = listed
                .as_ref()
                .map(|v| v.iter().map(Job::id).collect::<Vec<_>>())
                .map_err(|e| *e);
            r.note(before, || crate::scenario::observe::Seen::EnumJobs {
                app: app_id,
                generation,
                all_users: *all_users,
                result: ids,
            });
            Ok(match listed {
                Ok(v) => {
                    let mut names: Vec<String> = v
                        .iter()
                        .map(|j| j.get_display_name().unwrap_or_else(|h| format!("<{h}>")))
                        .collect();
                    names.sort();
                    Check::Jobs {
                        all_users: *all_users,
                        count: Some(names.len() as u32),
                        names: Some(names),
                        expect: HResult::S_OK,
                    }
                }
                Err(h) => Check::Jobs {
                    all_users: *all_users,
                    count: None,
                    names: None,
                    expect: h,
                },
            })
        }
        Check::Launches { .. } => {
            let got = r.sim.with_service_mut(|s| s.take_launches());
            let are = got
                .iter()
                .map(|l| super::cmdline::spec_of(l, r.job_name(l.job)))
                .collect();
            Ok(Check::Launches { are })
        }
        Check::Notifications { .. } => {
            let (delivered, dropped) = deliveries_of(r, app);
            if dropped > 0 || r.notifications_lost.contains(app) {
                // D22: deliveries were lost; a check of the rest would fail when replayed. The
                // replay, without this check, would also count them at the application's next
                // check: those are left out as well.
                r.notifications_lost.insert(app.to_string());
                return Ok((None, HResult::E_UNEXPECTED));
            }
            let are = delivered
                .iter()
                .map(|d| {
                    let n = &d.notification;
                    (n.event, r.job_name(n.job), n.file, n.ranges.clone())
                })
                .collect();
            Ok(Check::Notifications { are })
        }
        Check::Time { .. } => Ok(Check::Time {
            seconds: r.now().as_secs(),
        }),
        Check::EnumCount { enumerator, .. } => {
            let (is, expect) = match enum_count(r, enumerator)? {
                Ok(n) => (Some(n), HResult::S_OK),
                Err(h) => (None, h),
            };
            Ok(Check::EnumCount {
                enumerator: enumerator.clone(),
                is,
                expect,
            })
        }
        // The sandbox checks read the host, not a BITS getter: observed as they are.
        Check::LocalFile { .. } | Check::LocalDir { .. } | Check::FileProperty { .. } => {
            check(r, app, c)?;
            Ok(c.clone())
        }
        Check::Requests { url, .. } => {
            let seen = r
                .sim
                .with_service(|s| s.world.requests(url).cloned())
                .unwrap_or_default();
            Ok(Check::Requests {
                url: url.clone(),
                count: Some(seen.count),
                last: seen.last.map(|l| super::types::LastRequest {
                    method: Some(l.method.into_owned()),
                    from: Some(l.from),
                    headers: Some(l.headers),
                    credentials: Some(l.credentials),
                }),
            })
        }
        Check::Credentials {
            job,
            target,
            scheme,
            ..
        } => {
            let id = r.job_id(job)?;
            let held = r
                .sim
                .with_service(|s| s.held_credentials(id, *target, *scheme));
            Ok(Check::Credentials {
                job: job.clone(),
                target: *target,
                scheme: *scheme,
                present: held.is_some(),
                user: held,
            })
        }
    };
    Ok(match seen {
        Ok(c) => (Some(c), HResult::S_OK),
        Err(h) => (None, h),
    })
}

/// The failure of a check whose application could not obtain a handle to `job`.
fn no_handle(app: &str, job: &str, shown: &str, h: HResult) -> Fail {
    Fail {
        expected: shown.to_string(),
        actual: h.to_string(),
        message: format!(
            "application {app:?} could not obtain a handle to {job:?}: GetJob returned {h}"
        ),
    }
}

/// `check requests`: what `url` received (the server's record, D27).
fn requests(
    r: &mut Runner,
    url: &str,
    count: Option<u64>,
    last: Option<&super::types::LastRequest>,
) -> Outcome {
    let seen = r
        .sim
        .with_service(|s| s.world.requests(url).cloned())
        .unwrap_or_default();
    if let Some(c) = count {
        same(seen.count == c, c, seen.count, || {
            format!(
                "{url} received {} requests, but the scenario expects {c}",
                seen.count
            )
        })?;
    }
    let Some(want) = last else {
        return Ok(());
    };
    let Some(got) = &seen.last else {
        return same(false, "a request", "none", || {
            format!("{url} received no request, but the scenario checks the latest one")
        });
    };
    if let Some(m) = &want.method {
        same(*m == got.method, m, &got.method, || {
            format!(
                "the latest request to {url} used {}, but the scenario expects {m}",
                got.method
            )
        })?;
    }
    if let Some(x) = want.from {
        same(x == got.from, x, got.from, || {
            format!(
                "the latest request to {url} started at byte {}, but the scenario expects {x}",
                got.from
            )
        })?;
    }
    if let Some(lines) = &want.headers {
        let split = |l: &str| {
            l.split_once(':')
                .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        };
        for line in lines {
            let ok = got
                .headers
                .iter()
                .any(|h| split(h).is_some() && split(h) == split(line));
            same(ok, line, got.headers.join(" | "), || {
                format!("the latest request to {url} did not carry the header {line:?}")
            })?;
        }
    }
    if let Some(c) = &want.credentials {
        let show = |c: &Option<(crate::AuthTarget, crate::AuthScheme)>| match c {
            None => "no credentials".to_string(),
            Some((t, s)) => format!("{} {}", t.name(), s.name()),
        };
        same(
            *c == got.credentials,
            show(c),
            show(&got.credentials),
            || {
                format!(
                    "the latest request to {url} carried {}, but the scenario expects {}",
                    show(&got.credentials),
                    show(c)
                )
            },
        )?;
    }
    Ok(())
}
