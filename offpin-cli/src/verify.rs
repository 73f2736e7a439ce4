//! `offpin verify`: type a PIN at the device's lock. The lock is the real
//! lock side of the crate, [`offpin::lock::Lock`]; its state image lives in
//! a file per device (beside the ledger by default), loaded before and
//! saved after every entry as firmware does with its flash, so successive
//! runs see used one-time codes, activations, revocations, the lock-out
//! and the highest time the lock has seen.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use clap::Args;
use offpin::lock::{ClockStatus, EntryKind, Remembered};
use offpin::server::chrono_time::{rfc3339_millis, to_unix, unix_rfc3339};
use offpin::server::ledger::Device;
use offpin::time::HOUR;
use offpin::{Codec, Decision, Grant, Lock, MasterKey, PersistError, RevokeTarget, UnixSeconds};

use crate::util::{CliError, CliResult, fail, human_secs, open_ledger, parse_time, state_path};
use crate::{at_or_now, keyfile};

/// Arguments of `offpin verify`.
#[derive(Debug, Args)]
#[command(after_help = "\
Types the PIN at the device's lock at --at (default: now), the lock's clock,
and prints what the lock decided and why. The lock is offpin's lock side
(offpin::lock::Lock, as in firmware): it remembers used one-time codes and
activated codes, applies revocation PINs, locks the keypad after repeated
wrong PINs, and refuses time-dependent codes when its clock is set back
before a time it has seen. Its binary state image is read from --state
(default: <ledger>.lock-<device>.state; a missing file is a new lock) and
written back (temporary file, fsync, rename) before the decision is printed,
as a lock persists before it opens. A damaged state file is reported, never
overwritten; deleting it resets the lock (which then forgets used codes,
revocations and the lock-out).")]
pub struct VerifyArgs {
    /// The device (lock).
    #[arg(long)]
    device_id: String,
    /// The PIN as typed.
    #[arg(long)]
    pin: String,
    /// The lock's clock (RFC 3339; default: now).
    #[arg(long, value_parser = parse_time)]
    at: Option<DateTime<Utc>>,
    /// The lock-state file (default: beside the ledger).
    #[arg(long)]
    state: Option<PathBuf>,
}

/// What one entry at the lock did.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// What the lock decided.
    pub decision: Decision,
    /// Whether the clock was found rolled back.
    pub clock: ClockStatus,
    /// The grant the lock decoded the entry into (`None` when it names no
    /// grant or the lock did not evaluate it).
    pub grant: Option<Grant>,
    /// The lock's memory entry for this code, if it holds a live one, and
    /// whether this entry added it.
    pub memory: Option<(Remembered, bool)>,
    /// Whether the entry changed the state (and an image was written).
    pub written: bool,
}

impl Entry {
    /// Whether the door opened.
    pub const fn opened(&self) -> bool {
        self.decision.opens()
    }

    /// `open`, `refused` or `revocation`.
    pub const fn word(&self) -> &'static str {
        match self.decision {
            Decision::Open(_) => "open",
            Decision::Revoked(_) => "revocation",
            Decision::Refuse(_) => "refused",
        }
    }

    /// Why, in words (times through `time`).
    pub fn reason(&self, epoch: UnixSeconds, time: impl Fn(UnixSeconds) -> String) -> String {
        match self.decision {
            Decision::Open(_) => "the code is valid".to_owned(),
            Decision::Revoked(RevokeTarget::Slot(slot)) => {
                format!("ongoing slot {slot} is revoked for good")
            }
            Decision::Revoked(RevokeTarget::StartedBefore { hour }) => format!(
                "every code that started before {} is revoked",
                time(epoch.saturating_add(i64::from(hour).saturating_mul(HOUR)))
            ),
            Decision::Refuse(r) => r.to_string(),
        }
    }

    /// What the lock remembers about this code (times through `time`).
    pub fn memory_note(&self, time: impl Fn(UnixSeconds) -> String) -> Option<String> {
        let (r, added) = self.memory?;
        let until = time(r.until);
        Some(match (r.kind, added) {
            (EntryKind::Used, _) => format!("remembered as used until {until}"),
            (EntryKind::Activated, true) => format!("remembered as activated until {until}"),
            (EntryKind::Activated, false) => {
                format!("activated earlier, remembered until {until}")
            }
        })
    }
}

