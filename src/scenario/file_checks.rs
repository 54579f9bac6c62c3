//! The sandbox checks (`local_file`, `local_dir`) and body checks (scenario contract part 2).
//! Files are read in chunks: a check of a 1 GB file does not hold it in memory.

use super::runner::{Fail, Outcome, Runner};
use super::types::{BodyCheck, BytesTotal, FileValue, LocalTarget, SameAs};
use crate::content::{hex, Body, Sha256};
use crate::sandbox::Sandbox;
use std::io::Read;
use std::path::PathBuf;

fn fail(expected: impl Into<String>, actual: impl Into<String>, message: String) -> Fail {
    Fail {
        expected: expected.into(),
        actual: actual.into(),
        message,
    }
}

/// What a file or body holds, for comparison: length, SHA-256, and the bytes when small. Only what
/// the check reads is computed (see [`Need`]): the SHA-256 is all zero when the check compares no
/// digest, and `head` is empty when it compares no text.
struct Seen {
    len: u64,
    sha: [u8; 32],
    head: Vec<u8>,
}

/// What a body check reads besides the length: hashing a 1 MiB body that is only checked for its
/// size cost more than the rest of a scenario run.
#[derive(Clone, Copy)]
struct Need {
    /// `sha256` or `same_as` compare digests.
    sha: bool,
    /// `text` compares the bytes.
    head: bool,
}

impl Need {
    fn of(c: &BodyCheck) -> Need {
        Need {
            sha: c.sha256.is_some() || c.same_as.is_some(),
            head: c.text.is_some(),
        }
    }
}

/// Bytes kept for a `text` comparison (texts in scenarios are short).
const TEXT_LIMIT: usize = 1 << 20;

/// Stream what `next` reads (into a buffer of `size_hint` bytes, at least 1 and at most 64 KiB:
/// zeroing 64 KiB for a body of a few bytes cost more than reading it).
fn seen_stream(
    need: Need,
    size_hint: u64,
    mut next: impl FnMut(&mut [u8]) -> std::io::Result<usize>,
) -> std::io::Result<Seen> {
    const CHUNK: u64 = 64 * 1024;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; size_hint.clamp(1, CHUNK) as usize];
    let mut len = 0u64;
    let mut head = Vec::new();
    loop {
        let n = next(&mut buf)?;
        if n == 0 {
            break;
        }
        if need.sha {
            h.update(&buf[..n]);
        }
        if need.head && head.len() < TEXT_LIMIT + 1 {
            let take = n.min(TEXT_LIMIT + 1 - head.len());
            head.extend_from_slice(&buf[..take]);
        }
        len += n as u64;
    }
    Ok(Seen {
        len,
        sha: if need.sha { h.finish() } else { [0; 32] },
        head,
    })
}

fn seen_file(p: &PathBuf, need: Need) -> std::io::Result<Seen> {
    let mut f = std::fs::File::open(p)?;
    let size_hint = f.metadata().map_or(u64::MAX, |m| m.len());
    seen_stream(need, size_hint, |b| f.read(b))
}

/// The bytes of `same_as`, as a list of (body, offset, length) pieces.
fn expected_pieces(r: &Runner, s: &SameAs) -> Result<Vec<(Body, u64, u64)>, Fail> {
    r.sim.with_service(|svc| match s {
        SameAs::Remote { url, ranges } => {
            let Some(remote) = svc.world.remotes.get(url) else {
                return Err(fail(
                    format!("the body of {url}"),
                    "no such remote",
                    format!("same_as names the remote {url:?}, which the world does not list"),
                ));
            };
            let body = remote.body(url);
            let len = body.len();
            Ok(match ranges {
                None => vec![(body, 0, len)],
                Some(rs) => rs
                    .iter()
                    .map(|&(off, n)| {
                        let end = if n == u64::MAX {
                            len
                        } else {
                            off.saturating_add(n).min(len)
                        };
                        (body.clone(), off.min(len), end.saturating_sub(off.min(len)))
                    })
                    .collect(),
            })
        }
        SameAs::Local(path) => match svc.world.local_body(path) {
            Some(b) => {
                let len = b.len();
                Ok(vec![(b, 0, len)])
            }
            None => Err(fail(
                format!("the body of local {path}"),
                "no such local",
                format!("same_as names the local {path:?}, which the world does not list"),
            )),
        },
    })
}

