"""``abusehub notice ...``: agencies issue notices, providers match, acknowledge and respond.

Thin: options are read here; the work is :mod:`hub.client.notices` over a
:class:`~hub.client.taxii.TaxiiClient` (issue, withdraw, list, poll, match, ack, respond, and
status with ``--url``, which asks the hub's status endpoint: the parties' own tools) and
:class:`hub.services.notices.NoticeService` (status with ``--party`` and rosters: run on the
hub, reading as the agency reads). Exit status: 0 done; 1 the hub refused or could not be used;
2 a problem found before anything was submitted (facts, key, identity).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC
from typing import TYPE_CHECKING, Any

import click

from hub.cli.base import Context
from hub.client.errors import ClientError
from hub.client.notices import (
    NOTICE_TEMPLATE,
    PseudonymCache,
    acknowledge,
    fetch_notices,
    fetch_status,
    issue_notice,
    match_accounts,
    pseudonymise_accounts,
    read_accounts,
    read_answer,
    read_notice_facts,
    read_notice_lines,
    respond,
    withdraw_notice,
)
from hub.client.poll import Poller
from hub.client.reports import LocalProblems, load_signing_key
from hub.client.verify import KeySource, ObjectVerifier
from hub.stix.notice_facts import ACK_STATUSES, NOTICE_TYPE

if TYPE_CHECKING:  # the HTTP layer (httpx) is imported by the commands that talk to a hub: 'serve' never does
    from hub.client.taxii import Outcome, TaxiiClient

__all__ = ["notice"]


def _connection(f: Callable[..., Any]) -> Callable[..., Any]:
    """The options every command that talks to a hub takes."""
    for option in reversed((
        click.option("--url", required=True, metavar="URL", help="The hub's TAXII API root."),
        click.option("--collection", "collection_id", required=True, metavar="ID",
                     help="The collection that carries the notices."),
        click.option("--token-file", type=click.Path(dir_okay=False), default=None,
                     help="A file holding your API token (preferred over --token)."),
        click.option("--token", envvar="ABUSEHUB_TOKEN", default=None, show_envvar=True,
                     help="Your API token."),
        click.option("--unsafe-plain-http", is_flag=True,
                     help="Allow http:// to a hub that is not on this machine."),
    )):
        f = option(f)
    return f


def _signer(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option("--as", "identity", required=True, metavar="IDENTITY", help="Your identity id.")(f)
    return click.option("--key", "key_file", required=True, metavar="PEM", help="Your private signing key.")(f)


def _client(url: str, token: str | None, token_file: str | None, unsafe_plain_http: bool) -> TaxiiClient:
    from hub.client.http import api_root, check_transport, read_token
    from hub.client.taxii import TaxiiClient

    api = api_root(url)
    check_transport(api, unsafe_plain_http, "the token")
    return TaxiiClient(api, read_token(token, token_file), unsafe_plain_http=unsafe_plain_http)


def _local(run: Callable[[], int]) -> None:
    """Run a command's body: problems found here exit 2, a refusal by the hub 1."""
    try:
        code = run()
    except LocalProblems as exc:
        for problem in exc.problems:
            click.echo(f"abusehub: {problem}", err=True)
        sys.exit(2)
    except ClientError as exc:
        click.echo(f"abusehub: {exc}", err=True)
        sys.exit(1)
    if code:
        sys.exit(code)


def _outcome(obj: dict[str, Any], outcome: Outcome, what: str, as_json: bool) -> int:
    if as_json:
        click.echo(json.dumps({"id": obj["id"], "modified": obj["modified"], "stored": outcome.stored,
                               "already_stored": outcome.already_stored,
                               "refused": [{"id": i, "reason": r} for i, r in outcome.refused]}))
    elif outcome.refused:
        for oid, reason in outcome.refused:
            click.echo(f"refused  {oid}: {reason}")
    else:
        click.echo(f"{what} {obj['id']} (version {obj['modified']})")
    return 1 if outcome.refused or not outcome.complete else 0


@click.group()
def notice() -> None:
    """Notices from agencies to providers: issue, withdraw, list, poll, match, ack, respond, status,
    rosters."""


@notice.command("template")
def notice_template() -> None:
    """Print an example notice facts file."""
    click.echo(NOTICE_TEMPLATE, nl=False)


