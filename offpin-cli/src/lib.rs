//! The `offpin` command's service, as a library: the hosted access-code
//! API's requests and their decoding ([`request`], always built, so a fuzz
//! target can drive it without tokio) and, with the default `cli` feature,
//! where the ledger lives and how it is opened ([`store`]), the
//! `offpin serve` service and the `offpin api-key` command ([`serve`]).
//! With the `bookings` feature (part of `cli`), the CSV import of
//! `offpin issue --from` ([`bookings`]) and the command's errors
//! ([`output`]), which a fuzz target drives too.

#[cfg(feature = "bookings")]
pub mod bookings;
#[cfg(feature = "bookings")]
pub mod output;
pub mod request;
#[cfg(feature = "cli")]
pub mod serve;
#[cfg(feature = "cli")]
pub mod store;