/// Types `typed` at `lock` at `now` in the documented order: check, hand
/// the image of the state after the change to `persist` (with the image's
/// sequence number), commit. An entry that changes nothing (refused while
/// the keypad is locked out) is neither persisted nor committed. `codec`
/// (the lock's key) names the grant of a refused code.
pub fn enter<const M: usize>(
    lock: &mut Lock<M>,
    codec: &Codec,
    typed: &str,
    now: UnixSeconds,
    persist: impl FnOnce(u64, &[u8]) -> CliResult,
) -> CliResult<Entry> {
    let typed = typed.trim().as_bytes();
    let check = lock.check(typed, now);
    let before: Vec<Remembered> = lock.remembered().collect();
    let written = !check.change.is_empty();
    if written {
        let mut image = vec![0u8; Lock::<M>::STATE_LEN];
        lock.save_after(&check.change, &mut image)
            .map_err(|e| fail("lock state", e))?;
        persist(check.change.image_sequence(), &image)?;
        lock.commit(check.change)
            .map_err(|e| fail("lock state", e))?;
    }
    let grant = match check.decision {
        Decision::Open(g) => Some(g),
        Decision::Revoked(target) => Some(Grant::Revoke(target)),
        Decision::Refuse(_) => check.key.and_then(|_| codec.decode_input(typed).ok()),
    };
    let t = now.max(lock.highest_seen());
    let memory = grant.zip(check.key).and_then(|(g, key)| {
        let index = lock.profile().index_of(&g).ok()?;
        let key = u8::try_from(key).ok()?;
        let r = lock
            .remembered()
            .find(|r| r.key == key && r.index == index && r.is_live(t))?;
        Some((r, !before.contains(&r)))
    });
    Ok(Entry {
        decision: check.decision,
        clock: check.clock,
        grant,
        memory,
        written,
    })
}

/// The lock-out state of `lock` at `now`, in words (times through `time`).
pub fn lockout_note<const M: usize>(
    lock: &Lock<M>,
    now: UnixSeconds,
    time: impl Fn(UnixSeconds) -> String,
) -> String {
    let failures = lock.consecutive_failures();
    let batch = u64::from(lock.profile().lockout().failures).max(1);
    let entries = |n: u64| {
        if n == 1 {
            "1 failed entry".to_owned()
        } else {
            format!("{n} failed entries")
        }
    };
    match lock.locked_out_until(now) {
        Some(until) => format!(
            "locked out until {} (after {} in a row)",
            time(until),
            entries(failures)
        ),
        None if failures == 0 => "no failed entries".to_owned(),
        None => format!(
            "{} in a row (the keypad locks at {})",
            entries(failures),
            (failures / batch).saturating_add(1).saturating_mul(batch)
        ),
    }
}

/// A new lock for `device`, with empty state.
pub fn new_lock<const M: usize>(device: &Device, master: &MasterKey) -> CliResult<Lock<M>> {
    Lock::new(device.codec(master)?, device.utc_offset).map_err(|e| lock_config(device, e))
}

fn lock_config(device: &Device, e: impl std::fmt::Display) -> CliError {
    CliError(format!(
        "cannot build the lock of device '{}': {e}",
        device.device_id
    ))
}

/// Runs `offpin verify`.
pub fn run(ledger_path: &Path, key_path: &Path, args: &VerifyArgs) -> CliResult {
    let master = keyfile::load(key_path)?;
    let mut ledger = open_ledger(ledger_path)?;
    let device = ledger.device(&args.device_id)?;
    let profile = device.profile()?;
    let path = args
        .state
        .clone()
        .unwrap_or_else(|| state_path(ledger_path, &device.device_id));
    let now = at_or_now(args.at);
    let at = Verify {
        device: &device,
        master: &master,
        path: &path,
        pin: &args.pin,
        now,
    };
    match profile.lock_memory() {
        32 => run_verify::<32>(&at),
        64 => run_verify::<64>(&at),
        128 => run_verify::<128>(&at),
        m => Err(CliError(format!(
            "profile {} sizes its lock for {m} remembered codes; offpin verify supports 32, 64 or 128",
            profile.name()
        ))),
    }
}

/// One `offpin verify` run.
struct Verify<'a> {
    device: &'a Device,
    master: &'a MasterKey,
    path: &'a Path,
    pin: &'a str,
    now: DateTime<Utc>,
}

/// `offpin verify` with a lock of `M` remembered codes.
/// Takes an exclusive lock on `<state>.lock` for the whole entry, so
/// concurrent `verify` runs on one state file queue up like keypresses on
/// one keypad. Without it, two runs could read the same image and each
/// commit its own change (a one-time code could open twice). The lock is
/// released when the returned file is dropped.
fn exclusive(path: &Path) -> Result<File, CliError> {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(false)
        .open(&name)
        .map_err(|e| fail(&format!("cannot open {}", Path::new(&name).display()), e))?;
    file.lock()
        .map_err(|e| fail(&format!("cannot lock {}", Path::new(&name).display()), e))?;
    Ok(file)
}

