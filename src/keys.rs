//! Keys: the server's [`MasterKey`] and the per-lock [`DeviceKey`] derived
//! from it.
//!
//! # Derivation (format v1)
//!
//! ```text
//! device_key = HMAC-SHA256(master_key,
//!                  "offpin/v1/device-key" || 0x00
//!                  || len(device_id) as u8 || device_id
//!                  || generation as u32 big-endian)[0..16]
//! ```
//!
//! A **group key** (one PIN for several locks, `MasterKey::derive_group_key`,
//! crate feature `group-keys`) is derived the same way under the label
//! `"offpin/v1/group-key"`, from the group's identifier (1 to 255 bytes)
//! and the group's generation.
//!
//! `device_id` is the identifier the server uses for the lock (for example
//! the `device_id` UUID string of the access-code API, as its ASCII bytes),
//! 1 to 255 bytes. `generation` starts at 0 and is bumped to re-key a lock
//! (a re-provisioned lock, a leaked key): codes of different generations
//! are unrelated. The first 16 bytes of the MAC are the AES-128 key of the
//! lock's FF1. HMAC-SHA256 is a PRF, so device keys are independent,
//! uniformly random 128-bit keys as long as the master key is secret.
//!
//! # Handling
//!
//! Both key types zeroize their bytes on drop, print as `MasterKey(..)` /
//! `DeviceKey(..)` in `Debug`, have no `Display`, and compare in constant
//! time ([`PartialEq`] is `ctutils`' `CtEq` over every byte, without an
//! early exit).

use core::fmt;

use ctutils::CtEq;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The label that starts every device-key derivation input.
pub const DEVICE_KEY_LABEL: &[u8] = b"offpin/v1/device-key";
/// The label that starts every group-key derivation input.
pub const GROUP_KEY_LABEL: &[u8] = b"offpin/v1/group-key";

/// Length of a master key in bytes (256 bits).
pub const MASTER_KEY_LEN: usize = 32;
/// Length of a device key in bytes (an AES-128 key).
pub const DEVICE_KEY_LEN: usize = 16;
/// Longest accepted device identifier in bytes.
pub const MAX_DEVICE_ID_LEN: usize = 255;

/// Why a key could not be built or derived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// The key material has the wrong length.
    WrongLength {
        /// Bytes expected.
        expected: usize,
        /// Bytes given.
        found: usize,
    },
    /// The device (or group) identifier is empty.
    EmptyDeviceId,
    /// The device (or group) identifier is longer than
    /// [`MAX_DEVICE_ID_LEN`] bytes.
    DeviceIdTooLong {
        /// Bytes given.
        found: usize,
    },
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::WrongLength { expected, found } => {
                write!(f, "key must be {expected} bytes, got {found}")
            }
            KeyError::EmptyDeviceId => f.write_str("device (or group) id is empty"),
            KeyError::DeviceIdTooLong { found } => write!(
                f,
                "device (or group) id is {found} bytes, at most {MAX_DEVICE_ID_LEN} are allowed"
            ),
        }
    }
}

impl core::error::Error for KeyError {}

/// The server's 256-bit secret, from which every device key is derived.
///
/// # Examples
///
/// ```
/// use offpin::MasterKey;
/// let master = MasterKey::from_bytes([7u8; 32]);
/// let key = master.derive_device_key(b"front-door", 0)?;
/// assert_eq!(format!("{key:?}"), "DeviceKey(..)");
/// # Ok::<(), offpin::KeyError>(())
/// ```
#[derive(Clone)]
pub struct MasterKey([u8; MASTER_KEY_LEN]);

impl MasterKey {
    /// Wraps 32 bytes of key material. Generate them with a CSPRNG.
    pub const fn from_bytes(bytes: [u8; MASTER_KEY_LEN]) -> Self {
        MasterKey(bytes)
    }

