//! `offpin serve` on a PostgreSQL that fails (issue 20, point 4), on a
//! cluster of the test's own (made by `.ci/postgres.sh`, so that it can be
//! restarted without disturbing the other tests' database), through real
//! sockets:
//!
//! - bursts of creates, each with its own `Idempotency-Key`, while a side
//!   connection terminates the server's connections, then while the
//!   cluster crash-restarts (`pg_ctl restart -m immediate`): every 200 is
//!   stored once with its PIN; no 503 `ledger_unavailable` is stored; an
//!   `outcome_unknown` names the code, and every 5xx sent again with its
//!   key gets 200 and leaves exactly one code;
//! - while the cluster is down `/health/ready` is 503 and `/health` 200;
//!   after it is back readiness is 200, and after a restart the first
//!   requests of an idle server are not 503 (connections are validated on
//!   checkout);
//! - no 5xx body names the database's user, host, port, name or password,
//!   and neither does the server's log name the password.
//!
//! Run with `--nocapture` for the numbers (the closing note's).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::util::http::{Answer, agent, send, send_with, window};
use crate::util::serve::{Fixture, Server};

/// The password in the ledger's URL (the cluster trusts local
/// connections, so it is never checked, only carried).
const PASSWORD: &str = "s3cret-pw";

/// A PostgreSQL cluster of this test's own.
struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    /// Its database, without the password.
    url: String,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../.ci/postgres.sh")
}

/// The newest `/usr/lib/postgresql/*/bin`.
fn pg_bin() -> Option<PathBuf> {
    let mut bins: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse().ok()?;
            Some((v, e.path().join("bin")))
        })
        .collect();
    bins.sort();
    bins.pop().map(|(_, b)| b)
}

impl Cluster {
    /// Starts one, or `None` (skip) where PostgreSQL tests do not run; in
    /// CI it must start.
    fn start() -> Option<Self> {
        let ci = std::env::var_os("CI").is_some();
        if std::env::var_os("OFFPIN_TEST_POSTGRES").is_none() {
            assert!(!ci, "CI must set OFFPIN_TEST_POSTGRES");
            eprintln!("OFFPIN_TEST_POSTGRES is not set: PostgreSQL outage test skipped");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("offpin-outage-{}-{port}", std::process::id()));
        let out = Command::new("bash")
            .arg(script())
            .arg("start")
            .arg(&dir)
            .env("OFFPIN_PG_PORT", port.to_string())
            .output()
            .unwrap();
        let bin = pg_bin();
        if !out.status.success() || bin.is_none() {
            let why = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(!ci, "cannot start a cluster of the test's own: {why}");
            eprintln!(
                "cannot start a cluster (root and Debian's PostgreSQL needed): {why}; skipped"
            );
            return None;
        }
        let url = std::fs::read_to_string(dir.join("url"))
            .unwrap()
            .trim()
            .to_owned();
        Some(Cluster {
            dir,
            bin: bin.unwrap(),
            port,
            url,
        })
    }

    /// `pg_ctl ARGS` on the cluster, as the `postgres` user.
    fn pg_ctl(&self, args: &str) {
        let cmd = format!(
            "{} -D {} -l {} -w {args}",
            self.bin.join("pg_ctl").display(),
            self.dir.join("data").display(),
            self.dir.join("server.log").display()
        );
        let me = Command::new("id").arg("-un").output().unwrap();
        let status = if String::from_utf8_lossy(&me.stdout).trim() == "postgres" {
            Command::new("sh").args(["-c", &cmd]).status()
        } else {
            Command::new("su")
                .args(["postgres", "-s", "/bin/sh", "-c", &cmd])
                .status()
        }
        .unwrap();
        assert!(status.success(), "pg_ctl {args}");
    }

    fn stop(&self) {
        self.pg_ctl("-m fast stop");
    }

    fn start_again(&self) {
        self.pg_ctl(&format!(
            "-o '-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200' start",
            self.port,
            self.dir.display()
        ));
    }

    /// `pg_ctl restart -m MODE` (`immediate`: a crash and its recovery).
    fn restart(&self, mode: &str) {
        self.pg_ctl(&format!("-m {mode} restart"));
    }

    /// The URL with a password in it (`postgres://postgres:PASSWORD@...`).
    fn url_with_password(&self) -> String {
        self.url
            .replacen("postgres@", &format!("postgres:{PASSWORD}@"), 1)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .arg("stop")
            .arg(&self.dir)
            .status();
    }
}

