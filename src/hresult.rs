//! COM `HRESULT` values as BITS returns them (spec §4.2–§4.4).
//!
//! Every named code lives in ONE table (written once, in ascending numeric order, inside the
//! `hresults!` invocation below). The associated constants, [`HResult::name`],
//! [`HResult::message`], [`HResult::parse`] and [`HResult::all_named`] all derive from it.
//! Messages are our own one-line paraphrases.

use std::fmt;
use std::str::FromStr;

/// A COM HRESULT as BITS returns it.
///
/// Every facade method returns `Result<T, HResult>`. `HResult` implements [`std::error::Error`], so `?`
/// carries it into `Box<dyn Error>` (or `anyhow::Error`) next to other errors; it displays as its
/// symbolic name (`BG_E_NOT_FOUND`), or as `0x8019019A` when it has none, and
/// [`HResult::message`] gives the text.
///
/// ```
/// use bitsim::{HResult, JobType, Sim};
/// use std::error::Error;
///
/// fn run() -> Result<(), Box<dyn Error>> {
///     let sim = Sim::default();
///     let app = sim.connect("app", sim.user("alice"))?;
///     let job = app.create_job("nothing to do", JobType::Download)?;
///     job.resume()?; // BG_E_EMPTY: a job without files cannot be resumed (T3)
///     Ok(())
/// }
/// let err = run().unwrap_err();
/// assert_eq!(err.to_string(), "BG_E_EMPTY");
/// assert_eq!(err.downcast_ref::<HResult>(), Some(&HResult::BG_E_EMPTY));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HResult(u32);

/// Expands the single code list into the associated constants, the lookup table and the name list.
macro_rules! hresults {
    ($($name:ident = $val:literal, $msg:literal;)*) => {
        impl HResult {
            $(
                #[doc = concat!($msg, " (`", stringify!($val), "`)")]
                pub const $name: HResult = HResult($val);
            )*
        }
        /// (value, primary name, message), strictly ascending by value.
        const ENTRIES: &[(HResult, &str, &str)] = &[$((HResult::$name, stringify!($name), $msg),)*];
        /// (value, primary name), same order as `ENTRIES`.
        const NAMED: &[(HResult, &str)] = &[$((HResult::$name, stringify!($name)),)*];
    };
}

