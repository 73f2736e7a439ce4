//! Issue 9, point 1: the published attempts per day and per year are true
//! upper bounds for any sequence of entries.
//!
//! An adversary (a property test) interleaves wrong guesses, valid codes
//! typed by an insider between them, waits for lock-outs, reloads of the
//! saved state, power cuts in the middle of an entry (with the decision
//! known, as a timing or power side channel would tell it) and clock steps
//! within the grace, and counts every failed entry the lock *evaluated*.
//! In every span of real time between two of them the count never exceeds
//! [`attempts_in`], and so never `attempts_per_day` in any 24 hours.
//!
//! Then one test per attack of the issue: an insider resetting the
//! lock-out, 1 / 24 / 96 legitimate openings a day, a clock moved forward
//! (to the end of time too), a power cut during the check.
//!
//! Issue 17, point 3: stolen clock-setting codes (format v2), used when a
//! jump would bank the most, by an insider and a stranger, and in a
//! property test of their own, buy no guess; an attacker who sets the
//! real-time clock itself (a physical attack) is bounded by the typing
//! rate, and pays for it in the lock's time (`security::rtc_attack`).

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "test code: a failed unwrap is a failed test"
)]

#[path = "common/boot.rs"]
mod boot;
use boot::started;
use offpin::lock::{ClockStatus, Decision, Lock};
use offpin::profile::shipped::{COMPACT_8, STANDARD_10};
use offpin::security::attempts_in;
use offpin::{Codec, DeviceKey, Pin, Profile, Refusal, Request, UnixSeconds, UtcOffset};
use proptest::prelude::*;

const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;
const M: usize = 8;
type L = Lock<M>;

fn codec(p: Profile) -> Codec {
    Codec::new(&DeviceKey::from_bytes([0x3C; 16]), p).unwrap()
}

/// How the firmware runs an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// `charge`, persist, `check`, persist if needed, commit.
    CountBeforeCheck,
    /// `check`, persist, commit (no power cut after the decision: that
    /// attack needs count-before-check, see the last test).
    CheckThenCount,
}

/// Where the power fails during an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cut {
    None,
    /// After the charge is on flash, before the decision.
    AfterCharge,
    /// The decision is known (side channel), nothing after it is written.
    AfterDecision,
}

/// A lock on a door, with one image slot of flash and a clock that may be
/// off real time by `skew`.
struct Door {
    p: Profile,
    lock: L,
    flash: Vec<u8>,
    mode: Mode,
    /// Real time.
    real: UnixSeconds,
    /// The lock's clock minus real time.
    skew: i64,
    /// Real times of the failed entries the lock evaluated.
    failures: Vec<UnixSeconds>,
    opened: u32,
}

impl Door {
    fn new(p: Profile, mode: Mode, real: UnixSeconds) -> Door {
        let mut lock = L::new(codec(p), UtcOffset::UTC).unwrap();
        let c = lock.observe_clock(real);
        lock.commit(c).unwrap();
        let mut flash = vec![0u8; L::STATE_LEN];
        lock.save(&mut flash).unwrap();
        Door {
            p,
            lock,
            flash,
            mode,
            real,
            skew: 0,
            failures: Vec::new(),
            opened: 0,
        }
    }

    fn clock(&self) -> UnixSeconds {
        self.real.saturating_add(self.skew)
    }

    fn reboot(&mut self) {
        self.lock = started(L::load(codec(self.p), UtcOffset::UTC, &self.flash).unwrap());
    }

    fn persist(&mut self, change: &offpin::lock::Change) {
        if change.needs_write() {
            self.lock.save_after(change, &mut self.flash).unwrap();
        }
    }

    /// Types `typed`; returns the decision if the lock reached one.
    fn enter(&mut self, typed: &[u8], cut: Cut) -> Option<Decision> {
        let now = self.clock();
        if self.mode == Mode::CountBeforeCheck {
            let charge = self.lock.charge(now);
            self.persist(&charge);
            self.lock.commit(charge).unwrap();
            if cut == Cut::AfterCharge {
                self.reboot();
                return None;
            }
        }
        let c = self.lock.check(typed, now);
        match c.decision {
            Decision::Refuse(Refusal::LockedOut | Refusal::MemoryFull) => {}
            Decision::Refuse(_) => self.failures.push(self.real),
            Decision::Open(_) | Decision::Service { .. } => self.opened += 1,
            Decision::Revoked(_) | Decision::ClockSet { .. } => {}
        }
        if cut == Cut::AfterDecision && self.mode == Mode::CountBeforeCheck {
            self.reboot();
            return Some(c.decision);
        }
        self.persist(&c.change);
        self.lock.commit(c.change).unwrap();
        if let Decision::ClockSet { to } = c.decision {
            // The firmware sets its RTC to the code's instant.
            self.skew = to - self.real;
        }
        Some(c.decision)
    }

    fn wait(&mut self, secs: i64) {
        self.real += secs;
    }

    /// Waits until the keypad takes entries again (by the lock's clock).
    fn wait_unlocked(&mut self) {
        if let Some(until) = self.lock.locked_out_until(self.clock()) {
            self.real += (until - self.clock()).max(1);
        }
    }

    /// The most evaluated failures in any window of `len` seconds.
    fn most_in(&self, len: i64) -> usize {
        let f = &self.failures;
        (0..f.len())
            .map(|i| f[i..].iter().take_while(|t| **t < f[i] + len).count())
            .max()
            .unwrap_or(0)
    }

