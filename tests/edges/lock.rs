//! `lock.json`: entries typed at a lock after others (§8, §10.3, §11.1).
//! Each boundary is a script of committed entries (`steps`) and three
//! entries judged after it, each alone (`cases`: one unit below, at and
//! above the boundary). The `scripts` are sequences whose every entry is
//! committed. No state image is stated: only decisions.

use super::*;
use crate::totp::code_at;
use offpin::Span;
use offpin::lock::{Decision, Lock};
use offpin::profile::shipped::{SECURE_12, STANDARD_10_V2 as P2};
use offpin::service::{ServiceSecret, hotp};
use offpin::{ProfileParams, ServiceCodes};

/// 2027-06-08T10:00Z, a multiple of the 30-second step.
const H0: i64 = 1_812_448_800;

/// `standard-10-v2` with 6-digit service codes accepted ±2 steps: two
/// counters of one window can have the same code.
pub(super) const SIX_DIGITS: Profile = match Profile::new(ProfileParams {
    name: "edges-v2-service-6-skew-2",
    service_codes: ServiceCodes {
        digits: 6,
        step_secs: 30,
        skew_steps: 2,
    },
    ..P2.params()
}) {
    Ok(p) => p,
    Err(e) => e.panic_const(),
};

/// Two consecutive counters (this one and the next) with the same 6-digit
/// code for the vectors' device (found by search; `collision` checks it).
const COLLIDING: u64 = 60_454_465;

fn decision_json(d: &Decision) -> Value {
    match d {
        Decision::Open(g) => json!({"decision": "open", "grant": grant_json(g)}),
        Decision::Service { counter } => json!({"decision": "service", "counter": counter}),
        Decision::Revoked(t) => {
            json!({"decision": "revoked", "target": grant_json(&Grant::Revoke(*t))})
        }
        Decision::ClockSet { to } => json!({"decision": "set_clock", "to": to}),
        Decision::Refuse(r) => json!({"decision": "refuse", "reason": r.code()}),
    }
}

/// An entry: what is typed, and when.
type Entry = (i64, String);

struct Out {
    key: offpin::DeviceKey,
    boundaries: Vec<Value>,
    scripts: Vec<Value>,
}

impl Out {
    /// A lock of `p` in Paris after the committed `steps`, with their
    /// decisions.
    fn run(&self, p: Profile, steps: &[Entry]) -> (Lock<16>, Vec<Value>) {
        let mut lock = Lock::<16>::new(Codec::new(&self.key, p).unwrap(), PARIS).unwrap();
        let mut out = Vec::new();
        for (now, typed) in steps {
            let c = lock.check(typed.as_bytes(), *now);
            out.push(json!({"now": now, "typed": typed, "decision": decision_json(&c.decision)}));
            lock.commit(c.change).unwrap();
        }
        (lock, out)
    }

    fn bound(
        &mut self,
        p: Profile,
        section: &str,
        comparison: &str,
        steps: &[Entry],
        cases: [Entry; 3],
    ) {
        let (_, done) = self.run(p, steps);
        let cases: Vec<Value> = cases
            .iter()
            .map(|(now, typed)| {
                let (lock, _) = self.run(p, steps);
                let d = decision_json(&lock.check(typed.as_bytes(), *now).decision);
                let outcome = d.get("reason").unwrap_or(&d["decision"]).clone();
                json!({"now": now, "typed": typed, "decision": d, "outcome": outcome})
            })
            .collect();
        self.boundaries.push(json!({
            "section": section,
            "comparison": comparison,
            "profile": p.name(),
            "tz_rule": PARIS.to_string(),
            "steps": done,
            "cases": cases,
        }));
    }

    fn script(&mut self, p: Profile, section: &str, case: &str, steps: &[Entry]) {
        let (_, done) = self.run(p, steps);
        self.scripts.push(json!({
            "section": section,
            "case": case,
            "profile": p.name(),
            "tz_rule": PARIS.to_string(),
            "steps": done,
        }));
    }

    fn pin(&self, p: Profile, g: Grant) -> String {
        Codec::new(&self.key, p)
            .unwrap()
            .pin_for(&g)
            .unwrap()
            .as_str()
            .to_owned()
    }
}

/// The same entry at three instants.
fn at3(typed: &str, b: i64) -> [Entry; 3] {
    [b - 1, b, b + 1].map(|t| (t, typed.to_owned()))
}

