//! `offpin inspect`: decode a PIN with the device key and explain it.

use chrono::{DateTime, Utc};
use clap::Args;
use offpin::grant::Recurrence;
use offpin::{DecodeError, Grant, Profile, Remember, RevokeTarget, TzRule, UnixSeconds, Verdict};
use offpin_ledger::chrono_time::to_unix;
use offpin_ledger::ledger::{Device, Ledger, ListFilter};
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
    let zone = device.zone()?;
    let now = args.at.unwrap_or_else(Utc::now);
    // Check the PIN before printing anything: an error is one line.
    let decoded = match codec.decode_input(args.pin.trim().as_bytes()) {
        Ok(g) => Some(g),
        Err(DecodeError::NotAGrant) => None,
        Err(e) => return Err(CliError::input(format!("--pin: {e}"))),
    };
    say_device(&device)?;
    say!("PIN:       {}", args.pin);
    let Some(grant) = decoded else {
        say!(
            "result:    not a code of this device: a typo, a PIN for another lock or key generation, or a guess"
        );
        return Ok(());
    };
    let explain = Explain {
        grant,
        profile: *codec.profile(),
        offset: device.lock_rule()?,
        clock: Clock {
            utc_offset: device.utc_offset,
            zone: zone.as_ref(),
        },
    };
    say!("grant:     {grant}");
    explain.say_kind()?;
    explain.say_window()?;
    say_issued(ledger.as_mut(), &device.device_id, args.pin.trim(), now)?;
    let t = to_unix(&now);
    say!("at {}: {}", explain.time(t), explain.verdict(t));
    Ok(())
}

/// The device line: its id, profile, lock clock, zone and key generation.
fn say_device(device: &Device) -> CliResult {
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
    Ok(())
}

/// The issued code whose PIN is `pin` on `device_id`, with its record at
/// `now` (name, creation, status, warnings and errors), or that the ledger
/// has none.
fn say_issued(
    ledger: &mut (impl Ledger + ?Sized),
    device_id: &str,
    pin: &str,
    now: DateTime<Utc>,
) -> CliResult {
    let issued = ledger
        .list(&ListFilter::device(device_id), now)?
        .into_iter()
        .find(|r| r.code == pin);
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
    Ok(())
}

/// A decoded grant, with what explaining it needs: the device's profile,
/// the lock's local-time rule, and the clock that shows times in local
/// time then UTC.
struct Explain<'a> {
    grant: Grant,
    profile: Profile,
    offset: TzRule,
    clock: Clock<'a>,
}

impl Explain<'_> {
    /// `t` in the device's local time, then UTC.
    fn time(&self, t: UnixSeconds) -> String {
        self.clock.local_and_utc(t)
    }

    /// The kind of the grant, and its variance, lineage or slot.
    fn say_kind(&self) -> CliResult {
        let profile = &self.profile;
        let v = profile.params().variances;
        match self.grant {
            Grant::Hourly(s) | Grant::Daily(s) => {
                let unit = if matches!(self.grant, Grant::Hourly(_)) {
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
            Grant::Revoke(target) => say_revocation(target)?,
            Grant::Recurring(r) => self.say_recurring(r)?,
            Grant::ClockSet { at } => {
                say!(
                    "kind:      clock-setting: moves the lock's clock forward to {} (at most {} ahead; never back)",
                    self.time(profile.clock_instant(at)),
                    human_secs(profile.params().clock_codes.max_step_secs())
                );
            }
        }
        Ok(())
    }

    /// A recurring grant's schedule, from the profile's menu, and variance.
    fn say_recurring(&self, r: Recurrence) -> CliResult {
        let menu = self.profile.params().recurring;
        let days = menu.days.get(usize::from(r.days));
        let hours = menu.hours.get(usize::from(r.hours));
        match (days, hours) {
            (Some(d), Some(h)) => say!(
                "kind:      recurring: {d}, {h} local time, for {} weeks (no activation)",
                r.weeks
            ),
            _ => say!("kind:      recurring (not in this profile's menu)"),
        }
        say!(
            "variance:  {} of 0..{}",
            r.variance,
            self.profile.params().variances
        );
        Ok(())
    }

    /// The grant's window, if it has one, and its activation deadline when
    /// the window is longer than the activation window (one-time codes
    /// aside).
    fn say_window(&self) -> CliResult {
        let profile = &self.profile;
        let Some(w) = self.grant.window(profile, self.offset) else {
            return Ok(());
        };
        say!(
            "window:    {} .. {} ({})",
            self.time(w.start),
            self.time(w.end),
            human_secs(w.len_secs())
        );
        if w.len_secs() > profile.activation_secs() && !matches!(self.grant, Grant::OneTime { .. })
        {
            say!(
                "activation: must be used first by {} ({} after its start)",
                self.time(w.start + profile.activation_secs()),
                human_secs(profile.activation_secs())
            );
        }
        Ok(())
    }

    /// What the lock would do at `t`, judging by the window alone.
    fn verdict(&self, t: UnixSeconds) -> String {
        match self.profile.check(&self.grant, t, self.offset) {
            Verdict::Open(Remember::Nothing) => "valid: opens".to_owned(),
            Verdict::Open(Remember::Activated { until }) => format!(
                "valid: opens, and the lock then remembers it as activated until {}",
                self.time(until)
            ),
            Verdict::Open(Remember::Used { until }) => format!(
                "valid: opens once, unless already used (the lock remembers uses until {})",
                self.time(until)
            ),
            Verdict::OpenIfActivated { until } => format!(
                "opens only if it was already used within its activation window (then until {})",
                self.time(until)
            ),
            Verdict::Revoke(_) => "valid: applies the revocation (does not open)".to_owned(),
            Verdict::SetClock { to } => format!(
                "valid: moves the lock's clock forward to {} (does not open)",
                self.time(to)
            ),
            Verdict::Refuse(r) => format!("refused: {r}{}", self.how_far(t)),
        }
    }

    /// How far `t` is from the grant's window, beyond the clock grace:
    /// ` (starts in …)` or ` (ended … ago)`; empty inside it or without
    /// a window.
    fn how_far(&self, t: UnixSeconds) -> String {
        let g = self.profile.grace_secs();
        match self.grant.window(&self.profile, self.offset) {
            Some(w) if t < w.start - g => format!(" (starts in {})", human_secs(w.start - t)),
            Some(w) if t >= w.end + g => format!(" (ended {} ago)", human_secs(t - w.end)),
            _ => String::new(),
        }
    }
}

/// The kind line of a revocation code.
fn say_revocation(target: RevokeTarget) -> CliResult {
    match target {
        RevokeTarget::Slot(slot) => {
            say!("kind:      revocation: typing it revokes ongoing slot {slot} for good");
        }
        RevokeTarget::StartedBefore { .. } => {
            say!(
                "kind:      revocation: typing it revokes every time-bound and one-time code that started before its hour"
            );
        }
    }
    Ok(())
}
