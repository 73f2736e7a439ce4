use super::*;
use crate::keys::DeviceKey;
use crate::lock::memory::until_hour;
#[cfg(feature = "service-codes")]
use crate::lock::memory::{EntryKind, service_until_hour};
use crate::lock::seal;
use crate::profile::shipped::STANDARD_10;
use crate::time::UtcOffset;

type L = Lock<4>;

fn codec() -> crate::Codec {
    crate::Codec::new(&DeviceKey::from_bytes([1; 16]), STANDARD_10).unwrap()
}

fn fresh_image() -> [u8; L::STATE_LEN] {
    let lock = L::new(codec(), UtcOffset::UTC).unwrap();
    let mut image = [0u8; L::STATE_LEN];
    lock.save(&mut image).unwrap();
    image
}

/// Recomputes the tag and the CRC with the lock's key, as a faulty
/// implementation holding the key would have written them.
fn reseal(image: &mut [u8]) {
    reseal_with(&codec(), image);
}

fn reseal_with(codec: &crate::Codec, image: &mut [u8]) {
    let n = image.len();
    let tag = seal::tag(codec, &image[..n - TAG_LEN - CRC_LEN]);
    image[n - TAG_LEN - CRC_LEN..n - CRC_LEN].copy_from_slice(&tag);
    let crc = seal::crc32(&image[..n - CRC_LEN]);
    image[n - CRC_LEN..].copy_from_slice(&crc.to_be_bytes());
}

fn load(image: &[u8]) -> Result<L, PersistError> {
    L::load(codec(), UtcOffset::UTC, image)
}

/// Where the memory slots start in a one-key image.
const ENTRIES: usize = HEADER_LEN + FINGERPRINT_LEN + CONFIG_LEN + STATE_FIXED_LEN;

#[test]
fn lock_image_fields_out_of_range_are_refused_when_authentic() {
    let entry = ENTRIES;
    let one_time_index = STANDARD_10.kind_base(crate::Kind::OneTime);
    let one_time_until =
        until_hour(&STANDARD_10, &STANDARD_10.grant_at(one_time_index).unwrap()).unwrap();
    let hourly_index = 5u64;
    let hourly_until =
        until_hour(&STANDARD_10, &STANDARD_10.grant_at(hourly_index).unwrap()).unwrap();
    let with = |tag: u8, key: u8, index: u64, hour: u32| {
        let mut e = [0u8; ENTRY_LEN];
        e[0] = tag;
        e[1] = key;
        e[2..10].copy_from_slice(&index.to_be_bytes());
        e[10..14].copy_from_slice(&hour.to_be_bytes());
        e
    };
    // Unknown tag; key beyond KEYS; a used entry naming an hourly
    // grant; an activated entry naming a one-time grant; a free slot
    // with bytes in it; an entry ending earlier than its grant's end.
    let cases = [
        with(3, 0, one_time_index, one_time_until),
        with(2, 1, one_time_index, one_time_until),
        with(2, 0, hourly_index, hourly_until),
        with(1, 0, one_time_index, one_time_until),
        with(0, 0, 0, 1),
        with(2, 0, one_time_index, one_time_until - 1),
    ];
    for (i, bytes) in cases.iter().enumerate() {
        let mut image = fresh_image();
        image[entry..entry + ENTRY_LEN].copy_from_slice(bytes);
        reseal(&mut image);
        assert_eq!(
            load(&image).unwrap_err(),
            PersistError::InvalidField { offset: entry },
            "case {i}"
        );
    }
    // Valid entries load.
    let mut image = fresh_image();
    image[entry..entry + ENTRY_LEN].copy_from_slice(&with(2, 0, one_time_index, one_time_until));
    image[entry + ENTRY_LEN..entry + 2 * ENTRY_LEN].copy_from_slice(&with(
        1,
        0,
        hourly_index,
        hourly_until,
    ));
    reseal(&mut image);
    assert_eq!(load(&image).unwrap().remembered().count(), 2);

    // A revoked slot the profile does not have (slot 100 of 100).
    let slots = ENTRIES - SLOT_BYTES;
    let mut image = fresh_image();
    image[slots + 12] = 0x10;
    reseal(&mut image);
    assert_eq!(
        load(&image).unwrap_err(),
        PersistError::InvalidField { offset: slots + 12 }
    );
    image[slots + 12] = 0x08; // slot 99: fine
    reseal(&mut image);
    assert!(load(&image).unwrap().is_slot_revoked(99));

    // A lineage mark on a profile without lineages.
    let marks = slots - 8 * usize::from(MAX_LINEAGES);
    let mut image = fresh_image();
    image[marks..marks + 4].copy_from_slice(&7u32.to_be_bytes());
    reseal(&mut image);
    assert_eq!(
        load(&image).unwrap_err(),
        PersistError::InvalidField { offset: marks }
    );
}

/// Service-code entries (tag 3): key 0 and the counter's end, on a
/// profile with service codes only.
#[cfg(feature = "service-codes")]
#[test]
fn lock_image_service_entries_are_checked() {
    use crate::profile::shipped::STANDARD_10_V2 as V2;
    let v2 = || crate::Codec::new(&DeviceKey::from_bytes([1; 16]), V2).unwrap();
    let image_of = |codec: crate::Codec, entry: [u8; ENTRY_LEN]| {
        let lock = L::new(codec, UtcOffset::UTC).unwrap();
        let mut image = [0u8; L::STATE_LEN];
        lock.save(&mut image).unwrap();
        image[ENTRIES..ENTRIES + ENTRY_LEN].copy_from_slice(&entry);
        image
    };
    let counter = 60_000_000u64;
    let hour = service_until_hour(&V2, counter).unwrap();
    let with = |key: u8, hour: u32| {
        let mut e = [0u8; ENTRY_LEN];
        e[0] = 3;
        e[1] = key;
        e[2..10].copy_from_slice(&counter.to_be_bytes());
        e[10..14].copy_from_slice(&hour.to_be_bytes());
        e
    };
    let mut good = image_of(v2(), with(0, hour));
    reseal_with(&v2(), &mut good);
    let lock = L::load(v2(), UtcOffset::UTC, &good).unwrap();
    let e = lock.remembered().next().unwrap();
    assert_eq!((e.kind, e.index), (EntryKind::Service, counter));
    for entry in [with(1, hour), with(0, hour + 1), with(0, hour - 1)] {
        let mut bad = image_of(v2(), entry);
        reseal_with(&v2(), &mut bad);
        assert_eq!(
            L::load(v2(), UtcOffset::UTC, &bad).unwrap_err(),
            PersistError::InvalidField { offset: ENTRIES }
        );
    }
    // A profile without service codes has no such entries.
    let mut v1 = image_of(codec(), with(0, hour));
    reseal(&mut v1);
    assert_eq!(
        load(&v1).unwrap_err(),
        PersistError::InvalidField { offset: ENTRIES }
    );
}

#[test]
fn lock_image_layout_adds_up() {
    assert_eq!(
        HEADER_LEN + CONFIG_LEN + STATE_FIXED_LEN + TAG_LEN + CRC_LEN,
        367
    );
    assert_eq!(state_len(0, 1), 375);
    assert_eq!(state_len(32, 1), 823);
    assert_eq!(state_len(64, 1), 1_271);
    assert_eq!(state_len(128, 1), 2_167);
    assert_eq!(state_len(32, 2), 831);
    #[cfg(feature = "lock-state-v1")]
    assert_eq!(v1::state_len(32), 892);
}
