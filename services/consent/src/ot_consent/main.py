"""`ot-consent serve | migrate | purge | verify-audit | export-audit`: the process entry points."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ot_runtime.logging import configure_logging
from ot_runtime.migrations import upgrade
from ot_runtime.process import run_until_signalled
from ot_runtime.settings import SettingsError, load_settings
from ot_runtime.telemetry import configure_tracing

MIGRATIONS = Path(__file__).parent / "migrations"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ot-consent", description="The OT platform's consent and privacy service.")
    parser.add_argument("command", choices=["serve", "migrate", "purge", "verify-audit", "export-audit"])
    parser.add_argument("--out", type=Path, help="export-audit: write JSON lines here (default stdout)")
    args = parser.parse_args(argv)
    try:
        settings = load_settings("consent")
        if args.command == "migrate":
            configure_logging("consent", settings.tenant, settings.log_level)
            upgrade(MIGRATIONS, settings.database_url)
            return 0
        from .bootstrap import build, master_key
        master_key(settings)  # fail fast, naming the variable, before anything starts
    except SettingsError as exc:
        print(f"ot-consent: {exc}", file=sys.stderr)
        return 2
    configure_logging("consent", settings.tenant, settings.log_level)
    configure_tracing("consent", settings.tenant)
    if args.command in ("verify-audit", "export-audit"):
        from .bootstrap import build_handlers
        engine, handlers = build_handlers(settings)
        try:
            if args.command == "verify-audit":
                result = handlers.verify_audit(None)
                print(json.dumps(vars(result)))
                return 0 if result.intact else 1
            export_audit(handlers, args.out)
            return 0
        finally:
            engine.dispose()
    app = build(settings)
    if args.command == "serve":
        run_until_signalled(grpc_server=app.grpc_server, http_server=app.http_server, relay=app.relay,
                            consumers=[app.consumer, app.purger], grace_seconds=settings.shutdown_grace_seconds)
    else:  # purge
        done = app.handlers.purge()
        while app.relay.publish_batch():  # the shredding events go out before we exit
            pass
        print(json.dumps({"shredded": len(done), "request_ids": done}))
    app.producer.close(timeout=10)
    app.engine.dispose()
    return 0


def export_audit(handlers, path: Path | None) -> None:
    """The whole trail as JSON lines, oldest first (for the area's data-protection officer)."""
    out = path.open("w", encoding="utf-8") if path else sys.stdout
    after = 0
    try:
        while True:
            rows, after = handlers.query_audit(None, "", "", None, None, 1000, after)
            for row in rows:
                out.write(json.dumps({k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()},
                                     ensure_ascii=False) + "\n")
            if not after:
                break
    finally:
        if path:
            out.close()


if __name__ == "__main__":
    sys.exit(main())
