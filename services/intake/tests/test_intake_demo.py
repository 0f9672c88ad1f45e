"""`ot-intake seed-demo` (demo.py) on SQLite with a fake consent: one request of each type at a
different stage with its conversation, every text accepted by the guard, each part done by the demo
user who signs in to the portal for it, and a second run that adds nothing (not even a read at
consent). The demo users' tokens come from a provider's password grant (a fake provider on
loopback here; `make run` uses the local Keycloak) or from a development key."""
from __future__ import annotations

import json
import threading
import urllib.parse
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from ot_guard import scan
from ot_runtime.clock import FixedClock
from ot_runtime.devtoken import DEV_AUDIENCE, make_token
from ot_runtime.errors import PermissionDenied
from ot_runtime.settings import SettingsError, load_settings
from ot_runtime.testing import TestKeys
from ot_intake.demo import ENTRIES, QUESTIONS, Caller, Demo, SignInFailed, demo_group, demo_people
from ot_intake.domain import RequestType, Status
from ot_intake.store import RequestFilter, entries, meetings, outbox, requests

from intake_testkit import COORDINATOR, NOW, TENANT, make_handlers


@pytest.fixture()
def keys(tmp_path):
    return TestKeys(tmp_path / "keys")


def settings_for(keys: TestKeys, tmp_path, tenant: str = TENANT, **env):
    return load_settings("intake", {"OT_TENANT": tenant, "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
                                    "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9", **keys.env(), **env})


def dev_people(keys: TestKeys, tmp_path, tenant: str = TENANT) -> dict[str, Caller]:
    return demo_people(settings_for(keys, tmp_path, tenant, OT_DEMO_TOKEN_KEY_FILE=str(keys.private_path)))


def counts(engine) -> dict:
    with engine.connect() as c:
        return {t.name: c.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in (requests, entries, meetings, outbox)}


def run(engine, vault, people, tenant: str = TENANT, now=NOW):
    clock = FixedClock(now)
    return Demo(make_handlers(engine, clock, vault), clock, people, tenant).run(now)


def test_every_demo_text_passes_the_guard():
    texts = list(QUESTIONS.values()) + [text for items in ENTRIES.values() for _, _, text in items]
    assert all(scan(text) == [] for text in texts)


def test_one_request_of_each_type_at_a_different_stage_with_a_conversation(engine, vault, keys, tmp_path):
    lines = run(engine, vault, dev_people(keys, tmp_path))
    assert len(lines) == 5  # the meetings and four requests
    h = make_handlers(engine, FixedClock(NOW), vault)
    page = h.list(COORDINATOR, RequestFilter())
    listed, total = page.items, page.total
    assert total == 4
    assert {r.type for r in listed} == set(RequestType)
    assert sorted(r.status for r in listed) == sorted([Status.AWAITING_INFORMATION, Status.RECOMMENDATIONS_RETURNED,
                                                       Status.SCHEDULED, Status.TRIAGED])
    counted = {r.id: v.entries for r, v in zip(listed, h.views(COORDINATOR, listed))}
    assert all(n >= 1 for n in counted.values())
    by_status = {r.status: r for r in listed}
    assert by_status[Status.TRIAGED].past_target(NOW)  # the worklist shows one late
    assert not by_status[Status.AWAITING_INFORMATION].past_target(NOW)
    assert by_status[Status.RECOMMENDATIONS_RETURNED].answered_at is not None
    with engine.connect() as c:
        assert set(c.execute(sa.select(meetings.c.location)).scalars()) >= {"Perheneuvola, neuvotteluhuone 2"}
        stored = repr(c.execute(sa.select(entries.c.sealed_text)).all())
    assert "vuorotellen" not in stored  # sealed like every conversation


