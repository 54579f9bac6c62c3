//! The data of the HTTP surface that the core modules share (a leaf module: it imports only the
//! serde derives): BG_AUTH_TARGET / BG_AUTH_SCHEME, the security-flag and redirect-policy bits,
//! the limits of the HTTP setters, and the per-job [`HttpSettings`] kept behind one box in `Job`.
//! The setters and getters live with the property table (`properties/http.rs`); the gates of a
//! connection attempt in `service/http.rs`.

use serde::{Deserialize, Serialize};

/// SetProxySettings: each list at most 4,000 characters, terminator excluded (D24).
pub const MAX_PROXY_LIST: usize = 4_000;
/// BG_BASIC_CREDENTIALS: a user name of at most 300 characters (§2.3).
pub const MAX_USER_NAME: usize = 300;
/// BG_BASIC_CREDENTIALS: a password of at most 65,536 characters (§2.3, the structure page).
pub const MAX_PASSWORD: usize = 65_536;
/// SetCustomHeaders: 16,384 characters with the terminator, so 16,383 without (§2.10).
pub const MAX_CUSTOM_HEADERS: usize = 16_383;

/// BG_SSL_ENABLE_CRL_CHECK.
pub const SSL_ENABLE_CRL_CHECK: u32 = 0x0001;
/// BG_SSL_IGNORE_CERT_CN_INVALID.
pub const SSL_IGNORE_CERT_CN_INVALID: u32 = 0x0002;
/// BG_SSL_IGNORE_CERT_DATE_INVALID.
pub const SSL_IGNORE_CERT_DATE_INVALID: u32 = 0x0004;
/// BG_SSL_IGNORE_UNKNOWN_CA.
pub const SSL_IGNORE_UNKNOWN_CA: u32 = 0x0008;
/// BG_SSL_IGNORE_CERT_WRONG_USAGE.
pub const SSL_IGNORE_CERT_WRONG_USAGE: u32 = 0x0010;
/// BG_HTTP_REDIRECT_POLICY_ALLOW_REPORT.
pub const REDIRECT_POLICY_ALLOW_REPORT: u32 = 0x0100;
/// BG_HTTP_REDIRECT_POLICY_DISALLOW.
pub const REDIRECT_POLICY_DISALLOW: u32 = 0x0200;
/// BG_HTTP_REDIRECT_POLICY_MASK.
pub const REDIRECT_POLICY_MASK: u32 = 0x0700;
/// BG_HTTP_REDIRECT_POLICY_ALLOW_HTTPS_TO_HTTP.
pub const REDIRECT_POLICY_ALLOW_HTTPS_TO_HTTP: u32 = 0x0800;

/// The names `security_flags` takes in scenario files (SetSecurityFlags page).
pub const SECURITY_FLAG_NAMES: &[(&str, u32)] = &[
    ("ENABLE_CRL_CHECK", SSL_ENABLE_CRL_CHECK),
    ("IGNORE_CERT_CN_INVALID", SSL_IGNORE_CERT_CN_INVALID),
    ("IGNORE_CERT_DATE_INVALID", SSL_IGNORE_CERT_DATE_INVALID),
    ("IGNORE_UNKNOWN_CA", SSL_IGNORE_UNKNOWN_CA),
    ("IGNORE_CERT_WRONG_USAGE", SSL_IGNORE_CERT_WRONG_USAGE),
    ("ALLOW_SILENT", 0),
    ("ALLOW_REPORT", REDIRECT_POLICY_ALLOW_REPORT),
    ("DISALLOW", REDIRECT_POLICY_DISALLOW),
    ("ALLOW_HTTPS_TO_HTTP", REDIRECT_POLICY_ALLOW_HTTPS_TO_HTTP),
];

/// The names `use_stored_credentials` takes (BG_AUTH_TARGET).
pub const AUTH_TARGET_NAMES: &[(&str, u32)] = &[("SERVER", 1), ("PROXY", 2)];

/// `BG_AUTH_TARGET`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub enum AuthTarget {
    /// BG_AUTH_TARGET_SERVER (1).
    #[serde(rename = "SERVER")]
    Server = 1,
    /// BG_AUTH_TARGET_PROXY (2).
    #[serde(rename = "PROXY")]
    Proxy = 2,
}

impl AuthTarget {
    /// Both targets.
    pub const ALL: [AuthTarget; 2] = [AuthTarget::Server, AuthTarget::Proxy];
    /// The raw value.
    pub const fn value(self) -> u32 {
        self as u32
    }
    /// The target of a raw value.
    pub fn from_value(v: u32) -> Option<AuthTarget> {
        Self::ALL.into_iter().find(|t| t.value() == v)
    }
    /// The name without its prefix.
    pub const fn name(self) -> &'static str {
        match self {
            AuthTarget::Server => "SERVER",
            AuthTarget::Proxy => "PROXY",
        }
    }
    /// The target called `name`.
    pub fn from_name(name: &str) -> Option<AuthTarget> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// `BG_AUTH_SCHEME`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub enum AuthScheme {
    /// BG_AUTH_SCHEME_BASIC (1).
    #[serde(rename = "BASIC")]
    Basic = 1,
    /// BG_AUTH_SCHEME_DIGEST (2).
    #[serde(rename = "DIGEST")]
    Digest = 2,
    /// BG_AUTH_SCHEME_NTLM (3).
    #[serde(rename = "NTLM")]
    Ntlm = 3,
    /// BG_AUTH_SCHEME_NEGOTIATE (4).
    #[serde(rename = "NEGOTIATE")]
    Negotiate = 4,
    /// BG_AUTH_SCHEME_PASSPORT (5).
    #[serde(rename = "PASSPORT")]
    Passport = 5,
}

