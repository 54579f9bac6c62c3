//! Job properties, declared once.
//!
//! `for_each_job_property!` is the table: one row per property of IBackgroundCopyJob — its name in
//! scenario files, its value type, its getter (core method, facade method, COM name), its setter if it
//! has one (core method, facade method, COM name, argument), the states the setter is allowed in, the
//! HRESULTs the setter adds to the common ones, its default, and the rule of
//! `docs/bits-semantics.md` it follows. Everything else is generated from the table: [`Prop`],
//! [`PropertyValue`] and its scenario names, the declarations [`PROPERTIES`], the generic
//! [`Service::get_property`] / [`Service::set_property`], and the typed methods of the facade
//! ([`crate::Job`]). The scenario runner's `set` and `check property` use [`PropertyValue`] and
//! [`Scalar`], so they need nothing per property.
//!
//! The behaviour of each getter and setter (validation, side effects) is the typed `impl Service`
//! method below the table, one per property, named in its row.
//!
//! Adding a property: a row in the table, its typed getter (and setter) below, and a fixture.

use crate::hresult::HResult;
use crate::job::{AppId, JobId, JobProgress, JobTimes};
use crate::service::Service;
use crate::state::{JobState, JobType, NotifyFlags, Priority, ProxyUsage};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The property table. Invoke with the name of a macro that takes the rows; see the module docs.
macro_rules! for_each_job_property {
    ($callback:ident) => {
        $callback! {
            /// The display name (D14: at most 256 characters, else E_INVALIDARG).
            DisplayName {
                name: "display_name",
                value: String,
                get: display_name -> String, get_display_name, "GetDisplayName", |x: String| x,
                set: set_display_name(&str), set_display_name, "SetDisplayName", String::as_str,
                errors: [E_INVALIDARG],
                default: "the name given to CreateJob",
                cite: "D14",
            }
            /// The description (D14: at most 1,024 characters, else E_INVALIDARG).
            Description {
                name: "description",
                value: String,
                get: description -> String, get_description, "GetDescription", |x: String| x,
                set: set_description(&str), set_description, "SetDescription", String::as_str,
                errors: [E_INVALIDARG],
                default: "\"\"",
                cite: "D14",
            }
            /// The priority (D12 scheduling; D14: values outside BG_JOB_PRIORITY give E_NOTIMPL).
            Priority {
                name: "priority",
                value: PriorityValue,
                get: priority -> Priority, get_priority, "GetPriority", PriorityValue::Named,
                set: set_priority(u32), set_priority_raw, "SetPriority", |v: &PriorityValue| v.value(),
                errors: [E_NOTIMPL],
                default: "NORMAL",
                cite: "D12, D14",
            }
            /// The notify flags (D11; D14: unknown bits give E_NOTIMPL).
            NotifyFlags {
                name: "notify_flags",
                value: u32,
                get: notify_flags -> NotifyFlags, get_notify_flags, "GetNotifyFlags", |f: NotifyFlags| f.bits(),
                set: set_notify_flags(u32), set_notify_flags_raw, "SetNotifyFlags", |v: &u32| *v,
                errors: [E_NOTIMPL],
                default: "3",
                cite: "D11, D14",
            }
            /// MinimumRetryDelay in seconds (D3; D14: values under 5 store 5).
            MinimumRetryDelay {
                name: "minimum_retry_delay",
                value: u32,
                get: minimum_retry_delay -> u32, get_minimum_retry_delay, "GetMinimumRetryDelay", |x: u32| x,
                set: set_minimum_retry_delay(u32), set_minimum_retry_delay, "SetMinimumRetryDelay", |v: &u32| *v,
                errors: [],
                default: "600",
                cite: "D3, D14",
            }
            /// NoProgressTimeout in seconds (D4: lowering it in TRANSIENT_ERROR may escalate to ERROR, T12).
            NoProgressTimeout {
                name: "no_progress_timeout",
                value: u32,
                get: no_progress_timeout -> u32, get_no_progress_timeout, "GetNoProgressTimeout", |x: u32| x,
                set: set_no_progress_timeout(u32), set_no_progress_timeout, "SetNoProgressTimeout", |v: &u32| *v,
                errors: [],
                default: "1209600",
                cite: "D4, T12",
            }
            /// The state (§1.1); changed only by the transition table.
            State {
                name: "state",
                value: JobState,
                get: state -> JobState, get_state, "GetState", |x: JobState| x,
                default: "SUSPENDED",
                cite: "T1",
            }
            /// The job type, fixed at CreateJob.
            Type {
                name: "type",
                value: JobType,
                get: job_type -> JobType, get_type, "GetType", |x: JobType| x,
                default: "the type given to CreateJob",
                cite: "§2.1",
            }
            /// The owner's SID (D9; TakeOwnership changes it).
            Owner {
                name: "owner",
                value: String,
                get: owner -> String, get_owner, "GetOwner", |x: String| x,
                default: "the creating user's SID",
                cite: "D9",
            }
            /// The progress, live to the current instant (§8.2).
            Progress {
                name: "progress",
                value: JobProgress,
                get: progress -> JobProgress, get_progress, "GetProgress", |x: JobProgress| x,
                default: "no files, 0 bytes",
                cite: "§8.2",
            }
            /// Creation, modification and transfer-completion times (§8.2, D13).
            Times {
                name: "times",
                value: JobTimes,
                get: times -> JobTimes, get_times, "GetTimes", |x: JobTimes| x,
                default: "created and modified at creation, never transferred",
                cite: "§8.2, D13",
            }
            /// The error count (D6).
            ErrorCount {
                name: "error_count",
                value: u32,
                get: error_count -> u32, get_error_count, "GetErrorCount", |x: u32| x,
                default: "0",
                cite: "D6",
            }
            /// The proxy settings: usage and lists (§2.2, D24; used by the proxy gate, D25).
            ProxySettings {
                name: "proxy_settings",
                value: ProxyValue,
                get: proxy_settings -> ProxySettings, get_proxy_settings, "GetProxySettings", ProxyValue::from,
                set: set_proxy_settings((u32, Option<&str>, Option<&str>)), set_proxy_settings, "SetProxySettings", ProxyValue::args,
                errors: [E_NOTIMPL, E_INVALIDARG, BG_E_PROXY_LIST_TOO_LARGE, BG_E_PROXY_BYPASS_LIST_TOO_LARGE],
                default: "PRECONFIG, no lists",
                cite: "§2.2, §10 item 1, D24",
            }
            /// Job2 command line run for JobTransferred / JobError when no callback takes them
            /// (§2.3, §5.3, §5.4, D49–D51): the program and its parameters; "" and "" when not set.
            NotifyCmdLine {
                name: "notify_cmd_line",
                value: CmdLineValue,
                get: notify_cmd_line -> (String, String), get_notify_cmd_line, "IBackgroundCopyJob2::GetNotifyCmdLine", CmdLineValue::from,
                set: set_notify_cmd_line((Option<&str>, Option<&str>)), set_notify_cmd_line, "IBackgroundCopyJob2::SetNotifyCmdLine", CmdLineValue::args,
                errors: [E_INVALIDARG, BG_E_STRING_TOO_LONG],
                default: "none (GetNotifyCmdLine: \"\" and \"\")",
                cite: "§2.3, §5.4, D49",
            }
            /// Job2 reply file name of an upload-reply job (§2.3, D72): the name set, or the one
            /// generated in the upload file's folder; E_NOTIMPL for other job types.
            ReplyFileName {
                name: "reply_file_name",
                value: Option<String>,
                get: reply_file_name -> Option<String>, get_reply_file_name, "IBackgroundCopyJob2::GetReplyFileName", |x: Option<String>| x,
                set: set_reply_file_name(Option<&str>), set_reply_file_name, "IBackgroundCopyJob2::SetReplyFileName", Option::as_deref,
                errors: [E_NOTIMPL, E_INVALIDARG],
                default: "none (generated in the upload file's folder once the file is added, D72)",
                cite: "§2.3, §7, D72",
            }
            /// Job5 USE_STORED_CREDENTIALS (id 7): the BG_AUTH_TARGET that may use the owner's stored
            /// credentials; only PROXY is supported (D26).
            UseStoredCredentials {
                name: "use_stored_credentials",
                value: u32,
                get: use_stored_credentials -> u32, get_use_stored_credentials, "IBackgroundCopyJob5::GetProperty(BITS_JOB_PROPERTY_USE_STORED_CREDENTIALS)", |x: u32| x,
                set: set_use_stored_credentials(u32), set_use_stored_credentials, "IBackgroundCopyJob5::SetProperty(BITS_JOB_PROPERTY_USE_STORED_CREDENTIALS)", |v: &u32| *v,
                errors: [BG_E_USE_STORED_CREDENTIALS_NOT_SUPPORTED],
                default: "0 (no target)",
                cite: "§2.10, D26",
            }
            /// HttpOptions custom headers (§2.10, D28): `None` when none are set.
            CustomHeaders {
                name: "custom_headers",
                value: Option<String>,
                get: custom_headers -> Option<String>, get_custom_headers, "IBackgroundCopyJobHttpOptions::GetCustomHeaders", |x: Option<String>| x,
                set: set_custom_headers(Option<&str>), set_custom_headers, "IBackgroundCopyJobHttpOptions::SetCustomHeaders", Option::as_deref,
                errors: [BG_E_STRING_TOO_LONG],
                default: "none (GetCustomHeaders: S_FALSE, NULL)",
                cite: "§2.10, D28",
            }
            /// HttpOptions security flags: certificate checks and the redirect policy (§2.10, D28).
            SecurityFlags {
                name: "security_flags",
                value: u32,
                get: security_flags -> u32, get_security_flags, "IBackgroundCopyJobHttpOptions::GetSecurityFlags", |x: u32| x,
                set: set_security_flags(u32), set_security_flags, "IBackgroundCopyJobHttpOptions::SetSecurityFlags", |v: &u32| *v,
                errors: [E_NOTIMPL],
                default: "0 (CRL not checked, no certificate error ignored, redirects ALLOW_SILENT)",
                cite: "§2.10, D28",
            }
            /// HttpOptions2 HTTP method (§2.10, D29).
            HttpMethod {
                name: "http_method",
                value: String,
                get: http_method -> String, get_http_method, "IBackgroundCopyJobHttpOptions2::GetHttpMethod", |x: String| x,
                set: set_http_method(&str), set_http_method, "IBackgroundCopyJobHttpOptions2::SetHttpMethod", String::as_str,
                errors: [E_INVALIDARG, BG_E_READ_ONLY_PROPERTY_AFTER_RESUME],
                default: "GET (downloads), BITS_POST (uploads)",
                cite: "§2.10, D29",
            }
            /// Job3 file ACL flags: BG_COPY_FILE_* bits copied with SMB files (§2.4; unknown bits give
            /// E_INVALIDARG; not settable once the job is TRANSFERRED).
            FileAclFlags {
                name: "file_acl_flags",
                value: u32,
                get: file_acl_flags -> u32, get_file_acl_flags, "IBackgroundCopyJob3::GetFileACLFlags", |x: u32| x,
                set: set_file_acl_flags(u32), set_file_acl_flags, "IBackgroundCopyJob3::SetFileACLFlags", |v: &u32| *v,
                errors: [E_INVALIDARG],
                states: BEFORE_TRANSFERRED,
                default: "no flags",
                cite: "§2.4, D32",
            }
            /// Job4 peer caching flags: BG_JOB_ENABLE_PEERCACHING_CLIENT 1, _SERVER 2,
            /// BG_JOB_DISABLE_BRANCH_CACHE 4 (unknown bits give E_INVALIDARG, D32).
            PeerCachingFlags {
                name: "peer_caching_flags",
                value: u32,
                get: peer_caching_flags -> u32, get_peer_caching_flags, "IBackgroundCopyJob4::GetPeerCachingFlags", |x: u32| x,
                set: set_peer_caching_flags(u32), set_peer_caching_flags, "IBackgroundCopyJob4::SetPeerCachingFlags", |v: &u32| *v,
                errors: [E_INVALIDARG],
                default: "no flags",
                cite: "§2.5, D32",
            }
            /// Job4 MaxDownloadTime in seconds: the time the job may spend in CONNECTING and
            /// TRANSFERRING before T23 sends it to ERROR with BG_E_MAXDOWNLOAD_TIMEOUT.
            MaximumDownloadTime {
                name: "maximum_download_time",
                value: u32,
                get: maximum_download_time -> u32, get_maximum_download_time, "IBackgroundCopyJob4::GetMaximumDownloadTime", |x: u32| x,
                set: set_maximum_download_time(u32), set_maximum_download_time, "IBackgroundCopyJob4::SetMaximumDownloadTime", |v: &u32| *v,
                errors: [],
                default: "7776000",
                cite: "§2.5, T23",
            }
            /// Job4 GetOwnerIntegrityLevel: the mandatory integrity RID of the owner's token
            /// (world `users` `integrity`; D34).
            OwnerIntegrityLevel {
                name: "owner_integrity_level",
                value: u32,
                get: owner_integrity_level -> u32, get_owner_integrity_level, "IBackgroundCopyJob4::GetOwnerIntegrityLevel", |x: u32| x,
                default: "MEDIUM (0x2000), HIGH (0x3000) for an elevated owner",
                cite: "§2.5, D34",
            }
            /// Job4 GetOwnerElevationState: whether the owner's token is elevated (world `users`
            /// `elevated`; D34).
            OwnerElevationState {
                name: "owner_elevation_state",
                value: bool,
                get: owner_elevation_state -> bool, get_owner_elevation_state, "IBackgroundCopyJob4::GetOwnerElevationState", |x: bool| x,
                default: "the owner is an administrator",
                cite: "§2.5, D34",
            }
            /// Job5 BITS_JOB_PROPERTY_ID_COST_FLAGS (1): the network costs the job may transfer on
            /// (BITS_COST_STATE_* bits; unknown bits give E_INVALIDARG, D33).
            CostFlags {
                name: "cost_flags",
                value: u32,
                get: cost_flags -> u32, get_cost_flags, "IBackgroundCopyJob5::GetProperty(COST_FLAGS)", |x: u32| x,
                set: set_cost_flags(u32), set_cost_flags, "IBackgroundCopyJob5::SetProperty(COST_FLAGS)", |v: &u32| *v,
                errors: [E_INVALIDARG],
                default: "the world's default_cost_flags (TRANSFER_STANDARD 0x80000067)",
                cite: "§2.10, D33",
            }
            /// Job5 BITS_JOB_PROPERTY_NOTIFICATION_CLSID (2): the out-of-process COM class notified
            /// (GUID_NULL: none).
            NotificationClsid {
                name: "notification_clsid",
                value: u128,
                get: notification_clsid -> u128, get_notification_clsid, "IBackgroundCopyJob5::GetProperty(NOTIFICATION_CLSID)", |x: u128| x,
                set: set_notification_clsid(u128), set_notification_clsid, "IBackgroundCopyJob5::SetProperty(NOTIFICATION_CLSID)", |v: &u128| *v,
                errors: [],
                default: "GUID_NULL",
                cite: "§5.2, D33",
            }
            /// Job5 BITS_JOB_PROPERTY_DYNAMIC_CONTENT (3): downloads only, before the first Resume.
            DynamicContent {
                name: "dynamic_content",
                value: bool,
                get: dynamic_content -> bool, get_dynamic_content, "IBackgroundCopyJob5::GetProperty(DYNAMIC_CONTENT)", |x: bool| x,
                set: set_dynamic_content(bool), set_dynamic_content, "IBackgroundCopyJob5::SetProperty(DYNAMIC_CONTENT)", |v: &bool| *v,
                errors: [BG_E_PROPERTY_SUPPORTED_FOR_DOWNLOAD_JOBS_ONLY, BG_E_READ_ONLY_PROPERTY_AFTER_RESUME, E_INVALIDARG],
                default: "FALSE",
                cite: "§2.10, D33",
            }
            /// Job5 BITS_JOB_PROPERTY_HIGH_PERFORMANCE (4): downloads only, before the first AddFile.
            HighPerformance {
                name: "high_performance",
                value: bool,
                get: high_performance -> bool, get_high_performance, "IBackgroundCopyJob5::GetProperty(HIGH_PERFORMANCE)", |x: bool| x,
                set: set_high_performance(bool), set_high_performance, "IBackgroundCopyJob5::SetProperty(HIGH_PERFORMANCE)", |v: &bool| *v,
                errors: [BG_E_PROPERTY_SUPPORTED_FOR_DOWNLOAD_JOBS_ONLY, BG_E_READ_ONLY_PROPERTY_AFTER_ADDFILE],
                default: "FALSE",
                cite: "§2.10, D33",
            }
            /// Job5 BITS_JOB_PROPERTY_MAX_DOWNLOAD_SIZE (5): bytes the job may download in total
            /// (0: no cap); downloads only, before the first Resume.
            MaxDownloadSize {
                name: "max_download_size",
                value: u64,
                get: max_download_size -> u64, get_max_download_size, "IBackgroundCopyJob5::GetProperty(MAX_DOWNLOAD_SIZE)", |x: u64| x,
                set: set_max_download_size(u64), set_max_download_size, "IBackgroundCopyJob5::SetProperty(MAX_DOWNLOAD_SIZE)", |v: &u64| *v,
                errors: [BG_E_PROPERTY_SUPPORTED_FOR_DOWNLOAD_JOBS_ONLY, BG_E_READ_ONLY_PROPERTY_AFTER_RESUME],
                default: "0 (no cap)",
                cite: "§2.10, D33",
            }
            /// Job5 BITS_JOB_PROPERTY_MINIMUM_NOTIFICATION_INTERVAL_MS (9).
            MinimumNotificationIntervalMs {
                name: "minimum_notification_interval_ms",
                value: u32,
                get: minimum_notification_interval_ms -> u32, get_minimum_notification_interval_ms, "IBackgroundCopyJob5::GetProperty(MINIMUM_NOTIFICATION_INTERVAL_MS)", |x: u32| x,
                set: set_minimum_notification_interval_ms(u32), set_minimum_notification_interval_ms, "IBackgroundCopyJob5::SetProperty(MINIMUM_NOTIFICATION_INTERVAL_MS)", |v: &u32| *v,
                errors: [],
                default: "500",
                cite: "§2.10, D33",
            }
            /// Job5 BITS_JOB_PROPERTY_ON_DEMAND_MODE (10): downloads only, not with dynamic content.
            OnDemandMode {
                name: "on_demand_mode",
                value: bool,
                get: on_demand_mode -> bool, get_on_demand_mode, "IBackgroundCopyJob5::GetProperty(ON_DEMAND_MODE)", |x: bool| x,
                set: set_on_demand_mode(bool), set_on_demand_mode, "IBackgroundCopyJob5::SetProperty(ON_DEMAND_MODE)", |v: &bool| *v,
                errors: [BG_E_PROPERTY_SUPPORTED_FOR_DOWNLOAD_JOBS_ONLY, E_INVALIDARG],
                default: "FALSE",
                cite: "§2.10, D33",
            }
        }
    };
}
pub(crate) use for_each_job_property;

