//! The SQLite ledger's writer under `offpin serve`: concurrent creates
//! share commits (WAL while the server runs), `--max-batch 1` commits each
//! alone, and a stop leaves the ledger one file in the rollback journal's
//! mode, every answered code in it. (`kill -9` under load: `fleet`.)

use std::sync::{Arc, Barrier};

use crate::util::http::{agent, send, window};
use crate::util::serve::{Fixture, Server};
use serde_json::{Value, json};

/// `clients` threads, each sending `each` creates for windows of its own
/// at once; the PINs answered (every create must succeed).
fn burst(server: &Server, key: &str, clients: i64, each: i64) -> Vec<String> {
    let url = server.url("/access_codes/create");
    let start = Arc::new(Barrier::new(usize::try_from(clients).unwrap()));
    let threads: Vec<_> = (0..clients)
        .map(|t| {
            let (url, key, start) = (url.clone(), key.to_owned(), Arc::clone(&start));
            std::thread::spawn(move || {
                let a = agent();
                start.wait();
                (0..each)
                    .map(|i| {
                        let (s, e) = window(40 + i, 1 + t);
                        let body = json!({"device_id": "back-door", "starts_at": s, "ends_at": e});
                        let r = send(
                            &a,
                            "POST",
                            &url,
                            Some(&key),
                            Some(body.to_string().as_bytes()),
                        )
                        .unwrap();
                        assert_eq!(r.status, 200, "{r:?}");
                        r.body["access_code"]["code"].as_str().unwrap().to_owned()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    threads
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect()
}

/// The writer's counts from the log line of its stop.
fn writer_stats(log: &str) -> (u64, u64, u64) {
    let line = log
        .lines()
        .find(|l| l.contains("ledger writer stopped"))
        .unwrap_or_else(|| panic!("no stop line in {log}"));
    let field = |name: &str| -> u64 {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} in {line}"))
            .parse()
            .unwrap()
    };
    (field("writes"), field("commits"), field("largest_batch"))
}

/// The codes `offpin list` (a read-only open) finds on `back-door`.
fn listed(fx: &Fixture) -> Vec<String> {
    let out: Value = serde_json::from_str(&fx.run(&["list", "--device-id", "back-door"])).unwrap();
    out.as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn concurrent_creates_share_commits_and_a_stop_leaves_one_file() {
    let fx = Fixture::sqlite();
    let server = fx.start(&["--rate-limit", "0"]);
    assert!(
        server.log_text().contains("journal_mode=\"wal\"")
            || server.log_text().contains("journal_mode=wal"),
        "{}",
        server.log_text()
    );
    let mut answered = burst(&server, &fx.key, 16, 25);
    let wal = fx.dir.path().join("ledger.db-wal");
    assert!(
        wal.exists(),
        "the ledger is in WAL mode while the server runs"
    );
    // Read while the server runs.
    let mut seen = listed(&fx);
    seen.sort();
    answered.sort();
    assert_eq!(seen, answered);
    let log = {
        let log_path = server.log.clone();
        assert!(server.terminate().success());
        std::fs::read_to_string(log_path).unwrap()
    };
    let (writes, commits, largest) = writer_stats(&log);
    assert_eq!(writes, 400);
    assert!(
        commits < writes && largest > 1,
        "16 clients at once share commits: {writes} writes in {commits} commits"
    );
    // One file again, in the rollback journal's mode (header bytes 18, 19).
    assert!(!wal.exists());
    assert!(!fx.dir.path().join("ledger.db-shm").exists());
    let header = std::fs::read(fx.dir.path().join("ledger.db")).unwrap();
    assert_eq!(header.get(18..20), Some(&[1u8, 1][..]));
    let mut after = listed(&fx);
    after.sort();
    assert_eq!(after, answered);
    eprintln!("group commit: {writes} creates in {commits} commits (largest {largest})");
}

#[test]
fn max_batch_1_commits_each_create_alone() {
    let fx = Fixture::sqlite();
    let server = fx.start(&["--rate-limit", "0", "--max-batch", "1"]);
    let answered = burst(&server, &fx.key, 8, 5);
    let log_path = server.log.clone();
    assert!(server.terminate().success());
    let (writes, commits, largest) = writer_stats(&std::fs::read_to_string(log_path).unwrap());
    assert_eq!((writes, commits, largest), (40, 40, 1));
    assert_eq!(listed(&fx).len(), answered.len());
}
