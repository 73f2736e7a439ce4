//! `offpin demo`: a guided run on a temporary ledger. Every step uses the
//! real pieces: a fresh random master key, the SQLite ledger, the
//! simulated lock with its saved state, on a simulated clock.

use chrono::{DateTime, Utc};
use offpin::MasterKey;
use offpin::server::chrono_time::{rfc3339_millis, to_unix};
use offpin::server::ledger::sqlite::SqliteLedger;
use offpin::server::ledger::{CodeSpec, Device, Ledger, LedgerError};
use offpin::server::record::AccessCode;

use crate::util::{CliError, CliResult, fail, parse_offset, parse_time};
use crate::verify::Sim;

const DEVICE: &str = "demo-front-door";

fn at(s: &str) -> CliResult<DateTime<Utc>> {
    Ok(parse_time(s)?)
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

/// Types `pin` at the simulated lock at local time `when` and prints what
/// happens and why; `expect_open` is what the story expects (`None`: no
/// expectation, for a random guess).
fn type_at(
    sim: &mut Sim,
    who: &str,
    pin: &str,
    when: &str,
    expect_open: impl Into<Option<bool>>,
) -> CliResult {
    let now = at(when)?;
    let outcome = sim.type_pin(pin, to_unix(&now))?;
    println!("  {when}  {who:<22} types {pin}: {}", outcome.describe());
    if expect_open.into().is_some_and(|e| e != outcome.opened) {
        return Err(CliError(format!(
            "demo: the lock did not behave as expected for {who} at {when}"
        )));
    }
    Ok(())
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
    let ann = ledger.issue(
        &master,
        &CodeSpec::time_bound(
            DEVICE,
            at("2025-07-01T15:00:00+01:00")?,
            at("2025-07-04T11:00:00+01:00")?,
        )
        .with_name("Ann (guest)")
        .with_max_rounding_secs(3_600),
        created,
    )?;
    println!("  Ann, time-bound:   {}  window {}", ann.code, window(&ann));
    if let Some(w) = ann.warnings.first() {
        println!("    warning {}: {}", w.warning_code, w.message);
    }
    let ben = ledger.issue(
        &master,
        &CodeSpec::time_bound(
            DEVICE,
            at("2025-07-01T15:00:00+01:00")?,
            at("2025-07-04T11:00:00+01:00")?,
        )
        .with_name("Ben (same dates)")
        .with_max_rounding_secs(3_600),
        created,
    )?;
    println!(
        "  Ben, same window:  {}  (variance 1: same dates, a different PIN)",
        ben.code
    );
    let _third = ledger.issue(
        &master,
        &CodeSpec::time_bound(
            DEVICE,
            at("2025-07-01T15:00:00+01:00")?,
            at("2025-07-04T11:00:00+01:00")?,
        )
        .with_max_rounding_secs(3_600),
        created,
    )?;
    match ledger.issue(
        &master,
        &CodeSpec::time_bound(
            DEVICE,
            at("2025-07-01T15:00:00+01:00")?,
            at("2025-07-04T11:00:00+01:00")?,
        )
        .with_max_rounding_secs(3_600),
        created,
    ) {
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
    let mut sim = Sim::new(&device, &master)?;
    type_at(
        &mut sim,
        "Ann, an hour early",
        &ann.code,
        "2025-07-01T14:00:00+01:00",
        false,
    )?;
    type_at(
        &mut sim,
        "Ann, on arrival",
        &ann.code,
        "2025-07-01T16:30:00+01:00",
        true,
    )?;
    type_at(
        &mut sim,
        "plumber",
        &plumber.code,
        "2025-07-02T10:00:00+01:00",
        true,
    )?;
    type_at(
        &mut sim,
        "plumber, again",
        &plumber.code,
        "2025-07-02T10:20:00+01:00",
        false,
    )?;
    type_at(
        &mut sim,
        "cleaner",
        &cleaner.code,
        "2025-07-02T11:00:00+01:00",
        true,
    )?;
    // The state survives a power cut: save it, load it back.
    let saved = sim.save()?;
    let mut sim = Sim::load(&device, &master, &saved)?;
    println!(
        "  (the lock saved its {}-byte state and reloaded it, as after a power cut)",
        saved.len()
    );
    type_at(
        &mut sim,
        "Ann, day 3",
        &ann.code,
        "2025-07-03T18:00:00+01:00",
        true,
    )?;
    type_at(
        &mut sim,
        "Ben, first try, day 3",
        &ben.code,
        "2025-07-03T18:05:00+01:00",
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
    type_at(
        &mut sim,
        "manager (revocation)",
        &revoke,
        "2025-07-03T19:10:00+01:00",
        false,
    )?;
    type_at(
        &mut sim,
        "Ann",
        &ann.code,
        "2025-07-03T19:20:00+01:00",
        true,
    )?;
    type_at(
        &mut sim,
        "cleaner",
        &cleaner.code,
        "2025-07-03T19:30:00+01:00",
        false,
    )?;

    step("5. After the stay");
    type_at(
        &mut sim,
        "Ann, after check-out",
        &ann.code,
        "2025-07-04T12:00:00+01:00",
        false,
    )?;
    type_at(
        &mut sim,
        "a guess",
        "1234567890",
        "2025-07-04T12:05:00+01:00",
        false,
    )?;

    step("6. The security of this lock");
    let profile = device.profile()?;
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
