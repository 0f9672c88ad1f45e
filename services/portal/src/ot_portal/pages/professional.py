"""A professional's pages: their own requests (intake's ListRequests gives a professional only
their own, without content) and each request as they see it."""
from __future__ import annotations

from flask import Flask, render_template

from ot.intake.v1 import intake_pb2

from ..auth import require_role
from ..present import UUID
from . import PageContext


def register(app: Flask, ctx: PageContext) -> None:
    call = ctx.call

    @app.get("/omat-pyynnot")
    @require_role("professional")
    def my_requests():
        found = call("intake", "ListRequests", intake_pb2.ListRequestsRequest(page_size=100))
        return render_template("professional/my_requests.html", requests=list(found.requests))

    @app.get("/omat-pyynnot/<request_id>")
    @require_role("professional")
    def my_request(request_id: str):
        if not UUID.fullmatch(request_id):
            return render_template("error.html", kind="not_found"), 404
        found = call("intake", "GetRequest", intake_pb2.GetRequestRequest(request_id=request_id))
        return render_template("professional/request.html", r=found)
