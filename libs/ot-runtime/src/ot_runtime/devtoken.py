"""`ot-dev-token`: development signing keys and tokens for a laptop run.

Only for local use: `make run` creates a key pair under .data/dev-keys and points the services
at its public half; this command signs tokens with the private half, finding that folder from any
working directory (`find_keys`) and refusing, with where it looked, rather than making new keys. A cluster uses the areas'
identity provider instead (AUTH_JWKS_URL).
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import sys
import time
import uuid
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .auth import AREA_CLAIM, GROUPS_CLAIM, ROLES, ROLES_CLAIM
from .tenants import TENANTS

DEFAULT_KEY_DIR = Path(os.environ.get("OT_DEV_KEY_DIR", ".data/dev-keys"))
# What marks the repository's root (where `make run` keeps .data/dev-keys).
ROOT_MARKERS = ("Makefile", "libs/ot-runtime")
DEV_ISSUER = "ot-dev"
DEV_AUDIENCE = "ot-platform"
# The platform services' own tokens (role "service" only) come from another issuer and key pair.
DEV_SERVICE_ISSUER = "ot-dev-service"
SERVICE_KEY = "service"


def ensure_keys(key_dir: Path = DEFAULT_KEY_DIR, name: str = "jwt") -> tuple[Path, Path]:
    """Create an ES256 key pair once; return (private, public) paths. `name` "jwt" is the people's
    (standing in for the identity provider), SERVICE_KEY the platform services' own."""
    key_dir.mkdir(parents=True, exist_ok=True)
    private, public = key_dir / f"{name}-private.pem", key_dir / f"{name}-public.pem"
    if not private.exists():
        key = ec.generate_private_key(ec.SECP256R1())
        private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))
        private.chmod(0o600)
        public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                         serialization.PublicFormat.SubjectPublicKeyInfo))
    return private, public


def key_dir_candidates(cwd: Path | None = None, environ: dict | None = None,
                       installed_at: Path | None = None) -> list[Path]:
    """Where the project's development keys may be, first choice first. A folder the environment
    names is the only answer ($OT_DEV_KEY_DIR, else $OT_DATA_DIR/dev-keys: the data folder `make run`
    was told to use); otherwise .data/dev-keys in the repository root found by walking up from the
    working directory, then in the checkout this package is installed from (the venv's editable
    install). Without this a run from a sub-folder made new keys there, whose tokens every service
    refused."""
    environ = os.environ if environ is None else environ
    if environ.get("OT_DEV_KEY_DIR"):
        return [Path(environ["OT_DEV_KEY_DIR"]).resolve()]
    if environ.get("OT_DATA_DIR"):
        return [Path(environ["OT_DATA_DIR"]).resolve() / "dev-keys"]
    cwd = (cwd or Path.cwd()).resolve()
    found: list[Path] = []
    for start in (cwd, (installed_at or Path(__file__)).resolve().parent):
        root = next((d for d in (start, *start.parents) if all((d / m).exists() for m in ROOT_MARKERS)), None)
        if root is not None and root / ".data" / "dev-keys" not in found:
            found.append(root / ".data" / "dev-keys")
    return found


def find_keys(name: str, cwd: Path | None = None, environ: dict | None = None,
              installed_at: Path | None = None) -> Path:
    """The folder holding the existing key pair `name`; never makes one. Raises LookupError naming
    every place it looked when there is none."""
    candidates = key_dir_candidates(cwd, environ, installed_at)
    for folder in candidates:
        if (folder / f"{name}-private.pem").is_file():
            return folder
    looked = ", ".join(str(c) for c in candidates) or "(no repository root above the working directory)"
    raise LookupError(
        f"no development key {name}-private.pem found; looked in: {looked}. Tokens signed with a new key "
        f"would be refused by the services. Run `make run` once in the repository (it makes the keys), set "
        f"OT_DEV_KEY_DIR to the folder that holds them, or pass --key-dir to make or use a key there on purpose.")


def public_jwk(private_pem: bytes) -> dict:
    """The public half as a JWK, with its RFC 7638 thumbprint as `kid`: what an operator publishes
    in the area's JWKS so that tokens signed with this key (which carry the same kid) verify."""
    key = serialization.load_pem_private_key(private_pem, password=None)
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True)
    kid = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).decode().rstrip("=")
    return {**jwk, "kid": kid, "use": "sig", "alg": "ES256"}


def make_token(private_pem: bytes, *, area: str, roles: list[str], subject: str,
               issuer: str = DEV_ISSUER, audience: str = DEV_AUDIENCE, ttl_seconds: int = 8 * 3600,
               groups: list[str] | None = None) -> str:
    """An ES256 token whose `kid` names its key (verifiers that pick keys from a JWKS need it).
    `groups`: the consultation groups a secretary or group member belongs to."""
    now = int(time.time())
    claims = {"sub": subject, "iss": issuer, "aud": audience, "iat": now, "exp": now + ttl_seconds,
              "jti": str(uuid.uuid4()), AREA_CLAIM: area, ROLES_CLAIM: roles}
    if groups:
        claims[GROUPS_CLAIM] = list(groups)
    return jwt.encode(claims, private_pem, algorithm="ES256", headers={"kid": public_jwk(private_pem)["kid"]})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ot-dev-token", description=(
        "Print a development token for a wellbeing area and role (local use only). "
        "Use it as: authorization: Bearer <token>"))
    parser.add_argument("--area", default="pohjois-savo", choices=sorted(TENANTS))
    parser.add_argument("--role", action="append", choices=ROLES,
                        help="role(s) to carry; repeat for several (default: professional)")
    parser.add_argument("--subject", default=None, help="the user id (default: dev-<role>)")
    parser.add_argument("--group", action="append", default=[],
                        help="a consultation group the secretary or group member belongs to (repeat for several), "
                             "e.g. haastavat-erot-pohjois-savo")
    parser.add_argument("--key-dir", type=Path, default=None,
                        help="the key folder, made (with a new key pair) if missing; default: the project's "
                             "existing one ($OT_DEV_KEY_DIR, $OT_DATA_DIR/dev-keys, or .data/dev-keys in the "
                             "repository root), never a new one")
    parser.add_argument("--ttl", type=int, default=8 * 3600, help="lifetime in seconds (default 8 h)")
    parser.add_argument("--jwk", action="store_true", help="print the signing key's public JWK (with its kid) "
                                                           "instead of a token, e.g. to publish in a JWKS "
                                                           "(with --role service: the services' key)")
    args = parser.parse_args(argv)
    roles = args.role or ["professional"]
    # "service" is signed with the services' own key and issuer, and alone: that is the only way
    # the services accept it.
    as_service = "service" in roles
    if as_service and len(roles) > 1:
        parser.error("--role service cannot be combined with other roles")
    name = SERVICE_KEY if as_service else "jwt"
    if args.key_dir is None:
        try:
            args.key_dir = find_keys(name)
        except LookupError as missing:
            print(f"ot-dev-token: {missing}", file=sys.stderr)
            return 2
    private, _ = ensure_keys(args.key_dir, name)
    if args.jwk:
        print(json.dumps(public_jwk(private.read_bytes())))
        return 0
    print(make_token(private.read_bytes(), area=args.area, roles=roles,
                     subject=args.subject or f"dev-{roles[0]}", ttl_seconds=args.ttl,
                     issuer=DEV_SERVICE_ISSUER if as_service else DEV_ISSUER, groups=args.group))
    return 0


if __name__ == "__main__":
    sys.exit(main())
