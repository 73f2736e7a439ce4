//! [`Write`]: the transaction of one ledger write that must be atomic (an
//! allocation batch, a group's compare-and-swap), on its own or inside a
//! group commit's shared transaction ([`super::writer`]).

use std::ops::Deref;

use rusqlite::Connection;

/// The savepoint a nested [`Write`] takes.
const SAVEPOINT: &str = "ledger_write";

/// A write's transaction: `BEGIN IMMEDIATE` (the writer lock, taken before
/// the reads it decides on) when the connection is in no transaction, or a
/// savepoint inside the transaction that is open (a group commit's, which
/// already holds the writer lock). [`Write::commit`] commits, or releases
/// the savepoint into the enclosing transaction; dropping it uncommitted
/// rolls back exactly what it wrote.
pub(super) struct Write<'c> {
    conn: &'c Connection,
    nested: bool,
    finished: bool,
}

impl<'c> Write<'c> {
    /// Begins a write on `conn`.
    pub(super) fn begin(conn: &'c Connection) -> rusqlite::Result<Self> {
        let nested = !conn.is_autocommit();
        if nested {
            conn.execute_batch(&format!("SAVEPOINT {SAVEPOINT}"))?;
        } else {
            conn.execute_batch("BEGIN IMMEDIATE")?;
        }
        Ok(Write {
            conn,
            nested,
            finished: false,
        })
    }

    /// Commits the write (into the enclosing transaction when nested).
    /// If it fails, dropping the write rolls it back.
    pub(super) fn commit(mut self) -> rusqlite::Result<()> {
        if self.nested {
            self.conn.execute_batch(&format!("RELEASE {SAVEPOINT}"))?;
        } else {
            self.conn.execute_batch("COMMIT")?;
        }
        self.finished = true;
        Ok(())
    }
}

impl Deref for Write<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for Write<'_> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        // A failed rollback leaves nothing to undo: SQLite rolled the
        // transaction back itself (the group commit then sees it gone).
        let _ = if self.nested {
            self.conn
                .execute_batch(&format!("ROLLBACK TO {SAVEPOINT}; RELEASE {SAVEPOINT}"))
        } else if !self.conn.is_autocommit() {
            self.conn.execute_batch("ROLLBACK")
        } else {
            Ok(())
        };
    }
}
