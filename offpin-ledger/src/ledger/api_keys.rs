//! API keys of the hosted access-code service, stored in the ledger.
//!
//! A key reads `seam_<id>_<secret>`: the `seam_` prefix the official SDKs
//! of the hosted lock API require, a public 12-hex-digit id (48 random
//! bits) that names the key in the store, and a 48-hex-digit secret (192
//! random bits). The store keeps the id, the operator's name for the key
//! and the SHA-256 of the whole key, never the key itself.
//!
//! [`ApiKeyStore::authenticate`] finds the stored key by its id, then
//! compares the SHA-256 of what was presented with the stored hash in
//! constant time. The look-up by id may take a time that depends on the
//! id (an index search): it tells an attacker at most whether a 48-bit id
//! exists, never anything about the 192-bit secret.

use core::fmt;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::LedgerError;
use super::ct_eq;
use crate::chrono_time::truncate_millis;

/// The prefix of every key (what the official SDKs accept).
pub const API_KEY_PREFIX: &str = "seam_";
/// Random bytes of a key's public id.
pub const KEY_ID_BYTES: usize = 6;
/// Random bytes of a key's secret (192 bits).
pub const SECRET_BYTES: usize = 24;
/// Random bytes [`ApiKey::from_random`] takes.
pub const RANDOM_BYTES: usize = KEY_ID_BYTES + SECRET_BYTES;
/// Length of a key's text.
pub const API_KEY_LEN: usize = API_KEY_PREFIX.len() + 2 * KEY_ID_BYTES + 1 + 2 * SECRET_BYTES;
/// Longest operator name of a key.
pub const MAX_NAME_LEN: usize = 100;

/// A freshly created API key: shown once to the operator, then only its
/// hash is kept. Zeroized on drop, redacted in `Debug`.
pub struct ApiKey {
    text: String,
}

impl ApiKey {
    /// The key made of `random` (from the operating system's generator):
    /// the first [`KEY_ID_BYTES`] bytes give its id, the rest its secret.
    ///
    /// # Examples
    ///
    /// ```
    /// use offpin_ledger::ledger::api_keys::{ApiKey, API_KEY_LEN};
    /// let key = ApiKey::from_random(&[0xab; 30]);
    /// assert!(key.expose_secret().starts_with("seam_abababababab_"));
    /// assert_eq!(key.expose_secret().len(), API_KEY_LEN);
    /// assert_eq!(key.key_id(), "abababababab");
    /// assert_eq!(format!("{key:?}"), "ApiKey(seam_abababababab_..)");
    /// ```
    pub fn from_random(random: &[u8; RANDOM_BYTES]) -> Self {
        let (id, secret) = random.split_at(KEY_ID_BYTES);
        let mut text = String::with_capacity(API_KEY_LEN);
        text.push_str(API_KEY_PREFIX);
        push_hex(&mut text, id);
        text.push('_');
        push_hex(&mut text, secret);
        ApiKey { text }
    }

    /// The key's text, to hand to the operator once.
    pub fn expose_secret(&self) -> &str {
        &self.text
    }

    /// The key's public id.
    pub fn key_id(&self) -> &str {
        parse(&self.text).map_or("", |(id, _)| id)
    }

    /// The SHA-256 of the key's text (what the store keeps).
    pub fn hash(&self) -> [u8; 32] {
        hash(&self.text)
    }
}

impl Drop for ApiKey {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.text.zeroize();
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({API_KEY_PREFIX}{}_..)", self.key_id())
    }
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        for nibble in [b >> 4, b & 0xf] {
            out.push(char::from(
                HEX.get(usize::from(nibble)).copied().unwrap_or(b'0'),
            ));
        }
    }
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

