//! [`AccessCode::offline`]: an offline code's record at the time of
//! reading, from the stored facts ([`OfflineCode`]) and the device as it is
//! configured then ([`LockView`]). Each entry of the table in the
//! [module documentation](super) is one step of a [`Reading`], in the
//! order the record lists them.

use chrono::{DateTime, Utc};

use super::{
    AccessCode, Appearance, CANNOT_OPEN, ClockSetting, CodeError, CodeStatus, CodeType,
    CodeWarning, DAILY_WINDOW_OFF_LOCAL_MIDNIGHT, DELETED, DELETED_STILL_OPENS, DEVICE_REMOVED,
    Deadlines, GROUP_REKEYED, KEY_GENERATION_CHANGED, LEFT_GROUP, LockView,
    MUST_BE_USED_WITHIN_24_HOURS, OfflineCode, Recurrence, WEEKDAY_NAMES, WINDOW_ENDED,
    WINDOW_MOVED,
};
use crate::chrono_time::{from_unix, rfc3339_millis, unix_rfc3339 as fmt};
use crate::zone::{Clock, lock_rule};
use offpin::grant::Grant;
use offpin::time::{HOUR, UnixSeconds};
use offpin::tz::TzRule;

impl AccessCode {
    /// The record of an offline code at `now`: time-bound (hourly, daily),
    /// one-time, ongoing, recurring (`time_bound`, with its
    /// `offpin_recurrence`) or clock-setting (`time_bound` over the time
    /// the lock accepts it, with its `offpin_clock_setting`). `None` for a
    /// revocation code, which is not an access code.
    pub fn offline(
        code: &OfflineCode<'_>,
        lock: &LockView<'_>,
        now: DateTime<Utc>,
    ) -> Option<AccessCode> {
        let (code_type, one_time) = match code.grant {
            Grant::Hourly(_) | Grant::Daily(_) | Grant::Recurring(_) | Grant::ClockSet { .. } => {
                (CodeType::TimeBound, false)
            }
            Grant::OneTime { .. } => (CodeType::TimeBound, true),
            Grant::Ongoing { .. } => (CodeType::Ongoing, false),
            Grant::Revoke(_) => return None,
        };
        let mut r = Reading::new(code, lock, now, one_time);
        r.errors();
        let alive = r.errors.is_empty();
        if alive && !r.ended {
            group_warning(code.group, lock.group, &mut |c, m| r.warn(c, m));
            r.activation_warning();
        }
        if alive && r.ended && code.deleted_at.is_none() {
            r.ended_warning();
        }
        r.deletion_warning(alive);
        if alive && !r.ended {
            r.off_local_midnight_warning();
        }
        if alive {
            r.moved_warning();
        }
        Some(r.into_record(code_type))
    }
}

/// A record being computed: the facts, the deadlines at the time of
/// reading, and the status, errors and warnings found so far.
struct Reading<'a> {
    code: &'a OfflineCode<'a>,
    lock: &'a LockView<'a>,
    now: DateTime<Utc>,
    /// `now` in Unix seconds.
    t: UnixSeconds,
    /// The local time the lock keeps.
    rule: TzRule,
    deadlines: Deadlines,
    /// The window (plus grace) has ended.
    ended: bool,
    one_time: bool,
    status: CodeStatus,
    errors: Vec<CodeError>,
    warnings: Vec<CodeWarning>,
}

