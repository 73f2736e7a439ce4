//! Concurrent writers on one shared ledger (SQLite, PostgreSQL): no
//! variance or slot handed out twice, nothing lost.

use super::*;

/// One racer's work in [`concurrent_writers`]: its number and its
/// connection in, its result out.
type Job<L, R> = std::sync::Arc<dyn Fn(usize, &mut L) -> R + Send + Sync>;

/// `n` racers, each on a connection of its own from `open`, released
/// together; their results.
pub(super) fn race<L: 'static, R: Send + 'static, F: Fn() -> L + Send + Sync + 'static>(
    open: &std::sync::Arc<F>,
    n: usize,
    job: Job<L, R>,
) -> Vec<R> {
    use std::sync::{Arc, Barrier};
    let barrier = Arc::new(Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let (open, barrier, job) = (Arc::clone(open), Arc::clone(&barrier), Arc::clone(&job));
            std::thread::spawn(move || {
                let mut l = open();
                barrier.wait();
                job(i, &mut l)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

/// Racers on connections `open` makes to one shared ledger: no variance
/// or ongoing slot handed out twice, nothing lost; one code per
/// idempotency key; the first registration's master key wins; a device compare-and-swap
/// has one winner; batches that cross each other's scopes all commit.
pub(super) fn concurrent_writers<L: Ledger + 'static, F: Fn() -> L + Send + Sync + 'static>(
    open: F,
) {
    use std::collections::BTreeSet;
    use std::sync::{Arc, Barrier};
    let open = Arc::new(open);
    // The first registration binds the ledger: of 6 racers that register
    // the same device with 6 keys, one wins; the others are refused and
    // store nothing. The rest of the test uses the winner's key.
    let key_of = |i: usize| MasterKey::from_bytes([u8::try_from(i).unwrap() + 1; 32]);
    let keys = race(
        &open,
        6,
        Arc::new(move |i, l: &mut L| {
            let r = l.add_device(&key_of(i), &Device::new("lock-a", "standard-10"));
            (i, r)
        }),
    );
    let winners: Vec<usize> = keys
        .iter()
        .filter(|(_, r)| r.is_ok())
        .map(|(i, _)| *i)
        .collect();
    assert_eq!(winners.len(), 1, "{keys:?}");
    let won = winners[0];
    for (i, r) in &keys {
        assert!(
            *i == won || matches!(r, Err(LedgerError::MasterKeyMismatch { .. })),
            "{r:?}"
        );
    }
    {
        let mut l = open();
        assert_eq!(
            l.master_fingerprint().unwrap(),
            Some(key_of(won).fingerprint())
        );
        l.add_device(&key_of(won), &Device::new("lock-s", "secure-12"))
            .unwrap();
    }
    let master = move || key_of(won);

    // secure-12 has 8 variances; 12 writers race for one window, 10 more
    // for ongoing slots of another device.
    let writers = 12;
    let results = race(
        &open,
        writers + 10,
        Arc::new(move |i, l: &mut L| {
            let spec = if i < writers {
                CodeSpec::time_bound(
                    "lock-s",
                    t("2025-05-01T15:00:00Z"),
                    t("2025-05-01T20:00:00Z"),
                )
            } else {
                CodeSpec::ongoing("lock-a")
            };
            (i, l.issue(&master(), &spec, now()))
        }),
    );
    let mut windowed = BTreeSet::new();
    let mut slots = BTreeSet::new();
    let mut exhausted = 0;
    for (i, r) in results {
        match (i < writers, r) {
            (true, Ok(o)) => assert!(windowed.insert(o.record.code)),
            (true, Err(LedgerError::NoVarianceAvailable { .. })) => exhausted += 1,
            (false, Ok(o)) => assert!(slots.insert(o.record.code)),
            (_, Err(e)) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!(windowed.len(), 8);
    assert_eq!(exhausted, writers - 8);
    assert_eq!(slots.len(), 10);
    // Nothing lost: the ledger holds exactly the codes handed out.
    let mut l = open();
    let stored: BTreeSet<String> = l
        .list(&ListFilter::device("lock-s"), now())
        .unwrap()
        .into_iter()
        .map(|r| r.code)
        .collect();
    assert_eq!(stored, windowed);
    let codec_s = l.device("lock-s").unwrap().codec(&master()).unwrap();
    let vs: BTreeSet<u8> = stored
        .iter()
        .map(|c| codec_s.decode_input(c.as_bytes()).unwrap().variance())
        .collect();
    assert_eq!(vs, (0..8).collect());
    assert_eq!(
        l.list(&ListFilter::device("lock-a"), now()).unwrap().len(),
        10
    );

    // One idempotency key, 8 racers: one code, the same PIN for all.
    let same = race(
        &open,
        8,
        Arc::new(move |i, l: &mut L| {
            let spec = window().with_idempotency_key("booking-42");
            (i, l.issue(&master(), &spec, now()))
        }),
    );
    let pins: BTreeSet<String> = same
        .iter()
        .map(|(_, r)| r.as_ref().unwrap().record.code.clone())
        .collect();
    assert_eq!(pins.len(), 1);
    assert_eq!(
        same.iter()
            .filter(|(_, r)| r.as_ref().unwrap().created)
            .count(),
        1
    );
    let by_key = ListFilter::device("lock-a");
    assert_eq!(
        l.list(&by_key, now())
            .unwrap()
            .iter()
            .filter(|r| pins.contains(&r.code))
            .count(),
        1
    );

    // Batches that take the same two windows in opposite orders (on
    // PostgreSQL: transactions that wait on each other) all commit, and
    // share no PIN.
    let crossed = race(
        &open,
        6,
        Arc::new(move |i, l: &mut L| {
            let first = CodeSpec::time_bound(
                "lock-s",
                t("2025-07-01T10:00:00Z"),
                t("2025-07-01T12:00:00Z"),
            );
            let second = CodeSpec::time_bound(
                "lock-s",
                t("2025-07-02T10:00:00Z"),
                t("2025-07-02T12:00:00Z"),
            );
            let batch = if i % 2 == 0 {
                [first, second]
            } else {
                [second, first]
            };
            let r = l
                .issue_batch(&master(), &batch, now())
                .map(|mut v| v.remove(0));
            (i, r)
        }),
    );
    assert!(crossed.iter().all(|(_, r)| r.is_ok()), "{crossed:?}");
    let july = ListFilter::device("lock-s");
    let july: Vec<String> = l
        .list(&july, now())
        .unwrap()
        .into_iter()
        .filter(|r| r.starts_at >= Some(t("2025-07-01T00:00:00Z")))
        .map(|r| r.code)
        .collect();
    assert_eq!(july.len(), 12);
    assert_eq!(july.iter().collect::<BTreeSet<_>>().len(), 12);

    // Device compare-and-swap: of racers that expect the same entry, one
    // stores its change.
    let entry = l.device_entry("lock-a").unwrap().unwrap();
    let cas: Vec<bool> = {
        let barrier = Arc::new(Barrier::new(5));
        let handles: Vec<_> = (0..5u32)
            .map(|g| {
                let (open, barrier, entry) =
                    (Arc::clone(&open), Arc::clone(&barrier), entry.clone());
                std::thread::spawn(move || {
                    let mut l = open();
                    let new = DeviceEntry {
                        device: entry.device.clone().with_generation(g + 1),
                        removed_at: None,
                    };
                    barrier.wait();
                    l.put_device(&new, Some(&entry)).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    };
    assert_eq!(cas.iter().filter(|w| **w).count(), 1, "{cas:?}");
    let won = cas.iter().position(|w| *w).unwrap();
    assert_eq!(
        l.device("lock-a").unwrap().generation,
        u32::try_from(won).unwrap() + 1
    );
}
