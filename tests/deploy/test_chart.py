"""Checks of the Helm chart deploy/helm/ot-platform with the real, pinned tools:
lint and render every area, validate every object against Kubernetes' schemas (strict), run the
policy linter, assert the hardening the design asks for, and check the config contract's static
half: every variable rendered into a service's container is one that service's code reads
(test_contract.py is the other half: it starts the services with exactly that environment).
"""
from __future__ import annotations

import ast
import functools
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import (AREAS, CHART, KUBE_VERSION, REPO, find, parse_yaml, pod_specs, render,
                      run_helm)

# The gRPC services, and the portal: the web front that serves only HTTP, uses no Kafka and calls the four.
SERVICE_NAMES = {"intake", "experts", "consent", "feedback"}
PORTAL = "portal"


def test_every_area_has_a_values_file():
    assert set(AREAS) == {"etela-savo", "keski-suomi", "pohjois-karjala", "pohjois-savo"}


@pytest.mark.parametrize("area", AREAS)
def test_helm_lint_strict(helm_bin, area):
    out = run_helm(helm_bin, "lint", "--strict", str(CHART), "--kube-version", KUBE_VERSION,
                   "-f", str(CHART.parent / "values" / f"{area}.yaml"))
    assert "0 chart(s) failed" in out


def test_lint_without_area_names_the_missing_tenant(helm_bin):
    done = subprocess.run([str(helm_bin), "template", "x", str(CHART), "--kube-version", KUBE_VERSION],
                          capture_output=True, text=True)
    assert done.returncode != 0 and "tenant is required" in done.stderr


@pytest.mark.parametrize("bad", ["services.intake.grpcPrt=1", "tenant=Pohjois Savo", "logLevel=TRACE",
                                 "kafka.topics.partitions=0"])
def test_schema_refuses_unknown_or_wrong_values(helm_bin, bad):
    done = subprocess.run([str(helm_bin), "template", "x", str(CHART), "--kube-version", KUBE_VERSION,
                           "-f", str(CHART.parent / "values" / "pohjois-savo.yaml"), "--set", bad],
                          capture_output=True, text=True)
    assert done.returncode != 0 and "values don't meet the specifications of the schema" in done.stderr


# Every combination the chart can render: each area as shipped, and each area with the topic Job,
# every service and the catalogue topic and HPAs on (the shape it will have once all four ship).
def _variants(helm_bin):
    everything = ["kafka.strimzi.enabled=false", "kafka.topics.catalogue.enabled=true",
                  "grpcTls.certManager.enabled=true", "grpcTls.certManager.issuerRef.name=ot-area-ca",
                  # every optional feedback name the chart can render
                  "area.feedback.delayDaysByType.otTuki=45", "area.feedback.delayDaysByType.groupConsultation=30",
                  "area.feedback.delayDaysByType.expertReinforcement=75"]
    for s in ("experts", "consent", "feedback"):
        everything.append(f"services.{s}.enabled=true")
    for s in SERVICE_NAMES | {PORTAL}:
        everything.append(f"services.{s}.autoscaling.enabled=true")
    for area in AREAS:
        yield f"{area}", render(helm_bin, area)
        yield f"{area}-all", render(helm_bin, area, *everything)


@pytest.fixture(scope="module")
def variants(helm_bin):
    return dict(_variants(helm_bin))


def test_objects_validate_against_kubernetes_schemas_strictly(variants, tools_python):
    for name, objs in variants.items():
        done = subprocess.run([str(tools_python), str(Path(__file__).parent / "k8s_validate.py"), KUBE_VERSION],
                              input=json.dumps(objs), capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == [], f"{name}: {done.stdout}"


def test_strict_validation_catches_unknown_fields(variants, tools_python):
    objs = json.loads(json.dumps(variants["pohjois-savo"]))
    dep = find(objs, "Deployment")[0]
    dep["spec"]["template"]["spec"]["containers"][0]["imagePullPolcy"] = "Always"
    done = subprocess.run([str(tools_python), str(Path(__file__).parent / "k8s_validate.py"), KUBE_VERSION],
                          input=json.dumps([dep]), capture_output=True, text=True, timeout=120)
    assert "imagePullPolcy" in done.stdout


def test_policy_linter_has_no_findings(variants, checkov_bin, tmp_path):
    for name, objs in variants.items():
        # JSON is YAML: one document per object, as `helm template` prints them.
        (tmp_path / f"{name}.yaml").write_text("".join(f"---\n{json.dumps(o)}\n" for o in objs))
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    done = subprocess.run([str(checkov_bin), "--config-file", str(Path(__file__).parent / "checkov.yaml"),
                           "-d", str(tmp_path), "-o", "json"], capture_output=True, text=True, env=env, timeout=600)
    report = json.loads(done.stdout)
    reports = report if isinstance(report, list) else [report]
    failed = [f"{c['check_id']} {c['resource']}: {c['check_name']}"
              for r in reports for c in r["results"]["failed_checks"]]
    assert failed == [], "\n".join(failed)
    passed = sum(r["summary"]["passed"] for r in reports)
    assert passed > 100, f"checkov ran too few checks ({passed}): {done.stderr[-2000:]}"
    assert done.returncode == 0, done.stderr[-2000:]


# ---- the hardening, asserted on the renders --------------------------------------------------

def test_every_container_is_restricted(variants):
    for name, objs in variants.items():
        for obj, spec in pod_specs(objs):
            where = f"{name} {obj['kind']}/{obj['metadata']['name']}"
            assert spec["automountServiceAccountToken"] is False, where
            assert spec["securityContext"]["runAsNonRoot"] is True, where
            assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, where
            assert {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}} in spec["volumes"], where
            for c in spec["containers"] + spec.get("initContainers", []):
                sc = c["securityContext"]
                assert sc["allowPrivilegeEscalation"] is False, where
                assert sc["readOnlyRootFilesystem"] is True, where
                assert sc["runAsNonRoot"] is True, where
                assert sc["capabilities"] == {"drop": ["ALL"]}, where
                assert sc["seccompProfile"] == {"type": "RuntimeDefault"}, where
                assert {"name": "tmp", "mountPath": "/tmp"} in c["volumeMounts"], where
                assert set(c["resources"]) == {"requests", "limits"}, where
                assert set(c["resources"]["requests"]) == {"cpu", "memory"}, where


def test_readiness_asks_readyz_and_liveness_only_the_process(variants):
    """Readiness is /readyz (the service can do its work: database and Kafka); liveness and startup
    are /healthz, a plain process check, so a dependency away never restarts a pod. All on the HTTP
    port: the gRPC port speaks only TLS, which the kubelet's native gRPC probe cannot."""
    for name, objs in variants.items():
        for dep in find(objs, "Deployment"):
            c = dep["spec"]["template"]["spec"]["containers"][0]
            web_only = dep["metadata"]["labels"]["app.kubernetes.io/component"] == PORTAL  # no gRPC port
            assert {p["name"] for p in c["ports"]} == ({"http"} if web_only else {"grpc", "http"})
            paths = {probe: c[probe]["httpGet"] for probe in ("startupProbe", "readinessProbe", "livenessProbe")}
            assert paths == {"startupProbe": {"path": "/healthz", "port": "http"},
                             "readinessProbe": {"path": "/readyz", "port": "http"},
                             "livenessProbe": {"path": "/healthz", "port": "http"}}, name
            # /readyz answers within ot_runtime.web.READINESS_TIMEOUT_SECONDS (3 s): the probe waits longer.
            assert c["readinessProbe"]["timeoutSeconds"] > 3, name


def test_network_policies_default_deny_and_only_needed_flows(variants):
    for name, objs in variants.items():
        pols = {p["metadata"]["name"]: p["spec"] for p in find(objs, "NetworkPolicy")}
        deny = [s for s in pols.values() if s["podSelector"] == {} and "ingress" not in s and "egress" not in s]
        assert len(deny) == 1 and sorted(deny[0]["policyTypes"]) == ["Egress", "Ingress"], name
        ports = {(pp["protocol"], pp["port"]) for s in pols.values() for rule in s.get("egress") or []
                 for pp in rule.get("ports", [])}
        assert {("UDP", 53), ("TCP", 53), ("TCP", 9093), ("TCP", 5432), ("TCP", 4317), ("TCP", 443)} <= ports
        assert ("TCP", 9092) not in ports, name  # the brokers' plaintext listener is of no use to TLS clients
        for s in pols.values():  # nothing allows "everything": every rule names peers and ports
            for rule in (s.get("ingress") or []) + (s.get("egress") or []):
                assert rule.get("ports") and (rule.get("from") or rule.get("to")), (name, rule)
        for dep in find(objs, "Deployment"):
            comp = dep["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"]
            own = [s for s in pols.values() if s["podSelector"].get("matchLabels", {}).get(
                "app.kubernetes.io/component") == comp]
            assert len(own) == 1 and own[0]["ingress"], (name, comp)


