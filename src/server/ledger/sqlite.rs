//! [`SqliteLedger`]: the embedded on-disk ledger (one SQLite file, bundled
//! SQLite, WAL journal).
//!
//! Safe for concurrent writers, threads or processes: every allocation
//! reads the taken variances, picks the lowest free one and inserts the
//! code inside one `BEGIN IMMEDIATE` transaction (a writer lock taken
//! before the read), waiting up to [`BUSY_TIMEOUT`] for other writers. A
//! UNIQUE index on `(device_id, kind, start, length, lineage, variance)`
//! over every code ever issued (deleted ones included: an offline code
//! cannot be recalled, so its number is never reused) is the second line
//! of defence: a duplicate can never be stored.
//!
//! The file is marked with SQLite's `application_id` so a foreign database
//! is refused instead of being written to.

// The crate is `no_std`; this module is std-only.
use std::format;
use std::prelude::rust_2024::*;

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, TransactionBehavior, params};

use super::api_keys::{ApiKeyRecord, ApiKeyStore};
use super::{AllocationKey, Device, Entry, Ledger, LedgerError, ListFilter, lowest_free};
use crate::profile::Kind;
use crate::server::chrono_time::{parse_rfc3339, rfc3339_millis};
use crate::server::record::AccessCode;
use crate::time::UtcOffset;