/// One property's declaration, as the table states it.
#[derive(Clone, Copy, Debug)]
pub struct PropertyDecl {
    /// Which property.
    pub prop: Prop,
    /// Its name in scenario files.
    pub name: &'static str,
    /// The COM getter.
    pub getter: &'static str,
    /// The COM setter, if the property can be set.
    pub setter: Option<&'static str>,
    /// The states the setter is allowed in (elsewhere: BG_E_INVALID_STATE, checked before the
    /// arguments). Empty for read-only properties.
    pub settable_in: &'static [JobState],
    /// What the setter returns for a bad argument (besides RPC_E_DISCONNECTED, BG_E_NOT_FOUND,
    /// E_ACCESSDENIED and BG_E_INVALID_STATE, common to every setter).
    pub errors: &'static [HResult],
    /// The default of a new job, in words.
    pub default: &'static str,
    /// The rows and decisions of `docs/bits-semantics.md` it follows.
    pub cite: &'static str,
}

/// §1.3: setters work in every non-final state.
const NON_FINAL: &[JobState] = &[
    JobState::Queued,
    JobState::Connecting,
    JobState::Transferring,
    JobState::Suspended,
    JobState::Error,
    JobState::TransientError,
    JobState::Transferred,
];

/// §2.4: SetFileACLFlags works only before the job reaches TRANSFERRED (and never in a final state).
const BEFORE_TRANSFERRED: &[JobState] = &[
    JobState::Queued,
    JobState::Connecting,
    JobState::Transferring,
    JobState::Suspended,
    JobState::Error,
    JobState::TransientError,
];