def test_services_call_only_their_callees(variants):
    objs = variants["pohjois-savo-all"]
    pol = {p["metadata"]["name"].rsplit("-", 1)[-1]: p["spec"] for p in find(objs, "NetworkPolicy")}
    in_release = {svc: sorted(pp["port"] for r in pol[svc]["egress"] if all("podSelector" in to and len(to) == 1
                                                                            for to in r["to"])
                              for pp in r["ports"]) for svc in SERVICE_NAMES | {PORTAL}}
    assert in_release == {"intake": [50053], "experts": [50053], "consent": [], "feedback": [50051, 50052],
                          "portal": [50051, 50052, 50053, 50054]}
    # Outside the release, a service's own policy allows only feedback's mail, to the area's relay.
    outside = {svc: [r for r in pol[svc]["egress"] if not all("podSelector" in to and len(to) == 1 for to in r["to"])]
               for svc in SERVICE_NAMES | {PORTAL}}
    assert outside == {"intake": [], "experts": [], "consent": [], "portal": [], "feedback": [
        {"to": [{"ipBlock": {"cidr": "192.0.2.25/32"}}], "ports": [{"protocol": "TCP", "port": 587}]}]}
    # ... and each caller is told where its callees are, in the variable the code reads.
    env = {cm["metadata"]["name"].split("ot-platform-")[1]: cm["data"] for cm in find(objs, "ConfigMap", "-env")}
    assert env["intake-env"]["OT_CONSENT_GRPC_TARGET"] == "ot-pohjois-savo-ot-platform-consent:50053"
    assert env["experts-env"]["OT_CONSENT_GRPC_TARGET"] == "ot-pohjois-savo-ot-platform-consent:50053"
    assert not any(k.endswith("_GRPC_TARGET") for k in env["consent-env"])
    assert env["feedback-env"]["OT_INTAKE_GRPC_TARGET"] == "ot-pohjois-savo-ot-platform-intake:50051"
    assert env["feedback-env"]["OT_EXPERTS_GRPC_TARGET"] == "ot-pohjois-savo-ot-platform-experts:50052"
    assert {k: v for k, v in env["portal-env"].items() if k.endswith("_GRPC_TARGET")} == {
        f"OT_{s.upper()}_GRPC_TARGET": f"ot-pohjois-savo-ot-platform-{s}:{port}"
        for s, port in (("intake", 50051), ("experts", 50052), ("consent", 50053), ("feedback", 50054))}


def _selects(selector: dict, labels: dict) -> bool:
    """Does a label selector select a pod with these labels (matchLabels and matchExpressions)?"""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for e in selector.get("matchExpressions", []):
        present, value = e["key"] in labels, labels.get(e["key"])
        ok = {"In": present and value in e.get("values", []), "NotIn": not (present and value in e.get("values", [])),
              "Exists": present, "DoesNotExist": not present}[e["operator"]]
        if not ok:
            return False
    return True


def _allowed(policies: list[dict], direction: str, pod: dict, peer: dict, port: int) -> bool:
    """Whether the release's NetworkPolicies let `pod` send (Egress) to / receive (Ingress) from
    `peer` (another pod in the same namespace) on TCP `port`, as Kubernetes evaluates them: a pod
    selected by some policy of that type gets only what one of their rules allows."""
    side = "to" if direction == "Egress" else "from"
    selecting = [p["spec"] for p in policies if direction in p["spec"]["policyTypes"]
                 and _selects(p["spec"]["podSelector"], pod)]
    assert selecting, f"no {direction} policy selects {pod}: nothing would be denied"
    return any(any(pp.get("protocol", "TCP") == "TCP" and pp["port"] == port for pp in rule.get("ports", []))
               and any(set(x) == {"podSelector"} and _selects(x["podSelector"], peer) for x in rule.get(side, []))
               for spec in selecting for rule in spec.get(direction.lower()) or [])


def test_grpc_flows_are_exactly_the_calls(variants):
    """Evaluated as Kubernetes does, over every pair: a service reaches another's gRPC port iff it
    calls it (egress of the caller and ingress of the callee); `helm test` pods reach every gRPC
    service; migration Job pods reach none. So intake and experts admit feedback (the addresses of
    its mails) and the portal, and nothing else inside; nothing inside reaches the portal."""
    for name in ("pohjois-savo", "pohjois-savo-all", "keski-suomi"):
        objs = variants[name]
        pols = find(objs, "NetworkPolicy")
        deps = {d["metadata"]["labels"]["app.kubernetes.io/component"]: d for d in find(objs, "Deployment")}
        pods = {svc: d["spec"]["template"]["metadata"]["labels"] for svc, d in deps.items()}
        port = {svc: d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] for svc, d in deps.items()}
        calls = {cm["metadata"]["labels"]["app.kubernetes.io/component"]:
                 {k.removeprefix("OT_").removesuffix("_GRPC_TARGET").lower() for k in cm["data"] if k.endswith("_GRPC_TARGET")}
                 for cm in find(objs, "ConfigMap", "-env")}
        assert calls["feedback"] == {"intake", "experts"} and calls["intake"] == {"consent"}, (name, calls)
        assert calls[PORTAL] == SERVICE_NAMES, (name, calls)
        for a in pods:
            for b in pods:
                if a == b:
                    continue
                flows = (_allowed(pols, "Egress", pods[a], pods[b], port[b]),
                         _allowed(pols, "Ingress", pods[b], pods[a], port[b]))
                assert flows == ((b in calls[a],) * 2), (name, f"{a} -> {b}", flows)
        test_pod = find(objs, "Pod", "-feedback-test-grpc-health")[0]["metadata"]["labels"]
        job_pod = find(objs, "Job", "-feedback-migrate")[0]["spec"]["template"]["metadata"]["labels"]
        for b in pods:
            reached = (_allowed(pols, "Egress", test_pod, pods[b], port[b]),
                       _allowed(pols, "Ingress", pods[b], test_pod, port[b]))
            assert reached == ((b != PORTAL,) * 2), (name, b)  # the portal has no gRPC health to test
            assert not _allowed(pols, "Ingress", pods[b], job_pod, port[b]), (name, b)


def test_feedback_pages_and_mail_relay_flows(helm_bin, variants):
    objs = variants["pohjois-savo"]
    pol = {p["metadata"]["name"].rsplit("-", 1)[-1]: p["spec"] for p in find(objs, "NetworkPolicy")}
    ingress = "kubernetes.io/metadata.name"
    # Only feedback serves pages to people; its HTTP port admits the ingress controller.
    web = {svc: [r["from"] for r in pol[svc]["ingress"] if r["ports"] == [{"protocol": "TCP", "port": 8080}]
                 and {"namespaceSelector": {"matchLabels": {ingress: "ingress"}}} in r["from"]]
           for svc in SERVICE_NAMES}
    assert web == {"intake": [], "experts": [], "consent": [], "feedback": [[{"namespaceSelector": {
        "matchLabels": {ingress: "ingress"}}}]]}
    # The relay's peer and port are configurable; the port follows area.feedback.smtp.port unless set.
    smtp = lambda objs: [r for r in find(objs, "NetworkPolicy", "-feedback")[0]["spec"]["egress"]  # noqa: E731
                         if "ipBlock" in r["to"][0] or "namespaceSelector" in r["to"][0]]
    moved = render(helm_bin, "pohjois-savo", "area.feedback.smtp.port=25", "area.feedback.smtp.starttls=false")
    assert smtp(moved) == [{"to": [{"ipBlock": {"cidr": "192.0.2.25/32"}}], "ports": [{"protocol": "TCP", "port": 25}]}]
    assert find(moved, "ConfigMap", "-feedback-env")[0]["data"]["OT_SMTP_PORT"] == "25"
    own = parse_yaml(run_helm(helm_bin, "template", "ot-pohjois-savo", str(CHART), "--kube-version", KUBE_VERSION,
                              "-f", str(CHART.parent / "values" / "pohjois-savo.yaml"),
                              "--set", "networkPolicy.smtp.ports={2525,465}", "--set-json",
                              'networkPolicy.smtp.to=[{"namespaceSelector": {"matchLabels": {"%s": "mail"}}}]' % ingress))
    assert smtp(own) == [{"to": [{"namespaceSelector": {"matchLabels": {ingress: "mail"}}}],
                          "ports": [{"protocol": "TCP", "port": 2525}, {"protocol": "TCP", "port": 465}]}]


