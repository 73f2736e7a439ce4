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
//! - the **lock-out** counters: consecutive failures in batches of the
//!   profile's [`LockoutPolicy`](crate::LockoutPolicy), and until when the
//!   keypad is locked;
//! - a **sequence number**, bumped by every [`Lock::commit`], that detects
//!   stale changes and picks the newer of two saved images.
//!
//! # Two-phase validation
//!
//! [`Lock::check`] decides without mutating anything and returns a
//! [`Check`]: the [`Decision`] (open with the grant, apply a revocation, or
//! refuse with a [`Refusal`]) and the [`Change`] of state it implies.
//! Firmware then
//!
//! 1. writes the image of the state *after* the change
//!    ([`Lock::save_after`]) to non-volatile memory,
//! 2. applies the change in RAM ([`Lock::commit`]),
//! 3. and only then drives the motor (or beeps "revoked").
//!
//! A power cut before step 1 completes loses the entry, which did not open
//! the door; after it, the saved image already remembers the entry. So a
//! one-time code can never open twice and an acknowledged revocation is
//! never lost. With two image slots written alternately (the image of
//! sequence number `n` goes to slot `n % 2`, see [`Lock::sequence`]) and
//! [`Lock::load_newest`] at boot, a write torn by a power cut costs
//! nothing either: its checksum fails and the other slot holds the
//! previous state. A change for which [`Change::is_empty`] holds (an entry
//! refused because the keypad is locked out) needs neither writing nor
//! committing, so an attacker hammering a locked keypad does not wear the
//! flash.
//!
//! # Time
//!
//! The lock judges every entry at its *monotonic time*
//! `t = max(now, highest_seen)`, and every committed change raises
//! `highest_seen` to `t`. So the lock's view of time never runs backwards:
//! a window it has seen closed never reopens, a memory entry never expires
//! early, and a lock-out never ends early, whatever the clock does.
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
//! limit). An entry that opens the door resets the counter; a revocation
//! code neither counts nor resets.

mod lockout;
pub mod memory;
pub mod persist;
pub mod revocation;

use core::fmt;

use crate::check::{Refusal, Remember, Verdict};
use crate::codec::{Codec, DecodeError};
use crate::grant::{Grant, RevokeTarget};
use crate::profile::Profile;
use crate::security::SecurityFigures;
use crate::time::{HOUR, UnixSeconds, UtcOffset};

use lockout::Lockout;
use memory::Memory;
pub use memory::{EntryKind, Remembered};
pub use persist::PersistError;
use revocation::Revocations;
pub use revocation::{MAX_LINEAGES, MAX_REVOCABLE_SLOTS};

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

/// Why [`Lock::new`] refused its configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LockError {
    /// `MEMORY` is zero: a lock must be able to remember at least one code.
    ZeroMemory,
    /// `MEMORY` is larger than the profile's
    /// [`lock_memory`](crate::Profile::lock_memory), the number of
    /// remembered codes its published security figure assumes.
    MemoryExceedsProfile {
        /// The lock's `MEMORY`.
        memory: usize,
        /// The profile's `lock_memory`.
        profile: u16,
    },
    /// `KEYS` is zero.
    NoKeys,
    /// More than 255 keys.
    TooManyKeys {
        /// The lock's `KEYS`.
        keys: usize,
    },
    /// The codecs do not all have the same profile.
    ProfileMismatch {
        /// Position of the first codec whose profile differs from the
        /// first one's.
        key: usize,
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
}

impl fmt::Display for LockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockError::ZeroMemory => f.write_str("a lock needs room for at least one code"),
            LockError::MemoryExceedsProfile { memory, profile } => write!(
                f,
                "the lock remembers {memory} codes but its profile's security figure assumes at most {profile}; raise the profile's lock_memory"
            ),
            LockError::NoKeys => f.write_str("a lock needs at least one key"),
            LockError::TooManyKeys { keys } => {
                write!(f, "a lock holds at most 255 keys, not {keys}")
            }
            LockError::ProfileMismatch { key } => write!(
                f,
                "key {key} is bound to another profile than key 0; every key of a lock must share its profile"
            ),
            LockError::TooManySlots { slots, max } => write!(
                f,
                "the profile can revoke {slots} ongoing slots but a lock tracks at most {max}"
            ),
            LockError::TooManyLineages { lineages, max } => write!(
                f,
                "the profile has {lineages} supersede lineages but a lock tracks at most {max}"
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
}