hresults! {
    // ---- success codes ----
    S_OK = 0x0000_0000, "The operation succeeded.";
    S_FALSE = 0x0000_0001, "The operation succeeded but had nothing, or less than asked, to do.";
    BG_S_ERROR_CONTEXT_NONE = 0x0020_0006, "No error has happened.";
    BG_S_PARTIAL_COMPLETE = 0x0020_0017, "Only the fully transferred files were kept; the others were deleted.";
    BG_S_UNABLE_TO_DELETE_FILES = 0x0020_001A, "The call succeeded, but some temporary files could not be deleted.";
    BG_S_PROXY_CHANGED = 0x0020_002A, "The proxy server in use has changed.";
    BG_S_OVERRIDDEN_BY_POLICY = 0x0020_0055, "The setting was stored, but a Group Policy takes precedence over it.";
    // ---- generic COM / RPC ----
    E_PENDING = 0x8000_000A, "The data needed to finish the operation is not available yet.";
    E_NOTIMPL = 0x8000_4001, "The operation is not implemented for these arguments or this job type.";
    E_NOINTERFACE = 0x8000_4002, "The object does not support the requested interface.";
    E_POINTER = 0x8000_4003, "A required pointer argument was null.";
    E_FAIL = 0x8000_4005, "The operation failed for an unspecified reason.";
    E_UNEXPECTED = 0x8000_FFFF, "An unexpected failure occurred.";
    RPC_E_DISCONNECTED = 0x8001_0108, "The object is no longer connected to its client.";
    RPC_E_CANTCALLOUT_ININPUTSYNCCALL = 0x8001_010D, "No outgoing call can be made while an input-synchronous call is handled.";
    REGDB_E_CLASSNOTREG = 0x8004_0154, "The class is not registered.";
    // ---- Win32 errors as HRESULT_FROM_WIN32 ----
    ERROR_FILE_NOT_FOUND = 0x8007_0002, "The file could not be found.";
    ERROR_PATH_NOT_FOUND = 0x8007_0003, "The directory path could not be found.";
    E_ACCESSDENIED = 0x8007_0005, "The caller lacks permission for this action.";
    ERROR_NOT_ENOUGH_MEMORY = 0x8007_0008, "There is not enough memory to carry out the request.";
    E_OUTOFMEMORY = 0x8007_000E, "Memory could not be allocated to finish the operation.";
    E_INVALIDARG = 0x8007_0057, "One or more arguments are not valid.";
    ERROR_DISK_FULL = 0x8007_0070, "The disk has no free space left.";
    ERROR_MR_MID_NOT_FOUND = 0x8007_013D, "No message text exists for this code.";
    ERROR_CAN_NOT_COMPLETE = 0x8007_03EB, "The operation could not be finished.";
    ERROR_NOT_LOGGED_ON = 0x8007_04DD, "The operation needs a user who is logged on.";
    RPC_X_NULL_REF_POINTER = 0x8007_06F4, "A null pointer was passed where a reference was required.";
    RPC_X_BAD_STUB_DATA = 0x8007_06F7, "The data passed to the remote call was not valid.";
    ERROR_RESOURCE_LANG_NOT_FOUND = 0x8007_0717, "No text is available in the requested language.";
    ERROR_WINHTTP_TIMEOUT = 0x8007_2EE2, "The network request timed out.";
    ERROR_WINHTTP_NAME_NOT_RESOLVED = 0x8007_2EE7, "The server name could not be resolved to an address.";
    ERROR_WINHTTP_CANNOT_CONNECT = 0x8007_2EFD, "No connection to the server could be made.";
    ERROR_WINHTTP_CONNECTION_ERROR = 0x8007_2EFE, "The connection to the server was reset or ended abnormally.";
    ERROR_WINHTTP_SECURE_CERT_DATE_INVALID = 0x8007_2F05, "The server certificate has expired or is not yet valid.";
    ERROR_WINHTTP_SECURE_CERT_CN_INVALID = 0x8007_2F06, "The server certificate's name does not match the host.";
    ERROR_WINHTTP_CLIENT_AUTH_CERT_NEEDED = 0x8007_2F0C, "The server asks for a client certificate and none was supplied.";
    ERROR_WINHTTP_SECURE_INVALID_CA = 0x8007_2F0D, "The server certificate was issued by an authority that is not trusted.";
    ERROR_WINHTTP_SECURE_CERT_REV_FAILED = 0x8007_2F19, "The revocation status of the server certificate could not be checked.";
    ERROR_WINHTTP_INVALID_SERVER_RESPONSE = 0x8007_2F78, "The server sent a response that could not be understood.";
    ERROR_WINHTTP_REDIRECT_FAILED = 0x8007_2F7C, "A redirection could not be followed.";
    ERROR_WINHTTP_SECURE_CERT_REVOKED = 0x8007_2F8A, "The server certificate has been revoked.";
    ERROR_WINHTTP_SECURE_CERT_WRONG_USAGE = 0x8007_2F93, "The server certificate is not meant for server authentication.";
    // ---- cryptography ----
    CRYPT_E_NOT_FOUND = 0x8009_2004, "No certificate matches the one asked for.";
    // ---- HTTP status codes (FACILITY_HTTP, 0x80190000 + status) ----
    BG_E_HTTP_ERROR_100 = 0x8019_0064, "The server told the client to go on sending the request (HTTP 100).";
    BG_E_HTTP_ERROR_101 = 0x8019_0065, "The server is switching protocols (HTTP 101).";
    BG_E_HTTP_ERROR_200 = 0x8019_00C8, "The server's reply was not what BITS expected (HTTP 200); resume the job to retry.";
    BG_E_HTTP_ERROR_201 = 0x8019_00C9, "The request created a new resource (HTTP 201).";
    BG_E_HTTP_ERROR_202 = 0x8019_00CA, "The request was accepted but not processed yet (HTTP 202).";
    BG_E_HTTP_ERROR_203 = 0x8019_00CB, "The server returned information from a third party (HTTP 203).";
    BG_E_HTTP_ERROR_204 = 0x8019_00CC, "The server handled the request but sent no content (HTTP 204).";
    BG_E_HTTP_ERROR_205 = 0x8019_00CD, "The server's reply was not what BITS expected (HTTP 205); resume the job to retry.";
    BG_E_HTTP_ERROR_206 = 0x8019_00CE, "The server sent only part of the resource (HTTP 206).";
    BG_E_HTTP_ERROR_300 = 0x8019_012C, "The resource is available at several locations (HTTP 300).";
    BG_E_HTTP_ERROR_301 = 0x8019_012D, "The resource has moved for good (HTTP 301).";
    BG_E_HTTP_ERROR_302 = 0x8019_012E, "The resource is temporarily at another location (HTTP 302).";
    BG_E_HTTP_ERROR_303 = 0x8019_012F, "The answer is to be fetched from another URL (HTTP 303).";
    BG_E_HTTP_ERROR_304 = 0x8019_0130, "The server's reply was not what BITS expected (HTTP 304); resume the job to retry.";
    BG_E_HTTP_ERROR_305 = 0x8019_0131, "The resource must be reached through a proxy (HTTP 305).";
    BG_E_HTTP_ERROR_307 = 0x8019_0133, "The resource is temporarily at another URL (HTTP 307).";
    BG_E_HTTP_ERROR_400 = 0x8019_0190, "The server could not understand the request, e.g. a malformed URL (HTTP 400).";
    BG_E_HTTP_ERROR_401 = 0x8019_0191, "The server requires authentication for this resource (HTTP 401).";
    BG_E_HTTP_ERROR_402 = 0x8019_0192, "The server's reply was not what BITS expected (HTTP 402); resume the job to retry.";
    BG_E_HTTP_ERROR_403 = 0x8019_0193, "The server refuses to serve this resource (HTTP 403).";
    BG_E_HTTP_ERROR_404 = 0x8019_0194, "The URL does not exist on the server (HTTP 404).";
    BG_E_HTTP_ERROR_405 = 0x8019_0195, "The HTTP method is not allowed for this resource (HTTP 405).";
    BG_E_HTTP_ERROR_406 = 0x8019_0196, "The server cannot reply in an acceptable format (HTTP 406).";
    BG_E_HTTP_ERROR_407 = 0x8019_0197, "The proxy requires authentication (HTTP 407).";
    BG_E_HTTP_ERROR_408 = 0x8019_0198, "The server gave up waiting for the request (HTTP 408).";
    BG_E_HTTP_ERROR_409 = 0x8019_0199, "The request conflicts with the resource's current state (HTTP 409).";
    BG_E_HTTP_ERROR_410 = 0x8019_019A, "The resource has been removed from the server for good (HTTP 410).";
    BG_E_HTTP_ERROR_411 = 0x8019_019B, "The server insists on a Content-Length header (HTTP 411).";
    BG_E_HTTP_ERROR_412 = 0x8019_019C, "A precondition in the request was not met (HTTP 412).";
    BG_E_HTTP_ERROR_413 = 0x8019_019D, "The request body is larger than the server accepts (HTTP 413).";
    BG_E_HTTP_ERROR_414 = 0x8019_019E, "The URL is too long for the server (HTTP 414).";
    BG_E_HTTP_ERROR_415 = 0x8019_019F, "The server's reply was not what BITS expected (HTTP 415); resume the job to retry.";
    BG_E_HTTP_ERROR_416 = 0x8019_01A0, "The requested byte range cannot be served (HTTP 416).";
    BG_E_HTTP_ERROR_417 = 0x8019_01A1, "The server could not meet the Expect header (HTTP 417).";
    BG_E_HTTP_ERROR_449 = 0x8019_01C1, "The server's reply was not what BITS expected (HTTP 449); resume the job to retry.";
    BG_E_HTTP_ERROR_500 = 0x8019_01F4, "The server hit an internal error (HTTP 500).";
    BG_E_HTTP_ERROR_501 = 0x8019_01F5, "The server does not support the requested function (HTTP 501).";
    BG_E_HTTP_ERROR_502 = 0x8019_01F6, "A gateway or proxy got a bad answer from the upstream server (HTTP 502).";
    BG_E_HTTP_ERROR_503 = 0x8019_01F7, "The server is overloaded or down for now; try again later (HTTP 503).";
    BG_E_HTTP_ERROR_504 = 0x8019_01F8, "A gateway gave up waiting for the upstream server; try again later (HTTP 504).";
    BG_E_HTTP_ERROR_505 = 0x8019_01F9, "The server does not support this HTTP version (HTTP 505).";
    // ---- BITS (FACILITY_BACKGROUNDCOPY) errors ----
    BG_E_NOT_FOUND = 0x8020_0001, "The requested job or item does not exist.";
    BG_E_INVALID_STATE = 0x8020_0002, "The job's current state does not allow this action.";
    BG_E_EMPTY = 0x8020_0003, "The job holds no files; add at least one before resuming it.";
    BG_E_FILE_NOT_AVAILABLE = 0x8020_0004, "This error is not tied to any particular file.";
    BG_E_PROTOCOL_NOT_AVAILABLE = 0x8020_0005, "This error is not tied to any transfer protocol.";
    BG_E_ERROR_CONTEXT_UNKNOWN = 0x8020_0007, "Where the error arose is not known.";
    BG_E_ERROR_CONTEXT_GENERAL_QUEUE_MANAGER = 0x8020_0008, "The error arose in the BITS queue manager.";
    BG_E_ERROR_CONTEXT_LOCAL_FILE = 0x8020_0009, "The error arose while handling the local file.";
    BG_E_ERROR_CONTEXT_REMOTE_FILE = 0x8020_000A, "The error arose while handling the remote file.";
    BG_E_ERROR_CONTEXT_GENERAL_TRANSPORT = 0x8020_000B, "The transport layer failed, so no connection to the server was made.";
    BG_E_ERROR_CONTEXT_QUEUE_MANAGER_NOTIFICATION = 0x8020_000C, "Notifying the application failed; BITS will try again later.";
    BG_E_DESTINATION_LOCKED = 0x8020_000D, "The destination volume is locked or unavailable; BITS retries once it is back.";
    BG_E_VOLUME_CHANGED = 0x8020_000E, "The destination volume was swapped for another; restore it and resume the job.";
    BG_E_ERROR_INFORMATION_UNAVAILABLE = 0x8020_000F, "No error information exists for the job at the moment.";
    BG_E_NETWORK_DISCONNECTED = 0x8020_0010, "No network connection is available; BITS retries when one appears.";
    BG_E_MISSING_FILE_SIZE = 0x8020_0011, "The server did not state the file size (dynamic content?), so it cannot be fetched.";
    BG_E_INSUFFICIENT_HTTP_SUPPORT = 0x8020_0012, "The server does not support HTTP/1.1.";
    BG_E_INSUFFICIENT_RANGE_SUPPORT = 0x8020_0013, "The server or a proxy does not handle byte-range requests properly.";
    BG_E_REMOTE_NOT_SUPPORTED = 0x8020_0014, "BITS cannot be used remotely.";
    BG_E_NEW_OWNER_DIFF_MAPPING = 0x8020_0015, "The new owner maps the job's drive letters differently; use UNC paths.";
    BG_E_NEW_OWNER_NO_FILE_ACCESS = 0x8020_0016, "The new owner cannot reach the job's local or temporary files.";
    BG_E_PROXY_LIST_TOO_LARGE = 0x8020_0018, "The proxy server list is longer than allowed.";
    BG_E_PROXY_BYPASS_LIST_TOO_LARGE = 0x8020_0019, "The proxy bypass list is longer than allowed.";
    BG_E_INVALID_SERVER_RESPONSE = 0x8020_001B, "The server's reply broke the protocol; resume the job to try again.";
    BG_E_TOO_MANY_FILES = 0x8020_001C, "An upload job can hold only one file.";
    BG_E_LOCAL_FILE_CHANGED = 0x8020_001D, "The local file was modified while it was being uploaded.";
    BG_E_ERROR_CONTEXT_REMOTE_APPLICATION = 0x8020_001E, "The program on the server reported the error.";
    BG_E_SESSION_NOT_FOUND = 0x8020_001F, "The server no longer knows the upload session; BITS will retry.";
    BG_E_TOO_LARGE = 0x8020_0020, "The data is larger than the server or the call allows.";
    BG_E_STRING_TOO_LONG = 0x8020_0021, "A string argument is longer than its limit.";
    BG_E_CLIENT_SERVER_PROTOCOL_MISMATCH = 0x8020_0022, "Client and server use incompatible versions of the upload protocol.";
    BG_E_SERVER_EXECUTE_ENABLE = 0x8020_0023, "The server directory allows scripts or executables, so uploads are refused.";
    BG_E_NO_PROGRESS = 0x8020_0024, "The job is making no headway (server misconfigured?); BITS will retry.";
    BG_E_USERNAME_TOO_LARGE = 0x8020_0025, "The user name is longer than 300 characters.";
    BG_E_PASSWORD_TOO_LARGE = 0x8020_0026, "The password is longer than allowed.";
    BG_E_INVALID_AUTH_TARGET = 0x8020_0027, "The authentication target is not a known value.";
    BG_E_INVALID_AUTH_SCHEME = 0x8020_0028, "The authentication scheme is not a known value.";
    BG_E_FILE_NOT_FOUND = 0x8020_0029, "The named file is not part of the job.";
    BG_E_INVALID_RANGE = 0x8020_002B, "A byte range is invalid or lies past the end of the remote file.";
    BG_E_OVERLAPPING_RANGES = 0x8020_002C, "Two or more byte ranges overlap or repeat.";
    BG_E_CONNECT_FAILURE = 0x8020_002D, "A connection to the server could not be set up.";
    BG_E_CONNECTION_CLOSED = 0x8020_002E, "The connection ended before the transfer finished.";
    BG_E_KEEP_ALIVE_FAILURE = 0x8020_002F, "A kept-alive connection was closed unexpectedly.";
    BG_E_MESSAGE_LENGTH_LIMIT_EXCEEDED = 0x8020_0030, "A message was larger than the permitted size.";
    BG_E_NAME_RESOLUTION_FAILURE = 0x8020_0031, "The host name could not be found.";
    BG_E_PENDING = 0x8020_0032, "An internal asynchronous request is still outstanding.";
    BG_E_PIPELINE_FAILURE = 0x8020_0033, "A pipelined request failed.";
    BG_E_PROTOCOL_ERROR = 0x8020_0034, "The server's complete reply signalled a protocol error.";
    BG_E_PROXY_NAME_RESOLUTION_FAILURE = 0x8020_0035, "The proxy host name could not be found.";
    BG_E_RECEIVE_FAILURE = 0x8020_0036, "Only part of the reply arrived.";
    BG_E_REQUEST_CANCELED = 0x8020_0037, "The request was cancelled.";
    BG_E_SECURE_CHANNEL_FAILURE = 0x8020_0038, "A secure (SSL/TLS) channel could not be set up.";
    BG_E_SEND_FAILURE = 0x8020_0039, "The request could not be sent in full.";
    BG_E_SERVER_PROTOCOL_VIOLATION = 0x8020_003A, "The server's reply violated the protocol.";
    BG_E_TIMEOUT = 0x8020_003B, "The operation ran out of time.";
    BG_E_TRUST_FAILURE = 0x8020_003C, "The server's certificate is not trusted.";
    BG_E_UNKNOWN_ERROR = 0x8020_003D, "An error of unknown origin occurred.";
    BG_E_BLOCKED_BY_POLICY = 0x8020_003E, "Group Policy currently forbids background transfers.";
    BG_E_INVALID_PROXY_INFO = 0x8020_003F, "The proxy list or the bypass list is not valid.";
    BG_E_INVALID_CREDENTIALS = 0x8020_0040, "The credentials are not in a valid format.";
    BG_E_INVALID_HASH_ALGORITHM = 0x8020_0041, "The chosen hash algorithm is not supported.";
    BG_E_RECORD_DELETED = 0x8020_0042, "The peer-cache record was deleted, so the update was dropped.";
    BG_E_COMMIT_IN_PROGRESS = 0x8020_0043, "Another thread is already updating this cache record.";
    BG_E_DISCOVERY_IN_PROGRESS = 0x8020_0044, "Peer discovery is already running; try again shortly.";
    BG_E_UPNP_ERROR = 0x8020_0045, "The Internet gateway device reported a UPnP error.";
    BG_E_TEST_OPTION_BLOCKED_DOWNLOAD = 0x8020_0046, "A test option prevented the download.";
    BG_E_PEERCACHING_DISABLED = 0x8020_0047, "Peer caching is turned off.";
    BG_E_BUSYCACHERECORD = 0x8020_0048, "The cache record is in use; try again shortly.";
    BG_E_TOO_MANY_JOBS_PER_USER = 0x8020_0049, "The per-user job limit has been reached.";
    BG_E_TOO_MANY_JOBS_PER_MACHINE = 0x8020_0050, "The per-machine job limit has been reached.";
    BG_E_TOO_MANY_FILES_IN_JOB = 0x8020_0051, "The per-job file limit has been reached.";
    BG_E_TOO_MANY_RANGES_IN_FILE = 0x8020_0052, "The per-file byte-range limit has been reached.";
    BG_E_VALIDATION_FAILED = 0x8020_0053, "The server's reply did not match the requested data.";
    BG_E_MAXDOWNLOAD_TIMEOUT = 0x8020_0054, "The job ran longer than its maximum download time.";
    BG_E_TOKEN_REQUIRED = 0x8020_0056, "A helper token is needed but none is set; add one and resume the job.";
    BG_E_UNKNOWN_PROPERTY_ID = 0x8020_0057, "The property identifier is not recognised.";
    BG_E_READ_ONLY_PROPERTY = 0x8020_0058, "The property cannot be changed.";
    BG_E_BLOCKED_BY_COST_TRANSFER_POLICY = 0x8020_0059, "The job's cost policy forbids transferring on the current network.";
    BG_E_PROPERTY_SUPPORTED_FOR_DOWNLOAD_JOBS_ONLY = 0x8020_0060, "The property applies to download jobs only.";
    BG_E_READ_ONLY_PROPERTY_AFTER_ADDFILE = 0x8020_0061, "The property cannot change once a file has been added.";
    BG_E_READ_ONLY_PROPERTY_AFTER_RESUME = 0x8020_0062, "The property cannot change once the job has been resumed.";
    BG_E_MAX_DOWNLOAD_SIZE_INVALID_VALUE = 0x8020_0063, "The maximum download size must be at least 1.";
    BG_E_MAX_DOWNLOAD_SIZE_LIMIT_REACHED = 0x8020_0064, "The download reached the job's maximum download size.";
    BG_E_STANDBY_MODE = 0x8020_0065, "Paused while the computer is in power-saving mode; resumes on wake.";
    BG_E_USE_STORED_CREDENTIALS_NOT_SUPPORTED = 0x8020_0066, "Stored credentials may be used only for the proxy target.";
    BG_E_BLOCKED_BY_BATTERY_POLICY = 0x8020_0067, "Paused while running on battery; resumes on mains power.";
    BG_E_BLOCKED_BY_BATTERY_SAVER = 0x8020_0068, "Paused by battery saver; resumes when it is switched off.";
    BG_E_WATCHDOG_TIMEOUT = 0x8020_0069, "An operation took longer than expected.";
    BG_E_APP_PACKAGE_NOT_FOUND = 0x8020_006A, "No app package matches the job owner or the caller.";
    BG_E_APP_PACKAGE_SCENARIO_NOT_SUPPORTED = 0x8020_006B, "App packages cannot use BITS this way on this device.";
    BG_E_DATABASE_CORRUPT = 0x8020_006C, "The BITS job store is damaged; the service stops and repairs it at next start.";
    BG_E_RANDOM_ACCESS_NOT_SUPPORTED = 0x8020_006D, "Random access is unavailable for SMB, dynamic, multi-range or upload transfers.";
    BG_E_BLOCKED_BY_BACKGROUND_ACCESS_POLICY = 0x8020_006E, "The owning app's background-access settings block the transfer.";
    BG_E_BLOCKED_BY_GAME_MODE = 0x8020_006F, "Paused while another app runs in Game Mode; resumes later.";
    BG_E_BLOCKED_BY_SYSTEM_POLICY = 0x8020_0070, "Paused because system resources are constrained; resumes automatically.";
    BG_E_NOT_SUPPORTED_WITH_CUSTOM_HTTP_METHOD = 0x8020_0071, "Not allowed on a job that uses a custom HTTP method.";
    BG_E_UNSUPPORTED_JOB_CONFIGURATION = 0x8020_0072, "The request does not fit the job's configuration.";
    BG_E_REMOTE_FILE_CHANGED = 0x8020_0073, "The remote file changed during the transfer; resume the job to retry.";
    BG_E_SERVER_CERT_VALIDATION_INTERFACE_REQUIRED = 0x8020_0074, "The certificate-validation callback is gone; register a new one and resume.";
    BG_E_READ_ONLY_WHEN_JOB_ACTIVE = 0x8020_0075, "Allowed only while the job is suspended, in error or transferred.";
    BG_E_ERROR_CONTEXT_SERVER_CERTIFICATE_CALLBACK = 0x8020_0076, "The error arose in the application's server-certificate callback.";
}

