//! The 21-byte form of a rule (`docs/FORMAT.md` §9.2).

use super::{
    Dst, OFFSET_MAX, RuleDate, TIME_MAX, TZ_RULE_LEN, Transition, TzError, TzRule, shift_in_range,
};

impl TzRule {
    /// The rule's 21-byte encoding (`docs/FORMAT.md` §9.2): `i16` standard
    /// and DST offsets in minutes east, a DST flag, and the start and end
    /// transitions (form, three bytes of date, `i32` seconds).
    #[allow(
        clippy::cast_possible_truncation,
        reason = "offsets are whole minutes within ±14 h: at most 840 minutes"
    )]
    pub const fn to_bytes(&self) -> [u8; TZ_RULE_LEN] {
        let mut out = [0u8; TZ_RULE_LEN];
        let std = (self.std / 60) as i16;
        let (flag, dst_minutes, start, end) = match self.dst {
            Some(d) => (1u8, (d.offset / 60) as i16, Some(d.start), Some(d.end)),
            None => (0u8, std, None, None),
        };
        let s = std.to_be_bytes();
        let d = dst_minutes.to_be_bytes();
        out[0] = s[0];
        out[1] = s[1];
        out[2] = d[0];
        out[3] = d[1];
        out[4] = flag;
        if let Some(t) = start {
            put_transition(&mut out, 5, t);
        }
        if let Some(t) = end {
            put_transition(&mut out, 13, t);
        }
        out
    }

    /// Reads [`to_bytes`](Self::to_bytes)' encoding back.
    ///
    /// # Errors
    ///
    /// [`TzError::Encoding`] for a field out of range (offsets beyond
    /// ±14 h, an unknown flag or date form, a date or time out of range,
    /// non-zero bytes where none belong);
    /// [`TzError::DstShiftOutOfRange`] for DST more than 2 hours from
    /// standard time.
    #[allow(
        clippy::indexing_slicing,
        reason = "i < TZ_RULE_LEN, the array's length"
    )]
    pub const fn from_bytes(b: &[u8; TZ_RULE_LEN]) -> Result<TzRule, TzError> {
        let std = i16::from_be_bytes([b[0], b[1]]) as i32 * 60;
        let dst_offset = i16::from_be_bytes([b[2], b[3]]) as i32 * 60;
        if std > OFFSET_MAX || std < -OFFSET_MAX {
            return Err(TzError::Encoding { offset: 0 });
        }
        if dst_offset > OFFSET_MAX || dst_offset < -OFFSET_MAX {
            return Err(TzError::Encoding { offset: 2 });
        }
        match b[4] {
            0 => {
                if dst_offset != std {
                    return Err(TzError::Encoding { offset: 2 });
                }
                let mut i = 5;
                while i < TZ_RULE_LEN {
                    if b[i] != 0 {
                        return Err(TzError::Encoding { offset: i });
                    }
                    i += 1;
                }
                Ok(TzRule { std, dst: None })
            }
            1 if cfg!(not(feature = "format-v2")) => Err(TzError::DstNotBuilt),
            1 => {
                let start = match get_transition(b, 5) {
                    Ok(t) => t,
                    Err(e) => return Err(e),
                };
                let end = match get_transition(b, 13) {
                    Ok(t) => t,
                    Err(e) => return Err(e),
                };
                if !shift_in_range(std, dst_offset) {
                    return Err(TzError::DstShiftOutOfRange);
                }
                Ok(TzRule {
                    std,
                    dst: Some(Dst {
                        offset: dst_offset,
                        start,
                        end,
                    }),
                })
            }
            _ => Err(TzError::Encoding { offset: 4 }),
        }
    }
}

#[allow(
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    reason = "at + 8 <= TZ_RULE_LEN for the two call sites; days are at most 365"
)]
const fn put_transition(out: &mut [u8; TZ_RULE_LEN], at: usize, t: Transition) {
    let (form, a, b, c) = match t.date {
        RuleDate::Zero(n) => (0u8, (n >> 8) as u8, n as u8, 0u8),
        RuleDate::Julian(n) => (1u8, (n >> 8) as u8, n as u8, 0u8),
        RuleDate::MonthWeek {
            month,
            week,
            weekday,
        } => (2u8, month, week, weekday),
    };
    out[at] = form;
    out[at + 1] = a;
    out[at + 2] = b;
    out[at + 3] = c;
    let time = t.time.to_be_bytes();
    out[at + 4] = time[0];
    out[at + 5] = time[1];
    out[at + 6] = time[2];
    out[at + 7] = time[3];
}

#[allow(
    clippy::indexing_slicing,
    reason = "at + 8 <= TZ_RULE_LEN for the two call sites"
)]
const fn get_transition(b: &[u8; TZ_RULE_LEN], at: usize) -> Result<Transition, TzError> {
    let day = u16::from_be_bytes([b[at + 1], b[at + 2]]);
    let date = match b[at] {
        0 if day <= 365 && b[at + 3] == 0 => RuleDate::Zero(day),
        1 if day >= 1 && day <= 365 && b[at + 3] == 0 => RuleDate::Julian(day),
        2 if b[at + 1] >= 1
            && b[at + 1] <= 12
            && b[at + 2] >= 1
            && b[at + 2] <= 5
            && b[at + 3] <= 6 =>
        {
            RuleDate::MonthWeek {
                month: b[at + 1],
                week: b[at + 2],
                weekday: b[at + 3],
            }
        }
        _ => return Err(TzError::Encoding { offset: at }),
    };
    let time = i32::from_be_bytes([b[at + 4], b[at + 5], b[at + 6], b[at + 7]]);
    if time > TIME_MAX || time < -TIME_MAX {
        return Err(TzError::Encoding { offset: at + 4 });
    }
    Ok(Transition { date, time })
}