def test_feedback_area_settings_are_rendered(variants):
    shipped = dict(find(variants["pohjois-savo"], "ConfigMap", "-feedback-env")[0]["data"])
    # Pohjois-Savo combines the cooperation area's statistics: the other three areas' public keys.
    assert set(json.loads(shipped.pop("OT_FEEDBACK_AREA_AGGREGATE_KEYS"))) == {"etela-savo", "keski-suomi",
                                                                               "pohjois-karjala"}
    for name, objs in variants.items():  # every other area shares its counts and combines nothing
        if name.startswith(("etela-savo", "keski-suomi", "pohjois-karjala")):
            other = find(objs, "ConfigMap", "-feedback-env")[0]["data"]
            assert other["OT_FEEDBACK_SHARE_WITH_COOPERATION_AREA"] == "true", name
            assert "OT_FEEDBACK_COORDINATING_AREA" not in other and "OT_FEEDBACK_AREA_AGGREGATE_KEYS" not in other, name
    assert {k: v for k, v in shipped.items() if k.startswith(("OT_FEEDBACK_", "OT_SMTP_", "OT_INTAKE_", "OT_SERVICE_"))} == {
        "OT_FEEDBACK_SHARE_WITH_COOPERATION_AREA": "true", "OT_FEEDBACK_COORDINATING_AREA": "true",
        "OT_FEEDBACK_DELAY_DAYS": "60", "OT_FEEDBACK_REMINDER_DAYS": "14", "OT_FEEDBACK_ANSWER_DAYS": "28",
        # The mailed links open the portal's form (feedback's own address only redirects old ones).
        "OT_FEEDBACK_PUBLIC_URL": "https://ot.pohjois-savo.example.invalid",
        "OT_FEEDBACK_MAIL_FROM": "ot-palaute@pohjois-savo.example.invalid",
        "OT_SMTP_HOST": "smtp.pohjois-savo.example.invalid", "OT_SMTP_PORT": "587", "OT_SMTP_STARTTLS": "true",
        "OT_SMTP_USERNAME": "", "OT_FEEDBACK_TICK_SECONDS": "60",
        "OT_INTAKE_GRPC_TARGET": "ot-pohjois-savo-ot-platform-intake:50051",
        "OT_SERVICE_TOKEN_KEY_FILE": "/var/run/secrets/ot/ot-service-token-key-file/service-token.pem"}
    # Who the notifications go to besides each case's people, and where they point: the area file's.
    assert {k: v for k, v in shipped.items() if k.startswith(("OT_PORTAL_", "OT_NOTIFY_", "OT_EXPERTS_"))} == {
        "OT_PORTAL_URL": "https://ot.pohjois-savo.example.invalid",
        "OT_NOTIFY_COORDINATORS": "ot-koordinaattorit@pohjois-savo.example.invalid",
        "OT_NOTIFY_GROUP_SECRETARIES":
            "haastavat-erot-pohjois-savo=sihteeri.haastavat-erot-pohjois-savo@pohjois-savo.example.invalid,"
            "lastensuojelun-asiantuntijaryhma-pohjois-savo="
            "sihteeri.lastensuojelun-asiantuntijaryhma-pohjois-savo@pohjois-savo.example.invalid",
        "OT_EXPERTS_GRPC_TARGET": "ot-pohjois-savo-ot-platform-experts:50052"}
    for name, objs in variants.items():  # and no other service gets them (the portal's own OT_PORTAL_* are its
        # settings; consent gets OT_PORTAL_URL, where its old privacy-notice address redirects)
        for cm in find(objs, "ConfigMap", "-env"):
            component = cm["metadata"]["labels"]["app.kubernetes.io/component"]
            if component != "feedback":
                assert not any(k.startswith("OT_NOTIFY_") for k in cm["data"]), name
            if component not in ("feedback", "consent"):
                assert "OT_PORTAL_URL" not in cm["data"], name
            if component not in ("feedback", "consent", PORTAL):
                assert not any(k.startswith("OT_PORTAL_") for k in cm["data"]), name
    every = find(variants["pohjois-savo-all"], "ConfigMap", "-feedback-env")[0]["data"]
    assert {k: v for k, v in every.items() if k.startswith("OT_FEEDBACK_DELAY_DAYS")} == {
        "OT_FEEDBACK_DELAY_DAYS": "60", "OT_FEEDBACK_DELAY_DAYS_OT_TUKI": "45",
        "OT_FEEDBACK_DELAY_DAYS_GROUP_CONSULTATION": "30", "OT_FEEDBACK_DELAY_DAYS_EXPERT_REINFORCEMENT": "75"}


@pytest.mark.parametrize("bad, message", [
    # Without the portal, feedback's own address is where the mailed links lead: required then.
    ("area.feedback.publicUrl=,services.portal.enabled=false", "area.feedback.publicUrl is required"),
    ("area.feedback.mailFrom=", "area.feedback.mailFrom is required"),
    ("area.feedback.smtp.host=", "area.feedback.smtp.host is required"),
    ("area.feedback.reminderDays=28", "must be less than answerDays"),
    ("networkPolicy.smtp.to=null", "networkPolicy.smtp.to is required"),
    ("area.feedback.delayDaysByType.consulted=1", "values don't meet the specifications of the schema"),
    ("area.feedback.reminderDays=0", "values don't meet the specifications of the schema"),
    ("area.feedback.publicUrl=palaute.example.invalid", "values don't meet the specifications of the schema"),
    # The coordinating area lists the other areas' keys (PEM), never its own.
    ("tenant=keski-suomi", "area.statistics.areaKeys must not name the area itself"),
    ("area.statistics.areaKeys.lappi=x", "values don't meet the specifications of the schema"),
    ("area.statistics.areaKeys.keski-suomi=x", "values don't meet the specifications of the schema"),
])
def test_feedback_settings_that_would_not_work_are_refused(helm_bin, bad, message):
    args = [str(helm_bin), "template", "x", str(CHART), "--kube-version", KUBE_VERSION,
            "-f", str(CHART.parent / "values" / "pohjois-savo.yaml")]
    args += ["--set-json", "networkPolicy.smtp.to=[]"] if bad.endswith("=null") else ["--set", bad]
    done = subprocess.run(args, capture_output=True, text=True)
    assert done.returncode != 0 and message in done.stderr, done.stderr[-2000:]


def test_consent_keys_come_from_the_documented_secret(renders):
    for area, objs in renders.items():
        secrets = f"ot-{area}-ot-platform-consent-secrets"
        for kind in ("Deployment", "Job"):
            pod = find(objs, kind, "-consent" if kind == "Deployment" else "-consent-migrate")[0]["spec"]["template"]
            refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in pod["spec"]["containers"][0]["env"]
                    if "secretKeyRef" in e.get("valueFrom", {})}
            # The names the area files' comments and NOTES.txt give to operators.
            assert refs["OT_CONSENT_MASTER_KEYS"] == {"name": secrets, "key": "master-keys"}, (area, kind)
            assert refs["OT_CONSENT_AUDIT_KEY"] == {"name": secrets, "key": "audit-key"}, (area, kind)
            assert "OT_CONSENT_MASTER_KEY" not in refs, (area, kind)  # the older single key: not both
            assert refs["DATABASE_URL"] == {"name": f"ot-{area}-ot-platform-consent-db", "key": "DATABASE_URL"}
        for other in ("intake", "experts", "feedback"):
            env = find(objs, "Deployment", f"-{other}")[0]["spec"]["template"]["spec"]["containers"][0]["env"]
            assert not {e["name"] for e in env} & {"OT_CONSENT_MASTER_KEYS", "OT_CONSENT_AUDIT_KEY"}, (area, other)
        comment = (CHART.parent / "values" / f"{area}.yaml").read_text()
        assert re.search(rf"#   {secrets} +key master-keys .*\n#  +key audit-key ", comment), area


@pytest.mark.parametrize("bad", [
    "services.consent.secretEnv.OT_CONSENT_AUDIT_KEY=null",  # the audit trail would have no key
    "services.consent.secretEnv.OT_CONSENT_MASTER_KEYS=null",
    "services.consent.secretEnv.OT_CONSENT_MASTER_KEY.key=master-key",  # the older single key as well
])
def test_consent_without_its_keys_is_refused(helm_bin, bad):
    args = [str(helm_bin), "template", "x", str(CHART), "--kube-version", KUBE_VERSION,
            "-f", str(CHART.parent / "values" / "pohjois-savo.yaml"), "--set", bad]
    if bad.endswith(".key=master-key"):
        args += ["--set", "services.consent.secretEnv.OT_CONSENT_MASTER_KEY.name="]
    done = subprocess.run(args, capture_output=True, text=True)
    assert done.returncode != 0 and "values don't meet the specifications of the schema" in done.stderr, \
        done.stderr[-2000:]


def test_area_policies_reach_only_the_service_that_reads_them(variants):
    for name, objs in variants.items():
        envs = {cm["metadata"]["labels"]["app.kubernetes.io/component"]: cm["data"]
                for cm in find(objs, "ConfigMap", "-env")}
        for svc, env in envs.items():
            retention = {k for k in env if k.startswith("OT_RETENTION_")}
            feedback = {k for k in env if k.startswith(("OT_FEEDBACK_", "OT_SMTP_")) and k != "OT_FEEDBACK_GRPC_TARGET"}
            assert bool(retention) == (svc == "consent"), (name, svc, retention)
            assert bool(feedback) == (svc == "feedback"), (name, svc, feedback)
            agreement = {k for k in env if k.startswith("OT_AGREEMENT_")}
            assert not agreement or svc == "experts", (name, svc, agreement)
    experts = find(variants["keski-suomi"], "ConfigMap", "-experts-env")[0]["data"]
    assert {k: v for k, v in experts.items() if k.startswith("OT_AGREEMENT_")} == {
        "OT_AGREEMENT_KIND": "cooperation", "OT_AGREEMENT_SIGNED": "OT-hanke 2023", "OT_AGREEMENT_EXPERT_IDS": "*"}
    consent = find(variants["pohjois-savo"], "ConfigMap", "-consent-env")[0]["data"]
    assert {k: v for k, v in consent.items() if k.startswith("OT_RETENTION_")} == {
        "OT_RETENTION_OT_TUKI_GRACE_DAYS": "30", "OT_RETENTION_OT_TUKI_MAX_DAYS": "365",
        "OT_RETENTION_GROUP_CONSULTATION_GRACE_DAYS": "14", "OT_RETENTION_GROUP_CONSULTATION_MAX_DAYS": "180",
        "OT_RETENTION_EXPERT_REINFORCEMENT_GRACE_DAYS": "30", "OT_RETENTION_EXPERT_REINFORCEMENT_MAX_DAYS": "365"}


