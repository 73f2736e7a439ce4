//! The API keys of `offpin serve` in the SQLite ledger.

use chrono::{DateTime, Utc};
use rusqlite::{Row, Transaction, TransactionBehavior, params};

use super::schema::CAPABILITIES_COLUMN;
use super::{SqlError, SqliteLedger, time_text};
use crate::chrono_time::{parse_rfc3339, rfc3339_millis};
use crate::ledger::LedgerError;
use crate::ledger::api_keys::{ApiKeyRecord, ApiKeyStore, Capabilities};

impl SqliteLedger {
    /// Whether the API-key table has the `capabilities` column (added
    /// beside schema 3: an older offpin reads and writes the table without
    /// it, and its keys have no capability).
    pub(super) fn has_capabilities_column(&self) -> Result<bool, LedgerError> {
        self.conn
            .query_row(
                "SELECT count(*) > 0 FROM pragma_table_info('api_keys') WHERE name = 'capabilities'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }

    /// Adds the `capabilities` column to an API-key table that lacks it;
    /// writes only then.
    pub(super) fn add_capabilities_column(&self) -> Result<(), LedgerError> {
        if self.has_capabilities_column()? {
            return Ok(());
        }
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        // Another process may have added it meanwhile (the writer lock is
        // held now).
        if !self.has_capabilities_column()? {
            tx.execute_batch(CAPABILITIES_COLUMN)
                .map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))
    }

    fn api_key_from_row(&self, row: &Row<'_>) -> Result<ApiKeyRecord, LedgerError> {
        let get = |e| self.err(SqlError::Sql(e));
        let text = |e: String| self.err(SqlError::Corrupt(e));
        let hash: Vec<u8> = row.get(2).map_err(get)?;
        let created_at: String = row.get(3).map_err(get)?;
        let revoked_at: Option<String> = row.get(4).map_err(get)?;
        let capabilities: Option<String> = row.get(6).map_err(get)?;
        Ok(ApiKeyRecord {
            key_id: row.get(0).map_err(get)?,
            name: row.get(1).map_err(get)?,
            hash: hash
                .try_into()
                .map_err(|_| text("corrupted API key hash".to_owned()))?,
            created_at: parse_rfc3339(&created_at).map_err(text)?,
            revoked_at: revoked_at
                .map(|t| parse_rfc3339(&t))
                .transpose()
                .map_err(text)?,
            workspace_id: row.get(5).map_err(get)?,
            capabilities: Capabilities::from_column(capabilities.as_deref()),
        })
    }

    fn select_api_keys(&self, and: &str, arg: &str) -> Result<Vec<ApiKeyRecord>, LedgerError> {
        // A ledger opened read-only may predate the table: it holds no key.
        if !self.has_api_keys_table()? {
            return Ok(Vec::new());
        }
        // A ledger opened read-only may predate the capabilities column.
        let capabilities = if self.has_capabilities_column()? {
            "capabilities"
        } else {
            "NULL"
        };
        let sql = format!(
            "SELECT key_id, name, hash, created_at, revoked_at, workspace_id, {capabilities} FROM api_keys WHERE ?1 = ?1 {and} ORDER BY seq"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let mut rows = stmt.query(params![arg]).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            out.push(self.api_key_from_row(row)?);
        }
        Ok(out)
    }
}

impl ApiKeyStore for SqliteLedger {
    fn insert_api_key(&mut self, record: &ApiKeyRecord) -> Result<(), LedgerError> {
        self.conn
            .execute(
                "INSERT INTO api_keys (key_id, name, hash, created_at, revoked_at, workspace_id, capabilities) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    record.key_id,
                    record.name,
                    record.hash.as_slice(),
                    rfc3339_millis(&record.created_at),
                    time_text(&record.revoked_at),
                    record.workspace_id,
                    record.capabilities.to_column()
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    fn api_key(&mut self, key_id: &str) -> Result<Option<ApiKeyRecord>, LedgerError> {
        Ok(self
            .select_api_keys("AND key_id = ?1", key_id)?
            .into_iter()
            .next())
    }

    fn api_keys(&mut self) -> Result<Vec<ApiKeyRecord>, LedgerError> {
        self.select_api_keys("", "")
    }

    fn revoke_api_keys(&mut self, name: &str, at: DateTime<Utc>) -> Result<usize, LedgerError> {
        self.conn
            .execute(
                "UPDATE api_keys SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL",
                params![name, rfc3339_millis(&at)],
            )
            .map_err(|e| self.err(e))
    }
}
