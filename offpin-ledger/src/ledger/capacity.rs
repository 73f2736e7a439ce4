//! Capacity errors that help: when the variances of a window or the
//! ongoing slots of a device are spent, which pool it is, which codes hold
//! it, when the first of them stops opening, and the nearest window of
//! the same length that still has a free variance.
//!
//! # What frees, and when
//!
//! A number (variance or slot) is never issued twice: an offline PIN
//! cannot be recalled, so the ledger counts every code ever issued,
//! deleted ones included ([`Ledger::allocate`]).
//!
//! - A **variance pool** is one encoded window (its kind, rounded start
//!   and length, lineage) of one key generation of one device
//!   ([`AllocationScope`]). Its variances are held by the codes issued
//!   for that window ([`SpentPool::held_by`]); each stops opening when its
//!   window ends ([`SpentPool::next_free_at`] is the earliest such end;
//!   the lock adds its clock grace). That is also the end of the pool's
//!   own window: past it, a request for the window is refused as ended, so
//!   the pool never serves again. What helps is another window, which has
//!   variances of its own: the [`Proposal`].
//! - **Ongoing slots** are held by their codes until these are deleted;
//!   deleting one revokes its slot for good (the lock refuses the slot
//!   from then on), so a slot never frees at all
//!   ([`LedgerError::NoSlotAvailable`] names the live and the revoked
//!   ones). Re-keying the device (a new key generation) gives fresh slots.
//!
//! # The proposal
//!
//! When a time-bound or one-time request finds every variance of its
//! window taken, the ledger searches the windows of the same kind and
//! length shifted by whole units (hours for hourly and one-time windows,
//! days for daily ones): one later, one earlier, two later, two earlier,
//! and so on, up to [`PROPOSAL_SHIFTS`] units each way, so at most
//! `2 × PROPOSAL_SHIFTS` (48) candidate windows. The nearest comes first;
//! at equal distance the later one, since an earlier window hands out
//! access before the booking asked for it. An earlier window is taken only
//! if it starts at or after the issue time: one shifted into the past
//! would open for a span that is already over. Each candidate is planned
//! as the same request for exactly its bounds would be (so issuing at the
//! proposal allocates where the search looked, and a candidate past the
//! profile's lifetime, or ended, is skipped) and is taken when a variance
//! is free in it on the device, or, for a group, one variance free on
//! every member; the requests of the same batch before the refused one
//! count as taken.
//!
//! The search reads the ledger after the refused transaction rolled back,
//! through [`Ledger::find`], so it is the same on every backend; it is a
//! proposal, not a reservation (a concurrent writer may take the variance
//! first).
//!
//! # Examples
//!
//! ```
//! use chrono::{DateTime, Utc};
//! use offpin::MasterKey;
//! use offpin_ledger::ledger::{CodeSpec, Device, Ledger, LedgerError, memory::MemoryLedger};
//!
//! let master = MasterKey::from_bytes([7; 32]);
//! let mut ledger = MemoryLedger::new();
//! ledger.add_device(&master, &Device::new("front-door", "standard-10"))?;
//! let now: DateTime<Utc> = "2024-12-01T00:00:00Z".parse()?;
//! let spec = CodeSpec::time_bound(
//!     "front-door",
//!     "2025-01-01T16:00:00Z".parse()?,
//!     "2025-01-01T20:00:00Z".parse()?,
//! );
//! for _ in 0..3 {
//!     ledger.issue(&master, &spec, now)?; // variances 0, 1 and 2
//! }
//! let Err(LedgerError::NoVarianceAvailable { pool, .. }) = ledger.issue(&master, &spec, now)
//! else {
//!     panic!("the window has 3 variances")
//! };
//! assert_eq!(pool.held_by.len(), 3);
//! assert_eq!(pool.next_free_at, Some(pool.ends_at)); // they stop opening with the window
//! let proposal = pool.proposal.ok_or("no proposal")?;
//! assert_eq!(proposal.starts_at, "2025-01-01T17:00:00Z".parse::<DateTime<Utc>>()?); // an hour later
//! let moved = CodeSpec::time_bound("front-door", proposal.starts_at, proposal.ends_at);
//! assert!(ledger.issue(&master, &moved, now).is_ok());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// The crate is `no_std`; this module is std-only.
use std::boxed::Box;
use std::collections::{BTreeMap, BTreeSet};
use std::format;
use std::prelude::rust_2024::*;