    /// Every span between two evaluated failures holds at most what
    /// [`attempts_in`] allows for it.
    fn assert_within_bounds(&self) -> Result<(), TestCaseError> {
        let f = &self.failures;
        for i in 0..f.len() {
            for j in i..f.len() {
                let span = f[j] - f[i] + 1;
                let bound = attempts_in(&self.p, span);
                prop_assert!(
                    (j - i + 1) as u64 <= bound,
                    "{} failures evaluated in {} s, bound {}",
                    j - i + 1,
                    span,
                    bound
                );
            }
        }
        let s = self.p.security();
        prop_assert!(self.most_in(DAY) as u64 <= s.attempts_per_day);
        prop_assert!(self.most_in(365 * DAY) as u64 <= s.attempts_per_year);
        Ok(())
    }
}

/// A wrong guess: ten or eight digits that decode to no grant valid now.
fn guess(p: Profile, n: u64) -> Vec<u8> {
    let digits = usize::from(p.digits());
    let mut s = format!("{:0width$}", n % p.domain(), width = digits).into_bytes();
    s.truncate(digits);
    s
}

/// `n` wrong guesses 3 s apart (`Op::Guesses`), the power cut after every
/// decision, every second one, or after every third charge (`cut_every`
/// 1, 2, 3; 0: no cut).
fn guesses(door: &mut Door, p: Profile, n: u8, seed: u64, cut_every: u8) {
    for k in 0..u64::from(n) {
        let cut = match cut_every {
            1 => Cut::AfterDecision,
            2 if k % 2 == 0 => Cut::AfterDecision,
            3 if k % 3 == 0 => Cut::AfterCharge,
            _ => Cut::None,
        };
        door.enter(&guess(p, seed.wrapping_add(k * 7_919)), cut);
        door.wait(3);
    }
}

