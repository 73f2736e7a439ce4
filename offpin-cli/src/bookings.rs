//! The CSV of bookings of `offpin issue --from`: every row checked, turned
//! into a request with its idempotency key, before anything is issued.

use std::collections::BTreeMap;
use std::path::Path;

use offpin::server::ledger::{CodeSpec, CodeWant, Device, Ledger, LedgerError};
use offpin::server::zone::BookingTime;

use crate::output::{CliError, CliResult, fail};

/// The columns a bookings file may have.
const COLUMNS: [&str; 7] = [
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

/// Reads and checks every row of `path`.
pub fn read(
    path: &Path,
    ledger: &mut (impl Ledger + ?Sized),
    default_device: Option<&str>,
    rounding: u32,
    backfill: bool,
) -> CliResult<Batch> {
    let label = path.display().to_string();
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| fail("invalid_input", &format!("cannot read {label}"), e))?;
    let headers = reader
        .headers()
        .map_err(|e| fail("invalid_input", &format!("{label} line 1"), e))?
        .clone();
    for h in &headers {
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
    let mut devices: BTreeMap<String, Device> = BTreeMap::new();
    let mut specs = Vec::new();
    let mut lines = Vec::new();
    let mut keys: BTreeMap<String, u64> = BTreeMap::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(fail("invalid_input", &label, e)),
        }
        let line = record.position().map_or(0, csv::Position::line);
        let at = |e: CliError| e.context(&format!("{label} line {line} (nothing was issued)"));
        let booking: Booking = record
            .deserialize(Some(&headers))
            .map_err(|e| at(CliError::input(e.to_string())))?;
        let device_id = nonempty(booking.device_id.clone())
            .or_else(|| default_device.map(str::to_owned))
            .ok_or_else(|| {
                at(CliError::input(
                    "no device_id (fill the column or pass --device-id)",
                ))
            })?;
        if !devices.contains_key(&device_id) {
            let device = ledger.device(&device_id).map_err(|e| at(e.into()))?;
            devices.insert(device_id.clone(), device);
        }
        let device = devices
            .get(&device_id)
            .ok_or_else(|| CliError::new("internal_error", "device cache"))?;
        let spec = row_spec(booking, device, rounding, backfill).map_err(at)?;
        if let Some(key) = &spec.idempotency_key
            && let Some(first) = keys.insert(key.clone(), line)
        {
            return Err(at(CliError::input(format!(
                "the same booking as line {first} (same idempotency key '{key}'); give the rows an idempotency_key column to issue both"
            ))));
        }
        specs.push(spec);
        lines.push(line);
    }
    if specs.is_empty() {
        return Err(CliError::input(format!("{label}: no bookings")));
    }
    Ok(Batch {
        specs,
        label,
        lines,
    })
}
