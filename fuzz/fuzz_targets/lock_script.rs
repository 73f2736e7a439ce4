//! The lock's entry sequence over arbitrary scripts of entries (issued
//! codes of every kind typed by insiders who hold them, and guesses), clock
//! moves (forward, backward, jumps), power cuts (before the image is
//! written, after it is written but before the commit, in the middle of the
//! write), reboots (`load_newest_with_counter` of the two image slots),
//! configuration changes between reboots (grace, UTC offset, key order) and
//! foreign, forged and rolled-back images offered at boot, for every shipped
//! profile with a two-key lock that remembers 4 codes, in count-before-check
//! mode or check-then-count mode.
//!
//! Oracles, checked against a model that records what the lock has
//! persisted (a change counts once its image is written):
//! * a one-time code never opens twice;
//! * a revoked ongoing slot never opens; a code that started before a
//!   persisted "started before" revocation never opens; a code of a lineage
//!   never opens once a newer code of that lineage has opened (marks as the
//!   lock fixes them: an hour and a local day, at the offset of the moment);
//! * lock-out is honoured: after every `failures` counted refusals the
//!   keypad refuses everything with `LockedOut` for at least `base_secs`
//!   of the lock's (monotonic) time, without changing the state;
//! * with count-before-check, the refused entries the lock evaluated in
//!   any span of its time never exceed `attempts_in` of that span,
//!   whatever openings, power cuts and reboots came in between;
//! * whatever opens is a code issued for this lock (its PIN re-issues under
//!   the key the lock reports) whose window the profile accepts at the
//!   lock's time, and time-dependent codes never open on a rolled-back
//!   clock;
//! * after any power cut, the newest valid image loads; an image of another
//!   lock, an edited one resealed with the CRC, and an older genuine one
//!   never load.

#![no_main]

#[path = "common.rs"]
mod common;

use std::collections::HashSet;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use offpin::lock::{Change, ClockStatus, Decision, Lock};
use offpin::security::attempts_in;
use offpin::{Grant, PersistError, Profile, Refusal, RevokeTarget, UtcOffset, Verdict};

use common::{DAY, HOUR, KEYS, MEMORY, codecs_in, fix_crc, keypad, universes, with_grace};

type L = Lock<MEMORY, KEYS>;

/// `OFFPIN_FUZZ_TRACE=1` prints every entry (to read a crash).
fn trace() -> bool {
    static TRACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("OFFPIN_FUZZ_TRACE").is_some())
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Crash {
    None,
    /// After the decision, before its image is written.
    BeforeSave,
    AfterSave,
    /// The image write stops after this many bytes (mod its length).
    Torn(u16),
}

#[derive(Arbitrary, Debug)]
enum Action {
    /// Type an issued code, `minutes * 15` after the previous action.
    Enter { code: u8, minutes: i8, crash: Crash },
    /// Type a guess (mapped onto the keypad, or raw bytes).
    Guess {
        bytes: [u8; 12],
        raw: bool,
        minutes: i8,
        crash: Crash,
    },
    /// Move the clock by hours (backwards too: a reset RTC).
    Jump { hours: i8 },
    /// Record the clock in the state.
    Observe,
    /// Power cycle.
    Reboot,
    /// Power cycle into another configuration: UTC offset, grace, keys
    /// in the other order.
    Reconfigure {
        offset_quarters: i8,
        grace: u8,
        swap: bool,
    },
    /// Offer an image that must not load: another lock's, an edited and
    /// CRC-resealed one, an older genuine one, or garbage.
    Tamper { kind: u8, at: u16, byte: u8 },
}

#[derive(Arbitrary, Debug)]
struct Script {
    profile: u8,
    offset_quarters: i8,
    charged: bool,
    actions: Vec<Action>,
}

/// Marks as the lock keeps them: an hour and a local day.
#[derive(Clone, Copy, Default)]
struct Mark {
    hour: u32,
    day: u32,
}

fn day_at_or_after(x: i64, offset: UtcOffset) -> u32 {
    (x + offset.seconds()).div_euclid(DAY) as u32
        + u32::from((x + offset.seconds()).rem_euclid(DAY) != 0)
}

fn hour_at_or_after(x: i64) -> u32 {
    x.div_euclid(HOUR) as u32 + u32::from(x.rem_euclid(HOUR) != 0)
}