fn seen_pieces(pieces: &[(&Body, u64, u64)], need: Need) -> Seen {
    if !need.sha && !need.head {
        // Only the length: the pieces are already clipped to their bodies.
        return Seen {
            len: pieces.iter().map(|p| p.2).sum(),
            sha: [0; 32],
            head: Vec::new(),
        };
    }
    let mut i = 0;
    let mut off = 0u64;
    seen_stream(need, pieces.iter().map(|p| p.2).sum(), |buf| {
        while i < pieces.len() {
            let (b, start, n) = &pieces[i];
            if off < *n {
                let want = usize::try_from((n - off).min(buf.len() as u64)).unwrap_or(buf.len());
                let got = b.read_at(start + off, &mut buf[..want]);
                off += got as u64;
                if got > 0 {
                    return Ok(got);
                }
            }
            i += 1;
            off = 0;
        }
        Ok(0)
    })
    .expect("reading a body cannot fail")
}

/// Compare `body` (what `what` holds in memory: a reply, an upload a server received) with a body
/// check.
pub(crate) fn body_matches(r: &Runner, what: &str, body: &Body, c: &BodyCheck) -> Outcome {
    let seen = seen_pieces(&[(body, 0, body.len())], Need::of(c));
    compare(r, what, &seen, c)
}

/// Compare what `what` holds (`seen`) with a body check.
fn compare(r: &Runner, what: &str, seen: &Seen, c: &BodyCheck) -> Outcome {
    if let Some(size) = c.size {
        if seen.len != size {
            return Err(fail(
                format!("size {size}"),
                format!("size {}", seen.len),
                format!(
                    "{what} holds {} bytes, but the scenario expects {size}",
                    seen.len
                ),
            ));
        }
    }
    if let Some(want) = &c.sha256 {
        let got = hex(&seen.sha);
        if &got != want {
            return Err(fail(
                format!("sha256 {want}"),
                format!("sha256 {got}"),
                format!("the SHA-256 of {what} is {got}, but the scenario expects {want}"),
            ));
        }
    }
    if let Some(text) = &c.text {
        let same = seen.len == text.len() as u64 && seen.head == text.as_bytes();
        if !same {
            let got = if seen.head.len() > TEXT_LIMIT {
                format!("{} bytes", seen.len)
            } else {
                format!("{:?}", String::from_utf8_lossy(&seen.head))
            };
            return Err(fail(
                format!("{text:?}"),
                got.clone(),
                format!("{what} holds {got}, but the scenario expects the text {text:?}"),
            ));
        }
    }
    if let Some(s) = &c.same_as {
        let pieces = expected_pieces(r, s)?;
        let pieces: Vec<(&Body, u64, u64)> = pieces.iter().map(|(b, o, n)| (b, *o, *n)).collect();
        let want = seen_pieces(
            &pieces,
            Need {
                sha: true,
                head: false,
            },
        );
        if want.len != seen.len || want.sha != seen.sha {
            let name = match s {
                SameAs::Remote { url, ranges: None } => format!("the body of {url}"),
                SameAs::Remote { url, .. } => format!("those ranges of {url}"),
                SameAs::Local(p) => format!("the body of local {p}"),
            };
            return Err(fail(
                format!("{name} ({} bytes, sha256 {})", want.len, hex(&want.sha)),
                format!("{} bytes, sha256 {}", seen.len, hex(&seen.sha)),
                format!("{what} differs from {name}"),
            ));
        }
    }
    Ok(())
}

fn no_sandbox() -> Fail {
    fail(
        "a sandbox",
        "none",
        "this check reads the sandbox, but the scenario runs without one (world \"sandbox\")"
            .into(),
    )
}

