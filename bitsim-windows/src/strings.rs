//! The string types of `windows-strings` 0.5 (Windows-only), with the same names and signatures for
//! what BITS code uses: [`PCWSTR`], [`PWSTR`], [`BSTR`], [`HSTRING`], [`w!`](crate::w) and
//! [`h!`](crate::h).

use std::fmt;

/// A pointer to a constant null-terminated string of 16-bit Unicode characters.
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PCWSTR(pub *const u16);

/// A pointer to a null-terminated string of 16-bit Unicode characters.
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PWSTR(pub *mut u16);

impl Default for PCWSTR {
    fn default() -> Self {
        Self::null()
    }
}

impl Default for PWSTR {
    fn default() -> Self {
        Self::null()
    }
}

/// The number of units before the terminating NUL.
///
/// # Safety
/// `p` is non-null and points to a NUL-terminated UTF-16 string.
unsafe fn wcslen(p: *const u16) -> usize {
    let mut n = 0;
    // SAFETY: the caller guarantees a NUL terminator, so every unit up to it is readable.
    while unsafe { *p.add(n) } != 0 {
        n += 1;
    }
    n
}

impl PCWSTR {
    /// A string from a raw pointer.
    pub const fn from_raw(ptr: *const u16) -> Self {
        Self(ptr)
    }
    /// A null pointer.
    pub const fn null() -> Self {
        Self(std::ptr::null())
    }
    /// The raw pointer.
    pub const fn as_ptr(&self) -> *const u16 {
        self.0
    }
    /// Whether the pointer is null.
    pub fn is_null(&self) -> bool {
        self.0.is_null()
    }
    /// The length in UTF-16 units, without the NUL.
    ///
    /// # Safety
    /// The pointer is non-null and points to a NUL-terminated string.
    pub unsafe fn len(&self) -> usize {
        // SAFETY: forwarded from the caller.
        unsafe { wcslen(self.0) }
    }
    /// Whether the string is empty.
    ///
    /// # Safety
    /// As [`PCWSTR::len`].
    pub unsafe fn is_empty(&self) -> bool {
        // SAFETY: forwarded from the caller.
        unsafe { self.len() == 0 }
    }
    /// The units, without the NUL.
    ///
    /// # Safety
    /// As [`PCWSTR::len`], and the string outlives the slice.
    pub unsafe fn as_wide(&self) -> &[u16] {
        // SAFETY: forwarded from the caller; `len` units are readable.
        unsafe { std::slice::from_raw_parts(self.0, self.len()) }
    }
    /// Copy into a `String`.
    ///
    /// # Safety
    /// As [`PCWSTR::len`].
    pub unsafe fn to_string(&self) -> Result<String, std::string::FromUtf16Error> {
        // SAFETY: forwarded from the caller.
        String::from_utf16(unsafe { self.as_wide() })
    }
    /// Copy into an [`HSTRING`].
    ///
    /// # Safety
    /// As [`PCWSTR::len`].
    pub unsafe fn to_hstring(&self) -> HSTRING {
        // SAFETY: forwarded from the caller.
        HSTRING::from_wide(unsafe { self.as_wide() })
    }
    /// A lossy `Display` of the string.
    ///
    /// # Safety
    /// As [`PCWSTR::len`].
    pub unsafe fn display(&self) -> impl fmt::Display + '_ {
        // SAFETY: forwarded from the caller.
        String::from_utf16_lossy(unsafe { self.as_wide() })
    }
}

