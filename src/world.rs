//! The scripted world outside the BITS service: servers (remotes) by URL, local files for uploads,
//! shared bandwidth, the network, and optional seeded random faults.
//!
//! Faults are data (never randomness in the job): each connection attempt to a remote consumes one entry of its
//! `responses` script, then gets `otherwise`. A URL that is not listed answers with
//! ERROR_WINHTTP_NAME_NOT_RESOLVED (0x80072EE7). Chaos runs draw extra faults from a seeded generator whose
//! seed is part of the world, so any run can be replayed.

use crate::content::Body;
use crate::url_map::{Slot, UrlMap};
use crate::{ErrorContext, HResult};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

/// A fault a server (or the network path to it) answers a connection attempt with.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, Serialize, Deserialize)]
pub enum Fault {
    /// An HTTP status; surfaces as 0x80190000 + status (D5).
    Http(u16),
    /// A Win32 or WinHTTP error number; surfaces as HRESULT_FROM_WIN32.
    Win32(u32),
    /// Any HRESULT.
    HResult(HResult),
}

impl Fault {
    /// The HRESULT the job's error record carries.
    pub const fn code(self) -> HResult {
        match self {
            Fault::Http(s) => HResult::http(s),
            Fault::Win32(n) => HResult::from_win32(n),
            Fault::HResult(h) => h,
        }
    }
}

/// One answer to one connection attempt.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, Default, Serialize, Deserialize)]
pub enum Response {
    /// The transfer goes through.
    #[default]
    Ok,
    /// The attempt fails with `fault`, at once or after `after_bytes` bytes of this attempt.
    Fail {
        /// What fails.
        fault: Fault,
        /// Fail only after this many bytes of the attempt moved (`None`: at connection).
        after_bytes: Option<u64>,
    },
    /// A 3xx redirect to the URL numbered `to` in the remote's [`RemoteHttp::redirects`] (made with
    /// [`Remote::redirect`]); what the job does with it follows its redirect policy (D30).
    Redirect {
        /// 301, 302, 303, 307 or 308.
        status: u16,
        /// Index of the target URL in the remote's redirect list.
        to: u16,
    },
}

impl Response {
    /// An HTTP status answer (2xx statuses count as success, D5).
    pub const fn http(status: u16) -> Response {
        Response::Fail {
            fault: Fault::Http(status),
            after_bytes: None,
        }
    }
    /// A Win32/WinHTTP error answer.
    pub const fn win32(code: u32) -> Response {
        Response::Fail {
            fault: Fault::Win32(code),
            after_bytes: None,
        }
    }
    /// An arbitrary HRESULT answer.
    pub const fn hresult(code: HResult) -> Response {
        Response::Fail {
            fault: Fault::HResult(code),
            after_bytes: None,
        }
    }
    /// The same failure, but only after `n` bytes of the attempt.
    pub const fn after_bytes(self, n: u64) -> Response {
        match self {
            Response::Ok => Response::Ok,
            Response::Redirect { .. } => self,
            Response::Fail { fault, .. } => Response::Fail {
                fault,
                after_bytes: Some(n),
            },
        }
    }
}

/// A server-side file.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Remote {
    /// The download size; `None` means the server sends no length (BG_E_MISSING_FILE_SIZE, fatal).
    pub size: Option<u64>,
    /// Answers consumed one per connection attempt.
    pub responses: VecDeque<Response>,
    /// The answer once `responses` is used up.
    pub otherwise: Response,
    /// The body; `None`: `size` bytes of the pattern seeded with the FNV-1a-64 hash of the URL
    /// (scenario contract part 2, decision 2).
    pub content: Option<Body>,
    /// The Last-Modified time in virtual seconds (default 0). BITS compares it and the size to notice
    /// a changed file (D38).
    pub modified: u64,
    /// Whether the server honours Range requests (default true; D39).
    pub accept_ranges: bool,
    /// Response header lines sent with every successful answer (File5 HTTP_RESPONSE_HEADERS, D64).
    pub headers: Vec<String>,
    /// The body also comes from a peer: jobs with ENABLE_PEERCACHING_CLIENT get it from there
    /// (File3::IsDownloadedFromPeer, D65).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub peer: bool,
    /// The server's HTTP gates (authentication, required headers, certificates) and redirect
    /// targets; `None` for a plain server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<Box<RemoteHttp>>,
}

impl Default for Remote {
    fn default() -> Remote {
        Remote {
            size: None,
            responses: VecDeque::new(),
            otherwise: Response::Ok,
            content: None,
            modified: 0,
            accept_ranges: true,
            headers: Vec::new(),
            peer: false,
            http: None,
        }
    }
}

/// `auth` of a remote or a proxy: the schemes it challenges with and the credentials it accepts
/// (scenario-format part 2, D27).
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct Auth {
    /// The schemes offered (at least one).
    pub schemes: Vec<crate::AuthScheme>,
    /// The user name accepted (`None`: any).
    pub user: Option<String>,
    /// The password accepted (`None`: any).
    pub password: Option<String>,
    /// NTLM / Negotiate credentials with NULL user and password (the caller's logon) are accepted.
    pub implicit: bool,
}

