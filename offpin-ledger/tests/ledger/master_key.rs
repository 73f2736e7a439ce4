//! The master key on every backend: the first device binds it, another
//! key is refused everywhere and changes nothing, and a ledger an older
//! offpin wrote is bound by a stored code or explicitly.

use super::*;

/// What a refused operation must leave as it was: the fingerprint, the
/// devices, every code.
type Snapshot = (
    Option<[u8; 8]>,
    Vec<DeviceEntry>,
    Vec<offpin_ledger::ledger::StoredCode>,
);

pub(super) fn snapshot<L: Ledger>(l: &mut L) -> Snapshot {
    let devices = l.device_entries().unwrap();
    let codes = devices
        .iter()
        .flat_map(|d| l.find(&ListFilter::device(&d.device.device_id)).unwrap())
        .collect();
    (l.master_fingerprint().unwrap(), devices, codes)
}

/// Asserts the refusal of `key` by a ledger bound to `ledger`, naming both
/// fingerprints.
pub(super) fn assert_mismatch<T: std::fmt::Debug>(
    r: Result<T, LedgerError>,
    ledger: &MasterKey,
    key: &MasterKey,
    what: &str,
) {
    let e = r.unwrap_err();
    let hex = |k: &MasterKey| offpin_ledger::ledger::fingerprint_hex(&k.fingerprint());
    let text = e.to_string();
    assert!(
        text.contains(&hex(ledger)) && text.contains(&hex(key)),
        "{what}: {text}"
    );
    let LedgerError::MasterKeyMismatch {
        ledger: bound,
        given,
    } = e
    else {
        panic!("{what}: {e}");
    };
    assert_eq!(
        (bound, given),
        (ledger.fingerprint(), key.fingerprint()),
        "{what}"
    );
}

/// Every operation that takes a key, with `b`, on a ledger bound to `a`:
/// each is refused naming both keys, and nothing is stored.
pub(super) fn all_refused<L: Ledger>(l: &mut L, a: &MasterKey, b: &MasterKey, code_id: &str) {
    let before = snapshot(l);
    let rekey = DeviceChange {
        generation: Some(7),
        ..DeviceChange::default()
    };
    let retry = CodeSpec::ongoing("lock-a").with_idempotency_key("booking-1");
    assert_mismatch(
        l.issue(b, &CodeSpec::ongoing("lock-a"), now()),
        a,
        b,
        "issue",
    );
    assert_mismatch(l.issue(b, &window(), now()), a, b, "issue time-bound");
    assert_mismatch(
        l.issue_batch(b, &[window(), CodeSpec::ongoing("lock-a")], now()),
        a,
        b,
        "batch",
    );
    assert_mismatch(l.issue(b, &retry, now()), a, b, "idempotent retry");
    assert_mismatch(l.issue_batch(b, &[retry], now()), a, b, "batch retry");
    assert_mismatch(l.verify_master_key(b), a, b, "device key (read-only)");
    assert_mismatch(l.adopt_master_key(b), a, b, "device key (adopting)");
    assert_mismatch(l.check_master_key(b), a, b, "check");
    assert_mismatch(
        l.update_device(b, "lock-a", &rekey, now()),
        a,
        b,
        "device update",
    );
    assert_mismatch(
        l.add_device(b, &Device::new("lock-b", "compact-8")),
        a,
        b,
        "device add of a later device",
    );
    assert_mismatch(
        l.add_device(b, &Device::new("lock-a", "standard-10")),
        a,
        b,
        "device add again",
    );
    assert_mismatch(l.delete(b, code_id, now()), a, b, "delete");
    assert_eq!(snapshot(l), before, "a refused key stored nothing");
}

/// Issue 17, point 5: the ledger is bound to the key of its first
/// registered device, so another key is refused before any code exists
/// (the first issue used to bind it), by every operation that takes a key.
pub(super) fn key_binding<L: Ledger>(l: &mut L) {
    let (a, b) = (master(), MasterKey::from_bytes([1; 32]));
    // A read-only check binds nothing; an empty ledger refuses no key.
    l.verify_master_key(&b).unwrap();
    assert_eq!(l.master_fingerprint().unwrap(), None);
    l.add_device(&a, &Device::new("lock-a", "standard-10"))
        .unwrap();
    assert_eq!(l.master_fingerprint().unwrap(), Some(a.fingerprint()));
    // A device, no code yet: B is refused everywhere, nothing stored.
    all_refused(l, &a, &b, "no-such-code");
    assert!(l.find(&ListFilter::device("lock-a")).unwrap().is_empty());

    // With A: issued; the device key (what the lock holds) derives it.
    let retry = CodeSpec::ongoing("lock-a").with_idempotency_key("booking-1");
    let issued = l.issue(&a, &retry, now()).unwrap().record;
    l.verify_master_key(&a).unwrap();
    let lock_key = a.derive_device_key(b"lock-a", 0).unwrap();
    let lock = Codec::new(&lock_key, offpin::profile::shipped::STANDARD_10).unwrap();
    assert_eq!(
        lock.decode_input(issued.code.as_bytes()).unwrap(),
        Grant::Ongoing { slot: 0 }
    );
    // A code exists: B is still refused everywhere (its idempotent retry
    // does not return A's code), and the code is not deleted.
    all_refused(l, &a, &b, &issued.access_code_id);
    let again = l.issue(&a, &retry, now()).unwrap();
    assert!(!again.created);
    assert_eq!(again.record.code, issued.code);
    // A keeps working for everything else.
    l.add_device(&a, &Device::new("lock-b", "compact-8"))
        .unwrap();
    let rekey = DeviceChange {
        generation: Some(1),
        ..DeviceChange::default()
    };
    l.update_device(&a, "lock-a", &rekey, now()).unwrap();
    l.delete(&a, &issued.access_code_id, now()).unwrap();
}

