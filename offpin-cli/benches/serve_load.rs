//! Load benchmark of `offpin serve`: creates per second and latency
//! percentiles (p50, p99) at 1, 8 and 64 concurrent clients, on SQLite and
//! (when `OFFPIN_TEST_POSTGRES` names a database) PostgreSQL, next to the
//! raw rate at which the same ledger issues codes without HTTP (1 and 8
//! threads, one connection each), so the service's overhead is a ratio.
//! On SQLite the same run measures the server twice: with its writer's
//! group commit (the default) and with `--max-batch 1` (one create per
//! transaction), so the group commit's gain is a ratio within one run.
//!
//! ```sh
//! cargo bench -p offpin-cli --bench serve_load            # ≈ 1 min
//! OFFPIN_TEST_POSTGRES=postgres://... cargo bench -p offpin-cli --bench serve_load
//! SERVE_LOAD_SECS=2 cargo bench -p offpin-cli --bench serve_load
//! ```
//!
//! Each client is a thread with its own keep-alive connection, sending
//! `POST /access_codes/create` for windows of their own (no variance is
//! ever exhausted) as fast as answers come back. Not a test: it asserts
//! only that every create succeeded.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::cast_possible_truncation,
    missing_docs,
    reason = "benchmark"
)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use chrono::{DurationRound, TimeDelta, Utc};
use offpin::MasterKey;
use offpin_cli::store::{Location, Store};
use offpin_ledger::ledger::CodeSpec;

// The integration tests' helpers: `offpin` runs the command on a ledger,
// `on_ledger` is that command to spawn, `master_key` reads the key file.
#[allow(dead_code, reason = "the benchmark uses three of them")]
#[path = "../tests/it/util/mod.rs"]
mod util;
use util::{master_key, offpin, on_ledger};

