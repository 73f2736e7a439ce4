//! The lock-state files of `offpin verify`: one per device, named
//! injectively after the device id, holding the device they belong to
//! before the lock's state image, so a file swapped between devices is
//! refused.
//!
//! Name: `<ledger>.lock-<id>.state`, where `<id>` keeps `a-z`, `0-9`, `-`,
//! `_` and `.` and writes every other byte as `%XX` (upper-case hex):
//! distinct ids give distinct names, also on case-insensitive file
//! systems (`Front` is `%46ront`). Ids whose name would pass 120
//! characters use `~sha256-<hex>` of the id instead (`~` never appears
//! otherwise).
//!
//! Content: `OFPNST01`, the id's length (1 byte) and bytes, the key
//! generation (4 bytes, big-endian), then the image of
//! [`offpin::lock::Lock::save`].

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use offpin_ledger::ledger::Device;
use sha2::{Digest, Sha256};

use crate::output::{CliError, CliResult};

/// The file's magic and format version.
const MAGIC: &[u8; 8] = b"OFPNST01";

/// The longest encoded id kept readable.
const MAX_NAME: usize = 120;

/// The device id as a file-name component (see the module docs).
pub fn encode_id(device_id: &str) -> String {
    let mut out = String::with_capacity(device_id.len());
    for b in device_id.bytes() {
        if b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    if out.len() > MAX_NAME {
        let digest = Sha256::digest(device_id.as_bytes());
        out = String::from("~sha256-");
        for b in digest {
            let _ = write!(out, "{b:02x}");
        }
    }
    out
}

/// The default state file of a device: beside the ledger.
pub fn default_path(ledger: &Path, device_id: &str) -> PathBuf {
    let name = ledger
        .file_name()
        .map_or_else(|| "offpin.db".into(), |n| n.to_string_lossy().into_owned());
    ledger.with_file_name(format!("{name}.lock-{}.state", encode_id(device_id)))
}

/// The file's bytes: the device record, then `image`.
pub fn wrap(device: &Device, image: &[u8]) -> Vec<u8> {
    let id = device.device_id.as_bytes();
    let mut out = Vec::with_capacity(MAGIC.len() + 1 + id.len() + 4 + image.len());
    out.extend_from_slice(MAGIC);
    out.push(u8::try_from(id.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(id);
    out.extend_from_slice(&device.generation.to_be_bytes());
    out.extend_from_slice(image);
    out
}

/// The image in a state file of `device`; refuses a file of another device
/// or key generation, or not a state file at all.
pub fn unwrap<'a>(device: &Device, bytes: &'a [u8], path: &Path) -> CliResult<&'a [u8]> {
    let refuse = |why: String| {
        CliError::new(
            "state_file_refused",
            format!(
                "{}: {why}; the file is left as it is (delete it to start over with a new lock, which forgets used codes, revocations and the lock-out)",
                path.display()
            ),
        )
    };
    let Some(rest) = bytes.strip_prefix(MAGIC.as_slice()) else {
        return Err(refuse(
            "not an offpin lock-state file (no device record: a lock state image alone, written by an older offpin, or another file)".to_owned(),
        ));
    };
    let Some((&len, rest)) = rest.split_first() else {
        return Err(refuse("truncated".to_owned()));
    };
    let (id, rest) = rest
        .split_at_checked(usize::from(len))
        .ok_or_else(|| refuse("truncated".to_owned()))?;
    let (generation, image) = rest
        .split_first_chunk::<4>()
        .ok_or_else(|| refuse("truncated".to_owned()))?;
    let generation = u32::from_be_bytes(*generation);
    if id != device.device_id.as_bytes() {
        return Err(refuse(format!(
            "it holds the state of device '{}', not of '{}'",
            String::from_utf8_lossy(id),
            device.device_id
        )));
    }
    if generation != device.generation {
        return Err(refuse(format!(
            "it holds the state of key generation {generation}, but the device is at generation {}: a re-keyed lock starts with a new state",
            device.generation
        )));
    }
    Ok(image)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_injective_and_file_safe() {
        let ids = [
            "front door",
            "front_door",
            "front/door",
            "Front-door",
            "front-door",
            "front%2Fdoor",
            "..",
            "~sha256-00",
        ];
        let names: Vec<String> = ids.iter().map(|i| encode_id(i)).collect();
        let mut folded: Vec<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
        folded.sort();
        folded.dedup();
        assert_eq!(folded.len(), ids.len(), "{names:?}");
        assert_eq!(encode_id("front-door"), "front-door");
        assert_eq!(encode_id("front/door"), "front%2Fdoor");
        assert!(names.iter().all(|n| !n.contains('/')));
        let long = "é".repeat(100);
        assert!(encode_id(&long).starts_with("~sha256-"));
        assert_eq!(encode_id(&long).len(), 8 + 64);
    }

    proptest::proptest! {
        /// Distinct ids never share a file name, even case-folded, and no
        /// name has a path separator.
        #[test]
        fn distinct_ids_get_distinct_names(a in "\\PC{1,40}", b in "\\PC{1,40}") {
            let (na, nb) = (encode_id(&a), encode_id(&b));
            proptest::prop_assert!(!na.contains(['/', '\\']));
            if a != b {
                proptest::prop_assert_ne!(na.to_ascii_lowercase(), nb.to_ascii_lowercase());
            }
        }
    }

    #[test]
    fn a_file_of_another_device_or_generation_is_refused() {
        let a = Device::new("front door", "standard-10");
        let b = Device::new("front_door", "standard-10");
        let file = wrap(&a, b"image");
        let p = Path::new("x.state");
        assert_eq!(unwrap(&a, &file, p).unwrap(), b"image");
        let e = unwrap(&b, &file, p).unwrap_err();
        assert!(
            e.message
                .contains("device 'front door', not of 'front_door'"),
            "{e}"
        );
        let e = unwrap(&a.clone().with_generation(1), &file, p).unwrap_err();
        assert!(e.message.contains("generation 0"), "{e}");
        assert!(unwrap(&a, b"OFPNST01", p).is_err());
        assert!(unwrap(&a, b"LOCKIMAGE", p).is_err());
    }
}
