//! The SQLite ledger's writer (`GroupCommit`): writes queued together
//! share one commit, each in its own savepoint (a refused or panicking
//! write rolls back alone), every behaviour of the ledger holds inside
//! it, and the ledger is one file again when it stops; a copy of a
//! running writer's files (what `kill -9` leaves) holds every write
//! answered.

use std::collections::BTreeSet;
use std::sync::mpsc::{Receiver, channel};

use super::*;
use offpin_ledger::ledger::sqlite::SqliteLedger;
use offpin_ledger::ledger::sqlite::writer::GroupCommit;

/// A writer on a fresh ledger file with `lock-a` and `lock-b`.
fn writer(dir: &tempfile::TempDir, max_batch: usize) -> (GroupCommit, std::path::PathBuf) {
    let path = dir.path().join("ledger.db");
    setup(&mut SqliteLedger::open(&path).unwrap());
    (GroupCommit::start(&path, max_batch).unwrap(), path)
}

#[derive(Debug)]
enum JobError {
    Ledger(LedgerError),
    Refused,
}

impl From<LedgerError> for JobError {
    fn from(e: LedgerError) -> Self {
        JobError::Ledger(e)
    }
}

type Reply<T> = Receiver<Result<T, JobError>>;

fn submit<T: Send + 'static>(
    w: &GroupCommit,
    job: impl FnOnce(&mut SqliteLedger) -> Result<T, JobError> + Send + 'static,
) -> Reply<T> {
    let (tx, rx) = channel();
    w.submit(job, move |r| {
        let _ = tx.send(r);
    })
    .unwrap();
    rx
}

fn issue(l: &mut SqliteLedger) -> Result<String, JobError> {
    Ok(l.issue(&master(), &window(), now())?.record.code)
}

/// Holds the writer in a job of its own until the returned sender is
/// used, so that everything queued meanwhile is one batch.
fn hold(w: &GroupCommit) -> std::sync::mpsc::Sender<()> {
    let (go, gate) = channel::<()>();
    let (started, running) = channel::<()>();
    let _held = submit(w, move |_| {
        started.send(()).unwrap();
        gate.recv().unwrap();
        Ok(())
    });
    running.recv().unwrap();
    go
}

fn pins(path: &std::path::Path) -> Vec<String> {
    SqliteLedger::open_read_only(path)
        .unwrap()
        .list(&ListFilter::device("lock-a"), now())
        .unwrap()
        .into_iter()
        .map(|c| c.code)
        .collect()
}

#[test]
fn writes_queued_together_share_one_commit() {
    let dir = tempfile::tempdir().unwrap();
    let (w, path) = writer(&dir, 256);
    assert_eq!(w.journal_mode(), "wal");
    let go = hold(&w);
    // 40 creates, each for a window of its own.
    let replies: Vec<Reply<String>> = (0..40_i64)
        .map(|i| {
            submit(&w, move |l| {
                let start = t("2025-05-01T15:00:00Z") + Duration::hours(i);
                let spec = CodeSpec::time_bound("lock-a", start, start + Duration::hours(1));
                Ok(l.issue(&master(), &spec, now())?.record.code)
            })
        })
        .collect();
    go.send(()).unwrap();
    let answered: Vec<String> = replies
        .into_iter()
        .map(|r| r.recv().unwrap().unwrap())
        .collect();
    let stats = w.stop().unwrap();
    // The held job's commit, then the 40 in one.
    assert_eq!(
        (stats.writes, stats.commits, stats.largest_batch),
        (41, 2, 40)
    );
    assert_eq!(pins(&path), answered);
}

#[test]
fn a_batch_of_one_commits_each_write_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (w, _) = writer(&dir, 1);
    let go = hold(&w);
    let replies: Vec<Reply<String>> = (0..3).map(|_| submit(&w, issue)).collect();
    go.send(()).unwrap();
    for r in replies {
        r.recv().unwrap().unwrap();
    }
    let stats = w.stop().unwrap();
    assert_eq!(
        (stats.writes, stats.commits, stats.largest_batch),
        (4, 4, 1)
    );
}