/// The id and secret of a well-formed key text, or `None`.
fn parse(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix(API_KEY_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    (is_lower_hex(id, 2 * KEY_ID_BYTES) && is_lower_hex(secret, 2 * SECRET_BYTES))
        .then_some((id, secret))
}

fn hash(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

/// What a key may do beyond the API's ordinary calls: nothing unless the
/// operator said so when creating it (`offpin api-key create
/// --can-read-service-secrets --can-issue-clock-codes`). Stored with the
/// key as a list of names ([`Capabilities::to_column`]); a name this
/// build does not know grants nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Capabilities {
    /// `read_service_secrets`: `/devices/get` shows the device's rolling
    /// service codes as an `otpauth://` URI, which holds the secret that
    /// opens the lock at any time.
    pub read_service_secrets: bool,
    /// `issue_clock_codes`: `/access_codes/create` issues clock-setting
    /// codes, which move a lock's clock forward (so that codes of a later
    /// window open early, and earlier ones stop).
    pub issue_clock_codes: bool,
}

impl Capabilities {
    /// No capability: what a key gets by default.
    pub const NONE: Capabilities = Capabilities {
        read_service_secrets: false,
        issue_clock_codes: false,
    };

    /// The names of the capabilities held, in a fixed order.
    ///
    /// ```
    /// use offpin_ledger::ledger::api_keys::Capabilities;
    /// let c = Capabilities { issue_clock_codes: true, ..Capabilities::NONE };
    /// assert_eq!(c.names(), ["issue_clock_codes"]);
    /// assert_eq!(Capabilities::from_column(c.to_column().as_deref()), c);
    /// assert_eq!(Capabilities::from_column(Some("fly,issue_clock_codes")), c);
    /// ```
    pub fn names(&self) -> Vec<&'static str> {
        [
            (self.read_service_secrets, "read_service_secrets"),
            (self.issue_clock_codes, "issue_clock_codes"),
        ]
        .into_iter()
        .filter_map(|(held, name)| held.then_some(name))
        .collect()
    }

    /// The stored value: the names joined by commas, `None` for none.
    pub fn to_column(&self) -> Option<String> {
        let names = self.names();
        (!names.is_empty()).then(|| names.join(","))
    }

    /// The capabilities of a stored value (`None`: a key stored before
    /// capabilities existed, which has none).
    pub fn from_column(value: Option<&str>) -> Capabilities {
        let mut c = Capabilities::NONE;
        for name in value.unwrap_or_default().split(',') {
            match name.trim() {
                "read_service_secrets" => c.read_service_secrets = true,
                "issue_clock_codes" => c.issue_clock_codes = true,
                _ => {}
            }
        }
        c
    }
}

/// A stored API key: what the store keeps about it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// The key's public id.
    pub key_id: String,
    /// The operator's name for the key.
    pub name: String,
    /// SHA-256 of the key's text.
    pub hash: [u8; 32],
    /// When the key was created.
    pub created_at: DateTime<Utc>,
    /// When the key was revoked (`None`: valid).
    pub revoked_at: Option<DateTime<Utc>>,
    /// The workspace the key acts in: `offpin serve` shows and changes
    /// that workspace's devices and codes only
    /// ([`workspaces`](super::workspaces)).
    pub workspace_id: String,
    /// What the key may do beyond the ordinary calls.
    pub capabilities: Capabilities,
}

impl ApiKeyRecord {
    /// Whether `presented` is this valid key: its SHA-256 compared with
    /// the stored hash in constant time, then the revocation.
    ///
    /// # Errors
    ///
    /// [`ApiKeyError::Unknown`] for another key (or a wrong secret),
    /// [`ApiKeyError::Revoked`].
    pub fn verify(&self, presented: &str) -> Result<(), ApiKeyError> {
        if parse(presented).is_none_or(|(id, _)| id != self.key_id)
            || !ct_eq(&hash(presented), &self.hash)
        {
            return Err(ApiKeyError::Unknown);
        }
        if self.revoked_at.is_some() {
            return Err(ApiKeyError::Revoked);
        }
        Ok(())
    }
}