/// The setter of a row, if it has one.
const fn first(setters: &[&'static str]) -> Option<&'static str> {
    match setters {
        [s, ..] => Some(*s),
        [] => None,
    }
}

/// Where a row's setter works: every non-final state (§1.3), or nowhere for a read-only property.
const fn settable_in(setters: &[&'static str]) -> &'static [JobState] {
    if setters.is_empty() {
        &[]
    } else {
        NON_FINAL
    }
}

/// A row's own `states:` when it gives them (a setter allowed in fewer states than every non-final
/// one), else `all`.
const fn states_or(all: &'static [JobState], own: &[&'static [JobState]]) -> &'static [JobState] {
    match own {
        [s, ..] => s,
        [] => all,
    }
}

macro_rules! declare {
    ($(
        $(#[$doc:meta])*
        $var:ident {
            name: $name:literal,
            value: $vty:ty,
            get: $get:ident -> $gty:ty, $api_get:ident, $com_get:literal, $to_value:expr,
            $(set: $set:ident($aty:ty), $api_set:ident, $com_set:literal, $to_arg:expr,
            errors: [$($err:ident),*],
            $(states: $states:expr,)?)?
            default: $default:literal,
            cite: $cite:literal,
        }
    )*) => {
        /// A job property (see [`PROPERTIES`]).
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
        pub enum Prop {
            $( $(#[$doc])* $var, )*
        }

        /// A property with its value: what `set` writes and `get` reads.
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub enum PropertyValue {
            $( $(#[$doc])* $var($vty), )*
        }

        /// Every property's declaration, in table order.
        pub const PROPERTIES: &[PropertyDecl] = &[
            $( PropertyDecl {
                prop: Prop::$var,
                name: $name,
                getter: $com_get,
                setter: first(&[ $($com_set)? ]),
                settable_in: states_or(settable_in(&[ $($com_set)? ]), &[ $($($states)?)? ]),
                errors: &[ $( $( HResult::$err, )* )? ],
                default: $default,
                cite: $cite,
            }, )*
        ];

        impl Prop {
            /// The property's declaration.
            pub const fn decl(self) -> &'static PropertyDecl {
                &PROPERTIES[self as usize]
            }
        }

        impl PropertyValue {
            /// The names of the properties a scenario can set and check (`set`, `check property`):
            /// those with a setter.
            pub const NAMES: &'static [&'static str] = &[ $( $( { let _ = $com_set; $name }, )? )* ];

            /// Which property this is a value of.
            pub const fn prop(&self) -> Prop {
                match self {
                    $( PropertyValue::$var(_) => Prop::$var, )*
                }
            }
        }

        impl Service {
            /// Any property of job `job`, by its declaration (the typed getter it names).
            pub fn get_property(&self, app: AppId, job: JobId, prop: Prop) -> Result<PropertyValue, HResult> {
                Ok(match prop {
                    $( Prop::$var => PropertyValue::$var(($to_value)(self.$get(app, job)?)), )*
                })
            }

            /// Set any property of job `job` (the typed setter its declaration names).
            /// BG_E_READ_ONLY_PROPERTY for a property without a setter.
            pub fn set_property(&mut self, app: AppId, job: JobId, value: &PropertyValue) -> Result<(), HResult> {
                match value {
                    $( PropertyValue::$var(_v) => {
                        $( return self.$set(app, job, ($to_arg)(_v)); )?
                        #[allow(unreachable_code)]
                        Err(HResult::BG_E_READ_ONLY_PROPERTY)
                    } )*
                }
            }
        }
    };
}
for_each_job_property!(declare);

/// Read-only properties `check property` reads by name besides the settable ones (part 2 of the
/// scenario contract).
pub const CHECK_ONLY_NAMES: &[&str] = &["owner_integrity_level", "owner_elevation_state"];

/// A property value as scenario files write it: a string, a number, a priority, flags, a
/// boolean, a 64-bit number or a GUID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scalar {
    /// A JSON string.
    Text(String),
    /// A JSON number (u32).
    Number(u32),
    /// A priority name or a raw number.
    Priority(PriorityValue),
    /// Flags (written as the contract's flags convention; compared as a number).
    Flags(u32),
    /// A JSON boolean.
    Bool(bool),
    /// A JSON number (u64).
    Wide(u64),
    /// A GUID (`{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}`), as its 128-bit value.
    Guid(u128),
    /// Proxy settings (`{ "usage", "list", "bypass" }`).
    Proxy(ProxyValue),
    /// A JSON string or null.
    OptText(Option<String>),
    /// A command line (`{ "program", "parameters" }`, each a string or null).
    CmdLine(CmdLineValue),
}

/// The names a flags property takes in scenario files: each constant's name without its prefix,
/// and its value (the contract's flags convention).
pub type FlagNames = &'static [(&'static str, u32)];

/// The kind of [`Scalar`] a property takes in scenario files.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ScalarKind {
    /// A string.
    Text,
    /// A u32.
    Number,
    /// A priority name or a raw number.
    Priority,
    /// Flags with these names.
    Flags(FlagNames),
    /// A boolean.
    Bool,
    /// A u64.
    Wide,
    /// A GUID.
    Guid,
    /// Proxy settings.
    Proxy,
    /// A string or null.
    OptText,
    /// A command line.
    CmdLine,
}

impl Prop {
    /// Every property, in table order.
    pub fn all() -> impl Iterator<Item = Prop> {
        PROPERTIES.iter().map(|d| d.prop)
    }

    /// The property called `name` in scenario files.
    pub fn from_name(name: &str) -> Option<Prop> {
        PROPERTIES.iter().find(|d| d.name == name).map(|d| d.prop)
    }

    /// The name in scenario files.
    pub const fn name(self) -> &'static str {
        self.decl().name
    }

    /// Whether the property has a setter.
    pub const fn is_settable(self) -> bool {
        self.decl().setter.is_some()
    }

    /// The scalar a scenario file gives for this property (`None`: not a scalar, not in scenarios).
    pub fn scalar_kind(self) -> Option<ScalarKind> {
        match self {
            Prop::DisplayName | Prop::Description | Prop::Owner | Prop::HttpMethod => {
                Some(ScalarKind::Text)
            }
            Prop::ProxySettings => Some(ScalarKind::Proxy),
            Prop::NotifyCmdLine => Some(ScalarKind::CmdLine),
            Prop::UseStoredCredentials => Some(ScalarKind::Flags(http::AUTH_TARGET_NAMES)),
            Prop::SecurityFlags => Some(ScalarKind::Flags(http::SECURITY_FLAG_NAMES)),
            Prop::CustomHeaders | Prop::ReplyFileName => Some(ScalarKind::OptText),
            Prop::Priority => Some(ScalarKind::Priority),
            Prop::NotifyFlags
            | Prop::MinimumRetryDelay
            | Prop::NoProgressTimeout
            | Prop::ErrorCount => Some(ScalarKind::Number),
            Prop::State | Prop::Type | Prop::Progress | Prop::Times => None,
            Prop::FileAclFlags => Some(ScalarKind::Flags(options::FILE_ACL_FLAG_NAMES)),
            Prop::PeerCachingFlags => Some(ScalarKind::Flags(options::PEER_CACHING_FLAG_NAMES)),
            Prop::CostFlags => Some(ScalarKind::Flags(options::COST_FLAG_NAMES)),
            Prop::MaximumDownloadTime | Prop::MinimumNotificationIntervalMs => {
                Some(ScalarKind::Number)
            }
            Prop::OwnerIntegrityLevel => Some(ScalarKind::Flags(options::INTEGRITY_NAMES)),
            Prop::OwnerElevationState
            | Prop::DynamicContent
            | Prop::HighPerformance
            | Prop::OnDemandMode => Some(ScalarKind::Bool),
            Prop::NotificationClsid => Some(ScalarKind::Guid),
            Prop::MaxDownloadSize => Some(ScalarKind::Wide),
        }
    }

    /// What a number of this property means, for error messages of scenario files.
    pub const fn number_hint(self) -> &'static str {
        match self {
            Prop::NotifyFlags => "notify flags",
            Prop::MinimumRetryDelay => "a delay in seconds",
            Prop::NoProgressTimeout => "a timeout in seconds",
            Prop::Priority => "a raw priority value",
            Prop::FileAclFlags => "file ACL flags",
            Prop::PeerCachingFlags => "peer caching flags",
            Prop::CostFlags => "cost flags",
            Prop::MaximumDownloadTime => "a time in seconds",
            Prop::MinimumNotificationIntervalMs => "an interval in milliseconds",
            Prop::OwnerIntegrityLevel => "an integrity level",
            Prop::MaxDownloadSize => "a size in bytes",
            Prop::UseStoredCredentials => "a BG_AUTH_TARGET (SERVER, PROXY or an integer)",
            Prop::SecurityFlags => "security flags",
            _ => "a number",
        }
    }
}

