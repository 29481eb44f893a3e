"""Notices on the parties' side: an agency issues and withdraws them, a provider matches its own
accounts against the notices in force and acknowledges them.

The service behind ``abusehub notice ...``, over a :class:`~hub.client.taxii.TaxiiClient`:

- **issue** (:func:`issue_notice`): facts (a TOML file, :func:`read_notice_facts`, checked by
  :class:`hub.stix.notice_facts.NoticeFacts`) -> the notice object (:func:`hub.stix.notice.build_notice`)
  -> signed as the agency -> validated here -> submitted, the status followed;
- **withdraw** (:func:`withdraw_notice`): the notice's next version saying it is withdrawn, signed
  and submitted the same way;
- **the notices** (:func:`newest_versions`, :func:`fetch_notices`, :func:`read_notice_lines`): the
  newest version of each, from the hub or from a file ``abusehub notice poll`` keeps;
- **match** (:func:`read_accounts`, :func:`match_accounts`): the provider's account list (CSV or
  JSON lines) against every notice in force, here. Personal values and account ids are
  pseudonymised with the hub's oblivious protocol (:mod:`hub.client.oprf`: blinded here, the hub
  never sees them) and kept in a cache on the provider's side (:class:`PseudonymCache`) per key
  version, so that only new values are evaluated, and notices issued under an older key version
  keep matching after a rotation. A row that does not parse is named with its reason; the others
  are matched;
- **ack** (:func:`acknowledge`): the provider's signed answer, TLP:RED for the issuing agency and
  the provider;
- **respond** (:func:`respond`, :func:`read_answer`): the provider's response to a
  preservation-request (what it preserved, its reference) or an information-request (the
  answer's values pseudonymised with the oblivious protocol, so only pseudonyms leave), an
  acknowledgement with response fields, signed and marked like every acknowledgement.

Values of the account file stay on this machine: only blinded elements leave it; no message of
this module holds a personal value.
"""

from __future__ import annotations

import csv
import hashlib
import io
import ipaddress
import json
import os
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from hub.client.errors import ClientError
from hub.client.reports import LocalProblems, local_problems
from hub.pseudonyms import (
    HMAC_PSEUDONYM_RE,
    POPRF_PSEUDONYM_RE,
    InvalidPersonalValue,
    normalise,
    provider_account_value,
    pseudonym_version,
)
from hub.signing.documents import sign_objects
from hub.signing.errors import SigningError
from hub.signing.keys import SigningKey
from hub.stix.facts import Country
from hub.stix.notice import addressed_to, build_ack, build_notice, in_force, withdrawn_version
from hub.stix.notice_facts import (
    NOTICE_TYPE,
    RESPONSE_FOR,
    SCOPE_PSEUDONYM_KINDS,
    AckFacts,
    InvalidAckFacts,
    InvalidNoticeFacts,
    NoticeFacts,
    normal_registration,
    normal_reseller_name,
)
from hub.stix.report_facts import classify_resource

if TYPE_CHECKING:  # the HTTP layer is imported when a request is made: the checks run without it
    from hub.client.taxii import Outcome, TaxiiClient

__all__ = [
    "ACCOUNT_FIELDS",
    "CACHE_KEEPS_DAYS",
    "NOTICE_TEMPLATE",
    "NoticeMatch",
    "ProviderAccount",
    "PseudonymCache",
    "RowProblem",
    "acknowledge",
    "fetch_notice",
    "fetch_notices",
    "fetch_status",
    "issue_notice",
    "match_accounts",
    "newest_versions",
    "pseudonymise_accounts",
    "respond",
    "read_accounts",
    "read_answer",
    "read_notice_facts",
    "read_notice_lines",
    "withdraw_notice",
]

