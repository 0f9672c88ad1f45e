"""Feedback's edges: who may call each RPC and the form of every field a gRPC caller can set
(enforced by the shared interceptors before a handler runs: ot_runtime.access, ot_runtime.fields).
The answer's fields are checked again by the handler with the same rules (`check_form`, before
the guard reads anything), so the answer has one set of rules whichever way it arrives.

Roles (README, DOMAIN.md): the OT team (coordinator, secretary) runs the follow-ups and reports
on the service. The professional answers the feedback through the mailed link, not with a token
(OpenFeedbackForm and AnswerFeedback are open to anyone: the link's token is the capability,
signed, for one follow-up, until it expires, usable once; the portal's form calls them); the
professional and the expert, who get notifications, keep their own notification settings (their
own user id only: the request has no subject field to name anyone else). The admin (the area's
data-protection officer) needs nothing here: feedback keeps no contact data (addresses are looked
up at send time), the free text goes with the case's content (consent's shredding), the
statistics are counts with small cells suppressed, and a settings row is a user id and one
choice, which its owner reads and changes themself.
"""
from __future__ import annotations

from typing import Mapping

from ot.feedback.v1 import feedback_pb2 as pb

from ot_runtime import fields as f
from ot_runtime.access import ANYONE, access_table
from ot_runtime.errors import FieldViolation

from .aggregate import MAX_FILE_BYTES
from .domain import MAX_FREE_TEXT, GotNeeded, WhatNext

SERVICE = pb.DESCRIPTOR.services_by_name["FeedbackService"]

STAFF = ("coordinator", "secretary")
LINK_TOKEN = f.token(128)

ACCESS = access_table(SERVICE, {
    # The area's figures: the coordinator reports on the service, secretaries on their groups' work.
    "GetStatistics": STAFF,
    # Where one request's follow-up is (dates, state; never the answer): the OT team who asked for
    # the feedback (DOMAIN.md: the secretary asks the worker) and answers "did the mail go?".
    "GetFollowUp": STAFF,
    # The people notifications go to by their user id: the professional (answers, questions,
    # bookings, reminders) and the expert (assignments). The OT team's mails go to addresses in
    # the area's settings, not by user id, so they have no settings here.
    "GetNotificationSettings": ("professional", "expert"),
    "SetNotificationSettings": ("professional", "expert"),
    # The worker's answer form behind the mailed link: no sign-in (the worker may have no account
    # in the area), the signed single-use link token is the permission and opens nothing but the
    # form of its own follow-up; a wrong one learns nothing about any case (handlers.open_link).
    "OpenFeedbackForm": (ANYONE,),
    "AnswerFeedback": (ANYONE,),
    # Another area's monthly counts for the cooperation area's figures (aggregate.py): the
    # coordinator, who reports on the cooperation area; the handler refuses outside the
    # coordinating area. (GetStatistics' cooperation_area flag is for coordinators too: grpc_api.)
    "ImportAreaAggregate": ("coordinator",),
})

FIELD_RULES = f.field_rules({
    # "2026", "2026-Q2" or "2026-05": a short closed value, never stored; the handler parses it and
    # names what is wrong with it.
    pb.GetStatisticsRequest: {"period": f.token(16)},
    pb.GetFollowUpRequest: {"request_id": f.uuid()},
    # The link's token (<id>.<expiry>.<MAC>, 121 characters at most; never stored): its exact form
    # is the signer's (domain.LinkSigner.verify), this only keeps anything huge or odd away.
    pb.OpenFeedbackFormRequest: {"link_token": LINK_TOKEN},
    # The free text as the form's (FORM_RULES): kept until the case's content is shredded.
    pb.AnswerFeedbackRequest: {"link_token": LINK_TOKEN, "free_text": f.text(MAX_FREE_TEXT)},
    # The area's file (aggregate.MAX_FILE_BYTES): its content is checked by aggregate.read_file.
    pb.ImportAreaAggregateRequest: {"file": f.data(MAX_FILE_BYTES)},
})

# The answer's fields as handlers.answer reads them (AnswerFeedback's, as text). Empty values are
# left to the handler's own rules (which are required), so only a value that is there is checked here.
FORM_RULES: Mapping[str, f.Rule] = {
    "usefulness": f.choice({"1", "2", "3", "4", "5"}),
    "got_needed": f.choice(g.value for g in GotNeeded),
    "what_next": f.choice(w.value for w in WhatNext),
    "free_text": f.text(MAX_FREE_TEXT),
}


def check_form(values: Mapping[str, str]) -> list[FieldViolation]:
    """The answer form's fields as the gRPC edge checks a request: every field's form first
    (length, control characters such as NUL, closed choices), and the client-identifier guard over
    the guarded ones only when every form is right, so the guard never reads an over-long text.
    Fields the form does not have are not read (the strict form reader has bounded their number)."""
    return f.check_form({name: value for name, value in values.items() if name in FORM_RULES and value},
                        FORM_RULES)