#[derive(Clone, Debug)]
enum Op {
    /// A burst of wrong guesses, as fast as the keypad takes them (3 s).
    Guesses { n: u8, seed: u64, cut_every: u8 },
    /// The insider opens with their own code.
    Insider,
    /// Wait for the lock-out to end, then one guess.
    WaitAndGuess { seed: u64 },
    /// Real time passes.
    Wait { secs: u32 },
    /// Save, power off, load.
    Reload,
    /// The lock's clock is moved within the grace of real time.
    Skew { secs: i16 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1u8..12, any::<u64>(), 0u8..4).prop_map(|(n, seed, cut_every)| Op::Guesses { n, seed, cut_every }),
        3 => Just(Op::Insider),
        4 => any::<u64>().prop_map(|seed| Op::WaitAndGuess { seed }),
        2 => (0u32..(3 * HOUR as u32)).prop_map(|secs| Op::Wait { secs }),
        1 => Just(Op::Reload),
        1 => any::<i16>().prop_map(|secs| Op::Skew { secs }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn lock_adversary_never_exceeds_the_published_attempts(
        compact in any::<bool>(),
        charged in any::<bool>(),
        ops in proptest::collection::vec(op(), 50..250),
    ) {
        let p = if compact { COMPACT_8 } else { STANDARD_10 };
        let mode = if charged { Mode::CountBeforeCheck } else { Mode::CheckThenCount };
        let t0 = p.epoch() + 20_000 * HOUR;
        let insider = codec(p).issue(&Request::ongoing(0)).unwrap().pin;
        let mut door = Door::new(p, mode, t0);
        let g = p.grace_secs();
        for op in ops {
            match op {
                Op::Guesses { n, seed, cut_every } => guesses(&mut door, p, n, seed, cut_every),
                Op::Insider => {
                    door.enter(insider.as_bytes(), Cut::None);
                    door.wait(3);
                }
                Op::WaitAndGuess { seed } => {
                    door.wait_unlocked();
                    door.enter(&guess(p, seed), Cut::None);
                    door.wait(3);
                }
                Op::Wait { secs } => door.wait(i64::from(secs)),
                Op::Reload => door.reboot(),
                Op::Skew { secs } => door.skew = i64::from(secs).clamp(-g, g),
            }
        }
        door.assert_within_bounds()?;
    }
}

/// An outsider who guesses whenever the keypad takes an entry, for
/// `days`, while legitimate users open `openings_per_day` times a day
/// (spread evenly) and an insider may reset the back-off after every 4
/// guesses. Returns the most guesses evaluated in any 24 hours.
fn siege(p: Profile, days: i64, openings_per_day: i64, insider: bool) -> usize {
    let t0 = p.epoch() + 20_000 * HOUR;
    let own = codec(p).issue(&Request::ongoing(1)).unwrap().pin;
    let mut door = Door::new(p, Mode::CountBeforeCheck, t0);
    let end = t0 + days * DAY;
    let every = openings_per_day.max(1);
    let mut next_opening = t0;
    let mut since_reset = 0;
    let mut n = 0u64;
    while door.real < end {
        if openings_per_day > 0 && door.real >= next_opening {
            door.enter(own.as_bytes(), Cut::None);
            next_opening += DAY / every;
        }
        if insider && since_reset == 4 {
            door.enter(own.as_bytes(), Cut::None);
            since_reset = 0;
        }
        if door.lock.locked_out_until(door.clock()).is_some() {
            door.wait_unlocked();
            continue;
        }
        n += 1;
        if let Some(Decision::Refuse(_)) = door.enter(&guess(p, n * 104_729), Cut::None) {
            since_reset += 1;
        }
        door.wait(3);
    }
    door.most_in(DAY)
}

/// Issue 9, point 1, first bullet: a guest who types 4 guesses, then their
/// own code, forever, used to get ~28 800 guesses a day.
#[test]
fn lock_insider_resetting_the_lockout_gets_no_more_than_published() {
    let p = STANDARD_10;
    let most = siege(p, 3, 0, true);
    let published = p.security().attempts_per_day;
    println!(
        "standard-10: insider resetting the back-off: {most} guesses in the worst 24 h (published bound {published})"
    );
    assert!(most as u64 <= published);
    assert!(
        most >= 30,
        "the adversary is greedy enough to reach the bound: {most}"
    );
}

/// Issue 9, point 1, second bullet: 1, 24 or 96 legitimate openings a day
/// used to give an outsider 45, ~430 and ~950 guesses a day.
#[test]
fn lock_legitimate_openings_do_not_buy_guesses() {
    for p in [STANDARD_10, COMPACT_8] {
        let published = p.security().attempts_per_day;
        for per_day in [1, 24, 96] {
            let most = siege(p, 3, per_day, false);
            println!(
                "{}: {per_day} openings a day: {most} guesses in the worst 24 h (published bound {published})",
                p.name()
            );
            assert!(
                most as u64 <= published,
                "{} at {per_day}/day: {most}",
                p.name()
            );
        }
    }
}

/// Drains the budget of `door` with wrong guesses at its clock, an
/// insider's code typed before each back-off would start (so neither a
/// back-off nor a refill comes in between); returns the guesses evaluated.
fn drain(door: &mut Door, insider: &Pin) -> usize {
    let before = door.failures.len();
    let batch = u64::from(door.p.lockout().failures);
    for n in 0..200u64 {
        let now = door.clock();
        if door.lock.budget_left(now) == 0 || door.lock.locked_out_until(now).is_some() {
            break;
        }
        if door.lock.consecutive_failures() + 1 == batch {
            door.enter(insider.as_bytes(), Cut::None);
        } else {
            door.enter(&guess(door.p, n * 31 + 5), Cut::None);
        }
    }
    door.failures.len() - before
}

/// The bound at one instant is the budget's, not the back-off's: an
/// insider who opens before each batch would complete evaluates `budget`
/// failures without the clock moving, where a stranger stops at the
/// back-off's `failures`. (A fuzzed script found 6 on `compact-8` against
/// a bound that took the back-off's 5.)
#[test]
fn lock_openings_between_guesses_meet_the_budget_not_the_back_off() {
    for p in [STANDARD_10, COMPACT_8] {
        let t0 = p.epoch() + 20_000 * HOUR;
        let insider = codec(p).issue(&Request::ongoing(1)).unwrap().pin;
        let mut door = Door::new(p, Mode::CountBeforeCheck, t0);
        let most = drain(&mut door, &insider);
        assert_eq!(door.clock(), t0, "the clock stood still");
        assert_eq!(most, usize::from(p.lockout().budget), "{}", p.name());
        assert_eq!(most as u64, attempts_in(&p, 1), "{}", p.name());
        let mut stranger = Door::new(p, Mode::CountBeforeCheck, t0);
        // 40 guesses 3 s apart: 120 s, inside the first back-off.
        guesses(&mut stranger, p, 40, 11, 0);
        assert_eq!(
            stranger.failures.len(),
            usize::from(p.lockout().failures),
            "{}: a stranger meets the back-off",
            p.name()
        );
    }
}

/// Issue 9, point 1, third bullet: moving the clock forward ended each
/// lock-out, and at the end of time the keypad never locked again.
#[test]
fn lock_clock_moved_forward_refills_at_most_the_budget() {
    let p = STANDARD_10;
    let budget = usize::from(p.lockout().budget);
    let t0 = p.epoch() + 20_000 * HOUR;
    let ongoing = codec(p).issue(&Request::ongoing(2)).unwrap().pin;
    let stay = codec(p)
        .issue(&Request::time_bound(t0, t0 + 48 * HOUR))
        .unwrap()
        .pin;
    let mut door = Door::new(p, Mode::CountBeforeCheck, t0);
    assert!(door.enter(stay.as_bytes(), Cut::None).unwrap().opens());
    assert_eq!(drain(&mut door, &ongoing), budget);
    // Ten days ahead: the budget is full again, but only full.
    for jump in [10 * DAY, 400 * DAY, 365 * 200 * DAY] {
        door.skew += jump;
        assert_eq!(drain(&mut door, &ongoing), budget, "jump {jump}");
    }
    // 200 years on, past the profile's lifetime: time-dependent codes
    // are refused, failures still count, the budget still binds, and the
    // owner's ongoing code still opens once a failure is banked again.
    assert!(door.clock() > p.epoch() + i64::from(p.params().lifetime_days) * DAY);
    let c = door.lock.check(stay.as_bytes(), door.clock());
    assert_eq!(c.decision, Decision::Refuse(Refusal::LockedOut));
    door.wait_unlocked();
    assert_eq!(
        door.enter(stay.as_bytes(), Cut::None),
        Some(Decision::Refuse(Refusal::Expired))
    );
    door.wait_unlocked();
    assert!(door.enter(ongoing.as_bytes(), Cut::None).unwrap().opens());
    // At the very end of time the clock stands still: the budget never
    // refills, so it never turns into "never locked".
    door.skew = i64::MAX - door.real;
    let at_max = drain(&mut door, &ongoing);
    assert!(at_max <= budget);
    for _ in 0..3 {
        door.wait(DAY);
        door.skew = i64::MAX - door.real;
        assert_eq!(drain(&mut door, &ongoing), 0, "no time passes at i64::MAX");
        assert_eq!(
            door.lock.check(ongoing.as_bytes(), i64::MAX).decision,
            Decision::Refuse(Refusal::LockedOut)
        );
    }
    // The beginning of time reads as a clock rolled back: still locked.
    assert_eq!(
        door.lock.check(b"0000000000", i64::MIN).decision,
        Decision::Refuse(Refusal::LockedOut)
    );
    // Back to real time: the clock is rolled back, nothing time-dependent
    // opens, guesses are still refused unseen (the budget is empty at the
    // lock's time, which does not run backwards).
    door.skew = 0;
    let c = door.lock.check(stay.as_bytes(), door.clock());
    assert!(matches!(c.clock, ClockStatus::RolledBack { .. }));
    assert_eq!(c.decision, Decision::Refuse(Refusal::LockedOut));
    // Over the whole run, each of the five clock settings bought at most
    // one budget, and waiting two refills.
    assert!(door.failures.len() <= budget * 5 + 2);
}

/// Issue 9, point 1, fourth bullet: a strike written only after the
/// outcome is known is erased by a power cut timed during the check.
/// With count-before-check it is on flash before the check runs.
#[test]
fn lock_power_cut_during_the_check_does_not_erase_the_failure() {
    let p = STANDARD_10;
    let t0 = p.epoch() + 20_000 * HOUR;
    let budget = usize::from(p.lockout().budget);
    // Count-before-check: every cut-short guess stays counted.
    let mut door = Door::new(p, Mode::CountBeforeCheck, t0);
    for n in 0..100u64 {
        door.wait_unlocked();
        door.enter(&guess(p, n * 7 + 1), Cut::AfterDecision);
        door.wait(3);
        if door.real > t0 + HOUR - 60 {
            break;
        }
    }
    assert!(
        door.failures.len() <= budget + 1,
        "{} guesses evaluated in an hour of power cuts",
        door.failures.len()
    );
    assert!(door.lock.budget_left(door.clock()) <= 1);

    // The same attack on check-then-count: the failure is computed, the
    // power is cut before it is written, and the budget never moves. This
    // is why the firmware must charge first (docs/LOCK.md §2).
    let mut lock = L::new(codec(p), UtcOffset::UTC).unwrap();
    let mut flash = vec![0u8; L::STATE_LEN];
    lock.save(&mut flash).unwrap();
    for n in 0..50u64 {
        let c = lock.check(&guess(p, n), t0 + n as i64);
        assert!(matches!(c.decision, Decision::Refuse(r) if r != Refusal::LockedOut));
        lock = started(L::load(codec(p), UtcOffset::UTC, &flash).unwrap()); // cut
    }
    assert_eq!(lock.budget_left(t0), p.lockout().budget);
}

/// Count-before-check costs: a failed entry one write, an opening two, an
/// entry refused while locked out none (docs/LOCK.md §2).
#[test]
fn lock_count_before_check_costs_one_write_per_failure_two_per_opening() {
    let p = STANDARD_10;
    let t0 = p.epoch() + 20_000 * HOUR;
    let own: Pin = codec(p).issue(&Request::ongoing(1)).unwrap().pin;
    let mut lock = L::new(codec(p), UtcOffset::UTC).unwrap();
    let writes = |lock: &mut L, typed: &[u8], now| {
        let mut n = 0;
        let charge = lock.charge(now);
        n += usize::from(charge.needs_write());
        lock.commit(charge).unwrap();
        let c = lock.check(typed, now);
        n += usize::from(c.change.needs_write());
        lock.commit(c.change).unwrap();
        (n, c.decision)
    };
    let (n, d) = writes(&mut lock, own.as_bytes(), t0);
    assert_eq!((n, d.opens()), (2, true));
    assert_eq!(lock.budget_left(t0), p.lockout().budget, "refunded");
    for k in 0..5 {
        let (n, d) = writes(&mut lock, b"0000000000", t0 + k);
        assert_eq!((n, d), (1, Decision::Refuse(Refusal::InvalidCode)));
    }
    let (n, d) = writes(&mut lock, own.as_bytes(), t0 + 10);
    assert_eq!((n, d), (0, Decision::Refuse(Refusal::LockedOut)));
    assert_eq!(lock.budget_left(t0 + 10), p.lockout().budget - 5);
}

/// Issue 17, point 3: stolen clock-setting codes buy no guess. Each code
/// moves the lock's time up to a step (7 days) forward; the budget's refill
/// period moves with the jump, so the published attempts per day bound
/// every 24 hours of real time, whatever number of codes is in hand.
#[cfg(feature = "format-v2")]
mod clock_codes {
    use super::*;
    use offpin::profile::shipped::STANDARD_10_V2;

