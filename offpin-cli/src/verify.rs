//! `offpin verify`: type a PIN at the device's lock. The lock is the real
//! lock side of the crate, [`offpin::lock::Lock`], through [`crate::door`];
//! its state lives in a file per device ([`crate::state_file`]), loaded
//! before and saved after every entry as firmware does with its flash, so
//! successive runs see used one-time codes, activations, revocations, the
//! lock-out and the highest time the lock has seen.
//!
//! Exit status: 0 when the lock opens (or applies a revocation PIN), 3 when
//! it refuses the PIN, 1 on an error.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use clap::Args;
use offpin::lock::ClockStatus;
use offpin::{Decision, Lock, MasterKey, PersistError, UnixSeconds};
use offpin_ledger::chrono_time::to_unix;
use offpin_ledger::ledger::Device;
use offpin_ledger::zone::{Clock, Zone};
use serde::Serialize;

use crate::Globals;
use crate::args::{human_secs, instant};
use crate::door::{Entry, enter, lock_config, lockout_note, new_lock};
use crate::output::{CliError, CliResult, fail, print_json, say};
use crate::{keyfile, ledger_file, state_file};

/// Arguments of `offpin verify`.
#[derive(Debug, Args)]
#[command(after_help = "\
Types the PIN at the device's lock at --at (default: now), the lock's clock,
and prints what the lock decided and why, times in local time and UTC. The lock
is offpin's lock side (offpin::lock::Lock, as in firmware): it remembers used
one-time codes and activated codes, applies revocation PINs, locks the keypad
after repeated wrong PINs, and refuses time-dependent codes when its clock is set
back before a time it has seen. Its state is read from --state (default:
<ledger>.lock-<device>.state, the device id percent-encoded; a missing file is a
new lock) and written back (temporary file, fsync, rename) before the decision
is printed, as a lock persists before it opens. The file records its device and
key generation: another device's file is refused. A damaged or foreign state
file is reported, never overwritten; deleting it resets the lock (which then
forgets used codes, revocations and the lock-out).

Exit status: 0 open (or a revocation PIN applied), 3 refused, 1 error.")]
pub struct VerifyArgs {
    /// The device (lock).
    #[arg(long)]
    device_id: String,
    /// The PIN as typed.
    #[arg(long)]
    pin: String,
    /// The lock's clock (RFC 3339; default: now).
    #[arg(long, value_parser = instant)]
    at: Option<DateTime<Utc>>,
    /// The lock-state file (default: beside the ledger).
    #[arg(long)]
    state: Option<PathBuf>,
}

/// Runs `offpin verify`; `Ok(false)` when the lock refused the PIN.
pub fn run(g: &Globals, args: &VerifyArgs) -> CliResult<bool> {
    let master = keyfile::load(&g.master_key)?;
    let mut ledger = ledger_file::read(&g.ledger)?;
    ledger.verify_master_key(&master)?;
    let device = ledger.device(&args.device_id)?;
    let profile = device.profile()?;
    let zone = device.zone()?;
    let path = args
        .state
        .clone()
        .unwrap_or_else(|| state_file::default_path(&g.ledger, &device.device_id));
    let v = Verify {
        device: &device,
        zone: zone.as_ref(),
        master: &master,
        path: &path,
        pin: &args.pin,
        now: args.at.unwrap_or_else(Utc::now),
        json: g.json,
    };
    match profile.lock_memory() {
        32 => run_verify::<32>(&v),
        64 => run_verify::<64>(&v),
        128 => run_verify::<128>(&v),
        m => Err(CliError::new(
            "lock_config",
            format!(
                "profile {} sizes its lock for {m} remembered codes; offpin verify supports 32, 64 or 128",
                profile.name()
            ),
        )),
    }
}

/// One `offpin verify` run.
struct Verify<'a> {
    device: &'a Device,
    zone: Option<&'a Zone>,
    master: &'a MasterKey,
    path: &'a Path,
    pin: &'a str,
    now: DateTime<Utc>,
    json: bool,
}

