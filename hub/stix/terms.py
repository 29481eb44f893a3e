"""What an object can be found by: pseudonyms it carries, and what a report refers to."""

from __future__ import annotations

from typing import Any

from hub.common.ids import is_stix_id
from hub.pseudonyms import PSEUDONYM_RE
from hub.stix.extensions import IAAS_ACCOUNT_EXTENSION_ID


def index_terms(obj: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """(kind, term) pairs: ("pseudonym", p) for an abused account, ("ref", id) for a report."""
    kind = obj.get("type")
    out: list[tuple[str, str]] = []
    if kind == "user-account":
        ext = (obj.get("extensions") or {}).get(IAAS_ACCOUNT_EXTENSION_ID)
        if isinstance(ext, dict):
            values = [ext.get("provider_account_pseudonym")]
            pseudonyms = ext.get("pseudonyms")
            if isinstance(pseudonyms, dict):
                values += list(pseudonyms.values())
            out += [("pseudonym", v) for v in values if isinstance(v, str) and PSEUDONYM_RE.match(v)]
    elif kind == "report":
        refs = obj.get("object_refs")
        if isinstance(refs, list):
            out += [("ref", r) for r in refs if is_stix_id(r)]
    return tuple(dict.fromkeys(out))
