//! The ledger of issued codes: which PINs a server handed out, for which
//! device and window, so it can allocate variances and ongoing slots,
//! answer `list` / `get`, and take codes back.
//!
//! [`Ledger`] is a small storage trait (devices, an atomic
//! allocate-and-insert, lookups, a tombstone on delete) with the issuing
//! logic as provided methods, so a server can put its ledger in its own
//! database by implementing eight methods. Three implementations ship:
//! [`memory::MemoryLedger`]; with feature `sqlite`,
//! [`sqlite::SqliteLedger`] (an embedded file that survives restarts and
//! concurrent writers); with feature `postgres`, `postgres::PostgresLedger`
//! (one database shared by a fleet of servers). Each also keeps the API
//! keys of `offpin serve` ([`api_keys::ApiKeyStore`]); [`hosted`] holds
//! the hosted access-code API's rules.
//!
//! # Allocation
//!
//! A time-bound or one-time request is planned first ([`Profile::plan`]);
//! the encoded window (kind, start, length, lineage) is its
//! [`AllocationKey`]. The code gets the lowest variance `0..V` that no
//! *live* (not deleted) code of the same device and key uses, so two
//! requests for the same window get different PINs; when all `V` are in use
//! the request fails with [`LedgerError::NoVarianceAvailable`] (the
//! `igloohome_offline_access_code_no_variance_available` error).
//!
//! Ongoing codes take the lowest free slot `0..ongoing_slots`. Deleting an
//! ongoing code yields the revocation PIN of its slot (type it at the lock)
//! and retires the slot forever: the lock refuses a revoked slot for good,
//! so it is never allocated again on that device.
//!
//! Deleting a time-bound code frees its variance but cannot make the lock
//! forget it: an offline code keeps opening until its window ends.
//!
//! # Examples
//!
//! ```
//! use chrono::{DateTime, Utc};
//! use offpin::MasterKey;
//! use offpin::server::ledger::{CodeSpec, Device, Ledger, ListFilter, memory::MemoryLedger};
//!
//! let master = MasterKey::from_bytes([7; 32]);
//! let mut ledger = MemoryLedger::new();
//! ledger.add_device(&Device::new("front-door", "standard-10"))?;
//! let start: DateTime<Utc> = "2025-01-01T16:00:00Z".parse()?;
//! let end: DateTime<Utc> = "2025-01-03T10:00:00Z".parse()?;
//! let spec = CodeSpec::time_bound("front-door", start, end);
//! let a = ledger.issue(&master, &spec, Utc::now())?;
//! let b = ledger.issue(&master, &spec, Utc::now())?;
//! assert_ne!(a.code, b.code); // variances 0 and 1
//! let listed = ledger.list(&ListFilter::device("front-door"))?;
//! assert_eq!(listed.len(), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// The crate is `no_std`; this module is std-only.
use std::prelude::rust_2024::*;

pub mod api_keys;
pub mod hosted;
pub mod memory;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;

use core::fmt;

use chrono::{DateTime, Utc};

use crate::codec::Codec;
use crate::grant::{Grant, RevokeTarget, Span};
use crate::issue::{IssueError, Request};
use crate::keys::{KeyError, MasterKey};
use crate::profile::{Kind, Profile, shipped};
use crate::server::chrono_time::{to_unix, truncate_millis};
use crate::server::record::{AccessCode, OfflineCode};
use crate::time::{OffsetError, UtcOffset};

/// A lock the ledger issues codes for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Device {
    /// The device identifier (1 to 255 bytes; the key derivation input).
    pub device_id: String,
    /// Name of a shipped profile ([`shipped::by_name`]).
    pub profile: String,
    /// The lock's configured UTC offset (daily windows follow it).
    pub utc_offset: UtcOffset,
    /// Key generation (bump to re-key the lock).
    pub generation: u32,
}

impl Device {
    /// A device in UTC, key generation 0.
    pub fn new(device_id: &str, profile: &str) -> Self {
        Device {
            device_id: device_id.to_owned(),
            profile: profile.to_owned(),
            utc_offset: UtcOffset::UTC,
            generation: 0,
        }
    }

    /// Sets the UTC offset.
    pub fn with_utc_offset(mut self, offset: UtcOffset) -> Self {
        self.utc_offset = offset;
        self
    }

    /// Sets the key generation.
    pub fn with_generation(mut self, generation: u32) -> Self {
        self.generation = generation;
        self
    }