#: What ``abusehub notice template`` prints: a special measure, with the other kinds commented.
NOTICE_TEMPLATE = '''\
# A notice to the providers, for `abusehub notice issue FACTS.toml`; signed with your key.
# `--as` (your agency's identity id) is the issuer.
notice_kind = "special-measure"  # special-measure | preservation-request | information-request | advisory
title = "Special measure 2026-7: designated jurisdiction and reseller"
legal_reference = "Order 2026-7, section 3"
measures = ["prohibit-new-accounts", "enhanced-verification"]   # also: restrict, terminate
effective_from = 2026-12-01T00:00:00Z
# effective_until = 2027-12-01T00:00:00Z
# acknowledge_by = 2026-12-15T00:00:00Z   # default: effective_from (requests: respond_by)

# The scope: any of these.
jurisdictions = ["KP"]                   # ISO 3166 alpha-2: accounts declared there
resellers = [{ name = "Resell Co., Ltd.", country = "CN", registration_number = "91110000X" }]
# ip_ranges = ["203.0.113.0/24"]
# domains = ["bad.example"]               # and their sub-domains
# [account_pseudonyms]                    # pseudonyms, as reports carry them (key version inside)
# email = ["poprf-r255:k1:..."]

# Whom it addresses: every provider when left out, or these identities.
# addressee_refs = ["identity--..."]
tlp = "amber"                            # red: only the named addressees read it

# A preservation-request or information-request names the account and a date:
# report_ref = "report--..."   or   [account_pseudonyms] provider_account = ["poprf-r255:k1:..."]
# requested = "Preserve the account's sign-up and access logs."
# respond_by = 2026-12-20T00:00:00Z
# An advisory: description = "..." and indicator_patterns = ["[domain-name:value = 'bad.example']"]
'''

#: The columns of an account file (CSV header; JSON lines' members). ``ips`` and ``domains``
#: hold several values separated by spaces, commas or semicolons (JSON: a list or such a string).
ACCOUNT_FIELDS = ("account_id", "country", "reseller_name", "reseller_country", "reseller_registration",
                  "email", "phone", "payment_instrument", "ips", "domains")
_PERSONAL = ("email", "phone", "payment_instrument")
#: How long the cache keeps the pseudonyms of a key version after the hub last published it.
CACHE_KEEPS_DAYS = 365


# -- issuing ----------------------------------------------------------------------------------------


