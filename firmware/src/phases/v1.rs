//! The v1 phase: offpin 0.1's profile (`standard-10`) at UTC, from
//! stays, cleaning windows and one-time codes through lock-out, an
//! insider's guesses and memory full, to issue 17's attacks by a flash
//! writer with power control.

use offpin::profile::shipped::STANDARD_10;
use offpin::{Refusal, TzRule};

use super::Phase;
use crate::issued::{CLEANING, FILL, HANDYMAN, ONCE, OWNER, REVOKE_OWNER, STAY, T0};
use crate::script::Expect::{Open, Refused, Revoked};
use crate::script::{Step, measured, typed, wrong};
use crate::{D, H, MEMORY, MIN};

/// The v1 phase: offpin 0.1's profile, at UTC.
pub(crate) const V1: Phase = Phase {
    profile: STANDARD_10,
    zone: TzRule::UTC,
    zone_name: "UTC",
    t0: T0,
    t0_text: "2025-12-01T00:00Z",
    steps: SCRIPT,
    codes: &[&STAY, &CLEANING, &ONCE, &OWNER, &REVOKE_OWNER, &HANDYMAN],
};

/// When the memory-full phase types its codes: 2025-12-05 22:00, inside the
/// use window of every `FILL` code.
const FILL_AT: i64 = 4 * D + 22 * H;

/// When the insider phase starts: 2025-12-04 23:00.
const INSIDER_AT: i64 = 3 * D + 23 * H;

