//! What the ledger stores: the numbers allocated together
//! ([`AllocationScope`], the rule [`lowest_free`]), one issued code as
//! facts ([`StoredCode`], whose record is computed at read time), and the
//! storage's side of an allocation ([`Allocation`], [`Slot`],
//! [`Allocated`]; see [`Ledger::allocate`](super::Ledger::allocate)).

use core::fmt;

use chrono::{DateTime, Utc};

use super::{DeviceEntry, GroupRef, LedgerError, StorageError};
use crate::record::{AccessCode, LockView, OfflineCode};
use crate::zone::Zone;
use offpin::grant::{Grant, Recurrence, Span};
use offpin::profile::{Kind, Profile};
use offpin::time::Window;

/// The numbers (variances, or ongoing slots) allocated together: one
/// encoded window of one key generation of one device.
///
/// A weekly recurring code's scope is its first week (`start`), its
/// length in weeks (`length`) and its menu positions (`schedule`); a
/// clock-setting code's, its instant in clock units (`start`), with one
/// number (its one PIN).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AllocationScope {
    /// The grant kind (hourly, daily, one-time, ongoing, recurring or
    /// clock-setting).
    pub kind: Kind,
    /// First hour, day or week of the window, or a clock code's instant
    /// in clock units (`0` for ongoing codes).
    pub start: u32,
    /// Length in hours, days or weeks (`0` for one-time, ongoing and
    /// clock-setting codes).
    pub length: u32,
    /// Supersede lineage (`0`: none).
    pub lineage: u8,
    /// A recurring code's weekday mask and hour range, as positions in
    /// the profile's menu: `days · 256 + hours` (`0` for other kinds).
    pub schedule: u16,
    /// The device's key generation.
    pub generation: u32,
}

impl AllocationScope {
    /// The scope of a grant issued under `generation`, and the number
    /// (variance or slot) it uses. `None` for revocation codes, which the
    /// ledger does not issue.
    pub fn of(grant: &Grant, generation: u32) -> Option<(AllocationScope, u32)> {
        let scope = |kind, start, length, lineage| AllocationScope {
            kind,
            start,
            length,
            lineage,
            schedule: 0,
            generation,
        };
        let span = |kind, s: &Span| {
            (
                scope(kind, s.start, s.length, s.lineage),
                u32::from(s.variance),
            )
        };
        match grant {
            Grant::Hourly(s) => Some(span(Kind::Hourly, s)),
            Grant::Daily(s) => Some(span(Kind::Daily, s)),
            Grant::OneTime {
                start_hour,
                variance,
            } => Some((
                scope(Kind::OneTime, *start_hour, 0, 0),
                u32::from(*variance),
            )),
            Grant::Ongoing { slot } => Some((scope(Kind::Ongoing, 0, 0, 0), *slot)),
            Grant::Recurring(r) => Some((
                AllocationScope {
                    schedule: (u16::from(r.days) << 8) | u16::from(r.hours),
                    ..scope(Kind::Recurring, r.start_week, u32::from(r.weeks), 0)
                },
                u32::from(r.variance),
            )),
            // One PIN per instant: number 0.
            Grant::ClockSet { at } => Some((scope(Kind::ClockSet, *at, 0, 0), 0)),
            // Not issued through the ledger: revocations (a deletion
            // computes an ongoing code's).
            Grant::Revoke(_) => None,
        }
    }

    /// The value of the storage's `lineage` column: a time-bound code's
    /// lineage, a recurring code's [`schedule`](AllocationScope::schedule)
    /// (a recurring code has no lineage, so the column holds its menu
    /// positions and the allocation's unique key covers them).
    pub fn lineage_column(&self) -> i32 {
        if self.kind == Kind::Recurring {
            i32::from(self.schedule)
        } else {
            i32::from(self.lineage)
        }
    }

