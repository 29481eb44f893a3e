"""Submission tokens (docs/ANONYMITY.md, "Token mode"): ``abusehub token ...``.

A provider's side, no hub home needed:

- ``token fetch``: fetch the hub's token key directory, check its key (``--next``: the next
  epoch's, published ahead of it, for tokens redeemed through the next epoch) against a second source
  (``--check-with``: a peer hub's copy, or the same directory by another route), have the hub
  blind-sign ``--count`` token requests (authenticated), finalise and verify each token, and keep
  them in ``--tokens FILE`` (mode 0600).
- ``token file``: file one report anonymously with one kept token, sent with no credential of
  the party (the API token is used only to make the account's pseudonyms, beforehand): the key
  checked again against the second source, the escrow record sealed here to ``--oversight-key``
  and signed with the provider's key, the withdrawal secret written to ``--secret-out``.
- ``token list``: how many tokens a file keeps, per hub and epoch.

An operator's side, on the hub: ``token copy-keys URL`` keeps a peer hub's token key directory,
served at ``GET {api root}/anonymity/token-keys/copies/?issuer=`` as the second source for that
hub's providers (each turn of a federation link copies its peer's by itself); ``token keys``
prints this hub's own directory, the copies kept of other hubs' keys and the keys refused.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from hub.anonymity.errors import AnonymityError
from hub.anonymity.escrow import OversightPublicKey
from hub.anonymity.filing import commitment, new_secret
from hub.cli.base import Context, emit, pass_ctx
from hub.client.anonymous import AnonymousResult, prepare_anonymous_report, write_secret_file
from hub.client.errors import ClientError
from hub.client.reports import LocalProblems, load_signing_key, read_facts
from hub.client.tokens import (
    TokenKey,
    TokenWallet,
    check_key_consistency,
    fetch_directory,
    fetch_tokens,
    read_directory,
    read_next_key,
    redeem_token,
    seal_submitter_record,
)
from hub.common.errors import HubError
from hub.signing import unsigned_form

if TYPE_CHECKING:  # the HTTP layer (httpx) is imported by the commands that talk to a hub: 'serve' never does
    from hub.client.http import HttpSession

__all__ = ["token"]

_URL = click.option("--url", required=True, metavar="URL", help="The hub's TAXII API root, e.g. https://hub.example/api/.")
_CHECK = click.option("--check-with", "check_with", required=True, multiple=True, metavar="URL",
                      help="A second source for the hub's token key: a peer hub's copy "
                           "(https://peer.example/api/anonymity/token-keys/copies/?issuer=NAME) or the same "
                           "directory by another route. Repeat for more; every one must agree.")
_TOKENS = click.option("--tokens", "tokens_file", required=True, type=click.Path(dir_okay=False),
                       help="The file the tokens are kept in (made with mode 0600).")
_PLAIN = click.option("--unsafe-plain-http", is_flag=True,
                      help="Allow http:// to a hub that is not on this machine.")


def _fail(exc: ClientError | LocalProblems) -> None:
    lines = exc.problems if isinstance(exc, LocalProblems) else [exc.description]
    for line in lines:
        click.echo(f"abusehub: {line}", err=True)
    sys.exit(2 if isinstance(exc, LocalProblems) else 1)


def _checked_key(http: HttpSession, check_with: tuple[str, ...], *, upcoming: bool = False) -> TokenKey:
    """The hub's current token key (``upcoming``: the next epoch's), refused unless every second
    source shows it too."""
    doc = fetch_directory(http, f"{http.api}anonymity/token-keys/")
    key = read_directory(doc)
    if upcoming:
        after = read_next_key(doc)
        if after is None:
            raise ClientError(f"the hub does not publish the key of epoch {key.epoch + 1} yet: it does from "
                              f"{doc.get('next_key_published', 'the last hours of the epoch')}")
        key = after
    for url in check_with:
        check_key_consistency(key, fetch_directory(http, url), url)
    return key


@click.group()
def token() -> None:
    """Submission tokens: file anonymously without the hub learning who files."""


@token.command("fetch")
@_URL
@click.option("--token-file", type=click.Path(dir_okay=False), default=None,
              help="A file holding your API token (preferred over --token).")
@click.option("--token", "api_token", envvar="ABUSEHUB_TOKEN", default=None, show_envvar=True,
              help="Your API token.")
@click.option("--count", type=click.IntRange(1, 1000), default=10, show_default=True,
              help="How many tokens to ask for.")
@click.option("--next", "upcoming", is_flag=True,
              help="Tokens of the next epoch (its key is published in the last hours of the current one): "
                   "redeemed through the next epoch, not before it begins.")
@_TOKENS
@_CHECK
@_PLAIN
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def token_fetch(url: str, token_file: str | None, api_token: str | None, count: int, upcoming: bool,
                tokens_file: str, check_with: tuple[str, ...], unsafe_plain_http: bool, as_json: bool) -> None:
    """Fetch COUNT submission tokens of the hub's current epoch (or the next) and keep them."""
    from hub.client.http import HttpSession, api_root, check_transport, read_token

    try:
        api = api_root(url)
        check_transport(api, unsafe_plain_http)
        secret = read_token(api_token, token_file)
        with HttpSession(api, secret) as http:
            key = _checked_key(http, check_with, upcoming=upcoming)
            tokens = fetch_tokens(http, key, count)
            # The directory again: how many parties hold tokens of this epoch, this one included.
            if not upcoming:
                doc = fetch_directory(http, f"{http.api}anonymity/token-keys/")
                key = replace(key, holders=read_directory(doc).holders)
        kept = TokenWallet(tokens_file).add(tokens)
    except ClientError as exc:
        _fail(exc)
        return
    emit(as_json, {"issuer": key.issuer, "epoch": key.epoch, "fetched": len(tokens), "kept": kept,
                   "valid_until": key.not_after, "holders_this_epoch": key.holders},
         f"{len(tokens)} tokens of {key.issuer} for epoch {key.epoch} (valid until {key.not_after}); "
         f"{kept} kept in {tokens_file}" + _holders(key))


