"""Filing a report anonymously, and withdrawing it (docs/ANONYMITY.md): ``abusehub report new
--anonymous`` and ``abusehub report withdraw --anonymous``.

The report is built as a named one is, but in the anonymous account scope
(:data:`hub.anonymity.filing.ANONYMOUS_SCOPE`) and under the anonymous name, so that neither its
text nor its account pseudonym names the provider; each object is signed with the provider's
key (the hub checks who files, then drops the signatures and attests the report itself). A
fresh withdrawal secret is made per report: the request carries only its commitment, and the
secret is written to a file the provider keeps (mode 0600), with the report's id as the hub
will publish it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from hub.anonymity.filing import ANONYMOUS_NAME, ANONYMOUS_SCOPE, commitment, new_secret
from hub.client.errors import ClientError
from hub.client.http import Call, json_object
from hub.client.reports import (
    LocalProblems,
    MappedPseudonymiser,
    PreparedReport,
    check_identity,
    local_problems,
    pseudonym_values,
)
from hub.client.taxii import TaxiiClient
from hub.signing import SigningError, SigningKey, sign_object
from hub.stix.report import InvalidReportFacts, ReportFacts, build_report

__all__ = ["AnonymousResult", "anonymous_facts", "file_anonymous_report", "prepare_anonymous_report", "read_secret_file",
           "withdraw_anonymous_report", "write_secret_file"]

_JSON = "application/taxii+json;version=2.1"


def anonymous_facts(facts: ReportFacts) -> ReportFacts:
    """The facts with the provider replaced by the anonymous scope and name."""
    return replace(facts, provider_identity_id=ANONYMOUS_SCOPE, provider_name=ANONYMOUS_NAME,
                   report_name=facts.report_name or "Abused IaaS account reported anonymously")


def prepare_anonymous_report(client: TaxiiClient, facts: ReportFacts, key: SigningKey, identity: str, *,
                             now: datetime | None = None, pinned: Mapping[str, bytes] | None = None,
                             allow_clear_values: bool = False) -> PreparedReport:
    """Pseudonymise (in the anonymous scope), build and sign with ``key`` as ``identity``; the
    objects name the anonymous scope as their creator, not ``identity``."""
    check_identity(identity, facts)
    anon = anonymous_facts(facts)
    values = pseudonym_values(anon)
    pseudonyms = client.pseudonymise(values, pinned=pinned, allow_clear_values=allow_clear_values)
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
