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

mod lockout;
pub mod memory;
pub mod persist;
pub mod revocation;
pub mod seal;

use core::fmt;

use crate::check::{Refusal, Remember, Verdict};
use crate::codec::{Codec, DecodeError};
use crate::grant::{Grant, RevokeTarget};
use crate::profile::{LockoutPolicy, Profile};
use crate::security::SecurityFigures;
use crate::time::{UnixSeconds, UtcOffset};
use crate::tz::TzRule;

use lockout::{Budget, Lockout};
use memory::Memory;
pub use memory::{EntryKind, Remembered, service_until_hour, until_hour};
pub use persist::PersistError;
pub use revocation::{MAX_LINEAGES, MAX_REVOCABLE_SLOTS, Mark};
use revocation::{Revocations, start_of};
use seal::FINGERPRINT_LEN;

/// The key(s) a lock is built from: one [`Codec`], or an array of them
/// (a device key and a group key, say). Implemented for `Codec` (one key)
/// and `[Codec; K]`.
pub trait IntoCodecs<const KEYS: usize> {
    /// The codecs, in the order the lock tries them.
    fn into_codecs(self) -> [Codec; KEYS];
}

impl IntoCodecs<1> for Codec {
    fn into_codecs(self) -> [Codec; 1] {
        [self]
    }
}

impl<const KEYS: usize> IntoCodecs<KEYS> for [Codec; KEYS] {
    fn into_codecs(self) -> [Codec; KEYS] {
        self
    }
}

/// Why [`Lock::new`] refused its configuration. Limits that depend only on
/// `MEMORY` and `KEYS` (`1 ≤ MEMORY ≤ 65 535`, `1 ≤ KEYS ≤ 255`) are
/// checked at compile time instead:
///
/// ```compile_fail
/// # use offpin::{Codec, DeviceKey, UtcOffset, lock::Lock};
/// # let codec = Codec::new(&DeviceKey::from_bytes([1; 16]), offpin::profile::shipped::STANDARD_10).unwrap();
/// let lock = Lock::<0>::new(codec, UtcOffset::UTC); // MEMORY = 0 does not build
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LockError {
    /// `MEMORY` is larger than the profile's
    /// [`lock_memory`](crate::Profile::lock_memory), the number of
    /// remembered codes its published security figure assumes.
    MemoryExceedsProfile {
        /// The lock's `MEMORY`.
        memory: usize,
        /// The profile's `lock_memory`.
        profile: u16,
    },
    /// The codecs do not all have the same profile.
    ProfileMismatch {
        /// Position of the first codec whose profile differs from the
        /// first one's.
        key: usize,
    },
    /// Two codecs hold the same key: memory entries and saved images name
    /// keys by their fingerprint, so each key may appear once.
    DuplicateKey {
        /// Position of its first occurrence.
        first: usize,
        /// Position of the repeat.
        second: usize,
    },
    /// The lock was given more than one key (a group key beside its device
    /// key) but the crate was built without the `group-keys` feature, so
    /// the lock accepts its device key only.
    GroupKeysNotBuilt {
        /// The number of keys given (`KEYS`).
        keys: usize,
    },
    /// The profile has revocation codes for more ongoing slots than the
    /// lock's revocation bitmap holds.
    TooManySlots {
        /// The profile's ongoing slots.
        slots: u32,
        /// [`MAX_REVOCABLE_SLOTS`].
        max: u32,
    },
    /// The profile has more supersede lineages than the lock tracks.
    TooManyLineages {
        /// The profile's lineages.
        lineages: u8,
        /// [`MAX_LINEAGES`].
        max: u8,
    },
    /// The profile has rolling service codes but the crate was built
    /// without the `service-codes` feature (HMAC-SHA1), so the lock could
    /// not check them.
    ServiceCodesNotBuilt,
    /// The profile has recurring or clock-setting codes (format v2) but
    /// the crate was built without the `format-v2` feature, so the lock
    /// could not check them.
    FormatV2NotBuilt,
    /// The profile searches entries longer than a PIN (anti-peep entry,
    /// its `entry_max_digits` above its `digits`) but the crate was built
    /// without the `anti-peep` feature, so the lock could not search them.
    AntiPeepNotBuilt {
        /// The profile's `entry_max_digits`.
        entry_max_digits: u8,
    },
    /// The lock's DST rule moves the clock by more than the profile's
    /// published figure covers ([`Profile::max_dst_shift_secs`](crate::Profile::max_dst_shift_secs):
    /// the span `A + 2g` plus the shift would reach another local
    /// midnight, so the lock could accept more than `W_max`). Use the
    /// zone's standard offset, or a profile that covers the shift.
    RuleNotCovered {
        /// The rule's shift, `|dst − std|`, in seconds.
        shift_secs: i32,
        /// The most the profile covers, in seconds.
        max_secs: i32,
    },
}