/// The state of a server certificate (`certificate` of a remote).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub enum ServerCertificate {
    /// No problem.
    #[default]
    #[serde(rename = "VALID")]
    Valid,
    /// The name does not match the host (ERROR_WINHTTP_SECURE_CERT_CN_INVALID).
    #[serde(rename = "CN_INVALID")]
    CnInvalid,
    /// Expired or not yet valid (ERROR_WINHTTP_SECURE_CERT_DATE_INVALID).
    #[serde(rename = "DATE_INVALID")]
    DateInvalid,
    /// Issued by an unknown authority (ERROR_WINHTTP_SECURE_INVALID_CA).
    #[serde(rename = "UNKNOWN_CA")]
    UnknownCa,
    /// Not meant for server authentication (ERROR_WINHTTP_SECURE_CERT_WRONG_USAGE).
    #[serde(rename = "WRONG_USAGE")]
    WrongUsage,
    /// Revoked; noticed only with ENABLE_CRL_CHECK (ERROR_WINHTTP_SECURE_CERT_REVOKED).
    #[serde(rename = "REVOKED")]
    Revoked,
    /// The revocation list cannot be had; matters only with ENABLE_CRL_CHECK
    /// (ERROR_WINHTTP_SECURE_CERT_REV_FAILED).
    #[serde(rename = "REVOCATION_OFFLINE")]
    RevocationOffline,
}

impl ServerCertificate {
    /// Every state, with its scenario name.
    pub const ALL: [(&'static str, ServerCertificate); 7] = [
        ("VALID", ServerCertificate::Valid),
        ("CN_INVALID", ServerCertificate::CnInvalid),
        ("DATE_INVALID", ServerCertificate::DateInvalid),
        ("UNKNOWN_CA", ServerCertificate::UnknownCa),
        ("WRONG_USAGE", ServerCertificate::WrongUsage),
        ("REVOKED", ServerCertificate::Revoked),
        ("REVOCATION_OFFLINE", ServerCertificate::RevocationOffline),
    ];

    /// The scenario name.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, c)| *c == self)
            .map_or("VALID", |(n, _)| n)
    }
}

/// What a remote adds over a plain server: HTTP gates met by every connection attempt before its
/// script, in the order of part 2 of the scenario contract, and redirect targets.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct RemoteHttp {
    /// 401 until a request carries matching SERVER credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<Auth>,
    /// Header lines (`Name: value`, name case-insensitive) the job's custom headers must hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_headers: Vec<String>,
    /// The answer when a required header is missing (default HTTP 403).
    #[serde(default = "forbidden")]
    pub headers_missing: Response,
    /// The server certificate (https only).
    #[serde(default)]
    pub certificate: ServerCertificate,
    /// `client_certificate.trusted`: the SHA-1 hashes (40 lowercase hex digits) accepted; `None`:
    /// no client certificate asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificate: Option<Vec<String>>,
    /// The targets of this remote's [`Response::Redirect`] answers, by number.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirects: Vec<String>,
    /// The upload-reply server application and its reply (§7, D71); `None`: no application.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<Box<RemoteReply>>,
}

/// An upload-reply server's application (scenario `reply`, §7, D71): its answers, one per upload it
/// receives, the reply body, and the script of the reply download's connection attempts.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteReply {
    /// The reply body (default empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Body>,
    /// The application's answers still to come, one per received upload: `None` is "ok", `Some(s)`
    /// an HTTP status (context REMOTE_APPLICATION). Once used up: "ok".
    #[serde(default, skip_serializing_if = "VecDeque::is_empty")]
    pub app: VecDeque<Option<u16>>,
    /// The reply download's connection attempts still to come (context REMOTE_FILE); once used up:
    /// success.
    #[serde(default, skip_serializing_if = "VecDeque::is_empty")]
    pub responses: VecDeque<Response>,
}

impl RemoteReply {
    /// The reply body.
    pub fn body(&self) -> Body {
        self.content.clone().unwrap_or(Body::Bytes(Vec::new()))
    }
}

/// What a server holds for an upload URL (`check upload_received`).
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Received {
    /// Whole uploads received (upload-reply: handed to the server application).
    pub count: u64,
    /// The latest upload's bytes.
    pub body: Option<Body>,
}

fn forbidden() -> Response {
    Response::http(403)
}

impl RemoteHttp {
    /// No gate, no redirect target.
    pub fn new() -> RemoteHttp {
        RemoteHttp {
            headers_missing: forbidden(),
            ..RemoteHttp::default()
        }
    }
}

/// A proxy of the world (`proxies`): reachable, and maybe asking for credentials (407).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Proxy {
    /// `false`: BITS finds the proxy information invalid at run time (BG_E_INVALID_PROXY_INFO).
    pub valid: bool,
    /// 407 until a request carries matching PROXY credentials.
    pub auth: Option<Auth>,
}

impl Default for Proxy {
    fn default() -> Proxy {
        Proxy {
            valid: true,
            auth: None,
        }
    }
}

/// What a URL received (`check requests`): how many requests, and the latest.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct Requests {
    /// Requests received (a challenge and the request answering it count as two).
    pub count: u64,
    /// The latest one.
    pub last: Option<Request>,
}

/// What the world keeps about a remote's URL beside the remote: its server's request log (see
/// [`World::requests`]) and, for the simulator's own use, which job types accept the URL. It
/// belongs to the URL: replacing the remote keeps it. Equality compares the log only.
#[derive(Clone, Debug, Default)]
pub struct ServerRecord {
    /// [`crate::names::valid_remote_memo`]'s byte.
    pub(crate) memo: u8,
    /// What the server received (count 0: nothing yet).
    pub(crate) log: Requests,
}

impl PartialEq for ServerRecord {
    fn eq(&self, other: &Self) -> bool {
        self.log == other.log
    }
}

impl Eq for ServerRecord {}

/// One HTTP request a server received.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Request {
    /// The method (GET, BITS_POST, or the job's custom method).
    pub method: std::borrow::Cow<'static, str>,
    /// The start offset asked for.
    pub from: u64,
    /// The job's custom header lines sent with it.
    pub headers: Vec<String>,
    /// The credentials it carried (the server's if any, else the proxy's).
    pub credentials: Option<(crate::AuthTarget, crate::AuthScheme)>,
}

