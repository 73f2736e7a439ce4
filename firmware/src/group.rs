//! The group phase (crate feature `group-keys`): two locks of one group,
//! the front door (the firmware's device key) and the back door (a device
//! key of its own), each a `Lock<8, 2>` that holds the group key beside
//! its device key. One PIN issued under the group key opens both; a
//! one-time group code opens each member once (each lock remembers its
//! own uses); the front door's own code does not open the back door. Then
//! a power cut at the front door: its state comes back from its image with
//! the keys given in the other order (group key first), and the one-time
//! group code it used stays used (its memory entry follows the key).
//!
//! Each entry takes the count-before-check path of the other phases
//! (`Lock::charge`, its image, `Lock::check`, its image, the commits),
//! with one image slot per lock.

use offpin::lock::{Change, Decision, Lock};
use offpin::profile::shipped::STANDARD_10;
use offpin::{Codec, DeviceKey, Refusal, TzRule};

use cortex_m_semihosting::hprintln;

use crate::issued::{BACK_DOOR_KEY, DEVICE_KEY, GROUP, GROUP_KEY, GROUP_ONCE, HANDYMAN, T0};
use crate::report::{Expected, Rel, Shown, Tally, verdict};
use crate::script::Expect::{Open, Refused};
use crate::script::{Expect, matches};
use crate::{Code, D, H, MIN};

/// A member of the group: its device key, then the group key.
type Member = Lock<8, 2>;
const IMAGE_LEN: usize = Member::STATE_LEN;

/// The member from its key store, keys in the given order (device key
/// first at provisioning), in `slot` (the old one dropped first, its key
/// schedules zeroized). Not inlined: its codecs are off the stack after
/// it returns, and the lock is built once, in the caller's slot.
#[inline(never)]
fn member(slot: &mut Option<Member>, keys: [[u8; 16]; 2]) -> Option<&mut Member> {
    *slot = None;
    let [first, second] = keys.map(DeviceKey::from_bytes);
    let lock = Member::new(
        [
            Codec::new(&first, STANDARD_10).ok()?,
            Codec::new(&second, STANDARD_10).ok()?,
        ],
        TzRule::UTC,
    )
    .ok()?;
    Some(slot.insert(lock))
}

/// A power cut: the lock in `slot` replaced by one from the key store
/// (keys in `keys`' order), its state read from its image, then started.
#[inline(never)]
fn reboot(
    slot: &mut Option<Member>,
    image: &mut [u8; IMAGE_LEN],
    keys: [[u8; 16]; 2],
) -> Option<()> {
    let lock = member(slot, keys)?;
    lock.load_newest_into(&[&image[..]], 0).ok()?;
    let start = lock.start();
    persist(lock, image, start)
}

/// The order every change takes: its image if it needs a write, then the
/// commit.
fn persist(lock: &mut Member, image: &mut [u8; IMAGE_LEN], change: Change) -> Option<()> {
    if change.needs_write() {
        lock.save_after(&change, image).ok()?;
    }
    lock.commit(change).ok()
}

/// One entry, count-before-check; the decision and the key that decided.
fn enter(
    lock: &mut Member,
    image: &mut [u8; IMAGE_LEN],
    typed: &str,
    now: i64,
) -> Option<(Decision, Option<usize>)> {
    let charge = lock.charge(now);
    persist(lock, image, charge)?;
    let check = lock.check(typed.as_bytes(), now);
    persist(lock, image, check.change)?;
    Some((check.decision, check.key))
}