/// The public id of a well-formed key text.
///
/// # Errors
///
/// [`ApiKeyError::Malformed`].
pub fn key_id_of(presented: &str) -> Result<&str, ApiKeyError> {
    parse(presented)
        .map(|(id, _)| id)
        .ok_or(ApiKeyError::Malformed)
}

impl fmt::Debug for ApiKeyRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyRecord")
            .field("key_id", &self.key_id)
            .field("name", &self.name)
            .field("hash", &"..")
            .field("created_at", &self.created_at)
            .field("revoked_at", &self.revoked_at)
            .field("workspace_id", &self.workspace_id)
            .field("capabilities", &self.capabilities)
            .finish()
    }
}

/// Why an API-key operation failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum ApiKeyError {
    /// No key was presented.
    Missing,
    /// The presented text is not an offpin API key.
    Malformed,
    /// No such key, or the secret does not match.
    Unknown,
    /// The key was revoked.
    Revoked,
    /// A valid key already has this name.
    NameTaken {
        /// The name.
        name: String,
    },
    /// The name is empty or longer than [`MAX_NAME_LEN`] bytes.
    BadName,
    /// No valid key has this name.
    NoSuchName {
        /// The name.
        name: String,
    },
    /// The store failed.
    Ledger(LedgerError),
}

