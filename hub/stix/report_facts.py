"""The facts of a report of an abused IaaS account, and of a sighting: the one table of them.

:class:`ReportFacts` is what an analyst knows about one abused account (the TOML file of
``abusehub report new``, the web page's form), :class:`SightingFacts` what another party saw.
Each field is declared once, with :func:`~hub.stix.facts.fact`: its type and vocabulary, when it
is required or allowed, the pseudonym it may be given as, and the property of the IaaS-account
extension (``schemas/iaas-account``) it becomes. From this table come the checks of the facts
(on construction, every problem a :class:`~hub.common.problems.Problem` naming its field), the
extension's check on ingest (:func:`hub.stix.iaas.check_iaas_extension`), the extension's JSON
Schema (:func:`hub.stix.iaas.extension_schema`) and the properties the builder writes
(:mod:`hub.stix.report`). Adding a fact is one field here (docs/CONTRIBUTING.md).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from hub.common.problems import Code
from hub.pseudonyms import PERSONAL_KINDS, PSEUDONYM_KINDS, InvalidPersonalValue, normalise
from hub.stix.facts import (
    INVALID,
    Choice,
    Country,
    Facts,
    Found,
    FreeText,
    Integer,
    InvalidFacts,
    ListOf,
    Marking,
    OpenVocabulary,
    Order,
    Pseudonym,
    Stix,
    StixId,
    Table,
    Text,
    Timestamp,
    Type,
    When,
    fact,
)
from hub.stix.vocab import (
    ABUSE_TYPE_OV,
    ABUSED_RESOURCE_TYPES,
    ACQUISITION_ENUM,
    ACTION_TAKEN_ENUM,
    KYC_STATUS_ENUM,
)

__all__ = [
    "ABUSE_TYPE_INFRASTRUCTURE",
    "InvalidReportFacts",
    "ReportFacts",
    "SightingFacts",
    "classify_resource",
]

#: Each value of abuse-type-ov and the STIX infrastructure-type-ov value it means. abuse-type-ov
#: is open, but the facts take only these (a typo must not become a new abuse type; "other"
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

# Anchored with \Z: $ also matches before a final newline.
_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)\Z")
_TLD_RE = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})\Z")


class InvalidReportFacts(InvalidFacts):
    """The facts of a report (or a sighting) are incomplete or wrong; ``found`` lists each
    problem (see :class:`~hub.stix.facts.InvalidFacts`)."""

    about = "report facts"
    lead = "invalid report"


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


def _address(text: str) -> tuple[str, str]:
    """An IP address or CIDR block (host bits zero): its SCO type and canonical form."""
    if "/" in text:
        net = ipaddress.ip_network(text, strict=True)
        addr_text = str(net.network_address) if net.prefixlen == net.max_prefixlen else str(net)
        return ("ipv4-addr" if net.version == 4 else "ipv6-addr"), addr_text
    addr = ipaddress.ip_address(text)
    return ("ipv4-addr" if addr.version == 4 else "ipv6-addr"), str(addr)


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
        return _address(text)
    except ValueError:
        if "/" in text or ":" in text:
            raise ValueError("not a valid IP address or CIDR block (host bits must be zero)") from None
    name = _domain(text)
    if name is None:
        raise ValueError("not an IP address, CIDR block, domain name or URL")
    return "domain-name", name


class Resource(Type):
    """An abused resource (:func:`classify_resource`); two are the same by canonical form."""

    def read(self, value: Any, path: str, found: Found, raw: Mapping[str, Any]) -> Any:
        try:
            classify_resource(value)
        except ValueError as exc:
            # No value in the message: a misplaced e-mail address must not be echoed.
            found.add(Code.INVALID_VALUE, path, f"{path}: {exc}")
            return INVALID
        return value

    def key(self, value: Any) -> Any:
        return classify_resource(value)


class PersonalValues(Table):
    """The holder's personal values by kind, each one that :func:`~hub.pseudonyms.normalise`
    takes (phone numbers without ``+`` read in ``phone_region``, else ``declared_country``)."""

    def member_read(self, kind: str, value: Any, path: str, found: Found,
                    raw: Mapping[str, Any]) -> Any:
        region = Country.normal(raw.get("phone_region")) or Country.normal(raw.get("declared_country"))
        try:
            normalise(kind, value, default_region=region)
        except InvalidPersonalValue as exc:
            found.add(Code.INVALID_VALUE, path, f"personal.{exc.description}")
            return INVALID
        return value


RESELLER = When("acquisition", "reseller")
ACTED = When("action_taken", not_equals="none")


@dataclass(frozen=True, kw_only=True)
class ReportFacts(Facts):
    """What an analyst knows about one abused IaaS account (checked on construction).

    Timestamps may be given as timezone-aware ``datetime``, ``date`` (midnight UTC) or ISO 8601
    strings; they are kept as UTC ``datetime``. ``personal`` maps kinds of
    :data:`~hub.pseudonyms.PERSONAL_KINDS` to raw values; they are only ever pseudonymised.
    Phone numbers without ``+`` are read in ``phone_region``, else in ``declared_country``.
    The repr hides ``personal`` and ``provider_account_id``.

    ``pseudonyms`` maps kinds (``provider_account`` or a personal kind) to pseudonyms already
    made where the values are, for instance by the analyst's browser (RFC 9497, blinded there):
    the builder uses them as they are, and the values never reach whoever builds the report. A
    kind is given either as a value or as a pseudonym, not both; the account is given as
    ``provider_account_id`` or as ``pseudonyms.provider_account``.

    Raises :class:`InvalidReportFacts` listing every problem. The fields below are the table of
    the facts (:mod:`hub.stix.facts`); ``stix=`` names the property of the IaaS-account
    extension each becomes, in the order the extension lists them.
    """

    invalid = InvalidReportFacts
    rules = (Order("account_created", "first_abuse_seen", "last_seen"),)

    provider_identity_id: str = fact(
        StixId("identity"), required=True,
        help="Your organisation's STIX identity id at the hub (abusehub party list).",
        stix=Stix("provider_ref", required=True,
                  help="The identity of the cloud provider that holds the account."))
    provider_name: str = fact(FreeText(), required=True, help="Your organisation's name.")
    provider_account_id: str | None = fact(
        Text(), required=True, alternative="pseudonyms.provider_account", secret=True, default=None,
        help="The account's id in your systems (only its pseudonym leaves your machine).",
        stix=Stix("provider_account_pseudonym", Pseudonym(), required=True, derived=True,
                  help="Keyed pseudonym of the provider's own account identifier."))
    account_created: datetime = fact(
        Timestamp(), required=True,
        stix=Stix("account_created", help="When the account was opened."))
    first_abuse_seen: datetime = fact(
        Timestamp(), required=True,
        stix=Stix("first_abuse_seen", required=True, help="When abuse from the account was first seen."))
    last_seen: datetime = fact(
        Timestamp(), required=True,
        stix=Stix("last_seen", help="When activity of the account was last seen."))
    acquisition: str = fact(
        Choice(ACQUISITION_ENUM), required=True,
        stix=Stix("acquisition", required=True, help="How the abuser obtained the account."))
    reseller_identity_id: str | None = fact(
        StixId("identity"), required=RESELLER, only_when=RESELLER, default=None,
        stix=Stix("reseller_ref", required=RESELLER, only_when=RESELLER,
                  help="The reseller the account was bought through; only with acquisition 'reseller'."))
    reseller_name: str | None = fact(FreeText(), required=RESELLER, only_when=RESELLER, default=None)
    kyc_status: str = fact(
        Choice(KYC_STATUS_ENUM), required=True,
        stix=Stix("kyc_status", required=True, help="Outcome of the provider's know-your-customer check."))
    declared_country: str | None = fact(
        Country(), default=None,
        stix=Stix("declared_country",
                  help="Country the account holder declared, ISO 3166-1 alpha-2, upper case."))
    personal: Mapping[str, str] = fact(
        PersonalValues(PERSONAL_KINDS, Text(), "kind = value"), alternative="pseudonyms", secret=True,
        default_factory=dict,
        stix=Stix("pseudonyms", Table(PERSONAL_KINDS, Pseudonym(), "kind = pseudonym"), derived=True,
                  help="Keyed pseudonyms of the holder's personal data; the values themselves never "
                       "leave the provider."))
    resources: tuple[str, ...] = fact(
        ListOf(Resource(), "abused resource", unique=True), required=True,
        stix=Stix("abused_resource_refs", ListOf(StixId(*ABUSED_RESOURCE_TYPES), "abused resource"),
                  required=True, derived=True, help="The network resources the account was used to run."))
    abuse_types: tuple[str, ...] = fact(
        ListOf(Choice(ABUSE_TYPE_OV, noun="abuse type"), "abuse type"), required=True,
        stix=Stix("abuse_types", ListOf(OpenVocabulary("abuse-type-ov", ABUSE_TYPE_OV), "abuse type"),
                  required=True, help=f"Open vocabulary abuse-type-ov: {', '.join(ABUSE_TYPE_OV)}."))
    action_taken: str = fact(
        Choice(ACTION_TAKEN_ENUM), default="none",
        stix=Stix("action_taken", help="What the provider did about the account."))
    action_taken_at: datetime | None = fact(
        Timestamp(), required=ACTED, default=None,
        stix=Stix("action_taken_at", required=ACTED,
                  help="When the action was taken; required unless action_taken is 'none'."))
    confidence: int | None = fact(
        Integer(0, 100), default=None,
        stix=Stix("confidence",
                  help="The reporter's confidence that the account is abused (STIX confidence scale)."))
    # Free text goes to every reader of the collection: no personal data in it.
    summary: str = fact(FreeText(), required=True, help="What happened, for every reader.")
    pseudonyms: Mapping[str, str] = fact(
        Table(PSEUDONYM_KINDS, Pseudonym(), "kind = pseudonym"), default_factory=dict,
        help="Pseudonyms made where the values are, by kind.")
    phone_region: str | None = fact(Country(), default=None,
                                    help="Region of phone numbers written without +.")
    tlp: str = fact(Marking(), default="amber", help="The TLP marking of the report.")
    indicator_validity_days: int = fact(Integer(1, 3650), default=90,
                                        help="How long the indicators are valid.")
    report_name: str | None = fact(FreeText(), default=None, help="The report's name.")

    @property
    def personal_region(self) -> str | None:
        """The region national phone numbers are read in."""
        return self.phone_region or self.declared_country


@dataclass(frozen=True, kw_only=True)
class SightingFacts(Facts):
    """A sighting of an indicator by another party ("seen here too"); each fact with ``stix=``
    is the sighting's property of that name. Raises :class:`InvalidReportFacts`."""

    invalid = InvalidReportFacts
    rules = (Order("first_seen", "last_seen"),)

    sighting_of_ref: str = fact(StixId("indicator"), required=True, stix=Stix("sighting_of_ref"))
    sighted_by_ref: str = fact(StixId("identity"), required=True, help="Who saw it (created_by_ref).")
    where_sighted_refs: tuple[str, ...] = fact(
        ListOf(StixId("identity", "location"), "place", min_items=0), required=True,
        stix=Stix("where_sighted_refs"))
    # STIX 2.1 5.2: count is 0 to 999,999,999.
    count: int = fact(Integer(0, 999_999_999), default=1, stix=Stix("count"))
    first_seen: datetime | None = fact(Timestamp(), default=None, stix=Stix("first_seen"))
    last_seen: datetime | None = fact(Timestamp(), default=None, stix=Stix("last_seen"))
    tlp: str = fact(Marking(), default="amber")
    description: str | None = fact(FreeText(), default=None, stix=Stix("description"))
    confidence: int | None = fact(Integer(0, 100), default=None, stix=Stix("confidence"))