/// The keypad script. Times are after `T0` (2025-12-01T00:00Z); the lock's
/// profile has a 10-minute clock grace, a 24 h activation window, a
/// back-off of 5 minutes after 5 consecutive refused entries (an opening
/// resets the count; a revocation code neither counts nor resets) and a
/// guess budget of 10 refused entries, one more per hour, that nothing but
/// time refills.
const SCRIPT: &[Step] = &[
    // The stay starts at 15:00: too early at 14:00 (failure 1).
    typed(14 * H, STAY.pin, Refused(Refusal::NotYetValid)),
    // First use within 24 h of the start: opens and activates (resets).
    typed(15 * H + 30 * MIN, STAY.pin, Open),
    // The cleaner's 4-hour window on Dec 2.
    typed(
        D + 9 * H + 40 * MIN,
        CLEANING.pin,
        Refused(Refusal::NotYetValid),
    ),
    typed(D + 11 * H, CLEANING.pin, Open),
    typed(
        D + 14 * H + 11 * MIN,
        CLEANING.pin,
        Refused(Refusal::Expired),
    ),
    // Day 3, past the activation window: opens because it is remembered.
    measured(typed(2 * D + 9 * H, STAY.pin, Open), "valid"),
    // A one-time code: opens once, then is refused.
    typed(2 * D + 10 * H + 5 * MIN, ONCE.pin, Open),
    typed(
        2 * D + 10 * H + 6 * MIN,
        ONCE.pin,
        Refused(Refusal::AlreadyUsed),
    ),
    // Power cut: the state comes back from "flash".
    Step::PowerCut,
    typed(
        2 * D + 10 * H + 7 * MIN,
        ONCE.pin,
        Refused(Refusal::AlreadyUsed),
    ),
    typed(2 * D + 11 * H, STAY.pin, Open),
    // Check-out was 11:00 on Dec 4 (plus the 10-minute grace).
    typed(
        3 * D + 11 * H + 30 * MIN,
        STAY.pin,
        Refused(Refusal::Expired),
    ),
    // The owner's ongoing code, then its revocation code.
    typed(3 * D + 12 * H, OWNER.pin, Open),
    typed(3 * D + 12 * H + MIN, REVOKE_OWNER.pin, Revoked),
    typed(
        3 * D + 12 * H + 2 * MIN,
        OWNER.pin,
        Refused(Refusal::Revoked),
    ),
    // Another ongoing code opens (and resets the failure count).
    typed(3 * D + 12 * H + 3 * MIN, HANDYMAN.pin, Open),
    // Five wrong entries (one too short): the fifth locks the keypad for
    // 5 minutes.
    measured(wrong(3 * D + 12 * H + 10 * MIN, "1234567890"), "invalid"),
    wrong(3 * D + 12 * H + 10 * MIN + 20, "0000000000"),
    // A real PIN of the README's example lock: another key, so invalid.
    wrong(3 * D + 12 * H + 10 * MIN + 40, "5885699541"),
    wrong(3 * D + 12 * H + 11 * MIN, "19700101"),
    wrong(3 * D + 12 * H + 11 * MIN + 20, "9999999999"),
    // A valid PIN during the lock-out is refused without being decoded.
    measured(
        typed(
            3 * D + 12 * H + 14 * MIN,
            HANDYMAN.pin,
            Refused(Refusal::LockedOut),
        ),
        "locked out",
    ),
    // After the lock-out it opens again.
    typed(3 * D + 12 * H + 16 * MIN + 30, HANDYMAN.pin, Open),
    // The insider, at 23:00, the budget full again (10 failures, the
    // hours since the last ones refilled it): the handyman types 4
    // guesses, then his own code (which resets the back-off, and gets its
    // own charge back), twice, then 2 more guesses: the budget is spent.
    // Everything is refused unseen from then on, his own code too, until
    // the next failure is banked an hour after the first guess.
    wrong(INSIDER_AT, "1111111111"),
    wrong(INSIDER_AT + 3, "2222222222"),
    wrong(INSIDER_AT + 6, "3333333333"),
    wrong(INSIDER_AT + 9, "4444444444"),
    typed(INSIDER_AT + 12, HANDYMAN.pin, Open),
    wrong(INSIDER_AT + 15, "5555555555"),
    wrong(INSIDER_AT + 18, "6666666666"),
    wrong(INSIDER_AT + 21, "7777777777"),
    wrong(INSIDER_AT + 24, "8888888888"),
    typed(INSIDER_AT + 27, HANDYMAN.pin, Open),
    wrong(INSIDER_AT + 30, "9999999999"),
    wrong(INSIDER_AT + 33, "1515151515"),
    typed(INSIDER_AT + 36, "1313131313", Refused(Refusal::LockedOut)),
    typed(INSIDER_AT + 39, HANDYMAN.pin, Refused(Refusal::LockedOut)),
    typed(
        INSIDER_AT + 59 * MIN,
        HANDYMAN.pin,
        Refused(Refusal::LockedOut),
    ),
    // 00:00: one failure banked; a guess spends it again.
    wrong(INSIDER_AT + H, "1414141414"),
    typed(
        INSIDER_AT + H + 3,
        HANDYMAN.pin,
        Refused(Refusal::LockedOut),
    ),
    // 01:00: the next one; the handyman opens, and keeps it.
    typed(INSIDER_AT + 2 * H, HANDYMAN.pin, Open),
    typed(INSIDER_AT + 2 * H + 3, HANDYMAN.pin, Open),
    // Memory full: 64 one-time codes in use, none expired. A 65th valid
    // one is refused (a used code is never evicted), and a used one is
    // still refused, wherever it sits in memory.
    Step::FillMemory { at: FILL_AT },
    measured(
        typed(FILL_AT + MIN, FILL[MEMORY], Refused(Refusal::MemoryFull)),
        "valid, memory full: 64 live entries scanned",
    ),
    typed(FILL_AT + 2 * MIN, FILL[0], Refused(Refusal::AlreadyUsed)),
    measured(
        typed(
            FILL_AT + 3 * MIN,
            FILL[MEMORY - 1],
            Refused(Refusal::AlreadyUsed),
        ),
        "used one-time code, memory full",
    ),
    // A day later the 65th code's use window is over.
    typed(FILL_AT + D + 3 * H, FILL[MEMORY], Refused(Refusal::Expired)),
    typed(FILL_AT + D + 3 * H + MIN, HANDYMAN.pin, Open),
    // Issue 17's trick, by an insider with a flash writer and power
    // control: their own code, the power cut after the refund image is
    // written and before the counter is raised, the refund image kept
    // aside; a guess; the refund image put back to forget the guess. The
    // start after the cut burnt the refund image's counter: refused.
    Step::CutBeforeRaise {
        at: FILL_AT + D + 4 * H,
        typed: HANDYMAN.pin,
    },
    wrong(FILL_AT + D + 4 * H + MIN, "2468024680"),
    Step::PutBack,
    // A version-1 image after version-2 writes: never loaded.
    Step::Version1Image,
];
