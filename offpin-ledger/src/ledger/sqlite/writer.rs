//! [`GroupCommit`]: one writer thread that commits concurrent writes to an
//! SQLite ledger together, for a service (`offpin serve`) whose clients
//! write at once.
//!
//! A commit waits for the disk (`fsync`); writes that each commit on
//! their own wait for it one after the other. The writer instead takes
//! every write waiting in its queue (up to a batch size), runs each in a
//! savepoint of one `BEGIN IMMEDIATE` transaction, commits once, and only
//! then answers each: a write answered as done is on disk, and one that
//! fails (a refusal, an error, a panic) is rolled back to its savepoint
//! alone, its batch-mates kept. The ledger logic is unchanged: each write
//! is a closure over [`SqliteLedger`] calling the [`Ledger`](crate::ledger::Ledger)
//! methods as a single-connection caller would; their own atomic steps
//! ([`Ledger::allocate`](crate::ledger::Ledger::allocate), groups) nest
//! as savepoints.
//!
//! **The journal.** While the writer runs, the ledger is in WAL mode with
//! `synchronous = FULL`: a commit is one `fsync` of the log (the rollback
//! journal waits for the journal's and then the file's), and readers (the
//! service's other connections, `offpin list`) neither block the writer
//! nor wait for it. A thread of the writer's checkpoints the log into the
//! file every [`CHECKPOINT_EVERY`] (never in a commit's path). When the
//! writer stops ([`GroupCommit::stop`]) it checkpoints everything and
//! turns the journal back to `DELETE`: the ledger is one file again,
//! readable in a read-only directory ([`SqliteLedger::open_read_only`]).
//! A writer killed (`kill -9`, power loss) leaves the ledger in WAL mode
//! with its `-wal` and `-shm` files beside it: every committed write is in
//! them, a reader reads them (read-only, too, while they are there), and
//! the next write open ([`SqliteLedger::open_existing`]) checkpoints them
//! and makes the ledger one file again.

use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::SqliteLedger;
use crate::ledger::{LedgerError, StorageError};

/// How often the writer's checkpointer copies the log into the ledger
/// file (when something was committed since).
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// The savepoint each write of a batch runs in.
const JOB_SAVEPOINT: &str = "group_commit_job";

/// What the writer has done so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriterStats {
    /// Writes answered after a commit (succeeded or refused).
    pub writes: u64,
    /// Commits (one per batch).
    pub commits: u64,
    /// The most writes taken for one commit.
    pub largest_batch: u64,
}

#[derive(Default)]
struct Counters {
    writes: AtomicU64,
    commits: AtomicU64,
    largest_batch: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> WriterStats {
        WriterStats {
            writes: self.writes.load(Ordering::Relaxed),
            commits: self.commits.load(Ordering::Relaxed),
            largest_batch: self.largest_batch.load(Ordering::Relaxed),
        }
    }
}

/// The writer stopped: the write was not queued, and nothing of it ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterStopped;

impl std::fmt::Display for WriterStopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the ledger's writer has stopped")
    }
}

impl std::error::Error for WriterStopped {}

/// A write that ran in the batch's transaction: whether it succeeded, and
/// what answers its caller once the batch's fate is known (`None`: the
/// batch committed; `Some`: the error that lost it).
struct Ran {
    ok: bool,
    answer: Box<dyn FnOnce(Option<LedgerError>) + Send>,
}

/// A queued write, its result type erased.
trait Queued: Send {
    /// Runs the write on the writer's connection.
    fn run(self: Box<Self>, ledger: &mut SqliteLedger) -> Ran;
    /// Answers with `e` without running.
    fn refuse(self: Box<Self>, e: LedgerError);
}

struct Task<F, R, T, E> {
    job: F,
    reply: R,
    result: PhantomData<fn() -> (T, E)>,
}

impl<T, E, F, R> Queued for Task<F, R, T, E>
where
    T: Send + 'static,
    E: From<LedgerError> + Send + 'static,
    F: FnOnce(&mut SqliteLedger) -> Result<T, E> + Send,
    R: FnOnce(Result<T, E>) + Send + 'static,
{
    fn run(self: Box<Self>, ledger: &mut SqliteLedger) -> Ran {
        let Task { job, reply, .. } = *self;
        let result = job(ledger);
        Ran {
            ok: result.is_ok(),
            answer: Box::new(move |lost: Option<LedgerError>| match lost {
                Some(e) => reply(Err(E::from(e))),
                None => reply(result),
            }),
        }
    }

    fn refuse(self: Box<Self>, e: LedgerError) {
        (self.reply)(Err(E::from(e)));
    }
}

enum Msg {
    Write(Box<dyn Queued>),
    Stop,
}

