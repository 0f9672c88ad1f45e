"""`ot-intake serve | migrate | seed-demo`: the process entry points."""
from __future__ import annotations

import logging
import sys
from pathlib import Path

from ot_runtime import process

MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger("ot.intake")


def serve(settings, args=None) -> None:
    from .bootstrap import build
    process.serve(build(settings), settings)


def migrate(settings, args=None) -> None:
    # Imported here: Alembic (with Mako and Pygments) is ~15 MB that a serving process never uses.
    from ot_runtime.migrations import upgrade
    upgrade(MIGRATIONS, settings.database_url)
    log.info("migrations applied")


def seed_demo(settings, args=None) -> int:
    """Fictional demo data (demo.py): meetings, and one request of each type at a different stage
    with its conversation, through consent (which must be running) as the demo users of the area's
    local identity provider. Their tokens come from one of:
      OT_DEMO_OIDC_CLIENT_ID  (`make run`) the demo users sign in at the provider this service
                              trusts (AUTH_JWT_ISSUER) through this public client's password grant
                              (the local realms' `ot-cli`);
      OT_DEMO_TOKEN_KEY_FILE  (tests without a provider) signed with this private key, whose public
                              half this service and consent trust.
    Safe to run again: it adds nothing that is already there."""
    from ot_runtime.clock import FixedClock, SystemClock
    from ot_runtime.db import create_engine, session_factory
    from ot_runtime.errors import OtError
    from ot_runtime.outbox import Outbox
    from .bootstrap import response_target_days
    from .demo import Demo, SignInFailed, demo_people
    from .handlers import IntakeHandlers
    from .store import outbox
    from .vault import ConsentVault

    consent = settings.require("OT_CONSENT_GRPC_TARGET", "host:port of the consent service")
    try:
        people = demo_people(settings)
    except (SignInFailed, OtError) as exc:
        print(f"ot-intake seed-demo: {exc}", file=sys.stderr)
        return 1

    engine = create_engine(settings.database_url)
    now = SystemClock().now()
    clock = FixedClock(now)
    vault = ConsentVault(consent, settings)
    h = IntakeHandlers(sessions=session_factory(engine),
                       outbox=Outbox(outbox, source=settings.event_source, tenant=settings.tenant),
                       tenant=settings.tenant, topic=settings.topic("intake"), clock=clock, vault=vault,
                       response_target_days=response_target_days(settings))
    try:
        lines = Demo(h, clock, people, settings.tenant).run(now)
    finally:
        vault.close()
        engine.dispose()
    print("\n".join(lines) if lines else "demo data already there")
    return 0


def main(argv: list[str] | None = None) -> int:
    return process.run_command("intake", {"serve": serve, "migrate": migrate, "seed-demo": seed_demo}, argv)


if __name__ == "__main__":
    sys.exit(main())
