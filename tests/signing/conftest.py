"""Fixtures of the signing tests: keys (random and RFC test vectors) and a STIX object factory."""

from __future__ import annotations

import base64
from datetime import datetime, timezone
from typing import Any, Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.signing import SigningKey

SUBMITTER = "identity--7d3f6a4e-2b1c-4c8e-9f0a-1b2c3d4e5f60"
HUB = "identity--5a1e2f3d-4c5b-4a69-8b7c-9d0e1f2a3b4c"
PEER = "identity--0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
OTHER_EXTENSION = "extension-definition--c0ffee00-1d2e-4f3a-8b4c-5d6e7f8a9b0c"
SIGNED_AT = datetime(2026, 11, 22, 10, 0, 0, 123456, tzinfo=timezone.utc)

# RFC 8037 appendix A.1: the Ed25519 private key "d" and public key "x".
RFC8037_D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
RFC8037_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"


def b64d(text: str) -> bytes:
    """Plain base64url decoding, written here so the tests do not lean on the library's own."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.fixture(scope="session")
def ed_key() -> SigningKey:
    return SigningKey.generate("Ed25519")


@pytest.fixture(scope="session")
def ed_key_2() -> SigningKey:
    return SigningKey.generate("Ed25519")


@pytest.fixture(scope="session")
def es_key() -> SigningKey:
    return SigningKey.generate("ES256")


@pytest.fixture(scope="session")
def rfc8037_key() -> SigningKey:
    return SigningKey(Ed25519PrivateKey.from_private_bytes(b64d(RFC8037_D)))


@pytest.fixture
def make_report() -> Callable[..., dict[str, Any]]:
    """A factory of STIX 2.1 indicator objects about an abused IaaS account."""

    def make(**overrides: Any) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "type": "indicator",
            "spec_version": "2.1",
            "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "created_by_ref": SUBMITTER,
            "created": "2026-11-22T09:00:00.000Z",
            "modified": "2026-11-22T09:30:00.000Z",
            "name": "C2 server on an abused IaaS account — Zürich region",
            "pattern": "[ipv4-addr:value = '203.0.113.7']",
            "pattern_type": "stix",
            "valid_from": "2026-11-22T09:00:00Z",
            "confidence": 80,
            "labels": ["c2", "scanning"],
            "extensions": {
                # Someone else's extension, which signatures must cover and leave alone.
                OTHER_EXTENSION: {"extension_type": "property-extension", "ticket": "AB-123"}
            },
        }
        obj.update(overrides)
        return obj

    return make