/// The writer of an SQLite ledger: a thread that owns the one connection
/// that writes, and commits the writes queued with [`GroupCommit::submit`]
/// in shared transactions (see the module documentation).
pub struct GroupCommit {
    queue: Sender<Msg>,
    thread: std::sync::Mutex<Option<JoinHandle<Result<(), LedgerError>>>>,
    counters: Arc<Counters>,
    journal_mode: String,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit")
            .field("journal_mode", &self.journal_mode)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl GroupCommit {
    /// Opens the existing ledger at `path` for writing (as
    /// [`SqliteLedger::open_existing`]), turns it to WAL mode with
    /// `synchronous = FULL`, and starts the writer, which commits at most
    /// `max_batch` writes at once (1: one write per transaction).
    ///
    /// # Errors
    ///
    /// Those of [`SqliteLedger::open_existing`]; [`LedgerError::Storage`].
    pub fn start(path: &Path, max_batch: usize) -> Result<Self, LedgerError> {
        let ledger = SqliteLedger::open_existing(path)?;
        // Another process holding the file open in the rollback journal's
        // mode can keep it there: the writer then commits with it.
        let journal_mode: String = ledger
            .conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(|e| ledger.err(e))?;
        // A read opens the log and holds it open (a shared lock on the
        // `-shm` file) for as long as the writer runs: until then, another
        // connection's open (which turns the journal to DELETE) could turn
        // it back.
        ledger
            .conn
            .execute_batch("PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = 0;")
            .and_then(|()| {
                ledger
                    .conn
                    .query_row("SELECT count(*) FROM sqlite_master", [], |r| {
                        r.get::<_, i64>(0)
                    })
            })
            .map_err(|e| ledger.err(e))?;
        let counters = Arc::new(Counters::default());
        let (queue, inbox) = channel();
        let checkpointer = Checkpointer::start(path, Arc::clone(&counters));
        let thread_counters = Arc::clone(&counters);
        let thread = std::thread::Builder::new()
            .name("offpin-ledger-writer".to_owned())
            .spawn(move || {
                let ledger = write_loop(ledger, &inbox, max_batch.max(1), &thread_counters);
                drop(inbox);
                checkpointer.stop();
                back_to_one_file(&ledger)
            })
            .map_err(|e| StorageError::new("cannot start the ledger's writer", e))?;
        Ok(GroupCommit {
            queue,
            thread: std::sync::Mutex::new(Some(thread)),
            counters,
            journal_mode,
        })
    }

    /// The journal mode the writer commits in (`wal`, unless another
    /// process kept the ledger in its rollback journal's mode).
    pub fn journal_mode(&self) -> &str {
        &self.journal_mode
    }

    /// Queues a write. The writer runs `job` on its connection, in a
    /// savepoint of a transaction it shares with the writes queued beside
    /// it, and calls `reply` on its thread once that transaction is
    /// committed: with the job's result, or with the storage error that
    /// lost the batch (then nothing of the job is stored). If `job`
    /// returns an error, or panics, what it wrote is rolled back and the
    /// others' writes are kept; a panicking job's `reply` is dropped
    /// uncalled. `reply` should only hand the result on (a channel).
    ///
    /// # Errors
    ///
    /// [`WriterStopped`] after [`GroupCommit::stop`]; a write queued as
    /// it stops may also be dropped, `reply` uncalled.
    pub fn submit<T, E, F, R>(&self, job: F, reply: R) -> Result<(), WriterStopped>
    where
        T: Send + 'static,
        E: From<LedgerError> + Send + 'static,
        F: FnOnce(&mut SqliteLedger) -> Result<T, E> + Send + 'static,
        R: FnOnce(Result<T, E>) + Send + 'static,
    {
        self.queue
            .send(Msg::Write(Box::new(Task {
                job,
                reply,
                result: PhantomData,
            })))
            .map_err(|_| WriterStopped)
    }

    /// What the writer has done so far.
    pub fn stats(&self) -> WriterStats {
        self.counters.snapshot()
    }

    /// Stops the writer after the writes queued before, checkpoints the
    /// log and turns the journal back to `DELETE` (one file), and returns
    /// what the writer did. Later calls return the same counts at once.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Storage`] when the journal stays in WAL mode
    /// (another connection still has the ledger open): the ledger is
    /// whole, its `-wal` file beside it until the next writer opens it.
    pub fn stop(&self) -> Result<WriterStats, LedgerError> {
        let _ = self.queue.send(Msg::Stop);
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(thread) = thread {
            thread
                .join()
                .map_err(|_| LedgerError::invariant("the ledger's writer panicked"))??;
        }
        Ok(self.stats())
    }
}

impl Drop for GroupCommit {
    /// Stops the writer without waiting for it.
    fn drop(&mut self) {
        let _ = self.queue.send(Msg::Stop);
    }
}

/// Takes batches from `inbox` until a stop (or every sender is gone).
fn write_loop(
    mut ledger: SqliteLedger,
    inbox: &Receiver<Msg>,
    max_batch: usize,
    counters: &Counters,
) -> SqliteLedger {
    let mut stopping = false;
    while !stopping {
        let Ok(Msg::Write(first)) = inbox.recv() else {
            break;
        };
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match inbox.try_recv() {
                Ok(Msg::Write(w)) => batch.push(w),
                Ok(Msg::Stop) => {
                    stopping = true;
                    break;
                }
                Err(_) => break,
            }
        }
        run_batch(&mut ledger, batch, counters);
    }
    ledger
}

