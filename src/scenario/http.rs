//! Part 2's HTTP world in scenario files: the remote fields `auth`, `required_headers`,
//! `headers_missing`, `certificate`, `client_certificate` and redirect answers, and the world
//! fields `system_proxy` and `proxies` — read (with file, line:column and JSON pointer on bad
//! input) and written back.

use super::json::{quote, Kind, Member, Node};
use super::load::{array, at, boolean, named, string, Fields, R};
use super::write::{v, Out};
use crate::world::{Auth, Proxy, Remote, RemoteHttp, Response, ServerCertificate};
use crate::AuthScheme;

/// The remote keys this module reads.
pub(super) const REMOTE_KEYS: [&str; 5] = [
    "auth",
    "required_headers",
    "headers_missing",
    "certificate",
    "client_certificate",
];

/// A redirect answer `{ "redirect": URL, "http": 301 | 302 | 303 | 307 | 308 }` (default 302),
/// or `None` when `n` is no redirect (then the plain response reader takes it).
pub(super) fn redirect(n: &Node, ptr: &str, remote: &mut Remote) -> R<Option<Response>> {
    let Kind::Obj(members) = &n.kind else {
        return Ok(None);
    };
    if !members.iter().any(|(k, _, _)| k == "redirect") {
        return Ok(None);
    }
    let f = Fields::new(
        n,
        ptr,
        "a redirect ({ \"redirect\": URL, \"http\": 301 | 302 | 303 | 307 | 308 }: no win32, hresult or after_bytes)",
        &["redirect", "http"],
    )?;
    let url = f.req_with("redirect", "the URL redirected to", string)?;
    if url.is_empty() {
        return at(
            f.get("redirect").unwrap_or(n),
            &f.ptr("redirect"),
            "a redirect needs a URL",
        );
    }
    let status = f
        .opt_with("http", |n, p| {
            let s = super::load::integer(n, p, u64::MAX, "a redirect status")?;
            if ![301, 302, 303, 307, 308].contains(&s) {
                return at(
                    n,
                    p,
                    format!("{s} is not a redirect status: expected 301, 302, 303, 307 or 308"),
                );
            }
            Ok(s as u16)
        })?
        .unwrap_or(302);
    Ok(Some(remote.redirect(status, &url)))
}

/// The part-2 keys of a remote, read into `remote.http` (left `None` when none is given).
pub(super) fn remote_fields(f: &Fields, remote: &mut Remote) -> R<()> {
    if !REMOTE_KEYS.iter().any(|k| f.has(k)) {
        return Ok(());
    }
    let auth = f.opt_with("auth", auth)?;
    let required_headers = match f.get("required_headers") {
        None => Vec::new(),
        Some(n) => {
            let p = f.ptr("required_headers");
            let items = array(n, &p, "an array of header lines (\"Name: value\")")?;
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let ip = format!("{p}/{i}");
                let line = string(item, &ip)?;
                if header_name(&line).is_none() {
                    return at(
                        item,
                        &ip,
                        format!(
                            "{} is not a header line: expected \"Name: value\"",
                            quote(&line)
                        ),
                    );
                }
                out.push(line);
            }
            out
        }
    };
    let headers_missing = match f.get("headers_missing") {
        None => Response::http(403),
        Some(n) => {
            if redirect(n, &f.ptr("headers_missing"), remote)?.is_some() {
                return at(
                    n,
                    &f.ptr("headers_missing"),
                    "headers_missing cannot be a redirect",
                );
            }
            super::load::response(n, &f.ptr("headers_missing"))?
        }
    };
    let names: Vec<&str> = ServerCertificate::ALL.iter().map(|(n, _)| *n).collect();
    let certificate = f
        .opt_with("certificate", |n, p| {
            named(n, p, "server certificate", &names, |s| {
                ServerCertificate::ALL
                    .iter()
                    .find(|(x, _)| *x == s)
                    .map(|(_, c)| *c)
            })
        })?
        .unwrap_or_default();
    let client_certificate = f.opt_with("client_certificate", |n, p| {
        let cf = Fields::new(n, p, "a client-certificate requirement", &["trusted"])?;
        let t = cf.req("trusted", "the SHA-1 hashes accepted")?;
        let tp = cf.ptr("trusted");
        array(t, &tp, "an array of SHA-1 hashes (40 lowercase hex digits)")?
            .iter()
            .enumerate()
            .map(|(i, h)| sha1(h, &format!("{tp}/{i}")))
            .collect::<R<Vec<_>>>()
    })?;
    let h = remote.http_mut();
    h.auth = auth;
    h.required_headers = required_headers;
    h.headers_missing = headers_missing;
    h.certificate = certificate;
    h.client_certificate = client_certificate;
    Ok(())
}

/// 40 lowercase hex digits.
pub(super) fn sha1(n: &Node, p: &str) -> R<String> {
    let s = string(n, p)?;
    if s.len() != 40
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
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
}

/// The name of a header line `Name: value` (`None`: not a header line).
pub(crate) fn header_name(line: &str) -> Option<&str> {
    let (name, _) = line.split_once(':')?;
    let name = name.trim();
    (!name.is_empty() && !name.contains(char::is_whitespace)).then_some(name)
}

