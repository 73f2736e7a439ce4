//! The command's tests: `offpin` run in a temp directory of its own (an
//! `Env`, with the default ledger `offpin.db` and key `offpin.key`), and
//! the checks of what it prints.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;
use tempfile::TempDir;

use super::{command, stdout_of};

/// The device `Env::new` registers.
pub const DEVICE: &str = "front-door";
/// The default state file of `DEVICE`.
pub const STATE: &str = "offpin.db.lock-front-door.state";
/// `Lock::<64>::STATE_LEN`, the image of a standard-10 lock.
pub const IMAGE_LEN: usize = offpin::Lock::<64>::STATE_LEN;
/// A state file of `DEVICE`: magic, id length and bytes, generation, image.
pub const STATE_FILE_LEN: usize = 8 + 1 + DEVICE.len() + 4 + IMAGE_LEN;
/// The header of a CSV of bookings (`offpin issue --from`).
pub const HEADER: &str = "device_id,type,starts_at,ends_at,name,user_identifier_key\n";

/// A temp directory the command runs in.
pub struct Env {
    pub dir: TempDir,
}

impl Env {
    /// A temp dir with a master key and one registered device (UTC+1).
    pub fn new() -> Env {
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

    pub fn bare() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `offpin ARGS` in the directory, with neither variable set.
    pub fn cmd(&self, args: &[&str]) -> Command {
        command(self.dir.path(), args)
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// Runs a command that must succeed; its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        stdout_of(&mut self.cmd(args))
    }

    pub fn json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.ok(args)).unwrap()
    }

    pub fn issue(&self, extra: &[&str]) -> Value {
        let mut args = vec!["issue", "--device-id", DEVICE];
        args.extend_from_slice(extra);
        self.json(&args)
    }

    pub fn time_bound(&self, start: &str, end: &str) -> Value {
        self.issue(&["--starts-at", start, "--ends-at", end])
    }

    pub fn ongoing(&self) -> Value {
        self.issue(&["--ongoing"])
    }

    pub fn list(&self) -> Vec<Value> {
        self.json(&["list", "--device-id", DEVICE])
            .as_array()
            .unwrap()
            .clone()
    }

    pub fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path(name), text).unwrap();
    }

    /// `offpin verify` of `pin` at `at`; its stdout and exit code.
    pub fn verify_with(&self, extra: &[&str], pin: &str, at: &str) -> (String, i32) {
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

    pub fn verify(&self, pin: &str, at: &str) -> String {
        self.verify_with(&[], pin, at).0
    }

    /// The files in the working directory.
    pub fn files(&self) -> Vec<String> {
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
pub fn one_error_line(out: &Output, code: i32) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "stderr: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "not one line: {stderr:?}");
    assert!(!stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"));
    lines[0].to_owned()
}

/// Asserts that `args` fail with exit `code` and exactly the error line
/// `error: {line}`.
pub fn fails(env: &Env, args: &[&str], code: i32, line: &str) {
    let out = env.run(args);
    assert_eq!(
        one_error_line(&out, code),
        format!("error: {line}"),
        "{args:?}"
    );
    assert!(out.stdout.is_empty(), "{args:?} printed {:?}", out.stdout);
}

/// The value of `key:` in `verify`'s output.
pub fn field<'a>(text: &'a str, key: &str) -> &'a str {
    let prefix = format!("{key}:");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or_else(|| panic!("no {key}: in {text}"), str::trim)
}

pub fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

pub fn id(v: &Value) -> &str {
    s(&v["access_code_id"])
}
