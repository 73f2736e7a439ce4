//! Workspaces: the tenants of one ledger, as the hosted API scopes its
//! keys, devices and codes.
//!
//! A **workspace** has an id (1 to [`MAX_WORKSPACE_ID_LEN`] bytes of
//! ASCII letters, digits, `-`, `_` and `.`) and owns:
//!
//! - **devices** ([`Device::workspace_id`]), set when a device is
//!   registered and never changed: registering a device id that another
//!   workspace holds, even removed, is refused
//!   ([`LedgerError::WorkspaceMismatch`]), or its codes would change
//!   hands;
//! - through them, their **codes** (a code is its device's);
//! - **groups** ([`Group::workspace_id`]), whose members are devices of
//!   the same workspace ([`Ledger::add_to_group`] refuses another's);
//! - **API keys** ([`ApiKeyRecord::workspace_id`](super::api_keys::ApiKeyRecord::workspace_id)), created in an
//!   existing workspace ([`create_api_key`]).
//!
//! Every ledger holds the workspace [`DEFAULT_WORKSPACE`]; a ledger
//! written before workspaces is migrated with all its devices, groups and
//! API keys in it, and the operations that name no workspace act in it.
//!
//! # One workspace's view
//!
//! [`Scoped`] is a [`Ledger`] over another that sees one workspace only:
//! its storage methods answer for another workspace's device, code or
//! group exactly as for one that does not exist (`None`, left out of
//! lists, [`LedgerError::NotFound`]), and so every provided method
//! (issue, batches, groups, list, get, delete, the hosted API's
//! [`HostedApi`](super::hosted::HostedApi)) refuses it with the error a
//! missing one gets, in the same words: a client learns nothing of what
//! other workspaces hold, and cannot spend another workspace's variances
//! or ongoing slots. Its pages ([`Ledger::list_page`]) are read with the
//! workspace in the page query ([`Ledger::find_page_in`], in SQL on the
//! SQL backends), so a page is never cut short by, nor shows, another
//! workspace's codes; and an idempotency key is unique per workspace (a
//! code's workspace is its device's): another workspace sending the same
//! key gets a code of its own. `offpin serve` hands every request the
//! view of its key's workspace, and binds its page cursors to it
//! ([`PageKey::cursor_in`](super::PageKey::cursor_in)).
//!
//! # Examples
//!
//! ```
//! use chrono::Utc;
//! use offpin::MasterKey;
//! use offpin_ledger::ledger::{CodeSpec, Device, Ledger, LedgerError, Scoped, memory::MemoryLedger};
//!
//! let master = MasterKey::from_bytes([7; 32]);
//! let mut ledger = MemoryLedger::new();
//! ledger.create_workspace("acme", Utc::now())?;
//! ledger.add_device(&master, &Device::new("acme-door", "standard-10").in_workspace("acme"))?;
//! let mut other = Scoped::new(&mut ledger, "default");
//! let e = other.issue(&master, &CodeSpec::ongoing("acme-door"), Utc::now()).unwrap_err();
//! assert!(matches!(e, LedgerError::UnknownDevice { .. }));
//! assert_eq!(e.to_string(), "unknown device 'acme-door'");
//! let mut acme = Scoped::new(&mut ledger, "acme");
//! assert!(acme.issue(&master, &CodeSpec::ongoing("acme-door"), Utc::now()).is_ok());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::api_keys::{ApiKey, ApiKeyError, ApiKeyStore, Capabilities, RANDOM_BYTES};
use super::{
    Allocated, Allocation, Device, DeviceEntry, Fingerprint, Group, Ledger, LedgerError,
    ListFilter, PageKey, Slot, StoredCode,
};
use crate::chrono_time::truncate_millis;
use offpin::keys::MasterKey;

/// The workspace every ledger holds, and where the operations that name
/// none act (and where a ledger written before workspaces put everything).
pub const DEFAULT_WORKSPACE: &str = "default";

/// Longest workspace id, in bytes.
pub const MAX_WORKSPACE_ID_LEN: usize = 64;