/// One step: at `at` after `T0`, the code typed, the decision and the key
/// expected to decide it (its position in the lock); or a power cut after
/// which the keys come back from the key store in the given order.
enum Step {
    Type(&'static Code, i64, Expect, Option<usize>),
    PowerCut([[u8; 16]; 2]),
}

/// When the one-time group code's use window is open.
const ONCE_AT: i64 = 2 * D + 10 * H + 30 * MIN;

/// The front door: the group PIN, the one-time group code once; then a
/// power cut after which its keys are loaded as `[group, device]`: the
/// used code stays used, and the group key is key 0.
const FRONT: &[Step] = &[
    Step::Type(&GROUP, 12 * H, Open, Some(1)),
    Step::Type(&GROUP_ONCE, ONCE_AT, Open, Some(1)),
    Step::Type(
        &GROUP_ONCE,
        ONCE_AT + MIN,
        Refused(Refusal::AlreadyUsed),
        Some(1),
    ),
    Step::PowerCut([GROUP_KEY, DEVICE_KEY]),
    Step::Type(
        &GROUP_ONCE,
        ONCE_AT + 5 * MIN,
        Refused(Refusal::AlreadyUsed),
        Some(0),
    ),
    Step::Type(&GROUP, ONCE_AT + 6 * MIN, Open, Some(0)),
];

/// The back door: the same group PIN opens, the one-time group code once
/// more (each member remembers its own uses), the front door's own code
/// does not.
const BACK: &[Step] = &[
    Step::Type(&GROUP, 12 * H + MIN, Open, Some(1)),
    Step::Type(&GROUP_ONCE, ONCE_AT + 2 * MIN, Open, Some(1)),
    Step::Type(
        &HANDYMAN,
        ONCE_AT + 3 * MIN,
        Refused(Refusal::InvalidCode),
        None,
    ),
];

/// Runs the group phase; false when a lock could not be built or
/// persisted (every decision is recorded in `tally`).
pub(crate) fn run(tally: &mut Tally) -> bool {
    hprintln!(
        "group phase: two Lock<8, 2> of profile {}, UTC: the front door (device key {}..) and the back door (its own device key {}..), each with the group key {}..",
        STANDARD_10.name(),
        Hex(&DEVICE_KEY),
        Hex(&BACK_DOOR_KEY),
        Hex(&GROUP_KEY)
    );
    door("front", [DEVICE_KEY, GROUP_KEY], FRONT, tally)
        && door("back", [BACK_DOOR_KEY, GROUP_KEY], BACK, tally)
}

/// One member, provisioned with `keys`, types `steps`. Not inlined: one
/// member on the stack at a time (the Cortex-M0 has 16 KiB of RAM).
#[inline(never)]
fn door(name: &str, keys: [[u8; 16]; 2], steps: &[Step], tally: &mut Tally) -> bool {
    let mut slot = None;
    if member(&mut slot, keys).is_none() {
        hprintln!("FATAL: Lock::new of the {} door", name);
        return false;
    }
    let mut image = [0u8; IMAGE_LEN];
    for step in steps {
        let Some(lock) = slot.as_mut() else {
            return false;
        };
        match *step {
            Step::Type(code, at, expect, key) => {
                let Some((decision, by)) = enter(lock, &mut image, code.pin, T0 + at) else {
                    hprintln!("FATAL: persisting an entry at the {} door", name);
                    return false;
                };
                let good = tally.record(matches(decision, expect) && by == key);
                hprintln!(
                    "group: {} door: {} ({}) at {} -> {}, key {:?} [expected: {}, key {:?}] {}",
                    name,
                    code.pin,
                    code.name,
                    Rel(at),
                    Shown(decision),
                    by,
                    Expected(expect),
                    key,
                    verdict(good)
                );
            }
            Step::PowerCut(keys) => {
                if reboot(&mut slot, &mut image, keys).is_none() {
                    hprintln!("FATAL: the {} door did not boot from its image", name);
                    return false;
                }
                hprintln!(
                    "group: {} door: power cut; the lock rebuilt with its keys in the other order (the group key first), its state loaded from its image and started",
                    name
                );
            }
        }
    }
    true
}

/// The first bytes of a key, in hex (enough to tell the keys apart).
struct Hex<'a>(&'a [u8; 16]);

impl core::fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0.iter().take(4).try_for_each(|b| write!(f, "{b:02x}"))
    }
}
