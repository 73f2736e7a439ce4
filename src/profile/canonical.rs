//! Format versions and the canonical encoding of a profile's format
//! parameters, from which the FF1 tweak is derived.
//!
//! # Versions
//!
//! | version | label (18 bytes) | after the v1 fields |
//! |---|---|---|
//! | [`FormatVersion::V1`] | `"offpin/v1/profile\0"` | nothing: 51 bytes in all, the encoding of offpin 0.1 |
//! | [`FormatVersion::V2`] | `"offpin/v2/profile\0"` | the extension fields, each `u8 tag ‖ u16 length ‖ value`, in increasing tag order |
//!
//! The v1 fields are the same in both versions (see `docs/FORMAT.md`
//! §2.1). A v2 field is present only when its feature is enabled, so a v2
//! profile without extensions is 51 bytes too (and has another tweak than
//! the v1 profile with the same fields: the label differs).
//!
//! # Extension fields
//!
//! Each format-v2 feature owns one [`Tag`]. A reader that meets a tag it
//! does not know cannot interpret the profile (the tag changes the PINs):
//! tags are not optional extras but part of the profile's identity, which
//! is why they enter the tweak. Adding a feature means: a new [`Tag`], an
//! arm in [`field_present`] and one in [`write_field`], a bound in
//! [`Profile::new`](super::Profile::new), and a row in `docs/FORMAT.md`
//! §2.3.
//!
//! Everything here is `const`: [`Profile::new`](super::Profile::new)
//! computes the canonical bytes and their SHA-256 at compile time for a
//! `const` profile.

use core::fmt;

use super::{ProfileParams, sha256};
use crate::alphabet::Alphabet;

/// The format version of a profile: which encoding of grants its PINs
/// use. A lock built for a version keeps it for its life; offpin issues
/// and checks every version it ever shipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FormatVersion {
    /// The format of offpin 0.1: hourly, daily, one-time, ongoing and
    /// revocation codes.
    V1,
    /// Version 1 plus extension fields: weekly recurring codes,
    /// clock-setting codes and rolling service codes, keypad alphabets
    /// and code rules.
    V2,
}

impl FormatVersion {
    /// The version's number (`1`, `2`).
    pub const fn number(self) -> u8 {
        match self {
            FormatVersion::V1 => 1,
            FormatVersion::V2 => 2,
        }
    }

    /// The 18-byte label that starts the canonical encoding.
    pub const fn label(self) -> &'static [u8; 18] {
        match self {
            FormatVersion::V1 => b"offpin/v1/profile\0",
            FormatVersion::V2 => b"offpin/v2/profile\0",
        }
    }
}

impl fmt::Display for FormatVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.number())
    }
}

/// The tag of a format-v2 extension field (`docs/FORMAT.md` §2.3). Fields
/// appear in the canonical encoding in increasing tag order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Tag {
    /// 1: the menu of weekly recurring codes.
    Recurring,
    /// 2: clock-setting codes.
    ClockCodes,
    /// 3: rolling service codes (RFC 6238).
    ServiceCodes,
    /// 4: the keypad's keys, when they are not the radix's standard keys
    /// (a radix other than 10 and 9 with standard keys needs no field:
    /// the radix is a v1 field).
    Alphabet,
    /// 5: code rules (`cannot_start_with_12`,
    /// `no_triple_consecutive_ints`), when the profile has any.
    CodeRules,
}

impl Tag {
    /// Every tag, in canonical order.
    pub const ALL: [Tag; 5] = [
        Tag::Recurring,
        Tag::ClockCodes,
        Tag::ServiceCodes,
        Tag::Alphabet,
        Tag::CodeRules,
    ];

    /// The tag's byte in the canonical encoding.
    pub const fn value(self) -> u8 {
        match self {
            Tag::Recurring => 1,
            Tag::ClockCodes => 2,
            Tag::ServiceCodes => 3,
            Tag::Alphabet => 4,
            Tag::CodeRules => 5,
        }
    }

    /// A short name (`recurring`, `clock_codes`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            Tag::Recurring => "recurring",
            Tag::ClockCodes => "clock_codes",
            Tag::ServiceCodes => "service_codes",
            Tag::Alphabet => "alphabet",
            Tag::CodeRules => "code_rules",
        }
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (tag {})", self.name(), self.value())
    }
}

