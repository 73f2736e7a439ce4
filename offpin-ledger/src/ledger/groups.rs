//! Groups: one PIN for several locks (the hosted API's
//! `create_multiple` and `common_code_key`).
//!
//! A **group** has an id (1 to 255 bytes), a profile that all its members
//! share, a key generation, and members (device ids; a device is a member
//! of at most one group). Each member lock holds its own device key and
//! the group key ([`MasterKey::derive_group_key`] of the group id and
//! generation, printed by `offpin group key`), and tries them in that
//! order (`Lock<MEMORY, 2>`). A PIN derived with the group key opens every
//! member.
//!
//! # Issuing for a group
//!
//! [`Ledger::issue_shared`] takes the devices of one group — all its
//! members, no subset: a group PIN opens every member, so a request that
//! left one out would hand out a PIN that opens a lock with no record of
//! it. It plans the window once per member (the members must encode it
//! alike: the same profile, and the same clock for daily windows), then,
//! in one transaction, takes the lowest variance (or ongoing slot) that is
//! free on every member ([`Allocation::joint`]): variances are counted per
//! lock whichever key encodes them, so a member's codes of one window
//! never share a variance, group or not. Each member gets its own record,
//! with the same `code` and the same fresh `common_code_key`.
//!
//! When the devices cannot share a PIN ([`ShareRefusal`]) or no variance
//! is free on every member ([`LedgerError::NoSharedVariance`], naming what
//! each member has taken), [`WhenNotShared`] decides: `throw` refuses and
//! stores nothing; `create_random_code` issues each device its own code
//! under its own key (one batch: all or nothing), each record with the
//! [`NOT_SHARED`] warning saying why, and no `common_code_key`.
//!
//! # Leaving a group
//!
//! [`Ledger::remove_from_group`] removes a member and **re-keys the
//! group**: its generation goes up, so group codes issued from then on are
//! derived with a new group key, which the removed lock does not hold.
//! What the locks need:
//!
//! - The **removed lock** still holds the old group key: it keeps opening
//!   for the group codes issued before the removal (their records say so,
//!   warning `offpin_device_left_group`) until it is re-provisioned with
//!   its device key alone.
//! - The **remaining members** must be given the new group key
//!   (`offpin group key`). Until then, new group codes do not open them;
//!   once they hold it, the group codes issued before the removal stop
//!   opening them (warning `offpin_group_rekeyed`): re-issue those.
//!
//! Deleting a group code is per device, as in the hosted API: each
//! member's record is deleted on its own, the others stay.
//!
//! Membership is read before the allocation's transaction: a member
//! removed by another writer between the two may still get the code
//! (`offpin serve` on SQLite runs one writer at a time).

use std::collections::BTreeMap;

use core::fmt;

use chrono::{DateTime, Utc};

use super::{
    Allocation, CodeSpec, CodeWant, Device, DeviceEntry, Ledger, LedgerError, ListFilter, Slot,
    StoredCode, prepare,
};
use crate::chrono_time::{rfc3339_millis, to_unix, truncate_millis};
use crate::record::{AccessCode, CodeWarning};
use offpin::codec::Codec;
use offpin::issue::IssueError;
use offpin::keys::{DeviceKey, KeyError, MAX_DEVICE_ID_LEN, MasterKey};
use offpin::profile::{Profile, shipped};

/// Warning of the records `create_random_code` issued when the devices
/// could not share one PIN: each opens its own device only.
pub const NOT_SHARED: &str = "offpin_code_not_shared";

/// A group of locks that share a group key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Group {
    /// The group id (1 to 255 bytes; the key derivation input).
    pub group_id: String,
    /// Name of the shipped profile every member has.
    pub profile: String,
    /// The group key's generation (goes up when a member leaves).
    pub generation: u32,
    /// The members' device ids, sorted.
    pub members: Vec<String>,
    /// The workspace that owns the group; its members are devices of the
    /// same workspace ([`workspaces`](super::workspaces)).
    pub workspace_id: String,
}

/// A group and one of its key generations: what a group code was derived
/// with, or which group a device is a member of now.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct GroupRef {
    /// The group.
    pub group_id: String,
    /// The group key's generation.
    pub generation: u32,
}

