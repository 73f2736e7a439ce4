//! offpin's values to the C interface's numbers, and the C interface's
//! arguments (key, profile number, UTC offset) to offpin's values.

use core::ptr;

use offpin::lock::Decision;
use offpin::profile::shipped;
use offpin::{Codec, DeviceKey, PersistError, Profile, Refusal, UtcOffset};
use zeroize::Zeroize;

use crate::{OffpinDecision, OffpinOutcome, OffpinRefusal, OffpinStatus, OFFPIN_KEY_LEN};

pub(crate) fn profile_of(n: u32) -> Option<Profile> {
    Some(match n {
        0 => shipped::STANDARD_10,
        1 => shipped::COMPACT_8,
        2 => shipped::SECURE_12,
        3 => shipped::KEYPAD9_11,
        _ => return None,
    })
}

pub(crate) fn refusal_of(r: Refusal) -> OffpinRefusal {
    match r {
        Refusal::InvalidCode => OffpinRefusal::InvalidCode,
        Refusal::NotYetValid => OffpinRefusal::NotYetValid,
        Refusal::Expired => OffpinRefusal::Expired,
        Refusal::NotActivated => OffpinRefusal::NotActivated,
        Refusal::AlreadyUsed => OffpinRefusal::AlreadyUsed,
        Refusal::Revoked => OffpinRefusal::Revoked,
        Refusal::Superseded => OffpinRefusal::Superseded,
        Refusal::MemoryFull => OffpinRefusal::MemoryFull,
        Refusal::LockedOut => OffpinRefusal::LockedOut,
        Refusal::ClockRolledBack => OffpinRefusal::ClockRolledBack,
        Refusal::NotStarted => OffpinRefusal::NotStarted,
        _ => OffpinRefusal::Other,
    }
}

pub(crate) fn decision_of(d: Decision) -> OffpinDecision {
    match d {
        Decision::Open(_) => OffpinDecision {
            outcome: OffpinOutcome::Open,
            refusal: OffpinRefusal::None,
        },
        Decision::Revoked(_) => OffpinDecision {
            outcome: OffpinOutcome::Revoked,
            refusal: OffpinRefusal::None,
        },
        Decision::Refuse(r) => OffpinDecision {
            outcome: OffpinOutcome::Refused,
            refusal: refusal_of(r),
        },
        // The C interface offers the format-v1 profiles only, which have
        // neither service nor clock-setting codes; mapped for totality.
        Decision::Service { .. } => OffpinDecision {
            outcome: OffpinOutcome::Open,
            refusal: OffpinRefusal::None,
        },
        Decision::ClockSet { .. } => OffpinDecision {
            outcome: OffpinOutcome::Refused,
            refusal: OffpinRefusal::Other,
        },
    }
}

/// What a refused image or image buffer comes to in C.
pub(crate) fn persist_status(e: PersistError) -> OffpinStatus {
    match e {
        PersistError::Config(_) => OffpinStatus::Config,
        PersistError::Corrupted => OffpinStatus::Corrupted,
        PersistError::Forged => OffpinStatus::Forged,
        PersistError::ForeignLock { .. } => OffpinStatus::ForeignLock,
        PersistError::RolledBack { .. } => OffpinStatus::RolledBack,
        PersistError::Version1 => OffpinStatus::Version1,
        PersistError::AlreadyMigrated => OffpinStatus::AlreadyMigrated,
        PersistError::StaleChange => OffpinStatus::Stale,
        _ => OffpinStatus::ImageInvalid,
    }
}

/// The codec for a C key and profile number.
///
/// # Safety
///
/// `key` is NULL or points to `key_len` readable bytes.
pub(crate) unsafe fn codec_from(
    key: *const u8,
    key_len: usize,
    profile: u32,
) -> Result<(Codec, Profile), OffpinStatus> {
    if key.is_null() {
        return Err(OffpinStatus::NullPointer);
    }
    if key_len != OFFPIN_KEY_LEN {
        return Err(OffpinStatus::KeyLength);
    }
    let profile = profile_of(profile).ok_or(OffpinStatus::UnknownProfile)?;
    let mut bytes = [0u8; OFFPIN_KEY_LEN];
    // SAFETY: `key` is non-NULL and points to `key_len` = 16 readable
    // bytes (the caller's contract); `bytes` is a distinct local array.
    unsafe { ptr::copy_nonoverlapping(key, bytes.as_mut_ptr(), OFFPIN_KEY_LEN) };
    let device_key = DeviceKey::from_bytes(bytes);
    bytes.zeroize();
    let codec = Codec::new(&device_key, profile).map_err(|_| OffpinStatus::Config)?;
    Ok((codec, profile))
}

pub(crate) fn offset_from(secs: i32) -> Result<UtcOffset, OffpinStatus> {
    if secs % 60 != 0 {
        return Err(OffpinStatus::BadOffset);
    }
    UtcOffset::from_minutes(secs / 60).map_err(|_| OffpinStatus::BadOffset)
}
