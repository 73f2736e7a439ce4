//! Every ledger error's answer: its status, `type` and field, one sample
//! per variant (nested ones spelled out), and no client error a 5xx.

use std::collections::BTreeSet;

use chrono::Utc;
use offpin::GrantError;
use offpin::UtcOffset;
use offpin::ff1::Ff1Error;
use offpin::issue::IssueError;
use offpin::keys::KeyError;
use offpin::profile::Kind;
use offpin::recurring::{Hours, Weekdays};
use offpin::time::OffsetError;
use offpin_ledger::ledger::{ShareRefusal, SpentPool, StorageError};
use offpin_ledger::record::NO_VARIANCE_AVAILABLE;
use offpin_ledger::zone::ZoneError;

use super::*;

/// The position of each variant (nested ones spelled out). A new
/// variant must first be given its blame in the ledger
/// ([`LedgerError::blame`] matches every variant by name, so it does not
/// compile until it has one), which decides its status here; it gets a
/// place and a sample below to check that. (`LedgerError` is
/// `#[non_exhaustive]`, so this crate's match needs a catch-all.)
fn place(e: &LedgerError) -> usize {
    match e {
        LedgerError::UnknownDevice { .. } => 0,
        LedgerError::DeviceRemoved { .. } => 1,
        LedgerError::DeviceConflict { .. } => 2,
        LedgerError::NoChange { .. } => 3,
        LedgerError::GenerationNotHigher { .. } => 4,
        LedgerError::UnknownProfile { .. } => 5,
        LedgerError::Zone(ZoneError::Unknown { .. }) => 6,
        LedgerError::Zone(ZoneError::Gap { .. }) => 7,
        LedgerError::Zone(ZoneError::Fold { .. }) => 8,
        LedgerError::Zone(ZoneError::OutOfRange { .. }) => 9,
        LedgerError::Zone(ZoneError::NoRule { .. }) => 35,
        LedgerError::Zone(ZoneError::RuleChanges { .. }) => 36,
        LedgerError::NotFound { .. } => 10,
        LedgerError::MissingFilter => 11,
        LedgerError::TimesDisagree { .. } => 12,
        LedgerError::RecurrenceOutsideSpan { .. } => 48,
        LedgerError::NoVarianceAvailable { .. } => 13,
        LedgerError::NoSlotAvailable { .. } => 14,
        LedgerError::WindowEnded { .. } => 15,
        LedgerError::ActivationDeadlinePassed { .. } => 16,
        LedgerError::IdempotencyConflict { .. } => 17,
        LedgerError::MasterKeyMismatch { .. } => 18,
        LedgerError::KeyDoesNotDerive { .. } => 19,
        LedgerError::MasterKeyUnbound { .. } => 38,
        LedgerError::InBatch { .. } => 20,
        LedgerError::Issue(IssueError::EndNotAfterStart) => 21,
        LedgerError::Issue(IssueError::BeforeEpoch { .. }) => 22,
        LedgerError::Issue(IssueError::BeyondLifetime { .. }) => 23,
        LedgerError::Issue(IssueError::TooLong { .. }) => 24,
        LedgerError::Issue(IssueError::RoundingTooLarge { .. }) => 25,
        LedgerError::Issue(IssueError::NotInMenu { .. }) => 37,
        LedgerError::Issue(IssueError::Grant(_)) => 26,
        LedgerError::Issue(IssueError::Cipher(_)) => 27,
        // `IssueError` is the engine's, `#[non_exhaustive]`: a variant
        // it adds later answers as `Fault::of`'s catch-all says.
        LedgerError::Issue(_) => usize::MAX,
        LedgerError::Key(_) => 28,
        LedgerError::Offset(_) => 29,
        LedgerError::NotALedger { .. } => 30,
        LedgerError::NeedsUpgrade { .. } => 31,
        LedgerError::NeedsRecovery { .. } => 32,
        LedgerError::Unwritable { .. } => 33,
        LedgerError::Storage(_) => 34,
        LedgerError::UnknownGroup { .. } => 39,
        LedgerError::InvalidGroupId { .. } => 40,
        LedgerError::GroupConflict { .. } => 41,
        LedgerError::DeviceInAnotherGroup { .. } => 42,
        LedgerError::NotAMember { .. } => 43,
        LedgerError::GroupProfileMismatch { .. } => 44,
        LedgerError::CannotShare(_) => 45,
        LedgerError::NoSharedVariance { .. } => 46,
        LedgerError::Invariant { .. } => 47,
        LedgerError::OutcomeUnknown { .. } => 48,
        LedgerError::UnknownWorkspace { .. } => 49,
        LedgerError::InvalidWorkspaceId { .. } => 50,
        LedgerError::WorkspaceMismatch { .. } => 51,
        _ => usize::MAX,
    }
}
const PLACES: usize = 52;

