"""Envelope encryption for crypto-shredding.

Each request's case content is sealed with its own 256-bit data key (AES-GCM). The consent
service keeps the data keys wrapped (sealed) with a master key from configuration. Destroying a
request's wrapped key makes the content unreadable wherever the wrapped key is gone; copies of
the wrapped key in old backups stay openable for as long as the master key that wrapped them
exists. So master keys are versioned (`MasterKeys`): every wrapped key names its version, a new
version can be made current, live keys re-wrapped under it, and the old version destroyed
("retired"), after which no copy of anything it wrapped, in any backup, opens again. The
associated data binds a ciphertext to its request and purpose, so a blob cannot be moved to
another request or field unnoticed.
"""
from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import dataclass, field
from typing import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_VERSION = b"\x01"
KEY_BYTES = 32
NONCE_BYTES = 12
# A master key version's id: short, printable, safe in logs and messages (never the key itself).
KEY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
# The version of the single master key of the older configuration (consent's one-key setting).
LEGACY_KEY_ID = "v1"


class CannotOpen(Exception):
    """The key is wrong or gone, or the blob was altered."""


class KeyVersionNotHeld(CannotOpen):
    """The blob names a master key version this configuration does not hold."""


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def seal(key: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return FORMAT_VERSION + nonce + AESGCM(key).encrypt(nonce, plaintext, associated_data)


def open_sealed(key: bytes, blob: bytes, associated_data: bytes) -> bytes:
    if not blob or blob[:1] != FORMAT_VERSION or len(blob) < 1 + NONCE_BYTES + 16:
        raise CannotOpen("not a sealed blob of a known format")
    try:
        return AESGCM(key).decrypt(blob[1:1 + NONCE_BYTES], blob[1 + NONCE_BYTES:], associated_data)
    except InvalidTag:
        raise CannotOpen("wrong key or altered content") from None


def key_from_base64(value: str) -> bytes:
    """Parse a 256-bit key given as base64; raise ValueError with what is wrong (never the value)."""
    try:
        key = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("is not base64") from None
    if len(key) != KEY_BYTES:
        raise ValueError(f"must decode to {KEY_BYTES} bytes, got {len(key)}")
    return key


@dataclass(frozen=True)
class MasterKeys:
    """The master key versions a consent service holds. `current` wraps new data keys; every
    version held can unwrap what it wrapped. `source` is the setting they came from, for messages."""

    current: str
    keys: Mapping[str, bytes] = field(repr=False)  # never printed
    source: str = ""  # the setting's name (the service's own: consent names it)

    def wrap(self, data_key: bytes, associated_data: bytes) -> tuple[str, bytes]:
        return self.current, seal(self.keys[self.current], data_key, associated_data)

    def unwrap(self, key_id: str, wrapped: bytes, associated_data: bytes) -> bytes:
        key = self.keys.get(key_id)
        if key is None:
            raise KeyVersionNotHeld(f"master key version {key_id!r} is not held")
        return open_sealed(key, wrapped, associated_data)


def parse_master_keys(value: str, source: str = "") -> MasterKeys:
    """`<id>:<base64>,<id>:<base64>,...`, the current version first. Raises ValueError saying what is
    wrong; a message names versions and positions, never key material."""
    entries = [e.strip() for e in value.split(",") if e.strip()]
    if not entries:
        raise ValueError("is empty (write <version>:<base64 of 32 bytes>, the current version first)")
    keys: dict[str, bytes] = {}
    for position, entry in enumerate(entries, 1):
        key_id, sep, material = entry.partition(":")
        key_id = key_id.strip()
        if not sep or not KEY_ID.fullmatch(key_id):
            raise ValueError(f"entry {position} is not <version>:<base64> (a version is 1-32 letters, digits, "
                             "'.', '_' or '-')")
        if key_id in keys:
            raise ValueError(f"names version {key_id!r} twice")
        try:
            key = key_from_base64(material)
        except ValueError as exc:
            raise ValueError(f"version {key_id!r} {exc}") from None
        same = [other for other, k in keys.items() if k == key]
        if same:
            # Retiring one of them would retire nothing: the other still opens what it wrapped.
            raise ValueError(f"versions {same[0]!r} and {key_id!r} hold the same key")
        keys[key_id] = key
    return MasterKeys(current=next(iter(keys)), keys=keys, source=source)


def legacy_master_key(value: str, source: str = "") -> MasterKeys:
    """The older single-key setting: that key is version v1 (LEGACY_KEY_ID)."""
    return MasterKeys(current=LEGACY_KEY_ID, keys={LEGACY_KEY_ID: key_from_base64(value)}, source=source)
