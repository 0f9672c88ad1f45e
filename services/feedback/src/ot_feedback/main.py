"""`ot-feedback serve | migrate | smtp-sink`: the process entry points."""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from ot_runtime import process
from ot_runtime.migrations import upgrade

MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger("ot.feedback")


def serve(settings, args=None) -> None:
    from .bootstrap import build
    app = build(settings)
    # The scheduler starts and stops like a consumer: after the relay, before HTTP closes.
    process.serve(app, settings, extra_workers=[app.scheduler])


def migrate(settings, args=None) -> None:
    upgrade(MIGRATIONS, settings.database_url)
    log.info("migrations applied")


def smtp_sink(argv: list[str]) -> int:
    """A local SMTP sink for `make run`: mail is kept in a Maildir and listed on a small page."""
    from .smtp_sink import SmtpSink, serve_page
    parser = argparse.ArgumentParser(prog="ot-feedback smtp-sink")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--maildir", type=Path, default=Path(".data/mail"))
    parser.add_argument("--http-port", type=int, default=8025, help="page listing the mail (0 = none)")
    args = parser.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print("ot-feedback smtp-sink: listens on loopback only", file=sys.stderr)
        return 2
    sink = SmtpSink(args.host, args.port, maildir=args.maildir).start()
    page = serve_page(sink, args.host, args.http_port) if args.http_port else None
    print(f"SMTP sink on {args.host}:{sink.port}; mail in {args.maildir}"
          + (f"; page http://{args.host}:{args.http_port}/" if page else ""), flush=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    if page:
        page.shutdown()
    sink.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["smtp-sink"]:  # a local tool: needs none of the service's settings
        return smtp_sink(argv[1:])
    return process.run_command("feedback", {"serve": serve, "migrate": migrate}, argv)


if __name__ == "__main__":
    sys.exit(main())
