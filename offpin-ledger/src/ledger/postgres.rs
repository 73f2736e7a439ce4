//! [`PostgresLedger`]: the ledger on PostgreSQL, for fleets: several
//! `offpin serve` processes (or any number of connections) share one
//! database, with the guarantees of the SQLite ledger.
//!
//! # Decided by constraints
//!
//! - **Allocation.** A UNIQUE constraint on `(device_id, generation, kind,
//!   start, length, lineage, number)` covers every code ever issued,
//!   deleted ones included. To allocate, the ledger reads the numbers
//!   taken, builds the code for the lowest free one and inserts it with
//!   `ON CONFLICT DO NOTHING`: if a concurrent writer took that number
//!   first (the insert waits for its transaction and then sees the
//!   conflict), nothing is stored and the next free number is tried. The
//!   database, not the read, decides who gets a number.
//! - **Idempotency keys** are UNIQUE too: when two requests with one key
//!   race, the second waits for the first, then finds and returns its code.
//! - **Batches** are one transaction: all codes are stored or none. Two
//!   batches that wait on each other (a deadlock PostgreSQL breaks by
//!   aborting one) are retried from the start, up to [`RETRIES`] times.
//! - **The master-key fingerprint** is one row under a primary key: the
//!   first writer binds it, every other one reads it.
//! - **Devices** change by compare-and-swap: an `UPDATE` whose `WHERE`
//!   names every stored setting, which PostgreSQL re-checks on the row's
//!   newest version.
//!
//! # A connection lost while committing
//!
//! When the connection drops after `COMMIT` was sent, the codes may or may
//! not be stored, and the server cannot tell from the client's side. The
//! ledger then reconnects and asks PostgreSQL (`txid_status` of the
//! transaction's id, read before the `COMMIT`, and the codes' ids): it
//! returns the codes if they were stored, and tries the batch again if
//! they were not. Only if the database cannot be asked within a few
//! seconds ([`settle::BUDGET`]) does it answer
//! [`LedgerError::OutcomeUnknown`], naming the codes' ids. A connection
//! lost before the `COMMIT` stored nothing: the batch is tried again on a
//! new connection.
//!
//! # Migrations
//!
//! [`PostgresLedger::connect`] brings the schema up to date before it
//! returns: the [`MIGRATIONS`] not yet recorded in `offpin_migrations`
//! run in one transaction under an advisory lock, so servers starting
//! together apply each one once. A database migrated by a newer offpin is
//! refused ([`LedgerError::NotALedger`]). Migration 4 adds workspaces:
//! every device, group, API key and code already stored goes into
//! `default`, and idempotency keys become unique per workspace (a code's
//! workspace is its device's).
//!
//! Tables are created in the connection's `search_path` (its first
//! schema); give a fleet its own database or schema, e.g.
//! `postgres://offpin@db/offpin?options=-csearch_path%3Doffpin`.

mod allocate;
mod api_keys;
mod connection;
mod pages;
pub mod settle;
mod workspaces;

use connection::describe;
pub use connection::{describe_connection, is_key_value_string};

use chrono::{DateTime, Utc};
use postgres::error::SqlState;
use postgres::{Client, NoTls, Row};

use super::{
    Allocated, Allocation, AllocationScope, Device, DeviceEntry, Fingerprint, Group, GroupRef,
    Ledger, LedgerError, ListFilter, Slot, StorageError, StoredCode, Workspace,
};
use offpin::profile::Kind;
use offpin::time::{UtcOffset, Window};

