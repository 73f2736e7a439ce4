//! `offpin issue`: one code from flags, or a batch from a CSV of bookings
//! ([`crate::bookings`]).

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::Args;
use offpin::MasterKey;
use offpin_ledger::ledger::hosted::schedule;
use offpin_ledger::ledger::{CodeSpec, CodeWant, Device, Ledger, SharedSpec};
use offpin_ledger::record::AccessCode;
use offpin_ledger::zone::BookingTime;
use serde::Serialize;

use crate::Globals;
use crate::args::{booking_time, instant, rounding};
use crate::output::{CliError, CliResult, print_json, warn};
use crate::{bookings, keyfile, ledger_file};

/// Arguments of `offpin issue`.
#[derive(Debug, Args)]
#[command(after_help = "\
Kinds: time-bound (--starts-at and --ends-at), one-time (--one-time --starts-at)
or ongoing (--ongoing); on format-v2 profiles (standard-10-v2), weekly recurring
(--weekdays mon,tue --hours 09:00-17:00 with --starts-at and --ends-at: whole weeks,
refused if a slot of them would open before --starts-at or close after --ends-at
by more than --max-time-rounding) and clock-setting (--sets-clock-to T: the lock
accepts it up to the profile's step before T and sets its clock to T; it opens
nothing, so give it only to whom may set the lock's clock). Times are RFC 3339 with an offset (2025-01-01T16:00:00+01:00)
or local times without one (2025-01-01T16:00), read in the device's time zone
with its daylight-saving rules for that date. The record's starts_at/ends_at are
the window the PIN really encodes, after rounding outward within --max-time-rounding.
A window that has ended, or whose activation deadline has passed, is refused
unless --allow-backfill records it (its record then says it cannot open).

Batch: --from bookings.csv, a header row and the columns device_id, type
(time_bound | one_time | ongoing; default time_bound), starts_at, ends_at, name,
user_identifier_key, idempotency_key; any other column is an error (device_id
may be left out when --device-id is given). Every row is checked first, then all
are issued in one transaction: all or nothing, even if the command is killed.
The records are printed, as one JSON array, only after that transaction
commits. Each row has an idempotency key (its column, or by default the device,
type, window and user_identifier_key, or name when there is no key), so running
the same file again prints the codes issued the first time and issues nothing.")]
pub struct IssueArgs {
    /// The device (see `offpin device add`).
    #[arg(long, required_unless_present_any = ["from", "group"], conflicts_with = "group")]
    device_id: Option<String>,
    /// One PIN for every member of this group (see `offpin group`): prints the PIN, the members it opens and its common_code_key.
    #[arg(long, conflicts_with_all = ["from", "idempotency_key", "allow_backfill"])]
    group: Option<String>,
    /// Start of the window: RFC 3339 with offset, or local time in the device's zone.
    #[arg(long, value_parser = booking_time, required_unless_present_any = ["ongoing", "from", "sets_clock_to"])]
    starts_at: Option<BookingTime>,
    /// End of the window, exclusive (same forms as --starts-at).
    #[arg(long, value_parser = booking_time, required_unless_present_any = ["ongoing", "one_time", "from", "sets_clock_to"], conflicts_with_all = ["ongoing", "one_time"])]
    ends_at: Option<BookingTime>,
    /// A weekly recurring code (format-v2 profiles) on these days (monday,...,sunday or mon,...,sun), in the weeks that cover --starts-at..--ends-at; needs --hours.
    #[arg(long, value_delimiter = ',', requires = "hours", conflicts_with_all = ["one_time", "ongoing", "group"])]
    weekdays: Vec<String>,
    /// The daily hours of a recurring code, local time: 09:00-17:00 (whole hours; 24:00 is midnight).
    #[arg(long, requires = "weekdays")]
    hours: Option<String>,
    /// A clock-setting code (format-v2 profiles): typed at the lock up to the profile's step before this instant (RFC 3339), it sets the lock's clock to it. Opens nothing.
    #[arg(long, value_parser = instant, conflicts_with_all = ["starts_at", "ends_at", "one_time", "ongoing", "weekdays", "group", "from"])]
    sets_clock_to: Option<DateTime<Utc>>,
    /// A one-time code: opens once, first use within the profile's use window after --starts-at.
    #[arg(long, conflicts_with = "ongoing")]
    one_time: bool,
    /// An ongoing code: valid until deleted (which yields its revocation PIN).
    #[arg(long, conflicts_with = "starts_at")]
    ongoing: bool,
    /// How far each end of the window may move outward to fit the profile: 0, 1h, 1d, 30m...
    #[arg(long, default_value = "1h", value_parser = rounding)]
    max_time_rounding: u32,
    /// Name shown in the record.
    #[arg(long)]
    name: Option<String>,
    /// Your own user id (for `list --user-identifier-key`).
    #[arg(long)]
    user_identifier_key: Option<String>,
    /// Makes the request safe to retry: the same key returns the code issued the first time.
    #[arg(long)]
    idempotency_key: Option<String>,
    /// Record a code even if it can no longer open (its window ended or its activation deadline passed).
    #[arg(long)]
    allow_backfill: bool,
    /// Batch: issue one code per row of this CSV file of bookings.
    #[arg(long, conflicts_with_all = ["starts_at", "ends_at", "one_time", "ongoing", "name", "user_identifier_key", "idempotency_key"])]
    from: Option<PathBuf>,
}

/// Runs `offpin issue`.
pub fn run(g: &Globals, args: &IssueArgs) -> CliResult {
    let master = keyfile::load(&g.master_key)?;
    let mut ledger = ledger_file::write(&g.ledger)?;
    if let Some(path) = &args.from {
        let batch = bookings::read(
            path,
            &mut *ledger,
            args.device_id.as_deref(),
            args.max_time_rounding,
            args.allow_backfill,
        )?;
        let issued = ledger
            .issue_batch(&master, &batch.specs, Utc::now())
            .map_err(|e| batch.locate(e))?;
        let again = issued.iter().filter(|o| !o.created).count();
        let records: Vec<_> = issued.into_iter().map(|o| o.record).collect();
        print_json(&records)?;
        if again > 0 {
            warn(
                &format!(
                    "{} of {} rows were issued by an earlier run (same idempotency key): their codes are printed as they are, none was issued twice",
                    again,
                    records.len()
                ),
                g.json,
            );
        }
        return Ok(());
    }
    if let Some(group_id) = &args.group {
        return issue_group(&master, &mut *ledger, args, group_id);
    }
    let device_id = args
        .device_id
        .as_deref()
        .ok_or_else(|| CliError::input("--device-id is required"))?;
    let device = ledger.device(device_id)?;
    let want = want(args, &device)?;
    let spec = CodeSpec {
        max_rounding_secs: args.max_time_rounding,
        name: args.name.clone(),
        user_identifier_key: args.user_identifier_key.clone(),
        idempotency_key: args.idempotency_key.clone(),
        allow_backfill: args.allow_backfill,
        ..CodeSpec::new(device_id, want)
    };
    let issued = ledger.issue(&master, &spec, Utc::now())?;
    if !issued.created {
        warn(
            "this idempotency key was used before: the code issued then is printed, nothing new was issued",
            g.json,
        );
    }
    print_json(&issued.record)
}

/// What the flags ask for, times read in `device`'s zone.
fn want(args: &IssueArgs, device: &Device) -> CliResult<CodeWant> {
    if args.ongoing {
        return Ok(CodeWant::Ongoing);
    }
    if let Some(at) = args.sets_clock_to {
        return Ok(CodeWant::ClockSet { at });
    }
    let resolve = |t: &Option<BookingTime>| t.as_ref().map(|t| device.resolve(t)).transpose();
    if let Some(hours) = &args.hours {
        let (from, to) = hours
            .split_once('-')
            .ok_or_else(|| CliError::input(format!("--hours '{hours}': write it 09:00-17:00")))?;
        let (days, hours) = schedule(&args.weekdays, from, to)
            .map_err(|e| CliError::input(format!("--weekdays/--hours: {e}")))?;
        let (Some(starts_at), Some(ends_at)) = (resolve(&args.starts_at)?, resolve(&args.ends_at)?)
        else {
            return Err(CliError::input(
                "a recurring code needs --starts-at and --ends-at: the span its weeks cover",
            ));
        };
        return Ok(CodeWant::Recurring {
            starts_at,
            ends_at,
            days,
            hours,
        });
    }
    Ok(CodeWant::from_times(
        resolve(&args.starts_at)?,
        resolve(&args.ends_at)?,
        args.one_time,
    )?)
}

/// What `offpin issue --group` prints.
#[derive(Serialize)]
struct GroupIssueJson<'a> {
    code: &'a str,
    common_code_key: Option<&'a str>,
    group_id: &'a str,
    group_generation: u32,
    opens: Vec<&'a str>,
    access_codes: &'a [AccessCode],
}

