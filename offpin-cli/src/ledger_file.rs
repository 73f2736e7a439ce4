//! Opening the ledger (`--ledger`: an SQLite file, or a `postgres://`
//! URL): read-only for commands that only read it, writable for those that
//! change it, created only by `device add` and `api-key create`. The
//! master key is checked by the ledger itself
//! (`Ledger::check_master_key`, or `verify_master_key` on a read-only
//! open).

use std::path::Path;

use offpin_cli::store::{Location, Store};

use crate::output::{CliError, CliResult};

/// Opens an existing ledger for reading only (an SQLite file is not
/// written, so a read-only file or directory is fine).
pub fn read(path: &Path) -> CliResult<Box<dyn Store>> {
    let location = existing(path)?;
    Ok(location.open_read()?)
}

/// Opens an existing ledger for reading and writing.
pub fn write(path: &Path) -> CliResult<Box<dyn Store>> {
    let location = existing(path)?;
    Ok(location.open_write()?)
}

/// Opens the ledger for writing, creating it if there is none.
pub fn create(path: &Path) -> CliResult<Box<dyn Store>> {
    Ok(Location::of(path).open_create()?)
}

fn existing(path: &Path) -> CliResult<Location> {
    let location = Location::of(path);
    if location.is_missing() {
        return Err(CliError::new(
            "no_ledger",
            format!(
                "{}: no such ledger (create it with `offpin device add`, or name it with --ledger / $OFFPIN_LEDGER)",
                path.display()
            ),
        ));
    }
    Ok(location)
}
