//! D46 for the enumerators a run holds: an enumerator is a snapshot taken when it is made and a
//! cursor over it. While its application lives in the service generation it was made in, GetCount is
//! the size of the snapshot (it never changes, and a clone reports the same), `Next(celt)` hands out
//! `min(celt, left)` items and returns S_OK exactly when all `celt` came back (S_FALSE when fewer),
//! `Skip(celt)` moves the cursor the same way (stopping at the end), `Reset` rewinds, `Clone` starts
//! at the same position; after its application exits or the service restarts every method fails with
//! RPC_E_DISCONNECTED (D2, D15).
//!
//! The [`Harness`](crate::testing::Harness) keeps an [`EnumCursor`] per enumerator held, judges every
//! enumerator step with it, and asks every held enumerator's GetCount after every step.

use super::Violation;
use crate::HResult;

/// What D46 says a held enumerator is: the size of its snapshot (its GetCount when it was made) and
/// where its cursor stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnumCursor {
    /// The size of the snapshot.
    pub count: u32,
    /// The cursor: how many items of the snapshot lie before it.
    pub position: u32,
}

/// One call on a held enumerator, with what the step observed.
#[derive(Clone, Copy, Debug)]
pub(crate) enum EnumCall {
    /// Next(celt), and how many came back (`None` when it failed).
    Next { celt: u32, fetched: Option<u32> },
    /// Skip(celt).
    Skip { celt: u32 },
    /// Reset.
    Reset,
    /// GetCount, and the count it gave (`None` when it failed).
    Count { is: Option<u32> },
    /// Clone.
    Clone,
}

impl EnumCursor {
    /// A new enumerator over a snapshot of `count` items.
    pub fn new(count: u32) -> EnumCursor {
        EnumCursor { count, position: 0 }
    }

    /// How many of `celt` items a Next or Skip hands out or passes, and the HRESULT it returns.
    fn take(&self, celt: u32) -> (u32, HResult) {
        let n = celt.min(self.count.saturating_sub(self.position));
        let hr = if n == celt {
            HResult::S_OK
        } else {
            HResult::S_FALSE
        };
        (n, hr)
    }

    /// Judge `call` on enumerator `alias`, which returned `result`, against D46 (`alive`: its
    /// application lives and the service has not restarted since it was made), and move the cursor as
    /// the call moves it.
    pub(crate) fn judge(
        &mut self,
        alias: &str,
        call: EnumCall,
        alive: bool,
        result: HResult,
    ) -> Result<(), Violation> {
        let bad = |what: String| {
            Err(Violation::new(
                "D46",
                format!("{what} on enumerator {alias} ({self:?})"),
            ))
        };
        if !alive {
            if result != HResult::RPC_E_DISCONNECTED {
                return bad(format!(
                    "{call:?} returned {result} after its application exited or the service \
                     restarted, but the spec says RPC_E_DISCONNECTED"
                ));
            }
            return Ok(());
        }
        match call {
            EnumCall::Next { celt, fetched } => {
                let (n, hr) = self.take(celt);
                if result != hr || fetched != Some(n) {
                    return bad(format!(
                        "Next({celt}) returned {result} with {fetched:?} items, but the spec says \
                         {hr} with {n} (S_OK exactly when all celt come back)"
                    ));
                }
                self.position += n;
            }
            EnumCall::Skip { celt } => {
                let (n, hr) = self.take(celt);
                if result != hr {
                    return bad(format!(
                        "Skip({celt}) returned {result}, but the spec says {hr} ({n} left to pass)"
                    ));
                }
                self.position += n;
            }
            EnumCall::Reset => {
                if result != HResult::S_OK {
                    return bad(format!("Reset returned {result}, but the spec says S_OK"));
                }
                self.position = 0;
            }
            EnumCall::Count { is } => {
                if result != HResult::S_OK || is != Some(self.count) {
                    return bad(format!(
                        "GetCount returned {result} with {is:?}, but the spec says S_OK with {} \
                         (the size of the snapshot, fixed when the enumerator was made)",
                        self.count
                    ));
                }
            }
            EnumCall::Clone => {
                if result != HResult::S_OK {
                    return bad(format!("Clone returned {result}, but the spec says S_OK"));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// D46's cursor: Next and Skip hand out at most what is left, S_FALSE exactly when fewer than
    /// celt; Reset rewinds; GetCount is the snapshot's size; a dead enumerator answers
    /// RPC_E_DISCONNECTED — and anything else is a violation.
    #[test]
    fn d46_cursor_judges_next_skip_reset_count() {
        let mut c = EnumCursor::new(3);
        let next = |celt, fetched| EnumCall::Next {
            celt,
            fetched: Some(fetched),
        };
        c.judge("n1", next(2, 2), true, HResult::S_OK).unwrap();
        assert_eq!(c.position, 2);
        let mut copy = c;
        let wrong = copy.judge("n1", next(2, 1), true, HResult::S_OK);
        assert_eq!(wrong.unwrap_err().rule, "D46");
        c.judge("n1", next(2, 1), true, HResult::S_FALSE).unwrap();
        assert_eq!(c.position, 3);
        c.judge("n1", EnumCall::Skip { celt: 1 }, true, HResult::S_FALSE)
            .unwrap();
        c.judge("n1", EnumCall::Skip { celt: 0 }, true, HResult::S_OK)
            .unwrap();
        c.judge("n1", EnumCall::Reset, true, HResult::S_OK).unwrap();
        assert_eq!(c.position, 0);
        c.judge("n1", EnumCall::Count { is: Some(3) }, true, HResult::S_OK)
            .unwrap();
        assert!(c
            .judge("n1", EnumCall::Count { is: Some(2) }, true, HResult::S_OK)
            .is_err());
        c.judge("n1", EnumCall::Clone, false, HResult::RPC_E_DISCONNECTED)
            .unwrap();
        assert!(c
            .judge("n1", EnumCall::Reset, false, HResult::S_OK)
            .is_err());
        assert_eq!(c, EnumCursor::new(3));
    }
}