def test_each_part_is_done_by_the_demo_user_who_signs_in_for_it(engine, vault, keys, tmp_path):
    """The portal's demo users find the demo: every request is the demo professional's, the OT
    team's entries are the demo coordinator's, the booking is in the demo secretary's group."""
    run(engine, vault, dev_people(keys, tmp_path))
    with engine.connect() as c:
        owners = set(c.execute(sa.select(requests.c.owner_subject)).scalars())
        authors = set(c.execute(sa.select(entries.c.author_role, entries.c.author_subject)).all())
        groups = set(c.execute(sa.select(meetings.c.group_id)).scalars())
        booked = c.execute(sa.select(requests.c.meeting_id).where(requests.c.meeting_id.is_not(None))).scalars().all()
    assert owners == {"professional-pohjois-savo"}
    assert authors == {("professional", "professional-pohjois-savo"), ("coordinator", "coordinator-pohjois-savo")}
    assert groups == {"haastavat-erot-pohjois-savo"} and len(booked) == 1


def test_an_area_without_a_challenging_divorces_group_books_into_its_statutory_group(engine, vault, keys, tmp_path):
    """Pohjois-Karjala's demo secretary runs its statutory expert group, whose bookings close three
    weeks ahead: the demo's first meeting there must still be open for the booking."""
    from ot_runtime.db import session_factory
    from ot_runtime.outbox import Outbox
    from ot_intake.handlers import IntakeHandlers
    tenant = "pohjois-karjala"
    clock = FixedClock(NOW)
    handlers = IntakeHandlers(sessions=session_factory(engine), outbox=Outbox(outbox, source=f"/ot/{tenant}/intake",
                                                                             tenant=tenant),
                              tenant=tenant, topic=f"ot.{tenant}.intake.v1", clock=clock, vault=vault)
    Demo(handlers, clock, dev_people(keys, tmp_path, tenant), tenant).run(NOW)
    with engine.connect() as c:
        groups = set(c.execute(sa.select(meetings.c.group_id)).scalars())
        statuses = set(c.execute(sa.select(requests.c.status)).scalars())
    assert groups == {demo_group(tenant)} == {"lastensuojelun-asiantuntijaryhma-pohjois-karjala"}
    assert Status.SCHEDULED.value in statuses


def test_a_secretary_outside_the_demo_group_is_refused_before_anything_is_stored(engine, vault, keys, tmp_path):
    people = dev_people(keys, tmp_path)
    outsider = Caller(people["coordinator"].who, people["coordinator"].token)
    with pytest.raises(ValueError, match="haastavat-erot-pohjois-savo"):
        run(engine, vault, {**people, "secretary": outsider})
    assert counts(engine) == {"requests": 0, "entries": 0, "meetings": 0, "outbox": 0}


def test_a_second_run_adds_nothing(engine, vault, keys, tmp_path):
    people = dev_people(keys, tmp_path)
    run(engine, vault, people)
    before, reads = counts(engine), len(vault.reads)
    assert run(engine, vault, people) == []
    assert counts(engine) == before and len(vault.reads) == reads


def test_a_run_weeks_later_publishes_meetings_that_can_still_be_booked_and_nothing_else(engine, vault, keys,
                                                                                        tmp_path):
    people = dev_people(keys, tmp_path)
    run(engine, vault, people)
    before = counts(engine)
    # every demo meeting's booking deadline has passed
    assert run(engine, vault, people, now=NOW + timedelta(days=40)) == [
        "published 3 demo meetings in group haastavat-erot-pohjois-savo"]
    after = counts(engine)
    assert after["meetings"] == before["meetings"] + 3
    assert (after["requests"], after["entries"]) == (before["requests"], before["entries"])


