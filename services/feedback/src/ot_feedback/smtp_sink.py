"""A local SMTP sink (aiosmtpd) for `make run` and the tests: takes every mail, delivers none.

It speaks real SMTP on a loopback port, keeps what arrived in memory (for tests) and, when given
a folder, in a Maildir there (for people: `ot-feedback smtp-sink` also serves a small page that
lists and shows them). Never point it at anything but 127.0.0.1: it is an open sink.
"""
from __future__ import annotations

import mailbox
import socket
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller

from .templating import render_html


@dataclass(frozen=True)
class Received:
    envelope_from: str
    envelope_to: tuple[str, ...]
    message: EmailMessage

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    @property
    def body(self) -> str:
        return self.message.get_body(("plain",)).get_content()


class _Handler:
    def __init__(self, sink: "SmtpSink"):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        msg = message_from_bytes(raw, policy=policy.default)
        self.sink._store(Received(envelope.mail_from, tuple(envelope.rcpt_tos), msg), raw)
        return "250 OK"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class SmtpSink:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, maildir: Path | None = None):
        self.host = host
        self.port = port or free_port(host)
        self.maildir = mailbox.Maildir(maildir, create=True) if maildir else None
        self._received: list[Received] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    def _store(self, item: Received, raw: bytes) -> None:
        with self._lock:
            self._received.append(item)
            if self.maildir is not None:
                self.maildir.add(raw)

    @property
    def messages(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address in m.envelope_to]

    def clear(self) -> None:
        with self._lock:
            self._received.clear()

    def start(self) -> "SmtpSink":
        """Listen (again: a stopped sink can start anew on the same port, keeping what it received)."""
        if self._controller is None:
            self._controller = Controller(_Handler(self), hostname=self.host, port=self.port)
            self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def serve_page(sink: SmtpSink, host: str, port: int) -> ThreadingHTTPServer:
    """A tiny page listing the received mails, newest first, and showing one in full."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):
            items = sink.messages
            if self.path.startswith("/mail/"):
                try:
                    m = items[int(self.path.rsplit("/", 1)[1])]
                except (ValueError, IndexError):
                    return self._send(404, render_html("smtp_sink/not_found.html"))
                return self._send(200, render_html("smtp_sink/message.html", subject=str(m.message["Subject"]),
                                                   headers=[(k, str(v)) for k, v in m.message.items()],
                                                   body=m.body))
            mails = [(i, str(m.message["Subject"]), m.envelope_to) for i, m in reversed(list(enumerate(items)))]
            return self._send(200, render_html("smtp_sink/list.html", mails=mails))

        def _send(self, code: int, page: str) -> None:
            data = page.encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer((host, port), Page)
    threading.Thread(target=server.serve_forever, name="smtp-sink-page", daemon=True).start()
    return server
