//! `issue.json`: requests one unit before, at and one unit after every
//! limit of §5 (rounding, lengths, the epoch, the lifetime, ranges), and
//! requests that fail two checks at once, for each kind (the order of
//! checks decides which error is the answer).

use super::v2::issued_json;
use super::*;
use offpin::profile::shipped::{STANDARD_10, STANDARD_10_V2 as P2};
use offpin::recurring::{Hours, RecurringMenu, Weekdays};
use offpin::{ClockCodes, ProfileParams};

/// Hour 30106 after the epoch: Tuesday 2027-06-08T10:00Z.
const JUNE_HOUR: u32 = 30_106;

/// `standard-10-v2` without one-time, ongoing, revocation, recurring and
/// clock codes: where `kind_disabled` is checked.
pub(super) const DISABLED: Profile = match Profile::new(ProfileParams {
    name: "edges-v2-time-bound-only",
    one_time_use_hours: 0,
    ongoing_slots: 0,
    revocation: false,
    recurring: RecurringMenu::NONE,
    clock_codes: ClockCodes::NONE,
    ..P2.params()
}) {
    Ok(p) => p,
    Err(e) => e.panic_const(),
};

/// Paris, whose clocks fall back at 00:30 (an accepted rule, not a real
/// zone's): the half hour after the change is the earlier local date
/// again, after the later day has started.
const FALLBACK_0030: TzRule = match TzRule::parse(b"CET-1CEST,M3.5.0,M10.5.0/0:30") {
    Ok(r) => r,
    Err(_) => panic!("rule"),
};

struct Out {
    key: offpin::DeviceKey,
    boundaries: Vec<Value>,
    orders: Vec<Value>,
}

/// The outcome the boundary tests compare: the error code, or the kind of
/// the grant issued.
fn outcome(result: &Value) -> Value {
    match result.get("error_code") {
        Some(code) => code.clone(),
        None => result["grant"]["kind"].clone(),
    }
}

impl Out {
    fn issue(&self, p: Profile, req: &Request) -> Value {
        let codec = Codec::new(&self.key, p).unwrap();
        issued_json(&p, codec.issue(req))
    }

    /// Requests `reqs` (below, at, above the boundary `boundary` of
    /// `variable`).
    fn bound(
        &mut self,
        p: Profile,
        comparison: &str,
        variable: &str,
        boundary: i64,
        reqs: [Request; 3],
    ) {
        let cases: Vec<Value> = reqs
            .iter()
            .zip([boundary - 1, boundary, boundary + 1])
            .map(|(r, value)| {
                let result = self.issue(p, r);
                json!({
                    "value": value,
                    "request": request_json_of(r, true),
                    "outcome": outcome(&result),
                    "result": result,
                })
            })
            .collect();
        self.boundaries.push(json!({
            "section": "5",
            "comparison": comparison,
            "profile": p.name(),
            "variable": variable,
            "boundary": boundary,
            "cases": cases,
        }));
    }

    /// A request that fails every check in `fails`, listed in FORMAT.md's
    /// order: the first is the answer.
    fn order(&mut self, p: Profile, kind: &str, fails: &[&str], req: Request) {
        let result = self.issue(p, &req);
        self.orders.push(json!({
            "section": "5",
            "kind": kind,
            "fails": fails,
            "profile": p.name(),
            "request": request_json_of(&req, true),
            "result": result,
        }));
    }
}

/// `f(value)` for the three values around `b`.
fn three(b: i64, f: impl Fn(i64) -> Request) -> [Request; 3] {
    [f(b - 1), f(b), f(b + 1)]
}

fn secs(x: i64) -> u32 {
    u32::try_from(x).unwrap()
}

