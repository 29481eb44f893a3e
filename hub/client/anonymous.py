"""Filing a report anonymously, and withdrawing it (docs/ANONYMITY.md): ``abusehub report new
--anonymous`` and ``abusehub report withdraw --anonymous``.

The report is built as a named one is, but in the anonymous account scope
(:data:`hub.anonymity.filing.ANONYMOUS_SCOPE`) and under the anonymous name, so that neither its
text nor its account pseudonym names the provider; each object is signed with the provider's
key (the hub checks who files, then drops the signatures and attests the report itself). A
fresh withdrawal secret is made per report: the request carries only its commitment, and the
secret is written to a file the provider keeps (mode 0600), with the report's id as the hub
will publish it.

The pseudonyms are made just before filing, through the party's authenticated
``POST pseudonyms/evaluate``, which the hub audits with its counts per kind: so that the
request does not fingerprint the report published later, an anonymous report's values are
padded (:func:`_padded_values`) with fresh random values of each kind, blinded like the real
ones and their pseudonyms thrown away, to the same number for every kind (:func:`_bucket_for`:
4, 8, 16... elements), and sent in one request whose groups come in a fixed order. Every
anonymous report of a bucket (any report built from facts: one value per kind) makes the same
request; the hub sees its time, not what it is for.
"""

from __future__ import annotations

import os
import secrets
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from hub.anonymity.filing import ANONYMOUS_NAME, ANONYMOUS_SCOPE, commitment, new_secret
from hub.client.errors import ClientError
from hub.client.reports import (
    LocalProblems,
    MappedPseudonymiser,
    PreparedReport,
    check_identity,
    local_problems,
    pseudonym_values,
)
from hub.pseudonyms import PERSONAL_KINDS, normalise, provider_account_value
from hub.signing import SigningError, SigningKey, sign_object
from hub.stix.report import InvalidReportFacts, ReportFacts, build_report

if TYPE_CHECKING:  # the HTTP layer is imported when a report is sent: the web form's checks run without it
    from hub.client.taxii import TaxiiClient

__all__ = ["AnonymousResult", "anonymous_facts", "file_anonymous_report", "prepare_anonymous_report", "read_secret_file",
           "withdraw_anonymous_report", "write_secret_file"]

_JSON = "application/taxii+json;version=2.1"

#: The kinds an anonymous report's pseudonym request always holds, in this order, each padded to
#: the bucket: the account (scoped by the anonymous scope), then every personal kind.
PADDED_KINDS: tuple[str, ...] = ("provider_account", *PERSONAL_KINDS)
#: The smallest bucket; the others double it.
FIRST_BUCKET = 4
_RANDOM = secrets.SystemRandom()


def _bucket_for(values: Sequence[tuple[str, str]]) -> int:
    """How many elements every kind of the request holds: the first of 4, 8, 16... that takes
    the kind with the most values."""
    most = max((sum(1 for k, _ in values if k == kind) for kind in PADDED_KINDS), default=0)
    bucket = FIRST_BUCKET
    while bucket < most:
        bucket *= 2
    return bucket


