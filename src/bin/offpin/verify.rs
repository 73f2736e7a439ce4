//! `offpin verify`: simulate the lock. The lock's state lives in a file per
//! device (beside the ledger by default), so successive runs see used
//! one-time codes, activations and revocations, as a real lock would.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use clap::Args;
use offpin::server::chrono_time::{to_unix, unix_rfc3339};
use offpin::server::ledger::{Device, Ledger};
use offpin::{Codec, Grant, MasterKey, Refusal, Remember, RevokeTarget, UtcOffset, Verdict};

use crate::util::{CliError, CliResult, fail, open_ledger, parse_time, state_path};
use crate::{at_or_now, keyfile};

/// Arguments of `offpin verify`.
#[derive(Debug, Args)]
#[command(after_help = "\
Types the PIN at a simulated lock at --at (default: now) and prints the
decision and its reason. The lock's memory (used one-time codes, activated
codes, revocations, the latest time it has seen) is read from and saved to
--state (default: <ledger>.lock-<device>.state), so a one-time code opens only
once across runs. Delete the state file to reset the simulated lock.")]
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

/// What one PIN entry did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Whether the door opened.
    pub opened: bool,
    /// `open`, `refused` or `revocation`.
    pub decision: &'static str,
    /// Why.
    pub reason: String,
}

impl Outcome {
    /// `opens (...)` / `refused: ...` / `revocation: ...`.
    pub fn describe(&self) -> String {
        match self.decision {
            "open" => format!("opens ({})", self.reason),
            d => format!("{d}: {}", self.reason),
        }
    }
}

/// One remembered code.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Remembered {
    pin: String,
    until: i64,
}

/// The simulated lock's memory.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
struct SimState {
    used: Vec<Remembered>,
    activated: Vec<Remembered>,
    revoked_slots: Vec<u32>,
    revoked_before: Option<i64>,
    last_seen: i64,
}

/// A simulated lock: the device's codec, its UTC offset and its memory.
pub struct Sim {
    codec: Codec,
    offset: UtcOffset,
    state: SimState,
}

impl Sim {
    /// A factory-fresh lock for `device`.
    pub fn new(device: &Device, master: &MasterKey) -> CliResult<Sim> {
        Ok(Sim {
            codec: device.codec(master)?,
            offset: device.utc_offset,
            state: SimState::default(),
        })
    }

    /// A lock with a saved state.
    pub fn load(device: &Device, master: &MasterKey, bytes: &[u8]) -> CliResult<Sim> {
        let state: SimState =
            serde_json::from_slice(bytes).map_err(|e| fail("lock state is corrupted", e))?;
        Ok(Sim {
            codec: device.codec(master)?,
            offset: device.utc_offset,
            state,
        })
    }

    /// The state to persist.
    pub fn save(&self) -> CliResult<Vec<u8>> {
        serde_json::to_vec(&self.state).map_err(|e| fail("lock state", e))
    }

    /// Types `pin` at Unix time `now`: decides, then remembers what the
    /// decision requires.
    pub fn type_pin(&mut self, pin: &str, now: i64) -> CliResult<Outcome> {
        let profile = *self.codec.profile();
        let st = &mut self.state;
        st.used.retain(|r| r.until > now);
        st.activated.retain(|r| r.until > now);
        st.last_seen = st.last_seen.max(now);
        let refuse = |r: Refusal| Outcome {
            opened: false,
            decision: "refused",
            reason: r.to_string(),
        };
        let Ok(grant) = self.codec.decode_input(pin.trim().as_bytes()) else {
            return Ok(refuse(Refusal::InvalidCode));
        };
        let revoked = match grant {
            Grant::Ongoing { slot } => st.revoked_slots.contains(&slot),
            _ => match (grant.starts_at(&profile, self.offset), st.revoked_before) {
                (Some(start), Some(before)) => start < before,
                _ => false,
            },
        };
        if revoked {
            return Ok(refuse(Refusal::Revoked));
        }
        let open = |reason: String| Outcome {
            opened: true,
            decision: "open",
            reason,
        };
        Ok(match profile.check(&grant, now, self.offset) {
            Verdict::Open(Remember::Nothing) => open(format!("{grant}")),
            Verdict::Open(Remember::Activated { until }) => {
                if !st.activated.iter().any(|r| r.pin == pin) {
                    st.activated.push(Remembered {
                        pin: pin.to_owned(),
                        until,
                    });
                }
                open(format!(
                    "{grant}; remembered as activated until {}",
                    unix_rfc3339(until)
                ))
            }
            Verdict::Open(Remember::Used { until }) => {
                if st.used.iter().any(|r| r.pin == pin) {
                    refuse(Refusal::AlreadyUsed)
                } else {
                    st.used.push(Remembered {
                        pin: pin.to_owned(),
                        until,
                    });
                    open(format!("{grant}; now used up"))
                }
            }
            Verdict::OpenIfActivated { .. } => {
                if st.activated.iter().any(|r| r.pin == pin) {
                    open(format!("{grant}; activated earlier"))
                } else {
                    refuse(Refusal::NotActivated)
                }
            }
            Verdict::Revoke(RevokeTarget::Slot(slot)) => {
                if !st.revoked_slots.contains(&slot) {
                    st.revoked_slots.push(slot);
                }
                Outcome {
                    opened: false,
                    decision: "revocation",
                    reason: format!("ongoing slot {slot} is revoked for good"),
                }
            }
            Verdict::Revoke(RevokeTarget::StartedBefore { hour }) => {
                let at = profile.epoch() + i64::from(hour) * 3_600;
                st.revoked_before = Some(st.revoked_before.unwrap_or(at).max(at));
                Outcome {
                    opened: false,
                    decision: "revocation",
                    reason: format!(
                        "every code that started before {} is revoked",
                        unix_rfc3339(at)
                    ),
                }
            }
            Verdict::Refuse(r) => refuse(r),
        })
    }
}

/// Runs `offpin verify`.
pub fn run(ledger_path: &Path, key_path: &Path, args: &VerifyArgs) -> CliResult {
    let master = keyfile::load(key_path)?;
    let mut ledger = open_ledger(ledger_path)?;
    let device = ledger.device(&args.device_id)?;
    let path = args
        .state
        .clone()
        .unwrap_or_else(|| state_path(ledger_path, &device.device_id));
    let mut sim = match std::fs::read(&path) {
        Ok(bytes) => Sim::load(&device, &master, &bytes)
            .map_err(|e| CliError(format!("{}: {e}", path.display())))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Sim::new(&device, &master)?,
        Err(e) => return Err(fail(&format!("cannot read {}", path.display()), e)),
    };
    let now = at_or_now(args.at);
    let outcome = sim.type_pin(&args.pin, to_unix(&now))?;
    // Persist first, then report (a lock persists before it actuates).
    let bytes = sim.save()?;
    let tmp = path.with_extension("state.tmp");
    std::fs::write(&tmp, &bytes)
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| fail(&format!("cannot save {}", path.display()), e))?;
    println!("decision: {}", outcome.decision);
    println!("reason:   {}", outcome.reason);
    println!(
        "at:       {}",
        offpin::server::chrono_time::rfc3339_millis(&now)
    );
    Ok(())
}
