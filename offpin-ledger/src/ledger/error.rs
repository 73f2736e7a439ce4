//! Why a ledger operation failed ([`LedgerError`]): one variant per cause
//! a user can act on, its message ([`fmt::Display`], written next to the
//! facts of each family of causes), its stable name
//! ([`LedgerError::code`]) and its source; a storage failure keeps the
//! backend's error ([`StorageError`]).

use core::fmt;

use chrono::{DateTime, Utc};

use super::{Fingerprint, ShareRefusal, SlotHolder, SpentPool, capacity, fingerprint_hex, groups};
use crate::chrono_time::{rfc3339_millis, truncate_millis, unix_rfc3339};
use crate::record::{CodeError, NO_VARIANCE_AVAILABLE};
use crate::zone::ZoneError;
use offpin::issue::IssueError;
use offpin::keys::KeyError;
use offpin::profile::shipped;
use offpin::time::OffsetError;

/// Why a ledger operation failed. [`LedgerError::code`] names each cause
/// for scripts and APIs; [`LedgerError::blame`] (the hosted API's rules,
/// [`hosted`](super::hosted)) says whose it is.
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
    /// A request's kind and times disagree ([`CodeWant::from_times`](super::CodeWant::from_times)).
    TimesDisagree {
        /// What is wrong.
        why: &'static str,
    },
    /// A weekly recurring code's whole weeks would open it outside the
    /// span asked for, or never within it
    /// ([`CodeWant::Recurring`](super::CodeWant::Recurring)).
    RecurrenceOutsideSpan {
        /// The request field to change: `starts_at`, `ends_at` or
        /// `offpin_recurrence`.
        field: &'static str,
        /// What is wrong, and how to fix it.
        why: String,
    },
    /// All variances of the window are in use
    /// (`igloohome_offline_access_code_no_variance_available`): which
    /// window, the codes that hold it, and the nearest window with a free
    /// variance ([`capacity`](super::capacity)).
    NoVarianceAvailable {
        /// The device.
        device_id: String,
        /// Variances per window (`V`).
        variances: u32,
        /// The window, its holders, and the proposal.
        pool: Box<SpentPool>,
    },
    /// All ongoing slots of the device are in use or revoked; a slot never
    /// frees ([`capacity`](super::capacity)).
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
    /// until one is bound explicitly ([`Ledger::adopt_master_key`](super::Ledger::adopt_master_key)).
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
    /// The storage failed (I/O, SQL, a corrupted file, a concurrent
    /// writer): what the ledger was doing, and the backend's error as the
    /// [`source`](std::error::Error::source) of the [`StorageError`].
    Storage(StorageError),
    /// The connection to the database was lost while it committed the
    /// codes, and the database could not be asked, in the time the ledger
    /// gives it, whether it did: they may or may not be stored. The same
    /// request with the same idempotency key returns them if they were
    /// (and issues them if not); each can be looked up by its id.
    OutcomeUnknown {
        /// The ids the codes have if they were stored.
        access_code_ids: Vec<String>,
        /// The loss, and why the outcome could not be learned.
        source: StorageError,
    },
    /// A state the ledger never reaches unless it has a bug (a number it
    /// allocated that names no grant, a batch that returned nothing):
    /// nothing the caller or the storage can fix.
    Invariant {
        /// What did not hold.
        what: String,
    },
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
        /// with a variance free on all of them ([`capacity`](super::capacity)).
        pool: Box<SpentPool>,
    },
    /// No workspace with this id ([`workspaces`](super::workspaces)).
    UnknownWorkspace {
        /// The id asked for.
        workspace_id: String,
    },
    /// A workspace id must be 1 to 64 bytes of ASCII letters, digits, `-`,
    /// `_` and `.`.
    InvalidWorkspaceId {
        /// The id given.
        workspace_id: String,
    },
    /// A device or group belongs to another workspace than the one the
    /// operation acts in: a workspace's devices, groups and keys never
    /// mix, and a device id held by one workspace (even removed) is not
    /// registered in another.
    WorkspaceMismatch {
        /// `device` or `group`.
        what: &'static str,
        /// Its id.
        id: String,
        /// The workspace it belongs to.
        belongs_to: String,
        /// The workspace of the operation.
        wanted: String,
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
            LedgerError::RecurrenceOutsideSpan { .. } => "recurrence_outside_span",
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
            LedgerError::Invariant { .. } => "internal_error",
            LedgerError::NotALedger { .. } => "not_a_ledger",
            LedgerError::NeedsUpgrade { .. } => "ledger_needs_upgrade",
            LedgerError::NeedsRecovery { .. } => "ledger_needs_recovery",
            LedgerError::Unwritable { .. } => "ledger_not_writable",
            LedgerError::OutcomeUnknown { .. } => "outcome_unknown",
            LedgerError::UnknownGroup { .. } => "unknown_group",
            LedgerError::InvalidGroupId { .. } => "invalid_group_id",
            LedgerError::GroupConflict { .. } => "group_conflict",
            LedgerError::DeviceInAnotherGroup { .. } => "device_in_another_group",
            LedgerError::NotAMember { .. } => "not_a_group_member",
            LedgerError::GroupProfileMismatch { .. } => "group_profile_mismatch",
            LedgerError::CannotShare(_) => "code_cannot_be_shared",
            LedgerError::NoSharedVariance { .. } => NO_VARIANCE_AVAILABLE,
            LedgerError::UnknownWorkspace { .. } => "unknown_workspace",
            LedgerError::InvalidWorkspaceId { .. } => "invalid_workspace_id",
            LedgerError::WorkspaceMismatch { .. } => "workspace_mismatch",
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
                    | LedgerError::RecurrenceOutsideSpan { .. }
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
            LedgerError::UnknownDevice { .. }
            | LedgerError::DeviceRemoved { .. }
            | LedgerError::DeviceConflict { .. }
            | LedgerError::NoChange { .. }
            | LedgerError::GenerationNotHigher { .. }
            | LedgerError::UnknownProfile { .. } => self.fmt_device(f),
            LedgerError::NotFound { .. }
            | LedgerError::MissingFilter
            | LedgerError::TimesDisagree { .. }
            | LedgerError::RecurrenceOutsideSpan { .. }
            | LedgerError::WindowEnded { .. }
            | LedgerError::ActivationDeadlinePassed { .. }
            | LedgerError::IdempotencyConflict { .. } => self.fmt_request(f),
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
            LedgerError::MasterKeyMismatch { .. }
            | LedgerError::KeyDoesNotDerive { .. }
            | LedgerError::MasterKeyUnbound { .. } => self.fmt_master_key(f),
            LedgerError::NotALedger { .. }
            | LedgerError::NeedsUpgrade { .. }
            | LedgerError::NeedsRecovery { .. }
            | LedgerError::Unwritable { .. }
            | LedgerError::Storage(_)
            | LedgerError::OutcomeUnknown { .. } => self.fmt_storage(f),
            LedgerError::Invariant { what } => write!(
                f,
                "internal error: {what} (a bug of offpin; please report it)"
            ),
            LedgerError::InBatch { index, source } => {
                write!(f, "request {}: {source}", index.saturating_add(1))
            }
            LedgerError::Zone(e) => fmt::Display::fmt(e, f),
            LedgerError::Issue(IssueError::RoundingTooLarge {
                needed_secs,
                allowed_secs,
            }) => f.write_str(&rounding_message(*needed_secs, *allowed_secs)),
            LedgerError::Issue(e) => fmt::Display::fmt(e, f),
            LedgerError::Key(e) => fmt::Display::fmt(e, f),
            LedgerError::Offset(e) => fmt::Display::fmt(e, f),
            LedgerError::UnknownGroup { .. }
            | LedgerError::InvalidGroupId { .. }
            | LedgerError::GroupConflict { .. }
            | LedgerError::DeviceInAnotherGroup { .. }
            | LedgerError::NotAMember { .. }
            | LedgerError::GroupProfileMismatch { .. }
            | LedgerError::CannotShare(_)
            | LedgerError::NoSharedVariance { .. } => groups::fmt_error(self, f),
            LedgerError::UnknownWorkspace { workspace_id } => write!(
                f,
                "unknown workspace '{workspace_id}' (create it with `offpin workspace create`)"
            ),
            LedgerError::InvalidWorkspaceId { workspace_id } => write!(
                f,
                "invalid workspace id '{workspace_id}': 1 to 64 bytes of ASCII letters, digits, '-', '_' and '.'"
            ),
            LedgerError::WorkspaceMismatch {
                what,
                id,
                belongs_to,
                wanted,
            } => write!(
                f,
                "{what} '{id}' belongs to workspace '{belongs_to}', not '{wanted}': a workspace's devices, groups and keys never mix"
            ),
        }
    }
}

