//! Devices on every backend: update and removal and what they do to the
//! codes; records computed at read time.

use super::*;

/// Device update and removal, and what they do to the codes.
pub(super) fn lifecycle<L: Ledger>(l: &mut L) {
    let m = master();
    let plus1 = UtcOffset::from_minutes(60).unwrap();
    l.add_device(
        &master(),
        &Device::new("lock-a", "standard-10").with_utc_offset(plus1),
    )
    .unwrap();
    let hourly = l.issue(&m, &window(), now()).unwrap().record;
    let daily = l
        .issue(
            &m,
            &CodeSpec::time_bound(
                "lock-a",
                t("2025-05-01T23:00:00Z"),
                t("2025-06-10T23:00:00Z"),
            ),
            now(),
        )
        .unwrap()
        .record;
    let ongoing = l
        .issue(&m, &CodeSpec::ongoing("lock-a"), now())
        .unwrap()
        .record;

    // A new offset moves the daily window, nothing else.
    let change = DeviceChange {
        utc_offset: Some(UtcOffset::from_minutes(120).unwrap()),
        ..DeviceChange::default()
    };
    let u = l.update_device(&m, "lock-a", &change, now()).unwrap();
    assert_eq!(u.affected.len(), 1);
    assert_eq!(u.affected[0].record.access_code_id, daily.access_code_id);
    let Consequence::WindowMoves { from, to } = u.affected[0].consequence else {
        panic!("{:?}", u.affected[0]);
    };
    assert_eq!(from.start - to.start, 3_600);
    let moved = l.get(&daily.access_code_id, now()).unwrap();
    assert_eq!(
        warning_codes(&moved),
        [MUST_BE_USED_WITHIN_24_HOURS, WINDOW_MOVED]
    );
    assert_eq!(moved.starts_at, Some(t("2025-05-01T22:00:00Z")));

    // Re-keying: every code that may open stops opening.
    let bump = DeviceChange {
        generation: Some(1),
        ..DeviceChange::default()
    };
    let u = l.update_device(&m, "lock-a", &bump, now()).unwrap();
    let ids: Vec<&str> = u
        .affected
        .iter()
        .map(|a| a.record.access_code_id.as_str())
        .collect();
    assert_eq!(
        ids,
        [
            &hourly.access_code_id,
            &daily.access_code_id,
            &ongoing.access_code_id
        ]
    );
    assert!(
        u.affected
            .iter()
            .all(|a| a.consequence == Consequence::StopsOpening)
    );
    let old = l.get(&hourly.access_code_id, now()).unwrap();
    assert_eq!(old.status, CodeStatus::Unset);
    assert_eq!(error_codes(&old), [KEY_GENERATION_CHANGED]);
    // A new generation gets fresh variances and slots, and other PINs.
    let fresh = l.issue(&m, &window(), now()).unwrap().record;
    assert_ne!(fresh.code, hourly.code);
    assert_eq!(
        codec(l, "lock-a")
            .decode_input(fresh.code.as_bytes())
            .unwrap()
            .variance(),
        0
    );
    // Going back, or changing nothing, is refused.
    assert!(matches!(
        l.update_device(
            &m,
            "lock-a",
            &DeviceChange {
                generation: Some(1),
                ..DeviceChange::default()
            },
            now()
        ),
        Err(LedgerError::GenerationNotHigher {
            current: 1,
            requested: 1,
            ..
        })
    ));
    assert!(matches!(
        l.update_device(&m, "lock-a", &DeviceChange::default(), now()),
        Err(LedgerError::NoChange { .. })
    ));

    // Removal: codes stay, marked; no issuing; re-adding continues the
    // allocation, so no PIN is handed out twice.
    let r = l.remove_device("lock-a", now()).unwrap();
    assert_eq!(
        r.affected.len(),
        1,
        "only the generation-1 code may still open"
    );
    assert!(matches!(
        l.issue(&m, &window(), now()),
        Err(LedgerError::DeviceRemoved { .. })
    ));
    assert!(l.devices().unwrap().is_empty());
    let listed = l.get(&fresh.access_code_id, now()).unwrap();
    assert_eq!(listed.status, CodeStatus::Unknown);
    assert_eq!(error_codes(&listed), [DEVICE_REMOVED]);
    let readd = Device::new("lock-a", "standard-10")
        .with_utc_offset(UtcOffset::from_minutes(120).unwrap())
        .with_generation(1);
    l.add_device(&master(), &readd).unwrap();
    let next = l.issue(&m, &window(), now()).unwrap().record;
    assert_ne!(next.code, fresh.code);
    assert_eq!(
        codec(l, "lock-a")
            .decode_input(next.code.as_bytes())
            .unwrap()
            .variance(),
        1
    );
}

/// Records say what the lock does at the time they are read.
pub(super) fn read_time<L: Ledger>(l: &mut L) {
    setup(l);
    let m = master();
    let r = l.issue(&m, &window(), now()).unwrap().record;
    let mut at = |s: &str| l_get(l, &r.access_code_id, t(s));
    fn l_get<L: Ledger>(
        l: &mut L,
        id: &str,
        at: DateTime<Utc>,
    ) -> offpin_ledger::record::AccessCode {
        l.get(id, at).unwrap()
    }
    let before = at("2025-04-02T00:00:00Z");
    assert_eq!(before.status, CodeStatus::Set);
    assert!(
        before.warnings[0]
            .message
            .contains("must be used for the first time")
    );
    let past_deadline = at("2025-05-02T16:00:00Z");
    assert_eq!(past_deadline.status, CodeStatus::Set);
    assert!(
        past_deadline.warnings[0].message.contains("has passed"),
        "{:?}",
        past_deadline.warnings
    );
    assert!(
        past_deadline.warnings[0]
            .message
            .contains("the server cannot know")
    );
    // Within the lock's grace after the end it still opens.
    assert_eq!(at("2025-05-03T11:05:00Z").status, CodeStatus::Set);
    let expired = at("2025-05-03T11:10:00Z");
    assert_eq!(expired.status, CodeStatus::Unset);
    assert_eq!(warning_codes(&expired), [WINDOW_ENDED]);
}