impl PropertyValue {
    /// The value of `prop` given as a scenario scalar, if it is of the right kind.
    pub fn from_scalar(prop: Prop, s: Scalar) -> Option<PropertyValue> {
        Some(match (prop, s) {
            (Prop::DisplayName, Scalar::Text(t)) => PropertyValue::DisplayName(t),
            (Prop::Description, Scalar::Text(t)) => PropertyValue::Description(t),
            (Prop::Owner, Scalar::Text(t)) => PropertyValue::Owner(t),
            (Prop::Priority, Scalar::Priority(p)) => PropertyValue::Priority(p),
            (Prop::NotifyFlags, Scalar::Number(n)) => PropertyValue::NotifyFlags(n),
            (Prop::MinimumRetryDelay, Scalar::Number(n)) => PropertyValue::MinimumRetryDelay(n),
            (Prop::NoProgressTimeout, Scalar::Number(n)) => PropertyValue::NoProgressTimeout(n),
            (Prop::ErrorCount, Scalar::Number(n)) => PropertyValue::ErrorCount(n),
            (Prop::FileAclFlags, Scalar::Flags(n)) => PropertyValue::FileAclFlags(n),
            (Prop::PeerCachingFlags, Scalar::Flags(n)) => PropertyValue::PeerCachingFlags(n),
            (Prop::CostFlags, Scalar::Flags(n)) => PropertyValue::CostFlags(n),
            (Prop::OwnerIntegrityLevel, Scalar::Flags(n)) => PropertyValue::OwnerIntegrityLevel(n),
            (Prop::MaximumDownloadTime, Scalar::Number(n)) => PropertyValue::MaximumDownloadTime(n),
            (Prop::MinimumNotificationIntervalMs, Scalar::Number(n)) => {
                PropertyValue::MinimumNotificationIntervalMs(n)
            }
            (Prop::OwnerElevationState, Scalar::Bool(b)) => PropertyValue::OwnerElevationState(b),
            (Prop::DynamicContent, Scalar::Bool(b)) => PropertyValue::DynamicContent(b),
            (Prop::HighPerformance, Scalar::Bool(b)) => PropertyValue::HighPerformance(b),
            (Prop::OnDemandMode, Scalar::Bool(b)) => PropertyValue::OnDemandMode(b),
            (Prop::NotificationClsid, Scalar::Guid(g)) => PropertyValue::NotificationClsid(g),
            (Prop::MaxDownloadSize, Scalar::Wide(n)) => PropertyValue::MaxDownloadSize(n),
            (Prop::HttpMethod, Scalar::Text(t)) => PropertyValue::HttpMethod(t),
            (Prop::ProxySettings, Scalar::Proxy(p)) => PropertyValue::ProxySettings(p),
            (Prop::NotifyCmdLine, Scalar::CmdLine(c)) => PropertyValue::NotifyCmdLine(c),
            (Prop::UseStoredCredentials, Scalar::Flags(n)) => {
                PropertyValue::UseStoredCredentials(n)
            }
            (Prop::SecurityFlags, Scalar::Flags(n)) => PropertyValue::SecurityFlags(n),
            (Prop::CustomHeaders, Scalar::OptText(t)) => PropertyValue::CustomHeaders(t),
            (Prop::ReplyFileName, Scalar::OptText(t)) => PropertyValue::ReplyFileName(t),
            _ => return None,
        })
    }

