//! `offpin`: the operator's command for offline smart-lock PINs.
//!
//! Register a lock (`device add`), issue codes (`issue`), look them up
//! (`list`, `get`), take them back (`delete`), type a PIN at the lock,
//! whose state is kept in a file (`verify`), explain a PIN (`inspect`),
//! print the security figures (`report`), or watch all of it in a guided
//! run (`demo`). Every error is one line on stderr and a non-zero exit code
//! (1; 2 for usage errors).

mod demo;
mod inspect;
mod issue;
mod keyfile;
mod report;
mod util;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};
use offpin::UtcOffset;
use offpin::server::ledger::{Device, ListFilter};

use crate::util::{CliResult, open_ledger, parse_offset, print_json};

const AFTER_HELP: &str = "\
Workflow:
  offpin keygen                                   # once: the master key (offpin.key)
  offpin device add --device-id front-door --profile standard-10 --utc-offset +01:00
  offpin issue --device-id front-door --starts-at 2025-01-01T16:00:00+01:00 --ends-at 2025-01-03T11:00:00+01:00 --name guest
  offpin list --device-id front-door
  offpin verify --device-id front-door --pin 1234567890 --at 2025-01-01T17:00:00+01:00
  offpin demo                                     # a guided run on a temporary ledger

The ledger (--ledger, $OFFPIN_LEDGER, default offpin.db) is a SQLite file; the
master key (--master-key, $OFFPIN_MASTER_KEY, default offpin.key) holds 64 hex digits.";

/// Offline smart-lock PINs: issue, list, verify and explain them.
#[derive(Debug, Parser)]
#[command(name = "offpin", version, after_help = AFTER_HELP)]
struct Cli {
    /// The ledger of issued codes: a SQLite file, or a postgres:// URL.
    #[arg(
        long,
        global = true,
        env = "OFFPIN_LEDGER",
        default_value = "offpin.db"
    )]
    ledger: PathBuf,
    /// The master key file (64 hex digits; see `offpin keygen`).
    #[arg(
        long,
        global = true,
        env = "OFFPIN_MASTER_KEY",
        default_value = "offpin.key"
    )]
    master_key: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a new master key file (owner-only permissions; never overwrites).
    Keygen,
    /// Register locks and show their settings.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Issue a code (time-bound, one-time or ongoing), or a batch from a CSV of bookings.
    Issue(issue::IssueArgs),
    /// List codes by device, ids and/or user (at least --device-id or --access-code-id).
    List {
        /// Codes of this device.
        #[arg(long)]
        device_id: Option<String>,
        /// Codes with these ids (repeat the flag, or separate with commas).
        #[arg(long = "access-code-id", value_delimiter = ',')]
        access_code_ids: Vec<String>,
        /// Codes issued for this user.
        #[arg(long)]
        user_identifier_key: Option<String>,
    },
    /// Show one code.
    Get {
        /// The code's id.
        #[arg(long)]
        access_code_id: String,
    },
    /// Delete a code; for an ongoing code, print the revocation PIN to type at the lock.
    Delete {
        /// The code's id.
        #[arg(long)]
        access_code_id: String,
    },
    /// Type a PIN at the device's lock at a time; the lock's state is kept in a file.
    Verify(verify::VerifyArgs),
    /// Support tool: decode a PIN with the device key and explain it.
    Inspect(inspect::InspectArgs),
    /// Print the security figures of the shipped profiles.
    Report {
        /// Only this profile.
        #[arg(long)]
        profile: Option<String>,
    },
    /// A guided run on a temporary ledger: every kind issued, checked and revoked.
    Demo,
    /// Serve the hosted access-code API (offline codes) over HTTP; --ledger may be a postgres:// URL.
    Serve(offpin_cli::serve::ServeArgs),
    /// Create, revoke and list the API keys of `offpin serve`.
    #[command(subcommand)]
    ApiKey(offpin_cli::serve::api_key_cmd::ApiKeyCommand),
}

#[derive(Debug, Subcommand)]
enum DeviceCommand {
    /// Register a lock (the ledger file is created if needed).
    Add(DeviceAdd),
    /// List registered locks.
    List,
    /// Print a lock's device key (hex) to provision into its firmware.
    Key {
        /// The device.
        #[arg(long)]
        device_id: String,
    },
}

#[derive(Debug, Args)]
struct DeviceAdd {
    /// The device id (1 to 255 bytes; part of the key derivation).
    #[arg(long)]
    device_id: String,
    /// A shipped profile: standard-10, compact-8, secure-12, keypad9-11.
    #[arg(long, default_value = "standard-10")]
    profile: String,
    /// The lock's UTC offset (daily windows start at its local midnight).
    #[arg(long, default_value = "+00:00", value_parser = parse_offset, allow_hyphen_values = true)]
    utc_offset: UtcOffset,
    /// Key generation (bump to re-key a lock).
    #[arg(long, default_value_t = 0)]
    generation: u32,
}

/// The JSON form of a device.
#[derive(serde::Serialize)]
struct DeviceJson<'a> {
    device_id: &'a str,
    profile: &'a str,
    utc_offset: String,
    generation: u32,
}

