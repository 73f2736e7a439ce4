//! The lock side: a [`Lock`] holds the device key(s), the profile, the UTC
//! offset and a fixed-capacity state, and decides what typed digits do.
//!
//! # The state
//!
//! Everything a lock remembers lives in one plain-data value of fixed size
//! (no heap, `no_std`), saved as one image of [`Lock::STATE_LEN`] bytes:
//!
//! - **memory** of `MEMORY` remembered codes ([`memory`]): used one-time
//!   codes and activated time-bound codes, each until its window (plus the
//!   grace) is over. An unexpired entry is never evicted; a code that needs
//!   an entry when none is free is refused with
//!   [`Refusal::MemoryFull`];
//! - **revocations** ([`revocation`]): revoked ongoing slots (a bitmap of
//!   [`MAX_REVOCABLE_SLOTS`]), the "started before" watermark, and the
//!   supersede mark of each lineage (up to [`MAX_LINEAGES`]);
//! - the **highest time** the lock has seen;
//! - the **lock-out** ([`LockoutPolicy`]): a guess
//!   budget that only time refills, and the back-off counters (consecutive
//!   failures in batches, and until when the keypad is locked);
//! - a **sequence number**, bumped by every [`Lock::commit`] of a change
//!   that is written, that detects stale changes and picks the newer of two
//!   saved images, and a **rollback counter** compared with the firmware's
//!   monotonic counter at boot.
//!
//! # Two-phase validation
//!
//! [`Lock::check`] decides without mutating anything and returns a
//! [`Check`]: the [`Decision`] (open with the grant, apply a revocation, or
//! refuse with a [`Refusal`]) and the [`Change`] of state it implies.
//! Firmware then
//!
//! 1. writes the image of the state *after* the change
//!    ([`Lock::save_after`]) to non-volatile memory, if the change
//!    [needs a write](Change::needs_write),
//! 2. applies the change in RAM ([`Lock::commit`]),
//! 3. and only then drives the motor (or beeps "revoked").
//!
//! **Count-before-check**: before step 1, [`Lock::charge`] counts the
//! entry as a failure and that change is written and committed first, so
//! the failure is on flash before the decision is known; an opening's
//! change refunds it (see [`Lock::charge`] for the cost in writes).
//!
//! A power cut before step 1 completes loses the entry, which did not open
//! the door; after it, the saved image already remembers the entry. So a
//! one-time code can never open twice and an acknowledged revocation is
//! never lost. With two image slots written alternately (the image of
//! sequence number `n` goes to slot `n % 2`, see [`Lock::sequence`]) and
//! [`Lock::load_newest`] at boot, a write torn by a power cut costs
//! nothing either: its CRC fails and the other slot holds the previous
//! state. An entry refused because the keypad is locked out changes
//! nothing ([`Change::is_empty`]), so an attacker hammering a locked keypad
//! does not wear the flash. The image is authenticated and bound to the
//! lock's keys ([`persist`]).
//!
//! A lock loaded from flash is not started: it decides nothing
//! ([`Refusal::NotStarted`]) until the change of [`Lock::start`] (its
//! state written again, with the rollback counter plus one) has been
//! persisted and committed like any other. With a monotonic counter raised
//! to [`Change::counter`] after every write, that makes every image that
//! can load after the lock acted on an entry hold that entry, whatever
//! power cuts and flash writes came between (see [`Lock::start`]).
//!
//! # Time
//!
//! The lock judges every entry at its *monotonic time*
//! `t = max(now, highest_seen)`, and every committed change raises
//! `highest_seen` to `t`. So the lock's view of time never runs backwards:
//! a window it has seen closed never reopens, a memory entry never expires
//! early, and a lock-out never ends early nor the budget refills early,
//! whatever the clock does (a real-time clock moved forward refills the
//! budget at most to its cap; a clock-setting code's jump refills nothing,
//! see [`Decision::ClockSet`]).
//!
//! A clock that is behind `highest_seen` by at most the profile's grace
//! (a drift correction) is simply held at `highest_seen`. A clock that is
//! behind by more is *rolled back* (a reset RTC, a clock set by hand): the
//! [`Check`] reports it in [`Check::clock`], and every code that depends
//! on time (time-bound, one-time, revoke-before) is refused with
//! [`Refusal::ClockRolledBack`] until the clock is set right, because the
//! lock cannot know how much time has really passed. Ongoing codes and
//! slot revocations do not depend on time and keep working, so the owner
//! can still get in. A clock that is merely slow (it stopped during a power
//! loss and resumed from where it was) cannot be detected by the lock; its
//! lag shifts every window by the same amount until the clock is synced.
//!
//! # Failures
//!
//! Every refused entry counts as a failure for the lock-out, including
//! malformed input (empty, wrong length, a letter, a `0` on a nine-key
//! keypad) and well-formed codes that are expired, revoked or refused
//! because the clock is rolled back: a random guess decodes to some grant
//! most of the time, and the attempts figure of
//! [`Profile::security`](crate::Profile::security) holds only if every
//! guess counts. Two entries do not count: one refused because the keypad
//! is locked out (not evaluated at all) and one refused with
//! [`Refusal::MemoryFull`] (a valid code, refused by the lock's own
//! limit). An entry that opens the door resets the back-off but never
//! refills the guess budget (it only gives back its own charge); a
//! revocation code neither counts nor resets. So the attempts
//! [`Profile::security`](crate::Profile::security) publishes bound every
//! span of time, whatever the door sees
//! ([`attempts_in`](crate::security::attempts_in)).
//!
//! # Anti-peep entry
//!
//! With the crate feature `anti-peep`, a lock whose profile sets
//! [`entry_max_digits`](crate::ProfileParams::entry_max_digits) searches
//! an entry longer than a PIN, up to that bound, for a PIN typed among
//! extra digits: every window of `digits` consecutive keys, leftmost
//! first, each judged as a PIN typed alone; the first that opens, revokes
//! or sets the clock decides. The entry counts once for the lock-out. One
//! decided by its first window gives its charge back as a PIN alone would;
//! one decided by a later window, or by none, is one failure (the windows
//! before were PINs tested and refused), so guesses typed around a valid
//! code are never free. Without the feature, [`Lock::new`] refuses such a
//! profile ([`LockError::AntiPeepNotBuilt`]) and no search is linked.
//!
//! # Code rules
//!
//! A profile with code rules ([`crate::rules`]: no start `1 2`, no three
//! keys in a row equal, ascending or descending) is checked by the lock's
//! codecs with the crate feature `code-rules`: an entry that breaks a rule
//! is refused [`Refusal::InvalidCode`] before any AES (and counts as a
//! failure), the others are ranked among the strings that keep the rules
//! and FF1 is walked back. Without the feature such a profile cannot be
//! built ([`ProfileError::CodeRulesNotBuilt`](crate::ProfileError::CodeRulesNotBuilt)),
//! so no lock holds one, and none of the ranking is linked.

