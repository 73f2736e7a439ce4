//! Pages of `list` ([`Ledger::list_page`]): the hosted API's `limit` and
//! `page_cursor`, and the retention after which a code that can no longer
//! open leaves the list (it stays readable by id, [`Ledger::get`]).
//!
//! # Order and cursors
//!
//! A page holds codes ordered by `(created_at, access_code_id)`: the issue
//! order, codes issued in the same millisecond (one batch) by id. The next
//! page starts after the last code of this one ([`PageKey`]): a keyset, not
//! an offset, so codes issued while a client walks the pages never shift
//! a page (no code is shown twice or skipped; a code issued during the
//! walk is on a later page, or on none if it sorts before the cursor).
//! The SQL backends read each page with `ORDER BY created_at,
//! access_code_id LIMIT n` after the key ([`Ledger::find_page`]).
//!
//! The cursor the client holds ([`PageKey::cursor`]) is that key and a
//! digest of the query's filters, in base64url, with a check: a cursor
//! that was altered, or that belongs to another query, is refused
//! ([`CursorError`]) rather than read as another position.
//!
//! # Retention
//!
//! A code whose window (plus the lock's clock grace) ended is dead: the
//! lock never opens for it again, deleted or not. With a retention `R`, a
//! page leaves out codes dead for longer than `R` ([`PageRequest::retention`]).
//! Ongoing codes never die on a date: a deleted one opens until its
//! revocation PIN is typed at the lock, which the server cannot know, so
//! it stays listed.

use core::fmt;
use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use sha2::{Digest, Sha256};

use super::{
    DEFAULT_WORKSPACE, Device, DeviceEntry, GroupRef, Ledger, LedgerError, ListFilter,
    StorageError, StoredCode,
};
use crate::record::AccessCode;
use crate::zone::Zone;
use offpin::profile::Profile;
use offpin::time::UtcOffset;

/// Where a page starts: after the code with this issue time and id.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PageKey {
    /// The code's issue time (whole milliseconds).
    pub created_at: DateTime<Utc>,
    /// The code's id.
    pub access_code_id: String,
}

impl PageKey {
    /// The key of a stored code.
    pub fn of(code: &StoredCode) -> Self {
        PageKey {
            created_at: code.created_at,
            access_code_id: code.access_code_id.clone(),
        }
    }

    /// The opaque cursor a client sends back as `page_cursor`: this key,
    /// bound to `filter` (a cursor of another query is refused).
    ///
    /// # Examples
    ///
    /// ```
    /// use offpin_ledger::ledger::{ListFilter, PageKey};
    /// let key = PageKey { created_at: "2025-01-01T16:00:00.123Z".parse()?, access_code_id: "a1".into() };
    /// let filter = ListFilter::device("front-door");
    /// let cursor = key.cursor(&filter);
    /// assert_eq!(PageKey::from_cursor(&cursor, &filter)?, key);
    /// assert!(PageKey::from_cursor(&cursor, &ListFilter::device("back-door")).is_err());
    /// assert!(PageKey::from_cursor("garbage", &filter).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cursor(&self, filter: &ListFilter) -> String {
        self.cursor_in(filter, DEFAULT_WORKSPACE)
    }

    /// [`PageKey::cursor`] of a page of one workspace's codes (a
    /// [`Scoped`](super::Scoped) view's): bound to the workspace too, so
    /// another workspace's key cannot walk on from it.
    ///
    /// ```
    /// use offpin_ledger::ledger::{ListFilter, PageKey};
    /// let key = PageKey { created_at: "2025-01-01T16:00:00.123Z".parse()?, access_code_id: "a1".into() };
    /// let filter = ListFilter::device("front-door");
    /// let cursor = key.cursor_in(&filter, "acme");
    /// assert_eq!(PageKey::from_cursor_in(&cursor, &filter, "acme")?, key);
    /// assert!(PageKey::from_cursor_in(&cursor, &filter, "globex").is_err());
    /// assert!(PageKey::from_cursor(&cursor, &filter).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cursor_in(&self, filter: &ListFilter, workspace_id: &str) -> String {
        let body = format!(
            "{}.{}",
            self.created_at.timestamp_millis(),
            self.access_code_id
        );
        seal(&body, &list_binding(filter, workspace_id))
    }

    /// The key a cursor of [`PageKey::cursor`] holds.
    ///
    /// # Errors
    ///
    /// [`CursorError::Malformed`] for text no cursor has, or a cursor
    /// altered since it was given; [`CursorError::OtherQuery`] for a
    /// cursor of a query with other filters.
    pub fn from_cursor(cursor: &str, filter: &ListFilter) -> Result<Self, CursorError> {
        Self::from_cursor_in(cursor, filter, DEFAULT_WORKSPACE)
    }

    /// The key a cursor of [`PageKey::cursor_in`] holds.
    ///
    /// # Errors
    ///
    /// As [`PageKey::from_cursor`]; [`CursorError::OtherQuery`] for a
    /// cursor of another workspace.
    pub fn from_cursor_in(
        cursor: &str,
        filter: &ListFilter,
        workspace_id: &str,
    ) -> Result<Self, CursorError> {
        let body = unseal(cursor, &list_binding(filter, workspace_id))?;
        let (millis, id) = body.split_once('.').ok_or(CursorError::Malformed)?;
        let millis: i64 = millis.parse().map_err(|_| CursorError::Malformed)?;
        let created_at = DateTime::from_timestamp_millis(millis).ok_or(CursorError::Malformed)?;
        if id.is_empty() {
            return Err(CursorError::Malformed);
        }
        Ok(PageKey {
            created_at,
            access_code_id: id.to_owned(),
        })
    }
}