    /// The value as a scenario scalar (`None` for values scenarios do not write).
    pub fn scalar(&self) -> Option<Scalar> {
        Some(match self {
            PropertyValue::DisplayName(t)
            | PropertyValue::Description(t)
            | PropertyValue::Owner(t)
            | PropertyValue::HttpMethod(t) => Scalar::Text(t.clone()),
            PropertyValue::ProxySettings(p) => Scalar::Proxy(p.clone()),
            PropertyValue::NotifyCmdLine(c) => Scalar::CmdLine(c.clone()),
            PropertyValue::UseStoredCredentials(n) | PropertyValue::SecurityFlags(n) => {
                Scalar::Flags(*n)
            }
            PropertyValue::CustomHeaders(t) | PropertyValue::ReplyFileName(t) => {
                Scalar::OptText(t.clone())
            }
            PropertyValue::Priority(p) => Scalar::Priority(*p),
            PropertyValue::NotifyFlags(n)
            | PropertyValue::MinimumRetryDelay(n)
            | PropertyValue::NoProgressTimeout(n)
            | PropertyValue::ErrorCount(n)
            | PropertyValue::MaximumDownloadTime(n)
            | PropertyValue::MinimumNotificationIntervalMs(n) => Scalar::Number(*n),
            PropertyValue::FileAclFlags(n)
            | PropertyValue::PeerCachingFlags(n)
            | PropertyValue::CostFlags(n)
            | PropertyValue::OwnerIntegrityLevel(n) => Scalar::Flags(*n),
            PropertyValue::OwnerElevationState(b)
            | PropertyValue::DynamicContent(b)
            | PropertyValue::HighPerformance(b)
            | PropertyValue::OnDemandMode(b) => Scalar::Bool(*b),
            PropertyValue::NotificationClsid(g) => Scalar::Guid(*g),
            PropertyValue::MaxDownloadSize(n) => Scalar::Wide(*n),
            PropertyValue::State(_)
            | PropertyValue::Type(_)
            | PropertyValue::Progress(_)
            | PropertyValue::Times(_) => return None,
        })
    }

