//! The ledger of issued codes: which PINs a server handed out, for which
//! device and window, so it can allocate variances and ongoing slots,
//! answer `list` / `get`, take codes back, and refuse what would lie.
//!
//! [`Ledger`] is a small storage trait (a master-key fingerprint, devices
//! by compare-and-swap, an atomic batch allocation, lookups, a delete
//! mark, a rename) with the issuing logic as provided methods, so a server
//! can put its ledger in its own database by implementing ten methods.
//! Three implementations ship: [`memory::MemoryLedger`]; with feature
//! `sqlite`, [`sqlite::SqliteLedger`] (one file that survives restarts,
//! `kill -9` and concurrent writers); with feature `postgres`,
//! `postgres::PostgresLedger` (one database shared by a fleet of servers:
//! unique constraints on the allocation and on idempotency keys, one
//! transaction per batch). Each also keeps the API keys of `offpin serve`
//! ([`api_keys::ApiKeyStore`]); [`hosted`] holds the hosted access-code
//! API's rules.
//!
//! **Groups** ([`groups`]): locks that hold a group key beside their own,
//! so one PIN ([`Ledger::issue_shared`]) opens every member; the storage
//! keeps them with three more methods ([`Ledger::group_entry`],
//! [`Ledger::group_entries`], [`Ledger::put_group`]).
//!
//! # What the ledger refuses
//!
//! - **Another master key.** The ledger stores the fingerprint
//!   ([`MasterKey::fingerprint`]) of the key its first device is
//!   registered with and refuses any other, naming both
//!   ([`LedgerError::MasterKeyMismatch`]), on every operation that takes a
//!   key (registering, changing a device, issuing, deleting): codes derived
//!   from the wrong key never open (see "The master key" below).
//! - **Dead codes.** A window that has ended, or whose activation deadline
//!   has passed, at issue time ([`LedgerError::WindowEnded`],
//!   [`LedgerError::ActivationDeadlinePassed`]), unless the request allows
//!   a backfill ([`CodeSpec::allow_backfill`]); the record then says that
//!   it can never open.
//! - **Requests whose kind and times disagree** ([`CodeWant::from_times`]).
//!
//! # The master key
//!
//! A lock holds the device key derived from the master key the operator
//! had when the lock was provisioned (`offpin device key`), which is
//! after its registration. So the ledger binds its key's fingerprint at
//! the latest when its first device is registered
//! ([`Ledger::add_device`]); from then on every operation that takes a key
//! (registering another device, changing one, issuing, single, batch or an
//! idempotent retry, deleting, and the command's `device key`) refuses any
//! other. A key given to a ledger that holds no device yet binds it (no
//! lock can hold another key's codes); [`Ledger::verify_master_key`]
//! checks without binding, for read-only ledgers.
//!
//! A ledger written by an older offpin may hold devices and no
//! fingerprint. If it holds a code, the key must derive that code's PIN
//! (it is then bound; otherwise [`LedgerError::KeyDoesNotDerive`]). If it
//! holds none, nothing tells which key its locks were provisioned from:
//! every check refuses with [`LedgerError::MasterKeyUnbound`], naming the
//! key given, until the operator binds one explicitly
//! ([`Ledger::adopt_master_key`]; the command's `device key`, whose output
//! is what the lock holds), rather than letting the first issue decide.
//!
//! # Allocation
//!
//! A time-bound or one-time request is planned first ([`Profile::plan`]);
//! the encoded window (kind, start, length, lineage) and the device's key
//! generation are its [`AllocationScope`]. The code gets the lowest
//! variance `0..V` that no code of the same device and scope ever used,
//! deleted ones included (an offline code cannot be recalled), so two
//! requests for the same window get different PINs; when all `V` are
//! taken the request fails with [`LedgerError::NoVarianceAvailable`] (the
//! `igloohome_offline_access_code_no_variance_available` error), which
//! names the window, the codes that hold it and when the first stops
//! opening, and proposes the nearest window of the same length with a free
//! variance ([`capacity`]: the search, its bound and its order). Ongoing
//! codes take the lowest slot `0..ongoing_slots` never used; deleting one
//! yields the revocation PIN of its slot, which is never allocated again
//! ([`LedgerError::NoSlotAvailable`] names the slots' codes).
//!
//! # Batches and idempotency
//!
//! [`Ledger::issue_batch`] plans and checks every request before anything
//! is stored, then allocates all of them in one transaction: all are
//! issued or none. A request with an idempotency key that the ledger has
//! already seen returns the code issued for it (the same PIN), so a
//! retried import issues nothing twice; the same key for a different
//! request is refused ([`LedgerError::IdempotencyConflict`]).
//!
//! # Records
//!
//! The ledger stores facts ([`StoredCode`]); [`Ledger::list`] and
//! [`Ledger::get`] compute the [`AccessCode`] records at the time given,
//! from the device as it is configured then (see [`crate::record`]).
//! Deleted codes stay listed.
//!
//! # Examples
//!
//! ```
//! use chrono::{DateTime, Utc};
//! use offpin::MasterKey;
//! use offpin_ledger::ledger::{
//!     CodeSpec, Device, Ledger, LedgerError, ListFilter, memory::MemoryLedger,
//! };
//!
//! let master = MasterKey::from_bytes([7; 32]);
//! let mut ledger = MemoryLedger::new();
//! ledger.add_device(&master, &Device::new("front-door", "standard-10"))?; // binds `master`
//! let now: DateTime<Utc> = "2024-12-01T00:00:00Z".parse()?;
//! let start: DateTime<Utc> = "2025-01-01T16:00:00Z".parse()?;
//! let end: DateTime<Utc> = "2025-01-03T10:00:00Z".parse()?;
//! let spec = CodeSpec::time_bound("front-door", start, end);
//! let a = ledger.issue(&master, &spec, now)?;
//! let b = ledger.issue(&master, &spec, now)?;
//! assert_ne!(a.record.code, b.record.code); // variances 0 and 1
//! ledger.issue(&master, &spec, now)?; // variance 2, the last
//! let Err(LedgerError::NoVarianceAvailable { pool, .. }) = ledger.issue(&master, &spec, now) else {
//!     panic!("the window has 3 variances");
//! };
//! let next = pool.proposal.ok_or("no window nearby")?; // an hour later
//! assert_eq!(next.starts_at, "2025-01-01T17:00:00Z".parse::<DateTime<Utc>>()?);
//! ledger.issue(&master, &CodeSpec::time_bound("front-door", next.starts_at, next.ends_at), now)?;
//! let listed = ledger.list(&ListFilter::device("front-door"), now)?;
//! assert_eq!(listed.len(), 4);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;

pub mod api_keys;
mod binding;
pub mod capacity;
pub mod groups;
pub mod hosted;
pub mod memory;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;

use core::fmt;

use chrono::{DateTime, Utc};

use crate::chrono_time::{rfc3339_millis, to_unix, truncate_millis, unix_rfc3339};
use crate::record::{
    AccessCode, CodeError, Deadlines, LockView, NO_VARIANCE_AVAILABLE, OfflineCode,
};
use crate::zone::{BookingTime, Clock, Zone, ZoneError, lock_rule};
use offpin::codec::Codec;
use offpin::grant::{Grant, RevokeTarget, Span};
use offpin::issue::{IssueError, Plan, Request};
use offpin::keys::{DeviceKey, KeyError, MAX_DEVICE_ID_LEN, MasterKey};
use offpin::profile::{Kind, Profile, shipped};
use offpin::service::ServiceSecret;
use offpin::time::{OffsetError, UtcOffset, Window};
use offpin::tz::TzRule;

pub use capacity::{PROPOSAL_SHIFTS, Proposal, SlotHolder, SpentPool};
pub use groups::{
    Group, GroupRef, GroupRemoval, NOT_SHARED, ShareRefusal, SharedIssue, SharedSpec, WhenNotShared,
};

/// A master-key fingerprint ([`MasterKey::fingerprint`]).
pub type Fingerprint = [u8; 8];

/// Constant-time equality of two byte strings (their lengths are public):
/// PINs and key hashes are compared with it.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use ctutils::CtEq;
    a.ct_eq(b).to_bool()
}

/// A fingerprint as 16 lowercase hex digits.
pub fn fingerprint_hex(f: &Fingerprint) -> String {
    f.iter().map(|b| format!("{b:02x}")).collect()
}

