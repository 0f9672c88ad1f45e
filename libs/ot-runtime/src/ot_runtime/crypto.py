"""Envelope encryption for crypto-shredding.

Each request's case content is sealed with its own 256-bit data key (AES-GCM). The consent
service keeps the data keys wrapped (sealed) with a master key from configuration. Destroying a
request's wrapped key makes every copy of its content unreadable: database rows, Kafka events,
backups. The associated data binds a ciphertext to its request and purpose, so a blob cannot be
moved to another request or field unnoticed.
"""
from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_VERSION = b"\x01"
KEY_BYTES = 32
NONCE_BYTES = 12


class CannotOpen(Exception):
    """The key is wrong or gone, or the blob was altered."""


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


def master_key_from_base64(value: str) -> bytes:
    """Parse OT_CONSENT_MASTER_KEY; raise ValueError with what is wrong (never the value)."""
    try:
        key = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("is not base64") from None
    if len(key) != KEY_BYTES:
        raise ValueError(f"must decode to {KEY_BYTES} bytes, got {len(key)}")
    return key
