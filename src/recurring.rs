//! Weekly recurring codes (format v2, tag 1): a weekday mask and a daily
//! range of whole local hours, for a number of whole weeks.
//!
//! The profile fixes a short **menu** ([`RecurringMenu`]): the masks
//! ([`Weekdays`]) and the hour ranges ([`Hours`]) a code can name, and the
//! longest length in weeks. A code names one of each, a first week and a
//! length; it needs no activation and opens only during its hours, in the
//! lock's local time (with its DST rule, [`TzRule`](crate::TzRule)).
//!
//! Weeks are counted from the profile's epoch: week `w` is local days
//! `7w .. 7w + 7` of the profile (Monday to Sunday for the shipped epoch,
//! 2024-01-01, a Monday). A code of first week `s` and `n` weeks is
//! accepted at an instant whose local time falls on a day `d` with
//! `s <= ⌊d / 7⌋ < s + n`, whose weekday is in the mask, and whose time of
//! day `r` (seconds after that day's local midnight... in local clock
//! seconds) satisfies `3600·from − g <= r < 3600·to + g` (the grace `g`
//! widens the hours, within the local day).
//!
//! Every mask is 7 bits, so the menu is what keeps `W` small: the count
//! at an instant is `cover(week) × masks(weekday) × ranges(hour) × V`
//! (`RecurringMenu::acceptable`), not `127 × …`.

use core::fmt;

/// A set of weekdays: bit 0 is Monday, …, bit 6 is Sunday (ISO 8601
/// order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Weekdays(pub u8);

impl Weekdays {
    /// Monday to Friday.
    pub const WEEKDAYS: Weekdays = Weekdays(0b001_1111);
    /// Saturday and Sunday.
    pub const WEEKENDS: Weekdays = Weekdays(0b110_0000);
    /// Every day.
    pub const EVERY_DAY: Weekdays = Weekdays(0b111_1111);
    /// Monday, Wednesday and Friday.
    pub const MON_WED_FRI: Weekdays = Weekdays(0b001_0101);
    /// Tuesday and Thursday.
    pub const TUE_THU: Weekdays = Weekdays(0b000_1010);

    /// The single weekday `d` (`0` Monday ..= `6` Sunday; others: empty).
    pub const fn day(d: u8) -> Weekdays {
        if d < 7 { Weekdays(1 << d) } else { Weekdays(0) }
    }

    /// Whether weekday `d` (`0` Monday ..= `6` Sunday) is in the set.
    pub const fn contains(self, d: u8) -> bool {
        d < 7 && self.0 & (1 << d) != 0
    }

    /// Whether the mask is a valid non-empty set of the seven days.
    pub const fn is_valid(self) -> bool {
        self.0 != 0 && self.0 < 0x80
    }

    /// The number of days in the set.
    pub const fn len(self) -> u32 {
        (self.0 & 0x7F).count_ones()
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 & 0x7F == 0
    }
}

impl fmt::Display for Weekdays {
    /// `Mon,Wed,Fri`, or `Mon-Fri`, `Sat,Sun`, `every day`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        match *self {
            Weekdays::EVERY_DAY => return f.write_str("every day"),
            Weekdays::WEEKDAYS => return f.write_str("Mon-Fri"),
            _ => {}
        }
        let mut first = true;
        for (d, name) in (0u8..).zip(NAMES) {
            if self.contains(d) {
                if !first {
                    f.write_str(",")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        if first {
            f.write_str("no day")?;
        }
        Ok(())
    }
}

/// A daily range of whole local hours, `from:00` to `to:00`
/// (`0 <= from < to <= 24`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hours {
    /// First hour, `0..=23`.
    pub from: u8,
    /// Hour after the last, `from + 1..=24`.
    pub to: u8,
}

impl Hours {
    /// `from:00` to `to:00`.
    pub const fn new(from: u8, to: u8) -> Hours {
        Hours { from, to }
    }

    /// Whether `from < to <= 24`.
    pub const fn is_valid(self) -> bool {
        self.from < self.to && self.to <= 24
    }

