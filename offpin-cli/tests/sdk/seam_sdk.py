"""The official Python SDK of the hosted access-code API (`pip install
seam`) against a running `offpin serve`.

    python seam_sdk.py http://127.0.0.1:PORT seam_KEY

The ledger must hold the devices `front-door` and `side-door` (standard-10:
10 digits, 3 variances per window, time zone Europe/Paris), both members of
the group `house` (`offpin group`). Prints one line per check and `sdk: N passed, N
failed`; exits non-zero on any failure. The JavaScript SDK's scenario is
seam_sdk.mjs.
"""

import datetime as dt
import sys
import traceback

from seam import Seam
from seam.resources.access_code import AccessCode
from seam.exceptions import (
    SeamHttpApiError,
    SeamHttpInvalidInputError,
    SeamHttpUnauthorizedError,
)

URL, KEY = sys.argv[1], sys.argv[2]
seam = Seam(api_key=KEY, endpoint=URL)

hour = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=15)).replace(
    minute=0, second=0, microsecond=0
)
START = hour.isoformat()
END = (hour + dt.timedelta(hours=44)).isoformat()
made = {}
checks = []


def check(fn):
    checks.append(fn)
    return fn


@check
def creates_a_time_bound_offline_code():
    # Through the SDK's own HTTP client: its create() has no
    # user_identifier_key parameter, which the API takes.
    res = seam.client.post(
        "/access_codes/create",
        json={
            "device_id": "front-door",
            "name": "Ann",
            "starts_at": START,
            "ends_at": END,
            "is_offline_access_code": True,
            "max_time_rounding": "1hour",
            "user_identifier_key": "guest-ann",
        },
    )
    c = AccessCode.from_dict(res["access_code"])
    assert c.type == "time_bound" and c.is_offline_access_code, c
    assert not c.is_one_time_use and len(c.code) == 10, c
    assert c.starts_at.startswith(hour.strftime("%Y-%m-%dT%H:00:00")), c.starts_at
    made["time_bound"] = c


@check
def creates_a_one_time_offline_code():
    c = seam.access_codes.create(
        device_id="front-door",
        starts_at=START,
        is_one_time_use=True,
        is_offline_access_code=True,
    )
    assert c.type == "time_bound" and c.is_one_time_use, c
    assert any(
        w["warning_code"] == "igloo_algopin_must_be_used_within_24_hours"
        for w in c.warnings
    ), c.warnings
    made["one_time"] = c


@check
def creates_an_ongoing_offline_code():
    c = seam.access_codes.create(
        device_id="front-door", name="cleaner", is_offline_access_code=True
    )
    assert c.type == "ongoing" and c.starts_at is None and c.ends_at is None, c
    made["ongoing"] = c


@check
def lists_by_device():
    ids = [c.access_code_id for c in seam.access_codes.list(device_id="front-door")]
    assert ids == [made[k].access_code_id for k in ("time_bound", "one_time", "ongoing")], ids


@check
def lists_by_ids():
    wanted = [made["ongoing"].access_code_id, made["time_bound"].access_code_id]
    got = [c.access_code_id for c in seam.access_codes.list(access_code_ids=wanted)]
    assert got == wanted[::-1], got  # issue order


@check
def lists_by_user_identifier_key():
    got = seam.access_codes.list(device_id="front-door", user_identifier_key="guest-ann")
    assert [c.access_code_id for c in got] == [made["time_bound"].access_code_id], got


@check
def gets_one():
    c = seam.access_codes.get(access_code_id=made["time_bound"].access_code_id)
    assert c.code == made["time_bound"].code and c.name == "Ann", c
    by_pin = seam.access_codes.get(device_id="front-door", code=made["time_bound"].code)
    assert by_pin.access_code_id == c.access_code_id


@check
def renames_one_but_never_moves_its_window():
    seam.access_codes.update(access_code_id=made["time_bound"].access_code_id, name="Ann S.")
    assert seam.access_codes.get(access_code_id=made["time_bound"].access_code_id).name == "Ann S."
    try:
        seam.access_codes.update(
            access_code_id=made["time_bound"].access_code_id,
            ends_at=(hour + dt.timedelta(hours=50)).isoformat(),
        )
    except SeamHttpInvalidInputError as e:
        assert "cannot be recalled" in str(e), e
    else:
        raise AssertionError("a window change was accepted")


