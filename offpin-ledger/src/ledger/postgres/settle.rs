//! A batch whose connection is lost: before its `COMMIT` nothing is
//! stored, and it is tried again on a new connection; after, the ledger
//! asks the database whether the transaction committed (`txid_status` of
//! its id, read before the `COMMIT`, and the codes' ids, on a new
//! connection) and answers with the codes, or
//! tries again, or, if the database cannot be asked in time, says that the
//! outcome is unknown ([`LedgerError::OutcomeUnknown`]). Never a wrong
//! answer: a code is reported stored only if the database says it is, and
//! refused only if it says it is not.

use std::time::{Duration, Instant};

use postgres::NoTls;

use super::allocate::{Attempt, connection_lost};
use super::{PostgresLedger, RETRIES};
use crate::ledger::{Allocated, Allocation, LedgerError, Slot, StorageError, StoredCode};

/// The waits, in milliseconds, before each attempt to reach the database
/// again after a lost connection (the attempts' own time beside, each
/// bounded by the connection timeout, and all by [`BUDGET`]): long enough
/// for a restart, short enough for an HTTP client waiting for its answer.
pub const DELAYS_MS: [u64; 8] = [0, 50, 100, 200, 400, 800, 1_200, 1_400];

/// The most time the attempts of [`DELAYS_MS`] may take in all: none
/// starts after it (a connection that hangs rather than being refused
/// takes up to its connection timeout, [`super::CONNECT_TIMEOUT`] by
/// default, for each attempt).
pub const BUDGET: Duration = Duration::from_secs(6);

/// What the database says of a transaction whose `COMMIT` got no answer.
enum Fate {
    /// Committed: its codes are stored.
    Committed,
    /// Rolled back: none is.
    RolledBack,
    /// Still running (its backend has not noticed the lost connection).
    Running,
}

impl PostgresLedger {
    /// [`Ledger::allocate`](crate::ledger::Ledger::allocate): attempts
    /// ([`Self::allocate_once`]), tried again after a deadlock or a lost
    /// connection, at most [`RETRIES`] times.
    pub(super) fn allocate_settled(
        &mut self,
        batch: &[Allocation<'_>],
        decide: &mut dyn FnMut(usize, Slot) -> Result<StoredCode, LedgerError>,
    ) -> Result<Vec<Allocated>, LedgerError> {
        let mut last = None;
        for _ in 0..RETRIES {
            match self.allocate_once(batch, decide) {
                Ok(out) => return Ok(out),
                Err(Attempt::Fail(e)) => return Err(e),
                Err(Attempt::Retry(e)) => last = e,
                Err(Attempt::Lost(e)) => {
                    // Nothing was committed: the same batch, on a new
                    // connection.
                    if let Err(again) = self.reconnect_patiently() {
                        let label = &self.label;
                        return Err(StorageError::described(
                            format!(
                                "postgres {label}: the connection was lost before the commit ({e}); nothing was stored, and the database could not be reached again ({again})"
                            ),
                            e,
                        )
                        .into());
                    }
                    last = Some(e);
                }
                Err(Attempt::CommitLost { out, xid, error }) => {
                    match self.settle(xid, &out, error)? {
                        Some(e) => last = Some(e),
                        None => return Ok(out),
                    }
                }
            }
        }
        let what = format!(
            "postgres {}: the batch was tried {RETRIES} times, each lost to a concurrent batch (a deadlock) or a lost connection; nothing was stored; try again",
            self.label
        );
        Err(match last {
            // The last attempt's error, as the source.
            Some(e) => StorageError::described(what, e),
            None => StorageError::without_source(what),
        }
        .into())
    }

    /// Opens a new connection in place of the lost one.
    fn reconnect(&mut self) -> Result<(), postgres::Error> {
        self.client = self.config.connect(NoTls)?;
        Ok(())
    }

    /// [`Self::reconnect`], tried after each of [`DELAYS_MS`].
    fn reconnect_patiently(&mut self) -> Result<(), postgres::Error> {
        let deadline = Instant::now() + BUDGET;
        let mut result = Ok(());
        for delay in DELAYS_MS {
            if Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(delay));
            result = self.reconnect();
            if result.is_ok() {
                break;
            }
        }
        result
    }