    /// Wraps key material given as a slice.
    ///
    /// # Errors
    ///
    /// [`KeyError::WrongLength`] unless `bytes` is exactly 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, KeyError> {
        let arr: [u8; MASTER_KEY_LEN] = bytes.try_into().map_err(|_| KeyError::WrongLength {
            expected: MASTER_KEY_LEN,
            found: bytes.len(),
        })?;
        Ok(MasterKey(arr))
    }

    /// The raw key bytes, for storing the key. Handle with care.
    pub const fn expose_secret(&self) -> &[u8; MASTER_KEY_LEN] {
        &self.0
    }

    /// Derives the key of one lock (see the [module docs](self) for the
    /// exact input).
    ///
    /// # Errors
    ///
    /// [`KeyError::EmptyDeviceId`] or [`KeyError::DeviceIdTooLong`] when
    /// `device_id` is not 1 to 255 bytes.
    pub fn derive_device_key(
        &self,
        device_id: &[u8],
        generation: u32,
    ) -> Result<DeviceKey, KeyError> {
        self.derive(DEVICE_KEY_LABEL, device_id, generation)
    }

    /// Derives the key a group of locks shares (see the [module
    /// docs](self)): every member holds it next to its own device key, so
    /// one PIN issued under it opens each of them (the hosted API's
    /// `common_code_key`). The label differs from the device keys', so no
    /// group id and device id derive the same key; a group key is
    /// independent of every device key. Crate feature `group-keys` (in
    /// `std`): a lock without it holds its device key only.
    ///
    /// # Errors
    ///
    /// [`KeyError::EmptyDeviceId`] or [`KeyError::DeviceIdTooLong`] when
    /// `group_id` is not 1 to 255 bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use offpin::MasterKey;
    /// let master = MasterKey::from_bytes([7u8; 32]);
    /// let group = master.derive_group_key(b"building-a", 0)?;
    /// assert_ne!(group, master.derive_device_key(b"building-a", 0)?);
    /// # Ok::<(), offpin::KeyError>(())
    /// ```
    #[cfg(feature = "group-keys")]
    pub fn derive_group_key(
        &self,
        group_id: &[u8],
        generation: u32,
    ) -> Result<DeviceKey, KeyError> {
        self.derive(GROUP_KEY_LABEL, group_id, generation)
    }

    /// `HMAC-SHA256(master, label || 0x00 || len(id) || id || generation)`,
    /// its first 16 bytes.
    fn derive(&self, label: &[u8], id: &[u8], generation: u32) -> Result<DeviceKey, KeyError> {
        let id_len = match u8::try_from(id.len()) {
            Ok(0) => return Err(KeyError::EmptyDeviceId),
            Ok(n) => n,
            Err(_) => return Err(KeyError::DeviceIdTooLong { found: id.len() }),
        };
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).map_err(|_| {
            KeyError::WrongLength {
                expected: MASTER_KEY_LEN,
                found: self.0.len(),
            }
        })?;
        mac.update(label);
        mac.update(&[0x00, id_len]);
        mac.update(id);
        mac.update(&generation.to_be_bytes());
        let mut out = mac.finalize().into_bytes();
        let mut key = [0u8; DEVICE_KEY_LEN];
        for (dst, src) in key.iter_mut().zip(out.iter()) {
            *dst = *src;
        }
        out.zeroize();
        Ok(DeviceKey(key))
    }

    /// A fingerprint that names this key without revealing it: the first 8
    /// bytes of `HMAC-SHA256(master_key, "offpin/v1/master-fingerprint")`
    /// (a PRF output under a label no device-key input can equal).
    /// A ledger stores it to refuse a different master key, and error
    /// messages may show it; it is not a secret, and not an authenticator.
    ///
    /// ```
    /// use offpin::MasterKey;
    /// let a = MasterKey::from_bytes([7; 32]).fingerprint();
    /// assert_eq!(a, MasterKey::from_bytes([7; 32]).fingerprint());
    /// assert_ne!(a, MasterKey::from_bytes([8; 32]).fingerprint());
    /// ```
    pub fn fingerprint(&self) -> [u8; 8] {
        let mut out = [0u8; 8];
        if let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0) {
            mac.update(b"offpin/v1/master-fingerprint");
            let mut full = mac.finalize().into_bytes();
            for (dst, src) in out.iter_mut().zip(full.iter()) {
                *dst = *src;
            }
            full.zeroize();
        }
        out
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl Drop for MasterKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}
impl ZeroizeOnDrop for MasterKey {}