fn time_bound(out: &mut Out) {
    let utc = TzRule::UTC;
    let e0 = P2.epoch();
    let s = P2.hour_start(JUNE_HOUR);
    let end = P2.hour_start(P2.lifetime_hours());
    let tb = |s: i64, e: i64| Request::time_bound(s, e).with_zone(utc);
    out.bound(
        P2,
        "e > s",
        "ends_at",
        s,
        three(s, |e| tb(s, e).with_max_rounding_secs(3_600)),
    );
    out.bound(
        P2,
        "hourly fits: last − first <= Hmax (672 h)",
        "hours",
        672,
        three(672, |h| tb(s, s + h * HOUR)),
    );
    out.bound(
        P2,
        "hourly rounding <= max_rounding (start moved 900 s)",
        "max_rounding_secs",
        900,
        three(900, |m| {
            tb(s + 900, s + 3 * HOUR).with_max_rounding_secs(secs(m))
        }),
    );
    out.bound(
        P2,
        "hourly rounding <= max_rounding (end moved 300 s)",
        "max_rounding_secs",
        300,
        three(300, |m| {
            tb(s, s + 3 * HOUR - 300).with_max_rounding_secs(secs(m))
        }),
    );
    let ds = |d: i64| PARIS.day_start(P2.epoch_day() + d);
    let paris = |s: i64, e: i64| Request::time_bound(s, e).with_zone(PARIS);
    out.bound(
        P2,
        "daily fits: last − first <= Dmax (366 days, Paris)",
        "days",
        366,
        three(366, |d| paris(ds(1_100), ds(1_100 + d))),
    );
    out.bound(
        P2,
        "daily rounding <= max_rounding (Paris, start 2 h after local midnight)",
        "max_rounding_secs",
        7_200,
        three(7_200, |m| {
            paris(ds(1_100) + 7_200, ds(1_140)).with_max_rounding_secs(secs(m))
        }),
    );
    let india = TzRule::fixed(UtcOffset::from_minutes(330).unwrap());
    let midnight = india.day_start(P2.epoch_day() + 1_254);
    out.bound(
        P2,
        "hourly first: chosen when its rounding <= max_rounding, else daily (+05:30)",
        "max_rounding_secs",
        1_800,
        three(1_800, |m| {
            Request::time_bound(midnight, midnight + 2 * DAY)
                .with_zone(india)
                .with_max_rounding_secs(secs(m))
        }),
    );
    out.bound(
        P2,
        "hourly start: first >= 0 (before_epoch)",
        "starts_at",
        e0,
        three(e0, |s| tb(s, e0 + 2 * HOUR).with_max_rounding_secs(3_600)),
    );
    out.bound(
        P2,
        "hourly start: first < 24·lifetime_days (beyond_lifetime)",
        "starts_at",
        end,
        three(end, |s| tb(s, s + HOUR).with_max_rounding_secs(3_600)),
    );
    let plus1 = TzRule::fixed(UtcOffset::from_minutes(60).unwrap());
    let day0 = e0 - HOUR;
    out.bound(
        P2,
        "daily start: first >= 0 (+01:00: local day 0 starts an hour before the epoch)",
        "starts_at",
        day0,
        three(day0, |s| {
            Request::time_bound(s, s + 40 * DAY)
                .with_zone(plus1)
                .with_max_rounding_secs(86_400)
        }),
    );
    let last = ds(i64::from(P2.params().lifetime_days));
    out.bound(
        P2,
        "daily start: first < lifetime_days (Paris)",
        "starts_at",
        last,
        three(last, |s| {
            paris(s, s + 40 * DAY).with_max_rounding_secs(86_400)
        }),
    );
    // The local date of the start (§5): after a fall-back at 00:30, the
    // half hour repeated is the earlier date again.
    let change = FALLBACK_0030.day_start(P2.epoch_day() + 1_399) + 1_800;
    let fb = |s: i64| {
        Request::time_bound(s, s + 40 * DAY)
            .with_zone(FALLBACK_0030)
            .with_max_rounding_secs(86_400)
    };
    out.bound(
        P2,
        "daily first = local date of s (clocks fall back at 00:30 to 23:30)",
        "starts_at",
        change,
        three(change, fb),
    );
    out.bound(
        P2,
        "daily first = local date of s (local date is the later day again)",
        "starts_at",
        change + 1_800,
        three(change + 1_800, fb),
    );
    out.bound(
        P2,
        "variance < V",
        "variance",
        3,
        three(3, |v| {
            tb(s, s + HOUR).with_variance(u8::try_from(v).unwrap())
        }),
    );
    out.bound(
        P2,
        "lineage < L + 1 (L = 0)",
        "lineage",
        1,
        three(1, |l| {
            tb(s, s + HOUR).with_lineage(u8::try_from(l).unwrap())
        }),
    );
}

