//! `offpin api-key`: create, revoke and list the service's API keys.

use chrono::Utc;
use offpin::server::chrono_time::rfc3339_millis;
use offpin::server::ledger::api_keys::RANDOM_BYTES;

use super::store::Location;

/// The `api-key` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key for `offpin serve`; it is printed once, on the last line.
    Create {
        /// The key's name (who uses it), unique among valid keys.
        #[arg(long)]
        name: String,
    },
    /// Revoke the valid key with this name (at once, on every server).
    Revoke {
        /// The key's name.
        #[arg(long)]
        name: String,
    },
    /// List the keys: names, ids and dates (never the keys).
    List,
}

/// Runs an `api-key` subcommand.
///
/// # Errors
///
/// One line for the operator.
pub fn run(location: &Location, cmd: &ApiKeyCommand) -> Result<(), String> {
    let text = |e: &dyn std::fmt::Display| e.to_string();
    match cmd {
        ApiKeyCommand::Create { name } => {
            let mut store = location.open(true).map_err(|e| text(&e))?;
            let mut random = [0u8; RANDOM_BYTES];
            getrandom::fill(&mut random).map_err(|e| format!("cannot get random bytes: {e}"))?;
            let key = store
                .create_api_key(name, &random, Utc::now())
                .map_err(|e| text(&e))?;
            random.iter_mut().for_each(|b| *b = 0);
            println!(
                "created API key '{name}' (id {}); it is shown once, keep it secret:",
                key.key_id()
            );
            println!("{}", key.expose_secret());
            Ok(())
        }
        ApiKeyCommand::Revoke { name } => {
            let mut store = location.open(false).map_err(|e| text(&e))?;
            store
                .revoke_api_key(name, Utc::now())
                .map_err(|e| text(&e))?;
            println!("revoked API key '{name}'");
            Ok(())
        }
        ApiKeyCommand::List => {
            let mut store = location.open(false).map_err(|e| text(&e))?;
            #[derive(serde::Serialize)]
            struct Row {
                name: String,
                key_id: String,
                created_at: String,
                revoked_at: Option<String>,
            }
            let rows: Vec<Row> = store
                .api_keys()
                .map_err(|e| text(&e))?
                .into_iter()
                .map(|k| Row {
                    name: k.name,
                    key_id: k.key_id,
                    created_at: rfc3339_millis(&k.created_at),
                    revoked_at: k.revoked_at.as_ref().map(rfc3339_millis),
                })
                .collect();
            let json = serde_json::to_string_pretty(&rows).map_err(|e| text(&e))?;
            println!("{json}");
            Ok(())
        }
    }
}
