"""The analyst's tool: ``abusehub report new`` and ``abusehub report template``.

Thin: the options are read here, the work is :mod:`hub.client.reports` over a
:class:`hub.client.taxii.TaxiiClient` (facts, pseudonyms through the hub in one request, build,
sign, local validation, submit, status), and the outcome is printed.

Raw personal values stay in memory: the pseudonyms are oblivious (the values are blinded here
and the hub's proof checked against its published key, or the one pinned with
``--pseudonym-key``). A hub that publishes no pseudonym key gets nothing: the tool stops with
one line saying so, unless ``--allow-clear-values`` (never with ``--pseudonym-key``) lets the
values go in the body of ``POST pseudonyms/`` to a hub known to be older, and then says that it
did. Nothing here writes, prints or logs a value.

Exit status: 0 everything was accepted (or, with ``--dry-run``, built and signed); 1 the hub
refused an object or could not be used; 2 a problem found before anything was submitted (facts,
identity, key, local validation); 3 the status was still pending when the wait ended.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from hub.client.anonymous import (
    file_anonymous_report,
    prepare_anonymous_report,
    read_secret_file,
    withdraw_anonymous_report,
    write_secret_file,
)
from hub.client.errors import ClientError
from hub.client.reports import (
    REPORT_TEMPLATE,
    LocalProblems,
    ReportResult,
    check_identity,
    load_signing_key,
    prepare_report,
    read_facts,
    submit_report,
)
from hub.client.retry import RetryNotice
from hub.common.canonical import b64url_decode
from hub.stix.markings import TLP2_IDS
from hub.stix.report import ABUSE_TYPE_INFRASTRUCTURE, ACTIONS

if TYPE_CHECKING:  # the HTTP layer (httpx) is imported by the commands that talk to a hub: 'serve' never does
    from hub.client.taxii import NoObliviousPseudonyms, StatusResource, TaxiiClient

__all__ = ["report"]


def _token(token: str | None, token_file: str | None) -> str:
    from hub.client.http import read_token

    try:
        return read_token(token, token_file)
    except ClientError as exc:
        raise LocalProblems([exc.description]) from None


def _tell_wait(notice: RetryNotice) -> None:
    click.echo(f"abusehub: {notice.message}", err=True)


def _print_outcome(result: ReportResult) -> None:
    click.echo(f"{len(result.stored)} stored, {len(result.already_stored)} already stored, "
               f"{len(result.refused)} refused"
               + (f", {len(result.pending)} pending" if result.pending else ""))
    for oid in result.already_stored:
        click.echo(f"already stored  {oid}")
    for oid, reason in result.refused:
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
              help="Allow http:// to a hub that is not on this machine (sends the token, and with "
                   "--allow-clear-values raw personal values, unencrypted).")
@click.option("--allow-clear-values", is_flag=True,
              help="Only for a hub known to be older, without oblivious pseudonyms (no GET "
                   "pseudonyms/key): send the personal values in clear to its POST pseudonyms/, "
                   "which then sees them and answers with pseudonyms it cannot prove. Never "
                   "with --pseudonym-key. Without it, such a hub gets nothing.")
@click.option("--pseudonym-key", "pseudonym_keys", multiple=True, metavar="VERSION=KEY",
              help="Check the hub's pseudonym evaluations against this public key (base64url, as "
                   "'abusehub pseudonym key' prints it and GET pseudonyms/key publishes it) instead "
                   "of the one the hub shows now; repeat for each key version.")
@click.option("--anonymous", is_flag=True,
              help="File anonymously (docs/ANONYMITY.md): the hub checks your signature, then "
                   "publishes the report under an anonymous identity with its own attestation.")
@click.option("--secret-file", default=None, type=click.Path(dir_okay=False),
              help="With --anonymous: where to keep the report's withdrawal secret (a new file, "
                   "mode 0600); needed to withdraw the report and to find notices about it.")
@click.option("--tokens", "tokens_file", default=None, type=click.Path(dir_okay=False),
              help="With --anonymous: pay with one submission token from this file ('abusehub token "
                   "fetch') and send the report with no credential, so that the hub never learns who "
                   "files (the token mode); needs --check-with and --oversight-key.")
@click.option("--check-with", multiple=True, metavar="URL",
              help="With --tokens: a second source for the hub's token key (a peer hub's copy, or the "
                   "directory by another route); the key must be the same there. Repeatable.")
@click.option("--oversight-key", default=None, type=click.Path(dir_okay=False),
              help="With --tokens: the oversight body's public key (PEM) your escrow record is sealed to.")
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
               tlp: str | None, pseudonym_keys: tuple[str, ...], allow_clear_values: bool,
               anonymous: bool, secret_file: str | None, tokens_file: str | None,
               check_with: tuple[str, ...], oversight_key: str | None) -> None:
    """File a report of an abused IaaS account described in FACTS.toml.

    The account id and personal values are pseudonymised through the hub (one request; blinded,
    so that the hub never sees them, and the hub's proof checked before anything is used), the
    report is built, validated and signed here, then submitted and followed until the hub has
    judged every object. Exit 0 if nothing was refused; 2 for problems found before anything
    was submitted. Start from `abusehub report template`.
    """
    if tokens_file is not None:
        from hub.cli.tokens import report_with_token

        sys.exit(report_with_token(facts_file, url, collection_id, token_file, token, key_file, identity, anonymous,
                                   secret_file, tokens_file, check_with, oversight_key, unsafe_plain_http))
    try:
        code = _report_new(
            facts_file, url, collection_id, token_file, token, key_file, identity, dry_run, out,
            no_wait, wait_seconds, unsafe_plain_http,
            {"summary": summary, "resources": list(resources) or None,
             "abuse_types": list(abuse_types) or None, "last_seen": last_seen,
             "action_taken": action_taken, "action_taken_at": action_taken_at,
             "confidence": confidence, "tlp": tlp}, _pinned(pseudonym_keys), allow_clear_values,
            secret_file if anonymous else None, anonymous)
    except LocalProblems as exc:
        for problem in exc.problems:
            click.echo(f"abusehub: {problem}", err=True)
        sys.exit(2)
    if code:
        sys.exit(code)


def _pinned(options: tuple[str, ...]) -> dict[str, bytes] | None:
    """``VERSION=KEY`` options as pinned POPRF public keys; :class:`LocalProblems` naming the
    option otherwise."""
    if not options:
        return None
    pinned: dict[str, bytes] = {}
    for text in options:
        version, sep, key = text.partition("=")
        try:
            if not sep or not version.strip():
                raise ValueError("is not VERSION=KEY")
            pinned[version.strip()] = b64url_decode(key.strip())
        except ValueError as exc:
            raise LocalProblems([f"--pseudonym-key {text!r}: {exc}"]) from None
    return pinned


def _no_oblivious(exc: NoObliviousPseudonyms) -> str:
    """The one line for a hub that makes no oblivious pseudonyms, saying what was (not) sent."""
    head = (f"the hub at {exc.api} offers no oblivious pseudonym evaluation (GET pseudonyms/key "
            "answered 404), so nothing was sent")
    if exc.pinned:
        return (f"{head}; with --pseudonym-key the personal values are only ever sent blinded, "
                "never in clear")
    return (f"{head}; --allow-clear-values would send the personal values in clear for that hub to "
            "pseudonymise (it then sees them): use it only for a hub known to be older")


def _report_new(facts_file: str, url: str, collection_id: str, token_file: str | None,
                token: str | None, key_file: str, identity: str, dry_run: bool, out: str | None,
                no_wait: bool, wait_seconds: float, unsafe_plain_http: bool,
                overrides: dict[str, Any], pinned: dict[str, bytes] | None = None,
                allow_clear_values: bool = False, secret_file: str | None = None,
                anonymous: bool = False) -> int:
    if anonymous and not dry_run and secret_file is None:
        raise LocalProblems(["--anonymous needs --secret-file: the report's withdrawal secret is "
                             "kept there, and nowhere else"])
    from hub.client.http import api_root, check_transport
    from hub.client.taxii import NoObliviousPseudonyms, TaxiiClient

    api = api_root(url)
    try:
        check_transport(api, unsafe_plain_http, "the token and raw personal values")
    except ClientError as exc:
        raise LocalProblems([exc.description]) from None
    secret = _token(token, token_file)
    facts = read_facts(facts_file, overrides)
    check_identity(identity, facts)
    key = load_signing_key(key_file)

    with TaxiiClient(api, secret, unsafe_plain_http=unsafe_plain_http, on_retry=_tell_wait) as client:
        try:
            if anonymous:
                prepared = prepare_anonymous_report(client, facts, key, identity, pinned=pinned,
                                                    allow_clear_values=allow_clear_values)
            else:
                prepared = prepare_report(client, facts, key, identity, source=facts_file, pinned=pinned,
                                          allow_clear_values=allow_clear_values)
        except NoObliviousPseudonyms as exc:
            if not exc.clear_refused:
                raise
            raise ClientError(_no_oblivious(exc)) from None
        if prepared.sent_in_clear:
            click.echo(f"abusehub: {api} offers no oblivious pseudonyms: {prepared.sent_in_clear} personal "
                       "values were sent to it in clear (--allow-clear-values), and its pseudonyms of "
                       "them are not proven", err=True)
        if out is not None:
            try:
                Path(out).write_bytes(prepared.bundle())
            except OSError as exc:
                raise LocalProblems([f"cannot write {out}: {exc.strerror}"]) from None
        if dry_run:
            if out is None:
                sys.stdout.buffer.write(prepared.bundle())
                sys.stdout.flush()
            click.echo(f"dry run: {len(prepared.objects)} objects of {prepared.report_id} built, "
                       f"validated and signed as {identity} with key {prepared.key_id}; "
                       "nothing submitted", err=True)
            return 0
        if anonymous:
            assert secret_file is not None
            return _file_anonymously(client, collection_id, prepared, secret_file)

        def submitted(status: StatusResource) -> None:
            click.echo(f"submitted {len(prepared.objects)} objects of {prepared.report_id} to "
                       f"collection {collection_id} (status {status.id})")

        result = submit_report(client, collection_id, prepared, wait=None if no_wait else wait_seconds,
                               on_submitted=submitted)
    _print_outcome(result)
    if result.state == "refused":
        return 1
    if result.state == "pending":
        if no_wait:
            click.echo(f"not waiting: follow {result.status_url}")
            return 0
        click.echo(f"abusehub: the hub had not finished after {wait_seconds:.0f} s: follow "
                   f"{result.status_url}", err=True)
        return 3
    return 0


def _file_anonymously(client: TaxiiClient, collection_id: str, prepared: Any, secret_file: str) -> int:
    """File ``prepared`` anonymously and keep its secret; what the hub will publish, printed."""
    result = file_anonymous_report(client, collection_id, prepared)
    write_secret_file(secret_file, result, collection_id)
    receipt = result.receipt or {}
    click.echo(f"filed anonymously in collection {collection_id}: report {result.report_id}, "
               f"{len(receipt.get('object_ids', []))} objects, published by {receipt.get('publish_by')}; "
               f"withdrawal secret in {secret_file}")
    return 0


@report.command("withdraw")
@click.argument("report_id", metavar="REPORT_ID", required=False)
@click.option("--url", required=True, metavar="URL", help="The hub's TAXII API root.")
@click.option("--anonymous", is_flag=True, required=True,
              help="Withdraw a report filed anonymously, by its secret (no credentials are sent).")
@click.option("--secret-file", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The file 'report new --anonymous --secret-file' wrote.")
@click.option("--unsafe-plain-http", is_flag=True, help="Allow http:// to a hub not on this machine.")
def report_withdraw(report_id: str | None, url: str, anonymous: bool, secret_file: str,
                    unsafe_plain_http: bool) -> None:
    """Withdraw an anonymous report: the secret proves it is yours without saying who you are."""
    from hub.client.http import api_root, check_transport
    from hub.client.taxii import TaxiiClient

    api = api_root(url)
    try:
        check_transport(api, unsafe_plain_http, "the withdrawal secret")
        kept = read_secret_file(secret_file)
        if report_id is not None and report_id != kept["report_id"]:
            raise ClientError(f"{secret_file} holds the secret of {kept['report_id']}, not of {report_id}")
        with TaxiiClient(api, None, unsafe_plain_http=unsafe_plain_http, on_retry=_tell_wait) as client:
            count = withdraw_anonymous_report(client, str(kept.get("collection", "")), kept["report_id"],
                                              kept["secret"])
    except ClientError as exc:
        click.echo(f"abusehub: {exc.description}", err=True)
        sys.exit(1)
    click.echo(f"withdrew {kept['report_id']}: {count} object versions deleted")
