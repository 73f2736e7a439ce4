//! The hosted API's rules and the API keys of `offpin serve`, on every
//! backend.

use super::*;

/// The hosted API's rules on a backend: rename, immutable windows, get by
/// PIN, delete on the right device; deleted codes stay found.
pub(super) fn hosted<L: Ledger>(l: &mut L) {
    setup(l);
    let m = master();
    let now = now();
    let a = l
        .issue(&m, &window().with_name("before"), now)
        .unwrap()
        .record;
    let renamed = l
        .update(
            &a.access_code_id,
            &CodeUpdate {
                name: Some(Some("after".into())),
                starts_at: Some(a.starts_at),
                ..CodeUpdate::default()
            },
            now,
        )
        .unwrap();
    assert_eq!(renamed.name.as_deref(), Some("after"));
    assert_eq!(
        renamed.appearance.as_ref().map(|a| a.name.as_str()),
        Some("after")
    );
    assert_eq!(l.get(&a.access_code_id, now).unwrap(), renamed);
    let moved = l.update(
        &a.access_code_id,
        &CodeUpdate {
            name: Some(Some("lost".into())),
            ends_at: Some(Some(t("2025-05-04T11:00:00Z"))),
            ..CodeUpdate::default()
        },
        now,
    );
    assert!(
        matches!(moved, Err(RequestError::Immutable { field: "ends_at" })),
        "{moved:?}"
    );
    assert_eq!(
        l.get(&a.access_code_id, now).unwrap(),
        renamed,
        "nothing changed"
    );
    // The same name again changes nothing.
    let same = CodeUpdate {
        name: Some(Some("after".into())),
        ..CodeUpdate::default()
    };
    assert_eq!(l.update(&a.access_code_id, &same, now).unwrap(), renamed);
    assert_eq!(l.get_by_code("lock-a", &a.code, now).unwrap(), renamed);
    assert!(matches!(
        l.get_by_code("lock-b", &a.code, now),
        Err(RequestError::CodeNotFound { .. })
    ));
    assert!(matches!(
        l.get_by_code("ghost", &a.code, now),
        Err(RequestError::Ledger(LedgerError::UnknownDevice { .. }))
    ));
    assert!(matches!(
        l.delete_code(&m, &a.access_code_id, Some("lock-b"), now),
        Err(RequestError::Ledger(LedgerError::NotFound { .. }))
    ));
    assert_eq!(
        l.get(&a.access_code_id, now).unwrap().status,
        CodeStatus::Set,
        "a delete on the wrong device deletes nothing"
    );
    let deleted = l
        .delete_code(&m, &a.access_code_id, Some("lock-a"), now)
        .unwrap();
    assert_eq!(deleted.record.status, CodeStatus::Removing);
    // A deleted code is still found by its PIN, and may be renamed.
    assert_eq!(
        l.get_by_code("lock-a", &a.code, now).unwrap(),
        deleted.record
    );
    let cleared = CodeUpdate {
        name: Some(None),
        ..CodeUpdate::default()
    };
    let r = l.update(&a.access_code_id, &cleared, now).unwrap();
    assert_eq!(
        (r.name, r.appearance, r.status),
        (None, None, CodeStatus::Removing)
    );
    assert!(matches!(
        l.update("nope", &CodeUpdate::default(), now),
        Err(RequestError::Ledger(LedgerError::NotFound { .. }))
    ));
}

/// API keys on a backend: created keys authenticate, near misses and
/// revoked keys do not.
pub(super) fn api_keys<L: ApiKeyStore>(l: &mut L) {
    let now = now();
    let key = l.create_api_key("ci", &[7; RANDOM_BYTES], now).unwrap();
    let text = key.expose_secret().to_owned();
    assert!(text.starts_with("seam_"));
    assert_eq!(l.authenticate(&text).unwrap().name, "ci");
    // Same id, another secret: refused (the hash differs).
    let mut forged = text.clone();
    forged.pop();
    forged.push(if text.ends_with('0') { '1' } else { '0' });
    assert!(matches!(l.authenticate(&forged), Err(ApiKeyError::Unknown)));
    assert!(matches!(
        l.authenticate("seam_nothex"),
        Err(ApiKeyError::Malformed)
    ));
    assert!(matches!(
        l.create_api_key("ci", &[8; RANDOM_BYTES], now),
        Err(ApiKeyError::NameTaken { .. })
    ));
    let other = l.create_api_key("ops", &[9; RANDOM_BYTES], now).unwrap();
    l.revoke_api_key("ci", now).unwrap();
    assert!(matches!(l.authenticate(&text), Err(ApiKeyError::Revoked)));
    assert!(matches!(
        l.revoke_api_key("ci", now),
        Err(ApiKeyError::NoSuchName { .. })
    ));
    assert_eq!(l.authenticate(other.expose_secret()).unwrap().name, "ops");
    // A revoked name can be given to a new key.
    l.create_api_key("ci", &[10; RANDOM_BYTES], now).unwrap();
    let names: Vec<(String, bool)> = l
        .api_keys()
        .unwrap()
        .into_iter()
        .map(|k| (k.name, k.revoked_at.is_some()))
        .collect();
    assert_eq!(
        names,
        [
            ("ci".to_owned(), true),
            ("ops".to_owned(), false),
            ("ci".to_owned(), false)
        ]
    );
    // The store never holds the key's text.
    assert!(!format!("{:?}", l.api_keys().unwrap()).contains(&text));
}
