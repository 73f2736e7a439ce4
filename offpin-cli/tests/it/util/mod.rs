//! The helpers the tests share. The `offpin` command runs in a directory
//! of its own, with neither `$OFFPIN_LEDGER` nor `$OFFPIN_MASTER_KEY_FILE`
//! set ([`command`]): the command's tests in an [`env::Env`] (the default
//! ledger and key files of that directory), the service's on a
//! [`serve::Fixture`] (a ledger named by path or URL, [`offpin`]), which
//! [`http`] talks to. [`master_key`], [`fingerprint`] and [`opens`] check
//! what the command prints against the keys and a lock.

pub mod env;
pub mod http;
pub mod serve;

use std::path::{Path, PathBuf};
use std::process::Command;

use offpin::lock::{Decision, Lock};
use offpin::{Codec, DeviceKey, MasterKey, UtcOffset};

/// The `offpin` binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_offpin"))
}

/// `offpin ARGS`, to run in `dir` with neither variable set.
pub fn command(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(bin());
    c.current_dir(dir)
        .env_remove("OFFPIN_LEDGER")
        .env_remove("OFFPIN_MASTER_KEY_FILE")
        .args(args);
    c
}

/// Runs `cmd`, which must succeed; its stdout.
pub fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `offpin --ledger LEDGER --master-key DIR/master.key ARGS`, in `dir`.
pub fn on_ledger(dir: &Path, ledger: &str, args: &[&str]) -> Command {
    let mut c = command(dir, &["--ledger", ledger, "--master-key"]);
    c.arg(dir.join("master.key")).args(args);
    c
}

/// Runs `offpin ARGS` on `ledger` with the key `dir/master.key`, which
/// must succeed; its stdout.
pub fn offpin(dir: &Path, ledger: &str, args: &[&str]) -> String {
    stdout_of(&mut on_ledger(dir, ledger, args))
}

/// The master key in the file `path` (64 hex digits).
pub fn master_key(path: &Path) -> MasterKey {
    let text = std::fs::read_to_string(path).unwrap();
    MasterKey::from_slice(&hex::decode(text.trim()).unwrap()).unwrap()
}

/// The fingerprint of the master key in `path`, as the command prints it.
pub fn fingerprint(path: &Path) -> String {
    offpin_ledger::ledger::fingerprint_hex(&master_key(path).fingerprint())
}

/// Whether a standard-10 lock at UTC+01:00 holding its device key `own`
/// and the group key `group` opens for `pin` at `at` (RFC 3339).
pub fn opens(own: &DeviceKey, group: &DeviceKey, pin: &str, at: &str) -> bool {
    let p = offpin::profile::shipped::STANDARD_10;
    let t = chrono::DateTime::parse_from_rfc3339(at)
        .unwrap()
        .timestamp();
    let codecs = [Codec::new(own, p).unwrap(), Codec::new(group, p).unwrap()];
    let mut lock = Lock::<8, 2>::new(codecs, UtcOffset::from_minutes(60).unwrap()).unwrap();
    let seen = lock.observe_clock(t);
    lock.commit(seen).unwrap();
    matches!(lock.check(pin.as_bytes(), t).decision, Decision::Open(_))
}
