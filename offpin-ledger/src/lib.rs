//! The server side of offpin: what a service that issues offline PINs
//! keeps and shows, on top of the `no_std` engine (`offpin`).
//!
//! ```
//! use chrono::{DateTime, Utc};
//! use offpin::profile::shipped::STANDARD_10;
//! use offpin::{Codec, MasterKey, UtcOffset};
//! use offpin_ledger::ledger::{CodeSpec, Device, Ledger, memory::MemoryLedger};
//!
//! // The server registers a lock and issues a code for a stay.
//! let master = MasterKey::from_bytes([7; 32]);
//! let mut ledger = MemoryLedger::new();
//! ledger.add_device(&master, &Device::new("front-door", "standard-10"))?;
//! let now: DateTime<Utc> = "2026-12-01T00:00:00Z".parse()?;
//! let start: DateTime<Utc> = "2027-01-01T16:00:00Z".parse()?;
//! let end: DateTime<Utc> = "2027-01-03T10:00:00Z".parse()?;
//! let issued = ledger.issue(&master, &CodeSpec::time_bound("front-door", start, end), now)?;
//! let pin = issued.record.code;
//!
//! // The lock holds the device key; the PIN opens it inside the window.
//! let key = master.derive_device_key(b"front-door", 0)?;
//! let grant = Codec::new(&key, STANDARD_10)?.decode_input(pin.as_bytes())?;
//! let at = |t: DateTime<Utc>| STANDARD_10.check(&grant, t.timestamp(), UtcOffset::UTC);
//! assert!(at(start + chrono::Duration::hours(1)).opens());
//! assert!(!at(end + chrono::Duration::hours(1)).opens());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! - [`ledger`]: which PINs were handed out, for which device and window;
//!   the allocation of variances and ongoing slots, batches, groups,
//!   idempotency and the master-key binding; backends in memory, SQLite
//!   (feature `sqlite`, or `sqlite-bundled`) and PostgreSQL (feature
//!   `postgres`); the hosted API's rules (`ledger::hosted`), which say
//!   whose each error is (`hosted::Blame`) but no HTTP status: those are
//!   the service's (`offpin serve`).
//! - [`record`]: the `access_code` record of the hosted lock APIs, as
//!   the ledger computes it at an instant (feature `openapi` adds its
//!   OpenAPI schemas).
//! - [`zone`]: IANA time zones (jiff's bundled database) and the POSIX
//!   rule a lock follows for one.
//! - [`service`]: rolling service codes on the server (RFC 6238 with
//!   `totp-lite`) and their `otpauth://` URIs.
//! - [`chrono_time`]: conversions between `chrono` and the engine's Unix
//!   seconds.
//!
//! The lock's firmware never depends on this crate: `cargo tree -p
//! offpin --no-default-features` lists no database, serde or jiff.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod chrono_time;
pub mod ledger;
pub mod record;
pub mod service;
pub mod zone;
