//! The stateless half of the lock: is a decoded grant valid at `now`?
//!
//! [`Profile::check`] is a pure function of the grant, the lock's clock and
//! its UTC offset. It answers with a [`Verdict`]; what the lock must
//! remember (one-time codes it saw, codes it activated) and what it must
//! refuse from memory (used, revoked, superseded) is the job of the
//! lock-side state, which builds on this verdict.
//!
//! All comparisons use the profile's clock grace `g` at both ends:
//!
//! | grant | opens when | needs memory |
//! |---|---|---|
//! | time-bound `[s, e)` with `e − s ≤ A` | `s − g ≤ now < e + g` | no |
//! | time-bound `[s, e)` with `e − s > A` | first use `s − g ≤ now < s + A + g`, later uses while `now < e + g` | activated until `e + g` |
//! | one-time, use window `[s, s + U)` | `s − g ≤ now < s + U + g`, once | used until `s + U + g` |
//! | ongoing | always, until revoked | no |
//! | revoke slot | always (idempotent) | — |
//! | revoke before hour `h` | `h − g ≤ now < h + A + g` | — |
//! | recurring (v2) | on a day of its mask in its weeks, `from − g ≤ local time of day < to + g` | no |
//! | clock set to `T` (v2) | `T − step ≤ now < T` (no grace): move the clock to `T` | — |
//!
//! (`A` is the activation window, `U` the one-time use window; recurring
//! codes follow the lock's local time, [`TzRule`].)

use core::fmt;

#[cfg(feature = "format-v2")]
use crate::grant::Recurrence;
use crate::grant::{Grant, RevokeTarget};
use crate::profile::Profile;
use crate::time::UnixSeconds;
#[cfg(test)]
use crate::time::UtcOffset;
use crate::tz::TzRule;

/// What the lock must remember when it opens for a grant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Remember {
    /// Nothing: the grant's window is short enough to need no activation.
    Nothing,
    /// The code was activated (first used within its activation window);
    /// remember it until `until`, and accept it again only while
    /// remembered.
    Activated {
        /// When the memory entry may be dropped (window end plus grace).
        until: UnixSeconds,
    },
    /// A one-time code was used; remember it until `until` and refuse it
    /// while remembered.
    Used {
        /// When the memory entry may be dropped (use-window end plus grace).
        until: UnixSeconds,
    },
}

/// Why a PIN does not open the lock. Deliberately coarse: a keypad shows a
/// refusal, the lock's log keeps the reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Refusal {
    /// The digits name no grant (wrong PIN, or typed for another lock).
    InvalidCode,
    /// The window has not started yet (beyond the clock grace).
    NotYetValid,
    /// The window has ended, or a one-time code's use window has passed.
    Expired,
    /// The code needed activation within its activation window and the lock
    /// does not remember it as activated.
    NotActivated,
    /// A one-time code that was already used.
    AlreadyUsed,
    /// The code was revoked (slot revocation or started-before watermark).
    Revoked,
    /// A newer code of the same lineage has been used.
    Superseded,
    /// The code must be remembered but the lock's memory is full of
    /// unexpired entries.
    MemoryFull,
    /// The keypad is locked out after too many wrong entries.
    LockedOut,
    /// The lock's clock is behind the highest time it has seen by more than
    /// the clock grace, so no time-dependent code can be judged (see
    /// [`crate::lock`]).
    ClockRolledBack,
    /// A recurring code typed within its weeks but on a day or at an hour
    /// outside its schedule.
    OutsideSchedule,
    /// The lock was loaded from flash but not started: the firmware has not
    /// yet persisted and committed [`Lock::start`](crate::lock::Lock::start)'s
    /// change. Not a failure; nothing is evaluated.
    NotStarted,
}

