//! Host side of the demo, run by cargo before the firmware is compiled:
//!
//! 1. puts the board's memory map (`memory-<board>.x`, by target) where
//!    cortex-m-rt's `link.x` finds it, as `memory.x`;
//! 2. plays the *issuer*: derives the lock's device key from a fixed master
//!    key, as a server provisioning the lock would, and issues the PINs the
//!    keypad script types, with the same `offpin` crate compiled for the
//!    host. The firmware gets the 16 key bytes and the PINs as constants.
//!
//! Issuing on the host keeps the firmware image what a real lock flashes:
//! `Lock::check` and its persistence, with no issuer (`Profile::plan`) and
//! no HMAC-SHA256 key derivation, so the sizes `run.sh` reports are a
//! lock's. It also makes every run a cross-architecture agreement test:
//! PINs issued by x86-64 code must be accepted by Cortex-M4 code.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use offpin::profile::shipped::{STANDARD_10, STANDARD_10_V2};
use offpin::recurring::{Hours, Weekdays};
use offpin::service::{ServiceSecret, hotp};
use offpin::{
    CodeRules, Codec, DeviceKey, FormatVersion, MasterKey, Profile, ProfileParams, Request, TzRule,
};

/// The fixed master secret of this demo (a real one comes from a CSPRNG
/// and never leaves the server).
const MASTER: [u8; 32] = *b"offpin firmware demo master key!";
/// The lock's id and key generation.
const DEVICE_ID: &[u8] = b"qemu-mps2-an386-front-door";
const GENERATION: u32 = 0;
/// The id of the lock's group (feature `group-keys`).
const GROUP_ID: &[u8] = b"qemu-building-a";
/// The id of the group's second member in the lock firmware's group phase.
const BACK_DOOR_ID: &[u8] = b"qemu-building-a-back-door";
/// Script time zero: 2025-12-01T00:00:00Z.
const T0: i64 = 1_764_547_200;
const H: i64 = 3_600;
/// The v2 script's time zero: 2026-03-23T00:00:00Z (Monday, 01:00 in
/// Paris).
const T0_V2: i64 = 1_774_224_000;
/// The Paris rule the v2 lock keeps.
const PARIS: TzRule = match TzRule::parse(b"CET-1CEST,M3.5.0,M10.5.0/3") {
    Ok(r) => r,
    Err(_) => panic!("rule"),
};
const MIN: i64 = 60;
/// One-time codes to issue for the memory-full phase: the lock's memory
/// (64, the profile's `lock_memory`) plus one.
const FILL: u32 = 65;
const D: i64 = 86_400;

/// Issues `request` under `codec` and writes it as the constant `name`
/// (a `Code` with its description `what`).
fn write_code(src: &mut String, codec: &Codec, name: &str, what: &str, request: &Request) {
    let issued = codec
        .issue(request)
        .unwrap_or_else(|e| panic!("issuing {name}: {e}"));
    writeln!(src, "/// {what}").unwrap();
    writeln!(
        src,
        "pub const {name}: Code = Code {{ name: {name:?}, what: {what:?}, pin: {:?} }};",
        issued.pin.as_str()
    )
    .unwrap();
}

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR is set by cargo"));
    memory_map(&out);
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CARGO_FEATURE_ANTI_PEEP");
    println!("cargo:rerun-if-env-changed=CARGO_FEATURE_GROUP_KEYS");
    println!("cargo:rerun-if-env-changed=CARGO_FEATURE_CODE_RULES");

    let key = MasterKey::from_bytes(MASTER)
        .derive_device_key(DEVICE_ID, GENERATION)
        .expect("device id is 1..=255 bytes");
    let codec = Codec::new(&key, validator_profile()).expect("shipped profile");
    let mut src = String::new();
    v1_codes(&mut src, &key, &codec);
    if env::var_os("CARGO_FEATURE_ANTI_PEEP").is_some() {
        anti_peep_codes(&mut src, &codec);
    }
    if env::var_os("CARGO_FEATURE_GROUP_KEYS").is_some() {
        group_codes(&mut src);
    }
    fill_codes(&mut src, &codec);
    v2_codes(&mut src, &key);
    service_code(&mut src, &key);
    fs::write(out.join("issued.rs"), src).expect("write issued.rs");
}

/// The profile of the validator's codes: `standard-10`, and with the
/// feature `code-rules` the same with both code rules (format v2), as
/// `src/validator.rs` holds it.
fn validator_profile() -> Profile {
    if env::var_os("CARGO_FEATURE_CODE_RULES").is_none() {
        return STANDARD_10;
    }
    Profile::new(ProfileParams {
        format: FormatVersion::V2,
        code_rules: CodeRules::ALL,
        ..STANDARD_10.params()
    })
    .expect("standard-10 with code rules")
}

