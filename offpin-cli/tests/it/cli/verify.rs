//! `offpin verify`, the lock simulated across runs: its exit codes, its
//! state file (one per device, checked, never overwritten when damaged),
//! the keypad lock-out, one-time codes, revocations, a clock moved back.

use std::process::Stdio;

use serde_json::Value;

use crate::util::env::{
    DEVICE, Env, IMAGE_LEN, STATE, STATE_FILE_LEN, fails, field, id, one_error_line, s,
};

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
            env.cmd(&[
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
