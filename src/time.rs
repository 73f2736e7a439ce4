//! Time as the lock and the issuer see it: Unix seconds, hours and days
//! counted from a profile's epoch, and the lock's UTC offset.
//!
//! offpin never reads a clock: every function takes `now` as
//! [`UnixSeconds`]. The server converts from `chrono` (feature `std`), the
//! lock passes its RTC reading.

use core::fmt;

/// Seconds since 1970-01-01T00:00:00Z, ignoring leap seconds (POSIX time).
pub type UnixSeconds = i64;

/// Seconds in one hour.
pub const HOUR: i64 = 3_600;
/// Seconds in one day.
pub const DAY: i64 = 86_400;

/// The lock's offset from UTC, in seconds east of Greenwich.
///
/// Day-granular windows start and end at the lock's local midnight, so the
/// issuer must use the same offset the lock is configured with. Offsets are
/// whole minutes within ±14 hours (every offset in use today).
///
/// # Examples
///
/// ```
/// use offpin::UtcOffset;
/// let cet = UtcOffset::from_minutes(60)?;
/// assert_eq!(cet.seconds(), 3_600);
/// assert!(UtcOffset::from_minutes(15 * 60).is_err());
/// # Ok::<(), offpin::OffsetError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct UtcOffset(i32);

/// The offset given to [`UtcOffset::from_minutes`] is outside ±14 hours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OffsetError {
    /// The rejected offset, in minutes.
    pub minutes: i32,
}

impl fmt::Display for OffsetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "UTC offset of {} minutes is outside -14:00..=+14:00",
            self.minutes
        )
    }
}

impl core::error::Error for OffsetError {}

impl UtcOffset {
    /// UTC itself.
    pub const UTC: UtcOffset = UtcOffset(0);
    /// The largest offset magnitude accepted, in minutes (14 hours).
    pub const MAX_MINUTES: i32 = 14 * 60;

    /// An offset of `minutes` east of UTC (negative: west).
    ///
    /// # Errors
    ///
    /// [`OffsetError`] when `|minutes| > 840` (14 hours).
    pub const fn from_minutes(minutes: i32) -> Result<Self, OffsetError> {
        if minutes > Self::MAX_MINUTES || minutes < -Self::MAX_MINUTES {
            return Err(OffsetError { minutes });
        }
        Ok(UtcOffset(minutes * 60))
    }

    /// The offset in seconds east of UTC.
    pub const fn seconds(self) -> i64 {
        self.0 as i64
    }

    /// The offset in minutes east of UTC.
    pub const fn minutes(self) -> i32 {
        self.0 / 60
    }
}

impl fmt::Display for UtcOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.minutes();
        let sign = if m < 0 { '-' } else { '+' };
        let m = m.unsigned_abs();
        write!(f, "{sign}{:02}:{:02}", m / 60, m % 60)
    }
}

/// A half-open interval of Unix time `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Window {
    /// First second inside the window.
    pub start: UnixSeconds,
    /// First second after the window.
    pub end: UnixSeconds,
}

impl Window {
    /// Length of the window in seconds.
    pub const fn len_secs(&self) -> i64 {
        self.end.saturating_sub(self.start)
    }

    /// Whether `t` lies in `[start, end)`.
    pub const fn contains(&self, t: UnixSeconds) -> bool {
        self.start <= t && t < self.end
    }
}

/// `floor(a / b)` for `b > 0`, rounding towards negative infinity. In
/// `i128`, where differences and products of Unix times and unit counts
/// cannot overflow.
pub(crate) const fn div_floor(a: i128, b: i128) -> i128 {
    a.div_euclid(b)
}

/// `ceil(a / b)` for `b > 0`, in `i128` like [`div_floor`].
pub(crate) const fn div_ceil(a: i128, b: i128) -> i128 {
    let q = a.div_euclid(b);
    if a.rem_euclid(b) == 0 { q } else { q + 1 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_and_ceil_round_outward_for_negatives() {
        let h = i128::from(HOUR);
        assert_eq!(div_floor(-1, h), -1);
        assert_eq!(div_ceil(-1, h), 0);
        assert_eq!(div_floor(h, h), 1);
        assert_eq!(div_ceil(h + 1, h), 2);
        assert_eq!(
            div_floor(i128::from(i64::MIN), h),
            i128::from(i64::MIN / HOUR - 1)
        );
    }

    #[test]
    fn offsets_display_like_rfc3339() {
        let west = UtcOffset::from_minutes(-330).unwrap();
        assert_eq!(std::format!("{west}"), "-05:30");
        assert_eq!(std::format!("{}", UtcOffset::UTC), "+00:00");
    }
}