def test_feedback_secrets_are_the_documented_ones(renders):
    """The Secrets and keys feedback reads, as the area files' comments tell operators to create them."""
    for area, objs in renders.items():
        secrets = f"ot-{area}-ot-platform-feedback-secrets"
        for kind, suffix in (("Deployment", "-feedback"), ("Job", "-feedback-migrate")):
            spec = find(objs, kind, suffix)[0]["spec"]["template"]["spec"]
            c = spec["containers"][0]
            refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in c["env"] if "secretKeyRef" in e.get("valueFrom", {})}
            assert refs == {"DATABASE_URL": {"name": f"ot-{area}-ot-platform-feedback-db", "key": "DATABASE_URL"},
                            "KAFKA_BOOTSTRAP_SERVERS": {"name": "ot-kafka", "key": "bootstrap-servers"},
                            "KAFKA_SASL_PASSWORD": {"name": f"ot-{area}-ot-platform-feedback-kafka", "key": "password"},
                            "OT_FEEDBACK_LINK_SECRET": {"name": secrets, "key": "link-secret"},
                            "OT_SMTP_PASSWORD": {"name": secrets, "key": "smtp-password"},
                            "OT_FEEDBACK_AGGREGATE_SIGNING_KEY": {"name": secrets, "key": "aggregate-signing-key"}}, \
                (area, kind)
            files = [(v["secret"]["secretName"], i["key"]) for v in spec["volumes"] if "secret" in v
                     for i in v["secret"]["items"]]
            tls = f"ot-{area}-ot-platform-feedback-grpc-tls"
            assert files == [(secrets, "service-token.pem"), (tls, "tls.crt"), (tls, "tls.key"), (tls, "ca.crt"),
                             ("ot-kafka-cluster-ca-cert", "ca.crt")], (area, kind)
        comment = (CHART.parent / "values" / f"{area}.yaml").read_text()
        assert re.search(rf"ot-{area}-ot-platform-feedback-db +key DATABASE_URL ", comment)
        block = re.search(rf"#   {secrets} +key link-secret .*\n#  +key smtp-password .*\n#  +key service-token.pem ",
                          comment)
        assert block, f"{area}.yaml does not list {secrets} with its three keys"
        assert re.search(r"#  +key aggregate-signing-key \(", comment), f"{area}.yaml does not list aggregate-signing-key"


def test_secret_env_and_secret_files(variants):
    objs = variants["pohjois-savo-all"]
    dep = find(objs, "Deployment", "-feedback")[0]["spec"]["template"]["spec"]
    c = dep["containers"][0]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in c["env"] if "secretKeyRef" in e.get("valueFrom", {})}
    assert refs["OT_FEEDBACK_LINK_SECRET"] == {"name": "ot-pohjois-savo-ot-platform-feedback-secrets",
                                               "key": "link-secret"}
    path = find(objs, "ConfigMap", "feedback-env")[0]["data"]["OT_SERVICE_TOKEN_KEY_FILE"]
    mount = next(m for m in c["volumeMounts"] if path.startswith(m["mountPath"] + "/"))
    assert mount["readOnly"] is True
    vol = next(v for v in dep["volumes"] if v["name"] == mount["name"])
    assert vol["secret"]["items"] == [{"key": "service-token.pem", "path": path.rsplit("/", 1)[1]}]


def test_pods_use_a_service_account_without_token_and_have_pdb(renders):
    for area, objs in renders.items():
        sas = find(objs, "ServiceAccount")
        assert sas and all(sa["automountServiceAccountToken"] is False for sa in sas)
        deps = find(objs, "Deployment")
        pdbs = find(objs, "PodDisruptionBudget")
        assert [d["spec"]["selector"] for d in deps] == [p["spec"]["selector"] for p in pdbs]


def test_one_template_renders_each_enabled_service(variants):
    shipped = variants["pohjois-savo"]
    assert [d["metadata"]["name"] for d in find(shipped, "Deployment")] == [
        f"ot-pohjois-savo-ot-platform-{s}" for s in ("consent", "experts", "feedback", "intake", "portal")]
    every = variants["pohjois-savo-all"]
    for kind in ("Deployment", "Service", "ConfigMap", "PodDisruptionBudget", "HorizontalPodAutoscaler"):
        names = sorted(o["metadata"]["name"].split("ot-platform-")[1] for o in find(every, kind))
        assert [n.removesuffix("-env") for n in names] == sorted(SERVICE_NAMES | {PORTAL}), kind
    ports = {d["metadata"]["name"].rsplit("-", 1)[1]: d["spec"]["template"]["spec"]["containers"][0]["ports"][0]
             ["containerPort"] for d in find(every, "Deployment")}
    assert ports == {"intake": 50051, "experts": 50052, "consent": 50053, "feedback": 50054, "portal": 8080}
    assert len(find(every, "Pod")) == 4  # one helm test pod per gRPC service
    for hpa in find(every, "HorizontalPodAutoscaler"):
        dep = find(every, "Deployment", hpa["spec"]["scaleTargetRef"]["name"])[0]
        assert "replicas" not in dep["spec"]


def test_migrations_are_pre_install_and_pre_upgrade_hooks(variants):
    every = variants["pohjois-savo-all"]
    jobs = {j["metadata"]["name"]: j for j in find(every, "Job")}
    for svc in SERVICE_NAMES | {PORTAL}:
        job = jobs[f"ot-pohjois-savo-ot-platform-{svc}-migrate"]
        assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
        spec = job["spec"]["template"]["spec"]
        steps = [c["args"] for c in spec.get("initContainers", []) + spec["containers"]]
        assert steps[0] == ["migrate"]
        assert f"ot-{svc}:" in spec["containers"][0]["image"]
        # Never selected by the Service, the PDB or a NetworkPolicy of the service.
        assert job["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"] == f"{svc}-migrate"
    assert [c["args"] for c in jobs["ot-pohjois-savo-ot-platform-experts-migrate"]["spec"]["template"]["spec"]
            ["initContainers"]] == [["migrate"]]
    weights = {n: int(j["metadata"]["annotations"]["helm.sh/hook-weight"]) for n, j in jobs.items()}
    assert weights.pop("ot-pohjois-savo-ot-platform-topics") < min(weights.values())


