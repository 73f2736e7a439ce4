//! Opening the ledger file: read-only for commands that only read it,
//! writable for those that change it, created only by `device add`.

use std::path::Path;

use offpin::MasterKey;
use offpin::server::ledger::sqlite::SqliteLedger;
use offpin::server::ledger::{Ledger, LedgerError};

use crate::output::{CliError, CliResult};

/// Opens an existing ledger for reading only (nothing is written, so a
/// read-only file or directory is fine).
pub fn read(path: &Path) -> CliResult<SqliteLedger> {
    missing(path)?;
    match SqliteLedger::open_read_only(path) {
        Ok(l) => Ok(l),
        // An older schema is upgraded, and a transaction a crashed writer
        // left behind is rolled back, by a writable open, once (a read-only
        // file or directory then gets the library's error, naming why).
        Err(LedgerError::NeedsUpgrade { .. } | LedgerError::NeedsRecovery { .. }) => {
            Ok(SqliteLedger::open_existing(path)?)
        }
        Err(e) => Err(e.into()),
    }
}

/// Opens an existing ledger for reading and writing.
pub fn write(path: &Path) -> CliResult<SqliteLedger> {
    missing(path)?;
    Ok(SqliteLedger::open_existing(path)?)
}

/// Opens the ledger for writing, creating it if there is none.
pub fn create(path: &Path) -> CliResult<SqliteLedger> {
    Ok(SqliteLedger::open(path)?)
}

fn missing(path: &Path) -> CliResult {
    if std::fs::metadata(path).is_err() {
        return Err(CliError::new(
            "no_ledger",
            format!(
                "{}: no such ledger (create it with `offpin device add`, or name it with --ledger / $OFFPIN_LEDGER)",
                path.display()
            ),
        ));
    }
    Ok(())
}

/// Refuses a master key other than the ledger's, without writing (a
/// ledger not yet bound to a key is bound by the first command that
/// issues or deletes).
pub fn check_key(ledger: &mut SqliteLedger, master: &MasterKey) -> CliResult {
    let given = master.fingerprint();
    match ledger.master_fingerprint()? {
        Some(stored) if stored != given => Err(LedgerError::MasterKeyMismatch {
            ledger: stored,
            given,
        }
        .into()),
        _ => Ok(()),
    }
}
