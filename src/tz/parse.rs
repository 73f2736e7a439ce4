//! The text form of a rule: [`TzRule::parse`] reads a POSIX TZ string,
//! [`Display`](fmt::Display) writes one that parses back to the same rule.

use core::fmt;

use super::{DEFAULT_TIME, Dst, OFFSET_MAX, RuleDate, Transition, TzError, TzRule, shift_in_range};

impl TzRule {
    /// Parses a POSIX TZ string (`std offset [dst [offset] ,start[/time],end[/time]]`,
    /// with the IANA extensions: `<+03>`-quoted names, transition times
    /// from −167 to 167 hours). Names are checked and dropped.
    ///
    /// # Errors
    ///
    /// A [`TzError`] naming the first problem. Offsets must be whole
    /// minutes within ±14 hours, the DST offset within 2 hours of the
    /// standard one ([`TzError::DstShiftOutOfRange`]); a DST zone needs
    /// its rule.
    pub const fn parse(text: &[u8]) -> Result<TzRule, TzError> {
        if text.is_empty() {
            return Err(TzError::Empty);
        }
        let mut p = Parser { text, at: 0 };
        if let Err(e) = p.abbreviation() {
            return Err(e);
        }
        let std = match p.offset() {
            Ok(o) => o,
            Err(e) => return Err(e),
        };
        if p.done() {
            return Ok(TzRule { std, dst: None });
        }
        if let Err(e) = p.abbreviation() {
            return Err(e);
        }
        if p.done() {
            return Err(TzError::MissingRule);
        }
        let offset = if p.peek() == b',' {
            if std + 3_600 > OFFSET_MAX {
                return Err(TzError::OffsetOutOfRange);
            }
            std + 3_600
        } else {
            match p.offset() {
                Ok(o) => o,
                Err(e) => return Err(e),
            }
        };
        if p.done() {
            return Err(TzError::MissingRule);
        }
        if cfg!(not(feature = "format-v2")) {
            return Err(TzError::DstNotBuilt);
        }
        if !shift_in_range(std, offset) {
            return Err(TzError::DstShiftOutOfRange);
        }
        if !p.eat(b',') {
            return Err(TzError::Trailing { position: p.at });
        }
        let start = match p.transition() {
            Ok(t) => t,
            Err(e) => return Err(e),
        };
        if !p.eat(b',') {
            return Err(TzError::Date { position: p.at });
        }
        let end = match p.transition() {
            Ok(t) => t,
            Err(e) => return Err(e),
        };
        if !p.done() {
            return Err(TzError::Trailing { position: p.at });
        }
        Ok(TzRule {
            std,
            dst: Some(Dst { offset, start, end }),
        })
    }
}

/// A `const` cursor over the rule's text.
struct Parser<'a> {
    text: &'a [u8],
    at: usize,
}