/// Extra names accepted by [`HResult::parse`] (never produced by `name()` or `Display`).
const ALIASES: &[(&str, HResult)] = &[
    ("NOERROR", HResult::S_OK),
    ("ERROR_SUCCESS", HResult::S_OK),
    ("ERROR_ACCESS_DENIED", HResult::E_ACCESSDENIED),
    ("ERROR_INVALID_PARAMETER", HResult::E_INVALIDARG),
    ("ERROR_OUTOFMEMORY", HResult::E_OUTOFMEMORY),
    (
        "BG_E_SERVER_EXECUTE_ENABLED",
        HResult::BG_E_SERVER_EXECUTE_ENABLE,
    ),
    (
        "ERROR_HTTP_INVALID_SERVER_RESPONSE",
        HResult::ERROR_WINHTTP_INVALID_SERVER_RESPONSE,
    ),
];

// The value lookup is a binary search, so the table must be strictly ascending: checked at compile time.
const _: () = {
    let mut i = 1;
    while i < ENTRIES.len() {
        assert!(
            ENTRIES[i - 1].0 .0 < ENTRIES[i].0 .0,
            "HRESULT table must be strictly ascending"
        );
        i += 1;
    }
};

const FACILITY_HTTP_BASE: u32 = 0x8019_0000;
const FACILITY_WIN32_BASE: u32 = 0x8007_0000;

