//! The HTTP settings of a job — proxy lists (SetProxySettings), credentials (Job2::SetCredentials),
//! Job5 USE_STORED_CREDENTIALS and the HttpOptions (custom headers, security flags, HTTP method) —
//! kept behind one box per job (`None` while every one is at its default), with the typed getters
//! and setters of their rows in the property table and the credential methods.
//!
//! Rules: `docs/bits-semantics.md` §2.2 (SetProxySettings), §2.3 (SetCredentials), §2.10 and
//! decisions D24–D31.

use super::{Prop, ProxySettings};
use crate::hresult::HResult;
pub(crate) use crate::http::*;
use crate::job::{AppId, JobId};
use crate::service::Service;
use crate::state::{JobState, Priority, ProxyUsage};

/// GetProxySettings / SetProxySettings as scenario files write them: the usage as a raw number (so
/// that values outside BG_JOB_PROXY_USAGE can be tried), the two lists (`None`: NULL).
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct ProxyValue {
    /// BG_JOB_PROXY_USAGE (0 PRECONFIG, 1 NO_PROXY, 2 OVERRIDE, 3 AUTODETECT).
    pub usage: u32,
    /// The proxy list.
    pub list: Option<String>,
    /// The bypass list.
    pub bypass: Option<String>,
}

impl ProxyValue {
    /// The arguments of SetProxySettings.
    pub fn args(&self) -> (u32, Option<&str>, Option<&str>) {
        (self.usage, self.list.as_deref(), self.bypass.as_deref())
    }
}

impl From<ProxySettings> for ProxyValue {
    fn from(p: ProxySettings) -> ProxyValue {
        ProxyValue {
            usage: p.usage as u32,
            list: p.proxy_list,
            bypass: p.bypass_list,
        }
    }
}

/// The length in UTF-16 units, as Windows counts string lengths.
fn units(s: &str) -> usize {
    s.encode_utf16().count()
}