mod check;
mod config;
mod error;
mod lockout;
pub mod memory;
mod outcome;
pub mod persist;
pub mod revocation;
pub mod seal;

#[cfg(doc)]
use crate::check::Refusal;
use crate::codec::Codec;
#[cfg(doc)]
use crate::profile::LockoutPolicy;
use crate::profile::Profile;
use crate::security::SecurityFigures;
use crate::time::{UnixSeconds, UtcOffset};
use crate::tz::TzRule;

pub use config::IntoCodecs;
pub use error::{CommitError, LockError};
use lockout::{Budget, Lockout};
use memory::Memory;
pub use memory::{EntryKind, Remembered, service_until_hour, until_hour};
use outcome::Revocation;
pub use outcome::{Change, Check, ClockStatus, Decision};
pub use persist::PersistError;
use revocation::Revocations;
pub use revocation::{MAX_LINEAGES, MAX_REVOCABLE_SLOTS, Mark};
use seal::FINGERPRINT_LEN;

/// The lock's state: plain data, fixed size, saved and loaded as one image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LockState<const MEMORY: usize> {
    pub(crate) seq: u64,
    pub(crate) counter: u32,
    /// Not saved (RAM only): after a load, the rollback counter of the
    /// start image ([`Lock::start`], at least 1) until that image is
    /// committed; the lock decides nothing before. 0 for a started lock.
    pub(crate) start: u32,
    pub(crate) highest_seen: UnixSeconds,
    pub(crate) lockout: Lockout,
    pub(crate) budget: Budget,
    pub(crate) revocations: Revocations,
    pub(crate) memory: Memory<MEMORY>,
}

impl<const MEMORY: usize> LockState<MEMORY> {
    fn fresh(profile: &Profile) -> Self {
        LockState {
            seq: 0,
            counter: 0,
            start: 0,
            highest_seen: profile.epoch(),
            lockout: Lockout::CLEAR,
            budget: Budget::full(&profile.lockout(), profile.epoch()),
            revocations: Revocations::CLEAR,
            memory: Memory::empty(),
        }
    }