def _padded_values(values: Sequence[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[int]]:
    """``values`` (normalised ``(kind, value)`` pairs) among fresh random values, every kind of
    :data:`PADDED_KINDS` filled to :func:`_bucket_for`'s bucket, grouped by kind in that order,
    each group shuffled; and where each of ``values`` is in the padded list."""
    unknown = sorted({k for k, _ in values} - set(PADDED_KINDS))
    if unknown:
        raise ClientError(f"no padding for the pseudonym kind {unknown[0]}")
    bucket = _bucket_for(values)
    padded: list[tuple[str, str]] = []
    where: dict[int, int] = {}
    for kind in PADDED_KINDS:
        mine = [i for i, (k, _) in enumerate(values) if k == kind]
        slots: list[int | None] = [*mine, *([None] * (bucket - len(mine)))]
        _RANDOM.shuffle(slots)
        for slot in slots:
            if slot is not None:
                where[slot] = len(padded)
            padded.append(values[slot] if slot is not None else (kind, _dummy(kind)))
    return padded, [where[i] for i in range(len(values))]


def _dummy(kind: str) -> str:
    """A fresh random value of ``kind``'s shape, normalised (it is blinded like a real one and
    its pseudonym is discarded)."""
    def word(n: int) -> str:
        return "".join(_RANDOM.choice(string.ascii_lowercase) for _ in range(n))

    if kind == "provider_account":
        return provider_account_value(ANONYMOUS_SCOPE, f"acct-{secrets.token_hex(6)}")
    if kind == "email":
        return f"{word(8)}@{word(6)}.example"
    if kind == "phone":
        for _ in range(100):
            try:
                return normalise("phone", f"+1{_RANDOM.randint(2, 9)}{_RANDOM.randint(0, 99):02d}"
                                          f"{_RANDOM.randint(200, 999)}{_RANDOM.randint(0, 9999):04d}")
            except ValueError:
                continue
        return normalise("phone", "+1 415 555 2671")
    if kind == "payment_instrument":
        return _luhn_completed("4" + "".join(str(_RANDOM.randint(0, 9)) for _ in range(14)))
    if kind == "name":
        return f"{word(6)} {word(8)}"
    return normalise(kind, f"{_RANDOM.randint(1, 9999)} {word(7)} st {word(9)}")


def _luhn_completed(digits: str) -> str:
    """``digits`` and the check digit that makes them Luhn-valid."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return digits + str((10 - total % 10) % 10)


def anonymous_facts(facts: ReportFacts) -> ReportFacts:
    """The facts with the provider replaced by the anonymous scope and name."""
    return replace(facts, provider_identity_id=ANONYMOUS_SCOPE, provider_name=ANONYMOUS_NAME,
                   report_name=facts.report_name or "Abused IaaS account reported anonymously")


def prepare_anonymous_report(client: TaxiiClient, facts: ReportFacts, key: SigningKey, identity: str, *,
                             now: datetime | None = None, pinned: Mapping[str, bytes] | None = None,
                             allow_clear_values: bool = False) -> PreparedReport:
    """Pseudonymise (in the anonymous scope, the values padded: :func:`_padded_values`), build and
    sign with ``key`` as ``identity``; the objects name the anonymous scope as their creator,
    not ``identity``."""
    check_identity(identity, facts)
    anon = anonymous_facts(facts)
    values = pseudonym_values(anon)
    padded, where = _padded_values(values)
    made = client.pseudonymise(padded, pinned=pinned, allow_clear_values=allow_clear_values)
    pseudonyms = [made[i] for i in where]
    try:
        objects = build_report(anon, MappedPseudonymiser(values, pseudonyms), now=now)
    except InvalidReportFacts as exc:
        raise LocalProblems([str(p) for p in exc.found]) from None
    try:
        signed = [o if o.get("type") == "marking-definition" else sign_object(o, key, identity)
                  for o in objects]
    except SigningError as exc:
        raise LocalProblems([f"signing: {exc}"]) from None
    problems = local_problems(signed)
    if problems:
        raise LocalProblems(problems)
    return PreparedReport(signed, identity, key.key_id)


@dataclass(frozen=True)
class AnonymousResult:
    """A report filed anonymously: what was built, its secret, and the hub's receipt."""

    prepared: PreparedReport
    secret: str
    receipt: dict[str, Any] | None = None

    @property
    def report_id(self) -> str:
        """The id the hub will publish the report under (the built id before it is filed)."""
        if self.receipt is not None:
            return str(self.receipt["report_id"])
        return self.prepared.report_id


def file_anonymous_report(client: TaxiiClient, collection_id: str, prepared: PreparedReport, *,
                          secret: str | None = None) -> AnonymousResult:
    """POST the report to ``{api}anonymous/`` with a fresh secret's commitment."""
    from hub.client.http import Call, json_object

    secret = secret or new_secret()
    body = {"collection": collection_id, "objects": prepared.objects,
            "withdrawal_commitment": commitment(secret)}
    call = Call(f"filing anonymously in collection {collection_id}",
                denied=f"collection {collection_id} does not take this anonymous report",
                missing=f"no collection {collection_id} that you may write at {client.api}")
    resp = client.http.request("POST", f"{client.api}anonymous/", call, content=orjson.dumps(body),
                               headers={"Content-Type": _JSON, "Accept": _JSON})
    receipt = json_object(resp, call)
    if not isinstance(receipt.get("report_id"), str):
        raise ClientError(f"{call.what}: the hub's answer names no report")
    return AnonymousResult(prepared, secret, receipt)


def withdraw_anonymous_report(client: TaxiiClient, collection_id: str, report_id: str, secret: str) -> int:
    """Withdraw an anonymous report by its secret; how many versions the hub withdrew."""
    from hub.client.http import Call, json_object

    body = {"collection": collection_id, "report_id": report_id, "secret": secret}
    call = Call(f"withdrawing anonymous report {report_id}",
                denied="the secret does not open this report's withdrawal commitment",
                missing=f"no anonymous report {report_id} in collection {collection_id}")
    resp = client.http.request("POST", f"{client.api}anonymous/withdraw/", call, content=orjson.dumps(body),
                               headers={"Content-Type": _JSON, "Accept": _JSON})
    answer = json_object(resp, call)
    count = answer.get("withdrawn_versions")
    return count if isinstance(count, int) else 0


def write_secret_file(path: str | os.PathLike[str], result: AnonymousResult, collection_id: str) -> None:
    """Keep the report's secret (mode 0600, never overwriting a file): what withdrawing it and
    finding notices about it need."""
    data = orjson.dumps({"report_id": result.report_id, "collection": collection_id, "secret": result.secret,
                         "object_ids": list((result.receipt or {}).get("object_ids", []))},
                        option=orjson.OPT_INDENT_2) + b"\n"
    target = Path(path)
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ClientError(f"{target} exists: refusing to overwrite a withdrawal secret") from None
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def read_secret_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The report id, collection and secret :func:`write_secret_file` kept."""
    try:
        data = orjson.loads(Path(path).read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise ClientError(f"{path}: not a withdrawal secret file ({exc})") from None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("report_id", "secret")):
        raise ClientError(f"{path}: not a withdrawal secret file (report_id and secret missing)")
    return data
