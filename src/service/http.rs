//! The HTTP gates of one connection attempt, in the order part 2 of the scenario contract gives
//! (decision 1 there; D27, D30 here): the proxy (unknown, invalid, 407), the unknown URL, the
//! server certificate, the client certificate, `auth` (401), `required_headers`, then the script,
//! which only attempts past the gates consume. A redirect answer is followed inside the same
//! attempt (at most 10 hops) as the job's redirect policy says. Every request a server receives is
//! logged for `check requests`.

use super::Service;
use crate::hresult::HResult;
use crate::http::{
    default_method, REDIRECT_POLICY_ALLOW_HTTPS_TO_HTTP, REDIRECT_POLICY_ALLOW_REPORT,
    REDIRECT_POLICY_DISALLOW, REDIRECT_POLICY_MASK, SSL_ENABLE_CRL_CHECK,
    SSL_IGNORE_CERT_CN_INVALID, SSL_IGNORE_CERT_DATE_INVALID, SSL_IGNORE_CERT_WRONG_USAGE,
    SSL_IGNORE_UNKNOWN_CA,
};
use crate::state::ProxyUsage;
use crate::trace::{RedirectOutcome, TraceKind, TraceText};
use crate::world::{Attempt, Auth, Fault, Request, Response, ServerCertificate};
use crate::{AuthScheme, AuthTarget};
use std::borrow::Cow;

/// At most this many redirects are followed in one attempt (part 2, decision 1).
pub const MAX_REDIRECTS: u32 = 10;

/// The proxy an attempt goes through (D27).
enum Route {
    Direct,
    Proxy(String),
    Bypassed(String),
    /// OVERRIDE with a list that names no proxy: BG_E_INVALID_PROXY_INFO.
    Invalid,
}

fn fail(code: HResult) -> Attempt {
    Attempt {
        response: Response::Fail {
            fault: Fault::HResult(code),
            after_bytes: None,
        },
        size: None,
        modified: 0,
        accept_ranges: true,
        length: 0,
        gate: false,
    }
}

/// An attempt that stopped at a gate with `code`, before the remote's script (traced as such,
/// `TraceKind::Attempt::gate`).
fn stopped(code: HResult) -> Attempt {
    Attempt {
        gate: true,
        ..fail(code)
    }
}

/// The host of a URL, lower case, without user info and port.
pub(crate) fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if authority.starts_with('[') {
        authority
            .split_once(']')
            .map_or(authority, |(h, _)| h)
            .trim_start_matches('[')
    } else {
        authority.split(':').next().unwrap_or("")
    };
    host.to_ascii_lowercase()
}

fn scheme_of(url: &str) -> String {
    url.split_once("://")
        .map_or(String::new(), |(s, _)| s.to_ascii_lowercase())
}

/// `*` matches any run of characters (D27).
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// Whether `host` matches a bypass list entry (D27): exact, `*` wildcards, `<local>` for a host
/// without a dot; case-insensitive.
pub(crate) fn bypassed(bypass: &str, host: &str) -> bool {
    bypass
        .split([' ', ',', ';', '\t', '\r', '\n'])
        .filter(|e| !e.is_empty())
        .any(|e| {
            let e = e.to_ascii_lowercase();
            if e == "<local>" {
                !host.contains('.')
            } else {
                glob(&e, host)
            }
        })
}

/// The proxy of an OVERRIDE list for a URL of `scheme` (D27): entries split on spaces, commas and
/// semicolons; `scheme=` entries serve that scheme, bare ones any; `http://` / `https://` prefixes
/// of a name are dropped. The first fitting entry wins.
pub(crate) fn pick_proxy(list: &str, scheme: &str) -> Option<String> {
    let mut bare = None;
    for e in list
        .split([' ', ',', ';', '\t', '\r', '\n'])
        .filter(|e| !e.is_empty())
    {
        let (for_scheme, name) = match e.split_once('=') {
            Some((s, n)) => (Some(s.to_ascii_lowercase()), n),
            None => (None, e),
        };
        let name = name
            .strip_prefix("http://")
            .or_else(|| name.strip_prefix("https://"))
            .unwrap_or(name)
            .trim_end_matches('/');
        if name.is_empty() {
            continue;
        }
        match for_scheme {
            Some(s) if s == scheme => return Some(name.to_string()),
            Some(_) => {}
            None => {
                if bare.is_none() {
                    bare = Some(name.to_string());
                }
            }
        }
    }
    bare
}

