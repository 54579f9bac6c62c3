//! # bitsim-windows — run windows-rs BITS client code on any OS, against bitsim
//!
//! The module paths mirror the `windows` crate 0.62, so client code switches with its `use` line:
//! ```ignore
//! #[cfg(windows)]
//! use windows as win;
//! #[cfg(not(windows))]
//! use bitsim_windows as win;
//! use win::core::*;
//! use win::Win32::Networking::BackgroundIntelligentTransferService::*;
//! use win::Win32::System::Com::*;
//! ```
//! A test builds a [`bitsim::Sim`], connects an application, and [`attach`]es the thread to it; from
//! then on `CoCreateInstance(&BackgroundCopyManager, None, CLSCTX_LOCAL_SERVER)` returns an
//! `IBackgroundCopyManager` acting as that application, backed by the simulator.
//!
//! * `core`: windows-core 0.62 (GUID, HRESULT, Error, Result, IUnknown, Interface, Ref, OutRef,
//!   `#[interface]`, `#[implement]`, BOOL) plus PCWSTR, PWSTR, BSTR, HSTRING, `w!` and `h!`.
//! * `Win32::Foundation`: FILETIME and the HRESULTs BITS code compares with.
//! * `Win32::System::Com`: CoInitializeEx, CoUninitialize, CoCreateInstance, CoTaskMemFree, CLSCTX_*,
//!   COINIT_*.
//! * `Win32::Networking::BackgroundIntelligentTransferService`: every interface, constant and struct
//!   of that module, generated from Microsoft's metadata by windows-bindgen 0.62 (`src/bindings.rs`).
//!
//! Time: see [`TimePolicy`]. What is not modelled: see the README section
//! "Run your windows-rs BITS code on Linux".

#![allow(clippy::missing_safety_doc)]
#![deny(clippy::undocumented_unsafe_blocks)]

#[path = "bindings.rs"]
#[allow(missing_docs, unsafe_op_in_unsafe_fn, clippy::all, clippy::undocumented_unsafe_blocks)]
#[rustfmt::skip]
mod bindings;
#[allow(non_snake_case)]
mod com;
mod objects;
mod strings;

pub use com::{attach, live_allocations, Attachment, TimePolicy};

/// windows-core 0.62, plus the string types of windows-strings.
pub mod core {
    pub use crate::strings::{encode_utf16, utf16_len, BSTR, HSTRING, PCWSTR, PWSTR};
    pub use crate::{h, w};
    pub use windows_core::*;
}

/// The `Win32` namespace of the windows crate, as far as BITS clients use it.
#[allow(non_snake_case)]
pub mod Win32 {
    /// `Windows.Win32.Foundation`: FILETIME and common HRESULTs.
    pub mod Foundation {
        pub use crate::bindings::Windows::Win32::Foundation::*;
    }
    /// `Windows.Win32.System`.
    pub mod System {
        /// `Windows.Win32.System.Com`: COM start-up, activation and memory.
        pub mod Com {
            pub use crate::bindings::Windows::Win32::System::Com::*;
            pub use crate::com::{CoCreateInstance, CoInitializeEx, CoTaskMemFree, CoUninitialize};
        }
    }
    /// `Windows.Win32.Networking`.
    pub mod Networking {
        /// `Windows.Win32.Networking.BackgroundIntelligentTransferService`, generated.
        pub mod BackgroundIntelligentTransferService {
            pub use crate::bindings::Windows::Win32::Networking::BackgroundIntelligentTransferService::*;
        }
    }
}
