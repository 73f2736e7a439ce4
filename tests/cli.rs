//! The `offpin` binary, driven like an operator would, over a real on-disk
//! ledger: every subcommand, the bad inputs, concurrent issuers, restarts.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests"
)]
#![cfg(feature = "cli")]

use std::path::PathBuf;
use std::process::Output;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use tempfile::TempDir;

const DEVICE: &str = "front-door";
/// `Lock::<64>::STATE_LEN`, the image of a standard-10 lock.
const STATE_LEN_64: usize = offpin::Lock::<64>::STATE_LEN;
/// The default state file of `DEVICE`.
const STATE: &str = "offpin.db.lock-front-door.state";

struct Env {
    dir: TempDir,
}

impl Env {
    /// A temp dir with a master key and one registered device (UTC+1).
    fn new() -> Env {
        let env = Env::bare();
        env.cmd(&["keygen"]).assert().success();
        env.cmd(&[
            "device",
            "add",
            "--device-id",
            DEVICE,
            "--profile",
            "standard-10",
            "--utc-offset",
            "+01:00",
        ])
        .assert()
        .success();
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
            .env_remove("OFFPIN_MASTER_KEY")
            .args(args);
        c
    }

    fn json(&self, args: &[&str]) -> Value {
        let out = self.cmd(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn issue_time_bound(&self, start: &str, end: &str) -> Value {
        self.json(&[
            "issue",
            "--device-id",
            DEVICE,
            "--starts-at",
            start,
            "--ends-at",
            end,
        ])
    }
}

/// Asserts a failure with exactly one `error: ...` line on stderr and the
/// given exit code; returns the line.
fn one_error_line(out: &Output, code: i32) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "stderr: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "not one line: {stderr:?}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"));
    lines[0].to_owned()
}

fn fails(env: &Env, args: &[&str], code: i32, needle: &str) {
    let out = env.cmd(args).output().unwrap();
    let line = one_error_line(&out, code);
    assert!(line.contains(needle), "{args:?}: {line:?} lacks {needle:?}");
}

#[test]
fn help_everywhere() {
    let env = Env::bare();
    for sub in [
        vec![],
        vec!["keygen"],
        vec!["device"],
        vec!["device", "add"],
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
        env.cmd(&args)
            .assert()
            .success()
            .stdout(predicate::str::contains("Usage: offpin"));
    }
}

#[test]
fn keygen_is_owner_only_and_never_overwrites() {
    let env = Env::bare();
    env.cmd(&["keygen"]).assert().success();
    let key = env.path("offpin.key");
    let text = std::fs::read_to_string(&key).unwrap();
    assert_eq!(text.trim().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    fails(&env, &["keygen"], 1, "refusing to overwrite");
    assert_eq!(std::fs::read_to_string(&key).unwrap(), text);
    // Another path through the flag and the environment.
    env.cmd(&["--master-key", "other.key", "keygen"])
        .assert()
        .success();
    env.cmd(&["keygen"])
        .env("OFFPIN_MASTER_KEY", "env.key")
        .assert()
        .success();
    assert!(env.path("other.key").exists() && env.path("env.key").exists());
}

#[test]
fn issue_each_kind_then_list_get_delete() {
    let env = Env::new();
    // Time-bound, with offsets: 16:00+01:00 is 15:00Z.
    let tb = env.json(&[
        "issue",
        "--device-id",
        DEVICE,
        "--starts-at",
        "2025-01-01T16:00:00+01:00",
        "--ends-at",
        "2025-01-03T11:00:00+01:00",
        "--name",
        "guest",
        "--user-identifier-key",
        "user-1",
    ]);
    assert_eq!(tb["type"], "time_bound");
    assert_eq!(tb["starts_at"], "2025-01-01T15:00:00.000Z");
    assert_eq!(tb["ends_at"], "2025-01-03T10:00:00.000Z");
    assert_eq!(tb["name"], "guest");
    assert_eq!(tb["is_offline_access_code"], true);
    // Rounding: 16:20 needs 20 min, refused with 0, accepted with 1h.
    fails(
        &env,
        &[
            "issue",
            "--device-id",
            DEVICE,
            "--starts-at",
            "2025-01-05T16:20:00Z",
            "--ends-at",
            "2025-01-05T18:00:00Z",
            "--max-time-rounding",
            "0",
        ],
        1,
        "rounding",
    );
    let rounded = env.json(&[
        "issue",
        "--device-id",
        DEVICE,
        "--starts-at",
        "2025-01-05T16:20:00Z",
        "--ends-at",
        "2025-01-05T18:00:00Z",
        "--max-time-rounding",
        "1h",
    ]);
    assert_eq!(rounded["starts_at"], "2025-01-05T16:00:00.000Z");
    // Long windows become daily at the lock's local midnight with 1d.
    let daily = env.json(&[
        "issue",
        "--device-id",
        DEVICE,
        "--starts-at",
        "2025-02-01T00:00:00+01:00",
        "--ends-at",
        "2025-03-15T00:00:00+01:00",
        "--max-time-rounding",
        "1d",
    ]);
    assert_eq!(daily["starts_at"], "2025-01-31T23:00:00.000Z");
    // One-time.
    let ot = env.json(&[
        "issue",
        "--device-id",
        DEVICE,
        "--one-time",
        "--starts-at",
        "2025-01-01T16:00:00+01:00",
    ]);
    assert_eq!(ot["is_one_time_use"], true);
    assert_eq!(ot["ends_at"], "2025-01-02T15:00:00.000Z");
    assert_eq!(
        ot["warnings"][0]["warning_code"],
        "igloo_algopin_must_be_used_within_24_hours"
    );
    // Ongoing.
    let og = env.json(&[
        "issue",
        "--device-id",
        DEVICE,
        "--ongoing",
        "--name",
        "cleaner",
    ]);
    assert_eq!(og["type"], "ongoing");
    assert_eq!(og["starts_at"], Value::Null);

    // list in issue order, by device / ids / user.
    let all = env.json(&["list", "--device-id", DEVICE]);
    let ids: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["access_code_id"].as_str().unwrap())
        .collect();
    let want: Vec<&str> = [&tb, &rounded, &daily, &ot, &og]
        .iter()
        .map(|r| r["access_code_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, want);
    let by_user = env.json(&[
        "list",
        "--device-id",
        DEVICE,
        "--user-identifier-key",
        "user-1",
    ]);
    assert_eq!(by_user.as_array().unwrap().len(), 1);
    let two = format!(
        "{},{}",
        og["access_code_id"].as_str().unwrap(),
        tb["access_code_id"].as_str().unwrap()
    );
    let by_ids = env.json(&["list", "--access-code-id", &two]);
    assert_eq!(by_ids.as_array().unwrap().len(), 2);
    assert_eq!(by_ids[0]["access_code_id"], tb["access_code_id"]);

    // get
    let got = env.json(&[
        "get",
        "--access-code-id",
        tb["access_code_id"].as_str().unwrap(),
    ]);
    assert_eq!(got, tb);

    // delete: time-bound codes keep their variance, ongoing yields its revocation PIN.
    let d = env.json(&[
        "delete",
        "--access-code-id",
        tb["access_code_id"].as_str().unwrap(),
    ]);
    assert_eq!(d["deleted"], true);
    assert_eq!(d["revocation_code"], Value::Null);
    let d = env.json(&[
        "delete",
        "--access-code-id",
        og["access_code_id"].as_str().unwrap(),
    ]);
    assert_eq!(d["revoked_slot"], 0);
    let revoke = d["revocation_code"].as_str().unwrap();
    assert_eq!(revoke.len(), 10);
    fails(
        &env,
        &[
            "get",
            "--access-code-id",
            tb["access_code_id"].as_str().unwrap(),
        ],
        1,
        "not found",
    );
    // The revoked slot is never reused.
    let og2 = env.json(&["issue", "--device-id", DEVICE, "--ongoing"]);
    assert_ne!(og2["code"], og["code"]);

    // device list / key
    let devices = env.json(&["device", "list"]);
    assert_eq!(devices[0]["device_id"], DEVICE);
    assert_eq!(devices[0]["utc_offset"], "+01:00");
    let out = env
        .cmd(&["device", "key", "--device-id", DEVICE])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim().len(), 32);
}

#[test]
fn variances_run_out_with_the_igloohome_error() {
    let env = Env::new();
    let (s, e) = ("2025-06-01T10:00:00Z", "2025-06-01T14:00:00Z");
    let codes: Vec<Value> = (0..3)
        .map(|_| env.issue_time_bound(s, e)["code"].clone())
        .collect();
    assert!(codes[0] != codes[1] && codes[1] != codes[2] && codes[0] != codes[2]);
    fails(
        &env,
        &[
            "issue",
            "--device-id",
            DEVICE,
            "--starts-at",
            s,
            "--ends-at",
            e,
        ],
        1,
        "igloohome_offline_access_code_no_variance_available",
    );
}

#[test]
fn bad_inputs_are_one_clear_line() {
    let env = Env::new();
    let tb = |s: &str, e: &str| {
        vec![
            "issue",
            "--device-id",
            DEVICE,
            "--starts-at",
            s,
            "--ends-at",
            e,
        ]
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<String>>()
    };
    let run = |args: Vec<String>, code: i32, needle: &str| {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        fails(&env, &refs, code, needle);
    };
    // Unknown device.
    fails(
        &env,
        &["issue", "--device-id", "back-door", "--ongoing"],
        1,
        "unknown device 'back-door'",
    );
    // Malformed times (usage errors: exit 2).
    run(
        tb("2025-01-01 16:00", "2025-01-02T16:00:00Z"),
        2,
        "RFC 3339",
    );
    run(tb("2025-01-01T16:00:00Z", "tomorrow"), 2, "RFC 3339");
    fails(
        &env,
        &[
            "verify",
            "--device-id",
            DEVICE,
            "--pin",
            "1234567890",
            "--at",
            "noon",
        ],
        2,
        "RFC 3339",
    );
    // End before start.
    run(
        tb("2025-01-02T16:00:00Z", "2025-01-01T16:00:00Z"),
        1,
        "after",
    );
    // Too long, before the epoch.
    run(
        tb("2025-01-01T00:00:00Z", "2026-06-01T00:00:00Z"),
        1,
        "at most",
    );
    run(
        tb("2020-01-01T00:00:00Z", "2020-01-02T00:00:00Z"),
        1,
        "epoch",
    );
    // Bad rounding and offsets.
    fails(
        &env,
        &[
            "issue",
            "--device-id",
            DEVICE,
            "--ongoing",
            "--max-time-rounding",
            "soon",
        ],
        2,
        "rounding",
    );
    fails(
        &env,
        &[
            "device",
            "add",
            "--device-id",
            "x",
            "--utc-offset",
            "+15:00",
        ],
        2,
        "outside",
    );
    fails(
        &env,
        &["device", "add", "--device-id", "x", "--profile", "huge-99"],
        1,
        "unknown profile",
    );
    fails(
        &env,
        &[
            "device",
            "add",
            "--device-id",
            DEVICE,
            "--profile",
            "compact-8",
        ],
        1,
        "already registered",
    );
    // Conflicting and missing flags.
    fails(
        &env,
        &[
            "issue",
            "--device-id",
            DEVICE,
            "--ongoing",
            "--starts-at",
            "2025-01-01T00:00:00Z",
        ],
        2,
        "cannot be used",
    );
    fails(&env, &["issue", "--device-id", DEVICE], 2, "required");
    // Missing filters.
    fails(
        &env,
        &["list"],
        1,
        "at least a device_id or access_code_ids",
    );
    fails(
        &env,
        &["list", "--user-identifier-key", "u"],
        1,
        "at least a device_id or access_code_ids",
    );
    // Not found.
    fails(
        &env,
        &[
            "get",
            "--access-code-id",
            "00000000-0000-0000-0000-000000000000",
        ],
        1,
        "not found",
    );
    fails(
        &env,
        &["delete", "--access-code-id", "nope"],
        1,
        "not found",
    );
    // Unknown subcommand / flag.
    fails(&env, &["frobnicate"], 2, "unrecognized subcommand");
    fails(&env, &["list", "--colour"], 2, "unexpected argument");
    // Bad PINs for inspect.
    fails(
        &env,
        &["inspect", "--device-id", DEVICE, "--pin", "12ab"],
        1,
        "--pin",
    );
    // Report of an unknown profile.
    fails(&env, &["report", "--profile", "nope"], 1, "unknown profile");
}

#[test]
fn corrupted_key_file_and_unreadable_ledger() {
    let env = Env::new();
    std::fs::write(env.path("bad.key"), "not hex at all\n").unwrap();
    fails(
        &env,
        &[
            "--master-key",
            "bad.key",
            "issue",
            "--device-id",
            DEVICE,
            "--ongoing",
        ],
        1,
        "corrupted",
    );
    std::fs::write(env.path("short.key"), "abcd\n").unwrap();
    fails(
        &env,
        &[
            "--master-key",
            "short.key",
            "issue",
            "--device-id",
            DEVICE,
            "--ongoing",
        ],
        1,
        "corrupted",
    );
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
        "cannot read master key file",
    );
    // A ledger file that is not a database.
    std::fs::write(env.path("junk.db"), vec![0x5a; 4096]).unwrap();
    fails(
        &env,
        &["--ledger", "junk.db", "list", "--device-id", DEVICE],
        1,
        "junk.db",
    );
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
        "junk.db",
    );
    // A ledger that does not exist is not created by read commands.
    fails(
        &env,
        &["--ledger", "missing.db", "list", "--device-id", DEVICE],
        1,
        "no such ledger",
    );
    assert!(!env.path("missing.db").exists());
    // A directory where the ledger should be.
    std::fs::create_dir(env.path("dir.db")).unwrap();
    fails(&env, &["--ledger", "dir.db", "device", "list"], 1, "dir.db");
}

