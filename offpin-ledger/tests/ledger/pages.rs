//! Pages of `list` (`Ledger::list_page`), on every backend: the keyset
//! order, walks that see every code once while codes are issued between
//! pages, `search`, and the retention that drops dead codes from pages but
//! never from `get`.

use super::*;
use chrono::TimeDelta;
use offpin_ledger::ledger::{Page, PageKey, PageRequest};
use offpin_ledger::record::AccessCode;

/// A 2-hour window on day `day` after 2025-05-01.
fn day_window(day: i64) -> CodeSpec {
    let start = t("2025-05-01T10:00:00Z") + Duration::days(day);
    CodeSpec::time_bound("lock-a", start, start + Duration::hours(2))
}

fn page<L: Ledger>(
    l: &mut L,
    filter: &ListFilter,
    after: Option<PageKey>,
    limit: Option<usize>,
    retention: Option<TimeDelta>,
    at: DateTime<Utc>,
) -> Page {
    let req = PageRequest {
        after,
        limit,
        retention,
    };
    l.list_page(filter, &req, at).unwrap()
}

/// Every page of `filter`, `limit` codes at a time, through cursors (as
/// a client holds them: encoded, then decoded), with `between` run after
/// each page.
fn walk<L: Ledger>(
    l: &mut L,
    filter: &ListFilter,
    limit: usize,
    retention: Option<TimeDelta>,
    at: DateTime<Utc>,
    mut between: impl FnMut(&mut L, usize),
) -> (Vec<AccessCode>, usize) {
    let (mut all, mut pages, mut after) = (Vec::new(), 0, None);
    loop {
        let p = page(l, filter, after, Some(limit), retention, at);
        assert!(p.codes.len() <= limit);
        pages += 1;
        all.extend(p.codes);
        between(l, pages);
        let Some(next) = p.next else { break };
        let cursor = next.cursor(filter);
        after = Some(PageKey::from_cursor(&cursor, filter).unwrap());
        assert!(pages < 100, "the walk does not end");
    }
    (all, pages)
}

fn ids(codes: &[AccessCode]) -> Vec<&str> {
    codes.iter().map(|c| c.access_code_id.as_str()).collect()
}

