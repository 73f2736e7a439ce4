//! Time as the lock and the issuer see it: Unix seconds, hours and days
//! counted from a profile's epoch, and the lock's UTC offset.
//!
//! offpin never reads a clock: every function takes `now` as
//! [`UnixSeconds`]. The server converts from `chrono` (feature `std`), the
//! lock passes its RTC reading.

use core::fmt;

use crate::divisor::Reciprocal;

/// Seconds since 1970-01-01T00:00:00Z, ignoring leap seconds (POSIX time).
pub type UnixSeconds = i64;

/// Seconds in one hour.
pub const HOUR: i64 = 3_600;
/// Seconds in one day.
pub const DAY: i64 = 86_400;

/// [`HOUR`] and [`DAY`] as divisors, their reciprocals computed at compile
/// time: the lock turns times into hours and days with them, by
/// multiplication (a Cortex-M0 has no divider, and 64-bit division is a
/// library routine on every 32-bit core).
pub(crate) const PER_HOUR: Reciprocal = Reciprocal::new(HOUR as u64);
/// See [`PER_HOUR`].
pub(crate) const PER_DAY: Reciprocal = Reciprocal::new(DAY as u64);

/// The lock's offset from UTC, in minutes east of Greenwich.
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
        Ok(UtcOffset(minutes))
    }

    /// The offset in seconds east of UTC.
    pub const fn seconds(self) -> i64 {
        self.0 as i64 * 60
    }

    /// The offset in minutes east of UTC.
    pub const fn minutes(self) -> i32 {
        self.0
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

/// Why a text is not a UTC offset ([`UtcOffset`]'s [`FromStr`](core::str::FromStr)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseOffsetError {
    /// Not `Z`, `UTC`, or a sign followed by `HH`, `HHMM` or `HH:MM`
    /// (exactly one sign, ASCII digits only).
    Malformed,
    /// The minutes are 60 or more.
    MinutesOutOfRange,
    /// Well-formed, but outside ±14 hours.
    OutOfRange(OffsetError),
}

impl fmt::Display for ParseOffsetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseOffsetError::Malformed => {
                f.write_str("not a UTC offset like +01:00, -05:30, +0530 or Z")
            }
            ParseOffsetError::MinutesOutOfRange => {
                f.write_str("the minutes of a UTC offset must be 00 to 59")
            }
            ParseOffsetError::OutOfRange(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl core::error::Error for ParseOffsetError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            ParseOffsetError::OutOfRange(e) => Some(e),
            _ => None,
        }
    }
}

/// Two ASCII digits as a number.
const fn two_digits(hi: u8, lo: u8) -> Option<i32> {
    if hi.is_ascii_digit() && lo.is_ascii_digit() {
        Some((hi - b'0') as i32 * 10 + (lo - b'0') as i32)
    } else {
        None
    }
}

impl core::str::FromStr for UtcOffset {
    type Err = ParseOffsetError;

    /// Parses `Z`, `UTC`, or exactly one `+`/`-` followed by `HH`, `HHMM`
    /// or `HH:MM` in ASCII digits (RFC 3339 and ISO 8601 offsets).
    /// Anything else is refused: no whitespace, no second sign (`+-01:30`,
    /// `++01:00`), no one-digit hours.
    ///
    /// ```
    /// use offpin::UtcOffset;
    /// assert_eq!("+05:30".parse::<UtcOffset>()?.minutes(), 330);
    /// assert_eq!("-0800".parse::<UtcOffset>()?.minutes(), -480);
    /// assert_eq!("Z".parse::<UtcOffset>()?, UtcOffset::UTC);
    /// assert!("+-01:30".parse::<UtcOffset>().is_err());
    /// assert!("+15:00".parse::<UtcOffset>().is_err());
    /// # Ok::<(), offpin::ParseOffsetError>(())
    /// ```
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "Z" || s == "z" || s == "UTC" {
            return Ok(UtcOffset::UTC);
        }
        let (sign, hh, mm) = match *s.as_bytes() {
            [sign, h1, h2] => (sign, (h1, h2), None),
            [sign, h1, h2, m1, m2] => (sign, (h1, h2), Some((m1, m2))),
            [sign, h1, h2, b':', m1, m2] => (sign, (h1, h2), Some((m1, m2))),
            _ => return Err(ParseOffsetError::Malformed),
        };
        let negative = match sign {
            b'+' => false,
            b'-' => true,
            _ => return Err(ParseOffsetError::Malformed),
        };
        let Some(hours) = two_digits(hh.0, hh.1) else {
            return Err(ParseOffsetError::Malformed);
        };
        let minutes = match mm {
            None => 0,
            Some((m1, m2)) => match two_digits(m1, m2) {
                Some(m) if m < 60 => m,
                Some(_) => return Err(ParseOffsetError::MinutesOutOfRange),
                None => return Err(ParseOffsetError::Malformed),
            },
        };
        // At most 99 * 60 + 59: no overflow.
        let total = hours * 60 + minutes;
        UtcOffset::from_minutes(if negative { -total } else { total })
            .map_err(ParseOffsetError::OutOfRange)
    }
}