/// How long a writer waits for another one before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// `application_id` of offpin ledgers ("ofpn").
const APPLICATION_ID: i64 = 0x6f66_706e;
/// Schema version (`user_version`).
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS devices (
    device_id TEXT PRIMARY KEY NOT NULL,
    profile TEXT NOT NULL,
    utc_offset_minutes INTEGER NOT NULL,
    generation INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS access_codes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    access_code_id TEXT NOT NULL UNIQUE,
    device_id TEXT NOT NULL REFERENCES devices(device_id),
    kind TEXT NOT NULL,
    start INTEGER NOT NULL,
    length INTEGER NOT NULL,
    lineage INTEGER NOT NULL,
    variance INTEGER NOT NULL,
    user_identifier_key TEXT,
    record TEXT NOT NULL,
    deleted_at TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS access_codes_allocation
    ON access_codes (device_id, kind, start, length, lineage, variance);
CREATE INDEX IF NOT EXISTS access_codes_device ON access_codes (device_id);
CREATE INDEX IF NOT EXISTS access_codes_user ON access_codes (user_identifier_key);
CREATE TABLE IF NOT EXISTS api_keys (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    hash BLOB NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
";

/// A ledger in one SQLite file.
#[derive(Debug)]
pub struct SqliteLedger {
    conn: Connection,
    label: String,
}

fn storage(label: &str, e: impl core::fmt::Display) -> LedgerError {
    LedgerError::Storage(format!("{label}: {e}"))
}

fn kind_name(kind: Kind) -> &'static str {
    kind.name()
}

fn kind_from_name(name: &str) -> Option<Kind> {
    Kind::ALL.into_iter().find(|k| k.name() == name)
}

const ENTRY_COLUMNS: &str =
    "kind, start, length, lineage, variance, user_identifier_key, record, deleted_at";

impl SqliteLedger {
    /// Opens the ledger at `path`, creating the file if it does not exist.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Storage`] when the file cannot be opened or is not an
    /// offpin ledger.
    pub fn open(path: &Path) -> Result<Self, LedgerError> {
        Self::open_with(path, OpenFlags::default())
    }

    /// Opens an existing ledger at `path`.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Storage`] when the file does not exist, cannot be
    /// opened or is not an offpin ledger.
    pub fn open_existing(path: &Path) -> Result<Self, LedgerError> {
        if !path.exists() {
            return Err(LedgerError::Storage(format!(
                "{}: no such ledger (create it with `offpin device add`)",
                path.display()
            )));
        }
        Self::open_with(path, OpenFlags::default() & !OpenFlags::SQLITE_OPEN_CREATE)
    }

    fn open_with(path: &Path, flags: OpenFlags) -> Result<Self, LedgerError> {
        let label = path.display().to_string();
        let conn = Connection::open_with_flags(path, flags).map_err(|e| storage(&label, e))?;
        let mut ledger = SqliteLedger { conn, label };
        ledger.init()?;
        Ok(ledger)
    }

    /// An in-memory SQLite ledger (for tests).
    ///
    /// # Errors
    ///
    /// [`LedgerError::Storage`].
    pub fn open_in_memory() -> Result<Self, LedgerError> {
        let label = ":memory:".to_owned();
        let conn = Connection::open_in_memory().map_err(|e| storage(&label, e))?;
        let mut ledger = SqliteLedger { conn, label };
        ledger.init()?;
        Ok(ledger)
    }

    /// The entry with `access_code_id`, further restricted by the SQL
    /// condition `and` (empty for none), or [`LedgerError::NotFound`].
    fn select_entry(&self, and: &str, access_code_id: &str) -> Result<Entry, LedgerError> {
        let sql =
            format!("SELECT {ENTRY_COLUMNS} FROM access_codes WHERE access_code_id = ?1 {and}");
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let mut rows = stmt
            .query(params![access_code_id])
            .map_err(|e| self.err(e))?;
        match rows.next().map_err(|e| self.err(e))? {
            Some(row) => self.entry_from_row(row),
            None => Err(LedgerError::not_found(access_code_id)),
        }
    }

    fn err(&self, e: impl core::fmt::Display) -> LedgerError {
        storage(&self.label, e)
    }

    fn init(&mut self) -> Result<(), LedgerError> {
        let label = self.label.clone();
        let err = |e: rusqlite::Error| storage(&label, e);
        self.conn.busy_timeout(BUSY_TIMEOUT).map_err(err)?;
        // WAL lets readers run beside the writer; harmless if it fails on
        // a file system that cannot do it.
        let _: Result<String, _> = self
            .conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0));
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let app: i64 = tx
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .map_err(err)?;
        let version: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(err)?;
        let tables: i64 = tx
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .map_err(err)?;
        if app == 0 && tables > 0 || app != 0 && app != APPLICATION_ID {
            return Err(storage(&label, "not an offpin ledger"));
        }
        if version > SCHEMA_VERSION {
            return Err(storage(
                &label,
                format!("ledger schema {version} is newer than this offpin ({SCHEMA_VERSION})"),
            ));
        }
        tx.execute_batch(SCHEMA).map_err(err)?;
        tx.execute_batch(&format!(
            "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {SCHEMA_VERSION};"
        ))
        .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(())
    }

    fn device_from_row(row: &Row<'_>) -> rusqlite::Result<(String, String, i32, u32)> {
        Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
    }

    fn device_of(&self, raw: (String, String, i32, u32)) -> Result<Device, LedgerError> {
        let (device_id, profile, minutes, generation) = raw;
        Ok(Device {
            device_id,
            profile,
            utc_offset: UtcOffset::from_minutes(minutes)?,
            generation,
        })
    }

    fn entry_from_row(&self, row: &Row<'_>) -> Result<Entry, LedgerError> {
        let get = |e: rusqlite::Error| self.err(e);
        let kind: String = row.get(0).map_err(get)?;
        let kind =
            kind_from_name(&kind).ok_or_else(|| self.err(format!("unknown code kind '{kind}'")))?;
        let record: String = row.get(6).map_err(get)?;
        let record: AccessCode = serde_json::from_str(&record)
            .map_err(|e| self.err(format!("corrupted record: {e}")))?;
        let deleted_at: Option<String> = row.get(7).map_err(get)?;
        let deleted_at = match deleted_at {
            Some(t) => Some(parse_rfc3339(&t).map_err(|e| self.err(e))?),
            None => None,
        };
        Ok(Entry {
            record,
            user_identifier_key: row.get(5).map_err(get)?,
            key: AllocationKey {
                kind,
                start: row.get(1).map_err(get)?,
                length: row.get(2).map_err(get)?,
                lineage: row.get(3).map_err(get)?,
            },
            number: row.get(4).map_err(get)?,
            deleted_at,
        })
    }
}