    /// The device's profile.
    ///
    /// # Errors
    ///
    /// [`LedgerError::UnknownProfile`] when the name is not a shipped one.
    pub fn profile(&self) -> Result<Profile, LedgerError> {
        shipped::by_name(&self.profile).ok_or_else(|| LedgerError::UnknownProfile {
            name: self.profile.clone(),
        })
    }

    /// The device's codec: its key derived from `master`, bound to its
    /// profile.
    ///
    /// # Errors
    ///
    /// [`LedgerError::UnknownProfile`] or [`LedgerError::Key`].
    pub fn codec(&self, master: &MasterKey) -> Result<Codec, LedgerError> {
        let profile = self.profile()?;
        let key = master.derive_device_key(self.device_id.as_bytes(), self.generation)?;
        Codec::new(&key, profile).map_err(|e| LedgerError::Issue(IssueError::Cipher(e)))
    }
}

/// What kind of code to issue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CodeWant {
    /// Valid in `[starts_at, ends_at)` (rounded outward to the profile's
    /// units within the allowed rounding).
    TimeBound {
        /// Requested start.
        starts_at: DateTime<Utc>,
        /// Requested end.
        ends_at: DateTime<Utc>,
    },
    /// Opens once, first use within the profile's use window after
    /// `starts_at` (rounded down to the hour).
    OneTime {
        /// Requested start of the use window.
        starts_at: DateTime<Utc>,
    },
    /// Valid until deleted (then revoked at the lock).
    Ongoing,
}

/// An issue request to the ledger.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CodeSpec {
    /// The device.
    pub device_id: String,
    /// What to issue.
    pub want: CodeWant,
    /// How far each end of the window may move outward, in seconds.
    pub max_rounding_secs: u32,
    /// Supersede lineage (`0`: none; profiles with lineages only).
    pub lineage: u8,
    /// Name shown in the record.
    pub name: Option<String>,
    /// The operator's own user id, for `list` filtering.
    pub user_identifier_key: Option<String>,
    /// Group key shown in the record.
    pub common_code_key: Option<String>,
}

impl CodeSpec {
    fn new(device_id: &str, want: CodeWant) -> Self {
        CodeSpec {
            device_id: device_id.to_owned(),
            want,
            max_rounding_secs: 0,
            lineage: 0,
            name: None,
            user_identifier_key: None,
            common_code_key: None,
        }
    }
    /// A time-bound code.
    pub fn time_bound(device_id: &str, starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> Self {
        Self::new(device_id, CodeWant::TimeBound { starts_at, ends_at })
    }
    /// A one-time code.
    pub fn one_time(device_id: &str, starts_at: DateTime<Utc>) -> Self {
        Self::new(device_id, CodeWant::OneTime { starts_at })
    }
    /// An ongoing code.
    pub fn ongoing(device_id: &str) -> Self {
        Self::new(device_id, CodeWant::Ongoing)
    }
    /// Sets the allowed rounding.
    pub fn with_max_rounding_secs(mut self, secs: u32) -> Self {
        self.max_rounding_secs = secs;
        self
    }
    /// Sets the name.
    pub fn with_name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }
    /// Sets the user identifier key.
    pub fn with_user_identifier_key(mut self, key: &str) -> Self {
        self.user_identifier_key = Some(key.to_owned());
        self
    }
}

/// The encoded window whose variances (or, for ongoing codes, the slots)
/// are allocated together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AllocationKey {
    /// The grant kind (hourly, daily, one-time or ongoing).
    pub kind: Kind,
    /// First hour or day of the window (`0` for ongoing codes).
    pub start: u32,
    /// Length in hours or days (`0` for one-time and ongoing codes).
    pub length: u32,
    /// Supersede lineage (`0`: none).
    pub lineage: u8,
}

impl AllocationKey {
    /// The key of a grant and the number (variance or slot) it uses.
    pub fn of(grant: &Grant) -> Option<(AllocationKey, u32)> {
        let span = |kind, s: &Span| {
            (
                AllocationKey {
                    kind,
                    start: s.start,
                    length: s.length,
                    lineage: s.lineage,
                },
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
                AllocationKey {
                    kind: Kind::OneTime,
                    start: *start_hour,
                    length: 0,
                    lineage: 0,
                },
                u32::from(*variance),
            )),
            Grant::Ongoing { slot } => Some((
                AllocationKey {
                    kind: Kind::Ongoing,
                    start: 0,
                    length: 0,
                    lineage: 0,
                },
                *slot,
            )),
            Grant::Revoke(_) => None,
        }
    }
}

