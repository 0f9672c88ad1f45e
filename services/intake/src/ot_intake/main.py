"""`ot-intake serve | migrate | seed-demo`: the process entry points."""
from __future__ import annotations

import logging
import sys
from datetime import timedelta
from pathlib import Path

from ot_runtime import process
from ot_runtime.auth import Principal
from ot_runtime.migrations import upgrade

MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger("ot.intake")


def serve(settings, args=None) -> None:
    from .bootstrap import build
    process.serve(build(settings), settings)


def migrate(settings, args=None) -> None:
    upgrade(MIGRATIONS, settings.database_url)
    log.info("migrations applied")


def seed_demo(settings, args=None) -> None:
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
    return process.run_command("intake", {"serve": serve, "migrate": migrate, "seed-demo": seed_demo}, argv)


if __name__ == "__main__":
    sys.exit(main())
