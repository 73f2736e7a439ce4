//! Argument parsers shared by the commands, and durations for people.

use chrono::{DateTime, Utc};
use offpin::UtcOffset;
use offpin_ledger::chrono_time::parse_rfc3339;
use offpin_ledger::zone::BookingTime;

/// clap parser for an instant: RFC 3339 with an offset.
pub fn instant(s: &str) -> Result<DateTime<Utc>, String> {
    parse_rfc3339(s)
}

/// clap parser for a booking time: RFC 3339 with an offset, or a local
/// time without one (read in the device's time zone).
pub fn booking_time(s: &str) -> Result<BookingTime, String> {
    s.parse()
}

/// clap parser for UTC offsets (the core's [`UtcOffset`] syntax).
pub fn offset(s: &str) -> Result<UtcOffset, String> {
    s.parse::<UtcOffset>().map_err(|e| format!("'{s}': {e}"))
}

/// clap parser for `--max-time-rounding`: `0`, `1h`, `1d`, `1hour`,
/// `1day`, or a number followed by `s`, `m`, `h` or `d`.
pub fn rounding(s: &str) -> Result<u32, String> {
    let t = s.trim().to_ascii_lowercase();
    let bad = || format!("'{s}' is not a rounding like 1h, 1d, 30m or 0");
    let t = match t.as_str() {
        "1hour" => "1h".to_owned(),
        "1day" => "1d".to_owned(),
        _ => t,
    };
    if t == "0" {
        return Ok(0);
    }
    let (num, unit) = t.split_at(t.len().saturating_sub(1));
    if !num.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: u32 = num.parse().map_err(|_| bad())?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    n.checked_mul(mult).ok_or_else(bad)
}

/// Human form of a duration in seconds (`3 h`, `2 d 4 h`, `15 min`).
pub fn human_secs(secs: i64) -> String {
    let s = secs.unsigned_abs();
    let (d, h, m) = (s / 86_400, (s % 86_400) / 3_600, (s % 3_600) / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundings_and_durations() {
        assert_eq!(rounding("1h"), Ok(3_600));
        assert_eq!(rounding("1day"), Ok(86_400));
        assert_eq!(rounding("0"), Ok(0));
        assert!(rounding("soon").is_err());
        assert!(rounding("+1h").is_err());
        assert_eq!(human_secs(90_000), "1 d 1 h");
        assert_eq!(human_secs(5_400), "1 h 30 min");
    }
}
