"""The report builder: facts about one abused IaaS account in, STIX 2.1 objects out.

Used by the analyst CLI (and later the web page). The analyst writes the facts in a TOML file
(:meth:`ReportFacts.from_mapping` reads the parsed table); :func:`build_report` turns them into
plain-dict STIX 2.1 objects with every personal value replaced by its keyed pseudonym.

What comes out, all ``spec_version`` "2.1"::

    identity            the provider (and the reseller, if the account came through one)
    user-account        account_type "cloud-iaas", the IaaS-account extension with pseudonyms
    ipv4-addr, ipv6-addr, domain-name, url
                        one per abused resource, deterministic UUIDv5 ids (STIX 2.1 2.9)
    infrastructure      the abused resources as one piece of infrastructure
    indicator           one per resource, STIX pattern, valid for ``indicator_validity_days``
    relationship        indicator indicates infrastructure;
                        infrastructure consists-of each resource and the user-account
    report              everything above in ``object_refs``

Relationship types come from the STIX 2.1 relationship summary: ``indicates`` (indicator ->
infrastructure, 4.7.1) and ``consists-of`` (infrastructure -> infrastructure, observed-data or
any SCO, user-account included, 4.8.1), so no ``related-to`` is needed.

SDOs and SROs carry ``created_by_ref`` = the provider and ``object_marking_refs`` = the TLP 2.0
marking of the report; SCOs carry the marking too. The identity objects are the exception:
they are marked TLP:CLEAR and get a fixed ``created``/``modified``, so the same identity object
comes out of every report (an identity is not secret, and a new version per report with a
changing marking would conflict with the stored one).

Raw personal values never reach the output: the builder checks the serialised objects for them
and runs :func:`hub.stix.pii.scan_object` on every object before returning (fail closed).
"""

from __future__ import annotations

import ipaddress
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import orjson

from hub.common.errors import BadRequest
from hub.common.ids import is_stix_id
from hub.common.timestamps import format_timestamp_ms
from hub.pseudonyms import (
    PERSONAL_KINDS,
    PSEUDONYM_FORMS,
    PSEUDONYM_KINDS,
    PSEUDONYM_RE,
    InvalidPersonalValue,
    Pseudonymiser,
    normalise,
    provider_account_value,
)
from hub.stix.extensions import IAAS_ACCOUNT_EXTENSION_ID
from hub.stix.markings import TLP2_IDS, tlp_level, tlp_marking_id
from hub.stix.pii import find_pii, scan_object
from hub.stix.vocab import (
    ABUSE_TYPE_OV,
    ACQUISITION_ENUM,
    ACTION_TAKEN_ENUM,
    ISO3166_ALPHA2,
    KYC_STATUS_ENUM,
)

__all__ = [
    "ABUSE_TYPE_INFRASTRUCTURE",
    "ACQUISITIONS",
    "ACTIONS",
    "KYC_STATUSES",
    "SCO_NAMESPACE",
    "InvalidReportFacts",
    "ReportFacts",
    "build_report",
    "build_sighting",
    "classify_resource",
    "deterministic_sco_id",
    "format_timestamp",
]

#: STIX 2.1 section 2.9: the namespace of deterministic SCO ids.
SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")

# The extension's enumerations (schemas/iaas-account, hub.stix.vocab), re-exported for the CLI.
#: How the account was obtained.
ACQUISITIONS = ACQUISITION_ENUM
#: How far the provider verified the holder's identity.
KYC_STATUSES = KYC_STATUS_ENUM
#: What the provider did about the account.
ACTIONS = ACTION_TAKEN_ENUM
#: Each value of abuse-type-ov and the STIX infrastructure-type-ov value it means. abuse-type-ov
#: is open, but the builder takes only these (a typo must not become a new abuse type; "other"
#: is the way out).
ABUSE_TYPE_INFRASTRUCTURE: dict[str, str] = {
    "command-and-control": "command-and-control",
    "phishing": "phishing",
    "malware-hosting": "hosting-malware",
    "scanning": "reconnaissance",
    "proxy-anonymisation": "anonymization",
    "credential-stuffing": "unknown",
    "spam": "unknown",
    "ddos": "unknown",
    "cryptomining": "unknown",
    "data-exfiltration": "exfiltration",
    "fraud": "unknown",
    "other": "unknown",
}
assert set(ABUSE_TYPE_INFRASTRUCTURE) == set(ABUSE_TYPE_OV)