impl PWSTR {
    /// A string from a raw pointer.
    pub const fn from_raw(ptr: *mut u16) -> Self {
        Self(ptr)
    }
    /// A null pointer.
    pub const fn null() -> Self {
        Self(std::ptr::null_mut())
    }
    /// The raw pointer.
    pub const fn as_ptr(&self) -> *mut u16 {
        self.0
    }
    /// Whether the pointer is null.
    pub fn is_null(&self) -> bool {
        self.0.is_null()
    }
    /// The length in UTF-16 units, without the NUL.
    ///
    /// # Safety
    /// The pointer is non-null and points to a NUL-terminated string.
    pub unsafe fn len(&self) -> usize {
        // SAFETY: forwarded from the caller.
        unsafe { PCWSTR(self.0).len() }
    }
    /// Whether the string is empty.
    ///
    /// # Safety
    /// As [`PWSTR::len`].
    pub unsafe fn is_empty(&self) -> bool {
        // SAFETY: forwarded from the caller.
        unsafe { self.len() == 0 }
    }
    /// The units, without the NUL.
    ///
    /// # Safety
    /// As [`PWSTR::len`], and the string outlives the slice.
    pub unsafe fn as_wide(&self) -> &[u16] {
        // SAFETY: forwarded from the caller.
        unsafe { std::slice::from_raw_parts(self.0, self.len()) }
    }
    /// Copy into a `String`.
    ///
    /// # Safety
    /// As [`PWSTR::len`].
    pub unsafe fn to_string(&self) -> Result<String, std::string::FromUtf16Error> {
        // SAFETY: forwarded from the caller.
        unsafe { PCWSTR(self.0).to_string() }
    }
    /// Copy into an [`HSTRING`].
    ///
    /// # Safety
    /// As [`PWSTR::len`].
    pub unsafe fn to_hstring(&self) -> HSTRING {
        // SAFETY: forwarded from the caller.
        unsafe { PCWSTR(self.0).to_hstring() }
    }
    /// A lossy `Display` of the string.
    ///
    /// # Safety
    /// As [`PWSTR::len`].
    pub unsafe fn display(&self) -> impl fmt::Display + '_ {
        // SAFETY: forwarded from the caller.
        String::from_utf16_lossy(unsafe { self.as_wide() })
    }
}

/// An owned, immutable, NUL-terminated UTF-16 string (reference-counted on Windows; copied here).
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HSTRING(Vec<u16>);

impl HSTRING {
    /// The empty string.
    pub fn new() -> Self {
        Self(Vec::new())
    }
    /// From UTF-16 units (no NUL).
    pub fn from_wide(value: &[u16]) -> Self {
        if value.is_empty() {
            return Self::new();
        }
        Self(value.iter().copied().chain(Some(0)).collect())
    }
    /// The units, without the NUL.
    pub fn as_wide(&self) -> &[u16] {
        let n = self.0.len().saturating_sub(1);
        &self.0[..n]
    }
    /// A pointer to the NUL-terminated units (valid while `self` lives).
    pub fn as_ptr(&self) -> *const u16 {
        if self.0.is_empty() {
            static EMPTY: [u16; 1] = [0];
            EMPTY.as_ptr()
        } else {
            self.0.as_ptr()
        }
    }
    /// The length in UTF-16 units.
    pub fn len(&self) -> usize {
        self.as_wide().len()
    }
    /// Whether the string is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Copy into a `String`.
    pub fn to_string_lossy(&self) -> String {
        String::from_utf16_lossy(self.as_wide())
    }
}

impl From<&str> for HSTRING {
    fn from(s: &str) -> Self {
        if s.is_empty() {
            return Self::new();
        }
        Self(s.encode_utf16().chain(Some(0)).collect())
    }
}

impl From<String> for HSTRING {
    fn from(s: String) -> Self {
        Self::from(s.as_str())
    }
}

impl fmt::Display for HSTRING {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string_lossy())
    }
}

