//! The words a keypad script is written in: a [`Step`] (an entry and the
//! decision it [`Expect`]s, a power cut or loss, the memory filled, a
//! flash writer's move) and the constructors the scripts use.

use offpin::Refusal;
use offpin::lock::Decision;

/// What the script expects a decision to be.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    Open,
    Revoked,
    Refused(Refusal),
    /// A valid clock-setting code: the clock moves to the code's instant.
    ClockSet,
    /// A valid rolling service code.
    Service,
}

/// One step of a keypad script.
pub(crate) enum Step {
    /// Type `typed` at `T0 + at`; time the check under `measure`'s label.
    Type {
        at: i64,
        typed: &'static str,
        expect: Expect,
        measure: Option<&'static str>,
    },
    /// Power cut: rebuild the lock from the two saved image slots.
    PowerCut,
    /// Type the first `MEMORY` of the `FILL` one-time codes at `T0 + at`:
    /// every one opens and takes a memory slot.
    FillMemory { at: i64 },
    /// A power loss during which the lock's real-time clock stopped: the
    /// lock is rebuilt from its saved images, and its clock now reads
    /// `lag_secs` behind real time (script times stay real times).
    PowerLoss { lag_secs: i64 },
    /// `typed` (an insider's own code, which opens) at `T0 + at`, and a
    /// power cut after its check's image is written but before the
    /// counter is raised: a flash writer copies that image (the refund of
    /// the entry's charge) aside. The lock boots from it, refuses an entry
    /// before its start, and its start burns the image's counter.
    CutBeforeRaise { at: i64, typed: &'static str },
    /// The flash writer puts the image copied aside at the cut back over
    /// the newest slot: refused as rolled back (the guess typed since
    /// stays counted).
    PutBack,
    /// The flash writer offers a version-1 image (offpin 0.1's layout,
    /// unkeyed) in both slots after version-2 images were written: loading
    /// refuses it (`Version1`), and so does the migration
    /// (`AlreadyMigrated`, feature `lock-state-v1`).
    Version1Image,
}

pub(crate) const fn typed(at: i64, pin: &'static str, expect: Expect) -> Step {
    Step::Type {
        at,
        typed: pin,
        expect,
        measure: None,
    }
}

pub(crate) const fn measured(step: Step, label: &'static str) -> Step {
    match step {
        Step::Type {
            at, typed, expect, ..
        } => Step::Type {
            at,
            typed,
            expect,
            measure: Some(label),
        },
        other => other,
    }
}

pub(crate) const fn wrong(at: i64, digits: &'static str) -> Step {
    typed(at, digits, Expect::Refused(Refusal::InvalidCode))
}

pub(crate) fn matches(decision: Decision, expect: Expect) -> bool {
    match (decision, expect) {
        (Decision::Open(_), Expect::Open) => true,
        (Decision::Revoked(_), Expect::Revoked) => true,
        (Decision::Refuse(r), Expect::Refused(e)) => r == e,
        (Decision::ClockSet { .. }, Expect::ClockSet) => true,
        (Decision::Service { .. }, Expect::Service) => true,
        _ => false,
    }
}
