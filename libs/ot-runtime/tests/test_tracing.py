"""Traces from OpenTelemetry's maintained instrumentation (gRPC server and client, WSGI, SQLAlchemy)
as the services set it up: one trace across a call and the calls it makes, each call's outcome on
its span and in the metrics, spans named by route, and never a request's content, a token, a
secret path or a statement's values in any span."""
from __future__ import annotations

import types
import uuid

import grpc
import pytest
import sqlalchemy as sa
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.exporter.zipkin.json import ZipkinExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from prometheus_client import REGISTRY

from ot_guard.testing import sample
from ot_runtime.db import create_engine
from ot_runtime.errors import FieldViolation, InvalidArgument
from ot_runtime.grpc_client import make_channel, outgoing_metadata
from ot_runtime.grpc_server import GrpcServer
from ot_runtime.settings import SettingsError
from ot_runtime.telemetry import configure_tracing, exporters_from_env
from ot_runtime.testing import TestKeys
from ot_runtime.web import create_base_app

PLAINTEXT = types.SimpleNamespace(grpc_tls_ca_file=None, grpc_tls_cert_file=None, grpc_tls_key_file=None)


@pytest.fixture(scope="module")
def spans() -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    configure_tracing("tracing-test", "pohjois-savo", exporter=exporter)
    return exporter


def everything_in(spans) -> str:
    """All a span holds that an exporter sends: names, attributes, events, status, links, resource."""
    return repr([(s.name, dict(s.attributes or {}), [(e.name, dict(e.attributes or {})) for e in s.events],
                  s.status.description, [dict(link.attributes or {}) for link in s.links],
                  dict(s.resource.attributes)) for s in spans])


def in_trace(spans: InMemorySpanExporter, trace_id: str) -> list:
    return [s for s in spans.get_finished_spans() if format(s.context.trace_id, "032x") == trace_id]


def metric(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture()
def server(tmp_path):
    """A service with three methods: Forward calls Refuse on itself through a traced channel;
    Refuse refuses with INVALID_ARGUMENT (the caller's fault); Break fails with a message that must
    not reach any span."""
    keys = TestKeys(tmp_path)

    def forward(request, context):
        authorization = dict(context.invocation_metadata())["authorization"]
        with make_channel(f"127.0.0.1:{running.port}", PLAINTEXT) as channel:
            try:
                channel.unary_unary("/test.Echo/Refuse")(request, metadata=outgoing_metadata(authorization), timeout=10)
            except grpc.RpcError as error:
                return error.code().name.encode()
        return b"accepted"

    def refuse(request, context):
        raise InvalidArgument([FieldViolation("question", "Kentässä on henkilötunnus. / It has an identity code.",
                                              "identity_code")])

    def fail(request, context):
        raise RuntimeError(f"broken while reading {request.decode()}")

    def register(grpc_server):
        grpc_server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("test.Echo", {
            "Forward": grpc.unary_unary_rpc_method_handler(forward),
            "Refuse": grpc.unary_unary_rpc_method_handler(refuse),
            "Break": grpc.unary_unary_rpc_method_handler(fail)})])
        return ["test.Echo"]

    running = GrpcServer(host="127.0.0.1", port=0, verifier=keys.verifier(), register=register)
    running.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    yield types.SimpleNamespace(channel=channel, keys=keys)
    channel.close()
    running.stop(1)


def test_a_call_and_the_call_it_makes_are_one_trace_with_their_outcomes_and_metrics(spans, server):
    secret = sample("identity_code")
    trace_id = uuid.uuid4().hex
    caller_span = uuid.uuid4().hex[:16]
    metadata = server.keys.metadata() + (("traceparent", f"00-{trace_id}-{caller_span}-01"),)
    calls_before = metric("ot_grpc_calls_total", method="/test.Echo/Refuse", code="INVALID_ARGUMENT")
    timed_before = metric("ot_grpc_server_duration_seconds_count", method="/test.Echo/Refuse", code="INVALID_ARGUMENT")

    assert server.channel.unary_unary("/test.Echo/Forward")(secret.encode(), metadata=metadata, timeout=10) \
        == b"INVALID_ARGUMENT"

    mine = in_trace(spans, trace_id)
    by_kind = {(s.name, s.kind): s for s in mine}
    forward = by_kind[("/test.Echo/Forward", SpanKind.SERVER)]
    client = by_kind[("/test.Echo/Refuse", SpanKind.CLIENT)]
    refused = by_kind[("/test.Echo/Refuse", SpanKind.SERVER)]
    # The caller's trace goes on: the server span's parent is the caller's, the client's is the
    # server's, the inner server's is the client's.
    assert format(forward.parent.span_id, "016x") == caller_span
    assert client.parent.span_id == forward.context.span_id
    assert refused.parent.span_id == client.context.span_id
    # A refusal is the caller's doing: its code is on the span, which is not marked as an error.
    assert refused.attributes["rpc.grpc.status_code"] == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert refused.status.status_code is StatusCode.UNSET
    assert forward.attributes["rpc.grpc.status_code"] == 0
    assert metric("ot_grpc_calls_total", method="/test.Echo/Refuse", code="INVALID_ARGUMENT") == calls_before + 1
    assert metric("ot_grpc_server_duration_seconds_count", method="/test.Echo/Refuse",
                  code="INVALID_ARGUMENT") == timed_before + 1
    # Neither the request's content nor the caller's token is in any span.
    token = dict(metadata)["authorization"].split()[1]
    text = everything_in(mine)
    assert secret not in text and token not in text
    assert mine[0].resource.attributes["ot.tenant"] == "pohjois-savo"