impl fmt::Debug for HSTRING {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// A BSTR: a pointer to NUL-terminated UTF-16 units owned by this value (SysAllocString on
/// Windows; a Rust allocation here, pointer-sized like the real one). Null is the empty string.
#[repr(transparent)]
pub struct BSTR(*const u16);

impl BSTR {
    /// The empty string (null).
    pub const fn new() -> Self {
        Self(std::ptr::null())
    }
    /// A copy of UTF-16 units.
    pub fn from_wide(value: &[u16]) -> Self {
        if value.is_empty() {
            return Self::new();
        }
        // Layout: [length as two u16 units][the units][NUL]; the pointer is to the units.
        let n = value.len() as u32;
        let b: Box<[u16]> = [n as u16, (n >> 16) as u16]
            .into_iter()
            .chain(value.iter().copied())
            .chain(Some(0))
            .collect();
        let p = Box::into_raw(b) as *const u16;
        // SAFETY: the allocation holds at least 3 units; 2 is within it.
        Self(unsafe { p.add(2) })
    }
    /// The length in UTF-16 units.
    pub fn len(&self) -> usize {
        if self.0.is_null() {
            return 0;
        }
        // SAFETY: a non-null BSTR points 2 units into an allocation made by `from_wide`.
        unsafe { (*self.0.sub(2) as usize) | ((*self.0.sub(1) as usize) << 16) }
    }
    /// Whether the string is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The units, without the NUL.
    pub fn as_wide(&self) -> &[u16] {
        if self.0.is_null() {
            return &[];
        }
        // SAFETY: `len` units follow the pointer inside the allocation `self` owns.
        unsafe { std::slice::from_raw_parts(self.0, self.len()) }
    }
    /// A pointer to the NUL-terminated units (null for the empty string).
    pub fn as_ptr(&self) -> *const u16 {
        self.0
    }
}

impl Default for BSTR {
    fn default() -> Self {
        Self::new()
    }
}

impl Clone for BSTR {
    fn clone(&self) -> Self {
        Self::from_wide(self.as_wide())
    }
}

impl PartialEq for BSTR {
    fn eq(&self, other: &Self) -> bool {
        self.as_wide() == other.as_wide()
    }
}

impl Eq for BSTR {}

impl Drop for BSTR {
    fn drop(&mut self) {
        if self.0.is_null() {
            return;
        }
        let total = self.len() + 3;
        // SAFETY: the pointer is 2 units into a `Box<[u16]>` of `len + 3` units made by `from_wide`
        // and owned by `self`; it is rebuilt once, here.
        unsafe {
            let start = self.0.sub(2) as *mut u16;
            drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(
                start, total,
            )));
        }
    }
}

impl From<&str> for BSTR {
    fn from(s: &str) -> Self {
        Self::from_wide(&s.encode_utf16().collect::<Vec<_>>())
    }
}

impl fmt::Display for BSTR {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf16_lossy(self.as_wide()))
    }
}