impl fmt::Display for LockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockError::MemoryExceedsProfile { memory, profile } => write!(
                f,
                "the lock remembers {memory} codes but its profile's security figure assumes at most {profile}; raise the profile's lock_memory"
            ),
            LockError::ProfileMismatch { key } => write!(
                f,
                "key {key} is bound to another profile than key 0; every key of a lock must share its profile"
            ),
            LockError::DuplicateKey { first, second } => write!(
                f,
                "keys {first} and {second} are the same key; a lock holds each key once"
            ),
            LockError::GroupKeysNotBuilt { keys } => write!(
                f,
                "the lock was given {keys} keys but accepts one (its device key); build offpin with the group-keys feature to give it a group key"
            ),
            LockError::TooManySlots { slots, max } => write!(
                f,
                "the profile can revoke {slots} ongoing slots but a lock tracks at most {max}"
            ),
            LockError::TooManyLineages { lineages, max } => write!(
                f,
                "the profile has {lineages} supersede lineages but a lock tracks at most {max}"
            ),
            LockError::ServiceCodesNotBuilt => f.write_str(
                "the profile has service codes; build offpin with the service-codes feature to check them",
            ),
            LockError::FormatV2NotBuilt => f.write_str(
                "the profile has recurring or clock-setting codes; build offpin with the format-v2 feature to check them",
            ),
            LockError::AntiPeepNotBuilt { entry_max_digits } => write!(
                f,
                "the profile accepts a PIN inside an entry of up to {entry_max_digits} keys; build offpin with the anti-peep feature to search them"
            ),
            LockError::RuleNotCovered {
                shift_secs,
                max_secs,
            } => write!(
                f,
                "the lock's DST rule moves the clock by {shift_secs} s but the profile's W_max covers at most {max_secs} s; use the standard offset or another profile"
            ),
        }
    }
}

impl core::error::Error for LockError {}

/// Why [`Lock::commit`] refused a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommitError {
    /// The change was computed for another state: the lock's sequence
    /// number moved since the [`Lock::check`] that produced it (another
    /// change was committed in between, or it comes from another lock).
    /// Check the entry again.
    Stale {
        /// The sequence number the change was computed for.
        change: u64,
        /// The lock's sequence number.
        lock: u64,
    },
    /// The change was computed before the entry's charge
    /// ([`Lock::charge`]) was committed, or after it was used by another
    /// check: each charge pays for one check. Charge and check again.
    StaleCharge,
}

impl fmt::Display for CommitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommitError::Stale { change, lock } => write!(
                f,
                "the change was computed for state {change} but the lock is at state {lock}; check the entry again"
            ),
            CommitError::StaleCharge => f.write_str(
                "the change was computed for another charge of the entry; charge and check it again",
            ),
        }
    }
}

impl core::error::Error for CommitError {}

/// What the lock decided about one entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Open the door: the code is valid and names this grant.
    Open(Grant),
    /// A valid revocation code: the revocation is part of the change and
    /// the door stays shut. Entering it again decides the same, and
    /// changes nothing more.
    Revoked(RevokeTarget),
    /// A valid clock-setting code: the lock's clock moved forward to `to`
    /// (the change raises the highest time seen to it) and the door stays
    /// shut. The jump refills no guess: the budget's refill period moves
    /// forward with it. Firmware sets its real-time clock to `to`: until
    /// it does, the clock reads behind the lock's time and time-dependent
    /// codes are refused as [`Refusal::ClockRolledBack`].
    ClockSet {
        /// The instant the clock moved to.
        to: UnixSeconds,
    },
    /// Open the door: a valid rolling service code (format v2) of this
    /// counter (`⌊t / step⌋`), now remembered as used.
    Service {
        /// The RFC 6238 counter the code was for.
        counter: u64,
    },
    /// Keep the door shut, for this reason.
    Refuse(Refusal),
}

impl Decision {
    /// Whether the door opens.
    pub const fn opens(&self) -> bool {
        matches!(self, Decision::Open(_) | Decision::Service { .. })
    }
}

/// What the lock's clock looked like to a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClockStatus {
    /// The clock is at or after the highest time seen, or behind it by at
    /// most the grace.
    Ok,
    /// The clock is behind the highest time the lock has seen by more than
    /// the profile's grace: time-dependent codes are refused with
    /// [`Refusal::ClockRolledBack`] until it is set right. Report it.
    RolledBack {
        /// How far behind, in seconds.
        by_secs: i64,
    },
}

