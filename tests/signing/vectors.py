"""Constants and helpers shared by the signing tests: identities, times, RFC test vectors."""

from __future__ import annotations

import base64
from datetime import datetime, timezone

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