def test_topics_are_kafkatopics_with_strimzi_else_a_job(variants):
    strimzi = variants["pohjois-savo"]
    topics = {t["spec"]["topicName"]: t["spec"] for t in find(strimzi, "KafkaTopic")}
    assert set(topics) == {f"ot.pohjois-savo.{s}.{k}" for s in ("intake", "experts", "consent", "feedback")
                           for k in ("v1", "dlt.v1")}
    assert topics["ot.pohjois-savo.intake.v1"]["config"]["retention.ms"] == 30 * 86400000
    assert topics["ot.pohjois-savo.intake.dlt.v1"]["config"]["retention.ms"] == 90 * 86400000
    assert not find(strimzi, "Job", "-topics")
    every = variants["pohjois-savo-all"]
    assert not find(every, "KafkaTopic")
    job = find(every, "Job", "-topics")[0]
    env = {e["name"]: e.get("value") for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    wanted = {t["name"]: t for t in json.loads(env["OT_TOPICS"])}
    assert wanted["ot.catalogue.experts.v1"]["compacted"] is True
    assert {f"ot.pohjois-savo.{s}.{k}" for s in SERVICE_NAMES for k in ("v1", "dlt.v1")} <= set(wanted)


def test_config_change_rolls_pods(helm_bin):
    def checksums(*sets):
        return {d["metadata"]["labels"]["app.kubernetes.io/component"]:
                d["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
                for d in find(render(helm_bin, "keski-suomi", *sets), "Deployment")}
    base = checksums()
    assert base == checksums()
    debug = checksums("logLevel=DEBUG")
    assert all(base[s] != debug[s] for s in base)
    # An area policy rolls only the service that reads it.
    retention = checksums("area.retention.caseContent.otTuki.graceDays=45")
    assert [s for s in base if base[s] != retention[s]] == ["consent"]
    for feedback_setting in ("area.feedback.delayDaysByType.expertReinforcement=90", "area.feedback.smtp.port=25"):
        changed = checksums(feedback_setting)
        assert [s for s in base if base[s] != changed[s]] == ["feedback"], feedback_setting


def test_image_digest_is_rendered(helm_bin):
    digest = "sha256:" + "a" * 64
    dep = find(render(helm_bin, "etela-savo", f"services.intake.image.digest={digest}",
                      "image.tag=1.2.3"), "Deployment", "-intake")[0]
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == \
        f"registry.example.invalid/ot/ot-intake:1.2.3@{digest}"


def test_otel_and_tenant_per_area(renders):
    for area, objs in renders.items():
        data = find(objs, "ConfigMap", "-intake-env")[0]["data"]
        assert data["OT_TENANT"] == area
        assert data["OT_TOPIC_PREFIX"] == f"ot.{area}"
        assert data["OTEL_SERVICE_NAME"] == "ot-intake"
        attrs = dict(kv.split("=", 1) for kv in data["OTEL_RESOURCE_ATTRIBUTES"].split(","))
        assert attrs["ot.tenant"] == area and attrs["k8s.namespace.name"] == f"ot-{area}"


def test_notes_tell_what_was_installed(helm_bin, tmp_path, tools_python):
    # `helm template` leaves NOTES.txt out and `helm install --dry-run` wants a cluster: render
    # a copy of the chart where the notes are also a ConfigMap's data.
    chart = tmp_path / "chart"
    shutil.copytree(CHART, chart)
    notes_src = (CHART / "templates" / "NOTES.txt").read_text()
    (chart / "templates" / "_notes_copy.tpl").write_text('{{- define "notes-copy" -}}\n' + notes_src + "\n{{- end }}\n")
    (chart / "templates" / "notes-copy.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  notes: |\n"
        '{{ include "notes-copy" . | indent 4 }}\n')
    out = run_helm(helm_bin, "template", "ot-keski-suomi", str(chart), "--namespace", "ot-keski-suomi",
                   "--kube-version", KUBE_VERSION, "-f", str(CHART.parent / "values" / "keski-suomi.yaml"),
                   "--show-only", "templates/notes-copy.yaml")
    notes = parse_yaml(out)[0]["data"]["notes"]
    assert "The OT platform for keski-suomi" in notes and "helm test ot-keski-suomi -n ot-keski-suomi" in notes
    assert "ot-keski-suomi-ot-platform-intake.ot-keski-suomi.svc:50051" in notes
    assert "ot-keski-suomi-ot-platform-feedback.ot-keski-suomi.svc:50054" in notes and "ot.tenant=keski-suomi" in notes
    assert "not enabled" not in notes
    secrets = "ot-keski-suomi-ot-platform-feedback-secrets"
    for line in (f"OT_FEEDBACK_LINK_SECRET from Secret {secrets} key link-secret",
                 f"OT_SMTP_PASSWORD from Secret {secrets} key smtp-password",
                 f"OT_SERVICE_TOKEN_KEY_FILE: file from Secret {secrets} key service-token.pem",
                 "database from Secret ot-keski-suomi-ot-platform-feedback-db key DATABASE_URL",
                 "the request mail 60 days after the consultation, one reminder",
                 "mail from ot-palaute@keski-suomi.example.invalid through smtp.keski-suomi.example.invalid:587",
                 "https://palaute.keski-suomi.example.invalid/palaute/<link>",
                 "urn:ot-platform:keski-suomi:services",
                 "ConfigMap ot-keski-suomi-ot-platform-service-token key public.pem",
                 "from Secret ot-keski-suomi-ot-platform-feedback-grpc-tls (tls.crt, tls.key, ca.crt)",
                 "Kafka user ot-keski-suomi-ot-platform-feedback (SASL_SSL SCRAM-SHA-512), password from Secret "
                 "ot-keski-suomi-ot-platform-feedback-kafka key password; writes feedback's topics, reads intake, consent",
                 "SASL_SSL (brokers verified against Secret ot-kafka-cluster-ca-cert key ca.crt)",
                 "readiness GET /readyz"):
        assert line in notes, line
    assert "Known defect" not in notes
    consent_secrets = "ot-keski-suomi-ot-platform-consent-secrets"
    assert f"OT_CONSENT_MASTER_KEYS from Secret {consent_secrets} key master-keys" in notes
    assert f"OT_CONSENT_AUDIT_KEY from Secret {consent_secrets} key audit-key" in notes
    assert "ot-consent verify-audit --anchors-from-topic" in notes and "there is no key rotation" not in notes
    assert "the migrate Job also ran: ot-experts seed" in notes


def test_every_value_is_commented():
    """Each key in values.yaml has a comment line right above it."""
    lines = (CHART / "values.yaml").read_text().splitlines()
    missing = []
    for i, line in enumerate(lines):
        m = re.match(r"^(\s*)([A-Za-z][\w.-]*):", line)
        if not m or line.lstrip().startswith("-"):
            continue
        j = i - 1
        while j >= 0 and lines[j].strip() == "":
            j -= 1
        prev = lines[j] if j >= 0 else ""
        in_list_item = prev.lstrip().startswith("- ") and len(m.group(1)) > len(prev) - len(prev.lstrip())
        if not prev.strip().startswith("#") and not in_list_item:
            missing.append(f"{i + 1}: {line.strip()}")
    assert missing == []


# ---- the portal ----------------------------------------------------------------------------------

def test_the_portal_is_a_web_front_with_its_own_database_and_secrets(renders):
    """HTTP only, no Kafka and no token checking of its own; its sessions' database and its two
    secrets from the Secrets the area files name; it signs people in at the provider the services
    verify, believes one proxy (the ingress controller), calls the four services over TLS verified
    against the area's CA (only ca.crt is mounted, from a service's Secret), and feedback's mails
    link to its address."""
    for area, objs in renders.items():
        fullname = f"ot-{area}-ot-platform"
        intake = find(objs, "Deployment", "-intake")[0]["spec"]["template"]["spec"]["containers"][0]
        services_env = _env_of(objs, intake)
        for where, spec, c in _portal_pods(objs):
            env, files = _env_of(objs, c), _mounted(spec, c)
            refs = {k: v["secretKeyRef"] for k, v in env.items() if isinstance(v, dict)}
            assert refs == {"DATABASE_URL": {"name": f"{fullname}-portal-db", "key": "DATABASE_URL"},
                            "OT_OIDC_CLIENT_SECRET": {"name": f"{fullname}-portal-secrets", "key": "oidc-client-secret"},
                            "OT_PORTAL_SECRET_KEY": {"name": f"{fullname}-portal-secrets", "key": "secret-key"}}, where
            assert env["OT_OIDC_ISSUER"] == services_env["AUTH_JWT_ISSUER"], where  # the same provider
            assert env["OT_OIDC_CLIENT_ID"] == "ot-portal" and env["OT_PORTAL_TRUSTED_PROXIES"] == "1", where
            assert env["OT_PORTAL_PUBLIC_URL"] == f"https://ot.{area}.example.invalid", where
            assert files == {env["GRPC_TLS_CA_FILE"]: ("secret", f"{fullname}-intake-grpc-tls", "ca.crt")}, where
            assert not {n for n in env if n.startswith(("KAFKA_", "AUTH_", "GRPC_TLS_CERT", "GRPC_TLS_KEY",
                                                          "GRPC_PORT", "OT_TOPIC"))}, where
            assert all(m.get("readOnly") for m in c["volumeMounts"] if m["name"] != "tmp"), where
        feedback = find(objs, "ConfigMap", "-feedback-env")[0]["data"]
        assert feedback["OT_PORTAL_URL"] == find(objs, "ConfigMap", "-portal-env")[0]["data"]["OT_PORTAL_PUBLIC_URL"]
        # Nothing of a gRPC service: no topic, Kafka user, certificate or gRPC health test.
        assert not [o for o in objs if o["kind"] in ("KafkaTopic", "KafkaUser", "Certificate", "Pod")
                    and "portal" in json.dumps(o["metadata"])], area
        comment = (CHART.parent / "values" / f"{area}.yaml").read_text()
        assert re.search(rf"#   {fullname}-portal-db +key DATABASE_URL ", comment), area
        assert re.search(rf"#   {fullname}-portal-secrets +key oidc-client-secret .*\n# +key secret-key ", comment), area
        assert re.search(rf"#   {fullname}-portal-tls +keys tls.crt, tls.key ", comment), area


def test_people_reach_the_portal_through_its_ingress_over_tls(helm_bin, renders):
    for area, objs in renders.items():
        ingress = find(objs, "Ingress")
        assert [i["metadata"]["name"] for i in ingress] == [f"ot-{area}-ot-platform-portal"], area
        spec = ingress[0]["spec"]
        host = f"ot.{area}.example.invalid"
        assert spec["tls"] == [{"hosts": [host], "secretName": f"ot-{area}-ot-platform-portal-tls"}]
        assert spec["rules"] == [{"host": host, "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {
            "service": {"name": f"ot-{area}-ot-platform-portal", "port": {"name": "http"}}}}]}}]
        assert "ingressClassName" not in spec  # the cluster's default unless set
        service = find(objs, "Service", "-portal")[0]["spec"]
        assert [p["name"] for p in service["ports"]] == ["http"]
    own = render(helm_bin, "keski-suomi", "services.portal.publicUrl=https://ot.ksshp.example.fi",
                 "services.portal.ingress.className=nginx", "services.portal.ingress.tls.secretName=ot-portal-cert",
                 "services.portal.ingress.annotations.cert-manager\\.io/cluster-issuer=letsencrypt")
    ingress = find(own, "Ingress")[0]
    assert ingress["metadata"]["annotations"] == {"cert-manager.io/cluster-issuer": "letsencrypt"}
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"] == [{"hosts": ["ot.ksshp.example.fi"], "secretName": "ot-portal-cert"}]
    assert find(own, "ConfigMap", "-portal-env")[0]["data"]["OT_PORTAL_PUBLIC_URL"] == "https://ot.ksshp.example.fi"
    assert find(own, "ConfigMap", "-feedback-env")[0]["data"]["OT_PORTAL_URL"] == "https://ot.ksshp.example.fi"
    assert not find(render(helm_bin, "keski-suomi", "services.portal.ingress.enabled=false"), "Ingress")