    /// Applies a change computed from this state (the caller checked the
    /// sequence number).
    fn apply(&mut self, change: &Change) {
        self.seq = self.seq.wrapping_add(1);
        self.counter = self.counter.max(change.counter);
        self.highest_seen = self.highest_seen.max(change.highest_seen);
        self.lockout = change.lockout;
        self.budget = change.budget;
        if let Some((slot, entry)) = change.remember {
            self.memory.set(slot, entry);
        }
        if let Some((lineage, mark)) = change.lineage {
            self.revocations.mark_lineage(lineage, mark);
        }
        match change.revoke {
            Some(Revocation::Slot(slot)) => self.revocations.revoke_slot(slot),
            Some(Revocation::Before(mark)) => self.revocations.raise_watermark(mark),
            None => {}
        }
    }
}

/// The profile of a lock's first key (every key of a lock shares it).
#[allow(
    clippy::indexing_slicing,
    reason = "KEYS >= 1, checked at compile time by Lock::new, the only way to build a Lock"
)]
pub(crate) const fn profile_of<const KEYS: usize>(codecs: &[Codec; KEYS]) -> &Profile {
    codecs[0].profile()
}

/// A lock: its key(s), profile and local time (a UTC offset or a DST
/// rule), and its state.
///
/// `MEMORY` is the number of codes it can remember (used one-time codes
/// and activated time-bound codes together); it must be at least 1
/// (checked at compile time) and at most the profile's
/// [`lock_memory`](crate::Profile::lock_memory), the number the profile's
/// security figure counts (a bigger memory would make the published figure
/// a lie; a profile that differs only in `lock_memory` issues the same
/// PINs, so raise it there). `KEYS` is the number of keys (default 1, at
/// most 255); every key multiplies the acceptable set, as
/// [`Lock::security`] accounts. More than one key (a group key beside the
/// device key) needs the crate feature `group-keys`
/// ([`LockError::GroupKeysNotBuilt`] without it).
///
/// Keys are not part of the saved image, only their fingerprints: firmware
/// keeps them in its key store and hands them to [`Lock::load`] at boot.
///
/// # Examples
///
/// Count-before-check: charge the entry, persist the charge, check, then
/// persist and commit what the check says, and only then act:
///
/// ```
/// use offpin::lock::{Decision, Lock};
/// use offpin::profile::shipped::STANDARD_10 as P;
/// use offpin::{Codec, DeviceKey, Refusal, Request, UtcOffset};
///
/// let key = DeviceKey::from_bytes([7; 16]);
/// let mut lock = Lock::<32>::new(Codec::new(&key, P)?, UtcOffset::UTC)?;
/// let mut flash = [[0u8; Lock::<32>::STATE_LEN]; 2]; // two image slots
///
/// // The issuer, elsewhere, with the same key:
/// let start = P.epoch() + 1_000 * 3600;
/// let pin = Codec::new(&key, P)?.issue(&Request::one_time(start))?.pin;
///
/// let now = start + 60;
/// for expected_open in [true, false] {
///     // 1. count the entry as a failure, persistently, before deciding
///     let charge = lock.charge(now);
///     if charge.needs_write() {
///         let slot = (charge.image_sequence() % 2) as usize;
///         lock.save_after(&charge, &mut flash[slot])?;
///     }
///     lock.commit(charge)?;
///     // 2. decide; an opening refunds the charge
///     let check = lock.check(pin.as_bytes(), now);
///     if check.change.needs_write() {
///         let slot = (check.change.image_sequence() % 2) as usize;
///         lock.save_after(&check.change, &mut flash[slot])?;
///     }
///     lock.commit(check.change)?;
///     // 3. only now act on the decision
///     assert_eq!(check.decision.opens(), expected_open);
/// }
/// assert_eq!(lock.budget_left(now), 9, "the opening was refunded, the reuse was not");
///
/// // At boot: the newest authentic image wins; the lock decides once
/// // it is started (its state written again, to the next slot).
/// let mut lock = Lock::<32>::load_newest(Codec::new(&key, P)?, UtcOffset::UTC, &[&flash[0], &flash[1]])?;
/// assert_eq!(lock.check(pin.as_bytes(), now).decision, Decision::Refuse(Refusal::NotStarted));
/// let start = lock.start();
/// lock.save_after(&start, &mut flash[(start.image_sequence() % 2) as usize])?;
/// lock.commit(start)?;
/// assert_eq!(lock.check(pin.as_bytes(), now).decision, Decision::Refuse(Refusal::AlreadyUsed));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Lock<const MEMORY: usize, const KEYS: usize = 1> {
    codecs: [Codec; KEYS],
    /// [`seal::fingerprint`] of each codec's key, in order.
    fingerprints: [[u8; FINGERPRINT_LEN]; KEYS],
    zone: TzRule,
    /// The service secret, when the profile has service codes.
    #[cfg(feature = "service-codes")]
    service: Option<crate::service::ServiceSecret>,
    state: LockState<MEMORY>,
    /// RAM only: a committed charge waiting for its check, holding the
    /// back-off as it was before the charge. Lost on a power cut, so an
    /// interrupted entry stays counted as a failure.
    credit: Option<Lockout>,
}