/// The messages, one helper per family of causes; each is called for its
/// family only (another variant prints its [`LedgerError::code`]).
impl LedgerError {
    /// A device, its settings or its profile.
    fn fmt_device(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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
            _ => f.write_str(self.code()),
        }
    }

    /// A request (or a code it names) the ledger refuses.
    fn fmt_request(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LedgerError::NotFound { access_code_id } => {
                write!(f, "access code '{access_code_id}' not found")
            }
            LedgerError::MissingFilter => {
                f.write_str("list needs at least a device_id or access_code_ids")
            }
            LedgerError::TimesDisagree { why } => f.write_str(why),
            LedgerError::RecurrenceOutsideSpan { why, .. } => f.write_str(why),
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
            _ => f.write_str(self.code()),
        }
    }

    /// The master key the ledger is bound to.
    fn fmt_master_key(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
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
            _ => f.write_str(self.code()),
        }
    }

    /// The ledger's file or database.
    fn fmt_storage(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
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
            LedgerError::OutcomeUnknown {
                access_code_ids,
                source,
            } => write!(
                f,
                "whether access code {} was stored is unknown: {source}; the same request with the same idempotency key returns it if it was",
                access_code_ids.join(", ")
            ),
            _ => f.write_str(self.code()),
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
            LedgerError::Storage(e) | LedgerError::OutcomeUnknown { source: e, .. } => Some(e),
            _ => None,
        }
    }
}

