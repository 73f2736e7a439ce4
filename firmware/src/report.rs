//! What the run prints and counts: the tally of decisions as expected or
//! not, the guesses the lock evaluated and the writes each entry cost, and
//! how times, decisions, expectations and loads are shown.

use cortex_m_semihosting::hprintln;
use offpin::lock::Decision;
use offpin::{Refusal, RevokeTarget};

use crate::script::Expect;
use crate::{D, H, MIN};

/// Prints why the run cannot go on and reports failure.
pub(crate) fn fatal(what: &str, err: &dyn core::fmt::Debug) -> bool {
    hprintln!("FATAL: {}: {:?}", what, err);
    false
}

/// Counts the decisions that were (not) the expected ones.
#[derive(Default)]
pub(crate) struct Tally {
    pub(crate) passed: u32,
    pub(crate) failed: u32,
}

impl Tally {
    pub(crate) fn record(&mut self, good: bool) -> bool {
        if good {
            self.passed += 1;
        } else {
            self.failed += 1;
        }
        good
    }
}

pub(crate) const fn verdict(good: bool) -> &'static str {
    if good { "OK" } else { "MISMATCH" }
}

/// The refused entries the lock evaluated (a guess budget's worth of
/// times), and the writes each kind of entry cost.
pub(crate) struct Guesses {
    times: [i64; 64],
    pub(crate) n: usize,
    /// (fewest, most) writes of failed, opened and locked-out entries.
    pub(crate) writes: [Option<(u32, u32)>; 3],
}

impl Default for Guesses {
    fn default() -> Self {
        Guesses {
            times: [0; 64],
            n: 0,
            writes: [None; 3],
        }
    }
}

impl Guesses {
    pub(crate) fn record(&mut self, decision: Decision, at: i64, writes: u32) {
        let kind = match decision {
            Decision::Refuse(Refusal::LockedOut) => 2,
            Decision::Refuse(Refusal::MemoryFull)
            | Decision::Revoked(_)
            | Decision::ClockSet { .. } => return,
            Decision::Refuse(_) => {
                if let Some(t) = self.times.get_mut(self.n) {
                    *t = at;
                }
                self.n += 1;
                0
            }
            Decision::Open(_) | Decision::Service { .. } => 1,
        };
        if let Some(w) = self.writes.get_mut(kind) {
            *w = Some(w.map_or((writes, writes), |(lo, hi)| {
                (lo.min(writes), hi.max(writes))
            }));
        }
    }

    /// The most evaluated refusals in any `len` seconds.
    pub(crate) fn most_in(&self, len: i64) -> usize {
        let times = self.times.get(..self.n.min(64)).unwrap_or_default();
        times
            .iter()
            .enumerate()
            .map(|(i, start)| {
                times
                    .get(i..)
                    .unwrap_or_default()
                    .iter()
                    .take_while(|t| **t < start + len)
                    .count()
            })
            .max()
            .unwrap_or(0)
    }
}

/// A (fewest, most) pair, printed as `n` or `lo..hi`.
pub(crate) struct Range(pub(crate) Option<(u32, u32)>);

impl core::fmt::Display for Range {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            None => f.write_str("-"),
            Some((lo, hi)) if lo == hi => write!(f, "{lo}"),
            Some((lo, hi)) => write!(f, "{lo}..{hi}"),
        }
    }
}

/// A time after `T0`, as `+1d09h05` (plus `:ss` when not on a minute).
pub(crate) struct Rel(pub(crate) i64);

impl core::fmt::Display for Rel {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let t = self.0;
        write!(f, "+{}d{:02}h{:02}", t / D, t % D / H, t % H / MIN)?;
        if t % MIN != 0 {
            write!(f, ":{:02}", t % MIN)?;
        }
        Ok(())
    }
}

pub(crate) struct Shown(pub(crate) Decision);

impl core::fmt::Display for Shown {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            Decision::Open(g) => write!(f, "open ({})", g.kind().name()),
            Decision::Revoked(RevokeTarget::Slot(s)) => write!(f, "revoked (slot {s})"),
            Decision::Revoked(RevokeTarget::StartedBefore { hour }) => {
                write!(f, "revoked (before hour {hour})")
            }
            Decision::Refuse(r) => write!(f, "refused ({})", r.code()),
            Decision::ClockSet { to } => write!(f, "clock set (to Unix time {to})"),
            Decision::Service { counter } => write!(f, "open (service code, counter {counter})"),
        }
    }
}

pub(crate) struct Expected(pub(crate) Expect);

impl core::fmt::Display for Expected {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            Expect::Open => f.write_str("open"),
            Expect::Revoked => f.write_str("revoked"),
            Expect::Refused(r) => write!(f, "refused {}", r.code()),
            Expect::ClockSet => f.write_str("clock set"),
            Expect::Service => f.write_str("open (service code)"),
        }
    }
}

/// The outcome of a load, for the report.
pub(crate) struct Loaded<'a>(pub(crate) &'a Result<(), offpin::PersistError>);

impl core::fmt::Display for Loaded<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use offpin::PersistError as E;
        match self.0 {
            Ok(()) => f.write_str("loaded"),
            Err(E::RolledBack { image, counter }) => write!(
                f,
                "refused, rolled back (image counter {image} < hardware counter {counter})"
            ),
            Err(E::Version1) => f.write_str("refused, version 1"),
            Err(E::AlreadyMigrated) => f.write_str("refused, already migrated"),
            Err(e) => write!(f, "refused ({e:?})"),
        }
    }
}