#[allow(
    clippy::indexing_slicing,
    reason = "every index is checked against text.len() first"
)]
impl Parser<'_> {
    const fn done(&self) -> bool {
        self.at >= self.text.len()
    }

    /// The next byte, or `0` at the end.
    const fn peek(&self) -> u8 {
        if self.at < self.text.len() {
            self.text[self.at]
        } else {
            0
        }
    }

    const fn eat(&mut self, b: u8) -> bool {
        if self.peek() == b && !self.done() {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// A zone abbreviation: 3-30 letters, or `<` 3-30 of letters, digits,
    /// `+`, `-` `>`.
    const fn abbreviation(&mut self) -> Result<(), TzError> {
        let position = self.at;
        let quoted = self.eat(b'<');
        let start = self.at;
        while !self.done() {
            let b = self.peek();
            let ok = if quoted {
                b.is_ascii_alphanumeric() || b == b'+' || b == b'-'
            } else {
                b.is_ascii_alphabetic()
            };
            if !ok {
                break;
            }
            self.at += 1;
        }
        let len = self.at - start;
        if len < 3 || len > 30 || (quoted && !self.eat(b'>')) {
            return Err(TzError::Abbreviation { position });
        }
        Ok(())
    }

    /// Up to `max_digits` decimal digits (at least one), as a number.
    const fn number(&mut self, max_digits: usize) -> Option<i32> {
        let start = self.at;
        let mut n: i32 = 0;
        while !self.done() && self.at - start < max_digits && self.peek().is_ascii_digit() {
            n = n * 10 + (self.peek() - b'0') as i32;
            self.at += 1;
        }
        if self.at == start { None } else { Some(n) }
    }

    /// Exactly two decimal digits below 60.
    const fn sexagesimal(&mut self) -> Option<i32> {
        let start = self.at;
        match self.number(2) {
            Some(n) if self.at - start == 2 && n < 60 => Some(n),
            _ => None,
        }
    }

    /// `[+-]hh[:mm[:ss]]` with `hh <= max_hours`, in seconds.
    const fn hms(&mut self, max_hours: i32) -> Result<i32, TzError> {
        let position = self.at;
        let negative = if self.eat(b'-') {
            true
        } else {
            self.eat(b'+');
            false
        };
        let digits = if max_hours > 99 { 3 } else { 2 };
        let hours = match self.number(digits) {
            Some(h) if h <= max_hours => h,
            _ => return Err(TzError::Time { position }),
        };
        let mut secs = hours * 3_600;
        if self.eat(b':') {
            match self.sexagesimal() {
                Some(m) => secs += m * 60,
                None => return Err(TzError::Time { position }),
            }
            if self.eat(b':') {
                match self.sexagesimal() {
                    Some(s) => secs += s,
                    None => return Err(TzError::Time { position }),
                }
            }
        }
        Ok(if negative { -secs } else { secs })
    }

    /// A POSIX offset (hours west: `-1` is UTC+1), as seconds east.
    const fn offset(&mut self) -> Result<i32, TzError> {
        let west = match self.hms(24) {
            Ok(s) => s,
            Err(e) => return Err(e),
        };
        let east = -west;
        if east % 60 != 0 || east > OFFSET_MAX || east < -OFFSET_MAX {
            return Err(TzError::OffsetOutOfRange);
        }
        Ok(east)
    }

    /// `date[/time]`.
    #[allow(
        clippy::cast_possible_truncation,
        reason = "each number is range-checked (day <= 365, month <= 12, week <= 5, weekday <= 6) first"
    )]
    const fn transition(&mut self) -> Result<Transition, TzError> {
        let position = self.at;
        let date = if self.eat(b'J') {
            match self.number(3) {
                Some(n) if n >= 1 && n <= 365 => RuleDate::Julian(n as u16),
                _ => return Err(TzError::Date { position }),
            }
        } else if self.eat(b'M') {
            let month = self.number(2);
            let dot1 = self.eat(b'.');
            let week = self.number(1);
            let dot2 = self.eat(b'.');
            let weekday = self.number(1);
            match (month, dot1, week, dot2, weekday) {
                (Some(m), true, Some(w), true, Some(d))
                    if m >= 1 && m <= 12 && w >= 1 && w <= 5 && d <= 6 =>
                {
                    RuleDate::MonthWeek {
                        month: m as u8,
                        week: w as u8,
                        weekday: d as u8,
                    }
                }
                _ => return Err(TzError::Date { position }),
            }
        } else {
            match self.number(3) {
                Some(n) if n <= 365 => RuleDate::Zero(n as u16),
                _ => return Err(TzError::Date { position }),
            }
        };
        let time = if self.eat(b'/') {
            match self.hms(167) {
                Ok(t) => t,
                Err(e) => return Err(e),
            }
        } else {
            DEFAULT_TIME
        };
        Ok(Transition { date, time })
    }
}

impl fmt::Display for TzRule {
    /// The rule as a POSIX TZ string with numeric names
    /// (`<+01>-1<+02>,M3.5.0,M10.5.0/3`); it parses back to the same rule.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = |f: &mut fmt::Formatter<'_>, east: i32| {
            let sign = if east < 0 { '-' } else { '+' };
            let m = east.unsigned_abs() / 60;
            if m.is_multiple_of(60) {
                write!(f, "<{sign}{:02}>", m / 60)
            } else {
                write!(f, "<{sign}{:02}{:02}>", m / 60, m % 60)
            }
        };
        let hms = |f: &mut fmt::Formatter<'_>, secs: i32| {
            if secs < 0 {
                f.write_str("-")?;
            }
            let s = secs.unsigned_abs();
            write!(f, "{}", s / 3_600)?;
            if !s.is_multiple_of(3_600) {
                write!(f, ":{:02}", s % 3_600 / 60)?;
                if !s.is_multiple_of(60) {
                    write!(f, ":{:02}", s % 60)?;
                }
            }
            Ok(())
        };
        let transition = |f: &mut fmt::Formatter<'_>, t: Transition| {
            match t.date {
                RuleDate::Julian(n) => write!(f, "J{n}")?,
                RuleDate::Zero(n) => write!(f, "{n}")?,
                RuleDate::MonthWeek {
                    month,
                    week,
                    weekday,
                } => write!(f, "M{month}.{week}.{weekday}")?,
            }
            if t.time != DEFAULT_TIME {
                f.write_str("/")?;
                hms(f, t.time)?;
            }
            Ok(())
        };
        name(f, self.std)?;
        hms(f, -self.std)?;
        if let Some(d) = self.dst {
            name(f, d.offset)?;
            if d.offset != self.std + 3_600 {
                hms(f, -d.offset)?;
            }
            f.write_str(",")?;
            transition(f, d.start)?;
            f.write_str(",")?;
            transition(f, d.end)?;
        }
        Ok(())
    }
}