/// The mark a code starting like `grant` sets, at `offset`.
fn mark_of(grant: &Grant, offset: UtcOffset) -> Option<Mark> {
    match grant {
        Grant::Hourly(s) => Some(Mark {
            hour: s.start,
            day: day_at_or_after(i64::from(s.start) * HOUR, offset),
        }),
        Grant::OneTime { start_hour, .. } => Some(Mark {
            hour: *start_hour,
            day: day_at_or_after(i64::from(*start_hour) * HOUR, offset),
        }),
        Grant::Daily(s) => Some(Mark {
            hour: hour_at_or_after(i64::from(s.start) * DAY - offset.seconds()),
            day: s.start,
        }),
        _ => None,
    }
}

/// Whether `grant` starts before `mark`.
fn before(grant: &Grant, mark: Mark) -> bool {
    match grant {
        Grant::Hourly(s) => s.start < mark.hour,
        Grant::OneTime { start_hour, .. } => *start_hour < mark.hour,
        Grant::Daily(s) => s.start < mark.day,
        _ => false,
    }
}

struct Model {
    /// (key id, index) of one-time codes that opened the door.
    opened_one_time: HashSet<(usize, u64)>,
    revoked_slots: HashSet<u32>,
    watermark: Mark,
    lineage_marks: [Mark; 17],
    strikes: u8,
    locked_until: i64,
    /// Count-before-check: the back-off before the charge of the entry
    /// being checked (an opening, a revocation or `MemoryFull` gives the
    /// charge back).
    before_charge: (u8, i64),
    /// The lock's time of every refused entry it evaluated.
    evaluated_failures: Vec<i64>,
}

struct Harness {
    base: Profile,
    profile: Profile,
    offset: UtcOffset,
    /// Key id at each position of the lock.
    order: [usize; KEYS],
    charged: bool,
    lock: L,
    flash: [Vec<u8>; 2],
    /// The simulated monotonic counter, bumped after each image write.
    counter: u32,
    /// The provisioning image (counter 1), kept for a rollback attempt.
    first_image: Vec<u8>,
    now: i64,
    model: Model,
}

impl Harness {
    fn codecs(&self) -> [offpin::Codec; KEYS] {
        codecs_in(self.profile, self.order)
    }

    fn reboot(&mut self) {
        self.lock = L::load_newest_with_counter(
            self.codecs(),
            self.offset,
            &[&self.flash[0], &self.flash[1]],
            self.counter,
        )
        .expect("the newest complete image always loads");
        // The start: the loaded state written again, the counter raised.
        assert!(!self.lock.is_started());
        let start = self.lock.start();
        let (done, start) = self.write(start, None);
        assert!(done);
        self.lock.commit(start).expect("the start commits");
    }

    /// Writes the image after `change` to its slot (or tears the write).
    /// Returns whether the write completed.
    fn write(&mut self, change: Change, torn: Option<u16>) -> (bool, Change) {
        if !change.needs_write() {
            return (true, change);
        }
        assert_eq!(
            change.counter(),
            self.counter + 1,
            "every image: counter + 1"
        );
        let slot = (change.image_sequence() % 2) as usize;
        let mut image = vec![0u8; L::STATE_LEN];
        self.lock
            .save_after(&change, &mut image)
            .expect("save_after of a fresh change");
        match torn {
            Some(keep) => {
                let keep = usize::from(keep) % L::STATE_LEN;
                self.flash[slot][..keep].copy_from_slice(&image[..keep]);
                // The bytes not written may already be the new image's
                // (the slot held an image whose tail matches): then the
                // write did complete.
                let done = self.flash[slot] == image;
                if done {
                    self.counter = change.counter();
                }
                (done, change)
            }
            None => {
                self.flash[slot] = image;
                self.counter = change.counter();
                (true, change)
            }
        }
    }

    fn entry(&mut self, typed: &[u8], crash: Crash) {
        if self.charged && !self.charge_first(crash) {
            return;
        }
        let Some((check, t, rolled_back)) = self.judged(typed) else {
            return;
        };
        if let Decision::Open(grant) = check.decision {
            self.legitimate(&check, grant, (t, rolled_back), typed);
        }
        self.persist(check, t, crash);
    }

    /// Count-before-check: the charge written (or torn) before the entry
    /// is checked. Returns false when a torn write rebooted the lock.
    fn charge_first(&mut self, crash: Crash) -> bool {
        let t = self.now.max(self.lock.highest_seen());
        let charge = self.lock.charge(self.now);
        // Inside a lock-out the model knows of, nothing is charged.
        if t < self.model.locked_until {
            assert!(charge.is_empty(), "lock-out ignored by the charge");
        }
        let torn = match crash {
            Crash::Torn(keep) if keep % 2 == 0 => Some(keep / 2),
            _ => None,
        };
        let (done, charge) = self.write(charge, torn);
        if !done {
            self.reboot();
            return false;
        }
        if charge.needs_write() {
            // The failure is on flash before the decision.
            self.model.before_charge = (self.model.strikes, self.model.locked_until);
            self.strike(t);
        }
        self.lock.commit(charge).expect("commit of a fresh charge");
        true
    }

