//! The `offpin` binary, driven like an operator would, over a real on-disk
//! ledger: one test per behaviour, comparing whole output lines.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests"
)]

use std::path::PathBuf;
use std::process::{Output, Stdio};

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

const DEVICE: &str = "front-door";
/// The default state file of `DEVICE`.
const STATE: &str = "offpin.db.lock-front-door.state";
/// `Lock::<64>::STATE_LEN`, the image of a standard-10 lock.
const IMAGE_LEN: usize = offpin::Lock::<64>::STATE_LEN;
/// A state file of `DEVICE`: magic, id length and bytes, generation, image.
const STATE_FILE_LEN: usize = 8 + 1 + DEVICE.len() + 4 + IMAGE_LEN;

struct Env {
    dir: TempDir,
}

impl Env {
    /// A temp dir with a master key and one registered device (UTC+1).
    fn new() -> Env {
        let env = Env::bare();
        env.ok(&["keygen"]);
        env.ok(&[
            "device",
            "add",
            "--device-id",
            DEVICE,
            "--utc-offset",
            "+01:00",
        ]);
        env
    }

    fn bare() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_offpin"));
        c.current_dir(self.dir.path())
            .env_remove("OFFPIN_LEDGER")
            .env_remove("OFFPIN_MASTER_KEY_FILE")
            .args(args);
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// Runs a command that must succeed; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.ok(args)).unwrap()
    }

    fn issue(&self, extra: &[&str]) -> Value {
        let mut args = vec!["issue", "--device-id", DEVICE];
        args.extend_from_slice(extra);
        self.json(&args)
    }

    fn time_bound(&self, start: &str, end: &str) -> Value {
        self.issue(&["--starts-at", start, "--ends-at", end])
    }

    fn ongoing(&self) -> Value {
        self.issue(&["--ongoing"])
    }

    fn list(&self) -> Vec<Value> {
        self.json(&["list", "--device-id", DEVICE])
            .as_array()
            .unwrap()
            .clone()
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path(name), text).unwrap();
    }

    /// `offpin verify` of `pin` at `at`; its stdout and exit code.
    fn verify_with(&self, extra: &[&str], pin: &str, at: &str) -> (String, i32) {
        let mut args = vec!["verify", "--device-id", DEVICE, "--pin", pin, "--at", at];
        args.extend_from_slice(extra);
        let out = self.run(&args);
        let code = out.status.code().unwrap();
        assert!(
            code == 0 || code == 3,
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (String::from_utf8(out.stdout).unwrap(), code)
    }

    fn verify(&self, pin: &str, at: &str) -> String {
        self.verify_with(&[], pin, at).0
    }

    /// The files in the working directory.
    fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

/// Asserts a failure with exactly one line on stderr and the given exit
/// code; returns the line.
fn one_error_line(out: &Output, code: i32) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "stderr: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "not one line: {stderr:?}");
    assert!(!stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"));
    lines[0].to_owned()
}

/// Asserts that `args` fail with exit `code` and exactly the error line
/// `error: {line}`.
fn fails(env: &Env, args: &[&str], code: i32, line: &str) {
    let out = env.run(args);
    assert_eq!(
        one_error_line(&out, code),
        format!("error: {line}"),
        "{args:?}"
    );
    assert!(out.stdout.is_empty(), "{args:?} printed {:?}", out.stdout);
}

/// The value of `key:` in `verify`'s output.
fn field<'a>(text: &'a str, key: &str) -> &'a str {
    let prefix = format!("{key}:");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or_else(|| panic!("no {key}: in {text}"), str::trim)
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

fn id(v: &Value) -> &str {
    s(&v["access_code_id"])
}

fn fingerprint(env: &Env, key: &str) -> String {
    let text = std::fs::read_to_string(env.path(key)).unwrap();
    let key = offpin::MasterKey::from_slice(&hex::decode(text.trim()).unwrap()).unwrap();
    offpin::server::ledger::fingerprint_hex(&key.fingerprint())
}

// ---- help, keys ------------------------------------------------------

#[test]
fn every_subcommand_has_help() {
    let env = Env::bare();
    for sub in [
        vec![],
        vec!["keygen"],
        vec!["device"],
        vec!["device", "add"],
        vec!["device", "update"],
        vec!["device", "remove"],
        vec!["device", "list"],
        vec!["device", "key"],
        vec!["issue"],
        vec!["list"],
        vec!["get"],
        vec!["delete"],
        vec!["verify"],
        vec!["inspect"],
        vec!["report"],
        vec!["demo"],
    ] {
        let mut args = sub.clone();
        args.push("--help");
        let out = env.ok(&args);
        let usage = format!("Usage: offpin {}", sub.join(" "));
        assert!(
            out.lines()
                .any(|l| l.trim_end().starts_with(usage.trim_end())),
            "{sub:?}: {out}"
        );
    }
}