    /// The property's name in scenario files.
    pub const fn property(&self) -> &'static str {
        self.prop().name()
    }

    /// The COM setter (the getter for a read-only property, which has none).
    pub const fn setter(&self) -> &'static str {
        match self.prop().decl().setter {
            Some(s) => s,
            None => self.prop().decl().getter,
        }
    }

    /// The COM getter.
    pub const fn getter(&self) -> &'static str {
        self.prop().decl().getter
    }

    /// Whether `actual` (what the getter returned) is this value: priorities compare by number.
    pub fn matches(&self, actual: &PropertyValue) -> bool {
        match (self, actual) {
            (PropertyValue::Priority(a), PropertyValue::Priority(b)) => a.value() == b.value(),
            (a, b) => a == b,
        }
    }

    /// The value as a report shows it.
    pub fn show(&self) -> String {
        match self.scalar() {
            Some(Scalar::Text(s)) => quote(&s),
            Some(Scalar::Number(n)) => n.to_string(),
            Some(Scalar::Priority(p)) => p.to_string(),
            Some(Scalar::Flags(n)) => format!("{n:#010X}").replacen("0X", "0x", 1),
            Some(Scalar::Bool(b)) => b.to_string(),
            Some(Scalar::Wide(n)) => n.to_string(),
            Some(Scalar::Guid(g)) => show_guid(g),
            Some(Scalar::Proxy(p)) => format!(
                "{{usage {}, list {}, bypass {}}}",
                p.usage,
                p.list.as_deref().map_or("null".to_string(), quote),
                p.bypass.as_deref().map_or("null".to_string(), quote)
            ),
            Some(Scalar::OptText(t)) => t.as_deref().map_or("null".to_string(), quote),
            Some(Scalar::CmdLine(c)) => format!(
                "{{program {}, parameters {}}}",
                c.program.as_deref().map_or("null".to_string(), quote),
                c.parameters.as_deref().map_or("null".to_string(), quote)
            ),
            None => match self {
                PropertyValue::State(s) => s.to_string(),
                PropertyValue::Type(t) => t.to_string(),
                other => format!("{other:?}"),
            },
        }
    }
}