impl PartialEq for MasterKey {
    /// Constant time (`ctutils`' `CtEq` over the 32 bytes).
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).to_bool()
    }
}
impl Eq for MasterKey {}

/// One lock's 128-bit key: the AES key of its FF1.
///
/// Derive it with [`MasterKey::derive_device_key`] on the server; provision
/// its bytes into the lock once.
#[derive(Clone)]
pub struct DeviceKey([u8; DEVICE_KEY_LEN]);

impl DeviceKey {
    /// Wraps 16 bytes provisioned into a lock.
    pub const fn from_bytes(bytes: [u8; DEVICE_KEY_LEN]) -> Self {
        DeviceKey(bytes)
    }

    /// Wraps key material given as a slice.
    ///
    /// # Errors
    ///
    /// [`KeyError::WrongLength`] unless `bytes` is exactly 16 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, KeyError> {
        let arr: [u8; DEVICE_KEY_LEN] = bytes.try_into().map_err(|_| KeyError::WrongLength {
            expected: DEVICE_KEY_LEN,
            found: bytes.len(),
        })?;
        Ok(DeviceKey(arr))
    }

    /// The raw key bytes, for provisioning. Handle with care.
    pub const fn expose_secret(&self) -> &[u8; DEVICE_KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DeviceKey(..)")
    }
}

impl Drop for DeviceKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}
impl ZeroizeOnDrop for DeviceKey {}

impl PartialEq for DeviceKey {
    /// Constant time (`ctutils`' `CtEq` over the 16 bytes).
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).to_bool()
    }
}
impl Eq for DeviceKey {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equality_compares_every_byte() {
        for i in 0..DEVICE_KEY_LEN {
            let mut other = [9u8; DEVICE_KEY_LEN];
            assert!(DeviceKey::from_bytes(other) == DeviceKey::from_bytes([9; 16]));
            other[i] ^= 0x80;
            assert!(DeviceKey::from_bytes(other) != DeviceKey::from_bytes([9; 16]));
        }
        for i in 0..MASTER_KEY_LEN {
            let mut other = [3u8; MASTER_KEY_LEN];
            other[i] = 4;
            assert!(MasterKey::from_bytes(other) != MasterKey::from_bytes([3; 32]));
        }
        assert!(MasterKey::from_bytes([3; 32]) == MasterKey::from_bytes([3; 32]));
    }

    #[test]
    fn device_id_bounds() {
        let m = MasterKey::from_bytes([1; 32]);
        assert_eq!(
            m.derive_device_key(b"", 0).err(),
            Some(KeyError::EmptyDeviceId)
        );
        assert_eq!(
            m.derive_device_key(&[b'x'; 256], 0).err(),
            Some(KeyError::DeviceIdTooLong { found: 256 })
        );
        assert!(m.derive_device_key(&[b'x'; 255], 0).is_ok());
    }

    #[test]
    fn generations_and_ids_give_different_keys() {
        let m = MasterKey::from_bytes([1; 32]);
        let a = m.derive_device_key(b"lock-a", 0).ok();
        let b = m.derive_device_key(b"lock-a", 1).ok();
        let c = m.derive_device_key(b"lock-b", 0).ok();
        assert!(a.is_some() && a != b && a != c && b != c);
    }

    #[test]
    fn debug_is_redacted() {
        let m = MasterKey::from_bytes([0xAB; 32]);
        assert_eq!(std::format!("{m:?}"), "MasterKey(..)");
    }
}
