//! The CSV of bookings of `offpin issue --from`: every row checked, turned
//! into a request with its idempotency key, before anything is issued.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::path::Path;

use offpin_ledger::ledger::{CodeSpec, CodeWant, Device, Ledger, LedgerError};
use offpin_ledger::zone::BookingTime;

use crate::output::{CliError, CliResult, fail};

/// The columns a bookings file may have.
pub const COLUMNS: [&str; 7] = [
    "device_id",
    "type",
    "starts_at",
    "ends_at",
    "name",
    "user_identifier_key",
    "idempotency_key",
];

/// One CSV row.
#[derive(Debug, serde::Deserialize)]
struct Booking {
    device_id: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    starts_at: Option<String>,
    ends_at: Option<String>,
    name: Option<String>,
    user_identifier_key: Option<String>,
    idempotency_key: Option<String>,
}

/// The requests of a bookings file, with the line of each.
pub struct Batch {
    /// One request per row.
    pub specs: Vec<CodeSpec>,
    label: String,
    lines: Vec<u64>,
}

impl Batch {
    /// The line of each request's row in the file (1 is the header).
    pub fn lines(&self) -> &[u64] {
        &self.lines
    }

    /// A ledger error of the batch, naming the file and line of its row.
    pub fn locate(&self, e: LedgerError) -> CliError {
        let line = match &e {
            LedgerError::InBatch { index, .. } => self.lines.get(*index).copied(),
            _ => None,
        };
        let at = line.map(|l| format!("{} line {l}", self.label));
        let e = match e {
            LedgerError::InBatch { source, .. } => CliError::from(*source),
            e => CliError::from(e),
        };
        match at {
            Some(at) => e.context(&format!("{at} (nothing was issued)")),
            None => e,
        }
    }
}

fn nonempty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// The default idempotency key of a request: its device, type, window and
/// user (or, without a user identifier key, its name).
fn default_key(spec: &CodeSpec) -> String {
    let window = match spec.want {
        CodeWant::TimeBound { starts_at, ends_at } => {
            format!("{}..{}", starts_at.timestamp(), ends_at.timestamp())
        }
        CodeWant::OneTime { starts_at } => starts_at.timestamp().to_string(),
        CodeWant::Ongoing => String::new(),
        // Not read from a CSV: a row is time-bound, one-time or ongoing.
        CodeWant::Recurring {
            starts_at,
            ends_at,
            days,
            hours,
        } => {
            format!(
                "{}..{}/{}/{hours}",
                starts_at.timestamp(),
                ends_at.timestamp(),
                days.0
            )
        }
        CodeWant::ClockSet { at } => at.timestamp().to_string(),
    };
    let who = match (&spec.user_identifier_key, &spec.name) {
        (Some(u), _) => format!("user={u}"),
        (None, Some(n)) => format!("name={n}"),
        (None, None) => String::new(),
    };
    format!("csv/{}/{}/{window}/{who}", spec.device_id, spec.want.name())
}

fn row_spec(
    b: Booking,
    device: &Device,
    rounding: u32,
    backfill: bool,
) -> Result<CodeSpec, CliError> {
    let time = |field: &str, v: Option<String>| -> Result<Option<_>, CliError> {
        nonempty(v)
            .map(|v| {
                let t: BookingTime = v
                    .parse()
                    .map_err(|e: String| CliError::input(format!("{field}: {e}")))?;
                device
                    .resolve(&t)
                    .map_err(|e| CliError::from(e).context(field))
            })
            .transpose()
    };
    let starts_at = time("starts_at", b.starts_at)?;
    let ends_at = time("ends_at", b.ends_at)?;
    let kind = nonempty(b.kind).unwrap_or_else(|| "time_bound".to_owned());
    let want = match kind.as_str() {
        "ongoing" if starts_at.is_some() || ends_at.is_some() => {
            return Err(CliError::new(
                "times_disagree",
                "type ongoing, but the row has times: an ongoing code has no starts_at or ends_at (it is valid until deleted)",
            ));
        }
        "ongoing" => CodeWant::Ongoing,
        // Only a row that says `ongoing` is ongoing: an empty booking must
        // never become permanent access.
        "time_bound" | "one_time" if starts_at.is_none() && ends_at.is_none() => {
            return Err(CliError::new(
                "times_disagree",
                format!(
                    "type {kind}, but the row has no times: a {} code needs {} (only an ongoing code has neither, and its type must say so)",
                    kind.replace('_', "-"),
                    if kind == "one_time" {
                        "starts_at"
                    } else {
                        "starts_at and ends_at"
                    }
                ),
            ));
        }
        "time_bound" | "one_time" => {
            CodeWant::from_times(starts_at, ends_at, kind == "one_time")
                .map_err(|e| CliError::from(e).context(&format!("type {kind}")))?
        }
        other => {
            return Err(CliError::input(format!(
                "type '{other}' is not time_bound, one_time or ongoing"
            )));
        }
    };
    let mut spec = CodeSpec {
        max_rounding_secs: rounding,
        name: nonempty(b.name),
        user_identifier_key: nonempty(b.user_identifier_key),
        allow_backfill: backfill,
        ..CodeSpec::new(&device.device_id, want)
    };
    spec.idempotency_key = Some(nonempty(b.idempotency_key).unwrap_or_else(|| default_key(&spec)));
    Ok(spec)
}

