//! A flash writer with power control against the lock (issue 17): the
//! power cut between an image's write and the counter's raise
//! ([`cut_before_raise`]), an older image put back ([`older_image_back`],
//! [`put_back`]), and a version-1 image offered ([`version_1_image`]).
//! Each is refused and changes nothing.

use cortex_m_semihosting::hprintln;
use offpin::lock::Decision;
use offpin::{DeviceKey, Refusal};

use crate::phases::Phase;
use crate::protocol::{Flash, load};
use crate::report::{Loaded, Shown, Tally, verdict};
use crate::script::Expect::{Open, Refused};
#[cfg(doc)]
use crate::script::Step;
use crate::script::matches;
use crate::{DoorLock, MEMORY, STATE_LEN};

/// After [`Step::PowerCut`]'s boot: the other slot holds the image
/// loaded, older than the start's; put back by someone who can write the
/// flash, it is refused, and the lock keeps its state.
pub(crate) fn older_image_back(lock: &mut DoorLock, flash: &Flash, tally: &mut Tally) {
    let before = lock.sequence();
    let older = usize::from(lock.sequence().is_multiple_of(2));
    let rollback = lock.load_newest_into(&[&flash.slots[older]], flash.counter);
    let good = tally.record(
        matches!(rollback, Err(offpin::PersistError::RolledBack { .. }))
            && lock.sequence() == before
            && lock.is_started(),
    );
    hprintln!(
        "rollback: the older image (slot {}) put back alone -> {}, sequence {} [expected: refused, rolled back, sequence {}] {}",
        older,
        match &rollback {
            Ok(()) => "loaded",
            Err(offpin::PersistError::RolledBack { .. }) => "refused, rolled back",
            Err(_) => "refused (other)",
        },
        lock.sequence(),
        before,
        verdict(good)
    );
}

/// [`Step::CutBeforeRaise`]: `typed` charged and checked at `now`; its
/// check's image written, then the power cut (no counter raise, no commit,
/// the door never moves) with the image copied aside ([`write_unraised`]);
/// the boot, an entry before the start, the start.
#[inline(never)]
pub(crate) fn cut_before_raise(
    key: &DeviceKey,
    phase: &Phase,
    lock: &mut DoorLock,
    flash: &mut Flash,
    tally: &mut Tally,
    typed: &str,
    now: i64,
) -> bool {
    let Some((opened, seq, counter)) = write_unraised(lock, flash, typed, now) else {
        return false;
    };
    // The counter as the charge raised it; the check's image is not.
    let hw = flash.counter;
    let good = tally.record(opened && counter == hw + 1);
    hprintln!(
        "power cut between an image write and the counter raise: {} opens (not acted on), its image (sequence {}, counter {}) written, the hardware counter left at {} [expected: counter {}] {}; a flash writer copies that image aside",
        typed,
        seq,
        counter,
        hw,
        hw + 1,
        verdict(good)
    );
    if !load(key, phase, lock, flash) {
        return false;
    }
    let loaded = lock.sequence();
    let early = decision_only(lock, typed, now + 30);
    let good = tally.record(
        loaded == seq && !lock.is_started() && matches(early, Refused(Refusal::NotStarted)),
    );
    hprintln!(
        "boot: the unraised image loads (sequence {} [expected: {}]); before its start {} -> {} [expected: refused not_started] {}",
        loaded,
        seq,
        typed,
        Shown(early),
        verdict(good)
    );
    let start = lock.start();
    if !flash.persist_and_commit(lock, start) {
        return false;
    }
    let good =
        tally.record(lock.is_started() && lock.sequence() == seq + 1 && flash.counter == counter);
    hprintln!(
        "start: sequence {}, hardware counter raised to {} [expected: sequence {}, counter {}]: the copied image's counter is burnt {}",
        lock.sequence(),
        flash.counter,
        seq + 1,
        counter,
        verdict(good)
    );
    true
}

