//! [`PostgresLedger`]: the ledger on PostgreSQL, for fleets: several
//! `offpin serve` processes (or any number of connections) share one
//! database.
//!
//! # Allocation is decided by a constraint
//!
//! A UNIQUE constraint on `(device_id, kind, start, length, lineage,
//! variance)` covers every code ever issued, deleted ones included. To
//! allocate, the ledger reads the numbers taken, builds the entry for the
//! lowest free one and inserts it with `ON CONFLICT DO NOTHING`: if a
//! concurrent writer took that number first (the insert waits for its
//! transaction and then sees the conflict), nothing is stored and the next
//! free number is tried. The database, not the read, decides who gets a
//! number, so two writers can never share one.
//!
//! # Migrations
//!
//! [`PostgresLedger::connect`] brings the schema up to date before it
//! returns: the [`MIGRATIONS`] not yet recorded in `offpin_migrations`
//! run in one transaction under an advisory lock, so servers starting
//! together apply each one once. A database migrated by a newer offpin is
//! refused.
//!
//! Tables are created in the connection's `search_path` (its first
//! schema); give a fleet its own database or schema, e.g.
//! `postgres://offpin@db/offpin?options=-csearch_path%3Doffpin`.

// The crate is `no_std`; this module is std-only.
use std::format;
use std::prelude::rust_2024::*;

use chrono::{DateTime, Utc};
use postgres::{Client, NoTls, Row};

use super::api_keys::{ApiKeyRecord, ApiKeyStore};
use super::{AllocationKey, Device, Entry, Ledger, LedgerError, ListFilter, lowest_free};
use crate::profile::Kind;
use crate::server::record::AccessCode;
use crate::time::UtcOffset;

/// The schema, one migration per entry; a migration is never changed once
/// shipped (append new ones).
pub const MIGRATIONS: &[&str] = &["
CREATE TABLE devices (
    device_id text PRIMARY KEY,
    profile text NOT NULL,
    utc_offset_minutes integer NOT NULL,
    generation bigint NOT NULL
);
CREATE TABLE access_codes (
    seq bigserial PRIMARY KEY,
    access_code_id text NOT NULL UNIQUE,
    device_id text NOT NULL REFERENCES devices (device_id),
    kind text NOT NULL,
    start bigint NOT NULL,
    length bigint NOT NULL,
    lineage integer NOT NULL,
    variance bigint NOT NULL,
    user_identifier_key text,
    record jsonb NOT NULL,
    deleted_at timestamptz,
    CONSTRAINT access_codes_allocation UNIQUE (device_id, kind, start, length, lineage, variance)
);
CREATE INDEX access_codes_user ON access_codes (user_identifier_key);
CREATE TABLE api_keys (
    seq bigserial PRIMARY KEY,
    key_id text NOT NULL UNIQUE,
    name text NOT NULL,
    hash bytea NOT NULL,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);
"];

/// Advisory lock key that serialises migrations ("ofpn").
const MIGRATION_LOCK: i64 = 0x6f66_706e;

/// A ledger in a PostgreSQL database.
pub struct PostgresLedger {
    client: Client,
}

impl core::fmt::Debug for PostgresLedger {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PostgresLedger").finish_non_exhaustive()
    }
}

fn err(e: impl core::fmt::Display) -> LedgerError {
    LedgerError::Storage(format!("postgres: {e}"))
}

/// The text of a `postgres` error: its database message when it has one.
fn pg(e: postgres::Error) -> LedgerError {
    match e.as_db_error() {
        Some(db) => err(db.message()),
        None => err(e),
    }
}

fn kind_from_name(name: &str) -> Result<Kind, LedgerError> {
    Kind::ALL
        .into_iter()
        .find(|k| k.name() == name)
        .ok_or_else(|| err(format!("unknown code kind '{name}'")))
}

fn to_u32(v: i64, what: &str) -> Result<u32, LedgerError> {
    u32::try_from(v).map_err(|_| err(format!("{what} {v} out of range")))
}

const ENTRY_COLUMNS: &str =
    "kind, start, length, lineage, variance, user_identifier_key, record::text, deleted_at";

fn entry_from_row(row: &Row) -> Result<Entry, LedgerError> {
    let kind: String = row.try_get(0).map_err(pg)?;
    let record: String = row.try_get(6).map_err(pg)?;
    let record: AccessCode =
        serde_json::from_str(&record).map_err(|e| err(format!("corrupted record: {e}")))?;
    let lineage: i32 = row.try_get(3).map_err(pg)?;
    Ok(Entry {
        record,
        user_identifier_key: row.try_get(5).map_err(pg)?,
        key: AllocationKey {
            kind: kind_from_name(&kind)?,
            start: to_u32(row.try_get(1).map_err(pg)?, "start")?,
            length: to_u32(row.try_get(2).map_err(pg)?, "length")?,
            lineage: u8::try_from(lineage).map_err(|_| err("lineage out of range"))?,
        },
        number: to_u32(row.try_get(4).map_err(pg)?, "variance")?,
        deleted_at: row.try_get(7).map_err(pg)?,
    })
}

