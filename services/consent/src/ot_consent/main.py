"""`ot-consent serve | migrate | purge | verify-audit | export-audit`: the process entry points."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from ot_runtime import process
from ot_runtime.migrations import upgrade

MIGRATIONS = Path(__file__).parent / "migrations"


def serve(settings, args=None) -> None:
    from .bootstrap import build
    app = build(settings)
    process.serve(app, settings, extra_workers=[app.purger])


def migrate(settings, args=None) -> None:
    upgrade(MIGRATIONS, settings.database_url)


def purge(settings, args=None) -> None:
    """Apply the retention policies once, now, and publish the shredding events before exiting."""
    from .bootstrap import build
    app = build(settings)
    done = app.handlers.purge()
    while app.relay.publish_batch():
        pass
    print(json.dumps({"shredded": len(done), "request_ids": done}))
    app.producer.close(timeout=10)
    app.engine.dispose()


def verify_audit(settings, args=None) -> int:
    from .bootstrap import build_handlers
    engine, handlers = build_handlers(settings)  # the database only: no Kafka needed
    result = handlers.verify_audit(None)
    engine.dispose()
    print(json.dumps(vars(result)))
    return 0 if result.intact else 1


def export_audit(settings, args) -> None:
    """The trail (or one user's entries) as JSON lines, oldest first, for the data-protection officer."""
    from .bootstrap import build_handlers
    engine, handlers = build_handlers(settings)
    out = args.out.open("w", encoding="utf-8") if args.out else sys.stdout
    after = 0
    try:
        while True:
            rows, after = handlers.query_audit(None, "", "", None, None, 1000, after, actor=args.actor or "")
            for row in rows:
                out.write(json.dumps({k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()},
                                     ensure_ascii=False) + "\n")
            if not after:
                break
    finally:
        if args.out:
            out.close()
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    return process.run_command(
        "consent", {"serve": serve, "migrate": migrate, "purge": purge, "verify-audit": verify_audit,
                    "export-audit": export_audit}, argv,
        add_arguments=add_arguments)


def add_arguments(parser) -> None:
    parser.add_argument("--out", type=Path, help="export-audit: write JSON lines here (default stdout)")
    parser.add_argument("--actor", help="export-audit: only this user's entries (a professional's data export)")


if __name__ == "__main__":
    sys.exit(main())
