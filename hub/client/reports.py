"""Filing a report of an abused IaaS account: facts in, a signed report submitted, a result out.

The service behind ``abusehub report new`` (and the analysts' web page), over a
:class:`~hub.client.taxii.TaxiiClient`:

1. the facts (a TOML file or a mapping, :func:`load_facts`) are checked
   (:meth:`hub.stix.report.ReportFacts.from_mapping`, every problem listed);
2. the signing identity must be the provider the facts name;
3. the account id and the holder's personal values are pseudonymised through the hub
   (normalised here first, exactly as the builder will ask for them: :func:`pseudonym_values`):
   obliviously where the hub offers it, blinded here, evaluated by the hub in ONE request to
   ``<api root>pseudonyms/evaluate`` with a proof per kind checked against the hub's published
   (or a pinned) key, so that the hub never sees a value
   (:meth:`~hub.client.taxii.TaxiiClient.pseudonymise`); an answer that does not verify stops
   here, and nothing is submitted. A hub that publishes no pseudonym key stops here too
   (:class:`~hub.client.taxii.NoObliviousPseudonyms`, nothing sent), unless the caller allows
   the values in clear (``allow_clear_values``, never with a pinned key);
4. the STIX objects are built from those pseudonyms (:func:`hub.stix.report.build_report`),
   signed (:func:`hub.signing.documents.sign_objects`) and every signed object validated
   locally (:func:`local_problems`); this is :func:`prepare_report`, and a dry run stops here;
5. the objects are submitted in one envelope, the status resource is followed, and a
   :class:`ReportResult` says what was stored, already stored, refused (with the hub's reasons)
   or still pending (:func:`submit_report`; :func:`file_report` does 1-5).

A later report about the same account with new facts (a later ``last_seen``, ``terminated``)
carries a new user-account object: its id follows the account's facts, because an observable has
no versions (:func:`hub.stix.report.build_report`). The same facts filed again are "already
stored".

Raw personal values stay in memory: only their blinded elements leave this machine (an older
hub without ``pseudonyms/key`` gets them in the body of ``POST pseudonyms/`` only where the
caller passed ``allow_clear_values``); they are never written, printed or logged, and no message
of this module contains one (problems name fields and kinds only).

Problems found before anything reaches the hub's collection are :class:`LocalProblems` (one line
each); the hub's refusals of the requests themselves are the other
:class:`~hub.client.errors.ClientError` subclasses.
"""

from __future__ import annotations

import os
import tomllib
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import orjson

from hub.client.errors import ClientError
from hub.pseudonyms import PERSONAL_KINDS, POPRF_PSEUDONYM_RE, normalise, provider_account_value
from hub.signing.documents import sign_objects
from hub.signing.errors import SigningError
from hub.signing.keys import SigningKey
from hub.stix.pii import scan_object
from hub.stix.report import InvalidReportFacts, ReportFacts, build_report
from hub.stix.validator import validate

if TYPE_CHECKING:  # the HTTP layer is imported when a report is sent: the checks run without it
    from hub.client.taxii import Outcome, StatusResource, TaxiiClient

__all__ = [
    "REPORT_TEMPLATE",
    "LocalProblems",
    "MappedPseudonymiser",
    "PreparedReport",
    "ReportResult",
    "ReportState",
    "check_identity",
    "file_report",
    "load_facts",
    "load_signing_key",
    "local_problems",
    "prepare_report",
    "pseudonym_values",
    "read_facts",
    "submit_report",
]

