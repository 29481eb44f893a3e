"""The analyst's tool: ``abusehub report new`` and ``abusehub report template``.

``report new`` files one report of an abused IaaS account:

1. read the facts (a TOML file, some overridable by flags) and check them
   (:meth:`hub.stix.report.ReportFacts.from_mapping`, every problem listed);
2. check that ``--as`` is the provider the facts name, and load the signing key;
3. pseudonymise the account id and the holder's personal values through the hub, in ONE request
   to ``<api root>pseudonyms/`` (the values are normalised here first, exactly as the builder
   will ask for them);
4. build the STIX objects (:func:`hub.stix.report.build_report`) from those pseudonyms, sign
   them (:func:`hub.signing.documents.sign_objects`) and validate every signed object locally
   (:func:`hub.stix.validator.validate` and :func:`hub.stix.pii.scan_object`);
5. submit them in a TAXII envelope, follow the status resource and print the outcome.

A later report about the same account with new facts (a later ``last_seen``, ``terminated``)
carries a new user-account object: its id follows the account's facts, because an observable has
no versions (:func:`hub.stix.report.build_report`). The same facts filed again are "already
stored".

Raw personal values stay in memory: they are sent to the hub in the body of the pseudonym
request and nowhere else; they are never written, printed or logged, and no message of this
module contains one (problems name fields and kinds only).

Exit status: 0 everything was accepted (or, with ``--dry-run``, built and signed); 1 the hub
refused an object or could not be used; 2 a problem found before anything was submitted (facts,
identity, key, local validation); 3 the status was still pending when the wait ended.
"""

from __future__ import annotations

import sys
import time
import tomllib
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click
import orjson

from hub.client.errors import ClientError
from hub.client.http import api_root, check_transport, open_session, read_token
from hub.client.hubapi import (
    Outcome,
    follow_status,
    pseudonymise,
    read_outcome,
    submit_objects,
)
from hub.pseudonyms import PERSONAL_KINDS, normalise
from hub.signing.documents import sign_objects
from hub.signing.errors import SigningError
from hub.signing.keys import SigningKey
from hub.stix.markings import TLP2_IDS
from hub.stix.pii import scan_object
from hub.stix.report import (
    ABUSE_TYPE_INFRASTRUCTURE,
    ACTIONS,
    InvalidReportFacts,
    ReportFacts,
    build_report,
)
from hub.stix.validator import validate

__all__ = [
    "REPORT_TEMPLATE",
    "LocalProblems",
    "MappedPseudonymiser",
    "local_problems",
    "pseudonym_values",
    "read_facts",
    "report",
]

#: What ``abusehub report template`` prints (also ``deploy/report-example.toml``). The personal
#: values in it are fictional (reserved example domain, a 555 number, a test card number).
REPORT_TEMPLATE = '''\
# Facts about one abused IaaS account, for `abusehub report new FACTS.toml`.
# Times are TOML date-times with a zone (2025-03-01T09:30:00Z) or dates (midnight UTC).
# Only pseudonyms of the account id and of the [personal] values leave this machine for the
# collection; the raw values go to the hub's pseudonym endpoint only, and this file stays here.

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
tlp = "amber"                     # clear | green | amber | amber+strict | red
indicator_validity_days = 90
# report_name = "Phishing from a trial account"   # optional
# phone_region = "US"   # region of phone numbers written without +; default declared_country

# The holder's personal data as given at sign-up (all optional; fictional examples below).
[personal]
email = "holder@example.com"
phone = "+1 415 555 2671"
payment_instrument = "4111 1111 1111 1111"   # a card number or an IBAN
name = "Jane Example"
address = "1 Main St, Springfield, IL 62701"
'''


