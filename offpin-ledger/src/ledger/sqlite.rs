//! [`SqliteLedger`]: the embedded on-disk ledger, one SQLite file.
//!
//! - **One file.** SQLite's rollback journal (`journal_mode = DELETE`):
//!   between commands the ledger is a single file, and a reader needs no
//!   file of its own beside it, so a read-only ledger or one in a
//!   read-only directory can be listed ([`SqliteLedger::open_read_only`]).
//!   A service's writer ([`writer::GroupCommit`]) runs the ledger in WAL
//!   mode while it writes, and makes it one file again when it stops.
//! - **Atomic.** Every allocation batch is one `BEGIN IMMEDIATE`
//!   transaction (a writer lock taken before the read; a savepoint inside
//!   a group commit's transaction, which holds that lock), waiting up to
//!   [`BUSY_TIMEOUT`] for other writers: concurrent processes never share
//!   a variance, and a batch killed midway (`kill -9`, power loss) leaves
//!   nothing of itself. UNIQUE indexes on the allocation
//!   `(device_id, generation, kind, start, length, lineage, number)` and
//!   on idempotency keys are the second line of defence.
//! - **Its own.** The file is marked with SQLite's `application_id`;
//!   the header is checked before SQLite opens the file, so an empty
//!   (0-byte) file, another application's database or a newer schema is
//!   refused, never written to. A new ledger is built in a temporary file
//!   and linked into place, so a crash never leaves an empty file behind.
//! - **Upgrades.** A schema-1 ledger (records stored as JSON) or a
//!   schema-2 one (without groups) is upgraded in one transaction the
//!   first time it is opened for writing (schema 3 adds the `groups` and
//!   `group_members` tables and the group key of each code; an older
//!   offpin refuses it, rather than misread a group code); schema 4 adds
//!   workspaces, and puts every device, group and API key of an older
//!   ledger in the `default` one.

mod api_keys;
mod file;
mod pages;
mod schema;
mod workspaces;
mod write;
pub mod writer;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{
    Connection, ErrorCode, OpenFlags, OptionalExtension, Row, TransactionBehavior, params,
};

use super::{
    Allocated, Allocation, AllocationScope, Device, DeviceEntry, Fingerprint, Group, GroupRef,
    Ledger, LedgerError, ListFilter, Slot, StorageError, StoredCode, Workspace, lowest_free,
};
use crate::chrono_time::{parse_rfc3339, rfc3339_millis};
use file::{Header, create, read_header};
use offpin::profile::Kind;
use offpin::time::{UtcOffset, Window};
use schema::{
    API_KEYS_TABLE, APPLICATION_ID, CODE_COLUMNS, CODES_IDEMPOTENCY, DEVICE_COLUMNS, SCHEMA,
    SCHEMA_VERSION, default_workspace, upgrade_v1, upgrade_v2, upgrade_v3,
};
use write::Write;

/// The workspace of the device `?2` names: a code's, for idempotency
/// keys are unique per workspace (schema 4).
const WORKSPACE_OF_2: &str = "(SELECT workspace_id FROM devices WHERE device_id = ?2)";

/// How long a writer waits for another one before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// A ledger in one SQLite file.
#[derive(Debug)]
pub struct SqliteLedger {
    conn: Connection,
    path: PathBuf,
    label: String,
}

fn kind_from_name(name: &str) -> Option<Kind> {
    Kind::ALL.into_iter().find(|k| k.name() == name)
}

fn time_text(t: &Option<DateTime<Utc>>) -> Option<String> {
    t.as_ref().map(rfc3339_millis)
}

impl SqliteLedger {
    /// Opens the ledger at `path` for reading and writing, creating it if
    /// no file is there.
    ///
    /// # Errors
    ///
    /// [`LedgerError::NotALedger`] for an existing file that is not an
    /// offpin ledger (0 bytes included); [`LedgerError::Unwritable`];
    /// [`LedgerError::Storage`].
    pub fn open(path: &Path) -> Result<Self, LedgerError> {
        if !path.exists() {
            create(path)?;
        }
        Self::open_existing(path)
    }

