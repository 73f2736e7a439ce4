//! `offpin workspace`: the tenants of a ledger. A workspace owns its API
//! keys, devices (and so their codes) and groups; a key of one never sees
//! another's (`offpin serve` answers 404, as for a device that does not
//! exist). Commands that name no workspace act in `default`, where a
//! ledger written before workspaces keeps everything.

use chrono::Utc;
use clap::Subcommand;
use offpin_ledger::chrono_time::rfc3339_millis;
use serde::Serialize;

use crate::Globals;
use crate::ledger_file;
use crate::output::{CliResult, print_json};

/// `offpin workspace ...`.
#[derive(Debug, Subcommand)]
pub enum WorkspaceCommand {
    /// Create a workspace (the ledger file is created if needed); creating it again changes nothing.
    Create {
        /// The workspace id: 1 to 64 ASCII letters, digits, '-', '_' and '.'.
        #[arg(long)]
        workspace_id: String,
    },
    /// List the workspaces, with how many devices, groups and valid API keys each holds.
    List,
}

/// A workspace, as `create` prints it.
#[derive(Serialize)]
struct Created {
    workspace_id: String,
    created_at: String,
    /// `false`: it existed.
    created: bool,
}

/// A workspace, as `list` prints it.
#[derive(Serialize)]
struct Row {
    workspace_id: String,
    created_at: String,
    devices: usize,
    groups: usize,
    api_keys: usize,
}

/// Runs `offpin workspace ...`.
pub fn run(g: &Globals, command: &WorkspaceCommand) -> CliResult {
    match command {
        WorkspaceCommand::Create { workspace_id } => {
            let mut store = ledger_file::create(&g.ledger)?;
            let (w, created) = store.create_workspace(workspace_id, Utc::now())?;
            print_json(&Created {
                workspace_id: w.workspace_id,
                created_at: rfc3339_millis(&w.created_at),
                created,
            })
        }
        WorkspaceCommand::List => {
            let mut store = ledger_file::read(&g.ledger)?;
            let devices = store.devices()?;
            let groups = store.group_entries()?;
            let keys = store.api_keys()?;
            let rows: Vec<Row> = store
                .workspace_entries()?
                .into_iter()
                .map(|w| {
                    let id = w.workspace_id.as_str();
                    Row {
                        devices: devices.iter().filter(|d| d.workspace_id == id).count(),
                        groups: groups.iter().filter(|x| x.workspace_id == id).count(),
                        api_keys: keys
                            .iter()
                            .filter(|k| k.workspace_id == id && k.revoked_at.is_none())
                            .count(),
                        created_at: rfc3339_millis(&w.created_at),
                        workspace_id: w.workspace_id,
                    }
                })
                .collect();
            print_json(&rows)
        }
    }
}