impl Group {
    /// A group with no member, key generation 0, in the
    /// [`DEFAULT_WORKSPACE`](super::workspaces::DEFAULT_WORKSPACE).
    pub fn new(group_id: &str, profile: &str) -> Self {
        Group {
            group_id: group_id.to_owned(),
            profile: profile.to_owned(),
            generation: 0,
            members: Vec::new(),
            workspace_id: super::workspaces::DEFAULT_WORKSPACE.to_owned(),
        }
    }

    /// Sets the workspace that owns the group.
    pub fn in_workspace(mut self, workspace_id: &str) -> Self {
        self.workspace_id = workspace_id.to_owned();
        self
    }

    /// Checks the id's length and the profile.
    ///
    /// # Errors
    ///
    /// [`LedgerError::InvalidGroupId`], [`LedgerError::UnknownProfile`].
    pub fn validate(&self) -> Result<(), LedgerError> {
        let len = self.group_id.len();
        if len == 0 || len > MAX_DEVICE_ID_LEN {
            return Err(LedgerError::InvalidGroupId { len });
        }
        self.profile_value().map(|_| ())
    }

    fn profile_value(&self) -> Result<Profile, LedgerError> {
        shipped::by_name(&self.profile).ok_or_else(|| LedgerError::UnknownProfile {
            name: self.profile.clone(),
        })
    }

    /// The group key of the current generation.
    ///
    /// # Errors
    ///
    /// [`KeyError`] for an id the key derivation refuses.
    pub fn key(&self, master: &MasterKey) -> Result<DeviceKey, KeyError> {
        master.derive_group_key(self.group_id.as_bytes(), self.generation)
    }

    /// The group and its current generation.
    pub fn reference(&self) -> GroupRef {
        GroupRef {
            group_id: self.group_id.clone(),
            generation: self.generation,
        }
    }
}

/// What [`Ledger::remove_from_group`] returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupRemoval {
    /// The group before.
    pub before: Group,
    /// The group after (one member less, generation one higher).
    pub after: Group,
    /// The removed device's group codes the lock may still open for (it
    /// holds the old group key until re-provisioned).
    pub still_open: Vec<AccessCode>,
}

/// `behavior_when_code_cannot_be_shared`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum WhenNotShared {
    /// Refuse; store nothing.
    #[default]
    Throw,
    /// Issue each device its own code under its own key.
    CreateRandomCode,
}

impl WhenNotShared {
    /// `throw` or `create_random_code`.
    pub const fn name(self) -> &'static str {
        match self {
            WhenNotShared::Throw => "throw",
            WhenNotShared::CreateRandomCode => "create_random_code",
        }
    }

    /// The value of its name.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "throw" => Some(WhenNotShared::Throw),
            "create_random_code" => Some(WhenNotShared::CreateRandomCode),
            _ => None,
        }
    }
}

/// A request for one PIN on several devices ([`Ledger::issue_shared`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SharedSpec {
    /// The devices: every member of one group.
    pub device_ids: Vec<String>,
    /// What to issue.
    pub want: CodeWant,
    /// How far each end of the window may move outward, in seconds.
    pub max_rounding_secs: u32,
    /// Name shown in the records.
    pub name: Option<String>,
    /// The operator's user id.
    pub user_identifier_key: Option<String>,
    /// What to do when the devices cannot share one PIN.
    pub when_not_shared: WhenNotShared,
}

impl SharedSpec {
    /// A request for `want` on `device_ids`, refusing when they cannot
    /// share one PIN.
    pub fn new(device_ids: &[&str], want: CodeWant) -> Self {
        SharedSpec {
            device_ids: device_ids.iter().map(|d| (*d).to_owned()).collect(),
            want,
            max_rounding_secs: 0,
            name: None,
            user_identifier_key: None,
            when_not_shared: WhenNotShared::Throw,
        }
    }

    fn member_spec(&self, device_id: &str, common_code_key: Option<&str>) -> CodeSpec {
        CodeSpec {
            max_rounding_secs: self.max_rounding_secs,
            name: self.name.clone(),
            user_identifier_key: self.user_identifier_key.clone(),
            common_code_key: common_code_key.map(str::to_owned),
            ..CodeSpec::new(device_id, self.want)
        }
    }
}

/// What [`Ledger::issue_shared`] returns. `Debug` shows the records, whose
/// own `Debug` redacts the PINs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharedIssue {
    /// One record per device, in the request's order.
    pub records: Vec<AccessCode>,
    /// The group whose key derived the shared PIN (`None`: not shared).
    pub group: Option<GroupRef>,
    /// The records' `common_code_key` (`None`: not shared).
    pub common_code_key: Option<String>,
    /// Why the devices got codes of their own (`create_random_code`).
    pub not_shared: Option<String>,
}

