//! The workspaces of the PostgreSQL ledger (migration 4).

use super::{PostgresLedger, pg_err};
use crate::ledger::{LedgerError, Workspace};

impl PostgresLedger {
    /// [`Ledger::workspace_entries`](crate::ledger::Ledger::workspace_entries).
    pub(super) fn select_workspaces(&mut self) -> Result<Vec<Workspace>, LedgerError> {
        let label = self.label.as_str();
        let get = |e: postgres::Error| pg_err(label, e);
        let rows = self
            .client
            .query(
                "SELECT workspace_id, created_at FROM workspaces ORDER BY workspace_id COLLATE \"C\"",
                &[],
            )
            .map_err(get)?;
        rows.iter()
            .map(|r| {
                Ok(Workspace {
                    workspace_id: r.try_get(0).map_err(get)?,
                    created_at: r.try_get(1).map_err(get)?,
                })
            })
            .collect()
    }

    /// [`Ledger::put_workspace`](crate::ledger::Ledger::put_workspace).
    pub(super) fn insert_workspace(&mut self, w: &Workspace) -> Result<bool, LedgerError> {
        let label = self.label.as_str();
        let n = self
            .client
            .execute(
                "INSERT INTO workspaces (workspace_id, created_at) VALUES ($1, $2) ON CONFLICT (workspace_id) DO NOTHING",
                &[&w.workspace_id, &w.created_at],
            )
            .map_err(|e| pg_err(label, e))?;
        Ok(n == 1)
    }
}
