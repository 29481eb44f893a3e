"""The facts of a report of an abused IaaS account, and of a sighting: the one table of them.

:class:`ReportFacts` is what an analyst knows about one abused account (the TOML file of
``abusehub report new``, the web page's form), :class:`SightingFacts` what another party saw.
Each field is declared once, with :func:`~hub.stix.facts.fact`: its type and vocabulary, when it
is required or allowed, the pseudonym it may be given as, and the property of the IaaS-account
extension (``schemas/iaas-account``) it becomes. From this table come the checks of the facts
(on construction, every problem a :class:`~hub.common.problems.Problem` naming its field), the
extension's check on ingest (:func:`hub.stix.iaas.check_iaas_extension`), the extension's JSON
Schema (:func:`hub.stix.iaas.extension_schema`), the properties the builder writes
(:mod:`hub.stix.report`) and the web page's form (:mod:`hub.web.filing`: each fact's
:class:`~hub.stix.facts.Form` says its label and section). Adding a fact is one field here
(docs/CONTRIBUTING.md).

The report's markings are facts too: ``tlp``; ``recipients`` (TLP:RED) and ``share_with``
(TLP:AMBER), which the builder writes in the hub's sharing extension on every object of the
report; and a few plain ACS 3.0 choices (``acs_countries``, ``acs_organisations``,
``acs_entities``, ``acs_further_sharing``, with ``acs_custodian``) that the builder turns into
one ACS marking-definition.
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
    Boolean,
    Choice,
    Country,
    Facts,
    Form,
    Found,
    FreeText,
    Integer,
    InvalidFacts,
    ListOf,
    Marking,
    OpenVocabulary,
    Order,
    Pseudonym,
    RequiredWith,
    Stix,
    StixId,
    Table,
    Text,
    Timestamp,
    Type,
    When,
    fact,
)
from hub.stix.sharing import ENTITY_TYPES
from hub.stix.vocab import (
    ABUSE_TYPE_OV,
    ABUSED_RESOURCE_TYPES,
    ACQUISITION_ENUM,
    ACTION_TAKEN_ENUM,
    KYC_STATUS_ENUM,
)

__all__ = [
    "ABUSE_TYPE_INFRASTRUCTURE",
    "ACS_CHOICES",
    "FORM_SECTIONS",
    "ISO3166_ALPHA3",
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

#: ISO 3166-1 alpha-3 country codes (ACS 3.0 names nationalities by their GENC codes, which are
#: these for the countries both list).
ISO3166_ALPHA3 = frozenset("""
    ABW AFG AGO AIA ALA ALB AND ARE ARG ARM ASM ATA ATF ATG AUS AUT AZE BDI BEL BEN BES BFA
    BGD BGR BHR BHS BIH BLM BLR BLZ BMU BOL BRA BRB BRN BTN BVT BWA CAF CAN CCK CHE CHL CHN
    CIV CMR COD COG COK COL COM CPV CRI CUB CUW CXR CYM CYP CZE DEU DJI DMA DNK DOM DZA ECU
    EGY ERI ESH ESP EST ETH FIN FJI FLK FRA FRO FSM GAB GBR GEO GGY GHA GIB GIN GLP GMB GNB
    GNQ GRC GRD GRL GTM GUF GUM GUY HKG HMD HND HRV HTI HUN IDN IMN IND IOT IRL IRN IRQ ISL
    ISR ITA JAM JEY JOR JPN KAZ KEN KGZ KHM KIR KNA KOR KWT LAO LBN LBR LBY LCA LIE LKA LSO
    LTU LUX LVA MAC MAF MAR MCO MDA MDG MDV MEX MHL MKD MLI MLT MMR MNE MNG MNP MOZ MRT MSR
    MTQ MUS MWI MYS MYT NAM NCL NER NFK NGA NIC NIU NLD NOR NPL NRU NZL OMN PAK PAN PCN PER
    PHL PLW PNG POL PRI PRK PRT PRY PSE PYF QAT REU ROU RUS RWA SAU SDN SEN SGP SGS SHN SJM
    SLB SLE SLV SMR SOM SPM SRB SSD STP SUR SVK SVN SWE SWZ SXM SYC SYR TCA TCD TGO THA TJK
    TKL TKM TLS TON TTO TUN TUR TUV TWN TZA UGA UKR UMI URY USA UZB VAT VCT VEN VGB VIR VNM
    VUT WLF WSM YEM ZAF ZMB ZWE
