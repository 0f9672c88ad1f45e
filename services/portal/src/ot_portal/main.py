"""`ot-portal serve | migrate`: the process entry points."""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from ot_runtime.logging import configure_logging
from ot_runtime.settings import SettingsError
from ot_runtime.telemetry import configure_tracing, shutdown_tracing

from .settings import PortalSettings, load_portal_settings

MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger("ot.portal")


def serve(settings: PortalSettings) -> None:
    """Serve the pages until SIGTERM or Ctrl-C; then finish the requests in hand and stop."""
    from .bootstrap import build
    app = build(settings)
    stop = threading.Event()

    def on_signal(signum, _frame):
        log.info("stopping", extra={"signal": signal.Signals(signum).name})
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    app.http_server.start()
    stop.wait()
    app.stop()
    shutdown_tracing()
    log.info("stopped")


def migrate(settings: PortalSettings) -> None:
    # Imported here: Alembic (with Mako and Pygments) is ~15 MB that a serving process never uses.
    from ot_runtime.migrations import upgrade
    upgrade(MIGRATIONS, settings.database_url)
    log.info("migrations applied")


COMMANDS = {"serve": serve, "migrate": migrate}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ot-portal", description="The OT platform's web portal.")
    parser.add_argument("command", choices=list(COMMANDS))
    args = parser.parse_args(argv)
    try:
        settings = load_portal_settings()
        configure_logging("portal", settings.tenant, settings.log_level)
        configure_tracing("portal", settings.tenant)  # a wrong OTEL_TRACES_EXPORTER is a settings error too
    except SettingsError as exc:
        print(f"ot-portal: {exc}", file=sys.stderr)
        return 2
    COMMANDS[args.command](settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