# A fixed created/modified for identity objects (see the module docstring).
_IDENTITY_TIMESTAMP = "2020-01-01T00:00:00.000Z"
# Anchored with \Z: $ also matches before a final newline.
_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)\Z")
_TLD_RE = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})\Z")
_MAX_VALIDITY_DAYS = 3650
# Raw values shorter than this are not searched for in the output: a short name such as "Li"
# would be "found" inside ordinary words.
_MIN_LEAK_CHECK_LEN = 6


class InvalidReportFacts(BadRequest, ValueError):
    """The facts of a report are incomplete or wrong; ``problems`` lists each one.

    Messages name fields, never personal values.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid report: " + "; ".join(self.problems))


def format_timestamp(dt: datetime) -> str:
    """A STIX timestamp with millisecond precision: ``2024-05-01T12:00:00.000Z``."""
    return format_timestamp_ms(dt)


def deterministic_sco_id(sco_type: str, contributing: Mapping[str, Any]) -> str:
    """A STIX 2.1 SCO id: UUIDv5 in :data:`SCO_NAMESPACE` of the canonical JSON of the
    object's id-contributing properties (section 2.9; e.g. ``value`` for ipv4-addr)."""
    name = json.dumps(dict(contributing), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)
    return f"{sco_type}--{uuid.uuid5(SCO_NAMESPACE, name)}"


def _domain(value: str) -> str | None:
    name = value.strip().rstrip(".").lower()
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    labels = name.split(".")
    if len(labels) < 2 or len(name) > 253:
        return None
    if not all(_LABEL_RE.match(label) for label in labels):
        return None
    if not _TLD_RE.match(labels[-1]):
        return None
    return name


