//! The ledger's file: what its header says before SQLite opens it, and
//! how a new one is created (never a half-made or empty file).

use std::io::Read;
use std::path::Path;

use rusqlite::OpenFlags;

use super::SqliteLedger;
use super::schema::{APPLICATION_ID, SCHEMA_VERSION};
use crate::ledger::{LedgerError, StorageError};

/// What the first 100 bytes of a file say about it.
pub(super) enum Header {
    /// An offpin ledger of this schema version.
    Ledger(u32),
}

fn not_a_ledger(path: &Path, reason: impl Into<String>) -> LedgerError {
    LedgerError::NotALedger {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

/// Reads and checks the SQLite header of an existing file.
pub(super) fn read_header(path: &Path) -> Result<Header, LedgerError> {
    let mut file = std::fs::File::open(path)
        .map_err(|e| StorageError::new(format!("cannot open {}", path.display()), e))?;
    let mut head = [0u8; 100];
    let mut got = 0usize;
    while got < head.len() {
        let Some(rest) = head.get_mut(got..) else {
            break;
        };
        match file.read(rest) {
            Ok(0) => break,
            Ok(n) => got = got.saturating_add(n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(StorageError::new(format!("cannot read {}", path.display()), e).into());
            }
        }
    }
    if got == 0 {
        return Err(not_a_ledger(
            path,
            "the file is empty (0 bytes); a ledger that lost its contents must be restored from a backup, or codes would be issued twice",
        ));
    }
    if got < head.len() || head.get(..16) != Some(b"SQLite format 3\0".as_slice()) {
        return Err(not_a_ledger(path, "not an SQLite database"));
    }
    let be = |at: usize| {
        head.get(at..at.saturating_add(4))
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map_or(0, u32::from_be_bytes)
    };
    let (version, app) = (be(60), be(68));
    if app != APPLICATION_ID {
        return Err(not_a_ledger(path, "another application's SQLite database"));
    }
    if version > SCHEMA_VERSION {
        return Err(not_a_ledger(
            path,
            format!(
                "its schema {version} is newer than this offpin's ({SCHEMA_VERSION}); use a newer offpin"
            ),
        ));
    }
    Ok(Header::Ledger(version))
}

/// Creates a new, empty ledger at `path`: built in a temporary file beside
/// it and linked into place, so the path never holds a half-made (or
/// empty) ledger, and a ledger another process created meanwhile is kept.
pub(super) fn create(path: &Path) -> Result<(), LedgerError> {
    let label = path.display().to_string();
    let Some(name) = path.file_name() else {
        return Err(StorageError::without_source(format!("{label}: not a file name")).into());
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut tmp_name = name.to_os_string();
    tmp_name.push(format!(".{}-{nanos:08x}.new", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let unwritable = |e: std::io::Error| {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .display()
            .to_string();
        if e.kind() == std::io::ErrorKind::PermissionDenied
            || e.raw_os_error() == Some(30 /* EROFS */)
        {
            LedgerError::Unwritable {
                path: format!("the directory {dir}"),
                reason: e.to_string(),
            }
        } else {
            StorageError::new(format!("cannot create {label}"), e).into()
        }
    };
    // Check the directory first, with an ordinary file (SQLite's error for
    // it does not say which path).
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(unwritable)?;
    let built = (|| -> Result<(), LedgerError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let ledger = SqliteLedger::connect(&tmp, flags)?;
        let _: Result<String, _> = ledger
            .conn
            .query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0));
        ledger.init_schema()?;
        drop(ledger);
        std::fs::File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(|e| StorageError::new(format!("cannot create {label}"), e))?;
        match std::fs::hard_link(&tmp, path) {
            Ok(()) => Ok(()),
            // Another process made it meanwhile: keep theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            // A file system without hard links.
            Err(_) if !path.exists() => std::fs::rename(&tmp, path)
                .map_err(|e| StorageError::new(format!("cannot create {label}"), e).into()),
            Err(e) => Err(StorageError::new(format!("cannot create {label}"), e).into()),
        }
    })();
    let _ = std::fs::remove_file(&tmp);
    built
}
