//! The `offpin` binary, driven like an operator would, over a real on-disk
//! ledger: one test per behaviour, comparing whole output lines; a module
//! a subject.

mod devices;
mod errors;
mod groups;
mod import;
mod issue;
mod keys;
mod kinds;
mod ledger_file;
mod records;
mod report;
mod service_codes;
mod verify;
mod workspaces;
