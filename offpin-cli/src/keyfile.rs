//! The master key file: 64 hex digits, owner-only permissions.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use offpin::MasterKey;
use offpin::keys::MASTER_KEY_LEN;

use crate::util::{CliError, CliResult, fail};

/// Creates a new master key file at `path` (never overwrites).
pub fn keygen(path: &Path) -> CliResult {
    let mut bytes = [0u8; MASTER_KEY_LEN];
    getrandom::fill(&mut bytes).map_err(|e| fail("cannot get random bytes", e))?;
    let key = MasterKey::from_bytes(bytes);
    bytes.iter_mut().for_each(|b| *b = 0);
    write_new(path, &key)?;
    println!(
        "wrote a new master key to {} (owner-only permissions); back it up: every PIN derives from it",
        path.display()
    );
    Ok(())
}

/// Writes `key` to a file that must not exist yet.
pub fn write_new(path: &Path, key: &MasterKey) -> CliResult {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = opts.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            CliError(format!(
                "master key file {} already exists; refusing to overwrite it",
                path.display()
            ))
        } else {
            fail(
                &format!("cannot create master key file {}", path.display()),
                e,
            )
        }
    })?;
    let hex: String = key
        .expose_secret()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    writeln!(file, "{hex}")
        .and_then(|()| file.sync_all())
        .map_err(|e| fail(&format!("cannot write {}", path.display()), e))
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Loads the master key file at `path`.
pub fn load(path: &Path) -> CliResult<MasterKey> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CliError(format!(
            "cannot read master key file {}: {e} (create one with `offpin keygen`)",
            path.display()
        ))
    })?;
    let corrupted = || {
        CliError(format!(
            "master key file {} is corrupted: expected {} hex digits",
            path.display(),
            MASTER_KEY_LEN * 2
        ))
    };
    let digits = text.trim().as_bytes();
    if digits.len() != MASTER_KEY_LEN * 2 {
        return Err(corrupted());
    }
    let mut bytes = [0u8; MASTER_KEY_LEN];
    for (dst, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
        let &[hi, lo] = pair else {
            return Err(corrupted());
        };
        let (Some(hi), Some(lo)) = (hex_value(hi), hex_value(lo)) else {
            return Err(corrupted());
        };
        *dst = hi << 4 | lo;
    }
    let key = MasterKey::from_bytes(bytes);
    bytes.iter_mut().for_each(|b| *b = 0);
    Ok(key)
}
