"""The vendored blind RSA bundle (hub/web/static/vendor/blindrsa.js, @cloudflare/blindrsa-ts
0.4.4) under node: every RFC 9474 Appendix A vector byte for byte.

The four vectors (tests/anonymity/data/rfc9474_appendix_a.json, the same data the Python
implementation is held to) go to tests/web/blindrsa_vectors_lib.js, which runs Prepare, Blind
(with the vector's message prefix, salt and r as its only randomness), BlindSign with the vector's
key, Finalize and Verify, and answers what each step computed; every value must be the RFC's.
A signature over an altered message must not verify, and an altered blind signature must not
finalise. Starts node: slow.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")]

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "anonymity" / "data" / "rfc9474_appendix_a.json"
COMPARED = ("prepared_msg", "blinded_msg", "inv", "blind_sig", "sig")


def rfc_vectors() -> list[dict[str, Any]]:
    """The RFC's four vectors (hex), each with what a WebCrypto JWK needs besides (dp, dq, qi)
    and the blind r (the inverse of the vector's inv, as many bytes as the modulus)."""
    out = []
    for v in json.loads(DATA.read_text(encoding="utf-8"))["vectors"]:
        p, q, n, d = (int(v[k], 16) for k in ("p", "q", "n", "d"))
        r = pow(int(v["inv"], 16), -1, n)
        out.append({**v, "dp": format(d % (p - 1), "x"), "dq": format(d % (q - 1), "x"),
                    "qi": format(pow(q, -1, p), "x"), "r": r.to_bytes(len(v["n"]) // 2, "big").hex()})
    return out


def check_results(vectors: list[dict[str, Any]], results: list[dict[str, Any]]) -> None:
    """What blindrsa_vectors_lib.js computed is the RFC's, vector by vector."""
    assert [r["name"] for r in results] == [v["name"] for v in vectors]
    for v, got in zip(vectors, results, strict=True):
        assert "error" not in got, f"{v['name']}: {got.get('error')}"
        assert got["suite"] == v["name"]
        for name in COMPARED:
            assert got[name] == v[name], f"{v['name']}: {name} differs from the RFC's"
        assert got["verifies"] is True, v["name"]
        assert got["other_verifies"] is False, f"{v['name']}: a signature verified for another message"
        assert got["tampered_finalised"] is False, f"{v['name']}: an altered blind signature finalised"


def test_rfc9474_vectors_under_node() -> None:
    vectors = rfc_vectors()
    assert len(vectors) == 4
    done = subprocess.run(["node", str(HERE / "blindrsa_vectors_node.js")], input=json.dumps({"vectors": vectors}),
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    check_results(vectors, json.loads(done.stdout))