/// What a list cursor is bound to: the filters and the workspace (left
/// out for the [`DEFAULT_WORKSPACE`], so that cursors given before
/// workspaces stay valid).
fn list_binding<'a>(filter: &'a ListFilter, workspace_id: &'a str) -> Vec<(&'static str, &'a str)> {
    let mut b = workspace_binding(workspace_id);
    b.extend([
        ("device_id", filter.device_id.as_deref().unwrap_or("\0")),
        (
            "user_identifier_key",
            filter.user_identifier_key.as_deref().unwrap_or("\0"),
        ),
        ("search", filter.search.as_deref().unwrap_or("\0")),
    ]);
    b.extend(
        filter
            .access_code_ids
            .iter()
            .map(|id| ("access_code_id", id.as_str())),
    );
    b
}

/// The workspace's part of a cursor's binding: none for the
/// [`DEFAULT_WORKSPACE`].
fn workspace_binding(workspace_id: &str) -> Vec<(&'static str, &str)> {
    if workspace_id == DEFAULT_WORKSPACE {
        Vec::new()
    } else {
        vec![("workspace_id", workspace_id)]
    }
}

/// A cursor: `body` and a check binding it to `binding`, in base64url.
fn seal(body: &str, binding: &[(&str, &str)]) -> String {
    let tag = tag(body, binding);
    base64url(format!("{CURSOR_VERSION}.{tag}.{body}").as_bytes())
}

/// The body of a cursor of [`seal`] with the same `binding`.
fn unseal(cursor: &str, binding: &[(&str, &str)]) -> Result<String, CursorError> {
    let bytes = unbase64url(cursor).ok_or(CursorError::Malformed)?;
    // One spelling per cursor: unused low bits of the last character
    // must be zero, so no altered character decodes alike.
    if base64url(&bytes) != cursor {
        return Err(CursorError::Malformed);
    }
    let text = String::from_utf8(bytes).map_err(|_| CursorError::Malformed)?;
    let (version, rest) = text.split_once('.').ok_or(CursorError::Malformed)?;
    let (given_tag, body) = rest.split_once('.').ok_or(CursorError::Malformed)?;
    if version != CURSOR_VERSION {
        return Err(CursorError::Malformed);
    }
    if !super::ct_eq(given_tag.as_bytes(), tag(body, binding).as_bytes()) {
        // Altered, or of another query. A cursor whose body is one of ours
        // with another binding cannot be told from an altered one; say
        // both.
        return Err(if given_tag.len() == TAG_HEX {
            CursorError::OtherQuery
        } else {
            CursorError::Malformed
        });
    }
    Ok(body.to_owned())
}

/// Version of the cursor's layout.
const CURSOR_VERSION: &str = "1";
/// Hex digits of a cursor's check.
const TAG_HEX: usize = 16;

