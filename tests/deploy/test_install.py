"""The chart installed on a real Kubernetes control plane (scripts/control_plane.sh: etcd,
kube-apiserver, kube-controller-manager, kube-scheduler, and kwok playing one node's kubelet).

Rendering and schema checks (test_chart.py) cannot see admission, hooks, missing CRDs or two
releases fighting over an object; these tests can. For every area, in a namespace that enforces
Pod Security "restricted", following the README: the Secrets are created, Strimzi's CRDs are there,
`helm install` runs the hook Jobs and the Deployments come up, `helm upgrade` with a changed value
rolls the pods, `helm rollback` rolls them back, `helm uninstall` removes the release and nothing
of the other areas (installed beside it all along) changes, and a second install works. A pod the
chart's way but privileged or as root is refused by admission, so the check can fail.

What only a real cluster shows: kwok runs no container, so images, commands, probes, mounted
Secrets' contents and NetworkPolicy enforcement are not exercised here (test_contract.py starts the
services with the rendered environment; test_images.py checks the images).
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from conftest import AREA_DIR, AREAS, CHART, REPO, parse_yaml, pod_specs, render

CONTROL_PLANE = REPO / "scripts" / "control_plane.sh"
STRIMZI_CRDS = Path(__file__).with_name("strimzi_crds.yaml")
# The namespace Strimzi's operators watch in every area file (kafka.strimzi.namespace): each
# area's KafkaTopics and KafkaUsers, and the copies of the services' Kafka passwords, go there.
STRIMZI_NAMESPACE = "kafka"
NODE = "kwok-node-0"
SERVICES = ["intake", "experts", "consent", "feedback"]
HELM_TIMEOUT = "5m"
PSA_REFUSAL = 'violates PodSecurity "restricted:latest"'
INSTANCE = "app.kubernetes.io/instance"


def release_of(area: str) -> str:
    return f"ot-{area}"


def namespace_of(area: str) -> str:
    return f"ot-{area}"


def fullname_of(area: str) -> str:
    return f"ot-{area}-ot-platform"


class Cluster:
    """kubectl and helm against the control plane, failing with their output."""

    def __init__(self, kubectl: str, kubeconfig: str, helm: Path):
        self.kubectl = kubectl
        self.helm_bin = str(helm)
        self.env = {**os.environ, "KUBECONFIG": kubeconfig}

    def _run(self, argv: list[str], input: str | None, check: bool, timeout: int) -> subprocess.CompletedProcess:
        done = subprocess.run(argv, input=input, capture_output=True, text=True, env=self.env, timeout=timeout)
        if check:
            assert done.returncode == 0, f"{' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}"
        return done

    def kubectl_run(self, *args: str, input: str | None = None, check: bool = True,
                    timeout: int = 120) -> subprocess.CompletedProcess:
        return self._run([self.kubectl, *args], input, check, timeout)

    def k(self, *args: str, input: str | None = None) -> str:
        return self.kubectl_run(*args, input=input).stdout

    def items(self, kinds: str, namespace: str, selector: str | None = None) -> list[dict]:
        args = ["get", kinds, "-n", namespace, "-o", "json"]
        if selector:
            args += ["-l", selector]
        return json.loads(self.k(*args))["items"]

    def helm(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self._run([self.helm_bin, *args], None, check, 600)


def wait_until(what: str, probe, timeout: float = 120):
    """Polls probe() until it returns something truthy; fails naming what did not happen."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"not reached in {timeout:.0f} s: {what}", pytrace=False)
        time.sleep(1)


# --- the control plane ------------------------------------------------------------------------------

def _control_plane(command: str) -> subprocess.CompletedProcess:
    # The first `start` builds the binaries (cached by version in the user's cache): minutes.
    return subprocess.run(["bash", str(CONTROL_PLANE), command], capture_output=True, text=True, timeout=3600)