impl<'a> Reading<'a> {
    fn new(
        code: &'a OfflineCode<'a>,
        lock: &'a LockView<'a>,
        now: DateTime<Utc>,
        one_time: bool,
    ) -> Self {
        let t = now.timestamp();
        let rule = lock_rule(lock.profile, lock.utc_offset, lock.zone);
        let deadlines = Deadlines::of(&code.grant, lock.profile, rule);
        let ended = deadlines.ended(t);
        Reading {
            code,
            lock,
            now,
            t,
            rule,
            deadlines,
            ended,
            one_time,
            status: if ended {
                CodeStatus::Unset
            } else {
                CodeStatus::Set
            },
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn warn(&mut self, warning_code: &str, message: String) {
        self.warnings.push(CodeWarning {
            created_at: self.now,
            message,
            warning_code: warning_code.to_owned(),
        });
    }

    fn error(&mut self, status: CodeStatus, error_code: &str, message: String) {
        self.status = status;
        self.errors
            .push(CodeError::new(error_code, message, self.now));
    }

    /// "(plus the lock's 5-minute clock grace)".
    fn grace_note(&self) -> String {
        format!(
            "(plus the lock's {}-minute clock grace)",
            self.deadlines.grace / 60
        )
    }

    /// Why the lock never (or may no longer) opens for it: issued after
    /// its deadline, under an older key generation, or on a removed
    /// device.
    fn errors(&mut self) {
        let (code, lock, d) = (self.code, self.lock, self.deadlines);
        // Can it ever open? A code issued after its deadline cannot.
        let last_chance = d.first_use_by.or(d.window.map(|w| w.end));
        if last_chance.is_some_and(|last| code.created_at.timestamp() >= last) {
            self.error(
                CodeStatus::Unset,
                CANNOT_OPEN,
                format!(
                    "Issued at {}, after {} (the last instant it could be first used): the lock never opens for this PIN; it is kept as a record only.",
                    rfc3339_millis(&code.created_at),
                    last_chance.map_or_else(String::new, fmt)
                ),
            );
        }
        // A group code is under the group key, which a device re-key
        // does not change: its group's generation decides (a warning).
        if code.group.is_none() && code.generation != lock.generation {
            self.error(
                CodeStatus::Unset,
                KEY_GENERATION_CHANGED,
                format!(
                    "Issued under key generation {}; the device is now at generation {} (re-keyed): once the lock holds its new key, this PIN no longer opens.",
                    code.generation, lock.generation
                ),
            );
        }
        if let Some(removed) = lock.removed_at {
            self.error(
                CodeStatus::Unknown,
                DEVICE_REMOVED,
                format!(
                    "The device was removed from the ledger at {}; if the lock is still in service, it opens for this PIN as before.",
                    rfc3339_millis(&removed)
                ),
            );
        }
    }

    /// The activation deadline of a one-time code, or of a time-bound one
    /// longer than the activation window.
    fn activation_warning(&mut self) {
        let (Some(w), Some(by)) = (self.deadlines.window, self.deadlines.first_use_by) else {
            return;
        };
        let p = self.lock.profile;
        let message = if self.one_time {
            format!(
                "One-time code: it opens once, and only if used within {} hours of its start ({} to {}).",
                p.one_time_use_secs() / HOUR,
                fmt(w.start),
                fmt(w.end)
            )
        } else if self.t < by {
            format!(
                "The code must be used for the first time within {} hours of its start (by {}); if it is, it keeps opening until {}.",
                p.activation_secs() / HOUR,
                fmt(by),
                fmt(w.end)
            )
        } else {
            format!(
                "Its activation deadline {} has passed: the lock keeps opening for it until {} only if it was first used by then, which the server cannot know.",
                fmt(by),
                fmt(w.end)
            )
        };
        self.warn(MUST_BE_USED_WITHIN_24_HOURS, message);
    }

    /// A window (plus grace) that has ended.
    fn ended_warning(&mut self) {
        if let Some(w) = self.deadlines.window {
            let message = format!(
                "The window ended at {} {}: the lock no longer opens for this code.",
                fmt(w.end),
                self.grace_note()
            );
            self.warn(WINDOW_ENDED, message);
        }
    }

    /// A deleted code: whether the lock still opens for it, until when,
    /// and for an ongoing code how to stop it.
    fn deletion_warning(&mut self, alive: bool) {
        let Some(deleted) = self.code.deleted_at else {
            return;
        };
        let at = rfc3339_millis(&deleted);
        match (self.deadlines.window, self.ended || !alive) {
            (_, true) if self.ended => self.warn(
                DELETED,
                format!("Deleted at {at}; the lock no longer opens for it."),
            ),
            // The errors say why it cannot (or may still) open.
            (_, true) => self.warn(DELETED, format!("Deleted at {at}.")),
            (Some(w), false) => {
                self.status = CodeStatus::Removing;
                let message = format!(
                    "Deleted at {at}, but an offline code cannot be recalled: the lock keeps opening for it until {} {}.",
                    fmt(w.end),
                    self.grace_note()
                );
                self.warn(DELETED_STILL_OPENS, message);
            }
            (None, false) => {
                self.status = CodeStatus::Removing;
                let how = self.code.revocation_code.map_or_else(
                    || "this profile has no revocation codes, so only re-keying the device stops it".to_owned(),
                    |pin| format!("type its revocation PIN {pin} at the lock to stop it for good"),
                );
                self.warn(
                    DELETED_STILL_OPENS,
                    format!(
                        "Deleted at {at}; the lock keeps opening for it until the revocation is typed at the lock: {how}."
                    ),
                );
            }
        }
    }

    /// A daily window whose boundaries miss local midnight: daily windows
    /// start at the lock's fixed-offset midnight (a lock that keeps its
    /// zone's DST rule follows local midnight).
    fn off_local_midnight_warning(&mut self) {
        let lock = self.lock;
        let (Some(w), Some(zone)) = (self.deadlines.window, lock.zone) else {
            return;
        };
        if self.rule.has_dst() || !matches!(self.code.grant, Grant::Daily(_)) {
            return;
        }
        let clock = Clock {
            utc_offset: lock.utc_offset,
            zone: lock.zone,
        };
        let lock_offset = lock.utc_offset.minutes();
        let shifts: Vec<String> = [("starts", w.start), ("ends", w.end)]
            .iter()
            .filter_map(|(what, at)| {
                let diff = zone.offset_at(*at).minutes() - lock_offset;
                (diff != 0).then(|| {
                    format!(
                        "it {what} at {} local time, {} {} local midnight",
                        clock.local(*at),
                        human_minutes(diff.unsigned_abs()),
                        if diff > 0 { "after" } else { "before" }
                    )
                })
            })
            .collect();
        if !shifts.is_empty() {
            let message = format!(
                "The lock counts days from midnight at UTC{} (its fixed clock), but {} observes daylight saving time: {}.",
                lock.utc_offset,
                zone.name(),
                shifts.join("; ")
            );
            self.warn(DAILY_WINDOW_OFF_LOCAL_MIDNIGHT, message);
        }
    }

    /// A window the lock now honours at other instants than issued (the
    /// device's UTC offset changed).
    fn moved_warning(&mut self) {
        let (Some(issued), Some(now_w)) = (self.code.issued_window, self.deadlines.window) else {
            return;
        };
        if issued != now_w {
            self.warn(
                WINDOW_MOVED,
                format!(
                    "Issued for {} .. {}; the device's UTC offset changed since, so the lock now honours {} .. {}.",
                    fmt(issued.start),
                    fmt(issued.end),
                    fmt(now_w.start),
                    fmt(now_w.end)
                ),
            );
        }
    }

    /// The record.
    fn into_record(self, code_type: CodeType) -> AccessCode {
        let (code, window) = (self.code, self.deadlines.window);
        AccessCode {
            access_code_id: code.access_code_id.to_owned(),
            appearance: code.name.map(|n| Appearance {
                first_name: None,
                last_name: None,
                name: n.to_owned(),
            }),
            code: code.code.to_owned(),
            common_code_key: code.common_code_key.map(str::to_owned),
            created_at: code.created_at,
            device_id: code.device_id.to_owned(),
            ends_at: window.and_then(|w| from_unix(w.end)),
            errors: self.errors,
            is_backup: false,
            is_backup_access_code_available: false,
            is_external_modification_allowed: false,
            is_managed: true,
            is_offline_access_code: true,
            is_one_time_use: self.one_time,
            is_scheduled_on_device: true,
            is_waiting_for_code_assignment: false,
            name: code.name.map(str::to_owned),
            offpin_clock_setting: match code.grant {
                Grant::ClockSet { at } => from_unix(self.lock.profile.clock_instant(at))
                    .map(|sets_clock_to| ClockSetting { sets_clock_to }),
                _ => None,
            },
            offpin_recurrence: recurrence_of(&code.grant, self.lock.profile),
            pulled_backup_access_code_id: None,
            revocation_code: code.deleted_at.and(code.revocation_code).map(str::to_owned),
            starts_at: window.and_then(|w| from_unix(w.start)),
            status: self.status,
            code_type,
            user_identifier_key: code.user_identifier_key.map(str::to_owned),
            warnings: self.warnings,
        }
    }
}

/// The warning of a group code whose device left its group, or whose group
/// was re-keyed, since it was issued.
fn group_warning(
    code: Option<(&str, u32)>,
    lock: Option<(&str, u32)>,
    warn: &mut impl FnMut(&str, String),
) {
    let Some((group, generation)) = code else {
        return;
    };
    match lock {
        Some((now, g)) if now == group && g == generation => {}
        Some((now, g)) if now == group => warn(
            GROUP_REKEYED,
            format!(
                "Issued under group '{group}' key generation {generation}; the group is now at generation {g} (a member left): once this lock is given the new group key, this PIN no longer opens it."
            ),
        ),
        _ => warn(
            LEFT_GROUP,
            format!(
                "The device left group '{group}' after this code was issued: the lock still holds that group's key and opens for this PIN until it is re-provisioned without it; group codes issued since do not open it."
            ),
        ),
    }
}

/// The schedule of a recurring grant, from the profile's menu.
fn recurrence_of(grant: &Grant, profile: &offpin::Profile) -> Option<Recurrence> {
    let Grant::Recurring(r) = grant else {
        return None;
    };
    let menu = profile.params().recurring;
    let days = *menu.days.get(usize::from(r.days))?;
    let hours = *menu.hours.get(usize::from(r.hours))?;
    Some(Recurrence {
        weekdays: (0u8..)
            .zip(WEEKDAY_NAMES)
            .filter(|(d, _)| days.contains(*d))
            .map(|(_, name)| name.to_owned())
            .collect(),
        starts_at_time: format!("{:02}:00", hours.from),
        ends_at_time: format!("{:02}:00", hours.to),
        weeks: r.weeks,
    })
}

/// `90` → `1 h 30 min`, `60` → `1 h`, `30` → `30 min`.
fn human_minutes(m: u32) -> String {
    match (m / 60, m % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}
