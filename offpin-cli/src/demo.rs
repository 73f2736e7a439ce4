//! `offpin demo`: a guided run on a temporary ledger. Every step uses the
//! real pieces: a fresh random master key, the SQLite ledger, and at the
//! door the crate's lock side ([`offpin::lock::Lock`]) with its state
//! image saved after every entry, on a simulated clock.

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use offpin::lock::ClockStatus;
use offpin::server::chrono_time::{rfc3339_millis, to_unix};
use offpin::server::ledger::sqlite::SqliteLedger;
use offpin::server::ledger::{CodeSpec, Device, Ledger, LedgerError};
use offpin::server::record::AccessCode;
use offpin::{Codec, Decision, Lock, MasterKey, UnixSeconds, UtcOffset};

use crate::util::{CliError, CliResult, fail, human_secs, parse_offset, parse_time};
use crate::verify::{enter, lockout_note, new_lock};

const DEVICE: &str = "demo-front-door";

fn at(s: &str) -> CliResult<DateTime<Utc>> {
    Ok(parse_time(s)?)
}

fn unix(s: &str) -> CliResult<UnixSeconds> {
    Ok(to_unix(&at(s)?))
}

fn window(r: &AccessCode) -> String {
    match (&r.starts_at, &r.ends_at) {
        (Some(s), Some(e)) => format!("{} .. {}", rfc3339_millis(s), rfc3339_millis(e)),
        _ => "no window (until revoked)".to_owned(),
    }
}

fn step(title: &str) {
    println!();
    println!("== {title}");
}

/// The remembered codes of the demo's lock: the `lock_memory` of
/// standard-10.
const MEMORY: usize = 64;

/// PINs a stranger tries, in order, until the keypad locks out.
const GUESSES: [&str; 8] = [
    "1234567890",
    "0000000000",
    "1111111111",
    "9876543210",
    "2580258025",
    "1357924680",
    "1122334455",
    "5555555555",
];

/// The lock at the door: the real lock side, its key (to name the grant of
/// a refused code), and two flash slots its state image is written to
/// alternately, as firmware does.
struct Door {
    lock: Lock<MEMORY>,
    codec: Codec,
    offset: UtcOffset,
    flash: [Vec<u8>; 2],
}

impl Door {
    fn new(device: &Device, master: &MasterKey) -> CliResult<Door> {
        Ok(Door {
            lock: new_lock(device, master)?,
            codec: device.codec(master)?,
            offset: device.utc_offset,
            flash: [
                vec![0; Lock::<MEMORY>::STATE_LEN],
                vec![0; Lock::<MEMORY>::STATE_LEN],
            ],
        })
    }

    /// `t` on the lock's local clock.
    fn local(&self, t: UnixSeconds) -> String {
        let offset = FixedOffset::east_opt(self.offset.minutes() * 60);
        match (DateTime::from_timestamp(t, 0), offset) {
            (Some(t), Some(o)) => t
                .with_timezone(&o)
                .to_rfc3339_opts(SecondsFormat::Secs, true),
            _ => format!("Unix time {t}"),
        }
    }

    /// Types `pin` at `now`, prints what the lock decided and why, and
    /// checks it against `expect_open`, what the story expects (`None`: no
    /// expectation, for a random guess).
    fn type_at(
        &mut self,
        who: &str,
        pin: &str,
        now: UnixSeconds,
        expect_open: impl Into<Option<bool>>,
    ) -> CliResult {
        let Door {
            lock, codec, flash, ..
        } = self;
        let entry = enter(lock, codec, pin, now, |seq, image| {
            // Slot by sequence parity: the other slot keeps the previous image.
            let slot = usize::from(seq % 2 == 1);
            if let Some(s) = flash.get_mut(slot) {
                s.clear();
                s.extend_from_slice(image);
            }
            Ok(())
        })?;
        let local = |t| self.local(t);
        let what = match entry.decision {
            Decision::Open(g) => match entry.memory_note(local) {
                Some(note) => format!("opens ({g}; {note})"),
                None => format!("opens ({g})"),
            },
            _ => format!(
                "{}: {}",
                entry.word(),
                entry.reason(self.lock.profile().epoch(), local)
            ),
        };
        println!("  {}  {who:<24} types {pin}: {what}", self.local(now));
        if !entry.written {
            println!("    (not evaluated while locked out, not counted, nothing written)");
        }
        if let ClockStatus::RolledBack { by_secs } = entry.clock {
            println!(
                "    (the lock's clock is {} behind a time it has seen)",
                human_secs(by_secs)
            );
        }
        if expect_open.into().is_some_and(|e| e != entry.opened()) {
            return Err(CliError(format!(
                "demo: the lock did not behave as expected for {who} at {}",
                self.local(now)
            )));
        }
        Ok(())
    }