fn service(out: &mut Out) {
    let secret = ServiceSecret::derive(&out.key);
    let codes = P2.params().service_codes;
    let step = i64::from(codes.step_secs);
    let code = |c: i64| code_at(&secret, codes, c * step).unwrap();
    let c0 = H0 / step;
    let used = [(H0, code(c0))];
    let c = c0 + 10;
    let s = "10.3";
    out.bound(
        P2,
        s,
        "⌊t/step⌋ − skew <= c (the code of counter c from the step before)",
        &used,
        at3(&code(c), (c - 1) * step),
    );
    out.bound(
        P2,
        s,
        "c <= ⌊t/step⌋ + skew (the code of counter c until the step after)",
        &used,
        at3(&code(c), (c + 2) * step),
    );
    let cases = [c0 - 1, c0, c0 + 1].map(|k| (H0, code(k)));
    out.bound(
        P2,
        s,
        "a match above the highest counter used opens, at or below it is already_used",
        &used,
        cases,
    );
    out.bound(
        P2,
        s,
        "a used counter outside the window is invalid_code, not already_used",
        &used,
        at3(&code(c0), (c0 + 2) * step),
    );
    let g = P2.grace_secs();
    out.bound(
        P2,
        s,
        "clock rolled back: now < highest_seen − g (a valid code)",
        &used,
        at3(&code(c0 + 1), H0 - g),
    );
    let wrong = (0..)
        .map(|v: u32| format!("{v:08}"))
        .find(|v| (c0 - 3..=c0 + 3).all(|k| *v != code(k)))
        .unwrap();
    out.bound(
        P2,
        s,
        "clock rolled back: now < highest_seen − g (a wrong code)",
        &used,
        at3(&wrong, H0 - g),
    );
    out.script(
        P2,
        s,
        "a new use replaces the highest counter used",
        &[
            (H0, code(c0)),
            (H0 + step, code(c0 + 1)),
            (H0 + step, code(c0)),
            (H0 + step, code(c0 + 1)),
            (H0 + step, code(c0 + 2)),
        ],
    );
    // Two counters of one window with the same code: the highest that is
    // above the highest used opens.
    let six = SIX_DIGITS.params().service_codes;
    let same = code_at(&secret, six, i64::try_from(COLLIDING).unwrap() * step).unwrap();
    let t = i64::try_from(COLLIDING + 1).unwrap() * step;
    out.script(
        SIX_DIGITS,
        s,
        "two counters of the window match: the higher opens, then the lower is already_used",
        &[(t, same.clone()), (t, same.clone())],
    );
    let alone = t - 3 * step;
    out.script(
        SIX_DIGITS,
        s,
        "the lower of two matches is the highest used: the higher opens",
        &[(alone, same.clone()), (t, same.clone()), (t, same)],
    );
}