/// The line (from 1) of the record that starts at byte `at` of `data`:
/// lines end with `\n`, `\r\n` or `\r`, as the CSV reader's records do.
/// (The reader's own line count misses `\r`: in a `\r\n` file it put
/// each row on the line before, and every row of a `\r` file on line 1.)
fn line_at(data: &[u8], at: usize) -> u64 {
    // A record's position may be the terminator before it.
    let start = data
        .iter()
        .skip(at)
        .position(|b| *b != b'\r' && *b != b'\n')
        .map_or(data.len(), |i| at.saturating_add(i));
    let before = data.get(..start).unwrap_or(data);
    let ends = before
        .iter()
        .enumerate()
        .filter(|&(i, b)| *b == b'\n' || (*b == b'\r' && data.get(i + 1) != Some(&b'\n')))
        .count();
    u64::try_from(ends).map_or(u64::MAX, |n| n.saturating_add(1))
}

/// Reads and checks every row of `path`.
pub fn read(
    path: &Path,
    ledger: &mut (impl Ledger + ?Sized),
    default_device: Option<&str>,
    rounding: u32,
    backfill: bool,
) -> CliResult<Batch> {
    let label = path.display().to_string();
    let file = std::fs::File::open(path)
        .map_err(|e| fail("invalid_input", &format!("cannot read {label}"), e))?;
    read_from(file, &label, ledger, default_device, rounding, backfill)
}

/// Reads and checks every row of a bookings file from `input`; `label`
/// names it in errors (`{label} line 3`). Each row becomes one request
/// (a time-bound, one-time or ongoing code for a device the ledger
/// knows), with its idempotency key (given, or derived from the row); a
/// file without rows, an unknown column, a row that names no device or
/// an unknown one, a type that disagrees with the times, or two rows with
/// the same key is refused, and nothing is issued.
pub fn read_from(
    input: impl std::io::Read,
    label: &str,
    ledger: &mut (impl Ledger + ?Sized),
    default_device: Option<&str>,
    rounding: u32,
    backfill: bool,
) -> CliResult<Batch> {
    let label = label.to_owned();
    let data = read_all(input, &label)?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(&data[..]);
    let headers = reader
        .headers()
        .map_err(|e| fail("invalid_input", &format!("{label} line 1"), e))?
        .clone();
    check_columns(&headers, &label, default_device)?;
    let mut rows = Rows {
        ledger,
        default_device,
        rounding,
        backfill,
        devices: BTreeMap::new(),
        specs: Vec::new(),
        lines: Vec::new(),
        keys: BTreeMap::new(),
    };
    let mut record = csv::StringRecord::new();
    while reader
        .read_record(&mut record)
        .map_err(|e| fail("invalid_input", &label, e))?
    {
        let line = record.position().map_or(0, |p| {
            line_at(&data, usize::try_from(p.byte()).unwrap_or(usize::MAX))
        });
        rows.add(&record, &headers, line)
            .map_err(|e| e.context(&format!("{label} line {line} (nothing was issued)")))?;
    }
    if rows.specs.is_empty() {
        return Err(CliError::input(format!("{label}: no bookings")));
    }
    Ok(Batch {
        specs: rows.specs,
        label,
        lines: rows.lines,
    })
}