/// A workspace, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Workspace {
    /// Its id.
    pub workspace_id: String,
    /// When it was created (for [`DEFAULT_WORKSPACE`], when the ledger
    /// was created or migrated).
    pub created_at: DateTime<Utc>,
}

/// Checks a workspace id: 1 to [`MAX_WORKSPACE_ID_LEN`] bytes of ASCII
/// letters, digits, `-`, `_` and `.` (it appears in URLs, logs and shell
/// commands unquoted).
///
/// # Errors
///
/// [`LedgerError::InvalidWorkspaceId`].
///
/// ```
/// use offpin_ledger::ledger::workspaces::validate_id;
/// assert!(validate_id("acme-prod.eu_1").is_ok());
/// assert!(validate_id("").is_err());
/// assert!(validate_id("a b").is_err());
/// assert!(validate_id(&"x".repeat(65)).is_err());
/// ```
pub fn validate_id(workspace_id: &str) -> Result<(), LedgerError> {
    let ok = (1..=MAX_WORKSPACE_ID_LEN).contains(&workspace_id.len())
        && workspace_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(LedgerError::InvalidWorkspaceId {
            workspace_id: workspace_id.to_owned(),
        })
    }
}

/// [`Ledger::create_workspace`].
pub(super) fn create<L: Ledger + ?Sized>(
    l: &mut L,
    workspace_id: &str,
    now: DateTime<Utc>,
) -> Result<(Workspace, bool), LedgerError> {
    validate_id(workspace_id)?;
    let new = Workspace {
        workspace_id: workspace_id.to_owned(),
        created_at: truncate_millis(now),
    };
    let created = l.put_workspace(&new)?;
    Ok((l.workspace(workspace_id)?, created))
}

/// [`LedgerError::WorkspaceMismatch`]: the `what` (`device` or `group`)
/// `id` belongs to `belongs_to`, not `wanted`.
pub(super) fn mismatch(
    what: &'static str,
    id: &str,
    belongs_to: &str,
    wanted: &str,
) -> LedgerError {
    LedgerError::WorkspaceMismatch {
        what,
        id: id.to_owned(),
        belongs_to: belongs_to.to_owned(),
        wanted: wanted.to_owned(),
    }
}

/// Creates an API key named `name` in the workspace `workspace_id`, with
/// `capabilities` ([`ApiKeyStore::create_api_key_in`]); the workspace
/// must exist.
///
/// # Errors
///
/// [`ApiKeyError::Ledger`] with [`LedgerError::UnknownWorkspace`]; those
/// of [`ApiKeyStore::create_api_key_in`].
pub fn create_api_key<S: Ledger + ApiKeyStore + ?Sized>(
    store: &mut S,
    name: &str,
    workspace_id: &str,
    capabilities: Capabilities,
    random: &[u8; RANDOM_BYTES],
    now: DateTime<Utc>,
) -> Result<ApiKey, ApiKeyError> {
    store.workspace(workspace_id)?;
    store.create_api_key_in(name, workspace_id, capabilities, random, now)
}

/// A ledger that sees one workspace of another (see the module
/// documentation): another workspace's devices, codes and groups do not
/// exist for it. The master key, shared by every workspace, is checked
/// against the whole ledger.
pub struct Scoped<'l, L: Ledger + ?Sized> {
    ledger: &'l mut L,
    workspace_id: String,
    /// Whether each device read so far is the workspace's.
    owned: BTreeMap<String, bool>,
}

impl<'l, L: Ledger + ?Sized> Scoped<'l, L> {
    /// The view of `workspace_id` over `ledger` (a workspace that does not
    /// exist owns nothing: everything is missing to it).
    pub fn new(ledger: &'l mut L, workspace_id: &str) -> Self {
        Scoped {
            ledger,
            workspace_id: workspace_id.to_owned(),
            owned: BTreeMap::new(),
        }
    }

    /// The workspace it sees.
    pub fn workspace_id(&self) -> &str {
        &self.workspace_id
    }

