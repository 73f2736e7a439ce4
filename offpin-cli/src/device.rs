//! `offpin device`: register locks, change or remove them, show their
//! settings and their keys.

use chrono::Utc;
use clap::{Args, Subcommand};
use offpin::{MasterKey, UtcOffset};
use offpin_ledger::chrono_time::unix_rfc3339;
use offpin_ledger::ledger::{
    Consequence, DEFAULT_WORKSPACE, Device, DeviceChange, DeviceUpdated, LedgerError,
    fingerprint_hex,
};
use serde::Serialize;

use crate::Globals;
use crate::args::offset;
use crate::output::{CliResult, print_json, say, warn};
use crate::{keyfile, ledger_file};

/// `offpin device ...`.
#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Register a lock (the ledger file is created if needed); the first one binds the ledger to the master key.
    Add(AddArgs),
    /// Change a lock's UTC offset, time zone or key generation; prints the codes the change affects.
    Update(UpdateArgs),
    /// Remove a lock from the ledger (its codes stay listed); prints the codes it still opens for.
    Remove {
        /// The device.
        #[arg(long)]
        device_id: String,
    },
    /// List registered locks.
    List,
    /// Print a lock's device key (hex) to provision into its firmware (binds a ledger an older offpin left without a key).
    Key {
        /// The device.
        #[arg(long)]
        device_id: String,
    },
}

/// `offpin device add`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("clock").required(true).multiple(true).args(["utc_offset", "time_zone"])))]
pub struct AddArgs {
    /// The device id (1 to 255 bytes; part of the key derivation).
    #[arg(long)]
    device_id: String,
    /// A shipped profile: standard-10, compact-8, secure-12, keypad9-11.
    #[arg(long, default_value = "standard-10")]
    profile: String,
    /// The lock's fixed clock offset (daily windows start at its midnight); default: the time zone's standard offset.
    #[arg(long, value_parser = offset, allow_hyphen_values = true)]
    utc_offset: Option<UtcOffset>,
    /// The IANA time zone the lock is in (e.g. Europe/Paris): local booking times follow its rules, DST included.
    #[arg(long)]
    time_zone: Option<String>,
    /// Key generation (bump it with `device update` to re-key a lock).
    #[arg(long, default_value_t = 0)]
    generation: u32,
    /// The workspace that owns the lock and its codes (see `offpin workspace`).
    #[arg(long, default_value = DEFAULT_WORKSPACE)]
    workspace: String,
}

/// `offpin device update`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("change").required(true).multiple(true).args(["utc_offset", "time_zone", "no_time_zone", "generation"])))]
pub struct UpdateArgs {
    /// The device.
    #[arg(long)]
    device_id: String,
    /// The lock's new fixed clock offset (moves the windows of daily codes).
    #[arg(long, value_parser = offset, allow_hyphen_values = true)]
    utc_offset: Option<UtcOffset>,
    /// The new IANA time zone.
    #[arg(long, conflicts_with = "no_time_zone")]
    time_zone: Option<String>,
    /// Forget the time zone (local times then use the fixed offset).
    #[arg(long)]
    no_time_zone: bool,
    /// A new, higher key generation: re-keys the lock; every code issued before stops opening once the lock has its new key.
    #[arg(long)]
    generation: Option<u32>,
}

/// The JSON form of a device.
#[derive(Serialize)]
pub struct DeviceJson<'a> {
    device_id: &'a str,
    profile: &'a str,
    utc_offset: String,
    time_zone: Option<&'a str>,
    generation: u32,
    workspace_id: &'a str,
}

/// A device as JSON.
pub fn json(d: &Device) -> DeviceJson<'_> {
    DeviceJson {
        device_id: &d.device_id,
        profile: &d.profile,
        utc_offset: d.utc_offset.to_string(),
        time_zone: d.time_zone.as_deref(),
        generation: d.generation,
        workspace_id: &d.workspace_id,
    }
}

#[derive(Serialize)]
struct AffectedJson<'a> {
    access_code_id: &'a str,
    name: Option<&'a str>,
    consequence: &'static str,
    message: String,
}

#[derive(Serialize)]
struct UpdatedJson<'a> {
    device: DeviceJson<'a>,
    before: DeviceJson<'a>,
    affected: Vec<AffectedJson<'a>>,
}

#[derive(Serialize)]
struct RemovedJson<'a> {
    device_id: &'a str,
    removed: bool,
    still_opens: Vec<AffectedJson<'a>>,
}