/// The device an older offpin registered: no fingerprint was stored.
pub(super) fn older_device<L: Ledger>(l: &mut L, device: Device) {
    let entry = DeviceEntry {
        device,
        removed_at: None,
    };
    assert!(l.put_device(&entry, None).unwrap());
}

/// A ledger an older offpin wrote, with a device but no fingerprint and
/// no code: no key is taken (not even the right one: nothing tells them
/// apart), nothing is stored, until `adopt_master_key` (the command's
/// `device key`) binds one; then every other key is refused.
pub(super) fn older_ledger_without_codes<L: Ledger>(l: &mut L) {
    let (a, b) = (master(), MasterKey::from_bytes([1; 32]));
    older_device(l, Device::new("lock-a", "standard-10"));
    let before = snapshot(l);
    assert_eq!(before.0, None);
    let hex = |k: &MasterKey| offpin_ledger::ledger::fingerprint_hex(&k.fingerprint());
    for key in [&a, &b] {
        let unbound = |r: Result<(), LedgerError>, what: &str| {
            let e = r.unwrap_err();
            assert!(e.to_string().contains(&hex(key)), "{what}: {e}");
            assert!(
                matches!(&e, LedgerError::MasterKeyUnbound { device_id, given }
                    if device_id == "lock-a" && *given == key.fingerprint()),
                "{what}: {e}"
            );
            assert_eq!(e.code(), "master_key_unbound");
        };
        unbound(l.issue(key, &window(), now()).map(drop), "issue");
        unbound(
            l.issue_batch(key, &[CodeSpec::ongoing("lock-a")], now())
                .map(drop),
            "batch",
        );
        unbound(l.verify_master_key(key), "read-only check");
        unbound(l.check_master_key(key), "check");
        unbound(
            l.add_device(key, &Device::new("lock-b", "compact-8")),
            "device add",
        );
        let rekey = DeviceChange {
            generation: Some(1),
            ..DeviceChange::default()
        };
        unbound(
            l.update_device(key, "lock-a", &rekey, now()).map(drop),
            "device update",
        );
    }
    assert_eq!(snapshot(l), before, "nothing stored, nothing bound");
    // Adopting binds; then it is an ordinary bound ledger.
    l.adopt_master_key(&a).unwrap();
    assert_eq!(l.master_fingerprint().unwrap(), Some(a.fingerprint()));
    l.adopt_master_key(&a).unwrap();
    all_refused(l, &a, &b, "no-such-code");
    l.issue(&a, &window(), now()).unwrap();
}

/// A ledger an older offpin wrote, with codes but no fingerprint: the key
/// must derive a stored PIN (of the key generation it was issued with,
/// though the device has been re-keyed since); the one that does binds it.
pub(super) fn older_ledger_with_a_code<L: Ledger>(l: &mut L) {
    use offpin_ledger::ledger::{Allocation, AllocationScope, Slot, StoredCode};
    let (a, b) = (master(), MasterKey::from_bytes([1; 32]));
    let device = Device::new("lock-a", "standard-10");
    older_device(l, device.clone().with_generation(1));
    // Its code of generation 0, issued with A.
    let grant = Grant::Ongoing { slot: 0 };
    let pin = device.codec(&a).unwrap().pin_for(&grant).unwrap();
    let (scope, _) = AllocationScope::of(&grant, 0).unwrap();
    let batch = [Allocation {
        device_id: "lock-a",
        scope,
        limit: 8,
        idempotency_key: None,
        joint: false,
    }];
    let mut decide = |_: usize, slot: Slot| {
        assert_eq!(slot, Slot::Free(0));
        Ok(StoredCode {
            access_code_id: "old-1".to_owned(),
            device_id: "lock-a".to_owned(),
            scope,
            number: 0,
            code: pin.as_str().to_owned(),
            issued_window: None,
            name: None,
            user_identifier_key: None,
            common_code_key: None,
            idempotency_key: None,
            created_at: now(),
            deleted_at: None,
            revocation_code: None,
            group: None,
        })
    };
    l.allocate(&batch, &mut decide).unwrap();
    let before = snapshot(l);
    let e = l.issue(&b, &window(), now()).unwrap_err();
    assert!(
        matches!(&e, LedgerError::KeyDoesNotDerive { access_code_id, given }
            if access_code_id == "old-1" && *given == b.fingerprint()),
        "{e}"
    );
    assert!(matches!(
        l.add_device(&b, &Device::new("lock-b", "compact-8")),
        Err(LedgerError::KeyDoesNotDerive { .. })
    ));
    // A read-only check accepts A and binds nothing.
    l.verify_master_key(&a).unwrap();
    assert_eq!(snapshot(l), before);
    l.issue(&a, &window(), now()).unwrap();
    assert_eq!(l.master_fingerprint().unwrap(), Some(a.fingerprint()));
    assert_mismatch(l.issue(&b, &window(), now()), &a, &b, "after binding");
}