impl AuthScheme {
    /// Every scheme, by value.
    pub const ALL: [AuthScheme; 5] = [
        AuthScheme::Basic,
        AuthScheme::Digest,
        AuthScheme::Ntlm,
        AuthScheme::Negotiate,
        AuthScheme::Passport,
    ];
    /// The order a request prefers among credentials that would all be accepted (D27, WinHTTP's
    /// order): NEGOTIATE, NTLM, PASSPORT, DIGEST, BASIC.
    pub const PREFERENCE: [AuthScheme; 5] = [
        AuthScheme::Negotiate,
        AuthScheme::Ntlm,
        AuthScheme::Passport,
        AuthScheme::Digest,
        AuthScheme::Basic,
    ];
    /// The raw value.
    pub const fn value(self) -> u32 {
        self as u32
    }
    /// The scheme of a raw value.
    pub fn from_value(v: u32) -> Option<AuthScheme> {
        Self::ALL.into_iter().find(|t| t.value() == v)
    }
    /// The name without its prefix.
    pub const fn name(self) -> &'static str {
        match self {
            AuthScheme::Basic => "BASIC",
            AuthScheme::Digest => "DIGEST",
            AuthScheme::Ntlm => "NTLM",
            AuthScheme::Negotiate => "NEGOTIATE",
            AuthScheme::Passport => "PASSPORT",
        }
    }
    /// The scheme called `name`.
    pub fn from_name(name: &str) -> Option<AuthScheme> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }
    /// NTLM and Negotiate take NULL/NULL as the caller's logon (implicit) credentials (§2.3).
    pub const fn allows_implicit(self) -> bool {
        matches!(self, AuthScheme::Ntlm | AuthScheme::Negotiate)
    }
}

/// The argument of IBackgroundCopyJob2::SetCredentials (BG_AUTH_CREDENTIALS with its
/// BG_BASIC_CREDENTIALS), with raw target and scheme numbers so that invalid ones can be tried.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Credentials {
    /// BG_AUTH_TARGET (1 SERVER, 2 PROXY).
    pub target: u32,
    /// BG_AUTH_SCHEME (1 BASIC … 5 PASSPORT).
    pub scheme: u32,
    /// The user name (`None`: NULL).
    pub user: Option<String>,
    /// The password (`None`: NULL).
    pub password: Option<String>,
}

/// Credentials a job holds for one (target, scheme) pair.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StoredCredential {
    pub target: AuthTarget,
    pub scheme: AuthScheme,
    /// `None` with `password` `None`: the caller's logon (NTLM, Negotiate).
    pub user: Option<String>,
    pub password: Option<String>,
}

impl StoredCredential {
    /// The caller's logon credentials (NULL user and password).
    pub fn is_implicit(&self) -> bool {
        self.user.is_none() && self.password.is_none()
    }
}

/// Every HTTP setting of a job besides the proxy usage (which stays inline): the data behind the
/// job's one `Option<Box<HttpSettings>>`.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HttpSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_list: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_bypass: Option<String>,
    /// One entry per (target, scheme), sorted by them (§2.3: the same pair replaces).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credentials: Vec<StoredCredential>,
    /// Job5 USE_STORED_CREDENTIALS: the BG_AUTH_TARGET allowed the owner's stored credentials (0:
    /// none, D26).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub use_stored_credentials: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_headers: Option<String>,
    /// HttpOptions3::MakeCustomHeadersWriteOnly was called.
    #[serde(default, skip_serializing_if = "is_false")]
    pub headers_write_only: bool,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub security_flags: u32,
    /// HttpOptions2::SetHttpMethod with a method other than the job type's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_method: Option<String>,
    /// SetClientCertificateByName / ByID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificate: Option<ClientCertificate>,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

fn is_false(v: &bool) -> bool {
    !*v
}

impl HttpSettings {
    /// Everything at its default (the job's box can go).
    pub fn is_default(&self) -> bool {
        *self == HttpSettings::default()
    }

    /// The credentials held for (target, scheme).
    pub fn credential(&self, target: AuthTarget, scheme: AuthScheme) -> Option<&StoredCredential> {
        self.credentials
            .iter()
            .find(|c| c.target == target && c.scheme == scheme)
    }
}

/// The default HTTP method of a job type (§2.10: GET for downloads, BITS_POST for uploads).
pub(crate) fn default_method(upload: bool) -> &'static str {
    if upload {
        "BITS_POST"
    } else {
        "GET"
    }
}

/// BG_CERT_STORE_LOCATION names without their prefix, by value (0 CURRENT_USER … 7
/// LOCAL_MACHINE_ENTERPRISE).
pub const CERT_STORE_LOCATIONS: [&str; 8] = [
    "CURRENT_USER",
    "LOCAL_MACHINE",
    "CURRENT_SERVICE",
    "SERVICES",
    "USERS",
    "CURRENT_USER_GROUP_POLICY",
    "LOCAL_MACHINE_GROUP_POLICY",
    "LOCAL_MACHINE_ENTERPRISE",
];

/// SetClientCertificateByName: the store and subject names are limited to 255 characters (256
/// with the terminator).
pub const MAX_CERT_NAME: usize = 255;

/// A client certificate: one of the world's `certificates`, or the one a job uses
/// (IBackgroundCopyJobHttpOptions::GetClientCertificate).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientCertificate {
    /// BG_CERT_STORE_LOCATION (0 CURRENT_USER … 7).
    pub location: u32,
    /// The store name (`MY`, `CA`, `ROOT`, `SPC` or an application's).
    pub store: String,
    /// The subject, RDNs in BITS order.
    pub subject: String,
    /// The SHA-1 hash: 40 lowercase hex digits.
    pub sha1: String,
}