    /// A power cut: the lock restarts from the newest image in its flash
    /// slots, and must come back with the very state it had.
    fn power_cut(&mut self, device: &Device, master: &MasterKey) -> CliResult {
        let mut before = vec![0; Lock::<MEMORY>::STATE_LEN];
        self.lock
            .save(&mut before)
            .map_err(|e| fail("lock state", e))?;
        let [a, b] = &self.flash;
        self.lock = Lock::load_newest(device.codec(master)?, device.utc_offset, &[a, b])
            .map_err(|e| fail("demo: the lock cannot reload its state", e))?;
        let mut after = vec![0; Lock::<MEMORY>::STATE_LEN];
        self.lock
            .save(&mut after)
            .map_err(|e| fail("lock state", e))?;
        if before != after {
            return Err(CliError(
                "demo: the reloaded lock state differs from the saved one".to_owned(),
            ));
        }
        Ok(())
    }
}

/// Runs `offpin demo`.
pub fn run() -> CliResult {
    let dir = tempfile_dir()?;
    let ledger_path = dir.join("offpin.db");
    let key_path = dir.join("offpin.key");
    println!("offpin demo: a lock with no network, a server that issues its PINs.");
    println!("Working in {} (deleted at the end).", dir.display());

    step("1. The server's master key and the lock's registration");
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| fail("random", e))?;
    let master = MasterKey::from_bytes(bytes);
    crate::keyfile::write_new(&key_path, &master)?;
    println!("  a fresh 256-bit master key (owner-only file); each lock's AES key derives from it");
    let offset = parse_offset("+01:00")?;
    let mut ledger = SqliteLedger::open(&ledger_path)?;
    ledger.add_device(&Device::new(DEVICE, "standard-10").with_utc_offset(offset))?;
    println!("  device {DEVICE}: profile standard-10 (10-digit PINs), lock clock at UTC+01:00");

    let created = at("2025-06-20T12:00:00+01:00")?;
    step("2. Issuing codes (no round-trip to the lock)");
    // One stay, 1 July 15:00 to 4 July 11:00 in the lock's time, booked four times.
    let stay = CodeSpec::time_bound(
        DEVICE,
        at("2025-07-01T15:00:00+01:00")?,
        at("2025-07-04T11:00:00+01:00")?,
    )
    .with_max_rounding_secs(3_600);
    let ann = ledger.issue(&master, &stay.clone().with_name("Ann (guest)"), created)?;
    println!("  Ann, time-bound:   {}  window {}", ann.code, window(&ann));
    if let Some(w) = ann.warnings.first() {
        println!("    warning {}: {}", w.warning_code, w.message);
    }
    let ben = ledger.issue(
        &master,
        &stay.clone().with_name("Ben (same dates)"),
        created,
    )?;
    println!(
        "  Ben, same window:  {}  (variance 1: same dates, a different PIN)",
        ben.code
    );
    let _third = ledger.issue(&master, &stay, created)?;
    match ledger.issue(&master, &stay, created) {
        Err(e @ LedgerError::NoVarianceAvailable { .. }) => {
            println!("  a 3rd code of that window takes variance 2; a 4th is refused:");
            println!("    {e}");
        }
        Ok(_) => return Err(CliError("demo: a 4th variance was issued".to_owned())),
        Err(e) => return Err(e.into()),
    }
    let plumber = ledger.issue(
        &master,
        &CodeSpec::one_time(DEVICE, at("2025-07-02T09:00:00+01:00")?).with_name("plumber"),
        created,
    )?;
    println!(
        "  plumber, one-time: {}  usable once within {}",
        plumber.code,
        window(&plumber)
    );
    let cleaner = ledger.issue(
        &master,
        &CodeSpec::ongoing(DEVICE).with_name("cleaner"),
        created,
    )?;
    println!(
        "  cleaner, ongoing:  {}  (slot 0, valid until revoked)",
        cleaner.code
    );

    step("3. At the door (the lock checks each PIN offline, on its own clock)");
    let device = ledger.device(DEVICE)?;
    let profile = device.profile()?;
    let mut door = Door::new(&device, &master)?;
    let policy = profile.lockout();
    println!(
        "  the lock: offpin::lock::Lock<{MEMORY}>, remembers up to {MEMORY} codes; {} wrong PINs in a row lock the keypad for {}, every {} more for twice as long as before (at most {})",
        policy.failures,
        human_secs(i64::from(policy.base_secs)),
        policy.failures,
        human_secs(i64::from(policy.cap_secs))
    );
    door.type_at(
        "Ann, an hour early",
        &ann.code,
        unix("2025-07-01T14:00:00+01:00")?,
        false,
    )?;
    door.type_at(
        "Ann, on arrival",
        &ann.code,
        unix("2025-07-01T16:30:00+01:00")?,
        true,
    )?;
    door.type_at(
        "plumber",
        &plumber.code,
        unix("2025-07-02T10:00:00+01:00")?,
        true,
    )?;
    door.type_at(
        "plumber, again",
        &plumber.code,
        unix("2025-07-02T10:20:00+01:00")?,
        false,
    )?;
    door.type_at(
        "cleaner",
        &cleaner.code,
        unix("2025-07-02T11:00:00+01:00")?,
        true,
    )?;
    // The state survives a power cut: reload it from the flash slots.
    door.power_cut(&device, &master)?;
    println!(
        "  (the lock saved its {}-byte state and reloaded it, as after a power cut)",
        Lock::<MEMORY>::STATE_LEN
    );
    door.type_at(
        "Ann, day 3",
        &ann.code,
        unix("2025-07-03T18:00:00+01:00")?,
        true,
    )?;
    door.type_at(
        "Ben, first try, day 3",
        &ben.code,
        unix("2025-07-03T18:05:00+01:00")?,
        false,
    )?;
    println!("    (Ben's window is longer than 24 h and he never used it in its first 24 h)");

    step("4. Taking the ongoing code back, offline");
    let deleted = ledger.delete(
        &master,
        &cleaner.access_code_id,
        at("2025-07-03T19:00:00+01:00")?,
    )?;
    let revoke = deleted
        .revocation_code
        .ok_or_else(|| CliError("demo: no revocation code".to_owned()))?;
    println!(
        "  deleting the cleaner's code yields the revocation PIN {revoke}; someone types it once:"
    );
    door.type_at(
        "manager (revocation)",
        &revoke,
        unix("2025-07-03T19:10:00+01:00")?,
        false,
    )?;
    door.type_at("Ann", &ann.code, unix("2025-07-03T19:20:00+01:00")?, true)?;
    door.type_at(
        "cleaner",
        &cleaner.code,
        unix("2025-07-03T19:30:00+01:00")?,
        false,
    )?;

    step("5. Someone guesses PINs (the keypad locks out)");
    let mut now = unix("2025-07-03T20:00:00+01:00")?;
    println!(
        "  so far: {}; every refused entry counts, whatever its reason",
        lockout_note(&door.lock, now, |t| door.local(t))
    );
    for guess in GUESSES {
        if door.lock.locked_out_until(now).is_some() {
            break;
        }
        door.type_at("a stranger, guessing", guess, now, None)?;
        now += 15;
    }
    println!("  {}", lockout_note(&door.lock, now, |t| door.local(t)));
    let until = door
        .lock
        .locked_out_until(now)
        .ok_or_else(|| CliError("demo: the keypad is not locked out".to_owned()))?;
    door.type_at("Ann, while locked out", &ann.code, now + 60, false)?;
    door.type_at("Ann, after the lock-out", &ann.code, until + 60, true)?;

    step("6. After the stay");
    door.type_at(
        "Ann, after check-out",
        &ann.code,
        unix("2025-07-04T12:00:00+01:00")?,
        false,
    )?;

    step("7. The security of this lock");
    println!("  {}", profile.security());
    println!();
    println!(
        "Next: `offpin keygen`, `offpin device add ...`, `offpin issue ...`, `offpin report`."
    );
    std::fs::remove_dir_all(&dir).map_err(|e| fail("cannot remove the demo directory", e))?;
    Ok(())
}

/// A fresh private directory under the system's temp dir.
fn tempfile_dir() -> CliResult<std::path::PathBuf> {
    let mut rnd = [0u8; 8];
    getrandom::fill(&mut rnd).map_err(|e| fail("random", e))?;
    let name: String = rnd.iter().map(|b| format!("{b:02x}")).collect();
    let dir = std::env::temp_dir().join(format!("offpin-demo-{name}"));
    std::fs::create_dir(&dir).map_err(|e| fail(&format!("cannot create {}", dir.display()), e))?;
    Ok(dir)
}