    /// Whether the local time of day `r` (seconds after local midnight,
    /// `0..86 400`) is within the range widened by `grace` seconds.
    pub const fn contains(self, r: i64, grace: i64) -> bool {
        let from = self.from as i64 * 3_600 - grace;
        let to = self.to as i64 * 3_600 + grace;
        from <= r && r < to
    }
}

impl fmt::Display for Hours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:00-{:02}:00", self.from, self.to)
    }
}

/// The menu of recurring codes a profile can express (format v2, tag 1).
/// Disabled ([`RecurringMenu::NONE`]) when any part is empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RecurringMenu {
    /// The weekday masks a code can name (at most [`MAX_MENU`], distinct).
    pub days: &'static [Weekdays],
    /// The daily hour ranges a code can name (at most [`MAX_MENU`],
    /// distinct).
    pub hours: &'static [Hours],
    /// The longest code, in weeks (`1..=`[`MAX_WEEKS`]).
    pub max_weeks: u16,
}

/// Most masks, and most hour ranges, a menu may list.
pub const MAX_MENU: usize = 32;
/// Longest recurring code a profile may allow: 520 weeks (10 years).
pub const MAX_WEEKS: u16 = 520;

impl RecurringMenu {
    /// No recurring codes.
    pub const NONE: RecurringMenu = RecurringMenu {
        days: &[],
        hours: &[],
        max_weeks: 0,
    };

    /// Whether the profile has recurring codes.
    pub const fn is_enabled(&self) -> bool {
        !self.days.is_empty() || !self.hours.is_empty() || self.max_weeks != 0
    }

    /// Whether the menu is well-formed: masks and ranges valid, distinct,
    /// at most [`MAX_MENU`] each, `1 <= max_weeks <= MAX_WEEKS`.
    pub(crate) const fn is_valid(&self) -> bool {
        let (d, h) = (self.days, self.hours);
        if d.is_empty() || h.is_empty() || d.len() > MAX_MENU || h.len() > MAX_MENU {
            return false;
        }
        if self.max_weeks == 0 || self.max_weeks > MAX_WEEKS {
            return false;
        }
        let mut i = 0;
        while i < d.len() {
            #[allow(clippy::indexing_slicing, reason = "i, j < d.len()")]
            {
                if !d[i].is_valid() {
                    return false;
                }
                let mut j = 0;
                while j < i {
                    if d[j].0 == d[i].0 {
                        return false;
                    }
                    j += 1;
                }
            }
            i += 1;
        }
        let mut i = 0;
        while i < h.len() {
            #[allow(clippy::indexing_slicing, reason = "i, j < h.len()")]
            {
                if !h[i].is_valid() {
                    return false;
                }
                let mut j = 0;
                while j < i {
                    if h[j].from == h[i].from && h[j].to == h[i].to {
                        return false;
                    }
                    j += 1;
                }
            }
            i += 1;
        }
        true
    }

    /// The position of `days` in the menu.
    pub fn days_index(&self, days: Weekdays) -> Option<u8> {
        self.days
            .iter()
            .position(|d| *d == days)
            .and_then(|i| u8::try_from(i).ok())
    }

    /// The position of `hours` in the menu.
    pub fn hours_index(&self, hours: Hours) -> Option<u8> {
        self.hours
            .iter()
            .position(|h| *h == hours)
            .and_then(|i| u8::try_from(i).ok())
    }

    /// The menu's mask nearest to `days`: the fewest days of difference,
    /// then the fewest days added, then the first listed.
    pub fn nearest_days(&self, days: Weekdays) -> Option<Weekdays> {
        self.days.iter().copied().min_by_key(|d| {
            let diff = (d.0 ^ days.0) & 0x7F;
            let added = (d.0 & !days.0) & 0x7F;
            (diff.count_ones(), added.count_ones())
        })
    }

    /// The menu's range nearest to `hours`: the fewest hours moved at the
    /// two ends, then the narrowest, then the first listed.
    pub fn nearest_hours(&self, hours: Hours) -> Option<Hours> {
        self.hours.iter().copied().min_by_key(|h| {
            let moved = h.from.abs_diff(hours.from) + h.to.abs_diff(hours.to);
            (moved, h.to - h.from)
        })
    }