#[test]
fn restart_persistence() {
    let env = Env::new();
    let a = env.issue_time_bound("2025-06-01T10:00:00Z", "2025-06-01T14:00:00Z");
    // Each command is a new process: the ledger is re-opened every time.
    let listed = env.json(&["list", "--device-id", DEVICE]);
    assert_eq!(listed[0], a);
    let b = env.issue_time_bound("2025-06-01T10:00:00Z", "2025-06-01T14:00:00Z");
    assert_ne!(a["code"], b["code"]);
    // The environment variable names the same ledger.
    let out = env
        .cmd(&[
            "get",
            "--access-code-id",
            a["access_code_id"].as_str().unwrap(),
        ])
        .env("OFFPIN_LEDGER", env.path("offpin.db"))
        .output()
        .unwrap();
    assert!(out.status.success());
}

#[test]
fn concurrent_issuers_get_distinct_variances() {
    let env = Env::new();
    let key = env.path("offpin.key");
    let ledger = env.path("offpin.db");
    // 7 processes race for one window of standard-10 (3 variances).
    let children: Vec<_> = (0..7)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_offpin"))
                .args(["--ledger"])
                .arg(&ledger)
                .arg("--master-key")
                .arg(&key)
                .args([
                    "issue",
                    "--device-id",
                    DEVICE,
                    "--starts-at",
                    "2025-08-01T10:00:00Z",
                    "--ends-at",
                    "2025-08-01T12:00:00Z",
                ])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
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
            assert!(
                codes.insert(v["code"].as_str().unwrap().to_owned()),
                "duplicate PIN"
            );
        } else {
            let line = one_error_line(&out, 1);
            assert!(line.contains("no_variance_available"), "{line}");
            exhausted += 1;
        }
    }
    assert_eq!(codes.len(), 3);
    assert_eq!(exhausted, 4);
    let listed = env.json(&["list", "--device-id", DEVICE]);
    let stored: std::collections::BTreeSet<String> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(stored, codes);
}

