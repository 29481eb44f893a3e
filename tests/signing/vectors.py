"""Constants and helpers shared by the signing tests: identities, times, RFC test vectors."""

from __future__ import annotations

import base64
import copy
from datetime import UTC, datetime
from typing import Any

from hub.signing import SIGNATURE_EXTENSION_ID, SigningKey, b64url_encode, signing_input

SUBMITTER = "identity--7d3f6a4e-2b1c-4c8e-9f0a-1b2c3d4e5f60"
HUB = "identity--5a1e2f3d-4c5b-4a69-8b7c-9d0e1f2a3b4c"
PEER = "identity--0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
OTHER_EXTENSION = "extension-definition--c0ffee00-1d2e-4f3a-8b4c-5d6e7f8a9b0c"
SIGNED_AT = datetime(2026, 11, 22, 10, 0, 0, 123456, tzinfo=UTC)

# RFC 8037 appendix A.1: the Ed25519 private key "d" and public key "x".
RFC8037_D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
RFC8037_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"


def b64d(text: str) -> bytes:
    """Plain base64url decoding, written here so the tests do not lean on the library's own."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_v1(obj: dict[str, Any], key: SigningKey, signer: str, signed: str) -> dict[str, Any]:
    """``obj`` with one more signature of version 1 (no ``version`` member: RFC 8785 alone), as
    the library wrote them before version 2 existed. The library signs version 2 only, so the
    tests write the old entries themselves."""
    entry = {"type": "jss", "algorithm": key.alg, "signer": signer, "key_id": key.key_id, "signed": signed}
    value = key.sign(signing_input(obj, entry))
    out = copy.deepcopy(obj)
    body = out.setdefault("extensions", {}).setdefault(
        SIGNATURE_EXTENSION_ID, {"extension_type": "property-extension", "signatures": []})
    body["signatures"].append({**entry, "value": b64url_encode(value)})
    return out
