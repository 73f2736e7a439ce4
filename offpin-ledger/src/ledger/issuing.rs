//! Issuing ([`Ledger::issue`], [`Ledger::issue_batch`]): every request
//! planned and checked before anything is stored ([`prepare`]), then one
//! transaction ([`Ledger::allocate`]) in which each gets the lowest free
//! number of its scope and its PIN ([`fresh_code`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{
    Allocation, AllocationScope, CodeSpec, CodeWant, Device, DeviceEntry, GroupRef, Ledger,
    LedgerError, Slot, StoredCode, capacity, recurrence,
};
use crate::chrono_time::{to_unix, truncate_millis};
use crate::record::{AccessCode, Deadlines};
use crate::zone::Zone;
use offpin::codec::Codec;
use offpin::issue::{IssueError, Plan, Request};
use offpin::keys::MasterKey;
use offpin::profile::{Kind, Profile};

/// What [`Ledger::issue`](super::Ledger::issue) returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssueOutcome {
    /// The record, at issue time.
    pub record: AccessCode,
    /// `false` when the request's idempotency key returned a code issued
    /// before.
    pub created: bool,
}

/// The devices of a batch, each with its codec and zone, by id.
pub(super) type Devices = BTreeMap<String, (DeviceEntry, Codec, Option<Zone>)>;

/// The error of the request at `index`, wrapped as
/// [`LedgerError::InBatch`].
fn in_batch(index: usize) -> impl Fn(LedgerError) -> LedgerError {
    move |e| LedgerError::InBatch {
        index,
        source: Box::new(e),
    }
}

/// [`Ledger::issue`].
pub(super) fn issue<L: Ledger + ?Sized>(
    l: &mut L,
    master: &MasterKey,
    spec: &CodeSpec,
    now: DateTime<Utc>,
) -> Result<IssueOutcome, LedgerError> {
    match issue_batch(l, master, core::slice::from_ref(spec), now) {
        Ok(mut out) => out
            .pop()
            .ok_or_else(|| LedgerError::invariant("a batch of one request returned no code")),
        Err(LedgerError::InBatch { source, .. }) => Err(*source),
        Err(e) => Err(e),
    }
}

/// [`Ledger::issue_batch`].
pub(super) fn issue_batch<L: Ledger + ?Sized>(
    l: &mut L,
    master: &MasterKey,
    specs: &[CodeSpec],
    now: DateTime<Utc>,
) -> Result<Vec<IssueOutcome>, LedgerError> {
    l.check_master_key(master)?;
    let created_at = truncate_millis(now);
    let t = to_unix(&now);
    // Phase 1: plan and check every request; nothing is stored.
    let (devices, prepared) = prepare_all(l, master, specs, t)?;
    let allocations: Vec<Allocation<'_>> = specs
        .iter()
        .zip(&prepared)
        .map(|(spec, p)| Allocation {
            device_id: &spec.device_id,
            scope: p.scope,
            limit: p.limit,
            idempotency_key: spec.idempotency_key.as_deref(),
            joint: false,
        })
        .collect();
    // Read before the transaction: once it commits, nothing may fail on
    // the way to the answer (a failure then would report stored codes as
    // not issued).
    let members = l.memberships()?;
    // Phase 2: one transaction.
    let mut decide = |i: usize, slot: Slot| -> Result<StoredCode, LedgerError> {
        let (spec, p) = specs.get(i).zip(prepared.get(i)).ok_or_else(|| {
            LedgerError::invariant("the storage decided a request the batch does not have")
        })?;
        let (_, codec, _) = devices.get(&spec.device_id).ok_or_else(|| {
            LedgerError::invariant("a device of the batch was not read before allocating")
        })?;
        decide_one(spec, p, codec, slot, created_at).map_err(in_batch(i))
    };
    let stored = match l.allocate(&allocations, &mut decide) {
        Ok(stored) => stored,
        Err(e) => {
            let batch = capacity::Batch {
                specs,
                prepared: &prepared,
                devices: &devices,
                now: t,
            };
            return Err(capacity::explain(l, e, &batch));
        }
    };
    stored
        .into_iter()
        .map(|a| {
            let (entry, codec, zone) = devices.get(&a.code.device_id).ok_or_else(|| {
                LedgerError::invariant("a device of the batch was not read before allocating")
            })?;
            let member = members.get(&a.code.device_id);
            Ok(IssueOutcome {
                record: a
                    .code
                    .record_with(entry, codec.profile(), zone.as_ref(), member, now)?,
                created: a.created,
            })
        })
        .collect()
}

/// Phase 1 of a batch: each request's device (read once, with its codec
/// and zone) and plan, refusing the first request that fails.
fn prepare_all<L: Ledger + ?Sized>(
    l: &mut L,
    master: &MasterKey,
    specs: &[CodeSpec],
    now: i64,
) -> Result<(Devices, Vec<Prepared>), LedgerError> {
    let mut devices = Devices::new();
    let mut prepared = Vec::with_capacity(specs.len());
    for (i, spec) in specs.iter().enumerate() {
        if !devices.contains_key(&spec.device_id) {
            let device = l.device(&spec.device_id).map_err(in_batch(i))?;
            let codec = device.codec(master).map_err(in_batch(i))?;
            let zone = device.zone().map_err(in_batch(i))?;
            let entry = DeviceEntry {
                device,
                removed_at: None,
            };
            devices.insert(spec.device_id.clone(), (entry, codec, zone));
        }
        let (entry, codec, _) = devices.get(&spec.device_id).ok_or_else(|| {
            LedgerError::invariant("a device of the batch was not read before allocating")
        })?;
        prepared.push(prepare(spec, &entry.device, codec.profile(), now).map_err(in_batch(i))?);
    }
    Ok((devices, prepared))
}