impl HResult {
    /// Wraps a raw 32-bit HRESULT.
    pub const fn from_u32(code: u32) -> HResult {
        HResult(code)
    }

    /// The raw 32-bit value.
    pub const fn code(self) -> u32 {
        self.0
    }

    /// The value as the signed `HRESULT` (`LONG`) COM uses.
    pub const fn as_i32(self) -> i32 {
        self.0 as i32
    }

    /// True when the severity (high) bit is clear.
    pub const fn is_success(self) -> bool {
        self.0 & 0x8000_0000 == 0
    }

    /// True when the severity (high) bit is set.
    pub const fn is_failure(self) -> bool {
        !self.is_success()
    }

    /// `0x80190000 + status` (FACILITY_HTTP), e.g. 404 -> `BG_E_HTTP_ERROR_404`.
    pub const fn http(status: u16) -> HResult {
        HResult(FACILITY_HTTP_BASE + status as u32)
    }

    /// `HRESULT_FROM_WIN32`: 0 -> `S_OK`; a value with the high bit set is returned unchanged;
    /// otherwise `0x80070000 | (n & 0xFFFF)`.
    pub const fn from_win32(n: u32) -> HResult {
        if n == 0 || n & 0x8000_0000 != 0 {
            HResult(n)
        } else {
            HResult(FACILITY_WIN32_BASE | (n & 0xFFFF))
        }
    }

