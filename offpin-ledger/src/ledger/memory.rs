//! [`MemoryLedger`]: the ledger in a process's memory (tests, embedding,
//! servers that persist elsewhere).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::api_keys::{ApiKeyRecord, ApiKeyStore};
use super::{
    Allocated, Allocation, DEFAULT_WORKSPACE, DeviceEntry, Fingerprint, Group, Ledger, LedgerError,
    ListFilter, Slot, StorageError, StoredCode, Workspace, lowest_free,
};
use crate::chrono_time::truncate_millis;

/// A ledger held in memory: devices by id, codes in issue order.
/// Atomicity comes from `&mut self` (wrap it in a `Mutex` to share it); a
/// failed batch leaves it as it was.
#[derive(Clone, Debug)]
pub struct MemoryLedger {
    fingerprint: Option<Fingerprint>,
    devices: BTreeMap<String, DeviceEntry>,
    codes: Vec<StoredCode>,
    api_keys: Vec<ApiKeyRecord>,
    groups: BTreeMap<String, Group>,
    workspaces: BTreeMap<String, Workspace>,
}

impl Default for MemoryLedger {
    /// An empty ledger with its [`DEFAULT_WORKSPACE`], created now.
    fn default() -> Self {
        let default = Workspace {
            workspace_id: DEFAULT_WORKSPACE.to_owned(),
            created_at: truncate_millis(Utc::now()),
        };
        MemoryLedger {
            fingerprint: None,
            devices: BTreeMap::new(),
            codes: Vec::new(),
            api_keys: Vec::new(),
            groups: BTreeMap::new(),
            workspaces: BTreeMap::from([(DEFAULT_WORKSPACE.to_owned(), default)]),
        }
    }
}

impl MemoryLedger {
    /// An empty ledger (with its [`DEFAULT_WORKSPACE`]).
    pub fn new() -> Self {
        MemoryLedger::default()
    }

    fn allocate_all(
        &mut self,
        batch: &[Allocation<'_>],
        decide: &mut dyn FnMut(usize, Slot) -> Result<StoredCode, LedgerError>,
    ) -> Result<Vec<Allocated>, LedgerError> {
        let mut out = Vec::with_capacity(batch.len());
        let mut joint: Option<Slot> = None;
        for (i, a) in batch.iter().enumerate() {
            // Idempotency keys are unique per workspace (a code's is its
            // device's).
            let workspace = |d: &str| self.devices.get(d).map(|e| &e.device.workspace_id);
            let existing = a.idempotency_key.and_then(|k| {
                self.codes
                    .iter()
                    .find(|c| {
                        c.idempotency_key.as_deref() == Some(k)
                            && workspace(&c.device_id) == workspace(a.device_id)
                    })
                    .cloned()
            });
            if let Some(code) = existing {
                out.push(Allocated {
                    code: decide(i, Slot::Existing(Box::new(code)))?,
                    created: false,
                });
                continue;
            }
            let slot = if a.joint {
                // One number for the joint set: the lowest free in all
                // of its scopes, found at its first allocation.
                joint
                    .get_or_insert_with(|| {
                        let used = batch.iter().filter(|b| b.joint).flat_map(|b| {
                            self.codes
                                .iter()
                                .filter(move |c| c.device_id == b.device_id && c.scope == b.scope)
                                .map(|c| c.number)
                        });
                        lowest_free(used, a.limit).map_or(Slot::Exhausted, Slot::Free)
                    })
                    .clone()
            } else {
                let used = self
                    .codes
                    .iter()
                    .filter(|c| c.device_id == a.device_id && c.scope == a.scope)
                    .map(|c| c.number);
                lowest_free(used, a.limit).map_or(Slot::Exhausted, Slot::Free)
            };
            let number = match slot {
                Slot::Free(n) => n,
                _ => u32::MAX,
            };
            let mut code = decide(i, slot)?;
            // The storage owns these: what was allocated, for what.
            code.device_id = a.device_id.to_owned();
            code.scope = a.scope;
            code.number = number;
            code.idempotency_key = a.idempotency_key.map(str::to_owned);
            self.codes.push(code.clone());
            out.push(Allocated {
                code,
                created: true,
            });
        }
        Ok(out)
    }
}

impl Ledger for MemoryLedger {
    fn master_fingerprint(&mut self) -> Result<Option<Fingerprint>, LedgerError> {
        Ok(self.fingerprint)
    }

    fn bind_master_fingerprint(
        &mut self,
        fingerprint: Fingerprint,
    ) -> Result<Fingerprint, LedgerError> {
        Ok(*self.fingerprint.get_or_insert(fingerprint))
    }

    fn device_entry(&mut self, device_id: &str) -> Result<Option<DeviceEntry>, LedgerError> {
        Ok(self.devices.get(device_id).cloned())
    }