def read_notice_facts(path: str | os.PathLike[str], issuer: str) -> NoticeFacts:
    """The notice facts of the TOML file ``path``, issued by ``issuer`` (the file may name it in
    ``issuer_identity_id``, then the same); :class:`LocalProblems` naming every problem."""
    try:
        with open(path, "rb") as f:
            table = tomllib.load(f)
    except OSError as exc:
        raise LocalProblems([f"cannot read {path}: {exc.strerror}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise LocalProblems([f"{path} is not valid TOML: {exc}"]) from None
    if table.setdefault("issuer_identity_id", issuer) != issuer:
        raise LocalProblems([f"{path}: issuer_identity_id is not --as {issuer}: a notice is signed by its issuer"])
    try:
        return NoticeFacts.from_mapping(table)
    except InvalidNoticeFacts as exc:
        raise LocalProblems([f"{path}: {p}" for p in exc.found]) from None


def _sign(obj: dict[str, Any], key: SigningKey, identity: str) -> dict[str, Any]:
    try:
        signed = sign_objects([obj], key, identity)
    except SigningError as exc:
        raise LocalProblems([f"signing: {exc}"]) from None
    problems = local_problems(signed)
    if problems:
        raise LocalProblems(problems)
    return signed[0]


def _submit(client: TaxiiClient, collection: str, obj: dict[str, Any], wait: float) -> Outcome:
    from hub.client.taxii import read_outcome

    return read_outcome(client.submit(collection, [obj], wait=wait))


def issue_notice(client: TaxiiClient, collection: str, facts: NoticeFacts, key: SigningKey, identity: str, *,
                 now: datetime | None = None, wait: float = 120.0) -> tuple[dict[str, Any], Outcome]:
    """Build, sign as ``identity``, check and submit the notice; the signed notice and the outcome."""
    notice = _sign(build_notice(facts, now=now), key, identity)
    return notice, _submit(client, collection, notice, wait)


def fetch_notice(client: TaxiiClient, collection: str, notice_id: str) -> dict[str, Any]:
    """The newest version of one notice this party may read, by its id or by the number
    ``abusehub notice list`` shows it with; :class:`ClientError` otherwise."""
    if notice_id.isdigit():
        notices = fetch_notices(client, collection)
        if not 1 <= int(notice_id) <= len(notices):
            raise ClientError(f"no notice number {notice_id} in collection {collection} "
                              f"({len(notices)} notice(s): see abusehub notice list)")
        return notices[int(notice_id) - 1]
    if not notice_id.startswith(f"{NOTICE_TYPE}--"):
        raise ClientError(f"{notice_id!r} is not a notice id ({NOTICE_TYPE}--<uuid>)")
    objects = [o.data for o in client.get_object(collection, notice_id).objects]
    if not objects:
        raise ClientError(f"no notice {notice_id} in collection {collection}")
    return max(objects, key=lambda o: str(o.get("modified", "")))


def fetch_status(client: TaxiiClient, collection: str, notice_id: str) -> dict[str, Any]:
    """Who acted on a notice, as the hub computes it (``GET collections/{id}/notices/{notice}/status/``):
    read by the agency that issued it (and operators); :class:`ClientError` otherwise."""
    from hub.client.http import Call, json_object

    call = Call(f"reading the status of notice {notice_id}", denied=f"no read access to collection {collection}",
                missing=f"no notice {notice_id} in collection {collection} whose status you may read")
    resp = client._taxii_get(client._collection_url(collection, "notices", notice_id, "status"), call)
    body = json_object(resp, call)
    if not isinstance(body.get("addressees"), list):
        raise ClientError(f"{call.what}: the hub's answer is not a notice status")
    return body


def withdraw_notice(client: TaxiiClient, collection: str, notice_id: str, key: SigningKey, identity: str, *,
                    now: datetime | None = None, wait: float = 120.0) -> tuple[dict[str, Any], Outcome]:
    """Submit the notice's next version, withdrawn, signed as ``identity`` (its issuer)."""
    notice = fetch_notice(client, collection, notice_id)
    notice_id = str(notice["id"])
    if notice.get("created_by_ref") != identity:
        raise LocalProblems([f"{notice_id} was issued by {notice.get('created_by_ref')}, not --as {identity}"])
    if notice.get("withdrawn") is True:
        raise LocalProblems([f"{notice_id} is withdrawn already"])
    gone = _sign(withdrawn_version(notice, now=now), key, identity)
    return gone, _submit(client, collection, gone, wait)


def acknowledge(client: TaxiiClient, collection: str, notice_id: str, status: str, key: SigningKey,
                identity: str, *, accounts_affected: int | None = None, note: str | None = None,
                now: datetime | None = None, wait: float = 120.0) -> tuple[dict[str, Any], Outcome]:
    """The provider ``identity``'s answer to the notice, signed, TLP:RED for the issuing agency
    and the provider, submitted."""
    notice = fetch_notice(client, collection, notice_id)
    notice_id = str(notice["id"])
    if not addressed_to(notice, identity):
        raise LocalProblems([f"{notice_id} does not address {identity}"])
    try:
        facts = AckFacts(notice_ref=notice_id, notice_modified=notice["modified"], status=status,
                         accounts_affected=accounts_affected, note=note)
    except InvalidAckFacts as exc:
        raise LocalProblems([str(p) for p in exc.found]) from None
    ack = _sign(build_ack(facts, provider=identity, agency=str(notice["created_by_ref"]), now=now), key, identity)
    return ack, _submit(client, collection, ack, wait)


def read_answer(path: str | os.PathLike[str]) -> dict[str, list[str]]:
    """The answer to an information request in the TOML or JSON file ``path``: a table of
    ``kind = [values]`` (kinds: provider_account, email, phone, payment_instrument), each value
    in clear (pseudonymised by :func:`respond`, never sent in clear) or a pseudonym already;
    :class:`LocalProblems` naming every problem (never a value)."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise LocalProblems([f"cannot read {path}: {exc.strerror}"]) from None
    try:
        table = json.loads(raw) if raw.lstrip().startswith(b"{") else tomllib.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise LocalProblems([f"{path} is neither a TOML nor a JSON table of kind = [values]"]) from None
    if not isinstance(table, dict) or not table:
        raise LocalProblems([f"{path} must hold a table of kind = [values]"])
    problems, out = [], {}
    for kind, values in table.items():
        if kind not in SCOPE_PSEUDONYM_KINDS:
            problems.append(f"{path}: {kind!r} is not a kind of value ({', '.join(SCOPE_PSEUDONYM_KINDS)})")
        elif not isinstance(values, list) or not values or not all(isinstance(v, str) and v.strip() for v in values):
            problems.append(f"{path}: {kind} must be a list of at least one value (text)")
        else:
            out[kind] = [v.strip() for v in values]
    if problems:
        raise LocalProblems(problems)
    return out


def _is_pseudonym(value: str) -> bool:
    return bool(POPRF_PSEUDONYM_RE.match(value) or HMAC_PSEUDONYM_RE.match(value))


def _answer_pseudonyms(client: TaxiiClient, answer: Mapping[str, Sequence[str]],
                       provider: str) -> dict[str, tuple[str, ...]]:
    """The answer's values as the hub's pseudonyms under its current key version: pseudonyms
    kept, values in clear normalised and pseudonymised obliviously (blinded here)."""
    clear: list[tuple[str, str]] = []
    for kind, values in answer.items():
        for value in values:
            if _is_pseudonym(value):
                continue
            if kind == "provider_account":
                clear.append((kind, provider_account_value(provider, value)))
                continue
            try:
                clear.append((kind, normalise(kind, value)))
            except InvalidPersonalValue:
                raise LocalProblems([f"answer: a value of {kind} is not a valid {kind}"]) from None
    made = iter(client.oblivious_pseudonyms(clear) if clear else [])
    out: dict[str, tuple[str, ...]] = {}
    for kind, values in answer.items():
        kept = [v if _is_pseudonym(v) else next(made)[0] for v in values]
        out[kind] = tuple(dict.fromkeys(kept))
    return out


def respond(client: TaxiiClient, collection: str, notice_id: str, key: SigningKey, identity: str, *,
            preservation_reference: str | None = None, preserved_until: datetime | None = None,
            answer: Mapping[str, Sequence[str]] | None = None, note: str | None = None,
            now: datetime | None = None, wait: float = 120.0) -> tuple[dict[str, Any], Outcome]:
    """The provider ``identity``'s response to a request, signed and submitted: to a
    preservation-request, ``preservation_reference`` (and ``preserved_until``); to an
    information-request, ``answer`` (kind -> values, pseudonymised here). An acknowledgement
    (status applied) with response fields, read by the issuing agency and the provider only."""
    notice = fetch_notice(client, collection, notice_id)
    notice_id, kind = str(notice["id"]), notice.get("notice_kind")
    if kind not in RESPONSE_FOR.values():
        a = "an" if str(kind)[:1] in "aeiou" else "a"
        raise LocalProblems([f"{notice_id} is {a} {kind}: only a preservation-request or an information-request "
                             "takes a response (answer others with notice ack)"])
    if not addressed_to(notice, identity):
        raise LocalProblems([f"{notice_id} does not address {identity}"])
    response = next(r for r, k in RESPONSE_FOR.items() if k == kind)
    if response == "preserved" and (answer is not None or preservation_reference is None):
        raise LocalProblems([f"{notice_id} is a preservation-request: respond with --reference (what you "
                             "preserved), not --answer"])
    if response == "answered" and (answer is None or preservation_reference is not None or preserved_until):
        raise LocalProblems([f"{notice_id} is an information-request: respond with --answer FILE, not --reference"])
    pseudonyms = _answer_pseudonyms(client, answer, identity) if answer is not None else None
    try:
        facts = AckFacts(notice_ref=notice_id, notice_modified=notice["modified"], status="applied", note=note,
                         response=response, preservation_reference=preservation_reference,
                         preserved_until=preserved_until, answer_pseudonyms=pseudonyms)
    except InvalidAckFacts as exc:
        raise LocalProblems([str(p) for p in exc.found]) from None
    ack = _sign(build_ack(facts, provider=identity, agency=str(notice["created_by_ref"]), now=now), key, identity)
    return ack, _submit(client, collection, ack, wait)


# -- the notices ------------------------------------------------------------------------------------


def newest_versions(objects: Iterable[Mapping[str, Any]], type_: str = NOTICE_TYPE) -> list[dict[str, Any]]:
    """The newest version of each object of ``type_``, oldest first (by ``created``)."""
    newest: dict[str, dict[str, Any]] = {}
    for obj in objects:
        if obj.get("type") != type_:
            continue
        have = newest.get(str(obj.get("id")))
        if have is None or str(obj.get("modified", "")) > str(have.get("modified", "")):
            newest[str(obj["id"])] = dict(obj)
    return sorted(newest.values(), key=lambda o: (str(o.get("created", "")), str(o["id"])))


def fetch_notices(client: TaxiiClient, collection: str, type_: str = NOTICE_TYPE) -> list[dict[str, Any]]:
    """The newest version of every notice (or acknowledgement) this party may read."""
    objects = [o.data for page in client.pages(collection, types=[type_], versions=["all"]) for o in page.objects]
    return newest_versions(objects, type_)


def read_notice_lines(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The newest version of each notice in a JSON-lines file (``abusehub notice poll``'s)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ClientError(f"cannot read {path}: {exc.strerror}") from None
    objects = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                objects.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                raise ClientError(f"{path} line {number} is not JSON") from None
    return newest_versions(objects)


# -- the provider's accounts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderAccount:
    """One account of the provider's file, read and normalised."""

    row: int
    account_id: str
    country: str | None = None
    reseller: tuple[str, str, str | None] | None = None  # normal name, country, registration
    personal: tuple[tuple[str, str], ...] = ()  # (kind, normalised value)
    ips: tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, ...] = ()
    domains: tuple[str, ...] = ()
    pseudonyms: frozenset[str] = frozenset()  # filled by match_accounts

    def __repr__(self) -> str:  # no personal value in a repr
        return f"ProviderAccount(row={self.row})"


@dataclass(frozen=True)
class RowProblem:
    """A row of the account file that was not matched, and why (never its values)."""

    row: int
    problem: str

    def to_json(self) -> dict[str, Any]:
        return {"row": self.row, "problem": self.problem}


def _split(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v for v in str(value).replace(",", " ").replace(";", " ").split() if v]


def _reseller(row: Mapping[str, Any]) -> tuple[str, str, str | None] | None:
    name = str(row.get("reseller_name") or "").strip()
    if not name:
        return None
    country = Country.normal(row.get("reseller_country") or "")
    if country is None:
        raise ValueError("reseller_country must be an ISO 3166-1 alpha-2 code")
    reg = str(row.get("reseller_registration") or "").strip()
    return normal_reseller_name(name), country, normal_registration(reg) if reg else None


def _account(number: int, row: Mapping[str, Any]) -> ProviderAccount:
    account_id = str(row.get("account_id") or "").strip()
    if not account_id:
        raise ValueError("account_id is missing")
    unknown = sorted(str(k) for k in row if k not in ACCOUNT_FIELDS)
    if unknown:
        raise ValueError(f"unknown column(s) {', '.join(unknown)}")
    country = None
    if str(row.get("country") or "").strip():
        country = Country.normal(row["country"])
        if country is None:
            raise ValueError("country must be an ISO 3166-1 alpha-2 code")
    personal = []
    for kind in _PERSONAL:
        if str(row.get(kind) or "").strip():
            try:
                personal.append((kind, normalise(kind, str(row[kind]), default_region=country)))
            except InvalidPersonalValue:
                raise ValueError(f"{kind} is not a valid value of its kind") from None
    ips = []
    for text in _split(row.get("ips")):
        try:
            ips.append(ipaddress.ip_address(text))
        except ValueError:
            raise ValueError("ips holds something that is not an IP address") from None
    domains = []
    for text in _split(row.get("domains")):
        try:
            kind, name = classify_resource(text)
        except ValueError:
            kind = ""
        if kind != "domain-name":
            raise ValueError("domains holds something that is not a domain name")
        domains.append(name)
    return ProviderAccount(number, account_id, country, _reseller(row), tuple(personal), tuple(ips), tuple(domains))


def _rows(path: Path, text: str) -> Iterable[tuple[int, Mapping[str, Any] | str]]:
    """(row number, the row or why it is not one) of a CSV or JSON-lines file."""
    if path.suffix.lower() in (".jsonl", ".json", ".ndjson") or text.lstrip().startswith("{"):
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError:
                yield number, "not a JSON object"
                continue
            yield number, data if isinstance(data, dict) else "not a JSON object"
        return
    reader = csv.DictReader(io.StringIO(text))
    for row in reader:
        if None in row:
            yield reader.line_num, "more cells than the header has columns"
            continue
        yield reader.line_num, row


def read_accounts(path: str | os.PathLike[str]) -> tuple[list[ProviderAccount], list[RowProblem]]:
    """The accounts of a CSV (with a header of :data:`ACCOUNT_FIELDS`) or JSON-lines file, and
    each row that could not be read (named by its line, with the reason; never its values)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ClientError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ClientError(f"{path} is not UTF-8 text") from None
    accounts, problems = [], []
    for number, row in _rows(p, text):
        if isinstance(row, str):
            problems.append(RowProblem(number, row))
            continue
        try:
            accounts.append(_account(number, row))
        except ValueError as exc:
            problems.append(RowProblem(number, str(exc)))
    return accounts, problems


# -- pseudonyms, cached per key version -------------------------------------------------------------------


def _value_key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}\0{value}".encode()).hexdigest()


class PseudonymCache:
    """The provider's own cache of the hub's pseudonyms: per value (by its SHA-256, never in
    clear), the pseudonym under each key version seen. A version is kept for
    :data:`CACHE_KEEPS_DAYS` days after the hub last published it, so that notices issued under
    it keep matching until the agency re-issues them; the file is readable by its owner only."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.versions: dict[str, str] = {}  # version -> when the hub last published it
        self.values: dict[str, dict[str, str]] = {}
        if self.path.exists():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                self.versions, self.values = dict(data["versions"]), dict(data["values"])
            except (OSError, ValueError, KeyError, TypeError):
                raise ClientError(f"{self.path} is not a pseudonym cache: move it away to start a new one") from None

    def get(self, kind: str, value: str) -> dict[str, str]:
        return self.values.get(_value_key(kind, value), {})

    def put(self, kind: str, value: str, pseudonyms: Iterable[str]) -> None:
        entry = self.values.setdefault(_value_key(kind, value), {})
        for p in pseudonyms:
            version = pseudonym_version(p)
            if version is not None:
                entry[version[1]] = p

    def published(self, versions: Iterable[str], now: datetime) -> None:
        """The hub publishes ``versions`` now; versions not published for too long are dropped."""
        stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.versions.update({v: stamp for v in versions})
        limit = (now - timedelta(days=CACHE_KEEPS_DAYS)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        gone = {v for v, seen in self.versions.items() if seen < limit}
        for v in gone:
            del self.versions[v]
        if gone:
            for entry in self.values.values():
                for v in gone & entry.keys():
                    del entry[v]

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"versions": self.versions, "values": self.values}, f)
        os.replace(tmp, self.path)


