//! Deciding an entry: the charge of count-before-check, then the check of
//! the typed keys against every key of the lock (a service code, a PIN,
//! or with anti-peep entry the PINs inside a longer entry) and the
//! lock-out's part of the outcome.

use super::lockout::{Budget, Lockout};
#[cfg(feature = "service-codes")]
use super::memory::service_until_hour;
use super::memory::{EntryKind, Remembered, until_hour};
use super::revocation::{Mark, start_of};
use super::{Change, Check, ClockStatus, Decision, Lock, Revocation};
use crate::check::{Refusal, Remember, Verdict};
use crate::codec::DecodeError;
use crate::grant::{Grant, RevokeTarget};
use crate::profile::LockoutPolicy;
use crate::time::UnixSeconds;

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

impl<const MEMORY: usize, const KEYS: usize> Lock<MEMORY, KEYS> {
    /// Whether an entry without a charge is refused unseen at the lock's
    /// time `t`: the back-off runs, or the budget is spent.
    /// Out of line: inlined into `charge` and `check` it costs the
    /// Cortex-M0 validator 96 bytes.
    #[inline(never)]
    fn is_locked_at(&self, t: UnixSeconds) -> bool {
        self.state.lockout.is_locked(t) || self.state.budget.is_spent(&self.profile().lockout(), t)
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
    /// the [module docs](super) for the rules, and [`Lock::charge`] for the
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
        if let Some(judged) = self.judge_untimed(grant, t) {
            return judged;
        }
        let revocations = &self.state.revocations;
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
        self.judge_in_time(key, index, grant, t, lineage)
    }

    /// Judges the grants whose verdict depends neither on the watermarks
    /// nor on a clock that is rolled back: an ongoing code, a slot
    /// revocation and a clock-setting code (`None` for the others).
    #[cfg_attr(not(feature = "format-v2"), allow(unused_variables))]
    fn judge_untimed(&self, grant: &Grant, t: UnixSeconds) -> Option<Judged> {
        match grant {
            Grant::Ongoing { slot } => Some(if self.state.revocations.is_slot_revoked(*slot) {
                Judged::Refuse(Refusal::Revoked)
            } else {
                Judged::Open {
                    remember: None,
                    lineage: None,
                }
            }),
            Grant::Revoke(target @ RevokeTarget::Slot(slot)) => {
                Some(Judged::Revoke(Revocation::Slot(*slot), *target))
            }
            // Judged at the lock's time even when the clock is rolled
            // back: setting it right is what the code is for.
            #[cfg(feature = "format-v2")]
            Grant::ClockSet { .. } => Some(match self.profile().check_in(grant, t, &self.zone) {
                Verdict::SetClock { to } => Judged::SetClock(to),
                Verdict::Refuse(r) => Judged::Refuse(r),
                _ => Judged::Refuse(Refusal::InvalidCode),
            }),
            _ => None,
        }
    }

    /// Judges a grant that is neither revoked nor superseded on a clock
    /// that is not rolled back: its verdict at `t`, and what the memory
    /// holds of it (an activation to remember or find, a one-time code
    /// used already, or no room left). `lineage` is the supersede mark an
    /// opening sets.
    fn judge_in_time(
        &self,
        key: u8,
        index: u64,
        grant: &Grant,
        t: UnixSeconds,
        lineage: Option<(u8, Mark)>,
    ) -> Judged {
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
}