/// The HTTP parts of a world: proxies and what servers received.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct HttpWorld {
    /// The proxy PRECONFIG and AUTODETECT jobs use (`None`: direct).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_proxy: Option<String>,
    /// Proxies by name (`host:port`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub proxies: BTreeMap<String, Proxy>,
    /// The machine's client certificates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<crate::ClientCertificate>,
    /// Requests received by URLs no world remote serves (a proxy's 407 for a request addressed to
    /// such a URL); a remote's log is kept with the remote ([`ServerRecord`]). Read both through
    /// [`World::requests`]. The servers' own record, not BITS state: snapshots leave it out and a
    /// service restart keeps it.
    #[serde(skip)]
    pub(crate) requests: UrlMap<Requests>,
    /// Uploads received, by URL (`check upload_received`): the servers' record, kept like
    /// `requests`.
    #[serde(skip)]
    pub uploads: BTreeMap<String, Received>,
}

impl HttpWorld {
    /// No proxy set (what servers received does not count).
    pub fn is_empty(&self) -> bool {
        self.system_proxy.is_none() && self.proxies.is_empty()
    }
    /// Nothing a snapshot keeps (proxies and certificates).
    pub fn nothing_to_save(&self) -> bool {
        self.is_empty() && self.certificates.is_empty()
    }
}

impl Remote {
    /// A healthy remote of `size` bytes.
    pub fn sized(size: u64) -> Remote {
        Remote {
            size: Some(size),
            ..Remote::default()
        }
    }
    /// Add scripted responses, consumed in order.
    pub fn with_responses(mut self, responses: impl IntoIterator<Item = Response>) -> Remote {
        self.responses.extend(responses);
        self
    }
    /// Set the answer once the script is used up.
    pub fn otherwise(mut self, r: Response) -> Remote {
        self.otherwise = r;
        self
    }
    /// A remote serving `body` (its size is the body's length).
    pub fn with_content(body: Body) -> Remote {
        Remote {
            size: Some(body.len()),
            content: Some(body),
            ..Remote::default()
        }
    }
    /// Set the Last-Modified time (virtual seconds).
    pub fn modified_at(mut self, secs: u64) -> Remote {
        self.modified = secs;
        self
    }
    /// Make the server ignore Range requests (D39).
    pub fn without_ranges(mut self) -> Remote {
        self.accept_ranges = false;
        self
    }
    /// Serve the body from a peer too (D65).
    pub fn from_peer(mut self) -> Remote {
        self.peer = true;
        self
    }
    /// The body it serves for `url`: its `content`, else `size` bytes of the URL-seeded pattern, else
    /// nothing.
    pub fn body(&self, url: &str) -> Body {
        match &self.content {
            Some(b) => b.clone(),
            None => Body::default_for(url, self.size.unwrap_or(0)),
        }
    }
    /// The HTTP gates and redirect targets, added on first use.
    pub fn http_mut(&mut self) -> &mut RemoteHttp {
        self.http.get_or_insert_with(|| Box::new(RemoteHttp::new()))
    }
    /// A redirect answer (`status` 3xx) to `url`: the URL is added to this remote's redirect
    /// targets; put the answer in `responses` or `otherwise`.
    pub fn redirect(&mut self, status: u16, url: &str) -> Response {
        let h = self.http_mut();
        let to = match h.redirects.iter().position(|u| u == url) {
            Some(i) => i,
            None => {
                h.redirects.push(url.to_string());
                h.redirects.len() - 1
            }
        };
        Response::Redirect {
            status,
            to: u16::try_from(to).unwrap_or(u16::MAX),
        }
    }
    /// Builder: an upload-reply server application (scenario `reply`, §7, D71): the reply body,
    /// the application's answers (`None`: "ok"; `Some(status)`: HTTP status) and the reply
    /// download's scripted attempts.
    pub fn with_reply(
        mut self,
        content: Body,
        app: impl IntoIterator<Item = Option<u16>>,
        responses: impl IntoIterator<Item = Response>,
    ) -> Remote {
        self.http_mut().reply = Some(Box::new(RemoteReply {
            content: Some(content),
            app: app.into_iter().collect(),
            responses: responses.into_iter().collect(),
        }));
        self
    }
    /// The URL a redirect answer of this remote points to.
    pub fn redirect_target(&self, to: u16) -> Option<&str> {
        self.http
            .as_ref()?
            .redirects
            .get(usize::from(to))
            .map(String::as_str)
    }
}

/// Transient or fatal (D5), or no error at all.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, Serialize, Deserialize)]
pub enum Class {
    /// Not an error (HTTP 2xx).
    Success,
    /// Recoverable: TRANSIENT_ERROR and retry.
    Transient,
    /// Needs intervention: ERROR.
    Fatal,
}

/// Seeded random faults for chaos runs.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Chaos {
    /// The seed the run started from (report it to replay the run).
    pub seed: u64,
    /// Probability of a fault per connection attempt, in parts per million.
    pub rate_ppm: u32,
    /// The generator state.
    pub(crate) state: u64,
}

impl Chaos {
    /// Faults with probability `rate` (0.0..=1.0) per attempt, drawn from `seed`.
    pub fn new(seed: u64, rate: f64) -> Chaos {
        let rate_ppm = (rate.clamp(0.0, 1.0) * 1_000_000.0).round() as u32;
        Chaos {
            seed,
            rate_ppm,
            state: seed,
        }
    }

    /// SplitMix64: small, fast, and the same on every platform.
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// The transient faults chaos draws from.
    pub const FAULTS: [Fault; 5] = [
        Fault::Http(500),
        Fault::Http(503),
        Fault::Win32(12002),
        Fault::Win32(12029),
        Fault::Win32(12030),
    ];

