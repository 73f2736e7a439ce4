//! Server-side conveniences (feature `std` and up): `chrono` conversions,
//! the `access_code` record of the hosted lock APIs (feature `serde`) and
//! IANA time zones (feature `serde`) and the ledger of issued codes
//! (features `ledger` and `sqlite`).
//!
//! None of this is compiled into the `no_std` core.

pub mod chrono_time;
#[cfg(feature = "ledger")]
pub mod ledger;
#[cfg(feature = "serde")]
pub mod record;
pub mod service;
#[cfg(feature = "serde")]
pub mod zone;