#[test]
fn keygen_writes_an_owner_only_key_and_never_overwrites() {
    let env = Env::bare();
    let out = env.ok(&["keygen"]);
    let fp = fingerprint(&env, "offpin.key");
    assert_eq!(
        out,
        format!(
            "wrote a new master key to offpin.key (owner-only permissions; fingerprint {fp}); back it up: every PIN derives from it\n"
        )
    );
    let text = std::fs::read_to_string(env.path("offpin.key")).unwrap();
    assert_eq!(text.len(), 65);
    assert!(text.trim_end().bytes().all(|b| b.is_ascii_hexdigit()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(env.path("offpin.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    fails(
        &env,
        &["keygen"],
        1,
        "master key file offpin.key already exists; refusing to overwrite it",
    );
    assert_eq!(
        std::fs::read_to_string(env.path("offpin.key")).unwrap(),
        text
    );
}

#[test]
fn the_key_file_is_named_by_the_flag_or_the_variable() {
    let env = Env::bare();
    env.ok(&["--master-key", "other.key", "keygen"]);
    let out = env
        .cmd(&["keygen"])
        .env("OFFPIN_MASTER_KEY_FILE", "env.key")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(env.path("other.key").exists() && env.path("env.key").exists());
}

#[test]
fn a_key_put_in_the_variable_is_never_printed() {
    let env = Env::new();
    let key = std::fs::read_to_string(env.path("offpin.key")).unwrap();
    let key = key.trim();
    for args in [
        vec!["issue", "--device-id", DEVICE, "--ongoing"],
        vec!["--help"],
        vec!["issue", "--help"],
    ] {
        let out = env
            .cmd(&args)
            .env("OFFPIN_MASTER_KEY_FILE", key)
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains(key), "{args:?} printed the key: {all}");
        assert!(
            !all.contains(&key[..16]),
            "{args:?} printed part of the key"
        );
    }
    fails_env(
        &env,
        key,
        "cannot read master key file the file named by $OFFPIN_MASTER_KEY_FILE: No such file or directory (os error 2) ($OFFPIN_MASTER_KEY_FILE must name a file, not hold the key)",
    );
    let out = env
        .cmd(&["keygen"])
        .env("OFFPIN_MASTER_KEY_FILE", key)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("wrote a new master key to the file named by $OFFPIN_MASTER_KEY_FILE (owner-only permissions; fingerprint "), "{text}");
    assert!(!text.contains(key));
}

fn fails_env(env: &Env, key: &str, line: &str) {
    let out = env
        .cmd(&["issue", "--device-id", DEVICE, "--ongoing"])
        .env("OFFPIN_MASTER_KEY_FILE", key)
        .output()
        .unwrap();
    assert_eq!(one_error_line(&out, 1), format!("error: {line}"));
}

#[test]
fn corrupted_and_missing_key_files_are_one_clear_line() {
    let env = Env::new();
    env.write("bad.key", "not hex at all\n");
    env.write("short.key", "abcd\n");
    env.write("long.key", &"ab".repeat(200));
    for name in ["bad.key", "short.key", "long.key"] {
        fails(
            &env,
            &[
                "--master-key",
                name,
                "issue",
                "--device-id",
                DEVICE,
                "--ongoing",
            ],
            1,
            &format!("master key file {name} is corrupted: expected 64 hex digits"),
        );
    }
    fails(
        &env,
        &[
            "--master-key",
            "missing.key",
            "issue",
            "--device-id",
            DEVICE,
            "--ongoing",
        ],
        1,
        "cannot read master key file missing.key: No such file or directory (os error 2) (create one with `offpin keygen`)",
    );
}

#[test]
fn device_key_prints_the_lock_key_in_hex() {
    let env = Env::new();
    let out = env.ok(&["device", "key", "--device-id", DEVICE]);
    let line = out.trim_end();
    assert_eq!(line.len(), 32);
    assert!(
        line.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
}

// ---- issuing ---------------------------------------------------------

#[test]
fn a_time_bound_code_records_the_window_it_encodes() {
    let env = Env::new();
    let tb = env.issue(&[
        "--starts-at",
        "2040-01-01T16:20:00+01:00",
        "--ends-at",
        "2040-01-03T11:00:00+01:00",
        "--name",
        "guest",
        "--user-identifier-key",
        "user-1",
    ]);
    assert_eq!(tb["type"], "time_bound");
    // Rounded outward to the hour.
    assert_eq!(tb["starts_at"], "2040-01-01T15:00:00.000Z");
    assert_eq!(tb["ends_at"], "2040-01-03T10:00:00.000Z");
    assert_eq!(tb["name"], "guest");
    assert_eq!(tb["appearance"]["name"], "guest");
    assert_eq!(tb["user_identifier_key"], "user-1");
    assert_eq!(tb["status"], "set");
    assert_eq!(tb["is_offline_access_code"], true);
    assert_eq!(
        s(&tb["warnings"][0]["message"]),
        "The code must be used for the first time within 24 hours of its start (by 2040-01-02T15:00:00.000Z); if it is, it keeps opening until 2040-01-03T10:00:00.000Z."
    );
}

#[test]
fn rounding_beyond_the_allowance_is_refused() {
    let env = Env::new();
    fails(
        &env,
        &[
            "issue",
            "--device-id",
            DEVICE,
            "--starts-at",
            "2040-01-05T16:20:00Z",
            "--ends-at",
            "2040-01-05T18:00:00Z",
            "--max-time-rounding",
            "0",
        ],
        1,
        "encoding the window needs 1200 s of rounding but max_rounding_secs is 0 (raise it, or align the window to the profile's hours or the lock's local days) (--max-time-rounding 1h or 1d allows it)",
    );
}

#[test]
fn long_windows_become_daily_at_the_locks_midnight() {
    let env = Env::new();
    let daily = env.issue(&[
        "--starts-at",
        "2040-02-01T00:00:00+01:00",
        "--ends-at",
        "2040-03-15T00:00:00+01:00",
        "--max-time-rounding",
        "1d",
    ]);
    assert_eq!(daily["starts_at"], "2040-01-31T23:00:00.000Z");
    assert_eq!(daily["ends_at"], "2040-03-14T23:00:00.000Z");
}

#[test]
fn one_time_and_ongoing_codes() {
    let env = Env::new();
    let ot = env.issue(&["--one-time", "--starts-at", "2040-01-01T16:00:00+01:00"]);
    assert_eq!(ot["is_one_time_use"], true);
    assert_eq!(ot["ends_at"], "2040-01-02T15:00:00.000Z");
    assert_eq!(
        ot["warnings"][0]["warning_code"],
        "igloo_algopin_must_be_used_within_24_hours"
    );
    let og = env.issue(&["--ongoing", "--name", "cleaner"]);
    assert_eq!(og["type"], "ongoing");
    assert_eq!(og["starts_at"], Value::Null);
    assert_eq!(og["warnings"], Value::Array(vec![]));
}

#[test]
fn list_filters_by_device_ids_and_user_in_issue_order() {
    let env = Env::new();
    let a = env.issue(&[
        "--starts-at",
        "2040-01-01T16:00:00Z",
        "--ends-at",
        "2040-01-01T18:00:00Z",
        "--user-identifier-key",
        "user-1",
    ]);
    let b = env.ongoing();
    let c = env.time_bound("2040-01-02T16:00:00Z", "2040-01-02T18:00:00Z");
    let ids: Vec<String> = env.list().iter().map(|r| id(r).to_owned()).collect();
    assert_eq!(ids, [id(&a), id(&b), id(&c)]);
    let by_user = env.json(&[
        "list",
        "--device-id",
        DEVICE,
        "--user-identifier-key",
        "user-1",
    ]);
    assert_eq!(by_user, Value::Array(vec![a.clone()]));
    let two = format!("{},{}", id(&c), id(&a));
    let by_ids = env.json(&["list", "--access-code-id", &two]);
    let got: Vec<&str> = by_ids.as_array().unwrap().iter().map(id).collect();
    assert_eq!(got, [id(&a), id(&c)]);
    fails(
        &env,
        &["list"],
        1,
        "list needs at least a device_id or access_code_ids",
    );
    fails(
        &env,
        &["list", "--user-identifier-key", "u"],
        1,
        "list needs at least a device_id or access_code_ids",
    );
}

#[test]
fn get_shows_one_record() {
    let env = Env::new();
    let a = env.time_bound("2040-01-01T16:00:00Z", "2040-01-01T18:00:00Z");
    assert_eq!(env.json(&["get", "--access-code-id", id(&a)]), a);
    fails(
        &env,
        &[
            "get",
            "--access-code-id",
            "00000000-0000-0000-0000-000000000000",
        ],
        1,
        "access code '00000000-0000-0000-0000-000000000000' not found",
    );
}

#[test]
fn records_are_computed_when_read() {
    let env = Env::new();
    let a = env.time_bound("2040-01-01T16:00:00Z", "2040-01-03T18:00:00Z");
    let at = |t: &str| env.json(&["get", "--access-code-id", id(&a), "--at", t]);
    let past_deadline = at("2040-01-02T17:00:00Z");
    assert_eq!(past_deadline["status"], "set");
    assert_eq!(
        s(&past_deadline["warnings"][0]["message"]),
        "Its activation deadline 2040-01-02T16:00:00.000Z has passed: the lock keeps opening for it until 2040-01-03T18:00:00.000Z only if it was first used by then, which the server cannot know."
    );
    let expired = at("2040-01-03T18:10:00Z");
    assert_eq!(expired["status"], "unset");
    assert_eq!(
        s(&expired["warnings"][0]["message"]),
        "The window ended at 2040-01-03T18:00:00.000Z (plus the lock's 10-minute clock grace): the lock no longer opens for this code."
    );
}

#[test]
fn variances_run_out_with_the_igloohome_error() {
    let env = Env::new();
    let (start, end) = ("2040-06-01T10:00:00Z", "2040-06-01T14:00:00Z");
    let codes: Vec<Value> = (0..3)
        .map(|_| env.time_bound(start, end)["code"].clone())
        .collect();
    assert!(codes[0] != codes[1] && codes[1] != codes[2] && codes[0] != codes[2]);
    fails(
        &env,
        &[
            "issue",
            "--device-id",
            DEVICE,
            "--starts-at",
            start,
            "--ends-at",
            end,
        ],
        1,
        "igloohome_offline_access_code_no_variance_available on device 'front-door': Lock has reached maximum amount of codes: all 3 variances of this window are issued on the device, and deleting a code does not free its variance (an offline PIN cannot be recalled). Issue the code for a window that starts or ends an hour earlier or later (another window, with 3 variances of its own), or re-key the device (a new key generation), which makes every code issued before stop opening.",
    );
}

#[test]
fn another_master_key_is_refused_naming_both_fingerprints() {
    let env = Env::new();
    env.ongoing();
    env.ok(&["--master-key", "other.key", "keygen"]);
    let (ours, other) = (
        fingerprint(&env, "offpin.key"),
        fingerprint(&env, "other.key"),
    );
    let line = format!(
        "this ledger belongs to the master key with fingerprint {ours}, not to the key given (fingerprint {other}): codes derived from it would never open (check --master-key / $OFFPIN_MASTER_KEY_FILE)"
    );
    for args in [
        vec![
            "--master-key",
            "other.key",
            "issue",
            "--device-id",
            DEVICE,
            "--ongoing",
        ],
        vec![
            "--master-key",
            "other.key",
            "device",
            "key",
            "--device-id",
            DEVICE,
        ],
        vec![
            "--master-key",
            "other.key",
            "inspect",
            "--device-id",
            DEVICE,
            "--pin",
            "1234567890",
        ],
        vec![
            "--master-key",
            "other.key",
            "verify",
            "--device-id",
            DEVICE,
            "--pin",
            "1234567890",
        ],
    ] {
        fails(&env, &args, 1, &line);
    }
    assert_eq!(env.list().len(), 1);
}

/// Issue 17, point 5, as reported: after `keygen` and `device add`, a
/// first `issue` with another key (no code exists yet) used to bind the
/// ledger to that key. The first device binds it: that issue, and every
/// other command that takes a key, is refused naming both fingerprints,
/// with nothing stored; the right key then issues a code that the lock
/// provisioned from `device key` opens.
#[test]
fn the_first_device_binds_the_ledger_to_its_key() {
    let env = Env::new();
    env.ok(&["--master-key", "other.key", "keygen"]);
    let (ours, other) = (
        fingerprint(&env, "offpin.key"),
        fingerprint(&env, "other.key"),
    );
    let line = format!(
        "this ledger belongs to the master key with fingerprint {ours}, not to the key given (fingerprint {other}): codes derived from it would never open (check --master-key / $OFFPIN_MASTER_KEY_FILE)"
    );
    env.write(
        "bookings.csv",
        &format!("{HEADER}front-door,ongoing,,,Cleaner,\n"),
    );
    let wrong = |args: &[&str]| {
        let mut all = vec!["--master-key", "other.key"];
        all.extend_from_slice(args);
        fails(&env, &all, 1, &line);
    };
    let devices = env.ok(&["device", "list"]);
    wrong(&["issue", "--device-id", DEVICE, "--ongoing"]);
    wrong(&["issue", "--from", "bookings.csv"]);
    wrong(&["device", "key", "--device-id", DEVICE]);
    wrong(&[
        "device",
        "update",
        "--device-id",
        DEVICE,
        "--generation",
        "1",
    ]);
    wrong(&[
        "device",
        "add",
        "--device-id",
        "back-door",
        "--utc-offset",
        "Z",
    ]);
    assert!(env.list().is_empty(), "nothing issued");
    assert_eq!(env.ok(&["device", "list"]), devices, "no device changed");
    // The right key: the code opens the lock `device key` provisions.
    let code = env.ongoing();
    let hex = env.ok(&["device", "key", "--device-id", DEVICE]);
    let lock_key = offpin::DeviceKey::from_slice(&hex::decode(hex.trim()).unwrap()).unwrap();
    let lock = offpin::Codec::new(&lock_key, offpin::profile::shipped::STANDARD_10).unwrap();
    assert_eq!(
        lock.decode_input(s(&code["code"]).as_bytes()).unwrap(),
        offpin::Grant::Ongoing { slot: 0 }
    );
    // The batch and its retry with the key that issued them; the retry
    // with the other key is refused rather than handed the same codes.
    let batch = env.json(&["issue", "--from", "bookings.csv"]);
    wrong(&["issue", "--from", "bookings.csv"]);
    let again = env.json(&["issue", "--from", "bookings.csv"]);
    assert_eq!(batch, again);
    assert_eq!(env.list().len(), 2);
}

/// A ledger an older offpin wrote, with a device but no fingerprint and
/// no code: no command takes a key (not even this one: nothing tells the
/// right key from another) until `device key` binds the key whose device
/// key it prints; then the other key is refused.
#[test]
fn an_older_ledger_is_bound_by_device_key() {
    use offpin::server::ledger::{Device, DeviceEntry, Ledger, sqlite::SqliteLedger};
    let env = Env::bare();
    env.ok(&["keygen"]);
    env.ok(&["--master-key", "other.key", "keygen"]);
    let (ours, other) = (
        fingerprint(&env, "offpin.key"),
        fingerprint(&env, "other.key"),
    );
    // What an older offpin left: the device, no fingerprint.
    let entry = DeviceEntry {
        device: Device::new(DEVICE, "standard-10"),
        removed_at: None,
    };
    let mut ledger = SqliteLedger::open(&env.path("offpin.db")).unwrap();
    assert!(ledger.put_device(&entry, None).unwrap());
    drop(ledger);
    let unbound = |key: &str, fp: &str, args: &[&str]| {
        let mut all = vec!["--master-key", key];
        all.extend_from_slice(args);
        fails(
            &env,
            &all,
            1,
            &format!(
                "this ledger holds devices (device '{DEVICE}' among them) but no master-key fingerprint and no code to check the key given (fingerprint {fp}) against: an older offpin wrote it, and which key the locks were provisioned from cannot be told; bind it explicitly with that key (`offpin device key --device-id {DEVICE}` with the key the locks were provisioned from binds it)"
            ),
        );
    };
    for (key, fp) in [("offpin.key", &ours), ("other.key", &other)] {
        unbound(key, fp, &["issue", "--device-id", DEVICE, "--ongoing"]);
        unbound(
            key,
            fp,
            &[
                "device",
                "update",
                "--device-id",
                DEVICE,
                "--generation",
                "1",
            ],
        );
        unbound(
            key,
            fp,
            &[
                "device",
                "add",
                "--device-id",
                "back-door",
                "--utc-offset",
                "Z",
            ],
        );
    }
    assert!(env.list().is_empty());
    let out = env.run(&["device", "key", "--device-id", DEVICE]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "warning: this ledger had devices but no master key bound (an older offpin wrote it): it is now bound to the key given (fingerprint {ours}), the key this device key derives from; every other key is refused from now on\n"
        )
    );
    fails(
        &env,
        &[
            "--master-key",
            "other.key",
            "issue",
            "--device-id",
            DEVICE,
            "--ongoing",
        ],
        1,
        &format!(
            "this ledger belongs to the master key with fingerprint {ours}, not to the key given (fingerprint {other}): codes derived from it would never open (check --master-key / $OFFPIN_MASTER_KEY_FILE)"
        ),
    );
    env.ongoing();
}

#[test]
fn a_window_past_its_activation_deadline_is_refused_with_the_deadline() {
    use chrono::{DurationRound, TimeDelta, Utc};
    let env = Env::new();
    // Started two days ago, ends in two days: it had to be used by yesterday.
    let hour = Utc::now().duration_trunc(TimeDelta::hours(1)).unwrap();
    let (start, end) = (hour - TimeDelta::days(2), hour + TimeDelta::days(2));
    let text = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let out = env.run(&[
        "issue",
        "--device-id",
        DEVICE,
        "--starts-at",
        &text(start),
        "--ends-at",
        &text(end),
    ]);
    let line = one_error_line(&out, 1);
    let deadline =
        (start + TimeDelta::days(1)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let (head, tail) = line
        .split_once(", which has passed at the issue time ")
        .unwrap();
    assert_eq!(
        head,
        format!("error: the code must be used by {deadline} (within 24 h of its start)")
    );
    assert!(
        tail.ends_with(": the lock would never open for it (`--allow-backfill` records it anyway, as a code that cannot open)"),
        "{tail}"
    );
    assert!(env.list().is_empty());
}

#[test]
fn dead_codes_are_refused_and_backfills_say_they_cannot_open() {
    let env = Env::new();
    let late = [
        "issue",
        "--device-id",
        DEVICE,
        "--starts-at",
        "2026-11-29T15:00:00Z",
        "--ends-at",
        "2026-11-30T18:00:00Z",
    ];
    let out = env.run(&late);
    let line = one_error_line(&out, 1);
    let (head, tail) = line.split_once(", before the issue time ").unwrap();
    assert_eq!(head, "error: the window ended at 2026-11-30T18:00:00.000Z");
    assert!(
        tail.ends_with(": the lock would never open for this code (`--allow-backfill` records it anyway, as a code that cannot open)"),
        "{tail}"
    );
    assert!(env.list().is_empty());
    let mut backfill = late.to_vec();
    backfill.push("--allow-backfill");
    let r = env.json(&backfill);
    assert_eq!(r["status"], "unset");
    assert_eq!(r["errors"][0]["error_code"], "offpin_code_cannot_open");
    let msg = s(&r["errors"][0]["message"]);
    assert!(msg.starts_with("Issued at "), "{msg}");
    assert!(
        msg.ends_with(", after 2026-11-30T15:00:00.000Z (the last instant it could be first used): the lock never opens for this PIN; it is kept as a record only."),
        "{msg}"
    );
}

#[test]
fn bad_flags_are_usage_errors() {
    let env = Env::new();
    for (args, line) in [
        (
            vec![
                "issue",
                "--device-id",
                DEVICE,
                "--starts-at",
                "2040-01-01 16:00+0x",
                "--ends-at",
                "2040-01-02T16:00:00Z",
            ],
            "invalid value '2040-01-01 16:00+0x' for '--starts-at <STARTS_AT>': '2040-01-01 16:00+0x' is not a time like 2025-01-01T16:00:00+01:00 (RFC 3339) or a local time like 2025-01-01T16:00 (see --help)",
        ),
        (
            vec![
                "issue",
                "--device-id",
                DEVICE,
                "--ongoing",
                "--starts-at",
                "2040-01-01T00:00:00Z",
            ],
            "the argument '--ongoing' cannot be used with '--starts-at <STARTS_AT>' (see --help)",
        ),
        (
            vec![
                "issue",
                "--device-id",
                DEVICE,
                "--ongoing",
                "--max-time-rounding",
                "soon",
            ],
            "invalid value 'soon' for '--max-time-rounding <MAX_TIME_ROUNDING>': 'soon' is not a rounding like 1h, 1d, 30m or 0 (see --help)",
        ),
        (
            vec![
                "device",
                "add",
                "--device-id",
                "x",
                "--utc-offset",
                "+15:00",
            ],
            "invalid value '+15:00' for '--utc-offset <UTC_OFFSET>': '+15:00': UTC offset of 900 minutes is outside -14:00..=+14:00 (see --help)",
        ),
        (
            vec![
                "device",
                "add",
                "--device-id",
                "x",
                "--utc-offset",
                "+-01:30",
            ],
            "invalid value '+-01:30' for '--utc-offset <UTC_OFFSET>': '+-01:30': not a UTC offset like +01:00, -05:30, +0530 or Z (see --help)",
        ),
        (
            vec![
                "device",
                "add",
                "--device-id",
                "x",
                "--utc-offset",
                "++01:00",
            ],
            "invalid value '++01:00' for '--utc-offset <UTC_OFFSET>': '++01:00': not a UTC offset like +01:00, -05:30, +0530 or Z (see --help)",
        ),
        (
            vec!["device", "add", "--device-id", "x"],
            "the following required arguments were not provided: <--utc-offset <UTC_OFFSET>|--time-zone <TIME_ZONE>> (see --help)",
        ),
        (
            vec!["frobnicate"],
            "unrecognized subcommand 'frobnicate' (see --help)",
        ),
    ] {
        fails(&env, &args, 2, line);
    }
}

#[test]
fn bad_requests_are_one_clear_line() {
    let env = Env::new();
    for (args, line) in [
        (
            vec!["issue", "--device-id", "back-door", "--ongoing"],
            "unknown device 'back-door' (register it with `offpin device add`)".to_owned(),
        ),
        (
            vec![
                "issue",
                "--device-id",
                DEVICE,
                "--starts-at",
                "2040-01-02T16:00:00Z",
                "--ends-at",
                "2040-01-01T16:00:00Z",
            ],
            "ends_at must be after starts_at".to_owned(),
        ),
        (
            vec![
                "issue",
                "--device-id",
                DEVICE,
                "--starts-at",
                "2040-01-01T00:00:00Z",
                "--ends-at",
                "2041-06-01T00:00:00Z",
            ],
            "the window lasts 12408 h but the profile encodes at most 8784 h".to_owned(),
        ),
        (
            vec![
                "device",
                "add",
                "--device-id",
                "x",
                "--profile",
                "huge-99",
                "--utc-offset",
                "Z",
            ],
            "unknown profile 'huge-99' (shipped: standard-10, compact-8, secure-12, keypad9-11, standard-10-v2)"
                .to_owned(),
        ),
        (
            vec![
                "device",
                "add",
                "--device-id",
                "x",
                "--time-zone",
                "Mars/Olympus",
            ],
            "unknown time zone 'Mars/Olympus' (an IANA name like Europe/Paris or America/New_York)"
                .to_owned(),
        ),
        (
            vec![
                "device",
                "add",
                "--device-id",
                DEVICE,
                "--profile",
                "compact-8",
                "--utc-offset",
                "+01:00",
            ],
            "device 'front-door' is already registered with other settings (change its offset, time zone or generation with `offpin device update`)".to_owned(),
        ),
        (
            vec!["delete", "--access-code-id", "nope"],
            "access code 'nope' not found".to_owned(),
        ),
        (
            vec!["inspect", "--device-id", DEVICE, "--pin", "12ab"],
            "--pin: a PIN has 10 digits, 4 were entered".to_owned(),
        ),
        (
            vec!["report", "--profile", "nope"],
            "unknown profile 'nope' (shipped: standard-10, compact-8, secure-12, keypad9-11, standard-10-v2)"
                .to_owned(),
        ),
    ] {
        fails(&env, &args, 1, &line);
    }
}

#[test]
fn errors_are_one_json_object_with_json() {
    let env = Env::new();
    let out = env.run(&["--json", "issue", "--device-id", "back-door", "--ongoing"]);
    let line = one_error_line(&out, 1);
    let v: Value = serde_json::from_str(&line).unwrap();
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "created_at",
            "error_code",
            "is_access_code_error",
            "message"
        ]
    );
    assert_eq!(v["error_code"], "unknown_device");
    assert_eq!(
        v["message"],
        "unknown device 'back-door' (register it with `offpin device add`)"
    );
    assert!(s(&v["created_at"]).ends_with('Z'));
    // Usage errors too.
    let out = env.run(&["--json", "frobnicate"]);
    let v: Value = serde_json::from_str(&one_error_line(&out, 2)).unwrap();
    assert_eq!(v["error_code"], "invalid_usage");
    // The igloohome error keeps its code.
    for _ in 0..3 {
        env.time_bound("2040-06-01T10:00:00Z", "2040-06-01T14:00:00Z");
    }
    let out = env.run(&[
        "--json",
        "issue",
        "--device-id",
        DEVICE,
        "--starts-at",
        "2040-06-01T10:00:00Z",
        "--ends-at",
        "2040-06-01T14:00:00Z",
    ]);
    let v: Value = serde_json::from_str(&one_error_line(&out, 1)).unwrap();
    assert_eq!(
        v["error_code"],
        "igloohome_offline_access_code_no_variance_available"
    );
    assert_eq!(v["is_access_code_error"], true);
}