    /// The HTTP status when this is a FACILITY_HTTP failure (`0x8019xxxx`) whose low 16 bits are 100..=599.
    pub const fn http_status(self) -> Option<u16> {
        let low = self.0 & 0xFFFF;
        if self.0 & 0xFFFF_0000 == FACILITY_HTTP_BASE && low >= 100 && low <= 599 {
            Some(low as u16)
        } else {
            None
        }
    }

    /// The Win32 error number when this is a FACILITY_WIN32 failure (`0x8007xxxx`).
    pub const fn win32_code(self) -> Option<u32> {
        if self.0 & 0xFFFF_0000 == FACILITY_WIN32_BASE {
            Some(self.0 & 0xFFFF)
        } else {
            None
        }
    }

    /// The 13-bit facility field (`HRESULT_FACILITY`): 7 = WIN32, 25 = HTTP, 32 = BACKGROUNDCOPY.
    pub const fn facility(self) -> u16 {
        ((self.0 >> 16) & 0x1FFF) as u16
    }

    fn entry(self) -> Option<&'static (HResult, &'static str, &'static str)> {
        ENTRIES
            .binary_search_by_key(&self, |e| e.0)
            .ok()
            .map(|i| &ENTRIES[i])
    }

    /// The primary symbolic name, when the code is a named one.
    pub fn name(self) -> Option<&'static str> {
        self.entry().map(|e| e.1)
    }

    /// A fixed one-line English message for named codes.
    pub fn message(self) -> Option<&'static str> {
        self.entry().map(|e| e.2)
    }

    /// The text `GetErrorDescription` reports: [`message`](Self::message) when the code is named; for any
    /// other HTTP status code (see [`http_status`](Self::http_status)) a generic text naming the status;
    /// `None` otherwise.
    pub fn description(self) -> Option<String> {
        match (self.message(), self.http_status()) {
            (Some(m), _) => Some(m.to_owned()),
            (None, Some(status)) => Some(format!("The server returned HTTP status {status}.")),
            (None, None) => None,
        }
    }

    /// Parses a symbolic name (case-sensitive, as in the table, or an accepted alias such as
    /// `ERROR_ACCESS_DENIED`) or a hex string `0x` / `0X` followed by 1 to 8 hex digits.
    pub fn parse(s: &str) -> Result<HResult, ParseHResultError> {
        if let Some(digits) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
            let well_formed =
                (1..=8).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_hexdigit());
            return match u32::from_str_radix(digits, 16) {
                Ok(v) if well_formed => Ok(HResult(v)),
                _ => Err(ParseHResultError::BadHex(s.to_owned())),
            };
        }
        ENTRIES
            .iter()
            .find(|e| e.1 == s)
            .map(|e| e.0)
            .or_else(|| ALIASES.iter().find(|a| a.0 == s).map(|a| a.1))
            .ok_or_else(|| ParseHResultError::UnknownName(s.to_owned()))
    }

    /// Every named code, ascending by value, with its primary name.
    pub fn all_named() -> &'static [(HResult, &'static str)] {
        NAMED
    }
}

/// Why a string is not an [`HResult`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseHResultError {
    /// Not a known symbolic name (and not a `0x` hex string).
    #[error("unknown HRESULT {0:?}: expected a symbolic name such as BG_E_NOT_FOUND or a hex string like \"0x80200002\"")]
    UnknownName(String),
    /// Starts with `0x`/`0X` but is not followed by 1 to 8 hex digits.
    #[error("invalid hex HRESULT {0:?}: expected \"0x\" followed by 1 to 8 hex digits, like \"0x80200002\"")]
    BadHex(String),
}

impl fmt::Display for HResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "0x{:08X}", self.0),
        }
    }
}

/// An HRESULT is an error value: `?` converts it into `Box<dyn std::error::Error>`.
impl std::error::Error for HResult {}

impl fmt::Debug for HResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "HResult({name} 0x{:08X})", self.0),
            None => write!(f, "HResult(0x{:08X})", self.0),
        }
    }
}

impl FromStr for HResult {
    type Err = ParseHResultError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        HResult::parse(s)
    }
}