/// `check local_file`.
pub(crate) fn local_file(
    r: &mut Runner,
    app: &str,
    target: &LocalTarget,
    exists: Option<bool>,
    body: &BodyCheck,
) -> Outcome {
    let (name, path) = match target {
        LocalTarget::Path(p) => (p.clone(), p.clone()),
        LocalTarget::File {
            job,
            file,
            temporary,
        } => {
            let idx = *file;
            let got = r.call(app, job, |j| {
                let files = j.enum_files()?;
                let f = files
                    .get(idx as usize)
                    .ok_or(crate::HResult::E_INVALIDARG)?;
                Ok::<_, crate::HResult>((j.id(), f.get_local_name()?))
            })?;
            let (id, local) = match got {
                Ok(Ok(v)) => v,
                Ok(Err(h)) | Err(h) => {
                    return Err(fail(
                        format!("file {idx} of {job}"),
                        h.to_string(),
                        format!("file {idx} of {job} could not be read: {h} (is the index beyond its files?)"),
                    ))
                }
            };
            if *temporary {
                let t = Sandbox::temp_name(&local, id, idx);
                (format!("the temporary file {t} of file {idx} of {job}"), t)
            } else {
                (format!("{local} (file {idx} of {job})"), local)
            }
        }
    };
    r.sim.with_service_mut(|s| s.flush_sandbox());
    let host = r
        .sim
        .with_service(|s| s.sandbox.as_deref().map(|sb| sb.path(&path)));
    let host = match host {
        None => return Err(no_sandbox()),
        Some(Ok(p)) => p,
        Some(Err(h)) => {
            return Err(fail(
                "a sandbox file name",
                h.to_string(),
                format!("{name} cannot name a file in the sandbox: {h}"),
            ))
        }
    };
    let present = host.is_file();
    if let Some(want) = exists {
        if want != present {
            return Err(fail(
                if want { "exists" } else { "absent" },
                if present { "exists" } else { "absent" },
                format!(
                    "{name} {}, but the scenario expects it {}",
                    if present { "exists" } else { "does not exist" },
                    if want { "to exist" } else { "not to exist" }
                ),
            ));
        }
    }
    if *body == BodyCheck::default() {
        return Ok(());
    }
    if !present {
        return Err(fail(
            "a file",
            "absent",
            format!("{name} does not exist, so its body cannot be checked"),
        ));
    }
    let seen = seen_file(&host, Need::of(body)).map_err(|e| {
        fail(
            "a readable file",
            e.to_string(),
            format!("{name} cannot be read: {e}"),
        )
    })?;
    compare(r, &name, &seen, body)
}