fn other_kinds(out: &mut Out) {
    let e0 = P2.epoch();
    let s = P2.hour_start(JUNE_HOUR);
    let end = P2.hour_start(P2.lifetime_hours());
    let m = |r: Request, x: i64| r.with_zone(PARIS).with_max_rounding_secs(secs(x));
    out.bound(
        P2,
        "one-time: s − start' <= max_rounding",
        "max_rounding_secs",
        900,
        three(900, |x| m(Request::one_time(s + 900), x)),
    );
    out.bound(
        P2,
        "one-time: start_hour >= 0",
        "starts_at",
        e0,
        three(e0, |t| m(Request::one_time(t), 3_600)),
    );
    out.bound(
        P2,
        "one-time: start_hour < 24·lifetime_days",
        "starts_at",
        end,
        three(end, |t| m(Request::one_time(t), 3_600)),
    );
    out.bound(
        P2,
        "one-time: variance < V",
        "variance",
        3,
        three(3, |v| {
            Request::one_time(s)
                .with_zone(PARIS)
                .with_variance(u8::try_from(v).unwrap())
        }),
    );
    out.bound(
        P2,
        "revoke before: t − hour' <= max_rounding",
        "max_rounding_secs",
        900,
        three(900, |x| m(Request::revoke_started_before(s + 900), x)),
    );
    out.bound(
        P2,
        "revoke before: hour >= 0",
        "at",
        e0,
        three(e0, |t| m(Request::revoke_started_before(t), 3_600)),
    );
    out.bound(
        P2,
        "revoke before: hour < 24·lifetime_days",
        "at",
        end,
        three(end, |t| m(Request::revoke_started_before(t), 3_600)),
    );
    out.bound(
        P2,
        "ongoing: slot < N",
        "slot",
        100,
        three(100, |n| Request::ongoing(secs(n)).with_zone(PARIS)),
    );
    out.bound(
        P2,
        "revoke slot: slot < N",
        "slot",
        100,
        three(100, |n| Request::revoke_slot(secs(n)).with_zone(PARIS)),
    );
    // Recurring: from Monday 2027-06-07 (week 179), in Paris.
    let ws = |w: i64| PARIS.day_start(P2.epoch_day() + 7 * w);
    let rec = |start: i64, weeks: i64| {
        Request::recurring(
            start,
            u16::try_from(weeks).unwrap(),
            Weekdays::WEEKDAYS,
            Hours::new(8, 12),
        )
        .with_zone(PARIS)
    };
    out.bound(
        P2,
        "recurring: weeks >= 1",
        "weeks",
        1,
        three(1, |w| rec(ws(179), w)),
    );
    out.bound(
        P2,
        "recurring: weeks <= Wmax (13)",
        "weeks",
        13,
        three(13, |w| rec(ws(179), w)),
    );
    out.bound(
        P2,
        "recurring: s − first local midnight of its week <= max_rounding",
        "max_rounding_secs",
        7_200,
        three(7_200, |x| {
            rec(ws(179) + 7_200, 2).with_max_rounding_secs(secs(x))
        }),
    );
    out.bound(
        P2,
        "recurring: w >= 0 (week 0 starts at local midnight, an hour before the epoch)",
        "starts_at",
        ws(0),
        three(ws(0), |t| rec(t, 2).with_max_rounding_secs(8 * 86_400)),
    );
    let weeks = i64::from(P2.lifetime_weeks());
    out.bound(
        P2,
        "recurring: variance < V",
        "variance",
        3,
        three(3, |v| {
            rec(ws(179), 2).with_variance(u8::try_from(v).unwrap())
        }),
    );
    out.bound(
        P2,
        "recurring: w < ⌈lifetime_days / 7⌉",
        "starts_at",
        ws(weeks),
        three(ws(weeks), |t| rec(t, 2).with_max_rounding_secs(8 * 86_400)),
    );
    // Clock codes: 10-minute units.
    let unit = P2.params().clock_codes.unit_secs();
    let t = P2.clock_instant(2_000_000);
    let k_end = e0 + i64::try_from(P2.kind_count(Kind::ClockSet)).unwrap() * unit;
    out.bound(
        P2,
        "clock set: t − T <= max_rounding",
        "max_rounding_secs",
        120,
        three(120, |x| m(Request::clock_set(t + 120), x)),
    );
    out.bound(
        P2,
        "clock set: at >= 0",
        "at",
        e0,
        three(e0, |a| m(Request::clock_set(a), 600)),
    );
    out.bound(
        P2,
        "clock set: at < K",
        "at",
        k_end,
        three(k_end, |a| m(Request::clock_set(a), 600)),
    );
}