    /// Maybe replace an answer by a random transient fault.
    fn perturb(&mut self, r: Response, size: Option<u64>) -> Response {
        if self.rate_ppm == 0 || self.next_u64() % 1_000_000 >= u64::from(self.rate_ppm) {
            return r;
        }
        let fault = Self::FAULTS[(self.next_u64() % Self::FAULTS.len() as u64) as usize];
        let after_bytes = match size {
            Some(n) if n > 1 && self.next_u64() % 2 == 0 => Some(self.next_u64() % n),
            _ => None,
        };
        Response::Fail { fault, after_bytes }
    }
}

/// The machine's network.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum Network {
    /// Connected.
    Up,
    /// No connection (T18).
    Down,
}

/// A local file an upload job reads.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Local {
    /// Its size in bytes.
    pub size: u64,
    /// Its last-write time in virtual seconds (default 0). With its size, what BITS compares to notice
    /// an upload source that changed during the transfer (§7, D78).
    #[serde(default)]
    pub modified: u64,
}

/// Everything outside the BITS service that a test scripts.
///
/// Built with its builder methods, starting from [`World::new`]:
///
/// ```
/// use bitsim::{Class, HResult, Network, Remote, Response, World};
///
/// let world = World::new()
///     .remote("https://example.test/a.bin", Remote::sized(4096).with_responses([Response::http(503)]))
///     .local("C:\\up\\report.txt", 2048)
///     .bandwidth(250_000)
///     .network(Network::Up)
///     .classify_as(HResult::http(503), Class::Fatal)
///     .time_slice_secs(60)
///     .chaos(42, 0.1);
/// assert_eq!(world.classify(HResult::http(503)).0, Class::Fatal);
/// assert_eq!(world.remotes().len(), 1);
/// assert_eq!(world.bandwidth_per_sec(), 250_000);
/// ```
///
/// A running simulator changes its world through explicit methods (`Sim::set_remote`,
/// `Sim::set_network`, `Sim::set_bandwidth`, `Service::set_local`, `Service::set_class_override`,
/// `Service::set_chaos`, `Service::set_time_slice_secs`), never through the fields, so that the
/// engine observes every change.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct World {
    /// Bytes per virtual second shared equally by the running transfers (D12). Default 1,000,000.
    pub(crate) bandwidth: u64,
    /// Up or down.
    pub(crate) network: Network,
    /// Servers by URL.
    pub(crate) remotes: UrlMap<Remote, ServerRecord>,
    /// Local files for uploads, by path.
    pub(crate) locals: BTreeMap<String, Local>,
    /// Per-code overrides of the D5 classification (e.g. make 503 fatal, see spec §4.5).
    pub(crate) classify: BTreeMap<HResult, Class>,
    /// How long a background job keeps the transfer slot while others of its priority wait (T7, D12).
    /// The sources give no number; the default is 600 s.
    pub(crate) time_slice_secs: u64,
    /// Optional seeded random faults.
    pub(crate) chaos: Option<Chaos>,
    /// The cost flags a new job starts with (Job5 COST_FLAGS, D33). Default TRANSFER_STANDARD.
    pub(crate) default_cost_flags: u32,
    /// JobInactivityTimeout in seconds (T22, D36). Default 7,776,000 (90 days).
    pub(crate) inactivity_timeout_secs: u64,
    /// The network's BITS_COST_STATE bits (T21a, D53). Default UNRESTRICTED.
    #[serde(default = "unrestricted", skip_serializing_if = "is_unrestricted")]
    pub(crate) network_cost: u32,
    /// Group Policy limits background transfers to no bandwidth now (MaxInternetBandwidth 0 in its
    /// window: T21, D99). Default false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) policy_blocks_background: bool,
    /// The bodies of local files that have one (`locals` with `content`); others hold `size` bytes of
    /// the pattern seeded with the FNV-1a-64 hash of their path (D40).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) local_content: BTreeMap<String, Body>,
    /// The sandbox folder files are materialised in (`None`: nothing touches the host file system).
    /// Host state: not part of snapshots.
    #[serde(skip)]
    pub(crate) sandbox: Option<std::path::PathBuf>,
    /// The bytes transfers may write into the sandbox before its disk is full (`None`: no limit).
    #[serde(skip)]
    pub(crate) sandbox_capacity: Option<u64>,
    /// Proxies and what servers received (part 2).
    pub(crate) http: HttpWorld,
    /// Programs command lines launch and COM callback servers (§5.2–§5.4). Snapshots keep it
    /// through their own types.
    #[serde(skip)]
    pub(crate) notify: crate::cmdline::NotifyWorld,
}

/// BITS_COST_STATE_UNRESTRICTED: the network cost of a world that names none (D53).
pub const COST_UNRESTRICTED: u32 = 0x1;
/// The BITS_COST_STATE_* bits a network cost may hold (UNRESTRICTED 0x1 … USAGE_BASED 0x40, ROAMING
/// 0x80).
pub const COST_STATES_KNOWN: u32 = 0xFF;

fn unrestricted() -> u32 {
    COST_UNRESTRICTED
}
fn is_unrestricted(cost: &u32) -> bool {
    *cost == COST_UNRESTRICTED
}

/// BITS_COST_STATE_* and the BITS_JOB_TRANSFER_POLICY composites (§2.9, D33): the names a job's
/// `cost_flags` reads (the property table takes them from here).
pub const COST_FLAG_NAMES: &[(&str, u32)] = &[
    ("UNRESTRICTED", 0x1),
    ("CAPPED_USAGE_UNKNOWN", 0x2),
    ("BELOW_CAP", 0x4),
    ("NEAR_CAP", 0x8),
    ("OVERCAP_CHARGED", 0x10),
    ("OVERCAP_THROTTLED", 0x20),
    ("USAGE_BASED", 0x40),
    ("ROAMING", 0x80),
    ("IGNORE_CONGESTION", 0x8000_0000),
    ("RESERVED", 0x4000_0000),
    ("TRANSFER_ALWAYS", 0x8000_00FF),
    ("TRANSFER_NOT_ROAMING", 0x8000_007F),
    ("TRANSFER_NO_SURCHARGE", 0x8000_006F),
    ("TRANSFER_STANDARD", 0x8000_0067),
    ("TRANSFER_UNRESTRICTED", 0x8000_0021),
];