    /// The lock's check of `typed`, against the clock and lock-out
    /// oracles. `None` when the keypad was locked out (nothing to
    /// persist); otherwise the check, the lock's time and whether the
    /// clock was behind the highest time seen by more than the grace.
    fn judged(&mut self, typed: &[u8]) -> Option<(offpin::lock::Check, i64, bool)> {
        let hs = self.lock.highest_seen();
        let t = self.now.max(hs);
        let check = self.lock.check(typed, self.now);
        if trace() {
            eprintln!(
                "now {} t {t} typed {:?} -> {:?} key {:?} write {} failures {} budget {} | model strikes {} until {}",
                self.now,
                String::from_utf8_lossy(typed),
                check.decision,
                check.key,
                check.change.needs_write(),
                self.lock.consecutive_failures(),
                self.lock.budget_left(self.now),
                self.model.strikes,
                self.model.locked_until,
            );
        }
        let rolled_back = hs - self.now > self.profile.grace_secs();
        assert_eq!(
            matches!(check.clock, ClockStatus::RolledBack { .. }),
            rolled_back
        );

        // Lock-out: inside a lock-out the model knows of, nothing is
        // evaluated and nothing changes (a charged entry was refused at
        // its charge already: the charge may lock the keypad, and its
        // entry is still evaluated).
        if !self.charged && t < self.model.locked_until {
            assert_eq!(
                check.decision,
                Decision::Refuse(Refusal::LockedOut),
                "lock-out ignored"
            );
        }
        if check.decision == Decision::Refuse(Refusal::LockedOut) {
            assert!(check.change.is_empty());
            assert!(self.lock.locked_out_until(self.now).is_some());
            return None;
        }
        if matches!(check.decision, Decision::Refuse(r) if r != Refusal::MemoryFull) {
            self.model.evaluated_failures.push(t);
        }
        Some((check, t, rolled_back))
    }

    /// Whatever would open is a legitimate code, valid now: its PIN
    /// re-issues under the key the lock reports, and the profile accepts
    /// its window at the lock's time `t`; on a rolled-back clock only an
    /// ongoing code opens.
    fn legitimate(
        &self,
        check: &offpin::lock::Check,
        grant: Grant,
        (t, rolled_back): (i64, bool),
        typed: &[u8],
    ) {
        let key = check.key.expect("an opening names its key");
        let codec = &self.codecs()[key];
        let pin = codec.pin_for(&grant).expect("an opened grant re-issues");
        assert_eq!(
            pin.as_bytes(),
            typed,
            "opened for digits that are not its PIN"
        );
        match self.profile.check(&grant, t, self.offset) {
            Verdict::Open(_) | Verdict::OpenIfActivated { .. } => {}
            v => panic!("opened {grant:?} at {t} but the profile says {v:?}"),
        }
        if rolled_back {
            assert!(
                matches!(grant, Grant::Ongoing { .. }),
                "time-dependent code opened on a rolled-back clock"
            );
        }
    }

    /// The check's change written (or cut by `crash`), committed, and the
    /// model told what is on flash; an opening counted once it commits.
    fn persist(&mut self, check: offpin::lock::Check, t: i64, crash: Crash) {
        match crash {
            Crash::BeforeSave => {
                if trace() {
                    eprintln!("  crash before save, reboot");
                }
                self.reboot();
                return;
            }
            Crash::Torn(keep) if !self.charged || keep % 2 == 1 => {
                if trace() {
                    eprintln!("  torn write, reboot");
                }
                let (done, _) = self.write(check.change, Some(keep / 2));
                if done {
                    self.persisted(&check.decision, t);
                }
                self.reboot();
                return;
            }
            _ => {}
        }
        let (_, change) = self.write(check.change, None);
        self.persisted(&check.decision, t);
        if let Crash::AfterSave = crash {
            self.reboot();
            return;
        }
        self.lock.commit(change).expect("commit of a fresh change");
        if change.needs_write() {
            let slot = (change.image_sequence() % 2) as usize;
            let mut saved = vec![0u8; L::STATE_LEN];
            self.lock.save(&mut saved).expect("save");
            assert_eq!(saved, self.flash[slot], "save_after and save disagree");
        }
        // The door opens now: the opening-once oracles.
        if let Decision::Open(grant) = check.decision {
            let key = check.key.expect("key");
            self.opened(self.order[key], &grant);
        }
    }