/// A lock the ledger issues codes for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Device {
    /// The device identifier (1 to 255 bytes; the key derivation input).
    pub device_id: String,
    /// Name of a shipped profile ([`shipped::by_name`]).
    pub profile: String,
    /// The lock's fixed clock offset: daily windows start at its midnight.
    pub utc_offset: UtcOffset,
    /// The IANA time zone the device is in (`Europe/Paris`), if known:
    /// local booking times are converted with its rules.
    pub time_zone: Option<String>,
    /// Key generation (bump to re-key the lock).
    pub generation: u32,
}

impl Device {
    /// A device in UTC, without a time zone, key generation 0.
    pub fn new(device_id: &str, profile: &str) -> Self {
        Device {
            device_id: device_id.to_owned(),
            profile: profile.to_owned(),
            utc_offset: UtcOffset::UTC,
            time_zone: None,
            generation: 0,
        }
    }

    /// Sets the lock's UTC offset.
    pub fn with_utc_offset(mut self, offset: UtcOffset) -> Self {
        self.utc_offset = offset;
        self
    }

    /// Sets the time zone (an IANA name).
    pub fn with_time_zone(mut self, zone: &str) -> Self {
        self.time_zone = Some(zone.to_owned());
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

    /// The device's time zone.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Zone`] for a name the database does not know.
    pub fn zone(&self) -> Result<Option<Zone>, LedgerError> {
        self.time_zone
            .as_deref()
            .map(Zone::get)
            .transpose()
            .map_err(LedgerError::Zone)
    }

    /// The local time the device's lock keeps ([`lock_rule`]): its zone's
    /// DST rule for a format-v2 profile whose zone keeps one rule from the
    /// profile's epoch on, else its fixed UTC offset.
    ///
    /// # Errors
    ///
    /// [`LedgerError::UnknownProfile`], [`LedgerError::Zone`].
    pub fn lock_rule(&self) -> Result<TzRule, LedgerError> {
        let profile = self.profile()?;
        Ok(lock_rule(&profile, self.utc_offset, self.zone()?.as_ref()))
    }

    /// The device's service secret (format v2): derived from its key of
    /// the current generation (see [`offpin::service`]).
    ///
    /// # Errors
    ///
    /// [`LedgerError::Key`] for a device id the key derivation refuses.
    pub fn service_secret(&self, master: &MasterKey) -> Result<ServiceSecret, LedgerError> {
        let key = master.derive_device_key(self.device_id.as_bytes(), self.generation)?;
        Ok(ServiceSecret::derive(&key))
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

    /// Checks what the ledger needs of a device: an id of 1 to 255 bytes, a
    /// shipped profile, a known time zone.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Key`], [`LedgerError::UnknownProfile`],
    /// [`LedgerError::Zone`].
    pub fn validate(&self) -> Result<(), LedgerError> {
        let len = self.device_id.len();
        if len == 0 {
            return Err(LedgerError::Key(KeyError::EmptyDeviceId));
        }
        if len > MAX_DEVICE_ID_LEN {
            return Err(LedgerError::Key(KeyError::DeviceIdTooLong { found: len }));
        }
        self.profile()?;
        self.zone()?;
        Ok(())
    }

    /// Converts a booking time to UTC: instants as they are, local times
    /// with the device's zone (or its fixed offset without one).
    ///
    /// # Errors
    ///
    /// [`LedgerError::Zone`] for an unknown zone, or a local time that
    /// does not exist or exists twice on its date.
    pub fn resolve(&self, t: &BookingTime) -> Result<DateTime<Utc>, LedgerError> {
        let zone = self.zone()?;
        Clock {
            utc_offset: self.utc_offset,
            zone: zone.as_ref(),
        }
        .resolve(t)
        .map_err(LedgerError::Zone)
    }

    /// When the device's zone observes daylight saving time in the year
    /// after `now` while the lock keeps one fixed offset: the zone's
    /// offsets that differ from the lock's (empty otherwise).
    ///
    /// # Errors
    ///
    /// [`LedgerError::Zone`].
    pub fn offsets_off_the_lock(&self, now: DateTime<Utc>) -> Result<Vec<UtcOffset>, LedgerError> {
        if self.lock_rule()?.has_dst() {
            // The lock keeps the zone's rule: nothing is off.
            return Ok(Vec::new());
        }
        Ok(self.zone()?.map_or_else(Vec::new, |z| {
            z.offsets_within_a_year(now.timestamp())
                .into_iter()
                .filter(|o| *o != self.utc_offset)
                .collect()
        }))
    }
}

/// A device as stored: its settings, and when it was removed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DeviceEntry {
    /// The settings.
    pub device: Device,
    /// When it was removed from the ledger (its codes stay, its allocation
    /// history too, so re-adding it never re-issues a PIN).
    pub removed_at: Option<DateTime<Utc>>,
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

impl CodeWant {
    /// The kind of code that a request's times and one-time flag describe,
    /// as the access-code API defines it: neither time is an ongoing code,
    /// both times a time-bound one, a start with `one_time` a one-time
    /// code. Every other combination is refused, so a booking never
    /// becomes permanent access and no given time is silently dropped.
    ///
    /// # Errors
    ///
    /// [`LedgerError::TimesDisagree`].
    ///
    /// # Examples
    ///
    /// ```
    /// use offpin_ledger::ledger::CodeWant;
    /// let t = chrono::Utc::now();
    /// assert_eq!(CodeWant::from_times(None, None, false)?, CodeWant::Ongoing);
    /// assert!(CodeWant::from_times(Some(t), None, false).is_err());
    /// assert!(CodeWant::from_times(Some(t), Some(t), true).is_err());
    /// # Ok::<(), offpin_ledger::ledger::LedgerError>(())
    /// ```
    pub fn from_times(
        starts_at: Option<DateTime<Utc>>,
        ends_at: Option<DateTime<Utc>>,
        one_time: bool,
    ) -> Result<CodeWant, LedgerError> {
        let disagree = |why: &'static str| Err(LedgerError::TimesDisagree { why });
        match (starts_at, ends_at, one_time) {
            (None, None, false) => Ok(CodeWant::Ongoing),
            (Some(starts_at), Some(ends_at), false) => {
                Ok(CodeWant::TimeBound { starts_at, ends_at })
            }
            (Some(starts_at), None, true) => Ok(CodeWant::OneTime { starts_at }),
            (None, None, true) => disagree("a one-time code needs starts_at"),
            (_, Some(_), true) => {
                disagree("a one-time code has no ends_at (its use window is fixed by the profile)")
            }
            (Some(_), None, false) => {
                disagree("a time-bound code needs ends_at too (an ongoing code has neither time)")
            }
            (None, Some(_), false) => {
                disagree("a time-bound code needs starts_at too (an ongoing code has neither time)")
            }
        }
    }

    /// `time_bound`, `one_time` or `ongoing`.
    pub const fn name(&self) -> &'static str {
        match self {
            CodeWant::TimeBound { .. } => "time_bound",
            CodeWant::OneTime { .. } => "one_time",
            CodeWant::Ongoing => "ongoing",
        }
    }
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
    /// A key that makes the request idempotent: a second request with the
    /// same key returns the code issued for the first.
    pub idempotency_key: Option<String>,
    /// Record the code even if it can no longer open (its window ended or
    /// its activation deadline passed at issue time): a backfill.
    pub allow_backfill: bool,
}

impl CodeSpec {
    /// A request for `want` on `device_id`, with no rounding and no names.
    pub fn new(device_id: &str, want: CodeWant) -> Self {
        CodeSpec {
            device_id: device_id.to_owned(),
            want,
            max_rounding_secs: 0,
            lineage: 0,
            name: None,
            user_identifier_key: None,
            common_code_key: None,
            idempotency_key: None,
            allow_backfill: false,
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
    /// Sets the idempotency key.
    pub fn with_idempotency_key(mut self, key: &str) -> Self {
        self.idempotency_key = Some(key.to_owned());
        self
    }
    /// Allows a backfill (see [`CodeSpec::allow_backfill`]).
    pub fn with_backfill(mut self) -> Self {
        self.allow_backfill = true;
        self
    }
}

/// The numbers (variances, or ongoing slots) allocated together: one
/// encoded window of one key generation of one device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AllocationScope {
    /// The grant kind (hourly, daily, one-time or ongoing).
    pub kind: Kind,
    /// First hour or day of the window (`0` for ongoing codes).
    pub start: u32,
    /// Length in hours or days (`0` for one-time and ongoing codes).
    pub length: u32,
    /// Supersede lineage (`0`: none).
    pub lineage: u8,
    /// The device's key generation.
    pub generation: u32,
}

impl AllocationScope {
    /// The scope of a grant issued under `generation`, and the number
    /// (variance or slot) it uses. `None` for revocation codes and the
    /// format-v2 kinds, which the ledger does not issue.
    pub fn of(grant: &Grant, generation: u32) -> Option<(AllocationScope, u32)> {
        let scope = |kind, start, length, lineage| AllocationScope {
            kind,
            start,
            length,
            lineage,
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
            // Not issued through the ledger: revocations, and the format-v2
            // kinds (the ledger's requests are time-bound, one-time and
            // ongoing).
            Grant::Revoke(_) | Grant::Recurring(_) | Grant::ClockSet { .. } => None,
        }
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
            _ => None,
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

    fn record_with(
        &self,
        device: &DeviceEntry,
        profile: &Profile,
        zone: Option<&Zone>,
        group: Option<&GroupRef>,
        now: DateTime<Utc>,
    ) -> Result<AccessCode, LedgerError> {
        let corrupted = || {
            LedgerError::Storage(format!(
                "code '{}' names no access-code grant",
                self.access_code_id
            ))
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
    /// Every code of a device.
    pub fn device(device_id: &str) -> Self {
        ListFilter {
            device_id: Some(device_id.to_owned()),
            ..ListFilter::default()
        }
    }

    /// Whether a stored code passes the filter (deleted codes included).
    pub fn matches(&self, c: &StoredCode) -> bool {
        self.device_id.as_ref().is_none_or(|d| *d == c.device_id)
            && (self.access_code_ids.is_empty() || self.access_code_ids.contains(&c.access_code_id))
            && self
                .user_identifier_key
                .as_ref()
                .is_none_or(|k| Some(k) == c.user_identifier_key.as_ref())
    }
}

/// What [`Ledger::issue`] returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssueOutcome {
    /// The record, at issue time.
    pub record: AccessCode,
    /// `false` when the request's idempotency key returned a code issued
    /// before.
    pub created: bool,
}

/// What [`Ledger::delete`] returns. `Debug` redacts the revocation PIN.
#[derive(Clone, PartialEq, Eq)]
pub struct Deleted {
    /// The record after the deletion.
    pub record: AccessCode,
    /// For an ongoing code: the PIN that revokes its slot at the lock
    /// (`None` when the profile has no revocation codes).
    pub revocation_code: Option<String>,
    /// For an ongoing code: the slot, retired for good.
    pub revoked_slot: Option<u32>,
}

impl fmt::Debug for Deleted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deleted")
            .field("record", &self.record)
            .field(
                "revocation_code",
                &self.revocation_code.as_ref().map(|_| ".."),
            )
            .field("revoked_slot", &self.revoked_slot)
            .finish()
    }
}

/// A change of a device's settings ([`Ledger::update_device`]); `None`
/// leaves a setting as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceChange {
    /// The lock's new fixed UTC offset.
    pub utc_offset: Option<UtcOffset>,
    /// The new time zone (`Some(None)` removes it).
    pub time_zone: Option<Option<String>>,
    /// The new key generation (must be higher: re-keying the lock).
    pub generation: Option<u32>,
}

/// What a device change does to one code that may still open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Consequence {
    /// The lock, re-keyed, no longer opens for it.
    StopsOpening,
    /// The lock honours its daily window at other instants.
    WindowMoves {
        /// The window before the change.
        from: Window,
        /// The window after it.
        to: Window,
    },
}

