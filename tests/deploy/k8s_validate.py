"""Validate rendered Kubernetes objects against the JSON schemas of one Kubernetes version.

Run with the tools venv's Python (scripts/helm_tools.sh installs kubernetes-validate there):
    python k8s_validate.py <kubernetes-version> < objects.json
stdin: a JSON list of objects; stdout: a JSON list of {"kind", "name", "error"} (empty = valid).

strict=True uses the "-strict" schemas: every object has additionalProperties: false, so an
unknown or misspelt field fails. Custom resources are not in Kubernetes' schemas: the ones this
chart renders (Strimzi KafkaTopic and KafkaUser, cert-manager Certificate) are checked against the
small schemas in schemas/, written from those projects' CRDs (only the fields the chart uses, also
strict).
"""
import json
import sys
from pathlib import Path

import jsonschema
import kubernetes_validate

CUSTOM = {
    ("kafka.strimzi.io/v1beta2", "KafkaTopic"): Path(__file__).parent / "schemas" / "kafkatopic-v1beta2.json",
    ("kafka.strimzi.io/v1beta2", "KafkaUser"): Path(__file__).parent / "schemas" / "kafkauser-v1beta2.json",
    ("cert-manager.io/v1", "Certificate"): Path(__file__).parent / "schemas" / "certificate-v1.json",
}


def validate(obj: dict, version: str) -> str | None:
    key = (obj.get("apiVersion"), obj.get("kind"))
    try:
        if key in CUSTOM:
            jsonschema.validate(obj, json.loads(CUSTOM[key].read_text()))
        else:
            kubernetes_validate.validate(obj, version, strict=True)
    except (kubernetes_validate.ValidationError, jsonschema.ValidationError) as exc:
        path = "/".join(str(p) for p in exc.path) if hasattr(exc, "path") else ""
        return f"{path}: {exc.message}"
    except kubernetes_validate.SchemaNotFoundError as exc:
        return f"no schema: {exc}"
    return None


def main() -> int:
    version = sys.argv[1]
    errors = []
    for obj in json.load(sys.stdin):
        error = validate(obj, version)
        if error:
            errors.append({"kind": obj.get("kind"), "name": obj.get("metadata", {}).get("name"), "error": error})
    json.dump(errors, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
