"""Signatures made by the ``abusehub`` CLI, checked without the hub's signing library.

The analyst's path: ``abusehub key generate`` then ``abusehub sign``. Each signature is checked
from outside: the signing input is rebuilt by hand (for a version 2 signature, every STIX
timestamp written with its shortest exact fraction, as docs/SIGNING.md says; then ``json.dumps``
with sorted keys and no whitespace, which is RFC 8785 for objects holding only strings, integers
and lists, as these do), and the signature is checked with the raw ``cryptography`` primitive and
the printed public JWK.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.factories import indicator, ipv4
from tests.harness import run_cli as run

pytestmark = pytest.mark.slow  # runs the CLI as subprocesses

EXTENSION = "extension-definition--9b39b729-aa66-40ae-aed8-53bbf528cf7a"  # schemas/signature
# STIX 2.1 section 3.2: a timestamp, with an optional fraction of any length.
TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z")


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def shortest_timestamps(value: Any) -> Any:
    """Every string that is a STIX timestamp, at any depth, with its fraction's trailing zeros
    (and a bare ".") removed; nothing else changed."""
    if isinstance(value, dict):
        return {k: shortest_timestamps(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shortest_timestamps(v) for v in value]
    if isinstance(value, str) and TIMESTAMP.fullmatch(value) and "." in value:
        whole, fraction = value[:-1].split(".")
        fraction = fraction.rstrip("0")
        return f"{whole}.{fraction}Z" if fraction else f"{whole}Z"
    return value


def signing_input_by_hand(obj: dict[str, Any]) -> tuple[bytes, bytes]:
    """(the bytes that were signed, the signature) for the object's only signature."""
    body = copy.deepcopy(obj)
    entry = body["extensions"][EXTENSION]["signatures"][0]
    value = entry.pop("value")
    if entry.get("version") == "2":
        body = shortest_timestamps(body)
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8"), b64d(value)


def check_with_primitive(jwk: dict[str, str], data: bytes, signature: bytes) -> None:
    """Raises InvalidSignature unless ``signature`` is the JWK's key's signature of ``data``."""
    if jwk["kty"] == "OKP":
        Ed25519PublicKey.from_public_bytes(b64d(jwk["x"])).verify(signature, data)
        return
    public = ec.EllipticCurvePublicNumbers(int.from_bytes(b64d(jwk["x"]), "big"),
                                           int.from_bytes(b64d(jwk["y"]), "big"),
                                           ec.SECP256R1()).public_key()
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    public.verify(der, data, ec.ECDSA(hashes.SHA256()))


@pytest.mark.parametrize("alg", ["Ed25519", "ES256"])
def test_cli_signatures_verify_by_an_independent_path(tmp_path: Path, alg: str) -> None:
    me = f"identity--{uuid.uuid4()}"
    jwk = json.loads(run(tmp_path, "key", "generate", "--out", str(tmp_path / "k.pem"), "--alg", alg).stdout)
    assert "d" not in jwk  # only the public half is printed
    objects = [indicator(), indicator(name="C2 at Zürich"), ipv4("198.51.100.23")]
    src = tmp_path / "bundle.json"
    src.write_text(json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}))
    out = tmp_path / "signed.json"
    run(tmp_path, "sign", str(src), "--key", str(tmp_path / "k.pem"), "--as", me, "--out", str(out))
    signed = json.loads(out.read_text())["objects"]
    assert len(signed) == 3

    for obj in signed:
        entry = obj["extensions"][EXTENSION]["signatures"][0]
        assert entry["signer"] == me and entry["algorithm"] == alg and entry["key_id"] == jwk["kid"]
        data, signature = signing_input_by_hand(obj)
        check_with_primitive(jwk, data, signature)  # raises if the CLI's signature is wrong
        # The same check fails once one character of the object changes.
        tampered = copy.deepcopy(obj)
        tampered["spec_version"] = "2.0"
        with pytest.raises(InvalidSignature):
            check_with_primitive(jwk, signing_input_by_hand(tampered)[0], signature)
    assert all(o.get("created_by_ref") == me for o in signed if o["type"] == "indicator")
