"""Shared values, fakes and builders for feedback's unit tests (fictional data only).

Worker e-mail addresses come from the client-identifier guard's corpus, the one place in the
repository that holds (synthetic) identifiers; tests never type their own.
"""
from __future__ import annotations

from datetime import datetime, timezone

from ot_guard.testing import load_corpus
from ot_runtime.auth import Principal

from ot_feedback.directory import Contact, DirectoryUnavailable

TENANT = "pohjois-savo"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
SECRET = b"unit-test-link-secret-0123456789abcdef"

COORDINATOR = Principal(subject="coord-1", tenant=TENANT, roles=frozenset({"coordinator"}))
PROFESSIONAL = Principal(subject="prof-1", tenant=TENANT, roles=frozenset({"professional"}))


def worker_emails() -> list[str]:
    """Distinct synthetic e-mail addresses from the guard's corpus."""
    found = []
    for entry in load_corpus():
        if entry["note"].startswith("disguised"):
            continue  # Unicode look-alikes: the guard's own tests, not a deliverable address
        for f in entry["findings"]:
            value = entry["text"][f["start"]:f["end"]]
            if f["kind"] == "email" and value not in found:
                found.append(value)
    return found


class FakeDirectory:
    """Intake as the scheduler sees it: request id -> contact; `down` makes every call fail."""

    def __init__(self):
        self.contacts: dict[str, Contact] = {}
        self.down = False
        self.calls: list[str] = []

    def contact(self, request_id: str) -> Contact | None:
        self.calls.append(request_id)
        if self.down:
            raise DirectoryUnavailable("UNAVAILABLE")
        return self.contacts.get(request_id)


class FakeExperts:
    """Experts as the scheduler sees it: expert id -> contact e-mail; `down` makes every call fail."""

    def __init__(self):
        self.emails: dict[str, str] = {}
        self.down = False
        self.calls: list[str] = []

    def email(self, expert_id: str) -> str | None:
        self.calls.append(expert_id)
        if self.down:
            raise DirectoryUnavailable("UNAVAILABLE")
        return self.emails.get(expert_id)


class FakeMailer:
    def __init__(self):
        self.sent = []
        self.fail_with: Exception | None = None

    def send(self, message) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append(message)

    def to(self, address: str) -> list:
        return [m for m in self.sent if m["To"] == address]
