//! `offpin demo`: a guided run on a temporary ledger. Every step uses the
//! real pieces: a fresh random master key, the SQLite ledger, and at the
//! door the crate's lock side ([`offpin::lock::Lock`]) with its state
//! image saved after every entry, on a simulated clock.

use std::path::{Path, PathBuf};

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
    fn power_cut(&mut self, master: &MasterKey) -> CliResult {
        let mut before = vec![0; Lock::<MEMORY>::STATE_LEN];
        self.lock
            .save(&mut before)
            .map_err(|e| fail("lock_state", "lock state", e))?;
        let [a, b] = &self.flash;
        let device = &self.device;
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

/// One step of the story: its title, printed as a heading before it runs,
/// and what it does.
struct Step {
    title: &'static str,
    run: fn(&mut Demo) -> CliResult,
}

/// The story, in the order it is told: each step reads the state the
/// steps before it left in [`Demo`].
const STEPS: &[Step] = &[
    Step {
        title: "1. The server's master key and the lock's registration",
        run: Demo::register,
    },
    Step {
        title: "2. Issuing codes (no round-trip to the lock), in local time",
        run: Demo::issue_codes,
    },
    Step {
        title: "3. At the door (the lock checks each PIN offline, on its own clock)",
        run: Demo::at_the_door,
    },
    Step {
        title: "4. Taking the ongoing code back, offline",
        run: Demo::revoke_ongoing,
    },
    Step {
        title: "5. Someone guesses PINs (the keypad locks out)",
        run: Demo::guesses,
    },
    Step {
        title: "6. After the stay",
        run: Demo::after_the_stay,
    },
    Step {
        title: "7. The security of this lock",
        run: Demo::security,
    },
];

/// Tells the story in `dir`: the introduction, each of [`STEPS`] under its
/// heading, and what to run next.
fn story(dir: &Path) -> CliResult {
    say!("offpin demo: a lock with no network, a server that issues its PINs.");
    say!("Working in {} (deleted at the end).", dir.display());
    let mut demo = Demo::new(dir)?;
    for step in STEPS {
        say!("");
        say!("== {}", step.title);
        (step.run)(&mut demo)?;
    }
    say!("");
    say!("Next: `offpin keygen`, `offpin device add ...`, `offpin issue ...`, `offpin report`.");
    Ok(())
}

/// The codes issued in step 2, which the later steps type at the door.
struct Codes {
    ann: AccessCode,
    ben: AccessCode,
    plumber: AccessCode,
    cleaner: AccessCode,
}

/// The state the story's steps share. [`Demo::new`] prepares what prints
/// nothing (the random master key, the ledger file, the device); the codes
/// are set by step 2 and the door by step 3.
struct Demo {
    key_path: PathBuf,
    master: MasterKey,
    ledger: SqliteLedger,
    zone: Zone,
    /// The ledger's clock for every issue (20 June, noon in Paris).
    created: DateTime<Utc>,
    /// The device as registered, then (from step 3) as the ledger returns it.
    device: Device,
    codes: Option<Codes>,
    door: Option<Door>,
}

/// A step that needs the codes or the door ran before the step that makes
/// them (a mistake in [`STEPS`]).
fn out_of_order() -> CliError {
    CliError::new(
        "internal_error",
        "demo: a step ran before the step it depends on",
    )
}

impl Demo {
    /// The state before step 1, in `dir`: a fresh random master key (not
    /// yet written), the opened ledger, and the device to register.
    fn new(dir: &Path) -> CliResult<Demo> {
        let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
        getrandom::fill(bytes.as_mut_slice()).map_err(|e| fail("io_error", "random", e))?;
        let zone = Zone::get(ZONE).map_err(LedgerError::Zone)?;
        let ledger = SqliteLedger::open(&dir.join("offpin.db"))?;
        let created = "2025-06-20T12:00:00+02:00"
            .parse::<BookingTime>()
            .map_err(CliError::input)
            .and_then(|t| match t {
                BookingTime::At(t) => Ok(t),
                BookingTime::Local(_) => {
                    Err(CliError::input("demo: the issue time needs an offset"))
                }
            })?;
        let device = Device::new(DEVICE, "standard-10")
            .with_time_zone(ZONE)
            .with_utc_offset(zone.standard_offset(created.timestamp()));
        Ok(Demo {
            key_path: dir.join("offpin.key"),
            master: MasterKey::from_bytes(*bytes),
            ledger,
            zone,
            created,
            device,
            codes: None,
            door: None,
        })
    }

    /// Step 1: writes the master key file and registers the device.
    fn register(&mut self) -> CliResult {
        crate::keyfile::write_new(
            &KeyFile {
                path: self.key_path.clone(),
                from_env: false,
            },
            &self.master,
        )?;
        say!(
            "  a fresh 256-bit master key (owner-only file, fingerprint {}); each lock's AES key derives from it",
            offpin_ledger::ledger::fingerprint_hex(&self.master.fingerprint())
        );
        self.ledger.add_device(&self.master, &self.device)?;
        say!(
            "  device {DEVICE}: profile standard-10 (10-digit PINs), in {ZONE}; the lock's clock keeps UTC{} all year, so in summer (UTC+02:00) its days start at 01:00 local time",
            self.device.utc_offset
        );
        Ok(())
    }

    /// Issues `spec` at the demo's issue time.
    fn issue(&mut self, spec: &CodeSpec) -> CliResult<AccessCode> {
        Ok(self.ledger.issue(&self.master, spec, self.created)?.record)
    }

    /// The window of `r`, in local time then UTC.
    fn window(&self, r: &AccessCode) -> String {
        let clock = Clock {
            utc_offset: self.device.utc_offset,
            zone: Some(&self.zone),
        };
        window(&clock, r)
    }

    /// Step 2: the stay's codes (and the refusals the ledger gives), the
    /// plumber's and the cleaner's, and Ann's record as JSON.
    fn issue_codes(&mut self) -> CliResult {
        let (ann, ben) = self.issue_stay()?;
        self.refuse_past_stay()?;
        let plumber = self.issue(
            &CodeSpec::one_time(DEVICE, at(&self.device, "2025-07-02T09:00")?).with_name("plumber"),
        )?;
        say!(
            "  plumber, one-time: {}  usable once within {}",
            plumber.code,
            self.window(&plumber)
        );
        let cleaner = self.issue(&CodeSpec::ongoing(DEVICE).with_name("cleaner"))?;
        say!(
            "  cleaner, ongoing:  {}  (slot 0, valid until revoked)",
            cleaner.code
        );
        say!(
            "  Ann's code as an integrator receives it (the access_code object of the hosted lock APIs):"
        );
        print_json(&ann)?;
        self.codes = Some(Codes {
            ann,
            ben,
            plumber,
            cleaner,
        });
        Ok(())
    }

    /// One stay, 1 July 15:00 to 4 July 11:00 local (summer time), booked
    /// four times: Ann's and Ben's codes (returned), a third, and a fourth
    /// that the ledger refuses.
    fn issue_stay(&mut self) -> CliResult<(AccessCode, AccessCode)> {
        let stay = CodeSpec::time_bound(
            DEVICE,
            at(&self.device, "2025-07-01T15:00")?,
            at(&self.device, "2025-07-04T11:00")?,
        )
        .with_max_rounding_secs(3_600);
        say!(
            "  the stay is booked as 2025-07-01T15:00 .. 2025-07-04T11:00 local time, read with {ZONE}'s rules for July"
        );
        let ann = self.issue(
            &stay
                .clone()
                .with_name("Ann (guest)")
                .with_user_identifier_key("guest-ann"),
        )?;
        say!(
            "  Ann, time-bound:   {}  window {}",
            ann.code,
            self.window(&ann)
        );
        if let Some(w) = ann.warnings.first() {
            say!("    warning {}: {}", w.warning_code, w.message);
        }
        let ben = self.issue(&stay.clone().with_name("Ben (same dates)"))?;
        say!(
            "  Ben, same window:  {}  (variance 1: same dates, a different PIN)",
            ben.code
        );
        let _third = self.issue(&stay)?;
        refused(
            self.ledger.issue(&self.master, &stay, self.created),
            |e| matches!(e, LedgerError::NoVarianceAvailable { .. }),
            "a 3rd code of that window takes variance 2; a 4th is refused:",
            "a 4th variance was issued",
        )?;
        Ok((ann, ben))
    }

    /// A stay that began two days before the issue time: refused, as its
    /// code could never be activated.
    fn refuse_past_stay(&mut self) -> CliResult {
        let spec = CodeSpec::time_bound(
            DEVICE,
            at(&self.device, "2025-06-18T15:00")?,
            at(&self.device, "2025-06-22T11:00")?,
        )
        .with_max_rounding_secs(3_600);
        refused(
            self.ledger.issue(&self.master, &spec, self.created),
            |e| matches!(e, LedgerError::ActivationDeadlinePassed { .. }),
            "a stay that began two days ago (18 to 22 June) can no longer be activated; it is refused:",
            "a dead code was issued",
        )
    }

    /// The door of step 3.
    fn door(&mut self) -> CliResult<&mut Door> {
        self.door.as_mut().ok_or_else(out_of_order)
    }

    /// The codes of step 2.
    fn codes(&self) -> CliResult<&Codes> {
        self.codes.as_ref().ok_or_else(out_of_order)
    }

    /// Types `pin` at the door at `local`, a local time in the demo's zone,
    /// expecting the lock to open or not (see [`Door::type_at`]).
    fn type_at(&mut self, who: &str, pin: &str, local: &str, expect_open: bool) -> CliResult {
        let now = unix(&self.device, local)?;
        self.door()?.type_at(who, pin, now, expect_open)
    }

    /// Step 3: the lock is set up from the ledger's device, and the codes
    /// are typed at it over the stay, a power cut in between.
    fn at_the_door(&mut self) -> CliResult {
        self.device = self.ledger.device(DEVICE)?;
        let policy = self.device.profile()?.lockout();
        self.door = Some(Door::new(&self.device, &self.master)?);
        say!(
            "  the lock: offpin::lock::Lock<{MEMORY}>, remembers up to {MEMORY} codes; {} wrong PINs in a row lock the keypad for {}, every {} more for twice as long as before (at most {})",
            policy.failures,
            human_secs(i64::from(policy.base_secs)),
            policy.failures,
            human_secs(i64::from(policy.cap_secs))
        );
        let codes = self.codes()?;
        let ann = codes.ann.code.clone();
        let plumber = codes.plumber.code.clone();
        let cleaner = codes.cleaner.code.clone();
        self.type_at("Ann, an hour early", &ann, "2025-07-01T14:00", false)?;
        self.type_at("Ann, on arrival", &ann, "2025-07-01T16:30", true)?;
        self.type_at("plumber", &plumber, "2025-07-02T10:00", true)?;
        self.type_at("plumber, again", &plumber, "2025-07-02T10:20", false)?;
        self.type_at("cleaner", &cleaner, "2025-07-02T11:00", true)?;
        // The state survives a power cut: reload it from the flash slots.
        let door = self.door.as_mut().ok_or_else(out_of_order)?;
        door.power_cut(&self.master)?;
        say!(
            "  (the lock saved its {}-byte state and reloaded it, as after a power cut)",
            Lock::<MEMORY>::STATE_LEN
        );
        self.type_at("Ann, day 3", &ann, "2025-07-03T18:00", true)?;
        self.ben_too_late()
    }

    /// Ben types his code on day 3, never having used it in its first 24 h;
    /// his record says why the lock refuses it.
    fn ben_too_late(&mut self) -> CliResult {
        let ben = self.codes()?.ben.clone();
        self.type_at(
            "Ben, first try, day 3",
            &ben.code,
            "2025-07-03T18:05",
            false,
        )?;
        say!("    (Ben's window is longer than 24 h and he never used it in its first 24 h)");
        let ben_now = self
            .ledger
            .get(&ben.access_code_id, at(&self.device, "2025-07-03T18:05")?)?;
        if let Some(w) = ben_now.warnings.first() {
            say!("    his record, read now, says so: {}", w.message);
        }
        Ok(())
    }

    /// Step 4: the cleaner's code is deleted and its revocation PIN typed.
    fn revoke_ongoing(&mut self) -> CliResult {
        let Codes { ann, cleaner, .. } = self.codes()?;
        let (ann, cleaner) = (ann.code.clone(), cleaner.clone());
        let deleted = self.ledger.delete(
            &self.master,
            &cleaner.access_code_id,
            at(&self.device, "2025-07-03T19:00")?,
        )?;
        let revoke = deleted
            .revocation_code
            .ok_or_else(|| CliError::new("internal_error", "demo: no revocation code"))?;
        say!(
            "  deleting the cleaner's code yields the revocation PIN {revoke}; until it is typed, the record stays listed as {}; someone types it once:",
            deleted.record.status.name()
        );
        self.type_at("manager (revocation)", &revoke, "2025-07-03T19:10", false)?;
        self.type_at("Ann", &ann, "2025-07-03T19:20", true)?;
        self.type_at("cleaner", &cleaner.code, "2025-07-03T19:30", false)
    }

    /// Step 5: a stranger's guesses, 15 s apart, until the keypad locks out;
    /// Ann is refused during the lock-out and let in after it.
    fn guesses(&mut self) -> CliResult {
        let ann = self.codes()?.ann.code.clone();
        let mut now = unix(&self.device, "2025-07-03T20:00")?;
        let door = self.door()?;
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
        door.type_at("Ann, while locked out", &ann, now + 60, false)?;
        door.type_at("Ann, after the lock-out", &ann, until + 60, true)
    }

    /// Step 6: Ann's code after check-out, and her record then.
    fn after_the_stay(&mut self) -> CliResult {
        let ann = self.codes()?.ann.clone();
        self.type_at("Ann, after check-out", &ann.code, "2025-07-04T12:00", false)?;
        let ann_after = self
            .ledger
            .get(&ann.access_code_id, at(&self.device, "2025-07-04T12:00")?)?;
        say!(
            "  her record, read now: status {}; {}",
            ann_after.status.name(),
            ann_after
                .warnings
                .first()
                .map_or("", |w| w.message.as_str())
        );
        Ok(())
    }

    /// Step 7: the profile's security figures.
    fn security(&mut self) -> CliResult {
        say!("  {}", self.device.profile()?.security());
        Ok(())
    }
}

/// Prints `intro` and the ledger's refusal when `issued` is refused as
/// `expected` says; a code issued (`if_issued` says why that is wrong) or
/// another error ends the demo.
fn refused<T>(
    issued: Result<T, LedgerError>,
    expected: fn(&LedgerError) -> bool,
    intro: &str,
    if_issued: &str,
) -> CliResult {
    match issued {
        Err(e) if expected(&e) => {
            say!("  {intro}");
            say!("    {e}");
            Ok(())
        }
        Ok(_) => Err(CliError::new(
            "internal_error",
            format!("demo: {if_issued}"),
        )),
        Err(e) => Err(e.into()),
    }
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
