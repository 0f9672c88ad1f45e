"""The one place that wires the portal together from its settings. Nothing connects at import time."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ot_runtime.db import create_engine
from ot_runtime.web import HttpServer

from .services import Services
from .settings import PortalSettings
from .web import create_app


@dataclass
class PortalApp:
    settings: PortalSettings
    engine: sa.Engine
    services: Services
    http_server: HttpServer

    def stop(self) -> None:
        self.http_server.stop(self.settings.shutdown_grace_seconds)
        self.services.close()
        self.engine.dispose()


def build(settings: PortalSettings) -> PortalApp:
    engine = create_engine(settings.database_url)
    services = Services(dict(settings.grpc_targets), settings)
    app = create_app(settings, engine, services)
    return PortalApp(settings=settings, engine=engine, services=services,
                     http_server=HttpServer(app, settings.http_host, settings.http_port,
                                            # behind the ingress: ProxyFix reads X-Forwarded-Proto (web.py)
                                            keep_forwarded_headers=bool(settings.trusted_proxies)))