def _account_values(account: ProviderAccount, provider: str) -> list[tuple[str, str]]:
    return [("provider_account", provider_account_value(provider, account.account_id)), *account.personal]


def pseudonymise_accounts(client: TaxiiClient | None, accounts: Sequence[ProviderAccount], provider: str,
                          cache: PseudonymCache, *, now: datetime | None = None) -> tuple[list[ProviderAccount], int]:
    """The accounts with their pseudonyms (every cached version), and how many values the hub
    evaluated now (only those the cache lacks under the hub's current version). Without a client
    the cache alone answers."""
    now = now or datetime.now(UTC)
    missing: list[tuple[str, str]] = []
    if client is not None:
        keys = client.pseudonym_key()
        cache.published(keys.keys, now)
        current = keys.current
        seen: set[tuple[str, str]] = set()
        for account in accounts:
            for pair in _account_values(account, provider):
                if current not in cache.get(*pair) and pair not in seen:
                    seen.add(pair)
                    missing.append(pair)
        if missing:
            for pair, made in zip(missing, client.oblivious_pseudonyms(missing, all_versions=True), strict=True):
                cache.put(pair[0], pair[1], made)
    out = []
    for account in accounts:
        pseudonyms = {p for pair in _account_values(account, provider) for p in cache.get(*pair).values()}
        out.append(ProviderAccount(account.row, account.account_id, account.country, account.reseller, account.personal,
                           account.ips, account.domains, frozenset(pseudonyms)))
    return out, len(missing)


