//! The lock's check → persist → commit sequence over arbitrary scripts of
//! entries (issued codes of every kind, and guesses), clock moves (forward,
//! backward, jumps), power cuts (before the image is written, after it is
//! written but before the commit, in the middle of the write) and reboots
//! (`load_newest` of the two image slots), for every shipped profile with a
//! two-key lock that remembers 4 codes.
//!
//! Oracles, checked against a model that records what the lock has
//! persisted (a change counts once its image is written):
//! * a one-time code never opens twice;
//! * a revoked ongoing slot never opens; a code whose window started before
//!   a persisted "started before" revocation never opens; a code of a
//!   lineage never opens once a newer code of that lineage has opened;
//! * lock-out is honoured: after every `failures` counted refusals the
//!   keypad refuses everything with `LockedOut` for at least `base_secs`
//!   of the lock's (monotonic) time, without changing the state;
//! * whatever opens is a code issued for this lock (its PIN re-issues under
//!   the key the lock reports) whose window the profile accepts at the
//!   lock's time, and time-dependent codes never open on a rolled-back
//!   clock;
//! * after any power cut, the newest valid image loads.

#![no_main]

#[path = "common.rs"]
mod common;

use std::collections::HashSet;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use offpin::lock::{ClockStatus, Decision, Lock};
use offpin::{Grant, Profile, Refusal, RevokeTarget, UtcOffset, Verdict};

use common::{HOUR, KEYS, MEMORY, codecs, keypad, universes};

type L = Lock<MEMORY, KEYS>;

/// `OFFPIN_FUZZ_TRACE=1` prints every entry (to read a crash).
fn trace() -> bool {
    static TRACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("OFFPIN_FUZZ_TRACE").is_some())
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Crash {
    None,
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
}

#[derive(Arbitrary, Debug)]
struct Script {
    profile: u8,
    offset_quarters: i8,
    actions: Vec<Action>,
}

struct Model {
    opened_one_time: HashSet<(usize, u64)>,
    revoked_slots: HashSet<u32>,
    watermark: i64,
    lineage_marks: [i64; 17],
    strikes: u8,
    locked_until: i64,
}

struct Harness {
    profile: Profile,
    offset: UtcOffset,
    lock: L,
    flash: [Vec<u8>; 2],
    now: i64,
    model: Model,
}

impl Harness {
    fn reboot(&mut self) {
        self.lock = L::load_newest(
            codecs(self.profile),
            self.offset,
            &[&self.flash[0], &self.flash[1]],
        )
        .expect("the newest complete image always loads");
    }

