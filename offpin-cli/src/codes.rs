//! `offpin list`, `get` and `delete`: the issued codes, their records
//! computed at the time of reading.

use chrono::{DateTime, Utc};
use clap::Args;
use offpin_ledger::ledger::ListFilter;
use serde::Serialize;

use crate::Globals;
use crate::args::instant;
use crate::output::{CliResult, print_json};
use crate::{keyfile, ledger_file};

/// `offpin list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Codes of this device.
    #[arg(long)]
    device_id: Option<String>,
    /// Codes with these ids (repeat the flag, or separate with commas).
    #[arg(long = "access-code-id", value_delimiter = ',')]
    access_code_ids: Vec<String>,
    /// Codes issued for this user.
    #[arg(long)]
    user_identifier_key: Option<String>,
    /// Compute the records at this time (RFC 3339; default: now).
    #[arg(long, value_parser = instant)]
    at: Option<DateTime<Utc>>,
}

/// `offpin get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// The code's id.
    #[arg(long)]
    access_code_id: String,
    /// Compute the record at this time (RFC 3339; default: now).
    #[arg(long, value_parser = instant)]
    at: Option<DateTime<Utc>>,
}

/// `offpin delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The code's id.
    #[arg(long)]
    access_code_id: String,
}

/// Runs `offpin list`.
pub fn list(g: &Globals, a: ListArgs) -> CliResult {
    let filter = ListFilter {
        device_id: a.device_id,
        access_code_ids: a.access_code_ids,
        user_identifier_key: a.user_identifier_key,
        ..ListFilter::default()
    };
    let mut ledger = ledger_file::read(&g.ledger)?;
    print_json(&ledger.list(&filter, a.at.unwrap_or_else(Utc::now))?)
}

/// Runs `offpin get`.
pub fn get(g: &Globals, a: &GetArgs) -> CliResult {
    let mut ledger = ledger_file::read(&g.ledger)?;
    print_json(&ledger.get(&a.access_code_id, a.at.unwrap_or_else(Utc::now))?)
}

/// Runs `offpin delete`.
pub fn delete(g: &Globals, a: &DeleteArgs) -> CliResult {
    let master = keyfile::load(&g.master_key)?;
    let mut ledger = ledger_file::write(&g.ledger)?;
    let deleted = ledger.delete(&master, &a.access_code_id, Utc::now())?;
    #[derive(Serialize)]
    struct Out<'a> {
        access_code_id: &'a str,
        deleted: bool,
        revocation_code: Option<&'a str>,
        revoked_slot: Option<u32>,
        note: &'a str,
        access_code: &'a offpin_ledger::record::AccessCode,
    }
    let note = match (&deleted.revocation_code, deleted.revoked_slot) {
        (Some(_), Some(_)) => {
            "type revocation_code at the lock: from then on it refuses this code for good (`offpin get` shows it again)"
        }
        (None, Some(_)) => {
            "this profile has no revocation codes: the lock keeps accepting this code until it is re-keyed"
        }
        _ => "an offline code cannot be recalled: the lock accepts it until its window ends",
    };
    print_json(&Out {
        access_code_id: &deleted.record.access_code_id,
        deleted: true,
        revocation_code: deleted.revocation_code.as_deref(),
        revoked_slot: deleted.revoked_slot,
        note,
        access_code: &deleted.record,
    })
}