/// Why devices cannot share one PIN.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ShareRefusal {
    /// No device was given.
    NoDevices,
    /// A device is listed twice.
    DuplicateDevice {
        /// The device.
        device_id: String,
    },
    /// A device is in no group.
    NotInAGroup {
        /// The device.
        device_id: String,
    },
    /// The devices are in different groups.
    DifferentGroups {
        /// The first device.
        first: String,
        /// Its group.
        first_group: String,
        /// A device in another group.
        other: String,
        /// That group.
        other_group: String,
    },
    /// Not every member is listed: the PIN would open them too.
    NotEveryMember {
        /// The group.
        group_id: String,
        /// The members not listed.
        missing: Vec<String>,
    },
    /// The members encode the window differently (daily windows on locks
    /// that keep different clocks).
    DifferentWindows {
        /// The group.
        group_id: String,
        /// A member whose window differs from the first member's.
        device_id: String,
    },
}

impl fmt::Display for ShareRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShareRefusal::NoDevices => f.write_str("device_ids is empty"),
            ShareRefusal::DuplicateDevice { device_id } => {
                write!(f, "device '{device_id}' is listed twice")
            }
            ShareRefusal::NotInAGroup { device_id } => write!(
                f,
                "device '{device_id}' is in no group: one PIN opens several locks only under a group key they hold (offpin group add)"
            ),
            ShareRefusal::DifferentGroups {
                first,
                first_group,
                other,
                other_group,
            } => write!(
                f,
                "devices '{first}' (group '{first_group}') and '{other}' (group '{other_group}') are in different groups: they hold no common key"
            ),
            ShareRefusal::NotEveryMember { group_id, missing } => write!(
                f,
                "a PIN of group '{group_id}' opens every member, and {} not listed: list every member, or use create_random_code for codes of their own",
                quoted(missing)
            ),
            ShareRefusal::DifferentWindows {
                group_id,
                device_id,
            } => write!(
                f,
                "member '{device_id}' of group '{group_id}' encodes this window differently from the first member (its lock keeps another clock): one PIN cannot mean the same window on both"
            ),
        }
    }
}