/// One batch for a window of 3 variances: a write refused after it
/// issued, and one that panics after it issued, roll back alone (the
/// next write gets the variance they took); the fourth code is refused.
#[test]
fn a_refused_or_panicking_write_rolls_back_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (w, path) = writer(&dir, 256);
    let go = hold(&w);
    let first = submit(&w, issue);
    let refused = submit(&w, |l| {
        issue(l)?;
        Err::<String, _>(JobError::Refused)
    });
    let panicked = submit(&w, |l| -> Result<String, JobError> {
        let pin = issue(l)?;
        panic!("a write that panics after issuing {pin}");
    });
    let second = submit(&w, issue);
    let third = submit(&w, issue);
    let full = submit(&w, issue);
    go.send(()).unwrap();
    let first = first.recv().unwrap().unwrap();
    assert!(matches!(refused.recv().unwrap(), Err(JobError::Refused)));
    assert!(
        panicked.recv().is_err(),
        "a panicking write is not answered"
    );
    let second = second.recv().unwrap().unwrap();
    let third = third.recv().unwrap().unwrap();
    assert!(matches!(
        full.recv().unwrap(),
        Err(JobError::Ledger(LedgerError::NoVarianceAvailable { .. }))
    ));
    let stats = w.stop().unwrap();
    // The held write, then one commit: the panicking write is not counted.
    assert_eq!((stats.commits, stats.largest_batch), (2, 6));
    assert_eq!(pins(&path), vec![first, second, third]);
}

/// Every behaviour test, run inside one write of the writer: the ledger's
/// own atomic steps (allocations, groups) nest as savepoints, and their
/// refusals roll back only themselves.
#[test]
fn every_behaviour_holds_inside_a_group_commit() {
    let dir = tempfile::tempdir().unwrap();
    let tests: [fn(&mut SqliteLedger); 10] = [
        exercise,
        refusals,
        key_binding,
        older_ledger_without_codes,
        older_ledger_with_a_code,
        batches,
        lifecycle,
        read_time,
        hosted,
        api_keys,
    ];
    for (n, test) in tests.into_iter().enumerate() {
        let path = dir.path().join(format!("{n}.db"));
        drop(SqliteLedger::open(&path).unwrap());
        let w = GroupCommit::start(&path, 8).unwrap();
        let done = submit(&w, move |l| {
            test(l);
            Ok(())
        });
        assert!(done.recv().unwrap().is_ok(), "behaviour test {n}");
        w.stop().unwrap();
    }
}

/// A stopped writer leaves one file in the rollback journal's mode (what
/// a read-only directory can hold); a running one's files, copied as
/// `kill -9` leaves them, hold every write answered, are read read-only,
/// and the next write open makes them one file.
#[test]
fn the_stop_leaves_one_file_and_a_killed_writer_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (w, path) = writer(&dir, 256);
    // Another connection's write open (which turns the journal to DELETE
    // when it can) leaves the running writer's WAL alone.
    drop(SqliteLedger::open_existing(&path).unwrap());
    let answered: Vec<String> = (0..3)
        .map(|_| submit(&w, issue).recv().unwrap().unwrap())
        .collect();
    assert!(dir.path().join("ledger.db-wal").exists());
    let crashed = dir.path().join("crashed.db");
    for suffix in ["", "-wal", "-shm"] {
        let from = format!("{}{suffix}", path.display());
        std::fs::copy(&from, format!("{}{suffix}", crashed.display())).unwrap();
    }
    w.stop().unwrap();
    let names: BTreeSet<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.contains("ledger.db-wal") && !names.contains("ledger.db-shm"));
    // Bytes 18 and 19 of the header: 1 is the rollback journal, 2 WAL.
    let header = std::fs::read(&path).unwrap();
    assert_eq!(header[18..20], [1, 1]);
    assert_eq!(pins(&path), answered);
    assert_eq!(std::fs::read(&crashed).unwrap()[18..20], [2, 2]);
    assert_eq!(pins(&crashed), answered);
    let mut reopened = SqliteLedger::open_existing(&crashed).unwrap();
    assert_eq!(
        reopened
            .list(&ListFilter::device("lock-a"), now())
            .unwrap()
            .len(),
        3
    );
    drop(reopened);
    assert!(!dir.path().join("crashed.db-wal").exists());
    assert_eq!(std::fs::read(&crashed).unwrap()[18..20], [1, 1]);
}