@notice.command("issue")
@click.argument("facts_file", metavar="FACTS.toml", type=click.Path(dir_okay=False))
@_connection
@_signer
@click.option("--json", "as_json", is_flag=True)
def notice_issue(facts_file: str, url: str, collection_id: str, token_file: str | None, token: str | None,
                 unsafe_plain_http: bool, key_file: str, identity: str, as_json: bool) -> None:
    """Issue the notice FACTS.toml describes, signed as your agency (start from `notice template`)."""
    def run() -> int:
        facts = read_notice_facts(facts_file, identity)
        key = load_signing_key(key_file)
        with _client(url, token, token_file, unsafe_plain_http) as client:
            obj, outcome = issue_notice(client, collection_id, facts, key, identity)
        return _outcome(obj, outcome, "issued", as_json)
    _local(run)


@notice.command("withdraw")
@click.argument("notice_id", metavar="ID")
@_connection
@_signer
@click.option("--json", "as_json", is_flag=True)
def notice_withdraw(notice_id: str, url: str, collection_id: str, token_file: str | None, token: str | None,
                    unsafe_plain_http: bool, key_file: str, identity: str, as_json: bool) -> None:
    """Withdraw a notice you issued (its next version, signed, says so). ID: the notice's id, or
    the number `notice list` shows it with."""
    def run() -> int:
        key = load_signing_key(key_file)
        with _client(url, token, token_file, unsafe_plain_http) as client:
            obj, outcome = withdraw_notice(client, collection_id, notice_id, key, identity)
        return _outcome(obj, outcome, "withdrawn", as_json)
    _local(run)


@notice.command("ack")
@click.argument("notice_id", metavar="ID")
@click.option("--status", "status", required=True, type=click.Choice(ACK_STATUSES))
@click.option("--accounts-affected", type=click.IntRange(0), default=None)
@click.option("--note", default=None, help="A note to the issuing agency (no personal data).")
@_connection
@_signer
@click.option("--json", "as_json", is_flag=True)
def notice_ack(notice_id: str, status: str, accounts_affected: int | None, note: str | None, url: str,
               collection_id: str, token_file: str | None, token: str | None, unsafe_plain_http: bool,
               key_file: str, identity: str, as_json: bool) -> None:
    """Answer a notice: signed by you, read by the issuing agency and you only (TLP:RED). ID: the
    notice's id, or the number `notice list` shows it with."""
    def run() -> int:
        key = load_signing_key(key_file)
        with _client(url, token, token_file, unsafe_plain_http) as client:
            obj, outcome = acknowledge(client, collection_id, notice_id, status, key, identity,
                                       accounts_affected=accounts_affected, note=note)
        return _outcome(obj, outcome, f"acknowledged ({status}):", as_json)
    _local(run)


@notice.command("respond")
@click.argument("notice_id", metavar="ID")
@click.option("--reference", "reference", default=None, metavar="REF",
              help="A preservation-request: your reference of what you preserved.")
@click.option("--preserved-until", default=None, type=click.DateTime(["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d"]),
              help="A preservation-request: until when you keep it (UTC).")
@click.option("--answer", "answer_file", default=None, type=click.Path(dir_okay=False), metavar="FILE",
              help="An information-request: a TOML or JSON table kind = [values] (provider_account, email, "
                   "phone, payment_instrument), pseudonymised here before it leaves.")
@click.option("--note", default=None, help="A note to the issuing agency (no personal data).")
@_connection
@_signer
@click.option("--json", "as_json", is_flag=True)
def notice_respond(notice_id: str, reference: str | None, preserved_until: Any, answer_file: str | None,
                   note: str | None, url: str, collection_id: str, token_file: str | None, token: str | None,
                   unsafe_plain_http: bool, key_file: str, identity: str, as_json: bool) -> None:
    """Respond to a preservation-request (--reference) or an information-request (--answer FILE):
    signed by you, read by the issuing agency and you only (TLP:RED). ID: the notice's id, or the
    number `notice list` shows it with."""
    def run() -> int:
        answer = read_answer(answer_file) if answer_file is not None else None
        key = load_signing_key(key_file)
        until = preserved_until.replace(tzinfo=UTC) if preserved_until is not None else None
        with _client(url, token, token_file, unsafe_plain_http) as client:
            obj, outcome = respond(client, collection_id, notice_id, key, identity, preservation_reference=reference,
                                   preserved_until=until, answer=answer, note=note)
        return _outcome(obj, outcome, f"responded ({obj.get('response')}):", as_json)
    _local(run)