/// One code a device change affects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Affected {
    /// The code's record before the change.
    pub record: AccessCode,
    /// What happens to it.
    pub consequence: Consequence,
}

/// What [`Ledger::update_device`] and [`Ledger::remove_device`] return.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceUpdated {
    /// The settings before.
    pub before: Device,
    /// The settings after.
    pub after: Device,
    /// The codes that may still open and that the change affects.
    pub affected: Vec<Affected>,
}

/// Why a ledger operation failed. [`LedgerError::code`] names each cause
/// for scripts and APIs.
#[derive(Debug)]
#[non_exhaustive]
pub enum LedgerError {
    /// No device with this id is registered.
    UnknownDevice {
        /// The id asked for.
        device_id: String,
    },
    /// The device was removed from the ledger.
    DeviceRemoved {
        /// The id.
        device_id: String,
        /// When.
        removed_at: DateTime<Utc>,
    },
    /// The device is already registered with other settings.
    DeviceConflict {
        /// The id.
        device_id: String,
    },
    /// A device change changes nothing.
    NoChange {
        /// The id.
        device_id: String,
    },
    /// A new key generation must be higher than the current one.
    GenerationNotHigher {
        /// The device.
        device_id: String,
        /// Its current generation.
        current: u32,
        /// The generation asked for.
        requested: u32,
    },
    /// The device's profile is not a shipped one.
    UnknownProfile {
        /// The name.
        name: String,
    },
    /// A time zone or local time problem.
    Zone(ZoneError),
    /// No code with this id.
    NotFound {
        /// The id asked for.
        access_code_id: String,
    },
    /// `list` needs `device_id` or `access_code_ids`.
    MissingFilter,
    /// A request's kind and times disagree ([`CodeWant::from_times`]).
    TimesDisagree {
        /// What is wrong.
        why: &'static str,
    },
    /// All variances of the window are in use
    /// (`igloohome_offline_access_code_no_variance_available`): which
    /// window, the codes that hold it, and the nearest window with a free
    /// variance ([`capacity`]).
    NoVarianceAvailable {
        /// The device.
        device_id: String,
        /// Variances per window (`V`).
        variances: u32,
        /// The window, its holders, and the proposal.
        pool: Box<SpentPool>,
    },
    /// All ongoing slots of the device are in use or revoked; a slot never
    /// frees ([`capacity`]).
    NoSlotAvailable {
        /// The device.
        device_id: String,
        /// Slots of the profile.
        slots: u32,
        /// The codes that took the slots, by slot (deleted ones: revoked).
        held_by: Vec<SlotHolder>,
        /// Slots taken by the requests of the same batch before this one.
        taken_in_batch: u32,
    },
    /// At issue time the window has ended: the lock would never open.
    WindowEnded {
        /// End of the encoded window.
        ends_at: i64,
        /// The issue time.
        now: i64,
    },
    /// At issue time the code's activation deadline has passed: the lock
    /// would never open.
    ActivationDeadlinePassed {
        /// The last instant of a first use.
        deadline: i64,
        /// The profile's activation window, in seconds.
        activation_secs: i64,
        /// The issue time.
        now: i64,
    },
    /// An idempotency key was used before for another request.
    IdempotencyConflict {
        /// The key.
        key: String,
        /// The code issued for it.
        access_code_id: String,
    },
    /// The ledger belongs to another master key.
    MasterKeyMismatch {
        /// The fingerprint the ledger holds.
        ledger: Fingerprint,
        /// The fingerprint of the key given.
        given: Fingerprint,
    },
    /// The ledger holds codes but no fingerprint yet (it was written before
    /// fingerprints), and the key given does not derive their PINs.
    KeyDoesNotDerive {
        /// The stored code the key was checked against.
        access_code_id: String,
        /// The fingerprint of the key given.
        given: Fingerprint,
    },
    /// The ledger holds devices but no master-key fingerprint and no code
    /// to check the key against (an older offpin wrote it): which key its
    /// locks were provisioned from cannot be told, so no key is taken
    /// until one is bound explicitly ([`Ledger::adopt_master_key`]).
    MasterKeyUnbound {
        /// One of its devices.
        device_id: String,
        /// The fingerprint of the key given.
        given: Fingerprint,
    },
    /// The request at `index` of a batch failed; nothing was issued.
    InBatch {
        /// Its position in the batch (from 0).
        index: usize,
        /// Why.
        source: Box<LedgerError>,
    },
    /// The request cannot be encoded.
    Issue(IssueError),
    /// The device key cannot be derived (device id length).
    Key(KeyError),
    /// A stored UTC offset is invalid.
    Offset(OffsetError),
    /// The file is not a ledger (empty, another application's database,
    /// not a database, or a newer schema).
    NotALedger {
        /// The path.
        path: String,
        /// Why.
        reason: String,
    },
    /// The ledger was written by an older offpin; opening it for writing
    /// once upgrades it.
    NeedsUpgrade {
        /// The path.
        path: String,
        /// Its schema version.
        from: u32,
        /// The current one.
        to: u32,
    },
    /// A writer was interrupted (a crash, `kill -9`) and left its journal
    /// beside the file; a read-only open cannot roll it back, opening the
    /// ledger for writing once does.
    NeedsRecovery {
        /// The path.
        path: String,
    },
    /// The ledger cannot be written: this path (the file or its
    /// directory) is read-only.
    Unwritable {
        /// The path that cannot be written.
        path: String,
        /// The storage's message.
        reason: String,
    },
    /// The storage failed (I/O, a corrupted file, SQL).
    Storage(String),
    /// No group with this id.
    UnknownGroup {
        /// The id asked for.
        group_id: String,
    },
    /// A group id must be 1 to 255 bytes (the key derivation input).
    InvalidGroupId {
        /// Its length in bytes.
        len: usize,
    },
    /// The group exists with another profile.
    GroupConflict {
        /// The group.
        group_id: String,
        /// Its profile.
        profile: String,
    },
    /// A device belongs to at most one group (a lock holds one group key).
    DeviceInAnotherGroup {
        /// The device.
        device_id: String,
        /// The group it is a member of.
        group_id: String,
    },
    /// The device is not a member of the group.
    NotAMember {
        /// The device.
        device_id: String,
        /// The group.
        group_id: String,
    },
    /// Every member of a group has the group's profile (one PIN must mean
    /// one grant on each).
    GroupProfileMismatch {
        /// The device.
        device_id: String,
        /// Its profile.
        device_profile: String,
        /// The group.
        group_id: String,
        /// The group's profile.
        group_profile: String,
    },
    /// The devices cannot share one PIN ([`ShareRefusal`]).
    CannotShare(ShareRefusal),
    /// No variance of the window is free on every member of the group.
    NoSharedVariance {
        /// The group.
        group_id: String,
        /// Variances per window.
        variances: u32,
        /// Each member and the variances of the window it has taken.
        taken: Vec<(String, Vec<u32>)>,
        /// The window, its holders on every member, and the nearest window
        /// with a variance free on all of them ([`capacity`]).
        pool: Box<SpentPool>,
    },
}