impl fmt::Debug for BSTR {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

impl windows_core::TypeKind for PCWSTR {
    type TypeKind = windows_core::CopyType;
}
impl windows_core::TypeKind for PWSTR {
    type TypeKind = windows_core::CopyType;
}
impl windows_core::TypeKind for HSTRING {
    type TypeKind = windows_core::CloneType;
}
impl windows_core::TypeKind for BSTR {
    type TypeKind = windows_core::CloneType;
}

impl windows_core::Param<PCWSTR> for &HSTRING {
    unsafe fn param(self) -> windows_core::ParamValue<PCWSTR> {
        windows_core::ParamValue::Owned(PCWSTR(self.as_ptr()))
    }
}
impl windows_core::Param<PCWSTR> for &BSTR {
    unsafe fn param(self) -> windows_core::ParamValue<PCWSTR> {
        static EMPTY: [u16; 1] = [0];
        let p = if self.0.is_null() {
            EMPTY.as_ptr()
        } else {
            self.0
        };
        windows_core::ParamValue::Owned(PCWSTR(p))
    }
}
impl windows_core::Param<PCWSTR> for PWSTR {
    unsafe fn param(self) -> windows_core::ParamValue<PCWSTR> {
        windows_core::ParamValue::Owned(PCWSTR(self.0))
    }
}

/// The number of UTF-16 units of UTF-8 `s` (for [`w!`](crate::w)).
#[doc(hidden)]
pub const fn utf16_len(s: &[u8]) -> usize {
    let mut i = 0;
    let mut n = 0;
    while i < s.len() {
        let b = s[i];
        let (width, units) = if b < 0x80 {
            (1, 1)
        } else if b < 0xE0 {
            (2, 1)
        } else if b < 0xF0 {
            (3, 1)
        } else {
            (4, 2)
        };
        i += width;
        n += units;
    }
    n
}

/// UTF-8 `s` as UTF-16 units followed by a NUL (for [`w!`](crate::w)); `N` is `utf16_len(s) + 1`.
#[doc(hidden)]
pub const fn encode_utf16<const N: usize>(s: &[u8]) -> [u16; N] {
    let mut out = [0u16; N];
    let mut i = 0;
    let mut o = 0;
    while i < s.len() {
        let b = s[i] as u32;
        let (c, width) = if b < 0x80 {
            (b, 1)
        } else if b < 0xE0 {
            (((b & 0x1F) << 6) | (s[i + 1] as u32 & 0x3F), 2)
        } else if b < 0xF0 {
            (
                ((b & 0x0F) << 12) | ((s[i + 1] as u32 & 0x3F) << 6) | (s[i + 2] as u32 & 0x3F),
                3,
            )
        } else {
            (
                ((b & 0x07) << 18)
                    | ((s[i + 1] as u32 & 0x3F) << 12)
                    | ((s[i + 2] as u32 & 0x3F) << 6)
                    | (s[i + 3] as u32 & 0x3F),
                4,
            )
        };
        if c >= 0x10000 {
            let v = c - 0x10000;
            out[o] = (0xD800 + (v >> 10)) as u16;
            out[o + 1] = (0xDC00 + (v & 0x3FF)) as u16;
            o += 2;
        } else {
            out[o] = c as u16;
            o += 1;
        }
        i += width;
    }
    out
}

/// A literal UTF-8 string as a static NUL-terminated UTF-16 [`PCWSTR`](crate::core::PCWSTR).
#[macro_export]
macro_rules! w {
    ($s:literal) => {{
        const INPUT: &[u8] = $s.as_bytes();
        const LEN: usize = $crate::core::utf16_len(INPUT) + 1;
        static OUTPUT: [u16; LEN] = $crate::core::encode_utf16::<LEN>(INPUT);
        $crate::core::PCWSTR::from_raw(OUTPUT.as_ptr())
    }};
}

/// A literal UTF-8 string as a static [`HSTRING`](crate::core::HSTRING) reference.
#[macro_export]
macro_rules! h {
    ($s:literal) => {{
        static OUTPUT: std::sync::LazyLock<$crate::core::HSTRING> =
            std::sync::LazyLock::new(|| $crate::core::HSTRING::from($s));
        &*OUTPUT
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn w_encodes_utf8_literals_as_nul_terminated_utf16() {
        let p = crate::w!("aé€😀");
        // SAFETY: `w!` makes a static NUL-terminated string.
        let units = unsafe { p.as_wide() };
        assert_eq!(units, "aé€😀".encode_utf16().collect::<Vec<_>>());
        // SAFETY: as above.
        assert_eq!(unsafe { p.to_string() }.unwrap(), "aé€😀");
        // SAFETY: as above.
        assert_eq!(unsafe { crate::w!("").len() }, 0);
    }

    #[test]
    fn hstring_and_bstr_round_trip() {
        let h = crate::h!("hello");
        assert_eq!(h.to_string(), "hello");
        assert_eq!(HSTRING::from_wide(h.as_wide()), *h);
        let b = BSTR::from("wörld");
        assert_eq!(b.len(), 5);
        assert_eq!(b.clone().to_string(), "wörld");
        assert!(BSTR::new().is_empty());
        assert_eq!(std::mem::size_of::<BSTR>(), std::mem::size_of::<usize>());
    }
}