#[test]
fn an_idempotency_key_returns_the_code_issued_first() {
    let env = Env::new();
    let args = ["--ongoing", "--idempotency-key", "cleaner-2030"];
    let first = env.issue(&args);
    let out = env.run(&[
        "issue",
        "--device-id",
        DEVICE,
        "--ongoing",
        "--idempotency-key",
        "cleaner-2030",
    ]);
    assert!(out.status.success());
    let again: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(again["code"], first["code"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "warning: this idempotency key was used before: the code issued then is printed, nothing new was issued\n"
    );
    assert_eq!(env.list().len(), 1);
}

// ---- local times and time zones --------------------------------------

#[test]
fn local_booking_times_follow_the_zones_daylight_saving_rules() {
    let env = Env::new();
    let out = env.run(&[
        "device",
        "add",
        "--device-id",
        "paris-1",
        "--time-zone",
        "Europe/Paris",
    ]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "warning: Europe/Paris is also at UTC+02:00 during the year while the lock's clock stays at UTC+01:00: daily windows then start and end off local midnight (each code's record says by how much)\n"
    );
    let dev: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(dev["utc_offset"], "+01:00");
    assert_eq!(dev["time_zone"], "Europe/Paris");
    let stay = |from: &str, to: &str| {
        env.json(&[
            "issue",
            "--device-id",
            "paris-1",
            "--starts-at",
            from,
            "--ends-at",
            to,
        ])
    };
    // A 15:00 check-in is 15:00 local in January and in July.
    let winter = stay("2040-01-15T15:00", "2040-01-18T11:00");
    assert_eq!(winter["starts_at"], "2040-01-15T14:00:00.000Z");
    let summer = stay("2040-07-15T15:00", "2040-07-18T11:00");
    assert_eq!(summer["starts_at"], "2040-07-15T13:00:00.000Z");
    // A daily lease in summer: the lock's days start at 01:00 local.
    let lease = env.json(&[
        "issue",
        "--device-id",
        "paris-1",
        "--starts-at",
        "2040-07-01T15:00",
        "--ends-at",
        "2040-08-30T11:00",
        "--max-time-rounding",
        "1d",
    ]);
    let w = lease["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["warning_code"] == "offpin_daily_window_off_local_midnight")
        .unwrap();
    assert_eq!(
        s(&w["message"]),
        "The lock counts days from midnight at UTC+01:00 (its fixed clock), but Europe/Paris observes daylight saving time: it starts at 2040-07-01T01:00:00+02:00 local time, 1 h after local midnight; it ends at 2040-08-31T01:00:00+02:00 local time, 1 h after local midnight."
    );
    // A local time the clocks jump over is refused.
    fails(
        &env,
        &[
            "issue",
            "--device-id",
            "paris-1",
            "--one-time",
            "--starts-at",
            "2040-03-25T02:30",
        ],
        1,
        "2040-03-25T02:30:00 does not exist in Europe/Paris: the clocks jump from +01:00 to +02:00 over it; give the time with its UTC offset",
    );
}

// ---- deletion --------------------------------------------------------

#[test]
fn a_deleted_time_bound_code_stays_listed_while_it_still_opens() {
    let env = Env::new();
    let tb = env.time_bound("2040-01-01T16:00:00Z", "2040-01-01T18:00:00Z");
    let d = env.json(&["delete", "--access-code-id", id(&tb)]);
    assert_eq!(d["deleted"], true);
    assert_eq!(d["revocation_code"], Value::Null);
    assert_eq!(
        d["note"],
        "an offline code cannot be recalled: the lock accepts it until its window ends"
    );
    let listed = env.list();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["status"], "removing");
    assert_eq!(
        listed[0]["warnings"][0]["warning_code"],
        "offpin_deleted_still_opens"
    );
    let msg = s(&listed[0]["warnings"][0]["message"]);
    assert!(
        msg.ends_with("but an offline code cannot be recalled: the lock keeps opening for it until 2040-01-01T18:00:00.000Z (plus the lock's 10-minute clock grace)."),
        "{msg}"
    );
    let after = env.json(&[
        "get",
        "--access-code-id",
        id(&tb),
        "--at",
        "2040-01-02T00:00:00Z",
    ]);
    assert_eq!(after["status"], "unset");
    assert_eq!(after["warnings"][0]["warning_code"], "offpin_deleted");
}

#[test]
fn a_deleted_ongoing_code_shows_its_revocation_pin_again() {
    let env = Env::new();
    let og = env.ongoing();
    let d = env.json(&["delete", "--access-code-id", id(&og)]);
    assert_eq!(d["revoked_slot"], 0);
    let revoke = s(&d["revocation_code"]).to_owned();
    assert_eq!(revoke.len(), 10);
    let got = env.json(&["get", "--access-code-id", id(&og)]);
    assert_eq!(got["status"], "removing");
    let msg = s(&got["warnings"][0]["message"]);
    assert!(
        msg.ends_with(&format!("the lock keeps opening for it until the revocation is typed at the lock: type its revocation PIN {revoke} at the lock to stop it for good.")),
        "{msg}"
    );
    // Deleting again gives the same PIN; the slot is never reused.
    let again = env.json(&["delete", "--access-code-id", id(&og)]);
    assert_eq!(again["revocation_code"], d["revocation_code"]);
    assert_ne!(env.ongoing()["code"], og["code"]);
}

// ---- bulk import -----------------------------------------------------

const HEADER: &str = "device_id,type,starts_at,ends_at,name,user_identifier_key\n";

#[test]
fn a_csv_of_bookings_is_issued_in_one_go() {
    let env = Env::new();
    env.ok(&[
        "device",
        "add",
        "--device-id",
        "back-door",
        "--utc-offset",
        "+01:00",
    ]);
    env.write(
        "bookings.csv",
        &format!(
            "{HEADER}front-door,time_bound,2040-09-01T15:00:00+01:00,2040-09-04T11:00:00+01:00,Ann,u-ann\n\
             front-door,one_time,2040-09-02T10:00:00Z,,Bob,u-bob\n\
             front-door,ongoing,,,Cleaner,\n\
             back-door,time_bound,2040-09-01T15:00:00+01:00,2040-09-04T11:00:00+01:00,Dan,\n"
        ),
    );
    let out = env.json(&["issue", "--from", "bookings.csv"]);
    let recs = out.as_array().unwrap();
    let summary: Vec<(&str, &str, &str)> = recs
        .iter()
        .map(|r| (s(&r["device_id"]), s(&r["name"]), s(&r["type"])))
        .collect();
    assert_eq!(
        summary,
        [
            ("front-door", "Ann", "time_bound"),
            ("front-door", "Bob", "time_bound"),
            ("front-door", "Cleaner", "ongoing"),
            ("back-door", "Dan", "time_bound"),
        ]
    );
    assert_eq!(recs[1]["is_one_time_use"], true);
    assert_eq!(
        env.json(&["list", "--device-id", "back-door"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn csv_rows_whose_type_and_times_disagree_are_refused() {
    let env = Env::new();
    for (row, line) in [
        (
            "paris-1,ongoing,2040-03-01T15:00:00Z,2040-03-04T11:00:00Z,,",
            "type ongoing, but the row has times: an ongoing code has no starts_at or ends_at (it is valid until deleted)",
        ),
        (
            ",one_time,2040-03-01T15:00:00Z,2040-03-04T11:00:00Z,,",
            "type one_time: a one-time code has no ends_at (its use window is fixed by the profile)",
        ),
        (
            ",time_bound,2040-03-01T15:00:00Z,,,",
            "type time_bound: a time-bound code needs ends_at too (an ongoing code has neither time)",
        ),
        (
            ",,,,,",
            "type time_bound, but the row has no times: a time-bound code needs starts_at and ends_at (only an ongoing code has neither, and its type must say so)",
        ),
        (
            ",one_time,,,,",
            "type one_time, but the row has no times: a one-time code needs starts_at (only an ongoing code has neither, and its type must say so)",
        ),
        (
            ",weekly,,,,",
            "type 'weekly' is not time_bound, one_time or ongoing",
        ),
    ] {
        let row = row.replacen("paris-1", DEVICE, 1);
        env.write("b.csv", &format!("{HEADER}{row}\n"));
        fails(
            &env,
            &["issue", "--from", "b.csv", "--device-id", DEVICE],
            1,
            &format!("b.csv line 2 (nothing was issued): {line}"),
        );
    }
    assert!(env.list().is_empty());
}

#[test]
fn unknown_csv_columns_are_refused() {
    let env = Env::new();
    env.write(
        "b.csv",
        "device,starts_at,ends_at\nback-door,2040-03-01T15:00:00Z,2040-03-01T18:00:00Z\n",
    );
    fails(
        &env,
        &["issue", "--from", "b.csv", "--device-id", DEVICE],
        1,
        "b.csv line 1: unknown column 'device' (the columns are device_id, type, starts_at, ends_at, name, user_identifier_key, idempotency_key)",
    );
    fails(
        &env,
        &["issue", "--from", "nowhere.csv", "--device-id", DEVICE],
        1,
        "cannot read nowhere.csv: No such file or directory (os error 2)",
    );
}

#[test]
fn a_bad_row_in_the_middle_issues_nothing() {
    let env = Env::new();
    let mut csv = String::from("starts_at,ends_at\n");
    for i in 0..21 {
        if i == 10 {
            csv.push_str("2040-10-11T10:00:00Z,2040-10-11T09:00:00Z\n");
        } else {
            csv.push_str(&format!(
                "2040-10-{:02}T10:00:00Z,2040-10-{:02}T12:00:00Z\n",
                i + 1,
                i + 1
            ));
        }
    }
    env.write("b.csv", &csv);
    fails(
        &env,
        &["issue", "--from", "b.csv", "--device-id", DEVICE],
        1,
        "b.csv line 12 (nothing was issued): ends_at must be after starts_at",
    );
    // A row that fails only when its variance is allocated: the same.
    let mut spent = String::from("starts_at,ends_at,idempotency_key\n");
    for i in 0..4 {
        spent.push_str(&format!("2040-11-01T10:00:00Z,2040-11-01T12:00:00Z,k{i}\n"));
    }
    env.write("spent.csv", &spent);
    let out = env.run(&["issue", "--from", "spent.csv", "--device-id", DEVICE]);
    let line = one_error_line(&out, 1);
    assert!(
        line.starts_with("error: spent.csv line 5 (nothing was issued): igloohome_offline_access_code_no_variance_available on device 'front-door': "),
        "{line}"
    );
    assert!(out.stdout.is_empty());
    assert!(env.list().is_empty());
}

#[test]
fn rerunning_an_import_returns_the_codes_it_issued() {
    let env = Env::new();
    env.write(
        "b.csv",
        &format!(
            "{HEADER},time_bound,2040-09-01T15:00:00+01:00,2040-09-04T11:00:00+01:00,Ann,u-ann\n\
             ,time_bound,2040-09-01T15:00:00+01:00,2040-09-04T11:00:00+01:00,Ben,u-ben\n\
             ,ongoing,,,Cleaner,\n"
        ),
    );
    let first = env.ok(&["issue", "--from", "b.csv", "--device-id", DEVICE]);
    let out = env.run(&["issue", "--from", "b.csv", "--device-id", DEVICE]);
    assert!(out.status.success());
    let codes = |text: &str| -> Vec<String> {
        serde_json::from_str::<Value>(text)
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|r| s(&r["code"]).to_owned())
            .collect()
    };
    assert_eq!(codes(&first), codes(&String::from_utf8_lossy(&out.stdout)));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "warning: 3 of 3 rows were issued by an earlier run (same idempotency key): their codes are printed as they are, none was issued twice\n"
    );
    assert_eq!(env.list().len(), 3);
    // The same booking twice in one file is refused.
    env.write(
        "dup.csv",
        &format!("{HEADER},ongoing,,,Cleaner,\n,ongoing,,,Cleaner,\n"),
    );
    fails(
        &env,
        &["issue", "--from", "dup.csv", "--device-id", DEVICE],
        1,
        "dup.csv line 3 (nothing was issued): the same booking as line 2 (same idempotency key 'csv/front-door/ongoing//name=Cleaner'); give the rows an idempotency_key column to issue both",
    );
}

#[test]
fn an_import_killed_midway_leaves_nothing_and_prints_nothing() {
    let env = Env::new();
    let mut csv = String::from("starts_at,ends_at,user_identifier_key\n");
    for i in 0..20_000u32 {
        let (d, h) = (i / 6, (i % 6) * 4);
        csv.push_str(&format!(
            "2040-01-01T{h:02}:00:00Z,2040-01-01T{:02}:00:00Z,u{i}\n",
            h + 2
        ));
        // Shift each group of six by a day.
        let n = csv.len();
        let line_start = csv[..n - 1].rfind('\n').unwrap() + 1;
        let line = csv[line_start..].replace("2040-01-01", &day(d));
        csv.truncate(line_start);
        csv.push_str(&line);
    }
    env.write("big.csv", &csv);
    let (journal, db) = (env.path("offpin.db-journal"), env.path("offpin.db"));
    let size = || std::fs::metadata(&db).unwrap().len();
    let empty = size();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_offpin"))
        .current_dir(env.dir.path())
        .args(["issue", "--from", "big.csv", "--device-id", DEVICE])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the import's transaction has started writing into the
    // ledger file itself (SQLite spills pages before the commit, with the
    // originals in its journal), then kill -9: the hardest moment.
    let start = std::time::Instant::now();
    while !(journal.exists() && size() > empty) {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import ended before it could be killed"
        );
        assert!(start.elapsed().as_secs() < 60);
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(out.status.signal(), Some(9));
    }
    assert!(out.stdout.is_empty(), "printed before commit");
    assert!(journal.exists(), "killed after the commit");
    // The next read rolls the interrupted transaction back.
    assert!(env.list().is_empty(), "a killed import left codes");
    assert!(!journal.exists());
    // Run again: all of it is issued, once.
    let all = env.json(&["issue", "--from", "big.csv", "--device-id", DEVICE]);
    assert_eq!(all.as_array().unwrap().len(), 20_000);
    assert_eq!(env.list().len(), 20_000);
}

fn day(d: u32) -> String {
    let t = chrono::NaiveDate::from_ymd_opt(2040, 1, 1).unwrap() + chrono::Days::new(u64::from(d));
    t.format("%Y-%m-%d").to_string()
}

// ---- devices ---------------------------------------------------------

#[test]
fn a_new_key_generation_lists_the_codes_that_stop_opening() {
    let env = Env::new();
    let a = env.time_bound("2040-01-01T16:00:00Z", "2040-01-01T18:00:00Z");
    let o = env.ongoing();
    let u = env.json(&[
        "device",
        "update",
        "--device-id",
        DEVICE,
        "--generation",
        "1",
    ]);
    assert_eq!(u["before"]["generation"], 0);
    assert_eq!(u["device"]["generation"], 1);
    let affected: Vec<(&str, &str, &str)> = u["affected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (id(x), s(&x["consequence"]), s(&x["message"])))
        .collect();
    let msg = "stops opening once the lock holds the key of generation 1";
    assert_eq!(
        affected,
        [
            (id(&a), "stops_opening", msg),
            (id(&o), "stops_opening", msg)
        ]
    );
    let old = env.json(&["get", "--access-code-id", id(&a)]);
    assert_eq!(old["status"], "unset");
    assert_eq!(
        old["errors"][0]["error_code"],
        "offpin_key_generation_changed"
    );
    fails(
        &env,
        &[
            "device",
            "update",
            "--device-id",
            DEVICE,
            "--generation",
            "0",
        ],
        1,
        "device 'front-door' is at key generation 1; a new generation must be higher (got 0): going back would make the codes of that generation open again",
    );
}

#[test]
fn a_new_utc_offset_moves_the_daily_windows() {
    let env = Env::new();
    let daily = env.issue(&[
        "--starts-at",
        "2040-02-01T00:00:00+01:00",
        "--ends-at",
        "2040-03-15T00:00:00+01:00",
        "--max-time-rounding",
        "1d",
    ]);
    env.time_bound("2040-01-01T16:00:00Z", "2040-01-01T18:00:00Z");
    let u = env.json(&[
        "device",
        "update",
        "--device-id",
        DEVICE,
        "--utc-offset",
        "+02:00",
    ]);
    assert_eq!(u["affected"].as_array().unwrap().len(), 1);
    assert_eq!(u["affected"][0]["access_code_id"], daily["access_code_id"]);
    assert_eq!(
        u["affected"][0]["message"],
        "the lock honours 2040-01-31T22:00:00.000Z .. 2040-03-14T22:00:00.000Z instead of 2040-01-31T23:00:00.000Z .. 2040-03-14T23:00:00.000Z"
    );
    let now = env.json(&["get", "--access-code-id", id(&daily)]);
    assert_eq!(now["starts_at"], "2040-01-31T22:00:00.000Z");
    assert_eq!(now["warnings"][1]["warning_code"], "offpin_window_moved");
}

#[test]
fn a_removed_device_keeps_its_codes_and_its_history() {
    let env = Env::new();
    let a = env.time_bound("2040-01-01T16:00:00Z", "2040-01-01T18:00:00Z");
    let r = env.json(&["device", "remove", "--device-id", DEVICE]);
    assert_eq!(r["removed"], true);
    assert_eq!(r["still_opens"][0]["access_code_id"], a["access_code_id"]);
    assert_eq!(env.json(&["device", "list"]), Value::Array(vec![]));
    let out = env.run(&["issue", "--device-id", DEVICE, "--ongoing"]);
    let line = one_error_line(&out, 1);
    assert!(
        line.starts_with("error: device 'front-door' was removed at "),
        "{line}"
    );
    assert!(
        line.ends_with(" (add it again with `offpin device add`)"),
        "{line}"
    );
    assert_eq!(env.list()[0]["errors"][0]["error_code"], "device_removed");
    // Added again, it never hands out the same PIN.
    env.ok(&[
        "device",
        "add",
        "--device-id",
        DEVICE,
        "--utc-offset",
        "+01:00",
    ]);
    let b = env.time_bound("2040-01-01T16:00:00Z", "2040-01-01T18:00:00Z");
    assert_ne!(a["code"], b["code"]);
}

// ---- the ledger file -------------------------------------------------

#[test]
fn an_empty_or_foreign_ledger_file_is_refused() {
    let env = Env::new();
    std::fs::write(env.path("empty.db"), b"").unwrap();
    std::fs::write(env.path("junk.db"), vec![0x5a; 4096]).unwrap();
    for args in [
        vec!["--ledger", "empty.db", "list", "--device-id", DEVICE],
        vec![
            "--ledger",
            "empty.db",
            "device",
            "add",
            "--device-id",
            DEVICE,
            "--utc-offset",
            "Z",
        ],
    ] {
        fails(
            &env,
            &args,
            1,
            "empty.db is not an offpin ledger: the file is empty (0 bytes); a ledger that lost its contents must be restored from a backup, or codes would be issued twice",
        );
    }
    fails(
        &env,
        &[
            "--ledger",
            "junk.db",
            "issue",
            "--device-id",
            DEVICE,
            "--ongoing",
        ],
        1,
        "junk.db is not an offpin ledger: not an SQLite database",
    );
    assert_eq!(std::fs::metadata(env.path("empty.db")).unwrap().len(), 0);
    // Read commands never create one.
    fails(
        &env,
        &["--ledger", "missing.db", "list", "--device-id", DEVICE],
        1,
        "missing.db: no such ledger (create it with `offpin device add`, or name it with --ledger / $OFFPIN_LEDGER)",
    );
    assert!(!env.path("missing.db").exists());
}

/// Runs `offpin` as an unprivileged user (root ignores file permissions).
fn as_nobody(env: &Env, args: &[&str]) -> Output {
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .unwrap()
        .stdout
        == b"0\n";
    let mut c = if root {
        // A copy the unprivileged user can run wherever the checkout is.
        let bin = env.path("offpin-as-nobody");
        if !bin.exists() {
            std::fs::copy(env!("CARGO_BIN_EXE_offpin"), &bin).unwrap();
        }
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&bin);
        c
    } else {
        std::process::Command::new(env!("CARGO_BIN_EXE_offpin"))
    };
    c.current_dir(env.dir.path())
        .env_remove("OFFPIN_LEDGER")
        .env_remove("OFFPIN_MASTER_KEY_FILE")
        .args(args)
        .output()
        .unwrap()
}

#[cfg(unix)]
#[test]
fn a_read_only_ledger_is_read_and_the_unwritable_path_is_named() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    env.ongoing();
    let mode = |p: &std::path::Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    };
    // Readable by all, writable by nobody but root, in a read-only directory.
    mode(env.dir.path(), 0o755);
    mode(&env.path("offpin.db"), 0o644);
    mode(&env.path("offpin.key"), 0o644);
    let out = as_nobody(&env, &["list", "--device-id", DEVICE]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let out = as_nobody(&env, &["issue", "--device-id", DEVICE, "--ongoing"]);
    assert_eq!(
        one_error_line(&out, 1),
        "error: cannot write the ledger: offpin.db is read-only (the file is read-only)"
    );
    // A writable file in a read-only directory: the directory is named.
    mode(&env.path("offpin.db"), 0o666);
    let out = as_nobody(&env, &["issue", "--device-id", DEVICE, "--ongoing"]);
    let line = one_error_line(&out, 1);
    assert!(
        line.starts_with("error: cannot write the ledger: the directory "),
        "{line}"
    );
    mode(env.dir.path(), 0o700);
    assert_eq!(env.list().len(), 1);
}

#[test]
fn the_ledger_survives_restarts_and_concurrent_issuers() {
    let env = Env::new();
    let key = env.path("offpin.key");
    let ledger = env.path("offpin.db");
    // 7 processes race for one window of standard-10 (3 variances).
    let children: Vec<_> = (0..7)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_offpin"))
                .arg("--ledger")
                .arg(&ledger)
                .arg("--master-key")
                .arg(&key)
                .args([
                    "issue",
                    "--device-id",
                    DEVICE,
                    "--starts-at",
                    "2040-08-01T10:00:00Z",
                    "--ends-at",
                    "2040-08-01T12:00:00Z",
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut codes = std::collections::BTreeSet::new();
    let mut exhausted = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        if out.status.success() {
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert!(codes.insert(s(&v["code"]).to_owned()), "duplicate PIN");
        } else {
            let line = one_error_line(&out, 1);
            assert!(
                line.starts_with("error: igloohome_offline_access_code_no_variance_available"),
                "{line}"
            );
            exhausted += 1;
        }
    }
    assert_eq!((codes.len(), exhausted), (3, 4));
    let stored: std::collections::BTreeSet<String> = env
        .list()
        .iter()
        .map(|r| s(&r["code"]).to_owned())
        .collect();
    assert_eq!(stored, codes);
    // The environment variable names the same ledger.
    let out = env
        .cmd(&["device", "list"])
        .env("OFFPIN_LEDGER", env.path("offpin.db"))
        .output()
        .unwrap();
    assert!(out.status.success());
}

#[test]
fn a_closed_stdout_ends_a_command_quietly() {
    let env = Env::new();
    let mut csv = String::from("starts_at,ends_at\n");
    for i in 0..300 {
        csv.push_str(&format!(
            "2040-05-01T00:00:00Z,2040-05-{:02}T{:02}:00:00Z\n",
            2 + i / 24,
            i % 24
        ));
    }
    env.write("b.csv", &csv);
    env.ok(&[
        "issue",
        "--from",
        "b.csv",
        "--device-id",
        DEVICE,
        "--max-time-rounding",
        "1d",
    ]);
    let pin = s(&env.list()[0]["code"]).to_owned();
    for cmd in [
        "list --device-id front-door".to_owned(),
        format!("inspect --device-id front-door --pin {pin}"),
        "report".to_owned(),
        "demo".to_owned(),
    ] {
        let demos_before = demo_dirs();
        let out = std::process::Command::new("bash")
            .current_dir(env.dir.path())
            .args([
                "-c",
                &format!(
                    "set -o pipefail; '{}' {cmd} | head -1",
                    env!("CARGO_BIN_EXE_offpin")
                ),
            ])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{cmd}");
        assert!(out.status.success(), "{cmd}: {:?}", out.status);
        assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
        assert!(
            demo_dirs().is_subset(&demos_before),
            "{cmd} left its directory"
        );
    }
    // Closed before the first write.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_offpin"))
        .current_dir(env.dir.path())
        .args(["inspect", "--device-id", DEVICE, "--pin", &pin])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The demo directories in the temp dir.
fn demo_dirs() -> std::collections::BTreeSet<String> {
    std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("offpin-demo-"))
        .collect()
}

// ---- report, inspect, demo -------------------------------------------

#[test]
fn report_prints_the_security_table() {
    let env = Env::bare();
    let out = env.ok(&["report"]);
    let row = out.lines().find(|l| l.starts_with("standard-10 ")).unwrap();
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells[1], "10");
    assert_eq!(
        cells[10],
        offpin::profile::shipped::STANDARD_10
            .security()
            .w_max
            .to_string()
    );
    // The v2 profile, with and without each v2 kind.
    let v2 = offpin::profile::shipped::STANDARD_10_V2;
    let row = out
        .lines()
        .find(|l| l.starts_with("standard-10-v2 "))
        .unwrap();
    let cells: Vec<&str> = row.split_whitespace().collect();
    let s = v2.security();
    assert_eq!(cells[7], s.max_by_kind.recurring.to_string());
    assert_eq!(cells[8], s.max_by_kind.clock_set.to_string());
    assert_eq!(cells[10], s.w_max.to_string());
    for (variant, tag) in [
        ("without recurring codes", offpin::Tag::Recurring),
        ("without clock-setting codes", offpin::Tag::ClockCodes),
        ("without service codes", offpin::Tag::ServiceCodes),
    ] {
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with(variant))
            .unwrap_or_else(|| panic!("{variant} not in\n{out}"));
        let w = v2.without(tag).unwrap().security().w_max.to_string();
        assert!(line.split_whitespace().any(|c| c == w), "{line} lacks {w}");
    }
    assert_eq!(
        out.lines().filter(|l| l.starts_with("tuya (ref.)")).count(),
        1
    );
    // standard-10 with code rules: the same W_max over |S| PINs.
    let rules = offpin::Profile::new(offpin::ProfileParams {
        format: offpin::FormatVersion::V2,
        code_rules: offpin::CodeRules::ALL,
        ..offpin::profile::shipped::STANDARD_10.params()
    })
    .unwrap();
    let line = out
        .lines()
        .find(|l| {
            l.trim_start()
                .starts_with("code rules: not `12…`, no triples")
        })
        .unwrap_or_else(|| panic!("no code rules row in\n{out}"));
    let s = rules.security();
    let cells: Vec<&str> = line.split_whitespace().collect();
    assert!(cells.contains(&s.w_max.to_string().as_str()), "{line}");
    assert!(
        cells.contains(&format!("{:.2e}", s.domain as f64).as_str()),
        "{line}"
    );
    assert_eq!(s.domain, rules.pin_count());
}