    /// The fate of transaction `xid`, whose `COMMIT` was lost with
    /// `error`, asked on a new connection: `None` when it committed (the
    /// codes `out` created are stored), the error to try the batch again
    /// with when it rolled back.
    ///
    /// # Errors
    ///
    /// [`LedgerError::OutcomeUnknown`] when the database cannot be asked
    /// after each of [`DELAYS_MS`], or refuses to answer.
    fn settle(
        &mut self,
        xid: i64,
        out: &[Allocated],
        error: postgres::Error,
    ) -> Result<Option<postgres::Error>, LedgerError> {
        let ids: Vec<String> = out
            .iter()
            .filter(|a| a.created)
            .map(|a| a.code.access_code_id.clone())
            .collect();
        let deadline = Instant::now() + BUDGET;
        let mut why = String::from("no attempt");
        for (i, delay) in DELAYS_MS.into_iter().enumerate() {
            if Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(delay));
            // The connection that lost the COMMIT is never asked.
            if (i == 0 || self.client.is_closed())
                && let Err(e) = self.reconnect()
            {
                why = e.to_string();
                continue;
            }
            match self.fate(xid, &ids) {
                Ok(Fate::Committed) => return Ok(None),
                Ok(Fate::RolledBack) => return Ok(Some(error)),
                Ok(Fate::Running) => {
                    why = format!("transaction {xid} was still running");
                    self.stop(xid);
                }
                Err(e) => {
                    why = e.to_string();
                    if !connection_lost(&e) {
                        // Refused (e.g. a transaction id from before a
                        // failover): asking again will not tell.
                        break;
                    }
                }
            }
        }
        Err(LedgerError::OutcomeUnknown {
            access_code_ids: ids,
            source: StorageError::described(
                format!(
                    "postgres {}: the connection was lost while committing ({error}), and whether transaction {xid} committed could not be learned ({why})",
                    self.label
                ),
                error,
            ),
        })
    }

    /// What the database says of transaction `xid` and of the codes `ids`
    /// it stores if it committed.
    fn fate(&mut self, xid: i64, ids: &[String]) -> Result<Fate, postgres::Error> {
        let row = self.client.query_one(
            "SELECT txid_status($1), (SELECT count(*) FROM codes WHERE access_code_id = ANY($2))",
            &[&xid, &ids],
        )?;
        let status: Option<String> = row.try_get(0)?;
        let stored: i64 = row.try_get(1)?;
        let all = usize::try_from(stored).is_ok_and(|n| n == ids.len());
        Ok(match (status.as_deref(), stored) {
            (Some("in progress"), _) => Fate::Running,
            // `None`: too old to say, so finished; the codes tell.
            (Some("committed") | None, _) if all => Fate::Committed,
            (Some("aborted") | None, 0) => Fate::RolledBack,
            // A transaction stores all its codes or none: a committed one
            // without them, or an aborted one with some, is not
            // PostgreSQL's behaviour; ask again.
            _ => Fate::Running,
        })
    }

    /// Ends the backend still running transaction `xid` (its client is
    /// gone): the transaction then commits, if its `COMMIT` arrived, or
    /// rolls back, and its fate is known. Only the backend holding that
    /// transaction is signalled; a failure (no right to signal it) leaves
    /// it to end by itself.
    fn stop(&mut self, xid: i64) {
        let low = xid & 0xFFFF_FFFF;
        let _ = self.client.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND backend_xid IS NOT NULL AND backend_xid::text::bigint = $1",
            &[&low],
        );
    }
}
