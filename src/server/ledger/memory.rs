//! [`MemoryLedger`]: the ledger in a process's memory (tests, embedding,
//! servers that persist elsewhere).

// The crate is `no_std`; this module is std-only.
use std::format;
use std::prelude::rust_2024::*;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::api_keys::{ApiKeyRecord, ApiKeyStore};
use super::{AllocationKey, Device, Entry, Ledger, LedgerError, ListFilter, lowest_free};
use crate::server::record::AccessCode;

/// A ledger held in memory: devices by id, entries in issue order.
/// Atomicity comes from `&mut self` (wrap it in a `Mutex` to share it).
#[derive(Clone, Debug, Default)]
pub struct MemoryLedger {
    devices: BTreeMap<String, Device>,
    entries: Vec<Entry>,
    api_keys: Vec<ApiKeyRecord>,
}

impl MemoryLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        MemoryLedger::default()
    }

    /// The live (not deleted) entry with this id.
    fn live(&mut self, access_code_id: &str) -> Result<&mut Entry, LedgerError> {
        self.entries
            .iter_mut()
            .find(|e| e.deleted_at.is_none() && e.record.access_code_id == access_code_id)
            .ok_or_else(|| LedgerError::not_found(access_code_id))
    }
}

impl Ledger for MemoryLedger {
    fn add_device(&mut self, device: &Device) -> Result<(), LedgerError> {
        match self.devices.get(&device.device_id) {
            Some(d) if d == device => Ok(()),
            Some(_) => Err(LedgerError::DeviceConflict {
                device_id: device.device_id.clone(),
            }),
            None => {
                self.devices
                    .insert(device.device_id.clone(), device.clone());
                Ok(())
            }
        }
    }

    fn device(&mut self, device_id: &str) -> Result<Device, LedgerError> {
        self.devices
            .get(device_id)
            .cloned()
            .ok_or_else(|| LedgerError::UnknownDevice {
                device_id: device_id.to_owned(),
            })
    }

    fn devices(&mut self) -> Result<Vec<Device>, LedgerError> {
        Ok(self.devices.values().cloned().collect())
    }

    fn allocate(
        &mut self,
        device_id: &str,
        key: &AllocationKey,
        limit: u32,
        build: &mut dyn FnMut(u32) -> Result<Entry, LedgerError>,
    ) -> Result<Option<Entry>, LedgerError> {
        let used = self
            .entries
            .iter()
            .filter(|e| e.record.device_id == device_id && e.key == *key)
            .map(|e| e.number);
        let Some(n) = lowest_free(used, limit) else {
            return Ok(None);
        };
        let entry = build(n)?;
        self.entries.push(entry.clone());
        Ok(Some(entry))
    }

    fn find(&mut self, filter: &ListFilter) -> Result<Vec<Entry>, LedgerError> {
        Ok(self
            .entries
            .iter()
            .filter(|e| filter.matches(e))
            .cloned()
            .collect())
    }

    fn find_one(&mut self, access_code_id: &str) -> Result<Entry, LedgerError> {
        self.live(access_code_id).map(|e| e.clone())
    }

    fn mark_deleted(
        &mut self,
        access_code_id: &str,
        at: DateTime<Utc>,
    ) -> Result<Entry, LedgerError> {
        let entry = self.live(access_code_id)?;
        entry.deleted_at = Some(at);
        Ok(entry.clone())
    }

    fn replace_record(&mut self, record: &AccessCode) -> Result<(), LedgerError> {
        self.live(&record.access_code_id)?.record = record.clone();
        Ok(())
    }
}

impl ApiKeyStore for MemoryLedger {
    fn insert_api_key(&mut self, record: &ApiKeyRecord) -> Result<(), LedgerError> {
        if self.api_keys.iter().any(|k| k.key_id == record.key_id) {
            return Err(LedgerError::Storage(format!(
                "API key id {} exists",
                record.key_id
            )));
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