@pytest.fixture(scope="module")
def cluster(helm_bin):
    was_running = _control_plane("status").returncode == 0
    started = _control_plane("start")
    if started.returncode != 0:
        pytest.fail(f"scripts/control_plane.sh start failed:\n{started.stderr[-6000:]}", pytrace=False)
    env = dict(line.split("=", 1) for line in started.stdout.splitlines() if "=" in line)
    c = Cluster(env["KUBECTL"], env["KUBECONFIG"], helm_bin)
    # A reused control plane may hold a previous run's releases: start from none.
    ours = [namespace_of(a) for a in AREAS] + [STRIMZI_NAMESPACE, "psa-not-enforced"]
    c.kubectl_run("delete", "namespace", "--ignore-not-found", "--wait=true", "--timeout=180s", *ours, timeout=240)
    c.k("apply", "-f", str(STRIMZI_CRDS))
    c.k("wait", "--for=condition=Established", "--timeout=60s", "crd/kafkatopics.kafka.strimzi.io",
        "crd/kafkausers.kafka.strimzi.io")
    c.k("create", "namespace", STRIMZI_NAMESPACE)
    yield c
    if not was_running:
        _control_plane("stop")


# --- what the README says to create before the first install ---------------------------------------

def _openssl(*args: str, cwd: Path) -> None:
    done = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def _pki(tmp: Path, fullname: str, namespace: str) -> dict[str, tuple[Path, Path]]:
    """The area's CA and, signed by it, a gRPC certificate per service naming its Service (README:
    "each certificate names $R-<service>, .$NS, .$NS.svc and .$NS.svc.cluster.local"), and the
    portal's Ingress certificate."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    _openssl("req", "-x509", *ec, "-days", "2", "-subj", "/CN=area-ca", "-keyout", "ca.key", "-out", "ca.crt",
             "-addext", "basicConstraints=critical,CA:TRUE", cwd=tmp)
    certs = {}
    for name in [*SERVICES, "portal"]:
        host = f"{fullname}-{name}"
        sans = [host, f"{host}.{namespace}", f"{host}.{namespace}.svc", f"{host}.{namespace}.svc.cluster.local"]
        (tmp / f"{name}.ext").write_text("subjectAltName=" + ",".join(f"DNS:{s}" for s in sans) + "\n")
        _openssl("req", *ec, "-subj", f"/CN={host}", "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=tmp)
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                 "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.crt", cwd=tmp)
        certs[name] = (tmp / f"{name}.crt", tmp / f"{name}.key")
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "service-token.pem", cwd=tmp)
    _openssl("pkey", "-in", "service-token.pem", "-pubout", "-out", "public.pem", cwd=tmp)
    return certs


def create_documented_secrets(c: Cluster, area: str, tmp: Path) -> None:
    """The README's "Before the first install" for one area, command by command (with made-up
    values), plus the portal's Secrets that the area file's list names (see PORTAL_FROM_AREA_FILE)."""
    ns, r = namespace_of(area), fullname_of(area)
    certs = _pki(tmp, r, ns)
    secret = ["create", "secret", "generic"]
    c.k("-n", ns, *secret, "ot-kafka", "--from-literal=bootstrap-servers=kafka-0.kafka:9093")
    for s in SERVICES:
        c.k("-n", ns, *secret, f"{r}-{s}-db", f"--from-literal=DATABASE_URL=postgresql+psycopg://{s}:x@db:5432/ot_{s}")
    c.k("-n", ns, *secret, f"{r}-consent-secrets", "--from-literal=master-keys=v1:" + "A" * 43 + "=",
        "--from-literal=audit-key=" + "B" * 43 + "=")
    c.k("-n", ns, *secret, "ot-kafka-cluster-ca-cert", f"--from-file=ca.crt={tmp / 'ca.crt'}")
    for s in SERVICES:
        for where in (ns, STRIMZI_NAMESPACE):
            c.k("-n", where, *secret, f"{r}-{s}-kafka", f"--from-literal=password=pw-{s}")
    c.k("-n", ns, "create", "configmap", f"{r}-service-token", f"--from-file=public.pem={tmp / 'public.pem'}")
    for s in SERVICES:
        crt, key = certs[s]
        c.k("-n", ns, *secret, f"{r}-{s}-grpc-tls", f"--from-file=tls.crt={crt}", f"--from-file=tls.key={key}",
            f"--from-file=ca.crt={tmp / 'ca.crt'}")
    c.k("-n", ns, *secret, f"{r}-feedback-secrets", "--from-literal=link-secret=" + "l" * 64,
        "--from-literal=smtp-password=", f"--from-file=service-token.pem={tmp / 'service-token.pem'}")
    # The portal's three Secrets are in the area file's list, not (yet) in the README's commands.
    c.k("-n", ns, *secret, f"{r}-portal-db", "--from-literal=DATABASE_URL=postgresql+psycopg://portal:x@db:5432/ot_portal")
    c.k("-n", ns, *secret, f"{r}-portal-secrets", "--from-literal=oidc-client-secret=s",
        "--from-literal=secret-key=" + "k" * 64)
    crt, key = certs["portal"]
    c.k("-n", ns, "create", "secret", "tls", f"{r}-portal-tls", f"--cert={crt}", f"--key={key}")


def referenced(objs: list[dict]) -> set[tuple[str, str]]:
    """("Secret"|"ConfigMap", name) of everything the rendered pods and Ingresses read."""
    refs = set()
    for _, spec in pod_specs(objs):
        for v in spec.get("volumes", []):
            if "secret" in v:
                refs.add(("Secret", v["secret"]["secretName"]))
            if "configMap" in v:
                refs.add(("ConfigMap", v["configMap"]["name"]))
            for src in v.get("projected", {}).get("sources", []):
                if "secret" in src:
                    refs.add(("Secret", src["secret"]["name"]))
                if "configMap" in src:
                    refs.add(("ConfigMap", src["configMap"]["name"]))
        for ctr in spec.get("containers", []) + spec.get("initContainers", []):
            for e in ctr.get("env", []):
                ref = e.get("valueFrom", {})
                if "secretKeyRef" in ref:
                    refs.add(("Secret", ref["secretKeyRef"]["name"]))
                if "configMapKeyRef" in ref:
                    refs.add(("ConfigMap", ref["configMapKeyRef"]["name"]))
            for e in ctr.get("envFrom", []):
                if "secretRef" in e:
                    refs.add(("Secret", e["secretRef"]["name"]))
                if "configMapRef" in e:
                    refs.add(("ConfigMap", e["configMapRef"]["name"]))
    for o in objs:
        if o["kind"] == "Ingress":
            refs |= {("Secret", t["secretName"]) for t in o["spec"].get("tls", [])}
    # The chart's own ConfigMaps are created by the release itself.
    own = {(o["kind"], o["metadata"]["name"]) for o in objs}
    return refs - own


# --- installing -----------------------------------------------------------------------------------

def helm_args(area: str, *sets: str) -> list[str]:
    args = [release_of(area), str(CHART), "-n", namespace_of(area), "-f", str(AREA_DIR / f"{area}.yaml"),
            "--wait", "--wait-for-jobs", "--timeout", HELM_TIMEOUT]
    for s in sets:
        args += ["--set", s]
    return args


def install(c: Cluster, area: str) -> None:
    c.helm("install", *helm_args(area))


def hook_jobs(objs: list[dict]) -> list[str]:
    return sorted(o["metadata"]["name"] for o in objs if o["kind"] == "Job"
                  and "pre-install" in o["metadata"].get("annotations", {}).get("helm.sh/hook", ""))


def deployments(objs: list[dict]) -> dict[str, int]:
    return {o["metadata"]["name"]: o["spec"]["replicas"] for o in objs if o["kind"] == "Deployment"}


def active_template_hashes(c: Cluster, area: str) -> dict[str, str]:
    """Deployment name -> pod-template-hash of its one ReplicaSet with replicas, all of them ready
    and running on the kwok node; fails when a rollout is not finished."""
    ns = namespace_of(area)
    out = {}
    for d in c.items("deployments", ns, f"{INSTANCE}={release_of(area)}"):
        name, want = d["metadata"]["name"], d["spec"]["replicas"]
        st = d.get("status", {})
        assert st.get("readyReplicas") == want and st.get("updatedReplicas") == want \
            and st.get("replicas") == want, f"{name} is not rolled out: {st}"
        live = [rs for rs in c.items("replicasets", ns)
                if any(ref["name"] == name for ref in rs["metadata"].get("ownerReferences", []))
                and rs["spec"]["replicas"] > 0]
        assert len(live) == 1, f"{name} has {len(live)} ReplicaSets with replicas"
        out[name] = live[0]["metadata"]["labels"]["pod-template-hash"]
    return out


def wait_rolled_out(c: Cluster, area: str, objs: list[dict]) -> dict[str, str]:
    def probe():
        try:
            hashes = active_template_hashes(c, area)
        except AssertionError:
            return None
        return hashes if set(hashes) == set(deployments(objs)) else None
    hashes = wait_until(f"every Deployment of {area} rolled out", probe)
    pods = c.items("pods", namespace_of(area), f"{INSTANCE}={release_of(area)}")
    running = [p for p in pods if p["status"].get("phase") == "Running" and p["spec"].get("nodeName") == NODE
               and not p["metadata"].get("deletionTimestamp")]
    assert len(running) == sum(deployments(objs).values()), [p["metadata"]["name"] for p in pods]
    return hashes


def release_objects(c: Cluster, area: str) -> list[str]:
    """Everything labelled with the release: in its namespace and in Strimzi's."""
    kinds = "deployments,replicasets,pods,services,configmaps,serviceaccounts,networkpolicies," \
            "poddisruptionbudgets,ingresses,jobs,horizontalpodautoscalers"
    sel = f"{INSTANCE}={release_of(area)}"
    found = [f"{o['kind']}/{o['metadata']['name']}" for o in c.items(kinds, namespace_of(area), sel)]
    found += [f"{o['kind']}/{o['metadata']['name']}" for o in c.items("kafkatopics,kafkausers", STRIMZI_NAMESPACE, sel)]
    return found


