//! `offpin service-code`: a device's rolling service codes (RFC 6238) as
//! an `otpauth://totp/` key URI and a QR code, for an authenticator app.

use chrono::{DateTime, Utc};
use clap::Args;
use offpin_ledger::chrono_time::to_unix;
use offpin_ledger::service::{code_at, otpauth_uri};
use qrcode::QrCode;
use qrcode::render::unicode::Dense1x2;

use crate::Globals;
use crate::args::instant;
use crate::output::{CliError, CliResult, fail, say};
use crate::{keyfile, ledger_file};

/// Arguments of `offpin service-code`.
#[derive(Debug, Args)]
#[command(after_help = "\
Prints the device's otpauth://totp/ key URI and its QR code: scanned into
any authenticator app, it shows the codes the lock accepts as full access
(each once, within one step of the lock's clock), so the owner or a
technician can open the lock when no server is reachable. The URI holds
the device's service secret: show it only to whom may open the lock.
Re-keying the device (device update --generation) changes the secret.")]
pub struct ServiceCodeArgs {
    /// The device.
    #[arg(long)]
    device_id: String,
    /// Also print the code the lock accepts at this time (RFC 3339).
    #[arg(long, value_parser = instant)]
    at: Option<DateTime<Utc>>,
    /// Print the URI only, without the QR code.
    #[arg(long)]
    no_qr: bool,
}

/// Runs `offpin service-code`.
pub fn run(g: &Globals, args: &ServiceCodeArgs) -> CliResult {
    let master = keyfile::load(&g.master_key)?;
    let mut ledger = ledger_file::read(&g.ledger)?;
    ledger.verify_master_key(&master)?;
    let device = ledger.device(&args.device_id)?;
    let profile = device.profile()?;
    let codes = profile.params().service_codes;
    if !codes.is_enabled() {
        return Err(CliError::new(
            "no_service_codes",
            format!(
                "profile {} has no service codes (a format-v2 profile such as standard-10-v2 has them)",
                profile.name()
            ),
        ));
    }
    let secret = device.service_secret(&master)?;
    let uri = otpauth_uri(&secret, codes, "offpin", &device.device_id)
        .ok_or_else(|| CliError::new("no_service_codes", "no service codes"))?;
    say!("{uri}");
    if !args.no_qr {
        let qr = QrCode::new(uri.as_bytes()).map_err(|e| fail("qr_code", "QR code", e))?;
        let art = qr.render::<Dense1x2>().quiet_zone(true).build();
        say!("{art}");
    }
    say!(
        "{} digits, a new code every {} s, accepted within {} step(s) of the lock's clock, each once",
        codes.digits,
        codes.step_secs,
        codes.skew_steps
    );
    if let Some(at) = args.at {
        let code = code_at(&secret, codes, to_unix(&at))
            .ok_or_else(|| CliError::input("--at: before 1970"))?;
        say!("code at {}: {code}", at.to_rfc3339());
    }
    Ok(())
}