/// The names of the BITS_COST_STATE bits, in bit order (scenario `network_cost`, traces): the first
/// eight cost-flag names (one table, two views).
pub const COST_STATE_NAMES: &[(&str, u32)] = COST_FLAG_NAMES.split_at(8).0;

/// A network cost as its names joined by `|` (bits without a name in hex; `0` for none).
pub fn cost_state_names(cost: u32) -> String {
    let mut parts: Vec<String> = COST_STATE_NAMES
        .iter()
        .filter(|(_, bit)| cost & bit != 0)
        .map(|(name, _)| (*name).to_string())
        .collect();
    let rest = cost & !COST_STATES_KNOWN;
    if rest != 0 {
        parts.push(format!("{rest:#010x}"));
    }
    if parts.is_empty() {
        "0".to_string()
    } else {
        parts.join("|")
    }
}

/// D53: whether a job with `cost_flags` may transfer on a network of cost `cost`: every bit of the
/// cost is set in the flags (part 2 decision 3).
pub const fn cost_allows(cost_flags: u32, cost: u32) -> bool {
    cost & !cost_flags & COST_STATES_KNOWN == 0
}

/// JobInactivityTimeout's default: 90 days (T22, `W32 group-policies`).
pub const INACTIVITY_TIMEOUT_SECS: u64 = 7_776_000;

impl Default for World {
    fn default() -> World {
        World {
            bandwidth: 1_000_000,
            network: Network::Up,
            remotes: UrlMap::new(),
            locals: BTreeMap::new(),
            classify: BTreeMap::new(),
            time_slice_secs: 600,
            chaos: None,
            default_cost_flags: crate::job_options::TRANSFER_STANDARD,
            inactivity_timeout_secs: INACTIVITY_TIMEOUT_SECS,
            network_cost: COST_UNRESTRICTED,
            policy_blocks_background: false,
            local_content: BTreeMap::new(),
            sandbox: None,
            sandbox_capacity: None,
            http: HttpWorld::default(),
            notify: crate::cmdline::NotifyWorld::default(),
        }
    }
}

/// What one connection attempt met.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Attempt {
    pub response: Response,
    /// The remote's size (downloads) as the server announces it.
    pub size: Option<u64>,
    /// The remote's Last-Modified time (D38).
    pub modified: u64,
    /// Whether the server honours Range requests (D39).
    pub accept_ranges: bool,
    /// The length of the body the server sends (what a dynamic-content job learns at the end, D62).
    pub length: u64,
    /// The attempt stopped at an HTTP gate before the remote's script (see `TraceKind::Attempt`).
    pub gate: bool,
}

impl World {
    /// A world with default bandwidth, network up, and no remotes.
    pub fn new() -> World {
        World::default()
    }
    /// Builder: add a remote.
    pub fn remote(mut self, url: impl Into<String>, remote: Remote) -> World {
        self.put_remote(url.into(), remote);
        self
    }

    /// Add or replace the remote at `url`. A URL that becomes a remote takes over the log of what
    /// it received before (kept with the remote from now on).
    pub(crate) fn put_remote(&mut self, url: String, remote: Remote) {
        let earlier = self.http.requests.remove(&url);
        self.remotes.insert(url.clone(), remote);
        if let Some(log) = earlier {
            self.server_log(&url, |l| *l = log);
        }
    }

    /// What `url` received so far (`None`: no request): the servers' record (D27). A 401/407
    /// challenge and the request answering it are two.
    pub fn requests(&self, url: &str) -> Option<&Requests> {
        match self.remotes.side(url) {
            Some(r) => Some(&r.log).filter(|l| l.count > 0),
            None => self.http.requests.get(url),
        }
    }

    /// Change the log of what `url` received (kept with its remote if the world has one).
    pub(crate) fn server_log(&mut self, url: &str, f: impl FnOnce(&mut Requests)) {
        match self.remotes.find(url, Slot::NONE) {
            Some(slot) => f(&mut self.remotes.side_mut(slot).log),
            None => self.http.requests.update(url, f),
        }
    }