#[test]
fn batch_issue_from_csv() {
    let env = Env::new();
    let csv = "device_id,type,starts_at,ends_at,name,user_identifier_key\n\
        front-door,time_bound,2025-09-01T15:00:00+01:00,2025-09-04T11:00:00+01:00,Ann,u-ann\n\
        front-door,one_time,2025-09-02T10:00:00Z,,Bob,u-bob\n\
        front-door,ongoing,,,Cleaner,\n\
        ,time_bound,2025-09-01T15:00:00+01:00,2025-09-04T11:00:00+01:00,Dan,\n";
    std::fs::write(env.path("bookings.csv"), csv).unwrap();
    let out = env.json(&["issue", "--from", "bookings.csv", "--device-id", DEVICE]);
    let recs = out.as_array().unwrap();
    assert_eq!(recs.len(), 4);
    assert_eq!(recs[0]["name"], "Ann");
    assert_eq!(recs[1]["is_one_time_use"], true);
    assert_eq!(recs[2]["type"], "ongoing");
    assert_ne!(recs[0]["code"], recs[3]["code"]);
    let by_user = env.json(&[
        "list",
        "--device-id",
        DEVICE,
        "--user-identifier-key",
        "u-bob",
    ]);
    assert_eq!(by_user[0]["name"], "Bob");

    // A malformed row stops the batch before anything is issued.
    let bad = "device_id,starts_at,ends_at\nfront-door,2025-10-01T10:00:00Z,2025-10-01T12:00:00Z\nfront-door,someday,2025-10-01T12:00:00Z\n";
    std::fs::write(env.path("bad.csv"), bad).unwrap();
    fails(
        &env,
        &["issue", "--from", "bad.csv"],
        1,
        "bad.csv line 3: starts_at",
    );
    assert_eq!(
        env.json(&["list", "--device-id", DEVICE])
            .as_array()
            .unwrap()
            .len(),
        4
    );
    fails(&env, &["issue", "--from", "nowhere.csv"], 1, "nowhere.csv");

    // Exhausted windows are reported per row; the rest is issued.
    let many: String = std::iter::once("device_id,starts_at,ends_at\n".to_owned())
        .chain((0..25).map(|i| {
            let (s, e) = if i < 4 {
                (
                    "2025-11-01T10:00:00Z".to_owned(),
                    "2025-11-01T12:00:00Z".to_owned(),
                )
            } else {
                (
                    format!("2025-11-{:02}T10:00:00Z", i),
                    format!("2025-11-{:02}T12:00:00Z", i),
                )
            };
            format!("front-door,{s},{e}\n")
        }))
        .collect();
    std::fs::write(env.path("many.csv"), many).unwrap();
    let out = env.cmd(&["issue", "--from", "many.csv"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("many.csv line 5: igloohome_offline_access_code_no_variance_available"),
        "{stderr}"
    );
    assert!(
        stderr
            .lines()
            .last()
            .unwrap()
            .contains("1 of 25 bookings were not issued")
    );
    let recs: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(recs.as_array().unwrap().len(), 24);
}

#[test]
fn report_prints_the_security_table() {
    let env = Env::bare();
    env.cmd(&["report"])
        .assert()
        .success()
        .stdout(predicate::str::contains("standard-10"))
        .stdout(predicate::str::contains("keypad9-11"))
        .stdout(predicate::str::contains("tuya (ref.)"))
        .stdout(predicate::str::contains("240000"));
    let out = env
        .cmd(&["report", "--profile", "compact-8"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("compact-8") && !text.contains("secure-12"));
}

#[test]
fn inspect_explains_a_pin() {
    let env = Env::new();
    let tb = env.issue_time_bound("2025-06-01T10:00:00Z", "2025-06-03T10:00:00Z");
    let pin = tb["code"].as_str().unwrap();
    let run = |at: &str| {
        let out = env
            .cmd(&["inspect", "--device-id", DEVICE, "--pin", pin, "--at", at])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let text = run("2025-06-01T11:00:00Z");
    assert!(text.contains("time-bound (hourly)"), "{text}");
    assert!(
        text.contains("2025-06-01T10:00:00.000Z .. 2025-06-03T10:00:00.000Z"),
        "{text}"
    );
    assert!(text.contains("variance:  0"), "{text}");
    assert!(
        text.contains(tb["access_code_id"].as_str().unwrap()),
        "{text}"
    );
    assert!(text.contains("valid: opens"), "{text}");
    assert!(run("2025-05-31T09:00:00Z").contains("not started yet (starts in 1 d 1 h)"));
    assert!(run("2025-06-04T10:00:00Z").contains("refused: the code's window has ended"));
    assert!(run("2025-06-02T12:00:00Z").contains("only if it was already used"));
    // A PIN of no grant of this device.
    let mut wrong: Vec<u8> = pin.bytes().collect();
    wrong[9] = if wrong[9] == b'0' { b'1' } else { b'0' };
    let wrong = String::from_utf8(wrong).unwrap();
    let out = env
        .cmd(&[
            "inspect",
            "--device-id",
            DEVICE,
            "--pin",
            &wrong,
            "--at",
            "2025-06-01T11:00:00Z",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("not a code of this device") || text.contains("grant:"),
        "{text}"
    );
}

#[test]
fn verify_simulates_the_lock_across_runs() {
    let env = Env::new();
    let ot = env.json(&[
        "issue",
        "--device-id",
        DEVICE,
        "--one-time",
        "--starts-at",
        "2025-06-01T10:00:00+01:00",
    ]);
    let pin = ot["code"].as_str().unwrap();
    let verify = |pin: &str, at: &str| {
        let out = env
            .cmd(&["verify", "--device-id", DEVICE, "--pin", pin, "--at", at])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let first = verify(pin, "2025-06-01T10:30:00+01:00");
    assert!(first.contains("decision: open"), "{first}");
    let second = verify(pin, "2025-06-01T10:31:00+01:00");
    assert!(second.contains("decision: refused"), "{second}");
    assert!(second.contains("already used"), "{second}");
    // The state file is the lock's binary image (Lock::<64>::STATE_LEN).
    let image = std::fs::read(env.path("offpin.db.lock-front-door.state")).unwrap();
    assert_eq!(image.len(), STATE_LEN_64);
    assert_eq!(&image[..3], b"OPL");
    // Not yet valid / expired time-bound code, a wrong PIN.
    let tb = env.issue_time_bound("2025-06-05T10:00:00Z", "2025-06-05T14:00:00Z");
    let tpin = tb["code"].as_str().unwrap();
    assert!(verify(tpin, "2025-06-05T08:00:00Z").contains("not started yet"));
    assert!(verify(tpin, "2025-06-05T11:00:00Z").contains("decision: open"));
    assert!(verify(tpin, "2025-06-05T15:00:00Z").contains("has ended"));
    // Ongoing: open, revoke with the deletion's PIN, then refused for good.
    let og = env.json(&["issue", "--device-id", DEVICE, "--ongoing"]);
    let opin = og["code"].as_str().unwrap();
    assert!(verify(opin, "2025-06-06T09:00:00Z").contains("decision: open"));
    let d = env.json(&[
        "delete",
        "--access-code-id",
        og["access_code_id"].as_str().unwrap(),
    ]);
    let r = verify(
        d["revocation_code"].as_str().unwrap(),
        "2025-06-06T09:10:00Z",
    );
    assert!(r.contains("decision: revocation"), "{r}");
    let after = verify(opin, "2025-06-06T09:20:00Z");
    assert!(after.contains("revoked"), "{after}");
    // A separate state file is a separate (fresh) lock.
    let out = env
        .cmd(&[
            "verify",
            "--device-id",
            DEVICE,
            "--pin",
            pin,
            "--at",
            "2025-06-01T10:32:00+01:00",
            "--state",
            "other.state",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("decision: open"));
    // Bad inputs.
    std::fs::write(env.path("offpin.db.lock-front-door.state"), b"\x00garbage").unwrap();
    fails(
        &env,
        &[
            "verify",
            "--device-id",
            DEVICE,
            "--pin",
            pin,
            "--at",
            "2025-06-01T10:40:00Z",
        ],
        1,
        "lock state",
    );
    fails(
        &env,
        &["verify", "--device-id", "ghost", "--pin", pin],
        1,
        "unknown device 'ghost'",
    );
}

#[test]
fn demo_is_a_guided_run() {
    let env = Env::bare();
    let out = env.cmd(&["demo"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "Issuing codes",
        "igloohome_offline_access_code_no_variance_available",
        "plumber, again",
        "already used",
        "revocation PIN",
        "the code was revoked",
        "1271-byte state and reloaded it",
        "locked out until",
        "Ann, while locked out",
        "the keypad is locked after too many wrong PINs",
        "nothing written",
        "Ann, after the lock-out",
        "W_max",
    ] {
        assert!(
            text.contains(needle),
            "demo output lacks {needle:?}:\n{text}"
        );
    }
    // It cleans up after itself and leaves the working directory alone.
    assert_eq!(std::fs::read_dir(env.dir.path()).unwrap().count(), 0);
}

impl Env {
    /// `offpin verify` of `pin` at `at`, which must succeed; its stdout.
    fn verify(&self, pin: &str, at: &str) -> String {
        self.verify_with(&[], pin, at)
    }

    fn verify_with(&self, extra: &[&str], pin: &str, at: &str) -> String {
        let mut args = vec!["verify", "--device-id", DEVICE, "--pin", pin, "--at", at];
        args.extend_from_slice(extra);
        let out = self.cmd(&args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn ongoing(&self) -> Value {
        self.json(&["issue", "--device-id", DEVICE, "--ongoing"])
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

/// The value of `key:` in `verify`'s output.
fn field<'a>(text: &'a str, key: &str) -> &'a str {
    let prefix = format!("{key}:");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or_else(|| panic!("no {key}: in {text}"), str::trim)
}

#[test]
fn verify_locks_the_keypad_out_across_runs() {
    let env = Env::new();
    let og = env.ongoing();
    let pin = og["code"].as_str().unwrap();
    // Five wrong entries, one process each: the count lives in the state file.
    let wrong = ["12345", "000", "abcdefghij", "99999999999", "1"];
    for (i, w) in wrong.iter().enumerate() {
        let out = env.verify(w, &format!("2025-06-01T10:00:0{i}Z"));
        assert_eq!(field(&out, "decision"), "refused", "{out}");
        assert_eq!(field(&out, "reason"), "the PIN is not valid for this lock");
        assert!(!out.contains("grant:"), "{out}");
        if i < 4 {
            let n = i + 1;
            let entries = if n == 1 { "entry" } else { "entries" };
            assert_eq!(
                field(&out, "lockout"),
                format!("{n} failed {entries} in a row (the keypad locks at 5)")
            );
        } else {
            assert_eq!(
                field(&out, "lockout"),
                "locked out until 2025-06-01T10:05:04.000Z (after 5 failed entries in a row)"
            );
        }
    }
    // A valid code is refused while locked out, unseen: nothing is written.
    let before = std::fs::read(env.path(STATE)).unwrap();
    let out = env.verify(pin, "2025-06-01T10:03:00Z");
    assert_eq!(field(&out, "decision"), "refused", "{out}");
    assert_eq!(
        field(&out, "reason"),
        "the keypad is locked after too many wrong PINs"
    );
    assert!(field(&out, "lockout").starts_with("locked out until 2025-06-01T10:05:04"));
    assert!(field(&out, "state").contains("nothing written"), "{out}");
    assert_eq!(std::fs::read(env.path(STATE)).unwrap(), before);
    // Once the lock-out is over, the code opens and the count resets.
    let out = env.verify(pin, "2025-06-01T10:05:04Z");
    assert_eq!(field(&out, "decision"), "open", "{out}");
    assert_eq!(field(&out, "grant"), "ongoing code: slot 0");
    assert_eq!(field(&out, "lockout"), "no failed entries");
    assert!(
        field(&out, "state").contains("1271 bytes, sequence 6"),
        "{out}"
    );
    // A fresh state file is a fresh lock: not locked out.
    let out = env.verify_with(&["--state", "other.state"], "1", "2025-06-01T10:00:05Z");
    assert_eq!(
        field(&out, "lockout"),
        "1 failed entry in a row (the keypad locks at 5)"
    );
}

#[test]
fn concurrent_verify_runs_open_a_one_time_code_once() {
    let env = Env::new();
    let ot = env.json(&[
        "issue",
        "--device-id",
        DEVICE,
        "--one-time",
        "--starts-at",
        "2025-06-01T10:00:00Z",
    ]);
    let pin = ot["code"].as_str().unwrap().to_owned();
    // Sixteen people type the same one-time code at the same instant, each in
    // its own process on the same state file.
    let children: Vec<_> = (0..16)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_offpin"))
                .current_dir(env.dir.path())
                .env_remove("OFFPIN_LEDGER")
                .env_remove("OFFPIN_MASTER_KEY")
                .args([
                    "verify",
                    "--device-id",
                    DEVICE,
                    "--pin",
                    &pin,
                    "--at",
                    "2025-06-01T12:00:00Z",
                ])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let decisions: Vec<String> = children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            assert!(out.status.success());
            field(&String::from_utf8_lossy(&out.stdout), "decision").to_owned()
        })
        .collect();
    let opened = decisions.iter().filter(|d| *d == "open").count();
    assert_eq!(opened, 1, "{decisions:?}");
    assert_eq!(
        decisions.iter().filter(|d| *d == "refused").count(),
        15,
        "{decisions:?}"
    );
}

#[test]
fn verify_one_time_code_is_refused_the_second_time_across_runs() {
    let env = Env::new();
    let ot = env.json(&[
        "issue",
        "--device-id",
        DEVICE,
        "--one-time",
        "--starts-at",
        "2025-06-01T10:00:00Z",
    ]);
    let pin = ot["code"].as_str().unwrap();
    let first = env.verify(pin, "2025-06-01T12:00:00Z");
    assert_eq!(field(&first, "decision"), "open", "{first}");
    assert_eq!(field(&first, "reason"), "the code is valid");
    assert!(
        field(&first, "grant").starts_with("one-time code: hour"),
        "{first}"
    );
    assert_eq!(
        field(&first, "memory"),
        "remembered as used until 2025-06-02T11:00:00.000Z; 63 of 64 slots free"
    );
    // Later, still within its use window, in another process.
    let second = env.verify(pin, "2025-06-02T09:00:00Z");
    assert_eq!(field(&second, "decision"), "refused", "{second}");
    assert_eq!(
        field(&second, "reason"),
        "the one-time code was already used"
    );
    assert_eq!(field(&second, "grant"), field(&first, "grant"));
    assert!(field(&second, "memory").starts_with("remembered as used until"));
    assert_eq!(
        field(&second, "lockout"),
        "1 failed entry in a row (the keypad locks at 5)"
    );
    // And after its window, it is refused as expired.
    let third = env.verify(pin, "2025-06-02T11:00:00Z");
    assert_eq!(field(&third, "reason"), "the code's window has ended");
    assert_eq!(field(&third, "memory"), "64 of 64 slots free");
}

#[test]
fn verify_revocation_pin_then_the_ongoing_code_is_refused() {
    let env = Env::new();
    let og = env.ongoing();
    let other = env.ongoing();
    let pin = og["code"].as_str().unwrap();
    assert_eq!(
        field(&env.verify(pin, "2025-06-06T09:00:00Z"), "decision"),
        "open"
    );
    let d = env.json(&[
        "delete",
        "--access-code-id",
        og["access_code_id"].as_str().unwrap(),
    ]);
    let revoke = d["revocation_code"].as_str().unwrap();
    let r = env.verify(revoke, "2025-06-06T09:10:00Z");
    assert_eq!(field(&r, "decision"), "revocation", "{r}");
    assert_eq!(field(&r, "reason"), "ongoing slot 0 is revoked for good");
    assert_eq!(field(&r, "grant"), "revocation of ongoing slot 0");
    // A revocation neither counts as a failure nor resets the count.
    assert_eq!(field(&r, "lockout"), "no failed entries");
    for at in ["2025-06-06T09:20:00Z", "2026-01-01T00:00:00Z"] {
        let after = env.verify(pin, at);
        assert_eq!(field(&after, "decision"), "refused", "{after}");
        assert_eq!(field(&after, "reason"), "the code was revoked");
        assert_eq!(field(&after, "grant"), "ongoing code: slot 0");
    }
    // Typing the revocation again changes nothing; slot 1 still opens.
    let again = env.verify(revoke, "2026-01-01T00:01:00Z");
    assert_eq!(field(&again, "decision"), "revocation");
    let o = env.verify(other["code"].as_str().unwrap(), "2026-01-01T00:02:00Z");
    assert_eq!(field(&o, "decision"), "open", "{o}");
    assert_eq!(field(&o, "grant"), "ongoing code: slot 1");
}

#[test]
fn verify_refuses_time_dependent_codes_when_the_clock_is_moved_back() {
    let env = Env::new();
    let tb = env.issue_time_bound("2025-06-05T10:00:00Z", "2025-06-05T14:00:00Z");
    let tpin = tb["code"].as_str().unwrap();
    let og = env.ongoing();
    let opin = og["code"].as_str().unwrap();
    let out = env.verify(tpin, "2025-06-05T13:00:00Z");
    assert_eq!(field(&out, "decision"), "open", "{out}");
    assert!(!out.contains("clock:"), "{out}");
    // Back by more than the 10-minute grace: refused, and reported.
    let back = env.verify(tpin, "2025-06-05T11:00:00Z");
    assert_eq!(field(&back, "decision"), "refused", "{back}");
    assert_eq!(
        field(&back, "reason"),
        "the lock's clock is behind a time it has already seen; set the clock"
    );
    assert!(
        field(&back, "clock").starts_with("rolled back: 2 h behind 2025-06-05T13:00:00.000Z"),
        "{back}"
    );
    assert_eq!(
        field(&back, "lockout"),
        "1 failed entry in a row (the keypad locks at 5)"
    );
    // Ongoing codes do not depend on time: the owner still gets in.
    let o = env.verify(opin, "2025-06-05T11:01:00Z");
    assert_eq!(field(&o, "decision"), "open", "{o}");
    assert!(field(&o, "clock").starts_with("rolled back"), "{o}");
    // Behind by less than the grace is drift: held at the highest time seen.
    let drift = env.verify(tpin, "2025-06-05T12:55:00Z");
    assert_eq!(field(&drift, "decision"), "open", "{drift}");
    assert!(!drift.contains("clock:"), "{drift}");
    // The lock's time never ran back: the window it saw is still judged at 13:00.
    let set_right = env.verify(tpin, "2025-06-05T13:30:00Z");
    assert_eq!(field(&set_right, "decision"), "open", "{set_right}");
}

#[test]
fn verify_reports_a_damaged_state_file_and_leaves_it_alone() {
    let env = Env::new();
    env.cmd(&[
        "device",
        "add",
        "--device-id",
        "keypad",
        "--profile",
        "keypad9-11",
    ])
    .assert()
    .success();
    let og = env.ongoing();
    let pin = og["code"].as_str().unwrap();
    env.verify(pin, "2025-06-01T10:00:00Z");
    let good = std::fs::read(env.path(STATE)).unwrap();
    assert_eq!(good.len(), STATE_LEN_64);
    // An image of another profile with the same capacity (keypad9-11 also
    // remembers 64 codes).
    env.cmd(&[
        "verify",
        "--device-id",
        "keypad",
        "--pin",
        "123",
        "--at",
        "2025-06-01T10:00:00Z",
        "--state",
        "keypad.state",
    ])
    .assert()
    .success();
    let foreign = std::fs::read(env.path("keypad.state")).unwrap();
    assert_eq!(foreign.len(), STATE_LEN_64);
    let mut flipped = good.clone();
    flipped[700] ^= 0x10;
    let mut bad_magic = good.clone();
    bad_magic[0] = b'X';
    let cases: [(&str, Vec<u8>, &str); 6] = [
        (
            "truncated",
            good[..100].to_vec(),
            "a lock state image is 1271 bytes, 100 were given",
        ),
        ("flipped", flipped, "damaged (CRC)"),
        ("bad magic", bad_magic, "not a lock state image"),
        ("foreign", foreign, "belongs to another profile"),
        ("empty", Vec::new(), "lock state image"),
        ("json", b"{\"used\":[]}".to_vec(), "lock state image"),
    ];
    for (what, bytes, needle) in cases {
        std::fs::write(env.path(STATE), &bytes).unwrap();
        let files = env.files();
        let out = env
            .cmd(&[
                "verify",
                "--device-id",
                DEVICE,
                "--pin",
                pin,
                "--at",
                "2025-06-01T11:00:00Z",
            ])
            .output()
            .unwrap();
        let line = one_error_line(&out, 1);
        assert!(line.contains(needle), "{what}: {line}");
        assert!(line.contains(STATE), "{what}: {line}");
        assert!(line.contains("left as it is"), "{what}: {line}");
        assert!(out.stdout.is_empty(), "{what}: printed a decision");
        assert_eq!(std::fs::read(env.path(STATE)).unwrap(), bytes, "{what}");
        assert_eq!(env.files(), files, "{what}: files changed");
    }
    // A directory where the state file should be.
    fails(
        &env,
        &[
            "verify",
            "--device-id",
            DEVICE,
            "--pin",
            pin,
            "--state",
            ".",
        ],
        1,
        "cannot read",
    );
    // Restored, the lock carries on from where it was.
    std::fs::write(env.path(STATE), &good).unwrap();
    let out = env.verify(pin, "2025-06-01T11:00:00Z");
    assert_eq!(field(&out, "decision"), "open", "{out}");
    assert!(field(&out, "state").contains("sequence 2"), "{out}");
}
