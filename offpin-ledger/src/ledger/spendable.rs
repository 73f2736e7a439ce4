//! What a device has left to spend ([`DeviceCapacity`]): its ongoing
//! slots taken and free, and how full the windows of its codes that have
//! not ended are; the same counts the allocation uses
//! ([`Ledger::allocate`], [`capacity`](super::capacity)).
//!
//! Only the device's workspace can spend them: a device, its slots and
//! its variances are its workspace's ([`workspaces`](super::workspaces)),
//! and another workspace's create is refused as for a device that does
//! not exist. Read through a [`Scoped`](super::Scoped) view, another
//! workspace's device is [`LedgerError::UnknownDevice`].
//!
//! # Examples
//!
//! ```
//! use chrono::{DateTime, Utc};
//! use offpin::MasterKey;
//! use offpin_ledger::ledger::{CodeSpec, Device, Ledger, memory::MemoryLedger};
//! use offpin_ledger::ledger::spendable::device_capacity;
//!
//! let master = MasterKey::from_bytes([7; 32]);
//! let mut ledger = MemoryLedger::new();
//! ledger.add_device(&master, &Device::new("front-door", "standard-10"))?;
//! let now: DateTime<Utc> = "2024-12-01T00:00:00Z".parse()?;
//! let spec = CodeSpec::time_bound("front-door", "2025-01-01T16:00:00Z".parse()?, "2025-01-01T20:00:00Z".parse()?);
//! for _ in 0..3 {
//!     ledger.issue(&master, &spec, now)?;
//! }
//! let ongoing = ledger.issue(&master, &CodeSpec::ongoing("front-door"), now)?;
//! ledger.delete(&master, &ongoing.record.access_code_id, now)?;
//! let c = device_capacity(&mut ledger, "front-door", now)?;
//! assert_eq!((c.ongoing_slots, c.ongoing_slots_used, c.ongoing_slots_revoked), (100, 1, 1));
//! assert_eq!(c.ongoing_slots_free, 99);
//! assert_eq!((c.variances_per_window, c.windows_open, c.windows_full), (3, 1, 1));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::{Ledger, LedgerError, ListFilter};
use crate::chrono_time::to_unix;
use offpin::profile::Kind;

/// What a device has left to spend, at one instant, and whose it is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DeviceCapacity {
    /// The workspace that owns the device: the only one that may spend
    /// its slots and variances.
    pub workspace_id: String,
    /// The key generation counted (each generation has fresh slots and
    /// variances: re-keying the lock gives them back).
    pub generation: u32,
    /// Ongoing slots of a key generation (the profile's).
    pub ongoing_slots: u32,
    /// Slots of this generation ever taken (live codes and revoked ones:
    /// a slot is never given out twice).
    pub ongoing_slots_used: u32,
    /// Of those, slots whose code was deleted (revoked at the lock).
    pub ongoing_slots_revoked: u32,
    /// Slots never taken: how many more ongoing codes can be issued.
    pub ongoing_slots_free: u32,
    /// PINs one window can have (each time-bound or one-time window has
    /// its own pool of this many variances).
    pub variances_per_window: u32,
    /// Windows of this generation's codes that have not ended: each
    /// holds at least one variance.
    pub windows_open: u32,
    /// Of those, windows whose every variance is taken: a request for one
    /// is refused (`no_variance_available`) with a proposal.
    pub windows_full: u32,
}

/// Counts what `device_id` (a registered, not removed device) has left at
/// `now`: read from its codes, deleted ones included.
///
/// # Errors
///
/// [`LedgerError::UnknownDevice`], [`LedgerError::DeviceRemoved`],
/// [`LedgerError::UnknownProfile`], [`LedgerError::Zone`];
/// [`LedgerError::Storage`].
pub fn device_capacity<L: Ledger + ?Sized>(
    l: &mut L,
    device_id: &str,
    now: DateTime<Utc>,
) -> Result<DeviceCapacity, LedgerError> {
    let device = l.device(device_id)?;
    let profile = device.profile()?;
    let rule = device.lock_rule()?;
    let params = profile.params();
    let variances = u32::from(params.variances);
    let t = to_unix(&now);
    let mut slots = BTreeSet::new();
    let mut revoked = BTreeSet::new();
    let mut windows: BTreeMap<(&str, u32, u32, u8), BTreeSet<u32>> = BTreeMap::new();
    for c in l.find(&ListFilter::device(device_id))? {
        if c.scope.generation != device.generation {
            continue;
        }
        if c.scope.kind == Kind::Ongoing {
            if c.number < params.ongoing_slots {
                slots.insert(c.number);
                if c.deleted_at.is_some() {
                    revoked.insert(c.number);
                }
            }
            continue;
        }
        let end = c
            .grant()
            .and_then(|g| g.window(&profile, rule))
            .or(c.issued_window)
            .map(|w| w.end);
        if end.is_some_and(|end| end > t) && c.number < variances {
            let s = c.scope;
            let window = (s.kind.name(), s.start, s.length, s.lineage);
            windows.entry(window).or_default().insert(c.number);
        }
    }
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let used = count(slots.len());
    Ok(DeviceCapacity {
        workspace_id: device.workspace_id,
        generation: device.generation,
        ongoing_slots: params.ongoing_slots,
        ongoing_slots_used: used,
        ongoing_slots_revoked: count(revoked.len()),
        ongoing_slots_free: params.ongoing_slots.saturating_sub(used),
        variances_per_window: variances,
        windows_open: count(windows.len()),
        windows_full: count(
            windows
                .values()
                .filter(|taken| count(taken.len()) >= variances)
                .count(),
        ),
    })
}