/// One create of a burst: its tag (also its `Idempotency-Key` and
/// `user_identifier_key`), its body, and its answer.
struct Sent {
    tag: String,
    body: Value,
    answer: Result<Answer, String>,
}

/// A create with its idempotency key.
fn create(
    a: &ureq::Agent,
    server: &Server,
    key: &str,
    tag: &str,
    body: &Value,
) -> Result<Answer, String> {
    send_with(
        a,
        "POST",
        &server.url("/access_codes/create"),
        Some(key),
        &[("Idempotency-Key", tag)],
        Some(body.to_string().as_bytes()),
    )
}

/// 8 clients sending creates (each its own window, from `day0` days on)
/// until `until` returns true or each sent 250.
fn burst(
    server: &Server,
    key: &str,
    phase: &str,
    day0: i64,
    done: &Arc<AtomicBool>,
) -> std::thread::JoinHandle<Vec<Sent>> {
    let (url_base, key, phase, done) = (
        server.base.clone(),
        key.to_owned(),
        phase.to_owned(),
        Arc::clone(done),
    );
    std::thread::spawn(move || {
        let threads: Vec<_> = (0..8_i64)
            .map(|t| {
                let (url_base, key, phase, done) = (
                    url_base.clone(),
                    key.clone(),
                    phase.clone(),
                    Arc::clone(&done),
                );
                std::thread::spawn(move || {
                    let a = agent();
                    let mut sent = Vec::new();
                    for i in 0..250_i64 {
                        if done.load(Ordering::SeqCst) {
                            break;
                        }
                        let tag = format!("{phase}-t{t}-{i}");
                        let (start, end) = window(day0 + i, 1 + t);
                        let body = json!({"device_id": "back-door", "starts_at": start,
                                          "ends_at": end, "user_identifier_key": tag});
                        let answer = send_with(
                            &a,
                            "POST",
                            &format!("{url_base}/access_codes/create"),
                            Some(&key),
                            &[("Idempotency-Key", &tag)],
                            Some(body.to_string().as_bytes()),
                        );
                        sent.push(Sent { tag, body, answer });
                    }
                    sent
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

/// The PINs stored, by tag, read from the database itself.
fn stored(url: &str) -> BTreeMap<String, Vec<String>> {
    let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
    let mut by_tag: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in c
        .query(
            "SELECT user_identifier_key, code FROM codes WHERE user_identifier_key IS NOT NULL",
            &[],
        )
        .unwrap()
    {
        by_tag.entry(row.get(0)).or_default().push(row.get(1));
    }
    by_tag
}

/// Asserts that an error body gives away nothing of the database.
fn reveals_nothing(cluster: &Cluster, body: &Value) {
    let text = body.to_string();
    for secret in [
        PASSWORD,
        "postgres@",
        "postgres://",
        "127.0.0.1",
        &cluster.port.to_string(),
        "offpin_test",
    ] {
        assert!(!text.contains(secret), "a 5xx names {secret:?}: {text}");
    }
}

/// What a burst's answers were, checked against the database.
#[derive(Debug, Default)]
struct Tally {
    ok: u32,
    refused: u32,
    unavailable: u32,
    unknown: u32,
    /// Answered 503 `ledger_unavailable` and stored: must stay 0.
    stored_unavailable: u32,
    /// Answered `outcome_unknown` and found stored.
    stored_unknown: u32,
    /// 5xx sent again with their key, and answered 200.
    retried: u32,
}

/// Checks every answer of a burst against the database, then sends every
/// 5xx again with its key.
fn check(cluster: &Cluster, server: &Server, key: &str, sent: &[Sent]) -> Tally {
    let mut t = Tally::default();
    let before = stored(&cluster.url);
    let none = Vec::new();
    let a = agent();
    for s in sent {
        let found = before.get(&s.tag).unwrap_or(&none);
        assert!(found.len() <= 1, "{} stored twice: {found:?}", s.tag);
        let ans = s
            .answer
            .as_ref()
            .unwrap_or_else(|e| panic!("{}: no answer: {e}", s.tag));
        if ans.status == 200 {
            t.ok += 1;
            assert_eq!(
                found.as_slice(),
                [ans.body["access_code"]["code"].as_str().unwrap()],
                "{} answered 200",
                s.tag
            );
            continue;
        }
        if ans.status < 500 {
            t.refused += 1;
            assert!(found.is_empty(), "{} refused ({ans:?}) but stored", s.tag);
            continue;
        }
        assert_eq!(ans.status, 503, "{}: {ans:?}", s.tag);
        reveals_nothing(cluster, &ans.body);
        match ans.error_type() {
            "ledger_unavailable" => {
                t.unavailable += 1;
                if !found.is_empty() {
                    t.stored_unavailable += 1;
                }
            }
            "outcome_unknown" => {
                t.unknown += 1;
                assert_eq!(
                    ans.body["error"]["data"]["access_code_ids"]
                        .as_array()
                        .map(Vec::len),
                    Some(1),
                    "{ans:?}"
                );
                if !found.is_empty() {
                    t.stored_unknown += 1;
                }
            }
            other => panic!("{}: 503 of type {other}: {ans:?}", s.tag),
        }
        let retry = create(&a, server, key, &s.tag, &s.body).unwrap();
        assert_eq!(retry.status, 200, "{} sent again: {retry:?}", s.tag);
        t.retried += 1;
        let code = retry.body["access_code"]["code"].as_str().unwrap();
        if let Some(first) = found.first() {
            assert_eq!(first, code, "{}: the retry returns the stored code", s.tag);
        }
        let after = stored(&cluster.url);
        assert_eq!(
            after.get(&s.tag).map(Vec::as_slice),
            Some(&[code.to_owned()][..])
        );
    }
    t
}

/// Terminates the server's connections every `every` until `done`; how
/// many it terminated.
fn kill_connections(
    url: String,
    every: Duration,
    done: Arc<AtomicBool>,
) -> std::thread::JoinHandle<i64> {
    std::thread::spawn(move || {
        let mut killed = 0;
        let mut side: Option<postgres::Client> = None;
        while !done.load(Ordering::SeqCst) {
            if side.is_none() {
                side = postgres::Client::connect(&url, postgres::NoTls).ok();
            }
            if let Some(c) = &mut side {
                match c.query_one(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
                    &[],
                ) {
                    Ok(row) => killed += row.get::<_, i64>(0),
                    Err(_) => side = None,
                }
            }
            std::thread::sleep(every);
        }
        killed
    })
}

fn get_status(a: &ureq::Agent, server: &Server, key: Option<&str>, path: &str) -> Answer {
    send(a, "GET", &server.url(path), key, None).unwrap()
}

#[test]
fn a_fleet_tells_the_truth_when_its_database_fails() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let fx = Fixture::with_ledger(tempfile::tempdir().unwrap(), cluster.url_with_password());
    let server = fx.start(&["--rate-limit", "0", "--key-cache-secs", "0"]);
    let a = agent();
    assert_eq!(get_status(&a, &server, None, "/health/ready").status, 200);

    // 1. Connections terminated under load.
    let done = Arc::new(AtomicBool::new(false));
    let clients = burst(&server, &fx.key, "kill", 40, &done);
    let killer = kill_connections(
        cluster.url.clone(),
        Duration::from_millis(150),
        Arc::clone(&done),
    );
    std::thread::sleep(Duration::from_secs(3));
    done.store(true, Ordering::SeqCst);
    let sent = clients.join().unwrap();
    let killed = killer.join().unwrap();
    let kills = check(&cluster, &server, &fx.key, &sent);
    eprintln!(
        "connections terminated: {killed}; {} creates: {kills:?}",
        sent.len()
    );
    assert!(killed > 0);
    assert_eq!(kills.stored_unavailable, 0, "{kills:?}");

    // 2. The cluster crash-restarts under load.
    let done = Arc::new(AtomicBool::new(false));
    let clients = burst(&server, &fx.key, "restart", 400, &done);
    std::thread::sleep(Duration::from_millis(700));
    let crash = Instant::now();
    cluster.restart("immediate");
    eprintln!("crash restart took {:?}", crash.elapsed());
    std::thread::sleep(Duration::from_millis(1_500));
    done.store(true, Ordering::SeqCst);
    let sent = clients.join().unwrap();
    let restart = check(&cluster, &server, &fx.key, &sent);
    eprintln!("crash restart: {} creates: {restart:?}", sent.len());
    assert_eq!(restart.stored_unavailable, 0, "{restart:?}");

    // 3. Down: not ready, still alive; a create is a generic 503.
    cluster.stop();
    let ready = get_status(&a, &server, None, "/health/ready");
    assert_eq!(ready.status, 503, "{ready:?}");
    assert_eq!(ready.error_type(), "ledger_unavailable");
    assert_eq!(ready.body["ok"], json!(false));
    reveals_nothing(&cluster, &ready.body);
    assert_eq!(get_status(&a, &server, None, "/health").status, 200);
    let (start, end) = window(900, 2);
    let body = json!({"device_id": "back-door", "starts_at": start, "ends_at": end,
                      "user_identifier_key": "down"});
    let down = create(&a, &server, &fx.key, "down", &body).unwrap();
    assert_eq!(down.status, 503, "{down:?}");
    assert_eq!(down.error_type(), "ledger_unavailable");
    reveals_nothing(&cluster, &down.body);
    cluster.start_again();
    assert_eq!(get_status(&a, &server, None, "/health/ready").status, 200);
    assert!(!stored(&cluster.url).contains_key("down"));

    // 4. A restart while the server is idle: its pooled connections are
    // all dead, and none of its next requests is a 503.
    cluster.restart("fast");
    std::thread::sleep(Duration::from_secs(1));
    let mut statuses = Vec::new();
    for i in 0..20 {
        let (start, end) = window(950 + i, 2);
        let tag = format!("idle-{i}");
        let body = json!({"device_id": "back-door", "starts_at": start, "ends_at": end,
                          "user_identifier_key": tag});
        statuses.push(create(&a, &server, &fx.key, &tag, &body).unwrap().status);
        statuses.push(
            get_status(
                &a,
                &server,
                Some(&fx.key),
                "/access_codes/list?device_id=back-door",
            )
            .status,
        );
    }
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");

    // The operator's log has the detail, never the password.
    let log = server.log_text();
    assert!(log.contains("ledger_unavailable"), "{log}");
    assert!(!log.contains(PASSWORD));
    eprintln!(
        "after the crash restart and the idle restart: {} requests, all 200",
        statuses.len()
    );
}

/// The `Idempotency-Key` header (on SQLite, so everywhere): a create sent
/// again with its key gets the first answer's code and stores nothing new;
/// the key on another request is 409; a malformed key is 400 naming the
/// header; without a key, two creates are two codes. Readiness is 200.
#[test]
fn a_create_sent_again_with_its_idempotency_key_gets_the_first_answer() {
    let fx = Fixture::sqlite();
    let server = fx.start(&[]);
    let a = agent();
    assert_eq!(get_status(&a, &server, None, "/health/ready").status, 200);
    let (start, end) = window(3, 2);
    let body =
        json!({"device_id": "front-door", "starts_at": start, "ends_at": end, "name": "Ann"});
    let first = create(&a, &server, &fx.key, "booking-17", &body).unwrap();
    assert_eq!(first.status, 200, "{first:?}");
    let again = create(&a, &server, &fx.key, "booking-17", &body).unwrap();
    assert_eq!(again.status, 200, "{again:?}");
    for field in [
        "access_code_id",
        "code",
        "starts_at",
        "ends_at",
        "created_at",
    ] {
        assert_eq!(
            again.body["access_code"][field], first.body["access_code"][field],
            "{field}"
        );
    }
    let codes = crate::util::http::codes_of(&a, &server, &fx.key, "front-door");
    assert_eq!(codes.len(), 1);
    // The same key on another request.
    let other =
        json!({"device_id": "front-door", "starts_at": start, "ends_at": end, "name": "Bob"});
    let conflict = create(&a, &server, &fx.key, "booking-17", &other).unwrap();
    assert_eq!(conflict.status, 409, "{conflict:?}");
    assert_eq!(conflict.error_type(), "idempotency_conflict");
    // Malformed keys.
    let long = "k".repeat(256);
    for bad in ["two words", long.as_str()] {
        let refused = create(&a, &server, &fx.key, bad, &other).unwrap();
        assert_eq!(refused.status, 400, "{refused:?}");
        assert_eq!(refused.error_type(), "invalid_input");
        assert!(
            refused.body["error"]["validation_errors"]["Idempotency-Key"].is_object(),
            "{refused:?}"
        );
    }
    // Without a key: two codes (the window's next variance).
    for _ in 0..2 {
        let plain = send(
            &a,
            "POST",
            &server.url("/access_codes/create"),
            Some(&fx.key),
            Some(other.to_string().as_bytes()),
        )
        .unwrap();
        assert_eq!(plain.status, 200, "{plain:?}");
    }
    assert_eq!(
        crate::util::http::codes_of(&a, &server, &fx.key, "front-door").len(),
        3
    );
}