/// Runs one batch: each write in its savepoint, one commit, then the
/// answers. A write must stop at the first error it meets (the ledger's
/// methods return it): after an error that made SQLite roll the
/// transaction back, a statement would run outside it.
fn run_batch(ledger: &mut SqliteLedger, batch: Vec<Box<dyn Queued>>, counters: &Counters) {
    let size = batch.len() as u64;
    let mut ran: Vec<Ran> = Vec::with_capacity(batch.len());
    let mut writes = batch.into_iter();
    while let Some(write) = writes.next() {
        if ledger.conn.is_autocommit() {
            // SQLite rolled back the shared transaction under the writes
            // that ran in it (a failure such as a full disk does).
            if !ran.is_empty() {
                let lost = ledger.lost("SQLite rolled the shared transaction back");
                answer_all(ran.drain(..), Some(&lost));
            }
            if let Err(e) = ledger.conn.execute_batch("BEGIN IMMEDIATE") {
                let e = ledger.err(e);
                write.refuse(copy_of(&e));
                writes.for_each(|w| w.refuse(copy_of(&e)));
                return;
            }
        }
        if let Some(r) = run_one(ledger, write) {
            ran.push(r);
        }
    }
    let committed = if ledger.conn.is_autocommit() {
        Err(ledger.lost("SQLite rolled the shared transaction back"))
    } else {
        ledger.conn.execute_batch("COMMIT").map_err(|e| {
            let e = ledger.err(e);
            if !ledger.conn.is_autocommit() {
                let _ = ledger.conn.execute_batch("ROLLBACK");
            }
            e
        })
    };
    if committed.is_ok() {
        counters.commits.fetch_add(1, Ordering::Relaxed);
        counters.largest_batch.fetch_max(size, Ordering::Relaxed);
    }
    counters
        .writes
        .fetch_add(ran.len() as u64, Ordering::Relaxed);
    answer_all(ran.drain(..), committed.err().as_ref());
}

/// Runs one write in its savepoint; rolls it back if it fails. `None`
/// when it panicked (its reply was dropped) or could not start.
fn run_one(ledger: &mut SqliteLedger, write: Box<dyn Queued>) -> Option<Ran> {
    if let Err(e) = ledger
        .conn
        .execute_batch(&format!("SAVEPOINT {JOB_SAVEPOINT}"))
    {
        write.refuse(ledger.err(e));
        return None;
    }
    let ran = catch_unwind(AssertUnwindSafe(|| write.run(ledger))).ok();
    let keep = ran.as_ref().is_some_and(|r| r.ok);
    if !ledger.conn.is_autocommit() {
        let end = if keep {
            format!("RELEASE {JOB_SAVEPOINT}")
        } else {
            format!("ROLLBACK TO {JOB_SAVEPOINT}; RELEASE {JOB_SAVEPOINT}")
        };
        if ledger.conn.execute_batch(&end).is_err() && !ledger.conn.is_autocommit() {
            // The savepoint is in an unknown state: lose the batch rather
            // than commit half a write.
            let _ = ledger.conn.execute_batch("ROLLBACK");
        }
    }
    ran
}

fn answer_all(ran: impl Iterator<Item = Ran>, lost: Option<&LedgerError>) {
    for r in ran {
        (r.answer)(lost.map(copy_of));
    }
}

/// A storage error with `e`'s message, for each write a failure lost.
fn copy_of(e: &LedgerError) -> LedgerError {
    StorageError::without_source(e.to_string()).into()
}

impl SqliteLedger {
    fn lost(&self, why: &str) -> LedgerError {
        StorageError::without_source(format!("{}: {why}; the write was not stored", self.label))
            .into()
    }
}

/// Checkpoints, then turns the journal back to `DELETE`.
fn back_to_one_file(ledger: &SqliteLedger) -> Result<(), LedgerError> {
    let mode: String = ledger
        .conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .and_then(|()| {
            ledger
                .conn
                .query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))
        })
        .map_err(|e| ledger.err(e))?;
    if mode.eq_ignore_ascii_case("delete") {
        Ok(())
    } else {
        Err(StorageError::without_source(format!(
            "{}: the journal stays in {mode} mode (another connection has the ledger open); the next write open makes it one file again",
            ledger.label
        ))
        .into())
    }
}