    /// One counted failure at the lock's time `t`.
    fn strike(&mut self, t: i64) {
        let policy = self.profile.lockout();
        self.model.strikes += 1;
        if self.model.strikes >= policy.failures {
            self.model.strikes = 0;
            self.model.locked_until = self.model.locked_until.max(t + i64::from(policy.base_secs));
        }
    }

    /// The model's view of a persisted decision.
    fn persisted(&mut self, decision: &Decision, t: i64) {
        let (strikes, until) = self.model.before_charge;
        match decision {
            Decision::Open(_) | Decision::Service { .. } => {
                self.model.strikes = 0;
                if self.charged {
                    self.model.locked_until = until;
                }
            }
            Decision::Revoked(_)
            | Decision::ClockSet { .. }
            | Decision::Refuse(Refusal::MemoryFull)
                if self.charged =>
            {
                self.model.strikes = strikes;
                self.model.locked_until = until;
            }
            _ => {}
        }
        match decision {
            Decision::Open(_) | Decision::Service { .. } | Decision::ClockSet { .. } => {}
            Decision::Revoked(RevokeTarget::Slot(s)) => {
                self.model.revoked_slots.insert(*s);
            }
            Decision::Revoked(RevokeTarget::StartedBefore { hour }) => {
                let w = &mut self.model.watermark;
                w.hour = w.hour.max(*hour);
                w.day = w
                    .day
                    .max(day_at_or_after(i64::from(*hour) * HOUR, self.offset));
            }
            Decision::Refuse(Refusal::MemoryFull | Refusal::LockedOut) => {}
            // Counted at the charge already.
            Decision::Refuse(_) if self.charged => {}
            Decision::Refuse(_) => self.strike(t),
        }
    }

    fn opened(&mut self, key_id: usize, grant: &Grant) {
        let p = self.profile;
        let index = p.index_of(grant).expect("index");
        match grant {
            Grant::OneTime { .. } => {
                assert!(
                    self.model.opened_one_time.insert((key_id, index)),
                    "one-time code {grant:?} of key {key_id} opened twice"
                );
            }
            Grant::Ongoing { slot } => {
                assert!(
                    !self.model.revoked_slots.contains(slot),
                    "revoked slot {slot} opened"
                );
            }
            _ => {}
        }
        assert!(
            !before(grant, self.model.watermark),
            "{grant:?} opened under the watermark"
        );
        let l = usize::from(grant.lineage());
        if l > 0 {
            let m = self.model.lineage_marks[l];
            assert!(!before(grant, m), "superseded {grant:?} opened");
            if let Some(new) = mark_of(grant, self.offset) {
                self.model.lineage_marks[l] = Mark {
                    hour: m.hour.max(new.hour),
                    day: m.day.max(new.day),
                };
            }
        }
    }

    /// An image that must not load, offered at boot; the lock keeps its
    /// state.
    fn tamper(&mut self, kind: u8, at: u16, byte: u8) {
        let image = match kind % 4 {
            0 => {
                // One foreign key next to one of ours: another lock.
                let foreign = L::new(
                    [
                        offpin::Codec::new(
                            &offpin::DeviceKey::from_bytes([0x77; 16]),
                            self.profile,
                        )
                        .expect("codec"),
                        offpin::Codec::new(&common::key(self.order[1]), self.profile)
                            .expect("codec"),
                    ],
                    self.offset,
                )
                .expect("lock");
                let mut image = vec![0u8; L::STATE_LEN];
                foreign.save(&mut image).expect("save");
                image
            }
            1 => {
                let newest = (self.lock.sequence() % 2) as usize;
                let mut image = self.flash[newest].clone();
                let at = usize::from(at) % (L::STATE_LEN - 20);
                if image[at] == byte {
                    return;
                }
                image[at] = byte;
                fix_crc(&mut image);
                image
            }
            2 => {
                if self.counter <= 1 {
                    return;
                }
                self.first_image.clone()
            }
            _ => {
                let mut image = vec![byte; L::STATE_LEN];
                image[..4].copy_from_slice(b"OPL\x02");
                image
            }
        };
        let r = L::load_with_counter(self.codecs(), self.offset, &image, self.counter);
        match (kind % 4, r) {
            (_, Ok(_)) => panic!("a tampered image (kind {}) loaded", kind % 4),
            (0, Err(e)) => assert!(matches!(e, PersistError::ForeignLock { .. }), "{e:?}"),
            (1, Err(e)) => assert!(
                matches!(
                    e,
                    PersistError::Forged
                        | PersistError::ForeignLock { .. }
                        | PersistError::BadMagic
                        | PersistError::UnknownVersion { .. }
                        | PersistError::Version1
                        | PersistError::WrongLength { .. }
                        | PersistError::CapacityMismatch { .. }
                        | PersistError::KeyCountMismatch { .. }
                        | PersistError::ForeignProfile
                ),
                "{e:?}"
            ),
            (2, Err(e)) => assert!(matches!(e, PersistError::RolledBack { .. }), "{e:?}"),
            (_, Err(_)) => {}
        }
    }

