//! Building a lock: the keys it is given ([`IntoCodecs`]) and what
//! [`Lock::new`] checks before it holds them (one profile, each key once,
//! a profile this build and this `MEMORY` can check).

use super::revocation::{MAX_LINEAGES, MAX_REVOCABLE_SLOTS};
use super::seal::{self, FINGERPRINT_LEN};
use super::{Lock, LockError, LockState};
use crate::codec::Codec;
use crate::profile::Profile;
#[cfg(doc)]
use crate::time::UtcOffset;
use crate::tz::TzRule;

/// The key(s) a lock is built from: one [`Codec`], or an array of them
/// (a device key and a group key, say). Implemented for `Codec` (one key)
/// and `[Codec; K]`.
pub trait IntoCodecs<const KEYS: usize> {
    /// The codecs, in the order the lock tries them.
    fn into_codecs(self) -> [Codec; KEYS];
}

impl IntoCodecs<1> for Codec {
    fn into_codecs(self) -> [Codec; 1] {
        [self]
    }
}

impl<const KEYS: usize> IntoCodecs<KEYS> for [Codec; KEYS] {
    fn into_codecs(self) -> [Codec; KEYS] {
        self
    }
}

impl<const MEMORY: usize, const KEYS: usize> Lock<MEMORY, KEYS> {
    /// A lock with empty state: nothing remembered, nothing revoked, no
    /// failures, a full guess budget, and the highest seen time at the
    /// profile's epoch (call [`Lock::observe_clock`] at provisioning to
    /// start rollback detection from the provisioning time).
    ///
    /// # Errors
    ///
    /// A [`LockError`] when `MEMORY` is larger than the profile's
    /// `lock_memory`, the codecs disagree about the profile or repeat a
    /// key, or the profile has more revocable slots or lineages than a
    /// lock tracks; [`LockError::GroupKeysNotBuilt`] for more than one key
    /// without the crate feature `group-keys`.
    ///
    /// `zone` is the lock's local time: a fixed [`UtcOffset`] (daily
    /// windows start at its midnights, as in offpin 0.1) or a [`TzRule`]
    /// with daylight saving time (daily windows start at local midnight
    /// in every season, recurring hours are local hours).
    pub fn new(codecs: impl IntoCodecs<KEYS>, zone: impl Into<TzRule>) -> Result<Self, LockError> {
        let zone = zone.into();
        const {
            assert!(MEMORY >= 1, "a lock needs room for at least one code");
            assert!(MEMORY <= u16::MAX as usize, "MEMORY must fit in 16 bits");
            assert!(KEYS >= 1, "a lock needs at least one key");
            assert!(KEYS <= u8::MAX as usize, "a lock holds at most 255 keys");
            // The format-v2 check of `check_profile` relies on this order.
            assert!(
                crate::profile::Kind::Recurring.position() + 2 == crate::profile::Kind::COUNT
                    && crate::profile::Kind::ClockSet.position() + 1 == crate::profile::Kind::COUNT,
                "the format-v2 kinds are the last two"
            );
        }
        // Without group keys a lock holds its device key only.
        #[cfg(not(feature = "group-keys"))]
        if KEYS > 1 {
            return Err(LockError::GroupKeysNotBuilt { keys: KEYS });
        }
        let codecs = codecs.into_codecs();
        let profile = shared_profile(&codecs)?;
        Self::check_profile(&profile, &zone)?;
        #[cfg(feature = "service-codes")]
        let service = service_secret(&codecs, &profile);
        let fingerprints = fingerprints_of(&codecs)?;
        Ok(Lock {
            codecs,
            fingerprints,
            zone,
            #[cfg(feature = "service-codes")]
            service,
            state: LockState::fresh(&profile),
            credit: None,
        })
    }

    /// Whether this build's lock of `MEMORY` codes can hold `profile` in
    /// `zone`: the memory its figure counts, the slots and lineages a lock
    /// tracks, the features its codes need, and a DST rule its figure
    /// covers.
    #[cfg_attr(not(feature = "format-v2"), allow(unused_variables))]
    fn check_profile(profile: &Profile, zone: &TzRule) -> Result<(), LockError> {
        if MEMORY > usize::from(profile.lock_memory()) {
            return Err(LockError::MemoryExceedsProfile {
                memory: MEMORY,
                profile: profile.lock_memory(),
            });
        }
        let p = profile.params();
        if p.revocation && p.ongoing_slots > MAX_REVOCABLE_SLOTS {
            return Err(LockError::TooManySlots {
                slots: p.ongoing_slots,
                max: MAX_REVOCABLE_SLOTS,
            });
        }
        if p.lineages > MAX_LINEAGES {
            return Err(LockError::TooManyLineages {
                lineages: p.lineages,
                max: MAX_LINEAGES,
            });
        }
        #[cfg(not(feature = "service-codes"))]
        if p.service_codes.is_enabled() {
            return Err(LockError::ServiceCodesNotBuilt);
        }
        #[cfg(not(feature = "anti-peep"))]
        if profile.has_anti_peep() {
            return Err(LockError::AntiPeepNotBuilt {
                entry_max_digits: profile.entry_max_digits(),
            });
        }
        // The format-v2 kinds are the last two ranges of the index: a
        // profile has either when its first index is below the total.
        #[cfg(not(feature = "format-v2"))]
        if profile.kind_base(crate::profile::Kind::Recurring) < profile.grant_count() {
            return Err(LockError::FormatV2NotBuilt);
        }
        // Without format-v2 no rule has DST: every rule is covered.
        #[cfg(feature = "format-v2")]
        if !profile.covers_rule(zone) {
            return Err(LockError::RuleNotCovered {
                shift_secs: zone.dst_shift_secs(),
                max_secs: profile.max_dst_shift_secs(),
            });
        }
        Ok(())
    }
}

/// The profile every codec is bound to: the first one's, which every
/// other must share.
fn shared_profile<const KEYS: usize>(codecs: &[Codec; KEYS]) -> Result<Profile, LockError> {
    // KEYS >= 1 (checked by `Lock::new`): the fallback is never taken.
    let profile = codecs
        .first()
        .map(|c| *c.profile())
        .ok_or(LockError::ProfileMismatch { key: 0 })?;
    if let Some(key) = codecs
        .iter()
        .skip(1)
        .position(|c| *c.profile() != profile)
        .map(|i| i + 1)
    {
        return Err(LockError::ProfileMismatch { key });
    }
    Ok(profile)
}

/// The service secret, when the profile has service codes: derived from
/// the device key (the first).
#[cfg(feature = "service-codes")]
fn service_secret<const KEYS: usize>(
    codecs: &[Codec; KEYS],
    profile: &Profile,
) -> Option<crate::service::ServiceSecret> {
    profile
        .params()
        .service_codes
        .is_enabled()
        .then(|| {
            codecs
                .first()
                .map(|c| crate::service::ServiceSecret::from_cipher(c.cipher()))
        })
        .flatten()
}

/// The fingerprint of each key, in order, or the first key given twice.
fn fingerprints_of<const KEYS: usize>(
    codecs: &[Codec; KEYS],
) -> Result<[[u8; FINGERPRINT_LEN]; KEYS], LockError> {
    let fingerprints: [[u8; FINGERPRINT_LEN]; KEYS] =
        core::array::from_fn(|i| codecs.get(i).map(seal::fingerprint).unwrap_or_default());
    for (second, fp) in fingerprints.iter().enumerate() {
        if let Some(first) = fingerprints.iter().take(second).position(|f| f == fp) {
            return Err(LockError::DuplicateKey { first, second });
        }
    }
    Ok(fingerprints)
}
