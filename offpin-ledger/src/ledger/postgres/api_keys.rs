//! The API keys of `offpin serve` in the PostgreSQL ledger.

use chrono::{DateTime, Utc};
use postgres::Row;

use super::{PostgresLedger, corrupt, pg_err};
use crate::ledger::LedgerError;
use crate::ledger::api_keys::{ApiKeyRecord, ApiKeyStore, Capabilities};

const API_KEY_COLUMNS: &str =
    "key_id, name, hash, created_at, revoked_at, workspace_id, capabilities";

fn api_key_from_row(label: &str, row: &Row) -> Result<ApiKeyRecord, LedgerError> {
    let get = |e: postgres::Error| pg_err(label, e);
    let hash: Vec<u8> = row.try_get(2).map_err(get)?;
    Ok(ApiKeyRecord {
        key_id: row.try_get(0).map_err(get)?,
        name: row.try_get(1).map_err(get)?,
        hash: hash
            .try_into()
            .map_err(|_| corrupt("corrupted API key hash"))?,
        created_at: row.try_get(3).map_err(get)?,
        revoked_at: row.try_get(4).map_err(get)?,
        workspace_id: row.try_get(5).map_err(get)?,
        capabilities: Capabilities::from_column(
            row.try_get::<_, Option<String>>(6).map_err(get)?.as_deref(),
        ),
    })
}

impl ApiKeyStore for PostgresLedger {
    fn insert_api_key(&mut self, record: &ApiKeyRecord) -> Result<(), LedgerError> {
        let label = self.label.as_str();
        self.client
            .execute(
                &format!(
                    "INSERT INTO api_keys ({API_KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                ),
                &[
                    &record.key_id,
                    &record.name,
                    &record.hash.as_slice(),
                    &record.created_at,
                    &record.revoked_at,
                    &record.workspace_id,
                    &record.capabilities.to_column(),
                ],
            )
            .map_err(|e| pg_err(label, e))?;
        Ok(())
    }

    fn api_key(&mut self, key_id: &str) -> Result<Option<ApiKeyRecord>, LedgerError> {
        let label = self.label.as_str();
        self.client
            .query_opt(
                &format!("SELECT {API_KEY_COLUMNS} FROM api_keys WHERE key_id = $1"),
                &[&key_id],
            )
            .map_err(|e| pg_err(label, e))?
            .map(|r| api_key_from_row(label, &r))
            .transpose()
    }

    fn api_keys(&mut self) -> Result<Vec<ApiKeyRecord>, LedgerError> {
        let label = self.label.as_str();
        self.client
            .query(
                &format!("SELECT {API_KEY_COLUMNS} FROM api_keys ORDER BY seq"),
                &[],
            )
            .map_err(|e| pg_err(label, e))?
            .iter()
            .map(|r| api_key_from_row(label, r))
            .collect()
    }

    fn revoke_api_keys(&mut self, name: &str, at: DateTime<Utc>) -> Result<usize, LedgerError> {
        let label = self.label.as_str();
        let n = self
            .client
            .execute(
                "UPDATE api_keys SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL",
                &[&name, &at],
            )
            .map_err(|e| pg_err(label, e))?;
        usize::try_from(n).map_err(|_| LedgerError::invariant(format!("{n} keys revoked")))
    }
}