/// The first half of [`cut_before_raise`]: `typed` charged (persisted and
/// committed) and checked at `now`, its check's image written and copied
/// aside, nothing raised or committed. Whether it opened with an image to
/// write, and that image's sequence number and counter. Not inlined: its
/// `Check` is off the stack before the boot (the Cortex-M0's 16 KiB).
#[inline(never)]
fn write_unraised(
    lock: &mut DoorLock,
    flash: &mut Flash,
    typed: &str,
    now: i64,
) -> Option<(bool, u64, u32)> {
    let charge = lock.charge(now);
    if !flash.persist_and_commit(lock, charge) {
        return None;
    }
    let check = lock.check(typed.as_bytes(), now);
    let opened = matches(check.decision, Open) && check.change.needs_write();
    let slot = flash.write(lock, &check.change)?;
    // Power cut: the counter is not raised, nothing is committed.
    flash.aside[..STATE_LEN].copy_from_slice(&flash.slots[slot]);
    Some((
        opened,
        check.change.image_sequence(),
        check.change.counter(),
    ))
}

/// What `lock` decides for `typed` at `now`, its change dropped (not
/// inlined: the `Check` stays out of the caller's frame).
#[inline(never)]
fn decision_only(lock: &DoorLock, typed: &str, now: i64) -> Decision {
    lock.check(typed.as_bytes(), now).decision
}

/// [`Step::PutBack`]: the image copied aside at the cut written over the
/// newest slot (the guess's charge), the other slot (the start's) kept.
pub(crate) fn put_back(lock: &mut DoorLock, flash: &Flash, tally: &mut Tally) {
    let before = lock.sequence();
    let other = usize::from(before.is_multiple_of(2));
    let back = lock.load_newest_into(
        &[&flash.aside[..STATE_LEN], &flash.slots[other]],
        flash.counter,
    );
    let good = tally.record(
        matches!(back, Err(offpin::PersistError::RolledBack { .. }))
            && lock.sequence() == before
            && lock.is_started(),
    );
    hprintln!(
        "rollback after the cut: the copied image put back over the newest slot -> {}, sequence {} [expected: refused, rolled back, sequence {}; the guess stays counted] {}",
        Loaded(&back),
        lock.sequence(),
        before,
        verdict(good)
    );
}

/// [`Step::Version1Image`]: a version-1 image of this lock's profile and
/// capacity (offpin 0.1's header, sequence `u64::MAX`; nobody needs a key
/// to write one) offered in both slots after version-2 images were
/// written.
pub(crate) fn version_1_image(
    phase: &Phase,
    lock: &mut DoorLock,
    flash: &mut Flash,
    tally: &mut Tally,
) {
    let before = lock.sequence();
    let v1 = &mut flash.aside;
    v1.fill(0);
    v1[..4].copy_from_slice(b"OPL\x01");
    v1[4..12].copy_from_slice(&phase.profile.tweak());
    v1[12..14].copy_from_slice(&(MEMORY as u16).to_be_bytes());
    v1[14] = 1;
    v1[15..23].copy_from_slice(&u64::MAX.to_be_bytes());
    let v1 = &flash.aside;
    let loaded = lock.load_newest_into(&[v1, v1], flash.counter);
    let good = tally
        .record(matches!(loaded, Err(offpin::PersistError::Version1)) && lock.sequence() == before);
    hprintln!(
        "a version-1 image in both slots after version-2 writes: load -> {} [expected: refused, version 1] {}",
        Loaded(&loaded),
        verdict(good)
    );
    #[cfg(feature = "lock-state-v1")]
    {
        // The migration path of the one firmware release that migrates:
        // with the hardware counter, and as a lock without one (counter 0)
        // that still holds a version-2 image in a slot.
        let newest = usize::from(before % 2 == 1);
        for (what, images, counter) in [
            ("with the counter", [&v1[..], &v1[..]], flash.counter),
            (
                "without a counter, a version-2 slot left",
                [&v1[..], &flash.slots[newest][..]],
                0,
            ),
        ] {
            let migrated = lock.migrate_v1_into(&images, counter);
            let good = tally.record(
                matches!(migrated, Err(offpin::PersistError::AlreadyMigrated))
                    && lock.sequence() == before,
            );
            hprintln!(
                "  the migration ({}) -> {} [expected: refused, already migrated] {}",
                what,
                Loaded(&migrated),
                verdict(good)
            );
        }
    }
}