class LocalProblems(ClientError):
    """Problems found before anything was submitted; ``problems`` holds one line each."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


def read_facts(path: str, overrides: Mapping[str, Any] | None = None) -> ReportFacts:
    """The facts of ``path`` (TOML), with ``overrides`` (field -> value) taking precedence.

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
    table.update({k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        return ReportFacts.from_mapping(table)
    except InvalidReportFacts as exc:
        raise LocalProblems([f"{path}: {p}" for p in exc.problems]) from None


def pseudonym_values(facts: ReportFacts) -> list[tuple[str, str]]:
    """The ``(kind, value)`` pairs :func:`~hub.stix.report.build_report` will ask pseudonyms
    for: the provider-scoped account id, then each personal value, normalised."""
    values = [("provider_account",
               f"{facts.provider_identity_id}/{facts.provider_account_id.strip()}")]
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
        self._by_value = dict(zip(values, pseudonyms))

    def pseudonym(self, kind: str, value: str) -> str:
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


def _load_key(path: str) -> SigningKey:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise LocalProblems([f"cannot read key {path}: {exc.strerror}"]) from None
    try:
        return SigningKey.from_pem(data)
    except ValueError as exc:
        raise LocalProblems([f"key {path}: {exc}"]) from None


def _token(token: str | None, token_file: str | None) -> str:
    try:
        return read_token(token, token_file)
    except ClientError as exc:
        raise LocalProblems([exc.description]) from None


def _wait_for_rate_limit(seconds: float) -> None:
    click.echo(f"abusehub: the hub is rate-limiting pseudonym requests: asking again in "
               f"{seconds:.0f} s", err=True)
    time.sleep(seconds)


def _bundle(objects: list[dict[str, Any]]) -> bytes:
    return orjson.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects},
                        option=orjson.OPT_INDENT_2) + b"\n"


def _print_outcome(outcome: Outcome) -> None:
    click.echo(f"{len(outcome.stored)} stored, {len(outcome.already_stored)} already stored, "
               f"{len(outcome.refused)} refused"
               + (f", {len(outcome.pending)} pending" if outcome.pending else ""))
    for oid in outcome.already_stored:
        click.echo(f"already stored  {oid}")
    for oid, reason in outcome.refused:
        click.echo(f"refused  {oid}: {reason}")


@click.group()
def report() -> None:
    """Reports of abused IaaS accounts."""


@report.command("template")
def report_template() -> None:
    """Print an example facts file, with comments, to start a report from."""
    click.echo(REPORT_TEMPLATE, nl=False)


_ABUSE_TYPES = click.Choice(list(ABUSE_TYPE_INFRASTRUCTURE))


@report.command("new")
@click.argument("facts_file", metavar="FACTS.toml", type=click.Path(dir_okay=False))
@click.option("--url", required=True, metavar="URL",
              help="The hub's TAXII API root, e.g. https://hub.example/api/.")
@click.option("--collection", "collection_id", required=True, metavar="ID",
              help="The collection to file the report in.")
@click.option("--token-file", type=click.Path(dir_okay=False), default=None,
              help="A file holding your API token (preferred over --token).")
@click.option("--token", envvar="ABUSEHUB_TOKEN", default=None, show_envvar=True,
              help="Your API token (visible to other local users in the process list).")
@click.option("--key", "key_file", required=True, metavar="PEM",
              help="Your private signing key (abusehub key generate).")
@click.option("--as", "identity", required=True, metavar="IDENTITY",
              help="Your identity id (identity--…): the provider the facts name.")
@click.option("--dry-run", is_flag=True,
              help="Build, pseudonymise, validate and sign; print the bundle; submit nothing.")
@click.option("--out", default=None, type=click.Path(dir_okay=False),
              help="Also write the signed bundle here (it holds pseudonyms only).")
@click.option("--no-wait", is_flag=True, help="Do not follow the status after submitting.")
@click.option("--wait", "wait_seconds", type=click.FloatRange(0, 3600), default=120.0,
              show_default=True, help="Seconds to follow the status before giving up.")
@click.option("--unsafe-plain-http", is_flag=True,
              help="Allow http:// to a hub that is not on this machine (sends the token and "
                   "raw personal values unencrypted).")
@click.option("--summary", default=None, help="Overrides summary.")
@click.option("--resource", "resources", multiple=True,
              help="An abused resource (repeat); replaces the file's resources.")
@click.option("--abuse-type", "abuse_types", multiple=True, type=_ABUSE_TYPES,
              help="An abuse type (repeat); replaces the file's abuse_types.")
@click.option("--last-seen", default=None, help="Overrides last_seen (e.g. 2025-02-14T02:40:00Z).")
@click.option("--action-taken", type=click.Choice(list(ACTIONS)), default=None,
              help="Overrides action_taken.")