    /// The code of the latest instant of the profile's grid within a step
    /// ahead of the door's clock (the biggest jump one code makes), or of
    /// `lock time + ahead` when `ahead` is given.
    fn clock_code(door: &Door, ahead: Option<i64>) -> Pin {
        let codes = door.p.params().clock_codes;
        let unit = codes.unit_secs();
        let at = door.lock.highest_seen().max(door.clock())
            + ahead.unwrap_or(codes.max_step_secs() - unit);
        codec(door.p)
            .issue(&Request::clock_set(at).with_max_rounding_secs(unit as u32))
            .unwrap()
            .pin
    }

    /// An attacker at a `standard-10-v2` door holding `codes` stolen clock
    /// codes (and, if `insider`, their own ongoing code, typed before each
    /// back-off would start): guesses whenever the keypad takes an entry,
    /// one every 3 s, for two days, and types a clock code whenever one
    /// failure is left in the budget (the last moment it is evaluated:
    /// with none left it is refused unseen), so that each jump would bank
    /// the most. A stranger, whose back-off grows to a day (during which
    /// time refills the budget anyway), types one whenever the budget is
    /// not full. Returns the most evaluated guesses in any 24 hours of
    /// real time, and how far the codes moved the lock's clock.
    fn clock_code_siege(codes: usize, insider: bool, mode: Mode) -> (usize, i64) {
        let p = STANDARD_10_V2;
        let t0 = p.epoch() + 20_000 * HOUR;
        let own = codec(p).issue(&Request::ongoing(1)).unwrap().pin;
        let mut door = Door::new(p, mode, t0);
        let batch = u64::from(p.lockout().failures);
        let mut left = codes;
        let mut n = 0u64;
        while door.real < t0 + 2 * DAY {
            let now = door.clock();
            if door.lock.locked_out_until(now).is_some() {
                door.wait_unlocked();
                continue;
            }
            let banked = door.lock.budget_left(now);
            if left > 0 && (banked == 1 || !insider && banked < p.lockout().budget) {
                let code = clock_code(&door, None);
                let d = door.enter(code.as_bytes(), Cut::None);
                assert!(matches!(d, Some(Decision::ClockSet { .. })), "{d:?}");
                left -= 1;
            } else if insider && door.lock.consecutive_failures() + 1 == batch {
                assert!(door.enter(own.as_bytes(), Cut::None).unwrap().opens());
            } else {
                n += 1;
                door.enter(&guess(p, n * 104_729), Cut::None);
            }
            door.wait(3);
        }
        assert_eq!(left, 0, "every code was used");
        (door.most_in(DAY), door.skew)
    }