# -- matching ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoticeMatch:
    """The accounts one notice affects, each with the reasons (what of the scope it meets)."""

    notice: Mapping[str, Any]
    accounts: list[tuple[str, list[str]]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"notice": self.notice["id"], "title": self.notice.get("name"),
                "notice_kind": self.notice.get("notice_kind"), "measures": self.notice.get("measures", []),
                "accounts": [{"account_id": a, "reasons": r} for a, r in self.accounts]}


class _Index:
    """The scopes of many notices, indexed by what an account is looked up by (country,
    reseller, pseudonym, each network that holds an address, each parent domain), so that an
    account costs a few lookups however many notices are in force."""

    def __init__(self, notices: Sequence[Mapping[str, Any]]) -> None:
        self.countries: dict[str, list[int]] = {}
        self.resellers: dict[tuple[str, str], list[tuple[int, str | None]]] = {}
        self.pseudonyms: dict[str, list[int]] = {}
        self.domains: dict[str, list[int]] = {}
        self.networks: dict[tuple[int, int], dict[Any, list[int]]] = {}
        for i, notice in enumerate(notices):
            for country in notice.get("jurisdictions", ()):
                self.countries.setdefault(country, []).append(i)
            for r in notice.get("resellers", ()):
                self.resellers.setdefault((r["name"], r["country"]), []).append((i, r.get("registration_number")))
            for p in {p for items in notice.get("account_pseudonyms", {}).values() for p in items}:
                self.pseudonyms.setdefault(p, []).append(i)
            for d in notice.get("domains", ()):
                self.domains.setdefault(d, []).append(i)
            for text in notice.get("ip_ranges", ()):
                net = ipaddress.ip_network(text)
                self.networks.setdefault((net.version, net.prefixlen), {}).setdefault(net, []).append(i)

    def reasons(self, account: ProviderAccount) -> dict[int, list[str]]:
        """Notice index -> why it affects ``account`` (jurisdiction, reseller, pseudonym, ip
        range, domain, in that order)."""
        found: dict[int, list[str]] = {}

        def add(indexes: Iterable[int], reason: str) -> None:
            for i in indexes:
                reasons = found.setdefault(i, [])
                if reason not in reasons:
                    reasons.append(reason)

        if account.country is not None:
            add(self.countries.get(account.country, ()), f"jurisdiction {account.country}")
        if account.reseller is not None:
            name, country, reg = account.reseller
            add((i for i, r_reg in self.resellers.get((name, country), ()) if r_reg is None or r_reg == reg),
                "reseller")
        for p in account.pseudonyms:
            add(self.pseudonyms.get(p, ()), "pseudonym")
        for ip in account.ips:
            for (version, length), nets in self.networks.items():
                if version == ip.version:
                    add(nets.get(ipaddress.ip_network(f"{ip}/{length}", strict=False), ()), "ip range")
        for d in account.domains:
            labels = d.split(".")
            for k in range(len(labels)):
                add(self.domains.get(".".join(labels[k:]), ()), "domain")
        return found


def _now_us(now: datetime) -> int:
    return int(now.timestamp() * 1_000_000)


def match_accounts(notices: Iterable[Mapping[str, Any]], accounts: Sequence[ProviderAccount], provider: str, *,
                   now: datetime | None = None) -> list[NoticeMatch]:
    """Per notice in force that addresses ``provider`` (special measures, and requests about
    accounts by pseudonym), the accounts it affects, in the order of the file. ``accounts``
    carry their pseudonyms (:func:`pseudonymise_accounts`)."""
    now_us = _now_us(now or datetime.now(UTC))
    applying = [n for n in notices if n.get("notice_kind") != "advisory" and addressed_to(n, provider)
                and in_force(n, now_us)]
    index = _Index(applying)
    matches = [NoticeMatch(n) for n in applying]
    for account in accounts:
        for i, reasons in index.reasons(account).items():
            matches[i].accounts.append((account.account_id, reasons))
    return matches
