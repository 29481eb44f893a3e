"""The RFC test vectors of the anonymity primitives, as the RFCs print them (``data/``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"


def rfc9474_vectors() -> list[dict[str, Any]]:
    """RFC 9474 Appendix A: one dict per named variant, every value a hexadecimal string."""
    return json.loads((DATA / "rfc9474_appendix_a.json").read_text(encoding="utf-8"))["vectors"]


def rfc9578_type2_vectors() -> list[dict[str, Any]]:
    """RFC 9578 Appendix A.2: the five vectors of issuance protocol 2 (Blind RSA, 2048)."""
    return json.loads((DATA / "rfc9578_appendix_a2.json").read_text(encoding="utf-8"))["vectors"]