impl LedgerError {
    /// [`LedgerError::NotFound`] for `access_code_id`.
    pub fn not_found(access_code_id: &str) -> Self {
        LedgerError::NotFound {
            access_code_id: access_code_id.to_owned(),
        }
    }

    /// A stable snake_case name of the cause, for scripts and APIs (the
    /// `error_code` of the seeds' error shape). The no-variance error is
    /// the hosted APIs' `igloohome_offline_access_code_no_variance_available`.
    pub fn code(&self) -> &'static str {
        match self {
            LedgerError::UnknownDevice { .. } => "unknown_device",
            LedgerError::DeviceRemoved { .. } => "device_removed",
            LedgerError::DeviceConflict { .. } => "device_conflict",
            LedgerError::NoChange { .. } => "no_change",
            LedgerError::GenerationNotHigher { .. } => "generation_not_higher",
            LedgerError::UnknownProfile { .. } => "unknown_profile",
            LedgerError::Zone(ZoneError::Unknown { .. }) => "unknown_time_zone",
            LedgerError::Zone(_) => "invalid_local_time",
            LedgerError::NotFound { .. } => "access_code_not_found",
            LedgerError::MissingFilter => "missing_filter",
            LedgerError::TimesDisagree { .. } => "times_disagree",
            LedgerError::NoVarianceAvailable { .. } => NO_VARIANCE_AVAILABLE,
            LedgerError::NoSlotAvailable { .. } => "no_slot_available",
            LedgerError::WindowEnded { .. } => "window_ended",
            LedgerError::ActivationDeadlinePassed { .. } => "activation_deadline_passed",
            LedgerError::IdempotencyConflict { .. } => "idempotency_conflict",
            LedgerError::MasterKeyMismatch { .. } | LedgerError::KeyDoesNotDerive { .. } => {
                "master_key_mismatch"
            }
            LedgerError::MasterKeyUnbound { .. } => "master_key_unbound",
            LedgerError::InBatch { source, .. } => source.code(),
            LedgerError::Issue(_) => "invalid_window",
            LedgerError::Key(_) => "invalid_device_id",
            LedgerError::Offset(_) | LedgerError::Storage(_) => "storage_error",
            LedgerError::NotALedger { .. } => "not_a_ledger",
            LedgerError::NeedsUpgrade { .. } => "ledger_needs_upgrade",
            LedgerError::NeedsRecovery { .. } => "ledger_needs_recovery",
            LedgerError::Unwritable { .. } => "ledger_not_writable",
            LedgerError::UnknownGroup { .. } => "unknown_group",
            LedgerError::InvalidGroupId { .. } => "invalid_group_id",
            LedgerError::GroupConflict { .. } => "group_conflict",
            LedgerError::DeviceInAnotherGroup { .. } => "device_in_another_group",
            LedgerError::NotAMember { .. } => "not_a_group_member",
            LedgerError::GroupProfileMismatch { .. } => "group_profile_mismatch",
            LedgerError::CannotShare(_) => "code_cannot_be_shared",
            LedgerError::NoSharedVariance { .. } => NO_VARIANCE_AVAILABLE,
        }
    }

    /// The error as the seeds' error object (`error_code`, `message`,
    /// `created_at`).
    pub fn to_code_error(&self, now: DateTime<Utc>) -> CodeError {
        CodeError {
            created_at: truncate_millis(now),
            error_code: self.code().to_owned(),
            is_access_code_error: matches!(
                self.innermost(),
                LedgerError::NoVarianceAvailable { .. }
                    | LedgerError::NoSlotAvailable { .. }
                    | LedgerError::WindowEnded { .. }
                    | LedgerError::ActivationDeadlinePassed { .. }
                    | LedgerError::TimesDisagree { .. }
                    | LedgerError::Issue(_)
                    | LedgerError::NotFound { .. }
                    | LedgerError::IdempotencyConflict { .. }
                    | LedgerError::CannotShare(_)
                    | LedgerError::NoSharedVariance { .. }
            ),
            message: self.to_string(),
        }
    }

    /// The error itself, or for [`LedgerError::InBatch`] the one inside.
    pub fn innermost(&self) -> &LedgerError {
        match self {
            LedgerError::InBatch { source, .. } => source.innermost(),
            e => e,
        }
    }
}