impl<const MEMORY: usize, const KEYS: usize> Lock<MEMORY, KEYS> {
    /// Size in bytes of a saved image of this lock's state (see
    /// [`persist`] for the layout): `367 + 8 × KEYS + 14 × MEMORY`.
    pub const STATE_LEN: usize = persist::state_len(MEMORY, KEYS);

    /// The profile the lock's keys are bound to (every key's, checked by
    /// [`Lock::new`]; the lock keeps no copy of its own).
    pub const fn profile(&self) -> &Profile {
        profile_of(&self.codecs)
    }

    /// The lock's standard UTC offset (its only offset without DST).
    pub const fn offset(&self) -> UtcOffset {
        self.zone.standard_offset()
    }

    /// The lock's local time: its fixed offset or its DST rule.
    pub const fn zone(&self) -> &TzRule {
        &self.zone
    }

    /// The state's sequence number: 0 for a new lock, plus one per
    /// committed change that needed a write. [`Lock::save`] writes it into
    /// the image; [`Lock::load_newest`] prefers the image with the highest
    /// one.
    pub const fn sequence(&self) -> u64 {
        self.state.seq
    }

    /// The rollback counter of the state: the one its last image carried
    /// (0 for a new lock), which a firmware with a monotonic counter has
    /// raised its counter to. The next image carries one more
    /// ([`Change::counter`]).
    pub const fn rollback_counter(&self) -> u32 {
        self.state.counter
    }

    /// Whether the lock decides entries: true for a lock from
    /// [`Lock::new`], and for a loaded one once its [start](Lock::start)
    /// change is committed. Until then [`Lock::check`] refuses every
    /// entry with [`Refusal::NotStarted`] and [`Lock::charge`] and
    /// [`Lock::observe_clock`] change nothing.
    pub const fn is_started(&self) -> bool {
        self.state.start == 0
    }

    /// The change that starts a loaded lock: the state it loaded, to be
    /// written again as a new image (the next slot) carrying the hardware
    /// counter plus one ([`Change::counter`]), the counter then raised to
    /// it, then committed, like any other change. Empty for a started
    /// lock.
    ///
    /// Why: a power cut between an image's write and the counter's bump
    /// leaves an image one ahead of the counter. If it was lost (torn, or
    /// erased by someone with a flash writer who keeps a copy), the next
    /// image written would carry the same counter, and the copy could
    /// later be put back in its place. Starting burns that counter value
    /// before the lock decides anything, so every image that can load
    /// after an entry was acted on holds that entry (`docs/LOCK.md` §2;
    /// `tests/lock_power_cut.rs` puts any image ever written back at every
    /// power cut).
    pub fn start(&self) -> Change {
        if self.is_started() {
            return self.nothing();
        }
        let mut change = self.base_change(self.state.highest_seen);
        change.counter = self.state.start;
        change
    }

    /// The highest time the lock has seen (its monotonic clock).
    pub const fn highest_seen(&self) -> UnixSeconds {
        self.state.highest_seen
    }

    /// The lock's time for a clock reading `now`: `max(now, highest_seen)`.
    const fn time(&self, now: UnixSeconds) -> UnixSeconds {
        if now > self.state.highest_seen {
            now
        } else {
            self.state.highest_seen
        }
    }