/// The check of a cursor's `body` for `filter`: the first 8 bytes of
/// SHA-256 over both, in hex. Not a secret: it binds a cursor to its query
/// and catches alterations; a forged cursor is only another position in
/// the codes the same key may list anyway.
fn tag(body: &str, binding: &[(&str, &str)]) -> String {
    let mut h = Sha256::new();
    for (name, value) in [("body", body)].iter().chain(binding) {
        h.update(name.as_bytes());
        h.update((value.len() as u64).to_be_bytes());
        h.update(value.as_bytes());
    }
    let digest = h.finalize();
    digest
        .iter()
        .take(TAG_HEX / 2)
        .map(|b| format!("{b:02x}"))
        .collect()
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64url without padding (RFC 4648 §5).
fn base64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            let six = (n >> (18 - 6 * i)) & 0x3f;
            out.push(char::from(B64.get(six as usize).copied().unwrap_or(b'A')));
        }
    }
    out
}

/// The bytes of base64url text without padding, or `None`.
fn unbase64url(text: &str) -> Option<Vec<u8>> {
    if text.len() % 4 == 1 || text.len() > 4_096 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for chunk in text.as_bytes().chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            let v = u32::try_from(B64.iter().position(|b| b == c)?).ok()?;
            n |= v << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend(bytes.iter().skip(1).take(chunk.len().saturating_sub(1)));
    }
    Some(out)
}

/// Why a `page_cursor` is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CursorError {
    /// Not a cursor this server gave, or one altered since.
    Malformed,
    /// A cursor of a query with other filters (device, ids, user, search).
    OtherQuery,
}

impl fmt::Display for CursorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CursorError::Malformed => {
                "not a page cursor this server gave (send pagination.next_page_cursor of the previous page unchanged, or leave page_cursor out for the first page)"
            }
            CursorError::OtherQuery => {
                "this page cursor belongs to a query with other filters: send the same device_id, access_code_ids, user_identifier_key and search as for the first page"
            }
        })
    }
}

impl std::error::Error for CursorError {}

/// One page asked of [`Ledger::list_page`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// Start after this code (`None`: the first page).
    pub after: Option<PageKey>,
    /// Most codes on the page (`None`: all).
    pub limit: Option<usize>,
    /// Leave out codes dead (window and grace ended) for longer than this
    /// (`None`: keep every code).
    pub retention: Option<TimeDelta>,
}

/// One page of codes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    /// The codes, their records computed at the time asked.
    pub codes: Vec<AccessCode>,
    /// The key of the last code, when more codes follow.
    pub next: Option<PageKey>,
}

/// The `devices.list` filters: every one given must match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceFilter {
    /// Only these devices (empty: any).
    pub device_ids: Vec<String>,
    /// Devices whose id contains this text (ASCII letters in either case).
    pub search: Option<String>,
}

impl DeviceFilter {
    /// Whether a device passes.
    pub fn matches(&self, device_id: &str) -> bool {
        (self.device_ids.is_empty() || self.device_ids.iter().any(|d| d == device_id))
            && self.search.as_ref().is_none_or(|s| {
                device_id
                    .to_ascii_lowercase()
                    .contains(&s.to_ascii_lowercase())
            })
    }

    fn binding<'a>(&'a self, workspace_id: &'a str) -> Vec<(&'static str, &'a str)> {
        let mut b = workspace_binding(workspace_id);
        b.push(("search", self.search.as_deref().unwrap_or("\0")));
        b.extend(self.device_ids.iter().map(|d| ("device_id", d.as_str())));
        b
    }

    /// The cursor of a device page that ended with `device_id`.
    pub fn cursor(&self, device_id: &str) -> String {
        self.cursor_in(device_id, DEFAULT_WORKSPACE)
    }

    /// [`DeviceFilter::cursor`] of a page of one workspace's devices,
    /// bound to the workspace too.
    pub fn cursor_in(&self, device_id: &str, workspace_id: &str) -> String {
        seal(device_id, &self.binding(workspace_id))
    }

    /// The device id a cursor of [`DeviceFilter::cursor`] holds.
    ///
    /// # Errors
    ///
    /// As [`PageKey::from_cursor`].
    pub fn from_cursor(&self, cursor: &str) -> Result<String, CursorError> {
        self.from_cursor_in(cursor, DEFAULT_WORKSPACE)
    }

    /// The device id a cursor of [`DeviceFilter::cursor_in`] holds.
    ///
    /// # Errors
    ///
    /// As [`PageKey::from_cursor_in`].
    pub fn from_cursor_in(&self, cursor: &str, workspace_id: &str) -> Result<String, CursorError> {
        unseal(cursor, &self.binding(workspace_id)).and_then(|id| {
            if id.is_empty() {
                Err(CursorError::Malformed)
            } else {
                Ok(id)
            }
        })
    }
}