fn affected(u: &DeviceUpdated, removed: bool) -> Vec<AffectedJson<'_>> {
    u.affected
        .iter()
        .map(|a| {
            let (consequence, message) = match (&a.consequence, removed) {
                (_, true) => (
                    "still_opens",
                    "the lock keeps opening for it if it stays in service".to_owned(),
                ),
                (Consequence::StopsOpening, false) => (
                    "stops_opening",
                    format!(
                        "stops opening once the lock holds the key of generation {}",
                        u.after.generation
                    ),
                ),
                (Consequence::WindowMoves { from, to }, false) => (
                    "window_moves",
                    format!(
                        "the lock honours {} .. {} instead of {} .. {}",
                        unix_rfc3339(to.start),
                        unix_rfc3339(to.end),
                        unix_rfc3339(from.start),
                        unix_rfc3339(from.end)
                    ),
                ),
            };
            AffectedJson {
                access_code_id: &a.record.access_code_id,
                name: a.record.name.as_deref(),
                consequence,
                message,
            }
        })
        .collect()
}

/// Warns when the zone observes DST while the lock's clock stays fixed.
fn dst_warning(d: &Device, json: bool) -> CliResult {
    let off = d.offsets_off_the_lock(Utc::now())?;
    if let (Some(zone), false) = (&d.time_zone, off.is_empty()) {
        let others: Vec<String> = off.iter().map(ToString::to_string).collect();
        warn(
            &format!(
                "{zone} is also at UTC{} during the year while the lock's clock stays at UTC{}: daily windows then start and end off local midnight (each code's record says by how much)",
                others.join(" and UTC"),
                d.utc_offset
            ),
            json,
        );
    }
    Ok(())
}

/// `device key` on a ledger an older offpin wrote, with devices but no
/// master-key fingerprint and no code to check the key against: the key
/// whose device key is printed, to be provisioned into the lock, becomes
/// the ledger's key (said on stderr). Returns the device.
fn adopt(g: &Globals, master: &MasterKey, device_id: &str) -> CliResult<Device> {
    let mut ledger = ledger_file::write(&g.ledger)?;
    let device = ledger.device(device_id)?;
    ledger.adopt_master_key(master)?;
    warn(
        &format!(
            "this ledger had devices but no master key bound (an older offpin wrote it): it is now bound to the key given (fingerprint {}), the key this device key derives from; every other key is refused from now on",
            fingerprint_hex(&master.fingerprint())
        ),
        g.json,
    );
    Ok(device)
}

/// Runs `offpin device ...`.
pub fn run(g: &Globals, command: DeviceCommand) -> CliResult {
    match command {
        DeviceCommand::Add(a) => {
            let mut device = Device::new(&a.device_id, &a.profile)
                .with_generation(a.generation)
                .in_workspace(&a.workspace);
            device.time_zone = a.time_zone;
            device.utc_offset = match (a.utc_offset, device.zone()?) {
                (Some(o), _) => o,
                (None, Some(zone)) => zone.standard_offset(Utc::now().timestamp()),
                (None, None) => UtcOffset::UTC,
            };
            device.validate()?;
            let master = keyfile::load(&g.master_key)?;
            let mut ledger = ledger_file::create(&g.ledger)?;
            ledger.add_device(&master, &device)?;
            dst_warning(&device, g.json)?;
            print_json(&json(&device))
        }
        DeviceCommand::Update(a) => {
            let change = DeviceChange {
                utc_offset: a.utc_offset,
                time_zone: if a.no_time_zone {
                    Some(None)
                } else {
                    a.time_zone.map(Some)
                },
                generation: a.generation,
            };
            let master = keyfile::load(&g.master_key)?;
            let mut ledger = ledger_file::write(&g.ledger)?;
            let updated = ledger.update_device(&master, &a.device_id, &change, Utc::now())?;
            dst_warning(&updated.after, g.json)?;
            print_json(&UpdatedJson {
                device: json(&updated.after),
                before: json(&updated.before),
                affected: affected(&updated, false),
            })
        }
        DeviceCommand::Remove { device_id } => {
            let mut ledger = ledger_file::write(&g.ledger)?;
            let removed = ledger.remove_device(&device_id, Utc::now())?;
            print_json(&RemovedJson {
                device_id: &removed.before.device_id,
                removed: true,
                still_opens: affected(&removed, true),
            })
        }
        DeviceCommand::List => {
            let mut ledger = ledger_file::read(&g.ledger)?;
            let devices = ledger.devices()?;
            print_json(&devices.iter().map(json).collect::<Vec<_>>())
        }
        DeviceCommand::Key { device_id } => {
            let master = keyfile::load(&g.master_key)?;
            let mut ledger = ledger_file::read(&g.ledger)?;
            let device = match ledger.verify_master_key(&master) {
                Err(LedgerError::MasterKeyUnbound { .. }) => adopt(g, &master, &device_id)?,
                checked => checked.and_then(|()| ledger.device(&device_id))?,
            };
            let key = master
                .derive_device_key(device.device_id.as_bytes(), device.generation)
                .map_err(LedgerError::from)?;
            let hex = keyfile::hex(key.expose_secret())?;
            say!("{}", hex.as_str());
            Ok(())
        }
    }
}
