//! `offpin issue`: one code from flags, or a batch from a CSV of bookings.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use offpin::server::ledger::{CodeSpec, CodeWant};

use crate::keyfile;
use crate::util::{CliError, CliResult, fail, open_ledger, parse_rounding, parse_time, print_json};

/// Batches at least this long show a progress bar (on a terminal).
const PROGRESS_MIN_ROWS: usize = 20;

/// Arguments of `offpin issue`.
#[derive(Debug, Args)]
#[command(after_help = "\
Kinds: time-bound (--starts-at and --ends-at), one-time (--one-time --starts-at)
or ongoing (--ongoing). Times are RFC 3339 with an offset, e.g.
2025-01-01T16:00:00+01:00. The record's starts_at/ends_at are the window the PIN
really encodes, after rounding outward within --max-time-rounding.

Batch: --from bookings.csv with a header row and the columns device_id, type
(time_bound | one_time | ongoing; default time_bound), starts_at, ends_at, name,
user_identifier_key (device_id may be left out when --device-id is given). Every
row is checked before anything is issued; the records are printed as a JSON array.")]
pub struct IssueArgs {
    /// The device (see `offpin device add`).
    #[arg(long, required_unless_present = "from")]
    device_id: Option<String>,
    /// Start of the window (RFC 3339 with offset).
    #[arg(long, value_parser = parse_time, required_unless_present_any = ["ongoing", "from"])]
    starts_at: Option<DateTime<Utc>>,
    /// End of the window, exclusive (RFC 3339 with offset).
    #[arg(long, value_parser = parse_time, required_unless_present_any = ["ongoing", "one_time", "from"], conflicts_with_all = ["ongoing", "one_time"])]
    ends_at: Option<DateTime<Utc>>,
    /// A one-time code: opens once, first use within the profile's use window after --starts-at.
    #[arg(long, conflicts_with = "ongoing")]
    one_time: bool,
    /// An ongoing code: valid until deleted (which yields its revocation PIN).
    #[arg(long, conflicts_with = "starts_at")]
    ongoing: bool,
    /// How far each end of the window may move outward to fit the profile: 0, 1h, 1d, 30m...
    #[arg(long, default_value = "1h", value_parser = parse_rounding)]
    max_time_rounding: u32,
    /// Name shown in the record.
    #[arg(long)]
    name: Option<String>,
    /// Your own user id (for `list --user-identifier-key`).
    #[arg(long)]
    user_identifier_key: Option<String>,
    /// Batch: issue one code per row of this CSV file of bookings.
    #[arg(long, conflicts_with_all = ["starts_at", "ends_at", "one_time", "ongoing", "name", "user_identifier_key"])]
    from: Option<PathBuf>,
}

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
}

fn nonempty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn booking_spec(
    b: Booking,
    default_device: Option<&str>,
    rounding: u32,
) -> Result<CodeSpec, String> {
    let device_id = nonempty(b.device_id)
        .or_else(|| default_device.map(str::to_owned))
        .ok_or("no device_id (add the column or pass --device-id)")?;
    let time = |field: &str, v: Option<String>| -> Result<DateTime<Utc>, String> {
        let v = nonempty(v).ok_or_else(|| format!("{field} is missing"))?;
        parse_time(&v).map_err(|e| format!("{field}: {e}"))
    };
    let kind = nonempty(b.kind).unwrap_or_else(|| "time_bound".to_owned());
    let want = match kind.as_str() {
        "time_bound" => CodeWant::TimeBound {
            starts_at: time("starts_at", b.starts_at)?,
            ends_at: time("ends_at", b.ends_at)?,
        },
        "one_time" => CodeWant::OneTime {
            starts_at: time("starts_at", b.starts_at)?,
        },
        "ongoing" => CodeWant::Ongoing,
        other => {
            return Err(format!(
                "type '{other}' is not time_bound, one_time or ongoing"
            ));
        }
    };
    if let CodeWant::TimeBound { starts_at, ends_at } = want
        && ends_at <= starts_at
    {
        return Err("ends_at must be after starts_at".to_owned());
    }
    Ok(CodeSpec {
        device_id,
        want,
        max_rounding_secs: rounding,
        lineage: 0,
        name: nonempty(b.name),
        user_identifier_key: nonempty(b.user_identifier_key),
        common_code_key: None,
    })
}

fn read_bookings(path: &Path, args: &IssueArgs) -> CliResult<Vec<CodeSpec>> {
    let label = path.display().to_string();
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| fail(&format!("cannot read {label}"), e))?;
    let mut specs = Vec::new();
    for (i, row) in reader.deserialize::<Booking>().enumerate() {
        // Row 1 is the header.
        let line = i + 2;
        let booking = row.map_err(|e| fail(&format!("{label} line {line}"), e))?;
        let spec = booking_spec(booking, args.device_id.as_deref(), args.max_time_rounding)
            .map_err(|e| CliError(format!("{label} line {line}: {e}")))?;
        specs.push(spec);
    }
    if specs.is_empty() {
        return Err(CliError(format!("{label}: no bookings")));
    }
    Ok(specs)
}

/// Runs `offpin issue`.
pub fn run(ledger_path: &Path, key_path: &Path, args: &IssueArgs) -> CliResult {
    let master = keyfile::load(key_path)?;
    if let Some(path) = &args.from {
        let specs = read_bookings(path, args)?;
        let mut ledger = open_ledger(ledger_path)?;
        let bar = if specs.len() >= PROGRESS_MIN_ROWS {
            let bar = ProgressBar::with_draw_target(
                Some(u64::try_from(specs.len()).unwrap_or(u64::MAX)),
                ProgressDrawTarget::stderr(),
            );
            if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} codes ({eta})") {
                bar.set_style(style);
            }
            bar
        } else {
            ProgressBar::hidden()
        };
        let mut records = Vec::with_capacity(specs.len());
        let mut failed = 0usize;
        for (i, spec) in specs.iter().enumerate() {
            match ledger.issue(&master, spec, Utc::now()) {
                Ok(r) => records.push(r),
                Err(e) => {
                    failed += 1;
                    bar.suspend(|| eprintln!("error: {} line {}: {e}", path.display(), i + 2));
                }
            }
            bar.inc(1);
        }
        bar.finish_and_clear();
        print_json(&records)?;
        if failed > 0 {
            return Err(CliError(format!(
                "{failed} of {} bookings were not issued (see above)",
                specs.len()
            )));
        }
        return Ok(());
    }
    let device_id = args
        .device_id
        .as_deref()
        .ok_or_else(|| CliError("--device-id is required".to_owned()))?;
    let want = if args.ongoing {
        CodeWant::Ongoing
    } else {
        let starts_at = args
            .starts_at
            .ok_or_else(|| CliError("--starts-at is required".to_owned()))?;
        if args.one_time {
            CodeWant::OneTime { starts_at }
        } else {
            let ends_at = args
                .ends_at
                .ok_or_else(|| CliError("--ends-at is required".to_owned()))?;
            if ends_at <= starts_at {
                return Err(CliError("--ends-at must be after --starts-at".to_owned()));
            }
            CodeWant::TimeBound { starts_at, ends_at }
        }
    };
    let spec = CodeSpec {
        device_id: device_id.to_owned(),
        want,
        max_rounding_secs: args.max_time_rounding,
        lineage: 0,
        name: args.name.clone(),
        user_identifier_key: args.user_identifier_key.clone(),
        common_code_key: None,
    };
    let mut ledger = open_ledger(ledger_path)?;
    let record = ledger.issue(&master, &spec, Utc::now())?;
    print_json(&record)
}
