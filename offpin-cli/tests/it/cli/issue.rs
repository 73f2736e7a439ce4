//! `offpin issue`: the window a code records, rounding, daily windows,
//! one-time and ongoing codes, spent variances, dead codes and backfills,
//! idempotency keys, local times in a device's time zone.

use serde_json::Value;

use crate::util::env::{DEVICE, Env, fails, id, one_error_line, s};

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
        "the lock cannot encode this window as given: fitting it to the lock's units moves an end by 20 min, but max_time_rounding allows 0 h (\"1h\" when not sent); send max_time_rounding: \"1h\" (the lock counts this window in whole hours), or start and end it on whole hours (--max-time-rounding 1h or 1d allows it)",
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

/// A spent window: the error names the window, its codes, when the first
/// stops opening and the nearest window with a free variance, with the
/// command that issues it; nothing is issued, the exit is 1, and the
/// command as printed issues the proposed window.
#[test]
fn variances_run_out_with_the_igloohome_error() {
    let env = Env::new();
    let (start, end) = ("2040-06-01T10:00:00Z", "2040-06-01T14:00:00Z");
    let held: Vec<Value> = (0..3).map(|_| env.time_bound(start, end)).collect();
    assert!(held[0]["code"] != held[1]["code"] && held[1]["code"] != held[2]["code"]);
    let ids: Vec<&str> = held.iter().map(id).collect();
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
        &format!(
            "igloohome_offline_access_code_no_variance_available on device 'front-door': all 3 variances of the hourly window 2040-06-01T10:00:00.000Z to 2040-06-01T14:00:00.000Z are taken (by access codes {}), and deleting a code does not free its variance (an offline PIN cannot be recalled). The first code holding one stops opening at 2040-06-01T14:00:00.000Z, when the window ends; even then no variance of this window is issued again. Each window that starts an hour earlier or later has 3 variances of its own: the nearest with one free is 2040-06-01T11:00:00.000Z to 2040-06-01T15:00:00.000Z (1 hour later); issue the code for it; or re-key the device (a new key generation), which makes every code issued before stop opening. (`offpin issue --device-id front-door --starts-at 2040-06-01T11:00:00Z --ends-at 2040-06-01T15:00:00Z` issues the code for it)",
            ids.join(", ")
        ),
    );
    assert_eq!(env.list().len(), 3, "the refused request stored nothing");
    let moved = env.ok(&[
        "issue",
        "--device-id",
        "front-door",
        "--starts-at",
        "2040-06-01T11:00:00Z",
        "--ends-at",
        "2040-06-01T15:00:00Z",
    ]);
    let moved: Value = serde_json::from_str(&moved).unwrap();
    assert_eq!(
        (s(&moved["starts_at"]), s(&moved["ends_at"])),
        ("2040-06-01T11:00:00.000Z", "2040-06-01T15:00:00.000Z")
    );
    // One-time codes: the proposal is the next start hour.
    let once = [
        "issue",
        "--device-id",
        DEVICE,
        "--one-time",
        "--starts-at",
        start,
    ];
    for _ in 0..3 {
        env.ok(&once);
    }
    let out = env.run(&once);
    let line = one_error_line(&out, 1);
    assert!(
        line.ends_with(
            "(`offpin issue --device-id front-door --one-time --starts-at 2040-06-01T11:00:00Z` issues the code for it)"
        ),
        "{line}"
    );
    assert_eq!(env.list().len(), 7);
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