@check
def deletes_one_which_stays_listed_as_removing():
    gone = made["ongoing"].access_code_id
    seam.access_codes.delete(access_code_id=gone)
    listed = {c.access_code_id: c for c in seam.access_codes.list(device_id="front-door")}
    # An offline code cannot be recalled: the lock opens for it until its
    # revocation PIN is typed there, which get shows.
    assert listed[gone].status == "removing", listed[gone]
    warning = seam.access_codes.get(access_code_id=gone).warnings[0]
    assert warning["warning_code"] == "offpin_deleted_still_opens", warning
    assert "revocation PIN" in warning["message"], warning


@check
def refuses_a_code_that_could_never_open():
    began = hour - dt.timedelta(days=17)  # two days ago, for three days
    try:
        seam.access_codes.create(
            device_id="front-door",
            starts_at=began.isoformat(),
            ends_at=(began + dt.timedelta(days=3)).isoformat(),
            is_offline_access_code=True,
        )
    except SeamHttpInvalidInputError as e:
        assert "must be used by" in str(e), e
        assert e.get_validation_error_messages("starts_at"), e.validation_errors
    else:
        raise AssertionError("a window past its activation deadline was issued")


@check
def sees_the_no_variance_error():
    for _ in range(2):  # variances 1 and 2 of the first window
        seam.access_codes.create(device_id="front-door", starts_at=START, ends_at=END)
    try:
        seam.access_codes.create(device_id="front-door", starts_at=START, ends_at=END)
    except SeamHttpApiError as e:
        assert e.code == "igloohome_offline_access_code_no_variance_available", e.code
        assert e.status_code == 409
        # The error's data: the spent window and the nearest free one.
        assert e.data["device_id"] == "front-door", e.data
        assert e.data["code_kind"] == "time_bound", e.data
        assert len(e.data["held_by"]) == 3, e.data
        assert e.data["proposed_starts_at"] and e.data["proposed_ends_at"], e.data
        seam.access_codes.create(
            device_id="front-door",
            starts_at=e.data["proposed_starts_at"],
            ends_at=e.data["proposed_ends_at"],
        )
    else:
        raise AssertionError("a fourth code for a window of three variances")


@check
def bad_input_names_the_field():
    try:
        seam.access_codes.create(device_id="front-door", starts_at="soon", ends_at=END)
    except SeamHttpInvalidInputError as e:
        assert e.get_validation_error_messages("starts_at"), e.validation_errors
    else:
        raise AssertionError("a bad time was accepted")


@check
def unknown_keys_are_refused():
    try:
        Seam(api_key="seam_000000000000_" + "0" * 48, endpoint=URL).devices.list()
    except SeamHttpUnauthorizedError:
        pass
    else:
        raise AssertionError("an unknown key was accepted")


@check
def creates_one_code_on_every_member_of_a_group():
    later = hour + dt.timedelta(days=3)  # a window of its own
    codes = seam.access_codes.create_multiple(
        device_ids=["front-door", "side-door"],
        name="family",
        starts_at=later.isoformat(),
        ends_at=(later + dt.timedelta(hours=20)).isoformat(),
        behavior_when_code_cannot_be_shared="throw",
        preferred_code_length=10,
    )
    assert [c.device_id for c in codes] == ["front-door", "side-door"], codes
    assert codes[0].code == codes[1].code and len(codes[0].code) == 10, codes
    assert codes[0].common_code_key and codes[0].common_code_key == codes[1].common_code_key
    assert codes[0].access_code_id != codes[1].access_code_id
    assert all(c.name == "family" and c.is_offline_access_code for c in codes), codes
    made["shared"] = codes


@check
def refuses_to_share_with_part_of_a_group():
    try:
        seam.access_codes.create_multiple(
            device_ids=["front-door"], starts_at=START, ends_at=END
        )
    except SeamHttpInvalidInputError as e:
        assert "'side-door'" in str(e), e
        assert e.get_validation_error_messages("device_ids"), e.validation_errors
    else:
        raise AssertionError("a group PIN for part of the group was issued")


