//! Devices: the locks the ledger issues codes for ([`Device`]), as stored
//! ([`DeviceEntry`]), and their lifecycle ([`Ledger::add_device`],
//! [`Ledger::update_device`], [`Ledger::remove_device`]): what a change
//! does to the codes that may still open ([`DeviceUpdated`]).

use chrono::{DateTime, Utc};

use super::workspaces::{DEFAULT_WORKSPACE, mismatch};
use super::{Ledger, LedgerError, ListFilter, StorageError};
use crate::chrono_time::truncate_millis;
use crate::record::AccessCode;
use crate::zone::{BookingTime, Clock, Zone, lock_rule};
use offpin::codec::Codec;
use offpin::issue::IssueError;
use offpin::keys::{KeyError, MAX_DEVICE_ID_LEN, MasterKey};
use offpin::profile::{Profile, shipped};
use offpin::service::ServiceSecret;
use offpin::time::{UtcOffset, Window};
use offpin::tz::TzRule;

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
    /// The workspace that owns the device and its codes
    /// ([`workspaces`](super::workspaces)): set when it is registered,
    /// never changed (re-registering a removed device in another
    /// workspace is refused, or its codes would change hands).
    pub workspace_id: String,
}

impl Device {
    /// A device in UTC, without a time zone, key generation 0, in the
    /// [`DEFAULT_WORKSPACE`].
    pub fn new(device_id: &str, profile: &str) -> Self {
        Device {
            device_id: device_id.to_owned(),
            profile: profile.to_owned(),
            utc_offset: UtcOffset::UTC,
            time_zone: None,
            generation: 0,
            workspace_id: DEFAULT_WORKSPACE.to_owned(),
        }
    }

    /// Sets the workspace that owns the device.
    pub fn in_workspace(mut self, workspace_id: &str) -> Self {
        self.workspace_id = workspace_id.to_owned();
        self
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

impl DeviceChange {
    /// `device` with the change applied, checked.
    ///
    /// # Errors
    ///
    /// [`LedgerError::GenerationNotHigher`], [`LedgerError::NoChange`],
    /// those of [`Device::validate`].
    fn applied_to(&self, device: &Device) -> Result<Device, LedgerError> {
        let mut after = device.clone();
        if let Some(o) = self.utc_offset {
            after.utc_offset = o;
        }
        if let Some(z) = &self.time_zone {
            after.time_zone.clone_from(z);
        }
        if let Some(g) = self.generation {
            if g <= device.generation {
                return Err(LedgerError::GenerationNotHigher {
                    device_id: device.device_id.clone(),
                    current: device.generation,
                    requested: g,
                });
            }
            after.generation = g;
        }
        if after == *device {
            return Err(LedgerError::NoChange {
                device_id: device.device_id.clone(),
            });
        }
        after.validate()?;
        Ok(after)
    }
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

/// [`Ledger::add_device`].
pub(super) fn add<L: Ledger + ?Sized>(
    l: &mut L,
    master: &MasterKey,
    device: &Device,
) -> Result<(), LedgerError> {
    device.validate()?;
    l.workspace(&device.workspace_id)?;
    l.check_master_key(master)?;
    let new = DeviceEntry {
        device: device.clone(),
        removed_at: None,
    };
    loop {
        let current = l.device_entry(&device.device_id)?;
        match &current {
            // Another workspace's device, live or removed: its codes
            // stay that workspace's.
            Some(c) if c.device.workspace_id != device.workspace_id => {
                return Err(mismatch(
                    "device",
                    &c.device.device_id,
                    &c.device.workspace_id,
                    &device.workspace_id,
                ));
            }
            Some(c) if c.removed_at.is_none() && c.device == *device => return Ok(()),
            Some(c) if c.removed_at.is_none() => {
                return Err(LedgerError::DeviceConflict {
                    device_id: device.device_id.clone(),
                });
            }
            _ => {}
        }
        if l.put_device(&new, current.as_ref())? {
            return Ok(());
        }
    }
}

/// [`Ledger::device`].
pub(super) fn live<L: Ledger + ?Sized>(l: &mut L, device_id: &str) -> Result<Device, LedgerError> {
    match l.device_entry(device_id)? {
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

/// [`Ledger::update_device`].
pub(super) fn update<L: Ledger + ?Sized>(
    l: &mut L,
    master: &MasterKey,
    device_id: &str,
    change: &DeviceChange,
    now: DateTime<Utc>,
) -> Result<DeviceUpdated, LedgerError> {
    l.check_master_key(master)?;
    let before = l.device(device_id)?;
    let after = change.applied_to(&before)?;
    let entry = DeviceEntry {
        device: before.clone(),
        removed_at: None,
    };
    let profile = before.profile()?;
    let mut affected = Vec::new();
    for (code, record) in codes_that_may_open(l, &entry, now)? {
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
    if !l.put_device(&new, Some(&entry))? {
        return Err(StorageError::without_source(format!(
            "device '{device_id}' changed while it was being updated; try again"
        ))
        .into());
    }
    Ok(DeviceUpdated {
        before,
        after,
        affected,
    })
}

/// [`Ledger::remove_device`].
pub(super) fn remove<L: Ledger + ?Sized>(
    l: &mut L,
    device_id: &str,
    now: DateTime<Utc>,
) -> Result<DeviceUpdated, LedgerError> {
    let before = l.device(device_id)?;
    let entry = DeviceEntry {
        device: before.clone(),
        removed_at: None,
    };
    let affected = codes_that_may_open(l, &entry, now)?
        .into_iter()
        .map(|(_, record)| Affected {
            record,
            consequence: Consequence::StopsOpening,
        })
        .collect();
    let removed = DeviceEntry {
        device: before.clone(),
        removed_at: Some(truncate_millis(now)),
    };
    if !l.put_device(&removed, Some(&entry))? {
        return Err(StorageError::without_source(format!(
            "device '{device_id}' changed while it was being removed; try again"
        ))
        .into());
    }
    Ok(DeviceUpdated {
        after: before.clone(),
        before,
        affected,
    })
}

/// The device's codes that may still open at `now`, with their records.
fn codes_that_may_open<L: Ledger + ?Sized>(
    l: &mut L,
    entry: &DeviceEntry,
    now: DateTime<Utc>,
) -> Result<Vec<(super::StoredCode, AccessCode)>, LedgerError> {
    let device_id = &entry.device.device_id;
    let member = l.membership(device_id)?;
    let mut out = Vec::new();
    for code in l.find(&ListFilter::device(device_id))? {
        let record = code.record(entry, member.as_ref(), now)?;
        if record.may_open() {
            out.push((code, record));
        }
    }
    Ok(out)
}