    fn device_entries(&mut self) -> Result<Vec<DeviceEntry>, LedgerError> {
        Ok(self.devices.values().cloned().collect())
    }

    fn put_device(
        &mut self,
        new: &DeviceEntry,
        expected: Option<&DeviceEntry>,
    ) -> Result<bool, LedgerError> {
        if self.devices.get(&new.device.device_id) != expected {
            return Ok(false);
        }
        self.devices
            .insert(new.device.device_id.clone(), new.clone());
        Ok(true)
    }

    fn allocate(
        &mut self,
        batch: &[Allocation<'_>],
        decide: &mut dyn FnMut(usize, Slot) -> Result<StoredCode, LedgerError>,
    ) -> Result<Vec<Allocated>, LedgerError> {
        let before = self.codes.len();
        let result = self.allocate_all(batch, decide);
        if result.is_err() {
            self.codes.truncate(before);
        }
        result
    }

    fn group_entry(&mut self, group_id: &str) -> Result<Option<Group>, LedgerError> {
        Ok(self.groups.get(group_id).cloned())
    }

    fn group_entries(&mut self) -> Result<Vec<Group>, LedgerError> {
        Ok(self.groups.values().cloned().collect())
    }

    fn put_group(&mut self, new: &Group, expected: Option<&Group>) -> Result<bool, LedgerError> {
        if self.groups.get(&new.group_id) != expected {
            return Ok(false);
        }
        let taken = self.groups.values().any(|g| {
            g.group_id != new.group_id && g.members.iter().any(|m| new.members.contains(m))
        });
        if taken {
            return Ok(false);
        }
        self.groups.insert(new.group_id.clone(), new.clone());
        Ok(true)
    }

    fn workspace_entries(&mut self) -> Result<Vec<Workspace>, LedgerError> {
        Ok(self.workspaces.values().cloned().collect())
    }

    fn put_workspace(&mut self, workspace: &Workspace) -> Result<bool, LedgerError> {
        if self.workspaces.contains_key(&workspace.workspace_id) {
            return Ok(false);
        }
        self.workspaces
            .insert(workspace.workspace_id.clone(), workspace.clone());
        Ok(true)
    }

    fn find(&mut self, filter: &ListFilter) -> Result<Vec<StoredCode>, LedgerError> {
        Ok(self
            .codes
            .iter()
            .filter(|c| filter.matches(c))
            .cloned()
            .collect())
    }

    fn find_one(&mut self, access_code_id: &str) -> Result<Option<StoredCode>, LedgerError> {
        Ok(self
            .codes
            .iter()
            .find(|c| c.access_code_id == access_code_id)
            .cloned())
    }

    fn mark_deleted(
        &mut self,
        access_code_id: &str,
        at: DateTime<Utc>,
        revocation_code: Option<&str>,
    ) -> Result<StoredCode, LedgerError> {
        let code = self
            .codes
            .iter_mut()
            .find(|c| c.access_code_id == access_code_id)
            .ok_or_else(|| LedgerError::not_found(access_code_id))?;
        if code.deleted_at.is_none() {
            code.deleted_at = Some(at);
            code.revocation_code = revocation_code.map(str::to_owned);
        }
        Ok(code.clone())
    }

    fn rename(
        &mut self,
        access_code_id: &str,
        name: Option<&str>,
    ) -> Result<StoredCode, LedgerError> {
        let code = self
            .codes
            .iter_mut()
            .find(|c| c.access_code_id == access_code_id)
            .ok_or_else(|| LedgerError::not_found(access_code_id))?;
        code.name = name.map(str::to_owned);
        Ok(code.clone())
    }
}

impl ApiKeyStore for MemoryLedger {
    fn insert_api_key(&mut self, record: &ApiKeyRecord) -> Result<(), LedgerError> {
        if self.api_keys.iter().any(|k| k.key_id == record.key_id) {
            return Err(StorageError::without_source(format!(
                "API key id {} exists",
                record.key_id
            ))
            .into());
        }
        self.api_keys.push(record.clone());
        Ok(())
    }

    fn api_key(&mut self, key_id: &str) -> Result<Option<ApiKeyRecord>, LedgerError> {
        Ok(self.api_keys.iter().find(|k| k.key_id == key_id).cloned())
    }

    fn api_keys(&mut self) -> Result<Vec<ApiKeyRecord>, LedgerError> {
        Ok(self.api_keys.clone())
    }

    fn revoke_api_keys(&mut self, name: &str, at: DateTime<Utc>) -> Result<usize, LedgerError> {
        let mut n = 0;
        for k in &mut self.api_keys {
            if k.name == name && k.revoked_at.is_none() {
                k.revoked_at = Some(at);
                n += 1;
            }
        }
        Ok(n)
    }
}
