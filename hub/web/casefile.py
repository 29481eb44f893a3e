"""A report read as a case file: the objects of one report gathered into what an analyst reads
(provider, account facts by pseudonym, abuse types, resources with their indicators, action
taken, TLP, signatures checked against the key registry).

Pure functions over plain-dict STIX objects and a :class:`~hub.signing.KeySet`; the views fetch
the objects through the query service.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from stix2patterns.exceptions import ParseException
from stix2patterns.v20.pattern import Pattern as Pattern20
from stix2patterns.v21.pattern import Pattern as Pattern21

from hub.common.errors import HubError
from hub.services.keys import HUB_PARTY
from hub.signing import KeySet, SignatureFormatError, signatures_of
from hub.stix.extensions import IAAS_ACCOUNT_EXTENSION_ID
from hub.stix.markings import TLP2_IDS

#: TLP 2.0 names by marking id; the banner's colours are in static/css/web.css (FIRST TLP 2.0:
#: black background; red FF2B2B, amber FFC000, green 33FF00, clear FFFFFF).
TLP_BY_ID = {mid: name for name, mid in TLP2_IDS.items()}
_SCO_RESOURCE_TYPES = ("ipv4-addr", "ipv6-addr", "domain-name", "url")
#: The escapes of a STIX pattern's string literal (STIX 2.1 section 9.2): \' and \\.
_LITERAL_ESCAPE_RE = re.compile(r"\\(['\\])")


@dataclass(frozen=True)
class SignatureView:
    """One signature of one object as checked here: ``state`` is verified, failed or unknown key."""

    object_id: str
    signer: str
    signer_name: str
    key_id: str
    signed: str
    state: str
    reason: str
    countersignature: bool


@dataclass(frozen=True)
class ResourceView:
    """An abused resource and the indicator that detects it."""

    type: str
    value: str
    indicator_id: str | None
    pattern: str | None
    valid_from: str | None
    valid_until: str | None


@dataclass
class CaseFile:
    """What the report page shows."""

    report: dict[str, Any]
    tlp: str | None
    provider: str
    provider_id: str
    account: dict[str, Any] = field(default_factory=dict)
    account_pseudonym: str | None = None
    pseudonyms: dict[str, str] = field(default_factory=dict)
    resources: list[ResourceView] = field(default_factory=list)
    signatures: list[SignatureView] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def all_pseudonyms(self) -> list[str]:
        """The account's pseudonym and its personal values' pseudonyms (for correlation)."""
        out = [self.account_pseudonym] if self.account_pseudonym else []
        return out + [p for p in self.pseudonyms.values() if p not in out]


def tlp_of(obj: dict[str, Any]) -> str | None:
    """The TLP 2.0 level an object is marked with (``amber+strict``), or None."""
    for ref in obj.get("object_marking_refs") or []:
        if ref in TLP_BY_ID:
            return TLP_BY_ID[ref]
    return None


def check_signatures(obj: dict[str, Any], keys: KeySet, now_us: int) -> list[SignatureView]:
    """Every signature of ``obj`` checked against the registry, as a verifier would later
    (not as a new submission: a key revoked after signing still vouches)."""
    oid = str(obj.get("id", "?"))
    try:
        entries = signatures_of(obj)
    except SignatureFormatError as exc:
        return [SignatureView(oid, "", "", "", "", "failed", f"malformed signature: {exc}", False)]
    out = []
    for entry in entries:
        known = keys.keys.get(entry.key_id)
        name = known.party if known is not None else ""
        if known is None:
            state, reason = "unknown key", f"key {entry.key_id} is not in the hub's key registry"
        else:
            try:
                problem = keys.check(obj, entry, now_us, new_submission=False)
            except HubError as exc:  # an object without a canonical form, for one
                problem = str(exc)
            state, reason = ("verified", "") if problem is None else ("failed", problem)
        out.append(SignatureView(oid, entry.signer, name, entry.key_id, entry.signed, state, reason,
                                 name == HUB_PARTY))
    return out


@lru_cache(maxsize=4096)
def detected_values(pattern: str, version: str = "2.1") -> tuple[tuple[str, str], ...]:
    """The ``(object type, value)`` pairs an indicator's pattern detects: each of its equality
    comparisons of an object's ``value`` with a string literal (unescaped), read with the STIX
    pattern library's own parser (``stix2patterns``, the grammar of ``pattern_version``). A
    pattern that does not parse detects nothing here."""
    parser = Pattern20 if version == "2.0" else Pattern21
    try:
        comparisons = parser(pattern).inspect().comparisons
    except ParseException:
        return ()
    out: list[tuple[str, str]] = []
    for obj_type, terms in comparisons.items():
        for path, op, literal in terms:
            if path == ["value"] and op == "=" and isinstance(literal, str) and literal.startswith("'"):
                out.append((obj_type, _LITERAL_ESCAPE_RE.sub(r"\1", literal[1:-1])))
    return tuple(out)


def _indicators(objects: dict[str, dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """The indicators among ``objects``, by each ``(object type, value)`` they detect."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for obj in objects.values():
        if obj.get("type") == "indicator" and isinstance(obj.get("pattern"), str):
            for key in detected_values(obj["pattern"], str(obj.get("pattern_version") or "2.1")):
                out[key] = obj
    return out


def _resource(obj: dict[str, Any], indicator: dict[str, Any] | None) -> ResourceView:
    ind = indicator or {}
    return ResourceView(obj["type"], str(obj.get("value", "")), ind.get("id"), ind.get("pattern"),
                        ind.get("valid_from"), ind.get("valid_until"))


def _read_account(case: CaseFile, account: dict[str, Any]) -> None:
    """The account's facts (the IaaS-account extension) and its pseudonyms, into ``case``."""
    ext = (account.get("extensions") or {}).get(IAAS_ACCOUNT_EXTENSION_ID) or {}
    case.account = ext
    case.account_pseudonym = ext.get("provider_account_pseudonym") or account.get("user_id")
    case.pseudonyms = dict(ext.get("pseudonyms") or {})


def build_case_file(report: dict[str, Any], objects: dict[str, dict[str, Any]], keys: KeySet,
                    now_us: int) -> CaseFile:
    """The case file of ``report`` from the objects it refers to (by id; those not readable
    are listed in ``missing``)."""
    provider_id = str(report.get("created_by_ref", ""))
    provider = objects.get(provider_id, {}).get("name") or provider_id
    case = CaseFile(report=report, tlp=tlp_of(report), provider=str(provider), provider_id=provider_id)
    refs = [r for r in report.get("object_refs") or [] if isinstance(r, str)]
    case.missing = [r for r in refs if r not in objects]
    read = [objects[r] for r in refs if r in objects]
    indicators = _indicators(objects)
    for obj in read:
        if obj.get("type") == "user-account":
            _read_account(case, obj)
        elif obj.get("type") in _SCO_RESOURCE_TYPES:
            case.resources.append(_resource(obj, indicators.get((obj["type"], str(obj.get("value"))))))
    for obj in [report, *read]:
        case.signatures.extend(check_signatures(obj, keys, now_us))
    return case