fn secs() -> Duration {
    let s: f64 = std::env::var("SERVE_LOAD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4.0);
    Duration::from_secs_f64(s)
}

/// A window of its own for client `c`'s `i`-th create.
fn window(c: usize, i: usize) -> (chrono::DateTime<Utc>, chrono::DateTime<Utc>) {
    let base = (Utc::now() + TimeDelta::days(2))
        .duration_trunc(TimeDelta::hours(1))
        .unwrap();
    let start = base + TimeDelta::hours(i as i64 % 20_000);
    (start, start + TimeDelta::hours(1 + c as i64 % 64))
}

struct Run {
    creates: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Run {
    fn rate(&self) -> f64 {
        self.creates as f64 / self.elapsed.as_secs_f64()
    }
    fn pct(&self, p: f64) -> Duration {
        let mut l = self.latencies.clone();
        l.sort_unstable();
        l.get(((l.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or_default()
    }
}

/// `threads` workers running `work(thread, i)` for the benchmark's time.
fn drive(threads: usize, work: impl Fn(usize, usize) + Send + Sync + 'static) -> Run {
    let work = Arc::new(work);
    let stop = Arc::new(AtomicBool::new(false));
    let barrier = Arc::new(Barrier::new(threads + 1));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (work, stop, barrier) =
                (Arc::clone(&work), Arc::clone(&stop), Arc::clone(&barrier));
            std::thread::spawn(move || {
                let mut lat = Vec::new();
                barrier.wait();
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let t0 = Instant::now();
                    work(t, i);
                    lat.push(t0.elapsed());
                    i += 1;
                }
                lat
            })
        })
        .collect();
    barrier.wait();
    let t0 = Instant::now();
    std::thread::sleep(secs());
    stop.store(true, Ordering::Relaxed);
    let latencies: Vec<Duration> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    Run {
        creates: latencies.len(),
        elapsed: t0.elapsed(),
        latencies,
    }
}

fn raw(location: &Location, master: &Arc<MasterKey>, threads: usize, offset: usize) -> Run {
    let conns: Vec<std::sync::Mutex<Box<dyn Store>>> = (0..threads)
        .map(|_| std::sync::Mutex::new(location.open_write().unwrap()))
        .collect();
    let conns = Arc::new(conns);
    let master = Arc::clone(master);
    drive(threads, move |t, i| {
        let (s, e) = window(offset + t, i);
        let spec = CodeSpec::time_bound("bench-door", s, e);
        conns[t]
            .lock()
            .unwrap()
            .issue(&master, &spec, Utc::now())
            .unwrap();
    })
}

fn http(url: &str, key: &str, clients: usize, offset: usize) -> Run {
    let url = format!("{url}/access_codes/create");
    let auth = format!("Bearer {key}");
    let agents: Arc<Vec<ureq::Agent>> = Arc::new((0..clients).map(|_| ureq::agent()).collect());
    drive(clients, move |t, i| {
        let (s, e) = window(offset + t, i);
        let body = format!(
            r#"{{"device_id":"bench-door","starts_at":"{}","ends_at":"{}"}}"#,
            s.to_rfc3339(),
            e.to_rfc3339()
        );
        let r = agents[t]
            .post(&url)
            .set("Authorization", &auth)
            .set("Content-Type", "application/json")
            .send_string(&body);
        assert!(r.is_ok(), "{r:?}");
    })
}

fn serve(dir: &Path, ledger: &str, extra: &[&str]) -> (Child, String) {
    let mut child = on_ledger(
        dir,
        ledger,
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--rate-limit",
            "0",
            "--pool-size",
            "8",
        ],
    )
    .args(extra)
    .env("OFFPIN_LOG", "warn")
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_owned();
    (child, url)
}

fn bench(name: &str, ledger: &str, dir: &Path) {
    offpin(dir, ledger, &["keygen"]);
    offpin(
        dir,
        ledger,
        &[
            "device",
            "add",
            "--device-id",
            "bench-door",
            "--profile",
            "standard-10",
            "--utc-offset",
            "+00:00",
        ],
    );
    let key = offpin(dir, ledger, &["api-key", "create", "--name", "bench"]);
    let key = key.lines().last().unwrap().to_owned();
    let master = Arc::new(master_key(&dir.join("master.key")));
    let location = Location::of(Path::new(ledger));
    println!("\n{name}: {} s per run", secs().as_secs_f64());
    println!("{:<32} {:>10} {:>10} {:>10}", "", "creates/s", "p50", "p99");
    let raw1 = raw(&location, &master, 1, 0);
    let raw8 = raw(&location, &master, 8, 100);
    for (label, r) in [
        ("ledger, no HTTP, 1 thread", &raw1),
        ("ledger, no HTTP, 8 threads", &raw8),
    ] {
        println!(
            "{label:<32} {:>10.0} {:>10.2?} {:>10.2?}",
            r.rate(),
            r.pct(0.5),
            r.pct(0.99)
        );
    }
    let at8 = serve_rows(dir, ledger, &key, "offpin serve", &[], 200);
    let best_raw = raw1.rate().max(raw8.rate());
    println!(
        "service at 8 clients / best raw ledger rate = {:.2} (target >= 0.5)",
        at8.rate() / best_raw
    );
    println!(
        "service at 8 clients: p99 / p50 = {:.2} (target <= 5)",
        at8.pct(0.99).as_secs_f64() / at8.pct(0.5).as_secs_f64()
    );
    if ledger.starts_with("postgres") {
        return;
    }
    let one = serve_rows(
        dir,
        ledger,
        &key,
        "one create/commit",
        &["--max-batch", "1"],
        500,
    );
    println!(
        "at 8 clients: group commit / one create per commit = {:.2} (target >= 5)",
        at8.rate() / one.rate()
    );
}

/// Starts a server with `extra` flags, runs 1, 8 and 64 clients, prints
/// a row each, stops the server; the 8 clients' run.
fn serve_rows(
    dir: &Path,
    ledger: &str,
    key: &str,
    label: &str,
    extra: &[&str],
    offset: usize,
) -> Run {
    let (mut child, url) = serve(dir, ledger, extra);
    let mut at8 = None;
    for (n, clients) in [1usize, 8, 64].into_iter().enumerate() {
        let r = http(&url, key, clients, offset + 100 * n);
        println!(
            "{:<32} {:>10.0} {:>10.2?} {:>10.2?}",
            format!("{label}, {clients} clients"),
            r.rate(),
            r.pct(0.5),
            r.pct(0.99)
        );
        if clients == 8 {
            at8 = Some(r);
        }
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    at8.unwrap()
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs nothing.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sqlite = dir.path().join("bench.db").display().to_string();
    bench(
        "SQLite (WAL and group commit while serving)",
        &sqlite,
        dir.path(),
    );
    if let Ok(base) = std::env::var("OFFPIN_TEST_POSTGRES") {
        let schema = format!("bench_{}", std::process::id());
        postgres::Client::connect(&base, postgres::NoTls)
            .unwrap()
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
            ))
            .unwrap();
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-csearch_path%3D{schema}");
        let pg_dir = tempfile::tempdir().unwrap();
        bench("PostgreSQL", &url, pg_dir.path());
    } else {
        println!("\nOFFPIN_TEST_POSTGRES is not set: PostgreSQL skipped");
    }
}