def _state(obj: dict[str, Any]) -> str:
    return "withdrawn" if obj.get("withdrawn") is True else "issued"


@notice.command("list")
@_connection
@click.option("--json", "as_json", is_flag=True, help="One JSON line per notice.")
def notice_list(url: str, collection_id: str, token_file: str | None, token: str | None,
                unsafe_plain_http: bool, as_json: bool) -> None:
    """The newest version of every notice you may read."""
    def run() -> int:
        with _client(url, token, token_file, unsafe_plain_http) as client:
            notices = fetch_notices(client, collection_id)
        for number, obj in enumerate(notices, 1):
            if as_json:
                click.echo(json.dumps(obj))
            else:
                click.echo(f"{number:>4}  {obj['id']}  {obj.get('notice_kind')}  {_state(obj)}  "
                           f"from {obj.get('effective_from', '-')}  {obj.get('name', '')}")
        return 0
    _local(run)


@notice.command("poll")
@_connection
@click.option("--out", required=True, type=click.Path(dir_okay=False), metavar="FILE.jsonl",
              help="The JSON-lines file to append to; its cursor is FILE.jsonl.cursor.")
def notice_poll(url: str, collection_id: str, token_file: str | None, token: str | None,
                unsafe_plain_http: bool, out: str) -> None:
    """Fetch the notices (every version) added since the last run into FILE.jsonl (resumable),
    each signature checked against the hub's published keys (exit 3 if one fails)."""
    def run() -> int:
        with _client(url, token, token_file, unsafe_plain_http) as client:
            verifier = ObjectVerifier("require", KeySource(client.api + "keys/", client))
            result = Poller(client, collection_id, out, types=[NOTICE_TYPE], verifier=verifier).run()
        tally = result.signatures
        click.echo(f"polled notices of {collection_id}: {result.fetched} new version(s) -> {out} "
                   f"({result.total} in all); signatures: {tally.verified} verified, {len(tally.failed)} FAILED")
        for f in tally.failed:
            click.echo(f"FAILED  {f.id} (version {f.version}): {f.reason}")
        return 3 if tally.failed else 0
    _local(run)


@notice.command("match")
@click.option("--accounts", "accounts_file", required=True, type=click.Path(dir_okay=False),
              help="Your accounts: CSV with a header, or JSON lines (see the README).")
@click.option("--notices", "notices_file", required=True, type=click.Path(dir_okay=False),
              help="The notices, as `notice poll` keeps them.")
@click.option("--as", "identity", required=True, metavar="IDENTITY", help="Your provider identity id.")
@click.option("--cache", "cache_file", default=None, type=click.Path(dir_okay=False),
              help="The pseudonym cache (default: ACCOUNTS.pseudonyms.json, readable by you only).")
@click.option("--url", default=None, metavar="URL",
              help="The hub's API root, to pseudonymise values the cache lacks (without: the cache alone).")
@click.option("--token-file", type=click.Path(dir_okay=False), default=None)
@click.option("--token", envvar="ABUSEHUB_TOKEN", default=None, show_envvar=True)
@click.option("--unsafe-plain-http", is_flag=True)
@click.option("--json", "as_json", is_flag=True, help="JSON lines: one per notice, one per bad row.")
def notice_match(accounts_file: str, notices_file: str, identity: str, cache_file: str | None, url: str | None,
                 token_file: str | None, token: str | None, unsafe_plain_http: bool, as_json: bool) -> None:
    """Match your account file against every notice in force that addresses you, here: personal
    values leave this machine only blinded, and their pseudonyms are cached per key version."""
    def run() -> int:
        accounts, problems = read_accounts(accounts_file)
        notices = read_notice_lines(notices_file)
        cache = PseudonymCache(cache_file or f"{accounts_file}.pseudonyms.json")
        if url is not None:
            with _client(url, token, token_file, unsafe_plain_http) as client:
                made, evaluated = pseudonymise_accounts(client, accounts, identity, cache)
        else:
            made, evaluated = pseudonymise_accounts(None, accounts, identity, cache)
        cache.save()
        matches = match_accounts(notices, made, identity)
        for p in problems:
            click.echo(json.dumps(p.to_json()) if as_json else f"row {p.row}: not matched: {p.problem}",
                       err=not as_json)
        for m in matches:
            if as_json:
                click.echo(json.dumps(m.to_json()))
                continue
            click.echo(f"{m.notice['id']}  {m.notice.get('name', '')}: {len(m.accounts)} account(s)")
            for account_id, reasons in m.accounts:
                click.echo(f"  {account_id}  {', '.join(reasons)}")
        if not as_json:
            click.echo(f"{len(made)} account(s) matched against {len(matches)} notice(s) in force; "
                       f"{len(problems)} row(s) not read; {evaluated} value(s) pseudonymised now", err=True)
        return 0
    _local(run)