def test_the_portals_flows(variants):
    """As Kubernetes evaluates the policies: the ingress controller reaches the portal's pages; no
    pod of the release does; the portal reaches the four services' gRPC ports, the identity
    provider, PostgreSQL and DNS, but not Kafka, which every gRPC service still reaches."""
    objs = variants["pohjois-savo"]
    pols = find(objs, "NetworkPolicy")
    component = lambda o: o["metadata"]["labels"]["app.kubernetes.io/component"]  # noqa: E731
    pods = {component(d): d["spec"]["template"]["metadata"]["labels"] for d in find(objs, "Deployment")}
    migrate = {component(j).removesuffix("-migrate"): j["spec"]["template"]["metadata"]["labels"]
               for j in find(objs, "Job", "-migrate")}

    def selecting(pod: dict, direction: str) -> list[dict]:
        return [p["spec"] for p in pols if direction in p["spec"]["policyTypes"] and _selects(p["spec"]["podSelector"], pod)]

    def egress_ports(pod: dict, peer_key: str) -> set[int]:
        """TCP ports `pod` may send to peers outside the release whose rule mentions `peer_key`."""
        return {pp["port"] for spec in selecting(pod, "Egress") for rule in spec.get("egress") or []
                if any(peer_key in json.dumps(t) for t in rule["to"]) for pp in rule["ports"]}

    ingress_ns = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress"}}}
    portal_in = [r for spec in selecting(pods[PORTAL], "Ingress") for r in spec.get("ingress") or []]
    assert {"from": [ingress_ns], "ports": [{"protocol": "TCP", "port": 8080}]} in portal_in
    grpc_port = {component(d): d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"]
                 for d in find(objs, "Deployment")}
    for svc in SERVICE_NAMES:
        assert _allowed(pols, "Egress", pods[PORTAL], pods[svc], grpc_port[svc]) and \
            _allowed(pols, "Ingress", pods[svc], pods[PORTAL], grpc_port[svc]), svc
    assert egress_ports(pods[PORTAL], "10.0.0.0/8") == {443}  # the identity provider (networkPolicy.jwks)
    assert egress_ports(pods[PORTAL], "postgres") == {5432} and egress_ports(pods[PORTAL], "kube-dns") == {53}
    assert egress_ports(pods[PORTAL], "strimzi") == set() == egress_ports(migrate[PORTAL], "strimzi")
    for svc in SERVICE_NAMES:
        assert egress_ports(pods[svc], "strimzi") == {9093} == egress_ports(migrate[svc], "strimzi"), svc
    topics = find(variants["pohjois-savo-all"], "Job", "-topics")[0]["spec"]["template"]["metadata"]["labels"]
    assert egress_ports(topics, "strimzi") == {9093}


@pytest.mark.parametrize("bad, message", [
    ("services.portal.publicUrl=", "services.portal.publicUrl is required"),
    ("services.portal.publicUrl=http://ot.example.fi", "values don't meet the specifications of the schema"),
    ("services.portal.publicUrl=https://ot.example.fi/portaali", "values don't meet the specifications of the schema"),
    ("services.portal.grpcPort=50055", "values don't meet the specifications of the schema"),  # serves no gRPC
    ("services.portal.kafkaUser.name=portal", "values don't meet the specifications of the schema"),
    ("services.portal.secretEnv.OT_PORTAL_SECRET_KEY=null", "values don't meet the specifications of the schema"),
    ("services.portal.secretEnv.OT_OIDC_CLIENT_SECRET=null", "values don't meet the specifications of the schema"),
    ("services.portal.calls=null", "values don't meet the specifications of the schema"),
    ("services.feedback.extraEnv.OT_PORTAL_URL=https://elsewhere.example.fi", "must not be set while the portal is enabled"),
])
def test_portal_settings_that_would_not_work_are_refused(helm_bin, bad, message):
    done = subprocess.run([str(helm_bin), "template", "x", str(CHART), "--kube-version", KUBE_VERSION,
                           "-f", str(CHART.parent / "values" / "pohjois-savo.yaml"), "--set", bad],
                          capture_output=True, text=True)
    assert done.returncode != 0 and message in done.stderr, done.stderr[-2000:]


def test_a_release_without_the_portal(helm_bin):
    objs = render(helm_bin, "etela-savo", "services.portal.enabled=false",
                  "services.feedback.extraEnv.OT_PORTAL_URL=https://ot.etela-savo.example.invalid")
    assert not [o for o in objs if "portal" in o["metadata"]["name"]]
    assert find(objs, "ConfigMap", "-feedback-env")[0]["data"]["OT_PORTAL_URL"] == "https://ot.etela-savo.example.invalid"
    kafka = find(objs, "NetworkPolicy", "-egress-kafka")[0]["spec"]["podSelector"]
    assert "matchExpressions" not in kafka  # every pod of the release uses Kafka then


# ---- transport security and service tokens ---------------------------------------------------

def _env_of(objs: list[dict], container: dict) -> dict[str, str]:
    env = {}
    for src in container.get("envFrom", []):
        env.update(find(objs, "ConfigMap", src["configMapRef"]["name"])[0]["data"])
    for e in container.get("env", []):
        env[e["name"]] = e.get("value", e.get("valueFrom"))
    return env


def _mounted(spec: dict, container: dict) -> dict[str, tuple[str, str, str]]:
    """path of every mounted file -> (kind, object name, key) for Secret and ConfigMap volumes."""
    volumes = {v["name"]: v for v in spec["volumes"]}
    files = {}
    for m in container.get("volumeMounts", []):
        v = volumes[m["name"]]
        for kind in ("secret", "configMap"):
            if kind in v:
                name = v[kind].get("secretName", v[kind].get("name"))
                for item in v[kind]["items"]:
                    files[f"{m['mountPath']}/{item['path']}"] = (kind, name, item["key"])
    return files


def _all_pods(objs):
    """(service, where, pod spec, container) of every Deployment and migration step."""
    for dep in find(objs, "Deployment"):
        spec = dep["spec"]["template"]["spec"]
        yield dep["metadata"]["labels"]["app.kubernetes.io/component"], dep["metadata"]["name"], spec, spec["containers"][0]
    for job in find(objs, "Job", "-migrate"):
        spec = job["spec"]["template"]["spec"]
        svc = job["metadata"]["labels"]["app.kubernetes.io/component"].removesuffix("-migrate")
        for c in spec.get("initContainers", []) + spec["containers"]:
            yield svc, f"{job['metadata']['name']}/{c['name']}", spec, c


def _service_pods(objs):
    """_all_pods of the gRPC services."""
    return ((svc, where, spec, c) for svc, where, spec, c in _all_pods(objs) if svc != PORTAL)


def _portal_pods(objs):
    """_all_pods of the portal: its Deployment's and its migration Job's."""
    return ((where, spec, c) for svc, where, spec, c in _all_pods(objs) if svc == PORTAL)


