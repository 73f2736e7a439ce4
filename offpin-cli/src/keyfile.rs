//! The master key file: 64 hex digits, owner-only permissions. Its bytes,
//! and every hex text of a key, live in buffers wiped on drop
//! ([`Zeroizing`]); hex goes through a constant-time codec (`base16ct`).
//!
//! The file is named by `--master-key` or `$OFFPIN_MASTER_KEY_FILE`. A
//! value that came from the variable is never printed: someone who put the
//! key itself there must not find it in an error message or a log.

use std::fmt;
use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::path::PathBuf;

use offpin::MasterKey;
use offpin::keys::MASTER_KEY_LEN;
use zeroize::Zeroizing;

use crate::output::{CliError, CliResult, fail};

/// Where the master key file was named.
#[derive(Clone, Debug)]
pub struct KeyFile {
    /// The path.
    pub path: PathBuf,
    /// Whether it came from `$OFFPIN_MASTER_KEY_FILE` (then it is never
    /// printed).
    pub from_env: bool,
}

impl fmt::Display for KeyFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.from_env {
            f.write_str("the file named by $OFFPIN_MASTER_KEY_FILE")
        } else {
            write!(f, "{}", self.path.display())
        }
    }
}

/// The longest key file read: 64 hex digits, a line ending, some blanks.
const MAX_FILE_LEN: usize = 256;

/// Creates a new master key file (never overwrites).
pub fn keygen(file: &KeyFile) -> CliResult {
    let mut bytes = Zeroizing::new([0u8; MASTER_KEY_LEN]);
    getrandom::fill(bytes.as_mut_slice())
        .map_err(|e| fail("io_error", "cannot get random bytes", e))?;
    let key = MasterKey::from_bytes(*bytes);
    write_new(file, &key)?;
    crate::output::say!(
        "wrote a new master key to {file} (owner-only permissions; fingerprint {}); back it up: every PIN derives from it",
        offpin_ledger::ledger::fingerprint_hex(&key.fingerprint())
    );
    Ok(())
}

/// Writes `key` to a file that must not exist yet.
pub fn write_new(file: &KeyFile, key: &MasterKey) -> CliResult {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut out = opts.open(&file.path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            CliError::new(
                "key_file_exists",
                format!("master key file {file} already exists; refusing to overwrite it"),
            )
        } else {
            fail(
                "io_error",
                &format!("cannot create master key file {file}"),
                e,
            )
        }
    })?;
    let digits = hex(key.expose_secret())?;
    // Sized up front: a growing buffer would leave copies behind.
    let mut text = Zeroizing::new(Vec::with_capacity(digits.len() + 1));
    text.extend_from_slice(digits.as_bytes());
    text.push(b'\n');
    out.write_all(&text)
        .and_then(|()| out.sync_all())
        .map_err(|e| fail("io_error", &format!("cannot write {file}"), e))
}

/// Loads the master key file.
pub fn load(file: &KeyFile) -> CliResult<MasterKey> {
    let unreadable = |e: std::io::Error| {
        let hint = if file.from_env {
            " ($OFFPIN_MASTER_KEY_FILE must name a file, not hold the key)"
        } else {
            " (create one with `offpin keygen`)"
        };
        CliError::new(
            "key_file_unreadable",
            format!("cannot read master key file {file}: {e}{hint}"),
        )
    };
    let mut text = Zeroizing::new(Vec::with_capacity(MAX_FILE_LEN + 1));
    std::fs::File::open(&file.path)
        .and_then(|f| f.take(MAX_FILE_LEN as u64 + 1).read_to_end(&mut text))
        .map_err(unreadable)?;
    let corrupted = || {
        CliError::new(
            "key_file_corrupted",
            format!(
                "master key file {file} is corrupted: expected {} hex digits",
                MASTER_KEY_LEN * 2
            ),
        )
    };
    if text.len() > MAX_FILE_LEN {
        return Err(corrupted());
    }
    let digits = text.trim_ascii();
    let mut bytes = Zeroizing::new([0u8; MASTER_KEY_LEN]);
    match base16ct::mixed::decode(digits, bytes.as_mut_slice()) {
        Ok(out) if out.len() == MASTER_KEY_LEN => Ok(MasterKey::from_bytes(*bytes)),
        _ => Err(corrupted()),
    }
}

/// A key's bytes as lowercase hex, in a buffer wiped on drop.
pub fn hex(bytes: &[u8]) -> CliResult<Zeroizing<String>> {
    let mut buf = Zeroizing::new(vec![0u8; bytes.len() * 2]);
    let text = base16ct::lower::encode_str(bytes, &mut buf)
        .map_err(|e| fail("internal_error", "hex", e))?;
    Ok(Zeroizing::new(text.to_owned()))
}