    /// The masks of the menu that contain weekday `d` (`0` Monday).
    pub(crate) fn masks_with(&self, d: u8) -> u64 {
        self.days.iter().filter(|m| m.contains(d)).count() as u64
    }

    /// The ranges of the menu that contain time of day `r`, widened by
    /// `grace`.
    pub(crate) fn ranges_with(&self, r: i64, grace: i64) -> u64 {
        self.hours.iter().filter(|h| h.contains(r, grace)).count() as u64
    }

    /// The number of (first week, length) pairs whose weeks cover week
    /// `w`, first weeks in `0..starts` and lengths in `1..=max_weeks`:
    /// `Σ_{k} (N − k)` over the ages `k = w − s` in range.
    pub(crate) fn cover(&self, w: i128, starts: i128) -> i128 {
        let n = i128::from(self.max_weeks);
        let k_lo = (w - starts + 1).max(0);
        let k_hi = (n - 1).min(w);
        if k_hi < k_lo {
            return 0;
        }
        let count = k_hi - k_lo + 1;
        // Σ_{k = k_lo}^{k_hi} (n − k); count · (k_lo + k_hi) is even.
        count * n - count * (k_lo + k_hi) / 2
    }

    /// Recurring codes (per variance) acceptable at local time `q`
    /// seconds after the profile's local day 0 began (local clock
    /// seconds), with grace `g` and `starts` first weeks, the epoch's
    /// weekday being `epoch_weekday` (`0` Monday).
    pub(crate) fn acceptable(&self, q: i128, g: i64, starts: i128, epoch_weekday: i64) -> i128 {
        let day = q.div_euclid(86_400);
        let r = q.rem_euclid(86_400);
        let week = day.div_euclid(7);
        let weekday = (i128::from(epoch_weekday) + day).rem_euclid(7);
        let (Ok(weekday), Ok(r)) = (u8::try_from(weekday), i64::try_from(r)) else {
            return 0;
        };
        self.cover(week, starts)
            * i128::from(self.masks_with(weekday))
            * i128::from(self.ranges_with(r, g))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MENU: RecurringMenu = RecurringMenu {
        days: &[
            Weekdays::WEEKDAYS,
            Weekdays::WEEKENDS,
            Weekdays::MON_WED_FRI,
        ],
        hours: &[Hours::new(8, 12), Hours::new(10, 14), Hours::new(0, 24)],
        max_weeks: 4,
    };

    #[test]
    fn cover_counts_first_weeks_and_lengths() {
        // Brute force over first weeks 0..10 and lengths 1..=4.
        for w in -2..16 {
            let brute = (0..10i128)
                .flat_map(|s| (1..=4i128).map(move |n| (s, n)))
                .filter(|(s, n)| *s <= w && w < s + n)
                .count();
            assert_eq!(MENU.cover(w, 10), brute as i128, "week {w}");
        }
    }

    #[test]
    fn nearest_entries_of_the_menu() {
        assert_eq!(
            MENU.nearest_days(Weekdays(0b000_1111)),
            Some(Weekdays::WEEKDAYS),
            "Mon-Thu: Mon-Fri adds one day"
        );
        assert_eq!(
            MENU.nearest_days(Weekdays::day(5)),
            Some(Weekdays::WEEKENDS)
        );
        assert_eq!(
            MENU.nearest_hours(Hours::new(9, 13)),
            Some(Hours::new(8, 12))
        );
        assert_eq!(MENU.days_index(Weekdays::MON_WED_FRI), Some(2));
        assert_eq!(MENU.hours_index(Hours::new(9, 13)), None);
        assert!(MENU.is_valid());
        let twice = RecurringMenu {
            days: &[Weekdays::WEEKDAYS, Weekdays::WEEKDAYS],
            ..MENU
        };
        assert!(!twice.is_valid());
        assert_eq!(std::format!("{}", Weekdays::MON_WED_FRI), "Mon,Wed,Fri");
        assert_eq!(std::format!("{}", Hours::new(8, 12)), "08:00-12:00");
    }
}