/// `offpin issue --group`: one PIN for every member (local times read in
/// the first member's zone; the members encode the window alike or the
/// ledger refuses). Nothing is printed unless every member got the PIN.
fn issue_group(
    master: &MasterKey,
    ledger: &mut dyn Ledger,
    args: &IssueArgs,
    group_id: &str,
) -> CliResult {
    let group = ledger.group(group_id)?;
    let first = group.members.first().ok_or_else(|| {
        CliError::input(format!(
            "group '{group_id}' has no member (offpin group add)"
        ))
    })?;
    let device = ledger.device(first)?;
    let members: Vec<&str> = group.members.iter().map(String::as_str).collect();
    let spec = SharedSpec {
        max_rounding_secs: args.max_time_rounding,
        name: args.name.clone(),
        user_identifier_key: args.user_identifier_key.clone(),
        ..SharedSpec::new(&members, want(args, &device)?)
    };
    let out = ledger.issue_shared(master, &spec, Utc::now())?;
    let reference = out
        .group
        .as_ref()
        .ok_or_else(|| CliError::input("the code was not shared"))?;
    let code = out
        .records
        .first()
        .map(|r| r.code.as_str())
        .ok_or_else(|| CliError::input("no member got the code"))?;
    if out.records.iter().any(|r| r.code != code) {
        return Err(CliError::input("the members got different codes"));
    }
    print_json(&GroupIssueJson {
        code,
        common_code_key: out.common_code_key.as_deref(),
        group_id: &reference.group_id,
        group_generation: reference.generation,
        opens: out.records.iter().map(|r| r.device_id.as_str()).collect(),
        access_codes: &out.records,
    })
}
