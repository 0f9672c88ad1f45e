"""Feedback's tables (SQLAlchemy Core, the same on PostgreSQL and SQLite).

No contact data is kept here: the worker's and an expert's e-mail addresses are asked from intake
and experts at send time and forgotten after the SMTP exchange (the coordinators' and group
secretaries' addresses are settings). The facts for statistics are ids, types, categories, sector,
group ids and dates: what intake's events carry, nothing more. What the worker wrote about the
case (the free text, what happened next) is kept only while the case's content exists: consent's
key-shredded event blanks it, and an answer given after that keeps only what statistics count.
"""
from __future__ import annotations

import sqlalchemy as sa

from ot_runtime.db import UtcDateTime, inbox_table, outbox_table

metadata = sa.MetaData()

# One follow-up per request: the durable schedule's subject, and the link's target.
follow_ups = sa.Table(
    "follow_ups", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant", sa.String(40), nullable=False),
    sa.Column("request_id", sa.String(36), nullable=False, unique=True),
    sa.Column("type", sa.String(40), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("consulted_at", UtcDateTime(), nullable=False),
    sa.Column("sent_at", UtcDateTime(), nullable=True),        # the request mail's
    sa.Column("expires_at", UtcDateTime(), nullable=True),     # set when the request mail is sent
    sa.Column("used_at", UtcDateTime(), nullable=True),        # the link was used (single use)
    sa.Column("cancel_reason", sa.String(40), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Index("ix_follow_ups_state_expires", "state", "expires_at"),
)

# Each e-mail to send: claimed by one scheduler with a committed state change before the send.
mails = sa.Table(
    "mails", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("follow_up_id", sa.String(36), sa.ForeignKey("follow_ups.id"), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("due_at", UtcDateTime(), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("claimed_at", UtcDateTime(), nullable=True),
    sa.Column("claimed_by", sa.String(100), nullable=True),
    sa.Column("sent_at", UtcDateTime(), nullable=True),
    sa.Column("message_id", sa.String(200), nullable=True),
    sa.Column("last_error", sa.String(100), nullable=True),  # the kind of failure, never content
    sa.UniqueConstraint("follow_up_id", "kind", name="uq_mails_follow_up_kind"),
    sa.Index("ix_mails_state_due", "state", "due_at"),
)

answers = sa.Table(
    "answers", metadata,
    sa.Column("follow_up_id", sa.String(36), sa.ForeignKey("follow_ups.id"), primary_key=True),
    sa.Column("tenant", sa.String(40), nullable=False),
    sa.Column("type", sa.String(40), nullable=False),
    sa.Column("usefulness", sa.Integer, nullable=False),
    sa.Column("got_needed", sa.String(10), nullable=False),
    # Case data: blanked when the case is shredded (see shredded_requests). Statistics count only
    # usefulness and got_needed, by type and answered_at.
    sa.Column("what_next", sa.String(40), nullable=True),
    sa.Column("free_text", sa.Text, nullable=False, server_default=""),  # passed the guard
    sa.Column("answered_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("usefulness BETWEEN 1 AND 5", name="ck_answers_usefulness"),
    sa.Index("ix_answers_tenant_answered", "tenant", "answered_at"),
)

# What intake's events say about each request: ids and categories only, for statistics.
request_facts = sa.Table(
    "request_facts", metadata,
    sa.Column("request_id", sa.String(36), primary_key=True),
    sa.Column("tenant", sa.String(40), nullable=False),
    sa.Column("type", sa.String(40), nullable=False),
    sa.Column("categories", sa.JSON, nullable=False),
    sa.Column("sector", sa.String(20), nullable=True),
    sa.Column("status", sa.String(40), nullable=False),
    sa.Column("submitted_at", UtcDateTime(), nullable=True),
    sa.Column("meeting_id", sa.String(36), nullable=True),
    sa.Column("group_id", sa.String(64), nullable=True),
    sa.Column("meeting_starts_at", UtcDateTime(), nullable=True),
    sa.Column("consulted_at", UtcDateTime(), nullable=True),
    sa.Column("withdrawn_at", UtcDateTime(), nullable=True),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    # Response times, from intake's status events: the first OT response and the returned answer,
    # and the working days waited until the answer (the clock stopped while the team waited for
    # the professional). Counted in statistics after the case's content is gone.
    sa.Column("first_response_at", UtcDateTime(), nullable=True),
    sa.Column("answered_at", UtcDateTime(), nullable=True),
    sa.Column("answer_working_days", sa.Integer, nullable=True),
    # The booking that the notifications follow: the meeting the request is booked into now
    # (NULL once withdrawn or moved off the booking), the event that booked it (the reminders'
    # key), and when its material (the pre-information form) arrived.
    sa.Column("booking_meeting_id", sa.String(36), nullable=True),
    sa.Column("booking_event_id", sa.String(100), nullable=True),
    sa.Column("material_received_at", UtcDateTime(), nullable=True),
    sa.Index("ix_request_facts_tenant_submitted", "tenant", "submitted_at"),
    sa.Index("ix_request_facts_tenant_consulted", "tenant", "consulted_at"),
)

# Requests whose data key consent has shredded (ot.consent.key.shredded.v1): from then on feedback
# keeps nothing the worker wrote about them, including answers that arrive later (with the default
# timings the key is shredded before the feedback mail goes out).
shredded_requests = sa.Table(
    "shredded_requests", metadata,
    sa.Column("request_id", sa.String(36), primary_key=True),
    sa.Column("tenant", sa.String(40), nullable=False),
    sa.Column("shredded_at", UtcDateTime(), nullable=False),
)

# --- notifications ---------------------------------------------------------------------------
# Each notification mail to send (an outbox of mails), written in the transaction of the event
# that causes it and claimed like the follow-up mails. Exactly one row per (event, kind, recipient):
# the unique key makes a repeated event a no-op even without the inbox. No address is stored:
# `recipient` says whose address to look up at send time (the professional of request_id, the
# expert expert_key, the area's coordinators, the secretary of group_id).
notifications = sa.Table(
    "notifications", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant", sa.String(40), nullable=False),
    sa.Column("event_id", sa.String(100), nullable=False),      # the CloudEvent that caused it
    sa.Column("kind", sa.String(30), nullable=False),            # notifications.Kind
    sa.Column("recipient", sa.String(20), nullable=False),       # notifications.Recipient
    sa.Column("recipient_key", sa.String(64), nullable=False, server_default=""),  # expert or group id
    sa.Column("request_id", sa.String(36), nullable=True),
    sa.Column("request_type", sa.String(40), nullable=True),
    sa.Column("meeting_id", sa.String(36), nullable=True),
    sa.Column("state", sa.String(20), nullable=False),           # domain.MailState
    sa.Column("due_at", UtcDateTime(), nullable=False),
    sa.Column("not_after", UtcDateTime(), nullable=True),        # too late to be of use after this
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("claimed_at", UtcDateTime(), nullable=True),
    sa.Column("claimed_by", sa.String(100), nullable=True),
    sa.Column("sent_at", UtcDateTime(), nullable=True),
    sa.Column("message_id", sa.String(200), nullable=True),
    sa.Column("last_error", sa.String(100), nullable=True),      # a reason's name, never a value
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("event_id", "kind", "recipient_key", name="uq_notifications_event_kind_recipient"),
    sa.Index("ix_notifications_state_due", "state", "due_at"),
    sa.Index("ix_notifications_request", "request_id"),
)

# Meetings as intake publishes them: when, the material deadline, where (for the booking
# confirmation and the reminders; a place or a video link, never case data).
meetings = sa.Table(
    "meetings", metadata,
    sa.Column("meeting_id", sa.String(36), primary_key=True),
    sa.Column("tenant", sa.String(40), nullable=False),
    sa.Column("group_id", sa.String(64), nullable=False),
    sa.Column("starts_at", UtcDateTime(), nullable=False),
    sa.Column("booking_deadline", UtcDateTime(), nullable=True),
    sa.Column("location", sa.Text, nullable=False, server_default=""),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

# The experts assigned to each request now, as experts' events say (their events carry the whole
# set): who is newly assigned is the difference.
request_experts = sa.Table(
    "request_experts", metadata,
    sa.Column("request_id", sa.String(36), primary_key=True),
    sa.Column("expert_id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(40), nullable=False),
)

# A person's own choice (GetNotificationSettings/SetNotificationSettings), by their user id:
# no row = the defaults (reminders on).
notification_settings = sa.Table(
    "notification_settings", metadata,
    sa.Column("subject", sa.String(128), primary_key=True),
    sa.Column("tenant", sa.String(40), nullable=False),
    sa.Column("reminders_enabled", sa.Boolean, nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

# The other areas' monthly counts, imported by the coordinating area (aggregate.py): one row per
# area and month, replaced when the area's file for that month is imported again. Counts only.
area_aggregates = sa.Table(
    "area_aggregates", metadata,
    sa.Column("area", sa.String(40), primary_key=True),
    sa.Column("month", sa.String(7), primary_key=True),       # YYYY-MM, Finnish time
    sa.Column("tenant", sa.String(40), nullable=False),       # the coordinating area that imported it
    sa.Column("generated_at", UtcDateTime(), nullable=False),
    sa.Column("imported_at", UtcDateTime(), nullable=False),
    sa.Column("counts", sa.JSON, nullable=False),              # aggregate.Counts.to_json()
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
