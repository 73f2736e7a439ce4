//! `offpin inspect`: decode a PIN with the device key and explain it.

use chrono::{DateTime, Utc};
use clap::Args;
use offpin::{DecodeError, Grant, Remember, RevokeTarget, Verdict};
use offpin_ledger::chrono_time::to_unix;
use offpin_ledger::ledger::ListFilter;
use offpin_ledger::zone::Clock;

use crate::Globals;
use crate::args::{human_secs, instant};
use crate::output::{CliError, CliResult, say};
use crate::{keyfile, ledger_file};

/// Arguments of `offpin inspect`.
#[derive(Debug, Args)]
#[command(after_help = "\
Decodes the PIN with the device's key and says what it is (kind, window,
variance), which issued code it is, and whether the lock would accept it at
--at (default: now) judging by the window alone. Times are shown in the
device's local time, then UTC. The lock's memory (used
one-time codes, activations, revocations, lock-out) is not known here:
`offpin verify` keeps it.")]
pub struct InspectArgs {
    /// The device the PIN was typed at.
    #[arg(long)]
    device_id: String,
    /// The PIN as typed.
    #[arg(long)]
    pin: String,
    /// The time to judge validity at (RFC 3339; default: now).
    #[arg(long, value_parser = instant)]
    at: Option<DateTime<Utc>>,
}

/// Runs `offpin inspect`.
pub fn run(g: &Globals, args: &InspectArgs) -> CliResult {
    let master = keyfile::load(&g.master_key)?;
    let mut ledger = ledger_file::read(&g.ledger)?;
    ledger.verify_master_key(&master)?;
    let device = ledger.device(&args.device_id)?;
    let codec = device.codec(&master)?;
    let profile = *codec.profile();
    let zone = device.zone()?;
    let clock = Clock {
        utc_offset: device.utc_offset,
        zone: zone.as_ref(),
    };
    let now = args.at.unwrap_or_else(Utc::now);
    let t = to_unix(&now);
    // Check the PIN before printing anything: an error is one line.
    let decoded = match codec.decode_input(args.pin.trim().as_bytes()) {
        Ok(g) => Some(g),
        Err(DecodeError::NotAGrant) => None,
        Err(e) => return Err(CliError::input(format!("--pin: {e}"))),
    };
    say!(
        "device:    {} (profile {}, lock clock at UTC{}{}, key generation {})",
        device.device_id,
        device.profile,
        device.utc_offset,
        device
            .time_zone
            .as_deref()
            .map(|z| format!(", time zone {z}"))
            .unwrap_or_default(),
        device.generation
    );
    say!("PIN:       {}", args.pin);
    let Some(grant) = decoded else {
        say!(
            "result:    not a code of this device: a typo, a PIN for another lock or key generation, or a guess"
        );
        return Ok(());
    };

    let offset = device.lock_rule()?;
    let fmt = |t| clock.local_and_utc(t);
    say!("grant:     {grant}");
    let v = profile.params().variances;
    match grant {
        Grant::Hourly(s) | Grant::Daily(s) => {
            let unit = if matches!(grant, Grant::Hourly(_)) {
                "hourly"
            } else {
                "daily, at the lock's local midnights"
            };
            say!("kind:      time-bound ({unit})");
            say!("variance:  {} of 0..{v}", s.variance);
            if s.lineage != 0 {
                say!("lineage:   {}", s.lineage);
            }
        }
        Grant::OneTime { variance, .. } => {
            say!(
                "kind:      one-time (opens once, first use within {} of its start)",
                human_secs(profile.one_time_use_secs())
            );
            say!("variance:  {variance} of 0..{v}");
        }
        Grant::Ongoing { slot } => {
            say!("kind:      ongoing (valid until its slot is revoked)");
            say!("slot:      {slot}");
        }
        Grant::Revoke(RevokeTarget::Slot(slot)) => {
            say!("kind:      revocation: typing it revokes ongoing slot {slot} for good");
        }
        Grant::Revoke(RevokeTarget::StartedBefore { .. }) => {
            say!(
                "kind:      revocation: typing it revokes every time-bound and one-time code that started before its hour"
            );
        }
        Grant::Recurring(r) => {
            let menu = profile.params().recurring;
            let days = menu.days.get(usize::from(r.days));
            let hours = menu.hours.get(usize::from(r.hours));
            match (days, hours) {
                (Some(d), Some(h)) => say!(
                    "kind:      recurring: {d}, {h} local time, for {} weeks (no activation)",
                    r.weeks
                ),
                _ => say!("kind:      recurring (not in this profile's menu)"),
            }
            say!("variance:  {} of 0..{v}", r.variance);
        }
        Grant::ClockSet { at } => {
            say!(
                "kind:      clock-setting: moves the lock's clock forward to {} (at most {} ahead; never back)",
                fmt(profile.clock_instant(at)),
                human_secs(profile.params().clock_codes.max_step_secs())
            );
        }
    }
    if let Some(w) = grant.window(&profile, offset) {
        say!(
            "window:    {} .. {} ({})",
            fmt(w.start),
            fmt(w.end),
            human_secs(w.len_secs())
        );
        if w.len_secs() > profile.activation_secs() && !matches!(grant, Grant::OneTime { .. }) {
            say!(
                "activation: must be used first by {} ({} after its start)",
                fmt(w.start + profile.activation_secs()),
                human_secs(profile.activation_secs())
            );
        }
    }
    // Which issued code is it?
    let issued = ledger
        .list(&ListFilter::device(&device.device_id), now)?
        .into_iter()
        .find(|r| r.code == args.pin.trim());
    match issued {
        Some(r) => say!(
            "issued as: access code {}{}, created {}, status {}{}",
            r.access_code_id,
            r.name
                .as_deref()
                .map(|n| format!(" \"{n}\""))
                .unwrap_or_default(),
            offpin_ledger::chrono_time::rfc3339_millis(&r.created_at),
            r.status.name(),
            r.warnings
                .iter()
                .map(|w| format!("; {}", w.message))
                .chain(r.errors.iter().map(|e| format!("; {}", e.message)))
                .collect::<String>()
        ),
        None => say!("issued as: no code of the ledger (issued elsewhere)"),
    }
    let g = profile.grace_secs();
    let verdict = profile.check(&grant, t, offset);
    let at = fmt(t);
    let why = match verdict {
        Verdict::Open(Remember::Nothing) => "valid: opens".to_owned(),
        Verdict::Open(Remember::Activated { until }) => format!(
            "valid: opens, and the lock then remembers it as activated until {}",
            fmt(until)
        ),
        Verdict::Open(Remember::Used { until }) => format!(
            "valid: opens once, unless already used (the lock remembers uses until {})",
            fmt(until)
        ),
        Verdict::OpenIfActivated { until } => format!(
            "opens only if it was already used within its activation window (then until {})",
            fmt(until)
        ),
        Verdict::Revoke(_) => "valid: applies the revocation (does not open)".to_owned(),
        Verdict::SetClock { to } => format!(
            "valid: moves the lock's clock forward to {} (does not open)",
            fmt(to)
        ),
        Verdict::Refuse(r) => {
            let detail = match grant.window(&profile, offset) {
                Some(w) if t < w.start - g => format!(" (starts in {})", human_secs(w.start - t)),
                Some(w) if t >= w.end + g => format!(" (ended {} ago)", human_secs(t - w.end)),
                _ => String::new(),
            };
            format!("refused: {r}{detail}")
        }
    };
    say!("at {at}: {why}");
    Ok(())
}
