"""The local mail viewer (`ot-feedback smtp-sink`): every mail listed and shown from the Jinja2
templates, what a mail says escaped (a mail is input like any other)."""
from __future__ import annotations

import smtplib
import urllib.error
import urllib.request
from email.message import EmailMessage

import pytest

from ot_feedback.smtp_sink import SmtpSink, free_port, serve_page

from feedback_testkit import worker_emails


@pytest.fixture()
def viewer():
    sink = SmtpSink("127.0.0.1", 0).start()
    port = free_port()
    page = serve_page(sink, "127.0.0.1", port)
    yield sink, f"http://127.0.0.1:{port}"
    page.shutdown()
    sink.stop()


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_the_viewer_lists_and_shows_each_mail_escaped(viewer):
    sink, url = viewer
    mail = EmailMessage()
    worker = worker_emails()[0]
    mail["From"], mail["To"], mail["Subject"] = "ot-palaute", worker, "Palaute <b>tänään</b>"
    mail.set_content("Linkki: https://ot.example.invalid/palaute/abc\n<script>alert(1)</script>\n")
    with smtplib.SMTP(sink.host, sink.port, timeout=10) as smtp:
        smtp.send_message(mail)

    status, listing = get(url + "/")
    assert status == 200 and "1 viestiä" in listing
    assert '<a href="/mail/0">Palaute &lt;b&gt;tänään&lt;/b&gt;</a>' in listing and worker in listing
    status, shown = get(url + "/mail/0")
    assert status == 200 and "https://ot.example.invalid/palaute/abc" in shown
    assert "&lt;script&gt;" in shown and "<script>" not in shown
    assert get(url + "/mail/1")[0] == 404 and get(url + "/mail/x")[0] == 404