/// `t + secs`, saturating at the ends of `i64`. Out of line: a 64-bit
/// saturating addition is some 30 bytes of Thumb-1 code, and the lock's
/// checks make several (firmware/run.sh).
#[inline(never)]
pub(crate) const fn add_secs(t: UnixSeconds, secs: i64) -> UnixSeconds {
    t.saturating_add(secs)
}

/// `t - secs`, saturating at the ends of `i64` (out of line, as
/// [`add_secs`]).
#[inline(never)]
pub(crate) const fn sub_secs(t: UnixSeconds, secs: i64) -> UnixSeconds {
    t.saturating_sub(secs)
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
        sub_secs(self.end, self.start)
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
    fn offsets_parse_strictly() {
        let ok = |s: &str| s.parse::<UtcOffset>().map(UtcOffset::minutes);
        assert_eq!(ok("+01:00"), Ok(60));
        assert_eq!(ok("-05:30"), Ok(-330));
        assert_eq!(ok("+0545"), Ok(345));
        assert_eq!(ok("-03"), Ok(-180));
        assert_eq!(ok("+14:00"), Ok(840));
        assert_eq!(ok("-00:00"), Ok(0));
        assert_eq!(ok("Z"), Ok(0));
        assert_eq!(ok("UTC"), Ok(0));
        for bad in [
            "+-01:30", "++01:00", "-+01:00", "--01:00", "+1:00", "01:00", "+01:0", "+01:000",
            " +01:00", "+01:00 ", "+01;00", "+0a:00", "+01:+1", "+", "", "utc+1", "+١٢:00",
        ] {
            assert_eq!(
                bad.parse::<UtcOffset>(),
                Err(ParseOffsetError::Malformed),
                "{bad:?}"
            );
        }
        assert_eq!(
            "+01:60".parse::<UtcOffset>(),
            Err(ParseOffsetError::MinutesOutOfRange)
        );
        assert_eq!(
            "+14:01".parse::<UtcOffset>(),
            Err(ParseOffsetError::OutOfRange(OffsetError { minutes: 841 }))
        );
        assert_eq!(
            "-99:59".parse::<UtcOffset>(),
            Err(ParseOffsetError::OutOfRange(OffsetError { minutes: -5999 }))
        );
        // Display and FromStr round-trip over every accepted offset.
        for m in -UtcOffset::MAX_MINUTES..=UtcOffset::MAX_MINUTES {
            let o = UtcOffset::from_minutes(m).unwrap();
            assert_eq!(std::format!("{o}").parse::<UtcOffset>(), Ok(o));
        }
    }

    proptest::proptest! {
        /// Any text: no panic; what is accepted is canonical once shown,
        /// and a sign followed by anything but two digits is refused.
        #[test]
        fn offset_parsing_is_total_and_round_trips(text in "\\PC{0,8}|[+-]{1,2}[0-9:]{1,6}") {
            if let Ok(o) = text.parse::<UtcOffset>() {
                proptest::prop_assert_eq!(std::format!("{o}").parse::<UtcOffset>(), Ok(o));
                let digits = text.get(1..3).unwrap_or("");
                proptest::prop_assert!(
                    text == "Z" || text == "z" || text == "UTC"
                        || digits.bytes().all(|b| b.is_ascii_digit()),
                    "{text}"
                );
            }
        }

        /// Every offset in range, in each accepted form, parses to itself.
        #[test]
        fn every_form_of_every_offset_parses(m in -UtcOffset::MAX_MINUTES..=UtcOffset::MAX_MINUTES) {
            let o = UtcOffset::from_minutes(m).unwrap();
            let sign = if m < 0 { '-' } else { '+' };
            let (h, mm) = (m.unsigned_abs() / 60, m.unsigned_abs() % 60);
            for form in [std::format!("{sign}{h:02}:{mm:02}"), std::format!("{sign}{h:02}{mm:02}")] {
                proptest::prop_assert_eq!(form.parse::<UtcOffset>(), Ok(o));
            }
        }
    }

    #[test]
    fn offsets_display_like_rfc3339() {
        let west = UtcOffset::from_minutes(-330).unwrap();
        assert_eq!(std::format!("{west}"), "-05:30");
        assert_eq!(std::format!("{}", UtcOffset::UTC), "+00:00");
    }
}