/// One page of devices ([`Ledger::device_page`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevicePage {
    /// The devices (registered, not removed), by id.
    pub devices: Vec<Device>,
    /// The id of the last device, when more devices follow.
    pub next: Option<String>,
}

/// [`Ledger::device_page`].
pub(super) fn device_page<L: Ledger + ?Sized>(
    l: &mut L,
    filter: &DeviceFilter,
    after: Option<&str>,
    limit: Option<usize>,
) -> Result<DevicePage, LedgerError> {
    let mut devices: Vec<Device> = l
        .devices()?
        .into_iter()
        .filter(|d| filter.matches(&d.device_id))
        .filter(|d| after.is_none_or(|a| d.device_id.as_str() > a))
        .collect();
    let next = match limit {
        Some(n) if devices.len() > n => {
            devices.truncate(n);
            devices.last().map(|d| d.device_id.clone())
        }
        _ => None,
    };
    Ok(DevicePage { devices, next })
}

/// How far a window may move after issue, beyond its issued end: a
/// change of the device's UTC offset (at most 28 h) and a DST rule (2 h),
/// plus a day of grace. The SQL keeps any code whose issued end is this
/// close to the retention's cutoff; each record then decides exactly.
pub const RETENTION_MARGIN_SECS: i64 = 2 * UtcOffset::MAX_MINUTES as i64 * 60 + 2 * 3_600 + 86_400;

/// Rows read per query while filling a page whose codes the retention
/// thins out.
const MIN_BATCH: usize = 64;

/// [`Ledger::find_page`] for a backend without its own: the stored codes
/// of [`Ledger::find`], sorted and cut after `after`.
pub(super) fn find_page_default<L: Ledger + ?Sized>(
    l: &mut L,
    filter: &ListFilter,
    after: Option<&PageKey>,
    ended_after: Option<i64>,
    limit: usize,
) -> Result<Vec<StoredCode>, LedgerError> {
    let mut codes: Vec<StoredCode> = l
        .find(filter)?
        .into_iter()
        .filter(|c| after.is_none_or(|a| PageKey::of(c) > *a))
        .filter(|c| keep_in_sql(c, ended_after))
        .collect();
    codes.sort_by_cached_key(PageKey::of);
    codes.truncate(limit);
    Ok(codes)
}

/// [`Ledger::find_page_in`] for a backend without its own:
/// [`find_page_default`] of the codes whose device is `workspace_id`'s.
pub(super) fn find_page_in_default<L: Ledger + ?Sized>(
    l: &mut L,
    workspace_id: &str,
    filter: &ListFilter,
    after: Option<&PageKey>,
    ended_after: Option<i64>,
    limit: usize,
) -> Result<Vec<StoredCode>, LedgerError> {
    let mut owned: BTreeMap<String, bool> = BTreeMap::new();
    let mut codes = Vec::new();
    for c in l.find(filter)? {
        let mine = match owned.get(&c.device_id) {
            Some(m) => *m,
            None => {
                let m = l
                    .device_entry(&c.device_id)?
                    .is_some_and(|e| e.device.workspace_id == workspace_id);
                owned.insert(c.device_id.clone(), m);
                m
            }
        };
        if mine && after.is_none_or(|a| PageKey::of(&c) > *a) && keep_in_sql(&c, ended_after) {
            codes.push(c);
        }
    }
    codes.sort_by_cached_key(PageKey::of);
    codes.truncate(limit);
    Ok(codes)
}

/// The coarse test the SQL applies: no issued window, or one that ended
/// at or after `ended_after` (Unix seconds).
pub(super) fn keep_in_sql(c: &StoredCode, ended_after: Option<i64>) -> bool {
    match (ended_after, c.issued_window) {
        (Some(cutoff), Some(w)) => w.end >= cutoff,
        _ => true,
    }
}

/// A device's facts for computing records, read once per page.
type DeviceFacts = (DeviceEntry, Profile, Option<Zone>);

