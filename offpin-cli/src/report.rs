//! `offpin report`: the security table of the shipped profiles.

use offpin::Profile;
use offpin::profile::shipped;
use offpin::server::ledger::LedgerError;

use crate::output::{CliResult, say};

/// Tuya's BLE offline PINs, for reference: radix 10, 10 digits, decimal
/// fields (type digit + 5 digits of start hour + 4 digits of duration), so
/// with 24 h activation every 4-digit duration of the 24 start hours that
/// can still activate is acceptable at once: W ≈ 24 × 10 000.
const TUYA_W: u64 = 240_000;
const TUYA_DOMAIN: u64 = 10_000_000_000;

fn sci(x: f64) -> String {
    if x == 0.0 {
        "0".to_owned()
    } else {
        format!("{x:.2e}")
    }
}

fn row(p: &Profile) -> String {
    let s = p.security();
    let k = s.max_by_kind;
    format!(
        "{:<12} {:>6} {:>9} {:>8} {:>8} {:>8} {:>8} {:>6} {:>8} {:>10} {:>7} {:>10}",
        p.name(),
        p.digits(),
        sci(s.domain as f64),
        k.hourly,
        k.daily,
        k.one_time,
        k.ongoing,
        s.remembered,
        s.w_max,
        sci(s.per_attempt()),
        s.attempts_per_day,
        sci(s.per_year()),
    )
}

/// Runs `offpin report`.
pub fn run(profile: Option<&str>) -> CliResult {
    let profiles: Vec<Profile> = match profile {
        Some(name) => vec![
            shipped::by_name(name).ok_or_else(|| LedgerError::UnknownProfile {
                name: name.to_owned(),
            })?,
        ],
        None => shipped::ALL.to_vec(),
    };
    say!(
        "Security of one random PIN attempt (W = acceptable indices at the worst instant, one key):"
    );
    say!("");
    say!(
        "{:<12} {:>6} {:>9} {:>8} {:>8} {:>8} {:>8} {:>6} {:>8} {:>10} {:>7} {:>10}",
        "profile",
        "digits",
        "PINs",
        "W hourly",
        "W daily",
        "W 1-time",
        "W ongo.",
        "remem.",
        "W_max",
        "p/attempt",
        "tries/d",
        "p/year"
    );
    for p in &profiles {
        say!("{}", row(p));
    }
    say!(
        "{:<12} {:>6} {:>9} {:>8} {:>8} {:>8} {:>8} {:>6} {:>8} {:>10} {:>7} {:>10}",
        "tuya (ref.)",
        10,
        sci(TUYA_DOMAIN as f64),
        "-",
        "-",
        "-",
        "-",
        "-",
        TUYA_W,
        sci(TUYA_W as f64 / TUYA_DOMAIN as f64),
        "-",
        "-"
    );
    say!("");
    say!("W_max includes the codes the lock remembers as activated (remem.); p/year assumes the");
    say!("keypad lock-out is reset once a day, 365 days a year (union bound).");
    say!("Tuya reference: 24 start hours x 10 000 decimal durations, 48-bit key entropy.");
    Ok(())
}