/// All of `input`, read before parsing: a record's line is counted from
/// the bytes before it (see [`line_at`]).
fn read_all(mut input: impl std::io::Read, label: &str) -> CliResult<Vec<u8>> {
    let mut data = Vec::new();
    input
        .read_to_end(&mut data)
        .map_err(|e| fail("invalid_input", &format!("cannot read {label}"), e))?;
    Ok(data)
}

/// Refuses a header with a column that is not one of [`COLUMNS`], or
/// without `device_id` when there is no default device.
fn check_columns(
    headers: &csv::StringRecord,
    label: &str,
    default_device: Option<&str>,
) -> CliResult {
    for h in headers {
        if !COLUMNS.contains(&h) {
            return Err(CliError::input(format!(
                "{label} line 1: unknown column '{h}' (the columns are {})",
                COLUMNS.join(", ")
            )));
        }
    }
    if !headers.iter().any(|h| h == "device_id") && default_device.is_none() {
        return Err(CliError::input(format!(
            "{label}: no device_id column and no --device-id"
        )));
    }
    Ok(())
}

/// The requests of the rows read so far, and what checking the next row
/// needs.
struct Rows<'a, L: Ledger + ?Sized> {
    ledger: &'a mut L,
    default_device: Option<&'a str>,
    rounding: u32,
    backfill: bool,
    /// The devices the rows named, each read from the ledger once.
    devices: BTreeMap<String, Device>,
    specs: Vec<CodeSpec>,
    lines: Vec<u64>,
    /// Each row's idempotency key, with the row's line.
    keys: BTreeMap<String, u64>,
}

impl<L: Ledger + ?Sized> Rows<'_, L> {
    /// Checks the row `record` (on `line`) and adds its request. A row
    /// without a device, of an unknown device, or with the key of an
    /// earlier row is refused; the error does not name the line.
    fn add(
        &mut self,
        record: &csv::StringRecord,
        headers: &csv::StringRecord,
        line: u64,
    ) -> CliResult {
        let booking: Booking = record
            .deserialize(Some(headers))
            .map_err(|e| CliError::input(e.to_string()))?;
        let device_id = nonempty(booking.device_id.clone())
            .or_else(|| self.default_device.map(str::to_owned))
            .ok_or_else(|| CliError::input("no device_id (fill the column or pass --device-id)"))?;
        let device = match self.devices.entry(device_id) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(new) => {
                let device = self.ledger.device(new.key())?;
                new.insert(device)
            }
        };
        let spec = row_spec(booking, device, self.rounding, self.backfill)?;
        if let Some(key) = &spec.idempotency_key
            && let Some(first) = self.keys.insert(key.clone(), line)
        {
            return Err(CliError::input(format!(
                "the same booking as line {first} (same idempotency key '{key}'); give the rows an idempotency_key column to issue both"
            )));
        }
        self.specs.push(spec);
        self.lines.push(line);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use offpin_ledger::ledger::memory::MemoryLedger;

    fn ledger() -> MemoryLedger {
        let mut ledger = MemoryLedger::new();
        ledger
            .add_device(
                &offpin::MasterKey::from_bytes([7; 32]),
                &Device::new("d1", "standard-10"),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        ledger
    }

    /// Rows are named by their line in the file (the header is line 1),
    /// whatever ends the lines: `\n`, `\r\n` or `\r`, and with a quoted
    /// field that spans two lines before them.
    #[test]
    fn rows_are_named_by_their_line_whatever_ends_the_lines() {
        for nl in ["\n", "\r\n", "\r"] {
            let text = [
                "device_id,starts_at,ends_at,name",
                "d1,2040-03-01T15:00:00Z,2040-03-01T18:00:00Z,\"two\nlines\"",
                "d1,2040-03-02T15:00:00Z,2040-03-02T18:00:00Z,",
                "d1,2040-03-03T15:00:00Z,,",
                "",
            ]
            .join(nl);
            let e = read_from(text.as_bytes(), "b.csv", &mut ledger(), None, 0, false)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.contains("b.csv line 5 "), "{nl:?}: {e}");
            let ok = text.rsplit_once("d1,2040-03-03").map_or("", |(a, _)| a);
            let batch = read_from(ok.as_bytes(), "b.csv", &mut ledger(), None, 0, false)
                .unwrap_or_else(|e| panic!("{nl:?}: {e}"));
            assert_eq!(batch.lines(), [2, 4], "{nl:?}");
        }
    }
}
