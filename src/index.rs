//! The grant ⇄ index mapping: a disjoint union of mixed-radix ranges.
//!
//! Kinds are laid out one after another in [`Kind::ALL`] order; inside a
//! kind the fields are packed as mixed-radix digits, most significant
//! first:
//!
//! | kind | index inside the kind |
//! |---|---|
//! | hourly | `((start_hour · Hmax + (hours − 1)) · V + variance) · (L + 1) + lineage` |
//! | daily | `((start_day · Dmax + (days − 1)) · V + variance) · (L + 1) + lineage` |
//! | one-time | `start_hour · V + variance` |
//! | ongoing | `slot` |
//! | revoke slot | `slot` |
//! | revoke before | `hour` |
//! | recurring | `(((start_week · Wmax + (weeks − 1)) · ND + days) · NH + hours) · V + variance` |
//! | clock set | `at` |
//!
//! Every combination is used, so no index is wasted, and `M` (the sum of
//! the ranges) is checked against `radix^digits` when the profile is built.
//!
//! Unpacking divides the decrypted index by public constants with the
//! hardware divider. That is not constant time, and need not be: the index
//! is the output of a pseudorandom permutation of what was typed, so its
//! timing tells an attacker at most something about the image of a PIN
//! they already hold — never anything about other PINs or the key (see
//! `SECURITY.md`).

use crate::divisor::Reciprocal;
use crate::grant::{Grant, GrantError, Recurrence, RevokeTarget, Span};
use crate::profile::{Kind, Profile};

impl Profile {
    fn check_span(
        &self,
        kind: Kind,
        span: &Span,
        starts: u32,
        max_len: u32,
    ) -> Result<(), GrantError> {
        let p = self.params();
        if !self.has_kind(kind) {
            return Err(GrantError::KindDisabled(kind));
        }
        if span.start >= starts {
            return Err(GrantError::StartOutOfRange {
                start: span.start,
                limit: starts,
            });
        }
        if span.length == 0 || span.length > max_len {
            return Err(GrantError::LengthOutOfRange {
                length: span.length,
                max: max_len,
            });
        }
        if span.variance >= p.variances {
            return Err(GrantError::VarianceOutOfRange {
                variance: span.variance,
                limit: p.variances,
            });
        }
        if span.lineage > p.lineages {
            return Err(GrantError::LineageOutOfRange {
                lineage: span.lineage,
                max: p.lineages,
            });
        }
        Ok(())
    }

    fn pack_span(&self, span: &Span, max_len: u32) -> u64 {
        let p = self.params();
        ((u64::from(span.start) * u64::from(max_len) + u64::from(span.length - 1))
            * u64::from(p.variances)
            + u64::from(span.variance))
            * (u64::from(p.lineages) + 1)
            + u64::from(span.lineage)
    }

    /// The span of a kind's local index `local`, which `pack_span` packed
    /// with `max_len` (whose reciprocal `lengths` is): the mixed-radix
    /// fields taken off by constant-time division (the index of a typed
    /// guess is secret).
    fn unpack_span(&self, local: u64, lengths: Reciprocal) -> Option<Span> {
        let radices = self.radices();
        let (rest, lineage) = radices.lineages.div_rem(local);
        let (rest, variance) = radices.variances.div_rem(rest);
        let (start, length) = lengths.div_rem(rest);
        let (lineage, variance) = (u8::try_from(lineage).ok()?, u8::try_from(variance).ok()?);
        let length = u32::try_from(length).ok()? + 1;
        let start = u32::try_from(start).ok()?;
        Some(Span {
            start,
            length,
            variance,
            lineage,
        })
    }