#: What ``abusehub report template`` prints (also ``deploy/report-example.toml``). The personal
#: values in it are fictional (reserved example domain, a 555 number, a test card number).
REPORT_TEMPLATE = '''\
# Facts about one abused IaaS account, for `abusehub report new FACTS.toml`.
# Times are TOML date-times with a zone (2025-03-01T09:30:00Z) or dates (midnight UTC).
# Only pseudonyms of the account id and of the [personal] values leave this machine: each value
# is normalised and blinded here, the hub evaluates the blinded value (RFC 9497) without seeing
# it, and this file stays here.

# Your organisation: its STIX identity id at the hub (`abusehub party list`) and its name.
# `--as` must name the same identity.
provider_identity_id = "identity--00000000-0000-4000-8000-000000000000"
provider_name = "Example Cloud"

# The abused account: its id in your systems (pseudonymised), and how it was obtained.
provider_account_id = "acct-0042-9917"
acquisition = "direct-signup"     # direct-signup | reseller | compromised
# With acquisition = "reseller", name the reseller too:
# reseller_identity_id = "identity--…"
# reseller_name = "Resell Co"
kyc_status = "unverified"         # verified | unverified | failed | pending | exempt
declared_country = "US"           # ISO 3166 alpha-2, as the holder declared it (optional)

account_created = 2025-02-10T08:00:00Z
first_abuse_seen = 2025-02-12T21:14:00Z
last_seen = 2025-02-14T02:40:00Z

# What was abused: IPv4/IPv6 addresses or CIDR blocks, domain names, URLs.
resources = [
    "203.0.113.45",
    "2001:db8::45",
    "login-update.example",
    "https://login-update.example/verify",
]
# command-and-control | phishing | malware-hosting | scanning | proxy-anonymisation |
# credential-stuffing | spam | ddos | cryptomining | data-exfiltration | fraud | other
abuse_types = ["phishing", "scanning"]

# Free text for every reader of the collection: no names, e-mails, phones or card numbers.
summary = "Phishing kit served from a trial account; the same VMs scanned for SSH."

action_taken = "suspended"        # none | suspended | terminated | resources-reclaimed | referred
action_taken_at = 2025-02-14T03:05:00Z   # required unless action_taken = "none"
confidence = 80                   # 0-100 (optional)
indicator_validity_days = 90
# report_name = "Phishing from a trial account"   # optional
# phone_region = "US"   # region of phone numbers written without +; default declared_country

# Markings: who may read the report. Every object of it carries the TLP marking, and the lists
# below in the hub's sharing extension, covered by your signature.
tlp = "amber"                     # clear | green | amber | amber+strict | red
# With tlp = "amber": the organisations (as the hubs' parties name theirs) whose hubs may receive
# it; without, it stays at this hub. (amber+strict reaches only hubs of your own organisation.)
# share_with = ["USA.EXAMPLECLOUD"]
# With tlp = "red", required: the identity ids (`abusehub party list`) of the parties that may
# read it, at this hub or at a hub that serves them; you always may.
# recipients = ["identity--00000000-0000-4000-8000-000000000001"]
# An ACS 3.0 marking (as AIS 2.0 shares), made from a few choices, each optional: then only
# readers who accepted the programme's terms, and of these countries, organisations and entity
# types, may read the report.
# acs_countries = ["USA"]                # ISO 3166 alpha-3
# acs_organisations = ["USA.DHS"]        # organisation codes
# acs_entities = ["GOV", "CTR"]          # MIL | GOV | CTR | SVR | SVC | DEV | NET
# acs_further_sharing = false            # may the hubs that receive it share it further
# acs_custodian = "USA.EXAMPLECLOUD"     # your organisation's code; required with any acs_ choice

# The holder's personal data as given at sign-up (all optional; fictional examples below).
[personal]
email = "holder@example.com"
phone = "+1 415 555 2671"
payment_instrument = "4111 1111 1111 1111"   # a card number or an IBAN
name = "Jane Example"
address = "1 Main St, Springfield, IL 62701"

# Values pseudonymised elsewhere already (e.g. by another tool of yours) can be given as their
# pseudonyms instead, by kind (provider_account, email, phone, payment_instrument, name,
# address); a kind is given as a value or as a pseudonym, not both.
# [pseudonyms]
# email = "poprf-r255:k1:…"
'''