    /// The scope stored in the columns `kind`, `start`, `length`,
    /// `lineage` ([`AllocationScope::lineage_column`]) and `generation`;
    /// `None` when a value is out of its range.
    pub fn from_columns(
        kind: Kind,
        start: u32,
        length: u32,
        lineage: i32,
        generation: u32,
    ) -> Option<AllocationScope> {
        let (lineage, schedule) = if kind == Kind::Recurring {
            (0, u16::try_from(lineage).ok()?)
        } else {
            (u8::try_from(lineage).ok()?, 0)
        };
        Some(AllocationScope {
            kind,
            start,
            length,
            lineage,
            schedule,
            generation,
        })
    }

    /// The grant of number `n` in this scope (the inverse of
    /// [`AllocationScope::of`]); `None` when `n` does not fit.
    pub fn grant(&self, n: u32) -> Option<Grant> {
        let variance = u8::try_from(n).ok();
        let span = |variance| Span {
            start: self.start,
            length: self.length,
            variance,
            lineage: self.lineage,
        };
        match self.kind {
            Kind::Hourly => variance.map(|v| Grant::Hourly(span(v))),
            Kind::Daily => variance.map(|v| Grant::Daily(span(v))),
            Kind::OneTime => variance.map(|variance| Grant::OneTime {
                start_hour: self.start,
                variance,
            }),
            Kind::Ongoing => Some(Grant::Ongoing { slot: n }),
            Kind::Recurring => Some(Grant::Recurring(Recurrence {
                start_week: self.start,
                weeks: u16::try_from(self.length).ok()?,
                days: u8::try_from(self.schedule >> 8).ok()?,
                hours: u8::try_from(self.schedule & 0xff).ok()?,
                variance: variance?,
            })),
            Kind::ClockSet => (n == 0).then_some(Grant::ClockSet { at: self.start }),
            Kind::RevokeSlot | Kind::RevokeBefore => None,
        }
    }
}

/// The lowest number in `0..limit` not in `used`: the allocation rule the
/// backends share.
///
/// # Examples
///
/// ```
/// use offpin_ledger::ledger::lowest_free;
/// assert_eq!(lowest_free([0, 2], 3), Some(1));
/// assert_eq!(lowest_free([1, 0, 2], 3), None);
/// ```
pub fn lowest_free(used: impl IntoIterator<Item = u32>, limit: u32) -> Option<u32> {
    let mut taken: Vec<u32> = used.into_iter().filter(|n| *n < limit).collect();
    taken.sort_unstable();
    taken.dedup();
    let mut next = 0u32;
    for n in taken {
        if n != next {
            break;
        }
        next = next.saturating_add(1);
    }
    (next < limit).then_some(next)
}

/// One issued code as the ledger stores it: facts, not the record (which
/// [`StoredCode::record`] computes at read time). `Debug` redacts the PINs.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredCode {
    /// The code's UUID.
    pub access_code_id: String,
    /// The device.
    pub device_id: String,
    /// The allocated scope.
    pub scope: AllocationScope,
    /// The allocated variance (or ongoing slot).
    pub number: u32,
    /// The PIN.
    pub code: String,
    /// The window the PIN encoded at issue (the device's offset then).
    pub issued_window: Option<Window>,
    /// Name shown in the record.
    pub name: Option<String>,
    /// The operator's user id.
    pub user_identifier_key: Option<String>,
    /// Group key.
    pub common_code_key: Option<String>,
    /// The request's idempotency key.
    pub idempotency_key: Option<String>,
    /// Issue time (whole milliseconds).
    pub created_at: DateTime<Utc>,
    /// When it was deleted.
    pub deleted_at: Option<DateTime<Utc>>,
    /// For a deleted ongoing code: the PIN that revokes its slot.
    pub revocation_code: Option<String>,
    /// For a group code: the group key (group and generation) its PIN is
    /// derived with; `None` for the device's own key.
    pub group: Option<GroupRef>,
}

