//! Arbitrary bytes as the bookings CSV of `offpin issue --from`
//! (`offpin_cli::bookings::read_from`), against a ledger with a device in
//! UTC and one in `Europe/Paris` (local times resolved in its zone). The
//! first byte picks the options (a default device, the rounding, backfill).
//! Reading never panics and a refusal says something; an accepted file
//! has one request per data row, its rows' lines strictly increasing after
//! the header, every request for a known device with the options given, a
//! kind that agrees with its times, trimmed non-empty names, and distinct
//! idempotency keys; and the requests written back as a CSV (every column
//! explicit, times in RFC 3339) read back as the same requests.

#![no_main]

use std::collections::BTreeSet;

use chrono::SecondsFormat;
use libfuzzer_sys::fuzz_target;
use offpin_cli::bookings::{Batch, COLUMNS, read_from};
use offpin_ledger::ledger::memory::MemoryLedger;
use offpin_ledger::ledger::{CodeSpec, CodeWant, Device, Ledger};

const DEVICES: [&str; 2] = ["d1", "d2"];

fn ledger() -> MemoryLedger {
    let master = offpin::MasterKey::from_bytes([7; 32]);
    let mut ledger = MemoryLedger::new();
    ledger
        .add_device(&master, &Device::new("d1", "standard-10"))
        .expect("a device");
    ledger
        .add_device(
            &master,
            &Device::new("d2", "standard-10-v2").with_time_zone("Europe/Paris"),
        )
        .expect("a device");
    ledger
}

/// The requests as a CSV with every column, or `None` if a time has no
/// RFC 3339 form (a year outside 0000-9999).
fn write_back(specs: &[CodeSpec]) -> Option<Vec<u8>> {
    let time = |t: &chrono::DateTime<chrono::Utc>| {
        let s = t.to_rfc3339_opts(SecondsFormat::AutoSi, true);
        s.as_bytes().get(4).is_some_and(|b| *b == b'-').then_some(s)
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(COLUMNS).ok()?;
    for s in specs {
        let (start, end) = match s.want {
            CodeWant::TimeBound { starts_at, ends_at } => (time(&starts_at)?, time(&ends_at)?),
            CodeWant::OneTime { starts_at } => (time(&starts_at)?, String::new()),
            CodeWant::Ongoing => (String::new(), String::new()),
            // The CSV import has no columns for these kinds.
            CodeWant::Recurring { .. } | CodeWant::ClockSet { .. } => {
                panic!("a CSV row became a {} request", s.want.name())
            }
        };
        w.write_record([
            s.device_id.as_str(),
            s.want.name(),
            &start,
            &end,
            s.name.as_deref().unwrap_or_default(),
            s.user_identifier_key.as_deref().unwrap_or_default(),
            s.idempotency_key.as_deref().unwrap_or_default(),
        ])
        .ok()?;
    }
    w.into_inner().ok()
}

fn check(batch: &Batch, default: Option<&str>, rounding: u32, backfill: bool) {
    let specs = &batch.specs;
    assert!(!specs.is_empty());
    assert_eq!(specs.len(), batch.lines().len());
    assert!(batch.lines().first().is_some_and(|l| *l >= 2));
    assert!(
        batch.lines().windows(2).all(|w| w[0] < w[1]),
        "{:?}",
        batch.lines()
    );
    let mut keys = BTreeSet::new();
    for s in specs {
        assert!(DEVICES.contains(&s.device_id.as_str()), "{s:?}");
        assert_eq!(
            (s.max_rounding_secs, s.allow_backfill),
            (rounding, backfill)
        );
        for text in [&s.name, &s.user_identifier_key].into_iter().flatten() {
            assert!(!text.is_empty() && text.trim() == text, "{s:?}");
        }
        let key = s.idempotency_key.clone().expect("every request has a key");
        assert!(keys.insert(key), "a repeated key: {s:?}");
    }
    // An accepted file without a device column used the default device.
    if default.is_none() {
        assert!(specs.iter().all(|s| !s.device_id.is_empty()));
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, csv)) = data.split_first() else {
        return;
    };
    let default = (mode & 1 == 1).then_some("d1");
    let rounding = u32::from((mode >> 1) & 0x3f) * 300;
    let backfill = mode & 0x80 != 0;
    let mut ledger = ledger();
    let batch = match read_from(csv, "fuzz.csv", &mut ledger, default, rounding, backfill) {
        Ok(batch) => batch,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    check(&batch, default, rounding, backfill);
    if let Some(again) = write_back(&batch.specs) {
        let text = String::from_utf8_lossy(&again).into_owned();
        match read_from(
            &again[..],
            "again.csv",
            &mut ledger,
            default,
            rounding,
            backfill,
        ) {
            Ok(b) => assert_eq!(b.specs, batch.specs, "{text}"),
            Err(e) => panic!("written back, refused: {e}\n{text}"),
        }
    }
});
