//! `offpin demo`: a guided run on a temporary ledger. Every step uses the
//! real pieces: a fresh random master key, the SQLite ledger, and at the
//! door the crate's lock side ([`offpin::lock::Lock`]) with its state
//! image saved after every entry, on a simulated clock.

use chrono::{DateTime, Utc};
use offpin::lock::ClockStatus;
use offpin::{Codec, Decision, Lock, MasterKey, UnixSeconds};
use offpin_ledger::chrono_time::to_unix;
use offpin_ledger::ledger::sqlite::SqliteLedger;
use offpin_ledger::ledger::{CodeSpec, Device, Ledger, LedgerError};
use offpin_ledger::record::AccessCode;
use offpin_ledger::zone::{BookingTime, Clock, Zone};

use crate::args::human_secs;
use crate::door::{enter, lockout_note, new_lock};
use crate::keyfile::KeyFile;
use crate::output::{CliError, CliResult, fail, print_json, say};

const DEVICE: &str = "demo-front-door";
/// The demo lock's time zone: it observes daylight saving time, and the
/// stay is in summer.
const ZONE: &str = "Europe/Paris";

/// A local time in the demo's zone.
fn at(device: &Device, local: &str) -> CliResult<DateTime<Utc>> {
    let t: BookingTime = local.parse().map_err(CliError::input)?;
    Ok(device.resolve(&t)?)
}

fn unix(device: &Device, local: &str) -> CliResult<UnixSeconds> {
    Ok(to_unix(&at(device, local)?))
}

fn window(clock: &Clock<'_>, r: &AccessCode) -> String {
    match (&r.starts_at, &r.ends_at) {
        (Some(s), Some(e)) => format!(
            "{} .. {}",
            clock.local_and_utc(s.timestamp()),
            clock.local_and_utc(e.timestamp())
        ),
        _ => "no window (until revoked)".to_owned(),
    }
}

fn step(title: &str) -> CliResult {
    say!("");
    say!("== {title}");
    Ok(())
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
    device: Device,
    zone: Option<Zone>,
    flash: [Vec<u8>; 2],
}

impl Door {
    fn new(device: &Device, master: &MasterKey) -> CliResult<Door> {
        Ok(Door {
            lock: new_lock(device, master)?,
            codec: device.codec(master)?,
            device: device.clone(),
            zone: device.zone()?,
            flash: [
                vec![0; Lock::<MEMORY>::STATE_LEN],
                vec![0; Lock::<MEMORY>::STATE_LEN],
            ],
        })
    }

    /// `t` in local time (the device's zone), then UTC.
    fn local(&self, t: UnixSeconds) -> String {
        Clock {
            utc_offset: self.device.utc_offset,
            zone: self.zone.as_ref(),
        }
        .local_and_utc(t)
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
        say!("  {}  {who:<24} types {pin}: {what}", self.local(now));
        if !entry.written {
            say!("    (not evaluated while locked out, not counted, nothing written)");
        }
        if let ClockStatus::RolledBack { by_secs } = entry.clock {
            say!(
                "    (the lock's clock is {} behind a time it has seen)",
                human_secs(by_secs)
            );
        }
        if expect_open.into().is_some_and(|e| e != entry.opened()) {
            return Err(CliError::new(
                "internal_error",
                format!(
                    "demo: the lock did not behave as expected for {who} at {}",
                    self.local(now)
                ),
            ));
        }
        Ok(())
    }

    /// A power cut: the lock restarts from the newest image in its flash
    /// slots, and must come back with the very state it had.
    fn power_cut(&mut self, device: &Device, master: &MasterKey) -> CliResult {
        let mut before = vec![0; Lock::<MEMORY>::STATE_LEN];
        self.lock
            .save(&mut before)
            .map_err(|e| fail("lock_state", "lock state", e))?;
        let [a, b] = &self.flash;
        self.lock = Lock::load_newest(device.codec(master)?, device.lock_rule()?, &[a, b])
            .map_err(|e| fail("lock_state", "demo: the lock cannot reload its state", e))?;
        let mut after = vec![0; Lock::<MEMORY>::STATE_LEN];
        self.lock
            .save(&mut after)
            .map_err(|e| fail("lock_state", "lock state", e))?;
        if before != after {
            return Err(CliError::new(
                "internal_error",
                "demo: the reloaded lock state differs from the saved one",
            ));
        }
        // Started as firmware starts it: the loaded state written again,
        // to the other slot, before the lock decides anything.
        let start = self.lock.start();
        let slot = usize::from(start.image_sequence() % 2 == 1);
        if let Some(s) = self.flash.get_mut(slot) {
            self.lock
                .save_after(&start, s)
                .map_err(|e| fail("lock_state", "lock state", e))?;
        }
        self.lock
            .commit(start)
            .map_err(|e| fail("lock_state", "lock state", e))?;
        Ok(())
    }
}

