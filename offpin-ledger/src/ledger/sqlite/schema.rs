//! The SQLite ledger's schema (version [`SCHEMA_VERSION`]) and the
//! upgrades of older ones, each run in the caller's transaction: 1 to 3
//! ([`upgrade_v1`]), 2 to 3 ([`upgrade_v2`]), then 3 to 4
//! ([`upgrade_v3`], workspaces).

use rusqlite::{Transaction, params};

use crate::chrono_time::parse_rfc3339;
use crate::ledger::{DEFAULT_WORKSPACE, StorageError};

/// `application_id` of offpin ledgers ("ofpn").
pub(super) const APPLICATION_ID: u32 = 0x6f66_706e;
/// Schema version (`user_version`).
pub(super) const SCHEMA_VERSION: u32 = 4;

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS devices (
    device_id TEXT PRIMARY KEY NOT NULL,
    profile TEXT NOT NULL,
    utc_offset_minutes INTEGER NOT NULL,
    generation INTEGER NOT NULL,
    time_zone TEXT,
    removed_at TEXT,
    workspace_id TEXT NOT NULL DEFAULT 'default'
);
CREATE TABLE IF NOT EXISTS codes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    access_code_id TEXT NOT NULL UNIQUE,
    device_id TEXT NOT NULL,
    generation INTEGER NOT NULL,
    kind TEXT NOT NULL,
    start INTEGER NOT NULL,
    length INTEGER NOT NULL,
    lineage INTEGER NOT NULL,
    number INTEGER NOT NULL,
    code TEXT NOT NULL,
    issued_start INTEGER,
    issued_end INTEGER,
    name TEXT,
    user_identifier_key TEXT,
    common_code_key TEXT,
    idempotency_key TEXT,
    created_at TEXT NOT NULL,
    deleted_at TEXT,
    revocation_code TEXT,
    group_id TEXT,
    group_generation INTEGER,
    workspace_id TEXT NOT NULL DEFAULT 'default'
);
CREATE UNIQUE INDEX IF NOT EXISTS codes_allocation
    ON codes (device_id, generation, kind, start, length, lineage, number);
CREATE INDEX IF NOT EXISTS codes_device ON codes (device_id);
CREATE INDEX IF NOT EXISTS codes_user ON codes (user_identifier_key);
CREATE TABLE IF NOT EXISTS groups (
    group_id TEXT PRIMARY KEY NOT NULL,
    profile TEXT NOT NULL,
    generation INTEGER NOT NULL,
    workspace_id TEXT NOT NULL DEFAULT 'default'
);
CREATE TABLE IF NOT EXISTS group_members (
    device_id TEXT PRIMARY KEY NOT NULL,
    group_id TEXT NOT NULL REFERENCES groups (group_id)
);
CREATE TABLE IF NOT EXISTS api_keys (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    hash BLOB NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    workspace_id TEXT NOT NULL DEFAULT 'default'
);
CREATE TABLE IF NOT EXISTS workspaces (
    workspace_id TEXT PRIMARY KEY NOT NULL,
    created_at TEXT NOT NULL
);
";

/// The API keys' capabilities (`Capabilities::to_column`), a column that
/// a ledger of schema 3 gets when first opened for writing, with no new
/// schema version: an older offpin names its columns, ignores it, and
/// the keys it creates have no capability (NULL), so nothing is
/// misread. Kept out of [`SCHEMA`] so that adding it is one step,
/// separate from any schema upgrade.
pub(super) const CAPABILITIES_COLUMN: &str = "ALTER TABLE api_keys ADD COLUMN capabilities TEXT;";

/// The API keys of `offpin serve`: a table a schema-2 ledger written
/// before the service lacks. Older offpins ignore it, so adding it needs
/// no new schema version; a writable open adds it.
pub(super) const API_KEYS_TABLE: &str = "api_keys";

/// The code columns of schema 2 (what the schema-1 upgrade fills).
pub(super) const CODE_COLUMNS_V2: &str = "access_code_id, device_id, generation, kind, start, length, lineage, number, code, issued_start, issued_end, name, user_identifier_key, common_code_key, idempotency_key, created_at, deleted_at, revocation_code";

