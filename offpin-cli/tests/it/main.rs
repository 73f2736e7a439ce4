//! The integration tests of `offpin-cli`, one binary: the `offpin` command
//! driven like an operator would (`cli`), and `offpin serve` over real
//! sockets (`serve`: the endpoints, hostile clients, fleets and `kill -9`,
//! groups), sharing the helpers in `util`. PostgreSQL tests run when
//! `OFFPIN_TEST_POSTGRES` names a database (CI sets it, and with `CI` set
//! they fail rather than skip without it).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs,
    reason = "tests"
)]

mod cli;
mod serve;
mod util;