/// The lowest number in `0..limit` not in `used`: the allocation rule both
/// backends share.
///
/// # Examples
///
/// ```
/// use offpin::server::ledger::lowest_free;
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
        next += 1;
    }
    (next < limit).then_some(next)
}

/// One issued code as the ledger stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The record handed to clients.
    pub record: AccessCode,
    /// The operator's user id, if given.
    pub user_identifier_key: Option<String>,
    /// The allocated window.
    pub key: AllocationKey,
    /// The allocated variance (or ongoing slot).
    pub number: u32,
    /// When the code was deleted (tombstones are kept for ongoing slots).
    pub deleted_at: Option<DateTime<Utc>>,
}

/// The `list` filters of the access-code API. At least `device_id` or a
/// non-empty `access_code_ids` is required; all given filters must match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// Codes of this device.
    pub device_id: Option<String>,
    /// Codes with these ids.
    pub access_code_ids: Vec<String>,
    /// Codes issued for this user.
    pub user_identifier_key: Option<String>,
}

impl ListFilter {
    /// Every live code of a device.
    pub fn device(device_id: &str) -> Self {
        ListFilter {
            device_id: Some(device_id.to_owned()),
            ..ListFilter::default()
        }
    }

    /// Whether an entry passes the filter (deleted entries never do).
    pub fn matches(&self, e: &Entry) -> bool {
        e.deleted_at.is_none()
            && self
                .device_id
                .as_ref()
                .is_none_or(|d| *d == e.record.device_id)
            && (self.access_code_ids.is_empty()
                || self.access_code_ids.contains(&e.record.access_code_id))
            && self
                .user_identifier_key
                .as_ref()
                .is_none_or(|k| Some(k) == e.user_identifier_key.as_ref())
    }
}

/// What [`Ledger::delete`] returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deleted {
    /// The deleted record.
    pub record: AccessCode,
    /// For an ongoing code: the PIN that revokes its slot at the lock
    /// (`None` when the profile has no revocation codes).
    pub revocation_code: Option<String>,
    /// For an ongoing code: the slot, retired for good.
    pub revoked_slot: Option<u32>,
}

/// Why a ledger operation failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum LedgerError {
    /// No device with this id is registered.
    UnknownDevice {
        /// The id asked for.
        device_id: String,
    },
    /// The device is already registered with other settings.
    DeviceConflict {
        /// The id.
        device_id: String,
    },
    /// The device's profile is not a shipped one.
    UnknownProfile {
        /// The name.
        name: String,
    },
    /// No (live) code with this id.
    NotFound {
        /// The id asked for.
        access_code_id: String,
    },
    /// `list` needs `device_id` or `access_code_ids`.
    MissingFilter,
    /// All variances of the window are in use
    /// (`igloohome_offline_access_code_no_variance_available`).
    NoVarianceAvailable {
        /// The device.
        device_id: String,
        /// Variances per window (`V`).
        variances: u32,
    },
    /// All ongoing slots of the device are in use or revoked.
    NoSlotAvailable {
        /// The device.
        device_id: String,
        /// Slots of the profile.
        slots: u32,
    },
    /// The request cannot be encoded.
    Issue(IssueError),
    /// The device key cannot be derived.
    Key(KeyError),
    /// A stored UTC offset is invalid.
    Offset(OffsetError),
    /// The storage failed (I/O, a corrupted or foreign file, SQL).
    Storage(String),
}

impl LedgerError {
    /// [`LedgerError::NotFound`] for `access_code_id`.
    pub fn not_found(access_code_id: &str) -> Self {
        LedgerError::NotFound {
            access_code_id: access_code_id.to_owned(),
        }
    }
}

impl fmt::Display for LedgerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LedgerError::UnknownDevice { device_id } => write!(
                f,
                "unknown device '{device_id}' (register it first with `offpin device add`)"
            ),
            LedgerError::DeviceConflict { device_id } => write!(
                f,
                "device '{device_id}' is already registered with other settings"
            ),
            LedgerError::UnknownProfile { name } => write!(
                f,
                "unknown profile '{name}' (shipped: {})",
                shipped::ALL
                    .iter()
                    .map(|p| p.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            LedgerError::NotFound { access_code_id } => {
                write!(f, "access code '{access_code_id}' not found")
            }
            LedgerError::MissingFilter => {
                f.write_str("list needs at least a device_id or access_code_ids")
            }
            LedgerError::NoVarianceAvailable {
                device_id,
                variances,
            } => write!(
                f,
                "{}: all {variances} variances of this window are in use on device '{device_id}'",
                crate::server::record::NO_VARIANCE_AVAILABLE
            ),
            LedgerError::NoSlotAvailable { device_id, slots } => write!(
                f,
                "all {slots} ongoing slots of device '{device_id}' are in use or revoked"
            ),
            LedgerError::Issue(e) => fmt::Display::fmt(e, f),
            LedgerError::Key(e) => fmt::Display::fmt(e, f),
            LedgerError::Offset(e) => fmt::Display::fmt(e, f),
            LedgerError::Storage(e) => write!(f, "ledger storage: {e}"),
        }
    }
}