fn clock_and_memory(out: &mut Out) {
    let g = P2.grace_secs();
    let ongoing = out.pin(P2, Grant::Ongoing { slot: 7 });
    let seen = [(H0, ongoing.clone())];
    // Clock codes at the lock (§11.1): T − step, T, and once only.
    let at =
        u32::try_from((H0 + 2 * DAY - P2.epoch()) / P2.params().clock_codes.unit_secs()).unwrap();
    let t = P2.clock_instant(at);
    let step = P2.params().clock_codes.max_step_secs();
    let clock = out.pin(P2, Grant::ClockSet { at });
    out.bound(
        P2,
        "11.1",
        "clock code: t < T − step is not_yet_valid",
        &[],
        at3(&clock, t - step),
    );
    out.bound(
        P2,
        "11.1",
        "clock code: t >= T is expired (its own instant)",
        &seen,
        at3(&clock, t),
    );
    out.script(
        P2,
        "11.1",
        "a clock code works once, even on a rolled-back clock",
        &[
            (H0, ongoing.clone()),
            (H0 - 3_600, clock.clone()),
            (H0 - 3_600, clock.clone()),
            (t - g, ongoing.clone()),
        ],
    );
    // §8.1: the rolled-back clock.
    let h = u32::try_from((H0 - P2.epoch()) / HOUR).unwrap();
    let span = |start: u32, length: u32| Span {
        start,
        length,
        variance: 0,
        lineage: 0,
    };
    let around_now = out.pin(P2, Grant::Hourly(span(h - 2, 3)));
    out.bound(
        P2,
        "8.1",
        "clock rolled back: now < highest_seen − g (time-bound code)",
        &seen,
        at3(&around_now, H0 - g),
    );
    // §8.3: activation and use are remembered until e + g.
    let long = Grant::Hourly(span(h, 30));
    let long_pin = out.pin(P2, long);
    let a = P2.activation_secs();
    out.bound(
        P2,
        "8.3",
        "not activated: first use at or after s + A + g",
        &[],
        at3(&long_pin, H0 + a + g),
    );
    out.bound(
        P2,
        "8.3",
        "activated: opens until e + g",
        &[(H0 + 60, long_pin.clone())],
        at3(&long_pin, H0 + 30 * HOUR + g),
    );
    let once = out.pin(
        P2,
        Grant::OneTime {
            start_hour: h,
            variance: 0,
        },
    );
    let u = P2.one_time_use_secs();
    out.bound(
        P2,
        "8.3",
        "used: already_used until s + 3600·U + g",
        &[(H0 + 60, once.clone())],
        at3(&once, H0 + u + g),
    );
    // §8.4: the watermark revokes windows starting before its hour.
    let revoke = out.pin(P2, Grant::Revoke(RevokeTarget::StartedBefore { hour: h }));
    let now = H0 + HOUR + 60;
    let starts = [h - 1, h, h + 1].map(|s| (now, out.pin(P2, Grant::Hourly(span(s, 3)))));
    out.bound(
        P2,
        "8.4",
        "watermark: windows starting before its hour are revoked",
        &[(H0, revoke.clone())],
        starts,
    );
    // Daily windows: those starting on a local day that starts before the
    // revocation's instant (12:00 in Paris on day 1254) are revoked.
    let day = |d: u32| {
        Grant::Daily(Span {
            start: d,
            length: 1,
            variance: 0,
            lineage: 0,
        })
    };
    let ds = |d: u32| PARIS.day_start(P2.epoch_day() + i64::from(d));
    let d0 = u32::try_from(PARIS.local_day(H0) - P2.epoch_day()).unwrap();
    let daily = [
        (H0 + 60, d0),
        (ds(d0 + 1) + 60, d0 + 1),
        (ds(d0 + 2) + 60, d0 + 2),
    ]
    .map(|(now, d)| (now, out.pin(P2, day(d))));
    out.bound(
        P2,
        "8.4",
        "watermark: daily windows starting on a local day that starts before its instant are revoked",
        &[(H0, revoke.clone())],
        daily,
    );
    // §8.3: a lineage's supersede mark (secure-12 has 4 lineages).
    let lineage_1 = |start: u32| {
        Grant::Hourly(Span {
            lineage: 1,
            ..span(start, 3)
        })
    };
    let newer = out.pin(SECURE_12, lineage_1(h));
    let starts = [h - 1, h, h + 1].map(|s| (now, out.pin(SECURE_12, lineage_1(s))));
    out.bound(
        SECURE_12,
        "8.3",
        "supersede: the lineage's windows starting before the newest used are superseded",
        &[(H0 + 60, newer)],
        starts,
    );
    let under = out.pin(P2, Grant::Hourly(span(h - 1, 3)));
    out.script(
        P2,
        "8.3",
        "order: the watermark (revoked) before the rolled-back clock",
        &[
            (H0, revoke),
            (H0 + HOUR, ongoing.clone()),
            (H0 + HOUR - g - 1, under),
        ],
    );
    let revoke_slot = out.pin(P2, Grant::Revoke(RevokeTarget::Slot(7)));
    out.script(
        P2,
        "8.3",
        "ongoing codes and slot revocations are judged on a rolled-back clock",
        &[
            (H0, ongoing.clone()),
            (H0 - DAY, ongoing.clone()),
            (H0 - DAY, revoke_slot),
            (H0 - DAY, ongoing),
        ],
    );
}

/// The file.
pub(super) fn vectors() -> Value {
    let mut out = Out {
        key: device_key(),
        boundaries: Vec::new(),
        scripts: Vec::new(),
    };
    service(&mut out);
    clock_and_memory(&mut out);
    let mut file = header();
    file.insert(
        "profiles".into(),
        json!([super::custom_profile_json(&SIX_DIGITS)]),
    );
    file.insert("boundaries".into(), json!(out.boundaries));
    file.insert("scripts".into(), json!(out.scripts));
    Value::Object(file)
}

/// The colliding counters have the same code.
#[test]
fn collision() {
    let secret = ServiceSecret::derive(&device_key());
    assert_eq!(hotp(&secret, COLLIDING, 6), hotp(&secret, COLLIDING + 1, 6));
}