impl fmt::Debug for StoredCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredCode")
            .field("access_code_id", &self.access_code_id)
            .field("device_id", &self.device_id)
            .field("scope", &self.scope)
            .field("number", &self.number)
            .field("code", &"..")
            .field("issued_window", &self.issued_window)
            .field("name", &self.name)
            .field("user_identifier_key", &self.user_identifier_key)
            .field("idempotency_key", &self.idempotency_key)
            .field("created_at", &self.created_at)
            .field("deleted_at", &self.deleted_at)
            .field(
                "revocation_code",
                &self.revocation_code.as_ref().map(|_| ".."),
            )
            .field("group", &self.group)
            .finish_non_exhaustive()
    }
}

impl StoredCode {
    /// The grant the PIN encodes.
    pub fn grant(&self) -> Option<Grant> {
        self.scope.grant(self.number)
    }

    /// The record of this code at `now` on `device`, a member of `group`
    /// now (its group and the group's key generation; `None`: in no
    /// group).
    ///
    /// # Errors
    ///
    /// [`LedgerError::UnknownProfile`], [`LedgerError::Zone`] or
    /// [`LedgerError::Storage`] for a stored code that names no grant.
    pub fn record(
        &self,
        device: &DeviceEntry,
        group: Option<&GroupRef>,
        now: DateTime<Utc>,
    ) -> Result<AccessCode, LedgerError> {
        let profile = device.device.profile()?;
        let zone = device.device.zone()?;
        self.record_with(device, &profile, zone.as_ref(), group, now)
    }

    pub(super) fn record_with(
        &self,
        device: &DeviceEntry,
        profile: &Profile,
        zone: Option<&Zone>,
        group: Option<&GroupRef>,
        now: DateTime<Utc>,
    ) -> Result<AccessCode, LedgerError> {
        let corrupted = || {
            LedgerError::Storage(StorageError::without_source(format!(
                "code '{}' names no access-code grant",
                self.access_code_id
            )))
        };
        let grant = self.grant().ok_or_else(corrupted)?;
        let parts = OfflineCode {
            access_code_id: &self.access_code_id,
            device_id: &self.device_id,
            code: &self.code,
            grant,
            generation: self.scope.generation,
            issued_window: self.issued_window,
            name: self.name.as_deref(),
            user_identifier_key: self.user_identifier_key.as_deref(),
            common_code_key: self.common_code_key.as_deref(),
            created_at: self.created_at,
            deleted_at: self.deleted_at,
            revocation_code: self.revocation_code.as_deref(),
            group: self
                .group
                .as_ref()
                .map(|g| (g.group_id.as_str(), g.generation)),
        };
        let lock = LockView {
            profile,
            utc_offset: device.device.utc_offset,
            zone,
            generation: device.device.generation,
            removed_at: device.removed_at,
            group: group.map(|g| (g.group_id.as_str(), g.generation)),
        };
        AccessCode::offline(&parts, &lock, now).ok_or_else(corrupted)
    }
}

/// One allocation of a batch ([`Ledger::allocate`](super::Ledger::allocate)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Allocation<'a> {
    /// The device.
    pub device_id: &'a str,
    /// The scope to allocate in.
    pub scope: AllocationScope,
    /// Numbers `0..limit` exist.
    pub limit: u32,
    /// The request's idempotency key.
    pub idempotency_key: Option<&'a str>,
    /// A group code's allocation: every joint allocation of a batch takes
    /// one number, the lowest free in each of their scopes (a variance
    /// free on every member of the group). A batch has at most one joint
    /// set, without idempotency keys.
    pub joint: bool,
}

/// What the storage found for one allocation, handed to the caller's
/// `decide` ([`Ledger::allocate`](super::Ledger::allocate)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Slot {
    /// The lowest number no code of the scope ever used.
    Free(u32),
    /// The code already stored under the allocation's idempotency key.
    Existing(Box<StoredCode>),
    /// Every number of the scope is taken.
    Exhausted,
}

/// One stored result of [`Ledger::allocate`](super::Ledger::allocate).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allocated {
    /// The code.
    pub code: StoredCode,
    /// `false` when it was found by its idempotency key.
    pub created: bool,
}
