"""Keys derived from a master key, and message signatures: one HMAC-SHA256 scheme for every secret.

The gates' store secrets (``gate_key``), the edge devices' keys (``edge_key``) and the ad API's keys
(``ad_api_key``) are each derived from one master setting by labels, so nothing per store, device or
screen is stored: ``derive(master, "walkout-gate-store:S001")``. A label names its purpose, so the same
master key can never yield the same key for two uses.
"""

from __future__ import annotations

import hashlib
import hmac


def derive(master: bytes, *labels: str) -> bytes:
    """The key for ``labels`` in turn: each label's key derived from the one before, from ``master``."""
    key = master
    for label in labels:
        key = signature(key, label.encode())
    return key


def signature(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA256 of the message under the key."""
    return hmac.new(key, message, hashlib.sha256).digest()


def matches(expected: str | bytes, presented: str | bytes | None) -> bool:
    """Whether a presented signature or key is the expected one, in constant time."""
    if presented is None:
        return False
    as_bytes = [value.encode() if isinstance(value, str) else value for value in (expected, presented)]
    return hmac.compare_digest(*as_bytes)
