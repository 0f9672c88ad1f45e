"""`ot-feedback serve | migrate | send-due | export-area-aggregate | seed-demo | smtp-sink`: the entry points."""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path

from ot_runtime import process

MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger("ot.feedback")


def serve(settings, args=None) -> None:
    from .bootstrap import build
    app = build(settings)
    # The scheduler starts and stops like a consumer: after the relay, before HTTP closes.
    process.serve(app, settings, extra_workers=[app.scheduler])


def migrate(settings, args=None) -> None:
    # Imported here: Alembic (with Mako and Pygments) is ~15 MB that a serving process never uses.
    from ot_runtime.migrations import upgrade
    upgrade(MIGRATIONS, settings.database_url)
    log.info("migrations applied")


LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def send_due_refusal(env, smtp_host: str) -> str | None:
    """Why `send-due` must not run here, or None. It sends mail that is not due yet, so it runs
    only on a laptop: never in a pod (Kubernetes gives every container KUBERNETES_SERVICE_HOST,
    whatever the chart says), and only into an SMTP server on this machine (make run's sink), so
    that a mail sent early can reach nobody."""
    if env.get("KUBERNETES_SERVICE_HOST"):
        return "ajetaan klusterissa / running in a cluster (KUBERNETES_SERVICE_HOST is set)"
    if smtp_host not in LOOPBACK:
        return f"OT_SMTP_HOST is {smtp_host!r}, not this machine's SMTP sink (127.0.0.1)"
    return None


def as_of_time(text: str) -> datetime:
    """--as-of: a date (midnight UTC) or an ISO 8601 time (UTC when it names no offset)."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def send_due(settings, args=None) -> int:
    """Send now the follow-up mails (feedback request, reminder) due by --as-of, as if that day had
    come: on a laptop, to see the mail `make run` would send 60 days after a consultation. Only
    the follow-up mails: the notifications keep their own times. Each mail is sent once, as the
    running service would send it (the same rows and claims), so the service will not send it again."""
    from ot_runtime.clock import SystemClock
    from ot_runtime.db import create_engine, session_factory
    from .bootstrap import FeedbackConfig, make_scheduler
    from .domain import LinkSigner

    if not args.as_of:
        print("ot-feedback send-due: anna --as-of PÄIVÄ / give --as-of DATE, e.g. --as-of 2027-02-01",
              file=sys.stderr)
        return 2
    try:
        as_of = as_of_time(args.as_of)
    except ValueError:
        print(f"ot-feedback send-due: --as-of {args.as_of!r} ei ole päivä / is not a date (e.g. 2027-02-01)",
              file=sys.stderr)
        return 2
    config = FeedbackConfig.from_env(settings.extra, settings.tenant)
    refusal = send_due_refusal(os.environ, config.smtp.host)
    if refusal:
        print(f"ot-feedback send-due: vain omalla koneella / only on this machine: {refusal}", file=sys.stderr)
        return 2
    engine = create_engine(settings.database_url)
    try:
        scheduler = make_scheduler(settings, config, session_factory(engine), LinkSigner(config.link_secret),
                                   SystemClock())
        result = scheduler.run_due(as_of, follow_ups_only=True)
    finally:
        engine.dispose()
    print(f"ot-feedback send-due {as_of.isoformat()}: lähetetty / sent {len(result.sent)}, "
          f"myöhemmin uudelleen / to retry {result.retried}, peruttu / cancelled {result.cancelled}, "
          f"epäonnistui / failed {result.failed}, vanhentui / expired {result.expired}"
          + (f"; posti / mail: {config.smtp.host}:{config.smtp.port}" if result.sent else ""))
    return 0


def export_area_aggregate(settings, args=None) -> int:
    """Write this area's signed counts of one month (--month YYYY-MM) for the coordinating area
    (aggregate.py) to --out, or to standard output (`kubectl exec ... > file`: the pod's disk is
    read-only). The area's IT sends the file like the statistics database: it holds no personal
    data, but its counts are not suppressed."""
    from ot_runtime.clock import SystemClock
    from ot_runtime.db import create_engine, session_factory
    from .aggregate import AggregateRefused
    from .bootstrap import FeedbackConfig
    from .domain import LinkSigner
    from .handlers import FeedbackHandlers

    if not args.month:
        print("ot-feedback export-area-aggregate: anna --month KUUKAUSI / give --month MONTH, e.g. --month 2026-11",
              file=sys.stderr)
        return 2
    config = FeedbackConfig.from_env(settings.extra, settings.tenant)
    engine = create_engine(settings.database_url)
    try:
        handlers = FeedbackHandlers(sessions=session_factory(engine), tenant=settings.tenant, policy=config.policy,
                                    signer=LinkSigner(config.link_secret), clock=SystemClock(),
                                    cooperation=config.cooperation)
        data = handlers.export_area_aggregate(args.month)
    except AggregateRefused as refused:
        print(f"ot-feedback export-area-aggregate: {refused.message}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    if args.out:
        Path(args.out).write_bytes(data)
        print(f"ot-feedback export-area-aggregate {settings.tenant} {args.month}: {args.out}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0


def seed_demo(settings, args=None) -> int:
    """`make run`'s fictional year of statistics (demo.py); never in a cluster."""
    from ot_runtime.clock import SystemClock
    from ot_runtime.db import create_engine, session_factory
    from .demo import seed_demo as seed

    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        print("ot-feedback seed-demo: vain omalla koneella / only on this machine (KUBERNETES_SERVICE_HOST is set): "
              "demo figures must never enter a real area's statistics", file=sys.stderr)
        return 2
    engine = create_engine(settings.database_url)
    try:
        added = seed(session_factory(engine), settings.tenant, SystemClock().now())
    finally:
        engine.dispose()
    print(f"ot-feedback seed-demo: demotilastoja lisätty / demo statistics added: {added}")
    return 0


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as-of", metavar="DATE",
                        help="send-due: send the follow-up mails due by this date (laptop only)")
    parser.add_argument("--month", metavar="YYYY-MM", help="export-area-aggregate: the month to export")
    parser.add_argument("--out", metavar="FILE", help="export-area-aggregate: write here (default: standard output)")


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
    return process.run_command(
        "feedback", {"serve": serve, "migrate": migrate, "send-due": send_due,
                     "export-area-aggregate": export_area_aggregate, "seed-demo": seed_demo}, argv,
        add_arguments=_arguments)


if __name__ == "__main__":
    sys.exit(main())
