"""The area's alerts and scrape (templates/prometheusrule.yaml, templates/servicemonitor.yaml) with the
real, pinned promtool (scripts/promtool.sh): every area's rules pass `promtool check rules` and the
unit tests in alerts/alerts_test.yaml (input series -> the alerts that fire, and those that must
not); the Prometheus Operator's objects are rendered only where the cluster serves their kinds; the
scrape reaches every service through its Service and NetworkPolicy.
"""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from conftest import AREAS, AREA_DIR, CHART, KUBE_VERSION, REPO, TOOLS, find, parse_yaml, run_helm

SCHEMAS = Path(__file__).parent / "alerts" / "schemas"
# Strict schemas of the operator's kinds (only the fields the chart renders, from its CRDs), checked
# with the tools venv's jsonschema, as k8s_validate.py checks Strimzi's and cert-manager's.
_VALIDATE = ("import json, sys, jsonschema\n"
             "pairs = json.load(sys.stdin)\n"
             "print(json.dumps([e.message for schema, obj in pairs\n"
             "                  for e in jsonschema.Draft7Validator(schema).iter_errors(obj)]))")

UNIT_TESTS = Path(__file__).parent / "alerts" / "alerts_test.yaml"
CRDS = ("monitoring.coreos.com/v1/PrometheusRule", "monitoring.coreos.com/v1/ServiceMonitor")
RUNBOOKS = "https://example.invalid/ot-platform/README.md"  # values.yaml monitoring.rules.runbookBaseUrl
# What an operator is told to do for each alert: its README section, named after it.
ALERTS = {"OtOutboxBacklogGrowing", "OtOutboxFailedRows", "OtDeadLettersAppearing", "OtConsumerLagHigh",
          "OtRpcErrorRateHigh", "OtRpcLatencyHigh", "OtMailRelayFailing", "OtMailsNotDelivered",
          "OtAuditVerificationFailed", "OtPurgeOverdue"}


@pytest.fixture(scope="session")
def promtool_bin() -> Path:
    path = TOOLS / "bin" / "promtool"
    if not path.exists():
        pytest.fail(f"{path} is missing: run `bash scripts/promtool.sh` first (make deploy-check does)", pytrace=False)
    return path


def render(helm_bin, area: str, *sets: str, crds=CRDS) -> list[dict]:
    release = f"ot-{area}"
    args = ["template", release, str(CHART), "--namespace", release, "--kube-version", KUBE_VERSION,
            "-f", str(AREA_DIR / f"{area}.yaml")]
    for api in crds:
        args += ["--api-versions", api]
    for s in sets:
        args += ["--set", s]
    return parse_yaml(run_helm(helm_bin, *args))


@pytest.fixture(scope="module")
def monitored(helm_bin) -> dict[str, list[dict]]:
    """Each area rendered for a cluster with the Prometheus Operator's kinds."""
    return {area: render(helm_bin, area) for area in AREAS}


def the_rule(objs: list[dict]) -> dict:
    [rule] = find(objs, "PrometheusRule")
    return rule


def alerts_of(objs: list[dict]) -> list[dict]:
    return [r for g in the_rule(objs)["spec"]["groups"] for r in g["rules"]]