    /// Opens an existing ledger at `path` for reading and writing
    /// (upgrading an older schema).
    ///
    /// # Errors
    ///
    /// [`LedgerError::Storage`] when there is no file;
    /// [`LedgerError::NotALedger`]; [`LedgerError::Unwritable`] when the
    /// file cannot be written.
    pub fn open_existing(path: &Path) -> Result<Self, LedgerError> {
        let Header::Ledger(version) = Self::existing_header(path)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut ledger = Self::connect(path, flags)?;
        if ledger.conn.is_readonly(rusqlite::MAIN_DB).unwrap_or(false) {
            return Err(LedgerError::Unwritable {
                path: path.display().to_string(),
                reason: "the file is read-only".to_owned(),
            });
        }
        // A schema-1 ledger used the WAL journal; one file from now on.
        let _: Result<String, _> = ledger
            .conn
            .query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0));
        if version < SCHEMA_VERSION {
            ledger.upgrade(version)?;
        }
        ledger.add_api_keys_table()?;
        ledger.add_capabilities_column()?;
        Ok(ledger)
    }

    /// Opens an existing ledger at `path` read-only: nothing is written,
    /// no file is created beside it, so a read-only file or directory can
    /// be read.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Storage`] when there is no file;
    /// [`LedgerError::NotALedger`]; [`LedgerError::NeedsUpgrade`] for a
    /// schema-1 ledger, and [`LedgerError::NeedsRecovery`] for one a
    /// writer left midway, which must be opened for writing once.
    pub fn open_read_only(path: &Path) -> Result<Self, LedgerError> {
        let Header::Ledger(version) = Self::existing_header(path)?;
        if version < SCHEMA_VERSION {
            return Err(LedgerError::NeedsUpgrade {
                path: path.display().to_string(),
                from: version,
                to: SCHEMA_VERSION,
            });
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let ledger = Self::connect(path, flags)?;
        // Read once now: a hot journal (a writer killed midway) must be
        // rolled back first, which a read-only connection cannot do.
        match ledger
            .conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| {
                r.get::<_, i64>(0)
            }) {
            Ok(_) => Ok(ledger),
            // SQLITE_READONLY_ROLLBACK, SQLITE_READONLY_RECOVERY
            Err(rusqlite::Error::SqliteFailure(f, _)) if matches!(f.extended_code, 776 | 520) => {
                Err(LedgerError::NeedsRecovery {
                    path: path.display().to_string(),
                })
            }
            Err(e) => Err(ledger.err(e)),
        }
    }

    /// An in-memory SQLite ledger (for tests).
    ///
    /// # Errors
    ///
    /// [`LedgerError::Storage`].
    pub fn open_in_memory() -> Result<Self, LedgerError> {
        let conn = Connection::open_in_memory().map_err(|e| StorageError::new(":memory:", e))?;
        let ledger = SqliteLedger {
            conn,
            path: PathBuf::from(":memory:"),
            label: ":memory:".to_owned(),
        };
        ledger.init_schema()?;
        ledger.add_capabilities_column()?;
        Ok(ledger)
    }

    /// The ledger's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn existing_header(path: &Path) -> Result<Header, LedgerError> {
        if let Err(e) = std::fs::metadata(path) {
            let message = format!("{}: no such ledger", path.display());
            return Err(StorageError::described(message, e).into());
        }
        read_header(path)
    }

    fn connect(path: &Path, flags: OpenFlags) -> Result<Self, LedgerError> {
        let label = path.display().to_string();
        let conn =
            Connection::open_with_flags(path, flags).map_err(|e| StorageError::new(&label, e))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| StorageError::new(&label, e))?;
        Ok(SqliteLedger {
            conn,
            path: path.to_owned(),
            label,
        })
    }

    /// A storage error, naming the path that cannot be written when the
    /// cause is a read-only file or directory; the SQLite error is kept as
    /// the [`StorageError`]'s source.
    fn err(&self, e: impl Into<SqlError>) -> LedgerError {
        let e = match e.into() {
            SqlError::Sql(e) => e,
            SqlError::Corrupt(what) => {
                return StorageError::without_source(format!("{}: {what}", self.label)).into();
            }
        };
        let rusqlite::Error::SqliteFailure(f, msg) = &e else {
            return StorageError::new(&self.label, e).into();
        };
        let (code, extended) = (f.code, f.extended_code);
        let reason = msg.clone().unwrap_or_else(|| f.to_string());
        let dir = || {
            self.path
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .display()
                .to_string()
        };
        match code {
            // SQLITE_READONLY_DIRECTORY: no journal can be created.
            ErrorCode::ReadOnly if extended == 1544 => LedgerError::Unwritable {
                path: format!("the directory {}", dir()),
                reason,
            },
            ErrorCode::ReadOnly => LedgerError::Unwritable {
                path: self.label.clone(),
                reason,
            },
            ErrorCode::CannotOpen => LedgerError::Unwritable {
                path: format!("the directory {} (its journal file)", dir()),
                reason,
            },
            _ => StorageError::new(&self.label, e).into(),
        }
    }

    fn init_schema(&self) -> Result<(), LedgerError> {
        self.conn
            .execute_batch(&format!(
                "BEGIN IMMEDIATE; {SCHEMA} {CODES_IDEMPOTENCY} {} PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;",
                default_workspace(&rfc3339_millis(&Utc::now()))
            ))
            .map_err(|e| self.err(e))
    }

    /// Creates the API-key table of a schema-2 ledger that has none (see
    /// [`API_KEYS_TABLE`]); writes only then.
    fn add_api_keys_table(&self) -> Result<(), LedgerError> {
        if self.has_api_keys_table()? {
            return Ok(());
        }
        self.conn
            .execute_batch(&format!("BEGIN IMMEDIATE; {SCHEMA} COMMIT;"))
            .map_err(|e| self.err(e))
    }

    fn has_api_keys_table(&self) -> Result<bool, LedgerError> {
        self.conn
            .query_row(
                "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                params![API_KEYS_TABLE],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }

    /// Upgrades schema 1 (records as JSON, WAL), 2 or 3 to 4, in one
    /// transaction.
    fn upgrade(&mut self, from: u32) -> Result<(), LedgerError> {
        let label = self.label.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| StorageError::new(&label, e))?;
        let version: u32 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| StorageError::new(&label, e))?;
        if version != from || version >= SCHEMA_VERSION {
            // Another process upgraded it meanwhile.
            return Ok(());
        }
        let context = format!("{label}: upgrade");
        if version == 1 {
            upgrade_v1(&tx, &context)?;
        } else if version == 2 {
            upgrade_v2(&tx, &context)?;
        }
        upgrade_v3(&tx, &context, &rfc3339_millis(&Utc::now()))?;
        tx.commit().map_err(|e| self.err(e))
    }

    fn device_from_row(&self, row: &Row<'_>) -> Result<DeviceEntry, LedgerError> {
        let get = |e| self.err(SqlError::Sql(e));
        let minutes: i32 = row.get(2).map_err(get)?;
        let removed: Option<String> = row.get(5).map_err(get)?;
        Ok(DeviceEntry {
            device: Device {
                device_id: row.get(0).map_err(get)?,
                profile: row.get(1).map_err(get)?,
                utc_offset: UtcOffset::from_minutes(minutes)?,
                generation: row.get(3).map_err(get)?,
                time_zone: row.get(4).map_err(get)?,
                workspace_id: row.get(6).map_err(get)?,
            },
            removed_at: removed
                .map(|t| parse_rfc3339(&t))
                .transpose()
                .map_err(|e| self.err(SqlError::Corrupt(e)))?,
        })
    }

    fn code_from_row(&self, row: &Row<'_>) -> Result<StoredCode, LedgerError> {
        let get = |e| self.err(SqlError::Sql(e));
        let time = |i: usize| -> Result<Option<DateTime<Utc>>, LedgerError> {
            let t: Option<String> = row.get(i).map_err(get)?;
            t.map(|t| parse_rfc3339(&t))
                .transpose()
                .map_err(|e| self.err(SqlError::Corrupt(e)))
        };
        let kind: String = row.get(3).map_err(get)?;
        let kind = kind_from_name(&kind)
            .ok_or_else(|| self.err(SqlError::Corrupt(format!("unknown code kind '{kind}'"))))?;
        let issued: (Option<i64>, Option<i64>) =
            (row.get(9).map_err(get)?, row.get(10).map_err(get)?);
        Ok(StoredCode {
            access_code_id: row.get(0).map_err(get)?,
            device_id: row.get(1).map_err(get)?,
            scope: AllocationScope::from_columns(
                kind,
                row.get(4).map_err(get)?,
                row.get(5).map_err(get)?,
                row.get(6).map_err(get)?,
                row.get(2).map_err(get)?,
            )
            .ok_or_else(|| self.err(SqlError::Corrupt("lineage out of range".to_owned())))?,
            number: row.get(7).map_err(get)?,
            code: row.get(8).map_err(get)?,
            issued_window: match issued {
                (Some(start), Some(end)) => Some(Window { start, end }),
                _ => None,
            },
            name: row.get(11).map_err(get)?,
            user_identifier_key: row.get(12).map_err(get)?,
            common_code_key: row.get(13).map_err(get)?,
            idempotency_key: row.get(14).map_err(get)?,
            created_at: time(15)?
                .ok_or_else(|| self.err(SqlError::Corrupt("no created_at".to_owned())))?,
            deleted_at: time(16)?,
            revocation_code: row.get(17).map_err(get)?,
            group: match (row.get(18).map_err(get)?, row.get(19).map_err(get)?) {
                (Some(group_id), Some(generation)) => Some(GroupRef {
                    group_id,
                    generation,
                }),
                _ => None,
            },
        })
    }

    fn select_codes(
        &self,
        sql: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<StoredCode>, LedgerError> {
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.err(e))?;
        let mut rows = stmt.query(args).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            out.push(self.code_from_row(row)?);
        }
        Ok(out)
    }

    /// The numbers any code of `a`'s device and scope took.
    fn numbers_in(
        &self,
        numbers: &mut rusqlite::Statement<'_>,
        a: &Allocation<'_>,
    ) -> Result<Vec<u32>, LedgerError> {
        let s = &a.scope;
        numbers
            .query_map(
                params![
                    a.device_id,
                    s.generation,
                    s.kind.name(),
                    s.start,
                    s.length,
                    s.lineage_column()
                ],
                |r| r.get::<_, u32>(0),
            )
            .map_err(|e| self.err(e))?
            .collect::<Result<Vec<u32>, _>>()
            .map_err(|e| self.err(e))
    }

    fn allocate_in(
        &self,
        tx: &Connection,
        batch: &[Allocation<'_>],
        decide: &mut dyn FnMut(usize, Slot) -> Result<StoredCode, LedgerError>,
    ) -> Result<Vec<Allocated>, LedgerError> {
        let mut by_key = tx
            .prepare(&format!(
                "SELECT {CODE_COLUMNS} FROM codes WHERE idempotency_key = ?1 AND workspace_id = {WORKSPACE_OF_2}"
            ))
            .map_err(|e| self.err(e))?;
        let mut numbers = tx
            .prepare(
                "SELECT number FROM codes WHERE device_id = ?1 AND generation = ?2 AND kind = ?3 AND start = ?4 AND length = ?5 AND lineage = ?6",
            )
            .map_err(|e| self.err(e))?;
        let mut insert = tx
            .prepare(&format!(
                "INSERT INTO codes ({CODE_COLUMNS}, workspace_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, {WORKSPACE_OF_2})"
            ))
            .map_err(|e| self.err(e))?;
        let mut out = Vec::with_capacity(batch.len());
        let mut joint: Option<Option<u32>> = None;
        for (i, a) in batch.iter().enumerate() {
            if let Some(key) = a.idempotency_key {
                let mut rows = by_key
                    .query(params![key, a.device_id])
                    .map_err(|e| self.err(e))?;
                if let Some(row) = rows.next().map_err(|e| self.err(e))? {
                    let code = self.code_from_row(row)?;
                    out.push(Allocated {
                        code: decide(i, Slot::Existing(Box::new(code)))?,
                        created: false,
                    });
                    continue;
                }
            }
            let free = if a.joint {
                // The joint set's one number: the lowest free in all of
                // its scopes (the transaction holds the writer lock).
                match joint {
                    Some(n) => n,
                    None => *joint.insert(self.joint_free(&mut numbers, batch, a.limit)?),
                }
            } else {
                lowest_free(self.numbers_in(&mut numbers, a)?, a.limit)
            };
            let Some(n) = free else {
                decide(i, Slot::Exhausted)?;
                return Err(LedgerError::invariant(
                    "the batch went on after a full scope",
                ));
            };
            let code = decide(i, Slot::Free(n))?;
            self.insert_code(&mut insert, a, n, &code)?;
            out.push(Allocated {
                code,
                created: true,
            });
        }
        Ok(out)
    }

    /// The lowest number free in every scope of the batch's joint
    /// allocations.
    fn joint_free(
        &self,
        numbers: &mut rusqlite::Statement<'_>,
        batch: &[Allocation<'_>],
        limit: u32,
    ) -> Result<Option<u32>, LedgerError> {
        let mut used = Vec::new();
        for b in batch.iter().filter(|b| b.joint) {
            used.extend(self.numbers_in(numbers, b)?);
        }
        Ok(lowest_free(used, limit))
    }

    /// Stores `code`, allocated number `n` of `a`'s scope.
    fn insert_code(
        &self,
        insert: &mut rusqlite::Statement<'_>,
        a: &Allocation<'_>,
        n: u32,
        code: &StoredCode,
    ) -> Result<(), LedgerError> {
        let s = &a.scope;
        insert
            .execute(params![
                code.access_code_id,
                a.device_id,
                s.generation,
                s.kind.name(),
                s.start,
                s.length,
                s.lineage_column(),
                n,
                code.code,
                code.issued_window.map(|w| w.start),
                code.issued_window.map(|w| w.end),
                code.name,
                code.user_identifier_key,
                code.common_code_key,
                a.idempotency_key,
                rfc3339_millis(&code.created_at),
                time_text(&code.deleted_at),
                code.revocation_code,
                code.group.as_ref().map(|g| g.group_id.as_str()),
                code.group.as_ref().map(|g| g.generation),
            ])
            .map_err(|e| self.err(e))?;
        Ok(())
    }
}

impl SqliteLedger {
    fn select_groups(&self, filter: &str, arg: Option<&str>) -> Result<Vec<Group>, LedgerError> {
        let sql = format!(
            "SELECT g.group_id, g.profile, g.generation, m.device_id, g.workspace_id FROM groups g LEFT JOIN group_members m ON m.group_id = g.group_id {} ORDER BY g.group_id, m.device_id",
            filter.replace("group_id", "g.group_id")
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let mut rows = match arg {
            Some(a) => stmt.query(params![a]),
            None => stmt.query([]),
        }
        .map_err(|e| self.err(e))?;
        let mut out: Vec<Group> = Vec::new();
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let get = |e| self.err(SqlError::Sql(e));
            let id: String = row.get(0).map_err(get)?;
            let member: Option<String> = row.get(3).map_err(get)?;
            if out.last().is_none_or(|g| g.group_id != id) {
                out.push(Group {
                    group_id: id,
                    profile: row.get(1).map_err(get)?,
                    generation: row.get(2).map_err(get)?,
                    members: Vec::new(),
                    workspace_id: row.get(4).map_err(get)?,
                });
            }
            if let (Some(g), Some(m)) = (out.last_mut(), member) {
                g.members.push(m);
            }
        }
        Ok(out)
    }

    fn group_in(&self, tx: &Connection, group_id: &str) -> Result<Option<Group>, LedgerError> {
        let head: Option<(String, u32, String)> = tx
            .query_row(
                "SELECT profile, generation, workspace_id FROM groups WHERE group_id = ?1",
                params![group_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let Some((profile, generation, workspace_id)) = head else {
            return Ok(None);
        };
        let mut stmt = tx
            .prepare("SELECT device_id FROM group_members WHERE group_id = ?1 ORDER BY device_id")
            .map_err(|e| self.err(e))?;
        let members = stmt
            .query_map(params![group_id], |r| r.get::<_, String>(0))
            .map_err(|e| self.err(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))?;
        Ok(Some(Group {
            group_id: group_id.to_owned(),
            profile,
            generation,
            members,
            workspace_id,
        }))
    }
}

/// A storage error before it is given its path.
enum SqlError {
    /// SQLite failed.
    Sql(rusqlite::Error),
    /// A stored value the ledger cannot read.
    Corrupt(String),
}

impl From<rusqlite::Error> for SqlError {
    fn from(e: rusqlite::Error) -> Self {
        SqlError::Sql(e)
    }
}

impl Ledger for SqliteLedger {
    fn master_fingerprint(&mut self) -> Result<Option<Fingerprint>, LedgerError> {
        let v: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'master_fingerprint'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        v.map(|v| {
            Fingerprint::try_from(v.as_slice())
                .map_err(|_| self.err(SqlError::Corrupt("corrupted master fingerprint".to_owned())))
        })
        .transpose()
    }

    fn bind_master_fingerprint(
        &mut self,
        fingerprint: Fingerprint,
    ) -> Result<Fingerprint, LedgerError> {
        self.conn
            .execute(
                "INSERT INTO meta (key, value) VALUES ('master_fingerprint', ?1) ON CONFLICT (key) DO NOTHING",
                params![fingerprint.as_slice()],
            )
            .map_err(|e| self.err(e))?;
        self.master_fingerprint()?
            .ok_or_else(|| LedgerError::invariant("the master-key fingerprint was not stored"))
    }

    fn device_entry(&mut self, device_id: &str) -> Result<Option<DeviceEntry>, LedgerError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {DEVICE_COLUMNS} FROM devices WHERE device_id = ?1"
            ))
            .map_err(|e| self.err(e))?;
        let mut rows = stmt.query(params![device_id]).map_err(|e| self.err(e))?;
        match rows.next().map_err(|e| self.err(e))? {
            Some(row) => self.device_from_row(row).map(Some),
            None => Ok(None),
        }
    }

    fn device_entries(&mut self) -> Result<Vec<DeviceEntry>, LedgerError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {DEVICE_COLUMNS} FROM devices ORDER BY device_id"
            ))
            .map_err(|e| self.err(e))?;
        let mut rows = stmt.query([]).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            out.push(self.device_from_row(row)?);
        }
        Ok(out)
    }

    fn put_device(
        &mut self,
        new: &DeviceEntry,
        expected: Option<&DeviceEntry>,
    ) -> Result<bool, LedgerError> {
        let d = &new.device;
        let values = params![
            d.device_id,
            d.profile,
            d.utc_offset.minutes(),
            d.generation,
            d.time_zone,
            time_text(&new.removed_at),
            d.workspace_id,
        ];
        let changed = match expected {
            None => self.conn.execute(
                &format!(
                    "INSERT INTO devices ({DEVICE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (device_id) DO NOTHING"
                ),
                values,
            ),
            Some(old) => {
                let o = &old.device;
                self.conn.execute(
                    "UPDATE devices SET profile = ?2, utc_offset_minutes = ?3, generation = ?4, time_zone = ?5, removed_at = ?6 WHERE device_id = ?1 AND profile = ?7 AND utc_offset_minutes = ?8 AND generation = ?9 AND time_zone IS ?10 AND removed_at IS ?11",
                    params![
                        d.device_id,
                        d.profile,
                        d.utc_offset.minutes(),
                        d.generation,
                        d.time_zone,
                        time_text(&new.removed_at),
                        o.profile,
                        o.utc_offset.minutes(),
                        o.generation,
                        o.time_zone,
                        time_text(&old.removed_at),
                    ],
                )
            }
        }
        .map_err(|e| self.err(e))?;
        Ok(changed == 1)
    }

    fn allocate(
        &mut self,
        batch: &[Allocation<'_>],
        decide: &mut dyn FnMut(usize, Slot) -> Result<StoredCode, LedgerError>,
    ) -> Result<Vec<Allocated>, LedgerError> {
        let tx = Write::begin(&self.conn).map_err(|e| self.err(e))?;
        let out = self.allocate_in(&tx, batch, decide)?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(out)
    }

    fn group_entry(&mut self, group_id: &str) -> Result<Option<Group>, LedgerError> {
        Ok(self
            .select_groups("WHERE group_id = ?1", Some(group_id))?
            .pop())
    }

    fn group_entries(&mut self) -> Result<Vec<Group>, LedgerError> {
        self.select_groups("", None)
    }

    fn put_group(&mut self, new: &Group, expected: Option<&Group>) -> Result<bool, LedgerError> {
        let tx = Write::begin(&self.conn).map_err(|e| self.err(e))?;
        let stored = self.group_in(&tx, &new.group_id)?;
        if stored.as_ref() != expected {
            return Ok(false);
        }
        let written = tx
            .execute(
                "INSERT INTO groups (group_id, profile, generation, workspace_id) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (group_id) DO UPDATE SET profile = excluded.profile, generation = excluded.generation",
                params![new.group_id, new.profile, new.generation, new.workspace_id],
            )
            .and_then(|_| {
                tx.execute(
                    "DELETE FROM group_members WHERE group_id = ?1",
                    params![new.group_id],
                )
            });
        written.map_err(|e| self.err(e))?;
        for m in &new.members {
            let added = tx
                .execute(
                    "INSERT INTO group_members (device_id, group_id) VALUES (?1, ?2) ON CONFLICT (device_id) DO NOTHING",
                    params![m, new.group_id],
                )
                .map_err(|e| self.err(e))?;
            if added == 0 {
                // A member of another group: roll back.
                return Ok(false);
            }
        }
        tx.commit().map_err(|e| self.err(e))?;
        Ok(true)
    }

    fn workspace_entries(&mut self) -> Result<Vec<Workspace>, LedgerError> {
        self.select_workspaces()
    }

    fn put_workspace(&mut self, workspace: &Workspace) -> Result<bool, LedgerError> {
        self.insert_workspace(workspace)
    }

    fn find(&mut self, filter: &ListFilter) -> Result<Vec<StoredCode>, LedgerError> {
        // Narrow in SQL (by ids, or by device and user), finish with the
        // shared predicate.
        let codes = if filter.access_code_ids.is_empty() {
            let sql = format!(
                "SELECT {CODE_COLUMNS} FROM codes WHERE (?1 IS NULL OR device_id = ?1) AND (?2 IS NULL OR user_identifier_key = ?2) ORDER BY seq"
            );
            self.select_codes(&sql, params![filter.device_id, filter.user_identifier_key])?
        } else {
            let marks = vec!["?"; filter.access_code_ids.len()].join(", ");
            let sql = format!(
                "SELECT {CODE_COLUMNS} FROM codes WHERE access_code_id IN ({marks}) ORDER BY seq"
            );
            self.select_codes(&sql, rusqlite::params_from_iter(&filter.access_code_ids))?
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
        let sql = format!("SELECT {CODE_COLUMNS} FROM codes WHERE access_code_id = ?1");
        Ok(self.select_codes(&sql, params![access_code_id])?.pop())
    }

    fn mark_deleted(
        &mut self,
        access_code_id: &str,
        at: DateTime<Utc>,
        revocation_code: Option<&str>,
    ) -> Result<StoredCode, LedgerError> {
        self.conn
            .execute(
                "UPDATE codes SET deleted_at = ?2, revocation_code = ?3 WHERE access_code_id = ?1 AND deleted_at IS NULL",
                params![access_code_id, rfc3339_millis(&at), revocation_code],
            )
            .map_err(|e| self.err(e))?;
        self.find_one(access_code_id)?
            .ok_or_else(|| LedgerError::not_found(access_code_id))
    }

    fn rename(
        &mut self,
        access_code_id: &str,
        name: Option<&str>,
    ) -> Result<StoredCode, LedgerError> {
        self.conn
            .execute(
                "UPDATE codes SET name = ?2 WHERE access_code_id = ?1",
                params![access_code_id, name],
            )
            .map_err(|e| self.err(e))?;
        self.find_one(access_code_id)?
            .ok_or_else(|| LedgerError::not_found(access_code_id))
    }
}
