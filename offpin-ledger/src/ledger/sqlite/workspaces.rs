//! The workspaces of the SQLite ledger (schema 4).

use rusqlite::params;

use super::{SqlError, SqliteLedger};
use crate::chrono_time::{parse_rfc3339, rfc3339_millis};
use crate::ledger::{LedgerError, Workspace};

impl SqliteLedger {
    /// [`Ledger::workspace_entries`](crate::ledger::Ledger::workspace_entries).
    pub(super) fn select_workspaces(&self) -> Result<Vec<Workspace>, LedgerError> {
        let mut stmt = self
            .conn
            .prepare("SELECT workspace_id, created_at FROM workspaces ORDER BY workspace_id")
            .map_err(|e| self.err(e))?;
        let mut rows = stmt.query([]).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let created_at: String = row.get(1).map_err(|e| self.err(e))?;
            out.push(Workspace {
                workspace_id: row.get(0).map_err(|e| self.err(e))?,
                created_at: parse_rfc3339(&created_at)
                    .map_err(|e| self.err(SqlError::Corrupt(e)))?,
            });
        }
        Ok(out)
    }

    /// [`Ledger::put_workspace`](crate::ledger::Ledger::put_workspace).
    pub(super) fn insert_workspace(&self, w: &Workspace) -> Result<bool, LedgerError> {
        let n = self
            .conn
            .execute(
                "INSERT INTO workspaces (workspace_id, created_at) VALUES (?1, ?2) ON CONFLICT (workspace_id) DO NOTHING",
                params![w.workspace_id, rfc3339_millis(&w.created_at)],
            )
            .map_err(|e| self.err(e))?;
        Ok(n == 1)
    }
}
