//! `offpin report`, `inspect` and `demo`, and output into a pipe closed
//! early.

use std::process::Stdio;

use serde_json::Value;

use crate::util::bin;
use crate::util::env::{DEVICE, Env, s};

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
                &format!("set -o pipefail; '{}' {cmd} | head -1", bin().display()),
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
    let mut child = env
        .cmd(&["inspect", "--device-id", DEVICE, "--pin", &pin])
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