/// `check local_dir`.
pub(crate) fn local_dir(r: &mut Runner, dir: &str, names: &[String]) -> Outcome {
    r.sim.with_service_mut(|s| s.flush_sandbox());
    let host = r
        .sim
        .with_service(|s| s.sandbox.as_deref().map(|sb| sb.dir_path(dir)));
    let host = match host {
        None => return Err(no_sandbox()),
        Some(Ok(p)) => p,
        Some(Err(h)) => {
            return Err(fail(
                "a sandbox folder name",
                h.to_string(),
                format!("{dir} cannot name a folder in the sandbox: {h}"),
            ))
        }
    };
    let mut got: Vec<String> = match std::fs::read_dir(&host) {
        Ok(entries) => entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    got.sort();
    if got != names {
        return Err(fail(
            format!("{names:?}"),
            format!("{got:?}"),
            format!("the folder {dir} holds {got:?}, but the scenario expects {names:?}"),
        ));
    }
    Ok(())
}

/// `*` matches any run of characters; everything else matches itself.
fn like(pattern: &str, s: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == s;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !s.starts_with(first) || s.len() < first.len() + last.len() || !s.ends_with(last) {
        return false;
    }
    let mut rest = &s[first.len()..s.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// The lines of a File5 HTTP_RESPONSE_HEADERS string (CR LF separated, D64).
fn header_lines(s: String) -> FileValue {
    FileValue::HttpResponseHeaders(
        s.split("\r\n")
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
    )
}

/// `check file_property`: the getter's HRESULT and value.
pub(crate) fn file_property(
    r: &mut Runner,
    app: &str,
    job: &str,
    file: u32,
    property: &str,
    is: Option<&FileValue>,
    expect: crate::HResult,
) -> Outcome {
    use crate::HResult;
    let idx = file as usize;
    let prop = property.to_string();
    let got = r.call(app, job, |j| {
        let files = j.enum_files()?;
        let Some(f) = files.get(idx) else {
            return Ok(None);
        };
        Ok::<_, HResult>(Some(match prop.as_str() {
            "remote_name" => f.get_remote_name().map(FileValue::RemoteName),
            "local_name" => f.get_local_name().map(FileValue::LocalName),
            "temporary_name" => f
                .get_temporary_name()
                .map(|name| FileValue::TemporaryName { name, like: false }),
            "validation_state" => f.get_validation_state().map(FileValue::ValidationState),
            "from_peer" => f.is_downloaded_from_peer().map(FileValue::FromPeer),
            "file_ranges" => f.get_file_ranges().map(FileValue::FileRanges),
            "filled_file_ranges" => f.get_filled_file_ranges().map(FileValue::FilledFileRanges),
            "http_response_headers" => f
                .get_property(crate::file_calls::FILE_PROPERTY_HTTP_RESPONSE_HEADERS)
                .map(header_lines),
            raw if raw.parse::<u32>().is_ok() => f
                .get_property(raw.parse::<u32>().unwrap_or(u32::MAX))
                .map(header_lines),
            _ => f.get_progress().map(|p| FileValue::Progress {
                bytes_total: Some(if p.bytes_total == crate::BG_SIZE_UNKNOWN {
                    BytesTotal::Unknown
                } else {
                    BytesTotal::Bytes(p.bytes_total)
                }),
                bytes_transferred: Some(p.bytes_transferred),
                completed: Some(p.completed),
            }),
        }))
    })?;
    let result = match got {
        Ok(Ok(Some(v))) => v,
        Ok(Ok(None)) => {
            return Err(fail(
                format!("file {idx} of {job}"),
                "no such file",
                format!("{job} has no file {idx} (files are numbered from 0 in the order added)"),
            ))
        }
        Ok(Err(h)) | Err(h) => Err(h),
    };
    let code = match &result {
        Err(h) => *h,
        // GetFileRanges: S_FALSE when the file has no ranges (or the job uploads).
        Ok(FileValue::FileRanges(rs)) if rs.is_empty() => HResult::S_FALSE,
        Ok(_) => HResult::S_OK,
    };
    if code != expect {
        return Err(fail(
            expect.to_string(),
            code.to_string(),
            format!("the {property} getter of file {idx} of {job} returned {code}, but the scenario expects {expect}"),
        ));
    }
    let (Ok(actual), Some(want)) = (result, is) else {
        return Ok(());
    };
    let ok = match (want, &actual) {
        (
            FileValue::TemporaryName { name, like: true },
            FileValue::TemporaryName { name: got, .. },
        ) => super::file_checks::like(name, got),
        (FileValue::HttpResponseHeaders(want), FileValue::HttpResponseHeaders(got)) => {
            want.iter().all(|w| got.contains(w))
        }
        (
            FileValue::Progress {
                bytes_total,
                bytes_transferred,
                completed,
            },
            FileValue::Progress {
                bytes_total: t,
                bytes_transferred: b,
                completed: c,
            },
        ) => {
            (bytes_total.is_none() || bytes_total == t)
                && (bytes_transferred.is_none() || bytes_transferred == b)
                && (completed.is_none() || completed == c)
        }
        _ => want == &actual,
    };
    if ok {
        Ok(())
    } else {
        Err(fail(
            format!("{want:?}"),
            format!("{actual:?}"),
            format!("the {property} of file {idx} of {job} is {actual:?}, but the scenario expects {want:?}"),
        ))
    }
}