impl Refusal {
    /// A stable snake_case code for logs, test vectors and APIs
    /// (`invalid_code`, `not_yet_valid`, `expired`, `not_activated`,
    /// `already_used`, `revoked`, `superseded`, `memory_full`, `locked_out`,
    /// `clock_rolled_back`, `outside_schedule`, `not_started`).
    ///
    /// ```
    /// assert_eq!(offpin::Refusal::AlreadyUsed.code(), "already_used");
    /// ```
    pub const fn code(self) -> &'static str {
        match self {
            Refusal::InvalidCode => "invalid_code",
            Refusal::NotYetValid => "not_yet_valid",
            Refusal::Expired => "expired",
            Refusal::NotActivated => "not_activated",
            Refusal::AlreadyUsed => "already_used",
            Refusal::Revoked => "revoked",
            Refusal::Superseded => "superseded",
            Refusal::MemoryFull => "memory_full",
            Refusal::LockedOut => "locked_out",
            Refusal::ClockRolledBack => "clock_rolled_back",
            Refusal::OutsideSchedule => "outside_schedule",
            Refusal::NotStarted => "not_started",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::InvalidCode => "the PIN is not valid for this lock",
            Refusal::NotYetValid => "the code's window has not started yet",
            Refusal::Expired => "the code's window has ended",
            Refusal::NotActivated => {
                "the code was not used within its activation window after its start"
            }
            Refusal::AlreadyUsed => "the one-time code was already used",
            Refusal::Revoked => "the code was revoked",
            Refusal::Superseded => "a newer code of the same lineage replaced this one",
            Refusal::MemoryFull => "the lock's code memory is full",
            Refusal::LockedOut => "the keypad is locked after too many wrong PINs",
            Refusal::ClockRolledBack => {
                "the lock's clock is behind a time it has already seen; set the clock"
            }
            Refusal::OutsideSchedule => {
                "the recurring code is not valid on this day or at this hour"
            }
            Refusal::NotStarted => {
                "the lock was loaded but not started: persist and commit its start change"
            }
        })
    }
}

/// The stateless answer for one grant at one instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Open, and remember what [`Remember`] says.
    Open(Remember),
    /// Open only if the lock already remembers this code as activated
    /// (its activation window is over and its window is not).
    OpenIfActivated {
        /// End of the window plus grace.
        until: UnixSeconds,
    },
    /// A valid revocation code: apply the revocation (does not open).
    Revoke(RevokeTarget),
    /// A valid clock-setting code: move the lock's clock forward to `to`
    /// (does not open).
    SetClock {
        /// The instant the code names.
        to: UnixSeconds,
    },
    /// Refuse.
    Refuse(Refusal),
}

impl Verdict {
    /// Whether the verdict opens the lock without consulting its memory.
    pub const fn opens(&self) -> bool {
        matches!(self, Verdict::Open(_))
    }
}

impl Profile {
    /// Decides whether `grant` is valid at `now` on a lock whose local time
    /// is `zone` (a [`UtcOffset`](crate::UtcOffset) or a [`TzRule`]),
    /// ignoring everything the lock remembers.
    ///
    /// # Examples
    ///
    /// ```
    /// use offpin::{Grant, Remember, Span, UtcOffset, Verdict};
    /// use offpin::profile::shipped::STANDARD_10 as P;
    ///
    /// // Hour 10 since the epoch, 48 hours long: longer than the 24 h
    /// // activation window, so the first use must come within 24 h.
    /// let g = Grant::Hourly(Span { start: 10, length: 48, variance: 0, lineage: 0 });
    /// let start = P.epoch() + 10 * 3600;
    /// let end = start + 48 * 3600;
    /// assert_eq!(P.check(&g, start + 60, UtcOffset::UTC),
    ///            Verdict::Open(Remember::Activated { until: end + 600 }));
    /// assert_eq!(P.check(&g, start + 30 * 3600, UtcOffset::UTC),
    ///            Verdict::OpenIfActivated { until: end + 600 });
    /// ```
    pub fn check(&self, grant: &Grant, now: UnixSeconds, zone: impl Into<TzRule>) -> Verdict {
        self.check_in(grant, now, &zone.into())
    }