#[test]
fn inspect_explains_a_pin_in_local_time_and_utc() {
    let env = Env::new();
    let tb = env.issue(&[
        "--starts-at",
        "2040-06-01T10:00:00+01:00",
        "--ends-at",
        "2040-06-03T10:00:00+01:00",
        "--name",
        "guest",
    ]);
    let pin = s(&tb["code"]);
    let out = env.ok(&[
        "inspect",
        "--device-id",
        DEVICE,
        "--pin",
        pin,
        "--at",
        "2040-06-01T10:30:00+01:00",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "device:    front-door (profile standard-10, lock clock at UTC+01:00, key generation 0)"
    );
    assert_eq!(lines[1], format!("PIN:       {pin}"));
    assert!(lines.contains(&"kind:      time-bound (hourly)"), "{out}");
    assert!(lines.contains(&"variance:  0 of 0..3"), "{out}");
    assert!(
        lines.contains(&"window:    2040-06-01T10:00:00+01:00 (2040-06-01T09:00:00Z) .. 2040-06-03T10:00:00+01:00 (2040-06-03T09:00:00Z) (2 d)"),
        "{out}"
    );
    assert!(
        lines.contains(&"activation: must be used first by 2040-06-02T10:00:00+01:00 (2040-06-02T09:00:00Z) (1 d after its start)"),
        "{out}"
    );
    assert!(
        lines.contains(&"at 2040-06-01T10:30:00+01:00 (2040-06-01T09:30:00Z): valid: opens, and the lock then remembers it as activated until 2040-06-03T10:10:00+01:00 (2040-06-03T09:10:00Z)"),
        "{out}"
    );
    let wrong = env.ok(&["inspect", "--device-id", DEVICE, "--pin", "0000000001"]);
    assert!(wrong.lines().any(|l| l
        == "result:    not a code of this device: a typo, a PIN for another lock or key generation, or a guess"
        || l.starts_with("grant:")));
}

#[test]
fn the_demo_is_a_guided_run_and_cleans_up() {
    let env = Env::bare();
    let out = env.ok(&["demo"]);
    let lines: Vec<&str> = out.lines().collect();
    for heading in [
        "== 1. The server's master key and the lock's registration",
        "== 2. Issuing codes (no round-trip to the lock), in local time",
        "== 3. At the door (the lock checks each PIN offline, on its own clock)",
        "== 4. Taking the ongoing code back, offline",
        "== 5. Someone guesses PINs (the keypad locks out)",
        "== 6. After the stay",
        "== 7. The security of this lock",
        "  the stay is booked as 2025-07-01T15:00 .. 2025-07-04T11:00 local time, read with Europe/Paris's rules for July",
        "  a 3rd code of that window takes variance 2; a 4th is refused:",
        "  a stay that began two days ago (18 to 22 June) can no longer be activated; it is refused:",
        "    the code must be used by 2025-06-19T13:00:00.000Z (within 24 h of its start), which has passed at the issue time 2025-06-20T10:00:00.000Z: the lock would never open for it",
        "  Ann's code as an integrator receives it (the access_code object of the hosted lock APIs):",
        &format!(
            "  (the lock saved its {}-byte state and reloaded it, as after a power cut)",
            offpin::lock::Lock::<64>::STATE_LEN
        ),
        "    (not evaluated while locked out, not counted, nothing written)",
    ] {
        assert!(lines.contains(&heading), "demo lacks {heading:?}:\n{out}");
    }
    // The integrator's record is the JSON object, whole.
    let start = lines.iter().position(|l| *l == "{").unwrap();
    let end = start + lines[start..].iter().position(|l| *l == "}").unwrap();
    let record: Value = serde_json::from_str(&lines[start..=end].join("\n")).unwrap();
    assert_eq!(record["starts_at"], "2025-07-01T13:00:00.000Z");
    assert_eq!(record["user_identifier_key"], "guest-ann");
    let door: Vec<&&str> = lines.iter().filter(|l| l.contains(" types ")).collect();
    assert!(
        door[0]
            .starts_with("  2025-07-01T14:00:00+02:00 (2025-07-01T12:00:00Z)  Ann, an hour early"),
        "{}",
        door[0]
    );
    assert_eq!(std::fs::read_dir(env.dir.path()).unwrap().count(), 0);
}

// ---- verify ----------------------------------------------------------

#[test]
fn verify_exits_3_when_the_lock_refuses_and_speaks_json() {
    let env = Env::new();
    let og = env.ongoing();
    // Nine digits on a ten-digit lock: refused as an invalid code whatever
    // the (random) master key, where a ten-digit guess names a grant 18 %
    // of the time.
    let (out, code) = env.verify_with(&[], "123456789", "2040-06-01T10:00:00Z");
    assert_eq!(code, 3);
    assert_eq!(field(&out, "decision"), "refused");
    let (_, code) = env.verify_with(&[], s(&og["code"]), "2040-06-01T10:01:00Z");
    assert_eq!(code, 0);
    let out = env.run(&[
        "--json",
        "verify",
        "--device-id",
        DEVICE,
        "--pin",
        "123456789",
        "--at",
        "2040-06-01T10:02:00Z",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["decision"], "refused");
    assert_eq!(v["opened"], false);
    assert_eq!(v["refusal"], "invalid_code");
    assert_eq!(v["at"], "2040-06-01T10:02:00.000Z");
    assert_eq!(v["at_local"], "2040-06-01T11:02:00+01:00");
    assert_eq!(v["state_written"], true);
    assert_eq!(
        v["lockout"],
        "1 failed entry in a row (the keypad locks at 5)"
    );
}

#[test]
fn state_files_of_different_devices_never_collide() {
    let env = Env::new();
    let ids = ["front door", "front_door", "front/door"];
    for d in ids {
        env.ok(&["device", "add", "--device-id", d, "--utc-offset", "Z"]);
    }
    let codes: Vec<String> = ids
        .iter()
        .map(|d| s(&env.json(&["issue", "--device-id", d, "--ongoing"])["code"]).to_owned())
        .collect();
    // Five wrong PINs lock out "front door" only.
    for i in 0..5 {
        let out = env.run(&[
            "verify",
            "--device-id",
            ids[0],
            "--pin",
            "1",
            "--at",
            &format!("2040-06-01T10:00:0{i}Z"),
        ]);
        assert_eq!(out.status.code(), Some(3));
    }
    for (d, pin) in ids.iter().zip(&codes).skip(1) {
        let out = env.run(&[
            "verify",
            "--device-id",
            d,
            "--pin",
            pin,
            "--at",
            "2040-06-01T10:00:10Z",
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{d}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let states: Vec<String> = env
        .files()
        .into_iter()
        .filter(|f| f.ends_with(".state"))
        .collect();
    assert_eq!(
        states,
        [
            "offpin.db.lock-front%20door.state",
            "offpin.db.lock-front%2Fdoor.state",
            "offpin.db.lock-front_door.state"
        ]
    );
}

#[test]
fn a_state_file_swapped_between_devices_is_refused() {
    let env = Env::new();
    env.ok(&[
        "device",
        "add",
        "--device-id",
        "back-door",
        "--utc-offset",
        "+01:00",
    ]);
    let og = env.ongoing();
    env.verify(s(&og["code"]), "2040-06-01T10:00:00Z");
    std::fs::copy(env.path(STATE), env.path("offpin.db.lock-back-door.state")).unwrap();
    fails(
        &env,
        &[
            "verify",
            "--device-id",
            "back-door",
            "--pin",
            "1234567890",
            "--at",
            "2040-06-01T10:00:00Z",
        ],
        1,
        "offpin.db.lock-back-door.state: it holds the state of device 'front-door', not of 'back-door'; the file is left as it is (delete it to start over with a new lock, which forgets used codes, revocations and the lock-out)",
    );
    // A re-keyed device does not take its old lock's state either.
    env.ok(&[
        "device",
        "update",
        "--device-id",
        DEVICE,
        "--generation",
        "1",
    ]);
    fails(
        &env,
        &[
            "verify",
            "--device-id",
            DEVICE,
            "--pin",
            "1234567890",
            "--at",
            "2040-06-01T10:00:00Z",
        ],
        1,
        "offpin.db.lock-front-door.state: it holds the state of key generation 0, but the device is at generation 1: a re-keyed lock starts with a new state; the file is left as it is (delete it to start over with a new lock, which forgets used codes, revocations and the lock-out)",
    );
}

#[test]
fn verify_locks_the_keypad_out_across_runs() {
    let env = Env::new();
    let og = env.ongoing();
    let pin = s(&og["code"]);
    let wrong = ["12345", "000", "abcdefghij", "99999999999", "1"];
    for (i, w) in wrong.iter().enumerate() {
        let out = env.verify(w, &format!("2040-06-01T10:00:0{i}Z"));
        assert_eq!(field(&out, "decision"), "refused", "{out}");
        assert_eq!(field(&out, "reason"), "the PIN is not valid for this lock");
        assert!(!out.contains("grant:"), "{out}");
        let n = i + 1;
        let want = if n < 5 {
            format!(
                "{n} failed entr{} in a row (the keypad locks at 5)",
                if n == 1 { "y" } else { "ies" }
            )
        } else {
            "locked out until 2040-06-01T11:05:04+01:00 (2040-06-01T10:05:04Z) (after 5 failed entries in a row)".to_owned()
        };
        assert_eq!(field(&out, "lockout"), want);
    }
    let before = std::fs::read(env.path(STATE)).unwrap();
    let out = env.verify(pin, "2040-06-01T10:03:00Z");
    assert_eq!(
        field(&out, "reason"),
        "the keypad is locked after too many wrong PINs"
    );
    assert_eq!(
        field(&out, "state"),
        "unchanged, nothing written (the keypad is locked out: the entry was not evaluated)"
    );
    assert_eq!(std::fs::read(env.path(STATE)).unwrap(), before);
    let out = env.verify(pin, "2040-06-01T10:05:04Z");
    assert_eq!(field(&out, "decision"), "open", "{out}");
    assert_eq!(field(&out, "grant"), "ongoing code: slot 0");
    assert_eq!(field(&out, "lockout"), "no failed entries");
    assert_eq!(
        field(&out, "state"),
        format!(
            // 6 writes, and 5 starts (each run after the first loads the
            // file and starts the lock, one sequence number each).
            "saved to offpin.db.lock-front-door.state ({IMAGE_LEN} bytes of lock state, sequence 11)"
        )
    );
    assert_eq!(
        std::fs::read(env.path(STATE)).unwrap().len(),
        STATE_FILE_LEN
    );
    let (out, _) = env.verify_with(&["--state", "other.state"], "1", "2040-06-01T10:00:05Z");
    assert_eq!(
        field(&out, "lockout"),
        "1 failed entry in a row (the keypad locks at 5)"
    );
}

#[test]
fn concurrent_verify_runs_open_a_one_time_code_once() {
    let env = Env::new();
    let ot = env.issue(&["--one-time", "--starts-at", "2040-06-01T10:00:00Z"]);
    let pin = s(&ot["code"]).to_owned();
    let children: Vec<_> = (0..16)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_offpin"))
                .current_dir(env.dir.path())
                .args([
                    "verify",
                    "--device-id",
                    DEVICE,
                    "--pin",
                    &pin,
                    "--at",
                    "2040-06-01T12:00:00Z",
                ])
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut decisions: Vec<(String, i32)> = children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            (
                field(&String::from_utf8_lossy(&out.stdout), "decision").to_owned(),
                out.status.code().unwrap(),
            )
        })
        .collect();
    decisions.sort();
    let mut want = vec![("open".to_owned(), 0)];
    want.extend(std::iter::repeat_n(("refused".to_owned(), 3), 15));
    assert_eq!(decisions, want);
}

#[test]
fn a_one_time_code_is_refused_the_second_time_across_runs() {
    let env = Env::new();
    let ot = env.issue(&["--one-time", "--starts-at", "2040-06-01T10:00:00Z"]);
    let pin = s(&ot["code"]);
    let first = env.verify(pin, "2040-06-01T12:00:00Z");
    assert_eq!(field(&first, "decision"), "open", "{first}");
    assert_eq!(
        field(&first, "at"),
        "2040-06-01T13:00:00+01:00 (2040-06-01T12:00:00Z)"
    );
    assert_eq!(
        field(&first, "memory"),
        "remembered as used until 2040-06-02T12:00:00+01:00 (2040-06-02T11:00:00Z); 63 of 64 slots free"
    );
    let second = env.verify(pin, "2040-06-02T09:00:00Z");
    assert_eq!(
        field(&second, "reason"),
        "the one-time code was already used"
    );
    assert_eq!(field(&second, "grant"), field(&first, "grant"));
    let third = env.verify(pin, "2040-06-02T11:00:00Z");
    assert_eq!(field(&third, "reason"), "the code's window has ended");
    assert_eq!(field(&third, "memory"), "64 of 64 slots free");
}

#[test]
fn a_revocation_pin_refuses_the_ongoing_code_for_good() {
    let env = Env::new();
    let og = env.ongoing();
    let other = env.ongoing();
    let pin = s(&og["code"]);
    assert_eq!(
        field(&env.verify(pin, "2040-06-06T09:00:00Z"), "decision"),
        "open"
    );
    let d = env.json(&["delete", "--access-code-id", id(&og)]);
    let revoke = s(&d["revocation_code"]);
    let r = env.verify(revoke, "2040-06-06T09:10:00Z");
    assert_eq!(field(&r, "decision"), "revocation", "{r}");
    assert_eq!(field(&r, "reason"), "ongoing slot 0 is revoked for good");
    assert_eq!(field(&r, "lockout"), "no failed entries");
    for at in ["2040-06-06T09:20:00Z", "2041-01-01T00:00:00Z"] {
        let after = env.verify(pin, at);
        assert_eq!(field(&after, "reason"), "the code was revoked");
    }
    let o = env.verify(s(&other["code"]), "2041-01-01T00:02:00Z");
    assert_eq!(field(&o, "grant"), "ongoing code: slot 1");
}

#[test]
fn verify_refuses_time_dependent_codes_when_the_clock_is_moved_back() {
    let env = Env::new();
    let tb = env.time_bound("2040-06-05T10:00:00Z", "2040-06-05T14:00:00Z");
    let tpin = s(&tb["code"]);
    let opin = s(&env.ongoing()["code"]).to_owned();
    assert_eq!(
        field(&env.verify(tpin, "2040-06-05T13:00:00Z"), "decision"),
        "open"
    );
    let back = env.verify(tpin, "2040-06-05T11:00:00Z");
    assert_eq!(
        field(&back, "reason"),
        "the lock's clock is behind a time it has already seen; set the clock"
    );
    assert_eq!(
        field(&back, "clock"),
        "rolled back: 2 h behind 2040-06-05T14:00:00+01:00 (2040-06-05T13:00:00Z), the latest time the lock has seen; codes that depend on time are refused until the clock is set right"
    );
    let o = env.verify(&opin, "2040-06-05T11:01:00Z");
    assert_eq!(field(&o, "decision"), "open", "{o}");
    let drift = env.verify(tpin, "2040-06-05T12:55:00Z");
    assert_eq!(field(&drift, "decision"), "open", "{drift}");
    assert!(!drift.contains("clock:"), "{drift}");
}

#[test]
fn a_damaged_state_file_is_reported_and_left_alone() {
    let env = Env::new();
    env.ok(&[
        "device",
        "add",
        "--device-id",
        "keypad",
        "--profile",
        "keypad9-11",
        "--utc-offset",
        "Z",
    ]);
    let og = env.ongoing();
    let pin = s(&og["code"]);
    env.verify(pin, "2040-06-01T10:00:00Z");
    let good = std::fs::read(env.path(STATE)).unwrap();
    assert_eq!(good.len(), STATE_FILE_LEN);
    let header = STATE_FILE_LEN - IMAGE_LEN;
    let mut flipped = good.clone();
    flipped[header + 700] ^= 0x10;
    let mut bad_magic = good.clone();
    bad_magic[0] = b'X';
    let mut bad_image_magic = good.clone();
    bad_image_magic[header] = b'X';
    let truncated = good[..header + 100].to_vec();
    let tail = "; the file is left as it is (delete it to start over with a new lock, which forgets used codes, revocations and the lock-out)";
    let not_ours = format!(
        "{STATE}: not an offpin lock-state file (no device record: a lock state image alone, written by an older offpin, or another file){tail}"
    );
    let cases: [(&str, Vec<u8>, String); 6] = [
        (
            "truncated",
            truncated,
            format!(
                "{STATE}: lock state: a lock state image is {} bytes, 100 were given{tail}",
                offpin::lock::Lock::<64>::STATE_LEN
            ),
        ),
        (
            "flipped",
            flipped,
            format!(
                "{STATE}: lock state: the lock state image is damaged (CRC): a torn write or a bad flash cell{tail}"
            ),
        ),
        ("bad magic", bad_magic, not_ours.clone()),
        (
            "bad image magic",
            bad_image_magic,
            format!("{STATE}: lock state: not a lock state image (bad magic){tail}"),
        ),
        ("empty", Vec::new(), not_ours.clone()),
        ("image alone", good[header..].to_vec(), not_ours),
    ];
    for (what, bytes, line) in cases {
        std::fs::write(env.path(STATE), &bytes).unwrap();
        let files = env.files();
        let out = env.run(&[
            "verify",
            "--device-id",
            DEVICE,
            "--pin",
            pin,
            "--at",
            "2040-06-01T11:00:00Z",
        ]);
        assert_eq!(one_error_line(&out, 1), format!("error: {line}"), "{what}");
        assert!(out.stdout.is_empty(), "{what}: printed a decision");
        assert_eq!(std::fs::read(env.path(STATE)).unwrap(), bytes, "{what}");
        assert_eq!(env.files(), files, "{what}: files changed");
    }
    std::fs::write(env.path(STATE), &good).unwrap();
    let out = env.verify(pin, "2040-06-01T11:00:00Z");
    assert_eq!(field(&out, "decision"), "open", "{out}");
}

/// `offpin service-code` prints the otpauth:// URI (and a QR code); the
/// code of an instant opens the device's lock once at `verify`, and the
/// second time it is refused as already used.
#[test]
fn service_codes_print_a_key_uri_and_open_the_lock_once() {
    let env = Env::bare();
    env.ok(&["keygen"]);
    env.ok(&[
        "device",
        "add",
        "--device-id",
        "paris-v2",
        "--profile",
        "standard-10-v2",
        "--time-zone",
        "Europe/Paris",
    ]);
    let out = env.ok(&[
        "service-code",
        "--device-id",
        "paris-v2",
        "--at",
        "2040-07-01T12:00:00Z",
    ]);
    let uri = out.lines().next().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/offpin:paris-v2?secret="),
        "{uri}"
    );
    assert!(uri.ends_with("&issuer=offpin&algorithm=SHA1&digits=8&period=30"));
    assert!(out.contains('█'), "a QR code");
    let code = out
        .lines()
        .find_map(|l| l.strip_prefix("code at 2040-07-01T12:00:00+00:00: "))
        .unwrap();
    assert_eq!(code.len(), 8);
    let verify = |at: &str| {
        let out = env.run(&[
            "verify",
            "--device-id",
            "paris-v2",
            "--pin",
            code,
            "--at",
            at,
        ]);
        (
            String::from_utf8(out.stdout).unwrap(),
            out.status.code().unwrap(),
        )
    };
    let (first, status) = verify("2040-07-01T12:00:10Z");
    assert_eq!(status, 0, "{first}");
    let (second, status) = verify("2040-07-01T12:00:20Z");
    assert_eq!(status, 3, "{second}");
    assert!(second.contains("already used"), "{second}");
    // A v1 device has no service codes.
    env.ok(&[
        "device",
        "add",
        "--device-id",
        "v1",
        "--utc-offset",
        "+01:00",
    ]);
    fails(
        &env,
        &["service-code", "--device-id", "v1"],
        1,
        "profile standard-10 has no service codes (a format-v2 profile such as standard-10-v2 has them)",
    );
}

/// `offpin group` and `offpin issue --group`: one PIN printed with the
/// members it opens and its common_code_key, opening each member's lock
/// (its device key and the group key `group key` prints); refusals are one
/// line on stderr, nothing on stdout; removing a member re-keys the group.
#[test]
fn groups_share_one_pin_and_removal_rekeys() {
    let env = Env::new();
    env.ok(&[
        "device",
        "add",
        "--device-id",
        "back-door",
        "--utc-offset",
        "+01:00",
    ]);
    env.ok(&[
        "device",
        "add",
        "--device-id",
        "shed",
        "--utc-offset",
        "+01:00",
    ]);
    let g = env.json(&[
        "group",
        "create",
        "--group-id",
        "house",
        "--profile",
        "standard-10",
    ]);
    assert_eq!(g["generation"], 0);
    env.ok(&["group", "create", "--group-id", "empty"]);
    for d in [DEVICE, "back-door"] {
        env.ok(&["group", "add", "--group-id", "house", "--device-id", d]);
    }
    fails(
        &env,
        &["group", "add", "--group-id", "empty", "--device-id", DEVICE],
        1,
        "device 'front-door' is a member of group 'house': a device is in at most one group (its lock holds one group key); remove it from that group first",
    );
    fails(
        &env,
        &["issue", "--group", "empty", "--ongoing"],
        1,
        "group 'empty' has no member (offpin group add)",
    );
    fails(
        &env,
        &["issue", "--group", "nowhere", "--ongoing"],
        1,
        "unknown group 'nowhere'",
    );
    let text = std::fs::read_to_string(env.path("offpin.key")).unwrap();
    let master = offpin::MasterKey::from_slice(&hex::decode(text.trim()).unwrap()).unwrap();
    let hex = |k: &offpin::DeviceKey| hex::encode(k.expose_secret());
    let group0 = master.derive_group_key(b"house", 0).unwrap();
    assert_eq!(
        env.ok(&["group", "key", "--group-id", "house"]),
        format!("{}\n", hex(&group0))
    );
    let out = env.json(&[
        "issue",
        "--group",
        "house",
        "--starts-at",
        "2030-07-01T15:00:00+01:00",
        "--ends-at",
        "2030-07-02T11:00:00+01:00",
        "--name",
        "guests",
    ]);
    assert_eq!(out["opens"], serde_json::json!(["back-door", "front-door"]));
    let pin = out["code"].as_str().unwrap();
    let key = out["common_code_key"].as_str().unwrap();
    assert!(!key.is_empty());
    let at = chrono::DateTime::parse_from_rfc3339("2030-07-01T16:00:00+01:00")
        .unwrap()
        .timestamp();
    let p = offpin::profile::shipped::STANDARD_10;
    for (record, d) in out["access_codes"]
        .as_array()
        .unwrap()
        .iter()
        .zip(["back-door", DEVICE])
    {
        assert_eq!(
            (record["code"].as_str(), record["device_id"].as_str()),
            (Some(pin), Some(d))
        );
        assert_eq!(record["common_code_key"], key);
        let own = master.derive_device_key(d.as_bytes(), 0).unwrap();
        let codecs = [
            offpin::Codec::new(&own, p).unwrap(),
            offpin::Codec::new(&group0, p).unwrap(),
        ];
        let mut lock =
            offpin::Lock::<8, 2>::new(codecs, offpin::UtcOffset::from_minutes(60).unwrap())
                .unwrap();
        let seen = lock.observe_clock(at);
        lock.commit(seen).unwrap();
        assert!(
            matches!(
                lock.check(pin.as_bytes(), at).decision,
                offpin::Decision::Open(_)
            ),
            "{d}"
        );
    }
    // Removing a member re-keys the group; stderr says what the locks need.
    let removed = env.run(&[
        "group",
        "remove",
        "--group-id",
        "house",
        "--device-id",
        "back-door",
    ]);
    assert!(removed.status.success());
    let stderr = String::from_utf8_lossy(&removed.stderr);
    assert!(
        stderr.contains("re-keyed (generation 1)")
            && stderr.contains("still opens the 1 group code"),
        "{stderr}"
    );
    let after: Value = serde_json::from_slice(&removed.stdout).unwrap();
    assert_eq!(after["group"]["members"], serde_json::json!([DEVICE]));
    let group1 = master.derive_group_key(b"house", 1).unwrap();
    assert_eq!(
        env.ok(&["group", "key", "--group-id", "house"]),
        format!("{}\n", hex(&group1))
    );
    let listed = env.json(&["group", "list"]);
    assert_eq!(listed[1]["group_id"], "house");
    assert_eq!(listed[1]["generation"], 1);
}