/// Runs `offpin demo`, and removes its directory whatever happens (a
/// reader that closes stdout early included).
pub fn run() -> CliResult {
    let dir = tempfile_dir()?;
    let result = story(&dir);
    let removed = std::fs::remove_dir_all(&dir)
        .map_err(|e| fail("io_error", "cannot remove the demo directory", e));
    result.and(removed)
}

fn story(dir: &std::path::Path) -> CliResult {
    let ledger_path = dir.join("offpin.db");
    let key_path = dir.join("offpin.key");
    say!("offpin demo: a lock with no network, a server that issues its PINs.");
    say!("Working in {} (deleted at the end).", dir.display());

    step("1. The server's master key and the lock's registration")?;
    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
    getrandom::fill(bytes.as_mut_slice()).map_err(|e| fail("io_error", "random", e))?;
    let master = MasterKey::from_bytes(*bytes);
    crate::keyfile::write_new(
        &KeyFile {
            path: key_path,
            from_env: false,
        },
        &master,
    )?;
    say!(
        "  a fresh 256-bit master key (owner-only file, fingerprint {}); each lock's AES key derives from it",
        offpin_ledger::ledger::fingerprint_hex(&master.fingerprint())
    );
    let zone = Zone::get(ZONE).map_err(LedgerError::Zone)?;
    let mut ledger = SqliteLedger::open(&ledger_path)?;
    let created = "2025-06-20T12:00:00+02:00"
        .parse::<BookingTime>()
        .map_err(CliError::input)
        .and_then(|t| match t {
            BookingTime::At(t) => Ok(t),
            BookingTime::Local(_) => Err(CliError::input("demo: the issue time needs an offset")),
        })?;
    let device = Device::new(DEVICE, "standard-10")
        .with_time_zone(ZONE)
        .with_utc_offset(zone.standard_offset(created.timestamp()));
    ledger.add_device(&master, &device)?;
    say!(
        "  device {DEVICE}: profile standard-10 (10-digit PINs), in {ZONE}; the lock's clock keeps UTC{} all year, so in summer (UTC+02:00) its days start at 01:00 local time",
        device.utc_offset
    );
    let clock = Clock {
        utc_offset: device.utc_offset,
        zone: Some(&zone),
    };

    step("2. Issuing codes (no round-trip to the lock), in local time")?;
    // One stay, 1 July 15:00 to 4 July 11:00 local (summer time), booked four times.
    let stay = CodeSpec::time_bound(
        DEVICE,
        at(&device, "2025-07-01T15:00")?,
        at(&device, "2025-07-04T11:00")?,
    )
    .with_max_rounding_secs(3_600);
    say!(
        "  the stay is booked as 2025-07-01T15:00 .. 2025-07-04T11:00 local time, read with {ZONE}'s rules for July"
    );
    let ann = ledger
        .issue(
            &master,
            &stay
                .clone()
                .with_name("Ann (guest)")
                .with_user_identifier_key("guest-ann"),
            created,
        )?
        .record;
    say!(
        "  Ann, time-bound:   {}  window {}",
        ann.code,
        window(&clock, &ann)
    );
    if let Some(w) = ann.warnings.first() {
        say!("    warning {}: {}", w.warning_code, w.message);
    }
    let ben = ledger
        .issue(
            &master,
            &stay.clone().with_name("Ben (same dates)"),
            created,
        )?
        .record;
    say!(
        "  Ben, same window:  {}  (variance 1: same dates, a different PIN)",
        ben.code
    );
    let _third = ledger.issue(&master, &stay, created)?;
    match ledger.issue(&master, &stay, created) {
        Err(e @ LedgerError::NoVarianceAvailable { .. }) => {
            say!("  a 3rd code of that window takes variance 2; a 4th is refused:");
            say!("    {e}");
        }
        Ok(_) => {
            return Err(CliError::new(
                "internal_error",
                "demo: a 4th variance was issued",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    match ledger.issue(
        &master,
        &CodeSpec::time_bound(
            DEVICE,
            at(&device, "2025-06-18T15:00")?,
            at(&device, "2025-06-22T11:00")?,
        )
        .with_max_rounding_secs(3_600),
        created,
    ) {
        Err(e @ LedgerError::ActivationDeadlinePassed { .. }) => {
            say!(
                "  a stay that began two days ago (18 to 22 June) can no longer be activated; it is refused:"
            );
            say!("    {e}");
        }
        Ok(_) => {
            return Err(CliError::new(
                "internal_error",
                "demo: a dead code was issued",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    let plumber = ledger
        .issue(
            &master,
            &CodeSpec::one_time(DEVICE, at(&device, "2025-07-02T09:00")?).with_name("plumber"),
            created,
        )?
        .record;
    say!(
        "  plumber, one-time: {}  usable once within {}",
        plumber.code,
        window(&clock, &plumber)
    );
    let cleaner = ledger
        .issue(
            &master,
            &CodeSpec::ongoing(DEVICE).with_name("cleaner"),
            created,
        )?
        .record;
    say!(
        "  cleaner, ongoing:  {}  (slot 0, valid until revoked)",
        cleaner.code
    );
    say!(
        "  Ann's code as an integrator receives it (the access_code object of the hosted lock APIs):"
    );
    print_json(&ann)?;

    step("3. At the door (the lock checks each PIN offline, on its own clock)")?;
    let device = ledger.device(DEVICE)?;
    let profile = device.profile()?;
    let mut door = Door::new(&device, &master)?;
    let policy = profile.lockout();
    say!(
        "  the lock: offpin::lock::Lock<{MEMORY}>, remembers up to {MEMORY} codes; {} wrong PINs in a row lock the keypad for {}, every {} more for twice as long as before (at most {})",
        policy.failures,
        human_secs(i64::from(policy.base_secs)),
        policy.failures,
        human_secs(i64::from(policy.cap_secs))
    );
    let u = |local: &str| unix(&device, local);
    door.type_at(
        "Ann, an hour early",
        &ann.code,
        u("2025-07-01T14:00")?,
        false,
    )?;
    door.type_at("Ann, on arrival", &ann.code, u("2025-07-01T16:30")?, true)?;
    door.type_at("plumber", &plumber.code, u("2025-07-02T10:00")?, true)?;
    door.type_at(
        "plumber, again",
        &plumber.code,
        u("2025-07-02T10:20")?,
        false,
    )?;
    door.type_at("cleaner", &cleaner.code, u("2025-07-02T11:00")?, true)?;
    // The state survives a power cut: reload it from the flash slots.
    door.power_cut(&device, &master)?;
    say!(
        "  (the lock saved its {}-byte state and reloaded it, as after a power cut)",
        Lock::<MEMORY>::STATE_LEN
    );
    door.type_at("Ann, day 3", &ann.code, u("2025-07-03T18:00")?, true)?;
    door.type_at(
        "Ben, first try, day 3",
        &ben.code,
        u("2025-07-03T18:05")?,
        false,
    )?;
    say!("    (Ben's window is longer than 24 h and he never used it in its first 24 h)");
    let ben_now = ledger.get(&ben.access_code_id, at(&device, "2025-07-03T18:05")?)?;
    if let Some(w) = ben_now.warnings.first() {
        say!("    his record, read now, says so: {}", w.message);
    }

    step("4. Taking the ongoing code back, offline")?;
    let deleted = ledger.delete(
        &master,
        &cleaner.access_code_id,
        at(&device, "2025-07-03T19:00")?,
    )?;
    let revoke = deleted
        .revocation_code
        .ok_or_else(|| CliError::new("internal_error", "demo: no revocation code"))?;
    say!(
        "  deleting the cleaner's code yields the revocation PIN {revoke}; until it is typed, the record stays listed as {}; someone types it once:",
        deleted.record.status.name()
    );
    door.type_at(
        "manager (revocation)",
        &revoke,
        u("2025-07-03T19:10")?,
        false,
    )?;
    door.type_at("Ann", &ann.code, u("2025-07-03T19:20")?, true)?;
    door.type_at("cleaner", &cleaner.code, u("2025-07-03T19:30")?, false)?;

    step("5. Someone guesses PINs (the keypad locks out)")?;
    let mut now = u("2025-07-03T20:00")?;
    say!(
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
    say!("  {}", lockout_note(&door.lock, now, |t| door.local(t)));
    let until = door
        .lock
        .locked_out_until(now)
        .ok_or_else(|| CliError::new("internal_error", "demo: the keypad is not locked out"))?;
    door.type_at("Ann, while locked out", &ann.code, now + 60, false)?;
    door.type_at("Ann, after the lock-out", &ann.code, until + 60, true)?;

    step("6. After the stay")?;
    door.type_at(
        "Ann, after check-out",
        &ann.code,
        u("2025-07-04T12:00")?,
        false,
    )?;
    let ann_after = ledger.get(&ann.access_code_id, at(&device, "2025-07-04T12:00")?)?;
    say!(
        "  her record, read now: status {}; {}",
        ann_after.status.name(),
        ann_after
            .warnings
            .first()
            .map_or("", |w| w.message.as_str())
    );

    step("7. The security of this lock")?;
    say!("  {}", profile.security());
    say!("");
    say!("Next: `offpin keygen`, `offpin device add ...`, `offpin issue ...`, `offpin report`.");
    Ok(())
}

/// A fresh private directory under the system's temp dir.
fn tempfile_dir() -> CliResult<std::path::PathBuf> {
    let mut rnd = [0u8; 8];
    getrandom::fill(&mut rnd).map_err(|e| fail("io_error", "random", e))?;
    let name: String = rnd.iter().map(|b| format!("{b:02x}")).collect();
    let dir = std::env::temp_dir().join(format!("offpin-demo-{name}"));
    std::fs::create_dir(&dir)
        .map_err(|e| fail("io_error", &format!("cannot create {}", dir.display()), e))?;
    Ok(dir)
}