/// `auth`: `{ "schemes" (required, non-empty), "user", "password", "implicit" }`.
fn auth(n: &Node, p: &str) -> R<Auth> {
    let f = Fields::new(
        n,
        p,
        "an auth object ({ schemes, user, password, implicit })",
        &["schemes", "user", "password", "implicit"],
    )?;
    let s = f.req("schemes", "the schemes the server challenges with")?;
    let sp = f.ptr("schemes");
    let items = array(
        s,
        &sp,
        "an array of schemes (BASIC, DIGEST, NTLM, NEGOTIATE, PASSPORT)",
    )?;
    if items.is_empty() {
        return at(s, &sp, "an auth object needs at least one scheme");
    }
    let names = ["BASIC", "DIGEST", "NTLM", "NEGOTIATE", "PASSPORT"];
    let mut schemes = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let ip = format!("{sp}/{i}");
        let scheme = named(
            item,
            &ip,
            "authentication scheme",
            &names,
            AuthScheme::from_name,
        )?;
        if schemes.contains(&scheme) {
            return at(
                item,
                &ip,
                format!("scheme {} is listed twice", scheme.name()),
            );
        }
        schemes.push(scheme);
    }
    Ok(Auth {
        schemes,
        user: f.opt_with("user", string)?,
        password: f.opt_with("password", string)?,
        implicit: f.opt_with("implicit", boolean)?.unwrap_or(false),
    })
}

/// `system_proxy`: a proxy name (`host:port`).
pub(super) fn proxy_name(n: &Node, p: &str) -> R<String> {
    let s = string(n, p)?;
    if s.is_empty() || s.contains(char::is_whitespace) {
        return at(
            n,
            p,
            format!("{} is not a proxy name: expected host:port", quote(&s)),
        );
    }
    Ok(s)
}

/// `proxies`: name → `{ "valid": bool (default true), "auth": auth }`.
pub(super) fn proxies(members: &[Member], ptr: &str) -> R<Vec<(String, Proxy)>> {
    let mut out = Vec::with_capacity(members.len());
    for (name, key_pos, value) in members {
        let pp = format!("{ptr}/{}", super::json::pointer_token(name));
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(super::load::At {
                ptr: pp,
                pos: *key_pos,
                msg: format!("{} is not a proxy name: expected host:port", quote(name)),
            });
        }
        let f = Fields::new(value, &pp, "a proxy ({ valid, auth })", &["valid", "auth"])?;
        out.push((
            name.to_string(),
            Proxy {
                valid: f.opt_with("valid", boolean)?.unwrap_or(true),
                auth: f.opt_with("auth", auth)?,
            },
        ));
    }
    Ok(out)
}

fn auth_out(a: &Auth) -> Out {
    let mut f = vec![(
        "schemes",
        Out::Arr(a.schemes.iter().map(|s| v(s.name())).collect()),
    )];
    if let Some(u) = &a.user {
        f.push(("user", v(u)));
    }
    if let Some(p) = &a.password {
        f.push(("password", v(p)));
    }
    if a.implicit {
        f.push(("implicit", v(true)));
    }
    Out::Obj(f)
}

