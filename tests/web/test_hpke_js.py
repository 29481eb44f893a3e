"""The vendored HPKE bundle (hub/web/static/vendor/hpke.js, @hpke/core 1.9.0) and the page's
escrow record (hub/web/static/js/escrow.js) under node.

RFC 9180 Appendix A.1.1, the escrow record's suite (base mode, DHKEM(X25519, HKDF-SHA256),
HKDF-SHA256, AES-128-GCM), byte for byte: DeriveKeyPair from the vector's ikm, the sender with the
vector's ephemeral key (enc, and the ciphertexts at sequence numbers 0, 1, 2 and 4), the recipient
opening them, and another info not opening. Then a submitter record sealed by escrow.js, as the
filing page seals one in the token mode, to an oversight key made here: it opens with
``abusehub escrow open``, names the submitter, its key and the filing's hash as
``hub.client.tokens`` computes it, and its signature verifies under the public key that made it.
Starts node: slow.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from hub.anonymity.escrow import OversightPrivateKey, open_sealed
from hub.client.tokens import filing_hash
from hub.common.canonical import b64url_decode
from hub.signing import VerifyKey
from tests.harness import run_cli

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")]

HERE = Path(__file__).resolve().parent

#: RFC 9180 Appendix A.1.1 (the values the Python side is held to in
#: tests/anonymity/test_escrow_rfc9180.py, with the ikm and the ciphertexts at sequence 1, 2 and 4).
A11 = {
    "ikmE": "7268600d403fce431561aef583ee1613527cff655c1343f29812e66706df3234",
    "ikmR": "6db9df30aa07dd42ee5e8181afdb977e538f5e1fec8a06223f33f7013e525037",
    "skEm": "52c4a758a802cd8b936eceea314432798d5baf2d7e9235dc084ab1b9cfa2f736",
    "pkEm": "37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431",
    "skRm": "4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8",
    "pkRm": "3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d",
    "enc": "37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431",
    "info": "4f6465206f6e2061204772656369616e2055726e",
    "pt": "4265617574792069732074727574682c20747275746820626561757479",
    "ct": {
        "0": "f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a",
        "1": "af2d7e9ac9ae7e270f46ba1f975be53c09f8d875bdc8535458c2494e8a6eab251c03d0c22a56b8ca42c2063b84",
        "2": "498dfcabd92e8acedc281e85af1cb4e3e31c7dc394a1ca20e173cb72516491588d96a19ad4a683518973dcc180",
        "4": "583bd32bc67a5994bb8ceaca813d369bca7b2a42408cddef5e22f880b631215a09fc0012bc69fccaa251c0246d",
    },
}

OBJECTS = [{"type": "note", "id": "note--6e1d5a2e-0a51-4e0a-9d3f-2a6b0f1c9d11", "content": "Zürich ✓"}]
COMMITMENT = "sha256:" + "ab" * 32
IDENTITY = "identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"


def job(oversight: OversightPrivateKey | None) -> dict[str, Any]:
    """What hpke_vectors_lib.js is given: the vector, and a record to seal to ``oversight``."""
    record = None if oversight is None else {
        "oversight_pem": oversight.public_key.to_pem().decode(), "party": "acme", "identity": IDENTITY,
        "objects": OBJECTS, "commitment": COMMITMENT, "hub": "hub.example"}
    return {"vector": A11, "record": record}


def check_vectors(got: dict[str, Any]) -> None:
    """What the library computed is the RFC's."""
    assert got["suite"] == [0x0020, 0x0001, 0x0001]
    for name in ("pkEm", "pkRm", "skRm", "enc"):
        assert got[name] == A11[name], f"{name} differs from the RFC's"
    assert got["ct"] == A11["ct"], "a ciphertext differs from the RFC's"
    assert got["opened"] == [A11["pt"]] * 3
    assert got["other_info_opened"] is False


def check_record(got: dict[str, Any], oversight: OversightPrivateKey, home: Path) -> None:
    """The page's record opens with 'abusehub escrow open' and holds up against its signer's key."""
    sealed = got["sealed"]
    assert sealed["oversight_key"] == oversight.public_key.key_id == got["oversight_key_id"]
    assert (sealed["hub"], sealed["report_id"]) == ("hub.example", COMMITMENT)
    (home / "oversight.pem").write_bytes(oversight.to_pem())
    (home / "record.json").write_text(json.dumps(sealed))
    opened = json.loads(run_cli(home, "escrow", "open", "--key", str(home / "oversight.pem"),
                                str(home / "record.json")).stdout)
    assert (opened["submitter"], opened["identity_id"], opened["report_id"]) == ("acme", IDENTITY, COMMITMENT)
    assert opened["report_hash"] == filing_hash(OBJECTS, COMMITMENT)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", opened["time"])
    assert opened["key_id"] == got["kid"]
    record = open_sealed(sealed, oversight)
    key = VerifyKey.from_jwk(got["public_jwk"])
    assert key.key_id == got["kid"]
    assert key.verify(b64url_decode(record.signature), record.signing_input())
    # Padded as the hub's own records are: the sealed size does not tell one submitter from another.
    assert len(b64url_decode(sealed["sealed"])) == 32 + 512 + 16


def test_rfc9180_vectors_and_the_pages_record_under_node(tmp_path: Path) -> None:
    oversight = OversightPrivateKey.generate()
    done = subprocess.run(["node", str(HERE / "hpke_vectors_node.js")], input=json.dumps(job(oversight)),
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    check_vectors(out["vectors"])
    check_record(out["record"], oversight, tmp_path)