def classify_resource(value: str) -> tuple[str, str]:
    """The SCO type and canonical value of an abused resource.

    IPv4/IPv6 addresses and CIDR blocks (host bits must be zero) give ``ipv4-addr`` /
    ``ipv6-addr``; ``scheme://`` values give ``url``; other host names give ``domain-name``
    (lower case, IDN in punycode). Raises ``ValueError`` otherwise.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValueError("empty resource")
    text = value.strip()
    if "://" in text:
        parts = urlsplit(text)
        if not parts.scheme or not parts.hostname or any(c.isspace() for c in text):
            raise ValueError("not a valid URL")
        return "url", text
    try:
        if "/" in text:
            net = ipaddress.ip_network(text, strict=True)
            if net.prefixlen == net.max_prefixlen:
                addr_text = str(net.network_address)
            else:
                addr_text = str(net)
            return ("ipv4-addr" if net.version == 4 else "ipv6-addr"), addr_text
        addr = ipaddress.ip_address(text)
        return ("ipv4-addr" if addr.version == 4 else "ipv6-addr"), str(addr)
    except ValueError:
        if "/" in text or ":" in text:
            raise ValueError("not a valid IP address or CIDR block (host bits must be zero)") from None
    name = _domain(text)
    if name is None:
        raise ValueError("not an IP address, CIDR block, domain name or URL")
    return "domain-name", name


def _pattern(sco_type: str, value: str) -> str:
    # STIX patterning (part 5): string literals in single quotes, with \ and ' escaped.
    literal = value.replace("\\", "\\\\").replace("'", "\\'")
    if sco_type in ("ipv4-addr", "ipv6-addr") and "/" in value:
        return f"[{sco_type}:value ISSUBSET '{literal}']"
    return f"[{sco_type}:value = '{literal}']"


def _coerce_datetime(value: Any, name: str, problems: list[str]) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            problems.append(f"{name} must include a time zone (e.g. 2024-05-01T12:00:00Z)")
            return None
        return value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            problems.append(f"{name} is not a timestamp (e.g. 2024-05-01T12:00:00Z)")
            return None
        return _coerce_datetime(parsed, name, problems)
    problems.append(f"{name} must be a timestamp, got {type(value).__name__}")
    return None


def _str_list(value: Any, name: str, problems: list[str]) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        problems.append(f"{name} must be a list of strings")
        return ()
    if not all(isinstance(v, str) for v in value):
        problems.append(f"{name} must be a list of strings")
        return ()
    return tuple(value)


@dataclass(frozen=True, kw_only=True)
class ReportFacts:
    """What an analyst knows about one abused IaaS account (validated on construction).

    Timestamps may be given as timezone-aware ``datetime``, ``date`` (midnight UTC) or ISO 8601
    strings; they are stored as UTC ``datetime``. ``personal`` maps kinds of
    :data:`~hub.pseudonyms.PERSONAL_KINDS` to raw values; they are only ever pseudonymised.
    Phone numbers without ``+`` are read in ``phone_region``, else in ``declared_country``.
    The repr hides ``personal`` and ``provider_account_id``.

    ``pseudonyms`` maps kinds (``provider_account`` or a personal kind) to pseudonyms already
    made where the values are, for instance by the analyst's browser (RFC 9497, blinded there):
    the builder uses them as they are, and the values never reach whoever builds the report. A
    kind is given either as a value or as a pseudonym, not both; the account is given as
    ``provider_account_id`` or as ``pseudonyms.provider_account``.

    Raises :class:`InvalidReportFacts` listing every problem.
    """

    provider_identity_id: str
    provider_name: str
    provider_account_id: str | None = field(default=None, repr=False)
    account_created: datetime
    first_abuse_seen: datetime
    last_seen: datetime
    resources: tuple[str, ...]
    abuse_types: tuple[str, ...]
    summary: str
    acquisition: str
    kyc_status: str
    reseller_identity_id: str | None = None
    reseller_name: str | None = None
    declared_country: str | None = None
    personal: Mapping[str, str] = field(default_factory=dict, repr=False)
    pseudonyms: Mapping[str, str] = field(default_factory=dict)
    phone_region: str | None = None
    action_taken: str = "none"
    action_taken_at: datetime | None = None
    confidence: int | None = None
    tlp: str = "amber"
    indicator_validity_days: int = 90
    report_name: str | None = None

    def __post_init__(self) -> None:
        problems: list[str] = []
        set_ = object.__setattr__

        if not isinstance(self.pseudonyms, Mapping):
            problems.append("pseudonyms must be a table of kind = pseudonym")
            set_(self, "pseudonyms", {})
        else:
            set_(self, "pseudonyms", dict(self.pseudonyms))
        for kind, pseudonym in self.pseudonyms.items():
            if kind not in PSEUDONYM_KINDS:
                problems.append(f"pseudonyms.{kind}: unknown kind; expected one of {', '.join(PSEUDONYM_KINDS)}")
            elif not isinstance(pseudonym, str) or not PSEUDONYM_RE.match(pseudonym):
                problems.append(f"pseudonyms.{kind} must be a pseudonym: {PSEUDONYM_FORMS}")
        names = ["provider_identity_id", "provider_name", "summary"]
        if "provider_account" in self.pseudonyms:
            if self.provider_account_id is not None:
                problems.append("provider_account_id: give the account id or its pseudonym "
                                "(pseudonyms.provider_account), not both")
        else:
            names.insert(2, "provider_account_id")
        for name in names:
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                problems.append(f"{name} must be a non-empty string")
        if isinstance(self.provider_identity_id, str) and not is_stix_id(
            self.provider_identity_id, "identity"
        ):
            problems.append("provider_identity_id must be an identity id (identity--<uuid>)")

        for name in ("account_created", "first_abuse_seen", "last_seen", "action_taken_at"):
            value = getattr(self, name)
            if value is None and name != "action_taken_at":
                problems.append(f"{name} is required")
            set_(self, name, _coerce_datetime(value, name, problems))
        if self.account_created and self.first_abuse_seen and self.last_seen:
            if not self.account_created <= self.first_abuse_seen <= self.last_seen:
                problems.append(
                    "timestamps out of order: account_created <= first_abuse_seen <= last_seen"
                )

        set_(self, "resources", _str_list(self.resources, "resources", problems))
        if not self.resources and "resources must be a list of strings" not in problems:
            problems.append("resources must list at least one abused resource")
        seen: set[tuple[str, str]] = set()
        for i, res in enumerate(self.resources):
            try:
                key = classify_resource(res)
            except ValueError as exc:
                # No value in the message: a misplaced e-mail address must not be echoed.
                problems.append(f"resources[{i}]: {exc}")
                continue
            if key in seen:
                problems.append(f"resources[{i}] repeats an earlier resource")
            seen.add(key)

        set_(self, "abuse_types", _str_list(self.abuse_types, "abuse_types", problems))
        if not self.abuse_types and "abuse_types must be a list of strings" not in problems:
            problems.append("abuse_types must list at least one abuse type")
        for t in self.abuse_types:
            if t not in ABUSE_TYPE_INFRASTRUCTURE:
                problems.append(
                    f"abuse_types: unknown abuse type {t!r}; expected one of "
                    + ", ".join(ABUSE_TYPE_INFRASTRUCTURE)
                )

        for name, allowed in (("acquisition", ACQUISITIONS), ("kyc_status", KYC_STATUSES),
                              ("action_taken", ACTIONS)):
            if getattr(self, name) not in allowed:
                problems.append(f"{name} must be one of {', '.join(allowed)}")

        if self.acquisition == "reseller":
            if not isinstance(self.reseller_identity_id, str) or not is_stix_id(
                self.reseller_identity_id, "identity"
            ):
                problems.append(
                    "reseller_identity_id (identity--<uuid>) is required when acquisition is reseller"
                )
            if not isinstance(self.reseller_name, str) or not self.reseller_name.strip():
                problems.append("reseller_name is required when acquisition is reseller")
        elif self.reseller_identity_id is not None or self.reseller_name is not None:
            problems.append("reseller_identity_id and reseller_name are only for acquisition = reseller")

        for name in ("declared_country", "phone_region"):
            value = getattr(self, name)
            if value is None:
                continue
            if not isinstance(value, str) or value.strip().upper() not in ISO3166_ALPHA2:
                problems.append(f"{name} must be an ISO 3166-1 alpha-2 code such as 'DE'")
            else:
                set_(self, name, value.strip().upper())

        if self.action_taken != "none" and self.action_taken_at is None and not any(
            p.startswith("action_taken_at") for p in problems
        ):
            problems.append("action_taken_at is required when action_taken is not 'none'")

        if self.confidence is not None and (
            isinstance(self.confidence, bool)
            or not isinstance(self.confidence, int)
            or not 0 <= self.confidence <= 100
        ):
            problems.append("confidence must be an integer from 0 to 100")
        try:
            tlp_level(self.tlp)
        except ValueError:
            problems.append("tlp must be one of clear, green, amber, amber+strict, red")
        days = self.indicator_validity_days
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= _MAX_VALIDITY_DAYS:
            problems.append(f"indicator_validity_days must be an integer from 1 to {_MAX_VALIDITY_DAYS}")

        if not isinstance(self.personal, Mapping):
            problems.append("personal must be a table of kind = value")
            set_(self, "personal", {})
        else:
            set_(self, "personal", dict(self.personal))
        region = self.phone_region or self.declared_country
        for kind, value in self.personal.items():
            if kind in self.pseudonyms:
                problems.append(f"personal.{kind}: give the value or its pseudonym "
                                f"(pseudonyms.{kind}), not both")
                continue
            if kind not in PERSONAL_KINDS:
                problems.append(
                    f"personal.{kind}: unknown kind; expected one of {', '.join(PERSONAL_KINDS)}"
                )
                continue
            try:
                normalise(kind, value, default_region=region)
            except InvalidPersonalValue as exc:
                problems.append(f"personal.{exc.description}")

        # Free text goes to every reader of the collection: no personal data in it.
        for name in ("summary", "report_name", "provider_name", "reseller_name"):
            value = getattr(self, name)
            if isinstance(value, str):
                for kind in find_pii(value):
                    problems.append(f"{name} contains {kind}: remove personal data from it")

        if problems:
            raise InvalidReportFacts(problems)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ReportFacts:
        """Facts from a parsed TOML (or JSON) table with the field names of this class.

        Unknown fields are refused (a typo must not silently drop a fact); ``personal`` is a
        sub-table. Raises :class:`InvalidReportFacts` listing every problem.
        """
        if not isinstance(data, Mapping):
            raise InvalidReportFacts(["the report facts must be a table"])
        known = {f.name: f for f in fields(cls)}
        problems = [f"unknown field {key!r}" for key in data if key not in known]
        for name, f in known.items():
            if f.default is MISSING and f.default_factory is MISSING and name not in data:
                problems.append(f"missing required field {name!r}")
        if problems:
            raise InvalidReportFacts(problems)
        return cls(**dict(data))

    @property
    def personal_region(self) -> str | None:
        """The region national phone numbers are read in."""
        return self.phone_region or self.declared_country


def _sdo_common(obj_type: str, now: str, created_by: str, markings: list[str]) -> dict[str, Any]:
    return {
        "type": obj_type,
        "spec_version": "2.1",
        "id": f"{obj_type}--{uuid.uuid4()}",
        "created_by_ref": created_by,
        "created": now,
        "modified": now,
        "object_marking_refs": list(markings),
    }


def _identity(identity_id: str, name: str, created_by: str) -> dict[str, Any]:
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": identity_id,
        "created_by_ref": created_by,
        "created": _IDENTITY_TIMESTAMP,
        "modified": _IDENTITY_TIMESTAMP,
        "name": name,
        "identity_class": "organization",
        "object_marking_refs": [TLP2_IDS["clear"]],
    }


def _relationship(rel_type: str, source: str, target: str, now: str, created_by: str,
                  markings: list[str]) -> dict[str, Any]:
    rel = _sdo_common("relationship", now, created_by, markings)
    rel.update(relationship_type=rel_type, source_ref=source, target_ref=target)
    return rel


def _leak_check(objects: list[dict[str, Any]], facts: ReportFacts) -> None:
    text = orjson.dumps(objects).decode("utf-8").casefold()
    region = facts.personal_region
    leaked: list[str] = []
    candidates: list[tuple[str, str]] = []
    if facts.provider_account_id is not None:
        candidates.append(("provider_account_id", facts.provider_account_id))
    candidates += [(f"personal.{k}", v) for k, v in facts.personal.items()]
    for label, raw in candidates:
        kind = label.removeprefix("personal.") if label.startswith("personal.") else None
        forms = {raw.strip().casefold()}
        if kind:
            forms.add(normalise(kind, raw, default_region=region).casefold())
        if any(len(f) >= _MIN_LEAK_CHECK_LEN and f in text for f in forms):
            leaked.append(f"the raw value of {label} appears in the report: remove it from "
                          "the summary, names and resources")
    reasons = [f"{obj['type']} {reason}" for obj in objects for reason in scan_object(obj)]
    if leaked or reasons:
        raise InvalidReportFacts(leaked + reasons)


def build_report(
    facts: ReportFacts,
    pseudonymiser: Pseudonymiser,
    *,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """STIX 2.1 objects (plain dicts) reporting one abused IaaS account; the report is last.

    ``pseudonymiser`` is usually the hub's :class:`~hub.pseudonyms.PseudonymKeyring`. ``now``
    (default: the current time) sets ``created``/``modified``, ``published`` and the indicators'
    ``valid_from``; ``valid_until`` is ``indicator_validity_days`` later. Raises
    :class:`InvalidReportFacts` if a raw personal value would reach the output.
    """
    now_dt = (now or datetime.now(UTC)).astimezone(UTC)
    now_dt = now_dt.replace(microsecond=now_dt.microsecond // 1000 * 1000)
    ts = format_timestamp(now_dt)
    provider = facts.provider_identity_id
    markings = [tlp_marking_id(facts.tlp)]
    region = facts.personal_region

    objects: list[dict[str, Any]] = [_identity(provider, facts.provider_name, provider)]
    if facts.acquisition == "reseller":
        assert facts.reseller_identity_id and facts.reseller_name
        objects.append(_identity(facts.reseller_identity_id, facts.reseller_name, provider))

    # Resources: SCOs with deterministic ids, in the order given.
    scos: list[dict[str, Any]] = []
    for resource in facts.resources:
        sco_type, value = classify_resource(resource)
        scos.append({
            "type": sco_type,
            "spec_version": "2.1",
            "id": deterministic_sco_id(sco_type, {"value": value}),
            "value": value,
            "object_marking_refs": list(markings),
        })

    # The account. Its provider id is scoped by the provider, so that account "12345" at two
    # providers gives two pseudonyms.
    # Pseudonyms made where the values are (facts.pseudonyms) are used as they are.
    account_pseudonym = facts.pseudonyms.get("provider_account") or pseudonymiser.pseudonym(
        "provider_account", provider_account_value(provider, facts.provider_account_id or "")
    )
    pseudonyms = {
        kind: facts.pseudonyms.get(kind) or pseudonymiser.pseudonym(
            kind, normalise(kind, facts.personal[kind], default_region=region))
        for kind in PERSONAL_KINDS
        if kind in facts.personal or kind in facts.pseudonyms
    }
    ext: dict[str, Any] = {
        "extension_type": "property-extension",
        "provider_ref": provider,
        "provider_account_pseudonym": account_pseudonym,
        "account_created": format_timestamp(facts.account_created),
        "first_abuse_seen": format_timestamp(facts.first_abuse_seen),
        "last_seen": format_timestamp(facts.last_seen),
        "acquisition": facts.acquisition,
    }
    if facts.acquisition == "reseller":
        ext["reseller_ref"] = facts.reseller_identity_id
    ext["kyc_status"] = facts.kyc_status
    if facts.declared_country:
        ext["declared_country"] = facts.declared_country
    if pseudonyms:  # the schema wants a non-empty object, or none
        ext["pseudonyms"] = pseudonyms
    ext["abused_resource_refs"] = [s["id"] for s in scos]
    ext["abuse_types"] = list(facts.abuse_types)
    ext["action_taken"] = facts.action_taken
    if facts.action_taken_at is not None:
        ext["action_taken_at"] = format_timestamp(facts.action_taken_at)
    if facts.confidence is not None:
        ext["confidence"] = facts.confidence
    account: dict[str, Any] = {
        "type": "user-account",
        "spec_version": "2.1",
        "account_type": "cloud-iaas",
        "user_id": account_pseudonym,
        "object_marking_refs": list(markings),
        "extensions": {IAAS_ACCOUNT_EXTENSION_ID: ext},
    }
    # STIX 2.1 names account_type, user_id and account_login as the id-contributing properties
    # of a user-account. Here every property contributes, the extension's facts included: an
    # observable has no versions, so a later report with new facts about the same account (a
    # later last_seen, "terminated") must be a new object, or the hub would answer "already
    # stored" and keep the old facts. The same facts give the same id (a resubmission stays
    # idempotent); reports about one account are linked by its pseudonym (correlations/).
    account = {"type": "user-account", "spec_version": "2.1",
               "id": deterministic_sco_id("user-account", account), **account}
    objects.append(account)
    objects.extend(scos)

    infra_types = sorted({ABUSE_TYPE_INFRASTRUCTURE[t] for t in facts.abuse_types} - {"unknown"})
    infrastructure = _sdo_common("infrastructure", ts, provider, markings)
    infrastructure.update(
        name=f"Abused IaaS account resources at {facts.provider_name}",
        infrastructure_types=infra_types or ["unknown"],
        first_seen=format_timestamp(facts.first_abuse_seen),
        last_seen=format_timestamp(facts.last_seen),
    )
    if facts.confidence is not None:
        infrastructure["confidence"] = facts.confidence
    objects.append(infrastructure)

    valid_until = format_timestamp(now_dt + timedelta(days=facts.indicator_validity_days))
    relationships: list[dict[str, Any]] = []
    for sco in scos:
        indicator = _sdo_common("indicator", ts, provider, markings)
        indicator.update(
            # The value is in the pattern; keeping it out of the name keeps free text clean.
            name=f"Abused IaaS resource ({sco['type']})",
            description=(
                f"A resource ({sco['type']}) of an IaaS account at {facts.provider_name}, "
                f"abused for {', '.join(facts.abuse_types)}."
            ),
            indicator_types=["malicious-activity"],
            pattern=_pattern(sco["type"], sco["value"]),
            pattern_type="stix",
            pattern_version="2.1",
            valid_from=ts,
            valid_until=valid_until,
        )
        if facts.confidence is not None:
            indicator["confidence"] = facts.confidence
        objects.append(indicator)
        relationships.append(_relationship("indicates", indicator["id"], infrastructure["id"],
                                           ts, provider, markings))
    for sco in scos:
        relationships.append(_relationship("consists-of", infrastructure["id"], sco["id"],
                                           ts, provider, markings))
    relationships.append(_relationship("consists-of", infrastructure["id"], account["id"],
                                       ts, provider, markings))
    objects.extend(relationships)

    report = _sdo_common("report", ts, provider, markings)
    report.update(
        name=facts.report_name or f"Abused IaaS account reported by {facts.provider_name}",
        description=facts.summary,
        # report-type-ov has no "infrastructure": the report characterises indicators of an
        # abused account seen from several facets.
        report_types=["threat-report", "indicator"],
        published=ts,
        object_refs=[o["id"] for o in objects],
    )
    if facts.confidence is not None:
        report["confidence"] = facts.confidence
    objects.append(report)

    _leak_check(objects, facts)
    return objects


def build_sighting(
    indicator_id: str,
    sighted_by_ref: str,
    *,
    where_sighted_refs: Sequence[str] | None = None,
    count: int = 1,
    first_seen: datetime | str | None = None,
    last_seen: datetime | str | None = None,
    tlp: str = "amber",
    description: str | None = None,
    confidence: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A ``sighting`` of an indicator by another party: "seen here too".

    ``sighted_by_ref`` (an identity id) is the ``created_by_ref``; ``where_sighted_refs``
    (identity or location ids) defaults to it. Raises :class:`InvalidReportFacts`.
    """
    problems: list[str] = []
    if not is_stix_id(indicator_id, "indicator"):
        problems.append("sighting_of_ref must be an indicator id (indicator--<uuid>)")
    if not is_stix_id(sighted_by_ref, "identity"):
        problems.append("sighted_by_ref must be an identity id (identity--<uuid>)")
    where = list(where_sighted_refs) if where_sighted_refs is not None else [sighted_by_ref]
    for i, ref in enumerate(where):
        if not (is_stix_id(ref, "identity") or is_stix_id(ref, "location")):
            problems.append(f"where_sighted_refs[{i}] must be an identity or location id")
    # STIX 2.1 5.2: count is 0 to 999,999,999.
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 999_999_999:
        problems.append("count must be an integer from 0 to 999999999")
    first = _coerce_datetime(first_seen, "first_seen", problems)
    last = _coerce_datetime(last_seen, "last_seen", problems)
    if first and last and last < first:
        problems.append("last_seen is earlier than first_seen")
    try:
        markings = [tlp_marking_id(tlp)]
    except ValueError:
        problems.append("tlp must be one of clear, green, amber, amber+strict, red")
        markings = []
    if confidence is not None and (
        isinstance(confidence, bool) or not isinstance(confidence, int) or not 0 <= confidence <= 100
    ):
        problems.append("confidence must be an integer from 0 to 100")
    if description is not None:
        for kind in find_pii(description):
            problems.append(f"description contains {kind}: remove personal data from it")
    if problems:
        raise InvalidReportFacts(problems)

    now_dt = (now or datetime.now(UTC)).astimezone(UTC)
    sighting = _sdo_common("sighting", format_timestamp(now_dt), sighted_by_ref, markings)
    sighting.update(sighting_of_ref=indicator_id, where_sighted_refs=where, count=count)
    if first is not None:
        sighting["first_seen"] = format_timestamp(first)
    if last is not None:
        sighting["last_seen"] = format_timestamp(last)
    if description:
        sighting["description"] = description
    if confidence is not None:
        sighting["confidence"] = confidence
    return sighting
