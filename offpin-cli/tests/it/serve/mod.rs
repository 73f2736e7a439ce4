//! `offpin serve` over real sockets, on SQLite and (where a test says so)
//! PostgreSQL: the endpoints in the encodings the SDKs use, what the
//! service refuses, a server's start, logs and stop, slow and hostile
//! clients (`hardening`), `kill -9` and fleets (`fleet`), one PIN for a
//! group's locks (`groups`), the SQLite ledger's writer (`ledger_writer`).

mod endpoints;
mod fleet;
mod groups;
mod hardening;
mod ledger_writer;
mod lifecycle;
mod refusals;
