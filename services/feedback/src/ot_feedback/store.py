"""Feedback's tables (SQLAlchemy Core, the same on PostgreSQL and SQLite).

No contact data is kept here: the worker's e-mail address is asked from intake at send time and
forgotten after the SMTP exchange. The facts for statistics are ids, types, categories, sector,
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

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