    /// Move what servers received in `old` (this world's predecessor: a service restart) into
    /// this world, each log to its URL.
    pub(crate) fn keep_server_logs(&mut self, old: &mut World) {
        for (url, log) in std::mem::take(&mut old.http.requests) {
            self.server_log(&url, |l| *l = log);
        }
        for (url, side) in old.remotes.sides_mut() {
            if side.log.count > 0 {
                let log = std::mem::take(&mut side.log);
                self.server_log(url, |l| *l = log);
            }
        }
    }
    /// Builder: add a local file for uploads.
    pub fn local(mut self, path: impl Into<String>, size: u64) -> World {
        self.locals.insert(path.into(), Local { size, modified: 0 });
        self
    }
    /// Builder: set the last-write time (virtual seconds) of a local file already added (D78); a
    /// path not added yet is added empty.
    pub fn local_modified(mut self, path: impl Into<String>, secs: u64) -> World {
        self.locals
            .entry(path.into())
            .or_insert(Local {
                size: 0,
                modified: 0,
            })
            .modified = secs;
        self
    }
    /// Builder: add a local file with its content (its size is the body's length).
    pub fn local_with(mut self, path: impl Into<String>, body: Body) -> World {
        let path = path.into();
        self.locals.insert(
            path.clone(),
            Local {
                size: body.len(),
                modified: 0,
            },
        );
        self.local_content.insert(path, body);
        self
    }
    /// Builder: materialise files in the host folder `path` (scenario contract part 2, "Materialised
    /// files"): local names map into it, downloads write their temporary and local files there, uploads
    /// read from there. Nothing is ever written outside it (D41). Without a sandbox nothing touches the
    /// host file system.
    pub fn sandbox(mut self, path: impl Into<std::path::PathBuf>) -> World {
        self.sandbox = Some(path.into());
        self
    }
    /// Builder: the sandbox's disk holds only `bytes` more bytes of transferred data; a write past that
    /// fails as a full disk does (ERROR_DISK_FULL, context LOCAL_FILE, D41).
    pub fn sandbox_capacity(mut self, bytes: u64) -> World {
        self.sandbox_capacity = Some(bytes);
        self
    }
    /// The sandbox folder, if any.
    pub fn sandbox_path(&self) -> Option<&std::path::Path> {
        self.sandbox.as_deref()
    }
    /// The body of the local file at `path`: its content, or `size` bytes of the path-seeded pattern.
    pub fn local_body(&self, path: &str) -> Option<Body> {
        let l = self.locals.get(path)?;
        Some(match self.local_content.get(path) {
            Some(b) => b.clone(),
            None => Body::default_for(path, l.size),
        })
    }
    /// Builder: set the shared bandwidth in bytes per virtual second (D12; default 1,000,000).
    pub fn bandwidth(mut self, bytes_per_sec: u64) -> World {
        self.bandwidth = bytes_per_sec;
        self
    }
    /// Builder: enable chaos: each connection attempt fails with a random transient fault with
    /// probability `rate`, drawn from `seed` (replayable).
    pub fn chaos(mut self, seed: u64, rate: f64) -> World {
        self.chaos = Some(Chaos::new(seed, rate));
        self
    }
    /// Builder: set or clear the chaos settings.
    pub fn with_chaos(mut self, chaos: Option<Chaos>) -> World {
        self.chaos = chaos;
        self
    }
    /// Builder: the network starts up or down (default up).
    pub fn network(mut self, network: Network) -> World {
        self.network = network;
        self
    }
    /// Builder: override the D5 classification of one code (e.g. make HTTP 503 fatal, spec §4.5).
    pub fn classify_as(mut self, code: HResult, class: Class) -> World {
        self.classify.insert(code, class);
        self
    }
    /// Builder: the background time slice in seconds (T7, D12; default 600). At least 1 s: 0 is
    /// taken as 1 (D20: a zero slice would rotate two jobs forever within one instant).
    pub fn time_slice_secs(mut self, secs: u64) -> World {
        self.time_slice_secs = secs.max(1);
        self
    }
    /// Builder: the cost flags a new job starts with (Job5 COST_FLAGS; default TRANSFER_STANDARD
    /// 0x80000067, D33). Bits outside 0xC00000FF are dropped.
    pub fn default_cost_flags(mut self, flags: u32) -> World {
        self.default_cost_flags = flags & crate::job_options::COST_FLAGS_KNOWN;
        self
    }
    /// Builder: the network's cost, BITS_COST_STATE_* bits (scenario `network_cost`; default
    /// UNRESTRICTED). A job transfers only while every bit of it is in the job's cost flags (T21a,
    /// D53). Bits outside the eight cost states (0xFF) are dropped.
    pub fn network_cost(mut self, cost: u32) -> World {
        self.network_cost = cost & COST_STATES_KNOWN;
        self
    }
    /// The network's cost (BITS_COST_STATE_* bits, D53).
    pub fn network_cost_state(&self) -> u32 {
        self.network_cost
    }
    /// Builder: Group Policy blocks background transfers from the start (scenario `group_policy`
    /// `block_background`: MaxInternetBandwidth 0 in its window; T21, D99). Default false.
    pub fn block_background_by_policy(mut self, blocked: bool) -> World {
        self.policy_blocks_background = blocked;
        self
    }
    /// Whether Group Policy blocks background transfers now (T21, D99).
    pub fn background_blocked_by_policy(&self) -> bool {
        self.policy_blocks_background
    }
    /// Builder: JobInactivityTimeout in seconds (T22; default 7,776,000, D36).
    pub fn inactivity_timeout(mut self, secs: u64) -> World {
        self.inactivity_timeout_secs = secs;
        self
    }

    /// Builder: the proxy PRECONFIG and AUTODETECT jobs use (scenario `system_proxy`).
    pub fn system_proxy(mut self, name: impl Into<String>) -> World {
        self.http.system_proxy = Some(name.into());
        self
    }
    /// Builder: a proxy (scenario `proxies`).
    pub fn proxy(mut self, name: impl Into<String>, proxy: Proxy) -> World {
        self.http.proxies.insert(name.into(), proxy);
        self
    }
    /// Builder: a client certificate of the machine (scenario `certificates`).
    pub fn certificate(mut self, c: crate::ClientCertificate) -> World {
        self.http.certificates.push(c);
        self
    }
    /// Builder: a program command lines can launch (scenario `programs`, §5.4).
    pub fn program(mut self, path: impl Into<String>, program: crate::Program) -> World {
        self.notify.programs.insert(path.into(), program);
        self
    }
    /// Builder: an out-of-process COM callback class (scenario `com_servers`, §5.2).
    pub fn com_server(mut self, clsid: u128, server: crate::ComServer) -> World {
        self.notify.com_servers.insert(clsid, server);
        self
    }
    /// The programs and COM servers.
    pub fn notify_world(&self) -> &crate::NotifyWorld {
        &self.notify
    }
    /// The proxies and what servers received.
    pub fn http(&self) -> &HttpWorld {
        &self.http
    }

