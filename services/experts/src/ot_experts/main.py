"""`ot-experts serve | migrate | seed`: the process entry points.

`seed` loads the versioned expert-network dataset (catalogue, agreements, service map) into this
area's database; running it again changes nothing unless the dataset version is newer.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from ot_runtime.logging import configure_logging
from ot_runtime.migrations import upgrade
from ot_runtime.process import run_until_signalled
from ot_runtime.settings import SettingsError, load_settings
from ot_runtime.telemetry import configure_tracing

MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger("ot.experts")


def serve(settings) -> None:
    from .bootstrap import build
    app = build(settings)
    run_until_signalled(grpc_server=app.grpc_server, http_server=app.http_server, relay=app.relay,
                        consumers=[app.consumer], grace_seconds=settings.shutdown_grace_seconds)
    app.producer.close(timeout=10)
    app.engine.dispose()


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
    parser = argparse.ArgumentParser(prog="ot-experts", description="The OT platform's experts service.")
    parser.add_argument("command", choices=["serve", "migrate", "seed"])
    args = parser.parse_args(argv)
    try:
        settings = load_settings("experts")
    except SettingsError as exc:
        print(f"ot-experts: {exc}", file=sys.stderr)
        return 2
    configure_logging("experts", settings.tenant, settings.log_level)
    configure_tracing("experts", settings.tenant)
    if args.command == "migrate":
        upgrade(MIGRATIONS, settings.database_url)
        log.info("migrations applied")
    elif args.command == "seed":
        result = seed_catalogue(settings.database_url)
        print(f"expert catalogue {result.name} v{result.version}: {result.experts_written} experts written, "
              f"{result.skipped_as_current} already current")
    else:
        serve(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
