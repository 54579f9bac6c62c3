//! The job's error record (D1) and what a failure reports to the state machine.
//!
//! An [`ErrorReport`] travels inside the engine event that announces a failure (T6, T9, T10, T18, T25,
//! T26); the transition table hands it on, and the job's entry into ERROR or TRANSIENT_ERROR turns it
//! into the [`ErrorRecord`] that `GetError` reports.

use crate::hresult::HResult;
use crate::names::starts_with_ignore_ascii_case;
use crate::state::ErrorContext;
use crate::time::SimTime;
use serde::{Deserialize, Serialize};

/// The job's error record (D1): what `GetError` reports.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ErrorRecord {
    /// Where the error happened.
    pub context: ErrorContext,
    /// The failing HRESULT.
    pub code: HResultField,
    /// The file (index) the error is about; `None` gives BG_E_FILE_NOT_AVAILABLE.
    pub file: Option<u32>,
    /// The protocol ("http" or "file"); `None` gives BG_E_PROTOCOL_NOT_AVAILABLE.
    pub protocol: Option<Protocol>,
    /// When the record was created.
    pub time: SimTime,
}

/// The HRESULT stored in an error record.
pub type HResultField = HResult;

/// The transfer protocol of a file, as `IBackgroundCopyError::GetProtocol` names it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum Protocol {
    /// HTTP or HTTPS.
    Http,
    /// SMB (UNC paths, `file://`).
    File,
}

impl Protocol {
    /// "http" or "file" (spec §2.7).
    pub const fn as_str(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::File => "file",
        }
    }
    /// The protocol of a remote name.
    pub fn of(remote: &str) -> Protocol {
        if starts_with_ignore_ascii_case(remote, "http://")
            || starts_with_ignore_ascii_case(remote, "https://")
        {
            Protocol::Http
        } else {
            Protocol::File
        }
    }
}

/// What a failure reports: the error record to create (D1) when the job enters ERROR or
/// TRANSIENT_ERROR, carried inside the engine event that announces the failure.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct ErrorReport {
    /// Where the error happened (D5 classification, or LOCAL_FILE for a missing upload source).
    pub context: ErrorContext,
    /// The failing HRESULT.
    pub code: HResult,
    /// The file the error is about.
    pub file: Option<u32>,
    /// That file's protocol.
    pub protocol: Option<Protocol>,
    /// A condition BITS waits out instead of retrying: the machine lost its network (T18) or the
    /// network's cost blocks the job (T21a, D53). No error-count bump (D6) and no retry timer (D3).
    pub network_loss: bool,
}

impl ErrorReport {
    /// T18: the record of a network loss — BG_E_NETWORK_DISCONNECTED, GENERAL_TRANSPORT, no file.
    pub const NETWORK_LOST: ErrorReport = ErrorReport {
        context: ErrorContext::GeneralTransport,
        code: HResult::BG_E_NETWORK_DISCONNECTED,
        file: None,
        protocol: None,
        network_loss: true,
    };

    /// T21a (D53): the network's cost is one the job's cost flags do not allow —
    /// BG_E_BLOCKED_BY_COST_TRANSFER_POLICY, GENERAL_QUEUE_MANAGER, no file; waited out like a
    /// network loss.
    pub const COST_BLOCKED: ErrorReport = ErrorReport {
        context: ErrorContext::GeneralQueueManager,
        code: HResult::BG_E_BLOCKED_BY_COST_TRANSFER_POLICY,
        file: None,
        protocol: None,
        network_loss: true,
    };

    /// T21 (D99): Group Policy allows background transfers no bandwidth now —
    /// BG_E_BLOCKED_BY_POLICY, GENERAL_QUEUE_MANAGER, no file; waited out like a network loss.
    pub const POLICY_BLOCKED: ErrorReport = ErrorReport {
        context: ErrorContext::GeneralQueueManager,
        code: HResult::BG_E_BLOCKED_BY_POLICY,
        file: None,
        protocol: None,
        network_loss: true,
    };

    /// T23 (D55): the job used up its MaxDownloadTime — BG_E_MAXDOWNLOAD_TIMEOUT,
    /// GENERAL_QUEUE_MANAGER, no file.
    pub const MAX_DOWNLOAD_TIMEOUT: ErrorReport = ErrorReport {
        context: ErrorContext::GeneralQueueManager,
        code: HResult::BG_E_MAXDOWNLOAD_TIMEOUT,
        file: None,
        protocol: None,
        network_loss: false,
    };

    /// A transfer error about file `file` whose remote name is `remote`.
    pub fn transfer(context: ErrorContext, code: HResult, file: u32, remote: &str) -> ErrorReport {
        ErrorReport {
            context,
            code,
            file: Some(file),
            protocol: Some(Protocol::of(remote)),
            network_loss: false,
        }
    }

    /// The record this report becomes at `time`.
    pub fn record(&self, time: SimTime) -> ErrorRecord {
        ErrorRecord {
            context: self.context,
            code: self.code,
            file: self.file,
            protocol: self.protocol,
            time,
        }
    }
}