impl fmt::Display for CommitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommitError::Stale { change, lock } => write!(
                f,
                "the change was computed for state {change} but the lock is at state {lock}; check the entry again"
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
    /// Keep the door shut, for this reason.
    Refuse(Refusal),
}

impl Decision {
    /// Whether the door opens.
    pub const fn opens(&self) -> bool {
        matches!(self, Decision::Open(_))
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
    Before(UnixSeconds),
}

/// The state change an entry implies. Produced by [`Lock::check`] or
/// [`Lock::observe_clock`], persisted with [`Lock::save_after`], applied by
/// [`Lock::commit`]. It holds no references: keep it while the image is
/// written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[must_use = "a change does nothing until it is persisted and committed"]
pub struct Change {
    /// The sequence number of the state it was computed from.
    seq: u64,
    /// Nothing to persist or apply.
    empty: bool,
    highest_seen: UnixSeconds,
    lockout: Lockout,
    remember: Option<(usize, Remembered)>,
    lineage: Option<(u8, UnixSeconds)>,
    revoke: Option<Revocation>,
}

impl Change {
    /// Whether the change changes nothing (an entry refused while the
    /// keypad is locked out): it needs neither persisting nor committing
    /// (both are harmless no-ops).
    pub const fn is_empty(&self) -> bool {
        self.empty
    }

    /// The sequence number of the state after this change, which the
    /// image written by [`Lock::save_after`] carries (the lock's
    /// [`sequence`](Lock::sequence) plus one, or unchanged for an empty
    /// change). Writing that image to slot `image_sequence() % 2` alternates
    /// two image slots.
    pub const fn image_sequence(&self) -> u64 {
        if self.empty {
            self.seq
        } else {
            self.seq.wrapping_add(1)
        }
    }
}

/// The outcome of [`Lock::check`]: the decision and the state change it
/// implies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[must_use = "persist and commit the change, then act on the decision"]
pub struct Check {
    /// Open, apply a revocation, or refuse.
    pub decision: Decision,
    /// What to persist and commit (even for a refusal: failures count).
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
    pub(crate) highest_seen: UnixSeconds,
    pub(crate) lockout: Lockout,
    pub(crate) revocations: Revocations,
    pub(crate) memory: Memory<MEMORY>,
}

impl<const MEMORY: usize> LockState<MEMORY> {
    fn fresh(highest_seen: UnixSeconds) -> Self {
        LockState {
            seq: 0,
            highest_seen,
            lockout: Lockout::CLEAR,
            revocations: Revocations::CLEAR,
            memory: Memory::EMPTY,
        }
    }

