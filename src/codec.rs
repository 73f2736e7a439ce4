//! [`Codec`]: one device key and one profile, with FF1 precomputed; the
//! object both the issuer and the lock hold.

use core::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::alphabet::Alphabet;
use crate::ff1::{Ff1Aes128, Ff1Error};
use crate::grant::Grant;
#[cfg(feature = "code-rules")]
use crate::grant::GrantError;
use crate::issue::{IssueError, Issued, Request};
use crate::keys::DeviceKey;
use crate::pin::{Pin, PinError};
use crate::profile::Profile;

/// Why typed digits could not be decoded to a grant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input is not a PIN of the profile (length, characters).
    Pin(PinError),
    /// The PIN decrypts to an index no grant has (a wrong PIN).
    NotAGrant,
    /// The cipher refused the numeral (cannot happen for a parsed PIN).
    Cipher(Ff1Error),
}

impl DecodeError {
    /// A stable snake_case code: the [`PinError::code`] of malformed
    /// input, `not_a_grant` for a PIN that names no grant, `cipher` for
    /// the cipher's refusal; the `Display` text is informative English.
    pub const fn code(&self) -> &'static str {
        match self {
            DecodeError::Pin(e) => e.code(),
            DecodeError::NotAGrant => "not_a_grant",
            DecodeError::Cipher(_) => "cipher",
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Pin(e) => fmt::Display::fmt(e, f),
            DecodeError::NotAGrant => f.write_str("the PIN is not valid for this lock"),
            DecodeError::Cipher(e) => write!(f, "cipher error: {e}"),
        }
    }
}

/// The wrapped [`PinError`] or [`Ff1Error`] is the `source()` of
/// [`DecodeError::Pin`] and [`DecodeError::Cipher`]; their `Display` shows
/// its message too, so that one line says what is wrong.
impl core::error::Error for DecodeError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            DecodeError::Pin(e) => Some(e),
            DecodeError::Cipher(e) => Some(e),
            DecodeError::NotAGrant => None,
        }
    }
}

impl From<PinError> for DecodeError {
    fn from(e: PinError) -> Self {
        DecodeError::Pin(e)
    }
}

/// A device key bound to a profile, with the key-dependent half of FF1
/// precomputed (the AES key schedule and the CBC-MAC state of the fixed
/// blocks). Build it once per key, then issue or decode many PINs.
///
/// The tweak is [`Profile::tweak`], so the same key gives unrelated PINs
/// under different profiles.
///
/// Its key-derived state (the AES key schedule, the CBC-MAC of the fixed
/// blocks) is zeroized on drop, and `Debug` shows only the radix, the
/// length and the profile.
///
/// # Examples
///
/// ```
/// use offpin::{Codec, DeviceKey, Request};
/// use offpin::profile::shipped::STANDARD_10;
///
/// let codec = Codec::new(&DeviceKey::from_bytes([42; 16]), STANDARD_10)?;
/// let t = STANDARD_10.epoch() + 24 * 3600;
/// let issued = codec.issue(&Request::time_bound(t, t + 3 * 3600))?;
/// assert_eq!(codec.decode(&issued.pin)?, issued.plan.grant);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Codec {
    ff1: Ff1Aes128,
    profile: Profile,
    /// The profile's keypad alphabet, resolved once (without the feature
    /// `alphabets`, `Profile::new` admits only the built-in ones: the
    /// radix says it all).
    #[cfg(feature = "alphabets")]
    alphabet: Alphabet,
}

impl ZeroizeOnDrop for Codec {}

impl Codec {
    /// Precomputes FF1 for `key` under `profile`.
    ///
    /// # Errors
    ///
    /// [`Ff1Error`] only if the profile's length is outside FF1's range,
    /// which [`Profile::new`] already rules out.
    pub fn new(key: &DeviceKey, profile: Profile) -> Result<Codec, Ff1Error> {
        let ff1 = Ff1Aes128::new(
            key.expose_secret(),
            profile.radix(),
            profile.digits(),
            &profile.tweak(),
        )?;
        Ok(Codec {
            ff1,
            #[cfg(feature = "alphabets")]
            alphabet: profile.alphabet(),
            profile,
        })
    }

    /// AES-128 under this codec's device key (crate-internal: the lock
    /// derives its state key and key fingerprint with it).
    pub(crate) const fn cipher(&self) -> &aes::Aes128 {
        self.ff1.cipher()
    }

    /// The keypad alphabet of the profile.
    fn alphabet(&self) -> Alphabet {
        #[cfg(feature = "alphabets")]
        {
            self.alphabet
        }
        #[cfg(not(feature = "alphabets"))]
        {
            Alphabet::standard(self.profile.radix())
        }
    }

    /// The profile this codec encodes.
    pub const fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The PIN of one grant.
    ///
    /// # Errors
    ///
    /// [`IssueError::Grant`] when the grant is outside the profile.
    pub fn pin_for(&self, grant: &Grant) -> Result<Pin, IssueError> {
        let index = self.profile.index_of(grant)?;
        let value = self.ff1.encrypt(index)?;
        #[cfg(feature = "code-rules")]
        let value = self
            .walked(value)?
            .ok_or(IssueError::Grant(GrantError::WalkTooLong { index }))?;
        Pin::from_value(value, self.alphabet(), self.profile.digits())
            .map_err(|_| IssueError::Cipher(Ff1Error::NumeralOutOfRange))
    }