def test_a_server_fault_marks_the_span_as_an_error_naming_the_code_only(spans, server):
    secret = sample("phone")
    trace_id = uuid.uuid4().hex
    metadata = server.keys.metadata() + (("traceparent", f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01"),)
    with pytest.raises(grpc.RpcError) as err:
        server.channel.unary_unary("/test.Echo/Break")(secret.encode(), metadata=metadata, timeout=10)
    assert err.value.code() is grpc.StatusCode.INTERNAL

    [broken] = in_trace(spans, trace_id)
    assert broken.status.status_code is StatusCode.ERROR and broken.status.description == "INTERNAL"
    assert broken.attributes["rpc.grpc.status_code"] == grpc.StatusCode.INTERNAL.value[0]
    assert secret not in everything_in([broken]) and "broken while reading" not in everything_in([broken])
    assert metric("ot_grpc_server_duration_seconds_count", method="/test.Echo/Break", code="INTERNAL") >= 1


def test_health_checks_make_no_span(spans, server):
    before = len(spans.get_finished_spans())
    reply = health_pb2_grpc.HealthStub(server.channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    assert len(spans.get_finished_spans()) == before


def test_a_page_span_is_named_by_its_route_and_holds_neither_the_path_nor_the_query(spans):
    app = create_base_app("test", {})

    @app.get("/answer/<token>")
    def answer(token):
        return "ok"

    client = app.test_client()
    link_secret, query_secret = uuid.uuid4().hex, uuid.uuid4().hex
    trace_id = uuid.uuid4().hex
    # The span ends when the server closes the answer (waitress does; the test client on close()).
    with client.get(f"/answer/{link_secret}?code={query_secret}",
                    headers={"traceparent": f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01"}) as found:
        assert found.status_code == 200
    with client.get(f"/nowhere/{link_secret}") as missing:
        assert missing.status_code == 404

    [page] = in_trace(spans, trace_id)
    assert page.kind is SpanKind.SERVER and page.name == "GET /answer/<token>"
    assert page.attributes["http.route"] == "/answer/<token>" and page.attributes["http.status_code"] == 200
    missing = [s for s in spans.get_finished_spans() if s.name == "GET (no route)"]
    assert missing and missing[-1].attributes["http.status_code"] == 404
    text = everything_in(spans.get_finished_spans())
    assert link_secret not in text and query_secret not in text


def test_probes_and_metrics_scrapes_make_no_span(spans):
    client = create_base_app("test", {}).test_client()
    before = len(spans.get_finished_spans())
    for path in ("/healthz", "/readyz", "/metrics"):
        with client.get(path) as answer:
            assert answer.status_code == 200, path
    assert len(spans.get_finished_spans()) == before


def test_a_statement_span_has_placeholders_never_the_values_and_a_failure_names_its_type_only(spans, tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path}/t.db")
    email, name = sample("email"), sample("name")
    with engine.begin() as c:
        c.execute(sa.text("CREATE TABLE people (email TEXT UNIQUE, name TEXT)"))
    with trace.get_tracer("test").start_as_current_span("a call") as call:
        with engine.begin() as c:
            c.execute(sa.text("INSERT INTO people VALUES (:email, :name)"), {"email": email, "name": name})
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as c:
            c.execute(sa.text("INSERT INTO people VALUES (:email, :name)"), {"email": email, "name": name})
    engine.dispose()

    statements = [s for s in in_trace(spans, format(call.get_span_context().trace_id, "032x"))
                  if s.attributes.get("db.system") == "sqlite"]
    assert [s.attributes["db.statement"] for s in statements if s.name.startswith("INSERT")] \
        == ["INSERT INTO people VALUES (?, ?)"] * 2
    failed = [s for s in statements if s.status.status_code is StatusCode.ERROR]
    assert [s.status.description for s in failed] == ["IntegrityError"]
    text = everything_in(statements)
    assert email not in text and name not in text


def test_a_statement_outside_any_call_is_not_exported(spans, tmp_path):
    """The relay's and the workers' polling would otherwise be a one-span trace every second."""
    engine = create_engine(f"sqlite:///{tmp_path}/t.db")
    marker = f"lone_{uuid.uuid4().hex}"
    with engine.connect() as c:
        c.execute(sa.text(f"SELECT 1 AS {marker}"))
        with trace.get_tracer("test").start_as_current_span("a call"):
            c.execute(sa.text(f"SELECT 2 AS {marker}"))
    engine.dispose()
    exported = [s.attributes["db.statement"] for s in spans.get_finished_spans()
                if marker in str((s.attributes or {}).get("db.statement"))]
    assert exported == [f"SELECT 2 AS {marker}"]


def test_the_exporter_is_chosen_by_the_standard_variables():
    assert exporters_from_env({}) == [] and exporters_from_env({"OTEL_TRACES_EXPORTER": "none"}) == []
    [zipkin] = exporters_from_env({"OTEL_TRACES_EXPORTER": "zipkin"})
    assert isinstance(zipkin, ZipkinExporter)
    kinds = [type(e) for e in exporters_from_env({"OTEL_TRACES_EXPORTER": "otlp, zipkin"})]
    assert kinds == [OTLPSpanExporter, ZipkinExporter]


def test_a_wrong_exporter_setting_is_a_clear_configuration_error():
    with pytest.raises(SettingsError, match="unknown exporter jaeger"):
        exporters_from_env({"OTEL_TRACES_EXPORTER": "zipkin,jaeger"})
    with pytest.raises(SettingsError, match="OTLP over gRPC only"):
        exporters_from_env({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"})