impl Ledger for SqliteLedger {
    fn add_device(&mut self, device: &Device) -> Result<(), LedgerError> {
        let label = self.label.clone();
        let err = |e: rusqlite::Error| storage(&label, e);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let existing = tx
            .query_row(
                "SELECT device_id, profile, utc_offset_minutes, generation FROM devices WHERE device_id = ?1",
                params![device.device_id],
                Self::device_from_row,
            )
            .optional()
            .map_err(err)?;
        match existing {
            Some((_, profile, minutes, generation))
                if profile == device.profile
                    && minutes == device.utc_offset.minutes()
                    && generation == device.generation =>
            {
                Ok(())
            }
            Some(_) => Err(LedgerError::DeviceConflict {
                device_id: device.device_id.clone(),
            }),
            None => {
                tx.execute(
                    "INSERT INTO devices (device_id, profile, utc_offset_minutes, generation) VALUES (?1, ?2, ?3, ?4)",
                    params![
                        device.device_id,
                        device.profile,
                        device.utc_offset.minutes(),
                        device.generation
                    ],
                )
                .map_err(err)?;
                tx.commit().map_err(err)
            }
        }
    }

    fn device(&mut self, device_id: &str) -> Result<Device, LedgerError> {
        let raw = self
            .conn
            .query_row(
                "SELECT device_id, profile, utc_offset_minutes, generation FROM devices WHERE device_id = ?1",
                params![device_id],
                Self::device_from_row,
            )
            .optional()
            .map_err(|e| self.err(e))?;
        match raw {
            Some(raw) => self.device_of(raw),
            None => Err(LedgerError::UnknownDevice {
                device_id: device_id.to_owned(),
            }),
        }
    }

    fn devices(&mut self) -> Result<Vec<Device>, LedgerError> {
        let mut stmt = self
            .conn
            .prepare("SELECT device_id, profile, utc_offset_minutes, generation FROM devices ORDER BY device_id")
            .map_err(|e| storage(&self.label, e))?;
        let rows = stmt
            .query_map([], Self::device_from_row)
            .map_err(|e| storage(&self.label, e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| storage(&self.label, e))?;
        drop(stmt);
        rows.into_iter().map(|r| self.device_of(r)).collect()
    }

    fn allocate(
        &mut self,
        device_id: &str,
        key: &AllocationKey,
        limit: u32,
        build: &mut dyn FnMut(u32) -> Result<Entry, LedgerError>,
    ) -> Result<Option<Entry>, LedgerError> {
        let label = self.label.clone();
        let err = |e: rusqlite::Error| storage(&label, e);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let used = {
            let mut stmt = tx
                .prepare(
                    "SELECT variance FROM access_codes WHERE device_id = ?1 AND kind = ?2 AND start = ?3 AND length = ?4 AND lineage = ?5",
                )
                .map_err(err)?;
            stmt.query_map(
                params![
                    device_id,
                    kind_name(key.kind),
                    key.start,
                    key.length,
                    key.lineage
                ],
                |r| r.get::<_, u32>(0),
            )
            .map_err(err)?
            .collect::<Result<Vec<u32>, _>>()
            .map_err(err)?
        };
        let Some(n) = lowest_free(used, limit) else {
            return Ok(None);
        };
        let entry = build(n)?;
        let record = serde_json::to_string(&entry.record).map_err(|e| storage(&label, e))?;
        tx.execute(
            "INSERT INTO access_codes (access_code_id, device_id, kind, start, length, lineage, variance, user_identifier_key, record) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                entry.record.access_code_id,
                device_id,
                kind_name(key.kind),
                key.start,
                key.length,
                key.lineage,
                n,
                entry.user_identifier_key,
                record
            ],
        )
        .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(Some(entry))
    }

    fn find(&mut self, filter: &ListFilter) -> Result<Vec<Entry>, LedgerError> {
        // Narrow by device in SQL, the rest with the shared predicate.
        let sql = format!(
            "SELECT {ENTRY_COLUMNS}, device_id, access_code_id FROM access_codes WHERE deleted_at IS NULL AND (?1 IS NULL OR device_id = ?1) AND (?2 IS NULL OR user_identifier_key = ?2) ORDER BY seq"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let mut rows = stmt
            .query(params![filter.device_id, filter.user_identifier_key])
            .map_err(|e| storage(&self.label, e))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| storage(&self.label, e))? {
            let entry = self.entry_from_row(row)?;
            if filter.matches(&entry) {
                out.push(entry);
            }
        }
        Ok(out)
    }