/// The header lines of a custom-headers string.
fn header_lines(headers: &str) -> impl Iterator<Item = &str> {
    headers
        .split(['\r', '\n'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
}

/// Whether `line` (`Name: value`) is among `headers` (name case-insensitive, value exact).
fn has_header(headers: &str, line: &str) -> bool {
    let split = |l: &str| {
        l.split_once(':')
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
    };
    let Some(want) = split(line) else {
        return false;
    };
    header_lines(headers).any(|l| split(l).as_ref() == Some(&want))
}

/// The request job `job` sends for its file `f`.
#[inline]
fn request(
    job: &crate::job::Job,
    f: usize,
    credentials: Option<(AuthTarget, AuthScheme)>,
) -> Request {
    let h = job.http();
    let method = match h.and_then(|h| h.http_method.as_deref()) {
        Some(m) => Cow::Owned(m.to_string()),
        None => Cow::Borrowed(default_method(job.job_type().is_upload())),
    };
    let headers = h
        .and_then(|h| h.custom_headers.as_deref())
        .map(|s| header_lines(s).map(str::to_string).collect())
        .unwrap_or_default();
    Request {
        method,
        from: job.files()[f].bytes_transferred,
        headers,
        credentials,
    }
}

impl Service {
    /// What `url` received so far: how many requests and the latest (simulator inspection; the
    /// scenario check `requests`). A 401/407 challenge and the request answering it are two (a
    /// proxy's 407 counts for the URL the request was addressed to); attempts stopped by an unknown
    /// or invalid proxy, a server or client certificate, or an unknown URL never reach it (D27).
    pub fn requests_received(&self, url: &str) -> crate::world::Requests {
        self.world.requests(url).cloned().unwrap_or_default()
    }

    /// Which way an attempt of job `j` to `url` goes (D27).
    fn route(&self, j: usize, url: &str) -> Route {
        let job = &self.jobs[j];
        match job.proxy_usage() {
            ProxyUsage::NoProxy => Route::Direct,
            ProxyUsage::Preconfig | ProxyUsage::Autodetect => match &self.world.http.system_proxy {
                Some(p) => Route::Proxy(p.clone()),
                None => Route::Direct,
            },
            ProxyUsage::Override => {
                let h = job.http();
                let list = h.and_then(|h| h.proxy_list.as_deref()).unwrap_or("");
                let Some(name) = pick_proxy(list, &scheme_of(url)) else {
                    return Route::Invalid;
                };
                match h.and_then(|h| h.proxy_bypass.as_deref()) {
                    Some(b) if bypassed(b, &host_of(url)) => Route::Bypassed(name),
                    _ => Route::Proxy(name),
                }
            }
        }
    }

    /// The credentials job `j` answers a challenge of `auth` for `target` with (D27): among the
    /// schemes offered, in WinHTTP's preference order, the first the job holds credentials for
    /// (for a proxy, USE_STORED_CREDENTIALS = PROXY holds the caller's logon for NTLM and
    /// Negotiate); with whether the server accepts them.
    fn answer(&self, j: usize, target: AuthTarget, auth: &Auth) -> Option<(AuthScheme, bool)> {
        let h = self.jobs[j].http();
        for scheme in AuthScheme::PREFERENCE {
            if !auth.schemes.contains(&scheme) {
                continue;
            }
            if let Some(c) = h.and_then(|h| h.credential(target, scheme)) {
                let ok = if c.is_implicit() {
                    auth.implicit
                } else {
                    auth.user
                        .as_ref()
                        .is_none_or(|u| c.user.as_ref() == Some(u))
                        && auth
                            .password
                            .as_ref()
                            .is_none_or(|p| c.password.as_ref() == Some(p))
                };
                return Some((scheme, ok));
            }
            if target == AuthTarget::Proxy
                && scheme.allows_implicit()
                && h.is_some_and(|h| h.use_stored_credentials == AuthTarget::Proxy.value())
            {
                return Some((scheme, auth.implicit));
            }
        }
        None
    }

    /// A server received a request of job `j` for file `f`.
    fn log_request(
        &mut self,
        j: usize,
        f: usize,
        url: &str,
        credentials: Option<(AuthTarget, AuthScheme)>,
    ) {
        let request = request(&self.jobs[j], f, credentials);
        self.world.server_log(url, |log| {
            log.count = log.count.saturating_add(1);
            log.last = Some(request);
        });
    }

    /// A file's remote name becomes `url` (redirect policies ALLOW_REPORT and DISALLOW, D30).
    fn rename_remote(&mut self, j: usize, f: usize, url: &str) {
        let id = self.jobs[j].id();
        self.jobs[j].files_mut()[f].set_remote(url);
        self.record(TraceKind::RemoteNameChanged {
            job: id,
            file: f as u32,
            to: TraceText::new(url),
        });
    }

    /// One connection attempt of job `j` for its file `f` through the gates (module docs).
    pub(crate) fn http_attempt(&mut self, j: usize, f: usize) -> Attempt {
        let job = &self.jobs[j];
        let plain_job = job.http().is_none() && job.proxy_usage() != ProxyUsage::Override;
        if plain_job && self.world.http.is_empty() {
            // No gate anywhere: the script answers (the simulator before part 2, byte for byte),
            // the remote found by the file's slot (one hashed look-up only if it is stale; the
            // URL itself is read only then).
            let file = &job.files()[f];
            let hint = file.remote_slot;
            if let Some((attempt, plain, slot)) =
                self.world
                    .attempt_ungated(|| file.remote(), hint, || request(job, f, None))
            {
                self.jobs[j].files_mut()[f].remote_slot = slot;
                // A plain remote (no headers, no peer copy) leaves a file without an extra box as
                // it is: `note_served` would look the URL up again only to find that out.
                if !plain || self.jobs[j].files()[f].extra.is_some() {
                    self.note_served(j, f, None, &attempt);
                }
                return attempt;
            }
        }
        let start = job.files()[f].remote();
        let id = job.id();
        let file = f as u32;
        let upload = job.job_type().is_upload();
        let flags = job.http().map_or(0, |h| h.security_flags);
        // The redirect policy applies to download jobs only (SetSecurityFlags page).
        let policy = if upload {
            0
        } else {
            flags & REDIRECT_POLICY_MASK
        };
        let mut url = start.to_string();
        let mut hops = 0;
        loop {
            // 1. The proxy.
            let mut proxy_sent = None;
            match self.route(j, &url) {
                Route::Direct => {}
                Route::Invalid => return stopped(HResult::BG_E_INVALID_PROXY_INFO),
                Route::Bypassed(name) => self.record(TraceKind::Proxy {
                    job: id,
                    file,
                    proxy: TraceText::new(&name),
                    bypassed: true,
                }),
                Route::Proxy(name) => {
                    self.record(TraceKind::Proxy {
                        job: id,
                        file,
                        proxy: TraceText::new(&name),
                        bypassed: false,
                    });
                    let Some(proxy) = self.world.http.proxies.get(&name) else {
                        // A proxy nobody runs: its name does not resolve (part 2, decision 4).
                        return stopped(HResult::ERROR_WINHTTP_NAME_NOT_RESOLVED);
                    };
                    if !proxy.valid {
                        return stopped(HResult::BG_E_INVALID_PROXY_INFO);
                    }
                    if let Some(auth) = proxy.auth.clone() {
                        self.log_request(j, f, &url, None);
                        let answer = self.answer(j, AuthTarget::Proxy, &auth);
                        self.record(TraceKind::Challenged {
                            job: id,
                            file,
                            status: 407,
                            sent: answer.map(|(s, _)| (AuthTarget::Proxy, s)),
                        });
                        match answer {
                            Some((scheme, true)) => proxy_sent = Some((AuthTarget::Proxy, scheme)),
                            Some((scheme, false)) => {
                                self.log_request(j, f, &url, Some((AuthTarget::Proxy, scheme)));
                                return stopped(HResult::http(407));
                            }
                            None => return stopped(HResult::http(407)),
                        }
                    }
                }
            }
            // 2. The unknown URL (the file's own remote found by its slot while it is valid).
            let hint = if hops == 0 {
                self.jobs[j].files()[f].remote_slot
            } else {
                crate::url_map::Slot::NONE
            };
            let found = self.world.remotes.find(&url, hint);
            if hops == 0 {
                self.jobs[j].files_mut()[f].remote_slot = found.unwrap_or_default();
            }
            let Some(remote) = found.map(|s| self.world.remotes.at(s)) else {
                return Attempt {
                    response: Response::win32(12007),
                    size: None,
                    modified: 0,
                    accept_ranges: true,
                    length: 0,
                    gate: false,
                };
            };
            let gates = remote.http.as_deref().cloned();
            if let Some(g) = &gates {
                // 3. The server certificate (https only; D30).
                if scheme_of(&url) == "https" {
                    let crl = flags & SSL_ENABLE_CRL_CHECK != 0;
                    let problem = match g.certificate {
                        ServerCertificate::Valid => None,
                        ServerCertificate::CnInvalid => (flags & SSL_IGNORE_CERT_CN_INVALID == 0)
                            .then_some(HResult::ERROR_WINHTTP_SECURE_CERT_CN_INVALID),
                        ServerCertificate::DateInvalid => (flags & SSL_IGNORE_CERT_DATE_INVALID
                            == 0)
                            .then_some(HResult::ERROR_WINHTTP_SECURE_CERT_DATE_INVALID),
                        ServerCertificate::UnknownCa => (flags & SSL_IGNORE_UNKNOWN_CA == 0)
                            .then_some(HResult::ERROR_WINHTTP_SECURE_INVALID_CA),
                        ServerCertificate::WrongUsage => (flags & SSL_IGNORE_CERT_WRONG_USAGE == 0)
                            .then_some(HResult::ERROR_WINHTTP_SECURE_CERT_WRONG_USAGE),
                        ServerCertificate::Revoked => {
                            crl.then_some(HResult::ERROR_WINHTTP_SECURE_CERT_REVOKED)
                        }
                        ServerCertificate::RevocationOffline => {
                            crl.then_some(HResult::ERROR_WINHTTP_SECURE_CERT_REV_FAILED)
                        }
                    };
                    if let Some(code) = problem {
                        return stopped(code);
                    }
                }
                // 4. The client certificate (SetClientCertificateByName page): none presented is
                // ERROR_WINHTTP_CLIENT_AUTH_CERT_NEEDED; one the server does not trust gets 403.
                if let Some(trusted) = &g.client_certificate {
                    match self.jobs[j]
                        .http()
                        .and_then(|h| h.client_certificate.as_ref())
                    {
                        None => return stopped(HResult::ERROR_WINHTTP_CLIENT_AUTH_CERT_NEEDED),
                        Some(c) if !trusted.iter().any(|t| t.eq_ignore_ascii_case(&c.sha1)) => {
                            self.log_request(j, f, &url, proxy_sent);
                            return stopped(HResult::http(403));
                        }
                        Some(_) => {}
                    }
                }
            }
            // 5. auth (401).
            let mut server_sent = None;
            if let Some(auth) = gates.as_ref().and_then(|g| g.auth.clone()) {
                self.log_request(j, f, &url, proxy_sent);
                let answer = self.answer(j, AuthTarget::Server, &auth);
                self.record(TraceKind::Challenged {
                    job: id,
                    file,
                    status: 401,
                    sent: answer.map(|(s, _)| (AuthTarget::Server, s)),
                });
                match answer {
                    Some((scheme, true)) => server_sent = Some((AuthTarget::Server, scheme)),
                    Some((scheme, false)) => {
                        self.log_request(j, f, &url, Some((AuthTarget::Server, scheme)));
                        return stopped(HResult::http(401));
                    }
                    None => return stopped(HResult::http(401)),
                }
            }
            // The request that goes through (with the credentials it carries).
            self.log_request(j, f, &url, server_sent.or(proxy_sent));
            // 6. required_headers.
            if let Some(g) = &gates {
                let headers = self.jobs[j]
                    .http()
                    .and_then(|h| h.custom_headers.as_deref())
                    .unwrap_or("");
                if !g.required_headers.iter().all(|r| has_header(headers, r)) {
                    let remote = self.world.remotes.get(&url);
                    return Attempt {
                        response: g.headers_missing,
                        size: remote.and_then(|r| r.size),
                        modified: remote.map_or(0, |r| r.modified),
                        accept_ranges: remote.is_none_or(|r| r.accept_ranges),
                        length: 0,
                        gate: true,
                    };
                }
            }
            // 7. The script.
            let attempt = self.world.attempt(&url);
            self.note_served(j, f, Some(&url), &attempt);
            let Response::Redirect { status, to } = attempt.response else {
                if hops > 0 && policy == REDIRECT_POLICY_ALLOW_REPORT {
                    self.rename_remote(j, f, &url);
                }
                return attempt;
            };
            let target = self
                .world
                .remotes
                .get(&url)
                .and_then(|r| r.redirect_target(to))
                .unwrap_or("")
                .to_string();
            hops += 1;
            let downgrade = scheme_of(&url) == "https"
                && scheme_of(&target) == "http"
                && flags & REDIRECT_POLICY_ALLOW_HTTPS_TO_HTTP == 0;
            let refused = policy == REDIRECT_POLICY_DISALLOW || downgrade || hops > MAX_REDIRECTS;
            self.record(TraceKind::Redirected {
                job: id,
                file,
                status,
                from: TraceText::new(&url),
                to: TraceText::new(&target),
                outcome: if refused {
                    RedirectOutcome::Refused
                } else if policy == REDIRECT_POLICY_ALLOW_REPORT {
                    RedirectOutcome::Reported
                } else {
                    RedirectOutcome::Followed
                },
            });
            if policy == REDIRECT_POLICY_DISALLOW {
                // SetSecurityFlags page: fatal, HRESULT_FROM_WIN32 of the status, and the remote
                // name becomes the redirected URL.
                self.rename_remote(j, f, &target);
                return fail(HResult::from_win32(u32::from(status)));
            }
            if refused {
                return fail(HResult::ERROR_WINHTTP_REDIRECT_FAILED);
            }
            url = target;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_bypass_and_proxy_lists() {
        assert_eq!(
            host_of("https://User@Example.Test:8443/a?b"),
            "example.test"
        );
        assert_eq!(host_of("http://intranet/x"), "intranet");
        assert!(bypassed("<local>", "intranet"));
        assert!(!bypassed("<local>", "example.test"));
        assert!(bypassed("*.example.test", "cdn.example.test"));
        assert!(!bypassed("*.example.test", "example.org"));
        assert!(bypassed("a.test  EXAMPLE.test", "example.test"));
        assert_eq!(pick_proxy("p1:80 p2:80", "https"), Some("p1:80".into()));
        assert_eq!(
            pick_proxy("http=http://hp:80;https=sp:443", "https"),
            Some("sp:443".into())
        );
        assert_eq!(
            pick_proxy("http=hp:80 other:1", "https"),
            Some("other:1".into())
        );
        assert_eq!(pick_proxy("http=hp:80", "https"), None);
        assert_eq!(pick_proxy("  ", "https"), None);
    }

    #[test]
    fn headers_match_by_name_case_and_exact_value() {
        assert!(has_header("x-key: k1\r\nOther: 2\r\n", "X-Key: k1"));
        assert!(!has_header("X-Key: k2\r\n", "X-Key: k1"));
        assert!(!has_header("", "X-Key: k1"));
    }
}