""".split())

# Anchored with \Z: $ also matches before a final newline.
_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)\Z")
_TLD_RE = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})\Z")
# An ACS organisation code (isa-acs-3-0.json's custodian pattern, anchored): USA.DHS.
_ORG_CODE_RE = re.compile(r"^[A-Z0-9]+\.[A-Z0-9]+(?:\.[A-Z0-9][A-Z0-9-]+)?\Z")
# An organisation of the sharing extension: 1 to 200 printable characters.
_ORGANISATION_MAX = 200


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


class CountryAlpha3(Type):
    """An ISO 3166-1 alpha-3 code (:data:`ISO3166_ALPHA3`); any case, kept in upper case."""

    choices = tuple(sorted(ISO3166_ALPHA3))

    def read(self, value: Any, path: str, found: Found, raw: Mapping[str, Any]) -> Any:
        code = value.strip().upper() if isinstance(value, str) else None
        if code not in ISO3166_ALPHA3:
            found.add(Code.NOT_IN_VOCABULARY, path, f"{path} must be an ISO 3166-1 alpha-3 code such as 'USA'")
            return INVALID
        return code


class OrganisationCode(Type):
    """An ACS organisation code, ``AAA.BBB`` or ``AAA.BBB.CCC`` (letters and digits, the last
    part hyphens too): ``USA.DHS``. Any case, kept in upper case."""

    def read(self, value: Any, path: str, found: Found, raw: Mapping[str, Any]) -> Any:
        code = value.strip().upper() if isinstance(value, str) else ""
        if not _ORG_CODE_RE.match(code):
            found.add(Code.INVALID_VALUE, path,
                      f"{path} must be an organisation code such as USA.DHS (AAA.BBB or AAA.BBB.CCC)")
            return INVALID
        return code


class Organisation(Text):
    """An organisation as the hub's parties name theirs: 1 to 200 printable characters (the
    sharing extension's ``organisations``), kept without surrounding space."""

    def read(self, value: Any, path: str, found: Found, raw: Mapping[str, Any]) -> Any:
        if super().read(value, path, found, raw) is INVALID:
            return INVALID
        name = value.strip()
        if not (0 < len(name) <= _ORGANISATION_MAX and name.isprintable()):
            found.add(Code.INVALID_VALUE, path,
                      f"{path} must be an organisation name of 1 to {_ORGANISATION_MAX} printable characters")
            return INVALID
        return name


RESELLER = When("acquisition", "reseller")
ACTED = When("action_taken", not_equals="none")
RED = When("tlp", "red")
AMBER_ANY = When("tlp", ("amber", "amber+strict"))
#: The ACS choices: any of them given, the builder adds an ACS 3.0 marking (and needs
#: ``acs_custodian``).
ACS_CHOICES = ("acs_countries", "acs_organisations", "acs_entities", "acs_further_sharing")