    fn find_one(&mut self, access_code_id: &str) -> Result<Entry, LedgerError> {
        self.select_entry("AND deleted_at IS NULL", access_code_id)
    }

    fn mark_deleted(
        &mut self,
        access_code_id: &str,
        at: DateTime<Utc>,
    ) -> Result<Entry, LedgerError> {
        let changed = self
            .conn
            .execute(
                "UPDATE access_codes SET deleted_at = ?2 WHERE access_code_id = ?1 AND deleted_at IS NULL",
                params![access_code_id, rfc3339_millis(&at)],
            )
            .map_err(|e| self.err(e))?;
        if changed == 0 {
            return Err(LedgerError::not_found(access_code_id));
        }
        self.select_entry("", access_code_id)
    }

    fn replace_record(&mut self, record: &AccessCode) -> Result<(), LedgerError> {
        let json = serde_json::to_string(record).map_err(|e| self.err(e))?;
        let changed = self
            .conn
            .execute(
                "UPDATE access_codes SET record = ?2 WHERE access_code_id = ?1 AND deleted_at IS NULL",
                params![record.access_code_id, json],
            )
            .map_err(|e| self.err(e))?;
        if changed == 0 {
            return Err(LedgerError::not_found(&record.access_code_id));
        }
        Ok(())
    }
}

impl SqliteLedger {
    fn api_key_from_row(&self, row: &Row<'_>) -> Result<ApiKeyRecord, LedgerError> {
        let get = |e: rusqlite::Error| self.err(e);
        let hash: Vec<u8> = row.get(2).map_err(get)?;
        let created_at: String = row.get(3).map_err(get)?;
        let revoked_at: Option<String> = row.get(4).map_err(get)?;
        Ok(ApiKeyRecord {
            key_id: row.get(0).map_err(get)?,
            name: row.get(1).map_err(get)?,
            hash: hash
                .try_into()
                .map_err(|_| self.err("corrupted API key hash"))?,
            created_at: parse_rfc3339(&created_at).map_err(|e| self.err(e))?,
            revoked_at: match revoked_at {
                Some(t) => Some(parse_rfc3339(&t).map_err(|e| self.err(e))?),
                None => None,
            },
        })
    }

    fn select_api_keys(&self, and: &str, arg: &str) -> Result<Vec<ApiKeyRecord>, LedgerError> {
        let sql = format!(
            "SELECT key_id, name, hash, created_at, revoked_at FROM api_keys WHERE ?1 = ?1 {and} ORDER BY seq"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let mut rows = stmt.query(params![arg]).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            out.push(self.api_key_from_row(row)?);
        }
        Ok(out)
    }
}

impl ApiKeyStore for SqliteLedger {
    fn insert_api_key(&mut self, record: &ApiKeyRecord) -> Result<(), LedgerError> {
        self.conn
            .execute(
                "INSERT INTO api_keys (key_id, name, hash, created_at, revoked_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    record.key_id,
                    record.name,
                    record.hash.as_slice(),
                    rfc3339_millis(&record.created_at),
                    record.revoked_at.as_ref().map(rfc3339_millis)
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    fn api_key(&mut self, key_id: &str) -> Result<Option<ApiKeyRecord>, LedgerError> {
        Ok(self
            .select_api_keys("AND key_id = ?1", key_id)?
            .into_iter()
            .next())
    }

    fn api_keys(&mut self) -> Result<Vec<ApiKeyRecord>, LedgerError> {
        self.select_api_keys("", "")
    }

    fn revoke_api_keys(&mut self, name: &str, at: DateTime<Utc>) -> Result<usize, LedgerError> {
        self.conn
            .execute(
                "UPDATE api_keys SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL",
                params![name, rfc3339_millis(&at)],
            )
            .map_err(|e| self.err(e))
    }
}