def snapshot(c: Cluster, areas: list[str]) -> dict[str, str]:
    """Identity and content (not status, not resourceVersion) of every object of these areas, in
    their namespaces and in Strimzi's: what another release's install, upgrade, rollback or
    uninstall must not change."""
    kinds = "deployments,replicasets,pods,services,configmaps,secrets,serviceaccounts,networkpolicies," \
            "poddisruptionbudgets,ingresses,jobs"
    objs = []
    for area in areas:
        objs += c.items(kinds, namespace_of(area))
    strimzi = c.items("kafkatopics,kafkausers,secrets", STRIMZI_NAMESPACE)
    objs += [o for o in strimzi if any(fullname_of(a) in o["metadata"]["name"] or f"ot.{a}." in o["metadata"]["name"]
                                       for a in areas)]
    snap = {}
    for o in objs:
        meta = {k: v for k, v in o["metadata"].items() if k not in ("resourceVersion", "managedFields")}
        body = {k: v for k, v in o.items() if k not in ("status", "metadata")}
        key = f"{o['metadata'].get('namespace')}/{o['kind']}/{o['metadata']['name']}"
        snap[key] = hashlib.sha256(json.dumps([meta, body], sort_keys=True).encode()).hexdigest()
    return snap


@pytest.fixture(scope="module")
def installed(cluster, helm_bin, tmp_path_factory):
    """Every area in its own namespace (Pod Security restricted, enforced), Secrets first, then
    `helm install`, one after the other; the rendered objects per area."""
    renders = {}
    for area in AREAS:
        ns = namespace_of(area)
        cluster.k("create", "namespace", ns)
        cluster.k("label", "namespace", ns, "pod-security.kubernetes.io/enforce=restricted",
                  "pod-security.kubernetes.io/enforce-version=latest")
        create_documented_secrets(cluster, area, tmp_path_factory.mktemp(area))
        renders[area] = render(helm_bin, area)
        install(cluster, area)
    return renders