/// [`Ledger::list_page`].
pub(super) fn list_page<L: Ledger + ?Sized>(
    l: &mut L,
    filter: &ListFilter,
    page: &PageRequest,
    now: DateTime<Utc>,
) -> Result<Page, LedgerError> {
    if filter.device_id.is_none() && filter.access_code_ids.is_empty() {
        return Err(LedgerError::MissingFilter);
    }
    let cutoff = page.retention.and_then(|r| now.checked_sub_signed(r));
    let sql_cutoff = cutoff.map(|c| c.timestamp().saturating_sub(RETENTION_MARGIN_SECS));
    let want = page.limit.map(|n| n.saturating_add(1));
    let members = l.memberships()?;
    let mut devices: BTreeMap<String, DeviceFacts> = BTreeMap::new();
    let mut out: Vec<(PageKey, AccessCode)> = Vec::new();
    let mut after = page.after.clone();
    loop {
        let missing = want.map_or(usize::MAX, |w| w.saturating_sub(out.len()));
        let batch = if page.retention.is_some() {
            missing.max(MIN_BATCH)
        } else {
            missing
        };
        let rows = l.find_page(filter, after.as_ref(), sql_cutoff, batch)?;
        let exhausted = rows.len() < batch;
        after = rows.last().map(PageKey::of).or(after);
        for code in rows {
            let facts = facts_of(l, &mut devices, &code)?;
            let record = record(&code, facts, members.get(&code.device_id), now)?;
            if cutoff.is_none_or(|c| !dead_before(&record, &facts.1, c)) {
                out.push((PageKey::of(&code), record));
            }
        }
        if exhausted || want.is_some_and(|w| out.len() >= w) {
            break;
        }
    }
    let next = match page.limit {
        Some(n) if out.len() > n => {
            out.truncate(n);
            out.last().map(|(k, _)| k.clone())
        }
        _ => None,
    };
    Ok(Page {
        codes: out.into_iter().map(|(_, r)| r).collect(),
        next,
    })
}

/// Whether the lock stopped opening for `record` before `cutoff`: its
/// window plus the profile's clock grace ended then.
fn dead_before(record: &AccessCode, profile: &Profile, cutoff: DateTime<Utc>) -> bool {
    let grace = TimeDelta::seconds(profile.grace_secs());
    record
        .ends_at
        .and_then(|end| end.checked_add_signed(grace))
        .is_some_and(|dead| dead < cutoff)
}

fn facts_of<'a, L: Ledger + ?Sized>(
    l: &mut L,
    devices: &'a mut BTreeMap<String, DeviceFacts>,
    code: &StoredCode,
) -> Result<&'a DeviceFacts, LedgerError> {
    if !devices.contains_key(&code.device_id) {
        let entry = l.device_entry(&code.device_id)?.ok_or_else(|| {
            LedgerError::from(StorageError::without_source(format!(
                "code '{}' names device '{}', which the ledger does not hold",
                code.access_code_id, code.device_id
            )))
        })?;
        let profile = entry.device.profile()?;
        let zone = entry.device.zone()?;
        devices.insert(code.device_id.clone(), (entry, profile, zone));
    }
    devices
        .get(&code.device_id)
        .ok_or_else(|| LedgerError::invariant("a device of the listed codes was not read"))
}

fn record(
    code: &StoredCode,
    (entry, profile, zone): &DeviceFacts,
    member: Option<&GroupRef>,
    now: DateTime<Utc>,
) -> Result<AccessCode, LedgerError> {
    code.record_with(entry, profile, zone.as_ref(), member, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_round_trips_every_length() {
        for n in 0..40u8 {
            let bytes: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37).wrapping_add(n)).collect();
            let text = base64url(&bytes);
            assert!(!text.contains(['+', '/', '=']), "{text}");
            assert_eq!(unbase64url(&text), Some(bytes));
        }
        assert_eq!(base64url(b"\xfb\xff"), "-_8");
        assert_eq!(unbase64url("a"), None);
        assert_eq!(unbase64url("a+b="), None);
    }

    #[test]
    fn an_altered_cursor_is_refused() {
        let key = PageKey {
            created_at: DateTime::from_timestamp_millis(1_735_747_200_123).unwrap_or_default(),
            access_code_id: "e9cf6dd6-89aa-477f-a701-c08f3de13c1f".into(),
        };
        let filter = ListFilter::device("front-door");
        let cursor = key.cursor(&filter);
        // Every one-character change is refused, none read as a position.
        for i in 0..cursor.len() {
            let mut bytes = cursor.clone().into_bytes();
            if let Some(b) = bytes.get_mut(i) {
                *b = if *b == b'A' { b'B' } else { b'A' };
            }
            let altered = String::from_utf8(bytes).unwrap_or_default();
            assert!(
                PageKey::from_cursor(&altered, &filter).is_err(),
                "{altered}"
            );
        }
        assert_eq!(PageKey::from_cursor(&cursor, &filter), Ok(key));
    }
}
