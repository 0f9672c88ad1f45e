"""`ot-experts serve | migrate | seed`: the process entry points.

`seed` loads the versioned expert-network dataset (catalogue, agreements, service map) into this
area's database; running it again changes nothing unless the dataset version is newer.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path

from ot_runtime import process

MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger("ot.experts")


def serve(settings, args=None) -> None:
    from .bootstrap import build
    process.serve(build(settings), settings)


def migrate(settings, args=None) -> None:
    # Imported here: Alembic (with Mako and Pygments) is ~15 MB that a serving process never uses.
    from ot_runtime.migrations import upgrade
    upgrade(MIGRATIONS, settings.database_url)
    log.info("migrations applied")


def seed(settings, args=None) -> None:
    from ot_runtime.settings import SettingsError
    from .catalogue import agreement_from_env
    try:
        own = agreement_from_env(settings.extra, settings.tenant)
    except ValueError as exc:
        raise SettingsError(f"experts: {exc}") from None
    result = seed_catalogue(settings.database_url, own)
    print(f"expert catalogue {result.name} v{result.version}: {result.experts_written} experts written, "
          f"{result.skipped_as_current} already current")


def seed_catalogue(database_url: str, area_agreement: dict | None = None):
    """Load the packaged dataset into the database at `database_url` (idempotent per version),
    then the area's own agreement when its settings give one."""
    from ot_runtime.clock import SystemClock
    from ot_runtime.db import create_engine, session_factory
    from .catalogue import seed

    engine = create_engine(database_url)
    try:
        with session_factory(engine).begin() as session:
            return seed(session, SystemClock().now(), area_agreement=area_agreement)
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    return process.run_command("experts", {"serve": serve, "migrate": migrate, "seed": seed}, argv)


if __name__ == "__main__":
    sys.exit(main())
