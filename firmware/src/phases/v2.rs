//! The v2 phase: the format-v2 profile (`standard-10-v2`) in Paris, with
//! its DST rule: a recurring code and a daily window across the spring
//! change, a rolling service code, a power loss that stops the clock and
//! the clock-setting code that corrects it.

use offpin::profile::shipped::STANDARD_10_V2;
use offpin::{Refusal, TzRule};

use super::Phase;
use crate::issued::{CLEANER, CLOCK_FAR, CLOCK_NOW, SERVICE, SERVICE_AT, SPRING, T0_V2};
use crate::script::Expect::{ClockSet, Open, Refused, Service};
use crate::script::{Step, measured, typed};
use crate::{D, H, MIN};

/// The Paris rule the v2 lock keeps (parsed at compile time: the image
/// holds its 28 bytes, not the parser).
const PARIS: TzRule = match TzRule::parse(b"CET-1CEST,M3.5.0,M10.5.0/3") {
    Ok(rule) => rule,
    Err(_) => panic!("not a TZ rule"),
};

/// The v2 phase: the format-v2 profile, in Paris (with DST).
pub(crate) const V2: Phase = Phase {
    profile: STANDARD_10_V2,
    zone: PARIS,
    zone_name: "Europe/Paris (CET-1CEST,M3.5.0,M10.5.0/3)",
    t0: T0_V2,
    t0_text: "2026-03-23T00:00Z",
    steps: SCRIPT_V2,
    codes: &[&CLEANER, &SPRING, &CLOCK_NOW, &CLOCK_FAR, &SERVICE],
};

/// The v2 keypad script. Times are real times after `T0_V2`
/// (2026-03-23T00:00Z, Monday 01:00 in Paris); Paris moves from +01:00
/// to +02:00 on 2026-03-29 at 01:00Z (day 6). `CLEANER` is weekdays
/// 08:00-12:00 Paris time for 13 weeks from this Monday; `SPRING` a daily
/// window of 35 local days from Saturday 28 March.
const SCRIPT_V2: &[Step] = &[
    // Tuesday 24 March, 08:30 CET: inside; 12:30 CET: outside.
    measured(
        typed(D + 7 * H + 30 * MIN, CLEANER.pin, Open),
        "recurring, inside",
    ),
    typed(
        D + 11 * H + 30 * MIN,
        CLEANER.pin,
        Refused(Refusal::OutsideSchedule),
    ),
    // The daily window starts at local midnight, 23:00Z on Friday (less
    // the 10-minute grace): at 23:49 CET it is not yet valid.
    typed(
        4 * D + 22 * H + 49 * MIN,
        SPRING.pin,
        Refused(Refusal::NotYetValid),
    ),
    // Saturday 28 March at 10:00 CET: not a weekday for the cleaner; the
    // daily window opens (and is activated).
    typed(
        5 * D + 9 * H,
        CLEANER.pin,
        Refused(Refusal::OutsideSchedule),
    ),
    typed(5 * D + 9 * H + MIN, SPRING.pin, Open),
    // Tuesday 31 March, after the change: 08:30 CEST is 06:30Z, inside
    // (a lock on a fixed +01:00 would read 07:30 and refuse it).
    typed(8 * D + 6 * H + 30 * MIN, CLEANER.pin, Open),
    // The window's last local day ends at midnight CEST (22:00Z on 1
    // May): open at 23:55 CEST, expired at 00:11 (plus the grace).
    typed(39 * D + 21 * H + 55 * MIN, SPRING.pin, Open),
    typed(
        39 * D + 22 * H + 11 * MIN,
        SPRING.pin,
        Refused(Refusal::Expired),
    ),
    // A rolling service code from an authenticator app: opens once.
    measured(
        typed(SERVICE_AT + 5, SERVICE.pin, Service),
        "service code (3 HMAC-SHA1)",
    ),
    typed(SERVICE_AT + 10, SERVICE.pin, Refused(Refusal::AlreadyUsed)),
    // A power loss: the clock stopped for two days. On Monday 4 May at
    // 08:30 CEST the lock believes it is Saturday and refuses the cleaner.
    Step::PowerLoss { lag_secs: 2 * D },
    typed(
        42 * D + 6 * H + 30 * MIN,
        CLEANER.pin,
        Refused(Refusal::OutsideSchedule),
    ),
    // The technician types the clock code of 06:30Z: the clock moves
    // forward two days (the firmware then sets its RTC to it).
    typed(42 * D + 6 * H + 31 * MIN, CLOCK_NOW.pin, ClockSet),
    typed(42 * D + 6 * H + 32 * MIN, CLEANER.pin, Open),
    // Each clock code works once, and never more than 7 days ahead.
    typed(
        42 * D + 6 * H + 33 * MIN,
        CLOCK_NOW.pin,
        Refused(Refusal::Expired),
    ),
    typed(
        42 * D + 6 * H + 34 * MIN,
        CLOCK_FAR.pin,
        Refused(Refusal::NotYetValid),
    ),
];