/// How SetClientCertificate* names the certificate.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CertificateBy<'a> {
    /// ByName: a subject (substring search).
    Subject(&'a str),
    /// ByID: the SHA-1 hash (40 hex digits).
    Sha1(&'a str),
}

impl Service {
    /// A job index whose credentials the caller may change: alive (D2), allowed (D9), not final
    /// (§1.3, D25).
    fn changeable(&self, app: AppId, job: JobId) -> Result<usize, HResult> {
        let j = self.access(app, job)?;
        if self.jobs[j].state().is_final() {
            return Err(HResult::BG_E_INVALID_STATE);
        }
        Ok(j)
    }

    /// Change the job's HTTP settings, drop their box when back at the defaults, and count it as a
    /// modification (§8.2, D11).
    fn change_http(&mut self, j: usize, f: impl FnOnce(&mut HttpSettings)) {
        f(self.jobs[j].http_mut());
        self.jobs[j].http_settle();
        self.modified(j);
    }

    // ------------------------------------------------------------------ proxy

    /// GetProxySettings (PRECONFIG, no lists, by default).
    pub fn proxy_settings(&self, app: AppId, job: JobId) -> Result<ProxySettings, HResult> {
        self.access(app, job).map(|j| {
            let h = self.jobs[j].http();
            ProxySettings {
                usage: self.jobs[j].proxy_usage(),
                proxy_list: h.and_then(|h| h.proxy_list.clone()),
                bypass_list: h.and_then(|h| h.proxy_bypass.clone()),
            }
        })
    }

    /// SetProxySettings (§2.2, D24): E_NOTIMPL for a usage outside BG_JOB_PROXY_USAGE; with OVERRIDE
    /// a NULL list is E_INVALIDARG; with any other usage both lists must be NULL (E_INVALIDARG);
    /// BG_E_PROXY_LIST_TOO_LARGE / BG_E_PROXY_BYPASS_LIST_TOO_LARGE past 4,000 characters. The
    /// content is checked only when a transfer uses it (BG_E_INVALID_PROXY_INFO, D25).
    pub fn set_proxy_settings(
        &mut self,
        app: AppId,
        job: JobId,
        (usage, list, bypass): (u32, Option<&str>, Option<&str>),
    ) -> Result<(), HResult> {
        let j = self.settable(app, job, Prop::ProxySettings)?;
        let usage = match usage {
            0 => ProxyUsage::Preconfig,
            1 => ProxyUsage::NoProxy,
            2 => ProxyUsage::Override,
            3 => ProxyUsage::Autodetect,
            _ => return Err(HResult::E_NOTIMPL),
        };
        if usage == ProxyUsage::Override {
            if list.is_none() {
                return Err(HResult::E_INVALIDARG);
            }
        } else if list.is_some() || bypass.is_some() {
            return Err(HResult::E_INVALIDARG);
        }
        if list.is_some_and(|l| units(l) > MAX_PROXY_LIST) {
            return Err(HResult::BG_E_PROXY_LIST_TOO_LARGE);
        }
        if bypass.is_some_and(|b| units(b) > MAX_PROXY_LIST) {
            return Err(HResult::BG_E_PROXY_BYPASS_LIST_TOO_LARGE);
        }
        self.jobs[j].set_proxy_usage(usage);
        self.change_http(j, |h| {
            h.proxy_list = list.map(str::to_string);
            h.proxy_bypass = bypass.map(str::to_string);
        });
        Ok(())
    }

    // ------------------------------------------------------------------ credentials

    /// IBackgroundCopyJob2::SetCredentials (§2.3, D25): BG_E_INVALID_AUTH_TARGET,
    /// BG_E_INVALID_AUTH_SCHEME, BG_E_USERNAME_TOO_LARGE (over 300 characters),
    /// BG_E_PASSWORD_TOO_LARGE (over 65,536), E_INVALIDARG for a NULL user name or password with
    /// a scheme other than NTLM and Negotiate (for those, both NULL is the caller's logon). The same
    /// (target, scheme) replaces what was there. Non-final states only (D25).
    pub fn set_credentials(
        &mut self,
        app: AppId,
        job: JobId,
        c: &Credentials,
    ) -> Result<(), HResult> {
        let j = self.changeable(app, job)?;
        let target = AuthTarget::from_value(c.target).ok_or(HResult::BG_E_INVALID_AUTH_TARGET)?;
        let scheme = AuthScheme::from_value(c.scheme).ok_or(HResult::BG_E_INVALID_AUTH_SCHEME)?;
        if c.user.as_deref().is_some_and(|u| units(u) > MAX_USER_NAME) {
            return Err(HResult::BG_E_USERNAME_TOO_LARGE);
        }
        if c.password
            .as_deref()
            .is_some_and(|p| units(p) > MAX_PASSWORD)
        {
            return Err(HResult::BG_E_PASSWORD_TOO_LARGE);
        }
        let implicit = c.user.is_none() && c.password.is_none();
        if (c.user.is_none() || c.password.is_none()) && !(implicit && scheme.allows_implicit()) {
            return Err(HResult::E_INVALIDARG);
        }
        let stored = StoredCredential {
            target,
            scheme,
            user: c.user.clone(),
            password: c.password.clone(),
        };
        self.change_http(j, |h| {
            let key = (target, scheme);
            match h
                .credentials
                .binary_search_by_key(&key, |c| (c.target, c.scheme))
            {
                Ok(i) => h.credentials[i] = stored,
                Err(i) => h.credentials.insert(i, stored),
            }
        });
        Ok(())
    }

    /// IBackgroundCopyJob2::RemoveCredentials (§2.3): `Ok(false)` is S_FALSE (nothing held for that
    /// pair); BG_E_INVALID_AUTH_TARGET / BG_E_INVALID_AUTH_SCHEME for unknown values (D25).
    pub fn remove_credentials(
        &mut self,
        app: AppId,
        job: JobId,
        target: u32,
        scheme: u32,
    ) -> Result<bool, HResult> {
        let j = self.changeable(app, job)?;
        let target = AuthTarget::from_value(target).ok_or(HResult::BG_E_INVALID_AUTH_TARGET)?;
        let scheme = AuthScheme::from_value(scheme).ok_or(HResult::BG_E_INVALID_AUTH_SCHEME)?;
        if self.jobs[j]
            .http()
            .and_then(|h| h.credential(target, scheme))
            .is_none()
        {
            return Ok(false);
        }
        self.change_http(j, |h| {
            h.credentials
                .retain(|c| (c.target, c.scheme) != (target, scheme))
        });
        Ok(true)
    }

    /// Simulator inspection (BITS has no getter): whether job `job` holds credentials for
    /// (target, scheme), and then their user name (`None`: the caller's logon).
    pub fn held_credentials(
        &self,
        job: JobId,
        target: AuthTarget,
        scheme: AuthScheme,
    ) -> Option<Option<String>> {
        let h = self.jobs.get(job.index())?.http()?;
        h.credential(target, scheme).map(|c| c.user.clone())
    }

    /// Job5 GetProperty(USE_STORED_CREDENTIALS): 0 until set (D26).
    pub fn use_stored_credentials(&self, app: AppId, job: JobId) -> Result<u32, HResult> {
        self.access(app, job)
            .map(|j| self.jobs[j].http().map_or(0, |h| h.use_stored_credentials))
    }

    /// Job5 SetProperty(USE_STORED_CREDENTIALS): only BG_AUTH_TARGET_PROXY is supported
    /// (BITS_JOB_PROPERTY_ID page); any other value is BG_E_USE_STORED_CREDENTIALS_NOT_SUPPORTED (D26).
    pub fn set_use_stored_credentials(
        &mut self,
        app: AppId,
        job: JobId,
        target: u32,
    ) -> Result<(), HResult> {
        let j = self.settable(app, job, Prop::UseStoredCredentials)?;
        if target != AuthTarget::Proxy.value() {
            return Err(HResult::BG_E_USE_STORED_CREDENTIALS_NOT_SUPPORTED);
        }
        self.change_http(j, |h| h.use_stored_credentials = target);
        Ok(())
    }

    // ------------------------------------------------------------------ HttpOptions

    /// HttpOptions::GetCustomHeaders: `None` (S_FALSE, NULL) when none are set; E_ACCESSDENIED after
    /// MakeCustomHeadersWriteOnly (§2.10).
    pub fn custom_headers(&self, app: AppId, job: JobId) -> Result<Option<String>, HResult> {
        let j = self.access(app, job)?;
        let h = self.jobs[j].http();
        if h.is_some_and(|h| h.headers_write_only) {
            return Err(HResult::E_ACCESSDENIED);
        }
        Ok(h.and_then(|h| h.custom_headers.clone()))
    }

    /// HttpOptions::SetCustomHeaders: NULL removes them; BG_E_STRING_TOO_LONG past 16,383 characters
    /// (§2.10). Sent with every request of the job.
    pub fn set_custom_headers(
        &mut self,
        app: AppId,
        job: JobId,
        headers: Option<&str>,
    ) -> Result<(), HResult> {
        let j = self.settable(app, job, Prop::CustomHeaders)?;
        if headers.is_some_and(|s| units(s) > MAX_CUSTOM_HEADERS) {
            return Err(HResult::BG_E_STRING_TOO_LONG);
        }
        self.change_http(j, |h| h.custom_headers = headers.map(str::to_string));
        Ok(())
    }

    /// HttpOptions3::MakeCustomHeadersWriteOnly: from now on GetCustomHeaders answers E_ACCESSDENIED
    /// (D28); the headers are still sent. Non-final states.
    pub fn make_custom_headers_write_only(
        &mut self,
        app: AppId,
        job: JobId,
    ) -> Result<(), HResult> {
        let j = self.changeable(app, job)?;
        self.change_http(j, |h| h.headers_write_only = true);
        Ok(())
    }

    /// HttpOptions::GetSecurityFlags (0 by default).
    pub fn security_flags(&self, app: AppId, job: JobId) -> Result<u32, HResult> {
        self.access(app, job)
            .map(|j| self.jobs[j].http().map_or(0, |h| h.security_flags))
    }

    /// HttpOptions::SetSecurityFlags: E_NOTIMPL for a bit outside the BG_SSL_* and
    /// BG_HTTP_REDIRECT_POLICY_* values, a redirect policy other than ALLOW_SILENT, ALLOW_REPORT and
    /// DISALLOW, or ALLOW_HTTPS_TO_HTTP with DISALLOW (SetSecurityFlags page, D28).
    pub fn set_security_flags(
        &mut self,
        app: AppId,
        job: JobId,
        flags: u32,
    ) -> Result<(), HResult> {
        let j = self.settable(app, job, Prop::SecurityFlags)?;
        let known = SECURITY_FLAG_NAMES.iter().fold(0, |a, (_, v)| a | v) | REDIRECT_POLICY_MASK;
        let policy = flags & REDIRECT_POLICY_MASK;
        if flags & !known != 0
            || !matches!(
                policy,
                0 | REDIRECT_POLICY_ALLOW_REPORT | REDIRECT_POLICY_DISALLOW
            )
            || (policy == REDIRECT_POLICY_DISALLOW
                && flags & REDIRECT_POLICY_ALLOW_HTTPS_TO_HTTP != 0)
        {
            return Err(HResult::E_NOTIMPL);
        }
        self.change_http(j, |h| h.security_flags = flags);
        Ok(())
    }

    /// HttpOptions2::GetHttpMethod: GET for downloads, BITS_POST for uploads unless set (§2.10).
    pub fn http_method(&self, app: AppId, job: JobId) -> Result<String, HResult> {
        self.access(app, job).map(|j| {
            let job = &self.jobs[j];
            match job.http().and_then(|h| h.http_method.as_deref()) {
                Some(m) => m.to_string(),
                None => default_method(job.job_type().is_upload()).to_string(),
            }
        })
    }

    /// HttpOptions2::SetHttpMethod (§2.10, D29): the job type's default method changes nothing;
    /// another method makes the job FOREGROUND and locks its priority. Only before the first
    /// Resume: a job that is not SUSPENDED, or has moved bytes or failed, answers
    /// BG_E_READ_ONLY_PROPERTY_AFTER_RESUME; an empty method is E_INVALIDARG.
    pub fn set_http_method(&mut self, app: AppId, job: JobId, method: &str) -> Result<(), HResult> {
        let j = self.settable(app, job, Prop::HttpMethod)?;
        if method.is_empty() {
            return Err(HResult::E_INVALIDARG);
        }
        let upload = self.jobs[j].job_type().is_upload();
        if method == default_method(upload) {
            return Ok(());
        }
        let job_data = &self.jobs[j];
        if job_data.state() != JobState::Suspended
            || job_data.error_count() > 0
            || job_data.times().transfer_completion_time.is_some()
        {
            return Err(HResult::BG_E_READ_ONLY_PROPERTY_AFTER_RESUME);
        }
        self.jobs[j].set_priority(Priority::Foreground);
        self.change_http(j, |h| h.http_method = Some(method.to_string()));
        Ok(())
    }

    /// HttpOptions::SetClientCertificateByName / ByID (D31): after the state, E_NOTIMPL for a
    /// location outside BG_CERT_STORE_LOCATION, BG_E_STRING_TOO_LONG for a store name or subject over
    /// 255 characters, E_INVALIDARG for an empty subject, HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND) when
    /// no certificate of the world is in that store, CRYPT_E_NOT_FOUND when none of them matches (by
    /// subject: the first whose subject contains `subject`; by ID: the SHA-1 hash, 40 hex digits).
    pub fn set_client_certificate(
        &mut self,
        app: AppId,
        job: JobId,
        location: u32,
        store: &str,
        by: CertificateBy<'_>,
    ) -> Result<(), HResult> {
        let j = self.changeable(app, job)?;
        if location as usize >= CERT_STORE_LOCATIONS.len() {
            return Err(HResult::E_NOTIMPL);
        }
        let subject_len = match by {
            CertificateBy::Subject(s) => units(s),
            CertificateBy::Sha1(_) => 0,
        };
        if units(store) > MAX_CERT_NAME || subject_len > MAX_CERT_NAME {
            return Err(HResult::BG_E_STRING_TOO_LONG);
        }
        if matches!(by, CertificateBy::Subject("")) {
            return Err(HResult::E_INVALIDARG);
        }
        let mut in_store = self
            .world
            .http
            .certificates
            .iter()
            .filter(|c| c.location == location && c.store.eq_ignore_ascii_case(store))
            .peekable();
        if in_store.peek().is_none() {
            return Err(HResult::ERROR_FILE_NOT_FOUND);
        }
        let found = in_store
            .find(|c| match by {
                CertificateBy::Subject(s) => c.subject.contains(s),
                CertificateBy::Sha1(h) => c.sha1.eq_ignore_ascii_case(h),
            })
            .cloned()
            .ok_or(HResult::CRYPT_E_NOT_FOUND)?;
        self.change_http(j, |h| h.client_certificate = Some(found));
        Ok(())
    }

    /// HttpOptions::RemoveClientCertificate: `Ok(false)` is S_FALSE (the job has none).
    pub fn remove_client_certificate(&mut self, app: AppId, job: JobId) -> Result<bool, HResult> {
        let j = self.changeable(app, job)?;
        if self.jobs[j]
            .http()
            .is_none_or(|h| h.client_certificate.is_none())
        {
            return Ok(false);
        }
        self.change_http(j, |h| h.client_certificate = None);
        Ok(true)
    }

    /// HttpOptions::GetClientCertificate: RPC_X_BAD_STUB_DATA when the job has none (§2.10).
    pub fn client_certificate(&self, app: AppId, job: JobId) -> Result<ClientCertificate, HResult> {
        let j = self.access(app, job)?;
        self.jobs[j]
            .http()
            .and_then(|h| h.client_certificate.clone())
            .ok_or(HResult::RPC_X_BAD_STUB_DATA)
    }

    /// TakeOwnership (§2.2): the credentials and custom headers of the old owner go (and the
    /// write-only lock with the headers).
    pub(crate) fn drop_owner_secrets(&mut self, j: usize) {
        if self.jobs[j].http().is_some() {
            let h = self.jobs[j].http_mut();
            h.credentials.clear();
            h.custom_headers = None;
            h.client_certificate = None;
            h.headers_write_only = false;
            self.jobs[j].http_settle();
        }
    }

    /// Whether the job uses a custom HTTP method (D29: SetPriority answers
    /// BG_E_NOT_SUPPORTED_WITH_CUSTOM_HTTP_METHOD, transient errors are fatal).
    pub(crate) fn custom_method(&self, j: usize) -> bool {
        self.jobs[j].http().is_some_and(|h| h.http_method.is_some())
    }
}