def promtool(promtool_bin: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(promtool_bin), *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def unit_test_run(promtool_bin, objs: list[dict], area: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """The area's rules as promtool reads them (the PrometheusRule's spec: `groups`), beside the unit
    tests written for this area and with another area's series as the ones that must stay silent."""
    other = next(a for a in AREAS if a != area)
    (tmp_path / "rules.yaml").write_text(json.dumps(the_rule(objs)["spec"]))  # JSON is YAML
    tests = UNIT_TESTS.read_text().replace("__OTHER_AREA__", other).replace("__AREA__", area)
    (tmp_path / "alerts_test.yaml").write_text(tests)
    return promtool(promtool_bin, "test", "rules", "alerts_test.yaml", cwd=tmp_path)


# ---- only where the cluster has the Prometheus Operator ------------------------------------------

def test_without_the_operators_kinds_nothing_of_it_is_rendered(renders):
    for area, objs in renders.items():  # conftest's renders: no --api-versions, as on a plain cluster
        assert not find(objs, "PrometheusRule") and not find(objs, "ServiceMonitor"), area


def test_with_them_each_area_gets_one_rule_and_one_service_monitor(monitored):
    for area, objs in monitored.items():
        assert len(find(objs, "PrometheusRule")) == 1 and len(find(objs, "ServiceMonitor")) == 1, area
        assert the_rule(objs)["metadata"]["namespace"] == f"ot-{area}"


def test_the_switches_turn_them_off_and_each_needs_its_own_kind(helm_bin):
    area = "pohjois-savo"
    off = render(helm_bin, area, "monitoring.rules.enabled=false", "monitoring.serviceMonitor.enabled=false")
    assert not find(off, "PrometheusRule") and not find(off, "ServiceMonitor")
    only_rules = render(helm_bin, area, crds=CRDS[:1])
    assert find(only_rules, "PrometheusRule") and not find(only_rules, "ServiceMonitor")
    only_scrape = render(helm_bin, area, crds=CRDS[1:])
    assert find(only_scrape, "ServiceMonitor") and not find(only_scrape, "PrometheusRule")


def schema_errors(tools_python, objs: list[dict]) -> list[str]:
    schemas = {"PrometheusRule": "prometheusrule-v1.json", "ServiceMonitor": "servicemonitor-v1.json"}
    pairs = [[json.loads((SCHEMAS / schemas[o["kind"]]).read_text()), o] for o in objs if o["kind"] in schemas]
    assert len(pairs) == 2
    done = subprocess.run([str(tools_python), "-c", _VALIDATE], input=json.dumps(pairs), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_operators_objects_match_its_crds_strictly(monitored, tools_python, helm_bin):
    for area, objs in monitored.items():
        assert schema_errors(tools_python, objs) == [], area
    extras = render(helm_bin, "keski-suomi", "monitoring.labels.release=x", "monitoring.rules.extraLabels.team=y")
    assert schema_errors(tools_python, extras) == []
    # The check can fail: a misspelt field is refused.
    [sm] = find(extras, "ServiceMonitor")
    sm["spec"]["endpoints"][0]["scrapeTimout"] = "10s"
    assert any("scrapeTimout" in e for e in schema_errors(tools_python, extras))


# ---- promtool ------------------------------------------------------------------------------------

@pytest.mark.parametrize("area", AREAS)
def test_promtool_checks_the_rules_of_each_area(monitored, promtool_bin, area, tmp_path):
    (tmp_path / "rules.yaml").write_text(json.dumps(the_rule(monitored[area])["spec"]))
    done = promtool(promtool_bin, "check", "rules", "--lint=all", "--lint-fatal", "rules.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(ALERTS)} rules found" in done.stdout


@pytest.mark.parametrize("area", AREAS)
def test_the_alerts_unit_tests_pass_for_each_area(monitored, promtool_bin, area, tmp_path):
    done = unit_test_run(promtool_bin, monitored[area], area, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_the_unit_tests_fail_when_an_alert_does_not_fire_as_expected(helm_bin, promtool_bin, tmp_path):
    # A threshold the tests were not written for: the growing outbox no longer fires, and promtool says so.
    objs = render(helm_bin, "keski-suomi", "monitoring.rules.thresholds.outboxPending=100000")
    done = unit_test_run(promtool_bin, objs, "keski-suomi", tmp_path)
    assert done.returncode != 0
    assert "OtOutboxBacklogGrowing" in done.stdout + done.stderr


def test_every_alert_has_unit_tests_that_fire_it_and_that_keep_it_silent(monitored):
    [tests] = parse_yaml(UNIT_TESTS.read_text())
    firing, silent = set(), set()
    for test in tests["tests"]:
        for case in test["alert_rule_test"]:
            (firing if case.get("exp_alerts") else silent).add(case["alertname"])
    names = {r["alert"] for r in alerts_of(monitored["pohjois-savo"])}
    assert names == ALERTS
    assert firing == ALERTS and silent == ALERTS
    for test in tests["tests"]:  # every scenario also holds another area's series, which must not fire
        assert any('tenant="__OTHER_AREA__"' in s["series"] for s in test["input_series"]), test["name"]


# ---- what every alert carries -------------------------------------------------------------------

def test_every_alert_watches_only_its_area_and_is_labelled_with_it(monitored):
    for area, objs in monitored.items():
        for rule in alerts_of(objs):
            selectors = re.findall(r"\{([^{}]*)\}", rule["expr"])
            assert selectors, rule["alert"]
            assert all(f'tenant="{area}"' in s for s in selectors), (area, rule["alert"], selectors)
            assert rule["labels"]["tenant"] == area
            assert rule["labels"]["severity"] in {"warning", "critical"}


def test_every_alert_links_its_runbook_section(monitored):
    for rule in alerts_of(monitored["etela-savo"]):
        assert rule["annotations"]["runbook_url"] == f"{RUNBOOKS}#{rule['alert'].lower()}"
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]


def test_the_readme_has_a_runbook_section_for_every_alert():
    # GitHub's anchor of a heading "### OtOutboxBacklogGrowing" is "#otoutboxbackloggrowing".
    headings = re.findall(r"^#{2,4} +(Ot[A-Za-z]+)\s*$", (REPO / "README.md").read_text(), flags=re.M)
    assert ALERTS <= set(headings), sorted(ALERTS - set(headings))


def test_the_areas_labels_and_thresholds_are_rendered(helm_bin):
    objs = render(helm_bin, "pohjois-karjala", "monitoring.labels.release=kube-prometheus-stack",
                  "monitoring.rules.extraLabels.team=ot-platform", "monitoring.rules.runbookBaseUrl=https://docs.example.invalid/ot",
                  "monitoring.rules.thresholds.rpcLatencyP99Seconds=1",
                  "services.consent.extraEnv.OT_PURGE_INTERVAL_SECONDS=600")
    for kind in ("PrometheusRule", "ServiceMonitor"):
        assert find(objs, kind)[0]["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    rules = {r["alert"]: r for r in alerts_of(objs)}
    assert all(r["labels"]["team"] == "ot-platform" and r["labels"]["tenant"] == "pohjois-karjala" for r in rules.values())
    assert rules["OtPurgeOverdue"]["annotations"]["runbook_url"] == "https://docs.example.invalid/ot#otpurgeoverdue"
    assert rules["OtRpcLatencyHigh"]["expr"].strip().endswith("> 1")
    assert rules["OtPurgeOverdue"]["expr"].strip().endswith("> 1800")  # three intervals of 600 s
    objs = render(helm_bin, "pohjois-karjala", "monitoring.rules.thresholds.purgeOverdueSeconds=7200")
    assert {r["alert"]: r for r in alerts_of(objs)}["OtPurgeOverdue"]["expr"].strip().endswith("> 7200")


@pytest.mark.parametrize("bad", ["monitoring.rules.extraLabels.tenant=other", "monitoring.rules.thresholds.rpcErrorRatio=2",
                                 "monitoring.serviceMonitor.interval=often", "monitoring.rules.runbookBaseUrl=README.md",
                                 "monitoring.rules.treshholds.consumerLag=1"])
def test_the_schema_refuses_monitoring_values_that_would_not_work(helm_bin, bad):
    done = subprocess.run([str(helm_bin), "template", "x", str(CHART), "--kube-version", KUBE_VERSION,
                           "-f", str(AREA_DIR / "pohjois-savo.yaml"), "--set", bad], capture_output=True, text=True)
    assert done.returncode != 0 and "values don't meet the specifications of the schema" in done.stderr


# ---- the scrape ----------------------------------------------------------------------------------

def test_the_service_monitor_scrapes_every_services_metrics_port_and_labels_the_area(monitored):
    for area, objs in monitored.items():
        [sm] = find(objs, "ServiceMonitor")
        spec = sm["spec"]
        assert spec["namespaceSelector"] == {"matchNames": [f"ot-{area}"]}
        [endpoint] = spec["endpoints"]
        assert (endpoint["port"], endpoint["path"]) == ("http", "/metrics")
        relabel = {r["targetLabel"]: r for r in endpoint["relabelings"]}
        assert relabel["tenant"]["replacement"] == area
        assert relabel["component"]["sourceLabels"] == ["__meta_kubernetes_service_label_app_kubernetes_io_component"]
        services = find(objs, "Service")
        assert {s["metadata"]["labels"]["app.kubernetes.io/component"] for s in services} == {
            "intake", "experts", "consent", "feedback", "portal"}
        for svc in services:
            labels = svc["metadata"]["labels"]
            assert spec["selector"]["matchLabels"].items() <= labels.items(), svc["metadata"]["name"]
            assert "http" in {p["name"] for p in svc["spec"]["ports"]}


def test_the_network_policy_lets_the_monitoring_namespace_scrape_every_service(monitored):
    scrapers = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]
    for area, objs in monitored.items():
        for svc in find(objs, "Service"):
            component = svc["metadata"]["labels"]["app.kubernetes.io/component"]
            [http] = [p for p in svc["spec"]["ports"] if p["name"] == "http"]
            [policy] = [p for p in find(objs, "NetworkPolicy")
                        if p["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/component") == component]
            admitted = [rule for rule in policy["spec"]["ingress"]
                        if rule["from"] == scrapers and rule["ports"] == [{"protocol": "TCP", "port": http["port"]}]]
            assert admitted, (area, component)