/// The most bytes a canonical encoding may take. [`Profile::new`]
/// refuses a profile whose encoding would be longer
/// ([`ProfileError::CanonicalTooLong`](super::ProfileError::CanonicalTooLong)).
///
/// [`Profile::new`]: super::Profile::new
pub const CANONICAL_CAPACITY: usize = 256;

/// The canonical encoding of a profile: a fixed-capacity buffer and its
/// length (no heap). Read it with [`Canonical::as_bytes`].
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Canonical {
    bytes: [u8; CANONICAL_CAPACITY],
    len: usize,
    /// A write did not fit (`len` stopped at the capacity).
    overflow: bool,
}

impl Canonical {
    const fn empty() -> Canonical {
        Canonical {
            bytes: [0; CANONICAL_CAPACITY],
            len: 0,
            overflow: false,
        }
    }

    /// The encoded bytes.
    pub const fn as_bytes(&self) -> &[u8] {
        match self.bytes.split_at_checked(self.len) {
            Some((head, _)) => head,
            None => &self.bytes,
        }
    }

    /// The number of encoded bytes.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is encoded (never, for a profile).
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether a write did not fit in [`CANONICAL_CAPACITY`].
    pub(crate) const fn overflowed(&self) -> bool {
        self.overflow
    }

    /// Appends `bytes`, or marks the buffer overflowed.
    pub(crate) const fn put(&mut self, bytes: &[u8]) {
        let mut i = 0;
        while i < bytes.len() {
            if self.len >= CANONICAL_CAPACITY {
                self.overflow = true;
                return;
            }
            #[allow(
                clippy::indexing_slicing,
                reason = "i < bytes.len() and self.len < CANONICAL_CAPACITY are checked"
            )]
            {
                self.bytes[self.len] = bytes[i];
            }
            self.len += 1;
            i += 1;
        }
    }

    /// Appends one byte.
    pub(crate) const fn put_u8(&mut self, b: u8) {
        self.put(&[b]);
    }

    /// Overwrites the two bytes at `at` (a field's length, once its value
    /// is written); ignored out of range.
    const fn patch_u16(&mut self, at: usize, value: u16) {
        let b = value.to_be_bytes();
        if at + 1 < self.len {
            #[allow(clippy::indexing_slicing, reason = "at + 1 < self.len <= capacity")]
            {
                self.bytes[at] = b[0];
                self.bytes[at + 1] = b[1];
            }
        }
    }
}

