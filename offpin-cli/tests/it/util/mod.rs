//! Shared by the `offpin serve` tests: a ledger with devices and a key,
//! servers on real sockets, and a small HTTP client.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde_json::Value;

pub fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("offpin")
}

/// A ledger (SQLite file or PostgreSQL URL) with a master key, the
/// devices `front-door` (standard-10, 3 variances, Europe/Paris) and
/// `back-door` (compact-8, UTC), and an API key.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub ledger: String,
    pub key: String,
}

pub fn offpin(fx_dir: &Path, ledger: &str, args: &[&str]) -> String {
    let out = Command::new(bin())
        .args(["--ledger", ledger, "--master-key"])
        .arg(fx_dir.join("master.key"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "offpin {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

impl Fixture {
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ledger = dir.path().join("ledger.db").display().to_string();
        Self::with_ledger(dir, ledger)
    }

    /// A fresh schema of `OFFPIN_TEST_POSTGRES`, or `None` (skip) outside CI.
    pub fn postgres() -> Option<Self> {
        let Ok(base) = std::env::var("OFFPIN_TEST_POSTGRES") else {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must set OFFPIN_TEST_POSTGRES"
            );
            eprintln!("OFFPIN_TEST_POSTGRES is not set: PostgreSQL test skipped");
            return None;
        };
        let schema = format!("s_{}", uuid_like());
        postgres::Client::connect(&base, postgres::NoTls)
            .unwrap()
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .unwrap();
        let sep = if base.contains('?') { '&' } else { '?' };
        let ledger = format!("{base}{sep}options=-csearch_path%3D{schema}");
        Some(Self::with_ledger(tempfile::tempdir().unwrap(), ledger))
    }

    fn with_ledger(dir: tempfile::TempDir, ledger: String) -> Self {
        let d = dir.path().to_owned();
        offpin(&d, &ledger, &["keygen"]);
        let key_out = offpin(&d, &ledger, &["api-key", "create", "--name", "tests"]);
        let key = key_out.lines().last().unwrap().to_owned();
        let fx = Fixture { dir, ledger, key };
        fx.run(&[
            "device",
            "add",
            "--device-id",
            "front-door",
            "--profile",
            "standard-10",
            "--time-zone",
            "Europe/Paris",
            "--utc-offset",
            "+01:00",
        ]);
        fx.run(&[
            "device",
            "add",
            "--device-id",
            "back-door",
            "--profile",
            "compact-8",
            "--utc-offset",
            "+00:00",
        ]);
        fx
    }

    pub fn run(&self, args: &[&str]) -> String {
        offpin(self.dir.path(), &self.ledger, args)
    }

    pub fn start(&self, extra: &[&str]) -> Server {
        Server::start(self, extra)
    }
}

fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{:x}{:x}", nanos, std::process::id())
}

/// A running `offpin serve`; its log (stderr) goes to a file.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub log: PathBuf,
}

impl Server {
    pub fn start(fx: &Fixture, extra: &[&str]) -> Self {
        let log = fx.dir.path().join(format!("serve-{}.log", uuid_like()));
        let mut child = Command::new(bin())
            .args(["--ledger", &fx.ledger, "--master-key"])
            .arg(fx.dir.path().join("master.key"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .env("OFFPIN_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| {
                panic!(
                    "no address in {line:?}: {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                )
            })
            .to_owned();
        Server { child, base, log }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// SIGTERM, then waits for the exit.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        self.child.wait().unwrap()
    }

    /// SIGKILL.
    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An answer: status and JSON body (`Null` when the body is not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    /// The `Allow` header (a 405 lists the route's methods).
    pub allow: Option<String>,
}

impl Answer {
    pub fn error_type(&self) -> &str {
        self.body["error"]["type"].as_str().unwrap_or("")
    }
}

pub fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(60))
        .build()
}

fn answer(r: Result<ureq::Response, ureq::Error>) -> Result<Answer, String> {
    let resp = match r {
        Ok(resp) => resp,
        Err(ureq::Error::Status(_, resp)) => resp,
        Err(e) => return Err(e.to_string()),
    };
    let status = resp.status();
    let allow = resp.header("allow").map(str::to_owned);
    let mut text = String::new();
    resp.into_reader()
        .take(10_000_000)
        .read_to_string(&mut text)
        .map_err(|e| e.to_string())?;
    Ok(Answer {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        allow,
    })
}

/// Sends `method url` with an optional bearer key and raw body; `Err` when
/// no answer came (connection refused or reset).
pub fn send(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    key: Option<&str>,
    body: Option<&[u8]>,
) -> Result<Answer, String> {
    let mut req = agent.request(method, url);
    if let Some(k) = key {
        req = req.set("Authorization", &format!("Bearer {k}"));
    }
    answer(match body {
        Some(b) => req.set("Content-Type", "application/json").send_bytes(b),
        None => req.call(),
    })
}

pub fn post(agent: &ureq::Agent, server: &Server, key: &str, path: &str, body: &Value) -> Answer {
    send(
        agent,
        "POST",
        &server.url(path),
        Some(key),
        Some(body.to_string().as_bytes()),
    )
    .unwrap()
}

/// A window `days` days from now, on hour boundaries, `hours` long.
pub fn window(days: i64, hours: i64) -> (String, String) {
    let start = (Utc::now() + TimeDelta::days(days))
        .duration_trunc(TimeDelta::hours(1))
        .unwrap();
    let end: DateTime<Utc> = start + TimeDelta::hours(hours);
    (start.to_rfc3339(), end.to_rfc3339())
}

/// Every code of a device (deleted ones included), through the API.
pub fn codes_of(agent: &ureq::Agent, server: &Server, key: &str, device: &str) -> Vec<Value> {
    let a = post(
        agent,
        server,
        key,
        "/access_codes/list",
        &serde_json::json!({ "device_id": device }),
    );
    assert_eq!(a.status, 200, "{a:?}");
    a.body["access_codes"].as_array().unwrap().clone()
}

/// A record without the times of its warnings and errors, which say when
/// it was read (records are computed at read time).
pub fn at_rest(record: &Value) -> Value {
    let mut r = record.clone();
    for list in ["warnings", "errors"] {
        if let Some(entries) = r.get_mut(list).and_then(Value::as_array_mut) {
            for e in entries {
                if let Some(o) = e.as_object_mut() {
                    o.remove("created_at");
                }
            }
        }
    }
    r
}