impl serde::Serialize for HResult {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for HResult {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = HResult;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a symbolic HRESULT name or a hex string like \"0x80200002\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<HResult, E> {
                HResult::parse(v)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Str(v), &self))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    type H = HResult;
    use std::collections::HashSet;

    /// Written independently from spec §4.3/§4.4 and the task list: name -> value.
    #[rustfmt::skip]
    const EXPECTED: &[(&str, u32)] = &[
        ("S_OK", 0x0), ("S_FALSE", 0x1), ("BG_S_ERROR_CONTEXT_NONE", 0x00200006),
        ("BG_S_PARTIAL_COMPLETE", 0x00200017), ("BG_S_UNABLE_TO_DELETE_FILES", 0x0020001A),
        ("BG_S_PROXY_CHANGED", 0x0020002A), ("BG_S_OVERRIDDEN_BY_POLICY", 0x00200055), ("E_NOTIMPL", 0x80004001),
        ("E_PENDING", 0x8000000A), ("RPC_X_NULL_REF_POINTER", 0x800706F4), ("RPC_X_BAD_STUB_DATA", 0x800706F7),
        ("CRYPT_E_NOT_FOUND", 0x80092004), ("ERROR_WINHTTP_SECURE_CERT_DATE_INVALID", 0x80072F05),
        ("ERROR_WINHTTP_SECURE_CERT_CN_INVALID", 0x80072F06), ("ERROR_WINHTTP_SECURE_INVALID_CA", 0x80072F0D),
        ("ERROR_WINHTTP_SECURE_CERT_REV_FAILED", 0x80072F19), ("ERROR_WINHTTP_REDIRECT_FAILED", 0x80072F7C),
        ("ERROR_WINHTTP_SECURE_CERT_REVOKED", 0x80072F8A), ("ERROR_WINHTTP_SECURE_CERT_WRONG_USAGE", 0x80072F93),
        ("E_NOINTERFACE", 0x80004002), ("E_POINTER", 0x80004003), ("E_FAIL", 0x80004005), ("REGDB_E_CLASSNOTREG", 0x80040154),
        ("E_UNEXPECTED", 0x8000FFFF), ("RPC_E_DISCONNECTED", 0x80010108),
        ("RPC_E_CANTCALLOUT_ININPUTSYNCCALL", 0x8001010D), ("ERROR_FILE_NOT_FOUND", 0x80070002),
        ("ERROR_PATH_NOT_FOUND", 0x80070003), ("E_ACCESSDENIED", 0x80070005), ("ERROR_NOT_ENOUGH_MEMORY", 0x80070008),
        ("E_OUTOFMEMORY", 0x8007000E), ("E_INVALIDARG", 0x80070057), ("ERROR_DISK_FULL", 0x80070070),
        ("ERROR_MR_MID_NOT_FOUND", 0x8007013D), ("ERROR_CAN_NOT_COMPLETE", 0x800703EB),
        ("ERROR_NOT_LOGGED_ON", 0x800704DD), ("ERROR_RESOURCE_LANG_NOT_FOUND", 0x80070717),
        ("ERROR_WINHTTP_TIMEOUT", 0x80072EE2), ("ERROR_WINHTTP_NAME_NOT_RESOLVED", 0x80072EE7),
        ("ERROR_WINHTTP_CANNOT_CONNECT", 0x80072EFD), ("ERROR_WINHTTP_CONNECTION_ERROR", 0x80072EFE),
        ("ERROR_WINHTTP_CLIENT_AUTH_CERT_NEEDED", 0x80072F0C), ("ERROR_WINHTTP_INVALID_SERVER_RESPONSE", 0x80072F78),
        ("BG_E_HTTP_ERROR_100", 0x80190064), ("BG_E_HTTP_ERROR_101", 0x80190065), ("BG_E_HTTP_ERROR_200", 0x801900C8),
        ("BG_E_HTTP_ERROR_201", 0x801900C9), ("BG_E_HTTP_ERROR_202", 0x801900CA), ("BG_E_HTTP_ERROR_203", 0x801900CB),
        ("BG_E_HTTP_ERROR_204", 0x801900CC), ("BG_E_HTTP_ERROR_205", 0x801900CD), ("BG_E_HTTP_ERROR_206", 0x801900CE),
        ("BG_E_HTTP_ERROR_300", 0x8019012C), ("BG_E_HTTP_ERROR_301", 0x8019012D), ("BG_E_HTTP_ERROR_302", 0x8019012E),
        ("BG_E_HTTP_ERROR_303", 0x8019012F), ("BG_E_HTTP_ERROR_304", 0x80190130), ("BG_E_HTTP_ERROR_305", 0x80190131),
        ("BG_E_HTTP_ERROR_307", 0x80190133), ("BG_E_HTTP_ERROR_400", 0x80190190), ("BG_E_HTTP_ERROR_401", 0x80190191),
        ("BG_E_HTTP_ERROR_402", 0x80190192), ("BG_E_HTTP_ERROR_403", 0x80190193), ("BG_E_HTTP_ERROR_404", 0x80190194),
        ("BG_E_HTTP_ERROR_405", 0x80190195), ("BG_E_HTTP_ERROR_406", 0x80190196), ("BG_E_HTTP_ERROR_407", 0x80190197),
        ("BG_E_HTTP_ERROR_408", 0x80190198), ("BG_E_HTTP_ERROR_409", 0x80190199), ("BG_E_HTTP_ERROR_410", 0x8019019A),
        ("BG_E_HTTP_ERROR_411", 0x8019019B), ("BG_E_HTTP_ERROR_412", 0x8019019C), ("BG_E_HTTP_ERROR_413", 0x8019019D),
        ("BG_E_HTTP_ERROR_414", 0x8019019E), ("BG_E_HTTP_ERROR_415", 0x8019019F), ("BG_E_HTTP_ERROR_416", 0x801901A0),
        ("BG_E_HTTP_ERROR_417", 0x801901A1), ("BG_E_HTTP_ERROR_449", 0x801901C1), ("BG_E_HTTP_ERROR_500", 0x801901F4),
        ("BG_E_HTTP_ERROR_501", 0x801901F5), ("BG_E_HTTP_ERROR_502", 0x801901F6), ("BG_E_HTTP_ERROR_503", 0x801901F7),
        ("BG_E_HTTP_ERROR_504", 0x801901F8), ("BG_E_HTTP_ERROR_505", 0x801901F9), ("BG_E_NOT_FOUND", 0x80200001),
        ("BG_E_INVALID_STATE", 0x80200002), ("BG_E_EMPTY", 0x80200003), ("BG_E_FILE_NOT_AVAILABLE", 0x80200004),
        ("BG_E_PROTOCOL_NOT_AVAILABLE", 0x80200005), ("BG_E_ERROR_CONTEXT_UNKNOWN", 0x80200007),
        ("BG_E_ERROR_CONTEXT_GENERAL_QUEUE_MANAGER", 0x80200008), ("BG_E_ERROR_CONTEXT_LOCAL_FILE", 0x80200009),
        ("BG_E_ERROR_CONTEXT_REMOTE_FILE", 0x8020000A), ("BG_E_ERROR_CONTEXT_GENERAL_TRANSPORT", 0x8020000B),
        ("BG_E_ERROR_CONTEXT_QUEUE_MANAGER_NOTIFICATION", 0x8020000C), ("BG_E_DESTINATION_LOCKED", 0x8020000D),
        ("BG_E_VOLUME_CHANGED", 0x8020000E), ("BG_E_ERROR_INFORMATION_UNAVAILABLE", 0x8020000F),
        ("BG_E_NETWORK_DISCONNECTED", 0x80200010), ("BG_E_MISSING_FILE_SIZE", 0x80200011),
        ("BG_E_INSUFFICIENT_HTTP_SUPPORT", 0x80200012), ("BG_E_INSUFFICIENT_RANGE_SUPPORT", 0x80200013),
        ("BG_E_REMOTE_NOT_SUPPORTED", 0x80200014), ("BG_E_NEW_OWNER_DIFF_MAPPING", 0x80200015),
        ("BG_E_NEW_OWNER_NO_FILE_ACCESS", 0x80200016), ("BG_E_PROXY_LIST_TOO_LARGE", 0x80200018),
        ("BG_E_PROXY_BYPASS_LIST_TOO_LARGE", 0x80200019), ("BG_E_INVALID_SERVER_RESPONSE", 0x8020001B),
        ("BG_E_TOO_MANY_FILES", 0x8020001C), ("BG_E_LOCAL_FILE_CHANGED", 0x8020001D),
        ("BG_E_ERROR_CONTEXT_REMOTE_APPLICATION", 0x8020001E), ("BG_E_SESSION_NOT_FOUND", 0x8020001F),
        ("BG_E_TOO_LARGE", 0x80200020), ("BG_E_STRING_TOO_LONG", 0x80200021),
        ("BG_E_CLIENT_SERVER_PROTOCOL_MISMATCH", 0x80200022), ("BG_E_SERVER_EXECUTE_ENABLE", 0x80200023),
        ("BG_E_NO_PROGRESS", 0x80200024), ("BG_E_USERNAME_TOO_LARGE", 0x80200025),
        ("BG_E_PASSWORD_TOO_LARGE", 0x80200026), ("BG_E_INVALID_AUTH_TARGET", 0x80200027),
        ("BG_E_INVALID_AUTH_SCHEME", 0x80200028), ("BG_E_FILE_NOT_FOUND", 0x80200029),
        ("BG_E_INVALID_RANGE", 0x8020002B), ("BG_E_OVERLAPPING_RANGES", 0x8020002C),
        ("BG_E_CONNECT_FAILURE", 0x8020002D), ("BG_E_CONNECTION_CLOSED", 0x8020002E),
        ("BG_E_KEEP_ALIVE_FAILURE", 0x8020002F), ("BG_E_MESSAGE_LENGTH_LIMIT_EXCEEDED", 0x80200030),
        ("BG_E_NAME_RESOLUTION_FAILURE", 0x80200031), ("BG_E_PENDING", 0x80200032),
        ("BG_E_PIPELINE_FAILURE", 0x80200033), ("BG_E_PROTOCOL_ERROR", 0x80200034),
        ("BG_E_PROXY_NAME_RESOLUTION_FAILURE", 0x80200035), ("BG_E_RECEIVE_FAILURE", 0x80200036),
        ("BG_E_REQUEST_CANCELED", 0x80200037), ("BG_E_SECURE_CHANNEL_FAILURE", 0x80200038),
        ("BG_E_SEND_FAILURE", 0x80200039), ("BG_E_SERVER_PROTOCOL_VIOLATION", 0x8020003A),
        ("BG_E_TIMEOUT", 0x8020003B), ("BG_E_TRUST_FAILURE", 0x8020003C), ("BG_E_UNKNOWN_ERROR", 0x8020003D),
        ("BG_E_BLOCKED_BY_POLICY", 0x8020003E), ("BG_E_INVALID_PROXY_INFO", 0x8020003F),
        ("BG_E_INVALID_CREDENTIALS", 0x80200040), ("BG_E_INVALID_HASH_ALGORITHM", 0x80200041),
        ("BG_E_RECORD_DELETED", 0x80200042), ("BG_E_COMMIT_IN_PROGRESS", 0x80200043),
        ("BG_E_DISCOVERY_IN_PROGRESS", 0x80200044), ("BG_E_UPNP_ERROR", 0x80200045),
        ("BG_E_TEST_OPTION_BLOCKED_DOWNLOAD", 0x80200046), ("BG_E_PEERCACHING_DISABLED", 0x80200047),
        ("BG_E_BUSYCACHERECORD", 0x80200048), ("BG_E_TOO_MANY_JOBS_PER_USER", 0x80200049),
        ("BG_E_TOO_MANY_JOBS_PER_MACHINE", 0x80200050), ("BG_E_TOO_MANY_FILES_IN_JOB", 0x80200051),
        ("BG_E_TOO_MANY_RANGES_IN_FILE", 0x80200052), ("BG_E_VALIDATION_FAILED", 0x80200053),
        ("BG_E_MAXDOWNLOAD_TIMEOUT", 0x80200054), ("BG_E_TOKEN_REQUIRED", 0x80200056),
        ("BG_E_UNKNOWN_PROPERTY_ID", 0x80200057), ("BG_E_READ_ONLY_PROPERTY", 0x80200058),
        ("BG_E_BLOCKED_BY_COST_TRANSFER_POLICY", 0x80200059),
        ("BG_E_PROPERTY_SUPPORTED_FOR_DOWNLOAD_JOBS_ONLY", 0x80200060),
        ("BG_E_READ_ONLY_PROPERTY_AFTER_ADDFILE", 0x80200061), ("BG_E_READ_ONLY_PROPERTY_AFTER_RESUME", 0x80200062),
        ("BG_E_MAX_DOWNLOAD_SIZE_INVALID_VALUE", 0x80200063), ("BG_E_MAX_DOWNLOAD_SIZE_LIMIT_REACHED", 0x80200064),
        ("BG_E_STANDBY_MODE", 0x80200065), ("BG_E_USE_STORED_CREDENTIALS_NOT_SUPPORTED", 0x80200066),
        ("BG_E_BLOCKED_BY_BATTERY_POLICY", 0x80200067), ("BG_E_BLOCKED_BY_BATTERY_SAVER", 0x80200068),
        ("BG_E_WATCHDOG_TIMEOUT", 0x80200069), ("BG_E_APP_PACKAGE_NOT_FOUND", 0x8020006A),
        ("BG_E_APP_PACKAGE_SCENARIO_NOT_SUPPORTED", 0x8020006B), ("BG_E_DATABASE_CORRUPT", 0x8020006C),
        ("BG_E_RANDOM_ACCESS_NOT_SUPPORTED", 0x8020006D), ("BG_E_BLOCKED_BY_BACKGROUND_ACCESS_POLICY", 0x8020006E),
        ("BG_E_BLOCKED_BY_GAME_MODE", 0x8020006F), ("BG_E_BLOCKED_BY_SYSTEM_POLICY", 0x80200070),
        ("BG_E_NOT_SUPPORTED_WITH_CUSTOM_HTTP_METHOD", 0x80200071),
        ("BG_E_UNSUPPORTED_JOB_CONFIGURATION", 0x80200072), ("BG_E_REMOTE_FILE_CHANGED", 0x80200073),
        ("BG_E_SERVER_CERT_VALIDATION_INTERFACE_REQUIRED", 0x80200074),
        ("BG_E_READ_ONLY_WHEN_JOB_ACTIVE", 0x80200075),
        ("BG_E_ERROR_CONTEXT_SERVER_CERTIFICATE_CALLBACK", 0x80200076),
    ];

    #[test]
    fn table_pins_every_value() {
        let table: Vec<(&str, u32)> = H::all_named().iter().map(|&(h, n)| (n, h.code())).collect();
        let mut expected = EXPECTED.to_vec();
        expected.sort_by_key(|&(_, v)| v);
        assert_eq!(table, expected);
        for &(name, value) in EXPECTED {
            assert_eq!(H::parse(name), Ok(H::from_u32(value)), "{name}");
            assert_eq!(H::from_u32(value).name(), Some(name));
        }
        assert_eq!(H::BG_E_TOO_MANY_JOBS_PER_USER.code(), 0x8020_0049);
        assert_eq!(H::BG_E_TOO_MANY_JOBS_PER_MACHINE.code(), 0x8020_0050);
        assert_eq!(H::BG_S_PARTIAL_COMPLETE.code(), 0x0020_0017);
        assert_eq!(H::BG_E_ERROR_INFORMATION_UNAVAILABLE.code(), 0x8020_000F);
        assert_eq!(H::BG_E_HTTP_ERROR_404.code(), 0x8019_0194);
        assert_eq!(H::RPC_E_DISCONNECTED.code(), 0x8001_0108);
        // Every named HTTP constant follows the 0x80190000 + status rule.
        for &(h, name) in H::all_named() {
            if let Some(status) = name.strip_prefix("BG_E_HTTP_ERROR_") {
                assert_eq!(h, H::http(status.parse().unwrap()), "{name}");
                assert_eq!(
                    h.http_status().map(|s| s.to_string()).as_deref(),
                    Some(status)
                );
            }
        }
    }

    #[test]
    fn table_sorted_unique_with_messages() {
        let named = H::all_named();
        assert_eq!(named.len(), ENTRIES.len());
        assert!(
            named.windows(2).all(|w| w[0].0 < w[1].0),
            "sorted, unique values"
        );
        let names: HashSet<&str> = named.iter().map(|e| e.1).collect();
        assert_eq!(names.len(), named.len(), "unique names");
        for &(alias, target) in ALIASES {
            assert!(
                !names.contains(alias),
                "alias {alias} shadows a primary name"
            );
            assert!(target.name().is_some());
        }
        for &(h, name) in named {
            let msg = h.message().unwrap();
            assert!(
                !msg.trim().is_empty() && !msg.contains('\n') && !msg.contains('\r'),
                "{name}"
            );
            assert_eq!(h.description().as_deref(), Some(msg));
            assert_eq!(
                h.is_success(),
                name.starts_with("S_") || name.starts_with("BG_S_"),
                "{name}"
            );
        }
    }

    #[test]
    fn http_and_win32_helpers() {
        assert_eq!(H::http(404), H::BG_E_HTTP_ERROR_404);
        assert_eq!(H::http(503).code(), 0x801901F7);
        let teapot = H::http(418);
        assert_eq!(teapot.to_string(), "0x801901A2");
        assert_eq!(format!("{teapot:?}"), "HResult(0x801901A2)");
        assert_eq!((teapot.http_status(), teapot.facility()), (Some(418), 25));
        assert_eq!((teapot.name(), teapot.message()), (None, None));
        let desc = teapot.description();
        assert_eq!(
            desc.as_deref(),
            Some("The server returned HTTP status 418.")
        );
        // 0x80194000 is an event id, not a status; 0x00190194 lacks the failure bit.
        for h in [0x8019_4000, 0x8019_0063, 0x8019_0258, 0x0019_0194].map(H::from_u32) {
            assert_eq!(h.http_status(), None, "{h}");
        }
        assert_eq!(H::from_u32(0x8020_0099).description(), None);

        let win32 = [
            (0, H::S_OK),
            (0x8020_0002, H::BG_E_INVALID_STATE),
            (5, H::E_ACCESSDENIED),
            (8, H::ERROR_NOT_ENOUGH_MEMORY),
            (14, H::E_OUTOFMEMORY),
            (87, H::E_INVALIDARG),
            (112, H::ERROR_DISK_FULL),
            (12007, H::ERROR_WINHTTP_NAME_NOT_RESOLVED),
            (12152, H::ERROR_WINHTTP_INVALID_SERVER_RESPONSE),
        ];
        for (n, h) in win32 {
            assert_eq!(H::from_win32(n), h, "{n}");
            assert_eq!(h.win32_code(), Some(n).filter(|&n| n != 0 && n < 0x1_0000));
        }
        assert_eq!(H::S_OK.win32_code(), None);
        let facilities = [
            (H::E_ACCESSDENIED, 7),
            (H::BG_E_NOT_FOUND, 32),
            (H::BG_S_PARTIAL_COMPLETE, 32),
        ];
        for (h, f) in facilities.into_iter().chain([(H::E_FAIL, 0)]) {
            assert_eq!(h.facility(), f, "{h}");
        }
        assert_eq!((H::E_FAIL.as_i32(), H::S_FALSE.as_i32()), (-2147467259, 1));
        assert!(H::S_FALSE.is_success() && !H::S_FALSE.is_failure());
        assert!(H::E_UNEXPECTED.is_failure() && !H::E_UNEXPECTED.is_success());
    }

    #[test]
    fn display_debug_parse() {
        let h = H::BG_E_INVALID_STATE;
        assert_eq!(h.to_string(), "BG_E_INVALID_STATE");
        assert_eq!(format!("{h:?}"), "HResult(BG_E_INVALID_STATE 0x80200002)");
        assert_eq!(H::from_u32(0xdead_beef).to_string(), "0xDEADBEEF");
        for &(h, _) in H::all_named() {
            assert_eq!(H::parse(&h.to_string()), Ok(h));
            assert_eq!(h.to_string().parse::<H>(), Ok(h));
            assert_eq!(H::parse(&format!("0x{:08x}", h.code())), Ok(h));
        }
        for h in [0u32, 1, 0x8019_01A2, 0xFFFF_FFFF, 0x1234].map(H::from_u32) {
            assert_eq!(H::parse(&h.to_string()), Ok(h));
        }
        let ok = [
            ("0x80200002", H::BG_E_INVALID_STATE),
            ("0X80200002", H::BG_E_INVALID_STATE),
            ("0x1", H::S_FALSE),
            ("0xaBc", H::from_u32(0xABC)),
            ("ERROR_ACCESS_DENIED", H::E_ACCESSDENIED),
            ("ERROR_INVALID_PARAMETER", H::E_INVALIDARG),
            ("ERROR_OUTOFMEMORY", H::E_OUTOFMEMORY),
            ("ERROR_NOT_ENOUGH_MEMORY", H::from_u32(0x8007_0008)),
            ("BG_E_SERVER_EXECUTE_ENABLED", H::BG_E_SERVER_EXECUTE_ENABLE),
            (
                "ERROR_HTTP_INVALID_SERVER_RESPONSE",
                H::ERROR_WINHTTP_INVALID_SERVER_RESPONSE,
            ),
            ("ERROR_SUCCESS", H::S_OK),
            ("NOERROR", H::S_OK),
        ];
        for (s, h) in ok {
            assert_eq!(H::parse(s), Ok(h), "{s}");
        }
        assert_eq!(
            H::BG_E_SERVER_EXECUTE_ENABLE.name(),
            Some("BG_E_SERVER_EXECUTE_ENABLE")
        );
        assert_eq!(H::E_ACCESSDENIED.name(), Some("E_ACCESSDENIED"));

        let bad_names = [
            "",
            "BG_E_NOPE",
            "80200002",
            " S_OK",
            "S_OK ",
            "s_ok",
            "bg_e_not_found",
        ];
        for bad in bad_names {
            let err = ParseHResultError::UnknownName(bad.into());
            assert_eq!(H::parse(bad), Err(err), "{bad:?}");
        }
        for bad in [
            "0x",
            "0x123456789",
            "0X",
            "0x+1",
            "0x-1",
            "0xg",
            "0x 1",
            "0x1 ",
        ] {
            assert_eq!(
                H::parse(bad),
                Err(ParseHResultError::BadHex(bad.into())),
                "{bad:?}"
            );
        }
        let msg = H::parse("BG_E_NOPE").unwrap_err().to_string();
        assert!(
            msg.contains("\"BG_E_NOPE\"") && msg.contains("0x80200002"),
            "{msg}"
        );
        let msg = H::parse("0xZZ").unwrap_err().to_string();
        assert!(
            msg.contains("\"0xZZ\"") && msg.contains("hex digits"),
            "{msg}"
        );
    }

    #[test]
    fn serde_round_trip() {
        let to_json = |h: H| serde_json::to_string(&h).unwrap();
        assert_eq!(to_json(H::BG_E_NOT_FOUND), "\"BG_E_NOT_FOUND\"");
        assert_eq!(to_json(H::http(418)), "\"0x801901A2\"");
        let ok = [
            ("\"BG_E_NOT_FOUND\"", H::BG_E_NOT_FOUND),
            ("\"0x80200002\"", H::BG_E_INVALID_STATE),
            ("\"ERROR_ACCESS_DENIED\"", H::E_ACCESSDENIED),
        ];
        for (json, h) in ok {
            assert_eq!(serde_json::from_str::<H>(json).unwrap(), h, "{json}");
        }
        for &(h, _) in H::all_named() {
            assert_eq!(serde_json::from_str::<H>(&to_json(h)).unwrap(), h);
        }
        for bad in ["2149580802", "5", "\"BG_E_NOPE\"", "\"0x\"", "null", "[]"] {
            let err = serde_json::from_str::<H>(bad).unwrap_err().to_string();
            let clear = err.contains("symbolic HRESULT name") && err.contains("\"0x80200002\"");
            assert!(clear, "{bad}: {err}");
        }
    }
}