    /// With code rules, the numeral of the PIN whose FF1 evaluation (of
    /// the index) is `first`: the walk on inside `S`, then the string of
    /// that rank; `None` if the walk is too long. `first` itself without
    /// rules.
    #[cfg(feature = "code-rules")]
    fn walked(&self, first: u64) -> Result<Option<u64>, Ff1Error> {
        let Some(set) = self.profile.pin_set() else {
            return Ok(Some(first));
        };
        let Some(rank) = crate::rules::walk(first, set.len(), |y| self.ff1.encrypt(y))? else {
            return Ok(None);
        };
        set.unrank(rank)
            .map(Some)
            .ok_or(Ff1Error::NumeralOutOfRange)
    }

    /// FF1⁻¹ of the typed numeral `value`, walked back inside `S` with
    /// code rules: a string that breaks a rule is refused before any AES.
    fn decrypt_typed(&self, value: u64) -> Result<u64, DecodeError> {
        #[cfg(feature = "code-rules")]
        if let Some(set) = self.profile.pin_set() {
            let mut rank = set.rank_checked(value)?;
            let first = self.ff1.decrypt(rank);
            rank.zeroize();
            let index = crate::rules::walk(first.map_err(DecodeError::Cipher)?, set.len(), |y| {
                self.ff1.decrypt(y)
            });
            return index
                .map_err(DecodeError::Cipher)?
                .ok_or(DecodeError::NotAGrant);
        }
        self.ff1.decrypt(value).map_err(DecodeError::Cipher)
    }

    /// PINs for many grants at once: FF1 evaluations are interleaved so the
    /// AES unit is pipelined. `out` receives the numerals (render them with
    /// [`Pin::from_value`]); it must be as long as `grants`.
    ///
    /// # Errors
    ///
    /// [`IssueError::Grant`] for the first grant outside the profile (no
    /// output is written then).
    pub fn pin_values_for(&self, grants: &[Grant], out: &mut [u64]) -> Result<(), IssueError> {
        for (dst, g) in out.iter_mut().zip(grants) {
            *dst = self.profile.index_of(g)?;
        }
        let n = grants.len().min(out.len());
        let Some(values) = out.get_mut(..n) else {
            return Ok(());
        };
        self.ff1.encrypt_batch(values)?;
        #[cfg(feature = "code-rules")]
        if self.profile.pin_set().is_some() {
            for (value, g) in values.iter_mut().zip(grants) {
                *value = match self.walked(*value)? {
                    Some(v) => v,
                    None => {
                        let index = self.profile.index_of(g)?;
                        return Err(IssueError::Grant(GrantError::WalkTooLong { index }));
                    }
                };
            }
        }
        Ok(())
    }

    /// Plans a request and encodes it.
    ///
    /// # Errors
    ///
    /// Any [`IssueError`] of [`Profile::plan`].
    pub fn issue(&self, request: &Request) -> Result<Issued, IssueError> {
        let plan = self.profile.plan(request)?;
        let pin = self.pin_for(&plan.grant)?;
        Ok(Issued { pin, plan })
    }

    /// Decrypts a PIN to the grant it names. The PIN's keys are read as
    /// this profile's keypad reads them, exactly as
    /// [`decode_input`](Self::decode_input) reads typed keys.
    ///
    /// # Errors
    ///
    /// [`DecodeError::NotAGrant`] for a PIN that names no grant, and
    /// [`DecodeError::Pin`] when the PIN's length does not match the
    /// profile or it has a key the profile's keypad lacks (a `0`, from a
    /// PIN parsed for radix 10, on a nine-key profile:
    /// [`PinError::ZeroOnNineKeyPad`]).
    pub fn decode(&self, pin: &Pin) -> Result<Grant, DecodeError> {
        self.decode_input(pin.as_bytes())
    }

    /// Parses typed keypad input and decodes it.
    ///
    /// # Errors
    ///
    /// [`DecodeError::Pin`] for input that is not a PIN of the profile
    /// (empty, wrong length, not digits, a `0` on a nine-key keypad), and
    /// [`DecodeError::NotAGrant`] for a PIN that names no grant.
    pub fn decode_input(&self, typed: &[u8]) -> Result<Grant, DecodeError> {
        self.decode_indexed(typed).map(|(_, grant)| grant)
    }

    /// [`decode_input`](Self::decode_input), with the grant's index (the
    /// lock remembers codes by index: it need not pack the grant again).
    pub(crate) fn decode_indexed(&self, typed: &[u8]) -> Result<(u64, Grant), DecodeError> {
        // The lock's hot path: the value is read straight from the typed
        // bytes (what `Pin::parse` then `Pin::value` give, with the same
        // errors), without copying the digits into a `Pin` buffer that
        // would then have to be zeroized.
        let mut value = crate::pin::typed_value(typed, &self.alphabet(), self.profile.digits())?;
        let index = self.decrypt_typed(value);
        value.zeroize();
        let index = index?;
        let grant = self.profile.grant_at(index).ok_or(DecodeError::NotAGrant)?;
        Ok((index, grant))
    }
}