    /// With count-before-check, no span of the lock's time holds more
    /// evaluated refusals than `attempts_in` allows for it.
    fn check_budget(&self) {
        if !self.charged {
            return;
        }
        let mut f = self.model.evaluated_failures.clone();
        f.sort_unstable();
        for i in 0..f.len() {
            for j in i..f.len() {
                let span = f[j] - f[i] + 1;
                let bound = attempts_in(&self.profile, span);
                assert!(
                    (j - i + 1) as u64 <= bound,
                    "{} refusals evaluated within {span} s of lock time, bound {bound}",
                    j - i + 1
                );
            }
        }
    }
}

fuzz_target!(|script: Script| {
    let universes = universes();
    let u = &universes[usize::from(script.profile) % universes.len()];
    let profile = u.profile;
    let offset =
        UtcOffset::from_minutes(i32::from(script.offset_quarters) * 15).unwrap_or(UtcOffset::UTC);
    let order = [0, 1];
    let mut lock = L::new(codecs_in(profile, order), offset).expect("a valid lock");
    let provision = lock.observe_clock(u.t0 - DAY);
    let mut first_image = vec![0u8; L::STATE_LEN];
    lock.save_after(&provision, &mut first_image).expect("save");
    lock.commit(provision).expect("commit");
    let flash = [first_image.clone(), vec![0u8; L::STATE_LEN]];
    let mut h = Harness {
        base: profile,
        profile,
        offset,
        order,
        charged: script.charged,
        lock,
        flash,
        counter: 1,
        first_image,
        now: u.t0 - HOUR,
        model: Model {
            opened_one_time: HashSet::new(),
            revoked_slots: HashSet::new(),
            watermark: Mark::default(),
            lineage_marks: [Mark::default(); 17],
            strikes: 0,
            locked_until: i64::MIN,
            before_charge: (0, i64::MIN),
            evaluated_failures: Vec::new(),
        },
    };
    // The flash slot parity follows the sequence: the provisioning image
    // (sequence 1) belongs in slot 1.
    h.flash.swap(0, 1);
    for action in script.actions.iter().take(96) {
        match action {
            Action::Enter {
                code,
                minutes,
                crash,
            } => {
                h.now += i64::from(*minutes) * 15 * 60;
                let code = &u.codes[usize::from(*code) % u.codes.len()];
                h.entry(&code.pin, *crash);
            }
            Action::Guess {
                bytes,
                raw,
                minutes,
                crash,
            } => {
                h.now += i64::from(*minutes) * 15 * 60;
                let typed = if *raw {
                    bytes[..usize::from(bytes[0] % 13)].to_vec()
                } else {
                    keypad(&profile, bytes)
                };
                h.entry(&typed, *crash);
            }
            Action::Jump { hours } => h.now += i64::from(*hours) * HOUR,
            Action::Observe => {
                let change = h.lock.observe_clock(h.now);
                let (_, change) = h.write(change, None);
                h.lock.commit(change).expect("commit");
            }
            Action::Reboot => {
                if trace() {
                    eprintln!("reboot");
                }
                h.reboot();
            }
            Action::Reconfigure {
                offset_quarters,
                grace,
                swap,
            } => {
                h.offset = UtcOffset::from_minutes(i32::from(*offset_quarters) * 15)
                    .unwrap_or(UtcOffset::UTC);
                h.profile = with_grace(h.base, [0, 60, 600, 1_800, 3_599][usize::from(*grace) % 5]);
                if *swap {
                    h.order.swap(0, 1);
                }
                if trace() {
                    eprintln!(
                        "reconfigure: offset {} grace {} order {:?}",
                        h.offset,
                        h.profile.grace_secs(),
                        h.order
                    );
                }
                h.reboot();
            }
            Action::Tamper { kind, at, byte } => h.tamper(*kind, *at, *byte),
        }
    }
    h.check_budget();
});