/// A sample error, and its answer: status, `type`, field.
type Case = (LedgerError, u16, &'static str, Option<&'static str>);

fn s(text: &str) -> String {
    text.to_owned()
}

fn d() -> String {
    s("front-door")
}

fn zone(z: ZoneError) -> LedgerError {
    LedgerError::Zone(z)
}

fn pool() -> Box<SpentPool> {
    Box::new(SpentPool::new(Kind::Hourly, Utc::now(), Utc::now()))
}

/// Devices, profiles and time zones.
fn devices_and_zones() -> Vec<Case> {
    vec![
        (
            LedgerError::UnknownDevice { device_id: d() },
            404,
            "device_not_found",
            None,
        ),
        (
            LedgerError::DeviceRemoved {
                device_id: d(),
                removed_at: Utc::now(),
            },
            404,
            "device_removed",
            None,
        ),
        (
            LedgerError::DeviceConflict { device_id: d() },
            409,
            "device_conflict",
            None,
        ),
        (
            LedgerError::NoChange { device_id: d() },
            400,
            INVALID_INPUT,
            None,
        ),
        (
            LedgerError::GenerationNotHigher {
                device_id: d(),
                current: 2,
                requested: 1,
            },
            400,
            INVALID_INPUT,
            Some("generation"),
        ),
        (
            LedgerError::UnknownProfile { name: s("x") },
            500,
            "unknown_profile",
            None,
        ),
        (
            zone(ZoneError::Unknown {
                name: s("Mars/Olympus"),
            }),
            500,
            "unknown_time_zone",
            None,
        ),
        (
            zone(ZoneError::Gap {
                local: s("02:30"),
                zone: s("Europe/Paris"),
                before: UtcOffset::UTC,
                after: UtcOffset::UTC,
            }),
            400,
            INVALID_INPUT,
            None,
        ),
        (
            zone(ZoneError::Fold {
                local: s("02:30"),
                zone: s("Europe/Paris"),
                before: UtcOffset::UTC,
                after: UtcOffset::UTC,
            }),
            400,
            INVALID_INPUT,
            None,
        ),
        (
            zone(ZoneError::OutOfRange { time: s("9999") }),
            400,
            INVALID_INPUT,
            None,
        ),
        (
            zone(ZoneError::NoRule {
                zone: s("Africa/Casablanca"),
                footer: s(""),
            }),
            500,
            "invalid_local_time",
            None,
        ),
        (
            zone(ZoneError::RuleChanges {
                zone: s("Africa/Casablanca"),
                footer: s("<+01>-1"),
                at: 0,
            }),
            500,
            "invalid_local_time",
            None,
        ),
    ]
}

/// Codes, requests and the capacity of a window.
fn requests() -> Vec<Case> {
    vec![
        (
            LedgerError::not_found("x"),
            404,
            "access_code_not_found",
            None,
        ),
        (
            LedgerError::MissingFilter,
            400,
            INVALID_INPUT,
            Some("device_id"),
        ),
        (
            LedgerError::TimesDisagree { why: "x" },
            400,
            INVALID_INPUT,
            None,
        ),
        (
            LedgerError::RecurrenceOutsideSpan {
                field: "starts_at",
                why: s("x"),
            },
            400,
            INVALID_INPUT,
            Some("starts_at"),
        ),
        (
            LedgerError::NoVarianceAvailable {
                device_id: d(),
                variances: 3,
                pool: pool(),
            },
            409,
            NO_VARIANCE_AVAILABLE,
            None,
        ),
        (
            LedgerError::NoSlotAvailable {
                device_id: d(),
                slots: 8,
                held_by: Vec::new(),
                taken_in_batch: 0,
            },
            409,
            "no_slot_available",
            None,
        ),
        (
            LedgerError::WindowEnded { ends_at: 0, now: 1 },
            400,
            INVALID_INPUT,
            Some("ends_at"),
        ),
        (
            LedgerError::ActivationDeadlinePassed {
                deadline: 0,
                activation_secs: 86_400,
                now: 1,
            },
            400,
            INVALID_INPUT,
            Some("starts_at"),
        ),
        (
            LedgerError::IdempotencyConflict {
                key: s("k"),
                access_code_id: s("a"),
            },
            409,
            "idempotency_conflict",
            None,
        ),
        (
            LedgerError::InBatch {
                index: 3,
                source: Box::new(LedgerError::NoVarianceAvailable {
                    device_id: d(),
                    variances: 3,
                    pool: pool(),
                }),
            },
            409,
            NO_VARIANCE_AVAILABLE,
            None,
        ),
    ]
}

