//! `offpin api-key`: create, revoke and list the API keys of
//! `offpin serve`, stored (hashed) in the ledger.

use chrono::Utc;
use clap::Subcommand;
use offpin_ledger::chrono_time::rfc3339_millis;
use offpin_ledger::ledger::DEFAULT_WORKSPACE;
use offpin_ledger::ledger::api_keys::{Capabilities, RANDOM_BYTES};
use offpin_ledger::ledger::workspaces::create_api_key;
use serde::Serialize;
use zeroize::Zeroizing;

use crate::Globals;
use crate::ledger_file;
use crate::output::{CliResult, fail, print_json, say};

/// `offpin api-key ...`.
#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key for `offpin serve`; it is printed once, on the last line.
    Create {
        /// The key's name (who uses it), unique among valid keys.
        #[arg(long)]
        name: String,
        /// The workspace the key acts in: it sees and changes that workspace's devices and codes only.
        #[arg(long, default_value = DEFAULT_WORKSPACE)]
        workspace: String,
        /// Let the key see each device's rolling service codes (its otpauth:// URI, which opens the lock at any time) in /devices/get.
        #[arg(long)]
        can_read_service_secrets: bool,
        /// Let the key issue clock-setting codes (offpin_clock_setting), which move a lock's clock forward.
        #[arg(long)]
        can_issue_clock_codes: bool,
    },
    /// Revoke the valid key with this name (every server refuses it within its --key-cache-secs).
    Revoke {
        /// The key's name.
        #[arg(long)]
        name: String,
    },
    /// List the keys: names, ids and dates (never the keys).
    List,
}

/// One key, as `list` prints it.
#[derive(Serialize)]
struct Row {
    name: String,
    key_id: String,
    created_at: String,
    revoked_at: Option<String>,
    workspace_id: String,
    capabilities: Vec<&'static str>,
}

/// Runs `offpin api-key ...`.
pub fn run(g: &Globals, command: &ApiKeyCommand) -> CliResult {
    match command {
        ApiKeyCommand::Create {
            name,
            workspace,
            can_read_service_secrets,
            can_issue_clock_codes,
        } => {
            let mut store = ledger_file::create(&g.ledger)?;
            let mut random = Zeroizing::new([0u8; RANDOM_BYTES]);
            getrandom::fill(random.as_mut_slice())
                .map_err(|e| fail("io_error", "cannot get random bytes", e))?;
            let capabilities = Capabilities {
                read_service_secrets: *can_read_service_secrets,
                issue_clock_codes: *can_issue_clock_codes,
            };
            let key = create_api_key(
                &mut *store,
                name,
                workspace,
                capabilities,
                &random,
                Utc::now(),
            )?;
            let may = capabilities.names();
            say!(
                "created API key '{name}' (id {}, workspace '{workspace}'{}); it is shown once, keep it secret:",
                key.key_id(),
                if may.is_empty() {
                    String::new()
                } else {
                    format!(", may {}", may.join(", "))
                }
            );
            say!("{}", key.expose_secret());
            Ok(())
        }
        ApiKeyCommand::Revoke { name } => {
            let mut store = ledger_file::write(&g.ledger)?;
            store.revoke_api_key(name, Utc::now())?;
            say!("revoked API key '{name}'");
            Ok(())
        }
        ApiKeyCommand::List => {
            let mut store = ledger_file::read(&g.ledger)?;
            let rows: Vec<Row> = store
                .api_keys()?
                .into_iter()
                .map(|k| Row {
                    name: k.name,
                    key_id: k.key_id,
                    created_at: rfc3339_millis(&k.created_at),
                    revoked_at: k.revoked_at.as_ref().map(rfc3339_millis),
                    workspace_id: k.workspace_id,
                    capabilities: k.capabilities.names(),
                })
                .collect();
            print_json(&rows)
        }
    }
}