use core::fmt;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{
    AllocationScope, CodeSpec, CodeWant, Device, DeviceEntry, Ledger, LedgerError, ListFilter,
    Prepared, StoredCode, prepare,
};
use crate::chrono_time::{from_unix, rfc3339_millis};
use crate::record::NO_VARIANCE_AVAILABLE;
use crate::zone::Zone;
use offpin::codec::Codec;
use offpin::profile::{Kind, Profile};
use offpin::time::{UnixSeconds, Window};

/// How many units (hours, or days for daily windows) each way the search
/// for a [`Proposal`] shifts a spent window: at most twice this many
/// candidate windows are planned and checked.
pub const PROPOSAL_SHIFTS: u32 = 24;

/// How many holders a message names before it counts the rest (the
/// error's fields list them all).
const NAMED_IN_MESSAGE: usize = 5;

/// The nearest window of the same kind and length as a spent one that has
/// a free variance (see the module documentation for the search).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Proposal {
    /// Its start: the `starts_at` to request.
    pub starts_at: DateTime<Utc>,
    /// Its end: the `ends_at` to request for a time-bound code; for a
    /// one-time code, the end of its use window (a one-time request gives
    /// only its start).
    pub ends_at: DateTime<Utc>,
    /// How far it is from the spent window, in the window's units (hours;
    /// days for daily windows): positive later, negative earlier.
    pub shift: i64,
}

/// A window whose variances are all taken (a [`LedgerError::NoVarianceAvailable`]
/// or [`LedgerError::NoSharedVariance`]), and what to do instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpentPool {
    /// The window's kind: [`Kind::Hourly`], [`Kind::Daily`] or
    /// [`Kind::OneTime`].
    pub kind: Kind,
    /// The window as encoded (rounded): its start.
    pub starts_at: DateTime<Utc>,
    /// Its end (for a one-time code, the end of its use window).
    pub ends_at: DateTime<Utc>,
    /// The stored codes that hold its variances (deleted ones included),
    /// in issue order; for a group, on every member.
    pub held_by: Vec<String>,
    /// Variances taken by the requests of the same batch before the
    /// refused one (stored by nothing: the batch was refused).
    pub taken_in_batch: u32,
    /// The earliest instant at which a code that holds one of its
    /// variances stops opening (the end of its window). It is the end of
    /// the pool's window too: its variances are never issued again.
    pub next_free_at: Option<DateTime<Utc>>,
    /// The nearest window with a free variance, if one of the
    /// `2 × PROPOSAL_SHIFTS` searched has one.
    pub proposal: Option<Proposal>,
}

impl SpentPool {
    /// A pool of `kind` over `[starts_at, ends_at)` with no holder and no
    /// proposal yet.
    pub fn new(kind: Kind, starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> Self {
        SpentPool {
            kind,
            starts_at,
            ends_at,
            held_by: Vec::new(),
            taken_in_batch: 0,
            next_free_at: None,
            proposal: None,
        }
    }

    /// `time_bound` or `one_time`: the kind of the request, as the
    /// access-code API names it (`recurring` and `clock_set` for offpin's
    /// extension kinds).
    pub const fn code_kind(&self) -> &'static str {
        match self.kind {
            Kind::OneTime => "one_time",
            Kind::Recurring => "recurring",
            Kind::ClockSet => "clock_set",
            _ => "time_bound",
        }
    }

    /// The unit windows are shifted by: (`an hour`, `hour`) or (`a day`,
    /// `day`).
    const fn unit(&self) -> (&'static str, &'static str) {
        match self.kind {
            Kind::Daily => ("a day", "day"),
            _ => ("an hour", "hour"),
        }
    }
}

/// An ongoing slot of a device and the code that took it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotHolder {
    /// The slot.
    pub slot: u32,
    /// The code.
    pub access_code_id: String,
    /// When the code was deleted (its slot revoked for good), if it was.
    pub deleted_at: Option<DateTime<Utc>>,
}