    /// The issue's attack: an insider with their own code and 1, 2, 5 or
    /// 20 clock codes got 42, 51, 78 or 213 guesses in the worst 24 hours,
    /// a stranger with 20 got 45; the published bound is 34. Now every
    /// one of them gets no more than without a code, and never more than
    /// `attempts_in(24 h)`.
    #[test]
    fn stolen_clock_codes_buy_no_guesses() {
        let p = STANDARD_10_V2;
        let bound = attempts_in(&p, DAY);
        assert_eq!(bound, p.security().attempts_per_day);
        assert_eq!(bound, 34);
        let step = p.params().clock_codes.max_step_secs();
        let unit = p.params().clock_codes.unit_secs();
        for mode in [Mode::CountBeforeCheck, Mode::CheckThenCount] {
            let (without, _) = clock_code_siege(0, true, mode);
            for (codes, insider) in [(1, true), (2, true), (5, true), (20, true), (20, false)] {
                let (most, ahead) = clock_code_siege(codes, insider, mode);
                let who = if insider { "insider" } else { "stranger" };
                println!(
                    "standard-10-v2 ({mode:?}): {who} with {codes} clock codes: {most} guesses in the worst 24 h (0 codes: {without}; published bound {bound}); the lock's clock {} days ahead",
                    ahead / DAY
                );
                assert!(most as u64 <= bound, "{who}, {codes} codes: {most}");
                // The codes change nothing: as many as an insider without
                // one (docs/LOCK.md §4 and SECURITY.md state it).
                assert_eq!(most, without, "{who}, {codes} codes");
                // The codes were real jumps, each nearly a whole step.
                assert!(ahead >= codes as i64 * (step - 2 * unit), "{ahead}");
            }
            println!("standard-10-v2 ({mode:?}): insider without clock codes: {without}");
            // The adversary is greedy enough to come within one of the
            // bound (the figure the docs state).
            assert_eq!(without, 33);
        }
    }

    #[derive(Clone, Debug)]
    enum ClockOp {
        /// One of the v1 adversary's moves (no clock skew: each code sets
        /// the RTC, see below).
        Plain(Op),
        /// A stolen clock code of the lock's time plus `ahead` seconds
        /// (in the past, within the step, or beyond it), typed with a
        /// power cut after the charge or the decision, or none.
        ClockCode { ahead: i64, cut: u8 },
    }