/// `s` as a JSON string literal for reports, cut after 80 characters (as scenario reports quote).
fn quote(s: &str) -> String {
    const MAX: usize = 80;
    let shown: String = s.chars().take(MAX).collect();
    let mut out = serde_json::to_string(&shown).unwrap_or_else(|_| format!("\"{shown}\""));
    if s.chars().count() > MAX {
        out.insert(out.len() - 1, '…');
    }
    out
}

/// A GUID's text as BITS and scenario files write it: lowercase hex, braced.
pub(crate) fn show_guid(v: u128) -> String {
    let h = format!("{v:032x}");
    format!(
        "{{{}-{}-{}-{}-{}}}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// A priority: a BG_JOB_PRIORITY name or any raw number (so that invalid values can be tried).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PriorityValue {
    /// `FOREGROUND`, `HIGH`, `NORMAL` or `LOW`.
    Named(Priority),
    /// A raw integer.
    Raw(u32),
}

impl PriorityValue {
    /// The number passed to SetPriority.
    pub const fn value(self) -> u32 {
        match self {
            PriorityValue::Named(p) => p.value(),
            PriorityValue::Raw(n) => n,
        }
    }
}

impl fmt::Display for PriorityValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PriorityValue::Named(p) => write!(f, "{p}"),
            PriorityValue::Raw(n) => match Priority::from_value(*n) {
                Some(p) => write!(f, "{p}"),
                None => write!(f, "{n}"),
            },
        }
    }
}

/// GetNotifyCmdLine / SetNotifyCmdLine as scenario files write them: the program and the
/// parameters (`None`: NULL; GetNotifyCmdLine never returns NULL, D49).
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct CmdLineValue {
    /// The program's full path.
    pub program: Option<String>,
    /// Its parameters.
    pub parameters: Option<String>,
}

impl CmdLineValue {
    /// The arguments of SetNotifyCmdLine.
    pub fn args(&self) -> (Option<&str>, Option<&str>) {
        (self.program.as_deref(), self.parameters.as_deref())
    }
}

impl From<(String, String)> for CmdLineValue {
    fn from((program, parameters): (String, String)) -> CmdLineValue {
        CmdLineValue {
            program: Some(program),
            parameters: Some(parameters),
        }
    }
}

/// `GetProxySettings`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ProxySettings {
    /// The usage (PRECONFIG by default).
    pub usage: ProxyUsage,
    /// The proxy list (none by default).
    pub proxy_list: Option<String>,
    /// The bypass list (none by default).
    pub bypass_list: Option<String>,
}

mod behaviour;
pub(crate) mod http;
pub(crate) mod options;

pub use http::{CertificateBy, ProxyValue};

#[cfg(test)]
mod tests;