/// A revocation, resolved to what the state stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Revocation {
    Slot(u32),
    Before(Mark),
}

/// The state change an entry implies. Produced by [`Lock::check`],
/// [`Lock::charge`] or [`Lock::observe_clock`], persisted with
/// [`Lock::save_after`] when [`Change::needs_write`] says so, applied by
/// [`Lock::commit`]. It holds no references: keep it while the image is
/// written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[must_use = "a change does nothing until it is persisted and committed"]
pub struct Change {
    /// The sequence number of the state it was computed from.
    seq: u64,
    /// Computed while a charge was waiting for its check.
    paid: bool,
    /// Changes the saved state: persist before acting.
    write: bool,
    /// Changes anything at all (the saved state, or the lock's RAM).
    apply: bool,
    /// The charge waiting for a check after the commit: the back-off as it
    /// was before the charge (RAM only).
    credit: Option<Lockout>,
    counter: u32,
    highest_seen: UnixSeconds,
    lockout: Lockout,
    budget: Budget,
    remember: Option<(usize, Remembered)>,
    lineage: Option<(u8, Mark)>,
    revoke: Option<Revocation>,
}

impl Change {
    /// Whether the change changes nothing (an entry refused while the
    /// keypad is locked out): it needs neither persisting nor committing
    /// (both are harmless no-ops).
    pub const fn is_empty(&self) -> bool {
        !self.apply
    }

    /// Whether the image after this change must be written
    /// ([`Lock::save_after`]) before the lock acts on the decision. False
    /// for an empty change and for the check of a charged entry that
    /// failed (its failure was written with the charge): commit those
    /// without writing.
    pub const fn needs_write(&self) -> bool {
        self.write
    }

    /// The sequence number of the state after this change, which the
    /// image written by [`Lock::save_after`] carries (the lock's
    /// [`sequence`](Lock::sequence) plus one, or unchanged for a change
    /// that needs no write). Writing that image to slot
    /// `image_sequence() % N` rotates over `N` image slots.
    pub const fn image_sequence(&self) -> u64 {
        if self.write {
            self.seq.wrapping_add(1)
        } else {
            self.seq
        }
    }

    /// The rollback counter the image of this change carries, one above
    /// the lock's (see [`Lock::rollback_counter`]). A firmware with a
    /// monotonic counter (OTP bits, a counter page, a secure element)
    /// raises it to this value **after** writing the image and **before**
    /// [`commit`](Lock::commit) and acting; one without simply ignores it.
    /// The lock chooses the value, never the firmware: every image is
    /// written with the hardware counter plus one, so no sequence of power
    /// cuts gives two different images a counter that can load after
    /// either was acted on (`docs/LOCK.md` §2, "Rollback counter").
    pub const fn counter(&self) -> u32 {
        self.counter
    }
}

/// The outcome of [`Lock::check`]: the decision and the state change it
/// implies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[must_use = "persist and commit the change, then act on the decision"]
pub struct Check {
    /// Open, apply a revocation, or refuse.
    pub decision: Decision,
    /// What to persist (if [`Change::needs_write`]) and commit (even for a
    /// refusal: failures count).
    pub change: Change,
    /// Whether the clock was found rolled back.
    pub clock: ClockStatus,
    /// Position of the key that decoded the code into the decided grant
    /// (`None` when no key did, or the entry was not evaluated).
    pub key: Option<usize>,
}

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

/// A service code's verdict: the counter it opens for with the memory
/// entry (and its slot) that remembers it, or the refusal.
type ServiceVerdict = Result<(u64, (usize, Remembered)), Refusal>;

/// What an entry comes to, before the lock-out bookkeeping.
#[derive(Clone, Copy)]
struct Found {
    decision: Decision,
    /// Position of the key that decoded the decided (or refused) grant.
    key: Option<usize>,
    /// The decision rests on the only PIN the entry tested (an entry of
    /// one PIN, a service code, or the first window of a longer entry):
    /// an opening then gives its charge back.
    alone: bool,
}

/// What one key's grant comes to, before the lock-out bookkeeping.
enum Judged {
    Open {
        remember: Option<(usize, Remembered)>,
        lineage: Option<(u8, Mark)>,
    },
    Revoke(Revocation, RevokeTarget),
    #[cfg(feature = "format-v2")]
    SetClock(UnixSeconds),
    Refuse(Refusal),
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