/// The refusal of an allocation that found its scope full: the facts the
/// plan gives, without the holders and the proposal (read afterwards,
/// [`explain`]).
pub(super) fn exhausted(spec: &CodeSpec, p: &Prepared) -> LedgerError {
    if p.scope.kind == Kind::Ongoing {
        return LedgerError::NoSlotAvailable {
            device_id: spec.device_id.clone(),
            slots: p.limit,
            held_by: Vec::new(),
            taken_in_batch: 0,
        };
    }
    match spent(p) {
        Some(pool) => LedgerError::NoVarianceAvailable {
            device_id: spec.device_id.clone(),
            variances: p.limit,
            pool,
        },
        None => LedgerError::invariant(format!(
            "a {} window without bounds was planned",
            p.scope.kind
        )),
    }
}

/// The pool of a planned time-bound or one-time request, bare.
pub(super) fn spent(p: &Prepared) -> Option<Box<SpentPool>> {
    let w = p.plan.window?;
    Some(Box::new(SpentPool::new(
        p.scope.kind,
        from_unix(w.start)?,
        from_unix(w.end)?,
    )))
}

/// What [`explain`] needs of a refused batch.
pub(super) struct Batch<'a> {
    /// The requests.
    pub(super) specs: &'a [CodeSpec],
    /// Their plans, in the same order.
    pub(super) prepared: &'a [Prepared],
    /// Their devices, with codec and zone, by id.
    pub(super) devices: &'a BTreeMap<String, (DeviceEntry, Codec, Option<Zone>)>,
    /// The issue time.
    pub(super) now: UnixSeconds,
}

/// Completes a batch's capacity refusal (a full variance pool or full
/// ongoing slots) with the codes that hold it, when the first stops
/// opening, and a proposal, read from the ledger after the refused
/// transaction; any other error is returned as it is. When the ledger
/// cannot be read, the refusal stays as it was: its cause matters more
/// than its details.
pub(super) fn explain<L: Ledger + ?Sized>(
    l: &mut L,
    e: LedgerError,
    batch: &Batch<'_>,
) -> LedgerError {
    let LedgerError::InBatch { index, source } = e else {
        return e;
    };
    let source = match (batch.specs.get(index), batch.prepared.get(index)) {
        (Some(spec), Some(p)) => explain_one(l, *source, spec, p, index, batch),
        _ => *source,
    };
    LedgerError::InBatch {
        index,
        source: Box::new(source),
    }
}

fn explain_one<L: Ledger + ?Sized>(
    l: &mut L,
    e: LedgerError,
    spec: &CodeSpec,
    p: &Prepared,
    index: usize,
    batch: &Batch<'_>,
) -> LedgerError {
    if !matches!(
        e,
        LedgerError::NoVarianceAvailable { .. } | LedgerError::NoSlotAvailable { .. }
    ) {
        return e;
    }
    let Some((entry, codec, _)) = batch.devices.get(&spec.device_id) else {
        return e;
    };
    let Ok(codes) = l.find(&ListFilter::device(&spec.device_id)) else {
        return e;
    };
    let pending = pending(batch, index, &spec.device_id, &codes);
    match e {
        LedgerError::NoSlotAvailable {
            device_id, slots, ..
        } => LedgerError::NoSlotAvailable {
            held_by: slot_holders(&codes, &p.scope, slots),
            taken_in_batch: count_in(&pending, &p.scope),
            device_id,
            slots,
        },
        LedgerError::NoVarianceAvailable {
            device_id,
            variances,
            mut pool,
        } => {
            let member = Member {
                device: &entry.device,
                codes,
                scope: p.scope,
            };
            fill(
                &mut pool,
                &[member],
                spec,
                p,
                codec.profile(),
                batch.now,
                &pending,
            );
            LedgerError::NoVarianceAvailable {
                device_id,
                variances,
                pool,
            }
        }
        other => other,
    }
}