impl fmt::Display for LedgerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LedgerError::UnknownDevice { device_id } => {
                write!(f, "unknown device '{device_id}'")
            }
            LedgerError::DeviceRemoved {
                device_id,
                removed_at,
            } => write!(
                f,
                "device '{device_id}' was removed at {}",
                rfc3339_millis(removed_at)
            ),
            LedgerError::DeviceConflict { device_id } => write!(
                f,
                "device '{device_id}' is already registered with other settings"
            ),
            LedgerError::NoChange { device_id } => {
                write!(f, "the change leaves device '{device_id}' as it is")
            }
            LedgerError::GenerationNotHigher {
                device_id,
                current,
                requested,
            } => write!(
                f,
                "device '{device_id}' is at key generation {current}; a new generation must be higher (got {requested}): going back would make the codes of that generation open again"
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
            LedgerError::Zone(e) => fmt::Display::fmt(e, f),
            LedgerError::NotFound { access_code_id } => {
                write!(f, "access code '{access_code_id}' not found")
            }
            LedgerError::MissingFilter => {
                f.write_str("list needs at least a device_id or access_code_ids")
            }
            LedgerError::TimesDisagree { why } => f.write_str(why),
            LedgerError::NoVarianceAvailable {
                device_id,
                variances,
                pool,
            } => capacity::fmt_no_variance(f, device_id, *variances, pool),
            LedgerError::NoSlotAvailable {
                device_id,
                slots,
                held_by,
                taken_in_batch,
            } => capacity::fmt_no_slot(f, device_id, *slots, held_by, *taken_in_batch),
            LedgerError::WindowEnded { ends_at, now } => write!(
                f,
                "the window ended at {}, before the issue time {}: the lock would never open for this code",
                unix_rfc3339(*ends_at),
                unix_rfc3339(*now)
            ),
            LedgerError::ActivationDeadlinePassed {
                deadline,
                activation_secs,
                now,
            } => write!(
                f,
                "the code must be used by {} (within {} h of its start), which has passed at the issue time {}: the lock would never open for it",
                unix_rfc3339(*deadline),
                activation_secs / 3_600,
                unix_rfc3339(*now)
            ),
            LedgerError::IdempotencyConflict {
                key,
                access_code_id,
            } => write!(
                f,
                "idempotency key '{key}' was used for another request (access code {access_code_id})"
            ),
            LedgerError::MasterKeyMismatch { ledger, given } => write!(
                f,
                "this ledger belongs to the master key with fingerprint {}, not to the key given (fingerprint {}): codes derived from it would never open",
                fingerprint_hex(ledger),
                fingerprint_hex(given)
            ),
            LedgerError::KeyDoesNotDerive {
                access_code_id,
                given,
            } => write!(
                f,
                "the master key given (fingerprint {}) does not derive the PIN of access code {access_code_id} stored in this ledger: it is not the ledger's key",
                fingerprint_hex(given)
            ),
            LedgerError::MasterKeyUnbound { device_id, given } => write!(
                f,
                "this ledger holds devices (device '{device_id}' among them) but no master-key fingerprint and no code to check the key given (fingerprint {}) against: an older offpin wrote it, and which key the locks were provisioned from cannot be told; bind it explicitly with that key",
                fingerprint_hex(given)
            ),
            LedgerError::InBatch { index, source } => {
                write!(f, "request {}: {source}", index.saturating_add(1))
            }
            LedgerError::Issue(e) => fmt::Display::fmt(e, f),
            LedgerError::Key(e) => fmt::Display::fmt(e, f),
            LedgerError::Offset(e) => fmt::Display::fmt(e, f),
            LedgerError::NotALedger { path, reason } => {
                write!(f, "{path} is not an offpin ledger: {reason}")
            }
            LedgerError::NeedsUpgrade { path, from, to } => write!(
                f,
                "{path} has ledger schema {from}; opening it for writing once upgrades it to {to}"
            ),
            LedgerError::NeedsRecovery { path } => write!(
                f,
                "{path}: a writer was interrupted and left its journal; opening the ledger for writing once rolls its transaction back"
            ),
            LedgerError::Unwritable { path, reason } => {
                write!(f, "cannot write the ledger: {path} is read-only ({reason})")
            }
            LedgerError::Storage(e) => write!(f, "ledger storage: {e}"),
            _ => groups::fmt_error(self, f),
        }
    }
}

impl std::error::Error for LedgerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LedgerError::Zone(e) => Some(e),
            LedgerError::InBatch { source, .. } => Some(source.as_ref()),
            LedgerError::Issue(e) => Some(e),
            LedgerError::Key(e) => Some(e),
            LedgerError::Offset(e) => Some(e),
            _ => None,
        }
    }
}

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

/// One allocation of a batch ([`Ledger::allocate`]).
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
/// `decide` ([`Ledger::allocate`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Slot {
    /// The lowest number no code of the scope ever used.
    Free(u32),
    /// The code already stored under the allocation's idempotency key.
    Existing(Box<StoredCode>),
    /// Every number of the scope is taken.
    Exhausted,
}

/// One stored result of [`Ledger::allocate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allocated {
    /// The code.
    pub code: StoredCode,
    /// `false` when it was found by its idempotency key.
    pub created: bool,
}

/// A store of issued codes. Implement the ten required methods on your
/// own database; the provided methods (issuing, batches, listing,
/// deletion, device lifecycle) do the rest and are the same on every
/// backend.
pub trait Ledger: Send {
    /// The master-key fingerprint the ledger holds, if any.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Storage`].
    fn master_fingerprint(&mut self) -> Result<Option<Fingerprint>, LedgerError>;

    /// Stores `fingerprint` if the ledger holds none yet, atomically
    /// (against concurrent callers: the first one wins), and returns the
    /// fingerprint the ledger holds afterwards.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Storage`], [`LedgerError::Unwritable`].
    fn bind_master_fingerprint(
        &mut self,
        fingerprint: Fingerprint,
    ) -> Result<Fingerprint, LedgerError>;

    /// A device as stored (removed ones included), or `None`.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Storage`].
    fn device_entry(&mut self, device_id: &str) -> Result<Option<DeviceEntry>, LedgerError>;

    /// Every stored device (removed ones included), ordered by id.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Storage`].
    fn device_entries(&mut self) -> Result<Vec<DeviceEntry>, LedgerError>;

    /// Compare-and-swap: stores `new` if the device's stored entry is
    /// `expected` (`None`: no entry), atomically; returns whether it did.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Storage`], [`LedgerError::Unwritable`].
    fn put_device(
        &mut self,
        new: &DeviceEntry,
        expected: Option<&DeviceEntry>,
    ) -> Result<bool, LedgerError>;

