//! The engine end to end: a server derives a device key, issues codes of
//! every kind for one lock, and the lock decodes and checks them at chosen
//! instants. Run with `cargo run --example demo`.

use offpin::profile::shipped::{ALL, STANDARD_10};
use offpin::{Codec, Issued, MasterKey, Request, UtcOffset, Verdict};

const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

fn describe(v: &Verdict) -> String {
    match v {
        Verdict::Open(r) => format!("OPEN (lock remembers: {r:?})"),
        Verdict::OpenIfActivated { .. } => "open only if the lock remembers it as activated".into(),
        Verdict::Revoke(t) => format!("REVOCATION applied: {t:?}"),
        Verdict::SetClock { to } => format!("CLOCK set forward to {to}"),
        Verdict::Refuse(r) => format!("refused: {r}"),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Server side: one master key; each lock gets its own derived key.
    let master = MasterKey::from_bytes(*b"offpin demo master key, 32 bytes");
    let device_id = "11111111-1111-1111-1111-444444444444";
    let key = master.derive_device_key(device_id.as_bytes(), 0)?;
    let profile = STANDARD_10;
    let codec = Codec::new(&key, profile)?;
    let offset: UtcOffset = "+01:00".parse()?; // the lock is in UTC+01:00

    let t0 = profile.epoch() + 700 * DAY; // 2025-12-01T00:00:00Z
    println!(
        "profile {}: {} digits, {} grants in {} PINs",
        profile.name(),
        profile.digits(),
        profile.grant_count(),
        profile.domain()
    );
    println!("device {device_id}, key {key:?}\n");
    let issued = issue(&codec, &requests(t0, offset))?;

    println!("\nLock side: decode the typed digits, check against the clock.");
    check(&codec, &issued, t0, offset)?;

    println!("\nSecurity figures (one key per lock):");
    for p in ALL {
        let s = p.security();
        println!("  {:<12} {s}", p.name());
    }
    Ok(())
}

/// What the server is asked for, from `t0` on: a code of every kind, each
/// with what it is for.
fn requests(t0: i64, offset: UtcOffset) -> [(&'static str, Request); 6] {
    [
        (
            "weekend stay, Fri 15:20 -> Sun 11:00 (rounded out to the hour)",
            Request::time_bound(t0 + 4 * DAY + 15 * HOUR + 1_200, t0 + 6 * DAY + 11 * HOUR)
                .with_max_rounding_secs(3_600),
        ),
        (
            "same weekend, second guest (variance 1)",
            Request::time_bound(t0 + 4 * DAY + 15 * HOUR, t0 + 6 * DAY + 11 * HOUR)
                .with_variance(1),
        ),
        (
            "two-month lease, daily in local time",
            Request::time_bound(t0, t0 + 61 * DAY)
                .with_utc_offset(offset)
                .with_max_rounding_secs(86_400),
        ),
        (
            "one-time code for the plumber",
            Request::one_time(t0 + 2 * DAY + 8 * HOUR),
        ),
        ("cleaner, ongoing slot 3", Request::ongoing(3)),
        ("revoke the cleaner's slot 3", Request::revoke_slot(3)),
    ]
}

/// Server side: issues each request and prints its PIN, grant and window
/// (and how far the window was rounded out).
fn issue(
    codec: &Codec,
    requests: &[(&'static str, Request)],
) -> Result<Vec<Issued>, Box<dyn std::error::Error>> {
    let mut issued = Vec::new();
    for (what, req) in requests {
        let out = codec.issue(req)?;
        let window = match out.plan.window {
            Some(w) => format!("[{}, {})", w.start, w.end),
            None => "no window".into(),
        };
        println!(
            "{:<62} PIN {}  {} {}",
            what, out.pin, out.plan.grant, window
        );
        if out.plan.was_rounded() {
            println!(
                "{:<62}      rounded: start {} s earlier, end {} s later",
                "", out.plan.start_rounded_secs, out.plan.end_rounded_secs
            );
        }
        issued.push(out);
    }
    Ok(issued)
}

/// Lock side: the issued PINs typed at chosen instants (each check names
/// a code by its place in `issued`), then a random guess.
fn check(
    codec: &Codec,
    issued: &[Issued],
    t0: i64,
    offset: UtcOffset,
) -> Result<(), Box<dyn std::error::Error>> {
    let profile = codec.profile();
    let checks = [
        (0usize, t0 + 4 * DAY + 15 * HOUR + 5, "Friday 15:00:05"),
        (0, t0 + 3 * DAY, "the day before"),
        (0, t0 + 6 * DAY + 12 * HOUR, "Sunday 12:00, after check-out"),
        (2, t0 + 5 * HOUR, "lease, first morning"),
        (
            2,
            t0 + 10 * DAY,
            "lease, day 10 (past activation: needs memory)",
        ),
        (3, t0 + 2 * DAY + 9 * HOUR, "plumber at 09:00"),
        (3, t0 + 4 * DAY, "plumber two days later"),
        (4, t0 + 100 * DAY, "cleaner any day"),
        (5, t0 + 100 * DAY, "revocation code typed"),
    ];
    for (i, now, when) in checks {
        let Some(out) = issued.get(i) else {
            continue;
        };
        let grant = codec.decode(&out.pin)?;
        let verdict = profile.check(&grant, now, offset);
        println!(
            "  {when:<48} {:<12} -> {}",
            out.pin.as_str(),
            describe(&verdict)
        );
    }
    let wrong = "0123456789";
    match codec.decode_input(wrong.as_bytes()) {
        Ok(g) => println!(
            "  a random guess {wrong} decodes to {g} -> {}",
            describe(&profile.check(&g, t0, offset))
        ),
        Err(e) => println!("  a random guess {wrong}: {e}"),
    }
    Ok(())
}