    fn pack_recurrence(&self, r: &Recurrence) -> Result<u64, GrantError> {
        let p = self.params();
        let menu = p.recurring;
        let (nd, nh) = (menu.days.len() as u64, menu.hours.len() as u64);
        let starts = self.lifetime_weeks();
        if r.start_week >= starts {
            return Err(GrantError::StartOutOfRange {
                start: r.start_week,
                limit: starts,
            });
        }
        if r.weeks == 0 || r.weeks > menu.max_weeks {
            return Err(GrantError::LengthOutOfRange {
                length: u32::from(r.weeks),
                max: u32::from(menu.max_weeks),
            });
        }
        for (position, n) in [(r.days, nd), (r.hours, nh)] {
            if u64::from(position) >= n {
                return Err(GrantError::NotInMenu {
                    position,
                    limit: u8::try_from(n).unwrap_or(u8::MAX),
                });
            }
        }
        if r.variance >= p.variances {
            return Err(GrantError::VarianceOutOfRange {
                variance: r.variance,
                limit: p.variances,
            });
        }
        Ok(
            (((u64::from(r.start_week) * u64::from(menu.max_weeks) + u64::from(r.weeks - 1)) * nd
                + u64::from(r.days))
                * nh
                + u64::from(r.hours))
                * u64::from(p.variances)
                + u64::from(r.variance),
        )
    }

    #[cfg(feature = "format-v2")]
    fn unpack_recurrence(&self, local: u64) -> Option<Recurrence> {
        let p = self.params();
        let menu = p.recurring;
        let (nd, nh) = (menu.days.len() as u64, menu.hours.len() as u64);
        let v = u64::from(p.variances);
        let variance = u8::try_from(local % v).ok()?;
        let rest = local / v;
        let hours = u8::try_from(rest % nh.max(1)).ok()?;
        let rest = rest / nh.max(1);
        let days = u8::try_from(rest % nd.max(1)).ok()?;
        let rest = rest / nd.max(1);
        let max_weeks = u64::from(menu.max_weeks).max(1);
        let weeks = u16::try_from(rest % max_weeks).ok()? + 1;
        let start_week = u32::try_from(rest / max_weeks).ok()?;
        Some(Recurrence {
            start_week,
            weeks,
            days,
            hours,
            variance,
        })
    }

    /// The index of `grant` in `0..M`.
    ///
    /// # Errors
    ///
    /// A [`GrantError`] when a field is outside the profile's ranges or the
    /// kind is disabled.
    pub fn index_of(&self, grant: &Grant) -> Result<u64, GrantError> {
        let p = self.params();
        let kind = grant.kind();
        if !self.has_kind(kind) {
            return Err(GrantError::KindDisabled(kind));
        }
        let hours = self.lifetime_hours();
        let local = match grant {
            Grant::Hourly(span) => {
                self.check_span(kind, span, hours, p.hourly_max_hours)?;
                self.pack_span(span, p.hourly_max_hours)
            }
            Grant::Daily(span) => {
                self.check_span(kind, span, p.lifetime_days, p.daily_max_days)?;
                self.pack_span(span, p.daily_max_days)
            }
            Grant::OneTime {
                start_hour,
                variance,
            } => {
                if *start_hour >= hours {
                    return Err(GrantError::StartOutOfRange {
                        start: *start_hour,
                        limit: hours,
                    });
                }
                if *variance >= p.variances {
                    return Err(GrantError::VarianceOutOfRange {
                        variance: *variance,
                        limit: p.variances,
                    });
                }
                u64::from(*start_hour) * u64::from(p.variances) + u64::from(*variance)
            }
            Grant::Ongoing { slot } | Grant::Revoke(RevokeTarget::Slot(slot)) => {
                if *slot >= p.ongoing_slots {
                    return Err(GrantError::SlotOutOfRange {
                        slot: *slot,
                        limit: p.ongoing_slots,
                    });
                }
                u64::from(*slot)
            }
            Grant::Revoke(RevokeTarget::StartedBefore { hour }) => {
                if *hour >= hours {
                    return Err(GrantError::StartOutOfRange {
                        start: *hour,
                        limit: hours,
                    });
                }
                u64::from(*hour)
            }
            Grant::Recurring(r) => self.pack_recurrence(r)?,
            Grant::ClockSet { at } => {
                let limit = u32::try_from(self.kind_count(Kind::ClockSet)).unwrap_or(u32::MAX);
                if *at >= limit {
                    return Err(GrantError::StartOutOfRange { start: *at, limit });
                }
                u64::from(*at)
            }
        };
        Ok(self.kind_base(kind) + local)
    }