class LocalProblems(ClientError):
    """Problems found before anything was submitted; ``problems`` holds one line each."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


# -- the facts -----------------------------------------------------------------------------------


def read_facts(path: str | os.PathLike[str], overrides: Mapping[str, Any] | None = None) -> ReportFacts:
    """The facts of ``path`` (TOML), with ``overrides`` (field -> value, None meaning "not
    given") taking precedence.

    Raises :class:`LocalProblems` naming the file and every problem (never a value).
    """
    try:
        with open(path, "rb") as f:
            table = tomllib.load(f)
    except OSError as exc:
        raise LocalProblems([f"cannot read {path}: {exc.strerror}"]) from None
    except tomllib.TOMLDecodeError as exc:
        # tomllib's messages give the line and column, not the text there.
        raise LocalProblems([f"{path} is not valid TOML: {exc}"]) from None
    return _facts(table, overrides, f"{path}: ")


def load_facts(source: str | os.PathLike[str] | Mapping[str, Any],
               overrides: Mapping[str, Any] | None = None) -> ReportFacts:
    """The facts from a TOML file (a path) or from a mapping (e.g. a web form, parsed JSON),
    with ``overrides`` taking precedence; :class:`LocalProblems` lists every problem."""
    if isinstance(source, Mapping):
        return _facts(dict(source), overrides, "")
    return read_facts(source, overrides)


def _facts(table: dict[str, Any], overrides: Mapping[str, Any] | None, where: str) -> ReportFacts:
    table.update({k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        return ReportFacts.from_mapping(table)
    except InvalidReportFacts as exc:
        raise LocalProblems([f"{where}{p}" for p in exc.found]) from None


def check_identity(identity: str, facts: ReportFacts) -> None:
    """The signing identity must be the provider the facts name (a report is signed by its
    provider); :class:`LocalProblems` otherwise."""
    if not identity.startswith("identity--"):
        raise LocalProblems([f"--as takes your organisation's identity id (identity--…), not "
                             f"{identity!r}: the one in provider_identity_id, which the hub "
                             "operator reads from 'abusehub party list'"])
    if identity != facts.provider_identity_id:
        raise LocalProblems([f"--as {identity} is not the provider the facts name "
                             f"(provider_identity_id {facts.provider_identity_id}): "
                             "a report is signed by its provider"])


def load_signing_key(path: str | os.PathLike[str]) -> SigningKey:
    """The private signing key in a PEM file; :class:`LocalProblems` naming the file otherwise."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise LocalProblems([f"cannot read key {path}: {exc.strerror}"]) from None
    try:
        return SigningKey.from_pem(data)
    except ValueError as exc:
        raise LocalProblems([f"key {path}: {exc}"]) from None


# -- pseudonyms ----------------------------------------------------------------------------------


def pseudonym_values(facts: ReportFacts) -> list[tuple[str, str]]:
    """The ``(kind, value)`` pairs :func:`~hub.stix.report.build_report` will ask pseudonyms
    for: the provider-scoped account id, then each personal value, normalised (none for the
    kinds the facts already give as pseudonyms)."""
    values = []
    if facts.provider_account_id is not None and "provider_account" not in facts.pseudonyms:
        values.append(("provider_account",
                       provider_account_value(facts.provider_identity_id, facts.provider_account_id)))
    region = facts.personal_region
    values += [(kind, normalise(kind, facts.personal[kind], default_region=region))
               for kind in PERSONAL_KINDS if kind in facts.personal]
    return values


class MappedPseudonymiser:
    """A :class:`~hub.pseudonyms.Pseudonymiser` answering from pseudonyms the hub already made.

    A value it was not given is an error (fail closed: nothing is pseudonymised locally).
    The repr shows only the number of values.
    """

    __slots__ = ("_by_value",)

    def __init__(self, values: Sequence[tuple[str, str]], pseudonyms: Sequence[str]) -> None:
        if len(values) != len(pseudonyms):
            raise ValueError("one pseudonym per value")
        self._by_value = dict(zip(values, pseudonyms, strict=True))

    def pseudonym(self, kind: str, value: str) -> str:
        """The hub's pseudonym of ``value``; :class:`ClientError` (naming the kind only) if the
        hub was not asked for it."""
        try:
            return self._by_value[(kind, value)]
        except KeyError:
            raise ClientError(f"no pseudonym from the hub for a value of kind {kind}") from None

    def __repr__(self) -> str:
        return f"MappedPseudonymiser({len(self._by_value)} values)"


def local_problems(objects: Sequence[dict[str, Any]]) -> list[str]:
    """Every problem the hub's validator and personal-data scan find, one per line, each
    starting with the object's id."""
    problems = []
    for obj in objects:
        oid = obj.get("id", obj.get("type", "?"))
        problems += [f"{oid}: {p}" for p in validate(obj)]
        problems += [f"{oid}: {p}" for p in scan_object(obj)]
    return problems


# -- building, signing, submitting ---------------------------------------------------------------


@dataclass(frozen=True)
class PreparedReport:
    """A report built from pseudonyms, signed and validated: ready to submit or to show."""

    objects: list[dict[str, Any]]
    identity: str
    key_id: str
    #: How many values went to the hub in clear (``allow_clear_values`` and a hub without
    #: oblivious pseudonyms): their pseudonyms are the hub's word, with no proof. 0 otherwise.
    sent_in_clear: int = 0

    @property
    def report_id(self) -> str:
        """The id of the STIX report (the last object)."""
        return str(self.objects[-1]["id"])

    def bundle(self) -> bytes:
        """The signed objects as an indented STIX 2.1 bundle (pseudonyms only, no raw value)."""
        return orjson.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": self.objects},
                            option=orjson.OPT_INDENT_2) + b"\n"


