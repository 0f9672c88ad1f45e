"""The worker's feedback answer in the browser, without signing in, on the real feedback service
(PostgreSQL, its gRPC edge with the guard) and the real portal, axe-core on every page:

a link mailed before the form moved to the portal (the feedback service's own address) lands on the
portal's form; a client's identity code in the free text is refused at its field with nothing
stored; the corrected answer is saved and the thanks page follows; the same link then says it was
used, and a link that is not the area's says it is not valid.

The follow-up whose mail went out is put straight into feedback's database and its link signed with
the service's own key (the mail's way there, from intake's consultation through Kafka and SMTP, is
the integration tier's test_feedback_flow)."""
from __future__ import annotations

import socket
import uuid
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from browser_testkit import assert_accessible
from ot_guard.testing import sample
from ot_runtime.clock import FixedClock


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mailed_link(feedback, now: datetime) -> str:
    """A follow-up of a consultation two months ago whose request mail went out now: its link token."""
    from ot_feedback.domain import FollowUpState
    from ot_feedback.store import follow_ups
    handlers = feedback.app.handlers
    fid, expires = str(uuid.uuid4()), now + timedelta(days=28)
    with handlers.sessions.begin() as s:
        s.execute(follow_ups.insert().values(
            id=fid, tenant=handlers.tenant, request_id=str(uuid.uuid4()), type="group_consultation",
            state=FollowUpState.SENT.value, consulted_at=now - timedelta(days=60), sent_at=now, expires_at=expires,
            created_at=now, updated_at=now))
    return handlers.signer.sign(fid, expires)


def answers(feedback) -> list:
    with feedback.app.engine.connect() as c:
        return c.execute(sa.text("SELECT usefulness, got_needed, what_next, free_text FROM answers")).all()


def choose(page, label: str) -> None:
    """Tick a radio button by clicking its label, as a person does (the design system draws the
    label over the input)."""
    page.get_by_text(label, exact=True).click()


def test_a_worker_answers_the_mailed_link_without_signing_in(page, start_feedback, start_portal):
    now = datetime.now(timezone.utc)
    port = free_port()
    portal_url = f"http://127.0.0.1:{port}"
    feedback = start_feedback(None, FixedClock(now), OT_PORTAL_URL=portal_url)
    portal = start_portal(feedback=feedback, HTTP_PORT=str(port), OT_PORTAL_PUBLIC_URL=portal_url)
    link = mailed_link(feedback, now)

    # The link as mailed before the move: the feedback service sends the browser to the portal.
    page.goto(f"http://127.0.0.1:{feedback.app.http_server.port}/palaute/{link}")
    assert page.url == f"{portal.url}/palaute/{link}"
    assert page.get_by_role("heading", level=1).inner_text() == "Palaute OT-keskukselle"
    assert page.get_by_role("link", name="Kirjaudu sisään").is_visible()  # nobody is signed in
    assert "konsultaatioryhmä" in page.get_by_test_id("feedback-about").inner_text()
    assert_accessible(page)

    # An identity code in the free text: refused at the field, nothing stored, the link still works.
    choose(page, "4")
    choose(page, "Osittain")
    choose(page, "Suosituksia noudatettiin")
    page.get_by_label("4. Vapaa palaute").fill(f"Asiakas {sample('identity_code')} hyötyi ohjauksesta.")
    page.get_by_role("button", name="Lähetä palaute").click()
    summary = page.get_by_test_id("error-summary")
    assert "henkilötunnuksen" in summary.inner_text()
    assert "henkilötunnuksen" in page.locator("#free_text-error").inner_text()
    assert page.get_by_label("4. Vapaa palaute").get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Osittain").is_checked()  # the choices are kept for correcting
    assert answers(feedback) == []
    assert_accessible(page)
    summary.get_by_role("link").first.click()
    assert page.url.endswith("#free_text")

    page.get_by_label("4. Vapaa palaute").fill("Ryhmän suositukset selkeyttivät työnjakoa.")
    page.get_by_role("button", name="Lähetä palaute").click()
    page.wait_for_url(f"{portal.url}/palaute/kiitos")
    assert page.get_by_role("heading", level=1).inner_text() == "Kiitos palautteestasi"
    assert_accessible(page)
    assert answers(feedback) == [(4, "partly", "recommendations_followed",
                                  "Ryhmän suositukset selkeyttivät työnjakoa.")]

    # Once used, the link says so; a link that is not the area's says it is not valid.
    page.goto(f"{portal.url}/palaute/{link}")
    assert page.get_by_role("heading", level=1).inner_text() == "Linkkiä on jo käytetty"
    assert_accessible(page)
    fid, expires, mac = link.split(".")
    page.goto(f"{portal.url}/palaute/{fid}.{int(expires) + 60}.{mac}")
    assert page.get_by_role("heading", level=1).inner_text() == "Linkki ei kelpaa"
    assert page.get_by_test_id("link-refused").is_visible()
    assert_accessible(page)
    assert len(answers(feedback)) == 1
