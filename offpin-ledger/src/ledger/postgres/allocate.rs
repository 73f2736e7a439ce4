//! Allocating a batch on PostgreSQL: one transaction per attempt, the
//! numbers decided by the UNIQUE constraints (`ON CONFLICT DO NOTHING`,
//! then the next free number), an attempt that lost a deadlock tried again
//! ([`super::RETRIES`]); a lost connection is told apart from a refused
//! statement ([`Attempt::Lost`], [`Attempt::CommitLost`]) for
//! [`super::settle`].

use postgres::error::Severity;

use super::{CODE_COLUMNS, PostgresLedger, code_from_row, pg_err, retryable, to_u32};
use crate::ledger::{Allocated, Allocation, LedgerError, Slot, StoredCode, lowest_free};

/// The failure of one allocation attempt.
pub(super) enum Attempt {
    /// PostgreSQL aborted the transaction (a deadlock: its error), or a
    /// concurrent writer took a group code's number: try again.
    Retry(Option<postgres::Error>),
    /// The connection was lost before the `COMMIT` was sent: nothing of
    /// the attempt is stored.
    Lost(postgres::Error),
    /// The `COMMIT` was sent and got no answer, or not a plain refusal:
    /// the codes of `out` created by the attempt are stored if, and only
    /// if, the transaction `xid` committed.
    CommitLost {
        /// What the attempt allocated.
        out: Vec<Allocated>,
        /// The transaction's id (`txid_current()`).
        xid: i64,
        /// The `COMMIT`'s error.
        error: postgres::Error,
    },
    /// Anything else, the caller's `decide` included.
    Fail(LedgerError),
}

/// Whether `e` is the end of the connection (no answer, an I/O error, a
/// FATAL or PANIC message) rather than a statement refused with an ERROR.
pub(super) fn connection_lost(e: &postgres::Error) -> bool {
    let io = std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>());
    let fatal = e.as_db_error().is_some_and(|db| {
        matches!(
            db.parsed_severity(),
            Some(Severity::Fatal | Severity::Panic)
        )
    });
    e.is_closed() || io || fatal
}

/// Whether a `COMMIT`'s error proves the transaction rolled back: only an
/// ERROR answer does (a FATAL one may follow a commit that happened, as
/// when the backend is terminated while it commits).
fn commit_refused(e: &postgres::Error) -> bool {
    e.as_db_error()
        .is_some_and(|db| db.parsed_severity() == Some(Severity::Error))
}

/// Why reading the numbers taken in a scope failed.
enum TakenError {
    Pg(postgres::Error),
    Ledger(LedgerError),
}