/// The schema, one migration per entry; a migration is never changed once
/// released (append new ones).
pub const MIGRATIONS: &[&str] = &["
CREATE TABLE meta (
    key text PRIMARY KEY,
    value bytea NOT NULL
);
CREATE TABLE devices (
    device_id text PRIMARY KEY,
    profile text NOT NULL,
    utc_offset_minutes integer NOT NULL,
    generation bigint NOT NULL,
    time_zone text,
    removed_at timestamptz
);
CREATE TABLE codes (
    seq bigserial PRIMARY KEY,
    access_code_id text NOT NULL UNIQUE,
    device_id text NOT NULL REFERENCES devices (device_id),
    generation bigint NOT NULL,
    kind text NOT NULL,
    start bigint NOT NULL,
    length bigint NOT NULL,
    lineage integer NOT NULL,
    number bigint NOT NULL,
    code text NOT NULL,
    issued_start bigint,
    issued_end bigint,
    name text,
    user_identifier_key text,
    common_code_key text,
    idempotency_key text,
    created_at timestamptz NOT NULL,
    deleted_at timestamptz,
    revocation_code text,
    CONSTRAINT codes_allocation UNIQUE (device_id, generation, kind, start, length, lineage, number),
    CONSTRAINT codes_idempotency_key UNIQUE (idempotency_key)
);
CREATE INDEX codes_user ON codes (user_identifier_key);
CREATE TABLE api_keys (
    seq bigserial PRIMARY KEY,
    key_id text NOT NULL UNIQUE,
    name text NOT NULL,
    hash bytea NOT NULL,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);
", "
ALTER TABLE codes ADD COLUMN group_id text, ADD COLUMN group_generation bigint;
CREATE TABLE groups (
    group_id text PRIMARY KEY,
    profile text NOT NULL,
    generation bigint NOT NULL
);
CREATE TABLE group_members (
    device_id text PRIMARY KEY REFERENCES devices (device_id),
    group_id text NOT NULL REFERENCES groups (group_id)
);
", "
ALTER TABLE api_keys ADD COLUMN capabilities text;
", "
CREATE TABLE workspaces (
    workspace_id text PRIMARY KEY,
    created_at timestamptz NOT NULL
);
INSERT INTO workspaces (workspace_id, created_at) VALUES ('default', date_trunc('milliseconds', now()));
ALTER TABLE devices ADD COLUMN workspace_id text NOT NULL DEFAULT 'default' REFERENCES workspaces (workspace_id);
ALTER TABLE groups ADD COLUMN workspace_id text NOT NULL DEFAULT 'default' REFERENCES workspaces (workspace_id);
ALTER TABLE api_keys ADD COLUMN workspace_id text NOT NULL DEFAULT 'default' REFERENCES workspaces (workspace_id);
ALTER TABLE codes ADD COLUMN workspace_id text NOT NULL DEFAULT 'default' REFERENCES workspaces (workspace_id);
ALTER TABLE codes DROP CONSTRAINT codes_idempotency_key;
ALTER TABLE codes ADD CONSTRAINT codes_idempotency_key UNIQUE (workspace_id, idempotency_key);
"];

/// Advisory lock key that serialises migrations ("ofpn").
const MIGRATION_LOCK: i64 = 0x6f66_706e;

/// How many times a batch that lost a deadlock (or its connection
/// before its `COMMIT`) is tried again.
pub const RETRIES: usize = 8;

/// The connection timeout when the URL sets none: a reconnection after a
/// lost connection gives up within it.
pub const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

const CODE_COLUMNS: &str = "access_code_id, device_id, generation, kind, start, length, lineage, number, code, issued_start, issued_end, name, user_identifier_key, common_code_key, idempotency_key, created_at, deleted_at, revocation_code, group_id, group_generation";

const DEVICE_COLUMNS: &str =
    "device_id, profile, utc_offset_minutes, generation, time_zone, removed_at, workspace_id";

/// A ledger in a PostgreSQL database.
pub struct PostgresLedger {
    client: Client,
    /// Where to connect again after a lost connection.
    config: postgres::Config,
    /// The database, for messages (never the password).
    label: String,
}

impl core::fmt::Debug for PostgresLedger {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PostgresLedger")
            .field("database", &self.label)
            .finish_non_exhaustive()
    }
}

/// A stored value the ledger cannot read.
fn corrupt(what: impl core::fmt::Display) -> LedgerError {
    StorageError::without_source(format!("postgres: {what}")).into()
}

/// Whether the error is a deadlock or serialization failure: the
/// transaction was aborted and may be tried again.
fn retryable(e: &postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_DEADLOCK_DETECTED || *c == SqlState::T_R_SERIALIZATION_FAILURE
    )
}