/// The scopes the requests of the batch before `index` take on
/// `device_id`: one number each, but for those whose idempotency key
/// finds a stored code (or an earlier request of the batch), which take
/// none.
fn pending(
    batch: &Batch<'_>,
    index: usize,
    device_id: &str,
    codes: &[StoredCode],
) -> Vec<AllocationScope> {
    let mut keys = BTreeSet::new();
    let mut out = Vec::new();
    for (spec, p) in batch.specs.iter().zip(batch.prepared).take(index) {
        if spec.device_id != device_id {
            continue;
        }
        if let Some(k) = spec.idempotency_key.as_deref()
            && (!keys.insert(k)
                || codes
                    .iter()
                    .any(|c| c.idempotency_key.as_deref() == Some(k)))
        {
            continue;
        }
        out.push(p.scope);
    }
    out
}

fn count_in(scopes: &[AllocationScope], scope: &AllocationScope) -> u32 {
    let n = scopes.iter().filter(|s| *s == scope).count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The codes that took the slots `0..slots` of `scope`, by slot.
fn slot_holders(codes: &[StoredCode], scope: &AllocationScope, slots: u32) -> Vec<SlotHolder> {
    let mut out: Vec<SlotHolder> = codes
        .iter()
        .filter(|c| c.scope == *scope && c.number < slots)
        .map(|c| SlotHolder {
            slot: c.number,
            access_code_id: c.access_code_id.clone(),
            deleted_at: c.deleted_at,
        })
        .collect();
    out.sort_by_key(|h| h.slot);
    out
}

/// A device whose pool is spent: its codes, and the scope it was asked
/// for (its own key generation).
pub(super) struct Member<'a> {
    pub(super) device: &'a Device,
    pub(super) codes: Vec<StoredCode>,
    pub(super) scope: AllocationScope,
}