fn quoted(ids: &[String]) -> String {
    ids.iter()
        .map(|d| format!("'{d}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The messages of the group errors of [`LedgerError`].
pub(super) fn fmt_error(e: &LedgerError, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match e {
        LedgerError::UnknownGroup { group_id } => write!(f, "unknown group '{group_id}'"),
        LedgerError::InvalidGroupId { len } => write!(
            f,
            "a group id is 1 to {MAX_DEVICE_ID_LEN} bytes (got {len})"
        ),
        LedgerError::GroupConflict { group_id, profile } => {
            write!(f, "group '{group_id}' exists with profile '{profile}'")
        }
        LedgerError::DeviceInAnotherGroup {
            device_id,
            group_id,
        } => write!(
            f,
            "device '{device_id}' is a member of group '{group_id}': a device is in at most one group (its lock holds one group key); remove it from that group first"
        ),
        LedgerError::NotAMember {
            device_id,
            group_id,
        } => write!(
            f,
            "device '{device_id}' is not a member of group '{group_id}'"
        ),
        LedgerError::GroupProfileMismatch {
            device_id,
            device_profile,
            group_id,
            group_profile,
        } => write!(
            f,
            "device '{device_id}' has profile '{device_profile}', group '{group_id}' has '{group_profile}': every member has the group's profile"
        ),
        LedgerError::CannotShare(why) => write!(f, "the code cannot be shared: {why}"),
        LedgerError::NoSharedVariance {
            group_id,
            variances,
            taken,
            pool,
        } => {
            let each: Vec<String> = taken
                .iter()
                .map(|(d, used)| {
                    let list: Vec<String> = used.iter().map(u32::to_string).collect();
                    let full = if used.len() >= usize::try_from(*variances).unwrap_or(usize::MAX) {
                        " (none free)"
                    } else {
                        ""
                    };
                    format!("'{d}' has taken [{}]{full}", list.join(", "))
                })
                .collect();
            write!(
                f,
                "no variance of the {} {} to {} is free on every member of group '{group_id}' (each window has {variances}; {}).",
                super::capacity::window_name(pool.kind),
                rfc3339_millis(&pool.starts_at),
                rfc3339_millis(&pool.ends_at),
                each.join("; ")
            )?;
            super::capacity::fmt_next_free(f, pool)?;
            super::capacity::fmt_proposal(f, *variances, pool, " on every member")?;
            f.write_str("; or with create_random_code give each device a code of its own")
        }
        _ => f.write_str(e.code()),
    }
}

/// Every member's group, by device id.
pub(super) fn memberships(groups: &[Group]) -> BTreeMap<String, GroupRef> {
    groups
        .iter()
        .flat_map(|g| g.members.iter().map(|m| (m.clone(), g.reference())))
        .collect()
}

/// The codec of the key that issued `code` on `device`: the group key of
/// its generation for a group code, else the device key of the code's
/// generation.
pub(super) fn codec_of(
    code: &StoredCode,
    device: &Device,
    master: &MasterKey,
) -> Result<Codec, LedgerError> {
    let cipher = |e| LedgerError::Issue(IssueError::Cipher(e));
    match &code.group {
        Some(g) => {
            let key = master.derive_group_key(g.group_id.as_bytes(), g.generation)?;
            Codec::new(&key, device.profile()?).map_err(cipher)
        }
        None => device
            .clone()
            .with_generation(code.scope.generation)
            .codec(master),
    }
}

pub(super) fn create<L: Ledger + ?Sized>(
    l: &mut L,
    master: &MasterKey,
    new: &Group,
) -> Result<Group, LedgerError> {
    new.validate()?;
    l.workspace(&new.workspace_id)?;
    l.check_master_key(master)?;
    let (group_id, profile) = (new.group_id.as_str(), new.profile.as_str());
    loop {
        match l.group_entry(group_id)? {
            Some(g) if g.workspace_id != new.workspace_id => {
                return Err(super::workspaces::mismatch(
                    "group",
                    group_id,
                    &g.workspace_id,
                    &new.workspace_id,
                ));
            }
            Some(g) if g.profile == profile => return Ok(g),
            Some(g) => {
                return Err(LedgerError::GroupConflict {
                    group_id: g.group_id,
                    profile: g.profile,
                });
            }
            None if l.put_group(new, None)? => return Ok(new.clone()),
            None => {}
        }
    }
}

pub(super) fn add<L: Ledger + ?Sized>(
    l: &mut L,
    master: &MasterKey,
    group_id: &str,
    device_id: &str,
) -> Result<Group, LedgerError> {
    l.check_master_key(master)?;
    let device = l.device(device_id)?;
    loop {
        let group = l.group(group_id)?;
        if group.members.iter().any(|m| m == device_id) {
            return Ok(group);
        }
        if device.workspace_id != group.workspace_id {
            return Err(super::workspaces::mismatch(
                "device",
                device_id,
                &device.workspace_id,
                &group.workspace_id,
            ));
        }
        if device.profile != group.profile {
            return Err(LedgerError::GroupProfileMismatch {
                device_id: device_id.to_owned(),
                device_profile: device.profile,
                group_id: group.group_id,
                group_profile: group.profile,
            });
        }
        if let Some(other) = l.membership(device_id)? {
            return Err(LedgerError::DeviceInAnotherGroup {
                device_id: device_id.to_owned(),
                group_id: other.group_id,
            });
        }
        let mut after = group.clone();
        after.members.push(device_id.to_owned());
        after.members.sort();
        if l.put_group(&after, Some(&group))? {
            return Ok(after);
        }
    }
}

pub(super) fn remove<L: Ledger + ?Sized>(
    l: &mut L,
    master: &MasterKey,
    group_id: &str,
    device_id: &str,
    now: DateTime<Utc>,
) -> Result<GroupRemoval, LedgerError> {
    l.check_master_key(master)?;
    let (before, after) = loop {
        let before = l.group(group_id)?;
        if !before.members.iter().any(|m| m == device_id) {
            return Err(LedgerError::NotAMember {
                device_id: device_id.to_owned(),
                group_id: group_id.to_owned(),
            });
        }
        let mut after = before.clone();
        after.members.retain(|m| m != device_id);
        after.generation = before.generation.checked_add(1).ok_or_else(|| {
            LedgerError::invariant(format!("group '{group_id}' has used every key generation"))
        })?;
        if l.put_group(&after, Some(&before))? {
            break (before, after);
        }
    };
    let mut still_open = Vec::new();
    if let Some(entry) = l.device_entry(device_id)? {
        for code in l.find(&ListFilter::device(device_id))? {
            if code.group.as_ref().is_some_and(|g| g.group_id == group_id) {
                let record = code.record(&entry, None, now)?;
                if record.may_open() {
                    still_open.push(record);
                }
            }
        }
    }
    Ok(GroupRemoval {
        before,
        after,
        still_open,
    })
}

/// One PIN for the devices of `spec`, or codes of their own
/// (`create_random_code`).
pub(super) fn issue<L: Ledger + ?Sized>(
    l: &mut L,
    master: &MasterKey,
    spec: &SharedSpec,
    now: DateTime<Utc>,
) -> Result<SharedIssue, LedgerError> {
    l.check_master_key(master)?;
    let ids = &spec.device_ids;
    if ids.is_empty() {
        return Err(LedgerError::CannotShare(ShareRefusal::NoDevices));
    }
    for (i, id) in ids.iter().enumerate() {
        if ids.iter().skip(i.saturating_add(1)).any(|d| d == id) {
            return Err(LedgerError::CannotShare(ShareRefusal::DuplicateDevice {
                device_id: id.clone(),
            }));
        }
        l.device(id)?;
    }
    let shared = common_group(l, ids).and_then(|g| issue_in_group(l, master, &g, spec, now));
    match shared {
        Err(e @ (LedgerError::CannotShare(_) | LedgerError::NoSharedVariance { .. }))
            if spec.when_not_shared == WhenNotShared::CreateRandomCode =>
        {
            issue_each(l, master, spec, &e, now)
        }
        other => other,
    }
}

/// The group whose members are exactly `ids`.
fn common_group<L: Ledger + ?Sized>(l: &mut L, ids: &[String]) -> Result<Group, LedgerError> {
    let members = l.memberships()?;
    let refuse = |r| Err(LedgerError::CannotShare(r));
    let mut first: Option<(&String, &GroupRef)> = None;
    for id in ids {
        let Some(g) = members.get(id) else {
            return refuse(ShareRefusal::NotInAGroup {
                device_id: id.clone(),
            });
        };
        match first {
            None => first = Some((id, g)),
            Some((f, fg)) if fg.group_id != g.group_id => {
                return refuse(ShareRefusal::DifferentGroups {
                    first: f.clone(),
                    first_group: fg.group_id.clone(),
                    other: id.clone(),
                    other_group: g.group_id.clone(),
                });
            }
            Some(_) => {}
        }
    }
    let group_id = first.map(|(_, g)| g.group_id.clone()).unwrap_or_default();
    let group = l.group(&group_id)?;
    let missing: Vec<String> = group
        .members
        .iter()
        .filter(|m| !ids.contains(m))
        .cloned()
        .collect();
    if !missing.is_empty() {
        return refuse(ShareRefusal::NotEveryMember { group_id, missing });
    }
    Ok(group)
}

/// Issues the shared PIN: plans every member, allocates one variance free
/// on all of them in one transaction, derives the PIN with the group key.
fn issue_in_group<L: Ledger + ?Sized>(
    l: &mut L,
    master: &MasterKey,
    group: &Group,
    spec: &SharedSpec,
    now: DateTime<Utc>,
) -> Result<SharedIssue, LedgerError> {
    let profile = group.profile_value()?;
    let codec = Codec::new(&group.key(master)?, profile)
        .map_err(|e| LedgerError::Issue(IssueError::Cipher(e)))?;
    let common_code_key = uuid::Uuid::new_v4().to_string();
    let planned = plan_members(l, group, spec, &profile, &common_code_key, now)?;
    let allocations: Vec<Allocation<'_>> = planned
        .iter()
        .map(|(d, _, p)| Allocation {
            device_id: &d.device_id,
            scope: p.scope,
            limit: p.limit,
            idempotency_key: None,
            joint: true,
        })
        .collect();
    let created_at = truncate_millis(now);
    let reference = group.reference();
    let mut decide = |i: usize, slot: Slot| -> Result<StoredCode, LedgerError> {
        let (_, member, p) = planned.get(i).ok_or_else(|| {
            LedgerError::invariant("the storage decided a member the group's batch does not have")
        })?;
        let Slot::Free(n) = slot else {
            return Err(match super::capacity::spent(p) {
                Some(pool) => LedgerError::NoSharedVariance {
                    group_id: reference.group_id.clone(),
                    variances: p.limit,
                    taken: Vec::new(),
                    pool,
                },
                None => LedgerError::invariant("a group window without bounds"),
            });
        };
        super::fresh_code(member, p, n, &codec, created_at, Some(reference.clone()))
    };
    let stored = match l.allocate(&allocations, &mut decide) {
        Err(LedgerError::NoSharedVariance { pool, .. }) => {
            let pool =
                super::capacity::shared_pool(l, &planned, &profile, to_unix(&now)).unwrap_or(pool);
            return Err(no_shared_variance(l, group, &planned, pool));
        }
        other => other?,
    };
    let mut records = Vec::with_capacity(stored.len());
    for (a, (device, _, _)) in stored.iter().zip(&planned) {
        let entry = DeviceEntry {
            device: device.clone(),
            removed_at: None,
        };
        records.push(a.code.record(&entry, Some(&reference), now)?);
    }
    Ok(SharedIssue {
        records,
        group: Some(group.reference()),
        common_code_key: Some(common_code_key),
        not_shared: None,
    })
}

/// A member's device, request and plan.
type Planned = (Device, CodeSpec, super::Prepared);

/// Plans the window for every member; they must encode it alike.
fn plan_members<L: Ledger + ?Sized>(
    l: &mut L,
    group: &Group,
    spec: &SharedSpec,
    profile: &Profile,
    common_code_key: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Planned>, LedgerError> {
    let t = to_unix(&now);
    let mut planned: Vec<Planned> = Vec::with_capacity(spec.device_ids.len());
    for id in &spec.device_ids {
        let device = l.device(id)?;
        let member = spec.member_spec(id, Some(common_code_key));
        let p = prepare(&member, &device, profile, t)?;
        if let Some((_, _, first)) = planned.first() {
            let (a, b) = (first.scope, p.scope);
            if (a.kind, a.start, a.length, a.lineage) != (b.kind, b.start, b.length, b.lineage) {
                return Err(LedgerError::CannotShare(ShareRefusal::DifferentWindows {
                    group_id: group.group_id.clone(),
                    device_id: id.clone(),
                }));
            }
        }
        planned.push((device, member, p));
    }
    Ok(planned)
}

/// [`LedgerError::NoSharedVariance`] with the variances each member has
/// taken in the window (read after the refused transaction, for the
/// message) and the `pool`.
fn no_shared_variance<L: Ledger + ?Sized>(
    l: &mut L,
    group: &Group,
    planned: &[Planned],
    pool: Box<super::SpentPool>,
) -> LedgerError {
    let mut variances = 0;
    let mut taken = Vec::with_capacity(planned.len());
    for (device, _, p) in planned {
        variances = p.limit;
        let mut used: Vec<u32> = l
            .find(&ListFilter::device(&device.device_id))
            .unwrap_or_default()
            .into_iter()
            .filter(|c| c.scope == p.scope && c.number < p.limit)
            .map(|c| c.number)
            .collect();
        used.sort_unstable();
        used.dedup();
        taken.push((device.device_id.clone(), used));
    }
    LedgerError::NoSharedVariance {
        group_id: group.group_id.clone(),
        variances,
        taken,
        pool,
    }
}

/// `create_random_code`: each device its own code under its own key, in
/// one batch; each record says why it is not shared.
fn issue_each<L: Ledger + ?Sized>(
    l: &mut L,
    master: &MasterKey,
    spec: &SharedSpec,
    why: &LedgerError,
    now: DateTime<Utc>,
) -> Result<SharedIssue, LedgerError> {
    let specs: Vec<CodeSpec> = spec
        .device_ids
        .iter()
        .map(|d| spec.member_spec(d, None))
        .collect();
    let reason = why.to_string();
    let mut records = Vec::with_capacity(specs.len());
    for out in l.issue_batch(master, &specs, now)? {
        let mut record = out.record;
        record.warnings.push(CodeWarning {
            created_at: truncate_millis(now),
            message: format!(
                "Not shared ({reason}): this device got a code of its own, under its own key, which opens no other lock."
            ),
            warning_code: NOT_SHARED.to_owned(),
        });
        records.push(record);
    }
    Ok(SharedIssue {
        records,
        group: None,
        common_code_key: None,
        not_shared: Some(reason),
    })
}
