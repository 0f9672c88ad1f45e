"""The feedback e-mails (Finnish first, then English) and their delivery over SMTP (stdlib smtplib).

A mail names no case: no client facts, no question, no free text; only the kind of service, the
month of the consultation and the link. The Message-ID is the mail row's id, so a duplicate
would be recognisable at the receiving end.
"""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Protocol

from ot_runtime.tenants import TENANTS

from .domain import TYPE_LABELS, MailKind, RequestType
from .stats import LOCAL


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


def compose(*, kind: MailKind, mail_id: str, tenant: str, to: str, sender: str, link: str,
            type_: RequestType, consulted_at: datetime, expires_at: datetime, now: datetime) -> EmailMessage:
    fi_type, en_type = TYPE_LABELS[type_]
    area = TENANTS[tenant]
    month = consulted_at.astimezone(LOCAL)
    until = expires_at.astimezone(LOCAL)
    if kind is MailKind.REMINDER:
        subject = "Muistutus: palautetta OT-keskuksen konsultaatiosta / Reminder: feedback on an OT centre consultation"
        fi_open = "Muistutus: emme ole vielä saaneet palautettasi."
        en_open = "A reminder: we have not received your feedback yet."
    else:
        subject = "Palautetta OT-keskuksen konsultaatiosta / Feedback on an OT centre consultation"
        fi_open, en_open = "Hei,", "Hello,"
    body = f"""{fi_open}

Sait OT-keskuksen ({area}) palvelua: {fi_type}, {month:%m/%Y}. Haluamme parantaa palvelua ja
kysymme siksi, miten se auttoi sinua. Vastaaminen vie pari minuuttia:

{link}

Linkki on henkilökohtainen, toimii kerran ja on voimassa {until:%d.%m.%Y} asti. Älä kirjoita
vastaukseen asiakkaan tunnistetietoja (nimi, henkilötunnus, yhteystiedot, syntymäaika,
diagnoosikoodi).

--

{en_open}

You used the OT centre's service ({area}): {en_type}, {month:%m/%Y}. To improve the service we
ask how it helped you. Answering takes a couple of minutes:

{link}

The link is personal, works once and is valid until {until:%Y-%m-%d}. Do not write any
client-identifying data in the answer (name, identity code, contact details, date of birth,
diagnosis code).

OT-keskus {area} / OT centre {area}
"""
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = to
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = f"<{mail_id}@ot-feedback.{tenant}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-OT-Mail-Kind"] = kind.value
    msg.set_content(body, charset="utf-8")
    return msg
