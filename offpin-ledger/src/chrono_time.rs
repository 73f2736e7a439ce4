//! `chrono` ⇄ [`UnixSeconds`], and the RFC 3339 form the access-code API
//! uses (`2025-01-01T16:00:00.000Z`: UTC, milliseconds).

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

use offpin::time::UnixSeconds;

/// The Unix time of `t`, rounded down to the second.
///
/// # Examples
///
/// ```
/// use chrono::DateTime;
/// use offpin_ledger::chrono_time::to_unix;
/// let t = DateTime::parse_from_rfc3339("2025-01-01T16:00:00+01:00")?;
/// assert_eq!(to_unix(&t), 1_735_743_600);
/// # Ok::<(), chrono::ParseError>(())
/// ```
pub fn to_unix<Tz: TimeZone>(t: &DateTime<Tz>) -> UnixSeconds {
    t.timestamp()
}

/// The UTC instant of Unix time `secs`, or `None` outside chrono's range.
pub fn from_unix(secs: UnixSeconds) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(secs, 0)
}

/// `t` as RFC 3339 in UTC with milliseconds, e.g. `2025-01-01T15:00:00.000Z`.
///
/// # Examples
///
/// ```
/// use offpin_ledger::chrono_time::{from_unix, rfc3339_millis};
/// let t = from_unix(1_735_743_600).ok_or("range")?;
/// assert_eq!(rfc3339_millis(&t), "2025-01-01T15:00:00.000Z");
/// # Ok::<(), &str>(())
/// ```
pub fn rfc3339_millis(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Unix time `secs` as [`rfc3339_millis`] text, or the number itself when
/// it is outside chrono's range.
pub fn unix_rfc3339(secs: UnixSeconds) -> String {
    match from_unix(secs) {
        Some(t) => rfc3339_millis(&t),
        None => format!("Unix time {secs}"),
    }
}

/// `t` truncated to whole milliseconds (what the record can show).
pub fn truncate_millis(t: DateTime<Utc>) -> DateTime<Utc> {
    let ms = t.timestamp_millis();
    DateTime::from_timestamp_millis(ms).unwrap_or(t)
}

/// Parses an RFC 3339 time with any offset (`2025-01-01T16:00:00+01:00`,
/// `2025-01-01T15:00:00Z`) into UTC.
///
/// # Errors
///
/// The text of chrono's parse error, prefixed with what was expected.
pub fn parse_rfc3339(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            format!("'{text}' is not an RFC 3339 time like 2025-01-01T16:00:00+01:00 ({e})")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_formats_like_the_api() {
        let t = parse_rfc3339("2025-01-01T16:00:00+01:00").unwrap();
        assert_eq!(to_unix(&t), 1_735_743_600);
        assert_eq!(rfc3339_millis(&t), "2025-01-01T15:00:00.000Z");
        assert_eq!(from_unix(to_unix(&t)), Some(t));
        assert!(parse_rfc3339("2025-13-01T00:00:00Z").is_err());
        assert!(parse_rfc3339("yesterday").is_err());
        let precise = parse_rfc3339("2025-06-14T16:54:17.946242Z").unwrap();
        assert_eq!(
            rfc3339_millis(&truncate_millis(precise)),
            "2025-06-14T16:54:17.946Z"
        );
        assert_eq!(unix_rfc3339(i64::MAX), format!("Unix time {}", i64::MAX));
    }
}