/// The master key and the issuer's refusals.
fn keys_and_issues() -> Vec<Case> {
    vec![
        (
            LedgerError::MasterKeyMismatch {
                ledger: [1; 8],
                given: [2; 8],
            },
            500,
            "master_key_mismatch",
            None,
        ),
        (
            LedgerError::KeyDoesNotDerive {
                access_code_id: s("a"),
                given: [2; 8],
            },
            500,
            "master_key_mismatch",
            None,
        ),
        (
            LedgerError::MasterKeyUnbound {
                device_id: d(),
                given: [2; 8],
            },
            500,
            "master_key_unbound",
            None,
        ),
        (
            LedgerError::Issue(IssueError::EndNotAfterStart),
            400,
            INVALID_INPUT,
            Some("ends_at"),
        ),
        (
            LedgerError::Issue(IssueError::BeforeEpoch { epoch: 0 }),
            400,
            INVALID_INPUT,
            Some("starts_at"),
        ),
        (
            LedgerError::Issue(IssueError::BeyondLifetime { last_start: 0 }),
            400,
            INVALID_INPUT,
            Some("starts_at"),
        ),
        (
            LedgerError::Issue(IssueError::TooLong {
                requested_secs: 9,
                max_secs: 1,
            }),
            400,
            INVALID_INPUT,
            Some("ends_at"),
        ),
        (
            LedgerError::Issue(IssueError::RoundingTooLarge {
                needed_secs: 9,
                allowed_secs: 1,
            }),
            400,
            INVALID_INPUT,
            Some("max_time_rounding"),
        ),
        (
            LedgerError::Issue(IssueError::NotInMenu {
                days: Weekdays(0b001_1111),
                hours: Hours::new(9, 17),
                nearest_days: Weekdays(0b001_1111),
                nearest_hours: Hours::new(8, 18),
            }),
            400,
            INVALID_INPUT,
            Some("offpin_recurrence"),
        ),
        (
            LedgerError::Issue(IssueError::Grant(GrantError::KindDisabled(Kind::OneTime))),
            400,
            INVALID_INPUT,
            None,
        ),
        (
            LedgerError::Issue(IssueError::Cipher(Ff1Error::LengthTooLong {
                len: 99,
                max: 56,
            })),
            500,
            "invalid_window",
            None,
        ),
        (
            LedgerError::Key(KeyError::DeviceIdTooLong { found: 300 }),
            400,
            INVALID_INPUT,
            Some("device_id"),
        ),
        (
            LedgerError::Offset(OffsetError { minutes: 9_999 }),
            500,
            "storage_error",
            None,
        ),
    ]
}