impl std::error::Error for LedgerError {}

impl From<IssueError> for LedgerError {
    fn from(e: IssueError) -> Self {
        LedgerError::Issue(e)
    }
}
impl From<KeyError> for LedgerError {
    fn from(e: KeyError) -> Self {
        LedgerError::Key(e)
    }
}
impl From<OffsetError> for LedgerError {
    fn from(e: OffsetError) -> Self {
        LedgerError::Offset(e)
    }
}

/// A store of issued codes. Implement the eight required methods on your
/// own database; the provided [`issue`](Ledger::issue),
/// [`list`](Ledger::list), [`get`](Ledger::get) and
/// [`delete`](Ledger::delete) do the rest.
pub trait Ledger {
    /// Registers a device. Registering the same settings again is a no-op.
    ///
    /// # Errors
    ///
    /// [`LedgerError::DeviceConflict`] when the id exists with other
    /// settings; [`LedgerError::Storage`].
    fn add_device(&mut self, device: &Device) -> Result<(), LedgerError>;

    /// A registered device.
    ///
    /// # Errors
    ///
    /// [`LedgerError::UnknownDevice`]; [`LedgerError::Storage`].
    fn device(&mut self, device_id: &str) -> Result<Device, LedgerError>;

    /// Every registered device, ordered by id.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Storage`].
    fn devices(&mut self) -> Result<Vec<Device>, LedgerError>;

    /// Atomically: finds the numbers `0..limit` taken for `device_id` and
    /// `key` by any entry, deleted ones included (an offline code cannot be
    /// recalled: a deleted PIN keeps opening the lock until its window
    /// ends, a deleted ongoing slot is revoked forever, so a number is
    /// never handed out twice), picks the lowest free one with
    /// [`lowest_free`], builds the entry with `build(number)` and stores
    /// it. Returns `Ok(None)` when no number is free.
    ///
    /// Must be atomic against concurrent callers (other threads and
    /// processes): no two entries, deleted ones included, may share a number.
    ///
    /// # Errors
    ///
    /// Whatever `build` returns; [`LedgerError::Storage`].
    fn allocate(
        &mut self,
        device_id: &str,
        key: &AllocationKey,
        limit: u32,
        build: &mut dyn FnMut(u32) -> Result<Entry, LedgerError>,
    ) -> Result<Option<Entry>, LedgerError>;

    /// Live entries that match `filter`, in issue order.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Storage`].
    fn find(&mut self, filter: &ListFilter) -> Result<Vec<Entry>, LedgerError>;

    /// The live entry with this id.
    ///
    /// # Errors
    ///
    /// [`LedgerError::NotFound`]; [`LedgerError::Storage`].
    fn find_one(&mut self, access_code_id: &str) -> Result<Entry, LedgerError>;

    /// Marks a live entry deleted at `at` and returns it.
    ///
    /// # Errors
    ///
    /// [`LedgerError::NotFound`]; [`LedgerError::Storage`].
    fn mark_deleted(
        &mut self,
        access_code_id: &str,
        at: DateTime<Utc>,
    ) -> Result<Entry, LedgerError>;

    /// Replaces the record of the live entry with `record.access_code_id`
    /// (the allocation stays as it is). [`hosted::HostedApi::update`]
    /// decides what may change.
    ///
    /// # Errors
    ///
    /// [`LedgerError::NotFound`]; [`LedgerError::Storage`].
    fn replace_record(&mut self, record: &AccessCode) -> Result<(), LedgerError>;

