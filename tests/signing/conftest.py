"""Fixtures of the signing tests: keys (random and RFC test vectors) and a STIX object factory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.signing import SigningKey
from tests.signing.vectors import OTHER_EXTENSION, RFC8037_D, SUBMITTER, b64d


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