/// The numbers taken in any scope of the batch's joint allocations.
fn joint_taken(
    tx: &mut postgres::Transaction<'_>,
    numbers: &postgres::Statement,
    batch: &[Allocation<'_>],
) -> Result<Vec<u32>, TakenError> {
    let mut t = Vec::new();
    for b in batch.iter().filter(|b| b.joint) {
        t.extend(scope_taken(tx, numbers, b)?);
    }
    Ok(t)
}

/// The numbers taken in `a`'s scope.
fn scope_taken(
    tx: &mut postgres::Transaction<'_>,
    numbers: &postgres::Statement,
    a: &Allocation<'_>,
) -> Result<Vec<u32>, TakenError> {
    let s = &a.scope;
    let rows = tx
        .query(
            numbers,
            &[
                &a.device_id,
                &i64::from(s.generation),
                &s.kind.name(),
                &i64::from(s.start),
                &i64::from(s.length),
                &s.lineage_column(),
            ],
        )
        .map_err(TakenError::Pg)?;
    let mut t = Vec::with_capacity(rows.len());
    for r in &rows {
        let n: i64 = r.try_get(0).map_err(TakenError::Pg)?;
        t.push(to_u32(n, "number").map_err(TakenError::Ledger)?);
    }
    Ok(t)
}

impl PostgresLedger {
    /// One attempt at a batch, in one transaction.
    pub(super) fn allocate_once(
        &mut self,
        batch: &[Allocation<'_>],
        decide: &mut dyn FnMut(usize, Slot) -> Result<StoredCode, LedgerError>,
    ) -> Result<Vec<Allocated>, Attempt> {
        let label = self.label.as_str();
        let mut tx = self.client.transaction().map_err(|e| attempt(label, e))?;
        let mut round = Round::prepare(&mut tx, label, batch).map_err(|e| attempt(label, e))?;
        let mut out = Vec::with_capacity(batch.len());
        for (i, a) in batch.iter().enumerate() {
            out.push(round.allocate(i, a, decide)?);
        }
        // The transaction's id, to ask its fate if the COMMIT gets no
        // answer (only when it stores something).
        let xid = if out.iter().any(|a| a.created) {
            let row = tx
                .query_one("SELECT txid_current()", &[])
                .map_err(|e| attempt(label, e))?;
            Some(row.try_get::<_, i64>(0).map_err(|e| attempt(label, e))?)
        } else {
            None
        };
        match (tx.commit(), xid) {
            (Ok(()), _) => Ok(out),
            (Err(error), Some(xid)) if !commit_refused(&error) => {
                Err(Attempt::CommitLost { out, xid, error })
            }
            (Err(e), _) => Err(attempt(label, e)),
        }
    }
}

/// How a failed statement ends an attempt: retried after a deadlock or a
/// lost connection (nothing was committed), failed otherwise.
fn attempt(label: &str, e: postgres::Error) -> Attempt {
    if retryable(&e) {
        Attempt::Retry(Some(e))
    } else if connection_lost(&e) {
        Attempt::Lost(e)
    } else {
        Attempt::Fail(pg_err(label, e))
    }
}

/// One attempt at a batch: its transaction, its statements, and the
/// numbers the joint allocations have taken (read once).
/// The workspace of the device `$2` names: a code's, for idempotency
/// keys are unique per workspace (migration 4).
const WORKSPACE_OF_2: &str = "(SELECT workspace_id FROM devices WHERE device_id = $2)";

struct Round<'t, 'c, 'a> {
    tx: &'t mut postgres::Transaction<'c>,
    label: &'t str,
    batch: &'t [Allocation<'a>],
    by_key: postgres::Statement,
    numbers: postgres::Statement,
    insert: postgres::Statement,
    joint: Option<Vec<u32>>,
}