fn kind_from_name(name: &str) -> Result<Kind, LedgerError> {
    Kind::ALL
        .into_iter()
        .find(|k| k.name() == name)
        .ok_or_else(|| corrupt(format!("unknown code kind '{name}'")))
}

fn to_u32(v: i64, what: &str) -> Result<u32, LedgerError> {
    u32::try_from(v).map_err(|_| corrupt(format!("{what} {v} out of range")))
}

/// A storage error: the database's message, the error kept as the
/// [`StorageError`]'s source; for a read-only database (a standby)
/// [`LedgerError::Unwritable`].
fn pg_err(label: &str, e: postgres::Error) -> LedgerError {
    let message = e
        .as_db_error()
        .map_or_else(|| e.to_string(), |db| db.message().to_owned());
    if e.code() == Some(&SqlState::READ_ONLY_SQL_TRANSACTION) {
        return LedgerError::Unwritable {
            path: format!("the PostgreSQL database {label}"),
            reason: message,
        };
    }
    StorageError::described(format!("postgres {label}: {message}"), e).into()
}

fn code_from_row(label: &str, row: &Row) -> Result<StoredCode, LedgerError> {
    let get = |e: postgres::Error| pg_err(label, e);
    let kind: String = row.try_get(3).map_err(get)?;
    let lineage: i32 = row.try_get(6).map_err(get)?;
    let issued: (Option<i64>, Option<i64>) =
        (row.try_get(9).map_err(get)?, row.try_get(10).map_err(get)?);
    Ok(StoredCode {
        access_code_id: row.try_get(0).map_err(get)?,
        device_id: row.try_get(1).map_err(get)?,
        scope: AllocationScope::from_columns(
            kind_from_name(&kind)?,
            to_u32(row.try_get(4).map_err(get)?, "start")?,
            to_u32(row.try_get(5).map_err(get)?, "length")?,
            lineage,
            to_u32(row.try_get(2).map_err(get)?, "generation")?,
        )
        .ok_or_else(|| corrupt("lineage out of range"))?,
        number: to_u32(row.try_get(7).map_err(get)?, "number")?,
        code: row.try_get(8).map_err(get)?,
        issued_window: match issued {
            (Some(start), Some(end)) => Some(Window { start, end }),
            _ => None,
        },
        name: row.try_get(11).map_err(get)?,
        user_identifier_key: row.try_get(12).map_err(get)?,
        common_code_key: row.try_get(13).map_err(get)?,
        idempotency_key: row.try_get(14).map_err(get)?,
        created_at: row.try_get(15).map_err(get)?,
        deleted_at: row.try_get(16).map_err(get)?,
        revocation_code: row.try_get(17).map_err(get)?,
        group: match (
            row.try_get::<_, Option<String>>(18).map_err(get)?,
            row.try_get::<_, Option<i64>>(19).map_err(get)?,
        ) {
            (Some(group_id), Some(g)) => Some(GroupRef {
                group_id,
                generation: to_u32(g, "group generation")?,
            }),
            _ => None,
        },
    })
}

fn device_from_row(label: &str, row: &Row) -> Result<DeviceEntry, LedgerError> {
    let get = |e: postgres::Error| pg_err(label, e);
    let minutes: i32 = row.try_get(2).map_err(get)?;
    Ok(DeviceEntry {
        device: Device {
            device_id: row.try_get(0).map_err(get)?,
            profile: row.try_get(1).map_err(get)?,
            utc_offset: UtcOffset::from_minutes(minutes)?,
            generation: to_u32(row.try_get(3).map_err(get)?, "generation")?,
            time_zone: row.try_get(4).map_err(get)?,
            workspace_id: row.try_get(6).map_err(get)?,
        },
        removed_at: row.try_get(5).map_err(get)?,
    })
}