# --- the tests ------------------------------------------------------------------------------------

@pytest.mark.parametrize("area", AREAS)
def test_the_documented_secrets_are_all_the_release_reads(cluster, installed, area):
    ns = namespace_of(area)
    have = {(o["kind"], o["metadata"]["name"]) for o in cluster.items("secrets,configmaps", ns)}
    missing = referenced(installed[area]) - have
    # In a real cluster a missing one keeps pods in CreateContainerConfigError; kwok would not notice.
    assert not missing, f"the release reads Secrets/ConfigMaps the documented steps do not create: {sorted(missing)}"
    kafka_secrets = {o["metadata"]["name"] for o in cluster.items("secrets", STRIMZI_NAMESPACE)}
    for user in (o for o in installed[area] if o["kind"] == "KafkaUser"):
        assert user["spec"]["authentication"]["password"]["valueFrom"]["secretKeyRef"]["name"] in kafka_secrets


@pytest.mark.parametrize("area", AREAS)
def test_install_runs_the_hook_jobs_and_brings_up_every_deployment(cluster, installed, area):
    ns, objs = namespace_of(area), installed[area]
    status = json.loads(cluster.helm("status", release_of(area), "-n", ns, "-o", "json").stdout)
    assert status["info"]["status"] == "deployed" and status["version"] == 1
    # Each migration Job ran to completion (the job controller's event), and hook-succeeded removed it.
    events = cluster.items("events", ns)
    completed = sorted({e["involvedObject"]["name"] for e in events
                        if e["involvedObject"]["kind"] == "Job" and e["reason"] == "Completed"})
    assert completed and completed == hook_jobs(objs)
    assert not cluster.items("jobs", ns)
    # Every Deployment is available with all its pods running on the (kwok) node.
    assert set(wait_rolled_out(cluster, area, objs)) == set(deployments(objs))
    # Strimzi's objects are in its namespace, owned by this release.
    stored = {(o["kind"], o["metadata"]["name"]) for o in cluster.items("kafkatopics,kafkausers", STRIMZI_NAMESPACE,
                                                                        f"{INSTANCE}={release_of(area)}")}
    assert stored and stored == {(o["kind"], o["metadata"]["name"]) for o in objs
                                 if o["kind"] in ("KafkaTopic", "KafkaUser")}