/// The thread that checkpoints the log while the writer runs.
struct Checkpointer {
    stop: Sender<()>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    fn start(path: &Path, counters: Arc<Counters>) -> Self {
        let (stop, stopped) = channel::<()>();
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        // Without its connection the log is checkpointed at the stop only.
        let thread = Connection::open_with_flags(path, flags)
            .ok()
            .and_then(|conn| {
                std::thread::Builder::new()
                    .name("offpin-ledger-checkpoint".to_owned())
                    .spawn(move || checkpoint_loop(&conn, &stopped, &counters))
                    .ok()
            });
        Checkpointer { stop, thread }
    }

    fn stop(self) {
        let _ = self.stop.send(());
        if let Some(t) = self.thread {
            let _ = t.join();
        }
    }
}

fn checkpoint_loop(conn: &Connection, stopped: &Receiver<()>, counters: &Counters) {
    let mut seen = 0;
    while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_EVERY) {
        let commits = counters.commits.load(Ordering::Relaxed);
        if commits != seen {
            seen = commits;
            // PASSIVE: copies what no reader still needs, never waits.
            let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::{Receiver, channel};

    use chrono::{DateTime, Utc};
    use offpin::MasterKey;

    use super::GroupCommit;
    use crate::ledger::sqlite::SqliteLedger;
    use crate::ledger::{CodeSpec, Device, Ledger, LedgerError, ListFilter};

    fn at(t: &str) -> DateTime<Utc> {
        t.parse().unwrap()
    }

    fn spec() -> CodeSpec {
        CodeSpec::time_bound(
            "front-door",
            at("2025-01-01T16:00:00Z"),
            at("2025-01-03T10:00:00Z"),
        )
    }

    type Reply = Receiver<Result<String, LedgerError>>;

    /// Queues an issue of `spec()`, run after `before`; its PIN arrives on
    /// the receiver.
    fn issue(
        writer: &GroupCommit,
        before: impl FnOnce(&mut SqliteLedger) + Send + 'static,
    ) -> Reply {
        let (tx, rx) = channel();
        writer
            .submit(
                move |l: &mut SqliteLedger| {
                    before(l);
                    let master = MasterKey::from_bytes([7; 32]);
                    Ok(l.issue(&master, &spec(), at("2024-12-01T00:00:00Z"))?
                        .record
                        .code)
                },
                move |r| tx.send(r).unwrap(),
            )
            .unwrap();
        rx
    }

    /// Writes that ran in a transaction SQLite rolled back (as a full disk
    /// does) are answered with an error, never as stored; the writes after
    /// them run in a new transaction and commit.
    #[test]
    fn writes_in_a_transaction_sqlite_rolled_back_are_answered_with_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.db");
        let master = MasterKey::from_bytes([7; 32]);
        SqliteLedger::open(&path)
            .unwrap()
            .add_device(&master, &Device::new("front-door", "standard-10"))
            .unwrap();
        let writer = GroupCommit::start(&path, 16).unwrap();
        assert_eq!(writer.journal_mode(), "wal");
        // The first write holds the writer until the others are queued.
        let (go, gate) = channel::<()>();
        let (started, running) = channel::<()>();
        let first = issue(&writer, move |_| {
            started.send(()).unwrap();
            gate.recv().unwrap();
        });
        running.recv().unwrap();
        let lost = issue(&writer, |_| {});
        // A statement that fails in a way that makes SQLite roll back the
        // transaction (a full disk) fails its write.
        let (tx, rollback) = channel();
        writer
            .submit(
                |l: &mut SqliteLedger| {
                    l.conn.execute_batch("ROLLBACK").unwrap();
                    Err::<String, _>(LedgerError::invariant("the disk is full"))
                },
                move |r| tx.send(r).unwrap(),
            )
            .unwrap();
        let after = issue(&writer, |_| {});
        go.send(()).unwrap();
        let first = first.recv().unwrap().unwrap();
        let lost = lost.recv().unwrap().unwrap_err().to_string();
        assert!(
            lost.contains("rolled the shared transaction back"),
            "{lost}"
        );
        assert!(rollback.recv().unwrap().is_err());
        let after = after.recv().unwrap().unwrap();
        let stats = writer.stop().unwrap();
        // Two commits: the held write's, and the batch of three whose
        // last write alone was stored.
        assert_eq!((stats.commits, stats.largest_batch), (2, 3));
        // The rolled-back write's variance went to the write after it.
        let mut read = SqliteLedger::open_read_only(&path).unwrap();
        let codes: Vec<String> = read
            .list(
                &ListFilter::device("front-door"),
                at("2024-12-01T00:00:00Z"),
            )
            .unwrap()
            .into_iter()
            .map(|c| c.code)
            .collect();
        assert_eq!(codes, vec![first, after]);
    }
}