# --- where the demo users' tokens come from ----------------------------------------------------
class FakeProvider:
    """An OpenID provider on loopback as far as seed-demo uses it: the discovery document and a
    token endpoint taking the password grant of the demo users (password "demo") for one client,
    answering with tokens signed by `keys`, as Keycloak's realm would put them."""

    def __init__(self, keys: TestKeys, client_id: str = "ot-cli"):
        self.keys, self.client_id, self.forms = keys, client_id, []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, body: dict):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802
                if self.path == "/realms/pohjois-savo/.well-known/openid-configuration":
                    self._answer(200, {"issuer": provider.issuer, "token_endpoint": f"{provider.issuer}/token"})
                else:
                    self._answer(404, {})

            def do_POST(self):  # noqa: N802
                form = dict(urllib.parse.parse_qsl(self.rfile.read(int(self.headers["Content-Length"])).decode()))
                provider.forms.append(form)
                user = form.get("username", "")
                if (self.path != "/realms/pohjois-savo/token" or form.get("grant_type") != "password"
                        or form.get("client_id") != provider.client_id or form.get("password") != "demo"
                        or user not in ("professional", "coordinator", "secretary")):
                    self._answer(401, {"error": "invalid_grant"})
                    return
                groups = ["haastavat-erot-pohjois-savo", "lastensuojelun-asiantuntijaryhma-pohjois-savo"] \
                    if user == "secretary" else []
                token = make_token(provider.keys.private_path.read_bytes(), area="pohjois-savo", roles=[user],
                                   subject=f"{user}-pohjois-savo", groups=groups, issuer=provider.issuer,
                                   audience=DEV_AUDIENCE, ttl_seconds=3600)
                self._answer(200, {"access_token": token, "token_type": "Bearer"})

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}/realms/pohjois-savo"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def provider(keys):
    fake = FakeProvider(keys)
    yield fake
    fake.close()


def test_the_demo_users_sign_in_at_the_provider_the_service_trusts(provider, keys, tmp_path, engine, vault):
    settings = settings_for(keys, tmp_path, AUTH_JWT_ISSUER=provider.issuer, OT_DEMO_OIDC_CLIENT_ID="ot-cli")
    people = demo_people(settings)
    assert [(f["username"], f["client_id"], f["grant_type"]) for f in provider.forms] == [
        ("professional", "ot-cli", "password"), ("coordinator", "ot-cli", "password"),
        ("secretary", "ot-cli", "password")]
    assert {role: (c.who.subject, sorted(c.who.roles)) for role, c in people.items()} == {
        "professional": ("professional-pohjois-savo", ["professional"]),
        "coordinator": ("coordinator-pohjois-savo", ["coordinator"]),
        "secretary": ("secretary-pohjois-savo", ["secretary"])}
    assert "haastavat-erot-pohjois-savo" in people["secretary"].who.groups
    # ... and the demo runs as them, the provider's tokens travelling with each call.
    assert len(run(engine, vault, people)) == 5
    with engine.connect() as c:
        assert set(c.execute(sa.select(requests.c.owner_subject)).scalars()) == {"professional-pohjois-savo"}


def test_a_refused_sign_in_names_the_user_and_never_the_password(provider, keys, tmp_path):
    settings = settings_for(keys, tmp_path, AUTH_JWT_ISSUER=provider.issuer, OT_DEMO_OIDC_CLIENT_ID="another-client")
    with pytest.raises(SignInFailed) as caught:
        demo_people(settings)
    assert "'professional'" in str(caught.value) and "401" in str(caught.value)
    assert "password" not in str(caught.value)


def test_a_provider_that_does_not_answer_says_how_to_start_it(keys, tmp_path):
    settings = settings_for(keys, tmp_path, AUTH_JWT_ISSUER="http://127.0.0.1:9/realms/pohjois-savo",
                            OT_DEMO_OIDC_CLIENT_ID="ot-cli")
    with pytest.raises(SignInFailed, match="scripts/keycloak.sh start"):
        demo_people(settings)


def test_tokens_of_a_provider_the_service_does_not_trust_are_refused(provider, keys, tmp_path):
    """A realm of another area (its tokens say another ot_area): seed-demo stops before acting."""
    settings = settings_for(keys, tmp_path, "keski-suomi", AUTH_JWT_ISSUER=provider.issuer,
                            OT_DEMO_OIDC_CLIENT_ID="ot-cli")
    with pytest.raises(PermissionDenied):
        demo_people(settings)


@pytest.mark.parametrize("env", [{}, {"OT_DEMO_OIDC_CLIENT_ID": "ot-cli", "OT_DEMO_TOKEN_KEY_FILE": "/dev/null"}])
def test_exactly_one_source_of_tokens_is_required(keys, tmp_path, env):
    with pytest.raises(SettingsError, match="OT_DEMO_OIDC_CLIENT_ID.*OT_DEMO_TOKEN_KEY_FILE"):
        demo_people(settings_for(keys, tmp_path, **env))
