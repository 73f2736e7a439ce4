//! Issuing on every backend: allocation, listing and deletion, the
//! refusals that keep a code from lying, and all-or-nothing batches with
//! idempotency keys.

use super::*;

/// Allocation, listing and deletion, the same on every backend.
pub(super) fn exercise<L: Ledger>(l: &mut L) {
    setup(l);
    let m = master();
    let now = now();

    // Three variances of one window, then the error.
    let a = l
        .issue(&m, &window().with_user_identifier_key("guest-1"), now)
        .unwrap()
        .record;
    let b = l.issue(&m, &window(), now).unwrap().record;
    let c = l.issue(&m, &window(), now).unwrap().record;
    assert!(a.code != b.code && b.code != c.code && a.code != c.code);
    let err = l.issue(&m, &window(), now).unwrap_err();
    assert!(matches!(
        err,
        LedgerError::NoVarianceAvailable { variances: 3, .. }
    ));
    assert_eq!(
        err.code(),
        "igloohome_offline_access_code_no_variance_available"
    );
    // The message says what the operator can do; deleting is not it.
    let text = err.to_string();
    assert!(
        text.contains("deleting a code does not free its variance"),
        "{text}"
    );
    assert!(text.contains("an hour earlier or later"), "{text}");
    let codec_a = codec(l, "lock-a");
    let variances: Vec<u8> = [&a, &b, &c]
        .iter()
        .map(|r| codec_a.decode_input(r.code.as_bytes()).unwrap().variance())
        .collect();
    assert_eq!(variances, [0, 1, 2]);

    // Deleting never frees the variance, and the deleted code stays listed.
    let deleted = l.delete(&m, &b.access_code_id, now).unwrap();
    assert_eq!(deleted.revocation_code, None);
    assert_eq!(deleted.record.status, CodeStatus::Removing);
    assert_eq!(
        warning_codes(&deleted.record),
        [MUST_BE_USED_WITHIN_24_HOURS, DELETED_STILL_OPENS]
    );
    assert!(matches!(
        l.issue(&m, &window(), now),
        Err(LedgerError::NoVarianceAvailable { .. })
    ));
    // Deleting again answers the same.
    assert_eq!(
        l.delete(&m, &b.access_code_id, now).unwrap().record,
        deleted.record
    );

    // A different window or device starts again at variance 0.
    let other = l
        .issue(
            &m,
            &CodeSpec::one_time("lock-b", t("2025-05-01T15:00:00Z")),
            now,
        )
        .unwrap()
        .record;
    assert_eq!(
        codec(l, "lock-b")
            .decode_input(other.code.as_bytes())
            .unwrap()
            .variance(),
        0
    );

    // list: filters, the required filter, stable order, deleted included.
    assert!(matches!(
        l.list(&ListFilter::default(), now),
        Err(LedgerError::MissingFilter)
    ));
    let only_user = ListFilter {
        user_identifier_key: Some("guest-1".into()),
        ..ListFilter::default()
    };
    assert!(matches!(
        l.list(&only_user, now),
        Err(LedgerError::MissingFilter)
    ));
    let ids: Vec<String> = l
        .list(&ListFilter::device("lock-a"), now)
        .unwrap()
        .into_iter()
        .map(|r| r.access_code_id)
        .collect();
    assert_eq!(
        ids,
        [
            a.access_code_id.clone(),
            b.access_code_id.clone(),
            c.access_code_id.clone()
        ]
    );
    let by_user = l
        .list(
            &ListFilter {
                user_identifier_key: Some("guest-1".into()),
                ..ListFilter::device("lock-a")
            },
            now,
        )
        .unwrap();
    assert_eq!(by_user.len(), 1);
    assert_eq!(by_user[0].access_code_id, a.access_code_id);
    assert_eq!(by_user[0].user_identifier_key.as_deref(), Some("guest-1"));
    let by_ids = l
        .list(
            &ListFilter {
                access_code_ids: vec![other.access_code_id.clone(), c.access_code_id.clone()],
                ..ListFilter::default()
            },
            now,
        )
        .unwrap();
    let got: Vec<&str> = by_ids.iter().map(|r| r.access_code_id.as_str()).collect();
    assert_eq!(
        got,
        [c.access_code_id.as_str(), other.access_code_id.as_str()]
    );

    // get, and the not-found error.
    assert_eq!(l.get(&a.access_code_id, now).unwrap(), a);
    assert_eq!(l.get(&b.access_code_id, now).unwrap(), deleted.record);
    assert!(matches!(
        l.get("nope", now),
        Err(LedgerError::NotFound { .. })
    ));
    assert!(matches!(
        l.delete(&m, "nope", now),
        Err(LedgerError::NotFound { .. })
    ));

    // Ongoing: lowest free slot; delete yields the revocation PIN, which
    // get shows again, and retires the slot for good.
    let o0 = l
        .issue(&m, &CodeSpec::ongoing("lock-a"), now)
        .unwrap()
        .record;
    let o1 = l
        .issue(&m, &CodeSpec::ongoing("lock-a"), now)
        .unwrap()
        .record;
    assert_eq!(
        codec_a.decode_input(o0.code.as_bytes()).unwrap(),
        Grant::Ongoing { slot: 0 }
    );
    assert_eq!(
        codec_a.decode_input(o1.code.as_bytes()).unwrap(),
        Grant::Ongoing { slot: 1 }
    );
    let gone = l.delete(&m, &o0.access_code_id, now).unwrap();
    assert_eq!(gone.revoked_slot, Some(0));
    let revoke = gone.revocation_code.unwrap();
    assert_eq!(
        codec_a.decode_input(revoke.as_bytes()).unwrap(),
        Grant::Revoke(RevokeTarget::Slot(0))
    );
    let later = l
        .get(&o0.access_code_id, now + Duration::days(400))
        .unwrap();
    assert_eq!(later.status, CodeStatus::Removing);
    assert!(
        later.warnings[0].message.contains(&revoke),
        "{:?}",
        later.warnings
    );
    let o2 = l
        .issue(&m, &CodeSpec::ongoing("lock-a"), now)
        .unwrap()
        .record;
    assert_eq!(
        codec_a.decode_input(o2.code.as_bytes()).unwrap(),
        Grant::Ongoing { slot: 2 }
    );

    // Unknown device, bad window.
    assert!(matches!(
        l.issue(&m, &CodeSpec::ongoing("ghost"), now),
        Err(LedgerError::UnknownDevice { .. })
    ));
    let backwards = CodeSpec::time_bound(
        "lock-a",
        t("2025-05-03T00:00:00Z"),
        t("2025-05-01T00:00:00Z"),
    );
    assert!(matches!(
        l.issue(&m, &backwards, now),
        Err(LedgerError::Issue(offpin::IssueError::EndNotAfterStart))
    ));

    // Devices: idempotent registration, conflicts refused.
    l.add_device(&master(), &Device::new("lock-a", "standard-10"))
        .unwrap();
    assert!(matches!(
        l.add_device(&master(), &Device::new("lock-a", "compact-8")),
        Err(LedgerError::DeviceConflict { .. })
    ));
    assert!(matches!(
        l.add_device(&master(), &Device::new("", "compact-8")),
        Err(LedgerError::Key(_))
    ));
    assert!(matches!(
        l.add_device(
            &master(),
            &Device::new("x", "standard-10").with_time_zone("Mars/Olympus")
        ),
        Err(LedgerError::Zone(_))
    ));
    let names: Vec<String> = l
        .devices()
        .unwrap()
        .into_iter()
        .map(|d| d.device_id)
        .collect();
    assert_eq!(names, ["lock-a", "lock-b"]);
}

