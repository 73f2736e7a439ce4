//! `offpin issue --from`: a CSV of bookings issued in one go, all or
//! nothing, its rows and columns checked, reruns answered with the codes
//! issued first, and an import killed midway.

use std::process::Stdio;

use serde_json::Value;

use crate::util::env::{DEVICE, Env, HEADER, fails, one_error_line, s};

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
    let mut child = env
        .cmd(&["issue", "--from", "big.csv", "--device-id", DEVICE])
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
