"""`ot-experts serve | migrate | seed`: the process entry points.

`seed` loads the versioned expert-network dataset (catalogue, agreements, service map) into this
area's database; running it again changes nothing unless the dataset version is newer.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path

from ot_runtime import process
from ot_runtime.migrations import upgrade

MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger("ot.experts")


def serve(settings, args=None) -> None:
    from .bootstrap import build
    process.serve(build(settings), settings)


def migrate(settings, args=None) -> None:
    upgrade(MIGRATIONS, settings.database_url)
    log.info("migrations applied")


def seed(settings, args=None) -> None:
    result = seed_catalogue(settings.database_url)
    print(f"expert catalogue {result.name} v{result.version}: {result.experts_written} experts written, "
          f"{result.skipped_as_current} already current")


def seed_catalogue(database_url: str):
    """Load the packaged dataset into the database at `database_url` (idempotent per version)."""
    from ot_runtime.clock import SystemClock
    from ot_runtime.db import create_engine, session_factory
    from .catalogue import seed

    engine = create_engine(database_url)
    try:
        with session_factory(engine).begin() as session:
            return seed(session, SystemClock().now())
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    return process.run_command("experts", {"serve": serve, "migrate": migrate, "seed": seed}, argv)


if __name__ == "__main__":
    sys.exit(main())