    /// The grant with index `index`, or `None` when `index >= M` (a PIN
    /// that names no grant).
    pub fn grant_at(&self, index: u64) -> Option<Grant> {
        let radices = self.radices();
        let kind = Kind::ALL.iter().copied().find(|k| {
            index >= self.kind_base(*k) && index - self.kind_base(*k) < self.kind_count(*k)
        })?;
        let local = index - self.kind_base(kind);
        let small = |x: u64| u32::try_from(x).ok();
        Some(match kind {
            Kind::Hourly => Grant::Hourly(self.unpack_span(local, radices.hourly_lengths)?),
            Kind::Daily => Grant::Daily(self.unpack_span(local, radices.daily_lengths)?),
            Kind::OneTime => {
                let (start_hour, variance) = radices.variances.div_rem(local);
                Grant::OneTime {
                    start_hour: small(start_hour)?,
                    variance: u8::try_from(variance).ok()?,
                }
            }
            Kind::Ongoing => Grant::Ongoing {
                slot: small(local)?,
            },
            Kind::RevokeSlot => Grant::Revoke(RevokeTarget::Slot(small(local)?)),
            Kind::RevokeBefore => Grant::Revoke(RevokeTarget::StartedBefore {
                hour: small(local)?,
            }),
            #[cfg(feature = "format-v2")]
            Kind::Recurring => Grant::Recurring(self.unpack_recurrence(local)?),
            #[cfg(feature = "format-v2")]
            Kind::ClockSet => Grant::ClockSet { at: small(local)? },
            // Without the feature no lock has these kinds (`Lock::new`
            // refuses their profiles) and their code is not linked.
            #[cfg(not(feature = "format-v2"))]
            Kind::Recurring | Kind::ClockSet => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::FormatVersion;
    use crate::profile::shipped::{ALL, COMPACT_8, SECURE_12};

    #[test]
    fn kind_boundaries_round_trip() {
        for p in ALL {
            for kind in Kind::ALL {
                let n = p.kind_count(kind);
                // Without the format-v2 feature its kinds name no grant.
                if n == 0
                    || (cfg!(not(feature = "format-v2")) && kind.format() == FormatVersion::V2)
                {
                    continue;
                }
                for idx in [p.kind_base(kind), p.kind_base(kind) + n - 1] {
                    let g = p.grant_at(idx).expect("index below M names a grant");
                    assert_eq!(g.kind(), kind);
                    assert_eq!(p.index_of(&g), Ok(idx), "{} {kind}", p.name());
                }
            }
            assert_eq!(p.grant_at(p.grant_count()), None);
            assert_eq!(p.grant_at(u64::MAX), None);
        }
    }

    #[test]
    fn out_of_range_fields_are_refused() {
        let p = SECURE_12;
        let ok = Span {
            start: 0,
            length: 1,
            variance: 0,
            lineage: 0,
        };
        assert!(p.index_of(&Grant::Hourly(ok)).is_ok());
        let bad = [
            (Span { length: 0, ..ok }, "length 0"),
            (Span { length: 673, ..ok }, "too long"),
            (Span { variance: 8, ..ok }, "variance"),
            (Span { lineage: 5, ..ok }, "lineage"),
            (
                Span {
                    start: p.lifetime_hours(),
                    ..ok
                },
                "start",
            ),
        ];
        for (span, what) in bad {
            assert!(p.index_of(&Grant::Hourly(span)).is_err(), "{what}");
        }
        assert_eq!(
            COMPACT_8.index_of(&Grant::Ongoing { slot: 20 }),
            Err(GrantError::SlotOutOfRange {
                slot: 20,
                limit: 20
            })
        );
    }
}
