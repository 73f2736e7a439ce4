//! The `offpin` command's service, as a library: the hosted access-code
//! API's requests and their decoding ([`request`], always built, so a fuzz
//! target can drive it without tokio) and, with the default `cli` feature,
//! where the ledger lives and how it is opened ([`store`]), the
//! `offpin serve` service and the `offpin api-key` command ([`serve`]).

pub mod request;
#[cfg(feature = "cli")]
pub mod serve;
#[cfg(feature = "cli")]
pub mod store;
