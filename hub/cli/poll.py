"""The provider's tools: ``abusehub poll`` and ``abusehub export blocklist``.

Thin: they read options, call :mod:`hub.client.poll` (over :class:`hub.client.taxii.TaxiiClient`)
and :mod:`hub.client.blocklist`, print.

``abusehub poll`` exit status: 0 the collection was polled to its end and no signature failed;
1 the poll stopped on an error (what it wrote is kept, the next run resumes); 3 one or more
objects FAILED the signature check (they are written, listed in ``FILE.jsonl.failed`` and left
out by ``export blocklist``; 3 also wins over 1 when both happen); 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import json
import sys

import click

from hub.client.blocklist import (
    build_blocklist,
    render_csv,
    render_plain,
    write_blocklist,
)
from hub.client.errors import ClientError
from hub.client.poll import DEFAULT_LIMIT, Poller, PollResult
from hub.client.retry import RetryNotice
from hub.client.verify import KeySource, ObjectVerifier, VerifyMode

EXIT_ERROR = 1
EXIT_SIGNATURE_FAILED = 3
EXIT_INTERRUPTED = 130


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _print_summary(result: PollResult, as_json: bool, error: str | None) -> None:
    if as_json:
        data = result.to_json()
        if error is not None:
            data["error"] = error
        click.echo(json.dumps(data, indent=2))
        return
    if result.since_ignored:
        click.echo(f"note: --since ignored: the cursor {result.cursor_path} says where to resume")
    if result.discarded_bytes:
        click.echo(f"resumed: dropped {result.discarded_bytes} bytes an interrupted run wrote "
                   "after its last recorded page (fetched again)")
    state = "" if result.complete else " before stopping"
    click.echo(f"polled collection {result.collection}: {_n(result.fetched, 'new object')} in "
               f"{_n(result.pages, 'page')}{state} -> {result.out} ({result.total} in all, "
               f"added up to {result.added_after or 'nothing yet'})")
    tally = result.signatures
    if result.verify == "off":
        click.echo("signatures: not checked (--no-verify)")
    else:
        click.echo(f"signatures: {tally.verified} verified, {tally.unsigned} unsigned, "
                   f"{len(tally.failed)} FAILED")
    for f in tally.failed:
        version = f" (version {f.version})" if f.version else ""
        click.echo(f"FAILED  {f.id}{version}: {f.reason}")


def _tell_wait(notice: RetryNotice) -> None:
    click.echo(f"abusehub: {notice.message}", err=True)


@click.command()
@click.option("--url", required=True, metavar="URL",
              help="The hub's TAXII API root, e.g. https://hub.example/api/.")
@click.option("--collection", "collection_id", required=True, metavar="ID",
              help="The collection to poll.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), metavar="FILE.jsonl",
              help="The JSON-lines file to append to; its cursor is FILE.jsonl.cursor.")
@click.option("--token-file", type=click.Path(dir_okay=False), default=None,
              help="A file holding your API token (preferred over --token).")
@click.option("--token", envvar="ABUSEHUB_TOKEN", default=None, show_envvar=True,
              help="Your API token (visible to other local users in the process list).")
@click.option("--since", default=None, metavar="TIMESTAMP",
              help="First run only: start with objects added after this time "
                   "(e.g. 2025-03-01T00:00:00Z). Once a cursor exists, it wins.")
@click.option("--type", "types", multiple=True, metavar="TYPE",
              help="Only objects of this STIX type (repeat for several).")
@click.option("--limit", type=click.IntRange(1), default=DEFAULT_LIMIT, show_default=True,
              help="Objects asked for per page (the hub may send fewer).")
@click.option("--verify/--no-verify", default=None,
              help="--verify: every object must carry a valid signature (unsigned ones FAIL). "
                   "--no-verify: check nothing. Default: check the objects that are signed.")
@click.option("--keys", "keys_from", default=None, metavar="URL|FILE",
              help="The JWK set to verify with. Default: the hub's published keys, URL/keys/.")
@click.option("--unsafe-plain-http", is_flag=True,
              help="Allow http:// to a hub that is not on this machine (sends the token unencrypted).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def poll(url: str, collection_id: str, out: str, token_file: str | None, token: str | None,
         since: str | None, types: tuple[str, ...], limit: int, verify: bool | None,
         keys_from: str | None, unsafe_plain_http: bool, as_json: bool) -> None:
    """Fetch new objects of a collection incrementally into a JSON-lines file.

    Each run appends what was added since the last one and keeps a cursor next to the file, so
    an interrupted run (Ctrl-C, kill, network error) resumes without skipping or repeating an
    object. Signatures are checked against the hub's published keys. Exit 0 done; 1 stopped on
    an error (run again to resume); 3 an object FAILED the signature check (it is written and
    listed in FILE.jsonl.failed; export blocklist leaves it out).
    """
    from hub.client.http import api_root, check_transport, read_token
    from hub.client.taxii import TaxiiClient

    api = api_root(url)
    check_transport(api, unsafe_plain_http, "the token")
    secret = read_token(token, token_file)
    mode: VerifyMode = "auto" if verify is None else ("require" if verify else "off")
    client = TaxiiClient(api, secret, unsafe_plain_http=unsafe_plain_http, on_retry=_tell_wait)
    keys = None if mode == "off" else KeySource(keys_from or f"{api}keys/", client)
    verifier = ObjectVerifier(mode, keys)

    try:
        poller = Poller(client, collection_id, out, types=types, since=since, limit=limit,
                        verifier=verifier)
    except ClientError:
        client.close()
        raise

    from tqdm import tqdm

    # On a terminal only, and only for pulls that last: a cron job's log stays clean.
    bar = tqdm(desc=f"polling {collection_id}", unit=" objects", file=sys.stderr, leave=False,
               disable=not sys.stderr.isatty(), delay=2.0)
    poller.on_page = bar.update
    error: str | None = None
    code = 0
    try:
        poller.run()
    except KeyboardInterrupt:
        error = "interrupted; what was written is kept: run again to resume"
        code = EXIT_INTERRUPTED
    except ClientError as exc:
        error = exc.description
        if poller.result.fetched:
            error += f" ({poller.result.fetched} objects written before that are kept: run again to resume)"
        code = EXIT_ERROR
    finally:
        bar.close()
        client.close()
    result = poller.result
    progressed = result.fetched or result.signatures.failed or result.complete
    if progressed or as_json:
        _print_summary(result, as_json, error)
    if error is not None:
        click.echo(f"abusehub: {error}", err=True)
    if result.signatures.failed:
        click.echo(f"abusehub: {_n(len(result.signatures.failed), 'object')} FAILED the signature check; "
                   f"they are written and listed in {result.failed_path} "
                   "(export blocklist leaves them out)", err=True)
        code = EXIT_SIGNATURE_FAILED
    if code:
        sys.exit(code)


@click.group()
def export() -> None:
    """Export what was polled for other tools (firewalls, DNS filters)."""


@export.command("blocklist")
@click.option("--in", "in_file", required=True, type=click.Path(dir_okay=False), metavar="FILE.jsonl",
              help="A file written by abusehub poll (or any STIX objects, one per line).")
@click.option("--at", default=None, metavar="TIMESTAMP",
              help="The moment the indicators must be valid at (default: now).")
@click.option("--format", "fmt", type=click.Choice(["plain", "csv"]), default="plain",
              show_default=True, help="Plain lists, or CSV (type,value,indicator_id,valid_until,"
                                      "confidence,created_by_ref).")
@click.option("--out", default=None, metavar="DIR|FILE",
              help="An existing directory (plain: ipv4.txt, ipv6.txt, domains.txt, urls.txt; "
                   "csv: blocklist.csv) or one file. Default: standard output.")
def export_blocklist(in_file: str, at: str | None, fmt: str, out: str | None) -> None:
    """Turn the current, unexpired indicators of FILE.jsonl into blocklists.

    The latest version of each indicator counts; revoked, expired and not-yet-valid ones, and
    versions whose signature failed when polled, are left out. Patterns that are not simple
    address, network, domain or URL comparisons (or OR-joins of them) are skipped and counted.
    A summary goes to standard error.
    """
    result = build_blocklist(in_file, at)
    if out is None:
        sys.stdout.write(render_csv(result) if fmt == "csv" else render_plain(result))
        sys.stdout.flush()
        written = "standard output"
    else:
        written = ", ".join(str(p) for p in write_blocklist(result, fmt, out))
    click.echo(f"{result.summary()}; written to {written}", err=True)