    /// The servers, by URL.
    pub fn remotes(&self) -> &UrlMap<Remote, ServerRecord> {
        &self.remotes
    }
    /// The local files uploads read, by path.
    pub fn locals(&self) -> &BTreeMap<String, Local> {
        &self.locals
    }
    /// The shared bandwidth in bytes per virtual second (D12).
    pub fn bandwidth_per_sec(&self) -> u64 {
        self.bandwidth
    }
    /// Whether the network is up.
    pub fn network_status(&self) -> Network {
        self.network
    }
    /// The per-code overrides of the D5 classification.
    pub fn class_overrides(&self) -> &BTreeMap<HResult, Class> {
        &self.classify
    }
    /// The background time slice in seconds (T7, D12).
    pub fn time_slice(&self) -> u64 {
        self.time_slice_secs
    }
    /// The chaos settings, if any (their `seed` replays the run).
    pub fn chaos_settings(&self) -> Option<&Chaos> {
        self.chaos.as_ref()
    }

    /// One connection attempt to `url`: consumes a scripted response (spec scenario-format, World).
    pub(crate) fn attempt(&mut self, url: &str) -> Attempt {
        let remote = self.remotes.get_mut(url);
        attempt_on(remote, &mut self.chaos)
    }

    /// The attempt of a job with no HTTP settings, in a world without proxies, to `url` whose
    /// server has no HTTP gates (no certificate, authentication or redirect): the server logs
    /// `request()` (if it exists) and the script answers, with at most one look-up of `url` among the
    /// remotes; with whether the remote sends no response headers and no peer copy (then
    /// `note_served` has nothing to record for a file without an extra box). `None` (nothing
    /// done) when the remote has gates.
    ///
    /// `hint` is the slot the file keeps for `url` (the look-up skips hashing while it is valid);
    /// the remote's slot comes back for the file to keep ([`Slot::NONE`] for an unknown URL). The
    /// request is logged with the remote ([`ServerRecord`]), so a known URL costs no hashing at all.
    ///
    /// `url` gives the URL when it is needed: while the slot holds it is not (and the file's names
    /// block, where it lives, is not read).
    #[inline(always)]
    pub(crate) fn attempt_ungated<'u>(
        &mut self,
        url: impl FnOnce() -> &'u str,
        hint: Slot,
        request: impl FnOnce() -> Request,
    ) -> Option<(Attempt, bool, Slot)> {
        let Some(slot) = self.remotes.find_lazy(hint, url) else {
            return Some((attempt_on(None, &mut self.chaos), true, Slot::NONE));
        };
        let (remote, side) = self.remotes.both_mut(slot);
        if remote.http.is_some() {
            return None;
        }
        let plain = remote.headers.is_empty() && !remote.peer;
        let log = &mut side.log;
        log.count = log.count.saturating_add(1);
        log.last = Some(request());
        Some((attempt_on(Some(remote), &mut self.chaos), plain, slot))
    }

    /// D5: classify an error code, honouring this world's overrides. Returns the class and the error
    /// context the job's error record carries.
    pub fn classify(&self, code: HResult) -> (Class, ErrorContext) {
        let (class, context) = default_classification(code);
        match self.classify.get(&code) {
            Some(&c) => (c, context),
            None => (class, context),
        }
    }
}

/// One connection attempt to `remote` (`None`: a URL no server answers): consumes a scripted response,
/// which the chaos settings may perturb.
#[inline(always)]
fn attempt_on(remote: Option<&mut Remote>, chaos: &mut Option<Chaos>) -> Attempt {
    let (response, size, modified, accept_ranges, length) = match remote {
        None => (Response::win32(12007), None, 0, true, 0), // ERROR_WINHTTP_NAME_NOT_RESOLVED
        Some(remote) => {
            let r = remote.responses.pop_front().unwrap_or(remote.otherwise);
            let length = remote
                .content
                .as_ref()
                .map_or(remote.size.unwrap_or(0), Body::len);
            (
                r,
                remote.size,
                remote.modified,
                remote.accept_ranges,
                length,
            )
        }
    };
    let response = match chaos {
        Some(chaos) => chaos.perturb(response, size),
        None => response,
    };
    Attempt {
        response,
        size,
        modified,
        accept_ranges,
        length,
        gate: false,
    }
}