    /// Issues a code: plans the window, allocates the lowest free variance
    /// (or ongoing slot), derives the PIN with the device's key and stores
    /// the record.
    ///
    /// # Errors
    ///
    /// [`LedgerError::UnknownDevice`], [`LedgerError::Issue`] (bad window),
    /// [`LedgerError::NoVarianceAvailable`], [`LedgerError::NoSlotAvailable`],
    /// [`LedgerError::Storage`].
    fn issue(
        &mut self,
        master: &MasterKey,
        spec: &CodeSpec,
        now: DateTime<Utc>,
    ) -> Result<AccessCode, LedgerError> {
        let device = self.device(&spec.device_id)?;
        let codec = device.codec(master)?;
        let profile = *codec.profile();
        let base = match spec.want {
            CodeWant::TimeBound { starts_at, ends_at } => {
                Request::time_bound(to_unix(&starts_at), to_unix(&ends_at))
            }
            CodeWant::OneTime { starts_at } => Request::one_time(to_unix(&starts_at)),
            CodeWant::Ongoing => Request::ongoing(0),
        }
        .with_max_rounding_secs(spec.max_rounding_secs)
        .with_utc_offset(device.utc_offset)
        .with_lineage(spec.lineage);
        let plan = profile.plan(&base)?;
        let (key, _) = AllocationKey::of(&plan.grant).ok_or(LedgerError::Issue(
            IssueError::Grant(crate::index::GrantError::KindDisabled(plan.grant.kind())),
        ))?;
        let ongoing = matches!(spec.want, CodeWant::Ongoing);
        let limit = if ongoing {
            profile.params().ongoing_slots
        } else {
            u32::from(profile.params().variances)
        };
        let created_at = truncate_millis(now);
        let mut build = |n: u32| -> Result<Entry, LedgerError> {
            let req = if ongoing {
                Request::ongoing(n)
            } else {
                base.with_variance(u8::try_from(n).unwrap_or(u8::MAX))
            };
            let issued = codec.issue(&req)?;
            let id = uuid::Uuid::new_v4().to_string();
            let record = AccessCode::offline(OfflineCode {
                access_code_id: &id,
                device_id: &device.device_id,
                name: spec.name.as_deref(),
                code: issued.pin.as_str(),
                common_code_key: spec.common_code_key.as_deref(),
                plan: &issued.plan,
                profile: &profile,
                created_at,
            })
            .ok_or_else(|| LedgerError::Storage("revocation codes have no record".to_owned()))?;
            Ok(Entry {
                record,
                user_identifier_key: spec.user_identifier_key.clone(),
                key,
                number: n,
                deleted_at: None,
            })
        };
        match self.allocate(&device.device_id, &key, limit, &mut build)? {
            Some(entry) => Ok(entry.record),
            None if ongoing => Err(LedgerError::NoSlotAvailable {
                device_id: device.device_id.clone(),
                slots: limit,
            }),
            None => Err(LedgerError::NoVarianceAvailable {
                device_id: device.device_id.clone(),
                variances: limit,
            }),
        }
    }

    /// Lists live codes, in issue order.
    ///
    /// # Errors
    ///
    /// [`LedgerError::MissingFilter`] unless `device_id` or a non-empty
    /// `access_code_ids` is given; [`LedgerError::Storage`].
    fn list(&mut self, filter: &ListFilter) -> Result<Vec<AccessCode>, LedgerError> {
        if filter.device_id.is_none() && filter.access_code_ids.is_empty() {
            return Err(LedgerError::MissingFilter);
        }
        Ok(self.find(filter)?.into_iter().map(|e| e.record).collect())
    }

    /// One live code.
    ///
    /// # Errors
    ///
    /// [`LedgerError::NotFound`]; [`LedgerError::Storage`].
    fn get(&mut self, access_code_id: &str) -> Result<AccessCode, LedgerError> {
        Ok(self.find_one(access_code_id)?.record)
    }

    /// Deletes a code. For an ongoing code, returns the revocation PIN of
    /// its slot and retires the slot for good.
    ///
    /// # Errors
    ///
    /// [`LedgerError::NotFound`]; [`LedgerError::UnknownDevice`];
    /// [`LedgerError::Storage`].
    fn delete(
        &mut self,
        master: &MasterKey,
        access_code_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Deleted, LedgerError> {
        let entry = self.find_one(access_code_id)?;
        let device = self.device(&entry.record.device_id)?;
        let codec = device.codec(master)?;
        let revocation = if entry.key.kind == Kind::Ongoing {
            let grant = Grant::Revoke(RevokeTarget::Slot(entry.number));
            let code = if codec.profile().has_kind(Kind::RevokeSlot) {
                Some(codec.pin_for(&grant)?.as_str().to_owned())
            } else {
                None
            };
            Some((code, entry.number))
        } else {
            None
        };
        let entry = self.mark_deleted(access_code_id, truncate_millis(now))?;
        Ok(Deleted {
            record: entry.record,
            revocation_code: revocation.as_ref().and_then(|(c, _)| c.clone()),
            revoked_slot: revocation.map(|(_, s)| s),
        })
    }
}
