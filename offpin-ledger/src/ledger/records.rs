//! Reading codes back ([`Ledger::list`], [`Ledger::get`]): their records
//! computed at the time given from the stored facts and the device as it
//! is configured then; and deleting them ([`Ledger::delete`]), which
//! yields an ongoing code's revocation PIN.

use core::fmt;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{DeviceEntry, Ledger, LedgerError, ListFilter, StorageError, StoredCode, groups};
use crate::chrono_time::truncate_millis;
use crate::record::AccessCode;
use crate::zone::Zone;
use offpin::grant::{Grant, RevokeTarget};
use offpin::keys::MasterKey;
use offpin::profile::{Kind, Profile};

/// What [`Ledger::delete`](super::Ledger::delete) returns. `Debug` redacts the revocation PIN.
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

/// [`Ledger::list`].
pub(super) fn list<L: Ledger + ?Sized>(
    l: &mut L,
    filter: &ListFilter,
    now: DateTime<Utc>,
) -> Result<Vec<AccessCode>, LedgerError> {
    if filter.device_id.is_none() && filter.access_code_ids.is_empty() {
        return Err(LedgerError::MissingFilter);
    }
    let codes = l.find(filter)?;
    let members = l.memberships()?;
    let mut devices: BTreeMap<String, (DeviceEntry, Profile, Option<Zone>)> = BTreeMap::new();
    let mut out = Vec::with_capacity(codes.len());
    for code in codes {
        if !devices.contains_key(&code.device_id) {
            let entry = device_of(l, &code)?;
            let profile = entry.device.profile()?;
            let zone = entry.device.zone()?;
            devices.insert(code.device_id.clone(), (entry, profile, zone));
        }
        let (entry, profile, zone) = devices
            .get(&code.device_id)
            .ok_or_else(|| LedgerError::invariant("a device of the listed codes was not read"))?;
        let member = members.get(&code.device_id);
        out.push(code.record_with(entry, profile, zone.as_ref(), member, now)?);
    }
    Ok(out)
}

/// [`Ledger::get`].
pub(super) fn get<L: Ledger + ?Sized>(
    l: &mut L,
    access_code_id: &str,
    now: DateTime<Utc>,
) -> Result<AccessCode, LedgerError> {
    let code = l
        .find_one(access_code_id)?
        .ok_or_else(|| LedgerError::not_found(access_code_id))?;
    let entry = device_of(l, &code)?;
    let member = l.membership(&code.device_id)?;
    code.record(&entry, member.as_ref(), now)
}

/// [`Ledger::delete`].
pub(super) fn delete<L: Ledger + ?Sized>(
    l: &mut L,
    master: &MasterKey,
    access_code_id: &str,
    now: DateTime<Utc>,
) -> Result<Deleted, LedgerError> {
    l.check_master_key(master)?;
    let code = l
        .find_one(access_code_id)?
        .ok_or_else(|| LedgerError::not_found(access_code_id))?;
    let entry = device_of(l, &code)?;
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
    let code = l.mark_deleted(access_code_id, truncate_millis(now), revocation.as_deref())?;
    let member = l.membership(&code.device_id)?;
    Ok(Deleted {
        record: code.record(&entry, member.as_ref(), now)?,
        revocation_code: code.revocation_code.clone(),
        revoked_slot: ongoing.then_some(code.number),
    })
}

/// The stored device a stored code names.
fn device_of<L: Ledger + ?Sized>(l: &mut L, code: &StoredCode) -> Result<DeviceEntry, LedgerError> {
    l.device_entry(&code.device_id)?.ok_or_else(|| {
        StorageError::without_source(format!(
            "code '{}' names device '{}', which the ledger does not hold",
            code.access_code_id, code.device_id
        ))
        .into()
    })
}
