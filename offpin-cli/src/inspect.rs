//! `offpin inspect`: decode a PIN with the device key and explain it.

use std::path::Path;

use chrono::{DateTime, Utc};
use clap::Args;
use offpin::server::chrono_time::{to_unix, unix_rfc3339};
use offpin::server::ledger::ListFilter;
use offpin::{DecodeError, Grant, Remember, RevokeTarget, Verdict};

use crate::util::{CliError, CliResult, human_secs, open_ledger, parse_time};
use crate::{at_or_now, keyfile};

/// Arguments of `offpin inspect`.
#[derive(Debug, Args)]
#[command(after_help = "\
Decodes the PIN with the device's key and says what it is (kind, window,
variance), which issued code it is, and whether the lock would accept it at
--at (default: now) judging by the window alone. The lock's memory (used
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
    #[arg(long, value_parser = parse_time)]
    at: Option<DateTime<Utc>>,
}

/// Runs `offpin inspect`.
pub fn run(ledger_path: &Path, key_path: &Path, args: &InspectArgs) -> CliResult {
    let master = keyfile::load(key_path)?;
    let mut ledger = open_ledger(ledger_path)?;
    let device = ledger.device(&args.device_id)?;
    let codec = device.codec(&master)?;
    let profile = *codec.profile();
    let now = at_or_now(args.at);
    let t = to_unix(&now);
    println!(
        "device:    {} (profile {}, UTC offset {}, key generation {})",
        device.device_id, device.profile, device.utc_offset, device.generation
    );
    println!("PIN:       {}", args.pin);
    let grant = match codec.decode_input(args.pin.trim().as_bytes()) {
        Ok(g) => g,
        Err(DecodeError::NotAGrant) => {
            println!(
                "result:    not a code of this device: a typo, a PIN for another lock or key generation, or a guess"
            );
            return Ok(());
        }
        Err(e) => return Err(CliError(format!("--pin: {e}"))),
    };
    let offset = device.utc_offset;
    let fmt = unix_rfc3339;
    println!("grant:     {grant}");
    let v = profile.params().variances;
    match grant {
        Grant::Hourly(s) | Grant::Daily(s) => {
            let unit = if matches!(grant, Grant::Hourly(_)) {
                "hourly"
            } else {
                "daily, at the lock's local midnights"
            };
            println!("kind:      time-bound ({unit})");
            println!("variance:  {} of 0..{v}", s.variance);
            if s.lineage != 0 {
                println!("lineage:   {}", s.lineage);
            }
        }
        Grant::OneTime { variance, .. } => {
            println!(
                "kind:      one-time (opens once, first use within {} of its start)",
                human_secs(profile.one_time_use_secs())
            );
            println!("variance:  {variance} of 0..{v}");
        }
        Grant::Ongoing { slot } => {
            println!("kind:      ongoing (valid until its slot is revoked)");
            println!("slot:      {slot}");
        }
        Grant::Revoke(RevokeTarget::Slot(slot)) => {
            println!("kind:      revocation: typing it revokes ongoing slot {slot} for good");
        }
        Grant::Revoke(RevokeTarget::StartedBefore { .. }) => {
            println!(
                "kind:      revocation: typing it revokes every time-bound and one-time code that started before its hour"
            );
        }
    }
    if let Some(w) = grant.window(&profile, offset) {
        println!(
            "window:    {} .. {} ({})",
            fmt(w.start),
            fmt(w.end),
            human_secs(w.len_secs())
        );
        if w.len_secs() > profile.activation_secs() && !matches!(grant, Grant::OneTime { .. }) {
            println!(
                "activation: must be used first by {} ({} after its start)",
                fmt(w.start + profile.activation_secs()),
                human_secs(profile.activation_secs())
            );
        }
    }
    // Which issued code is it?
    let issued = ledger
        .find(&ListFilter::device(&device.device_id))?
        .into_iter()
        .find(|e| e.record.code == args.pin.trim());
    match issued {
        Some(e) => println!(
            "issued as: access code {}{}, created {}",
            e.record.access_code_id,
            e.record
                .name
                .as_deref()
                .map(|n| format!(" \"{n}\""))
                .unwrap_or_default(),
            offpin::server::chrono_time::rfc3339_millis(&e.record.created_at)
        ),
        None => println!("issued as: no live code of the ledger (deleted, or issued elsewhere)"),
    }
    let g = profile.grace_secs();
    let verdict = profile.check(&grant, t, offset);
    let at = offpin::server::chrono_time::rfc3339_millis(&now);
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
        Verdict::Refuse(r) => {
            let detail = match grant.window(&profile, offset) {
                Some(w) if t < w.start - g => format!(" (starts in {})", human_secs(w.start - t)),
                Some(w) if t >= w.end + g => format!(" (ended {} ago)", human_secs(t - w.end)),
                _ => String::new(),
            };
            format!("refused: {r}{detail}")
        }
    };
    println!("at {at}: {why}");
    Ok(())
}