@notice.command("status")
@click.argument("notice_id", metavar="ID")
@click.option("--collection", "collection_id", required=True, metavar="ID")
@click.option("--url", default=None, metavar="URL",
              help="Ask the hub at this TAXII API root (as the issuing agency, or an operator).")
@click.option("--token-file", type=click.Path(dir_okay=False), default=None)
@click.option("--token", envvar="ABUSEHUB_TOKEN", default=None, show_envvar=True)
@click.option("--unsafe-plain-http", is_flag=True)
@click.option("--party", "party_name", default=None, metavar="NAME",
              help="On the hub (--home), without --url: the agency party whose view counts.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def notice_status(ctx: click.Context, notice_id: str, collection_id: str, url: str | None, token_file: str | None,
                  token: str | None, unsafe_plain_http: bool, party_name: str | None, as_json: bool) -> None:
    """Who acted on a notice, by hub: each addressee received, applied, not-applicable,
    objection, preserved, answered, pending or overdue (by the hub's clock). With --url, the hub
    answers over HTTPS (you are the issuing agency or an operator); else it runs on the hub
    (--home) as --party reads. ID: the notice's id, or the number `notice list` shows it with."""
    if url is not None:
        def run() -> int:
            with _client(url, token, token_file, unsafe_plain_http) as client:
                _print_status(fetch_status(client, collection_id, notice_id), as_json)
            return 0
        _local(run)
        return
    if party_name is None:
        raise click.UsageError("give --url (ask the hub) or --party (on the hub, with --home)")
    c = ctx.find_object(Context)
    if c is None:
        raise click.UsageError("--party runs on the hub: give --home")
    _print_status(c.hub.notices.status(party_name, collection_id, notice_id).to_json(), as_json)


def _print_status(status: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(status, indent=2))
        return
    click.echo(f"{status['notice_id']}  {status['title']}  ({status['notice_kind']}, {status['state']}; "
               f"due {status.get('due') or '-'})")
    rows: dict[str, list[dict[str, Any]]] = {}
    for a in status["addressees"]:
        rows.setdefault(a.get("hub", "here"), []).append(a)
    for group in status.get("hubs", [{"hub": "here"}]):
        hub = group["hub"]
        reported = f", reported {group['reported']}" if group.get("reported") else ""
        click.echo(f" hub {hub}{reported}: " + ", ".join(f"{n} {s}" for s, n in sorted(group.get("counts", {}).items())))
        for a in rows.get(hub, []):
            extra = f"  {a['accounts_affected']} account(s)" if a.get("accounts_affected") is not None else ""
            if a.get("preservation_reference") is not None:
                extra += f"  reference {a['preservation_reference']}"
            if a.get("answer_pseudonyms") is not None:
                extra += "  answer: " + ", ".join(f"{len(v)} {k}" for k, v in sorted(a["answer_pseudonyms"].items()))
            click.echo(f"  {a['state']:<15} {a.get('name') or a['identity_id']}  {a.get('answered') or ''}{extra}")
    click.echo("  " + ", ".join(f"{n} {s}" for s, n in sorted(status["counts"].items())))


@notice.command("rosters")
@click.option("--collection", "collection_id", required=True, metavar="ID")
@click.pass_context
def notice_rosters(ctx: click.Context, collection_id: str) -> None:
    """Bring this hub's rosters of the collection's notices from other hubs up to date now
    (`federate` does on every turn of a link): for each, the providers this hub serves that it
    addresses and their states, signed with the hub's key for the issuing agency. Runs on the
    hub (--home)."""
    c = ctx.find_object(Context)
    if c is None:
        raise click.UsageError("rosters are made on the hub: give --home")
    made = c.hub.notices.refresh_rosters(collection_id)
    click.echo(f"{made} roster(s) stored in collection {collection_id}")