    /// [`Profile::check`] with the zone by reference (the lock's: no copy
    /// of it per check).
    // Inlined into the lock's one caller: out of line it costs the
    // Cortex-M0 validator 200 bytes (firmware/run.sh).
    #[inline(always)]
    pub(crate) fn check_in(&self, grant: &Grant, now: UnixSeconds, zone: &TzRule) -> Verdict {
        let g = self.grace_secs();
        let activation = self.activation_secs();
        // Every bound saturates: a time near `i64::MAX` or `i64::MIN`
        // refuses instead of wrapping into a window.
        let opens_at = |start: UnixSeconds| crate::time::sub_secs(start, g);
        let closes_at = |end: UnixSeconds| crate::time::add_secs(end, g);
        match grant {
            Grant::Hourly(_) | Grant::Daily(_) | Grant::OneTime { .. } => {
                let Some(w) = grant.window_in(self, zone) else {
                    return Verdict::Refuse(Refusal::InvalidCode);
                };
                let until = closes_at(w.end);
                if now < opens_at(w.start) {
                    Verdict::Refuse(Refusal::NotYetValid)
                } else if now >= until {
                    Verdict::Refuse(Refusal::Expired)
                } else if matches!(grant, Grant::OneTime { .. }) {
                    // A one-time code's window is its use window.
                    Verdict::Open(Remember::Used { until })
                } else if w.len_secs() <= activation {
                    Verdict::Open(Remember::Nothing)
                } else if now < closes_at(crate::time::add_secs(w.start, activation)) {
                    Verdict::Open(Remember::Activated { until })
                } else {
                    Verdict::OpenIfActivated { until }
                }
            }
            Grant::Ongoing { .. } => Verdict::Open(Remember::Nothing),
            Grant::Revoke(target @ RevokeTarget::Slot(_)) => Verdict::Revoke(*target),
            #[cfg(feature = "format-v2")]
            Grant::Recurring(r) => self.check_recurring(r, now, zone),
            #[cfg(feature = "format-v2")]
            Grant::ClockSet { at } => self.check_clock_set(*at, now),
            // Without the feature no lock has these kinds (`Lock::new`
            // refuses their profiles) and their checks are not linked.
            #[cfg(not(feature = "format-v2"))]
            Grant::Recurring(_) | Grant::ClockSet { .. } => Verdict::Refuse(Refusal::InvalidCode),
            Grant::Revoke(target @ RevokeTarget::StartedBefore { hour }) => {
                let at = self.hour_start(*hour);
                if now < opens_at(at) {
                    Verdict::Refuse(Refusal::NotYetValid)
                } else if now >= closes_at(crate::time::add_secs(at, activation)) {
                    Verdict::Refuse(Refusal::Expired)
                } else {
                    Verdict::Revoke(*target)
                }
            }
        }
    }

    /// [`Profile::check_in`] of a recurring code: its weeks, then its
    /// weekdays and hours in the lock's local time (the grace widens the
    /// hours).
    #[cfg(feature = "format-v2")]
    fn check_recurring(&self, r: &Recurrence, now: UnixSeconds, zone: &TzRule) -> Verdict {
        let g = self.grace_secs();
        let menu = self.params().recurring;
        let (Some(days), Some(hours)) = (
            menu.days.get(usize::from(r.days)),
            menu.hours.get(usize::from(r.hours)),
        ) else {
            return Verdict::Refuse(Refusal::InvalidCode);
        };
        // Local clock seconds since the profile's local day 0.
        let q = i128::from(zone.local_seconds(now)) - i128::from(self.epoch());
        let day = q.div_euclid(86_400);
        let week = day.div_euclid(7);
        let weekday = (i128::from(self.epoch_weekday()) + day).rem_euclid(7);
        let tod = q.rem_euclid(86_400);
        let first = i128::from(r.start_week);
        if week < first {
            Verdict::Refuse(Refusal::NotYetValid)
        } else if week >= first + i128::from(r.weeks) {
            Verdict::Refuse(Refusal::Expired)
        } else if u8::try_from(weekday).is_ok_and(|d| days.contains(d))
            && i64::try_from(tod).is_ok_and(|t| hours.contains(t, g))
        {
            Verdict::Open(Remember::Nothing)
        } else {
            Verdict::Refuse(Refusal::OutsideSchedule)
        }
    }