/// Every refusal that keeps a code from lying.
pub(super) fn refusals<L: Ledger>(l: &mut L) {
    setup(l);
    let m = master();
    // The ledger keeps the key its devices were registered with and
    // refuses another, naming both (more in `key_binding`).
    l.issue(&m, &window(), now()).unwrap();
    let other = MasterKey::from_bytes([1; 32]);
    let e = l.issue(&other, &window(), now()).unwrap_err();
    let LedgerError::MasterKeyMismatch { ledger, given } = e else {
        panic!("{e}");
    };
    assert_eq!((ledger, given), (m.fingerprint(), other.fingerprint()));
    let text = l.issue(&other, &window(), now()).unwrap_err().to_string();
    let hex = |f: [u8; 8]| offpin_ledger::ledger::fingerprint_hex(&f);
    assert!(
        text.contains(&hex(m.fingerprint())) && text.contains(&hex(other.fingerprint())),
        "{text}"
    );
    assert!(matches!(
        l.delete(&other, "x", now()),
        Err(LedgerError::MasterKeyMismatch { .. })
    ));
    assert_eq!(
        l.list(&ListFilter::device("lock-a"), now()).unwrap().len(),
        1
    );

    // Dead on arrival: issued 2026-12-01 for 2026-11-29 .. 2026-12-04
    // (must be used by 2026-11-30), and a window that ended.
    let issued_at = t("2026-12-01T12:00:00Z");
    let late = CodeSpec::time_bound(
        "lock-a",
        t("2026-11-29T15:00:00Z"),
        t("2026-12-04T11:00:00Z"),
    );
    let e = l.issue(&m, &late, issued_at).unwrap_err();
    assert!(
        matches!(e, LedgerError::ActivationDeadlinePassed { .. }),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("must be used by 2026-11-30T15:00:00.000Z"),
        "{e}"
    );
    let ended = CodeSpec::time_bound(
        "lock-a",
        t("2026-11-20T15:00:00Z"),
        t("2026-11-21T11:00:00Z"),
    );
    let e = l.issue(&m, &ended, issued_at).unwrap_err();
    assert!(matches!(e, LedgerError::WindowEnded { .. }), "{e}");
    assert!(
        e.to_string().contains("ended at 2026-11-21T11:00:00.000Z"),
        "{e}"
    );
    let one_time = CodeSpec::one_time("lock-a", t("2026-11-29T15:00:00Z"));
    assert!(matches!(
        l.issue(&m, &one_time, issued_at),
        Err(LedgerError::WindowEnded { .. })
    ));
    // Nothing was stored.
    assert_eq!(
        l.list(&ListFilter::device("lock-a"), issued_at)
            .unwrap()
            .len(),
        1
    );
    // A backfill records it, and the record says it cannot open.
    let r = l
        .issue(&m, &late.with_backfill(), issued_at)
        .unwrap()
        .record;
    assert_eq!(r.status, CodeStatus::Unset);
    assert_eq!(error_codes(&r), [CANNOT_OPEN]);
    assert!(r.errors[0].message.contains("2026-11-30T15:00:00.000Z"));
    // A window that has started but can still be activated is issued.
    let fresh = CodeSpec::time_bound(
        "lock-a",
        t("2026-12-01T09:00:00Z"),
        t("2026-12-04T11:00:00Z"),
    );
    let r = l.issue(&m, &fresh, issued_at).unwrap().record;
    assert_eq!(r.status, CodeStatus::Set);
}