    /// A lock with empty state: nothing remembered, nothing revoked, no
    /// failures, a full guess budget, and the highest seen time at the
    /// profile's epoch (call [`Lock::observe_clock`] at provisioning to
    /// start rollback detection from the provisioning time).
    ///
    /// # Errors
    ///
    /// A [`LockError`] when `MEMORY` is larger than the profile's
    /// `lock_memory`, the codecs disagree about the profile or repeat a
    /// key, or the profile has more revocable slots or lineages than a
    /// lock tracks; [`LockError::GroupKeysNotBuilt`] for more than one key
    /// without the crate feature `group-keys`.
    ///
    /// `zone` is the lock's local time: a fixed [`UtcOffset`] (daily
    /// windows start at its midnights, as in offpin 0.1) or a [`TzRule`]
    /// with daylight saving time (daily windows start at local midnight
    /// in every season, recurring hours are local hours).
    pub fn new(codecs: impl IntoCodecs<KEYS>, zone: impl Into<TzRule>) -> Result<Self, LockError> {
        let zone = zone.into();
        const {
            assert!(MEMORY >= 1, "a lock needs room for at least one code");
            assert!(MEMORY <= u16::MAX as usize, "MEMORY must fit in 16 bits");
            assert!(KEYS >= 1, "a lock needs at least one key");
            assert!(KEYS <= u8::MAX as usize, "a lock holds at most 255 keys");
            // The format-v2 check below relies on this order.
            assert!(
                crate::profile::Kind::Recurring.position() + 2 == crate::profile::Kind::COUNT
                    && crate::profile::Kind::ClockSet.position() + 1 == crate::profile::Kind::COUNT,
                "the format-v2 kinds are the last two"
            );
        }
        // Without group keys a lock holds its device key only.
        #[cfg(not(feature = "group-keys"))]
        if KEYS > 1 {
            return Err(LockError::GroupKeysNotBuilt { keys: KEYS });
        }
        let codecs = codecs.into_codecs();
        // KEYS >= 1 (checked above): the fallback is never taken.
        let profile = codecs
            .first()
            .map(|c| *c.profile())
            .ok_or(LockError::ProfileMismatch { key: 0 })?;
        if let Some(key) = codecs
            .iter()
            .skip(1)
            .position(|c| *c.profile() != profile)
            .map(|i| i + 1)
        {
            return Err(LockError::ProfileMismatch { key });
        }
        if MEMORY > usize::from(profile.lock_memory()) {
            return Err(LockError::MemoryExceedsProfile {
                memory: MEMORY,
                profile: profile.lock_memory(),
            });
        }
        let p = profile.params();
        if p.revocation && p.ongoing_slots > MAX_REVOCABLE_SLOTS {
            return Err(LockError::TooManySlots {
                slots: p.ongoing_slots,
                max: MAX_REVOCABLE_SLOTS,
            });
        }
        if p.lineages > MAX_LINEAGES {
            return Err(LockError::TooManyLineages {
                lineages: p.lineages,
                max: MAX_LINEAGES,
            });
        }
        // The service secret derives from the device key (the first).
        #[cfg(feature = "service-codes")]
        let service = p
            .service_codes
            .is_enabled()
            .then(|| {
                codecs
                    .first()
                    .map(|c| crate::service::ServiceSecret::from_cipher(c.cipher()))
            })
            .flatten();
        #[cfg(not(feature = "service-codes"))]
        if p.service_codes.is_enabled() {
            return Err(LockError::ServiceCodesNotBuilt);
        }
        #[cfg(not(feature = "anti-peep"))]
        if profile.has_anti_peep() {
            return Err(LockError::AntiPeepNotBuilt {
                entry_max_digits: profile.entry_max_digits(),
            });
        }
        // The format-v2 kinds are the last two ranges of the index: a
        // profile has either when its first index is below the total.
        #[cfg(not(feature = "format-v2"))]
        if profile.kind_base(crate::profile::Kind::Recurring) < profile.grant_count() {
            return Err(LockError::FormatV2NotBuilt);
        }
        // Without format-v2 no rule has DST: every rule is covered.
        #[cfg(feature = "format-v2")]
        if !profile.covers_rule(&zone) {
            return Err(LockError::RuleNotCovered {
                shift_secs: zone.dst_shift_secs(),
                max_secs: profile.max_dst_shift_secs(),
            });
        }
        let fingerprints =
            core::array::from_fn(|i| codecs.get(i).map(seal::fingerprint).unwrap_or_default());
        for (second, fp) in fingerprints.iter().enumerate() {
            if let Some(first) = fingerprints.iter().take(second).position(|f| f == fp) {
                return Err(LockError::DuplicateKey { first, second });
            }
        }
        Ok(Lock {
            codecs,
            fingerprints,
            zone,
            #[cfg(feature = "service-codes")]
            service,
            state: LockState::fresh(&profile),
            credit: None,
        })
    }

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

