//! Help for every subcommand, and the master key: `keygen`, the key
//! file's name and contents, the ledger bound to the key of its first
//! device or code, and `device key`.

use crate::util::env::{DEVICE, Env, HEADER, fails, one_error_line, s};
use crate::util::fingerprint;

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
    let fp = fingerprint(&env.path("offpin.key"));
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

#[test]
fn another_master_key_is_refused_naming_both_fingerprints() {
    let env = Env::new();
    env.ongoing();
    env.ok(&["--master-key", "other.key", "keygen"]);
    let (ours, other) = (
        fingerprint(&env.path("offpin.key")),
        fingerprint(&env.path("other.key")),
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
        fingerprint(&env.path("offpin.key")),
        fingerprint(&env.path("other.key")),
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
    use offpin_ledger::ledger::{Device, DeviceEntry, Ledger, sqlite::SqliteLedger};
    let env = Env::bare();
    env.ok(&["keygen"]);
    env.ok(&["--master-key", "other.key", "keygen"]);
    let (ours, other) = (
        fingerprint(&env.path("offpin.key")),
        fingerprint(&env.path("other.key")),
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
