#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(any(feature = "std", test))]
extern crate std;

pub mod alphabet;
pub mod check;
pub mod codec;
mod divisor;
pub mod ff1;
pub mod grant;
pub mod index;
pub mod issue;
pub mod keys;
pub mod lock;
pub mod pin;
pub mod profile;
pub mod recurring;
pub mod rules;
pub mod security;
pub mod service;
pub mod time;
pub mod tz;

pub use alphabet::{Alphabet, AlphabetError, Keys};
pub use check::{Refusal, Remember, Verdict};
pub use codec::{Codec, DecodeError};
pub use ff1::{Ff1Error, Radix};
pub use grant::{Grant, GrantError, RevokeTarget, Span};
pub use issue::{IssueError, Issued, Plan, Request, Want};
pub use keys::{DeviceKey, KeyError, MasterKey};
pub use lock::{Check, Decision, Lock, LockError, PersistError};
pub use pin::{Pin, PinError};
pub use profile::{
    ClockCodes, FormatVersion, Kind, LockoutPolicy, Profile, ProfileError, ProfileParams,
    ServiceCodes, Tag,
};
#[cfg(feature = "code-rules")]
pub use rules::PinSet;
pub use rules::{CodeConstraint, CodeRules};
pub use security::SecurityFigures;
pub use time::{OffsetError, ParseOffsetError, UnixSeconds, UtcOffset, Window};
pub use tz::{TzError, TzRule};
