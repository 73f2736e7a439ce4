//! `offpin serve` over real sockets, on SQLite and (where a test says so)
//! PostgreSQL: the endpoints in the encodings the SDKs use, what the
//! service refuses, a server's start, logs and stop, slow and hostile
//! clients (`hardening`), `kill -9` and fleets (`fleet`), one PIN for a
//! group's locks (`groups`), the format-v2 kinds and key capabilities
//! (`kinds`), pages, filters, retention and the SDKs' older call shapes
//! (`pages`), a PostgreSQL that drops connections and restarts under load
//! (`outage`), the SQLite ledger's writer (`ledger_writer`), keys that see
//! their workspace only (`workspaces`).

mod endpoints;
mod fleet;
mod groups;
mod hardening;
mod kinds;
mod ledger_writer;
mod lifecycle;
mod outage;
mod pages;
mod refusals;
mod workspaces;
