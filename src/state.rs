//! The BITS enumerations with their real numeric values (spec §1.1, §2.9, §4.1, §5.1).
//!
//! `Display` and serde use the BITS spelling without the `BG_JOB_STATE_` style prefix
//! (`TRANSIENT_ERROR`, `REMOTE_FILE`), the form the scenario files use.

use serde::{Deserialize, Serialize};
use std::fmt;

/// `BG_SIZE_UNKNOWN`: a byte count that is not known yet (spec §2.9, §8.1).
pub const BG_SIZE_UNKNOWN: u64 = u64::MAX;
/// `BG_JOB_ENUM_ALL_USERS`: the EnumJobs flag asking for every user's jobs (spec §2.1, administrators only).
pub const BG_JOB_ENUM_ALL_USERS: u32 = 0x0001;

macro_rules! bits_enum {
    (
        $(#[$meta:meta])*
        $name:ident : $prefix:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal => $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[repr(u8)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant = $value, )+
        }

        impl $name {
            /// Every value, in numeric order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The numeric value BITS uses.
            pub const fn value(self) -> u32 {
                self as u32
            }

            /// The value with this number, if there is one.
            pub const fn from_value(v: u32) -> Option<$name> {
                match v {
                    $( $value => Some($name::$variant), )+
                    _ => None,
                }
            }

            /// The BITS name without its prefix (`TRANSIENT_ERROR`).
            pub const fn name(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )+
                }
            }

            /// The full name of the C constant (`BG_JOB_STATE_TRANSIENT_ERROR`).
            pub fn c_name(self) -> String {
                format!("{}{}", $prefix, self.name())
            }

            /// Parse the name without prefix, as written in scenario files.
            pub fn from_name(s: &str) -> Option<$name> {
                match s {
                    $( $text => Some($name::$variant), )+
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

bits_enum! {
    /// `BG_JOB_STATE` (spec §1.1).
    JobState: "BG_JOB_STATE_" {
        /// Waiting for the scheduler (or for the owner to log on).
        Queued = 0 => "QUEUED",
        /// Contacting the server.
        Connecting = 1 => "CONNECTING",
        /// Bytes are moving.
        Transferring = 2 => "TRANSFERRING",
        /// Paused; every new job starts here.
        Suspended = 3 => "SUSPENDED",
        /// A fatal error; BITS does nothing until the application intervenes.
        Error = 4 => "ERROR",
        /// A recoverable error; BITS retries on its own.
        TransientError = 5 => "TRANSIENT_ERROR",
        /// Every file moved; waiting for Complete.
        Transferred = 6 => "TRANSFERRED",
        /// Complete succeeded (final).
        Acknowledged = 7 => "ACKNOWLEDGED",
        /// Cancelled (final).
        Cancelled = 8 => "CANCELLED",
    }
}

impl JobState {
    /// ACKNOWLEDGED or CANCELLED: the job never leaves these (spec §1.3).
    pub const fn is_final(self) -> bool {
        matches!(self, JobState::Acknowledged | JobState::Cancelled)
    }
    /// ERROR or TRANSIENT_ERROR.
    pub const fn is_error(self) -> bool {
        matches!(self, JobState::Error | JobState::TransientError)
    }
    /// The "action" class of spec §1.1: QUEUED, CONNECTING, TRANSFERRING and TRANSIENT_ERROR.
    pub const fn is_active(self) -> bool {
        matches!(
            self,
            JobState::Queued
                | JobState::Connecting
                | JobState::Transferring
                | JobState::TransientError
        )
    }
    /// CONNECTING or TRANSFERRING: the job holds a transfer slot of the scheduler (D12).
    pub const fn is_running(self) -> bool {
        matches!(self, JobState::Connecting | JobState::Transferring)
    }
}

bits_enum! {
    /// `BG_JOB_TYPE` (spec §2.9).
    JobType: "BG_JOB_TYPE_" {
        /// Download one or more files.
        Download = 0 => "DOWNLOAD",
        /// Upload exactly one file.
        Upload = 1 => "UPLOAD",
        /// Upload one file and receive a reply.
        UploadReply = 2 => "UPLOAD_REPLY",
    }
}

impl JobType {
    /// UPLOAD or UPLOAD_REPLY.
    pub const fn is_upload(self) -> bool {
        !matches!(self, JobType::Download)
    }
}

bits_enum! {
    /// `BG_JOB_PRIORITY` (spec §2.9, §1.6). Lower value = higher priority.
    Priority: "BG_JOB_PRIORITY_" {
        /// Transfers at once, beside every other foreground job.
        Foreground = 0 => "FOREGROUND",
        /// The highest background priority.
        High = 1 => "HIGH",
        /// The default.
        Normal = 2 => "NORMAL",
        /// The lowest background priority.
        Low = 3 => "LOW",
    }
}

impl Priority {
    /// FOREGROUND jobs all run at once; the others share one background slot (D12).
    pub const fn is_foreground(self) -> bool {
        matches!(self, Priority::Foreground)
    }
}

bits_enum! {
    /// `BG_ERROR_CONTEXT` (spec §4.1): where an error happened.
    ErrorContext: "BG_ERROR_CONTEXT_" {
        /// No error.
        None = 0 => "NONE",
        /// Origin unknown.
        Unknown = 1 => "UNKNOWN",
        /// The BITS queue manager itself.
        GeneralQueueManager = 2 => "GENERAL_QUEUE_MANAGER",
        /// While notifying the application.
        QueueManagerNotification = 3 => "QUEUE_MANAGER_NOTIFICATION",
        /// The local file.
        LocalFile = 4 => "LOCAL_FILE",
        /// The remote file or URL.
        RemoteFile = 5 => "REMOTE_FILE",
        /// The transport layer, not tied to a file.
        GeneralTransport = 6 => "GENERAL_TRANSPORT",
        /// The server application that received an upload.
        RemoteApplication = 7 => "REMOTE_APPLICATION",
    }
}

impl ErrorContext {
    /// The message id whose text `GetErrorContextDescription` returns (spec §4.3, \[INFERRED\] there).
    pub const fn message_id(self) -> crate::HResult {
        use crate::HResult as H;
        match self {
            ErrorContext::None => H::BG_S_ERROR_CONTEXT_NONE,
            ErrorContext::Unknown => H::BG_E_ERROR_CONTEXT_UNKNOWN,
            ErrorContext::GeneralQueueManager => H::BG_E_ERROR_CONTEXT_GENERAL_QUEUE_MANAGER,
            ErrorContext::QueueManagerNotification => {
                H::BG_E_ERROR_CONTEXT_QUEUE_MANAGER_NOTIFICATION
            }
            ErrorContext::LocalFile => H::BG_E_ERROR_CONTEXT_LOCAL_FILE,
            ErrorContext::RemoteFile => H::BG_E_ERROR_CONTEXT_REMOTE_FILE,
            ErrorContext::GeneralTransport => H::BG_E_ERROR_CONTEXT_GENERAL_TRANSPORT,
            ErrorContext::RemoteApplication => H::BG_E_ERROR_CONTEXT_REMOTE_APPLICATION,
        }
    }
}

/// `BG_NOTIFY_*` flags (spec §5.1). Holds any bits so that invalid values can be passed to
/// `SetNotifyFlags`, which refuses unknown bits with E_NOTIMPL (D14).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NotifyFlags(pub u32);

impl NotifyFlags {
    /// `BG_NOTIFY_JOB_TRANSFERRED`.
    pub const JOB_TRANSFERRED: NotifyFlags = NotifyFlags(0x0001);
    /// `BG_NOTIFY_JOB_ERROR`.
    pub const JOB_ERROR: NotifyFlags = NotifyFlags(0x0002);
    /// `BG_NOTIFY_DISABLE`: every notification off, other bits ignored.
    pub const DISABLE: NotifyFlags = NotifyFlags(0x0004);
    /// `BG_NOTIFY_JOB_MODIFICATION`.
    pub const JOB_MODIFICATION: NotifyFlags = NotifyFlags(0x0008);
    /// `BG_NOTIFY_FILE_TRANSFERRED` (BITS 3.0; delivered as Callback2 FileTransferred, D60).
    pub const FILE_TRANSFERRED: NotifyFlags = NotifyFlags(0x0010);
    /// `BG_NOTIFY_FILE_RANGES_TRANSFERRED` (BITS 10.1; delivered for on-demand transfers, D61, D76).
    pub const FILE_RANGES_TRANSFERRED: NotifyFlags = NotifyFlags(0x0020);
    /// Every defined bit.
    pub const ALL_KNOWN: NotifyFlags = NotifyFlags(0x003F);
    /// The default of a new job: TRANSFERRED | ERROR = 0x3 (spec §5.1, §10 item 1).
    pub const DEFAULT: NotifyFlags = NotifyFlags(0x0003);

    /// The raw bits.
    pub const fn bits(self) -> u32 {
        self.0
    }
    /// True when every bit of `other` is set.
    pub const fn contains(self, other: NotifyFlags) -> bool {
        self.0 & other.0 == other.0
    }
    /// True when only defined bits are set.
    pub const fn is_known(self) -> bool {
        self.0 & !Self::ALL_KNOWN.0 == 0
    }
    /// Whether the event with flag `flag` is delivered: its bit set and DISABLE clear (D11).
    pub const fn delivers(self, flag: NotifyFlags) -> bool {
        !self.contains(Self::DISABLE) && self.contains(flag)
    }
}

impl std::ops::BitOr for NotifyFlags {
    type Output = NotifyFlags;
    fn bitor(self, o: NotifyFlags) -> NotifyFlags {
        NotifyFlags(self.0 | o.0)
    }
}

impl fmt::Debug for NotifyFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NotifyFlags({:#x})", self.0)
    }
}

impl fmt::Display for NotifyFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

/// `BG_JOB_PROXY_USAGE` (spec §2.9); only the default is modelled, kept for `GetProxySettings`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub enum ProxyUsage {
    /// `BG_JOB_PROXY_USAGE_PRECONFIG` (0), the default.
    #[default]
    #[serde(rename = "PRECONFIG")]
    Preconfig = 0,
    /// `BG_JOB_PROXY_USAGE_NO_PROXY` (1).
    #[serde(rename = "NO_PROXY")]
    NoProxy = 1,
    /// `BG_JOB_PROXY_USAGE_OVERRIDE` (2).
    #[serde(rename = "OVERRIDE")]
    Override = 2,
    /// `BG_JOB_PROXY_USAGE_AUTODETECT` (3).
    #[serde(rename = "AUTODETECT")]
    Autodetect = 3,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bg_job_state_values_match_spec_1_1() {
        let expected = [
            ("QUEUED", 0),
            ("CONNECTING", 1),
            ("TRANSFERRING", 2),
            ("SUSPENDED", 3),
            ("ERROR", 4),
            ("TRANSIENT_ERROR", 5),
            ("TRANSFERRED", 6),
            ("ACKNOWLEDGED", 7),
            ("CANCELLED", 8),
        ];
        assert_eq!(JobState::ALL.len(), 9);
        for (s, (name, v)) in JobState::ALL.iter().zip(expected) {
            assert_eq!(s.name(), name);
            assert_eq!(s.value(), v);
            assert_eq!(JobState::from_value(v), Some(*s));
            assert_eq!(serde_json::to_string(s).unwrap(), format!("\"{name}\""));
        }
        assert_eq!(
            JobState::TransientError.c_name(),
            "BG_JOB_STATE_TRANSIENT_ERROR"
        );
        assert_eq!(JobState::from_value(9), None);
    }

    #[test]
    fn other_enums_match_spec_2_9_and_4_1() {
        assert_eq!(JobType::UploadReply.value(), 2);
        assert_eq!(Priority::Foreground.value(), 0);
        assert_eq!(Priority::Low.value(), 3);
        assert_eq!(ErrorContext::RemoteFile.value(), 5);
        assert_eq!(ErrorContext::RemoteApplication.value(), 7);
        assert_eq!(
            ErrorContext::from_name("LOCAL_FILE"),
            Some(ErrorContext::LocalFile)
        );
        assert_eq!(
            format!("{}", ErrorContext::GeneralTransport),
            "GENERAL_TRANSPORT"
        );
        assert_eq!(BG_SIZE_UNKNOWN, 0xFFFF_FFFF_FFFF_FFFF);
        assert_eq!(BG_JOB_ENUM_ALL_USERS, 1);
    }

    #[test]
    fn notify_flags_match_spec_5_1() {
        assert_eq!(NotifyFlags::DEFAULT.bits(), 3);
        assert_eq!(NotifyFlags::JOB_MODIFICATION.bits(), 8);
        assert!(NotifyFlags(0x3F).is_known());
        assert!(!NotifyFlags(0x40).is_known());
        assert!(NotifyFlags(0x3).delivers(NotifyFlags::JOB_ERROR));
        assert!(!NotifyFlags(0x7).delivers(NotifyFlags::JOB_ERROR));
    }

    #[test]
    fn state_classes() {
        let finals: Vec<_> = JobState::ALL.iter().filter(|s| s.is_final()).collect();
        assert_eq!(finals, [&JobState::Acknowledged, &JobState::Cancelled]);
        assert!(JobState::TransientError.is_active());
        assert!(!JobState::Suspended.is_active());
    }
}
