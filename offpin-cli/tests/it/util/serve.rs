//! What the `offpin serve` tests run against: a ledger (SQLite file or
//! PostgreSQL schema) with devices and an API key, and servers on real
//! sockets.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use offpin::MasterKey;

use super::{master_key, offpin, on_ledger};

/// A ledger (SQLite file or PostgreSQL URL) with a master key, the
/// devices `front-door` (standard-10, 3 variances, Europe/Paris) and
/// `back-door` (compact-8, UTC), and an API key.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub ledger: String,
    pub key: String,
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

    /// A fixture on `ledger` (a path or a database URL), its files in `dir`.
    pub fn with_ledger(dir: tempfile::TempDir, ledger: String) -> Self {
        let d = dir.path().to_owned();
        offpin(&d, &ledger, &["keygen"]);
        let key_out = offpin(&d, &ledger, &["api-key", "create", "--name", "tests"]);
        let key = key_out.lines().last().unwrap().to_owned();
        let fx = Fixture { dir, ledger, key };
        fx.add_paris_device("front-door");
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

    /// Registers `id`: standard-10, Europe/Paris, its lock at +01:00.
    pub fn add_paris_device(&self, id: &str) {
        self.run(&[
            "device",
            "add",
            "--device-id",
            id,
            "--profile",
            "standard-10",
            "--time-zone",
            "Europe/Paris",
            "--utc-offset",
            "+01:00",
        ]);
    }

    /// The master key of the file `name` in the fixture's directory
    /// (`master.key` is the ledger's).
    pub fn master_key(&self, name: &str) -> MasterKey {
        master_key(&self.dir.path().join(name))
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
        let serve = ["serve", "--listen", "127.0.0.1:0"];
        let mut child = on_ledger(fx.dir.path(), &fx.ledger, &serve)
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