@check
def deletes_one_member_s_shared_code_and_keeps_the_other():
    front, side = made["shared"]
    seam.access_codes.delete(access_code_id=front.access_code_id)
    kept = seam.access_codes.get(access_code_id=side.access_code_id)
    assert kept.status == "set" and kept.code == side.code, kept
    gone = seam.access_codes.get(access_code_id=front.access_code_id)
    assert gone.status == "removing", gone


@check
def devices_show_their_profile_and_time_zone():
    d = seam.devices.get(device_id="front-door")
    assert d.device_id == "front-door" and d.display_name == "front-door", d
    assert d.location.time_zone == "Europe/Paris", d.location
    assert [x.device_id for x in seam.devices.list()] == ["front-door", "side-door"]


@check
def the_paginator_walks_every_page():
    everything = [c.access_code_id for c in seam.access_codes.list(device_id="front-door")]
    assert len(everything) >= 5, everything
    paginator = seam.create_paginator(
        seam.access_codes.list, {"device_id": "front-door", "limit": 2}
    )
    first, pagination = paginator.first_page()
    assert len(first) == 2 and pagination.has_next_page, pagination
    assert pagination.next_page_cursor in pagination.next_page_url, pagination
    walked = [c.access_code_id for c in paginator.flatten_to_list()]
    assert walked == everything, (walked, everything)
    one = seam.access_codes.list(device_id="front-door", limit=1)
    assert [c.access_code_id for c in one] == everything[:1], one


@check
def a_bad_page_cursor_names_the_field():
    try:
        seam.access_codes.list(device_id="front-door", page_cursor="not-a-cursor")
    except SeamHttpInvalidInputError as e:
        assert e.get_validation_error_messages("page_cursor"), e.validation_errors
    else:
        raise AssertionError("a made-up cursor was read")


@check
def search_finds_a_code_by_name():
    got = seam.access_codes.list(device_id="front-door", search="ANN S")
    assert [c.access_code_id for c in got] == [made["time_bound"].access_code_id], got


@check
def get_shows_the_revocation_pin_after_delete():
    # The SDK's delete returns nothing; get's record carries the PIN (the
    # SDK's AccessCode keeps only the hosted fields: read the JSON).
    gone = made["ongoing"].access_code_id
    res = seam.client.get("/access_codes/get", params={"access_code_id": gone})
    pin = res["access_code"]["revocation_code"]
    assert len(pin) == 10 and pin != made["ongoing"].code, res
    assert pin in seam.access_codes.get(access_code_id=gone).warnings[0]["message"]


@check
def devices_list_filters_and_pages():
    assert [d.device_id for d in seam.devices.list(device_ids=["side-door"])] == ["side-door"]
    assert [d.device_id for d in seam.devices.list(device_type="offpin_lock")] == [
        "front-door",
        "side-door",
    ]
    assert seam.devices.list(device_type="august_lock") == []
    paginator = seam.create_paginator(seam.devices.list, {"limit": 1})
    assert [d.device_id for d in paginator.flatten_to_list()] == ["front-door", "side-door"]


@check
def a_long_window_says_to_send_max_time_rounding_1d():
    start = hour.replace(hour=15)
    end = start + dt.timedelta(days=40)
    try:
        seam.access_codes.create(
            device_id="side-door", starts_at=start.isoformat(), ends_at=end.isoformat()
        )
    except SeamHttpInvalidInputError as e:
        assert 'max_time_rounding: "1d"' in str(e), e
        assert e.get_validation_error_messages("max_time_rounding"), e.validation_errors
    else:
        raise AssertionError("a 40-day window was rounded by a day without asking")
    c = seam.access_codes.create(
        device_id="side-door",
        starts_at=start.isoformat(),
        ends_at=end.isoformat(),
        max_time_rounding="1d",
    )
    assert c.type == "time_bound", c


passed = failed = 0
for fn in checks:
    try:
        fn()
        passed += 1
        print(f"ok   {fn.__name__}")
    except Exception:  # noqa: BLE001 - report every failure, then exit non-zero
        failed += 1
        print(f"FAIL {fn.__name__}")
        traceback.print_exc()
print(f"sdk: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
