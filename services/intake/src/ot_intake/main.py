"""`ot-intake serve | migrate | seed-demo`: the process entry points."""
from __future__ import annotations

import argparse
import logging
import sys
from datetime import timedelta
from pathlib import Path

from ot_runtime.auth import Principal
from ot_runtime.logging import configure_logging
from ot_runtime.migrations import upgrade
from ot_runtime.process import run_until_signalled
from ot_runtime.settings import SettingsError, load_settings
from ot_runtime.telemetry import configure_tracing

MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger("ot.intake")


def serve(settings) -> None:
    from .bootstrap import build
    try:
        app = build(settings)
    except SettingsError as exc:
        print(f"ot-intake: {exc}", file=sys.stderr)
        raise SystemExit(2)
    run_until_signalled(grpc_server=app.grpc_server, http_server=app.http_server, relay=app.relay,
                        consumers=[app.consumer], grace_seconds=settings.shutdown_grace_seconds)
    app.producer.close(timeout=10)
    app.engine.dispose()


def seed_demo(settings) -> None:
    """Publish a few future meetings of the area's challenging-divorces group (fictional data only)."""
    from ot_runtime.clock import SystemClock
    from ot_runtime.db import create_engine, session_factory
    from ot_runtime.outbox import Outbox
    from .handlers import IntakeHandlers
    from .store import IntakeRepository, outbox

    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    h = IntakeHandlers(sessions=sessions, outbox=Outbox(outbox, source=settings.event_source, tenant=settings.tenant),
                       tenant=settings.tenant, topic=settings.topic("intake"), clock=SystemClock())
    group = f"haastavat-erot-{settings.tenant}"
    now = h.clock.now().replace(hour=12, minute=0, second=0, microsecond=0)
    with sessions() as s:
        existing = IntakeRepository(s).list_meetings(settings.tenant, group, now)
    if existing:
        print(f"demo meetings already there: {len(existing)} in group {group}")
        return
    secretary = Principal(subject="demo-secretary", tenant=settings.tenant, roles=frozenset({"secretary"}))
    for weeks in (2, 4, 6):
        h.publish_meeting(secretary, group, now + timedelta(weeks=weeks), capacity=3, lead_days=0)
    print(f"published 3 demo meetings in group {group}")
    engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ot-intake", description="The OT platform's intake service.")
    parser.add_argument("command", choices=["serve", "migrate", "seed-demo"])
    args = parser.parse_args(argv)
    try:
        settings = load_settings("intake")
    except SettingsError as exc:
        print(f"ot-intake: {exc}", file=sys.stderr)
        return 2
    configure_logging("intake", settings.tenant, settings.log_level)
    configure_tracing("intake", settings.tenant)
    if args.command == "migrate":
        upgrade(MIGRATIONS, settings.database_url)
        log.info("migrations applied")
    elif args.command == "seed-demo":
        seed_demo(settings)
    else:
        serve(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