/// Fills a bare pool: its holders on every member, when the first stops
/// opening, the batch's share, and the proposal.
pub(super) fn fill(
    pool: &mut SpentPool,
    members: &[Member<'_>],
    template: &CodeSpec,
    p: &Prepared,
    profile: &Profile,
    now: UnixSeconds,
    pending: &[AllocationScope],
) {
    let mut ends: Vec<UnixSeconds> = Vec::new();
    for m in members {
        let zone = m.device.lock_rule().ok();
        for c in m
            .codes
            .iter()
            .filter(|c| c.scope == m.scope && c.number < p.limit)
        {
            pool.held_by.push(c.access_code_id.clone());
            let end = zone
                .and_then(|z| c.grant().and_then(|g| g.window(profile, z)))
                .map(|w| w.end);
            ends.extend(end);
        }
    }
    pool.taken_in_batch = count_in(pending, &p.scope);
    if pool.taken_in_batch > 0 {
        ends.extend(p.plan.window.map(|w| w.end));
    }
    pool.next_free_at = ends.into_iter().min().and_then(from_unix);
    pool.proposal = propose(members, template, p, profile, now, pending);
}

/// The pool of a group request that found no variance free on every
/// member (`planned`: each member's device, request and plan), filled from
/// the members' stored codes; `None` when the plan has no window.
pub(super) fn shared_pool<L: Ledger + ?Sized>(
    l: &mut L,
    planned: &[(Device, CodeSpec, Prepared)],
    profile: &Profile,
    now: UnixSeconds,
) -> Option<Box<SpentPool>> {
    let (_, template, p) = planned.first()?;
    let mut pool = spent(p)?;
    let mut members = Vec::with_capacity(planned.len());
    for (device, _, q) in planned {
        members.push(Member {
            device,
            codes: l
                .find(&ListFilter::device(&device.device_id))
                .unwrap_or_default(),
            scope: q.scope,
        });
    }
    fill(&mut pool, &members, template, p, profile, now, &[]);
    Some(pool)
}

/// The shifts searched, nearest first, later before earlier: 1, -1, 2,
/// -2, ... up to [`PROPOSAL_SHIFTS`].
fn shifts() -> impl Iterator<Item = i64> {
    (1..=PROPOSAL_SHIFTS).flat_map(|k| {
        let k = i64::from(k);
        [k, -k]
    })
}

/// The nearest window with a free variance on every member (see the
/// module documentation).
fn propose(
    members: &[Member<'_>],
    template: &CodeSpec,
    p: &Prepared,
    profile: &Profile,
    now: UnixSeconds,
    pending: &[AllocationScope],
) -> Option<Proposal> {
    let zone = members.first()?.device.lock_rule().ok()?;
    for shift in shifts() {
        let Some(shifted) = shifted_window(&p.scope, shift, profile, zone) else {
            continue;
        };
        if shift < 0 && shifted.start < now {
            continue;
        }
        let Some(want) = want_of(p.scope.kind, shifted) else {
            continue;
        };
        let candidate = CodeSpec {
            want,
            ..template.clone()
        };
        if let Some(w) = free_everywhere(members, &candidate, profile, now, pending) {
            return Some(Proposal {
                starts_at: from_unix(w.start)?,
                ends_at: from_unix(w.end)?,
                shift,
            });
        }
    }
    None
}

/// The window of `scope` moved by `shift` of its units.
fn shifted_window(
    scope: &AllocationScope,
    shift: i64,
    profile: &Profile,
    zone: offpin::tz::TzRule,
) -> Option<Window> {
    let start = u32::try_from(i64::from(scope.start).checked_add(shift)?).ok()?;
    AllocationScope { start, ..*scope }
        .grant(0)?
        .window(profile, zone)
}

/// The request for exactly `w`, of `kind`.
fn want_of(kind: Kind, w: Window) -> Option<CodeWant> {
    match kind {
        Kind::Hourly | Kind::Daily => Some(CodeWant::TimeBound {
            starts_at: from_unix(w.start)?,
            ends_at: from_unix(w.end)?,
        }),
        Kind::OneTime => Some(CodeWant::OneTime {
            starts_at: from_unix(w.start)?,
        }),
        _ => None,
    }
}

/// The window `candidate` is planned to when every member can issue it
/// (alike) and one variance is free on all of them, after the batch's
/// pending requests; `None` otherwise.
fn free_everywhere(
    members: &[Member<'_>],
    candidate: &CodeSpec,
    profile: &Profile,
    now: UnixSeconds,
    pending: &[AllocationScope],
) -> Option<Window> {
    let mut taken = BTreeSet::new();
    let mut first: Option<(AllocationScope, Option<Window>, u32)> = None;
    let mut in_batch: usize = 0;
    for m in members {
        let q = prepare(candidate, m.device, profile, now).ok()?;
        let s = q.scope;
        match &first {
            Some((f, ..))
                if (f.kind, f.start, f.length, f.lineage)
                    != (s.kind, s.start, s.length, s.lineage) =>
            {
                return None;
            }
            Some(_) => {}
            None => first = Some((s, q.plan.window, q.limit)),
        }
        taken.extend(
            m.codes
                .iter()
                .filter(|c| c.scope == s && c.number < q.limit)
                .map(|c| c.number),
        );
        in_batch = in_batch.saturating_add(pending.iter().filter(|x| **x == s).count());
    }
    let (_, window, limit) = first?;
    let free = usize::try_from(limit).ok()?.saturating_sub(taken.len());
    if free > in_batch { window } else { None }
}

/// A list of ids, the first few named and the rest counted.
fn named(ids: &[&str]) -> String {
    let mut text = ids
        .iter()
        .take(NAMED_IN_MESSAGE)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    let rest = ids.len().saturating_sub(NAMED_IN_MESSAGE);
    if rest > 0 {
        text.push_str(&format!(" and {rest} more"));
    }
    text
}

pub(super) fn window_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Hourly => "hourly window",
        Kind::Daily => "daily window",
        Kind::Recurring => "recurring code's weeks",
        Kind::ClockSet => "clock-setting code's window (one PIN per instant)",
        _ => "one-time use window",
    }
}

/// The message of [`LedgerError::NoVarianceAvailable`].
pub(super) fn fmt_no_variance(
    f: &mut fmt::Formatter<'_>,
    device_id: &str,
    variances: u32,
    pool: &SpentPool,
) -> fmt::Result {
    let (all, verb) = if variances == 1 {
        ("the variance".to_owned(), "is")
    } else {
        (format!("all {variances} variances"), "are")
    };
    write!(
        f,
        "{NO_VARIANCE_AVAILABLE} on device '{device_id}': {all} of the {} {} to {} {verb} taken",
        window_name(pool.kind),
        rfc3339_millis(&pool.starts_at),
        rfc3339_millis(&pool.ends_at),
    )?;
    let ids: Vec<&str> = pool.held_by.iter().map(String::as_str).collect();
    match (ids.is_empty(), pool.taken_in_batch) {
        (false, 0) => write!(f, " (by access codes {})", named(&ids))?,
        (false, n) => write!(
            f,
            " (by access codes {} and by {n} earlier requests of this batch)",
            named(&ids)
        )?,
        (true, n) if n > 0 => write!(f, " (by {n} earlier requests of this batch)")?,
        _ => {}
    }
    f.write_str(
        ", and deleting a code does not free its variance (an offline PIN cannot be recalled).",
    )?;
    fmt_next_free(f, pool)?;
    fmt_proposal(f, variances, pool, "")?;
    f.write_str(
        "; or re-key the device (a new key generation), which makes every code issued before stop opening.",
    )
}

/// When the first holder stops opening, as a sentence (with a leading
/// space), or nothing.
pub(super) fn fmt_next_free(f: &mut fmt::Formatter<'_>, pool: &SpentPool) -> fmt::Result {
    let Some(at) = pool.next_free_at else {
        return Ok(());
    };
    let when = if at == pool.ends_at {
        ", when the window ends"
    } else {
        ""
    };
    write!(
        f,
        " The first code holding one stops opening at {}{when}; even then no variance of this window is issued again.",
        rfc3339_millis(&at)
    )
}

/// The other windows and the proposal, with a leading space, ending
/// without a full stop (`where` qualifies "free", e.g. " on every
/// member").
pub(super) fn fmt_proposal(
    f: &mut fmt::Formatter<'_>,
    variances: u32,
    pool: &SpentPool,
    where_: &str,
) -> fmt::Result {
    let (one, unit) = pool.unit();
    let own = if variances == 1 { "" } else { "s" };
    write!(
        f,
        " Each window that starts {one} earlier or later has {variances} variance{own} of its own: "
    )?;
    match &pool.proposal {
        Some(p) => {
            let n = p.shift.unsigned_abs();
            let plural = if n == 1 { "" } else { "s" };
            let way = if p.shift > 0 { "later" } else { "earlier" };
            write!(
                f,
                "the nearest with one free{where_} is {} to {} ({n} {unit}{plural} {way}); issue the code for it",
                rfc3339_millis(&p.starts_at),
                rfc3339_millis(&p.ends_at),
            )
        }
        None => write!(
            f,
            "none of those up to {PROPOSAL_SHIFTS} {unit}s earlier or later has one free{where_}; issue the code for another window"
        ),
    }
}

/// The message of [`LedgerError::NoSlotAvailable`].
pub(super) fn fmt_no_slot(
    f: &mut fmt::Formatter<'_>,
    device_id: &str,
    slots: u32,
    held_by: &[SlotHolder],
    taken_in_batch: u32,
) -> fmt::Result {
    write!(
        f,
        "all {slots} ongoing slots of device '{device_id}' are taken"
    )?;
    let live: Vec<String> = held_by
        .iter()
        .filter(|h| h.deleted_at.is_none())
        .map(|h| format!("slot {}: {}", h.slot, h.access_code_id))
        .collect();
    let revoked: Vec<String> = held_by
        .iter()
        .filter(|h| h.deleted_at.is_some())
        .map(|h| h.slot.to_string())
        .collect();
    let mut parts = Vec::new();
    if !live.is_empty() {
        let live_ids: Vec<&str> = live.iter().map(String::as_str).collect();
        parts.push(format!(
            "{} held by live codes ({})",
            live.len(),
            named(&live_ids)
        ));
    }
    if !revoked.is_empty() {
        let slots: Vec<&str> = revoked.iter().map(String::as_str).collect();
        parts.push(format!(
            "{} revoked when their codes were deleted (slots {})",
            revoked.len(),
            named(&slots)
        ));
    }
    if taken_in_batch > 0 {
        parts.push(format!(
            "{taken_in_batch} by earlier requests of this batch"
        ));
    }
    if !parts.is_empty() {
        write!(f, ": {}", parts.join("; "))?;
    }
    write!(
        f,
        ". No slot ever frees: a slot is held until its code is deleted, and deleting it revokes the slot for good (a revoked slot is never reused); re-keying the device (a new key generation) gives {slots} fresh slots, and makes every code issued before stop opening."
    )
}

/// The `data` of the hosted API's error answer for a capacity refusal
/// (a spent variance pool, shared or not, or spent ongoing slots; looked
/// for inside [`LedgerError::InBatch`] too): the device or group, the code
/// kind, the spent window, the codes that hold it, `next_free_at` (`null`
/// for slots: they never free) and `proposed_starts_at` /
/// `proposed_ends_at` (`null` when no window searched has a free
/// variance). `None` for every other error. Instants are RFC 3339 with
/// milliseconds, as in the records.
///
/// # Examples
///
/// ```
/// use offpin_ledger::ledger::LedgerError;
/// use offpin_ledger::ledger::capacity::error_data;
/// let e = LedgerError::NoSlotAvailable {
///     device_id: "d".into(),
///     slots: 20,
///     held_by: Vec::new(),
///     taken_in_batch: 0,
/// };
/// let data = error_data(&e).ok_or("no data")?;
/// assert_eq!(data["code_kind"], "ongoing");
/// assert!(data["next_free_at"].is_null());
/// assert!(error_data(&LedgerError::MissingFilter).is_none());
/// # Ok::<(), &str>(())
/// ```
pub fn error_data(e: &LedgerError) -> Option<Value> {
    match e.innermost() {
        LedgerError::NoVarianceAvailable {
            device_id,
            variances,
            pool,
        } => {
            let mut data = pool_data(pool, *variances);
            data.insert("device_id".into(), json!(device_id));
            Some(Value::Object(data))
        }
        LedgerError::NoSharedVariance {
            group_id,
            variances,
            taken,
            pool,
        } => {
            let mut data = pool_data(pool, *variances);
            data.insert("group_id".into(), json!(group_id));
            let ids: Vec<&str> = taken.iter().map(|(d, _)| d.as_str()).collect();
            data.insert("device_ids".into(), json!(ids));
            let by_member: serde_json::Map<String, Value> = taken
                .iter()
                .map(|(d, used)| (d.clone(), json!(used)))
                .collect();
            data.insert("taken".into(), Value::Object(by_member));
            Some(Value::Object(data))
        }
        LedgerError::NoSlotAvailable {
            device_id,
            slots,
            held_by,
            taken_in_batch,
        } => {
            let holders: Vec<Value> = held_by
                .iter()
                .map(|h| {
                    json!({
                        "slot": h.slot,
                        "access_code_id": h.access_code_id,
                        "deleted_at": h.deleted_at.as_ref().map(rfc3339_millis),
                    })
                })
                .collect();
            Some(json!({
                "device_id": device_id,
                "code_kind": "ongoing",
                "slots": slots,
                "held_by": holders,
                "taken_in_batch": taken_in_batch,
                "next_free_at": Value::Null,
            }))
        }
        _ => None,
    }
}

fn pool_data(pool: &SpentPool, variances: u32) -> serde_json::Map<String, Value> {
    let time = |t: Option<&DateTime<Utc>>| t.map(rfc3339_millis);
    let proposal = pool.proposal.as_ref();
    let mut data = serde_json::Map::new();
    let mut put = |k: &str, v: Value| {
        data.insert(k.to_owned(), v);
    };
    put("code_kind", json!(pool.code_kind()));
    put("window_kind", json!(pool.kind.name()));
    put("variances", json!(variances));
    put("starts_at", json!(rfc3339_millis(&pool.starts_at)));
    put("ends_at", json!(rfc3339_millis(&pool.ends_at)));
    put("held_by", json!(pool.held_by));
    put("taken_in_batch", json!(pool.taken_in_batch));
    put("next_free_at", json!(time(pool.next_free_at.as_ref())));
    put(
        "proposed_starts_at",
        json!(time(proposal.map(|p| &p.starts_at))),
    );
    put(
        "proposed_ends_at",
        json!(time(proposal.map(|p| &p.ends_at))),
    );
    data
}
