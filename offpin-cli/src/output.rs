//! What the command prints: lines and JSON on stdout (a closed pipe ends
//! the command quietly, as `offpin inspect … | head -1` expects), and its
//! one-line errors on stderr, as text or, with `--json`, as the seeds'
//! error object.

use std::fmt;
use std::io::Write;

use chrono::{SecondsFormat, Utc};
use offpin::profile::Kind;
use offpin_ledger::ledger::api_keys::ApiKeyError;
use offpin_ledger::ledger::{LedgerError, SpentPool};
use offpin_ledger::record::CodeError;

/// An error the command reports as one line on stderr.
#[derive(Debug)]
pub struct CliError {
    /// A stable snake_case name of the cause (`error_code` in `--json`).
    pub code: &'static str,
    /// What happened and what to do about it.
    pub message: String,
    /// Whether it is about an access code (the seeds' `is_access_code_error`).
    pub access_code_error: bool,
}

impl CliError {
    /// An error with its code.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        CliError {
            code,
            message: message.into(),
            access_code_error: false,
        }
    }

    /// An invalid argument or input file.
    pub fn input(message: impl Into<String>) -> Self {
        CliError::new("invalid_input", message)
    }

    /// Stdout was closed by its reader: end quietly.
    fn broken_pipe() -> Self {
        CliError::new(BROKEN_PIPE, "")
    }

    /// Whether this is the quiet end of a closed stdout.
    pub fn is_broken_pipe(&self) -> bool {
        self.code == BROKEN_PIPE
    }

    /// Prefixes the message with where it happened (`bookings.csv line 4`).
    pub fn context(mut self, at: &str) -> Self {
        self.message = format!("{at}: {}", self.message);
        self
    }

    /// The seeds' error object for `--json`.
    pub fn to_json(&self) -> String {
        let e = CodeError {
            created_at: offpin_ledger::chrono_time::truncate_millis(Utc::now()),
            error_code: self.code.to_owned(),
            is_access_code_error: self.access_code_error,
            message: self.message.clone(),
        };
        serde_json::to_string(&e).unwrap_or_else(|_| format!("{{\"message\":{:?}}}", self.message))
    }
}

const BROKEN_PIPE: &str = "broken_pipe";

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<LedgerError> for CliError {
    /// The library's message, plus what to type when the fix is a
    /// command of this binary.
    fn from(e: LedgerError) -> Self {
        let hint = match e.innermost() {
            LedgerError::MasterKeyUnbound { device_id, .. } => format!(
                " (`offpin device key --device-id {device_id}` with the key the locks were provisioned from binds it)"
            ),
            // A batch's rows are not flags: no command to type for them.
            LedgerError::NoVarianceAvailable {
                device_id, pool, ..
            } if !matches!(e, LedgerError::InBatch { .. }) => {
                proposal_hint(&format!("--device-id {}", shell_word(device_id)), pool)
            }
            LedgerError::NoSharedVariance { group_id, pool, .. } => {
                proposal_hint(&format!("--group {}", shell_word(group_id)), pool)
            }
            other => Self::hint(other).to_owned(),
        };
        let access_code_error = e.to_code_error(Utc::now()).is_access_code_error;
        CliError {
            access_code_error,
            ..CliError::new(e.code(), format!("{e}{hint}"))
        }
    }
}

impl CliError {
    /// What to type when the fix of `e` is a command of this binary.
    fn hint(e: &LedgerError) -> &'static str {
        match e {
            LedgerError::UnknownDevice { .. } => " (register it with `offpin device add`)",
            LedgerError::DeviceRemoved { .. } => " (add it again with `offpin device add`)",
            LedgerError::DeviceConflict { .. } => {
                " (change its offset, time zone or generation with `offpin device update`)"
            }
            LedgerError::WindowEnded { .. } | LedgerError::ActivationDeadlinePassed { .. } => {
                " (`--allow-backfill` records it anyway, as a code that cannot open)"
            }
            LedgerError::MasterKeyMismatch { .. } | LedgerError::KeyDoesNotDerive { .. } => {
                " (check --master-key / $OFFPIN_MASTER_KEY_FILE)"
            }
            LedgerError::Issue(offpin::IssueError::RoundingTooLarge { .. }) => {
                " (--max-time-rounding 1h or 1d allows it)"
            }
            _ => "",
        }
    }
}

/// The command that issues the code at a spent window's proposal
/// (`target`: `--device-id …` or `--group …`), or nothing without one.
fn proposal_hint(target: &str, pool: &SpentPool) -> String {
    let Some(p) = &pool.proposal else {
        return String::new();
    };
    let at = |t: &chrono::DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    let times = if pool.kind == Kind::OneTime {
        format!("--one-time --starts-at {}", at(&p.starts_at))
    } else {
        format!(
            "--starts-at {} --ends-at {}",
            at(&p.starts_at),
            at(&p.ends_at)
        )
    };
    format!(" (`offpin issue {target} {times}` issues the code for it)")
}

/// `word` as one shell word: as it is when it needs no quoting.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/@".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// Shorthand for command results.
pub type CliResult<T = ()> = Result<T, CliError>;

/// Builds a [`CliError`] from anything displayable, with a prefix.
pub fn fail(code: &'static str, prefix: &str, e: impl fmt::Display) -> CliError {
    CliError::new(code, format!("{prefix}: {e}"))
}

/// Writes one line to stdout.
pub fn write_line(args: fmt::Arguments<'_>) -> CliResult {
    let mut out = std::io::stdout().lock();
    out.write_fmt(args)
        .and_then(|()| out.write_all(b"\n"))
        .map_err(stdout_error)
}

fn stdout_error(e: std::io::Error) -> CliError {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        CliError::broken_pipe()
    } else {
        fail("io_error", "cannot write to stdout", e)
    }
}

/// Flushes stdout (errors of a closed pipe end the command quietly).
pub fn flush() -> CliResult {
    std::io::stdout().lock().flush().map_err(stdout_error)
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> CliResult {
    let text =
        serde_json::to_string_pretty(value).map_err(|e| fail("internal_error", "JSON", e))?;
    write_line(format_args!("{text}"))
}

/// Prints the error on stderr: `error: ...`, or one JSON object.
pub fn report(e: &CliError, json: bool) {
    let mut err = std::io::stderr().lock();
    let _ = if json {
        writeln!(err, "{}", e.to_json())
    } else {
        writeln!(err, "error: {e}")
    };
}

/// Prints a warning on stderr (not with `--json`, whose stderr carries
/// errors only).
pub fn warn(message: &str, json: bool) {
    if !json {
        let _ = writeln!(std::io::stderr().lock(), "warning: {message}");
    }
}

impl From<ApiKeyError> for CliError {
    fn from(e: ApiKeyError) -> Self {
        match e {
            ApiKeyError::Ledger(e) => e.into(),
            ApiKeyError::NameTaken { .. } => CliError::new("api_key_name_taken", e.to_string()),
            ApiKeyError::NoSuchName { .. } => CliError::new("api_key_not_found", e.to_string()),
            other => CliError::input(other.to_string()),
        }
    }
}