impl PostgresLedger {
    /// Connects to the database at `url` (a libpq URL or key=value string,
    /// e.g. `postgres://offpin@localhost/offpin`) and applies the missing
    /// [`MIGRATIONS`].
    ///
    /// # Errors
    ///
    /// [`LedgerError::Storage`] when the database cannot be reached or a
    /// migration fails; [`LedgerError::NotALedger`] when its schema is
    /// newer than this offpin.
    pub fn connect(url: &str) -> Result<Self, LedgerError> {
        let mut config: postgres::Config =
            url.parse().map_err(|e| StorageError::new("postgres", e))?;
        if config.get_connect_timeout().is_none() {
            // Bounds the reconnections after a lost connection.
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let label = describe(&config);
        let client = config.connect(NoTls).map_err(|e| pg_err(&label, e))?;
        let mut ledger = PostgresLedger {
            client,
            config,
            label,
        };
        ledger.migrate()?;
        Ok(ledger)
    }

    /// Whether the connection to the server is closed (a pool drops it).
    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    /// Checks that the connection still answers (`SELECT 1`): what a pool
    /// runs on a connection before lending it, so that one the database
    /// dropped while it sat idle (a restart) is replaced, not used.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Storage`] when the database does not answer.
    pub fn check(&mut self) -> Result<(), LedgerError> {
        let label = self.label.as_str();
        self.client
            .simple_query("SELECT 1")
            .map(drop)
            .map_err(|e| pg_err(label, e))
    }

    fn migrate(&mut self) -> Result<(), LedgerError> {
        let label = self.label.as_str();
        let pg = |e: postgres::Error| pg_err(label, e);
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
            return Err(LedgerError::NotALedger {
                path: format!("the PostgreSQL database {label}"),
                reason: format!(
                    "its schema {done} is newer than this offpin's ({known}); use a newer offpin"
                ),
            });
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

    fn select_codes(
        &mut self,
        sql: &str,
        args: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<StoredCode>, LedgerError> {
        let label = self.label.as_str();
        let rows = self.client.query(sql, args).map_err(|e| pg_err(label, e))?;
        rows.iter().map(|r| code_from_row(label, r)).collect()
    }

    fn select_groups(
        &mut self,
        filter: &str,
        args: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Group>, LedgerError> {
        let label = self.label.as_str();
        let get = |e: postgres::Error| pg_err(label, e);
        let rows = self
            .client
            .query(
                &format!(
                    "SELECT g.group_id, g.profile, g.generation, m.device_id, g.workspace_id FROM groups g LEFT JOIN group_members m ON m.group_id = g.group_id {filter} ORDER BY g.group_id, m.device_id"
                ),
                args,
            )
            .map_err(get)?;
        let mut out: Vec<Group> = Vec::new();
        for row in &rows {
            let id: String = row.try_get(0).map_err(get)?;
            let member: Option<String> = row.try_get(3).map_err(get)?;
            if out.last().is_none_or(|g| g.group_id != id) {
                out.push(Group {
                    group_id: id,
                    profile: row.try_get(1).map_err(get)?,
                    generation: to_u32(row.try_get(2).map_err(get)?, "group generation")?,
                    members: Vec::new(),
                    workspace_id: row.try_get(4).map_err(get)?,
                });
            }
            if let (Some(g), Some(m)) = (out.last_mut(), member) {
                g.members.push(m);
            }
        }
        // Byte order, whatever the database's collation.
        for g in &mut out {
            g.members.sort();
        }
        Ok(out)
    }
}

impl Ledger for PostgresLedger {
    fn master_fingerprint(&mut self) -> Result<Option<Fingerprint>, LedgerError> {
        let label = self.label.as_str();
        let row = self
            .client
            .query_opt(
                "SELECT value FROM meta WHERE key = 'master_fingerprint'",
                &[],
            )
            .map_err(|e| pg_err(label, e))?;
        row.map(|r| {
            let v: Vec<u8> = r.try_get(0).map_err(|e| pg_err(label, e))?;
            Fingerprint::try_from(v.as_slice()).map_err(|_| corrupt("corrupted master fingerprint"))
        })
        .transpose()
    }

    fn bind_master_fingerprint(
        &mut self,
        fingerprint: Fingerprint,
    ) -> Result<Fingerprint, LedgerError> {
        let label = self.label.as_str();
        self.client
            .execute(
                "INSERT INTO meta (key, value) VALUES ('master_fingerprint', $1) ON CONFLICT (key) DO NOTHING",
                &[&fingerprint.as_slice()],
            )
            .map_err(|e| pg_err(label, e))?;
        self.master_fingerprint()?
            .ok_or_else(|| LedgerError::invariant("the master-key fingerprint was not stored"))
    }

    fn device_entry(&mut self, device_id: &str) -> Result<Option<DeviceEntry>, LedgerError> {
        let label = self.label.as_str();
        self.client
            .query_opt(
                &format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE device_id = $1"),
                &[&device_id],
            )
            .map_err(|e| pg_err(label, e))?
            .map(|r| device_from_row(label, &r))
            .transpose()
    }

    fn device_entries(&mut self) -> Result<Vec<DeviceEntry>, LedgerError> {
        let label = self.label.as_str();
        self.client
            .query(
                &format!("SELECT {DEVICE_COLUMNS} FROM devices ORDER BY device_id"),
                &[],
            )
            .map_err(|e| pg_err(label, e))?
            .iter()
            .map(|r| device_from_row(label, r))
            .collect()
    }

    fn put_device(
        &mut self,
        new: &DeviceEntry,
        expected: Option<&DeviceEntry>,
    ) -> Result<bool, LedgerError> {
        let label = self.label.as_str();
        let d = &new.device;
        let generation = i64::from(d.generation);
        let minutes = d.utc_offset.minutes();
        let changed = match expected {
            None => self.client.execute(
                &format!(
                    "INSERT INTO devices ({DEVICE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (device_id) DO NOTHING"
                ),
                &[
                    &d.device_id,
                    &d.profile,
                    &minutes,
                    &generation,
                    &d.time_zone,
                    &new.removed_at,
                    &d.workspace_id,
                ],
            ),
            Some(old) => {
                let o = &old.device;
                // PostgreSQL re-checks the WHERE on the row's newest version
                // after a concurrent update: a compare-and-swap.
                self.client.execute(
                    "UPDATE devices SET profile = $2, utc_offset_minutes = $3, generation = $4, time_zone = $5, removed_at = $6 WHERE device_id = $1 AND profile = $7 AND utc_offset_minutes = $8 AND generation = $9 AND time_zone IS NOT DISTINCT FROM $10 AND removed_at IS NOT DISTINCT FROM $11",
                    &[
                        &d.device_id,
                        &d.profile,
                        &minutes,
                        &generation,
                        &d.time_zone,
                        &new.removed_at,
                        &o.profile,
                        &o.utc_offset.minutes(),
                        &i64::from(o.generation),
                        &o.time_zone,
                        &old.removed_at,
                    ],
                )
            }
        }
        .map_err(|e| pg_err(label, e))?;
        Ok(changed == 1)
    }

    fn allocate(
        &mut self,
        batch: &[Allocation<'_>],
        decide: &mut dyn FnMut(usize, Slot) -> Result<StoredCode, LedgerError>,
    ) -> Result<Vec<Allocated>, LedgerError> {
        self.allocate_settled(batch, decide)
    }

    fn group_entry(&mut self, group_id: &str) -> Result<Option<Group>, LedgerError> {
        Ok(self
            .select_groups("WHERE g.group_id = $1", &[&group_id])?
            .pop())
    }

    fn group_entries(&mut self) -> Result<Vec<Group>, LedgerError> {
        self.select_groups("", &[])
    }

    fn put_group(&mut self, new: &Group, expected: Option<&Group>) -> Result<bool, LedgerError> {
        let label = self.label.as_str();
        let pg = |e: postgres::Error| pg_err(label, e);
        let mut tx = self.client.transaction().map_err(pg)?;
        let generation = i64::from(new.generation);
        // Insert or lock the group's row first: writers of one group take
        // turns, and the members read below are the committed ones.
        let changed = match expected {
            None => tx.execute(
                "INSERT INTO groups (group_id, profile, generation, workspace_id) VALUES ($1, $2, $3, $4) ON CONFLICT (group_id) DO NOTHING",
                &[&new.group_id, &new.profile, &generation, &new.workspace_id],
            ),
            Some(old) => tx.execute(
                "UPDATE groups SET profile = $2, generation = $3 WHERE group_id = $1 AND profile = $4 AND generation = $5",
                &[
                    &new.group_id,
                    &new.profile,
                    &generation,
                    &old.profile,
                    &i64::from(old.generation),
                ],
            ),
        }
        .map_err(pg)?;
        if changed != 1 {
            return Ok(false);
        }
        let mut members: Vec<String> = tx
            .query(
                "SELECT device_id FROM group_members WHERE group_id = $1",
                &[&new.group_id],
            )
            .map_err(pg)?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()
            .map_err(pg)?;
        members.sort();
        if members != expected.map(|g| g.members.clone()).unwrap_or_default() {
            return Ok(false);
        }
        tx.execute(
            "DELETE FROM group_members WHERE group_id = $1",
            &[&new.group_id],
        )
        .map_err(pg)?;
        for m in &new.members {
            let added = tx
                .execute(
                    "INSERT INTO group_members (device_id, group_id) VALUES ($1, $2) ON CONFLICT (device_id) DO NOTHING",
                    &[m, &new.group_id],
                )
                .map_err(pg)?;
            if added == 0 {
                // A member of another group: roll back.
                return Ok(false);
            }
        }
        tx.commit().map_err(pg)?;
        Ok(true)
    }

    fn workspace_entries(&mut self) -> Result<Vec<Workspace>, LedgerError> {
        self.select_workspaces()
    }

    fn put_workspace(&mut self, workspace: &Workspace) -> Result<bool, LedgerError> {
        self.insert_workspace(workspace)
    }

    fn find(&mut self, filter: &ListFilter) -> Result<Vec<StoredCode>, LedgerError> {
        // Narrow in SQL, finish with the shared predicate.
        let codes = if filter.access_code_ids.is_empty() {
            self.select_codes(
                &format!(
                    "SELECT {CODE_COLUMNS} FROM codes WHERE ($1::text IS NULL OR device_id = $1) AND ($2::text IS NULL OR user_identifier_key = $2) ORDER BY seq"
                ),
                &[&filter.device_id, &filter.user_identifier_key],
            )?
        } else {
            self.select_codes(
                &format!(
                    "SELECT {CODE_COLUMNS} FROM codes WHERE access_code_id = ANY($1) ORDER BY seq"
                ),
                &[&filter.access_code_ids],
            )?
        };
        Ok(codes.into_iter().filter(|c| filter.matches(c)).collect())
    }

    fn find_page(
        &mut self,
        filter: &ListFilter,
        after: Option<&super::PageKey>,
        ended_before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<StoredCode>, LedgerError> {
        self.page(None, filter, after, ended_before, limit)
    }

    fn find_page_in(
        &mut self,
        workspace_id: &str,
        filter: &ListFilter,
        after: Option<&super::PageKey>,
        ended_before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<StoredCode>, LedgerError> {
        self.page(Some(workspace_id), filter, after, ended_before, limit)
    }

    fn find_one(&mut self, access_code_id: &str) -> Result<Option<StoredCode>, LedgerError> {
        Ok(self
            .select_codes(
                &format!("SELECT {CODE_COLUMNS} FROM codes WHERE access_code_id = $1"),
                &[&access_code_id],
            )?
            .pop())
    }

    fn mark_deleted(
        &mut self,
        access_code_id: &str,
        at: DateTime<Utc>,
        revocation_code: Option<&str>,
    ) -> Result<StoredCode, LedgerError> {
        let label = self.label.as_str();
        self.client
            .execute(
                "UPDATE codes SET deleted_at = $2, revocation_code = $3 WHERE access_code_id = $1 AND deleted_at IS NULL",
                &[&access_code_id, &at, &revocation_code],
            )
            .map_err(|e| pg_err(label, e))?;
        self.find_one(access_code_id)?
            .ok_or_else(|| LedgerError::not_found(access_code_id))
    }

    fn rename(
        &mut self,
        access_code_id: &str,
        name: Option<&str>,
    ) -> Result<StoredCode, LedgerError> {
        let label = self.label.as_str();
        self.client
            .execute(
                "UPDATE codes SET name = $2 WHERE access_code_id = $1",
                &[&access_code_id, &name],
            )
            .map_err(|e| pg_err(label, e))?;
        self.find_one(access_code_id)?
            .ok_or_else(|| LedgerError::not_found(access_code_id))
    }
}