    /// [`Profile::check_in`] of a clock-setting code to instant `at`:
    /// valid from the longest step before the instant it names until it.
    #[cfg(feature = "format-v2")]
    fn check_clock_set(&self, at: u32, now: UnixSeconds) -> Verdict {
        let to = self.clock_instant(at);
        let step = self.params().clock_codes.max_step_secs();
        if now < to.saturating_sub(step) {
            Verdict::Refuse(Refusal::NotYetValid)
        } else if now >= to {
            Verdict::Refuse(Refusal::Expired)
        } else {
            Verdict::SetClock { to }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grant::Span;
    use crate::profile::shipped::STANDARD_10 as P;
    use crate::time::HOUR;

    const G: i64 = 600;

    fn hourly(start: u32, length: u32) -> Grant {
        Grant::Hourly(Span {
            start,
            length,
            variance: 0,
            lineage: 0,
        })
    }

    #[test]
    fn short_windows_open_within_grace_only() {
        let g = hourly(100, 3);
        let s = P.epoch() + 100 * HOUR;
        let e = s + 3 * HOUR;
        let at = |t| P.check(&g, t, UtcOffset::UTC);
        assert_eq!(at(s - G - 1), Verdict::Refuse(Refusal::NotYetValid));
        assert_eq!(at(s - G), Verdict::Open(Remember::Nothing));
        assert_eq!(at(e + G - 1), Verdict::Open(Remember::Nothing));
        assert_eq!(at(e + G), Verdict::Refuse(Refusal::Expired));
    }

    #[test]
    fn long_windows_need_activation() {
        let g = hourly(100, 25);
        let s = P.epoch() + 100 * HOUR;
        let e = s + 25 * HOUR;
        let at = |t| P.check(&g, t, UtcOffset::UTC);
        assert_eq!(at(s), Verdict::Open(Remember::Activated { until: e + G }));
        assert_eq!(
            at(s + 24 * HOUR + G - 1),
            Verdict::Open(Remember::Activated { until: e + G })
        );
        assert_eq!(
            at(s + 24 * HOUR + G),
            Verdict::OpenIfActivated { until: e + G }
        );
        assert_eq!(at(e + G), Verdict::Refuse(Refusal::Expired));
    }

    #[test]
    fn daily_windows_follow_the_local_midnight() {
        let g = Grant::Daily(Span {
            start: 10,
            length: 1,
            variance: 0,
            lineage: 0,
        });
        let plus2 = UtcOffset::from_minutes(120).unwrap();
        let local_midnight = P.epoch() + 10 * 86_400 - 7_200;
        assert_eq!(
            P.check(&g, local_midnight - G, plus2),
            Verdict::Open(Remember::Nothing)
        );
        assert_eq!(
            P.check(&g, local_midnight - G - 1, plus2),
            Verdict::Refuse(Refusal::NotYetValid)
        );
    }

    #[test]
    fn one_time_codes_are_remembered_as_used() {
        let g = Grant::OneTime {
            start_hour: 5,
            variance: 1,
        };
        let s = P.epoch() + 5 * HOUR;
        let until = s + 24 * HOUR + G;
        assert_eq!(
            P.check(&g, s + 3_600, UtcOffset::UTC),
            Verdict::Open(Remember::Used { until })
        );
        assert_eq!(
            P.check(&g, until, UtcOffset::UTC),
            Verdict::Refuse(Refusal::Expired)
        );
    }

    #[test]
    fn revocations_before_an_hour_have_an_entry_window() {
        let target = RevokeTarget::StartedBefore { hour: 50 };
        let g = Grant::Revoke(target);
        let at = P.epoch() + 50 * HOUR;
        assert_eq!(P.check(&g, at, UtcOffset::UTC), Verdict::Revoke(target));
        assert_eq!(
            P.check(&g, at + 24 * HOUR + G, UtcOffset::UTC),
            Verdict::Refuse(Refusal::Expired)
        );
        assert_eq!(
            P.check(&Grant::Ongoing { slot: 3 }, 0, UtcOffset::UTC),
            Verdict::Open(Remember::Nothing)
        );
    }
}