fn device_json(d: &Device) -> DeviceJson<'_> {
    DeviceJson {
        device_id: &d.device_id,
        profile: &d.profile,
        utc_offset: d.utc_offset.to_string(),
        generation: d.generation,
    }
}

/// The lock's idea of "now" for `--at`: the given time or the clock.
fn at_or_now(at: Option<DateTime<Utc>>) -> DateTime<Utc> {
    at.unwrap_or_else(Utc::now)
}

fn run(cli: Cli) -> CliResult {
    match cli.command {
        Command::Keygen => keyfile::keygen(&cli.master_key),
        Command::Device(DeviceCommand::Add(a)) => {
            let device = Device::new(&a.device_id, &a.profile)
                .with_utc_offset(a.utc_offset)
                .with_generation(a.generation);
            device.profile()?;
            let len = a.device_id.len();
            if len == 0 || len > offpin::keys::MAX_DEVICE_ID_LEN {
                return Err(util::CliError(format!(
                    "--device-id must be 1 to {} bytes, got {len}",
                    offpin::keys::MAX_DEVICE_ID_LEN
                )));
            }
            let mut ledger = offpin_cli::serve::store::Location::of(&cli.ledger).open(true)?;
            ledger.add_device(&device)?;
            print_json(&device_json(&device))
        }
        Command::Device(DeviceCommand::List) => {
            let mut ledger = open_ledger(&cli.ledger)?;
            let devices = ledger.devices()?;
            print_json(&devices.iter().map(device_json).collect::<Vec<_>>())
        }
        Command::Device(DeviceCommand::Key { device_id }) => {
            let master = keyfile::load(&cli.master_key)?;
            let mut ledger = open_ledger(&cli.ledger)?;
            let device = ledger.device(&device_id)?;
            let key = master
                .derive_device_key(device.device_id.as_bytes(), device.generation)
                .map_err(|e| util::fail("device key", e))?;
            let hex: String = key
                .expose_secret()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            println!("{hex}");
            Ok(())
        }
        Command::Issue(args) => issue::run(&cli.ledger, &cli.master_key, &args),
        Command::List {
            device_id,
            access_code_ids,
            user_identifier_key,
        } => {
            let filter = ListFilter {
                device_id,
                access_code_ids,
                user_identifier_key,
            };
            if filter.device_id.is_none() && filter.access_code_ids.is_empty() {
                return Err(offpin::server::ledger::LedgerError::MissingFilter.into());
            }
            let mut ledger = open_ledger(&cli.ledger)?;
            print_json(&ledger.list(&filter)?)
        }
        Command::Get { access_code_id } => {
            let mut ledger = open_ledger(&cli.ledger)?;
            print_json(&ledger.get(&access_code_id)?)
        }
        Command::Delete { access_code_id } => {
            let master = keyfile::load(&cli.master_key)?;
            let mut ledger = open_ledger(&cli.ledger)?;
            let deleted = ledger.delete(&master, &access_code_id, Utc::now())?;
            #[derive(serde::Serialize)]
            struct Out<'a> {
                access_code_id: &'a str,
                deleted: bool,
                revocation_code: Option<&'a str>,
                revoked_slot: Option<u32>,
                note: &'a str,
            }
            let note = match (&deleted.revocation_code, deleted.revoked_slot) {
                (Some(_), Some(_)) => {
                    "type revocation_code at the lock: from then on it refuses this code for good"
                }
                (None, Some(_)) => {
                    "this profile has no revocation codes: the lock keeps accepting this code"
                }
                _ => {
                    "an offline code cannot be recalled: the lock accepts it until its window ends"
                }
            };
            print_json(&Out {
                access_code_id: &deleted.record.access_code_id,
                deleted: true,
                revocation_code: deleted.revocation_code.as_deref(),
                revoked_slot: deleted.revoked_slot,
                note,
            })
        }
        Command::Verify(args) => verify::run(&cli.ledger, &cli.master_key, &args),
        Command::Inspect(args) => inspect::run(&cli.ledger, &cli.master_key, &args),
        Command::Report { profile } => report::run(profile.as_deref()),
        Command::Demo => demo::run(),
        Command::Serve(args) => {
            let master = keyfile::load(&cli.master_key)?;
            let location = offpin_cli::serve::store::Location::of(&cli.ledger);
            Ok(offpin_cli::serve::run(&location, master, &args)?)
        }
        Command::ApiKey(cmd) => {
            let location = offpin_cli::serve::store::Location::of(&cli.ledger);
            Ok(offpin_cli::serve::api_key_cmd::run(&location, &cmd)?)
        }
    }
}

/// One line from a clap error: the message without the usage block.
fn one_line(rendered: &str) -> String {
    let cut = ["\n\nUsage:", "\nUsage:", "\n\nFor more information"]
        .iter()
        .filter_map(|m| rendered.find(m))
        .min()
        .unwrap_or(rendered.len());
    let head = rendered.get(..cut).unwrap_or(rendered);
    head.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            return match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                    let _ = e.print();
                    ExitCode::SUCCESS
                }
                ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                    let _ = e.print();
                    ExitCode::from(2)
                }
                _ => {
                    let line = one_line(&e.render().to_string());
                    let line = line.strip_prefix("error: ").unwrap_or(&line);
                    eprintln!("error: {line} (see --help)");
                    ExitCode::from(2)
                }
            };
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