    /// In **one transaction**, for each allocation in order: if its
    /// idempotency key is stored, hands `decide` the code stored under it;
    /// otherwise finds the numbers `0..limit` any code of the device and
    /// scope ever took (deleted ones and those stored earlier in this
    /// batch included) and hands `decide` the lowest free one, or
    /// `Exhausted`. Stores what `decide` returns for a free number (its
    /// idempotency key included). If `decide` fails, or anything else
    /// does, nothing of the batch is stored and the error is returned.
    ///
    /// Must be atomic against concurrent callers (threads, processes,
    /// servers) and against a crash: no two codes of a scope may share a
    /// number, no two codes an idempotency key (a unique constraint on
    /// each, in SQL). A backend that lets the constraint decide may call
    /// `decide` again for the same allocation (with the next free number,
    /// or the code a concurrent writer stored under the key), and for the
    /// whole batch again when it retries the transaction; only what it
    /// stores counts.
    ///
    /// # Errors
    ///
    /// Whatever `decide` returns; [`LedgerError::Storage`],
    /// [`LedgerError::Unwritable`].
    fn allocate(
        &mut self,
        batch: &[Allocation<'_>],
        decide: &mut dyn FnMut(usize, Slot) -> Result<StoredCode, LedgerError>,
    ) -> Result<Vec<Allocated>, LedgerError>;

    /// Stored codes (deleted ones included) that match `filter`, in issue
    /// order.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Storage`].
    fn find(&mut self, filter: &ListFilter) -> Result<Vec<StoredCode>, LedgerError>;

    /// The stored code with this id, or `None`.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Storage`].
    fn find_one(&mut self, access_code_id: &str) -> Result<Option<StoredCode>, LedgerError>;

    /// Marks a code deleted at `at` with its revocation PIN, unless it is
    /// deleted already (then it stays as it was), and returns it.
    ///
    /// # Errors
    ///
    /// [`LedgerError::NotFound`]; [`LedgerError::Storage`],
    /// [`LedgerError::Unwritable`].
    fn mark_deleted(
        &mut self,
        access_code_id: &str,
        at: DateTime<Utc>,
        revocation_code: Option<&str>,
    ) -> Result<StoredCode, LedgerError>;

    /// Sets the name shown in a code's record (`None` removes it) and
    /// returns the code. Only the name: what the PIN encodes never changes
    /// ([`hosted::CodeUpdate`] refuses such changes).
    ///
    /// # Errors
    ///
    /// [`LedgerError::NotFound`]; [`LedgerError::Storage`],
    /// [`LedgerError::Unwritable`].
    fn rename(
        &mut self,
        access_code_id: &str,
        name: Option<&str>,
    ) -> Result<StoredCode, LedgerError>;

    /// A group as stored, or `None`.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Storage`].
    fn group_entry(&mut self, group_id: &str) -> Result<Option<Group>, LedgerError>;

    /// Every group, ordered by id.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Storage`].
    fn group_entries(&mut self) -> Result<Vec<Group>, LedgerError>;

    /// Compare-and-swap: stores `new` (its profile, generation and
    /// members) if the group's stored state is `expected` (`None`: no
    /// such group), atomically; returns whether it did. Returns `false`
    /// too when a member of `new` is a member of another group (a device
    /// is in at most one group: a unique constraint in SQL).
    ///
    /// # Errors
    ///
    /// [`LedgerError::Storage`], [`LedgerError::Unwritable`].
    fn put_group(&mut self, new: &Group, expected: Option<&Group>) -> Result<bool, LedgerError>;

    /// The group `device_id` is a member of, with the group's key
    /// generation.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Storage`].
    fn membership(&mut self, device_id: &str) -> Result<Option<GroupRef>, LedgerError> {
        Ok(self.memberships()?.remove(device_id))
    }

    /// Every group member's group, by device id.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Storage`].
    fn memberships(&mut self) -> Result<BTreeMap<String, GroupRef>, LedgerError> {
        Ok(groups::memberships(&self.group_entries()?))
    }

    /// Creates a group of devices with `profile`, key generation 0 and no
    /// member ([`groups`]); creating it again with the same profile is a
    /// no-op.
    ///
    /// # Errors
    ///
    /// [`LedgerError::InvalidGroupId`], [`LedgerError::UnknownProfile`],
    /// [`LedgerError::GroupConflict`], those of
    /// [`Ledger::check_master_key`]; [`LedgerError::Storage`].
    fn create_group(
        &mut self,
        master: &MasterKey,
        group_id: &str,
        profile: &str,
    ) -> Result<Group, LedgerError> {
        groups::create(self, master, group_id, profile)
    }

    /// Adds a registered device to a group (a no-op if it is a member).
    ///
    /// # Errors
    ///
    /// [`LedgerError::UnknownGroup`], [`LedgerError::DeviceInAnotherGroup`],
    /// [`LedgerError::GroupProfileMismatch`], those of [`Ledger::device`]
    /// and [`Ledger::check_master_key`]; [`LedgerError::Storage`].
    fn add_to_group(
        &mut self,
        master: &MasterKey,
        group_id: &str,
        device_id: &str,
    ) -> Result<Group, LedgerError> {
        groups::add(self, master, group_id, device_id)
    }

    /// Removes a device from a group and re-keys the group (its key
    /// generation goes up by one): group codes issued from now on do not
    /// open the removed lock, which still holds the old group key. See
    /// [`groups`] for what the locks need.
    ///
    /// # Errors
    ///
    /// [`LedgerError::UnknownGroup`], [`LedgerError::NotAMember`], those of
    /// [`Ledger::check_master_key`]; [`LedgerError::Storage`].
    fn remove_from_group(
        &mut self,
        master: &MasterKey,
        group_id: &str,
        device_id: &str,
        now: DateTime<Utc>,
    ) -> Result<GroupRemoval, LedgerError> {
        groups::remove(self, master, group_id, device_id, now)
    }

    /// A group.
    ///
    /// # Errors
    ///
    /// [`LedgerError::UnknownGroup`]; [`LedgerError::Storage`].
    fn group(&mut self, group_id: &str) -> Result<Group, LedgerError> {
        self.group_entry(group_id)?
            .ok_or_else(|| LedgerError::UnknownGroup {
                group_id: group_id.to_owned(),
            })
    }

    /// The key the members of a group hold beside their own (its current
    /// generation), after checking `master` against the ledger.
    ///
    /// # Errors
    ///
    /// [`LedgerError::UnknownGroup`], those of
    /// [`Ledger::check_master_key`]; [`LedgerError::Storage`].
    fn group_key(&mut self, master: &MasterKey, group_id: &str) -> Result<DeviceKey, LedgerError> {
        self.check_master_key(master)?;
        let group = self.group(group_id)?;
        Ok(group.key(master)?)
    }

    /// Issues one PIN for several devices, the members of one group
    /// ([`groups`]): one variance free on every member, in one
    /// transaction, under the group key; each member gets its own record
    /// with the same `code` and `common_code_key`. When they cannot share
    /// one, [`WhenNotShared`] decides: refuse, or issue each device its
    /// own code under its own key. Nothing is stored when it fails.
    ///
    /// # Errors
    ///
    /// With [`WhenNotShared::Throw`]: [`LedgerError::CannotShare`],
    /// [`LedgerError::NoSharedVariance`]; those of [`Ledger::issue_batch`]
    /// (without the [`LedgerError::InBatch`] wrapper for a shared code).
    fn issue_shared(
        &mut self,
        master: &MasterKey,
        spec: &SharedSpec,
        now: DateTime<Utc>,
    ) -> Result<SharedIssue, LedgerError> {
        groups::issue(self, master, spec, now)
    }

    /// Checks that `master` is the ledger's key before an operation that
    /// writes with it: refuses another key, naming both fingerprints. An
    /// unbound ledger is bound to `master` when it holds no device yet, or
    /// when a stored code proves the key (a ledger written before
    /// fingerprints); the rules are in the module documentation ("The
    /// master key").
    ///
    /// # Errors
    ///
    /// [`LedgerError::MasterKeyMismatch`], [`LedgerError::KeyDoesNotDerive`],
    /// [`LedgerError::MasterKeyUnbound`] (devices, but nothing to check the
    /// key against); [`LedgerError::Storage`].
    fn check_master_key(&mut self, master: &MasterKey) -> Result<(), LedgerError> {
        binding::check(self, master, binding::Bind::Proven)
    }

    /// [`Ledger::check_master_key`] without writing anything (for a
    /// ledger opened read-only): an unbound ledger stays unbound.
    ///
    /// # Errors
    ///
    /// Those of [`Ledger::check_master_key`].
    fn verify_master_key(&mut self, master: &MasterKey) -> Result<(), LedgerError> {
        binding::check(self, master, binding::Bind::Never)
    }

    /// [`Ledger::check_master_key`], and on a ledger that holds devices
    /// but no fingerprint and no code (written by an older offpin) binds
    /// `master` anyway: the caller states that the locks were provisioned
    /// from it. A bound ledger still refuses another key.
    ///
    /// # Errors
    ///
    /// [`LedgerError::MasterKeyMismatch`], [`LedgerError::KeyDoesNotDerive`];
    /// [`LedgerError::Storage`], [`LedgerError::Unwritable`].
    fn adopt_master_key(&mut self, master: &MasterKey) -> Result<(), LedgerError> {
        binding::check(self, master, binding::Bind::Adopt)
    }

    /// Registers a device, or re-registers a removed one (its allocation
    /// history is kept, so no PIN is issued twice), for the lock that will
    /// be provisioned from `master`: the first registration binds the
    /// ledger to `master`, later ones must present it
    /// ([`Ledger::check_master_key`]). Registering a live device with the
    /// same settings again is a no-op.
    ///
    /// # Errors
    ///
    /// Those of [`Device::validate`] and [`Ledger::check_master_key`];
    /// [`LedgerError::DeviceConflict`] when the id is registered with
    /// other settings; [`LedgerError::Storage`].
    fn add_device(&mut self, master: &MasterKey, device: &Device) -> Result<(), LedgerError> {
        device.validate()?;
        self.check_master_key(master)?;
        let new = DeviceEntry {
            device: device.clone(),
            removed_at: None,
        };
        loop {
            let current = self.device_entry(&device.device_id)?;
            match &current {
                Some(c) if c.removed_at.is_none() && c.device == *device => return Ok(()),
                Some(c) if c.removed_at.is_none() => {
                    return Err(LedgerError::DeviceConflict {
                        device_id: device.device_id.clone(),
                    });
                }
                _ => {}
            }
            if self.put_device(&new, current.as_ref())? {
                return Ok(());
            }
        }
    }

    /// A registered (not removed) device.
    ///
    /// # Errors
    ///
    /// [`LedgerError::UnknownDevice`], [`LedgerError::DeviceRemoved`];
    /// [`LedgerError::Storage`].
    fn device(&mut self, device_id: &str) -> Result<Device, LedgerError> {
        match self.device_entry(device_id)? {
            Some(DeviceEntry {
                removed_at: Some(removed_at),
                ..
            }) => Err(LedgerError::DeviceRemoved {
                device_id: device_id.to_owned(),
                removed_at,
            }),
            Some(e) => Ok(e.device),
            None => Err(LedgerError::UnknownDevice {
                device_id: device_id.to_owned(),
            }),
        }
    }

    /// Every registered (not removed) device, ordered by id.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Storage`].
    fn devices(&mut self) -> Result<Vec<Device>, LedgerError> {
        Ok(self
            .device_entries()?
            .into_iter()
            .filter(|e| e.removed_at.is_none())
            .map(|e| e.device)
            .collect())
    }

    /// Changes a device's UTC offset, time zone or key generation, and
    /// says which codes that may still open at `now` the change affects:
    /// a new generation (re-keying the lock) stops every one of them; a
    /// new offset moves the windows of daily codes.
    ///
    /// `master` must be the ledger's key ([`Ledger::check_master_key`]):
    /// the lock keeps the key derived from it.
    ///
    /// # Errors
    ///
    /// Those of [`Ledger::check_master_key`]; [`LedgerError::NoChange`],
    /// [`LedgerError::GenerationNotHigher`], those of [`Ledger::device`]
    /// and [`Device::validate`]; [`LedgerError::Storage`].
    fn update_device(
        &mut self,
        master: &MasterKey,
        device_id: &str,
        change: &DeviceChange,
        now: DateTime<Utc>,
    ) -> Result<DeviceUpdated, LedgerError> {
        self.check_master_key(master)?;
        let before = self.device(device_id)?;
        let mut after = before.clone();
        if let Some(o) = change.utc_offset {
            after.utc_offset = o;
        }
        if let Some(z) = &change.time_zone {
            after.time_zone.clone_from(z);
        }
        if let Some(g) = change.generation {
            if g <= before.generation {
                return Err(LedgerError::GenerationNotHigher {
                    device_id: device_id.to_owned(),
                    current: before.generation,
                    requested: g,
                });
            }
            after.generation = g;
        }
        if after == before {
            return Err(LedgerError::NoChange {
                device_id: device_id.to_owned(),
            });
        }
        after.validate()?;
        let entry = DeviceEntry {
            device: before.clone(),
            removed_at: None,
        };
        let profile = before.profile()?;
        let member = self.membership(device_id)?;
        let mut affected = Vec::new();
        for code in self.find(&ListFilter::device(device_id))? {
            let record = code.record(&entry, member.as_ref(), now)?;
            if !record.may_open() {
                continue;
            }
            let consequence = if after.generation != before.generation {
                Consequence::StopsOpening
            } else {
                let (Some(grant), Some(w)) = (code.grant(), code.issued_window) else {
                    continue;
                };
                let from = grant.window(&profile, before.utc_offset).unwrap_or(w);
                match grant.window(&profile, after.utc_offset) {
                    Some(to) if to != from => Consequence::WindowMoves { from, to },
                    _ => continue,
                }
            };
            affected.push(Affected {
                record,
                consequence,
            });
        }
        let new = DeviceEntry {
            device: after.clone(),
            removed_at: None,
        };
        if !self.put_device(&new, Some(&entry))? {
            return Err(LedgerError::Storage(format!(
                "device '{device_id}' changed while it was being updated; try again"
            )));
        }
        Ok(DeviceUpdated {
            before,
            after,
            affected,
        })
    }

    /// Removes a device from the ledger at `now`: it can no longer be
    /// issued for; its codes stay (listed with the `device_removed`
    /// error) with its allocation history, so adding it again never
    /// re-issues a PIN. Returns the codes that may still open (the lock
    /// keeps opening for them if it stays in service).
    ///
    /// # Errors
    ///
    /// Those of [`Ledger::device`]; [`LedgerError::Storage`].
    fn remove_device(
        &mut self,
        device_id: &str,
        now: DateTime<Utc>,
    ) -> Result<DeviceUpdated, LedgerError> {
        let before = self.device(device_id)?;
        let entry = DeviceEntry {
            device: before.clone(),
            removed_at: None,
        };
        let member = self.membership(device_id)?;
        let mut affected = Vec::new();
        for code in self.find(&ListFilter::device(device_id))? {
            let record = code.record(&entry, member.as_ref(), now)?;
            if record.may_open() {
                affected.push(Affected {
                    record,
                    consequence: Consequence::StopsOpening,
                });
            }
        }
        let removed = DeviceEntry {
            device: before.clone(),
            removed_at: Some(truncate_millis(now)),
        };
        if !self.put_device(&removed, Some(&entry))? {
            return Err(LedgerError::Storage(format!(
                "device '{device_id}' changed while it was being removed; try again"
            )));
        }
        Ok(DeviceUpdated {
            after: before.clone(),
            before,
            affected,
        })
    }

    /// Issues a code: [`Ledger::issue_batch`] of one.
    ///
    /// # Errors
    ///
    /// See [`Ledger::issue_batch`] (without the [`LedgerError::InBatch`]
    /// wrapper).
    fn issue(
        &mut self,
        master: &MasterKey,
        spec: &CodeSpec,
        now: DateTime<Utc>,
    ) -> Result<IssueOutcome, LedgerError> {
        match self.issue_batch(master, core::slice::from_ref(spec), now) {
            Ok(mut out) => out
                .pop()
                .ok_or_else(|| LedgerError::Storage("the batch returned nothing".to_owned())),
            Err(LedgerError::InBatch { source, .. }) => Err(*source),
            Err(e) => Err(e),
        }
    }

    /// Issues codes, all or nothing: checks the master key, plans every
    /// request and refuses dead ones (window ended, activation deadline
    /// passed, unless [`CodeSpec::allow_backfill`]) before anything is
    /// stored; then, in one transaction, allocates the lowest free variance
    /// (or ongoing slot) of each, derives its PIN with the device's key and
    /// stores it. A request whose idempotency key the ledger holds returns
    /// the code issued for it (`created: false`).
    ///
    /// # Errors
    ///
    /// [`LedgerError::MasterKeyMismatch`]; otherwise
    /// [`LedgerError::InBatch`] naming the first request that failed:
    /// [`LedgerError::UnknownDevice`], [`LedgerError::DeviceRemoved`],
    /// [`LedgerError::Issue`] (a window the profile cannot encode),
    /// [`LedgerError::WindowEnded`],
    /// [`LedgerError::ActivationDeadlinePassed`],
    /// [`LedgerError::NoVarianceAvailable`],
    /// [`LedgerError::NoSlotAvailable`],
    /// [`LedgerError::IdempotencyConflict`]; [`LedgerError::Storage`].
    fn issue_batch(
        &mut self,
        master: &MasterKey,
        specs: &[CodeSpec],
        now: DateTime<Utc>,
    ) -> Result<Vec<IssueOutcome>, LedgerError> {
        self.check_master_key(master)?;
        let created_at = truncate_millis(now);
        let t = to_unix(&now);
        let in_batch = |index: usize| {
            move |e: LedgerError| LedgerError::InBatch {
                index,
                source: Box::new(e),
            }
        };
        // Phase 1: plan and check every request; nothing is stored.
        let mut devices: BTreeMap<String, (DeviceEntry, Codec, Option<Zone>)> = BTreeMap::new();
        let mut prepared = Vec::with_capacity(specs.len());
        for (i, spec) in specs.iter().enumerate() {
            if !devices.contains_key(&spec.device_id) {
                let device = self.device(&spec.device_id).map_err(in_batch(i))?;
                let codec = device.codec(master).map_err(in_batch(i))?;
                let zone = device.zone().map_err(in_batch(i))?;
                let entry = DeviceEntry {
                    device,
                    removed_at: None,
                };
                devices.insert(spec.device_id.clone(), (entry, codec, zone));
            }
            let (entry, codec, _) = devices
                .get(&spec.device_id)
                .ok_or_else(|| LedgerError::Storage("device cache".to_owned()))?;
            prepared.push(prepare(spec, &entry.device, codec.profile(), t).map_err(in_batch(i))?);
        }
        let allocations: Vec<Allocation<'_>> = specs
            .iter()
            .zip(&prepared)
            .map(|(spec, p)| Allocation {
                device_id: &spec.device_id,
                scope: p.scope,
                limit: p.limit,
                idempotency_key: spec.idempotency_key.as_deref(),
                joint: false,
            })
            .collect();
        // Phase 2: one transaction.
        let mut decide = |i: usize, slot: Slot| -> Result<StoredCode, LedgerError> {
            let (spec, p) = specs
                .get(i)
                .zip(prepared.get(i))
                .ok_or_else(|| LedgerError::Storage("batch index".to_owned()))?;
            let (_, codec, _) = devices
                .get(&spec.device_id)
                .ok_or_else(|| LedgerError::Storage("device cache".to_owned()))?;
            match slot {
                Slot::Existing(code) => {
                    let same = code.device_id == spec.device_id
                        && code.scope.kind == p.scope.kind
                        && code.scope.start == p.scope.start
                        && code.scope.length == p.scope.length
                        && code.scope.lineage == p.scope.lineage
                        && code.name == spec.name
                        && code.user_identifier_key == spec.user_identifier_key;
                    if same {
                        Ok(*code)
                    } else {
                        Err(in_batch(i)(LedgerError::IdempotencyConflict {
                            key: spec.idempotency_key.clone().unwrap_or_default(),
                            access_code_id: code.access_code_id,
                        }))
                    }
                }
                Slot::Exhausted => Err(in_batch(i)(capacity::exhausted(spec, p))),
                Slot::Free(n) => {
                    fresh_code(spec, p, n, codec, created_at, None).map_err(in_batch(i))
                }
            }
        };
        let stored = match self.allocate(&allocations, &mut decide) {
            Ok(stored) => stored,
            Err(e) => {
                let batch = capacity::Batch {
                    specs,
                    prepared: &prepared,
                    devices: &devices,
                    now: t,
                };
                return Err(capacity::explain(self, e, &batch));
            }
        };
        let members = self.memberships()?;
        stored
            .into_iter()
            .map(|a| {
                let (entry, codec, zone) = devices
                    .get(&a.code.device_id)
                    .ok_or_else(|| LedgerError::Storage("device cache".to_owned()))?;
                let member = members.get(&a.code.device_id);
                Ok(IssueOutcome {
                    record: a.code.record_with(
                        entry,
                        codec.profile(),
                        zone.as_ref(),
                        member,
                        now,
                    )?,
                    created: a.created,
                })
            })
            .collect()
    }

    /// Lists codes (deleted ones included), in issue order, with their
    /// records computed at `now`.
    ///
    /// # Errors
    ///
    /// [`LedgerError::MissingFilter`] unless `device_id` or a non-empty
    /// `access_code_ids` is given; [`LedgerError::Storage`].
    fn list(
        &mut self,
        filter: &ListFilter,
        now: DateTime<Utc>,
    ) -> Result<Vec<AccessCode>, LedgerError> {
        if filter.device_id.is_none() && filter.access_code_ids.is_empty() {
            return Err(LedgerError::MissingFilter);
        }
        let codes = self.find(filter)?;
        let members = self.memberships()?;
        let mut devices: BTreeMap<String, (DeviceEntry, Profile, Option<Zone>)> = BTreeMap::new();
        let mut out = Vec::with_capacity(codes.len());
        for code in codes {
            if !devices.contains_key(&code.device_id) {
                let entry = self.device_entry(&code.device_id)?.ok_or_else(|| {
                    LedgerError::Storage(format!(
                        "code '{}' names device '{}', which the ledger does not hold",
                        code.access_code_id, code.device_id
                    ))
                })?;
                let profile = entry.device.profile()?;
                let zone = entry.device.zone()?;
                devices.insert(code.device_id.clone(), (entry, profile, zone));
            }
            let (entry, profile, zone) = devices
                .get(&code.device_id)
                .ok_or_else(|| LedgerError::Storage("device cache".to_owned()))?;
            let member = members.get(&code.device_id);
            out.push(code.record_with(entry, profile, zone.as_ref(), member, now)?);
        }
        Ok(out)
    }

    /// One code (deleted ones included), its record computed at `now`.
    ///
    /// # Errors
    ///
    /// [`LedgerError::NotFound`]; [`LedgerError::Storage`].
    fn get(&mut self, access_code_id: &str, now: DateTime<Utc>) -> Result<AccessCode, LedgerError> {
        let code = self
            .find_one(access_code_id)?
            .ok_or_else(|| LedgerError::not_found(access_code_id))?;
        let entry = self.device_entry(&code.device_id)?.ok_or_else(|| {
            LedgerError::Storage(format!("device '{}' is missing", code.device_id))
        })?;
        let member = self.membership(&code.device_id)?;
        code.record(&entry, member.as_ref(), now)
    }

    /// Deletes a code. For an ongoing code, returns the revocation PIN of
    /// its slot (stored, so [`Ledger::get`] shows it again) and retires
    /// the slot for good. A time-bound code keeps opening until its window
    /// ends: its record says so. Deleting a deleted code again returns the
    /// same answer.
    ///
    /// # Errors
    ///
    /// [`LedgerError::MasterKeyMismatch`], [`LedgerError::NotFound`],
    /// [`LedgerError::Storage`].
    fn delete(
        &mut self,
        master: &MasterKey,
        access_code_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Deleted, LedgerError> {
        self.check_master_key(master)?;
        let code = self
            .find_one(access_code_id)?
            .ok_or_else(|| LedgerError::not_found(access_code_id))?;
        let entry = self.device_entry(&code.device_id)?.ok_or_else(|| {
            LedgerError::Storage(format!("device '{}' is missing", code.device_id))
        })?;
        let ongoing = code.scope.kind == Kind::Ongoing;
        let revocation = if ongoing && code.revocation_code.is_none() {
            // Under the key that issued it (the group key for a group code).
            let codec = groups::codec_of(&code, &entry.device, master)?;
            if codec.profile().has_kind(Kind::RevokeSlot) {
                let grant = Grant::Revoke(RevokeTarget::Slot(code.number));
                Some(codec.pin_for(&grant)?.as_str().to_owned())
            } else {
                None
            }
        } else {
            code.revocation_code.clone()
        };
        let code =
            self.mark_deleted(access_code_id, truncate_millis(now), revocation.as_deref())?;
        let member = self.membership(&code.device_id)?;
        Ok(Deleted {
            record: code.record(&entry, member.as_ref(), now)?,
            revocation_code: code.revocation_code.clone(),
            revoked_slot: ongoing.then_some(code.number),
        })
    }
}

/// The code `spec` gets on the variance (or slot) `n` of its planned
/// scope `p`, its PIN derived by `codec` (the device's key, or the key of
/// `group`).
fn fresh_code(
    spec: &CodeSpec,
    p: &Prepared,
    n: u32,
    codec: &Codec,
    created_at: DateTime<Utc>,
    group: Option<GroupRef>,
) -> Result<StoredCode, LedgerError> {
    let grant = p
        .scope
        .grant(n)
        .ok_or_else(|| LedgerError::Storage("allocated number".to_owned()))?;
    let pin = codec.pin_for(&grant)?;
    Ok(StoredCode {
        access_code_id: uuid::Uuid::new_v4().to_string(),
        device_id: spec.device_id.clone(),
        scope: p.scope,
        number: n,
        code: pin.as_str().to_owned(),
        issued_window: p.plan.window,
        name: spec.name.clone(),
        user_identifier_key: spec.user_identifier_key.clone(),
        common_code_key: spec.common_code_key.clone(),
        idempotency_key: spec.idempotency_key.clone(),
        created_at,
        deleted_at: None,
        revocation_code: None,
        group,
    })
}

/// A request planned and checked, ready to allocate.
struct Prepared {
    plan: Plan,
    scope: AllocationScope,
    limit: u32,
}

/// Plans `spec` for `device` and refuses dead codes.
fn prepare(
    spec: &CodeSpec,
    device: &Device,
    profile: &Profile,
    now: i64,
) -> Result<Prepared, LedgerError> {
    let req = match spec.want {
        CodeWant::TimeBound { starts_at, ends_at } => {
            Request::time_bound(to_unix(&starts_at), to_unix(&ends_at))
        }
        CodeWant::OneTime { starts_at } => Request::one_time(to_unix(&starts_at)),
        CodeWant::Ongoing => Request::ongoing(0),
    }
    .with_max_rounding_secs(spec.max_rounding_secs)
    .with_zone(device.lock_rule()?)
    .with_lineage(spec.lineage);
    let plan = profile.plan(&req)?;
    let (scope, _) =
        AllocationScope::of(&plan.grant, device.generation).ok_or(LedgerError::Issue(
            IssueError::Grant(offpin::index::GrantError::KindDisabled(plan.grant.kind())),
        ))?;
    if !spec.allow_backfill {
        let d = Deadlines::of(&plan.grant, profile, req.zone);
        if let Some(w) = d.window
            && w.end <= now
        {
            return Err(LedgerError::WindowEnded {
                ends_at: w.end,
                now,
            });
        }
        if let Some(by) = d.first_use_by
            && by <= now
        {
            return Err(LedgerError::ActivationDeadlinePassed {
                deadline: by,
                activation_secs: profile.activation_secs(),
                now,
            });
        }
    }
    let limit = if scope.kind == Kind::Ongoing {
        profile.params().ongoing_slots
    } else {
        u32::from(profile.params().variances)
    };
    Ok(Prepared { plan, scope, limit })
}