/// The board's memory map, by target (see src/board.rs), copied to
/// `out` as `memory.x`, where cortex-m-rt's `link.x` finds it.
fn memory_map(out: &Path) {
    let memory = match env::var("TARGET").as_deref() {
        Ok("thumbv6m-none-eabi") => "memory-microbit.x",
        Ok("thumbv8m.main-none-eabi") => "memory-an505.x",
        _ => "memory-an386.x",
    };
    fs::copy(memory, out.join("memory.x")).expect("copy the memory map");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed={memory}");
}

/// The v1 script's time zero, the lock's device key, and the v1 phase's
/// codes (issued under `codec`: `key` and `standard-10`).
fn v1_codes(src: &mut String, key: &DeviceKey, codec: &Codec) {
    // (constant name, what it is, request)
    let codes: [(&str, &str, Request); 6] = [
        (
            "STAY",
            "time-bound 2025-12-01 15:00 .. 12-04 11:00 (68 h: needs activation)",
            Request::time_bound(T0 + 15 * H, T0 + 3 * D + 11 * H),
        ),
        (
            "CLEANING",
            "time-bound 2025-12-02 10:00 .. 14:00 (4 h)",
            Request::time_bound(T0 + D + 10 * H, T0 + D + 14 * H),
        ),
        (
            "ONCE",
            "one-time, use window from 2025-12-03 10:00 (24 h)",
            Request::one_time(T0 + 2 * D + 10 * H),
        ),
        ("OWNER", "ongoing, slot 7", Request::ongoing(7)),
        (
            "REVOKE_OWNER",
            "revokes ongoing slot 7",
            Request::revoke_slot(7),
        ),
        ("HANDYMAN", "ongoing, slot 8", Request::ongoing(8)),
    ];

    writeln!(
        src,
        "// Generated by build.rs: the issuer's side of the demo."
    )
    .unwrap();
    writeln!(
        src,
        "/// Script time zero (Unix seconds): 2025-12-01T00:00:00Z."
    )
    .unwrap();
    writeln!(src, "pub const T0: i64 = {T0};").unwrap();
    writeln!(src, "/// The lock's device key, derived from the demo master key for device id {:?}, generation {GENERATION}.",
        String::from_utf8_lossy(DEVICE_ID)).unwrap();
    writeln!(
        src,
        "pub const DEVICE_KEY: [u8; 16] = {:?};",
        key.expose_secret()
    )
    .unwrap();
    for (name, what, request) in codes {
        write_code(src, codec, name, what, &request);
    }
}

/// The anti-peep phase (feature `anti-peep`): the owner's PIN typed
/// among extra digits. `entry_max_digits` is policy, not format, so the
/// PIN is the one `standard-10` issues.
fn anti_peep_codes(src: &mut String, codec: &Codec) {
    let owner = codec.issue(&Request::ongoing(7)).expect("owner").pin;
    let owner = owner.as_str();
    for (name, what, entry) in [
        (
            "OWNER_HIDDEN",
            "the owner's PIN at position 2 of 16 keys",
            format!("31{owner}4159"),
        ),
        (
            "OWNER_FIRST",
            "the owner's PIN first, then 6 more keys",
            format!("{owner}265358"),
        ),
        (
            "OWNER_17",
            "the owner's PIN inside 17 keys (one over the bound)",
            format!("979{owner}3238"),
        ),
    ] {
        writeln!(src, "/// {what}").unwrap();
        writeln!(
            src,
            "pub const {name}: Code = Code {{ name: {name:?}, what: {what:?}, pin: {entry:?} }};"
        )
        .unwrap();
    }
}

/// Group keys (feature `group-keys`): the key of the lock's group and
/// PINs issued under it, which open every member of the group; and the
/// device key of the group's second member, the back door.
fn group_codes(src: &mut String) {
    let group = MasterKey::from_bytes(MASTER)
        .derive_group_key(GROUP_ID, GENERATION)
        .expect("group id is 1..=255 bytes");
    writeln!(src, "/// The key of the lock's group, derived from the demo master key for group id {:?}, generation {GENERATION}.",
        String::from_utf8_lossy(GROUP_ID)).unwrap();
    writeln!(
        src,
        "pub const GROUP_KEY: [u8; 16] = {:?};",
        group.expose_secret()
    )
    .unwrap();
    let group = Codec::new(&group, validator_profile()).expect("shipped profile");
    write_code(
        src,
        &group,
        "GROUP",
        "ongoing, slot 3, under the group key (opens every member)",
        &Request::ongoing(3),
    );
    write_code(
        src,
        &group,
        "GROUP_ONCE",
        "one-time under the group key, use window from 2025-12-03 10:00 (once per member)",
        &Request::one_time(T0 + 2 * D + 10 * H),
    );
    // The lock firmware's group phase: a second member of the group,
    // the back door, with its own device key.
    let back = MasterKey::from_bytes(MASTER)
        .derive_device_key(BACK_DOOR_ID, GENERATION)
        .expect("device id is 1..=255 bytes");
    writeln!(src, "/// The back door's device key (a second member of the group), derived for device id {:?}, generation {GENERATION}.",
        String::from_utf8_lossy(BACK_DOOR_ID)).unwrap();
    writeln!(
        src,
        "pub const BACK_DOOR_KEY: [u8; 16] = {:?};",
        back.expose_secret()
    )
    .unwrap();
}

