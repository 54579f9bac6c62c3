//! Virtual time (decision D13): integer milliseconds on a clock that only the simulation moves.
//!
//! Nothing in this crate reads the host clock. [`SimTime`] is an instant measured from the start of the
//! simulation and [`SimDuration`] a span; both are plain `u64` millisecond counts that serialise as numbers.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// An instant on the virtual clock: milliseconds since the simulation started.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SimTime(u64);

/// A span of virtual time in milliseconds.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SimDuration(u64);

impl SimTime {
    /// The start of the simulation.
    pub const ZERO: SimTime = SimTime(0);
    /// The latest representable instant; used as "never".
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// An instant `ms` milliseconds after the start.
    pub const fn from_millis(ms: u64) -> SimTime {
        SimTime(ms)
    }
    /// An instant `s` whole seconds after the start (saturating).
    pub const fn from_secs(s: u64) -> SimTime {
        SimTime(s.saturating_mul(1000))
    }
    /// Milliseconds since the start.
    pub const fn as_millis(self) -> u64 {
        self.0
    }
    /// Whole seconds since the start (rounded down).
    pub const fn as_secs(self) -> u64 {
        self.0 / 1000
    }
    /// The span from `earlier` to `self`, or zero if `earlier` is later.
    pub const fn saturating_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
    /// `self + d`, saturating at [`SimTime::MAX`].
    pub const fn saturating_add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);
    /// The longest representable span.
    pub const MAX: SimDuration = SimDuration(u64::MAX);

    /// A span of `ms` milliseconds.
    pub const fn from_millis(ms: u64) -> SimDuration {
        SimDuration(ms)
    }
    /// A span of `s` seconds (saturating).
    pub const fn from_secs(s: u64) -> SimDuration {
        SimDuration(s.saturating_mul(1000))
    }
    /// A span of `m` minutes.
    pub const fn from_mins(m: u64) -> SimDuration {
        SimDuration::from_secs(m.saturating_mul(60))
    }
    /// A span of `h` hours.
    pub const fn from_hours(h: u64) -> SimDuration {
        SimDuration::from_secs(h.saturating_mul(3600))
    }
    /// A span of `d` days.
    pub const fn from_days(d: u64) -> SimDuration {
        SimDuration::from_secs(d.saturating_mul(86_400))
    }
    /// The span in milliseconds.
    pub const fn as_millis(self) -> u64 {
        self.0
    }
    /// The span in whole seconds (rounded down).
    pub const fn as_secs(self) -> u64 {
        self.0 / 1000
    }
}

/// A host [`std::time::Duration`] as a virtual span, for code that already speaks `Duration`
/// (`sim.advance(Duration::from_secs(90).into())`).
///
/// Virtual time counts whole milliseconds (D13): the sub-millisecond part is dropped (rounded down,
/// as [`std::time::Duration::as_millis`] does), so 1.9999 ms is 1 ms and 999 µs is zero; spans longer
/// than [`SimDuration::MAX`] saturate.
impl From<std::time::Duration> for SimDuration {
    fn from(d: std::time::Duration) -> SimDuration {
        SimDuration(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

/// A virtual span as a host [`std::time::Duration`] (exact: whole milliseconds).
impl From<SimDuration> for std::time::Duration {
    fn from(d: SimDuration) -> std::time::Duration {
        std::time::Duration::from_millis(d.0)
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        self.saturating_add(d)
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        *self = self.saturating_add(d);
    }
}

impl Sub for SimTime {
    type Output = SimDuration;
    fn sub(self, earlier: SimTime) -> SimDuration {
        self.saturating_since(earlier)
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, o: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(o.0))
    }
}

fn fmt_millis(ms: u64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let (s, rem) = (ms / 1000, ms % 1000);
    if rem == 0 {
        write!(f, "{s}s")
    } else {
        write!(f, "{s}.{rem:03}s")
    }
}

impl fmt::Display for SimTime {
    /// `t=12.500s` style, the form used in traces.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("t=")?;
        fmt_millis(self.0, f)
    }
}

impl fmt::Debug for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_millis(self.0, f)
    }
}

impl fmt::Debug for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn d13_time_is_integer_millis_and_saturates() {
        let t = SimTime::from_secs(1_209_600);
        assert_eq!(t.as_millis(), 1_209_600_000);
        assert_eq!(SimTime::MAX + SimDuration::from_secs(1), SimTime::MAX);
        assert_eq!(
            SimTime::from_secs(1) - SimTime::from_secs(3),
            SimDuration::ZERO
        );
        assert_eq!(SimDuration::from_days(14).as_secs(), 1_209_600);
        assert_eq!(format!("{}", SimTime::from_millis(12_500)), "t=12.500s");
        assert_eq!(format!("{}", SimTime::from_secs(600)), "t=600s");
        assert_eq!(
            serde_json::to_string(&SimTime::from_millis(5)).unwrap(),
            "5"
        );
    }

    #[test]
    fn d13_std_durations_convert_rounding_sub_millisecond_parts_down() {
        use std::time::Duration;
        let ms = |d: Duration| SimDuration::from(d).as_millis();
        assert_eq!(ms(Duration::from_secs(90)), 90_000);
        assert_eq!(ms(Duration::from_micros(1_999)), 1);
        assert_eq!(ms(Duration::from_micros(999)), 0);
        assert_eq!(ms(Duration::from_nanos(2_000_001)), 2);
        assert_eq!(ms(Duration::MAX), u64::MAX);
        assert_eq!(
            Duration::from(SimDuration::from_millis(1_500)),
            Duration::from_millis(1_500)
        );
    }
}
