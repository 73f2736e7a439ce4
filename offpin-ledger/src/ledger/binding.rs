//! The one implementation of the ledger's master-key check
//! ([`Ledger::check_master_key`], [`Ledger::verify_master_key`],
//! [`Ledger::adopt_master_key`]); the rules are in the ledger's module
//! documentation ("The master key").

use super::{DeviceEntry, Fingerprint, Ledger, LedgerError, ListFilter, ct_eq};
use offpin::keys::MasterKey;

/// What a key check may write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Bind {
    /// Nothing: a check on a read-only ledger.
    Never,
    /// The key given, when the ledger holds no device yet or a stored code
    /// proves it.
    Proven,
    /// The key given on a ledger that holds devices but nothing to check
    /// the key against: the operator says it is the key of the locks.
    Adopt,
}

/// Checks `master` against the ledger, binding it as `bind` allows.
pub(crate) fn check<L: Ledger + ?Sized>(
    l: &mut L,
    master: &MasterKey,
    bind: Bind,
) -> Result<(), LedgerError> {
    let given = master.fingerprint();
    let compare = |ledger: Fingerprint| {
        if ledger == given {
            Ok(())
        } else {
            Err(LedgerError::MasterKeyMismatch { ledger, given })
        }
    };
    if let Some(ledger) = l.master_fingerprint()? {
        return compare(ledger);
    }
    let devices = l.device_entries()?;
    let unproven = match devices.first() {
        // No device: no lock was provisioned from any key yet.
        None => None,
        Some(first) => {
            // A current offpin binds before it stores a device: a device
            // stored since the first read comes with its fingerprint.
            if let Some(ledger) = l.master_fingerprint()? {
                return compare(ledger);
            }
            (!derives_a_stored_code(l, &devices, master)?).then_some(first)
        }
    };
    match (unproven, bind) {
        (None, Bind::Never) => Ok(()),
        (Some(device), Bind::Never | Bind::Proven) => Err(LedgerError::MasterKeyUnbound {
            device_id: device.device.device_id.clone(),
            given,
        }),
        _ => compare(l.bind_master_fingerprint(given)?),
    }
}

/// Whether `master` derives the PIN of a code the ledger holds: `false`
/// when it holds none; [`LedgerError::KeyDoesNotDerive`] when the first
/// code found disagrees.
fn derives_a_stored_code<L: Ledger + ?Sized>(
    l: &mut L,
    devices: &[DeviceEntry],
    master: &MasterKey,
) -> Result<bool, LedgerError> {
    for entry in devices {
        let codes = l.find(&ListFilter::device(&entry.device.device_id))?;
        let Some(code) = codes.first() else {
            continue;
        };
        // Under the key (and key generation) it was issued with.
        let codec = super::groups::codec_of(code, &entry.device, master)?;
        let derived = code.grant().map(|g| codec.pin_for(&g)).transpose()?;
        let same = derived
            .as_ref()
            .is_some_and(|p| ct_eq(p.as_str().as_bytes(), code.code.as_bytes()));
        return if same {
            Ok(true)
        } else {
            Err(LedgerError::KeyDoesNotDerive {
                access_code_id: code.access_code_id.clone(),
                given: master.fingerprint(),
            })
        };
    }
    Ok(false)
}