pub(super) const CODE_COLUMNS: &str = "access_code_id, device_id, generation, kind, start, length, lineage, number, code, issued_start, issued_end, name, user_identifier_key, common_code_key, idempotency_key, created_at, deleted_at, revocation_code, group_id, group_generation";

pub(super) const DEVICE_COLUMNS: &str =
    "device_id, profile, utc_offset_minutes, generation, time_zone, removed_at, workspace_id";

/// The tables that name a workspace (schema 4), each with the column
/// `workspace_id`.
const WORKSPACE_TABLES: [&str; 3] = ["devices", "groups", "api_keys"];

/// Stores the [`DEFAULT_WORKSPACE`] (created at `now`) unless it is there.
pub(super) fn default_workspace(now: &str) -> String {
    format!(
        "INSERT INTO workspaces (workspace_id, created_at) VALUES ('{DEFAULT_WORKSPACE}', '{now}') ON CONFLICT (workspace_id) DO NOTHING;"
    )
}

/// Schema 3 (or what an upgrade from 1 or 2 made of it) to 4: a
/// `workspace_id` column on devices, groups, API keys and codes that lack
/// one (codes' idempotency keys unique per workspace),
/// every existing row in the [`DEFAULT_WORKSPACE`] (created at `now`), the
/// `workspaces` table. `context` names the ledger and the upgrade in an
/// error.
pub(super) fn upgrade_v3(
    tx: &Transaction<'_>,
    context: &str,
    now: &str,
) -> Result<(), StorageError> {
    let text = |e: rusqlite::Error| StorageError::new(context, e);
    rebuild_codes_v3(tx).map_err(text)?;
    for table in WORKSPACE_TABLES {
        let has: (bool, bool) = tx
            .query_row(
                "SELECT count(*) > 0, coalesce(sum(name = 'workspace_id'), 0) > 0 FROM pragma_table_info(?1)",
                params![table],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(text)?;
        if has == (true, false) {
            tx.execute_batch(&format!(
                "ALTER TABLE {table} ADD COLUMN workspace_id TEXT NOT NULL DEFAULT '{DEFAULT_WORKSPACE}';"
            ))
            .map_err(text)?;
        }
    }
    tx.execute_batch(&format!(
        "{SCHEMA} {CODES_IDEMPOTENCY} {} PRAGMA user_version = {SCHEMA_VERSION};",
        default_workspace(now)
    ))
    .map_err(text)
}

/// Idempotency keys are unique per workspace (schema 4): another
/// workspace may use the same key for a code of its own. Kept out of
/// [`SCHEMA`], which the upgrades of schemas 1 and 2 run on a `codes`
/// table without the `workspace_id` column.
pub(super) const CODES_IDEMPOTENCY: &str =
    "CREATE UNIQUE INDEX IF NOT EXISTS codes_idempotency ON codes (workspace_id, idempotency_key);";

/// A schema-3 `codes` table (its `idempotency_key` unique across the
/// ledger, a column constraint SQLite cannot drop) copied into the
/// schema-4 one, every code in the [`DEFAULT_WORKSPACE`] as its device
/// is; a no-op for a table that has the `workspace_id` column (what the
/// schema-1 upgrade creates).
fn rebuild_codes_v3(tx: &Transaction<'_>) -> Result<(), rusqlite::Error> {
    let has: bool = tx.query_row(
        "SELECT coalesce(sum(name = 'workspace_id'), 0) > 0 FROM pragma_table_info('codes')",
        [],
        |r| r.get(0),
    )?;
    if has {
        return Ok(());
    }
    tx.execute_batch(&format!(
        "DROP INDEX IF EXISTS codes_allocation; DROP INDEX IF EXISTS codes_device; DROP INDEX IF EXISTS codes_user; \
         ALTER TABLE codes RENAME TO codes_v3; {SCHEMA} \
         INSERT INTO codes (seq, {CODE_COLUMNS}) SELECT seq, {CODE_COLUMNS} FROM codes_v3; \
         DROP TABLE codes_v3;"
    ))
}

/// Schema 2 to 3: the group columns of codes, the group tables.
/// `context` names the ledger and the upgrade in an error.
pub(super) fn upgrade_v2(tx: &Transaction<'_>, context: &str) -> Result<(), StorageError> {
    tx.execute_batch(&format!(
        "ALTER TABLE codes ADD COLUMN group_id TEXT; ALTER TABLE codes ADD COLUMN group_generation INTEGER; {SCHEMA} PRAGMA user_version = {SCHEMA_VERSION};"
    ))
    .map_err(|e| StorageError::new(context, e))
}

/// The schema-1 `record` column: what the upgrade needs of it.
#[derive(serde::Deserialize)]
struct V1Record {
    code: String,
    name: Option<String>,
    common_code_key: Option<String>,
    created_at: String,
    starts_at: Option<String>,
    ends_at: Option<String>,
}

/// One row of the schema-1 `access_codes` table, with its device's key
/// generation.
struct V1Row {
    access_code_id: String,
    device_id: String,
    generation: u32,
    kind: String,
    start: u32,
    length: u32,
    lineage: u8,
    variance: u32,
    user_identifier_key: Option<String>,
    record: String,
    deleted_at: Option<String>,
}

/// Schema 1 to 3: the device columns, the new tables, each code's record
/// (JSON) turned into columns, the old table dropped. `context` names the
/// ledger and the upgrade in an error.
pub(super) fn upgrade_v1(tx: &Transaction<'_>, context: &str) -> Result<(), StorageError> {
    let text = |e: rusqlite::Error| StorageError::new(context, e);
    tx.execute_batch(
        "ALTER TABLE devices ADD COLUMN time_zone TEXT; ALTER TABLE devices ADD COLUMN removed_at TEXT;",
    )
    .map_err(text)?;
    tx.execute_batch(SCHEMA).map_err(text)?;
    let rows = v1_rows(tx).map_err(text)?;
    let mut insert = tx
        .prepare(&format!(
            "INSERT INTO codes ({CODE_COLUMNS_V2}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, NULL, ?15, ?16, NULL)"
        ))
        .map_err(text)?;
    for row in rows {
        insert_v1(&mut insert, row, context)?;
    }
    drop(insert);
    tx.execute_batch(&format!(
        "DROP TABLE access_codes; PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {SCHEMA_VERSION};"
    ))
    .map_err(text)
}

/// Every code of a schema-1 ledger, in issue order.
fn v1_rows(tx: &Transaction<'_>) -> Result<Vec<V1Row>, rusqlite::Error> {
    let mut stmt = tx.prepare(
        "SELECT a.access_code_id, a.device_id, d.generation, a.kind, a.start, a.length, a.lineage, a.variance, a.user_identifier_key, a.record, a.deleted_at FROM access_codes a JOIN devices d ON d.device_id = a.device_id ORDER BY a.seq",
    )?;
    stmt.query_map([], |r| {
        Ok(V1Row {
            access_code_id: r.get(0)?,
            device_id: r.get(1)?,
            generation: r.get(2)?,
            kind: r.get(3)?,
            start: r.get(4)?,
            length: r.get(5)?,
            lineage: r.get(6)?,
            variance: r.get(7)?,
            user_identifier_key: r.get(8)?,
            record: r.get(9)?,
            deleted_at: r.get(10)?,
        })
    })?
    .collect()
}

/// Stores a schema-1 code in the schema-2 columns.
fn insert_v1(
    insert: &mut rusqlite::Statement<'_>,
    row: V1Row,
    context: &str,
) -> Result<(), StorageError> {
    let id = &row.access_code_id;
    let r: V1Record = serde_json::from_str(&row.record)
        .map_err(|e| StorageError::new(format!("{context}: record {id}"), e))?;
    let unix = |t: &Option<String>| -> Result<Option<i64>, StorageError> {
        t.as_deref()
            .map(|t| parse_rfc3339(t).map(|t| t.timestamp()))
            .transpose()
            .map_err(|e| StorageError::without_source(format!("{context}: {e}")))
    };
    insert
        .execute(params![
            row.access_code_id,
            row.device_id,
            row.generation,
            row.kind,
            row.start,
            row.length,
            row.lineage,
            row.variance,
            r.code,
            unix(&r.starts_at)?,
            unix(&r.ends_at)?,
            r.name,
            row.user_identifier_key,
            r.common_code_key,
            r.created_at,
            row.deleted_at,
        ])
        .map_err(|e| StorageError::new(context, e))?;
    Ok(())
}