    fn clock_op() -> impl Strategy<Value = ClockOp> {
        let step = STANDARD_10_V2.params().clock_codes.max_step_secs();
        prop_oneof![
            5 => op()
                .prop_filter("skews: see the proptest", |o| !matches!(o, Op::Skew { .. }))
                .prop_map(ClockOp::Plain),
            2 => (-DAY..step + DAY, 0u8..4).prop_map(|(ahead, cut)| ClockOp::ClockCode { ahead, cut }),
            1 => (step - 1_200..step).prop_map(|ahead| ClockOp::ClockCode { ahead, cut: 0 }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Clock codes (useful ones, expired ones, ones beyond the step)
        /// interleaved with guesses, openings, waits for lock-outs, waits,
        /// reloads and power cuts: no span of real time between two
        /// evaluated failures holds more than `attempts_in` of it. The
        /// RTC runs with real time from the instant each code sets it
        /// (its drift within the grace is the v1 proptest's).
        #[test]
        fn clock_codes_never_exceed_the_published_attempts(
            charged in any::<bool>(),
            ops in proptest::collection::vec(clock_op(), 50..250),
        ) {
            let p = STANDARD_10_V2;
            let mode = if charged { Mode::CountBeforeCheck } else { Mode::CheckThenCount };
            let t0 = p.epoch() + 20_000 * HOUR;
            let insider = codec(p).issue(&Request::ongoing(0)).unwrap().pin;
            let mut door = Door::new(p, mode, t0);
            let mut jumps = 0;
            for op in ops {
                match op {
                    ClockOp::ClockCode { ahead, cut } => {
                        let cut = match cut {
                            1 => Cut::AfterCharge,
                            2 => Cut::AfterDecision,
                            _ => Cut::None,
                        };
                        let code = clock_code(&door, Some(ahead));
                        let before = door.skew;
                        door.enter(code.as_bytes(), cut);
                        // The RTC was set: the code's jump was committed.
                        jumps += u32::from(door.skew != before);
                        door.wait(3);
                    }
                    ClockOp::Plain(Op::Guesses { n, seed, cut_every }) => {
                        guesses(&mut door, p, n, seed, cut_every)
                    }
                    ClockOp::Plain(Op::Insider) => {
                        door.enter(insider.as_bytes(), Cut::None);
                        door.wait(3);
                    }
                    ClockOp::Plain(Op::WaitAndGuess { seed }) => {
                        door.wait_unlocked();
                        door.enter(&guess(p, seed), Cut::None);
                        door.wait(3);
                    }
                    ClockOp::Plain(Op::Wait { secs }) => door.wait(i64::from(secs)),
                    ClockOp::Plain(Op::Reload) => door.reboot(),
                    ClockOp::Plain(Op::Skew { .. }) => unreachable!("filtered out"),
                }
            }
            door.assert_within_bounds()?;
            // Not vacuous: the clock codes moved the clock (each jump sets
            // the RTC ahead of the lock's time, never behind real time).
            prop_assert!(jumps == 0 || door.skew > 0);
        }
    }
}

/// Issue 17, point 3: an attacker who controls the lock's real-time clock
/// itself (a physical attack, not a clock code) and moves it past every
/// lock-out is bounded by the typing rate: at one entry every 3 s, 28 800
/// guesses a day. Each guess beyond the budget costs a refill of the
/// lock's time, so the lock's clock ends years ahead
/// ([`offpin::security::rtc_attack`]), which the owner notices.
#[test]
fn lock_rtc_attacker_is_bounded_by_the_typing_rate() {
    let p = STANDARD_10;
    let refill = i64::from(p.lockout().refill_secs);
    let day = offpin::security::rtc_attack(&p, DAY, 3);
    assert_eq!(day.guesses, 28_800);
    assert_eq!(day.lock_secs, (28_800 - 10) * 3_600);
    assert_eq!(day.ahead_secs, day.lock_secs - DAY as u64);
    // A stranger (the back-off is never reset: each batch needs a jump of
    // up to a day) and an insider (4 guesses, then their own code).
    for insider in [false, true] {
        let t0 = p.epoch() + 20_000 * HOUR;
        let own = codec(p).issue(&Request::ongoing(1)).unwrap().pin;
        let mut door = Door::new(p, Mode::CountBeforeCheck, t0);
        // Entries typed, and the lock's time at the last guess since t0.
        let (mut n, mut entries, mut last) = (0u64, 0u64, 0i64);
        while door.real < t0 + DAY {
            if let Some(until) = door.lock.locked_out_until(door.clock()) {
                door.skew = until - door.real;
            }
            entries += 1;
            if insider && door.lock.consecutive_failures() == 4 {
                assert!(door.enter(own.as_bytes(), Cut::None).unwrap().opens());
            } else {
                n += 1;
                last = door.clock() - t0;
                let d = door.enter(&guess(p, n * 7_919), Cut::None);
                assert!(matches!(d, Some(Decision::Refuse(r)) if r != Refusal::LockedOut));
            }
            door.wait(3);
        }
        let guesses = door.failures.len() as u64;
        assert_eq!(entries, day.guesses, "one entry every 3 s");
        assert_eq!(guesses, n, "every guess is evaluated");
        let need = offpin::security::rtc_attack(&p, guesses as i64 * 3, 3);
        assert_eq!(need.guesses, guesses);
        println!(
            "standard-10: RTC attacker ({}): {guesses} guesses in 24 h, the lock's clock {:.2} years ahead (at least {:.2})",
            if insider { "insider" } else { "stranger" },
            (last - DAY) as f64 / (365 * DAY) as f64,
            need.ahead_secs as f64 / (365 * DAY) as f64,
        );
        assert!(last as u64 >= need.lock_secs, "{last}");
        if insider {
            // Tight: every guess beyond the budget costs one refill.
            assert!(last as u64 <= need.lock_secs + refill as u64, "{last}");
        }
    }
}

/// Issue 19: anti-peep entry. A PIN typed anywhere inside a longer entry
/// (up to the profile's `entry_max_digits`) opens; the entry counts once
/// for the lock-out, whatever number of windows the lock tried; an entry
/// that opens at a later window tested the windows before it, so it keeps
/// its charge (an insider cannot hide guesses in front of their own code).
#[cfg(feature = "anti-peep")]
mod anti_peep {
    use super::*;
    use offpin::{Grant, ProfileParams};

    /// `standard-10` searching entries of up to 16 keys: 7 positions.
    pub(crate) fn profile() -> Profile {
        Profile::new(ProfileParams {
            name: "standard-10-anti-peep-16",
            entry_max_digits: 16,
            ..STANDARD_10.params()
        })
        .unwrap()
    }

    /// `n` filler digits (a fixed pseudo-random sequence of `seed`).
    fn filler(seed: u64, n: usize) -> Vec<u8> {
        let mut x = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                b'0' + ((x >> 33) % 10) as u8
            })
            .collect()
    }