    /// Until when the keypad is locked out, if it is at `now` (judged at
    /// the monotonic time): the end of the back-off or the arrival of the
    /// next failure in the budget, whichever is later.
    pub fn locked_out_until(&self, now: UnixSeconds) -> Option<UnixSeconds> {
        let t = self.time(now);
        let backoff = self
            .state
            .lockout
            .is_locked(t)
            .then_some(self.state.lockout.until);
        let budget = self.state.budget.empty_until(&self.profile().lockout(), t);
        match (backoff, budget) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    /// Failed entries the guess budget still allows at `now`, before any
    /// refill (at most the policy's `budget`).
    pub fn budget_left(&self, now: UnixSeconds) -> u16 {
        self.state
            .budget
            .at(&self.profile().lockout(), self.time(now))
            .tokens
    }

    /// Consecutive failed entries since the last opening (saturating).
    pub fn consecutive_failures(&self) -> u64 {
        self.state.lockout.failures(&self.profile().lockout())
    }

    /// Whether ongoing slot `slot` has been revoked.
    pub fn is_slot_revoked(&self, slot: u32) -> bool {
        self.state.revocations.is_slot_revoked(slot)
    }

    /// The revocation watermark: codes whose window started before it are
    /// revoked (`None`: no revoke-before code was entered).
    pub fn watermark(&self) -> Option<Mark> {
        let w = self.state.revocations.watermark;
        w.is_set().then_some(w)
    }

    /// The supersede mark of `lineage`: codes of that lineage whose window
    /// starts before it are superseded (`None`: no code of it opened yet).
    pub fn lineage_mark(&self, lineage: u8) -> Option<Mark> {
        self.state.revocations.lineage_mark(lineage)
    }

    /// The occupied memory slots (including expired entries whose slot
    /// was not reused yet).
    pub fn remembered(&self) -> impl Iterator<Item = Remembered> + '_ {
        self.state.memory.slots.iter().flatten().copied()
    }

    /// Memory slots free for a new entry at `now` (judged at the monotonic
    /// time).
    pub fn free_memory(&self, now: UnixSeconds) -> usize {
        MEMORY - self.state.memory.live(self.time(now))
    }

    /// The security figures of this lock: the profile's, with the lock's
    /// number of keys and its local-time rule ([`Profile::security_under`]:
    /// a DST rule on a profile with recurring codes publishes the sum of
    /// the per-kind maxima). `W_max` counts the profile's `lock_memory`
    /// remembered codes, at least `MEMORY`.
    pub fn security(&self) -> SecurityFigures {
        #[allow(
            clippy::cast_possible_truncation,
            reason = "KEYS <= 255, checked at compile time"
        )]
        let keys = KEYS as u32;
        let profile = self.profile();
        // `Lock::new` refused a rule the profile does not cover.
        profile
            .security_under(&self.zone, keys)
            .unwrap_or_else(|| profile.security_with_keys(keys))
    }

    /// A change that only records `now` as seen (empty if the lock has
    /// seen a later time). Firmware may commit one at provisioning and now
    /// and then (say hourly), so a clock rolled back later is detected
    /// against a recent time.
    pub fn observe_clock(&self, now: UnixSeconds) -> Change {
        let mut change = self.base_change(now);
        if now <= self.state.highest_seen || !self.is_started() {
            change.write = false;
            change.apply = false;
        }
        change
    }

    /// The change that records time `t` and nothing else (keeping a
    /// waiting charge). Out of line: inlined into each of its five callers
    /// it costs the Cortex-M0 validator 368 bytes (firmware/run.sh).
    #[inline(never)]
    fn base_change(&self, t: UnixSeconds) -> Change {
        Change {
            seq: self.state.seq,
            paid: self.credit.is_some(),
            write: true,
            apply: true,
            credit: self.credit,
            counter: self.state.counter.saturating_add(1),
            highest_seen: self.time(t),
            lockout: self.state.lockout,
            budget: self.state.budget,
            remember: None,
            lineage: None,
            revoke: None,
        }
    }

    /// An empty change: nothing to write or apply.
    fn nothing(&self) -> Change {
        let mut change = self.base_change(self.state.highest_seen);
        change.write = false;
        change.apply = false;
        change
    }

    /// Applies a change produced by [`Lock::check`], [`Lock::charge`] or
    /// [`Lock::observe_clock`] on this state. Persist it first if it
    /// [needs a write](Change::needs_write) ([`Lock::save_after`]). An
    /// empty change is accepted and does nothing.
    ///
    /// # Errors
    ///
    /// [`CommitError::Stale`] when the state moved since the change was
    /// computed, [`CommitError::StaleCharge`] when a charge was committed
    /// or used in between (it is then not applied: check the entry again).
    pub fn commit(&mut self, change: Change) -> Result<(), CommitError> {
        if !change.apply {
            return Ok(());
        }
        if change.seq != self.state.seq {
            return Err(CommitError::Stale {
                change: change.seq,
                lock: self.state.seq,
            });
        }
        if change.paid != self.credit.is_some() {
            return Err(CommitError::StaleCharge);
        }
        if change.write {
            self.state.apply(&change);
            // The only write a lock that is not started makes is its start.
            self.state.start = 0;
        }
        self.credit = change.credit;
        Ok(())
    }
}