def prepare_report(client: TaxiiClient, facts: ReportFacts, key: SigningKey, identity: str, *,
                   now: datetime | None = None, source: str = "",
                   pinned: Mapping[str, bytes] | None = None,
                   allow_clear_values: bool = False) -> PreparedReport:
    """Pseudonymise through the hub (oblivious: one request), build, sign as ``identity`` with
    ``key``, and validate every signed object locally.

    ``pinned`` (key version -> POPRF public key) is checked instead of the key the hub publishes.
    ``allow_clear_values`` lets the values go in clear to a hub that publishes no pseudonym key
    (one known to be older; never with ``pinned``). ``source`` (e.g. the facts file) starts the
    builder's problem lines. Raises :class:`LocalProblems` for problems of the facts, the
    identity, the signature or the objects, and the client's errors when the hub cannot
    pseudonymise (:class:`~hub.client.taxii.UnverifiableAnswer` when its answer does not verify,
    :class:`~hub.client.taxii.NoObliviousPseudonyms` when it makes no oblivious pseudonyms and
    the values may not go in clear: nothing was sent).
    """
    check_identity(identity, facts)
    values = pseudonym_values(facts)
    pseudonyms = client.pseudonymise(values, pinned=pinned, allow_clear_values=allow_clear_values)
    # The oblivious path makes poprf-r255: pseudonyms only; any other came from values in clear.
    in_clear = sum(1 for p in pseudonyms if not POPRF_PSEUDONYM_RE.match(p))
    try:
        objects = build_report(facts, MappedPseudonymiser(values, pseudonyms), now=now)
    except InvalidReportFacts as exc:
        where = f"{source}: " if source else ""
        raise LocalProblems([f"{where}{p}" for p in exc.found]) from None
    try:
        signed = sign_objects(objects, key, identity)
    except SigningError as exc:
        raise LocalProblems([f"signing: {exc}"]) from None
    problems = local_problems(signed)
    if problems:
        raise LocalProblems(problems)
    return PreparedReport(signed, identity, key.key_id, in_clear)


ReportState = Literal["dry run", "stored", "already stored", "refused", "pending"]


@dataclass(frozen=True)
class ReportResult:
    """What became of a report: built only (dry run), or submitted with the hub's outcome.

    :attr:`state` sums it up: ``refused`` when the hub refused any object (``refused`` lists
    ``(id, reason)``), ``pending`` when it had not judged every object when the wait ended,
    ``already stored`` when every object was there already, else ``stored``.
    """

    prepared: PreparedReport
    collection: str | None = None
    outcome: Outcome | None = None
    status_url: str | None = None

    @property
    def objects(self) -> list[dict[str, Any]]:
        """The signed objects."""
        return self.prepared.objects

    @property
    def report_id(self) -> str:
        """The id of the STIX report."""
        return self.prepared.report_id

    @property
    def submitted(self) -> bool:
        """False for a dry run."""
        return self.outcome is not None

    @property
    def stored(self) -> list[str]:
        """The ids the hub stored now."""
        return self.outcome.stored if self.outcome else []

    @property
    def already_stored(self) -> list[str]:
        """The ids the hub held already."""
        return self.outcome.already_stored if self.outcome else []

    @property
    def refused(self) -> list[tuple[str, str]]:
        """``(id, reason)`` of each object the hub refused."""
        return self.outcome.refused if self.outcome else []

    @property
    def pending(self) -> list[str]:
        """The ids the hub had not judged when the wait ended."""
        return self.outcome.pending if self.outcome else []

    @property
    def state(self) -> ReportState:
        """One word for the whole report (see the class)."""
        if self.outcome is None:
            return "dry run"
        if self.outcome.refused:
            return "refused"
        if not self.outcome.complete:
            return "pending"
        if self.outcome.already_stored and not self.outcome.stored:
            return "already stored"
        return "stored"


def submit_report(client: TaxiiClient, collection_id: str, prepared: PreparedReport, *,
                  wait: float | None = 120.0,
                  on_submitted: Callable[[StatusResource], None] | None = None) -> ReportResult:
    """Submit the signed objects in one envelope and follow the status for up to ``wait``
    seconds (None: do not follow). ``on_submitted`` hears of the first status resource, before
    the status is followed (to show its id)."""
    from hub.client.taxii import read_outcome

    status = client.add_objects(collection_id, prepared.objects)
    if on_submitted is not None:
        on_submitted(status)
    if wait is not None and not status.complete:
        status = client.follow_status(status, timeout=wait)
    return ReportResult(prepared, collection_id, read_outcome(status), f"{client.api}status/{status.id}/")


def file_report(client: TaxiiClient, collection_id: str, facts: ReportFacts | Mapping[str, Any],
                key: SigningKey, identity: str, *, dry_run: bool = False, wait: float | None = 120.0,
                now: datetime | None = None, pinned: Mapping[str, bytes] | None = None,
                allow_clear_values: bool = False) -> ReportResult:
    """The whole path: facts (checked :class:`~hub.stix.report.ReportFacts`, or a mapping to
    check) -> pseudonyms -> build -> sign -> validate -> submit -> status -> result.

    A dry run stops before submitting: its result holds the signed objects only.
    ``pinned`` and ``allow_clear_values`` are :func:`prepare_report`'s.
    """
    if not isinstance(facts, ReportFacts):
        facts = load_facts(facts)
    prepared = prepare_report(client, facts, key, identity, now=now, pinned=pinned,
                              allow_clear_values=allow_clear_values)
    if dry_run:
        return ReportResult(prepared)
    return submit_report(client, collection_id, prepared, wait=wait)