impl From<StorageError> for LedgerError {
    fn from(e: StorageError) -> Self {
        LedgerError::Storage(e)
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

impl LedgerError {
    /// [`LedgerError::Invariant`]: `what` did not hold.
    pub(crate) fn invariant(what: impl Into<String>) -> Self {
        LedgerError::Invariant { what: what.into() }
    }
}

/// The backend's error, kept as the [`source`](std::error::Error::source)
/// of a [`StorageError`].
pub type BackendError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why the storage failed ([`LedgerError::Storage`]): what the ledger was
/// doing, and where (`/var/lib/offpin/ledger.db`, the PostgreSQL database),
/// and the backend's error (a `rusqlite::Error`, a `postgres::Error`, an
/// [`std::io::Error`]) as its [`source`](std::error::Error::source), for a
/// caller to inspect or downcast. Its message includes the backend's, as
/// the other causes of [`LedgerError`] include theirs, so one line says
/// all. Stored data the ledger cannot read (a corrupted row) and a change
/// a concurrent writer made first have no backend error.
///
/// # Examples
///
/// ```
/// use offpin_ledger::ledger::StorageError;
/// let io = std::io::Error::other("disk full");
/// let e = StorageError::new("cannot create ledger.db", io);
/// assert_eq!(e.to_string(), "cannot create ledger.db: disk full");
/// let source = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<std::io::Error>());
/// assert_eq!(source.map(|s| s.to_string()).as_deref(), Some("disk full"));
/// // A cause the backend's message leaves out is named too.
/// #[derive(Debug)]
/// struct Connect(std::io::Error);
/// impl std::fmt::Display for Connect {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///         f.write_str("error connecting to server")
///     }
/// }
/// impl std::error::Error for Connect {
///     fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
///         Some(&self.0)
///     }
/// }
/// let refused = std::io::Error::other("Connection refused");
/// let e = StorageError::new("cannot open the ledger", Connect(refused));
/// assert_eq!(
///     e.to_string(),
///     "cannot open the ledger: error connecting to server: Connection refused"
/// );
/// ```
#[derive(Debug)]
pub struct StorageError {
    /// What failed, where, and why.
    message: String,
    /// The backend's error.
    source: Option<BackendError>,
}

impl StorageError {
    /// The backend failed while the ledger was doing `context`: the
    /// message is `context: the backend's message`, followed by the
    /// causes the backend's own message leaves out (PostgreSQL's "error
    /// connecting to server" does not say "Connection refused"; its
    /// source does).
    pub fn new(context: impl fmt::Display, source: impl Into<BackendError>) -> Self {
        let source = source.into();
        let mut message = format!("{context}: {source}");
        let mut cause = std::error::Error::source(source.as_ref());
        while let Some(c) = cause {
            let text = c.to_string();
            if !message.contains(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            cause = c.source();
        }
        StorageError {
            message,
            source: Some(source),
        }
    }

    /// The backend failed, and `message` says it all (in the backend's
    /// plainer words, or the ledger's own).
    pub fn described(message: impl Into<String>, source: impl Into<BackendError>) -> Self {
        StorageError {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// A failure without a backend error (stored data the ledger cannot
    /// read, a change a concurrent writer made first).
    pub fn without_source(message: impl Into<String>) -> Self {
        StorageError {
            message: message.into(),
            source: None,
        }
    }
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StorageError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// A window that needs more rounding than the request allows, in the
/// request's terms: the field a client sends (`max_time_rounding`, the
/// command's `--max-time-rounding`) and the value that fixes it.
fn rounding_message(needed_secs: i64, allowed_secs: u32) -> String {
    let human = |secs: i64| match (secs / 3_600, secs % 3_600 / 60, secs % 60) {
        (h, 0, 0) => format!("{h} h"),
        (0, m, 0) => format!("{m} min"),
        (h, m, 0) => format!("{h} h {m} min"),
        _ => format!("{secs} s"),
    };
    let fix = if needed_secs <= 3_600 && allowed_secs < 3_600 {
        "send max_time_rounding: \"1h\" (the lock counts this window in whole hours), or start and end it on whole hours"
    } else if needed_secs <= 86_400 && allowed_secs < 86_400 {
        "send max_time_rounding: \"1d\" (a window this long is encoded in the lock's days, from its local midnight to local midnight), or start and end the window at the lock's local midnight"
    } else {
        "start and end the window on whole hours (or, for a window encoded in days, at the lock's local midnight)"
    };
    format!(
        "the lock cannot encode this window as given: fitting it to the lock's units moves an end by {}, but max_time_rounding allows {} (\"1h\" when not sent); {fix}",
        human(needed_secs),
        human(i64::from(allowed_secs))
    )
}