/// Batches: all or nothing; retries return what was issued.
pub(super) fn batches<L: Ledger>(l: &mut L) {
    setup(l);
    let m = master();
    let rows: Vec<CodeSpec> = (0..21)
        .map(|i| {
            let start = t("2025-06-01T10:00:00Z") + Duration::days(i);
            CodeSpec::time_bound("lock-a", start, start + Duration::hours(2))
                .with_idempotency_key(&format!("booking-{i}"))
        })
        .collect();
    // A bad request in the middle: nothing of the batch is issued.
    let mut bad = rows.clone();
    bad[10] = CodeSpec::ongoing("ghost");
    let e = l.issue_batch(&m, &bad, now()).unwrap_err();
    let LedgerError::InBatch { index: 10, source } = &e else {
        panic!("{e}");
    };
    assert!(matches!(**source, LedgerError::UnknownDevice { .. }));
    // A request that fails only at allocation (its window's variances are
    // spent by the rows before it): rolled back too.
    let mut spent = rows.clone();
    for i in 0..4 {
        spent[16 + i] = rows[15].clone().with_idempotency_key(&format!("again-{i}"));
    }
    let e = l.issue_batch(&m, &spent, now()).unwrap_err();
    assert!(matches!(e, LedgerError::InBatch { index: 18, .. }), "{e}");
    assert!(
        l.list(&ListFilter::device("lock-a"), now())
            .unwrap()
            .is_empty()
    );

    let first = l.issue_batch(&m, &rows, now()).unwrap();
    assert_eq!(first.len(), 21);
    assert!(first.iter().all(|o| o.created));
    // The same batch again issues nothing and returns the same codes.
    let again = l.issue_batch(&m, &rows, now()).unwrap();
    assert!(again.iter().all(|o| !o.created));
    let codes = |v: &[offpin_ledger::ledger::IssueOutcome]| {
        v.iter().map(|o| o.record.code.clone()).collect::<Vec<_>>()
    };
    assert_eq!(codes(&first), codes(&again));
    assert_eq!(
        l.list(&ListFilter::device("lock-a"), now()).unwrap().len(),
        21
    );
    // The same key for another request is refused.
    let reused = window().with_idempotency_key("booking-3");
    assert!(matches!(
        l.issue(&m, &reused, now()),
        Err(LedgerError::IdempotencyConflict { .. })
    ));
}