def _holders(key: TokenKey) -> str:
    """How many parties a token filer hides among, as the hub says, for the command's line."""
    if key.holders is None:
        return ""
    return f"; {key.holders} part{'y holds' if key.holders == 1 else 'ies hold'} tokens of this epoch"


@token.command("list")
@_TOKENS
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def token_list(tokens_file: str, as_json: bool) -> None:
    """How many tokens TOKENS keeps, per hub and epoch."""
    try:
        counts = Counter((t.issuer, t.epoch, t.not_after) for t in TokenWallet(tokens_file).tokens())
    except ClientError as exc:
        _fail(exc)
        return
    rows = [{"issuer": i, "epoch": e, "valid_until": n, "tokens": c} for (i, e, n), c in sorted(counts.items())]
    emit(as_json, rows, "\n".join(f"{r['issuer']}  epoch {r['epoch']}  {r['tokens']} tokens  valid until "
                                  f"{r['valid_until']}" for r in rows) or "no tokens")


@token.command("file")
@click.argument("facts_file", metavar="FACTS.toml", type=click.Path(dir_okay=False))
@_URL
@click.option("--collection", "collection_id", required=True, metavar="ID", help="The collection to file in.")
@click.option("--token-file", type=click.Path(dir_okay=False), default=None,
              help="Your API token's file: used only to make the account's pseudonyms, never sent with the filing.")
@click.option("--token", "api_token", envvar="ABUSEHUB_TOKEN", default=None, show_envvar=True,
              help="Your API token (as --token-file).")
@click.option("--key", "key_file", required=True, metavar="PEM", help="Your private signing key: it signs the "
              "escrow record only (the report itself goes unsigned).")
@click.option("--as", "identity", required=True, metavar="IDENTITY", help="Your identity id (identity--...).")
@click.option("--party", default=None, help="Your party name at the hub, for the escrow record (default: the identity id).")
@click.option("--oversight-key", "oversight_file", required=True, type=click.Path(dir_okay=False),
              help="The oversight body's public key (PEM), as you were given it: the escrow record is sealed to it.")
@click.option("--secret-out", required=True, type=click.Path(dir_okay=False),
              help="Where to keep the report's withdrawal secret (0600, never overwritten).")
@_TOKENS
@_CHECK
@_PLAIN
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def token_file(facts_file: str, url: str, collection_id: str, token_file: str | None, api_token: str | None,
               key_file: str, identity: str, party: str | None, oversight_file: str, secret_out: str,
               tokens_file: str, check_with: tuple[str, ...], unsafe_plain_http: bool, as_json: bool) -> None:
    """File the report of FACTS.toml anonymously, paid with one submission token."""
    from hub.client.http import read_token

    try:
        receipt = file_with_token(facts_file, url, collection_id, read_token(api_token, token_file), key_file,
                                  identity, party or identity, oversight_file, secret_out, tokens_file, check_with,
                                  unsafe_plain_http)
    except (ClientError, LocalProblems) as exc:
        _fail(exc)
        return
    emit(as_json, receipt, f"filed anonymously as {receipt['report_id']} in collection {collection_id}; "
                           f"published by {receipt.get('publish_by')}; withdrawal secret in {secret_out}")


def _oversight(path: str) -> OversightPublicKey:
    try:
        return OversightPublicKey.from_pem(Path(path).read_bytes())
    except OSError as exc:
        raise LocalProblems([f"cannot read the oversight key {path}: {exc.strerror}"]) from None
    except AnonymityError as exc:
        raise LocalProblems([f"{path}: {exc}"]) from None