/// Put a remote's part-2 keys back.
pub(super) fn write_remote_http(
    h: &RemoteHttp,
    f: &mut Vec<(&'static str, Out)>,
    response: impl Fn(&Response) -> Out,
) {
    if let Some(a) = &h.auth {
        f.push(("auth", auth_out(a)));
    }
    if !h.required_headers.is_empty() {
        f.push((
            "required_headers",
            Out::Arr(h.required_headers.iter().map(v).collect()),
        ));
    }
    if h.headers_missing != Response::http(403) {
        f.push(("headers_missing", response(&h.headers_missing)));
    }
    if h.certificate != ServerCertificate::Valid {
        f.push(("certificate", v(h.certificate.name())));
    }
    if let Some(t) = &h.client_certificate {
        f.push((
            "client_certificate",
            Out::Obj(vec![("trusted", Out::Arr(t.iter().map(v).collect()))]),
        ));
    }
    if let Some(r) = &h.reply {
        let mut o = Vec::new();
        if let Some(c) = &r.content {
            o.push(("content", super::write::body(c)));
        }
        if !r.app.is_empty() {
            let app = r
                .app
                .iter()
                .map(|a| match a {
                    None => v("ok"),
                    Some(s) => Out::Obj(vec![("http", v(u64::from(*s)))]),
                })
                .collect();
            o.push(("app", Out::Arr(app)));
        }
        if !r.responses.is_empty() {
            o.push((
                "responses",
                Out::Arr(r.responses.iter().map(&response).collect()),
            ));
        }
        f.push(("reply", Out::Obj(o)));
    }
}

/// A remote's `reply` (upload-reply servers, §7, D71): `{ "content": body (default empty), "app":
/// ["ok" | { "http": status }, …], "responses": [response, …] }`.
pub(super) fn reply(n: &Node, ptr: &str) -> R<crate::world::RemoteReply> {
    let f = Fields::new(
        n,
        ptr,
        "an upload-reply server application ({ content, app, responses })",
        &["content", "app", "responses"],
    )?;
    let content = f.opt_with("content", super::load::body)?;
    let app = match f.get("app") {
        None => Default::default(),
        Some(list) => {
            let ap = f.ptr("app");
            array(
                list,
                &ap,
                "the server application's answers (\"ok\" or { \"http\": status })",
            )?
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let p = format!("{ap}/{i}");
                if let Kind::Str(s) = &a.kind {
                    if s == "ok" {
                        return Ok(None);
                    }
                    return at(
                        a,
                        &p,
                        format!(
                            "unknown answer {}; expected \"ok\" or {{ \"http\": status }}",
                            quote(s)
                        ),
                    );
                }
                let af = Fields::new(
                    a,
                    &p,
                    "a server application answer ({ \"http\": status })",
                    &["http"],
                )?;
                af.req_with("http", "an HTTP status code", |n, p| {
                    let v = super::load::integer(n, p, u64::MAX, "an HTTP status code")?;
                    if !(100..=599).contains(&v) {
                        return at(
                            n,
                            p,
                            format!("{v} is not an HTTP status code: expected 100 to 599"),
                        );
                    }
                    Ok(Some(v as u16))
                })
            })
            .collect::<R<_>>()?
        }
    };
    let responses = match f.get("responses") {
        None => Default::default(),
        Some(list) => {
            let rp = f.ptr("responses");
            array(list, &rp, "the reply download's responses")?
                .iter()
                .enumerate()
                .map(|(i, r)| super::load::response(r, &format!("{rp}/{i}")))
                .collect::<R<_>>()?
        }
    };
    Ok(crate::world::RemoteReply {
        content,
        app,
        responses,
    })
}

/// Put the world's `system_proxy`, `proxies` and `certificates` back.
pub(super) fn write_world(w: &super::types::WorldSpec, world: &mut Vec<(&'static str, Out)>) {
    if let Some(p) = &w.system_proxy {
        world.push(("system_proxy", v(p)));
    }
    if !w.proxies.is_empty() {
        let m = w
            .proxies
            .iter()
            .map(|(name, p)| {
                let mut f = Vec::new();
                if !p.valid {
                    f.push(("valid", v(false)));
                }
                if let Some(a) = &p.auth {
                    f.push(("auth", auth_out(a)));
                }
                (name.clone(), Out::Obj(f))
            })
            .collect();
        world.push(("proxies", Out::Map(m)));
    }
    if !w.certificates.is_empty() {
        let l = w
            .certificates
            .iter()
            .map(|c| {
                Out::Obj(vec![
                    (
                        "location",
                        match crate::http::CERT_STORE_LOCATIONS.get(c.location as usize) {
                            Some(n) => v(n),
                            None => v(c.location),
                        },
                    ),
                    ("store", v(&c.store)),
                    ("subject", v(&c.subject)),
                    ("sha1", v(&c.sha1)),
                ])
            })
            .collect();
        world.push(("certificates", Out::Arr(l)));
    }
}

/// A BG_CERT_STORE_LOCATION: a name without its prefix or a raw integer.
pub(super) fn location(n: &Node, p: &str) -> R<u32> {
    match &n.kind {
        Kind::Num(_) => super::load::u32_field("a raw BG_CERT_STORE_LOCATION value")(n, p),
        _ => named(
            n,
            p,
            "certificate store location",
            &crate::http::CERT_STORE_LOCATIONS,
            |s| {
                crate::http::CERT_STORE_LOCATIONS
                    .iter()
                    .position(|x| *x == s)
                    .map(|i| i as u32)
            },
        ),
    }
}

/// `certificates`: `[{ "location", "store", "subject", "sha1" }]`, all required.
pub(super) fn certificates(n: &Node, p: &str) -> R<Vec<crate::ClientCertificate>> {
    let items = array(
        n,
        p,
        "an array of certificates ({ location, store, subject, sha1 })",
    )?;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let ip = format!("{p}/{i}");
        let f = Fields::new(
            item,
            &ip,
            "a certificate ({ location, store, subject, sha1 })",
            &["location", "store", "subject", "sha1"],
        )?;
        let c = crate::ClientCertificate {
            location: f.req_with("location", "a certificate store location", |n, p| {
                let v = location(n, p)?;
                if v as usize >= crate::http::CERT_STORE_LOCATIONS.len() {
                    return at(
                        n,
                        p,
                        format!("{v} is not a BG_CERT_STORE_LOCATION (0 to 7)"),
                    );
                }
                Ok(v)
            })?,
            store: f.req_with("store", "the store name", string)?,
            subject: f.req_with("subject", "the subject", string)?,
            sha1: f.req_with("sha1", "the SHA-1 hash", sha1)?,
        };
        if c.store.is_empty() || c.subject.is_empty() {
            return at(item, &ip, "a certificate needs a store name and a subject");
        }
        out.push(c);
    }
    Ok(out)
}
