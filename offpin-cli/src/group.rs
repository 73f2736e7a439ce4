//! `offpin group`: groups of locks that share a group key, so one PIN
//! opens every member (`offpin issue --group`).

use chrono::Utc;
use clap::Subcommand;
use offpin_ledger::ledger::{DEFAULT_WORKSPACE, Group, LedgerError};
use serde::Serialize;

use crate::Globals;
use crate::output::{CliResult, print_json, say, warn};
use crate::{keyfile, ledger_file};

/// `offpin group ...`.
#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// Create a group of locks with one profile (every member has it).
    Create {
        /// The group id (1 to 255 bytes; part of the group key's derivation).
        #[arg(long)]
        group_id: String,
        /// The profile of its members.
        #[arg(long, default_value = "standard-10")]
        profile: String,
        /// The workspace that owns the group: its members must be that workspace's devices.
        #[arg(long, default_value = DEFAULT_WORKSPACE)]
        workspace: String,
    },
    /// Add a registered lock to a group (a lock is in at most one); provision it with `group key` too.
    Add {
        /// The group.
        #[arg(long)]
        group_id: String,
        /// The device.
        #[arg(long)]
        device_id: String,
    },
    /// Remove a lock from a group: re-keys the group; give the other members the new `group key`.
    Remove {
        /// The group.
        #[arg(long)]
        group_id: String,
        /// The device.
        #[arg(long)]
        device_id: String,
    },
    /// List the groups and their members.
    List,
    /// Print a group's key (hex) to provision into every member's lock, beside its device key.
    Key {
        /// The group.
        #[arg(long)]
        group_id: String,
    },
}

/// The JSON form of a group.
#[derive(Serialize)]
struct GroupJson<'a> {
    group_id: &'a str,
    profile: &'a str,
    generation: u32,
    members: &'a [String],
    workspace_id: &'a str,
}

fn json(g: &Group) -> GroupJson<'_> {
    GroupJson {
        group_id: &g.group_id,
        profile: &g.profile,
        generation: g.generation,
        members: &g.members,
        workspace_id: &g.workspace_id,
    }
}

#[derive(Serialize)]
struct RemovedJson<'a> {
    group: GroupJson<'a>,
    removed: &'a str,
    still_opens: Vec<&'a str>,
}

/// Runs `offpin group ...`.
pub fn run(g: &Globals, command: GroupCommand) -> CliResult {
    match command {
        GroupCommand::Create {
            group_id,
            profile,
            workspace,
        } => {
            let master = keyfile::load(&g.master_key)?;
            let mut ledger = ledger_file::create(&g.ledger)?;
            let group = ledger.create_group_in(&master, &workspace, &group_id, &profile)?;
            print_json(&json(&group))
        }
        GroupCommand::Add {
            group_id,
            device_id,
        } => {
            let master = keyfile::load(&g.master_key)?;
            let mut ledger = ledger_file::write(&g.ledger)?;
            let group = ledger.add_to_group(&master, &group_id, &device_id)?;
            print_json(&json(&group))
        }
        GroupCommand::Remove {
            group_id,
            device_id,
        } => {
            let master = keyfile::load(&g.master_key)?;
            let mut ledger = ledger_file::write(&g.ledger)?;
            let out = ledger.remove_from_group(&master, &group_id, &device_id, Utc::now())?;
            warn(
                &format!(
                    "group '{group_id}' is re-keyed (generation {}): '{device_id}' still opens the {} group code(s) issued before until its lock is re-provisioned without the group key; give the remaining members the new key (offpin group key --group-id {group_id}), after which the group codes issued before stop opening them",
                    out.after.generation,
                    out.still_open.len()
                ),
                g.json,
            );
            print_json(&RemovedJson {
                group: json(&out.after),
                removed: &device_id,
                still_opens: out
                    .still_open
                    .iter()
                    .map(|r| r.access_code_id.as_str())
                    .collect(),
            })
        }
        GroupCommand::List => {
            let mut ledger = ledger_file::read(&g.ledger)?;
            let groups = ledger.group_entries()?;
            print_json(&groups.iter().map(json).collect::<Vec<_>>())
        }
        GroupCommand::Key { group_id } => {
            let master = keyfile::load(&g.master_key)?;
            let mut ledger = ledger_file::read(&g.ledger)?;
            ledger.verify_master_key(&master)?;
            let group = ledger.group(&group_id)?;
            let key = group.key(&master).map_err(LedgerError::from)?;
            let hex = keyfile::hex(key.expose_secret())?;
            say!("{}", hex.as_str());
            Ok(())
        }
    }
}