/// D5, the default classification.
///
/// HTTP: 2xx success; 401, 403, 404, 407, 410, 501, 505 and the other 4xx fatal except 408 and 409;
/// 5xx transient except 501 and 505; 3xx fatal for 300–305 and 307, otherwise transient (spec §4.5, server
/// application table, reused for downloads). WinHTTP name-not-resolved, cannot-connect, timeout and
/// connection-error transient; access denied and disk full fatal with context LOCAL_FILE; remote
/// file-not-found fatal with context REMOTE_FILE. BITS codes documented as fatal in §4.5 are fatal; every
/// other code is transient (§4.5: "every other code transient").
pub fn default_classification(code: HResult) -> (Class, ErrorContext) {
    use ErrorContext as C;
    if let Some(status) = code.http_status() {
        let class = match status {
            200..=299 => Class::Success,
            408 | 409 => Class::Transient,
            400..=499 => Class::Fatal,
            501 | 505 => Class::Fatal,
            500..=599 => Class::Transient,
            300..=305 | 307 => Class::Fatal,
            _ => Class::Transient,
        };
        return (class, C::RemoteFile);
    }
    match code {
        HResult::S_OK => (Class::Success, C::None),
        HResult::E_ACCESSDENIED | HResult::ERROR_DISK_FULL => (Class::Fatal, C::LocalFile),
        // ERROR_INVALID_NAME: a local name that cannot name a file in the sandbox (D41).
        c if c == crate::sandbox::ERROR_INVALID_NAME => (Class::Fatal, C::LocalFile),
        HResult::ERROR_FILE_NOT_FOUND | HResult::ERROR_PATH_NOT_FOUND => {
            (Class::Fatal, C::RemoteFile)
        }
        HResult::BG_E_MISSING_FILE_SIZE
        | HResult::BG_E_INSUFFICIENT_RANGE_SUPPORT
        | HResult::BG_E_INSUFFICIENT_HTTP_SUPPORT
        | HResult::BG_E_INVALID_SERVER_RESPONSE
        | HResult::BG_E_INVALID_RANGE
        | HResult::BG_E_VALIDATION_FAILED
        | HResult::BG_E_REMOTE_FILE_CHANGED
        // D62: a download over MAX_DOWNLOAD_SIZE cannot succeed by retrying.
        | HResult::BG_E_TOO_LARGE => (Class::Fatal, C::RemoteFile),
        HResult::BG_E_INVALID_PROXY_INFO
        | HResult::BG_E_MAXDOWNLOAD_TIMEOUT
        | HResult::BG_E_TOKEN_REQUIRED => (Class::Fatal, C::GeneralQueueManager),
        HResult::BG_E_LOCAL_FILE_CHANGED | HResult::BG_E_VOLUME_CHANGED => {
            (Class::Fatal, C::LocalFile)
        }
        HResult::BG_E_DESTINATION_LOCKED => (Class::Transient, C::LocalFile),
        // D30: a revoked certificate or a failed revocation check is fatal (SetSecurityFlags
        // page), and so is a redirect BITS will not follow (a refused HTTPS-to-HTTP downgrade, a
        // chain past 10 hops) or DISALLOW's HRESULT_FROM_WIN32 of the 3xx status.
        HResult::ERROR_WINHTTP_SECURE_CERT_REVOKED
        | HResult::ERROR_WINHTTP_SECURE_CERT_REV_FAILED
        | HResult::ERROR_WINHTTP_REDIRECT_FAILED => (Class::Fatal, C::RemoteFile),
        _ if (0x8007_012C..=0x8007_0134).contains(&code.code()) => (Class::Fatal, C::RemoteFile),
        HResult::BG_E_NETWORK_DISCONNECTED => (Class::Transient, C::GeneralTransport),
        _ if code.is_success() => (Class::Success, C::None),
        // WinHTTP name-not-resolved, cannot-connect, timeout, connection-error, invalid server response,
        // ERROR_CAN_NOT_COMPLETE and anything not listed above: transient, about the remote file.
        _ => (Class::Transient, C::RemoteFile),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn d53_cost_state_names_are_the_eight_single_bits_in_order() {
        assert_eq!(COST_STATE_NAMES.len(), 8);
        for (i, (_, bit)) in COST_STATE_NAMES.iter().enumerate() {
            assert_eq!(*bit, 1 << i);
        }
        assert_eq!(COST_STATE_NAMES[7].0, "ROAMING");
        let all = COST_STATE_NAMES.iter().fold(0, |a, (_, b)| a | b);
        assert_eq!(all, COST_STATES_KNOWN);
        assert_eq!(cost_state_names(0x81), "UNRESTRICTED|ROAMING");
    }

    #[test]
    fn d5_http_classification() {
        let c = |s| default_classification(HResult::http(s)).0;
        for s in [401, 403, 404, 407, 410, 400, 499, 501, 505] {
            assert_eq!(c(s), Class::Fatal, "{s}");
        }
        for s in [408, 409, 500, 502, 503, 504, 599] {
            assert_eq!(c(s), Class::Transient, "{s}");
        }
        assert_eq!(c(200), Class::Success);
        assert_eq!(c(206), Class::Success);
        assert_eq!(
            default_classification(HResult::http(404)).1,
            ErrorContext::RemoteFile
        );
    }

    #[test]
    fn d5_win32_classification() {
        for n in [12007u32, 12029, 12002, 12030] {
            assert_eq!(
                default_classification(HResult::from_win32(n)),
                (Class::Transient, ErrorContext::RemoteFile)
            );
        }
        assert_eq!(
            default_classification(HResult::E_ACCESSDENIED),
            (Class::Fatal, ErrorContext::LocalFile)
        );
        assert_eq!(
            default_classification(HResult::from_win32(112)),
            (Class::Fatal, ErrorContext::LocalFile)
        );
        assert_eq!(
            default_classification(HResult::from_win32(2)),
            (Class::Fatal, ErrorContext::RemoteFile)
        );
    }

    #[test]
    fn d5_is_overridable_per_world() {
        let mut w = World::new();
        w.classify.insert(HResult::http(503), Class::Fatal);
        assert_eq!(w.classify(HResult::http(503)).0, Class::Fatal);
        assert_eq!(w.classify(HResult::http(502)).0, Class::Transient);
    }

    #[test]
    fn scripts_are_consumed_then_otherwise() {
        let mut w = World::new().remote(
            "https://x.test/a",
            Remote::sized(10)
                .with_responses([Response::http(503)])
                .otherwise(Response::http(500)),
        );
        assert_eq!(w.attempt("https://x.test/a").response, Response::http(503));
        assert_eq!(w.attempt("https://x.test/a").response, Response::http(500));
        assert_eq!(w.attempt("https://x.test/a").response, Response::http(500));
        assert_eq!(
            w.attempt("https://nowhere.test/").response,
            Response::win32(12007)
        );
    }

    #[test]
    fn chaos_is_seeded() {
        let run = |seed| {
            let mut w = World::new()
                .remote("u", Remote::sized(100))
                .chaos(seed, 0.5);
            (0..64).map(|_| w.attempt("u").response).collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let faults = run(7).iter().filter(|r| **r != Response::Ok).count();
        assert!((16..=48).contains(&faults), "rate 0.5 gave {faults}/64");
    }
}