impl<'t, 'c, 'a> Round<'t, 'c, 'a> {
    fn prepare(
        tx: &'t mut postgres::Transaction<'c>,
        label: &'t str,
        batch: &'t [Allocation<'a>],
    ) -> Result<Self, postgres::Error> {
        let by_key = tx.prepare(&format!(
            "SELECT {CODE_COLUMNS} FROM codes WHERE idempotency_key = $1 AND workspace_id = {WORKSPACE_OF_2}"
        ))?;
        let numbers = tx.prepare(
            "SELECT number FROM codes WHERE device_id = $1 AND generation = $2 AND kind = $3 AND start = $4 AND length = $5 AND lineage = $6",
        )?;
        let insert = tx.prepare(&format!(
            "INSERT INTO codes ({CODE_COLUMNS}, workspace_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, {WORKSPACE_OF_2}) ON CONFLICT DO NOTHING"
        ))?;
        Ok(Round {
            tx,
            label,
            batch,
            by_key,
            numbers,
            insert,
            joint: None,
        })
    }

    fn fail(&self, e: postgres::Error) -> Attempt {
        attempt(self.label, e)
    }

    /// Allocation `i`: the code stored under its idempotency key, or the
    /// lowest number free in its scope, as `decide` has it.
    fn allocate(
        &mut self,
        i: usize,
        a: &Allocation<'_>,
        decide: &mut dyn FnMut(usize, Slot) -> Result<StoredCode, LedgerError>,
    ) -> Result<Allocated, Attempt> {
        let mut used: Option<Vec<u32>> = None;
        loop {
            if let Some(code) = self.existing(a)? {
                let code = decide(i, Slot::Existing(Box::new(code))).map_err(Attempt::Fail)?;
                return Ok(Allocated {
                    code,
                    created: false,
                });
            }
            let taken = match &mut used {
                Some(t) => t,
                None => used.insert(self.taken(a)?),
            };
            let Some(n) = lowest_free(taken.iter().copied(), a.limit) else {
                decide(i, Slot::Exhausted).map_err(Attempt::Fail)?;
                return Err(Attempt::Fail(LedgerError::invariant(
                    "the batch went on after a full scope",
                )));
            };
            let code = decide(i, Slot::Free(n)).map_err(Attempt::Fail)?;
            if self.insert(a, n, &code)? {
                return Ok(Allocated {
                    code,
                    created: true,
                });
            }
            if a.joint {
                // A concurrent writer took the joint number on this
                // member after the others got it: start the batch
                // again, reading every member anew.
                return Err(Attempt::Retry(None));
            }
            // A concurrent writer committed this number, or this
            // idempotency key, first: look again. Each round learns one
            // more taken number or finds the key, so this ends within
            // `limit` rounds.
            taken.push(n);
        }
    }

    /// The code stored under `a`'s idempotency key, if any.
    fn existing(&mut self, a: &Allocation<'_>) -> Result<Option<StoredCode>, Attempt> {
        let Some(key) = a.idempotency_key else {
            return Ok(None);
        };
        match self.tx.query_opt(&self.by_key, &[&key, &a.device_id]) {
            Ok(Some(row)) => code_from_row(self.label, &row)
                .map(Some)
                .map_err(Attempt::Fail),
            Ok(None) => Ok(None),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// The numbers taken in `a`'s scope; for a joint allocation, in any
    /// scope of the joint set (read once per round).
    fn taken(&mut self, a: &Allocation<'_>) -> Result<Vec<u32>, Attempt> {
        if !a.joint {
            return scope_taken(self.tx, &self.numbers, a).map_err(|e| match e {
                TakenError::Pg(e) => self.fail(e),
                TakenError::Ledger(e) => Attempt::Fail(e),
            });
        }
        if let Some(t) = &self.joint {
            return Ok(t.clone());
        }
        let t = joint_taken(self.tx, &self.numbers, self.batch).map_err(|e| match e {
            TakenError::Pg(e) => self.fail(e),
            TakenError::Ledger(e) => Attempt::Fail(e),
        })?;
        self.joint = Some(t.clone());
        Ok(t)
    }

    /// Stores `code` on number `n` of `a`'s scope; `false` when a
    /// concurrent writer took the number or the idempotency key first.
    fn insert(&mut self, a: &Allocation<'_>, n: u32, code: &StoredCode) -> Result<bool, Attempt> {
        let s = &a.scope;
        let stored = self
            .tx
            .execute(
                &self.insert,
                &[
                    &code.access_code_id,
                    &a.device_id,
                    &i64::from(s.generation),
                    &s.kind.name(),
                    &i64::from(s.start),
                    &i64::from(s.length),
                    &s.lineage_column(),
                    &i64::from(n),
                    &code.code,
                    &code.issued_window.map(|w| w.start),
                    &code.issued_window.map(|w| w.end),
                    &code.name,
                    &code.user_identifier_key,
                    &code.common_code_key,
                    &a.idempotency_key,
                    &code.created_at,
                    &code.deleted_at,
                    &code.revocation_code,
                    &code.group.as_ref().map(|g| g.group_id.as_str()),
                    &code.group.as_ref().map(|g| i64::from(g.generation)),
                ],
            )
            .map_err(|e| self.fail(e))?;
        Ok(stored == 1)
    }
}