# The sections of the filing form (hub.web.filing), in the order the page shows them.
PROVIDER = "Provider and account"
WHEN = "When"
ABUSE = "What was abused"
ACTION = "Action"
SHARING = "Sharing and markings"
PERSONAL = "The holder's personal data (optional)"
#: The form's sections in the order of the page (a section named by a fact and not listed here
#: comes after them).
FORM_SECTIONS = (PROVIDER, WHEN, ABUSE, ACTION, SHARING, PERSONAL)


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
    rules = (Order("account_created", "first_abuse_seen", "last_seen"),
             RequiredWith("acs_custodian", *ACS_CHOICES))

    provider_identity_id: str = fact(
        StixId("identity"), required=True,
        help="Your organisation's STIX identity id at the hub (abusehub party list).",
        stix=Stix("provider_ref", required=True,
                  help="The identity of the cloud provider that holds the account."),
        form=Form("Signed as", PROVIDER))
    provider_name: str = fact(FreeText(), required=True, help="Your organisation's name.",
                              form=Form("Provider name", PROVIDER, hint=""))
    provider_account_id: str | None = fact(
        Text(), required=True, alternative="pseudonyms.provider_account", secret=True, default=None,
        help="The account's id in your systems (only its pseudonym leaves your machine).",
        stix=Stix("provider_account_pseudonym", Pseudonym(), required=True, derived=True,
                  help="Keyed pseudonym of the provider's own account identifier."),
        form=Form("Account id in your systems", PROVIDER,
                  hint="Pseudonymised in your browser: the hub never sees it."))
    account_created: datetime = fact(
        Timestamp(), required=True,
        stix=Stix("account_created", help="When the account was opened."),
        form=Form("Account created (UTC)", WHEN, hint="e.g. 2025-02-10T08:00:00Z"))
    first_abuse_seen: datetime = fact(
        Timestamp(), required=True,
        stix=Stix("first_abuse_seen", required=True, help="When abuse from the account was first seen."),
        form=Form("First abuse seen (UTC)", WHEN))
    last_seen: datetime = fact(
        Timestamp(), required=True,
        stix=Stix("last_seen", help="When activity of the account was last seen."),
        form=Form("Last seen (UTC)", WHEN))
    acquisition: str = fact(
        Choice(ACQUISITION_ENUM), required=True,
        stix=Stix("acquisition", required=True, help="How the abuser obtained the account."),
        form=Form("How the account was obtained", PROVIDER))
    reseller_identity_id: str | None = fact(
        StixId("identity"), required=RESELLER, only_when=RESELLER, default=None,
        stix=Stix("reseller_ref", required=RESELLER, only_when=RESELLER,
                  help="The reseller the account was bought through; only with acquisition 'reseller'."),
        form=Form("Reseller identity id", PROVIDER, hint="Only when obtained through a reseller (identity--…)."))
    reseller_name: str | None = fact(FreeText(), required=RESELLER, only_when=RESELLER, default=None,
                                     form=Form("Reseller name", PROVIDER))
    kyc_status: str = fact(
        Choice(KYC_STATUS_ENUM), required=True,
        stix=Stix("kyc_status", required=True, help="Outcome of the provider's know-your-customer check."),
        form=Form("KYC status", PROVIDER))
    declared_country: str | None = fact(
        Country(), default=None,
        stix=Stix("declared_country",
                  help="Country the account holder declared, ISO 3166-1 alpha-2, upper case."),
        form=Form("Declared country", PROVIDER, hint="ISO 3166 alpha-2, as the holder declared it, e.g. US."))
    personal: Mapping[str, str] = fact(
        PersonalValues(PERSONAL_KINDS, Text(), "kind = value"), alternative="pseudonyms", secret=True,
        default_factory=dict,
        stix=Stix("pseudonyms", Table(PERSONAL_KINDS, Pseudonym(), "kind = pseudonym"), derived=True,
                  help="Keyed pseudonyms of the holder's personal data; the values themselves never "
                       "leave the provider."),
        form=Form("Personal data", PERSONAL))
    resources: tuple[str, ...] = fact(
        ListOf(Resource(), "abused resource", unique=True), required=True,
        stix=Stix("abused_resource_refs", ListOf(StixId(*ABUSED_RESOURCE_TYPES), "abused resource"),
                  required=True, derived=True, help="The network resources the account was used to run."),
        form=Form("Abused resources", ABUSE, rows=5,
                  hint="One per line: IPv4/IPv6 addresses or CIDR blocks, domain names, URLs."))
    abuse_types: tuple[str, ...] = fact(
        ListOf(Choice(ABUSE_TYPE_OV, noun="abuse type"), "abuse type"), required=True,
        stix=Stix("abuse_types", ListOf(OpenVocabulary("abuse-type-ov", ABUSE_TYPE_OV), "abuse type"),
                  required=True, help=f"Open vocabulary abuse-type-ov: {', '.join(ABUSE_TYPE_OV)}."),
        form=Form("Abuse types", ABUSE))
    action_taken: str = fact(
        Choice(ACTION_TAKEN_ENUM), default="none",
        stix=Stix("action_taken", help="What the provider did about the account."),
        form=Form("Action taken", ACTION))
    action_taken_at: datetime | None = fact(
        Timestamp(), required=ACTED, default=None,
        stix=Stix("action_taken_at", required=ACTED,
                  help="When the action was taken; required unless action_taken is 'none'."),
        form=Form("Action taken at (UTC)", ACTION, hint="Required unless the action is none."))
    confidence: int | None = fact(
        Integer(0, 100), default=None,
        stix=Stix("confidence",
                  help="The reporter's confidence that the account is abused (STIX confidence scale)."),
        form=Form("Confidence (0-100, optional)", ACTION))
    # Free text goes to every reader of the collection: no personal data in it.
    summary: str = fact(
        FreeText(), required=True, help="What happened, for every reader.",
        form=Form("Summary", ABUSE, rows=3,
                  hint="Read by every reader of the collection: no names, e-mails, phones or card numbers."))
    pseudonyms: Mapping[str, str] = fact(
        Table(PSEUDONYM_KINDS, Pseudonym(), "kind = pseudonym"), default_factory=dict,
        help="Pseudonyms made where the values are, by kind.")
    phone_region: str | None = fact(
        Country(), default=None, help="Region of phone numbers written without +.",
        form=Form("Phone region", PERSONAL,
                  hint="Region of phone numbers written without +; default: the declared country."))
    # The markings: TLP, who may read (RED) or receive (AMBER), and an ACS 3.0 marking.
    tlp: str = fact(Marking(), default="amber", help="The TLP marking of the report.",
                    form=Form("TLP", SHARING, hint=""))
    recipients: tuple[str, ...] | None = fact(
        ListOf(StixId("identity"), "recipient", unique=True), required=RED, only_when=RED, default=None,
        help="TLP:RED only, and required then: the identity ids of the parties that may read the "
             "report (abusehub party list; you always may).",
        form=Form("Recipients (TLP:RED)", SHARING, rows=2,
                  hint="TLP:RED only, and required then: one identity id (identity--…) per line, of each "
                       "party that may read the report."))
    share_with: tuple[str, ...] | None = fact(
        ListOf(Organisation(), "organisation", unique=True), only_when=AMBER_ANY, default=None,
        help="TLP:AMBER or AMBER+STRICT only: the organisations whose hubs may receive the report "
             "(AMBER+STRICT reaches only hubs of your own organisation whatever it names).",
        form=Form("Share with organisations (TLP:AMBER)", SHARING, rows=2,
                  hint="TLP:AMBER only: one organisation per line whose hubs may receive the report; "
                       "without it, the report stays at this hub."))
    acs_countries: tuple[str, ...] | None = fact(
        ListOf(CountryAlpha3(), "country", unique=True), default=None,
        help="ACS: only readers of these countries (ISO 3166 alpha-3).",
        form=Form("ACS: readers' countries", SHARING, rows=1,
                  hint="ISO 3166 alpha-3, one per line, e.g. USA: only readers of these countries."))
    acs_organisations: tuple[str, ...] | None = fact(
        ListOf(OrganisationCode(), "organisation", unique=True), default=None,
        help="ACS: only readers of these organisations (organisation codes such as USA.DHS).",
        form=Form("ACS: readers' organisations", SHARING, rows=1,
                  hint="Organisation codes, one per line, e.g. USA.DHS: only readers of these organisations."))
    acs_entities: tuple[str, ...] | None = fact(
        ListOf(Choice(ENTITY_TYPES, noun="entity type"), "entity type", unique=True), default=None,
        help="ACS: only readers of these entity types.",
        form=Form("ACS: readers' entity types", SHARING))
    acs_further_sharing: bool = fact(
        Boolean(), default=False, help="ACS: whether receiving hubs may share it further.",
        form=Form("ACS: may be shared further", SHARING))
    acs_custodian: str | None = fact(
        OrganisationCode(), default=None,
        help="ACS: your organisation's code (e.g. USA.EXAMPLECLOUD), the marking's custodian; "
             "required with any ACS choice.",
        form=Form("ACS custodian", SHARING,
                  hint="Your organisation's code, e.g. USA.EXAMPLECLOUD; required with any ACS choice."))
    indicator_validity_days: int = fact(Integer(1, 3650), default=90,
                                        help="How long the indicators are valid.",
                                        form=Form("Indicators valid for (days)", ACTION, hint=""))
    report_name: str | None = fact(FreeText(), default=None, help="The report's name.",
                                   form=Form("Report name (optional)", ABUSE, hint=""))

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