    /// Whether `device_id` is a device of the workspace (read once per
    /// view: a device never changes workspace).
    fn owns(&mut self, device_id: &str) -> Result<bool, LedgerError> {
        if let Some(owned) = self.owned.get(device_id) {
            return Ok(*owned);
        }
        let owned = self
            .ledger
            .device_entry(device_id)?
            .is_some_and(|e| e.device.workspace_id == self.workspace_id);
        self.owned.insert(device_id.to_owned(), owned);
        Ok(owned)
    }

    fn mine(&self, device: &Device) -> bool {
        device.workspace_id == self.workspace_id
    }

    /// The code `access_code_id` if it is the workspace's.
    fn own_code(&mut self, access_code_id: &str) -> Result<Option<StoredCode>, LedgerError> {
        match self.ledger.find_one(access_code_id)? {
            Some(c) if self.owns(&c.device_id)? => Ok(Some(c)),
            _ => Ok(None),
        }
    }
}

impl<L: Ledger + ?Sized> core::fmt::Debug for Scoped<'_, L> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Scoped")
            .field("workspace_id", &self.workspace_id)
            .finish_non_exhaustive()
    }
}

impl<L: Ledger + ?Sized> Ledger for Scoped<'_, L> {
    fn master_fingerprint(&mut self) -> Result<Option<Fingerprint>, LedgerError> {
        self.ledger.master_fingerprint()
    }

    fn bind_master_fingerprint(
        &mut self,
        fingerprint: Fingerprint,
    ) -> Result<Fingerprint, LedgerError> {
        self.ledger.bind_master_fingerprint(fingerprint)
    }

    fn device_entry(&mut self, device_id: &str) -> Result<Option<DeviceEntry>, LedgerError> {
        let entry = self.ledger.device_entry(device_id)?;
        Ok(entry.filter(|e| self.mine(&e.device)))
    }

    fn device_entries(&mut self) -> Result<Vec<DeviceEntry>, LedgerError> {
        let mut entries = self.ledger.device_entries()?;
        entries.retain(|e| self.mine(&e.device));
        Ok(entries)
    }

    /// Stores a device of this workspace only. A device id another
    /// workspace holds is refused rather than reported as not stored
    /// ([`Ledger::add_device`] would retry forever): this reveals it, to
    /// the operator that registers devices; no client of `offpin serve`
    /// registers one.
    fn put_device(
        &mut self,
        new: &DeviceEntry,
        expected: Option<&DeviceEntry>,
    ) -> Result<bool, LedgerError> {
        let d = &new.device;
        if !self.mine(d) {
            return Err(mismatch(
                "device",
                &d.device_id,
                &d.workspace_id,
                &self.workspace_id,
            ));
        }
        if expected.is_none()
            && let Some(other) = self.ledger.device_entry(&d.device_id)?
            && !self.mine(&other.device)
        {
            return Err(mismatch(
                "device",
                &d.device_id,
                &other.device.workspace_id,
                &self.workspace_id,
            ));
        }
        self.owned.remove(&d.device_id);
        self.ledger.put_device(new, expected)
    }

    /// Allocates as the ledger does. Every provided method that allocates
    /// first reads each device through [`Scoped::device_entry`], and a
    /// device never changes workspace, so no allocation names another
    /// workspace's device.
    fn allocate(
        &mut self,
        batch: &[Allocation<'_>],
        decide: &mut dyn FnMut(usize, Slot) -> Result<StoredCode, LedgerError>,
    ) -> Result<Vec<Allocated>, LedgerError> {
        self.ledger.allocate(batch, decide)
    }

    fn find(&mut self, filter: &ListFilter) -> Result<Vec<StoredCode>, LedgerError> {
        if let Some(d) = &filter.device_id
            && !self.owns(d)?
        {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for code in self.ledger.find(filter)? {
            if self.owns(&code.device_id)? {
                out.push(code);
            }
        }
        Ok(out)
    }

    /// Reads the page in the ledger's query, the workspace in it
    /// ([`Ledger::find_page_in`]).
    fn find_page(
        &mut self,
        filter: &ListFilter,
        after: Option<&PageKey>,
        ended_before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<StoredCode>, LedgerError> {
        let workspace_id = self.workspace_id.clone();
        self.ledger
            .find_page_in(&workspace_id, filter, after, ended_before, limit)
    }

    /// Another workspace's page is empty.
    fn find_page_in(
        &mut self,
        workspace_id: &str,
        filter: &ListFilter,
        after: Option<&PageKey>,
        ended_before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<StoredCode>, LedgerError> {
        if workspace_id != self.workspace_id {
            return Ok(Vec::new());
        }
        self.find_page(filter, after, ended_before, limit)
    }

    fn find_one(&mut self, access_code_id: &str) -> Result<Option<StoredCode>, LedgerError> {
        self.own_code(access_code_id)
    }

    fn mark_deleted(
        &mut self,
        access_code_id: &str,
        at: DateTime<Utc>,
        revocation_code: Option<&str>,
    ) -> Result<StoredCode, LedgerError> {
        if self.own_code(access_code_id)?.is_none() {
            return Err(LedgerError::not_found(access_code_id));
        }
        self.ledger
            .mark_deleted(access_code_id, at, revocation_code)
    }

    fn rename(
        &mut self,
        access_code_id: &str,
        name: Option<&str>,
    ) -> Result<StoredCode, LedgerError> {
        if self.own_code(access_code_id)?.is_none() {
            return Err(LedgerError::not_found(access_code_id));
        }
        self.ledger.rename(access_code_id, name)
    }

    fn group_entry(&mut self, group_id: &str) -> Result<Option<Group>, LedgerError> {
        let group = self.ledger.group_entry(group_id)?;
        Ok(group.filter(|g| g.workspace_id == self.workspace_id))
    }

    fn group_entries(&mut self) -> Result<Vec<Group>, LedgerError> {
        let mut groups = self.ledger.group_entries()?;
        groups.retain(|g| g.workspace_id == self.workspace_id);
        Ok(groups)
    }

    /// Stores a group of this workspace only; a group id another
    /// workspace holds is refused (as [`Scoped::put_device`] explains).
    fn put_group(&mut self, new: &Group, expected: Option<&Group>) -> Result<bool, LedgerError> {
        if new.workspace_id != self.workspace_id {
            return Err(mismatch(
                "group",
                &new.group_id,
                &new.workspace_id,
                &self.workspace_id,
            ));
        }
        if expected.is_none()
            && let Some(other) = self.ledger.group_entry(&new.group_id)?
            && other.workspace_id != self.workspace_id
        {
            return Err(mismatch(
                "group",
                &new.group_id,
                &other.workspace_id,
                &self.workspace_id,
            ));
        }
        self.ledger.put_group(new, expected)
    }

    /// This workspace only, if it exists.
    fn workspace_entries(&mut self) -> Result<Vec<Workspace>, LedgerError> {
        let mut all = self.ledger.workspace_entries()?;
        all.retain(|w| w.workspace_id == self.workspace_id);
        Ok(all)
    }

    /// Creates this workspace only.
    fn put_workspace(&mut self, workspace: &Workspace) -> Result<bool, LedgerError> {
        if workspace.workspace_id != self.workspace_id {
            return Err(LedgerError::UnknownWorkspace {
                workspace_id: workspace.workspace_id.clone(),
            });
        }
        self.ledger.put_workspace(workspace)
    }

    fn check_master_key(&mut self, master: &MasterKey) -> Result<(), LedgerError> {
        self.ledger.check_master_key(master)
    }

    fn verify_master_key(&mut self, master: &MasterKey) -> Result<(), LedgerError> {
        self.ledger.verify_master_key(master)
    }

    fn adopt_master_key(&mut self, master: &MasterKey) -> Result<(), LedgerError> {
        self.ledger.adopt_master_key(master)
    }
}