/// Takes an exclusive lock on `<state>.lock` for the whole entry, so
/// concurrent `verify` runs on one state file queue up like keypresses on
/// one keypad. Without it, two runs could read the same image and each
/// commit its own change (a one-time code could open twice). The lock is
/// released when the returned file is dropped.
fn exclusive(path: &Path) -> CliResult<File> {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let shown = Path::new(&name).display().to_string();
    let file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(false)
        .open(&name)
        .map_err(|e| fail("io_error", &format!("cannot open {shown}"), e))?;
    file.lock()
        .map_err(|e| fail("io_error", &format!("cannot lock {shown}"), e))?;
    Ok(file)
}

/// `verify --json`.
#[derive(Serialize)]
struct VerifyJson<'a> {
    device_id: &'a str,
    decision: &'static str,
    opened: bool,
    refusal: Option<&'static str>,
    reason: String,
    at: String,
    at_local: String,
    grant: Option<String>,
    clock_rolled_back_secs: Option<i64>,
    lockout: String,
    memory: Option<String>,
    free_memory: usize,
    state_file: String,
    state_written: bool,
    sequence: u64,
}

/// Types the PIN at the lock of `M` remembered codes: loads its state,
/// lets it decide (the new state saved before anything is printed), and
/// prints the decision; `Ok(false)` when the lock refused the PIN.
fn run_verify<const M: usize>(v: &Verify<'_>) -> CliResult<bool> {
    let path = v.path;
    let _exclusive = exclusive(path)?;
    let mut lock = load::<M>(v)?;
    let codec = v.device.codec(v.master)?;
    let now = to_unix(&v.now);
    // Persist first, then report (a lock persists before it actuates).
    let entry = enter(&mut lock, &codec, v.pin, now, |_, image| {
        write_atomically(path, &state_file::wrap(v.device, image))
            .map_err(|e| fail("io_error", &format!("cannot save {}", path.display()), e))
    })?;
    let outcome = Outcome {
        v,
        lock: &lock,
        entry: &entry,
        now,
        clock: Clock {
            utc_offset: v.device.utc_offset,
            zone: v.zone,
        },
    };
    if v.json {
        outcome.print_json()?;
    } else {
        outcome.say()?;
    }
    Ok(!matches!(entry.decision, Decision::Refuse(_)))
}

/// The lock as its state file left it, or a new lock when there is no
/// file.
fn load<const M: usize>(v: &Verify<'_>) -> CliResult<Lock<M>> {
    match std::fs::read(v.path) {
        Ok(bytes) => from_file(v, &bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => new_lock::<M>(v.device, v.master),
        Err(e) => Err(fail(
            "io_error",
            &format!("cannot read {}", v.path.display()),
            e,
        )),
    }
}

/// The lock of a state file's `bytes`, started. A file of another device,
/// or a damaged image, is refused and left as it is; an image of another
/// lock configuration is a configuration error.
fn from_file<const M: usize>(v: &Verify<'_>, bytes: &[u8]) -> CliResult<Lock<M>> {
    let image = state_file::unwrap(v.device, bytes, v.path)?;
    match Lock::<M>::load(v.device.codec(v.master)?, v.device.lock_rule()?, image) {
        Ok(mut lock) => {
            // The start needs no image of its own here: the file is
            // replaced atomically and there is no rollback counter
            // whose values it would burn (docs/LOCK.md §2). The
            // entry's image carries the start's sequence number.
            let start = lock.start();
            lock.commit(start)
                .map_err(|e| fail("lock_state", "lock state", e))?;
            Ok(lock)
        }
        Err(PersistError::Config(e)) => Err(lock_config(v.device, e)),
        Err(e) => Err(CliError::new(
            "state_file_refused",
            format!(
                "{}: lock state: {e}; the file is left as it is (delete it to start over with a new lock, which forgets used codes, revocations and the lock-out)",
                v.path.display()
            ),
        )),
    }
}

/// One entry at the lock and the lock after it, to print: the decision,
/// why, the lock-out and the lock's memory, times in local time then UTC.
struct Outcome<'a, const M: usize> {
    v: &'a Verify<'a>,
    lock: &'a Lock<M>,
    entry: &'a Entry,
    now: UnixSeconds,
    clock: Clock<'a>,
}

