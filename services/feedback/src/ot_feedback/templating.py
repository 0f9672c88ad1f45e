"""The texts people read, from Jinja2 templates (src/ot_feedback/templates): the mails (plain
text, Finnish first, then English) and the local mail viewer's pages (smtp_sink/). No mail text is
written in Python: code passes the few facts a mail may carry (what happened, the request's short
reference, a meeting's time and place, links) and the template says them.

A mail template extends `mail/_base.txt` and fills the blocks `subject_fi`, `subject_en`, `fi` and
`en`; `render_mail` gives (subject, body). Undefined names are errors, never silently empty."""
from __future__ import annotations

from datetime import datetime

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from ot_runtime.workdays import FINNISH_TIME

_WEEKDAYS_FI = ("ma", "ti", "ke", "to", "pe", "la", "su")
_WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _local(value: datetime) -> datetime:
    return value.astimezone(FINNISH_TIME)


# A missing time prints as "?" rather than failing the mail (the meeting's time comes with the
# booking event and the meeting's own event; one of them may be late).
def fi_date(value: datetime | None) -> str:
    if value is None:
        return "?"
    v = _local(value)
    return f"{_WEEKDAYS_FI[v.weekday()]} {v.day}.{v.month}.{v.year}"


def en_date(value: datetime | None) -> str:
    if value is None:
        return "?"
    v = _local(value)
    return f"{_WEEKDAYS_EN[v.weekday()]} {v:%Y-%m-%d}"


def fi_time(value: datetime | None) -> str:
    return "?" if value is None else f"{_local(value):%H.%M}"


def en_time(value: datetime | None) -> str:
    return "?" if value is None else f"{_local(value):%H:%M}"


ENV = Environment(loader=PackageLoader("ot_feedback", "templates"), autoescape=select_autoescape(["html"]),
                  undefined=StrictUndefined, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
ENV.filters.update(fi_date=fi_date, en_date=en_date, fi_time=fi_time, en_time=en_time,
                   local=_local)


def render_mail(name: str, **context) -> tuple[str, str]:
    """(subject, body) of mail template `mail/<name>.txt`."""
    template = ENV.get_template(f"mail/{name}.txt")
    ctx = template.new_context(context)
    block = lambda b: "".join(template.blocks[b](ctx)).strip()  # noqa: E731
    subject = f"{block('subject_fi')} / {block('subject_en')}"
    return " ".join(subject.split()), template.render(**context)


def render_html(name: str, **context) -> str:
    return ENV.get_template(name).render(**context)
