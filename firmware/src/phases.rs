//! The phases the firmware runs, each a script typed at a new lock
//! (`runner.rs`): offpin 0.1's profile at UTC (`phases/v1.rs`), the
//! format-v2 profile in Paris (`phases/v2.rs`) and, with the feature
//! `anti-peep`, a PIN typed among extra digits (`phases/anti_peep.rs`).
//! The group phase, two locks of one group, is `group.rs`.

use offpin::{Profile, TzRule};

use crate::Code;
use crate::script::Step;

#[cfg(feature = "anti-peep")]
mod anti_peep;
mod v1;
mod v2;

/// One run of a script: the profile, the lock's local time, when script
/// time zero is, the steps and the codes to list.
pub(crate) struct Phase {
    pub(crate) profile: Profile,
    pub(crate) zone: TzRule,
    pub(crate) zone_name: &'static str,
    pub(crate) t0: i64,
    pub(crate) t0_text: &'static str,
    pub(crate) steps: &'static [Step],
    pub(crate) codes: &'static [&'static Code],
}

/// The phases the firmware runs, each on a new lock.
#[cfg(feature = "anti-peep")]
pub(crate) const PHASES: [&Phase; 3] = [&v1::V1, &v2::V2, &anti_peep::ANTI_PEEP];
#[cfg(not(feature = "anti-peep"))]
pub(crate) const PHASES: [&Phase; 2] = [&v1::V1, &v2::V2];