    /// Applies a change computed from this state (the caller checked the
    /// sequence number).
    fn apply(&mut self, change: &Change) {
        self.seq = self.seq.wrapping_add(1);
        self.highest_seen = self.highest_seen.max(change.highest_seen);
        self.lockout = change.lockout;
        if let Some((slot, entry)) = change.remember {
            self.memory.set(slot, entry);
        }
        if let Some((lineage, start)) = change.lineage {
            self.revocations.mark_lineage(lineage, start);
        }
        match change.revoke {
            Some(Revocation::Slot(slot)) => self.revocations.revoke_slot(slot),
            Some(Revocation::Before(at)) => self.revocations.raise_watermark(at),
            None => {}
        }
    }
}

/// What one key's grant comes to, before the lock-out bookkeeping.
enum Judged {
    Open {
        remember: Option<(usize, Remembered)>,
        lineage: Option<(u8, UnixSeconds)>,
    },
    Revoke(Revocation, RevokeTarget),
    Refuse(Refusal),
}

/// A lock: its key(s), profile and UTC offset, and its state.
///
/// `MEMORY` is the number of codes it can remember (used one-time codes
/// and activated time-bound codes together); it must be at least 1 and at
/// most the profile's [`lock_memory`](crate::Profile::lock_memory), the
/// number the profile's security figure counts (a bigger memory would make
/// the published figure a lie; a profile that differs only in
/// `lock_memory` issues the same PINs, so raise it there). `KEYS` is the
/// number of keys (default 1); every key multiplies the acceptable set, as
/// [`Lock::security`] accounts.
///
/// Keys are not part of the saved image: firmware keeps them in its key
/// store and hands them to [`Lock::load`] at boot.
///
/// # Examples
///
/// The check → persist → commit sequence:
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
///     let check = lock.check(pin.as_bytes(), now);
///     if !check.change.is_empty() {
///         // 1. persist the state after the change (slot by sequence parity)
///         let slot = (check.change.image_sequence() % 2) as usize;
///         lock.save_after(&check.change, &mut flash[slot])?;
///         // 2. apply it in RAM
///         lock.commit(check.change)?;
///     }
///     // 3. only now act on the decision
///     assert_eq!(check.decision.opens(), expected_open);
/// }
/// assert_eq!(
///     lock.check(pin.as_bytes(), now).decision,
///     Decision::Refuse(Refusal::AlreadyUsed)
/// );
///
/// // At boot: the newest valid image wins.
/// let lock = Lock::<32>::load_newest(Codec::new(&key, P)?, UtcOffset::UTC, &[&flash[0], &flash[1]])?;
/// assert_eq!(lock.check(pin.as_bytes(), now).decision, Decision::Refuse(Refusal::AlreadyUsed));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Lock<const MEMORY: usize, const KEYS: usize = 1> {
    codecs: [Codec; KEYS],
    profile: Profile,
    offset: UtcOffset,
    state: LockState<MEMORY>,
}

impl<const MEMORY: usize, const KEYS: usize> Lock<MEMORY, KEYS> {
    /// Size in bytes of a saved image of this lock's state (see
    /// [`persist`] for the layout).
    pub const STATE_LEN: usize = persist::state_len(MEMORY);

