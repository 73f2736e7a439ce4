//! The ledger file: empty and foreign files, read-only ledgers,
//! restarts and concurrent issuers.

use std::process::{Output, Stdio};

use serde_json::Value;

use crate::util::bin;
use crate::util::env::{DEVICE, Env, fails, one_error_line, s};

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
    if !root {
        return env.run(args);
    }
    // A copy the unprivileged user can run wherever the checkout is.
    let copy = env.path("offpin-as-nobody");
    if !copy.exists() {
        std::fs::copy(bin(), &copy).unwrap();
    }
    std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&copy)
        .current_dir(env.dir.path())
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
            std::process::Command::new(bin())
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

/// A libpq `key=value` connection string is a PostgreSQL database, not an
/// SQLite path, and no error repeats its password (nor any URL's).
#[test]
fn a_key_value_connection_string_is_postgres_and_its_password_is_never_printed() {
    let env = Env::new();
    // Port 1 on the loopback: the connection is refused.
    for ledger in [
        "host=127.0.0.1 port=1 user=offpin password=s3cret dbname=fleet",
        "postgres://offpin:s3cret@127.0.0.1:1/fleet?password=s3cret",
    ] {
        for args in [
            vec!["--ledger", ledger, "list", "--device-id", DEVICE],
            vec![
                "--ledger",
                ledger,
                "device",
                "add",
                "--device-id",
                DEVICE,
                "--utc-offset",
                "Z",
            ],
        ] {
            let line = one_error_line(&env.run(&args), 1);
            assert!(
                line.starts_with(
                    "error: ledger storage: postgres postgres://offpin@127.0.0.1:1/fleet: "
                ),
                "{line}"
            );
            assert!(!line.contains("s3cret"), "{line}");
        }
    }
    // Nothing was taken for a file.
    assert!(
        env.files().iter().all(|f| !f.contains("host=")),
        "{:?}",
        env.files()
    );
}