    /// Whether an entry without a charge is refused unseen at the lock's
    /// time `t`: the back-off runs, or the budget is spent.
    /// Out of line: inlined into `charge` and `check` it costs the
    /// Cortex-M0 validator 96 bytes.
    #[inline(never)]
    fn is_locked_at(&self, t: UnixSeconds) -> bool {
        self.state.lockout.is_locked(t) || self.state.budget.is_spent(&self.profile().lockout(), t)
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

    /// The back-off and the budget after one more failure at `t` (one
    /// routine for the charge and the check of an uncharged entry).
    #[inline(never)]
    fn after_failure(&self, policy: &LockoutPolicy, t: UnixSeconds) -> (Lockout, Budget) {
        (
            self.state.lockout.after_failure(policy, t),
            self.state.budget.spend(policy, t),
        )
    }

    /// **Count-before-check**: counts the next entry as a failed one
    /// *before* it is decided, the way Android's Gatekeeper records a
    /// failure before it verifies and a smart card decrements its try
    /// counter first. The change spends one failure of the guess budget
    /// and counts a back-off strike at `now`; persist it, commit it, then
    /// [`check`](Lock::check) the entry. The check of a charged entry is
    /// evaluated even if the charge locked the keypad (it is paid for);
    /// if it opens (or revokes, or is refused for
    /// [`Refusal::MemoryFull`]) its change refunds the charge, and if it
    /// fails it needs no write at all.
    ///
    /// So a power cut between the decision and its write, timed with a
    /// side channel, cannot erase a failure: the failure is already on
    /// flash. Costs: a failed entry one image write, an opening two, an
    /// entry refused while locked out none (the charge is then empty:
    /// commit it, and the check refuses with [`Refusal::LockedOut`]
    /// unseen).
    ///
    /// Each charge pays for one check: a second check needs another
    /// charge. A charge that is never checked (a power cut) stays counted.
    pub fn charge(&self, now: UnixSeconds) -> Change {
        let t = self.time(now);
        if !self.is_started() || self.is_locked_at(t) {
            return self.nothing();
        }
        let policy = self.profile().lockout();
        let mut change = self.base_change(t);
        (change.lockout, change.budget) = self.after_failure(&policy, t);
        change.credit = Some(self.state.lockout);
        change
    }

    /// Decides what the typed digits do at `now` (the lock's clock), and
    /// the state change that implies. Mutates nothing: persist the change
    /// with [`Lock::save_after`] if it [needs a write](Change::needs_write),
    /// apply it with [`Lock::commit`], then act on [`Check::decision`]. See
    /// the [module docs](self) for the rules, and [`Lock::charge`] for the
    /// count-before-check order.
    ///
    /// Bounded time: at most `KEYS` FF1 decryptions and `KEYS` scans of
    /// the memory per PIN tested: one PIN, or with anti-peep entry (crate
    /// feature `anti-peep`) up to
    /// [`entry_positions`](crate::Profile::entry_positions) windows of a
    /// longer entry. Any input is accepted; malformed input, and an entry
    /// longer than the profile's `entry_max_digits`, is a refusal
    /// ([`Refusal::InvalidCode`]) and counts as a failure.
    pub fn check(&self, typed: &[u8], now: UnixSeconds) -> Check {
        let hs = self.state.highest_seen;
        let t = self.time(now);
        let behind = hs.saturating_sub(now);
        let clock = if behind > self.profile().grace_secs() {
            ClockStatus::RolledBack { by_secs: behind }
        } else {
            ClockStatus::Ok
        };
        let mut change = self.base_change(t);
        // Any check uses up a waiting charge.
        change.credit = None;

        let unseen = if !self.is_started() {
            Some(Refusal::NotStarted)
        } else if self.credit.is_none() && self.is_locked_at(t) {
            Some(Refusal::LockedOut)
        } else {
            None
        };
        if let Some(refusal) = unseen {
            return Check {
                decision: Decision::Refuse(refusal),
                change: self.nothing(),
                clock,
                key: None,
            };
        }
        let rolled_back = matches!(clock, ClockStatus::RolledBack { .. });
        let found = self.decide(typed, t, rolled_back, &mut change);
        self.settle(&found, t, &mut change);
        Check {
            decision: found.decision,
            change,
            clock,
            key: found.key,
        }
    }

    /// The lock-out's part of an evaluated entry at the lock's time `t`:
    /// an entry that opened, revoked, set the clock or was refused
    /// [`Refusal::MemoryFull`] testing no other PIN (`alone`) gives its
    /// charge back; any other is one failure (written with its charge
    /// already, or counted now), an opening still clearing the back-off.
    fn settle(&self, found: &Found, t: UnixSeconds, change: &mut Change) {
        let Found {
            decision, alone, ..
        } = *found;
        let (hs, policy) = (self.state.highest_seen, self.profile().lockout());
        let decided = !matches!(decision, Decision::Refuse(_));
        match (decision, self.credit) {
            // The charge of this entry is given back: it opened or
            // revoked, or the lock's own limit refused a valid code (not
            // a failure), and it tested no other PIN.
            (
                Decision::Open(_)
                | Decision::Revoked(_)
                | Decision::Service { .. }
                | Decision::ClockSet { .. }
                | Decision::Refuse(Refusal::MemoryFull),
                credit,
            ) if alone => {
                if let Some(before) = credit {
                    // An opening cleared the back-off when it was judged.
                    if !decision.opens() {
                        change.lockout = before;
                    }
                    change.budget = self.state.budget.refund(&policy, t);
                }
            }
            // Charged: the failure is on flash already; only the RAM
            // credit goes (unless a later window of a longer entry
            // decided: its change is written, the charge kept).
            (_, Some(_)) => {
                if !decided {
                    change.write = false;
                    change.highest_seen = hs;
                }
            }
            (_, None) => {
                let (lockout, budget) = self.after_failure(&policy, t);
                change.budget = budget;
                // An opening cleared the back-off when it was judged.
                if !decision.opens() {
                    change.lockout = lockout;
                }
            }
        }
        // A clock code's jump is not time passing: the budget's refill
        // period moves with it, so the jump banks no failure. (No back-off
        // runs at `t`, or the entry was not evaluated: the jump cuts none
        // short.)
        #[cfg(feature = "format-v2")]
        if matches!(decision, Decision::ClockSet { .. }) {
            change.budget = change.budget.jumped(t, change.highest_seen);
        }
    }

    /// Evaluates an entry the lock does not refuse unseen: a rolling
    /// service code (typed with the service codes' length) decides alone;
    /// else the PIN ([`Lock::judge_keys`]), or with anti-peep entry the
    /// PINs inside a longer entry ([`Lock::search`]). A service code's
    /// refusal says more than "no such code", unless that is all it says,
    /// or a PIN decides. Records the decided grant's effects in `change`.
    fn decide(
        &self,
        typed: &[u8],
        t: UnixSeconds,
        rolled_back: bool,
        change: &mut Change,
    ) -> Found {
        let mut service_refusal = None;
        match self.judge_service(typed, t, rolled_back) {
            Some(Ok((counter, remember))) => {
                change.lockout = Lockout::CLEAR;
                change.remember = Some(remember);
                return Found {
                    decision: Decision::Service { counter },
                    key: None,
                    alone: true,
                };
            }
            Some(Err(r)) => service_refusal = Some(r),
            None => {}
        }
        #[cfg(feature = "anti-peep")]
        let found = if self.searches(typed) {
            self.search(typed, t, rolled_back, change)
        } else {
            self.judge_keys(typed, t, rolled_back, change)
        };
        #[cfg(not(feature = "anti-peep"))]
        let found = self.judge_keys(typed, t, rolled_back, change);
        match (service_refusal, found.decision) {
            (Some(r), Decision::Refuse(_)) if r != Refusal::InvalidCode => Found {
                decision: Decision::Refuse(r),
                key: None,
                ..found
            },
            _ => found,
        }
    }

    /// Judges `typed` as one PIN under each key in turn: the first key
    /// that opens, revokes or sets the clock decides (its effects go into
    /// `change`); else the first key's refusal that decoded it, or
    /// [`Refusal::InvalidCode`] when none did (malformed input is
    /// malformed for every key). At most `KEYS` FF1 decryptions.
    fn judge_keys(
        &self,
        typed: &[u8],
        t: UnixSeconds,
        rolled_back: bool,
        change: &mut Change,
    ) -> Found {
        let mut found = Found {
            decision: Decision::Refuse(Refusal::InvalidCode),
            key: None,
            alone: true,
        };
        for (k, codec) in self.codecs.iter().enumerate() {
            let (index, grant) = match codec.decode_indexed(typed) {
                Ok(decoded) => decoded,
                // Malformed input is malformed for every key.
                Err(DecodeError::Pin(_)) => break,
                Err(_) => continue,
            };
            #[allow(
                clippy::cast_possible_truncation,
                reason = "KEYS <= 255, checked at compile time"
            )]
            let key_byte = k as u8;
            let decision = match self.judge(key_byte, index, &grant, t, rolled_back) {
                Judged::Open { remember, lineage } => {
                    change.lockout = Lockout::CLEAR;
                    change.remember = remember;
                    change.lineage = lineage;
                    Decision::Open(grant)
                }
                Judged::Revoke(revocation, target) => {
                    change.revoke = Some(revocation);
                    Decision::Revoked(target)
                }
                #[cfg(feature = "format-v2")]
                Judged::SetClock(to) => {
                    change.highest_seen = change.highest_seen.max(to);
                    Decision::ClockSet { to }
                }
                Judged::Refuse(r) => {
                    if found.key.is_none() {
                        (found.decision, found.key) = (Decision::Refuse(r), Some(k));
                    }
                    continue;
                }
            };
            (found.decision, found.key) = (decision, Some(k));
            break;
        }
        found
    }

    /// Whether the lock searches `typed` for a PIN (anti-peep entry):
    /// longer than a PIN and at most the profile's `entry_max_digits`.
    #[cfg(feature = "anti-peep")]
    fn searches(&self, typed: &[u8]) -> bool {
        let profile = self.profile();
        typed.len() > usize::from(profile.digits())
            && typed.len() <= usize::from(profile.entry_max_digits())
    }

    /// Anti-peep entry: judges every window of `digits` consecutive keys
    /// of `typed`, leftmost first ([`Lock::judge_keys`]); the first that
    /// opens, revokes or sets the clock decides. It decides `alone` only
    /// at the first window: after it, the windows before were PINs tested
    /// and refused, so the entry counts as one failure even though it
    /// decided. When none decides, the first window's refusal, never
    /// alone: a refusal for [`Refusal::MemoryFull`] gives nothing back
    /// here, or a valid code would carry the guesses around it for free.
    /// At most `positions × KEYS` FF1 decryptions
    /// ([`Profile::entry_positions`](crate::Profile::entry_positions)).
    #[cfg(feature = "anti-peep")]
    fn search(
        &self,
        typed: &[u8],
        t: UnixSeconds,
        rolled_back: bool,
        change: &mut Change,
    ) -> Found {
        let digits = usize::from(self.profile().digits());
        let mut first = None;
        for (position, window) in typed.windows(digits).enumerate() {
            let found = self.judge_keys(window, t, rolled_back, change);
            if !matches!(found.decision, Decision::Refuse(_)) {
                return Found {
                    alone: position == 0,
                    ..found
                };
            }
            first.get_or_insert(found);
        }
        Found {
            alone: false,
            ..first.unwrap_or(Found {
                decision: Decision::Refuse(Refusal::InvalidCode),
                key: None,
                alone: false,
            })
        }
    }

    /// Judges `typed` as a rolling service code at the monotonic time `t`:
    /// `None` when it is not one (the profile has none, or the length or
    /// characters differ), else the counter it opens for with the memory
    /// entry that remembers it, or the refusal. All `2·skew + 1` codes are
    /// computed and compared in constant time. Not inlined: the HMAC-SHA1
    /// state is on the stack only while a service code is checked, not in
    /// `check`'s frame for every entry (the Cortex-M0 has 16 KiB of RAM).
    #[cfg(feature = "service-codes")]
    #[inline(never)]
    fn judge_service(
        &self,
        typed: &[u8],
        t: UnixSeconds,
        rolled_back: bool,
    ) -> Option<ServiceVerdict> {
        use ctutils::CtEq;
        let secret = self.service.as_ref()?;
        let codes = self.profile().params().service_codes;
        if typed.len() != usize::from(codes.digits) || !typed.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let value = typed.iter().fold(0u64, |v, d| v * 10 + u64::from(d - b'0'));
        if rolled_back {
            return Some(Err(Refusal::ClockRolledBack));
        }
        let Ok(now) = u64::try_from(t) else {
            return Some(Err(Refusal::InvalidCode));
        };
        let counter = now / u64::from(codes.step_secs.max(1));
        let skew = u64::from(codes.skew_steps);
        let used = self.state.memory.service_entry(t);
        let mut matched: Option<u64> = None;
        let mut used_match = false;
        for c in counter.saturating_sub(skew)..=counter.saturating_add(skew) {
            let code = u64::from(crate::service::hotp(secret, c, codes.digits));
            if code.ct_eq(&value).to_bool() {
                if used.is_some_and(|(_, e)| c <= e.index) {
                    used_match = true;
                } else {
                    matched = Some(c);
                }
            }
        }
        let Some(c) = matched else {
            return Some(Err(if used_match {
                Refusal::AlreadyUsed
            } else {
                Refusal::InvalidCode
            }));
        };
        let until = service_until_hour(self.profile(), c)
            .map_or(UnixSeconds::MAX, |h| self.profile().hour_start(h));
        let slot = match used {
            Some((slot, _)) => Some(slot),
            None => self.state.memory.free_slot(t),
        };
        let Some(slot) = slot else {
            return Some(Err(Refusal::MemoryFull));
        };
        let entry = Remembered {
            key: 0,
            index: c,
            kind: EntryKind::Service,
            until,
        };
        Some(Ok((c, (slot, entry))))
    }

    /// Without the `service-codes` feature no profile with service codes
    /// makes a lock ([`LockError::ServiceCodesNotBuilt`]).
    #[cfg(not(feature = "service-codes"))]
    #[allow(clippy::unused_self, reason = "the same signature as with the feature")]
    fn judge_service(
        &self,
        _typed: &[u8],
        _t: UnixSeconds,
        _rolled_back: bool,
    ) -> Option<ServiceVerdict> {
        None
    }

    /// Judges one decoded grant, of index `index`, at the monotonic time
    /// `t`.
    fn judge(
        &self,
        key: u8,
        index: u64,
        grant: &Grant,
        t: UnixSeconds,
        rolled_back: bool,
    ) -> Judged {
        let revocations = &self.state.revocations;
        match grant {
            Grant::Ongoing { slot } => {
                return if revocations.is_slot_revoked(*slot) {
                    Judged::Refuse(Refusal::Revoked)
                } else {
                    Judged::Open {
                        remember: None,
                        lineage: None,
                    }
                };
            }
            Grant::Revoke(target @ RevokeTarget::Slot(slot)) => {
                return Judged::Revoke(Revocation::Slot(*slot), *target);
            }
            // Judged at the lock's time even when the clock is rolled
            // back: setting it right is what the code is for.
            #[cfg(feature = "format-v2")]
            Grant::ClockSet { .. } => {
                return match self.profile().check_in(grant, t, &self.zone) {
                    Verdict::SetClock { to } => Judged::SetClock(to),
                    Verdict::Refuse(r) => Judged::Refuse(r),
                    _ => Judged::Refuse(Refusal::InvalidCode),
                };
            }
            _ => {}
        }
        let start = start_of(grant);
        if let Some(start) = start {
            if revocations.is_under_watermark(start) {
                return Judged::Refuse(Refusal::Revoked);
            }
            if revocations.is_superseded(grant.lineage(), start) {
                return Judged::Refuse(Refusal::Superseded);
            }
        }
        if rolled_back {
            return Judged::Refuse(Refusal::ClockRolledBack);
        }
        let lineage = match (grant.lineage(), start) {
            (0, _) | (_, None) => None,
            (l, Some(s)) => Some((l, s.mark(self.profile(), &self.zone))),
        };
        let memory = &self.state.memory;
        let open = |remember| Judged::Open { remember, lineage };
        // The entry outlives the window under any grace and offset
        // (`until_hour`), not just today's.
        let until = until_hour(self.profile(), grant)
            .map_or(UnixSeconds::MAX, |h| self.profile().hour_start(h));
        let remember_new = |kind| match memory.free_slot(t) {
            Some(slot) => open(Some((
                slot,
                Remembered {
                    key,
                    index,
                    kind,
                    until,
                },
            ))),
            None => Judged::Refuse(Refusal::MemoryFull),
        };
        match self.profile().check_in(grant, t, &self.zone) {
            Verdict::Refuse(r) => Judged::Refuse(r),
            Verdict::Revoke(target @ RevokeTarget::StartedBefore { hour }) => Judged::Revoke(
                Revocation::Before(Mark::before_hour(self.profile(), hour, &self.zone)),
                target,
            ),
            Verdict::Revoke(target @ RevokeTarget::Slot(slot)) => {
                Judged::Revoke(Revocation::Slot(slot), target)
            }
            #[cfg(feature = "format-v2")]
            Verdict::SetClock { to } => Judged::SetClock(to),
            // Never given without the feature (no clock-setting codes).
            #[cfg(not(feature = "format-v2"))]
            Verdict::SetClock { .. } => Judged::Refuse(Refusal::InvalidCode),
            Verdict::Open(Remember::Nothing) => open(None),
            Verdict::Open(Remember::Activated { .. }) => {
                if memory.find(key, index, EntryKind::Activated, t).is_some() {
                    open(None)
                } else {
                    remember_new(EntryKind::Activated)
                }
            }
            Verdict::Open(Remember::Used { .. }) => {
                if memory.find(key, index, EntryKind::Used, t).is_some() {
                    Judged::Refuse(Refusal::AlreadyUsed)
                } else {
                    remember_new(EntryKind::Used)
                }
            }
            Verdict::OpenIfActivated { .. } => {
                if memory.find(key, index, EntryKind::Activated, t).is_some() {
                    open(None)
                } else {
                    Judged::Refuse(Refusal::NotActivated)
                }
            }
        }
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