/// The storage, a broken invariant, and groups.
fn storage_and_groups() -> Vec<Case> {
    vec![
        (
            LedgerError::NotALedger {
                path: s("p"),
                reason: s("r"),
            },
            503,
            LEDGER_UNAVAILABLE,
            None,
        ),
        (
            LedgerError::NeedsUpgrade {
                path: s("p"),
                from: 1,
                to: 2,
            },
            503,
            LEDGER_UNAVAILABLE,
            None,
        ),
        (
            LedgerError::NeedsRecovery { path: s("p") },
            503,
            LEDGER_UNAVAILABLE,
            None,
        ),
        (
            LedgerError::Unwritable {
                path: s("p"),
                reason: s("r"),
            },
            503,
            LEDGER_UNAVAILABLE,
            None,
        ),
        (
            LedgerError::Storage(StorageError::without_source("disk")),
            503,
            LEDGER_UNAVAILABLE,
            None,
        ),
        (
            LedgerError::OutcomeUnknown {
                access_code_ids: vec![s("a")],
                source: StorageError::without_source("lost"),
            },
            503,
            OUTCOME_UNKNOWN,
            None,
        ),
        (
            LedgerError::Invariant { what: s("x") },
            500,
            INTERNAL_SERVER_ERROR,
            None,
        ),
        (
            LedgerError::UnknownGroup { group_id: s("g") },
            404,
            "group_not_found",
            None,
        ),
        (
            LedgerError::InvalidGroupId { len: 0 },
            400,
            INVALID_INPUT,
            Some("group_id"),
        ),
        (
            LedgerError::GroupConflict {
                group_id: s("g"),
                profile: s("compact-8"),
            },
            409,
            "group_conflict",
            None,
        ),
        (
            LedgerError::DeviceInAnotherGroup {
                device_id: d(),
                group_id: s("g"),
            },
            409,
            "device_in_another_group",
            None,
        ),
        (
            LedgerError::NotAMember {
                device_id: d(),
                group_id: s("g"),
            },
            400,
            INVALID_INPUT,
            Some("device_id"),
        ),
        (
            LedgerError::GroupProfileMismatch {
                device_id: d(),
                device_profile: s("compact-8"),
                group_id: s("g"),
                group_profile: s("standard-10"),
            },
            400,
            INVALID_INPUT,
            Some("device_id"),
        ),
        (
            LedgerError::CannotShare(ShareRefusal::NotInAGroup { device_id: d() }),
            400,
            INVALID_INPUT,
            Some("device_ids"),
        ),
        (
            LedgerError::NoSharedVariance {
                group_id: s("g"),
                variances: 3,
                taken: vec![(d(), vec![0, 1, 2])],
                pool: pool(),
            },
            409,
            NO_VARIANCE_AVAILABLE,
            None,
        ),
        (
            LedgerError::UnknownWorkspace {
                workspace_id: s("w"),
            },
            404,
            "unknown_workspace",
            None,
        ),
        (
            LedgerError::InvalidWorkspaceId {
                workspace_id: s("a b"),
            },
            400,
            INVALID_INPUT,
            Some("workspace_id"),
        ),
        (
            LedgerError::WorkspaceMismatch {
                what: "device",
                id: d(),
                belongs_to: s("a"),
                wanted: s("b"),
            },
            409,
            "workspace_mismatch",
            None,
        ),
    ]
}

#[test]
fn every_ledger_error_has_its_status_and_no_client_error_is_a_5xx() {
    let cases: Vec<Case> = [
        devices_and_zones(),
        requests(),
        keys_and_issues(),
        storage_and_groups(),
    ]
    .into_iter()
    .flatten()
    .collect();
    let covered: BTreeSet<usize> = cases.iter().map(|(e, ..)| place(e)).collect();
    assert_eq!(covered, (0..PLACES).collect(), "every variant has a case");
    for (e, status, error_type, field) in &cases {
        let f = Fault::of(e);
        assert_eq!(
            (f.status.as_u16(), f.error_type, f.field),
            (*status, *error_type, *field),
            "{e}"
        );
        // What the errors about a code say is the client's to fix:
        // never a 5xx (but for a cipher that refuses its own profile,
        // which no request can cause).
        if e.to_code_error(Utc::now()).is_access_code_error
            && !matches!(e, LedgerError::Issue(IssueError::Cipher(_)))
        {
            assert!(!f.status.is_server_error(), "{e}");
        }
    }
}

#[test]
fn the_requests_own_refusals() {
    let immutable = RequestError::Immutable { field: "ends_at" };
    assert_eq!(
        Fault::of_request(&immutable),
        Fault {
            status: StatusCode::BAD_REQUEST,
            error_type: INVALID_INPUT,
            field: Some("ends_at"),
        }
    );
    let missing = RequestError::CodeNotFound { device_id: d() };
    let f = Fault::of_request(&missing);
    assert_eq!(
        (f.status, f.error_type),
        (StatusCode::NOT_FOUND, ACCESS_CODE_NOT_FOUND)
    );
    let wrapped = RequestError::Ledger(LedgerError::MissingFilter);
    assert_eq!(wrapped.field(), Some("device_id"));
    assert_eq!(Fault::of_request(&wrapped).field, Some("device_id"));
}
