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
    assert!(env.path("offpin.db.lock-front-door.state").exists());
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