@click.option("--action-taken-at", default=None, help="Overrides action_taken_at.")
@click.option("--confidence", type=int, default=None, help="Overrides confidence (0-100).")
@click.option("--tlp", type=click.Choice(list(TLP2_IDS)), default=None, help="Overrides tlp.")
def report_new(facts_file: str, url: str, collection_id: str, token_file: str | None,
               token: str | None, key_file: str, identity: str, dry_run: bool, out: str | None,
               no_wait: bool, wait_seconds: float, unsafe_plain_http: bool, summary: str | None,
               resources: tuple[str, ...], abuse_types: tuple[str, ...], last_seen: str | None,
               action_taken: str | None, action_taken_at: str | None, confidence: int | None,
               tlp: str | None) -> None:
    """File a report of an abused IaaS account described in FACTS.toml.

    The account id and personal values are pseudonymised through the hub (one request), the
    report is built, validated and signed here, then submitted and followed until the hub has
    judged every object. Exit 0 if nothing was refused; 2 for problems found before anything
    was submitted. Start from `abusehub report template`.
    """
    try:
        code = _report_new(
            facts_file, url, collection_id, token_file, token, key_file, identity, dry_run, out,
            no_wait, wait_seconds, unsafe_plain_http,
            {"summary": summary, "resources": list(resources) or None,
             "abuse_types": list(abuse_types) or None, "last_seen": last_seen,
             "action_taken": action_taken, "action_taken_at": action_taken_at,
             "confidence": confidence, "tlp": tlp})
    except LocalProblems as exc:
        for problem in exc.problems:
            click.echo(f"abusehub: {problem}", err=True)
        sys.exit(2)
    if code:
        sys.exit(code)


def _report_new(facts_file: str, url: str, collection_id: str, token_file: str | None,
                token: str | None, key_file: str, identity: str, dry_run: bool, out: str | None,
                no_wait: bool, wait_seconds: float, unsafe_plain_http: bool,
                overrides: dict[str, Any]) -> int:
    api = api_root(url)
    try:
        check_transport(api, unsafe_plain_http, "the token and raw personal values")
    except ClientError as exc:
        raise LocalProblems([exc.description]) from None
    secret = _token(token, token_file)
    facts = read_facts(facts_file, overrides)
    if not identity.startswith("identity--"):
        raise LocalProblems([f"--as takes your organisation's identity id (identity--…), not "
                             f"{identity!r}: the one in provider_identity_id, which the hub "
                             "operator reads from 'abusehub party list'"])
    if identity != facts.provider_identity_id:
        raise LocalProblems([f"--as {identity} is not the provider the facts name "
                             f"(provider_identity_id {facts.provider_identity_id}): "
                             "a report is signed by its provider"])
    key = _load_key(key_file)

    with open_session(secret) as session:
        values = pseudonym_values(facts)
        pseudonyms = pseudonymise(session, api, values, sleep=_wait_for_rate_limit)
        try:
            objects = build_report(facts, MappedPseudonymiser(values, pseudonyms))
        except InvalidReportFacts as exc:
            raise LocalProblems([f"{facts_file}: {p}" for p in exc.problems]) from None
        try:
            signed = sign_objects(objects, key, identity)
        except SigningError as exc:
            raise LocalProblems([f"signing: {exc}"]) from None
        problems = local_problems(signed)
        if problems:
            raise LocalProblems(problems)
        report_id = signed[-1]["id"]

        if out is not None:
            try:
                Path(out).write_bytes(_bundle(signed))
            except OSError as exc:
                raise LocalProblems([f"cannot write {out}: {exc.strerror}"]) from None
        if dry_run:
            if out is None:
                sys.stdout.buffer.write(_bundle(signed))
                sys.stdout.flush()
            click.echo(f"dry run: {len(signed)} objects of {report_id} built, validated and "
                       f"signed as {identity} with key {key.key_id}; nothing submitted", err=True)
            return 0

        status = submit_objects(session, api, collection_id, signed)
        click.echo(f"submitted {len(signed)} objects of {report_id} to collection "
                   f"{collection_id} (status {status['id']})")
        if not no_wait:
            status = follow_status(session, api, status, timeout=wait_seconds)
        outcome = read_outcome(status)
    _print_outcome(outcome)
    if outcome.refused:
        return 1
    if not outcome.complete:
        if no_wait:
            click.echo(f"not waiting: follow {api}status/{outcome.status_id}/")
            return 0
        click.echo(f"abusehub: the hub had not finished after {wait_seconds:.0f} s: follow "
                   f"{api}status/{outcome.status_id}/", err=True)
        return 3
    return 0