def test_every_service_serves_grpc_tls_and_connects_to_kafka_as_its_own_user(renders):
    """In every area: gRPC certificate, key and CA from the service's own Secret; Kafka over
    SASL_SSL with the brokers' CA and the service's own SCRAM user (its KafkaUser), password from
    the area's Secret that its KafkaUser reads too; service tokens from their own issuer and public key."""
    for area, objs in renders.items():
        fullname = f"ot-{area}-ot-platform"
        for svc, where, spec, c in _service_pods(objs):
            env, files = _env_of(objs, c), _mounted(spec, c)
            tls = f"{fullname}-{svc}-grpc-tls"
            assert [files[env[n]] for n in ("GRPC_TLS_CERT_FILE", "GRPC_TLS_KEY_FILE", "GRPC_TLS_CA_FILE")] == \
                [("secret", tls, "tls.crt"), ("secret", tls, "tls.key"), ("secret", tls, "ca.crt")], where
            assert env["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL" and env["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
            assert files[env["KAFKA_SSL_CA_FILE"]] == ("secret", "ot-kafka-cluster-ca-cert", "ca.crt"), where
            assert env["KAFKA_SASL_USERNAME"] == f"{fullname}-{svc}", where
            assert env["KAFKA_SASL_PASSWORD"] == {"secretKeyRef": {"name": f"{fullname}-{svc}-kafka", "key": "password"}}
            assert env["AUTH_SERVICE_ISSUER"] == f"urn:ot-platform:{area}:services" != env["AUTH_JWT_ISSUER"]
            assert files[env["AUTH_SERVICE_PUBLIC_KEY_FILE"]] == ("configMap", f"{fullname}-service-token", "public.pem")
            assert "AUTH_SERVICE_JWKS_URL" not in env
            assert all(m.get("readOnly") for m in c["volumeMounts"] if m["name"] != "tmp"), where


def _acls(user: dict) -> set[tuple[str, str, str]]:
    return {(a["resource"]["type"], a["resource"]["name"], op) for a in user["spec"]["authorization"]["acls"]
            for op in a["operations"] if a["resource"].get("patternType", "literal") == "literal"}


def test_each_kafka_user_may_write_only_its_own_topics(renders):
    """The KafkaUsers (Strimzi): write and describe its own topic and dead letters, read what its
    code consumes, its own consumer group; nothing else: no other service's topic to write (no
    forged events), no Create, no prefix or wildcard patterns, no cluster rights."""
    for area, objs in renders.items():
        users = {u["metadata"]["labels"]["app.kubernetes.io/component"]: u for u in find(objs, "KafkaUser")}
        assert set(users) == SERVICE_NAMES, area
        p = f"ot.{area}"
        for svc, user in users.items():
            assert user["metadata"]["name"] == f"ot-{area}-ot-platform-{svc}"
            assert user["metadata"]["namespace"] == "kafka" and user["metadata"]["labels"]["strimzi.io/cluster"] == "ot-kafka"
            # The password the pods use: the Secret of the same name, which the area creates in both namespaces.
            assert user["spec"]["authentication"] == {"type": "scram-sha-512", "password": {"valueFrom": {
                "secretKeyRef": {"name": f"ot-{area}-ot-platform-{svc}-kafka", "key": "password"}}}}
            assert all(a["resource"]["patternType"] == "literal" and a.get("type", "allow") == "allow"
                       for a in user["spec"]["authorization"]["acls"]), (area, svc)
            expected = {("topic", f"{p}.{svc}.v1", "Write"), ("topic", f"{p}.{svc}.v1", "Describe"),
                        ("topic", f"{p}.{svc}.dlt.v1", "Write"), ("topic", f"{p}.{svc}.dlt.v1", "Describe"),
                        ("group", f"{p}.{svc}", "Read")}
            expected |= {("topic", f"{p}.{c}.v1", op) for c in CODE_CONSUMES[svc] for op in ("Read", "Describe")}
            if svc == "consent":  # verify-audit --anchors-from-topic reads its own topic back
                expected.add(("topic", f"{p}.consent.v1", "Read"))
            assert _acls(user) == expected, (area, svc)
        writers = {(name, svc) for svc, user in users.items() for kind, name, op in _acls(user) if op == "Write"}
        assert {name for name, _ in writers} == {f"{p}.{s}.{k}" for s in SERVICE_NAMES for k in ("v1", "dlt.v1")}
        assert all(name.startswith(f"{p}.{svc}.") for name, svc in writers), (area, writers)


def _code_consumes() -> dict[str, list[str]]:
    """What each service's bootstrap passes to wire(consumes=[...]): the topics its consumer reads."""
    found = {}
    for svc in SERVICE_NAMES:
        tree = ast.parse((REPO / "services" / svc / "src" / f"ot_{svc}" / "bootstrap.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "wire":
                value = next(k.value for k in node.keywords if k.arg == "consumes")
                found[svc] = [ast.literal_eval(e) for e in value.elts]
    return found


CODE_CONSUMES = _code_consumes()


def test_the_chart_consumes_what_the_code_consumes(renders):
    """A service's Kafka user may read exactly the topics its code consumes: the chart's
    services.<name>.consumes must follow the code's wire(consumes=...)."""
    assert set(CODE_CONSUMES) == SERVICE_NAMES
    values_consumes = {}
    for cm in find(renders["pohjois-savo"], "KafkaUser"):
        svc = cm["metadata"]["labels"]["app.kubernetes.io/component"]
        values_consumes[svc] = sorted(name.split(".")[2] for kind, name, op in _acls(cm)
                                      if kind == "topic" and op == "Read" and not name.endswith(f".{svc}.v1"))
    assert values_consumes == {svc: sorted(c) for svc, c in CODE_CONSUMES.items()}


def test_helm_test_pods_verify_the_service_against_the_area_ca(renders):
    for area, objs in renders.items():
        for pod in find(objs, "Pod", "-test-grpc-health"):
            svc = pod["metadata"]["labels"]["app.kubernetes.io/component"].removesuffix("-test")
            c = pod["spec"]["containers"][0]
            env = {e["name"]: e["value"] for e in c["env"]}
            # Only the CA of the service's Secret, never its key.
            assert _mounted(pod["spec"], c) == {env["OT_HEALTH_CA_FILE"]: (
                "secret", f"ot-{area}-ot-platform-{svc}-grpc-tls", "ca.crt")}, (area, svc)


def test_cert_manager_certificates_name_the_service_as_its_callers_do(helm_bin):
    objs = render(helm_bin, "pohjois-savo", "grpcTls.certManager.enabled=true",
                  "grpcTls.certManager.issuerRef.name=ot-area-ca")
    certs = {c["spec"]["secretName"]: c["spec"] for c in find(objs, "Certificate")}
    callers = [_env_of(objs, d["spec"]["template"]["spec"]["containers"][0]) for d in find(objs, "Deployment")]
    deps = {d["metadata"]["labels"]["app.kubernetes.io/component"]: d for d in find(objs, "Deployment")}
    deps.pop(PORTAL)  # serves no gRPC: no certificate (it reads the area's CA from intake's Secret)
    assert set(certs) == {f"ot-pohjois-savo-ot-platform-{s}-grpc-tls" for s in deps}
    for svc in deps:
        spec = certs[f"ot-pohjois-savo-ot-platform-{svc}-grpc-tls"]
        assert spec["issuerRef"] == {"name": "ot-area-ca", "kind": "ClusterIssuer", "group": "cert-manager.io"}
        assert "server auth" in spec["usages"]
        # Every name a caller or `helm test` dials is in the certificate.
        dialled = {env[f"OT_{svc.upper()}_GRPC_TARGET"].rsplit(":", 1)[0] for env in callers
                   if f"OT_{svc.upper()}_GRPC_TARGET" in env}
        test_pod = find(objs, "Pod", f"-{svc}-test-grpc-health")[0]["spec"]["containers"][0]
        dialled.add(next(e["value"] for e in test_pod["env"] if e["name"] == "OT_HEALTH_TARGET").rsplit(":", 1)[0])
        assert dialled <= set(spec["dnsNames"]), (svc, dialled)
    done = subprocess.run([str(helm_bin), "template", "x", str(CHART), "--kube-version", KUBE_VERSION,
                           "-f", str(CHART.parent / "values" / "pohjois-savo.yaml"),
                           "--set", "grpcTls.certManager.enabled=true"], capture_output=True, text=True)
    assert done.returncode != 0 and "values don't meet the specifications of the schema" in done.stderr


def test_a_laptop_render_is_plaintext_and_has_no_kafka_users(helm_bin):
    objs = render(helm_bin, "pohjois-savo", "grpcTls.enabled=false", "kafka.securityProtocol=PLAINTEXT")
    assert not find(objs, "KafkaUser")
    for svc, where, spec, c in _service_pods(objs):
        env = _env_of(objs, c)
        assert env["KAFKA_SECURITY_PROTOCOL"] == "PLAINTEXT", where
        assert not {n for n in env if n.startswith(("GRPC_TLS_", "KAFKA_SSL_", "KAFKA_SASL_"))}, where
        assert {f[1] for f in _mounted(spec, c).values()} <= {f"ot-pohjois-savo-ot-platform-{svc}-secrets",
                                                              "ot-pohjois-savo-ot-platform-service-token"}, where
    for pod in find(objs, "Pod", "-test-grpc-health"):
        assert "OT_HEALTH_CA_FILE" not in {e["name"] for e in pod["spec"]["containers"][0]["env"]}
    for where, spec, c in _portal_pods(objs):  # plaintext calls: no CA file, nothing mounted but /tmp
        assert not {n for n in _env_of(objs, c) if n.startswith(("GRPC_TLS_", "KAFKA_"))}, where
        assert _mounted(spec, c) == {}, where


def test_service_tokens_have_their_own_issuer(helm_bin):
    own = render(helm_bin, "etela-savo", "auth.service.issuer=https://ot.example.invalid/services",
                 "auth.service.jwksUrl=https://ot.example.invalid/services/jwks")
    for svc, where, spec, c in _service_pods(own):
        env = _env_of(own, c)
        assert env["AUTH_SERVICE_ISSUER"] == "https://ot.example.invalid/services", where
        assert env["AUTH_SERVICE_JWKS_URL"] == "https://ot.example.invalid/services/jwks", where
        assert "AUTH_SERVICE_PUBLIC_KEY_FILE" not in env and "service-token-key" not in {
            v["name"] for v in spec["volumes"]}, where
    done = subprocess.run([str(helm_bin), "template", "x", str(CHART), "--kube-version", KUBE_VERSION,
                           "-f", str(CHART.parent / "values" / "etela-savo.yaml"),
                           "--set", "auth.service.issuer=https://login.etela-savo.example.invalid/realms/ot"],
                          capture_output=True, text=True)
    assert done.returncode != 0 and "auth.service.issuer must differ from auth.issuer" in done.stderr


@pytest.mark.parametrize("bad", ["kafka.securityProtocol=SASL_PLAINTEXT", "kafka.saslMechanism=PLAIN",
                                 "services.intake.kafkaUser.readsOwnTopc=true", "grpcTls.certManager.duration=90d"])
def test_schema_refuses_wrong_transport_values(helm_bin, bad):
    done = subprocess.run([str(helm_bin), "template", "x", str(CHART), "--kube-version", KUBE_VERSION,
                           "-f", str(CHART.parent / "values" / "pohjois-savo.yaml"), "--set", bad],
                          capture_output=True, text=True)
    assert done.returncode != 0 and "values don't meet the specifications of the schema" in done.stderr


def test_topic_job_connects_as_its_own_kafka_user(variants):
    job = find(variants["pohjois-savo-all"], "Job", "-topics")[0]["spec"]["template"]["spec"]
    c = job["containers"][0]
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in c["env"]}
    assert env["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL" and env["KAFKA_SASL_USERNAME"] == "ot-pohjois-savo-ot-platform-topics"
    assert env["KAFKA_SASL_PASSWORD"] == {"secretKeyRef": {"name": "ot-pohjois-savo-ot-platform-topics-kafka",
                                                          "key": "password"}}
    assert _mounted(job, c)[env["KAFKA_SSL_CA_FILE"]] == ("secret", "ot-kafka-cluster-ca-cert", "ca.crt")


# ---- the config contract ---------------------------------------------------------------------

def _settings_required() -> set[str]:
    src = (REPO / "libs/ot-runtime/src/ot_runtime/settings.py").read_text()
    return set(re.findall(r'required\("([A-Z_]+)"\)', src))


ENV_NAME = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")


def _parsed(root: Path) -> list[ast.Module]:
    return [ast.parse(path.read_text(encoding="utf-8"), str(path)) for path in sorted(root.rglob("*.py"))]


def _enums(trees: list[ast.Module]) -> dict[str, dict[str, str]]:
    """class name -> {member name: value} of every class whose body is string constants (the
    StrEnums of ot_runtime.vocabulary and of the service's package), and name -> {value: value} of
    every module-level tuple of strings (e.g. the portal's SERVICES, from which it builds
    OT_<SERVICE>_GRPC_TARGET)."""
    found = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                members = {s.targets[0].id: s.value.value for s in node.body
                           if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name)
                           and isinstance(s.value, ast.Constant) and isinstance(s.value.value, str)}
                if members:
                    found[node.name] = members
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                    and isinstance(node.value, ast.Tuple) and node.value.elts \
                    and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.value.elts):
                found[node.targets[0].id] = {e.value: e.value for e in node.value.elts}
    return found


def _member_text(expr: ast.expr, var: str, name: str, value: str) -> str | None:
    """What `expr` is for one enum member bound to `var`: `t`, `t.value`, `t.name`, then any of
    .upper()/.lower(); None for anything else (then the name is not worked out, so not counted)."""
    if isinstance(expr, ast.Call) and not expr.args and isinstance(expr.func, ast.Attribute) \
            and expr.func.attr in ("upper", "lower"):
        inner = _member_text(expr.func.value, var, name, value)
        return None if inner is None else getattr(inner, expr.func.attr)()
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == var:
        return {"value": value, "name": name}.get(expr.attr)
    if isinstance(expr, ast.Name) and expr.id == var:
        return value
    return None


def _enum_built_names(tree: ast.Module, enums: dict[str, dict[str, str]]) -> set[str]:
    """Names an f-string builds from the members of an enum it iterates over, e.g.
    `{t: days(f"OT_FEEDBACK_DELAY_DAYS_{t.value.upper()}") for t in RequestType}` reads
    OT_FEEDBACK_DELAY_DAYS_OT_TUKI, ..._GROUP_CONSULTATION and ..._EXPERT_REINFORCEMENT: exactly
    the enum's members, nothing else."""
    names = set()
    for node in ast.walk(tree):
        loops = [(g.target, g.iter) for g in node.generators] if isinstance(
            node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)) else \
            [(node.target, node.iter)] if isinstance(node, ast.For) else []
        for target, it in loops:
            if not (isinstance(target, ast.Name) and isinstance(it, ast.Name) and it.id in enums):
                continue
            for sub in ast.walk(node):
                if not isinstance(sub, ast.JoinedStr):
                    continue
                for member, value in enums[it.id].items():
                    parts = []
                    for part in sub.values:
                        if isinstance(part, ast.Constant):
                            parts.append(str(part.value))
                        elif isinstance(part, ast.FormattedValue) and part.format_spec is None and \
                                (text := _member_text(part.value, target.id, member, value)) is not None:
                            parts.append(text)
                        else:
                            break
                    else:
                        if ENV_NAME.fullmatch(name := "".join(parts)):
                            names.add(name)
    return names


def _literal_names(trees: list[ast.Module], enums: dict[str, dict[str, str]]) -> set[str]:
    """Every string literal in `trees` that is exactly an environment-variable name:
    `env.get("GRPC_PORT")`, `required("OT_TENANT")`, `extra.get("OT_CONSENT_GRPC_TARGET")`, and
    the names an f-string builds from each member of an enum (_enum_built_names). A name only
    mentioned in a comment, a docstring or a message is not counted as read."""
    names = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and ENV_NAME.fullmatch(node.value):
                names.add(node.value)
        names |= _enum_built_names(tree, enums)
    return names


@functools.cache
def names_read_by(service: str) -> frozenset[str]:
    """What ot_runtime and the service's own package read (see _literal_names). The portal reads
    its environment with its own loader (ot_portal.settings), never ot_runtime's: only its package
    counts, so a gRPC service's name (KAFKA_*, AUTH_*) rendered into it is caught."""
    roots = [REPO / "services" / service / "src"] + ([] if service == PORTAL else [REPO / "libs" / "ot-runtime" / "src"])
    trees = [tree for root in roots for tree in _parsed(root)]
    return frozenset(_literal_names(trees, _enums(trees)))


def _portal_required() -> set[str]:
    """What the portal refuses to start without (ot_portal.settings: required(...), the secret key,
    and a gRPC target per service)."""
    src = (REPO / "services/portal/src/ot_portal/settings.py").read_text()
    return set(re.findall(r'required\("([A-Z_]+)"', src)) | {"OT_PORTAL_SECRET_KEY"} | {
        f"OT_{s.upper()}_GRPC_TARGET" for s in SERVICE_NAMES}


def test_names_built_from_an_enum_are_read_exactly_for_its_members():
    delays = {n for n in names_read_by("feedback") if n.startswith("OT_FEEDBACK_DELAY_DAYS_")}
    assert delays == {"OT_FEEDBACK_DELAY_DAYS_OT_TUKI", "OT_FEEDBACK_DELAY_DAYS_GROUP_CONSULTATION",
                      "OT_FEEDBACK_DELAY_DAYS_EXPERT_REINFORCEMENT"}
    assert not any(n.startswith("OT_FEEDBACK_") for n in names_read_by("intake"))


def service_containers(objs: list[dict]):
    """(service, where, names of its environment) for every container that runs a service's code:
    the Deployment's (ConfigMap + env) and each step of its migration Job."""
    for dep in find(objs, "Deployment"):
        svc = dep["metadata"]["labels"]["app.kubernetes.io/component"]
        c = dep["spec"]["template"]["spec"]["containers"][0]
        names = {e["name"] for e in c.get("env", [])}
        for src in c.get("envFrom", []):
            names |= set(find(objs, "ConfigMap", src["configMapRef"]["name"])[0]["data"])
        yield svc, f"Deployment/{dep['metadata']['name']}", names
    for job in find(objs, "Job", "-migrate"):
        svc = job["metadata"]["labels"]["app.kubernetes.io/component"].removesuffix("-migrate")
        spec = job["spec"]["template"]["spec"]
        for c in spec.get("initContainers", []) + spec["containers"]:
            yield svc, f"Job/{job['metadata']['name']}/{c['name']}", {e["name"] for e in c["env"]}


def unread_names(objs: list[dict]) -> list[str]:
    """Rendered variables no code of their service reads (standard OTEL_* ones are the SDK's)."""
    return [f"{where}: {n}" for svc, where, names in service_containers(objs)
            for n in sorted(names - names_read_by(svc)) if not n.startswith("OTEL_")]


def test_rendered_names_are_the_ones_the_code_reads(variants):
    required = _settings_required()
    assert {"OT_TENANT", "DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "AUTH_JWT_ISSUER"} <= required
    portal_required = _portal_required()
    assert {"OT_TENANT", "DATABASE_URL", "OT_PORTAL_PUBLIC_URL", "OT_OIDC_ISSUER", "OT_OIDC_CLIENT_ID",
            "OT_OIDC_CLIENT_SECRET"} <= portal_required
    # The portal builds its targets' names from its SERVICES: the scanner works them out.
    assert {f"OT_{s.upper()}_GRPC_TARGET" for s in SERVICE_NAMES} <= names_read_by(PORTAL)
    for name, objs in variants.items():
        for svc, where, names in service_containers(objs):
            wanted = portal_required if svc == PORTAL else required
            assert wanted <= names, (name, where, wanted - names)
        assert unread_names(objs) == [], name


@pytest.mark.parametrize("service, extra", [
    ("intake", "services.intake.extraEnv.OT_MADE_UP_SETTING=1"),  # read by nobody
    ("consent", "services.consent.extraEnv.OT_RETENTION_CASE_DAYS=730"),  # the old, never-read name
    ("intake", "services.intake.extraEnv.OT_PURGE_INTERVAL_SECONDS=60"),  # consent's, not intake's
    ("experts", "services.experts.extraEnv.OT_CONSENT_MASTER_KEY=x"),  # consent's secret, in a docstring of ot_runtime
    ("feedback", "services.feedback.extraEnv.OT_FEEDBACK_DELAY_DAYS_CONSULTED=1"),  # not a RequestType
    ("feedback", "services.feedback.extraEnv.OT_FEEDBACK_DELAY_DAYS_OTTUKI=1"),  # a misspelt one
    ("intake", "services.intake.extraEnv.OT_SMTP_HOST=relay"),  # feedback's, not intake's
    ("portal", "services.portal.extraEnv.KAFKA_BOOTSTRAP_SERVERS=x"),  # the services' (ot_runtime), not the portal's
    ("portal", "services.portal.extraEnv.OT_PORTAL_URL=x"),  # feedback's link to the portal, not the portal's own
])
def test_a_name_the_code_does_not_read_fails_the_check(helm_bin, service, extra):
    variable = extra.split(".")[-1].split("=")[0]
    found = unread_names(render(helm_bin, "pohjois-savo", extra))
    assert found and all(variable in f and f"-{service}" in f for f in found), found


def test_migration_job_env_equals_deployment_env(variants):
    for name, objs in variants.items():
        for cm in find(objs, "ConfigMap", "-env"):
            svc = cm["metadata"]["name"].removesuffix("-env")
            dep = find(objs, "Deployment", svc)[0]["spec"]["template"]["spec"]["containers"][0]
            job = find(objs, "Job", svc.rsplit("-", 1)[0] + "-" + svc.rsplit("-", 1)[1] + "-migrate")[0]
            job_env = job["spec"]["template"]["spec"]["containers"][0]["env"]
            plain = {e["name"]: e["value"] for e in job_env if "value" in e}
            refs = [e for e in job_env if "valueFrom" in e]
            assert plain == cm["data"], name
            # The same Secrets; only the running pods have a consumer-group instance id (their name).
            assert refs == [e for e in dep["env"] if e["name"] != "OT_CONSUMER_INSTANCE_ID"], name