/// Requests failing two checks: for each kind, every pair of checks that
/// a request can fail together.
fn orders(out: &mut Out) {
    let e0 = P2.epoch();
    let s = P2.hour_start(JUNE_HOUR);
    let end = P2.hour_start(P2.lifetime_hours());
    let utc = |r: Request| r.with_zone(TzRule::UTC);
    let tb = "time_bound";
    out.order(
        P2,
        tb,
        &["end_not_after_start", "before_epoch"],
        utc(Request::time_bound(e0 - 2 * HOUR, e0 - 3 * HOUR)),
    );
    out.order(
        P2,
        tb,
        &["end_not_after_start", "variance_out_of_range"],
        utc(Request::time_bound(s, s).with_variance(3)),
    );
    out.order(
        P2,
        tb,
        &["too_long", "before_epoch"],
        utc(Request::time_bound(e0 - 400 * DAY, e0)),
    );
    out.order(
        P2,
        tb,
        &["too_long", "variance_out_of_range"],
        utc(Request::time_bound(s, s + 400 * DAY).with_variance(3)),
    );
    out.order(
        P2,
        tb,
        &["rounding_too_large", "before_epoch"],
        utc(Request::time_bound(e0 - 2 * HOUR + 60, e0 - HOUR)),
    );
    out.order(
        P2,
        tb,
        &["rounding_too_large", "lineage_out_of_range"],
        utc(Request::time_bound(s + 60, s + HOUR).with_lineage(1)),
    );
    out.order(
        P2,
        tb,
        &["before_epoch", "variance_out_of_range"],
        utc(Request::time_bound(e0 - 2 * HOUR, e0 - HOUR).with_variance(3)),
    );
    out.order(
        P2,
        tb,
        &["beyond_lifetime", "lineage_out_of_range"],
        utc(Request::time_bound(end + HOUR, end + 2 * HOUR).with_lineage(1)),
    );
    let plus1 = TzRule::fixed(UtcOffset::from_minutes(60).unwrap());
    out.order(
        P2,
        tb,
        &["before_epoch"],
        Request::time_bound(e0 - 1_800, e0 + 2 * HOUR)
            .with_zone(plus1)
            .with_max_rounding_secs(3_600),
    );
    let ot = "one_time";
    out.order(
        P2,
        ot,
        &["rounding_too_large", "before_epoch"],
        utc(Request::one_time(e0 - 2 * HOUR + 60)),
    );
    out.order(
        P2,
        ot,
        &["rounding_too_large", "variance_out_of_range"],
        utc(Request::one_time(s + 60).with_variance(3)),
    );
    out.order(
        P2,
        ot,
        &["before_epoch", "variance_out_of_range"],
        utc(Request::one_time(e0 - 2 * HOUR).with_variance(3)),
    );
    out.order(
        P2,
        ot,
        &["beyond_lifetime", "variance_out_of_range"],
        utc(Request::one_time(end).with_variance(3)),
    );
    out.order(
        DISABLED,
        ot,
        &["rounding_too_large", "kind_disabled"],
        utc(Request::one_time(s + 60)),
    );
    out.order(
        DISABLED,
        ot,
        &["before_epoch", "kind_disabled"],
        utc(Request::one_time(e0 - 2 * HOUR)),
    );
    out.order(
        DISABLED,
        ot,
        &["kind_disabled", "variance_out_of_range"],
        utc(Request::one_time(s).with_variance(3)),
    );
    let rb = "revoke_started_before";
    out.order(
        P2,
        rb,
        &["rounding_too_large", "before_epoch"],
        utc(Request::revoke_started_before(e0 - 2 * HOUR + 60)),
    );
    out.order(
        DISABLED,
        rb,
        &["rounding_too_large", "kind_disabled"],
        utc(Request::revoke_started_before(s + 60)),
    );
    out.order(
        DISABLED,
        rb,
        &["before_epoch", "kind_disabled"],
        utc(Request::revoke_started_before(e0 - 2 * HOUR)),
    );
    out.order(
        DISABLED,
        rb,
        &["beyond_lifetime", "kind_disabled"],
        utc(Request::revoke_started_before(end)),
    );
    out.order(
        DISABLED,
        "ongoing",
        &["kind_disabled", "slot_out_of_range"],
        utc(Request::ongoing(0)),
    );
    out.order(
        DISABLED,
        "revoke_slot",
        &["kind_disabled", "slot_out_of_range"],
        utc(Request::revoke_slot(200)),
    );
    let rec = |start: i64, weeks: u16, days: Weekdays| {
        Request::recurring(start, weeks, days, Hours::new(8, 12)).with_zone(PARIS)
    };
    let ws = |w: i64| PARIS.day_start(P2.epoch_day() + 7 * w);
    let mon_thu = Weekdays(0b000_1111);
    let r = "recurring";
    out.order(
        DISABLED,
        r,
        &["kind_disabled", "not_in_menu"],
        rec(ws(179), 2, mon_thu),
    );
    out.order(
        STANDARD_10,
        r,
        &["kind_disabled", "not_in_menu"],
        rec(ws(179), 2, mon_thu),
    );
    out.order(
        P2,
        r,
        &["not_in_menu", "end_not_after_start"],
        rec(ws(179), 0, mon_thu),
    );
    out.order(
        P2,
        r,
        &["not_in_menu", "variance_out_of_range"],
        rec(ws(179), 2, mon_thu).with_variance(3),
    );
    out.order(
        P2,
        r,
        &["end_not_after_start", "rounding_too_large"],
        rec(ws(179) + 60, 0, Weekdays::WEEKDAYS),
    );
    out.order(
        P2,
        r,
        &["too_long", "rounding_too_large"],
        rec(ws(179) + 60, 14, Weekdays::WEEKDAYS),
    );
    out.order(
        P2,
        r,
        &["rounding_too_large", "before_epoch"],
        rec(ws(-1) + 60, 2, Weekdays::WEEKDAYS),
    );
    out.order(
        P2,
        r,
        &["before_epoch", "variance_out_of_range"],
        rec(ws(-1), 2, Weekdays::WEEKDAYS).with_variance(3),
    );
    let weeks = i64::from(P2.lifetime_weeks());
    out.order(
        P2,
        r,
        &["beyond_lifetime", "variance_out_of_range"],
        rec(ws(weeks), 2, Weekdays::WEEKDAYS).with_variance(3),
    );
    let c = "clock_set";
    out.order(
        DISABLED,
        c,
        &["kind_disabled", "rounding_too_large"],
        utc(Request::clock_set(s + 60)),
    );
    out.order(
        STANDARD_10,
        c,
        &["kind_disabled", "before_epoch"],
        utc(Request::clock_set(e0 - HOUR)),
    );
    out.order(
        P2,
        c,
        &["rounding_too_large", "before_epoch"],
        utc(Request::clock_set(e0 - HOUR + 60)),
    );
}

/// Each order-of-checks vector fails with the check listed first.
pub(super) fn assert_orders(file: &Value) {
    let orders = file["orders"].as_array().unwrap();
    for o in orders {
        assert_eq!(
            o["result"]["error_code"], o["fails"][0],
            "{} {}",
            o["kind"], o["fails"]
        );
    }
    assert!(orders.len() >= 30, "{}", orders.len());
}

/// The file.
pub(super) fn vectors() -> Value {
    let mut out = Out {
        key: device_key(),
        boundaries: Vec::new(),
        orders: Vec::new(),
    };
    time_bound(&mut out);
    other_kinds(&mut out);
    orders(&mut out);
    let mut file = header();
    file.insert(
        "profiles".into(),
        json!([super::custom_profile_json(&DISABLED)]),
    );
    file.insert("boundaries".into(), json!(out.boundaries));
    file.insert("orders".into(), json!(out.orders));
    Value::Object(file)
}