impl<const M: usize> Outcome<'_, M> {
    /// `t` in the device's local time, then UTC.
    fn time(&self, t: UnixSeconds) -> String {
        self.clock.local_and_utc(t)
    }

    /// Why the lock decided as it did.
    fn reason(&self) -> String {
        self.entry
            .reason(self.lock.profile().epoch(), |t| self.time(t))
    }

    /// The keypad's lock-out, now.
    fn lockout(&self) -> String {
        lockout_note(self.lock, self.now, |t| self.time(t))
    }

    /// `verify --json`: one object.
    fn print_json(&self) -> CliResult {
        let (v, entry) = (self.v, self.entry);
        print_json(&VerifyJson {
            device_id: &v.device.device_id,
            decision: entry.word(),
            opened: entry.opened(),
            refusal: match entry.decision {
                Decision::Refuse(r) => Some(r.code()),
                _ => None,
            },
            reason: self.reason(),
            at: offpin_ledger::chrono_time::rfc3339_millis(&v.now),
            at_local: self.clock.local(self.now),
            grant: entry.grant.map(|g| g.to_string()),
            clock_rolled_back_secs: match entry.clock {
                ClockStatus::RolledBack { by_secs } => Some(by_secs),
                _ => None,
            },
            lockout: self.lockout(),
            memory: entry.memory_note(|t| self.time(t)),
            free_memory: self.lock.free_memory(self.now),
            state_file: v.path.display().to_string(),
            state_written: entry.written,
            sequence: self.lock.sequence(),
        })
    }

    /// The text report: one `field: value` line each.
    fn say(&self) -> CliResult {
        let entry = self.entry;
        say!("decision: {}", entry.word());
        say!("reason:   {}", self.reason());
        say!("at:       {}", self.time(self.now));
        if let Some(grant) = entry.grant {
            say!("grant:    {grant}");
        }
        if let ClockStatus::RolledBack { by_secs } = entry.clock {
            say!(
                "clock:    rolled back: {} behind {}, the latest time the lock has seen; codes that depend on time are refused until the clock is set right",
                human_secs(by_secs),
                self.time(self.lock.highest_seen())
            );
        }
        say!("lockout:  {}", self.lockout());
        let free = format!("{} of {M} slots free", self.lock.free_memory(self.now));
        match entry.memory_note(|t| self.time(t)) {
            Some(note) => say!("memory:   {note}; {free}"),
            None => say!("memory:   {free}"),
        }
        self.say_state()
    }

    /// Whether the state file was written, and where.
    fn say_state(&self) -> CliResult {
        if self.entry.written {
            say!(
                "state:    saved to {} ({} bytes of lock state, sequence {})",
                self.v.path.display(),
                Lock::<M>::STATE_LEN,
                self.lock.sequence()
            );
        } else {
            say!(
                "state:    unchanged, nothing written (the keypad is locked out: the entry was not evaluated)"
            );
        }
        Ok(())
    }
}

/// Replaces `path` with `bytes` so that a crash leaves either the old or
/// the new file: a temporary file beside it, fsync, rename, fsync of the
/// directory.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let Some(name) = path.file_name() else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a file name",
        ));
    };
    let mut tmp_name = name.to_os_string();
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let written = (|| {
        let mut file = File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn write_atomically_replaces_and_leaves_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("offpin-verify-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.state");
        write_atomically(&path, b"one").unwrap();
        write_atomically(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