    /// A lock with empty state: nothing remembered, nothing revoked, no
    /// failures, and the highest seen time at the profile's epoch (call
    /// [`Lock::observe_clock`] at provisioning to start rollback detection
    /// from the provisioning time).
    ///
    /// # Errors
    ///
    /// A [`LockError`] when `MEMORY` is zero or larger than the profile's
    /// `lock_memory`, `KEYS` is zero or above 255, the codecs disagree
    /// about the profile, or the profile has more revocable slots or
    /// lineages than a lock tracks.
    pub fn new(codecs: impl IntoCodecs<KEYS>, offset: UtcOffset) -> Result<Self, LockError> {
        let codecs = codecs.into_codecs();
        let profile = *codecs.first().ok_or(LockError::NoKeys)?.profile();
        if let Some(key) = codecs.iter().position(|c| *c.profile() != profile) {
            return Err(LockError::ProfileMismatch { key });
        }
        if KEYS > usize::from(u8::MAX) {
            return Err(LockError::TooManyKeys { keys: KEYS });
        }
        if MEMORY == 0 {
            return Err(LockError::ZeroMemory);
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
        Ok(Lock {
            codecs,
            profile,
            offset,
            state: LockState::fresh(profile.epoch()),
        })
    }

    /// The profile the lock's keys are bound to.
    pub const fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The lock's UTC offset (it places daily windows).
    pub const fn offset(&self) -> UtcOffset {
        self.offset
    }

    /// The state's sequence number: 0 for a new lock, plus one per
    /// committed non-empty change. [`Lock::save`] writes it into the image;
    /// [`Lock::load_newest`] prefers the image with the highest one.
    pub const fn sequence(&self) -> u64 {
        self.state.seq
    }

    /// The highest time the lock has seen (its monotonic clock).
    pub const fn highest_seen(&self) -> UnixSeconds {
        self.state.highest_seen
    }

    /// Until when the keypad is locked out, if it is at `now` (judged at
    /// the monotonic time `max(now, highest_seen)`).
    pub fn locked_out_until(&self, now: UnixSeconds) -> Option<UnixSeconds> {
        let t = now.max(self.state.highest_seen);
        self.state
            .lockout
            .is_locked(t)
            .then_some(self.state.lockout.until)
    }

    /// Consecutive failed entries since the last opening (saturating).
    pub fn consecutive_failures(&self) -> u64 {
        self.state.lockout.failures(&self.profile.lockout())
    }

    /// Whether ongoing slot `slot` has been revoked.
    pub fn is_slot_revoked(&self, slot: u32) -> bool {
        self.state.revocations.is_slot_revoked(slot)
    }

    /// The revocation watermark: codes whose window started before it are
    /// revoked (`None`: no revoke-before code was entered).
    pub const fn watermark(&self) -> Option<UnixSeconds> {
        let w = self.state.revocations.watermark;
        if w == revocation::NONE { None } else { Some(w) }
    }

    /// The supersede mark of `lineage`: codes of that lineage whose window
    /// starts before it are superseded (`None`: no code of it opened yet).
    pub fn lineage_mark(&self, lineage: u8) -> Option<UnixSeconds> {
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
        MEMORY - self.state.memory.live(now.max(self.state.highest_seen))
    }

    /// The security figures of this lock: the profile's, with the lock's
    /// number of keys ([`Profile::security_with_keys`]). `W_max` counts
    /// the profile's `lock_memory` remembered codes, at least `MEMORY`.
    pub fn security(&self) -> SecurityFigures {
        #[allow(
            clippy::cast_possible_truncation,
            reason = "KEYS <= 255, checked by new"
        )]
        self.profile.security_with_keys(KEYS as u32)
    }

    /// A change that only records `now` as seen (empty if the lock has
    /// seen a later time). Firmware may commit one at provisioning and now
    /// and then (say hourly), so a clock rolled back later is detected
    /// against a recent time.
    pub fn observe_clock(&self, now: UnixSeconds) -> Change {
        let mut change = self.base_change(now);
        change.empty = now <= self.state.highest_seen;
        change
    }

    /// The change that records time `t` and nothing else.
    fn base_change(&self, t: UnixSeconds) -> Change {
        Change {
            seq: self.state.seq,
            empty: false,
            highest_seen: t.max(self.state.highest_seen),
            lockout: self.state.lockout,
            remember: None,
            lineage: None,
            revoke: None,
        }
    }

    /// Decides what the typed digits do at `now` (the lock's clock), and
    /// the state change that implies. Mutates nothing: persist the change
    /// with [`Lock::save_after`], apply it with [`Lock::commit`], then act
    /// on [`Check::decision`]. See the [module docs](self) for the rules.
    ///
    /// Bounded time: at most `KEYS` FF1 decryptions and `KEYS` scans of
    /// the memory. Any input is accepted; malformed input is a refusal
    /// ([`Refusal::InvalidCode`]) and counts as a failure.
    pub fn check(&self, typed: &[u8], now: UnixSeconds) -> Check {
        let hs = self.state.highest_seen;
        let t = now.max(hs);
        let behind = hs.saturating_sub(now);
        let clock = if behind > self.profile.grace_secs() {
            ClockStatus::RolledBack { by_secs: behind }
        } else {
            ClockStatus::Ok
        };
        let mut change = self.base_change(t);

        if self.state.lockout.is_locked(t) {
            change.empty = true;
            change.highest_seen = hs;
            return Check {
                decision: Decision::Refuse(Refusal::LockedOut),
                change,
                clock,
                key: None,
            };
        }

        let rolled_back = matches!(clock, ClockStatus::RolledBack { .. });
        let mut refusal = (Refusal::InvalidCode, None);
        for (key, codec) in self.codecs.iter().enumerate() {
            let grant = match codec.decode_input(typed) {
                Ok(grant) => grant,
                // Malformed input is malformed for every key.
                Err(DecodeError::Pin(_)) => break,
                Err(_) => continue,
            };
            #[allow(
                clippy::cast_possible_truncation,
                reason = "KEYS <= 255, checked by new"
            )]
            let key_byte = key as u8;
            match self.judge(key_byte, &grant, t, rolled_back) {
                Judged::Open { remember, lineage } => {
                    change.lockout = Lockout::CLEAR;
                    change.remember = remember;
                    change.lineage = lineage;
                    return Check {
                        decision: Decision::Open(grant),
                        change,
                        clock,
                        key: Some(key),
                    };
                }
                Judged::Revoke(revocation, target) => {
                    change.revoke = Some(revocation);
                    return Check {
                        decision: Decision::Revoked(target),
                        change,
                        clock,
                        key: Some(key),
                    };
                }
                Judged::Refuse(r) => {
                    if refusal.1.is_none() {
                        refusal = (r, Some(key));
                    }
                }
            }
        }
        let (reason, key) = refusal;
        if reason != Refusal::MemoryFull {
            change.lockout = self.state.lockout.after_failure(&self.profile.lockout(), t);
        }
        Check {
            decision: Decision::Refuse(reason),
            change,
            clock,
            key,
        }
    }

    /// Judges one decoded grant at the monotonic time `t`.
    fn judge(&self, key: u8, grant: &Grant, t: UnixSeconds, rolled_back: bool) -> Judged {
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
            _ => {}
        }
        let start = grant.starts_at(&self.profile, self.offset);
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
            (l, Some(s)) => Some((l, s)),
        };
        let Ok(index) = self.profile.index_of(grant) else {
            return Judged::Refuse(Refusal::InvalidCode);
        };
        let memory = &self.state.memory;
        let open = |remember| Judged::Open { remember, lineage };
        let remember_new = |kind, until| match memory.free_slot(t) {
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
        match self.profile.check(grant, t, self.offset) {
            Verdict::Refuse(r) => Judged::Refuse(r),
            Verdict::Revoke(target @ RevokeTarget::StartedBefore { hour }) => {
                let at = self
                    .profile
                    .epoch()
                    .saturating_add(i64::from(hour).saturating_mul(HOUR));
                Judged::Revoke(Revocation::Before(at), target)
            }
            Verdict::Revoke(target @ RevokeTarget::Slot(slot)) => {
                Judged::Revoke(Revocation::Slot(slot), target)
            }
            Verdict::Open(Remember::Nothing) => open(None),
            Verdict::Open(Remember::Activated { until }) => {
                if memory.find(key, index, EntryKind::Activated, t).is_some() {
                    open(None)
                } else {
                    remember_new(EntryKind::Activated, until)
                }
            }
            Verdict::Open(Remember::Used { until }) => {
                if memory.find(key, index, EntryKind::Used, t).is_some() {
                    Judged::Refuse(Refusal::AlreadyUsed)
                } else {
                    remember_new(EntryKind::Used, until)
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

    /// Applies a change produced by [`Lock::check`] or
    /// [`Lock::observe_clock`] on this state. Persist it first
    /// ([`Lock::save_after`]). An empty change is accepted and does
    /// nothing.
    ///
    /// # Errors
    ///
    /// [`CommitError::Stale`] when the state moved since the change was
    /// computed (it is then not applied: check the entry again).
    pub fn commit(&mut self, change: Change) -> Result<(), CommitError> {
        if change.empty {
            return Ok(());
        }
        if change.seq != self.state.seq {
            return Err(CommitError::Stale {
                change: change.seq,
                lock: self.state.seq,
            });
        }
        self.state.apply(&change);
        Ok(())
    }
}