fn device_from_row(row: &Row) -> Result<Device, LedgerError> {
    let minutes: i32 = row.try_get(2).map_err(pg)?;
    Ok(Device {
        device_id: row.try_get(0).map_err(pg)?,
        profile: row.try_get(1).map_err(pg)?,
        utc_offset: UtcOffset::from_minutes(minutes)?,
        generation: to_u32(row.try_get(3).map_err(pg)?, "generation")?,
    })
}

fn api_key_from_row(row: &Row) -> Result<ApiKeyRecord, LedgerError> {
    let hash: Vec<u8> = row.try_get(2).map_err(pg)?;
    Ok(ApiKeyRecord {
        key_id: row.try_get(0).map_err(pg)?,
        name: row.try_get(1).map_err(pg)?,
        hash: hash.try_into().map_err(|_| err("corrupted API key hash"))?,
        created_at: row.try_get(3).map_err(pg)?,
        revoked_at: row.try_get(4).map_err(pg)?,
    })
}

impl PostgresLedger {
    /// Connects to the database at `url` (a libpq URL or key=value string,
    /// e.g. `postgres://offpin@localhost/offpin`) and applies the missing
    /// [`MIGRATIONS`].
    ///
    /// # Errors
    ///
    /// [`LedgerError::Storage`] when the database cannot be reached, or a
    /// migration fails, or the schema is newer than this offpin.
    pub fn connect(url: &str) -> Result<Self, LedgerError> {
        let client = Client::connect(url, NoTls).map_err(pg)?;
        let mut ledger = PostgresLedger { client };
        ledger.migrate()?;
        Ok(ledger)
    }

    /// Whether the connection to the server is closed (a pool drops it).
    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    fn migrate(&mut self) -> Result<(), LedgerError> {
        let mut tx = self.client.transaction().map_err(pg)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .map_err(pg)?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS offpin_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
        )
        .map_err(pg)?;
        let done: i32 = tx
            .query_one(
                "SELECT coalesce(max(version), 0) FROM offpin_migrations",
                &[],
            )
            .map_err(pg)?
            .try_get(0)
            .map_err(pg)?;
        let known = i32::try_from(MIGRATIONS.len()).unwrap_or(i32::MAX);
        if done > known {
            return Err(err(format!(
                "the database's schema {done} is newer than this offpin ({known})"
            )));
        }
        for (version, sql) in (1..).zip(MIGRATIONS) {
            if version > done {
                tx.batch_execute(sql).map_err(pg)?;
                tx.execute(
                    "INSERT INTO offpin_migrations (version) VALUES ($1)",
                    &[&version],
                )
                .map_err(pg)?;
            }
        }
        tx.commit().map_err(pg)
    }

    fn select_entry(&mut self, and: &str, access_code_id: &str) -> Result<Entry, LedgerError> {
        let sql =
            format!("SELECT {ENTRY_COLUMNS} FROM access_codes WHERE access_code_id = $1 {and}");
        match self
            .client
            .query_opt(sql.as_str(), &[&access_code_id])
            .map_err(pg)?
        {
            Some(row) => entry_from_row(&row),
            None => Err(LedgerError::not_found(access_code_id)),
        }
    }
}

impl Ledger for PostgresLedger {
    fn add_device(&mut self, device: &Device) -> Result<(), LedgerError> {
        let inserted = self
            .client
            .execute(
                "INSERT INTO devices (device_id, profile, utc_offset_minutes, generation) VALUES ($1, $2, $3, $4) ON CONFLICT (device_id) DO NOTHING",
                &[
                    &device.device_id,
                    &device.profile,
                    &device.utc_offset.minutes(),
                    &i64::from(device.generation),
                ],
            )
            .map_err(pg)?;
        if inserted == 1 || self.device(&device.device_id)? == *device {
            Ok(())
        } else {
            Err(LedgerError::DeviceConflict {
                device_id: device.device_id.clone(),
            })
        }
    }

    fn device(&mut self, device_id: &str) -> Result<Device, LedgerError> {
        match self
            .client
            .query_opt(
                "SELECT device_id, profile, utc_offset_minutes, generation FROM devices WHERE device_id = $1",
                &[&device_id],
            )
            .map_err(pg)?
        {
            Some(row) => device_from_row(&row),
            None => Err(LedgerError::UnknownDevice {
                device_id: device_id.to_owned(),
            }),
        }
    }

    fn devices(&mut self) -> Result<Vec<Device>, LedgerError> {
        self.client
            .query(
                "SELECT device_id, profile, utc_offset_minutes, generation FROM devices ORDER BY device_id",
                &[],
            )
            .map_err(pg)?
            .iter()
            .map(device_from_row)
            .collect()
    }