impl fmt::Display for ApiKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiKeyError::Missing => f.write_str(
                "no API key: send the header `Authorization: Bearer seam_...` (create a key with `offpin api-key create`)",
            ),
            ApiKeyError::Malformed => f.write_str("the API key is not a key of this server"),
            ApiKeyError::Unknown => f.write_str("unknown API key"),
            ApiKeyError::Revoked => f.write_str("the API key was revoked"),
            ApiKeyError::NameTaken { name } => {
                write!(f, "an API key named '{name}' exists (revoke it first)")
            }
            ApiKeyError::BadName => write!(f, "an API key's name is 1 to {MAX_NAME_LEN} bytes"),
            ApiKeyError::NoSuchName { name } => write!(f, "no valid API key is named '{name}'"),
            ApiKeyError::Ledger(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl std::error::Error for ApiKeyError {}

impl From<LedgerError> for ApiKeyError {
    fn from(e: LedgerError) -> Self {
        ApiKeyError::Ledger(e)
    }
}

/// Where API keys are kept: the ledger's backends implement the four
/// storage methods; creation and authentication are provided.
pub trait ApiKeyStore {
    /// Stores a new key record.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Storage`] (a duplicate id included).
    fn insert_api_key(&mut self, record: &ApiKeyRecord) -> Result<(), LedgerError>;

    /// The key with this id, revoked or not.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Storage`].
    fn api_key(&mut self, key_id: &str) -> Result<Option<ApiKeyRecord>, LedgerError>;

    /// Every key, revoked ones included, in creation order.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Storage`].
    fn api_keys(&mut self) -> Result<Vec<ApiKeyRecord>, LedgerError>;

    /// Marks the valid keys named `name` revoked at `at`; returns how many.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Storage`].
    fn revoke_api_keys(&mut self, name: &str, at: DateTime<Utc>) -> Result<usize, LedgerError>;

    /// Creates and stores a key named `name` from `random` bytes, in the
    /// [`DEFAULT_WORKSPACE`](super::workspaces::DEFAULT_WORKSPACE), with no
    /// capability.
    ///
    /// # Errors
    ///
    /// [`ApiKeyError::BadName`], [`ApiKeyError::NameTaken`],
    /// [`ApiKeyError::Ledger`].
    fn create_api_key(
        &mut self,
        name: &str,
        random: &[u8; RANDOM_BYTES],
        now: DateTime<Utc>,
    ) -> Result<ApiKey, ApiKeyError> {
        let default = super::workspaces::DEFAULT_WORKSPACE;
        self.create_api_key_in(name, default, Capabilities::NONE, random, now)
    }

    /// [`ApiKeyStore::create_api_key`] with `capabilities`, in the
    /// [`DEFAULT_WORKSPACE`](super::workspaces::DEFAULT_WORKSPACE).
    ///
    /// # Errors
    ///
    /// As [`ApiKeyStore::create_api_key`].
    fn create_api_key_with(
        &mut self,
        name: &str,
        capabilities: Capabilities,
        random: &[u8; RANDOM_BYTES],
        now: DateTime<Utc>,
    ) -> Result<ApiKey, ApiKeyError> {
        let default = super::workspaces::DEFAULT_WORKSPACE;
        self.create_api_key_in(name, default, capabilities, random, now)
    }

    /// Creates and stores a key named `name` (unique among the valid keys
    /// of every workspace) from `random` bytes, acting in `workspace_id`
    /// (which this method does not check exists:
    /// [`workspaces::create_api_key`](super::workspaces::create_api_key)
    /// does), with `capabilities`.
    ///
    /// # Errors
    ///
    /// [`ApiKeyError::BadName`], [`ApiKeyError::NameTaken`],
    /// [`ApiKeyError::Ledger`].
    fn create_api_key_in(
        &mut self,
        name: &str,
        workspace_id: &str,
        capabilities: Capabilities,
        random: &[u8; RANDOM_BYTES],
        now: DateTime<Utc>,
    ) -> Result<ApiKey, ApiKeyError> {
        if name.is_empty() || name.len() > MAX_NAME_LEN {
            return Err(ApiKeyError::BadName);
        }
        if self
            .api_keys()?
            .iter()
            .any(|k| k.name == name && k.revoked_at.is_none())
        {
            return Err(ApiKeyError::NameTaken {
                name: name.to_owned(),
            });
        }
        let key = ApiKey::from_random(random);
        self.insert_api_key(&ApiKeyRecord {
            key_id: key.key_id().to_owned(),
            name: name.to_owned(),
            hash: key.hash(),
            created_at: truncate_millis(now),
            revoked_at: None,
            workspace_id: workspace_id.to_owned(),
            capabilities,
        })?;
        Ok(key)
    }

    /// Revokes the valid key named `name`.
    ///
    /// # Errors
    ///
    /// [`ApiKeyError::NoSuchName`], [`ApiKeyError::Ledger`].
    fn revoke_api_key(&mut self, name: &str, now: DateTime<Utc>) -> Result<(), ApiKeyError> {
        match self.revoke_api_keys(name, truncate_millis(now))? {
            0 => Err(ApiKeyError::NoSuchName {
                name: name.to_owned(),
            }),
            _ => Ok(()),
        }
    }

    /// The valid key whose text is `presented`.
    ///
    /// # Errors
    ///
    /// [`ApiKeyError::Malformed`], [`ApiKeyError::Unknown`] (also for a
    /// wrong secret), [`ApiKeyError::Revoked`], [`ApiKeyError::Ledger`].
    fn authenticate(&mut self, presented: &str) -> Result<ApiKeyRecord, ApiKeyError> {
        let record = self
            .api_key(key_id_of(presented)?)?
            .ok_or(ApiKeyError::Unknown)?;
        record.verify(presented)?;
        Ok(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    #[test]
    fn key_text_round_trips_and_refuses_near_misses() {
        let key = ApiKey::from_random(&[0x5a; RANDOM_BYTES]);
        let text = key.expose_secret().to_owned();
        assert_eq!(parse(&text).map(|(id, _)| id), Some("5a5a5a5a5a5a"));
        assert_eq!(parse(&text.replace("seam_", "seam_at")), None);
        assert_eq!(parse(&text.to_uppercase()), None);
        assert_eq!(parse(text.get(..text.len() - 1).unwrap_or_default()), None);
        assert_eq!(parse(&format!("{text}0")), None);
        assert_eq!(parse(""), None);
        assert!(!format!("{key:?}").contains(text.get(18..).unwrap_or_default()));
    }
}
