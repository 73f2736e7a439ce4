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
//! **Workspaces** ([`workspaces`]): every device, group and API key
//! belongs to one workspace (a tenant); [`Scoped`] is a ledger that sees
//! one workspace only, so another workspace's device or code is, to it,
//! one that does not exist. The storage keeps workspaces with two more
//! methods ([`Ledger::workspace_entries`], [`Ledger::put_workspace`]).
//!
//! # Where it is written
//!
//! This module holds the trait; each provided method is a call into the
//! module that holds its logic, and the types are re-exported here:
//!
//! - `spec`: what is asked ([`CodeWant`], [`CodeSpec`], [`ListFilter`]);
//! - `device`: the locks ([`Device`], [`DeviceEntry`]) and their
//!   lifecycle ([`DeviceChange`], [`DeviceUpdated`]);
//! - `stored`: what is stored ([`StoredCode`], [`AllocationScope`],
//!   [`lowest_free`]) and the storage's side of an allocation
//!   ([`Allocation`], [`Slot`], [`Allocated`]);
//! - `issuing`: planning, checking and allocating a batch
//!   ([`IssueOutcome`]); `records`: listing, reading and deleting codes
//!   ([`Deleted`]); `binding`: the master key;
//! - `error`: [`LedgerError`], its messages and names;
//! - [`capacity`] (spent windows and slots), [`spendable`] (what a
//!   device has left), [`groups`], [`workspaces`], [`hosted`], and
//!   the backends [`memory`], `sqlite`, `postgres`.
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
//! A time-bound or one-time request is planned first ([`Profile::plan`](offpin::profile::Profile::plan));
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
//! Deleted codes stay listed; [`Ledger::list_page`] reads them a page at a
//! time and leaves out those dead for longer than a retention ([`pages`]).
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
mod device;
mod error;
pub mod groups;
pub mod hosted;
mod issuing;
pub mod memory;
pub mod pages;
#[cfg(feature = "postgres")]
pub mod postgres;
mod records;
mod recurrence;
mod spec;
pub mod spendable;
#[cfg(feature = "sqlite")]
pub mod sqlite;
mod stored;
pub mod workspaces;

use chrono::{DateTime, Utc};

use crate::record::AccessCode;
use offpin::keys::{DeviceKey, MasterKey};

pub use capacity::{PROPOSAL_SHIFTS, Proposal, SlotHolder, SpentPool};
pub use device::{Affected, Consequence, Device, DeviceChange, DeviceEntry, DeviceUpdated};
pub use error::{BackendError, LedgerError, StorageError};
pub use groups::{
    Group, GroupRef, GroupRemoval, NOT_SHARED, ShareRefusal, SharedIssue, SharedSpec, WhenNotShared,
};
pub use issuing::IssueOutcome;
use issuing::{Prepared, fresh_code, prepare};
pub use pages::{CursorError, DeviceFilter, DevicePage, Page, PageKey, PageRequest};
pub use records::Deleted;
pub use spec::{CodeSpec, CodeWant, ListFilter};
pub use stored::{Allocated, Allocation, AllocationScope, Slot, StoredCode, lowest_free};
pub use workspaces::{DEFAULT_WORKSPACE, Scoped, Workspace};

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