/// What a batch's request `spec`, planned as `p`, stores for the slot the
/// storage found: the code already issued for its idempotency key (the
/// same request only), a refusal of a full scope, or a fresh code.
fn decide_one(
    spec: &CodeSpec,
    p: &Prepared,
    codec: &Codec,
    slot: Slot,
    created_at: DateTime<Utc>,
) -> Result<StoredCode, LedgerError> {
    match slot {
        Slot::Existing(code) => {
            let same = code.device_id == spec.device_id
                && code.scope.kind == p.scope.kind
                && code.scope.start == p.scope.start
                && code.scope.length == p.scope.length
                && code.scope.lineage == p.scope.lineage
                && code.scope.schedule == p.scope.schedule
                && code.name == spec.name
                && code.user_identifier_key == spec.user_identifier_key;
            if same {
                Ok(*code)
            } else {
                Err(LedgerError::IdempotencyConflict {
                    key: spec.idempotency_key.clone().unwrap_or_default(),
                    access_code_id: code.access_code_id,
                })
            }
        }
        Slot::Exhausted => Err(capacity::exhausted(spec, p)),
        Slot::Free(n) => fresh_code(spec, p, n, codec, created_at, None),
    }
}

/// The code `spec` gets on the variance (or slot) `n` of its planned
/// scope `p`, its PIN derived by `codec` (the device's key, or the key of
/// `group`).
pub(super) fn fresh_code(
    spec: &CodeSpec,
    p: &Prepared,
    n: u32,
    codec: &Codec,
    created_at: DateTime<Utc>,
    group: Option<GroupRef>,
) -> Result<StoredCode, LedgerError> {
    let grant = p.scope.grant(n).ok_or_else(|| {
        LedgerError::invariant(format!(
            "number {n} allocated in a {} scope names no grant",
            p.scope.kind
        ))
    })?;
    let pin = codec.pin_for(&grant)?;
    Ok(StoredCode {
        access_code_id: uuid::Uuid::new_v4().to_string(),
        device_id: spec.device_id.clone(),
        scope: p.scope,
        number: n,
        code: pin.as_str().to_owned(),
        issued_window: p.plan.window,
        name: spec.name.clone(),
        user_identifier_key: spec.user_identifier_key.clone(),
        common_code_key: spec.common_code_key.clone(),
        idempotency_key: spec.idempotency_key.clone(),
        created_at,
        deleted_at: None,
        revocation_code: None,
        group,
    })
}

/// A request planned and checked, ready to allocate.
pub(super) struct Prepared {
    /// The plan.
    pub(super) plan: Plan,
    /// The scope it allocates in.
    pub(super) scope: AllocationScope,
    /// Numbers `0..limit` exist in it.
    pub(super) limit: u32,
}

/// Plans `spec` for `device` and refuses dead codes.
pub(super) fn prepare(
    spec: &CodeSpec,
    device: &Device,
    profile: &Profile,
    now: i64,
) -> Result<Prepared, LedgerError> {
    let zone = device.lock_rule()?;
    let req = match spec.want {
        CodeWant::TimeBound { starts_at, ends_at } => {
            Request::time_bound(to_unix(&starts_at), to_unix(&ends_at))
        }
        CodeWant::OneTime { starts_at } => Request::one_time(to_unix(&starts_at)),
        CodeWant::Ongoing => Request::ongoing(0),
        CodeWant::ClockSet { at } => Request::clock_set(to_unix(&at)),
        CodeWant::Recurring {
            starts_at,
            ends_at,
            days,
            hours,
        } => recurrence::request(
            profile,
            zone,
            (starts_at, ends_at),
            (days, hours),
            spec.max_rounding_secs,
        )?,
    };
    let req = match spec.want {
        // Its weeks are already exact (`recurrence`).
        CodeWant::Recurring { .. } => req,
        _ => req.with_max_rounding_secs(spec.max_rounding_secs),
    }
    .with_zone(zone)
    .with_lineage(spec.lineage);
    let mut plan = profile.plan(&req)?;
    if plan.window.is_none() {
        // A clock-setting code's window: when the lock accepts it.
        plan.window = Deadlines::of(&plan.grant, profile, zone).window;
    }
    let (scope, _) =
        AllocationScope::of(&plan.grant, device.generation).ok_or(LedgerError::Issue(
            IssueError::Grant(offpin::GrantError::KindDisabled(plan.grant.kind())),
        ))?;
    if !spec.allow_backfill {
        let d = Deadlines::of(&plan.grant, profile, req.zone);
        if let Some(w) = d.window
            && w.end <= now
        {
            return Err(LedgerError::WindowEnded {
                ends_at: w.end,
                now,
            });
        }
        if let Some(by) = d.first_use_by
            && by <= now
        {
            return Err(LedgerError::ActivationDeadlinePassed {
                deadline: by,
                activation_secs: profile.activation_secs(),
                now,
            });
        }
    }
    let limit = match scope.kind {
        Kind::Ongoing => profile.params().ongoing_slots,
        // One PIN per instant.
        Kind::ClockSet => 1,
        _ => u32::from(profile.params().variances),
    };
    Ok(Prepared { plan, scope, limit })
}