@pytest.mark.parametrize("area", AREAS)
def test_upgrade_rolls_pods_rollback_restores_and_uninstall_leaves_other_areas_alone(cluster, installed, area):
    ns, objs, release = namespace_of(area), installed[area], release_of(area)
    others = [a for a in AREAS if a != area]
    before_others = snapshot(cluster, others)
    first = wait_rolled_out(cluster, area, objs)

    # A changed value (the log level, in every service's env ConfigMap) rolls every Deployment.
    cluster.helm("upgrade", *helm_args(area, "logLevel=DEBUG"))
    upgraded = wait_rolled_out(cluster, area, objs)
    assert all(upgraded[d] != first[d] for d in first), (first, upgraded)
    intake_env = cluster.items("configmaps", ns, f"{INSTANCE}={release},app.kubernetes.io/component=intake")
    assert [cm["data"]["LOG_LEVEL"] for cm in intake_env] == ["DEBUG"]

    cluster.helm("rollback", release, "1", "-n", ns, "--wait", "--timeout", HELM_TIMEOUT)
    rolled_back = wait_rolled_out(cluster, area, objs)
    assert rolled_back == first
    history = json.loads(cluster.helm("history", release, "-n", ns, "-o", "json").stdout)
    assert [(h["revision"], h["status"]) for h in history] == [(1, "superseded"), (2, "superseded"), (3, "deployed")]

    cluster.helm("uninstall", release, "-n", ns, "--wait", "--timeout", HELM_TIMEOUT)
    # Helm keeps hook objects by design (the hooks' ServiceAccount); the next install replaces it
    # (hook-delete-policy before-hook-creation). Everything else of the release goes.
    kept = {f"ServiceAccount/{fullname_of(area)}-hooks"}
    wait_until(f"{release}'s objects gone", lambda: set(release_objects(cluster, area)) <= kept)
    assert snapshot(cluster, others) == before_others

    # And it installs again over what an uninstall leaves (no ownership conflict with the kept hooks).
    install(cluster, area)
    wait_rolled_out(cluster, area, objs)
    assert snapshot(cluster, others) == before_others