fn run_verify<const M: usize>(v: &Verify<'_>) -> CliResult {
    let path = v.path;
    let _exclusive = exclusive(path)?;
    let mut lock = match std::fs::read(path) {
        Ok(image) => {
            match Lock::<M>::load(v.device.codec(v.master)?, v.device.utc_offset, &image) {
                Ok(lock) => lock,
                Err(PersistError::Config(e)) => return Err(lock_config(v.device, e)),
                Err(e) => {
                    return Err(CliError(format!(
                        "{}: {e}; the file is left as it is (delete it to start over with a new lock, which forgets used codes, revocations and the lock-out)",
                        path.display()
                    )));
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => new_lock::<M>(v.device, v.master)?,
        Err(e) => return Err(fail(&format!("cannot read {}", path.display()), e)),
    };
    let codec = v.device.codec(v.master)?;
    let now = to_unix(&v.now);
    // Persist first, then report (a lock persists before it actuates).
    let entry = enter(&mut lock, &codec, v.pin, now, |_, image| {
        write_atomically(path, image)
            .map_err(|e| fail(&format!("cannot save {}", path.display()), e))
    })?;
    println!("decision: {}", entry.word());
    println!(
        "reason:   {}",
        entry.reason(lock.profile().epoch(), unix_rfc3339)
    );
    println!("at:       {}", rfc3339_millis(&v.now));
    if let Some(grant) = entry.grant {
        println!("grant:    {grant}");
    }
    if let ClockStatus::RolledBack { by_secs } = entry.clock {
        println!(
            "clock:    rolled back: {} behind {}, the latest time the lock has seen; codes that depend on time are refused until the clock is set right",
            human_secs(by_secs),
            unix_rfc3339(lock.highest_seen())
        );
    }
    println!("lockout:  {}", lockout_note(&lock, now, unix_rfc3339));
    let free = format!("{} of {M} slots free", lock.free_memory(now));
    match entry.memory_note(unix_rfc3339) {
        Some(note) => println!("memory:   {note}; {free}"),
        None => println!("memory:   {free}"),
    }
    if entry.written {
        println!(
            "state:    saved to {} ({} bytes, sequence {})",
            path.display(),
            Lock::<M>::STATE_LEN,
            lock.sequence()
        );
    } else {
        println!(
            "state:    unchanged, nothing written (the keypad is locked out: the entry was not evaluated)"
        );
    }
    Ok(())
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
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]
mod tests {
    use super::*;
    use offpin::{Refusal, Request, UtcOffset};

    fn device() -> (Device, MasterKey) {
        (
            Device::new("unit-door", "standard-10"),
            MasterKey::from_bytes([9; 32]),
        )
    }

    #[test]
    fn enter_persists_the_state_after_the_entry_before_committing() {
        let (device, master) = device();
        let codec = device.codec(&master).unwrap();
        let mut lock = new_lock::<64>(&device, &master).unwrap();
        let start = codec.profile().epoch() + 1_000 * 3_600;
        let pin = codec.issue(&Request::one_time(start)).unwrap().pin;
        let mut saved = Vec::new();
        let entry = enter(&mut lock, &codec, pin.as_str(), start + 60, |seq, image| {
            saved = image.to_vec();
            assert_eq!(seq, 1);
            Ok(())
        })
        .unwrap();
        assert!(entry.opened() && entry.written);
        let (remembered, added) = entry.memory.unwrap();
        assert!(added && remembered.kind == EntryKind::Used);
        // The image handed over is the committed state.
        let mut now_saved = vec![0; Lock::<64>::STATE_LEN];
        lock.save(&mut now_saved).unwrap();
        assert_eq!(saved, now_saved);
        // Reloaded, it refuses the code again, naming its grant.
        let mut lock =
            Lock::<64>::load(device.codec(&master).unwrap(), UtcOffset::UTC, &saved).unwrap();
        let again = enter(&mut lock, &codec, pin.as_str(), start + 120, |_, _| Ok(())).unwrap();
        assert_eq!(again.decision, Decision::Refuse(Refusal::AlreadyUsed));
        assert_eq!(again.grant, entry.grant);
        assert_eq!(again.memory.map(|(_, added)| added), Some(false));
    }

    #[test]
    fn enter_writes_nothing_while_locked_out() {
        let (device, master) = device();
        let codec = device.codec(&master).unwrap();
        let mut lock = new_lock::<64>(&device, &master).unwrap();
        let now = codec.profile().epoch() + 1_000 * 3_600;
        let mut writes = 0;
        for i in 0..5 {
            let e = enter(&mut lock, &codec, "12", now + i, |_, _| {
                writes += 1;
                Ok(())
            })
            .unwrap();
            assert_eq!(e.decision, Decision::Refuse(Refusal::InvalidCode));
            assert_eq!(e.grant, None);
        }
        assert_eq!(writes, 5);
        let note = lockout_note(&lock, now + 10, unix_rfc3339);
        assert!(note.starts_with("locked out until"), "{note}");
        let e = enter(&mut lock, &codec, "12", now + 10, |_, _| {
            panic!("a locked-out entry must not be written")
        })
        .unwrap();
        assert_eq!(e.decision, Decision::Refuse(Refusal::LockedOut));
        assert!(!e.written);
        assert_eq!(
            lockout_note(&lock, now + 400, unix_rfc3339),
            "5 failed entries in a row (the keypad locks at 10)"
        );
    }

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
