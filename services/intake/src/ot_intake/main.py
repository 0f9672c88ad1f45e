"""`ot-intake serve | migrate | seed-demo`: the process entry points."""
from __future__ import annotations

import logging
import sys
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
    """Fictional demo data (demo.py): meetings, and one request of each type at a different stage
    with its conversation, through consent (which must be running) as the demo's people. Their
    tokens are signed with the development key `make run` made (OT_DEMO_TOKEN_KEY_FILE). Safe to
    run again: it adds nothing that is already there."""
    from ot_runtime.clock import FixedClock, SystemClock
    from ot_runtime.db import create_engine, session_factory
    from ot_runtime.devtoken import make_token
    from ot_runtime.outbox import Outbox
    from .bootstrap import response_target_days
    from .demo import Demo
    from .handlers import IntakeHandlers
    from .store import outbox
    from .vault import ConsentVault

    key_file = settings.require("OT_DEMO_TOKEN_KEY_FILE", "the development signing key of people's tokens that "
                                "`make run` creates (.data/dev-keys/jwt-private.pem): the demo's people call "
                                "consent with tokens it signs")
    private_key = Path(key_file).read_bytes()
    consent = settings.require("OT_CONSENT_GRPC_TARGET", "host:port of the consent service")
    engine = create_engine(settings.database_url)
    now = SystemClock().now()
    clock = FixedClock(now)
    vault = ConsentVault(consent, settings)
    h = IntakeHandlers(sessions=session_factory(engine),
                       outbox=Outbox(outbox, source=settings.event_source, tenant=settings.tenant),
                       tenant=settings.tenant, topic=settings.topic("intake"), clock=clock, vault=vault,
                       response_target_days=response_target_days(settings))

    def sign(who: Principal) -> str:
        return make_token(private_key, area=settings.tenant, roles=sorted(who.roles), subject=who.subject,
                          groups=sorted(who.groups), ttl_seconds=600)

    try:
        lines = Demo(h, clock, sign, settings.tenant).run(now)
    finally:
        vault.close()
        engine.dispose()
    print("\n".join(lines) if lines else "demo data already there")

def main(argv: list[str] | None = None) -> int:
    return process.run_command("intake", {"serve": serve, "migrate": migrate, "seed-demo": seed_demo}, argv)


if __name__ == "__main__":
    sys.exit(main())