    /// `pin` between `before` and `after` filler digits.
    fn embed(pin: &[u8], before: usize, after: usize, seed: u64) -> Vec<u8> {
        let mut entry = filler(seed, before);
        entry.extend_from_slice(pin);
        entry.extend(filler(seed ^ 0xA5A5, after));
        entry
    }

    const MODES: [Mode; 2] = [Mode::CountBeforeCheck, Mode::CheckThenCount];

    fn t0(p: Profile) -> UnixSeconds {
        p.epoch() + 20_000 * HOUR
    }

    #[test]
    fn anti_peep_a_pin_at_every_offset_opens() {
        let p = profile();
        let budget = p.lockout().budget;
        let pin = codec(p).issue(&Request::ongoing(3)).unwrap().pin;
        for mode in MODES {
            for len in 10..=16 {
                for before in 0..=len - 10 {
                    let mut door = Door::new(p, mode, t0(p));
                    let entry = embed(pin.as_bytes(), before, len - 10 - before, len as u64);
                    let now = door.clock();
                    let c = door.lock.check(&entry, now);
                    assert_eq!(c.key, Some(0));
                    assert_eq!(
                        door.enter(&entry, Cut::None),
                        Some(Decision::Open(Grant::Ongoing { slot: 3 })),
                        "{mode:?} {}",
                        String::from_utf8_lossy(&entry)
                    );
                    // The first window decides alone; a later one after
                    // `before` PINs tested and refused: one failure.
                    let spent = u16::from(before > 0);
                    assert_eq!(door.lock.budget_left(now), budget - spent, "{mode:?}");
                    assert_eq!(door.lock.consecutive_failures(), 0, "an opening clears");
                }
            }
        }
    }

    #[test]
    fn anti_peep_a_split_or_altered_pin_does_not_open() {
        let p = profile();
        let pin = codec(p).issue(&Request::ongoing(4)).unwrap().pin;
        let pin = pin.as_bytes();
        let mut entries = Vec::new();
        // Split by 1 to 6 digits typed inside it.
        for at in 1..10 {
            for inserted in 1..=6 {
                let mut e = pin[..at].to_vec();
                e.extend(filler(at as u64 * 7 + inserted as u64, inserted));
                e.extend_from_slice(&pin[at..]);
                entries.push(e);
            }
        }
        // One digit off, at every offset of a 16-key entry.
        for digit in 0..10 {
            let mut off = pin.to_vec();
            off[digit] = b'0' + (off[digit] - b'0' + 1) % 10;
            for before in 0..=6 {
                entries.push(embed(&off, before, 6 - before, digit as u64));
            }
        }
        // Cut short at either end.
        entries.push(embed(&pin[1..], 7, 0, 1));
        entries.push(embed(&pin[..9], 0, 7, 2));
        for mode in MODES {
            for entry in &entries {
                let mut door = Door::new(p, mode, t0(p));
                let d = door.enter(entry, Cut::None).unwrap();
                assert!(
                    matches!(d, Decision::Refuse(r) if r != Refusal::LockedOut && r != Refusal::MemoryFull),
                    "{} -> {d:?}",
                    String::from_utf8_lossy(entry)
                );
                assert_eq!(door.lock.budget_left(door.clock()), p.lockout().budget - 1);
                assert_eq!(door.lock.consecutive_failures(), 1);
            }
        }
    }

    #[test]
    fn anti_peep_an_entry_over_the_bound_is_refused_as_one_failure() {
        let p = profile();
        let pin = codec(p).issue(&Request::ongoing(5)).unwrap().pin;
        let pin = pin.as_bytes();
        for mode in MODES {
            for entry in [
                embed(pin, 0, 7, 1),
                embed(pin, 7, 0, 2),
                embed(pin, 3, 4, 3),
                embed(pin, 11, 11, 4),
                embed(pin, 0, 1_000, 5),
            ] {
                let mut door = Door::new(p, mode, t0(p));
                let now = door.clock();
                let c = door.lock.check(&entry, now);
                assert_eq!(
                    (c.decision, c.key),
                    (Decision::Refuse(Refusal::InvalidCode), None)
                );
                assert_eq!(
                    door.enter(&entry, Cut::None),
                    Some(Decision::Refuse(Refusal::InvalidCode))
                );
                assert_eq!(door.lock.budget_left(now), p.lockout().budget - 1);
                assert_eq!(door.lock.consecutive_failures(), 1);
            }
        }
    }

    /// A long entry of wrong digits tries 7 PINs and counts one failure:
    /// one charge (count-before-check) or one failure (check-then-count),
    /// for the budget and the back-off alike.
    #[test]
    fn anti_peep_a_long_wrong_entry_counts_once() {
        let p = profile();
        let policy = p.lockout();
        for mode in MODES {
            let mut door = Door::new(p, mode, t0(p));
            for k in 1..=u16::from(policy.failures) {
                assert_eq!(
                    door.lock.locked_out_until(door.clock()),
                    None,
                    "{mode:?} {k}"
                );
                let entry = filler(u64::from(k) * 1_000 + 17, 16);
                assert!(matches!(
                    door.enter(&entry, Cut::None),
                    Some(Decision::Refuse(r)) if r != Refusal::LockedOut
                ));
                assert_eq!(door.lock.budget_left(door.clock()), policy.budget - k);
                assert_eq!(door.lock.consecutive_failures(), u64::from(k));
                door.wait(3);
            }
            // The back-off starts after `failures` entries, not windows.
            assert!(
                door.lock.locked_out_until(door.clock()).is_some(),
                "{mode:?}"
            );
            assert_eq!(door.failures.len(), usize::from(policy.failures));
        }
    }