/// Enough one-time codes to fill the lock's memory and one more: use
/// windows from 2025-12-05 00:00, one per hour and variance.
fn fill_codes(src: &mut String, codec: &Codec) {
    let variances = u32::from(STANDARD_10.params().variances);
    let fill: Vec<String> = (0..FILL)
        .map(|i| {
            let (hour, variance) = (i / variances, i % variances);
            let request = Request::one_time(T0 + 4 * D + i64::from(hour) * H)
                .with_variance(u8::try_from(variance).expect("variance < 256"));
            codec
                .issue(&request)
                .expect("fill code")
                .pin
                .as_str()
                .to_owned()
        })
        .collect();
    writeln!(src, "/// {FILL} one-time codes, use windows from 2025-12-05 00:00 + i / {variances} h, variance i % {variances}.").unwrap();
    writeln!(src, "pub const FILL: [&str; {FILL}] = {fill:?};").unwrap();
}

/// The v2 phase: the same key, the format-v2 profile, the Paris rule.
fn v2_codes(src: &mut String, key: &DeviceKey) {
    let v2 = Codec::new(key, STANDARD_10_V2).expect("shipped profile");
    let monday = PARIS.day_start(PARIS.local_day(T0_V2));
    let saturday = PARIS.local_day(T0_V2) + 5;
    let v2_codes: [(&str, &str, Request); 4] = [
        (
            "CLEANER",
            "recurring: weekdays 08:00-12:00 Paris time, 13 weeks from Monday 2026-03-23",
            Request::recurring(monday, 13, Weekdays::WEEKDAYS, Hours::new(8, 12)).with_zone(PARIS),
        ),
        (
            "SPRING",
            "daily: 35 local days from Saturday 2026-03-28, over the DST change",
            Request::time_bound(PARIS.day_start(saturday), PARIS.day_start(saturday + 35))
                .with_zone(PARIS),
        ),
        (
            "CLOCK_NOW",
            "clock-setting: 2026-05-04 06:30Z",
            Request::clock_set(T0_V2 + 42 * D + 6 * H + 30 * MIN).with_zone(PARIS),
        ),
        (
            "CLOCK_FAR",
            "clock-setting: 8 days later (beyond the 7-day step)",
            Request::clock_set(T0_V2 + 50 * D + 6 * H + 30 * MIN).with_zone(PARIS),
        ),
    ];
    writeln!(src, "/// The v2 script's time zero: 2026-03-23T00:00:00Z.").unwrap();
    writeln!(src, "pub const T0_V2: i64 = {T0_V2};").unwrap();
    for (name, what, request) in v2_codes {
        write_code(src, &v2, name, what, &request);
    }
}

/// The service code an authenticator app shows at SERVICE_AT (RFC 6238
/// of the device's service secret; the server would use
/// `server::service::code_at`, which needs std).
fn service_code(src: &mut String, key: &DeviceKey) {
    let service_at = T0_V2 + 39 * D + 22 * H + 30 * MIN + 10;
    let codes = STANDARD_10_V2.params().service_codes;
    let counter = u64::try_from(service_at / i64::from(codes.step_secs)).expect("after 1970");
    let code = hotp(&ServiceSecret::derive(key), counter, codes.digits);
    let digits = usize::from(codes.digits);
    let what = "service code (RFC 6238) at 2026-05-01 22:30:10Z";
    writeln!(src, "/// When the service code is shown (after T0_V2).").unwrap();
    writeln!(src, "pub const SERVICE_AT: i64 = {};", service_at - T0_V2).unwrap();
    writeln!(src, "/// {what}").unwrap();
    writeln!(
        src,
        "pub const SERVICE: Code = Code {{ name: \"SERVICE\", what: {what:?}, pin: \"{code:0digits$}\" }};"
    )
    .unwrap();
}
