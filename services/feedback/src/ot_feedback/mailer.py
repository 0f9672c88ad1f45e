"""The e-mails (Finnish first, then English, from templates: templating.py) and their delivery
over SMTP (stdlib smtplib).

A mail names no case: no client facts, no question, no free text, nothing written in the
conversation; only what happened, the kind of service, the request's short reference, a meeting's
time and place, and a link. The Message-ID is the mail row's id, so a duplicate would be
recognisable at the receiving end.
"""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Protocol, Sequence

from ot_runtime.tenants import TENANTS

from .domain import TYPE_LABELS, MailKind, RequestType
from .templating import render_mail


@dataclass(frozen=True)
class SmtpConfig:
    host: str = "127.0.0.1"
    port: int = 2525
    starttls: bool = False
    username: str = ""
    password: str = ""
    sender: str = ""
    timeout_seconds: float = 30.0


class NotDelivered(Exception):
    """The SMTP server refused or could not be reached before taking the mail: safe to retry."""


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class SmtpMailer:
    def __init__(self, config: SmtpConfig):
        self.config = config

    def send(self, message: EmailMessage) -> None:
        """Deliver one message. NotDelivered when it surely was not taken (connect failed, refused);
        any other exception leaves it unknown whether the server took it."""
        c = self.config
        try:
            smtp = smtplib.SMTP(c.host, c.port, timeout=c.timeout_seconds)
        except (OSError, smtplib.SMTPException) as exc:
            raise NotDelivered(type(exc).__name__) from None
        with smtp:
            try:
                smtp.ehlo()
                if c.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if c.username:
                    smtp.login(c.username, c.password)
            except (OSError, smtplib.SMTPException) as exc:
                raise NotDelivered(type(exc).__name__) from None
            try:
                smtp.send_message(message)
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
                raise NotDelivered(type(exc).__name__) from None
            except smtplib.SMTPDataError as exc:
                if 400 <= exc.smtp_code < 600:  # the server answered "no" to the data
                    raise NotDelivered(type(exc).__name__) from None
                raise


def compose(*, template: str, kind: str, mail_id: str, tenant: str, to: Sequence[str], sender: str,
            now: datetime, **context) -> EmailMessage:
    """A mail from template `mail/<template>.txt` (templating.render_mail) with the area's name in
    its context. `kind` goes into the X-OT-Mail-Kind header (the mail's kind, never its content)."""
    subject, body = render_mail(template, area=TENANTS[tenant], **context)
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = f"<{mail_id}@ot-feedback.{tenant}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-OT-Mail-Kind"] = kind
    msg.set_content(body, charset="utf-8")
    return msg


def compose_follow_up(*, kind: MailKind, mail_id: str, tenant: str, to: str, sender: str, link: str,
                      type_: RequestType, consulted_at: datetime, expires_at: datetime, now: datetime) -> EmailMessage:
    """The feedback request (or its reminder): the kind of service, the month, the link."""
    type_fi, type_en = TYPE_LABELS[type_]
    return compose(template="feedback_request", kind=kind.value, mail_id=mail_id, tenant=tenant, to=[to],
                   sender=sender, now=now, reminder=kind is MailKind.REMINDER, type_fi=type_fi, type_en=type_en,
                   consulted_at=consulted_at, expires_at=expires_at, link=link)