    fn entry(&mut self, typed: &[u8], crash: Crash) {
        let p = self.profile;
        let hs = self.lock.highest_seen();
        let t = self.now.max(hs);
        let check = self.lock.check(typed, self.now);
        if trace() {
            eprintln!(
                "now {} t {t} typed {:?} -> {:?} key {:?} empty {} failures {} locked_until {:?} | model strikes {} until {}",
                self.now,
                String::from_utf8_lossy(typed),
                check.decision,
                check.key,
                check.change.is_empty(),
                self.lock.consecutive_failures(),
                self.lock.locked_out_until(self.now),
                self.model.strikes,
                self.model.locked_until,
            );
        }
        let rolled_back = hs - self.now > p.grace_secs();
        assert_eq!(
            matches!(check.clock, ClockStatus::RolledBack { .. }),
            rolled_back
        );

        // Lock-out: inside a lock-out the model knows of, nothing is
        // evaluated and nothing changes.
        if t < self.model.locked_until {
            assert_eq!(
                check.decision,
                Decision::Refuse(Refusal::LockedOut),
                "lock-out ignored"
            );
        }
        if check.decision == Decision::Refuse(Refusal::LockedOut) {
            assert!(check.change.is_empty());
            assert!(self.lock.locked_out_until(self.now).is_some());
            return;
        }

        // Whatever would open is a legitimate code, valid now.
        if let Decision::Open(grant) = check.decision {
            let key = check.key.expect("an opening names its key");
            let codec = &codecs(p)[key];
            let pin = codec.pin_for(&grant).expect("an opened grant re-issues");
            assert_eq!(
                pin.as_bytes(),
                typed,
                "opened for digits that are not its PIN"
            );
            match p.check(&grant, t, self.offset) {
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

        match crash {
            Crash::BeforeSave => {
                if trace() {
                    eprintln!("  crash before save, reboot");
                }
                self.reboot();
                return;
            }
            Crash::Torn(keep) => {
                if trace() {
                    eprintln!("  torn write, reboot");
                }
                let slot = (check.change.image_sequence() % 2) as usize;
                let mut image = vec![0u8; L::STATE_LEN];
                self.lock
                    .save_after(&check.change, &mut image)
                    .expect("save");
                let keep = usize::from(keep) % L::STATE_LEN;
                self.flash[slot][..keep].copy_from_slice(&image[..keep]);
                // The bytes not written may already be the new image's (the
                // slot held an image whose tail matches): then the write
                // did complete, and the change is persisted.
                if self.flash[slot] == image {
                    self.persisted(&check.decision, check.key, t);
                }
                self.reboot();
                return;
            }
            Crash::None | Crash::AfterSave => {}
        }

        // Persist.
        let slot = (check.change.image_sequence() % 2) as usize;
        self.lock
            .save_after(&check.change, &mut self.flash[slot])
            .expect("save_after of a fresh change");
        self.persisted(&check.decision, check.key, t);

        if let Crash::AfterSave = crash {
            self.reboot();
            return;
        }
        self.lock
            .commit(check.change)
            .expect("commit of a fresh change");
        let mut saved = vec![0u8; L::STATE_LEN];
        self.lock.save(&mut saved).expect("save");
        assert_eq!(saved, self.flash[slot], "save_after and save disagree");

        // The door opens now: the opening-once oracles.
        if let Decision::Open(grant) = check.decision {
            let key = check.key.expect("key");
            self.opened(key, &grant);
        }
    }

    /// The model's view of a persisted decision.
    fn persisted(&mut self, decision: &Decision, key: Option<usize>, t: i64) {
        let policy = self.profile.lockout();
        match decision {
            Decision::Open(grant) => {
                self.model.strikes = 0;
                let _ = key;
                let _ = grant;
            }
            Decision::Revoked(RevokeTarget::Slot(s)) => {
                self.model.revoked_slots.insert(*s);
            }
            Decision::Revoked(RevokeTarget::StartedBefore { hour }) => {
                let at = self.profile.epoch() + i64::from(*hour) * HOUR;
                self.model.watermark = self.model.watermark.max(at);
            }
            Decision::Refuse(Refusal::MemoryFull | Refusal::LockedOut) => {}
            Decision::Refuse(_) => {
                self.model.strikes += 1;
                if self.model.strikes >= policy.failures {
                    self.model.strikes = 0;
                    self.model.locked_until =
                        self.model.locked_until.max(t + i64::from(policy.base_secs));
                }
            }
        }
    }

    fn opened(&mut self, key: usize, grant: &Grant) {
        let p = self.profile;
        let index = p.index_of(grant).expect("index");
        match grant {
            Grant::OneTime { .. } => {
                assert!(
                    self.model.opened_one_time.insert((key, index)),
                    "one-time code {grant:?} of key {key} opened twice"
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
        if let Some(start) = grant.starts_at(&p, self.offset) {
            assert!(
                start >= self.model.watermark,
                "{grant:?} opened under the watermark"
            );
            let l = usize::from(grant.lineage());
            if l > 0 {
                assert!(
                    start >= self.model.lineage_marks[l],
                    "superseded {grant:?} opened"
                );
                self.model.lineage_marks[l] = self.model.lineage_marks[l].max(start);
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
    let lock = L::new(codecs(profile), offset).expect("a valid lock");
    let mut flash = [vec![0u8; L::STATE_LEN], vec![0u8; L::STATE_LEN]];
    lock.save(&mut flash[0]).expect("save");
    let mut h = Harness {
        profile,
        offset,
        lock,
        flash,
        now: u.t0 - HOUR,
        model: Model {
            opened_one_time: HashSet::new(),
            revoked_slots: HashSet::new(),
            watermark: i64::MIN,
            lineage_marks: [i64::MIN; 17],
            strikes: 0,
            locked_until: i64::MIN,
        },
    };
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
                if !change.is_empty() {
                    let slot = (change.image_sequence() % 2) as usize;
                    h.lock
                        .save_after(&change, &mut h.flash[slot])
                        .expect("save");
                    h.lock.commit(change).expect("commit");
                }
            }
            Action::Reboot => {
                if trace() {
                    eprintln!("reboot");
                }
                h.reboot();
            }
        }
    }
});