/// Pages hold codes by `(created_at, access_code_id)`, a batch's codes
/// (one `created_at`) by id; a walk sees every code once, also when codes
/// are issued between its pages.
pub(super) fn keyset_pages<L: Ledger>(l: &mut L) {
    setup(l);
    let m = master();
    for day in 0..9 {
        let at = now() + Duration::milliseconds(day);
        l.issue(&m, &day_window(day).with_name(&format!("guest {day}")), at)
            .unwrap();
    }
    // Three codes of one batch: one `created_at`.
    let batch: Vec<CodeSpec> = (9..12).map(day_window).collect();
    l.issue_batch(&m, &batch, now() + Duration::seconds(1))
        .unwrap();
    let filter = ListFilter::device("lock-a");
    let every = l.list(&filter, now()).unwrap();
    assert_eq!(every.len(), 12);
    let mut expected: Vec<(DateTime<Utc>, String)> = every
        .iter()
        .map(|c| (c.created_at, c.access_code_id.clone()))
        .collect();
    expected.sort();
    let whole = page(l, &filter, None, None, None, now());
    assert_eq!(whole.next, None);
    let order: Vec<(DateTime<Utc>, String)> = whole
        .codes
        .iter()
        .map(|c| (c.created_at, c.access_code_id.clone()))
        .collect();
    assert_eq!(order, expected, "keyset order");

    // 12 codes, 5 a page: 5, 5, 2; 4 a page: exactly 3 pages, the last
    // saying that nothing follows.
    let (walked, pages) = walk(l, &filter, 5, None, now(), |_, _| {});
    assert_eq!((ids(&walked), pages), (ids(&whole.codes), 3));
    let (walked, pages) = walk(l, &filter, 4, None, now(), |_, _| {});
    assert_eq!((ids(&walked), pages), (ids(&whole.codes), 3));
    let (walked, _) = walk(l, &filter, 1, None, now(), |_, _| {});
    assert_eq!(ids(&walked), ids(&whole.codes));

    // Codes issued while a client walks: every code that was there is
    // seen once, the new ones after them.
    let mut issued = Vec::new();
    let (walked, _) = walk(l, &filter, 3, None, now(), |l, n| {
        if n <= 2 {
            let at = now() + Duration::seconds(10 + i64::try_from(n).unwrap());
            let c = l.issue(&m, &CodeSpec::ongoing("lock-a"), at).unwrap();
            issued.push(c.record.access_code_id);
        }
    });
    let mut want: Vec<&str> = ids(&whole.codes);
    want.extend(issued.iter().map(String::as_str));
    assert_eq!(ids(&walked), want, "no code twice, none skipped");

    // Filters narrow the pages: ids, user, search (name, PIN, id; ASCII
    // letters in either case; LIKE's wildcards are plain text).
    let two = ListFilter {
        access_code_ids: vec![
            every[7].access_code_id.clone(),
            every[2].access_code_id.clone(),
        ],
        ..ListFilter::default()
    };
    let (walked, pages) = walk(l, &two, 1, None, now(), |_, _| {});
    assert_eq!(
        (ids(&walked), pages),
        (
            vec![
                every[2].access_code_id.as_str(),
                every[7].access_code_id.as_str()
            ],
            2
        )
    );
    let search = |l: &mut L, text: &str| {
        let f = ListFilter {
            search: Some(text.to_owned()),
            ..ListFilter::device("lock-a")
        };
        ids(&page(l, &f, None, None, None, now()).codes)
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(search(l, "GUEST 3"), [every[3].access_code_id.clone()]);
    assert_eq!(search(l, "guest").len(), 9);
    assert_eq!(search(l, &every[5].code), [every[5].access_code_id.clone()]);
    let id_part = &every[4].access_code_id[9..18];
    assert_eq!(search(l, id_part), [every[4].access_code_id.clone()]);
    for wildcard in ["%", "_", "guest_3", "\\"] {
        assert!(search(l, wildcard).is_empty(), "{wildcard}");
    }
    // A search's cursor does not read another search's pages.
    let f = ListFilter {
        search: Some("guest".into()),
        ..ListFilter::device("lock-a")
    };
    let first = page(l, &f, None, Some(2), None, now());
    let cursor = first.next.unwrap().cursor(&f);
    assert!(PageKey::from_cursor(&cursor, &ListFilter::device("lock-a")).is_err());
}

/// A page leaves out codes whose window ended longer than the retention
/// ago, deleted or not, and keeps ongoing codes (a deleted one opens
/// until its revocation PIN is typed); `get` and `list` still read them.
pub(super) fn retention<L: Ledger>(l: &mut L) {
    setup(l);
    let m = master();
    // Issued a millisecond apart: pages hold them in this order.
    let ms = |n| now() + Duration::milliseconds(n);
    let ended = l.issue(&m, &window().with_name("ended"), ms(0)).unwrap();
    let deleted = l.issue(&m, &window().with_name("deleted"), ms(1)).unwrap();
    let ongoing = l.issue(&m, &CodeSpec::ongoing("lock-a"), ms(2)).unwrap();
    let later_start = t("2025-06-08T10:00:00Z");
    let later = CodeSpec::time_bound("lock-a", later_start, t("2025-06-10T10:00:00Z"));
    let later = l.issue(&m, &later, ms(3)).unwrap();
    for c in [&deleted, &ongoing] {
        l.delete(&m, &c.record.access_code_id, now() + Duration::days(1))
            .unwrap();
    }
    let filter = ListFilter::device("lock-a");
    let grace = Duration::seconds(l.device("lock-a").unwrap().profile().unwrap().grace_secs());
    let dead = ended.record.ends_at.unwrap() + grace;
    let month = Some(TimeDelta::days(30));
    let listed = |l: &mut L, at: DateTime<Utc>, retention| {
        ids(&page(l, &filter, None, None, retention, at).codes)
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let all: Vec<String> = [&ended, &deleted, &ongoing, &later]
        .iter()
        .map(|c| c.record.access_code_id.clone())
        .collect();
    // Dead for exactly the retention: still listed; a second more: not.
    let at = dead + Duration::days(30);
    assert_eq!(listed(l, at, month), all);
    let at = at + Duration::seconds(1);
    let kept = vec![all[2].clone(), all[3].clone()];
    assert_eq!(listed(l, at, month), kept);
    // Retention 0: dropped once dead; the later window is not yet.
    assert_eq!(listed(l, dead, Some(TimeDelta::zero())), all);
    assert_eq!(
        listed(l, dead + Duration::seconds(1), Some(TimeDelta::zero())),
        kept
    );
    // Long after every window: the deleted ongoing code alone.
    let far = t("2026-01-01T00:00:00Z");
    assert_eq!(listed(l, far, month), [all[2].clone()]);
    assert_eq!(
        l.get(&all[2], far).unwrap().status,
        CodeStatus::Removing,
        "it may still open"
    );
    // Pages of one code skip the dropped ones and end.
    let (walked, pages) = walk(l, &filter, 1, month, at, |_, _| {});
    assert_eq!(
        (ids(&walked), pages),
        (vec![all[2].as_str(), all[3].as_str()], 2)
    );
    // get and list still read every code; no retention lists them all.
    for id in &all {
        assert_eq!(&l.get(id, far).unwrap().access_code_id, id);
    }
    assert_eq!(l.list(&filter, far).unwrap().len(), 4);
    assert_eq!(listed(l, far, None), all);
}

/// A deleted ongoing code's record carries its revocation PIN, as the
/// delete answered it; no other record has one.
pub(super) fn revocation_in_the_record<L: Ledger>(l: &mut L) {
    setup(l);
    let m = master();
    let ongoing = l.issue(&m, &CodeSpec::ongoing("lock-a"), now()).unwrap();
    let timed = l.issue(&m, &window(), now()).unwrap();
    let id = &ongoing.record.access_code_id;
    assert_eq!(ongoing.record.revocation_code, None);
    let deleted = l.delete(&m, id, now()).unwrap();
    let pin = deleted.revocation_code.clone().unwrap();
    assert_eq!(
        deleted.record.revocation_code.as_deref(),
        Some(pin.as_str())
    );
    assert_eq!(l.get(id, now()).unwrap().revocation_code, Some(pin.clone()));
    // It revokes slot 0 at the lock.
    let grant = codec(l, "lock-a").decode_input(pin.as_bytes()).unwrap();
    assert_eq!(grant, Grant::Revoke(RevokeTarget::Slot(0)));
    let json = serde_json::to_value(l.get(id, now()).unwrap()).unwrap();
    assert_eq!(json["revocation_code"], pin);
    // A deleted time-bound code has none, and the key is left out.
    let t_id = &timed.record.access_code_id;
    l.delete(&m, t_id, now()).unwrap();
    let json = serde_json::to_value(l.get(t_id, now()).unwrap()).unwrap();
    assert!(json.get("revocation_code").is_none(), "{json}");
}

fn all_page_tests<L: Ledger>(mut open: impl FnMut() -> L) {
    keyset_pages(&mut open());
    retention(&mut open());
    revocation_in_the_record(&mut open());
}

#[test]
fn memory_ledger_pages() {
    all_page_tests(MemoryLedger::new);
}

#[cfg(feature = "sqlite")]
#[test]
fn sqlite_ledger_pages() {
    use offpin_ledger::ledger::sqlite::SqliteLedger;
    all_page_tests(|| SqliteLedger::open_in_memory().unwrap());
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_ledger_pages() {
    use offpin_ledger::ledger::postgres::PostgresLedger;
    if super::postgres_backend::fresh_url().is_none() {
        return;
    }
    all_page_tests(|| {
        PostgresLedger::connect(&super::postgres_backend::fresh_url().unwrap()).unwrap()
    });
}

/// A window the lock can encode only in days, with the API's default
/// rounding of an hour: the error names the field the client sends and
/// the value that fixes it, not the library's `max_rounding_secs`.
#[test]
fn a_rounding_refusal_names_max_time_rounding_and_its_fix() {
    let mut l = MemoryLedger::new();
    setup(&mut l);
    let start = t("2025-05-01T15:00:00Z");
    let spec = CodeSpec::time_bound("lock-a", start, start + Duration::days(40))
        .with_max_rounding_secs(3_600);
    let e = l.issue(&master(), &spec, now()).unwrap_err();
    let message = e.to_string();
    assert!(!message.contains("max_rounding_secs"), "{message}");
    assert!(
        message.contains("max_time_rounding allows 1 h"),
        "{message}"
    );
    assert!(message.contains("max_time_rounding: \"1d\""), "{message}");
    assert_eq!(
        e.blame(),
        offpin_ledger::ledger::hosted::Blame::Request {
            field: Some("max_time_rounding")
        }
    );
    // With "1d" the same window is issued.
    l.issue(&master(), &spec.with_max_rounding_secs(86_400), now())
        .unwrap();
}