def _as_pod(area: str, owner: dict, spec: dict, name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace_of(area),
                         "labels": {"app.kubernetes.io/name": "psa-probe"}},
            "spec": copy.deepcopy(spec)}


def _server_dry_run(c: Cluster, pod: dict) -> subprocess.CompletedProcess:
    return c.kubectl_run("create", "--dry-run=server", "-f", "-", input=json.dumps(pod), check=False)


@pytest.mark.parametrize("area", AREAS)
def test_every_rendered_pod_passes_restricted_admission(cluster, installed, area):
    # The helm test pods and each workload's pod, admitted as they are (server-side dry run, so the
    # API server's admission chain decides, Pod Security included).
    specs = list(pod_specs(installed[area]))
    assert {o["kind"] for o, _ in specs} == {"Deployment", "Job", "Pod"}
    for i, (owner, spec) in enumerate(specs):
        done = _server_dry_run(cluster, _as_pod(area, owner, spec, f"psa-probe-{i}"))
        assert done.returncode == 0, f"{owner['kind']}/{owner['metadata']['name']}: {done.stderr}"


@pytest.fixture(scope="module")
def unenforced(cluster):
    """A namespace without Pod Security labels (so the cluster default, privileged)."""
    cluster.kubectl_run("create", "namespace", "psa-not-enforced", check=False)
    wait_until("the default ServiceAccount of psa-not-enforced",
               lambda: cluster.kubectl_run("-n", "psa-not-enforced", "get", "serviceaccount", "default",
                                           check=False).returncode == 0)
    return "psa-not-enforced"


@pytest.mark.parametrize("change, refusal", [
    ("privileged", "privileged"),
    ("root", "runAsNonRoot != true"),
    ("host-path", "restricted volume types"),
])
def test_a_non_compliant_pod_is_refused_by_admission(cluster, installed, unenforced, change, refusal):
    area = AREAS[0]
    owner, spec = next((o, s) for o, s in pod_specs(installed[area]) if o["kind"] == "Deployment")
    pod = _as_pod(area, owner, spec, "psa-probe-bad")
    ctr = pod["spec"]["containers"][0]
    if change == "privileged":
        ctr["securityContext"]["privileged"] = True
        ctr["securityContext"]["allowPrivilegeEscalation"] = True
    elif change == "root":
        ctr["securityContext"]["runAsNonRoot"] = False
        ctr["securityContext"]["runAsUser"] = 0
        pod["spec"]["securityContext"]["runAsNonRoot"] = False
        pod["spec"]["securityContext"].pop("runAsUser", None)
    else:
        pod["spec"]["volumes"].append({"name": "host", "hostPath": {"path": "/var/run"}})
    done = _server_dry_run(cluster, pod)
    assert done.returncode != 0 and PSA_REFUSAL in done.stderr and refusal in done.stderr, done.stderr
    # The same pod is accepted where Pod Security is not enforced: it was the namespace's policy.
    lax = dict(pod, metadata={**pod["metadata"], "namespace": unenforced})
    lax["spec"] = dict(pod["spec"], serviceAccountName="default")
    done = _server_dry_run(cluster, lax)
    assert done.returncode == 0, done.stderr


def test_the_kafkatopic_crd_refuses_what_strimzis_refuses(cluster, installed):
    # The CRD is not a stub that stores anything: a topic of no partitions is refused, as by Strimzi's own.
    area = AREAS[0]
    topic = next(o for o in installed[area] if o["kind"] == "KafkaTopic")
    bad = copy.deepcopy(topic)
    bad["metadata"] = {"name": "psa-probe-topic", "namespace": STRIMZI_NAMESPACE}
    bad["spec"]["partitions"] = 0
    done = cluster.kubectl_run("create", "--dry-run=server", "-f", "-", input=json.dumps(bad), check=False)
    assert done.returncode != 0 and "spec.partitions" in done.stderr, done.stderr
