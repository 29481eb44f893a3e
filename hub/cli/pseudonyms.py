"""Pseudonyms, their key and correlation: ``abusehub pseudonym make|rotate|correlate``."""

from __future__ import annotations

import sys

import click

from hub.cli.base import Context, emit, pass_ctx
from hub.common.errors import HubError
from hub.pseudonyms import PSEUDONYM_KINDS


@click.group()
def pseudonym() -> None:
    """Keyed pseudonyms of personal values, their keys, and the reports they link."""


@pseudonym.command("make")
@click.option("--kind", type=click.Choice(PSEUDONYM_KINDS), required=True)
@click.option("--provider", default=None, metavar="PARTY|IDENTITY",
              help="With --kind provider_account: the provider whose account ids these are (its "
                   "name in this hub or its identity id). Without it, write each line as "
                   "<identity id>/<account id>.")
@click.option("--region", default=None, metavar="CC",
              help="With --kind phone: the region (ISO 3166-1 alpha-2, e.g. US) of numbers written "
                   "without +<country code>, as a report's phone_region (default: the hub's "
                   "[pseudonyms] default_region).")
@click.option("--all-versions", is_flag=True,
              help="Print the pseudonym under every key version (with --scheme poprf, the "
                   "hmac-sha256 ones too, to find reports filed before oblivious pseudonyms).")
@click.option("--scheme", type=click.Choice(["poprf", "hmac"]), default="poprf", show_default=True,
              help="poprf: the oblivious pseudonyms (poprf-r255:) providers' tools make; hmac: "
                   "the older hmac-sha256: ones.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def pseudonym_make(c: Context, kind: str, provider: str | None, region: str | None, all_versions: bool,
                   scheme: str, as_json: bool) -> None:
    """Pseudonymise values read from standard input, one per line (never from arguments:
    those end up in shell history and process lists). Prints one pseudonym per line.

    The pseudonyms are made here with the hub's key, the same as a provider's tools obtain
    obliviously through POST pseudonyms/evaluate.

    Account ids (--kind provider_account) are scoped by their provider, as reports carry them:
    the pseudonym is of "<provider identity id>/<account id>". Phone numbers written in
    national form (no +<country code>) are read in --region, as report new reads them in the
    facts' phone_region (or declared_country).
    """
    lines = [(n, line.strip()) for n, line in enumerate(sys.stdin.read().splitlines(), 1) if line.strip()]
    if not lines:
        raise HubError("no values on standard input (one per line)")
    made = c.hub.pseudonyms.make(kind, [v for _, v in lines], [f"line {n}" for n, _ in lines], provider,
                                 scheme=scheme, region=region)
    text = "\n".join(" ".join(m["all_versions"]) if all_versions else m["pseudonym"] for m in made)
    emit(as_json, made, text)


@pseudonym.command("rotate")
@pass_ctx
def pseudonym_rotate(c: Context) -> None:
    """Add a pseudonym key version (its HMAC secret and POPRF key together) and make it current
    (older versions still match)."""
    version, versions = c.hub.pseudonyms.rotate()
    click.echo(f"pseudonym key {version} is now current; kept for matching: "
               f"{', '.join(v for v in versions if v != version)}")


@pseudonym.command("key")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def pseudonym_key(c: Context, as_json: bool) -> None:
    """Print each key version's public key (what GET pseudonyms/key publishes), for providers
    to pin with 'abusehub report new --pseudonym-key VERSION=KEY'."""
    published = c.hub.pseudonyms.public_keys()
    text = "\n".join(f"{k['key_version']}={k['public_key']}" + ("  (current)" if k["current"] else "")
                     for k in published["keys"])
    emit(as_json, published, text)


@pseudonym.command("correlate")
@click.argument("pseudonyms", nargs=-1, required=True, metavar="PSEUDONYM...")
@click.option("--as", "as_party", default=None, metavar="PARTY",
              help="Only the collections PARTY may read (default: every collection).")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def pseudonym_correlate(c: Context, pseudonyms: tuple[str, ...], as_party: str | None, as_json: bool) -> None:
    """The reports that mention an account carrying any of PSEUDONYM..."""
    found = c.hub.pseudonyms.correlate_as_operator(list(pseudonyms), as_party)
    text = "\n".join(f"{x.pseudonym}  {x.collection}  {x.account}  {x.report}" for x in found)
    emit(as_json, [x.as_json() for x in found], text or "no reports share these pseudonyms")