    #[test]
    fn anti_peep_a_one_time_code_inside_a_longer_entry_opens_once() {
        let p = profile();
        let start = t0(p) + 10 * HOUR;
        let pin = codec(p).issue(&Request::one_time(start)).unwrap().pin;
        let pin = pin.as_bytes();
        for mode in MODES {
            let mut door = Door::new(p, mode, start + 60);
            let d = door.enter(&embed(pin, 3, 2, 9), Cut::None).unwrap();
            assert!(matches!(d, Decision::Open(Grant::OneTime { .. })), "{d:?}");
            for entry in [embed(pin, 0, 6, 10), embed(pin, 6, 0, 11), pin.to_vec()] {
                door.wait(3);
                let d = door.enter(&entry, Cut::None).unwrap();
                assert!(matches!(d, Decision::Refuse(_)), "{mode:?}: {d:?}");
            }
            door.wait(3);
            assert_eq!(
                door.enter(pin, Cut::None),
                Some(Decision::Refuse(Refusal::AlreadyUsed))
            );
            assert_eq!(door.opened, 1);
        }
    }

    /// An insider who types guesses in front of their own code: each entry
    /// opens, but tested up to 6 other PINs, so each spends a failure; the
    /// budget stops them as it stops a stranger (and the published
    /// per-attempt figure, 7 PINs an entry, bounds what they tested).
    #[test]
    fn anti_peep_an_insider_cannot_hide_guesses_before_their_own_code() {
        let p = profile();
        let budget = usize::from(p.lockout().budget);
        let own = codec(p).issue(&Request::ongoing(6)).unwrap().pin;
        for mode in MODES {
            let mut door = Door::new(p, mode, t0(p));
            let mut opened = 0;
            for k in 0..100u64 {
                let entry = embed(own.as_bytes(), 6, 0, k);
                match door.enter(&entry, Cut::None) {
                    Some(d) if d.opens() => opened += 1,
                    Some(Decision::Refuse(Refusal::LockedOut)) => break,
                    other => panic!("{other:?}"),
                }
            }
            assert_eq!(opened, budget, "{mode:?}: the clock stood still");
            // Their own code alone still opens once the budget refills.
            door.wait(p.lockout().refill_secs.into());
            assert!(door.enter(own.as_bytes(), Cut::None).unwrap().opens());
        }
    }

    const PROP_PINS: usize = 4;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        /// Random entries (some with an issued PIN typed inside) never
        /// open unless a window of the entry is a PIN of the grant that
        /// opened; an issued PIN inside an entry within the bound always
        /// opens; every entry costs one failure or none.
        #[test]
        fn anti_peep_never_opens_unless_a_window_is_a_pin(
            digits in proptest::collection::vec(0u8..10, 0..=20),
            embedded in proptest::option::of((0..PROP_PINS, 0usize..=20)),
            charged in any::<bool>(),
        ) {
            let p = profile();
            let now = t0(p) + 30 * 60;
            let c = codec(p);
            let pins: [Pin; PROP_PINS] = [
                c.issue(&Request::ongoing(7)).unwrap().pin,
                c.issue(&Request::time_bound(t0(p), t0(p) + 5 * HOUR)).unwrap().pin,
                c.issue(&Request::one_time(t0(p))).unwrap().pin,
                c.issue(&Request::ongoing(8)).unwrap().pin,
            ];
            let mut entry: Vec<u8> = digits.iter().map(|d| b'0' + d).collect();
            if let Some((which, at)) = embedded {
                let at = at.min(entry.len());
                entry.splice(at..at, pins[which].as_bytes().iter().copied());
            }
            let mode = if charged { Mode::CountBeforeCheck } else { Mode::CheckThenCount };
            let mut door = Door::new(p, mode, now);
            let before = door.lock.budget_left(now);
            let d = door.enter(&entry, Cut::None).unwrap();
            let spent = before - door.lock.budget_left(now);
            let within = entry.len() >= 10 && entry.len() <= 16;
            if embedded.is_some() && within {
                prop_assert!(d.opens(), "{} -> {d:?}", String::from_utf8_lossy(&entry));
            }
            match d {
                Decision::Open(grant) => {
                    prop_assert!(within);
                    let at = entry
                        .windows(10)
                        .position(|w| c.decode_input(w) == Ok(grant));
                    prop_assert!(at.is_some(), "no window is a PIN of {grant:?}");
                    prop_assert_eq!(spent, u16::from(at != Some(0)));
                }
                Decision::Refuse(r) => {
                    prop_assert!(r != Refusal::LockedOut && r != Refusal::MemoryFull);
                    prop_assert_eq!(spent, 1);
                }
                other => prop_assert!(false, "{other:?}"),
            }
        }
    }
}

/// Issue 19: a lock built without the `anti-peep` feature refuses a
/// profile that searches longer entries, and accepts one that does not
/// (`entry_max_digits` 0 or `digits`).
#[cfg(not(feature = "anti-peep"))]
#[test]
fn anti_peep_a_lock_without_the_feature_refuses_the_profile() {
    use offpin::{LockError, ProfileParams};
    let with = |e: u8| {
        Profile::new(ProfileParams {
            entry_max_digits: e,
            ..STANDARD_10.params()
        })
        .unwrap()
    };
    assert_eq!(
        L::new(codec(with(16)), UtcOffset::UTC).unwrap_err(),
        LockError::AntiPeepNotBuilt {
            entry_max_digits: 16
        }
    );
    for off in [0, 10] {
        assert!(L::new(codec(with(off)), UtcOffset::UTC).is_ok());
    }
}
