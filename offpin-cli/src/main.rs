//! `offpin`: the operator's command for offline smart-lock PINs.
//!
//! Register a lock (`device add`, `update`, `remove`), issue codes
//! (`issue`), look them up (`list`, `get`), take them back (`delete`), type
//! a PIN at the lock, whose state is kept in a file (`verify`), explain a
//! PIN (`inspect`), print the security figures (`report`), watch all of
//! it in a guided run (`demo`), or serve the hosted access-code API
//! (`serve`, with keys from `api-key`, each acting in one `workspace`). Every error is one line on stderr (one JSON
//! object with `--json`) and a non-zero exit code: 1, 2 for usage errors,
//! 3 when `verify`'s lock refuses the PIN. A closed stdout ends a command
//! quietly.
//!
//! One module per command group, as ripgrep's `crates/core/main.rs`
//! dispatches: this file parses and dispatches, the library decides.

mod api_key;
mod args;
mod codes;
mod demo;
mod device;
mod door;
mod group;
mod inspect;
mod issue;
mod keyfile;
/// The command's output and errors: the library's (shared with the
/// bookings import), and `say!`.
mod output {
    pub use offpin_cli::output::*;

    /// `println!` that returns an error instead of panicking on a closed
    /// pipe.
    macro_rules! say {
        ($($t:tt)*) => {
            $crate::output::write_line(format_args!($($t)*))?
        };
    }
    pub(crate) use say;
}
mod ledger_file;
mod report;
mod service_code;
mod state_file;
mod verify;
mod workspace;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use offpin_cli::bookings;

use crate::keyfile::KeyFile;
use crate::output::{CliError, CliResult};

const AFTER_HELP: &str = "\
Workflow:
  offpin keygen                                   # once: the master key (offpin.key)
  offpin device add --device-id front-door --profile standard-10 --time-zone Europe/Paris
  offpin issue --device-id front-door --starts-at 2030-07-01T15:00 --ends-at 2030-07-04T11:00 --name guest
  offpin list --device-id front-door
  offpin verify --device-id front-door --pin 1234567890 --at 2030-07-01T17:00:00+02:00
  offpin demo                                     # a guided run on a temporary ledger

The ledger (--ledger, $OFFPIN_LEDGER, default offpin.db) is one SQLite file, or a
PostgreSQL database named by a postgres:// URL (a fleet of `offpin serve`); the
master key file (--master-key, $OFFPIN_MASTER_KEY_FILE, default offpin.key) holds
64 hex digits. Exit status: 0 success, 1 error, 2 usage error, 3 a PIN refused by
`verify`.";

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
        env = "OFFPIN_MASTER_KEY_FILE",
        hide_env_values = true,
        default_value = "offpin.key"
    )]
    master_key: PathBuf,
    /// Errors as one JSON object on stderr (the access-code API's error
    /// shape); `verify` prints its decision as JSON too.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a new master key file (owner-only permissions; never overwrites).
    Keygen,
    /// Register, change and remove locks; show their settings and keys.
    #[command(subcommand)]
    Device(device::DeviceCommand),
    /// Groups of locks that share a group key: one PIN opens every member.
    #[command(subcommand)]
    Group(group::GroupCommand),
    /// Issue a code (time-bound, one-time or ongoing), or a batch from a CSV of bookings.
    Issue(issue::IssueArgs),
    /// List codes by device, ids and/or user (at least --device-id or --access-code-id); deleted codes included.
    List(codes::ListArgs),
    /// Show one code, its status computed now (a deleted ongoing code shows its revocation PIN).
    Get(codes::GetArgs),
    /// Delete a code; for an ongoing code, print the revocation PIN to type at the lock.
    Delete(codes::DeleteArgs),
    /// Type a PIN at the device's lock at a time; the lock's state is kept in a file.
    Verify(verify::VerifyArgs),
    /// Support tool: decode a PIN with the device key and explain it.
    Inspect(inspect::InspectArgs),
    /// Print a device's rolling service codes as an otpauth:// URI and a QR code (format v2).
    ServiceCode(service_code::ServiceCodeArgs),
    /// Print the security figures of the shipped profiles.
    Report {
        /// Only this profile.
        #[arg(long)]
        profile: Option<String>,
    },
    /// A guided run on a temporary ledger: every kind issued, checked and revoked.
    Demo,
    /// Serve the hosted access-code API (offline codes) over HTTP until SIGTERM.
    Serve(offpin_cli::serve::ServeArgs),
    /// Create, revoke and list the API keys of `offpin serve`.
    #[command(subcommand)]
    ApiKey(api_key::ApiKeyCommand),
    /// Create and list workspaces: each owns its API keys, devices, codes and groups.
    #[command(subcommand)]
    Workspace(workspace::WorkspaceCommand),
}

/// What every command gets: the ledger, the key file, the output mode.
#[derive(Debug)]
pub struct Globals {
    /// The ledger file.
    pub ledger: PathBuf,
    /// The master key file.
    pub master_key: KeyFile,
    /// `--json`.
    pub json: bool,
}

/// Runs a command; `Ok(false)` when `verify`'s lock refused the PIN.
fn run(g: &Globals, command: Command) -> CliResult<bool> {
    match command {
        Command::Keygen => keyfile::keygen(&g.master_key)?,
        Command::Device(c) => device::run(g, c)?,
        Command::Group(c) => group::run(g, c)?,
        Command::Issue(a) => issue::run(g, &a)?,
        Command::List(a) => codes::list(g, a)?,
        Command::Get(a) => codes::get(g, &a)?,
        Command::Delete(a) => codes::delete(g, &a)?,
        Command::Verify(a) => return verify::run(g, &a),
        Command::Inspect(a) => inspect::run(g, &a)?,
        Command::Report { profile } => report::run(profile.as_deref())?,
        Command::ServiceCode(a) => service_code::run(g, &a)?,
        Command::Demo => demo::run()?,
        Command::Serve(a) => serve(g, &a)?,
        Command::ApiKey(c) => api_key::run(g, &c)?,
        Command::Workspace(c) => workspace::run(g, &c)?,
    }
    Ok(true)
}

/// Runs `offpin serve`: checks the master key against the ledger's (the
/// key its first device was registered with; a ledger without devices is
/// bound to it) before it listens, so a server started with another key
/// fails at once, naming both fingerprints, rather than at its first
/// create.
fn serve(g: &Globals, args: &offpin_cli::serve::ServeArgs) -> CliResult {
    let master = keyfile::load(&g.master_key)?;
    let mut ledger = ledger_file::write(&g.ledger)?;
    ledger.check_master_key(&master)?;
    drop(ledger);
    let location = offpin_cli::store::Location::of(&g.ledger);
    offpin_cli::serve::run(&location, master, args).map_err(|e| CliError::new("serve_error", e))
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
    let json = std::env::args_os().any(|a| a == "--json");
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m).map(|cli| (cli, m)));
    let (cli, matches) = match parsed {
        Ok(p) => p,
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
                    let err = CliError::new("invalid_usage", format!("{line} (see --help)"));
                    output::report(&err, json);
                    ExitCode::from(2)
                }
            };
        }
    };
    let from_env = matches.value_source("master_key") == Some(ValueSource::EnvVariable);
    let g = Globals {
        ledger: cli.ledger,
        master_key: KeyFile {
            path: cli.master_key,
            from_env,
        },
        json: cli.json,
    };
    let result = run(&g, cli.command).and_then(|ok| output::flush().map(|()| ok));
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(3),
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            output::report(&e, g.json);
            ExitCode::FAILURE
        }
    }
}
