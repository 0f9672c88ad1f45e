"""Rules without I/O: timings, the signed link, the answer's fields."""
from __future__ import annotations

from datetime import timedelta

import pytest

from ot_feedback.domain import (Answer, FollowUpPolicy, GotNeeded, LinkError, LinkSigner, RequestType, WhatNext,
                                parse_answer)
from ot_runtime.settings import SettingsError

from feedback_testkit import NOW, SECRET


def test_the_default_timings_are_two_months_then_two_weeks():
    p = FollowUpPolicy()
    assert p.request_due(NOW, RequestType.GROUP_CONSULTATION) == NOW + timedelta(days=60)
    assert p.reminder_due(NOW) == NOW + timedelta(days=14)
    assert p.expires(NOW) == NOW + timedelta(days=28)


def test_timings_are_configurable_per_request_type():
    p = FollowUpPolicy.from_env({"OT_FEEDBACK_DELAY_DAYS": "50", "OT_FEEDBACK_DELAY_DAYS_OT_TUKI": "30",
                                 "OT_FEEDBACK_REMINDER_DAYS": "7", "OT_FEEDBACK_ANSWER_DAYS": "21"})
    assert p.request_due(NOW, RequestType.OT_TUKI) == NOW + timedelta(days=30)
    assert p.request_due(NOW, RequestType.GROUP_CONSULTATION) == NOW + timedelta(days=50)
    assert p.reminder_due(NOW) == NOW + timedelta(days=7)


def test_bad_timings_stop_the_start_naming_the_variable():
    with pytest.raises(SettingsError) as err:
        FollowUpPolicy.from_env({"OT_FEEDBACK_DELAY_DAYS": "two months", "OT_FEEDBACK_REMINDER_DAYS": "30"})
    assert "OT_FEEDBACK_DELAY_DAYS" in str(err.value)
    with pytest.raises(SettingsError) as err:
        FollowUpPolicy.from_env({"OT_FEEDBACK_REMINDER_DAYS": "30", "OT_FEEDBACK_ANSWER_DAYS": "20"})
    assert "OT_FEEDBACK_REMINDER_DAYS must be less than OT_FEEDBACK_ANSWER_DAYS" in str(err.value)


def test_a_signed_link_opens_until_it_expires():
    signer = LinkSigner(SECRET)
    token = signer.sign("f-1", NOW + timedelta(days=28))
    assert signer.verify(token, NOW) == "f-1"
    with pytest.raises(LinkError) as err:
        signer.verify(token, NOW + timedelta(days=28))
    assert err.value.reason == "expired"


@pytest.mark.parametrize("change", ["id", "expiry", "mac", "key", "shape"])
def test_a_tampered_link_or_another_key_is_invalid(change):
    signer = LinkSigner(SECRET)
    fid, expires, mac = signer.sign("f-1", NOW + timedelta(days=1)).split(".")
    token = {"id": f"f-2.{expires}.{mac}", "expiry": f"{fid}.{int(expires) + 86400 * 365}.{mac}",
             "mac": f"{fid}.{expires}.{mac[:-2]}AA", "key": LinkSigner(SECRET[::-1]).sign("f-1", NOW + timedelta(days=1)),
             "shape": f"{fid}{expires}{mac}"}[change]
    with pytest.raises(LinkError) as err:
        signer.verify(token, NOW)
    assert err.value.reason == "invalid"


def test_a_short_link_secret_is_refused():
    with pytest.raises(ValueError):
        LinkSigner(b"short")


def test_an_answer_needs_usefulness_and_got_needed():
    answer, problems = parse_answer({"usefulness": "6", "got_needed": "maybe", "what_next": "x"})
    assert {p.field for p in problems} == {"usefulness", "got_needed", "what_next"}
    answer, problems = parse_answer({"usefulness": "4", "got_needed": "partly", "what_next": "nothing_yet",
                                     "free_text": "  Hyvä keskustelu.  "})
    assert problems == []
    assert answer == Answer(4, GotNeeded.PARTLY, WhatNext.NOTHING_YET, "Hyvä keskustelu.")