def file_with_token(facts_file: str, url: str, collection_id: str, api_token: str, key_file: str, identity: str,
                    party: str, oversight_file: str, secret_out: str, tokens_file: str,
                    check_with: tuple[str, ...], unsafe_plain_http: bool) -> dict[str, Any]:
    """The whole token-mode filing (see ``token file``); the hub's receipt."""
    from hub.client.http import HttpSession, api_root, check_transport
    from hub.client.taxii import TaxiiClient

    api = api_root(url)
    check_transport(api, unsafe_plain_http, "the token and the report")
    facts = read_facts(facts_file)
    signing_key = load_signing_key(key_file)
    oversight = _oversight(oversight_file)
    wallet = TokenWallet(tokens_file)
    with HttpSession(api) as anonymous:  # no token: nothing of the party travels with these
        key = _checked_key(anonymous, check_with)  # before anything is sent
    if not wallet.count(key):
        raise ClientError(f"{tokens_file}: no token of {key.issuer!r} for epoch {key.epoch} "
                          "(tokens are redeemed in the epoch they were issued for: 'abusehub token fetch')")
    with TaxiiClient(api, api_token, unsafe_plain_http=unsafe_plain_http) as client:
        prepared = prepare_anonymous_report(client, facts, signing_key, identity)
    objects = [unsigned_form(o) for o in prepared.objects]
    secret = new_secret()
    committed = commitment(secret)
    with HttpSession(api) as anonymous:
        key = _checked_key(anonymous, check_with)
        sealed = seal_submitter_record(signing_key, party, identity, objects, committed, key.issuer, oversight)
        stored = wallet.take(key)
        receipt = redeem_token(anonymous, collection_id, objects, committed, sealed, stored)
    receipt = {**receipt, "holders_this_epoch": key.holders}
    write_secret_file(secret_out, AnonymousResult(prepared, secret, receipt), collection_id)
    return receipt


def report_with_token(facts_file: str, url: str, collection_id: str, token_file: str | None, api_token: str | None,
                      key_file: str, identity: str, anonymous: bool, secret_file: str | None, tokens_file: str,
                      check_with: tuple[str, ...], oversight_file: str | None, unsafe_plain_http: bool) -> int:
    """``report new --anonymous --tokens FILE``: :func:`file_with_token`, the receipt printed; the
    exit status (2 for a problem found before anything was sent)."""
    from hub.client.http import read_token

    missing = [name for name, given in (("--anonymous", anonymous), ("--secret-file", secret_file),
                                        ("--check-with", check_with), ("--oversight-key", oversight_file)) if not given]
    try:
        if missing:
            raise LocalProblems([f"--tokens files anonymously with a token: it needs {', '.join(missing)}"])
        assert secret_file is not None and oversight_file is not None
        receipt = file_with_token(facts_file, url, collection_id, read_token(api_token, token_file), key_file,
                                  identity, identity, oversight_file, secret_file, tokens_file, check_with,
                                  unsafe_plain_http)
    except LocalProblems as exc:
        for problem in exc.problems:
            click.echo(f"abusehub: {problem}", err=True)
        return 2
    except ClientError as exc:
        click.echo(f"abusehub: {exc.description}", err=True)
        return 1
    click.echo(f"filed anonymously with a token in collection {collection_id}: report {receipt['report_id']}, "
               f"published by {receipt.get('publish_by')}; withdrawal secret in {secret_file}")
    holders = receipt.get("holders_this_epoch")
    if isinstance(holders, int) and holders < 3:
        click.echo(f"abusehub: only {holders} part{'y holds' if holders == 1 else 'ies hold'} tokens of this epoch: "
                   "the report hides among that few", err=True)
    return 0


@token.command("keys")
@pass_ctx
def token_keys(c: Context) -> None:
    """Print this hub's token key directory (as GET anonymity/token-keys/ publishes it), with
    the copies kept of other hubs' keys ("copies") and the keys of theirs refused ("refused": a
    key published for an epoch whose copy here is another)."""
    emit(True, c.hub.tokens.report(), "")


@token.command("copy-keys")
@click.argument("url", metavar="URL")
@_PLAIN
@pass_ctx
def token_copy_keys(c: Context, url: str, unsafe_plain_http: bool) -> None:
    """Keep a peer hub's token key directory (URL: its .../anonymity/token-keys/), published here
    as the second source its providers check its key against."""
    from hub.client.http import HttpSession, api_root, check_transport

    try:
        base = url.split("anonymity/token-keys/")[0]
        check_transport(api_root(base), unsafe_plain_http, "nothing secret")
        with HttpSession(api_root(base)) as http:
            directory = fetch_directory(http, url)
    except ClientError as exc:
        raise HubError(exc.description) from None
    kept = c.hub.tokens.copy_keys(directory, url)
    for epoch, ok in kept:
        click.echo(f"{directory.get('issuer')} epoch {epoch}: "
                   + ("kept" if ok else "a different key was copied before for this epoch: the earlier copy stays"))
    if not all(ok for _, ok in kept):
        sys.exit(1)