    fn allocate(
        &mut self,
        device_id: &str,
        key: &AllocationKey,
        limit: u32,
        build: &mut dyn FnMut(u32) -> Result<Entry, LedgerError>,
    ) -> Result<Option<Entry>, LedgerError> {
        let kind = key.kind.name();
        let (start, length, lineage) = (
            i64::from(key.start),
            i64::from(key.length),
            i32::from(key.lineage),
        );
        let mut used: Vec<u32> = self
            .client
            .query(
                "SELECT variance FROM access_codes WHERE device_id = $1 AND kind = $2 AND start = $3 AND length = $4 AND lineage = $5",
                &[&device_id, &kind, &start, &length, &lineage],
            )
            .map_err(pg)?
            .iter()
            .map(|r| r.try_get::<_, i64>(0).map_err(pg).and_then(|v| to_u32(v, "variance")))
            .collect::<Result<_, _>>()?;
        // Each round either stores the entry or learns one more taken
        // number, so this ends within `limit` rounds.
        while let Some(n) = lowest_free(used.iter().copied(), limit) {
            let entry = build(n)?;
            let record = serde_json::to_string(&entry.record).map_err(err)?;
            let stored = self
                .client
                .execute(
                    "INSERT INTO access_codes (access_code_id, device_id, kind, start, length, lineage, variance, user_identifier_key, record) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text::jsonb) ON CONFLICT ON CONSTRAINT access_codes_allocation DO NOTHING",
                    &[
                        &entry.record.access_code_id,
                        &device_id,
                        &kind,
                        &start,
                        &length,
                        &lineage,
                        &i64::from(n),
                        &entry.user_identifier_key,
                        &record,
                    ],
                )
                .map_err(pg)?;
            if stored == 1 {
                return Ok(Some(entry));
            }
            used.push(n);
        }
        Ok(None)
    }

    fn find(&mut self, filter: &ListFilter) -> Result<Vec<Entry>, LedgerError> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM access_codes WHERE deleted_at IS NULL AND ($1::text IS NULL OR device_id = $1) AND ($2::text IS NULL OR user_identifier_key = $2) AND (cardinality($3::text[]) = 0 OR access_code_id = ANY($3)) ORDER BY seq"
        );
        let mut out = Vec::new();
        for row in self
            .client
            .query(
                sql.as_str(),
                &[
                    &filter.device_id,
                    &filter.user_identifier_key,
                    &filter.access_code_ids,
                ],
            )
            .map_err(pg)?
        {
            let entry = entry_from_row(&row)?;
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
            .client
            .execute(
                "UPDATE access_codes SET deleted_at = $2 WHERE access_code_id = $1 AND deleted_at IS NULL",
                &[&access_code_id, &at],
            )
            .map_err(pg)?;
        if changed == 0 {
            return Err(LedgerError::not_found(access_code_id));
        }
        self.select_entry("", access_code_id)
    }

    fn replace_record(&mut self, record: &AccessCode) -> Result<(), LedgerError> {
        let json = serde_json::to_string(record).map_err(err)?;
        let changed = self
            .client
            .execute(
                "UPDATE access_codes SET record = $2::text::jsonb WHERE access_code_id = $1 AND deleted_at IS NULL",
                &[&record.access_code_id, &json],
            )
            .map_err(pg)?;
        if changed == 0 {
            return Err(LedgerError::not_found(&record.access_code_id));
        }
        Ok(())
    }
}

impl ApiKeyStore for PostgresLedger {
    fn insert_api_key(&mut self, record: &ApiKeyRecord) -> Result<(), LedgerError> {
        self.client
            .execute(
                "INSERT INTO api_keys (key_id, name, hash, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5)",
                &[
                    &record.key_id,
                    &record.name,
                    &record.hash.as_slice(),
                    &record.created_at,
                    &record.revoked_at,
                ],
            )
            .map_err(pg)?;
        Ok(())
    }

    fn api_key(&mut self, key_id: &str) -> Result<Option<ApiKeyRecord>, LedgerError> {
        self.client
            .query_opt(
                "SELECT key_id, name, hash, created_at, revoked_at FROM api_keys WHERE key_id = $1",
                &[&key_id],
            )
            .map_err(pg)?
            .as_ref()
            .map(api_key_from_row)
            .transpose()
    }

    fn api_keys(&mut self) -> Result<Vec<ApiKeyRecord>, LedgerError> {
        self.client
            .query(
                "SELECT key_id, name, hash, created_at, revoked_at FROM api_keys ORDER BY seq",
                &[],
            )
            .map_err(pg)?
            .iter()
            .map(api_key_from_row)
            .collect()
    }

    fn revoke_api_keys(&mut self, name: &str, at: DateTime<Utc>) -> Result<usize, LedgerError> {
        let n = self
            .client
            .execute(
                "UPDATE api_keys SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL",
                &[&name, &at],
            )
            .map_err(pg)?;
        usize::try_from(n).map_err(err)
    }
}
