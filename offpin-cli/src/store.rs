//! Where the ledger lives (an SQLite file or a PostgreSQL database), how
//! the commands and the service open it, and the pool of ledger
//! connections the service's blocking workers use.

use std::path::{Path, PathBuf};

use offpin_ledger::ledger::api_keys::ApiKeyStore;
use offpin_ledger::ledger::postgres::{PostgresLedger, describe_connection, is_key_value_string};
use offpin_ledger::ledger::sqlite::SqliteLedger;
use offpin_ledger::ledger::{Ledger, LedgerError};

/// A ledger connection: issued codes and API keys.
pub trait Store: Ledger + ApiKeyStore + Send {
    /// Whether the connection is dead (a pool then opens a new one).
    fn broken(&self) -> bool;

    /// Checks, with a query, that the connection still answers: a pool
    /// runs it before lending a connection. An SQLite file has no
    /// connection to lose.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Storage`] when the database does not answer.
    fn validate(&mut self) -> Result<(), LedgerError> {
        Ok(())
    }
}

impl Store for SqliteLedger {
    fn broken(&self) -> bool {
        false
    }
}

impl Store for PostgresLedger {
    fn broken(&self) -> bool {
        self.is_closed()
    }

    fn validate(&mut self) -> Result<(), LedgerError> {
        self.check()
    }
}

/// The `--ledger` argument: a PostgreSQL URL (`postgres://` or
/// `postgresql://`) or `key=value` connection string (`host=db
/// user=offpin dbname=offpin`), or the path of an SQLite file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database.
    Postgres(String),
}

impl Location {
    /// Reads the `--ledger` argument.
    pub fn of(arg: &Path) -> Self {
        match arg.to_str() {
            Some(url)
                if url.starts_with("postgres://")
                    || url.starts_with("postgresql://")
                    || is_key_value_string(url) =>
            {
                Location::Postgres(url.to_owned())
            }
            _ => Location::Sqlite(arg.to_owned()),
        }
    }

    /// Opens an existing ledger for reading: an SQLite file read-only
    /// (nothing is written, so a read-only file or directory is fine),
    /// unless it must be upgraded or rolled back first, which one writable
    /// open does.
    ///
    /// # Errors
    ///
    /// Those of [`SqliteLedger::open_read_only`] and
    /// [`PostgresLedger::connect`].
    pub fn open_read(&self) -> Result<Box<dyn Store>, LedgerError> {
        match self {
            Location::Sqlite(path) => match SqliteLedger::open_read_only(path) {
                Ok(l) => Ok(Box::new(l)),
                // A read-only file or directory then gets the library's
                // error, naming why.
                Err(LedgerError::NeedsUpgrade { .. } | LedgerError::NeedsRecovery { .. }) => {
                    Ok(Box::new(SqliteLedger::open_existing(path)?))
                }
                Err(e) => Err(e),
            },
            Location::Postgres(url) => Ok(Box::new(PostgresLedger::connect(url)?)),
        }
    }

    /// Opens an existing ledger for reading and writing.
    ///
    /// # Errors
    ///
    /// Those of [`SqliteLedger::open_existing`] and
    /// [`PostgresLedger::connect`].
    pub fn open_write(&self) -> Result<Box<dyn Store>, LedgerError> {
        Ok(match self {
            Location::Sqlite(path) => Box::new(SqliteLedger::open_existing(path)?),
            Location::Postgres(url) => Box::new(PostgresLedger::connect(url)?),
        })
    }

    /// Opens the ledger for writing, creating an SQLite file if there is
    /// none (a PostgreSQL database gets its tables when it is connected).
    ///
    /// # Errors
    ///
    /// Those of [`SqliteLedger::open`] and [`PostgresLedger::connect`].
    pub fn open_create(&self) -> Result<Box<dyn Store>, LedgerError> {
        Ok(match self {
            Location::Sqlite(path) => Box::new(SqliteLedger::open(path)?),
            Location::Postgres(url) => Box::new(PostgresLedger::connect(url)?),
        })
    }

    /// Whether an SQLite file is missing (a PostgreSQL database is never).
    pub fn is_missing(&self) -> bool {
        matches!(self, Location::Sqlite(path) if std::fs::metadata(path).is_err())
    }

    /// Where, for messages: a PostgreSQL database as
    /// `postgres://user@host:port/dbname`, never its password (nor its
    /// options, which may hold one).
    pub fn describe(&self) -> String {
        match self {
            Location::Sqlite(path) => path.display().to_string(),
            Location::Postgres(url) => describe_connection(url).unwrap_or_else(|| {
                "a PostgreSQL database (its connection string cannot be read)".to_owned()
            }),
        }
    }
}

/// Opens pool connections at a [`Location`].
#[derive(Debug)]
pub struct Opener(pub Location);

impl r2d2::ManageConnection for Opener {
    type Connection = Box<dyn Store>;
    type Error = LedgerError;

    fn connect(&self) -> Result<Self::Connection, Self::Error> {
        self.0.open_write()
    }

    fn is_valid(&self, conn: &mut Self::Connection) -> Result<(), Self::Error> {
        conn.validate()
    }

    fn has_broken(&self, conn: &mut Self::Connection) -> bool {
        conn.broken()
    }
}

/// The pool of ledger connections.
pub type Pool = r2d2::Pool<Opener>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        assert_eq!(
            Location::of(Path::new("postgresql://u:secret@h:5/db")).describe(),
            "postgres://u@h:5/db"
        );
        assert_eq!(
            Location::of(Path::new("ledger.db")),
            Location::Sqlite("ledger.db".into())
        );
    }

    /// A `key=value` connection string is a PostgreSQL database, and its
    /// description names no password.
    #[test]
    fn key_value_strings_are_postgres() {
        let kv = Location::of(Path::new("host=db user=offpin password=s3cret dbname=f"));
        assert!(matches!(kv, Location::Postgres(_)));
        assert_eq!(kv.describe(), "postgres://offpin@db:5432/f");
        let bad = Location::of(Path::new("host='unterminated password=s3cret"));
        assert!(!bad.describe().contains("s3cret"));
        for path in ["./host=x.db", "data/user=1.db", "weird=name.db"] {
            assert!(matches!(Location::of(Path::new(path)), Location::Sqlite(_)));
        }
    }
}
