//! Shared helpers: the error type, argument parsers, output.

use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use offpin::UtcOffset;
use offpin::server::chrono_time::parse_rfc3339;
use offpin::server::ledger::LedgerError;
use offpin_cli::serve::store::{Location, Store};

/// An error the command reports as one line, `error: ...`, exit code 1.
#[derive(Debug)]
pub struct CliError(pub String);

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<LedgerError> for CliError {
    fn from(e: LedgerError) -> Self {
        CliError(e.to_string())
    }
}

impl From<String> for CliError {
    fn from(e: String) -> Self {
        CliError(e)
    }
}

/// Shorthand for command results.
pub type CliResult<T = ()> = Result<T, CliError>;

/// Builds a [`CliError`] from anything displayable, with a prefix.
pub fn fail(prefix: &str, e: impl fmt::Display) -> CliError {
    CliError(format!("{prefix}: {e}"))
}

/// clap parser for RFC 3339 times with an offset.
pub fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    parse_rfc3339(s)
}

/// clap parser for `--max-time-rounding`: `0`, `1h`, `1d`, `1hour`,
/// `1day`, or a number followed by `s`, `m`, `h` or `d`.
pub fn parse_rounding(s: &str) -> Result<u32, String> {
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

/// clap parser for UTC offsets: `+01:00`, `-05:30`, `Z`, `UTC`.
pub fn parse_offset(s: &str) -> Result<UtcOffset, String> {
    let t = s.trim();
    let bad = || format!("'{s}' is not a UTC offset like +01:00, -05:30 or Z");
    if t.eq_ignore_ascii_case("z") || t.eq_ignore_ascii_case("utc") {
        return Ok(UtcOffset::UTC);
    }
    let (sign, rest) = match t.as_bytes().first() {
        Some(b'+') => (1, t.get(1..).unwrap_or_default()),
        Some(b'-') => (-1, t.get(1..).unwrap_or_default()),
        _ => return Err(bad()),
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let h: i32 = h.parse().map_err(|_| bad())?;
    let m: i32 = m.parse().map_err(|_| bad())?;
    if !(0..60).contains(&m) {
        return Err(bad());
    }
    UtcOffset::from_minutes(sign * (h * 60 + m)).map_err(|e| e.to_string())
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> CliResult {
    let text = serde_json::to_string_pretty(value).map_err(|e| fail("JSON", e))?;
    println!("{text}");
    Ok(())
}

/// Opens an existing ledger: an SQLite file, or a PostgreSQL database
/// when `path` is a `postgres://` URL.
pub fn open_ledger(path: &Path) -> CliResult<Box<dyn Store>> {
    Ok(Location::of(path).open(false)?)
}

/// The default lock-state file of a device: beside the ledger,
/// `<ledger>.lock-<device>.state`.
pub fn state_path(ledger: &Path, device_id: &str) -> PathBuf {
    let safe: String = device_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let name = ledger
        .file_name()
        .map_or_else(|| "offpin.db".into(), |n| n.to_string_lossy().into_owned());
    ledger.with_file_name(format!("{name}.lock-{safe}.state"))
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
    fn parsers() {
        assert_eq!(parse_rounding("1h"), Ok(3_600));
        assert_eq!(parse_rounding("1day"), Ok(86_400));
        assert_eq!(parse_rounding("0"), Ok(0));
        assert!(parse_rounding("soon").is_err());
        assert_eq!(parse_offset("+01:00").map(|o| o.minutes()), Ok(60));
        assert_eq!(parse_offset("-05:30").map(|o| o.minutes()), Ok(-330));
        assert_eq!(parse_offset("Z"), Ok(UtcOffset::UTC));
        assert!(parse_offset("+15:00").is_err());
        assert!(parse_offset("01:00").is_err());
        assert_eq!(human_secs(90_000), "1 d 1 h");
    }
}