impl AsRef<[u8]> for Canonical {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl fmt::Debug for Canonical {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Canonical(")?;
        for b in self.as_bytes() {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

/// Whether `p` carries the extension field `tag` (its feature is enabled).
pub(crate) const fn field_present(p: &ProfileParams, tag: Tag) -> bool {
    match tag {
        Tag::Recurring => p.recurring.is_enabled(),
        Tag::ClockCodes => p.clock_codes.is_enabled(),
        Tag::ServiceCodes => p.service_codes.is_enabled(),
        Tag::Alphabet => custom_keys(p),
        Tag::CodeRules => !p.code_rules.is_empty(),
    }
}

/// The alphabet of `p`: its radix with its keys (the standard ones for
/// keys [`Profile::new`](super::Profile::new) refuses).
pub(crate) const fn alphabet_of(p: &ProfileParams) -> Alphabet {
    match Alphabet::new(p.radix, p.keys) {
        Ok(a) => a,
        Err(_) => Alphabet::standard(p.radix),
    }
}

/// Whether `p`'s keys differ from its radix's standard keys (given
/// explicitly, the standard keys are standard: one encoding per
/// alphabet).
pub(crate) const fn custom_keys(p: &ProfileParams) -> bool {
    !alphabet_of(p).same_as(&Alphabet::standard(p.radix))
}

/// Writes the value of the extension field `tag` of `p` (its length is
/// patched in by the caller).
#[allow(
    clippy::cast_possible_truncation,
    reason = "a menu has at most MAX_MENU (32) entries, checked by Profile::new"
)]
const fn write_field(p: &ProfileParams, tag: Tag, w: &mut Canonical) {
    match tag {
        // u8 masks, each mask; u8 ranges, each (from, to); u16 max_weeks.
        Tag::Recurring => {
            let menu = p.recurring;
            w.put_u8(menu.days.len() as u8);
            let mut i = 0;
            while i < menu.days.len() {
                #[allow(clippy::indexing_slicing, reason = "i < menu.days.len()")]
                w.put_u8(menu.days[i].0);
                i += 1;
            }
            w.put_u8(menu.hours.len() as u8);
            let mut i = 0;
            while i < menu.hours.len() {
                #[allow(clippy::indexing_slicing, reason = "i < menu.hours.len()")]
                let h = menu.hours[i];
                w.put(&[h.from, h.to]);
                i += 1;
            }
            w.put(&menu.max_weeks.to_be_bytes());
        }
        // u16 unit_minutes, u16 max_step_hours.
        Tag::ClockCodes => {
            w.put(&p.clock_codes.unit_minutes.to_be_bytes());
            w.put(&p.clock_codes.max_step_hours.to_be_bytes());
        }
        // u8 digits, u16 step_secs, u8 skew_steps.
        Tag::ServiceCodes => {
            let c = p.service_codes;
            w.put_u8(c.digits);
            w.put(&c.step_secs.to_be_bytes());
            w.put_u8(c.skew_steps);
        }
        // u8 radix, then the key (ASCII) of each numeral, numeral 0 first.
        Tag::Alphabet => {
            let a = alphabet_of(p);
            let r = p.radix.value() as usize;
            w.put_u8(r as u8);
            let mut v = 0;
            while v < r {
                w.put_u8(a.key_at(v));
                v += 1;
            }
        }
        // u8: the rules' bits (bit 0 cannot_start_with_12, bit 1
        // no_triple_consecutive_ints).
        Tag::CodeRules => w.put_u8(p.code_rules.bits()),
    }
}

/// The canonical encoding of `p`'s format parameters: the label of its
/// version, the v1 fields, and for v2 the extension fields in tag order.
#[allow(
    clippy::cast_possible_truncation,
    reason = "a radix is at most 10; the revocation flag is 0 or 1; a field's length is checked against u16::MAX"
)]
pub(crate) const fn canonical_of(p: &ProfileParams) -> Canonical {
    let mut w = Canonical::empty();
    w.put(p.format.label());
    w.put(&[p.radix.value() as u8, p.digits]);
    w.put(&p.epoch.to_be_bytes());
    w.put(&p.lifetime_days.to_be_bytes());
    w.put(&[p.variances, p.lineages]);
    w.put(&p.hourly_max_hours.to_be_bytes());
    w.put(&p.daily_max_days.to_be_bytes());
    w.put(&p.one_time_use_hours.to_be_bytes());
    w.put(&p.ongoing_slots.to_be_bytes());
    w.put(&[p.revocation as u8]);
    if matches!(p.format, FormatVersion::V1) {
        return w;
    }
    let mut i = 0;
    while i < Tag::ALL.len() {
        #[allow(clippy::indexing_slicing, reason = "i < Tag::ALL.len()")]
        let tag = Tag::ALL[i];
        if field_present(p, tag) {
            w.put_u8(tag.value());
            let at = w.len;
            w.put(&[0, 0]);
            write_field(p, tag, &mut w);
            let len = w.len - at - 2;
            if len > u16::MAX as usize {
                w.overflow = true;
            }
            w.patch_u16(at, len as u16);
        }
        i += 1;
    }
    w
}

/// The FF1 tweak of `p`: the first 8 bytes of SHA-256 of its canonical
/// bytes, with the `const` SHA-256 of [`sha256`].
#[allow(clippy::indexing_slicing, reason = "i < 8 < 32, the digest's length")]
pub(crate) const fn tweak_of(canonical: &Canonical) -> [u8; 8] {
    let digest = sha256::sha256(canonical.as_bytes());
    let mut t = [0u8; 8];
    let mut i = 0;
    while i < 8 {
        t[i] = digest[i];
        i += 1;
    }
    t
}