/// A store of issued codes. Implement the required methods on your own
/// database (ten, three for groups, two for workspaces); the provided methods (issuing, batches, listing,
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

    /// At most `limit` stored codes (deleted ones included) that match
    /// `filter`, ordered by `(created_at, access_code_id)`, after `after`
    /// (exclusive), leaving out codes whose issued window ended before
    /// `ended_before` (Unix seconds; ongoing codes are always kept). The
    /// page reader of [`Ledger::list_page`]; the default sorts
    /// [`Ledger::find`]'s codes, the SQL backends read the page with a
    /// keyset and `LIMIT` ([`pages`]).
    ///
    /// # Errors
    ///
    /// [`LedgerError::Storage`].
    fn find_page(
        &mut self,
        filter: &ListFilter,
        after: Option<&PageKey>,
        ended_before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<StoredCode>, LedgerError> {
        pages::find_page_default(self, filter, after, ended_before, limit)
    }

    /// [`Ledger::find_page`] of the codes of one workspace's devices
    /// ([`workspaces`]): what a [`Scoped`] view reads its pages with, so a
    /// page never holds, or stops short for, another workspace's codes.
    /// The default keeps [`Ledger::find`]'s codes whose device is the
    /// workspace's; the SQL backends put the workspace in the page
    /// query's `WHERE`.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Storage`].
    fn find_page_in(
        &mut self,
        workspace_id: &str,
        filter: &ListFilter,
        after: Option<&PageKey>,
        ended_before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<StoredCode>, LedgerError> {
        pages::find_page_in_default(self, workspace_id, filter, after, ended_before, limit)
    }

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

    /// Every workspace, ordered by id ([`workspaces`]).
    ///
    /// # Errors
    ///
    /// [`LedgerError::Storage`].
    fn workspace_entries(&mut self) -> Result<Vec<Workspace>, LedgerError>;

    /// Stores `workspace` unless one with its id exists, atomically;
    /// returns whether it did.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Storage`], [`LedgerError::Unwritable`].
    fn put_workspace(&mut self, workspace: &Workspace) -> Result<bool, LedgerError>;

    /// A workspace.
    ///
    /// # Errors
    ///
    /// [`LedgerError::UnknownWorkspace`]; [`LedgerError::Storage`].
    fn workspace(&mut self, workspace_id: &str) -> Result<Workspace, LedgerError> {
        self.workspace_entries()?
            .into_iter()
            .find(|w| w.workspace_id == workspace_id)
            .ok_or_else(|| LedgerError::UnknownWorkspace {
                workspace_id: workspace_id.to_owned(),
            })
    }

    /// Creates a workspace (a no-op if it exists); returns it and whether
    /// it was created.
    ///
    /// # Errors
    ///
    /// [`LedgerError::InvalidWorkspaceId`]; [`LedgerError::Storage`].
    fn create_workspace(
        &mut self,
        workspace_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(Workspace, bool), LedgerError> {
        workspaces::create(self, workspace_id, now)
    }

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
        self.create_group_in(master, workspaces::DEFAULT_WORKSPACE, group_id, profile)
    }

    /// [`Ledger::create_group`] in a workspace: the group's members must
    /// be devices of that workspace. Creating a group whose id another
    /// workspace holds is refused.
    ///
    /// # Errors
    ///
    /// Those of [`Ledger::create_group`]; [`LedgerError::UnknownWorkspace`],
    /// [`LedgerError::WorkspaceMismatch`].
    fn create_group_in(
        &mut self,
        master: &MasterKey,
        workspace_id: &str,
        group_id: &str,
        profile: &str,
    ) -> Result<Group, LedgerError> {
        groups::create(
            self,
            master,
            &Group::new(group_id, profile).in_workspace(workspace_id),
        )
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
        device::add(self, master, device)
    }

    /// A registered (not removed) device.
    ///
    /// # Errors
    ///
    /// [`LedgerError::UnknownDevice`], [`LedgerError::DeviceRemoved`];
    /// [`LedgerError::Storage`].
    fn device(&mut self, device_id: &str) -> Result<Device, LedgerError> {
        device::live(self, device_id)
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

    /// One page of [`Ledger::devices`]: those `filter` lets through, by
    /// id, after the device `after`, at most `limit`; `next` is the id to
    /// continue after when more follow.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Storage`].
    fn device_page(
        &mut self,
        filter: &DeviceFilter,
        after: Option<&str>,
        limit: Option<usize>,
    ) -> Result<DevicePage, LedgerError> {
        pages::device_page(self, filter, after, limit)
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
        device::update(self, master, device_id, change, now)
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
        device::remove(self, device_id, now)
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
        issuing::issue(self, master, spec, now)
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
        issuing::issue_batch(self, master, specs, now)
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
        records::list(self, filter, now)
    }

    /// One page of [`Ledger::list`]: codes ordered by `(created_at,
    /// access_code_id)`, at most `page.limit`, after `page.after`, without
    /// those dead for longer than `page.retention` ([`pages`]); `next` is
    /// the key to continue from when more follow.
    ///
    /// # Errors
    ///
    /// As [`Ledger::list`].
    fn list_page(
        &mut self,
        filter: &ListFilter,
        page: &PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page, LedgerError> {
        pages::list_page(self, filter, page, now)
    }

    /// One code (deleted ones included), its record computed at `now`.
    ///
    /// # Errors
    ///
    /// [`LedgerError::NotFound`]; [`LedgerError::Storage`].
    fn get(&mut self, access_code_id: &str, now: DateTime<Utc>) -> Result<AccessCode, LedgerError> {
        records::get(self, access_code_id, now)
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
        records::delete(self, master, access_code_id, now)
    }
}
